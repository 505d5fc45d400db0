//! One typed configuration: an optional TOML file, then `CUSTODIAN_*` environment overrides, then the
//! ENV-1 checks.
//!
//! With no file and no environment at all, the embedded defaults serve a development instance: a SQLite file
//! and a custodian-keystore file (its master key generated into the data directory) under `./custodian-data`,
//! listening on `127.0.0.1:8080`. Production refuses to start on those defaults (see [`Config::violations`]).
//!
//! Secrets (database URL, master key or passphrase, Vault secret id, platform client secrets) are
//! [`SecretString`]s from the moment they are read; `Debug` of every type here redacts them.
//!
//! Environment variables (each overrides the file):
//!
//! | variable | meaning |
//! |---|---|
//! | `CUSTODIAN_ENVIRONMENT` | `development`, `staging` or `production` |
//! | `CUSTODIAN_LISTEN` | socket address to serve on |
//! | `CUSTODIAN_PUBLIC_URL` | the URL clients and platforms reach this server at (OAuth redirects, webhooks) |
//! | `CUSTODIAN_DATA_DIR` | directory of the embedded SQLite and keystore files |
//! | `CUSTODIAN_DATABASE_URL` | a `postgres://` URL: use PostgreSQL instead of SQLite |
//! | `CUSTODIAN_MASTER_KEY` | keystore master key, base64 of 32 bytes |
//! | `CUSTODIAN_KEYSTORE_PASSPHRASE` | keystore passphrase (Argon2id), instead of a key |
//! | `CUSTODIAN_VAULT_ADDR`, `CUSTODIAN_VAULT_ROLE_ID`, `CUSTODIAN_VAULT_SECRET_ID` | use Vault/OpenBao (AppRole) instead of the keystore |
//! | `CUSTODIAN_MFA_REQUIRED` | `true` or `false` |
//! | `CUSTODIAN_METRICS_TOKEN` | the bearer token `GET /metrics` requires (at least 16 characters) |
//! | `CUSTODIAN_ALLOW_PLAIN_HTTP_LOOPBACK` | `true` lets outbound calls use plain http to loopback (tests, simulator) |
//! | `CUSTODIAN_NOTIFY_WEBHOOK_URL` | where alerts are posted |
//! | `CUSTODIAN_<P>_CLIENT_ID`, `CUSTODIAN_<P>_CLIENT_SECRET`, `CUSTODIAN_<P>_WEBHOOK_SECRET`, `CUSTODIAN_<P>_BASE_URL` | platform `<P>` = `META`, `TIKTOK`, `TIKTOK_SHOP`, `AMAZON`, `EBAY` |
//! | `CUSTODIAN_TIKTOK_SHOP_SERVICE_ID`, `CUSTODIAN_AMAZON_APPLICATION_ID`, `CUSTODIAN_EBAY_RU_NAME` | the platform-only app ids (`service_id`, `application_id`, `ru_name` in the platform's table; each refused on other platforms) |
//!
//! Background work (file only, section `[worker]`; see [`WorkerConfig`]): the scheduler's slot and how often
//! each kind of scheduled job falls due, in seconds. Every process on one database should use the same
//! values (slots are counted from the Unix epoch, so equal settings give equal slots everywhere).
//!
//! | key | default | bounds | meaning |
//! |---|---|---|---|
//! | `tick_seconds` | 300 | 1 ..= 3600 | the slot length: how often the scheduler runs |
//! | `sync_every_seconds` | 3600 | 1 ..= 2592000 | scheduled sync of every active grant |
//! | `validate_every_seconds` | 21600 | 1 ..= 86400 | token health of every grant (AUTH-2: within 24 h) |
//! | `retention_every_seconds` | 86400 | 1 ..= 2592000 | retention sweep of every tenant (RET-4) |
//! | `monitor_every_seconds` | 900 | 1 ..= 86400 | the MON-1 detectors |
//!
//! An interval shorter than the slot runs once per slot.
//!
//! Rights requests (file only, section `[rights]`; see [`RightsConfig`]):
//!
//! | key | default | bounds | meaning |
//! |---|---|---|---|
//! | `export_page` | 1000 | 1 ..= 10000 | records an export reads, audits and sends at a time (RGT-1): about what a streamed export holds in memory |

use std::collections::BTreeMap;
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

use custodian_core::authz::Environment;
use custodian_core::platform::Platform;
use secrecy::SecretString;
use serde::Deserialize;

