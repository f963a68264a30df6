//! A recording TCP proxy between the terminal and HostSim: every request frame the terminal
//! sends is unpacked (cups-pos profile) and kept, so a test can compare what the host received
//! (e.g. field 55 of a 0200 and of its 0400). It can also play a host that is down: while
//! down, every connection is closed at once and open ones are cut.

use smartpos_host::link::{read_frame, write_frame};
use smartpos_iso8583::{Message, Profile};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

struct Shared {
    upstream: SocketAddr,
    down: AtomicBool,
    seen: Mutex<Vec<Message>>,
    conns: Mutex<Vec<TcpStream>>,
}

/// The proxy; dropped with the test (its threads end when the sockets close).
pub struct Proxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Proxy {
    /// Listen on loopback and forward to `upstream`.
    pub fn start(upstream: SocketAddr) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("proxy bind");
        let addr = listener.local_addr().expect("proxy addr");
        let shared = Arc::new(Shared {
            upstream,
            down: AtomicBool::new(false),
            seen: Mutex::new(Vec::new()),
            conns: Mutex::new(Vec::new()),
        });
        let s = shared.clone();
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { continue };
                if s.down.load(Ordering::SeqCst) {
                    let _ = client.shutdown(Shutdown::Both);
                    continue;
                }
                let Ok(server) = TcpStream::connect(s.upstream) else {
                    let _ = client.shutdown(Shutdown::Both);
                    continue;
                };
                for c in [&client, &server] {
                    if let Ok(c) = c.try_clone() {
                        lock(&s.conns).push(c);
                    }
                }
                let (Ok(mut c_in), Ok(mut s_out)) = (client.try_clone(), server.try_clone()) else {
                    continue;
                };
                let rec = s.clone();
                std::thread::spawn(move || {
                    while let Ok(frame) = read_frame(&mut c_in) {
                        if let Ok(f) = Profile::cups_pos().unpack_frame(&frame) {
                            lock(&rec.seen).push(f.message);
                        }
                        if rec.down.load(Ordering::SeqCst)
                            || write_frame(&mut s_out, &frame).is_err()
                        {
                            break;
                        }
                    }
                    let _ = c_in.shutdown(Shutdown::Both);
                    let _ = s_out.shutdown(Shutdown::Both);
                });
                let (mut s_in, mut c_out) = (server, client);
                std::thread::spawn(move || {
                    let _ = std::io::copy(&mut s_in, &mut c_out);
                    let _ = c_out.shutdown(Shutdown::Both);
                });
            }
        });
        Proxy { addr, shared }
    }

    /// Where the terminal connects.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Host down (every connection closed, nothing forwarded) or up again.
    pub fn set_down(&self, down: bool) {
        self.shared.down.store(down, Ordering::SeqCst);
        if down {
            for c in lock(&self.shared.conns).drain(..) {
                let _ = c.shutdown(Shutdown::Both);
            }
        }
    }

    /// Every request that went through (or was cut while down), in order.
    pub fn requests(&self) -> Vec<Message> {
        lock(&self.shared.seen).clone()
    }

    /// The requests of one MTI.
    pub fn requests_of(&self, mti: &str) -> Vec<Message> {
        self.requests()
            .into_iter()
            .filter(|m| m.mti().as_str() == mti)
            .collect()
    }
}
