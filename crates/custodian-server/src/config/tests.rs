//! Configuration: defaults, file and environment precedence, TLS-1 on outbound URLs, ENV-1 violations,
//! and secrets kept out of `Debug` and error messages.

use std::collections::BTreeMap;

use custodian_core::authz::Environment;
use custodian_core::platform::Platform;
use secrecy::ExposeSecret as _;

use super::*;

fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}

fn file(text: &str) -> tempfile_like::TempFile {
    tempfile_like::TempFile::new(text)
}

/// A file removed on drop (no tempfile dependency for one test helper).
mod tempfile_like {
    use std::path::{Path, PathBuf};
    use std::sync::atomic::{AtomicU32, Ordering};

    static NEXT: AtomicU32 = AtomicU32::new(0);

    pub(super) struct TempFile(PathBuf);

    impl TempFile {
        pub(super) fn new(text: &str) -> Self {
            let n = NEXT.fetch_add(1, Ordering::Relaxed);
            let path = std::env::temp_dir().join(format!("custodian-config-{}-{n}.toml", std::process::id()));
            let mut f = std::fs::File::create(&path).unwrap();
            std::io::Write::write_all(&mut f, text.as_bytes()).unwrap();
            Self(path)
        }

        pub(super) fn path(&self) -> &Path {
            &self.0
        }
    }

    impl Drop for TempFile {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }
}

fn load(text: Option<&str>, vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let f = text.map(file);
    Config::load(f.as_ref().map(|f| f.path()), &env(vars))
}

#[track_caller]
fn check_err(text: Option<&str>, vars: &[(&str, &str)], expected: &str) {
    let error = load(text, vars).expect_err("the configuration must be refused").to_string();
    assert!(error.contains(expected), "`{error}` does not contain `{expected}`");
}

#[test]
fn no_configuration_gives_the_embedded_development_defaults() {
    let config = Config::defaults().unwrap();
    assert_eq!(config.environment, Environment::Development);
    assert_eq!(config.listen.to_string(), "127.0.0.1:8080");
    assert_eq!(config.public_url, "http://127.0.0.1:8080");
    assert_eq!(config.source, Source::Defaults);
    assert!(
        matches!(&config.store, StoreConfig::Sqlite { path } if path.ends_with("custodian-data/custodian.db"))
    );
    assert!(matches!(
        &config.secrets,
        SecretsConfig::Keystore { master: MasterKeySource::Generated, path } if path.ends_with("keystore.sealed")
    ));
    assert!(config.security.mfa_required);
    assert!(!config.outbound.allow_plain_http_loopback);
    assert!(config.platforms.is_empty());
    assert!(config.blocking_violations().is_empty(), "development starts on defaults");
    assert_eq!(config.violations().len(), 2, "{:?}", config.violations());
}

#[test]
fn the_environment_overrides_the_file() {
    let text = r#"
        environment = "staging"
        listen = "127.0.0.1:9000"
        [store]
        kind = "sqlite"
        path = "/var/lib/custodian/db.sqlite"
        [security]
        session_ttl_minutes = 60
        [platforms.meta]
        client_id = "file-app"
        client_secret = "file-secret"
        base_urls = { graph = "https://graph.example" }
    "#;
    let config = load(
        Some(text),
        &[
            ("CUSTODIAN_LISTEN", "127.0.0.1:9001"),
            ("CUSTODIAN_DATABASE_URL", "postgres://app:pw@db.internal/custodian"),
            ("CUSTODIAN_META_CLIENT_ID", "env-app"),
            ("UNRELATED", "x"),
        ],
    )
    .unwrap();
    assert_eq!(config.environment, Environment::Staging);
    assert_eq!(config.listen.to_string(), "127.0.0.1:9001");
    assert_eq!(config.security.session_ttl_minutes, 60);
    match &config.store {
        StoreConfig::Postgres { url, max_connections } => {
            assert_eq!(url.expose_secret(), "postgres://app:pw@db.internal/custodian");
            assert_eq!(*max_connections, 16);
        }
        other => panic!("expected postgres, got {other:?}"),
    }
    let meta = config.platforms.get(&Platform::Meta).unwrap();
    assert_eq!(meta.client_id, "env-app");
    assert_eq!(meta.client_secret.expose_secret(), "file-secret");
    assert_eq!(meta.base_urls.get("graph").map(String::as_str), Some("https://graph.example"));
    assert_eq!(config.source, Source::Given);
}

