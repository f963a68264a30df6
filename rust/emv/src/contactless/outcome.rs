//! Outcomes and the Outcome Parameter Set (EMV Contactless Book A §6.2, Table 6-1 / 6-2;
//! byte layout of tag DF8129 as Book C-2 Annex A defines it).

use super::ui::UiRequest;
use serde::Serialize;

/// The kernel/Entry Point outcome (Book A §6.2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OutcomeKind {
    Approved,
    Declined,
    OnlineRequest,
    TryAnotherInterface,
    TryAgain,
    SelectNext,
    EndApplication,
}

impl OutcomeKind {
    /// The Book A name ("APPROVED", "ONLINE REQUEST", ...).
    pub fn book_a_name(self) -> &'static str {
        match self {
            OutcomeKind::Approved => "APPROVED",
            OutcomeKind::Declined => "DECLINED",
            OutcomeKind::OnlineRequest => "ONLINE REQUEST",
            OutcomeKind::TryAnotherInterface => "TRY ANOTHER INTERFACE",
            OutcomeKind::TryAgain => "TRY AGAIN",
            OutcomeKind::SelectNext => "SELECT NEXT",
            OutcomeKind::EndApplication => "END APPLICATION",
        }
    }
    fn code(self) -> u8 {
        match self {
            OutcomeKind::Approved => 0x10,
            OutcomeKind::Declined => 0x20,
            OutcomeKind::OnlineRequest => 0x30,
            OutcomeKind::EndApplication => 0x40,
            OutcomeKind::SelectNext => 0x50,
            OutcomeKind::TryAnotherInterface => 0x60,
            OutcomeKind::TryAgain => 0x70,
        }
    }
}

/// Where Entry Point restarts (Book B §2.2: Start A-D).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Start {
    A,
    B,
    C,
    D,
}

/// CVM of the outcome (Book A Table 6-1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum CvmKind {
    NoCvm,
    ObtainSignature,
    OnlinePin,
    /// Consumer-device CVM (CDCVM) performed on the phone.
    ConfirmationCodeVerified,
    #[default]
    NotApplicable,
}

/// Online Response Data (Book A Table 6-1): what the kernel needs back after an online request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum OnlineResponseData {
    #[default]
    NotApplicable,
    /// Issuer authentication data / scripts go back to the card (restart at Start C).
    EmvData,
    Any,
}

/// Alternate interface preference (Book A Table 6-1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Interface {
    ContactChip,
    MagneticStripe,
}

/// The Outcome Parameter Set (Book A §6.2, Table 6-1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Outcome {
    pub kind: OutcomeKind,
    pub start: Option<Start>,
    pub online_response_data: OnlineResponseData,
    pub cvm: CvmKind,
    pub ui_on_outcome: Option<UiRequest>,
    pub ui_on_restart: Option<UiRequest>,
    pub data_record_present: bool,
    pub discretionary_data_present: bool,
    pub alternate_interface: Option<Interface>,
    pub receipt: bool,
    /// Field Off Request: hold time in ms before the field may come back (`None` = N/A).
    pub field_off_ms: Option<u32>,
    /// Removal timeout in ms (0 = none).
    pub removal_timeout_ms: u32,
}

impl Outcome {
    pub fn new(kind: OutcomeKind) -> Outcome {
        Outcome {
            kind,
            start: None,
            online_response_data: OnlineResponseData::NotApplicable,
            cvm: CvmKind::NotApplicable,
            ui_on_outcome: None,
            ui_on_restart: None,
            data_record_present: false,
            discretionary_data_present: false,
            alternate_interface: None,
            receipt: false,
            field_off_ms: None,
            removal_timeout_ms: 0,
        }
    }
    pub fn ui(mut self, ui: UiRequest) -> Outcome {
        self.ui_on_outcome = Some(ui);
        self
    }
    pub fn restart(mut self, start: Start, ui: Option<UiRequest>) -> Outcome {
        self.start = Some(start);
        self.ui_on_restart = ui;
        self
    }

    /// The 8-byte Outcome Parameter Set, tag DF8129 (Book C-2 Annex A): status, start, online
    /// response data, CVM, presence flags, alternate interface, field off request, removal
    /// timeout.
    pub fn encode(&self) -> [u8; 8] {
        let start = match self.start {
            Some(Start::A) => 0x00,
            Some(Start::B) => 0x10,
            Some(Start::C) => 0x20,
            Some(Start::D) => 0x30,
            None => 0xF0,
        };
        let ord = match self.online_response_data {
            OnlineResponseData::NotApplicable => 0xF0,
            OnlineResponseData::EmvData => 0x10,
            OnlineResponseData::Any => 0x20,
        };
        let cvm = match self.cvm {
            CvmKind::NoCvm => 0x00,
            CvmKind::ObtainSignature => 0x10,
            CvmKind::OnlinePin => 0x20,
            CvmKind::ConfirmationCodeVerified => 0x30,
            CvmKind::NotApplicable => 0xF0,
        };
        let mut flags = 0u8;
        if self.ui_on_outcome.is_some() {
            flags |= 0x80;
        }
        if self.ui_on_restart.is_some() {
            flags |= 0x40;
        }
        if self.data_record_present {
            flags |= 0x20;
        }
        if self.discretionary_data_present {
            flags |= 0x10;
        }
        if self.receipt {
            flags |= 0x08;
        }
        let alt = match self.alternate_interface {
            Some(Interface::ContactChip) => 0x10,
            Some(Interface::MagneticStripe) => 0x20,
            None => 0xF0,
        };
        let field_off = self
            .field_off_ms
            .map_or(0xFF, |ms| (ms / 100).min(0xFE) as u8);
        let removal = (self.removal_timeout_ms / 100).min(0xFF) as u8;
        [
            self.kind.code(),
            start,
            ord,
            cvm,
            flags,
            alt,
            field_off,
            removal,
        ]
    }
}
