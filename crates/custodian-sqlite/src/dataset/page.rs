//! Dataset pages. A page is one statement, the *window* (the ordered, limited selection of a page's
//! records), read in one of two ways:
//! - on a file store's read path (`crate::read`), the window itself, row by row on the caller's thread,
//!   each column value a [`Cell`] as SQLite typed it;
//! - on sqlx (an in-memory store), SQLite builds the whole page as one JSON array
//!   (`json_group_array(json_array(…) ORDER BY <key>)` over the window, [`PageQuery::as_json`]), so the
//!   page crosses from sqlx-sqlite's worker thread as one row; read row by row, every row crossed a
//!   channel, which was most of a page read's cost. [`json_rows`] turns it into the same cells.
//!
//! Both give the same rows: text is [`Cell::Text`], an integer [`Cell::Int`], a BLOB [`Cell::Blob`],
//! NULL [`Cell::Null`]. A BLOB cannot be JSON, so the JSON form selects `hex(column)` for a page's BLOB
//! columns and [`json_rows`] turns that back into bytes; the read path reads the bytes as they are
//! (hexadecimal cost a sealed buyer's 180 bytes twice over on every order of a page). A value of an
//! unexpected type is a corrupt store error naming the column, never a guess.
//!
//! An order's lines are a JSON text column of the order's row (migration 0005), decoded by the order's
//! decoder: one statement per page for every dataset.

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
    Blob(Vec<u8>),
}

/// How to read one page: the window, and the same page as one JSON value.
#[derive(Debug, Clone)]
pub(crate) struct PageQuery {
    /// The window: selects the page's columns, ordered and limited.
    pub(crate) window: String,
    /// `SELECT json_group_array(json_array(<columns>) ORDER BY <order>) AS page FROM (<window>)`, each
    /// BLOB column as `hex(<column>)` (NULL kept NULL).
    pub(crate) as_json: String,
    /// The positions of the BLOB columns among the window's columns.
    pub(crate) blobs: Vec<usize>,
}

impl PageQuery {
    /// The page of `window`, whose result columns are `names` in order (those in `blobs` BLOBs or NULL)
    /// and whose rows are ordered by `order`.
    pub(super) fn new(window: String, names: &[&str], blobs: &[&str], order: &str) -> Self {
        let columns: Vec<String> = names
            .iter()
            .map(|c| {
                if blobs.contains(c) {
                    // `hex(NULL)` is '', not NULL.
                    format!("CASE WHEN {c} IS NULL THEN NULL ELSE hex({c}) END")
                } else {
                    (*c).to_owned()
                }
            })
            .collect();
        let as_json = format!(
            "SELECT json_group_array(json_array({}) ORDER BY {order}) AS page FROM ({window})",
            columns.join(", ")
        );
        let blobs = names.iter().enumerate().filter(|(_, c)| blobs.contains(c)).map(|(i, _)| i).collect();
        Self { window, as_json, blobs }
    }
}

/// The rows of a page read as one JSON value (`PageQuery::as_json`), the columns at `blobs` turned from
/// hexadecimal back into bytes.
pub(crate) fn json_rows(page: &str, blobs: &[usize]) -> Result<Vec<Vec<Cell>>, StoreError> {
    let rows: Vec<Json> = serde_json::from_str(page).map_err(|e| corrupt("dataset page", e))?;
    rows.into_iter().map(|row| json_row(row, blobs)).collect()
}

