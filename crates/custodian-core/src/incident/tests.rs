//! Tests of incidents: isolation, transitions, notification deadlines, closing rules and scope assessment.

use expect_test::expect;
use time::macros::datetime;

use super::*;

fn tenant(s: &str) -> TenantId {
    TenantId::new(s).unwrap()
}

fn person(s: &str) -> PersonId {
    PersonId::new(s).unwrap()
}

const OPENED: OffsetDateTime = datetime!(2025-05-01 10:00 UTC);

fn incident(scopes: Vec<IsolationScope>) -> Incident {
    Incident::open(
        IncidentId::new("inc-1").unwrap(),
        person("p1"),
        Severity::High,
        "token leak",
        scopes,
        OPENED,
    )
    .unwrap()
}

fn tenant_scope(s: &str) -> IsolationScope {
    IsolationScope::Tenant(tenant(s))
}

#[test]
fn opening_isolates_at_once_until_closed() {
    let empty =
        Incident::open(IncidentId::new("i").unwrap(), person("p1"), Severity::Low, "x", vec![], OPENED);
    assert_eq!(empty, Err(IncidentError::NoScope));
    let blank = Incident::open(
        IncidentId::new("i").unwrap(),
        person("p1"),
        Severity::Low,
        " ",
        vec![tenant_scope("t1")],
        OPENED,
    );
    assert_eq!(blank, Err(IncidentError::BadText("incident summary")));

    let mut a =
        incident(vec![tenant_scope("t1"), IsolationScope::Platform(Platform::Amazon), tenant_scope("t1")]);
    assert_eq!(a.scopes().len(), 2, "duplicates dropped");
    let b = incident(vec![tenant_scope("t2"), tenant_scope("t1")]);
    expect![[r#"
        [
            Tenant(
                TenantId("t1"),
            ),
            Tenant(
                TenantId("t2"),
            ),
            Platform(
                Amazon,
            ),
        ]
    "#]]
    .assert_debug_eq(&active_isolations(&[a.clone(), b.clone()]));

    a.isolate(IsolationScope::Person(person("p9")), OPENED).unwrap();
    a.contain(OPENED + Duration::hours(1)).unwrap();
    a.isolate(tenant_scope("t3"), OPENED + Duration::hours(2)).unwrap();
    a.resolve(OPENED + Duration::hours(3)).unwrap();
    assert_eq!(
        a.isolate(tenant_scope("t4"), OPENED + Duration::hours(4)),
        Err(IncidentError::IllegalTransition {
            from: IncidentState::Resolved,
            event: IncidentEvent::Isolate
        })
    );
    // Resolved still isolates; only closing ends it.
    assert!(active_isolations(std::slice::from_ref(&a)).contains(&tenant_scope("t3")));
    a.record_review(person("p2"), "rotated tokens", &["add leak alert"], OPENED + Duration::days(1)).unwrap();
    a.close(OPENED + Duration::days(1)).unwrap();
    assert_eq!(active_isolations(&[a, b.clone()]), b.scopes().to_vec());
}

#[test]
fn illegal_transitions_are_errors() {
    let mut i = incident(vec![tenant_scope("t1")]);
    let err = |from, event| Err(IncidentError::IllegalTransition { from, event });
    assert_eq!(i.resolve(OPENED), err(IncidentState::Open, IncidentEvent::Resolve));
    assert_eq!(i.close(OPENED), err(IncidentState::Open, IncidentEvent::Close));
    assert_eq!(
        i.record_review(person("p2"), "x", &[], OPENED),
        err(IncidentState::Open, IncidentEvent::Review)
    );
    assert_eq!(
        i.contain(OPENED - Duration::seconds(1)),
        Err(IncidentError::BeforeOpening { at: OPENED - Duration::seconds(1) })
    );
    i.contain(OPENED).unwrap();
    assert_eq!(i.contain(OPENED), err(IncidentState::Contained, IncidentEvent::Contain));
    i.resolve(OPENED).unwrap();
    assert_eq!(i.close(OPENED), Err(IncidentError::ReviewMissing));
    assert_eq!(
        i.record_review(person("p2"), "done", &["", "x"], OPENED),
        Err(IncidentError::BadText("follow-up"))
    );
    i.record_review(person("p2"), "done", &[], OPENED).unwrap();
    assert_eq!(i.record_review(person("p2"), "again", &[], OPENED), Err(IncidentError::AlreadyReviewed));
    i.close(OPENED).unwrap();
    assert_eq!(i.close(OPENED), err(IncidentState::Closed, IncidentEvent::Close));
    assert_eq!(
        i.record_remediation(person("p2"), "late", OPENED),
        err(IncidentState::Closed, IncidentEvent::Remediate)
    );
    assert_eq!(i.add_notifications(vec![]), err(IncidentState::Closed, IncidentEvent::Notify));
    expect!["incident in state closed cannot record remediation"]
        .assert_eq(&i.record_remediation(person("p2"), "late", OPENED).unwrap_err().to_string());
}

#[test]
fn notifications_have_deadlines_and_gate_closing() {
    let mut i = incident(vec![tenant_scope("t1")]);
    let policy = NotificationPolicy::default();
    let planned = plan_notifications(
        &i,
        [tenant("t2"), tenant("t1"), tenant("t1")],
        [Platform::Amazon, Platform::Ebay],
        &policy,
    );
    let render: Vec<String> = planned.iter().map(|n| format!("{} due {}", n.recipient, n.due_at)).collect();
    expect![[r#"
        [
            "client t1 due 2025-05-04 10:00:00.0 +00:00:00",
            "client t2 due 2025-05-04 10:00:00.0 +00:00:00",
            "platform amazon due 2025-05-02 10:00:00.0 +00:00:00",
            "platform ebay due 2025-05-02 10:00:00.0 +00:00:00",
        ]
    "#]]
    .assert_debug_eq(&render);
    i.add_notifications(planned.clone()).unwrap();
    // Re-planning after a wider assessment adds only the new recipients.
    let more = plan_notifications(&i, [tenant("t1"), tenant("t3")], [], &policy);
    assert_eq!(
        more.iter().map(|n| n.recipient.clone()).collect::<Vec<_>>(),
        vec![Recipient::Client(tenant("t3"))]
    );
    assert_eq!(
        i.add_notifications(planned[..1].to_vec()),
        Err(IncidentError::DuplicateRecipient(Recipient::Client(tenant("t1"))))
    );

    let amazon = Recipient::Platform(Platform::Amazon);
    assert!(i.overdue_notifications(OPENED + Duration::hours(24)).is_empty());
    assert_eq!(i.overdue_notifications(OPENED + Duration::hours(25)).len(), 2);
    i.mark_sent(&amazon, OPENED + Duration::hours(2)).unwrap();
    assert_eq!(
        i.mark_sent(&amazon, OPENED + Duration::hours(3)),
        Err(IncidentError::AlreadySent(amazon.clone()))
    );
    let unknown = Recipient::Platform(Platform::Meta);
    assert_eq!(i.mark_sent(&unknown, OPENED), Err(IncidentError::UnknownRecipient(unknown)));
    let overdue: Vec<&Recipient> =
        i.overdue_notifications(OPENED + Duration::hours(73)).into_iter().map(|n| &n.recipient).collect();
    assert_eq!(overdue.len(), 3);
    assert!(!overdue.contains(&&amazon));

    i.record_remediation(person("p2"), "revoked leaked token", OPENED + Duration::hours(1)).unwrap();
    i.contain(OPENED + Duration::hours(1)).unwrap();
    i.resolve(OPENED + Duration::hours(5)).unwrap();
    i.record_review(
        person("p3"),
        "root cause: token in a log line",
        &["scrub logs"],
        OPENED + Duration::days(2),
    )
    .unwrap();
    assert_eq!(i.close(OPENED + Duration::days(2)), Err(IncidentError::NotificationsPending { pending: 3 }));
    for r in [
        Recipient::Client(tenant("t1")),
        Recipient::Client(tenant("t2")),
        Recipient::Platform(Platform::Ebay),
    ] {
        i.mark_sent(&r, OPENED + Duration::days(2)).unwrap();
    }
    i.close(OPENED + Duration::days(2)).unwrap();
    assert_eq!(i.state(), IncidentState::Closed);
    assert_eq!(i.remediation().len(), 1);
    assert_eq!(i.review().map(|r| r.follow_ups.clone()), Some(vec!["scrub logs".to_owned()]));
}

#[test]
fn custom_notification_policy() {
    let i = incident(vec![tenant_scope("t1")]);
    let policy =
        NotificationPolicy { client_deadline: Duration::hours(12), platform_deadline: Duration::hours(1) };
    let planned = plan_notifications(&i, [tenant("t1")], [Platform::TikTokShop], &policy);
    assert_eq!(planned[0].due_at, OPENED + Duration::hours(12));
    assert_eq!(planned[1].due_at, OPENED + Duration::hours(1));
}

#[test]
fn restore_keeps_closing_rules() {
    let restore = |state, review: Option<PostIncidentReview>, scopes: Vec<IsolationScope>| {
        Incident::restore(
            IncidentId::new("inc-1").unwrap(),
            person("p1"),
            OPENED,
            Severity::Critical,
            "x".into(),
            scopes,
            state,
            vec![],
            vec![],
            review,
        )
    };
    let review =
        PostIncidentReview { at: OPENED, by: person("p2"), summary: "done".into(), follow_ups: vec![] };
    assert!(restore(IncidentState::Open, None, vec![tenant_scope("t1")]).is_ok());
    assert_eq!(
        restore(IncidentState::Closed, None, vec![tenant_scope("t1")]),
        Err(IncidentError::ReviewMissing)
    );
    assert!(restore(IncidentState::Closed, Some(review), vec![tenant_scope("t1")]).is_ok());
    assert_eq!(restore(IncidentState::Open, None, vec![]), Err(IncidentError::NoScope));
}

fn fact(t: &str, class: Option<DataClass>, records: u64, at: OffsetDateTime) -> AccessFact {
    AccessFact { tenant: tenant(t), class, records, at }
}

#[test]
fn scope_assessment_window_is_inclusive() {
    let start = datetime!(2025-05-01 00:00 UTC);
    let end = datetime!(2025-05-02 00:00 UTC);
    let facts = vec![
        fact("t0", Some(DataClass::Credential), 1, start - Duration::nanoseconds(1)),
        fact("t1", Some(DataClass::OrderDetail), 10, start),
        fact("t2", None, 0, start + Duration::hours(5)),
        fact("t1", Some(DataClass::BuyerPii), 5, end),
        fact("t3", Some(DataClass::ReportingDataset), 7, end + Duration::nanoseconds(1)),
    ];
    let a = assess_scope(facts.clone(), start, end);
    assert_eq!(a.tenants, [tenant("t1"), tenant("t2")].into_iter().collect());
    assert_eq!(a.classes, [DataClass::OrderDetail, DataClass::BuyerPii].into_iter().collect());
    assert_eq!(a.records, 15);
    assert_eq!(assess_scope(facts.clone(), end, start), ScopeAssessment::default());
    let point = assess_scope(facts, end, end);
    assert_eq!(point.records, 5);
    let huge = assess_scope([fact("t1", None, u64::MAX, start), fact("t1", None, 2, start)], start, end);
    assert_eq!(huge.records, u64::MAX);
}
