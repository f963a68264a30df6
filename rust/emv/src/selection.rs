//! Application selection (EMV Book 1 §12): PSE directory, list of AIDs with partial selection,
//! candidate list ordered by priority (87), cardholder confirmation and final selection with
//! removal and retry on failure (§12.4).

use crate::apdu::{Apdu, StatusWord};
use crate::config::{AidConfig, TerminalConfig};
use crate::outcome::EndReason;
use crate::transport::{CardTransport, Channel};
use smartpos_tlv::{Tag, find_path};

/// Payment System Environment name (Book 1 §12.2.2).
pub const PSE_NAME: &[u8] = b"1PAY.SYS.DDF01";

/// An application both the card and the terminal support (Book 1 §12.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// ADF name (4F from the directory or 84 from the FCI).
    pub adf_name: Vec<u8>,
    /// Application Label (50).
    pub label: Option<String>,
    /// Application Preferred Name (9F12).
    pub preferred_name: Option<String>,
    /// Application Priority Indicator (87): b4-b1 priority (1 highest), b8 confirmation required.
    pub priority_indicator: Option<u8>,
    /// Index into the terminal's AID list.
    pub terminal_aid: usize,
}

impl Candidate {
    /// Priority 1-15, `None` when absent or 0 (no priority).
    pub fn priority(&self) -> Option<u8> {
        self.priority_indicator
            .map(|p| p & 0x0F)
            .filter(|p| *p != 0)
    }
    pub fn confirmation_required(&self) -> bool {
        self.priority_indicator.is_some_and(|p| p & 0x80 != 0)
    }
    /// Name to show: preferred name if the code table is supported, else the label, else the AID.
    pub fn display_name(&self) -> String {
        self.preferred_name
            .clone()
            .or_else(|| self.label.clone())
            .unwrap_or_else(|| hex::encode_upper(&self.adf_name))
    }
}

/// What the cardholder decided about the candidate list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Choice {
    /// Use `candidates[i]`.
    Select(usize),
    /// Cancel the transaction.
    Cancel,
}

/// The application's user interface for selection (Book 1 §12.4).
pub trait CardholderInterface {
    /// Offer the candidates (already in priority order) to the cardholder; called when more than
    /// one candidate remains or the single candidate requires confirmation (87 b8).
    fn choose_application(&mut self, candidates: &[Candidate]) -> Choice;
    /// The card's language preference (5F2D) for the cardholder messages; informational.
    fn language_selected(&mut self, _language: &str) {}
}

/// Automatic choice: the first (highest priority) candidate; never cancels. For unattended tests.
#[derive(Debug, Default, Clone, Copy)]
pub struct FirstCandidate;
impl CardholderInterface for FirstCandidate {
    fn choose_application(&mut self, candidates: &[Candidate]) -> Choice {
        if candidates.is_empty() {
            Choice::Cancel
        } else {
            Choice::Select(0)
        }
    }
}

/// The File Control Information of the selected ADF (Book 1 §11.3.4 Table 45).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AdfFci {
    pub df_name: Vec<u8>,
    pub label: Option<String>,
    pub preferred_name: Option<String>,
    pub priority_indicator: Option<u8>,
    pub pdol: Option<Vec<u8>>,
    pub language_preference: Option<String>,
    pub issuer_code_table_index: Option<u8>,
    /// FCI Issuer Discretionary Data (BF0C) value.
    pub issuer_discretionary: Option<Vec<u8>>,
    /// Raw FCI template (6F), for the data store.
    pub raw: Vec<u8>,
}

/// Parse the FCI returned by SELECT of an ADF; `None` if mandatory 6F/84/A5 are missing.
pub fn parse_adf_fci(data: &[u8]) -> Result<AdfFci, String> {
    let fci = find_path(data, &[Tag(0x6F)])
        .map_err(|e| e.to_string())?
        .ok_or("FCI template 6F missing")?;
    let df = fci
        .child(Tag(0x84))
        .map_err(|e| e.to_string())?
        .ok_or("DF name 84 missing")?;
    let prop = fci
        .child(Tag(0xA5))
        .map_err(|e| e.to_string())?
        .ok_or("FCI proprietary template A5 missing")?;
    let mut out = AdfFci {
        df_name: df.value.to_vec(),
        raw: fci.raw.to_vec(),
        ..AdfFci::default()
    };
    for obj in prop.children() {
        let obj = obj.map_err(|e| e.to_string())?;
        match obj.tag.0 {
            0x50 => out.label = Some(text(obj.value)),
            0x87 => out.priority_indicator = obj.value.first().copied(),
            0x9F38 => out.pdol = Some(obj.value.to_vec()),
            0x5F2D => out.language_preference = Some(text(obj.value)),
            0x9F11 => out.issuer_code_table_index = obj.value.first().copied(),
            0x9F12 => out.preferred_name = Some(text(obj.value)),
            0xBF0C => out.issuer_discretionary = Some(obj.value.to_vec()),
            _ => {}
        }
    }
    Ok(out)
}

