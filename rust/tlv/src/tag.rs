//! BER-TLV tags (EMV Book 3 Annex B1, ISO/IEC 8825-1 §8.1.2).

use crate::error::TlvError;
use std::fmt;

/// A BER-TLV tag, held as the big-endian integer of its encoded bytes: `Tag(0x9F26)` is the
/// two-byte tag `9F 26`, `Tag(0xDF8129)` the three-byte tag `DF 81 29`.
///
/// Up to 4 tag bytes are supported (EMV uses at most 3). Construct from a literal (`Tag(0x5A)`,
/// or a constant such as [`Tag::PAN`]) or from bytes with [`Tag::from_bytes`] / [`Tag::decode`],
/// which check the encoding. A literal is not checked: [`Tag::is_valid`] says whether it is a
/// well-formed EMV tag.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Tag(pub u32);

/// Class of a tag: bits b8..b7 of its first byte (EMV Book 3 Annex B1, table 36).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Class {
    /// `00`: universal class.
    Universal,
    /// `01`: application class (e.g. `5A`, `4F`, `61`, `6F`, `70`, `77`).
    Application,
    /// `10`: context-specific class (e.g. `82`, `8C`, `9F26`, `A5`).
    ContextSpecific,
    /// `11`: private class (e.g. `DF8129`, `BF0C`'s relatives, scheme-proprietary tags).
    Private,
}

/// The encoded bytes of a [`Tag`], on the stack; dereferences to `&[u8]`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct TagBytes {
    bytes: [u8; 4],
    len: u8,
}

impl std::ops::Deref for TagBytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        let len = usize::from(self.len).min(4);
        self.bytes.get(..len).unwrap_or(&[])
    }
}

impl AsRef<[u8]> for TagBytes {
    fn as_ref(&self) -> &[u8] {
        self
    }
}

impl fmt::Debug for TagBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.iter() {
            write!(f, "{b:02X}")?;
        }
        Ok(())
    }
}

/// Longest tag this crate reads, in bytes.
pub const MAX_TAG_LEN: usize = 4;

impl Tag {
    // --- Templates (EMV Book 3 Annex A, Annex B) ---
    /// `61` Application Template.
    pub const APPLICATION_TEMPLATE: Tag = Tag(0x61);
    /// `6F` File Control Information (FCI) Template.
    pub const FCI_TEMPLATE: Tag = Tag(0x6F);
    /// `70` READ RECORD Response Message Template.
    pub const READ_RECORD_TEMPLATE: Tag = Tag(0x70);
    /// `71` Issuer Script Template 1.
    pub const ISSUER_SCRIPT_TEMPLATE_1: Tag = Tag(0x71);
    /// `72` Issuer Script Template 2.
    pub const ISSUER_SCRIPT_TEMPLATE_2: Tag = Tag(0x72);
    /// `73` Directory Discretionary Template.
    pub const DIRECTORY_DISCRETIONARY_TEMPLATE: Tag = Tag(0x73);
    /// `77` Response Message Template Format 2.
    pub const RESPONSE_TEMPLATE_2: Tag = Tag(0x77);
    /// `80` Response Message Template Format 1.
    pub const RESPONSE_TEMPLATE_1: Tag = Tag(0x80);
    /// `A5` FCI Proprietary Template.
    pub const FCI_PROPRIETARY_TEMPLATE: Tag = Tag(0xA5);
    /// `BF0C` FCI Issuer Discretionary Data.
    pub const FCI_ISSUER_DISCRETIONARY_DATA: Tag = Tag(0xBF0C);

