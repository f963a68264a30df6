//! The acquirer link: TCP (optionally TLS) carrying frames of a 2-byte big-endian length followed
//! by TPDU + header + ISO 8583 message, as the UnionPay POS TCP/IP access convention lays them out
//! (the length counts the bytes after itself).
//!
//! Cancellation ([`CancelHook`]): every wait of the link — the TLS handshake and each read of a
//! response — is a loop of socket reads with a short timeout ([`CANCEL_POLL`]); between two
//! slices the loop looks at the hook and at the response deadline. This was chosen over shutting
//! a `try_clone()`d socket down from the cancelling thread because it works the same over TLS: an
//! [`SslStream`] owns its socket, a read that times out inside OpenSSL is an ordinary
//! `SSL_ERROR_WANT_READ` after which `SSL_read` (or the handshake) is simply called again with its
//! record state intact, and the bytes of a half-received frame stay in the link's own buffer
//! (`read_exact` would drop them on a timeout). No socket is shared between threads, so a cancel
//! that races with the end of a request or with the connection being dropped cannot close some
//! later connection. The cost is a cancel latency of at most one slice (50 ms). A blocking TCP
//! connect (and the name resolution before it) cannot be polled that way, so with a hook it runs
//! on a short-lived helper thread that the link stops waiting for on cancel (a connection it
//! completes afterwards is closed unused; no request is ever written on it). Writing a frame is
//! not polled: a frame fits the socket buffer, and a host that stops reading is bounded by
//! [`LinkConfig::write_timeout`].
//!
//! TLS goes through OpenSSL ([`openssl::ssl::SslConnector`]) with only the configured CA trusted
//! (the system trust store is replaced, not extended), host name verification on, an optional pin
//! of the leaf certificate's SubjectPublicKeyInfo (SHA-256 of its DER) and an optional client
//! certificate.

use crate::error::LinkError;
use openssl::pkey::PKey;
use openssl::ssl::{HandshakeError, SslConnector, SslMethod, SslStream, SslVerifyMode};
use openssl::x509::X509;
use openssl::x509::store::X509StoreBuilder;
use std::io::{ErrorKind, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use zeroize::Zeroizing;

/// X509_V_ERR codes that only say "no trusted issuer" (unable to get issuer certificate,
/// self-signed leaf, self-signed certificate in chain, unable to get local issuer, unable to
/// verify the leaf signature, untrusted): ignored in pin-only mode, where the pin is the trust.
const CHAIN_TRUST_ERRORS: [i32; 6] = [2, 18, 19, 20, 21, 27];

/// Largest frame accepted (the 2-byte prefix allows 65535).
pub const MAX_FRAME: usize = 65_535;

/// Longest socket read of a cancellable wait: a cancel is seen at most this long after it was
/// asked.
pub const CANCEL_POLL: Duration = Duration::from_millis(50);

/// A cancel flag the link polls while it waits for the host (handshake, response). The caller
/// keeps a clone and calls [`CancelHook::cancel`] from any thread; the flow in progress then ends
/// with [`crate::HostError::Cancelled`]. The terminal builds one from its own cancel token with
/// [`CancelHook::from_flag`] (both then share one flag). A hook stays cancelled once cancelled:
/// use a fresh one per transaction.
#[derive(Clone, Default)]
pub struct CancelHook(Arc<AtomicBool>);

impl CancelHook {
    /// A fresh, not cancelled hook.
    pub fn new() -> CancelHook {
        CancelHook::default()
    }

    /// A hook on an existing flag (e.g. the terminal's cancel token): `true` in the flag means
    /// cancelled.
    pub fn from_flag(flag: Arc<AtomicBool>) -> CancelHook {
        CancelHook(flag)
    }

    /// Ask the wait in progress (and every later one on this hook) to stop.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    /// Whether cancel was asked.
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

impl std::fmt::Debug for CancelHook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CancelHook(cancelled: {})", self.is_cancelled())
    }
}

fn is_cancelled(cancel: Option<&CancelHook>) -> bool {
    cancel.is_some_and(CancelHook::is_cancelled)
}

