//! The payment schemes of the simulator's virtual cards, one type for the contact cards
//! ([`crate::card`]) and the contactless cards and phones ([`crate::contactless`]): the RID
//! (ISO/IEC 7816-5, EMV Book 1 §12.2.1) and the credit/debit AID both card families use.
//! Scheme data of the contact test card (PAN, IMK, CDOLs) is in [`super::profile`], that of the
//! contactless card (kernel, PAN) in [`crate::contactless`].

/// A payment scheme (and, for contactless, the kernel it runs: C-3, C-2, C-7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// Visa; qVSDC, kernel 3, RID A000000003.
    Visa,
    /// Mastercard; kernel 2, RID A000000004.
    Mastercard,
    /// UnionPay; qUICS, kernel 7, RID A000000333.
    UnionPay,
}

impl Scheme {
    /// Every scheme, in a fixed order.
    pub const ALL: [Scheme; 3] = [Scheme::Visa, Scheme::Mastercard, Scheme::UnionPay];

    pub fn name(self) -> &'static str {
        match self {
            Scheme::Visa => "visa",
            Scheme::Mastercard => "mastercard",
            Scheme::UnionPay => "unionpay",
        }
    }
    /// Registered Application Provider Identifier.
    pub fn rid(self) -> [u8; 5] {
        match self {
            Scheme::Visa => [0xA0, 0x00, 0x00, 0x00, 0x03],
            Scheme::Mastercard => [0xA0, 0x00, 0x00, 0x00, 0x04],
            Scheme::UnionPay => [0xA0, 0x00, 0x00, 0x03, 0x33],
        }
    }
    /// The credit/debit AID (the same for the contact and the contactless application).
    pub fn aid(self) -> Vec<u8> {
        match self {
            Scheme::Visa => vec![0xA0, 0x00, 0x00, 0x00, 0x03, 0x10, 0x10],
            Scheme::Mastercard => vec![0xA0, 0x00, 0x00, 0x00, 0x04, 0x10, 0x10],
            Scheme::UnionPay => vec![0xA0, 0x00, 0x00, 0x03, 0x33, 0x01, 0x01, 0x01],
        }
    }
}
