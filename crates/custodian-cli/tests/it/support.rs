//! Running the built binary: one-shot runs with a watchdog, long-running children behind a kill-on-drop
//! guard, temporary directories, a fresh PostgreSQL database, an HTTP client and TOTP codes.

use std::collections::BTreeMap;
use std::io::{BufRead as _, BufReader, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use custodian_core::personnel::totp::{self, TotpConfig, TotpSecret};
use custodian_http::{HttpClient, HttpConfig, Method, Request};
use secrecy::SecretString;
use serde_json::Value;

/// How long a one-shot command may take before it is killed (generous: CI may be loaded).
const RUN_TIMEOUT: Duration = Duration::from_secs(180);

/// A directory removed on drop.
pub(crate) struct TempDir(PathBuf);

impl TempDir {
    pub(crate) fn new(tag: &str) -> Self {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("custodian-cli-{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        Self(path)
    }

    pub(crate) fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The `custodian` binary with an environment: the test process's own, minus every `CUSTODIAN_*`
/// variable, plus the ones set here.
#[derive(Debug, Clone)]
pub(crate) struct Bin {
    env: BTreeMap<String, String>,
}

/// The outcome of a one-shot run.
#[derive(Debug)]
pub(crate) struct Run {
    pub(crate) success: bool,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

impl Bin {
    pub(crate) fn new() -> Self {
        Self { env: BTreeMap::new() }
    }

    pub(crate) fn env(mut self, key: &str, value: &str) -> Self {
        self.env.insert(key.to_owned(), value.to_owned());
        self
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_custodian"));
        command.args(args);
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("CUSTODIAN_") {
                command.env_remove(key);
            }
        }
        command.envs(&self.env);
        command
    }

    /// Runs to completion with `stdin` (closed when `None`), killed after [`RUN_TIMEOUT`].
    pub(crate) fn run(&self, args: &[&str], stdin: Option<&str>) -> Run {
        let mut command = self.command(args);
        command.stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() });
        command.stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = Child::start(command);
        if let Some(text) = stdin {
            let mut pipe = child.inner.stdin.take().unwrap();
            pipe.write_all(text.as_bytes()).unwrap();
        }
        // Read both pipes on threads so a full pipe never blocks the child.
        let out = child.inner.stdout.take().unwrap();
        let err = child.inner.stderr.take().unwrap();
        let out = std::thread::spawn(move || std::io::read_to_string(out).unwrap_or_default());
        let err = std::thread::spawn(move || std::io::read_to_string(err).unwrap_or_default());
        let status = child.wait(RUN_TIMEOUT);
        let run = Run {
            success: status.is_some_and(|s| s.success()),
            stdout: out.join().unwrap(),
            stderr: err.join().unwrap(),
        };
        assert!(status.is_some(), "`custodian {}` did not finish: {run:?}", args.join(" "));
        run
    }

    /// Starts a long-running command; its standard output is read line by line.
    pub(crate) fn spawn(&self, args: &[&str]) -> Child {
        let mut command = self.command(args);
        command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::inherit());
        let mut child = Child::start(command);
        let stdout = child.inner.stdout.take().unwrap();
        let (send, receive) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if send.send(line).is_err() {
                    break;
                }
            }
        });
        child.lines = Some(receive);
        child
    }
}

/// A child process killed and reaped when dropped, whatever happened before.
pub(crate) struct Child {
    inner: std::process::Child,
    lines: Option<mpsc::Receiver<String>>,
    done: bool,
}

impl Child {
    fn start(mut command: Command) -> Self {
        Self { inner: command.spawn().expect("the custodian binary starts"), lines: None, done: false }
    }

    /// The next line of standard output, waiting at most `timeout`.
    pub(crate) fn line(&mut self, timeout: Duration) -> String {
        let lines = self.lines.as_ref().expect("a spawned child");
        lines
            .recv_timeout(timeout)
            .unwrap_or_else(|e| panic!("no line from custodian within {timeout:?}: {e}"))
    }

    /// Sends SIGTERM (by process id, to this child only).
    pub(crate) fn terminate(&mut self) {
        let status = Command::new("kill").arg("-TERM").arg(self.inner.id().to_string()).status().unwrap();
        assert!(status.success());
    }

