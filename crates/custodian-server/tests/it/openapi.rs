//! `GET /v1/openapi.json` (issue 7): the OpenAPI 3.1 document generated from the router's route table.
//! It is served without credentials, every `$ref` resolves, the router serves exactly the documented
//! methods on every documented path, authenticated operations declare 401 and a security requirement
//! (and really answer 401 without credentials), every error answer references the `Error` schema, and
//! its `code` enum is exactly [`ErrorCode`]'s variants.

use std::collections::{BTreeMap, BTreeSet};

use axum::http::{StatusCode, header};
use custodian_server::ErrorCode;
use serde_json::Value;

use crate::support::{Auth, Harness};

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