    // --- Card data ---
    /// `4F` Application Identifier (AID) – card.
    pub const AID: Tag = Tag(0x4F);
    /// `50` Application Label.
    pub const APPLICATION_LABEL: Tag = Tag(0x50);
    /// `57` Track 2 Equivalent Data.
    pub const TRACK2: Tag = Tag(0x57);
    /// `5A` Application Primary Account Number (PAN).
    pub const PAN: Tag = Tag(0x5A);
    /// `5F20` Cardholder Name.
    pub const CARDHOLDER_NAME: Tag = Tag(0x5F20);
    /// `5F24` Application Expiration Date.
    pub const EXPIRATION_DATE: Tag = Tag(0x5F24);
    /// `5F25` Application Effective Date.
    pub const EFFECTIVE_DATE: Tag = Tag(0x5F25);
    /// `5F28` Issuer Country Code.
    pub const ISSUER_COUNTRY_CODE: Tag = Tag(0x5F28);
    /// `5F2D` Language Preference.
    pub const LANGUAGE_PREFERENCE: Tag = Tag(0x5F2D);
    /// `5F30` Service Code.
    pub const SERVICE_CODE: Tag = Tag(0x5F30);
    /// `5F34` Application PAN Sequence Number.
    pub const PAN_SEQUENCE_NUMBER: Tag = Tag(0x5F34);
    /// `82` Application Interchange Profile.
    pub const AIP: Tag = Tag(0x82);
    /// `84` Dedicated File (DF) Name.
    pub const DF_NAME: Tag = Tag(0x84);
    /// `87` Application Priority Indicator.
    pub const APPLICATION_PRIORITY_INDICATOR: Tag = Tag(0x87);
    /// `88` Short File Identifier (SFI).
    pub const SFI: Tag = Tag(0x88);
    /// `8C` Card Risk Management Data Object List 1 (CDOL1).
    pub const CDOL1: Tag = Tag(0x8C);
    /// `8D` Card Risk Management Data Object List 2 (CDOL2).
    pub const CDOL2: Tag = Tag(0x8D);
    /// `8E` Cardholder Verification Method (CVM) List.
    pub const CVM_LIST: Tag = Tag(0x8E);
    /// `8F` Certification Authority Public Key Index (ICC).
    pub const CA_PUBLIC_KEY_INDEX: Tag = Tag(0x8F);
    /// `90` Issuer Public Key Certificate.
    pub const ISSUER_PUBLIC_KEY_CERTIFICATE: Tag = Tag(0x90);
    /// `92` Issuer Public Key Remainder.
    pub const ISSUER_PUBLIC_KEY_REMAINDER: Tag = Tag(0x92);
    /// `93` Signed Static Application Data.
    pub const SIGNED_STATIC_APPLICATION_DATA: Tag = Tag(0x93);
    /// `94` Application File Locator (AFL).
    pub const AFL: Tag = Tag(0x94);
    /// `97` Transaction Certificate Data Object List (TDOL).
    pub const TDOL: Tag = Tag(0x97);
    /// `9F07` Application Usage Control.
    pub const APPLICATION_USAGE_CONTROL: Tag = Tag(0x9F07);
    /// `9F08` Application Version Number (ICC).
    pub const APPLICATION_VERSION_NUMBER_ICC: Tag = Tag(0x9F08);
    /// `9F0D` Issuer Action Code – Default.
    pub const IAC_DEFAULT: Tag = Tag(0x9F0D);
    /// `9F0E` Issuer Action Code – Denial.
    pub const IAC_DENIAL: Tag = Tag(0x9F0E);
    /// `9F0F` Issuer Action Code – Online.
    pub const IAC_ONLINE: Tag = Tag(0x9F0F);
    /// `9F10` Issuer Application Data.
    pub const ISSUER_APPLICATION_DATA: Tag = Tag(0x9F10);
    /// `9F12` Application Preferred Name.
    pub const APPLICATION_PREFERRED_NAME: Tag = Tag(0x9F12);
    /// `9F13` Last Online ATC Register.
    pub const LAST_ONLINE_ATC: Tag = Tag(0x9F13);
    /// `9F17` PIN Try Counter.
    pub const PIN_TRY_COUNTER: Tag = Tag(0x9F17);
    /// `9F26` Application Cryptogram.
    pub const APPLICATION_CRYPTOGRAM: Tag = Tag(0x9F26);
    /// `9F27` Cryptogram Information Data.
    pub const CID: Tag = Tag(0x9F27);
    /// `9F32` Issuer Public Key Exponent.
    pub const ISSUER_PUBLIC_KEY_EXPONENT: Tag = Tag(0x9F32);
    /// `9F36` Application Transaction Counter (ATC).
    pub const ATC: Tag = Tag(0x9F36);
    /// `9F38` Processing Options Data Object List (PDOL).
    pub const PDOL: Tag = Tag(0x9F38);
    /// `9F42` Application Currency Code.
    pub const APPLICATION_CURRENCY_CODE: Tag = Tag(0x9F42);
    /// `9F46` ICC Public Key Certificate.
    pub const ICC_PUBLIC_KEY_CERTIFICATE: Tag = Tag(0x9F46);
    /// `9F47` ICC Public Key Exponent.
    pub const ICC_PUBLIC_KEY_EXPONENT: Tag = Tag(0x9F47);
    /// `9F48` ICC Public Key Remainder.
    pub const ICC_PUBLIC_KEY_REMAINDER: Tag = Tag(0x9F48);
    /// `9F49` Dynamic Data Authentication Data Object List (DDOL).
    pub const DDOL: Tag = Tag(0x9F49);
    /// `9F4A` Static Data Authentication Tag List.
    pub const SDA_TAG_LIST: Tag = Tag(0x9F4A);
    /// `9F4B` Signed Dynamic Application Data.
    pub const SIGNED_DYNAMIC_APPLICATION_DATA: Tag = Tag(0x9F4B);
    /// `9F4C` ICC Dynamic Number.
    pub const ICC_DYNAMIC_NUMBER: Tag = Tag(0x9F4C);
    /// `9F6C` Card Transaction Qualifiers (CTQ).
    pub const CTQ: Tag = Tag(0x9F6C);

