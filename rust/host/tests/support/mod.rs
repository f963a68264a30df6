//! A scripted fake acquirer for the link tests: plain TCP or TLS (a self-signed `localhost`
//! certificate made here with OpenSSL), answering only the MTIs it is told to and reporting every
//! connection and request to the test on a channel, in order.

#![allow(dead_code)]

use openssl::asn1::Asn1Time;
use openssl::bn::{BigNum, MsbOption};
use openssl::ec::{EcGroup, EcKey};
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{PKey, Private};
use openssl::ssl::{SslAcceptor, SslMethod};
use openssl::x509::extension::SubjectAlternativeName;
use openssl::x509::{X509, X509NameBuilder};
use smartpos_crypto::key::{KeyAlgorithm, SecretKey};
use smartpos_crypto::keyhier::{self, HierarchyAlgorithm, KeyHierarchy};
use smartpos_host::link::{read_frame, write_frame};
use smartpos_host::mac::{self, MacAlgorithm};
use smartpos_host::{HostClient, LinkConfig, MemoryStore, TerminalConfig, TlsConfig};
use smartpos_iso8583::{Frame, Message, Profile};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::Duration;

pub const TMK: &str = "11111111111111112222222222222222";
pub const TPK: &str = "0123456789ABCDEFFEDCBA9876543210";
pub const TAK: &str = "89ABCDEF01234567FEDCBA9876543210";
pub const PAN: &str = "4761739001010010";
pub const TID: &str = "12345678";
pub const MID: &str = "123456789012345";

/// What the fake host saw, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seen {
    /// A TCP connection was accepted.
    Connected,
    /// A request frame arrived (the whole frame, for the test to inspect).
    Request(Box<Frame>),
}

impl Seen {
    /// The MTI of a request, `None` for a connection.
    pub fn mti(&self) -> Option<String> {
        match self {
            Seen::Request(f) => Some(f.message.mti().as_str().to_string()),
            Seen::Connected => None,
        }
    }
}

/// How the fake host behaves.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Behaviour {
    /// Answer 0800 (with working keys) and 0820 with 00; 0200 with 00 and a MAC; nothing else.
    AnswerAll,
    /// Answer 0800 and 0820, never a financial request.
    SwallowFinancial,
    /// Accept TCP and never say a word (not even the TLS handshake).
    Mute,
    /// Answer like `AnswerAll`, but write each answer in two pieces with a pause between them.
    Trickle(Duration),
}

/// A self-signed certificate for `localhost` / 127.0.0.1 and its key.
pub fn self_signed() -> (X509, PKey<Private>) {
    let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).expect("group");
    let key = PKey::from_ec_key(EcKey::generate(&group).expect("ec key")).expect("pkey");
    let mut name = X509NameBuilder::new().expect("name");
    name.append_entry_by_text("CN", "localhost").expect("cn");
    let name = name.build();
    let mut b = X509::builder().expect("builder");
    b.set_version(2).expect("version");
    let mut serial = BigNum::new().expect("bn");
    serial
        .rand(64, MsbOption::MAYBE_ZERO, false)
        .expect("serial");
    b.set_serial_number(&serial.to_asn1_integer().expect("serial"))
        .expect("serial");
    b.set_subject_name(&name).expect("subject");
    b.set_issuer_name(&name).expect("issuer");
    b.set_pubkey(&key).expect("pubkey");
    b.set_not_before(&Asn1Time::days_from_now(0).expect("t"))
        .expect("nb");
    b.set_not_after(&Asn1Time::days_from_now(2).expect("t"))
        .expect("na");
    let san = SubjectAlternativeName::new()
        .dns("localhost")
        .ip("127.0.0.1")
        .build(&b.x509v3_context(None, None))
        .expect("san");
    b.append_extension(san).expect("san");
    b.sign(&key, MessageDigest::sha256()).expect("sign");
    (b.build(), key)
}

/// A server TLS acceptor and the client's TLS settings trusting it.
pub fn tls_pair() -> (Arc<SslAcceptor>, TlsConfig) {
    let (cert, key) = self_signed();
    let mut a = SslAcceptor::mozilla_intermediate_v5(SslMethod::tls_server()).expect("acceptor");
    a.set_certificate(&cert).expect("cert");
    a.set_private_key(&key).expect("key");
    let client = TlsConfig {
        ca_cert_pem: cert.to_pem().expect("pem"),
        server_name: "localhost".into(),
        pinned_spki_sha256: None,
        client_identity: None,
    };
    (Arc::new(a.build()), client)
}

trait Conn: Read + Write + Send {}
impl<T: Read + Write + Send> Conn for T {}

/// Start a fake host; returns its address and the channel of what it saw.
pub fn fake_host(
    behaviour: Behaviour,
    tls: Option<Arc<SslAcceptor>>,
) -> (String, mpsc::Receiver<Seen>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr").to_string();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            if tx.send(Seen::Connected).is_err() {
                return;
            }
            let tx = tx.clone();
            let tls = tls.clone();
            std::thread::spawn(move || serve(stream, behaviour, tls, tx));
        }
    });
    (addr, rx)
}

