//! Every message the terminal shows, in Simplified Chinese and English, each with a stable id.
//!
//! The ids are the contract with the app: it may show our text, speak it, or map the id to LEDs
//! and its own translations. Where EMV defines a standard message the id carries its code:
//! EMV Book 4 §11.2 (Table 9, standard messages '01'–'13') for contact and EMV Contactless
//! Book A §9.4 (Table 9-5, '03'–'21') for contactless. Messages EMV does not define (QR, operator,
//! settlement) have no code.
//!
//! Language choice follows EMV Book 4 §11.1 / Book A §9.1: the first language of the card's
//! Language Preference (tag 5F2D, up to four ISO 639-1 codes, most preferred first) that the
//! terminal supports, else the terminal's own language.

use serde::Serialize;

/// Display languages of the terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Language {
    /// Simplified Chinese (`zh`, zh-Hans).
    ZhHans,
    /// English (`en`).
    En,
}

impl Language {
    /// The ISO 639-1 code.
    pub fn code(self) -> &'static str {
        match self {
            Language::ZhHans => "zh",
            Language::En => "en",
        }
    }

    /// Parse one ISO 639-1 code (case-insensitive); `None` when not supported.
    pub fn from_code(code: &str) -> Option<Language> {
        match code.to_ascii_lowercase().as_str() {
            "zh" => Some(Language::ZhHans),
            "en" => Some(Language::En),
            _ => None,
        }
    }

    /// The language for a cardholder message (EMV Book 4 §11.1): the first code in the card's
    /// Language Preference (5F2D value bytes: 2 to 8 alphanumeric bytes, pairs of ISO 639-1
    /// codes) that the terminal supports, else `terminal`. A malformed 5F2D (odd length,
    /// non-letters, longer than 8 bytes) is ignored rather than trusted.
    pub fn for_card(language_preference: Option<&[u8]>, terminal: Language) -> Language {
        let Some(pref) = language_preference else {
            return terminal;
        };
        if pref.is_empty() || pref.len() % 2 != 0 || pref.len() > 8 {
            return terminal;
        }
        pref.chunks(2)
            .filter(|c| c.iter().all(u8::is_ascii_alphabetic))
            .filter_map(|c| std::str::from_utf8(c).ok())
            .find_map(Language::from_code)
            .unwrap_or(terminal)
    }
}

