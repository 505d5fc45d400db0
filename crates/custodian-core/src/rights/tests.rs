//! Tests of rights requests, statutory deadlines (RGT-2) and the portability exporter (RGT-1, RGT-3).

use expect_test::expect;
use proptest::prelude::*;
use time::macros::{date, datetime};

use super::*;
use crate::data::{
    BuyerPii, Campaign, CampaignId, CampaignStatus, ContactDetails, Currency, LineId, Metrics, ObjectId,
    Order, OrderId, OrderLine, OrderStatus, PostalAddress, ReportLevel, ReportRow, Sku, StockLevel, Text,
};
use crate::grant::GrantId;
use crate::platform::{AccountRef, AmazonMarketplaceId, AmazonSellerId, MetaAdAccountId};
use crate::tenant::ContactId;

fn tenant(s: &str) -> TenantId {
    TenantId::new(s).unwrap()
}

fn request(regime: Regime, kind: RightsKind, received_at: OffsetDateTime) -> RightsRequest {
    RightsRequest::new(RightsRequestId::new("rr-1").unwrap(), tenant("t1"), kind, regime, received_at)
}

fn gdpr(received_at: OffsetDateTime) -> RightsRequest {
    request(Regime::Gdpr, RightsKind::Access, received_at)
}

fn ccpa(received_at: OffsetDateTime) -> RightsRequest {
    request(Regime::Ccpa, RightsKind::Deletion, received_at)
}

#[test]
fn gdpr_deadlines() {
    #[track_caller]
    fn check(received: OffsetDateTime, due: OffsetDateTime, max_extended: OffsetDateTime) {
        let r = gdpr(received);
        assert_eq!(
            r.deadlines(&[]),
            Deadlines { acknowledge_by: None, respond_by: due },
            "received {received}"
        );
        assert_eq!(r.max_extended_due(), max_extended, "received {received}");
    }
    check(datetime!(2025-01-31 10:00 UTC), datetime!(2025-02-28 10:00 UTC), datetime!(2025-04-30 10:00 UTC));
    check(datetime!(2024-01-31 10:00 UTC), datetime!(2024-02-29 10:00 UTC), datetime!(2024-04-30 10:00 UTC));
    check(datetime!(2025-03-15 09:00 UTC), datetime!(2025-04-15 09:00 UTC), datetime!(2025-06-15 09:00 UTC));
    check(
        datetime!(2025-12-31 23:00 +01:00),
        datetime!(2026-01-31 23:00 +01:00),
        datetime!(2026-03-31 23:00 +01:00),
    );
}

#[test]
fn ccpa_deadlines() {
    #[track_caller]
    fn check(received: OffsetDateTime, holidays: &[Date], ack: OffsetDateTime) {
        let r = ccpa(received);
        let d = r.deadlines(holidays);
        assert_eq!(d.acknowledge_by, Some(ack), "received {received} ({})", received.weekday());
        assert_eq!(d.respond_by, received + Duration::days(45));
    }
    // Wednesday: two weekends in ten business days.
    check(datetime!(2025-11-19 10:00 UTC), &[], datetime!(2025-12-03 10:00 UTC));
    // Thanksgiving (Thursday Nov 27) is not a business day.
    check(datetime!(2025-11-19 10:00 UTC), &[date!(2025 - 11 - 27)], datetime!(2025-12-04 10:00 UTC));
    // A holiday on a weekend changes nothing.
    check(datetime!(2025-11-19 10:00 UTC), &[date!(2025 - 11 - 29)], datetime!(2025-12-03 10:00 UTC));
    // Received on a Saturday: counting starts on Monday.
    check(datetime!(2025-11-22 10:00 UTC), &[], datetime!(2025-12-05 10:00 UTC));
    // Received on a Friday evening: the Friday itself does not count.
    check(datetime!(2025-11-21 18:00 UTC), &[], datetime!(2025-12-05 18:00 UTC));
    assert_eq!(ccpa(datetime!(2025-01-01 00:00 UTC)).max_extended_due(), datetime!(2025-04-01 00:00 UTC));
}

