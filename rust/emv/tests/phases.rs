//! Per-phase checks: CVM condition codes (Book 3 Annex C.3 Table 40), random transaction
//! selection (Book 3 §10.6.2), ODA failure paths (9F4A, revocation list, CA key expiry),
//! CDA offline approval, advice, offline-only terminals, and the result summary.
mod common;
use common::*;
use smartpos_emv::cvm::{CvmList, CvmRule};
use smartpos_emv::risk::randomly_selected;
use smartpos_emv::*;

fn set(p: &mut Profile, tag: u32, v: &[u8]) {
    p.record1.retain(|(t, _)| *t != tag);
    p.record1.push((tag, v.to_vec()));
}

fn run(
    profile: Profile,
    cfg: TerminalConfig,
    txn: impl FnOnce(&mut TransactionParams),
    host: Option<HostResponse>,
) -> TransactionResult {
    let kernel = kernel_with(cfg);
    let mut card = VirtualCard::new(profile);
    let mut p = params(1000);
    txn(&mut p);
    let mut pin = TestPinPad {
        online: Some(vec![0xEE; 8]),
        ..Default::default()
    };
    let mut svc = TestServices::default();
    match start(&kernel, &mut card, p, &mut pin, &mut svc) {
        Step::Done(r) => *r,
        Step::Online(req) => match host {
            Some(h) => req.complete(&mut card, &h),
            None => req.unable_to_go_online(&mut card),
        },
    }
}

#[test]
fn cvm_condition_codes() {
    // X = 20.00, Y = 50.00 (binary, minor units); rule under test, then signature always.
    struct C {
        cond: u8,
        tt: TransactionType,
        amount: u64,
        terminal_type: u8,
        currency: [u8; 2],
        satisfied: bool,
    }
    let rows = [
        C {
            cond: 0x00,
            tt: TransactionType::Purchase,
            amount: 1000,
            terminal_type: 0x22,
            currency: [1, 0x56],
            satisfied: true,
        },
        C {
            cond: 0x01,
            tt: TransactionType::Cash,
            amount: 1000,
            terminal_type: 0x14,
            currency: [1, 0x56],
            satisfied: true,
        },
        C {
            cond: 0x01,
            tt: TransactionType::Cash,
            amount: 1000,
            terminal_type: 0x22,
            currency: [1, 0x56],
            satisfied: false,
        },
        C {
            cond: 0x02,
            tt: TransactionType::Purchase,
            amount: 1000,
            terminal_type: 0x22,
            currency: [1, 0x56],
            satisfied: true,
        },
        C {
            cond: 0x02,
            tt: TransactionType::PurchaseWithCashback,
            amount: 1000,
            terminal_type: 0x22,
            currency: [1, 0x56],
            satisfied: false,
        },
        C {
            cond: 0x02,
            tt: TransactionType::Cash,
            amount: 1000,
            terminal_type: 0x22,
            currency: [1, 0x56],
            satisfied: false,
        },
        C {
            cond: 0x03,
            tt: TransactionType::Purchase,
            amount: 1000,
            terminal_type: 0x22,
            currency: [1, 0x56],
            satisfied: true,
        },
        C {
            cond: 0x04,
            tt: TransactionType::Cash,
            amount: 1000,
            terminal_type: 0x22,
            currency: [1, 0x56],
            satisfied: true,
        },
        C {
            cond: 0x04,
            tt: TransactionType::Purchase,
            amount: 1000,
            terminal_type: 0x22,
            currency: [1, 0x56],
            satisfied: false,
        },
        C {
            cond: 0x05,
            tt: TransactionType::PurchaseWithCashback,
            amount: 1000,
            terminal_type: 0x22,
            currency: [1, 0x56],
            satisfied: true,
        },
        C {
            cond: 0x06,
            tt: TransactionType::Purchase,
            amount: 1999,
            terminal_type: 0x22,
            currency: [1, 0x56],
            satisfied: true,
        },
        C {
            cond: 0x06,
            tt: TransactionType::Purchase,
            amount: 2000,
            terminal_type: 0x22,
            currency: [1, 0x56],
            satisfied: false,
        },
        C {
            cond: 0x06,
            tt: TransactionType::Purchase,
            amount: 1000,
            terminal_type: 0x22,
            currency: [0x08, 0x40],
            satisfied: false,
        },
        C {
            cond: 0x07,
            tt: TransactionType::Purchase,
            amount: 2001,
            terminal_type: 0x22,
            currency: [1, 0x56],
            satisfied: true,
        },
        C {
            cond: 0x07,
            tt: TransactionType::Purchase,
            amount: 2000,
            terminal_type: 0x22,
            currency: [1, 0x56],
            satisfied: false,
        },
        C {
            cond: 0x08,
            tt: TransactionType::Purchase,
            amount: 4999,
            terminal_type: 0x22,
            currency: [1, 0x56],
            satisfied: true,
        },
        C {
            cond: 0x09,
            tt: TransactionType::Purchase,
            amount: 5001,
            terminal_type: 0x22,
            currency: [1, 0x56],
            satisfied: true,
        },
        C {
            cond: 0x09,
            tt: TransactionType::Purchase,
            amount: 4999,
            terminal_type: 0x22,
            currency: [1, 0x56],
            satisfied: false,
        },
        C {
            cond: 0x0A,
            tt: TransactionType::Purchase,
            amount: 1000,
            terminal_type: 0x22,
            currency: [1, 0x56],
            satisfied: false,
        },
    ];
    for (i, c) in rows.iter().enumerate() {
        let mut p = Profile::default();
        set(
            &mut p,
            0x8E,
            &hex::decode(format!("000007D0000013881F{:02X}1E00", c.cond)).unwrap(),
        );
        set(&mut p, 0x9F42, &c.currency);
        let mut cfg = config();
        cfg.terminal.terminal_type = c.terminal_type;
        let amount = c.amount;
        let tt = c.tt;
        let r = run(
            p,
            cfg,
            |x| {
                x.amount = amount;
                x.transaction_type = tt;
            },
            Some(host_approve()),
        );
        let want = if c.satisfied {
            format!("1F{:02X}02", c.cond)
        } else {
            "1E0000".to_string()
        };
        assert_eq!(r.cvm_results, want, "row {i} (condition {:02X})", c.cond);
        assert_eq!(r.signature_required, !c.satisfied, "row {i}");
    }
}

