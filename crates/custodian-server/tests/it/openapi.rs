//! `GET /v1/openapi.json` (issue 7): the OpenAPI 3.1 document generated from the router's route table.
//! It is served without credentials, every `$ref` resolves, the router serves exactly the documented
//! methods on every documented path, authenticated operations declare 401 and a security requirement
//! (and really answer 401 without credentials), every error answer references the `Error` schema, and
//! its `code` enum is exactly [`ErrorCode`]'s variants.
//!
//! Every JSON success answer is described by the schema of the typed view its handler serializes (but
//! the few in [`UNTYPED`]), and every success reply any test of this suite receives is checked against
//! the document ([`check_answer`], called by `Harness::send`): a documented status, a documented media
//! type, and a body that is exactly what the schema describes: each object with its required properties
//! and none the schema does not name, each value of its documented type.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use axum::body::{Body, to_bytes};
use axum::http::{Request, StatusCode, header};
use custodian_core::audit::AuditEvent;
use custodian_core::personnel::Role;
use custodian_core::platform::Platform;
use custodian_server::ErrorCode;
use serde_json::{Value, json};
use time::Duration;
use tower::ServiceExt;

use crate::support::{Auth, Harness, Reply};

const METHODS: [&str; 5] = ["get", "post", "put", "delete", "patch"];

async fn document(h: &Harness) -> Value {
    let reply = h.call("GET", "/v1/openapi.json", &Auth::None, None).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert!(reply.body.is_object(), "not a JSON object: {}", reply.text);
    reply.body
}

/// `(method, path, operation)` of every operation in the document.
fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let mut all = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            assert!(METHODS.contains(&method.as_str()), "{path}: unexpected key `{method}`");
            all.push((method.clone(), path.clone(), operation.clone()));
        }
    }
    all
}

/// The value a JSON Pointer `$ref` (`#/...`) points at.
fn resolve<'a>(doc: &'a Value, reference: &str) -> Option<&'a Value> {
    doc.pointer(reference.strip_prefix('#')?)
}

fn refs(value: &Value, found: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, value) in map {
                match (key.as_str(), value) {
                    ("$ref", Value::String(reference)) => found.push(reference.clone()),
                    _ => refs(value, found),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| refs(v, found)),
        _ => {}
    }
}

#[tokio::test]
async fn the_document_is_openapi_3_1_json_served_without_credentials() {
    let h = Harness::new();
    let reply = h.call("GET", "/v1/openapi.json", &Auth::None, None).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let content_type = reply.headers.get(header::CONTENT_TYPE).unwrap().to_str().unwrap();
    assert!(content_type.starts_with("application/json"), "{content_type}");
    let doc: Value = serde_json::from_str(&reply.text).unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(doc["info"]["title"], "Custodian API");
    assert!(doc["paths"].as_object().unwrap().len() > 40, "too few paths");
    // served twice, the same document
    let again = h.call("GET", "/v1/openapi.json", &Auth::None, None).await;
    assert_eq!(again.text, reply.text);
}

