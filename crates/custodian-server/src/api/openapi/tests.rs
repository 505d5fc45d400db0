//! Unit tests of the document's schema generators.

use super::*;

/// Request types are described by one generator and answer types by another, and both name their schemas
/// under `/components/schemas`: a name the two shared would make one side's `$ref`s point at the other
/// side's schema. Nor may two types of one side share a name (schemars would number the second).
#[test]
fn request_and_answer_schemas_have_distinct_names() {
    let mut generators = Generators::new();
    let _ = error_schema(&mut generators.answers);
    for op in operations() {
        for describe in [op.body, op.query].into_iter().flatten() {
            let _ = describe(&mut generators.requests);
        }
        if let Some(describe) = op.ok_schema {
            let _ = describe(&mut generators.answers);
        }
    }
    let requests: BTreeSet<&String> = generators.requests.definitions().keys().collect();
    let answers: BTreeSet<&String> = generators.answers.definitions().keys().collect();
    assert!(answers.len() > 50, "too few answer schemas: {answers:?}");
    let shared: Vec<_> = requests.intersection(&answers).collect();
    assert!(shared.is_empty(), "named by both sides: {shared:?}");
    for name in requests.iter().chain(&answers) {
        assert!(!name.ends_with(|c: char| c.is_ascii_digit()), "two types are named like `{name}`");
    }
}
