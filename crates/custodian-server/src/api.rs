//! The router, built from one route table ([`operations`]): each entry registers its handler and
//! describes the operation (permission, step-up MFA, audit events, body and query types, answers). The
//! OpenAPI 3.1 document served at `GET /v1/openapi.json` ([`openapi`]) is generated from the same table,
//! so it lists every method and path with what it needs and records: read it there.
//!
//! Decisions about a tenant that does not exist go to the system chain. Layers, outermost first: sensitive
//! `Authorization`/`Cookie` headers, [`middleware::observe`], [`middleware::timeout`], the body limit.

mod changes;
mod datasets;
pub(crate) mod grants;
mod incidents;
mod openapi;
mod ops;
mod people;
mod retention;
mod rights;
mod syncs;
mod tenants;
pub(crate) mod webhooks;

use std::fmt;

use axum::extract::DefaultBodyLimit;
use axum::http::{StatusCode, header};
use axum::middleware::from_fn_with_state;
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodFilter, MethodRouter, on};
use axum::{Json, Router};
use schemars::generate::SchemaGenerator;
use schemars::{JsonSchema, Schema};
use serde::Serialize;
use tower_http::sensitive_headers::SetSensitiveHeadersLayer;

use crate::error::AppError;
use crate::middleware;
use crate::state::AppState;
use crate::wire::cases::{
    AssessBody, AssessmentAnswer, ChangeAnswer, ChangeExecution, ChangeList, CloseIncidentBody, DiffBody,
    ExportQuery, HoldAnswer, HoldBody, HoldList, IncidentAnswer, IncidentList, ListedRightsAnswer,
    NotifyBody, Offboarded, OpenIncidentBody, OpenRightsBody, ProposeChangeBody, ReceiptList, RemediateBody,
    RetentionPolicies, RightsAnswer, RightsList, SweepAnswer, UpdateRightsBody,
};
use crate::wire::flows::{
    CallbackParams, CampaignsPage, ConnectBody, ConnectStarted, DatasetParams, GrantAnswer, GrantList,
    GrantValidated, OrdersPage, PiiBody, ReceiptAnswer, ReportRowsPage, SignalAnswer, StockPage, SyncBody,
    SyncRuns, SyncStatus,
};
use crate::wire::{
    AccessBody, ApiKeyAnswer, ApiKeyCreated, ApiKeyList, AuditPage, AuditQuery, ChainVerification,
    ContactAdded, ContactList, CreateApiKeyBody, CreateContactBody, CreatePersonBody, CreateTenantBody,
    Health, LoginAnswer, LoginBody, MeAnswer, PeopleList, PersonAnswer, PersonEnrolled, SessionList,
    SessionsRevoked, StepUpAnswer, StepUpBody, TenantAnswer, TenantList,
};

/// The whole HTTP API over `state`: every route of [`operations`], then the JSON 404 and 405.
pub fn router(state: AppState) -> Router {
    let max_body = state.limits().max_body_bytes;
    let mut routes = Router::new();
    for op in operations() {
        // The same path twice merges into one route; the same method and path twice panics here, at start.
        routes = routes.route(op.path, (op.handler)(op.verb.filter()));
    }
    routes
        .fallback(ops::not_found)
        .method_not_allowed_fallback(ops::method_not_allowed)
        .layer(DefaultBodyLimit::max(max_body))
        .layer(from_fn_with_state(state.clone(), middleware::timeout))
        .layer(from_fn_with_state(state.clone(), middleware::observe))
        .layer(SetSensitiveHeadersLayer::new([
            header::AUTHORIZATION,
            header::PROXY_AUTHORIZATION,
            header::COOKIE,
            header::SET_COOKIE,
        ]))
        .with_state(state)
}

/// A handler's JSON answer: a typed view from [`crate::wire`], serialized at once (so a view may borrow
/// the handler's locals). The operation declares the view's type with [`Operation::answers`], and the
/// OpenAPI document describes exactly that type.
type Answered = Result<Response, AppError>;

/// 200 with the JSON of `answer`.
fn ok(answer: impl Serialize) -> Answered {
    Ok(Json(answer).into_response())
}

/// 201 with the JSON of `answer`.
fn created(answer: impl Serialize) -> Answered {
    Ok((StatusCode::CREATED, Json(answer)).into_response())
}

/// An HTTP method of the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verb {
    Get,
    Post,
    Put,
    Delete,
}

impl Verb {
    fn filter(self) -> MethodFilter {
        match self {
            Verb::Get => MethodFilter::GET,
            Verb::Post => MethodFilter::POST,
            Verb::Put => MethodFilter::PUT,
            Verb::Delete => MethodFilter::DELETE,
        }
    }

    /// The method's name as OpenAPI keys it.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Verb::Get => "get",
            Verb::Post => "post",
            Verb::Put => "put",
            Verb::Delete => "delete",
        }
    }
}

/// How a request proves who sent it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Access {
    /// Nothing.
    Public,
    /// `Authorization: Bearer <session token>`: people only (an API key is refused).
    Session,
    /// A session or `Authorization: ApiKey <key>` (ACC-4).
    Credential,
    /// The `state` of a pending OAuth connect; the connect completes as the person or key that started it.
    ConsentState,
    /// The platform's signature over the notification (AUTH-6).
    Signature,
}

