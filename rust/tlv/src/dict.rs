//! EMV tag dictionary: the data elements of EMV Book 3 Annex A (Table 33) plus common contactless
//! (EMV Books A/B/C-2/C-3), Mastercard reader (`DF81xx`, `DF83xx`, `FF81xx`) and UnionPay/qUICS
//! tags.
//!
//! Names, formats, lengths and sources are those of the specifications. Where schemes give one tag
//! two meanings (e.g. `9F6E`, `9F5D`, `9F69`), the name lists both and the format/length bounds
//! cover both. Lengths are in bytes of the value field.

use crate::tag::Tag;
use std::fmt;

/// Data element format (EMV Book 1 §4.3, Book 3 §4.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// `a`: alphabetic, one character per byte.
    A,
    /// `an`: alphanumeric, one character per byte.
    An,
    /// `ans`: alphanumeric and special characters, one character per byte.
    Ans,
    /// `b`: binary.
    B,
    /// `cn`: compressed numeric, two BCD digits per byte, left justified, padded with `F`.
    Cn,
    /// `n`: numeric, two BCD digits per byte, right justified, padded with leading `0`.
    N,
    /// `var.`: structured or variable content (templates, lists).
    Var,
}

impl Format {
    /// The notation EMV uses: `a`, `an`, `ans`, `b`, `cn`, `n`, `var`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Format::A => "a",
            Format::An => "an",
            Format::Ans => "ans",
            Format::B => "b",
            Format::Cn => "cn",
            Format::N => "n",
            Format::Var => "var",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who provides a data element (EMV Book 3 Annex A, "Source").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Source {
    /// The card.
    Icc,
    /// The terminal (or the contactless reader/kernel).
    Terminal,
    /// The issuer, in the authorisation response.
    Issuer,
    /// The issuer, or the terminal when it decides offline (`8A`).
    IssuerOrTerminal,
}

impl Source {
    /// `ICC`, `Terminal`, `Issuer`, `Issuer/Terminal`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Source::Icc => "ICC",
            Source::Terminal => "Terminal",
            Source::Issuer => "Issuer",
            Source::IssuerOrTerminal => "Issuer/Terminal",
        }
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One dictionary entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TagInfo {
    /// The tag.
    pub tag: Tag,
    /// The name the specification gives it.
    pub name: &'static str,
    /// Its format.
    pub format: Format,
    /// Shortest value, in bytes.
    pub min_len: usize,
    /// Longest value, in bytes.
    pub max_len: usize,
    /// Who provides it.
    pub source: Source,
}

impl TagInfo {
    /// Whether `len` bytes is within this element's bounds.
    pub fn accepts_len(&self, len: usize) -> bool {
        (self.min_len..=self.max_len).contains(&len)
    }
}

/// The entry for `tag`, if the dictionary knows it (binary search in a static sorted table).
pub fn lookup(tag: Tag) -> Option<&'static TagInfo> {
    TAGS.binary_search_by_key(&tag, |info| info.tag)
        .ok()
        .and_then(|i| TAGS.get(i))
}

/// The name of `tag`, if known.
pub fn name(tag: Tag) -> Option<&'static str> {
    lookup(tag).map(|info| info.name)
}

/// The format of `tag`, if known.
pub fn format(tag: Tag) -> Option<Format> {
    lookup(tag).map(|info| info.format)
}

/// Every entry, sorted by tag.
pub fn all() -> &'static [TagInfo] {
    TAGS
}

const fn e(
    tag: u32,
    name: &'static str,
    format: Format,
    min_len: usize,
    max_len: usize,
    source: Source,
) -> TagInfo {
    TagInfo {
        tag: Tag(tag),
        name,
        format,
        min_len,
        max_len,
        source,
    }
}

use Format::{A, An, Ans, B, Cn, N, Var};
use Source::{Icc, Issuer, IssuerOrTerminal, Terminal};

