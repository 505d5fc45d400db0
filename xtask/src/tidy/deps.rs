//! The normal-dependency closure of a package, computed from `cargo metadata`'s resolve graph.

use std::collections::{BTreeMap, HashMap, VecDeque};

use anyhow::Context as _;
use serde_json::Value;

/// For every crate named in `forbidden` that `root` reaches through normal dependencies (not dev, not build; on any
/// target), one shortest path `root -> … -> crate`, sorted.
///
/// Errors if the metadata has no resolve graph or no workspace package named `root`, so the check cannot pass by
/// looking at nothing.
pub(super) fn forbidden_paths(
    metadata: &Value,
    root: &str,
    forbidden: &[&str],
) -> anyhow::Result<Vec<String>> {
    let packages = metadata["packages"].as_array().context("metadata has no `packages`")?;
    let names: HashMap<&str, &str> = packages
        .iter()
        .filter_map(|package| Some((package["id"].as_str()?, package["name"].as_str()?)))
        .collect();
    let members = metadata["workspace_members"].as_array().context("metadata has no `workspace_members`")?;
    let root_id = members
        .iter()
        .filter_map(Value::as_str)
        .find(|id| names.get(id) == Some(&root))
        .with_context(|| format!("no workspace member named `{root}`"))?;
    let nodes = metadata["resolve"]["nodes"].as_array().context("metadata has no resolve graph")?;
    let mut edges: HashMap<&str, Vec<&str>> = HashMap::new();
    for node in nodes {
        let id = node["id"].as_str().context("resolve node without `id`")?;
        let deps = node["deps"].as_array().context("resolve node without `deps`")?;
        let normal = deps.iter().filter(|dep| {
            dep["dep_kinds"].as_array().is_some_and(|kinds| kinds.iter().any(|kind| kind["kind"].is_null()))
        });
        edges.insert(id, normal.filter_map(|dep| dep["pkg"].as_str()).collect());
    }

    // Breadth-first, so each reported path is a shortest one.
    let mut parent: HashMap<&str, &str> = HashMap::new();
    let mut queue = VecDeque::from([root_id]);
    let mut found = BTreeMap::new();
    while let Some(id) = queue.pop_front() {
        let name = names.get(id).copied().unwrap_or(id);
        if forbidden.contains(&name) {
            let mut path = vec![name];
            let mut at = id;
            while let Some(&up) = parent.get(at) {
                path.push(names.get(up).copied().unwrap_or(up));
                at = up;
            }
            path.reverse();
            found.entry(name).or_insert_with(|| path.join(" -> "));
        }
        for &dep in edges.get(id).into_iter().flatten() {
            if dep != root_id && !parent.contains_key(dep) {
                parent.insert(dep, id);
                queue.push_back(dep);
            }
        }
    }
    Ok(found.into_values().collect())
}

#[cfg(test)]
mod tests;
