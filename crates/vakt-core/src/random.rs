//! Randomness as the rest of Vakt sees it: bytes drawn from an [`Entropy`] passed in, like
//! time from a `Clock`.
//!
//! Use cases that make tokens, salts or nonces take an `Entropy`, so a test or a simulation
//! can hand in [`SeededEntropy`] and replay the same run. Real code hands in [`OsEntropy`].

use std::sync::Mutex;

/// A source of random bytes.
pub trait Entropy: Send + Sync + std::fmt::Debug {
    /// Fills `out` with random bytes.
    fn fill(&self, out: &mut [u8]);
}

/// `N` random bytes from `entropy`.
#[must_use]
pub fn bytes<const N: usize>(entropy: &dyn Entropy) -> [u8; N] {
    let mut out = [0_u8; N];
    entropy.fill(&mut out);
    out
}

/// The operating system's randomness. The only place in Vakt's logic that reads it.
#[derive(Clone, Copy, Debug, Default)]
pub struct OsEntropy;

impl Entropy for OsEntropy {
    #[allow(clippy::disallowed_methods)] // This is the one sanctioned reader of OS randomness.
    fn fill(&self, out: &mut [u8]) {
        rand::fill(out);
    }
}

/// Reproducible bytes from a seed (SplitMix64), for tests and simulations. Not for secrets:
/// anyone who knows the seed knows every byte.
#[derive(Debug)]
pub struct SeededEntropy(Mutex<u64>);

impl SeededEntropy {
    /// Bytes that follow from `seed`.
    #[must_use]
    pub fn new(seed: u64) -> SeededEntropy {
        SeededEntropy(Mutex::new(seed))
    }
}

impl Entropy for SeededEntropy {
    fn fill(&self, out: &mut [u8]) {
        let mut state = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for chunk in out.chunks_mut(8) {
            *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = *state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            chunk.copy_from_slice(&z.to_le_bytes()[..chunk.len()]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seed_replays_its_bytes_and_another_seed_does_not() {
        let a: [u8; 20] = bytes(&SeededEntropy::new(7));
        let b: [u8; 20] = bytes(&SeededEntropy::new(7));
        let c: [u8; 20] = bytes(&SeededEntropy::new(8));
        assert_eq!(a, b);
        assert_ne!(a, c);
        let seeded = SeededEntropy::new(7);
        let first: [u8; 8] = bytes(&seeded);
        let second: [u8; 8] = bytes(&seeded);
        assert_ne!(first, second, "each draw moves on");
    }

    #[test]
    fn the_os_gives_different_bytes_each_time() {
        let a: [u8; 32] = bytes(&OsEntropy);
        let b: [u8; 32] = bytes(&OsEntropy);
        assert_ne!(a, b);
    }
}
