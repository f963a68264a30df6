//! `smartpos crypto tr31|emv|sm2|sm3 ...`: TR-31 key blocks, issuer-side EMV cryptography, SM2
//! signatures and SM3 digests on smartpos-crypto.
//!
//! With `--json` each prints one object; hex is upper-case. Bad arguments exit with 2, failed
//! cryptographic checks (wrong MAC, malformed key) with 1. `sm2 verify` exits 0 whether or not
//! the signature verifies and says which in `valid`.

use clap::{Args, Subcommand, ValueEnum};
use serde_json::json;
use smartpos_crypto::emv::{self, MkDerivation};
use smartpos_crypto::hash;
use smartpos_crypto::key::{SecretKey, Zeroizing};
use smartpos_crypto::mac::Padding;
use smartpos_crypto::sm2::{DEFAULT_ID, Sm2PrivateKey, Sm2PublicKey, Sm2Signature};
use smartpos_crypto::tr31::{
    self, Algorithm, Exportability, KeyBlockHeader, KeyUsage, ModeOfUse, Version,
};

use crate::report::{CliResult, Report, UsageError, hex_upper, parse_hex};

#[derive(Subcommand)]
pub enum Cmd {
    /// TR-31 / ANSI X9.143 key blocks.
    #[command(subcommand)]
    Tr31(Tr31Cmd),
    /// Issuer-side EMV cryptography (EMV Book 2 Annex A1).
    #[command(subcommand)]
    Emv(EmvCmd),
    /// SM3 digest (GB/T 32905-2016).
    Sm3(Sm3Args),
    /// SM2 signatures (GB/T 32918.2-2016) with the signer ID and Z value.
    #[command(subcommand)]
    Sm2(Sm2Cmd),
}

#[derive(Subcommand)]
pub enum Tr31Cmd {
    /// Unwrap a key block: the MAC is checked before the key is shown.
    Unwrap(Tr31UnwrapArgs),
    /// Wrap a key into a key block.
    Wrap(Tr31WrapArgs),
}

