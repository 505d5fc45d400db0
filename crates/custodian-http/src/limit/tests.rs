//! Unit tests of the rate limiter, on paused tokio time.

use std::sync::Arc;

use super::*;

fn key(account: &str) -> RateKey {
    RateKey::new("amazon", "app-1", account, "getOrders")
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// The times (ms since `start`) at which `n` sequential acquires on `key` went through.
async fn times(limiter: &RateLimiter, key: &RateKey, n: usize) -> Vec<u128> {
    let start = Instant::now();
    let mut out = Vec::new();
    for _ in 0..n {
        limiter.acquire(key).await;
        out.push(start.elapsed().as_millis());
    }
    out
}

#[tokio::test(start_paused = true)]
async fn burst_at_once_then_spaced_by_the_rate() {
    let limiter = RateLimiter::new(Rate::new(2.0, 3));
    assert_eq!(times(&limiter, &key("a"), 7).await, [0, 0, 0, 500, 1000, 1500, 2000]);
    // After a quiet period the burst is available again, but not more.
    tokio::time::sleep(Duration::from_secs(10)).await;
    assert_eq!(times(&limiter, &key("a"), 5).await, [0, 0, 0, 500, 1000]);
}

#[tokio::test(start_paused = true)]
async fn try_acquire_says_how_long_and_takes_nothing_when_refused() {
    let limiter = RateLimiter::new(Rate::new(4.0, 2));
    let k = key("a");
    assert_eq!(limiter.try_acquire(&k), Ok(()));
    assert_eq!(limiter.try_acquire(&k), Ok(()));
    assert_eq!(limiter.try_acquire(&k), Err(ms(250)));
    assert_eq!(limiter.try_acquire(&k), Err(ms(250)), "a refusal takes no slot");
    tokio::time::advance(ms(100)).await;
    assert_eq!(limiter.try_acquire(&k), Err(ms(150)));
    tokio::time::advance(ms(150)).await;
    assert_eq!(limiter.try_acquire(&k), Ok(()));
    assert_eq!(limiter.try_acquire(&k), Err(ms(250)));
}

#[tokio::test(start_paused = true)]
async fn pause_blocks_the_key_for_the_wait_then_resumes_at_the_rate() {
    let limiter = RateLimiter::new(Rate::new(10.0, 5));
    let k = key("a");
    limiter.pause(&k, Duration::from_secs(3));
    assert_eq!(limiter.try_acquire(&k), Err(Duration::from_secs(3)));
    // A shorter pause does not shorten it.
    limiter.pause(&k, Duration::from_secs(1));
    assert_eq!(limiter.try_acquire(&k), Err(Duration::from_secs(3)));
    // No burst right after a throttle: one request per 100 ms from the end of the pause.
    assert_eq!(times(&limiter, &k, 4).await, [3000, 3100, 3200, 3300]);
    // Other keys are not paused.
    assert_eq!(limiter.try_acquire(&key("b")), Ok(()));
}

#[tokio::test(start_paused = true)]
async fn keys_are_independent() {
    let limiter = RateLimiter::new(Rate::new(1.0, 1));
    let (a, b) = (key("a"), key("b"));
    let other_bucket = RateKey::new("amazon", "app-1", "a", "getOrderItems");
    let other_platform = RateKey::new("ebay", "app-1", "a", "getOrders");
    assert_eq!(limiter.try_acquire(&a), Ok(()));
    assert_eq!(limiter.try_acquire(&a), Err(Duration::from_secs(1)));
    for k in [&b, &other_bucket, &other_platform] {
        assert_eq!(limiter.try_acquire(k), Ok(()), "{k:?}");
    }
    assert_eq!(
        format!("{limiter:?}"),
        "RateLimiter { default: Rate { per_second: 1.0, burst: 1 }, keys: 4 }"
    );
}

#[tokio::test(start_paused = true)]
async fn set_rate_and_configure_change_the_spacing() {
    let limiter = RateLimiter::new(Rate::new(1.0, 1));
    let k = key("a");
    limiter.set_rate(&k, 10.0);
    assert_eq!(times(&limiter, &k, 4).await, [0, 100, 200, 300]);
    // Slower: one request every 2 s (the slot already taken at 10/s stays).
    limiter.set_rate(&k, 0.5);
    let start = Instant::now();
    limiter.acquire(&k).await;
    limiter.acquire(&k).await;
    assert_eq!(start.elapsed(), ms(2100));
    // Invalid rates are ignored.
    for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        limiter.set_rate(&k, bad);
    }
    assert_eq!(limiter.try_acquire(&k), Err(Duration::from_secs(2)));
    // configure sets rate and burst.
    let c = key("c");
    limiter.configure(&c, Rate::new(5.0, 2));
    assert_eq!(times(&limiter, &c, 4).await, [0, 0, 200, 400]);
}

#[tokio::test(start_paused = true)]
async fn degenerate_rates_slow_down_but_never_stop() {
    for rate in [Rate::new(0.0, 0), Rate::new(-5.0, 1), Rate::new(f64::NAN, 1)] {
        let limiter = RateLimiter::new(rate);
        let k = key("a");
        assert_eq!(limiter.try_acquire(&k), Ok(()), "{rate:?}");
        assert_eq!(limiter.try_acquire(&k), Err(Duration::from_secs(86_400)), "{rate:?}");
    }
    let limiter = RateLimiter::new(Rate::new(f64::INFINITY, 1));
    let k = key("a");
    for _ in 0..1_000 {
        limiter.acquire(&k).await;
    }
}

#[tokio::test(start_paused = true)]
async fn concurrent_tasks_get_distinct_slots() {
    let limiter = RateLimiter::new(Rate::new(10.0, 3));
    let k = key("a");
    let start = Instant::now();
    let done = Arc::new(std::sync::Mutex::new(Vec::new()));
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let (limiter, k, done) = (limiter.clone(), k.clone(), Arc::clone(&done));
            tokio::spawn(async move {
                limiter.acquire(&k).await;
                done.lock().unwrap().push(start.elapsed().as_millis());
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let mut times = done.lock().unwrap().clone();
    times.sort_unstable();
    // The burst of 3 at once, then one every 100 ms: no two beyond the burst share an instant.
    let expected: Vec<u128> = [0, 0].into_iter().chain((0..18).map(|i| i * 100)).collect();
    assert_eq!(times, expected);
}

#[tokio::test(start_paused = true)]
async fn a_dropped_acquire_does_not_block_others_forever() {
    let limiter = RateLimiter::new(Rate::new(1.0, 1));
    let k = key("a");
    limiter.acquire(&k).await;
    // Takes the slot at 1 s, then is cancelled.
    let cancelled = tokio::time::timeout(ms(10), limiter.acquire(&k)).await;
    assert!(cancelled.is_err());
    let start = Instant::now();
    limiter.acquire(&k).await;
    assert_eq!(start.elapsed(), ms(1990), "the cancelled slot is skipped, the next one is used");
}
