//! `smartpos crypto kcv|dukpt|pinblock|mac|sm4` run as a real process; JSON checked field by field
//! against published vectors (ids and sources from shared/vectors/published.md).

mod common;

use common::{json, run_text};

// id: dukpt-tdes-init-01 (and dukpt-tdes-ipek), source: openemv/dukpt @1d01ddafa9dac103f4eee2ad1b20483596d83012
// test/dukpt_tdes_test.c; moov-io/dukpt @65ee1a27dfd564dbb0fb89af2ca42035d06af34e pkg/des/des_test.go
#[test]
fn dukpt_tdes_init_01() {
    let v = json(&[
        "crypto",
        "dukpt",
        "--bdk",
        "0123456789ABCDEFFEDCBA9876543210",
        "--ksn",
        "FFFF9876543210E00001",
        "--json",
    ]);
    assert_eq!(v["ipek"], "6AC292FAA1315B4D858AB3A3D7D5933A");
    assert_eq!(v["txn_key"], "042666B49184CFA368DE9628D0397BC9");
    assert_eq!(v["pin_key"], "042666B49184CF5C68DE9628D0397B36");
    assert_eq!(v["mac_req_key"], "042666B4918430A368DE9628D03984C9");
    assert_eq!(v["mac_rsp_key"], "042666B46E84CFA368DE96282F397BC9");
    assert_eq!(v["data_req_key"], "448D3F076D8304036A55A3D7E0055A78");
    assert_eq!(v["data_rsp_key"], "AD7BFC8B06AD3A08A560B4105CF8D9E5");
}

// id: dukpt-aes128-ik, dukpt-aes128-02, source: openemv/dukpt @1d01dda test/dukpt_aes128_test.c
#[test]
fn dukpt_aes128_02() {
    let v = json(&[
        "crypto",
        "dukpt",
        "--aes",
        "--bdk",
        "FEDCBA9876543210F1F1F1F1F1F1F1F1",
        "--ksn",
        "123456789012345600000002",
        "--json",
    ]);
    assert_eq!(v["initial_key"], "1273671EA26AC29AFA4D1084127652A1");
    assert_eq!(v["pin_key"], "D30BDC73EC9714B000BEC66BDB7B6D09");
    assert_eq!(v["mac_gen_key"], "484C3B06E8562704528CD5B46FB12FB6");
    assert_eq!(v["data_enc_key"], "D639514AA33AC43AD9229E433D6D4E5B");
    for k in ["mac_ver_key", "data_dec_key"] {
        assert_eq!(v[k].as_str().unwrap().len(), 32, "{k}");
    }
    // An AES-128 BDK cannot derive AES-256 working keys; TDES working keys are 16 bytes.
    let (code, _, _) = run_text(&[
        "crypto",
        "dukpt",
        "--aes",
        "--bdk",
        "FEDCBA9876543210F1F1F1F1F1F1F1F1",
        "--ksn",
        "123456789012345600000002",
        "--key-type",
        "aes256",
        "--json",
    ]);
    assert_ne!(code, 0);
    let v = json(&[
        "crypto",
        "dukpt",
        "--aes",
        "--bdk",
        "FEDCBA9876543210F1F1F1F1F1F1F1F1",
        "--ksn",
        "123456789012345600000002",
        "--key-type",
        "tdes2",
        "--json",
    ]);
    assert_eq!(v["pin_key"].as_str().unwrap().len(), 32);
}

// id: pin-iso0-1234-4012345678909, source: openemv/pinblock @bb98d90 test/pinblock_format0_test.c;
// encrypted under dukpt-tdes-init-01 pin_key -> enc_pinblock.
#[test]
fn pinblock_iso0() {
    let v = json(&[
        "crypto",
        "pinblock",
        "encode",
        "--format",
        "0",
        "--pin",
        "1234",
        "--pan",
        "4012345678909",
        "--json",
    ]);
    assert_eq!(v["clear"], "041274EDCBA9876F");
    assert!(v.get("encrypted").is_none());
    let v = json(&[
        "crypto",
        "pinblock",
        "encode",
        "--format",
        "0",
        "--pin",
        "1234",
        "--pan",
        "4012345678909",
        "--key",
        "042666B49184CF5C68DE9628D0397B36",
        "--json",
    ]);
    assert_eq!(v["encrypted"], "1B9C1845EB993A7A");
    let v = json(&[
        "crypto",
        "pinblock",
        "decode",
        "--format",
        "0",
        "--block",
        "1B9C1845EB993A7A",
        "--pan",
        "4012345678909",
        "--key",
        "042666B49184CF5C68DE9628D0397B36",
        "--json",
    ]);
    assert_eq!(v["pin"], "1234");
    let v = json(&[
        "crypto",
        "pinblock",
        "decode",
        "--format",
        "0",
        "--block",
        "041274EDCBA9876F",
        "--pan",
        "4012345678909",
        "--json",
    ]);
    assert_eq!(v["pin"], "1234");
    // Bad fill is an error with a message naming the fill.
    let (code, stdout, stderr) = run_text(&[
        "crypto",
        "pinblock",
        "decode",
        "--format",
        "2",
        "--block",
        "241234FFFFFFFFFE",
        "--json",
    ]);
    assert_ne!(code, 0);
    assert!(stdout.is_empty());
    assert!(stderr.contains("fill"), "{stderr}");
}

