//! Dataset reads over HTTP: filters and cursor paging, buyer PII only for readers allowed to see it and
//! only when asked, every read of Confidential data counted in the audit trail (AUD-1, MIN-2).

use std::collections::BTreeSet;

use axum::http::StatusCode;
use custodian_core::personnel::Role;
use custodian_core::platform::Platform;
use serde_json::{Value, json};

use crate::grants::{Scripted, scripted};
use crate::support::Auth;

/// An eBay grant with the PII switch on, synced: 5 orders with sealed buyer PII and 3 stock levels.
async fn synced_shop() -> (Scripted, Auth) {
    let s = scripted().await;
    s.stored_grant("t1", Platform::Ebay, "g-shop").await;
    let am = s.h.login_as("am@example.com", &[Role::AccountManager], &["t1"]).await;
    let on = s.h.call("PUT", "/v1/tenants/t1/grants/g-shop/pii", &am, Some(json!({"enabled": true}))).await;
    assert_eq!(on.status, StatusCode::OK, "{}", on.text);
    let ff = s.h.login_as("ff@example.com", &[Role::Fulfillment], &["t1"]).await;
    let synced = s.h.call("POST", "/v1/tenants/t1/grants/g-shop/syncs", &ff, Some(json!({}))).await;
    assert_eq!(synced.status, StatusCode::OK, "{}", synced.text);
    (s, ff)
}

fn items<'a>(reply: &'a Value, key: &str) -> &'a Vec<Value> {
    reply[key].as_array().unwrap()
}

#[tokio::test]
async fn min_2_buyer_pii_is_opened_only_when_asked_by_a_permitted_reader_and_each_read_is_counted() {
    let (s, ff) = synced_shop().await;
    let mark = s.h.mark().await;
    let with = s.h.call("GET", "/v1/tenants/t1/orders?with_pii=true", &ff, None).await;
    assert_eq!(with.status, StatusCode::OK, "{}", with.text);
    let orders = items(&with.body, "orders");
    assert_eq!(orders.len(), 5);
    assert!(orders.iter().all(|o| o["has_buyer_pii"] == true));
    assert!(orders.iter().all(|o| o["buyer"]["name"].as_str().unwrap().starts_with("Buyer ")), "{orders:?}");
    assert_eq!(
        s.h.kinds_since(&mark).await["t1"],
        [
            "access_decided:allow:read_data:order_detail",
            "access_decided:allow:read_data:buyer_pii",
            "data_read:order_detail:5",
            "data_read:buyer_pii:5",
        ]
    );

    // Without asking, nobody sees PII; an analyst may read orders but not buyers.
    let analyst = s.h.login_as("an@example.com", &[Role::Analyst], &["t1"]).await;
    for auth in [&ff, &analyst] {
        let mark = s.h.mark().await;
        let plain = s.h.call("GET", "/v1/tenants/t1/orders", auth, None).await;
        assert_eq!(plain.status, StatusCode::OK);
        assert!(items(&plain.body, "orders").iter().all(|o| o.get("buyer").is_none()));
        assert!(!plain.text.contains("Buyer ") && !plain.text.contains("@example.com"), "{}", plain.text);
        assert_eq!(
            s.h.kinds_since(&mark).await["t1"],
            ["access_decided:allow:read_data:order_detail", "data_read:order_detail:5"]
        );
    }
    let mark = s.h.mark().await;
    let denied = s.h.call("GET", "/v1/tenants/t1/orders?with_pii=true", &analyst, None).await;
    assert_eq!((denied.status, denied.code()), (StatusCode::FORBIDDEN, "forbidden"));
    assert!(!denied.text.contains("Buyer "));
    let events = &s.h.kinds_since(&mark).await["t1"];
    assert_eq!(events.last().unwrap(), "access_decided:deny:read_data:buyer_pii", "{events:?}");
    assert!(!events.iter().any(|e| e.starts_with("data_read")), "nothing was read: {events:?}");
}

