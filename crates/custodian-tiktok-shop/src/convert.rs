//! Wire → domain: orders (status, amounts in micros, one line per unit), buyer PII sealed in the order's
//! context (ENC-1), and stock levels per SKU and warehouse.

use custodian_core::data::{
    BuyerPii, Currency, LineId, LocationId, Order, OrderId, OrderLine, OrderStatus, PostalAddress, Sku,
    StockLevel, seal,
};
use custodian_core::ports::{PiiSealer, Target};
use time::OffsetDateTime;
use zeroize::Zeroize as _;

use crate::error::TikTokShopError;
use crate::wire::{AddressWire, OrderWire, ProductWire, Text};

fn data(what: &str) -> TikTokShopError {
    TikTokShopError::Data(what.to_owned())
}

/// TikTok Shop's order status, normalized. `ON_HOLD` (the buyer may still cancel) is pending;
/// `AWAITING_COLLECTION` (shipment arranged, not collected) is unshipped; `COMPLETED` is delivered.
pub(crate) fn status(raw: &str) -> Result<OrderStatus, TikTokShopError> {
    Ok(match raw {
        "UNPAID" | "ON_HOLD" => OrderStatus::Pending,
        "AWAITING_SHIPMENT" | "AWAITING_COLLECTION" => OrderStatus::Unshipped,
        "PARTIALLY_SHIPPING" => OrderStatus::PartiallyShipped,
        "IN_TRANSIT" => OrderStatus::Shipped,
        "DELIVERED" | "COMPLETED" => OrderStatus::Delivered,
        "CANCELLED" => OrderStatus::Cancelled,
        _ => return Err(data("an order has an unknown status")),
    })
}

/// A decimal amount (`"12.34"`, `"0"`, `"-1.5"`) in millionths, exactly; more than six decimals or anything
/// else is refused.
pub(crate) fn micros(amount: &str) -> Result<i64, TikTokShopError> {
    let bad = || data("an amount is not a decimal number");
    let (negative, digits) = match amount.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, amount),
    };
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    if whole.is_empty()
        || fraction.len() > 6
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !fraction.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(bad());
    }
    let whole: i64 = whole.parse().map_err(|_| bad())?;
    let mut frac: i64 = if fraction.is_empty() { 0 } else { fraction.parse().map_err(|_| bad())? };
    for _ in fraction.len()..6 {
        frac *= 10;
    }
    let value = whole.checked_mul(1_000_000).and_then(|w| w.checked_add(frac)).ok_or_else(bad)?;
    Ok(if negative { -value } else { value })
}

fn unix(seconds: i64) -> Result<OffsetDateTime, TikTokShopError> {
    OffsetDateTime::from_unix_timestamp(seconds).map_err(|_| data("a time is out of range"))
}

/// The order without its buyer, and the buyer fields as read (for the caller to seal or to drop).
pub(crate) fn order<E, A>(
    target: &Target,
    wire: OrderWire<'_, E, A>,
) -> Result<(Order, Option<E>, Option<A>), TikTokShopError> {
    let lines = wire
        .line_items
        .iter()
        .map(|line| {
            Ok(OrderLine {
                id: LineId::new(line.id.as_ref()).map_err(|_| data("a line item id is invalid"))?,
                sku: Sku::new(line.sku_id.as_ref()).map_err(|_| data("a sku id is invalid"))?,
                quantity: 1,
                unit_price_micros: micros(&line.sale_price)?,
            })
        })
        .collect::<Result<Vec<_>, TikTokShopError>>()?;
    let currency = wire
        .payment
        .as_ref()
        .and_then(|p| p.currency.as_deref())
        .or_else(|| wire.line_items.iter().find_map(|l| l.currency.as_deref()))
        .ok_or_else(|| data("an order has no currency"))?;
    let currency = Currency::new(currency).map_err(|_| data("an order's currency is invalid"))?;
    let total_micros = match wire.payment.as_ref().and_then(|p| p.total_amount.as_deref()) {
        Some(total) => micros(total)?,
        None => lines.iter().map(|l| l.unit_price_micros).sum(),
    };
    let order = Order {
        tenant: target.tenant.clone(),
        grant: target.grant.clone(),
        account: target.account.clone(),
        id: OrderId::new(wire.id.into_owned()).map_err(|_| data("an order id is invalid"))?,
        status: status(&wire.status)?,
        created_at: unix(wire.create_time)?,
        updated_at: unix(wire.update_time)?,
        currency,
        total_micros,
        lines,
        buyer: None,
    };
    Ok((order, wire.buyer_email, wire.recipient_address))
}

