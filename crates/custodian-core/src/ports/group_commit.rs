//! Group commit of stand-alone audit appends, for `AuditLog` adapters (AUD-2): the queue and the writer
//! loop both stores share; each store supplies only its transactions ([`GroupWriter`]).
//!
//! Appends are queued ([`AppendQueue::push`]); the caller that finds no writer running starts one
//! ([`write_queued`], on a task of its own so a caller that stops waiting does not stop its group). The
//! writer takes everything queued as one group, writes it in one transaction with one commit, answers each
//! caller with its own head, and goes on until the queue is empty. Per tenant, a group's events are
//! appended in queue order, so each chain grows exactly as if the appends had run one after another. A
//! group of one is appended alone. If a group fails before its commit it was rolled back, and every
//! append of it is retried alone, so each caller gets its own result and nothing is lost or written
//! twice; if the commit itself fails, every caller of the group gets the error and nothing is retried (a
//! failed commit may or may not have been durable). A writer dropped before it finishes (its runtime shut
//! down) answers its queued callers with [`abandoned`] and the next append starts a new writer.
//!
//! Pure: no IO and no runtime. The reply is a callback, so a store answers over whatever channel it uses.

use std::sync::{Mutex, MutexGuard, PoisonError};

use async_trait::async_trait;

use super::StoreError;
use crate::audit::{ChainHead, Hash, NewAuditEvent};
use crate::tenant::TenantId;

/// How a queued append's caller is answered.
type Reply = Box<dyn FnOnce(Result<ChainHead, StoreError>) + Send + Sync>;

/// A stand-alone append waiting for the group writer.
pub struct QueuedAppend {
    /// The chain appended to.
    pub tenant: TenantId,
    /// The events, in order (never empty: an empty append is answered without queueing).
    pub events: Vec<NewAuditEvent>,
    reply: Reply,
}

impl QueuedAppend {
    /// An append of `events` to `tenant`'s chain whose caller is answered through `reply` (called at most
    /// once; dropped uncalled if the writer is abandoned).
    pub fn new(
        tenant: TenantId,
        events: Vec<NewAuditEvent>,
        reply: impl FnOnce(Result<ChainHead, StoreError>) + Send + Sync + 'static,
    ) -> Self {
        Self { tenant, events, reply: Box::new(reply) }
    }

    fn answer(self, result: Result<ChainHead, StoreError>) {
        (self.reply)(result);
    }
}

impl std::fmt::Debug for QueuedAppend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QueuedAppend")
            .field("tenant", &self.tenant)
            .field("events", &self.events.len())
            .finish_non_exhaustive()
    }
}

/// The queue of stand-alone appends, shared by a store's clones.
#[derive(Debug, Default)]
pub struct AppendQueue {
    state: Mutex<QueueState>,
}

#[derive(Debug, Default)]
struct QueueState {
    pending: Vec<QueuedAppend>,
    /// A group writer is running: it takes what is queued before it stops.
    writing: bool,
}

impl AppendQueue {
    fn lock(&self) -> MutexGuard<'_, QueueState> {
        // The state is a queue and a flag, consistent after every statement: a poisoned lock is usable.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues `append`; true if no writer runs, so the caller must start one ([`write_queued`]).
    pub fn push(&self, append: QueuedAppend) -> bool {
        let mut state = self.lock();
        state.pending.push(append);
        !std::mem::replace(&mut state.writing, true)
    }

    /// Everything queued, or `None` (and the writer stops) when nothing is.
    fn next_group(&self) -> Option<Vec<QueuedAppend>> {
        let mut state = self.lock();
        if state.pending.is_empty() {
            state.writing = false;
            return None;
        }
        Some(std::mem::take(&mut state.pending))
    }
}

/// Where a group failed.
#[derive(Debug)]
pub enum GroupFailure {
    /// Before its commit: rolled back, nothing of it written (each append is then retried alone).
    Write,
    /// At its commit (told to every caller of the group).
    Commit(StoreError),
}

/// A store's side of group commit: its transactions.
#[async_trait]
pub trait GroupWriter: Send + Sync {
    /// One append in its own transaction.
    async fn append_alone(
        &self,
        tenant: &TenantId,
        events: Vec<NewAuditEvent>,
    ) -> Result<ChainHead, StoreError>;

    /// Every append of `group` in one transaction with one commit: per tenant, its appends' events in
    /// queue order, in one extension of its chain. Returns each append's head, in `group` order.
    async fn commit_group(&self, group: &[QueuedAppend]) -> Result<Vec<ChainHead>, GroupFailure>;
}