/// A message the terminal shows. The `id()` string is stable across releases.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Prompt {
    /// "Amount" (Book 4 '01').
    Amount,
    /// "(Amount) OK?" (Book 4 '02').
    AmountOk,
    /// "Approved" (Book 4 / Book A '03').
    Approved,
    /// "Call your bank" (Book 4 '04', referral).
    CallYourBank,
    /// "Cancel or enter" (Book 4 '05').
    CancelOrEnter,
    /// "Card error" (Book 4 '06').
    CardError,
    /// "Declined" (Book 4 '07').
    Declined,
    /// "Enter amount" (Book 4 '08').
    EnterAmount,
    /// "Enter PIN" (Book 4 / Book A '09').
    EnterPin,
    /// "Incorrect PIN" (Book 4 '0A').
    IncorrectPin,
    /// "Insert card" (Book 4 '0B').
    InsertCard,
    /// "Not accepted" (Book 4 '0C').
    NotAccepted,
    /// "PIN OK" (Book 4 '0D').
    PinOk,
    /// "Please wait" (Book 4 '0E').
    PleaseWait,
    /// "Processing error" (Book 4 / Book A '0F').
    ProcessingError,
    /// "Remove card" (Book 4 / Book A '10').
    RemoveCard,
    /// "Use chip reader" (Book 4 '11').
    UseChipReader,
    /// "Use magstripe" (Book 4 '12', fallback).
    UseMagStripe,
    /// "Try again" (Book 4 '13').
    TryAgain,
    /// "Not authorised" (Book A '07').
    NotAuthorised,
    /// "Welcome" (Book A '14').
    Welcome,
    /// "Present card" (Book A '15'); the terminal shows "insert, tap or swipe".
    PresentCard,
    /// "Processing" (Book A '16').
    Processing,
    /// "Card read OK, remove card" (Book A '17').
    CardReadOk,
    /// "Insert or swipe card" (Book A '18').
    InsertOrSwipeCard,
    /// "Present one card only" (Book A '19').
    PresentOneCardOnly,
    /// "Approved, please sign" (Book A '1A').
    ApprovedPleaseSign,
    /// "Authorising, please wait" (Book A '1B').
    AuthorisingPleaseWait,
    /// "Insert, swipe or try another card" (Book A '1C').
    InsertSwipeOrTryAnotherCard,
    /// "Insert card" after a contactless failure (Book A '1D').
    InsertCardContactless,
    /// Clear the display (Book A '1E').
    ClearDisplay,
    /// "See phone for instructions" (Book A '20').
    SeePhone,
    /// "Present card again" (Book A '21').
    PresentCardAgain,
    /// "PIN tries left: n" (last tries warning before offline PIN).
    PinTriesLeft,
    /// "Last PIN try".
    LastPinTry,
    /// "Insert card or use another payment method" (too many failed reads).
    InsertCardOrOtherMethod,
    /// "Scan the customer's payment code".
    ScanCode,
    /// "Scan this code with your wallet" (merchant-presented QR).
    ShowMerchantQr,
    /// "Waiting for payment on the customer's phone" (QR order polling).
    WaitingForWallet,
    /// "Cancelled".
    Cancelled,
    /// "Signature required".
    SignatureRequired,
    /// "Same card and amount just charged. Charge again?".
    ConfirmDuplicate,
    /// "Signing on".
    SigningOn,
    /// "Host not reachable; transaction reversed".
    HostUnavailableReversed,
    /// "Terminal blocked (tamper); load keys".
    Tampered,
    /// "Supervisor password required".
    SupervisorRequired,
    /// "Operator locked; ask an administrator".
    OperatorLocked,
    /// "Wrong operator password".
    WrongOperatorPassword,
    /// "Printing receipt".
    Printing,
    /// "Paper out".
    PaperOut,
    /// "Settlement complete".
    SettlementDone,
    /// "Settlement totals do not match; batch uploaded".
    SettlementMismatch,
}

