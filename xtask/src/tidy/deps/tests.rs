//! Unit tests of [`super::forbidden_paths`] on synthetic metadata: proof that the tidy check can fail.

use serde_json::json;

use super::forbidden_paths;

fn package(name: &str) -> serde_json::Value {
    json!({ "id": format!("{name} 1.0.0"), "name": name })
}

fn dep(name: &str, kinds: serde_json::Value) -> serde_json::Value {
    json!({ "name": name, "pkg": format!("{name} 1.0.0"), "dep_kinds": kinds })
}

/// custodian-core -> a -> tokio (normal, target-specific), -> reqwest (dev only), -> b (build) -> hyper.
fn synthetic() -> serde_json::Value {
    let names = ["custodian-core", "a", "b", "tokio", "reqwest", "hyper"];
    json!({
        "packages": names.map(package),
        "workspace_members": ["custodian-core 1.0.0"],
        "resolve": { "nodes": [
            { "id": "custodian-core 1.0.0", "deps": [
                dep("a", json!([{ "kind": null, "target": null }])),
                dep("reqwest", json!([{ "kind": "dev", "target": null }])),
                dep("b", json!([{ "kind": "build", "target": null }])),
            ] },
            { "id": "a 1.0.0", "deps": [dep("tokio", json!([{ "kind": null, "target": "cfg(unix)" }]))] },
            { "id": "b 1.0.0", "deps": [dep("hyper", json!([{ "kind": null, "target": null }]))] },
            { "id": "tokio 1.0.0", "deps": [] },
            { "id": "reqwest 1.0.0", "deps": [dep("hyper", json!([{ "kind": null, "target": null }]))] },
            { "id": "hyper 1.0.0", "deps": [dep("tokio", json!([{ "kind": null, "target": null }]))] },
        ] }
    })
}

#[test]
fn finds_a_forbidden_crate_behind_a_normal_edge_and_ignores_dev_and_build_edges() {
    let found = forbidden_paths(&synthetic(), "custodian-core", &["tokio", "reqwest", "hyper"]).unwrap();
    assert_eq!(found, ["custodian-core -> a -> tokio"]);
}

#[test]
fn a_clean_closure_has_no_paths() {
    let found = forbidden_paths(&synthetic(), "custodian-core", &["reqwest", "hyper"]).unwrap();
    assert_eq!(found, Vec::<String>::new());
}

#[test]
fn an_unknown_root_is_an_error_not_a_pass() {
    let error = forbidden_paths(&synthetic(), "custodian-cor", &["tokio"]).unwrap_err();
    assert_eq!(error.to_string(), "no workspace member named `custodian-cor`");
}

#[test]
fn metadata_without_a_resolve_graph_is_an_error() {
    let mut metadata = synthetic();
    metadata["resolve"] = serde_json::Value::Null;
    let error = forbidden_paths(&metadata, "custodian-core", &["tokio"]).unwrap_err();
    assert_eq!(error.to_string(), "metadata has no resolve graph");
}