    // --- Terminal and transaction data ---
    /// `5F2A` Transaction Currency Code.
    pub const TRANSACTION_CURRENCY_CODE: Tag = Tag(0x5F2A);
    /// `5F36` Transaction Currency Exponent.
    pub const TRANSACTION_CURRENCY_EXPONENT: Tag = Tag(0x5F36);
    /// `8A` Authorisation Response Code.
    pub const AUTHORISATION_RESPONSE_CODE: Tag = Tag(0x8A);
    /// `91` Issuer Authentication Data.
    pub const ISSUER_AUTHENTICATION_DATA: Tag = Tag(0x91);
    /// `95` Terminal Verification Results.
    pub const TVR: Tag = Tag(0x95);
    /// `9A` Transaction Date.
    pub const TRANSACTION_DATE: Tag = Tag(0x9A);
    /// `9B` Transaction Status Information.
    pub const TSI: Tag = Tag(0x9B);
    /// `9C` Transaction Type.
    pub const TRANSACTION_TYPE: Tag = Tag(0x9C);
    /// `9F02` Amount, Authorised (Numeric).
    pub const AMOUNT_AUTHORISED: Tag = Tag(0x9F02);
    /// `9F03` Amount, Other (Numeric).
    pub const AMOUNT_OTHER: Tag = Tag(0x9F03);
    /// `9F06` Application Identifier (AID) – terminal.
    pub const AID_TERMINAL: Tag = Tag(0x9F06);
    /// `9F09` Application Version Number (terminal).
    pub const APPLICATION_VERSION_NUMBER_TERMINAL: Tag = Tag(0x9F09);
    /// `9F1A` Terminal Country Code.
    pub const TERMINAL_COUNTRY_CODE: Tag = Tag(0x9F1A);
    /// `9F1E` Interface Device (IFD) Serial Number.
    pub const IFD_SERIAL_NUMBER: Tag = Tag(0x9F1E);
    /// `9F21` Transaction Time.
    pub const TRANSACTION_TIME: Tag = Tag(0x9F21);
    /// `9F33` Terminal Capabilities.
    pub const TERMINAL_CAPABILITIES: Tag = Tag(0x9F33);
    /// `9F34` Cardholder Verification Method (CVM) Results.
    pub const CVM_RESULTS: Tag = Tag(0x9F34);
    /// `9F35` Terminal Type.
    pub const TERMINAL_TYPE: Tag = Tag(0x9F35);
    /// `9F37` Unpredictable Number.
    pub const UNPREDICTABLE_NUMBER: Tag = Tag(0x9F37);
    /// `9F40` Additional Terminal Capabilities.
    pub const ADDITIONAL_TERMINAL_CAPABILITIES: Tag = Tag(0x9F40);
    /// `9F41` Transaction Sequence Counter.
    pub const TRANSACTION_SEQUENCE_COUNTER: Tag = Tag(0x9F41);
    /// `9F66` Terminal Transaction Qualifiers (TTQ).
    pub const TTQ: Tag = Tag(0x9F66);

    /// Read the tag at the start of `data`; returns it and the number of bytes it takes
    /// (EMV Book 3 Annex B1: b5..b1 = 11111 in the first byte means subsequent bytes follow;
    /// b8 = 1 in a subsequent byte means another follows).
    ///
    /// Offsets in errors count from the start of `data`.
    pub fn decode(data: &[u8]) -> Result<(Tag, usize), TlvError> {
        decode_at(data, 0, 0)
    }

