//! `GET /v1/openapi.json`: the OpenAPI 3.1 document of the API, generated from the route table the router
//! is built from ([`super::operations`]), so it cannot drift from the routes. Request bodies, query
//! strings and JSON success answers are described by the JSON Schemas schemars derives from the wire types
//! (bodies and queries as they are read, answers as they are written: an answer's `Option` field is
//! required and may be `null`, unless it is left out when empty); every error answer references the
//! `Error` schema, whose `code` enum is derived from [`crate::ErrorCode`].
//!
//! The document describes; it reveals no data, so it needs no credentials. It is generated once per
//! process.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use axum::body::Bytes;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use schemars::Schema;
use schemars::generate::{SchemaGenerator, SchemaSettings};
use serde_json::{Map, Value, json};

use super::{Access, Media, Operation, Verb, operations};
use crate::error::{AppError, error_schema};

/// `GET /v1/openapi.json`.
pub(super) async fn serve() -> Response {
    static DOCUMENT: OnceLock<Option<Bytes>> = OnceLock::new();
    let bytes = DOCUMENT.get_or_init(|| serde_json::to_vec(&document(&operations())).ok().map(Bytes::from));
    match bytes {
        Some(bytes) => {
            ([(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], bytes.clone())
                .into_response()
        }
        None => AppError::internal("the openapi document could not be serialized").into_response(),
    }
}

/// The security scheme of a person's session token.
const SESSION: &str = "session";
/// The security scheme of an integrator's API key.
const API_KEY: &str = "apiKey";

/// The schema generators of one document: request types are described as they are read, answer types
/// as they are written. Both put their named schemas under `/components/schemas`; the types of the two
/// sides are distinct, so their names do not meet.
pub(crate) struct Generators {
    pub(crate) requests: SchemaGenerator,
    pub(crate) answers: SchemaGenerator,
}

impl Generators {
    /// Both generators, naming their schemas under `/components/schemas` and writing no meta-schema.
    pub(crate) fn new() -> Self {
        let settings = SchemaSettings::draft2020_12().with(|settings| {
            settings.definitions_path = "/components/schemas".into();
            settings.meta_schema = None;
        });
        Self {
            requests: settings.clone().for_deserialize().into_generator(),
            answers: settings.for_serialize().into_generator(),
        }
    }
}

/// The OpenAPI document of `operations`.
pub(crate) fn document(operations: &[Operation]) -> Value {
    let mut generators = Generators::new();
    let error = error_schema(&mut generators.answers).to_value();
    let mut paths = Map::new();
    let mut tags = BTreeSet::new();
    for op in operations {
        tags.insert(op.tag);
        let item = paths.entry(op.path).or_insert_with(|| Value::Object(Map::new()));
        if let Some(item) = item.as_object_mut() {
            item.insert(op.verb.name().to_owned(), operation(op, &mut generators, &error));
        }
    }
    let mut schemas = generators.requests.take_definitions(true);
    schemas.extend(generators.answers.take_definitions(true));
    schemas.values_mut().for_each(add_enum);
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Custodian API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Custodian's HTTP API. Every authenticated call is decided by the access policy, and \
                the decision is appended to the audit chain (AUTH-7) with what changed (AUD-2). Errors are JSON \
                `{code, message}`: match on `code`, never on `message`.",
        },
        "tags": tags.iter().map(|tag| json!({"name": tag})).collect::<Vec<_>>(),
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                SESSION: {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "`Authorization: Bearer <session token>`: a person's session from \
                        `POST /v1/auth/login` (ACC-2).",
                },
                API_KEY: {
                    "type": "apiKey",
                    "in": "header",
                    "name": "Authorization",
                    "description": "`Authorization: ApiKey <key>`: an integrator's API key from \
                        `POST /v1/api-keys` (ACC-4).",
                },
            },
        },
    })
}