/// What a success answer carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Media {
    Json,
    Empty,
    Text(&'static str),
    /// JSON, or one CSV file (rights exports).
    JsonOrCsv,
}

/// A success answer.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) media: Media,
    pub(crate) description: &'static str,
}

/// Registers a handler for a method.
type Handler = fn(MethodFilter) -> MethodRouter<AppState>;
/// Describes a request type, registering its named subschemas with the generator.
type SchemaFn = fn(&mut SchemaGenerator) -> Schema;

/// One operation of the API: how the router serves it and how the OpenAPI document describes it.
pub(crate) struct Operation {
    pub(crate) verb: Verb,
    /// The path template, as axum and OpenAPI both write it (`/v1/tenants/{id}`).
    pub(crate) path: &'static str,
    pub(crate) id: &'static str,
    pub(crate) tag: &'static str,
    pub(crate) summary: &'static str,
    pub(crate) access: Access,
    /// The permission the decision checks, as people read it (e.g. "`tenant_read`").
    pub(crate) permission: Option<&'static str>,
    /// Whether a recent step-up MFA verification is needed (ACC-2).
    pub(crate) step_up: bool,
    /// The audit events and the chain they go to.
    pub(crate) audit: &'static str,
    /// The JSON body's type.
    pub(crate) body: Option<SchemaFn>,
    /// The query string's type (its fields are the parameters).
    pub(crate) query: Option<SchemaFn>,
    pub(crate) ok: Answer,
    /// The JSON schema of the success answer: the typed view the handler serializes
    /// ([`Operation::answers`]). Every JSON answer has one, except the OpenAPI document itself and the
    /// rights export (which pass on a document built elsewhere); those say only "an object".
    pub(crate) ok_schema: Option<SchemaFn>,
    /// Another success answer (eBay's 204).
    pub(crate) also: Option<Answer>,
    /// Error statuses beyond those that follow from access, body, query and path ([`openapi::error_statuses`]).
    pub(crate) errors: &'static [u16],
    handler: Handler,
}

impl fmt::Debug for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Operation")
            .field("verb", &self.verb)
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

fn schema_of<T: JsonSchema>(generator: &mut SchemaGenerator) -> Schema {
    generator.subschema_for::<T>()
}

fn inline_schema_of<T: JsonSchema>(generator: &mut SchemaGenerator) -> Schema {
    T::json_schema(generator)
}

/// A public operation answering 200 with JSON, until the builder methods say otherwise.
fn op(verb: Verb, path: &'static str, id: &'static str, handler: Handler) -> Operation {
    Operation {
        verb,
        path,
        id,
        tag: "",
        summary: "",
        access: Access::Public,
        permission: None,
        step_up: false,
        audit: "none",
        body: None,
        query: None,
        ok: Answer { status: 200, media: Media::Json, description: "" },
        ok_schema: None,
        also: None,
        errors: &[],
        handler,
    }
}

impl Operation {
    fn tag(mut self, tag: &'static str) -> Self {
        self.tag = tag;
        self
    }

    fn summary(mut self, summary: &'static str) -> Self {
        self.summary = summary;
        self
    }

    /// Needs a session or an API key.
    fn authenticated(mut self) -> Self {
        self.access = Access::Credential;
        self
    }

    /// Needs a person's session.
    fn people_only(mut self) -> Self {
        self.access = Access::Session;
        self
    }

    fn access(mut self, access: Access) -> Self {
        self.access = access;
        self
    }

    /// The permission the decision checks (a session or an API key unless [`Self::people_only`]).
    fn needs(mut self, permission: &'static str) -> Self {
        if self.access == Access::Public {
            self.access = Access::Credential;
        }
        self.permission = Some(permission);
        self
    }

    fn step_up(mut self) -> Self {
        self.step_up = true;
        self
    }

    fn audit(mut self, audit: &'static str) -> Self {
        self.audit = audit;
        self
    }

    fn body<T: JsonSchema>(mut self) -> Self {
        self.body = Some(schema_of::<T>);
        self
    }

    fn query<T: JsonSchema>(mut self) -> Self {
        self.query = Some(inline_schema_of::<T>);
        self
    }

    /// The success answer is the JSON of `T` (the handler serializes exactly that type).
    fn answers<T: JsonSchema>(mut self) -> Self {
        self.ok_schema = Some(schema_of::<T>);
        self
    }

    fn ok(mut self, status: u16, description: &'static str) -> Self {
        self.ok = Answer { status, media: Media::Json, description };
        self
    }

    fn ok_media(mut self, status: u16, media: Media, description: &'static str) -> Self {
        self.ok = Answer { status, media, description };
        self
    }

    fn also(mut self, status: u16, media: Media, description: &'static str) -> Self {
        self.also = Some(Answer { status, media, description });
        self
    }

    fn errors(mut self, errors: &'static [u16]) -> Self {
        self.errors = errors;
        self
    }
}

