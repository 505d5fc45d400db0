//! The direct JSON writers against the `serde_json` encoding of the `Serialize` shapes they replace
//! (issue 6: same bytes, less CPU).

use super::*;
use crate::amazon::AmazonSellerConfig;
use crate::amazon::data::SellerData;

fn seller() -> AmazonSellerConfig {
    AmazonSellerConfig {
        id: "A1WRITERTEST".into(),
        store_name: "s".into(),
        marketplaces: vec!["ATVPDKIKX0DER".into(), "A2EUQ1WTGCTBG2".into()],
        orders: 400,
        skus: 25,
    }
}

fn serde_page(orders: &[Order], inc: Included, token: Option<&str>, filter: &Filter) -> String {
    let body = SearchOrdersResponse {
        orders: orders.iter().map(|o| order_26(o, inc)).collect(),
        pagination: token.map(|t| Pagination { next_token: t.to_owned() }),
        last_updated_before: filter.updated.map(|(_, b)| iso::format(b)),
        created_before: filter.created.map(|(_, b)| iso::format(b)),
    };
    serde_json::to_string(&body).expect("serializes")
}

fn direct_page(orders: &[Order], inc: Included, token: Option<&str>, filter: &Filter) -> String {
    let mut out = String::new();
    write_search_page(&mut out, orders, inc, token, filter);
    out
}

fn filter(created: Option<(i64, i64)>, updated: Option<(i64, i64)>) -> Filter {
    Filter { marketplaces: seller().marketplaces, created, updated, statuses: None, afn: None }
}

/// Every combination of datasets, every generated status (priced or not, shipped or not), with and
/// without a next token, on either time family: the bytes are the same.
#[test]
fn search_page_matches_serde_byte_for_byte() {
    let s = seller();
    let data = SellerData::new(7, 0, &s, 1_735_689_600, 60_000);
    let orders: Vec<Order> = (0..s.orders).map(|i| data.order(i)).collect();
    let mut statuses: Vec<&str> = orders.iter().map(|o| o.status.v2026()).collect();
    statuses.sort_unstable();
    statuses.dedup();
    assert!(statuses.len() >= 4, "the sample covers several statuses: {statuses:?}");
    assert!(orders.iter().any(|o| o.prime) && orders.iter().any(|o| !o.prime));
    assert!(orders.iter().any(|o| !o.status.priced()) && orders.iter().any(|o| o.status.priced()));
    let filters = [filter(None, Some((10, 1_800_000_000))), filter(Some((5, 1_700_000_000)), None)];
    for bits in 0..16_u8 {
        let inc = Included {
            buyer: bits & 1 != 0,
            recipient: bits & 2 != 0,
            proceeds: bits & 4 != 0,
            fulfillment: bits & 8 != 0,
        };
        for f in &filters {
            for token in [None, Some("1f.abc.def")] {
                for chunk in orders.chunks(100) {
                    let direct = direct_page(chunk, inc, token, f);
                    let serde = serde_page(chunk, inc, token, f);
                    assert_eq!(direct, serde, "included {inc:?}, token {token:?}");
                }
                let (empty_direct, empty_serde) =
                    (direct_page(&[], inc, token, f), serde_page(&[], inc, token, f));
                assert_eq!(empty_direct, empty_serde);
            }
        }
    }
}

/// Strings that need escaping (quotes, backslashes, every control character, non-ASCII) come out as
/// `serde_json` writes them.
#[test]
fn strings_are_escaped_as_serde_does() {
    let mut awkward: String = (0_u8..0x20).map(char::from).collect();
    awkward.push_str("a\"b\\c/d\u{7f} é 東京 😀 end");
    for text in ["", "plain", "\"", "\\", "\u{1f}", awkward.as_str()] {
        let mut direct = String::new();
        push_json_str(&mut direct, text);
        assert_eq!(direct, serde_json::to_string(text).expect("serializes"), "{text:?}");
    }
    let s = seller();
    let data = SellerData::new(7, 0, &s, 1_735_689_600, 60_000);
    let mut order = (0..s.orders)
        .map(|i| data.order(i))
        .find(|o| o.status.has_shipping_address() && o.status.priced())
        .expect("a shipped order");
    order.buyer.name = awkward.clone();
    order.buyer.line1 = format!("{awkward} line");
    order.buyer.email = "o'brien+\"x\"@example.com".to_owned();
    order.id = "id\twith\ttabs".to_owned();
    let inc = Included { buyer: true, recipient: true, proceeds: true, fulfillment: true };
    let f = filter(None, Some((0, 1)));
    let orders = [order];
    let direct = direct_page(&orders, inc, Some("t\"ok"), &f);
    assert_eq!(direct, serde_page(&orders, inc, Some("t\"ok"), &f));
    let parsed: serde_json::Value = serde_json::from_str(&direct).expect("valid json");
    assert_eq!(parsed["orders"][0]["buyer"]["buyerName"], serde_json::Value::String(awkward));
}
