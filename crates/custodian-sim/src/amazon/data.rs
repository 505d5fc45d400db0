//! Deterministic seller data: orders (with items and buyer PII), SKUs and FBA quantities, each a pure
//! function of the seed, the seller and the record's index.
//!
//! Order `i` of a seller was last updated at `epoch_ms + i × interval_ms` (so last-update times grow with
//! `i` and a time window is an index range), created up to three days before, and placed in the seller's
//! marketplace `i mod n`.

use super::AmazonSellerConfig;
use super::iso::push_padded;
use crate::seed::{Stream, text, value};

/// The most an order's creation precedes its last update, in seconds.
pub(crate) const MAX_CREATION_LAG_SECS: i64 = 3 * 86_400;

/// What the simulator knows about a marketplace (for `getMarketplaceParticipations` and currencies).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct MarketplaceInfo {
    pub name: &'static str,
    pub country: &'static str,
    pub currency: &'static str,
    pub language: &'static str,
    pub domain: &'static str,
}

/// The marketplaces the simulator describes; any other id is described as a generic US-dollar store.
pub(crate) fn marketplace(id: &str) -> MarketplaceInfo {
    let (name, country, currency, language, domain) = match id {
        "ATVPDKIKX0DER" => ("Amazon.com", "US", "USD", "en_US", "www.amazon.com"),
        "A2EUQ1WTGCTBG2" => ("Amazon.ca", "CA", "CAD", "en_CA", "www.amazon.ca"),
        "A1F83G8C2ARO7P" => ("Amazon.co.uk", "GB", "GBP", "en_GB", "www.amazon.co.uk"),
        "A1PA6795UKMFR9" => ("Amazon.de", "DE", "EUR", "de_DE", "www.amazon.de"),
        _ => ("Amazon", "US", "USD", "en_US", "www.amazon.com"),
    };
    MarketplaceInfo { name, country, currency, language, domain }
}

/// An order status, in both APIs' vocabularies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    Pending,
    Unshipped,
    PartiallyShipped,
    Shipped,
    Canceled,
    InvoiceUnconfirmed,
    Unfulfillable,
}

impl Status {
    pub(crate) const ALL: [Status; 7] = [
        Status::Pending,
        Status::Unshipped,
        Status::PartiallyShipped,
        Status::Shipped,
        Status::Canceled,
        Status::InvoiceUnconfirmed,
        Status::Unfulfillable,
    ];

    /// Orders v0 `OrderStatus`.
    pub(crate) fn v0(self) -> &'static str {
        match self {
            Status::Pending => "Pending",
            Status::Unshipped => "Unshipped",
            Status::PartiallyShipped => "PartiallyShipped",
            Status::Shipped => "Shipped",
            Status::Canceled => "Canceled",
            Status::InvoiceUnconfirmed => "InvoiceUnconfirmed",
            Status::Unfulfillable => "Unfulfillable",
        }
    }

    /// Orders 2026-01-01 `FulfillmentStatus`.
    pub(crate) fn v2026(self) -> &'static str {
        match self {
            Status::Pending => "PENDING",
            Status::Unshipped => "UNSHIPPED",
            Status::PartiallyShipped => "PARTIALLY_SHIPPED",
            Status::Shipped | Status::InvoiceUnconfirmed => "SHIPPED",
            Status::Canceled => "CANCELLED",
            Status::Unfulfillable => "UNFULFILLABLE",
        }
    }

    /// v0: the shipping address exists only for these statuses (model note on `ShippingAddress`).
    pub(crate) fn has_shipping_address(self) -> bool {
        matches!(
            self,
            Status::Unshipped | Status::PartiallyShipped | Status::Shipped | Status::InvoiceUnconfirmed
        )
    }

    /// Pending orders carry no prices (model note on `getOrderItems`).
    pub(crate) fn priced(self) -> bool {
        self != Status::Pending
    }

    fn shipped_fraction(self) -> (u32, u32) {
        match self {
            Status::Shipped | Status::InvoiceUnconfirmed => (1, 1),
            Status::PartiallyShipped => (1, 2),
            _ => (0, 1),
        }
    }
}

/// One line of a generated order.
#[derive(Debug, Clone)]
pub(crate) struct Item {
    pub id: String,
    pub sku: String,
    pub asin: String,
    pub title: &'static str,
    pub quantity: u32,
    pub unit_cents: u64,
}

/// A generated buyer and recipient (PII).
#[derive(Debug, Clone)]
pub(crate) struct Buyer {
    pub name: String,
    pub email: String,
    pub phone: String,
    pub line1: String,
    pub city: &'static str,
    pub region: &'static str,
    pub postal_code: String,
}