mod raw;
#[cfg(test)]
mod tests;

/// The default listen address: loopback only.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
/// The default data directory, relative to the working directory.
pub const DEFAULT_DATA_DIR: &str = "custodian-data";

/// Why a configuration was refused. Messages name the key, never a secret value.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    #[error("cannot read the configuration file `{path}`")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("configuration file `{path}`: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("`{key}`: {reason}")]
    Invalid { key: String, reason: String },
}

impl ConfigError {
    fn invalid(key: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::Invalid { key: key.into(), reason: reason.into() }
    }
}

/// Where the configuration came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// No file and no `CUSTODIAN_*` variable: the embedded development defaults.
    Defaults,
    /// A file, the environment, or both.
    Given,
}

/// The whole configuration of a Custodian server.
#[derive(Debug, Clone)]
pub struct Config {
    pub environment: Environment,
    pub listen: SocketAddr,
    /// The URL clients and platforms reach this server at, without a trailing slash.
    pub public_url: String,
    pub data_dir: PathBuf,
    pub store: StoreConfig,
    pub secrets: SecretsConfig,
    pub security: SecurityConfig,
    pub outbound: OutboundConfig,
    pub platforms: BTreeMap<Platform, PlatformConfig>,
    pub notifier: NotifierConfig,
    pub worker: WorkerConfig,
    pub rights: RightsConfig,
    pub source: Source,
}

/// The store behind every store port.
#[derive(Clone)]
pub enum StoreConfig {
    /// The embedded default: one SQLite file.
    Sqlite { path: PathBuf },
    /// PostgreSQL (production, scale-out): the URL is a secret (it may carry a password).
    Postgres { url: SecretString, max_connections: u32 },
}

impl fmt::Debug for StoreConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Sqlite { path } => f.debug_struct("Sqlite").field("path", path).finish(),
            Self::Postgres { max_connections, .. } => f
                .debug_struct("Postgres")
                .field("url", &"[REDACTED]")
                .field("max_connections", max_connections)
                .finish(),
        }
    }
}

/// Where the keystore's master key comes from.
#[derive(Clone)]
pub enum MasterKeySource {
    /// Base64 of 32 random bytes, given by the operator.
    Key(SecretString),
    /// A passphrase stretched with Argon2id.
    Passphrase(SecretString),
    /// Generated on first start into `<data_dir>/master.key` (development only; ENV-1).
    Generated,
}

impl fmt::Debug for MasterKeySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Key(_) => "Key([REDACTED])",
            Self::Passphrase(_) => "Passphrase([REDACTED])",
            Self::Generated => "Generated",
        })
    }
}

/// The backend of the secret store and key manager ports.
#[derive(Clone)]
pub enum SecretsConfig {
    /// The embedded default: custodian-keystore's sealed file.
    Keystore { path: PathBuf, master: MasterKeySource },
    /// Vault or OpenBao with AppRole.
    Vault { address: String, role_id: String, secret_id: SecretString, ca_pem: Option<PathBuf> },
}

impl fmt::Debug for SecretsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Keystore { path, master } => {
                f.debug_struct("Keystore").field("path", path).field("master", master).finish()
            }
            Self::Vault { address, role_id, ca_pem, .. } => f
                .debug_struct("Vault")
                .field("address", address)
                .field("role_id", role_id)
                .field("secret_id", &"[REDACTED]")
                .field("ca_pem", ca_pem)
                .finish(),
        }
    }
}

/// People, sessions and request limits.
#[derive(Debug, Clone)]
pub struct SecurityConfig {
    /// MFA at every login (ACC-2). Production refuses `false` (ENV-1).
    pub mfa_required: bool,
    pub session_ttl_minutes: u32,
    /// Failed logins in a row before the account locks.
    pub lockout_after: u32,
    pub lockout_minutes: u32,
    /// Largest request body accepted.
    pub max_body_bytes: usize,
    pub request_timeout_secs: u32,
    /// When set, `GET /metrics` answers only `Authorization: Bearer <token>` (at least 16 characters); when
    /// not, it answers anyone who reaches the listener (route, method, status and latency counts; no tenant
    /// data). `security.metrics_token` or `CUSTODIAN_METRICS_TOKEN`.
    pub metrics_token: Option<SecretString>,
}

impl Default for SecurityConfig {
    fn default() -> Self {
        Self {
            mfa_required: true,
            session_ttl_minutes: 12 * 60,
            lockout_after: 5,
            lockout_minutes: 15,
            max_body_bytes: 1024 * 1024,
            request_timeout_secs: 30,
            metrics_token: None,
        }
    }
}

