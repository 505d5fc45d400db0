//! Tests of intake screening (MIN-3): card numbers flagged and look-alikes not, configured patterns, error
//! messages that never echo the text, and properties over random text.

use expect_test::expect;
use proptest::prelude::*;

use super::*;

/// Screens `text` with no extra patterns and compares the card findings as `(start, len)`.
#[track_caller]
fn check(text: &str, expect: &[(usize, usize)]) {
    let got: Vec<(usize, usize)> = match screen(text, &[]) {
        Ok(()) => Vec::new(),
        Err(IntakeError::Rejected(findings)) => findings
            .into_iter()
            .map(|f| {
                assert_eq!(f.kind, FindingKind::CardNumber);
                (f.start, f.len)
            })
            .collect(),
    };
    assert_eq!(got, expect, "text {text:?}");
}

#[test]
fn card_numbers_are_flagged() {
    for card in [
        "4111 1111 1111 1111",
        "4111-1111-1111-1111",
        "4111111111111111",
        "5555555555554444",
        "5555 5555 5555 4444",
        "378282246310005",
        "3782 822463 10005",
        "3782-822463-10005",
        "6011111111111117",
        "3530111333300000",
        "4000056655665556",
        "2223003122003222",
        "6200000000000005",
        // 19-digit Visa, alone and as 4-4-4-4-3.
        "4111111111111111110",
        "4111 1111 1111 1111 110",
        // 14-digit Diners as 4-6-4.
        "3056 930902 5904",
        // 13-digit Visa as 4-4-4-1.
        "4222 2222 2222 2",
    ] {
        check(card, &[(0, card.len())]);
        let sentence = format!("Customer card: {card}, please charge it.");
        check(&sentence, &[(15, card.len())]);
        check(&format!("({card})"), &[(1, card.len())]);
        check(&format!("card#{card}."), &[(5, card.len())]);
    }
}

#[test]
fn card_positions_and_neighbours() {
    check("a 4111111111111111 b 5555555555554444", &[(2, 16), (21, 16)]);
    check("4111 1111 1111 1111 12/25 cvv 123", &[(0, 19)]);
    check("x\n4111-1111-1111-1111\n", &[(2, 19)]);
    check("é 4111111111111111", &[(3, 16)]);
    check("ref-4111111111111111", &[(4, 16)]);
    // A fifth full group: the first four still form a card.
    check("4111 1111 1111 1111 1111", &[(0, 19)]);
}

#[test]
fn look_alikes_are_not_flagged() {
    for text in [
        // Amazon order ids.
        "902-1845936-5435065",
        "113-5555555-5555555",
        "order 113-5555555-5555555 shipped",
        // TikTok Shop order ids: 18 digits starting 57 or 58, Luhn-valid or not.
        "576461413038785752",
        "576461413038785750",
        "580000000000000008",
        "TikTok order 576461413038785752",
        // eBay order ids.
        "12-34567-89012",
        // Phone numbers.
        "+1 480-386-0930",
        "+44 20 7946 0958",
        "4155552671",
        "(415) 555-2671",
        // Unix timestamps in seconds and milliseconds.
        "1700000000",
        "1700000000000",
        "1700000000.123",
        // ISO dates and times.
        "2024-01-15",
        "2024-01-15T10:30:00Z",
        "2024-01-15 10:30:00.123456+02:00",
        // UUIDs.
        "550e8400-e29b-41d4-a716-446655440000",
        "12345678-1234-1234-1234-123456789012",
        // IBANs.
        "DE89 3704 0044 0532 0130 00",
        "DE89370400440532013000",
        "GB29 NWBK 6016 1331 9268 19",
        "GB29NWBK60161331926819",
        "FR76 3000 6000 0112 3456 7890 189",
        "IBAN: FR14 2004 1010 0505 0001 3M02 606",
        // Card-shaped but part of a longer token.
        "x4111111111111111",
        "4111111111111111x",
        "id_4111111111111111",
        "14111111111111111",
        "41111111111111111111",
        "4111111111111111.5",
        "1.4111111111111111",
        // Fails Luhn.
        "4111111111111112",
        "4111 1111 1111 1112",
        // Luhn-valid but no issuer at that length.
        "1234567812345670",
        "4111111111111111111111111",
        // Amex length with a Visa prefix, Visa prefix at 15 digits.
        "411111111111116",
        // Wrong groupings and mixed separators.
        "41 1111 1111 1111 11",
        "4111 1111-1111 1111",
        "4111  1111  1111  1111",
        "4111--1111--1111--1111",
        "411 111 111 111 111 1",
        // Plain prose.
        "",
        "Call me at 10:30 about invoice 2024-117, total 1,234,567.89 USD.",
    ] {
        check(text, &[]);
    }
}

