//! SM2 digital signatures (GB/T 32918.2-2016) on the recommended curve sm2p256v1
//! (GB/T 32918.5-2017), with the signer's distinguishing identifier and Z value.
//!
//! The Rust `openssl` crate does not expose `EVP_PKEY_CTX_set1_id`, so Z is computed here with
//! SM3 and the signature equations run on OpenSSL's `EC_GROUP`/`BIGNUM` arithmetic:
//! sign (§6.1) r = (e + x1) mod n, s = ((1 + d)^-1 · (k − r·d)) mod n;
//! verify (§7.1) t = (r + s) mod n, (x1, y1) = [s]G + [t]P_A, R = (e + x1) mod n, R = r.

use crate::CryptoError;
use crate::hash::{HashAlgorithm, Hasher};
use openssl::bn::{BigNum, BigNumContext, BigNumRef};
use openssl::ec::{EcGroup, EcGroupRef, EcPoint, PointConversionForm};
use openssl::nid::Nid;
use std::sync::OnceLock;
use zeroize::Zeroizing;

/// The default distinguishing identifier (GB/T 35276-2017 §5.3 / GM/T 0009: "1234567812345678").
pub const DEFAULT_ID: &[u8] = b"1234567812345678";
/// Uncompressed public key length: 04 || X || Y.
pub const PUBLIC_KEY_LEN: usize = 65;
/// Raw signature length: r || s.
pub const SIGNATURE_LEN: usize = 64;
/// Field element / scalar length.
pub const SCALAR_LEN: usize = 32;

/// SM2 errors. A signature that is well-formed but wrong is not an error: verify returns
/// `Ok(false)`.
#[derive(Debug, thiserror::Error)]
pub enum Sm2Error {
    /// The public key is not a 65-byte uncompressed (or 33-byte compressed) point on the curve.
    #[error("SM2 public key: {0}")]
    InvalidPublicKey(&'static str),
    /// The private key is not 32 bytes in [1, n-2].
    #[error("SM2 private key: {0}")]
    InvalidPrivateKey(&'static str),
    /// The signature encoding is malformed (not 64 bytes r||s, or not DER SEQUENCE{r,s}).
    #[error("SM2 signature: {0}")]
    InvalidSignature(&'static str),
    /// The distinguishing identifier is longer than ENTL (16 bits of bit length) allows.
    #[error("SM2 distinguishing identifier is {len} bytes; at most 8191 are allowed")]
    IdTooLong { len: usize },
    /// OpenSSL failed.
    #[error(transparent)]
    Crypto(#[from] CryptoError),
}

impl From<openssl::error::ErrorStack> for Sm2Error {
    fn from(e: openssl::error::ErrorStack) -> Self {
        Sm2Error::Crypto(CryptoError::OpenSsl(e))
    }
}

struct Curve {
    group: EcGroup,
    order: BigNum,
    /// a || b || xG || yG, 128 bytes, the curve part of Z.
    z_params: Vec<u8>,
}

fn curve() -> Result<&'static Curve, Sm2Error> {
    static CURVE: OnceLock<Curve> = OnceLock::new();
    if let Some(c) = CURVE.get() {
        return Ok(c);
    }
    let group = EcGroup::from_curve_name(Nid::SM2)?;
    let mut ctx = BigNumContext::new()?;
    let (mut p, mut a, mut b, mut order) = (
        BigNum::new()?,
        BigNum::new()?,
        BigNum::new()?,
        BigNum::new()?,
    );
    group.components_gfp(&mut p, &mut a, &mut b, &mut ctx)?;
    group.order(&mut order, &mut ctx)?;
    let (mut gx, mut gy) = (BigNum::new()?, BigNum::new()?);
    group
        .generator_opt()
        .ok_or(Sm2Error::InvalidPublicKey("curve has no generator"))?
        .affine_coordinates(&group, &mut gx, &mut gy, &mut ctx)?;
    let mut z_params = Vec::with_capacity(128);
    for v in [&a, &b, &gx, &gy] {
        z_params.extend_from_slice(&v.to_vec_padded(SCALAR_LEN as i32)?);
    }
    Ok(CURVE.get_or_init(|| Curve {
        group,
        order,
        z_params,
    }))
}

fn group() -> Result<&'static EcGroupRef, Sm2Error> {
    Ok(&curve()?.group)
}

/// An SM2 public key P_A (a point on sm2p256v1).
pub struct Sm2PublicKey {
    point: EcPoint,
    /// 04 || X || Y.
    encoded: [u8; PUBLIC_KEY_LEN],
}

impl std::fmt::Debug for Sm2PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Sm2PublicKey({})", hex::encode_upper(self.encoded))
    }
}

