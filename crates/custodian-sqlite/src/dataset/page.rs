//! Dataset pages. A page is one statement, the *window* (the ordered, limited selection of a page's
//! records), read in one of two ways:
//! - on a file store's read path (`crate::read`), the window itself, row by row on the caller's thread: each
//!   column value becomes a JSON value as SQLite typed it;
//! - on sqlx (an in-memory store), SQLite builds the whole page as one JSON array
//!   (`json_group_array(json_array(…) ORDER BY <key>)` over the window, [`PageQuery`]), so the page crosses
//!   from sqlx-sqlite's worker thread as one row; read row by row, every row crossed a channel, which was
//!   most of a page read's cost.
//!
//! Both give the same rows: text is a JSON string, an integer a JSON number, NULL is `null`, and a column
//! holding a nested JSON array (an order's lines) is that array. A BLOB cannot be JSON, so a page selects
//! `hex(column)` for one (NULL kept NULL) and [`PageRow::opt_blob_hex`] turns it back into bytes. A value
//! of an unexpected type is a corrupt store error naming the column, never a guess.

use custodian_core::ports::StoreError;
use data_encoding::HEXUPPER_PERMISSIVE;
use serde_json::Value as Json;

use crate::error::corrupt;

/// How to read one page: the window, and the same page as one JSON value.
#[derive(Debug, Clone)]
pub(crate) struct PageQuery {
    /// The window: selects the page's columns, ordered and limited.
    pub(crate) window: String,
    /// `SELECT json_group_array(json_array(<columns>) ORDER BY <order>) AS page FROM (<window>)`.
    pub(crate) as_json: String,
    /// Columns of the window that hold JSON text (a nested aggregate): parsed, not kept as strings.
    pub(crate) json_columns: &'static [&'static str],
}

impl PageQuery {
    /// The page of `window`, whose result columns are `names` in order and whose rows are ordered by
    /// `order`; `json_columns` of them hold JSON text.
    pub(super) fn new(
        window: String,
        names: &[&str],
        order: &str,
        json_columns: &'static [&'static str],
    ) -> Self {
        let columns: Vec<String> = names
            .iter()
            .map(|c| if json_columns.contains(c) { format!("json({c})") } else { (*c).to_owned() })
            .collect();
        let as_json = format!(
            "SELECT json_group_array(json_array({}) ORDER BY {order}) AS page FROM ({window})",
            columns.join(", ")
        );
        Self { window, as_json, json_columns }
    }
}

/// The rows of a page read as one JSON value (`PageQuery::as_json`).
pub(crate) fn json_rows(page: &str) -> Result<Vec<Json>, StoreError> {
    serde_json::from_str(page).map_err(|e| corrupt("dataset page", e))
}

/// One record of a page: its columns' values in the order of `names`.
#[derive(Debug)]
pub(super) struct PageRow<'n> {
    names: &'n [&'n str],
    values: Vec<Json>,
}

/// The records of a page whose rows (JSON arrays) hold `names`' columns.
pub(super) fn rows<'n>(names: &'n [&'n str], rows: Vec<Json>) -> Result<Vec<PageRow<'n>>, StoreError> {
    rows.into_iter()
        .map(|row| match row {
            Json::Array(values) if values.len() == names.len() => Ok(PageRow { names, values }),
            _ => Err(corrupt("dataset page", format!("a row is not an array of {} values", names.len()))),
        })
        .collect()
}

fn mismatch(name: &str, expected: &str) -> StoreError {
    corrupt("dataset page", format!("column `{name}` is not {expected}"))
}

impl<'n> PageRow<'n> {
    /// A row of `names` with `values` (for nested rows, such as an order's lines).
    pub(super) fn nested(names: &'n [&'n str], value: &Json) -> Result<Self, StoreError> {
        match value {
            Json::Array(values) if values.len() == names.len() => {
                Ok(PageRow { names, values: values.clone() })
            }
            _ => Err(corrupt(
                "dataset page",
                format!("a nested row is not an array of {} values", names.len()),
            )),
        }
    }

    fn get(&self, name: &str) -> Result<&Json, StoreError> {
        self.names
            .iter()
            .position(|n| *n == name)
            .and_then(|i| self.values.get(i))
            .ok_or_else(|| corrupt("dataset page", format!("no column `{name}`")))
    }

    /// A text column.
    pub(super) fn text(&self, name: &str) -> Result<&str, StoreError> {
        self.get(name)?.as_str().ok_or_else(|| mismatch(name, "text"))
    }

    /// A nullable text column.
    pub(super) fn opt_text(&self, name: &str) -> Result<Option<&str>, StoreError> {
        match self.get(name)? {
            Json::Null => Ok(None),
            Json::String(s) => Ok(Some(s)),
            _ => Err(mismatch(name, "text or null")),
        }
    }

    /// An integer column.
    pub(super) fn int(&self, name: &str) -> Result<i64, StoreError> {
        self.get(name)?.as_i64().ok_or_else(|| mismatch(name, "an integer"))
    }

    /// A nullable integer column.
    pub(super) fn opt_int(&self, name: &str) -> Result<Option<i64>, StoreError> {
        match self.get(name)? {
            Json::Null => Ok(None),
            value => value.as_i64().map(Some).ok_or_else(|| mismatch(name, "an integer or null")),
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

    /// A column holding a JSON array (a nested aggregate).
    pub(super) fn array(&self, name: &str) -> Result<&[Json], StoreError> {
        self.get(name)?.as_array().map(Vec::as_slice).ok_or_else(|| mismatch(name, "an array"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse<'n>(names: &'n [&'n str], page: &str) -> Result<Vec<PageRow<'n>>, StoreError> {
        rows(names, json_rows(page)?)
    }

    #[test]
    fn the_json_form_of_a_page_wraps_its_window_and_embeds_json_columns() {
        let q = PageQuery::new("SELECT a, n, l FROM t".to_owned(), &["a", "n", "l"], "a", &["l"]);
        assert_eq!(q.window, "SELECT a, n, l FROM t");
        assert_eq!(
            q.as_json,
            "SELECT json_group_array(json_array(a, n, json(l)) ORDER BY a) AS page FROM (SELECT a, n, l FROM t)"
        );
    }

    const NAMES: &[&str] = &["a", "n", "b"];

    #[test]
    fn a_page_parses_into_rows_with_typed_columns() {
        let rows = parse(NAMES, r#"[["x",1,"0aFF"],["y",null,null]]"#).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].text("a").unwrap(), "x");
        assert_eq!(rows[0].int("n").unwrap(), 1);
        assert_eq!(rows[0].opt_blob_hex("b").unwrap(), Some(vec![0x0a, 0xff]));
        assert_eq!(rows[1].opt_int("n").unwrap(), None);
        assert_eq!(rows[1].opt_blob_hex("b").unwrap(), None);
        assert!(parse(NAMES, "[]").unwrap().is_empty());
    }

    #[test]
    fn malformed_pages_and_mistyped_columns_are_corrupt_errors_naming_the_column() {
        for bad in [r#"{"a":1}"#, r#"[["x",1]]"#, r#"[1]"#, "not json"] {
            assert!(matches!(parse(NAMES, bad), Err(StoreError::Unavailable(_))), "{bad}");
        }
        let rows = parse(NAMES, r#"[[1,"x","abc"]]"#).unwrap();
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
