//! Cancelling a flow while the link waits for the host (issue 7): the caller's `CancelHook` ends
//! the wait within one poll slice, over plain TCP and over TLS, and the error says whether the
//! request had left the terminal. The response timeout of every client here is 60 s, so a test
//! that finishes shows the cancel, not the timeout, ended the wait. Ordering comes from the fake
//! host's report channel (the cancel is asked only after the host reported the request), never
//! from measuring time.

mod support;

use smartpos_host::link::CANCEL_POLL;
use smartpos_host::{
    CancelHook, CardData, HostClient, HostError, Link, LinkConfig, LinkError, MemoryStore,
    PinInput, QueueKind, ReversalReason, ReversalStore, SaleRequest,
};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::sync::mpsc::Receiver;
use std::time::Duration;
use support::{
    Behaviour, PAN, Seen, client, client_on, fake_host, next, splitting_proxy, tls_pair,
};

const LONG: Duration = Duration::from_secs(60);

fn sale() -> SaleRequest {
    SaleRequest {
        amount: 1_234,
        card: CardData::manual(PAN),
        pin: PinInput::None,
    }
}

/// Cancel `hook` from another thread once the fake host has reported a request with `mti`
/// (plus ~100 ms, the cashier's reaction). The thread keeps draining the reports afterwards (the
/// fake host stops serving when nobody listens).
fn cancel_after_request(rx: Receiver<Seen>, mti: &'static str, hook: CancelHook) {
    std::thread::spawn(move || {
        while let Ok(seen) = rx.recv() {
            if seen.mti().as_deref() == Some(mti) && !hook.is_cancelled() {
                std::thread::sleep(Duration::from_millis(100));
                hook.cancel();
            }
        }
    });
}

fn signed_on(addr: &str, tls: Option<smartpos_host::TlsConfig>) -> HostClient<MemoryStore> {
    let mut c = client(addr, LONG, tls);
    c.sign_on().expect("sign-on");
    c
}

fn cancelled_while_waiting(tls: bool) {
    let (acceptor, client_tls) = if tls {
        let (a, c) = tls_pair();
        (Some(a), Some(c))
    } else {
        (None, None)
    };
    let (addr, rx) = fake_host(Behaviour::SwallowFinancial, acceptor);
    let mut c = signed_on(&addr, client_tls);
    assert_eq!(next(&rx), Seen::Connected);
    assert_eq!(next(&rx).mti().as_deref(), Some("0800"));
    let hook = CancelHook::new();
    c.set_cancel(Some(hook.clone()));
    cancel_after_request(rx, "0200", hook);

    let err = c.sale(&sale()).expect_err("the host never answers");

    assert!(
        matches!(err, HostError::Cancelled { sent: true }),
        "got {err:?}"
    );
    assert_eq!(err.cancelled(), Some(true));
    // The request was out: its outcome is unknown, so the sale stays queued for reversal.
    assert!(err.needs_reversal());
    let pending = c.store().pending(QueueKind::Reversal).expect("store");
    assert_eq!(pending.len(), 1);
    assert_eq!(pending.first().map(|e| e.stan), Some(c.last_stan()));
    // Reversed as "no response" (98), like a timeout.
    assert_eq!(
        pending.first().map(|e| e.reason),
        Some(ReversalReason::NoResponse)
    );
    assert!(err.to_string().contains("outcome unknown"), "{err}");
}

#[test]
fn cancel_ends_a_pending_read_over_tcp_and_the_sale_is_queued_for_reversal() {
    cancelled_while_waiting(false);
}

#[test]
fn cancel_ends_a_pending_read_over_tls_and_the_sale_is_queued_for_reversal() {
    cancelled_while_waiting(true);
}

#[test]
fn cancel_before_connect_sends_nothing_and_queues_nothing() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.set_nonblocking(true).expect("nonblocking");
    let addr = listener.local_addr().expect("addr").to_string();
    let mut c = client(&addr, LONG, None);
    let hook = CancelHook::new();
    hook.cancel();
    c.set_cancel(Some(hook));

    let err = c.echo().expect_err("cancelled");

    assert!(
        matches!(err, HostError::Cancelled { sent: false }),
        "got {err:?}"
    );
    assert!(!err.needs_reversal());
    assert!(err.to_string().contains("nothing was sent"), "{err}");
    // Nothing on the wire: not even a TCP connection reached the listener.
    match listener.accept() {
        Err(e) => assert_eq!(e.kind(), std::io::ErrorKind::WouldBlock),
        Ok(_) => panic!("the cancelled client connected"),
    }
}