#[derive(Args)]
pub struct Tr31UnwrapArgs {
    /// Key block protection key, hex (TDES for versions A/B/C, AES for D).
    #[arg(long)]
    kbpk: String,
    /// The key block text.
    #[arg(long)]
    block: String,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum VersionArg {
    A,
    B,
    C,
    D,
}

#[derive(Args)]
pub struct Tr31WrapArgs {
    /// Key block protection key, hex.
    #[arg(long)]
    kbpk: String,
    /// The key to wrap, hex.
    #[arg(long)]
    key: String,
    /// Key block version.
    #[arg(long, value_enum, ignore_case = true)]
    version: VersionArg,
    /// Key usage, e.g. P0, M3, D0, K0.
    #[arg(long)]
    usage: String,
    /// Algorithm of the wrapped key: T (TDES), A (AES), D (DES), ...
    #[arg(long)]
    algorithm: String,
    /// Mode of use: E, D, B, C, G, N, S, V, X, Y, T.
    #[arg(long)]
    mode: String,
    /// Exportability: E, N or S (default E).
    #[arg(long, default_value = "E")]
    exportability: String,
    /// Key version number, 2 characters (default 00).
    #[arg(long, default_value = "00")]
    key_version: String,
}

#[derive(Subcommand)]
pub enum EmvCmd {
    /// ICC master key from the issuer master key (Book 2 A1.4, options A and B).
    Mk(MkArgs),
    /// Common session key for an ATC (Book 2 A1.3).
    SessionKey(SessionKeyArgs),
    /// Application cryptogram (ISO 9797-1 MAC algorithm 3) over the given data.
    Arqc(ArqcArgs),
    /// ARPC method 1 (with --arc) or 2 (with --csu).
    Arpc(ArpcArgs),
}

#[derive(Clone, Copy, ValueEnum)]
pub enum OptionArg {
    A,
    B,
}

#[derive(Args)]
pub struct MkArgs {
    /// Issuer master key, hex (2-key TDES).
    #[arg(long)]
    imk: String,
    /// PAN, decimal digits.
    #[arg(long)]
    pan: String,
    /// PAN sequence number, 2 digits (default 00).
    #[arg(long, default_value = "00")]
    psn: String,
    /// Derivation option (default a).
    #[arg(long, value_enum, ignore_case = true, default_value = "a")]
    option: OptionArg,
}

#[derive(Args)]
pub struct SessionKeyArgs {
    /// ICC master key, hex (2-key TDES).
    #[arg(long)]
    mk: String,
    /// Application Transaction Counter, hex (2 bytes).
    #[arg(long)]
    atc: String,
}

#[derive(Args)]
pub struct ArqcArgs {
    /// AC session key, hex.
    #[arg(long)]
    sk: String,
    /// Cryptogram input data, hex.
    #[arg(long)]
    data: String,
    /// ISO 9797-1 padding method 1 or 2 (default 2).
    #[arg(long, default_value_t = 2)]
    padding: u8,
}

#[derive(Args)]
pub struct ArpcArgs {
    /// ARPC method, 1 or 2.
    #[arg(long)]
    method: u8,
    /// Session key, hex.
    #[arg(long)]
    sk: String,
    /// The ARQC, hex (8 bytes).
    #[arg(long)]
    arqc: String,
    /// Authorisation Response Code, hex (2 bytes; method 1).
    #[arg(long)]
    arc: Option<String>,
    /// Card Status Update, hex (4 bytes; method 2).
    #[arg(long)]
    csu: Option<String>,
    /// Proprietary Authentication Data, hex (0-8 bytes; method 2).
    #[arg(long)]
    pad: Option<String>,
}

#[derive(Args)]
pub struct Sm3Args {
    /// Data, hex.
    #[arg(long)]
    data: String,
}

#[derive(Subcommand)]
pub enum Sm2Cmd {
    /// Verify a signature (r||s 64 bytes or DER).
    Verify(Sm2VerifyArgs),
    /// Sign a message.
    Sign(Sm2SignArgs),
    /// Generate a key pair.
    Keygen,
}

#[derive(Args)]
pub struct Sm2VerifyArgs {
    /// Public key 04||X||Y, hex.
    #[arg(long)]
    public: String,
    /// Signer's distinguishing identifier, text (default 1234567812345678).
    #[arg(long, default_value = "1234567812345678")]
    id: String,
    /// Message, hex.
    #[arg(long)]
    message: String,
    /// Signature, hex: r||s (64 bytes) or DER.
    #[arg(long)]
    signature: String,
}

#[derive(Args)]
pub struct Sm2SignArgs {
    /// Private key d, hex (32 bytes).
    #[arg(long)]
    private: String,
    /// Signer's distinguishing identifier, text (default 1234567812345678).
    #[arg(long, default_value = "1234567812345678")]
    id: String,
    /// Message, hex.
    #[arg(long)]
    message: String,
}

pub fn run(cmd: Cmd) -> CliResult {
    match cmd {
        Cmd::Tr31(Tr31Cmd::Unwrap(a)) => tr31_unwrap(a),
        Cmd::Tr31(Tr31Cmd::Wrap(a)) => tr31_wrap(a),
        Cmd::Emv(EmvCmd::Mk(a)) => emv_mk(a),
        Cmd::Emv(EmvCmd::SessionKey(a)) => emv_session_key(a),
        Cmd::Emv(EmvCmd::Arqc(a)) => emv_arqc(a),
        Cmd::Emv(EmvCmd::Arpc(a)) => emv_arpc(a),
        Cmd::Sm3(a) => {
            let data = parse_hex("data", &a.data)?;
            let digest = hash::sm3(&data)?;
            Ok(Report::with_text(
                json!({ "digest": hex_upper(&digest) }),
                hex_upper(&digest),
            ))
        }
        Cmd::Sm2(Sm2Cmd::Verify(a)) => sm2_verify(a),
        Cmd::Sm2(Sm2Cmd::Sign(a)) => sm2_sign(a),
        Cmd::Sm2(Sm2Cmd::Keygen) => {
            let key = Sm2PrivateKey::generate()?;
            let private = hex_upper(&key.to_bytes()[..]);
            let public = hex_upper(&key.public_key().to_bytes());
            let text = format!("private: {private}\npublic:  {public}");
            Ok(Report::with_text(
                json!({ "private": private, "public": public }),
                text,
            ))
        }
    }
}

fn key_for_version(version: char, bytes: &[u8]) -> Result<SecretKey, UsageError> {
    let key = if version == 'D' {
        SecretKey::aes(bytes)
    } else {
        SecretKey::tdes(bytes)
    };
    key.map_err(|e| UsageError(format!("--kbpk: {e}")))
}

fn one_char(name: &str, s: &str) -> Result<char, UsageError> {
    let mut chars = s.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) => Ok(c.to_ascii_uppercase()),
        _ => Err(UsageError(format!(
            "--{name}: one character expected, got {s:?}"
        ))),
    }
}