#[test]
fn cvm_list_parsing_and_pin_block() {
    let l = CvmList::parse(&hex::decode("000007D0000013884103 1E03".replace(' ', "")).unwrap())
        .unwrap();
    assert_eq!((l.x, l.y), (2000, 5000));
    assert_eq!(
        l.rules,
        vec![
            CvmRule {
                code: 0x41,
                condition: 0x03
            },
            CvmRule {
                code: 0x1E,
                condition: 0x03
            }
        ]
    );
    assert!(l.rules[0].apply_next_if_unsuccessful() && l.rules[0].method() == 1);
    assert!(CvmList::parse(&[0; 7]).is_none());
    assert!(CvmList::parse(&[0; 11]).is_none());
    assert!(PlaintextPinBlock::from_digits("123").is_none());
    assert!(PlaintextPinBlock::from_digits("12a4").is_none());
    let b = PlaintextPinBlock::from_digits("1234").unwrap();
    assert_eq!(format!("{b:?}"), "PlaintextPinBlock(<masked>)");
}

#[test]
fn random_selection_table() {
    // (amount, floor, threshold, target, max, draw, selected)
    let rows = [
        (100, 10_000, 5_000, 25, 75, 25, true),
        (100, 10_000, 5_000, 25, 75, 26, false),
        (7_500, 10_000, 5_000, 25, 75, 50, true), // 25 + 50 * 2500/5000 = 50
        (7_500, 10_000, 5_000, 25, 75, 51, false),
        (10_000, 10_000, 5_000, 99, 99, 1, false), // at the floor limit: never random
        (0, 0, 0, 0, 0, 1, false),
    ];
    for (i, (a, f, t, tp, mx, d, want)) in rows.iter().enumerate() {
        assert_eq!(
            randomly_selected(*a, *f, *t, *tp, *mx, *d),
            *want,
            "row {i}"
        );
    }
}

