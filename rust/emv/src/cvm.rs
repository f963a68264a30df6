//! Cardholder verification (EMV Book 3 §10.5, Book 4 §6.3.4): the CVM list (8E) with amounts X
//! and Y and every condition code, offline plaintext and enciphered PIN (VERIFY P2 80 / 88),
//! online PIN through the PIN pad (the kernel never sees that PIN), signature, no CVM, the
//! combinations, "apply succeeding rule if unsuccessful", the PIN try counter and PIN bypass.

use crate::apdu::{Apdu, StatusWord};
use crate::kernel::{Ctx, Phase, TerminalServices, TransactionType};
use crate::oda::{self, aip};
use crate::transport::{CardTransport, Channel};
use crate::tvr::{TsiBit, TvrBit};
use zeroize::Zeroizing;

/// ISO 9564-1 format 2 plaintext PIN block (`2N PP PP .. FF`), as offline PIN needs (Book 3
/// §6.5.12). Zeroised on drop, never printed.
pub struct PlaintextPinBlock(Zeroizing<[u8; 8]>);

impl PlaintextPinBlock {
    /// From 4-12 PIN digits; `None` otherwise.
    pub fn from_digits(pin: &str) -> Option<PlaintextPinBlock> {
        let digits = pin.as_bytes();
        if !(4..=12).contains(&digits.len()) || !digits.iter().all(u8::is_ascii_digit) {
            return None;
        }
        let mut block = Zeroizing::new([0xFFu8; 8]);
        block[0] = 0x20 | digits.len() as u8;
        for (i, d) in digits.iter().enumerate() {
            let nib = d - b'0';
            let byte = &mut block[1 + i / 2];
            *byte = if i % 2 == 0 {
                (*byte & 0x0F) | (nib << 4)
            } else {
                (*byte & 0xF0) | nib
            };
        }
        Some(PlaintextPinBlock(block))
    }
    pub(crate) fn bytes(&self) -> &[u8; 8] {
        &self.0
    }
}

impl std::fmt::Debug for PlaintextPinBlock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PlaintextPinBlock(<masked>)")
    }
}

/// What the PIN pad returned for an offline PIN prompt.
#[derive(Debug)]
pub enum PinEntry {
    Entered(PlaintextPinBlock),
    /// The cardholder (or attendant) bypassed PIN entry (Book 4 §6.3.4.4).
    Bypassed,
    /// PIN pad absent or broken.
    PinPadFailure,
}

/// What the PIN pad returned for an online PIN prompt.
#[derive(Debug)]
pub enum OnlinePinEntry {
    /// The encrypted PIN block (e.g. ISO format 0/4 under a DUKPT or TPK key); opaque here.
    Entered(Vec<u8>),
    Bypassed,
    PinPadFailure,
}

/// One offline PIN prompt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OfflinePinPrompt {
    pub enciphered: bool,
    /// From the PIN try counter (9F17) or the last 63Cx.
    pub tries_left: Option<u8>,
}

/// The PIN pad (secure device). Online PIN never passes through the kernel in clear.
pub trait PinPad {
    fn offline_pin(&mut self, prompt: OfflinePinPrompt) -> PinEntry;
    fn online_pin(&mut self, pan: &str) -> OnlinePinEntry;
}

/// A PIN pad with a fixed answer, for replays and the command-line tool: offline PIN from
/// `pin` (bypass when `None`), online PIN as the given already-encrypted block.
pub struct FixedPinPad {
    pub pin: Option<zeroize::Zeroizing<String>>,
    pub online_block: Option<Vec<u8>>,
}

impl std::fmt::Debug for FixedPinPad {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FixedPinPad")
            .field("pin", &self.pin.as_ref().map(|_| "<masked>"))
            .finish()
    }
}

impl PinPad for FixedPinPad {
    fn offline_pin(&mut self, _: OfflinePinPrompt) -> PinEntry {
        match self
            .pin
            .as_deref()
            .and_then(|p| PlaintextPinBlock::from_digits(p))
        {
            Some(b) => PinEntry::Entered(b),
            None => PinEntry::Bypassed,
        }
    }
    fn online_pin(&mut self, _: &str) -> OnlinePinEntry {
        match &self.online_block {
            Some(b) => OnlinePinEntry::Entered(b.clone()),
            None => OnlinePinEntry::Bypassed,
        }
    }
}

/// A PIN pad that is not there.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoPinPad;
impl PinPad for NoPinPad {
    fn offline_pin(&mut self, _: OfflinePinPrompt) -> PinEntry {
        PinEntry::PinPadFailure
    }
    fn online_pin(&mut self, _: &str) -> OnlinePinEntry {
        OnlinePinEntry::PinPadFailure
    }
}

