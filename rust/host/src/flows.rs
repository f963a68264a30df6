//! The terminal side of the message flows: [`HostClient`] builds each cups-pos request (see
//! [`crate::dialect`] for the field table), MACs it, sends it over the [`Link`], checks the
//! response (MAC first, then MTI/STAN/terminal/merchant correlation) and applies the reversal
//! rules of [`crate::store`].
//!
//! One request is in flight per client: every flow takes `&mut self`.

use crate::dialect::{self, BatchTotals, msg_type, network};
use crate::error::{HostError, LinkError, crypto_err};
use crate::link::{Link, LinkConfig};
use crate::mac::{self, MacAlgorithm};
use crate::response::ResponseCode;
use crate::store::{PendingEntry, QueueKind, ReversalReason, ReversalStore};
use smartpos_crypto::dukpt::tdes::Originator;
use smartpos_crypto::keyhier::{HierarchyAlgorithm, KeyHierarchy, WorkingKeyType};
use smartpos_crypto::pin::{self, Pin, PinBlockFormat};
use smartpos_iso8583::{Frame, Message, Mti, Profile, Tpdu, mask};
use std::fmt;

/// How the card was read (first two digits of field 22).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryMode {
    /// Key-entered PAN (01).
    Manual,
    /// Magnetic stripe (02).
    Magstripe,
    /// QR code (03, dialect).
    Qr,
    /// Contact chip (05).
    Chip,
    /// Contactless chip (07).
    Contactless,
    /// Magnetic stripe fallback after a chip failure (80).
    Fallback,
}

impl EntryMode {
    /// The two digits.
    pub fn code(self) -> &'static str {
        match self {
            EntryMode::Manual => "01",
            EntryMode::Magstripe => "02",
            EntryMode::Qr => "03",
            EntryMode::Chip => "05",
            EntryMode::Contactless => "07",
            EntryMode::Fallback => "80",
        }
    }
}

/// Card data of a request. `Debug` masks the PAN and hides track 2.
#[derive(Clone, PartialEq, Eq)]
pub struct CardData {
    /// PAN (field 2).
    pub pan: String,
    /// Track 2 equivalent data (field 35), `=` as separator.
    pub track2: Option<String>,
    /// Expiry YYMM (field 14).
    pub expiry: Option<String>,
    /// PAN sequence number, up to 3 digits (field 23).
    pub psn: Option<String>,
    /// How the card was read.
    pub entry_mode: EntryMode,
    /// Field 55 from the kernel (ARQC data, or TC for advices).
    pub icc_data: Option<Vec<u8>>,
}

impl CardData {
    /// A chip card by PAN with its field 55.
    pub fn chip(pan: &str, psn: &str, icc_data: Vec<u8>) -> CardData {
        CardData {
            pan: pan.to_string(),
            track2: None,
            expiry: None,
            psn: Some(psn.to_string()),
            entry_mode: EntryMode::Chip,
            icc_data: Some(icc_data),
        }
    }

    /// A key-entered card (no chip data).
    pub fn manual(pan: &str) -> CardData {
        CardData {
            pan: pan.to_string(),
            track2: None,
            expiry: None,
            psn: None,
            entry_mode: EntryMode::Manual,
            icc_data: None,
        }
    }
}

impl fmt::Debug for CardData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CardData")
            .field("pan", &mask::mask_pan(&self.pan))
            .field("track2", &self.track2.as_ref().map(|_| "<hidden>"))
            .field("psn", &self.psn)
            .field("entry_mode", &self.entry_mode)
            .field("icc_data", &self.icc_data.as_ref().map(Vec::len))
            .finish()
    }
}

/// The cardholder PIN of a request.
pub enum PinInput {
    /// No PIN (signature, no CVM, or offline PIN done by the card).
    None,
    /// A PIN block already enciphered by the PIN pad (ISO 9564 format 0 under the TPK, or under
    /// a DUKPT PIN key whose KSN is given).
    Encrypted {
        /// The 8-byte enciphered block.
        block: [u8; 8],
        /// The DUKPT KSN, when DUKPT was used.
        ksn: Option<[u8; 10]>,
    },
    /// A clear PIN (soft PIN entry, tests): enciphered here under the DUKPT PIN key when the client
    /// has a DUKPT originator, else under the TPK from sign-on, in ISO 9564 format 0.
    Clear(Pin),
}

impl fmt::Debug for PinInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PinInput::None => "PinInput::None",
            PinInput::Encrypted { .. } => "PinInput::Encrypted(<hidden>)",
            PinInput::Clear(_) => "PinInput::Clear(<hidden>)",
        })
    }
}

/// A sale or pre-authorisation.
#[derive(Debug)]
pub struct SaleRequest {
    /// Amount in minor units.
    pub amount: u64,
    /// The card.
    pub card: CardData,
    /// The PIN.
    pub pin: PinInput,
}

