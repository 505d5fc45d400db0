//! Wire → domain: orders of both Orders APIs (status, times, totals and lines in micros), buyer PII (only
//! from the PII-typed wire shapes, and sealed at once: ENC-1), FBA stock levels; plus the SP-API date-time
//! and decimal formats. Fields the domain has no place for are dropped here (MIN-1).

use custodian_core::data::{
    BuyerPii, Currency, LineId, LocationId, Order, OrderId, OrderLine, OrderStatus, PostalAddress, Sku,
    StockLevel, seal,
};
use custodian_core::ports::{PiiSealer, Target};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::error::AmazonError;
use crate::wire::{
    Address26, AddressV0, Buyer26, BuyerInfoV0, InventorySummary, Money26, MoneyV0, Order26, OrderItem26,
    OrderItemV0, OrderV0, Recipient26,
};

/// The location of FBA stock (Amazon's fulfillment network, AFN).
pub const FBA_LOCATION: &str = "AFN";

fn data_error(what: impl Into<String>) -> AmazonError {
    AmazonError::Data(what.into())
}

/// Parses an SP-API date-time (ISO 8601 / RFC 3339, e.g. `2025-01-01T00:00:00Z`).
pub(crate) fn parse_time(field: &'static str, raw: &str) -> Result<OffsetDateTime, AmazonError> {
    OffsetDateTime::parse(raw, &Rfc3339)
        .map_err(|_| data_error(format!("`{field}` is not an ISO 8601 date-time")))
}

/// Formats a query date-time: UTC, whole seconds, `Z` (Amazon refuses other offsets).
pub(crate) fn format_time(at: OffsetDateTime) -> String {
    let utc = at.to_offset(time::UtcOffset::UTC).replace_nanosecond(0).unwrap_or(at);
    utc.format(&Rfc3339).unwrap_or_default()
}

/// A decimal amount (`"154.99"`, `"-0.5"`) in micros; `None` when malformed or out of range. Digits past
/// the sixth decimal are dropped.
pub fn micros(raw: &str) -> Option<i64> {
    let raw = raw.trim();
    let (negative, digits) = match raw.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, raw.strip_prefix('+').unwrap_or(raw)),
    };
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    if whole.is_empty() && fraction.is_empty() {
        return None;
    }
    if !whole.bytes().all(|b| b.is_ascii_digit()) || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let whole: i64 = if whole.is_empty() { 0 } else { whole.parse().ok()? };
    let mut frac: i64 = 0;
    for (i, b) in fraction.bytes().take(6).enumerate() {
        frac += i64::from(b - b'0') * 10_i64.pow(5 - u32::try_from(i).ok()?);
    }
    let value = whole.checked_mul(1_000_000)?.checked_add(frac)?;
    Some(if negative { -value } else { value })
}

/// Orders v0 `OrderStatus` → [`OrderStatus`].
pub fn status_v0(raw: &str) -> OrderStatus {
    match raw {
        "Unshipped" => OrderStatus::Unshipped,
        "PartiallyShipped" => OrderStatus::PartiallyShipped,
        "Shipped" | "InvoiceUnconfirmed" => OrderStatus::Shipped,
        "Canceled" | "Unfulfillable" => OrderStatus::Cancelled,
        "Pending" | "PendingAvailability" => OrderStatus::Pending,
        other => {
            tracing::warn!(status = other, "unknown amazon order status, read as pending");
            OrderStatus::Pending
        }
    }
}

/// Orders 2026-01-01 `FulfillmentStatus` → [`OrderStatus`].
pub fn status_2026(raw: &str) -> OrderStatus {
    match raw {
        "UNSHIPPED" => OrderStatus::Unshipped,
        "PARTIALLY_SHIPPED" => OrderStatus::PartiallyShipped,
        "SHIPPED" => OrderStatus::Shipped,
        "CANCELLED" | "UNFULFILLABLE" => OrderStatus::Cancelled,
        "PENDING" | "PENDING_AVAILABILITY" => OrderStatus::Pending,
        other => {
            tracing::warn!(status = other, "unknown amazon fulfillment status, read as pending");
            OrderStatus::Pending
        }
    }
}

fn currency(raw: &str) -> Result<Currency, AmazonError> {
    Currency::new(raw).map_err(|_| data_error(format!("currency `{raw}` is not an ISO 4217 code")))
}

fn amount(field: &'static str, raw: &str) -> Result<i64, AmazonError> {
    micros(raw).ok_or_else(|| data_error(format!("`{field}` is not a decimal amount")))
}

fn quantity(raw: i64) -> u32 {
    u32::try_from(raw.max(0)).unwrap_or(u32::MAX)
}

fn sku(seller_sku: Option<&str>, asin: Option<&str>) -> Result<Sku, AmazonError> {
    let raw = seller_sku.filter(|s| !s.is_empty()).or(asin).unwrap_or_default();
    Sku::new(raw).map_err(|e| data_error(format!("order item sku: {e}")))
}

fn v0_money(money: Option<&MoneyV0>) -> Option<(&str, &str)> {
    let money = money?;
    Some((money.currency_code.as_deref()?, money.amount.as_deref()?))
}

