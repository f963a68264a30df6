//! TR-31 / ANSI X9.143 key blocks: header parsing, unwrap of versions A, B, C and D, wrap of
//! all four, and key-usage enforcement when a key is loaded.
//!
//! Layout (X9.143-2021 §6; TR-31:2018 §5): a 16-character header, optional blocks, the
//! encrypted key data in hex, then the MAC in hex.
//!
//! * Versions A and C, key variant binding (TR-31:2018 §5.3.2): KBEK = KBPK ⊕ 0x45…, KBAK =
//!   KBPK ⊕ 0x4D…; the key data is TDES-CBC encrypted with the first 8 header characters as IV;
//!   the MAC is the 4-byte ISO 9797-1 algorithm 1 TDES CBC-MAC over header ‖ encrypted data.
//! * Version B, TDES key derivation binding (TR-31:2018 §5.3.2.2): KBEK and KBAK derived from
//!   the KBPK with the CMAC-based KDF of NIST SP 800-108 (counter, usage 0000/0001, separator,
//!   algorithm, length); the 8-byte TDES CMAC over header ‖ clear key data is the CBC IV.
//! * Version D, AES key derivation binding (X9.143-2021 §6.3): as B with AES and a 16-byte MAC.
//!
//! The MAC is checked in constant time before the key is returned; for B and D (which MAC the
//! clear data) the decrypted buffer is zeroized if the check fails. After the MAC, KP and KC
//! optional blocks (X9.143-2021 §6.3.6: KCV of the KBPK and of the wrapped key) are checked
//! when present, then the caller's [`KeyUsageRequirement`].

use crate::CryptoError;
use crate::key::{KeyAlgorithm, SecretKey};
use crate::{cipher, mac};
use zeroize::Zeroizing;

/// Length of the fixed header.
pub const HEADER_LEN: usize = 16;

/// Errors parsing, unwrapping or wrapping a key block.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Tr31Error {
    /// The block is shorter than a header or not printable ASCII.
    #[error("key block: {0}")]
    Malformed(String),
    /// The version ID is not A, B, C or D.
    #[error("key block version {0:?} is not supported (A, B, C, D are)")]
    UnsupportedVersion(char),
    /// The key block length field disagrees with the block.
    #[error("key block length field says {declared}, the block has {actual} characters")]
    LengthMismatch { declared: usize, actual: usize },
    /// A header field has an invalid value.
    #[error("header field {field}: {value:?} is not valid ({reason})")]
    InvalidHeaderField {
        field: &'static str,
        value: String,
        reason: &'static str,
    },
    /// An optional block is malformed.
    #[error("optional block {index}: {reason}")]
    InvalidOptionalBlock { index: usize, reason: String },
    /// The header with its optional blocks is not a multiple of the cipher block.
    #[error("header with optional blocks is {len} characters, not a multiple of {block}")]
    HeaderNotAligned { len: usize, block: usize },
    /// The encrypted key data or MAC is not valid hex of the right size.
    #[error("{field}: {reason}")]
    InvalidData { field: &'static str, reason: String },
    /// The KBPK does not suit this key block version.
    #[error("KBPK is {algorithm}; version {version} needs {needed}")]
    WrongKbpk {
        version: char,
        algorithm: KeyAlgorithm,
        needed: &'static str,
    },
    /// The MAC does not verify: wrong KBPK or tampered block.
    #[error("key block MAC verification failed (wrong KBPK or modified block)")]
    MacMismatch,
    /// The decrypted key length field is impossible.
    #[error("decrypted key length {bits} bits does not fit the {payload}-byte key data")]
    InvalidKeyLength { bits: usize, payload: usize },
    /// The key may not be used as the caller requires.
    #[error("key block {field} is {found}, the caller requires {expected}")]
    UsageNotAllowed {
        field: &'static str,
        expected: String,
        found: String,
    },
    /// A KC (KCV of the wrapped key) or KP (KCV of the KBPK) optional block does not match.
    #[error("optional block {block}: check value {expected} does not match the key ({computed})")]
    KcvMismatch {
        block: &'static str,
        expected: String,
        computed: String,
    },
    /// The key to wrap is not valid for the header's algorithm.
    #[error("key to wrap: {0}")]
    InvalidKey(String),
    /// A symmetric operation failed.
    #[error(transparent)]
    Crypto(#[from] CryptoError),
}

impl From<openssl::error::ErrorStack> for Tr31Error {
    fn from(e: openssl::error::ErrorStack) -> Self {
        Tr31Error::Crypto(CryptoError::OpenSsl(e))
    }
}

/// Key block version ID (header byte 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Version {
    /// 'A': key variant binding, TDES (deprecated; unwrap of legacy blocks).
    A,
    /// 'B': TDES key derivation binding.
    B,
    /// 'C': key variant binding, TDES (as A).
    C,
    /// 'D': AES key derivation binding.
    D,
}

