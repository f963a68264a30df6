//! The envelope around a message on a UnionPay-style POS link: a 5-byte TPDU (transport protocol data
//! unit: ID `60`, destination address, source address) and a fixed header (for `cups-pos` 6 bytes:
//! application type, software version, terminal status + processing request, software sub-version),
//! as laid down by the China UnionPay POS terminal specification for dial-up and TCP/IP links.

use crate::message::Message;

/// A TPDU: `60` + 2-byte destination + 2-byte source address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tpdu {
    /// Protocol ID; `0x60` for the usual transaction TPDU.
    pub id: u8,
    /// Destination (network access point / host) address.
    pub destination: [u8; 2],
    /// Source (terminal) address.
    pub source: [u8; 2],
}

impl Tpdu {
    /// Length on the wire.
    pub const LEN: usize = 5;

    /// A `60` TPDU from destination and source addresses.
    pub fn new(destination: u16, source: u16) -> Tpdu {
        Tpdu {
            id: 0x60,
            destination: destination.to_be_bytes(),
            source: source.to_be_bytes(),
        }
    }

    /// The 5 bytes.
    pub fn to_bytes(&self) -> [u8; 5] {
        let [d0, d1] = self.destination;
        let [s0, s1] = self.source;
        [self.id, d0, d1, s0, s1]
    }

    /// From exactly 5 bytes.
    pub fn from_bytes(bytes: &[u8]) -> Option<Tpdu> {
        match bytes {
            [id, d0, d1, s0, s1] => Some(Tpdu {
                id: *id,
                destination: [*d0, *d1],
                source: [*s0, *s1],
            }),
            _ => None,
        }
    }

    /// The TPDU of the reply: source and destination swapped.
    pub fn reply(&self) -> Tpdu {
        Tpdu {
            id: self.id,
            destination: self.source,
            source: self.destination,
        }
    }
}

/// A message with its envelope. Profiles without a TPDU/header use `tpdu: None` and an empty header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// The TPDU, when the profile has one.
    pub tpdu: Option<Tpdu>,
    /// The fixed header bytes (the profile's `header_len`), empty when it has none.
    pub header: Vec<u8>,
    /// The ISO 8583 message.
    pub message: Message,
}

impl Frame {
    /// A frame with no envelope (for profiles without TPDU and header).
    pub fn bare(message: Message) -> Frame {
        Frame {
            tpdu: None,
            header: Vec::new(),
            message,
        }
    }

    /// A frame with a TPDU and header.
    pub fn new(tpdu: Tpdu, header: &[u8], message: Message) -> Frame {
        Frame {
            tpdu: Some(tpdu),
            header: header.to_vec(),
            message,
        }
    }
}

/// The fields of the 6-byte UnionPay POS message header (`60 31 00 31 00 00`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CupsHeader {
    /// Application type, BCD (`60` for POS).
    pub application_type: u8,
    /// Software version, BCD (`31`).
    pub version: u8,
    /// Terminal status (high nibble of byte 3).
    pub terminal_status: u8,
    /// Processing request (low nibble of byte 3); in a response, what the host asks the terminal to do
    /// (e.g. download parameters).
    pub processing_request: u8,
    /// Software sub-version, 3 bytes.
    pub sub_version: [u8; 3],
}

impl CupsHeader {
    /// From the 6 header bytes.
    pub fn parse(bytes: &[u8]) -> Option<CupsHeader> {
        match bytes {
            [a, v, s, x, y, z] => Some(CupsHeader {
                application_type: *a,
                version: *v,
                terminal_status: s >> 4,
                processing_request: s & 0x0F,
                sub_version: [*x, *y, *z],
            }),
            _ => None,
        }
    }

    /// The 6 header bytes.
    pub fn to_bytes(&self) -> [u8; 6] {
        let [x, y, z] = self.sub_version;
        [
            self.application_type,
            self.version,
            (self.terminal_status << 4) | (self.processing_request & 0x0F),
            x,
            y,
            z,
        ]
    }
}
