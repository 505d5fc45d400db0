//! Unit tests of the signal helpers: the challenge vector, compact JSON, public keys and ECDSA over SHA-1.

use secrecy::SecretString;

use super::*;

#[test]
fn challenge_response_matches_the_reference_vector() {
    // Reference §7 vector 3 (eBay's Java and .NET SDK tests).
    let response = challenge_response(
        "a8628072-3d33-45ee-9004-bee86830a22d",
        &SecretString::from("71745723-d031-455c-bfa5-f90d11b4f20a"),
        "http://www.testendpoint.com/webhook",
    );
    assert_eq!(response, "ca527df75caa230092d7e90484071e8f05d63068f1317973d6a3a42593734bbb");
    // Order matters: the token first would be another hash; so would a trailing slash.
    let swapped = challenge_response(
        "71745723-d031-455c-bfa5-f90d11b4f20a",
        &SecretString::from("a8628072-3d33-45ee-9004-bee86830a22d"),
        "http://www.testendpoint.com/webhook",
    );
    assert_ne!(swapped, response);
    let slash = challenge_response(
        "a8628072-3d33-45ee-9004-bee86830a22d",
        &SecretString::from("71745723-d031-455c-bfa5-f90d11b4f20a"),
        "http://www.testendpoint.com/webhook/",
    );
    assert_ne!(slash, response);
}

#[track_caller]
fn check_compact(input: &str, expect: Option<&str>) {
    let got = compact_json(input.as_bytes()).map(|b| String::from_utf8(b).unwrap());
    assert_eq!(got.as_deref(), expect, "{input}");
}

#[test]
fn compact_json_is_what_json_stringify_gives() {
    check_compact(r#"{"a":1}"#, Some(r#"{"a":1}"#));
    check_compact("{ \"b\" : [ 1 , 2 ],\n \"a\" : { } }", Some(r#"{"b":[1,2],"a":{}}"#));
    check_compact(r#"{"s":"x y\tz"}"#, Some(r#"{"s":"x y\tz"}"#));
    // Escapes are normalized the JSON.stringify way: `\/` and `\u00e9` become `/` and `é`.
    check_compact(r#"{"u":"a\/b \u00e9 \" \\"}"#, Some("{\"u\":\"a/b é \\\" \\\\\"}"));
    check_compact(r#"{"n":"line\u000Abreak"}"#, Some(r#"{"n":"line\nbreak"}"#));
    check_compact(r#"{"a":1"#, None);
    check_compact("", None);
    check_compact(r#"{"a":1}x"#, None);
}

#[test]
fn public_keys_parse_on_one_line_or_many() {
    use p256::ecdsa::SigningKey;
    use p256::pkcs8::EncodePublicKey as _;

    let signing = SigningKey::from_slice(&[3u8; 32]).unwrap();
    let der = data_encoding::BASE64.encode(signing.verifying_key().to_public_key_der().unwrap().as_bytes());
    let one_line = format!("-----BEGIN PUBLIC KEY-----{der}-----END PUBLIC KEY-----");
    let lines =
        format!("-----BEGIN PUBLIC KEY-----\n{}\n{}\n-----END PUBLIC KEY-----\n", &der[..64], &der[64..]);
    assert_eq!(parse_public_key(&one_line), Some(*signing.verifying_key()));
    assert_eq!(parse_public_key(&lines), Some(*signing.verifying_key()));
    assert!(parse_public_key("-----BEGIN PUBLIC KEY-----bm90IGEga2V5-----END PUBLIC KEY-----").is_none());
    assert!(parse_public_key("garbage").is_none());
}

#[test]
fn signatures_verify_over_sha1_in_either_s_form() {
    use p256::ecdsa::SigningKey;
    use p256::ecdsa::signature::hazmat::PrehashSigner as _;

    let signing = SigningKey::from_slice(&[7u8; 32]).unwrap();
    let key = *signing.verifying_key();
    let message = br#"{"metadata":{"topic":"MARKETPLACE_ACCOUNT_DELETION"}}"#;
    let signature: Signature = signing.sign_prehash(&Sha1::digest(message)).unwrap();
    assert!(verifies(&key, message, &signature));
    // The high-S twin of a valid signature verifies too (Java does not normalize s).
    let (r, s) = signature.split_scalars();
    let high = Signature::from_scalars(r, -*s).unwrap();
    assert!(verifies(&key, message, &high));
    assert!(!verifies(&key, b"{}", &signature));
    // SHA-256 is not what eBay signs with.
    let sha256_signature: Signature = signing.sign_prehash(&Sha256::digest(message)).unwrap();
    assert!(!verifies(&key, message, &sha256_signature));
}