/// A generated order.
#[derive(Debug, Clone)]
pub(crate) struct Order {
    pub id: String,
    pub marketplace: String,
    pub info: MarketplaceInfo,
    pub created: i64,
    pub updated: i64,
    pub status: Status,
    /// Fulfilled by Amazon (AFN) rather than the merchant (MFN).
    pub afn: bool,
    pub prime: bool,
    pub items: Vec<Item>,
    pub buyer: Buyer,
}

impl Order {
    pub(crate) fn total_cents(&self) -> u64 {
        self.items.iter().map(|i| i.unit_cents * u64::from(i.quantity)).sum()
    }

    pub(crate) fn items_shipped(&self) -> (u32, u32) {
        let units: u32 = self.items.iter().map(|i| i.quantity).sum();
        let (num, den) = self.status.shipped_fraction();
        let shipped = units * num / den;
        (shipped, units - shipped)
    }

    pub(crate) fn item_shipped(&self, item: &Item) -> u32 {
        let (num, den) = self.status.shipped_fraction();
        item.quantity * num / den
    }
}

/// `cents` as an SP-API decimal amount (`"12.34"`).
pub(crate) fn amount(cents: u64) -> String {
    let mut out = String::with_capacity(8);
    push_amount(&mut out, cents);
    out
}

/// Appends [`amount`]'s text to `out`.
pub(crate) fn push_amount(out: &mut String, cents: u64) {
    push_padded(out, cents / 100, 1);
    out.push('.');
    push_padded(out, cents % 100, 2);
}

/// Coordinates that tell the generated values apart (FNV-1a of `amazon-order`, fixed so that they are not
/// hashed per order).
const ORDER_TAG: u64 = 0x6f72_6465_7273_0001;

const TITLES: [&str; 8] = [
    "Stainless Steel Water Bottle, 750 ml",
    "Organic Cotton Tote Bag",
    "Wireless Charging Pad",
    "Ceramic Pour-Over Coffee Dripper",
    "Bamboo Cutting Board Set",
    "LED Desk Lamp with Dimmer",
    "Merino Wool Hiking Socks, 3 Pairs",
    "Silicone Baking Mat, 2 Pack",
];
const FIRST: [&str; 10] =
    ["Avery", "Jordan", "Riley", "Morgan", "Casey", "Taylor", "Quinn", "Harper", "Rowan", "Sage"];
const LAST: [&str; 10] =
    ["Nguyen", "Garcia", "Smith", "Okafor", "Kowalski", "Tanaka", "Haddad", "Larsen", "Moreau", "Silva"];
const STREETS: [&str; 6] = ["Westlake Ave", "Pine St", "Maple Dr", "Harbor Rd", "Elm St", "Cedar Ln"];
const US_CITIES: [(&str, &str, &str); 5] = [
    ("SEATTLE", "WA", "98"),
    ("AUSTIN", "TX", "78"),
    ("DENVER", "CO", "80"),
    ("BOSTON", "MA", "02"),
    ("MIAMI", "FL", "33"),
];
const CA_CITIES: [(&str, &str, &str); 3] =
    [("TORONTO", "ON", "M5V"), ("VANCOUVER", "BC", "V6B"), ("MONTREAL", "QC", "H2X")];

fn pick<T: Copy, const N: usize>(stream: &mut Stream, list: &[T; N]) -> T {
    let i = usize::try_from(stream.below(N as u64)).unwrap_or(0);
    list.get(i).copied().unwrap_or(list[0])
}

/// The name of SKU number `n`.
pub(crate) fn sku_name(n: u64) -> String {
    let mut out = String::with_capacity(10);
    out.push_str("SKU-");
    push_padded(&mut out, n, 6);
    out
}

/// The number of a SKU named by [`sku_name`], if it is one of the seller's.
pub(crate) fn sku_number(seller: &AmazonSellerConfig, sku: &str) -> Option<u64> {
    let digits = sku.strip_prefix("SKU-")?;
    if digits.len() != 6 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok().filter(|n| *n < seller.skus)
}

/// A seller's generated data.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SellerData<'a> {
    pub seed: u64,
    pub index: usize,
    pub seller: &'a AmazonSellerConfig,
    pub epoch_ms: i64,
    pub interval_ms: i64,
    seller_code: u64,
}

impl<'a> SellerData<'a> {
    pub(crate) fn new(
        seed: u64,
        index: usize,
        seller: &'a AmazonSellerConfig,
        epoch_unix: i64,
        interval_ms: u64,
    ) -> Self {
        Self {
            seed,
            index,
            seller,
            epoch_ms: epoch_unix.saturating_mul(1000),
            interval_ms: i64::try_from(interval_ms.max(1)).unwrap_or(i64::MAX),
            seller_code: text(&seller.id),
        }
    }

    fn seller_code(&self) -> u64 {
        self.seller_code
    }

