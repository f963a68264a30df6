//! A virtual card behind vsmartcard's virtual reader: the vpicc side of the vpcd protocol.
//!
//! The virtual card connects as a TCP client to the vpcd driver loaded by pcscd (default port
//! 35963). Every message either way is a 2-byte big-endian length and a payload. From vpcd, a
//! payload of one byte is a control command: 00 power off, 01 power on, 02 reset (no answer),
//! 04 get ATR (answered with the ATR); any longer payload is a command APDU, answered with the
//! response APDU (data + SW1 SW2).

use super::VirtualCard;
use smartpos_emv::{Apdu, CardTransport};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// The vpcd driver's default port.
pub const DEFAULT_PORT: u16 = 35963;

/// Errors of the vpcd link.
#[derive(Debug, thiserror::Error)]
pub enum VpcdError {
    #[error("connecting to vpcd at {addr}: {source}")]
    Connect {
        addr: String,
        #[source]
        source: std::io::Error,
    },
    #[error("vpcd link: {0}")]
    Io(#[from] std::io::Error),
    #[error("vpcd sent an empty message")]
    Empty,
}

/// What a session served.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct VpcdStats {
    pub apdus: usize,
    pub resets: usize,
}

const CTRL_OFF: u8 = 0x00;
const CTRL_ON: u8 = 0x01;
const CTRL_RESET: u8 = 0x02;
const CTRL_ATR: u8 = 0x04;

/// Connect to vpcd, retrying for up to `wait` while the driver is not listening yet.
pub fn connect(addr: &str, wait: Duration) -> Result<TcpStream, VpcdError> {
    let step = Duration::from_millis(100);
    let mut waited = Duration::ZERO;
    loop {
        match TcpStream::connect(addr) {
            Ok(s) => {
                s.set_nodelay(true)?;
                return Ok(s);
            }
            Err(e) if waited >= wait => {
                return Err(VpcdError::Connect {
                    addr: addr.to_string(),
                    source: e,
                });
            }
            Err(_) => {
                std::thread::sleep(step);
                waited += step;
            }
        }
    }
}

fn send(stream: &mut impl Write, payload: &[u8]) -> Result<(), VpcdError> {
    let len = u16::try_from(payload.len()).map_err(|_| {
        std::io::Error::new(std::io::ErrorKind::InvalidInput, "payload over 65535 bytes")
    })?;
    let mut msg = len.to_be_bytes().to_vec();
    msg.extend_from_slice(payload);
    stream.write_all(&msg)?;
    stream.flush()?;
    Ok(())
}

/// Serve the card until vpcd closes the connection (Ok) or the card's transport fails (the
/// card is "pulled": the connection is closed and the stats returned).
pub fn serve<S: Read + Write>(
    card: &mut VirtualCard,
    stream: &mut S,
) -> Result<VpcdStats, VpcdError> {
    let mut stats = VpcdStats::default();
    loop {
        let mut len = [0u8; 2];
        match stream.read_exact(&mut len) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(stats),
            Err(e) => return Err(e.into()),
        }
        let n = usize::from(u16::from_be_bytes(len));
        if n == 0 {
            return Err(VpcdError::Empty);
        }
        let mut payload = vec![0u8; n];
        stream.read_exact(&mut payload)?;
        if let [ctrl] = payload.as_slice() {
            match *ctrl {
                CTRL_OFF => card.power_off(),
                CTRL_ON | CTRL_RESET => {
                    card.power_off();
                    stats.resets += 1;
                }
                CTRL_ATR => send(stream, card.atr())?,
                _ => {}
            }
            continue;
        }
        let response = match Apdu::decode(&payload) {
            Ok(apdu) => match card.exchange(&apdu) {
                Ok(r) => r.to_bytes(),
                Err(_) => return Ok(stats),
            },
            // Wrong length (ISO/IEC 7816-4 §5.6).
            Err(_) => vec![0x67, 0x00],
        };
        stats.apdus += 1;
        send(stream, &response)?;
    }
}
