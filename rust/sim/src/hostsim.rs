//! The acquirer/issuer host simulator: a real TCP (or TLS) server speaking the cups-pos dialect
//! of smartpos-host (see `smartpos_host::dialect`).
//!
//! * [`HostSim::start`] binds (e.g. `127.0.0.1:0`), returns at once and serves every connection
//!   on its own thread; [`HostSim::addr`] is the bound address; [`HostSim::shutdown`] or drop
//!   stops it.
//! * It plays the acquirer (terminal TMKs, fresh working keys at every sign-on, request MAC
//!   check → A0, settlement totals → 95) and the issuer (PIN check against the card table with a
//!   try limit, ARQC verification and ARPC in field 55, prepaid balances, QR orders that become
//!   paid after N polls). See [`config`] for the configuration format, the default virtual cards
//!   (PAN, PSN, PIN, IMK) and the response rules table.
//! * It remembers what it did ([`HostSim::ledger`]): a repeated request (same terminal, MTI and
//!   STAN) is answered from a cache and not re-authorised; a repeated reversal is acknowledged
//!   and applied once; a repeated settlement of a settled batch is answered 00 with the same
//!   totals, 95 with others. Value-added data of a sale (field 63 `VAD`) is parsed and kept on
//!   its ledger entry (`LedgerEntry::value_added`, `Ledger::value_added_of`); a malformed one is answered 30 (format error), nothing booked.
//! * Faults ([`Fault`]) for the next N requests: delay, drop the connection, no answer, garbage,
//!   wrong MAC, duplicated response, bad KCV at sign-on. The request is processed (and recorded)
//!   before the fault hits its answer, as a real host that approved and then lost the line.

pub mod config;
mod engine;
pub mod icc;
pub mod ledger;
pub mod pki;

pub use config::{DEFAULT_CONFIG_JSON, HostSimConfig};
pub use engine::ConfigError;
pub use engine::WalletPayError;
pub use ledger::{Ledger, LedgerEntry, SettlementRecord, TxnKind, ValueAddedRecord};
pub use pki::{Identity, TestCa};

use engine::Engine;
use openssl::ssl::{SslAcceptor, SslMethod, SslVerifyMode};
use openssl::x509::X509;
use openssl::x509::store::X509StoreBuilder;
use smartpos_host::link::{read_frame, write_frame};
use smartpos_iso8583::{Frame, Profile};
use std::collections::VecDeque;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

/// A fault applied to the answer of one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Answer after this delay.
    Delay(Duration),
    /// Close the connection instead of answering.
    Drop,
    /// Keep the connection open and never answer.
    NoAnswer,
    /// Answer with bytes that are not a message.
    Garbage,
    /// Answer with a corrupted field 64.
    WrongMac,
    /// Send the answer twice.
    Duplicate,
    /// At sign-on, corrupt the MAC key's KCV in field 62.
    BadKcv,
}

impl Fault {
    fn from_entry(e: &config::FaultEntry) -> Result<Fault, ConfigError> {
        Ok(match e.kind.as_str() {
            "delay" => Fault::Delay(Duration::from_millis(e.ms)),
            "drop" => Fault::Drop,
            "no-answer" => Fault::NoAnswer,
            "garbage" => Fault::Garbage,
            "wrong-mac" => Fault::WrongMac,
            "duplicate" => Fault::Duplicate,
            "bad-kcv" => Fault::BadKcv,
            other => {
                return Err(ConfigError::UnknownValue {
                    what: "fault kind",
                    value: other.to_string(),
                });
            }
        })
    }
}

