//! Wire → domain: timestamps in eBay's ISO 8601 form, the `lastmodifieddate` filter (percent-encoded as
//! eBay requires, reference §7 vector 5), amounts, order status, orders with PII sealed at once (ENC-1),
//! stock levels.

use std::borrow::Cow;
use std::fmt::Write as _;

use custodian_core::data::{
    BuyerPii, Currency, LineId, Order, OrderId, OrderLine, OrderStatus, PostalAddress, Sku, StockLevel, seal,
};
use custodian_core::ports::{PiiSealer, PlatformError, Target};
use time::{OffsetDateTime, UtcOffset};

use crate::error::EbayError;
use crate::wire;

/// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Parses eBay's timestamps, `YYYY-MM-DDThh:mm:ss[.fraction]Z` (UTC, as every eBay date is).
pub(crate) fn parse_timestamp(text: &str) -> Option<OffsetDateTime> {
    let b = text.as_bytes();
    if b.len() < 20 || b.last() != Some(&b'Z') {
        return None;
    }
    let num = |from: usize, to: usize| -> Option<i64> {
        let part = b.get(from..to)?;
        if !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        Some(part.iter().fold(0i64, |acc, d| acc * 10 + i64::from(d - b'0')))
    };
    let at = |i: usize, c: u8| b.get(i) == Some(&c);
    if !(at(4, b'-') && at(7, b'-') && at(10, b'T') && at(13, b':') && at(16, b':')) {
        return None;
    }
    let (year, month, day) = (num(0, 4)?, num(5, 7)?, num(8, 10)?);
    let (hour, minute, second) = (num(11, 13)?, num(14, 16)?, num(17, 19)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let nanos = match b.get(19)? {
        b'Z' if b.len() == 20 => 0,
        b'.' => {
            let digits = b.get(20..b.len() - 1)?;
            if digits.is_empty() || digits.len() > 9 || !digits.iter().all(u8::is_ascii_digit) {
                return None;
            }
            (0..9).fold(0i64, |acc, i| acc * 10 + digits.get(i).map_or(0, |d| i64::from(d - b'0')))
        }
        _ => return None,
    };
    let secs = days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second;
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(secs) * 1_000_000_000 + i128::from(nanos)).ok()
}

/// Writes `t` the way eBay wants dates: `2016-05-15T08:25:43.511Z` (UTC, milliseconds).
pub(crate) fn format_timestamp(t: OffsetDateTime) -> String {
    let t = t.to_offset(UtcOffset::UTC);
    let mut out = String::with_capacity(24);
    let _ = write!(
        out,
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    );
    out
}

/// Percent-encodes a filter value as eBay requires: `[ ] { | }` (and anything else outside unreserved
/// characters, `:` and `,`) become `%XX`.
pub fn encode_filter(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len() + 16);
    for byte in raw.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~' | b':' | b',') {
            out.push(char::from(byte));
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
    out
}

/// The millisecond floor of `t`.
fn floor_ms(t: OffsetDateTime) -> OffsetDateTime {
    t.replace_nanosecond(t.millisecond() as u32 * 1_000_000).unwrap_or(t)
}

/// The inclusive `lastmodifieddate:[a..b]` range that selects exactly the orders modified in
/// `[after, before)` (eBay dates have millisecond precision): `a` = `after` rounded up to the millisecond,
/// `b` = the last millisecond before `before`.
pub(crate) fn modified_range(
    after: OffsetDateTime,
    before: OffsetDateTime,
) -> (OffsetDateTime, OffsetDateTime) {
    let start =
        if floor_ms(after) == after { after } else { floor_ms(after) + time::Duration::milliseconds(1) };
    let end =
        if floor_ms(before) == before { before - time::Duration::milliseconds(1) } else { floor_ms(before) };
    (start, end)
}

