//! Wire DTOs of the TikTok Shop API (reference §1 and the 202309 OAS field tables), crate-private. They keep
//! only what the domain has a place for: serde skips every other field (MIN-1).
//!
//! Orders are generic over their buyer fields: [`PlainOrder`] reads `buyer_email` and `recipient_address`
//! as [`Skip`] (serde scans past them and keeps nothing, MIN-2), [`PiiOrder`] reads them for sealing.

use std::borrow::Cow;
use std::fmt;

use secrecy::SecretString;
use serde::de::{Deserializer, IgnoredAny};
use serde::{Deserialize, Serialize};

/// `{code, message, request_id, data}`, the envelope of every answer (`message` and `request_id` are read
/// into the evidence of a refusal, see `custodian_http::Evidence`).
#[derive(Debug, Deserialize)]
pub(crate) struct Envelope<D> {
    pub(crate) code: i64,
    #[serde(default = "Option::default")]
    pub(crate) data: Option<D>,
}

/// The envelope's verdict alone, for an answer whose data does not decode.
#[derive(Debug, Deserialize)]
pub(crate) struct Head {
    pub(crate) code: i64,
}

/// A value serde reads and discards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Skip;

impl<'de> Deserialize<'de> for Skip {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        IgnoredAny::deserialize(deserializer).map(|_| Skip)
    }
}

/// `data` of `/api/v2/token/get` and `/api/v2/token/refresh`. Tokens decode straight into secrets.
#[derive(Deserialize)]
pub(crate) struct TokenData {
    pub(crate) access_token: SecretString,
    /// Absolute Unix time.
    pub(crate) access_token_expire_in: i64,
    pub(crate) refresh_token: SecretString,
    /// Absolute Unix time: the end of the authorization.
    pub(crate) refresh_token_expire_in: i64,
    pub(crate) open_id: String,
    #[serde(default)]
    pub(crate) granted_scopes: Vec<String>,
}

impl fmt::Debug for TokenData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenData")
            .field("access_token_expire_in", &self.access_token_expire_in)
            .field("refresh_token_expire_in", &self.refresh_token_expire_in)
            .field("granted_scopes", &self.granted_scopes)
            .finish_non_exhaustive()
    }
}

/// `data` of `GET /authorization/202309/shops`.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ShopsData {
    #[serde(default)]
    pub(crate) shops: Vec<ShopWire>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct ShopWire {
    pub(crate) id: String,
    pub(crate) cipher: String,
}

/// `data` of `POST /order/202309/orders/search`; an empty `next_page_token` ends the listing. Order
/// wire types borrow their text from the response body (no copy unless a string has escapes).
#[derive(Debug, Deserialize)]
pub(crate) struct OrderPage<'a, O> {
    #[serde(default, borrow)]
    pub(crate) next_page_token: Cow<'a, str>,
    #[serde(default = "Vec::new")]
    pub(crate) orders: Vec<O>,
}

impl<O> Default for OrderPage<'_, O> {
    fn default() -> Self {
        Self { next_page_token: Cow::Borrowed(""), orders: Vec::new() }
    }
}

/// One order; `E` and `A` are the types `buyer_email` and `recipient_address` are read as.
#[derive(Debug, Deserialize)]
pub(crate) struct OrderWire<'a, E, A> {
    #[serde(borrow)]
    pub(crate) id: Cow<'a, str>,
    #[serde(borrow)]
    pub(crate) status: Cow<'a, str>,
    pub(crate) create_time: i64,
    pub(crate) update_time: i64,
    #[serde(default = "Vec::new", borrow)]
    pub(crate) line_items: Vec<LineWire<'a>>,
    #[serde(default, borrow)]
    pub(crate) payment: Option<PaymentWire<'a>>,
    #[serde(default = "Option::default")]
    pub(crate) buyer_email: Option<E>,
    #[serde(default = "Option::default")]
    pub(crate) recipient_address: Option<A>,
}

/// Which buyer fields an order is read with.
pub(crate) trait OrderShape {
    type Order<'a>: Deserialize<'a>;
}

/// Orders without their buyer: the PII fields are skipped.
#[derive(Debug)]
pub(crate) struct Plain;

impl OrderShape for Plain {
    type Order<'a> = PlainOrder<'a>;
}

/// Orders with the buyer fields, to seal.
#[derive(Debug)]
pub(crate) struct WithPii;

impl OrderShape for WithPii {
    type Order<'a> = PiiOrder<'a>;
}

/// An order without its buyer.
pub(crate) type PlainOrder<'a> = OrderWire<'a, Skip, Skip>;
/// An order with the buyer fields to seal.
pub(crate) type PiiOrder<'a> = OrderWire<'a, Text<'a>, AddressWire<'a>>;

/// One line item (one unit: TikTok Shop lists each unit as its own line).
#[derive(Debug, Deserialize)]
pub(crate) struct LineWire<'a> {
    #[serde(borrow)]
    pub(crate) id: Cow<'a, str>,
    #[serde(borrow)]
    pub(crate) sku_id: Cow<'a, str>,
    #[serde(borrow)]
    pub(crate) sale_price: Cow<'a, str>,
    #[serde(default, borrow)]
    pub(crate) currency: Option<Cow<'a, str>>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct PaymentWire<'a> {
    #[serde(default, borrow)]
    pub(crate) currency: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub(crate) total_amount: Option<Cow<'a, str>>,
}