    /// When order `i` was last updated (Unix seconds).
    pub(crate) fn updated(&self, i: u64) -> i64 {
        let i = i64::try_from(i).unwrap_or(i64::MAX);
        self.epoch_ms.saturating_add(i.saturating_mul(self.interval_ms)).div_euclid(1000)
    }

    /// The first order index last updated at or after `secs` (`orders` if none).
    pub(crate) fn first_updated_from(&self, secs: i64) -> u64 {
        let target = i128::from(secs) * 1000 - i128::from(self.epoch_ms);
        let interval = i128::from(self.interval_ms);
        let index = if target <= 0 { 0 } else { (target + interval - 1) / interval };
        u64::try_from(index).unwrap_or(u64::MAX).min(self.seller.orders)
    }

    /// One past the last order index last updated at or before `secs`.
    pub(crate) fn end_updated_until(&self, secs: i64) -> u64 {
        self.first_updated_from(secs.saturating_add(1))
    }

    /// The marketplace index of order `i`.
    pub(crate) fn marketplace_of(&self, i: u64) -> usize {
        let n = self.seller.marketplaces.len().max(1) as u64;
        usize::try_from(i % n).unwrap_or(0)
    }

    /// The id of order `i`, in Amazon's 3-7-7 format.
    pub(crate) fn order_id(&self, i: u64) -> String {
        let mut out = String::with_capacity(19);
        push_padded(&mut out, 100 + (self.index % 900) as u64, 3);
        out.push('-');
        push_padded(&mut out, (i / 10_000_000) % 10_000_000, 7);
        out.push('-');
        push_padded(&mut out, i % 10_000_000, 7);
        out
    }

    /// The index of the order named `id`, if it is one of this seller's.
    pub(crate) fn order_index(&self, id: &str) -> Option<u64> {
        let mut parts = id.split('-');
        let (prefix, hi, lo) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() || prefix.len() != 3 || hi.len() != 7 || lo.len() != 7 {
            return None;
        }
        let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if !all_digits(prefix) || !all_digits(hi) || !all_digits(lo) {
            return None;
        }
        if prefix.parse::<usize>().ok()? != 100 + self.index % 900 {
            return None;
        }
        let i = hi.parse::<u64>().ok()? * 10_000_000 + lo.parse::<u64>().ok()?;
        (i < self.seller.orders).then_some(i)
    }

    /// Order `i` in full.
    pub(crate) fn order(&self, i: u64) -> Order {
        let seller = self.seller_code();
        let mut s = Stream::new(self.seed, &[ORDER_TAG, seller, i]);
        let updated = self.updated(i);
        let lag = i64::try_from(s.below(MAX_CREATION_LAG_SECS as u64)).unwrap_or(0);
        let status = match s.below(100) {
            0..=4 => Status::Pending,
            5..=24 => Status::Unshipped,
            25..=29 => Status::PartiallyShipped,
            30..=86 => Status::Shipped,
            87..=92 => Status::Canceled,
            93..=97 => Status::InvoiceUnconfirmed,
            _ => Status::Unfulfillable,
        };
        let afn = status == Status::Unfulfillable || s.below(3) == 0;
        let prime = s.below(2) == 0;
        let marketplace = self.seller.marketplaces.get(self.marketplace_of(i)).cloned().unwrap_or_default();
        let info = marketplace_info(&marketplace);
        let count = 1 + s.below(3);
        let items = (0..count)
            .map(|line| {
                let sku = s.below(self.seller.skus.max(1));
                let mut id = String::with_capacity(14);
                push_padded(&mut id, (s.below(100_000_000_000) * 1000) + line, 14);
                Item {
                    id,
                    sku: sku_name(sku),
                    asin: self.asin(sku),
                    title: TITLES[usize::try_from(sku % TITLES.len() as u64).unwrap_or(0)],
                    quantity: u32::try_from(1 + s.below(3)).unwrap_or(1),
                    unit_cents: self.unit_cents(sku),
                }
            })
            .collect();
        let (city, region, postal) =
            if info.country == "CA" { pick(&mut s, &CA_CITIES) } else { pick(&mut s, &US_CITIES) };
        let first = pick(&mut s, &FIRST);
        let last = pick(&mut s, &LAST);
        let mut name = String::with_capacity(first.len() + last.len() + 1);
        name.push_str(first);
        name.push(' ');
        name.push_str(last);
        let mut email = s.token(15);
        email.push_str("@marketplace.amazon.com");
        let mut phone = String::with_capacity(15);
        phone.push_str("+1 ");
        push_padded(&mut phone, 200 + s.below(800), 3);
        phone.push('-');
        push_padded(&mut phone, s.below(1000), 3);
        phone.push('-');
        push_padded(&mut phone, s.below(10_000), 4);
        let mut line1 = String::with_capacity(20);
        push_padded(&mut line1, 1 + s.below(9999), 1);
        line1.push(' ');
        line1.push_str(pick(&mut s, &STREETS));
        let mut postal_code = String::with_capacity(8);
        postal_code.push_str(postal);
        if info.country == "CA" {
            postal_code.push(' ');
            push_padded(&mut postal_code, s.below(10), 1);
            postal_code.push('A');
            push_padded(&mut postal_code, s.below(10), 1);
        } else {
            push_padded(&mut postal_code, s.below(1000), 3);
        }
        let buyer = Buyer { name, email, phone, line1, city, region, postal_code };
        Order {
            id: self.order_id(i),
            marketplace,
            info,
            created: updated - lag,
            updated,
            status,
            afn,
            prime,
            items,
            buyer,
        }
    }

