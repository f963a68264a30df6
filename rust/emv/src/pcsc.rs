//! PC/SC card transport (PC/SC Workgroup specification part 5, over pcsc-lite): a
//! [`CardTransport`] for a contact reader, so the kernel talks to real cards (or to a virtual
//! card behind vsmartcard's vpcd driver).
//!
//! The reader's driver handles the T=0/T=1 transmission protocol; the kernel's [`Channel`]
//! still applies the EMV Book 1 §9.3 rules (61xx GET RESPONSE, 6Cxx re-send) on what comes back.
//!
//! [`Channel`]: crate::transport::Channel

use crate::apdu::{Apdu, Response};
use crate::transport::{CardTransport, TransportError};
use std::ffi::CString;

/// Errors of the PC/SC layer (before any APDU is exchanged).
#[derive(Debug, thiserror::Error)]
pub enum PcscError {
    /// pcscd is not running or not reachable.
    #[error("PC/SC service: {0} (is pcscd running?)")]
    Service(String),
    #[error("no PC/SC reader named {0:?}")]
    UnknownReader(String),
    #[error("no card in reader {0:?}")]
    NoCard(String),
    #[error("reader {reader:?}: {reason}")]
    Reader { reader: String, reason: String },
}

/// The readers pcscd knows about (PC/SC `SCardListReaders`).
pub fn list_readers() -> Result<Vec<String>, PcscError> {
    let ctx = pcsc::Context::establish(pcsc::Scope::User)
        .map_err(|e| PcscError::Service(e.to_string()))?;
    readers_of(&ctx)
}

fn readers_of(ctx: &pcsc::Context) -> Result<Vec<String>, PcscError> {
    let len = match ctx.list_readers_len() {
        Ok(l) => l,
        Err(pcsc::Error::NoReadersAvailable) => return Ok(Vec::new()),
        Err(e) => return Err(PcscError::Service(e.to_string())),
    };
    let mut buf = vec![0u8; len];
    match ctx.list_readers(&mut buf) {
        Ok(names) => Ok(names.map(|n| n.to_string_lossy().into_owned()).collect()),
        Err(pcsc::Error::NoReadersAvailable) => Ok(Vec::new()),
        Err(e) => Err(PcscError::Service(e.to_string())),
    }
}

/// A card in a PC/SC reader.
pub struct PcscTransport {
    card: pcsc::Card,
    reader: String,
    atr: Vec<u8>,
}

impl std::fmt::Debug for PcscTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PcscTransport")
            .field("reader", &self.reader)
            .field("atr", &hex::encode_upper(&self.atr))
            .finish()
    }
}

impl PcscTransport {
    /// Connect (shared mode, T=0 or T=1) to the card in the reader whose name is `reader`, or
    /// the first reader whose name contains it.
    pub fn connect(reader: &str) -> Result<PcscTransport, PcscError> {
        let ctx = pcsc::Context::establish(pcsc::Scope::User)
            .map_err(|e| PcscError::Service(e.to_string()))?;
        let names = readers_of(&ctx)?;
        let name = names
            .iter()
            .find(|n| n.as_str() == reader)
            .or_else(|| names.iter().find(|n| n.contains(reader)))
            .ok_or_else(|| PcscError::UnknownReader(reader.to_string()))?
            .clone();
        let cname = CString::new(name.clone()).map_err(|_| PcscError::Reader {
            reader: name.clone(),
            reason: "name contains a NUL byte".into(),
        })?;
        let card = ctx
            .connect(&cname, pcsc::ShareMode::Shared, pcsc::Protocols::ANY)
            .map_err(|e| match e {
                pcsc::Error::NoSmartcard | pcsc::Error::RemovedCard => {
                    PcscError::NoCard(name.clone())
                }
                other => PcscError::Reader {
                    reader: name.clone(),
                    reason: other.to_string(),
                },
            })?;
        // SCardStatus gives the ATR with every driver (the ATR attribute is optional).
        let atr = card
            .status2_owned()
            .map(|st| st.atr().to_vec())
            .map_err(|e| PcscError::Reader {
                reader: name.clone(),
                reason: format!("ATR: {e}"),
            })?;
        Ok(PcscTransport {
            card,
            reader: name,
            atr,
        })
    }

    /// The reader's full name.
    pub fn reader(&self) -> &str {
        &self.reader
    }
}

impl CardTransport for PcscTransport {
    fn atr(&self) -> &[u8] {
        &self.atr
    }

    fn exchange(&mut self, command: &Apdu) -> Result<Response, TransportError> {
        let bytes = command.encode()?;
        let mut buf = [0u8; pcsc::MAX_BUFFER_SIZE];
        let r = self.card.transmit(&bytes, &mut buf).map_err(|e| match e {
            pcsc::Error::RemovedCard | pcsc::Error::NoSmartcard | pcsc::Error::ResetCard => {
                TransportError::CardRemoved
            }
            pcsc::Error::Timeout => TransportError::Timeout,
            other => TransportError::Io(other.to_string()),
        })?;
        Response::from_bytes(r).ok_or(TransportError::MalformedResponse(r.len()))
    }
}
