//! The issuer side of a virtual card, for canned host answers in tests and the CLI: verify the
//! ARQC of a field-55 data record and build the Issuer Authentication Data (91) with the ARPC
//! (EMV Book 2 §8.1-§8.2, method 1), with the same keys the virtual card uses.

use super::profile::Scheme;
use super::script::{ScriptMacOption, ScriptSession};
use super::{CardError, crypto};
use smartpos_crypto::emv::{AcData, MkDerivation, arpc_method1, derive_icc_mk};
use smartpos_crypto::key::{KeyAlgorithm, SecretKey};
use smartpos_emv::HostResponse;
use smartpos_tlv::{Tag, TlvReader};

/// The issuer's verdict on a field-55 data record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuerVerdict {
    /// The ARQC recomputed under the issuer master key matches 9F26.
    pub arqc_valid: bool,
    /// Issuer Authentication Data (ARPC || ARC) for tag 91.
    pub issuer_authentication_data: Vec<u8>,
}

fn tag(record: &[u8], t: u32) -> Result<&[u8], CardError> {
    for obj in TlvReader::new(record) {
        let obj = obj.map_err(crypto)?;
        if obj.tag == Tag(t) {
            return Ok(obj.value);
        }
    }
    Err(CardError::Profile {
        field: "field 55",
        reason: format!("tag {t:X} missing"),
    })
}

/// Verify the ARQC in `field55` for the scheme's test card and compute the ARPC for `arc`
/// (two ASCII characters, e.g. `b"00"`).
pub fn authorise(scheme: Scheme, field55: &[u8], arc: [u8; 2]) -> Result<IssuerVerdict, CardError> {
    let mk = icc_mk(scheme)?;
    let data = AcData {
        amount_authorised: tag(field55, 0x9F02)?,
        amount_other: tag(field55, 0x9F03)?,
        terminal_country_code: tag(field55, 0x9F1A)?,
        tvr: tag(field55, 0x95)?,
        transaction_currency_code: tag(field55, 0x5F2A)?,
        transaction_date: tag(field55, 0x9A)?,
        transaction_type: tag(field55, 0x9C)?,
        unpredictable_number: tag(field55, 0x9F37)?,
        aip: tag(field55, 0x82)?,
        atc: tag(field55, 0x9F36)?,
        iad: tag(field55, 0x9F10)?,
    };
    let cvn = scheme.cvn();
    let expected = cvn.generate_ac(&mk, &data).map_err(crypto)?;
    let arqc: [u8; 8] = tag(field55, 0x9F26)?
        .try_into()
        .map_err(|_| CardError::Profile {
            field: "field 55",
            reason: "9F26 is not 8 bytes".into(),
        })?;
    let key = cvn.ac_key(&mk, &data).map_err(crypto)?;
    let arpc = arpc_method1(&key, &arqc, &arc).map_err(crypto)?;
    let mut iad = arpc.to_vec();
    iad.extend_from_slice(&arc);
    Ok(IssuerVerdict {
        arqc_valid: expected == arqc,
        issuer_authentication_data: iad,
    })
}

/// The ICC master key of the scheme's test card (Book 2 A1.4.1 option A).
fn icc_mk(scheme: Scheme) -> Result<SecretKey, CardError> {
    let imk = SecretKey::from_hex(KeyAlgorithm::Tdes2, scheme.imk_hex()).map_err(crypto)?;
    derive_icc_mk(
        &imk,
        scheme.pan(),
        &format!("{:02}", scheme.psn()),
        MkDerivation::OptionA,
    )
    .map_err(crypto)
}

/// Seal issuer script templates (71/72 with 86 commands `CLA INS P1 P2 [Lc data]`, no MAC) for
/// the transaction of `field55` (its ATC 9F36 and ARQC 9F26), as the host simulator does:
/// secure messaging for integrity, Book 2 §9.2.1 (see [`super::script`]).
pub fn seal_scripts(
    scheme: Scheme,
    field55: &[u8],
    templates: &[u8],
) -> Result<Vec<u8>, CardError> {
    let atc: [u8; 2] = tag(field55, 0x9F36)?
        .try_into()
        .map_err(|_| CardError::Profile {
            field: "field 55",
            reason: "9F36 is not 2 bytes".into(),
        })?;
    let arqc: [u8; 8] = tag(field55, 0x9F26)?
        .try_into()
        .map_err(|_| CardError::Profile {
            field: "field 55",
            reason: "9F26 is not 8 bytes".into(),
        })?;
    let session = ScriptSession::new(
        ScriptMacOption::for_cvn(scheme.cvn()),
        &icc_mk(scheme)?,
        atc,
        arqc,
    )?;
    Ok(session.seal_scripts(templates)?)
}

/// [`host_response`] with issuer script templates sealed by [`seal_scripts`].
pub fn host_response_with_scripts(
    scheme: Scheme,
    field55: &[u8],
    approve: bool,
    templates: &[u8],
) -> Result<HostResponse, CardError> {
    let scripts = seal_scripts(scheme, field55, templates)?;
    host_response(scheme, field55, approve, scripts)
}

/// A host answer for the kernel: approve ("00") or decline ("05") with a valid ARPC, plus
/// optional issuer scripts (71/72 templates), sent as given (see [`host_response_with_scripts`]
/// to have them MACed).
pub fn host_response(
    scheme: Scheme,
    field55: &[u8],
    approve: bool,
    scripts: Vec<u8>,
) -> Result<HostResponse, CardError> {
    let arc = if approve { *b"00" } else { *b"05" };
    let v = authorise(scheme, field55, arc)?;
    Ok(HostResponse {
        approved: approve,
        arc: String::from_utf8_lossy(&arc).into_owned(),
        issuer_authentication_data: v.issuer_authentication_data,
        scripts,
    })
}
