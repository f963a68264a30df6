//! Application selection over an injected card reader: SELECT PPSE, build the candidate list from
//! its directory entries, SELECT the best AID (EMV Contactless Book B §3.3; EMV Book 1 §12.3–12.4),
//! with the T=0 transport rules for 61xx/6Cxx (EMV Book 1 §9.3.1.3–9.3.1.4).
//!
//! The flow is a step machine: [`SelectionFlow::start`] gives the first command,
//! [`SelectionFlow::on_response`] takes each raw response and says what to send next or what was
//! selected. The same machine runs behind the UniFFI callback path ([`crate::ApduSession`]), its
//! async variant, and the raw-JNI fast path of smartpos-jni, so the three are comparable.
//!
//! This is the binding surface's first real device-I/O flow; the full entry point (terminal
//! configuration matching, kernel activation) belongs to smartpos-emv and arrives with the terminal.

use smartpos_tlv::{Tag, TlvReader};

use crate::apdu::{self, PPSE_NAME, Response, SW_OK};
use crate::error::SmartPosError;

/// Most chained 61xx/6Cxx exchanges accepted for one command before the card is called looping.
pub const MAX_CHAINED: usize = 16;

/// `9F2A` Kernel Identifier (EMV Book B §3.3.2, Table 3-3).
const KERNEL_IDENTIFIER: Tag = Tag(0x9F2A);
/// `9F38` Processing Options Data Object List.
const PDOL: Tag = Tag(0x9F38);

/// One directory entry of the PPSE (EMV Book B §3.3.2, Table 3-3: template `61`).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ApplicationCandidate {
    /// `4F` ADF Name (AID).
    pub aid: Vec<u8>,
    /// `50` Application Label, if present.
    pub label: Option<String>,
    /// `87` Application Priority Indicator, b4..b1 (1 = highest); `None` when absent or 0.
    pub priority: Option<u8>,
    /// `9F2A` Kernel Identifier, if present.
    pub kernel_id: Option<Vec<u8>>,
}

/// The outcome of a successful selection.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ApplicationSelection {
    /// The AID that was selected.
    pub aid: Vec<u8>,
    /// `50` Application Label from the ADF's FCI (else from the PPSE entry).
    pub label: Option<String>,
    /// `9F38` PDOL from the FCI, if the card asks for one.
    pub pdol: Option<Vec<u8>>,
    /// The whole FCI the card returned for SELECT AID (data field, without SW).
    pub fci: Vec<u8>,
    /// Every usable PPSE entry, in the order they were tried (priority first).
    pub candidates: Vec<ApplicationCandidate>,
    /// APDU exchanges used, GET RESPONSE and re-sends included.
    pub exchanges: u32,
}

/// What the flow decided, for UIs and logs (principle 8: callbacks for UI events). Drained with
/// [`SelectionFlow::take_events`] after each response.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum SelectionEvent {
    /// The PPSE was read: the usable entries, in the order they will be tried.
    CandidatesFound {
        /// Candidates, priority first.
        candidates: Vec<ApplicationCandidate>,
    },
    /// A candidate was removed from the list (EMV Book 1 §12.4).
    CandidateRejected {
        /// Its AID.
        aid: Vec<u8>,
        /// Why (`SW 6A82`, `FCI names ...`).
        reason: String,
    },
    /// The application was selected.
    ApplicationSelected {
        /// Its AID.
        aid: Vec<u8>,
        /// Its label, if any.
        label: Option<String>,
    },
}

/// What to do after a response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Send this command APDU next.
    Transmit(Vec<u8>),
    /// Selection is done.
    Selected(ApplicationSelection),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Ppse,
    Aid(usize),
    Done,
}

/// The selection step machine. See the module documentation.
#[derive(Debug)]
pub struct SelectionFlow {
    phase: Phase,
    /// The command in flight (for a 6Cxx re-send and for error messages).
    command: Vec<u8>,
    /// Data gathered over a 61xx chain.
    chained: Vec<u8>,
    chain_count: usize,
    candidates: Vec<ApplicationCandidate>,
    rejected: Vec<String>,
    exchanges: u32,
    events: Vec<SelectionEvent>,
}

impl SelectionFlow {
    /// A new flow and its first command, SELECT PPSE.
    pub fn start() -> (SelectionFlow, Vec<u8>) {
        // PPSE_NAME is 14 bytes: always a valid DF name.
        let command = apdu::select_by_name(PPSE_NAME).unwrap_or_default();
        let flow = SelectionFlow {
            phase: Phase::Ppse,
            command: command.clone(),
            chained: Vec::new(),
            chain_count: 0,
            candidates: Vec::new(),
            rejected: Vec::new(),
            exchanges: 0,
            events: Vec::new(),
        };
        (flow, command)
    }

    /// Exchanges completed so far.
    pub fn exchanges(&self) -> u32 {
        self.exchanges
    }

