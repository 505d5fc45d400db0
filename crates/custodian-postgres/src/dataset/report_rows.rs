//! The bulk upsert of report rows, the hottest ingest path. One chunk of deduplicated records sorted by
//! natural key is written under one savepoint, by the cheapest of three plans that is correct for it:
//!
//! 1. **New rows only.** A sample of the chunk's keys (every [`SAMPLE_EVERY`]th, the first and the last) is
//!    looked up; when none exists the whole chunk is inserted with a plain `INSERT … SELECT unnest(column
//!    arrays)`. The primary key's own uniqueness check is the existence check, so a new row costs one index
//!    descent, not two. A key the sample missed, or one a concurrent writer inserted, fails
//!    the statement with a unique violation: the savepoint is rolled back and plan 2 runs.
//! 2. **Classify, then write only what differs.** One read joins the chunk's keys and compared columns with
//!    the stored rows and returns the positions of the missing rows and of the rows that differ; the
//!    missing ones are inserted (plain `INSERT`) and the differing ones updated (`UPDATE … WHERE the row is
//!    still different`). An unchanged row is neither written nor locked, so re-ingesting a page writes
//!    nothing. If a concurrent writer got in between (a unique violation, or fewer rows updated than found
//!    different), the savepoint is rolled back and plan 3 runs.
//! 3. **Safe.** `INSERT … ON CONFLICT (tenant_id, natural_key) DO UPDATE … WHERE the row differs`, correct
//!    under any concurrency (speculative insertion), counted with `RETURNING (xmax = 0)`.
//!
//! The arrays are unnested in the select list (`SELECT unnest($2), unnest($3), …`): set-returning functions
//! there run in lockstep and hand over one row at a time, where `FROM UNNEST(…)` first copies every row
//! into a tuple store (measured: about a third of the server's time for a plain insert).
//!
//! Every plan yields exact counts. The columns `account_key`, `level`, `object_id` and `day` are parts of
//! the natural key, so a row with the same key has the same values there: only the other columns are
//! compared and updated.
//!
//! Where the time goes (issue 3: bulk upsert at >= 0.5x the rate of a raw `COPY` of the same rows into an
//! unindexed table). Server CPU for 500,000 rows in pages of 5,000, PostgreSQL 15, measured from the
//! backend's own CPU time so that other load on the machine does not count: the raw `COPY` 0.66-0.79 s;
//! plan 1's `INSERT … SELECT unnest(…)` into `report_rows` without any index 0.71 s (as cheap as the
//! `COPY`), with the primary key 1.65 s, with the BRIN index too 1.82 s. The primary key's B-tree is the
//! cost: one descent per row into a tree the pages' interleaved keys keep splitting, where the baseline
//! writes no index at all. Even a `COPY` of the rows pre-sorted into `report_rows` (as the owner, which
//! row-level security would not allow the application role) takes 1.36 s, a ratio of 0.50 before any
//! client, commit or audit work. So with this primary key the 0.5x target is out of reach on the server's
//! CPU alone. What was tried, and kept or dropped:
//!
//! - Kept: ingest transactions commit asynchronously ([`crate::INGEST_SYNCHRONOUS_COMMIT`]): the flush
//!   wait was about an eighth of the wall time.
//! - Dropped: `COPY` into a temporary staging table per page, then one `INSERT … SELECT` from it (the way
//!   round `COPY`'s refusal of tables with row-level security). Measured (wall time, text `COPY`): the
//!   staging `COPY`s took 1.1-1.3 s, about as long as the whole baseline (1.2-1.7 s), and the `INSERT`s
//!   from the staging table 2.3-2.4 s, no faster than from arrays. Binding column arrays is cheaper: their
//!   decoding (`array_recv`, `unnest`) is a few per cent of the statement.
//! - Dropped: policies in initplan form (`tenant_id = (SELECT current_setting(…))`) instead of calling
//!   `current_setting` per row: no measurable difference in the backend's CPU time (1.81-1.87 s either
//!   way); the per-row call is a hash lookup of the setting.
//! - Not changed: the BRIN index on `stored_at` costs about a tenth of the insert but serves retention
//!   (`expired`) without a scan of the tenant's every row; the rows are already written in key order,
//!   one statement per page; round trips are about ten per page, under 1 ms in all.
//!
//! Issue 3, second pass (PostgreSQL 15, the bench's 500,000 rows in pages of 5,000; server CPU from the
//! backends' `/proc` times, which the stores bench now prints for both sides, on a machine with a load
//! average of 5-6 on 2 cores, so every absolute figure is about twice the one above and only ratios taken
//! in the same run compare). The figures on keys, order and indexes come from a server-side harness
//! (a procedure inserting the bench's pages from column arrays, as plan 1 does, into variants of the table):
//!
//! - The schema is the limit, not this code. The bench now also COPYs the rows into a copy of
//!   `report_rows` with its keys and indexes, as the owner (no row-level security): 0.29-0.33x the
//!   unindexed `COPY`, and the upsert runs at 0.95-1.15x of that. Server CPU of the best rounds: unindexed
//!   `COPY` 1.39-1.71 s, upsert 4.33-4.71 s (ratio 0.32-0.36).
//! - Dropped, measured: a compact key `(tenant_id, row_key uuid)`, `row_key` a 128-bit hash of the natural
//!   key. A plain insert of the same pages costs 4.26-4.62 s against 3.49-4.29 s with the text key (same
//!   runs; the index is 31 MB instead of 58 MB, but the hash scatters every row over the whole tree where
//!   the natural key keeps a page's rows in runs of adjacent keys), and reads in natural-key order would
//!   need a sort of the tenant's rows. A 64-bit hash (`bigint`) was no better (3.59 s against 3.42 s).
//!   What a B-tree insert costs is set by where the keys land: the same rows inserted in ascending key
//!   order (each on the rightmost leaf) cost 2.42 s against 3.49 s, the heap alone 1.17-1.45 s.
//! - Dropped, measured: `INSERT … ON CONFLICT … DO UPDATE … WHERE distinct` for new rows: 6.60 s (text
//!   key) and 7.01 s (hash key) against 4.16 s for the plain insert in the same run (speculative insertion
//!   per row). It stays the fallback for concurrent writers only.
//! - Measured, kept: the BRIN index on `stored_at` adds 0.2-0.45 s (6-12 %); retention needs it. A
//!   non-unique index costs what the primary key does (0.67 s against 0.62-0.66 s for 100,000 rows), so
//!   the uniqueness check is not the cost. Fillfactor does not help an insert: a B-tree leaf split in the
//!   middle of the tree is 50/50 whatever the setting, and a lower heap fillfactor only spreads new rows
//!   over more pages.
//! - So 0.5x the unindexed `COPY` takes fewer index entries per report row (for example one row per
//!   object and month), a key whose ingest order is ascending, or a different baseline; not a cheaper
//!   statement.

