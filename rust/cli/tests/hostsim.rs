//! `smartpos hostsim` run as a real process: the first stdout line is the bound address, and the
//! server answers cups-pos frames over TCP.

mod common;

use common::{run, start_hostsim as start, stdout_json};
use serde_json::Value;
use smartpos_iso8583::{Frame, Message, Mti, Profile, Tpdu};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

fn exchange(addr: &str, m: Message) -> Message {
    let p = Profile::cups_pos();
    let frame = Frame::new(Tpdu::new(1, 0), &[0x60, 0x31, 0, 0x31, 0, 0], m);
    let bytes = p.pack_frame(&frame).expect("pack");
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let mut out = (bytes.len() as u16).to_be_bytes().to_vec();
    out.extend_from_slice(&bytes);
    s.write_all(&out).expect("send");
    let mut len = [0u8; 2];
    s.read_exact(&mut len).expect("length");
    let mut body = vec![0u8; usize::from(u16::from_be_bytes(len))];
    s.read_exact(&mut body).expect("body");
    p.unpack_frame(&body).expect("unpack").message
}

fn network_request(mti: &str, code: &str) -> Message {
    let mut m = Message::new(Mti::new(mti).expect("mti"));
    m.set_stan(7).expect("stan");
    m.set_terminal_id("12345678").expect("tid");
    m.set_merchant_id("123456789012345").expect("mid");
    m.set_text(60, &format!("00000001{code}")).expect("60");
    m
}

#[test]
fn prints_the_address_then_answers_echo_and_sign_on() {
    let (_sim, addr) = start(&[]);
    assert!(addr.starts_with("127.0.0.1:"), "first line: {addr}");
    assert_ne!(addr, "127.0.0.1:0");
    let echo = exchange(&addr, network_request("0820", "301"));
    assert_eq!(echo.mti().as_str(), "0830");
    assert_eq!(echo.response_code(), Some("00"));
    assert_eq!(echo.stan().expect("stan"), Some(7));
    let signon = exchange(&addr, network_request("0800", "004"));
    assert_eq!(signon.mti().as_str(), "0810");
    assert_eq!(signon.response_code(), Some("00"));
    assert_eq!(
        signon.binary(62).map(<[u8]>::len),
        Some(60),
        "PIN, MAC, data keys + KCVs"
    );
}

#[test]
fn json_first_line_describes_the_listener() {
    let (_sim, line) = start(&["--json"]);
    let v: Value = serde_json::from_str(&line).expect("json line");
    assert_eq!(v["tls"], false);
    // The three contact accounts and the contactless Mastercard and UnionPay ones.
    assert_eq!(v["cards"], 5);
    assert!(
        v["listen"]
            .as_str()
            .is_some_and(|a| a.starts_with("127.0.0.1:"))
    );
}

#[test]
fn print_config_shows_the_test_cards() {
    let v = stdout_json(&run(&["hostsim", "--print-config", "--json"]));
    let pans: Vec<&str> = v["cards"]
        .as_array()
        .expect("cards")
        .iter()
        .filter_map(|c| c["pan"].as_str())
        .collect();
    assert_eq!(
        pans,
        [
            "4761739001010010",
            "5413330089010434",
            "6214000000000000019",
            // The contactless Mastercard and UnionPay virtual cards (Visa shares the first).
            "5413330089020011",
            "6228480088888888"
        ]
    );
}

#[test]
fn bad_config_file_is_a_usage_error() {
    let dir = std::env::temp_dir().join(format!("smartpos-hostsim-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let path = dir.join("bad.json");
    std::fs::write(&path, "{\"terminals\": 5}").expect("write");
    let out = run(&[
        "hostsim",
        "--config",
        path.to_str().expect("UTF-8 temp path"),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--config"));
    let out = run(&["hostsim", "--tls", "only-one-file.pem"]);
    assert_eq!(out.status.code(), Some(2));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn tls_listener_from_pem_files() {
    let ca = smartpos_sim::hostsim::TestCa::new("cli test CA").expect("ca");
    let id = ca.issue_server(&["localhost"]).expect("server cert");
    let dir = std::env::temp_dir().join(format!("smartpos-hostsim-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let cert = dir.join("server.pem");
    let key = dir.join("server.key");
    std::fs::write(&cert, &id.cert_pem).expect("cert");
    std::fs::write(&key, &id.key_pem).expect("key");
    let spec = format!("{},{}", cert.display(), key.display());
    let (_sim, line) = start(&["--tls", &spec, "--json"]);
    let v: Value = serde_json::from_str(&line).expect("json line");
    assert_eq!(v["tls"], true);
    // A plain-TCP frame is not a TLS ClientHello: the server answers nothing usable.
    let addr = v["listen"].as_str().expect("listen").to_string();
    let mut s = TcpStream::connect(&addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    s.write_all(&[0x00, 0x05, 0x60, 0x00, 0x01, 0x00, 0x00])
        .expect("send");
    let mut buf = [0u8; 2];
    let got = s.read_exact(&mut buf);
    assert!(
        got.is_err() || buf[0] == 0x15,
        "no cups-pos answer over a TLS port"
    );
    // A key that does not match the certificate is refused at start-up.
    let other = ca.issue_server(&["localhost"]).expect("other");
    std::fs::write(&key, &other.key_pem).expect("key");
    let out = run(&["hostsim", "--tls", &spec]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("TLS"));
    let _ = std::fs::remove_dir_all(&dir);
}