#[tokio::test]
async fn every_ref_resolves_and_operation_ids_are_unique() {
    let doc = document(&Harness::new()).await;
    let mut found = Vec::new();
    refs(&doc, &mut found);
    assert!(found.len() > 100, "too few refs: {}", found.len());
    for reference in &found {
        let target = resolve(&doc, reference).unwrap_or_else(|| panic!("`{reference}` does not resolve"));
        assert!(target.is_object(), "`{reference}` is not a schema");
    }
    let mut ids = BTreeSet::new();
    for (method, path, operation) in operations(&doc) {
        let id = operation["operationId"].as_str().unwrap().to_owned();
        assert!(ids.insert(id.clone()), "operationId `{id}` twice ({method} {path})");
        // every `{name}` of the template is a required path parameter, and no other is declared
        let template: BTreeSet<&str> =
            path.split('/').filter_map(|s| s.strip_prefix('{')?.strip_suffix('}')).collect();
        let declared: BTreeSet<&str> = operation["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|p| p["in"] == "path")
            .inspect(|p| assert_eq!(p["required"], true, "{method} {path}"))
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        assert_eq!(template, declared, "{method} {path}");
    }
}

#[tokio::test]
async fn the_router_serves_exactly_the_documented_methods_on_every_documented_path() {
    let h = Harness::new();
    let doc = document(&h).await;
    let mut documented: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (method, path, operation) in operations(&doc) {
        documented.entry(path.clone()).or_default().insert(method.clone());
        let secured = !operation["security"].as_array().unwrap().is_empty();
        let concrete = path.replace("{platform}", "meta").replace(['{', '}'], "");
        let reply = h.call(&method.to_uppercase(), &concrete, &Auth::None, None).await;
        // routed: a method the router does not serve on a path it knows is the 405 fallback
        assert_ne!(
            reply.status,
            StatusCode::METHOD_NOT_ALLOWED,
            "{method} {path} is not routed: {}",
            reply.text
        );
        // the security requirement says what the handler does without credentials
        if secured {
            assert_eq!(
                (reply.status, reply.code()),
                (StatusCode::UNAUTHORIZED, "unauthenticated"),
                "{method} {path} has a security requirement"
            );
        } else {
            assert_ne!(
                reply.code(),
                "unauthenticated",
                "{method} {path} authenticates but declares no security"
            );
        }
    }
    assert!(documented.len() > 40);
    for (path, methods) in &documented {
        let concrete = path.replace("{platform}", "meta").replace(['{', '}'], "");
        for method in METHODS.iter().filter(|m| !methods.contains(**m)) {
            let reply = h.call(&method.to_uppercase(), &concrete, &Auth::None, None).await;
            assert_eq!(
                (reply.status, reply.code()),
                (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"),
                "{method} {path} is served but not documented: {}",
                reply.text
            );
        }
    }
    // and a path the document does not have is the 404 fallback
    let reply = h.call("GET", "/v1/not-documented", &Auth::None, None).await;
    assert_eq!((reply.status, reply.code()), (StatusCode::NOT_FOUND, "not_found"));
}

#[tokio::test]
async fn authenticated_operations_declare_401_and_every_error_answer_references_the_error_schema() {
    let doc = document(&Harness::new()).await;
    let schemes = doc["components"]["securitySchemes"].as_object().unwrap();
    assert_eq!(schemes["session"]["scheme"], "bearer");
    assert_eq!(
        (&schemes["apiKey"]["in"], &schemes["apiKey"]["name"]),
        (&Value::from("header"), &Value::from("Authorization"))
    );
    let mut secured = 0;
    for (method, path, operation) in operations(&doc) {
        let security = operation["security"].as_array().unwrap();
        let responses = operation["responses"].as_object().unwrap();
        for requirement in security {
            for scheme in requirement.as_object().unwrap().keys() {
                assert!(schemes.contains_key(scheme), "{method} {path}: unknown scheme `{scheme}`");
            }
        }
        if !security.is_empty() {
            secured += 1;
            assert!(responses.contains_key("401"), "{method} {path}: no 401");
        }
        let success: Vec<&String> = responses.keys().filter(|s| s.starts_with('2')).collect();
        assert!(!success.is_empty(), "{method} {path}: no success answer");
        for (status, response) in responses.iter().filter(|(s, _)| !s.starts_with('2')) {
            assert_eq!(
                response["content"]["application/json"]["schema"]["$ref"], "#/components/schemas/Error",
                "{method} {path} {status}"
            );
            assert!(response["description"].as_str().is_some_and(|d| !d.is_empty()));
        }
        for status in ["500", "503"] {
            assert!(responses.contains_key(status), "{method} {path}: no {status}");
        }
        if operation["requestBody"]["content"]["application/json"].is_object() {
            for status in ["400", "413", "415", "422"] {
                assert!(responses.contains_key(status), "{method} {path}: a JSON body but no {status}");
            }
        }
        if operation["parameters"].as_array().into_iter().flatten().any(|p| p["in"] == "query") {
            assert!(responses.contains_key("400"), "{method} {path}: a query but no 400");
        }
    }
    assert!(secured > 40, "too few authenticated operations: {secured}");
}

#[tokio::test]
async fn bodies_and_queries_are_described_by_the_wire_types() {
    let doc = document(&Harness::new()).await;
    let schemas = &doc["components"]["schemas"];
    // a body: the type's schema, refusing unknown fields like the type does
    let login =
        &doc["paths"]["/v1/auth/login"]["post"]["requestBody"]["content"]["application/json"]["schema"];
    let login = resolve(&doc, login["$ref"].as_str().unwrap()).unwrap();
    assert_eq!(login["additionalProperties"], false);
    let required: BTreeSet<&str> =
        login["required"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    assert_eq!(required, BTreeSet::from(["email", "password"]));
    assert_eq!(login["properties"]["password"]["type"], "string");
    assert!(schemas["CreatePersonBody"]["properties"]["roles"].is_object());
    // a query: one parameter per field
    let orders = doc["paths"]["/v1/tenants/{id}/orders"]["get"]["parameters"].as_array().unwrap();
    let names: BTreeSet<&str> =
        orders.iter().filter(|p| p["in"] == "query").map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(names, BTreeSet::from(["account", "cursor", "from", "grant", "limit", "to", "with_pii"]));
    for parameter in orders.iter().filter(|p| p["in"] == "query") {
        // optional, and never `null`: absence is what `Option` means in a query string
        assert_eq!(parameter["required"], false);
        assert!(parameter["schema"]["type"].is_string(), "{parameter}");
    }
    // step-up and permission are machine-readable too
    let approve = &doc["paths"]["/v1/tenants/{id}/changes/{cid}/approve"]["post"];
    assert_eq!(approve["x-custodian-step-up"], true);
    assert_eq!(approve["security"], serde_json::json!([{"session": []}]));
}

/// Every variant. The match in [`listed`] stops compiling when a variant is added; and if it is added
/// there but not here, the schema has one more code than this list and the test fails.
const ALL: [ErrorCode; 19] = [
    ErrorCode::BadRequest,
    ErrorCode::Unauthenticated,
    ErrorCode::InvalidCredentials,
    ErrorCode::Forbidden,
    ErrorCode::MfaRequired,
    ErrorCode::MfaCodeRejected,
    ErrorCode::NotFound,
    ErrorCode::MethodNotAllowed,
    ErrorCode::Conflict,
    ErrorCode::PayloadTooLarge,
    ErrorCode::UnsupportedMediaType,
    ErrorCode::InvalidInput,
    ErrorCode::WeakPassword,
    ErrorCode::IntakeRejected,
    ErrorCode::SignalRejected,
    ErrorCode::SignalUnverified,
    ErrorCode::Internal,
    ErrorCode::Unavailable,
    ErrorCode::Timeout,
];

fn listed(code: ErrorCode) -> bool {
    match code {
        ErrorCode::BadRequest
        | ErrorCode::Unauthenticated
        | ErrorCode::InvalidCredentials
        | ErrorCode::Forbidden
        | ErrorCode::MfaRequired
        | ErrorCode::MfaCodeRejected
        | ErrorCode::NotFound
        | ErrorCode::MethodNotAllowed
        | ErrorCode::Conflict
        | ErrorCode::PayloadTooLarge
        | ErrorCode::UnsupportedMediaType
        | ErrorCode::InvalidInput
        | ErrorCode::WeakPassword
        | ErrorCode::IntakeRejected
        | ErrorCode::SignalRejected
        | ErrorCode::SignalUnverified
        | ErrorCode::Internal
        | ErrorCode::Unavailable
        | ErrorCode::Timeout => ALL.contains(&code),
    }
}

/// The values of a string enum schema: its `enum`, which equals its documented `oneOf` `const`s if any.
fn enum_values(schema: &Value) -> Vec<String> {
    assert_eq!(schema["type"], "string");
    let values: Vec<String> =
        schema["enum"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_owned()).collect();
    if let Some(variants) = schema["oneOf"].as_array() {
        let consts: Vec<String> = variants.iter().map(|v| v["const"].as_str().unwrap().to_owned()).collect();
        assert_eq!(consts, values);
        assert!(variants.iter().all(|v| v["description"].is_string()), "every code is described");
    }
    values
}

#[tokio::test]
async fn the_error_schema_code_enum_is_every_error_code() {
    let doc = document(&Harness::new()).await;
    let error = &doc["components"]["schemas"]["Error"];
    let required: BTreeSet<&str> =
        error["required"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    assert_eq!(required, BTreeSet::from(["code", "message"]));
    let code = &error["properties"]["code"];
    let code = match code["$ref"].as_str() {
        Some(reference) => resolve(&doc, reference).unwrap(),
        None => code,
    };
    let values = enum_values(code);
    let unique: BTreeSet<&str> = values.iter().map(String::as_str).collect();
    assert_eq!(unique.len(), values.len(), "a code twice: {values:?}");
    assert!(ALL.iter().all(|c| listed(*c)));
    let expected: BTreeSet<&str> = ALL.iter().map(|c| c.as_str()).collect();
    assert_eq!(expected.len(), ALL.len());
    assert_eq!(unique, expected);
}

#[tokio::test]
async fn session_answers_are_described_by_their_wire_types() {
    let h = Harness::new();
    let doc = document(&h).await;
    for (path, method, schema, field) in [
        ("/v1/me/sessions", "get", "SessionList", "sessions"),
        ("/v1/people/{id}/sessions", "get", "SessionList", "sessions"),
        ("/v1/me/sessions/revoke", "post", "SessionsRevoked", "revoked"),
        ("/v1/people/{id}/sessions/revoke", "post", "SessionsRevoked", "revoked"),
    ] {
        let answer = &doc["paths"][path][method]["responses"]["200"]["content"]["application/json"]["schema"];
        let reference = answer["$ref"].as_str().unwrap_or_else(|| panic!("{path}: {answer}"));
        assert_eq!(reference, format!("#/components/schemas/{schema}"), "{path}");
        let target = resolve(&doc, reference).unwrap();
        assert!(target["properties"][field].is_object(), "{path}: {target}");
    }
    // The list's items: what a reply holds, and nothing that could name a token.
    let session = resolve(&doc, "#/components/schemas/Session").unwrap();
    let fields: BTreeSet<&str> =
        session["properties"].as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(fields, BTreeSet::from(["created_at", "current", "expires_at", "mfa_verified_at"]));
    // A real reply has exactly those fields.
    let admin = h.init_admin("admin@example.com").await;
    let auth = h.bearer(&admin).await;
    let reply = h.call("GET", "/v1/me/sessions", &auth, None).await;
    let keys: BTreeSet<&str> =
        reply.body["sessions"][0].as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, fields, "{}", reply.text);
}

// ---- typed answers ----

/// The operations whose JSON success answer is not a typed view, and why. Every other JSON answer must be
/// described by a schema in `components/schemas`.
const UNTYPED: [(&str, &str, &str); 2] = [
    ("get", "/v1/openapi.json", "the OpenAPI document itself: the OpenAPI 3.1 specification describes it"),
    (
        "get",
        "/v1/tenants/{id}/rights/export",
        "core's portable export document (or one CSV file), built and rendered by custodian-core's \
         rights export, passed on as bytes",
    ),
];

/// The document the router serves: the same for every router, so fetched once per test process, from a
/// router of its own (a test's harness counts only the test's requests in its metrics).
pub(crate) async fn served() -> &'static Value {
    static DOCUMENT: OnceLock<Value> = OnceLock::new();
    if let Some(doc) = DOCUMENT.get() {
        return doc;
    }
    let request = Request::get("/v1/openapi.json").body(Body::empty()).unwrap();
    let response = Harness::new().app.oneshot(request).await.unwrap();
    let bytes = to_bytes(response.into_body(), usize::MAX).await.unwrap();
    DOCUMENT.get_or_init(|| serde_json::from_slice(&bytes).unwrap())
}

/// The documented operation serving `method` on the concrete `path` (no query): the template whose
/// literal segments all match, the most literal one winning, as the router picks.
fn operation_for<'a>(doc: &'a Value, method: &str, path: &str) -> Option<(&'a str, &'a Value)> {
    let segments: Vec<&str> = path.split('/').collect();
    doc["paths"]
        .as_object()?
        .iter()
        .filter_map(|(template, item)| {
            let parts: Vec<&str> = template.split('/').collect();
            if parts.len() != segments.len() {
                return None;
            }
            let mut literal = 0;
            for (part, segment) in parts.iter().zip(&segments) {
                if part.starts_with('{') {
                    continue;
                }
                if part != segment {
                    return None;
                }
                literal += 1;
            }
            let operation = item.get(method.to_ascii_lowercase())?;
            Some((literal, template.as_str(), operation))
        })
        .max_by_key(|(literal, _, _)| *literal)
        .map(|(_, template, operation)| (template, operation))
}

/// Checks a success reply against the document: the status is one the operation documents, the media
/// type one it documents for that status (no body where it documents none), and a JSON body is exactly
/// what the status's schema describes. Returns the operation's id.
pub(crate) fn check_answer(
    doc: &Value,
    method: &str,
    path: &str,
    status: StatusCode,
    content_type: Option<&str>,
    body: &Value,
) -> Result<String, String> {
    let (template, operation) =
        operation_for(doc, method, path).ok_or_else(|| format!("{method} {path} is not documented"))?;
    let id = operation["operationId"].as_str().unwrap_or_default().to_owned();
    let response = &operation["responses"][status.as_str()];
    if !response.is_object() {
        return Err(format!("{method} {template} does not document status {status}"));
    }
    let media = content_type.map(|c| c.split(';').next().unwrap_or_default().trim());
    match (response["content"].as_object(), media) {
        (None, None) if body.is_null() => Ok(id),
        (None, _) => Err(format!("{method} {template} {status} documents no body, got {content_type:?}")),
        (Some(content), Some(media)) if content.contains_key(media) => {
            if media == "application/json" {
                check(doc, &content[media]["schema"], body, "$")
                    .map_err(|e| format!("{method} {template} {status}: {e}"))?;
            }
            Ok(id)
        }
        (Some(content), _) => Err(format!(
            "{method} {template} {status}: media type {content_type:?} is not one of {:?}",
            content.keys().collect::<Vec<_>>()
        )),
    }
}

/// Whether `value` is exactly what `schema` describes (see [`applied`]); an object whose schema names its
/// properties has none that the schema does not name.
fn check(doc: &Value, schema: &Value, value: &Value, at: &str) -> Result<(), String> {
    let named = applied(doc, schema, value, at)?;
    if let (Some(named), Value::Object(object)) = (named, value) {
        let extra: Vec<&String> = object.keys().filter(|k| !named.contains(k.as_str())).collect();
        if !extra.is_empty() {
            return Err(format!("{at}: {extra:?} not documented (documented: {named:?})"));
        }
    }
    Ok(())
}

/// Applies `schema` to `value` at `at` as JSON Schema 2020-12 does for the keywords schemars writes
/// (`$ref`, `type`, `const`, `enum`, `minimum`, `properties`, `required`, `additionalProperties`, `items`,
/// `allOf`, `anyOf`, `oneOf`). Returns the property names it evaluated, `None` when it names none (any
/// property is allowed, as with `{"type": "object"}` or `true`).
fn applied(doc: &Value, schema: &Value, value: &Value, at: &str) -> Result<Option<BTreeSet<String>>, String> {
    let schema = match schema {
        Value::Bool(true) => return Ok(None),
        Value::Object(schema) => schema,
        other => return Err(format!("{at}: unexpected schema {other}")),
    };
    let mut named: Option<BTreeSet<String>> = None;
    let add = |named: &mut Option<BTreeSet<String>>, more: Option<BTreeSet<String>>| {
        if let Some(more) = more {
            named.get_or_insert_with(BTreeSet::new).extend(more);
        }
    };
    if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
        let target =
            resolve(doc, reference).ok_or_else(|| format!("{at}: `{reference}` does not resolve"))?;
        add(&mut named, applied(doc, target, value, at)?);
    }
    if let Some(types) = schema.get("type") {
        let types: Vec<&str> = match types {
            Value::String(t) => vec![t.as_str()],
            Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
            other => return Err(format!("{at}: unexpected type {other}")),
        };
        let fits = |t: &str| match t {
            "null" => value.is_null(),
            "boolean" => value.is_boolean(),
            "integer" => value.is_i64() || value.is_u64(),
            "number" => value.is_number(),
            "string" => value.is_string(),
            "array" => value.is_array(),
            "object" => value.is_object(),
            _ => false,
        };
        if !types.iter().any(|t| fits(t)) {
            return Err(format!("{at}: {value} is not {types:?}"));
        }
    }
    if let Some(expected) = schema.get("const")
        && expected != value
    {
        return Err(format!("{at}: {value} is not {expected}"));
    }
    if let Some(values) = schema.get("enum").and_then(Value::as_array)
        && !values.contains(value)
    {
        return Err(format!("{at}: {value} is not one of {values:?}"));
    }
    if let (Some(minimum), Some(number)) = (schema.get("minimum").and_then(Value::as_f64), value.as_f64())
        && number < minimum
    {
        return Err(format!("{at}: {value} is below {minimum}"));
    }
    if let Value::Object(object) = value {
        let properties = schema.get("properties").and_then(Value::as_object);
        if let Some(properties) = properties {
            for (name, property) in properties {
                if let Some(field) = object.get(name) {
                    check(doc, property, field, &format!("{at}.{name}"))?;
                }
            }
            add(&mut named, Some(properties.keys().cloned().collect()));
        }
        for name in schema.get("required").and_then(Value::as_array).into_iter().flatten() {
            let name = name.as_str().unwrap_or_default();
            if !object.contains_key(name) {
                return Err(format!("{at}: required `{name}` missing"));
            }
        }
        if let Some(additional) =
            schema.get("additionalProperties").filter(|a| !matches!(a, Value::Bool(false)))
        {
            let others: Vec<&String> =
                object.keys().filter(|k| !properties.is_some_and(|p| p.contains_key(k.as_str()))).collect();
            for name in &others {
                check(doc, additional, &object[name.as_str()], &format!("{at}.{name}"))?;
            }
            add(&mut named, Some(others.into_iter().cloned().collect()));
        }
    }
    if let (Some(items), Value::Array(array)) = (schema.get("items"), value) {
        for (i, item) in array.iter().enumerate() {
            check(doc, items, item, &format!("{at}[{i}]"))?;
        }
    }
    for every in schema.get("allOf").and_then(Value::as_array).into_iter().flatten() {
        add(&mut named, applied(doc, every, value, at)?);
    }
    for (keyword, exactly_one) in [("anyOf", false), ("oneOf", true)] {
        let Some(branches) = schema.get(keyword).and_then(Value::as_array) else { continue };
        let results: Vec<_> = branches.iter().map(|b| applied(doc, b, value, at)).collect();
        let fits: Vec<_> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
        if fits.is_empty() || (exactly_one && fits.len() > 1) {
            let errors: Vec<String> = results.iter().filter_map(|r| r.clone().err()).collect();
            return Err(format!("{at}: {} of {keyword}'s branches fit: {errors:?}", fits.len()));
        }
        for fit in fits {
            add(&mut named, fit.clone());
        }
    }
    Ok(named)
}