/// Sorted by tag value (checked by a test).
#[rustfmt::skip]
static TAGS: &[TagInfo] = &[
    e(0x42, "Issuer Identification Number (IIN)", N, 3, 3, Icc),
    e(0x4F, "Application Dedicated File (ADF) Name", B, 5, 16, Icc),
    e(0x50, "Application Label", Ans, 1, 16, Icc),
    e(0x56, "Track 1 Data", Ans, 0, 76, Icc),
    e(0x57, "Track 2 Equivalent Data", B, 0, 19, Icc),
    e(0x5A, "Application Primary Account Number (PAN)", Cn, 0, 10, Icc),
    e(0x61, "Application Template", Var, 0, 252, Icc),
    e(0x6F, "File Control Information (FCI) Template", Var, 0, 252, Icc),
    e(0x70, "READ RECORD Response Message Template", Var, 0, 252, Icc),
    e(0x71, "Issuer Script Template 1", Var, 0, 255, Issuer),
    e(0x72, "Issuer Script Template 2", Var, 0, 255, Issuer),
    e(0x73, "Directory Discretionary Template", Var, 0, 252, Icc),
    e(0x77, "Response Message Template Format 2", Var, 0, 255, Icc),
    e(0x80, "Response Message Template Format 1", Var, 0, 255, Icc),
    e(0x81, "Amount, Authorised (Binary)", B, 4, 4, Terminal),
    e(0x82, "Application Interchange Profile (AIP)", B, 2, 2, Icc),
    e(0x83, "Command Template", B, 0, 255, Terminal),
    e(0x84, "Dedicated File (DF) Name", B, 5, 16, Icc),
    e(0x86, "Issuer Script Command", B, 0, 261, Issuer),
    e(0x87, "Application Priority Indicator", B, 1, 1, Icc),
    e(0x88, "Short File Identifier (SFI)", B, 1, 1, Icc),
    e(0x89, "Authorisation Code", An, 6, 6, Issuer),
    e(0x8A, "Authorisation Response Code", An, 2, 2, IssuerOrTerminal),
    e(0x8C, "Card Risk Management Data Object List 1 (CDOL1)", B, 0, 252, Icc),
    e(0x8D, "Card Risk Management Data Object List 2 (CDOL2)", B, 0, 252, Icc),
    e(0x8E, "Cardholder Verification Method (CVM) List", B, 10, 252, Icc),
    e(0x8F, "Certification Authority Public Key Index", B, 1, 1, Icc),
    e(0x90, "Issuer Public Key Certificate", B, 1, 248, Icc),
    e(0x91, "Issuer Authentication Data", B, 8, 16, Issuer),
    e(0x92, "Issuer Public Key Remainder", B, 0, 248, Icc),
    e(0x93, "Signed Static Application Data", B, 1, 248, Icc),
    e(0x94, "Application File Locator (AFL)", B, 0, 252, Icc),
    e(0x95, "Terminal Verification Results (TVR)", B, 5, 5, Terminal),
    e(0x97, "Transaction Certificate Data Object List (TDOL)", B, 0, 252, Icc),
    e(0x98, "Transaction Certificate (TC) Hash Value", B, 20, 20, Terminal),
    e(0x99, "Transaction Personal Identification Number (PIN) Data", B, 0, 255, Terminal),
    e(0x9A, "Transaction Date", N, 3, 3, Terminal),
    e(0x9B, "Transaction Status Information (TSI)", B, 2, 2, Terminal),
    e(0x9C, "Transaction Type", N, 1, 1, Terminal),
    e(0x9D, "Directory Definition File (DDF) Name", B, 5, 16, Icc),
    e(0xA5, "File Control Information (FCI) Proprietary Template", Var, 0, 252, Icc),
    e(0x5F20, "Cardholder Name", Ans, 2, 26, Icc),
    e(0x5F24, "Application Expiration Date", N, 3, 3, Icc),
    e(0x5F25, "Application Effective Date", N, 3, 3, Icc),
    e(0x5F28, "Issuer Country Code", N, 2, 2, Icc),
    e(0x5F2A, "Transaction Currency Code", N, 2, 2, Terminal),
    e(0x5F2D, "Language Preference", An, 2, 8, Icc),
    e(0x5F30, "Service Code", N, 2, 2, Icc),
    e(0x5F34, "Application Primary Account Number (PAN) Sequence Number", N, 1, 1, Icc),
    e(0x5F36, "Transaction Currency Exponent", N, 1, 1, Terminal),
    e(0x5F50, "Issuer URL", Ans, 0, 252, Icc),
    e(0x5F53, "International Bank Account Number (IBAN)", Var, 0, 34, Icc),
    e(0x5F54, "Bank Identifier Code (BIC)", Var, 8, 11, Icc),
    e(0x5F55, "Issuer Country Code (alpha2 format)", A, 2, 2, Icc),
    e(0x5F56, "Issuer Country Code (alpha3 format)", A, 3, 3, Icc),
    e(0x5F57, "Account Type", N, 1, 1, Terminal),
    e(0x9F01, "Acquirer Identifier", N, 6, 6, Terminal),
    e(0x9F02, "Amount, Authorised (Numeric)", N, 6, 6, Terminal),
    e(0x9F03, "Amount, Other (Numeric)", N, 6, 6, Terminal),
    e(0x9F04, "Amount, Other (Binary)", B, 4, 4, Terminal),
    e(0x9F05, "Application Discretionary Data", B, 1, 32, Icc),
    e(0x9F06, "Application Identifier (AID) - terminal", B, 5, 16, Terminal),
    e(0x9F07, "Application Usage Control", B, 2, 2, Icc),
    e(0x9F08, "Application Version Number (card)", B, 2, 2, Icc),
    e(0x9F09, "Application Version Number (terminal)", B, 2, 2, Terminal),
    e(0x9F0A, "Application Selection Registered Proprietary Data", B, 0, 252, Icc),
    e(0x9F0B, "Cardholder Name Extended", Ans, 27, 45, Icc),
    e(0x9F0C, "Issuer Identification Number Extended (IINE)", N, 3, 4, Icc),
    e(0x9F0D, "Issuer Action Code - Default", B, 5, 5, Icc),
    e(0x9F0E, "Issuer Action Code - Denial", B, 5, 5, Icc),
    e(0x9F0F, "Issuer Action Code - Online", B, 5, 5, Icc),
    e(0x9F10, "Issuer Application Data", B, 0, 32, Icc),
    e(0x9F11, "Issuer Code Table Index", N, 1, 1, Icc),
    e(0x9F12, "Application Preferred Name", Ans, 1, 16, Icc),
    e(0x9F13, "Last Online Application Transaction Counter (ATC) Register", B, 2, 2, Icc),
    e(0x9F14, "Lower Consecutive Offline Limit", B, 1, 1, Icc),
    e(0x9F15, "Merchant Category Code", N, 2, 2, Terminal),
    e(0x9F16, "Merchant Identifier", Ans, 15, 15, Terminal),
    e(0x9F17, "Personal Identification Number (PIN) Try Counter", B, 1, 1, Icc),
    e(0x9F18, "Issuer Script Identifier", B, 4, 4, Issuer),
    e(0x9F19, "Token Requestor ID", N, 6, 6, Icc),
    e(0x9F1A, "Terminal Country Code", N, 2, 2, Terminal),
    e(0x9F1B, "Terminal Floor Limit", B, 4, 4, Terminal),
    e(0x9F1C, "Terminal Identification", An, 8, 8, Terminal),
    e(0x9F1D, "Terminal Risk Management Data", B, 1, 8, Terminal),
    e(0x9F1E, "Interface Device (IFD) Serial Number", An, 8, 8, Terminal),
    e(0x9F1F, "Track 1 Discretionary Data", Ans, 0, 54, Icc),
    e(0x9F20, "Track 2 Discretionary Data", Cn, 0, 16, Icc),
    e(0x9F21, "Transaction Time", N, 3, 3, Terminal),
    e(0x9F22, "Certification Authority Public Key Index (terminal)", B, 1, 1, Terminal),
    e(0x9F23, "Upper Consecutive Offline Limit", B, 1, 1, Icc),
    e(0x9F24, "Payment Account Reference (PAR)", An, 29, 29, Icc),
    e(0x9F25, "Last 4 Digits of PAN", N, 2, 2, Icc),
    e(0x9F26, "Application Cryptogram", B, 8, 8, Icc),
    e(0x9F27, "Cryptogram Information Data", B, 1, 1, Icc),
    e(0x9F29, "Extended Selection", B, 0, 11, Icc),
    e(0x9F2A, "Kernel Identifier", B, 1, 8, Icc),
    e(0x9F2D, "ICC PIN Encipherment Public Key Certificate", B, 1, 248, Icc),
    e(0x9F2E, "ICC PIN Encipherment Public Key Exponent", B, 1, 3, Icc),
    e(0x9F2F, "ICC PIN Encipherment Public Key Remainder", B, 0, 248, Icc),
    e(0x9F32, "Issuer Public Key Exponent", B, 1, 3, Icc),
    e(0x9F33, "Terminal Capabilities", B, 3, 3, Terminal),
    e(0x9F34, "Cardholder Verification Method (CVM) Results", B, 3, 3, Terminal),
    e(0x9F35, "Terminal Type", N, 1, 1, Terminal),
    e(0x9F36, "Application Transaction Counter (ATC)", B, 2, 2, Icc),
    e(0x9F37, "Unpredictable Number", B, 4, 4, Terminal),
    e(0x9F38, "Processing Options Data Object List (PDOL)", B, 0, 252, Icc),
    e(0x9F39, "Point-of-Service (POS) Entry Mode", N, 1, 1, Terminal),
    e(0x9F3A, "Amount, Reference Currency", B, 4, 4, Terminal),
    e(0x9F3B, "Application Reference Currency", N, 2, 8, Icc),
    e(0x9F3C, "Transaction Reference Currency Code", N, 2, 2, Terminal),
    e(0x9F3D, "Transaction Reference Currency Exponent", N, 1, 1, Terminal),
    e(0x9F40, "Additional Terminal Capabilities", B, 5, 5, Terminal),
    e(0x9F41, "Transaction Sequence Counter", N, 2, 4, Terminal),
    e(0x9F42, "Application Currency Code", N, 2, 2, Icc),
    e(0x9F43, "Application Reference Currency Exponent", N, 1, 4, Icc),
    e(0x9F44, "Application Currency Exponent", N, 1, 1, Icc),
    e(0x9F45, "Data Authentication Code", B, 2, 2, Icc),
    e(0x9F46, "ICC Public Key Certificate", B, 1, 248, Icc),
    e(0x9F47, "ICC Public Key Exponent", B, 1, 3, Icc),
    e(0x9F48, "ICC Public Key Remainder", B, 0, 248, Icc),
    e(0x9F49, "Dynamic Data Authentication Data Object List (DDOL)", B, 0, 252, Icc),
    e(0x9F4A, "Static Data Authentication Tag List", B, 0, 252, Icc),
    e(0x9F4B, "Signed Dynamic Application Data", B, 1, 248, Icc),
    e(0x9F4C, "ICC Dynamic Number", B, 2, 8, Icc),
    e(0x9F4D, "Log Entry", B, 2, 2, Icc),
    e(0x9F4E, "Merchant Name and Location", Ans, 0, 255, Terminal),
    e(0x9F4F, "Log Format", B, 0, 252, Icc),
    e(0x9F51, "Electronic Cash Application Currency Code (UnionPay)", N, 2, 2, Icc),
    e(0x9F52, "Application Default Action (ADA)", B, 2, 4, Icc),
    e(0x9F53, "Transaction Category Code (Mastercard)", An, 1, 1, Terminal),
    e(0x9F54, "DS ODS Card (Mastercard)", B, 0, 160, Icc),
    e(0x9F5A, "Application Program Identifier (Visa)", B, 1, 16, Icc),
    e(0x9F5B, "Issuer Script Results", B, 0, 255, Terminal),
    e(0x9F5C, "DS Requested Operator ID (Mastercard)", B, 8, 8, Terminal),
    e(0x9F5D, "Available Offline Spending Amount (Visa, UnionPay) / Application Capabilities Information (Mastercard)", B, 3, 6, Icc),
    e(0x9F5E, "DS ID (Mastercard)", B, 8, 11, Icc),
    e(0x9F5F, "DS Slot Availability (Mastercard)", B, 1, 1, Icc),
    e(0x9F60, "CVC3 (Track1) (Mastercard)", B, 2, 2, Icc),
    e(0x9F61, "CVC3 (Track2) (Mastercard)", B, 2, 2, Icc),
    e(0x9F62, "PCVC3 (Track1) (Mastercard)", B, 6, 6, Icc),
    e(0x9F63, "PUNATC (Track1) (Mastercard) / Card Product Identification Information (UnionPay)", B, 6, 16, Icc),
    e(0x9F64, "NATC (Track1) (Mastercard)", B, 1, 1, Icc),
    e(0x9F65, "PCVC3 (Track2) (Mastercard)", B, 2, 2, Icc),
    e(0x9F66, "Terminal Transaction Qualifiers (TTQ)", B, 4, 4, Terminal),
    e(0x9F67, "NATC (Track2) (Mastercard) / MSD Offset (Visa)", B, 1, 1, Icc),
    e(0x9F68, "Card Additional Processes (Visa)", B, 4, 4, Icc),
    e(0x9F69, "Card Authentication Related Data (Visa, UnionPay) / UDOL (Mastercard)", B, 5, 16, Icc),
    e(0x9F6A, "Unpredictable Number (Numeric) (Mastercard)", N, 4, 4, Terminal),
    e(0x9F6B, "Card CVM Limit (Visa) / Track 2 Data (Mastercard)", B, 6, 19, Icc),
    e(0x9F6C, "Card Transaction Qualifiers (CTQ)", B, 2, 2, Icc),
    e(0x9F6D, "Mag-stripe Application Version Number (Reader) (Mastercard) / Contactless Reader Capabilities (Amex) / Electronic Cash Reset Threshold (UnionPay)", B, 1, 6, Terminal),
    e(0x9F6E, "Form Factor Indicator (Visa) / Third Party Data (Mastercard) / Enhanced Contactless Reader Capabilities (Amex)", B, 4, 32, Icc),
    e(0x9F6F, "DS Slot Management Control (Mastercard)", B, 1, 1, Icc),
    e(0x9F74, "VLP Issuer Authorisation Code (Visa) / Electronic Cash Issuer Authorisation Code (UnionPay)", A, 6, 6, Icc),
    e(0x9F77, "VLP Funds Limit (Visa) / Electronic Cash Balance Upper Limit (UnionPay)", N, 6, 6, Icc),
    e(0x9F78, "VLP Single Transaction Limit (Visa) / Electronic Cash Single Transaction Limit (UnionPay)", N, 6, 6, Icc),
    e(0x9F79, "VLP Available Funds (Visa) / Electronic Cash Balance (UnionPay)", N, 6, 6, Icc),
    e(0x9F7A, "VLP Terminal Support Indicator (Visa) / Electronic Cash Terminal Support Indicator (UnionPay)", B, 1, 1, Terminal),
    e(0x9F7B, "VLP Terminal Transaction Limit (Visa) / Electronic Cash Terminal Transaction Limit (UnionPay)", N, 6, 6, Terminal),
    e(0x9F7C, "Customer Exclusive Data (Visa) / Merchant Custom Data (Mastercard)", B, 0, 32, Icc),
    e(0x9F7D, "DS Summary 1 (Mastercard)", B, 8, 16, Icc),
    e(0x9F7E, "Mobile Support Indicator (Mastercard)", B, 1, 1, Terminal),
    e(0xBF0C, "File Control Information (FCI) Issuer Discretionary Data", Var, 0, 222, Icc),
    e(0xDF31, "Issuer Script Results (UnionPay)", B, 0, 255, Terminal),
    e(0xDF4D, "Load Log Entry (UnionPay)", B, 2, 2, Icc),
    e(0xDF4F, "Load Log Format (UnionPay)", B, 0, 252, Icc),
    e(0xDF69, "SM Algorithm Supported Indicator (UnionPay)", B, 1, 1, Terminal),
    e(0xDF8101, "DS Summary 2 (Mastercard)", B, 8, 16, Icc),
    e(0xDF8102, "DS Summary 3 (Mastercard)", B, 8, 16, Icc),
    e(0xDF8104, "Balance Read Before Gen AC (Mastercard)", N, 6, 6, Icc),
    e(0xDF8105, "Balance Read After Gen AC (Mastercard)", N, 6, 6, Icc),
    e(0xDF8106, "Data Needed (Mastercard)", B, 0, 255, Terminal),
    e(0xDF8107, "CDOL1 Related Data (Mastercard)", B, 0, 255, Terminal),
    e(0xDF8108, "DS AC Type (Mastercard)", B, 1, 1, Terminal),
    e(0xDF8109, "DS Input (Term) (Mastercard)", B, 8, 8, Terminal),
    e(0xDF810A, "DS ODS Info For Reader (Mastercard)", B, 1, 1, Terminal),
    e(0xDF810B, "DS Summary Status (Mastercard)", B, 1, 1, Terminal),
    e(0xDF810C, "Kernel ID (Mastercard)", B, 1, 1, Terminal),
    e(0xDF810D, "DSVN Term (Mastercard)", B, 0, 255, Terminal),
    e(0xDF810E, "Post-Gen AC Put Data Status (Mastercard)", B, 1, 1, Terminal),
    e(0xDF810F, "Pre-Gen AC Put Data Status (Mastercard)", B, 1, 1, Terminal),
    e(0xDF8110, "Proceed To First Write Flag (Mastercard)", B, 1, 1, Terminal),
    e(0xDF8111, "PDOL Related Data (Mastercard)", B, 0, 255, Terminal),
    e(0xDF8112, "Tags To Read (Mastercard)", B, 0, 255, Terminal),
    e(0xDF8113, "DRDOL Related Data (Mastercard)", B, 0, 255, Terminal),
    e(0xDF8114, "Reference Control Parameter (Mastercard)", B, 1, 1, Terminal),
    e(0xDF8115, "Error Indication (Mastercard)", B, 6, 6, Terminal),
    e(0xDF8116, "User Interface Request Data (Mastercard)", B, 22, 22, Terminal),
    e(0xDF8117, "Card Data Input Capability (Mastercard)", B, 1, 1, Terminal),
    e(0xDF8118, "CVM Capability - CVM Required (Mastercard)", B, 1, 1, Terminal),
    e(0xDF8119, "CVM Capability - No CVM Required (Mastercard)", B, 1, 1, Terminal),
    e(0xDF811A, "Default UDOL (Mastercard)", B, 3, 3, Terminal),
    e(0xDF811B, "Kernel Configuration (Mastercard)", B, 1, 1, Terminal),
    e(0xDF811C, "Max Lifetime of Torn Transaction Log Record (Mastercard)", B, 2, 2, Terminal),
    e(0xDF811D, "Max Number of Torn Transaction Log Records (Mastercard)", B, 1, 1, Terminal),
    e(0xDF811E, "Mag-stripe CVM Capability - CVM Required (Mastercard)", B, 1, 1, Terminal),
    e(0xDF811F, "Security Capability (Mastercard)", B, 1, 1, Terminal),
    e(0xDF8120, "Terminal Action Code - Default (Mastercard)", B, 5, 5, Terminal),
    e(0xDF8121, "Terminal Action Code - Denial (Mastercard)", B, 5, 5, Terminal),
    e(0xDF8122, "Terminal Action Code - Online (Mastercard)", B, 5, 5, Terminal),
    e(0xDF8123, "Reader Contactless Floor Limit (Mastercard)", N, 6, 6, Terminal),
    e(0xDF8124, "Reader Contactless Transaction Limit (No On-device CVM) (Mastercard)", N, 6, 6, Terminal),
    e(0xDF8125, "Reader Contactless Transaction Limit (On-device CVM) (Mastercard)", N, 6, 6, Terminal),
    e(0xDF8126, "Reader CVM Required Limit (Mastercard)", N, 6, 6, Terminal),
    e(0xDF8127, "Time Out Value (Mastercard)", B, 2, 2, Terminal),
    e(0xDF8128, "IDS Status (Mastercard)", B, 1, 1, Terminal),
    e(0xDF8129, "Outcome Parameter Set (Mastercard)", B, 8, 8, Terminal),
    e(0xDF812A, "DD Card (Track1) (Mastercard)", Ans, 0, 56, Terminal),
    e(0xDF812B, "DD Card (Track2) (Mastercard)", B, 0, 8, Terminal),
    e(0xDF812C, "Mag-stripe CVM Capability - No CVM Required (Mastercard)", B, 1, 1, Terminal),
    e(0xDF812D, "Message Hold Time (Mastercard)", N, 3, 3, Terminal),
    e(0xDF8130, "Hold Time Value (Mastercard)", B, 1, 1, Terminal),
    e(0xDF8131, "Phone Message Table (Mastercard)", B, 0, 255, Terminal),
    e(0xDF8132, "Minimum Relay Resistance Grace Period (Mastercard)", B, 2, 2, Terminal),
    e(0xDF8133, "Maximum Relay Resistance Grace Period (Mastercard)", B, 2, 2, Terminal),
    e(0xDF8134, "Terminal Expected Transmission Time For Relay Resistance C-APDU (Mastercard)", B, 2, 2, Terminal),
    e(0xDF8135, "Terminal Expected Transmission Time For Relay Resistance R-APDU (Mastercard)", B, 2, 2, Terminal),
    e(0xDF8136, "Relay Resistance Accuracy Threshold (Mastercard)", B, 2, 2, Terminal),
    e(0xDF8137, "Relay Resistance Transmission Time Mismatch Threshold (Mastercard)", B, 1, 1, Terminal),
    e(0xDF8301, "Terminal Relay Resistance Entropy (Mastercard)", B, 4, 4, Terminal),
    e(0xDF8302, "Device Relay Resistance Entropy (Mastercard)", B, 4, 4, Icc),
    e(0xDF8303, "Min Time For Processing Relay Resistance APDU (Mastercard)", B, 2, 2, Icc),
    e(0xDF8304, "Max Time For Processing Relay Resistance APDU (Mastercard)", B, 2, 2, Icc),
    e(0xDF8305, "Device Estimated Transmission Time For Relay Resistance R-APDU (Mastercard)", B, 2, 2, Icc),
    e(0xDF8306, "Measured Relay Resistance Processing Time (Mastercard)", B, 2, 2, Terminal),
    e(0xDF8307, "RRP Counter (Mastercard)", B, 1, 1, Terminal),
    e(0xFF8101, "Torn Record (Mastercard)", Var, 0, 255, Terminal),
    e(0xFF8102, "Tags To Write Before Gen AC (Mastercard)", Var, 0, 255, Terminal),
    e(0xFF8103, "Tags To Write After Gen AC (Mastercard)", Var, 0, 255, Terminal),
    e(0xFF8104, "Data To Send (Mastercard)", Var, 0, 255, Terminal),
    e(0xFF8105, "Data Record (Mastercard)", Var, 0, 255, Terminal),
    e(0xFF8106, "Discretionary Data (Mastercard)", Var, 0, 255, Terminal),

];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_unique_and_well_formed() {
        for pair in TAGS.windows(2) {
            assert!(
                pair[0].tag < pair[1].tag,
                "{} before {}",
                pair[0].tag,
                pair[1].tag
            );
        }
        for info in TAGS {
            // FF81xx are Mastercard reader-side tags; every other entry must be a valid EMV tag.
            assert!(
                info.tag.is_valid() || info.tag.first_byte() == 0xFF,
                "{} is not a well-formed tag",
                info.tag
            );
            assert!(info.min_len <= info.max_len, "{}", info.tag);
            assert!(!info.name.is_empty());
            // Templates are constructed; of the other `var.` elements, only 80 (whose value is
            // the bare concatenation of values), IBAN and BIC are primitive.
            if info.tag.is_constructed() {
                assert_eq!(info.format, Var, "{}", info.tag);
            } else if info.format == Var {
                assert!(matches!(info.tag.0, 0x80 | 0x5F53 | 0x5F54), "{}", info.tag);
            }
        }
    }

    #[test]
    fn lookups() {
        let ac = lookup(Tag(0x9F26)).unwrap();
        assert_eq!(ac.name, "Application Cryptogram");
        assert_eq!(
            (ac.format, ac.min_len, ac.max_len, ac.source),
            (B, 8, 8, Icc)
        );
        let amount = lookup(Tag::AMOUNT_AUTHORISED).unwrap();
        assert_eq!(
            (amount.format, amount.min_len, amount.max_len, amount.source),
            (N, 6, 6, Terminal)
        );
        assert_eq!(format(Tag::PAN), Some(Cn));
        assert_eq!(format(Tag(0x9F20)), Some(Cn));
        assert_eq!(
            name(Tag::FCI_TEMPLATE),
            Some("File Control Information (FCI) Template")
        );
        assert_eq!(lookup(Tag(0x8A)).unwrap().source, IssuerOrTerminal);
        assert_eq!(lookup(Tag(0x91)).unwrap().source, Issuer);
        assert_eq!(format(Tag(0x5F55)), Some(A));
        assert_eq!(format(Tag(0x5F2D)), Some(An));
        assert_eq!(format(Tag(0x50)), Some(Ans));
        assert_eq!(
            name(Tag(0xDF8129)),
            Some("Outcome Parameter Set (Mastercard)")
        );
        assert_eq!(
            name(Tag(0x9F66)),
            Some("Terminal Transaction Qualifiers (TTQ)")
        );
        assert_eq!(name(Tag(0x9F6C)), Some("Card Transaction Qualifiers (CTQ)"));
        assert!(name(Tag(0xDF4F)).unwrap().contains("UnionPay"));
        assert!(name(Tag(0x9F74)).unwrap().contains("Electronic Cash"));
        assert!(lookup(Tag(0x9F7C)).is_some());
        assert!(lookup(Tag(0x9F5D)).is_some());
        assert!(lookup(Tag(0x9F69)).is_some());
        assert!(lookup(Tag(0x9F6E)).is_some());
        assert_eq!(lookup(Tag(0x9F7F)), None);
        assert_eq!(lookup(Tag(0xDF8199)), None);
        assert_eq!(lookup(Tag(0)), None);
        assert!(lookup(Tag(0x9F36)).unwrap().accepts_len(2));
        assert!(!lookup(Tag(0x9F36)).unwrap().accepts_len(3));
        assert_eq!(N.to_string(), "n");
        assert_eq!(IssuerOrTerminal.to_string(), "Issuer/Terminal");
        assert_eq!(all().len(), TAGS.len());
    }

    #[test]
    fn every_tag_constant_is_in_the_dictionary() {
        // The `Tag::` constants name EMV elements: each must resolve to the entry of that name.
        for (tag, expected) in [
            (Tag::PAN, "Application Primary Account Number (PAN)"),
            (Tag::AIP, "Application Interchange Profile (AIP)"),
            (Tag::AFL, "Application File Locator (AFL)"),
            (Tag::TVR, "Terminal Verification Results (TVR)"),
            (Tag::TSI, "Transaction Status Information (TSI)"),
            (
                Tag::CDOL1,
                "Card Risk Management Data Object List 1 (CDOL1)",
            ),
            (Tag::PDOL, "Processing Options Data Object List (PDOL)"),
            (Tag::TTQ, "Terminal Transaction Qualifiers (TTQ)"),
            (Tag::CID, "Cryptogram Information Data"),
        ] {
            assert_eq!(name(tag), Some(expected), "{tag}");
        }
    }
}