/// TLS settings of a link.
#[derive(Clone)]
pub struct TlsConfig {
    /// PEM of the one CA certificate trusted for the host. Empty: pin-only mode, where the leaf
    /// is trusted when its SPKI matches [`TlsConfig::pinned_spki_sha256`] (chain-of-trust errors are
    /// then ignored; host name, validity and signature errors are not).
    pub ca_cert_pem: Vec<u8>,
    /// Name checked against the host certificate (SAN DNS or IP).
    pub server_name: String,
    /// Optional pin: SHA-256 of the host leaf certificate's SubjectPublicKeyInfo DER.
    pub pinned_spki_sha256: Option<[u8; 32]>,
    /// Optional client certificate (PEM) and its private key (PEM).
    pub client_identity: Option<(Vec<u8>, Zeroizing<Vec<u8>>)>,
}

impl std::fmt::Debug for TlsConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsConfig")
            .field("server_name", &self.server_name)
            .field("pinned", &self.pinned_spki_sha256.is_some())
            .field("client_identity", &self.client_identity.is_some())
            .finish()
    }
}

/// Where and how to reach the host.
#[derive(Debug, Clone)]
pub struct LinkConfig {
    /// `host:port`.
    pub address: String,
    /// TCP connect timeout.
    pub connect_timeout: Duration,
    /// How long to wait for each read (the response timeout).
    pub read_timeout: Duration,
    /// How long a write may block.
    pub write_timeout: Duration,
    /// TLS, or plain TCP when `None`.
    pub tls: Option<TlsConfig>,
}

impl LinkConfig {
    /// Plain TCP with 5 s connect, 10 s read and 5 s write timeouts.
    pub fn tcp(address: impl Into<String>) -> LinkConfig {
        LinkConfig {
            address: address.into(),
            connect_timeout: Duration::from_secs(5),
            read_timeout: Duration::from_secs(10),
            write_timeout: Duration::from_secs(5),
            tls: None,
        }
    }

    /// The same with TLS.
    pub fn with_tls(mut self, tls: TlsConfig) -> LinkConfig {
        self.tls = Some(tls);
        self
    }

    /// The same with another read (response) timeout.
    pub fn with_read_timeout(mut self, timeout: Duration) -> LinkConfig {
        self.read_timeout = timeout;
        self
    }
}

/// SHA-256 of a certificate's SubjectPublicKeyInfo DER (the value [`TlsConfig::pinned_spki_sha256`]
/// holds).
pub fn spki_sha256(cert: &openssl::x509::X509Ref) -> Result<[u8; 32], openssl::error::ErrorStack> {
    let der = cert.public_key()?.public_key_to_der()?;
    Ok(openssl::sha::sha256(&der))
}

enum Stream {
    Plain(TcpStream),
    Tls(Box<SslStream<TcpStream>>),
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Stream::Plain(s) => s.read(buf),
            Stream::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Stream::Plain(s) => s.write(buf),
            Stream::Tls(s) => s.write(buf),
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Stream::Plain(s) => s.flush(),
            Stream::Tls(s) => s.flush(),
        }
    }
}

/// One open connection to the host.
pub struct Link {
    stream: Stream,
    /// The response timeout: the longest wait for the next bytes of a frame.
    read_timeout: Duration,
    /// The read timeout currently set on the socket.
    armed: Duration,
}

impl std::fmt::Debug for Link {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self.stream {
            Stream::Plain(_) => "Link(tcp)",
            Stream::Tls(_) => "Link(tls)",
        })
    }
}

fn io_err(during: &'static str, e: std::io::Error) -> LinkError {
    match e.kind() {
        ErrorKind::WouldBlock | ErrorKind::TimedOut => LinkError::Timeout { during },
        ErrorKind::UnexpectedEof
        | ErrorKind::ConnectionReset
        | ErrorKind::ConnectionAborted
        | ErrorKind::BrokenPipe => LinkError::Closed { during },
        _ => LinkError::Io { during, source: e },
    }
}

fn tls_config_err(what: &str, e: impl std::fmt::Display) -> LinkError {
    LinkError::TlsConfig(format!("{what}: {e}"))
}

