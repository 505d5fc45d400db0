//! The schedule as plain functions: slots, which kinds fall due in a slot, dedupe keys, payloads and job
//! specs. Nothing here reads the clock or the queue.

use custodian_core::audit::Hash;
use custodian_core::grant::GrantId;
use custodian_core::ports::JobSpec;
use custodian_core::tenant::TenantId;
use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

/// The job kinds a worker leases.
pub const TICK: &str = "tick";
pub const SYNC: &str = "sync";
pub const VALIDATE: &str = "validate";
pub const RETENTION: &str = "retention";
pub const PURGE: &str = "purge";
pub const MONITOR: &str = "monitor";

/// Every kind, in the order they are listed to the queue.
pub const KINDS: [&str; 6] = [TICK, SYNC, VALIDATE, RETENTION, PURGE, MONITOR];

/// The queue's bound on dedupe keys, in bytes.
const MAX_DEDUPE_BYTES: usize = 128;

/// Slot arithmetic over a fixed slot length: slot `n` starts at `n * length` seconds after the Unix epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Slots {
    seconds: i64,
}

impl Slots {
    /// Slots of `length`, at least one second.
    pub(crate) fn new(length: Duration) -> Self {
        Self { seconds: length.whole_seconds().max(1) }
    }

    /// The slot `at` falls in.
    pub(crate) fn of(self, at: OffsetDateTime) -> i64 {
        at.unix_timestamp().div_euclid(self.seconds)
    }

    /// When `slot` starts (clamped to the representable range).
    pub(crate) fn start(self, slot: i64) -> OffsetDateTime {
        let seconds = slot.saturating_mul(self.seconds);
        OffsetDateTime::from_unix_timestamp(seconds).unwrap_or(if seconds < 0 {
            OffsetDateTime::UNIX_EPOCH
        } else {
            // Far beyond any real schedule: the largest instant `time` represents without large dates.
            time::macros::datetime!(9999-12-31 23:59:59 UTC)
        })
    }

    /// Whether a job that runs every `every` falls due in the slots `(after, slot]`: some multiple of
    /// `every` (counted from the epoch) lies in `(start(after), start(slot)]`. A tick that runs late or
    /// covers several slots (`after < slot - 1`) therefore still schedules each due kind once.
    pub(crate) fn due(self, every: Duration, after: i64, slot: i64) -> bool {
        let every = i128::from(every.whole_seconds().max(1));
        let length = i128::from(self.seconds);
        (i128::from(slot) * length).div_euclid(every) > (i128::from(after) * length).div_euclid(every)
    }
}

/// The payload of a `tick`: the slot it schedules and the last slot the previous tick covered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TickPayload {
    pub(crate) slot: i64,
    pub(crate) after: i64,
}

/// The payload of `sync`, `validate` and `purge`: the grant (the tenant is the job's tenant).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct GrantPayload {
    pub(crate) grant: String,
    pub(crate) slot: Option<i64>,
}

/// The payload of `retention` and `monitor`: the slot they were scheduled for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SlotPayload {
    pub(crate) slot: i64,
}

/// A dedupe key from its parts joined with `:`; a key longer than the queue allows becomes the kind and
/// the SHA-256 of the whole key (ids may be up to 128 bytes each).
pub(crate) fn dedupe_key(kind: &str, parts: &[&str]) -> String {
    let mut key = kind.to_owned();
    for part in parts {
        key.push(':');
        key.push_str(part);
    }
    if key.len() <= MAX_DEDUPE_BYTES {
        return key;
    }
    format!("{kind}:{}", Hash::of(key.as_bytes()))
}

fn json<T: Serialize>(payload: &T) -> String {
    // Serializing these plain structs of numbers and strings cannot fail; an empty object is a safe
    // fallback that the handler rejects as malformed.
    serde_json::to_string(payload).unwrap_or_else(|_| "{}".to_owned())
}

/// The `tick` of `slot`, covering `(after, slot]`, due when the slot starts.
pub(crate) fn tick_spec(slots: Slots, slot: i64, after: i64, max_attempts: u32) -> JobSpec {
    JobSpec {
        kind: TICK.to_owned(),
        tenant: None,
        payload: json(&TickPayload { slot, after }),
        dedupe_key: Some(dedupe_key(TICK, &[&slot.to_string()])),
        run_at: slots.start(slot),
        max_attempts,
    }
}

/// A per-grant job (`sync` or `validate` of a slot, or `purge` with no slot: one at a time, whenever).
pub(crate) fn grant_spec(
    kind: &str,
    tenant: &TenantId,
    grant: &GrantId,
    slot: Option<i64>,
    run_at: OffsetDateTime,
    max_attempts: u32,
) -> JobSpec {
    let slot_text = slot.map(|s| s.to_string());
    let mut parts = vec![tenant.as_str(), grant.as_str()];
    if let Some(s) = &slot_text {
        parts.push(s);
    }
    JobSpec {
        kind: kind.to_owned(),
        tenant: Some(tenant.clone()),
        payload: json(&GrantPayload { grant: grant.as_str().to_owned(), slot }),
        dedupe_key: Some(dedupe_key(kind, &parts)),
        run_at,
        max_attempts,
    }
}

/// A per-tenant (`retention`) or global (`monitor`, `tenant = None`) job of a slot.
pub(crate) fn slot_spec(
    kind: &str,
    tenant: Option<&TenantId>,
    slot: i64,
    run_at: OffsetDateTime,
    max_attempts: u32,
) -> JobSpec {
    let slot_text = slot.to_string();
    let parts: Vec<&str> = tenant.map(TenantId::as_str).into_iter().chain([slot_text.as_str()]).collect();
    JobSpec {
        kind: kind.to_owned(),
        tenant: tenant.cloned(),
        payload: json(&SlotPayload { slot }),
        dedupe_key: Some(dedupe_key(kind, &parts)),
        run_at,
        max_attempts,
    }
}

/// The delay before retry number `attempts` (1 for the first failure): `base * 2^(attempts - 1)` capped at
/// `max`, plus up to a quarter of it from `jitter` (a uniform 16-bit value), so failing workers spread out.
pub(crate) fn backoff(attempts: u32, base: Duration, max: Duration, jitter: u16) -> Duration {
    let base = base.max(Duration::SECOND);
    let max = max.max(base);
    let factor = 1i64 << attempts.saturating_sub(1).min(30);
    let delay = base.checked_mul(i32::try_from(factor).unwrap_or(i32::MAX)).unwrap_or(max).min(max);
    let extra_ms = delay.whole_milliseconds() * i128::from(jitter) / i128::from(u16::MAX) / 4;
    delay + Duration::milliseconds(i64::try_from(extra_ms).unwrap_or(0))
}
