//! The admin commands' side of the HTTP API: which server, which credential, one call, and the API's errors
//! turned into messages for people.
//!
//! - Server: `--server URL`, else `CUSTODIAN_SERVER`, else [`DEFAULT_SERVER`]. Calls go through
//!   custodian-http's [`HttpClient`] (TLS 1.2+; plain `http` only to a loopback host, TLS-1).
//! - Credential: `CUSTODIAN_API_KEY` (`Authorization: ApiKey …`, ACC-4), else the session `custodian login`
//!   saved for that same server (`Authorization: Bearer …`). A session saved for another server is never
//!   sent anywhere else.
//! - The session file (`CUSTODIAN_SESSION_FILE`, else `$XDG_CONFIG_HOME/custodian/session`, else
//!   `~/.config/custodian/session`) is JSON with the server, the token and its expiry, written with mode
//!   0600 in a directory of mode 0700. Tokens are [`SecretString`]s: exposed only to write that file and to
//!   build the `Authorization` header; never printed or logged.

use std::collections::BTreeMap;
use std::fmt;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context as _, anyhow, bail};
use custodian_http::{BodySink, HttpClient, HttpConfig, HttpError, Method, Request, Response, Streamed, Url};
use secrecy::{ExposeSecret as _, SecretString};
use serde_json::{Value, json};

/// The server when neither `--server` nor `CUSTODIAN_SERVER` says otherwise (`custodian serve`'s default).
pub(crate) const DEFAULT_SERVER: &str = "http://127.0.0.1:8080";

/// What to tell someone whose request had no usable credential.
pub(crate) const LOGIN_HINT: &str = "log in with `custodian login --email EMAIL` or set CUSTODIAN_API_KEY";

/// How long one call may take: a sync run answers only when done.
const CALL_TIMEOUT: Duration = Duration::from_secs(600);
/// The largest answer read into memory.
const MAX_BODY_BYTES: usize = 512 << 20;
/// A download (an export, streamed to a file) may take this long in all, as long as bytes keep coming ...
const DOWNLOAD_TIMEOUT: Duration = Duration::from_secs(24 * 60 * 60);
/// ... with no wait for the next bytes longer than this: the server reads and audits a page of records
/// between two chunks.
const DOWNLOAD_IDLE_TIMEOUT: Duration = Duration::from_secs(120);
/// The largest download written to a file (it never passes through memory whole).
const MAX_DOWNLOAD_BYTES: usize = 64 << 30;

/// Where the admin commands' settings come from: the `CUSTODIAN_*` environment plus the user's config
/// directory (read in `main`, the only place the environment is read).
#[derive(Clone, Default)]
pub(crate) struct ClientEnv {
    /// `--server`, when given.
    pub(crate) server_flag: Option<String>,
    /// The `CUSTODIAN_*` variables.
    pub(crate) vars: BTreeMap<String, String>,
    /// `$XDG_CONFIG_HOME`, else `$HOME/.config`.
    pub(crate) config_home: Option<PathBuf>,
}

impl fmt::Debug for ClientEnv {
    /// Variable names only: values may be secrets (`CUSTODIAN_API_KEY`, `CUSTODIAN_MASTER_KEY`, …).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientEnv")
            .field("server_flag", &self.server_flag)
            .field("vars", &self.vars.keys().collect::<Vec<_>>())
            .field("config_home", &self.config_home)
            .finish()
    }
}

impl ClientEnv {
    /// Whether a server was named (`--server` or `CUSTODIAN_SERVER`), rather than the default assumed.
    pub(crate) fn server_given(&self) -> bool {
        self.server_flag.is_some() || self.vars.contains_key("CUSTODIAN_SERVER")
    }

    /// The server's base URL, without a trailing slash.
    pub(crate) fn server(&self) -> String {
        let raw = self
            .server_flag
            .clone()
            .or_else(|| self.vars.get("CUSTODIAN_SERVER").cloned())
            .unwrap_or_else(|| DEFAULT_SERVER.to_owned());
        raw.trim().trim_end_matches('/').to_owned()
    }

    /// Where the session is kept.
    pub(crate) fn session_file(&self) -> anyhow::Result<PathBuf> {
        if let Some(path) = self.vars.get("CUSTODIAN_SESSION_FILE").filter(|p| !p.is_empty()) {
            return Ok(PathBuf::from(path));
        }
        let home = self.config_home.as_ref().ok_or_else(|| {
            anyhow!("no config directory: set XDG_CONFIG_HOME, HOME or CUSTODIAN_SESSION_FILE")
        })?;
        Ok(home.join("custodian").join("session"))
    }

    fn api_key(&self) -> Option<SecretString> {
        self.vars
            .get("CUSTODIAN_API_KEY")
            .map(|k| k.trim())
            .filter(|k| !k.is_empty())
            .map(|k| SecretString::from(k.to_owned()))
    }