#[tokio::test]
async fn cursor_paging_walks_every_record_once() {
    let (s, ff) = synced_shop().await;
    let mut seen = BTreeSet::new();
    let mut path = "/v1/tenants/t1/orders?limit=2".to_owned();
    let mut pages = 0;
    loop {
        let page = s.h.call("GET", &path, &ff, None).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.text);
        pages += 1;
        for order in items(&page.body, "orders") {
            assert!(seen.insert(order["id"].as_str().unwrap().to_owned()), "seen twice: {order}");
        }
        match page.body["next_cursor"].as_str() {
            Some(cursor) => {
                // A keyed cursor: the page after the last order's natural key, wherever it is.
                assert!(cursor.starts_with('k'), "{cursor}");
                path = format!("/v1/tenants/t1/orders?limit=2&cursor={cursor}");
            }
            None => break,
        }
    }
    assert_eq!((seen.len(), pages), (5, 3));
    // An offset cursor (the form issued before keyed ones) still walks on by offset.
    let by_offset = s.h.call("GET", "/v1/tenants/t1/orders?limit=2&cursor=o4", &ff, None).await;
    assert_eq!(items(&by_offset.body, "orders").len(), 1, "{}", by_offset.text);
    // A keyed cursor whose key is not an order key (a stock key, base64url of `a b c`) is refused, not
    // read.
    let forged = s.h.call("GET", "/v1/tenants/t1/orders?cursor=kYSBiIGM", &ff, None).await;
    assert_eq!(forged.status, StatusCode::BAD_REQUEST, "{}", forged.text);
    let stock = s.h.call("GET", "/v1/tenants/t1/stock?grant=g-shop&account=ebay:user-1", &ff, None).await;
    assert_eq!(items(&stock.body, "stock").len(), 3, "{}", stock.text);
    let other = s.h.call("GET", "/v1/tenants/t1/stock?account=ebay:user-2", &ff, None).await;
    assert_eq!(items(&other.body, "stock").len(), 0);
}

#[tokio::test]
async fn report_rows_and_campaigns_filter_by_grant_account_and_days() {
    let s = scripted().await;
    s.stored_grant("t1", Platform::Meta, "g-ads").await;
    let auth = s.h.login_as("an@example.com", &[Role::Analyst], &["t1"]).await;
    let body = json!({"from": "2024-12-01", "to": "2024-12-03"});
    let synced = s.h.call("POST", "/v1/tenants/t1/grants/g-ads/syncs", &auth, Some(body)).await;
    assert_eq!(synced.status, StatusCode::OK, "{}", synced.text);
    let all = s.h.call("GET", "/v1/tenants/t1/report-rows", &auth, None).await;
    assert_eq!(items(&all.body, "report_rows").len(), 6);
    let one_day =
        s.h.call("GET", "/v1/tenants/t1/report-rows?from=2024-12-02&to=2024-12-02", &auth, None).await;
    let days: BTreeSet<&str> =
        items(&one_day.body, "report_rows").iter().map(|r| r["date"].as_str().unwrap()).collect();
    assert_eq!(days, BTreeSet::from(["2024-12-02"]));
    let none = s.h.call("GET", "/v1/tenants/t1/report-rows?grant=g-other", &auth, None).await;
    assert_eq!(items(&none.body, "report_rows").len(), 0);
    let mark = s.h.mark().await;
    let campaigns = s.h.call("GET", "/v1/tenants/t1/campaigns", &auth, None).await;
    assert_eq!(items(&campaigns.body, "campaigns").len(), 4);
    // Campaign metadata is Internal: the decision is audited, the read is not counted.
    assert_eq!(s.h.kinds_since(&mark).await["t1"], ["access_decided:allow:read_data:campaign_metadata"]);
}