/// Outbound connections (TLS-1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OutboundConfig {
    /// Plain http to loopback addresses (the simulator, tests). Never to anything else.
    pub allow_plain_http_loopback: bool,
}

/// One platform app's registration.
#[derive(Clone)]
pub struct PlatformConfig {
    /// App id, app key or client id.
    pub client_id: String,
    pub client_secret: SecretString,
    /// A separate notification secret where the platform has one (eBay verification token).
    pub webhook_secret: Option<SecretString>,
    /// Base URLs by name (`api`, `auth`, …); absent names use the adapter's real-platform defaults.
    pub base_urls: BTreeMap<String, String>,
    /// TikTok Shop only: the app's service id (its seller authorization link names it).
    pub service_id: Option<String>,
    /// Amazon only: the SP-API application id (`amzn1.sp.solution…`, Seller Central consent names it).
    pub application_id: Option<String>,
    /// eBay only: the RuName eBay OAuth takes as `redirect_uri` (mapped by eBay to the server's callback).
    pub ru_name: Option<String>,
}

impl fmt::Debug for PlatformConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PlatformConfig")
            .field("client_id", &self.client_id)
            .field("client_secret", &"[REDACTED]")
            .field("webhook_secret", &self.webhook_secret.as_ref().map(|_| "[REDACTED]"))
            .field("base_urls", &self.base_urls)
            .field("service_id", &self.service_id)
            .field("application_id", &self.application_id)
            .field("ru_name", &self.ru_name)
            .finish()
    }
}

/// The background worker's schedule (`[worker]`), in seconds; see the module documentation for bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WorkerConfig {
    /// The slot length: how often the scheduler runs. Default 300; 1 ..= 3600.
    pub tick_seconds: u32,
    /// Scheduled sync of every active grant. Default 3600.
    pub sync_every_seconds: u32,
    /// Token health of every active or in-review grant (AUTH-2). Default 21600; at most 86400 (the 24 h
    /// freshness window).
    pub validate_every_seconds: u32,
    /// Retention sweep of every active tenant (RET-4). Default 86400.
    pub retention_every_seconds: u32,
    /// The MON-1 detectors. Default 900; at most 86400.
    pub monitor_every_seconds: u32,
}

impl WorkerConfig {
    /// The largest slot: the scheduler runs at least hourly.
    pub const MAX_TICK_SECONDS: u32 = 3600;
    /// The longest sync and retention interval: 30 days.
    pub const MAX_INTERVAL_SECONDS: u32 = 30 * 24 * 3600;
    /// The longest validate and monitor interval: one day (AUTH-2's freshness window).
    pub const MAX_DAILY_SECONDS: u32 = 24 * 3600;
}

impl Default for WorkerConfig {
    fn default() -> Self {
        Self {
            tick_seconds: 300,
            sync_every_seconds: 3600,
            validate_every_seconds: 6 * 3600,
            retention_every_seconds: 24 * 3600,
            monitor_every_seconds: 900,
        }
    }
}

/// How rights requests are served (`[rights]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RightsConfig {
    /// Records per page of an export (RGT-1): each page is read, counted in the audit trail and sent before
    /// the next is read, so a streamed export holds about one page. Default 1000; 1 ..= 10000.
    pub export_page: u32,
}

impl RightsConfig {
    /// The largest export page.
    pub const MAX_EXPORT_PAGE: u32 = 10_000;
}

impl Default for RightsConfig {
    fn default() -> Self {
        Self { export_page: 1_000 }
    }
}

/// Where alerts go besides the structured log.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NotifierConfig {
    pub webhook_url: Option<String>,
}