impl Link {
    /// Connect (TCP, then the TLS handshake when configured).
    pub fn connect(config: &LinkConfig) -> Result<Link, LinkError> {
        Link::connect_cancellable(config, None)
    }

    /// [`Link::connect`] that gives up with [`LinkError::Cancelled`] within [`CANCEL_POLL`] of
    /// `cancel` being set: during the TCP connect (run on a helper thread the caller stops
    /// waiting for; a connection it completes later is closed unused) and the TLS handshake.
    pub fn connect_cancellable(
        config: &LinkConfig,
        cancel: Option<&CancelHook>,
    ) -> Result<Link, LinkError> {
        if is_cancelled(cancel) {
            return Err(LinkError::Cancelled {
                during: "connecting",
            });
        }
        let tcp = match cancel {
            None => connect_any(&config.address, config.connect_timeout),
            Some(hook) => connect_watched(&config.address, config.connect_timeout, hook)?,
        }?;
        if is_cancelled(cancel) {
            return Err(LinkError::Cancelled {
                during: "connecting",
            });
        }
        tcp.set_nodelay(true)
            .map_err(|e| io_err("setting TCP_NODELAY", e))?;
        tcp.set_read_timeout(Some(config.read_timeout))
            .map_err(|e| io_err("setting the read timeout", e))?;
        tcp.set_write_timeout(Some(config.write_timeout))
            .map_err(|e| io_err("setting the write timeout", e))?;
        let mut armed = config.read_timeout;
        let stream = match &config.tls {
            None => Stream::Plain(tcp),
            Some(tls) => {
                let s = handshake(tls, tcp, cancel, config.read_timeout)?;
                // The handshake may have left a shorter slice on the socket.
                armed = Duration::ZERO;
                Stream::Tls(Box::new(s))
            }
        };
        Ok(Link {
            stream,
            read_timeout: config.read_timeout,
            armed,
        })
    }

    /// Send one frame: 2-byte big-endian length, then `payload`.
    pub fn send(&mut self, payload: &[u8]) -> Result<(), LinkError> {
        write_frame(&mut self.stream, payload)
    }

    /// Whether the host has closed this (idle) connection: a non-blocking peek on the socket
    /// sees end-of-file or an error. Checked before reusing a connection, so a request is never
    /// written into a socket the host already closed (which would end in a needless reversal).
    pub fn is_closed_by_peer(&self) -> bool {
        let tcp = match &self.stream {
            Stream::Plain(s) => s,
            Stream::Tls(s) => s.get_ref(),
        };
        if tcp.set_nonblocking(true).is_err() {
            return true;
        }
        let mut b = [0u8; 1];
        let closed = match tcp.peek(&mut b) {
            Ok(0) => true,
            Ok(_) => false,
            Err(e) => e.kind() != ErrorKind::WouldBlock,
        };
        closed || tcp.set_nonblocking(false).is_err()
    }

    /// Receive one frame's payload (blocks up to the read timeout).
    pub fn receive(&mut self) -> Result<Vec<u8>, LinkError> {
        self.receive_cancellable(None)
    }

    /// [`Link::receive`] that ends with [`LinkError::Cancelled`] within [`CANCEL_POLL`] of
    /// `cancel` being set. The read timeout counts from the last bytes received (as a socket
    /// read timeout does), and a frame that was half read when the wait ended is not resumed:
    /// drop the link after any error.
    pub fn receive_cancellable(
        &mut self,
        cancel: Option<&CancelHook>,
    ) -> Result<Vec<u8>, LinkError> {
        let mut len = [0u8; 2];
        self.fill(&mut len, cancel, "reading the length prefix")?;
        let n = usize::from(u16::from_be_bytes(len));
        if n == 0 {
            return Err(LinkError::FrameLength {
                length: 0,
                max: MAX_FRAME,
            });
        }
        let mut payload = vec![0u8; n];
        self.fill(&mut payload, cancel, "reading the message")?;
        Ok(payload)
    }

    fn tcp(&self) -> &TcpStream {
        match &self.stream {
            Stream::Plain(s) => s,
            Stream::Tls(s) => s.get_ref(),
        }
    }

