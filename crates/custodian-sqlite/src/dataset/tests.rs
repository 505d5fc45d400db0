//! Unit tests of retention keys and statement shapes.

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
