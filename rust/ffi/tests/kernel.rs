//! Whole transactions through the binding surface: `EmvKernel` over a `CardReader` that talks to
//! the virtual cards of smartpos-sim (real cryptograms, ODA under the test PKI), the way a Kotlin
//! reader drives it. Outcomes, TVR/TSI, CVM results and field 55 are the kernel's (EMV Book 3
//! §10, Contactless Book A §6); these tests check they cross the surface intact, and that reader
//! failures, cancellation and PIN pad failures arrive as their own errors.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use smartpos_emv::{Apdu, CaKeyStore, CardTransport, TerminalConfig};
use smartpos_ffi::{
    CancellationHandle, CardReader, EmvInterface, EmvKernel, EmvOutcome, EmvTransactionRequest,
    EmvTransactionType, HostAuthorisation, OfflinePinEntry, OnlinePinEntry, PinPad, SmartPosError,
    native,
};
use smartpos_sim::contactless::{self as cl, Profile};

fn request(amount: u64) -> EmvTransactionRequest {
    EmvTransactionRequest {
        amount,
        amount_other: 0,
        transaction_type: EmvTransactionType::Purchase,
        date: "261121".into(),
        time: "101500".into(),
        unpredictable_number: vec![0x12, 0x34, 0x56, 0x78],
        sequence_counter: 1,
        merchant_forced_online: false,
    }
}

/// Contact kernel trusting the simulator PKI (as `smartpos emv run` does).
fn contact_kernel() -> EmvKernel {
    let pki = smartpos_sim::pki::TestPki::shared().expect("pki");
    let mut cfg = TerminalConfig::demo().expect("demo");
    cfg.terminal.revoked_certificates = pki.revocation_list();
    EmvKernel::from_parts(cfg, pki.key_store().expect("keys"), None).expect("kernel")
}

/// A virtual card behind the binding's reader interface; counts commands and can fail or
/// cancel at a chosen exchange.
struct Reader<C> {
    card: Mutex<C>,
    seen: AtomicU32,
    fail_at: Option<u32>,
    cancel_at: Option<(u32, Arc<CancellationHandle>)>,
}

impl<C> Reader<C> {
    fn new(card: C) -> Self {
        Reader {
            card: Mutex::new(card),
            seen: AtomicU32::new(0),
            fail_at: None,
            cancel_at: None,
        }
    }
}

impl<C: CardTransport + Send> CardReader for Reader<C> {
    fn transceive(&self, apdu: Vec<u8>) -> Result<Vec<u8>, SmartPosError> {
        let n = self.seen.fetch_add(1, Ordering::SeqCst);
        if self.fail_at == Some(n) {
            return Err(SmartPosError::Transport {
                reason: "tag lost".into(),
            });
        }
        if let Some((at, handle)) = &self.cancel_at {
            if *at == n {
                handle.cancel();
            }
        }
        let command = Apdu::decode(&apdu).expect("the kernel sends well-formed APDUs");
        let mut card = self.card.lock().expect("card");
        card.exchange(&command)
            .map(|r| r.to_bytes())
            .map_err(|e| SmartPosError::Transport {
                reason: e.to_string(),
            })
    }
}

/// Shares one reader between calls (the kernel takes the reader by value, as UniFFI does).
struct Shared<R>(Arc<R>);
impl<R: CardReader> CardReader for Shared<R> {
    fn transceive(&self, apdu: Vec<u8>) -> Result<Vec<u8>, SmartPosError> {
        self.0.transceive(apdu)
    }
}

struct Pad {
    pin: Option<&'static str>,
    throws: bool,
    calls: AtomicU32,
}

impl PinPad for Pad {
    fn offline_pin(
        &self,
        _enciphered: bool,
        _tries_left: Option<u8>,
    ) -> Result<OfflinePinEntry, SmartPosError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if self.throws {
            return Err(SmartPosError::Transport {
                reason: "PIN pad unplugged".into(),
            });
        }
        Ok(match self.pin {
            Some(p) => OfflinePinEntry::Entered { digits: p.into() },
            None => OfflinePinEntry::Bypassed,
        })
    }
    fn online_pin(&self, pan: String) -> Result<OnlinePinEntry, SmartPosError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        assert!(
            pan.len() >= 12,
            "the PIN pad gets the full PAN for format 0"
        );
        if self.throws {
            return Err(SmartPosError::Transport {
                reason: "PIN pad unplugged".into(),
            });
        }
        Ok(OnlinePinEntry::Entered {
            encrypted_block: vec![0x5A; 8],
        })
    }
}

fn pad(pin: Option<&'static str>) -> Box<Pad> {
    Box::new(Pad {
        pin,
        throws: false,
        calls: AtomicU32::new(0),
    })
}

fn contact_card(name: &str) -> Arc<Reader<smartpos_sim::card::VirtualCard>> {
    Arc::new(Reader::new(
        smartpos_sim::card::VirtualCard::from_profile(name).expect("profile"),
    ))
}