    /// The credential to send to [`Self::server`]: the API key, else a session saved for this server.
    pub(crate) fn credential(&self) -> anyhow::Result<Option<Credential>> {
        if let Some(key) = self.api_key() {
            return Ok(Some(Credential::ApiKey(key)));
        }
        let saved = Session::load(&self.session_file()?)?;
        Ok(saved.filter(|s| s.server == self.server()).map(|s| Credential::Session(s.token)))
    }
}

/// What authenticates a call.
pub(crate) enum Credential {
    ApiKey(SecretString),
    Session(SecretString),
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Credential::ApiKey(_) => "Credential::ApiKey([REDACTED])",
            Credential::Session(_) => "Credential::Session([REDACTED])",
        })
    }
}

impl Credential {
    fn header(&self) -> SecretString {
        match self {
            Credential::ApiKey(key) => SecretString::from(format!("ApiKey {}", key.expose_secret())),
            Credential::Session(token) => SecretString::from(format!("Bearer {}", token.expose_secret())),
        }
    }
}

/// A saved login session.
pub(crate) struct Session {
    pub(crate) server: String,
    pub(crate) token: SecretString,
    pub(crate) person: String,
    pub(crate) expires_at: String,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("server", &self.server)
            .field("person", &self.person)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

impl Session {
    /// The session saved in `path`, if there is one.
    pub(crate) fn load(path: &Path) -> anyhow::Result<Option<Self>> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => {
                return Err(e).with_context(|| format!("cannot read the session file {}", path.display()));
            }
        };
        let value: Value = serde_json::from_str(&text)
            .map_err(|_| anyhow!("the session file {} is not valid: log in again", path.display()))?;
        let field = |name: &str| value.get(name).and_then(Value::as_str).map(str::to_owned);
        match (field("server"), field("token")) {
            (Some(server), Some(token)) => Ok(Some(Session {
                server,
                token: SecretString::from(token),
                person: field("person").unwrap_or_default(),
                expires_at: field("expires_at").unwrap_or_default(),
            })),
            _ => bail!("the session file {} is not valid: log in again", path.display()),
        }
    }

    /// Writes the session to `path` with mode 0600 (its directory created with mode 0700).
    pub(crate) fn save(&self, path: &Path) -> anyhow::Result<()> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            let mut builder = std::fs::DirBuilder::new();
            builder.recursive(true);
            #[cfg(unix)]
            std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
            builder.create(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        }
        let document = json!({
            "server": self.server,
            "token": self.token.expose_secret(),
            "person": self.person,
            "expires_at": self.expires_at,
        });
        let mut file = private_file(path, true)?;
        file.write_all(document.to_string().as_bytes())
            .and_then(|()| file.write_all(b"\n"))
            .with_context(|| format!("cannot write the session file {}", path.display()))
    }
}

/// Opens `path` for writing, readable by its owner only (mode 0600 on Unix, also when it existed before).
/// `replace` truncates an existing file; otherwise an existing file is an error.
pub(crate) fn private_file(path: &Path, replace: bool) -> anyhow::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true);
    if replace {
        options.create(true).truncate(true);
    } else {
        options.create_new(true);
    }
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let file = options.open(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            anyhow!("{} exists already: choose another file", path.display())
        } else {
            anyhow::Error::new(e).context(format!("cannot create {}", path.display()))
        }
    })?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))
            .with_context(|| format!("cannot restrict the permissions of {}", path.display()))?;
    }
    Ok(file)
}

/// The API answered with an error: `{code, message}` and the status.
#[derive(Debug)]
pub(crate) struct ApiFailure {
    pub(crate) status: u16,
    pub(crate) code: String,
    pub(crate) message: String,
}

