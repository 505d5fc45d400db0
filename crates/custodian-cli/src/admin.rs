//! The admin commands (issue 7): thin clients of a running server's HTTP API, one API call per command
//! (a sync run calls once per account, to show progress; `audit verify` against a server once per
//! chain). Authentication, the authorization decision (`authz::decide`) and the audit trail happen on the
//! server exactly as for any API caller; the embedded keystore stays with the one `custodian serve`.
//!
//! Output: text for people (tables, `field: value` lines), or with `--json` the API's JSON documents, one
//! per line. An API error `{code, message}` exits 1 with `error: <message> (<code>)`. Progress bars (sync
//! run, export download, audit verify over many chains) are drawn on standard error only when it is a
//! terminal and `--json` is off.

use std::fmt::Write as _;
use std::io::{BufRead as _, IsTerminal as _, Write as _};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context as _, anyhow, bail};
use clap::{Subcommand, ValueEnum};
use custodian_http::{BodySink, Method};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use secrecy::{ExposeSecret as _, SecretString};
use serde_json::{Map, Value, json};

use crate::client::{Api, ClientEnv, LOGIN_HINT, Session, failure_of, json_of, private_file};
use crate::output::Output;

/// Exit code of `audit verify` when a chain does not verify.
const CHAIN_BROKEN: u8 = 2;

