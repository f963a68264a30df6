//! `smartpos crypto kcv|dukpt|pinblock|mac|sm4 ...`: the symmetric-crypto tools (keys, KCVs, DUKPT,
//! PIN blocks, MACs, SM4). The TR-31/EMV/SM2/SM3 half lives in `crypto_asym.rs`.
//!
//! With `--json` each prints one object; hex is upper-case.

use clap::{Args, Subcommand, ValueEnum};
use serde_json::json;
use smartpos_crypto::cipher::{self, Mode};
use smartpos_crypto::dukpt::{aes as dukpt_aes, tdes as dukpt_tdes};
use smartpos_crypto::kcv::{self, KcvMethod};
use smartpos_crypto::key::{KeyAlgorithm, SecretKey, Zeroizing};
use smartpos_crypto::mac::{self, Padding};
use smartpos_crypto::pin::{self, Pin, PinBlockFormat};

use crate::report::{CliResult, Report, UsageError, hex_upper, parse_hex};

#[derive(Subcommand)]
pub enum Cmd {
    /// Key check value: encrypt-zeros (3 bytes) or CMAC of a zero block (5 bytes, ANSI X9.24-1:2017 A.3).
    Kcv(KcvArgs),
    /// DUKPT keys for a KSN: TDES (ANSI X9.24-1:2009) or, with --aes, AES (ANSI X9.24-3:2017).
    Dukpt(DukptArgs),
    /// ISO 9564-1 PIN blocks, formats 0-4.
    #[command(subcommand)]
    Pinblock(PinblockCmd),
    /// MACs: ISO 9797-1 algorithms 1 and 3, CMAC, UnionPay ECB MAC, SM4 CBC-MAC.
    Mac(MacArgs),
    /// SM4 (GB/T 32907-2016) encryption and decryption without padding.
    #[command(subcommand)]
    Sm4(Sm4Cmd),
    /// TR-31, EMV issuer-side crypto, SM2, SM3 (see crypto_asym.rs).
    #[command(flatten)]
    Asym(crate::crypto_asym::Cmd),
}