/// `recipient_address` (buyer PII). Absent under `UNPAID` and `ON_HOLD`. Borrows its text from the
/// response body (issue 6: no copy of the parts the domain does not keep); only what becomes
/// [`custodian_core::data::BuyerPii`] is copied, and sealed at once.
#[derive(Deserialize)]
pub(crate) struct AddressWire<'a> {
    #[serde(default, borrow)]
    pub(crate) name: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub(crate) phone_number: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub(crate) address_line1: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub(crate) address_line2: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub(crate) address_line3: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub(crate) address_line4: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub(crate) postal_code: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub(crate) post_town: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub(crate) region_code: Option<Cow<'a, str>>,
    #[serde(default = "Vec::new", borrow)]
    pub(crate) district_info: Vec<DistrictWire<'a>>,
}

impl fmt::Debug for AddressWire<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AddressWire([REDACTED])")
    }
}

/// One administrative level of an address: `L0` country, `L1` state or nation, `L2`, `L3`, `L4` below.
#[derive(Deserialize)]
pub(crate) struct DistrictWire<'a> {
    #[serde(default, borrow)]
    pub(crate) address_level: Cow<'a, str>,
    #[serde(default, borrow)]
    pub(crate) address_name: Cow<'a, str>,
}

/// A text field of the buyer (`buyer_email`), borrowed from the response body when it has no escapes.
/// Never printed.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Text<'a>(pub(crate) Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Cow<'de, str>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: serde::de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Cow::Borrowed(v))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Cow::Owned(v.to_owned()))
            }
            fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(Cow::Owned(v))
            }
        }
        deserializer.deserialize_str(Visitor).map(Text)
    }
}

impl std::ops::Deref for Text<'_> {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl<'a> From<&'a str> for Text<'a> {
    fn from(text: &'a str) -> Self {
        Self(Cow::Borrowed(text))
    }
}

impl fmt::Debug for Text<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[REDACTED]")
    }
}

/// `data` of `POST /product/202309/products/search`.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ProductPage {
    #[serde(default)]
    pub(crate) next_page_token: String,
    #[serde(default)]
    pub(crate) products: Vec<ProductWire>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct ProductWire {
    #[serde(default)]
    pub(crate) skus: Vec<SkuWire>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct SkuWire {
    pub(crate) id: String,
    #[serde(default)]
    pub(crate) inventory: Vec<InventoryWire>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct InventoryWire {
    #[serde(default)]
    pub(crate) warehouse_id: Option<String>,
    pub(crate) quantity: i64,
}

/// `data` of `POST /product/202309/inventory/search`: which product each SKU belongs to.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct InventoryData {
    #[serde(default)]
    pub(crate) inventory: Vec<InventoryProductWire>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct InventoryProductWire {
    pub(crate) product_id: String,
    #[serde(default)]
    pub(crate) skus: Vec<IdWire>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct IdWire {
    pub(crate) id: String,
}

/// `data` of the inventory update: per-SKU outcomes, when TikTok Shop reports them.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct UpdateData {
    #[serde(default)]
    pub(crate) skus: Vec<UpdateResultWire>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct UpdateResultWire {
    pub(crate) id: String,
    #[serde(default)]
    pub(crate) success: Option<bool>,
}

/// The order search body: orders updated in `[update_time_ge, update_time_lt)`.
#[derive(Debug, Serialize)]
pub(crate) struct OrderSearchBody {
    pub(crate) update_time_ge: i64,
    pub(crate) update_time_lt: i64,
}

/// The product search body.
#[derive(Debug, Serialize)]
pub(crate) struct ProductSearchBody {
    pub(crate) status: &'static str,
}

/// The inventory search body: at most 100 SKU ids.
#[derive(Debug, Serialize)]
pub(crate) struct InventorySearchBody<'a> {
    pub(crate) sku_ids: &'a [&'a str],
}

/// The inventory update body: absolute quantities per warehouse for SKUs of one product.
#[derive(Debug, Serialize)]
pub(crate) struct InventoryUpdateBody<'a> {
    pub(crate) skus: Vec<UpdateSkuBody<'a>>,
}

#[derive(Debug, Serialize)]
pub(crate) struct UpdateSkuBody<'a> {
    pub(crate) id: &'a str,
    pub(crate) inventory: Vec<UpdateInventoryBody<'a>>,
}

#[derive(Debug, Serialize)]
pub(crate) struct UpdateInventoryBody<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) warehouse_id: Option<&'a str>,
    pub(crate) quantity: u32,
}

/// A webhook notification: `{type, tts_notification_id, shop_id, timestamp, data}`.
#[derive(Debug, Deserialize)]
pub(crate) struct NotificationWire {
    #[serde(rename = "type")]
    pub(crate) kind: i64,
    pub(crate) tts_notification_id: Id,
    pub(crate) shop_id: Id,
    pub(crate) timestamp: i64,
    #[serde(default)]
    pub(crate) data: Option<NotificationData>,
}

/// `data` of a notification: only the expiry of type 7 is read (`message` is free text).
#[derive(Debug, Deserialize)]
pub(crate) struct NotificationData {
    #[serde(default)]
    pub(crate) expiration_time: Option<i64>,
}

/// An id sent as a string (documented) or, in older payloads, a number.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(crate) enum Id {
    Text(String),
    Number(u64),
}

impl Id {
    pub(crate) fn into_string(self) -> String {
        match self {
            Self::Text(text) => text,
            Self::Number(n) => n.to_string(),
        }
    }
}

#[cfg(test)]
mod tests;