    /// Fill `buf` from the stream in reads of at most [`CANCEL_POLL`] (when `cancel` is given)
    /// or of the whole remaining read timeout (when not), looking at `cancel` between reads.
    fn fill(
        &mut self,
        buf: &mut [u8],
        cancel: Option<&CancelHook>,
        during: &'static str,
    ) -> Result<(), LinkError> {
        let mut filled = 0;
        let mut deadline = Instant::now() + self.read_timeout;
        while filled < buf.len() {
            if is_cancelled(cancel) {
                return Err(LinkError::Cancelled { during });
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(LinkError::Timeout { during });
            }
            let slice = match cancel {
                Some(_) => left.min(CANCEL_POLL),
                None => left,
            };
            if slice != self.armed {
                self.tcp()
                    .set_read_timeout(Some(slice))
                    .map_err(|e| io_err("setting the read timeout", e))?;
                self.armed = slice;
            }
            let rest = buf.get_mut(filled..).unwrap_or_default();
            match self.stream.read(rest) {
                Ok(0) => return Err(LinkError::Closed { during }),
                Ok(k) => {
                    filled += k;
                    deadline = Instant::now() + self.read_timeout;
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted
                    ) => {}
                Err(e) => return Err(io_err(during, e)),
            }
        }
        Ok(())
    }
}

/// Resolve `address` and TCP connect to the first of its addresses that answers (each try
/// bounded by `timeout`).
fn connect_any(address: &str, timeout: Duration) -> Result<TcpStream, LinkError> {
    let addrs = address.to_socket_addrs().map_err(|e| LinkError::Address {
        address: address.to_string(),
        reason: e.to_string(),
    })?;
    let mut last = None;
    for a in addrs {
        match TcpStream::connect_timeout(&a, timeout) {
            Ok(s) => return Ok(s),
            Err(e) => last = Some(e),
        }
    }
    Err(LinkError::Connect {
        address: address.to_string(),
        source: last.unwrap_or_else(|| std::io::Error::other("no address")),
    })
}

/// [`connect_any`] (name resolution included) on a helper thread, watched in slices of
/// [`CANCEL_POLL`]: the outer `Err` is the cancel (or a thread that could not start), the inner
/// result the connect's own. Only the address goes to the thread, no TLS material.
fn connect_watched(
    address: &str,
    timeout: Duration,
    hook: &CancelHook,
) -> Result<Result<TcpStream, LinkError>, LinkError> {
    let (tx, rx) = std::sync::mpsc::channel();
    let address = address.to_string();
    std::thread::Builder::new()
        .name("host-connect".into())
        .spawn(move || {
            // If nobody waits any more, the stream is dropped (closed) here.
            let _ = tx.send(connect_any(&address, timeout));
        })
        .map_err(|e| io_err("starting the connect thread", e))?;
    loop {
        match rx.recv_timeout(CANCEL_POLL) {
            Ok(result) => return Ok(result),
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                if hook.is_cancelled() {
                    return Err(LinkError::Cancelled {
                        during: "connecting",
                    });
                }
            }
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                return Err(LinkError::Io {
                    during: "connecting",
                    source: std::io::Error::other("the connect thread ended without a result"),
                });
            }
        }
    }
}