/// The operation object of `op`.
fn operation(op: &Operation, generators: &mut Generators, error: &Value) -> Value {
    let generator = &mut generators.requests;
    let mut parameters: Vec<Value> = path_parameters(op.path)
        .map(|name| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}))
        .collect();
    if let Some(query) = op.query {
        parameters.extend(query_parameters(query(generator)));
    }
    let mut object = Map::new();
    object.insert("operationId".to_owned(), json!(op.id));
    object.insert("tags".to_owned(), json!([op.tag]));
    object.insert("summary".to_owned(), json!(op.summary));
    object.insert("description".to_owned(), json!(description(op)));
    if !parameters.is_empty() {
        object.insert("parameters".to_owned(), Value::Array(parameters));
    }
    if let Some(body) = op.body {
        object.insert(
            "requestBody".to_owned(),
            json!({"required": true, "content": {"application/json": {"schema": body(generator).to_value()}}}),
        );
    } else if op.access == Access::Signature && op.verb == Verb::Post {
        object.insert(
            "requestBody".to_owned(),
            json!({
                "description": "the notification exactly as the platform sends it (its signature covers these bytes)",
                "content": {"*/*": {"schema": {}}},
            }),
        );
    }
    let mut responses = Map::new();
    for (i, answer) in std::iter::once(&op.ok).chain(op.also.iter()).enumerate() {
        let mut response = Map::new();
        response.insert("description".to_owned(), json!(answer.description));
        let typed = op.ok_schema.filter(|_| i == 0 && answer.media == Media::Json);
        if let Some(schema) = typed {
            response.insert(
                "content".to_owned(),
                json!({"application/json": {"schema": schema(&mut generators.answers).to_value()}}),
            );
        } else if let Some(content) = content(answer.media) {
            response.insert("content".to_owned(), content);
        }
        responses.insert(answer.status.to_string(), Value::Object(response));
    }
    for status in error_statuses(op) {
        responses.insert(
            status.to_string(),
            json!({
                "description": error_description(status),
                "content": {"application/json": {"schema": error}},
            }),
        );
    }
    object.insert("responses".to_owned(), Value::Object(responses));
    match op.access {
        Access::Session => {
            object.insert("security".to_owned(), json!([{SESSION: []}]));
        }
        Access::Credential => {
            object.insert("security".to_owned(), json!([{SESSION: []}, {API_KEY: []}]));
        }
        Access::Public | Access::ConsentState | Access::Signature => {
            object.insert("security".to_owned(), json!([]));
        }
    }
    if let Some(permission) = op.permission {
        object.insert("x-custodian-permission".to_owned(), json!(permission));
    }
    object.insert("x-custodian-step-up".to_owned(), json!(op.step_up));
    object.insert("x-custodian-audit-events".to_owned(), json!(op.audit));
    Value::Object(object)
}

/// A string enum whose variants carry docs comes from schemars as `oneOf` of `const`s (each with its
/// description); the plain `enum` of the same values is added for the tools that read only that.
fn add_enum(schema: &mut Value) {
    let Some(variants) = schema.get("oneOf").and_then(Value::as_array) else { return };
    let values: Option<Vec<Value>> =
        variants.iter().map(|v| v.get("const").filter(|c| c.is_string()).cloned()).collect();
    if let (Some(values), Some(object)) = (values, schema.as_object_mut()) {
        object.insert("type".to_owned(), json!("string"));
        object.insert("enum".to_owned(), Value::Array(values));
    }
}

/// A query string has no `null`: an absent parameter is what `Option` means there.
fn without_null(schema: &mut Value) {
    let Some(object) = schema.as_object_mut() else { return };
    if object.get("default").is_some_and(Value::is_null) {
        object.remove("default");
    }
    if let Some(Value::Array(types)) = object.get_mut("type") {
        types.retain(|t| t != "null");
        if types.len() == 1 {
            let single = types.remove(0);
            object.insert("type".to_owned(), single);
        }
    }
}

/// The `{name}`s of a path template, in order.
pub(crate) fn path_parameters(path: &str) -> impl Iterator<Item = &str> {
    path.split('/').filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}'))
}