#[test]
fn vault_comes_from_the_environment_with_its_secret_id() {
    let config = load(
        None,
        &[
            ("CUSTODIAN_VAULT_ADDR", "https://vault.internal:8200"),
            ("CUSTODIAN_VAULT_ROLE_ID", "role"),
            ("CUSTODIAN_VAULT_SECRET_ID", "s.very-secret"),
        ],
    )
    .unwrap();
    assert!(matches!(&config.secrets, SecretsConfig::Vault { address, role_id, .. }
        if address == "https://vault.internal:8200" && role_id == "role"));
    check_err(
        None,
        &[("CUSTODIAN_VAULT_ADDR", "https://v"), ("CUSTODIAN_VAULT_ROLE_ID", "r")],
        "CUSTODIAN_VAULT_SECRET_ID",
    );
}

#[test]
fn bad_input_is_refused_with_the_key_named() {
    check_err(Some("environment = \"prod\""), &[], "`environment`");
    check_err(Some("listen = \"localhost\""), &[], "`listen`");
    check_err(Some("lissten = \"127.0.0.1:1\""), &[], "unknown field `lissten`");
    check_err(Some("[security]\nmfa = false"), &[], "unknown field `mfa`");
    check_err(Some("[store]\nkind = \"mysql\""), &[], "unknown variant `mysql`");
    check_err(Some("[store]\nkind = \"postgres\""), &[], "`store.url`");
    check_err(Some("[security]\nlockout_after = 0"), &[], "`security.lockout_after`");
    check_err(Some("[platforms.myspace]\nclient_id = \"a\""), &[], "`platforms.myspace`");
    check_err(Some("[platforms.ebay]\nclient_id = \"a\""), &[], "`platforms.ebay`");
    check_err(None, &[("CUSTODIAN_MFA_REQUIRED", "maybe")], "`CUSTODIAN_MFA_REQUIRED`");
    check_err(None, &[("CUSTODIAN_MASTER_KEY", "a"), ("CUSTODIAN_KEYSTORE_PASSPHRASE", "b")], "not both");
    check_err(Some("not toml at all ="), &[], "configuration file");
}

#[test]
fn outbound_urls_are_https_or_loopback_when_allowed_tls_1() {
    let platform = |url: &str| {
        format!(
            "[platforms.meta]\nclient_id = \"a\"\nclient_secret = \"b\"\nbase_urls = {{ graph = \"{url}\" }}\n"
        )
    };
    assert!(load(Some(&platform("https://graph.facebook.com")), &[]).is_ok());
    check_err(Some(&platform("http://graph.facebook.com")), &[], "only to loopback");
    check_err(Some(&platform("http://127.0.0.1:9999/meta")), &[], "allow_plain_http_loopback");
    check_err(Some(&platform("ftp://127.0.0.1")), &[], "http or https");
    let allowed =
        format!("[outbound]\nallow_plain_http_loopback = true\n{}", platform("http://127.0.0.1:9999/meta"));
    assert!(load(Some(&allowed), &[]).is_ok());
    let sneaky = format!(
        "[outbound]\nallow_plain_http_loopback = true\n{}",
        platform("http://127.0.0.1@evil.example/")
    );
    check_err(Some(&sneaky), &[], "only to loopback");
    check_err(None, &[("CUSTODIAN_NOTIFY_WEBHOOK_URL", "http://hooks.example/x")], "`notifier.webhook_url`");
}

