//! Tidy checks: repository-wide rules as plain `#[test]`s, so `cargo test` and nextest enforce them
//! (rust-analyzer's "tidy as tests"). Each failing check lists every offender.

mod deps;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// Crates that make IO happen; `custodian-core` is sans-IO (style rules 2 and 7).
const FORBIDDEN_IN_CORE: &[&str] =
    &["tokio", "reqwest", "hyper", "axum", "sqlx", "tower", "mio", "rustls", "openssl", "vaultrs"];

/// The folders whose Rust files the checks read.
const CODE_DIRS: &[&str] = &["crates", "xtask"];

fn root() -> PathBuf {
    crate::workspace_root().unwrap()
}

fn metadata() -> Value {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--locked"])
        .current_dir(root())
        .output()
        .unwrap();
    assert!(output.status.success(), "cargo metadata failed: {}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).unwrap()
}

/// The workspace members' `packages` entries.
fn members(metadata: &Value) -> Vec<&Value> {
    let ids: Vec<&str> =
        metadata["workspace_members"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
    let members: Vec<&Value> = metadata["packages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|package| package["id"].as_str().is_some_and(|id| ids.contains(&id)))
        .collect();
    assert!(!members.is_empty(), "cargo metadata lists no workspace members");
    members
}

fn name(package: &Value) -> &str {
    package["name"].as_str().unwrap()
}

/// `path` relative to the workspace root, for messages.
fn display(path: &Path) -> String {
    path.strip_prefix(root()).unwrap_or(path).display().to_string()
}

/// Every file under `dir` whose name ends in `suffix`, skipping `target/` and hidden folders.
fn files(dir: &Path, suffix: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let Ok(entries) = fs::read_dir(dir) else { return found };
    for entry in entries {
        let entry = entry.unwrap();
        let path = entry.path();
        let file_name = entry.file_name().to_string_lossy().into_owned();
        if entry.file_type().unwrap().is_dir() {
            if file_name != "target" && !file_name.starts_with('.') {
                found.extend(files(&path, suffix));
            }
        } else if file_name.ends_with(suffix) {
            found.push(path);
        }
    }
    found.sort();
    found
}

fn code_files() -> Vec<PathBuf> {
    let root = root();
    CODE_DIRS.iter().flat_map(|dir| files(&root.join(dir), ".rs")).collect()
}

#[track_caller]
fn assert_none(offenders: &[String], rule: &str) {
    assert!(offenders.is_empty(), "{rule}; offenders:\n  {}", offenders.join("\n  "));
}

#[test]
fn core_depends_on_no_io_crates() {
    let paths = deps::forbidden_paths(&metadata(), "custodian-core", FORBIDDEN_IN_CORE).unwrap();
    assert_none(&paths, "custodian-core must not depend on IO crates, even transitively (style rule 2)");
}

#[test]
fn every_crate_uses_the_workspace_lints() {
    let offenders: Vec<String> = members(&metadata())
        .into_iter()
        .filter_map(|package| {
            let manifest = Path::new(package["manifest_path"].as_str().unwrap());
            let text = fs::read_to_string(manifest).unwrap();
            (!has_workspace_lints(&text)).then(|| display(manifest))
        })
        .collect();
    assert_none(&offenders, "every Cargo.toml needs `[lints]` with `workspace = true` (style rule 3)");
}

fn has_workspace_lints(manifest: &str) -> bool {
    let mut in_lints = false;
    for line in manifest.lines() {
        let line: String =
            line.split('#').next().unwrap_or("").chars().filter(|c| !c.is_whitespace()).collect();
        if line.starts_with('[') {
            in_lints = line == "[lints]";
        } else if (in_lints && line == "workspace=true") || line == "lints.workspace=true" {
            return true;
        }
    }
    false
}

#[test]
fn has_workspace_lints_reads_the_lints_table() {
    assert!(has_workspace_lints("[package]\nname = \"a\"\n\n[lints]\nworkspace = true\n"));
    assert!(has_workspace_lints("[package]\nlints.workspace = true\n"));
    assert!(!has_workspace_lints("[lints]\n\n[features]\nworkspace = true\n"));
    assert!(!has_workspace_lints("[lints]\n# workspace = true\n"));
}

#[test]
fn no_ignored_or_should_panic_tests() {
    // Built from pieces so this file does not match itself.
    let patterns = [concat!("#[", "ignore"), concat!("#[", "should_panic")];
    let mut offenders = Vec::new();
    for path in code_files() {
        let text = fs::read_to_string(&path).unwrap();
        for (number, line) in text.lines().enumerate() {
            for pattern in patterns.iter().filter(|pattern| line.contains(**pattern)) {
                offenders.push(format!("{}:{}: {pattern}", display(&path), number + 1));
            }
        }
    }
    assert_none(
        &offenders,
        "no ignored tests (assert today's behaviour and add a FIXME) and no should-panic tests (assert the `Err`) \
         (style rule 28)",
    );
}

#[test]
fn every_rust_file_starts_with_a_doc_comment() {
    let root = root();
    let mut crate_dirs: Vec<PathBuf> = fs::read_dir(root.join("crates"))
        .into_iter()
        .flatten()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.is_dir())
        .collect();
    crate_dirs.push(root.join("xtask"));
    let offenders: Vec<String> = crate_dirs
        .iter()
        .flat_map(|dir| ["src", "tests", "benches"].map(|sub| dir.join(sub)))
        .flat_map(|dir| files(&dir, ".rs"))
        .filter(|path| {
            let text = fs::read_to_string(path).unwrap();
            !text.lines().find(|line| !line.trim().is_empty()).is_some_and(|line| line.starts_with("//!"))
        })
        .map(|path| display(&path))
        .collect();
    assert_none(&offenders, "every Rust file starts with a `//!` line saying what it is for");
}

#[test]
fn crates_are_internal_and_libraries_skip_doctests() {
    let metadata = metadata();
    let mut offenders = Vec::new();
    for package in members(&metadata) {
        if package["publish"].as_array().is_none_or(|registries| !registries.is_empty()) {
            offenders.push(format!("{}: set `publish.workspace = true` (never published)", name(package)));
        }
        for target in package["targets"].as_array().unwrap() {
            if target["doctest"].as_bool() == Some(true) {
                offenders.push(format!(
                    "{}: target `{}` runs doctests: set `[lib] doctest = false`",
                    name(package),
                    target["name"].as_str().unwrap()
                ));
            }
        }
    }
    assert_none(&offenders, "internal crates are unpublished and do not run doctests (style rules 3 and 32)");
}

/// Crates whose tests share a CI service, and the nextest test group that caps their concurrency.
const SERVICE_TEST_GROUPS: &[(&str, &str)] = &[("custodian-postgres", "pg"), ("custodian-vault", "vault")];

#[test]
fn nextest_groups_cover_service_crates() {
    let config = fs::read_to_string(root().join(".config").join("nextest.toml")).unwrap();
    let lines: Vec<&str> = config.lines().map(str::trim).collect();
    let metadata = metadata();
    let members: Vec<&str> = members(&metadata).into_iter().map(name).collect();
    let offenders: Vec<String> = SERVICE_TEST_GROUPS
        .iter()
        .filter(|(package, _)| members.contains(package))
        .filter(|(package, group)| {
            let filter = format!("filter = \"package({package})\"");
            let test_group = format!("test-group = \"{group}\"");
            !lines.windows(2).any(|pair| pair[0] == filter && pair[1] == test_group)
        })
        .map(|(package, group)| format!("{package}: needs the `{group}` test group override"))
        .collect();
    assert_none(
        &offenders,
        ".config/nextest.toml: tests that share a CI service run in its test group (style rule 33)",
    );
}

#[test]
fn no_mod_rs_files() {
    let root = root();
    let offenders: Vec<String> = CODE_DIRS
        .iter()
        .flat_map(|dir| files(&root.join(dir), "mod.rs"))
        .filter(|path| path.file_name().is_some_and(|name| name == "mod.rs"))
        .map(|path| display(&path))
        .collect();
    assert_none(&offenders, "use `foo.rs` next to `foo/`, never `foo/mod.rs` (style rule 25)");
}

/// The requirement ids of `shared/design/requirements.md`: the first cell of each table row (`| AUTH-1 |`).
fn requirement_ids(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|line| line.strip_prefix("| "))
        .filter_map(|rest| rest.split_once(' ').map(|(id, _)| id))
        .filter(|id| {
            id.split_once('-').is_some_and(|(prefix, n)| {
                !prefix.is_empty()
                    && prefix.bytes().all(|b| b.is_ascii_uppercase())
                    && !n.is_empty()
                    && n.bytes().all(|b| b.is_ascii_digit())
            })
        })
        .map(str::to_owned)
        .collect()
}

#[test]
fn requirement_ids_are_read_from_table_rows() {
    let text =
        "| ID | Requirement |\n|---|---|\n| AUTH-1 | No call |\n| SEG-1 | Tenants |\nAUTH-9 in prose\n";
    assert_eq!(requirement_ids(text), ["AUTH-1", "SEG-1"]);
}

#[test]
fn policy_map_has_a_row_for_every_requirement() {
    let requirements = root().join("../shared/design/requirements.md");
    let text = fs::read_to_string(&requirements).unwrap_or_else(|e| {
        panic!("cannot read {} (shared/ must sit beside the repository): {e}", display(&requirements))
    });
    let ids = requirement_ids(&text);
    assert!(ids.len() > 30, "found only {} requirement ids in {}", ids.len(), display(&requirements));
    let map = fs::read_to_string(root().join("docs/policy-map.md")).unwrap();
    let mapped = requirement_ids(&map);
    let missing: Vec<String> = ids.iter().filter(|id| !mapped.contains(id)).cloned().collect();
    assert_none(&missing, "requirements without a row in docs/policy-map.md");
}