    /// The tag encoded by exactly `bytes` (e.g. `[0x9F, 0x26]`).
    pub fn from_bytes(bytes: &[u8]) -> Result<Tag, TlvError> {
        let (tag, len) = Tag::decode(bytes)?;
        if len != bytes.len() {
            return Err(TlvError::TrailingBytes { offset: len });
        }
        Ok(tag)
    }

    /// Number of bytes of the encoded tag (1 for `Tag(0)`).
    pub const fn len(self) -> usize {
        match self.0 {
            0..=0xFF => 1,
            0x100..=0xFFFF => 2,
            0x1_0000..=0xFF_FFFF => 3,
            _ => 4,
        }
    }

    /// Always false: every tag has at least one byte. Present for clippy's `len_without_is_empty`.
    pub const fn is_empty(self) -> bool {
        false
    }

    /// The tag's first byte, which carries class and constructed bit.
    pub const fn first_byte(self) -> u8 {
        (self.0 >> (8 * (self.len() - 1))) as u8
    }

    /// Whether b6 of the first byte is set: the value is itself a sequence of TLV objects.
    pub const fn is_constructed(self) -> bool {
        self.first_byte() & 0x20 != 0
    }

    /// Class from b8..b7 of the first byte.
    pub const fn class(self) -> Class {
        match self.first_byte() >> 6 {
            0 => Class::Universal,
            1 => Class::Application,
            2 => Class::ContextSpecific,
            _ => Class::Private,
        }
    }

    /// The encoded tag bytes.
    pub const fn to_bytes(self) -> TagBytes {
        let len = self.len();
        let be = self.0.to_be_bytes();
        let mut bytes = [0u8; 4];
        let mut i = 0;
        while i < len {
            bytes[i] = be[4 - len + i];
            i += 1;
        }
        TagBytes {
            bytes,
            len: len as u8,
        }
    }

    /// Whether this is a well-formed EMV tag: its bytes decode back to exactly this tag, and its
    /// first byte is not a padding byte (`00`, `FF`; Annex B).
    pub fn is_valid(self) -> bool {
        let bytes = self.to_bytes();
        let first = self.first_byte();
        first != 0x00 && first != 0xFF && Tag::from_bytes(&bytes) == Ok(self)
    }
}

/// Parse a tag list: tags concatenated without lengths, as in the Static Data Authentication Tag
/// List (`9F4A`, EMV Book 3 §10.3) or Mastercard's Tags To Read (`DF8112`).
pub fn parse_tag_list(data: &[u8]) -> Result<Vec<Tag>, TlvError> {
    let mut tags = Vec::with_capacity(data.len() / 2);
    let mut pos = 0;
    while pos < data.len() {
        let (tag, len) = decode_at(data, pos, 0)?;
        tags.push(tag);
        pos += len;
    }
    Ok(tags)
}

/// Read a tag at `data[pos..]`; `base` is added to error offsets. Returns the tag and its length.
#[inline(always)]
pub(crate) fn decode_at(data: &[u8], pos: usize, base: usize) -> Result<(Tag, usize), TlvError> {
    let Some(&first) = data.get(pos) else {
        return Err(TlvError::Empty { offset: base + pos });
    };
    let mut tag = u32::from(first);
    if first & 0x1F != 0x1F {
        return Ok((Tag(tag), 1));
    }
    let mut len = 1;
    loop {
        let Some(&b) = data.get(pos + len) else {
            return Err(TlvError::TruncatedTag { offset: base + pos });
        };
        len += 1;
        if len > MAX_TAG_LEN {
            return Err(TlvError::TagTooLong { offset: base + pos });
        }
        tag = (tag << 8) | u32::from(b);
        if b & 0x80 == 0 {
            return Ok((Tag(tag), len));
        }
    }
}

impl fmt::Display for Tag {
    /// Upper-case hex of the encoded bytes: `9F26`, `DF8129`, `5A`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:0width$X}", self.0, width = 2 * self.len())
    }
}

impl fmt::Debug for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Tag({self})")
    }
}

impl From<u32> for Tag {
    fn from(value: u32) -> Self {
        Tag(value)
    }
}
