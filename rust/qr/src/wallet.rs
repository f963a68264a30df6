//! Wallet payment codes ("付款码") that a customer's phone shows and the POS scans (C-scan-B is
//! the merchant-presented direction; this is the consumer-presented "B-scan-C" direction).
//! A code is a one-time bearer token: recognise it by length and prefix, carry it to the host,
//! never log it in full.
//!
//! Rules and their public sources (checked 2026-11):
//!
//! * **WeChat Pay** — 18 digits starting 10, 11, 12, 13, 14 or 15. WeChat Pay "Submit Quick Pay"
//!   (micropay) API, parameter `auth_code`: "用户付款码条形码规则：18位纯数字，以10、11、12、13、
//!   14、15开头" (pay.weixin.qq.com/wiki/doc/api/micropay.php?chapter=5_1); the English
//!   cross-border guide ("Important Parameters", pay.weixin.qq.com/wiki/doc/api/wxpay/en/guide/pos/
//!   ImportantParameters.shtml) agrees: 18 digits, 10-14 mainland users, 15 Hong Kong users.
//! * **Alipay** — 16 to 24 digits starting 25, 26, 27, 28, 29 or 30. `alipay.trade.pay`,
//!   parameter `auth_code`: "支付授权码，25~30开头的长度为16~24位的数字，实际字符串长度以开发者获取的
//!   付款码长度为准" (opendocs.alipay.com, alipay.trade.pay; also opendocs.alipay.com/open/194/106039).
//! * **UnionPay** (QuickPass / 云闪付 payment code) — 19 digits starting 62. No UnionPay developer
//!   page stating the rule was found in the sources available; the rule is the one integrators
//!   publish (e.g. cnblogs.com/zhangmo/p/13578409.html "银联二维码:62开头19位") and matches the
//!   brief. Kept strict: exactly 19 digits and the 62 prefix.
//! * **e-CNY** (digital RMB, 数字人民币) — 19 digits starting 01. No People's Bank of China or
//!   operator document stating the rule was found; open-source acquirer integrations check "01"
//!   plus a length of 19 and reject other lengths ("数字人民币付款码长度不正确"). The brief hedged the
//!   length ("19 digits?"); the stricter reading is used: exactly 19 digits, prefix 01.
//!
//! The four rules do not overlap (prefixes 10-15, 25-30, 62, 01), so a code matches at most one.

use crate::error::QrError;
use std::fmt;

/// The wallet a payment code belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Wallet {
    /// WeChat Pay (微信支付).
    WeChatPay,
    /// Alipay (支付宝).
    Alipay,
    /// UnionPay QuickPass (银联云闪付).
    UnionPay,
    /// e-CNY, the digital renminbi (数字人民币).
    ECny,
}

impl Wallet {
    /// Short lower-case name, as used in the CLI JSON ("wechat", "alipay", "unionpay", "ecny").
    pub fn as_str(self) -> &'static str {
        match self {
            Wallet::WeChatPay => "wechat",
            Wallet::Alipay => "alipay",
            Wallet::UnionPay => "unionpay",
            Wallet::ECny => "ecny",
        }
    }
}

impl fmt::Display for Wallet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A recognised wallet payment code. `Debug` shows the wallet and the last four digits only.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct WalletCode {
    wallet: Wallet,
    code: String,
}

