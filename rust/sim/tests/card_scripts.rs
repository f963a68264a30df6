//! Issuer scripts with secure messaging for integrity (EMV Book 2 §9.2.1, Book 3 §10.10): the
//! MAC of `smartpos_sim::card::script` against published vectors, and end to end: the host
//! simulator seals the configured script templates for the transaction's ATC and ARQC, the
//! contact kernel delivers them, the virtual card checks the MAC before executing (a bad MAC is
//! answered 6988 and nothing happens), over loopback TCP.

use smartpos_crypto::emv::{Cvn, MkDerivation, derive_icc_mk};
use smartpos_crypto::key::{KeyAlgorithm, SecretKey};
use smartpos_crypto::keyhier::{HierarchyAlgorithm, KeyHierarchy};
use smartpos_emv::{
    ContactKernel, Decision, FixedPinPad, HostResponse, Interaction, NoServices, Step,
    TerminalConfig, TransactionParams, TransactionResult, TsiBit, TvrBit,
};
use smartpos_host::{CardData, HostClient, LinkConfig, MemoryStore, PinInput, SaleRequest};
use smartpos_sim::card::script::{ScriptError, ScriptMacOption, ScriptSession};
use smartpos_sim::card::{VirtualCard, issuer};
use smartpos_sim::hostsim::{HostSim, config::HostSimConfig};
use smartpos_sim::pki::TestPki;
use smartpos_tlv::{Tag, TlvReader};
use std::sync::Arc;
use std::time::Duration;

fn h(s: &str) -> Vec<u8> {
    hex::decode(s.replace(' ', "")).expect("hex")
}

fn b8(s: &str) -> [u8; 8] {
    h(s).try_into().expect("8 bytes")
}

/// The ICC MK_SMI of the pyemv HSM tests: IMK FEDCBA9876543210 0123456789ABCDEF, PAN
/// 1234567890123456, PSN 00, option A.
fn pyemv_mk_smi() -> SecretKey {
    let imk =
        SecretKey::from_hex(KeyAlgorithm::Tdes2, "FEDCBA98765432100123456789ABCDEF").expect("key");
    derive_icc_mk(&imk, "1234567890123456", "00", MkDerivation::OptionA).expect("mk")
}

// Published vector: knovichikhin/pyemv @0710f428 tests/test_cvn_hsm.py (HSM-verified), Visa
// CVN 10 / CVN 18 APPLICATION UNBLOCK 84 18 00 00 08: MAC over header || ATC 001C || ARQC under
// the VIS secure messaging session key of the SMI master key: ARQC 29CCA15AE665FA2E ->
// DB56BA60087CEFD3, ARQC 7A788EA6B8A3E733 -> 04EDE90BC24CC35E.
#[test]
fn visa_option_seals_application_unblock_as_published() {
    for (arqc, mac) in [
        ("29CCA15AE665FA2E", "DB56BA60087CEFD3"),
        ("7A788EA6B8A3E733", "04EDE90BC24CC35E"),
    ] {
        let s = ScriptSession::new(
            ScriptMacOption::Visa,
            &pyemv_mk_smi(),
            [0x00, 0x1C],
            b8(arqc),
        )
        .expect("session");
        let sealed = s.seal_command(&h("84180000")).expect("seal");
        assert_eq!(hex::encode_upper(&sealed), format!("8418000008{mac}"));
        // The card side accepts exactly that and nothing with a byte changed.
        assert_eq!(
            s.verify([0x84, 0x18, 0x00, 0x00], &h(mac)).expect("MAC"),
            &[] as &[u8]
        );
        for i in 0..8 {
            let mut bad = h(mac);
            bad[i] ^= 0x01;
            assert!(matches!(
                s.verify([0x84, 0x18, 0x00, 0x00], &bad),
                Err(ScriptError::BadMac)
            ));
        }
        // The same MAC on another command (APPLICATION BLOCK) does not verify.
        assert!(s.verify([0x84, 0x1E, 0x00, 0x00], &h(mac)).is_err());
    }
}

