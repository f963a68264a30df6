//! PIN blocks of ISO 9564-1:2017: formats 0, 1, 2, 3 (8-byte blocks, §9.3.1-§9.3.4) and format 4
//! (16-byte AES block, §9.3.5), encoding, decoding with validation, and encipherment.
//!
//! * Format 0: `0 N P..P F..F` XOR the PAN field `0000` + the 12 rightmost PAN digits excluding the
//!   check digit (ANSI X9.8-1; ANSI X9.24-1:2009 A.4 example).
//! * Format 1: `1 N P..P` + random fill (the transaction field); no PAN.
//! * Format 2: `2 N P..P F..F`; no PAN (ICC offline PIN, EMV Book 3 §6.5.12).
//! * Format 3: `3 N P..P` + random fill of nibbles A-F, XOR the format 0 PAN field.
//! * Format 4: plain PIN field `4 N P..P A..A` (16 nibbles) ‖ 8 random bytes; PAN field `M` + PAN
//!   (left-padded with zeros to 12 digits) padded with zeros to 32 nibbles, `M` = PAN length − 12.
//!   Encipherment (§9.4.2): `C = E_K(E_K(PIN field) XOR PAN field)`.
//!
//! Formats 0-3 are enciphered with a DES-family key (ECB, one block); format 4 with a 128-bit block
//! cipher (AES, or SM4 for the Chinese national-algorithm variant). Randomness is injected as a
//! [`FillSource`] so that tests are deterministic; [`openssl_random`] is the production source.

use std::fmt;

use zeroize::Zeroizing;

use crate::cipher::BlockCipher;
use crate::error::CryptoError;
use crate::key::SecretKey;

/// ISO 9564-1:2017 PIN block format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PinBlockFormat {
    /// Format 0 (ANSI X9.8, PAN-bound).
    Iso0,
    /// Format 1 (random/transaction fill, no PAN).
    Iso1,
    /// Format 2 (F fill, no PAN; ICC offline PIN).
    Iso2,
    /// Format 3 (random A-F fill, PAN-bound).
    Iso3,
    /// Format 4 (AES, 16 bytes, PAN-bound by double encipherment).
    Iso4,
}

impl PinBlockFormat {
    /// Format from its number 0-4.
    pub fn from_number(n: u8) -> Result<Self, CryptoError> {
        match n {
            0 => Ok(PinBlockFormat::Iso0),
            1 => Ok(PinBlockFormat::Iso1),
            2 => Ok(PinBlockFormat::Iso2),
            3 => Ok(PinBlockFormat::Iso3),
            4 => Ok(PinBlockFormat::Iso4),
            _ => Err(CryptoError::InvalidInput {
                field: "format",
                reason: format!("PIN block format {n} is not 0, 1, 2, 3 or 4"),
            }),
        }
    }

    /// The format number, which is also the control nibble.
    pub const fn number(self) -> u8 {
        match self {
            PinBlockFormat::Iso0 => 0,
            PinBlockFormat::Iso1 => 1,
            PinBlockFormat::Iso2 => 2,
            PinBlockFormat::Iso3 => 3,
            PinBlockFormat::Iso4 => 4,
        }
    }

    /// Length of the (plain) PIN block in bytes: 8, or 16 for format 4.
    pub const fn block_len(self) -> usize {
        match self {
            PinBlockFormat::Iso4 => 16,
            _ => 8,
        }
    }

    /// Whether the format binds the PAN (0, 3 and 4).
    pub const fn uses_pan(self) -> bool {
        matches!(
            self,
            PinBlockFormat::Iso0 | PinBlockFormat::Iso3 | PinBlockFormat::Iso4
        )
    }
}

/// A PIN of 4 to 12 decimal digits, held in a zeroizing buffer; `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct Pin(Zeroizing<String>);

impl Pin {
    /// Validate and wrap a PIN (ISO 9564-1:2017 §9.3: 4 to 12 digits).
    pub fn new(digits: &str) -> Result<Self, CryptoError> {
        if !(4..=12).contains(&digits.len()) {
            return Err(CryptoError::InvalidPin {
                reason: "length must be 4 to 12 digits",
            });
        }
        if !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(CryptoError::InvalidPin {
                reason: "only decimal digits are allowed",
            });
        }
        Ok(Pin(Zeroizing::new(digits.to_string())))
    }

    /// The digits. **Sensitive**: never log or persist them.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Number of digits (4-12).
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Always false: a PIN has at least 4 digits.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Pin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Pin(<redacted>)")
    }
}

