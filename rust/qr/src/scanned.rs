//! One entry point for whatever the POS scanner read: an EMVCo merchant-presented payload, an
//! EMVCo consumer-presented payload, or a wallet payment code.

use crate::cpm::CpmPayload;
use crate::error::QrError;
use crate::mpm::{self, MpmPayload};
use crate::wallet::WalletCode;

/// What a scanned text turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScannedCode {
    /// EMVCo Merchant-Presented Mode (CRC verified).
    Mpm(Box<MpmPayload>),
    /// EMVCo Consumer-Presented Mode.
    Cpm(Box<CpmPayload>),
    /// A wallet payment code (WeChat Pay, Alipay, UnionPay, e-CNY).
    Wallet(WalletCode),
}

impl ScannedCode {
    /// "mpm", "cpm" or "wallet".
    pub fn kind(&self) -> &'static str {
        match self {
            ScannedCode::Mpm(_) => "mpm",
            ScannedCode::Cpm(_) => "cpm",
            ScannedCode::Wallet(_) => "wallet",
        }
    }
}

/// Classifies and parses a scanned text. Leading and trailing whitespace (scanners often end
/// with CR/LF) is ignored.
///
/// * digits only → wallet payment code ([`WalletCode::parse`]; an MPM always holds letters in
///   its country code, so it is never all digits);
/// * starting with "00" followed by two digits → MPM ([`mpm::parse`], CRC enforced);
/// * otherwise → CPM (base64 of BER-TLV starting with tag 85, [`CpmPayload::parse`]).
pub fn parse(payload: &str) -> Result<ScannedCode, QrError> {
    let payload = payload.trim();
    if payload.is_empty() {
        return Err(QrError::Empty);
    }
    if payload.bytes().all(|b| b.is_ascii_digit()) {
        return WalletCode::parse(payload).map(ScannedCode::Wallet);
    }
    if looks_like_mpm(payload) {
        return mpm::parse(payload).map(|p| ScannedCode::Mpm(Box::new(p)));
    }
    CpmPayload::parse(payload).map(|p| ScannedCode::Cpm(Box::new(p)))
}

/// Whether the text starts like an MPM payload ("00" then a two-digit length).
pub fn looks_like_mpm(payload: &str) -> bool {
    payload.starts_with("00")
        && payload
            .bytes()
            .skip(2)
            .take(2)
            .filter(u8::is_ascii_digit)
            .count()
            == 2
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wallet::Wallet;

    #[test]
    fn classifies_each_kind() {
        // id: qr-cpm-emvco-example1 (kenmaz/JPQRReader CPMDecoderTests.swift testEMVCPM_Example1)
        let cpm = parse("hQVDUFYwMWEaTwegAAAAVVVVVw8SNFZ4kBI0WNGRIgESNF8=\r\n").unwrap();
        assert_eq!(cpm.kind(), "cpm");
        let wallet = parse("134650720866361395\n").unwrap();
        match wallet {
            ScannedCode::Wallet(code) => assert_eq!(code.wallet(), Wallet::WeChatPay),
            other => panic!("{other:?}"),
        }
        let mpm_code = crate::mpm::MerchantPresentedQr::builder()
            .merchant_account(crate::mpm::MerchantAccount::primitive(
                15,
                "102510000000001",
            ))
            .merchant_category_code("5812")
            .transaction_currency("156")
            .country_code("CN")
            .merchant_name("NOODLE BAR")
            .merchant_city("SHANGHAI")
            .build()
            .unwrap()
            .to_payload()
            .unwrap();
        assert_eq!(parse(&mpm_code).unwrap().kind(), "mpm");
    }

    #[test]
    fn errors_come_from_the_right_codec() {
        assert_eq!(parse("  "), Err(QrError::Empty));
        assert!(matches!(
            parse("999999999999999999"),
            Err(QrError::UnknownWalletCode { .. })
        ));
        assert!(matches!(
            parse("0002010102115802CN"),
            Err(QrError::MissingField { .. })
        ));
        assert!(matches!(
            parse("https://example.com/pay"),
            Err(QrError::CpmBase64 { .. })
        ));
    }
}