/// (prompt, stable id, EMV code, English, Simplified Chinese). `{n}` is replaced by a count.
const CATALOGUE: &[(Prompt, &str, Option<u8>, &str, &str)] = &[
    (Prompt::Amount, "amount", Some(0x01), "Amount", "金额"),
    (
        Prompt::AmountOk,
        "amount_ok",
        Some(0x02),
        "Amount OK?",
        "金额确认？",
    ),
    (
        Prompt::Approved,
        "approved",
        Some(0x03),
        "Approved",
        "交易成功",
    ),
    (
        Prompt::CallYourBank,
        "call_your_bank",
        Some(0x04),
        "Call your bank",
        "请联系发卡行",
    ),
    (
        Prompt::CancelOrEnter,
        "cancel_or_enter",
        Some(0x05),
        "Cancel or enter",
        "取消或确认",
    ),
    (
        Prompt::CardError,
        "card_error",
        Some(0x06),
        "Card error",
        "卡片错误",
    ),
    (
        Prompt::Declined,
        "declined",
        Some(0x07),
        "Declined",
        "交易拒绝",
    ),
    (
        Prompt::EnterAmount,
        "enter_amount",
        Some(0x08),
        "Enter amount",
        "请输入金额",
    ),
    (
        Prompt::EnterPin,
        "enter_pin",
        Some(0x09),
        "Enter PIN",
        "请输入密码",
    ),
    (
        Prompt::IncorrectPin,
        "incorrect_pin",
        Some(0x0A),
        "Incorrect PIN",
        "密码错误",
    ),
    (
        Prompt::InsertCard,
        "insert_card",
        Some(0x0B),
        "Insert card",
        "请插卡",
    ),
    (
        Prompt::NotAccepted,
        "not_accepted",
        Some(0x0C),
        "Not accepted",
        "不受理此卡",
    ),
    (Prompt::PinOk, "pin_ok", Some(0x0D), "PIN OK", "密码正确"),
    (
        Prompt::PleaseWait,
        "please_wait",
        Some(0x0E),
        "Please wait",
        "请稍候",
    ),
    (
        Prompt::ProcessingError,
        "processing_error",
        Some(0x0F),
        "Processing error",
        "处理错误",
    ),
    (
        Prompt::RemoveCard,
        "remove_card",
        Some(0x10),
        "Remove card",
        "请拔卡",
    ),
    (
        Prompt::UseChipReader,
        "use_chip_reader",
        Some(0x11),
        "Use chip reader",
        "请使用芯片",
    ),
    (
        Prompt::UseMagStripe,
        "use_mag_stripe",
        Some(0x12),
        "Use magstripe",
        "请刷卡",
    ),
    (
        Prompt::TryAgain,
        "try_again",
        Some(0x13),
        "Try again",
        "请重试",
    ),
    (
        Prompt::NotAuthorised,
        "not_authorised",
        Some(0x07),
        "Not authorised",
        "未获授权",
    ),
    (Prompt::Welcome, "welcome", Some(0x14), "Welcome", "欢迎"),
    (
        Prompt::PresentCard,
        "present_card",
        Some(0x15),
        "Insert, tap or swipe card",
        "请插卡、挥卡或刷卡",
    ),
    (
        Prompt::Processing,
        "processing",
        Some(0x16),
        "Processing",
        "处理中",
    ),
    (
        Prompt::CardReadOk,
        "card_read_ok",
        Some(0x17),
        "Card read OK, remove card",
        "读卡成功，请移开卡片",
    ),
    (
        Prompt::InsertOrSwipeCard,
        "insert_or_swipe_card",
        Some(0x18),
        "Insert or swipe card",
        "请插卡或刷卡",
    ),
    (
        Prompt::PresentOneCardOnly,
        "present_one_card_only",
        Some(0x19),
        "Present one card only",
        "请只出示一张卡",
    ),
    (
        Prompt::ApprovedPleaseSign,
        "approved_please_sign",
        Some(0x1A),
        "Approved, please sign",
        "交易成功，请签名",
    ),
    (
        Prompt::AuthorisingPleaseWait,
        "authorising_please_wait",
        Some(0x1B),
        "Authorising, please wait",
        "授权中，请稍候",
    ),
    (
        Prompt::InsertSwipeOrTryAnotherCard,
        "insert_swipe_or_try_another_card",
        Some(0x1C),
        "Insert, swipe or try another card",
        "请插卡、刷卡或换卡",
    ),
    (
        Prompt::InsertCardContactless,
        "insert_card_contactless",
        Some(0x1D),
        "Please insert card",
        "请插卡",
    ),
    (Prompt::ClearDisplay, "clear_display", Some(0x1E), "", ""),
    (
        Prompt::SeePhone,
        "see_phone",
        Some(0x20),
        "See phone for instructions",
        "请查看手机提示",
    ),
    (
        Prompt::PresentCardAgain,
        "present_card_again",
        Some(0x21),
        "Present card again",
        "请再次挥卡",
    ),
    (
        Prompt::PinTriesLeft,
        "pin_tries_left",
        None,
        "PIN tries left: {n}",
        "密码剩余尝试次数：{n}",
    ),
    (
        Prompt::LastPinTry,
        "last_pin_try",
        None,
        "Last PIN try",
        "最后一次密码尝试",
    ),
    (
        Prompt::InsertCardOrOtherMethod,
        "insert_card_or_other_method",
        None,
        "Insert card or use another payment method",
        "请插卡或使用其他支付方式",
    ),
    (
        Prompt::ScanCode,
        "scan_code",
        None,
        "Scan the customer's payment code",
        "请扫描顾客付款码",
    ),
    (
        Prompt::ShowMerchantQr,
        "show_merchant_qr",
        None,
        "Scan this code with your wallet",
        "请使用钱包扫描此码",
    ),
    (
        Prompt::WaitingForWallet,
        "waiting_for_wallet",
        None,
        "Waiting for payment on the phone",
        "等待顾客手机确认付款",
    ),
    (
        Prompt::Cancelled,
        "cancelled",
        None,
        "Cancelled",
        "交易已取消",
    ),
    (
        Prompt::SignatureRequired,
        "signature_required",
        None,
        "Signature required",
        "请持卡人签名",
    ),
    (
        Prompt::ConfirmDuplicate,
        "confirm_duplicate",
        None,
        "Same card and amount just charged. Charge again?",
        "同卡同金额刚刚交易过，是否再次收款？",
    ),
    (
        Prompt::SigningOn,
        "signing_on",
        None,
        "Signing on",
        "签到中",
    ),
    (
        Prompt::HostUnavailableReversed,
        "host_unavailable_reversed",
        None,
        "No host response; transaction reversed",
        "主机无响应，交易已冲正",
    ),
    (
        Prompt::Tampered,
        "tampered",
        None,
        "Terminal blocked (tamper): load keys",
        "终端已锁定（防拆触发），请重新灌装密钥",
    ),
    (
        Prompt::SupervisorRequired,
        "supervisor_required",
        None,
        "Supervisor password required",
        "需要主管密码",
    ),
    (
        Prompt::OperatorLocked,
        "operator_locked",
        None,
        "Operator locked: ask an administrator",
        "操作员已锁定，请联系管理员",
    ),
    (
        Prompt::WrongOperatorPassword,
        "wrong_operator_password",
        None,
        "Wrong operator password",
        "操作员密码错误",
    ),
    (
        Prompt::Printing,
        "printing",
        None,
        "Printing receipt",
        "正在打印",
    ),
    (
        Prompt::PaperOut,
        "paper_out",
        None,
        "Paper out",
        "打印机缺纸",
    ),
    (
        Prompt::SettlementDone,
        "settlement_done",
        None,
        "Settlement complete",
        "结算成功",
    ),
    (
        Prompt::SettlementMismatch,
        "settlement_mismatch",
        None,
        "Totals do not match: batch uploaded",
        "对账不平，已上送批次明细",
    ),
];