use custodian_core::data::ReportRow;
use custodian_core::ports::{StoreError, UpsertCounts};
use custodian_core::tenant::TenantId;
use sqlx::{PgConnection, Row as _};
use time::{Date, OffsetDateTime};

use super::records::level_name;
use crate::check;
use crate::error::{self, corrupt};

/// One key in this many is looked up before a chunk is inserted as new rows (plus the first and the last).
const SAMPLE_EVERY: usize = 64;

/// Whether any of the keys `$2` exists. Each key is looked up on the primary key (a `LATERAL … LIMIT 1`
/// cannot become a scan of the tenant's rows, whatever the planner believes about the table).
const SAMPLE: &str = "SELECT EXISTS (
        SELECT 1 FROM (SELECT unnest($2::text[]) AS nk) AS k
        CROSS JOIN LATERAL (SELECT 1 FROM report_rows r WHERE r.tenant_id = $1 AND r.natural_key = k.nk LIMIT 1) AS f
    )";

/// Plain insert of every row given: `$1` tenant, `$2..$13` column arrays, `$14` the batch time.
const INSERT: &str = "INSERT INTO report_rows (tenant_id, natural_key, account_key, level, object_id, day, grant_id,
        currency, spend_micros, impressions, clicks, conversions, conversion_value_micros, stored_at)
    SELECT $1, unnest($2::text[]), unnest($3::text[]), unnest($4::text[]), unnest($5::text[]), unnest($6::date[]),
        unnest($7::text[]), unnest($8::text[]), unnest($9::bigint[]), unnest($10::bigint[]), unnest($11::bigint[]),
        unnest($12::bigint[]), unnest($13::bigint[]), $14";