#[test]
fn cda_offline_approval_verifies_the_tc_signature() {
    let mut p = Profile {
        oda: CardOda::Cda,
        card_decision: 0x40,
        ..Profile::default()
    };
    set(&mut p, 0x8E, &hex::decode("00000000000000001F00").unwrap());
    let mut cfg = config();
    cfg.aids[0].floor_limit = 100_000;
    let r = run(p, cfg, |_| {}, None);
    assert_eq!(r.decision, Decision::Approved, "{:?}", r.end_reason);
    assert_eq!(r.oda, OdaMethod::Cda);
    assert!(r.oda_ok, "{:?}", r.oda_failure);
    assert_eq!(r.tvr.hex(), "0000000000");
    assert_eq!(r.tsi.hex(), "E800");
    // The GENERATE AC asked for CDA (P1 = 50).
    assert!(
        r.trace
            .entries
            .iter()
            .any(|e| e.command.starts_with("80AE5000"))
    );
}

#[test]
fn cda_format1_answer_fails_cda() {
    let mut p = Profile {
        oda: CardOda::Cda,
        card_decision: 0x40,
        ac_format2: false,
        ..Profile::default()
    };
    set(&mut p, 0x8E, &hex::decode("00000000000000001F00").unwrap());
    let mut cfg = config();
    cfg.aids[0].floor_limit = 100_000;
    let r = run(p, cfg, |_| {}, None);
    assert_eq!(r.decision, Decision::Declined);
    assert!(r.tvr.is_set(TvrBit::CdaFailed));
    assert!(!r.oda_ok);
}

#[test]
fn oda_failure_paths() {
    // 9F4A naming another tag than 82: SDA fails (Book 3 §10.3).
    let p = Profile {
        oda: CardOda::Sda,
        ..Profile::default()
    };
    let r = run(p.clone(), config(), |_| {}, Some(host_approve()));
    assert!(r.oda_ok, "baseline SDA ok: {:?}", r.oda_failure);
    let r = run(
        Profile {
            sda_tag_list: vec![0x82, 0x5A],
            ..p
        },
        config(),
        |_| {},
        Some(host_approve()),
    );
    assert!(r.tvr.is_set(TvrBit::SdaFailed), "{:?}", r.tvr);
    assert!(
        r.oda_failure.as_deref().unwrap_or("").contains("Tag List"),
        "{:?}",
        r.oda_failure
    );

    // Issuer certificate on the revocation list: DDA fails.
    let mut cfg = config();
    cfg.terminal
        .revoked_certificates
        .push(smartpos_emv::config::RevokedCertificate {
            rid: RID.to_vec(),
            index: CA_INDEX,
            serial: vec![0, 0, 1],
        });
    let r = run(Profile::default(), cfg, |_| {}, Some(host_approve()));
    assert!(r.tvr.is_set(TvrBit::DdaFailed), "{:?}", r.tvr);
    assert!(
        r.oda_failure
            .as_deref()
            .unwrap_or("")
            .contains("revocation"),
        "{:?}",
        r.oda_failure
    );

    // CA key expired before the transaction date.
    let mut keys = CaKeyStore::new();
    keys.insert(
        RID,
        CA_INDEX,
        20_251_231,
        pki().ca.public_key().try_clone().unwrap(),
    );
    let kernel = ContactKernel::new(std::sync::Arc::new(config()), std::sync::Arc::new(keys));
    let mut card = VirtualCard::new(Profile::default());
    let mut pin = TestPinPad {
        online: Some(vec![1; 8]),
        ..Default::default()
    };
    let mut svc = TestServices::default();
    let Step::Online(req) = start(&kernel, &mut card, params(1000), &mut pin, &mut svc) else {
        panic!("online")
    };
    assert!(req.tvr().is_set(TvrBit::DdaFailed));

    // A terminal without ODA capabilities: not performed.
    let r = run(
        Profile {
            oda: CardOda::Dda,
            pse: false,
            ..Profile::default()
        },
        {
            let mut c = config();
            c.terminal.capabilities = vec![0xE0, 0xF8, 0x00];
            c
        },
        |_| {},
        Some(host_approve()),
    );
    // Terminal supports no ODA: not performed.
    assert!(r.tvr.is_set(TvrBit::OfflineDataAuthenticationNotPerformed));
    assert_eq!(r.oda, OdaMethod::None);
}

