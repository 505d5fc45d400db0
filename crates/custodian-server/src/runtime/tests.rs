//! Runtime wiring: the embedded defaults build and answer the health endpoints, a second start reopens the
//! same files, ENV-1 refuses production on development defaults (touching nothing), platform adapters are
//! built from the configuration, secrets stay out of `Debug`, and the notifier posts alerts.

use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use custodian_core::authz::Environment;
use custodian_core::monitor::{Alert, AlertKind, Severity};
use custodian_core::platform::{Platform, Task};
use custodian_core::ports::{ConsentRequest, Notification, Notifier, NotifyError};
use time::macros::datetime;
use tower::ServiceExt as _;

use super::*;
use crate::config::{MasterKeySource, SecretsConfig, StoreConfig};
use crate::runtime::platforms::{callback_path, ebay_notification_endpoint};
use custodian_core::grant::GrantId;
use custodian_core::tenant::TenantId;

/// A directory removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Self {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("custodian-runtime-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        Self(path)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The embedded defaults ([`Config::defaults`]) with their files under `dir` instead of the working
/// directory.
fn defaults_in(dir: &Path) -> Config {
    let mut config = Config::defaults().unwrap();
    assert_eq!(config.source, crate::config::Source::Defaults);
    config.data_dir = dir.to_owned();
    config.store = StoreConfig::Sqlite { path: dir.join("custodian.db") };
    config.secrets =
        SecretsConfig::Keystore { path: dir.join("keystore.sealed"), master: MasterKeySource::Generated };
    config
}

fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}

async fn get(router: &Router, path: &str) -> (StatusCode, String) {
    let response = router.clone().oneshot(Request::get(path).body(Body::empty()).unwrap()).await.unwrap();
    let status = response.status();
    let body = axum::body::to_bytes(response.into_body(), 1 << 20).await.unwrap();
    (status, String::from_utf8_lossy(&body).into_owned())
}

#[tokio::test]
async fn embedded_defaults_build_and_answer_health_and_readiness() {
    let dir = TempDir::new();
    let runtime = Runtime::build(defaults_in(dir.path())).await.unwrap();
    assert_eq!(runtime.state().settings().environment, Environment::Development);
    // Development logs the ENV-1 findings and carries them into the policy settings (they deny nothing
    // outside production).
    assert!(!runtime.state().settings().environment_violations.is_empty());
    assert!(runtime.state().deps().platforms.is_empty());
    let router = runtime.router();
    assert_eq!(get(&router, "/healthz").await.0, StatusCode::OK);
    let (status, body) = get(&router, "/readyz").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains("ready"), "{body}");

    // The files of the embedded default exist, the generated master key is private.
    for file in ["custodian.db", "keystore.sealed", GENERATED_MASTER_KEY_FILE] {
        assert!(dir.path().join(file).is_file(), "{file} is missing");
    }
    let mode = std::fs::metadata(dir.path().join(GENERATED_MASTER_KEY_FILE)).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    let key_before = std::fs::read(dir.path().join(GENERATED_MASTER_KEY_FILE)).unwrap();
    drop(router);
    runtime.close().await;

    // A second start reopens the same store, keystore and key (a new key would fail to open the keystore).
    let again = Runtime::build(defaults_in(dir.path())).await.unwrap();
    assert_eq!(get(&again.router(), "/readyz").await.0, StatusCode::OK);
    assert_eq!(std::fs::read(dir.path().join(GENERATED_MASTER_KEY_FILE)).unwrap(), key_before);
    again.close().await;
}

