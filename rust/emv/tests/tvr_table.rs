//! Table-driven transactions on the virtual card: per row the card personalisation, terminal
//! settings, host answer and the expected decision, TVR, TSI and CVM results (EMV Book 3
//! Annex C bit by bit). Together the rows set every TVR bit at least once.
mod common;
use common::*;
use smartpos_emv::*;
use std::collections::VecDeque;

#[derive(Clone, Copy)]
enum Host {
    Approve,
    Decline,
    WrongArpc,
    Unreachable,
    Scripts(&'static str),
}

struct Row {
    name: &'static str,
    card: fn(&mut Profile),
    term: fn(&mut TerminalConfig),
    txn: fn(&mut TransactionParams),
    pins: &'static [Option<&'static str>],
    online_pin: bool,
    hot: bool,
    empty_ca: bool,
    host: Host,
    decision: Decision,
    tvr: &'static str,
    tsi: &'static str,
    cvm: &'static str,
}

fn nop_p(_: &mut Profile) {}
fn nop_t(_: &mut TerminalConfig) {}
fn nop_x(_: &mut TransactionParams) {}

const BASE: Row = Row {
    name: "",
    card: nop_p,
    term: nop_t,
    txn: nop_x,
    pins: &[],
    online_pin: true,
    hot: false,
    empty_ca: false,
    host: Host::Approve,
    decision: Decision::Approved,
    tvr: "0000048000",
    tsi: "F800",
    cvm: "420300",
};

fn cvm(p: &mut Profile, list: &str) {
    for (t, v) in p.record1.iter_mut() {
        if *t == 0x8E {
            *v = hex::decode(list).expect("hex");
        }
    }
}
fn set(p: &mut Profile, tag: u32, v: &[u8]) {
    p.record1.retain(|(t, _)| *t != tag);
    p.record1.push((tag, v.to_vec()));
}
fn offline_terminal_floor(t: &mut TerminalConfig) {
    for a in &mut t.aids {
        a.floor_limit = 100_000;
    }
}

