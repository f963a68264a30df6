//! Virtual card + contact kernel + the host simulator over loopback TCP: the host verifies the
//! virtual card's ARQC under its issuer master key (EMV Book 2 §8.1.2) and answers with an ARPC
//! the card accepts in EXTERNAL AUTHENTICATE / the second GENERATE AC (§8.2, Book 3 §10.9).

use smartpos_crypto::key::{KeyAlgorithm, SecretKey};
use smartpos_crypto::keyhier::{HierarchyAlgorithm, KeyHierarchy};
use smartpos_emv::{
    ContactKernel, Decision, FixedPinPad, HostResponse, Interaction, NoServices, Step,
    TerminalConfig, TransactionParams, TsiBit,
};
use smartpos_host::{CardData, HostClient, LinkConfig, MemoryStore, PinInput, SaleRequest};
use smartpos_sim::card::{IssuerAuth, VirtualCard};
use smartpos_sim::hostsim::HostSim;
use smartpos_sim::pki::TestPki;
use smartpos_tlv::{Tag, TlvReader};
use std::sync::Arc;
use std::time::Duration;

struct NoUi;
impl smartpos_emv::CardholderInterface for NoUi {
    fn choose_application(&mut self, _c: &[smartpos_emv::Candidate]) -> smartpos_emv::Choice {
        smartpos_emv::Choice::Select(0)
    }
    fn language_selected(&mut self, _l: &str) {}
}

fn host_client(sim: &HostSim) -> HostClient<MemoryStore> {
    let mut keys = KeyHierarchy::new(HierarchyAlgorithm::Tdes);
    // The host simulator's default terminal 12345678 and its test TMK.
    keys.install_tmk(
        SecretKey::from_hex(KeyAlgorithm::Tdes2, "11111111111111112222222222222222").expect("tmk"),
    )
    .expect("install tmk");
    let link = LinkConfig::tcp(sim.addr().to_string()).with_read_timeout(Duration::from_secs(2));
    let mut c = HostClient::new(
        link,
        smartpos_host::TerminalConfig::new("12345678", "123456789012345"),
        keys,
        MemoryStore::new(),
    );
    c.sign_on().expect("sign-on");
    c
}

#[test]
fn host_simulator_authorises_every_scheme_and_the_card_accepts_its_arpc() {
    let sim = HostSim::start_default().expect("host simulator");
    let mut host = host_client(&sim);
    let pki = TestPki::shared().expect("pki");
    let kernel = ContactKernel::new(
        Arc::new(TerminalConfig::demo().expect("config")),
        Arc::new(pki.key_store().expect("keys")),
    );
    for name in ["visa-dda-offline-pin", "mc-cda-online-pin", "up-cda-no-cvm"] {
        let mut card = VirtualCard::from_profile(name).expect("card");
        let profile = card.profile().clone();
        let mut pp = FixedPinPad {
            pin: Some(zeroize::Zeroizing::new(profile.pin.clone())),
            online_block: None,
        };
        let params = TransactionParams::new(2500, "261121", "101500", [9, 8, 7, 6]).expect("p");
        let step = kernel.start(
            &mut card,
            params,
            Interaction {
                ui: &mut NoUi,
                pin_pad: &mut pp,
                services: &mut NoServices,
            },
        );
        let Step::Online(req) = step else {
            panic!("{name}: online request expected")
        };
        let psn = format!("{:02}", profile.scheme.psn());
        let answer = host
            .sale(&SaleRequest {
                amount: 2500,
                card: CardData::chip(profile.scheme.pan(), &psn, req.data_record.clone()),
                pin: PinInput::None,
            })
            .expect("host answer");
        assert!(answer.code.is_approved(), "{name}: {}", answer.code);
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
        assert_eq!(iad.len(), 10, "{name}: ARPC method 1 + ARC");
        let r = req.complete(
            &mut card,
            &HostResponse {
                approved: true,
                arc: answer.code.as_str().to_string(),
                issuer_authentication_data: iad,
                scripts,
            },
        );
        assert_eq!(r.decision, Decision::Approved, "{name}: {r:?}");
        assert_eq!(card.issuer_auth(), IssuerAuth::Passed, "{name}");
        assert!(
            r.tsi.is_set(TsiBit::IssuerAuthenticationPerformed),
            "{name}"
        );
    }
}
