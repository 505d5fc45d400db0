//! The audit trail over HTTP: paged reads and chain verification that catches changed, removed and
//! missing records (AUD-2).

use axum::http::StatusCode;
use custodian_core::audit::{AuditEvent, TenantChanged};
use custodian_core::personnel::Role;
use serde_json::json;

use crate::support::{Harness, tid};

async fn setup() -> (Harness, crate::support::Auth) {
    let h = Harness::new();
    h.tenant("t1").await;
    let auditor = h.login_as("aud@example.com", &[Role::Auditor], &["t1"]).await;
    for _ in 0..3 {
        assert_eq!(h.call("GET", "/v1/tenants/t1", &auditor, None).await.status, StatusCode::OK);
    }
    (h, auditor)
}

#[tokio::test]
async fn the_trail_is_read_in_pages() {
    let (h, auditor) = setup().await;
    let page = h.call("GET", "/v1/tenants/t1/audit?limit=2", &auditor, None).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    let records = page.body["records"].as_array().unwrap();
    assert_eq!(records.len(), 2);
    assert_eq!(page.body["next_from_seq"], 3);
    let first = &records[0];
    assert_eq!(first["seq"], 1);
    assert_eq!(first["at"], "2025-01-01T00:00:00Z");
    assert_eq!(first["environment"], "production");
    assert_eq!(first["actor"], json!({"kind": "person", "id": "aud@example.com"}));
    assert_eq!(first["kind"], "access_decided");
    assert_eq!(first["category"], "access_decision");
    assert_eq!(first["event"]["action"], "read_tenant");
    assert_eq!(first["event"]["allowed"], true);
    assert_eq!(first["event"]["reasons"], json!(["ACC-1: permission `tenant_read` held"]));
    assert_eq!(first["prev_hash"], "0".repeat(64));
    assert_eq!(records[1]["prev_hash"], first["hash"]);
    // The last page: 2 more earlier reads' decisions plus this read's own and the previous page read's.
    let rest = h.call("GET", "/v1/tenants/t1/audit?from_seq=3", &auditor, None).await;
    let seqs: Vec<u64> =
        rest.body["records"].as_array().unwrap().iter().map(|r| r["seq"].as_u64().unwrap()).collect();
    assert_eq!(seqs, [3, 4, 5]);
    assert_eq!(rest.body["next_from_seq"], serde_json::Value::Null);
}

#[tokio::test]
async fn verification_passes_on_an_intact_chain() {
    let (h, auditor) = setup().await;
    let reply = h.call("POST", "/v1/tenants/t1/audit/verify", &auditor, None).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.body["valid"], true);
    // Three reads and this verification's own decision.
    assert_eq!(reply.body["records_checked"], 4);
    assert_eq!(reply.body["head"]["seq"], 4);
    assert_eq!(reply.body["failure"], serde_json::Value::Null);
    let records = h.store.audit_records(&tid("t1"));
    assert_eq!(reply.body["head"]["hash"], records.last().unwrap().hash.to_string());
}

#[tokio::test]
async fn verification_names_the_first_bad_record() {
    // (what the attacker does, expected seq, expected reason)
    let cases: [(&str, u64, &str); 2] = [("edit", 2, "hash mismatch"), ("delete", 2, "sequence gap")];
    for (attack, seq, reason) in cases {
        let (h, auditor) = setup().await;
        let t1 = tid("t1");
        match attack {
            "edit" => assert!(
                h.store.tamper_audit(&t1, 2, |r| r.event = AuditEvent::from(TenantChanged::new("edited")))
            ),
            _ => assert!(h.store.delete_audit_record(&t1, 2)),
        }
        let reply = h.call("POST", "/v1/tenants/t1/audit/verify", &auditor, None).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
        assert_eq!(reply.body["valid"], false, "{attack}: {}", reply.text);
        assert_eq!(reply.body["failure"], json!({"seq": seq, "reason": reason}), "{attack}");
    }
}

#[tokio::test]
async fn verification_catches_a_chain_cut_short_at_the_end() {
    let (h, _) = setup().await;
    let t1 = tid("t1");
    let intact = custodian_server::verify_audit_chain(h.store.as_ref(), &t1).await.unwrap();
    assert!(intact.is_valid());
    assert_eq!((intact.records_checked, intact.head.seq), (3, 3));
    // The newest record disappears: everything left links, but the stored head is out of reach.
    assert!(h.store.delete_audit_record(&t1, 3));
    let cut = custodian_server::verify_audit_chain(h.store.as_ref(), &t1).await.unwrap();
    assert_eq!(
        cut.failure,
        Some(custodian_server::ChainFailure { seq: 3, reason: "missing records".to_owned() })
    );
    assert_eq!(cut.records_checked, 2);
}
