//! The issuer's checks: amount rules, PIN verification (TPK or DUKPT, try limit) and the ARQC
//! with its ARPC (EMV Book 2 §8.1-§8.2).

use super::*;
use crate::card::script::{ScriptMacOption, ScriptSession};

impl Engine {
    pub(super) fn rule_for(&self, amount: u64) -> Option<&'static str> {
        let suffix = format!("{:02}", amount % 100);
        self.rules
            .iter()
            .find(|r| r.amount_suffix == suffix)
            .and_then(|r| static_code(&r.response))
    }

    /// The PIN check: `None` when there is no PIN block or the PIN is right, else the response
    /// code (99 when the block cannot be deciphered, 55 wrong PIN, 75 try limit reached).
    pub(super) fn check_pin(
        &mut self,
        req: &Message,
        tid: &str,
        pan: &str,
    ) -> Option<&'static str> {
        let block = req.binary(52)?;
        match self.pin_key(req, tid) {
            Some(pin_key) => self.compare_pin(&pin_key, block, pan),
            None => Some("99"),
        }
    }

    /// The key the PIN block is under: the DUKPT PIN key of the KSN in field 62 when field 53
    /// says DUKPT (dialect: 53 = 2 6 1...), else the terminal's TPK.
    pub(super) fn pin_key(&self, req: &Message, tid: &str) -> Option<SecretKey> {
        if req.text(53).is_some_and(|t| t.starts_with("261")) {
            let ksn = smartpos_crypto::dukpt::tdes::Ksn::new(req.binary(62)?).ok()?;
            let bdk = self.bdk.as_ref()?;
            smartpos_crypto::dukpt::tdes::host_session_keys(bdk, &ksn)
                .ok()
                .map(|k| k.pin_key)
        } else {
            Some(self.terminals.get(tid)?.keys.as_ref()?.tpk.clone())
        }
    }

    pub(super) fn compare_pin(
        &mut self,
        key: &SecretKey,
        block: &[u8],
        pan: &str,
    ) -> Option<&'static str> {
        let limit = self.pin_try_limit;
        let Some(card) = self.cards.get_mut(pan) else {
            return Some("14");
        };
        if card.wrong_pins >= limit {
            return Some("75");
        }
        let Ok(pin) = pin::decrypt(key, PinBlockFormat::Iso0, block, Some(pan)) else {
            return Some("99");
        };
        let expected = card.entry.pin.as_bytes();
        let ok = pin.as_str().len() == expected.len()
            && openssl::memcmp::eq(pin.as_str().as_bytes(), expected);
        if ok {
            card.wrong_pins = 0;
            None
        } else {
            card.wrong_pins += 1;
            Some(if card.wrong_pins >= limit { "75" } else { "55" })
        }
    }

    /// Verify the ARQC of field 55 (EMV Book 2 §8.1.2) with the card's ICC master key derived
    /// from the IMK by option A (Book 2 A1.4.1); the CVN comes from the IAD (9F10).
    pub(super) fn check_arqc(
        &self,
        req: &Message,
        pan: &str,
    ) -> Option<(bool, Option<ArpcContext>)> {
        let f55 = req.binary(55)?;
        let card = self.cards.get(pan)?;
        let tags = icc_tags(f55);
        let get = |t: u32| tags.get(&t).map(Vec::as_slice).unwrap_or(&[]);
        let iad = get(0x9F10);
        let cvn = if card.entry.scheme == "mastercard" {
            match iad.get(1) {
                Some(0x10) => Cvn::Mastercard16,
                Some(0x11) => Cvn::Mastercard17,
                Some(0x14) => Cvn::Mastercard20,
                Some(0x15) => Cvn::Mastercard21,
                _ => return Some((false, None)),
            }
        } else {
            match iad.get(2) {
                Some(0x0A) => Cvn::Visa10,
                Some(0x12) => Cvn::Visa18,
                Some(0x16) => Cvn::Visa22,
                _ => return Some((false, None)),
            }
        };
        let psn_tag = get(0x5F34);
        let psn = match psn_tag.first() {
            Some(b) => format!("{b:02X}"),
            None => card.entry.psn.clone(),
        };
        let Ok(mk) = emv::derive_icc_mk(&card.imk, pan, &psn, MkDerivation::OptionA) else {
            return Some((false, None));
        };
        let data = AcData {
            amount_authorised: get(0x9F02),
            amount_other: get(0x9F03),
            terminal_country_code: get(0x9F1A),
            tvr: get(0x95),
            transaction_currency_code: get(0x5F2A),
            transaction_date: get(0x9A),
            transaction_type: get(0x9C),
            unpredictable_number: get(0x9F37),
            aip: get(0x82),
            atc: get(0x9F36),
            iad,
        };
        let Ok(arqc) = <[u8; 8]>::try_from(get(0x9F26)) else {
            return Some((false, None));
        };
        let Ok(computed) = cvn.generate_ac(&mk, &data) else {
            return Some((false, None));
        };
        if !openssl::memcmp::eq(&computed, &arqc) {
            return Some((false, None));
        }
        let key = cvn.ac_key(&mk, &data).ok()?;
        let method2 = matches!(cvn, Cvn::Visa18 | Cvn::Visa22);
        // Book 2 §9.2.1: scripts of this transaction are MACed under a session key bound to its
        // ATC and ARQC; MK_SMI is the ICC MK of the card's one IMK (see `card::script`).
        let script_session = <[u8; 2]>::try_from(get(0x9F36))
            .ok()
            .and_then(|atc| ScriptSession::new(ScriptMacOption::for_cvn(cvn), &mk, atc, arqc).ok());
        Some((
            true,
            Some(ArpcContext {
                key,
                arqc,
                method2,
                script_session,
            }),
        ))
    }

    pub(super) fn authorise_card(
        &mut self,
        req: &Message,
        tid: &str,
        amount: u64,
        check_balance: bool,
    ) -> AuthOutcome {
        let mut out = AuthOutcome {
            code: "00",
            pan: None,
            arpc: None,
            arqc_verified: None,
        };
        let Some(pan) = pan_of(req) else {
            out.code = "14";
            return out;
        };
        out.pan = Some(pan.clone());
        if !self.cards.contains_key(&pan) {
            out.code = "14";
            return out;
        }
        if let Some(c) = self.rule_for(amount) {
            out.code = c;
            return out;
        }
        if let Some(c) = self.check_pin(req, tid, &pan) {
            out.code = c;
            return out;
        }
        if let Some((ok, ctx)) = self.check_arqc(req, &pan) {
            out.arqc_verified = Some(ok);
            out.arpc = ctx;
            if !ok {
                out.code = "05";
                return out;
            }
        }
        if check_balance {
            if let Some(b) = self.cards.get(&pan).and_then(|c| c.balance) {
                if amount > b {
                    out.code = "51";
                }
            }
        }
        out
    }

    pub(super) fn issuer_data(&self, ctx: &ArpcContext, code: &str, pan: &str) -> Option<Vec<u8>> {
        let arc: [u8; 2] = code.as_bytes().try_into().ok()?;
        let mut out = Vec::new();
        if ctx.method2 {
            // CSU (VIS 1.5): byte 2 bit 8 = issuer approves; here 00 80 00 00 / 00 00 00 00.
            let csu = if code == "00" {
                [0x00, 0x80, 0x00, 0x00]
            } else {
                [0u8; 4]
            };
            let arpc = emv::arpc_method2(&ctx.key, &ctx.arqc, &csu, &[]).ok()?;
            let mut v = arpc.to_vec();
            v.extend_from_slice(&csu);
            out.extend(smartpos_tlv::encode(Tag(0x91), &v));
        } else {
            let arpc = emv::arpc_method1(&ctx.key, &ctx.arqc, &arc).ok()?;
            let mut v = arpc.to_vec();
            v.extend_from_slice(&arc);
            out.extend(smartpos_tlv::encode(Tag(0x91), &v));
        }
        if code == "00" {
            if let Some(s) = self
                .cards
                .get(pan)
                .and_then(|c| c.entry.issuer_scripts.as_deref())
                .and_then(|text| issuer_scripts(text, ctx.script_session.as_ref()))
            {
                out.extend(s);
            }
        }
        out.push(0x8A);
        out.push(0x02);
        out.extend_from_slice(&arc);
        Some(out)
    }
}

