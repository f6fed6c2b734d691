//! AES-CBC with a zero IV, as DC-09 encrypts: keys, decryption, encryption and padding.
//!
//! The standard key is binary, but panels show it in two ways: as 16/24/32 ASCII characters
//! whose bytes are the key, or as 32/48/64 hex digits. A 32-character text is ambiguous
//! (AES-256 as ASCII, AES-128 as hex), so the form is always stated by whoever enters the
//! key, never guessed.

use std::fmt;

use aes::cipher::{BlockModeDecrypt, BlockModeEncrypt, KeyIvInit, block_padding::NoPadding};

/// The AES block size in bytes.
pub const BLOCK_BYTES: usize = 16;
const ZERO_IV: [u8; BLOCK_BYTES] = [0; BLOCK_BYTES];

/// How a key was written down.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyForm {
    /// 16, 24 or 32 characters whose bytes are the key (Ajax and most receivers).
    Ascii,
    /// 32, 48 or 64 hex digits (Hikvision, Lupus, the standard's own examples).
    Hex,
}

impl KeyForm {
    /// The stable name, `ascii` or `hex`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            KeyForm::Ascii => "ascii",
            KeyForm::Hex => "hex",
        }
    }

    /// Parses `ascii` or `hex`.
    ///
    /// # Errors
    /// Any other word.
    pub fn parse(text: &str) -> Result<KeyForm, KeyError> {
        match text.trim().to_ascii_lowercase().as_str() {
            "ascii" => Ok(KeyForm::Ascii),
            "hex" => Ok(KeyForm::Hex),
            _ => Err(KeyError::UnknownForm(text.to_owned())),
        }
    }
}

/// A key that cannot be used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// The form is neither `ascii` nor `hex`.
    #[error("key form must be \"ascii\" or \"hex\", not {0:?}")]
    UnknownForm(String),
    /// Wrong number of characters for the form.
    #[error("{form} key has {expected}, not {found} characters")]
    Length {
        /// The form given.
        form: &'static str,
        /// The lengths that form allows.
        expected: &'static str,
        /// What was given.
        found: usize,
    },
    /// A hex key holds a character that is not a hex digit.
    #[error("a hex key may hold only the digits 0-9 and A-F")]
    NotHex,
    /// An ASCII key holds a character outside printable ASCII.
    #[error("an ASCII key may hold only printable ASCII characters")]
    NotAscii,
}

/// An AES key for one transmitter. Its `Debug` never shows the key.
#[derive(Clone, PartialEq, Eq)]
pub struct Key {
    bytes: Vec<u8>,
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Key(AES-{}, {})", self.bits(), self.fingerprint())
    }
}

impl Key {
    /// Reads a key written in the given form.
    ///
    /// # Errors
    /// When the text does not fit the form.
    pub fn parse(text: &str, form: KeyForm) -> Result<Key, KeyError> {
        match form {
            KeyForm::Ascii => {
                if !text.bytes().all(|b| b.is_ascii_graphic() || b == b' ') {
                    return Err(KeyError::NotAscii);
                }
                Key::from_bytes(text.as_bytes()).map_err(|_| KeyError::Length {
                    form: "an ASCII",
                    expected: "16, 24 or 32",
                    found: text.len(),
                })
            }
            KeyForm::Hex => {
                let bytes = hex::decode(text).map_err(|error| match error {
                    hex::FromHexError::OddLength => KeyError::Length {
                        form: "a hex",
                        expected: "32, 48 or 64",
                        found: text.len(),
                    },
                    _ => KeyError::NotHex,
                })?;
                Key::from_bytes(&bytes).map_err(|_| KeyError::Length {
                    form: "a hex",
                    expected: "32, 48 or 64",
                    found: text.len(),
                })
            }
        }
    }

    /// A key from its raw bytes: 16, 24 or 32 of them.
    ///
    /// # Errors
    /// Any other length.
    pub fn from_bytes(bytes: &[u8]) -> Result<Key, KeyError> {
        match bytes.len() {
            16 | 24 | 32 => Ok(Key {
                bytes: bytes.to_vec(),
            }),
            found => Err(KeyError::Length {
                form: "a binary",
                expected: "16, 24 or 32",
                found,
            }),
        }
    }

    /// The raw key bytes, for storage.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// 128, 192 or 256.
    #[must_use]
    pub fn bits(&self) -> usize {
        self.bytes.len() * 8
    }

    /// A short, non-secret name for the key, to tell keys apart without showing them:
    /// the CRC-16 of the key bytes.
    #[must_use]
    pub fn fingerprint(&self) -> String {
        format!("{:04X}", crate::crc::crc16(&self.bytes))
    }
}

/// The ciphertext cannot be decrypted.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    /// The ciphertext is not a whole number of AES blocks.
    #[error("ciphertext of {0} bytes is not a multiple of 16")]
    NotBlocks(usize),
}

macro_rules! with_cipher {
    ($key:expr, $mode:ident, $body:expr) => {
        match $key.bytes.len() {
            16 => {
                let cipher = cbc::$mode::<aes::Aes128>::new_from_slices(&$key.bytes, &ZERO_IV);
                cipher.map(|c| $body(c))
            }
            24 => {
                let cipher = cbc::$mode::<aes::Aes192>::new_from_slices(&$key.bytes, &ZERO_IV);
                cipher.map(|c| $body(c))
            }
            _ => {
                let cipher = cbc::$mode::<aes::Aes256>::new_from_slices(&$key.bytes, &ZERO_IV);
                cipher.map(|c| $body(c))
            }
        }
    };
}