#[test]
fn a_sale_cancelled_before_sending_leaves_no_reversal_and_the_next_request_is_the_next_on_the_wire()
{
    let (addr, rx) = fake_host(Behaviour::SwallowFinancial, None);
    let mut c = signed_on(&addr, None);
    let hook = CancelHook::new();
    hook.cancel();
    c.set_cancel(Some(hook));

    let err = c.sale(&sale()).expect_err("cancelled");
    assert!(
        matches!(err, HostError::Cancelled { sent: false }),
        "got {err:?}"
    );
    assert!(
        c.store()
            .pending(QueueKind::Reversal)
            .expect("store")
            .is_empty(),
        "nothing was sent, nothing to reverse"
    );

    // A fresh hook for the next transaction: the echo goes out on the same connection, and the
    // host saw sign-on then echo, never the cancelled sale.
    c.set_cancel(Some(CancelHook::new()));
    c.echo().expect("echo");
    let seen: Vec<_> = (0..3).map(|_| next(&rx)).collect();
    assert_eq!(seen.first(), Some(&Seen::Connected));
    let mtis: Vec<_> = seen.iter().skip(1).filter_map(Seen::mti).collect();
    assert_eq!(mtis, ["0800", "0820"]);
}

#[test]
fn after_a_cancelled_read_the_connection_is_replaced() {
    let (addr, rx) = fake_host(Behaviour::SwallowFinancial, None);
    let (tx, seen_rx) = std::sync::mpsc::channel();
    let mut c = signed_on(&addr, None);
    let hook = CancelHook::new();
    c.set_cancel(Some(hook.clone()));
    // Forward what the host saw to the test, cancelling at the sale.
    std::thread::spawn(move || {
        while let Ok(seen) = rx.recv() {
            if seen.mti().as_deref() == Some("0200") {
                hook.cancel();
            }
            if tx.send(seen).is_err() {
                return;
            }
        }
    });
    let err = c.sale(&sale()).expect_err("cancelled");
    assert!(matches!(err, HostError::Cancelled { sent: true }));

    // A late answer on the old connection must never be taken for the next one's: the next
    // request opens a new connection.
    c.set_cancel(None);
    c.echo().expect("echo on a new connection");
    let seen: Vec<_> = (0..5).map(|_| next(&seen_rx)).collect();
    let shape: Vec<_> = seen
        .iter()
        .map(|s| s.mti().unwrap_or_else(|| "connect".into()))
        .collect();
    assert_eq!(shape, ["connect", "0800", "0200", "connect", "0820"]);
}

#[test]
fn cancel_during_the_tls_handshake_is_not_sent() {
    let (_, client_tls) = tls_pair();
    let (addr, rx) = fake_host(Behaviour::Mute, None);
    let mut c = client(&addr, LONG, Some(client_tls));
    let hook = CancelHook::new();
    c.set_cancel(Some(hook.clone()));
    std::thread::spawn(move || {
        if rx.recv() == Ok(Seen::Connected) {
            std::thread::sleep(Duration::from_millis(100));
            hook.cancel();
        }
    });
    let err = c.echo().expect_err("cancelled");
    assert!(
        matches!(err, HostError::Cancelled { sent: false }),
        "got {err:?}"
    );
}

#[test]
fn with_a_hook_that_is_never_cancelled_the_response_timeout_still_applies() {
    let (addr, _rx) = fake_host(Behaviour::SwallowFinancial, None);
    let mut c = client(&addr, Duration::from_millis(300), None);
    c.sign_on().expect("sign-on");
    c.set_cancel(Some(CancelHook::new()));
    let err = c.sale(&sale()).expect_err("no answer");
    assert!(
        matches!(err, HostError::Link(LinkError::Timeout { .. })),
        "got {err:?}"
    );
    assert_eq!(err.cancelled(), None);
    assert_eq!(
        c.store().pending(QueueKind::Reversal).expect("store").len(),
        1
    );
}

#[test]
fn a_frame_split_across_poll_slices_is_reassembled() {
    // The answer's first 7 bytes, then a pause of several poll slices, then the rest: the bytes
    // already read survive the slices that time out in between.
    let pause = CANCEL_POLL * 4;
    let (addr, _rx) = fake_host(Behaviour::Trickle(pause), None);
    let mut c = client(&addr, LONG, None);
    c.set_cancel(Some(CancelHook::new()));
    c.sign_on().expect("sign-on answered in two pieces");
    let r = c.sale(&sale()).expect("sale answered in two pieces");
    assert_eq!(r.auth_code.as_deref(), Some("654321"));
}

