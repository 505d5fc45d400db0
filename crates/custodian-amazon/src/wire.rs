//! Wire types: the few fields of each answer the adapter needs (serde ignores the rest: MIN-1), and the
//! request bodies. Shapes follow the official models in `shared/specs/amazon/`; `wire/tests.rs` parses
//! every example payload those models carry for the operations used.
//!
//! Buyer data is typed by a parameter: an order read without a PII sealer is decoded with
//! [`serde::de::IgnoredAny`] in the buyer and address places, so buyer fields a platform sends anyway
//! (Orders v0 returns the anonymized buyer e-mail without an RDT) are skipped by the parser and never
//! reach memory as strings.

use std::borrow::Cow;

use secrecy::SecretString;
use serde::{Deserialize, Serialize};

// ---- Login with Amazon -------------------------------------------------------------------------------

/// `POST /auth/o2/token` success.
#[derive(Deserialize)]
pub(crate) struct LwaTokens {
    pub access_token: SecretString,
    pub refresh_token: Option<SecretString>,
    pub expires_in: Option<i64>,
}

/// The `errors` envelope of the SP-API (model `ErrorList`; Orders v0 and FBA wrap the same list).
#[derive(Debug, Deserialize)]
pub(crate) struct ErrorList {
    #[serde(default)]
    pub errors: Vec<ApiError>,
}

/// Model `Error` (the message is kept by [`custodian_http::Evidence`]).
#[derive(Debug, Deserialize)]
pub(crate) struct ApiError {
    pub code: String,
    #[serde(default)]
    pub details: Option<String>,
}

/// An OAuth 2.0 error of LWA: `{"error_description": …, "error": "invalid_grant"}`.
#[derive(Debug, Deserialize)]
pub(crate) struct LwaError {
    pub error: String,
}

// ---- Sellers ----------------------------------------------------------------------------------------

/// `getMarketplaceParticipations`.
#[derive(Debug, Deserialize)]
pub(crate) struct GetMarketplaceParticipationsResponse {
    #[serde(default)]
    pub payload: Vec<MarketplaceParticipation>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct MarketplaceParticipation {
    pub marketplace: Marketplace,
    pub participation: Participation,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Marketplace {
    pub id: String,
    #[serde(default)]
    pub default_currency_code: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Participation {
    pub is_participating: bool,
}

// ---- Tokens -----------------------------------------------------------------------------------------

/// `createRestrictedDataToken` request.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CreateRestrictedDataTokenRequest<'a> {
    pub restricted_resources: [RestrictedResource<'a>; 1],
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RestrictedResource<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub data_elements: &'a [&'a str],
}

/// `createRestrictedDataToken` answer.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CreateRestrictedDataTokenResponse {
    pub restricted_data_token: SecretString,
    pub expires_in: Option<i64>,
}

// ---- Orders v0 --------------------------------------------------------------------------------------

/// `getOrders` (`payload` is required on success; `errors` only on failure).
#[derive(Debug, Deserialize)]
pub(crate) struct GetOrdersResponse<B, A> {
    pub payload: OrdersList<B, A>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct OrdersList<B, A> {
    pub orders: Vec<OrderV0<B, A>>,
    #[serde(default)]
    pub next_token: Option<String>,
}

/// A v0 order; `B` and `A` are the buyer-info and shipping-address types ([`serde::de::IgnoredAny`] without PII).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct OrderV0<B, A> {
    pub amazon_order_id: String,
    pub purchase_date: String,
    pub last_update_date: String,
    pub order_status: String,
    #[serde(default)]
    pub order_total: Option<MoneyV0>,
    #[serde(default = "none")]
    pub buyer_info: Option<B>,
    #[serde(default = "none")]
    pub shipping_address: Option<A>,
}

fn none<T>() -> Option<T> {
    None
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct MoneyV0 {
    #[serde(default)]
    pub currency_code: Option<String>,
    #[serde(default)]
    pub amount: Option<String>,
}

/// Model `BuyerInfo` (and the payload of `getOrderBuyerInfo`): only the PII fields Custodian keeps.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct BuyerInfoV0 {
    #[serde(default)]
    pub buyer_email: Option<String>,
    #[serde(default)]
    pub buyer_name: Option<String>,
}

/// Model `Address`.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct AddressV0 {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub address_line1: Option<String>,
    #[serde(default)]
    pub address_line2: Option<String>,
    #[serde(default)]
    pub address_line3: Option<String>,
    #[serde(default)]
    pub city: Option<String>,
    #[serde(default)]
    pub state_or_region: Option<String>,
    #[serde(default)]
    pub postal_code: Option<String>,
    #[serde(default)]
    pub country_code: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
}

/// `getOrderItems`.
#[derive(Debug, Deserialize)]
pub(crate) struct GetOrderItemsResponse {
    pub payload: OrderItemsList,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct OrderItemsList {
    pub order_items: Vec<OrderItemV0>,
    #[serde(default)]
    pub next_token: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct OrderItemV0 {
    #[serde(rename = "ASIN")]
    pub asin: String,
    #[serde(default, rename = "SellerSKU")]
    pub seller_sku: Option<String>,
    pub order_item_id: String,
    pub quantity_ordered: i64,
    /// The unit price times the quantity.
    #[serde(default)]
    pub item_price: Option<MoneyV0>,
}

// ---- Orders 2026-01-01 ------------------------------------------------------------------------------
//
// Decoded in place from the answer's bytes: fields that are only read (times, statuses, amounts,
// currencies) borrow from it instead of allocating (a page is 100 orders).

/// `searchOrders`.
#[derive(Debug, Deserialize)]
pub(crate) struct SearchOrdersResponse<'a, B, R> {
    #[serde(
        borrow,
        deserialize_with = "page",
        bound(deserialize = "B: Deserialize<'de>, R: Deserialize<'de>")
    )]
    pub orders: Vec<Order26<'a, B, R>>,
    #[serde(default)]
    pub pagination: Option<Pagination>,
}

