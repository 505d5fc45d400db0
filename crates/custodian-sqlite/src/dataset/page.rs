//! Dataset pages. A page is one statement, the *window* (the ordered, limited selection of a page's
//! records), read in one of two ways:
//! - on a file store's read path (`crate::read`), the window itself, row by row on the caller's thread,
//!   each column value a [`Cell`] as SQLite typed it; a page with [`Nested`] rows (an order's lines) reads
//!   them with a second statement in the same read transaction (one snapshot) and hangs each parent's
//!   rows on it as a [`Cell::Rows`] column;
//! - on sqlx (an in-memory store), SQLite builds the whole page as one JSON array
//!   (`json_group_array(json_array(…) ORDER BY <key>)` over the window, [`PageQuery::as_json`], nested rows
//!   included as a nested JSON array), so the page crosses from sqlx-sqlite's worker thread as one row;
//!   read row by row, every row crossed a channel, which was most of a page read's cost. [`json_rows`]
//!   turns it into the same cells.
//!
//! Both give the same rows: text is [`Cell::Text`], an integer [`Cell::Int`], NULL [`Cell::Null`], nested
//! rows [`Cell::Rows`]. A BLOB cannot be JSON, so a page selects `hex(column)` for one (NULL kept NULL)
//! and [`PageRow::opt_blob_hex`] turns it back into bytes. A value of an unexpected type is a corrupt store
//! error naming the column, never a guess.
//!
//! Why not SQLite's JSON functions on the read path too: building an order's lines with a correlated
//! `json_group_array` per order, then parsing that JSON again, was most of an order page's cost on the
//! load bench (`cargo bench -p custodian-server --bench load`); a join over the page's keys reads the same
//! lines in one walk.

use std::collections::HashMap;

use custodian_core::ports::StoreError;
use data_encoding::HEXUPPER_PERMISSIVE;
use serde_json::Value as Json;

use crate::error::corrupt;

/// A column value of a page row.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Cell {
    Null,
    Int(i64),
    Text(String),
    /// Nested rows (an order's lines), each its columns' cells.
    Rows(Vec<Vec<Cell>>),
}

/// How to read a page's nested rows on the read path: `sql` takes the page's arguments and selects, for
/// every row of the window, its nested rows, each led by the `key` columns of the parent row they belong
/// to (the parent row's first `key` columns). The nested cells (without that key) become the parent's last
/// column.
#[derive(Debug, Clone)]
pub(crate) struct Nested {
    pub(crate) sql: String,
    pub(crate) key: usize,
}

/// How to read one page: the window, and the same page as one JSON value.
#[derive(Debug, Clone)]
pub(crate) struct PageQuery {
    /// The window: selects the page's columns (without a nested column), ordered and limited.
    pub(crate) window: String,
    /// `SELECT json_group_array(json_array(<columns>) ORDER BY <order>) AS page FROM (<window>)`, with
    /// nested rows as a nested JSON array in the last column.
    pub(crate) as_json: String,
    /// The nested rows, if the page has any.
    pub(crate) nested: Option<Nested>,
}

impl PageQuery {
    /// The page of `window`, whose result columns are `names` in order and whose rows are ordered by
    /// `order`.
    pub(super) fn new(window: String, names: &[&str], order: &str) -> Self {
        let as_json = as_json(&window, names.iter().map(|c| (*c).to_owned()), order);
        Self { window, as_json, nested: None }
    }

    /// A page whose rows end with a column of nested rows: read as `window` plus `nested` on the read path;
    /// as `json_window` (the window with that column, JSON text selected as `nested_name`) on sqlx.
    pub(super) fn with_nested(
        window: String,
        json_window: &str,
        names: &[&str],
        nested_name: &str,
        order: &str,
        nested: Nested,
    ) -> Self {
        let columns =
            names.iter().map(|c| (*c).to_owned()).chain(std::iter::once(format!("json({nested_name})")));
        let as_json = as_json(json_window, columns, order);
        Self { window, as_json, nested: Some(nested) }
    }
}