// Published vector: knovichikhin/pyemv @0710f428 tests/test_cvn_hsm.py test_interac_cvn133
// (HSM-verified): SK_SMI by the common session key derivation with R = ARQC 18932FECA2D84326;
// MAC of 84 24 00 00 08 = B574ABB0A485A330; PIN CHANGE/UNBLOCK 84 24 00 02 10 with enciphered
// data 382F36D5920D2391 -> MAC 5CC7573F770298C9.
#[test]
fn emv_common_option_seals_pin_unblock_and_change_as_published() {
    let s = ScriptSession::new(
        ScriptMacOption::EmvCommon,
        &pyemv_mk_smi(),
        [0x00, 0x1C],
        b8("18932FECA2D84326"),
    )
    .expect("session");
    assert_eq!(
        hex::encode_upper(s.seal_command(&h("84240000")).expect("seal")),
        "8424000008B574ABB0A485A330"
    );
    // A template with Lc and data: Lc' = 08 + 08.
    let sealed = s
        .seal_command(&h("84240002 08 382F36D5920D2391"))
        .expect("seal");
    assert_eq!(
        hex::encode_upper(&sealed),
        "8424000210382F36D5920D23915CC7573F770298C9"
    );
    let data = s
        .verify([0x84, 0x24, 0x00, 0x02], &sealed[5..])
        .expect("MAC");
    assert_eq!(data, h("382F36D5920D2391").as_slice());
    // The EMV option does not put ATC/ARQC in the MAC input: the Visa option's MAC differs.
    let v = ScriptSession::new(
        ScriptMacOption::Visa,
        &pyemv_mk_smi(),
        [0x00, 0x1C],
        b8("18932FECA2D84326"),
    )
    .expect("session");
    assert_ne!(
        v.seal_command(&h("84240000")).expect("seal"),
        h("8424000008B574ABB0A485A330")
    );
}

#[test]
fn options_follow_the_cryptogram_version() {
    assert_eq!(ScriptMacOption::for_cvn(Cvn::Visa10), ScriptMacOption::Visa);
    assert_eq!(ScriptMacOption::for_cvn(Cvn::Visa18), ScriptMacOption::Visa);
    assert_eq!(
        ScriptMacOption::for_cvn(Cvn::Mastercard16),
        ScriptMacOption::EmvCommon
    );
}

#[test]
fn malformed_templates_and_short_macs_are_typed_errors() {
    let s = ScriptSession::new(ScriptMacOption::EmvCommon, &pyemv_mk_smi(), [0, 1], [1; 8])
        .expect("session");
    // Debug shows the option and ATC, never the session key.
    let dbg = format!("{s:?}");
    assert!(dbg.contains("EmvCommon") && !dbg.contains("key"), "{dbg}");
    // Fewer than 4 header bytes; Lc that disagrees with the data.
    for bad in ["841E00", "84DA9F5805 1122", "84DA9F5801 1122"] {
        assert!(
            matches!(s.seal_command(&h(bad)), Err(ScriptError::Template { .. })),
            "{bad}"
        );
    }
    // 247 data bytes + MAC fit a short Lc' (255); 248 do not.
    let mut fits = vec![0x84, 0xDA, 0x9F, 0x58, 247];
    fits.extend_from_slice(&[0x11; 247]);
    assert_eq!(s.seal_command(&fits).expect("seal")[4], 255);
    let mut too_long = vec![0x84, 0xDA, 0x9F, 0x58, 248];
    too_long.extend_from_slice(&[0x11; 248]);
    assert!(matches!(
        s.seal_command(&too_long),
        Err(ScriptError::Template {
            field: "command data",
            ..
        })
    ));
    assert!(matches!(
        s.verify([0x84, 0x1E, 0, 0], &[1, 2, 3, 4]),
        Err(ScriptError::MissingMac { len: 4 })
    ));
    // Only 71/72 templates are sealed; identifiers kept, commands replaced.
    assert!(s.seal_scripts(&h("7003 860100")).is_err());
    assert!(s.seal_scripts(&h("72 05 86 03 841E00")).is_err());
    let sealed = s
        .seal_scripts(&h("720D 9F180400000007 8604 841E0000"))
        .expect("seal");
    let t = TlvReader::new(&sealed).next().expect("one").expect("tlv");
    assert_eq!(t.tag, Tag(0x72));
    let kids: Vec<_> = t.children().map(|c| c.expect("tlv")).collect();
    assert_eq!(kids[0].value, &[0, 0, 0, 7]);
    assert_eq!(kids[1].value.len(), 4 + 1 + 8);
    assert_eq!(kids[1].value[4], 8);
}

