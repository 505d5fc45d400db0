//! `getOrders` (`GET /sell/fulfillment/v1/order`): filters, paging and orders generated from the seed.

#![expect(
    clippy::result_large_err,
    reason = "the error of a route helper is the HTTP answer itself, built once per refused request"
)]

use std::fmt::Write as _;
use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;

use super::envelope::{self, ApiError, pct_decode, push_digits, write_iso_ms};
use super::{EbaySim, SCOPE_FULFILLMENT, SCOPE_FULFILLMENT_READONLY};
use crate::seed;

const DOMAIN: &str = "API_FULFILLMENT";
const DAY_MS: i64 = 86_400_000;
/// How long before its last modification an order may have been created.
const CREATED_BEFORE_MS: i64 = 3 * DAY_MS;
/// getOrders returns orders up to two years old, and date ranges of at most two years.
const TWO_YEARS_MS: i64 = 730 * DAY_MS;

fn request_error(id: u32, message: String) -> Response {
    envelope::errors(StatusCode::BAD_REQUEST, &[ApiError::new(id, DOMAIN, "REQUEST", message)])
}

/// The parsed `filter`.
#[derive(Debug, Default)]
struct Filter {
    creation: Option<(i64, i64)>,
    modified: Option<(i64, i64)>,
    statuses: Option<[&'static str; 2]>,
}

/// Parses one `[start..end]` range (end optional: now), checking it as eBay documents.
fn parse_range(value: &str, now_ms: i64) -> Result<(i64, i64), Response> {
    let inner = value
        .strip_prefix('[')
        .and_then(|v| v.strip_suffix(']'))
        .ok_or_else(|| request_error(30810, "Invalid date format".into()))?;
    let (start, end) =
        inner.split_once("..").ok_or_else(|| request_error(30810, "Invalid date format".into()))?;
    if start.is_empty() {
        return Err(request_error(30820, "Start date is missing".into()));
    }
    let start =
        envelope::parse_iso_ms(start).ok_or_else(|| request_error(30810, "Invalid date format".into()))?;
    let end = if end.is_empty() {
        now_ms
    } else {
        envelope::parse_iso_ms(end).ok_or_else(|| request_error(30810, "Invalid date format".into()))?
    };
    if start > now_ms || end > now_ms {
        return Err(request_error(30850, "Start and end dates can't be in the future".into()));
    }
    if start > end {
        return Err(request_error(30840, "Start date should be before end date".into()));
    }
    if end - start > TWO_YEARS_MS {
        return Err(request_error(
            30830,
            "Time range between start date and end date must be within '2' years.".into(),
        ));
    }
    Ok((start, end))
}

fn parse_filter(raw: &str, now_ms: i64) -> Result<Filter, Response> {
    // eBay requires `[ ] { | }` percent-encoded in the query string.
    if let Some(bad) = raw.chars().find(|c| matches!(c, '[' | ']' | '{' | '}' | '|')) {
        return Err(request_error(30800, format!("Invalid filter value {bad} for filter filter")));
    }
    let decoded = pct_decode(raw, false)
        .ok_or_else(|| request_error(30800, "Invalid filter value for filter filter".into()))?;
    let mut filter = Filter::default();
    for criterion in decoded.split(',').filter(|c| !c.is_empty()) {
        let (name, value) = criterion.split_once(':').unwrap_or((criterion, ""));
        match name {
            "creationdate" => filter.creation = Some(parse_range(value, now_ms)?),
            "lastmodifieddate" => filter.modified = Some(parse_range(value, now_ms)?),
            "orderfulfillmentstatus" => {
                filter.statuses = Some(match value {
                    "{NOT_STARTED|IN_PROGRESS}" | "{IN_PROGRESS|NOT_STARTED}" => {
                        ["NOT_STARTED", "IN_PROGRESS"]
                    }
                    "{FULFILLED|IN_PROGRESS}" | "{IN_PROGRESS|FULFILLED}" => ["FULFILLED", "IN_PROGRESS"],
                    _ => {
                        return Err(request_error(
                            30800,
                            format!("Invalid filter value {value} for filter orderfulfillmentstatus"),
                        ));
                    }
                });
            }
            other => return Err(request_error(30700, format!("Invalid filter name: {other}"))),
        }
    }
    Ok(filter)
}

/// The orders of one seller, generated on the fly.
struct Book<'a> {
    sim: &'a EbaySim,
    seller: usize,
    count: u64,
    start_ms: i64,
    span_ms: i64,
}

