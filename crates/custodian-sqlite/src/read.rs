//! The read path of a file store: reads that `authorize` and the dataset pages make on every request run
//! on this crate's own pool of read-only SQLite connections ([`Readers`], rusqlite over the same
//! `libsqlite3-sys` as sqlx), with prepared statements cached per connection, on the calling thread.
//!
//! Why: sqlx-sqlite runs each connection on a worker thread of its own and hands every statement and
//! every row across a channel; on the load bench (`cargo bench -p custodian-server --bench load`) that
//! hand-off, not SQLite, was most of a lookup's cost (30–40 µs of CPU for a primary-key lookup). A cached
//! statement on the caller's thread costs a few microseconds.
//!
//! Small reads (a lookup, a page of at most [`INLINE_ROWS`] rows) run on the caller's thread: they take
//! less time than a thread hand-off would. A larger page runs on Tokio's blocking pool so it never holds up
//! an async worker. WAL mode lets these readers read while the writer writes; each statement reads one
//! committed snapshot.
//!
//! An in-memory store has no file another connection could open: its reads stay on its one sqlx
//! connection. Both paths decode through [`Columns`], so a record has one decoder, and the store contract
//! suites run on both (`tests/it/contract.rs`).

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, TryLockError};
use std::time::Duration;

use custodian_core::ports::StoreError;
use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{OpenFlags, ToSql};
use sqlx::Row as _;
use sqlx::sqlite::SqliteRow;

use crate::SqliteStore;
use crate::dataset::page::{Cell, PageQuery, json_rows};
use crate::error::{DbError, corrupt, db};

/// Rows a page may have and still be read on the caller's thread.
const INLINE_ROWS: u32 = 100;
/// Prepared statements each reader keeps.
const STATEMENT_CACHE: usize = 64;

/// How many rows a read returns, which decides where it runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Size {
    /// A handful: a lookup by key, or a set that stays small in practice (open incidents, a tenant's
    /// standing restrictions). On the caller's thread.
    Few,
    /// At most this many (a `LIMIT`): on the caller's thread up to [`INLINE_ROWS`], else on Tokio's
    /// blocking pool.
    AtMost(u32),
}

impl Size {
    fn inline(self) -> bool {
        match self {
            Size::Few => true,
            Size::AtMost(n) => n <= INLINE_ROWS,
        }
    }
}

/// A bound value of a read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Arg {
    Text(String),
    Int(i64),
    Blob(Vec<u8>),
    Null,
}

impl From<&str> for Arg {
    fn from(value: &str) -> Self {
        Arg::Text(value.to_owned())
    }
}

impl From<String> for Arg {
    fn from(value: String) -> Self {
        Arg::Text(value)
    }
}

impl From<i64> for Arg {
    fn from(value: i64) -> Self {
        Arg::Int(value)
    }
}

impl ToSql for Arg {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(match self {
            Arg::Text(s) => ValueRef::Text(s.as_bytes()),
            Arg::Int(n) => ValueRef::Integer(*n),
            Arg::Blob(b) => ValueRef::Blob(b),
            Arg::Null => ValueRef::Null,
        }))
    }
}

/// The columns of a row, by name, as SQLite typed them: one decoder serves both read paths.
pub(crate) trait Columns {
    fn opt_text(&self, name: &str) -> Result<Option<String>, StoreError>;
    fn opt_int(&self, name: &str) -> Result<Option<i64>, StoreError>;
    fn opt_blob(&self, name: &str) -> Result<Option<Vec<u8>>, StoreError>;

    /// A text column that must not be NULL.
    fn text(&self, name: &str) -> Result<String, StoreError> {
        self.opt_text(name)?.ok_or_else(|| null(name))
    }

    /// An integer column that must not be NULL.
    fn int(&self, name: &str) -> Result<i64, StoreError> {
        self.opt_int(name)?.ok_or_else(|| null(name))
    }

    /// A BLOB column that must not be NULL.
    fn blob(&self, name: &str) -> Result<Vec<u8>, StoreError> {
        self.opt_blob(name)?.ok_or_else(|| null(name))
    }
}

fn null(name: &str) -> StoreError {
    corrupt("row", format!("column `{name}` is null"))
}