fn text(v: &[u8]) -> String {
    v.iter()
        .map(|b| {
            if b.is_ascii_graphic() || *b == b' ' {
                char::from(*b)
            } else {
                '?'
            }
        })
        .collect()
}

/// Book 1 §12.3.1: does the card's ADF name match the terminal AID?
pub fn aid_matches(terminal: &AidConfig, adf_name: &[u8]) -> bool {
    adf_name == terminal.aid.as_slice()
        || (terminal.partial_selection
            && adf_name.len() > terminal.aid.len()
            && adf_name.starts_with(&terminal.aid))
}

/// Build the candidate list: PSE first, list of AIDs if the PSE is absent or unusable
/// (Book 1 §12.3.2, §12.3.3). Candidates come back sorted by priority.
pub fn build_candidate_list<T: CardTransport>(
    ch: &mut Channel<T>,
    config: &TerminalConfig,
) -> Result<Vec<Candidate>, EndReason> {
    let mut list = match pse_candidates(ch, config)? {
        Some(list) if !list.is_empty() => list,
        _ => aid_list_candidates(ch, config)?,
    };
    sort_candidates(&mut list);
    Ok(list)
}

/// Sort by priority (1 highest, none last), stable so the card's order breaks ties (§12.4).
pub fn sort_candidates(list: &mut [Candidate]) {
    list.sort_by_key(|c| c.priority().unwrap_or(16));
}

/// Most directories (PSE plus nested DDFs) followed in one selection.
const MAX_DDFS: usize = 8;

/// PSE method (Book 1 §12.3.2), following DDF entries (9D) into their own directories after
/// the current one. `Ok(None)`: use the list-of-AIDs method instead.
fn pse_candidates<T: CardTransport>(
    ch: &mut Channel<T>,
    config: &TerminalConfig,
) -> Result<Option<Vec<Candidate>>, EndReason> {
    let mut out = Vec::new();
    let mut ddfs: Vec<Vec<u8>> = vec![PSE_NAME.to_vec()];
    let mut next = 0;
    while let Some(ddf) = ddfs.get(next).cloned() {
        let is_pse = next == 0;
        next += 1;
        let resp = ch.transmit(&Apdu::select(&ddf, false))?;
        match resp.status() {
            StatusWord::Success => {}
            StatusWord::FunctionNotSupported if is_pse => return Err(EndReason::CardBlocked),
            _ if is_pse => return Ok(None),
            _ => continue,
        }
        let sfi = directory_sfi(&resp.data);
        let Some(sfi) = sfi.filter(|s| (1..=10).contains(s)) else {
            if is_pse {
                return Ok(None);
            }
            continue;
        };
        for record in 1..=u8::MAX {
            let resp = ch.transmit(&Apdu::read_record(sfi, record))?;
            match resp.status() {
                StatusWord::Success => {}
                StatusWord::RecordNotFound => break,
                _ if is_pse => return Ok(None),
                _ => break,
            }
            let Ok(Some(rec)) = find_path(&resp.data, &[Tag(0x70)]) else {
                return Ok(None);
            };
            for entry in rec.children() {
                let Ok(entry) = entry else { return Ok(None) };
                if entry.tag != Tag(0x61) {
                    continue;
                }
                let mut adf = None;
                let mut ddf_name = None;
                let mut label = None;
                let mut pref = None;
                let mut prio = None;
                for obj in entry.children() {
                    let Ok(obj) = obj else { return Ok(None) };
                    match obj.tag.0 {
                        0x4F => adf = Some(obj.value.to_vec()),
                        0x9D => ddf_name = Some(obj.value.to_vec()),
                        0x50 => label = Some(text(obj.value)),
                        0x9F12 => pref = Some(text(obj.value)),
                        0x87 => prio = obj.value.first().copied(),
                        _ => {}
                    }
                }
                if let Some(d) = ddf_name {
                    if ddfs.len() < MAX_DDFS && !ddfs.contains(&d) {
                        ddfs.push(d);
                    }
                    continue;
                }
                let Some(adf) = adf else { continue };
                if let Some(i) = config.aids.iter().position(|a| aid_matches(a, &adf)) {
                    out.push(Candidate {
                        adf_name: adf,
                        label,
                        preferred_name: pref,
                        priority_indicator: prio,
                        terminal_aid: i,
                    });
                }
            }
        }
    }
    Ok(Some(out))
}

