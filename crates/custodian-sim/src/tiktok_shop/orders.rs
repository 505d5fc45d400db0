//! Orders: generated per (shop, index) from the seed, searched with `POST /order/202309/orders/search`
//! (page size, page tokens, create/update time filters, status filter, sort) and read with
//! `GET /order/202309/orders?ids=…` (up to 50 ids).
//!
//! Order bodies are written straight into the response text (no intermediate values), so a page of 100
//! orders costs one buffer.

use std::fmt::{self, Write as _};

use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use super::codes;
use super::gateway::param;
use super::products::{SkuRef, price_cents};
use super::{ShopConfig, ShopRef, TikTokShopConfig, TikTokShopSim};
use crate::seed::{self, Stream};

/// Base of order ids: `ORDER_BASE + shop index · 10^12 + order index` (18 digits, like the real ids).
const ORDER_BASE: u64 = 576_460_000_000_000_000;
const SHOP_STRIDE: u64 = 1_000_000_000_000;
/// The most ids `GET /order/202309/orders` takes.
const MAX_DETAIL_IDS: usize = 50;
/// The largest `page_size`.
const MAX_PAGE_SIZE: u64 = 100;
/// Room reserved per order in a response buffer (a generated order is 2 to 4 KB of JSON).
const ORDER_BYTES: usize = 4_096;

/// Seed coordinates of the order fields.
const LAG: u64 = 1;
const STATUS: u64 = 2;
const LINES: u64 = 3;
const BUYER: u64 = 4;
const SHIPPING: u64 = 5;

/// The order statuses, with the cumulative share (of 100) of orders in each.
const STATUSES: &[(u64, &str)] = &[
    (5, "UNPAID"),
    (8, "ON_HOLD"),
    (25, "AWAITING_SHIPMENT"),
    (30, "AWAITING_COLLECTION"),
    (32, "PARTIALLY_SHIPPING"),
    (45, "IN_TRANSIT"),
    (60, "DELIVERED"),
    (92, "COMPLETED"),
    (100, "CANCELLED"),
];

const FIRST_NAMES: &[&str] =
    &["Olivia", "Amelia", "Isla", "Ava", "Noah", "Oliver", "George", "Arthur", "Leo", "Freya"];
const LAST_NAMES: &[&str] =
    &["Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Patel", "Wright"];
const STREETS: &[&str] =
    &["High Street", "Station Road", "Church Lane", "Victoria Road", "Park Avenue", "Mill Lane"];
/// City, county, nation, postcode.
const PLACES: &[(&str, &str, &str, &str)] = &[
    ("London", "Greater London", "England", "SW1A 1AA"),
    ("Manchester", "Greater Manchester", "England", "M1 1AE"),
    ("Leeds", "West Yorkshire", "England", "LS1 4AP"),
    ("Glasgow", "Glasgow City", "Scotland", "G1 1XQ"),
    ("Cardiff", "Cardiff", "Wales", "CF10 1EP"),
    ("Belfast", "Belfast", "Northern Ireland", "BT1 5GS"),
];

fn pick<T: Copy>(items: &[T], n: u64) -> T {
    items[(n % items.len() as u64) as usize]
}

/// Minimal JSON text writer for generated values. Strings are escaped (quotes, backslashes, control
/// characters); text written through [`Json::field_fmt`] must need no escaping (the simulator only formats
/// numbers and its own ASCII there).
pub(super) struct Json {
    pub(super) out: String,
}

impl Json {
    pub(super) fn with_capacity(n: usize) -> Self {
        Self { out: String::with_capacity(n) }
    }

    pub(super) fn raw(&mut self, text: &str) {
        self.out.push_str(text);
    }

    pub(super) fn string(&mut self, value: &str) {
        self.out.push('"');
        if value.bytes().any(|b| b == b'"' || b == b'\\' || b < 0x20) {
            for c in value.chars() {
                match c {
                    '"' => self.out.push_str("\\\""),
                    '\\' => self.out.push_str("\\\\"),
                    c if u32::from(c) < 0x20 => {
                        let _ = write!(self.out, "\\u{:04x}", u32::from(c));
                    }
                    c => self.out.push(c),
                }
            }
        } else {
            self.out.push_str(value);
        }
        self.out.push('"');
    }