struct NoUi;
impl smartpos_emv::CardholderInterface for NoUi {
    fn choose_application(&mut self, _c: &[smartpos_emv::Candidate]) -> smartpos_emv::Choice {
        smartpos_emv::Choice::Select(0)
    }
    fn language_selected(&mut self, _l: &str) {}
}

fn host_client(sim: &HostSim) -> HostClient<MemoryStore> {
    let mut keys = KeyHierarchy::new(HierarchyAlgorithm::Tdes);
    keys.install_tmk(
        SecretKey::from_hex(KeyAlgorithm::Tdes2, "11111111111111112222222222222222").expect("tmk"),
    )
    .expect("install tmk");
    let link = LinkConfig::tcp(sim.addr().to_string()).with_read_timeout(Duration::from_secs(5));
    let mut c = HostClient::new(
        link,
        smartpos_host::TerminalConfig::new("12345678", "123456789012345"),
        keys,
        MemoryStore::new(),
    );
    c.sign_on().expect("sign-on");
    c
}

fn kernel() -> ContactKernel {
    let pki = TestPki::shared().expect("pki");
    ContactKernel::new(
        Arc::new(TerminalConfig::demo().expect("config")),
        Arc::new(pki.key_store().expect("keys")),
    )
}

/// Run the first half on `card` (fixed date, time and unpredictable number, so the same card
/// profile produces the same ARQC every time).
fn to_online(card: &mut VirtualCard, pin: Option<&str>) -> smartpos_emv::OnlineRequest {
    let mut pp = FixedPinPad {
        pin: pin.map(|p| zeroize::Zeroizing::new(p.to_string())),
        online_block: None,
    };
    let params = TransactionParams::new(2500, "261121", "101500", [9, 8, 7, 6]).expect("params");
    let step = kernel().start(
        card,
        params,
        Interaction {
            ui: &mut NoUi,
            pin_pad: &mut pp,
            services: &mut NoServices,
        },
    );
    match step {
        Step::Online(req) => *req,
        Step::Done(r) => panic!("online request expected, got {r:?}"),
    }
}

/// Card + kernel + HostSim over TCP with `issuer_scripts` in the card's config entry.
fn sale_with_scripts(
    profile: &str,
    pin: Option<&str>,
    issuer_scripts: &str,
) -> (TransactionResult, VirtualCard, Vec<u8>) {
    let mut card = VirtualCard::from_profile(profile).expect("card");
    let scheme = card.profile().scheme;
    let mut cfg = HostSimConfig::default_config();
    let entry = cfg
        .cards
        .iter_mut()
        .find(|c| c.pan == scheme.pan())
        .expect("card account");
    entry.issuer_scripts = Some(issuer_scripts.to_string());
    let sim = HostSim::start(&cfg, "127.0.0.1:0", None).expect("host simulator");
    let mut host = host_client(&sim);
    let req = to_online(&mut card, pin);
    let psn = format!("{:02}", scheme.psn());
    let answer = host
        .sale(&SaleRequest {
            amount: 2500,
            card: CardData::chip(scheme.pan(), &psn, req.data_record.clone()),
            pin: PinInput::None,
        })
        .expect("host answer");
    assert!(answer.code.is_approved(), "{}", answer.code);
    let icc = answer.icc_data.clone().expect("field 55 in the answer");
    let mut iad = Vec::new();
    let mut scripts = Vec::new();
    for obj in TlvReader::new(&icc) {
        let obj = obj.expect("host TLV");
        match obj.tag {
            Tag(0x91) => iad = obj.value.to_vec(),
            Tag(0x71) | Tag(0x72) => scripts.extend_from_slice(obj.raw),
            _ => {}
        }
    }
    let r = req.complete(
        &mut card,
        &HostResponse {
            approved: true,
            arc: answer.code.as_str().to_string(),
            issuer_authentication_data: iad,
            scripts: scripts.clone(),
        },
    );
    (r, card, scripts)
}

