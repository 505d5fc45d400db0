//! The platform adapters of every configured platform, built from [`PlatformConfig`]: the app's client id
//! and secret, the base URLs by name (absent names keep the real platform's defaults), and plain http to
//! loopback only when `outbound.allow_plain_http_loopback` is set (TLS-1).
//!
//! Base URL names per platform (an unknown name is refused, so a typo never silently calls production):
//!
//! | platform | names |
//! |---|---|
//! | `meta` | `api` (Graph API, without the version), `www` (Login dialog) |
//! | `tiktok` | `api` (API host), `auth` (authorization page) |
//! | `tiktok-shop` | `api` (Open API), `auth` (token host), `authorize` (seller consent page) |
//! | `amazon` | `api` (one SP-API endpoint for every marketplace), `lwa` (Login with Amazon), `consent` (Seller Central) |
//! | `ebay` | `api` (API host), `auth` (consent host) |
//!
//! Every redirect URI is `{public_url}/v1/oauth/{platform}/callback` ([`callback_path`], the API's callback
//! route); Meta's signed-request callbacks and eBay's notification endpoint are the API's
//! `/v1/webhooks/{platform}[/{topic}]` routes. TikTok Shop's `service_id`, Amazon's SP-API `application_id`
//! and eBay's RuName come from [`PlatformConfig`]; when one is not configured the client id stands in for
//! it (with a warning at start-up).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use custodian_amazon::{AmazonAdapter, AmazonConfig, RegionEndpoint};
use custodian_core::platform::Platform;
use custodian_core::ports::Clock;
use custodian_core::service::PlatformAdapters;
use custodian_ebay::{EbayAdapter, EbayConfig};
use custodian_http::HttpConfig;
use custodian_meta::{MetaAdapter, MetaConfig};
use custodian_tiktok::{TikTokAdapter, TikTokConfig};
use custodian_tiktok_shop::{TikTokShopAdapter, TikTokShopConfig};

use super::RuntimeError;
use crate::config::{Config, PlatformConfig};

/// The base URL names each platform accepts.
pub fn base_url_names(platform: Platform) -> &'static [&'static str] {
    match platform {
        Platform::Meta => &["api", "www"],
        Platform::TikTok => &["api", "auth"],
        Platform::TikTokShop => &["api", "auth", "authorize"],
        Platform::Amazon => &["api", "lwa", "consent"],
        Platform::Ebay => &["api", "auth"],
    }
}

/// The path of the OAuth callback the consent pages redirect to, below the public URL.
pub fn callback_path(platform: Platform) -> String {
    format!("/v1/oauth/{}/callback", platform.as_str())
}

/// The path Meta's Deauthorize Callback URL points at (the API's webhook route).
pub const META_DEAUTHORIZE_PATH: &str = "/v1/webhooks/meta/deauthorize";
/// The path Meta's Data Deletion Request Callback URL points at.
pub const META_DATA_DELETION_PATH: &str = "/v1/webhooks/meta/data-deletion";

/// eBay's notification endpoint as registered with eBay: the challenge hashes it character for character.
pub fn ebay_notification_endpoint(public_url: &str) -> String {
    format!("{}/v1/webhooks/{}", public_url.trim_end_matches('/'), Platform::Ebay.as_str())
}

/// The adapters of every configured platform, and the Amazon adapter itself when configured (the server's
/// Amazon callback hands it the `selling_partner_id` before the exchange).
pub(super) struct Built {
    pub(super) adapters: BTreeMap<Platform, PlatformAdapters>,
    pub(super) amazon: Option<Arc<AmazonAdapter>>,
}

pub(super) fn build(config: &Config, clock: &Arc<dyn Clock>) -> Result<Built, RuntimeError> {
    let mut built = Built { adapters: BTreeMap::new(), amazon: None };
    for (platform, settings) in &config.platforms {
        check_names(*platform, settings)?;
        let adapters = adapter(*platform, settings, config, clock.clone(), &mut built.amazon)?;
        tracing::info!(platform = %platform, "platform adapter ready");
        built.adapters.insert(*platform, adapters);
    }
    Ok(built)
}

fn check_names(platform: Platform, settings: &PlatformConfig) -> Result<(), RuntimeError> {
    let known = base_url_names(platform);
    match settings.base_urls.keys().find(|name| !known.contains(&name.as_str())) {
        None => Ok(()),
        Some(name) => Err(RuntimeError::Invalid(format!(
            "`platforms.{platform}.base_urls.{name}` is not a base url of {platform}: expected one of {}",
            known.join(", ")
        ))),
    }
}

/// `value` when configured, else the client id (with a warning).
fn or_client_id(platform: Platform, field: &str, value: Option<&String>, client_id: &str) -> String {
    match value {
        Some(value) => value.clone(),
        None => {
            tracing::warn!(platform = %platform, field, "not configured: the client id stands in for it");
            client_id.to_owned()
        }
    }
}