// id: dukpt-aes128-01 enc_pinblock_fmt4 (format 4 round trip; the random half differs per run).
#[test]
fn pinblock_iso4_round_trip() {
    let key = "AF8CB133A78F8DC2D1359F18527593FB";
    let v = json(&[
        "crypto",
        "pinblock",
        "encode",
        "--format",
        "4",
        "--pin",
        "1234",
        "--pan",
        "4111111111111111",
        "--key",
        key,
        "--json",
    ]);
    assert!(v["clear"].as_str().unwrap().starts_with("441234AAAAAAAAAA"));
    let enc = v["encrypted"].as_str().unwrap().to_string();
    let v = json(&[
        "crypto",
        "pinblock",
        "decode",
        "--format",
        "4",
        "--block",
        &enc,
        "--pan",
        "4111111111111111",
        "--key",
        key,
        "--json",
    ]);
    assert_eq!(v["pin"], "1234");
    let v = json(&[
        "crypto",
        "pinblock",
        "decode",
        "--format",
        "4",
        "--block",
        "A912150391AB65A67E52883D81CE2D15",
        "--pan",
        "4111111111111111",
        "--key",
        key,
        "--json",
    ]);
    assert_eq!(v["pin"], "1234");
}

// id: mac-retail-iso9797-B4, source: RustCrypto/MACs @133c6a6f retail-mac/README.md (ISO/IEC 9797-1:2011 B.4);
// openemv/crypto @b04aa34 test/crypto_tdes2_retail_mac_test.c
#[test]
fn mac_retail_b4() {
    let data = hex::encode_upper(b"Now is the time for all ");
    let v = json(&[
        "crypto",
        "mac",
        "--alg",
        "iso9797-1-m3",
        "--key",
        "0123456789ABCDEFFEDCBA9876543210",
        "--data",
        &data,
        "--json",
    ]);
    assert_eq!(v["mac"], "A1C72E74EA3FA9B6");
    let v = json(&[
        "crypto",
        "mac",
        "--alg",
        "iso9797-1-m3",
        "--key",
        "0123456789ABCDEFFEDCBA9876543210",
        "--data",
        &data,
        "--padding",
        "2",
        "--json",
    ]);
    assert_eq!(v["mac"], "E9086230CA3BE796");
}

// id: mac-fips113-des, cmac-aes128-2, cmac-tdes2-1; UnionPay ECB MAC example of solo123/pgate
// test/integration/pos_mac_test.rb (MAC "E267B6E2" as ASCII).
#[test]
fn mac_other_algorithms() {
    let v = json(&[
        "crypto",
        "mac",
        "--alg",
        "iso9797-1-m1",
        "--key",
        "0123456789ABCDEF",
        "--data",
        "37363534333231204E6F77206973207468652074696D6520666F7220",
        "--json",
    ]);
    assert_eq!(v["mac"], "F1D30F6849312CA4");
    let v = json(&[
        "crypto",
        "mac",
        "--alg",
        "cmac",
        "--key",
        "2B7E151628AED2A6ABF7158809CF4F3C",
        "--data",
        "6BC1BEE22E409F96E93D7E117393172A",
        "--json",
    ]);
    assert_eq!(v["mac"], "070A16B46B4D4144F79BDD9DD04A287C");
    let v = json(&[
        "crypto",
        "mac",
        "--alg",
        "cmac",
        "--cipher",
        "tdes",
        "--key",
        "0123456789ABCDEF23456789ABCDEF01",
        "--data",
        "",
        "--json",
    ]);
    assert_eq!(v["mac"], "79CE52A7F786A960");
    let v = json(&[
        "crypto",
        "mac",
        "--alg",
        "cup-ecb",
        "--key",
        "2222222222222222",
        "--data",
        "1234567890ABCDEFABCDEF1234567890",
        "--json",
    ]);
    assert_eq!(v["mac"], hex::encode_upper(b"E267B6E2"));
    let v = json(&[
        "crypto",
        "mac",
        "--alg",
        "sm4-cbc",
        "--key",
        "0123456789ABCDEFFEDCBA9876543210",
        "--data",
        "0123456789ABCDEFFEDCBA9876543210",
        "--json",
    ]);
    assert_eq!(v["mac"], "681EDF34D206965E86B3E94F536E4246");
}