impl Columns for SqliteRow {
    fn opt_text(&self, name: &str) -> Result<Option<String>, StoreError> {
        self.try_get(name).map_err(db)
    }

    fn opt_int(&self, name: &str) -> Result<Option<i64>, StoreError> {
        self.try_get(name).map_err(db)
    }

    fn opt_blob(&self, name: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.try_get(name).map_err(db)
    }
}

impl Columns for rusqlite::Row<'_> {
    fn opt_text(&self, name: &str) -> Result<Option<String>, StoreError> {
        self.get(name).map_err(native)
    }

    fn opt_int(&self, name: &str) -> Result<Option<i64>, StoreError> {
        self.get(name).map_err(native)
    }

    fn opt_blob(&self, name: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.get(name).map_err(native)
    }
}

/// A rusqlite error as a port error: by message only, as sqlx's are (`error::db`).
fn native(error: rusqlite::Error) -> StoreError {
    match error {
        rusqlite::Error::QueryReturnedNoRows => StoreError::NotFound,
        other => StoreError::Unavailable(Box::new(DbError::message(&other.to_string()))),
    }
}

/// A column value as a page cell: text, an integer, a BLOB or NULL as SQLite typed it. A float is not what
/// a page selects: a corrupt-store error.
fn cell(value: ValueRef<'_>) -> Result<Cell, StoreError> {
    match value {
        ValueRef::Null => Ok(Cell::Null),
        ValueRef::Integer(n) => Ok(Cell::Int(n)),
        ValueRef::Text(bytes) => std::str::from_utf8(bytes)
            .map(|s| Cell::Text(s.to_owned()))
            .map_err(|e| corrupt("dataset page", e)),
        ValueRef::Blob(bytes) => Ok(Cell::Blob(bytes.to_vec())),
        ValueRef::Real(_) => {
            Err(corrupt("dataset page", "a column is neither text, an integer, a BLOB nor null"))
        }
    }
}

/// Read-only connections to a store's file, each behind its own lock.
pub(crate) struct Readers {
    connections: Box<[Mutex<rusqlite::Connection>]>,
    next: AtomicUsize,
}

impl std::fmt::Debug for Readers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Readers").field("connections", &self.connections.len()).finish()
    }
}