/// Why the simulator could not start.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// Bad configuration.
    #[error("configuration: {0}")]
    Config(#[from] ConfigError),
    /// Bad configuration JSON.
    #[error("configuration JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// Socket error.
    #[error("socket: {0}")]
    Io(#[from] std::io::Error),
    /// TLS setup error (certificate, key).
    #[error("TLS: {0}")]
    Tls(String),
}

/// TLS settings of the simulator.
#[derive(Debug, Clone)]
pub struct ServerTls {
    /// Server certificate and key.
    pub identity: Identity,
    /// When set, clients must present a certificate issued by this CA (PEM).
    pub client_ca_pem: Option<Vec<u8>>,
}

trait Conn: Read + Write + Send {}
impl<T: Read + Write + Send> Conn for T {}

struct Shared {
    engine: Mutex<Engine>,
    faults: Mutex<VecDeque<Fault>>,
    stop: AtomicBool,
    conns: Mutex<std::collections::HashMap<u64, TcpStream>>,
    next_conn: std::sync::atomic::AtomicU64,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// A running host simulator.
pub struct HostSim {
    addr: SocketAddr,
    shared: Arc<Shared>,
    accept: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for HostSim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HostSim").field("addr", &self.addr).finish()
    }
}

fn tls_err(what: &str, e: impl std::fmt::Display) -> SimError {
    SimError::Tls(format!("{what}: {e}"))
}

fn acceptor(tls: &ServerTls) -> Result<SslAcceptor, SimError> {
    let mut b = SslAcceptor::mozilla_intermediate_v5(SslMethod::tls_server())
        .map_err(|e| tls_err("acceptor", e))?;
    let cert = X509::from_pem(&tls.identity.cert_pem).map_err(|e| tls_err("certificate", e))?;
    let key = openssl::pkey::PKey::private_key_from_pem(&tls.identity.key_pem)
        .map_err(|e| tls_err("private key", e))?;
    b.set_certificate(&cert)
        .map_err(|e| tls_err("certificate", e))?;
    b.set_private_key(&key)
        .map_err(|e| tls_err("private key", e))?;
    b.check_private_key().map_err(|e| tls_err("key pair", e))?;
    if let Some(ca) = &tls.client_ca_pem {
        let ca = X509::from_pem(ca).map_err(|e| tls_err("client CA", e))?;
        let mut store = X509StoreBuilder::new().map_err(|e| tls_err("store", e))?;
        store.add_cert(ca).map_err(|e| tls_err("client CA", e))?;
        b.set_verify_cert_store(store.build())
            .map_err(|e| tls_err("client CA", e))?;
        b.set_verify(SslVerifyMode::PEER | SslVerifyMode::FAIL_IF_NO_PEER_CERT);
    }
    Ok(b.build())
}

impl HostSim {
    /// Start on `listen` (e.g. `127.0.0.1:0`) with `config`, plain TCP or TLS.
    pub fn start(
        config: &HostSimConfig,
        listen: &str,
        tls: Option<&ServerTls>,
    ) -> Result<HostSim, SimError> {
        let engine = Engine::new(config)?;
        let faults = config
            .faults
            .iter()
            .map(|f| Fault::from_entry(f).map(|k| std::iter::repeat_n(k, f.count as usize)))
            .collect::<Result<Vec<_>, _>>()?
            .into_iter()
            .flatten()
            .collect();
        let acceptor = match tls {
            Some(t) => Some(Arc::new(acceptor(t)?)),
            None => None,
        };
        let listener = TcpListener::bind(listen)?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            engine: Mutex::new(engine),
            faults: Mutex::new(faults),
            stop: AtomicBool::new(false),
            conns: Mutex::new(std::collections::HashMap::new()),
            next_conn: std::sync::atomic::AtomicU64::new(0),
        });
        let s = Arc::clone(&shared);
        let accept = std::thread::Builder::new()
            .name("hostsim-accept".into())
            .spawn(move || accept_loop(listener, s, acceptor))?;
        Ok(HostSim {
            addr,
            shared,
            accept: Some(accept),
        })
    }

    /// Plain TCP on 127.0.0.1 (any free port) with the default configuration.
    pub fn start_default() -> Result<HostSim, SimError> {
        HostSim::start(&HostSimConfig::default_config(), "127.0.0.1:0", None)
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// A snapshot of what the host approved, reversed and was advised of.
    pub fn ledger(&self) -> Ledger {
        lock(&self.shared.engine).ledger()
    }

    /// A prepaid card's balance.
    pub fn balance(&self, pan: &str) -> Option<u64> {
        lock(&self.shared.engine).balance(pan)
    }

    /// A simulated customer's wallet scans a merchant-presented QR `payload` the terminal
    /// shows and pays it: the order it names (this host's account template, ID 26) becomes
    /// paid — the terminal's next query answers 00 — and the ledger approves it, so settlement
    /// totals count it. Returns the order RRN.
    pub fn wallet_pay(&self, payload: &str) -> Result<String, WalletPayError> {
        lock(&self.shared.engine).wallet_pay(payload)
    }

    /// Apply `fault` to the answers of the next `count` requests (after any already queued).
    pub fn inject(&self, fault: Fault, count: u32) {
        let mut q = lock(&self.shared.faults);
        for _ in 0..count {
            q.push_back(fault);
        }
    }

    /// Drop all queued faults.
    pub fn clear_faults(&self) {
        lock(&self.shared.faults).clear();
    }

    /// Stop accepting, close every connection and join the accept thread.
    pub fn shutdown(&mut self) {
        if self.shared.stop.swap(true, Ordering::SeqCst) {
            return;
        }
        // Wake the blocking accept.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        for (_, c) in lock(&self.shared.conns).drain() {
            let _ = c.shutdown(std::net::Shutdown::Both);
        }
        if let Some(h) = self.accept.take() {
            let _ = h.join();
        }
    }
}