/// A JSON array of column values as cells.
fn json_row(row: Json, blobs: &[usize]) -> Result<Vec<Cell>, StoreError> {
    let Json::Array(values) = row else { return Err(corrupt("dataset page", "a row is not an array")) };
    values
        .into_iter()
        .enumerate()
        .map(|(i, value)| match value {
            Json::Null => Ok(Cell::Null),
            Json::String(s) if blobs.contains(&i) => HEXUPPER_PERMISSIVE
                .decode(s.as_bytes())
                .map(Cell::Blob)
                .map_err(|_| corrupt("dataset page", "a BLOB column is not hexadecimal")),
            Json::String(s) => Ok(Cell::Text(s)),
            Json::Number(n) => {
                n.as_i64().map(Cell::Int).ok_or_else(|| corrupt("dataset page", "a number is not an integer"))
            }
            Json::Bool(_) | Json::Array(_) | Json::Object(_) => {
                Err(corrupt("dataset page", "a column is neither text, an integer, a BLOB nor null"))
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
    rows.iter().map(|values| PageRow::new(names, values)).collect()
}

fn mismatch(name: &str, expected: &str) -> StoreError {
    corrupt("dataset page", format!("column `{name}` is not {expected}"))
}

impl<'a> PageRow<'a> {
    /// A row of `names` with `values`.
    fn new(names: &'a [&'a str], values: &'a [Cell]) -> Result<Self, StoreError> {
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

    /// A nullable BLOB column.
    pub(super) fn opt_blob(&self, name: &str) -> Result<Option<&'a [u8]>, StoreError> {
        match self.get(name)? {
            Cell::Null => Ok(None),
            Cell::Blob(bytes) => Ok(Some(bytes)),
            _ => Err(mismatch(name, "a BLOB or null")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NAMES: &[&str] = &["a", "n", "b"];

    #[test]
    fn the_json_form_of_a_page_wraps_its_window_and_reads_blobs_as_hexadecimal() {
        let q = PageQuery::new("SELECT a, n FROM t".to_owned(), &["a", "n"], &[], "a");
        assert_eq!(q.window, "SELECT a, n FROM t");
        assert_eq!(
            q.as_json,
            "SELECT json_group_array(json_array(a, n) ORDER BY a) AS page FROM (SELECT a, n FROM t)"
        );
        assert!(q.blobs.is_empty());
        let q = PageQuery::new("SELECT a, n, b FROM t".to_owned(), NAMES, &["b"], "a, n");
        assert_eq!(q.window, "SELECT a, n, b FROM t");
        assert_eq!(
            q.as_json,
            "SELECT json_group_array(json_array(a, n, CASE WHEN b IS NULL THEN NULL ELSE hex(b) END) \
             ORDER BY a, n) AS page FROM (SELECT a, n, b FROM t)"
        );
        assert_eq!(q.blobs, vec![2]);
    }

    #[test]
    fn a_page_parses_into_rows_with_typed_columns() {
        let page = json_rows(r#"[["x",1,"0aFF"],["y",null,null]]"#, &[2]).unwrap();
        let rows = rows(NAMES, &page).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].text("a").unwrap(), "x");
        assert_eq!(rows[0].int("n").unwrap(), 1);
        assert_eq!(rows[0].opt_blob("b").unwrap(), Some(&[0x0a, 0xff][..]));
        assert_eq!(rows[1].opt_int("n").unwrap(), None);
        assert_eq!(rows[1].opt_blob("b").unwrap(), None);
        assert!(json_rows("[]", &[]).unwrap().is_empty());
        // Text that is not a BLOB column stays text, even if it looks hexadecimal.
        let page = json_rows(r#"[["0a",1,"0a"]]"#, &[2]).unwrap();
        assert_eq!(page[0], vec![Cell::Text("0a".into()), Cell::Int(1), Cell::Blob(vec![0x0a])]);
    }

    #[test]
    fn columns_are_found_by_name_in_any_order_and_repeatedly() {
        let page = json_rows(r#"[["x",7,"0a"]]"#, &[2]).unwrap();
        let row = PageRow::new(NAMES, &page[0]).unwrap();
        // Out of order, backwards, twice over, and after a miss.
        assert_eq!(row.opt_blob("b").unwrap(), Some(&[0x0a][..]));
        assert_eq!(row.text("a").unwrap(), "x");
        assert_eq!(row.int("n").unwrap(), 7);
        assert_eq!(row.int("n").unwrap(), 7);
        assert!(row.text("missing").is_err());
        assert_eq!(row.text("a").unwrap(), "x");
        assert_eq!(row.opt_blob("b").unwrap(), Some(&[0x0a][..]));
    }

    #[test]
    fn malformed_pages_and_mistyped_columns_are_corrupt_errors_naming_the_column() {
        for bad in [
            r#"{"a":1}"#,
            r#"[1]"#,
            "not json",
            r#"[[true]]"#,
            r#"[[1.5]]"#,
            r#"[[{"a":1}]]"#,
            r#"[[["nested"]]]"#,
            r#"[["x",1,"not hex"]]"#,
        ] {
            assert!(matches!(json_rows(bad, &[2]), Err(StoreError::Unavailable(_))), "{bad}");
        }
        let short = json_rows(r#"[["x",1]]"#, &[]).unwrap();
        assert!(matches!(rows(NAMES, &short), Err(StoreError::Unavailable(_))));
        let page = json_rows(r#"[[1,"x","abc"]]"#, &[]).unwrap();
        let rows = rows(NAMES, &page).unwrap();
        for err in [
            rows[0].text("a").unwrap_err(),
            rows[0].int("n").unwrap_err(),
            rows[0].opt_blob("b").unwrap_err(),
            rows[0].text("missing").unwrap_err(),
        ] {
            // The detail is the error's source (a store error says only "store unavailable").
            let source = std::error::Error::source(&err).map(ToString::to_string).unwrap_or_default();
            assert!(source.contains("column `"), "{source}");
        }
    }
}
