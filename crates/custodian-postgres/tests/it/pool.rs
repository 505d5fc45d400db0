//! The connection pool `PgStore::connect` builds: a connection that sat idle long enough is pinged before
//! use, so one the server cut off in the meantime is replaced instead of failing a request; a connection
//! in steady use is handed out without that extra round trip.

use std::time::Duration;

use custodian_postgres::PgStore;
use sqlx::PgPool;

use crate::{TestDb, admin_url};

/// `DATABASE_URL` pointed at the test's own database.
fn url_of(db: &TestDb) -> String {
    let base = admin_url();
    let (base, query) = base.split_once('?').map_or((base.as_str(), None), |(b, q)| (b, Some(q)));
    let (server, _) = base.rsplit_once('/').unwrap();
    match query {
        Some(query) => format!("{server}/{}?{query}", db.name),
        None => format!("{server}/{}", db.name),
    }
}

async fn backend_pid(pool: &PgPool) -> Result<i32, sqlx::Error> {
    sqlx::query_scalar("SELECT pg_backend_pid()").fetch_one(pool).await
}

/// Waits until `pool`'s one connection is back in the pool (sqlx pings it on the way), then ends its
/// session `pid` from another connection and waits until the server has let it go.
async fn cut_off(db: &TestDb, pool: &PgPool, pid: i32) {
    for _ in 0..200 {
        if pool.num_idle() == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(pool.num_idle(), 1, "the connection did not go back to the pool");
    let ended: bool =
        sqlx::query_scalar("SELECT pg_terminate_backend($1)").bind(pid).fetch_one(&db.owner).await.unwrap();
    assert!(ended, "backend {pid} was not ended");
    for _ in 0..200 {
        let alive: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = $1)")
            .bind(pid)
            .fetch_one(&db.owner)
            .await
            .unwrap();
        if !alive {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("backend {pid} is still there");
}

#[tokio::test]
async fn an_idle_connection_the_server_cut_off_is_replaced_before_use() {
    let db = TestDb::new().await;
    let pool = PgStore::connect_pinging_after(&url_of(&db), 1, Duration::ZERO).await.unwrap();
    let first = backend_pid(&pool).await.unwrap();
    cut_off(&db, &pool, first).await;
    // The one pooled connection is dead: the ping before use finds it and a new one answers.
    let second = backend_pid(&pool).await.unwrap();
    assert_ne!(first, second);
    assert_eq!(backend_pid(&pool).await.unwrap(), second);
    pool.close().await;
}

#[tokio::test]
async fn a_connection_in_steady_use_is_not_pinged_so_a_cut_off_one_fails_once_and_is_replaced() {
    let db = TestDb::new().await;
    // Idle far less than an hour: never pinged before use.
    let pool = PgStore::connect_pinging_after(&url_of(&db), 1, Duration::from_secs(3600)).await.unwrap();
    let first = backend_pid(&pool).await.unwrap();
    cut_off(&db, &pool, first).await;
    backend_pid(&pool).await.unwrap_err();
    let second = backend_pid(&pool).await.unwrap();
    assert_ne!(first, second);
    pool.close().await;
}
