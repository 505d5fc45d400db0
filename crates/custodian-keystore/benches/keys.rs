//! Criterion benchmark `keys`: seal and open of a 1 KiB buyer PII record (`custodian_core::data::seal` and
//! `open`) with the data key taken from the keystore's cache on every operation, against a raw AES-256-GCM
//! loop over 1 KiB with the same nonce source and associated data size, in the same run. After criterion's
//! report it prints operations per second on one core and the ratio to the raw loop. Goal: at least 500k/s.
//!
//! Both sides draw nonces from the same counter-based generator, so the comparison measures the sealing
//! code, not the random source (the server wires the OS generator).

#![expect(clippy::expect_used, reason = "benchmark setup failing should abort the run")]
#![expect(clippy::print_stdout, reason = "the benchmark prints its summary")]

use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use custodian_core::data::{BuyerPii, PostalAddress, SealContext, open, seal};
use custodian_core::ports::{KeyManager, KeyScope, Rng};
use custodian_core::tenant::TenantId;
use custodian_keystore::{Keystore, KeystoreOptions, MasterKey};
use custodian_testkit::fakes::ManualClock;
use futures::executor::block_on;
use zeroize::Zeroizing;

/// The encoded size of the record.
const RECORD_BYTES: usize = 1024;

/// Fast, predictable bytes: benchmark only, never for real nonces.
struct CounterRng(AtomicU64);

impl Rng for CounterRng {
    fn fill(&self, buf: &mut [u8]) {
        let n = self.0.fetch_add(1, Ordering::Relaxed).to_le_bytes();
        for (i, b) in buf.iter_mut().enumerate() {
            *b = n[i % 8];
        }
    }
}

/// A buyer PII record whose canonical encoding is exactly [`RECORD_BYTES`].
fn record() -> BuyerPii {
    let mut pii = BuyerPii {
        name: Some("Alexandra Konstantinopoulou-Whitfield".to_owned()),
        email: Some("alexandra.konstantinopoulou@example-mail.com".to_owned()),
        phone: Some("+44 20 7946 0958".to_owned()),
        address: Some(PostalAddress {
            lines: vec![
                "Flat 4B, Riverside Court".to_owned(),
                "221 Kingsbridge Road".to_owned(),
                String::new(),
            ],
            city: "London".to_owned(),
            region: Some("Greater London".to_owned()),
            postal_code: Some("SW1A 1AA".to_owned()),
            country: "GB".to_owned(),
        }),
    };
    let rng = CounterRng(AtomicU64::new(0));
    let key = custodian_core::data::DataKey::from_bytes(custodian_core::data::KeyVersion(1), [7; 32]);
    let ctx = SealContext::new(&"t".parse().expect("tenant"), "order", "o");
    let size = seal(&key, &ctx, &pii, &rng).expect("seal").ciphertext().len() - 16;
    if let Some(address) = pii.address.as_mut()
        && let Some(line) = address.lines.last_mut()
    {
        line.push_str(&"x".repeat(RECORD_BYTES - size));
    }
    pii
}

struct Setup {
    keystore: Keystore,
    scope: KeyScope,
    ctx: SealContext,
    pii: BuyerPii,
    rng: CounterRng,
    _dir: TempDir,
}