// id: sm4-ecb-example1, source: GB/T 32907-2016 Appendix A example 1; bc-java SM4Test.java; openssl evpciph_sm4.txt
#[test]
fn sm4_example1() {
    let v = json(&[
        "crypto",
        "sm4",
        "encrypt",
        "--mode",
        "ecb",
        "--key",
        "0123456789ABCDEFFEDCBA9876543210",
        "--data",
        "0123456789ABCDEFFEDCBA9876543210",
        "--json",
    ]);
    assert_eq!(v["data"], "681EDF34D206965E86B3E94F536E4246");
    let v = json(&[
        "crypto",
        "sm4",
        "decrypt",
        "--mode",
        "ecb",
        "--key",
        "0123456789ABCDEFFEDCBA9876543210",
        "--data",
        "681EDF34D206965E86B3E94F536E4246",
        "--json",
    ]);
    assert_eq!(v["data"], "0123456789ABCDEFFEDCBA9876543210");
    // CBC round trip with an IV.
    let iv = "000102030405060708090A0B0C0D0E0F";
    let pt = "0123456789ABCDEFFEDCBA98765432100123456789ABCDEFFEDCBA9876543210";
    let v = json(&[
        "crypto",
        "sm4",
        "encrypt",
        "--mode",
        "cbc",
        "--key",
        "0123456789ABCDEFFEDCBA9876543210",
        "--iv",
        iv,
        "--data",
        pt,
        "--json",
    ]);
    let ct = v["data"].as_str().unwrap().to_string();
    assert_ne!(ct, pt);
    let v = json(&[
        "crypto",
        "sm4",
        "decrypt",
        "--mode",
        "cbc",
        "--key",
        "0123456789ABCDEFFEDCBA9876543210",
        "--iv",
        iv,
        "--data",
        &ct,
        "--json",
    ]);
    assert_eq!(v["data"], pt);
    // Not a block multiple: error, non-zero exit.
    let (code, _, stderr) = run_text(&[
        "crypto",
        "sm4",
        "encrypt",
        "--mode",
        "ecb",
        "--key",
        "0123456789ABCDEFFEDCBA9876543210",
        "--data",
        "0011",
        "--json",
    ]);
    assert_ne!(code, 0);
    assert!(stderr.contains("multiple"), "{stderr}");
}

// KCVs: tr31-openemv-1a expected_kcv (openemv/tr31 @d230c28 test/tr31_decrypt_test.c); emv-mk-a imk_kcv (pyemv).
#[test]
fn kcv() {
    let v = json(&[
        "crypto",
        "kcv",
        "--alg",
        "tdes",
        "--key",
        "5DB50B454F8389ADCE573BE50861F2BF",
        "--json",
    ]);
    assert_eq!(v["kcv"], "5C9405");
    let v = json(&[
        "crypto",
        "kcv",
        "--alg",
        "tdes",
        "--key",
        "0123456789ABCDEFFEDCBA9876543210",
        "--json",
    ]);
    assert!(v["kcv"].as_str().unwrap().starts_with("08D7"));
    let v = json(&[
        "crypto",
        "kcv",
        "--alg",
        "aes",
        "--key",
        "2B7E151628AED2A6ABF7158809CF4F3C",
        "--method",
        "cmac",
        "--json",
    ]);
    assert_eq!(v["kcv"].as_str().unwrap().len(), 10);
    // SM4 KCV = leftmost 3 bytes of the key's encryption of a zero block.
    let v = json(&[
        "crypto",
        "kcv",
        "--alg",
        "sm4",
        "--key",
        "0123456789ABCDEFFEDCBA9876543210",
        "--json",
    ]);
    let z = json(&[
        "crypto",
        "sm4",
        "encrypt",
        "--mode",
        "ecb",
        "--key",
        "0123456789ABCDEFFEDCBA9876543210",
        "--data",
        "00000000000000000000000000000000",
        "--json",
    ]);
    assert_eq!(
        v["kcv"].as_str().unwrap(),
        &z["data"].as_str().unwrap()[..6]
    );
    let (code, _, stderr) = run_text(&["crypto", "kcv", "--alg", "aes", "--key", "0011", "--json"]);
    assert_eq!(code, 2, "{stderr}");
}

#[test]
fn bad_arguments_fail_cleanly() {
    // KSN of the wrong length for TDES DUKPT.
    let (code, stdout, stderr) = run_text(&[
        "crypto",
        "dukpt",
        "--bdk",
        "0123456789ABCDEFFEDCBA9876543210",
        "--ksn",
        "FFFF9876543210E0",
        "--json",
    ]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stdout.is_empty());
    assert!(stderr.contains("ksn"), "{stderr}");
    // A counter with 11 one bits is refused by the host derivation.
    let (code, _, stderr) = run_text(&[
        "crypto",
        "dukpt",
        "--bdk",
        "0123456789ABCDEFFEDCBA9876543210",
        "--ksn",
        "FFFF9876543210E007FF",
        "--json",
    ]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("one bits"), "{stderr}");
    // PIN too short, bad padding number, unknown format.
    let (code, _, _) = run_text(&[
        "crypto", "pinblock", "encode", "--format", "2", "--pin", "123", "--json",
    ]);
    assert_eq!(code, 2);
    let (code, _, _) = run_text(&[
        "crypto",
        "mac",
        "--alg",
        "iso9797-1-m1",
        "--key",
        "0123456789ABCDEF",
        "--data",
        "00",
        "--padding",
        "4",
        "--json",
    ]);
    assert_eq!(code, 2);
    let (code, _, _) = run_text(&[
        "crypto", "pinblock", "decode", "--format", "7", "--block", "00", "--json",
    ]);
    assert_eq!(code, 2);
}