/// [`INSERT`] for a chunk whose rows share their account, level, grant and currency (a page is usually one
/// account's report at one level under one grant): those four are single values (`$3`, `$4`, `$7`, `$8`)
/// instead of arrays, which spares the server decoding four arrays of equal strings.
const INSERT_UNIFORM: &str = "INSERT INTO report_rows (tenant_id, natural_key, account_key, level, object_id, day,
        grant_id, currency, spend_micros, impressions, clicks, conversions, conversion_value_micros, stored_at)
    SELECT $1, unnest($2::text[]), $3::text, $4::text, unnest($5::text[]), unnest($6::date[]), $7::text, $8::text,
        unnest($9::bigint[]), unnest($10::bigint[]), unnest($11::bigint[]), unnest($12::bigint[]),
        unnest($13::bigint[]), $14";

/// The rows that are missing or differ from the stored row: their position (from 1) and, for a stored row,
/// its `ctid` as text. `$1` tenant, `$2` keys, `$3..$9` the compared columns. One primary-key lookup per
/// row, as in [`SAMPLE`].
const CLASSIFY: &str = "SELECT s.i, r.t::text
    FROM (
        SELECT unnest($2::text[]) AS nk, unnest($3::text[]) AS g, unnest($4::text[]) AS c, unnest($5::bigint[]) AS sp,
            unnest($6::bigint[]) AS im, unnest($7::bigint[]) AS cl, unnest($8::bigint[]) AS cv,
            unnest($9::bigint[]) AS cvm, generate_series(1::bigint, cardinality($2::text[])) AS i
    ) AS s
    LEFT JOIN LATERAL (
        SELECT r.ctid AS t, r.grant_id, r.currency, r.spend_micros, r.impressions, r.clicks, r.conversions,
            r.conversion_value_micros
        FROM report_rows r WHERE r.tenant_id = $1 AND r.natural_key = s.nk LIMIT 1
    ) AS r ON true
    WHERE r.t IS NULL
       OR (r.grant_id, r.currency, r.spend_micros, r.impressions, r.clicks, r.conversions, r.conversion_value_micros)
          IS DISTINCT FROM (s.g, s.c, s.sp, s.im, s.cl, s.cv, s.cvm)";

/// Updates the rows found by [`CLASSIFY`] (by `ctid`, re-checking the tenant, the key and that the row
/// still differs, so a row changed since is not touched): `$1` tenant, `$2` ctids, `$3` keys, `$4..$10` the
/// compared columns, `$11` the batch time.
const UPDATE: &str = "UPDATE report_rows r SET grant_id = s.g, currency = s.c, spend_micros = s.sp, impressions = s.im,
        clicks = s.cl, conversions = s.cv, conversion_value_micros = s.cvm, stored_at = $11
    FROM (
        SELECT unnest($2::text[]::tid[]) AS t, unnest($3::text[]) AS nk, unnest($4::text[]) AS g,
            unnest($5::text[]) AS c, unnest($6::bigint[]) AS sp, unnest($7::bigint[]) AS im,
            unnest($8::bigint[]) AS cl, unnest($9::bigint[]) AS cv, unnest($10::bigint[]) AS cvm
    ) AS s
    WHERE r.ctid = s.t AND r.tenant_id = $1 AND r.natural_key = s.nk
      AND (r.grant_id, r.currency, r.spend_micros, r.impressions, r.clicks, r.conversions, r.conversion_value_micros)
          IS DISTINCT FROM (s.g, s.c, s.sp, s.im, s.cl, s.cv, s.cvm)";