impl Prompt {
    /// Every prompt, in catalogue order.
    pub fn all() -> impl Iterator<Item = Prompt> {
        CATALOGUE.iter().map(|e| e.0)
    }

    fn entry(self) -> &'static (Prompt, &'static str, Option<u8>, &'static str, &'static str) {
        // The catalogue holds one row per variant (checked by a test); the fallback row is
        // never reached but keeps this total without a panic.
        CATALOGUE.iter().find(|e| e.0 == self).unwrap_or(&(
            Prompt::ProcessingError,
            "processing_error",
            Some(0x0F),
            "",
            "",
        ))
    }

    /// Stable message id (snake case), for the app, speech and LED mapping.
    pub fn id(self) -> &'static str {
        self.entry().1
    }

    /// EMV standard message code (Book 4 Table 9 or Book A Table 9-5), when EMV defines one.
    pub fn emv_code(self) -> Option<u8> {
        self.entry().2
    }

    /// Look a prompt up by its stable id.
    pub fn from_id(id: &str) -> Option<Prompt> {
        CATALOGUE.iter().find(|e| e.1 == id).map(|e| e.0)
    }

    /// The text in `lang`; `{n}` placeholders are filled with `count` (or removed when `None`).
    pub fn text(self, lang: Language, count: Option<u32>) -> String {
        let e = self.entry();
        let template = match lang {
            Language::En => e.3,
            Language::ZhHans => e.4,
        };
        match count {
            Some(n) => template.replace("{n}", &n.to_string()),
            None => template.replace(": {n}", "").replace("：{n}", ""),
        }
    }

    /// Both languages, Chinese first (the bilingual two-line display of terminals in China).
    pub fn bilingual(self, count: Option<u32>) -> String {
        format!(
            "{}\n{}",
            self.text(Language::ZhHans, count),
            self.text(Language::En, count)
        )
    }

    /// The prompt for a PIN entry with `tries_left` (EMV Book 3 §10.5.1: the terminal may warn
    /// when the PIN Try Counter 9F17 is low): "last try" at one, the count otherwise.
    pub fn for_pin_entry(tries_left: Option<u8>) -> Prompt {
        match tries_left {
            Some(1) => Prompt::LastPinTry,
            Some(n) if n < 3 => Prompt::PinTriesLeft,
            _ => Prompt::EnterPin,
        }
    }
}

