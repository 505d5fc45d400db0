//! Dataset pages read as one value. SQLite builds the whole page as one JSON array
//! (`json_group_array(json_array(…) ORDER BY <key>)` over the ordered, limited window), so a page crosses
//! from the driver's worker thread to the caller as one row. Read row by row, sqlx-sqlite hands every row
//! over a channel to the async side; that hand-off was most of a page read's cost (about 9 µs a row,
//! measured with `cargo bench -p custodian-server --bench load`).
//!
//! Column values keep their SQLite types: text is a JSON string, an integer a JSON number, NULL is
//! `null`. A BLOB cannot be JSON, so a page selects `hex(column)` for one (NULL kept NULL) and
//! [`PageRow::opt_blob_hex`] turns it back into bytes. A value of an unexpected type is a corrupt store
//! error naming the column, never a guess.

use custodian_core::ports::StoreError;
use data_encoding::HEXUPPER_PERMISSIVE;
use serde_json::Value as Json;

use crate::error::corrupt;

/// One record of a page: its columns' values in the order of `names`.
#[derive(Debug)]
pub(super) struct PageRow<'n> {
    names: &'n [&'n str],
    values: Vec<Json>,
}

/// The page SQL: `SELECT json_group_array(json_array(<columns>) ORDER BY <order>) FROM (<window>)`, where
/// `window` selects at least `columns` (by those names) and `order` orders the page as the window does.
pub(super) fn page_sql(columns: &[&str], order: &str, window: &str) -> String {
    format!("SELECT json_group_array(json_array({}) ORDER BY {order}) FROM ({window})", columns.join(", "))
}

/// Parses a page built by [`page_sql`] whose rows hold `names`' columns.
pub(super) fn parse<'n>(names: &'n [&'n str], page: &str) -> Result<Vec<PageRow<'n>>, StoreError> {
    let rows: Vec<Json> = serde_json::from_str(page).map_err(|e| corrupt("dataset page", e))?;
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