impl Version {
    /// The header character.
    pub fn as_char(self) -> char {
        match self {
            Version::A => 'A',
            Version::B => 'B',
            Version::C => 'C',
            Version::D => 'D',
        }
    }

    fn from_char(c: char) -> Result<Self, Tr31Error> {
        match c {
            'A' => Ok(Version::A),
            'B' => Ok(Version::B),
            'C' => Ok(Version::C),
            'D' => Ok(Version::D),
            other => Err(Tr31Error::UnsupportedVersion(other)),
        }
    }

    /// Cipher block length: 8 for TDES versions, 16 for D.
    pub fn block_len(self) -> usize {
        if self == Version::D { 16 } else { 8 }
    }

    /// MAC length in bytes: 4 for A and C, 8 for B, 16 for D.
    pub fn mac_len(self) -> usize {
        match self {
            Version::A | Version::C => 4,
            Version::B => 8,
            Version::D => 16,
        }
    }
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.as_char())
    }
}

/// Key usage (header bytes 5-6), e.g. `P0` PIN encryption, `M3` ISO 9797-1 MAC algorithm 3.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyUsage(pub [u8; 2]);

impl KeyUsage {
    /// B0 Base Derivation Key.
    pub const BDK: KeyUsage = KeyUsage(*b"B0");
    /// B1 DUKPT initial key.
    pub const DUKPT_INITIAL_KEY: KeyUsage = KeyUsage(*b"B1");
    /// D0 symmetric data encryption.
    pub const DATA_ENCRYPTION: KeyUsage = KeyUsage(*b"D0");
    /// E0 EMV/chip issuer master key: application cryptograms.
    pub const EMV_MK_AC: KeyUsage = KeyUsage(*b"E0");
    /// E1 EMV issuer master key: secure messaging for confidentiality.
    pub const EMV_MK_SMC: KeyUsage = KeyUsage(*b"E1");
    /// E2 EMV issuer master key: secure messaging for integrity.
    pub const EMV_MK_SMI: KeyUsage = KeyUsage(*b"E2");
    /// K0 key encryption or wrapping.
    pub const KEK: KeyUsage = KeyUsage(*b"K0");
    /// K1 TR-31 key block protection key.
    pub const KBPK: KeyUsage = KeyUsage(*b"K1");
    /// M0 ISO 16609 MAC algorithm 1 (TDES).
    pub const MAC_ISO16609: KeyUsage = KeyUsage(*b"M0");
    /// M1 ISO 9797-1 MAC algorithm 1.
    pub const MAC_ALG1: KeyUsage = KeyUsage(*b"M1");
    /// M3 ISO 9797-1 MAC algorithm 3 (retail MAC).
    pub const MAC_ALG3: KeyUsage = KeyUsage(*b"M3");
    /// M6 ISO 9797-1:2011 MAC algorithm 5 / CMAC.
    pub const MAC_CMAC: KeyUsage = KeyUsage(*b"M6");
    /// P0 PIN encryption.
    pub const PIN_ENCRYPTION: KeyUsage = KeyUsage(*b"P0");
    /// V0 PIN verification, other algorithm.
    pub const PIN_VERIFICATION: KeyUsage = KeyUsage(*b"V0");

    /// Parse two alphanumeric characters.
    pub fn parse(s: &str) -> Result<Self, Tr31Error> {
        let bytes: [u8; 2] =
            s.as_bytes()
                .try_into()
                .map_err(|_| Tr31Error::InvalidHeaderField {
                    field: "key usage",
                    value: s.to_string(),
                    reason: "must be 2 characters",
                })?;
        if !bytes.iter().all(u8::is_ascii_alphanumeric) {
            return Err(Tr31Error::InvalidHeaderField {
                field: "key usage",
                value: s.to_string(),
                reason: "must be alphanumeric",
            });
        }
        Ok(KeyUsage(bytes))
    }

    /// The two characters.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or("??")
    }
}

impl std::fmt::Display for KeyUsage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

macro_rules! char_enum {
    ($(#[$m:meta])* $name:ident, $field:literal, { $($(#[$vm:meta])* $v:ident = $c:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name { $($(#[$vm])* $v),+ }
        impl $name {
            /// The header character.
            pub fn as_char(self) -> char { match self { $($name::$v => $c),+ } }
            /// From the header character.
            pub fn from_char(c: char) -> Result<Self, Tr31Error> {
                match c {
                    $($c => Ok($name::$v),)+
                    other => Err(Tr31Error::InvalidHeaderField {
                        field: $field,
                        value: other.to_string(),
                        reason: "unknown code",
                    }),
                }
            }
        }
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "{}", self.as_char())
            }
        }
    };
}