/// Whether a v0 order (and its items) names no currency, so that the marketplace's default is needed.
pub(crate) fn v0_lacks_currency<B, A>(order: &OrderV0<B, A>, items: &[OrderItemV0]) -> bool {
    v0_money(order.order_total.as_ref()).is_none()
        && items.iter().all(|i| v0_money(i.item_price.as_ref()).is_none())
}

/// A v0 order with its items, stamped with `target`, without buyer data (the buyer and address parts of
/// the wire order are returned for [`pii_v0`]). `fallback`: the marketplace's default currency.
pub(crate) fn order_v0<B, A>(
    target: &Target,
    wire: OrderV0<B, A>,
    items: Vec<OrderItemV0>,
    fallback: Option<Currency>,
) -> Result<(Order, Option<B>, Option<A>), AmazonError> {
    let mut lines = Vec::with_capacity(items.len());
    let mut currency_code = v0_money(wire.order_total.as_ref()).map(|(c, _)| c.to_owned());
    let mut items_total: i64 = 0;
    for item in items {
        let quantity = quantity(item.quantity_ordered);
        let line_total = match v0_money(item.item_price.as_ref()) {
            Some((code, raw)) => {
                currency_code.get_or_insert_with(|| code.to_owned());
                amount("ItemPrice.Amount", raw)?
            }
            None => 0,
        };
        items_total = items_total.saturating_add(line_total);
        lines.push(OrderLine {
            id: LineId::new(item.order_item_id).map_err(|e| data_error(format!("order item id: {e}")))?,
            sku: sku(item.seller_sku.as_deref(), Some(&item.asin))?,
            quantity,
            unit_price_micros: if quantity == 0 { 0 } else { line_total / i64::from(quantity) },
        });
    }
    let total_micros = match v0_money(wire.order_total.as_ref()) {
        Some((_, raw)) => amount("OrderTotal.Amount", raw)?,
        None => items_total,
    };
    let currency = match currency_code {
        Some(code) => currency(&code)?,
        None => fallback.unwrap_or(currency("XXX")?),
    };
    let order = Order {
        tenant: target.tenant.clone(),
        grant: target.grant.clone(),
        account: target.account.clone(),
        id: OrderId::new(wire.amazon_order_id).map_err(|e| data_error(format!("order id: {e}")))?,
        status: status_v0(&wire.order_status),
        created_at: parse_time("PurchaseDate", &wire.purchase_date)?,
        updated_at: parse_time("LastUpdateDate", &wire.last_update_date)?,
        currency,
        total_micros,
        lines,
        buyer: None,
    };
    Ok((order, wire.buyer_info, wire.shipping_address))
}

fn non_empty(value: Option<String>) -> Option<String> {
    value.filter(|v| !v.trim().is_empty())
}

fn postal_address(
    lines: [Option<String>; 3],
    city: Option<String>,
    region: Option<String>,
    postal_code: Option<String>,
    country: Option<String>,
) -> Option<PostalAddress> {
    let lines: Vec<String> = lines.into_iter().filter_map(non_empty).collect();
    let city = non_empty(city);
    let country = non_empty(country);
    if lines.is_empty() && city.is_none() {
        return None;
    }
    Some(PostalAddress {
        lines,
        city: city.unwrap_or_default(),
        region: non_empty(region),
        postal_code: non_empty(postal_code),
        country: country.unwrap_or_default(),
    })
}

fn buyer_pii(
    name: Option<String>,
    email: Option<String>,
    phone: Option<String>,
    address: Option<PostalAddress>,
) -> Option<BuyerPii> {
    let pii = BuyerPii { name: non_empty(name), email: non_empty(email), phone: non_empty(phone), address };
    let empty = pii.name.is_none() && pii.email.is_none() && pii.phone.is_none() && pii.address.is_none();
    (!empty).then_some(pii)
}

/// Buyer PII of a v0 order (`BuyerInfo` and `ShippingAddress` read with an RDT), if any.
pub(crate) fn pii_v0(buyer: Option<BuyerInfoV0>, address: Option<AddressV0>) -> Option<BuyerPii> {
    let (name, email) = buyer.map_or((None, None), |b| (b.buyer_name, b.buyer_email));
    let (recipient, phone, postal) = match address {
        None => (None, None, None),
        Some(a) => (
            a.name,
            a.phone,
            postal_address(
                [a.address_line1, a.address_line2, a.address_line3],
                a.city,
                a.state_or_region,
                a.postal_code,
                a.country_code,
            ),
        ),
    };
    buyer_pii(name.or(recipient), email, phone, postal)
}

fn money_26(field: &'static str, money: &Money26<'_>) -> Result<(Currency, i64), AmazonError> {
    Ok((currency(&money.currency_code)?, amount(field, &money.amount)?))
}

fn unit_price_26<'w>(item: &'w OrderItem26<'_>) -> Option<&'w Money26<'w>> {
    item.product.price.as_ref()?.unit_price.as_ref()
}