#[tokio::test]
async fn bad_dataset_queries_are_refused() {
    let s = scripted().await;
    let auth = s.h.login_as("an@example.com", &[Role::Analyst], &["t1"]).await;
    let cases = [
        ("/v1/tenants/t1/orders?limit=0", StatusCode::UNPROCESSABLE_ENTITY),
        ("/v1/tenants/t1/orders?limit=5000", StatusCode::UNPROCESSABLE_ENTITY),
        ("/v1/tenants/t1/orders?limit=many", StatusCode::BAD_REQUEST),
        ("/v1/tenants/t1/orders?cursor=42", StatusCode::BAD_REQUEST),
        ("/v1/tenants/t1/orders?from=yesterday", StatusCode::UNPROCESSABLE_ENTITY),
        ("/v1/tenants/t1/orders?from=2025-01-02&to=2025-01-01", StatusCode::UNPROCESSABLE_ENTITY),
        ("/v1/tenants/t1/orders?account=nowhere", StatusCode::UNPROCESSABLE_ENTITY),
        ("/v1/tenants/t1/orders?grant=a%20b", StatusCode::UNPROCESSABLE_ENTITY),
        ("/v1/tenants/t1/stock?with_pii=true", StatusCode::UNPROCESSABLE_ENTITY),
        ("/v1/tenants/t1/report-rows?sort=desc", StatusCode::BAD_REQUEST),
    ];
    for (path, status) in cases {
        let mark = s.h.mark().await;
        let reply = s.h.call("GET", path, &auth, None).await;
        assert_eq!(reply.status, status, "{path}: {}", reply.text);
        assert!(s.h.since(&mark).await.is_empty(), "{path}: refused before any decision");
    }
}

/// The property names of the schema `schema` (following a `$ref` into `doc`).
fn schema_props(doc: &Value, schema: &Value) -> BTreeSet<String> {
    let schema = match schema["$ref"].as_str() {
        Some(r) => doc.pointer(r.trim_start_matches('#')).unwrap_or_else(|| panic!("unresolved {r}")),
        None => schema,
    };
    schema["properties"]
        .as_object()
        .unwrap_or_else(|| panic!("no properties: {schema}"))
        .keys()
        .cloned()
        .collect()
}

/// The dataset endpoints serialize typed views and the OpenAPI document describes exactly those: a real
/// page has the page schema's properties, and each record has the record schema's (orders without
/// `buyer` unless asked for with `with_pii=true`).
#[tokio::test]
async fn dataset_pages_are_exactly_what_the_openapi_document_describes() {
    let (s, ff) = synced_shop().await;
    let doc = s.h.call("GET", "/v1/openapi.json", &Auth::None, None).await.body;
    for (path, key, query) in
        [("orders", "orders", "?with_pii=true"), ("orders", "orders", ""), ("stock", "stock", "")]
    {
        let op = &doc["paths"][format!("/v1/tenants/{{id}}/{path}")]["get"];
        let page_schema = &op["responses"]["200"]["content"]["application/json"]["schema"];
        let page_props = schema_props(&doc, page_schema);
        let reply = s.h.call("GET", &format!("/v1/tenants/t1/{path}{query}"), &ff, None).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
        assert_eq!(reply.headers[axum::http::header::CONTENT_TYPE], "application/json", "{path}{query}");
        assert_eq!(reply.headers[axum::http::header::CACHE_CONTROL], "no-store", "{path}{query}");
        let keys: BTreeSet<String> = reply.body.as_object().unwrap().keys().cloned().collect();
        assert_eq!(keys, page_props, "{path}{query}: the page");
        let item_ref = &doc.pointer(page_schema["$ref"].as_str().unwrap().trim_start_matches('#')).unwrap()["properties"]
            [key]["items"];
        let mut item_props = schema_props(&doc, item_ref);
        if query.is_empty() {
            item_props.remove("buyer");
        }
        let records = items(&reply.body, key);
        assert!(!records.is_empty(), "{path}: nothing synced");
        for record in records {
            let keys: BTreeSet<String> = record.as_object().unwrap().keys().cloned().collect();
            assert_eq!(keys, item_props, "{path}{query}: a record");
        }
    }
    for path in ["report-rows", "campaigns"] {
        let op = &doc["paths"][format!("/v1/tenants/{{id}}/{path}")]["get"];
        let page_schema = &op["responses"]["200"]["content"]["application/json"]["schema"];
        assert!(schema_props(&doc, page_schema).contains("next_cursor"), "{path}: {page_schema}");
    }
}