fn as_json(window: &str, columns: impl Iterator<Item = String>, order: &str) -> String {
    let columns: Vec<String> = columns.collect();
    format!(
        "SELECT json_group_array(json_array({}) ORDER BY {order}) AS page FROM ({window})",
        columns.join(", ")
    )
}

/// Hangs `nested` rows (each led by its parent's `key` cells) on the `parents` they belong to, as each
/// parent's last column, in the order they come; a parent without any gets an empty [`Cell::Rows`].
pub(crate) fn attach(
    parents: &mut [Vec<Cell>],
    nested: Vec<Vec<Cell>>,
    key: usize,
) -> Result<(), StoreError> {
    let mut buckets: Vec<Vec<Vec<Cell>>> = vec![Vec::new(); parents.len()];
    {
        let mut by_key: HashMap<&[Cell], usize> = HashMap::with_capacity(parents.len());
        for (i, parent) in parents.iter().enumerate() {
            let own = parent
                .get(..key)
                .ok_or_else(|| corrupt("dataset page", format!("a row has fewer than {key} key columns")))?;
            by_key.entry(own).or_insert(i);
        }
        for mut row in nested {
            if row.len() <= key {
                return Err(corrupt(
                    "dataset page",
                    format!("a nested row has no more than its {key} key columns"),
                ));
            }
            if let Some(bucket) =
                row.get(..key).and_then(|own| by_key.get(own)).and_then(|&i| buckets.get_mut(i))
            {
                row.drain(..key);
                bucket.push(row);
            }
        }
    }
    for (parent, rows) in parents.iter_mut().zip(buckets) {
        parent.push(Cell::Rows(rows));
    }
    Ok(())
}

/// The rows of a page read as one JSON value (`PageQuery::as_json`).
pub(crate) fn json_rows(page: &str) -> Result<Vec<Vec<Cell>>, StoreError> {
    let rows: Vec<Json> = serde_json::from_str(page).map_err(|e| corrupt("dataset page", e))?;
    rows.into_iter().map(json_row).collect()
}

/// A JSON array of column values as cells; a nested array of arrays as [`Cell::Rows`].
fn json_row(row: Json) -> Result<Vec<Cell>, StoreError> {
    let Json::Array(values) = row else { return Err(corrupt("dataset page", "a row is not an array")) };
    values
        .into_iter()
        .map(|value| match value {
            Json::Null => Ok(Cell::Null),
            Json::String(s) => Ok(Cell::Text(s)),
            Json::Number(n) => {
                n.as_i64().map(Cell::Int).ok_or_else(|| corrupt("dataset page", "a number is not an integer"))
            }
            Json::Array(rows) => rows.into_iter().map(json_row).collect::<Result<_, _>>().map(Cell::Rows),
            Json::Bool(_) | Json::Object(_) => {
                Err(corrupt("dataset page", "a column is neither text, an integer, rows nor null"))
            }
        })
        .collect()
}

/// One record of a page: its columns' values in the order of `names`.
#[derive(Debug)]
pub(super) struct PageRow<'a> {
    names: &'a [&'a str],
    values: &'a [Cell],
}

/// The records of a page whose rows hold `names`' columns.
pub(super) fn rows<'a>(names: &'a [&'a str], rows: &'a [Vec<Cell>]) -> Result<Vec<PageRow<'a>>, StoreError> {
    rows.iter().map(|values| PageRow::nested(names, values)).collect()
}

fn mismatch(name: &str, expected: &str) -> StoreError {
    corrupt("dataset page", format!("column `{name}` is not {expected}"))
}