/// One query parameter per property of a query type's (inline, object) schema; the property's
/// description becomes the parameter's.
fn query_parameters(schema: Schema) -> Vec<Value> {
    let value = schema.to_value();
    let required: BTreeSet<&str> =
        value["required"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
    let Some(properties) = value["properties"].as_object() else { return Vec::new() };
    properties
        .iter()
        .map(|(name, property)| {
            let mut property = property.clone();
            let description = property.as_object_mut().and_then(|p| p.remove("description"));
            without_null(&mut property);
            let mut parameter = json!({
                "name": name,
                "in": "query",
                "required": required.contains(name.as_str()),
                "schema": property,
            });
            if let (Some(description), Some(object)) = (description, parameter.as_object_mut()) {
                object.insert("description".to_owned(), description);
            }
            parameter
        })
        .collect()
}

/// What the operation needs and records, for people reading the document.
fn description(op: &Operation) -> String {
    let who = match op.access {
        Access::Public => "no credentials",
        Access::Session => "a person's session",
        Access::Credential => "a session or an API key",
        Access::ConsentState => "the `state` of a pending connect (a browser redirect without credentials)",
        Access::Signature => "the platform's signature (AUTH-6)",
    };
    let mut text = format!("Needs {who}");
    if let Some(permission) = op.permission {
        text.push_str(&format!("; {permission}"));
    }
    if op.step_up {
        text.push_str("; a recent step-up MFA verification (ACC-2, `POST /v1/auth/step-up`)");
    }
    text.push_str(&format!(". Audit events: {}.", op.audit));
    text
}

/// The content of a success answer.
fn content(media: Media) -> Option<Value> {
    match media {
        Media::Json => Some(json!({"application/json": {"schema": {"type": "object"}}})),
        Media::Empty => None,
        Media::Text(media_type) => Some(json!({media_type: {"schema": {"type": "string"}}})),
        Media::JsonOrCsv => Some(json!({
            "application/json": {"schema": {"type": "object"}},
            "text/csv": {"schema": {"type": "string"}},
        })),
    }
}

/// Every error status `op` can answer: from how it authenticates, what it parses and what it decides,
/// plus its own ([`Operation::errors`]), plus 500 and 503 (a backend unavailable, or the request timeout),
/// which any request can meet.
pub(crate) fn error_statuses(op: &Operation) -> BTreeSet<u16> {
    let mut statuses: BTreeSet<u16> = op.errors.iter().copied().collect();
    let authenticated = matches!(op.access, Access::Session | Access::Credential);
    if authenticated {
        statuses.insert(401);
    }
    if op.permission.is_some() || op.access == Access::Session {
        statuses.insert(403);
    }
    if op.path.contains('{') {
        statuses.insert(404);
    }
    if op.body.is_some() {
        statuses.extend([400, 413, 415, 422]);
    }
    if op.query.is_some() {
        statuses.insert(400);
    }
    if authenticated && op.verb != Verb::Get {
        // every change is one store call that refuses a duplicate or a concurrent change
        statuses.insert(409);
    }
    statuses.extend([500, 503]);
    statuses
}

fn error_description(status: u16) -> &'static str {
    match status {
        400 => "the request could not be read: malformed JSON, query or path (`bad_request`)",
        401 => {
            "not authenticated: no usable session token or API key (`unauthenticated`), a failed login \
            (`invalid_credentials`) or a platform signature not accepted (`signal_rejected`)"
        }
        403 => {
            "the decision denied the action (`forbidden`), or it needs a recent MFA verification \
            (`mfa_required`), or a step-up code was not accepted (`mfa_code_rejected`)"
        }
        404 => "nothing there, or nothing the caller may see: the same answer (`not_found`, SEG-1, ACC-1)",
        409 => "the resource exists, changed concurrently, or the change would break a rule (`conflict`)",
        412 => "a platform notification could not be verified: the platform retries (`signal_unverified`)",
        413 => "the body is larger than the configured limit (`payload_too_large`)",
        415 => "the body is not `application/json` (`unsupported_media_type`)",
        422 => {
            "a value is not acceptable (`invalid_input`), a password breaks ACC-3 (`weak_password`) or \
            free text holds a sensitive pattern (`intake_rejected`, MIN-3)"
        }
        500 => "internal error: nothing about it is sent (`internal`)",
        503 => {
            "a backend is unavailable, or the request took too long: the operation was not performed \
            (`unavailable`, `timeout`)"
        }
        _ => "error",
    }
}

#[cfg(test)]
mod tests;