    /// Waits at most `timeout` for the exit; `None` when it did not exit in time.
    pub(crate) fn wait(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let start = Instant::now();
        loop {
            if let Some(status) = self.inner.try_wait().unwrap() {
                self.done = true;
                return Some(status);
            }
            if start.elapsed() > timeout {
                return None;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        if !self.done {
            let _ = self.inner.kill();
            let _ = self.inner.wait();
        }
    }
}

/// A fresh database on the test PostgreSQL server (`DATABASE_URL`, default the local one), dropped at the
/// end.
pub(crate) struct PgDatabase {
    name: String,
    url: String,
    admin_url: String,
}

impl PgDatabase {
    /// A fresh database on the server of `DATABASE_URL` (default the local test server), created over
    /// sqlx (no `psql` needed on PATH) and dropped with the value.
    pub(crate) fn create(tag: &str) -> Self {
        let base = std::env::var_os("DATABASE_URL")
            .and_then(|v| v.into_string().ok())
            .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/test".to_owned());
        let (server, _) = base.rsplit_once('/').expect("a database url ends in /name");
        // Digits and the fixed tag only: no outside text reaches the statement.
        let name = format!("custodian_{tag}_{}_{}", std::process::id(), nanos());
        let admin_url = format!("{server}/postgres");
        admin_sql(&admin_url, format!("CREATE DATABASE {name}")).unwrap_or_else(|e| {
            panic!("cannot create a test database on {server} (is postgres running?): {e}")
        });
        Self { url: format!("{server}/{name}"), name, admin_url }
    }

    pub(crate) fn url(&self) -> &str {
        &self.url
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        // FORCE ends connections a killed server may have left behind.
        let _ = admin_sql(&self.admin_url, format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name));
    }
}

fn nanos() -> u128 {
    time::OffsetDateTime::now_utc().unix_timestamp_nanos().unsigned_abs()
}

/// Runs one statement on the admin database, on a helper thread with its own runtime (so it works from
/// `Drop` and from inside the test's runtime alike).
fn admin_sql(url: &str, sql: String) -> Result<(), String> {
    use sqlx::Connection as _;
    let url = url.to_owned();
    std::thread::spawn(move || {
        let rt =
            tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| e.to_string())?;
        rt.block_on(async move {
            let mut conn = sqlx::PgConnection::connect(&url).await.map_err(|e| e.to_string())?;
            let done = sqlx::raw_sql(&sql).execute(&mut conn).await.map(drop).map_err(|e| e.to_string());
            let _ = conn.close().await;
            done
        })
    })
    .join()
    .map_err(|_| "the database helper thread panicked".to_owned())?
}

/// The current TOTP code of a base32 secret (custodian-core's TOTP, default parameters).
pub(crate) fn totp_now(secret: &str) -> String {
    let secret = TotpSecret::from_base32(&SecretString::from(secret.to_owned())).unwrap();
    totp::code_at(&secret, &TotpConfig::default(), time::OffsetDateTime::now_utc().unix_timestamp())
}

/// A code that is not `code` (each digit shifted).
pub(crate) fn other_code(code: &str) -> String {
    code.chars().map(|c| char::from_digit((c.to_digit(10).unwrap() + 5) % 10, 10).unwrap()).collect()
}

/// JSON calls against one base URL.
pub(crate) struct Api {
    client: HttpClient,
    base: String,
}

pub(crate) fn http_client(base: &str) -> Api {
    let client = HttpClient::new(HttpConfig { allow_plain_loopback: true, ..HttpConfig::default() }).unwrap();
    Api { client, base: base.to_owned() }
}

impl Api {
    /// `method path` with an optional bearer token and JSON body: the status and the JSON body
    /// (`Null` when empty).
    pub(crate) async fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value) {
        let url = self.client.check_url(&format!("{}{path}", self.base)).unwrap();
        let mut request = Request::new(Method::from_bytes(method.as_bytes()).unwrap(), url);
        if let Some(token) = token {
            request = request.secret_header("authorization", &SecretString::from(format!("Bearer {token}")));
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = self.client.send(request).await.unwrap();
        let body = if response.body.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&response.body)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&response.body).into_owned()))
        };
        (response.status, body)
    }
}