char_enum!(
    /// Algorithm of the wrapped key (header byte 7).
    Algorithm, "algorithm", {
    /// 'A' AES.
    Aes = 'A',
    /// 'D' single DES.
    Des = 'D',
    /// 'E' elliptic curve.
    Ec = 'E',
    /// 'H' HMAC.
    Hmac = 'H',
    /// 'R' RSA.
    Rsa = 'R',
    /// 'S' DSA.
    Dsa = 'S',
    /// 'T' triple DES.
    Tdes = 'T',
});

char_enum!(
    /// Mode of use (header byte 8).
    ModeOfUse, "mode of use", {
    /// 'B' encrypt/wrap and decrypt/unwrap.
    Both = 'B',
    /// 'C' MAC generate and verify.
    GenerateVerify = 'C',
    /// 'D' decrypt/unwrap only.
    DecryptOnly = 'D',
    /// 'E' encrypt/wrap only.
    EncryptOnly = 'E',
    /// 'G' generate only.
    GenerateOnly = 'G',
    /// 'N' no special restrictions.
    NoRestrictions = 'N',
    /// 'S' signature only.
    SignOnly = 'S',
    /// 'T' sign and decrypt.
    SignDecrypt = 'T',
    /// 'V' verify only.
    VerifyOnly = 'V',
    /// 'X' derive other keys.
    Derive = 'X',
    /// 'Y' create key variants.
    Variants = 'Y',
});

char_enum!(
    /// Exportability (header byte 11).
    Exportability, "exportability", {
    /// 'E' exportable under a trusted key.
    Exportable = 'E',
    /// 'N' not exportable.
    NonExportable = 'N',
    /// 'S' sensitive: exportable under an untrusted key too.
    Sensitive = 'S',
});

/// An optional block (X9.143-2021 §6.3.6): two-character ID and printable ASCII data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptionalBlock {
    /// ID, e.g. "KS" key set identifier, "KC" KCV of the wrapped key, "KP" KCV of the KBPK,
    /// "TS" time stamp, "PB" padding block.
    pub id: [u8; 2],
    /// The data characters.
    pub data: String,
}

impl OptionalBlock {
    /// A block with an ID and data (printable ASCII).
    pub fn new(id: &str, data: &str) -> Result<Self, Tr31Error> {
        let id_bytes: [u8; 2] =
            id.as_bytes()
                .try_into()
                .map_err(|_| Tr31Error::InvalidOptionalBlock {
                    index: 0,
                    reason: format!("ID {id:?} is not 2 characters"),
                })?;
        if !id_bytes.iter().all(u8::is_ascii_alphanumeric) || !is_printable(data) {
            return Err(Tr31Error::InvalidOptionalBlock {
                index: 0,
                reason: "ID must be alphanumeric and data printable ASCII".into(),
            });
        }
        Ok(OptionalBlock {
            id: id_bytes,
            data: data.to_string(),
        })
    }

    /// A KC (KCV of the wrapped key) or KP (KCV of the KBPK) block for `key`
    /// (X9.143-2021 §6.3.6.7 / §6.3.6.8): KCV algorithm "00" (legacy, encrypt zeros, 3 bytes)
    /// for TDES keys, "01" (CMAC of zeros, 5 bytes) for AES keys, then the KCV in hex.
    pub fn kcv_block(id: &str, key: &SecretKey) -> Result<Self, Tr31Error> {
        let (method, kcv) = key_check_value(key)?;
        Self::new(id, &format!("{method}{}", hex::encode_upper(kcv)))
    }

    /// The ID as text.
    pub fn id_str(&self) -> &str {
        std::str::from_utf8(&self.id).unwrap_or("??")
    }

    fn encode(&self, out: &mut String) {
        let total = 4 + self.data.len();
        out.push_str(self.id_str());
        if total <= 0xFF {
            out.push_str(&format!("{total:02X}"));
        } else {
            // Extended length: "00", length of length "04", then 4 hex digits of the total
            // (which counts the 10 characters of ID and length fields).
            out.push_str(&format!("0004{:04X}", total + 6));
        }
        out.push_str(&self.data);
    }
}

fn is_printable(s: &str) -> bool {
    s.bytes().all(|b| (0x20..=0x7E).contains(&b))
}

/// A parsed key block header (the 16 fixed characters plus optional blocks).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyBlockHeader {
    /// Version ID.
    pub version: Version,
    /// Key usage.
    pub usage: KeyUsage,
    /// Algorithm of the wrapped key.
    pub algorithm: Algorithm,
    /// Mode of use.
    pub mode: ModeOfUse,
    /// Key version number (2 characters, "00" when unused; 'c' then a digit for a component).
    pub key_version: [u8; 2],
    /// Exportability.
    pub exportability: Exportability,
    /// Key context (X9.143 byte 14: '0' unspecified, '1' storage, '2' exchange) and the reserved
    /// byte 15, as characters.
    pub context: [u8; 2],
    /// Optional blocks, without the PB padding block (wrap adds it when needed).
    pub optional_blocks: Vec<OptionalBlock>,
}

