//! SHA-1, SHA-256, SM3: one-shot and incremental.

use smartpos_crypto::hash::{self, HashAlgorithm, Hasher};

fn h(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap()
}

// id: sm3-3, source: GB/T 32905 A.1; bcgit/bc-java SM3DigestTest @3e434fb; openssl evpmd_sm3.txt @b6d76a1
#[test]
fn sm3_abc() {
    let d = hash::sm3(b"abc").unwrap();
    assert_eq!(
        hex::encode_upper(d),
        "66C7F0F462EEEDD9D1F2D46BDC10E4E24167C4875CF2F7A2297DA02B8F4BA8E0"
    );
}

// id: sm3-64, source: GB/T 32905 A.2; same sources as sm3-3
#[test]
fn sm3_64_bytes_one_shot_and_incremental() {
    let msg = b"abcd".repeat(16);
    let expected = "DEBE9FF92275B8A138604889C18E5A4D6FDB70E5387E5765293DCBA39C0C5732";
    assert_eq!(hex::encode_upper(hash::sm3(&msg).unwrap()), expected);
    // Incremental, split at every position.
    for split in 0..=msg.len() {
        let mut hasher = Hasher::new(HashAlgorithm::Sm3).unwrap();
        hasher.update(&msg[..split]).unwrap();
        hasher.update(&msg[split..]).unwrap();
        assert_eq!(
            hex::encode_upper(hasher.finish().unwrap()),
            expected,
            "split {split}"
        );
    }
    assert_eq!(
        hex::encode_upper(HashAlgorithm::Sm3.digest(&msg).unwrap()),
        expected
    );
}

// FIPS 180-4 examples (NIST CSRC "Examples with intermediate values", message "abc").
#[test]
fn sha1_and_sha256_abc() {
    assert_eq!(
        hex::encode_upper(hash::sha1(b"abc")),
        "A9993E364706816ABA3E25717850C26C9CD0D89D"
    );
    assert_eq!(
        hex::encode_upper(hash::sha256(b"abc")),
        "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD"
    );
    let mut sha1 = Hasher::new(HashAlgorithm::Sha1).unwrap();
    sha1.update(b"a").unwrap();
    sha1.update(b"bc").unwrap();
    assert_eq!(sha1.finish().unwrap(), hash::sha1(b"abc").to_vec());
    let mut sha256 = Hasher::new(HashAlgorithm::Sha256).unwrap();
    sha256.update(b"ab").unwrap();
    sha256.update(b"c").unwrap();
    assert_eq!(sha256.finish().unwrap(), hash::sha256(b"abc").to_vec());
}

#[test]
fn empty_inputs_and_lengths() {
    // SHA-1("") and SHA-256("") (FIPS 180-4).
    assert_eq!(
        hex::encode_upper(hash::sha1(b"")),
        "DA39A3EE5E6B4B0D3255BFEF95601890AFD80709"
    );
    assert_eq!(
        hex::encode_upper(hash::sha256(b"")),
        "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855"
    );
    // SM3("") as computed by GmSSL / OpenSSL (evpmd_sm3.txt has no empty case; cross-check with
    // the EVP API directly).
    let evp = openssl::hash::hash(openssl::hash::MessageDigest::sm3(), b"").unwrap();
    assert_eq!(hash::sm3(b"").unwrap().to_vec(), evp.to_vec());
    assert_eq!(HashAlgorithm::Sha1.output_len(), 20);
    assert_eq!(HashAlgorithm::Sm3.output_len(), 32);
    assert_eq!(
        HashAlgorithm::from_emv_indicator(0x01),
        Some(HashAlgorithm::Sha1)
    );
    assert_eq!(HashAlgorithm::from_emv_indicator(0x02), None);
    assert_ne!(h("00"), hash::sm3(b"abd").unwrap().to_vec());
    assert_ne!(hash::sm3(b"abc").unwrap(), hash::sm3(b"abd").unwrap());
}