/// Every operation of the API, in one table: the router registers these and nothing else, and
/// `GET /v1/openapi.json` describes these.
pub(crate) fn operations() -> Vec<Operation> {
    use Verb::Get;
    let mut all = Vec::new();
    all.extend(personnel());
    all.extend(tenancy());
    all.extend(flows());
    all.extend(cases());
    all.extend(
        [
            op(Get, "/healthz", "healthz", |m| on(m, ops::healthz))
                .summary("Liveness: the process answers")
                .ok(200, "`{\"status\": \"ok\"}`")
                .answers::<Health>(),
            op(Get, "/readyz", "readyz", |m| on(m, ops::readyz))
                .summary("Readiness: the store answers a cheap call")
                .ok(200, "`{\"status\": \"ready\"}`")
                .answers::<Health>(),
            op(Get, "/metrics", "metrics", |m| on(m, ops::metrics))
                .summary(
                    "Prometheus metrics; with `security.metrics_token` set, only for `Authorization: Bearer <token>`",
                )
                .ok_media(200, Media::Text("text/plain"), "the metrics in Prometheus' text format 0.0.4")
                .errors(&[401]),
            op(Get, "/v1/openapi.json", "openapi", |m| on(m, openapi::serve))
                .summary("This OpenAPI document, generated from the router's route table")
                .ok(200, "the OpenAPI 3.1 document"),
        ]
        .into_iter()
        .map(|op| op.tag("ops")),
    );
    all
}

/// Authentication, people and API keys.
fn personnel() -> Vec<Operation> {
    use Verb::{Delete, Get, Post, Put};
    let auth = [
        op(Post, "/v1/auth/login", "login", |m| on(m, people::login))
            .summary("Log in with email, password and TOTP code (ACC-2)")
            .audit("`login_attempted` (system)")
            .body::<LoginBody>()
            .ok(200, "the session token (shown once), its expiry and the person")
            .answers::<LoginAnswer<'static>>()
            .errors(&[401]),
        op(Post, "/v1/auth/logout", "logout", |m| on(m, people::logout))
            .summary("End the session")
            .people_only()
            .audit("`session_changed` logout (system)")
            .ok_media(204, Media::Empty, "the session is revoked"),
        op(Post, "/v1/auth/step-up", "stepUp", |m| on(m, people::step_up))
            .summary("Verify a fresh TOTP code for sensitive actions (ACC-2)")
            .people_only()
            .audit(
                "`session_changed` step_up; a failure `login_attempted`, and `session_changed` \
                 revoked_after_lockout when it locks the account (system)",
            )
            .body::<StepUpBody>()
            .ok(200, "when the verification was recorded")
            .answers::<StepUpAnswer>(),
        op(Get, "/v1/me", "me", |m| on(m, people::me))
            .summary("Who is calling: the person and session, or the API key")
            .authenticated()
            .ok(200, "the person and session, or the API key")
            .answers::<MeAnswer<'static>>(),
        op(Get, "/v1/me/sessions", "mySessions", |m| on(m, people::my_sessions))
            .summary("The caller's sessions that still work, newest first (never their tokens)")
            .people_only()
            .ok(200, "the sessions; `current` marks this one")
            .answers::<SessionList>(),
        op(Post, "/v1/me/sessions/revoke", "signMeOutEverywhere", |m| on(m, people::sign_me_out))
            .summary("End every session of the caller, this one included (a lost device)")
            .people_only()
            .audit("`session_changed` signed_out_everywhere (system)")
            .ok(200, "how many sessions ended")
            .answers::<SessionsRevoked>(),
    ];
    let people = [
        op(Post, "/v1/people", "createPerson", |m| on(m, people::create))
            .summary("Create a person with roles and tenants; the TOTP enrolment is shown once")
            .needs("`personnel_manage`")
            .audit("`access_decided`, `personnel_changed` (system)")
            .body::<CreatePersonBody>()
            .ok(201, "the person and the TOTP secret (shown once)")
            .answers::<PersonEnrolled<'static>>(),
        op(Get, "/v1/people", "listPeople", |m| on(m, people::list))
            .summary("Every person")
            .needs("`personnel_manage`")
            .audit("`access_decided` (system)")
            .ok(200, "the people")
            .answers::<PeopleList<'static>>(),
        op(Get, "/v1/people/{id}", "getPerson", |m| on(m, people::get))
            .summary("One person")
            .needs("`personnel_manage`")
            .audit("`access_decided` (system)")
            .ok(200, "the person")
            .answers::<PersonAnswer<'static>>(),
        op(Put, "/v1/people/{id}/access", "setAccess", |m| on(m, people::set_access))
            .summary("Replace a person's roles and tenant assignments")
            .needs("`personnel_manage`")
            .audit("`access_decided`, `personnel_changed` (system)")
            .body::<AccessBody>()
            .ok(200, "the person")
            .answers::<PersonAnswer<'static>>(),
        op(Post, "/v1/people/{id}/totp", "enrolTotp", |m| on(m, people::enrol_totp))
            .summary("Enrol a new TOTP secret; shown once")
            .needs("`personnel_manage`")
            .audit("`access_decided`, `personnel_changed` (system)")
            .ok(200, "the person and the TOTP secret (shown once)")
            .answers::<PersonEnrolled<'static>>(),
        op(Post, "/v1/people/{id}/disable", "disablePerson", |m| on(m, people::disable))
            .summary("Disable a person: their sessions stop working")
            .needs("`personnel_manage`")
            .audit("`access_decided`, `personnel_changed` (system)")
            .ok(200, "the person")
            .answers::<PersonAnswer<'static>>(),
        op(Get, "/v1/people/{id}/sessions", "personSessions", |m| on(m, people::sessions))
            .summary("A person's sessions that still work, newest first (never their tokens)")
            .needs("`personnel_manage`")
            .audit("`access_decided` (system)")
            .ok(200, "the sessions")
            .answers::<SessionList>(),
        op(Post, "/v1/people/{id}/sessions/revoke", "signPersonOut", |m| on(m, people::sign_out))
            .summary("End every session of a person at once (a suspected compromise), without disabling them")
            .needs("`personnel_manage`")
            .audit("`access_decided`, `session_changed` signed_out_by_admin (system)")
            .ok(200, "how many sessions ended")
            .answers::<SessionsRevoked>(),
    ];
    let keys = [
        op(Post, "/v1/api-keys", "createApiKey", |m| on(m, people::create_key))
            .summary("Create an integrator API key; the key is shown once")
            .people_only()
            .needs("`api_key_manage`")
            .audit("`access_decided`, `api_key_changed` (system)")
            .body::<CreateApiKeyBody>()
            .ok(201, "the API key and the key itself (shown once)")
            .answers::<ApiKeyCreated<'static>>(),
        op(Get, "/v1/api-keys", "listApiKeys", |m| on(m, people::list_keys))
            .summary("Every API key (never the keys themselves)")
            .needs("`api_key_manage`")
            .audit("`access_decided` (system)")
            .ok(200, "the API keys")
            .answers::<ApiKeyList<'static>>(),
        op(Delete, "/v1/api-keys/{id}", "revokeApiKey", |m| on(m, people::revoke_key))
            .summary("Revoke an API key")
            .needs("`api_key_manage`")
            .audit("`access_decided`, `api_key_changed` (system)")
            .ok(200, "the revoked API key")
            .answers::<ApiKeyAnswer<'static>>(),
    ];
    auth.into_iter()
        .map(|op| op.tag("auth"))
        .chain(people.into_iter().map(|op| op.tag("people")))
        .chain(keys.into_iter().map(|op| op.tag("api-keys")))
        .collect()
}