/// The upsert that is correct under any concurrency, with the parameters of [`INSERT`].
const SAFE: &str = "WITH up AS (
        INSERT INTO report_rows AS r (tenant_id, natural_key, account_key, level, object_id, day, grant_id,
            currency, spend_micros, impressions, clicks, conversions, conversion_value_micros, stored_at)
        SELECT $1, unnest($2::text[]), unnest($3::text[]), unnest($4::text[]), unnest($5::text[]),
            unnest($6::date[]), unnest($7::text[]), unnest($8::text[]), unnest($9::bigint[]), unnest($10::bigint[]),
            unnest($11::bigint[]), unnest($12::bigint[]), unnest($13::bigint[]), $14
        ON CONFLICT (tenant_id, natural_key) DO UPDATE SET
            grant_id = EXCLUDED.grant_id, currency = EXCLUDED.currency, spend_micros = EXCLUDED.spend_micros,
            impressions = EXCLUDED.impressions, clicks = EXCLUDED.clicks, conversions = EXCLUDED.conversions,
            conversion_value_micros = EXCLUDED.conversion_value_micros, stored_at = EXCLUDED.stored_at
        WHERE (r.grant_id, r.currency, r.spend_micros, r.impressions, r.clicks, r.conversions, r.conversion_value_micros)
            IS DISTINCT FROM (EXCLUDED.grant_id, EXCLUDED.currency, EXCLUDED.spend_micros, EXCLUDED.impressions,
                EXCLUDED.clicks, EXCLUDED.conversions, EXCLUDED.conversion_value_micros)
        RETURNING (xmax = 0) AS inserted
    )
    SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM up";

type PgQuery<'q> = sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>;

/// A chunk's columns as arrays, in the parameter order of [`INSERT`].
#[derive(Default)]
struct Columns<'a> {
    key: Vec<&'a str>,
    account: Vec<&'a str>,
    level: Vec<&'static str>,
    object: Vec<&'a str>,
    day: Vec<Date>,
    grant: Vec<&'a str>,
    currency: Vec<&'a str>,
    spend: Vec<i64>,
    impressions: Vec<i64>,
    clicks: Vec<i64>,
    conversions: Vec<i64>,
    value: Vec<i64>,
}

impl<'a> Columns<'a> {
    fn with_capacity(n: usize) -> Self {
        Self {
            key: Vec::with_capacity(n),
            account: Vec::with_capacity(n),
            level: Vec::with_capacity(n),
            object: Vec::with_capacity(n),
            day: Vec::with_capacity(n),
            grant: Vec::with_capacity(n),
            currency: Vec::with_capacity(n),
            spend: Vec::with_capacity(n),
            impressions: Vec::with_capacity(n),
            clicks: Vec::with_capacity(n),
            conversions: Vec::with_capacity(n),
            value: Vec::with_capacity(n),
        }
    }

    /// Adds `row`, whose natural key is `key` (`<account> <level> <object> <day>`).
    fn push(&mut self, row: &'a ReportRow, key: &'a str) -> Result<(), StoreError> {
        // The account key is the key's first part (no identifier contains a space).
        let account = key.split_once(' ').map_or(key, |(account, _)| account);
        self.key.push(key);
        self.account.push(account);
        self.level.push(level_name(row.level));
        self.object.push(row.object.as_str());
        self.day.push(row.date);
        self.grant.push(row.grant.as_str());
        self.currency.push(row.currency.as_str());
        self.spend.push(row.metrics.spend_micros);
        self.impressions.push(check::big("impressions", row.metrics.impressions)?);
        self.clicks.push(check::big("clicks", row.metrics.clicks)?);
        self.conversions.push(check::big("conversions", row.metrics.conversions)?);
        self.value.push(row.metrics.conversion_value_micros);
        Ok(())
    }

