//! Card transport: the injected link to the ICC (EMV Book 1 §9, ISO/IEC 7816-3/-4).
//!
//! The kernel never talks to hardware. It sends [`Apdu`]s through a [`CardTransport`] the caller
//! supplies (PC/SC reader, Android IsoDep via JNI, [`ScriptedCard`] in tests, the virtual card of
//! smartpos-sim). [`Channel`] wraps a transport with the T=0 transport-layer rules of Book 1 §9.3
//! (61xx → GET RESPONSE, 6Cxx → re-send with Le=xx) and records a masked [`Trace`].

use crate::apdu::{Apdu, Response};
use crate::trace::Trace;
use serde::{Deserialize, Serialize};

/// Errors of the card link itself (not of the card's answers).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransportError {
    #[error("card removed or not present")]
    CardRemoved,
    #[error("card did not answer in time")]
    Timeout,
    #[error("reader I/O error: {0}")]
    Io(String),
    #[error("response of {0} bytes has no status word")]
    MalformedResponse(usize),
    #[error("command could not be encoded: {0}")]
    BadCommand(#[from] crate::apdu::ApduError),
    #[error("scripted card: exchange {index} expected command {expected}, terminal sent {actual}")]
    ScriptMismatch {
        index: usize,
        expected: String,
        actual: String,
    },
    #[error("scripted card: no scripted exchange left for command {0}")]
    ScriptExhausted(String),
    #[error("scripted card: {0}")]
    ScriptFormat(String),
    #[error("more than {0} chained GET RESPONSE/6Cxx exchanges; card is looping")]
    TooManyChainedResponses(usize),
}

/// The link to a card. Implementations exchange raw APDUs; they do not interpret status words.
pub trait CardTransport {
    /// Answer to reset (ISO/IEC 7816-3 §8) or, contactless, the historical bytes/ATS.
    fn atr(&self) -> &[u8];
    /// Send one command APDU, return the card's response (data + SW1 SW2).
    fn exchange(&mut self, command: &Apdu) -> Result<Response, TransportError>;
}

impl<T: CardTransport + ?Sized> CardTransport for &mut T {
    fn atr(&self) -> &[u8] {
        (**self).atr()
    }
    fn exchange(&mut self, command: &Apdu) -> Result<Response, TransportError> {
        (**self).exchange(command)
    }
}

/// Upper bound on chained 61xx/6Cxx exchanges for one command.
pub const MAX_CHAINED: usize = 16;

/// A transport plus the T=0 rules of EMV Book 1 §9.3.1 and a masked trace of every exchange.
pub struct Channel<T: CardTransport> {
    transport: T,
    trace: Trace,
}

impl<T: CardTransport> Channel<T> {
    pub fn new(transport: T) -> Self {
        Channel {
            transport,
            trace: Trace::default(),
        }
    }
    pub fn trace(&self) -> &Trace {
        &self.trace
    }
    pub fn take_trace(&mut self) -> Trace {
        std::mem::take(&mut self.trace)
    }
    pub fn transport(&mut self) -> &mut T {
        &mut self.transport
    }
    pub fn into_inner(self) -> T {
        self.transport
    }

    /// Send a command and apply Book 1 §9.3.1.3/§9.3.1.4: on 61xx issue GET RESPONSE with Le=xx
    /// (looping while the card keeps answering 61xx); on 6Cxx re-send the command with Le=xx.
    /// Warning status words (62xx/63xx) after a 61xx chain are preserved from the first answer.
    pub fn transmit(&mut self, command: &Apdu) -> Result<Response, TransportError> {
        let mut resp = self.raw(command)?;
        if resp.sw1 != 0x61 && resp.sw1 != 0x6C {
            return Ok(resp);
        }
        let mut chained = 0usize;
        let mut data = Vec::new();
        let mut resend = command.clone();
        loop {
            match resp.sw1 {
                0x61 => {
                    data.extend_from_slice(&resp.data);
                    let get_response =
                        Apdu::new(0x00, 0xC0, 0x00, 0x00, Vec::new()).with_le(resp.sw2);
                    resp = self.raw(&get_response)?;
                }
                0x6C => {
                    resend.le = Some(resp.sw2);
                    resp = self.raw(&resend)?;
                }
                _ => break,
            }
            chained += 1;
            if chained > MAX_CHAINED {
                return Err(TransportError::TooManyChainedResponses(MAX_CHAINED));
            }
        }
        if !data.is_empty() {
            data.extend_from_slice(&resp.data);
            resp.data = data;
        }
        Ok(resp)
    }

    fn raw(&mut self, command: &Apdu) -> Result<Response, TransportError> {
        let encoded = command.encode()?;
        let result = self.transport.exchange(command);
        match &result {
            Ok(r) => self.trace.record(&encoded, &r.to_bytes()),
            Err(_) => self.trace.record(&encoded, &[]),
        }
        result
    }
}