/// Tenants, contacts and the audit trail.
fn tenancy() -> Vec<Operation> {
    use Verb::{Get, Post};
    let tenants = [
        op(Post, "/v1/tenants", "createTenant", |m| on(m, tenants::create))
            .summary("Create a tenant (and assign it to its creator)")
            .needs("`tenant_manage` (+ `personnel_manage` to self-assign)")
            .audit("[`access_decided`, `personnel_changed`,] `access_decided` (system), `tenant_changed` (tenant)")
            .body::<CreateTenantBody>()
            .ok(201, "the tenant")
            .answers::<TenantAnswer<'static>>(),
        op(Get, "/v1/tenants", "listTenants", |m| on(m, tenants::list))
            .summary("The tenants the caller is assigned to")
            .needs("`tenant_read` per assigned tenant")
            .audit("`access_decided` (each tenant)")
            .ok(200, "the tenants")
            .answers::<TenantList<'static>>(),
        op(Get, "/v1/tenants/{id}", "getTenant", |m| on(m, tenants::get))
            .summary("One tenant")
            .needs("`tenant_read`")
            .audit("`access_decided` (tenant)")
            .ok(200, "the tenant")
            .answers::<TenantAnswer<'static>>(),
        op(Post, "/v1/tenants/{id}/contacts", "addContact", |m| on(m, tenants::add_contact))
            .summary("Add a business contact (sealed at rest)")
            .needs("`tenant_manage`")
            .audit("`access_decided`, `tenant_changed` (tenant)")
            .body::<CreateContactBody>()
            .ok(201, "the contact's id and role")
            .answers::<ContactAdded<'static>>(),
        op(Get, "/v1/tenants/{id}/contacts", "listContacts", |m| on(m, tenants::contacts))
            .summary("The tenant's business contacts")
            .needs("`dataset_read` (business contacts)")
            .audit("`access_decided`, `data_read` (tenant)")
            .ok(200, "the contacts")
            .answers::<ContactList<'static>>(),
    ];
    let audit = [
        op(Get, "/v1/tenants/{id}/audit", "readAudit", |m| on(m, tenants::audit))
            .summary("A page of the tenant's audit chain")
            .needs("`audit_read`")
            .audit("`access_decided` (tenant)")
            .query::<AuditQuery>()
            .ok(200, "the records and the next page's `from_seq`")
            .answers::<AuditPage<'static>>()
            .errors(&[422]),
        op(Post, "/v1/tenants/{id}/audit/verify", "verifyAudit", |m| on(m, tenants::verify_audit))
            .summary("Verify the tenant's audit chain (AUD-3)")
            .needs("`audit_verify`")
            .audit("`access_decided` (tenant)")
            .ok(200, "whether the chain is intact, how far it was checked, and the first failure")
            .answers::<ChainVerification<'static>>(),
    ];
    tenants
        .into_iter()
        .map(|op| op.tag("tenants"))
        .chain(audit.into_iter().map(|op| op.tag("audit")))
        .collect()
}