/// Decrypts whole blocks in place.
///
/// # Errors
/// When the length is not a multiple of the block size.
pub fn decrypt(key: &Key, ciphertext: &mut [u8]) -> Result<(), CryptoError> {
    if !ciphertext.len().is_multiple_of(BLOCK_BYTES) {
        return Err(CryptoError::NotBlocks(ciphertext.len()));
    }
    let length = ciphertext.len();
    let outcome = with_cipher!(key, Decryptor, |c: cbc::Decryptor<_>| c
        .decrypt_padded::<NoPadding>(ciphertext)
        .map(|_| ()));
    match outcome {
        Ok(Ok(())) => Ok(()),
        _ => Err(CryptoError::NotBlocks(length)),
    }
}

/// Encrypts whole blocks in place.
///
/// # Errors
/// When the length is not a multiple of the block size.
pub fn encrypt(key: &Key, plaintext: &mut [u8]) -> Result<(), CryptoError> {
    let length = plaintext.len();
    if !length.is_multiple_of(BLOCK_BYTES) {
        return Err(CryptoError::NotBlocks(length));
    }
    let outcome = with_cipher!(key, Encryptor, |c: cbc::Encryptor<_>| c
        .encrypt_padded::<NoPadding>(plaintext, length)
        .map(|_| ()));
    match outcome {
        Ok(Ok(())) => Ok(()),
        _ => Err(CryptoError::NotBlocks(length)),
    }
}

/// Whether a byte may be used as pad: anything but `|`, `[` and `]`.
#[must_use]
pub fn is_pad_byte(byte: u8) -> bool {
    !matches!(byte, b'|' | b'[' | b']')
}

/// How many pad bytes to put in front of `content_bytes` so the total fills whole blocks,
/// adding a whole block when it already does (DC-09 5.4.4).
#[must_use]
pub fn pad_bytes_for(content_bytes: usize) -> usize {
    BLOCK_BYTES - content_bytes % BLOCK_BYTES
}

/// Pads `content` in front with bytes from `pad` (which must only give allowed pad bytes),
/// optionally followed by `|`, encrypts it and returns upper-case hex.
///
/// # Panics
/// Never: the padded length is always a multiple of the block size.
#[must_use]
pub fn seal(key: &Key, content: &[u8], with_bar: bool, pad: &mut dyn FnMut() -> u8) -> String {
    let tail = usize::from(with_bar) + content.len();
    let pad_count = pad_bytes_for(tail);
    let mut plain = Vec::with_capacity(pad_count + tail);
    for _ in 0..pad_count {
        let mut byte = pad();
        while !is_pad_byte(byte) {
            byte = pad();
        }
        plain.push(byte);
    }
    if with_bar {
        plain.push(b'|');
    }
    plain.extend_from_slice(content);
    // The length is a whole number of blocks by construction.
    let _ = encrypt(key, &mut plain);
    hex::encode_upper(plain)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_forms_are_explicit() {
        let ascii = Key::parse("0123456789ABCDEF0123456789ABCDEF", KeyForm::Ascii).unwrap();
        assert_eq!(ascii.bits(), 256);
        let hex = Key::parse("0123456789ABCDEF0123456789ABCDEF", KeyForm::Hex).unwrap();
        assert_eq!(hex.bits(), 128);
        assert!(
            Key::parse("0123456789abcdef", KeyForm::Hex).is_err(),
            "8 bytes is no AES key"
        );
    }

    #[test]
    fn bad_keys_say_what_is_wrong() {
        assert!(matches!(
            Key::parse("short", KeyForm::Ascii),
            Err(KeyError::Length { found: 5, .. })
        ));
        assert_eq!(
            Key::parse(&"G".repeat(32), KeyForm::Hex),
            Err(KeyError::NotHex)
        );
        assert!(matches!(
            Key::parse("abc", KeyForm::Hex),
            Err(KeyError::Length { .. })
        ));
        assert!(KeyForm::parse("base64").is_err());
    }

    #[test]
    fn debug_never_shows_the_key() {
        let key = Key::parse("SECRETSECRETSECR", KeyForm::Ascii).unwrap();
        let shown = format!("{key:?}");
        assert!(!shown.contains("SECRET"), "{shown}");
        assert!(shown.contains("AES-128"));
    }

    #[test]
    fn seal_then_decrypt_gives_back_pad_bar_and_content() {
        for text in [
            "0123456789abcdef",
            "0123456789abcdef01234567",
            "0123456789abcdef0123456789abcdef",
        ] {
            let key = Key::parse(text, KeyForm::Ascii).unwrap();
            let mut counter = 0_u8;
            let hex_text = seal(&key, b"]_09:10:30,02-20-2023", true, &mut || {
                counter = counter.wrapping_add(0x5B);
                counter
            });
            let mut bytes = hex::decode(hex_text).unwrap();
            assert_eq!(bytes.len() % 16, 0);
            decrypt(&key, &mut bytes).unwrap();
            assert!(bytes.ends_with(b"|]_09:10:30,02-20-2023"));
            let pad = &bytes[..bytes.len() - 22];
            assert!(pad.iter().all(|b| is_pad_byte(*b)), "{pad:?}");
        }
    }

    #[test]
    fn a_whole_block_of_content_still_gets_a_block_of_pad() {
        assert_eq!(pad_bytes_for(16), 16);
        assert_eq!(pad_bytes_for(15), 1);
        assert_eq!(pad_bytes_for(0), 16);
    }
}