#[test]
fn gdpr_extension_needs_notice_within_the_first_month() {
    let received = datetime!(2025-01-31 10:00 UTC);
    let due = datetime!(2025-02-28 10:00 UTC);
    let max = datetime!(2025-04-30 10:00 UTC);

    let mut r = gdpr(received);
    assert_eq!(
        r.extend("complex", max, due + Duration::seconds(1)),
        Err(RightsError::ExtensionNoticeTooLate { deadline: due })
    );
    assert_eq!(
        r.extend("complex", max + Duration::seconds(1), due),
        Err(RightsError::ExtensionOutOfRange { original: due, max })
    );
    assert_eq!(r.extend("complex", due, due), Err(RightsError::ExtensionOutOfRange { original: due, max }));
    assert_eq!(r.extend(" ", max, due), Err(RightsError::EmptyReason));
    assert_eq!(r.status(), RightsStatus::Received);
    // On the last instant of the first month, the notice is in time.
    r.extend("  many requests  ", max, due).unwrap();
    assert_eq!(r.status(), RightsStatus::Extended);
    assert_eq!(r.extension().map(|e| e.reason.as_str()), Some("many requests"));
    assert_eq!(r.acknowledged_at(), Some(due));
    assert_eq!(r.deadlines(&[]).respond_by, max);
    assert_eq!(r.extend("again", max, due), Err(RightsError::AlreadyExtended));
    r.complete(datetime!(2025-04-01 00:00 UTC)).unwrap();
    assert_eq!(r.status(), RightsStatus::Completed);
}

#[test]
fn ccpa_extension_needs_notice_before_the_due_date() {
    let received = datetime!(2025-01-01 00:00 UTC);
    let due = received + Duration::days(45);
    let mut r = ccpa(received);
    r.acknowledge(received + Duration::days(2)).unwrap();
    assert_eq!(
        r.extend("verification", due + Duration::days(45), due),
        Err(RightsError::ExtensionNoticeTooLate { deadline: due })
    );
    assert_eq!(
        r.extend("verification", due + Duration::days(46), due - Duration::days(1)),
        Err(RightsError::ExtensionOutOfRange { original: due, max: due + Duration::days(45) })
    );
    r.extend("verification", due + Duration::days(30), due - Duration::days(1)).unwrap();
    assert_eq!(r.deadlines(&[]).respond_by, due + Duration::days(30));
    // The acknowledgement time recorded before stays.
    assert_eq!(r.acknowledged_at(), Some(received + Duration::days(2)));
}

#[test]
fn transitions() {
    let received = datetime!(2025-01-10 09:00 UTC);
    let later = received + Duration::days(1);
    let mut r = ccpa(received);
    assert_eq!(
        r.acknowledge(received - Duration::seconds(1)),
        Err(RightsError::BeforeLastEvent { at: received - Duration::seconds(1) })
    );
    r.acknowledge(later).unwrap();
    assert_eq!(
        r.acknowledge(later),
        Err(RightsError::IllegalTransition {
            from: RightsStatus::Acknowledged,
            event: RightsEvent::Acknowledge
        })
    );
    assert_eq!(r.complete(received), Err(RightsError::BeforeLastEvent { at: received }));
    assert_eq!(r.reject("", later), Err(RightsError::EmptyReason));
    r.reject("identity could not be verified", later).unwrap();
    assert_eq!(r.status(), RightsStatus::Rejected);
    assert_eq!(r.rejection_reason(), Some("identity could not be verified"));
    assert_eq!(r.completed_at(), Some(later));
    for result in [r.complete(later), r.reject("x", later), r.acknowledge(later)] {
        assert!(matches!(result, Err(RightsError::IllegalTransition { from: RightsStatus::Rejected, .. })));
    }
    assert!(matches!(
        r.extend("x", later, later),
        Err(RightsError::IllegalTransition { from: RightsStatus::Rejected, event: RightsEvent::Extend })
    ));
    // Completing straight from received is allowed (the answer confirms receipt).
    let mut r = gdpr(received);
    r.complete(later).unwrap();
    assert_eq!(r.acknowledged_at(), None);
    expect!["rights request in state completed cannot acknowledge"]
        .assert_eq(&r.acknowledge(later).unwrap_err().to_string());
}