struct TempDir(std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn setup() -> Setup {
    let dir = std::env::temp_dir().join(format!("custodian-keystore-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    let rng = Arc::new(CounterRng(AtomicU64::new(1 << 40)));
    let keystore = Keystore::create(
        dir.join("bench.keystore"),
        MasterKey::from_bytes(Zeroizing::new([42; 32])),
        Arc::new(ManualClock::default()),
        rng,
        KeystoreOptions::default(),
    )
    .expect("keystore");
    let tenant: TenantId = "tenant-bench".parse().expect("tenant");
    let scope = KeyScope::grant(&tenant, &"grant-bench".parse().expect("grant"));
    block_on(keystore.current_key(&scope)).expect("key");
    let ctx = SealContext::new(&tenant, "order", "meta:act_1000/order-000000001");
    Setup { keystore, scope, ctx, pii: record(), rng: CounterRng(AtomicU64::new(0)), _dir: TempDir(dir) }
}

/// A raw AES-256-GCM cipher with the same associated data length as the sealed record.
struct Raw {
    cipher: Aes256Gcm,
    aad: Vec<u8>,
    plain: Vec<u8>,
}

fn raw(ctx_len: usize) -> Raw {
    Raw { cipher: Aes256Gcm::new(&[9u8; 32].into()), aad: vec![1; ctx_len], plain: vec![0x61; RECORD_BYTES] }
}

fn seal_once(s: &Setup) -> custodian_core::data::Sealed<BuyerPii> {
    let key = block_on(s.keystore.current_key(&s.scope)).expect("key");
    seal(&key, &s.ctx, &s.pii, &s.rng).expect("seal")
}

fn open_once(s: &Setup, sealed: &custodian_core::data::Sealed<BuyerPii>) -> BuyerPii {
    let key = block_on(s.keystore.key(&s.scope, sealed.key_version())).expect("key");
    open(&key, &s.ctx, sealed).expect("open")
}

fn raw_encrypt(r: &Raw, rng: &CounterRng) -> Vec<u8> {
    let mut nonce = [0u8; 12];
    rng.fill(&mut nonce);
    r.cipher.encrypt(Nonce::from_slice(&nonce), Payload { msg: &r.plain, aad: &r.aad }).expect("encrypt")
}

fn raw_decrypt(r: &Raw, nonce: &[u8; 12], ciphertext: &[u8]) -> Vec<u8> {
    r.cipher.decrypt(Nonce::from_slice(nonce), Payload { msg: ciphertext, aad: &r.aad }).expect("decrypt")
}

const AAD_LEN: usize = 64;

fn bench(c: &mut Criterion) {
    let s = setup();
    let r = raw(AAD_LEN);
    let sealed = seal_once(&s);
    assert_eq!(sealed.ciphertext().len(), RECORD_BYTES + 16, "the record is 1 KiB");
    let raw_rng = CounterRng(AtomicU64::new(0));
    let raw_nonce = [3u8; 12];
    let raw_ct =
        r.cipher.encrypt(Nonce::from_slice(&raw_nonce), Payload { msg: &r.plain, aad: &r.aad }).expect("ct");

    let mut group = c.benchmark_group("keys_1kib");
    group.throughput(Throughput::Elements(1));
    group.bench_function("seal_cached_key", |b| b.iter(|| black_box(seal_once(&s))));
    group.bench_function("open_cached_key", |b| b.iter(|| black_box(open_once(&s, &sealed))));
    group.bench_function("raw_aes_gcm_encrypt", |b| b.iter(|| black_box(raw_encrypt(&r, &raw_rng))));
    group.bench_function("raw_aes_gcm_decrypt", |b| {
        b.iter(|| black_box(raw_decrypt(&r, &raw_nonce, &raw_ct)))
    });
    group.finish();

    summary(&s, &r, &sealed, &raw_nonce, &raw_ct);
}

/// Operations per second of `op`, run for about `budget`.
fn ops_per_sec(budget: Duration, mut op: impl FnMut()) -> f64 {
    for _ in 0..10_000 {
        op();
    }
    let started = Instant::now();
    let mut n = 0u64;
    while started.elapsed() < budget {
        for _ in 0..1_000 {
            op();
        }
        n += 1_000;
    }
    n as f64 / started.elapsed().as_secs_f64()
}

fn summary(
    s: &Setup,
    r: &Raw,
    sealed: &custodian_core::data::Sealed<BuyerPii>,
    raw_nonce: &[u8; 12],
    raw_ct: &[u8],
) {
    let budget = Duration::from_secs(2);
    let raw_rng = CounterRng(AtomicU64::new(0));
    let key = block_on(s.keystore.current_key(&s.scope)).expect("key");
    let lookup_rate = ops_per_sec(budget, || drop(black_box(block_on(s.keystore.current_key(&s.scope)))));
    let held_seal_rate = ops_per_sec(budget, || drop(black_box(seal(&key, &s.ctx, &s.pii, &s.rng))));
    let held_open_rate = ops_per_sec(budget, || drop(black_box(open(&key, &s.ctx, sealed))));
    let seal_rate = ops_per_sec(budget, || drop(black_box(seal_once(s))));
    let open_rate = ops_per_sec(budget, || drop(black_box(open_once(s, sealed))));
    let enc_rate = ops_per_sec(budget, || drop(black_box(raw_encrypt(r, &raw_rng))));
    let dec_rate = ops_per_sec(budget, || drop(black_box(raw_decrypt(r, raw_nonce, raw_ct))));
    println!();
    println!("keys summary (1 KiB record, one core, data key from the keystore cache on every operation):");
    println!(
        "  seal  {:>10.0} ops/s   raw aes-256-gcm encrypt {:>10.0} ops/s   ratio {:.2}",
        seal_rate,
        enc_rate,
        seal_rate / enc_rate
    );
    println!(
        "  open  {:>10.0} ops/s   raw aes-256-gcm decrypt {:>10.0} ops/s   ratio {:.2}",
        open_rate,
        dec_rate,
        open_rate / dec_rate
    );
    println!(
        "  with the key already in hand: seal {held_seal_rate:>10.0} ops/s (ratio {:.2}), open {held_open_rate:>10.0} ops/s (ratio {:.2})",
        held_seal_rate / enc_rate,
        held_open_rate / dec_rate
    );
    println!("  the cache lookup alone (current_key): {lookup_rate:>10.0} ops/s");
    println!("  goal: at least 500000 ops/s each");
}

criterion_group!(benches, bench);
criterion_main!(benches);