impl KeyBlockHeader {
    /// A header with no optional blocks, key version "00", exportability 'E', context "00".
    pub fn new(version: Version, usage: KeyUsage, algorithm: Algorithm, mode: ModeOfUse) -> Self {
        KeyBlockHeader {
            version,
            usage,
            algorithm,
            mode,
            key_version: *b"00",
            exportability: Exportability::Exportable,
            context: *b"00",
            optional_blocks: Vec::new(),
        }
    }

    /// Find an optional block by ID.
    pub fn optional_block(&self, id: &str) -> Option<&OptionalBlock> {
        self.optional_blocks.iter().find(|b| b.id_str() == id)
    }

    /// Key version number as text.
    pub fn key_version_str(&self) -> &str {
        std::str::from_utf8(&self.key_version).unwrap_or("??")
    }

    /// Parse the header at the start of `block`; returns it and the length in characters of
    /// header plus optional blocks (padding block included).
    pub fn parse(block: &str) -> Result<(Self, usize), Tr31Error> {
        if !block.is_ascii() || !is_printable(block) {
            return Err(Tr31Error::Malformed("not printable ASCII".into()));
        }
        let b = block.as_bytes();
        if b.len() < HEADER_LEN {
            return Err(Tr31Error::Malformed(format!(
                "{} characters, shorter than the 16-character header",
                b.len()
            )));
        }
        let field = |range: std::ops::Range<usize>| block.get(range).unwrap_or("");
        let version = Version::from_char(char::from(b[0]))?;
        let declared = parse_decimal(field(1..5)).ok_or_else(|| Tr31Error::InvalidHeaderField {
            field: "key block length",
            value: field(1..5).to_string(),
            reason: "must be 4 decimal digits",
        })?;
        if declared != b.len() {
            return Err(Tr31Error::LengthMismatch {
                declared,
                actual: b.len(),
            });
        }
        let usage = KeyUsage::parse(field(5..7))?;
        let algorithm = Algorithm::from_char(char::from(b[7]))?;
        let mode = ModeOfUse::from_char(char::from(b[8]))?;
        let key_version = [b[9], b[10]];
        if !key_version.iter().all(u8::is_ascii_alphanumeric) {
            return Err(Tr31Error::InvalidHeaderField {
                field: "key version number",
                value: field(9..11).to_string(),
                reason: "must be 2 alphanumeric characters",
            });
        }
        let exportability = Exportability::from_char(char::from(b[11]))?;
        let count = parse_decimal(field(12..14)).ok_or_else(|| Tr31Error::InvalidHeaderField {
            field: "number of optional blocks",
            value: field(12..14).to_string(),
            reason: "must be 2 decimal digits",
        })?;
        let context = [b[14], b[15]];
        if !matches!(context[0], b'0'..=b'2') || context[1] != b'0' {
            return Err(Tr31Error::InvalidHeaderField {
                field: "key context / reserved",
                value: field(14..16).to_string(),
                reason: "must be 00, 10 or 20",
            });
        }
        let mut pos = HEADER_LEN;
        let mut optional_blocks = Vec::new();
        let mut saw_padding = false;
        for index in 0..count {
            let err = |reason: String| Tr31Error::InvalidOptionalBlock { index, reason };
            if saw_padding {
                return Err(err("a block follows the PB padding block".into()));
            }
            let id = field(pos..pos + 2);
            if id.len() != 2 || !id.bytes().all(|c| c.is_ascii_alphanumeric()) {
                return Err(err(format!("ID {id:?} is not 2 alphanumeric characters")));
            }
            let len_text = field(pos + 2..pos + 4);
            let mut total = parse_hex_usize(len_text)
                .ok_or_else(|| err(format!("length {len_text:?} is not 2 hex digits")))?;
            let mut data_start = pos + 4;
            if total == 0 {
                // Extended length: length of length (2 hex), then the length.
                let lol_text = field(pos + 4..pos + 6);
                let lol = parse_hex_usize(lol_text)
                    .filter(|l| (1..=8).contains(l))
                    .ok_or_else(|| err(format!("length of length {lol_text:?} invalid")))?;
                let ext = field(pos + 6..pos + 6 + lol);
                total = parse_hex_usize(ext)
                    .filter(|_| ext.len() == lol)
                    .ok_or_else(|| err(format!("extended length {ext:?} invalid")))?;
                data_start = pos + 6 + lol;
            }
            if total < data_start - pos {
                return Err(err(format!("length {total} shorter than its own fields")));
            }
            let end = pos + total;
            let data = block
                .get(data_start..end)
                .filter(|_| end <= b.len())
                .ok_or_else(|| err(format!("length {total} runs past the block")))?;
            if id == "PB" {
                saw_padding = true;
            } else {
                optional_blocks.push(OptionalBlock {
                    id: [id.as_bytes()[0], id.as_bytes()[1]],
                    data: data.to_string(),
                });
            }
            pos = end;
        }
        let block_chars = version.block_len();
        if pos % block_chars != 0 {
            return Err(Tr31Error::HeaderNotAligned {
                len: pos,
                block: block_chars,
            });
        }
        let header = KeyBlockHeader {
            version,
            usage,
            algorithm,
            mode,
            key_version,
            exportability,
            context,
            optional_blocks,
        };
        Ok((header, pos))
    }

