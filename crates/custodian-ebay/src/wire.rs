//! eBay's wire formats, reduced to the fields the adapter uses (serde skips the rest unread: MIN-1). Names
//! and shapes follow the official models: `OrderSearchPagedCollection`, `Order`, `Buyer`,
//! `ExtendedContact`, `Address`, `LineItem`, `Amount` (Fulfillment v1.20.7); `InventoryItems`,
//! `BulkPriceQuantity`, `BulkPriceQuantityResponse` (Inventory v1.18.0); `PublicKey` (Notification v1.2.0);
//! `Error`; the OAuth token answer (reference §3.1); the notification message (reference §3.3).
//!
//! Order types borrow strings from the response body (`Cow`), so a page of 200 orders costs few
//! allocations.

use std::borrow::Cow;

use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};

/// The token endpoint's answer (`authorization_code`, `refresh_token`, `client_credentials`).
#[derive(Deserialize)]
pub(crate) struct TokenResponse {
    pub access_token: String,
    pub expires_in: Option<i64>,
    pub refresh_token: Option<String>,
    pub refresh_token_expires_in: Option<i64>,
}

/// The token endpoint's error (`{"error":"invalid_grant","error_description":"…"}`).
#[derive(Deserialize)]
pub(crate) struct OAuthErrorBody {
    pub error: String,
}

/// The REST error envelope's first fields (`{"errors":[{"errorId", …}]}`).
#[derive(Deserialize)]
pub(crate) struct ErrorEnvelope {
    #[serde(default)]
    pub errors: Vec<ErrorItem>,
}

/// One entry of `errors` (schema `Error`).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ErrorItem {
    pub error_id: Option<i64>,
    pub message: Option<String>,
}

/// `OrderSearchPagedCollection`: `O` is the order type, with or without the PII parts.
#[derive(Deserialize)]
pub(crate) struct OrdersPage<O> {
    pub total: Option<u64>,
    pub next: Option<IgnoredAny>,
    #[serde(default = "Vec::new")]
    pub orders: Vec<O>,
}

/// An order without buyer or ship-to PII: both containers are skipped unread (MIN-2).
pub(crate) type PlainOrder<'a> = Order<'a, IgnoredAny, IgnoredAny>;
/// An order with the ship-to contact, to be sealed at once (ENC-1). The buyer container is kept as raw
/// JSON and read only when the order has no ship-to contact (e.g. in-store pickup).
pub(crate) type PiiOrder<'a> = Order<'a, &'a serde_json::value::RawValue, FulfillmentStartInstruction<'a>>;

/// `Order`, with the buyer (`B`) and the fulfillment instructions (`F`) typed per PII mode.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Order<'a, B, F> {
    #[serde(borrow)]
    pub order_id: Cow<'a, str>,
    #[serde(borrow)]
    pub creation_date: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub last_modified_date: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub order_fulfillment_status: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub order_payment_status: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub cancel_status: Option<CancelStatus<'a>>,
    /// The seller's eBay user id (not buyer PII): validation reads the grant's owner from it.
    #[serde(borrow)]
    pub seller_id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub pricing_summary: Option<PricingSummary<'a>>,
    #[serde(borrow, default = "Vec::new")]
    pub line_items: Vec<LineItem<'a>>,
    pub buyer: Option<B>,
    pub fulfillment_start_instructions: Option<Vec<F>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CancelStatus<'a> {
    #[serde(borrow)]
    pub cancel_state: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
pub(crate) struct PricingSummary<'a> {
    #[serde(borrow)]
    pub total: Option<Amount<'a>>,
}

/// `Amount`: a decimal string and an ISO 4217 code.
#[derive(Deserialize)]
pub(crate) struct Amount<'a> {
    #[serde(borrow)]
    pub value: Cow<'a, str>,
    #[serde(borrow)]
    pub currency: Cow<'a, str>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct LineItem<'a> {
    #[serde(borrow)]
    pub line_item_id: Cow<'a, str>,
    #[serde(borrow)]
    pub sku: Option<Cow<'a, str>>,
    pub quantity: Option<u32>,
    /// Unit price times quantity, before discounts.
    #[serde(borrow)]
    pub line_item_cost: Option<Amount<'a>>,
}