    /// `"key":"value",`.
    pub(super) fn field(&mut self, key: &str, value: &str) {
        self.key(key);
        self.string(value);
        self.out.push(',');
    }

    /// `"key":"<formatted>",` without an intermediate string; the formatted text must need no escaping.
    pub(super) fn field_fmt(&mut self, key: &str, value: fmt::Arguments<'_>) {
        self.key(key);
        self.out.push('"');
        let _ = self.out.write_fmt(value);
        self.out.push_str("\",");
    }

    /// `"key":"value",` for a literal of this module (plain ASCII: not scanned for escapes).
    pub(super) fn lit(&mut self, key: &str, value: &'static str) {
        self.key(key);
        self.out.push('"');
        self.out.push_str(value);
        self.out.push_str("\",");
    }

    /// Appends the decimal digits of `n`.
    pub(super) fn digits(&mut self, mut n: u64) {
        let mut buf = [0u8; 20];
        let mut at = buf.len();
        loop {
            at -= 1;
            buf[at] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        self.out.push_str(std::str::from_utf8(&buf[at..]).unwrap_or("0"));
    }

    /// `"key":"123",` (ids are strings in the API).
    pub(super) fn id(&mut self, key: &str, value: u64) {
        self.key(key);
        self.out.push('"');
        self.digits(value);
        self.out.push_str("\",");
    }

    /// `"key":"12.34",` for an amount in cents.
    pub(super) fn money(&mut self, key: &str, cents: u64) {
        self.key(key);
        self.out.push('"');
        self.digits(cents / 100);
        self.out.push('.');
        let rest = cents % 100;
        if rest < 10 {
            self.out.push('0');
        }
        self.digits(rest);
        self.out.push_str("\",");
    }

    pub(super) fn int(&mut self, key: &str, value: i64) {
        self.key(key);
        if value < 0 {
            self.out.push('-');
        }
        self.digits(value.unsigned_abs());
        self.out.push(',');
    }

    pub(super) fn boolean(&mut self, key: &str, value: bool) {
        self.key(key);
        self.out.push_str(if value { "true," } else { "false," });
    }

    pub(super) fn key(&mut self, key: &str) {
        self.out.push('"');
        self.out.push_str(key);
        self.out.push_str("\":");
    }

    /// Replaces a trailing comma with `close`.
    pub(super) fn close(&mut self, close: char) {
        if self.out.ends_with(',') {
            self.out.pop();
        }
        self.out.push(close);
    }
}

/// Cents as a decimal amount: `1234` → `12.34`.
pub(super) fn money(cents: u64) -> String {
    format!("{}.{:02}", cents / 100, cents % 100)
}

/// Where order `i` of a shop sits in time.
pub(super) fn create_time(config: &TikTokShopConfig, i: u64) -> i64 {
    config.orders_start_unix + i as i64 * config.order_interval_secs.max(1)
}

fn update_time(seed: u64, config: &TikTokShopConfig, shop: ShopRef<'_>, i: u64) -> i64 {
    let interval = config.order_interval_secs.max(1) as u64;
    create_time(config, i) + seed::below(seed, &[shop.index, i, LAG], interval) as i64
}

fn status(seed: u64, shop: ShopRef<'_>, i: u64) -> &'static str {
    let roll = seed::below(seed, &[shop.index, i, STATUS], 100);
    STATUSES.iter().find(|(upto, _)| roll < *upto).map_or("COMPLETED", |(_, s)| s)
}

fn order_id(shop: ShopRef<'_>, i: u64) -> u64 {
    ORDER_BASE + shop.index * SHOP_STRIDE + i
}

/// The order index of `id` in `shop`, if it is one of its orders.
fn order_index(shop: ShopRef<'_>, id: u64) -> Option<u64> {
    let i = id.checked_sub(ORDER_BASE + shop.index * SHOP_STRIDE)?;
    (i < shop.shop.orders && i < SHOP_STRIDE).then_some(i)
}

/// Masks a name or phone as TikTok does under platform logistics: first character kept.
#[cfg(test)]
fn desensitize(text: &str, keep_tail: usize) -> String {
    let chars: Vec<char> = text.chars().collect();
    let head: String = chars.iter().take(1).collect();
    let tail: String = chars.iter().skip(chars.len().saturating_sub(keep_tail)).collect();
    format!("{head}****{tail}")
}

fn country_name(region: &str) -> &str {
    match region {
        "GB" => "United Kingdom",
        "US" => "United States",
        "DE" => "Germany",
        "FR" => "France",
        other => other,
    }
}

/// Writes `"recipient_address":{…},` for the buyer drawn as `n`. Hot path of order pages (issue 6): the
/// parts are formatted in place, no intermediate strings; every constant here is plain ASCII without
/// quotes (no escaping needed), text from the configuration goes through [`Json::field`].
fn write_recipient(json: &mut Json, shop: &ShopConfig, n: u64, platform_logistics: bool) {
    let first = pick(FIRST_NAMES, n);
    let last = pick(LAST_NAMES, n >> 8);
    let (city, county, nation, postcode) = pick(PLACES, n >> 16);
    let (house, street) = (1 + (n >> 24) % 200, pick(STREETS, n >> 32));
    let phone = (n >> 40) % 100_000;
    let country = country_name(&shop.region);
    json.key("recipient_address");
    json.raw("{");
    json.field_fmt("address_detail", format_args!("{house} {street}"));
    json.field_fmt("address_line1", format_args!("{house} {street}"));
    json.lit("address_line2", "");
    json.lit("address_line3", "");
    json.lit("address_line4", "");
    json.key("district_info");
    json.raw("[");
    for (level, level_name, value) in [
        ("L0", "Country", country),
        ("L1", "Nation", nation),
        ("L2", "County", county),
        ("L3", "Post town", city),
    ] {
        json.raw("{");
        json.lit("address_level", level);
        json.lit("address_level_name", level_name);
        json.field("address_name", value);
        json.close('}');
        json.raw(",");
    }
    json.close(']');
    json.raw(",");
    // Masked as TikTok does under platform logistics: first character kept (`desensitize`).
    fn head(text: &str) -> &str {
        text.get(..1).unwrap_or("")
    }
    if platform_logistics {
        json.field_fmt("first_name", format_args!("{}****", head(first)));
    } else {
        json.lit("first_name", first);
    }
    if country.bytes().any(|b| b == b'"' || b == b'\\' || b < 0x20) {
        json.field("full_address", &format!("{house} {street}, {city}, {county}, {postcode}, {country}"));
    } else {
        json.field_fmt(
            "full_address",
            format_args!("{house} {street}, {city}, {county}, {postcode}, {country}"),
        );
    }
    if platform_logistics {
        json.field_fmt("last_name", format_args!("{}****", head(last)));
        json.field_fmt("name", format_args!("{}****", head(first)));
        json.field_fmt("phone_number", format_args!("(****{:02}", phone % 100));
    } else {
        json.lit("last_name", last);
        json.field_fmt("name", format_args!("{first} {last}"));
        json.field_fmt("phone_number", format_args!("(+44)77009{phone:05}"));
    }
    json.lit("post_town", city);
    json.lit("postal_code", postcode);
    json.field("region_code", &shop.region);
    json.close('}');
    json.raw(",");
}

/// The straightforward form of [`write_recipient`], kept as the oracle its test compares with.
#[cfg(test)]
pub(super) fn write_recipient_reference(
    json: &mut Json,
    shop: &ShopConfig,
    n: u64,
    platform_logistics: bool,
) {
    let first = pick(FIRST_NAMES, n);
    let last = pick(LAST_NAMES, n >> 8);
    let (city, county, nation, postcode) = pick(PLACES, n >> 16);
    let street = format!("{} {}", 1 + (n >> 24) % 200, pick(STREETS, n >> 32));
    let full_name = format!("{first} {last}");
    let phone = format!("(+44)77009{:05}", (n >> 40) % 100_000);
    let (name, first_name, last_name, phone) = if platform_logistics {
        (desensitize(&full_name, 0), desensitize(first, 0), desensitize(last, 0), desensitize(&phone, 2))
    } else {
        (full_name.clone(), first.to_owned(), last.to_owned(), phone)
    };
    let country = country_name(&shop.region);
    json.key("recipient_address");
    json.raw("{");
    json.field("address_detail", &street);
    json.field("address_line1", &street);
    json.lit("address_line2", "");
    json.lit("address_line3", "");
    json.lit("address_line4", "");
    json.key("district_info");
    json.raw("[");
    for (level, level_name, value) in [
        ("L0", "Country", country),
        ("L1", "Nation", nation),
        ("L2", "County", county),
        ("L3", "Post town", city),
    ] {
        json.raw("{");
        json.lit("address_level", level);
        json.lit("address_level_name", level_name);
        json.field("address_name", value);
        json.close('}');
        json.raw(",");
    }
    json.close(']');
    json.raw(",");
    json.field("first_name", &first_name);
    json.field("full_address", &format!("{street}, {city}, {county}, {postcode}, {country}"));
    json.field("last_name", &last_name);
    json.field("name", &name);
    json.field("phone_number", &phone);
    json.field("post_town", city);
    json.field("postal_code", postcode);
    json.field("region_code", &shop.region);
    json.close('}');
    json.raw(",");
}

/// [`write_recipient`] for the tests.
#[cfg(test)]
pub(super) fn write_recipient_fast(json: &mut Json, shop: &ShopConfig, n: u64, platform_logistics: bool) {
    write_recipient(json, shop, n, platform_logistics);
}

impl TikTokShopSim {
    /// Writes order `i` of `shop` as the API returns it.
    pub(super) fn write_order(&self, json: &mut Json, shop: ShopRef<'_>, i: u64) {
        let seed = self.ctx.seed;
        let config = &self.config;
        let created = create_time(config, i);
        let updated = update_time(seed, config, shop, i);
        let status = status(seed, shop, i);
        let id = order_id(shop, i);
        let currency = shop.shop.currency.as_str();
        let mut buyer = Stream::new(seed, &[shop.index, i, BUYER]);
        let platform_logistics = seed::below(seed, &[shop.index, i, SHIPPING], 2) == 0;
        let shipped = matches!(status, "IN_TRANSIT" | "DELIVERED" | "COMPLETED" | "PARTIALLY_SHIPPING");
        let paid = status != "UNPAID";
        let warehouse = shop.shop.warehouses.first().map_or("", String::as_str);

        json.raw("{");
        let mut email = buyer.token(29);
        email.make_ascii_uppercase();
        json.field_fmt("buyer_email", format_args!("{email}@scs2.tiktok.com"));
        json.lit("buyer_message", "");
        if status == "CANCELLED" {
            json.lit("cancel_reason", "Buyer changed mind");
            json.lit("cancellation_initiator", "BUYER");
        }
        json.lit("commerce_platform", "TIKTOK_SHOP");
        json.int("create_time", created);
        json.lit("delivery_option_id", "7091146663229654785");
        json.lit("delivery_option_name", "Standard shipping");
        json.lit("delivery_type", "HOME_DELIVERY");
        json.lit("fulfillment_type", "FULFILLMENT_BY_SELLER");
        json.boolean("has_updated_recipient_address", false);
        json.id("id", id);
        json.boolean("is_buyer_request_cancel", false);
        json.boolean("is_cod", false);
        json.boolean("is_on_hold_order", status == "ON_HOLD");
        json.boolean("is_replacement_order", false);
        json.boolean("is_sample_order", false);

        let lines = 1 + seed::below(seed, &[shop.index, i, LINES], 3);
        let mut sub_total = 0;
        let mut original_total = 0;
        let mut discounts = 0;
        json.key("line_items");
        json.raw("[");
        for line in 0..lines {
            let pick = seed::value(seed, &[shop.index, i, LINES, line]);
            let sku = SkuRef::pick(shop, pick);
            let sale = price_cents(seed, shop, sku.id());
            let discount = (pick >> 32) % 3 * 50;
            sub_total += sale;
            original_total += sale + discount;
            discounts += discount;
            json.raw("{");
            json.field("currency", currency);
            json.lit("display_status", if status == "ON_HOLD" { "AWAITING_SHIPMENT" } else { status });
            json.id("id", id * 10 + line);
            json.boolean("is_gift", false);
            json.money("original_price", sale + discount);
            json.lit(
                "package_status",
                if shipped {
                    "FULFILLING"
                } else if status == "CANCELLED" {
                    "CANCELLED"
                } else {
                    "TO_FULFILL"
                },
            );
            json.lit("platform_discount", "0");
            json.id("product_id", sku.product_id());
            json.field_fmt("product_name", format_args!("{}", sku.product_name_args()));
            json.money("sale_price", sale);
            json.money("seller_discount", discount);
            json.field_fmt("seller_sku", format_args!("{}", sku.seller_sku_args()));
            json.id("sku_id", sku.id());
            json.lit("sku_image", "https://p16-oec-va.ibyteimg.com/tos-maliva-i-o3syd03w52-us/sim~tplv-o3syd03w52-origin-jpeg.jpeg");
            json.field_fmt("sku_name", format_args!("{}", sku.sku_name_args()));
            json.lit("sku_type", "NORMAL");
            json.close('}');
            json.raw(",");
        }
        json.close(']');
        json.raw(",");
        json.lit("order_type", "NORMAL");
        if shipped {
            json.key("packages");
            let _ = write!(json.out, "[{{\"id\":\"{}\"}}],", 1_152_000_000_000_000_000 + id % SHOP_STRIDE);
        }
        if paid {
            json.int("paid_time", created + 60);
        }
        let shipping_fee = if platform_logistics { 0 } else { 299 };
        json.key("payment");
        json.raw("{");
        json.field("currency", currency);
        json.money("original_shipping_fee", shipping_fee);
        json.money("original_total_product_price", original_total);
        json.lit("platform_discount", "0");
        json.money("seller_discount", discounts);
        json.money("shipping_fee", shipping_fee);
        json.lit("shipping_fee_platform_discount", "0");
        json.lit("shipping_fee_seller_discount", "0");
        json.money("sub_total", sub_total);
        json.lit("tax", "0");
        json.money("total_amount", sub_total + shipping_fee);
        json.close('}');
        json.raw(",");

        // Documented: not available under UNPAID and ON_HOLD.
        if !matches!(status, "UNPAID" | "ON_HOLD") {
            let n = buyer.next_u64();
            write_recipient(json, shop.shop, n, platform_logistics);
        }
        json.int("rts_sla_time", created + 2 * 86_400);
        json.lit("shipping_provider", if platform_logistics { "TT Virtual Royal Mail" } else { "Evri" });
        json.lit("shipping_provider_id", "7117858858072016686");
        json.lit("shipping_type", if platform_logistics { "TIKTOK" } else { "SELLER" });
        json.lit("status", status);
        if shipped {
            json.field_fmt("tracking_number", format_args!("TT{:012}GB", id % 1_000_000_000_000));
        }
        json.int("tts_sla_time", created + 3 * 86_400);
        json.int("update_time", updated);
        json.field_fmt("user_id", format_args!("7494{:015}", buyer.next_u64() % 1_000_000_000_000_000));
        json.field("warehouse_id", warehouse);
        json.close('}');
    }

    /// The first index in `0..n` whose update time is at least `t` (update times increase with the index).
    fn first_updated_at(&self, shop: ShopRef<'_>, t: i64) -> u64 {
        let (mut lo, mut hi) = (0, shop.shop.orders);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if update_time(self.ctx.seed, &self.config, shop, mid) < t {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        lo
    }

    /// The first index in `0..n` whose create time is at least `t`.
    fn first_created_at(&self, shop: ShopRef<'_>, t: i64) -> u64 {
        let interval = self.config.order_interval_secs.max(1);
        let offset = t - self.config.orders_start_unix;
        if offset <= 0 {
            return 0;
        }
        let index = (offset + interval - 1) / interval;
        (index as u64).min(shop.shop.orders)
    }

    pub(super) fn order_search(
        &self,
        shop: ShopRef<'_>,
        query: &[(String, String)],
        body: &[u8],
    ) -> Response {
        let page_size = match param(query, "page_size").and_then(|p| p.parse::<u64>().ok()) {
            Some(size) if (1..=MAX_PAGE_SIZE).contains(&size) => size,
            _ => return self.invalid("page_size must be between 1 and 100"),
        };
        let descending = match param(query, "sort_order") {
            None | Some("DESC") => true,
            Some("ASC") => false,
            Some(_) => return self.invalid("sort_order"),
        };
        if !matches!(param(query, "sort_field"), None | Some("create_time" | "update_time")) {
            return self.invalid("sort_field");
        }
        let Some(filter) = self.json_body::<SearchBody>(body) else {
            return self.invalid("the body is not valid json");
        };
        let fingerprint = seed::value(
            self.ctx.seed,
            &[
                shop.index,
                u64::from(descending),
                filter.create_time_ge.map_or(u64::MAX, |t| t as u64),
                filter.create_time_lt.map_or(u64::MAX, |t| t as u64),
                filter.update_time_ge.map_or(u64::MAX, |t| t as u64),
                filter.update_time_lt.map_or(u64::MAX, |t| t as u64),
                filter.order_status.as_deref().map_or(0, seed::text),
            ],
        );

        // The index range, resolved at the first page and carried by the page token.
        let (position, lo, hi) = match param(query, "page_token").filter(|t| !t.is_empty()) {
            Some(token) => match PageToken::decode(token) {
                Some(token) if token.fingerprint == fingerprint => (token.position, token.lo, token.hi),
                _ => return self.invalid("page_token is invalid"),
            },
            None => {
                let (lo, hi) = self.resolve_range(shop, &filter);
                (0, lo, hi)
            }
        };
        let count = hi.saturating_sub(lo);
        let at = |k: u64| if descending { hi - 1 - k } else { lo + k };
        let wanted = filter.order_status.as_deref();

        // One buffer for the whole answer: the orders first, then the page token and count they determine.
        let mut json = Json::with_capacity(page_size as usize * ORDER_BYTES + 512);
        json.raw("{\"code\":0,\"data\":{\"orders\":[");
        let mut taken = 0;
        let mut k = position;
        while k < count && taken < page_size {
            let i = at(k);
            k += 1;
            if wanted.is_some_and(|s| s != status(self.ctx.seed, shop, i)) {
                continue;
            }
            if taken > 0 {
                json.raw(",");
            }
            self.write_order(&mut json, shop, i);
            taken += 1;
        }
        // Skip to the next match, so the last page never points at an empty one.
        while k < count && wanted.is_some_and(|s| s != status(self.ctx.seed, shop, at(k))) {
            k += 1;
        }
        let next =
            if k < count { PageToken { position: k, lo, hi, fingerprint }.encode() } else { String::new() };
        let total = match wanted {
            None => count,
            Some(s) => (0..count).filter(|k| status(self.ctx.seed, shop, at(*k)) == s).count() as u64,
        };
        json.raw("],");
        json.field("next_page_token", &next);
        json.int("total_count", total as i64);
        json.close('}');
        json.raw(",");
        json.field("message", "Success");
        json.field("request_id", &self.request_id());
        json.close('}');
        codes::json_response(StatusCode::OK, json.out.into_bytes())
    }

    /// The index range `[lo, hi)` of orders matching the time filters; a missing `*_lt` next to a given
    /// `*_ge` defaults to now, as documented.
    fn resolve_range(&self, shop: ShopRef<'_>, filter: &SearchBody) -> (u64, u64) {
        let now = self.ctx.clock.now_unix();
        let n = shop.shop.orders;
        let mut lo = 0;
        let mut hi = n;
        let created_lt = filter.create_time_lt.or(filter.create_time_ge.map(|_| now));
        let updated_lt = filter.update_time_lt.or(filter.update_time_ge.map(|_| now));
        if let Some(t) = filter.create_time_ge {
            lo = lo.max(self.first_created_at(shop, t));
        }
        if let Some(t) = created_lt {
            hi = hi.min(self.first_created_at(shop, t));
        }
        if let Some(t) = filter.update_time_ge {
            lo = lo.max(self.first_updated_at(shop, t));
        }
        if let Some(t) = updated_lt {
            hi = hi.min(self.first_updated_at(shop, t));
        }
        (lo, hi.max(lo))
    }

    pub(super) fn order_detail(&self, shop: ShopRef<'_>, query: &[(String, String)]) -> Response {
        let Some(ids) = param(query, "ids").filter(|ids| !ids.is_empty()) else {
            return self.invalid("ids is required");
        };
        let ids: Vec<&str> = ids.split(',').map(str::trim).collect();
        if ids.len() > MAX_DETAIL_IDS {
            return self.invalid("ids accepts at most 50 values");
        }
        let mut json = Json::with_capacity(ids.len() * ORDER_BYTES + 256);
        json.raw("{\"code\":0,\"data\":{\"orders\":[");
        let mut first = true;
        for id in ids {
            let Some(i) = id.parse::<u64>().ok().and_then(|id| order_index(shop, id)) else { continue };
            if !first {
                json.raw(",");
            }
            first = false;
            self.write_order(&mut json, shop, i);
        }
        json.raw("]},");
        json.field("message", "Success");
        json.field("request_id", &self.request_id());
        json.close('}');
        codes::json_response(StatusCode::OK, json.out.into_bytes())
    }
}

/// The body filters of an order search this simulator honours (others are accepted and ignored).
#[derive(Debug, Default, Deserialize)]
struct SearchBody {
    create_time_ge: Option<i64>,
    create_time_lt: Option<i64>,
    update_time_ge: Option<i64>,
    update_time_lt: Option<i64>,
    order_status: Option<String>,
}

/// An opaque page token: where the next page starts in the resolved range, bound to the query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct PageToken {
    position: u64,
    lo: u64,
    hi: u64,
    fingerprint: u64,
}

impl PageToken {
    fn encode(self) -> String {
        let text = format!("{}.{}.{}.{:016x}", self.position, self.lo, self.hi, self.fingerprint);
        data_encoding::BASE64.encode(text.as_bytes())
    }

    fn decode(token: &str) -> Option<Self> {
        let bytes = data_encoding::BASE64.decode(token.as_bytes()).ok()?;
        let text = std::str::from_utf8(&bytes).ok()?;
        let mut parts = text.split('.');
        let token = Self {
            position: parts.next()?.parse().ok()?,
            lo: parts.next()?.parse().ok()?,
            hi: parts.next()?.parse().ok()?,
            fingerprint: u64::from_str_radix(parts.next()?, 16).ok()?,
        };
        (parts.next().is_none() && token.lo <= token.hi).then_some(token)
    }
}

/// Page tokens of product searches: the next product index, bound to the shop.
pub(super) fn product_page_token(shop: ShopRef<'_>, seed: u64, next: u64) -> String {
    PageToken {
        position: next,
        lo: 0,
        hi: shop.shop.products,
        fingerprint: seed::value(seed, &[shop.index, 77]),
    }
    .encode()
}

/// The next product index of a product page token, if the token is this shop's.
pub(super) fn product_page_position(shop: ShopRef<'_>, seed: u64, token: &str) -> Option<u64> {
    let token = PageToken::decode(token)?;
    (token.fingerprint == seed::value(seed, &[shop.index, 77]) && token.position < token.hi)
        .then_some(token.position)
}