/// One CVM rule (Book 3 Annex C.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CvmRule {
    pub code: u8,
    pub condition: u8,
}

impl CvmRule {
    pub fn method(&self) -> u8 {
        self.code & 0x3F
    }
    pub fn apply_next_if_unsuccessful(&self) -> bool {
        self.code & 0x40 != 0
    }
}

/// A parsed CVM list: amounts X and Y (binary, implied currency exponent) and the rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CvmList {
    pub x: u32,
    pub y: u32,
    pub rules: Vec<CvmRule>,
}

impl CvmList {
    /// Parse 8E: X(4) Y(4) then rule pairs; the rule part must have an even length.
    pub fn parse(v: &[u8]) -> Option<CvmList> {
        if v.len() < 8 || v.len() % 2 != 0 {
            return None;
        }
        let (xy, rules) = v.split_at(8);
        let x = u32::from_be_bytes(xy.get(0..4)?.try_into().ok()?);
        let y = u32::from_be_bytes(xy.get(4..8)?.try_into().ok()?);
        let rules = rules
            .chunks_exact(2)
            .map(|c| CvmRule {
                code: c[0],
                condition: c[1],
            })
            .collect();
        Some(CvmList { x, y, rules })
    }
}

/// CVM method codes (Book 3 Annex C.3 Table 39).
pub mod method {
    pub const FAIL: u8 = 0x00;
    pub const PLAINTEXT_PIN: u8 = 0x01;
    pub const ONLINE_PIN: u8 = 0x02;
    pub const PLAINTEXT_PIN_AND_SIGNATURE: u8 = 0x03;
    pub const ENCIPHERED_PIN: u8 = 0x04;
    pub const ENCIPHERED_PIN_AND_SIGNATURE: u8 = 0x05;
    pub const SIGNATURE: u8 = 0x1E;
    pub const NO_CVM: u8 = 0x1F;
}

/// CVM results byte 3 (Book 4 Annex A4).
const RESULT_UNKNOWN: u8 = 0x00;
const RESULT_FAILED: u8 = 0x01;
const RESULT_SUCCESSFUL: u8 = 0x02;

fn terminal_supports(ctx: &Ctx, m: u8) -> bool {
    let t = &ctx.cfg.terminal;
    match m {
        method::FAIL => true,
        method::PLAINTEXT_PIN => t.supports_plaintext_pin(),
        method::ONLINE_PIN => t.supports_enciphered_online_pin(),
        method::PLAINTEXT_PIN_AND_SIGNATURE => t.supports_plaintext_pin() && t.supports_signature(),
        method::ENCIPHERED_PIN => t.supports_enciphered_offline_pin(),
        method::ENCIPHERED_PIN_AND_SIGNATURE => {
            t.supports_enciphered_offline_pin() && t.supports_signature()
        }
        method::SIGNATURE => t.supports_signature(),
        method::NO_CVM => t.supports_no_cvm(),
        _ => false,
    }
}

fn recognised(m: u8) -> bool {
    matches!(m, 0x00..=0x05 | 0x1E | 0x1F) || (0x20..=0x3E).contains(&m)
}

/// Book 3 Annex C.3 Table 40: is the condition of a rule satisfied? `None` = condition code not
/// understood (the rule is skipped).
fn condition_satisfied(ctx: &Ctx, list: &CvmList, rule: CvmRule) -> Option<bool> {
    let t = &ctx.cfg.terminal;
    let tt = ctx.params.transaction_type;
    let cash = tt == TransactionType::Cash;
    let unattended_cash = cash && t.is_unattended();
    let manual_cash = cash && !t.is_unattended();
    let cashback = tt == TransactionType::PurchaseWithCashback;
    let same_currency = ctx
        .store
        .get(0x9F42)
        .is_some_and(|c| c == t.currency_code.as_slice());
    let amount = ctx.params.amount;
    Some(match rule.condition {
        0x00 => true,
        0x01 => unattended_cash,
        0x02 => !unattended_cash && !manual_cash && !cashback,
        0x03 => terminal_supports(ctx, rule.method()),
        0x04 => manual_cash,
        0x05 => cashback,
        0x06 => same_currency && amount < u64::from(list.x),
        0x07 => same_currency && amount > u64::from(list.x),
        0x08 => same_currency && amount < u64::from(list.y),
        0x09 => same_currency && amount > u64::from(list.y),
        _ => return None,
    })
}

/// Result of performing one CVM.
enum Performed {
    Success(u8),
    Failed,
}