/// The most orders a `searchOrders` page holds (`maxResultsPerPage` is 1 to 100).
const MAX_PAGE: usize = 100;

/// A page's orders, in a vector sized for a full page up front: JSON gives no length, and growing a
/// vector of large orders step by step copies each of them several times (issue 6).
fn page<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    struct PageVisitor<T>(std::marker::PhantomData<T>);

    impl<'de, T: Deserialize<'de>> serde::de::Visitor<'de> for PageVisitor<T> {
        type Value = Vec<T>;

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a sequence")
        }

        fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
            let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(MAX_PAGE).min(MAX_PAGE));
            while let Some(value) = seq.next_element()? {
                out.push(value);
            }
            Ok(out)
        }
    }

    deserializer.deserialize_seq(PageVisitor(std::marker::PhantomData))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Pagination {
    #[serde(default)]
    pub next_token: Option<String>,
}

/// A 2026-01-01 order; `B` and `R` are the buyer and recipient types ([`serde::de::IgnoredAny`] without
/// PII).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Order26<'a, B, R> {
    pub order_id: String,
    #[serde(borrow)]
    pub created_time: Cow<'a, str>,
    #[serde(borrow)]
    pub last_updated_time: Cow<'a, str>,
    #[serde(default = "none")]
    pub buyer: Option<B>,
    #[serde(default = "none")]
    pub recipient: Option<R>,
    #[serde(default, borrow)]
    pub proceeds: Option<OrderProceeds<'a>>,
    #[serde(default, borrow)]
    pub fulfillment: Option<OrderFulfillment<'a>>,
    #[serde(borrow)]
    pub order_items: Vec<OrderItem26<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Buyer26 {
    #[serde(default)]
    pub buyer_name: Option<String>,
    #[serde(default)]
    pub buyer_email: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Recipient26 {
    #[serde(default)]
    pub delivery_address: Option<Address26>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Address26 {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub address_line1: Option<String>,
    #[serde(default)]
    pub address_line2: Option<String>,
    #[serde(default)]
    pub address_line3: Option<String>,
    #[serde(default)]
    pub city: Option<String>,
    #[serde(default)]
    pub state_or_region: Option<String>,
    #[serde(default)]
    pub postal_code: Option<String>,
    #[serde(default)]
    pub country_code: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct OrderProceeds<'a> {
    #[serde(default, borrow)]
    pub grand_total: Option<Money26<'a>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct OrderFulfillment<'a> {
    #[serde(borrow)]
    pub fulfillment_status: Cow<'a, str>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct OrderItem26<'a> {
    pub order_item_id: String,
    pub quantity_ordered: i64,
    #[serde(borrow)]
    pub product: ItemProduct<'a>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ItemProduct<'a> {
    #[serde(default, borrow)]
    pub asin: Option<Cow<'a, str>>,
    #[serde(default)]
    pub seller_sku: Option<String>,
    #[serde(default, borrow)]
    pub price: Option<ItemPrice<'a>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ItemPrice<'a> {
    #[serde(default, borrow)]
    pub unit_price: Option<Money26<'a>>,
}

/// Model `Money` (2026-01-01): `amount` is a decimal string.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Money26<'a> {
    #[serde(borrow)]
    pub amount: Cow<'a, str>,
    #[serde(borrow)]
    pub currency_code: Cow<'a, str>,
}

// ---- FBA inventory ----------------------------------------------------------------------------------

/// `getInventorySummaries`.
#[derive(Debug, Deserialize)]
pub(crate) struct GetInventorySummariesResponse {
    #[serde(default)]
    pub payload: Option<InventoryPayload>,
    #[serde(default)]
    pub pagination: Option<Pagination>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct InventoryPayload {
    #[serde(default)]
    pub inventory_summaries: Vec<InventorySummary>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct InventorySummary {
    #[serde(default)]
    pub seller_sku: Option<String>,
    #[serde(default)]
    pub total_quantity: Option<i64>,
    #[serde(default)]
    pub inventory_details: Option<InventoryDetails>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct InventoryDetails {
    #[serde(default)]
    pub fulfillable_quantity: Option<i64>,
}

// ---- Listings ---------------------------------------------------------------------------------------

/// `patchListingsItem` request: one `merge` of `fulfillment_availability` (MIN-4: nothing else is sent).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ListingsItemPatchRequest<'a> {
    pub product_type: &'a str,
    pub patches: [PatchOperation; 1],
}

#[derive(Debug, Serialize)]
pub(crate) struct PatchOperation {
    pub op: &'static str,
    pub path: &'static str,
    pub value: [FulfillmentAvailability; 1],
}

#[derive(Debug, Serialize)]
pub(crate) struct FulfillmentAvailability {
    pub fulfillment_channel_code: &'static str,
    pub quantity: u32,
}

/// `patchListingsItem` answer (model `ListingsItemSubmissionResponse`).
#[derive(Debug, Deserialize)]
pub(crate) struct ListingsItemSubmissionResponse {
    pub status: String,
    #[serde(default)]
    pub issues: Vec<Issue>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Issue {
    pub code: String,
    pub message: String,
    pub severity: String,
}

#[cfg(test)]
mod tests;