/// Grants, syncs, datasets and platform webhooks.
fn flows() -> Vec<Operation> {
    use Verb::{Get, Post, Put};
    let grants = [
        op(Post, "/v1/tenants/{id}/grants", "connectGrant", |m| on(m, grants::connect))
            .summary("Start connecting a platform: a pending grant and the consent URL (AUTH-4)")
            .needs("`grant_connect`")
            .audit("`access_decided`, `grant_changed` pending [+ `access_decided`, `grant_changed` pii] (tenant)")
            .body::<ConnectBody>()
            .ok(201, "the pending grant, the consent URL and its anti-forgery `state`")
            .answers::<ConnectStarted<'static>>(),
        op(Get, "/v1/oauth/{platform}/callback", "oauthCallback", |m| on(m, grants::callback))
            .summary("The platform's OAuth redirect after consent: exchange the code, validate and activate")
            .access(Access::ConsentState)
            .needs("the initiator's `grant_connect`")
            .audit(
                "`access_decided`, `secret_accessed` put, `grant_changed` active (tenant); a bad state: \
                 `access_decided` deny (system)",
            )
            .query::<CallbackParams>()
            .ok(200, "the active grant")
            .answers::<GrantAnswer<'static>>()
            .errors(&[401, 409, 422]),
        op(Get, "/v1/tenants/{id}/grants", "listGrants", |m| on(m, grants::list))
            .summary("The tenant's grants, newest first")
            .needs("`tenant_read`")
            .audit("`access_decided` (tenant)")
            .ok(200, "the grants (evidence, never tokens)")
            .answers::<GrantList<'static>>(),
        op(Get, "/v1/tenants/{id}/grants/{grant}", "getGrant", |m| on(m, grants::get))
            .summary("One grant")
            .needs("`tenant_read`")
            .audit("`access_decided` (tenant)")
            .ok(200, "the grant")
            .answers::<GrantAnswer<'static>>(),
        op(Post, "/v1/tenants/{id}/grants/{grant}/validate", "validateGrant", |m| on(m, grants::validate))
            .summary("Validate a grant live against the platform (AUTH-2)")
            .needs("`grant_validate`")
            .audit("`access_decided`, `grant_changed` (tenant)")
            .ok(200, "the grant and the validation's outcome")
            .answers::<GrantValidated<'static>>()
            .errors(&[422]),
        op(Post, "/v1/tenants/{id}/grants/{grant}/review", "reviewGrant", |m| on(m, grants::review))
            .summary("Mark a grant in review as reviewed")
            .needs("`grant_review`")
            .audit("`access_decided`, `grant_changed` (tenant)")
            .ok(200, "the grant")
            .answers::<GrantAnswer<'static>>(),
        op(Put, "/v1/tenants/{id}/grants/{grant}/pii", "setGrantPii", |m| on(m, grants::set_pii))
            .summary("Switch buyer PII on or off for a grant (MIN-2)")
            .needs("`grant_connect` (step-up where core's policy says)")
            .audit("`access_decided`, `grant_changed` (tenant)")
            .body::<PiiBody>()
            .ok(200, "the grant")
            .answers::<GrantAnswer<'static>>(),
        op(Post, "/v1/tenants/{id}/grants/{grant}/revoke", "revokeGrant", |m| on(m, grants::revoke))
            .summary("Revoke a grant and purge its data at once (RET-3, RET-6)")
            .needs("`grant_revoke`")
            .audit(
                "`access_decided`, `grant_changed` revoked, `key_changed`, `secret_accessed` delete, \
                 `records_purged` (tenant)",
            )
            .ok(200, "the revoked grant and the deletion receipt")
            .answers::<ReceiptAnswer<'static>>(),
    ];
    let syncs = [
        op(Post, "/v1/tenants/{id}/grants/{grant}/syncs", "runSync", |m| on(m, syncs::trigger))
            .summary("Run a sync of the grant now")
            .needs("`tenant_read`, then `sync_run` per account and task")
            .audit("`access_decided`, `sync_progressed` per page, `sync_failed` (tenant)")
            .body::<SyncBody>()
            .ok(200, "what each run stored")
            .answers::<SyncRuns<'static>>(),
        op(Get, "/v1/tenants/{id}/grants/{grant}/syncs", "syncStatus", |m| on(m, syncs::status))
            .summary("The grant's state and the checkpoint of every account and kind that has run")
            .needs("`tenant_read`")
            .audit("`access_decided` (tenant)")
            .ok(200, "the grant's state and checkpoints")
            .answers::<SyncStatus<'static>>(),
    ];
    let datasets = [
        op(Get, "/v1/tenants/{id}/report-rows", "readReportRows", |m| on(m, datasets::report_rows))
            .summary("A page of report rows")
            .needs("`dataset_read`")
            .audit("`access_decided` (tenant)")
            .query::<DatasetParams>()
            .ok(200, "the rows and the next page's cursor")
            .answers::<ReportRowsPage<'static>>()
            .errors(&[422]),
        op(Get, "/v1/tenants/{id}/campaigns", "readCampaigns", |m| on(m, datasets::campaigns))
            .summary("A page of campaigns")
            .needs("`dataset_read`")
            .audit("`access_decided` (tenant)")
            .query::<DatasetParams>()
            .ok(200, "the campaigns and the next page's cursor")
            .answers::<CampaignsPage<'static>>()
            .errors(&[422]),
        op(Get, "/v1/tenants/{id}/orders", "readOrders", |m| on(m, datasets::orders))
            .summary("A page of orders; buyer PII only with `with_pii=true` for a permitted reader (MIN-2)")
            .needs("`dataset_read` [+ `pii_read` with `with_pii=true`]")
            .audit("`access_decided`, `data_read` order_detail [+ buyer_pii] (tenant)")
            .query::<DatasetParams>()
            .ok(200, "the orders and the next page's cursor")
            .answers::<OrdersPage<'static>>()
            .errors(&[422]),
        op(Get, "/v1/tenants/{id}/stock", "readStock", |m| on(m, datasets::stock))
            .summary("A page of stock levels")
            .needs("`dataset_read`")
            .audit("`access_decided`, `data_read` order_detail (tenant)")
            .query::<DatasetParams>()
            .ok(200, "the stock levels and the next page's cursor")
            .answers::<StockPage<'static>>()
            .errors(&[422]),
    ];
    const SIGNAL_AUDIT: &str =
        "`signal_received` or `signal_rejected` (system); revocations as `POST .../revoke` (tenant)";
    const SIGNAL_ERRORS: &[u16] = &[400, 401, 409, 412, 413];
    let webhooks = [
        op(Post, "/v1/webhooks/{platform}", "receiveSignal", |m| on(m, webhooks::receive))
            .summary("A platform notification (revocation, expiry warning, data deletion)")
            .access(Access::Signature)
            .audit(SIGNAL_AUDIT)
            .ok(200, "handled: what was revoked, or the answer the platform expects")
            .answers::<SignalAnswer>()
            .also(204, Media::Empty, "handled (eBay)")
            .errors(SIGNAL_ERRORS),
        op(Get, "/v1/webhooks/{platform}", "answerChallenge", |m| on(m, webhooks::receive))
            .summary("A platform's endpoint challenge (eBay)")
            .access(Access::Signature)
            .audit(SIGNAL_AUDIT)
            .ok(200, "the challenge response")
            .answers::<SignalAnswer>()
            .errors(SIGNAL_ERRORS),
        op(Post, "/v1/webhooks/{platform}/{topic}", "receiveTopicSignal", |m| on(m, webhooks::receive_topic))
            .summary("A platform notification on a per-topic URL (Meta's deauthorize and data-deletion)")
            .access(Access::Signature)
            .audit(SIGNAL_AUDIT)
            .ok(200, "handled: what was revoked, or the answer the platform expects")
            .answers::<SignalAnswer>()
            .also(204, Media::Empty, "handled (eBay)")
            .errors(SIGNAL_ERRORS),
        op(Get, "/v1/webhooks/{platform}/{topic}", "answerTopicChallenge", |m| {
            on(m, webhooks::receive_topic)
        })
        .summary("A platform's challenge on a per-topic URL")
        .access(Access::Signature)
        .audit(SIGNAL_AUDIT)
        .ok(200, "the challenge response")
        .answers::<SignalAnswer>()
        .errors(SIGNAL_ERRORS),
    ];
    grants
        .into_iter()
        .map(|op| op.tag("grants"))
        .chain(syncs.into_iter().map(|op| op.tag("syncs")))
        .chain(datasets.into_iter().map(|op| op.tag("datasets")))
        .chain(webhooks.into_iter().map(|op| op.tag("webhooks")))
        .collect()
}