#[tokio::test]
async fn production_on_development_defaults_refuses_to_start_and_lists_every_violation() {
    let dir = TempDir::new();
    let mut config = defaults_in(dir.path());
    config.environment = Environment::Production;
    let error = Runtime::build(config).await.unwrap_err();
    let violations = error.violations().expect("a refusal").to_vec();
    assert_eq!(violations.len(), 2, "{violations:?}");
    assert!(violations[0].contains("embedded development defaults"), "{violations:?}");
    assert!(violations[1].contains("master key is generated"), "{violations:?}");
    let message = error.to_string();
    assert!(message.starts_with("refusing to start in production: "), "{message}");
    for v in &violations {
        assert!(message.contains(v.as_str()), "{message}");
    }
    // Refused before anything was created.
    assert!(!dir.path().exists());

    // The same through the environment, with more findings: each one is listed.
    let config = Config::load(
        None,
        &env(&[
            ("CUSTODIAN_ENVIRONMENT", "production"),
            ("CUSTODIAN_DATA_DIR", dir.path().to_str().unwrap()),
            ("CUSTODIAN_MFA_REQUIRED", "false"),
            ("CUSTODIAN_ALLOW_PLAIN_HTTP_LOOPBACK", "true"),
        ]),
    )
    .unwrap();
    let error = Runtime::build(config).await.unwrap_err();
    let violations = error.violations().unwrap();
    assert_eq!(violations.len(), 3, "{violations:?}");
    assert!(violations.iter().any(|v| v.contains("mfa is disabled")));
    assert!(violations.iter().any(|v| v.contains("plain http to loopback")));
    assert!(!dir.path().exists());

    // Staging with the same settings starts (the findings are warnings there).
    let mut config = defaults_in(dir.path());
    config.environment = Environment::Staging;
    let runtime = Runtime::build(config).await.unwrap();
    assert_eq!(runtime.state().settings().environment_violations.len(), 2);
    runtime.close().await;
}

/// Every platform configured against loopback base URLs (as for the simulator).
fn with_platforms(dir: &Path) -> Config {
    let text = r#"
        [outbound]
        allow_plain_http_loopback = true

        [platforms.meta]
        client_id = "meta-app"
        client_secret = "meta-secret-value"
        base_urls = { api = "http://127.0.0.1:9/meta/graph", www = "http://127.0.0.1:9/meta/www" }

        [platforms.tiktok]
        client_id = "tiktok-app"
        client_secret = "tiktok-secret-value"
        base_urls = { api = "http://127.0.0.1:9/tiktok", auth = "http://127.0.0.1:9/tiktok/portal/auth" }

        [platforms.tiktok-shop]
        client_id = "shop-app"
        client_secret = "shop-secret-value"
        base_urls = { api = "http://127.0.0.1:9/tiktok-shop/open-api", auth = "http://127.0.0.1:9/tiktok-shop/auth" }

        [platforms.amazon]
        client_id = "amzn1.application-oa2-client.sim"
        client_secret = "amazon-secret-value"
        base_urls = { api = "http://127.0.0.1:9/amazon/sp-api", lwa = "http://127.0.0.1:9/amazon/lwa" }

        [platforms.ebay]
        client_id = "ebay-app"
        client_secret = "ebay-secret-value"
        webhook_secret = "ebay-verification-token-0123456789abcdef"
        base_urls = { api = "http://127.0.0.1:9/ebay/api", auth = "http://127.0.0.1:9/ebay/auth" }
    "#;
    let path = dir.with_extension("toml");
    std::fs::write(&path, text).unwrap();
    let config = Config::load(Some(&path), &env(&[("CUSTODIAN_DATA_DIR", dir.to_str().unwrap())])).unwrap();
    std::fs::remove_file(&path).unwrap();
    config
}

#[tokio::test]
async fn configured_platforms_get_their_adapters_with_the_ports_each_offers() {
    let dir = TempDir::new();
    let runtime = Runtime::build(with_platforms(dir.path())).await.unwrap();
    let platforms = &runtime.state().deps().platforms;
    let offered: Vec<(Platform, [bool; 4])> = platforms
        .iter()
        .map(|(p, a)| {
            assert_eq!(a.authorizer.platform(), *p);
            (*p, [a.reporting.is_some(), a.campaigns.is_some(), a.commerce.is_some(), a.signals.is_some()])
        })
        .collect();
    assert_eq!(
        offered,
        [
            (Platform::Meta, [true, true, false, true]),
            (Platform::TikTok, [true, true, false, false]),
            (Platform::TikTokShop, [false, false, true, true]),
            (Platform::Amazon, [false, false, true, false]),
            (Platform::Ebay, [false, false, true, true]),
        ]
    );
    // SEC-1: no client secret and no key material in the runtime's Debug output.
    let debug = format!("{runtime:?} {:?}", runtime.config());
    for secret in ["meta-secret-value", "tiktok-secret-value", "amazon-secret-value", "ebay-verification"] {
        assert!(!debug.contains(secret), "{debug}");
    }
    let key = std::fs::read_to_string(dir.path().join(GENERATED_MASTER_KEY_FILE)).unwrap();
    assert!(!debug.contains(key.trim()));
    runtime.close().await;
}

