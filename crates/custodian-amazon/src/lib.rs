//! `custodian-amazon`: the Amazon Selling Partner API adapter. [`AmazonAdapter`] implements the
//! `Authorizer` and `CommerceChannel` ports of `custodian-core`, and offers the token-health check a
//! server schedules ([`AmazonAdapter::check_token_health`]), since Amazon sends no revocation notice.
//!
//! # Endpoints and versions
//! - Login with Amazon `POST https://api.amazon.com/auth/o2/token`: `authorization_code` and
//!   `refresh_token` grants; the consent page `https://sellercentral.amazon.com/apps/authorize/consent`.
//! - Orders API 2026-01-01 `GET /orders/2026-01-01/orders` (default) or Orders v0 `GET /orders/v0/orders`
//!   and `GET /orders/v0/orders/{orderId}/orderItems` ([`OrdersApi`]).
//! - Tokens API 2021-03-01 `POST /tokens/2021-03-01/restrictedDataToken` (v0 with PII only).
//! - FBA Inventory v1 `GET /fba/inventory/v1/summaries`; Listings Items 2021-08-01
//!   `PATCH /listings/2021-08-01/items/{sellerId}/{sku}`; Sellers v1
//!   `GET /sellers/v1/marketplaceParticipations`.
//!
//! No request signing: since October 2023 SP-API needs only `x-amz-access-token` (commerce-apis.md §2.2).
//!
//! # Connecting a seller
//! Amazon redirects the seller to the redirect URI with `state`, `selling_partner_id` and
//! `spapi_oauth_code`; the LWA token answer does not name the seller, and `Authorizer::exchange` receives
//! only the code. The server's Amazon callback therefore calls
//! [`AmazonAdapter::note_consent_callback`] with the code and `selling_partner_id` before completing the
//! connection; the exchange then names the seller's participating marketplaces as accounts, and
//! validation can report them. Without it, validation fails with `Invalid` (fail closed, AUTH-1).
//!
//! # Scheduled token-health checks
//! Amazon sends nothing when a seller removes the app. [`AmazonAdapter::check_token_health`] refreshes the
//! access token and makes one cheap call with it; the server runs it for every Amazon grant on a schedule
//! (e.g. hourly, within the 0.016/s, burst 15 plan of `getMarketplaceParticipations` per seller), starts
//! the revocation flow on [`TokenHealth::Revoked`], stores the refreshed credentials otherwise, and alerts
//! on [`TokenHealth::ReauthorizeSoon`] (public apps are re-authorized every 365 days).
//!
//! # Stock
//! `stock` reads FBA inventory (location [`FBA_LOCATION`], `AFN`: Amazon's warehouses); `set_stock` sets
//! merchant-fulfilled quantities (location `None`, `DEFAULT` or `MFN`) with one Listings `PATCH` per SKU,
//! since the Listings API has no batch operation (5 requests/s, burst 5); an update for `AFN` is rejected
//! without a call, because FBA quantities change only through inbound shipments and orders.
//!
//! # Requirements enforced here
//! - **AUTH-2** validation is a live `getMarketplaceParticipations`: owner = selling partner, accounts =
//!   participating marketplaces (**AUTH-3**), expiry = the 365-day authorization end.
//! - **AUTH-4** Amazon has no per-request scopes: the consent grants the app registration's roles. The
//!   adapter refuses a consent URL when the registration lacks a role the enabled tasks need, and (unless
//!   [`AmazonConfig::allow_broader_consent`]) when it holds one they do not need
//!   ([`AmazonAdapter::consent_roles`]). Roles are reported as scopes per `custodian_core::platform`.
//! - **AUTH-6** `invalid_grant` on refresh is `Revoked`; a 403 for the access token is settled by a
//!   refresh (`invalid_grant` → `Revoked`, a working refresh → `Unauthorized`); the scheduled
//!   [`AmazonAdapter::check_token_health`] detects revocations without a call from the seller.
//! - **MIN-1** wire types keep only the fields the domain needs; orders read without PII are decoded with
//!   the buyer parts ignored unread.
//! - **MIN-2** buyer and recipient data are requested only with a `PiiSealer`: `includedData` leaves out
//!   `BUYER` and `RECIPIENT` otherwise (2026-01-01), and Orders v0 asks for a Restricted Data Token only
//!   then.
//! - **MIN-4** requests carry only the fields the call needs (the Listings PATCH is one `merge` of
//!   `fulfillment_availability`).
//! - **ENC-1** buyer PII is sealed with the grant's data key (`custodian_core::data::seal`) before an
//!   order leaves the adapter.
//! - **SEC-1** the client secret, tokens and codes are `SecretString`s, exposed only to build a header or
//!   form; `Debug` of [`AmazonConfig`] and [`AmazonAdapter`] redacts them; errors never hold them.
//! - **TLS-1** every request goes through custodian-http (rustls, TLS 1.2+, plain HTTP only to loopback
//!   when configured).
//!
//! Rate limits: one token bucket per operation and selling partner, seeded with the official rate and
//! burst ([`Operation::official`]) times [`AmazonConfig::rate_safety`], moved by `x-amzn-RateLimit-Limit`,
//! paused on 429 (`QuotaExceeded`). Orders are read through `*Before` at most now − 2 minutes
//! ([`ORDERS_DATA_DELAY`]).

mod adapter;
mod api;
mod client;
mod config;
mod convert;
mod error;
mod rate;
mod wire;

pub use adapter::{
    AUTHORIZATION_LIFETIME, AmazonAdapter, ORDERS_DATA_DELAY, REAUTHORIZE_NOTICE, TokenHealth,
};
pub use config::{
    AmazonConfig, CONSENT_BASE, LWA_BASE, OrdersApi, RegionEndpoint, SP_API_EU, SP_API_FE, SP_API_NA,
};
pub use convert::{FBA_LOCATION, micros, status_2026, status_v0};
pub use error::{AmazonError, ApiErrorKind, LwaErrorKind, classify_api, classify_lwa};
pub use rate::Operation;
