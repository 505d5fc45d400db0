//! The library half of the `custodian` binary: what `custodian demo` and the end-to-end tests share.
//!
//! - [`story`]: the whole story of a tenant driven over HTTP (log in, tenant and colleagues, five platforms
//!   connected through their OAuth consent, syncs, a four-eyes campaign change, a revocation with its purge
//!   receipt, the tenant's audit chain verified). `custodian demo` runs it against an in-process server;
//!   the tests run it against `custodian serve` and `custodian sim` processes.
//! - The simulator wiring: which base URLs each simulated platform has ([`sim_platforms`]), the
//!   configuration fragment pointing `custodian` at them ([`sim_toml`]), and a simulator whose consent pages
//!   send the browser back to a server's OAuth callbacks ([`sim_config`]).

pub mod story;

use std::fmt::Write as _;

use custodian_sim::SimConfig;

/// One simulated platform: its prefix, the base URLs `custodian` takes for it, and the simulated app's
/// registration (public test values of the simulator, not secrets of any real app).
#[derive(Debug, Clone)]
pub struct SimPlatform {
    pub name: &'static str,
    pub prefix: &'static str,
    pub base_urls: Vec<(&'static str, String)>,
    pub client_id: &'static str,
    pub client_secret: &'static str,
    /// The platform-only app id (`service_id`, `application_id`, `ru_name`) where there is one.
    pub app_id: Option<(&'static str, &'static str)>,
}

/// The five platforms of a simulator at `base`.
pub fn sim_platforms(base: &str) -> Vec<SimPlatform> {
    use custodian_sim::{amazon, ebay, meta, tiktok, tiktok_shop};
    vec![
        SimPlatform {
            name: "meta",
            prefix: "/meta",
            base_urls: vec![("api", format!("{base}/meta/graph")), ("www", format!("{base}/meta/www"))],
            client_id: meta::APP_ID,
            client_secret: meta::APP_SECRET,
            app_id: None,
        },
        SimPlatform {
            name: "tiktok",
            prefix: "/tiktok",
            base_urls: vec![
                ("api", format!("{base}/tiktok")),
                ("auth", format!("{base}/tiktok/portal/auth")),
            ],
            client_id: tiktok::APP_ID,
            client_secret: tiktok::APP_SECRET,
            app_id: None,
        },
        SimPlatform {
            name: "tiktok-shop",
            prefix: "/tiktok-shop",
            base_urls: vec![
                ("api", format!("{base}/tiktok-shop/open-api")),
                ("auth", format!("{base}/tiktok-shop/auth")),
                ("authorize", format!("{base}/tiktok-shop/services/open/authorize")),
            ],
            client_id: tiktok_shop::APP_KEY,
            client_secret: tiktok_shop::APP_SECRET,
            app_id: Some(("service_id", tiktok_shop::SERVICE_ID)),
        },
        SimPlatform {
            name: "amazon",
            prefix: "/amazon",
            base_urls: vec![
                ("api", format!("{base}/amazon/sp-api")),
                ("lwa", format!("{base}/amazon/lwa")),
                ("consent", format!("{base}/amazon/sellercentral")),
            ],
            client_id: amazon::CLIENT_ID,
            client_secret: amazon::CLIENT_SECRET,
            app_id: Some(("application_id", amazon::APPLICATION_ID)),
        },
        SimPlatform {
            name: "ebay",
            prefix: "/ebay",
            base_urls: vec![("api", format!("{base}/ebay/api")), ("auth", format!("{base}/ebay/auth"))],
            client_id: ebay::CLIENT_ID,
            client_secret: ebay::CLIENT_SECRET,
            app_id: Some(("ru_name", ebay::RU_NAME)),
        },
    ]
}

/// A configuration fragment pointing `custodian` at the simulator.
pub fn sim_toml(platforms: &[SimPlatform]) -> String {
    let mut text = String::from("[outbound]\nallow_plain_http_loopback = true\n");
    for p in platforms {
        let urls: Vec<String> = p.base_urls.iter().map(|(k, v)| format!("{k} = \"{v}\"")).collect();
        let _ = write!(
            text,
            "\n[platforms.{}]\nclient_id = \"{}\"\nclient_secret = \"{}\"\nbase_urls = {{ {} }}\n",
            p.name,
            p.client_id,
            p.client_secret,
            urls.join(", ")
        );
        if let Some((key, value)) = p.app_id {
            let _ = writeln!(text, "{key} = \"{value}\"");
        }
    }
    text
}

/// The OAuth callback of `platform` on a server whose public URL is `public_url`.
pub fn callback_url(public_url: &str, platform: &str) -> String {
    format!("{}/v1/oauth/{platform}/callback", public_url.trim_end_matches('/'))
}

/// How long before the simulator starts its sellers' orders begin: inside a first sync's default order
/// window (30 days), and early enough that the last order is older than every platform's data delay
/// (Amazon: 250 orders a minute apart, about 4 hours; TikTok Shop: 250 ten minutes apart, about 42 hours).
const ORDERS_AGO_SECS: i64 = 3 * 24 * 3600;

/// A simulator (seed `seed`) as `custodian sim` and `custodian demo` run it, started at `now_unix`.
///
/// - The Amazon and TikTok Shop sellers' orders start three days before `now_unix` ([`ORDERS_AGO_SECS`]);
///   the simulator's own defaults are fixed dates long past (what its tests and benches compute with),
///   which a first sync's default window does not reach. (eBay's orders already end at the simulator's
///   start.)
/// - With `public_url`, every app has the OAuth callback of the server at `public_url` registered as its
///   redirect URI, so each consent page sends the browser back to that server (AUTH-2).
pub fn sim_config(seed: u64, public_url: Option<&str>, now_unix: i64) -> SimConfig {
    let mut config = SimConfig { seed, ..SimConfig::default() };
    config.amazon.orders_epoch_unix = now_unix.saturating_sub(ORDERS_AGO_SECS);
    config.tiktok_shop.orders_start_unix = now_unix.saturating_sub(ORDERS_AGO_SECS);
    if let Some(public_url) = public_url {
        config.meta.redirect_uris = vec![callback_url(public_url, "meta")];
        config.tiktok.redirect_uris = vec![callback_url(public_url, "tiktok")];
        config.tiktok_shop.redirect_uri = callback_url(public_url, "tiktok-shop");
        config.amazon.redirect_uris = vec![callback_url(public_url, "amazon")];
        // eBay redirects to the accept URL registered for the RuName.
        config.ebay.accept_url = callback_url(public_url, "ebay");
    }
    config
}