/// The host seals an APPLICATION BLOCK template for every scheme (Visa option for Visa and
/// UnionPay, EMV common session key for M/Chip); the card verifies and executes it.
#[test]
fn host_sealed_application_block_is_executed_by_every_scheme() {
    for (profile, pin) in [
        ("visa-dda-offline-pin", Some("1234")),
        ("mc-cda-online-pin", None),
        ("up-cda-no-cvm", None),
    ] {
        let (r, card, scripts) = sale_with_scripts(profile, pin, "720D9F18040000000A8604841E0000");
        assert_eq!(r.decision, Decision::Approved, "{profile}: {r:?}");
        // The command went out with Lc' 08 and an 8-byte MAC.
        let cmd = TlvReader::new(&scripts)
            .next()
            .expect("72")
            .expect("tlv")
            .children()
            .map(|c| c.expect("tlv"))
            .find(|c| c.tag == Tag(0x86))
            .expect("86");
        assert_eq!(
            &cmd.value[..5],
            &[0x84, 0x1E, 0x00, 0x00, 0x08],
            "{profile}"
        );
        assert_eq!(cmd.value.len(), 13, "{profile}");
        assert_eq!(card.scripts_executed(), 1, "{profile}");
        assert!(card.is_blocked(), "{profile}");
        assert!(r.tsi.is_set(TsiBit::ScriptProcessingPerformed), "{profile}");
        assert!(!r.tvr.is_set(TvrBit::ScriptFailedAfterFinalGenerateAc));
        assert_eq!(r.script_results, "200000000A", "{profile}");
    }
}

/// PIN UNBLOCK (84 24 00 00) in a 71 script resets a PIN Try Counter exhausted by wrong offline
/// PINs in the same transaction.
#[test]
fn host_sealed_pin_unblock_resets_the_try_counter() {
    let (r, card, _) = sale_with_scripts(
        "up-dda-offline-pin",
        Some("999999"),
        "710D9F180400000021860484240000",
    );
    assert!(r.tvr.is_set(TvrBit::PinTryLimitExceeded), "{r:?}");
    assert_eq!(card.pin_tries(), card.profile().pin_try_limit);
    assert_eq!(card.scripts_executed(), 1);
    assert!(!card.is_blocked());
    assert_eq!(r.script_results, "2000000021");
    assert!(!r.tvr.is_set(TvrBit::ScriptFailedBeforeFinalGenerateAc));
}

/// A script whose MAC has one flipped byte (sent `raw:` by the host, otherwise the exact command
/// the host would have sealed for this transaction) is refused with 6988: not executed, 9F5B
/// script failed at command 1, TVR "script processing failed after final GENERATE AC". The same
/// bytes unflipped are executed, so the flip is what the card caught.
#[test]
fn a_flipped_mac_byte_is_refused_end_to_end() {
    let profile = "visa-dda-offline-pin";
    // The ARQC this profile produces with the fixed transaction data (deterministic card).
    let mut probe = VirtualCard::from_profile(profile).expect("card");
    let scheme = probe.profile().scheme;
    let req = to_online(&mut probe, Some("1234"));
    let sealed = issuer::seal_scripts(
        scheme,
        &req.data_record,
        &h("720D9F18040000000B8604841E0000"),
    )
    .expect("seal");
    let good = hex::encode_upper(&sealed);
    let mut flipped = sealed.clone();
    if let Some(last) = flipped.last_mut() {
        *last ^= 0x80;
    }
    let flipped = hex::encode_upper(&flipped);

    let (r, card, sent) = sale_with_scripts(profile, Some("1234"), &format!("raw:{flipped}"));
    assert_eq!(hex::encode_upper(&sent), flipped);
    assert_eq!(r.decision, Decision::Approved, "{r:?}");
    assert_eq!(card.scripts_executed(), 0);
    assert!(!card.is_blocked());
    assert!(r.tsi.is_set(TsiBit::ScriptProcessingPerformed));
    assert!(r.tvr.is_set(TvrBit::ScriptFailedAfterFinalGenerateAc));
    assert_eq!(r.script_results, "110000000B");

    let (r, card, sent) = sale_with_scripts(profile, Some("1234"), &format!("raw:{good}"));
    assert_eq!(hex::encode_upper(&sent), good);
    assert_eq!(card.scripts_executed(), 1);
    assert!(card.is_blocked());
    assert_eq!(r.script_results, "200000000B");
}