fn adapter(
    platform: Platform,
    settings: &PlatformConfig,
    config: &Config,
    clock: Arc<dyn Clock>,
    amazon: &mut Option<Arc<AmazonAdapter>>,
) -> Result<PlatformAdapters, RuntimeError> {
    let http = HttpConfig {
        allow_plain_loopback: config.outbound.allow_plain_http_loopback,
        ..HttpConfig::default()
    };
    let url = |name: &str| settings.base_urls.get(name).cloned();
    let fail = |e: Box<dyn std::error::Error + Send + Sync>| RuntimeError::Platform { platform, source: e };
    let id = settings.client_id.clone();
    let secret = settings.client_secret.clone();
    Ok(match platform {
        Platform::Meta => {
            let mut c = MetaConfig::new(id, secret, clock);
            c.graph_url = url("api").unwrap_or(c.graph_url);
            c.www_url = url("www").unwrap_or(c.www_url);
            c.redirect_uris = vec![format!("{}{}", config.public_url, callback_path(platform))];
            c.deauthorize_path = META_DEAUTHORIZE_PATH.to_owned();
            c.data_deletion_path = META_DATA_DELETION_PATH.to_owned();
            c.http = http;
            let a = Arc::new(MetaAdapter::new(c).map_err(|e| fail(Box::new(e)))?);
            PlatformAdapters {
                authorizer: a.clone(),
                reporting: Some(a.clone()),
                campaigns: Some(a.clone()),
                commerce: None,
                signals: Some(a),
            }
        }
        Platform::TikTok => {
            let mut c = TikTokConfig::new(id, secret, clock);
            c.base_url = url("api").unwrap_or(c.base_url);
            c.auth_url = url("auth").unwrap_or(c.auth_url);
            c.http = http;
            let a = Arc::new(TikTokAdapter::new(c).map_err(|e| fail(Box::new(e)))?);
            PlatformAdapters {
                authorizer: a.clone(),
                reporting: Some(a.clone()),
                campaigns: Some(a),
                commerce: None,
                signals: None,
            }
        }
        Platform::TikTokShop => {
            let service_id = or_client_id(platform, "service_id", settings.service_id.as_ref(), &id);
            let mut c = TikTokShopConfig::new(id, secret, service_id, clock);
            c.api_base = url("api").unwrap_or(c.api_base);
            c.auth_base = url("auth").unwrap_or(c.auth_base);
            c.authorize_url = url("authorize").unwrap_or(c.authorize_url);
            c.http = http;
            let a = Arc::new(TikTokShopAdapter::new(c).map_err(|e| fail(Box::new(e)))?);
            PlatformAdapters {
                authorizer: a.clone(),
                reporting: None,
                campaigns: None,
                commerce: Some(a.clone()),
                signals: Some(a),
            }
        }
        Platform::Amazon => {
            let application_id =
                or_client_id(platform, "application_id", settings.application_id.as_ref(), &id);
            let mut c = AmazonConfig::new(id, secret, application_id, clock);
            if let Some(api) = url("api") {
                let marketplaces: BTreeSet<String> =
                    c.regions.iter().flat_map(|r| r.marketplaces.iter().cloned()).collect();
                let marketplaces: Vec<&str> = marketplaces.iter().map(String::as_str).collect();
                c.regions = RegionEndpoint::single(&api, &marketplaces);
            }
            c.lwa_base = url("lwa").unwrap_or(c.lwa_base);
            c.consent_base = url("consent").unwrap_or(c.consent_base);
            c.http = http;
            let a = Arc::new(AmazonAdapter::new(c).map_err(|e| fail(Box::new(e)))?);
            *amazon = Some(a.clone());
            PlatformAdapters {
                authorizer: a.clone(),
                reporting: None,
                campaigns: None,
                commerce: Some(a),
                signals: None,
            }
        }
        Platform::Ebay => {
            let ru_name = or_client_id(platform, "ru_name", settings.ru_name.as_ref(), &id);
            let mut c = EbayConfig::new(id, secret, ru_name, clock);
            c.api_base = url("api").unwrap_or(c.api_base);
            c.auth_base = url("auth").unwrap_or(c.auth_base);
            c.verification_token = settings.webhook_secret.clone();
            c.notification_endpoint = Some(ebay_notification_endpoint(&config.public_url));
            c.http = http;
            let a = Arc::new(EbayAdapter::new(c).map_err(|e| fail(Box::new(e)))?);
            PlatformAdapters {
                authorizer: a.clone(),
                reporting: None,
                campaigns: None,
                commerce: Some(a.clone()),
                signals: Some(a),
            }
        }
    })
}