impl From<smartpos_emv::contactless::ui::MessageId> for Prompt {
    /// A contactless kernel's Book A UI request message (Table 9-5) as a terminal prompt.
    fn from(m: smartpos_emv::contactless::ui::MessageId) -> Prompt {
        use smartpos_emv::contactless::ui::MessageId as M;
        match m {
            M::Approved => Prompt::Approved,
            M::NotAuthorised => Prompt::NotAuthorised,
            M::EnterPin => Prompt::EnterPin,
            M::ProcessingError => Prompt::ProcessingError,
            M::RemoveCard => Prompt::RemoveCard,
            M::Welcome => Prompt::Welcome,
            M::PresentCard => Prompt::PresentCard,
            M::Processing => Prompt::Processing,
            M::CardReadOk => Prompt::CardReadOk,
            M::InsertOrSwipeCard => Prompt::InsertOrSwipeCard,
            M::PresentOneCardOnly => Prompt::PresentOneCardOnly,
            M::ApprovedPleaseSign => Prompt::ApprovedPleaseSign,
            M::AuthorisingPleaseWait => Prompt::AuthorisingPleaseWait,
            M::InsertSwipeOrTryAnotherCard => Prompt::InsertSwipeOrTryAnotherCard,
            M::InsertCard => Prompt::InsertCardContactless,
            M::ClearDisplay => Prompt::ClearDisplay,
            M::SeePhone => Prompt::SeePhone,
            M::PresentCardAgain => Prompt::PresentCardAgain,
        }
    }
}

impl From<crate::events::MessageId> for Prompt {
    /// A terminal event's message id as a prompt with texts.
    fn from(m: crate::events::MessageId) -> Prompt {
        use crate::events::MessageId as M;
        match m {
            M::PresentCard => Prompt::PresentCard,
            M::PresentOneCard => Prompt::PresentOneCardOnly,
            M::TryAgain => Prompt::TryAgain,
            M::InsertCard => Prompt::InsertCard,
            M::InsertCardOrOtherMethod => Prompt::InsertCardOrOtherMethod,
            M::EnterPin => Prompt::EnterPin,
            M::IncorrectPin => Prompt::IncorrectPin,
            M::Processing => Prompt::Processing,
            M::RemoveCard => Prompt::RemoveCard,
            M::SeePhone => Prompt::SeePhone,
            M::ScanCode => Prompt::ScanCode,
            M::ShowMerchantQr => Prompt::ShowMerchantQr,
            M::Approved => Prompt::Approved,
            M::Declined => Prompt::Declined,
            M::Cancelled => Prompt::Cancelled,
            M::NotAuthorised => Prompt::NotAuthorised,
            M::SignatureRequired => Prompt::SignatureRequired,
            M::ConfirmDuplicate => Prompt::ConfirmDuplicate,
            M::SigningOn => Prompt::SigningOn,
            M::Tampered => Prompt::Tampered,
            M::ProcessingError => Prompt::ProcessingError,
            M::Welcome => Prompt::Welcome,
            M::CardReadOk => Prompt::CardReadOk,
            M::InsertOrSwipeCard => Prompt::InsertOrSwipeCard,
            M::ApprovedPleaseSign => Prompt::ApprovedPleaseSign,
            M::AuthorisingPleaseWait => Prompt::AuthorisingPleaseWait,
            M::InsertSwipeOrTryAnotherCard => Prompt::InsertSwipeOrTryAnotherCard,
            M::ClearDisplay => Prompt::ClearDisplay,
            M::PresentCardAgain => Prompt::PresentCardAgain,
        }
    }
}