fn rows() -> Vec<Row> {
    vec![
        Row {
            name: "dda online pin approved",
            ..BASE
        },
        Row {
            name: "no oda",
            card: |p| p.oda = CardOda::None,
            tvr: "8000048000",
            tsi: "7800",
            ..BASE
        },
        Row {
            name: "sda ok",
            card: |p| p.oda = CardOda::Sda,
            tvr: "0200048000",
            ..BASE
        },
        Row {
            name: "sda failed (CA key unknown)",
            card: |p| p.oda = CardOda::Sda,
            empty_ca: true,
            tvr: "4200048000",
            ..BASE
        },
        Row {
            name: "dda failed",
            card: |p| p.corrupt_sdad = true,
            tvr: "0800048000",
            ..BASE
        },
        Row {
            name: "cda online approved",
            card: |p| p.oda = CardOda::Cda,
            ..BASE
        },
        Row {
            name: "cda failed on ARQC: declined",
            card: |p| {
                p.oda = CardOda::Cda;
                p.corrupt_sdad = true
            },
            tvr: "0400048000",
            tsi: "E800",
            decision: Decision::Declined,
            ..BASE
        },
        Row {
            name: "icc data missing (no CVM list)",
            card: |p| p.drop_tags = vec![0x8E],
            tvr: "2000008000",
            tsi: "B800",
            cvm: "3F0000",
            online_pin: false,
            ..BASE
        },
        Row {
            name: "card on exception file",
            hot: true,
            tvr: "1000048000",
            ..BASE
        },
        Row {
            name: "different application versions",
            card: |p| set(p, 0x9F08, &[0x00, 0x99]),
            tvr: "0080048000",
            ..BASE
        },
        Row {
            name: "expired application",
            card: |p| set(p, 0x5F24, &[0x20, 0x12, 0x31]),
            tvr: "0040048000",
            ..BASE
        },
        Row {
            name: "not yet effective",
            card: |p| set(p, 0x5F25, &[0x27, 0x12, 0x31]),
            tvr: "0020048000",
            ..BASE
        },
        Row {
            name: "service not allowed (AUC ATM only): TAC denial",
            card: |p| set(p, 0x9F07, &[0x02, 0x00]),
            tvr: "0010048000",
            tsi: "E800",
            decision: Decision::Declined,
            ..BASE
        },
        Row {
            name: "new card",
            card: |p| {
                p.last_online_atc = Some(0);
                set(p, 0x9F14, &[0x10]);
                set(p, 0x9F23, &[0x20]);
            },
            tvr: "0008048000",
            ..BASE
        },
        Row {
            name: "fail CVM processing",
            card: |p| cvm(p, "00000000000000000000"),
            tvr: "0000808000",
            cvm: "000001",
            online_pin: false,
            ..BASE
        },
        Row {
            name: "unrecognised CVM",
            card: |p| cvm(p, "00000000000000000800"),
            tvr: "0000C08000",
            cvm: "080001",
            online_pin: false,
            ..BASE
        },
        Row {
            name: "PIN try limit exceeded",
            card: |p| {
                cvm(p, "00000000000000000100");
                p.pin_tries = 0
            },
            tvr: "0000A08000",
            cvm: "010001",
            online_pin: false,
            ..BASE
        },
        Row {
            name: "PIN pad not present",
            card: |p| cvm(p, "000000000000000001001F00"),
            term: |t| t.terminal.pin_pad_present = false,
            tvr: "0000908000",
            cvm: "010001",
            online_pin: false,
            ..BASE
        },
        Row {
            name: "PIN bypassed, next rule signature",
            card: |p| cvm(p, "000000000000000041001E00"),
            pins: &[None],
            tvr: "0000088000",
            cvm: "1E0000",
            online_pin: false,
            ..BASE
        },
        Row {
            name: "online PIN bypassed: CVM failed",
            online_pin: false,
            card: |p| cvm(p, "00000000000000000203"),
            tvr: "0000888000",
            cvm: "020301",
            ..BASE
        },
        Row {
            name: "offline plaintext PIN, one wrong try",
            card: |p| cvm(p, "00000000000000000100"),
            pins: &[Some("9999"), Some("1234")],
            tvr: "0000008000",
            cvm: "010002",
            online_pin: false,
            ..BASE
        },
        Row {
            name: "offline plaintext PIN exhausted",
            card: |p| {
                cvm(p, "00000000000000000100");
                p.pin_tries = 2
            },
            pins: &[Some("9999"), Some("9998")],
            tvr: "0000A08000",
            cvm: "010001",
            online_pin: false,
            ..BASE
        },
        Row {
            name: "offline enciphered PIN",
            card: |p| cvm(p, "00000000000000000400"),
            pins: &[Some("1234")],
            tvr: "0000008000",
            cvm: "040002",
            online_pin: false,
            ..BASE
        },
        Row {
            name: "LCOL exceeded",
            card: |p| {
                set(p, 0x9F14, &[0x01]);
                set(p, 0x9F23, &[0x05]);
            },
            tvr: "000004C000",
            ..BASE
        },
        Row {
            name: "UCOL exceeded",
            card: |p| {
                set(p, 0x9F14, &[0x01]);
                set(p, 0x9F23, &[0x01]);
            },
            tvr: "000004E000",
            ..BASE
        },
        Row {
            name: "randomly selected for online",
            card: |p| cvm(p, "00000000000000001F00"),
            term: |t| {
                for a in &mut t.aids {
                    a.floor_limit = 100_000;
                    a.target_percent = 50;
                    a.max_target_percent = 90;
                    a.random_selection_threshold = 5_000;
                }
            },
            txn: |x| x.random_draw = 20,
            tvr: "0000001000",
            cvm: "1F0002",
            online_pin: false,
            ..BASE
        },
        Row {
            name: "offline approved (TC) below floor limit",
            card: |p| {
                cvm(p, "00000000000000001F00");
                p.card_decision = 0x40
            },
            term: offline_terminal_floor,
            tvr: "0000000000",
            tsi: "E800",
            cvm: "1F0002",
            online_pin: false,
            ..BASE
        },
        Row {
            name: "card declines offline (AAC)",
            card: |p| {
                cvm(p, "00000000000000001F00");
                p.card_decision = 0x00
            },
            term: offline_terminal_floor,
            tvr: "0000000000",
            tsi: "E800",
            cvm: "1F0002",
            decision: Decision::Declined,
            online_pin: false,
            ..BASE
        },
        Row {
            name: "merchant forced online",
            txn: |x| x.merchant_forced_online = true,
            tvr: "0000048800",
            ..BASE
        },
        Row {
            name: "default TDOL used",
            card: |p| p.cdol1 = hex::decode("9F02069F370495059814").unwrap_or_default(),
            term: |t| {
                for a in &mut t.aids {
                    a.default_tdol = vec![0x9F, 0x02, 0x06];
                }
            },
            tvr: "0000048080",
            ..BASE
        },
        Row {
            name: "issuer authentication failed",
            host: Host::WrongArpc,
            tvr: "0000048040",
            ..BASE
        },
        Row {
            name: "host declines",
            host: Host::Decline,
            decision: Decision::Declined,
            ..BASE
        },
        Row {
            name: "unable to go online: default IAC denies",
            host: Host::Unreachable,
            decision: Decision::Declined,
            tsi: "E800",
            ..BASE
        },
        Row {
            name: "script 71 fails before final GENERATE AC",
            host: Host::Scripts("71109F1804000000018607 00DA000002AABB"),
            tvr: "0000048020",
            tsi: "FC00",
            ..BASE
        },
        Row {
            name: "script 72 fails after final GENERATE AC",
            host: Host::Scripts("72109F180400000002860700DA000002AABB"),
            tvr: "0000048010",
            tsi: "FC00",
            ..BASE
        },
        Row {
            name: "script 72 succeeds",
            host: Host::Scripts("72109F1804000000038607841E000002AABB"),
            tsi: "FC00",
            ..BASE
        },
    ]
}