    /// Encode header and optional blocks (with a PB block if needed for alignment) for a block
    /// of `payload_and_mac_chars` more characters.
    fn encode(&self, payload_and_mac_chars: usize) -> Result<String, Tr31Error> {
        let mut opt = String::new();
        let mut count = self.optional_blocks.len();
        for b in &self.optional_blocks {
            if b.id_str() == "PB" {
                return Err(Tr31Error::InvalidOptionalBlock {
                    index: 0,
                    reason: "PB is added by wrap, do not pass it".into(),
                });
            }
            b.encode(&mut opt);
        }
        let block = self.version.block_len();
        let rem = (HEADER_LEN + opt.len()) % block;
        if rem != 0 {
            // A PB block is at least 4 characters: pad to the next boundary that fits it.
            let mut pad = block - rem;
            while pad < 4 {
                pad += block;
            }
            let mut fill = vec![0u8; pad - 4];
            openssl::rand::rand_bytes(&mut fill)?;
            let data: String = fill.iter().map(|b| char::from(b'A' + b % 26)).collect();
            OptionalBlock { id: *b"PB", data }.encode(&mut opt);
            count += 1;
        }
        if count > 99 {
            return Err(Tr31Error::InvalidOptionalBlock {
                index: 99,
                reason: "more than 99".into(),
            });
        }
        let total = HEADER_LEN + opt.len() + payload_and_mac_chars;
        if total > 9999 {
            return Err(Tr31Error::InvalidKey(format!(
                "block would be {total} characters"
            )));
        }
        let mut out = String::with_capacity(total);
        out.push(self.version.as_char());
        out.push_str(&format!("{total:04}"));
        out.push_str(self.usage.as_str());
        out.push(self.algorithm.as_char());
        out.push(self.mode.as_char());
        out.push_str(self.key_version_str());
        out.push(self.exportability.as_char());
        out.push_str(&format!("{count:02}"));
        out.push_str(std::str::from_utf8(&self.context).unwrap_or("00"));
        out.push_str(&opt);
        Ok(out)
    }
}

fn parse_decimal(s: &str) -> Option<usize> {
    (!s.is_empty() && s.bytes().all(|c| c.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
}

fn parse_hex_usize(s: &str) -> Option<usize> {
    (!s.is_empty() && s.bytes().all(|c| c.is_ascii_hexdigit()))
        .then(|| usize::from_str_radix(s, 16).ok())
        .flatten()
}

/// What the caller requires of a key it is about to load.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyUsageRequirement {
    /// Required key usage.
    pub usage: KeyUsage,
    /// Required algorithm, if any.
    pub algorithm: Option<Algorithm>,
    /// Accepted modes of use (empty: any).
    pub modes: Vec<ModeOfUse>,
}

impl KeyUsageRequirement {
    /// Require `usage`, any algorithm, any mode.
    pub fn new(usage: KeyUsage) -> Self {
        KeyUsageRequirement {
            usage,
            algorithm: None,
            modes: Vec::new(),
        }
    }

    /// Also require `algorithm`.
    pub fn with_algorithm(mut self, algorithm: Algorithm) -> Self {
        self.algorithm = Some(algorithm);
        self
    }

    /// Also require one of `modes`.
    pub fn with_modes(mut self, modes: &[ModeOfUse]) -> Self {
        self.modes = modes.to_vec();
        self
    }

    /// A terminal PIN encryption key: P0, encrypt allowed (E, B or N).
    pub fn pin_encryption() -> Self {
        Self::new(KeyUsage::PIN_ENCRYPTION).with_modes(&[
            ModeOfUse::EncryptOnly,
            ModeOfUse::Both,
            ModeOfUse::NoRestrictions,
        ])
    }

    /// A key-encryption key: K0, unwrap allowed (D, B or N).
    pub fn key_encryption() -> Self {
        Self::new(KeyUsage::KEK).with_modes(&[
            ModeOfUse::DecryptOnly,
            ModeOfUse::Both,
            ModeOfUse::NoRestrictions,
        ])
    }

    fn check(&self, header: &KeyBlockHeader) -> Result<(), Tr31Error> {
        if header.usage != self.usage {
            return Err(Tr31Error::UsageNotAllowed {
                field: "key usage",
                expected: self.usage.to_string(),
                found: header.usage.to_string(),
            });
        }
        if let Some(alg) = self.algorithm
            && alg != header.algorithm
        {
            return Err(Tr31Error::UsageNotAllowed {
                field: "algorithm",
                expected: alg.to_string(),
                found: header.algorithm.to_string(),
            });
        }
        if !self.modes.is_empty() && !self.modes.contains(&header.mode) {
            return Err(Tr31Error::UsageNotAllowed {
                field: "mode of use",
                expected: self.modes.iter().map(|m| m.as_char()).collect(),
                found: header.mode.to_string(),
            });
        }
        Ok(())
    }
}

/// A key taken out of a key block, with its authenticated header.
pub struct UnwrappedKey {
    /// The header (authenticated by the MAC).
    pub header: KeyBlockHeader,
    key: Zeroizing<Vec<u8>>,
    padding: Zeroizing<Vec<u8>>,
}

impl std::fmt::Debug for UnwrappedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UnwrappedKey")
            .field("header", &self.header)
            .field("key_len", &self.key.len())
            .finish_non_exhaustive()
    }
}