fn tr31_unwrap(a: Tr31UnwrapArgs) -> CliResult {
    let kbpk_bytes = parse_hex("kbpk", &a.kbpk)?;
    let block = a.block.trim();
    let version = block
        .chars()
        .next()
        .ok_or_else(|| UsageError("--block: empty".into()))?;
    let kbpk = key_for_version(version, &kbpk_bytes)?;
    let out = tr31::unwrap(&kbpk, block, None)?;
    let h = &out.header;
    let kcv = match out.to_secret_key() {
        Ok(k) if k.algorithm().is_aes() => Some(hex_upper(
            smartpos_crypto::kcv::cmac_zeros(&k)?
                .get(..5)
                .unwrap_or(&[]),
        )),
        Ok(k) => Some(hex_upper(
            smartpos_crypto::kcv::encrypt_zeros(&k)?
                .get(..3)
                .unwrap_or(&[]),
        )),
        Err(_) => None,
    };
    let optional: serde_json::Map<String, serde_json::Value> = h
        .optional_blocks
        .iter()
        .map(|b| (b.id_str().to_string(), json!(b.data)))
        .collect();
    let key_hex = hex_upper(out.key_bytes());
    let text = format!(
        "version {} usage {} algorithm {} mode {} key version {} exportability {}\nkey {}{}",
        h.version,
        h.usage,
        h.algorithm,
        h.mode,
        h.key_version_str(),
        h.exportability,
        key_hex,
        kcv.as_ref()
            .map(|k| format!(" (KCV {k})"))
            .unwrap_or_default()
    );
    Ok(Report::with_text(
        json!({
            "version": h.version.to_string(),
            "usage": h.usage.to_string(),
            "algorithm": h.algorithm.to_string(),
            "mode": h.mode.to_string(),
            "key_version": h.key_version_str(),
            "exportability": h.exportability.to_string(),
            "optional_blocks": optional,
            "key": key_hex,
            "kcv": kcv,
        }),
        text,
    ))
}

fn tr31_wrap(a: Tr31WrapArgs) -> CliResult {
    let version = match a.version {
        VersionArg::A => Version::A,
        VersionArg::B => Version::B,
        VersionArg::C => Version::C,
        VersionArg::D => Version::D,
    };
    let kbpk = key_for_version(version.as_char(), &parse_hex("kbpk", &a.kbpk)?)?;
    let key = Zeroizing::new(parse_hex("key", &a.key)?);
    let usage = KeyUsage::parse(&a.usage.to_ascii_uppercase())
        .map_err(|e| UsageError(format!("--usage: {e}")))?;
    let algorithm = Algorithm::from_char(one_char("algorithm", &a.algorithm)?)
        .map_err(|e| UsageError(format!("--algorithm: {e}")))?;
    let mode = ModeOfUse::from_char(one_char("mode", &a.mode)?)
        .map_err(|e| UsageError(format!("--mode: {e}")))?;
    let exportability = Exportability::from_char(one_char("exportability", &a.exportability)?)
        .map_err(|e| UsageError(format!("--exportability: {e}")))?;
    let kv = a.key_version.as_bytes();
    let key_version: [u8; 2] = match kv {
        [x, y] if x.is_ascii_alphanumeric() && y.is_ascii_alphanumeric() => [*x, *y],
        _ => {
            return Err(Box::new(UsageError(
                "--key-version: 2 alphanumeric characters".into(),
            )));
        }
    };
    let mut header = KeyBlockHeader::new(version, usage, algorithm, mode);
    header.exportability = exportability;
    header.key_version = key_version;
    let block = tr31::wrap(&kbpk, &header, &key)?;
    Ok(Report::with_text(json!({ "block": block }), block.clone()))
}

fn tdes_key(name: &str, s: &str) -> Result<SecretKey, UsageError> {
    let bytes = Zeroizing::new(parse_hex(name, s)?);
    SecretKey::tdes(&bytes).map_err(|e| UsageError(format!("--{name}: {e}")))
}

