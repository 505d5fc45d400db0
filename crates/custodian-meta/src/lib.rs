//! `custodian-meta`: the Meta Marketing API (Graph API) adapter. [`MetaAdapter`] implements the
//! platform ports [`custodian_core::ports::Authorizer`], [`custodian_core::ports::ReportingSource`],
//! [`custodian_core::ports::CampaignControl`] and [`custodian_core::ports::SignalVerifier`]. Facts come
//! from `shared/reference/ads-apis.md` §1 (cited as §n below) and its test vectors (§4).
//!
//! # Endpoints (Graph API `v25.0` by default, [`MetaConfig::api_version`])
//! | call | use |
//! |---|---|
//! | `www.facebook.com/{v}/dialog/oauth` | consent URL (§1.2) |
//! | `GET /{v}/oauth/access_token` (code; then `grant_type=fb_exchange_token`) | exchange → long-lived user token (§1.2) |
//! | `GET /{v}/debug_token` with the app token | validation (§1.4) |
//! | `GET /{v}/me/adaccounts` | the token's accounts when `granular_scopes` lists no `target_ids` |
//! | `GET /{v}/act_{id}?fields=currency` | the budgets' currency (cached) |
//! | `GET /{v}/act_{id}/campaigns` | campaigns (§1.8) |
//! | `GET /{v}/act_{id}/insights`; `POST` it, `GET /{v}/{run}`, `GET /{v}/{run}/insights` | daily insights, sync or as an async report run (§1.7) |
//! | `GET`, `POST /{v}/{campaign_id}` | read-back and change of a campaign |
//!
//! # Requirements enforced here
//! - **AUTH-2** ([`MetaAdapter`]'s `validate`): `debug_token` must say `is_valid`, name this app, and show
//!   neither `expires_at` nor `data_access_expires_at` in the past; the evidence carries the user
//!   (`user_id`), the scopes, the ad accounts of the ads scopes' `granular_scopes[].target_ids` and both
//!   expiries. Any doubt (invalid, another app, expired, undecodable, unreachable) is an error, never
//!   evidence.
//! - **AUTH-3**: a campaign is read back or changed only after Meta confirms it belongs to the target ad
//!   account.
//! - **AUTH-4**: the consent URL asks for exactly [`custodian_core::platform::consent_scopes`] of the
//!   enabled tasks (`ads_read`, `ads_management`), comma-separated, and only for registered redirect URIs.
//! - **AUTH-6**: Graph code 190 maps to `Revoked` (no subcode, 458 app removed, 460 password changed, 467,
//!   492) or `Unauthorized` (463 expired, 459, 464); the deauthorize and data-deletion callbacks are
//!   verified as Meta's `parse_signed_request` ([`signal`]) and become `Deauthorized` /
//!   `DeletionRequested` (with the confirmation code to answer, [`data_deletion_answer`]).
//! - **MIN-1 / MIN-4**: insights are requested with a fixed field list (the level's id, `date_start`,
//!   `account_currency`, `spend`, `impressions`, `clicks`, `actions`, `action_values`) at the four levels
//!   only; campaigns with the fields a `Campaign` holds; changes send only the diff's fields; the wire
//!   types keep only those fields and everything else is dropped while decoding.
//! - **SEC-1**: the app secret and tokens are `SecretString`s, exposed only to build a header, a form or
//!   query value, or an HMAC; tokens travel in `Authorization` headers (never in URLs); `Debug` of
//!   [`MetaConfig`] and [`MetaAdapter`] redacts; logs carry no token, secret, code, proof or signature.
//! - **TLS-1**: all HTTP goes through `custodian_http::HttpClient` (TLS 1.2+, plain http only to loopback
//!   when configured).
//! - `appsecret_proof` (§1.6, vector §4.1) is sent on every Graph call that carries a token
//!   ([`appsecret_proof`]).
//!
//! # Rate limits (§1.11)
//! Each ad account's calls share one slot of the [`custodian_http::RateLimiter`] (shared by all clones and,
//! through [`MetaConfig::limiter`], by several adapters). After every answer the slot's rate is set from
//! the fullest quota in `X-App-Usage`, `X-Ad-Account-Usage` and `X-Business-Use-Case-Usage`
//! ([`Pacing`]: full speed below 50%, then linearly slower towards 100%), and paused for Meta's
//! `estimated_time_to_regain_access` / `reset_time_duration` when a quota is exhausted. Throttles (4, 17,
//! 32, 613, 80000–80014) are retried after Meta's wait; a wait longer than the retry policy allows is
//! `RateLimited { retry_after }`.
//!
//! # Report syncs and late attribution
//! Pages are [`DEFAULT_PAGE_SIZE`] rows, one row per object and day (`time_increment=1`). Ranges over
//! [`MetaConfig::async_after_days`] days, and sync queries Meta refuses as too much data (100/1487534), run
//! as async report runs, polled until "Job Completed". Insights change for 28 days: [`repull_query`] gives
//! the range to sync so that the last [`REPULL_WINDOW_DAYS`] days are always pulled again; rows are
//! upserted by their natural key.

mod adapter;
mod api;
mod client;
mod config;
mod convert;
mod error;
pub mod signal;
mod wire;

pub use adapter::{MetaAdapter, repull_query};
pub use client::appsecret_proof;
pub use config::{
    DEFAULT_API_VERSION, DEFAULT_ASYNC_AFTER_DAYS, DEFAULT_GRAPH_URL, DEFAULT_PAGE_SIZE, DEFAULT_WWW_URL,
    MetaConfig, Pacing, REPULL_WINDOW_DAYS,
};
pub use error::MetaError;
pub use signal::data_deletion_answer;