/// The issuer scripts of an approval (Book 3 §10.10, Book 2 §9.2.1), from the card's
/// `issuer_scripts` config text:
///
/// * hex of 71/72 templates whose 86 commands are templates without MAC
///   (`CLA INS P1 P2 [Lc data]`): each command is sealed per transaction with the MAC of
///   [`ScriptSession`] (ATC and ARQC of this request);
/// * `raw:` followed by hex: sent byte for byte as configured (a test can carry a wrong MAC);
/// * hex the sealing cannot read (e.g. an 86 shorter than a header, or no ARQC to bind to):
///   sent as configured, as before sealing existed, and logged.
///
/// Text that is not hex sends no scripts.
fn issuer_scripts(text: &str, session: Option<&ScriptSession>) -> Option<Vec<u8>> {
    if let Some(raw) = text.strip_prefix("raw:") {
        return hex::decode(raw.trim()).ok();
    }
    let templates = hex::decode(text.trim()).ok()?;
    match session.map(|s| s.seal_scripts(&templates)) {
        Some(Ok(sealed)) => Some(sealed),
        Some(Err(e)) => {
            log::warn!("issuer scripts sent as configured, not sealed: {e}");
            Some(templates)
        }
        None => {
            log::warn!("issuer scripts sent as configured: no ARQC/ATC to bind a MAC to");
            Some(templates)
        }
    }
}