impl UnwrappedKey {
    /// The clear key bytes. **Sensitive.**
    pub fn key_bytes(&self) -> &[u8] {
        &self.key
    }

    /// The padding that followed the key in the key data (random filler; for reproducing a
    /// block with [`wrap_with_padding`]).
    #[doc(hidden)]
    pub fn padding(&self) -> &[u8] {
        &self.padding
    }

    /// The key as a [`SecretKey`] for its header algorithm (T → TDES, A → AES, D → DES).
    pub fn to_secret_key(&self) -> Result<SecretKey, Tr31Error> {
        let key = match self.header.algorithm {
            Algorithm::Tdes => SecretKey::tdes(&self.key)?,
            Algorithm::Aes => SecretKey::aes(&self.key)?,
            Algorithm::Des => SecretKey::new(KeyAlgorithm::Des, &self.key)?,
            other => {
                return Err(Tr31Error::InvalidKey(format!(
                    "algorithm {other} is not a symmetric cipher key"
                )));
            }
        };
        Ok(key)
    }
}

fn check_kbpk(version: Version, kbpk: &SecretKey) -> Result<(), Tr31Error> {
    let alg = kbpk.algorithm();
    let ok = match version {
        Version::A | Version::B | Version::C => {
            matches!(alg, KeyAlgorithm::Tdes2 | KeyAlgorithm::Tdes3)
        }
        Version::D => alg.is_aes(),
    };
    if ok {
        Ok(())
    } else {
        Err(Tr31Error::WrongKbpk {
            version: version.as_char(),
            algorithm: alg,
            needed: if version == Version::D {
                "an AES key"
            } else {
                "a 2- or 3-key TDES key"
            },
        })
    }
}

/// The KBEK and KBAK for a version (TR-31:2018 §5.3.2; X9.143-2021 §6.3.2 / Table 7).
fn binding_keys(version: Version, kbpk: &SecretKey) -> Result<(SecretKey, SecretKey), Tr31Error> {
    match version {
        Version::A | Version::C => {
            let n = kbpk.len();
            Ok((kbpk.xor(&vec![0x45; n])?, kbpk.xor(&vec![0x4D; n])?))
        }
        Version::B | Version::D => Ok((derive(kbpk, 0x0000)?, derive(kbpk, 0x0001)?)),
    }
}

/// CMAC-based counter-mode KDF (NIST SP 800-108 §5.1) with the TR-31 derivation data:
/// counter ‖ key usage (0000 encryption, 0001 MAC) ‖ 00 ‖ algorithm ‖ length in bits.
fn derive(kbpk: &SecretKey, usage: u16) -> Result<SecretKey, Tr31Error> {
    let alg = kbpk.algorithm();
    let (alg_id, bits): (u16, u16) = match alg {
        KeyAlgorithm::Tdes2 => (0x0000, 128),
        KeyAlgorithm::Tdes3 => (0x0001, 192),
        KeyAlgorithm::Aes128 => (0x0002, 128),
        KeyAlgorithm::Aes192 => (0x0003, 192),
        KeyAlgorithm::Aes256 => (0x0004, 256),
        other => {
            return Err(Tr31Error::WrongKbpk {
                version: 'B',
                algorithm: other,
                needed: "TDES or AES",
            });
        }
    };
    let mut material = Zeroizing::new(Vec::with_capacity(32));
    let mut counter = 1u8;
    while material.len() < alg.key_len() {
        let mut data = [0u8; 8];
        data[0] = counter;
        data[1..3].copy_from_slice(&usage.to_be_bytes());
        data[3] = 0x00;
        data[4..6].copy_from_slice(&alg_id.to_be_bytes());
        data[6..8].copy_from_slice(&bits.to_be_bytes());
        let block = Zeroizing::new(mac::cmac(kbpk, &data)?);
        material.extend_from_slice(&block);
        counter += 1;
    }
    material.truncate(alg.key_len());
    Ok(SecretKey::new(alg, &material)?)
}