/// Void of an approved sale of the current batch.
#[derive(Debug)]
pub struct VoidRequest {
    /// Amount of the original.
    pub amount: u64,
    /// The card.
    pub card: CardData,
    /// The PIN, if the acquirer asks for one on voids.
    pub pin: PinInput,
    /// STAN of the original sale.
    pub original_stan: u32,
    /// RRN of the original sale.
    pub original_rrn: String,
    /// Authorisation code of the original sale.
    pub original_auth_code: String,
}

/// Refund of an earlier sale (any batch).
#[derive(Debug)]
pub struct RefundRequest {
    /// Amount to refund.
    pub amount: u64,
    /// The card.
    pub card: CardData,
    /// RRN of the original sale.
    pub original_rrn: String,
    /// Date of the original sale, MMDD.
    pub original_date: String,
}

/// Completion of a pre-authorisation.
#[derive(Debug)]
pub struct CompletionRequest {
    /// Final amount.
    pub amount: u64,
    /// The card.
    pub card: CardData,
    /// Authorisation code of the pre-authorisation.
    pub original_auth_code: String,
    /// STAN of the pre-authorisation.
    pub original_stan: u32,
    /// Date of the pre-authorisation, MMDD.
    pub original_date: String,
}

/// One transaction of the batch, for the batch upload (0320).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchRecord {
    /// STAN of the transaction.
    pub stan: u32,
    /// Processing code (000000 debit, 200000 credit).
    pub processing_code: String,
    /// Amount.
    pub amount: u64,
    /// PAN (or empty for QR).
    pub pan: String,
    /// RRN, if the host gave one.
    pub rrn: Option<String>,
    /// Authorisation code, if any.
    pub auth_code: Option<String>,
}

/// How a settlement ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SettlementOutcome {
    /// Totals agreed at the first 0500.
    Balanced,
    /// Totals differed (95), the batch was uploaded (this many 0320s) and the second 0500 agreed.
    BalancedAfterUpload {
        /// Number of records uploaded.
        uploaded: usize,
    },
}

/// Status of a QR wallet order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QrStatus {
    /// Paid.
    Paid,
    /// Waiting for the customer to confirm in the wallet app.
    Pending,
    /// Revoked or closed.
    Revoked,
}

/// A QR wallet order, as returned by [`HostClient::qr_pay`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QrOrder {
    /// The order reference (RRN).
    pub rrn: String,
    /// STAN of the pay request.
    pub stan: u32,
    /// Amount.
    pub amount: u64,
    /// Status at the time of the last answer.
    pub status: QrStatus,
}

/// A MAC-checked response that matched its request.
#[derive(Clone)]
pub struct HostResponse {
    /// Field 39.
    pub code: ResponseCode,
    /// Field 11 (= the request's STAN).
    pub stan: u32,
    /// Field 37.
    pub rrn: Option<String>,
    /// Field 38.
    pub auth_code: Option<String>,
    /// Field 55 (issuer authentication data 91, scripts 71/72).
    pub icc_data: Option<Vec<u8>>,
    /// Field 4 (balance inquiry: the balance).
    pub amount: Option<u64>,
    /// Field 15, settlement date MMDD.
    pub settlement_date: Option<String>,
    /// The whole response message (Debug masks it).
    pub message: Message,
}

impl fmt::Debug for HostResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HostResponse")
            .field("code", &self.code)
            .field("stan", &self.stan)
            .field("rrn", &self.rrn)
            .field("auth_code", &self.auth_code)
            .field("icc_data", &self.icc_data.as_ref().map(Vec::len))
            .finish()
    }
}

impl HostResponse {
    fn from_message(message: Message) -> Result<HostResponse, HostError> {
        let code = message
            .response_code()
            .and_then(ResponseCode::parse)
            .ok_or(HostError::MissingField {
                field: 39,
                what: "response code",
            })?;
        let stan = message
            .stan()
            .ok()
            .flatten()
            .and_then(|s| u32::try_from(s).ok())
            .ok_or(HostError::MissingField {
                field: 11,
                what: "STAN",
            })?;
        Ok(HostResponse {
            code,
            stan,
            rrn: message.rrn().map(str::to_string),
            auth_code: message.auth_code().map(str::to_string),
            icc_data: message.binary(55).map(<[u8]>::to_vec),
            amount: message.amount().ok().flatten(),
            settlement_date: message.text(15).map(str::to_string),
            message,
        })
    }

    fn approved(self) -> Result<HostResponse, HostError> {
        if self.code.is_approved() {
            Ok(self)
        } else {
            Err(HostError::Declined {
                code: self.code,
                response: Box::new(self),
            })
        }
    }
}

