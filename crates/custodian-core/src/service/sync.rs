//! Sync (the main job) and dataset reads: authorized, fresh, paged with checkpoints committed together
//! with each page and its audit event, PII sealed inside the adapter, reads of Confidential data audited
//! (AUTH-1..4, MIN-2, ENC-1, AUD-1, AUD-2).

use std::collections::HashSet;

use super::{PendingDecision, ServiceError, Services, Subject};
use crate::audit::{DataRead, SyncFailed, SyncProgressed};
use crate::authz::{Action, Actor};
use crate::data::{BuyerPii, DataClass, Order, Purpose, open};
use crate::grant::GrantId;
use crate::platform::{AccountRef, Task};
use crate::ports::{
    Credentials, Cursor, DatasetQuery, IngestBatch, KeyScope, OrderQuery, Page, PiiSealer, PlatformError,
    ReportQuery, StockUpdate, StockUpdateResult, StoreError, SyncCheckpoint, Target, UpsertCounts,
};
use crate::tenant::TenantId;

/// What a sync run did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SyncReport {
    pub pages: u32,
    pub records: u64,
    pub upserted: UpsertCounts,
}

impl SyncReport {
    fn add(&mut self, records: usize, counts: UpsertCounts) {
        self.pages += 1;
        self.records += records as u64;
        self.upserted.inserted += counts.inserted;
        self.upserted.updated += counts.updated;
        self.upserted.unchanged += counts.unchanged;
    }
}

/// An order as a permitted reader sees it: buyer PII opened only for readers allowed to see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderView {
    pub order: Order,
    pub buyer: Option<BuyerPii>,
}

/// Stops a cursor chain that repeats or runs away (style rule 20).
pub(super) struct CursorGuard {
    seen: HashSet<Cursor>,
    max_pages: u32,
    pages: u32,
}

impl CursorGuard {
    pub(super) fn new(max_pages: u32) -> Self {
        Self { seen: HashSet::new(), max_pages, pages: 0 }
    }

    /// The cursor to continue with, or `None` to stop.
    pub(super) fn next(&mut self, next: Option<Cursor>) -> Option<Cursor> {
        self.pages += 1;
        let cursor = next?;
        if self.pages >= self.max_pages || !self.seen.insert(cursor.clone()) {
            return None;
        }
        Some(cursor)
    }
}

/// Which kind of records a sync pulls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pull {
    Campaigns,
    Reports,
    Orders,
    Stock,
}

impl Services {
    /// Pulls campaigns and report rows of one account (ReadCampaigns + ReadReporting), resuming from the
    /// last checkpoint of each.
    pub async fn sync_reporting(
        &self,
        actor: &Actor,
        tenant: &TenantId,
        grant_id: &GrantId,
        account: &AccountRef,
        query: &ReportQuery,
    ) -> Result<SyncReport, ServiceError> {
        let mut total = SyncReport::default();
        for (task, pull) in [(Task::ReadCampaigns, Pull::Campaigns), (Task::ReadReporting, Pull::Reports)] {
            let r = self.pull(actor, tenant, grant_id, account, task, pull, Some(query), None).await?;
            total.pages += r.pages;
            total.records += r.records;
            total.upserted.inserted += r.upserted.inserted;
            total.upserted.updated += r.upserted.updated;
            total.upserted.unchanged += r.upserted.unchanged;
        }
        Ok(total)
    }

    /// Pulls orders updated in the query window. Buyer PII is requested only when the grant's switch is
    /// on and `read_buyer_pii` is authorized (MIN-2), and is sealed by the adapter with the grant's data key.
    pub async fn sync_orders(
        &self,
        actor: &Actor,
        tenant: &TenantId,
        grant_id: &GrantId,
        account: &AccountRef,
        query: &OrderQuery,
    ) -> Result<SyncReport, ServiceError> {
        self.pull(actor, tenant, grant_id, account, Task::ReadOrders, Pull::Orders, None, Some(query)).await
    }

