//! Secrets at rest: contact passwords, revoking codes and staff passwords are stored only as
//! Argon2id hashes keyed with a server-side secret (a "pepper" kept outside the database), so
//! a copy of the database alone does not let anyone test guesses offline.
//!
//! Session and API tokens are random and long, so they need no slow hash: they are stored as
//! SHA-256. Salts and tokens are drawn from the [`Entropy`] the caller passes in.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use sha2::Digest;
use vakt_core::Entropy;
use vakt_core::random::bytes;

/// The shortest server-side secret accepted, in bytes.
pub const PEPPER_BYTES_MIN: usize = 16;

/// Why a hasher cannot be made or a secret cannot be hashed.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    /// The parameters or pepper are not usable.
    #[error("argon2 settings rejected: {0}")]
    Settings(String),
}

/// Argon2id costs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HashCost {
    /// Memory per hash, in KiB.
    pub memory_kib: u32,
    /// Passes over the memory.
    pub iterations: u32,
}

impl Default for HashCost {
    /// OWASP's first Argon2id recommendation: 19 MiB, 2 passes, 1 lane.
    fn default() -> HashCost {
        HashCost {
            memory_kib: 19 * 1024,
            iterations: 2,
        }
    }
}

/// Hashes and verifies secrets with one pepper and one cost.
#[derive(Clone)]
pub struct SecretHasher {
    pepper: Vec<u8>,
    params: Params,
}

impl std::fmt::Debug for SecretHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretHasher")
            .field("pepper", &"<redacted>")
            .finish_non_exhaustive()
    }
}

impl SecretHasher {
    /// A hasher with this pepper and cost.
    ///
    /// # Errors
    /// When the pepper is shorter than [`PEPPER_BYTES_MIN`] or the cost is out of range.
    pub fn new(pepper: &[u8], cost: HashCost) -> Result<SecretHasher, SecretError> {
        if pepper.len() < PEPPER_BYTES_MIN {
            return Err(SecretError::Settings(format!(
                "the server secret must be at least {PEPPER_BYTES_MIN} bytes"
            )));
        }
        let params = Params::new(cost.memory_kib, cost.iterations, 1, None)
            .map_err(|e| SecretError::Settings(e.to_string()))?;
        Ok(SecretHasher {
            pepper: pepper.to_vec(),
            params,
        })
    }

    fn argon(&self) -> Result<Argon2<'_>, SecretError> {
        Argon2::new_with_secret(
            &self.pepper,
            Algorithm::Argon2id,
            Version::V0x13,
            self.params.clone(),
        )
        .map_err(|e| SecretError::Settings(e.to_string()))
    }

    /// Hashes a secret with a fresh salt from `entropy`, as a PHC string.
    ///
    /// # Errors
    /// Only when the settings are unusable.
    pub fn hash(&self, secret: &str, entropy: &dyn Entropy) -> Result<String, SecretError> {
        let salt_bytes: [u8; 16] = bytes(entropy);
        let salt = SaltString::encode_b64(&salt_bytes)
            .map_err(|e| SecretError::Settings(e.to_string()))?;
        let hash = self
            .argon()?
            .hash_password(secret.as_bytes(), &salt)
            .map_err(|e| SecretError::Settings(e.to_string()))?;
        Ok(hash.to_string())
    }

    /// Whether `secret` matches `hash`. A malformed hash never matches.
    #[must_use]
    pub fn verify(&self, secret: &str, hash: &str) -> bool {
        let Ok(parsed) = PasswordHash::new(hash) else {
            return false;
        };
        self.argon()
            .map(|argon| argon.verify_password(secret.as_bytes(), &parsed).is_ok())
            .unwrap_or(false)
    }
}

/// A new random token (sessions, CSRF, API clients, panel links), 32 bytes as hex.
#[must_use]
pub fn new_token(entropy: &dyn Entropy) -> String {
    hex::encode(bytes::<32>(entropy))
}

/// How a session token is stored: SHA-256, hex.
#[must_use]
pub fn token_hash(token: &str) -> String {
    hex::encode(sha2::Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use vakt_core::{OsEntropy, SeededEntropy};

    use super::*;

    fn cheap(pepper: &[u8]) -> Option<SecretHasher> {
        SecretHasher::new(
            pepper,
            HashCost {
                memory_kib: 64,
                iterations: 1,
            },
        )
        .ok()
    }

    #[test]
    fn a_hash_verifies_only_its_secret_and_only_with_its_pepper() {
        let Some(hasher) = cheap(b"server-secret-0123456789") else {
            panic!("hasher")
        };
        let hash = hasher.hash("Hemligt ord 7", &OsEntropy).unwrap_or_default();
        assert!(hash.starts_with("$argon2id$"));
        assert!(!hash.contains("Hemligt"));
        assert!(hasher.verify("Hemligt ord 7", &hash));
        assert!(!hasher.verify("hemligt ord 7", &hash));
        let Some(other) = cheap(b"another-secret-0123456789") else {
            panic!("hasher")
        };
        assert!(!other.verify("Hemligt ord 7", &hash));
        assert!(!hasher.verify("x", "not a hash"));
        assert_ne!(
            hasher.hash("same", &OsEntropy).ok(),
            hasher.hash("same", &OsEntropy).ok()
        );
        let seeded = |seed| hasher.hash("same", &SeededEntropy::new(seed)).ok();
        assert_eq!(
            seeded(1),
            seeded(1),
            "the salt comes from the entropy given"
        );
        assert_ne!(seeded(1), seeded(2));
    }

    #[test]
    fn a_short_pepper_is_refused() {
        assert!(cheap(b"short").is_none());
    }

    #[test]
    fn tokens_are_random_and_hashed_one_way() {
        assert_ne!(new_token(&OsEntropy), new_token(&OsEntropy));
        assert_eq!(new_token(&OsEntropy).len(), 64);
        assert_eq!(token_hash("a"), token_hash("a"));
        assert_ne!(token_hash("a"), "a");
    }
}