#[test]
fn production_refuses_development_defaults_env_1() {
    // Every unsafe setting at once: each is named.
    let config = load(
        Some("[security]\nmfa_required = false\n[outbound]\nallow_plain_http_loopback = true"),
        &[("CUSTODIAN_ENVIRONMENT", "production"), ("CUSTODIAN_PUBLIC_URL", "http://custodian.example.com")],
    )
    .unwrap();
    let violations = config.blocking_violations().join("\n");
    for expected in ["master key is generated", "mfa is disabled", "plain http to loopback", "public url"] {
        assert!(violations.contains(expected), "{violations}");
    }
    // A safe production configuration has none.
    let config = load(
        None,
        &[
            ("CUSTODIAN_ENVIRONMENT", "production"),
            ("CUSTODIAN_PUBLIC_URL", "https://custodian.example.com"),
            ("CUSTODIAN_MASTER_KEY", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="),
        ],
    )
    .unwrap();
    assert_eq!(config.blocking_violations(), Vec::<String>::new());
    // Development and staging report the same findings but are not blocked by them.
    let config =
        load(Some("[security]\nmfa_required = false"), &[("CUSTODIAN_ENVIRONMENT", "staging")]).unwrap();
    assert!(!config.violations().is_empty());
    assert!(config.blocking_violations().is_empty());
}

#[test]
fn secrets_never_show_in_debug_or_errors() {
    let config = load(
        Some("[platforms.amazon]\nclient_id = \"amzn1.app\"\nclient_secret = \"file-secret-value\""),
        &[
            ("CUSTODIAN_DATABASE_URL", "postgres://u:db-password-value@h/d"),
            ("CUSTODIAN_KEYSTORE_PASSPHRASE", "passphrase-value-123"),
            ("CUSTODIAN_AMAZON_WEBHOOK_SECRET", "webhook-secret-value"),
        ],
    )
    .unwrap();
    let debug = format!("{config:?}");
    for secret in ["file-secret-value", "db-password-value", "passphrase-value-123", "webhook-secret-value"] {
        assert!(!debug.contains(secret), "`{secret}` leaked into {debug}");
    }
    assert!(debug.contains("amzn1.app"), "non-secret settings stay visible");
    // A parse error near a secret does not quote the line.
    let error = load(Some("[platforms.meta]\nclient_secret = \"leaky-secret\" trailing"), &[])
        .unwrap_err()
        .to_string();
    assert!(!error.contains("leaky-secret"), "{error}");
}

#[test]
fn platform_app_ids_come_from_the_file_or_the_environment() {
    let text = r#"
        [platforms.tiktok-shop]
        client_id = "shop-key"
        client_secret = "shop-secret"
        service_id = "7310000000000000001"
        [platforms.amazon]
        client_id = "amzn1.application-oa2-client.x"
        client_secret = "lwa-secret"
        application_id = "amzn1.sp.solution.file"
        [platforms.ebay]
        client_id = "ebay-app"
        client_secret = "ebay-cert"
    "#;
    let config = load(
        Some(text),
        &[
            ("CUSTODIAN_AMAZON_APPLICATION_ID", "amzn1.sp.solution.env"),
            ("CUSTODIAN_EBAY_RU_NAME", "Custodian-Custodia-Prod-abcde"),
        ],
    )
    .unwrap();
    let shop = &config.platforms[&Platform::TikTokShop];
    assert_eq!(shop.service_id.as_deref(), Some("7310000000000000001"));
    assert_eq!((shop.application_id.as_deref(), shop.ru_name.as_deref()), (None, None));
    let amazon = &config.platforms[&Platform::Amazon];
    assert_eq!(amazon.application_id.as_deref(), Some("amzn1.sp.solution.env"));
    let ebay = &config.platforms[&Platform::Ebay];
    assert_eq!(ebay.ru_name.as_deref(), Some("Custodian-Custodia-Prod-abcde"));
    assert_eq!(ebay.service_id, None);
    // Not configured: absent (the runtime lets the client id stand in, with a warning).
    let only_env =
        load(None, &[("CUSTODIAN_TIKTOK_SHOP_CLIENT_ID", "k"), ("CUSTODIAN_TIKTOK_SHOP_CLIENT_SECRET", "s")])
            .unwrap();
    assert_eq!(only_env.platforms[&Platform::TikTokShop].service_id, None);
}

#[test]
fn platform_app_ids_are_refused_on_other_platforms_and_blank() {
    check_err(
        Some("[platforms.meta]\nclient_id = \"a\"\nclient_secret = \"b\"\nru_name = \"x\""),
        &[],
        "`platforms.meta.ru_name`: only ebay has a `ru_name`",
    );
    check_err(
        None,
        &[
            ("CUSTODIAN_EBAY_CLIENT_ID", "a"),
            ("CUSTODIAN_EBAY_CLIENT_SECRET", "b"),
            ("CUSTODIAN_EBAY_SERVICE_ID", "x"),
        ],
        "`platforms.ebay.service_id`: only tiktok-shop has a `service_id`",
    );
    check_err(
        Some("[platforms.amazon]\nclient_id = \"a\"\nclient_secret = \"b\"\napplication_id = \" \""),
        &[],
        "`platforms.amazon.application_id`: must not be blank",
    );
    // An app id without the client credentials still needs them.
    check_err(None, &[("CUSTODIAN_EBAY_RU_NAME", "x")], "`platforms.ebay`: needs both");
}

#[test]
fn the_worker_schedule_defaults_to_the_worker_settings_defaults() {
    let config = Config::defaults().unwrap();
    assert_eq!(config.worker, WorkerConfig::default());
    assert_eq!(config.worker.tick_seconds, 300);
    let settings = crate::runtime::worker_settings(&config);
    let defaults = crate::worker::WorkerSettings::default();
    assert_eq!(settings.tick, defaults.tick);
    assert_eq!(settings.sync_every, defaults.sync_every);
    assert_eq!(settings.validate_every, defaults.validate_every);
    assert_eq!(settings.retention_every, defaults.retention_every);
    assert_eq!(settings.monitor_every, defaults.monitor_every);
}

#[test]
fn the_worker_schedule_comes_from_the_file_and_reaches_the_worker_settings() {
    let text = r#"
        [worker]
        tick_seconds = 1
        sync_every_seconds = 2
        validate_every_seconds = 3
        retention_every_seconds = 4
        monitor_every_seconds = 5
    "#;
    let config = load(Some(text), &[]).unwrap();
    assert_eq!(
        config.worker,
        WorkerConfig {
            tick_seconds: 1,
            sync_every_seconds: 2,
            validate_every_seconds: 3,
            retention_every_seconds: 4,
            monitor_every_seconds: 5,
        }
    );
    let settings = crate::runtime::worker_settings(&config);
    assert_eq!(settings.tick, time::Duration::seconds(1));
    assert_eq!(settings.sync_every, time::Duration::seconds(2));
    assert_eq!(settings.validate_every, time::Duration::seconds(3));
    assert_eq!(settings.retention_every, time::Duration::seconds(4));
    assert_eq!(settings.monitor_every, time::Duration::seconds(5));
    // What the file leaves out keeps its default.
    let config = load(Some("[worker]\ntick_seconds = 3600\n"), &[]).unwrap();
    assert_eq!(config.worker, WorkerConfig { tick_seconds: 3600, ..WorkerConfig::default() });
}

#[test]
fn the_worker_schedule_is_refused_out_of_bounds() {
    check_err(Some("[worker]\ntick_seconds = 0\n"), &[], "`worker.tick_seconds`: must be at least 1");
    check_err(Some("[worker]\ntick_seconds = 3601\n"), &[], "`worker.tick_seconds`: must be at most 3600");
    check_err(
        Some("[worker]\nsync_every_seconds = 0\n"),
        &[],
        "`worker.sync_every_seconds`: must be at least 1",
    );
    check_err(
        Some("[worker]\nsync_every_seconds = 2592001\n"),
        &[],
        "`worker.sync_every_seconds`: must be at most 2592000",
    );
    // AUTH-2: token health at least daily.
    check_err(
        Some("[worker]\nvalidate_every_seconds = 86401\n"),
        &[],
        "`worker.validate_every_seconds`: must be at most 86400",
    );
    check_err(Some("[worker]\nretention_every_seconds = 0\n"), &[], "`worker.retention_every_seconds`");
    check_err(Some("[worker]\nmonitor_every_seconds = 86401\n"), &[], "`worker.monitor_every_seconds`");
    // Not a number, negative, unknown keys: refused by the parser.
    check_err(Some("[worker]\ntick_seconds = \"soon\"\n"), &[], "expected u32");
    check_err(Some("[worker]\ntick_seconds = -1\n"), &[], "expected u32");
    check_err(Some("[worker]\ntick = 5\n"), &[], "unknown field `tick`");
}

#[test]
fn rgt_1_the_export_page_comes_from_the_file_reaches_the_policy_settings_and_is_bounded() {
    let config = Config::defaults().unwrap();
    assert_eq!(config.rights, RightsConfig::default());
    assert_eq!(
        crate::runtime::policy_settings(&config).export_page,
        custodian_core::service::Settings::new(Environment::Development).export_page
    );
    let config = load(Some("[rights]\nexport_page = 250\n"), &[]).unwrap();
    assert_eq!(config.rights, RightsConfig { export_page: 250 });
    let settings = crate::runtime::policy_settings(&config);
    assert_eq!(settings.export_page, 250);
    assert_eq!(settings.environment, Environment::Development);
    assert!(settings.mfa_required);
    let config = load(Some("[rights]\nexport_page = 10000\n"), &[]).unwrap();
    assert_eq!(config.rights.export_page, RightsConfig::MAX_EXPORT_PAGE);
    check_err(Some("[rights]\nexport_page = 0\n"), &[], "`rights.export_page`: must be at least 1");
    check_err(Some("[rights]\nexport_page = 10001\n"), &[], "`rights.export_page`: must be at most 10000");
    check_err(Some("[rights]\nexport_page = \"all\"\n"), &[], "expected u32");
    check_err(Some("[rights]\npage = 5\n"), &[], "unknown field `page`");
}

#[test]
fn a_metrics_token_comes_from_the_file_or_the_environment_and_must_be_long_enough() {
    let file = "[security]\nmetrics_token = \"file-token-0123456789\"\n";
    let config = load(Some(file), &[]).unwrap();
    assert_eq!(
        config.security.metrics_token.as_ref().map(|t| t.expose_secret().to_owned()).as_deref(),
        Some("file-token-0123456789")
    );
    let config = load(Some(file), &[("CUSTODIAN_METRICS_TOKEN", "env-token-0123456789")]).unwrap();
    assert_eq!(
        config.security.metrics_token.as_ref().map(|t| t.expose_secret().to_owned()).as_deref(),
        Some("env-token-0123456789")
    );
    assert!(!format!("{config:?}").contains("env-token-0123456789"), "the token must not be printed");
    assert!(load(None, &[]).unwrap().security.metrics_token.is_none());
    let short = load(None, &[("CUSTODIAN_METRICS_TOKEN", "short")]).unwrap_err();
    assert_eq!(short.to_string(), "`security.metrics_token`: must be at least 16 characters");
}