impl Config {
    /// Reads `file` (if given) and applies `env` overrides (the process environment, passed in so tests
    /// control it; only `CUSTODIAN_*` keys are looked at).
    pub fn load(file: Option<&Path>, env: &BTreeMap<String, String>) -> Result<Self, ConfigError> {
        let raw = match file {
            None => raw::RawConfig::default(),
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|source| ConfigError::Read { path: path.to_owned(), source })?;
                raw::parse(&text).map_err(|message| ConfigError::Parse { path: path.to_owned(), message })?
            }
        };
        let given = file.is_some() || env.keys().any(|k| k.starts_with("CUSTODIAN_"));
        let mut config = raw::resolve(raw, env)?;
        config.source = if given { Source::Given } else { Source::Defaults };
        config.check_urls()?;
        Ok(config)
    }

    /// The embedded development defaults (what [`Config::load`] gives with no file and no environment).
    pub fn defaults() -> Result<Self, ConfigError> {
        Self::load(None, &BTreeMap::new())
    }

    /// Every unsafe setting for this environment (ENV-1). Production refuses to start when this is not
    /// empty; other environments log them as warnings.
    pub fn violations(&self) -> Vec<String> {
        let mut found = Vec::new();
        if self.source == Source::Defaults {
            found.push("running on the embedded development defaults: give a configuration".to_owned());
        }
        if let SecretsConfig::Keystore { master: MasterKeySource::Generated, .. } = &self.secrets {
            found.push(
                "the keystore master key is generated locally: set `CUSTODIAN_MASTER_KEY` or use vault"
                    .to_owned(),
            );
        }
        if !self.security.mfa_required {
            found.push("mfa is disabled (`security.mfa_required = false`)".to_owned());
        }
        if self.outbound.allow_plain_http_loopback {
            found.push("plain http to loopback is enabled (`outbound.allow_plain_http_loopback`)".to_owned());
        }
        if self.public_url.starts_with("http://") && !is_loopback_url(&self.public_url) {
            found.push(format!("the public url `{}` is plain http to a non-loopback host", self.public_url));
        }
        found
    }

    /// [`Self::violations`] that stop this environment from starting: all of them in production, none
    /// elsewhere.
    pub fn blocking_violations(&self) -> Vec<String> {
        if self.environment == Environment::Production { self.violations() } else { Vec::new() }
    }

    /// TLS-1: every outbound URL is https, or plain http to loopback when that is allowed.
    fn check_urls(&self) -> Result<(), ConfigError> {
        let allow = self.outbound.allow_plain_http_loopback;
        let mut urls: Vec<(String, &str)> = Vec::new();
        for (platform, settings) in &self.platforms {
            for (name, url) in &settings.base_urls {
                urls.push((format!("platforms.{platform}.base_urls.{name}"), url));
            }
        }
        if let SecretsConfig::Vault { address, .. } = &self.secrets {
            urls.push(("secrets.address".to_owned(), address));
        }
        if let Some(url) = &self.notifier.webhook_url {
            urls.push(("notifier.webhook_url".to_owned(), url));
        }
        for (key, url) in urls {
            check_outbound(&key, url, allow)?;
        }
        check_scheme("public_url", &self.public_url)?;
        Ok(())
    }
}

fn check_scheme(key: &str, url: &str) -> Result<(), ConfigError> {
    if url.starts_with("https://") || url.starts_with("http://") {
        Ok(())
    } else {
        Err(ConfigError::invalid(key, "must be an http or https url"))
    }
}

fn check_outbound(key: &str, url: &str, allow_plain_loopback: bool) -> Result<(), ConfigError> {
    check_scheme(key, url)?;
    if url.starts_with("https://") {
        return Ok(());
    }
    if !is_loopback_url(url) {
        return Err(ConfigError::invalid(key, "plain http is allowed only to loopback addresses (TLS-1)"));
    }
    if !allow_plain_loopback {
        return Err(ConfigError::invalid(
            key,
            "plain http to loopback needs `outbound.allow_plain_http_loopback = true` (TLS-1)",
        ));
    }
    Ok(())
}

/// Whether `url`'s host is a literal loopback address or `localhost`.
fn is_loopback_url(url: &str) -> bool {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.contains('@') {
        return false;
    }
    let host = if let Some(bracketed) = authority.strip_prefix('[') {
        bracketed.split(']').next().unwrap_or_default()
    } else {
        authority.rsplit_once(':').map_or(authority, |(host, _)| host)
    };
    host == "localhost" || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// The environment variable prefix of `platform`'s settings (`CUSTODIAN_TIKTOK_SHOP_`).
fn env_prefix(platform: Platform) -> String {
    format!("CUSTODIAN_{}_", platform.as_str().to_uppercase().replace('-', "_"))
}

/// A deserializable wrapper for secrets in the file.
#[derive(Deserialize)]
#[serde(transparent)]
struct FileSecret(String);

impl fmt::Debug for FileSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[REDACTED]")
    }
}

impl From<FileSecret> for SecretString {
    fn from(value: FileSecret) -> Self {
        SecretString::from(value.0)
    }
}
