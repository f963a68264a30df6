//! Secrets stay secret and value-added data travels: after sales by chip (online PIN), swipe
//! and a crash-free day of work, the journal file (and its WAL) holds no full PAN, no track 2
//! and no PIN block in clear; the merchant order reference, member id and coupon discount are
//! in the journal and the result record. Cancellation after the card was read charges nothing.

mod common;

use common::*;
use smartpos_journal::{TxnId, TxnState};
use smartpos_terminal::sim_devices::SimPresentation;
use smartpos_terminal::{CancelToken, SaleRequest, Status, TerminalError, ValueAdded};

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn journal_file_holds_no_pan_track2_or_pin_block_and_vas_data_travels() {
    let mut rig = Rig::new("secrets");
    let mut req = SaleRequest::card(9_000, "c1");
    req.tip = 500;
    req.value_added = ValueAdded {
        merchant_order_ref: Some("ORDER-2026-0042".into()),
        member_id: Some("MEMBER-77".into()),
        coupon_discount: 1_000,
    };
    rig.present(card("visa-cda-online-pin"), false);
    let out = rig.term.sale(&req, &CancelToken::new()).expect("chip sale");
    assert_eq!(out.status, Status::Approved);
    assert_eq!(out.total, 9_500);
    assert_eq!(out.value_added, req.value_added);
    let rec = rig.with_journal(|j| j.get(TxnId(out.txn_id)).expect("rec"));
    assert_eq!(rec.merchant_order_ref.as_deref(), Some("ORDER-2026-0042"));
    assert_eq!(rec.member_id.as_deref(), Some("MEMBER-77"));
    assert_eq!(rec.coupon_discount, 1_000);
    assert_eq!(
        rig.sim
            .ledger()
            .by_stan("12345678", out.stan)
            .expect("host")
            .amount,
        9_500
    );

    let track2 = "5413330089010434=30121011234567890";
    rig.h.reader.push(SimPresentation::Swipe(track2.into()));
    let swiped = rig
        .term
        .sale(&SaleRequest::card(1_000, "c1"), &CancelToken::new())
        .expect("swipe");
    assert_eq!(swiped.status, Status::Approved, "{swiped:?}");
    drop(rig.term.journal());

    let mut bytes = Vec::new();
    for suffix in ["", "-wal", "-shm"] {
        let p = rig
            .journal_path
            .with_file_name(format!("journal.db{suffix}"));
        if let Ok(b) = std::fs::read(&p) {
            bytes.extend(b);
        }
    }
    assert!(!bytes.is_empty());
    for pan in ["4761739001010010", "5413330089010434"] {
        assert!(
            !contains(&bytes, pan.as_bytes()),
            "full PAN {pan} in the journal file"
        );
        // Nor as BCD (tag 5A / field 2 packed).
        let bcd = hex::decode(pan).expect("bcd");
        assert!(!contains(&bytes, &bcd), "BCD PAN in the journal file");
    }
    assert!(
        !contains(&bytes, b"=30121011234567890"),
        "track 2 in the journal file"
    );
    assert!(!contains(&bytes, b"30121011234567890"));
    // Masked PANs are there.
    assert!(contains(&bytes, b"476173******0010"));
    // Debug output of the result records masks too.
    let dbg = format!("{out:?} {swiped:?}");
    assert!(!dbg.contains("4761739001010010") && !dbg.contains("5413330089010434"));
}

#[test]
fn cancel_after_the_card_was_read_charges_nothing() {
    let rig = Rig::new("cancel-mid");
    let cancel = CancelToken::new();
    // The PIN pad cancels during PIN entry (the attendant pressed cancel).
    struct CancellingPad(CancelToken);
    impl smartpos_terminal::devices::PinPad for CancellingPad {
        fn online_pin(
            &mut self,
            _pan: &str,
            _amount: u64,
        ) -> Result<smartpos_terminal::devices::EncryptedPin, smartpos_terminal::devices::PinPadError>
        {
            self.0.cancel();
            Err(smartpos_terminal::devices::PinPadError::Cancelled)
        }
        fn offline_pin(
            &mut self,
            _tries: Option<u8>,
        ) -> Result<smartpos_emv::cvm::PlaintextPinBlock, smartpos_terminal::devices::PinPadError>
        {
            self.0.cancel();
            Err(smartpos_terminal::devices::PinPadError::Cancelled)
        }
    }
    let s = rig.term.settings().clone();
    let dir = temp_dir("cancel-mid-2");
    let keys = key_store();
    let (emv_config, ca_keys) = emv();
    let (mut devices, h) = smartpos_terminal::sim_devices::sim_devices(None, keys.clone());
    devices.pin_pad = Box::new(CancellingPad(cancel.clone()));
    let mut term = smartpos_terminal::Terminal::open_with(
        &dir,
        devices,
        keys,
        &dir.join("j.db"),
        Box::new(smartpos_terminal::AllowAll(smartpos_terminal::OperatorId(
            "s".into(),
        ))),
        smartpos_terminal::OpenOptions {
            emv_config: Some(emv_config),
            ca_keys: Some(ca_keys),
            settings: Some(s),
            clock: None,
        },
    )
    .expect("open");
    h.reader.push(SimPresentation::Card {
        card: Box::new(card("visa-cda-online-pin")),
        contactless: false,
    });
    let e = term
        .sale(&SaleRequest::card(1_000, "c1"), &cancel)
        .unwrap_err();
    assert!(matches!(e, TerminalError::Cancelled { .. }), "{e}");
    let j = term.journal();
    let states: Vec<TxnState> = j
        .lock()
        .expect("journal")
        .list(&Default::default(), None, 10)
        .expect("list")
        .items
        .iter()
        .map(|r| r.state)
        .collect();
    assert_eq!(states, [TxnState::Aborted]);
    assert!(rig.sim.ledger().entries.is_empty(), "nothing sent");
}
