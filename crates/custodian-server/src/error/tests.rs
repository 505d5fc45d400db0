//! Unit tests of the error mapping: stable codes and statuses, denials that hide tenants, 5xx without
//! internals.

use axum::body::to_bytes;
use custodian_core::authz::Effect;
use custodian_core::personnel::Permission;

use super::*;

fn denial(reasons: Vec<Reason>) -> Decision {
    Decision { effect: Effect::Deny, reasons }
}

async fn render(error: AppError) -> (u16, String, Option<String>) {
    let response = error.into_response();
    let status = response.status().as_u16();
    let detail = response.extensions().get::<ErrorDetail>().map(|d| d.detail.clone());
    let body = to_bytes(response.into_body(), usize::MAX).await.unwrap();
    (status, String::from_utf8(body.to_vec()).unwrap(), detail)
}

#[track_caller]
fn check(error: AppError, status: u16, code: &str) {
    assert_eq!((error.code().status().as_u16(), error.code().as_str()), (status, code));
}

#[test]
fn service_errors_map_to_stable_codes() {
    check(ServiceError::NotFound.into(), 404, "not_found");
    check(ServiceError::Conflict("x".into()).into(), 409, "conflict");
    check(ServiceError::Invalid("bad".into()).into(), 422, "invalid_input");
    check(ServiceError::AuditUnavailable.into(), 503, "unavailable");
    check(ServiceError::Unavailable("store", "boom".into()).into(), 503, "unavailable");
    check(ServiceError::GrantRevoked.into(), 500, "internal");
    check(StoreError::NotFound.into(), 404, "not_found");
    check(StoreError::Invalid("column `x` too long".into()).into(), 422, "invalid_input");
    check(StoreError::Unavailable("pool closed".into()).into(), 503, "unavailable");
}

#[test]
fn denials_hide_tenants_and_point_to_step_up() {
    let granted = Reason::PermissionGranted(Permission::TenantRead);
    check(AppError::denied(&denial(vec![granted.clone(), Reason::TenantNotAssigned])), 404, "not_found");
    check(AppError::denied(&denial(vec![Reason::TenantStatusUnknown])), 404, "not_found");
    // A hidden tenant wins over every other reason, so nothing about it leaks.
    check(
        AppError::denied(&denial(vec![
            Reason::PermissionMissing(Permission::AuditRead),
            Reason::TenantNotAssigned,
        ])),
        404,
        "not_found",
    );
    check(AppError::denied(&denial(vec![granted.clone(), Reason::MfaStale])), 403, "mfa_required");
    check(AppError::denied(&denial(vec![granted.clone(), Reason::StepUpRequired])), 403, "mfa_required");
    check(
        AppError::denied(&denial(vec![Reason::PermissionMissing(Permission::AuditRead)])),
        403,
        "forbidden",
    );
    check(AppError::denied(&denial(vec![granted, Reason::UnsafeEnvironment])), 403, "forbidden");
}

#[tokio::test]
async fn bodies_are_code_and_message_and_details_stay_inside() {
    let (status, body, detail) =
        render(AppError::internal("sqlx: relation `people` does not exist at 10.0.0.5")).await;
    assert_eq!(status, 500);
    assert_eq!(body, r#"{"code":"internal","message":"internal server error"}"#);
    assert_eq!(detail.as_deref(), Some("sqlx: relation `people` does not exist at 10.0.0.5"));
    let denied = AppError::denied(&denial(vec![Reason::TenantNotAssigned]));
    let (status, body, detail) = render(denied).await;
    assert_eq!(status, 404);
    assert_eq!(body, r#"{"code":"not_found","message":"not found"}"#);
    assert_eq!(detail.as_deref(), Some("denied: ACC-1: tenant not assigned to the actor"));
    let response = AppError::unauthenticated().into_response();
    assert_eq!(response.headers().get(header::WWW_AUTHENTICATE).unwrap(), "Bearer");
}