    /// Events since the last call, oldest first.
    pub fn take_events(&mut self) -> Vec<SelectionEvent> {
        std::mem::take(&mut self.events)
    }

    fn reject(&mut self, aid: &[u8], reason: String) {
        self.rejected
            .push(format!("{}: {reason}", apdu::hex_upper(aid)));
        self.events.push(SelectionEvent::CandidateRejected {
            aid: aid.to_vec(),
            reason,
        });
    }

    /// Feed the raw response (data || SW1 SW2) to the command last returned.
    pub fn on_response(&mut self, raw: &[u8]) -> Result<Step, SmartPosError> {
        self.exchanges = self.exchanges.saturating_add(1);
        let response = Response::parse(raw)?;
        // EMV Book 1 §9.3.1.3: 61xx, more data available: GET RESPONSE with Le = xx.
        // EMV Book 1 §9.3.1.4: 6Cxx, wrong Le: re-send the command with Le = xx.
        match response.sw1() {
            0x61 | 0x6C => {
                self.chain_count += 1;
                if self.chain_count > MAX_CHAINED {
                    return Err(SmartPosError::Protocol {
                        reason: format!(
                            "more than {MAX_CHAINED} chained 61xx/6Cxx answers to {}",
                            self.command_name()
                        ),
                    });
                }
                let next = if response.sw1() == 0x61 {
                    self.chained.extend_from_slice(response.data);
                    apdu::get_response(response.sw2())
                } else {
                    self.chained.clear();
                    apdu::with_le(&self.command, response.sw2())
                };
                return Ok(Step::Transmit(next));
            }
            _ => {}
        }
        let mut data = std::mem::take(&mut self.chained);
        data.extend_from_slice(response.data);
        self.chain_count = 0;
        match self.phase {
            Phase::Ppse => self.on_ppse(response.sw, &data),
            Phase::Aid(index) => self.on_aid(index, response.sw, data),
            Phase::Done => Err(SmartPosError::Protocol {
                reason: "response after the selection finished".into(),
            }),
        }
    }

    fn command_name(&self) -> String {
        match self.phase {
            Phase::Ppse => "SELECT PPSE".to_string(),
            Phase::Aid(i) => match self.candidates.get(i) {
                Some(c) => format!("SELECT AID {}", apdu::hex_upper(&c.aid)),
                None => "SELECT AID".to_string(),
            },
            Phase::Done => "(none)".to_string(),
        }
    }

    /// EMV Book B §3.3.2: the PPSE FCI lists one `61` entry per application under `BF0C`.
    fn on_ppse(&mut self, sw: u16, fci: &[u8]) -> Result<Step, SmartPosError> {
        if sw != SW_OK {
            self.phase = Phase::Done;
            return Err(SmartPosError::CardStatus {
                command: "SELECT PPSE".into(),
                sw,
            });
        }
        let context = "SELECT PPSE response";
        let directory = smartpos_tlv::find_path(
            fci,
            &[
                Tag::FCI_TEMPLATE,
                Tag::FCI_PROPRIETARY_TEMPLATE,
                Tag::FCI_ISSUER_DISCRETIONARY_DATA,
            ],
        )
        .map_err(|e| SmartPosError::malformed(context, e))?;
        let Some(directory) = directory else {
            self.phase = Phase::Done;
            return Err(if has_fci_template(fci) {
                SmartPosError::NoApplication {
                    reason: "the PPSE FCI has no BF0C directory".into(),
                }
            } else {
                SmartPosError::Protocol {
                    reason: "SELECT PPSE answered 9000 without an FCI template (6F)".into(),
                }
            });
        };
        for entry in directory.children() {
            let entry = entry.map_err(|e| SmartPosError::malformed(context, e))?;
            if entry.tag != Tag::APPLICATION_TEMPLATE {
                continue;
            }
            if let Some(candidate) = candidate_from_entry(entry.value, context)? {
                self.candidates.push(candidate);
            }
        }
        // EMV Book 1 §12.4: order by Application Priority Indicator, 1 first; entries without a
        // priority come last, in the card's order (stable sort).
        self.candidates
            .sort_by_key(|c| c.priority.map_or(16, u16::from));
        self.events.push(SelectionEvent::CandidatesFound {
            candidates: self.candidates.clone(),
        });
        self.select_candidate(0)
    }

    fn select_candidate(&mut self, index: usize) -> Result<Step, SmartPosError> {
        let Some(candidate) = self.candidates.get(index) else {
            self.phase = Phase::Done;
            let reason = if self.candidates.is_empty() {
                "the PPSE lists no usable application (no 61 entry with a valid 4F)".to_string()
            } else {
                format!("every candidate was rejected: {}", self.rejected.join(", "))
            };
            return Err(SmartPosError::NoApplication { reason });
        };
        let command = apdu::select_by_name(&candidate.aid)?;
        self.phase = Phase::Aid(index);
        self.command = command.clone();
        Ok(Step::Transmit(command))
    }