impl Drop for HostSim {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn accept_loop(listener: TcpListener, shared: Arc<Shared>, acceptor: Option<Arc<SslAcceptor>>) {
    for stream in listener.incoming() {
        if shared.stop.load(Ordering::SeqCst) {
            break;
        }
        let Ok(stream) = stream else { continue };
        let id = shared.next_conn.fetch_add(1, Ordering::SeqCst);
        if let Ok(c) = stream.try_clone() {
            lock(&shared.conns).insert(id, c);
        }
        let s = Arc::clone(&shared);
        let a = acceptor.clone();
        let _ = std::thread::Builder::new()
            .name("hostsim-conn".into())
            .spawn(move || {
                serve(&s, stream, a);
                // Close the socket for real (the registry holds a clone of it).
                if let Some(c) = lock(&s.conns).remove(&id) {
                    let _ = c.shutdown(std::net::Shutdown::Both);
                }
            });
    }
}

fn serve(shared: &Shared, stream: TcpStream, acceptor: Option<Arc<SslAcceptor>>) {
    let _ = stream.set_nodelay(true);
    let mut conn: Box<dyn Conn> = match acceptor {
        Some(a) => match a.accept(stream) {
            Ok(t) => Box::new(t),
            Err(e) => {
                log::info!("hostsim: TLS handshake failed: {e}");
                return;
            }
        },
        None => Box::new(stream),
    };
    let profile = Profile::cups_pos();
    loop {
        if shared.stop.load(Ordering::SeqCst) {
            return;
        }
        let Ok(payload) = read_frame(&mut conn) else {
            return;
        };
        let fault = lock(&shared.faults).pop_front();
        let Ok(frame) = profile.unpack_frame(&payload) else {
            log::info!(
                "hostsim: unreadable request of {} bytes, closing",
                payload.len()
            );
            return;
        };
        let resp = lock(&shared.engine).handle(&frame.message, fault == Some(Fault::BadKcv));
        let Some(mut resp) = resp else { continue };
        if fault == Some(Fault::WrongMac) {
            let mut m = resp.binary(64).map(<[u8]>::to_vec).unwrap_or(vec![0u8; 8]);
            if let Some(b) = m.first_mut() {
                *b ^= 0x01;
            }
            let _ = resp.set_binary(64, &m);
        }
        let out = Frame {
            tpdu: frame.tpdu.map(|t| t.reply()),
            header: frame.header.clone(),
            message: resp,
        };
        let Ok(bytes) = profile.pack_frame(&out) else {
            continue;
        };
        let sent = match fault {
            Some(Fault::Delay(d)) => {
                std::thread::sleep(d);
                write_frame(&mut conn, &bytes)
            }
            Some(Fault::Drop) => return,
            Some(Fault::NoAnswer) => continue,
            Some(Fault::Garbage) => write_frame(&mut conn, &[0xEE; 24]),
            Some(Fault::Duplicate) => {
                write_frame(&mut conn, &bytes).and_then(|_| write_frame(&mut conn, &bytes))
            }
            _ => write_frame(&mut conn, &bytes),
        };
        if sent.is_err() {
            return;
        }
    }
}