#[tokio::test]
async fn an_unknown_base_url_name_is_refused_with_the_names_allowed() {
    let dir = TempDir::new();
    let mut config = with_platforms(dir.path());
    config
        .platforms
        .get_mut(&Platform::Meta)
        .unwrap()
        .base_urls
        .insert("graph".to_owned(), "http://127.0.0.1:9/meta/graph".to_owned());
    let error = Runtime::build(config).await.unwrap_err().to_string();
    assert_eq!(error, "`platforms.meta.base_urls.graph` is not a base url of meta: expected one of api, www");
}

#[tokio::test]
async fn a_master_key_file_readable_by_others_is_refused() {
    let dir = TempDir::new();
    Runtime::build(defaults_in(dir.path())).await.unwrap().close().await;
    let key = dir.path().join(GENERATED_MASTER_KEY_FILE);
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let error = Runtime::build(defaults_in(dir.path())).await.unwrap_err().to_string();
    assert!(error.contains("has mode 0644: it must be 0600"), "{error}");
    // The key's contents are never part of the message.
    let text = std::fs::read_to_string(&key).unwrap();
    assert!(!error.contains(text.trim()));
}

#[tokio::test]
async fn a_wrong_master_key_does_not_open_the_keystore() {
    let dir = TempDir::new();
    Runtime::build(defaults_in(dir.path())).await.unwrap().close().await;
    let mut config = defaults_in(dir.path());
    let other = data_encoding::BASE64.encode(&[7u8; 32]);
    config.secrets = SecretsConfig::Keystore {
        path: dir.path().join("keystore.sealed"),
        master: MasterKeySource::Key(other.clone().into()),
    };
    let error = Runtime::build(config).await.unwrap_err();
    let text = format!("{error} {:?}", std::error::Error::source(&error));
    assert!(text.contains("keystore"), "{text}");
    assert!(!text.contains(&other), "{text}");
}

fn alert() -> Notification {
    Notification::Alert(Alert {
        kind: AlertKind::FailedSyncStreak,
        subject: "acme/g-1".to_owned(),
        detail: "3 failed syncs in a row".to_owned(),
        at: datetime!(2026-03-01 12:00 UTC),
        severity: Severity::Warning,
    })
}

/// A webhook receiver on loopback that records bodies and answers `status`.
async fn receiver(status: StatusCode) -> (String, Arc<Mutex<Vec<serde_json::Value>>>) {
    let seen: Arc<Mutex<Vec<serde_json::Value>>> = Arc::default();
    let record = seen.clone();
    let app = Router::new().route(
        "/hook",
        axum::routing::post(move |axum::Json(body): axum::Json<serde_json::Value>| {
            let record = record.clone();
            async move {
                record.lock().unwrap().push(body);
                status
            }
        }),
    );
    let listener = bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, seen)
}

#[tokio::test]
async fn the_notifier_posts_alerts_to_the_webhook_and_maps_refusals() {
    let (url, seen) = receiver(StatusCode::NO_CONTENT).await;
    let notifier = SystemNotifier::with_webhook(&url, true).unwrap();
    notifier.notify(&alert()).await.unwrap();
    assert_eq!(
        seen.lock().unwrap().as_slice(),
        [serde_json::json!({
            "type": "alert",
            "kind": AlertKind::FailedSyncStreak.to_string(),
            "severity": Severity::Warning.to_string(),
            "subject": "acme/g-1",
            "detail": "3 failed syncs in a row",
            "at": "2026-03-01T12:00:00Z",
        })]
    );

    let (url, _) = receiver(StatusCode::BAD_REQUEST).await;
    let refused = SystemNotifier::with_webhook(&url, true).unwrap().notify(&alert()).await;
    assert!(
        matches!(refused, Err(NotifyError::Rejected(ref m)) if m == "webhook answered 400"),
        "{refused:?}"
    );
    let (url, _) = receiver(StatusCode::SERVICE_UNAVAILABLE).await;
    let later = SystemNotifier::with_webhook(&url, true).unwrap().notify(&alert()).await;
    assert!(matches!(later, Err(NotifyError::Unavailable(_))), "{later:?}");

    // TLS-1: plain http needs the loopback allowance.
    assert!(SystemNotifier::with_webhook(&url, false).is_err());
    // Log only never fails.
    SystemNotifier::log_only().notify(&alert()).await.unwrap();
}