/// A clear (unenciphered) PIN block, zeroized on drop. For format 4 it is the 16-byte plain PIN
/// field. `Debug` shows only the format.
#[derive(Clone)]
pub struct ClearPinBlock {
    format: PinBlockFormat,
    bytes: Zeroizing<Vec<u8>>,
}

impl ClearPinBlock {
    /// Wrap clear bytes of a given format (length checked, content checked on decode).
    pub fn from_bytes(format: PinBlockFormat, bytes: &[u8]) -> Result<Self, CryptoError> {
        if bytes.len() != format.block_len() {
            return Err(CryptoError::InvalidPinBlock {
                reason: format!(
                    "length {} bytes, format {} needs {}",
                    bytes.len(),
                    format.number(),
                    format.block_len()
                ),
            });
        }
        Ok(ClearPinBlock {
            format,
            bytes: Zeroizing::new(bytes.to_vec()),
        })
    }

    /// The format.
    pub fn format(&self) -> PinBlockFormat {
        self.format
    }

    /// The clear block. **Sensitive** (it reveals the PIN).
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }
}

impl fmt::Debug for ClearPinBlock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClearPinBlock")
            .field("format", &self.format)
            .finish_non_exhaustive()
    }
}

/// A source of random bytes for fill digits (formats 1, 3 and 4).
pub type FillSource<'a> = &'a mut dyn FnMut(&mut [u8]) -> Result<(), CryptoError>;

/// Random bytes from OpenSSL's CSPRNG (`RAND_bytes`).
pub fn openssl_random(buf: &mut [u8]) -> Result<(), CryptoError> {
    openssl::rand::rand_bytes(buf)?;
    Ok(())
}

fn validate_pan(format: PinBlockFormat, pan: &str) -> Result<&[u8], CryptoError> {
    // Format 4's PAN field takes 1 to 19 digits (§9.3.5, shorter PANs are left-padded to 12);
    // formats 0 and 3 take a real card number, here 8 to 19 digits (ISO/IEC 7812-1).
    let (range, reason) = match format {
        PinBlockFormat::Iso4 => (1..=19, "length must be 1 to 19 digits"),
        _ => (8..=19, "length must be 8 to 19 digits"),
    };
    if !range.contains(&pan.len()) {
        return Err(CryptoError::InvalidPan { reason });
    }
    if !pan.bytes().all(|b| b.is_ascii_digit()) {
        return Err(CryptoError::InvalidPan {
            reason: "only decimal digits are allowed",
        });
    }
    Ok(pan.as_bytes())
}

fn require_pan(format: PinBlockFormat, pan: Option<&str>) -> Result<&[u8], CryptoError> {
    match pan {
        Some(p) => validate_pan(format, p),
        None => Err(CryptoError::InvalidPan {
            reason: match format {
                PinBlockFormat::Iso4 => "format 4 needs the PAN",
                _ => "formats 0 and 3 need the PAN",
            },
        }),
    }
}

/// Pack nibbles (values 0-15) into bytes, high nibble first.
fn pack(nibbles: &[u8]) -> Zeroizing<Vec<u8>> {
    Zeroizing::new(
        nibbles
            .chunks(2)
            .map(|p| {
                (p.first().copied().unwrap_or(0) << 4) | (p.get(1).copied().unwrap_or(0) & 0x0F)
            })
            .collect(),
    )
}

fn unpack(bytes: &[u8]) -> Zeroizing<Vec<u8>> {
    // Pre-sized: growing a buffer of PIN nibbles would leave copies in freed memory.
    let mut out = Zeroizing::new(Vec::with_capacity(bytes.len() * 2));
    for b in bytes {
        out.push(b >> 4);
        out.push(b & 0x0F);
    }
    out
}

/// The 8-byte PAN field of formats 0 and 3: `0000` + the 12 rightmost PAN digits excluding the check
/// digit, left-padded with zeros if the PAN is shorter (ISO 9564-1:2017 §9.3.1).
fn pan_field_8(pan: &[u8]) -> Vec<u8> {
    let without_check = pan.get(..pan.len().saturating_sub(1)).unwrap_or_default();
    let digits = without_check
        .get(without_check.len().saturating_sub(12)..)
        .unwrap_or_default();
    let mut nibbles = vec![0u8; 16 - digits.len()];
    nibbles.extend(digits.iter().map(|d| d - b'0'));
    pack(&nibbles).to_vec()
}

/// The 16-byte PAN field of format 4 (ISO 9564-1:2017 §9.3.5).
fn pan_field_16(pan: &[u8]) -> Vec<u8> {
    let m = pan.len().saturating_sub(12) as u8;
    let mut nibbles = Vec::with_capacity(32);
    nibbles.push(m);
    nibbles.extend(std::iter::repeat_n(0u8, 12usize.saturating_sub(pan.len())));
    nibbles.extend(pan.iter().map(|d| d - b'0'));
    nibbles.resize(32, 0);
    pack(&nibbles).to_vec()
}