impl Readers {
    /// Opens `count` read-only connections to the database at `path` (which the writer has created and put
    /// in WAL mode), each with a page cache of `cache_kib` KiB and a busy timeout of `busy`.
    pub(crate) fn open(
        path: &Path,
        count: usize,
        cache_kib: u32,
        busy: Duration,
    ) -> Result<Self, StoreError> {
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let connections = (0..count.max(1))
            .map(|_| {
                let conn = rusqlite::Connection::open_with_flags(path, flags).map_err(native)?;
                conn.busy_timeout(busy).map_err(native)?;
                conn.pragma_update(None, "cache_size", format!("-{cache_kib}")).map_err(native)?;
                conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
                Ok(Mutex::new(conn))
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        Ok(Self { connections: connections.into_boxed_slice(), next: AtomicUsize::new(0) })
    }

    /// A free connection, trying each once from a rotating start; if all are busy, waits for one.
    fn connection(&self) -> Result<MutexGuard<'_, rusqlite::Connection>, StoreError> {
        let n = self.connections.len();
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        for i in 0..n {
            if let Some(slot) = self.connections.get((start + i) % n) {
                match slot.try_lock() {
                    Ok(guard) => return Ok(guard),
                    // A reader that panicked mid-read left no partial state behind (reads only).
                    Err(TryLockError::Poisoned(poisoned)) => return Ok(poisoned.into_inner()),
                    Err(TryLockError::WouldBlock) => {}
                }
            }
        }
        let slot = self
            .connections
            .get(start % n)
            .ok_or_else(|| StoreError::Unavailable(Box::new(DbError::message("no reader connection"))))?;
        Ok(slot.lock().unwrap_or_else(std::sync::PoisonError::into_inner))
    }

    /// The rows of a page: the window's rows as cells.
    fn page_rows(&self, page: &PageQuery, args: &[Arg]) -> Result<Vec<Vec<Cell>>, StoreError> {
        let conn = self.connection()?;
        cell_rows(&conn, &page.window, args)
    }

    /// Runs `sql` with `args` and decodes every row.
    fn all<T>(
        &self,
        sql: &str,
        args: &[Arg],
        decode: impl Fn(&dyn Columns) -> Result<T, StoreError>,
    ) -> Result<Vec<T>, StoreError> {
        let conn = self.connection()?;
        let mut statement = conn.prepare_cached(sql).map_err(native)?;
        let mut rows = statement.query(rusqlite::params_from_iter(args.iter())).map_err(native)?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(native)? {
            out.push(decode(row)?);
        }
        Ok(out)
    }
}

/// Every row `sql` selects with `args`, as cells.
fn cell_rows(conn: &rusqlite::Connection, sql: &str, args: &[Arg]) -> Result<Vec<Vec<Cell>>, StoreError> {
    let mut statement = conn.prepare_cached(sql).map_err(native)?;
    let width = statement.column_count();
    let mut rows = statement.query(rusqlite::params_from_iter(args.iter())).map_err(native)?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(native)? {
        let mut values = Vec::with_capacity(width + 1);
        for i in 0..width {
            values.push(cell(row.get_ref(i).map_err(native)?)?);
        }
        out.push(values);
    }
    Ok(out)
}

impl SqliteStore {
    /// Every row `sql` selects with `args`, decoded; on the read path of this store (module docs), on the
    /// caller's thread or off it as `size` says.
    pub(crate) async fn read_all<T, F>(
        &self,
        sql: &str,
        args: Vec<Arg>,
        size: Size,
        decode: F,
    ) -> Result<Vec<T>, StoreError>
    where
        T: Send + 'static,
        F: Fn(&dyn Columns) -> Result<T, StoreError> + Send + 'static,
    {
        let Some(readers) = self.readers() else {
            let mut query = sqlx::query(sql);
            for arg in args {
                query = match arg {
                    Arg::Text(s) => query.bind(s),
                    Arg::Int(n) => query.bind(n),
                    Arg::Blob(b) => query.bind(b),
                    Arg::Null => query.bind(Option::<i64>::None),
                };
            }
            let rows = query.fetch_all(self.reader()).await.map_err(db)?;
            return rows.iter().map(|row| decode(row)).collect();
        };
        if size.inline() {
            return readers.all(sql, &args, decode);
        }
        let readers = Arc::clone(readers);
        let sql = sql.to_owned();
        tokio::task::spawn_blocking(move || readers.all(&sql, &args, decode))
            .await
            .map_err(|e| StoreError::Unavailable(Box::new(DbError::message(&e.to_string()))))?
    }

    /// The one row `sql` selects with `args`, decoded; `None` if it selects none.
    pub(crate) async fn read_opt<T, F>(
        &self,
        sql: &str,
        args: Vec<Arg>,
        decode: F,
    ) -> Result<Option<T>, StoreError>
    where
        T: Send + 'static,
        F: Fn(&dyn Columns) -> Result<T, StoreError> + Send + 'static,
    {
        Ok(self.read_all(sql, args, Size::Few, decode).await?.into_iter().next())
    }

    /// The rows of a dataset page, each its column values as cells (`dataset::page`): on the read path,
    /// the window row by row; on sqlx, the page SQLite built as one JSON value.
    pub(crate) async fn read_page(
        &self,
        page: &PageQuery,
        args: Vec<Arg>,
        limit: u32,
    ) -> Result<Vec<Vec<Cell>>, StoreError> {
        let Some(readers) = self.readers() else {
            let text = self.read_all(&page.as_json, args, Size::Few, |row| row.text("page")).await?;
            return json_rows(text.first().map_or("[]", String::as_str), &page.blobs);
        };
        if Size::AtMost(limit).inline() {
            return readers.page_rows(page, &args);
        }
        let readers = Arc::clone(readers);
        let page = page.clone();
        tokio::task::spawn_blocking(move || readers.page_rows(&page, &args))
            .await
            .map_err(|e| StoreError::Unavailable(Box::new(DbError::message(&e.to_string()))))?
    }
}