#[test]
fn tvr_tsi_outcome_table() {
    let mut failures = Vec::new();
    let mut covered = Tvr::default();
    for row in rows() {
        let mut profile = Profile::default();
        (row.card)(&mut profile);
        let mut cfg = config();
        (row.term)(&mut cfg);
        let kernel = if row.empty_ca {
            ContactKernel::new(
                std::sync::Arc::new(cfg),
                std::sync::Arc::new(CaKeyStore::new()),
            )
        } else {
            kernel_with(cfg)
        };
        let mut p = params(1000);
        (row.txn)(&mut p);
        let mut card = VirtualCard::new(profile);
        let mut pin = TestPinPad {
            offline: row.pins.iter().copied().collect::<VecDeque<_>>(),
            online: row.online_pin.then(|| vec![0xEE; 8]),
            ..Default::default()
        };
        let mut svc = TestServices {
            hot: row.hot,
            ..Default::default()
        };
        let result = match start(&kernel, &mut card, p, &mut pin, &mut svc) {
            Step::Done(r) => *r,
            Step::Online(req) => match row.host {
                Host::Approve => req.complete(&mut card, &host_approve()),
                Host::Decline => req.complete(
                    &mut card,
                    &HostResponse {
                        approved: false,
                        arc: "05".into(),
                        ..host_approve()
                    },
                ),
                Host::WrongArpc => req.complete(
                    &mut card,
                    &HostResponse {
                        issuer_authentication_data: vec![0; 10],
                        ..host_approve()
                    },
                ),
                Host::Unreachable => req.unable_to_go_online(&mut card),
                Host::Scripts(s) => req.complete(
                    &mut card,
                    &HostResponse {
                        scripts: hex::decode(s.replace(' ', "")).expect("hex"),
                        ..host_approve()
                    },
                ),
            },
        };
        for b in result.tvr.bits() {
            covered.set(b);
        }
        let got = (
            result.decision,
            result.tvr.hex(),
            result.tsi.hex(),
            result.cvm_results.clone(),
        );
        let want = (
            row.decision,
            row.tvr.to_string(),
            row.tsi.to_string(),
            row.cvm.to_string(),
        );
        if got != want {
            failures.push(format!(
                "{}: got {got:?} want {want:?} ({:?} {:?})",
                row.name, result.end_reason, result.oda_failure
            ));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
    let missing: Vec<_> = TvrBit::ALL
        .iter()
        .filter(|b| !covered.is_set(**b))
        .collect();
    assert!(
        missing.is_empty(),
        "TVR bits never set by the table: {missing:?}"
    );
}