/// `Buyer`: only the registration contact is read (`username`, `taxAddress`, `taxIdentifier` are skipped).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Buyer<'a> {
    #[serde(borrow)]
    pub buyer_registration_address: Option<ExtendedContact<'a>>,
}

/// `ExtendedContact` (`companyName` skipped).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ExtendedContact<'a> {
    #[serde(borrow)]
    pub full_name: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub contact_address: Option<Address<'a>>,
    #[serde(borrow)]
    pub primary_phone: Option<PhoneNumber<'a>>,
    #[serde(borrow)]
    pub email: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Address<'a> {
    #[serde(borrow)]
    pub address_line1: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub address_line2: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub city: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub state_or_province: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub postal_code: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub country_code: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PhoneNumber<'a> {
    #[serde(borrow)]
    pub phone_number: Option<Cow<'a, str>>,
}

/// `FulfillmentStartInstruction`: only the shipping step's `shipTo` is read.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct FulfillmentStartInstruction<'a> {
    #[serde(borrow)]
    pub shipping_step: Option<ShippingStep<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ShippingStep<'a> {
    #[serde(borrow)]
    pub ship_to: Option<ExtendedContact<'a>>,
}

/// `InventoryItems`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct InventoryItems {
    pub next: Option<String>,
    #[serde(default)]
    pub inventory_items: Vec<InventoryItem>,
}

/// `InventoryItemWithSkuLocaleGroupid`: the SKU and its ship-to-home quantity.
#[derive(Deserialize)]
pub(crate) struct InventoryItem {
    pub sku: Option<String>,
    pub availability: Option<Availability>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Availability {
    pub ship_to_location_availability: Option<ShipToLocationAvailability>,
}

#[derive(Serialize, Deserialize)]
pub(crate) struct ShipToLocationAvailability {
    pub quantity: Option<i64>,
}

/// `BulkPriceQuantity` (request).
#[derive(Serialize)]
pub(crate) struct BulkPriceQuantity<'a> {
    pub requests: Vec<PriceQuantity<'a>>,
}

/// `PriceQuantity`: the total ship-to-home quantity of one SKU.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PriceQuantity<'a> {
    pub sku: &'a str,
    pub ship_to_location_availability: ShipToLocationAvailability,
}

/// `BulkPriceQuantityResponse`.
#[derive(Deserialize)]
pub(crate) struct BulkPriceQuantityResponse {
    #[serde(default)]
    pub responses: Vec<PriceQuantityResponse>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PriceQuantityResponse {
    pub sku: Option<String>,
    pub status_code: Option<u16>,
    #[serde(default)]
    pub errors: Vec<ErrorItem>,
}

/// `PublicKey` (Notification API `getPublicKey`).
#[derive(Deserialize)]
pub(crate) struct PublicKey {
    pub algorithm: Option<String>,
    pub digest: Option<String>,
    pub key: String,
}

/// The decoded `X-EBAY-SIGNATURE` header.
#[derive(Deserialize)]
pub(crate) struct SignatureHeader {
    pub alg: Option<String>,
    pub kid: String,
    pub signature: String,
    pub digest: Option<String>,
}

/// A notification message: metadata and the notification (reference §3.3).
#[derive(Deserialize)]
pub(crate) struct Message {
    pub metadata: Metadata,
    pub notification: Notification,
}

#[derive(Deserialize)]
pub(crate) struct Metadata {
    pub topic: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Notification {
    pub notification_id: String,
    pub data: NotificationData,
}

/// `data` of `MARKETPLACE_ACCOUNT_DELETION` and `AUTHORIZATION_REVOCATION`: only the immutable user id is
/// kept (`username`, `eiasToken`, `revokeReason`, `revocationDate` are not needed to act).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct NotificationData {
    pub user_id: Option<String>,
}

#[cfg(test)]
mod tests;
