//! `smartpos crypto tr31|emv|sm3|sm2` run as a real process; JSON checked against published
//! vectors (ids and sources from shared/vectors/published.md, others cited inline).

mod common;

use common::{json, run_text};

// id: tr31-openemv-2, source: openemv/tr31 @d230c2846686d92cf36775141250b3a5fe814363
// test/tr31_decrypt_test.c test2_tr31_ascii (TR-31:2018, A.7.2.1)
#[test]
fn tr31_unwrap_version_a() {
    let v = json(&[
        "crypto",
        "tr31",
        "unwrap",
        "--kbpk",
        "89E88CF7931444F334BD7547FC3F380C",
        "--block",
        "A0072P0TE00E0000F5161ED902807AF26F1D62263644BD24192FDB3193C730301CEE8701",
        "--json",
    ]);
    assert_eq!(v["version"], "A");
    assert_eq!(v["usage"], "P0");
    assert_eq!(v["algorithm"], "T");
    assert_eq!(v["mode"], "E");
    assert_eq!(v["key"], "F039121BEC83D26B169BDCD5B22AAF8F");
    assert_eq!(v["kcv"], "CB9DEA");
}

// id: tr31-openemv-1a, source: openemv/tr31 @d230c2846686d92cf36775141250b3a5fe814363
// test/tr31_decrypt_test.c test1_tr31_format_a; the version D block is test7 of the same file
// (@093e741e3ba8a160852e1169b0401c545d4f2f90, Thales payShield 10k).
#[test]
fn tr31_unwrap_thales_a_and_d() {
    let v = json(&[
        "crypto",
        "tr31",
        "unwrap",
        "--kbpk",
        "EFE0853B256B583D868F251CE99EA1D9",
        "--block",
        "A0072K0TN00N0000F40D5672C6D0EC86F860BA88D44D00F0CA9A8CE8CD2F640287A9A9EB",
        "--json",
    ]);
    assert_eq!(v["key"], "5DB50B454F8389ADCE573BE50861F2BF");
    assert_eq!(v["kcv"], "5C9405");
    assert_eq!(v["usage"], "K0");
    let v = json(&[
        "crypto",
        "tr31",
        "unwrap",
        "--kbpk",
        "4141414141414141414141414141414141414141414141414141414141414141",
        "--block",
        "D0112B0TN00N000037DB9B046B7B0048785690759580ABC3B9842AB4BB7717B49E92528E575785D8123559376A2553B27BE94F054F4E971C",
        "--json",
    ]);
    assert_eq!(v["version"], "D");
    assert_eq!(v["usage"], "B0");
    assert_eq!(v["key"], "1FA1F7CEC798D91545DA8AE0C7796BD9");
}

#[test]
fn tr31_tampered_block_fails() {
    let (code, stdout, stderr) = run_text(&[
        "crypto",
        "tr31",
        "unwrap",
        "--kbpk",
        "89E88CF7931444F334BD7547FC3F380C",
        "--block",
        "A0072P0TE00E0000F5161ED902807AF26F1D62263644BD24192FDB3193C730301CEE8702",
        "--json",
    ]);
    assert_eq!(code, 1);
    assert!(stdout.is_empty());
    assert!(stderr.contains("MAC"), "{stderr}");
}

#[test]
fn tr31_wrap_then_unwrap_b_and_d() {
    for (version, kbpk) in [
        ("B", "89E88CF7931444F334BD7547FC3F380C"),
        ("D", "000102030405060708090A0B0C0D0E0F"),
    ] {
        let v = json(&[
            "crypto",
            "tr31",
            "wrap",
            "--kbpk",
            kbpk,
            "--key",
            "F039121BEC83D26B169BDCD5B22AAF8F",
            "--version",
            version,
            "--usage",
            "P0",
            "--algorithm",
            "T",
            "--mode",
            "E",
            "--exportability",
            "N",
            "--json",
        ]);
        let block = v["block"].as_str().unwrap().to_string();
        assert!(block.starts_with(&format!("{version}0")), "{block}");
        assert_eq!(&block[5..12], "P0TE00N");
        let u = json(&[
            "crypto", "tr31", "unwrap", "--kbpk", kbpk, "--block", &block, "--json",
        ]);
        assert_eq!(u["key"], "F039121BEC83D26B169BDCD5B22AAF8F");
        assert_eq!(u["version"], version);
        assert_eq!(u["exportability"], "N");
    }
    let (code, _, stderr) = run_text(&[
        "crypto",
        "tr31",
        "wrap",
        "--kbpk",
        "89E88CF7931444F334BD7547FC3F380C",
        "--key",
        "00",
        "--version",
        "B",
        "--usage",
        "P0",
        "--algorithm",
        "Q",
        "--mode",
        "E",
        "--json",
    ]);
    assert_eq!(code, 2, "{stderr}");
}