impl<'a> PageRow<'a> {
    /// A row of `names` with `values` (also for nested rows, such as an order's lines).
    pub(super) fn nested(names: &'a [&'a str], values: &'a [Cell]) -> Result<Self, StoreError> {
        if values.len() == names.len() {
            Ok(PageRow { names, values })
        } else {
            Err(corrupt("dataset page", format!("a row is not {} values", names.len())))
        }
    }

    fn get(&self, name: &str) -> Result<&'a Cell, StoreError> {
        self.names
            .iter()
            .position(|n| *n == name)
            .and_then(|i| self.values.get(i))
            .ok_or_else(|| corrupt("dataset page", format!("no column `{name}`")))
    }

    /// A text column.
    pub(super) fn text(&self, name: &str) -> Result<&'a str, StoreError> {
        match self.get(name)? {
            Cell::Text(s) => Ok(s),
            _ => Err(mismatch(name, "text")),
        }
    }

    /// A nullable text column.
    pub(super) fn opt_text(&self, name: &str) -> Result<Option<&'a str>, StoreError> {
        match self.get(name)? {
            Cell::Null => Ok(None),
            Cell::Text(s) => Ok(Some(s)),
            _ => Err(mismatch(name, "text or null")),
        }
    }

    /// An integer column.
    pub(super) fn int(&self, name: &str) -> Result<i64, StoreError> {
        match self.get(name)? {
            Cell::Int(n) => Ok(*n),
            _ => Err(mismatch(name, "an integer")),
        }
    }

    /// A nullable integer column.
    pub(super) fn opt_int(&self, name: &str) -> Result<Option<i64>, StoreError> {
        match self.get(name)? {
            Cell::Null => Ok(None),
            Cell::Int(n) => Ok(Some(*n)),
            _ => Err(mismatch(name, "an integer or null")),
        }
    }

    /// A nullable BLOB column selected as `hex(column)` (uppercase hexadecimal, NULL kept NULL).
    pub(super) fn opt_blob_hex(&self, name: &str) -> Result<Option<Vec<u8>>, StoreError> {
        match self.opt_text(name)? {
            None => Ok(None),
            Some(hex) => HEXUPPER_PERMISSIVE
                .decode(hex.as_bytes())
                .map(Some)
                .map_err(|_| mismatch(name, "hexadecimal bytes")),
        }
    }

    /// A column of nested rows.
    pub(super) fn nested_rows(&self, name: &str) -> Result<&'a [Vec<Cell>], StoreError> {
        match self.get(name)? {
            Cell::Rows(rows) => Ok(rows),
            _ => Err(mismatch(name, "nested rows")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NAMES: &[&str] = &["a", "n", "b"];

    #[test]
    fn the_json_form_of_a_page_wraps_its_window_and_embeds_nested_rows() {
        let q = PageQuery::new("SELECT a, n FROM t".to_owned(), &["a", "n"], "a");
        assert_eq!(q.window, "SELECT a, n FROM t");
        assert_eq!(
            q.as_json,
            "SELECT json_group_array(json_array(a, n) ORDER BY a) AS page FROM (SELECT a, n FROM t)"
        );
        assert!(q.nested.is_none());
        let nested = Nested { sql: "SELECT a, x FROM u".to_owned(), key: 1 };
        let q = PageQuery::with_nested(
            "SELECT a, n FROM t".to_owned(),
            "SELECT a, n, l FROM t",
            &["a", "n"],
            "l",
            "a",
            nested,
        );
        assert_eq!(q.window, "SELECT a, n FROM t");
        assert_eq!(
            q.as_json,
            "SELECT json_group_array(json_array(a, n, json(l)) ORDER BY a) AS page FROM (SELECT a, n, l FROM t)"
        );
        assert_eq!(q.nested.map(|n| n.key), Some(1));
    }

    #[test]
    fn a_page_parses_into_rows_with_typed_columns() {
        let page = json_rows(r#"[["x",1,"0aFF"],["y",null,null]]"#).unwrap();
        let rows = rows(NAMES, &page).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].text("a").unwrap(), "x");
        assert_eq!(rows[0].int("n").unwrap(), 1);
        assert_eq!(rows[0].opt_blob_hex("b").unwrap(), Some(vec![0x0a, 0xff]));
        assert_eq!(rows[1].opt_int("n").unwrap(), None);
        assert_eq!(rows[1].opt_blob_hex("b").unwrap(), None);
        assert!(json_rows("[]").unwrap().is_empty());
        let nested = json_rows(r#"[["x",[[0,"l1"],[1,"l2"]]]]"#).unwrap();
        assert_eq!(
            nested,
            vec![vec![
                Cell::Text("x".into()),
                Cell::Rows(vec![
                    vec![Cell::Int(0), Cell::Text("l1".into())],
                    vec![Cell::Int(1), Cell::Text("l2".into())]
                ])
            ]]
        );
        let row = PageRow::nested(&["a", "l"], &nested[0]).unwrap();
        assert_eq!(row.nested_rows("l").unwrap().len(), 2);
        assert!(row.nested_rows("a").is_err());
    }

    #[test]
    fn columns_are_found_by_name_in_any_order_and_repeatedly() {
        let page = json_rows(r#"[["x",7,"0a"]]"#).unwrap();
        let row = PageRow::nested(NAMES, &page[0]).unwrap();
        // Out of order, backwards, twice over, and after a miss.
        assert_eq!(row.opt_blob_hex("b").unwrap(), Some(vec![0x0a]));
        assert_eq!(row.text("a").unwrap(), "x");
        assert_eq!(row.int("n").unwrap(), 7);
        assert_eq!(row.int("n").unwrap(), 7);
        assert!(row.text("missing").is_err());
        assert_eq!(row.text("a").unwrap(), "x");
        assert_eq!(row.opt_blob_hex("b").unwrap(), Some(vec![0x0a]));
    }

    #[test]
    fn nested_rows_hang_on_their_parents_in_order_and_a_parent_without_any_gets_none() {
        let t = |s: &str| Cell::Text(s.to_owned());
        let mut parents = vec![
            vec![t("a"), t("1"), Cell::Int(10)],
            vec![t("a"), t("2"), Cell::Int(20)],
            vec![t("b"), t("1"), Cell::Int(30)],
        ];
        let nested = vec![
            vec![t("b"), t("1"), Cell::Int(0), t("x")],
            vec![t("a"), t("1"), Cell::Int(1), t("y")],
            vec![t("a"), t("1"), Cell::Int(0), t("z")],
            // A row of a parent not on the page is dropped.
            vec![t("c"), t("9"), Cell::Int(0), t("w")],
        ];
        attach(&mut parents, nested, 2).unwrap();
        assert_eq!(parents[0][3], Cell::Rows(vec![vec![Cell::Int(1), t("y")], vec![Cell::Int(0), t("z")]]));
        assert_eq!(parents[1][3], Cell::Rows(vec![]));
        assert_eq!(parents[2][3], Cell::Rows(vec![vec![Cell::Int(0), t("x")]]));
        // A nested row that is only a key is corrupt.
        let mut parents = vec![vec![t("a"), t("1")]];
        assert!(attach(&mut parents, vec![vec![t("a"), t("1")]], 2).is_err());
    }

    #[test]
    fn malformed_pages_and_mistyped_columns_are_corrupt_errors_naming_the_column() {
        for bad in [r#"{"a":1}"#, r#"[1]"#, "not json", r#"[[true]]"#, r#"[[1.5]]"#, r#"[[{"a":1}]]"#] {
            assert!(matches!(json_rows(bad), Err(StoreError::Unavailable(_))), "{bad}");
        }
        let short = json_rows(r#"[["x",1]]"#).unwrap();
        assert!(matches!(rows(NAMES, &short), Err(StoreError::Unavailable(_))));
        let page = json_rows(r#"[[1,"x","abc"]]"#).unwrap();
        let rows = rows(NAMES, &page).unwrap();
        for err in [
            rows[0].text("a").unwrap_err(),
            rows[0].int("n").unwrap_err(),
            rows[0].opt_blob_hex("b").unwrap_err(),
            rows[0].text("missing").unwrap_err(),
        ] {
            // The detail is the error's source (a store error says only "store unavailable").
            let source = std::error::Error::source(&err).map(ToString::to_string).unwrap_or_default();
            assert!(source.contains("column `"), "{source}");
        }
    }
}