#[test]
fn luhn_and_issuers() {
    assert!(luhn(&[4, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]));
    assert!(!luhn(&[4, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2]));
    let digits = |s: &str| s.bytes().map(|b| b - b'0').collect::<Vec<u8>>();
    for (number, accepted) in [
        ("4111111111111", true),
        ("41111111111111", false),
        ("5100000000000000", true),
        ("5600000000000000", true),
        ("2221000000000000", true),
        ("2720000000000000", true),
        ("2721000000000000", false),
        ("340000000000000", true),
        ("3400000000000000", false),
        ("6440000000000000", true),
        ("3528000000000000", true),
        ("3590000000000000", false),
        ("30500000000000", true),
        ("30600000000000", false),
        ("36000000000000", true),
        ("62000000000000000", true),
        ("5000000000000", true),
        ("570000000000000000", false),
        ("5700000000000000000", true),
        ("1000000000000000", false),
        ("9000000000000000", false),
    ] {
        assert_eq!(issuer_accepts(&digits(number)), accepted, "{number}");
    }
}

#[test]
fn configured_patterns() {
    let patterns = [
        SensitivePattern::keyword("password", "password").unwrap(),
        SensitivePattern::keyword("ssn label", "social security").unwrap(),
        SensitivePattern::digit_run("national id", 9, 9).unwrap(),
    ];
    #[track_caller]
    fn check_patterns(patterns: &[SensitivePattern], text: &str, expect: &[(&str, usize, usize)]) {
        let got: Vec<(String, usize, usize)> = match screen(text, patterns) {
            Ok(()) => Vec::new(),
            Err(IntakeError::Rejected(findings)) => findings
                .into_iter()
                .map(|f| match f.kind {
                    FindingKind::CardNumber => ("card".to_owned(), f.start, f.len),
                    FindingKind::Pattern(name) => (name, f.start, f.len),
                })
                .collect(),
        };
        let expect: Vec<(String, usize, usize)> =
            expect.iter().map(|(n, s, l)| ((*n).to_owned(), *s, *l)).collect();
        assert_eq!(got, expect, "text {text:?}");
    }
    check_patterns(&patterns, "the Password is here", &[("password", 4, 8)]);
    check_patterns(&patterns, "PASSWORD: x; password.", &[("password", 0, 8), ("password", 13, 8)]);
    check_patterns(&patterns, "passwords and mypassword and password_hint", &[]);
    check_patterns(&patterns, "her Social  Security number", &[]);
    check_patterns(&patterns, "her Social Security number", &[("ssn label", 4, 15)]);
    check_patterns(&patterns, "id 123456789 ok", &[("national id", 3, 9)]);
    check_patterns(&patterns, "id 123-45-6789, 12345678, 1234567890, a123456789", &[]);
    check_patterns(&patterns, "card 4111111111111111 password", &[("card", 5, 16), ("password", 22, 8)]);
    // Offsets are bytes of the original text, also after multi-byte characters.
    check_patterns(&patterns, "ÄÖÜ PASSWORD", &[("password", 7, 8)]);
    let german = [SensitivePattern::keyword("street", "straße").unwrap()];
    check_patterns(&german, "Hauptstraße 1, STRASSE, Straße", &[("street", 25, 7)]);
    check_patterns(&patterns, "", &[]);
}