/// The getOrders `filter` query value for orders modified in `[after, before)`: only `lastmodifieddate`,
/// never combined with `creationdate` (eBay would silently use `creationdate` alone), already
/// percent-encoded.
pub fn lastmodified_filter(after: OffsetDateTime, before: OffsetDateTime) -> String {
    let (start, end) = modified_range(after, before);
    encode_filter(&format!("lastmodifieddate:[{}..{}]", format_timestamp(start), format_timestamp(end)))
}

/// A decimal amount (`"12.34"`, `"-0.5"`) in micros; at most six decimals.
pub(crate) fn micros(decimal: &str) -> Option<i64> {
    let (negative, digits) = match decimal.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, decimal),
    };
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    if whole.is_empty()
        || fraction.len() > 6
        || !whole.bytes().chain(fraction.bytes()).all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let whole: i64 = whole.parse().ok()?;
    let mut frac: i64 = if fraction.is_empty() { 0 } else { fraction.parse().ok()? };
    for _ in fraction.len()..6 {
        frac *= 10;
    }
    let value = whole.checked_mul(1_000_000)?.checked_add(frac)?;
    Some(if negative { -value } else { value })
}

/// Normalizes eBay's three status fields: cancellation first, then payment, then fulfillment.
/// `FULLY_REFUNDED` counts as returned; `PENDING`/`FAILED` payment as pending.
pub(crate) fn order_status(
    fulfillment: Option<&str>,
    payment: Option<&str>,
    cancel: Option<&str>,
) -> OrderStatus {
    if matches!(cancel, Some("CANCELED")) {
        return OrderStatus::Cancelled;
    }
    match payment {
        Some("FULLY_REFUNDED") => return OrderStatus::Returned,
        Some("PENDING" | "FAILED") => return OrderStatus::Pending,
        _ => {}
    }
    match fulfillment {
        Some("FULFILLED") => OrderStatus::Shipped,
        Some("IN_PROGRESS") => OrderStatus::PartiallyShipped,
        _ => OrderStatus::Unshipped,
    }
}

fn bad(index: usize, field: &str) -> PlatformError {
    EbayError::Decode { path: format!("orders[{index}].{field}"), category: "data" }.unavailable()
}

fn text(value: &Option<Cow<'_, str>>) -> Option<String> {
    value.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned)
}

/// Buyer PII from one eBay contact, or `None` when it carries nothing.
fn pii_of(c: &wire::ExtendedContact<'_>) -> Option<BuyerPii> {
    let address = c.contact_address.as_ref().and_then(|a| {
        let country = text(&a.country_code)?;
        Some(PostalAddress {
            lines: [text(&a.address_line1), text(&a.address_line2)].into_iter().flatten().collect(),
            city: text(&a.city).unwrap_or_default(),
            region: text(&a.state_or_province),
            postal_code: text(&a.postal_code),
            country,
        })
    });
    let pii = BuyerPii {
        name: text(&c.full_name),
        email: text(&c.email),
        phone: c.primary_phone.as_ref().and_then(|p| text(&p.phone_number)),
        address,
    };
    let empty = pii.name.is_none() && pii.email.is_none() && pii.phone.is_none() && pii.address.is_none();
    (!empty).then_some(pii)
}

/// Buyer PII of an order: the ship-to contact when there is one (the address the order goes to), else the
/// buyer's registration contact; `None` when eBay gave neither.
pub(crate) fn buyer_pii(order: &wire::PiiOrder<'_>) -> Option<BuyerPii> {
    let ship_to = order
        .fulfillment_start_instructions
        .iter()
        .flatten()
        .find_map(|f| f.shipping_step.as_ref().and_then(|s| s.ship_to.as_ref()));
    if let Some(contact) = ship_to {
        return pii_of(contact);
    }
    let buyer: wire::Buyer<'_> = serde_json::from_str(order.buyer?.get()).ok()?;
    pii_of(buyer.buyer_registration_address.as_ref()?)
}

