//! A scripted fake acquirer answering every request on one loopback port: sign-on (0800) with
//! fixed working keys under [`TMK`], everything else from the test's `answer` applied to a bare
//! response (MTI, 3, 4, 11, 25, 41, 42, 49, 60 echoed), then MACed with the TAK unless the
//! answer set field 64 itself (the value `NOMAC!!!` removes it). Every request frame goes back
//! to the test on a channel, in order. Shared by fake_host.rs and qr_order.rs; the link tests'
//! TLS-capable host is `support/mod.rs`.

use smartpos_crypto::key::{KeyAlgorithm, SecretKey};
use smartpos_crypto::keyhier;
use smartpos_host::link::{read_frame, write_frame};
use smartpos_host::mac::{self, MacAlgorithm};
use smartpos_iso8583::{Frame, Message, Profile};
use std::net::TcpListener;
use std::sync::mpsc;

pub const TMK: &str = "11111111111111112222222222222222";
pub const TPK: &str = "0123456789ABCDEFFEDCBA9876543210";
pub const TAK: &str = "89ABCDEF01234567FEDCBA9876543210";

/// The test's answer: the request and the response to fill in. It is also called for the
/// sign-on, after the keys were put in field 62.
pub type Answer = Box<dyn FnMut(&Message, &mut Message) + Send>;

/// Start the host; returns its address and the channel of request frames.
pub fn scripted_host(mut answer: Answer) -> (String, mpsc::Receiver<Frame>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr").to_string();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let p = Profile::cups_pos();
        let tmk = SecretKey::from_hex(KeyAlgorithm::Tdes2, TMK).expect("tmk");
        let tpk = SecretKey::from_hex(KeyAlgorithm::Tdes2, TPK).expect("tpk");
        let tak = SecretKey::from_hex(KeyAlgorithm::Tdes2, TAK).expect("tak");
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { return };
            while let Ok(payload) = read_frame(&mut s) {
                let Ok(frame) = p.unpack_frame(&payload) else {
                    return;
                };
                let req = frame.message.clone();
                let _ = tx.send(frame.clone());
                let Ok(mut r) = req.respond(&[2, 3, 4, 11, 25, 41, 42, 49, 60]) else {
                    return;
                };
                if req.mti().as_str() == "0800" {
                    let _ = r.set_response_code("00");
                    let mut f62 = Vec::new();
                    for k in [&tpk, &tak, &tak] {
                        let (e, c) = keyhier::encipher_working_key(&tmk, k).expect("wrap");
                        f62.extend(e);
                        f62.extend(c);
                    }
                    let _ = r.set_binary(62, &f62);
                }
                answer(&req, &mut r);
                if req.mti().class() != 8 && !r.has(64) {
                    let _ = mac::sign(p, MacAlgorithm::CupEcb, &tak, &mut r);
                }
                if r.binary(64) == Some(b"NOMAC!!!") {
                    r.remove(64);
                }
                let out = Frame {
                    tpdu: frame.tpdu.map(|t| t.reply()),
                    header: frame.header.clone(),
                    message: r,
                };
                let Ok(bytes) = p.pack_frame(&out) else {
                    return;
                };
                if write_frame(&mut s, &bytes).is_err() {
                    return;
                }
            }
        }
    });
    (addr, rx)
}