    /// Pulls current stock levels.
    pub async fn sync_stock(
        &self,
        actor: &Actor,
        tenant: &TenantId,
        grant_id: &GrantId,
        account: &AccountRef,
    ) -> Result<SyncReport, ServiceError> {
        self.pull(actor, tenant, grant_id, account, Task::ReadOrders, Pull::Stock, None, None).await
    }

    #[expect(clippy::too_many_arguments, reason = "one pull loop for four record kinds")]
    async fn pull(
        &self,
        actor: &Actor,
        tenant: &TenantId,
        grant_id: &GrantId,
        account: &AccountRef,
        task: Task,
        pull: Pull,
        report: Option<&ReportQuery>,
        orders: Option<&OrderQuery>,
    ) -> Result<SyncReport, ServiceError> {
        let grant = self.fresh_grant(tenant, grant_id).await?;
        let subject =
            Subject { tenant: Some(tenant), target: Some(account), grant: Some(&grant), purpose: None };
        self.authorize(actor, Action::Sync(task), subject).await?;
        let adapters = self.platform(grant.platform)?;
        let pii = if pull == Pull::Orders && grant.pii_enabled {
            // Denied PII is not an error: the orders are pulled without it (and the denial is audited).
            match self.authorize(actor, Action::Sync(Task::ReadBuyerPii), subject).await {
                Ok(_) => Some(PiiSealer {
                    key: self.deps.keys.current_key(&KeyScope::grant(tenant, grant_id)).await?,
                    rng: self.deps.rng.clone(),
                }),
                Err(ServiceError::Denied(_)) => None,
                Err(e) => return Err(e),
            }
        } else {
            None
        };
        let mut credentials = self.credentials(actor, &grant).await?;
        let target = Target { tenant: tenant.clone(), grant: grant_id.clone(), account: account.clone() };
        let checkpoint_task = match pull {
            Pull::Stock => Task::UpdateStock,
            _ => task,
        };
        let mut cursor = self
            .deps
            .datasets
            .checkpoint(tenant, grant_id, checkpoint_task, account)
            .await?
            .and_then(|c| c.cursor);
        let mut guard = CursorGuard::new(self.settings.max_pages);
        let mut report_out = SyncReport::default();
        let mut refreshed = false;
        loop {
            let page = self
                .fetch(adapters, pull, &target, &credentials, report, orders, cursor.clone(), pii.clone())
                .await;
            let page = match page {
                Ok(p) => p,
                Err(PlatformError::Unauthorized { .. }) if !refreshed => {
                    refreshed = true;
                    let (stored, version) = self.deps.secrets.get(tenant, grant_id).await?;
                    credentials = self.refresh_credentials(actor, &grant, &stored, version).await?;
                    continue;
                }
                Err(PlatformError::Revoked { detail }) => {
                    self.revoke_on_platform_rejection(&grant, detail).await?;
                    return Err(ServiceError::GrantRevoked);
                }
                Err(e) => {
                    let event = self.event(actor, SyncFailed::new(grant_id.clone(), task, e.to_string()));
                    // Best effort: the sync already failed; a failing audit must not hide the first error.
                    let _ = self.audit(tenant, vec![event]).await;
                    return Err(e.into());
                }
            };
            let next = guard.next(page.next());
            let checkpoint = SyncCheckpoint {
                tenant: tenant.clone(),
                grant: grant_id.clone(),
                task: checkpoint_task,
                account: account.clone(),
                cursor: next.clone(),
                watermark: orders.map(|q| q.updated_before),
                updated_at: self.now(),
            };
            let audit = vec![self.event(
                actor,
                SyncProgressed::new(
                    grant_id.clone(),
                    task,
                    page.len() as u64,
                    next.as_ref().map(|c| c.0.clone()),
                ),
            )];
            let count = page.len();
            let counts = self.store_page(page, tenant, checkpoint, audit).await?;
            report_out.add(count, counts);
            match next {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
        Ok(report_out)
    }

    #[expect(clippy::too_many_arguments, reason = "dispatch of the pull loop")]
    async fn fetch(
        &self,
        adapters: &super::PlatformAdapters,
        pull: Pull,
        target: &Target,
        credentials: &Credentials,
        report: Option<&ReportQuery>,
        orders: Option<&OrderQuery>,
        cursor: Option<Cursor>,
        pii: Option<PiiSealer>,
    ) -> Result<Pulled, PlatformError> {
        let unsupported = || PlatformError::Unsupported(format!("{pull:?} on {}", target.account.platform()));
        match pull {
            Pull::Campaigns => {
                let src = adapters.reporting.as_ref().ok_or_else(unsupported)?;
                src.campaigns(target, credentials, cursor).await.map(Pulled::Campaigns)
            }
            Pull::Reports => {
                let src = adapters.reporting.as_ref().ok_or_else(unsupported)?;
                let q = report.ok_or_else(unsupported)?;
                src.report_rows(target, credentials, q, cursor).await.map(Pulled::Reports)
            }
            Pull::Orders => {
                let src = adapters.commerce.as_ref().ok_or_else(unsupported)?;
                let q = orders.ok_or_else(unsupported)?;
                src.orders(target, credentials, q, cursor, pii).await.map(Pulled::Orders)
            }
            Pull::Stock => {
                let src = adapters.commerce.as_ref().ok_or_else(unsupported)?;
                src.stock(target, credentials, cursor).await.map(Pulled::Stock)
            }
        }
    }

    async fn store_page(
        &self,
        page: Pulled,
        tenant: &TenantId,
        checkpoint: SyncCheckpoint,
        audit: Vec<crate::audit::NewAuditEvent>,
    ) -> Result<UpsertCounts, ServiceError> {
        let t = tenant.clone();
        let checkpoint = Some(checkpoint);
        let d = &self.deps.datasets;
        let counts = match page {
            Pulled::Campaigns(p) => {
                d.upsert_campaigns(IngestBatch { tenant: t, records: p.items, checkpoint, audit }).await
            }
            Pulled::Reports(p) => {
                d.upsert_report_rows(IngestBatch { tenant: t, records: p.items, checkpoint, audit }).await
            }
            Pulled::Orders(p) => {
                d.upsert_orders(IngestBatch { tenant: t, records: p.items, checkpoint, audit }).await
            }
            Pulled::Stock(p) => {
                d.upsert_stock(IngestBatch { tenant: t, records: p.items, checkpoint, audit }).await
            }
        };
        Ok(counts?)
    }

    /// Sets absolute stock quantities on the platform (UpdateStock).
    pub async fn push_stock(
        &self,
        actor: &Actor,
        tenant: &TenantId,
        grant_id: &GrantId,
        account: &AccountRef,
        updates: &[StockUpdate],
    ) -> Result<Vec<StockUpdateResult>, ServiceError> {
        let grant = self.fresh_grant(tenant, grant_id).await?;
        let subject =
            Subject { tenant: Some(tenant), target: Some(account), grant: Some(&grant), purpose: None };
        self.authorize(actor, Action::UpdateStock, subject).await?;
        let commerce = self
            .platform(grant.platform)?
            .commerce
            .clone()
            .ok_or(ServiceError::PlatformNotConfigured(grant.platform))?;
        let credentials = self.credentials(actor, &grant).await?;
        let target = Target { tenant: tenant.clone(), grant: grant_id.clone(), account: account.clone() };
        match commerce.set_stock(&target, &credentials, updates).await {
            Ok(results) => Ok(results),
            Err(PlatformError::Revoked { detail }) => {
                self.revoke_on_platform_rejection(&grant, detail).await?;
                Err(ServiceError::GrantRevoked)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Reads report rows (Internal data: the decision is audited, the read itself is not counted). The page
    /// is returned only after the decision is recorded (AUTH-7, AUD-2).
    pub async fn read_report_rows(
        &self,
        actor: &Actor,
        query: &DatasetQuery,
    ) -> Result<Vec<crate::data::ReportRow>, ServiceError> {
        let decided = self.decide_reads(actor, &query.tenant, &[DataClass::ReportingDataset]).await?;
        let rows = match self.deps.datasets.report_rows(query).await {
            Ok(found) => found,
            Err(e) => return Err(self.failed_read(actor, &query.tenant, decided, e).await),
        };
        self.record(actor, &query.tenant, decided, &[]).await?;
        Ok(rows)
    }

    /// Reads campaigns (Internal data, as report rows).
    pub async fn read_campaigns(
        &self,
        actor: &Actor,
        query: &DatasetQuery,
    ) -> Result<Vec<crate::data::Campaign>, ServiceError> {
        let decided = self.decide_reads(actor, &query.tenant, &[DataClass::CampaignMetadata]).await?;
        let rows = match self.deps.datasets.campaigns(query).await {
            Ok(found) => found,
            Err(e) => return Err(self.failed_read(actor, &query.tenant, decided, e).await),
        };
        self.record(actor, &query.tenant, decided, &[]).await?;
        Ok(rows)
    }

    /// Reads stock levels (order detail: Confidential, audited with counts, AUD-1). The decision and the
    /// `data_read` count are appended together, in one append, before the page is returned; if that append
    /// fails nothing is returned (AUD-2).
    pub async fn read_stock(
        &self,
        actor: &Actor,
        query: &DatasetQuery,
    ) -> Result<Vec<crate::data::StockLevel>, ServiceError> {
        let decided = self.decide_reads(actor, &query.tenant, &[DataClass::OrderDetail]).await?;
        let rows = match self.deps.datasets.stock(query).await {
            Ok(found) => found,
            Err(e) => return Err(self.failed_read(actor, &query.tenant, decided, e).await),
        };
        self.record(actor, &query.tenant, decided, &[(DataClass::OrderDetail, rows.len())]).await?;
        Ok(rows)
    }

    /// Reads orders (Confidential: audited with counts, AUD-1). With `with_pii`, buyer PII is opened only if
    /// the actor may read buyer PII (a second decision, also audited, MIN-2); otherwise the request is
    /// denied. Every decision and every `data_read` count go into one append before anything is returned or
    /// opened; if that append fails nothing is returned (AUTH-7, AUD-2).
    pub async fn read_orders(
        &self,
        actor: &Actor,
        query: &DatasetQuery,
        with_pii: bool,
    ) -> Result<Vec<OrderView>, ServiceError> {
        let tenant = &query.tenant;
        let classes: &[DataClass] =
            if with_pii { &[DataClass::OrderDetail, DataClass::BuyerPii] } else { &[DataClass::OrderDetail] };
        let decided = self.decide_reads(actor, tenant, classes).await?;
        let orders = match self.deps.datasets.orders(query).await {
            Ok(found) => found,
            Err(e) => return Err(self.failed_read(actor, &query.tenant, decided, e).await),
        };
        if !with_pii {
            self.record(actor, tenant, decided, &[(DataClass::OrderDetail, orders.len())]).await?;
            return Ok(orders.into_iter().map(|order| OrderView { order, buyer: None }).collect());
        }
        // Count first, open after: an audit failure means nothing is shown.
        let opened = orders.iter().filter(|o| o.buyer.is_some()).count();
        let counts = [(DataClass::OrderDetail, orders.len()), (DataClass::BuyerPii, opened)];
        self.record(actor, tenant, decided, &counts).await?;
        let mut out = Vec::with_capacity(orders.len());
        for order in orders {
            let buyer = self.open_buyer(&order).await?;
            out.push(OrderView { order, buyer });
        }
        Ok(out)
    }

    /// Opens an order's buyer PII with the grant key version that sealed it. A destroyed key (revoked grant)
    /// means the PII is gone: `None`.
    pub(super) async fn open_buyer(&self, order: &Order) -> Result<Option<BuyerPii>, ServiceError> {
        let Some(sealed) = &order.buyer else { return Ok(None) };
        let scope = KeyScope::grant(&order.tenant, &order.grant);
        let key = match self.deps.keys.key(&scope, sealed.key_version()).await {
            Ok(k) => k,
            Err(crate::ports::KeyError::NotFound) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        open(&key, &order.seal_context(), sealed)
            .map(Some)
            .map_err(|e| ServiceError::Unavailable("sealed data", Box::new(e)))
    }

    /// Decides reading each of `classes` of `tenant`'s data, in order, without recording the decisions
    /// yet. At the first denial the decisions so far are recorded and the denial returned; if they cannot be
    /// recorded the error is [`ServiceError::AuditUnavailable`] (AUTH-7, AUD-2). A store error while
    /// deciding a later class still records the earlier decisions (best effort: the read fails anyway).
    async fn decide_reads(
        &self,
        actor: &Actor,
        tenant: &TenantId,
        classes: &[DataClass],
    ) -> Result<Vec<PendingDecision>, ServiceError> {
        let subject =
            Subject { tenant: Some(tenant), purpose: Some(Purpose::ServiceDelivery), ..Subject::default() };
        let mut decided: Vec<PendingDecision> = Vec::with_capacity(classes.len());
        for &class in classes {
            let pending = match self.decide_unrecorded(actor, Action::ReadData(class), subject).await {
                Ok(p) => p,
                Err(e) => {
                    let _ = self.record(actor, tenant, decided, &[]).await;
                    return Err(e);
                }
            };
            if !pending.decision.is_allowed() {
                let decision = pending.decision.clone();
                decided.push(pending);
                self.record(actor, tenant, decided, &[]).await?;
                return Err(ServiceError::Denied(decision));
            }
            decided.push(pending);
        }
        Ok(decided)
    }

    /// The error of a read that failed after `decided` were made: they are recorded first (AUTH-7), and
    /// if they cannot be, the error is [`ServiceError::AuditUnavailable`].
    async fn failed_read(
        &self,
        actor: &Actor,
        tenant: &TenantId,
        decided: Vec<PendingDecision>,
        error: StoreError,
    ) -> ServiceError {
        match self.record(actor, tenant, decided, &[]).await {
            Ok(()) => error.into(),
            Err(audit) => audit,
        }
    }

    /// Records `decided` and a `data_read` event per `(class, records)` of `reads` on `tenant`'s chain, in
    /// one append when the decisions belong on that chain (they do whenever the tenant exists). Nothing read
    /// may be returned unless this succeeds (AUD-1, AUD-2, AUTH-7).
    async fn record(
        &self,
        actor: &Actor,
        tenant: &TenantId,
        decided: Vec<PendingDecision>,
        reads: &[(DataClass, usize)],
    ) -> Result<(), ServiceError> {
        let mut events = Vec::with_capacity(decided.len() + reads.len());
        for pending in decided {
            if &pending.chain == tenant {
                events.push(pending.event);
            } else {
                // A decision about a tenant that does not exist goes to the system chain on its own.
                self.audit(&pending.chain, vec![pending.event]).await?;
            }
        }
        for &(class, records) in reads {
            events.push(self.event(actor, DataRead::new(class, records as u64, Purpose::ServiceDelivery)));
        }
        if events.is_empty() {
            return Ok(());
        }
        self.audit(tenant, events).await
    }

    pub(super) async fn audit_read(
        &self,
        actor: &Actor,
        tenant: &TenantId,
        class: DataClass,
        records: usize,
    ) -> Result<(), ServiceError> {
        let event = self.event(actor, DataRead::new(class, records as u64, Purpose::ServiceDelivery));
        self.audit(tenant, vec![event]).await
    }
}

/// A page of any pulled kind.
enum Pulled {
    Campaigns(Page<crate::data::Campaign>),
    Reports(Page<crate::data::ReportRow>),
    Orders(Page<Order>),
    Stock(Page<crate::data::StockLevel>),
}

impl Pulled {
    fn next(&self) -> Option<Cursor> {
        match self {
            Pulled::Campaigns(p) => p.next.clone(),
            Pulled::Reports(p) => p.next.clone(),
            Pulled::Orders(p) => p.next.clone(),
            Pulled::Stock(p) => p.next.clone(),
        }
    }

    fn len(&self) -> usize {
        match self {
            Pulled::Campaigns(p) => p.items.len(),
            Pulled::Reports(p) => p.items.len(),
            Pulled::Orders(p) => p.items.len(),
            Pulled::Stock(p) => p.items.len(),
        }
    }
}
