//! Deterministic generation: every value is a pure function of the seed and the value's coordinates, so the
//! N-th row of any page can be produced without storing the rows before it.

/// SplitMix64 finalizer: a fast, well-mixed 64-bit hash step.
pub fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A value derived from `seed` and a list of coordinates (e.g. account, day, row).
pub fn value(seed: u64, coords: &[u64]) -> u64 {
    coords.iter().fold(mix(seed), |acc, &c| mix(acc ^ c))
}

/// A value in `0..bound` derived from `seed` and `coords` (`0` when `bound` is 0).
pub fn below(seed: u64, coords: &[u64], bound: u64) -> u64 {
    if bound == 0 { 0 } else { value(seed, coords) % bound }
}

/// A stable 64-bit code for a string coordinate (FNV-1a), for ids that are text.
pub fn text(s: &str) -> u64 {
    s.bytes().fold(0xCBF2_9CE4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01B3))
}

/// A sequential generator for when order of draws is fixed (SplitMix64 stream).
#[derive(Debug, Clone)]
pub struct Stream {
    state: u64,
}

impl Stream {
    pub fn new(seed: u64, coords: &[u64]) -> Self {
        Self { state: value(seed, coords) }
    }

    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix(self.state)
    }

    /// A value in `0..bound` (`0` when `bound` is 0).
    pub fn below(&mut self, bound: u64) -> u64 {
        if bound == 0 { 0 } else { self.next_u64() % bound }
    }

    /// A lowercase alphanumeric token of `len` characters.
    pub fn token(&mut self, len: usize) -> String {
        const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
        (0..len)
            .map(|_| {
                let i = usize::try_from(self.below(ALPHABET.len() as u64)).unwrap_or(0);
                char::from(ALPHABET.get(i).copied().unwrap_or(b'a'))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_depend_on_seed_and_every_coordinate() {
        assert_eq!(value(7, &[1, 2, 3]), value(7, &[1, 2, 3]));
        assert_ne!(value(7, &[1, 2, 3]), value(8, &[1, 2, 3]));
        assert_ne!(value(7, &[1, 2, 3]), value(7, &[1, 2, 4]));
        assert_ne!(value(7, &[1, 2, 3]), value(7, &[2, 1, 3]));
        assert!(below(1, &[5], 10) < 10);
        assert_eq!(below(1, &[5], 0), 0);
    }

    #[test]
    fn streams_and_tokens_are_reproducible() {
        let a = Stream::new(3, &[text("act_1")]).token(32);
        let b = Stream::new(3, &[text("act_1")]).token(32);
        assert_eq!(a, b);
        assert_eq!(a.len(), 32);
        assert!(a.bytes().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()));
        assert_ne!(a, Stream::new(3, &[text("act_2")]).token(32));
    }
}