/// Configured response codes as static strings (unknown ones become 05).
fn static_code(code: &str) -> Option<&'static str> {
    const CODES: [&str; 24] = [
        "00", "01", "03", "04", "05", "12", "13", "14", "15", "22", "25", "30", "33", "40", "41",
        "43", "51", "54", "55", "57", "61", "91", "94", "96",
    ];
    CODES.iter().find(|c| **c == code).copied().or(Some("05"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session() -> ScriptSession {
        let mk = SecretKey::from_hex(KeyAlgorithm::Tdes2, "0123456789ABCDEFFEDCBA9876543210")
            .expect("key");
        ScriptSession::new(ScriptMacOption::Visa, &mk, [0, 0x21], [7; 8]).expect("session")
    }

    #[test]
    fn templates_are_sealed_raw_is_verbatim_and_unreadable_hex_goes_as_configured() {
        let s = session();
        let t = "720D9F1804000000018604841E0000";
        let sealed = issuer_scripts(t, Some(&s)).expect("scripts");
        assert_eq!(
            sealed,
            s.seal_scripts(&hex::decode(t).expect("hex")).expect("seal")
        );
        assert_ne!(sealed, hex::decode(t).expect("hex"));
        // raw: byte for byte, whatever the session.
        let raw = "7215 9F180400000001 860C 841E000008 0011223344556677".replace(' ', "");
        assert_eq!(
            issuer_scripts(&format!("raw:{raw}"), Some(&s)),
            hex::decode(&raw).ok()
        );
        // A command that is not a template (3 bytes) and no session: as configured.
        let odd = "720C9F1804000000018603841E00";
        assert_eq!(issuer_scripts(odd, Some(&s)), hex::decode(odd).ok());
        assert_eq!(issuer_scripts(t, None), hex::decode(t).ok());
        // Not hex: nothing is sent.
        assert_eq!(issuer_scripts("72zz", Some(&s)), None);
        assert_eq!(issuer_scripts("raw:7", Some(&s)), None);
    }
}
