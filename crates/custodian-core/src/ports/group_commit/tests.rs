//! The group writer against a scripted [`GroupWriter`]: who is answered with what, and which
//! transactions ran.

use std::sync::{Arc, Mutex};

use std::future::Future as _;

use futures::executor::block_on;
use time::macros::datetime;

use super::*;
use crate::audit::{ActorRef, Hash, TenantChanged};

/// What the scripted writer does with a group.
#[derive(Clone, Copy)]
enum Script {
    Commit,
    FailWrite,
    FailCommit,
    Hang,
}

/// Counts its transactions; a chain's head is its tenant's number of events so far.
struct Scripted {
    script: Script,
    calls: Mutex<Vec<String>>,
    seqs: Mutex<std::collections::BTreeMap<String, u64>>,
}

impl Scripted {
    fn new(script: Script) -> Self {
        Self { script, calls: Mutex::default(), seqs: Mutex::default() }
    }

    fn advance(&self, tenant: &TenantId, by: usize) -> ChainHead {
        let mut seqs = self.seqs.lock().unwrap();
        let seq = seqs.entry(tenant.as_str().to_owned()).or_default();
        *seq += by as u64;
        ChainHead { tenant: tenant.clone(), seq: *seq, hash: Hash::GENESIS }
    }

    fn calls(&self) -> Vec<String> {
        self.calls.lock().unwrap().clone()
    }
}

#[async_trait]
impl GroupWriter for Scripted {
    async fn append_alone(
        &self,
        tenant: &TenantId,
        events: Vec<NewAuditEvent>,
    ) -> Result<ChainHead, StoreError> {
        self.calls.lock().unwrap().push(format!("alone {} {}", tenant.as_str(), events.len()));
        Ok(self.advance(tenant, events.len()))
    }

    async fn commit_group(&self, group: &[QueuedAppend]) -> Result<Vec<ChainHead>, GroupFailure> {
        self.calls.lock().unwrap().push(format!("group {}", group.len()));
        match self.script {
            Script::Commit => Ok(group.iter().map(|a| self.advance(&a.tenant, a.events.len())).collect()),
            Script::FailWrite => Err(GroupFailure::Write),
            Script::FailCommit => Err(GroupFailure::Commit(StoreError::Unavailable("disk full".into()))),
            Script::Hang => futures::future::pending().await,
        }
    }
}

/// An error and its sources, joined with `: `.
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(e) = source {
        text = format!("{text}: {e}");
        source = e.source();
    }
    text
}

type Answers = Arc<Mutex<Vec<(usize, Result<u64, String>)>>>;

fn events(n: usize) -> Vec<NewAuditEvent> {
    (0..n)
        .map(|i| {
            NewAuditEvent::new(
                datetime!(2025-01-01 00:00 UTC),
                ActorRef::System,
                TenantChanged { change: format!("change {i}") },
            )
        })
        .collect()
}

/// Queues appends of (tenant, event count); returns whether each push asked for a writer.
fn queue_all(queue: &AppendQueue, appends: &[(&str, usize)], answers: &Answers) -> Vec<bool> {
    appends
        .iter()
        .enumerate()
        .map(|(i, (tenant, n))| {
            let answers = answers.clone();
            let append = QueuedAppend::new(TenantId::new(*tenant).unwrap(), events(*n), move |result| {
                answers.lock().unwrap().push((i, result.map(|h| h.seq).map_err(|e| chain(&e))));
            });
            queue.push(append)
        })
        .collect()
}

#[test]
fn the_first_append_starts_the_writer_and_a_group_is_one_commit_answering_each_with_its_own_head() {
    let queue = AppendQueue::default();
    let answers = Answers::default();
    let starts = queue_all(&queue, &[("a", 2), ("b", 1), ("a", 3)], &answers);
    assert_eq!(starts, [true, false, false], "only the first caller starts a writer");
    let writer = Scripted::new(Script::Commit);
    block_on(write_queued(&queue, &writer));
    assert_eq!(writer.calls(), ["group 3"]);
    // Per tenant in queue order: a's second append ends at 2 + 3.
    assert_eq!(*answers.lock().unwrap(), [(0, Ok(2)), (1, Ok(1)), (2, Ok(5))]);
    // The writer stopped with the queue empty: the next append starts a new one, and a group of one is
    // appended alone.
    let starts = queue_all(&queue, &[("b", 4)], &answers);
    assert_eq!(starts, [true]);
    block_on(write_queued(&queue, &writer));
    assert_eq!(writer.calls(), ["group 3", "alone b 4"]);
    assert_eq!(answers.lock().unwrap().last(), Some(&(0, Ok(5))));
}

#[test]
fn a_group_that_fails_before_its_commit_is_retried_append_by_append() {
    let queue = AppendQueue::default();
    let answers = Answers::default();
    queue_all(&queue, &[("a", 1), ("b", 2)], &answers);
    let writer = Scripted::new(Script::FailWrite);
    block_on(write_queued(&queue, &writer));
    assert_eq!(writer.calls(), ["group 2", "alone a 1", "alone b 2"]);
    assert_eq!(*answers.lock().unwrap(), [(0, Ok(1)), (1, Ok(2))]);
}