/// SFI of the directory elementary file (88) in a DDF's FCI (6F/A5/88).
fn directory_sfi(fci_data: &[u8]) -> Option<u8> {
    let fci = find_path(fci_data, &[Tag(0x6F)]).ok()??;
    let a5 = fci.child(Tag(0xA5)).ok()??;
    let sfi = a5.child(Tag(0x88)).ok()??;
    sfi.value.first().copied()
}

/// List of AIDs method (Book 1 §12.3.3), with SELECT next for partial matches.
fn aid_list_candidates<T: CardTransport>(
    ch: &mut Channel<T>,
    config: &TerminalConfig,
) -> Result<Vec<Candidate>, EndReason> {
    let mut out = Vec::new();
    for (i, aid) in config.aids.iter().enumerate() {
        let mut next = false;
        // At most 16 occurrences of one partial AID.
        for _ in 0..16 {
            let resp = ch.transmit(&Apdu::select(&aid.aid, next))?;
            let status = resp.status();
            // Book 1 §12.3.3: 6A81 (card blocked / SELECT not supported) ends the transaction.
            if status == StatusWord::FunctionNotSupported {
                return Err(EndReason::CardBlocked);
            }
            let blocked = status == StatusWord::SelectedFileInvalidated;
            if status != StatusWord::Success && !blocked {
                break;
            }
            let Ok(fci) = parse_adf_fci(&resp.data) else {
                break;
            };
            if !blocked
                && aid_matches(aid, &fci.df_name)
                && !out.iter().any(|c: &Candidate| c.adf_name == fci.df_name)
            {
                out.push(Candidate {
                    adf_name: fci.df_name.clone(),
                    label: fci.label,
                    preferred_name: fci.preferred_name,
                    priority_indicator: fci.priority_indicator,
                    terminal_aid: i,
                });
            }
            if fci.df_name == aid.aid || !aid.partial_selection {
                break;
            }
            next = true;
        }
    }
    Ok(out)
}

/// The outcome of final selection.
#[derive(Debug, Clone)]
pub struct SelectedApplication {
    pub candidate: Candidate,
    pub fci: AdfFci,
}

/// Choose (with cardholder confirmation where required) and SELECT the application; remove a
/// candidate that fails and choose again (Book 1 §12.4).
pub fn final_selection<T: CardTransport>(
    ch: &mut Channel<T>,
    candidates: &mut Vec<Candidate>,
    ui: &mut dyn CardholderInterface,
) -> Result<SelectedApplication, EndReason> {
    loop {
        if candidates.is_empty() {
            return Err(EndReason::NotAccepted);
        }
        let index =
            if candidates.len() == 1 && !candidates.iter().any(Candidate::confirmation_required) {
                0
            } else {
                match ui.choose_application(candidates) {
                    Choice::Select(i) if i < candidates.len() => i,
                    Choice::Select(_) => {
                        return Err(EndReason::Parameters(
                            "choice outside the candidate list".into(),
                        ));
                    }
                    Choice::Cancel => return Err(EndReason::Cancelled),
                }
            };
        let cand = candidates.remove(index);
        let resp = ch.transmit(&Apdu::select(&cand.adf_name, false))?;
        if resp.status() == StatusWord::FunctionNotSupported {
            return Err(EndReason::CardBlocked);
        }
        if resp.status() == StatusWord::Success {
            if let Ok(fci) = parse_adf_fci(&resp.data) {
                if fci.df_name.starts_with(&cand.adf_name)
                    || cand.adf_name.starts_with(&fci.df_name)
                {
                    if let Some(lang) = &fci.language_preference {
                        ui.language_selected(lang);
                    }
                    return Ok(SelectedApplication {
                        candidate: cand,
                        fci,
                    });
                }
            }
        }
        // 6283 (application blocked), other SW, or a bad FCI: not selectable, try the rest.
    }
}

/// Book 1 §12.4 / Book 4 §11.1: the first of the card's preferred languages (5F2D, ISO 639-1
/// pairs in order) that the terminal supports; `None` means use the terminal's default.
pub fn negotiate_language(card_preference: &str, terminal_languages: &[String]) -> Option<String> {
    let bytes = card_preference.as_bytes();
    bytes
        .chunks_exact(2)
        .filter_map(|c| std::str::from_utf8(c).ok())
        .map(str::to_ascii_lowercase)
        .find(|l| terminal_languages.iter().any(|t| t.eq_ignore_ascii_case(l)))
}
