//! Faults a virtual card can be personalised with, to test the kernel's error paths
//! (EMV Book 1 §9-§12 transport and selection, Book 3 §7 data rules, Book 2 certificate checks).

/// One misbehaviour of the virtual card.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Answer every command with this INS with the status word `sw` and no data.
    StatusWord { ins: u8, sw: u16 },
    /// READ RECORD of SFI 1 record 1 returns the record cut short (the last TLV truncated).
    TruncatedRecord,
    /// The GET PROCESSING OPTIONS response template has a length beyond its data.
    MalformedGpo,
    /// SFI 1 record 2 repeats the Application Expiration Date (5F24) of record 1
    /// (Book 3 §7.5: a card supplies each primitive object at most once).
    DuplicateTag,
    /// The Issuer Public Key Certificate (90) has a byte flipped: its recovery fails.
    BadIssuerCertificate,
    /// The Issuer Public Key Certificate expired in 01/2024.
    ExpiredIssuerCertificate,
    /// The Issuer Public Key Certificate carries the serial the simulator's CRL names.
    RevokedIssuerCertificate,
    /// The SDAD of INTERNAL AUTHENTICATE / CDA has a byte flipped.
    BadDynamicSignature,
    /// The application is blocked: SELECT answers 6283 and GENERATE AC gives AACs.
    ApplicationBlocked,
    /// The PIN Try Counter is 0 from the start.
    PinTriesExhausted,
    /// The card is pulled out: exchange number `at` (0-based) and every later one fail with
    /// "card removed".
    CardPulled { at: usize },
    /// The card stops answering at exchange number `at` (timeout).
    NoAnswer { at: usize },
}