/// The TLS handshake (RFC 8446 §4 / RFC 5246 §7.3 run by OpenSSL), in socket reads of at most
/// [`CANCEL_POLL`] when `cancel` is given so a cancel is seen; an unfinished handshake is resumed
/// after each slice, until `read_timeout` passes without completing it.
fn handshake(
    tls: &TlsConfig,
    tcp: TcpStream,
    cancel: Option<&CancelHook>,
    read_timeout: Duration,
) -> Result<SslStream<TcpStream>, LinkError> {
    let mut b = SslConnector::builder(SslMethod::tls_client())
        .map_err(|e| tls_config_err("connector", e))?;
    // Trust only the configured CA: a fresh store replaces the default verify paths.
    let mut store = X509StoreBuilder::new().map_err(|e| tls_config_err("store", e))?;
    let pin_only = tls.ca_cert_pem.is_empty();
    if pin_only {
        if tls.pinned_spki_sha256.is_none() {
            return Err(LinkError::TlsConfig(
                "no CA certificate and no SPKI pin: nothing to trust".into(),
            ));
        }
    } else {
        let ca =
            X509::from_pem(&tls.ca_cert_pem).map_err(|e| tls_config_err("CA certificate", e))?;
        store
            .add_cert(ca)
            .map_err(|e| tls_config_err("CA certificate", e))?;
    }
    b.set_cert_store(store.build());
    if let Some((cert, key)) = &tls.client_identity {
        let cert = X509::from_pem(cert).map_err(|e| tls_config_err("client certificate", e))?;
        let key = PKey::private_key_from_pem(key).map_err(|e| tls_config_err("client key", e))?;
        b.set_certificate(&cert)
            .map_err(|e| tls_config_err("client certificate", e))?;
        b.set_private_key(&key)
            .map_err(|e| tls_config_err("client key", e))?;
    }
    if let Some(pin) = tls.pinned_spki_sha256 {
        b.set_verify_callback(SslVerifyMode::PEER, move |preverified, ctx| {
            let chain_error = CHAIN_TRUST_ERRORS.contains(&ctx.error().as_raw());
            let trusted = preverified || (pin_only && chain_error);
            if !trusted {
                return false;
            }
            if ctx.error_depth() != 0 {
                return true;
            }
            ctx.current_cert()
                .and_then(|c| spki_sha256(c).ok())
                .is_some_and(|h| openssl::memcmp::eq(&h, &pin))
        });
    }
    let connector = b.build();
    let config = connector
        .configure()
        .map_err(|e| tls_config_err("connection", e))?;
    let failed = |reason: String| LinkError::TlsHandshake {
        server_name: tls.server_name.clone(),
        reason,
    };
    if cancel.is_some() {
        tcp.set_read_timeout(Some(CANCEL_POLL.min(read_timeout)))
            .map_err(|e| io_err("setting the read timeout", e))?;
    }
    let deadline = Instant::now() + read_timeout;
    let mut attempt = config.connect(&tls.server_name, tcp);
    loop {
        match attempt {
            Ok(s) => return Ok(s),
            Err(HandshakeError::WouldBlock(mid)) => {
                if is_cancelled(cancel) {
                    return Err(LinkError::Cancelled {
                        during: "the TLS handshake",
                    });
                }
                if Instant::now() >= deadline {
                    return Err(failed(format!(
                        "no answer within the read timeout: {}",
                        mid.error()
                    )));
                }
                attempt = mid.handshake();
            }
            Err(e) => return Err(failed(e.to_string())),
        }
    }
}

/// Write one frame (2-byte big-endian length + payload) to any stream.
pub fn write_frame<W: Write>(w: &mut W, payload: &[u8]) -> Result<(), LinkError> {
    if payload.is_empty() || payload.len() > MAX_FRAME {
        return Err(LinkError::FrameLength {
            length: payload.len(),
            max: MAX_FRAME,
        });
    }
    let len = (payload.len() as u16).to_be_bytes();
    let mut buf = Vec::with_capacity(payload.len() + 2);
    buf.extend_from_slice(&len);
    buf.extend_from_slice(payload);
    w.write_all(&buf).map_err(|e| io_err("sending", e))?;
    w.flush().map_err(|e| io_err("sending", e))
}

/// Read one frame's payload from any stream.
pub fn read_frame<R: Read>(r: &mut R) -> Result<Vec<u8>, LinkError> {
    let mut len = [0u8; 2];
    r.read_exact(&mut len)
        .map_err(|e| io_err("reading the length prefix", e))?;
    let n = usize::from(u16::from_be_bytes(len));
    if n == 0 {
        return Err(LinkError::FrameLength {
            length: 0,
            max: MAX_FRAME,
        });
    }
    let mut payload = vec![0u8; n];
    r.read_exact(&mut payload)
        .map_err(|e| io_err("reading the message", e))?;
    Ok(payload)
}
