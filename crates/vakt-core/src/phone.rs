//! Phone numbers in E.164 (`+46701234567`), the one form the ARC dials and the SMS gateway
//! takes. People write Swedish numbers many ways (`070-123 45 67`, `0046 70 123 45 67`,
//! `+46 (0)70…`); they are read once here and stored in one form.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Digits of an E.164 number at most, country code included.
const E164_DIGITS_MAX: usize = 15;
/// The fewest digits a Swedish subscriber number has after the country code.
const SWEDISH_NATIONAL_DIGITS_MIN: usize = 7;

/// The text is not a phone number Vakt can dial.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    /// Characters other than digits, spaces, `-`, `(`, `)` and a leading `+`.
    #[error("a phone number holds only digits, spaces, - ( ) and a leading +")]
    Characters,
    /// Too short or too long.
    #[error("too short or too long for a phone number")]
    Length,
    /// A national number without the leading 0 and without a country code.
    #[error("write the number with its area code (0…) or country code (+…)")]
    NoPrefix,
}

impl PhoneError {
    /// The stable code.
    #[must_use]
    pub fn code(self) -> &'static str {
        match self {
            PhoneError::Characters => "phone_characters",
            PhoneError::Length => "phone_length",
            PhoneError::NoPrefix => "phone_prefix",
        }
    }

    /// The message in Swedish (`sv`) or English.
    #[must_use]
    pub fn message(self, lang: &str) -> &'static str {
        match (self, lang.starts_with("sv")) {
            (PhoneError::Characters, true) => {
                "Ett telefonnummer får bara innehålla siffror, mellanslag, - ( ) och ett inledande +."
            }
            (PhoneError::Characters, false) => {
                "A phone number holds only digits, spaces, - ( ) and a leading +."
            }
            (PhoneError::Length, true) => "Numret är för kort eller för långt.",
            (PhoneError::Length, false) => "The number is too short or too long.",
            (PhoneError::NoPrefix, true) => {
                "Skriv numret med riktnummer (0…) eller landsnummer (+…)."
            }
            (PhoneError::NoPrefix, false) => {
                "Write the number with its area code (0…) or country code (+…)."
            }
        }
    }
}

/// A phone number in E.164.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PhoneNumber {
    e164: String,
}

impl PhoneNumber {
    /// Reads a number as people write it; numbers without a country code are Swedish.
    ///
    /// # Errors
    /// Why it cannot be dialled.
    pub fn parse(text: &str) -> Result<PhoneNumber, PhoneError> {
        let trimmed = text.trim();
        let (international, rest) = match trimmed.strip_prefix('+') {
            Some(rest) => (true, rest),
            None => (false, trimmed),
        };
        // "+46 (0)70…": the bracketed trunk zero is dropped.
        let rest = rest.replacen("(0)", "", 1);
        if !rest
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '-' | '(' | ')'))
        {
            return Err(PhoneError::Characters);
        }
        let digits: String = rest.chars().filter(char::is_ascii_digit).collect();
        let full = if international {
            digits
        } else if let Some(abroad) = digits.strip_prefix("00") {
            abroad.to_owned()
        } else if let Some(national) = digits.strip_prefix('0') {
            format!("46{national}")
        } else {
            return Err(PhoneError::NoPrefix);
        };
        let full = match full.strip_prefix("460") {
            Some(national) => format!("46{national}"),
            None => full,
        };
        let too_short = full
            .strip_prefix("46")
            .map_or(full.len() < 8, |n| n.len() < SWEDISH_NATIONAL_DIGITS_MIN);
        if too_short || full.len() > E164_DIGITS_MAX || full.starts_with('0') {
            return Err(PhoneError::Length);
        }
        Ok(PhoneNumber {
            e164: format!("+{full}"),
        })
    }

    /// `+46701234567`.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.e164
    }
}

impl fmt::Display for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.e164)
    }
}

impl From<PhoneNumber> for String {
    fn from(number: PhoneNumber) -> String {
        number.e164
    }
}

impl TryFrom<String> for PhoneNumber {
    type Error = PhoneError;

    fn try_from(text: String) -> Result<PhoneNumber, PhoneError> {
        PhoneNumber::parse(&text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ways_people_write_swedish_numbers() {
        for text in [
            "070-123 45 67",
            "0701234567",
            "+46 70 123 45 67",
            "+46 (0)70-123 45 67",
            "0046701234567",
            "+460701234567",
        ] {
            assert_eq!(
                PhoneNumber::parse(text).unwrap().as_str(),
                "+46701234567",
                "{text}"
            );
        }
        assert_eq!(
            PhoneNumber::parse("08-123 456 78").unwrap().as_str(),
            "+46812345678"
        );
        assert_eq!(
            PhoneNumber::parse("+47 22 12 34 56").unwrap().as_str(),
            "+4722123456"
        );
    }

    #[test]
    fn numbers_that_cannot_be_dialled() {
        assert_eq!(PhoneNumber::parse("070-ABC"), Err(PhoneError::Characters));
        assert_eq!(PhoneNumber::parse("701234567"), Err(PhoneError::NoPrefix));
        assert_eq!(PhoneNumber::parse("0701"), Err(PhoneError::Length));
        assert_eq!(
            PhoneNumber::parse("+1234567890123456"),
            Err(PhoneError::Length)
        );
        assert_eq!(PhoneNumber::parse(""), Err(PhoneError::NoPrefix));
        assert_ne!(
            PhoneError::Length.message("sv"),
            PhoneError::Length.message("en")
        );
    }
}