#[test]
fn contact_online_pin_approved_with_a_real_arpc() {
    let kernel = contact_kernel();
    let reader = contact_card("visa-cda-online-pin");
    let tx = kernel
        .start_contact(
            Box::new(Shared(reader.clone())),
            request(1000),
            pad(Some("1234")),
            CancellationHandle::new(),
        )
        .expect("first half");
    assert!(tx.awaiting_host());
    let first = tx.result().expect("snapshot");
    assert_eq!(first.outcome, EmvOutcome::OnlineRequest);
    assert_eq!(first.interface, EmvInterface::Contact);
    assert_eq!(first.cvm, "online_pin");
    // CVM Results 02 00 00: enciphered PIN verified online, always, unknown (Book 3 Annex C3).
    assert_eq!(first.cvm_results, "020000", "{first:?}");
    assert_eq!(tx.online_pin_block(), Some(vec![0x5A; 8]));
    assert_eq!(first.pan_masked.as_deref(), Some("476173******0010"));
    assert!(first.field55.contains("9F26"), "ARQC in field 55");
    let host = {
        let field55 = hex::decode(&first.field55).expect("hex");
        let resp = smartpos_sim::card::issuer::host_response(
            smartpos_sim::card::Scheme::Visa,
            &field55,
            true,
            Vec::new(),
        )
        .expect("issuer");
        HostAuthorisation {
            approved: resp.approved,
            response_code: resp.arc,
            issuer_authentication_data: resp.issuer_authentication_data,
            issuer_scripts: Vec::new(),
        }
    };
    let done = tx.complete(host.clone()).expect("completion");
    assert_eq!(done.outcome, EmvOutcome::Approved, "{done:?}");
    assert!(done.oda_ok);
    assert_eq!(done.oda, "cda");
    assert!(!tx.awaiting_host());
    // A second completion is refused, and the result stays the final one.
    assert!(matches!(
        tx.complete(host),
        Err(SmartPosError::InvalidInput { .. })
    ));
    assert_eq!(tx.result().expect("final").outcome, EmvOutcome::Approved);
}

#[test]
fn contact_online_decline_and_unable_to_go_online() {
    let kernel = contact_kernel();
    let tx = kernel
        .start_contact(
            Box::new(Shared(contact_card("visa-sda-signature"))),
            request(1000),
            pad(None),
            CancellationHandle::new(),
        )
        .expect("first half");
    assert!(tx.awaiting_host());
    // TAC-default has "exceeds floor limit": default action analysis gives an AAC.
    let r = tx.unable_to_go_online().expect("completion");
    assert_eq!(r.outcome, EmvOutcome::Declined, "{r:?}");
    assert!(r.ui_messages.contains(&"unable_to_go_online".to_string()));
}

#[test]
fn contact_offline_pin_from_the_pin_pad_callback() {
    let kernel = contact_kernel();
    let pin_pad = pad(Some("1234"));
    let tx = kernel
        .start_contact(
            Box::new(Shared(contact_card("visa-dda-offline-pin"))),
            request(1000),
            pin_pad,
            CancellationHandle::new(),
        )
        .expect("first half");
    let r = tx.result().expect("result");
    // Plaintext PIN verified by ICC (01), always (00), successful (02).
    assert_eq!(r.cvm_results, "010002", "{r:?}");
    assert!(r.ui_messages.contains(&"enter_pin".to_string()));
    assert_eq!(r.tsi.as_deref().map(str::len), Some(4));
}

#[test]
fn a_throwing_pin_pad_is_a_failed_pin_pad_not_an_error() {
    let kernel = contact_kernel();
    let tx = kernel
        .start_contact(
            Box::new(Shared(contact_card("visa-dda-offline-pin"))),
            request(1000),
            Box::new(Pad {
                pin: Some("1234"),
                throws: true,
                calls: AtomicU32::new(0),
            }),
            CancellationHandle::new(),
        )
        .expect("the transaction goes on");
    let r = tx.result().expect("result");
    assert!(
        r.ui_messages.contains(&"pin_pad_failed".to_string()),
        "{r:?}"
    );
    // TVR byte 3 b5: PIN entry required, PIN pad not present or not working (Book 3 Annex C5).
    let tvr = hex::decode(&r.tvr).expect("hex");
    assert_eq!(tvr[2] & 0x10, 0x10, "TVR {}", r.tvr);
}

#[test]
fn reader_failure_mid_transaction_is_a_transport_error() {
    let kernel = contact_kernel();
    let mut reader = Reader::new(
        smartpos_sim::card::VirtualCard::from_profile("visa-dda-offline-pin").expect("profile"),
    );
    reader.fail_at = Some(3);
    let err = kernel
        .start_contact(
            Box::new(Shared(Arc::new(reader))),
            request(1000),
            pad(Some("1234")),
            CancellationHandle::new(),
        )
        .err()
        .expect("error");
    assert_eq!(
        err,
        SmartPosError::Transport {
            reason: "tag lost".into()
        }
    );
}

