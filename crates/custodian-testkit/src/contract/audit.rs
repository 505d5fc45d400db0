//! The `AuditLog` contract: appends, reads, concurrency without forks, and checkpoints.

use custodian_core::audit::{
    ActorRef, AuditRecord, ChainHead, Checkpoint, NewAuditEvent, TenantChanged, verify,
    verify_from_checkpoint,
};
use custodian_core::ports::{AuditLog, StoreError};
use custodian_core::tenant::TenantId;
use futures::future::join_all;
use time::{Duration, OffsetDateTime};

use super::{BASE, ContractViolation, Ctx, outcome};

fn event(at: OffsetDateTime, text: String) -> NewAuditEvent {
    NewAuditEvent::new(at, ActorRef::System, TenantChanged::new(text))
}

fn are_events(records: &[AuditRecord], events: &[NewAuditEvent]) -> bool {
    records.len() == events.len() && records.iter().zip(events).all(|(r, e)| super::is_event(r, e))
}

/// Checks an [`AuditLog`]:
///
/// - `empty chain`: an unknown tenant's head is seq 0 and the genesis hash; reading it returns nothing;
///   an empty append changes nothing.
/// - `append`: appends return the new head, equal to `head`; seqs are consecutive from 1; the stored
///   events are the appended ones (strings bounded as `extend` bounds them), all with one environment;
///   the chain verifies from genesis (a 128-byte tenant id included).
/// - `read bounds`: `read` starts at `from_seq`, is ascending and honours `limit`.
/// - `read between`: `from <= at < to`, ascending, at most `limit`.
/// - `chains`: lists the tenants that have a chain.
/// - `tenant isolation` (SEG-1): appends to one tenant never show in or change another's chain.
/// - `concurrent appends`: 50 concurrent appends (of 1 to 3 events) never fork the chain: every event is
///   stored once, seqs are consecutive, and the chain verifies to the head.
/// - `concurrent appends across tenants`: 60 concurrent appends to three tenants (as a group-committing
///   store writes them together): every chain verifies and grew by exactly its events, seqs gapless, and
///   each caller's returned head is where its own events end, its events consecutive before it.
/// - `checkpoint and truncate`: truncation deletes exactly the records up to the checkpoint, keeps the
///   head, and what remains verifies from the checkpoint; a checkpoint that does not link to the latest is
///   `Conflict`; after truncating everything, appends continue the chain from the head.
pub async fn audit_log(audit: &dyn AuditLog, run_id: &str) -> Result<(), ContractViolation> {
    let ctx = Ctx::new("audit_log", run_id)?;
    let a: TenantId = ctx.fresh("tenant-a", true)?;
    let b: TenantId = ctx.fresh("tenant-b", false)?;
    let c: TenantId = ctx.fresh("tenant-c", false)?;
    let genesis = ChainHead::genesis(a.clone());

    let head = ctx.ok("empty chain", audit.head(&a).await)?;
    ensure!(ctx, "empty chain", head == genesis, "a new tenant's head is {head:?}");
    let records = ctx.ok("empty chain", audit.read(&a, 0, 100).await)?;
    ensure!(ctx, "empty chain", records.is_empty(), "a new tenant has {} records", records.len());
    let head = ctx.ok("empty chain", audit.append(&a, Vec::new()).await)?;
    ensure!(ctx, "empty chain", head == genesis, "an empty append moved the head to {head:?}");

    let prefix = ctx.name("event");
    let mut events: Vec<NewAuditEvent> =
        (0..3).map(|i| event(BASE + Duration::hours(i), format!("{prefix} {i}"))).collect();
    if let Some(long) = events.get_mut(2) {
        *long = event(long.at, format!("{prefix} {}", "y".repeat(2000)));
    }
    let head = ctx.ok("append", audit.append(&a, events.clone()).await)?;
    ensure!(
        ctx,
        "append",
        head.seq == 3 && head.tenant == a,
        "appending 3 events to a new chain gave head {head:?}"
    );
    let read_head = ctx.ok("append", audit.head(&a).await)?;
    ensure!(ctx, "append", read_head == head, "append returned {head:?} but the head is {read_head:?}");
    let more: Vec<NewAuditEvent> =
        (3..6).map(|i| event(BASE + Duration::hours(i), format!("{prefix} {i}"))).collect();
    let head = ctx.ok("append", audit.append(&a, more.clone()).await)?;
    events.extend(more);
    let records = ctx.ok("append", audit.read(&a, 1, 100).await)?;
    ensure!(
        ctx,
        "append",
        are_events(&records, &events),
        "the stored records are not the appended events, in order"
    );
    let seqs: Vec<u64> = records.iter().map(|r| r.seq).collect();
    ensure!(ctx, "append", seqs == (1..=6).collect::<Vec<_>>(), "seqs are {seqs:?}");
    let environment = records.first().map(|r| r.environment);
    ensure!(
        ctx,
        "append",
        records.iter().all(|r| Some(r.environment) == environment),
        "records carry different environments"
    );
    let verified = verify(&genesis, &records)
        .map_err(|e| ctx.violation("append", format!("the chain does not verify: {e}")))?;
    ensure!(ctx, "append", verified == head, "the chain verifies to {verified:?} but the head is {head:?}");

    let from3 = ctx.ok("read bounds", audit.read(&a, 3, 2).await)?;
    ensure!(
        ctx,
        "read bounds",
        from3.iter().map(|r| r.seq).collect::<Vec<_>>() == vec![3, 4],
        "read(3, limit 2) gave seqs {:?}",
        from3.iter().map(|r| r.seq).collect::<Vec<_>>()
    );
    let past = ctx.ok("read bounds", audit.read(&a, 7, 10).await)?;
    ensure!(ctx, "read bounds", past.is_empty(), "reading past the head gave {} records", past.len());
    let all = ctx.ok("read bounds", audit.read(&a, 0, 100).await)?;
    ensure!(ctx, "read bounds", all == records, "read from 0 differs from read from 1");

    let window = ctx.ok(
        "read between",
        audit.read_between(&a, BASE + Duration::hours(1), BASE + Duration::hours(3), 100).await,
    )?;
    ensure!(
        ctx,
        "read between",
        window.iter().map(|r| r.seq).collect::<Vec<_>>() == vec![2, 3],
        "read_between(1h, 3h) gave seqs {:?}",
        window.iter().map(|r| r.seq).collect::<Vec<_>>()
    );
    let limited = ctx.ok("read between", audit.read_between(&a, BASE, BASE + Duration::days(1), 4).await)?;
    ensure!(
        ctx,
        "read between",
        limited.iter().map(|r| r.seq).collect::<Vec<_>>() == vec![1, 2, 3, 4],
        "read_between with limit 4 gave seqs {:?}",
        limited.iter().map(|r| r.seq).collect::<Vec<_>>()
    );

    let b_events = vec![event(BASE, format!("{prefix} b"))];
    let head_b = ctx.ok("tenant isolation", audit.append(&b, b_events.clone()).await)?;
    ensure!(
        ctx,
        "tenant isolation",
        head_b.seq == 1 && head_b.tenant == b,
        "the first append to another tenant gave head {head_b:?}"
    );
    let head_a = ctx.ok("tenant isolation", audit.head(&a).await)?;
    ensure!(ctx, "tenant isolation", head_a == head, "another tenant's append moved this head");
    let read_b = ctx.ok("tenant isolation", audit.read(&b, 0, 100).await)?;
    ensure!(
        ctx,
        "tenant isolation",
        are_events(&read_b, &b_events) && read_b.iter().all(|r| r.tenant == b),
        "tenant `{b}` reads records that are not its own"
    );
    let between_b =
        ctx.ok("tenant isolation", audit.read_between(&b, BASE, BASE + Duration::days(1), 100).await)?;
    ensure!(
        ctx,
        "tenant isolation",
        between_b.len() == 1,
        "tenant `{b}` reads {} records in a window",
        between_b.len()
    );
    let chains = ctx.ok("chains", audit.chains().await)?;
    ensure!(ctx, "chains", chains.contains(&a) && chains.contains(&b), "`chains` does not list both tenants");
    ensure!(ctx, "chains", !chains.contains(&c), "`chains` lists a tenant that never appended");

    // 50 concurrent appenders on one chain.
    let batches: Vec<Vec<NewAuditEvent>> = (0..50i64)
        .map(|i| {
            (0..1 + i % 3).map(|j| event(BASE + Duration::minutes(i), format!("{prefix} c{i}.{j}"))).collect()
        })
        .collect();
    let total: usize = batches.iter().map(Vec::len).sum();
    let results = join_all(batches.iter().cloned().map(|events| audit.append(&c, events))).await;
    for result in &results {
        ensure!(ctx, "concurrent appends", result.is_ok(), "a concurrent append gave {}", outcome(result));
    }
    let head_c = ctx.ok("concurrent appends", audit.head(&c).await)?;
    let records_c = ctx.ok("concurrent appends", audit.read(&c, 0, u32::MAX).await)?;
    ensure!(
        ctx,
        "concurrent appends",
        records_c.len() == total && head_c.seq == total as u64,
        "{total} concurrent events left {} records and head seq {}",
        records_c.len(),
        head_c.seq
    );
    let verified = verify(&ChainHead::genesis(c.clone()), &records_c)
        .map_err(|e| ctx.violation("concurrent appends", format!("the chain forked or broke: {e}")))?;
    ensure!(
        ctx,
        "concurrent appends",
        verified == head_c,
        "the chain verifies to {verified:?} but the head is {head_c:?}"
    );
    for batch in &batches {
        let found = batch.iter().all(|e| records_c.iter().filter(|r| super::is_event(r, e)).count() == 1);
        ensure!(
            ctx,
            "concurrent appends",
            found,
            "an event of a concurrent append is missing or stored twice"
        );
    }

    // Concurrent appends across tenants (a group-committing store writes them together): each caller's
    // head is where its own events end, its events are consecutive, and every chain verifies gaplessly.
    let d: TenantId = ctx.fresh("tenant-d", false)?;
    let e: TenantId = ctx.fresh("tenant-e", false)?;
    let tenants = [c.clone(), d.clone(), e.clone()];
    let mixed: Vec<(TenantId, Vec<NewAuditEvent>)> = (0..60i64)
        .map(|i| {
            let tenant = tenants.get((i % 3) as usize).cloned().unwrap_or_else(|| c.clone());
            let events = (0..1 + i % 2)
                .map(|j| event(BASE + Duration::minutes(i), format!("{prefix} x{i}.{j}")))
                .collect();
            (tenant, events)
        })
        .collect();
    let before_c = head_c.seq;
    let results = join_all(mixed.iter().map(|(t, events)| audit.append(t, events.clone()))).await;
    for (tenant, start) in [(&c, before_c), (&d, 0), (&e, 0)] {
        let head = ctx.ok("concurrent appends across tenants", audit.head(tenant).await)?;
        let records = ctx.ok("concurrent appends across tenants", audit.read(tenant, 0, u32::MAX).await)?;
        let added: usize = mixed.iter().filter(|(t, _)| t == tenant).map(|(_, e)| e.len()).sum();
        ensure!(
            ctx,
            "concurrent appends across tenants",
            head.seq == start + added as u64 && records.len() as u64 == head.seq,
            "{added} events appended concurrently to `{tenant}` moved its head from {start} to {} with {} records",
            head.seq,
            records.len()
        );
        let verified = verify(&ChainHead::genesis(tenant.clone()), &records).map_err(|e| {
            ctx.violation("concurrent appends across tenants", format!("the chain forked or broke: {e}"))
        })?;
        ensure!(
            ctx,
            "concurrent appends across tenants",
            verified == head,
            "`{tenant}` verifies to {verified:?} but the head is {head:?}"
        );
        for ((t, events), result) in mixed.iter().zip(&results) {
            if t != tenant {
                continue;
            }
            let Ok(returned) = result else {
                return Err(ctx.violation(
                    "concurrent appends across tenants",
                    format!("an append gave {}", outcome(result)),
                ));
            };
            // The caller's events end at the head it was given, one after another.
            let first = returned.seq.saturating_sub(events.len() as u64);
            let own = records.iter().filter(|r| r.seq > first && r.seq <= returned.seq);
            let own: Vec<AuditRecord> = own.cloned().collect();
            let last = own.last().map(AuditRecord::head);
            ensure!(
                ctx,
                "concurrent appends across tenants",
                returned.tenant == *tenant && are_events(&own, events) && last.as_ref() == Some(returned),
                "an append to `{tenant}` was answered with {returned:?}, which is not where its events are"
            );
        }
    }

    // Checkpoints.
    let none = ctx.ok("checkpoint and truncate", audit.latest_checkpoint(&a).await)?;
    ensure!(ctx, "checkpoint and truncate", none.is_none(), "a new chain has a checkpoint");
    let at4 = records
        .get(3)
        .map(AuditRecord::head)
        .ok_or_else(|| ctx.violation("checkpoint and truncate", "record 4 is missing"))?;
    let cp1 = Checkpoint::new(None, &at4, BASE + Duration::days(1));
    let deleted = ctx.ok("checkpoint and truncate", audit.checkpoint_and_truncate(&cp1).await)?;
    ensure!(ctx, "checkpoint and truncate", deleted == 4, "a checkpoint at seq 4 deleted {deleted} records");
    let latest = ctx.ok("checkpoint and truncate", audit.latest_checkpoint(&a).await)?;
    ensure!(
        ctx,
        "checkpoint and truncate",
        latest.as_ref() == Some(&cp1),
        "the latest checkpoint is {latest:?}"
    );
    let rest = ctx.ok("checkpoint and truncate", audit.read(&a, 0, 100).await)?;
    ensure!(
        ctx,
        "checkpoint and truncate",
        rest.iter().map(|r| r.seq).collect::<Vec<_>>() == vec![5, 6],
        "after truncating to seq 4 the chain holds seqs {:?}",
        rest.iter().map(|r| r.seq).collect::<Vec<_>>()
    );
    let verified = verify_from_checkpoint(&cp1, &rest).map_err(|e| {
        ctx.violation(
            "checkpoint and truncate",
            format!("what remains does not verify from the checkpoint: {e}"),
        )
    })?;
    ensure!(
        ctx,
        "checkpoint and truncate",
        verified == head,
        "what remains verifies to {verified:?} but the head is {head:?}"
    );
    let head_now = ctx.ok("checkpoint and truncate", audit.head(&a).await)?;
    ensure!(ctx, "checkpoint and truncate", head_now == head, "truncation moved the head");

    let unlinked = Checkpoint::new(None, &head, BASE + Duration::days(2));
    let res = audit.checkpoint_and_truncate(&unlinked).await;
    ensure!(
        ctx,
        "checkpoint and truncate",
        matches!(res, Err(StoreError::Conflict(_))),
        "a checkpoint not linking to the latest gave {}",
        outcome(&res)
    );
    let still = ctx.ok("checkpoint and truncate", audit.read(&a, 0, 100).await)?;
    ensure!(ctx, "checkpoint and truncate", still == rest, "a rejected checkpoint deleted records");

    let cp2 = Checkpoint::new(Some(&cp1), &head, BASE + Duration::days(2));
    let deleted = ctx.ok("checkpoint and truncate", audit.checkpoint_and_truncate(&cp2).await)?;
    ensure!(
        ctx,
        "checkpoint and truncate",
        deleted == 2,
        "a checkpoint at the head deleted {deleted} of 2 records"
    );
    let empty = ctx.ok("checkpoint and truncate", audit.read(&a, 0, 100).await)?;
    ensure!(
        ctx,
        "checkpoint and truncate",
        empty.is_empty(),
        "{} records remain after truncating to the head",
        empty.len()
    );
    let head_now = ctx.ok("checkpoint and truncate", audit.head(&a).await)?;
    ensure!(
        ctx,
        "checkpoint and truncate",
        head_now == head,
        "truncating everything moved the head to {head_now:?}"
    );
    let next = vec![event(BASE + Duration::days(3), format!("{prefix} after"))];
    let new_head = ctx.ok("checkpoint and truncate", audit.append(&a, next.clone()).await)?;
    let tail = ctx.ok("checkpoint and truncate", audit.read(&a, 0, 100).await)?;
    ensure!(
        ctx,
        "checkpoint and truncate",
        are_events(&tail, &next) && new_head.seq == head.seq + 1,
        "the append after truncation gave head {new_head:?}"
    );
    let verified = verify_from_checkpoint(&cp2, &tail).map_err(|e| {
        ctx.violation(
            "checkpoint and truncate",
            format!("the chain does not continue from the checkpoint: {e}"),
        )
    })?;
    ensure!(
        ctx,
        "checkpoint and truncate",
        verified == new_head,
        "the chain after truncation verifies to {verified:?}"
    );
    let head_b_now = ctx.ok("tenant isolation", audit.head(&b).await)?;
    ensure!(ctx, "tenant isolation", head_b_now == head_b, "truncating one chain moved another's head");
    Ok(())
}