/// One scripted exchange: a command pattern and the canned response (data + SW, hex).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScriptedExchange {
    /// Hex of the expected command; a trailing `*` matches any bytes from there on.
    pub command: String,
    /// Hex of the response: data followed by SW1 SW2. The special value `"REMOVED"` makes the
    /// transport fail with [`TransportError::CardRemoved`] at this point.
    pub response: String,
}

/// The scripted-card file format: `{"atr":"HEX","exchanges":[{"command":"HEX","response":"HEX"}]}`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CardScript {
    pub atr: String,
    pub exchanges: Vec<ScriptedExchange>,
}

#[derive(Debug, Clone)]
struct CompiledExchange {
    prefix: Vec<u8>,
    wildcard: bool,
    response: Option<Vec<u8>>,
    pattern: String,
}

/// A card that answers from a script, in order; any deviation is a [`TransportError`].
#[derive(Debug, Clone)]
pub struct ScriptedCard {
    atr: Vec<u8>,
    exchanges: Vec<CompiledExchange>,
    next: usize,
}

impl ScriptedCard {
    /// Compile a script; rejects malformed hex with the index of the bad exchange.
    pub fn new(script: &CardScript) -> Result<ScriptedCard, TransportError> {
        let atr = hex::decode(script.atr.trim())
            .map_err(|e| TransportError::ScriptFormat(format!("atr: {e}")))?;
        let mut exchanges = Vec::with_capacity(script.exchanges.len());
        for (i, ex) in script.exchanges.iter().enumerate() {
            let cmd: String = ex.command.chars().filter(|c| !c.is_whitespace()).collect();
            let (hexpart, wildcard) = match cmd.strip_suffix('*') {
                Some(p) => (p, true),
                None => (cmd.as_str(), false),
            };
            let prefix = hex::decode(hexpart)
                .map_err(|e| TransportError::ScriptFormat(format!("exchange {i} command: {e}")))?;
            let resp: String = ex.response.chars().filter(|c| !c.is_whitespace()).collect();
            let response = if resp.eq_ignore_ascii_case("REMOVED") {
                None
            } else {
                let r = hex::decode(&resp).map_err(|e| {
                    TransportError::ScriptFormat(format!("exchange {i} response: {e}"))
                })?;
                if r.len() < 2 {
                    return Err(TransportError::ScriptFormat(format!(
                        "exchange {i} response has no status word"
                    )));
                }
                Some(r)
            };
            exchanges.push(CompiledExchange {
                prefix,
                wildcard,
                response,
                pattern: cmd,
            });
        }
        Ok(ScriptedCard {
            atr,
            exchanges,
            next: 0,
        })
    }

    /// Parse the JSON script format.
    pub fn from_json(json: &str) -> Result<ScriptedCard, TransportError> {
        let script: CardScript =
            serde_json::from_str(json).map_err(|e| TransportError::ScriptFormat(e.to_string()))?;
        ScriptedCard::new(&script)
    }

    /// Build from `(command pattern, response)` hex pairs.
    pub fn from_pairs(atr: &str, pairs: &[(&str, &str)]) -> Result<ScriptedCard, TransportError> {
        ScriptedCard::new(&CardScript {
            atr: atr.to_string(),
            exchanges: pairs
                .iter()
                .map(|(c, r)| ScriptedExchange {
                    command: c.to_string(),
                    response: r.to_string(),
                })
                .collect(),
        })
    }

    /// How many scripted exchanges were consumed.
    pub fn consumed(&self) -> usize {
        self.next
    }
    /// How many scripted exchanges remain.
    pub fn remaining(&self) -> usize {
        self.exchanges.len().saturating_sub(self.next)
    }
    /// Rewind to the first exchange (benchmarks replay the same script).
    pub fn rewind(&mut self) {
        self.next = 0;
    }
}

impl CardTransport for ScriptedCard {
    fn atr(&self) -> &[u8] {
        &self.atr
    }
    fn exchange(&mut self, command: &Apdu) -> Result<Response, TransportError> {
        let bytes = command.encode()?;
        let Some(ex) = self.exchanges.get(self.next) else {
            return Err(TransportError::ScriptExhausted(
                crate::trace::mask_command_hex(&bytes),
            ));
        };
        let matches = if ex.wildcard {
            bytes.starts_with(&ex.prefix)
        } else {
            bytes == ex.prefix
        };
        if !matches {
            return Err(TransportError::ScriptMismatch {
                index: self.next,
                expected: ex.pattern.clone(),
                actual: crate::trace::mask_command_hex(&bytes),
            });
        }
        self.next += 1;
        match &ex.response {
            None => Err(TransportError::CardRemoved),
            Some(r) => Response::from_bytes(r).ok_or(TransportError::MalformedResponse(r.len())),
        }
    }
}