// id: emv-mk-a-12345678901234567-01, source: knovichikhin/pyemv @cf6b82d7a1e1b57c87d18a2caae2115f8b3e4309
// pyemv/kd.py derive_icc_mk_a docstring; option B: pyemv/__init__.py docstring @9ffd51f7
// (PAN 99012345678901234, PSN 45).
#[test]
fn emv_mk_options() {
    let v = json(&[
        "crypto",
        "emv",
        "mk",
        "--imk",
        "0123456789ABCDEFFEDCBA9876543210",
        "--pan",
        "12345678901234567",
        "--psn",
        "01",
        "--json",
    ]);
    assert_eq!(v["mk"], "73AD54688CEF2934B0979857E3C719F1");
    let v = json(&[
        "crypto",
        "emv",
        "mk",
        "--imk",
        "0123456789ABCDEFFEDCBA9876543210",
        "--pan",
        "99012345678901234",
        "--psn",
        "45",
        "--option",
        "b",
        "--json",
    ]);
    assert_eq!(v["mk"], "985EC4FD3EDF6162E31AF1C7D0543416");
    let (code, _, _) = run_text(&[
        "crypto", "emv", "mk", "--imk", "0123", "--pan", "1", "--json",
    ]);
    assert_eq!(code, 2);
    let (code, _, stderr) = run_text(&[
        "crypto",
        "emv",
        "mk",
        "--imk",
        "0123456789ABCDEFFEDCBA9876543210",
        "--pan",
        "12AB",
        "--json",
    ]);
    assert_eq!(code, 1);
    assert!(stderr.contains("PAN"), "{stderr}");
}

// id: emv-csk-doc, source: knovichikhin/pyemv @cf6b82d7a1e1b57c87d18a2caae2115f8b3e4309
// pyemv/kd.py derive_common_sk docstring (R = 001C000000000000, i.e. ATC 001C)
#[test]
fn emv_session_key() {
    let v = json(&[
        "crypto",
        "emv",
        "session-key",
        "--mk",
        "0123456789ABCDEFFEDCBA9876543210",
        "--atc",
        "001C",
        "--json",
    ]);
    assert_eq!(v["sk"], "E9FB384AF807B940FEDCEA613461B0C4");
    let (code, _, _) = run_text(&[
        "crypto",
        "emv",
        "session-key",
        "--mk",
        "0123456789ABCDEFFEDCBA9876543210",
        "--atc",
        "1C",
        "--json",
    ]);
    assert_eq!(code, 2);
}

// id: emv-ac-doc-1, source: knovichikhin/pyemv @cf6b82d7a1e1b57c87d18a2caae2115f8b3e4309
// pyemv/ac.py module docstring
#[test]
fn emv_arqc_and_arpc() {
    let sk = "29B33180E567CE38EA4CBC9D753B0E61";
    let v = json(&[
        "crypto",
        "emv",
        "arqc",
        "--sk",
        sk,
        "--data",
        "0123456789ABCDEF0123456789ABCDEF",
        "--json",
    ]);
    assert_eq!(v["arqc"], "FA624250B008B59A");
    let v = json(&[
        "crypto",
        "emv",
        "arqc",
        "--sk",
        sk,
        "--data",
        "0123456789ABCDEF0123456789ABCDEF",
        "--padding",
        "2",
        "--json",
    ]);
    assert_eq!(v["arqc"], "FA624250B008B59A");
    let v = json(&[
        "crypto",
        "emv",
        "arpc",
        "--method",
        "1",
        "--sk",
        sk,
        "--arqc",
        "FA624250B008B59A",
        "--arc",
        "0000",
        "--json",
    ]);
    assert_eq!(v["arpc"], "45D4255EEF10C920");
    let v = json(&[
        "crypto",
        "emv",
        "arpc",
        "--method",
        "2",
        "--sk",
        sk,
        "--arqc",
        "FA624250B008B59A",
        "--csu",
        "00000000",
        "--json",
    ]);
    assert_eq!(v["arpc"], "CB56FA40");
    let (code, _, _) = run_text(&[
        "crypto",
        "emv",
        "arpc",
        "--method",
        "2",
        "--sk",
        sk,
        "--arqc",
        "FA624250B008B59A",
        "--arc",
        "0000",
        "--json",
    ]);
    assert_eq!(code, 2);
    let (code, _, _) = run_text(&[
        "crypto",
        "emv",
        "arqc",
        "--sk",
        sk,
        "--data",
        "00",
        "--padding",
        "3",
        "--json",
    ]);
    assert_eq!(code, 2);
}

