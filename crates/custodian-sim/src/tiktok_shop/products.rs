//! Products, SKUs and stock: `POST /product/202309/products/search` (paged, SKUs with per-warehouse
//! `inventory`), `POST /product/202309/inventory/search` (by `product_ids` or `sku_ids`, not paged) and
//! `POST /product/202309/products/{product_id}/inventory/update` (absolute quantity per warehouse;
//! `data.skus[].{id, success}` as the reference gives it).

use std::fmt;

use axum::response::Response;
use serde::{Deserialize, Serialize};

use super::codes;
use super::gateway::param;
use super::orders::{money, product_page_position, product_page_token};
use super::{ShopRef, TikTokShopSim};
use crate::seed;

const PRODUCT_BASE: u64 = 1_729_600_000_000_000_000;
const PRODUCT_SHOP_STRIDE: u64 = 1_000_000_000;
const SKU_BASE: u64 = 1_729_700_000_000_000_000;
const SKU_SHOP_STRIDE: u64 = 1_000_000_000_000;
/// SKUs of one product are numbered within this stride.
const SKU_STRIDE: u64 = 1_000;
const MAX_PAGE_SIZE: u64 = 100;
/// The most ids an inventory search takes.
const MAX_SEARCH_IDS: usize = 100;
/// The largest quantity an inventory update accepts.
const MAX_QUANTITY: i64 = 999_999;
const PRICE: u64 = 11;

const COLORS: &[&str] = &["Black", "White", "Red", "Blue", "Green", "Pink"];
const SIZES: &[&str] = &["S", "M", "L", "XL", "XXL"];

/// One SKU of a shop: product index and SKU index within the product.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct SkuRef {
    shop: u64,
    product: u64,
    k: u64,
}

impl SkuRef {
    /// A SKU of `shop` chosen by the random value `n`.
    pub(super) fn pick(shop: ShopRef<'_>, n: u64) -> Self {
        let products = shop.shop.products.max(1);
        let skus = u64::from(shop.shop.skus_per_product.max(1));
        Self { shop: shop.index, product: n % products, k: (n >> 20) % skus }
    }

    /// The SKU with id `sku` if it is one of `shop`'s.
    pub(super) fn decode(shop: ShopRef<'_>, sku: u64) -> Option<Self> {
        let rest = sku.checked_sub(SKU_BASE + shop.index * SKU_SHOP_STRIDE)?;
        let (product, k) = (rest / SKU_STRIDE, rest % SKU_STRIDE);
        (rest < SKU_SHOP_STRIDE && product < shop.shop.products && k < u64::from(shop.shop.skus_per_product))
            .then_some(Self { shop: shop.index, product, k })
    }

    pub(super) fn id(self) -> u64 {
        SKU_BASE + self.shop * SKU_SHOP_STRIDE + self.product * SKU_STRIDE + self.k
    }

    pub(super) fn product_id(self) -> u64 {
        product_id(self.shop, self.product)
    }

    pub(super) fn product_name(self) -> String {
        self.product_name_args().to_string()
    }

    pub(super) fn seller_sku(self) -> String {
        self.seller_sku_args().to_string()
    }

    /// The product's title (plain ASCII, no escaping needed).
    pub(super) fn product_name_args(self) -> impl fmt::Display {
        fmt::from_fn(move |f| write!(f, "Simulated cotton tee {}", self.product))
    }

    /// The seller's SKU code (plain ASCII).
    pub(super) fn seller_sku_args(self) -> impl fmt::Display {
        fmt::from_fn(move |f| write!(f, "SIM-{:05}-{}", self.product, self.k))
    }

    /// The SKU's attributes, e.g. `Black, M` (plain ASCII).
    pub(super) fn sku_name_args(self) -> impl fmt::Display {
        let color = COLORS[(self.k % COLORS.len() as u64) as usize];
        let size = SIZES[(self.k / COLORS.len() as u64 % SIZES.len() as u64) as usize];
        fmt::from_fn(move |f| write!(f, "{color}, {size}"))
    }
}

fn product_id(shop: u64, product: u64) -> u64 {
    PRODUCT_BASE + shop * PRODUCT_SHOP_STRIDE + product
}

/// The product index of `id` in `shop`.
fn product_index(shop: ShopRef<'_>, id: u64) -> Option<u64> {
    let p = id.checked_sub(PRODUCT_BASE + shop.index * PRODUCT_SHOP_STRIDE)?;
    (p < shop.shop.products && p < PRODUCT_SHOP_STRIDE).then_some(p)
}

/// A SKU's price in cents.
pub(super) fn price_cents(seed: u64, shop: ShopRef<'_>, sku: u64) -> u64 {
    500 + seed::below(seed, &[shop.index, sku, PRICE], 9_500)
}

/// A SKU's stock at a warehouse before anything was set.
pub(super) fn seeded_quantity(seed: u64, shop: ShopRef<'_>, sku: u64, warehouse: &str) -> u32 {
    seed::below(seed, &[shop.index, sku, seed::text(warehouse)], 500) as u32
}

