//! Secrets that must be read back (the transmitters' DC-09 keys) are kept sealed at rest.
//!
//! A password can be stored as a hash, but the receiver needs each transmitter's AES key
//! itself to decrypt its frames. So the key is sealed with XChaCha20-Poly1305 under a key
//! derived (HKDF-SHA256) from the server secret, which lives outside the database: a copy of
//! the database alone, or a look at its file, gives nobody a key to forge an encrypted
//! disarm with. The sealed form starts with [`SEALED_PREFIX`], so a key written by an older
//! Vakt in the clear is recognised, still read, and sealed at the next start-up.
//!
//! Sealing takes its nonce from the caller: randomness is passed in.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};

/// What every sealed value starts with (and a plain DC-09 key, 16 to 32 bytes, never
/// could be mistaken for: a sealed value is at least 43 bytes long).
pub const SEALED_PREFIX: &[u8] = b"VS1";
/// The nonce's length, in bytes.
pub const NONCE_BYTES: usize = 24;
const TAG_BYTES: usize = 16;

/// Why a sealed value cannot be opened.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    /// Sealed under another server secret, or changed since.
    #[error("a stored key cannot be opened with this server secret (was the secret changed?)")]
    WrongSecret,
    /// Too short to be a sealed value.
    #[error("a stored key is cut short")]
    Truncated,
}

/// Seals and opens stored secrets with a key derived from the server secret.
pub struct KeySeal {
    cipher: XChaCha20Poly1305,
}

impl std::fmt::Debug for KeySeal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeySeal")
    }
}

impl KeySeal {
    /// The seal of a server secret.
    #[must_use]
    pub fn new(server_secret: &[u8]) -> KeySeal {
        let mut key = [0_u8; 32];
        // HKDF's expand cannot fail for a 32-byte output.
        let _ = hkdf::Hkdf::<sha2::Sha256>::new(Some(b"vakt key seal"), server_secret)
            .expand(b"dc09 transmitter keys v1", &mut key);
        KeySeal {
            cipher: XChaCha20Poly1305::new(&key.into()),
        }
    }

    /// Seals `plain` with `nonce` (fresh random bytes for every call).
    #[must_use]
    pub fn seal(&self, plain: &[u8], nonce: [u8; NONCE_BYTES]) -> Vec<u8> {
        let sealed = self
            .cipher
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: plain,
                    aad: SEALED_PREFIX,
                },
            )
            .unwrap_or_default();
        let mut out = Vec::with_capacity(SEALED_PREFIX.len() + NONCE_BYTES + sealed.len());
        out.extend_from_slice(SEALED_PREFIX);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        out
    }

    /// Opens a stored value: a sealed one is opened, one stored in the clear by an older
    /// Vakt is returned as it is (see [`is_sealed`]).
    ///
    /// # Errors
    /// When a sealed value was sealed under another secret, changed, or cut short.
    pub fn open(&self, stored: &[u8]) -> Result<Vec<u8>, SealError> {
        if !is_sealed(stored) {
            return Ok(stored.to_vec());
        }
        let rest = &stored[SEALED_PREFIX.len()..];
        if rest.len() < NONCE_BYTES + TAG_BYTES {
            return Err(SealError::Truncated);
        }
        let (nonce, sealed) = rest.split_at(NONCE_BYTES);
        let nonce: [u8; NONCE_BYTES] = nonce.try_into().map_err(|_| SealError::Truncated)?;
        self.cipher
            .decrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: sealed,
                    aad: SEALED_PREFIX,
                },
            )
            .map_err(|_| SealError::WrongSecret)
    }
}

/// Whether a stored value is sealed (else it was stored in the clear by an older Vakt).
#[must_use]
pub fn is_sealed(stored: &[u8]) -> bool {
    stored.starts_with(SEALED_PREFIX) && stored.len() > 32
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &[u8] = b"0123456789ABCDEF";

    #[test]
    fn a_sealed_key_opens_with_its_secret_only_and_never_shows_in_the_clear() {
        let seal = KeySeal::new(b"the server secret of this test");
        let sealed = seal.seal(KEY, [7; NONCE_BYTES]);
        assert!(is_sealed(&sealed));
        assert!(
            !sealed.windows(KEY.len()).any(|w| w == KEY),
            "the key is not in the sealed bytes"
        );
        assert_eq!(seal.open(&sealed).as_deref(), Ok(KEY));
        let other = KeySeal::new(b"another secret");
        assert_eq!(other.open(&sealed), Err(SealError::WrongSecret));
        let mut changed = sealed.clone();
        if let Some(last) = changed.last_mut() {
            *last ^= 1;
        }
        assert_eq!(seal.open(&changed), Err(SealError::WrongSecret));
        assert_eq!(seal.open(&sealed[..40]), Err(SealError::Truncated));
    }

    #[test]
    fn a_key_stored_in_the_clear_by_an_older_vakt_is_still_read() {
        let seal = KeySeal::new(b"secret");
        for plain in [
            &b"0123456789ABCDEF"[..],
            &[0x56, 0x53, 0x31, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13],
        ] {
            assert!(!is_sealed(plain));
            assert_eq!(seal.open(plain).as_deref(), Ok(plain));
        }
    }

    #[test]
    fn two_seals_of_one_key_differ_with_their_nonces() {
        let seal = KeySeal::new(b"secret");
        assert_ne!(
            seal.seal(KEY, [1; NONCE_BYTES]),
            seal.seal(KEY, [2; NONCE_BYTES])
        );
    }
}