#[test]
fn a_frame_split_across_poll_slices_is_reassembled_over_tls() {
    let (acceptor, client_tls) = tls_pair();
    let (addr, _rx) = fake_host(Behaviour::Trickle(CANCEL_POLL * 4), Some(acceptor));
    let mut c = client(&addr, LONG, Some(client_tls));
    c.set_cancel(Some(CancelHook::new()));
    c.sign_on().expect("sign-on over TLS in two records");
    c.sale(&sale()).expect("sale over TLS in two records");
}

#[test]
fn a_hook_shares_the_flag_it_was_made_from() {
    let flag = Arc::new(AtomicBool::new(false));
    let hook = CancelHook::from_flag(Arc::clone(&flag));
    assert!(!hook.is_cancelled());
    flag.store(true, std::sync::atomic::Ordering::SeqCst);
    assert!(hook.is_cancelled());
    assert_eq!(format!("{hook:?}"), "CancelHook(cancelled: true)");
    let fresh = CancelHook::new();
    let clone = fresh.clone();
    clone.cancel();
    assert!(fresh.is_cancelled());
}

#[test]
fn a_cancelled_sale_does_not_first_send_the_pending_reversal() {
    let (addr, rx) = fake_host(Behaviour::SwallowFinancial, None);
    let mut c = client(&addr, Duration::from_millis(300), None);
    c.sign_on().expect("sign-on");
    // A sale without an answer leaves its reversal queued.
    let e = c.sale(&sale()).expect_err("no answer");
    assert!(e.needs_reversal());
    let pending = c.store().pending(QueueKind::Reversal).expect("store");
    assert_eq!(pending.len(), 1);

    let hook = CancelHook::new();
    hook.cancel();
    c.set_cancel(Some(hook));
    let stan = c.last_stan();
    let err = c.sale(&sale()).expect_err("cancelled");
    assert!(
        matches!(err, HostError::Cancelled { sent: false }),
        "got {err:?}"
    );
    assert_eq!(c.last_stan(), stan, "no STAN used");
    assert_eq!(
        c.store().pending(QueueKind::Reversal).expect("store"),
        pending,
        "the queued reversal is untouched"
    );
    // The host saw: connect, sign-on, the first sale, then (new connection after the timeout)
    // nothing; an echo with a fresh hook is the next request on the wire.
    c.set_cancel(Some(CancelHook::new()));
    c.echo().expect("echo");
    let shape: Vec<_> = (0..5)
        .map(|_| next(&rx).mti().unwrap_or_else(|| "connect".into()))
        .collect();
    assert_eq!(shape, ["connect", "0800", "0200", "connect", "0820"]);
}

/// A loopback listener whose accept queue is full: the kernel drops further SYNs, so a connect
/// to it hangs (the listener never accepts). Returns the listener, the connections that filled
/// the queue (kept open) and the address.
fn listener_with_full_queue() -> (std::net::TcpListener, Vec<std::net::TcpStream>, String) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let mut held = Vec::new();
    // The queue length is the listen backlog (at most net.core.somaxconn, 4096 by default).
    for _ in 0..=8192 {
        match std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(250)) {
            Ok(s) => held.push(s),
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {
                return (listener, held, addr.to_string());
            }
            Err(e) => panic!("filling the accept queue: {e}"),
        }
    }
    panic!("the accept queue never filled");
}

#[test]
fn cancel_ends_a_hanging_tcp_connect() {
    let (_listener, _held, addr) = listener_with_full_queue();
    let mut link = LinkConfig::tcp(addr).with_read_timeout(LONG);
    link.connect_timeout = LONG;
    let mut c = client_on(link);
    let hook = CancelHook::new();
    c.set_cancel(Some(hook.clone()));
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(100));
        hook.cancel();
    });
    // The connect timeout is 60 s: only the cancel can end this.
    let err = c.echo().expect_err("cancelled");
    assert!(
        matches!(err, HostError::Cancelled { sent: false }),
        "got {err:?}"
    );
}

