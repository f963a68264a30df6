//! The terminal side of the message flows: [`HostClient`] builds each cups-pos request (see
//! [`crate::dialect`] for the field table), MACs it, sends it over the [`Link`], checks the
//! response (MAC first, then MTI/STAN/terminal/merchant correlation) and applies the reversal
//! rules of [`crate::store`].
//!
//! One request is in flight per client: every flow takes `&mut self`.
//!
//! Sub-modules hold the flows by protocol part: `reversal` (authorisations under the reversal
//! rules, 0400 and 0220 store-and-forward), `qr` (the QR sub-protocol) and `settlement`
//! (0500 with batch upload 0320).

mod qr;
mod reversal;
mod settlement;

pub use crate::request::{
    BatchRecord, CardData, CompletionRequest, EntryMode, HostResponse, PinInput, QrOrder, QrStatus,
    RefundRequest, SaleRequest, SettlementOutcome, TerminalConfig, ValueAddedData, VoidRequest,
};

use crate::dialect::{self, msg_type, network};
use crate::error::{HostError, LinkError, crypto_err};
use crate::link::{CancelHook, Link, LinkConfig};
use crate::mac;
use crate::store::ReversalStore;
use smartpos_crypto::dukpt::tdes::Originator;
use smartpos_crypto::keyhier::{HierarchyAlgorithm, KeyHierarchy, WorkingKeyType};
use smartpos_crypto::pin::{self, PinBlockFormat};
use smartpos_iso8583::{Frame, Message, Mti, Profile};
use std::fmt;

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
    cancel: Option<CancelHook>,
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
            cancel: None,
        }
    }

    /// The cancel hook polled while this client waits for the host (connect, TLS handshake,
    /// response); `None` (the default) waits until the timeouts. Once the hook is cancelled every
    /// flow ends with [`HostError::Cancelled`] — `sent: false` when nothing had been written (the
    /// next request is not sent either), `sent: true` when the request was on its way (an
    /// authorisation then stays queued for reversal, as after a timeout). Set a fresh hook per
    /// transaction, or `None` to clear it.
    pub fn set_cancel(&mut self, hook: Option<CancelHook>) {
        self.cancel = hook;
    }

    /// The cancel hook in use, if any.
    pub fn cancel_hook(&self) -> Option<&CancelHook> {
        self.cancel.as_ref()
    }

    /// Run `f` (one transaction's host calls) with `hook` as the cancel hook, then put the
    /// previous hook back — so a cancelled hook never outlives its transaction and fails the
    /// next one with `Cancelled { sent: false }`.
    pub fn with_cancel<R>(&mut self, hook: CancelHook, f: impl FnOnce(&mut Self) -> R) -> R {
        let previous = self.cancel.replace(hook);
        let out = f(self);
        self.cancel = previous;
        out
    }

    /// [`HostError::Cancelled`] `{ sent: false }` when the hook is already cancelled: checked at
    /// the start of a flow, so a cancelled transaction neither numbers a request nor first sends
    /// the pending reversals (which would otherwise end in `QueueNotFlushed`).
    fn not_cancelled(&self) -> Result<(), HostError> {
        if self.cancel.as_ref().is_some_and(CancelHook::is_cancelled) {
            return Err(HostError::Cancelled { sent: false });
        }
        Ok(())
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
        if matches!(
            result,
            Err(HostError::Link(_))
                | Err(HostError::Garbled(_))
                | Err(HostError::Cancelled { sent: true })
        ) {
            // A late answer on this connection must not be read as the answer to the next one.
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
        let cancel = self.cancel.as_ref();
        let not_sent = HostError::Cancelled { sent: false };
        if cancel.is_some_and(CancelHook::is_cancelled) {
            return Err(not_sent);
        }
        if self.link.as_ref().is_some_and(Link::is_closed_by_peer) {
            log::info!("the host closed the idle connection; reconnecting");
            self.link = None;
        }
        if self.link.is_none() {
            let link =
                Link::connect_cancellable(&self.link_config, cancel).map_err(|e| match e {
                    LinkError::Cancelled { .. } => HostError::Cancelled { sent: false },
                    e => HostError::Link(e),
                })?;
            self.link = Some(link);
        }
        let link = self.link.as_mut().ok_or(LinkError::NotConnected)?;
        if cancel.is_some_and(CancelHook::is_cancelled) {
            return Err(not_sent);
        }
        link.send(bytes)?;
        // A response to an exchange already completed (a duplicated response) is skipped; at
        // most a few, so a host that repeats itself forever ends in a timeout, not a loop.
        for _ in 0..4 {
            let payload = link.receive_cancellable(cancel).map_err(|e| match e {
                LinkError::Cancelled { .. } => HostError::Cancelled { sent: true },
                e => HostError::Link(e),
            })?;
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

    /// hierarchy only if every KCV checks (all or nothing). Adopts the host's batch number (60.2).
    pub fn sign_on(&mut self) -> Result<HostResponse, HostError> {
        self.not_cancelled()?;
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
        self.not_cancelled()?;
        let (mut m, _) = self.base("0820")?;
        build(m.set_text(
            60,
            &field60(self.config.batch, msg_type::NONE, network::ECHO),
        ))?;
        HostResponse::from_message(self.exchange(m, false)?)?.approved()
    }

    /// Sale (0200, processing code 000000).
    pub fn sale(&mut self, req: &SaleRequest) -> Result<HostResponse, HostError> {
        self.sale_with_value_added(req, &ValueAddedData::default())
    }

    /// Sale carrying value-added data (merchant order reference, member id, coupon discount) in
    /// field 63 (`VAD` sub-elements, see [`crate::dialect`]); covered by the MAC like every
    /// field. Empty `value_added` sends the plain sale. Invalid data is
    /// [`HostError::InvalidRequest`] before anything is numbered or sent.
    pub fn sale_with_value_added(
        &mut self,
        req: &SaleRequest,
        value_added: &ValueAddedData,
    ) -> Result<HostResponse, HostError> {
        let f63 = value_added.to_field63()?;
        self.not_cancelled()?;
        let (mut m, _) = self.financial(
            "0200",
            dialect::PC_PURCHASE,
            req.amount,
            "00",
            msg_type::SALE,
        )?;
        self.card_fields(&mut m, &req.card, &req.pin)?;
        if let Some(f63) = f63 {
            build(m.set_text(63, &f63))?;
        }
        self.authorise(m)
    }

    /// Pre-authorisation (0100, processing code 030000, condition 06).
    pub fn pre_authorise(&mut self, req: &SaleRequest) -> Result<HostResponse, HostError> {
        self.pre_authorise_with_value_added(req, &ValueAddedData::default())
    }

    /// Pre-authorisation with value-added data in field 63 (as
    /// [`HostClient::sale_with_value_added`]).
    pub fn pre_authorise_with_value_added(
        &mut self,
        req: &SaleRequest,
        value_added: &ValueAddedData,
    ) -> Result<HostResponse, HostError> {
        let f63 = value_added.to_field63()?;
        self.not_cancelled()?;
        let (mut m, _) = self.financial(
            "0100",
            dialect::PC_PREAUTH,
            req.amount,
            "06",
            msg_type::PREAUTH,
        )?;
        self.card_fields(&mut m, &req.card, &req.pin)?;
        if let Some(f63) = f63 {
            build(m.set_text(63, &f63))?;
        }
        self.authorise(m)
    }

    /// Pre-authorisation completion (0200, 000000, condition 06, 38 and 61 of the pre-auth).
    pub fn complete_pre_authorisation(
        &mut self,
        req: &CompletionRequest,
    ) -> Result<HostResponse, HostError> {
        self.not_cancelled()?;
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
        self.not_cancelled()?;
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
        self.not_cancelled()?;
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
        self.not_cancelled()?;
        self.flush_reversals()?;
        let (mut m, _) = self.financial("0200", dialect::PC_BALANCE, 0, "00", msg_type::BALANCE)?;
        self.card_fields(&mut m, card, pin)?;
        HostResponse::from_message(self.exchange(m, true)?)?.approved()
    }
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