fn contactless_kernel(profile: Profile) -> (EmvKernel, Arc<Reader<cl::VirtualCard>>) {
    let pki = Arc::new(cl::pki::TestPki::generate(profile.scheme.rid()).expect("pki"));
    let mut keys = CaKeyStore::new();
    pki.install(&mut keys).expect("install");
    let kernel =
        EmvKernel::from_parts(TerminalConfig::demo().expect("demo"), keys, None).expect("kernel");
    let card = cl::VirtualCard::new(profile, pki).expect("card");
    (kernel, Arc::new(Reader::new(card)))
}

#[test]
fn contactless_visa_tap_approved_offline_with_fdda() {
    let (kernel, reader) = contactless_kernel(Profile::visa_card());
    let r = kernel
        .tap(
            Box::new(Shared(reader.clone())),
            request(1000),
            CancellationHandle::new(),
        )
        .expect("tap");
    assert_eq!(r.interface, EmvInterface::Contactless);
    assert_eq!(r.outcome, EmvOutcome::Approved, "{r:?}");
    assert_eq!(r.outcome_name, "APPROVED");
    assert_eq!(r.kernel.as_deref(), Some("C-3"));
    assert_eq!(r.oda, "fdda");
    assert!(r.oda_ok);
    assert!(r.field55.contains("9F26"));
    assert_eq!(r.exchanges, reader.seen.load(Ordering::SeqCst));
    assert!(r.tsi.is_none());
}

#[test]
fn contactless_online_only_card_asks_for_authorisation() {
    let (kernel, reader) = contactless_kernel(Profile::visa_online_only());
    let r = kernel
        .tap(
            Box::new(Shared(reader)),
            request(1000),
            CancellationHandle::new(),
        )
        .expect("tap");
    assert_eq!(r.outcome, EmvOutcome::OnlineRequest, "{r:?}");
    assert!(!r.field55.is_empty());
}

#[test]
fn contactless_mastercard_cda_and_decline() {
    let (kernel, reader) = contactless_kernel(Profile::mastercard_card());
    let r = kernel
        .tap(
            Box::new(Shared(reader)),
            request(1000),
            CancellationHandle::new(),
        )
        .expect("tap");
    assert_eq!(r.kernel.as_deref(), Some("C-2"));
    assert_eq!(r.oda, "cda");
    let mut declining = Profile::visa_card();
    declining.decline = true;
    let (kernel, reader) = contactless_kernel(declining);
    let r = kernel
        .tap(
            Box::new(Shared(reader)),
            request(1000),
            CancellationHandle::new(),
        )
        .expect("tap");
    assert_eq!(r.outcome, EmvOutcome::Declined, "{r:?}");
}

#[test]
fn cancellation_stops_the_tap_before_the_next_apdu() {
    let (kernel, _) = contactless_kernel(Profile::visa_card());
    let pki = Arc::new(cl::pki::TestPki::generate(Profile::visa_card().scheme.rid()).expect("pki"));
    let cancel = CancellationHandle::new();
    let mut reader = Reader::new(cl::VirtualCard::new(Profile::visa_card(), pki).expect("card"));
    reader.cancel_at = Some((1, cancel.clone()));
    let reader = Arc::new(reader);
    let err = kernel
        .tap(Box::new(Shared(reader.clone())), request(1000), cancel)
        .expect_err("cancelled");
    assert_eq!(
        err,
        SmartPosError::Cancelled {
            exchanges: 2,
            step: "before APDU 3".into()
        }
    );
    assert_eq!(
        reader.seen.load(Ordering::SeqCst),
        2,
        "no APDU after the cancel"
    );
}

#[test]
fn tap_over_a_registered_native_reader_is_the_same_tap() {
    let (kernel, reader) = contactless_kernel(Profile::visa_card());
    let handle = native::register_reader(Arc::new(Shared(reader.clone())));
    let native = kernel
        .tap_native(handle, request(1000), CancellationHandle::new())
        .expect("tap");
    assert_eq!(native.outcome, EmvOutcome::Approved);
    assert!(smartpos_ffi::native::release_native_reader(handle));
    assert!(matches!(
        kernel.tap_native(handle, request(1000), CancellationHandle::new()),
        Err(SmartPosError::InvalidInput { .. })
    ));
}

#[test]
fn bad_configuration_is_its_own_error() {
    let err = EmvKernel::new("{".into(), vec![], None)
        .err()
        .expect("refused");
    assert!(
        matches!(err, SmartPosError::InvalidConfiguration { ref what, .. } if what == "terminal config"),
        "{err}"
    );
    let demo = smartpos_emv::config::DEMO_TERMINAL_JSON.to_string();
    let err = EmvKernel::new(demo, vec!["{\"keys\": 3}".into()], None)
        .err()
        .expect("refused");
    assert!(
        matches!(err, SmartPosError::InvalidConfiguration { ref what, .. } if what == "ca key file 0"),
        "{err}"
    );
    assert!(EmvKernel::demo().is_ok());
}