impl PartialEq for Sm2PublicKey {
    fn eq(&self, other: &Self) -> bool {
        self.encoded == other.encoded
    }
}
impl Eq for Sm2PublicKey {}

impl Sm2PublicKey {
    /// Decode 04 || X || Y (65 bytes) or a compressed point (33 bytes); the point must be on the
    /// curve and not the point at infinity.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, Sm2Error> {
        match (bytes.len(), bytes.first()) {
            (PUBLIC_KEY_LEN, Some(0x04)) | (33, Some(0x02 | 0x03)) => {}
            (PUBLIC_KEY_LEN | 33, _) => {
                return Err(Sm2Error::InvalidPublicKey("unknown point format byte"));
            }
            _ => return Err(Sm2Error::InvalidPublicKey("must be 65 bytes 04||X||Y")),
        }
        let group = group()?;
        let mut ctx = BigNumContext::new()?;
        let point = EcPoint::from_bytes(group, bytes, &mut ctx)
            .map_err(|_| Sm2Error::InvalidPublicKey("not a point on sm2p256v1"))?;
        Self::from_point(point, &mut ctx)
    }

    fn from_point(point: EcPoint, ctx: &mut BigNumContext) -> Result<Self, Sm2Error> {
        let group = group()?;
        if point.is_infinity(group) || !point.is_on_curve(group, ctx)? {
            return Err(Sm2Error::InvalidPublicKey(
                "not a finite point on sm2p256v1",
            ));
        }
        let bytes = point.to_bytes(group, PointConversionForm::UNCOMPRESSED, ctx)?;
        let encoded: [u8; PUBLIC_KEY_LEN] = bytes
            .as_slice()
            .try_into()
            .map_err(|_| Sm2Error::InvalidPublicKey("unexpected encoding length"))?;
        Ok(Sm2PublicKey { point, encoded })
    }

    /// A second handle on the same key.
    pub fn try_clone(&self) -> Result<Self, Sm2Error> {
        Self::from_bytes(&self.encoded)
    }

    /// 04 || X || Y.
    pub fn to_bytes(&self) -> [u8; PUBLIC_KEY_LEN] {
        self.encoded
    }

    /// Z_A = SM3(ENTL_A || ID_A || a || b || x_G || y_G || x_A || y_A) (GB/T 32918.2 §5.5).
    pub fn z_value(&self, id: &[u8]) -> Result<[u8; 32], Sm2Error> {
        let bits = id.len().checked_mul(8).filter(|b| *b <= 0xFFFF);
        let Some(bits) = bits else {
            return Err(Sm2Error::IdTooLong { len: id.len() });
        };
        let mut h = Hasher::new(HashAlgorithm::Sm3)?;
        h.update(&(bits as u16).to_be_bytes())?;
        h.update(id)?;
        h.update(&curve()?.z_params)?;
        h.update(self.encoded.get(1..).unwrap_or(&[]))?;
        let z = h.finish()?;
        z.as_slice()
            .try_into()
            .map_err(|_| Sm2Error::InvalidPublicKey("Z length"))
    }

    /// e = SM3(Z_A || M) (GB/T 32918.2 §6.1 steps A1-A2).
    pub fn message_digest(&self, id: &[u8], message: &[u8]) -> Result<[u8; 32], Sm2Error> {
        let z = self.z_value(id)?;
        let mut h = Hasher::new(HashAlgorithm::Sm3)?;
        h.update(&z)?;
        h.update(message)?;
        let e = h.finish()?;
        e.as_slice()
            .try_into()
            .map_err(|_| Sm2Error::InvalidPublicKey("digest length"))
    }

    /// Verify `signature` over `message` for the signer identified by `id`
    /// (GB/T 32918.2 §7.1). `Ok(false)` if the signature does not verify.
    pub fn verify(
        &self,
        id: &[u8],
        message: &[u8],
        signature: &Sm2Signature,
    ) -> Result<bool, Sm2Error> {
        let e = self.message_digest(id, message)?;
        self.verify_digest(&e, signature)
    }

    /// Verify over a precomputed e = SM3(Z || M) (§7.1 steps B3-B7).
    pub fn verify_digest(&self, e: &[u8; 32], signature: &Sm2Signature) -> Result<bool, Sm2Error> {
        let c = curve()?;
        let n = &c.order;
        let r = BigNum::from_slice(&signature.r)?;
        let s = BigNum::from_slice(&signature.s)?;
        // B1, B2: r', s' in [1, n-1].
        let in_range = |v: &BigNumRef| v.num_bits() > 0 && v.ucmp(n) == std::cmp::Ordering::Less;
        if !in_range(&r) || !in_range(&s) {
            return Ok(false);
        }
        let mut ctx = BigNumContext::new()?;
        // B5: t = (r' + s') mod n, t != 0.
        let mut t = BigNum::new()?;
        t.mod_add(&r, &s, n, &mut ctx)?;
        if t.num_bits() == 0 {
            return Ok(false);
        }
        // B6: (x1', y1') = [s']G + [t]P_A.
        let mut point = EcPoint::new(&c.group)?;
        point.mul_full(&c.group, &s, &self.point, &t, &mut ctx)?;
        if point.is_infinity(&c.group) {
            return Ok(false);
        }
        let (mut x1, mut y1) = (BigNum::new()?, BigNum::new()?);
        point.affine_coordinates(&c.group, &mut x1, &mut y1, &mut ctx)?;
        // B7: R = (e' + x1') mod n.
        let e = BigNum::from_slice(e)?;
        let mut big_r = BigNum::new()?;
        big_r.mod_add(&e, &x1, n, &mut ctx)?;
        Ok(big_r.ucmp(&r) == std::cmp::Ordering::Equal)
    }
}