#[test]
fn overdue() {
    let received = datetime!(2025-11-19 10:00 UTC);
    let ack_by = datetime!(2025-12-03 10:00 UTC);
    let r = ccpa(received);
    assert!(!r.is_overdue(ack_by, &[]));
    assert!(r.is_overdue(ack_by + Duration::seconds(1), &[]));
    // With a holiday, the same instant is still in time.
    assert!(!r.is_overdue(ack_by + Duration::seconds(1), &[date!(2025 - 11 - 27)]));
    let mut acked = r.clone();
    acked.acknowledge(ack_by + Duration::hours(1)).unwrap();
    assert!(!acked.is_overdue(ack_by + Duration::days(2), &[]));
    assert!(acked.is_overdue(received + Duration::days(45) + Duration::seconds(1), &[]));
    acked.complete(received + Duration::days(50)).unwrap();
    assert!(!acked.is_overdue(received + Duration::days(60), &[]));

    let g = gdpr(datetime!(2025-01-31 10:00 UTC));
    assert!(!g.is_overdue(datetime!(2025-02-28 10:00 UTC), &[]));
    assert!(g.is_overdue(datetime!(2025-02-28 10:00:01 UTC), &[]));
}

#[test]
fn restrictions_from_requests() {
    let at = datetime!(2025-01-01 00:00 UTC);
    let t = tenant("t1");
    assert_eq!(
        restriction_for(&request(Regime::Gdpr, RightsKind::Restriction, at)),
        Some(ProcessingRestriction::Restricted { tenant: t.clone() })
    );
    let objection = request(Regime::Gdpr, RightsKind::Objection(Purpose::Improvement), at);
    assert_eq!(
        restriction_for(&objection),
        Some(ProcessingRestriction::Objection { tenant: t, purpose: Purpose::Improvement })
    );
    for kind in [RightsKind::Access, RightsKind::Correction, RightsKind::Portability, RightsKind::Deletion] {
        assert_eq!(restriction_for(&request(Regime::Ccpa, kind, at)), None, "{kind:?}");
    }
    let mut rejected = request(Regime::Gdpr, RightsKind::Restriction, at);
    rejected.reject("unfounded", at).unwrap();
    assert_eq!(restriction_for(&rejected), None);
}

#[test]
fn restore_checks_consistency() {
    let at = datetime!(2025-01-01 00:00 UTC);
    let restore =
        |status, ack: Option<OffsetDateTime>, done: Option<OffsetDateTime>, reason: Option<&str>| {
            RightsRequest::restore(
                RightsRequestId::new("rr-1").unwrap(),
                tenant("t1"),
                RightsKind::Access,
                Regime::Gdpr,
                at,
                status,
                ack,
                None,
                done,
                reason.map(str::to_owned),
            )
        };
    assert!(restore(RightsStatus::Received, None, None, None).is_ok());
    assert!(restore(RightsStatus::Acknowledged, Some(at), None, None).is_ok());
    assert!(restore(RightsStatus::Acknowledged, None, None, None).is_err());
    assert!(restore(RightsStatus::Extended, Some(at), None, None).is_err());
    assert!(restore(RightsStatus::Completed, None, Some(at), Some("x")).is_err());
    assert!(restore(RightsStatus::Rejected, None, Some(at), Some("x")).is_ok());
    assert!(restore(RightsStatus::Completed, None, Some(at - Duration::days(1)), None).is_err());
}

// ---- export ----