impl fmt::Display for ApiFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.message, self.code)?;
        if self.status == 401 && self.code == "unauthenticated" {
            write!(f, ": {LOGIN_HINT}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ApiFailure {}

impl ApiFailure {
    fn from_response(response: &Response) -> Self {
        let body: Value = serde_json::from_slice(&response.body).unwrap_or(Value::Null);
        let text = |name: &str| body.get(name).and_then(Value::as_str).map(str::to_owned);
        Self {
            status: response.status,
            code: text("code").unwrap_or_else(|| format!("http_{}", response.status)),
            message: text("message").unwrap_or_else(|| format!("the server answered {}", response.status)),
        }
    }
}

/// One server's API with (or without) a credential.
#[derive(Debug)]
pub(crate) struct Api {
    http: HttpClient,
    /// For downloads: [`DOWNLOAD_TIMEOUT`], [`DOWNLOAD_IDLE_TIMEOUT`], [`MAX_DOWNLOAD_BYTES`].
    download: HttpClient,
    base: Url,
    server: String,
    credential: Option<Credential>,
}

impl Api {
    /// A client of `server` (checked against TLS-1 now: https, or plain http to loopback only).
    pub(crate) fn new(server: &str, credential: Option<Credential>) -> anyhow::Result<Self> {
        let http = HttpClient::new(HttpConfig {
            // custodian-http refuses plain http to anything but a loopback host whatever this says.
            allow_plain_loopback: true,
            timeout: CALL_TIMEOUT,
            max_body_bytes: MAX_BODY_BYTES,
            ..HttpConfig::default()
        })
        .context("cannot build the http client")?;
        let download = HttpClient::new(HttpConfig {
            allow_plain_loopback: true,
            timeout: DOWNLOAD_TIMEOUT,
            idle_timeout: Some(DOWNLOAD_IDLE_TIMEOUT),
            max_body_bytes: MAX_DOWNLOAD_BYTES,
            ..HttpConfig::default()
        })
        .context("cannot build the http client")?;
        let base = http.check_url(server).with_context(|| format!("server `{server}` is not usable"))?;
        if base.cannot_be_a_base() || base.query().is_some() {
            bail!("server `{server}` is not usable: give a base url such as {DEFAULT_SERVER}");
        }
        Ok(Self { http, download, base, server: server.to_owned(), credential })
    }

    /// The client of `env`'s server with `env`'s credential.
    pub(crate) fn from_env(env: &ClientEnv) -> anyhow::Result<Self> {
        Self::new(&env.server(), env.credential()?)
    }

    pub(crate) fn server(&self) -> &str {
        &self.server
    }

    /// Whether a credential will be sent.
    pub(crate) fn has_credential(&self) -> bool {
        self.credential.is_some()
    }

    /// The URL of `segments` under the base (each segment percent-encoded) with `query`.
    fn url(&self, segments: &[&str], query: &[(&str, &str)]) -> anyhow::Result<Url> {
        let mut url = self.base.clone();
        url.path_segments_mut()
            .map_err(|()| anyhow!("server `{}` is not a base url", self.server))?
            .pop_if_empty()
            .extend(segments);
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        Ok(url)
    }

    /// Sends `method segments?query` with an optional JSON body; any status is returned.
    pub(crate) async fn send(
        &self,
        method: Method,
        segments: &[&str],
        query: &[(&str, &str)],
        body: Option<&Value>,
        authenticated: bool,
    ) -> anyhow::Result<Response> {
        let mut request = Request::new(method, self.url(segments, query)?);
        if authenticated {
            let credential =
                self.credential.as_ref().ok_or_else(|| anyhow!("not logged in: {LOGIN_HINT}"))?;
            request = request.secret_header("authorization", &credential.header());
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        self.http.send(request).await.map_err(|e| self.transport_error(e))
    }

    /// An authenticated GET whose success body goes to `sink` as it arrives (a download, never held whole):
    /// how many bytes it took, or the API's error. A sink that fails is that I/O error, for the caller to
    /// name its file.
    pub(crate) async fn download(
        &self,
        segments: &[&str],
        query: &[(&str, &str)],
        sink: &mut (dyn BodySink + Send),
    ) -> anyhow::Result<u64> {
        let credential = self.credential.as_ref().ok_or_else(|| anyhow!("not logged in: {LOGIN_HINT}"))?;
        let request = Request::new(Method::GET, self.url(segments, query)?)
            .secret_header("authorization", &credential.header());
        match self.download.send_streaming(request, sink).await {
            Ok(Streamed::Delivered { bytes, .. }) => Ok(bytes),
            Ok(Streamed::Refused(response)) => Err(ApiFailure::from_response(&response).into()),
            Err(HttpError::Sink { source }) => Err(source.into()),
            Err(error) => Err(self.transport_error(error)),
        }
    }

    fn transport_error(&self, error: HttpError) -> anyhow::Error {
        match error {
            HttpError::Transport { .. } | HttpError::Timeout { .. } => {
                anyhow::Error::new(error).context(format!(
                    "cannot reach the custodian server at {}: is `custodian serve` running there? (set it with \
                     --server or CUSTODIAN_SERVER)",
                    self.server
                ))
            }
            other => anyhow::Error::new(other).context(format!("request to {} failed", self.server)),
        }
    }

    /// An authenticated call answering JSON: the body on success (`Null` when empty), else [`ApiFailure`].
    pub(crate) async fn call(
        &self,
        method: Method,
        segments: &[&str],
        query: &[(&str, &str)],
        body: Option<&Value>,
    ) -> anyhow::Result<Value> {
        let response = self.send(method, segments, query, body, true).await?;
        json_of(&response)
    }

    pub(crate) async fn get(&self, segments: &[&str]) -> anyhow::Result<Value> {
        self.call(Method::GET, segments, &[], None).await
    }

    pub(crate) async fn post(&self, segments: &[&str], body: &Value) -> anyhow::Result<Value> {
        self.call(Method::POST, segments, &[], Some(body)).await
    }
}

/// The JSON body of a successful response, or the API's error.
pub(crate) fn json_of(response: &Response) -> anyhow::Result<Value> {
    if !response.is_success() {
        return Err(ApiFailure::from_response(response).into());
    }
    if response.body.is_empty() {
        return Ok(Value::Null);
    }
    serde_json::from_slice(&response.body).map_err(|_| anyhow!("the server's answer is not json"))
}

/// The API's error of a failed response (for callers that read non-JSON answers themselves).
pub(crate) fn failure_of(response: &Response) -> anyhow::Error {
    ApiFailure::from_response(response).into()
}

#[cfg(test)]
mod tests;