#[tokio::test]
async fn every_json_answer_is_described_by_the_type_its_handler_serializes() {
    let doc = document(&Harness::new()).await;
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    let mut untyped = BTreeSet::new();
    for (method, path, operation) in operations(&doc) {
        for (status, response) in operation["responses"].as_object().unwrap() {
            let Some(json) = response["content"].get("application/json") else { continue };
            if !status.starts_with('2') {
                continue;
            }
            let reference = json["schema"]["$ref"].as_str();
            if UNTYPED.iter().any(|(m, p, _)| *m == method && *p == path) {
                assert_eq!(reference, None, "{method} {path} is typed now: take it off `UNTYPED`");
                untyped.insert((method.clone(), path.clone()));
                continue;
            }
            let reference =
                reference.unwrap_or_else(|| panic!("{method} {path} {status}: no typed answer: {json}"));
            let target = resolve(&doc, reference).unwrap_or_else(|| panic!("`{reference}` does not resolve"));
            let name = reference.trim_start_matches("#/components/schemas/");
            assert!(schemas.contains_key(name), "{method} {path}: {reference}");
            // The type's doc comment is the answer's description.
            assert!(target["description"].as_str().is_some_and(|d| !d.is_empty()), "{name} is not described");
        }
    }
    let listed: BTreeSet<(String, String)> =
        UNTYPED.iter().map(|(m, p, _)| ((*m).to_owned(), (*p).to_owned())).collect();
    assert_eq!(untyped, listed, "every entry of `UNTYPED` is a documented JSON answer");
    assert!(UNTYPED.iter().all(|(_, _, why)| !why.is_empty()));
}