/// Book 3 §10.5.
pub(crate) fn perform<T: CardTransport>(
    ctx: &mut Ctx,
    ch: &mut Channel<T>,
    pin_pad: &mut dyn PinPad,
    services: &mut dyn TerminalServices,
) -> Phase<()> {
    if ctx.aip[0] & aip::CARDHOLDER_VERIFICATION == 0 {
        ctx.cvm_results = [0x3F, 0x00, 0x00];
        return Ok(());
    }
    let Some(list) = ctx
        .store
        .get(0x8E)
        .and_then(CvmList::parse)
        .filter(|l| !l.rules.is_empty())
    else {
        // §10.5: no (usable) CVM list: ICC data missing, no CVM performed.
        ctx.set(TvrBit::IccDataMissing);
        ctx.cvm_results = [0x3F, 0x00, 0x00];
        return Ok(());
    };
    ctx.tsi(TsiBit::CardholderVerificationPerformed);
    let mut pin_bypassed = false;
    let mut last_failed: Option<CvmRule> = None;
    for rule in list.rules.clone() {
        match condition_satisfied(ctx, &list, rule) {
            Some(true) => {}
            _ => continue,
        }
        let m = rule.method();
        let outcome = if !recognised(m) {
            ctx.set(TvrBit::UnrecognisedCvm);
            Performed::Failed
        } else if m == method::FAIL {
            Performed::Failed
        } else if !terminal_supports(ctx, m) {
            if matches!(
                m,
                method::PLAINTEXT_PIN
                    | method::ENCIPHERED_PIN
                    | method::PLAINTEXT_PIN_AND_SIGNATURE
                    | method::ENCIPHERED_PIN_AND_SIGNATURE
                    | method::ONLINE_PIN
            ) {
                ctx.set(TvrBit::PinPadNotPresentOrNotWorking);
            }
            Performed::Failed
        } else {
            perform_method(ctx, ch, pin_pad, services, m, &mut pin_bypassed)?
        };
        match outcome {
            Performed::Success(result) => {
                ctx.cvm_results = [rule.code, rule.condition, result];
                return Ok(());
            }
            Performed::Failed => {
                last_failed = Some(rule);
                if rule.apply_next_if_unsuccessful() {
                    continue;
                }
                break;
            }
        }
    }
    ctx.set(TvrBit::CardholderVerificationNotSuccessful);
    ctx.cvm_results = match last_failed {
        Some(r) => [r.code, r.condition, RESULT_FAILED],
        None => [0x3F, 0x00, RESULT_FAILED],
    };
    Ok(())
}

fn perform_method<T: CardTransport>(
    ctx: &mut Ctx,
    ch: &mut Channel<T>,
    pin_pad: &mut dyn PinPad,
    services: &mut dyn TerminalServices,
    m: u8,
    pin_bypassed: &mut bool,
) -> Phase<Performed> {
    match m {
        method::NO_CVM => Ok(Performed::Success(RESULT_SUCCESSFUL)),
        method::SIGNATURE => {
            ctx.signature_required = true;
            Ok(Performed::Success(RESULT_UNKNOWN))
        }
        method::ONLINE_PIN => {
            if *pin_bypassed {
                ctx.set(TvrBit::PinNotEntered);
                return Ok(Performed::Failed);
            }
            if !ctx.cfg.terminal.pin_pad_present {
                ctx.set(TvrBit::PinPadNotPresentOrNotWorking);
                return Ok(Performed::Failed);
            }
            let pan = ctx.pan().unwrap_or_default();
            match pin_pad.online_pin(&pan) {
                OnlinePinEntry::Entered(block) => {
                    ctx.online_pin_block = Some(block);
                    ctx.set(TvrBit::OnlinePinEntered);
                    Ok(Performed::Success(RESULT_UNKNOWN))
                }
                OnlinePinEntry::Bypassed => {
                    *pin_bypassed = ctx.cfg.terminal.subsequent_pin_bypass;
                    ctx.set(TvrBit::PinNotEntered);
                    Ok(Performed::Failed)
                }
                OnlinePinEntry::PinPadFailure => {
                    ctx.set(TvrBit::PinPadNotPresentOrNotWorking);
                    Ok(Performed::Failed)
                }
            }
        }
        method::PLAINTEXT_PIN
        | method::PLAINTEXT_PIN_AND_SIGNATURE
        | method::ENCIPHERED_PIN
        | method::ENCIPHERED_PIN_AND_SIGNATURE => {
            let enciphered = matches!(
                m,
                method::ENCIPHERED_PIN | method::ENCIPHERED_PIN_AND_SIGNATURE
            );
            let with_signature = matches!(
                m,
                method::PLAINTEXT_PIN_AND_SIGNATURE | method::ENCIPHERED_PIN_AND_SIGNATURE
            );
            if *pin_bypassed {
                ctx.set(TvrBit::PinNotEntered);
                return Ok(Performed::Failed);
            }
            let r = offline_pin(ctx, ch, pin_pad, services, enciphered, pin_bypassed)?;
            if matches!(r, Performed::Success(_)) && with_signature {
                ctx.signature_required = true;
                return Ok(Performed::Success(RESULT_UNKNOWN));
            }
            Ok(r)
        }
        _ => {
            // Proprietary CVMs (20-3E) are recognised but not supported by this terminal.
            Ok(Performed::Failed)
        }
    }
}

