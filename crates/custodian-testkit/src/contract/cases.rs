//! The `CaseStore` contract: change requests, incidents, rights requests, legal holds and receipts.

use custodian_core::approval::{ChangeDiff, ChangeField, ChangeId, ChangeRequest, ChangeValue, FieldChange};
use custodian_core::audit::system_tenant;
use custodian_core::data::{CampaignStatus, Purpose};
use custodian_core::grant::GrantId;
use custodian_core::incident::{Incident, IncidentId, IsolationScope, Severity};
use custodian_core::personnel::{PersonId, Role};
use custodian_core::platform::{AccountRef, MetaAdAccountId, Platform};
use custodian_core::ports::{AuditLog, CaseStore, StoreError};
use custodian_core::retention::{
    DeletionCause, DeletionReceipt, HoldId, HoldScope, LegalHold, ReceiptId, StoreKind,
};
use custodian_core::rights::{Regime, RightsKind, RightsRequest, RightsRequestId};
use custodian_core::tenant::TenantId;
use time::Duration;

use super::{BASE, ContractViolation, Ctx, Setup, Trail, check_chain, check_shared_chain, outcome};
use crate::fixtures;

/// Checks a [`CaseStore`] (with the [`AuditLog`] of the same backend; `setup` creates the tenants, the
/// grant and the people the cases refer to):
///
/// - `changes`, `rights requests`, `holds`: insert, read (128-byte ids), list, replace by id, unknown ids
///   `NotFound`.
/// - `incidents`: global; insert, read, list, replace; unknown ids `NotFound`.
/// - `decision cases`: `decision_cases` gives the incidents not closed and the tenant's restrictions and
///   objections not rejected, by id (another tenant's and rejected ones not), and no requests without a
///   tenant.
/// - `receipts`: immutable: a second put of the same id is `Conflict` and appends nothing.
/// - `tenant isolation` (SEG-1): another tenant's changes, rights requests, holds and receipts are
///   `NotFound` and not listed.
/// - `audit in chain`: the tenant's chain holds exactly its successful calls' events and verifies;
///   incident events are in the system chain.
pub async fn case_store(
    store: &dyn CaseStore,
    audit: &dyn AuditLog,
    setup: Setup<'_>,
    run_id: &str,
) -> Result<(), ContractViolation> {
    let ctx = Ctx::new("case_store", run_id)?;
    let since = ctx.ok("audit in chain", audit.head(&system_tenant()).await)?;
    let a: TenantId = ctx.fresh("tenant-a", true)?;
    let b: TenantId = ctx.fresh("tenant-b", false)?;
    let mut trail_a = Trail::new(&ctx);
    let mut trail_b = Trail::new(&ctx);
    let mut trail_sys = Trail::new(&ctx);
    ctx.ok("setup", setup.tenants.create_tenant(&fixtures::tenant(&a), trail_a.commit("create a")).await)?;
    ctx.ok("setup", setup.tenants.create_tenant(&fixtures::tenant(&b), trail_b.commit("create b")).await)?;
    let account = AccountRef::MetaAdAccount(
        ctx.ok("setup", MetaAdAccountId::new(format!("act_{}", ctx.digits("acct"))))?,
    );
    let g: GrantId = ctx.fresh("grant", false)?;
    let grant = fixtures::active_grant(&a, &g, Platform::Meta, std::slice::from_ref(&account), BASE);
    ctx.ok("setup", setup.grants.insert_grant(&grant, trail_a.commit("insert grant")).await)?;
    let proposer: PersonId = ctx.fresh("proposer", false)?;
    let approver: PersonId = ctx.fresh("approver", false)?;
    for person in [&proposer, &approver] {
        let p = fixtures::person(person, &[Role::AccountManager], std::slice::from_ref(&a));
        ctx.ok(
            "setup",
            setup
                .personnel
                .create_person(&p, &fixtures::credential(person), trail_sys.commit("create person"))
                .await,
        )?;
    }

    // Change requests.
    let change_id: ChangeId = ctx.fresh("change", true)?;
    let field = ctx.ok(
        "setup",
        FieldChange::new(
            ChangeField::Status,
            Some(ChangeValue::Status(CampaignStatus::Active)),
            ChangeValue::Status(CampaignStatus::Paused),
        ),
    )?;
    let diff = ctx.ok("setup", ChangeDiff::new(account.clone(), fixtures::campaign_id(1), vec![field]))?;
    let change =
        ChangeRequest::propose(change_id.clone(), a.clone(), g.clone(), diff, proposer.clone(), BASE);
    ctx.ok("changes", store.put_change(&change, trail_a.commit("propose")).await)?;
    let read = ctx.ok("changes", store.change(&a, &change_id).await)?;
    ensure!(ctx, "changes", read == change, "read back {read:?}, stored {change:?}");
    let mut approved = change.clone();
    ctx.ok(
        "setup",
        approved.approve(
            &approver,
            Some(BASE + Duration::minutes(1)),
            BASE + Duration::minutes(2),
            Duration::minutes(10),
        ),
    )?;
    ctx.ok("changes", store.put_change(&approved, trail_a.commit("approve")).await)?;
    let read = ctx.ok("changes", store.change(&a, &change_id).await)?;
    ensure!(ctx, "changes", read == approved, "the replaced change reads back as {read:?}");
    let listed = ctx.ok("changes", store.changes(&a).await)?;
    ensure!(
        ctx,
        "changes",
        listed == vec![approved.clone()],
        "listed {} changes, expected the 1 stored",
        listed.len()
    );
    let unknown: ChangeId = ctx.fresh("change-unknown", false)?;
    let read = store.change(&a, &unknown).await;
    ensure!(
        ctx,
        "changes",
        matches!(read, Err(StoreError::NotFound)),
        "an unknown change gave {}",
        outcome(&read)
    );
    let read = store.change(&b, &change_id).await;
    ensure!(
        ctx,
        "tenant isolation",
        matches!(read, Err(StoreError::NotFound)),
        "tenant `{b}` reading another tenant's change gave {}",
        outcome(&read)
    );
    let listed = ctx.ok("tenant isolation", store.changes(&b).await)?;
    ensure!(
        ctx,
        "tenant isolation",
        listed.is_empty(),
        "tenant `{b}` lists {} changes of another tenant",
        listed.len()
    );

    // Incidents (global).
    let incident_id: IncidentId = ctx.fresh("incident", true)?;
    let incident = ctx.ok(
        "setup",
        Incident::open(
            incident_id.clone(),
            approver.clone(),
            Severity::High,
            "contract suite incident",
            vec![IsolationScope::Tenant(a.clone())],
            BASE,
        ),
    )?;
    ctx.ok("incidents", store.put_incident(&incident, trail_sys.commit("open incident")).await)?;
    let read = ctx.ok("incidents", store.incident(&incident_id).await)?;
    ensure!(ctx, "incidents", read == incident, "read back {read:?}, stored {incident:?}");
    let mut contained = incident.clone();
    ctx.ok("setup", contained.contain(BASE + Duration::minutes(3)))?;
    ctx.ok("incidents", store.put_incident(&contained, trail_sys.commit("contain incident")).await)?;
    let read = ctx.ok("incidents", store.incident(&incident_id).await)?;
    ensure!(ctx, "incidents", read == contained, "the replaced incident reads back as {read:?}");
    let all = ctx.ok("incidents", store.incidents().await)?;
    ensure!(
        ctx,
        "incidents",
        all.iter().filter(|i| i.id() == &incident_id).count() == 1 && all.contains(&contained),
        "`incidents` does not list the incident once"
    );
    let unknown: IncidentId = ctx.fresh("incident-unknown", false)?;
    let read = store.incident(&unknown).await;
    ensure!(
        ctx,
        "incidents",
        matches!(read, Err(StoreError::NotFound)),
        "an unknown incident gave {}",
        outcome(&read)
    );

    // Rights requests.
    let request_id: RightsRequestId = ctx.fresh("rights", true)?;
    let request =
        RightsRequest::new(request_id.clone(), a.clone(), RightsKind::Portability, Regime::Gdpr, BASE);
    ctx.ok("rights requests", store.put_rights_request(&request, trail_a.commit("rights request")).await)?;
    let read = ctx.ok("rights requests", store.rights_request(&a, &request_id).await)?;
    ensure!(ctx, "rights requests", read == request, "read back {read:?}, stored {request:?}");
    let mut acknowledged = request.clone();
    ctx.ok("setup", acknowledged.acknowledge(BASE + Duration::days(1)))?;
    ctx.ok("rights requests", store.put_rights_request(&acknowledged, trail_a.commit("acknowledge")).await)?;
    let listed = ctx.ok("rights requests", store.rights_requests(&a).await)?;
    ensure!(
        ctx,
        "rights requests",
        listed == vec![acknowledged.clone()],
        "listed {listed:?} after replacing the request"
    );
    let unknown: RightsRequestId = ctx.fresh("rights-unknown", false)?;
    let read = store.rights_request(&a, &unknown).await;
    ensure!(
        ctx,
        "rights requests",
        matches!(read, Err(StoreError::NotFound)),
        "an unknown rights request gave {}",
        outcome(&read)
    );
    let read = store.rights_request(&b, &request_id).await;
    ensure!(
        ctx,
        "tenant isolation",
        matches!(read, Err(StoreError::NotFound)),
        "tenant `{b}` reading another tenant's rights request gave {}",
        outcome(&read)
    );
    let listed = ctx.ok("tenant isolation", store.rights_requests(&b).await)?;
    ensure!(
        ctx,
        "tenant isolation",
        listed.is_empty(),
        "tenant `{b}` lists {} rights requests of another tenant",
        listed.len()
    );

    // Decision cases: incidents not closed, and the tenant's restrictions and objections not rejected.
    let closed_id: IncidentId = ctx.fresh("incident-closed", false)?;
    let mut closed = ctx.ok(
        "setup",
        Incident::open(
            closed_id.clone(),
            approver.clone(),
            Severity::Low,
            "contract suite closed incident",
            vec![IsolationScope::Tenant(b.clone())],
            BASE,
        ),
    )?;
    ctx.ok("setup", closed.contain(BASE + Duration::minutes(1)))?;
    ctx.ok("setup", closed.resolve(BASE + Duration::minutes(2)))?;
    ctx.ok(
        "setup",
        closed.record_review(approver.clone(), "contract review", &["none"], BASE + Duration::minutes(3)),
    )?;
    ctx.ok("setup", closed.close(BASE + Duration::minutes(3)))?;
    ctx.ok("decision cases", store.put_incident(&closed, trail_sys.commit("closed incident")).await)?;
    let kinds = [
        (RightsKind::Restriction, false),
        (RightsKind::Objection(Purpose::Communication), false),
        (RightsKind::Objection(Purpose::Improvement), true),
        (RightsKind::Restriction, true),
        (RightsKind::Access, false),
    ];
    let mut expected = Vec::new();
    for (i, (kind, reject)) in kinds.into_iter().enumerate() {
        let id: RightsRequestId = ctx.fresh(&format!("decision-{i}"), false)?;
        let mut request = RightsRequest::new(id, a.clone(), kind, Regime::Gdpr, BASE);
        if reject {
            ctx.ok("setup", request.reject("contract suite: not applicable", BASE + Duration::days(1)))?;
        } else if matches!(kind, RightsKind::Restriction | RightsKind::Objection(_)) {
            expected.push(request.clone());
        }
        ctx.ok(
            "decision cases",
            store.put_rights_request(&request, trail_a.commit("decision request")).await,
        )?;
    }
    let other: RightsRequestId = ctx.fresh("decision-b", false)?;
    let other = RightsRequest::new(other, b.clone(), RightsKind::Restriction, Regime::Gdpr, BASE);
    ctx.ok("decision cases", store.put_rights_request(&other, trail_b.commit("b restriction")).await)?;
    expected.sort_by(|x, y| x.id().as_str().cmp(y.id().as_str()));
    let facts = ctx.ok("decision cases", store.decision_cases(Some(&a)).await)?;
    ensure!(
        ctx,
        "decision cases",
        facts.restricting == expected,
        "restricting requests of `{a}`: {:?}, expected the 2 restrictions and objections not rejected, by id",
        facts.restricting.iter().map(|r| r.id().as_str()).collect::<Vec<_>>()
    );
    for facts in [facts, ctx.ok("decision cases", store.decision_cases(None).await)?] {
        ensure!(
            ctx,
            "decision cases",
            facts.isolating.iter().filter(|i| i.id() == &incident_id).count() == 1
                && facts.isolating.contains(&contained)
                && facts.isolating.iter().all(Incident::isolates)
                && !facts.isolating.iter().any(|i| i.id() == &closed_id),
            "isolating incidents should hold the contained one once and no closed one: {:?}",
            facts.isolating.iter().map(|i| i.id().as_str()).collect::<Vec<_>>()
        );
    }
    let none = ctx.ok("decision cases", store.decision_cases(None).await)?;
    ensure!(
        ctx,
        "decision cases",
        none.restricting.is_empty(),
        "no tenant, yet {} requests",
        none.restricting.len()
    );

    // Legal holds.
    let hold_id: HoldId = ctx.fresh("hold", true)?;
    let hold = ctx.ok(
        "setup",
        LegalHold::new(
            hold_id.clone(),
            a.clone(),
            HoldScope::Grant(g.clone()),
            "litigation",
            approver.clone(),
            BASE,
            BASE + Duration::days(30),
        ),
    )?;
    ctx.ok("holds", store.put_hold(&hold, trail_a.commit("place hold")).await)?;
    let read = ctx.ok("holds", store.hold(&a, &hold_id).await)?;
    ensure!(ctx, "holds", read == hold, "read back {read:?}, stored {hold:?}");
    let mut lifted = hold.clone();
    ctx.ok("setup", lifted.lift(approver.clone(), BASE + Duration::days(1)))?;
    ctx.ok("holds", store.put_hold(&lifted, trail_a.commit("lift hold")).await)?;
    let listed = ctx.ok("holds", store.holds(&a).await)?;
    ensure!(ctx, "holds", listed == vec![lifted.clone()], "listed {listed:?} after lifting the hold");
    let unknown: HoldId = ctx.fresh("hold-unknown", false)?;
    let read = store.hold(&a, &unknown).await;
    ensure!(
        ctx,
        "holds",
        matches!(read, Err(StoreError::NotFound)),
        "an unknown hold gave {}",
        outcome(&read)
    );
    let read = store.hold(&b, &hold_id).await;
    ensure!(
        ctx,
        "tenant isolation",
        matches!(read, Err(StoreError::NotFound)),
        "tenant `{b}` reading another tenant's hold gave {}",
        outcome(&read)
    );
    let listed = ctx.ok("tenant isolation", store.holds(&b).await)?;
    ensure!(
        ctx,
        "tenant isolation",
        listed.is_empty(),
        "tenant `{b}` lists {} holds of another tenant",
        listed.len()
    );

    // Deletion receipts.
    let receipt_id: ReceiptId = ctx.fresh("receipt", true)?;
    let receipt = ctx.ok(
        "setup",
        DeletionReceipt::builder(
            receipt_id.clone(),
            a.clone(),
            Some(g.clone()),
            DeletionCause::Revocation,
            BASE,
        )
        .deleted(StoreKind::Dataset, "order", 12)
        .deleted(StoreKind::Keys, "data key v1", 1)
        .rechecked(StoreKind::Dataset, "order", 0)
        .rechecked(StoreKind::Keys, "data key", 0)
        .build(BASE + Duration::seconds(5)),
    )?;
    ctx.ok("receipts", store.put_receipt(&receipt, trail_a.commit("receipt")).await)?;
    let read = ctx.ok("receipts", store.receipt(&a, &receipt_id).await)?;
    ensure!(ctx, "receipts", read == receipt, "read back {read:?}, stored {receipt:?}");
    let again = store.put_receipt(&receipt, trail_a.reject("receipt again")).await;
    ensure!(
        ctx,
        "receipts",
        matches!(again, Err(StoreError::Conflict(_))),
        "storing a receipt twice gave {}",
        outcome(&again)
    );
    let listed = ctx.ok("receipts", store.receipts(&a).await)?;
    ensure!(
        ctx,
        "receipts",
        listed == vec![receipt.clone()],
        "listed {} receipts, expected the 1 stored",
        listed.len()
    );
    let unknown: ReceiptId = ctx.fresh("receipt-unknown", false)?;
    let read = store.receipt(&a, &unknown).await;
    ensure!(
        ctx,
        "receipts",
        matches!(read, Err(StoreError::NotFound)),
        "an unknown receipt gave {}",
        outcome(&read)
    );
    let read = store.receipt(&b, &receipt_id).await;
    ensure!(
        ctx,
        "tenant isolation",
        matches!(read, Err(StoreError::NotFound)),
        "tenant `{b}` reading another tenant's receipt gave {}",
        outcome(&read)
    );
    let listed = ctx.ok("tenant isolation", store.receipts(&b).await)?;
    ensure!(
        ctx,
        "tenant isolation",
        listed.is_empty(),
        "tenant `{b}` lists {} receipts of another tenant",
        listed.len()
    );

    check_chain(&ctx, audit, &a, &trail_a, "audit in chain").await?;
    check_chain(&ctx, audit, &b, &trail_b, "audit in chain").await?;
    check_shared_chain(&ctx, audit, &since, &trail_sys, "audit in chain").await
}
