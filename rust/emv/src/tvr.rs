//! Terminal Verification Results (95) and Transaction Status Information (9B), EMV Book 3 Annex C.5/C.6.

use std::fmt;

/// One TVR bit: (byte index 0-4, bit mask). Names follow Book 3 Annex C.5.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TvrBit {
    // Byte 1
    OfflineDataAuthenticationNotPerformed,
    SdaFailed,
    IccDataMissing,
    CardOnExceptionFile,
    DdaFailed,
    CdaFailed,
    /// EMV 4.3+: SDA was the ODA method selected.
    SdaSelected,
    // Byte 2
    DifferentApplicationVersions,
    ExpiredApplication,
    ApplicationNotYetEffective,
    ServiceNotAllowed,
    NewCard,
    // Byte 3
    CardholderVerificationNotSuccessful,
    UnrecognisedCvm,
    PinTryLimitExceeded,
    PinPadNotPresentOrNotWorking,
    PinNotEntered,
    OnlinePinEntered,
    // Byte 4
    FloorLimitExceeded,
    LowerConsecutiveOfflineLimitExceeded,
    UpperConsecutiveOfflineLimitExceeded,
    RandomlySelectedForOnline,
    MerchantForcedOnline,
    // Byte 5
    DefaultTdolUsed,
    IssuerAuthenticationFailed,
    ScriptFailedBeforeFinalGenerateAc,
    ScriptFailedAfterFinalGenerateAc,
}

impl TvrBit {
    /// All defined bits, in Annex C order.
    pub const ALL: [TvrBit; 27] = [
        TvrBit::OfflineDataAuthenticationNotPerformed,
        TvrBit::SdaFailed,
        TvrBit::IccDataMissing,
        TvrBit::CardOnExceptionFile,
        TvrBit::DdaFailed,
        TvrBit::CdaFailed,
        TvrBit::SdaSelected,
        TvrBit::DifferentApplicationVersions,
        TvrBit::ExpiredApplication,
        TvrBit::ApplicationNotYetEffective,
        TvrBit::ServiceNotAllowed,
        TvrBit::NewCard,
        TvrBit::CardholderVerificationNotSuccessful,
        TvrBit::UnrecognisedCvm,
        TvrBit::PinTryLimitExceeded,
        TvrBit::PinPadNotPresentOrNotWorking,
        TvrBit::PinNotEntered,
        TvrBit::OnlinePinEntered,
        TvrBit::FloorLimitExceeded,
        TvrBit::LowerConsecutiveOfflineLimitExceeded,
        TvrBit::UpperConsecutiveOfflineLimitExceeded,
        TvrBit::RandomlySelectedForOnline,
        TvrBit::MerchantForcedOnline,
        TvrBit::DefaultTdolUsed,
        TvrBit::IssuerAuthenticationFailed,
        TvrBit::ScriptFailedBeforeFinalGenerateAc,
        TvrBit::ScriptFailedAfterFinalGenerateAc,
    ];

    /// (byte index, mask) of the bit.
    pub const fn position(self) -> (usize, u8) {
        use TvrBit::*;
        match self {
            OfflineDataAuthenticationNotPerformed => (0, 0x80),
            SdaFailed => (0, 0x40),
            IccDataMissing => (0, 0x20),
            CardOnExceptionFile => (0, 0x10),
            DdaFailed => (0, 0x08),
            CdaFailed => (0, 0x04),
            SdaSelected => (0, 0x02),
            DifferentApplicationVersions => (1, 0x80),
            ExpiredApplication => (1, 0x40),
            ApplicationNotYetEffective => (1, 0x20),
            ServiceNotAllowed => (1, 0x10),
            NewCard => (1, 0x08),
            CardholderVerificationNotSuccessful => (2, 0x80),
            UnrecognisedCvm => (2, 0x40),
            PinTryLimitExceeded => (2, 0x20),
            PinPadNotPresentOrNotWorking => (2, 0x10),
            PinNotEntered => (2, 0x08),
            OnlinePinEntered => (2, 0x04),
            FloorLimitExceeded => (3, 0x80),
            LowerConsecutiveOfflineLimitExceeded => (3, 0x40),
            UpperConsecutiveOfflineLimitExceeded => (3, 0x20),
            RandomlySelectedForOnline => (3, 0x10),
            MerchantForcedOnline => (3, 0x08),
            DefaultTdolUsed => (4, 0x80),
            IssuerAuthenticationFailed => (4, 0x40),
            ScriptFailedBeforeFinalGenerateAc => (4, 0x20),
            ScriptFailedAfterFinalGenerateAc => (4, 0x10),
        }
    }
}

/// Terminal Verification Results, tag 95 (5 bytes).
#[derive(Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct Tvr(pub [u8; 5]);

impl Tvr {
    pub fn set(&mut self, bit: TvrBit) {
        let (i, m) = bit.position();
        if let Some(b) = self.0.get_mut(i) {
            *b |= m;
        }
    }
    pub fn clear(&mut self, bit: TvrBit) {
        let (i, m) = bit.position();
        if let Some(b) = self.0.get_mut(i) {
            *b &= !m;
        }
    }
    pub fn is_set(&self, bit: TvrBit) -> bool {
        let (i, m) = bit.position();
        self.0.get(i).is_some_and(|b| b & m != 0)
    }
    /// The bits that are set, in Annex C order.
    pub fn bits(&self) -> Vec<TvrBit> {
        TvrBit::ALL
            .iter()
            .copied()
            .filter(|b| self.is_set(*b))
            .collect()
    }
    /// True if any bit set here is also set in the action code (Book 3 §10.7).
    pub fn matches_action_code(&self, action_code: &[u8; 5]) -> bool {
        self.0.iter().zip(action_code).any(|(t, a)| t & a != 0)
    }
    pub fn hex(&self) -> String {
        hex::encode_upper(self.0)
    }
}

impl fmt::Debug for Tvr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Tvr({} {:?})", self.hex(), self.bits())
    }
}

/// One TSI bit (Book 3 Annex C.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TsiBit {
    OfflineDataAuthenticationPerformed,
    CardholderVerificationPerformed,
    CardRiskManagementPerformed,
    IssuerAuthenticationPerformed,
    TerminalRiskManagementPerformed,
    ScriptProcessingPerformed,
}

impl TsiBit {
    pub const fn mask(self) -> u8 {
        match self {
            TsiBit::OfflineDataAuthenticationPerformed => 0x80,
            TsiBit::CardholderVerificationPerformed => 0x40,
            TsiBit::CardRiskManagementPerformed => 0x20,
            TsiBit::IssuerAuthenticationPerformed => 0x10,
            TsiBit::TerminalRiskManagementPerformed => 0x08,
            TsiBit::ScriptProcessingPerformed => 0x04,
        }
    }
}

/// Transaction Status Information, tag 9B (2 bytes).
#[derive(Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct Tsi(pub [u8; 2]);

impl Tsi {
    pub fn set(&mut self, bit: TsiBit) {
        self.0[0] |= bit.mask();
    }
    pub fn is_set(&self, bit: TsiBit) -> bool {
        self.0[0] & bit.mask() != 0
    }
    pub fn hex(&self) -> String {
        hex::encode_upper(self.0)
    }
}

impl fmt::Debug for Tsi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Tsi({})", self.hex())
    }
}
