//! The `DatasetStore` contract: idempotent upserts, checkpoints, reads, retention queries and purges.

use std::collections::BTreeSet;

use custodian_core::data::{DataClass, ObjectId, Order, RecordKind, ReportLevel, Text};
use custodian_core::grant::GrantId;
use custodian_core::platform::{AccountRef, MetaAdAccountId, Platform, Task, TikTokShopId};
use custodian_core::ports::{
    AuditLog, Cursor, DatasetQuery, DatasetStore, IngestBatch, StoreError, SyncCheckpoint, UpsertCounts,
};
use custodian_core::tenant::TenantId;
use time::macros::date;
use time::{Duration, OffsetDateTime};

use super::{BASE, ContractViolation, Ctx, Setup, Trail, check_chain, outcome};
use crate::fakes::SeededRng;
use crate::fixtures;

const FAR_FUTURE: OffsetDateTime = time::macros::datetime!(2200-01-01 00:00 UTC);
const FAR_PAST: OffsetDateTime = time::macros::datetime!(1971-01-01 00:00 UTC);

fn counts(inserted: u64, updated: u64, unchanged: u64) -> UpsertCounts {
    UpsertCounts { inserted, updated, unchanged }
}

fn query(tenant: &TenantId) -> DatasetQuery {
    DatasetQuery { limit: 100_000, ..DatasetQuery::everything(tenant.clone()) }
}