/// The commands that talk to a running server.
#[derive(Debug, Subcommand)]
pub(crate) enum AdminCommand {
    /// Log in: reads the password, then the current TOTP code, one line each from standard input; saves
    /// the session (mode 0600) for the server.
    Login {
        /// Your email address (your login name).
        #[arg(long)]
        email: String,
    },
    /// End the saved session on the server and remove it here.
    Logout,
    /// Confirm a recent MFA for sensitive actions (ACC-2): reads the current TOTP code from standard input.
    StepUp,
    /// Who the server sees: the logged-in person or the API key.
    Whoami,
    /// Tenants (clients) and their contacts.
    Tenant {
        #[command(subcommand)]
        command: TenantCommand,
    },
    /// Platform authorizations (grants) of a tenant.
    Grant {
        #[command(subcommand)]
        command: GrantCommand,
    },
    /// Syncs of a grant's data.
    Sync {
        #[command(subcommand)]
        command: SyncCommand,
    },
    /// Retention periods, sweeps, legal holds and deletion receipts (RET-1..6).
    Retention {
        #[command(subcommand)]
        command: RetentionCommand,
    },
    /// Client rights requests, export, deletion and offboarding (RGT-1..3).
    Rights {
        #[command(subcommand)]
        command: RightsCommand,
    },
    /// Security incidents concerning a tenant (INC-1).
    Incident {
        #[command(subcommand)]
        command: IncidentCommand,
    },
    /// Personnel: people, their roles, tenants and TOTP.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Integrator API keys (ACC-4).
    ApiKey {
        #[command(subcommand)]
        command: ApiKeyCommand,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum TenantCommand {
    /// Create a tenant (you are assigned to it).
    Create {
        /// Its id (lowercase letters, digits, `-`).
        id: String,
        #[arg(long)]
        name: String,
        /// A contract retention override, `CLASS=DAYS` (only shorter periods take effect, RET-2).
        #[arg(long = "retention", value_name = "CLASS=DAYS")]
        retention: Vec<String>,
    },
    /// The tenants you may see.
    List,
    Show {
        id: String,
    },
    /// The tenant's business contacts.
    Contacts {
        #[command(subcommand)]
        command: ContactsCommand,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum ContactsCommand {
    Add {
        /// The tenant.
        tenant: String,
        #[arg(long)]
        name: String,
        /// Their role at the client, e.g. `billing`.
        #[arg(long)]
        role: String,
        #[arg(long)]
        email: Option<String>,
        #[arg(long)]
        phone: Option<String>,
    },
    List {
        /// The tenant.
        tenant: String,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum Switch {
    On,
    Off,
}

#[derive(Debug, Subcommand)]
pub(crate) enum GrantCommand {
    /// Start connecting a platform: prints the consent URL to send to the client (AUTH-4).
    Connect {
        #[arg(long)]
        tenant: String,
        /// meta, tiktok, tiktok-shop, amazon or ebay.
        #[arg(long)]
        platform: String,
        /// A task to enable (repeat), e.g. `read_reporting`.
        #[arg(long = "task", required = true)]
        tasks: Vec<String>,
        /// Switch buyer PII on (commerce platforms, MIN-2).
        #[arg(long)]
        pii: bool,
    },
    List {
        #[arg(long)]
        tenant: String,
    },
    Show {
        #[arg(long)]
        tenant: String,
        grant: String,
    },
    /// Validate live with the platform (AUTH-2).
    Validate {
        #[arg(long)]
        tenant: String,
        grant: String,
    },
    /// Re-approve a grant in review as it now is (AUTH-5).
    Review {
        #[arg(long)]
        tenant: String,
        grant: String,
    },
    /// The buyer PII switch (MIN-2).
    Pii {
        #[arg(long)]
        tenant: String,
        grant: String,
        #[arg(value_enum)]
        switch: Switch,
    },
    /// Revoke and purge at once; prints the deletion receipt (RET-3, RET-6).
    Revoke {
        #[arg(long)]
        tenant: String,
        grant: String,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum SyncCommand {
    /// Sync a grant now, account by account, and show what each run stored.
    Run {
        #[arg(long)]
        tenant: String,
        grant: String,
        /// Only this account (a key such as `meta:act_1`); default every account of the grant.
        #[arg(long)]
        account: Option<String>,
        /// reporting, orders or stock (repeat); default what the platform offers.
        #[arg(long = "kind")]
        kinds: Vec<String>,
        /// Report level: account, campaign, ad_group or ad.
        #[arg(long)]
        level: Option<String>,
        /// Report window start, `YYYY-MM-DD`.
        #[arg(long)]
        from: Option<String>,
        /// Report window end, `YYYY-MM-DD`.
        #[arg(long)]
        to: Option<String>,
    },
    /// Where each account and kind of the grant stands (the last committed checkpoints).
    History {
        #[arg(long)]
        tenant: String,
        grant: String,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum RetentionCommand {
    /// The effective period of each data class (RET-1, RET-2).
    Policies {
        #[arg(long)]
        tenant: String,
    },
    /// Delete or anonymize what is past its period now (RET-4).
    Sweep {
        #[arg(long)]
        tenant: String,
    },
    /// Legal holds (RET-5).
    Holds {
        #[command(subcommand)]
        command: HoldsCommand,
    },
    /// Deletion receipts, newest first (RET-6).
    Receipts {
        #[arg(long)]
        tenant: String,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum HoldsCommand {
    Add {
        #[arg(long)]
        tenant: String,
        /// `tenant`, `grant:<id>` or `class:<data class>`.
        #[arg(long)]
        scope: String,
        #[arg(long)]
        reason: String,
        /// RFC 3339.
        #[arg(long)]
        ends_at: String,
    },
    List {
        #[arg(long)]
        tenant: String,
    },
    /// End a hold early (needs a recent step-up).
    Lift {
        #[arg(long)]
        tenant: String,
        hold: String,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum ExportFormat {
    Json,
    Csv,
}

#[derive(Debug, Subcommand)]
pub(crate) enum RightsCommand {
    /// Record a request; its deadlines run from when it was received (RGT-2).
    Open {
        #[arg(long)]
        tenant: String,
        /// access, correction, portability, restriction, objection or deletion.
        #[arg(long)]
        kind: String,
        /// gdpr or ccpa.
        #[arg(long)]
        regime: String,
        /// For an objection: the purpose objected to.
        #[arg(long)]
        purpose: Option<String>,
        /// RFC 3339; default now.
        #[arg(long)]
        received_at: Option<String>,
    },
    List {
        #[arg(long)]
        tenant: String,
    },
    Show {
        #[arg(long)]
        tenant: String,
        request: String,
    },
    /// acknowledge, extend (`--reason`, `--new-due`), complete or reject (`--reason`).
    Update {
        #[arg(long)]
        tenant: String,
        request: String,
        #[arg(long)]
        action: String,
        #[arg(long)]
        reason: Option<String>,
        #[arg(long)]
        new_due: Option<String>,
    },
    /// Download everything portable of the client (needs a recent step-up) into a new file (mode 0600).
    Export {
        #[arg(long)]
        tenant: String,
        #[arg(long, value_enum, default_value = "json")]
        format: ExportFormat,
        /// With csv: which file (orders, order_lines, report_rows, campaigns, stock, contacts).
        #[arg(long)]
        file: Option<String>,
        /// Where to write it (must not exist).
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Delete the client's data under a deletion request; prints the receipt (RET-6).
    DeleteData {
        #[arg(long)]
        tenant: String,
        request: String,
    },
    /// Offboard the client: stop, export, delete, mark offboarded (RGT-3); prints the receipt.
    Offboard {
        #[arg(long)]
        tenant: String,
        /// Where to write the final export (JSON, must not exist); default nowhere.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum IncidentCommand {
    /// Open an incident: isolates the tenant, or only the listed grants.
    Open {
        #[arg(long)]
        tenant: String,
        /// low, medium, high or critical.
        #[arg(long)]
        severity: String,
        #[arg(long)]
        summary: String,
        /// Isolate only this grant (repeat).
        #[arg(long = "grant")]
        grants: Vec<String>,
    },
    List {
        #[arg(long)]
        tenant: String,
    },
    Show {
        #[arg(long)]
        tenant: String,
        incident: String,
    },
    /// What was touched in a window, from the audit trail.
    Assess {
        #[arg(long)]
        tenant: String,
        incident: String,
        /// RFC 3339.
        #[arg(long)]
        from: String,
        /// RFC 3339.
        #[arg(long)]
        to: String,
    },
    /// Notify the client (and the listed platforms).
    Notify {
        #[arg(long)]
        tenant: String,
        incident: String,
        #[arg(long = "platform")]
        platforms: Vec<String>,
    },
    Remediate {
        #[arg(long)]
        tenant: String,
        incident: String,
        #[arg(long)]
        action: String,
    },
    /// Close with a post-incident review (lifts the isolation).
    Close {
        #[arg(long)]
        tenant: String,
        incident: String,
        #[arg(long)]
        review: String,
        #[arg(long = "follow-up")]
        follow_ups: Vec<String>,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum UserCommand {
    /// Add a person: reads their initial password (one line) from standard input; prints their TOTP
    /// secret once.
    Add {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: Option<String>,
        /// A role (repeat): admin, security_officer, account_manager, analyst, fulfillment, auditor.
        #[arg(long = "role")]
        roles: Vec<String>,
        /// An assigned tenant (repeat).
        #[arg(long = "tenant")]
        tenants: Vec<String>,
    },
    List,
    Show {
        id: String,
    },
    /// Replace a person's roles and tenants.
    Access {
        id: String,
        #[arg(long = "role")]
        roles: Vec<String>,
        #[arg(long = "tenant")]
        tenants: Vec<String>,
    },
    /// A new TOTP secret for the person (printed once).
    TotpReset {
        id: String,
    },
    Disable {
        id: String,
    },
    /// The person's sessions that still work, newest first.
    Sessions {
        id: String,
    },
    /// End every session of the person at once (a lost device, a suspected compromise); they stay active
    /// and may log in again.
    SignOut {
        id: String,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum ApiKeyCommand {
    /// Create a key: printed once.
    Create {
        #[arg(long)]
        name: String,
        /// A tenant it may act on (repeat).
        #[arg(long = "tenant")]
        tenants: Vec<String>,
        /// A permission (repeat), e.g. `tenant_read`.
        #[arg(long = "permission")]
        permissions: Vec<String>,
        #[arg(long)]
        expires_in_days: Option<u32>,
    },
    List,
    Revoke {
        id: String,
    },
}

/// What every admin command gets.
#[derive(Debug)]
pub(crate) struct Ctx {
    pub(crate) out: Output,
    pub(crate) json: bool,
    pub(crate) env: ClientEnv,
}

impl Ctx {
    fn api(&self) -> anyhow::Result<Api> {
        Api::from_env(&self.env)
    }

    /// A progress bar of `len` steps (a spinner when `None`), drawn only on a terminal without `--json`.
    fn progress(&self, len: Option<u64>, message: &str) -> ProgressBar {
        if self.json || !std::io::stderr().is_terminal() {
            return ProgressBar::hidden();
        }
        let bar = match len {
            Some(len) => ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr()).with_style(
                ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} {elapsed}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
            ),
            None => ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr()).with_style(
                ProgressStyle::with_template("{spinner} {msg} {elapsed}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            ),
        };
        bar.set_message(message.to_owned());
        bar.enable_steady_tick(Duration::from_millis(120));
        bar
    }

    /// A byte count for a download, drawn only on a terminal without `--json`: a spinner with the bytes so
    /// far, until [`Download`] learns the length and makes it a bar.
    fn byte_progress(&self, message: &str) -> ProgressBar {
        if self.json || !std::io::stderr().is_terminal() {
            return ProgressBar::hidden();
        }
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr()).with_style(
            ProgressStyle::with_template("{spinner} {msg} {bytes} {elapsed}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.set_message(message.to_owned());
        bar.enable_steady_tick(Duration::from_millis(120));
        bar
    }
}

/// A download's destination: each chunk written to the file as it arrives, and counted on the bar.
struct Download<'a> {
    file: &'a mut std::fs::File,
    bar: &'a ProgressBar,
}

impl BodySink for Download<'_> {
    fn start(&mut self, declared: Option<u64>) {
        if let Some(length) = declared {
            self.bar.set_length(length);
            if let Ok(style) =
                ProgressStyle::with_template("{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} {eta}")
            {
                self.bar.set_style(style.progress_chars("=> "));
            }
        }
    }

    fn write(&mut self, chunk: &[u8]) -> std::io::Result<()> {
        self.file.write_all(chunk)?;
        self.bar.inc(chunk.len() as u64);
        Ok(())
    }
}

/// Runs one admin command.
pub(crate) async fn run(ctx: &Ctx, command: AdminCommand) -> anyhow::Result<ExitCode> {
    match command {
        AdminCommand::Login { email } => login(ctx, &email).await,
        AdminCommand::Logout => logout(ctx).await,
        AdminCommand::StepUp => step_up(ctx).await,
        AdminCommand::Whoami => whoami(ctx).await,
        AdminCommand::Tenant { command } => tenant(ctx, command).await,
        AdminCommand::Grant { command } => grant(ctx, command).await,
        AdminCommand::Sync { command } => sync(ctx, command).await,
        AdminCommand::Retention { command } => retention(ctx, command).await,
        AdminCommand::Rights { command } => rights(ctx, command).await,
        AdminCommand::Incident { command } => incident(ctx, command).await,
        AdminCommand::User { command } => user(ctx, command).await,
        AdminCommand::ApiKey { command } => api_key(ctx, command).await,
    }
    .map(|()| ExitCode::SUCCESS)
}

// ---- rendering ----

/// A JSON value as one table cell or `field: value` text.
fn cell(value: &Value) -> String {
    match value {
        Value::Null => "-".to_owned(),
        Value::String(s) => s.clone(),
        Value::Bool(b) => if *b { "yes" } else { "no" }.to_owned(),
        Value::Number(n) => n.to_string(),
        Value::Array(items) if items.iter().all(|i| !i.is_object() && !i.is_array()) => {
            if items.is_empty() {
                "-".to_owned()
            } else {
                items.iter().map(cell).collect::<Vec<_>>().join(",")
            }
        }
        other => other.to_string(),
    }
}

/// The value at a dotted `path` (`evidence.owner`).
fn at<'a>(value: &'a Value, path: &str) -> &'a Value {
    path.split('.').fold(value, |v, key| v.get(key).unwrap_or(&Value::Null))
}

/// A text table of `rows` with `columns` (header, dotted path); `empty` when there is no row.
fn table(rows: &[Value], columns: &[(&str, &str)], empty: &str) -> String {
    if rows.is_empty() {
        return empty.to_owned();
    }
    let cells: Vec<Vec<String>> =
        rows.iter().map(|row| columns.iter().map(|(_, path)| cell(at(row, path))).collect()).collect();
    let widths: Vec<usize> = columns
        .iter()
        .enumerate()
        .map(|(i, (header, _))| {
            cells.iter().map(|r| r[i].chars().count()).chain([header.len()]).max().unwrap_or(0)
        })
        .collect();
    let mut text = String::new();
    let mut line = |values: Vec<&str>| {
        let mut row = String::new();
        for (i, value) in values.iter().enumerate() {
            if i + 1 == values.len() {
                row.push_str(value);
            } else {
                let _ = write!(row, "{value:<width$}  ", width = widths[i]);
            }
        }
        let _ = writeln!(text, "{}", row.trim_end());
    };
    line(
        columns
            .iter()
            .map(|(h, _)| h.to_ascii_uppercase())
            .collect::<Vec<_>>()
            .iter()
            .map(String::as_str)
            .collect(),
    );
    for row in &cells {
        line(row.iter().map(String::as_str).collect());
    }
    text.trim_end().to_owned()
}

/// `field: value` lines of an object's fields.
fn describe(value: &Value) -> String {
    let Some(object) = value.as_object() else { return cell(value) };
    let width = object.keys().map(String::len).max().unwrap_or(0);
    let mut text = String::new();
    for (key, value) in object {
        let _ = writeln!(text, "{key:<width$}  {}", cell(value));
    }
    text.trim_end().to_owned()
}

/// The rows of `value[key]`.
fn rows<'a>(value: &'a Value, key: &str) -> &'a [Value] {
    value.get(key).and_then(Value::as_array).map_or(&[], Vec::as_slice)
}

fn show(ctx: &Ctx, value: &Value, text: impl std::fmt::Display) {
    ctx.out.emit(value, text);
}

fn show_object(ctx: &Ctx, value: &Value, key: &str, title: &str) {
    show(ctx, value, format!("{title}\n{}", describe(&value[key])));
}

// ---- columns ----

const TENANT_COLUMNS: [(&str, &str); 3] = [("id", "id"), ("name", "name"), ("status", "status")];
const GRANT_COLUMNS: [(&str, &str); 5] =
    [("id", "id"), ("platform", "platform"), ("state", "state"), ("pii", "pii_enabled"), ("tasks", "tasks")];
const PERSON_COLUMNS: [(&str, &str); 5] =
    [("id", "id"), ("roles", "roles"), ("tenants", "tenants"), ("mfa", "mfa_enrolled"), ("active", "active")];
const SESSION_COLUMNS: [(&str, &str); 4] = [
    ("created", "created_at"),
    ("expires", "expires_at"),
    ("mfa verified", "mfa_verified_at"),
    ("current", "current"),
];
const KEY_COLUMNS: [(&str, &str); 5] = [
    ("id", "id"),
    ("name", "name"),
    ("tenants", "tenants"),
    ("expires", "expires_at"),
    ("revoked", "revoked_at"),
];
const RIGHTS_COLUMNS: [(&str, &str); 6] = [
    ("id", "id"),
    ("kind", "kind"),
    ("regime", "regime"),
    ("status", "status"),
    ("respond_by", "respond_by"),
    ("overdue", "overdue"),
];
const INCIDENT_COLUMNS: [(&str, &str); 5] = [
    ("id", "id"),
    ("severity", "severity"),
    ("state", "state"),
    ("opened_at", "opened_at"),
    ("summary", "summary"),
];
const HOLD_COLUMNS: [(&str, &str); 5] =
    [("id", "id"), ("scope", "scope"), ("active", "active"), ("ends_at", "ends_at"), ("reason", "reason")];
const RECEIPT_COLUMNS: [(&str, &str); 5] = [
    ("id", "id"),
    ("cause", "cause"),
    ("completed_at", "completed_at"),
    ("deleted", "total_deleted"),
    ("clean", "clean"),
];

/// A deletion receipt for people: totals, what each store deleted, what the re-check found.
fn receipt_text(receipt: &Value) -> String {
    let mut text = format!(
        "receipt {}: {} deleted, {} (cause: {})",
        cell(&receipt["id"]),
        cell(&receipt["total_deleted"]),
        if receipt["clean"] == true { "clean" } else { "NOT CLEAN: something remained at the re-check" },
        cell(&receipt["cause"])
    );
    for item in rows(receipt, "deleted") {
        let _ = write!(
            text,
            "\n  {:<10} {:<24} {}",
            cell(&item["store"]),
            cell(&item["what"]),
            cell(&item["count"])
        );
    }
    text
}

// ---- standard input ----

/// One line of standard input without its line ending; `what` names it in errors.
fn read_line(what: &str) -> anyhow::Result<SecretString> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .with_context(|| format!("cannot read the {what} from standard input"))?;
    let value = line.trim_end_matches(['\n', '\r']).to_owned();
    line.clear();
    Ok(SecretString::from(value))
}

fn required_line(what: &str, example: &str) -> anyhow::Result<SecretString> {
    let value = read_line(what)?;
    if value.expose_secret().is_empty() {
        bail!("no {what} on standard input: pipe it as one line, e.g. `{example}`");
    }
    Ok(value)
}

// ---- session ----

async fn login(ctx: &Ctx, email: &str) -> anyhow::Result<()> {
    let password = required_line("password", "custodian login --email … < file-with-password-and-code")?;
    let code = read_line("totp code")?;
    let server = ctx.env.server();
    let api = Api::new(&server, None)?;
    let mut body = json!({"email": email, "password": password.expose_secret()});
    let code = code.expose_secret().trim();
    if !code.is_empty() {
        body["code"] = Value::from(code);
    }
    let response = api.send(Method::POST, &["v1", "auth", "login"], &[], Some(&body), false).await;
    drop(body);
    let answer = json_of(&response?)?;
    let token = answer["token"].as_str().ok_or_else(|| anyhow!("the server's login answer has no token"))?;
    let session = Session {
        server: server.clone(),
        token: SecretString::from(token.to_owned()),
        person: cell(&answer["person"]["id"]),
        expires_at: cell(&answer["expires_at"]),
    };
    let path = ctx.env.session_file()?;
    session.save(&path)?;
    show(
        ctx,
        &json!({"server": server, "person": answer["person"], "expires_at": answer["expires_at"],
                "mfa_verified_at": answer["mfa_verified_at"], "session_file": path.display().to_string()}),
        format_args!(
            "logged in to {server} as {} (session until {}, saved in {})",
            session.person,
            session.expires_at,
            path.display()
        ),
    );
    Ok(())
}

async fn logout(ctx: &Ctx) -> anyhow::Result<()> {
    let path = ctx.env.session_file()?;
    let Some(session) = Session::load(&path)? else {
        show(ctx, &json!({"logged_out": false}), "not logged in");
        return Ok(());
    };
    // Revoke on the server the session belongs to; remove the file whatever it answers (an expired or
    // revoked session is over anyway), but report a server that could not be reached.
    let api = Api::new(&session.server, Some(crate::client::Credential::Session(session.token)))?;
    let revoked = match api.send(Method::POST, &["v1", "auth", "logout"], &[], None, true).await {
        Ok(response) if response.is_success() => Ok(true),
        Ok(response) if response.status == 401 => Ok(false),
        Ok(response) => Err(failure_of(&response)),
        Err(e) => Err(e),
    };
    std::fs::remove_file(&path)
        .with_context(|| format!("cannot remove the session file {}", path.display()))?;
    let revoked =
        revoked.context("the session file was removed, but the server did not revoke the session")?;
    show(
        ctx,
        &json!({"logged_out": true, "server": session.server, "revoked": revoked}),
        format_args!("logged out of {}", session.server),
    );
    Ok(())
}

async fn step_up(ctx: &Ctx) -> anyhow::Result<()> {
    let code = required_line("totp code", "custodian step-up < file-with-code")?;
    let api = ctx.api()?;
    let body = json!({"code": code.expose_secret()});
    let answer = api.post(&["v1", "auth", "step-up"], &body).await?;
    show(ctx, &answer, format_args!("mfa verified at {}", cell(&answer["mfa_verified_at"])));
    Ok(())
}

async fn whoami(ctx: &Ctx) -> anyhow::Result<()> {
    let api = ctx.api()?;
    let me = api.get(&["v1", "me"]).await?;
    let text = if me["kind"] == "api_key" {
        format!(
            "api key {} ({}) at {}",
            cell(&me["api_key"]["id"]),
            cell(&me["api_key"]["name"]),
            api.server()
        )
    } else {
        format!(
            "{} at {} (roles: {}; tenants: {}; mfa verified at {})",
            cell(&me["person"]["id"]),
            api.server(),
            cell(&me["person"]["roles"]),
            cell(&me["person"]["tenants"]),
            cell(&me["session"]["mfa_verified_at"])
        )
    };
    show(ctx, &me, text);
    Ok(())
}

// ---- tenants ----

async fn tenant(ctx: &Ctx, command: TenantCommand) -> anyhow::Result<()> {
    let api = ctx.api()?;
    match command {
        TenantCommand::Create { id, name, retention } => {
            let mut days = Map::new();
            for item in &retention {
                let (class, n) = item
                    .split_once('=')
                    .and_then(|(c, n)| Some((c.trim(), n.trim().parse::<u32>().ok()?)))
                    .ok_or_else(|| {
                        anyhow!("`--retention {item}`: expected CLASS=DAYS, e.g. order_detail=365")
                    })?;
                days.insert(class.to_owned(), Value::from(n));
            }
            let body = json!({"id": id, "name": name, "retention_days": days});
            let answer = api.post(&["v1", "tenants"], &body).await?;
            show(
                ctx,
                &answer,
                format_args!(
                    "created tenant `{}` ({})",
                    cell(&answer["tenant"]["id"]),
                    cell(&answer["tenant"]["name"])
                ),
            );
        }
        TenantCommand::List => {
            let answer = api.get(&["v1", "tenants"]).await?;
            show(ctx, &answer, table(rows(&answer, "tenants"), &TENANT_COLUMNS, "no tenants"));
        }
        TenantCommand::Show { id } => {
            let answer = api.get(&["v1", "tenants", &id]).await?;
            show_object(ctx, &answer, "tenant", &format!("tenant `{id}`"));
        }
        TenantCommand::Contacts { command: ContactsCommand::Add { tenant, name, role, email, phone } } => {
            let body = json!({"name": name, "role": role, "email": email, "phone": phone});
            let answer = api.post(&["v1", "tenants", &tenant, "contacts"], &body).await?;
            show(
                ctx,
                &answer,
                format_args!(
                    "added contact {} ({}) to `{tenant}`",
                    cell(&answer["contact"]["id"]),
                    cell(&answer["contact"]["role"])
                ),
            );
        }
        TenantCommand::Contacts { command: ContactsCommand::List { tenant } } => {
            let answer = api.get(&["v1", "tenants", &tenant, "contacts"]).await?;
            let columns =
                [("id", "id"), ("name", "name"), ("role", "role"), ("email", "email"), ("phone", "phone")];
            show(ctx, &answer, table(rows(&answer, "contacts"), &columns, "no contacts"));
        }
    }
    Ok(())
}

// ---- grants and syncs ----

async fn grant(ctx: &Ctx, command: GrantCommand) -> anyhow::Result<()> {
    let api = ctx.api()?;
    let empty = json!({});
    match command {
        GrantCommand::Connect { tenant, platform, tasks, pii } => {
            let body = json!({"platform": platform, "tasks": tasks, "pii": pii});
            let answer = api.post(&["v1", "tenants", &tenant, "grants"], &body).await?;
            show(
                ctx,
                &answer,
                format_args!(
                    "grant {} ({}) is pending the client's consent until {}.\nsend the client this consent url:\n  {}",
                    cell(&answer["grant"]["id"]),
                    cell(&answer["grant"]["platform"]),
                    cell(&answer["expires_at"]),
                    cell(&answer["consent_url"])
                ),
            );
        }
        GrantCommand::List { tenant } => {
            let answer = api.get(&["v1", "tenants", &tenant, "grants"]).await?;
            show(ctx, &answer, table(rows(&answer, "grants"), &GRANT_COLUMNS, "no grants"));
        }
        GrantCommand::Show { tenant, grant } => {
            let answer = api.get(&["v1", "tenants", &tenant, "grants", &grant]).await?;
            show_object(ctx, &answer, "grant", &format!("grant `{grant}`"));
        }
        GrantCommand::Validate { tenant, grant } => {
            let answer = api.post(&["v1", "tenants", &tenant, "grants", &grant, "validate"], &empty).await?;
            show(
                ctx,
                &answer,
                format_args!(
                    "grant {grant}: {} (state {})",
                    cell(&answer["outcome"]),
                    cell(&answer["grant"]["state"])
                ),
            );
        }
        GrantCommand::Review { tenant, grant } => {
            let answer = api.post(&["v1", "tenants", &tenant, "grants", &grant, "review"], &empty).await?;
            show(
                ctx,
                &answer,
                format_args!("grant {grant}: re-approved (state {})", cell(&answer["grant"]["state"])),
            );
        }
        GrantCommand::Pii { tenant, grant, switch } => {
            let body = json!({"enabled": matches!(switch, Switch::On)});
            let answer = api
                .call(Method::PUT, &["v1", "tenants", &tenant, "grants", &grant, "pii"], &[], Some(&body))
                .await?;
            show(
                ctx,
                &answer,
                format_args!(
                    "grant {grant}: buyer pii {}",
                    if answer["grant"]["pii_enabled"] == true { "on" } else { "off" }
                ),
            );
        }
        GrantCommand::Revoke { tenant, grant } => {
            let answer = api.post(&["v1", "tenants", &tenant, "grants", &grant, "revoke"], &empty).await?;
            show(
                ctx,
                &answer,
                format_args!("grant {grant} revoked and purged\n{}", receipt_text(&answer["receipt"])),
            );
        }
    }
    Ok(())
}

async fn sync(ctx: &Ctx, command: SyncCommand) -> anyhow::Result<()> {
    let api = ctx.api()?;
    match command {
        SyncCommand::Run { tenant, grant, account, kinds, level, from, to } => {
            let path = ["v1", "tenants", tenant.as_str(), "grants", grant.as_str(), "syncs"];
            // One call per account, so that progress means something; the server checks every one.
            let accounts: Vec<Option<String>> = match account {
                Some(account) => vec![Some(account)],
                None => {
                    let shown = api.get(&["v1", "tenants", &tenant, "grants", &grant]).await?;
                    let keys: Vec<Option<String>> = rows(&shown["grant"]["evidence"], "accounts")
                        .iter()
                        .filter_map(|a| a.as_str().map(|s| Some(s.to_owned())))
                        .collect();
                    // No validated account: one call without, for the server's own answer.
                    if keys.is_empty() { vec![None] } else { keys }
                }
            };
            let bar = ctx.progress(Some(accounts.len() as u64), &format!("syncing grant {grant}"));
            let mut runs = Vec::new();
            let mut last_grant = Value::Null;
            for account in &accounts {
                if let Some(account) = account {
                    bar.set_message(format!("syncing {account}"));
                }
                let body =
                    json!({"account": account, "kinds": kinds, "level": level, "from": from, "to": to});
                let answer = api.post(&path, &body).await;
                let answer = match answer {
                    Ok(answer) => answer,
                    Err(e) => {
                        bar.abandon();
                        return Err(e);
                    }
                };
                runs.extend(rows(&answer, "runs").iter().cloned());
                last_grant = answer["grant"].clone();
                bar.inc(1);
            }
            bar.finish_and_clear();
            let answer = json!({"grant": last_grant, "runs": runs});
            let columns = [
                ("account", "account"),
                ("kind", "kind"),
                ("pages", "pages"),
                ("records", "records"),
                ("inserted", "inserted"),
                ("updated", "updated"),
                ("unchanged", "unchanged"),
            ];
            show(
                ctx,
                &answer,
                format_args!(
                    "{}\ngrant {grant}: {}",
                    table(&runs, &columns, "nothing ran"),
                    cell(&answer["grant"]["state"])
                ),
            );
        }
        SyncCommand::History { tenant, grant } => {
            let answer = api.get(&["v1", "tenants", &tenant, "grants", &grant, "syncs"]).await?;
            let columns = [
                ("account", "account"),
                ("kind", "kind"),
                ("finished", "finished"),
                ("watermark", "watermark"),
                ("updated_at", "updated_at"),
            ];
            show(ctx, &answer, table(rows(&answer, "checkpoints"), &columns, "no sync has run"));
        }
    }
    Ok(())
}

// ---- retention ----

async fn retention(ctx: &Ctx, command: RetentionCommand) -> anyhow::Result<()> {
    let api = ctx.api()?;
    match command {
        RetentionCommand::Policies { tenant } => {
            let answer = api.get(&["v1", "tenants", &tenant, "retention"]).await?;
            let mut table_rows = Vec::new();
            for rule in rows(&answer, "policies") {
                let period = |v: &Value| match (v.get("days"), v.get("months")) {
                    (Some(d), _) => format!("{} days", cell(d)),
                    (_, Some(m)) => format!("{} months", cell(m)),
                    _ => "forever".to_owned(),
                };
                table_rows.push(json!({
                    "class": rule["class"], "policy": period(&rule["policy"]), "contract": rule["contract_days"],
                    "effective": period(&rule["effective"]), "disposal": rule["disposal"],
                }));
            }
            let columns = [
                ("class", "class"),
                ("policy", "policy"),
                ("contract_days", "contract"),
                ("effective", "effective"),
                ("disposal", "disposal"),
            ];
            show(ctx, &answer, table(&table_rows, &columns, "no retention rules"));
        }
        RetentionCommand::Sweep { tenant } => {
            let answer = api.post(&["v1", "tenants", &tenant, "retention", "sweep"], &json!({})).await?;
            let total = &answer["sweep"]["total"];
            let mut text = format!(
                "retention sweep of `{tenant}`: {} deleted, {} anonymized, {} kept, {} held",
                cell(&total["deleted"]),
                cell(&total["anonymized"]),
                cell(&total["kept"]),
                cell(&total["held"])
            );
            if let Some(classes) = answer["sweep"]["per_class"].as_object() {
                for (class, c) in classes {
                    let _ = write!(
                        text,
                        "\n  {class:<16} deleted {} anonymized {} kept {} held {}",
                        cell(&c["deleted"]),
                        cell(&c["anonymized"]),
                        cell(&c["kept"]),
                        cell(&c["held"])
                    );
                }
            }
            show(ctx, &answer, text);
        }
        RetentionCommand::Holds { command: HoldsCommand::Add { tenant, scope, reason, ends_at } } => {
            let body = json!({"scope": scope, "reason": reason, "ends_at": ends_at});
            let answer = api.post(&["v1", "tenants", &tenant, "retention", "holds"], &body).await?;
            show(
                ctx,
                &answer,
                format_args!(
                    "placed hold {} on {} until {}",
                    cell(&answer["hold"]["id"]),
                    cell(&answer["hold"]["scope"]),
                    cell(&answer["hold"]["ends_at"])
                ),
            );
        }
        RetentionCommand::Holds { command: HoldsCommand::List { tenant } } => {
            let answer = api.get(&["v1", "tenants", &tenant, "retention", "holds"]).await?;
            show(ctx, &answer, table(rows(&answer, "holds"), &HOLD_COLUMNS, "no holds"));
        }
        RetentionCommand::Holds { command: HoldsCommand::Lift { tenant, hold } } => {
            let answer = api
                .post(&["v1", "tenants", &tenant, "retention", "holds", &hold, "lift"], &json!({}))
                .await?;
            show(ctx, &answer, format_args!("lifted hold {hold}"));
        }
        RetentionCommand::Receipts { tenant } => {
            let answer = api.get(&["v1", "tenants", &tenant, "retention", "receipts"]).await?;
            show(ctx, &answer, table(rows(&answer, "receipts"), &RECEIPT_COLUMNS, "no receipts"));
        }
    }
    Ok(())
}

// ---- rights ----

async fn rights(ctx: &Ctx, command: RightsCommand) -> anyhow::Result<()> {
    let api = ctx.api()?;
    match command {
        RightsCommand::Open { tenant, kind, regime, purpose, received_at } => {
            let body =
                json!({"kind": kind, "regime": regime, "purpose": purpose, "received_at": received_at});
            let answer = api.post(&["v1", "tenants", &tenant, "rights"], &body).await?;
            let r = &answer["request"];
            show(
                ctx,
                &answer,
                format_args!(
                    "opened {} request {} ({}), respond by {}",
                    cell(&r["kind"]),
                    cell(&r["id"]),
                    cell(&r["regime"]),
                    cell(&r["respond_by"])
                ),
            );
        }
        RightsCommand::List { tenant } => {
            let answer = api.get(&["v1", "tenants", &tenant, "rights"]).await?;
            show(ctx, &answer, table(rows(&answer, "requests"), &RIGHTS_COLUMNS, "no rights requests"));
        }
        RightsCommand::Show { tenant, request } => {
            let answer = api.get(&["v1", "tenants", &tenant, "rights", &request]).await?;
            show_object(ctx, &answer, "request", &format!("rights request `{request}`"));
        }
        RightsCommand::Update { tenant, request, action, reason, new_due } => {
            let body = json!({"action": action, "reason": reason, "new_due": new_due});
            let answer = api.post(&["v1", "tenants", &tenant, "rights", &request, "update"], &body).await?;
            show(
                ctx,
                &answer,
                format_args!("rights request {request}: {}", cell(&answer["request"]["status"])),
            );
        }
        RightsCommand::Export { tenant, format, file, out } => {
            export(ctx, &api, &tenant, format, file, &out).await?
        }
        RightsCommand::DeleteData { tenant, request } => {
            let answer =
                api.post(&["v1", "tenants", &tenant, "rights", &request, "delete-data"], &json!({})).await?;
            show(
                ctx,
                &answer,
                format_args!("the data of `{tenant}` was deleted\n{}", receipt_text(&answer["receipt"])),
            );
        }
        RightsCommand::Offboard { tenant, out } => {
            // Refuse an existing file before anything irreversible happens.
            let file = out.as_deref().map(|p| private_file(p, false)).transpose()?;
            let bar = ctx.progress(None, &format!("offboarding `{tenant}`"));
            let answer = api.post(&["v1", "tenants", &tenant, "rights", "offboard"], &json!({})).await;
            bar.finish_and_clear();
            let answer = answer?;
            if let (Some(mut file), Some(path)) = (file, out.as_deref()) {
                let text =
                    serde_json::to_vec_pretty(&answer["export"]).context("cannot encode the export")?;
                file.write_all(&text).with_context(|| format!("cannot write {}", path.display()))?;
            }
            // The export holds the client's data: it goes to the file, never to the terminal.
            let shown =
                json!({"receipt": answer["receipt"], "out": out.as_ref().map(|p| p.display().to_string())});
            show(ctx, &shown, format_args!("`{tenant}` offboarded\n{}", receipt_text(&answer["receipt"])));
        }
    }
    Ok(())
}

/// `rights export`: the download into a new file of mode 0600 (it holds the client's data, buyer PII
/// included), written as it arrives, with its byte count meanwhile (a bar when the server declares the
/// length). On any failure the file is removed: nothing half-written stays behind.
async fn export(
    ctx: &Ctx,
    api: &Api,
    tenant: &str,
    format: ExportFormat,
    file: Option<String>,
    out: &std::path::Path,
) -> anyhow::Result<()> {
    let format = match format {
        ExportFormat::Json => "json",
        ExportFormat::Csv => "csv",
    };
    let mut query = vec![("format", format)];
    if let Some(file) = file.as_deref() {
        query.push(("file", file));
    }
    if !api.has_credential() {
        bail!("not logged in: {LOGIN_HINT}");
    }
    let mut target = private_file(out, false)?;
    let bar = ctx.byte_progress(&format!("downloading the export of `{tenant}`"));
    let segments = ["v1", "tenants", tenant, "rights", "export"];
    let downloaded = api.download(&segments, &query, &mut Download { file: &mut target, bar: &bar }).await;
    bar.finish_and_clear();
    let cannot_write = || format!("cannot write {}", out.display());
    let written = match downloaded {
        // The sink's own failure: the file could not take a chunk.
        Err(e) if e.is::<std::io::Error>() => Err(e.context(cannot_write())),
        Err(e) => Err(e),
        Ok(bytes) => target.sync_all().map(|()| bytes).with_context(cannot_write),
    };
    let bytes = match written {
        Ok(bytes) => bytes,
        Err(e) => {
            // Nothing half-written stays behind.
            drop(target);
            let _ = std::fs::remove_file(out);
            return Err(e);
        }
    };
    show(
        ctx,
        &json!({"tenant": tenant, "format": format, "file": file, "out": out.display().to_string(), "bytes": bytes}),
        format_args!("wrote the {format} export of `{tenant}` to {} ({bytes} bytes)", out.display()),
    );
    Ok(())
}

// ---- incidents ----

async fn incident(ctx: &Ctx, command: IncidentCommand) -> anyhow::Result<()> {
    let api = ctx.api()?;
    let summary = |answer: &Value| {
        let i = &answer["incident"];
        format!(
            "incident {}: {} ({}, isolating: {})",
            cell(&i["id"]),
            cell(&i["state"]),
            cell(&i["severity"]),
            cell(&i["isolating"])
        )
    };
    match command {
        IncidentCommand::Open { tenant, severity, summary: text, grants } => {
            let body = json!({"severity": severity, "summary": text, "grants": grants});
            let answer = api.post(&["v1", "tenants", &tenant, "incidents"], &body).await?;
            show(ctx, &answer, summary(&answer));
        }
        IncidentCommand::List { tenant } => {
            let answer = api.get(&["v1", "tenants", &tenant, "incidents"]).await?;
            show(ctx, &answer, table(rows(&answer, "incidents"), &INCIDENT_COLUMNS, "no incidents"));
        }
        IncidentCommand::Show { tenant, incident } => {
            let answer = api.get(&["v1", "tenants", &tenant, "incidents", &incident]).await?;
            show_object(ctx, &answer, "incident", &format!("incident `{incident}`"));
        }
        IncidentCommand::Assess { tenant, incident, from, to } => {
            let body = json!({"from": from, "to": to});
            let answer =
                api.post(&["v1", "tenants", &tenant, "incidents", &incident, "assess"], &body).await?;
            show_object(ctx, &answer, "assessment", &format!("assessment of incident `{incident}`"));
        }
        IncidentCommand::Notify { tenant, incident, platforms } => {
            let body = json!({"platforms": platforms});
            let answer =
                api.post(&["v1", "tenants", &tenant, "incidents", &incident, "notify"], &body).await?;
            show(ctx, &answer, summary(&answer));
        }
        IncidentCommand::Remediate { tenant, incident, action } => {
            let body = json!({"action": action});
            let answer =
                api.post(&["v1", "tenants", &tenant, "incidents", &incident, "remediate"], &body).await?;
            show(ctx, &answer, summary(&answer));
        }
        IncidentCommand::Close { tenant, incident, review, follow_ups } => {
            let body = json!({"review": review, "follow_ups": follow_ups});
            let answer =
                api.post(&["v1", "tenants", &tenant, "incidents", &incident, "close"], &body).await?;
            show(ctx, &answer, summary(&answer));
        }
    }
    Ok(())
}

// ---- people and keys ----

/// The one-time TOTP reveal for people.
fn totp_text(person: &Value, totp: &Value) -> String {
    format!(
        "TOTP secret of `{}` (shown once, hand it over securely):\n  {}\nenrolment uri (for a QR code):\n  {}",
        cell(&person["id"]),
        cell(&totp["secret"]),
        cell(&totp["otpauth_uri"])
    )
}

async fn user(ctx: &Ctx, command: UserCommand) -> anyhow::Result<()> {
    match command {
        UserCommand::Add { email, name, roles, tenants } => {
            let password = required_line("password", "custodian user add --email … < password-file")?;
            let api = ctx.api()?;
            let body = json!({"email": email, "display_name": name, "password": password.expose_secret(),
                              "roles": roles, "tenants": tenants});
            let answer = api.post(&["v1", "people"], &body).await;
            drop(body);
            let answer = answer?;
            show(
                ctx,
                &answer,
                format_args!(
                    "added `{}`\n\n{}",
                    cell(&answer["person"]["id"]),
                    totp_text(&answer["person"], &answer["totp"])
                ),
            );
        }
        UserCommand::List => {
            let answer = ctx.api()?.get(&["v1", "people"]).await?;
            show(ctx, &answer, table(rows(&answer, "people"), &PERSON_COLUMNS, "no people"));
        }
        UserCommand::Show { id } => {
            let answer = ctx.api()?.get(&["v1", "people", &id]).await?;
            show_object(ctx, &answer, "person", &format!("person `{id}`"));
        }
        UserCommand::Access { id, roles, tenants } => {
            let body = json!({"roles": roles, "tenants": tenants});
            let answer =
                ctx.api()?.call(Method::PUT, &["v1", "people", &id, "access"], &[], Some(&body)).await?;
            let p = &answer["person"];
            show(
                ctx,
                &answer,
                format_args!("`{id}`: roles {}; tenants {}", cell(&p["roles"]), cell(&p["tenants"])),
            );
        }
        UserCommand::TotpReset { id } => {
            let answer = ctx.api()?.post(&["v1", "people", &id, "totp"], &json!({})).await?;
            show(ctx, &answer, totp_text(&answer["person"], &answer["totp"]));
        }
        UserCommand::Disable { id } => {
            let answer = ctx.api()?.post(&["v1", "people", &id, "disable"], &json!({})).await?;
            show(ctx, &answer, format_args!("disabled `{id}`"));
        }
        UserCommand::Sessions { id } => {
            let answer = ctx.api()?.get(&["v1", "people", &id, "sessions"]).await?;
            show(ctx, &answer, table(rows(&answer, "sessions"), &SESSION_COLUMNS, "no live sessions"));
        }
        UserCommand::SignOut { id } => {
            let answer = ctx.api()?.post(&["v1", "people", &id, "sessions", "revoke"], &json!({})).await?;
            let n = answer["revoked"].as_u64().unwrap_or(0);
            show(ctx, &answer, format_args!("ended {n} session(s) of `{id}`"));
        }
    }
    Ok(())
}

async fn api_key(ctx: &Ctx, command: ApiKeyCommand) -> anyhow::Result<()> {
    let api = ctx.api()?;
    match command {
        ApiKeyCommand::Create { name, tenants, permissions, expires_in_days } => {
            let body = json!({"name": name, "tenants": tenants, "permissions": permissions,
                              "expires_in_days": expires_in_days});
            let answer = api.post(&["v1", "api-keys"], &body).await?;
            show(
                ctx,
                &answer,
                format_args!(
                    "created api key {} ({})\n\nthe key (shown once; give it to the integrator as CUSTODIAN_API_KEY):\n  {}",
                    cell(&answer["api_key"]["id"]),
                    cell(&answer["api_key"]["name"]),
                    cell(&answer["key"])
                ),
            );
        }
        ApiKeyCommand::List => {
            let answer = api.get(&["v1", "api-keys"]).await?;
            show(ctx, &answer, table(rows(&answer, "api_keys"), &KEY_COLUMNS, "no api keys"));
        }
        ApiKeyCommand::Revoke { id } => {
            let answer = api.call(Method::DELETE, &["v1", "api-keys", &id], &[], None).await?;
            show(ctx, &answer, format_args!("revoked api key {id}"));
        }
    }
    Ok(())
}

// ---- audit ----

/// `audit list --tenant T`: a page of the tenant's audit trail.
pub(crate) async fn audit_list(
    ctx: &Ctx,
    tenant: &str,
    from_seq: Option<u64>,
    limit: Option<u32>,
) -> anyhow::Result<ExitCode> {
    let api = ctx.api()?;
    let from = from_seq.map(|n| n.to_string());
    let limit = limit.map(|n| n.to_string());
    let mut query = Vec::new();
    if let Some(from) = from.as_deref() {
        query.push(("from_seq", from));
    }
    if let Some(limit) = limit.as_deref() {
        query.push(("limit", limit));
    }
    let answer = api.call(Method::GET, &["v1", "tenants", tenant, "audit"], &query, None).await?;
    let columns =
        [("seq", "seq"), ("at", "at"), ("actor", "actor.id"), ("kind", "kind"), ("category", "category")];
    let mut text = table(rows(&answer, "records"), &columns, "no records");
    if !answer["next_from_seq"].is_null() {
        let _ = write!(text, "\nmore: --from-seq {}", cell(&answer["next_from_seq"]));
    }
    show(ctx, &answer, text);
    Ok(ExitCode::SUCCESS)
}

/// `audit verify` against a server (`--server` or `CUSTODIAN_SERVER` given): the API's verify of one
/// tenant's chain, or of every tenant's chain the caller may see (AUD-2). The API does not expose the
/// system chain: the offline `audit verify` (no server named) checks it from the store. Exit 2 when one
/// is broken; the JSON has the shape of the offline verify's.
pub(crate) async fn audit_verify_remote(ctx: &Ctx, tenant: Option<&str>) -> anyhow::Result<ExitCode> {
    let api = ctx.api()?;
    let tenants: Vec<String> = match tenant {
        Some(t) => vec![t.to_owned()],
        None => {
            let listed = api.get(&["v1", "tenants"]).await?;
            rows(&listed, "tenants").iter().filter_map(|t| t["id"].as_str().map(str::to_owned)).collect()
        }
    };
    let bar = ctx.progress(Some(tenants.len() as u64), "verifying audit chains");
    let mut chains = Vec::with_capacity(tenants.len());
    for id in &tenants {
        bar.set_message(format!("verifying `{id}`"));
        let report = match api.post(&["v1", "tenants", id, "audit", "verify"], &json!({})).await {
            Ok(report) => report,
            Err(e) => {
                bar.abandon();
                return Err(e.context(format!("cannot verify the audit chain of `{id}`")));
            }
        };
        chains.push(json!({
            "tenant": report["tenant"],
            "intact": report["valid"],
            "head_seq": report["head"]["seq"],
            "checkpoint_seq": report["checkpoint_seq"],
            "records_checked": report["records_checked"],
            "failure": report["failure"],
        }));
        bar.inc(1);
    }
    bar.finish_and_clear();
    let intact = chains.iter().all(|c| c["intact"] == true);
    let mut text = String::new();
    for c in &chains {
        if c["intact"] == true {
            let _ = writeln!(
                text,
                "chain `{}`: intact (records checked: {}, head: {})",
                cell(&c["tenant"]),
                cell(&c["records_checked"]),
                cell(&c["head_seq"])
            );
        } else {
            let _ = writeln!(
                text,
                "chain `{}`: BROKEN at seq {}: {}",
                cell(&c["tenant"]),
                cell(&c["failure"]["seq"]),
                cell(&c["failure"]["reason"])
            );
        }
    }
    text.push_str(if intact { "audit trail intact" } else { "audit trail BROKEN: see the chains above" });
    show(ctx, &json!({"intact": intact, "server": api.server(), "chains": chains}), text);
    Ok(if intact { ExitCode::SUCCESS } else { ExitCode::from(CHAIN_BROKEN) })
}

#[cfg(test)]
mod tests;