fn decode_hex(field: &'static str, s: &str) -> Result<Vec<u8>, Tr31Error> {
    hex::decode(s).map_err(|e| Tr31Error::InvalidData {
        field,
        reason: format!("not hex ({e})"),
    })
}

/// Unwrap a key block under `kbpk`, checking the MAC, then (if given) that the header allows
/// the use the caller requires (X9.143-2021 §6.4; TR-31:2018 §5.4).
pub fn unwrap(
    kbpk: &SecretKey,
    block: &str,
    expect: Option<&KeyUsageRequirement>,
) -> Result<UnwrappedKey, Tr31Error> {
    let (header, header_len) = KeyBlockHeader::parse(block)?;
    let version = header.version;
    check_kbpk(version, kbpk)?;
    let mac_chars = version.mac_len() * 2;
    let rest_len = block.len() - header_len;
    if rest_len < mac_chars {
        return Err(Tr31Error::InvalidData {
            field: "MAC",
            reason: format!("{rest_len} characters left, the MAC needs {mac_chars}"),
        });
    }
    let header_text = block.get(..header_len).unwrap_or("");
    let payload_hex = block.get(header_len..block.len() - mac_chars).unwrap_or("");
    let mac_hex = block.get(block.len() - mac_chars..).unwrap_or("");
    let encrypted = decode_hex("encrypted key data", payload_hex)?;
    let received_mac = decode_hex("MAC", mac_hex)?;
    let bl = version.block_len();
    if encrypted.is_empty() || encrypted.len() % bl != 0 {
        return Err(Tr31Error::InvalidData {
            field: "encrypted key data",
            reason: format!("{} bytes, not a positive multiple of {bl}", encrypted.len()),
        });
    }
    let (kbek, kbak) = binding_keys(version, kbpk)?;
    let payload = match version {
        Version::A | Version::C => {
            let mut mac_input = header_text.as_bytes().to_vec();
            mac_input.extend_from_slice(&encrypted);
            let computed = mac::cbc_mac(&kbak, &mac_input, mac::Padding::Method1)?;
            if !ct_eq(computed.get(..4).unwrap_or(&[]), &received_mac) {
                return Err(Tr31Error::MacMismatch);
            }
            let iv = header_text.as_bytes().get(..8).unwrap_or(&[]);
            Zeroizing::new(cipher::decrypt_cbc(&kbek, iv, &encrypted)?)
        }
        Version::B | Version::D => {
            let payload = Zeroizing::new(cipher::decrypt_cbc(&kbek, &received_mac, &encrypted)?);
            let mut mac_input = Zeroizing::new(header_text.as_bytes().to_vec());
            mac_input.extend_from_slice(&payload);
            let computed = mac::cmac(&kbak, &mac_input)?;
            if !ct_eq(&computed, &received_mac) {
                return Err(Tr31Error::MacMismatch);
            }
            payload
        }
    };
    let bits = usize::from(u16::from_be_bytes([
        payload.first().copied().unwrap_or(0),
        payload.get(1).copied().unwrap_or(0),
    ]));
    let key_len = bits / 8;
    if bits % 8 != 0 || key_len == 0 || 2 + key_len > payload.len() {
        return Err(Tr31Error::InvalidKeyLength {
            bits,
            payload: payload.len(),
        });
    }
    let key = Zeroizing::new(payload.get(2..2 + key_len).unwrap_or(&[]).to_vec());
    let padding = Zeroizing::new(payload.get(2 + key_len..).unwrap_or(&[]).to_vec());
    let unwrapped = UnwrappedKey {
        header,
        key,
        padding,
    };
    if let Some(kp) = unwrapped.header.optional_block("KP") {
        check_kcv_block(kp, "KP", kbpk)?;
    }
    if let Some(kc) = unwrapped.header.optional_block("KC") {
        check_kcv_block(kc, "KC", &unwrapped.to_secret_key()?)?;
    }
    if let Some(req) = expect {
        req.check(&unwrapped.header)?;
    }
    Ok(unwrapped)
}

/// The KCV a KC/KP block carries for `key`: ("00", 3 bytes of encrypt-zeros) for DES-family
/// keys, ("01", 5 bytes of CMAC of zeros) otherwise.
fn key_check_value(key: &SecretKey) -> Result<(&'static str, Vec<u8>), Tr31Error> {
    if key.algorithm().is_des_family() {
        let mut v = crate::kcv::encrypt_zeros(key)?;
        v.truncate(3);
        Ok(("00", v))
    } else {
        let mut v = crate::kcv::cmac_zeros(key)?;
        v.truncate(5);
        Ok(("01", v))
    }
}