#[derive(Serialize)]
struct InventoryJson<'a> {
    quantity: u32,
    warehouse_id: &'a str,
}

#[derive(Serialize)]
struct PriceJson<'a> {
    currency: &'a str,
    sale_price: String,
    tax_exclusive_price: String,
}

#[derive(Serialize)]
struct SkuJson<'a> {
    id: String,
    inventory: Vec<InventoryJson<'a>>,
    price: PriceJson<'a>,
    seller_sku: String,
}

#[derive(Serialize)]
struct ProductJson<'a> {
    create_time: i64,
    id: String,
    is_not_for_sale: bool,
    sales_regions: [&'a str; 1],
    skus: Vec<SkuJson<'a>>,
    status: &'static str,
    title: String,
    update_time: i64,
}

#[derive(Serialize)]
struct ProductsData<'a> {
    next_page_token: String,
    products: Vec<ProductJson<'a>>,
    total_count: u64,
}

#[derive(Debug, Default, Deserialize)]
struct ProductSearchBody {
    status: Option<String>,
}

#[derive(Serialize)]
struct WarehouseInventoryJson<'a> {
    available_quantity: u32,
    committed_quantity: u32,
    warehouse_id: &'a str,
}

#[derive(Serialize)]
struct InventorySkuJson<'a> {
    id: String,
    seller_sku: String,
    total_available_quantity: u32,
    total_committed_quantity: u32,
    warehouse_inventory: Vec<WarehouseInventoryJson<'a>>,
}

#[derive(Serialize)]
struct InventoryProductJson<'a> {
    product_id: String,
    skus: Vec<InventorySkuJson<'a>>,
}

#[derive(Serialize)]
struct InventoryData<'a> {
    inventory: Vec<InventoryProductJson<'a>>,
}

#[derive(Debug, Default, Deserialize)]
struct InventorySearchBody {
    #[serde(default)]
    product_ids: Vec<String>,
    #[serde(default)]
    sku_ids: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
struct UpdateBody {
    #[serde(default)]
    skus: Vec<UpdateSku>,
}

#[derive(Debug, Deserialize)]
struct UpdateSku {
    id: String,
    #[serde(default)]
    inventory: Vec<UpdateInventory>,
}

#[derive(Debug, Deserialize)]
struct UpdateInventory {
    warehouse_id: Option<String>,
    quantity: i64,
}

#[derive(Serialize)]
struct UpdateResultJson<'a> {
    id: &'a str,
    success: bool,
}

#[derive(Serialize)]
struct UpdateData<'a> {
    skus: Vec<UpdateResultJson<'a>>,
}

impl TikTokShopSim {
    fn skus_of(&self, shop: ShopRef<'_>, product: u64) -> impl Iterator<Item = SkuRef> {
        let shop_index = shop.index;
        (0..u64::from(shop.shop.skus_per_product)).map(move |k| SkuRef { shop: shop_index, product, k })
    }