/// One tenant's share of a group: the events of its appends in queue order, appended to its chain as one
/// extension (see [`GroupHeads`]).
#[derive(Debug)]
pub struct TenantShare<'a> {
    /// The chain.
    pub tenant: &'a TenantId,
    /// The events of the tenant's appends, in queue order (take them to write them).
    pub events: Vec<NewAuditEvent>,
    /// The positions of the tenant's appends in the group, in queue order.
    members: Vec<usize>,
}

/// The bookkeeping of [`GroupWriter::commit_group`], the same for every store: a group split into
/// [`TenantShare`]s (in tenant order, so that concurrent writers lock chains in one order), and each
/// append's own head once its tenant's chain has been extended.
#[derive(Debug)]
pub struct GroupHeads<'a> {
    group: &'a [QueuedAppend],
    heads: Vec<Option<ChainHead>>,
}

impl<'a> GroupHeads<'a> {
    /// The bookkeeping of `group`, and its tenants' shares to write, in tenant order.
    pub fn split(group: &'a [QueuedAppend]) -> (Self, Vec<TenantShare<'a>>) {
        let mut by_tenant: std::collections::BTreeMap<&TenantId, Vec<usize>> =
            std::collections::BTreeMap::new();
        for (i, append) in group.iter().enumerate() {
            by_tenant.entry(&append.tenant).or_default().push(i);
        }
        let shares = by_tenant
            .into_iter()
            .map(|(tenant, members)| TenantShare {
                tenant,
                events: members
                    .iter()
                    .filter_map(|&i| group.get(i))
                    .flat_map(|append| append.events.iter().cloned())
                    .collect(),
                members,
            })
            .collect();
        (Self { group, heads: vec![None; group.len()] }, shares)
    }

    /// Records that `share`'s chain grew from `start` by `hashes` (one per event, in order): each of its
    /// appends' head is its last event's.
    pub fn extended(&mut self, share: &TenantShare<'_>, start: &ChainHead, hashes: &[Hash]) {
        let mut end = 0usize;
        for &i in &share.members {
            end += self.group.get(i).map_or(0, |append| append.events.len());
            let hash = end.checked_sub(1).and_then(|last| hashes.get(last));
            if let (Some(slot), Some(hash)) = (self.heads.get_mut(i), hash) {
                *slot = Some(ChainHead {
                    tenant: share.tenant.clone(),
                    seq: start.seq + end as u64,
                    hash: *hash,
                });
            }
        }
    }

    /// Each append's head, in group order; `None` if a share was not recorded in full (the store rolls
    /// back: [`GroupFailure::Write`]).
    pub fn heads(self) -> Option<Vec<ChainHead>> {
        self.heads.into_iter().collect()
    }
}

/// Why a group's append failed, as told to each of its callers.
#[derive(Debug, thiserror::Error)]
enum GroupError {
    #[error("the audit append was abandoned before it was written")]
    Abandoned,
    #[error("the group commit of audit appends failed: {0}")]
    Commit(String),
}

/// The error of a caller whose append was abandoned before it was written (its reply dropped uncalled).
pub fn abandoned() -> StoreError {
    StoreError::AuditFailed(Box::new(GroupError::Abandoned))
}

/// Answers the queued callers of a writer that ends early, so that none waits for ever and the next
/// append starts a new writer.
struct WriterGuard<'a> {
    queue: &'a AppendQueue,
    armed: bool,
}

impl Drop for WriterGuard<'_> {
    fn drop(&mut self) {
        if self.armed {
            let abandoned = {
                let mut state = self.queue.lock();
                state.writing = false;
                std::mem::take(&mut state.pending)
            };
            drop(abandoned);
        }
    }
}

/// The group writer: writes queued groups through `writer` until `queue` is empty.
pub async fn write_queued<W: GroupWriter + ?Sized>(queue: &AppendQueue, writer: &W) {
    let mut guard = WriterGuard { queue, armed: true };
    while let Some(group) = queue.next_group() {
        write_group(writer, group).await;
    }
    guard.armed = false;
}

/// Writes one group and answers its callers.
async fn write_group<W: GroupWriter + ?Sized>(writer: &W, group: Vec<QueuedAppend>) {
    if group.len() > 1 {
        match writer.commit_group(&group).await {
            Ok(heads) => {
                for (append, head) in group.into_iter().zip(heads) {
                    append.answer(Ok(head));
                }
                return;
            }
            // Rolled back: each append again on its own below, so each caller gets its own result.
            Err(GroupFailure::Write) => {}
            Err(GroupFailure::Commit(e)) => {
                let message = e.to_string();
                for append in group {
                    append
                        .answer(Err(StoreError::AuditFailed(Box::new(GroupError::Commit(message.clone())))));
                }
                return;
            }
        }
    }
    for mut append in group {
        let events = std::mem::take(&mut append.events);
        let result = writer.append_alone(&append.tenant, events).await;
        append.answer(result);
    }
}

#[cfg(test)]
mod tests;
