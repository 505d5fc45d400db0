//! The file's shape (every key optional, unknown keys refused) and its resolution with the environment into
//! a [`Config`].

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;

use custodian_core::authz::Environment;
use custodian_core::platform::Platform;
use secrecy::{ExposeSecret as _, SecretString};
use serde::Deserialize;

use super::{
    Config, ConfigError, DEFAULT_DATA_DIR, DEFAULT_LISTEN, FileSecret, MasterKeySource, NotifierConfig,
    OutboundConfig, PlatformConfig, RightsConfig, SecretsConfig, SecurityConfig, Source, StoreConfig,
    WorkerConfig, env_prefix,
};

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawConfig {
    environment: Option<String>,
    listen: Option<String>,
    public_url: Option<String>,
    data_dir: Option<PathBuf>,
    store: Option<RawStore>,
    secrets: Option<RawSecrets>,
    #[serde(default)]
    security: RawSecurity,
    #[serde(default)]
    outbound: RawOutbound,
    #[serde(default)]
    platforms: BTreeMap<String, RawPlatform>,
    #[serde(default)]
    notifier: RawNotifier,
    #[serde(default)]
    worker: RawWorker,
    #[serde(default)]
    rights: RawRights,
}

#[derive(Debug, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
enum RawStore {
    Sqlite { path: Option<PathBuf> },
    Postgres { url: Option<FileSecret>, max_connections: Option<u32> },
}