#[derive(Clone, Copy, ValueEnum)]
pub enum AlgArg {
    Tdes,
    Aes,
    Sm4,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum KcvMethodArg {
    Zeros,
    Cmac,
}

#[derive(Args)]
pub struct KcvArgs {
    /// Key algorithm (tdes: 8, 16 or 24 bytes; aes: 16, 24 or 32; sm4: 16).
    #[arg(long)]
    alg: AlgArg,
    /// The key, hex.
    #[arg(long)]
    key: String,
    /// KCV method (default: zeros).
    #[arg(long, value_enum, default_value = "zeros")]
    method: KcvMethodArg,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum AesKeyTypeArg {
    Aes128,
    Aes192,
    Aes256,
    Tdes2,
    Tdes3,
}

#[derive(Args)]
pub struct DukptArgs {
    /// AES DUKPT (X9.24-3) instead of TDES DUKPT (X9.24-1).
    #[arg(long)]
    aes: bool,
    /// Base derivation key, hex (TDES: 16 bytes; AES: 16, 24 or 32 bytes).
    #[arg(long)]
    bdk: String,
    /// Key serial number, hex (TDES: 10 bytes; AES: 12 bytes).
    #[arg(long)]
    ksn: String,
    /// AES only: working key type (default: the BDK's AES size).
    #[arg(long, value_enum)]
    key_type: Option<AesKeyTypeArg>,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum PinCipherArg {
    Tdes,
    Aes,
    Sm4,
}

#[derive(Subcommand)]
pub enum PinblockCmd {
    /// Build a PIN block (and encipher it with --key).
    Encode {
        /// Format 0, 1, 2, 3 or 4.
        #[arg(long)]
        format: u8,
        /// The PIN, 4-12 digits.
        #[arg(long)]
        pin: String,
        /// The PAN (formats 0, 3, 4).
        #[arg(long)]
        pan: Option<String>,
        /// PIN encryption key, hex (formats 0-3: TDES; format 4: AES, or SM4 with --cipher sm4).
        #[arg(long)]
        key: Option<String>,
        /// Cipher of --key (default: tdes for formats 0-3, aes for format 4).
        #[arg(long, value_enum)]
        cipher: Option<PinCipherArg>,
    },
    /// Decode a PIN block (decipher it first with --key).
    Decode {
        /// Format 0, 1, 2, 3 or 4.
        #[arg(long)]
        format: u8,
        /// The PIN block, hex (clear, or enciphered when --key is given).
        #[arg(long)]
        block: String,
        /// The PAN (formats 0, 3, 4).
        #[arg(long)]
        pan: Option<String>,
        /// PIN encryption key, hex.
        #[arg(long)]
        key: Option<String>,
        /// Cipher of --key (default: tdes for formats 0-3, aes for format 4).
        #[arg(long, value_enum)]
        cipher: Option<PinCipherArg>,
    },
}

#[derive(Clone, Copy, ValueEnum)]
pub enum MacAlgArg {
    /// ISO 9797-1 MAC algorithm 1 (CBC-MAC) with DES or TDES.
    #[value(name = "iso9797-1-m1")]
    Iso9797M1,
    /// ISO 9797-1 MAC algorithm 3 (ANSI X9.19 retail MAC), 16-byte key.
    #[value(name = "iso9797-1-m3")]
    Iso9797M3,
    /// CMAC (NIST SP 800-38B); AES unless --cipher tdes|sm4.
    Cmac,
    /// China UnionPay POS ECB MAC, DES or TDES key.
    CupEcb,
    /// SM4 CBC-MAC, zero IV.
    Sm4Cbc,
}

#[derive(Args)]
pub struct MacArgs {
    /// MAC algorithm.
    #[arg(long, value_enum)]
    alg: MacAlgArg,
    /// MAC key, hex.
    #[arg(long)]
    key: String,
    /// The data, hex.
    #[arg(long)]
    data: String,
    /// ISO 9797-1 padding method 1, 2 or 3 (default 1; iso9797-1 and sm4-cbc only).
    #[arg(long)]
    padding: Option<u8>,
    /// Cipher for cmac (default aes).
    #[arg(long, value_enum)]
    cipher: Option<AlgArg>,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum ModeArg {
    Ecb,
    Cbc,
}

#[derive(Args)]
pub struct Sm4Args {
    /// ecb or cbc.
    #[arg(long, value_enum)]
    mode: ModeArg,
    /// SM4 key, 16 bytes hex.
    #[arg(long)]
    key: String,
    /// IV, 16 bytes hex (cbc only; default zeros).
    #[arg(long)]
    iv: Option<String>,
    /// Data, hex, a multiple of 16 bytes.
    #[arg(long)]
    data: String,
}

#[derive(Subcommand)]
pub enum Sm4Cmd {
    /// Encrypt.
    Encrypt(Sm4Args),
    /// Decrypt.
    Decrypt(Sm4Args),
}

pub fn run(cmd: Cmd) -> CliResult {
    match cmd {
        Cmd::Kcv(a) => run_kcv(a),
        Cmd::Dukpt(a) => run_dukpt(a),
        Cmd::Pinblock(c) => run_pinblock(c),
        Cmd::Mac(a) => run_mac(a),
        Cmd::Sm4(c) => run_sm4(c),
        Cmd::Asym(cmd) => crate::crypto_asym::run(cmd),
    }
}

/// Hex of a secret (key, PIN block) into a zeroizing buffer; the error names the argument.
fn secret_hex(name: &str, value: &str) -> Result<Zeroizing<Vec<u8>>, UsageError> {
    let cleaned: Zeroizing<String> =
        Zeroizing::new(value.chars().filter(|c| !c.is_whitespace()).collect());
    smartpos_crypto::key::decode_hex_secret("value", &cleaned)
        .map_err(|e| UsageError(format!("--{name}: {e}")))
}

fn key_for(
    alg: AlgArg,
    name: &str,
    hex_text: &str,
) -> Result<SecretKey, Box<dyn std::error::Error + Send + Sync>> {
    let bytes = secret_hex(name, hex_text)?;
    let key = match alg {
        AlgArg::Tdes => SecretKey::tdes(&bytes),
        AlgArg::Aes => SecretKey::aes(&bytes),
        AlgArg::Sm4 => SecretKey::sm4(&bytes),
    };
    key.map_err(|e| Box::new(UsageError(format!("--{name}: {e}"))) as _)
}

fn run_kcv(a: KcvArgs) -> CliResult {
    let key = key_for(a.alg, "key", &a.key)?;
    let method = match a.method {
        KcvMethodArg::Zeros => KcvMethod::Zeros,
        KcvMethodArg::Cmac => KcvMethod::Cmac,
    };
    if method == KcvMethod::Cmac && key.algorithm() == KeyAlgorithm::Des {
        return Err(Box::new(UsageError(
            "--method cmac needs a 16- or 24-byte TDES key, or AES/SM4".into(),
        )));
    }
    let kcv = kcv::conventional(&key, method)?;
    let text = format!("KCV: {}", hex_upper(&kcv));
    Ok(Report::with_text(json!({ "kcv": hex_upper(&kcv) }), text))
}

fn run_dukpt(a: DukptArgs) -> CliResult {
    let bdk_bytes = secret_hex("bdk", &a.bdk)?;
    let ksn_bytes = parse_hex("ksn", &a.ksn)?;
    if !a.aes {
        if a.key_type.is_some() {
            return Err(Box::new(UsageError(
                "--key-type is for AES DUKPT (--aes)".into(),
            )));
        }
        let bdk = SecretKey::new(KeyAlgorithm::Tdes2, &bdk_bytes)
            .map_err(|e| UsageError(format!("--bdk: {e}")))?;
        let ksn =
            dukpt_tdes::Ksn::new(&ksn_bytes).map_err(|e| UsageError(format!("--ksn: {e}")))?;
        let ipek = dukpt_tdes::derive_ipek(&bdk, &ksn)?;
        let txn = dukpt_tdes::derive_transaction_key(&ipek, &ksn)?;
        let keys = dukpt_tdes::SessionKeys::from_transaction_key(ksn, txn)?;
        let value = json!({
            "ksn": hex_upper(ksn.as_bytes()),
            "ipek": hex_upper(ipek.as_bytes()),
            "txn_key": hex_upper(keys.transaction_key.as_bytes()),
            "pin_key": hex_upper(keys.pin_key.as_bytes()),
            "mac_req_key": hex_upper(keys.mac_request_key.as_bytes()),
            "mac_rsp_key": hex_upper(keys.mac_response_key.as_bytes()),
            "data_req_key": hex_upper(keys.data_request_key.as_bytes()),
            "data_rsp_key": hex_upper(keys.data_response_key.as_bytes()),
        });
        return Ok(Report::json(value));
    }
    let bdk = SecretKey::aes(&bdk_bytes).map_err(|e| UsageError(format!("--bdk: {e}")))?;
    let ksn = dukpt_aes::Ksn::new(&ksn_bytes).map_err(|e| UsageError(format!("--ksn: {e}")))?;
    let key_type = match a.key_type {
        Some(AesKeyTypeArg::Aes128) => dukpt_aes::KeyType::Aes128,
        Some(AesKeyTypeArg::Aes192) => dukpt_aes::KeyType::Aes192,
        Some(AesKeyTypeArg::Aes256) => dukpt_aes::KeyType::Aes256,
        Some(AesKeyTypeArg::Tdes2) => dukpt_aes::KeyType::Tdes2,
        Some(AesKeyTypeArg::Tdes3) => dukpt_aes::KeyType::Tdes3,
        None => dukpt_aes::KeyType::of_aes_key(&bdk)?,
    };
    let ik = dukpt_aes::derive_initial_key(&bdk, &ksn.initial_key_id())?;
    let intermediate = dukpt_aes::derive_intermediate_key(&ik, &ksn)?;
    let keys = dukpt_aes::SessionKeys::from_intermediate_key(ksn, intermediate, key_type)?;
    let value = json!({
        "ksn": hex_upper(ksn.as_bytes()),
        "initial_key": hex_upper(ik.as_bytes()),
        "txn_key": hex_upper(keys.intermediate_key.as_bytes()),
        "pin_key": hex_upper(keys.pin_key.as_bytes()),
        "mac_gen_key": hex_upper(keys.mac_generation_key.as_bytes()),
        "mac_ver_key": hex_upper(keys.mac_verification_key.as_bytes()),
        "data_enc_key": hex_upper(keys.data_encrypt_key.as_bytes()),
        "data_dec_key": hex_upper(keys.data_decrypt_key.as_bytes()),
    });
    Ok(Report::json(value))
}

fn pin_key(
    format: PinBlockFormat,
    cipher: Option<PinCipherArg>,
    hex_text: &str,
) -> Result<SecretKey, Box<dyn std::error::Error + Send + Sync>> {
    let alg = match (cipher, format) {
        (Some(PinCipherArg::Tdes), _) => AlgArg::Tdes,
        (Some(PinCipherArg::Aes), _) => AlgArg::Aes,
        (Some(PinCipherArg::Sm4), _) => AlgArg::Sm4,
        (None, PinBlockFormat::Iso4) => AlgArg::Aes,
        (None, _) => AlgArg::Tdes,
    };
    key_for(alg, "key", hex_text)
}

fn format_arg(n: u8) -> Result<PinBlockFormat, UsageError> {
    PinBlockFormat::from_number(n).map_err(|e| UsageError(format!("--format: {e}")))
}

fn run_pinblock(c: PinblockCmd) -> CliResult {
    match c {
        PinblockCmd::Encode {
            format,
            pin: digits,
            pan,
            key,
            cipher,
        } => {
            let format = format_arg(format)?;
            let p = Pin::new(&digits).map_err(|e| UsageError(format!("--pin: {e}")))?;
            let clear = pin::encode(format, &p, pan.as_deref(), &mut pin::openssl_random)?;
            let mut value = json!({ "clear": hex_upper(clear.as_bytes()) });
            if let Some(k) = key {
                let key = pin_key(format, cipher, &k)?;
                let enc = pin::encipher(&key, &clear, pan.as_deref())?;
                value["encrypted"] = json!(hex_upper(&enc));
            }
            Ok(Report::json(value))
        }
        PinblockCmd::Decode {
            format,
            block,
            pan,
            key,
            cipher,
        } => {
            let format = format_arg(format)?;
            let block = secret_hex("block", &block)?;
            let p = match key {
                Some(k) => {
                    let key = pin_key(format, cipher, &k)?;
                    pin::decrypt(&key, format, &block, pan.as_deref())?
                }
                None => pin::decode(format, &block, pan.as_deref())?,
            };
            Ok(Report::json(json!({ "pin": p.as_str() })))
        }
    }
}

fn run_mac(a: MacArgs) -> CliResult {
    let data = parse_hex("data", &a.data)?;
    let padding = match a.padding {
        Some(n) => Padding::from_number(n).map_err(|e| UsageError(format!("--padding: {e}")))?,
        None => Padding::Method1,
    };
    let m = match a.alg {
        MacAlgArg::Iso9797M1 => {
            let key = key_for(a.cipher.unwrap_or(AlgArg::Tdes), "key", &a.key)?;
            mac::cbc_mac(&key, &data, padding)?
        }
        MacAlgArg::Iso9797M3 => {
            let key = key_for(AlgArg::Tdes, "key", &a.key)?;
            mac::retail_mac(&key, &data, padding)?
        }
        MacAlgArg::Cmac => {
            if a.padding.is_some() {
                return Err(Box::new(UsageError(
                    "--padding does not apply to cmac".into(),
                )));
            }
            let key = key_for(a.cipher.unwrap_or(AlgArg::Aes), "key", &a.key)?;
            mac::cmac(&key, &data)?
        }
        MacAlgArg::CupEcb => {
            if a.padding.is_some() {
                return Err(Box::new(UsageError(
                    "--padding does not apply to cup-ecb (zero fill)".into(),
                )));
            }
            let key = key_for(AlgArg::Tdes, "key", &a.key)?;
            mac::cup_ecb_mac(&key, &data)?.to_vec()
        }
        MacAlgArg::Sm4Cbc => {
            let key = key_for(AlgArg::Sm4, "key", &a.key)?;
            mac::sm4_cbc_mac(&key, &data, padding)?
        }
    };
    Ok(Report::with_text(
        json!({ "mac": hex_upper(&m) }),
        format!("MAC: {}", hex_upper(&m)),
    ))
}

fn run_sm4(c: Sm4Cmd) -> CliResult {
    let (encrypt, a) = match c {
        Sm4Cmd::Encrypt(a) => (true, a),
        Sm4Cmd::Decrypt(a) => (false, a),
    };
    let key = key_for(AlgArg::Sm4, "key", &a.key)?;
    let data = parse_hex("data", &a.data)?;
    let (mode, iv) = match a.mode {
        ModeArg::Ecb => {
            if a.iv.is_some() {
                return Err(Box::new(UsageError("--iv is for --mode cbc".into())));
            }
            (Mode::Ecb, None)
        }
        ModeArg::Cbc => (
            Mode::Cbc,
            Some(match &a.iv {
                Some(iv) => parse_hex("iv", iv)?,
                None => vec![0u8; 16],
            }),
        ),
    };
    let out = if encrypt {
        cipher::encrypt(&key, mode, iv.as_deref(), &data)?
    } else {
        cipher::decrypt(&key, mode, iv.as_deref(), &data)?
    };
    Ok(Report::json(json!({ "data": hex_upper(&out) })))
}