fn serve(
    stream: TcpStream,
    behaviour: Behaviour,
    tls: Option<Arc<SslAcceptor>>,
    tx: mpsc::Sender<Seen>,
) {
    if behaviour == Behaviour::Mute {
        // Hold the socket open until the client goes away.
        let mut s = stream;
        let mut sink = [0u8; 512];
        while matches!(s.read(&mut sink), Ok(n) if n > 0) {}
        return;
    }
    let mut conn: Box<dyn Conn> = match tls {
        Some(a) => match a.accept(stream) {
            Ok(s) => Box::new(s),
            Err(_) => return,
        },
        None => Box::new(stream),
    };
    let p = Profile::cups_pos();
    let tmk = SecretKey::from_hex(KeyAlgorithm::Tdes2, TMK).expect("tmk");
    let tpk = SecretKey::from_hex(KeyAlgorithm::Tdes2, TPK).expect("tpk");
    let tak = SecretKey::from_hex(KeyAlgorithm::Tdes2, TAK).expect("tak");
    while let Ok(payload) = read_frame(&mut conn) {
        let Ok(frame) = p.unpack_frame(&payload) else {
            return;
        };
        let req = frame.message.clone();
        if tx.send(Seen::Request(Box::new(frame.clone()))).is_err() {
            return;
        }
        let mti = req.mti().as_str().to_string();
        let answer = match behaviour {
            Behaviour::SwallowFinancial => mti == "0800" || mti == "0820",
            Behaviour::Mute => false,
            Behaviour::AnswerAll | Behaviour::Trickle(_) => true,
        };
        if !answer {
            continue;
        }
        let Ok(mut r) = req.respond(&[2, 3, 4, 11, 25, 41, 42, 49, 60]) else {
            return;
        };
        let _ = r.set_response_code("00");
        let _ = r.set_rrn("000000000123");
        if mti == "0800" {
            let mut f62 = Vec::new();
            for k in [&tpk, &tak, &tak] {
                let (e, c) = keyhier::encipher_working_key(&tmk, k).expect("wrap");
                f62.extend(e);
                f62.extend(c);
            }
            let _ = r.set_binary(62, &f62);
        } else if req.mti().class() != 8 {
            let _ = r.set_auth_code("654321");
            let _ = mac::sign(p, MacAlgorithm::CupEcb, &tak, &mut r);
        }
        let out = Frame {
            tpdu: frame.tpdu.map(|t| t.reply()),
            header: frame.header.clone(),
            message: r,
        };
        let Ok(bytes) = p.pack_frame(&out) else {
            return;
        };
        let written = match behaviour {
            Behaviour::Trickle(pause) => {
                let mut framed = (bytes.len() as u16).to_be_bytes().to_vec();
                framed.extend_from_slice(&bytes);
                let (a, b) = framed.split_at(7);
                conn.write_all(a)
                    .and_then(|_| conn.flush())
                    .and_then(|_| {
                        std::thread::sleep(pause);
                        conn.write_all(b)
                    })
                    .and_then(|_| conn.flush())
                    .is_ok()
            }
            _ => write_frame(&mut conn, &bytes).is_ok(),
        };
        if !written {
            return;
        }
    }
}

/// A client of the fake host with the given response timeout (not signed on).
pub fn client(
    addr: &str,
    read_timeout: Duration,
    tls: Option<TlsConfig>,
) -> HostClient<MemoryStore> {
    let mut link = LinkConfig::tcp(addr).with_read_timeout(read_timeout);
    if let Some(t) = tls {
        link = link.with_tls(t);
    }
    client_on(link)
}

/// A client on any link configuration (not signed on).
pub fn client_on(link: LinkConfig) -> HostClient<MemoryStore> {
    let mut keys = KeyHierarchy::new(HierarchyAlgorithm::Tdes);
    keys.install_tmk(SecretKey::from_hex(KeyAlgorithm::Tdes2, TMK).expect("tmk"))
        .expect("install");
    HostClient::new(
        link,
        TerminalConfig::new(TID, MID),
        keys,
        MemoryStore::new(),
    )
}

/// The next thing the fake host saw (waits up to 10 s; a test that gets nothing fails).
pub fn next(rx: &mpsc::Receiver<Seen>) -> Seen {
    rx.recv_timeout(Duration::from_secs(10))
        .expect("the fake host reported nothing")
}

/// Field 63 of a request the fake host saw.
pub fn field63(seen: &Seen) -> Option<String> {
    match seen {
        Seen::Request(f) => f.message.text(63).map(str::to_string),
        Seen::Connected => None,
    }
}

/// A request's message.
pub fn message(seen: &Seen) -> Message {
    match seen {
        Seen::Request(f) => f.message.clone(),
        Seen::Connected => panic!("expected a request, got a connection"),
    }
}

/// A TCP proxy in front of `upstream` that, while `cut` is true, forwards what the host sends in
/// two halves per read with `pause` between them, so TLS records (handshake and application
/// data) reach the client cut in the middle. Returns the proxy's address.
pub fn splitting_proxy(upstream: String, pause: Duration, cut: Arc<AtomicBool>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr").to_string();
    std::thread::spawn(move || {
        for client in listener.incoming() {
            let Ok(client) = client else { return };
            let Ok(server) = TcpStream::connect(&upstream) else {
                return;
            };
            let (Ok(mut c_in), Ok(mut s_out)) = (client.try_clone(), server.try_clone()) else {
                return;
            };
            // Client to host: as is.
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut c_in, &mut s_out);
                let _ = s_out.shutdown(std::net::Shutdown::Write);
            });
            // Host to client: each read cut in two, with a pause in between.
            let cut = Arc::clone(&cut);
            std::thread::spawn(move || {
                let (mut s_in, mut c_out) = (server, client);
                let mut buf = [0u8; 4096];
                loop {
                    let n = match s_in.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => n,
                    };
                    let at = if cut.load(Ordering::SeqCst) { n / 2 } else { n };
                    let (a, b) = buf.get(..n).unwrap_or_default().split_at(at);
                    if c_out.write_all(a).is_err() {
                        break;
                    }
                    if b.is_empty() {
                        continue;
                    }
                    std::thread::sleep(pause);
                    if c_out.write_all(b).is_err() {
                        break;
                    }
                }
                let _ = c_out.shutdown(std::net::Shutdown::Write);
            });
        }
    });
    addr
}