    /// EMV Book 1 §12.4: a SELECT that fails, or whose FCI does not name the ADF, removes the
    /// candidate and the next one is tried.
    fn on_aid(&mut self, index: usize, sw: u16, fci: Vec<u8>) -> Result<Step, SmartPosError> {
        let Some(candidate) = self.candidates.get(index).cloned() else {
            return Err(SmartPosError::Protocol {
                reason: "candidate index out of range".into(),
            });
        };
        if sw != SW_OK {
            self.reject(&candidate.aid, format!("SW {sw:04X}"));
            return self.select_candidate(index + 1);
        }
        let context = "SELECT AID response";
        let df_name = smartpos_tlv::find_path(&fci, &[Tag::FCI_TEMPLATE, Tag::DF_NAME])
            .map_err(|e| SmartPosError::malformed(context, e))?;
        match df_name {
            Some(name) if name.value == candidate.aid.as_slice() => {}
            Some(name) => {
                let named = apdu::hex_upper(name.value);
                self.reject(&candidate.aid, format!("FCI names {named}"));
                return self.select_candidate(index + 1);
            }
            None => {
                self.reject(&candidate.aid, "FCI without DF name (84)".into());
                return self.select_candidate(index + 1);
            }
        }
        let proprietary =
            smartpos_tlv::find_path(&fci, &[Tag::FCI_TEMPLATE, Tag::FCI_PROPRIETARY_TEMPLATE])
                .map_err(|e| SmartPosError::malformed(context, e))?;
        let (label, pdol) = match proprietary {
            Some(a5) => (
                a5.child(Tag::APPLICATION_LABEL)
                    .map_err(|e| SmartPosError::malformed(context, e))?
                    .map(|t| label_text(t.value)),
                a5.child(PDOL)
                    .map_err(|e| SmartPosError::malformed(context, e))?
                    .map(|t| t.value.to_vec()),
            ),
            None => (None, None),
        };
        self.phase = Phase::Done;
        let label = label.or(candidate.label.clone());
        self.events.push(SelectionEvent::ApplicationSelected {
            aid: candidate.aid.clone(),
            label: label.clone(),
        });
        Ok(Step::Selected(ApplicationSelection {
            aid: candidate.aid.clone(),
            label,
            pdol,
            fci,
            candidates: self.candidates.clone(),
            exchanges: self.exchanges,
        }))
    }
}

fn has_fci_template(data: &[u8]) -> bool {
    matches!(TlvReader::new(data).next(), Some(Ok(t)) if t.tag == Tag::FCI_TEMPLATE)
}

/// One `61` directory entry; `None` when it has no usable ADF name (EMV Book B §3.3.2: such
/// entries are ignored).
fn candidate_from_entry(
    entry: &[u8],
    context: &str,
) -> Result<Option<ApplicationCandidate>, SmartPosError> {
    let mut aid = None;
    let mut label = None;
    let mut priority = None;
    let mut kernel_id = None;
    for field in TlvReader::new(entry) {
        let field = field.map_err(|e| SmartPosError::malformed(context, e))?;
        match field.tag {
            Tag::AID => aid = Some(field.value),
            Tag::APPLICATION_LABEL => label = Some(label_text(field.value)),
            Tag::APPLICATION_PRIORITY_INDICATOR => {
                priority = field.value.first().map(|b| b & 0x0F).filter(|p| *p != 0);
            }
            KERNEL_IDENTIFIER => kernel_id = Some(field.value.to_vec()),
            _ => {}
        }
    }
    // ISO/IEC 7816-5: an AID is a 5-byte RID plus up to 11 bytes of PIX.
    Ok(aid
        .filter(|a| (5..=apdu::MAX_AID_LEN).contains(&a.len()))
        .map(|aid| ApplicationCandidate {
            aid: aid.to_vec(),
            label,
            priority,
            kernel_id,
        }))
}

/// Application Label is `ans` (EMV Book 3 Annex A): keep printable ASCII, replace the rest.
fn label_text(value: &[u8]) -> String {
    value
        .iter()
        .map(|&b| {
            if (0x20..0x7F).contains(&b) {
                char::from(b)
            } else {
                '?'
            }
        })
        .collect()
}

/// Run the whole flow over `transceive`, checking `cancelled` before every exchange.
pub fn run_selection(
    mut transceive: impl FnMut(&[u8]) -> Result<Vec<u8>, SmartPosError>,
    cancelled: impl Fn() -> bool,
) -> Result<ApplicationSelection, SmartPosError> {
    let (mut flow, mut command) = SelectionFlow::start();
    loop {
        if cancelled() {
            return Err(SmartPosError::Cancelled {
                exchanges: flow.exchanges(),
            });
        }
        let response = transceive(&command)?;
        match flow.on_response(&response)? {
            Step::Transmit(next) => command = next,
            Step::Selected(selection) => return Ok(selection),
        }
    }
}