/// Scripts outside an online transaction (no ARQC to bind the MAC to) are refused.
#[test]
fn script_command_without_arqc_is_refused() {
    use smartpos_emv::{Apdu, CardTransport};
    let mut card = VirtualCard::from_profile("visa-dda-offline-pin").expect("card");
    let aid = card.profile().scheme.aid();
    let r = card.exchange(&Apdu::select(&aid, false)).expect("select");
    assert_eq!((r.sw1, r.sw2), (0x90, 0x00));
    let r = card
        .exchange(&Apdu::new(0x84, 0x1E, 0, 0, vec![0; 8]))
        .expect("exchange");
    assert_eq!((r.sw1, r.sw2), (0x69, 0x85));
    assert!(!card.is_blocked());
}

mod props {
    use super::*;
    use proptest::prelude::*;

    fn session(option: ScriptMacOption, atc: [u8; 2], arqc: [u8; 8]) -> ScriptSession {
        ScriptSession::new(option, &pyemv_mk_smi(), atc, arqc).expect("session")
    }

    fn option() -> impl Strategy<Value = ScriptMacOption> {
        prop_oneof![
            Just(ScriptMacOption::Visa),
            Just(ScriptMacOption::EmvCommon)
        ]
    }

    proptest! {
        /// Sealed commands verify and give back their data; any one flipped bit in the data or
        /// the MAC, or another ARQC makes the MAC fail (another ATC too for the Visa option).
        #[test]
        fn seal_verify_round_trip_and_any_flip_fails(
            opt in option(),
            ins in prop_oneof![Just(0x1Eu8), Just(0x18), Just(0x24), Just(0xDA), Just(0xDC)],
            data in proptest::collection::vec(any::<u8>(), 0..=64),
            atc in any::<[u8; 2]>(),
            arqc in any::<[u8; 8]>(),
            flip in any::<proptest::sample::Index>(),
            bit in 0u8..8,
        ) {
            let s = session(opt, atc, arqc);
            let mut template = vec![0x84, ins, 0x00, 0x00];
            if !data.is_empty() {
                template.push(data.len() as u8);
                template.extend_from_slice(&data);
            }
            let sealed = s.seal_command(&template).expect("seal");
            prop_assert_eq!(usize::from(sealed[4]), data.len() + 8);
            let header = [0x84, ins, 0x00, 0x00];
            let body = &sealed[5..];
            prop_assert_eq!(s.verify(header, body).expect("verify"), data.as_slice());
            let mut bad = body.to_vec();
            let i = flip.index(bad.len());
            bad[i] ^= 1 << bit;
            prop_assert!(matches!(s.verify(header, &bad), Err(ScriptError::BadMac)));
            let mut other_atc = atc;
            other_atc[1] ^= 1;
            // Visa: the ATC is in the key and the MAC input. EMV common: only through the ARQC
            // (which covers the ATC), so the same ARQC with another ATC still verifies.
            let with_other_atc = session(opt, other_atc, arqc).verify(header, body).is_ok();
            prop_assert_eq!(with_other_atc, opt == ScriptMacOption::EmvCommon);
            let mut other_arqc = arqc;
            other_arqc[7] ^= 1;
            prop_assert!(session(opt, atc, other_arqc).verify(header, body).is_err());
        }

        /// Whatever a terminal sends as script data, the check returns a typed result.
        #[test]
        fn verify_never_panics(
            opt in option(),
            header in any::<[u8; 4]>(),
            body in proptest::collection::vec(any::<u8>(), 0..=300),
            scripts in proptest::collection::vec(any::<u8>(), 0..=300),
        ) {
            let s = session(opt, [0, 1], [2; 8]);
            let _ = s.verify(header, &body);
            let _ = s.seal_scripts(&scripts);
            let _ = s.seal_command(&scripts);
        }
    }
}