/// Whether a 2026 order names no currency, so that the marketplace's default is needed.
pub(crate) fn lacks_currency_26<B, R>(order: &Order26<'_, B, R>) -> bool {
    order.proceeds.as_ref().and_then(|p| p.grand_total.as_ref()).is_none()
        && order.order_items.iter().all(|i| unit_price_26(i).is_none())
}

/// A 2026-01-01 order stamped with `target`, without buyer data (the buyer and recipient parts are
/// returned for [`pii_26`]).
pub(crate) fn order_26<B, R>(
    target: &Target,
    wire: Order26<'_, B, R>,
    fallback: Option<Currency>,
) -> Result<(Order, Option<B>, Option<R>), AmazonError> {
    let mut currency_found = None;
    let mut items_total: i64 = 0;
    let mut lines = Vec::with_capacity(wire.order_items.len());
    for item in wire.order_items {
        let quantity = quantity(item.quantity_ordered);
        let unit = match unit_price_26(&item) {
            Some(money) => {
                let (code, micros) = money_26("unitPrice.amount", money)?;
                currency_found.get_or_insert(code);
                micros
            }
            None => 0,
        };
        items_total = items_total.saturating_add(unit.saturating_mul(i64::from(quantity)));
        let sku = match item.product.seller_sku.filter(|s| !s.is_empty()) {
            Some(owned) => Sku::new(owned).map_err(|e| data_error(format!("order item sku: {e}")))?,
            None => sku(None, item.product.asin.as_deref())?,
        };
        lines.push(OrderLine {
            id: LineId::new(item.order_item_id).map_err(|e| data_error(format!("order item id: {e}")))?,
            sku,
            quantity,
            unit_price_micros: unit,
        });
    }
    let (currency, total_micros) = match wire.proceeds.as_ref().and_then(|p| p.grand_total.as_ref()) {
        Some(total) => money_26("grandTotal.amount", total)?,
        None => match currency_found {
            Some(code) => (code, items_total),
            None => (fallback.unwrap_or(currency("XXX")?), items_total),
        },
    };
    let status =
        wire.fulfillment.as_ref().map_or(OrderStatus::Pending, |f| status_2026(&f.fulfillment_status));
    let order = Order {
        tenant: target.tenant.clone(),
        grant: target.grant.clone(),
        account: target.account.clone(),
        id: OrderId::new(wire.order_id).map_err(|e| data_error(format!("order id: {e}")))?,
        status,
        created_at: parse_time("createdTime", &wire.created_time)?,
        updated_at: parse_time("lastUpdatedTime", &wire.last_updated_time)?,
        currency,
        total_micros,
        lines,
        buyer: None,
    };
    Ok((order, wire.buyer, wire.recipient))
}

/// Buyer PII of a 2026-01-01 order (`buyer` and `recipient`, included only on request), if any.
pub(crate) fn pii_26(buyer: Option<Buyer26>, recipient: Option<Recipient26>) -> Option<BuyerPii> {
    let (name, email) = buyer.map_or((None, None), |b| (b.buyer_name, b.buyer_email));
    let address: Option<Address26> = recipient.and_then(|r| r.delivery_address);
    let (recipient_name, phone, postal) = match address {
        None => (None, None, None),
        Some(a) => (
            a.name,
            a.phone,
            postal_address(
                [a.address_line1, a.address_line2, a.address_line3],
                a.city,
                a.state_or_region,
                a.postal_code,
                a.country_code,
            ),
        ),
    };
    buyer_pii(name.or(recipient_name), email, phone, postal)
}

/// Seals `pii` into `order` with the sealer's key, bound to the order's tenant and id (ENC-1).
pub(crate) fn seal_buyer(order: &mut Order, pii: &BuyerPii, sealer: &PiiSealer) -> Result<(), AmazonError> {
    let sealed = seal(&sealer.key, &order.seal_context(), pii, sealer.rng.as_ref())
        .map_err(|e| data_error(format!("buyer pii cannot be sealed: {e}")))?;
    order.buyer = Some(sealed);
    Ok(())
}

/// An FBA inventory summary as a stock level at [`FBA_LOCATION`] (the fulfillable quantity, else the
/// total); `None` for a summary without a seller SKU.
pub(crate) fn stock_level(
    target: &Target,
    summary: InventorySummary,
    observed_at: OffsetDateTime,
) -> Result<Option<StockLevel>, AmazonError> {
    let Some(raw_sku) = summary.seller_sku.filter(|s| !s.is_empty()) else { return Ok(None) };
    let quantity = summary
        .inventory_details
        .and_then(|d| d.fulfillable_quantity)
        .or(summary.total_quantity)
        .unwrap_or(0);
    Ok(Some(StockLevel {
        tenant: target.tenant.clone(),
        grant: target.grant.clone(),
        account: target.account.clone(),
        sku: Sku::new(raw_sku).map_err(|e| data_error(format!("inventory sku: {e}")))?,
        location: Some(LocationId::new(FBA_LOCATION).map_err(|e| data_error(e.to_string()))?),
        quantity,
        observed_at,
    }))
}

#[cfg(test)]
pub(crate) mod tests;