/// The PAN field for a format: 8 bytes for formats 0 and 3, 16 bytes for format 4. Formats 1 and
/// 2 have none (an error).
pub fn pan_field(format: PinBlockFormat, pan: &str) -> Result<Vec<u8>, CryptoError> {
    let pan = validate_pan(format, pan)?;
    match format {
        PinBlockFormat::Iso0 | PinBlockFormat::Iso3 => Ok(pan_field_8(pan)),
        PinBlockFormat::Iso4 => Ok(pan_field_16(pan)),
        PinBlockFormat::Iso1 | PinBlockFormat::Iso2 => Err(CryptoError::InvalidInput {
            field: "format",
            reason: format!("format {} has no PAN field", format.number()),
        }),
    }
}

/// Encode a clear PIN block. `pan` is needed for formats 0, 3 and 4 and ignored otherwise; `fill`
/// supplies random bytes for formats 1, 3 and 4.
pub fn encode(
    format: PinBlockFormat,
    pin: &Pin,
    pan: Option<&str>,
    fill: FillSource<'_>,
) -> Result<ClearPinBlock, CryptoError> {
    let digits = pin.as_str().as_bytes();
    let field_nibbles = 16;
    let mut nibbles = Zeroizing::new(Vec::with_capacity(32));
    nibbles.push(format.number());
    nibbles.push(digits.len() as u8);
    nibbles.extend(digits.iter().map(|d| d - b'0'));
    let fill_count = field_nibbles - nibbles.len();
    let mut random = Zeroizing::new(vec![0u8; fill_count + 8]);
    match format {
        PinBlockFormat::Iso0 | PinBlockFormat::Iso2 => {
            nibbles.extend(std::iter::repeat_n(0x0F, fill_count));
        }
        PinBlockFormat::Iso1 => {
            fill(&mut random[..fill_count])?;
            nibbles.extend(random.iter().take(fill_count).map(|b| b & 0x0F));
        }
        PinBlockFormat::Iso3 => {
            fill(&mut random[..fill_count])?;
            nibbles.extend(random.iter().take(fill_count).map(|b| 0x0A + b % 6));
        }
        PinBlockFormat::Iso4 => {
            nibbles.extend(std::iter::repeat_n(0x0A, fill_count));
            fill(&mut random[fill_count..])?;
            nibbles.extend(unpack(&random[fill_count..]).iter());
        }
    }
    let mut bytes = pack(&nibbles);
    if matches!(format, PinBlockFormat::Iso0 | PinBlockFormat::Iso3) {
        let pan = require_pan(format, pan)?;
        for (b, p) in bytes.iter_mut().zip(pan_field_8(pan)) {
            *b ^= p;
        }
    } else if format == PinBlockFormat::Iso4 {
        // Validate the PAN now so that an encode without a usable PAN fails early.
        require_pan(format, pan)?;
    }
    ClearPinBlock::from_bytes(format, &bytes)
}

fn bad(reason: String) -> CryptoError {
    CryptoError::InvalidPinBlock { reason }
}

/// Decode a clear PIN block of `format` (for format 4, the plain PIN field), validating the control
/// nibble, the PIN length (4-12), the PIN digits and the fill. `pan` is needed for formats 0 and 3.
pub fn decode(format: PinBlockFormat, block: &[u8], pan: Option<&str>) -> Result<Pin, CryptoError> {
    let clear = ClearPinBlock::from_bytes(format, block)?;
    let mut bytes = Zeroizing::new(clear.as_bytes().to_vec());
    if matches!(format, PinBlockFormat::Iso0 | PinBlockFormat::Iso3) {
        let pan = require_pan(format, pan)?;
        for (b, p) in bytes.iter_mut().zip(pan_field_8(pan)) {
            *b ^= p;
        }
    }
    let nibbles = unpack(&bytes);
    let control = nibbles.first().copied().unwrap_or(0xFF);
    if control != format.number() {
        return Err(bad(format!(
            "control nibble {control:X} does not match format {}",
            format.number()
        )));
    }
    let n = usize::from(nibbles.get(1).copied().unwrap_or(0));
    if !(4..=12).contains(&n) {
        return Err(bad(format!("PIN length {n} is outside 4..=12")));
    }
    let pin_nibbles = nibbles.get(2..2 + n).unwrap_or_default();
    if let Some(pos) = pin_nibbles.iter().position(|&d| d > 9) {
        return Err(bad(format!("PIN digit {} is not a decimal digit", pos + 1)));
    }
    let fill = nibbles.get(2 + n..16).unwrap_or_default();
    let fill_ok = |ok: &dyn Fn(u8) -> bool, what: &str| -> Result<(), CryptoError> {
        match fill.iter().position(|&f| !ok(f)) {
            Some(pos) => Err(bad(format!(
                "fill nibble at position {} is {:X}, expected {what}",
                2 + n + pos + 1,
                fill.get(pos).copied().unwrap_or(0)
            ))),
            None => Ok(()),
        }
    };
    match format {
        PinBlockFormat::Iso0 | PinBlockFormat::Iso2 => fill_ok(&|f| f == 0x0F, "F")?,
        PinBlockFormat::Iso3 => fill_ok(&|f| f >= 0x0A, "A-F")?,
        PinBlockFormat::Iso4 => fill_ok(&|f| f == 0x0A, "A")?,
        PinBlockFormat::Iso1 => {}
    }
    // Pre-sized so that no reallocation leaves PIN digits behind in freed memory.
    let mut digits = Zeroizing::new(String::with_capacity(12));
    for d in pin_nibbles {
        digits.push(char::from(b'0' + d));
    }
    Pin::new(&digits)
}