fn bundle() -> ExportBundle {
    let t = tenant("t1");
    let g = GrantId::new("g-meta").unwrap();
    let meta = AccountRef::MetaAdAccount(MetaAdAccountId::new("act_42").unwrap());
    let amazon = AccountRef::AmazonSeller {
        seller: AmazonSellerId::new("A2EUQ1WTGCTBG2").unwrap(),
        marketplace: AmazonMarketplaceId::new("ATVPDKIKX0DER").unwrap(),
    };
    let ga = GrantId::new("g-amazon").unwrap();
    let row = ReportRow {
        tenant: t.clone(),
        grant: g.clone(),
        account: meta.clone(),
        level: ReportLevel::Campaign,
        object: ObjectId::new("120200000001").unwrap(),
        date: date!(2025 - 01 - 31),
        currency: Currency::new("EUR").unwrap(),
        metrics: Metrics {
            spend_micros: 12_340_000,
            impressions: 1000,
            clicks: 25,
            conversions: 2,
            conversion_value_micros: 99_990_000,
        },
    };
    let mut foreign_row = row.clone();
    foreign_row.tenant = tenant("t2");
    let campaign = Campaign {
        tenant: t.clone(),
        grant: g.clone(),
        account: meta,
        id: CampaignId::new("120200000001").unwrap(),
        name: Text::new("=HYPERLINK(\"x\") \"Winter\" sale, 50% — ünïcödé ✓ \u{2028}").unwrap(),
        status: CampaignStatus::Active,
        objective: None,
        daily_budget_micros: Some(50_000_000),
        lifetime_budget_micros: None,
        updated_at: datetime!(2025-01-31 09:30:00.25 +01:00),
    };
    let order = Order {
        tenant: t.clone(),
        grant: ga.clone(),
        account: amazon.clone(),
        id: OrderId::new("114-3941689-8772232").unwrap(),
        status: OrderStatus::Shipped,
        created_at: datetime!(2025-02-01 08:00 UTC),
        updated_at: datetime!(2025-02-02 08:00 UTC),
        currency: Currency::new("USD").unwrap(),
        total_micros: 19_990_000,
        lines: vec![OrderLine {
            id: LineId::new("l1").unwrap(),
            sku: Sku::new("-SKU-1").unwrap(),
            quantity: 1,
            unit_price_micros: 19_990_000,
        }],
        buyer: None,
    };
    let buyer = BuyerPii {
        name: Some("Ada \"The\" Buyer".into()),
        email: Some("ada@example.com".into()),
        phone: Some("+1 555 0100".into()),
        address: Some(PostalAddress {
            lines: vec!["2201 Westlake Ave".into(), "Suite 1".into()],
            city: "Seattle".into(),
            region: Some("WA".into()),
            postal_code: Some("98121".into()),
            country: "US".into(),
        }),
    };
    let stock = StockLevel {
        tenant: t.clone(),
        grant: ga,
        account: amazon,
        sku: Sku::new("-SKU-1").unwrap(),
        location: None,
        quantity: -2,
        observed_at: datetime!(2025-02-03 00:00 UTC),
    };
    let contact =
        ContactDetails { name: "Rep\tOne".into(), email: Some("rep@client.example".into()), phone: None };
    ExportBundle {
        tenant: t,
        generated_at: datetime!(2025-03-01 12:00 UTC),
        report_rows: vec![row, foreign_row],
        campaigns: vec![campaign],
        orders: vec![ExportOrder { order, buyer: Some(buyer) }],
        stock: vec![stock],
        contacts: vec![(ContactId::new("c1").unwrap(), contact, "@marketing\nlead".into())],
    }
}

#[test]
fn foreign_records_are_reported_and_never_exported() {
    let b = bundle();
    assert_eq!(b.check(), Err(ExportError::ForeignRecords { count: 1 }));
    assert!(!export_json(&b).contains("t2"));
    let mut clean = b.clone();
    clean.report_rows.truncate(1);
    assert_eq!(clean.check(), Ok(()));
    assert_eq!(export_json(&clean), export_json(&b));
    assert_eq!(export_csv(&clean), export_csv(&b));
}

/// Writes `b` through an [`ExportWriter`], one record per batch, with an empty batch before each section.
fn written_in_pieces(b: &ExportBundle, file: ExportFile) -> String {
    let mut out = String::new();
    let mut w = ExportWriter::start(file, &b.tenant, b.generated_at, &mut out);
    assert_eq!(w.file(), file);
    w.write(ExportRecords::ReportRows(&[]), &mut out).unwrap();
    for r in b.report_rows.chunks(1) {
        w.write(ExportRecords::ReportRows(r), &mut out).unwrap();
    }
    w.write(ExportRecords::Campaigns(&[]), &mut out).unwrap();
    for c in b.campaigns.chunks(1) {
        w.write(ExportRecords::Campaigns(c), &mut out).unwrap();
    }
    for o in b.orders.chunks(1) {
        w.write(ExportRecords::Orders(o), &mut out).unwrap();
    }
    for s in b.stock.chunks(1) {
        w.write(ExportRecords::Stock(s), &mut out).unwrap();
    }
    w.write(ExportRecords::Contacts(&b.contacts), &mut out).unwrap();
    w.finish(&mut out);
    out
}

