//! Benchmark of `authz::decide` (written with the authz tests).
fn main() {}