/// The terminal's identity and link parameters.
#[derive(Debug, Clone)]
pub struct TerminalConfig {
    /// Field 41 (8 characters).
    pub terminal_id: String,
    /// Field 42 (15 characters).
    pub merchant_id: String,
    /// TPDU of requests.
    pub tpdu: Tpdu,
    /// The 6-byte header.
    pub header: [u8; 6],
    /// Field 49 currency (ISO 4217 numeric), e.g. `156`.
    pub currency: String,
    /// Field 64 algorithm.
    pub mac_algorithm: MacAlgorithm,
    /// Current batch number (60.2).
    pub batch: u32,
}

impl TerminalConfig {
    /// Defaults for a terminal: TPDU 60 0001 0000, header 60 31 00 31 00 00, CNY, UnionPay ECB MAC,
    /// batch 1.
    pub fn new(terminal_id: &str, merchant_id: &str) -> TerminalConfig {
        TerminalConfig {
            terminal_id: terminal_id.to_string(),
            merchant_id: merchant_id.to_string(),
            tpdu: Tpdu::new(0x0001, 0x0000),
            header: [0x60, 0x31, 0x00, 0x31, 0x00, 0x00],
            currency: "156".to_string(),
            mac_algorithm: MacAlgorithm::CupEcb,
            batch: 1,
        }
    }
}

/// The acquirer-link client of one terminal.
pub struct HostClient<S: ReversalStore> {
    link_config: LinkConfig,
    config: TerminalConfig,
    keys: KeyHierarchy,
    store: S,
    link: Option<Link>,
    stan: u32,
    dukpt: Option<Originator>,
    last_answered: Option<(Mti, u32)>,
    last_authorisation: Option<Message>,
}

impl<S: ReversalStore> fmt::Debug for HostClient<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HostClient")
            .field("address", &self.link_config.address)
            .field("terminal_id", &self.config.terminal_id)
            .field("keys", &self.keys)
            .field("stan", &self.stan)
            .finish()
    }
}

fn build<T>(r: Result<T, smartpos_iso8583::Error>) -> Result<T, HostError> {
    r.map_err(HostError::Build)
}

fn profile() -> &'static Profile {
    Profile::cups_pos()
}

fn field60(batch: u32, msg_type: &str, network: &str) -> String {
    format!("{msg_type}{batch:06}{network}")
}

impl<S: ReversalStore> HostClient<S> {
    /// A client with a key hierarchy whose TMK is installed (working keys come from sign-on).
    pub fn new(
        link_config: LinkConfig,
        config: TerminalConfig,
        keys: KeyHierarchy,
        store: S,
    ) -> HostClient<S> {
        HostClient {
            link_config,
            config,
            keys,
            store,
            link: None,
            stan: 0,
            dukpt: None,
            last_answered: None,
            last_authorisation: None,
        }
    }

    /// Enciphers clear PINs under DUKPT (ANSI X9.24-1:2009) instead of the TPK.
    pub fn set_dukpt(&mut self, originator: Originator) {
        self.dukpt = Some(originator);
    }

    /// Continue numbering from this STAN (the next request uses `last + 1`).
    pub fn set_last_stan(&mut self, last: u32) {
        self.stan = last % 1_000_000;
    }

    /// The STAN of the last request built.
    pub fn last_stan(&self) -> u32 {
        self.stan
    }

    /// The terminal configuration (batch number included).
    pub fn config(&self) -> &TerminalConfig {
        &self.config
    }

    /// The key hierarchy (working keys after sign-on).
    pub fn keys(&self) -> &KeyHierarchy {
        &self.keys
    }

    /// The reversal/advice store.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// The reversal/advice store, mutably.
    pub fn store_mut(&mut self) -> &mut S {
        &mut self.store
    }

    /// Close the connection (the next request opens a new one).
    pub fn disconnect(&mut self) {
        self.link = None;
    }

    fn next_stan(&mut self) -> u32 {
        self.stan = if self.stan >= 999_999 {
            1
        } else {
            self.stan + 1
        };
        self.stan
    }

    fn base(&mut self, mti: &str) -> Result<(Message, u32), HostError> {
        let stan = self.next_stan();
        let mut m = Message::new(build(Mti::new(mti))?);
        build(m.set_stan(stan))?;
        build(m.set_terminal_id(&self.config.terminal_id))?;
        build(m.set_merchant_id(&self.config.merchant_id))?;
        Ok((m, stan))
    }

    fn mac_key(&self) -> Result<&smartpos_crypto::key::SecretKey, HostError> {
        self.keys
            .key(WorkingKeyType::Mac)
            .ok_or(HostError::NotSignedOn("MAC"))
    }