/// Checks a [`DatasetStore`] (with the [`AuditLog`] of the same backend; `setup` creates tenants and
/// grants). Two tenants share grant ids, accounts and natural keys, so isolation is tested on equal keys.
///
/// - `upsert counts`: a new page counts as inserted; a changed record as updated, an equal one as unchanged.
/// - `re-upsert unchanged`: the same page twice writes nothing the second time (all unchanged), for report
///   rows, campaigns, orders (sealed buyer PII included) and stock.
/// - `read back ordered`: reads return exactly what was stored (128-byte ids included), ordered by natural
///   key, without duplicates.
/// - `query filters`: grant, account and day filters, and offset/limit paging.
/// - `checkpoint saved with batch`: the batch's checkpoint is readable after it, replaced by the next one.
/// - `batch atomic`: a batch with another tenant's record is `Invalid` and writes no record, checkpoint
///   or audit event.
/// - `tenant isolation` (SEG-1): equal natural keys in two tenants are two records; reads, counts,
///   retention queries, deletes, anonymization and purges of one tenant never touch the other's.
/// - `expired`: only the tenant's records of the kind holding the class, stored strictly before the bound,
///   ordered by (`stored_at`, key), at most `limit`; buyer PII lists only orders still carrying it.
/// - `delete records`: exact counts, unknown keys ignored.
/// - `anonymize orders`: removes the sealed PII and keeps the rest of the order.
/// - `purge bounded`: batches of at most `batch`, exact counts, down to 0, per grant or per tenant, while
///   other grants and tenants keep theirs; `count` reaches 0.
/// - `audit in chain`: each tenant's chain holds exactly its successful calls' events and verifies.
pub async fn dataset_store(
    store: &dyn DatasetStore,
    audit: &dyn AuditLog,
    setup: Setup<'_>,
    run_id: &str,
) -> Result<(), ContractViolation> {
    let ctx = Ctx::new("dataset_store", run_id)?;
    let a: TenantId = ctx.fresh("tenant-a", true)?;
    let b: TenantId = ctx.fresh("tenant-b", false)?;
    let mut trail_a = Trail::new(&ctx);
    let mut trail_b = Trail::new(&ctx);
    let g1: GrantId = ctx.fresh("grant-1", true)?;
    let g2: GrantId = ctx.fresh("grant-2", false)?;
    let g3: GrantId = ctx.fresh("grant-3", false)?;
    let meta = AccountRef::MetaAdAccount(
        ctx.ok("setup", MetaAdAccountId::new(format!("act_{}", ctx.digits("m1"))))?,
    );
    let meta2 = AccountRef::MetaAdAccount(
        ctx.ok("setup", MetaAdAccountId::new(format!("act_{}", ctx.digits("m2"))))?,
    );
    let shop = AccountRef::TikTokShop(ctx.ok("setup", TikTokShopId::new(ctx.digits("shop")))?);
    for (tenant, trail) in [(&a, &mut trail_a), (&b, &mut trail_b)] {
        ctx.ok(
            "setup",
            setup.tenants.create_tenant(&fixtures::tenant(tenant), trail.commit("create tenant")).await,
        )?;
    }
    for (tenant, grant, platform, account) in [
        (&a, &g1, Platform::Meta, &meta),
        (&a, &g2, Platform::Meta, &meta2),
        (&a, &g3, Platform::TikTokShop, &shop),
        (&b, &g1, Platform::Meta, &meta),
    ] {
        let grant = fixtures::active_grant(tenant, grant, platform, std::slice::from_ref(account), BASE);
        let trail = if tenant == &a { &mut trail_a } else { &mut trail_b };
        ctx.ok("setup", setup.grants.insert_grant(&grant, trail.commit("insert grant")).await)?;
    }
    let t1 = fixtures::target(&a, &g1, &meta);
    let t2 = fixtures::target(&a, &g2, &meta2);
    let t3 = fixtures::target(&a, &g3, &shop);
    let tb = fixtures::target(&b, &g1, &meta);

    // Report rows: two objects over three days, one object id at the length limit.
    let from = date!(2024 - 12 - 01);
    let long_object: ObjectId = ctx.fresh("object", true)?;
    let mut rows = fixtures::report_rows(&t1, ReportLevel::Campaign, from, 3, 6);
    for row in rows.iter_mut().skip(3) {
        row.object = long_object.clone();
    }
    let cp1 = SyncCheckpoint {
        tenant: a.clone(),
        grant: g1.clone(),
        task: Task::ReadReporting,
        account: meta.clone(),
        cursor: Some(Cursor("page-2".to_owned())),
        watermark: Some(BASE),
        updated_at: BASE,
    };
    let batch = |records, checkpoint: Option<SyncCheckpoint>, audit| IngestBatch {
        tenant: a.clone(),
        records,
        checkpoint,
        audit,
    };
    let got = ctx.ok(
        "upsert counts",
        store.upsert_report_rows(batch(rows.clone(), Some(cp1.clone()), trail_a.commit("rows 1"))).await,
    )?;
    ensure!(ctx, "upsert counts", got == counts(6, 0, 0), "a new page of 6 rows counted {got:?}");
    let cp =
        ctx.ok("checkpoint saved with batch", store.checkpoint(&a, &g1, Task::ReadReporting, &meta).await)?;
    ensure!(
        ctx,
        "checkpoint saved with batch",
        cp.as_ref() == Some(&cp1),
        "after the batch the checkpoint is {cp:?}"
    );
    let got = ctx.ok(
        "re-upsert unchanged",
        store
            .upsert_report_rows(batch(rows.clone(), Some(cp1.clone()), trail_a.commit("rows 1 again")))
            .await,
    )?;
    ensure!(ctx, "re-upsert unchanged", got == counts(0, 0, 6), "the same 6 rows again counted {got:?}");

    let mut rows2 = vec![rows.first().cloned(), rows.get(1).cloned(), rows.get(2).cloned()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>();
    for row in rows2.iter_mut().take(2) {
        row.metrics.clicks += 1000;
    }
    let mut new_row = fixtures::report_row(&t1, ReportLevel::Campaign, from, 3, 0);
    new_row.object = ctx.id(format!("{}-new", ctx.name("object")))?;
    rows2.push(new_row.clone());
    let cp2 = SyncCheckpoint { cursor: None, updated_at: BASE + Duration::minutes(1), ..cp1.clone() };
    let got = ctx.ok(
        "upsert counts",
        store.upsert_report_rows(batch(rows2.clone(), Some(cp2.clone()), trail_a.commit("rows 2"))).await,
    )?;
    ensure!(ctx, "upsert counts", got == counts(1, 2, 1), "2 changed, 1 equal and 1 new row counted {got:?}");
    let cp =
        ctx.ok("checkpoint saved with batch", store.checkpoint(&a, &g1, Task::ReadReporting, &meta).await)?;
    ensure!(
        ctx,
        "checkpoint saved with batch",
        cp.as_ref() == Some(&cp2),
        "after the second batch the checkpoint is {cp:?}"
    );
    let none =
        ctx.ok("checkpoint saved with batch", store.checkpoint(&a, &g1, Task::ReadCampaigns, &meta).await)?;
    ensure!(ctx, "checkpoint saved with batch", none.is_none(), "another task has a checkpoint");

    let mut expected: Vec<_> =
        rows.iter().skip(2).cloned().chain(rows2.iter().take(2).cloned()).chain([new_row]).collect();
    expected.sort_by(|x, y| (x.object.as_str(), x.date).cmp(&(y.object.as_str(), y.date)));
    let read = ctx.ok(
        "read back ordered",
        store.report_rows(&DatasetQuery { grant: Some(g1.clone()), ..query(&a) }).await,
    )?;
    ensure!(
        ctx,
        "read back ordered",
        read == expected,
        "read {} rows, expected the {} stored, ordered by natural key: {read:?}",
        read.len(),
        expected.len()
    );
    let count = ctx.ok("read back ordered", store.count(&a, None, RecordKind::ReportRow).await)?;
    ensure!(ctx, "read back ordered", count == 7, "count is {count}, expected 7 (no duplicates)");

    // Rows of a second grant and account, for the filters and purges.
    let rows_g2 = fixtures::report_rows(&t2, ReportLevel::Ad, from, 2, 4);
    let got = ctx.ok(
        "upsert counts",
        store.upsert_report_rows(batch(rows_g2.clone(), None, trail_a.commit("rows g2"))).await,
    )?;
    ensure!(ctx, "upsert counts", got == counts(4, 0, 0), "a page of another grant counted {got:?}");
    let by_grant = ctx.ok(
        "query filters",
        store.report_rows(&DatasetQuery { grant: Some(g2.clone()), ..query(&a) }).await,
    )?;
    ensure!(
        ctx,
        "query filters",
        by_grant.len() == 4 && by_grant.iter().all(|r| r.grant == g2),
        "the grant filter returned {} rows",
        by_grant.len()
    );
    let by_account = ctx.ok(
        "query filters",
        store.report_rows(&DatasetQuery { account: Some(meta.clone()), ..query(&a) }).await,
    )?;
    ensure!(
        ctx,
        "query filters",
        by_account == expected,
        "the account filter returned {} rows",
        by_account.len()
    );
    let day = from + Duration::days(1);
    let by_day = ctx.ok(
        "query filters",
        store.report_rows(&DatasetQuery { from: Some(day), to: Some(day), ..query(&a) }).await,
    )?;
    let want = expected.iter().chain(&rows_g2).filter(|r| r.date == day).count();
    ensure!(
        ctx,
        "query filters",
        by_day.len() == want && by_day.iter().all(|r| r.date == day),
        "the day filter returned {} rows, expected {want}",
        by_day.len()
    );
    let mut paged = Vec::new();
    for page in 0..10u64 {
        let rows = ctx.ok(
            "query filters",
            store
                .report_rows(&DatasetQuery {
                    grant: Some(g1.clone()),
                    offset: page * 3,
                    limit: 3,
                    ..query(&a)
                })
                .await,
        )?;
        ensure!(ctx, "query filters", rows.len() <= 3, "a page with limit 3 has {} rows", rows.len());
        if rows.is_empty() {
            break;
        }
        paged.extend(rows);
    }
    ensure!(
        ctx,
        "query filters",
        paged == expected,
        "paging by 3 returned {} rows, expected the {} in order",
        paged.len(),
        expected.len()
    );
    // Keyset paging: each page after the natural key of the last record of the one before.
    let mut keyed = Vec::new();
    let mut after = None;
    for _ in 0..10 {
        let rows = ctx.ok(
            "query filters",
            store
                .report_rows(&DatasetQuery {
                    grant: Some(g1.clone()),
                    after: after.clone(),
                    limit: 3,
                    ..query(&a)
                })
                .await,
        )?;
        ensure!(ctx, "query filters", rows.len() <= 3, "a keyed page with limit 3 has {} rows", rows.len());
        let Some(last) = rows.last() else { break };
        after = Some(last.natural_key());
        keyed.extend(rows);
    }
    ensure!(
        ctx,
        "query filters",
        keyed == expected,
        "paging by key, 3 at a time, returned {} rows, expected the {} in order",
        keyed.len(),
        expected.len()
    );
    // A key sorting after every stored one (`~` sorts after every other printable character) gives an
    // empty page, not an error.
    let after = Some("~ account ~ 9999-12-31".to_owned());
    let rows = ctx.ok("query filters", store.report_rows(&DatasetQuery { after, ..query(&a) }).await)?;
    ensure!(ctx, "query filters", rows.is_empty(), "after the last key, {} rows came", rows.len());
    for bad in ["", "not a key", "meta:act_1 level-x obj 2024-12-01", "meta:act_1 ad obj 2024-13-01"] {
        let res = store.report_rows(&DatasetQuery { after: Some(bad.to_owned()), ..query(&a) }).await;
        ensure!(
            ctx,
            "query filters",
            matches!(res, Err(StoreError::Invalid(_))),
            "`after` = {bad:?} (not a report row key) was not refused as invalid"
        );
    }

    // A batch with another tenant's record: nothing at all is written.
    let head_before = ctx.ok("batch atomic", audit.head(&a).await)?;
    let mut bad = fixtures::report_rows(&t1, ReportLevel::Account, from, 1, 2);
    if let Some(row) = bad.get_mut(1) {
        row.tenant = b.clone();
    }
    let cp3 = SyncCheckpoint { cursor: Some(Cursor("never".to_owned())), ..cp2.clone() };
    let res = store.upsert_report_rows(batch(bad, Some(cp3), trail_a.reject("bad batch"))).await;
    ensure!(
        ctx,
        "batch atomic",
        matches!(res, Err(StoreError::Invalid(_))),
        "a batch with another tenant's record gave {}",
        outcome(&res)
    );
    let count = ctx.ok("batch atomic", store.count(&a, None, RecordKind::ReportRow).await)?;
    ensure!(ctx, "batch atomic", count == 11, "a rejected batch changed the count to {count}");
    let cp = ctx.ok("batch atomic", store.checkpoint(&a, &g1, Task::ReadReporting, &meta).await)?;
    ensure!(
        ctx,
        "batch atomic",
        cp.as_ref() == Some(&cp2),
        "a rejected batch moved the checkpoint to {cp:?}"
    );
    let head_after = ctx.ok("batch atomic", audit.head(&a).await)?;
    ensure!(ctx, "batch atomic", head_after == head_before, "a rejected batch appended audit records");

    // Tenant B: the same grant id, account and natural keys.
    let mut rows_b = fixtures::report_rows(&tb, ReportLevel::Campaign, from, 3, 3);
    for row in &mut rows_b {
        row.metrics.impressions += 5;
    }
    let batch_b = IngestBatch {
        tenant: b.clone(),
        records: rows_b.clone(),
        checkpoint: None,
        audit: trail_b.commit("rows b"),
    };
    let got = ctx.ok("tenant isolation", store.upsert_report_rows(batch_b).await)?;
    ensure!(
        ctx,
        "tenant isolation",
        got == counts(3, 0, 0),
        "rows with another tenant's natural keys counted {got:?}"
    );
    let read_b = ctx.ok("tenant isolation", store.report_rows(&query(&b)).await)?;
    ensure!(
        ctx,
        "tenant isolation",
        read_b == rows_b,
        "tenant `{b}` reads {} rows, expected its own 3",
        read_b.len()
    );
    let read_a = ctx.ok(
        "tenant isolation",
        store.report_rows(&DatasetQuery { grant: Some(g1.clone()), ..query(&a) }).await,
    )?;
    ensure!(
        ctx,
        "tenant isolation",
        read_a == expected,
        "another tenant's upsert changed this tenant's rows"
    );
    let count_b = ctx.ok("tenant isolation", store.count(&b, None, RecordKind::ReportRow).await)?;
    ensure!(ctx, "tenant isolation", count_b == 3, "tenant `{b}` counts {count_b} rows, expected 3");
    let cp_b = ctx.ok("tenant isolation", store.checkpoint(&b, &g1, Task::ReadReporting, &meta).await)?;
    ensure!(ctx, "tenant isolation", cp_b.is_none(), "tenant `{b}` sees another tenant's checkpoint");

    // Campaigns.
    let mut campaigns = fixtures::campaigns(&t1, 4, BASE);
    if let Some(c) = campaigns.get_mut(3) {
        c.id = ctx.fresh("campaign", true)?;
    }
    let batch_c = |records, audit| IngestBatch { tenant: a.clone(), records, checkpoint: None, audit };
    let got = ctx.ok(
        "upsert counts",
        store.upsert_campaigns(batch_c(campaigns.clone(), trail_a.commit("campaigns"))).await,
    )?;
    ensure!(ctx, "upsert counts", got == counts(4, 0, 0), "4 new campaigns counted {got:?}");
    let got = ctx.ok(
        "re-upsert unchanged",
        store.upsert_campaigns(batch_c(campaigns.clone(), trail_a.commit("campaigns again"))).await,
    )?;
    ensure!(ctx, "re-upsert unchanged", got == counts(0, 0, 4), "the same campaigns again counted {got:?}");
    if let Some(c) = campaigns.get_mut(0) {
        c.name = ctx.ok("upsert counts", Text::new("Renamed campaign"))?;
    }
    let got = ctx.ok(
        "upsert counts",
        store.upsert_campaigns(batch_c(campaigns.clone(), trail_a.commit("campaigns renamed"))).await,
    )?;
    ensure!(ctx, "upsert counts", got == counts(0, 1, 3), "one renamed campaign counted {got:?}");
    campaigns.sort_by(|x, y| x.id.as_str().cmp(y.id.as_str()));
    let read = ctx.ok("read back ordered", store.campaigns(&query(&a)).await)?;
    ensure!(
        ctx,
        "read back ordered",
        read == campaigns,
        "read {} campaigns, expected the 4 stored in id order",
        read.len()
    );

    // Orders, three with sealed buyer PII.
    let rng = SeededRng::new(11);
    let key = fixtures::data_key("contract dataset store", 1);
    let sealer = custodian_core::ports::PiiSealer { key, rng: std::sync::Arc::new(rng) };
    let mut orders: Vec<Order> =
        (0..5).map(|i| fixtures::order(&t3, i, BASE + Duration::minutes(i as i64))).collect();
    for (i, order) in orders.iter_mut().enumerate().take(3) {
        ctx.ok("setup", fixtures::seal_buyer(order, i as u64, &sealer))?;
    }
    let batch_o = |records, audit| IngestBatch { tenant: a.clone(), records, checkpoint: None, audit };
    let got = ctx
        .ok("upsert counts", store.upsert_orders(batch_o(orders.clone(), trail_a.commit("orders"))).await)?;
    ensure!(ctx, "upsert counts", got == counts(5, 0, 0), "5 new orders counted {got:?}");
    let got = ctx.ok(
        "re-upsert unchanged",
        store.upsert_orders(batch_o(orders.clone(), trail_a.commit("orders again"))).await,
    )?;
    ensure!(ctx, "re-upsert unchanged", got == counts(0, 0, 5), "the same orders again counted {got:?}");
    orders.sort_by(|x, y| x.id.as_str().cmp(y.id.as_str()));
    let read = ctx.ok("read back ordered", store.orders(&query(&a)).await)?;
    ensure!(
        ctx,
        "read back ordered",
        read == orders,
        "read {} orders, expected the 5 stored (sealed PII and lines intact) in id order",
        read.len()
    );

    // Stock, with and without a location.
    let mut stock = fixtures::stock_levels(&t3, 4, BASE);
    let batch_s = |records, audit| IngestBatch { tenant: a.clone(), records, checkpoint: None, audit };
    let got =
        ctx.ok("upsert counts", store.upsert_stock(batch_s(stock.clone(), trail_a.commit("stock"))).await)?;
    ensure!(ctx, "upsert counts", got == counts(4, 0, 0), "4 new stock levels counted {got:?}");
    let got = ctx.ok(
        "re-upsert unchanged",
        store.upsert_stock(batch_s(stock.clone(), trail_a.commit("stock again"))).await,
    )?;
    ensure!(ctx, "re-upsert unchanged", got == counts(0, 0, 4), "the same stock again counted {got:?}");
    if let Some(level) = stock.get_mut(1) {
        level.quantity += 3;
    }
    let got = ctx.ok(
        "upsert counts",
        store.upsert_stock(batch_s(stock.clone(), trail_a.commit("stock changed"))).await,
    )?;
    ensure!(ctx, "upsert counts", got == counts(0, 1, 3), "one changed quantity counted {got:?}");
    let key_of = |s: &custodian_core::data::StockLevel| {
        (s.sku.as_str().to_owned(), s.location.as_ref().map(|l| l.as_str().to_owned()))
    };
    stock.sort_by_key(key_of);
    let mut read = ctx.ok("read back ordered", store.stock(&query(&a)).await)?;
    read.sort_by_key(key_of);
    ensure!(
        ctx,
        "read back ordered",
        read == stock,
        "read {} stock levels, expected the 4 stored",
        read.len()
    );

    // Retention queries.
    let all = ctx.ok(
        "expired",
        store.expired(&a, RecordKind::ReportRow, DataClass::ReportingDataset, FAR_FUTURE, 100_000).await,
    )?;
    ensure!(
        ctx,
        "expired",
        all.len() == 11,
        "{} report rows are listed as expired, expected all 11",
        all.len()
    );
    ensure!(
        ctx,
        "expired",
        all.iter().all(|m| m.tenant == a
            && m.class == DataClass::ReportingDataset
            && (m.grant == Some(g1.clone()) || m.grant == Some(g2.clone()))),
        "an expired record has the wrong tenant, class or grant"
    );
    let sorted = all.windows(2).all(|w| match w {
        [x, y] => (x.stored_at, &x.key) < (y.stored_at, &y.key),
        _ => true,
    });
    ensure!(ctx, "expired", sorted, "expired records are not ordered by (stored_at, key)");
    let two = ctx.ok(
        "expired",
        store.expired(&a, RecordKind::ReportRow, DataClass::ReportingDataset, FAR_FUTURE, 2).await,
    )?;
    ensure!(
        ctx,
        "expired",
        two.as_slice() == all.get(..2).unwrap_or_default(),
        "limit 2 did not return the 2 oldest"
    );
    let none = ctx.ok(
        "expired",
        store.expired(&a, RecordKind::ReportRow, DataClass::ReportingDataset, FAR_PAST, 100).await,
    )?;
    ensure!(ctx, "expired", none.is_empty(), "records are listed as stored before 1971");
    if let Some(first) = all.first() {
        let before = ctx.ok(
            "expired",
            store
                .expired(&a, RecordKind::ReportRow, DataClass::ReportingDataset, first.stored_at, 100_000)
                .await,
        )?;
        ensure!(
            ctx,
            "expired",
            before.iter().all(|m| m.stored_at < first.stored_at),
            "the bound is not exclusive"
        );
    }
    let seen_by_b = ctx.ok(
        "tenant isolation",
        store.expired(&b, RecordKind::ReportRow, DataClass::ReportingDataset, FAR_FUTURE, 100_000).await,
    )?;
    ensure!(
        ctx,
        "tenant isolation",
        seen_by_b.len() == 3 && seen_by_b.iter().all(|m| m.tenant == b),
        "tenant `{b}` lists {} expired rows, expected its own 3",
        seen_by_b.len()
    );
    let pii =
        ctx.ok("expired", store.expired(&a, RecordKind::Order, DataClass::BuyerPii, FAR_FUTURE, 100).await)?;
    ensure!(
        ctx,
        "expired",
        pii.len() == 3 && pii.iter().all(|m| m.class == DataClass::BuyerPii),
        "{} orders are listed as holding buyer pii, expected 3",
        pii.len()
    );
    let details = ctx
        .ok("expired", store.expired(&a, RecordKind::Order, DataClass::OrderDetail, FAR_FUTURE, 100).await)?;
    ensure!(
        ctx,
        "expired",
        details.len() == 5,
        "{} orders are listed as order details, expected 5",
        details.len()
    );

    // Anonymization.
    let pii_keys: Vec<String> = pii.iter().map(|m| m.key.clone()).collect();
    let n = ctx.ok(
        "tenant isolation",
        store.anonymize_orders(&b, &pii_keys, trail_b.commit("b anonymizes")).await,
    )?;
    ensure!(ctx, "tenant isolation", n == 0, "tenant `{b}` anonymized {n} orders of another tenant");
    let n =
        ctx.ok("anonymize orders", store.anonymize_orders(&a, &pii_keys, trail_a.commit("anonymize")).await)?;
    ensure!(ctx, "anonymize orders", n == 3, "anonymizing 3 orders with pii counted {n}");
    let read = ctx.ok("anonymize orders", store.orders(&query(&a)).await)?;
    let stripped: Vec<Order> = orders.iter().cloned().map(|o| Order { buyer: None, ..o }).collect();
    ensure!(
        ctx,
        "anonymize orders",
        read == stripped,
        "after anonymization the orders are not the same without pii"
    );
    let pii = ctx.ok(
        "anonymize orders",
        store.expired(&a, RecordKind::Order, DataClass::BuyerPii, FAR_FUTURE, 100).await,
    )?;
    ensure!(ctx, "anonymize orders", pii.is_empty(), "{} orders still hold buyer pii", pii.len());

    // Deletion by key.
    let b_keys: BTreeSet<String> = seen_by_b.iter().map(|m| m.key.clone()).collect();
    let a_only: Vec<String> = all.iter().map(|m| m.key.clone()).filter(|k| !b_keys.contains(k)).collect();
    let n = ctx.ok(
        "tenant isolation",
        store.delete_records(&b, RecordKind::ReportRow, &a_only, trail_b.commit("b deletes")).await,
    )?;
    ensure!(ctx, "tenant isolation", n == 0, "tenant `{b}` deleted {n} rows of another tenant");
    let doomed: Vec<String> = a_only.iter().take(2).cloned().chain([ctx.name("missing-key")]).collect();
    let n = ctx.ok(
        "delete records",
        store.delete_records(&a, RecordKind::ReportRow, &doomed, trail_a.commit("delete 2")).await,
    )?;
    ensure!(ctx, "delete records", n == 2, "deleting 2 existing keys and 1 unknown counted {n}");
    let count = ctx.ok("delete records", store.count(&a, None, RecordKind::ReportRow).await)?;
    ensure!(ctx, "delete records", count == 9, "after deleting 2 of 11 rows the count is {count}");

    // Purges in bounded batches.
    let g1_rows = ctx.ok("purge bounded", store.count(&a, Some(g1.clone()), RecordKind::ReportRow).await)?;
    let g2_rows = ctx.ok("purge bounded", store.count(&a, Some(g2.clone()), RecordKind::ReportRow).await)?;
    let n = ctx.ok(
        "tenant isolation",
        store.purge(&b, Some(g2.clone()), RecordKind::ReportRow, 100, trail_b.commit("b purges")).await,
    )?;
    ensure!(ctx, "tenant isolation", n == 0, "tenant `{b}` purged {n} rows of another tenant's grant");
    let purged = purge_all(&ctx, store, &a, Some(&g1), RecordKind::ReportRow, 2, &mut trail_a).await?;
    ensure!(
        ctx,
        "purge bounded",
        purged == g1_rows,
        "purging one grant removed {purged} rows, it had {g1_rows}"
    );
    let left = ctx.ok("purge bounded", store.count(&a, Some(g1.clone()), RecordKind::ReportRow).await)?;
    ensure!(ctx, "purge bounded", left == 0, "{left} rows of the purged grant remain");
    let other = ctx.ok("purge bounded", store.count(&a, Some(g2.clone()), RecordKind::ReportRow).await)?;
    ensure!(
        ctx,
        "purge bounded",
        other == g2_rows,
        "purging one grant changed another grant's rows from {g2_rows} to {other}"
    );
    for kind in RecordKind::ALL {
        purge_all(&ctx, store, &a, None, kind, 3, &mut trail_a).await?;
        let left = ctx.ok("purge bounded", store.count(&a, None, kind).await)?;
        ensure!(
            ctx,
            "purge bounded",
            left == 0,
            "{left} records of kind {} remain after purging the tenant",
            kind.as_str()
        );
    }
    let count_b = ctx.ok("tenant isolation", store.count(&b, None, RecordKind::ReportRow).await)?;
    ensure!(
        ctx,
        "tenant isolation",
        count_b == 3,
        "purging one tenant left {count_b} rows to another, expected 3"
    );
    let read_b = ctx.ok("tenant isolation", store.report_rows(&query(&b)).await)?;
    ensure!(ctx, "tenant isolation", read_b == rows_b, "purging one tenant changed another's rows");

    check_chain(&ctx, audit, &a, &trail_a, "audit in chain").await?;
    check_chain(&ctx, audit, &b, &trail_b, "audit in chain").await
}

/// Purges in batches of `batch` until 0, checking each count; returns the total.
async fn purge_all(
    ctx: &Ctx,
    store: &dyn DatasetStore,
    tenant: &TenantId,
    grant: Option<&GrantId>,
    kind: RecordKind,
    batch: u32,
    trail: &mut Trail,
) -> Result<u64, ContractViolation> {
    let before = ctx.ok("purge bounded", store.count(tenant, grant.cloned(), kind).await)?;
    let mut total = 0;
    for _ in 0..before / u64::from(batch) + 3 {
        let n = ctx.ok(
            "purge bounded",
            store.purge(tenant, grant.cloned(), kind, batch, trail.commit("purge")).await,
        )?;
        ensure!(ctx, "purge bounded", n <= u64::from(batch), "a purge with batch {batch} deleted {n}");
        total += n;
        let left = ctx.ok("purge bounded", store.count(tenant, grant.cloned(), kind).await)?;
        ensure!(
            ctx,
            "purge bounded",
            left + total == before,
            "after purging {total} of {before}, {left} remain"
        );
        if n == 0 {
            return Ok(total);
        }
    }
    Err(ctx.violation(
        "purge bounded",
        format!("purging {before} records in batches of {batch} never returned 0"),
    ))
}