/// An SM2 private key d_A with its public key. `Debug` shows only the public key.
pub struct Sm2PrivateKey {
    d: Zeroizing<[u8; SCALAR_LEN]>,
    public: Sm2PublicKey,
}

impl std::fmt::Debug for Sm2PrivateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sm2PrivateKey")
            .field("public", &self.public)
            .finish_non_exhaustive()
    }
}

impl Sm2PrivateKey {
    /// Generate a key pair (GB/T 32918.1 §6.1): d random in [1, n-2], P = [d]G.
    pub fn generate() -> Result<Self, Sm2Error> {
        let c = curve()?;
        let mut bound = c.order.to_owned()?;
        bound.sub_word(2)?;
        loop {
            let mut d = BigNum::new_secure()?;
            bound.rand_range(&mut d)?;
            if d.num_bits() > 0 {
                let bytes = Zeroizing::new(d.to_vec_padded(SCALAR_LEN as i32)?);
                return Self::from_bytes(&bytes);
            }
        }
    }

    /// Load d (32 bytes, big-endian) and derive P = [d]G.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, Sm2Error> {
        let arr: [u8; SCALAR_LEN] = bytes
            .try_into()
            .map_err(|_| Sm2Error::InvalidPrivateKey("must be 32 bytes"))?;
        let d = Zeroizing::new(arr);
        let c = curve()?;
        let d_bn = secure_bn(&d[..])?;
        let mut max = c.order.to_owned()?;
        max.sub_word(1)?; // d must be < n-1
        if d_bn.num_bits() == 0 || d_bn.ucmp(&max) != std::cmp::Ordering::Less {
            return Err(Sm2Error::InvalidPrivateKey("must be in [1, n-2]"));
        }
        let mut ctx = BigNumContext::new()?;
        let mut point = EcPoint::new(&c.group)?;
        point.mul_generator2(&c.group, &d_bn, &mut ctx)?;
        let public = Sm2PublicKey::from_point(point, &mut ctx)?;
        Ok(Sm2PrivateKey { d, public })
    }

    /// d as 32 bytes (secret: zeroized on drop).
    pub fn to_bytes(&self) -> Zeroizing<[u8; SCALAR_LEN]> {
        self.d.clone()
    }

    /// The public key.
    pub fn public_key(&self) -> &Sm2PublicKey {
        &self.public
    }

    /// Sign `message` as the signer identified by `id` (GB/T 32918.2 §6.1), random k.
    pub fn sign(&self, id: &[u8], message: &[u8]) -> Result<Sm2Signature, Sm2Error> {
        let e = self.public.message_digest(id, message)?;
        let n = &curve()?.order;
        loop {
            let mut k = BigNum::new_secure()?;
            n.rand_range(&mut k)?;
            if k.num_bits() == 0 {
                continue;
            }
            if let Some(sig) = self.sign_digest_with_k(&e, &k)? {
                return Ok(sig);
            }
        }
    }

    /// Sign with a caller-chosen k (GB/T 32918.2 §6.1 A3 replaced): only for reproducing the
    /// standard's worked example. `Ok(None)` if this k must be rejected (r = 0, r + k = n, s = 0).
    #[doc(hidden)]
    pub fn sign_with_k(
        &self,
        id: &[u8],
        message: &[u8],
        k: &[u8],
    ) -> Result<Option<Sm2Signature>, Sm2Error> {
        let e = self.public.message_digest(id, message)?;
        let k = secure_bn(k)?;
        let n = &curve()?.order;
        if k.num_bits() == 0 || k.ucmp(n) != std::cmp::Ordering::Less {
            return Ok(None);
        }
        self.sign_digest_with_k(&e, &k)
    }

    fn sign_digest_with_k(
        &self,
        e: &[u8; 32],
        k: &BigNumRef,
    ) -> Result<Option<Sm2Signature>, Sm2Error> {
        let c = curve()?;
        let n = &c.order;
        let mut ctx = BigNumContext::new_secure()?;
        // A4: (x1, y1) = [k]G.
        let mut kg = EcPoint::new(&c.group)?;
        kg.mul_generator2(&c.group, k, &mut ctx)?;
        let (mut x1, mut y1) = (BigNum::new()?, BigNum::new()?);
        kg.affine_coordinates(&c.group, &mut x1, &mut y1, &mut ctx)?;
        // A5: r = (e + x1) mod n; reject r = 0 or r + k = n.
        let e = BigNum::from_slice(e)?;
        let mut r = BigNum::new()?;
        r.mod_add(&e, &x1, n, &mut ctx)?;
        let mut r_plus_k = BigNum::new()?;
        r_plus_k.checked_add(&r, k)?;
        if r.num_bits() == 0 || r_plus_k.ucmp(n) == std::cmp::Ordering::Equal {
            return Ok(None);
        }
        // A6: s = ((1 + d)^-1 · (k − r·d)) mod n.
        let d = secure_bn(&self.d[..])?;
        let mut one_plus_d = BigNum::new_secure()?;
        one_plus_d.checked_add(&d, &*BigNum::from_u32(1)?)?;
        let mut inv = BigNum::new_secure()?;
        inv.mod_inverse(&one_plus_d, n, &mut ctx)?;
        let mut rd = BigNum::new_secure()?;
        rd.mod_mul(&r, &d, n, &mut ctx)?;
        let mut k_minus_rd = BigNum::new_secure()?;
        k_minus_rd.mod_sub(k, &rd, n, &mut ctx)?;
        let mut s = BigNum::new()?;
        s.mod_mul(&inv, &k_minus_rd, n, &mut ctx)?;
        if s.num_bits() == 0 {
            return Ok(None);
        }
        Ok(Some(Sm2Signature {
            r: to_scalar(&r)?,
            s: to_scalar(&s)?,
        }))
    }
}

