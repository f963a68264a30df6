//! A hostile host: whatever bytes come back, the client returns a typed error (or, for a response
//! that still matches the request, a result) and never panics.

use proptest::prelude::*;
use smartpos_crypto::key::{KeyAlgorithm, SecretKey};
use smartpos_crypto::keyhier::{HierarchyAlgorithm, KeyHierarchy};
use smartpos_host::link::{read_frame, write_frame};
use smartpos_host::{HostClient, LinkConfig, MemoryStore, TerminalConfig};
use smartpos_iso8583::{Frame, Message, Mti, Profile, Tpdu};
use std::net::TcpListener;
use std::time::Duration;

/// A valid 0830 answer to the client's first echo (STAN 1).
fn echo_answer() -> Vec<u8> {
    let mut m = Message::new(Mti::new("0830").expect("mti"));
    m.set_stan(1).expect("11");
    m.set_response_code("00").expect("39");
    m.set_terminal_id("12345678").expect("41");
    m.set_merchant_id("123456789012345").expect("42");
    m.set_text(60, "00000001301").expect("60");
    let f = Frame::new(Tpdu::new(0, 1), &[0x60, 0x31, 0, 0x31, 0, 0], m);
    Profile::cups_pos().pack_frame(&f).expect("pack")
}

fn answer_with(payload: Vec<u8>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr").to_string();
    std::thread::spawn(move || {
        if let Ok((mut s, _)) = listener.accept() {
            if read_frame(&mut s).is_ok() {
                let _ = write_frame(&mut s, &payload);
            }
        }
    });
    addr
}

fn echo(addr: String) -> Result<smartpos_host::HostResponse, smartpos_host::HostError> {
    let mut keys = KeyHierarchy::new(HierarchyAlgorithm::Tdes);
    keys.install_tmk(
        SecretKey::from_hex(KeyAlgorithm::Tdes2, "11111111111111112222222222222222").expect("tmk"),
    )
    .expect("install");
    let link = LinkConfig::tcp(addr).with_read_timeout(Duration::from_secs(5));
    let mut c = HostClient::new(
        link,
        TerminalConfig::new("12345678", "123456789012345"),
        keys,
        MemoryStore::new(),
    );
    c.echo()
}

#[test]
fn the_untouched_answer_is_accepted() {
    let r = echo(answer_with(echo_answer())).expect("echo");
    assert_eq!(r.stan, 1);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn mutated_answers_never_panic(flips in proptest::collection::vec((0usize..64, 1u8..=255), 1..4)) {
        let mut bytes = echo_answer();
        for (i, x) in &flips {
            let n = bytes.len();
            if let Some(b) = bytes.get_mut(i % n) {
                *b ^= x;
            }
        }
        if let Ok(r) = echo(answer_with(bytes)) {
            // Only a response that still matches the request can be believed.
            prop_assert_eq!(r.stan, 1);
            prop_assert_eq!(r.message.terminal_id(), Some("12345678"));
            let mti = r.message.mti();
            prop_assert_eq!(mti.as_str(), "0830");
        }
    }

    #[test]
    fn random_answers_are_errors(payload in proptest::collection::vec(any::<u8>(), 1..80)) {
        prop_assert!(echo(answer_with(payload)).is_err());
    }
}