fn fixed<const N: usize>(name: &str, s: &str) -> Result<[u8; N], UsageError> {
    let v = parse_hex(name, s)?;
    <[u8; N]>::try_from(v.as_slice())
        .map_err(|_| UsageError(format!("--{name}: {} bytes, expected {N}", v.len())))
}

fn emv_mk(a: MkArgs) -> CliResult {
    let imk = tdes_key("imk", &a.imk)?;
    let option = match a.option {
        OptionArg::A => MkDerivation::OptionA,
        OptionArg::B => MkDerivation::OptionB,
    };
    let mk = emv::derive_icc_mk(&imk, a.pan.trim(), a.psn.trim(), option)?;
    let hex = hex_upper(mk.as_bytes());
    Ok(Report::with_text(json!({ "mk": hex }), hex.clone()))
}

fn emv_session_key(a: SessionKeyArgs) -> CliResult {
    let mk = tdes_key("mk", &a.mk)?;
    let atc = fixed::<2>("atc", &a.atc)?;
    let sk = emv::ac_session_key(&mk, atc)?;
    let hex = hex_upper(sk.as_bytes());
    Ok(Report::with_text(json!({ "sk": hex }), hex.clone()))
}

fn emv_arqc(a: ArqcArgs) -> CliResult {
    let sk = tdes_key("sk", &a.sk)?;
    let data = parse_hex("data", &a.data)?;
    let padding = match a.padding {
        1 => Padding::Method1,
        2 => Padding::Method2,
        n => {
            return Err(Box::new(UsageError(format!(
                "--padding: {n} is not 1 or 2"
            ))));
        }
    };
    let arqc = emv::application_cryptogram(&sk, &data, padding)?;
    Ok(Report::with_text(
        json!({ "arqc": hex_upper(&arqc) }),
        hex_upper(&arqc),
    ))
}

fn emv_arpc(a: ArpcArgs) -> CliResult {
    let sk = tdes_key("sk", &a.sk)?;
    let arqc = fixed::<8>("arqc", &a.arqc)?;
    let arpc = match (a.method, &a.arc, &a.csu) {
        (1, Some(arc), None) => {
            hex_upper(&emv::arpc_method1(&sk, &arqc, &fixed::<2>("arc", arc)?)?)
        }
        (2, None, Some(csu)) => {
            let pad = match &a.pad {
                Some(p) => parse_hex("pad", p)?,
                None => Vec::new(),
            };
            hex_upper(&emv::arpc_method2(
                &sk,
                &arqc,
                &fixed::<4>("csu", csu)?,
                &pad,
            )?)
        }
        (1, _, _) => {
            return Err(Box::new(UsageError(
                "method 1 needs --arc (and no --csu)".into(),
            )));
        }
        (2, _, _) => {
            return Err(Box::new(UsageError(
                "method 2 needs --csu (and no --arc)".into(),
            )));
        }
        (m, _, _) => return Err(Box::new(UsageError(format!("--method: {m} is not 1 or 2")))),
    };
    Ok(Report::with_text(json!({ "arpc": arpc }), arpc.clone()))
}

fn sm2_verify(a: Sm2VerifyArgs) -> CliResult {
    let public = Sm2PublicKey::from_bytes(&parse_hex("public", &a.public)?)?;
    let message = parse_hex("message", &a.message)?;
    let signature = Sm2Signature::parse(&parse_hex("signature", &a.signature)?)?;
    let valid = public.verify(a.id.as_bytes(), &message, &signature)?;
    let text = if valid {
        "signature valid"
    } else {
        "signature NOT valid"
    };
    Ok(Report::with_text(json!({ "valid": valid }), text))
}

fn sm2_sign(a: Sm2SignArgs) -> CliResult {
    let d = Zeroizing::new(parse_hex("private", &a.private)?);
    let key = Sm2PrivateKey::from_bytes(&d)?;
    let message = parse_hex("message", &a.message)?;
    let id = if a.id.is_empty() {
        DEFAULT_ID
    } else {
        a.id.as_bytes()
    };
    let sig = key.sign(id, &message)?;
    let raw = hex_upper(&sig.to_bytes());
    let der = hex_upper(&sig.to_der()?);
    Ok(Report::with_text(
        json!({ "signature": raw, "der": der, "public": hex_upper(&key.public_key().to_bytes()) }),
        raw.clone(),
    ))
}