    fn len(&self) -> usize {
        self.key.len()
    }

    /// The account, level, grant and currency every row shares, if they do.
    fn uniform(&self) -> Option<[&'a str; 4]> {
        let first =
            [*self.account.first()?, *self.level.first()?, *self.grant.first()?, *self.currency.first()?];
        let same = |column: &[&str], value: &str| column.iter().all(|v| *v == value);
        (same(&self.account, first[0])
            && same(&self.level, first[1])
            && same(&self.grant, first[2])
            && same(&self.currency, first[3]))
        .then_some(first)
    }

    /// A plain insert of these rows: [`INSERT_UNIFORM`] when they share account, level, grant and currency,
    /// else [`INSERT`].
    fn insert_new<'q>(&'q self, tenant: &'q str, now: OffsetDateTime) -> PgQuery<'q> {
        let Some([account, level, grant, currency]) = self.uniform() else {
            return self.insert(INSERT, tenant, now);
        };
        sqlx::query(INSERT_UNIFORM)
            .bind(tenant)
            .bind(&self.key)
            .bind(account)
            .bind(level)
            .bind(&self.object)
            .bind(&self.day)
            .bind(grant)
            .bind(currency)
            .bind(&self.spend)
            .bind(&self.impressions)
            .bind(&self.clicks)
            .bind(&self.conversions)
            .bind(&self.value)
            .bind(now)
    }

    /// [`INSERT`] or [`SAFE`] over these rows.
    fn insert<'q>(&'q self, sql: &'q str, tenant: &'q str, now: OffsetDateTime) -> PgQuery<'q> {
        sqlx::query(sql)
            .bind(tenant)
            .bind(&self.key)
            .bind(&self.account)
            .bind(&self.level)
            .bind(&self.object)
            .bind(&self.day)
            .bind(&self.grant)
            .bind(&self.currency)
            .bind(&self.spend)
            .bind(&self.impressions)
            .bind(&self.clicks)
            .bind(&self.conversions)
            .bind(&self.value)
            .bind(now)
    }

    /// [`CLASSIFY`] over these rows.
    fn classify<'q>(&'q self, tenant: &'q str) -> PgQuery<'q> {
        sqlx::query(CLASSIFY)
            .bind(tenant)
            .bind(&self.key)
            .bind(&self.grant)
            .bind(&self.currency)
            .bind(&self.spend)
            .bind(&self.impressions)
            .bind(&self.clicks)
            .bind(&self.conversions)
            .bind(&self.value)
    }

    /// [`UPDATE`] of these rows, stored at `ctids`.
    fn update<'q>(&'q self, tenant: &'q str, ctids: &'q [String], now: OffsetDateTime) -> PgQuery<'q> {
        sqlx::query(UPDATE)
            .bind(tenant)
            .bind(ctids)
            .bind(&self.key)
            .bind(&self.grant)
            .bind(&self.currency)
            .bind(&self.spend)
            .bind(&self.impressions)
            .bind(&self.clicks)
            .bind(&self.conversions)
            .bind(&self.value)
            .bind(now)
    }
}

fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.code().as_deref() == Some("23505"))
}

async fn run(conn: &mut PgConnection, sql: &str) -> Result<(), StoreError> {
    sqlx::query(sql).execute(&mut *conn).await.map_err(error::store)?;
    Ok(())
}

/// What plan 1 or 2 concluded: the counts, or that the savepoint must be rolled back for the next plan.
enum Outcome {
    Done(UpsertCounts),
    Retry,
}