#[tokio::test]
async fn audit_records_are_described_per_event_kind() {
    let doc = document(&Harness::new()).await;
    let record = resolve(&doc, "#/components/schemas/AuditRecord").unwrap();
    let kinds: Vec<&str> = record["oneOf"]
        .as_array()
        .unwrap()
        .iter()
        .map(|variant| {
            let event = variant["properties"]["event"]["$ref"].as_str().unwrap();
            assert!(resolve(&doc, event).unwrap()["description"].is_string(), "{event}");
            variant["properties"]["kind"]["const"].as_str().unwrap()
        })
        .collect();
    // The same kinds, in the same (tag) order, as core's events: one schema per kind.
    assert_eq!(kinds, AuditEvent::KINDS);
    for field in ["seq", "at", "environment", "actor", "category", "prev_hash", "hash"] {
        assert!(record["properties"][field].is_object(), "{field}");
    }
}

/// A reply's operation id, after checking it against the document (a failure names what differs).
fn checked(doc: &Value, method: &str, path: &str, reply: &Reply) -> Result<String, String> {
    let content_type = reply.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
    let path = path.split('?').next().unwrap_or_default();
    check_answer(doc, method, path, reply.status, content_type, &reply.body)
}

/// The checks fail on a reply that differs from its schema in any of the ways a hand-built answer could:
/// an extra field, a missing one, a wrong type, `null` where none is allowed, an unknown event kind, an
/// undocumented status or media type.
#[tokio::test]
async fn a_reply_that_differs_from_its_schema_is_refused() {
    let h = Harness::new();
    h.tenant("t1").await;
    let doc = served().await;
    let admin = h.login_as("admin@example.com", &[Role::Admin], &["t1"]).await;
    let reply = h.call("GET", "/v1/tenants/t1", &admin, None).await;
    assert_eq!(checked(doc, "GET", "/v1/tenants/t1", &reply), Ok("getTenant".to_owned()));
    let audit = h.call("GET", "/v1/tenants/t1/audit", &admin, None).await;
    assert_eq!(checked(doc, "GET", "/v1/tenants/t1/audit", &audit), Ok("readAudit".to_owned()));

    let mut broken: Vec<(&str, &str, Reply)> = Vec::new();
    let mut with = |what, path, reply: &Reply, change: &dyn Fn(&mut Value)| {
        let mut reply = reply.clone();
        change(&mut reply.body);
        broken.push((what, path, reply));
    };
    let tenant = "/v1/tenants/t1";
    let trail = "/v1/tenants/t1/audit";
    with("an extra field", tenant, &reply, &|b| b["tenant"]["secret"] = json!("x"));
    with("a missing field", tenant, &reply, &|b| drop(b["tenant"].as_object_mut().unwrap().remove("status")));
    with("a wrong type", tenant, &reply, &|b| b["tenant"]["retention_days"]["order_detail"] = json!("30"));
    with("an unknown enum value", tenant, &reply, &|b| b["tenant"]["status"] = json!("paused"));
    with("null where none is allowed", tenant, &reply, &|b| b["tenant"]["name"] = Value::Null);
    with("an unknown event kind", trail, &audit, &|b| b["records"][0]["kind"] = json!("made_up"));
    with("another kind's event", trail, &audit, &|b| b["records"][0]["kind"] = json!("tenant_changed"));
    with("an extra event field", trail, &audit, &|b| b["records"][0]["event"]["extra"] = json!(1));
    with("an extra actor field", trail, &audit, &|b| b["records"][0]["actor"]["name"] = json!("a"));
    with("a negative count", trail, &audit, &|b| b["records"][0]["seq"] = json!(-1));
    for (what, path, reply) in &broken {
        let result = checked(doc, "GET", path, reply);
        assert!(result.is_err(), "{what} passed: {}", reply.body);
    }
    let mut created = reply.clone();
    created.status = StatusCode::CREATED;
    assert!(checked(doc, "GET", tenant, &created).is_err(), "an undocumented status passed");
    let mut csv = reply.clone();
    csv.headers.insert(header::CONTENT_TYPE, "text/csv".parse().unwrap());
    assert!(checked(doc, "GET", tenant, &csv).is_err(), "an undocumented media type passed");
}

