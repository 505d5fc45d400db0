//! The text rendering of API answers: cells, tables and `field: value` lines.

use super::*;

#[test]
fn cells_show_nulls_lists_and_flags_for_people() {
    assert_eq!(cell(&Value::Null), "-");
    assert_eq!(cell(&json!(true)), "yes");
    assert_eq!(cell(&json!(["a", "b"])), "a,b");
    assert_eq!(cell(&json!([])), "-");
    assert_eq!(cell(&json!({"k": 1})), r#"{"k":1}"#);
    assert_eq!(at(&json!({"a": {"b": 3}}), "a.b"), &json!(3));
    assert_eq!(at(&json!({"a": 1}), "a.b.c"), &Value::Null);
}

#[test]
fn tables_align_columns_under_upper_case_headers() {
    let rows = [json!({"id": "acme", "name": "Acme Ltd"}), json!({"id": "b", "name": null})];
    let text = table(&rows, &[("id", "id"), ("name", "name")], "none");
    assert_eq!(text, "ID    NAME\nacme  Acme Ltd\nb     -");
    assert_eq!(table(&[], &[("id", "id")], "no tenants"), "no tenants");
}

#[test]
fn objects_describe_as_one_field_per_line() {
    let text = describe(&json!({"id": "acme", "retention_days": {}, "status": "active"}));
    assert_eq!(text, "id              acme\nretention_days  {}\nstatus          active");
}
