//! `custodian-ebay`: Custodian's adapter for the eBay Sell APIs.
//!
//! [`EbayAdapter`] implements [`Authorizer`](custodian_core::ports::Authorizer),
//! [`CommerceChannel`](custodian_core::ports::CommerceChannel) and
//! [`SignalVerifier`](custodian_core::ports::SignalVerifier) over:
//!
//! | call | endpoint (default host) |
//! |---|---|
//! | consent | `GET https://auth.ebay.com/oauth2/authorize` |
//! | tokens | `POST https://api.ebay.com/identity/v1/oauth2/token` (`authorization_code`, `refresh_token`, `client_credentials`) |
//! | orders | `GET /sell/fulfillment/v1/order` (Fulfillment API v1, model v1.20.7) |
//! | stock | `GET /sell/inventory/v1/inventory_item`, `POST /sell/inventory/v1/bulk_update_price_quantity` (Inventory API v1, model v1.18.0) |
//! | notification keys | `GET /commerce/notification/v1/public_key/{public_key_id}` (Notification API v1, model v1.2.0) |
//!
//! Facts come from `shared/reference/commerce-apis.md` §3 and the official models in `shared/specs/ebay`.
//!
//! # Requirements enforced here
//! - **AUTH-4** (minimal scopes): the consent URL asks for exactly
//!   [`consent_scopes`](custodian_core::platform::consent_scopes) of the enabled tasks; refreshes ask for the
//!   grant's scopes and never more (eBay refuses wider ones with `invalid_scope`).
//! - **AUTH-2** (live validation): `validate` confirms each scope with one cheap call and reads the seller
//!   id from getOrders; nothing is reported on doubt.
//! - **AUTH-6** (revocation): `invalid_grant` on a refresh is `Revoked`; a 401 during a sync is explained by
//!   a refresh (revoked → `Revoked`, expired → `Unauthorized`); `AUTHORIZATION_REVOCATION` notifications
//!   verify to `Deauthorized`, `MARKETPLACE_ACCOUNT_DELETION` to `DeletionRequested`.
//! - **MIN-1**: wire types keep only needed fields; serde skips the rest unread.
//! - **MIN-2 / ENC-1**: getOrders always carries buyer and ship-to PII; without a
//!   [`PiiSealer`](custodian_core::ports::PiiSealer) those containers are skipped unread, with one the
//!   contact is sealed (AES-256-GCM, the order's sealing context) before the order leaves the adapter.
//! - **SEC-1**: the client secret, verification token, tokens and codes are `SecretString`s, exposed only
//!   where a header or form body is built; `Debug` of the config and adapter redacts them; errors carry
//!   eBay's evidence (status, `errorId`, message, request id), never bodies or secrets.
//! - **TLS-1**: all HTTP goes through `custodian-http` (rustls, TLS 1.2+, plain HTTP only to loopback when
//!   allowed for tests).
//!
//! # Notes for the server
//! See [`signal`] for the HTTP answers to signals: a key that cannot be fetched is
//! `SignalError::Unavailable` and must be answered **412**, like a bad signature (fail closed).
//!
//! The grant's owner is the `sellerId` of its orders: eBay names the user nowhere else within the scopes
//! Custodian asks for, so validation needs `sell.fulfillment.readonly` and at least one order in two
//! years (the Identity API's `commerce.identity.readonly` would remove that limit; it is not in the
//! core's scope table).

mod adapter;
mod api;
mod client;
mod config;
mod convert;
mod error;
pub mod signal;
mod wire;

pub use adapter::EbayAdapter;
pub use config::{
    API_BASE, AUTH_BASE, EbayConfig, EbayRates, MAX_BULK_REQUESTS, MAX_INVENTORY_PAGE, MAX_ORDERS_PAGE,
};
pub use convert::{encode_filter, lastmodified_filter};
pub use error::EbayError;
pub use signal::challenge_response;
