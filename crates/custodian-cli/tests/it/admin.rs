//! The admin commands (issue 7) through the built binary against `custodian serve` (embedded, its own
//! temporary data directory): `login` with the password and the TOTP code on standard input, then each
//! command group, checking what it prints and what it changed on the server. Also the errors people meet:
//! no credentials (the login hint), an API error (`error: <message> (<code>)`), a server that is not
//! there, plain http off loopback.

use std::time::Duration;

use custodian_core::personnel::totp::{self, TotpConfig, TotpSecret};
use secrecy::SecretString;
use serde_json::Value;

use crate::support::{Bin, Child, Run, TempDir};

const PASSWORD: &str = "Correct-Horse-42!";
const EMAIL: &str = "admin@example.com";

/// The TOTP code of `secret` `steps` 30-second steps from now (a later step than a code just used: each
/// code is accepted once, and one step of skew is allowed).
fn code(secret: &str, steps: i64) -> String {
    let secret = TotpSecret::from_base32(&SecretString::from(secret.to_owned())).unwrap();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    totp::code_at(&secret, &TotpConfig::default(), now + steps * 30)
}

fn json(run: &Run) -> Value {
    assert!(run.success, "{run:?}");
    serde_json::from_str(run.stdout.trim()).unwrap_or_else(|e| panic!("not json ({e}): {run:?}"))
}

fn failed(run: &Run) -> &str {
    assert!(!run.success, "expected a failure: {run:?}");
    &run.stderr
}

/// A server with one meta platform configured (its URLs on a closed loopback port: connecting a grant only
/// builds the consent URL), an admin, and the binary's environment for the admin commands.
struct Server {
    _dir: TempDir,
    child: Child,
    base: String,
    secret: String,
    /// The admin commands' environment: the server and a session file of this test's own.
    admin: Bin,
    session_file: std::path::PathBuf,
}

fn start() -> Server {
    let dir = TempDir::new("admin");
    std::fs::create_dir_all(dir.path()).unwrap();
    let config = dir.path().join("custodian.toml");
    std::fs::write(
        &config,
        "[outbound]\nallow_plain_http_loopback = true\n\n[platforms.meta]\nclient_id = \"sim-app\"\n\
         client_secret = \"sim-secret\"\nbase_urls = { api = \"http://127.0.0.1:9/meta/graph\", www = \
         \"http://127.0.0.1:9/meta/www\" }\n",
    )
    .unwrap();
    let config = config.display().to_string();
    let server_bin = Bin::new().env("CUSTODIAN_DATA_DIR", &dir.path().join("data").display().to_string());
    let init = server_bin
        .run(&["--json", "--config", &config, "init", "--email", EMAIL], Some(&format!("{PASSWORD}\n")));
    let secret = json(&init)["totp_secret"].as_str().unwrap().to_owned();
    let mut child = server_bin.spawn(&["--json", "--config", &config, "serve", "--listen", "127.0.0.1:0"]);
    let ready: Value = serde_json::from_str(&child.line(Duration::from_secs(120))).unwrap();
    let base = ready["url"].as_str().unwrap().to_owned();
    let session_file = dir.path().join("config").join("session");
    let admin = Bin::new()
        .env("CUSTODIAN_SERVER", &base)
        .env("CUSTODIAN_SESSION_FILE", &session_file.display().to_string());
    Server { _dir: dir, child, base, secret, admin, session_file }
}

/// `custodian --json ARGS` with `bin`'s environment, expected to succeed.
fn ok_as(bin: &Bin, args: &[&str]) -> Value {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    let run = bin.run(&all, None);
    assert!(run.success, "`custodian {}`: {run:?}", args.join(" "));
    json(&run)
}

/// `custodian --json ARGS` with `bin`'s environment, expected to fail (exit 1): the server's error as the CLI
/// prints it (`{"error", "code", "status"}`).
fn refused_as(bin: &Bin, args: &[&str]) -> Value {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    let run = bin.run(&all, None);
    assert!(!run.success, "`custodian {}` should fail: {run:?}", args.join(" "));
    serde_json::from_str(run.stdout.trim()).unwrap_or_else(|e| panic!("not json ({e}): {run:?}"))
}

fn text_as(bin: &Bin, args: &[&str]) -> String {
    let run = bin.run(args, None);
    assert!(run.success, "`custodian {}`: {run:?}", args.join(" "));
    run.stdout
}

impl Server {
    fn stop(mut self) {
        self.child.terminate();
        assert!(self.child.wait(Duration::from_secs(60)).is_some_and(|s| s.success()));
    }

    /// `custodian --json ARGS` as the logged-in admin, expected to succeed.
    fn ok(&self, args: &[&str]) -> Value {
        ok_as(&self.admin, args)
    }

    fn text(&self, args: &[&str]) -> String {
        text_as(&self.admin, args)
    }
}