#[tokio::test]
async fn serve_on_stops_gracefully_when_shutdown_completes() {
    let dir = TempDir::new();
    let runtime = Runtime::build(defaults_in(dir.path())).await.unwrap();
    let listener = bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(serve_on(listener, runtime.router(), async move {
        let _ = stopped.await;
    }));
    // A real request over TCP answers before shutdown.
    let client = custodian_http::HttpClient::new(custodian_http::HttpConfig {
        allow_plain_loopback: true,
        ..custodian_http::HttpConfig::default()
    })
    .unwrap();
    let url = client.check_url(&format!("http://{addr}/healthz")).unwrap();
    let response = client.send(custodian_http::Request::get(url)).await.unwrap();
    assert_eq!(response.status, 200);
    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
    assert!(tokio::net::TcpStream::connect(addr).await.is_err(), "still listening after shutdown");
    runtime.close().await;
}

#[test]
fn the_os_generator_fills_buffers_with_distinct_bytes() {
    let (mut a, mut b) = ([0u8; 32], [0u8; 32]);
    OsRng.fill(&mut a);
    OsRng.fill(&mut b);
    assert_ne!(a, b);
    assert_ne!(a, [0u8; 32]);
}

/// The consent URL `platform`'s adapter builds for a redirect URI under the API's callback route.
fn consent(runtime: &Runtime, platform: Platform, redirect_uri: &str) -> Result<String, String> {
    // Amazon refuses a consent narrower than its app registration's roles (orders, PII, listings).
    let tasks = match platform {
        Platform::Amazon => BTreeSet::from([Task::ReadOrders, Task::ReadBuyerPii, Task::UpdateStock]),
        p if p.is_commerce() => BTreeSet::from([Task::ReadOrders]),
        _ => BTreeSet::from([Task::ReadReporting]),
    };
    let request = ConsentRequest {
        tenant: TenantId::new("t1").unwrap(),
        grant: GrantId::new("g1").unwrap(),
        tasks,
        redirect_uri: redirect_uri.to_owned(),
        state: "anti-forgery".to_owned(),
    };
    runtime.state().deps().platforms[&platform].authorizer.consent_url(&request).map_err(|e| e.to_string())
}

#[tokio::test]
async fn adapters_use_the_api_routes_under_the_public_url_and_the_configured_app_ids() {
    let dir = TempDir::new();
    let mut config = with_platforms(dir.path());
    config.public_url = "https://custodian.example".to_owned();
    let set = |config: &mut Config, platform: Platform, edit: fn(&mut crate::config::PlatformConfig)| {
        edit(config.platforms.get_mut(&platform).unwrap());
    };
    set(&mut config, Platform::TikTokShop, |p| p.service_id = Some("7310000000000000042".to_owned()));
    set(&mut config, Platform::Amazon, |p| p.application_id = Some("amzn1.sp.solution.custodian".to_owned()));
    set(&mut config, Platform::Ebay, |p| p.ru_name = Some("Custodian-Custodia-Sim-qwerty".to_owned()));
    let runtime = Runtime::build(config).await.unwrap();

    // Meta accepts only its registered redirect URI: the API's callback route (not `/oauth/meta/callback`).
    let meta = consent(&runtime, Platform::Meta, "https://custodian.example/v1/oauth/meta/callback").unwrap();
    assert!(meta.contains("custodian.example%2Fv1%2Foauth%2Fmeta%2Fcallback"), "{meta}");
    assert!(consent(&runtime, Platform::Meta, "https://custodian.example/oauth/meta/callback").is_err());
    assert_eq!(callback_path(Platform::TikTokShop), "/v1/oauth/tiktok-shop/callback");
    // The configured app ids, not the client id, go into the consent URLs.
    let shop =
        consent(&runtime, Platform::TikTokShop, "https://custodian.example/v1/oauth/tiktok-shop/callback")
            .unwrap();
    assert!(shop.contains("7310000000000000042") && !shop.contains("service_id=shop-app"), "{shop}");
    let amazon =
        consent(&runtime, Platform::Amazon, "https://custodian.example/v1/oauth/amazon/callback").unwrap();
    assert!(amazon.contains("amzn1.sp.solution.custodian"), "{amazon}");
    let ebay = consent(&runtime, Platform::Ebay, "https://custodian.example/v1/oauth/ebay/callback").unwrap();
    assert!(ebay.contains("redirect_uri=Custodian-Custodia-Sim-qwerty"), "{ebay}");
    // eBay's challenge hashes the endpoint URL: the API's webhook route under the public URL.
    assert_eq!(
        ebay_notification_endpoint("https://custodian.example/"),
        "https://custodian.example/v1/webhooks/ebay"
    );
    runtime.close().await;
}
