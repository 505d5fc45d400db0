//! What commands print: text for people, or one JSON document per line with `--json`. Results go to
//! standard output; errors go to standard error as text, or to standard output as JSON with `--json` (so a
//! script reads one stream).

use std::fmt::Display;
use std::io::Write as _;

use custodian_server::runtime::RuntimeError;
use serde_json::{Value, json};

#[derive(Debug, Clone, Copy)]
pub(crate) struct Output {
    json: bool,
}

impl Output {
    pub(crate) fn new(json: bool) -> Self {
        Self { json }
    }

    /// Writes `value` with `--json`, else `text`; flushed at once (a script may wait for the line).
    pub(crate) fn emit(&self, value: &Value, text: impl Display) {
        let mut stdout = std::io::stdout().lock();
        let written = if self.json { writeln!(stdout, "{value}") } else { writeln!(stdout, "{text}") };
        // A closed standard output (a pipe whose reader left) is not worth failing the command over.
        let _ = written.and_then(|()| stdout.flush());
    }

    /// Reports `error` with its causes; an ENV-1 refusal lists each violation on its own line.
    pub(crate) fn error(&self, error: &anyhow::Error) {
        let violations: Vec<String> = error
            .chain()
            .find_map(|e| e.downcast_ref::<RuntimeError>())
            .and_then(RuntimeError::violations)
            .map(<[String]>::to_vec)
            .unwrap_or_default();
        let causes: Vec<String> = error.chain().map(ToString::to_string).collect();
        if self.json {
            let value = json!({"error": causes.join(": "), "violations": violations});
            let mut stdout = std::io::stdout().lock();
            let _ = writeln!(stdout, "{value}").and_then(|()| stdout.flush());
            return;
        }
        let mut stderr = std::io::stderr().lock();
        if violations.is_empty() {
            let _ = writeln!(stderr, "error: {}", causes.join(": "));
        } else {
            let _ = writeln!(stderr, "error: refusing to start in production with unsafe settings (ENV-1):");
            for violation in &violations {
                let _ = writeln!(stderr, "  - {violation}");
            }
        }
    }
}