/// Real replies of a representative set of operations, one scenario through people, API keys, tenants,
/// contacts, grants, syncs, change requests, retention, the audit trail, rights and incidents, each checked
/// against its documented schema (`Harness::send` checks every success reply; this scenario makes sure
/// these operations are among them).
#[tokio::test]
async fn real_answers_are_exactly_what_the_document_describes() {
    let s = crate::changes::cases().await;
    let h = &s.h;
    let doc = served().await;
    let call = |method: &'static str, path: String, auth: Auth, body: Option<Value>| async move {
        let reply = h.call(method, &path, &auth, body).await;
        assert!(reply.status.is_success(), "{method} {path}: {}", reply.text);
        // Checked in `send` already; checked here again so that this test fails by itself.
        checked(doc, method, &path, &reply).unwrap_or_else(|e| panic!("{e}\n{}", reply.text));
        reply
    };

    // Health, login, who am I, step-up.
    call("GET", "/healthz".into(), Auth::None, None).await;
    call("GET", "/readyz".into(), Auth::None, None).await;
    let root = h.init_admin("root@example.com").await;
    let admin = h.bearer(&root).await;
    call("GET", "/v1/me".into(), admin.clone(), None).await;
    h.advance(Duration::seconds(30));
    call("POST", "/v1/auth/step-up".into(), admin.clone(), Some(json!({"code": h.code(&root.secret)}))).await;

    // People and API keys.
    let person =
        json!({"email": "p@example.com", "password": crate::support::PASSWORD, "roles": ["analyst"]});
    let created = call("POST", "/v1/people".into(), admin.clone(), Some(person)).await;
    let pid = created.body["person"]["id"].as_str().unwrap().to_owned();
    call("GET", "/v1/people".into(), admin.clone(), None).await;
    call("GET", format!("/v1/people/{pid}"), admin.clone(), None).await;
    let access = json!({"roles": ["analyst", "auditor"], "tenants": ["t1"]});
    call("PUT", format!("/v1/people/{pid}/access"), admin.clone(), Some(access)).await;
    call("POST", format!("/v1/people/{pid}/totp"), admin.clone(), None).await;
    call("POST", format!("/v1/people/{pid}/disable"), admin.clone(), None).await;
    let all = [Role::AccountManager, Role::SecurityOfficer, Role::Admin];
    let am = h.login_as("am@example.com", &all, &["t1", "t2"]).await;
    let key = json!({"name": "bi", "tenants": ["t1"], "permissions": ["tenant_read"], "expires_in_days": 7});
    let key = call("POST", "/v1/api-keys".into(), am.clone(), Some(key)).await;
    let kid = key.body["api_key"]["id"].as_str().unwrap().to_owned();
    call("GET", "/v1/me".into(), Auth::ApiKey(key.body["key"].as_str().unwrap().to_owned()), None).await;
    call("GET", "/v1/api-keys".into(), am.clone(), None).await;
    call("DELETE", format!("/v1/api-keys/{kid}"), am.clone(), None).await;

    // Tenants and contacts.
    let tenant = json!({"id": "t9", "name": "Tenant Nine", "retention_days": {"order_detail": 30}});
    call("POST", "/v1/tenants".into(), admin.clone(), Some(tenant)).await;
    call("GET", "/v1/tenants".into(), admin.clone(), None).await;
    call("GET", "/v1/tenants/t9".into(), admin.clone(), None).await;
    let contact = json!({"name": "Pat", "email": "pat@client.example", "role": "marketing lead"});
    call("POST", "/v1/tenants/t1/contacts".into(), am.clone(), Some(contact)).await;
    call("GET", "/v1/tenants/t1/contacts".into(), am.clone(), None).await;

    // Grants and syncs.
    let connect = json!({"platform": "ebay", "tasks": ["read_orders"], "pii": true});
    call("POST", "/v1/tenants/t1/grants".into(), am.clone(), Some(connect)).await;
    s.stored_grant("t1", Platform::Ebay, "g-ebay").await;
    let pii = json!({"enabled": true});
    call("PUT", "/v1/tenants/t1/grants/g-ebay/pii".into(), am.clone(), Some(pii)).await;
    call("GET", "/v1/tenants/t1/grants".into(), am.clone(), None).await;
    call("GET", "/v1/tenants/t1/grants/g-meta".into(), am.clone(), None).await;
    call("POST", "/v1/tenants/t1/grants/g-meta/validate".into(), am.clone(), None).await;
    let sync = json!({"kinds": ["reporting"]});
    call("POST", "/v1/tenants/t1/grants/g-meta/syncs".into(), am.clone(), Some(sync)).await;
    call("GET", "/v1/tenants/t1/grants/g-meta/syncs".into(), am.clone(), None).await;
    call("GET", "/v1/tenants/t1/report-rows?limit=2".into(), am.clone(), None).await;
    s.stored_grant("t1", Platform::Meta, "g-gone").await;
    call("POST", "/v1/tenants/t1/grants/g-gone/revoke".into(), am.clone(), None).await;

    // Change requests: an analyst proposes, the account manager approves and executes.
    let analyst = h.login_as("an@example.com", &[Role::Analyst], &["t1"]).await;
    let diff = json!({
        "account": "meta:act_1",
        "campaign": "cmp-1",
        "changes": [
            {"field": "daily_budget", "from": 2_000_000, "to": 5_000_000},
            {"field": "status", "to": "paused"},
        ],
    });
    let mut proposal = diff.clone();
    proposal["grant"] = json!("g-meta");
    let schedule = json!({
        "grant": "g-meta",
        "account": "meta:act_1",
        "campaign": "cmp-2",
        "changes": [{"field": "schedule", "to": {"start": "2025-02-01T00:00:00Z", "end": null}}],
    });
    call("POST", "/v1/tenants/t1/changes".into(), analyst.clone(), Some(schedule)).await;
    let change = call("POST", "/v1/tenants/t1/changes".into(), analyst, Some(proposal)).await;
    let cid = change.body["change"]["id"].as_str().unwrap().to_owned();
    call("POST", format!("/v1/tenants/t1/changes/{cid}/approve"), am.clone(), None).await;
    call("POST", format!("/v1/tenants/t1/changes/{cid}/execute"), am.clone(), Some(diff)).await;
    call("GET", "/v1/tenants/t1/changes".into(), am.clone(), None).await;
    call("GET", format!("/v1/tenants/t1/changes/{cid}"), am.clone(), None).await;

    // Retention and holds.
    call("GET", "/v1/tenants/t1/retention".into(), am.clone(), None).await;
    call("POST", "/v1/tenants/t1/retention/sweep".into(), am.clone(), None).await;
    call("GET", "/v1/tenants/t1/retention/receipts".into(), am.clone(), None).await;
    let ends_at = "2030-01-01T00:00:00Z";
    let hold = json!({"scope": "grant:g-meta", "reason": "litigation", "ends_at": ends_at});
    let hold = call("POST", "/v1/tenants/t1/retention/holds".into(), am.clone(), Some(hold)).await;
    let hid = hold.body["hold"]["id"].as_str().unwrap().to_owned();
    call("POST", format!("/v1/tenants/t1/retention/holds/{hid}/lift"), am.clone(), None).await;
    call("GET", "/v1/tenants/t1/retention/holds".into(), am.clone(), None).await;

    // Rights requests, and a deletion under one on `t2`.
    let opened = json!({"kind": "objection", "purpose": "improvement", "regime": "ccpa"});
    let opened = call("POST", "/v1/tenants/t1/rights".into(), am.clone(), Some(opened)).await;
    let rid = opened.body["request"]["id"].as_str().unwrap().to_owned();
    let extend = json!({"action": "extend", "reason": "complex", "new_due": "2025-03-01T00:00:00Z"});
    call("POST", format!("/v1/tenants/t1/rights/{rid}/update"), am.clone(), Some(extend)).await;
    call("GET", "/v1/tenants/t1/rights".into(), am.clone(), None).await;
    call("GET", format!("/v1/tenants/t1/rights/{rid}"), am.clone(), None).await;
    let deletion = json!({"kind": "deletion", "regime": "gdpr"});
    let deletion = call("POST", "/v1/tenants/t2/rights".into(), am.clone(), Some(deletion)).await;
    let did = deletion.body["request"]["id"].as_str().unwrap().to_owned();
    call("POST", format!("/v1/tenants/t2/rights/{did}/delete-data"), am.clone(), None).await;

    // Incidents.
    let incident = json!({"severity": "high", "summary": "a leaked report", "grants": ["g-meta"]});
    let incident = call("POST", "/v1/tenants/t1/incidents".into(), am.clone(), Some(incident)).await;
    let iid = incident.body["incident"]["id"].as_str().unwrap().to_owned();
    let base = format!("/v1/tenants/t1/incidents/{iid}");
    let window = json!({"from": "2024-01-01T00:00:00Z", "to": "2030-01-01T00:00:00Z"});
    call("POST", format!("{base}/assess"), am.clone(), Some(window)).await;
    call("POST", format!("{base}/notify"), am.clone(), Some(json!({"platforms": ["meta"]}))).await;
    call("POST", format!("{base}/remediate"), am.clone(), Some(json!({"action": "rotated keys"}))).await;
    let review = json!({"review": "contained within the hour", "follow_ups": ["alerting"]});
    call("POST", format!("{base}/close"), am.clone(), Some(review)).await;
    call("GET", "/v1/tenants/t1/incidents".into(), am.clone(), None).await;
    call("GET", base.clone(), am.clone(), None).await;

    // The audit trail, with every kind of record the scenario wrote; then offboarding `t2`.
    let trail = call("GET", "/v1/tenants/t1/audit?limit=1000".into(), am.clone(), None).await;
    let kinds: BTreeSet<&str> =
        trail.body["records"].as_array().unwrap().iter().filter_map(|r| r["kind"].as_str()).collect();
    assert!(kinds.len() >= 10, "{kinds:?}");
    call("POST", "/v1/tenants/t1/audit/verify".into(), am.clone(), None).await;
    call("POST", "/v1/tenants/t2/rights/offboard".into(), am.clone(), None).await;

    let answered = h.answered();
    for id in [
        "login",
        "stepUp",
        "me",
        "createPerson",
        "listPeople",
        "getPerson",
        "setAccess",
        "enrolTotp",
        "disablePerson",
        "createApiKey",
        "listApiKeys",
        "revokeApiKey",
        "createTenant",
        "listTenants",
        "getTenant",
        "addContact",
        "listContacts",
        "connectGrant",
        "setGrantPii",
        "listGrants",
        "getGrant",
        "validateGrant",
        "revokeGrant",
        "runSync",
        "syncStatus",
        "proposeChange",
        "approveChange",
        "executeChange",
        "listChanges",
        "getChange",
        "retentionPolicies",
        "retentionSweep",
        "deletionReceipts",
        "placeHold",
        "liftHold",
        "listHolds",
        "openRightsRequest",
        "updateRightsRequest",
        "listRightsRequests",
        "getRightsRequest",
        "deleteClientData",
        "offboardTenant",
        "openIncident",
        "assessIncident",
        "notifyIncident",
        "remediateIncident",
        "closeIncident",
        "listIncidents",
        "getIncident",
        "readAudit",
        "verifyAudit",
    ] {
        assert!(answered.contains(id), "`{id}` was not checked: {answered:?}");
    }
}