    /// Send `request` (MACed when `with_mac`) and return the believed response.
    fn exchange(&mut self, mut request: Message, with_mac: bool) -> Result<Message, HostError> {
        if with_mac {
            let key = self.mac_key()?.clone();
            mac::sign(profile(), self.config.mac_algorithm, &key, &mut request)?;
        }
        let req_mti = request.mti();
        let req_stan = request.stan().ok().flatten().unwrap_or(0);
        let frame = Frame::new(self.config.tpdu, &self.config.header, request);
        let bytes = build(profile().pack_frame(&frame))?;
        let request = frame.message;
        let result = self.round_trip(&bytes, &request, req_mti, req_stan, with_mac);
        if matches!(result, Err(HostError::Link(_)) | Err(HostError::Garbled(_))) {
            self.link = None;
        }
        result
    }

    fn round_trip(
        &mut self,
        bytes: &[u8],
        request: &Message,
        req_mti: Mti,
        req_stan: u64,
        with_mac: bool,
    ) -> Result<Message, HostError> {
        if self.link.is_none() {
            self.link = Some(Link::connect(&self.link_config)?);
        }
        let link = self.link.as_mut().ok_or(LinkError::NotConnected)?;
        link.send(bytes)?;
        // A response to an exchange already completed (a duplicated response) is skipped; at
        // most a few, so a host that repeats itself forever ends in a timeout, not a loop.
        for _ in 0..4 {
            let payload = link.receive()?;
            let frame = profile()
                .unpack_frame(&payload)
                .map_err(HostError::Garbled)?;
            let resp = frame.message;
            let resp_stan = resp.stan().ok().flatten();
            if let (Some((mti, stan)), Some(rs)) = (self.last_answered, resp_stan) {
                if resp.mti() == mti && rs == u64::from(stan) && rs != req_stan {
                    log::warn!("ignoring a duplicated response {mti} STAN {stan:06}");
                    continue;
                }
            }
            if with_mac {
                let key = self.mac_key()?;
                mac::verify(profile(), self.config.mac_algorithm, key, &resp)?;
            }
            correlate(request, &resp, req_mti)?;
            self.last_answered = Some((resp.mti(), req_stan as u32));
            return Ok(resp);
        }
        Err(HostError::Link(LinkError::Timeout {
            during: "waiting for a response after duplicates",
        }))
    }

    fn pin_fields(
        &mut self,
        m: &mut Message,
        pan: &str,
        pin_input: &PinInput,
    ) -> Result<bool, HostError> {
        let (block, ksn): (Vec<u8>, Option<[u8; 10]>) = match pin_input {
            PinInput::None => return Ok(false),
            PinInput::Encrypted { block, ksn } => (block.to_vec(), *ksn),
            PinInput::Clear(p) => {
                if let Some(orig) = self.dukpt.as_mut() {
                    let keys = orig.next_session_keys().map_err(crypto_err)?;
                    let block = pin::encrypt(
                        &keys.pin_key,
                        PinBlockFormat::Iso0,
                        p,
                        Some(pan),
                        &mut pin::openssl_random,
                    )
                    .map_err(crypto_err)?;
                    (block, Some(*keys.ksn.as_bytes()))
                } else {
                    if self.keys.algorithm() == HierarchyAlgorithm::Sm4 {
                        return Err(HostError::InvalidRequest {
                            field: "pin",
                            reason: "SM4 PIN blocks (format 4, 16 bytes) do not fit field 52 b8"
                                .into(),
                        });
                    }
                    let tpk = self
                        .keys
                        .key(WorkingKeyType::Pin)
                        .ok_or(HostError::NotSignedOn("PIN"))?;
                    let block = pin::encrypt(
                        tpk,
                        PinBlockFormat::Iso0,
                        p,
                        Some(pan),
                        &mut pin::openssl_random,
                    )
                    .map_err(crypto_err)?;
                    (block, None)
                }
            }
        };
        build(m.set_binary(52, &block))?;
        build(m.set_text(26, "12"))?;
        match ksn {
            Some(k) => {
                build(m.set_text(53, "2610000000000000"))?;
                build(m.set_binary(62, &k))?;
            }
            None => {
                build(m.set_text(53, "2600000000000000"))?;
            }
        }
        Ok(true)
    }