#[test]
fn pattern_constructors_validate() {
    assert_eq!(SensitivePattern::keyword("", "x"), Err(PatternError::EmptyName));
    assert_eq!(SensitivePattern::keyword("  ", "x"), Err(PatternError::EmptyName));
    assert_eq!(SensitivePattern::keyword("a`b", "x"), Err(PatternError::NameBadChar));
    assert_eq!(SensitivePattern::keyword("a\nb", "x"), Err(PatternError::NameBadChar));
    assert_eq!(SensitivePattern::keyword("n".repeat(65), "x"), Err(PatternError::NameTooLong));
    assert_eq!(SensitivePattern::keyword("n", ""), Err(PatternError::EmptyKeyword));
    assert_eq!(SensitivePattern::keyword("n", " pin"), Err(PatternError::KeywordBadChar));
    assert_eq!(SensitivePattern::keyword("n", "pin!"), Err(PatternError::KeywordBadChar));
    assert_eq!(SensitivePattern::keyword("n", "a\tb"), Err(PatternError::KeywordBadChar));
    assert_eq!(SensitivePattern::keyword("n", &"k".repeat(101)), Err(PatternError::KeywordTooLong));
    assert_eq!(SensitivePattern::digit_run("n", 0, 3), Err(PatternError::DigitRange { min: 0, max: 3 }));
    assert_eq!(SensitivePattern::digit_run("n", 5, 4), Err(PatternError::DigitRange { min: 5, max: 4 }));
    assert_eq!(SensitivePattern::digit_run("n", 1, 65), Err(PatternError::DigitRange { min: 1, max: 65 }));
    assert_eq!(SensitivePattern::digit_run("tax id", 8, 11).unwrap().name(), "tax id");
    assert_eq!(SensitivePattern::keyword("cvv", "CVV").unwrap().name(), "cvv");
}

#[test]
fn messages_never_echo_the_text() {
    let text = "Jane's card is 4111 1111 1111 1111 and her pin keyword is swordfish";
    let patterns = [SensitivePattern::keyword("secret word", "swordfish").unwrap()];
    let err = screen(text, &patterns).unwrap_err();
    expect![[
        r#"text contains a payment card number at byte 15, sensitive pattern `secret word` at byte 58"#
    ]]
    .assert_eq(&err.to_string());
    let shown = format!("{err} {err:?}");
    for secret in ["4111", "1111", "swordfish", "Jane"] {
        assert!(!shown.contains(secret), "{shown}");
    }
    let single = screen("4111111111111111", &[]).unwrap_err();
    assert_eq!(single.to_string(), "text contains a payment card number at byte 0");
}

fn luhn_complete(mut digits: Vec<u8>) -> String {
    digits.push(0);
    let check = (0..10).find(|d| {
        if let Some(last) = digits.last_mut() {
            *last = *d;
        }
        luhn(&digits)
    });
    if let (Some(check), Some(last)) = (check, digits.last_mut()) {
        *last = check;
    }
    digits.iter().map(|d| char::from(b'0' + d)).collect()
}

fn visa() -> impl Strategy<Value = String> {
    proptest::collection::vec(0u8..10, 14).prop_map(|body| {
        let mut digits = vec![4];
        digits.extend(body);
        luhn_complete(digits)
    })
}

fn words() -> impl Strategy<Value = Vec<String>> {
    proptest::collection::vec("[a-zA-Z]{1,10}[.,:;!?]?", 0..6)
}

/// Joins `before`, `item` and `after` with single spaces; returns the text and the item's byte offset.
fn embed(before: &[String], item: &str, after: &[String]) -> (String, usize) {
    let mut text = before.join(" ");
    if !text.is_empty() {
        text.push(' ');
    }
    let start = text.len();
    text.push_str(item);
    for word in after {
        text.push(' ');
        text.push_str(word);
    }
    (text, start)
}

fn group(number: &str, separator: &str) -> String {
    number
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(separator)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn luhn_valid_visa_in_words_is_always_flagged(
        number in visa(),
        separator in prop::sample::select(vec!["", " ", "-"]),
        before in words(),
        after in words(),
    ) {
        let card = group(&number, separator);
        let (text, start) = embed(&before, &card, &after);
        let findings = match screen(&text, &[]) {
            Err(IntakeError::Rejected(findings)) => findings,
            Ok(()) => Vec::new(),
        };
        prop_assert_eq!(findings, vec![Finding { kind: FindingKind::CardNumber, start, len: card.len() }], "{}", text);
    }

    #[test]
    fn phone_numbers_and_tiktok_order_ids_are_never_flagged(
        phone in "[2-9][0-9]{9}",
        style in 0usize..3,
        order in "5[78][0-9]{16}",
        amazon in "[0-9]{3}-[0-9]{7}-[0-9]{7}",
        before in words(),
        after in words(),
    ) {
        let phone = match style {
            0 => phone.clone(),
            1 => format!("+1 {}-{}-{}", &phone[..3], &phone[3..6], &phone[6..]),
            _ => format!("({}) {}-{}", &phone[..3], &phone[3..6], &phone[6..]),
        };
        for item in [&phone, &order, &amazon] {
            let (text, _) = embed(&before, item, &after);
            prop_assert_eq!(screen(&text, &[]), Ok(()), "{}", text);
        }
    }
}