#[test]
fn advice_bit_and_offline_only_terminal() {
    let mut p = Profile {
        cid_advice: true,
        ..Profile::default()
    };
    set(&mut p, 0x8E, &hex::decode("00000000000000001F00").unwrap());
    let mut cfg = config();
    cfg.terminal.online_capable = false;
    // Offline-only: TAC default decides; nothing in TVR matches once the floor limit is high.
    cfg.aids[0].floor_limit = 100_000;
    let r = run(p, cfg, |_| {}, None);
    assert_eq!(r.decision, Decision::Approved, "{:?}", r.end_reason);
    assert!(r.advice_requested);
}

#[test]
fn unable_to_go_online_approves_when_default_codes_allow() {
    let mut p = Profile::default();
    set(&mut p, 0x8E, &hex::decode("00000000000000001F00").unwrap());
    set(&mut p, 0x9F0D, &[0, 0, 0, 0, 0]);
    let mut cfg = config();
    cfg.aids[0].tac_default = vec![0; 5];
    let r = run(p, cfg, |x| x.merchant_forced_online = true, None);
    assert_eq!(r.decision, Decision::Approved, "{:?}", r.end_reason);
    // ARC Y3 went to the card in CDOL2 (8A first).
    let gen2 = r
        .trace
        .entries
        .iter()
        .rev()
        .find(|e| e.command.starts_with("80AE"))
        .unwrap();
    assert!(
        gen2.command.starts_with("80AE4000175933"),
        "{}",
        gen2.command
    );
}

#[test]
fn summary_json_and_language() {
    let r = run(Profile::default(), config(), |_| {}, Some(host_approve()));
    let j = r.summary_json();
    for key in [
        "outcome",
        "aid",
        "kernel",
        "oda",
        "oda_ok",
        "tvr",
        "tsi",
        "cvm_results",
        "pan_masked",
        "field55",
        "apdus",
    ] {
        assert!(j.get(key).is_some(), "{key}");
    }
    assert_eq!(j["outcome"], "approved");
    assert_eq!(j["oda"], "dda");
    assert_eq!(j["pan_masked"], "476173******0119");
    let text = j.to_string();
    assert!(
        !text.contains("4761739001010119"),
        "PAN leaked into the summary"
    );
    assert_eq!(r.language.as_deref(), Some("en"));
    assert_eq!(
        smartpos_emv::selection::negotiate_language("frzh", &["en".into(), "zh".into()]).as_deref(),
        Some("zh")
    );
    assert_eq!(
        smartpos_emv::selection::negotiate_language("fr", &["en".into()]),
        None
    );
    // field 55 starts with the cryptogram 9F26.
    assert!(
        j["field55"]
            .as_str()
            .unwrap()
            .starts_with("9F2608C0C1C2C3C4C5C6C7")
    );
    assert!(
        EndReason::CardError {
            command: "READ RECORD",
            sw: 0x6A83
        }
        .allows_fallback()
    );
    assert!(!EndReason::Cancelled.allows_fallback());
    assert!(!EndReason::CardBlocked.allows_fallback());
}