impl WalletCode {
    /// Recognises `code` (digits only, no spaces) or says why not.
    pub fn parse(code: &str) -> Result<Self, QrError> {
        if code.is_empty() {
            return Err(QrError::Empty);
        }
        if !code.bytes().all(|b| b.is_ascii_digit()) {
            return Err(QrError::UnknownWalletCode {
                reason: "wallet payment codes are digits only".into(),
            });
        }
        let len = code.len();
        let prefix = code.get(..2).and_then(|p| p.parse::<u8>().ok());
        let wallet = match (prefix, len) {
            (Some(10..=15), 18) => Wallet::WeChatPay,
            (Some(25..=30), 16..=24) => Wallet::Alipay,
            (Some(62), 19) => Wallet::UnionPay,
            (Some(1), 19) => Wallet::ECny,
            (Some(p), _) => {
                let expected = match p {
                    10..=15 => "WeChat Pay codes with this prefix have 18 digits",
                    25..=30 => "Alipay codes with this prefix have 16 to 24 digits",
                    62 => "UnionPay codes with this prefix have 19 digits",
                    1 => "e-CNY codes with this prefix have 19 digits",
                    _ => "no wallet uses this prefix",
                };
                return Err(QrError::UnknownWalletCode {
                    reason: format!("{len} digits starting {p:02}: {expected}"),
                });
            }
            (None, _) => {
                return Err(QrError::UnknownWalletCode {
                    reason: format!("{len} digit(s) is too short for any wallet"),
                });
            }
        };
        Ok(WalletCode {
            wallet,
            code: code.to_owned(),
        })
    }

    /// Which wallet issued the code.
    pub fn wallet(&self) -> Wallet {
        self.wallet
    }

    /// The full code, to send to the acquirer (e.g. as the `auth_code` / the ISO 8583 field the
    /// host profile assigns to it). Do not log it.
    pub fn as_str(&self) -> &str {
        &self.code
    }

    /// The code with all but the last four digits replaced by '*', for receipts and logs.
    pub fn masked(&self) -> String {
        let keep = self.code.len().saturating_sub(4);
        let tail = self.code.get(keep..).unwrap_or_default();
        format!("{}{tail}", "*".repeat(keep))
    }
}

impl fmt::Debug for WalletCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WalletCode")
            .field("wallet", &self.wallet)
            .field("code", &self.masked())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_each_wallet_at_its_boundaries() {
        // Example codes from the sources cited above: WeChat 134650720866361395 (WeChat Pay HK
        // MicroPay request sample), Alipay 28763443825664394 (alipay.trade.pay example value).
        let cases = [
            ("134650720866361395", Wallet::WeChatPay),
            ("100000000000000000", Wallet::WeChatPay),
            ("159999999999999999", Wallet::WeChatPay),
            ("28763443825664394", Wallet::Alipay),
            ("2500000000000000", Wallet::Alipay),
            ("300000000000000000000000", Wallet::Alipay),
            ("6212345678901234567", Wallet::UnionPay),
            ("0112345678901234567", Wallet::ECny),
        ];
        for (code, wallet) in cases {
            assert_eq!(WalletCode::parse(code).unwrap().wallet(), wallet, "{code}");
        }
    }

    #[test]
    fn rejects_near_misses() {
        for code in [
            "13465072086636139",         // WeChat, 17 digits
            "1346507208663613951",       // WeChat, 19 digits
            "164650720866361395",        // prefix 16
            "250000000000000",           // Alipay, 15 digits
            "3000000000000000000000000", // Alipay, 25 digits
            "311234567890123456",        // prefix 31
            "621234567890123456",        // UnionPay, 18 digits
            "62123456789012345678",      // UnionPay, 20 digits
            "011234567890123456",        // e-CNY, 18 digits
            "0212345678901234567",       // prefix 02
            "13465072086636139X",
            "1",
            " 134650720866361395",
        ] {
            assert!(
                matches!(
                    WalletCode::parse(code),
                    Err(QrError::UnknownWalletCode { .. })
                ),
                "{code}"
            );
        }
        assert_eq!(WalletCode::parse(""), Err(QrError::Empty));
    }

    #[test]
    fn debug_and_errors_do_not_leak_the_code() {
        let code = WalletCode::parse("134650720866361395").unwrap();
        let debug = format!("{code:?}");
        assert!(!debug.contains("1346507208"), "{debug}");
        assert!(debug.contains("1395"));
        assert_eq!(code.masked(), "**************1395");
        let err = WalletCode::parse("164650720866361395")
            .unwrap_err()
            .to_string();
        assert!(!err.contains("4650720866"), "{err}");
    }
}
