//! `custodian-tiktok-shop`: the TikTok Shop Partner API adapter (Open API 202309), after
//! `shared/reference/commerce-apis.md` §1. It implements [`Authorizer`](custodian_core::ports::Authorizer),
//! [`CommerceChannel`](custodian_core::ports::CommerceChannel) and
//! [`SignalVerifier`](custodian_core::ports::SignalVerifier) on [`TikTokShopAdapter`].
//!
//! # Endpoints
//! - Consent: `https://services.tiktokshop.com/open/authorize?service_id=…&state=…`.
//! - Auth host `https://auth.tiktok-shops.com`: `GET /api/v2/token/get` (code exchange) and
//!   `GET /api/v2/token/refresh`, success judged by `code == 0`, expiries read from each response as the
//!   absolute Unix times they are.
//! - Open API `https://open-api.tiktokglobalshop.com`, every request signed ([`sign`]) with `app_key`,
//!   `timestamp` and `sign` in the query and the token in `x-tts-access-token`:
//!   `GET /authorization/202309/shops` (validation, shop ciphers), `POST /order/202309/orders/search`
//!   (orders by update time, page tokens), `POST /product/202309/products/search` (stock per warehouse),
//!   `POST /product/202309/inventory/search` (a SKU's product) and
//!   `POST /product/202309/products/{product_id}/inventory/update` (absolute quantity per warehouse, one
//!   call per product for all its SKUs and warehouses).
//!
//! Every base URL is configurable ([`TikTokShopConfig`]); all HTTP goes through `custodian-http`.
//!
//! # Identifiers
//! Accounts are shops ([`AccountRef::TikTokShop`](custodian_core::platform::AccountRef)); the shop cipher a
//! shop-scoped call needs is looked up with the authorized-shops call and cached per shop id. SKUs are
//! TikTok's SKU ids (order lines and stock levels use the same id), locations are warehouse ids.
//!
//! # Requirements enforced here
//! - AUTH-2: [`validate`](custodian_core::ports::Authorizer::validate) checks live: it refreshes (which
//!   reports the seller's `open_id`, the granted packages and the authorization's end) and lists the
//!   authorized shops; any doubt is an error, never evidence.
//! - AUTH-3: a target shop must be among the authorized shops of the credentials, else `Forbidden`.
//! - AUTH-4: the consent URL is built from [`consent_scopes`](custodian_core::platform::consent_scopes)
//!   only. TikTok Shop's consent page takes no scope parameter (packages belong to the app in Partner
//!   Center), so the requested packages ride along as `scope=` for the record and the page ignores them;
//!   validation reports what was really granted.
//! - AUTH-6: the `SELLER_DEAUTHORIZATION` webhook (type 6) verifies to
//!   [`SignalKind::Deauthorized`](custodian_core::ports::SignalKind); `UPCOMING_AUTHORIZATION_EXPIRATION`
//!   (type 7) to `ExpiringSoon`; a refresh answered `36004001`/`36004005` is `Revoked`.
//! - MIN-1: the wire types (`wire.rs`) keep only the fields the domain has a place for; serde skips the
//!   rest.
//! - MIN-2 / ENC-1: without a [`PiiSealer`](custodian_core::ports::PiiSealer) orders decode through wire
//!   types that have no buyer fields at all (serde skips them); with one, name, email, phone and address are
//!   sealed with AES-256-GCM in the order's sealing context before the order leaves the adapter, and the
//!   plaintext is zeroized.
//! - SEC-1: the app secret and tokens are `SecretString`s, exposed only on the line that builds a header,
//!   query or MAC; `Debug` of the config and adapter redacts them; `custodian-http` redacts `sign`,
//!   `app_secret`, `auth_code`, `refresh_token` and `x-tts-access-token` in logs.
//! - TLS-1: the client comes from `custodian-http` (TLS 1.2+, plain HTTP only to loopback when allowed).
//!
//! # Errors
//! TikTok Shop answers with `{code, message, request_id, data}`; [`error::kind_of`] maps each documented code
//! deliberately (`105001`/`105002` → `Unauthorized`, refreshable; `36004001`/`36004005` → `Revoked`;
//! `105005` → `Forbidden`; `106001` → `Invalid`, a bug of ours, never retried; `36009002` → `RateLimited`;
//! `36009003` → `Unavailable`, retried).
//!
//! # Rate limits
//! Requests wait on a client-side limiter per (app, shop), shared by all clones of the adapter, default
//! 48 requests/s with a burst of 48 — 96% of the 50/s per shop the simulator enforces (TikTok Shop publishes
//! no table; see `custodian_sim::tiktok_shop`). Throttled requests (`36009002`) are retried with backoff.

mod adapter;
mod api;
mod client;
mod config;
mod convert;
pub mod error;
pub mod sign;
mod signal;
mod wire;

pub use adapter::TikTokShopAdapter;
pub use config::{
    DEFAULT_API_BASE, DEFAULT_AUTH_BASE, DEFAULT_AUTHORIZE_URL, DEFAULT_RATE, TikTokShopConfig,
};
pub use error::{ErrorKind, TikTokShopError};
