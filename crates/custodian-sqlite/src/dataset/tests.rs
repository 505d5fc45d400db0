//! Unit tests of retention keys, statement shapes and stored order lines.

use super::*;

#[test]
fn retention_keys_parse_back_to_their_columns() {
    let cases: [(RecordKind, &str, Option<Vec<&str>>); 9] = [
        (
            RecordKind::ReportRow,
            "meta:act_1 ad obj-1 2024-12-01",
            Some(vec!["meta:act_1", "ad", "obj-1", "2024-12-01"]),
        ),
        (RecordKind::ReportRow, "meta:act_1 nonsense obj-1 2024-12-01", None),
        (RecordKind::ReportRow, "meta:act_1 ad obj-1 2024-13-01", None),
        (RecordKind::ReportRow, "meta:act_1 ad obj-1", None),
        (RecordKind::Campaign, "meta:act_1 cmp-1", Some(vec!["meta:act_1", "cmp-1"])),
        (RecordKind::Order, "ebay:user-1  o-1", None),
        (
            RecordKind::StockLevel,
            "amazon:A1/ATVPDKIKX0DER sku-1 ",
            Some(vec!["amazon:A1/ATVPDKIKX0DER", "sku-1", ""]),
        ),
        (
            RecordKind::StockLevel,
            "amazon:A1/ATVPDKIKX0DER sku-1 loc-1",
            Some(vec!["amazon:A1/ATVPDKIKX0DER", "sku-1", "loc-1"]),
        ),
        (RecordKind::StockLevel, " sku-1 loc-1", None),
    ];
    for (kind, key, expect) in cases {
        let expect = expect.map(|v| v.into_iter().map(str::to_owned).collect::<Vec<_>>());
        assert_eq!(parse_key(kind, key), expect, "{kind:?} {key:?}");
    }
}

#[test]
fn placeholder_groups() {
    assert_eq!(group(3), "(?, ?, ?)");
    assert_eq!(groups(2, 3), "(?, ?), (?, ?), (?, ?)");
}

#[test]
fn day_bounds_clamp() {
    assert_eq!(midnight(None), i64::MAX);
    assert_eq!(midnight(Some(time::macros::date!(1970 - 01 - 02))), 86_400_000_000_000);
    assert_eq!(day_bound(time::macros::date!(2024 - 01 - 05)), "2024-01-05");
}

#[test]
fn stored_lines_borrow_plain_texts_and_unescape_escaped_ones() {
    let lines = vec![
        OrderLine {
            id: "L-1".parse().unwrap(),
            sku: "SKU-9".parse().unwrap(),
            quantity: 2,
            unit_price_micros: 1_990_000,
        },
        OrderLine {
            id: r#"L"2\x"#.parse().unwrap(),
            sku: r"SKU\/".parse().unwrap(),
            quantity: 1,
            unit_price_micros: -5,
        },
    ];
    let text = encode_lines(&lines).unwrap();
    assert_eq!(text, r#"[["L-1","SKU-9",2,1990000],["L\"2\\x","SKU\\/",1,-5]]"#);
    let parsed = stored_lines(&text).unwrap();
    let [StoredLine(id1, sku1, 2, 1_990_000), StoredLine(id2, sku2, 1, -5)] = parsed.as_slice() else {
        panic!("unexpected lines {parsed:?}");
    };
    assert!(matches!((id1, sku1), (Cow::Borrowed("L-1"), Cow::Borrowed("SKU-9"))));
    assert!(matches!((id2, sku2), (Cow::Owned(_), Cow::Owned(_))));
    assert_eq!((id2.as_ref(), sku2.as_ref()), (r#"L"2\x"#, r"SKU\/"));
    assert!(stored_lines(r#"[["L-1","SKU-9",2]]"#).is_err());
}