/// Book 3 §10.5.1 / Book 4 §6.3.4.1: offline PIN with the PIN try counter and retries.
fn offline_pin<T: CardTransport>(
    ctx: &mut Ctx,
    ch: &mut Channel<T>,
    pin_pad: &mut dyn PinPad,
    services: &mut dyn TerminalServices,
    enciphered: bool,
    pin_bypassed: &mut bool,
) -> Phase<Performed> {
    if !ctx.cfg.terminal.pin_pad_present {
        ctx.set(TvrBit::PinPadNotPresentOrNotWorking);
        return Ok(Performed::Failed);
    }
    // PIN Try Counter (9F17) by GET DATA; optional.
    let resp = ch.transmit(&Apdu::get_data(0x9F17))?;
    let mut tries_left = if resp.is_ok() {
        smartpos_tlv::find(&resp.data, smartpos_tlv::Tag(0x9F17))
            .ok()
            .flatten()
            .and_then(|t| t.value.first().copied())
    } else {
        None
    };
    if tries_left == Some(0) {
        ctx.set(TvrBit::PinTryLimitExceeded);
        return Ok(Performed::Failed);
    }
    let key = if enciphered {
        match oda::pin_encipherment_key(ctx) {
            Ok(k) => Some(k),
            Err(_) => {
                // No usable ICC key: the CVM cannot be performed (Book 3 §10.5.1).
                return Ok(Performed::Failed);
            }
        }
    } else {
        None
    };
    // At most the card's tries (and never more than 15 prompts).
    for _ in 0..15 {
        let entry = pin_pad.offline_pin(OfflinePinPrompt {
            enciphered,
            tries_left,
        });
        let block = match entry {
            PinEntry::Entered(b) => b,
            PinEntry::Bypassed => {
                *pin_bypassed = ctx.cfg.terminal.subsequent_pin_bypass;
                ctx.set(TvrBit::PinNotEntered);
                return Ok(Performed::Failed);
            }
            PinEntry::PinPadFailure => {
                ctx.set(TvrBit::PinPadNotPresentOrNotWorking);
                return Ok(Performed::Failed);
            }
        };
        let command = match &key {
            None => Apdu::verify(0x80, block.bytes().to_vec()),
            Some(key) => {
                let resp = ch.transmit(&Apdu::get_challenge())?;
                let challenge = match resp.data.get(..8) {
                    Some(c) if resp.is_ok() && resp.data.len() == 8 => c.to_vec(),
                    _ => return Ok(Performed::Failed),
                };
                // Book 2 §7.1: 7F | PIN block | ICC UN | random pad, N bytes, enciphered.
                let n = key.modulus_len();
                let mut plain = Zeroizing::new(Vec::with_capacity(n));
                plain.push(0x7F);
                plain.extend_from_slice(block.bytes());
                plain.extend_from_slice(&challenge);
                let mut pad = vec![0u8; n.saturating_sub(17)];
                services.random_padding(&mut pad);
                plain.extend_from_slice(&pad);
                match key.public_op(&plain) {
                    Ok(c) => Apdu::verify(0x88, c),
                    Err(_) => return Ok(Performed::Failed),
                }
            }
        };
        let resp = ch.transmit(&command)?;
        match resp.status() {
            StatusWord::Success => return Ok(Performed::Success(RESULT_SUCCESSFUL)),
            StatusWord::PinTriesLeft(0)
            | StatusWord::AuthenticationBlocked
            | StatusWord::ReferenceDataInvalidated => {
                ctx.set(TvrBit::PinTryLimitExceeded);
                return Ok(Performed::Failed);
            }
            StatusWord::PinTriesLeft(n) => {
                tries_left = Some(n);
                continue;
            }
            _ => return Ok(Performed::Failed),
        }
    }
    Ok(Performed::Failed)
}