#[tokio::test]
async fn admin_commands_drive_every_group_over_the_api_as_a_logged_in_admin() {
    let server = start();
    let bin = &server.admin;

    // No credentials yet: exit 1 and the login hint.
    let stderr = failed(&bin.run(&["tenant", "list"], None)).to_owned();
    assert!(stderr.contains("custodian login --email") && stderr.contains("CUSTODIAN_API_KEY"), "{stderr}");

    // ACC-2: login with password and code read from standard input; the session is saved with mode 0600.
    let login_code = code(&server.secret, 0);
    let wrong_code = crate::support::other_code(&login_code);
    let wrong = bin.run(&["login", "--email", EMAIL], Some(&format!("{PASSWORD}\n{wrong_code}\n")));
    assert!(failed(&wrong).contains("(invalid_credentials)"), "{wrong:?}");
    assert!(!server.session_file.exists());
    let login = bin.run(&["--json", "login", "--email", EMAIL], Some(&format!("{PASSWORD}\n{login_code}\n")));
    let logged = json(&login);
    assert_eq!(logged["person"]["id"], EMAIL, "{logged}");
    let saved: Value = serde_json::from_str(&std::fs::read_to_string(&server.session_file).unwrap()).unwrap();
    let token = saved["token"].as_str().unwrap();
    assert_eq!(saved["server"], server.base.as_str());
    assert!(!login.stdout.contains(token) && !login.stderr.contains(token), "the token is never printed");
    assert!(!login.stdout.contains(PASSWORD) && !login.stderr.contains(PASSWORD));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&server.session_file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    assert_eq!(server.ok(&["whoami"])["person"]["id"], EMAIL);

    // Tenants and contacts.
    let text =
        server.text(&["tenant", "create", "acme", "--name", "Acme Ltd", "--retention", "order_detail=365"]);
    assert!(text.contains("created tenant `acme` (Acme Ltd)"), "{text}");
    let listed = server.ok(&["tenant", "list"]);
    let ids: Vec<&str> =
        listed["tenants"].as_array().unwrap().iter().filter_map(|t| t["id"].as_str()).collect();
    assert_eq!(ids, ["acme"], "{listed}");
    let text = server.text(&["tenant", "list"]);
    assert!(text.starts_with("ID ") && text.contains("acme") && text.contains("Acme Ltd"), "{text}");
    assert_eq!(server.ok(&["tenant", "show", "acme"])["tenant"]["retention_days"]["order_detail"], 365);
    server.ok(&[
        "tenant",
        "contacts",
        "add",
        "acme",
        "--name",
        "Jo Buyer",
        "--role",
        "billing",
        "--email",
        "jo@acme.example",
    ]);
    // Reading contacts is a dataset read the admin role does not have: the server's decision, exit 1.
    let contacts = bin.run(&["tenant", "contacts", "list", "acme"], None);
    assert!(failed(&contacts).contains("(forbidden)"), "{contacts:?}");
    // An API error: message and code, exit 1.
    let missing = bin.run(&["tenant", "show", "nobody"], None);
    assert!(failed(&missing).contains("error: ") && missing.stderr.contains("(not_found)"), "{missing:?}");
    let missing = bin.run(&["--json", "tenant", "show", "nobody"], None);
    assert!(!missing.success);
    let error: Value = serde_json::from_str(missing.stdout.trim()).unwrap();
    assert_eq!((error["code"].as_str(), error["status"].as_u64()), (Some("not_found"), Some(404)), "{error}");

    // People: added with a password from standard input; the TOTP secret is shown once.
    let added = bin.run(
        &[
            "--json",
            "user",
            "add",
            "--email",
            "ana@example.com",
            "--name",
            "Ana",
            "--role",
            "analyst",
            "--tenant",
            "acme",
        ],
        Some("Another-Horse-43!\n"),
    );
    let added = json(&added);
    assert!(added["totp"]["secret"].as_str().is_some_and(|s| !s.is_empty()), "{added}");
    let people = server.ok(&["user", "list"]);
    assert_eq!(people["people"].as_array().unwrap().len(), 2, "{people}");
    let access = server.ok(&["user", "access", "ana@example.com", "--role", "auditor", "--tenant", "acme"]);
    assert_eq!(access["person"]["roles"], serde_json::json!(["auditor"]), "{access}");
    let reset = server.ok(&["user", "totp-reset", "ana@example.com"]);
    assert_ne!(reset["totp"]["secret"], added["totp"]["secret"]);
    // Sessions: the admin's own (this CLI's saved session) is listed and marked current; signing out a
    // person who never logged in ends nothing.
    let sessions = server.ok(&["user", "sessions", EMAIL]);
    let sessions = sessions["sessions"].as_array().unwrap();
    assert_eq!(sessions.iter().filter(|s| s["current"] == true).count(), 1, "{sessions:?}");
    assert_eq!(server.ok(&["user", "sign-out", "ana@example.com"])["revoked"], 0);
    let text = server.text(&["user", "sessions", "ana@example.com"]);
    assert!(text.contains("no live sessions"), "{text}");
    assert_eq!(server.ok(&["user", "disable", "ana@example.com"])["person"]["active"], false);
    assert_eq!(server.ok(&["user", "show", "ana@example.com"])["person"]["active"], false);

    // ACC-4: an API key, then commands with CUSTODIAN_API_KEY (it wins over the saved session).
    let created =
        server.ok(&["api-key", "create", "--name", "ci", "--tenant", "acme", "--permission", "tenant_read"]);
    let key = created["key"].as_str().unwrap().to_owned();
    let key_id = created["api_key"]["id"].as_str().unwrap().to_owned();
    let keyed = bin.clone().env("CUSTODIAN_API_KEY", &key);
    let me = json(&keyed.run(&["--json", "whoami"], None));
    assert_eq!(me["kind"], "api_key", "{me}");
    let listed = json(&keyed.run(&["--json", "tenant", "list"], None));
    assert_eq!(listed["tenants"][0]["id"], "acme", "{listed}");
    // The key may read, not sweep: the server's decision, shown with its code.
    let denied = keyed.run(&["retention", "sweep", "--tenant", "acme"], None);
    assert!(failed(&denied).contains("(forbidden)"), "{denied:?}");
    let keys = server.ok(&["api-key", "list"]);
    assert_eq!(keys["api_keys"][0]["id"], key_id.as_str(), "{keys}");
    server.ok(&["api-key", "revoke", &key_id]);
    let revoked = keyed.run(&["tenant", "list"], None);
    assert!(
        failed(&revoked).contains("(unauthenticated)") && revoked.stderr.contains("custodian login"),
        "{revoked:?}"
    );

    // The admin role manages tenants, people and keys, not client data: a colleague with the account
    // manager and security officer roles (added above the same way) does the rest, logged in on their own.
    let ops_add = bin.run(
        &[
            "--json",
            "user",
            "add",
            "--email",
            "ops@example.com",
            "--role",
            "account_manager",
            "--role",
            "security_officer",
            "--tenant",
            "acme",
        ],
        Some("Ops-Horse-44-Battery!\n"),
    );
    let ops_secret = json(&ops_add)["totp"]["secret"].as_str().unwrap().to_owned();
    let ops = Bin::new().env("CUSTODIAN_SERVER", &server.base).env(
        "CUSTODIAN_SESSION_FILE",
        &server.session_file.with_file_name("ops-session").display().to_string(),
    );
    let login_code = code(&ops_secret, 0);
    let ops_login = ops.run(
        &["login", "--email", "ops@example.com"],
        Some(&format!("Ops-Horse-44-Battery!\n{login_code}\n")),
    );
    assert!(ops_login.success && ops_login.stdout.contains("logged in to"), "{ops_login:?}");
    let contacts = ok_as(&ops, &["tenant", "contacts", "list", "acme"]);
    assert_eq!(contacts["contacts"][0]["name"], "Jo Buyer", "{contacts}");

    // Grants: connect prints the consent URL; a pending grant is listed, shown and revoked with a receipt.
    let connect = text_as(
        &ops,
        &["grant", "connect", "--tenant", "acme", "--platform", "meta", "--task", "read_reporting"],
    );
    assert!(connect.contains("consent url:\n  http://127.0.0.1:9/meta/www"), "{connect}");
    let grants = ok_as(&ops, &["grant", "list", "--tenant", "acme"]);
    let grant = grants["grants"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(grants["grants"][0]["state"], "pending", "{grants}");
    assert_eq!(ok_as(&ops, &["grant", "show", "--tenant", "acme", &grant])["grant"]["platform"], "meta");
    // Nothing to sync on a grant without a validated account: the server's conflict, exit 1.
    let sync = ops.run(&["sync", "run", "--tenant", "acme", &grant], None);
    assert!(failed(&sync).contains("(conflict)"), "{sync:?}");
    assert_eq!(
        ok_as(&ops, &["sync", "history", "--tenant", "acme", &grant])["checkpoints"],
        serde_json::json!([])
    );
    let unconfigured = ops
        .run(&["grant", "connect", "--tenant", "acme", "--platform", "ebay", "--task", "read_orders"], None);
    assert!(failed(&unconfigured).contains("not configured"), "{unconfigured:?}");

    // Retention (RET-4, RET-5, RET-6).
    let policies = ok_as(&ops, &["retention", "policies", "--tenant", "acme"]);
    let orders =
        policies["policies"].as_array().unwrap().iter().find(|p| p["class"] == "order_detail").unwrap();
    assert_eq!(orders["contract_days"], 365, "{policies}");
    let sweep = text_as(&ops, &["retention", "sweep", "--tenant", "acme"]);
    assert!(sweep.starts_with("retention sweep of `acme`: 0 deleted"), "{sweep}");
    let ends = (time::OffsetDateTime::now_utc() + time::Duration::days(30))
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let hold = ok_as(
        &ops,
        &[
            "retention",
            "holds",
            "add",
            "--tenant",
            "acme",
            "--scope",
            "tenant",
            "--reason",
            "litigation",
            "--ends-at",
            &ends,
        ],
    );
    let hold_id = hold["hold"]["id"].as_str().unwrap().to_owned();
    assert_eq!(ok_as(&ops, &["retention", "holds", "list", "--tenant", "acme"])["holds"][0]["active"], true);
    // Lifting needs a recent MFA (ACC-2): `step-up` confirms one with the next code (the login's is used).
    let reused = ops.run(&["step-up"], Some(&format!("{login_code}\n")));
    assert!(failed(&reused).contains("(mfa_code_rejected)"), "{reused:?}");
    let step = ops.run(&["--json", "step-up"], Some(&format!("{}\n", code(&ops_secret, 1))));
    assert!(json(&step)["mfa_verified_at"].is_string(), "{step:?}");
    let lifted = ok_as(&ops, &["retention", "holds", "lift", "--tenant", "acme", &hold_id]);
    assert!(lifted["hold"]["lifted"].is_object(), "{lifted}");
    let revoke = text_as(&ops, &["grant", "revoke", "--tenant", "acme", &grant]);
    assert!(
        revoke.contains(&format!("grant {grant} revoked and purged")) && revoke.contains("clean"),
        "{revoke}"
    );
    let receipts = ok_as(&ops, &["retention", "receipts", "--tenant", "acme"]);
    assert_eq!(receipts["receipts"][0]["grant"], grant.as_str(), "{receipts}");

    // Incidents (INC-1): open isolates, notify, remediate, close with a review.
    let opened = ok_as(
        &ops,
        &["incident", "open", "--tenant", "acme", "--severity", "low", "--summary", "laptop lost"],
    );
    let incident = opened["incident"]["id"].as_str().unwrap().to_owned();
    assert_eq!(opened["incident"]["isolating"], true, "{opened}");
    let listed = text_as(&ops, &["incident", "list", "--tenant", "acme"]);
    assert!(listed.contains(&incident) && listed.contains("laptop lost"), "{listed}");
    let shown = ok_as(&ops, &["incident", "show", "--tenant", "acme", &incident]);
    assert_eq!(shown["incident"]["summary"], "laptop lost", "{shown}");
    let day = time::Duration::days(1);
    let now = time::OffsetDateTime::now_utc();
    let rfc = |t: time::OffsetDateTime| t.format(&time::format_description::well_known::Rfc3339).unwrap();
    let assessed = ok_as(
        &ops,
        &[
            "incident",
            "assess",
            "--tenant",
            "acme",
            &incident,
            "--from",
            &rfc(now - day),
            "--to",
            &rfc(now + day),
        ],
    );
    assert_eq!(assessed["assessment"]["tenants"], serde_json::json!(["acme"]), "{assessed}");
    ok_as(&ops, &["incident", "notify", "--tenant", "acme", &incident]);
    ok_as(&ops, &["incident", "remediate", "--tenant", "acme", &incident, "--action", "remote wipe"]);
    let closed = ok_as(
        &ops,
        &[
            "incident",
            "close",
            "--tenant",
            "acme",
            &incident,
            "--review",
            "wiped",
            "--follow-up",
            "disk encryption",
        ],
    );
    assert_eq!(closed["incident"]["state"], "closed", "{closed}");
    assert_eq!(closed["incident"]["isolating"], false, "{closed}");

    // Rights (RGT-1, RGT-2): a request, then the export downloaded to a file whose content is checked.
    let opened = ok_as(&ops, &["rights", "open", "--tenant", "acme", "--kind", "access", "--regime", "gdpr"]);
    let request = opened["request"]["id"].as_str().unwrap().to_owned();
    assert_eq!(ok_as(&ops, &["rights", "list", "--tenant", "acme"])["requests"][0]["id"], request.as_str());
    let acked = ok_as(&ops, &["rights", "update", "--tenant", "acme", &request, "--action", "acknowledge"]);
    assert_eq!(acked["request"]["status"], "acknowledged", "{acked}");
    let out_dir = TempDir::new("admin-export");
    std::fs::create_dir_all(out_dir.path()).unwrap();
    let file = out_dir.path().join("acme.json");
    let file_arg = file.display().to_string();
    let export = ok_as(&ops, &["rights", "export", "--tenant", "acme", "--out", &file_arg]);
    assert!(export["bytes"].as_u64().unwrap() > 0, "{export}");
    // Streamed to the file as it arrived: the count is what the file holds.
    assert_eq!(export["bytes"].as_u64().unwrap(), std::fs::metadata(&file).unwrap().len(), "{export}");
    let exported: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert!(exported.to_string().contains("Jo Buyer"), "{exported}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
    }
    // An existing file is never overwritten.
    let again = ops.run(&["rights", "export", "--tenant", "acme", "--out", &file_arg], None);
    assert!(failed(&again).contains("exists already"), "{again:?}");
    let csv = out_dir.path().join("contacts.csv");
    ok_as(
        &ops,
        &[
            "rights",
            "export",
            "--tenant",
            "acme",
            "--format",
            "csv",
            "--file",
            "contacts",
            "--out",
            &csv.display().to_string(),
        ],
    );
    let csv = std::fs::read_to_string(&csv).unwrap();
    assert!(csv.lines().count() >= 2 && csv.contains("Jo Buyer"), "{csv}");
    // A refused export (a tenant that does not exist) leaves no file behind.
    let refused = out_dir.path().join("refused.json");
    let run =
        ops.run(&["rights", "export", "--tenant", "nobody", "--out", &refused.display().to_string()], None);
    assert!(!failed(&run).is_empty(), "{run:?}");
    assert!(!refused.exists(), "a refused export left {}", refused.display());
    assert_eq!(
        ok_as(&ops, &["rights", "show", "--tenant", "acme", &request])["request"]["id"],
        request.as_str()
    );

    // RGT-2: a second request extended once (a reason and a new due date within the statutory maximum),
    // then rejected with a reason; a closed request cannot be rejected again.
    let second = ok_as(&ops, &["rights", "open", "--tenant", "acme", "--kind", "access", "--regime", "gdpr"]);
    let second = second["request"]["id"].as_str().unwrap().to_owned();
    let original_due = ok_as(&ops, &["rights", "show", "--tenant", "acme", &second])["request"]["respond_by"]
        .as_str()
        .unwrap()
        .to_owned();
    let new_due = rfc((now + time::Duration::days(50)).replace_nanosecond(0).unwrap());
    assert!(new_due.as_str() > original_due.as_str(), "{new_due} after {original_due}");
    let update = ["rights", "update", "--tenant", "acme", second.as_str()];
    let no_reason = refused_as(&ops, &[&update[..], &["--action", "extend", "--new-due", &new_due]].concat());
    assert_eq!(
        (no_reason["code"].as_str(), no_reason["status"].as_u64()),
        (Some("invalid_input"), Some(422))
    );
    assert!(no_reason["error"].as_str().unwrap().contains("`reason` is required to extend"), "{no_reason}");
    let extended = ok_as(
        &ops,
        &[&update[..], &["--action", "extend", "--reason", "many systems", "--new-due", &new_due]].concat(),
    );
    let r = &extended["request"];
    assert_eq!(r["id"], second.as_str(), "{extended}");
    assert_eq!(r["status"], "extended", "{extended}");
    assert_eq!(r["extension"]["reason"], "many systems", "{extended}");
    assert_eq!(r["extension"]["new_due"], new_due.as_str(), "{extended}");
    assert_eq!(r["respond_by"], new_due.as_str(), "the deadline moves to the new due date: {extended}");
    assert!(r["acknowledged_at"].is_string(), "an extension notice acknowledges: {extended}");
    let shown = ok_as(&ops, &["rights", "show", "--tenant", "acme", &second]);
    assert_eq!(
        (&shown["request"]["status"], &shown["request"]["respond_by"]),
        (&Value::from("extended"), &Value::from(new_due.as_str())),
        "{shown}"
    );
    let twice = refused_as(
        &ops,
        &[&update[..], &["--action", "extend", "--reason", "still more", "--new-due", &new_due]].concat(),
    );
    assert_eq!(twice["code"], "invalid_input", "{twice}");
    assert!(twice["error"].as_str().unwrap().contains("already extended once"), "{twice}");
    let no_reason = refused_as(&ops, &[&update[..], &["--action", "reject"]].concat());
    assert!(no_reason["error"].as_str().unwrap().contains("`reason` is required to reject"), "{no_reason}");
    let rejected =
        text_as(&ops, &[&update[..], &["--action", "reject", "--reason", "manifestly unfounded"]].concat());
    assert_eq!(rejected.trim_end(), format!("rights request {second}: rejected"), "{rejected}");
    let shown = ok_as(&ops, &["rights", "show", "--tenant", "acme", &second]);
    let r = &shown["request"];
    assert_eq!(r["status"], "rejected", "{shown}");
    assert_eq!(r["rejection_reason"], "manifestly unfounded", "{shown}");
    assert!(r["completed_at"].is_string(), "{shown}");
    assert_eq!(r["overdue"], false, "a closed request is never overdue: {shown}");
    let again = refused_as(&ops, &[&update[..], &["--action", "reject", "--reason", "again"]].concat());
    assert_eq!((again["code"].as_str(), again["status"].as_u64()), (Some("invalid_input"), Some(422)));
    assert!(again["error"].as_str().unwrap().contains("in state rejected cannot reject"), "{again}");
    let again = ops.run(&[&update[..], &["--action", "reject", "--reason", "again"]].concat(), None);
    assert!(failed(&again).contains("error: ") && again.stderr.contains("(invalid_input)"), "{again:?}");
    let late = refused_as(
        &ops,
        &[&update[..], &["--action", "extend", "--reason", "late", "--new-due", &new_due]].concat(),
    );
    assert_eq!(late["code"], "invalid_input", "{late}");
    // The refusals changed nothing.
    let shown = ok_as(&ops, &["rights", "show", "--tenant", "acme", &second]);
    assert_eq!(shown["request"]["rejection_reason"], "manifestly unfounded", "{shown}");
    assert_eq!(shown["request"]["extension"]["reason"], "many systems", "{shown}");

    // RGT-1, RGT-3 on a second tenant: deletion under a deletion request, then offboarding with the final
    // export written to a file.
    ok_as(bin, &["tenant", "create", "beta", "--name", "Beta Ltd"]);
    let roles = ["--role", "account_manager", "--role", "security_officer"];
    let mut args = vec!["user", "access", "ops@example.com"];
    args.extend_from_slice(&roles);
    args.extend_from_slice(&["--tenant", "acme", "--tenant", "beta"]);
    ok_as(bin, &args);
    ok_as(bin, &["tenant", "contacts", "add", "beta", "--name", "Bo Beta", "--role", "owner"]);
    let deletion =
        ok_as(&ops, &["rights", "open", "--tenant", "beta", "--kind", "deletion", "--regime", "ccpa"]);
    let deletion = deletion["request"]["id"].as_str().unwrap().to_owned();
    let deleted = text_as(&ops, &["rights", "delete-data", "--tenant", "beta", &deletion]);
    assert!(deleted.contains("the data of `beta` was deleted") && deleted.contains("clean"), "{deleted}");
    let final_export = out_dir.path().join("beta-final.json");
    let offboarded = ok_as(
        &ops,
        &["rights", "offboard", "--tenant", "beta", "--out", &final_export.display().to_string()],
    );
    assert_eq!(offboarded["receipt"]["clean"], true, "{offboarded}");
    let written: Value = serde_json::from_str(&std::fs::read_to_string(&final_export).unwrap()).unwrap();
    assert!(written.is_object(), "{written}");
    assert_eq!(ok_as(&ops, &["tenant", "show", "beta"])["tenant"]["status"], "offboarded");

    // The audit trail over the API: a page, then every chain verified (AUD-2).
    let page = server.ok(&["audit", "list", "--tenant", "acme", "--limit", "5"]);
    assert_eq!(page["records"].as_array().unwrap().len(), 5, "{page}");
    assert_eq!(page["records"][0]["seq"], 1, "{page}");
    let verify = server.ok(&["audit", "verify"]);
    assert_eq!(verify["intact"], true, "{verify}");
    let chains: Vec<&str> =
        verify["chains"].as_array().unwrap().iter().filter_map(|c| c["tenant"].as_str()).collect();
    assert_eq!(chains, ["acme", "beta"], "{verify}");
    let text = server.text(&["audit", "verify", "--tenant", "acme"]);
    assert!(text.contains("chain `acme`: intact") && text.ends_with("audit trail intact\n"), "{text}");

    // The saved session is never sent to another server: there the admin is not logged in.
    let elsewhere = bin.run(&["--server", "http://127.0.0.1:1", "tenant", "list"], None);
    assert!(failed(&elsewhere).contains("not logged in"), "{elsewhere:?}");
    // A server that is not there is named; plain http off loopback is refused before anything is sent.
    let gone = keyed.run(&["--server", "http://127.0.0.1:1", "tenant", "list"], None);
    assert!(failed(&gone).contains("cannot reach the custodian server at http://127.0.0.1:1"), "{gone:?}");
    let plain = keyed.run(&["--server", "http://custodian.invalid", "tenant", "list"], None);
    assert!(failed(&plain).contains("plain http"), "{plain:?}");

    // Logout revokes the session on the server and removes the file; commands then ask to log in.
    let saved_token = token.to_owned();
    let out = server.ok(&["logout"]);
    assert_eq!(out["revoked"], true, "{out}");
    assert!(!server.session_file.exists());
    let after = bin.run(&["tenant", "list"], None);
    assert!(failed(&after).contains("not logged in"), "{after:?}");
    // The revoked token is refused by the server itself.
    let api = crate::support::http_client(&server.base);
    assert_eq!(api.call("GET", "/v1/me", Some(&saved_token), None).await.0, 401);

    server.stop();
}

/// Plays the client's browser on the simulator's consent page `consent` and delivers its redirect (to
/// `public_url`) to the server at `base`, as a reverse proxy would; returns the connected grant's id.
async fn consent_as_client(consent: &str, public_url: &str, base: &str) -> String {
    let browser = custodian_http::HttpClient::new(custodian_http::HttpConfig {
        allow_plain_loopback: true,
        ..custodian_http::HttpConfig::default()
    })
    .unwrap();
    let page = browser.send(custodian_http::Request::get(browser.check_url(consent).unwrap())).await.unwrap();
    assert_eq!(page.status, 302);
    let location = custodian_http::Url::parse(page.header("location").unwrap()).unwrap();
    assert!(location.as_str().starts_with(public_url), "{location}");
    let callback = format!("{}?{}", location.path(), location.query().unwrap_or(""));
    let (status, body) = crate::support::http_client(base).call("GET", &callback, None, None).await;
    assert_eq!(status, 200, "{body}");
    body["grant"]["id"].as_str().unwrap().to_owned()
}

/// `custodian serve` in `dir` against the simulator at `sim_base` (its public URL `public_url`), with the
/// first admin, tenant `acme` and an account manager of it logged in: the server process, its URL and the
/// account manager's environment for the admin commands (grants are an account manager's, ACC-1).
fn serve_with_account_manager(dir: &TempDir, sim_base: &str, public_url: &str) -> (Child, String, Bin) {
    let config = dir.path().join("custodian.toml");
    std::fs::write(&config, custodian_cli::sim_toml(&custodian_cli::sim_platforms(sim_base))).unwrap();
    let config = config.display().to_string();
    let server_bin = Bin::new()
        .env("CUSTODIAN_DATA_DIR", &dir.path().join("data").display().to_string())
        .env("CUSTODIAN_PUBLIC_URL", public_url);
    let init = server_bin
        .run(&["--json", "--config", &config, "init", "--email", EMAIL], Some(&format!("{PASSWORD}\n")));
    let secret = json(&init)["totp_secret"].as_str().unwrap().to_owned();
    let mut child = server_bin.spawn(&["--json", "--config", &config, "serve", "--listen", "127.0.0.1:0"]);
    let ready: Value = serde_json::from_str(&child.line(Duration::from_secs(120))).unwrap();
    let base = ready["url"].as_str().unwrap().to_owned();

    let admin = Bin::new()
        .env("CUSTODIAN_SERVER", &base)
        .env("CUSTODIAN_SESSION_FILE", &dir.path().join("admin-session").display().to_string());
    let login = admin.run(&["login", "--email", EMAIL], Some(&format!("{PASSWORD}\n{}\n", code(&secret, 0))));
    assert!(login.success, "{login:?}");
    ok_as(&admin, &["tenant", "create", "acme", "--name", "Acme Ltd"]);
    let added = admin.run(
        &[
            "--json",
            "user",
            "add",
            "--email",
            "am@example.com",
            "--role",
            "account_manager",
            "--tenant",
            "acme",
        ],
        Some("Manager-Horse-45!\n"),
    );
    let am_secret = json(&added)["totp"]["secret"].as_str().unwrap().to_owned();
    let am = Bin::new()
        .env("CUSTODIAN_SERVER", &base)
        .env("CUSTODIAN_SESSION_FILE", &dir.path().join("am-session").display().to_string());
    let login = am.run(
        &["login", "--email", "am@example.com"],
        Some(&format!("Manager-Horse-45!\n{}\n", code(&am_secret, 0))),
    );
    assert!(login.success, "{login:?}");
    (child, base, am)
}

/// AUTH-2 then a sync through the CLI: `grant connect` against `custodian sim` (its consent page plays the
/// client's browser), `grant validate`, `sync run` account by account with the runs' counts, `sync history`
/// with the checkpoints, `grant pii` refused off commerce, `grant review` refused on an active grant, the PII
/// switch on and off on a connected eBay grant, `grant revoke` with a clean receipt (RET-6).
#[tokio::test]
async fn admin_sync_run_pulls_a_connected_grant_and_shows_its_history() {
    const PUBLIC_URL: &str = "https://custodian.admin.test";
    let dir = TempDir::new("admin-sync");
    std::fs::create_dir_all(dir.path()).unwrap();
    let mut sim = Bin::new().spawn(&[
        "--json",
        "sim",
        "--listen",
        "127.0.0.1:0",
        "--seed",
        "5",
        "--redirect-to",
        PUBLIC_URL,
    ]);
    let ready: Value = serde_json::from_str(&sim.line(Duration::from_secs(120))).unwrap();
    let sim_base = ready["base_url"].as_str().unwrap().to_owned();
    let (mut child, base, am) = serve_with_account_manager(&dir, &sim_base, PUBLIC_URL);

    // Connect: the consent URL printed, the client's consent delivered to the server's callback.
    let started = ok_as(
        &am,
        &[
            "grant",
            "connect",
            "--tenant",
            "acme",
            "--platform",
            "meta",
            "--task",
            "read_reporting",
            "--task",
            "read_campaigns",
        ],
    );
    let consent = started["consent_url"].as_str().unwrap();
    assert!(consent.starts_with(&sim_base), "{started}");
    let grant = consent_as_client(consent, PUBLIC_URL, &base).await;

    let validated = ok_as(&am, &["grant", "validate", "--tenant", "acme", &grant]);
    assert_eq!(validated["outcome"], "active", "{validated}");
    let accounts = validated["grant"]["evidence"]["accounts"].as_array().unwrap().len();
    assert!(accounts >= 1, "{validated}");

    // sync run: one run per account (the report window ends yesterday: platforms refuse future dates).
    let yesterday = time::OffsetDateTime::now_utc().date() - time::Duration::days(1);
    let from = (yesterday - time::Duration::days(6)).to_string();
    let to = yesterday.to_string();
    let synced = ok_as(&am, &["sync", "run", "--tenant", "acme", &grant, "--from", &from, "--to", &to]);
    let runs = synced["runs"].as_array().unwrap();
    assert_eq!(runs.len(), accounts, "{synced}");
    assert!(runs.iter().all(|r| r["kind"] == "reporting"), "{synced}");
    assert!(runs.iter().map(|r| r["records"].as_u64().unwrap()).sum::<u64>() > 0, "{synced}");
    let text = text_as(&am, &["sync", "run", "--tenant", "acme", &grant, "--from", &from, "--to", &to]);
    assert!(text.starts_with("ACCOUNT") && text.contains("reporting") && text.contains("grant "), "{text}");
    let history = ok_as(&am, &["sync", "history", "--tenant", "acme", &grant]);
    let checkpoints = history["checkpoints"].as_array().unwrap();
    assert!(!checkpoints.is_empty() && checkpoints.iter().all(|c| c["finished"] == true), "{history}");

    let pii = am.run(&["grant", "pii", "--tenant", "acme", &grant, "on"], None);
    assert!(failed(&pii).contains("error: ") && pii.stderr.contains("(invalid_input)"), "{pii:?}");
    let pii = refused_as(&am, &["grant", "pii", "--tenant", "acme", &grant, "on"]);
    assert_eq!((pii["code"].as_str(), pii["status"].as_u64()), (Some("invalid_input"), Some(422)), "{pii}");
    assert!(pii["error"].as_str().unwrap().contains("only on commerce platforms"), "{pii}");
    assert_eq!(ok_as(&am, &["grant", "show", "--tenant", "acme", &grant])["grant"]["pii_enabled"], false);

    // AUTH-5: `grant review` re-approves only a grant in review; an active grant is refused as it is.
    let review = refused_as(&am, &["grant", "review", "--tenant", "acme", &grant]);
    assert_eq!(
        (review["code"].as_str(), review["status"].as_u64()),
        (Some("conflict"), Some(409)),
        "{review}"
    );
    // The refusal says why: the grant's state, not only that something conflicted.
    assert!(review["error"].as_str().unwrap().contains("state active"), "{review}");
    let review = am.run(&["grant", "review", "--tenant", "acme", &grant], None);
    assert!(failed(&review).contains("(conflict)"), "{review:?}");
    let shown = ok_as(&am, &["grant", "show", "--tenant", "acme", &grant]);
    assert_eq!(shown["grant"]["state"], "active", "{shown}");
    assert_eq!(shown["grant"]["review"], serde_json::json!([]), "{shown}");

    // MIN-2: the buyer PII switch on a commerce grant (eBay), connected and validated like the first.
    let started = ok_as(
        &am,
        &[
            "grant",
            "connect",
            "--tenant",
            "acme",
            "--platform",
            "ebay",
            "--task",
            "read_orders",
            "--task",
            "update_stock",
        ],
    );
    assert_eq!(started["grant"]["pii_enabled"], false, "{started}");
    let ebay = consent_as_client(started["consent_url"].as_str().unwrap(), PUBLIC_URL, &base).await;
    let validated = ok_as(&am, &["grant", "validate", "--tenant", "acme", &ebay]);
    assert_eq!(validated["outcome"], "active", "{validated}");
    let on = ok_as(&am, &["grant", "pii", "--tenant", "acme", &ebay, "on"]);
    assert_eq!(on["grant"]["id"], ebay.as_str(), "{on}");
    assert_eq!(on["grant"]["pii_enabled"], true, "{on}");
    assert_eq!(on["grant"]["state"], "active", "the switch leaves the grant active: {on}");
    let shown = ok_as(&am, &["grant", "show", "--tenant", "acme", &ebay]);
    assert_eq!(shown["grant"]["pii_enabled"], true, "{shown}");
    let listed = text_as(&am, &["grant", "list", "--tenant", "acme"]);
    assert!(listed.lines().any(|l| l.contains(&ebay) && l.contains(" yes ")), "{listed}");
    let off = text_as(&am, &["grant", "pii", "--tenant", "acme", &ebay, "off"]);
    assert_eq!(off.trim_end(), format!("grant {ebay}: buyer pii off"), "{off}");
    let shown = ok_as(&am, &["grant", "show", "--tenant", "acme", &ebay]);
    assert_eq!(shown["grant"]["pii_enabled"], false, "{shown}");
    let on = text_as(&am, &["grant", "pii", "--tenant", "acme", &ebay, "on"]);
    assert_eq!(on.trim_end(), format!("grant {ebay}: buyer pii on"), "{on}");
    // A revoked grant's switch cannot move.
    let revoked = ok_as(&am, &["grant", "revoke", "--tenant", "acme", &ebay]);
    assert_eq!(revoked["receipt"]["clean"], true, "{revoked}");
    let gone = refused_as(&am, &["grant", "pii", "--tenant", "acme", &ebay, "off"]);
    assert_eq!(gone["code"], "conflict", "{gone}");
    assert!(gone["error"].as_str().unwrap().contains("revoked"), "{gone}");
    let shown = ok_as(&am, &["grant", "show", "--tenant", "acme", &ebay]);
    assert_eq!(
        (&shown["grant"]["state"], &shown["grant"]["pii_enabled"]),
        (&Value::from("revoked"), &Value::from(true))
    );
    let revoked = ok_as(&am, &["grant", "revoke", "--tenant", "acme", &grant]);
    assert_eq!(revoked["receipt"]["clean"], true, "{revoked}");
    assert!(revoked["receipt"]["total_deleted"].as_u64().unwrap() > 0, "{revoked}");

    child.terminate();
    assert!(child.wait(Duration::from_secs(60)).is_some_and(|s| s.success()));
    sim.terminate();
    assert!(sim.wait(Duration::from_secs(60)).is_some_and(|s| s.success()));
}

/// AUTH-5 through the CLI, the success path: a meta grant connected and validated (active), then the client
/// removes one ad account from the app's access on the platform (the simulator runs in this process so the
/// test can play that); `grant validate` moves the grant to review and says what changed, `grant show`
/// lists the change, `grant review` re-approves it as it now is (active, the change cleared, the evidence
/// the platform's new account set), and a second review is refused.
// Multi-threaded: the simulator serves on this runtime while the test blocks on the binary's runs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_grant_review_reapproves_a_grant_whose_accounts_changed_on_the_platform() {
    const PUBLIC_URL: &str = "https://custodian.review.test";
    let dir = TempDir::new("admin-review");
    std::fs::create_dir_all(dir.path()).unwrap();
    let config =
        custodian_cli::sim_config(7, Some(PUBLIC_URL), time::OffsetDateTime::now_utc().unix_timestamp());
    let accounts: Vec<String> = config.meta.accounts.iter().map(|a| a.id.clone()).collect();
    let user = config.meta.user_id.clone();
    assert!(accounts.len() >= 2, "the test drops one of several accounts: {accounts:?}");
    let sim = custodian_sim::Sim::new(config).start("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let sim_base = sim.base_url().to_owned();
    let (mut child, base, am) = serve_with_account_manager(&dir, &sim_base, PUBLIC_URL);

    let started = ok_as(
        &am,
        &["grant", "connect", "--tenant", "acme", "--platform", "meta", "--task", "read_reporting"],
    );
    let grant = consent_as_client(started["consent_url"].as_str().unwrap(), PUBLIC_URL, &base).await;
    let validated = ok_as(&am, &["grant", "validate", "--tenant", "acme", &grant]);
    assert_eq!(validated["outcome"], "active", "{validated}");
    let before = validated["grant"]["evidence"]["accounts"].as_array().unwrap().len();
    assert_eq!(before, accounts.len(), "{validated}");

    // The client keeps only the first ad account for the app.
    assert_eq!(sim.sim.meta.set_user_accounts(&user, &[accounts[0].as_str()]), 1);
    let validated = ok_as(&am, &["grant", "validate", "--tenant", "acme", &grant]);
    assert_eq!(validated["outcome"], "needs_review", "{validated}");
    assert_eq!(validated["grant"]["state"], "needs_review", "{validated}");
    let shown = ok_as(&am, &["grant", "show", "--tenant", "acme", &grant]);
    let review = shown["grant"]["review"].as_array().unwrap();
    assert!(!review.is_empty(), "the change is listed: {shown}");
    assert!(review.iter().any(|c| c.to_string().contains("account")), "{shown}");
    let text = text_as(&am, &["grant", "validate", "--tenant", "acme", &grant]);
    assert!(text.contains("needs_review") || text.contains("needs review"), "{text}");

    // Re-approved as it now is: active, the change cleared, one account in the evidence.
    let reviewed = ok_as(&am, &["grant", "review", "--tenant", "acme", &grant]);
    assert_eq!(reviewed["grant"]["state"], "active", "{reviewed}");
    assert_eq!(reviewed["grant"]["review"], serde_json::json!([]), "{reviewed}");
    let shown = ok_as(&am, &["grant", "show", "--tenant", "acme", &grant]);
    assert_eq!(shown["grant"]["state"], "active", "{shown}");
    assert_eq!(shown["grant"]["evidence"]["accounts"].as_array().unwrap().len(), 1, "{shown}");
    // Nothing left to review: a second review is refused, and validating again keeps it active.
    let again = refused_as(&am, &["grant", "review", "--tenant", "acme", &grant]);
    assert_eq!(again["code"], "conflict", "{again}");
    assert_eq!(ok_as(&am, &["grant", "validate", "--tenant", "acme", &grant])["outcome"], "active");

    child.terminate();
    assert!(child.wait(Duration::from_secs(60)).is_some_and(|s| s.success()));
    sim.shutdown().await;
}