#[derive(Debug, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
enum RawSecrets {
    Keystore { path: Option<PathBuf> },
    Vault { address: Option<String>, role_id: Option<String>, ca_pem: Option<PathBuf> },
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSecurity {
    mfa_required: Option<bool>,
    session_ttl_minutes: Option<u32>,
    lockout_after: Option<u32>,
    lockout_minutes: Option<u32>,
    max_body_bytes: Option<usize>,
    request_timeout_secs: Option<u32>,
    metrics_token: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOutbound {
    allow_plain_http_loopback: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPlatform {
    client_id: Option<String>,
    client_secret: Option<FileSecret>,
    webhook_secret: Option<FileSecret>,
    #[serde(default)]
    base_urls: BTreeMap<String, String>,
    service_id: Option<String>,
    application_id: Option<String>,
    ru_name: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNotifier {
    webhook_url: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWorker {
    tick_seconds: Option<u32>,
    sync_every_seconds: Option<u32>,
    validate_every_seconds: Option<u32>,
    retention_every_seconds: Option<u32>,
    monitor_every_seconds: Option<u32>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRights {
    export_page: Option<u32>,
}

/// Parses the TOML text; the error names the line and key, not the values.
pub(super) fn parse(text: &str) -> Result<RawConfig, String> {
    toml::from_str(text).map_err(|error| {
        // toml's message quotes the offending source line, which may hold a secret: keep its first line
        // (what is wrong and where) only.
        error.message().lines().next().unwrap_or("invalid toml").to_owned()
    })
}

fn var<'a>(env: &'a BTreeMap<String, String>, key: &str) -> Option<&'a str> {
    env.get(key).map(String::as_str).filter(|v| !v.is_empty())
}

fn flag(env: &BTreeMap<String, String>, key: &str) -> Result<Option<bool>, ConfigError> {
    match var(env, key) {
        None => Ok(None),
        Some("true" | "1" | "yes") => Ok(Some(true)),
        Some("false" | "0" | "no") => Ok(Some(false)),
        Some(_) => Err(ConfigError::invalid(key, "expected `true` or `false`")),
    }
}

/// Shortest metrics token accepted.
const MIN_METRICS_TOKEN_CHARS: usize = 16;

fn metrics_token(token: Option<SecretString>) -> Result<Option<SecretString>, ConfigError> {
    match token {
        Some(t) if t.expose_secret().trim().chars().count() < MIN_METRICS_TOKEN_CHARS => {
            Err(ConfigError::invalid(
                "security.metrics_token",
                format!("must be at least {MIN_METRICS_TOKEN_CHARS} characters"),
            ))
        }
        other => Ok(other),
    }
}

fn secret(env: &BTreeMap<String, String>, key: &str) -> Option<SecretString> {
    var(env, key).map(|v| SecretString::from(v.to_owned()))
}

fn nonzero(key: &str, value: u32) -> Result<u32, ConfigError> {
    if value == 0 { Err(ConfigError::invalid(key, "must be at least 1")) } else { Ok(value) }
}

/// `value` (or `default`) within `1 ..= max`.
fn bounded(key: &str, value: Option<u32>, default: u32, max: u32) -> Result<u32, ConfigError> {
    let value = nonzero(key, value.unwrap_or(default))?;
    if value > max { Err(ConfigError::invalid(key, format!("must be at most {max}"))) } else { Ok(value) }
}

fn resolve_worker(raw: RawWorker) -> Result<WorkerConfig, ConfigError> {
    let d = WorkerConfig::default();
    let long = WorkerConfig::MAX_INTERVAL_SECONDS;
    let daily = WorkerConfig::MAX_DAILY_SECONDS;
    Ok(WorkerConfig {
        tick_seconds: bounded(
            "worker.tick_seconds",
            raw.tick_seconds,
            d.tick_seconds,
            WorkerConfig::MAX_TICK_SECONDS,
        )?,
        sync_every_seconds: bounded(
            "worker.sync_every_seconds",
            raw.sync_every_seconds,
            d.sync_every_seconds,
            long,
        )?,
        validate_every_seconds: bounded(
            "worker.validate_every_seconds",
            raw.validate_every_seconds,
            d.validate_every_seconds,
            daily,
        )?,
        retention_every_seconds: bounded(
            "worker.retention_every_seconds",
            raw.retention_every_seconds,
            d.retention_every_seconds,
            long,
        )?,
        monitor_every_seconds: bounded(
            "worker.monitor_every_seconds",
            raw.monitor_every_seconds,
            d.monitor_every_seconds,
            daily,
        )?,
    })
}

fn resolve_rights(raw: RawRights) -> Result<RightsConfig, ConfigError> {
    let d = RightsConfig::default();
    Ok(RightsConfig {
        export_page: bounded(
            "rights.export_page",
            raw.export_page,
            d.export_page,
            RightsConfig::MAX_EXPORT_PAGE,
        )?,
    })
}

/// Applies the environment over the file and fills in defaults.
pub(super) fn resolve(raw: RawConfig, env: &BTreeMap<String, String>) -> Result<Config, ConfigError> {
    let environment_text = var(env, "CUSTODIAN_ENVIRONMENT").or(raw.environment.as_deref());
    let environment = match environment_text {
        None => Environment::Development,
        Some(text) => text.parse::<Environment>().map_err(|_| {
            ConfigError::invalid("environment", "expected development, staging or production")
        })?,
    };

    let listen_text = var(env, "CUSTODIAN_LISTEN").or(raw.listen.as_deref()).unwrap_or(DEFAULT_LISTEN);
    let listen: SocketAddr = listen_text
        .parse()
        .map_err(|_| ConfigError::invalid("listen", format!("`{listen_text}` is not a socket address")))?;

    let public_url = var(env, "CUSTODIAN_PUBLIC_URL")
        .map(str::to_owned)
        .or(raw.public_url)
        .unwrap_or_else(|| format!("http://{listen}"))
        .trim_end_matches('/')
        .to_owned();

    let data_dir = var(env, "CUSTODIAN_DATA_DIR")
        .map(PathBuf::from)
        .or(raw.data_dir)
        .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR));

    let store = match (secret(env, "CUSTODIAN_DATABASE_URL"), raw.store) {
        (Some(url), raw_store) => {
            let max_connections = match raw_store {
                Some(RawStore::Postgres { max_connections, .. }) => max_connections,
                _ => None,
            };
            StoreConfig::Postgres {
                url,
                max_connections: nonzero("store.max_connections", max_connections.unwrap_or(16))?,
            }
        }
        (None, Some(RawStore::Postgres { url, max_connections })) => StoreConfig::Postgres {
            url: url.map(SecretString::from).ok_or_else(|| {
                ConfigError::invalid("store.url", "postgres needs a url (or CUSTODIAN_DATABASE_URL)")
            })?,
            max_connections: nonzero("store.max_connections", max_connections.unwrap_or(16))?,
        },
        (None, Some(RawStore::Sqlite { path })) => {
            StoreConfig::Sqlite { path: path.unwrap_or_else(|| data_dir.join("custodian.db")) }
        }
        (None, None) => StoreConfig::Sqlite { path: data_dir.join("custodian.db") },
    };

    let secrets = resolve_secrets(raw.secrets, env, &data_dir)?;

    let defaults = SecurityConfig::default();
    let security = SecurityConfig {
        mfa_required: flag(env, "CUSTODIAN_MFA_REQUIRED")?
            .or(raw.security.mfa_required)
            .unwrap_or(defaults.mfa_required),
        session_ttl_minutes: nonzero(
            "security.session_ttl_minutes",
            raw.security.session_ttl_minutes.unwrap_or(defaults.session_ttl_minutes),
        )?,
        lockout_after: nonzero(
            "security.lockout_after",
            raw.security.lockout_after.unwrap_or(defaults.lockout_after),
        )?,
        lockout_minutes: nonzero(
            "security.lockout_minutes",
            raw.security.lockout_minutes.unwrap_or(defaults.lockout_minutes),
        )?,
        max_body_bytes: raw.security.max_body_bytes.unwrap_or(defaults.max_body_bytes),
        request_timeout_secs: nonzero(
            "security.request_timeout_secs",
            raw.security.request_timeout_secs.unwrap_or(defaults.request_timeout_secs),
        )?,
        metrics_token: metrics_token(
            secret(env, "CUSTODIAN_METRICS_TOKEN").or(raw.security.metrics_token.map(SecretString::from)),
        )?,
    };

    let outbound = OutboundConfig {
        allow_plain_http_loopback: flag(env, "CUSTODIAN_ALLOW_PLAIN_HTTP_LOOPBACK")?
            .or(raw.outbound.allow_plain_http_loopback)
            .unwrap_or(false),
    };

    let platforms = resolve_platforms(raw.platforms, env)?;

    let notifier = NotifierConfig {
        webhook_url: var(env, "CUSTODIAN_NOTIFY_WEBHOOK_URL").map(str::to_owned).or(raw.notifier.webhook_url),
    };

    let worker = resolve_worker(raw.worker)?;
    let rights = resolve_rights(raw.rights)?;

    Ok(Config {
        environment,
        listen,
        public_url,
        data_dir,
        store,
        secrets,
        security,
        outbound,
        platforms,
        notifier,
        worker,
        rights,
        source: Source::Given,
    })
}

fn resolve_secrets(
    raw: Option<RawSecrets>,
    env: &BTreeMap<String, String>,
    data_dir: &std::path::Path,
) -> Result<SecretsConfig, ConfigError> {
    let vault_addr = var(env, "CUSTODIAN_VAULT_ADDR").map(str::to_owned);
    let (file_vault, keystore_path) = match raw {
        Some(RawSecrets::Vault { address, role_id, ca_pem }) => (Some((address, role_id, ca_pem)), None),
        Some(RawSecrets::Keystore { path }) => (None, path),
        None => (None, None),
    };
    if vault_addr.is_some() || file_vault.is_some() {
        let (file_address, file_role, ca_pem) = file_vault.unwrap_or_default();
        let address = vault_addr
            .or(file_address)
            .ok_or_else(|| ConfigError::invalid("secrets.address", "vault needs an address"))?;
        let role_id = var(env, "CUSTODIAN_VAULT_ROLE_ID")
            .map(str::to_owned)
            .or(file_role)
            .ok_or_else(|| ConfigError::invalid("secrets.role_id", "vault needs an approle role id"))?;
        let secret_id = secret(env, "CUSTODIAN_VAULT_SECRET_ID").ok_or_else(|| {
            ConfigError::invalid(
                "CUSTODIAN_VAULT_SECRET_ID",
                "vault needs the approle secret id in the environment",
            )
        })?;
        return Ok(SecretsConfig::Vault { address, role_id, secret_id, ca_pem });
    }
    let master = match (secret(env, "CUSTODIAN_MASTER_KEY"), secret(env, "CUSTODIAN_KEYSTORE_PASSPHRASE")) {
        (Some(_), Some(_)) => {
            return Err(ConfigError::invalid(
                "CUSTODIAN_MASTER_KEY",
                "give either a master key or a keystore passphrase, not both",
            ));
        }
        (Some(key), None) => MasterKeySource::Key(key),
        (None, Some(passphrase)) => MasterKeySource::Passphrase(passphrase),
        (None, None) => MasterKeySource::Generated,
    };
    Ok(SecretsConfig::Keystore {
        path: keystore_path.unwrap_or_else(|| data_dir.join("keystore.sealed")),
        master,
    })
}

fn resolve_platforms(
    raw: BTreeMap<String, RawPlatform>,
    env: &BTreeMap<String, String>,
) -> Result<BTreeMap<Platform, PlatformConfig>, ConfigError> {
    let mut by_platform: BTreeMap<Platform, RawPlatform> = BTreeMap::new();
    for (name, settings) in raw {
        let platform = name
            .parse::<Platform>()
            .map_err(|_| ConfigError::invalid(format!("platforms.{name}"), "unknown platform"))?;
        by_platform.insert(platform, settings);
    }
    let mut platforms = BTreeMap::new();
    for platform in Platform::ALL {
        let prefix = env_prefix(platform);
        let key = |suffix: &str| format!("{prefix}{suffix}");
        let mut settings = by_platform.remove(&platform).unwrap_or_default();
        if let Some(url) = var(env, &key("BASE_URL")) {
            settings.base_urls.insert("api".to_owned(), url.to_owned());
        }
        let client_id = var(env, &key("CLIENT_ID")).map(str::to_owned).or(settings.client_id);
        let client_secret =
            secret(env, &key("CLIENT_SECRET")).or(settings.client_secret.map(SecretString::from));
        let webhook_secret =
            secret(env, &key("WEBHOOK_SECRET")).or(settings.webhook_secret.map(SecretString::from));
        let service_id = app_field(env, platform, "service_id", Platform::TikTokShop, settings.service_id)?;
        let application_id =
            app_field(env, platform, "application_id", Platform::Amazon, settings.application_id)?;
        let ru_name = app_field(env, platform, "ru_name", Platform::Ebay, settings.ru_name)?;
        let has_ids = service_id.is_some() || application_id.is_some() || ru_name.is_some();
        match (client_id, client_secret) {
            (None, None) if settings.base_urls.is_empty() && webhook_secret.is_none() && !has_ids => {}
            (Some(client_id), Some(client_secret)) if !client_id.trim().is_empty() => {
                platforms.insert(
                    platform,
                    PlatformConfig {
                        client_id,
                        client_secret,
                        webhook_secret,
                        base_urls: settings.base_urls,
                        service_id,
                        application_id,
                        ru_name,
                    },
                );
            }
            _ => {
                return Err(ConfigError::invalid(
                    format!("platforms.{platform}"),
                    format!(
                        "needs both `client_id` and `client_secret` (or {prefix}CLIENT_ID and {prefix}CLIENT_SECRET)"
                    ),
                ));
            }
        }
    }
    Ok(platforms)
}

/// A platform-only app id (`field` of `owner`): `CUSTODIAN_<P>_<FIELD>` over the file; refused, from either,
/// on any other platform, and refused blank.
fn app_field(
    env: &BTreeMap<String, String>,
    platform: Platform,
    field: &str,
    owner: Platform,
    file: Option<String>,
) -> Result<Option<String>, ConfigError> {
    let env_key = format!("{}{}", env_prefix(platform), field.to_uppercase());
    let value = var(env, &env_key).map(str::to_owned).or(file);
    let key = format!("platforms.{platform}.{field}");
    match value {
        None => Ok(None),
        Some(_) if platform != owner => {
            Err(ConfigError::invalid(key, format!("only {owner} has a `{field}`")))
        }
        Some(value) if value.trim().is_empty() => Err(ConfigError::invalid(key, "must not be blank")),
        Some(value) => Ok(Some(value.trim().to_owned())),
    }
}
