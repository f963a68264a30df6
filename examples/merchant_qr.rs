//! QR payments both ways round.
//!
//! Run with `cargo run -p smartpos-examples --example merchant_qr`.
//!
//! * Merchant-presented (C-scan-B): the terminal shows a dynamic EMVCo MPM code for this sale
//!   (EMV QRCPS-MPM v1.1 §4: point of initiation "12", amount in ID 54, CRC in ID 63), rendered
//!   on the console and as a PNG; the PNG is read back with the camera-frame decoder and parsed.
//! * Consumer-presented (B-scan-C): the cashier scans the customer's wallet payment code; the
//!   terminal classifies it (WeChat Pay, Alipay, UnionPay, e-CNY) before sending it to the host.
//!
//! smartpos-qr is a pure codec: the terminal crate does the host side (order, polling, revoke).

use std::error::Error;

use smartpos_qr::image::{self, QrMatrix, QrOptions};
use smartpos_qr::mpm::{self, MerchantAccount, MerchantPresentedQr};
use smartpos_qr::{ScannedCode, parse};

/// The dynamic code for one sale: UnionPay merchant ID in ID 15, the amount and a bill number
/// the host will match the payment against.
pub fn sale_code(amount: &str, bill_number: &str) -> Result<String, Box<dyn Error>> {
    let qr = MerchantPresentedQr::builder()
        .merchant_account(MerchantAccount::primitive(15, "123456789012345"))
        .merchant_category_code("5812")
        .transaction_currency("156") // CNY
        .country_code("CN")
        .merchant_name("NOODLE BAR")
        .merchant_city("SHANGHAI")
        .dynamic_amount(amount) // sets 01 = "12" (dynamic) and 54
        .bill_number(bill_number)
        .build()?; // every field checked here
    Ok(qr.to_payload()?) // adds 00 and the CRC (63)
}

fn main() -> Result<(), Box<dyn Error>> {
    // 1. Merchant-presented: generate, show, read back.
    let payload = sale_code("35.00", "ORDER-0001")?;
    println!("MPM payload: {payload}");
    let matrix = QrMatrix::encode(&payload, &QrOptions::default())?;
    println!("{}", matrix.to_terminal(false));

    // What a phone's camera would see: the PNG, decoded back to text, then parsed (CRC enforced).
    let png = matrix.to_png(4)?;
    let read = image::decode_png(&png)?;
    let text = read.first().ok_or("no QR code found in the image")?;
    let parsed = mpm::parse(text)?;
    println!(
        "read back: {} {} CNY, bill {:?}, CRC {:04X}",
        parsed.qr.merchant_name,
        parsed.qr.transaction_amount.as_deref().unwrap_or("(none)"),
        parsed
            .qr
            .additional_data
            .as_ref()
            .and_then(|a| a.bill_number.as_deref()),
        parsed.crc
    );

    // 2. Consumer-presented: whatever the scanner reads goes through `parse`.
    for scanned in ["134567890123456789", "285123456789012345", "not a code"] {
        match parse(scanned) {
            Ok(ScannedCode::Wallet(code)) => {
                // `masked()` for logs and receipts: a payment code is a bearer token.
                println!("wallet code: {} {}", code.wallet(), code.masked());
            }
            Ok(ScannedCode::Mpm(_)) => println!("a merchant code: the customer should scan it"),
            Ok(ScannedCode::Cpm(_)) => println!("an EMVCo consumer-presented code"),
            Err(e) => println!("refused: {e}"),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use smartpos_qr::mpm::PointOfInitiation;
    use smartpos_qr::wallet::{Wallet, WalletCode};

    #[test]
    fn runs() {
        super::main().unwrap();
    }

    #[test]
    fn dynamic_code_survives_image_round_trip() {
        let payload = sale_code("35.00", "ORDER-0001").unwrap();
        let matrix = QrMatrix::encode(&payload, &QrOptions::default()).unwrap();
        let read = image::decode_png(&matrix.to_png(4).unwrap()).unwrap();
        assert_eq!(read, vec![payload.clone()]);
        let parsed = mpm::parse(&read[0]).unwrap();
        assert_eq!(
            parsed.qr.point_of_initiation,
            Some(PointOfInitiation::Dynamic)
        );
        assert_eq!(parsed.qr.transaction_amount.as_deref(), Some("35.00"));
        let bill = parsed
            .qr
            .additional_data
            .as_ref()
            .and_then(|a| a.bill_number.as_deref());
        assert_eq!(bill, Some("ORDER-0001"));
        assert!(
            payload.contains("010212"),
            "dynamic point of initiation: {payload}"
        );
    }

    #[test]
    fn a_corrupted_payload_fails_the_crc() {
        let payload = sale_code("35.00", "ORDER-0001")
            .unwrap()
            .replace("35.00", "36.00");
        assert!(mpm::parse(&payload).is_err());
    }

    #[test]
    fn wallet_codes_are_classified() {
        let wechat = WalletCode::parse("134567890123456789").unwrap();
        assert_eq!(wechat.wallet(), Wallet::WeChatPay);
        assert!(!wechat.masked().contains("134567890123456789"));
        assert_eq!(
            WalletCode::parse("285123456789012345").unwrap().wallet(),
            Wallet::Alipay
        );
        assert!(WalletCode::parse("99999999").is_err());
    }
}