    fn product_json<'a>(&self, shop: ShopRef<'a>, product: u64) -> ProductJson<'a> {
        let seed = self.ctx.seed;
        let created = self.config.orders_start_unix - 86_400 * 30 + product as i64 * 60;
        let skus = self
            .skus_of(shop, product)
            .map(|sku| {
                let price = money(price_cents(seed, shop, sku.id()));
                SkuJson {
                    id: sku.id().to_string(),
                    inventory: shop
                        .shop
                        .warehouses
                        .iter()
                        .map(|w| InventoryJson {
                            quantity: self.quantity(shop, sku.id(), w),
                            warehouse_id: w,
                        })
                        .collect(),
                    price: PriceJson {
                        currency: &shop.shop.currency,
                        sale_price: price.clone(),
                        tax_exclusive_price: price,
                    },
                    seller_sku: sku.seller_sku(),
                }
            })
            .collect();
        ProductJson {
            create_time: created,
            id: product_id(shop.index, product).to_string(),
            is_not_for_sale: false,
            sales_regions: [&shop.shop.region],
            skus,
            status: "ACTIVATE",
            title: SkuRef { shop: shop.index, product, k: 0 }.product_name(),
            update_time: created,
        }
    }

    pub(super) fn product_search(
        &self,
        shop: ShopRef<'_>,
        query: &[(String, String)],
        body: &[u8],
    ) -> Response {
        let page_size = match param(query, "page_size").and_then(|p| p.parse::<u64>().ok()) {
            Some(size) if (1..=MAX_PAGE_SIZE).contains(&size) => size,
            _ => return self.invalid("page_size must be between 1 and 100"),
        };
        let Some(filter) = self.json_body::<ProductSearchBody>(body) else {
            return self.invalid("the body is not valid json");
        };
        let start = match param(query, "page_token").filter(|t| !t.is_empty()) {
            None => 0,
            Some(token) => match product_page_position(shop, self.ctx.seed, token) {
                Some(position) => position,
                None => return self.invalid("page_token is invalid"),
            },
        };
        let listed = matches!(filter.status.as_deref(), None | Some("ALL" | "ACTIVATE"));
        let total = if listed { shop.shop.products } else { 0 };
        let end = (start + page_size).min(total);
        let products = (start..end).map(|p| self.product_json(shop, p)).collect();
        let next_page_token =
            if end < total { product_page_token(shop, self.ctx.seed, end) } else { String::new() };
        codes::success(&self.request_id(), &ProductsData { next_page_token, products, total_count: total })
    }

    pub(super) fn inventory_search(&self, shop: ShopRef<'_>, body: &[u8]) -> Response {
        let Some(filter) = self.json_body::<InventorySearchBody>(body) else {
            return self.invalid("the body is not valid json");
        };
        if filter.product_ids.is_empty() && filter.sku_ids.is_empty() {
            return self.invalid("product_ids or sku_ids is required");
        }
        if filter.product_ids.len() > MAX_SEARCH_IDS || filter.sku_ids.len() > MAX_SEARCH_IDS {
            return self.invalid("at most 100 product_ids and 100 sku_ids");
        }
        let wanted_skus: Vec<SkuRef> = filter
            .sku_ids
            .iter()
            .filter_map(|id| id.parse::<u64>().ok().and_then(|id| SkuRef::decode(shop, id)))
            .collect();
        let mut products: Vec<u64> = filter
            .product_ids
            .iter()
            .filter_map(|id| id.parse::<u64>().ok().and_then(|id| product_index(shop, id)))
            .collect();
        if filter.product_ids.is_empty() {
            products = wanted_skus.iter().map(|s| s.product).collect();
        }
        let mut seen = Vec::new();
        products.retain(|p| {
            let new = !seen.contains(p);
            seen.push(*p);
            new
        });
        let inventory = products
            .into_iter()
            .map(|product| InventoryProductJson {
                product_id: product_id(shop.index, product).to_string(),
                skus: self
                    .skus_of(shop, product)
                    .filter(|sku| wanted_skus.is_empty() || wanted_skus.contains(sku))
                    .map(|sku| {
                        let warehouse_inventory: Vec<WarehouseInventoryJson<'_>> = shop
                            .shop
                            .warehouses
                            .iter()
                            .map(|w| WarehouseInventoryJson {
                                available_quantity: self.quantity(shop, sku.id(), w),
                                committed_quantity: 0,
                                warehouse_id: w,
                            })
                            .collect();
                        InventorySkuJson {
                            id: sku.id().to_string(),
                            seller_sku: sku.seller_sku(),
                            total_available_quantity: warehouse_inventory
                                .iter()
                                .map(|w| w.available_quantity)
                                .sum(),
                            total_committed_quantity: 0,
                            warehouse_inventory,
                        }
                    })
                    .collect(),
            })
            .filter(|p| !p.skus.is_empty())
            .collect();
        codes::success(&self.request_id(), &InventoryData { inventory })
    }

    pub(super) fn inventory_update(&self, shop: ShopRef<'_>, product: &str, body: &[u8]) -> Response {
        let Some(product) = product.parse::<u64>().ok().and_then(|id| product_index(shop, id)) else {
            return codes::RESOURCE_NOT_FOUND.response(&self.request_id(), None);
        };
        let Some(update) = self.json_body::<UpdateBody>(body) else {
            return self.invalid("the body is not valid json");
        };
        if update.skus.is_empty() {
            return self.invalid("skus is required");
        }
        // Validate everything before applying anything.
        for sku in &update.skus {
            if sku.inventory.is_empty() {
                return self.invalid("skus.inventory is required");
            }
            for entry in &sku.inventory {
                if let Some(w) = &entry.warehouse_id
                    && !shop.shop.warehouses.contains(w)
                {
                    return codes::WAREHOUSE_NOT_FOUND.response(&self.request_id(), None);
                }
                if !(0..=MAX_QUANTITY).contains(&entry.quantity) {
                    return codes::QUANTITY_OUT_OF_RANGE.response(&self.request_id(), None);
                }
            }
        }
        let default_warehouse = shop.shop.warehouses.first().cloned().unwrap_or_default();
        let mut results = Vec::with_capacity(update.skus.len());
        {
            let mut stock = self.stock_map();
            for sku in &update.skus {
                let found = sku
                    .id
                    .parse::<u64>()
                    .ok()
                    .and_then(|id| SkuRef::decode(shop, id))
                    .filter(|s| s.product == product);
                if let Some(found) = found {
                    for entry in &sku.inventory {
                        let warehouse =
                            entry.warehouse_id.clone().unwrap_or_else(|| default_warehouse.clone());
                        let quantity = u32::try_from(entry.quantity).unwrap_or(0);
                        stock.insert((shop.index, found.id(), warehouse), quantity);
                    }
                }
                results.push(UpdateResultJson { id: &sku.id, success: found.is_some() });
            }
        }
        codes::success(&self.request_id(), &UpdateData { skus: results })
    }
}