/// The text of a terminal event's prompt, with the PIN tries left when the event carries them
/// (an `EnterPin` with one or two tries left becomes the "tries left" warning).
pub fn event_text(id: crate::events::MessageId, tries_left: Option<u8>, lang: Language) -> String {
    let p = match (id, tries_left) {
        (crate::events::MessageId::EnterPin, t) => Prompt::for_pin_entry(t),
        (other, _) => Prompt::from(other),
    };
    p.text(lang, tries_left.map(u32::from))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn ids_are_unique_and_round_trip() {
        let mut seen = HashSet::new();
        for p in Prompt::all() {
            assert!(seen.insert(p.id()), "duplicate id {}", p.id());
            assert_eq!(Prompt::from_id(p.id()), Some(p));
        }
        assert_eq!(seen.len(), CATALOGUE.len());
        assert_eq!(Prompt::from_id("no_such_message"), None);
    }

    #[test]
    fn every_variant_is_in_the_catalogue_with_both_languages() {
        // Serde names equal the stable ids, so a variant missing from the table is caught.
        for p in Prompt::all() {
            let serde_name = serde_json::to_value(p).ok();
            assert_eq!(serde_name, Some(serde_json::Value::from(p.id())));
            if p != Prompt::ClearDisplay {
                assert!(!p.text(Language::En, Some(2)).is_empty());
                assert!(!p.text(Language::ZhHans, Some(2)).is_empty());
            }
        }
    }

    #[test]
    fn book_a_codes_match_table_9_5() {
        use smartpos_emv::contactless::ui::MessageId as M;
        for m in [
            M::Approved,
            M::NotAuthorised,
            M::EnterPin,
            M::RemoveCard,
            M::PresentCard,
            M::PresentOneCardOnly,
            M::SeePhone,
            M::InsertCard,
            M::PresentCardAgain,
        ] {
            assert_eq!(Prompt::from(m).emv_code(), Some(m.code()), "{m:?}");
        }
        assert_eq!(Prompt::SeePhone.emv_code(), Some(0x20));
        assert_eq!(Prompt::TryAgain.emv_code(), Some(0x13));
    }

    #[test]
    fn texts_in_both_languages() {
        assert_eq!(Prompt::Approved.text(Language::En, None), "Approved");
        assert_eq!(Prompt::Approved.text(Language::ZhHans, None), "交易成功");
        assert_eq!(
            Prompt::PinTriesLeft.text(Language::En, Some(2)),
            "PIN tries left: 2"
        );
        assert_eq!(
            Prompt::PinTriesLeft.text(Language::ZhHans, Some(2)),
            "密码剩余尝试次数：2"
        );
        assert_eq!(
            Prompt::PinTriesLeft.text(Language::En, None),
            "PIN tries left"
        );
        assert_eq!(
            Prompt::SeePhone.bilingual(None),
            "请查看手机提示\nSee phone for instructions"
        );
    }

    #[test]
    fn terminal_events_have_texts() {
        use crate::events::MessageId as M;
        assert_eq!(Prompt::from(M::SeePhone).id(), "see_phone");
        assert_eq!(Prompt::from(M::PresentOneCard).emv_code(), Some(0x19));
        assert_eq!(
            event_text(M::EnterPin, Some(2), Language::En),
            "PIN tries left: 2"
        );
        assert_eq!(
            event_text(M::EnterPin, None, Language::ZhHans),
            "请输入密码"
        );
        assert_eq!(
            event_text(M::EnterPin, Some(1), Language::En),
            "Last PIN try"
        );
        assert_eq!(
            event_text(M::InsertCardOrOtherMethod, None, Language::En),
            "Insert card or use another payment method"
        );
    }

    #[test]
    fn pin_entry_prompt_by_tries_left() {
        assert_eq!(Prompt::for_pin_entry(None), Prompt::EnterPin);
        assert_eq!(Prompt::for_pin_entry(Some(3)), Prompt::EnterPin);
        assert_eq!(Prompt::for_pin_entry(Some(2)), Prompt::PinTriesLeft);
        assert_eq!(Prompt::for_pin_entry(Some(1)), Prompt::LastPinTry);
    }

    #[test]
    fn language_from_card_preference_5f2d() {
        // 5F2D "deen": German is not supported, English is: English.
        assert_eq!(
            Language::for_card(Some(b"deen"), Language::ZhHans),
            Language::En
        );
        assert_eq!(
            Language::for_card(Some(b"ZHEN"), Language::En),
            Language::ZhHans
        );
        assert_eq!(
            Language::for_card(Some(b"frde"), Language::En),
            Language::En
        );
        assert_eq!(Language::for_card(None, Language::ZhHans), Language::ZhHans);
        // Malformed values fall back to the terminal's language.
        assert_eq!(
            Language::for_card(Some(b"e"), Language::ZhHans),
            Language::ZhHans
        );
        assert_eq!(
            Language::for_card(Some(b"e1n2"), Language::ZhHans),
            Language::ZhHans
        );
        assert_eq!(
            Language::for_card(Some(b"frdeitesen"), Language::ZhHans),
            Language::ZhHans
        );
        assert_eq!(
            Language::for_card(Some(&[0xFF, 0xFE]), Language::En),
            Language::En
        );
    }
}