fn secure_bn(bytes: &[u8]) -> Result<BigNum, Sm2Error> {
    let mut bn = BigNum::new_secure()?;
    bn.copy_from_slice(bytes)?;
    Ok(bn)
}

fn to_scalar(v: &BigNumRef) -> Result<[u8; SCALAR_LEN], Sm2Error> {
    let bytes = v.to_vec_padded(SCALAR_LEN as i32)?;
    bytes
        .as_slice()
        .try_into()
        .map_err(|_| Sm2Error::InvalidSignature("component longer than 32 bytes"))
}

/// An SM2 signature (r, s).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sm2Signature {
    /// r, 32 bytes big-endian.
    pub r: [u8; SCALAR_LEN],
    /// s, 32 bytes big-endian.
    pub s: [u8; SCALAR_LEN],
}

impl Sm2Signature {
    /// Decode r || s (64 bytes).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, Sm2Error> {
        if bytes.len() != SIGNATURE_LEN {
            return Err(Sm2Error::InvalidSignature("raw form must be 64 bytes r||s"));
        }
        let (r, s) = bytes.split_at(SCALAR_LEN);
        Ok(Sm2Signature {
            r: r.try_into().map_err(|_| Sm2Error::InvalidSignature("r"))?,
            s: s.try_into().map_err(|_| Sm2Error::InvalidSignature("s"))?,
        })
    }

    /// r || s.
    pub fn to_bytes(&self) -> [u8; SIGNATURE_LEN] {
        let mut out = [0u8; SIGNATURE_LEN];
        out[..SCALAR_LEN].copy_from_slice(&self.r);
        out[SCALAR_LEN..].copy_from_slice(&self.s);
        out
    }

    /// Decode the DER form SEQUENCE { r INTEGER, s INTEGER } (GB/T 35276-2017 §7.3).
    pub fn from_der(der: &[u8]) -> Result<Self, Sm2Error> {
        let sig = openssl::ecdsa::EcdsaSig::from_der(der)
            .map_err(|_| Sm2Error::InvalidSignature("not DER SEQUENCE { r, s }"))?;
        if sig.r().num_bytes() > SCALAR_LEN as i32 || sig.s().num_bytes() > SCALAR_LEN as i32 {
            return Err(Sm2Error::InvalidSignature("r or s longer than 32 bytes"));
        }
        if sig.r().is_negative() || sig.s().is_negative() {
            return Err(Sm2Error::InvalidSignature("negative r or s"));
        }
        Ok(Sm2Signature {
            r: to_scalar(sig.r())?,
            s: to_scalar(sig.s())?,
        })
    }

    /// The DER form.
    pub fn to_der(&self) -> Result<Vec<u8>, Sm2Error> {
        let sig = openssl::ecdsa::EcdsaSig::from_private_components(
            BigNum::from_slice(&self.r)?,
            BigNum::from_slice(&self.s)?,
        )?;
        Ok(sig.to_der()?)
    }

    /// Decode either form: 64 bytes raw, otherwise DER.
    pub fn parse(bytes: &[u8]) -> Result<Self, Sm2Error> {
        if bytes.len() == SIGNATURE_LEN {
            Self::from_bytes(bytes)
        } else {
            Self::from_der(bytes)
        }
    }
}