#[test]
fn a_file_written_record_by_record_is_the_file_written_whole() {
    let mut b = bundle();
    b.report_rows.push(b.report_rows[0].clone());
    b.orders.push(b.orders[0].clone());
    b.orders[1].buyer = None;
    assert_eq!(written_in_pieces(&b, ExportFile::Json), export_json(&b));
    let whole = export_csv(&b);
    assert_eq!(whole.len(), ExportFile::CSV.len());
    for (file, whole) in ExportFile::CSV.into_iter().zip(&whole) {
        assert_eq!(file.name(), whole.name);
        assert_eq!(ExportFile::csv(file.stem()), Some(file));
        assert_eq!(written_in_pieces(&b, file), whole.content, "{}", whole.name);
    }
    assert_eq!(ExportFile::csv("export"), None);
    assert_eq!(ExportFile::Json.name(), "export.json");
}

#[test]
fn sections_without_records_are_written_empty_and_no_section_comes_back() {
    let b = bundle();
    let mut out = String::new();
    let mut w = ExportWriter::start(ExportFile::Json, &b.tenant, b.generated_at, &mut out);
    w.write(ExportRecords::Orders(&b.orders), &mut out).unwrap();
    // Report rows after orders would repeat a key of the document: refused, nothing written.
    let before = out.len();
    assert_eq!(
        w.write(ExportRecords::ReportRows(&b.report_rows), &mut out),
        Err(ExportError::OutOfOrder { section: "report_rows" })
    );
    assert_eq!(out.len(), before);
    w.finish(&mut out);
    let only_orders = ExportBundle {
        report_rows: Vec::new(),
        campaigns: Vec::new(),
        stock: Vec::new(),
        contacts: Vec::new(),
        ..b.clone()
    };
    assert_eq!(out, export_json(&only_orders));
    for key in ["report_rows", "campaigns", "stock", "contacts"] {
        assert!(out.contains(&format!("\"{key}\": []")), "{key}: {out}");
    }
    // A CSV file ignores the sections it does not hold, in any order.
    let mut csv = String::new();
    let mut w = ExportWriter::start(ExportFile::OrderLinesCsv, &b.tenant, b.generated_at, &mut csv);
    w.write(ExportRecords::Stock(&b.stock), &mut csv).unwrap();
    w.write(ExportRecords::Orders(&b.orders), &mut csv).unwrap();
    w.write(ExportRecords::ReportRows(&b.report_rows), &mut csv).unwrap();
    w.finish(&mut csv);
    assert_eq!(
        csv,
        "account,order_id,line_id,sku,quantity,unit_price_micros\r\namazon:A2EUQ1WTGCTBG2/ATVPDKIKX0DER,114-3941689-8772232,l1,'-SKU-1,1,19990000\r\n"
    );
    assert!(ExportFile::Json.carries_buyers() && ExportFile::OrdersCsv.carries_buyers());
    assert!(!ExportFile::OrderLinesCsv.carries_buyers());
}