#[test]
fn pin_bypass_policy() {
    // Offline PIN (bypassed), then online PIN, then signature.
    for (subsequent, want_cvm, online_prompted) in
        [(true, "1E0000", false), (false, "420000", true)]
    {
        let mut p = Profile::default();
        set(
            &mut p,
            0x8E,
            &hex::decode("000000000000000041004200 1E00".replace(' ', "")).unwrap(),
        );
        let mut cfg = config();
        cfg.terminal.subsequent_pin_bypass = subsequent;
        let kernel = kernel_with(cfg);
        let mut card = VirtualCard::new(p);
        let mut pin = TestPinPad {
            offline: vec![None].into(),
            online: Some(vec![0xEE; 8]),
            ..Default::default()
        };
        let mut svc = TestServices::default();
        let step = start(&kernel, &mut card, params(1000), &mut pin, &mut svc);
        let Step::Online(req) = step else {
            panic!("online expected")
        };
        assert_eq!(req.online_pin_block.is_some(), online_prompted);
        let r = req.complete(&mut card, &host_approve());
        assert_eq!(r.cvm_results, want_cvm, "subsequent bypass {subsequent}");
        assert!(r.tvr.is_set(TvrBit::PinNotEntered));
        assert_eq!(pin.prompts.len(), 1, "one offline prompt");
    }
}

#[test]
fn enciphered_pin_with_pin_encipherment_key() {
    let mut p = Profile {
        pin_key: true,
        ..Profile::default()
    };
    set(&mut p, 0x8E, &hex::decode("00000000000000000400").unwrap());
    let kernel = kernel_with(config());
    let mut card = VirtualCard::new(p);
    let mut pin = TestPinPad {
        offline: vec![Some("0000"), Some("1234")].into(),
        ..Default::default()
    };
    let mut svc = TestServices::default();
    let Step::Online(req) = start(&kernel, &mut card, params(1000), &mut pin, &mut svc) else {
        panic!("online")
    };
    let r = req.complete(&mut card, &host_approve());
    assert_eq!(r.cvm_results, "040002");
    // First try wrong (63C2), the prompt then shows 2 tries left.
    assert_eq!(
        pin.prompts.iter().map(|p| p.tries_left).collect::<Vec<_>>(),
        vec![Some(3), Some(2)]
    );
    assert!(pin.prompts.iter().all(|p| p.enciphered));
    assert_eq!(
        r.trace
            .entries
            .iter()
            .filter(|e| e.command.starts_with("00200088"))
            .count(),
        2
    );
    assert_eq!(
        r.trace
            .entries
            .iter()
            .filter(|e| e.command.starts_with("0084"))
            .count(),
        2,
        "a fresh challenge per try"
    );
}

#[test]
fn same_card_amounts_count_towards_the_floor_limit() {
    for (same_card, exceeded) in [(0u64, false), (4_000, true)] {
        let mut p = Profile::default();
        set(&mut p, 0x8E, &hex::decode("00000000000000001F00").unwrap());
        let mut cfg = config();
        cfg.aids[0].floor_limit = 5_000;
        let kernel = kernel_with(cfg);
        let mut card = VirtualCard::new(p);
        let mut pin = TestPinPad::default();
        let mut svc = TestServices {
            same_card,
            ..Default::default()
        };
        let tvr = match start(&kernel, &mut card, params(1000), &mut pin, &mut svc) {
            Step::Done(r) => r.tvr,
            Step::Online(req) => req.tvr(),
        };
        assert_eq!(
            tvr.is_set(TvrBit::FloorLimitExceeded),
            exceeded,
            "same-card {same_card}"
        );
    }
}

#[test]
fn velocity_without_last_online_atc() {
    let mut p = Profile {
        last_online_atc: None,
        ..Profile::default()
    };
    set(&mut p, 0x9F14, &[0x05]);
    set(&mut p, 0x9F23, &[0x10]);
    let r = run(p, config(), |_| {}, Some(host_approve()));
    for b in [
        TvrBit::LowerConsecutiveOfflineLimitExceeded,
        TvrBit::UpperConsecutiveOfflineLimitExceeded,
        TvrBit::IccDataMissing,
    ] {
        assert!(r.tvr.is_set(b), "{b:?} in {:?}", r.tvr);
    }
}

