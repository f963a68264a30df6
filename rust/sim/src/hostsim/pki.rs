//! A throw-away test PKI built at run time with OpenSSL's X509 builder: a CA, server
//! certificates with DNS/IP subject alternative names and client certificates (EC P-256,
//! ECDSA-SHA256, RFC 5280 extensions).

use openssl::asn1::Asn1Time;
use openssl::bn::{BigNum, MsbOption};
use openssl::ec::{EcGroup, EcKey};
use openssl::error::ErrorStack;
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{PKey, Private};
use openssl::x509::extension::{
    BasicConstraints, ExtendedKeyUsage, KeyUsage, SubjectAlternativeName,
};
use openssl::x509::{X509, X509Builder, X509NameBuilder, X509NameRef};

/// A certificate and its private key, in PEM.
#[derive(Clone)]
pub struct Identity {
    /// Certificate PEM.
    pub cert_pem: Vec<u8>,
    /// Private key PEM (PKCS#8).
    pub key_pem: Vec<u8>,
}

impl std::fmt::Debug for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Identity(<cert>, <key hidden>)")
    }
}

/// A test certificate authority.
pub struct TestCa {
    cert: X509,
    key: PKey<Private>,
}

impl std::fmt::Debug for TestCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TestCa")
    }
}

fn new_key() -> Result<PKey<Private>, ErrorStack> {
    let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1)?;
    PKey::from_ec_key(EcKey::generate(&group)?)
}

fn serial() -> Result<openssl::asn1::Asn1Integer, ErrorStack> {
    let mut bn = BigNum::new()?;
    bn.rand(120, MsbOption::MAYBE_ZERO, false)?;
    bn.to_asn1_integer()
}

/// An X.509 v3 certificate (RFC 5280 §4.1) for `key` with subject CN `common_name`, a random
/// serial and 30 days of validity from now, issued by `issuer` (self-issued when `None`);
/// extensions and signature are the caller's.
fn builder(
    common_name: &str,
    issuer: Option<&X509NameRef>,
    key: &PKey<Private>,
) -> Result<X509Builder, ErrorStack> {
    let mut name = X509NameBuilder::new()?;
    name.append_entry_by_nid(Nid::COMMONNAME, common_name)?;
    let name = name.build();
    let mut b = X509::builder()?;
    b.set_version(2)?;
    let sn = serial()?;
    b.set_serial_number(&sn)?;
    b.set_subject_name(&name)?;
    b.set_issuer_name(issuer.unwrap_or(&name))?;
    b.set_pubkey(key)?;
    let nb = Asn1Time::days_from_now(0)?;
    b.set_not_before(&nb)?;
    let na = Asn1Time::days_from_now(30)?;
    b.set_not_after(&na)?;
    Ok(b)
}

impl TestCa {
    /// A self-signed CA valid for 30 days.
    pub fn new(common_name: &str) -> Result<TestCa, ErrorStack> {
        let key = new_key()?;
        let mut b = builder(common_name, None, &key)?;
        b.append_extension(BasicConstraints::new().critical().ca().build()?)?;
        b.append_extension(
            KeyUsage::new()
                .critical()
                .key_cert_sign()
                .crl_sign()
                .build()?,
        )?;
        b.sign(&key, MessageDigest::sha256())?;
        Ok(TestCa {
            cert: b.build(),
            key,
        })
    }

    /// The CA certificate PEM (what a terminal pins).
    pub fn cert_pem(&self) -> Result<Vec<u8>, ErrorStack> {
        self.cert.to_pem()
    }

    fn issue(&self, cn: &str, sans: &[&str], server: bool) -> Result<Identity, ErrorStack> {
        let key = new_key()?;
        let mut b = builder(cn, Some(self.cert.subject_name()), &key)?;
        b.append_extension(BasicConstraints::new().build()?)?;
        b.append_extension(
            KeyUsage::new()
                .critical()
                .digital_signature()
                .key_agreement()
                .build()?,
        )?;
        let eku = if server {
            ExtendedKeyUsage::new().server_auth().build()?
        } else {
            ExtendedKeyUsage::new().client_auth().build()?
        };
        b.append_extension(eku)?;
        if !sans.is_empty() {
            let mut san = SubjectAlternativeName::new();
            for s in sans {
                if s.parse::<std::net::IpAddr>().is_ok() {
                    san.ip(s);
                } else {
                    san.dns(s);
                }
            }
            let ext = san.build(&b.x509v3_context(Some(&self.cert), None))?;
            b.append_extension(ext)?;
        }
        b.sign(&self.key, MessageDigest::sha256())?;
        Ok(Identity {
            cert_pem: b.build().to_pem()?,
            key_pem: key.private_key_to_pem_pkcs8()?,
        })
    }

    /// A server certificate for these DNS names / IP addresses (e.g. `localhost`, `127.0.0.1`).
    pub fn issue_server(&self, names: &[&str]) -> Result<Identity, ErrorStack> {
        self.issue(names.first().copied().unwrap_or("server"), names, true)
    }

    /// A client certificate.
    pub fn issue_client(&self, common_name: &str) -> Result<Identity, ErrorStack> {
        self.issue(common_name, &[], false)
    }
}