/// Upserts `records` (deduplicated, sorted by natural key, all of `tenant`), whose natural keys are `keys`.
pub(crate) async fn upsert(
    conn: &mut PgConnection,
    tenant: &TenantId,
    records: &[ReportRow],
    keys: &[String],
    now: OffsetDateTime,
) -> Result<UpsertCounts, StoreError> {
    let mut all = Columns::with_capacity(records.len());
    for (row, key) in records.iter().zip(keys) {
        all.push(row, key)?;
    }
    let n = all.len() as u64;
    if n == 0 {
        return Ok(UpsertCounts::default());
    }
    let tenant = tenant.as_str();
    run(conn, "SAVEPOINT custodian_upsert").await?;
    let sample: Vec<&str> = all
        .key
        .iter()
        .enumerate()
        .filter(|(i, _)| i % SAMPLE_EVERY == 0 || i + 1 == all.len())
        .map(|(_, k)| *k)
        .collect();
    let (any_exists,): (bool,) = sqlx::query_as(SAMPLE)
        .bind(tenant)
        .bind(&sample)
        .fetch_one(&mut *conn)
        .await
        .map_err(error::store)?;
    if !any_exists {
        match all.insert_new(tenant, now).execute(&mut *conn).await {
            Ok(_) => {
                run(conn, "RELEASE SAVEPOINT custodian_upsert").await?;
                return Ok(UpsertCounts { inserted: n, updated: 0, unchanged: 0 });
            }
            Err(e) if is_unique_violation(&e) => {
                run(conn, "ROLLBACK TO SAVEPOINT custodian_upsert").await?;
            }
            Err(e) => return Err(error::store(e)),
        }
    }
    match classified(conn, tenant, records, &all, now).await? {
        Outcome::Done(counts) => {
            run(conn, "RELEASE SAVEPOINT custodian_upsert").await?;
            Ok(counts)
        }
        Outcome::Retry => {
            run(conn, "ROLLBACK TO SAVEPOINT custodian_upsert").await?;
            let row = all.insert(SAFE, tenant, now).fetch_one(&mut *conn).await.map_err(error::store)?;
            let inserted: i64 = row.try_get(0).map_err(error::store)?;
            let updated: i64 = row.try_get(1).map_err(error::store)?;
            run(conn, "RELEASE SAVEPOINT custodian_upsert").await?;
            let inserted = crate::count(inserted);
            let updated = crate::count(updated);
            Ok(UpsertCounts { inserted, updated, unchanged: n.saturating_sub(inserted + updated) })
        }
    }
}

/// Plan 2: classify the rows, insert the missing ones, update the differing ones.
async fn classified(
    conn: &mut PgConnection,
    tenant: &str,
    records: &[ReportRow],
    all: &Columns<'_>,
    now: OffsetDateTime,
) -> Result<Outcome, StoreError> {
    let rows = all.classify(tenant).fetch_all(&mut *conn).await.map_err(error::store)?;
    let mut missing = Columns::default();
    let mut differing = Columns::default();
    let mut ctids = Vec::new();
    for row in &rows {
        let position: i64 = row.try_get(0).map_err(error::store)?;
        let ctid: Option<String> = row.try_get(1).map_err(error::store)?;
        let i = position.checked_sub(1).and_then(|i| usize::try_from(i).ok());
        let (Some(record), Some(key)) = (i.and_then(|i| records.get(i)), i.and_then(|i| all.key.get(i)))
        else {
            return Err(corrupt("a row position is out of range"));
        };
        match ctid {
            None => missing.push(record, key)?,
            Some(ctid) => {
                differing.push(record, key)?;
                ctids.push(ctid);
            }
        }
    }
    if missing.len() > 0 {
        match missing.insert_new(tenant, now).execute(&mut *conn).await {
            Ok(_) => {}
            Err(e) if is_unique_violation(&e) => return Ok(Outcome::Retry),
            Err(e) => return Err(error::store(e)),
        }
    }
    if differing.len() > 0 {
        let updated =
            differing.update(tenant, &ctids, now).execute(&mut *conn).await.map_err(error::store)?;
        if updated.rows_affected() != differing.len() as u64 {
            return Ok(Outcome::Retry);
        }
    }
    let inserted = missing.len() as u64;
    let updated = differing.len() as u64;
    Ok(Outcome::Done(UpsertCounts {
        inserted,
        updated,
        unchanged: (all.len() as u64).saturating_sub(inserted + updated),
    }))
}