    /// The ASIN of SKU `n`.
    pub(crate) fn asin(&self, n: u64) -> String {
        let mut s = Stream::new(self.seed, &[text("amazon-asin"), self.seller_code(), n]);
        let mut out = String::with_capacity(10);
        out.push_str("B0");
        out.push_str(&s.token(8).to_ascii_uppercase());
        out
    }

    /// The unit price of SKU `n`, in cents (5.00 to 199.99).
    pub(crate) fn unit_cents(&self, n: u64) -> u64 {
        500 + value(self.seed, &[text("amazon-price"), self.seller_code(), n]) % 19_500
    }

    /// The title of SKU `n`.
    pub(crate) fn title(&self, n: u64) -> &'static str {
        TITLES[usize::try_from(n % TITLES.len() as u64).unwrap_or(0)]
    }

    /// FBA quantities of SKU `n`: (fulfillable, inbound, reserved, unfulfillable).
    pub(crate) fn fba_quantities(&self, n: u64) -> (u64, u64, u64, u64) {
        let mut s = Stream::new(self.seed, &[text("amazon-fba"), self.seller_code(), n]);
        (s.below(500), s.below(50), s.below(20), s.below(5))
    }

    /// The FNSKU of SKU `n`.
    pub(crate) fn fnsku(&self, n: u64) -> String {
        let mut s = Stream::new(self.seed, &[text("amazon-fnsku"), self.seller_code(), n]);
        format!("X00{}", s.token(7).to_ascii_uppercase())
    }
}

fn marketplace_info(id: &str) -> MarketplaceInfo {
    marketplace(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seller(orders: u64) -> AmazonSellerConfig {
        AmazonSellerConfig {
            id: "A1".into(),
            store_name: "s".into(),
            marketplaces: vec!["ATVPDKIKX0DER".into(), "A2EUQ1WTGCTBG2".into()],
            orders,
            skus: 10,
        }
    }

    #[test]
    fn windows_map_to_index_ranges() {
        let s = seller(1000);
        let data = SellerData::new(7, 0, &s, 1_000, 1500);
        assert_eq!(data.updated(0), 1_000);
        assert_eq!(data.updated(1), 1_001);
        assert_eq!(data.updated(2), 1_003);
        assert_eq!(data.first_updated_from(0), 0);
        assert_eq!(data.first_updated_from(1_001), 1);
        assert_eq!(data.first_updated_from(1_002), 2);
        assert_eq!(data.end_updated_until(1_001), 2);
        assert_eq!(data.end_updated_until(1_002), 2);
        assert_eq!(data.first_updated_from(10_000_000), 1000);
        for i in 0..100 {
            let u = data.updated(i);
            assert!(data.first_updated_from(u) <= i && i < data.end_updated_until(u));
        }
    }

    #[test]
    fn orders_are_deterministic_and_ids_round_trip() {
        let s = seller(100);
        let data = SellerData::new(7, 3, &s, 1_735_689_600, 60_000);
        let a = data.order(42);
        let b = data.order(42);
        assert_eq!(a.id, b.id);
        assert_eq!(a.buyer.email, b.buyer.email);
        assert_eq!(data.order_index(&a.id), Some(42));
        assert_eq!(data.order_index("103-0000000-0000100"), None, "past the last order");
        assert_eq!(data.order_index("999-0000000-0000001"), None, "another seller");
        assert!(a.created <= a.updated && a.updated - a.created < MAX_CREATION_LAG_SECS);
        assert_eq!(a.marketplace, "ATVPDKIKX0DER");
        assert_eq!(data.order(43).marketplace, "A2EUQ1WTGCTBG2");
        assert_eq!(sku_number(&s, "SKU-000009"), Some(9));
        assert_eq!(sku_number(&s, "SKU-000010"), None);
        assert_eq!(amount(1234), "12.34");
        assert_eq!(amount(5), "0.05");
    }
}
