//! Unit tests of the replay memory.

use time::macros::datetime;

use super::*;

const NOW: OffsetDateTime = datetime!(2025-01-01 00:00 UTC);

#[test]
fn a_notification_is_claimed_once_within_the_window_and_again_after_it() {
    let seen = SeenSignals::default();
    let key = Hash::of(b"ebay\0/v1/webhooks/ebay\0body");
    assert!(seen.claim(key, NOW));
    assert!(!seen.claim(key, NOW + Duration::minutes(1)), "a replay");
    assert!(!seen.claim(key, NOW + REPLAY_WINDOW - Duration::seconds(1)), "still remembered");
    assert!(seen.claim(key, NOW + REPLAY_WINDOW), "forgotten after the window");
    assert!(seen.claim(Hash::of(b"another"), NOW), "other notifications are independent");
}

#[test]
fn a_released_claim_can_be_retried() {
    let seen = SeenSignals::default();
    let key = Hash::of(b"x");
    assert!(seen.claim(key, NOW));
    seen.release(&key);
    assert!(seen.claim(key, NOW), "the failed delivery's retry is handled");
}

#[test]
fn the_memory_is_bounded_and_forgets_the_oldest_first() {
    let seen = SeenSignals::default();
    for i in 0..MAX_SEEN as u64 {
        assert!(seen.claim(Hash::of(&i.to_le_bytes()), NOW + Duration::seconds(i as i64)));
    }
    let later = NOW + Duration::seconds(MAX_SEEN as i64);
    assert!(seen.claim(Hash::of(b"one more"), later));
    assert_eq!(seen.lock().len(), MAX_SEEN);
    assert!(seen.claim(Hash::of(&0u64.to_le_bytes()), later), "the oldest was forgotten");
    assert!(!seen.claim(Hash::of(&(MAX_SEEN as u64 - 1).to_le_bytes()), later), "the newest is kept");
}