/// An owned copy of a text that is not blank.
fn present(value: Option<&str>) -> Option<String> {
    value.filter(|v| !v.trim().is_empty()).map(str::to_owned)
}

/// The buyer PII of an order: recipient name, phone and address, and the (relay) buyer email; `None` when
/// TikTok Shop sent none of them. Only the kept parts are copied out of the (borrowed) wire text.
pub(crate) fn buyer(email: Option<Text<'_>>, address: Option<AddressWire<'_>>) -> Option<BuyerPii> {
    let email = present(email.as_deref());
    let (name, phone, postal) = match address {
        None => (None, None, None),
        Some(a) => {
            let level = |l: &str| {
                a.district_info
                    .iter()
                    .find(|d| d.address_level == l && !d.address_name.trim().is_empty())
                    .map(|d| d.address_name.as_ref().to_owned())
            };
            let region = level("L1");
            let city = level("L3")
                .or_else(|| present(a.post_town.as_deref()))
                .or_else(|| level("L2"))
                .unwrap_or_default();
            let country = present(a.region_code.as_deref()).or_else(|| level("L0")).unwrap_or_default();
            let lines: Vec<String> = [&a.address_line1, &a.address_line2, &a.address_line3, &a.address_line4]
                .into_iter()
                .filter_map(|line| present(line.as_deref()))
                .collect();
            let postal_code = present(a.postal_code.as_deref());
            let address = (!lines.is_empty() || !city.is_empty() || postal_code.is_some())
                .then_some(PostalAddress { lines, city, region, postal_code, country });
            (present(a.name.as_deref()), present(a.phone_number.as_deref()), address)
        }
    };
    if name.is_none() && email.is_none() && phone.is_none() && postal.is_none() {
        return None;
    }
    Some(BuyerPii { name, email, phone, address: postal })
}

/// Seals `pii` into `order` with the sealer's key, bound to the order's sealing context, then zeroizes the
/// plaintext (ENC-1).
pub(crate) fn seal_buyer(
    order: &mut Order,
    mut pii: BuyerPii,
    sealer: &PiiSealer,
) -> Result<(), TikTokShopError> {
    let sealed = seal(&sealer.key, &order.seal_context(), &pii, sealer.rng.as_ref());
    pii.zeroize();
    order.buyer = Some(sealed.map_err(TikTokShopError::Seal)?);
    Ok(())
}

/// The stock levels of a page of products: one per SKU and warehouse.
pub(crate) fn stock_levels(
    target: &Target,
    products: Vec<ProductWire>,
    observed_at: OffsetDateTime,
) -> Result<Vec<StockLevel>, TikTokShopError> {
    let mut levels = Vec::new();
    for sku in products.into_iter().flat_map(|p| p.skus) {
        let id = Sku::new(sku.id).map_err(|_| data("a sku id is invalid"))?;
        for entry in sku.inventory {
            let location = match entry.warehouse_id.filter(|w| !w.is_empty()) {
                Some(w) => Some(LocationId::new(w).map_err(|_| data("a warehouse id is invalid"))?),
                None => None,
            };
            levels.push(StockLevel {
                tenant: target.tenant.clone(),
                grant: target.grant.clone(),
                account: target.account.clone(),
                sku: id.clone(),
                location,
                quantity: entry.quantity,
                observed_at,
            });
        }
    }
    Ok(levels)
}

#[cfg(test)]
mod tests;