#[test]
fn json_snapshot() {
    expect![[r#"
        {
          "format": "custodian.export.v1",
          "tenant": "t1",
          "generated_at": "2025-03-01T12:00:00Z",
          "report_rows": [
            {
              "grant": "g-meta",
              "account": "meta:act_42",
              "level": "campaign",
              "object": "120200000001",
              "date": "2025-01-31",
              "currency": "EUR",
              "spend_micros": 12340000,
              "impressions": 1000,
              "clicks": 25,
              "conversions": 2,
              "conversion_value_micros": 99990000
            }
          ],
          "campaigns": [
            {
              "grant": "g-meta",
              "account": "meta:act_42",
              "id": "120200000001",
              "name": "=HYPERLINK(\"x\") \"Winter\" sale, 50% — ünïcödé ✓ \u2028",
              "status": "active",
              "objective": null,
              "daily_budget_micros": 50000000,
              "lifetime_budget_micros": null,
              "updated_at": "2025-01-31T08:30:00.25Z"
            }
          ],
          "orders": [
            {
              "grant": "g-amazon",
              "account": "amazon:A2EUQ1WTGCTBG2/ATVPDKIKX0DER",
              "id": "114-3941689-8772232",
              "status": "shipped",
              "created_at": "2025-02-01T08:00:00Z",
              "updated_at": "2025-02-02T08:00:00Z",
              "currency": "USD",
              "total_micros": 19990000,
              "lines": [
                {
                  "id": "l1",
                  "sku": "-SKU-1",
                  "quantity": 1,
                  "unit_price_micros": 19990000
                }
              ],
              "buyer": {
                "name": "Ada \"The\" Buyer",
                "email": "ada@example.com",
                "phone": "+1 555 0100",
                "address": {
                  "lines": [
                    "2201 Westlake Ave",
                    "Suite 1"
                  ],
                  "city": "Seattle",
                  "region": "WA",
                  "postal_code": "98121",
                  "country": "US"
                }
              }
            }
          ],
          "stock": [
            {
              "grant": "g-amazon",
              "account": "amazon:A2EUQ1WTGCTBG2/ATVPDKIKX0DER",
              "sku": "-SKU-1",
              "location": null,
              "quantity": -2,
              "observed_at": "2025-02-03T00:00:00Z"
            }
          ],
          "contacts": [
            {
              "id": "c1",
              "name": "Rep\tOne",
              "email": "rep@client.example",
              "phone": null,
              "role": "@marketing\nlead"
            }
          ]
        }
    "#]]
    .assert_eq(&export_json(&bundle()));
}

#[test]
fn csv_snapshot() {
    let files = export_csv(&bundle());
    let mut out = String::new();
    for f in &files {
        out.push_str(&format!("== {}\n{}", f.name, f.content.replace("\r\n", "⏎\n")));
    }
    expect![[r#"
        == report_rows.csv
        grant,account,level,object,date,currency,spend_micros,impressions,clicks,conversions,conversion_value_micros⏎
        g-meta,meta:act_42,campaign,120200000001,2025-01-31,EUR,12340000,1000,25,2,99990000⏎
        == campaigns.csv
        grant,account,id,name,status,objective,daily_budget_micros,lifetime_budget_micros,updated_at⏎
        g-meta,meta:act_42,120200000001,"'=HYPERLINK(""x"") ""Winter"" sale, 50% — ünïcödé ✓  ",active,,50000000,,2025-01-31T08:30:00.25Z⏎
        == orders.csv
        grant,account,id,status,created_at,updated_at,currency,total_micros,buyer_name,buyer_email,buyer_phone,buyer_address_lines,buyer_city,buyer_region,buyer_postal_code,buyer_country⏎
        g-amazon,amazon:A2EUQ1WTGCTBG2/ATVPDKIKX0DER,114-3941689-8772232,shipped,2025-02-01T08:00:00Z,2025-02-02T08:00:00Z,USD,19990000,"Ada ""The"" Buyer",ada@example.com,'+1 555 0100,"2201 Westlake Ave
        Suite 1",Seattle,WA,98121,US⏎
        == order_lines.csv
        account,order_id,line_id,sku,quantity,unit_price_micros⏎
        amazon:A2EUQ1WTGCTBG2/ATVPDKIKX0DER,114-3941689-8772232,l1,'-SKU-1,1,19990000⏎
        == stock.csv
        grant,account,sku,location,quantity,observed_at⏎
        g-amazon,amazon:A2EUQ1WTGCTBG2/ATVPDKIKX0DER,'-SKU-1,,-2,2025-02-03T00:00:00Z⏎
        == contacts.csv
        id,name,email,phone,role⏎
        c1,Rep	One,rep@client.example,,"'@marketing
        lead"⏎
    "#]].assert_eq(&out);
}

#[test]
fn csv_cells() {
    #[track_caller]
    fn check(raw: &str, expect: &str) {
        assert_eq!(csv_cell(raw), expect, "cell {raw:?}");
    }
    check("plain", "plain");
    check("", "");
    check("a,b", "\"a,b\"");
    check("say \"hi\"", "\"say \"\"hi\"\"\"");
    check("two\nlines", "\"two\nlines\"");
    check("=SUM(A1:A9)", "'=SUM(A1:A9)");
    check("+1 555", "'+1 555");
    check("-2", "'-2");
    check("@cmd", "'@cmd");
    check("\tx", "'\tx");
    check("\rx", "\"'\rx\"");
    check("=HYPERLINK(\"http://evil\",\"x\")", "\"'=HYPERLINK(\"\"http://evil\"\",\"\"x\"\")\"");
    check("a=b", "a=b");
    check("ünï ✓", "ünï ✓");
}

#[test]
fn json_strings() {
    #[track_caller]
    fn check(raw: &str, expect: &str) {
        assert_eq!(json_string(raw), expect, "string {raw:?}");
    }
    check("", r#""""#);
    check("a\"b\\c", r#""a\"b\\c""#);
    check("\n\r\t\u{8}\u{c}", r#""\n\r\t\b\f""#);
    check("\u{0}\u{1f}\u{7f}\u{85}", r#""\u0000\u001f\u007f\u0085""#);
    check("\u{2028}\u{2029}", r#""\u2028\u2029""#);
    check("</script> ü 😀", r#""</script> ü 😀""#);
}

/// A strict parser of one JSON string literal at the start of `input`: returns the value and the rest.
fn parse_json_string(input: &str) -> Result<(String, &str), String> {
    let mut chars = input.char_indices();
    if chars.next().map(|(_, c)| c) != Some('"') {
        return Err("no opening quote".into());
    }
    let mut out = String::new();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Ok((out, &input[i + 1..])),
            '\\' => {
                let (_, e) = chars.next().ok_or("dangling escape")?;
                match e {
                    '"' => out.push('"'),
                    '\\' => out.push('\\'),
                    '/' => out.push('/'),
                    'b' => out.push('\u{8}'),
                    'f' => out.push('\u{c}'),
                    'n' => out.push('\n'),
                    'r' => out.push('\r'),
                    't' => out.push('\t'),
                    'u' => {
                        let hex: String = (0..4).filter_map(|_| chars.next().map(|(_, h)| h)).collect();
                        let code = u32::from_str_radix(&hex, 16).map_err(|e| e.to_string())?;
                        out.push(char::from_u32(code).ok_or("surrogate escape")?);
                    }
                    other => return Err(format!("bad escape {other:?}")),
                }
            }
            c if (c as u32) < 0x20 => return Err(format!("raw control character {c:?}")),
            c => out.push(c),
        }
    }
    Err("no closing quote".into())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    /// An escaped string is one JSON string literal that reads back as the original: it never breaks out of
    /// its quotes, whatever it contains.
    #[test]
    fn json_strings_never_break_out(s in any::<String>(), tail in "[\",:}\\]]{0,3}") {
        let literal = json_string(&s);
        let embedded = format!("{literal}{tail}");
        let (back, rest) = parse_json_string(&embedded).map_err(TestCaseError::fail)?;
        prop_assert_eq!(back, s);
        prop_assert_eq!(rest, tail.as_str());
    }

    /// A CSV text cell is a single RFC 4180 field that reads back as the (guarded) value, and never starts
    /// with a formula character.
    #[test]
    fn csv_cells_are_single_fields(s in any::<String>()) {
        let cell = csv_cell(&s);
        let value = match cell.strip_prefix('"').and_then(|c| c.strip_suffix('"')) {
            Some(inner) => {
                prop_assert!(!inner.replace("\"\"", "").contains('"'));
                inner.replace("\"\"", "\"")
            }
            None => {
                prop_assert!(!cell.contains([',', '"', '\r', '\n']));
                cell.clone()
            }
        };
        prop_assert!(!value.starts_with(['=', '+', '-', '@', '\t', '\r']));
        let expected = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{s}") } else { s };
        prop_assert_eq!(value, expected);
    }
}