#[test]
fn issuer_authentication_inside_second_generate_ac() {
    // AIP without "issuer authentication supported": the ARPC goes in CDOL2 (91), no EXTERNAL AUTHENTICATE.
    let p = Profile {
        aip: [0x1C & !0x04, 0x00],
        cdol2: hex::decode("8A02910A9F3704").unwrap(),
        ..Profile::default()
    };
    let r = run(p, config(), |_| {}, Some(host_approve()));
    assert_eq!(r.decision, Decision::Approved);
    assert!(r.tsi.is_set(TsiBit::IssuerAuthenticationPerformed));
    assert!(
        !r.trace
            .entries
            .iter()
            .any(|e| e.command.starts_with("0082"))
    );
    let gen2 = r
        .trace
        .entries
        .iter()
        .rev()
        .find(|e| e.command.starts_with("80AE"))
        .unwrap();
    assert!(
        gen2.command.starts_with(&format!(
            "80AE400010{}{}",
            hex::encode_upper(b"00"),
            hex::encode_upper(ARPC)
        )),
        "{}",
        gen2.command
    );
}

#[test]
fn script_results_9f5b() {
    let scripts = hex::decode(
        "72109F1804000000038607841E000002AABB".to_owned() + "71109F180400000004860700DA000002AABB",
    )
    .unwrap();
    let r = run(
        Profile::default(),
        config(),
        |_| {},
        Some(HostResponse {
            scripts,
            ..host_approve()
        }),
    );
    // 71 runs first (fails at command 1), then 72 after the final GENERATE AC (performed).
    assert_eq!(r.script_results, "11000000042000000003");
    // Order (Book 3 §10.9-10.10): EXTERNAL AUTHENTICATE, scripts 71, GENERATE AC 2, scripts 72.
    let pos = |prefix: &str| {
        r.trace
            .entries
            .iter()
            .position(|e| e.command.starts_with(prefix))
            .unwrap()
    };
    let gen2 = r
        .trace
        .entries
        .iter()
        .rposition(|e| e.command.starts_with("80AE"))
        .unwrap();
    assert!(pos("0082") < pos("00DA") && pos("00DA") < gen2 && gen2 < pos("841E"));
    assert!(r.tvr.is_set(TvrBit::ScriptFailedBeforeFinalGenerateAc));
    assert!(!r.tvr.is_set(TvrBit::ScriptFailedAfterFinalGenerateAc));
}

#[test]
fn application_usage_control_international() {
    // Issuer country US (0840) at a Chinese terminal: international. AUC allows domestic goods
    // and services only.
    let mut p = Profile::default();
    set(&mut p, 0x5F28, &[0x08, 0x40]);
    set(&mut p, 0x9F07, &[0x2B, 0x00]);
    let r = run(p.clone(), config(), |_| {}, Some(host_approve()));
    assert!(r.tvr.is_set(TvrBit::ServiceNotAllowed));
    // Same card at home: allowed.
    set(&mut p, 0x5F28, &[0x01, 0x56]);
    let r = run(p.clone(), config(), |_| {}, Some(host_approve()));
    assert!(!r.tvr.is_set(TvrBit::ServiceNotAllowed));
    // Domestic cash not in the AUC.
    let r = run(
        p,
        config(),
        |x| x.transaction_type = TransactionType::Cash,
        Some(host_approve()),
    );
    assert!(r.tvr.is_set(TvrBit::ServiceNotAllowed));
}