impl<'a> Book<'a> {
    fn new(sim: &'a EbaySim, seller: usize) -> Self {
        let (start_ms, end_ms) = sim.orders_window();
        let count = sim.config.sellers.get(seller).map_or(0, |s| s.orders);
        Self { sim, seller, count, start_ms, span_ms: (end_ms - start_ms).max(1) }
    }

    fn coord(&self, i: u64, what: u64) -> u64 {
        seed::value(self.sim.ctx.seed, &[seed::text("ebay-order"), self.seller as u64, i, what])
    }

    /// Last modification of order `i`: increasing with `i`, inside the window.
    fn modified(&self, i: u64) -> i64 {
        let offset = i128::from(i) * i128::from(self.span_ms) / i128::from(self.count.max(1));
        self.start_ms + i64::try_from(offset).unwrap_or(0)
    }

    fn created(&self, i: u64) -> i64 {
        self.modified(i) - i64::try_from(self.coord(i, 0) % CREATED_BEFORE_MS as u64).unwrap_or(0)
    }

    /// The first index whose modification time is at least `at`.
    fn first_modified_at_or_after(&self, at: i64) -> u64 {
        let (mut lo, mut hi) = (0u64, self.count);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if self.modified(mid) < at { lo = mid + 1 } else { hi = mid }
        }
        lo
    }

    /// Indices whose modification time is in `[a, b]`.
    fn modified_between(&self, a: i64, b: i64) -> std::ops::Range<u64> {
        let lo = self.first_modified_at_or_after(a);
        let hi = self.first_modified_at_or_after(b.saturating_add(1));
        lo..hi.max(lo)
    }

    fn status(&self, i: u64) -> (&'static str, &'static str, &'static str) {
        let r = self.coord(i, 1) % 100;
        if r < 3 {
            return ("NOT_STARTED", "FULLY_REFUNDED", "CANCELED");
        }
        let payment = if self.coord(i, 2) % 100 < 2 { "PENDING" } else { "PAID" };
        let fulfillment = match r {
            0..18 => "NOT_STARTED",
            18..28 => "IN_PROGRESS",
            _ => "FULFILLED",
        };
        (fulfillment, payment, "NONE_REQUESTED")
    }

    /// The index of an order id of this seller.
    fn index_of(&self, id: &str) -> Option<u64> {
        let mut parts = id.split('-');
        let (s, hi, lo) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some()
            || s.parse::<usize>().ok()? != self.seller % 100
            || hi.len() != 5
            || lo.len() != 5
        {
            return None;
        }
        let i = hi.parse::<u64>().ok()? * 100_000 + lo.parse::<u64>().ok()?;
        (i < self.count).then_some(i)
    }

    /// Writes order `i` as the `Order` schema has it, PII included, straight into `out`. Hot path of a
    /// large sync (issue 6): text is appended piecewise, numbers through a digit writer, no formatter;
    /// `contact` is scratch space for the contact written twice (registration and ship-to).
    fn write(&self, out: &mut String, contact: &mut String, i: u64) {
        let seller = self.sim.config.sellers.get(self.seller);
        let seller_id = seller.map_or("", |s| s.user_id.as_str());
        let (fulfillment, payment, cancel) = self.status(i);
        let person = self.coord(i, 3);
        let who = (person % FIRST.len() as u64) as usize;
        let first = FIRST.get(who).copied().unwrap_or("Alex");
        let lower = FIRST_LOWER.get(who).copied().unwrap_or("alex");
        let last = LAST.get((person / 7 % LAST.len() as u64) as usize).copied().unwrap_or("Smith");
        let place = PLACES.get((person / 101 % PLACES.len() as u64) as usize).copied().unwrap_or(PLACES[0]);
        let street = STREETS.get((person / 13 % STREETS.len() as u64) as usize).copied().unwrap_or("Main St");
        let house = person / 1009 % 9000 + 100;
        let phone = person / 7919 % 9_000_000 + 1_000_000;
        let handle = person / 104_729 % 1_000_000_000;
        let lines = 1 + self.coord(i, 4) % 3;
        let inventory = seller.map_or(1, |s| s.inventory_items.max(1));
        // (sku, quantity, unit price in cents) of each line.
        let mut all = [(0u64, 0u64, 0u64); 3];
        for (k, slot) in (0..lines).zip(all.iter_mut()) {
            let draw = self.coord(i, 10 + k);
            *slot = (draw % inventory, 1 + draw / 1_000_003 % 3, 100 + draw / 7_000_001 % 19_900);
        }
        let items = all.get(..usize::try_from(lines).unwrap_or(1)).unwrap_or(&[]);
        let subtotal: u64 = items.iter().map(|(_, q, unit)| q * unit).sum();
        let delivery = 500 + person % 1000;
        let modified = self.modified(i);
        contact.clear();
        for part in [r#"{"fullName":""#, first, " ", last, r#"","contactAddress":{"addressLine1":""#] {
            contact.push_str(part);
        }
        push_digits(contact, house, 0);
        for part in [" ", street, r#"","city":""#, place.0, r#"","stateOrProvince":""#, place.1] {
            contact.push_str(part);
        }
        for part in
            [r#"","postalCode":""#, place.2, r#"","countryCode":"US"},"primaryPhone":{"phoneNumber":""#]
        {
            contact.push_str(part);
        }
        contact.push_str(place.3);
        push_digits(contact, phone, 0);
        contact.push_str(r#""},"email":""#);
        contact.push_str(lower);
        push_digits(contact, handle, 0);
        contact.push_str(r#"@members.ebay.com"}"#);

        out.push_str(r#"{"orderId":""#);
        push_digits(out, self.seller as u64 % 100, 2);
        out.push('-');
        push_digits(out, (i / 100_000) % 100_000, 5);
        out.push('-');
        push_digits(out, i % 100_000, 5);
        out.push_str(r#"","creationDate":""#);
        write_iso_ms(out, self.created(i));
        out.push_str(r#"","lastModifiedDate":""#);
        write_iso_ms(out, modified);
        for part in [r#"","orderFulfillmentStatus":""#, fulfillment, r#"","orderPaymentStatus":""#, payment] {
            out.push_str(part);
        }
        for part in [r#"","sellerId":""#, seller_id, r#"","buyer":{"username":""#, lower] {
            out.push_str(part);
        }
        push_digits(out, person % 10_000, 0);
        for part in [r#"","taxAddress":{"stateOrProvince":""#, place.1, r#"","postalCode":""#, place.2] {
            out.push_str(part);
        }
        out.push_str(r#"","countryCode":"US"},"buyerRegistrationAddress":"#);
        out.push_str(contact);
        out.push_str(r#"},"pricingSummary":{"priceSubtotal":{"value":""#);
        push_money(out, subtotal);
        out.push_str(r#"","currency":"USD"},"deliveryCost":{"value":""#);
        push_money(out, delivery);
        out.push_str(r#"","currency":"USD"},"total":{"value":""#);
        push_money(out, subtotal + delivery);
        out.push_str(r#"","currency":"USD"}},"cancelStatus":{"cancelState":""#);
        out.push_str(cancel);
        out.push_str(r#"","cancelRequests":[]},"paymentSummary":{"totalDueSeller":{"value":""#);
        push_money(out, subtotal + delivery);
        out.push_str(r#"","currency":"USD"}},"fulfillmentStartInstructions":[{"fulfillmentInstructionsType":"SHIP_TO","minEstimatedDeliveryDate":""#);
        write_iso_ms(out, modified + 2 * DAY_MS);
        out.push_str(r#"","maxEstimatedDeliveryDate":""#);
        write_iso_ms(out, modified + 5 * DAY_MS);
        out.push_str(r#"","ebaySupportedFulfillment":false,"shippingStep":{"shipTo":"#);
        out.push_str(contact);
        out.push_str(r#","shippingCarrierCode":"USPS","shippingServiceCode":"USPSPriority"}}],"fulfillmentHrefs":[],"lineItems":["#);
        for (k, (sku, quantity, unit)) in items.iter().enumerate() {
            if k > 0 {
                out.push(',');
            }
            out.push_str(r#"{"lineItemId":""#);
            push_digits(out, 10_000_000_000 + i * 4 + k as u64, 0);
            out.push_str(r#"","legacyItemId":""#);
            push_digits(out, 110_000_000_000 + sku, 0);
            out.push_str(r#"","sku":"SKU-"#);
            push_digits(out, *sku, 6);
            out.push_str(r#"","title":"Simulated item "#);
            push_digits(out, *sku, 0);
            out.push_str(r#"","lineItemCost":{"value":""#);
            push_money(out, unit * quantity);
            out.push_str(r#"","currency":"USD"},"quantity":"#);
            push_digits(out, *quantity, 0);
            out.push_str(r#","soldFormat":"FIXED_PRICE","listingMarketplaceId":"EBAY_US","purchaseMarketplaceId":"EBAY_US","lineItemFulfillmentStatus":""#);
            out.push_str(fulfillment);
            out.push_str(r#"","total":{"value":""#);
            push_money(out, unit * quantity);
            out.push_str(r#"","currency":"USD"},"deliveryCost":{"shippingCost":{"value":"0.00","currency":"USD"}},"appliedPromotions":[],"taxes":[],"properties":{"buyerProtection":true}}"#);
        }
        out.push_str(r#"],"salesRecordReference":""#);
        push_digits(out, 1000 + i, 0);
        out.push_str(r#""}"#);
    }

    /// The straightforward `write!` form of [`Book::write`], kept as the oracle its tests compare with.
    #[cfg(test)]
    fn write_reference(&self, out: &mut String, i: u64) {
        let seller = self.sim.config.sellers.get(self.seller);
        let seller_id = seller.map_or("", |s| s.user_id.as_str());
        let (fulfillment, payment, cancel) = self.status(i);
        let person = self.coord(i, 3);
        let who = (person % FIRST.len() as u64) as usize;
        let first = FIRST.get(who).copied().unwrap_or("Alex");
        let lower = FIRST_LOWER.get(who).copied().unwrap_or("alex");
        let last = LAST.get((person / 7 % LAST.len() as u64) as usize).copied().unwrap_or("Smith");
        let place = PLACES.get((person / 101 % PLACES.len() as u64) as usize).copied().unwrap_or(PLACES[0]);
        let street = STREETS.get((person / 13 % STREETS.len() as u64) as usize).copied().unwrap_or("Main St");
        let house = person / 1009 % 9000 + 100;
        let phone = person / 7919 % 9_000_000 + 1_000_000;
        let handle = person / 104_729 % 1_000_000_000;
        let lines = 1 + self.coord(i, 4) % 3;
        let inventory = seller.map_or(1, |s| s.inventory_items.max(1));
        // (sku, quantity, unit price in cents) of each line.
        let mut all = [(0u64, 0u64, 0u64); 3];
        for (k, slot) in (0..lines).zip(all.iter_mut()) {
            let draw = self.coord(i, 10 + k);
            *slot = (draw % inventory, 1 + draw / 1_000_003 % 3, 100 + draw / 7_000_001 % 19_900);
        }
        let items = all.get(..usize::try_from(lines).unwrap_or(1)).unwrap_or(&[]);
        let subtotal: u64 = items.iter().map(|(_, q, unit)| q * unit).sum();
        let delivery = 500 + person % 1000;
        let modified = self.modified(i);
        let mut contact = String::with_capacity(320);
        {
            let _ = write!(
                contact,
                r#"{{"fullName":"{first} {last}","contactAddress":{{"addressLine1":"{house} {street}","city":"{}","stateOrProvince":"{}","postalCode":"{}","countryCode":"US"}},"primaryPhone":{{"phoneNumber":"{}{phone}"}},"email":"{lower}{handle}@members.ebay.com"}}"#,
                place.0, place.1, place.2, place.3,
            );
        }
        let _ = write!(
            out,
            r#"{{"orderId":"{:02}-{:05}-{:05}","creationDate":""#,
            self.seller % 100,
            (i / 100_000) % 100_000,
            i % 100_000
        );
        write_iso_ms(out, self.created(i));
        out.push_str(r#"","lastModifiedDate":""#);
        write_iso_ms(out, modified);
        let _ = write!(
            out,
            r#"","orderFulfillmentStatus":"{fulfillment}","orderPaymentStatus":"{payment}","sellerId":"{seller_id}","buyer":{{"username":"{lower}{}","taxAddress":{{"stateOrProvince":"{}","postalCode":"{}","countryCode":"US"}},"buyerRegistrationAddress":"#,
            person % 10_000,
            place.1,
            place.2,
        );
        out.push_str(&contact);
        let _ = write!(
            out,
            r#"}},"pricingSummary":{{"priceSubtotal":{{"value":"{}","currency":"USD"}},"deliveryCost":{{"value":"{}","currency":"USD"}},"total":{{"value":"{}","currency":"USD"}}}},"cancelStatus":{{"cancelState":"{cancel}","cancelRequests":[]}},"paymentSummary":{{"totalDueSeller":{{"value":"{}","currency":"USD"}}}},"fulfillmentStartInstructions":[{{"fulfillmentInstructionsType":"SHIP_TO","minEstimatedDeliveryDate":""#,
            Money(subtotal),
            Money(delivery),
            Money(subtotal + delivery),
            Money(subtotal + delivery),
        );
        write_iso_ms(out, modified + 2 * DAY_MS);
        out.push_str(r#"","maxEstimatedDeliveryDate":""#);
        write_iso_ms(out, modified + 5 * DAY_MS);
        out.push_str(r#"","ebaySupportedFulfillment":false,"shippingStep":{"shipTo":"#);
        out.push_str(&contact);
        out.push_str(r#","shippingCarrierCode":"USPS","shippingServiceCode":"USPSPriority"}}],"fulfillmentHrefs":[],"lineItems":["#);
        for (k, (sku, quantity, unit)) in items.iter().enumerate() {
            if k > 0 {
                out.push(',');
            }
            let _ = write!(
                out,
                r#"{{"lineItemId":"{}","legacyItemId":"{}","sku":"SKU-{sku:06}","title":"Simulated item {sku}","lineItemCost":{{"value":"{}","currency":"USD"}},"quantity":{quantity},"soldFormat":"FIXED_PRICE","listingMarketplaceId":"EBAY_US","purchaseMarketplaceId":"EBAY_US","lineItemFulfillmentStatus":"{fulfillment}","total":{{"value":"{}","currency":"USD"}},"deliveryCost":{{"shippingCost":{{"value":"0.00","currency":"USD"}}}},"appliedPromotions":[],"taxes":[],"properties":{{"buyerProtection":true}}}}"#,
                10_000_000_000 + i * 4 + k as u64,
                110_000_000_000 + sku,
                Money(unit * quantity),
                Money(unit * quantity),
            );
        }
        let _ = write!(out, r#"],"salesRecordReference":"{}"}}"#, 1000 + i);
    }
}

/// `text` as a JSON string literal.
pub(super) fn json_str(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_else(|_| "\"\"".to_owned())
}

/// Appends cents as eBay's decimal string (`12.34`).
fn push_money(out: &mut String, cents: u64) {
    push_digits(out, cents / 100, 1);
    out.push('.');
    push_digits(out, cents % 100, 2);
}

/// Cents as eBay's decimal string.
#[cfg(test)]
struct Money(u64);

#[cfg(test)]
impl std::fmt::Display for Money {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(envelope::digits(&mut [0; 20], self.0 / 100, 1))?;
        f.write_str(".")?;
        f.write_str(envelope::digits(&mut [0; 20], self.0 % 100, 2))
    }
}

const FIRST: [&str; 16] = [
    "Ana", "Ben", "Chloe", "Dmitri", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jonas", "Kemal", "Lena",
    "Marco", "Nadia", "Omar", "Priya",
];
const FIRST_LOWER: [&str; 16] = [
    "ana", "ben", "chloe", "dmitri", "elena", "farid", "grace", "hiro", "ines", "jonas", "kemal", "lena",
    "marco", "nadia", "omar", "priya",
];
const LAST: [&str; 12] = [
    "Garcia", "Okafor", "Novak", "Tanaka", "Schmidt", "Rossi", "Dubois", "Kowalski", "Silva", "Larsen",
    "Haddad", "Walker",
];
const STREETS: [&str; 8] =
    ["Main St", "Oak Ave", "Maple Dr", "Cedar Ln", "Pine St", "Elm St", "Lake Rd", "Hill Ct"];
/// (city, state, postal code, phone prefix).
const PLACES: [(&str, &str, &str, &str); 6] = [
    ("San Jose", "CA", "95125", "408"),
    ("Austin", "TX", "78701", "512"),
    ("Portland", "OR", "97205", "503"),
    ("Columbus", "OH", "43215", "614"),
    ("Raleigh", "NC", "27601", "919"),
    ("Denver", "CO", "80202", "303"),
];

/// `GET /sell/fulfillment/v1/order`.
pub(super) async fn get_orders(State(sim): State<Arc<EbaySim>>, headers: HeaderMap, uri: Uri) -> Response {
    let caller = match sim.authorize(&headers, &[SCOPE_FULFILLMENT, SCOPE_FULFILLMENT_READONLY]) {
        Ok(caller) => caller,
        Err(refused) => return refused,
    };
    let Some(seller) = caller.user else { return envelope::insufficient_permissions() };
    if let Err(throttled) = sim.throttle("fulfillment", sim.config.limits.fulfillment) {
        return throttled;
    }
    let now_ms = sim.now_ms();
    let mut limit = 50u64;
    let mut offset = 0u64;
    let mut filter_raw = None;
    let mut order_ids = None;
    for (name, value) in envelope::raw_query_pairs(uri.query()) {
        match name {
            "limit" => match value.parse::<u64>() {
                Ok(v) if (1..=200).contains(&v) => limit = v,
                _ => return request_error(31100, format!("Invalid limit: {value}")),
            },
            "offset" => match value.parse::<u64>() {
                Ok(v) => offset = v,
                Err(_) => return request_error(31000, format!("Invalid offset: {value}")),
            },
            "filter" => filter_raw = Some(value),
            "orderIds" => order_ids = pct_decode(value, false),
            "fieldGroups" if pct_decode(value, false).as_deref() != Some("TAX_BREAKDOWN") => {
                return request_error(32800, format!("Invalid field group: {value}"));
            }
            _ => {}
        }
    }
    let book = Book::new(&sim, seller);

    // orderIds overrides every other parameter.
    if let Some(ids) = order_ids {
        let ids: Vec<&str> = ids.split(',').filter(|s| !s.is_empty()).collect();
        if ids.len() > 50 {
            return request_error(
                30900,
                "Exceeded maximum number of order IDs (the current limit is <code>50</code>)".into(),
            );
        }
        let found: Vec<u64> = ids
            .iter()
            .filter_map(|id| book.index_of(id))
            .filter(|i| now_ms - book.created(*i) <= TWO_YEARS_MS)
            .collect();
        let href = sim.href(uri.query());
        return page(&book, &href, None, found.len() as u64, found.len() as u64, 0, found.into_iter());
    }

    let filter = match filter_raw.map(|raw| parse_filter(raw, now_ms)).transpose() {
        Ok(filter) => filter.unwrap_or_default(),
        Err(refused) => return refused,
    };
    // Documented: with both dates, only creationdate is used. Without a date, the last 90 days' orders.
    let creation = match (filter.creation, filter.modified) {
        (Some(range), _) => Some(range),
        (None, Some(_)) => None,
        (None, None) => Some((now_ms - 90 * DAY_MS, now_ms)),
    };
    let oldest = now_ms - TWO_YEARS_MS;
    let href = sim.href(uri.query());
    let base = sim.base_href();
    match (creation, filter.statuses) {
        (None, None) => {
            let (a, b) = filter.modified.unwrap_or((now_ms, now_ms));
            let range = book.modified_between(a, b);
            let total = range.end.saturating_sub(range.start);
            let first = range.start.saturating_add(offset).min(range.end);
            let last = first.saturating_add(limit).min(range.end);
            page(&book, &href, Some((&base, filter_raw, limit, offset)), total, limit, offset, first..last)
        }
        (creation, statuses) => {
            let candidates = match creation {
                Some((a, b)) => book.modified_between(a, b.saturating_add(CREATED_BEFORE_MS)),
                None => {
                    let (a, b) = filter.modified.unwrap_or((now_ms, now_ms));
                    book.modified_between(a, b)
                }
            };
            let matching: Vec<u64> = candidates
                .filter(|&i| {
                    let created = book.created(i);
                    created >= oldest
                        && creation.is_none_or(|(a, b)| (a..=b).contains(&created))
                        && statuses.is_none_or(|s| s.contains(&book.status(i).0))
                })
                .collect();
            let total = matching.len() as u64;
            let first = usize::try_from(offset).unwrap_or(usize::MAX).min(matching.len());
            let last = first.saturating_add(usize::try_from(limit).unwrap_or(usize::MAX)).min(matching.len());
            let slice = matching.get(first..last).unwrap_or_default().to_vec();
            page(
                &book,
                &href,
                Some((&base, filter_raw, limit, offset)),
                total,
                limit,
                offset,
                slice.into_iter(),
            )
        }
    }
}

/// Writes an `OrderSearchPagedCollection`. `paging` (base URL, raw filter, limit, offset) adds `next` and
/// `prev` links when there are more pages.
fn page(
    book: &Book<'_>,
    href: &str,
    paging: Option<(&str, Option<&str>, u64, u64)>,
    total: u64,
    limit: u64,
    offset: u64,
    indices: impl Iterator<Item = u64>,
) -> Response {
    let mut out = String::with_capacity(3072 * usize::try_from(limit.min(200)).unwrap_or(200) + 512);
    let _ = write!(out, r#"{{"href":{},"total":{total},"limit":{limit},"offset":{offset}"#, json_str(href));
    if let Some((base, filter, limit, offset)) = paging {
        let link = |offset: u64| {
            let filter = filter.map(|f| format!("filter={f}&")).unwrap_or_default();
            format!("{base}?{filter}limit={limit}&offset={offset}")
        };
        if offset.saturating_add(limit) < total {
            let _ = write!(out, r#","next":{}"#, json_str(&link(offset + limit)));
        }
        if offset > 0 {
            let _ = write!(out, r#","prev":{}"#, json_str(&link(offset.saturating_sub(limit))));
        }
    }
    out.push_str(r#","orders":["#);
    let mut contact = String::with_capacity(512);
    for (n, i) in indices.enumerate() {
        if n > 0 {
            out.push(',');
        }
        book.write(&mut out, &mut contact, i);
    }
    out.push_str("]}");
    envelope::raw_json(StatusCode::OK, out.into_bytes())
}

impl EbaySim {
    /// The public URL of getOrders (as `href` shows it).
    fn base_href(&self) -> String {
        format!("{}/ebay/api/sell/fulfillment/v1/order", self.ctx.base_url())
    }

    fn href(&self, query: Option<&str>) -> String {
        match query {
            Some(q) if !q.is_empty() => format!("{}?{q}", self.base_href()),
            _ => self.base_href(),
        }
    }

    /// How many orders of `user_id` were last modified in `[from_ms, to_ms]` (inclusive, as eBay's filter).
    pub fn orders_modified_between(&self, user_id: &str, from_ms: i64, to_ms: i64) -> u64 {
        let Some(seller) = self.seller_index(user_id) else { return 0 };
        let range = Book::new(self, seller).modified_between(from_ms, to_ms);
        range.end - range.start
    }
}

#[cfg(test)]
mod tests;