    fn card_fields(
        &mut self,
        m: &mut Message,
        card: &CardData,
        pin_input: &PinInput,
    ) -> Result<(), HostError> {
        if card.pan.len() < 8
            || card.pan.len() > 19
            || !card.pan.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(HostError::InvalidRequest {
                field: "pan",
                reason: "must be 8 to 19 digits".into(),
            });
        }
        build(m.set_pan(&card.pan))?;
        if let Some(e) = &card.expiry {
            build(m.set_text(14, e))?;
        }
        if let Some(t2) = &card.track2 {
            build(m.set_text(35, t2))?;
        }
        if let Some(psn) = &card.psn {
            build(m.set_numeric(
                23,
                psn.parse().map_err(|_| HostError::InvalidRequest {
                    field: "psn",
                    reason: "not a number".into(),
                })?,
                3,
            ))?;
        }
        if let Some(icc) = &card.icc_data {
            build(m.set_binary(55, icc))?;
        }
        let pin = self.pin_fields(m, &card.pan, pin_input)?;
        let mode = format!("{}{}", card.entry_mode.code(), if pin { "1" } else { "2" });
        build(m.set_text(22, &mode))?;
        Ok(())
    }

    fn financial(
        &mut self,
        mti: &str,
        pc: &str,
        amount: u64,
        condition: &str,
        msg_type: &str,
    ) -> Result<(Message, u32), HostError> {
        let (mut m, stan) = self.base(mti)?;
        build(m.set_processing_code(pc))?;
        build(m.set_amount(4, amount))?;
        build(m.set_text(25, condition))?;
        build(m.set_text(49, &self.config.currency))?;
        build(m.set_text(60, &field60(self.config.batch, msg_type, network::NONE)))?;
        Ok((m, stan))
    }

    /// Send an authorisation under the reversal rules: the reversal is saved before sending and
    /// discarded only when a believed response arrives.
    fn authorise(&mut self, request: Message) -> Result<HostResponse, HostError> {
        self.flush_reversals()?;
        let stan = request
            .stan()
            .ok()
            .flatten()
            .and_then(|s| u32::try_from(s).ok())
            .unwrap_or(0);
        let original = reversal_original(&request)?;
        let mut entry = PendingEntry {
            kind: QueueKind::Reversal,
            stan,
            reason: ReversalReason::Unconfirmed,
            original: original.clone(),
            attempts: 0,
            last_error: None,
        };
        self.store.save(&entry)?;
        match self.exchange(request, true) {
            Ok(resp) => {
                let r = match HostResponse::from_message(resp) {
                    Ok(r) => r,
                    Err(e) => {
                        entry.reason = ReversalReason::BadResponse;
                        self.store.save(&entry)?;
                        return Err(e);
                    }
                };
                self.store.discard(QueueKind::Reversal, stan)?;
                if r.code.is_approved() {
                    self.last_authorisation = Some(original);
                }
                r.approved()
            }
            Err(e) => {
                entry.reason = match &e {
                    HostError::BadMac(_) => ReversalReason::MacError,
                    HostError::Link(_) => ReversalReason::NoResponse,
                    _ => ReversalReason::BadResponse,
                };
                if e.needs_reversal() {
                    self.store.save(&entry)?;
                } else {
                    // Nothing reached the host (e.g. not signed on, request could not be built).
                    self.store.discard(QueueKind::Reversal, stan)?;
                }
                Err(e)
            }
        }
    }

    /// Queue a reversal of the last approved authorisation (e.g. the card declined at the second
    /// GENERATE AC after the host approved); it is sent by the next [`HostClient::flush_reversals`].
    pub fn reverse_last_authorisation(&mut self, reason: ReversalReason) -> Result<u32, HostError> {
        let original = self
            .last_authorisation
            .take()
            .ok_or(HostError::InvalidRequest {
                field: "reversal",
                reason: "no approved authorisation to reverse".into(),
            })?;
        let stan = original
            .stan()
            .ok()
            .flatten()
            .and_then(|s| u32::try_from(s).ok())
            .unwrap_or(0);
        self.store.save(&PendingEntry {
            kind: QueueKind::Reversal,
            stan,
            reason,
            original,
            attempts: 0,
            last_error: None,
        })?;
        Ok(stan)
    }

    /// Send every pending reversal (0400) until acknowledged (0410 with 00, 12 or 25). Called
    /// before each authorisation (the usual POS rule). Entries not acknowledged stay queued.
    pub fn flush_reversals(&mut self) -> Result<usize, HostError> {
        let pending = self.store.pending(QueueKind::Reversal)?;
        let mut done = 0;
        let total = pending.len();
        for entry in pending {
            let result = self.send_reversal(&entry);
            match result {
                Ok(()) => {
                    self.store.complete(QueueKind::Reversal, entry.stan)?;
                    done += 1;
                }
                Err(e) => {
                    self.store
                        .record_attempt(QueueKind::Reversal, entry.stan, &e.to_string())?;
                    return Err(HostError::QueueNotFlushed {
                        kind: "reversal",
                        remaining: total - done,
                        last_error: e.to_string(),
                    });
                }
            }
        }
        Ok(done)
    }

    fn send_reversal(&mut self, entry: &PendingEntry) -> Result<(), HostError> {
        let mut m = Message::new(build(Mti::new("0400"))?);
        for n in [
            2u8, 3, 4, 11, 14, 22, 23, 25, 37, 38, 41, 42, 49, 55, 60, 61,
        ] {
            if let Some(v) = entry.original.get(n) {
                build(m.set_bytes(n, v))?;
            }
        }
        build(m.set_response_code(entry.reason.code()))?;
        let resp = self.exchange(m, true)?;
        let r = HostResponse::from_message(resp)?;
        match r.code.as_str() {
            "00" | "12" | "25" => Ok(()),
            _ => Err(HostError::Declined {
                code: r.code,
                response: Box::new(r),
            }),
        }
    }

    /// Queue an advice (0220) of an offline-approved transaction; it gets the next STAN.
    /// Sent by [`HostClient::flush_advices`] (and before settlement).
    pub fn queue_advice(&mut self, amount: u64, card: &CardData) -> Result<u32, HostError> {
        let (mut m, stan) = self.financial(
            "0220",
            dialect::PC_PURCHASE,
            amount,
            "00",
            msg_type::OFFLINE,
        )?;
        self.card_fields(&mut m, card, &PinInput::None)?;
        m.remove(35);
        self.store.save(&PendingEntry {
            kind: QueueKind::Advice,
            stan,
            reason: ReversalReason::Unconfirmed,
            original: m,
            attempts: 0,
            last_error: None,
        })?;
        Ok(stan)
    }

    /// Send every pending advice until the host answers 00 (or 94 duplicate).
    pub fn flush_advices(&mut self) -> Result<usize, HostError> {
        let pending = self.store.pending(QueueKind::Advice)?;
        let total = pending.len();
        let mut done = 0;
        for entry in pending {
            let result = self
                .exchange(entry.original.clone(), true)
                .and_then(HostResponse::from_message);
            match result {
                Ok(r) if r.code.is_approved() || r.code.as_str() == "94" => {
                    self.store.complete(QueueKind::Advice, entry.stan)?;
                    done += 1;
                }
                other => {
                    let error = match other {
                        Ok(r) => format!("host answered {} ({})", r.code, r.code.meaning()),
                        Err(e) => e.to_string(),
                    };
                    self.store
                        .record_attempt(QueueKind::Advice, entry.stan, &error)?;
                    return Err(HostError::QueueNotFlushed {
                        kind: "advice",
                        remaining: total - done,
                        last_error: error,
                    });
                }
            }
        }
        Ok(done)
    }

    /// Sign-on (0800/0810): download working keys in field 62 and install them through the key
    /// hierarchy only if every KCV checks (all or nothing). Adopts the host's batch number (60.2).
    pub fn sign_on(&mut self) -> Result<HostResponse, HostError> {
        let (mut m, _) = self.base("0800")?;
        let code = match self.keys.algorithm() {
            HierarchyAlgorithm::Tdes => network::SIGN_ON_TDES_DATA,
            HierarchyAlgorithm::Sm4 => network::SIGN_ON_SM4,
        };
        build(m.set_text(60, &field60(self.config.batch, msg_type::NONE, code)))?;
        build(m.set_text(63, "001"))?;
        let resp = HostResponse::from_message(self.exchange(m, false)?)?.approved()?;
        let keys = resp.message.binary(62).ok_or(HostError::MissingField {
            field: 62,
            what: "working keys",
        })?;
        self.keys.load_sign_on_field(keys)?;
        if let Ok(Some(batch)) = resp.message.subfield(profile(), 60, "60.2") {
            if let Ok(b) = batch.parse() {
                self.config.batch = b;
            }
        }
        Ok(resp)
    }

    /// Echo test (0820/0830).
    pub fn echo(&mut self) -> Result<HostResponse, HostError> {
        let (mut m, _) = self.base("0820")?;
        build(m.set_text(
            60,
            &field60(self.config.batch, msg_type::NONE, network::ECHO),
        ))?;
        HostResponse::from_message(self.exchange(m, false)?)?.approved()
    }

    /// Sale (0200, processing code 000000).
    pub fn sale(&mut self, req: &SaleRequest) -> Result<HostResponse, HostError> {
        let (mut m, _) = self.financial(
            "0200",
            dialect::PC_PURCHASE,
            req.amount,
            "00",
            msg_type::SALE,
        )?;
        self.card_fields(&mut m, &req.card, &req.pin)?;
        self.authorise(m)
    }

    /// Pre-authorisation (0100, processing code 030000, condition 06).
    pub fn pre_authorise(&mut self, req: &SaleRequest) -> Result<HostResponse, HostError> {
        let (mut m, _) = self.financial(
            "0100",
            dialect::PC_PREAUTH,
            req.amount,
            "06",
            msg_type::PREAUTH,
        )?;
        self.card_fields(&mut m, &req.card, &req.pin)?;
        self.authorise(m)
    }

    /// Pre-authorisation completion (0200, 000000, condition 06, 38 and 61 of the pre-auth).
    pub fn complete_pre_authorisation(
        &mut self,
        req: &CompletionRequest,
    ) -> Result<HostResponse, HostError> {
        let (mut m, _) = self.financial(
            "0200",
            dialect::PC_PURCHASE,
            req.amount,
            "06",
            msg_type::COMPLETION,
        )?;
        self.card_fields(&mut m, &req.card, &PinInput::None)?;
        build(m.set_auth_code(&req.original_auth_code))?;
        let f61 = format!(
            "{:06}{:06}{}",
            self.config.batch, req.original_stan, req.original_date
        );
        build(m.set_text(61, &f61))?;
        self.authorise(m)
    }

    /// Void (0200, processing code 200000, 37/38 and 61 of the original sale).
    pub fn void(&mut self, req: &VoidRequest) -> Result<HostResponse, HostError> {
        let (mut m, _) =
            self.financial("0200", dialect::PC_VOID, req.amount, "00", msg_type::VOID)?;
        self.card_fields(&mut m, &req.card, &req.pin)?;
        build(m.set_rrn(&req.original_rrn))?;
        build(m.set_auth_code(&req.original_auth_code))?;
        let f61 = format!("{:06}{:06}", self.config.batch, req.original_stan);
        build(m.set_text(61, &f61))?;
        self.authorise(m)
    }

    /// Refund (0220, processing code 200000, original RRN in 37 and date in 61.3). Refunds are
    /// not reversed: a refund without an answer is retried by the caller with the same data.
    pub fn refund(&mut self, req: &RefundRequest) -> Result<HostResponse, HostError> {
        self.flush_reversals()?;
        let (mut m, _) = self.financial(
            "0220",
            dialect::PC_REFUND,
            req.amount,
            "00",
            msg_type::REFUND,
        )?;
        self.card_fields(&mut m, &req.card, &PinInput::None)?;
        build(m.set_rrn(&req.original_rrn))?;
        build(m.set_text(61, &format!("000000000000{}", req.original_date)))?;
        HostResponse::from_message(self.exchange(m, true)?)?.approved()
    }

    /// Balance inquiry (0200, 310000); the balance is in [`HostResponse::amount`].
    pub fn balance_inquiry(
        &mut self,
        card: &CardData,
        pin: &PinInput,
    ) -> Result<HostResponse, HostError> {
        self.flush_reversals()?;
        let (mut m, _) = self.financial("0200", dialect::PC_BALANCE, 0, "00", msg_type::BALANCE)?;
        self.card_fields(&mut m, card, pin)?;
        HostResponse::from_message(self.exchange(m, true)?)?.approved()
    }

    fn qr_message(
        &mut self,
        pc: &str,
        amount: u64,
        marker: &str,
        code: &str,
    ) -> Result<(Message, u32), HostError> {
        let (mut m, stan) = self.financial("0200", pc, amount, "00", msg_type::SALE)?;
        build(m.set_text(22, "032"))?;
        build(m.set_text(63, &format!("{marker}{code}")))?;
        Ok((m, stan))
    }

    /// QR scan-to-pay: pay with the scanned wallet payment code (0200 with 63 = `QRP` + code).
    /// The order is paid at once (00) or pending (09) until the wallet confirms.
    pub fn qr_pay(&mut self, amount: u64, wallet_code: &str) -> Result<QrOrder, HostError> {
        if wallet_code.is_empty()
            || wallet_code.len() > 157
            || !wallet_code.bytes().all(|b| b.is_ascii_graphic())
        {
            return Err(HostError::InvalidRequest {
                field: "wallet_code",
                reason: "1 to 157 printable ASCII characters".into(),
            });
        }
        let (m, stan) =
            self.qr_message(dialect::PC_PURCHASE, amount, dialect::qr::PAY, wallet_code)?;
        let status = match self.authorise(m) {
            Ok(r) => (QrStatus::Paid, r),
            Err(HostError::Declined { code, response }) if code == ResponseCode::IN_PROGRESS => {
                (QrStatus::Pending, *response)
            }
            Err(e) => return Err(e),
        };
        let rrn = status.1.rrn.clone().ok_or(HostError::MissingField {
            field: 37,
            what: "order reference",
        })?;
        Ok(QrOrder {
            rrn,
            stan,
            amount,
            status: status.0,
        })
    }

    fn qr_follow_up(
        &mut self,
        order: &QrOrder,
        pc: &str,
        marker: &str,
    ) -> Result<QrStatus, HostError> {
        let (mut m, _) = self.qr_message(pc, order.amount, marker, "")?;
        build(m.set_rrn(&order.rrn))?;
        build(m.set_text(61, &format!("{:06}{:06}", self.config.batch, order.stan)))?;
        let r = HostResponse::from_message(self.exchange(m, true)?)?;
        if let Some(rrn) = r.rrn.as_deref().filter(|rrn| *rrn != order.rrn) {
            return Err(HostError::Mismatch {
                field: "order reference (37)",
                expected: order.rrn.clone(),
                received: rrn.to_string(),
            });
        }
        match r.code.as_str() {
            "00" => Ok(QrStatus::Paid),
            "09" => Ok(QrStatus::Pending),
            "12" => Ok(QrStatus::Revoked),
            _ => Err(HostError::Declined {
                code: r.code,
                response: Box::new(r),
            }),
        }
    }

    /// Poll a QR order's status (0200, 330000).
    pub fn qr_query(&mut self, order: &QrOrder) -> Result<QrStatus, HostError> {
        self.qr_follow_up(order, dialect::PC_QR_QUERY, dialect::qr::QUERY)
    }

    /// Revoke/close a QR order (0200, 340000); `Revoked` when the host closed it.
    pub fn qr_revoke(&mut self, order: &QrOrder) -> Result<QrStatus, HostError> {
        match self.qr_follow_up(order, dialect::PC_QR_REVOKE, dialect::qr::REVOKE)? {
            QrStatus::Paid => Ok(QrStatus::Revoked),
            s => Ok(s),
        }
    }

    fn settlement_message(
        &mut self,
        totals: &BatchTotals,
        code: &str,
    ) -> Result<Message, HostError> {
        let (mut m, _) = self.base("0500")?;
        let f48 = totals.to_field48().ok_or(HostError::InvalidRequest {
            field: "totals",
            reason: "a count is over 999 or an amount over 12 digits".into(),
        })?;
        build(m.set_text(48, &f48))?;
        build(m.set_text(49, &self.config.currency))?;
        build(m.set_text(60, &field60(self.config.batch, msg_type::NONE, code)))?;
        build(m.set_text(63, "001"))?;
        Ok(m)
    }

    /// Settlement (0500 with the totals in field 48). On 95 (totals differ) every record is
    /// uploaded (0320) and the settlement repeated; on success the batch number advances.
    /// Pending advices are flushed first.
    pub fn settle(
        &mut self,
        totals: &BatchTotals,
        records: &[BatchRecord],
    ) -> Result<SettlementOutcome, HostError> {
        self.flush_reversals()?;
        self.flush_advices()?;
        let m = self.settlement_message(totals, network::SETTLE)?;
        let first = HostResponse::from_message(self.exchange(m, true)?)?;
        let outcome = if first.code.is_approved() {
            SettlementOutcome::Balanced
        } else if first.code == ResponseCode::RECONCILE_ERROR {
            for r in records {
                let (mut u, _) = self.base("0320")?;
                if !r.pan.is_empty() {
                    build(u.set_pan(&r.pan))?;
                }
                build(u.set_processing_code(&r.processing_code))?;
                build(u.set_amount(4, r.amount))?;
                if let Some(rrn) = &r.rrn {
                    build(u.set_rrn(rrn))?;
                }
                if let Some(a) = &r.auth_code {
                    build(u.set_auth_code(a))?;
                }
                build(u.set_text(49, &self.config.currency))?;
                build(u.set_text(
                    60,
                    &field60(self.config.batch, msg_type::NONE, network::SETTLE),
                ))?;
                build(u.set_text(61, &format!("{:06}{:06}", self.config.batch, r.stan)))?;
                HostResponse::from_message(self.exchange(u, true)?)?.approved()?;
            }
            let m = self.settlement_message(totals, network::SETTLE_AFTER_UPLOAD)?;
            HostResponse::from_message(self.exchange(m, true)?)?.approved()?;
            SettlementOutcome::BalancedAfterUpload {
                uploaded: records.len(),
            }
        } else {
            return first.approved().map(|_| SettlementOutcome::Balanced);
        };
        self.config.batch = if self.config.batch >= 999_999 {
            1
        } else {
            self.config.batch + 1
        };
        Ok(outcome)
    }
}

/// The original data elements kept for a reversal: track 2/3, PIN data and MAC removed; PAN kept.
fn reversal_original(request: &Message) -> Result<Message, HostError> {
    let mut m = request.clone();
    for n in [26u8, 35, 36, 52, 53, 62, 64] {
        m.remove(n);
    }
    Ok(m)
}

fn text_of(m: &Message, field: u8) -> String {
    m.text(field).unwrap_or("<absent>").to_string()
}

/// A response is believed only for its own request: MTI pair, STAN, terminal and merchant ID.
fn correlate(request: &Message, response: &Message, req_mti: Mti) -> Result<(), HostError> {
    if req_mti.response() != Some(response.mti()) {
        return Err(HostError::UnexpectedMti {
            request: req_mti,
            received: response.mti(),
        });
    }
    for (field, name) in [
        (11u8, "STAN (11)"),
        (41, "terminal ID (41)"),
        (42, "merchant ID (42)"),
    ] {
        if request.get(field) != response.get(field) {
            return Err(HostError::Mismatch {
                field: name,
                expected: text_of(request, field),
                received: text_of(response, field),
            });
        }
    }
    Ok(())
}