#[test]
fn the_link_itself_says_which_wait_was_cancelled() {
    let (addr, rx) = fake_host(Behaviour::Mute, None);
    let config = LinkConfig::tcp(addr).with_read_timeout(LONG);
    let cancelled = CancelHook::new();
    cancelled.cancel();
    assert!(matches!(
        Link::connect_cancellable(&config, Some(&cancelled)),
        Err(LinkError::Cancelled {
            during: "connecting"
        })
    ));
    let mut link = Link::connect(&config).expect("connect");
    let hook = CancelHook::new();
    let h = hook.clone();
    std::thread::spawn(move || {
        if rx.recv() == Ok(Seen::Connected) {
            std::thread::sleep(Duration::from_millis(100));
            h.cancel();
        }
    });
    let err = link
        .receive_cancellable(Some(&hook))
        .expect_err("cancelled");
    assert!(
        matches!(
            err,
            LinkError::Cancelled {
                during: "reading the length prefix"
            }
        ),
        "got {err:?}"
    );
    assert!(!err.is_timeout());
}

#[test]
fn with_cancel_scopes_the_hook_to_one_transaction() {
    let (addr, rx) = fake_host(Behaviour::SwallowFinancial, None);
    let mut c = signed_on(&addr, None);
    let hook = CancelHook::new();
    cancel_after_request(rx, "0200", hook.clone());
    let err = c
        .with_cancel(hook.clone(), |c| {
            assert!(c.cancel_hook().is_some());
            c.sale(&sale())
        })
        .expect_err("cancelled");
    assert!(matches!(err, HostError::Cancelled { sent: true }));
    assert!(hook.is_cancelled());
    // The cancelled hook is gone: the next call is not cancelled (it reaches the host).
    assert!(c.cancel_hook().is_none());
    c.echo().expect("echo after the cancelled transaction");
}

#[test]
fn tls_records_cut_in_the_middle_are_resumed_across_poll_slices() {
    // Every TLS record from the host (handshake and application data) reaches the client in two
    // halves several poll slices apart: OpenSSL returns WANT_READ mid-record and the link
    // resumes the same SSL_read / handshake after the slice, keeping the record state.
    let (acceptor, client_tls) = tls_pair();
    let (upstream, _rx) = fake_host(Behaviour::AnswerAll, Some(acceptor));
    let addr = splitting_proxy(upstream, CANCEL_POLL * 3, Arc::new(AtomicBool::new(true)));
    let mut c = client(&addr, LONG, Some(client_tls));
    c.set_cancel(Some(CancelHook::new()));
    c.sign_on().expect("sign-on over cut TLS records");
    let r = c.sale(&sale()).expect("sale over cut TLS records");
    assert_eq!(r.auth_code.as_deref(), Some("654321"));
}

#[test]
fn cancel_while_a_tls_record_is_half_received() {
    // The handshake and sign-on go through whole; from the sale on, the host's records are cut
    // in two with a 30 s pause: the cancel lands while half of the answer's TLS record is (or
    // is about to be) buffered, and still ends the wait 60 s before the read timeout would.
    let (acceptor, client_tls) = tls_pair();
    let (upstream, rx) = fake_host(Behaviour::AnswerAll, Some(acceptor));
    let cut = Arc::new(AtomicBool::new(false));
    let addr = splitting_proxy(upstream, Duration::from_secs(30), Arc::clone(&cut));
    let mut c = client(&addr, LONG, Some(client_tls));
    c.sign_on().expect("sign-on");
    cut.store(true, std::sync::atomic::Ordering::SeqCst);
    let hook = CancelHook::new();
    c.set_cancel(Some(hook.clone()));
    cancel_after_request(rx, "0200", hook);
    let err = c.sale(&sale()).expect_err("cancelled");
    assert!(
        matches!(err, HostError::Cancelled { sent: true }),
        "got {err:?}"
    );
}

#[test]
fn with_a_hook_connect_errors_keep_their_types() {
    // The watched connect (helper thread) reports the same typed errors as the plain one.
    let mut bad = client("not an address", LONG, None);
    bad.set_cancel(Some(CancelHook::new()));
    let err = bad.echo().expect_err("no such address");
    assert!(
        matches!(err, HostError::Link(LinkError::Address { .. })),
        "got {err:?}"
    );
    assert!(err.to_string().contains("not an address"), "{err}");

    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").to_string()
    };
    let mut refused = client(&closed, LONG, None);
    refused.set_cancel(Some(CancelHook::new()));
    let err = refused.echo().expect_err("refused");
    assert!(
        matches!(err, HostError::Link(LinkError::Connect { .. })),
        "got {err:?}"
    );
}