#[test]
fn fixed_pin_pad_and_un_parsing() {
    let mut p = Profile::default();
    set(&mut p, 0x8E, &hex::decode("00000000000000000100").unwrap());
    let kernel = kernel_with(config());
    let mut card = VirtualCard::new(p);
    let mut pad = FixedPinPad {
        pin: Some(zeroize::Zeroizing::new("1234".to_string())),
        online_block: None,
    };
    assert!(!format!("{pad:?}").contains("1234"));
    let mut ui = TestUi::default();
    let mut svc = NoServices;
    let step = kernel.start(
        &mut card,
        params(1000),
        Interaction {
            ui: &mut ui,
            pin_pad: &mut pad,
            services: &mut svc,
        },
    );
    let Step::Online(req) = step else {
        panic!("online")
    };
    let r = req.complete(&mut card, &host_approve());
    assert_eq!(r.cvm_results, "010002");
    assert_eq!(
        TransactionParams::parse_unpredictable_number("A1B2C3D4").unwrap(),
        [0xA1, 0xB2, 0xC3, 0xD4]
    );
    assert!(TransactionParams::parse_unpredictable_number("A1B2C3").is_err());
    for (date, time) in [
        ("261341", "101500"),
        ("26112", "101500"),
        ("261100", "101500"),
        ("261121", "241500"),
        ("261121", "1015x0"),
    ] {
        assert!(
            TransactionParams::new(1, date, time, UN).is_err(),
            "{date} {time}"
        );
    }
    assert!(TransactionParams::new(1, "261231", "235959", UN).is_ok());
}

#[test]
fn online_snapshot_and_host_response_json() {
    let kernel = kernel_with(config());
    let mut card = VirtualCard::new(Profile::default());
    let mut pin = TestPinPad {
        online: Some(vec![0xEE; 8]),
        ..Default::default()
    };
    let mut svc = TestServices::default();
    let Step::Online(req) = start(&kernel, &mut card, params(1000), &mut pin, &mut svc) else {
        panic!("online")
    };
    let snap = req.snapshot();
    assert_eq!(snap.decision, Decision::OnlineRequest);
    assert_eq!(snap.summary_json()["outcome"], "online_request");
    assert_eq!(snap.data_record, req.data_record);
    assert!(snap.data_record.starts_with(&[0x9F, 0x26, 0x08]));
    let host: HostResponse = serde_json::from_str(
        r#"{"approved":true,"arc":"00","issuer_authentication_data":"A1A2A3A4A5A6A7A83030"}"#,
    )
    .unwrap();
    assert_eq!(host, host_approve());
    let r = req.complete(&mut card, &host);
    assert_eq!(r.decision, Decision::Approved);
    assert!(r.trace.len() > snap.trace.len());
}

#[test]
fn missing_oda_data_sets_icc_data_missing() {
    for (oda, tag, fail_bit) in [
        (CardOda::Dda, 0x9F46, TvrBit::DdaFailed),
        (CardOda::Sda, 0x93, TvrBit::SdaFailed),
        (CardOda::Cda, 0x8F, TvrBit::CdaFailed),
        (CardOda::Dda, 0x9F32, TvrBit::DdaFailed),
    ] {
        let p = Profile {
            oda,
            drop_tags: vec![tag],
            ..Profile::default()
        };
        let r = run(p, config(), |_| {}, Some(host_approve()));
        assert!(r.tvr.is_set(TvrBit::IccDataMissing), "{tag:X}: {:?}", r.tvr);
        assert!(r.tvr.is_set(fail_bit), "{tag:X}: {:?}", r.tvr);
        assert!(!r.oda_ok);
        assert!(
            r.oda_failure
                .as_deref()
                .unwrap_or("")
                .contains(&format!("{tag:X}")),
            "{:?}",
            r.oda_failure
        );
    }
}

#[test]
fn cashback_needs_goods_and_cashback_in_the_auc() {
    for (auc, allowed) in [
        ([0xFF, 0x00], false),
        ([0xFF, 0xC0], true),
        ([0x01, 0xC0], false),
    ] {
        let mut p = Profile::default();
        set(&mut p, 0x9F07, &auc);
        let r = run(
            p,
            config(),
            |x| {
                x.transaction_type = TransactionType::PurchaseWithCashback;
                x.amount_other = 500;
            },
            Some(host_approve()),
        );
        assert_eq!(
            !r.tvr.is_set(TvrBit::ServiceNotAllowed),
            allowed,
            "AUC {auc:02X?}"
        );
    }
}
