//! [`SeededRng`]: deterministic bytes for reproducible tests. Not for production.

use std::fmt;
use std::sync::Mutex;

use custodian_core::ports::Rng;
use sha2::{Digest, Sha256};

use super::lock;

/// A deterministic [`Rng`]: SHA-256 in counter mode over a seed. Block `i` is
/// `SHA-256(seed_digest ‖ i as u64 big-endian)`, where
/// `seed_digest = SHA-256("custodian-testkit.seeded-rng\0" ‖ seed)`. The same seed gives the same bytes
/// in every run and on every platform.
///
/// **Not for production**: anyone who knows the seed knows every byte, which is the point in tests and fatal
/// anywhere else (the `Rng` port asks for unpredictable bytes). The server wires the OS generator.
pub struct SeededRng {
    seed: [u8; 32],
    state: Mutex<Blocks>,
}

struct Blocks {
    counter: u64,
    block: [u8; 32],
    used: usize,
}

impl SeededRng {
    /// A generator seeded with a number.
    pub fn new(seed: u64) -> Self {
        Self::from_seed(&seed.to_be_bytes())
    }

    /// A generator seeded with arbitrary bytes.
    pub fn from_seed(seed: &[u8]) -> Self {
        let mut digest = Sha256::new();
        digest.update(b"custodian-testkit.seeded-rng\0");
        digest.update(seed);
        Self {
            seed: digest.finalize().into(),
            state: Mutex::new(Blocks { counter: 0, block: [0; 32], used: 32 }),
        }
    }

    /// The next `N` bytes.
    pub fn bytes<const N: usize>(&self) -> [u8; N] {
        let mut out = [0u8; N];
        self.fill(&mut out);
        out
    }

    /// The next 8 bytes as a number.
    pub fn next_u64(&self) -> u64 {
        u64::from_be_bytes(self.bytes())
    }
}

impl fmt::Debug for SeededRng {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SeededRng").field("blocks", &lock(&self.state).counter).finish_non_exhaustive()
    }
}

impl Rng for SeededRng {
    fn fill(&self, buf: &mut [u8]) {
        let mut state = lock(&self.state);
        for byte in buf.iter_mut() {
            if state.used >= state.block.len() {
                let mut digest = Sha256::new();
                digest.update(self.seed);
                digest.update(state.counter.to_be_bytes());
                state.block = digest.finalize().into();
                state.counter = state.counter.wrapping_add(1);
                state.used = 0;
            }
            *byte = state.block.get(state.used).copied().unwrap_or(0);
            state.used += 1;
        }
    }
}