/// Check a KC or KP block against `key` (the KCV method is given by the block's first two
/// characters: "00" encrypt zeros, "01" CMAC).
fn check_kcv_block(
    block: &OptionalBlock,
    name: &'static str,
    key: &SecretKey,
) -> Result<(), Tr31Error> {
    let invalid = |reason: &str| Tr31Error::InvalidOptionalBlock {
        index: 0,
        reason: format!("{name}: {reason}"),
    };
    let method = block.data.get(..2).ok_or_else(|| invalid("too short"))?;
    let expected =
        hex::decode(block.data.get(2..).unwrap_or("")).map_err(|_| invalid("KCV is not hex"))?;
    if expected.is_empty() {
        return Err(invalid("empty KCV"));
    }
    let full = match method {
        "00" => crate::kcv::encrypt_zeros(key)?,
        "01" => crate::kcv::cmac_zeros(key)?,
        _ => return Err(invalid("KCV algorithm is not 00 or 01")),
    };
    let computed = full
        .get(..expected.len())
        .ok_or_else(|| invalid("KCV longer than a block"))?;
    if !ct_eq(computed, &expected) {
        return Err(Tr31Error::KcvMismatch {
            block: name,
            expected: hex::encode_upper(&expected),
            computed: hex::encode_upper(computed),
        });
    }
    Ok(())
}

fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && !a.is_empty() && openssl::memcmp::eq(a, b)
}

/// Wrap `key` under `kbpk` with `header` (X9.143-2021 §6.3; TR-31:2018 §5.3). The key data is
/// padded with random bytes to the cipher block; a PB optional block is added if the header
/// needs aligning.
pub fn wrap(kbpk: &SecretKey, header: &KeyBlockHeader, key: &[u8]) -> Result<String, Tr31Error> {
    wrap_inner(kbpk, header, key, None)
}

/// [`wrap`] with caller-chosen key data padding instead of random bytes (it must be exactly
/// as long as the block alignment needs): reproduces published example blocks byte for byte.
#[doc(hidden)]
pub fn wrap_with_padding(
    kbpk: &SecretKey,
    header: &KeyBlockHeader,
    key: &[u8],
    padding: &[u8],
) -> Result<String, Tr31Error> {
    wrap_inner(kbpk, header, key, Some(padding))
}

fn wrap_inner(
    kbpk: &SecretKey,
    header: &KeyBlockHeader,
    key: &[u8],
    padding: Option<&[u8]>,
) -> Result<String, Tr31Error> {
    let version = header.version;
    check_kbpk(version, kbpk)?;
    let expected_lens: &[usize] = match header.algorithm {
        Algorithm::Tdes => &[16, 24],
        Algorithm::Aes => &[16, 24, 32],
        Algorithm::Des => &[8],
        _ => &[],
    };
    if key.is_empty()
        || key.len() > 512
        || (!expected_lens.is_empty() && !expected_lens.contains(&key.len()))
    {
        return Err(Tr31Error::InvalidKey(format!(
            "{} bytes is not a valid {} key length",
            key.len(),
            header.algorithm
        )));
    }
    let bl = version.block_len();
    let mut payload = Zeroizing::new(Vec::with_capacity(key.len() + 2 + bl));
    payload.extend_from_slice(&((key.len() * 8) as u16).to_be_bytes());
    payload.extend_from_slice(key);
    let pad = (bl - payload.len() % bl) % bl;
    match padding {
        Some(p) if p.len() == pad => payload.extend_from_slice(p),
        Some(p) => {
            return Err(Tr31Error::InvalidKey(format!(
                "padding is {} bytes, the block needs {pad}",
                p.len()
            )));
        }
        None => {
            let mut fill = vec![0u8; pad];
            openssl::rand::rand_bytes(&mut fill)?;
            payload.extend_from_slice(&fill);
        }
    }
    let mac_len = version.mac_len();
    let header_text = header.encode(payload.len() * 2 + mac_len * 2)?;
    let (kbek, kbak) = binding_keys(version, kbpk)?;
    let (encrypted, mac) = match version {
        Version::A | Version::C => {
            let iv = header_text.as_bytes().get(..8).unwrap_or(&[]);
            let encrypted = cipher::encrypt_cbc(&kbek, iv, &payload)?;
            let mut mac_input = header_text.as_bytes().to_vec();
            mac_input.extend_from_slice(&encrypted);
            let mut mac = mac::cbc_mac(&kbak, &mac_input, mac::Padding::Method1)?;
            mac.truncate(4);
            (encrypted, mac)
        }
        Version::B | Version::D => {
            let mut mac_input = Zeroizing::new(header_text.as_bytes().to_vec());
            mac_input.extend_from_slice(&payload);
            let mac = mac::cmac(&kbak, &mac_input)?;
            (cipher::encrypt_cbc(&kbek, &mac, &payload)?, mac)
        }
    };
    let mut out = header_text;
    out.push_str(&hex::encode_upper(&encrypted));
    out.push_str(&hex::encode_upper(&mac));
    Ok(out)
}