fn check_key(format: PinBlockFormat, key: &SecretKey) -> Result<(), CryptoError> {
    let alg = key.algorithm();
    let ok = match format {
        PinBlockFormat::Iso4 => alg.block_len() == 16,
        _ => alg.is_des_family(),
    };
    if ok {
        Ok(())
    } else {
        Err(CryptoError::UnsupportedAlgorithm {
            operation: match format {
                PinBlockFormat::Iso4 => "PIN block format 4 (needs AES or SM4)",
                _ => "PIN block formats 0-3 (need a DES-family key)",
            },
            algorithm: alg,
        })
    }
}

/// Encipher a clear PIN block. Formats 0-3: one ECB block under a DES-family key. Format 4
/// (ISO 9564-1:2017 §9.4.2): `E_K(E_K(PIN field) XOR PAN field)` under AES (or SM4); `pan` required.
pub fn encipher(
    key: &SecretKey,
    clear: &ClearPinBlock,
    pan: Option<&str>,
) -> Result<Vec<u8>, CryptoError> {
    let format = clear.format();
    check_key(format, key)?;
    let mut cipher = BlockCipher::new(key)?;
    let mut block = Zeroizing::new(clear.as_bytes().to_vec());
    cipher.encrypt_block(&mut block)?;
    if format == PinBlockFormat::Iso4 {
        let pan = require_pan(format, pan)?;
        for (b, p) in block.iter_mut().zip(pan_field_16(pan)) {
            *b ^= p;
        }
        cipher.encrypt_block(&mut block)?;
    }
    Ok(block.to_vec())
}

/// Decipher an enciphered PIN block back to the clear block (inverse of [`encipher`]).
pub fn decipher(
    key: &SecretKey,
    format: PinBlockFormat,
    enciphered: &[u8],
    pan: Option<&str>,
) -> Result<ClearPinBlock, CryptoError> {
    check_key(format, key)?;
    if enciphered.len() != format.block_len() {
        return Err(bad(format!(
            "enciphered block length {} bytes, format {} needs {}",
            enciphered.len(),
            format.number(),
            format.block_len()
        )));
    }
    let mut cipher = BlockCipher::new(key)?;
    let mut block = Zeroizing::new(enciphered.to_vec());
    cipher.decrypt_block(&mut block)?;
    if format == PinBlockFormat::Iso4 {
        let pan = require_pan(format, pan)?;
        for (b, p) in block.iter_mut().zip(pan_field_16(pan)) {
            *b ^= p;
        }
        cipher.decrypt_block(&mut block)?;
    }
    ClearPinBlock::from_bytes(format, &block)
}

/// Encode and encipher in one step.
pub fn encrypt(
    key: &SecretKey,
    format: PinBlockFormat,
    pin: &Pin,
    pan: Option<&str>,
    fill: FillSource<'_>,
) -> Result<Vec<u8>, CryptoError> {
    let clear = encode(format, pin, pan, fill)?;
    encipher(key, &clear, pan)
}

/// Decipher and decode in one step.
pub fn decrypt(
    key: &SecretKey,
    format: PinBlockFormat,
    enciphered: &[u8],
    pan: Option<&str>,
) -> Result<Pin, CryptoError> {
    let clear = decipher(key, format, enciphered, pan)?;
    decode(format, clear.as_bytes(), pan)
}