#[test]
fn a_failed_commit_is_every_callers_error_and_nothing_is_retried() {
    let queue = AppendQueue::default();
    let answers = Answers::default();
    queue_all(&queue, &[("a", 1), ("a", 1)], &answers);
    let writer = Scripted::new(Script::FailCommit);
    block_on(write_queued(&queue, &writer));
    assert_eq!(writer.calls(), ["group 2"]);
    let answers = answers.lock().unwrap();
    assert_eq!(answers.len(), 2);
    for (_, answer) in answers.iter() {
        let error = answer.as_ref().unwrap_err();
        assert!(
            error.starts_with("audit append failed")
                && error.contains("group commit")
                && error.contains("store unavailable"),
            "{error}"
        );
    }
}

/// A reply that counts being dropped uncalled (as a channel's sender closes).
struct OnDrop(Arc<Mutex<usize>>);

impl Drop for OnDrop {
    fn drop(&mut self) {
        *self.0.lock().unwrap() += 1;
    }
}

fn counted(queue: &AppendQueue, dropped: &Arc<Mutex<usize>>, answered: &Arc<Mutex<usize>>) -> bool {
    let token = OnDrop(dropped.clone());
    let answered = answered.clone();
    queue.push(QueuedAppend::new(TenantId::new("a").unwrap(), events(1), move |_| {
        *answered.lock().unwrap() += 1;
        std::mem::forget(token);
    }))
}

#[test]
fn a_writer_dropped_mid_group_abandons_its_callers_and_the_next_append_starts_another() {
    let queue = AppendQueue::default();
    let (dropped, answered) = (Arc::new(Mutex::new(0)), Arc::new(Mutex::new(0)));
    assert!(counted(&queue, &dropped, &answered));
    assert!(!counted(&queue, &dropped, &answered));
    let writer = Scripted::new(Script::Hang);
    let mut future = Box::pin(write_queued(&queue, &writer));
    let waker = futures::task::noop_waker();
    let mut cx = std::task::Context::from_waker(&waker);
    assert!(future.as_mut().poll(&mut cx).is_pending(), "the group's commit never finishes");
    assert_eq!(writer.calls(), ["group 2"]);
    // Queued while the writer is busy: no second writer.
    assert!(!counted(&queue, &dropped, &answered));
    // The runtime shuts down: the writer is dropped with its group and the one queued after it.
    drop(future);
    assert_eq!(*dropped.lock().unwrap(), 3, "every caller's reply is dropped, so each sees an error");
    assert_eq!(*answered.lock().unwrap(), 0);
    assert!(counted(&queue, &dropped, &answered), "the next append starts a new writer");
    block_on(write_queued(&queue, &Scripted::new(Script::Commit)));
    assert_eq!(*answered.lock().unwrap(), 1);
    let error = abandoned();
    assert!(matches!(error, StoreError::AuditFailed(_)));
    assert!(chain(&error).contains("abandoned before it was written"), "{}", chain(&error));
}

#[test]
fn a_group_splits_by_tenant_and_each_append_gets_the_head_of_its_own_last_event() {
    let queue = AppendQueue::default();
    let answers = Answers::default();
    queue_all(&queue, &[("b", 2), ("a", 1), ("b", 3), ("c", 1)], &answers);
    let group = queue.next_group().unwrap();
    let (mut heads, shares) = GroupHeads::split(&group);
    // Tenant order; each tenant's events in queue order.
    let split: Vec<(&str, usize)> = shares.iter().map(|s| (s.tenant.as_str(), s.events.len())).collect();
    assert_eq!(split, [("a", 1), ("b", 5), ("c", 1)]);
    let hash = |n: u8| Hash([n; 32]);
    let start =
        |tenant: &str, seq: u64| ChainHead { tenant: TenantId::new(tenant).unwrap(), seq, hash: hash(0) };
    heads.extended(&shares[0], &start("a", 7), &[hash(71)]);
    heads.extended(&shares[1], &start("b", 10), &[hash(1), hash(2), hash(3), hash(4), hash(5)]);
    // One share not recorded: no heads (the store rolls back).
    let (partial, _) = GroupHeads::split(&group);
    assert!(partial.heads().is_none());
    heads.extended(&shares[2], &start("c", 0), &[hash(9)]);
    let heads = heads.heads().unwrap();
    let got: Vec<(&str, u64, u8)> = heads.iter().map(|h| (h.tenant.as_str(), h.seq, h.hash.0[0])).collect();
    // b's first append ends at its 2nd event (seq 12), its second at its 5th (seq 15).
    assert_eq!(got, [("b", 12, 2), ("a", 8, 71), ("b", 15, 5), ("c", 1, 9)]);
    // Too few hashes for a share: its appends past them get no head.
    let (mut short, shares) = GroupHeads::split(&group);
    for share in &shares {
        short.extended(share, &start(share.tenant.as_str(), 0), &[hash(1)]);
    }
    assert!(short.heads().is_none());
}