/// Converts one order (the `index`-th of its page). PII, when present, is sealed here with the order's
/// sealing context and never leaves in clear (ENC-1).
pub(crate) fn order<B, F>(
    target: &Target,
    index: usize,
    wire: &wire::Order<'_, B, F>,
    pii: Option<(BuyerPii, &PiiSealer)>,
) -> Result<Order, PlatformError> {
    let id = OrderId::new(wire.order_id.as_ref()).map_err(|_| bad(index, "orderId"))?;
    let created_at =
        wire.creation_date.as_deref().and_then(parse_timestamp).ok_or_else(|| bad(index, "creationDate"))?;
    let updated_at = match wire.last_modified_date.as_deref() {
        Some(raw) => parse_timestamp(raw).ok_or_else(|| bad(index, "lastModifiedDate"))?,
        None => created_at,
    };
    let total = wire.pricing_summary.as_ref().and_then(|p| p.total.as_ref());
    let currency_raw = total
        .map(|t| t.currency.as_ref())
        .or_else(|| {
            wire.line_items.iter().find_map(|l| l.line_item_cost.as_ref()).map(|a| a.currency.as_ref())
        })
        .ok_or_else(|| bad(index, "pricingSummary.total.currency"))?;
    let currency = Currency::new(currency_raw).map_err(|_| bad(index, "pricingSummary.total.currency"))?;
    let total_micros = match total {
        Some(t) => micros(&t.value).ok_or_else(|| bad(index, "pricingSummary.total.value"))?,
        None => 0,
    };
    let mut lines = Vec::with_capacity(wire.line_items.len());
    for (n, line) in wire.line_items.iter().enumerate() {
        let field = |name: &str| bad(index, &format!("lineItems[{n}].{name}"));
        let quantity = line.quantity.unwrap_or(1).max(1);
        let cost = match &line.line_item_cost {
            Some(a) => micros(&a.value).ok_or_else(|| field("lineItemCost.value"))?,
            None => 0,
        };
        let sku = match line.sku.as_deref().filter(|s| !s.is_empty()) {
            Some(sku) => Sku::new(sku),
            // A listing without a SKU: the line item id stands in, so the line is kept.
            None => Sku::new(format!("line-{}", line.line_item_id)),
        }
        .map_err(|_| field("sku"))?;
        lines.push(OrderLine {
            id: LineId::new(line.line_item_id.as_ref()).map_err(|_| field("lineItemId"))?,
            sku,
            quantity,
            unit_price_micros: cost / i64::from(quantity),
        });
    }
    let status = order_status(
        wire.order_fulfillment_status.as_deref(),
        wire.order_payment_status.as_deref(),
        wire.cancel_status.as_ref().and_then(|c| c.cancel_state.as_deref()),
    );
    let mut order = Order {
        tenant: target.tenant.clone(),
        grant: target.grant.clone(),
        account: target.account.clone(),
        id,
        status,
        created_at,
        updated_at,
        currency,
        total_micros,
        lines,
        buyer: None,
    };
    if let Some((pii, sealer)) = pii {
        let sealed = seal(&sealer.key, &order.seal_context(), &pii, sealer.rng.as_ref())
            .map_err(|e| PlatformError::Unavailable(Box::new(e)))?;
        order.buyer = Some(sealed);
    }
    Ok(order)
}

/// A stock level from an inventory item; items without a SKU are skipped.
pub(crate) fn stock_level(
    target: &Target,
    item: &wire::InventoryItem,
    observed_at: OffsetDateTime,
) -> Option<Result<StockLevel, PlatformError>> {
    let sku = item.sku.as_deref()?;
    let quantity = item
        .availability
        .as_ref()
        .and_then(|a| a.ship_to_location_availability.as_ref())
        .and_then(|s| s.quantity)
        .unwrap_or(0);
    Some(
        Sku::new(sku)
            .map(|sku| StockLevel {
                tenant: target.tenant.clone(),
                grant: target.grant.clone(),
                account: target.account.clone(),
                sku,
                location: None,
                quantity,
                observed_at,
            })
            .map_err(|_| {
                EbayError::Decode { path: "inventoryItems[].sku".into(), category: "data" }.unavailable()
            }),
    )
}

#[cfg(test)]
mod tests;