// id: sm3-3 and sm3-64, source: GB/T 32905 A.1/A.2; bcgit/bc-java SM3DigestTest @3e434fb;
// openssl/openssl evpmd_sm3.txt @b6d76a1
#[test]
fn sm3_digests() {
    let v = json(&["crypto", "sm3", "--data", "616263", "--json"]);
    assert_eq!(
        v["digest"],
        "66C7F0F462EEEDD9D1F2D46BDC10E4E24167C4875CF2F7A2297DA02B8F4BA8E0"
    );
    let data = "61626364".repeat(16);
    let v = json(&["crypto", "sm3", "--data", &data, "--json"]);
    assert_eq!(
        v["digest"],
        "DEBE9FF92275B8A138604889C18E5A4D6FDB70E5387E5765293DCBA39C0C5732"
    );
}

// GM/T 0003.5-2012 Annex A (GB/T 32918.5-2017 Annex A) signature example on sm2p256v1, ID
// 1234567812345678, message "message digest" (also in GmSSL's sm2 tests).
const SM2_PUBLIC: &str = "0409F9DF311E5421A150DD7D161E4BC5C672179FAD1833FC076BB08FF356F35020CCEA490CE26775A52DC6EA718CC1AA600AED05FBF35E084A6632F6072DA9AD13";
const SM2_SIG: &str = "F5A03B0648D2C4630EEAC513E1BB81A15944DA3827D5B74143AC7EACEEE720B3B1B6AA29DF212FD8763182BC0D421CA1BB9038FD1F7F42D4840B69C485BBC1AA";
const MESSAGE_DIGEST_HEX: &str = "6D65737361676520646967657374";

#[test]
fn sm2_verify_standard_example() {
    let v = json(&[
        "crypto",
        "sm2",
        "verify",
        "--public",
        SM2_PUBLIC,
        "--id",
        "1234567812345678",
        "--message",
        MESSAGE_DIGEST_HEX,
        "--signature",
        SM2_SIG,
        "--json",
    ]);
    assert_eq!(v["valid"], true);
    // Another ID: not valid, still exit 0.
    let v = json(&[
        "crypto",
        "sm2",
        "verify",
        "--public",
        SM2_PUBLIC,
        "--id",
        "ALICE123@YAHOO.COM",
        "--message",
        MESSAGE_DIGEST_HEX,
        "--signature",
        SM2_SIG,
        "--json",
    ]);
    assert_eq!(v["valid"], false);
    // Malformed public key: error exit.
    let (code, stdout, _) = run_text(&[
        "crypto",
        "sm2",
        "verify",
        "--public",
        "04ABCD",
        "--message",
        "00",
        "--signature",
        SM2_SIG,
        "--json",
    ]);
    assert_ne!(code, 0);
    assert!(stdout.is_empty());
}

#[test]
fn sm2_keygen_sign_verify() {
    let k = json(&["crypto", "sm2", "keygen", "--json"]);
    let private = k["private"].as_str().unwrap().to_string();
    let public = k["public"].as_str().unwrap().to_string();
    assert_eq!(private.len(), 64);
    assert!(public.starts_with("04") && public.len() == 130);
    let s = json(&[
        "crypto",
        "sm2",
        "sign",
        "--private",
        &private,
        "--id",
        "POS-0001",
        "--message",
        "CAFE",
        "--json",
    ]);
    assert_eq!(s["public"], public.as_str());
    for form in ["signature", "der"] {
        let sig = s[form].as_str().unwrap();
        let v = json(&[
            "crypto",
            "sm2",
            "verify",
            "--public",
            &public,
            "--id",
            "POS-0001",
            "--message",
            "CAFE",
            "--signature",
            sig,
            "--json",
        ]);
        assert_eq!(v["valid"], true, "{form}");
    }
}