/// Change requests, retention, rights requests and incidents.
fn cases() -> Vec<Operation> {
    use Verb::{Delete, Get, Post};
    let changes = [
        op(Post, "/v1/tenants/{id}/changes", "proposeChange", |m| on(m, changes::propose))
            .summary("Propose a campaign change under a grant (CAM-1)")
            .people_only()
            .needs("`change_propose`")
            .audit("`access_decided`, `change_proposed` (tenant)")
            .body::<ProposeChangeBody>()
            .ok(201, "the proposed change with its diff hash")
            .answers::<ChangeAnswer<'static>>(),
        op(Get, "/v1/tenants/{id}/changes", "listChanges", |m| on(m, changes::list))
            .summary("The tenant's change requests, newest first")
            .needs("`tenant_read`")
            .audit("`access_decided` (tenant)")
            .ok(200, "the change requests")
            .answers::<ChangeList<'static>>(),
        op(Get, "/v1/tenants/{id}/changes/{cid}", "getChange", |m| on(m, changes::get))
            .summary("One change request")
            .needs("`tenant_read`")
            .audit("`access_decided` (tenant)")
            .ok(200, "the change request")
            .answers::<ChangeAnswer<'static>>(),
        op(Post, "/v1/tenants/{id}/changes/{cid}/approve", "approveChange", |m| on(m, changes::approve))
            .summary("Approve a change: another person than the proposer (CAM-1)")
            .people_only()
            .needs("`change_approve`, not the proposer (CAM-1)")
            .step_up()
            .audit("`access_decided`, `change_approved` (tenant)")
            .ok(200, "the approved change")
            .answers::<ChangeAnswer<'static>>(),
        op(Post, "/v1/tenants/{id}/changes/{cid}/execute", "executeChange", |m| on(m, changes::execute))
            .summary("Execute an approved change; the body repeats the approved diff (CAM-1, CAM-2)")
            .needs("`change_execute`")
            .audit("`access_decided`, `change_executed` (tenant)")
            .body::<DiffBody>()
            .ok(200, "the change and the read-back's outcome")
            .answers::<ChangeExecution<'static>>(),
    ];
    let retention = [
        op(Get, "/v1/tenants/{id}/retention", "retentionPolicies", |m| on(m, retention::policies))
            .summary("Per data class: the policy period, the contract's override and the effective one (RET-1, RET-2)")
            .needs("`tenant_read`")
            .audit("`access_decided` (tenant)")
            .ok(200, "the periods per data class")
            .answers::<RetentionPolicies>(),
        op(Post, "/v1/tenants/{id}/retention/sweep", "retentionSweep", |m| on(m, retention::sweep))
            .summary("Delete or anonymize what is past its period unless held (RET-3, RET-4, RET-5)")
            .needs("`retention_manage`")
            .audit("`access_decided`, `retention_ran` (tenant)")
            .ok(200, "the counts")
            .answers::<SweepAnswer>(),
        op(Get, "/v1/tenants/{id}/retention/receipts", "deletionReceipts", |m| on(m, retention::receipts))
            .summary("Deletion receipts, newest first (RET-6)")
            .needs("`tenant_read`")
            .audit("`access_decided` (tenant)")
            .ok(200, "the receipts")
            .answers::<ReceiptList<'static>>(),
        op(Get, "/v1/tenants/{id}/retention/holds", "listHolds", |m| on(m, retention::holds))
            .summary("Every legal hold, newest first")
            .needs("`tenant_read`")
            .audit("`access_decided` (tenant)")
            .ok(200, "the holds")
            .answers::<HoldList<'static>>(),
        op(Post, "/v1/tenants/{id}/retention/holds", "placeHold", |m| on(m, retention::place_hold))
            .summary("Place a legal hold with a reason, an owner and an end (RET-5)")
            .people_only()
            .needs("`hold_manage`")
            .audit("`access_decided`, `hold_changed` (tenant)")
            .body::<HoldBody>()
            .ok(201, "the hold")
            .answers::<HoldAnswer<'static>>(),
        op(Delete, "/v1/tenants/{id}/retention/holds/{hid}", "deleteHold", |m| on(m, retention::lift_hold))
            .summary("Lift a hold early (the same as `POST .../lift`); it stays on record as lifted (RET-5)")
            .needs("`hold_manage`")
            .step_up()
            .audit("`access_decided`, `hold_changed` (tenant)")
            .ok(200, "the lifted hold")
            .answers::<HoldAnswer<'static>>(),
        op(Post, "/v1/tenants/{id}/retention/holds/{hid}/lift", "liftHold", |m| on(m, retention::lift_hold))
            .summary("Lift a hold early; it stays on record as lifted (RET-5)")
            .needs("`hold_manage`")
            .step_up()
            .audit("`access_decided`, `hold_changed` (tenant)")
            .ok(200, "the lifted hold")
            .answers::<HoldAnswer<'static>>(),
    ];
    let rights = [
        op(Post, "/v1/tenants/{id}/rights", "openRightsRequest", |m| on(m, rights::open))
            .summary("Record a client rights request; deadlines run from `received_at` (RGT-2)")
            .needs("`rights_manage`")
            .audit("`access_decided`, `rights_request_changed` (tenant)")
            .body::<OpenRightsBody>()
            .ok(201, "the request with its deadlines")
            .answers::<RightsAnswer<'static>>(),
        op(Get, "/v1/tenants/{id}/rights", "listRightsRequests", |m| on(m, rights::list))
            .summary("Every rights request, newest first, with deadlines and whether it is overdue")
            .needs("`rights_manage`")
            .audit("`access_decided` (tenant)")
            .ok(200, "the requests")
            .answers::<RightsList<'static>>(),
        op(Get, "/v1/tenants/{id}/rights/export", "exportClientData", |m| on(m, rights::export))
            .summary("Everything portable of the client, buyer PII opened (RGT-1)")
            .needs("`data_export`")
            .step_up()
            .audit("`access_decided`, then `data_read` per class for each page before it is sent (tenant)")
            .query::<ExportQuery>()
            .ok_media(
                200,
                Media::JsonOrCsv,
                "the JSON document, or with `format=csv` the one CSV file `file` names; streamed a page at a \
                 time (chunked), and cut off without its last chunk if a later page fails",
            )
            .errors(&[422]),
        op(Post, "/v1/tenants/{id}/rights/offboard", "offboardTenant", |m| on(m, rights::offboard))
            .summary("Offboard: stop processing, export everything, delete everything with a receipt (RGT-3)")
            .needs("`rights_manage`, and `data_export`")
            .step_up()
            .audit("as export and delete-data, `tenant_changed` offboarding/offboarded (tenant)")
            .ok(200, "the export (the JSON document and every CSV file) and the receipt")
            .answers::<Offboarded<'static>>(),
        op(Get, "/v1/tenants/{id}/rights/{rid}", "getRightsRequest", |m| on(m, rights::get))
            .summary("One rights request")
            .needs("`rights_manage`")
            .audit("`access_decided` (tenant)")
            .ok(200, "the request")
            .answers::<ListedRightsAnswer<'static>>(),
        op(Post, "/v1/tenants/{id}/rights/{rid}/update", "updateRightsRequest", |m| on(m, rights::update))
            .summary("Acknowledge, extend, complete or reject a rights request (RGT-2)")
            .needs("`rights_manage`")
            .audit("`access_decided`, `rights_request_changed` (tenant)")
            .body::<UpdateRightsBody>()
            .ok(200, "the request")
            .answers::<RightsAnswer<'static>>(),
        op(Post, "/v1/tenants/{id}/rights/{rid}/delete-data", "deleteClientData", |m| {
            on(m, rights::delete_data)
        })
        .summary(
            "Under a deletion request: revoke every grant, destroy keys, delete everything (RGT-1, RET-6)",
        )
        .needs("`rights_manage`; a deletion request of the tenant")
        .audit("`access_decided`, `grant_changed` per grant, `key_changed`, `records_purged` (tenant)")
        .ok(200, "the deletion receipt")
        .answers::<ReceiptAnswer<'static>>(),
    ];
    let incidents = [
        op(Post, "/v1/tenants/{id}/incidents", "openIncident", |m| on(m, incidents::open))
            .summary("Open an incident that isolates the tenant, or some of its grants (INC-1)")
            .people_only()
            .needs("`incident_manage` on the tenant")
            .audit("`access_decided` (tenant), `access_decided`, `incident_changed` (system)")
            .body::<OpenIncidentBody>()
            .ok(201, "the incident")
            .answers::<IncidentAnswer<'static>>(),
        op(Get, "/v1/tenants/{id}/incidents", "listIncidents", |m| on(m, incidents::list))
            .summary("The incidents concerning the tenant, newest first")
            .needs("`incident_manage` on the tenant")
            .audit("`access_decided` (tenant)")
            .ok(200, "the incidents")
            .answers::<IncidentList<'static>>(),
        op(Get, "/v1/tenants/{id}/incidents/{iid}", "getIncident", |m| on(m, incidents::get))
            .summary("One incident")
            .needs("`incident_manage` on the tenant")
            .audit("`access_decided` (tenant)")
            .ok(200, "the incident")
            .answers::<IncidentAnswer<'static>>(),
        op(Post, "/v1/tenants/{id}/incidents/{iid}/assess", "assessIncident", |m| on(m, incidents::assess))
            .summary("What was touched in a window: tenants, data classes, records")
            .needs("`incident_manage` on the tenant")
            .audit("`access_decided` (tenant), `access_decided` (system)")
            .body::<AssessBody>()
            .ok(200, "the assessment")
            .answers::<AssessmentAnswer<'static>>(),
        op(Post, "/v1/tenants/{id}/incidents/{iid}/notify", "notifyIncident", |m| on(m, incidents::notify))
            .summary("Notify the client (and the listed platforms) within the policy's deadlines")
            .needs("`incident_manage` on the tenant")
            .audit("`access_decided` (tenant), `access_decided`, `incident_changed` (system)")
            .body::<NotifyBody>()
            .ok(200, "the incident")
            .answers::<IncidentAnswer<'static>>(),
        op(Post, "/v1/tenants/{id}/incidents/{iid}/remediate", "remediateIncident", |m| {
            on(m, incidents::remediate)
        })
        .summary("Record a remediation step")
        .needs("`incident_manage` on the tenant")
        .audit("`access_decided` (tenant), `access_decided`, `incident_changed` (system)")
        .body::<RemediateBody>()
        .ok(200, "the incident")
        .answers::<IncidentAnswer<'static>>(),
        op(Post, "/v1/tenants/{id}/incidents/{iid}/close", "closeIncident", |m| on(m, incidents::close))
            .summary("Record the review and close; refused while an affected client is not notified")
            .needs("`incident_manage` on the tenant")
            .audit("`access_decided` (tenant), `access_decided`, `incident_changed` (system)")
            .body::<CloseIncidentBody>()
            .ok(200, "the closed incident")
            .answers::<IncidentAnswer<'static>>(),
    ];
    changes
        .into_iter()
        .map(|op| op.tag("changes"))
        .chain(retention.into_iter().map(|op| op.tag("retention")))
        .chain(rights.into_iter().map(|op| op.tag("rights")))
        .chain(incidents.into_iter().map(|op| op.tag("incidents")))
        .collect()
}
