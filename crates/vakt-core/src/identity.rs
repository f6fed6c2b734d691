//! Swedish identity numbers, parsed once at the edge: personnummer and samordningsnummer for
//! private customers, organisationsnummer for businesses (`DOMAIN.md` K1).
//!
//! All three end in a Luhn check digit over ten digits. The ten-digit personal form
//! (`YYMMDD-NNNN`) leaves the century to the reader: `-` means the person is under 100
//! today, `+` that they are 100 or older, so parsing needs today's date, passed in.
//! Values are kept in one canonical form (`YYYYMMDD-NNNN`, `NNNNNN-NNNN`) so the same person
//! or company is always stored the same way.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Why a text is not a valid identity number. Each variant has a stable code and a message
/// in Swedish and English.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum IdentityError {
    /// Not 10 or 12 digits with an optional separator.
    #[error("not of the form YYYYMMDD-NNNN or YYMMDD-NNNN")]
    Shape,
    /// The date part is not a date (for a samordningsnummer: day minus 60).
    #[error("the date part is not a real date")]
    Date,
    /// The check digit does not match.
    #[error("the check digit does not match")]
    CheckDigit,
    /// An organisation number whose third digit is below 2.
    #[error("not an organisation number (the third digit must be 2 or more)")]
    NotOrganisation,
    /// A date of birth after today.
    #[error("the date of birth is in the future")]
    Future,
}

impl IdentityError {
    /// The stable code, for APIs and forms.
    #[must_use]
    pub fn code(self) -> &'static str {
        match self {
            IdentityError::Shape => "identity_shape",
            IdentityError::Date => "identity_date",
            IdentityError::CheckDigit => "identity_check_digit",
            IdentityError::NotOrganisation => "identity_not_organisation",
            IdentityError::Future => "identity_future",
        }
    }

    /// The message in Swedish (`sv`) or English (anything else).
    #[must_use]
    pub fn message(self, lang: &str) -> &'static str {
        let swedish = lang.starts_with("sv");
        match (self, swedish) {
            (IdentityError::Shape, true) => "Ange numret som ÅÅÅÅMMDD-NNNN eller ÅÅMMDD-NNNN.",
            (IdentityError::Shape, false) => "Write the number as YYYYMMDD-NNNN or YYMMDD-NNNN.",
            (IdentityError::Date, true) => "Datumdelen är inte ett giltigt datum.",
            (IdentityError::Date, false) => "The date part is not a real date.",
            (IdentityError::CheckDigit, true) => {
                "Kontrollsiffran stämmer inte; kontrollera numret."
            }
            (IdentityError::CheckDigit, false) => {
                "The check digit does not match; check the number."
            }
            (IdentityError::NotOrganisation, true) => "Det är inte ett organisationsnummer.",
            (IdentityError::NotOrganisation, false) => "That is not an organisation number.",
            (IdentityError::Future, true) => "Födelsedatumet ligger i framtiden.",
            (IdentityError::Future, false) => "The date of birth is in the future.",
        }
    }
}

/// The Luhn (mod 10) check digit for `digits`, as personnummer, organisationsnummer and
/// OCR references use it: weights 2, 1, 2, … from the right of the digits given.
#[must_use]
pub fn luhn_check_digit(digits: &[u8]) -> u8 {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(index, &digit)| {
            let value = u32::from(digit % 10) * if index % 2 == 0 { 2 } else { 1 };
            value / 10 + value % 10
        })
        .sum();
    u8::try_from((10 - sum % 10) % 10).unwrap_or(0)
}

/// The Luhn check over ten digits: the last one is the check digit of the nine before it.
fn luhn_valid(digits: &[u8; 10]) -> bool {
    let sum: u32 = digits
        .iter()
        .enumerate()
        .map(|(index, &digit)| {
            let value = u32::from(digit) * if index % 2 == 0 { 2 } else { 1 };
            value / 10 + value % 10
        })
        .sum();
    sum.is_multiple_of(10)
}

fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => 0,
    }
}

/// A civil date, for the date of birth inside a personal number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct CivilDate {
    /// The year.
    pub year: i32,
    /// 1–12.
    pub month: u32,
    /// 1–31.
    pub day: u32,
}

/// Which kind of personal number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PersonalNumberKind {
    /// Personnummer: a person registered in Sweden.
    Personnummer,
    /// Samordningsnummer: a person not (yet) registered; the day is raised by 60.
    Samordningsnummer,
}

/// A valid personnummer or samordningsnummer, kept as `YYYYMMDD-NNNN`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PersonalNumber {
    canonical: String,
}

fn digits_of(text: &str) -> Option<(Vec<u8>, Option<char>)> {
    let trimmed = text.trim();
    let mut separator = None;
    let mut digits = Vec::with_capacity(12);
    for (index, c) in trimmed.chars().enumerate() {
        match c {
            '0'..='9' => digits.push(c as u8 - b'0'),
            '-' | '+' if separator.is_none() && index + 5 == trimmed.chars().count() => {
                separator = Some(c);
            }
            _ => return None,
        }
    }
    Some((digits, separator))
}

fn number(digits: &[u8]) -> u32 {
    digits.iter().fold(0, |acc, &d| acc * 10 + u32::from(d))
}

impl PersonalNumber {
    /// Parses a personal number in any common form, resolving the century of the ten-digit
    /// forms against `today`.
    ///
    /// # Errors
    /// What is wrong with it.
    pub fn parse(text: &str, today: CivilDate) -> Result<PersonalNumber, IdentityError> {
        let (digits, separator) = digits_of(text).ok_or(IdentityError::Shape)?;
        let (year, rest) = match digits.len() {
            12 => {
                let year = i32::try_from(number(&digits[..4])).map_err(|_| IdentityError::Shape)?;
                if separator == Some('+') {
                    return Err(IdentityError::Shape);
                }
                (year, &digits[2..])
            }
            10 => {
                let two = i32::try_from(number(&digits[..2])).map_err(|_| IdentityError::Shape)?;
                let mut year = today.year - (today.year - two).rem_euclid(100);
                let month = number(&digits[2..4]);
                let day = number(&digits[4..6]) % 60;
                if (CivilDate { year, month, day }) > today {
                    year -= 100;
                }
                if separator == Some('+') {
                    year -= 100;
                }
                (year, &digits[..])
            }
            _ => return Err(IdentityError::Shape),
        };
        let ten: [u8; 10] = rest.try_into().map_err(|_| IdentityError::Shape)?;
        let month = number(&ten[2..4]);
        let raw_day = number(&ten[4..6]);
        // A samordningsnummer raises the day by 60.
        let day = if raw_day > 60 { raw_day - 60 } else { raw_day };
        if month == 0 || month > 12 || day == 0 || day > days_in_month(year, month) {
            return Err(IdentityError::Date);
        }
        if (CivilDate { year, month, day }) > today {
            return Err(IdentityError::Future);
        }
        if !luhn_valid(&ten) {
            return Err(IdentityError::CheckDigit);
        }
        let tail: String = ten[6..].iter().map(|d| char::from(b'0' + d)).collect();
        Ok(PersonalNumber {
            canonical: format!("{year:04}{month:02}{raw_day:02}-{tail}"),
        })
    }

    /// Personnummer or samordningsnummer.
    #[must_use]
    pub fn kind(&self) -> PersonalNumberKind {
        let raw_day: u32 = self
            .canonical
            .get(6..8)
            .and_then(|d| d.parse().ok())
            .unwrap_or(0);
        if raw_day > 60 {
            PersonalNumberKind::Samordningsnummer
        } else {
            PersonalNumberKind::Personnummer
        }
    }

    /// The date of birth.
    #[must_use]
    pub fn birth_date(&self) -> CivilDate {
        let field = |from: usize, to: usize| {
            self.canonical
                .get(from..to)
                .and_then(|d| d.parse::<u32>().ok())
                .unwrap_or(0)
        };
        CivilDate {
            year: i32::try_from(field(0, 4)).unwrap_or(0),
            month: field(4, 6),
            day: field(6, 8) % 60,
        }
    }

    /// `YYYYMMDD-NNNN`.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.canonical
    }
}

impl fmt::Display for PersonalNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.canonical)
    }
}

impl From<PersonalNumber> for String {
    fn from(number: PersonalNumber) -> String {
        number.canonical
    }
}

impl TryFrom<String> for PersonalNumber {
    type Error = IdentityError;

    /// Reads a stored canonical value (twelve digits, so no century to resolve).
    fn try_from(text: String) -> Result<PersonalNumber, IdentityError> {
        let far_future = CivilDate {
            year: 9999,
            month: 12,
            day: 31,
        };
        if text.len() != 13 {
            return Err(IdentityError::Shape);
        }
        PersonalNumber::parse(&text, far_future)
    }
}

/// A valid organisationsnummer, kept as `NNNNNN-NNNN`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct OrganisationNumber {
    canonical: String,
}

impl OrganisationNumber {
    /// Parses `NNNNNN-NNNN`, `NNNNNNNNNN` or the 12-digit form with the `16` prefix.
    ///
    /// # Errors
    /// What is wrong with it.
    pub fn parse(text: &str) -> Result<OrganisationNumber, IdentityError> {
        let (digits, separator) = digits_of(text).ok_or(IdentityError::Shape)?;
        if separator == Some('+') {
            return Err(IdentityError::Shape);
        }
        let ten: [u8; 10] = match digits.len() {
            10 => digits
                .as_slice()
                .try_into()
                .map_err(|_| IdentityError::Shape)?,
            12 if digits[..2] == [1, 6] => {
                digits[2..].try_into().map_err(|_| IdentityError::Shape)?
            }
            _ => return Err(IdentityError::Shape),
        };
        if ten[2] < 2 {
            return Err(IdentityError::NotOrganisation);
        }
        if !luhn_valid(&ten) {
            return Err(IdentityError::CheckDigit);
        }
        let text: String = ten.iter().map(|d| char::from(b'0' + d)).collect();
        Ok(OrganisationNumber {
            canonical: format!("{}-{}", &text[..6], &text[6..]),
        })
    }

    /// `NNNNNN-NNNN`.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.canonical
    }
}

impl fmt::Display for OrganisationNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.canonical)
    }
}

impl From<OrganisationNumber> for String {
    fn from(number: OrganisationNumber) -> String {
        number.canonical
    }
}

impl TryFrom<String> for OrganisationNumber {
    type Error = IdentityError;

    fn try_from(text: String) -> Result<OrganisationNumber, IdentityError> {
        OrganisationNumber::parse(&text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TODAY: CivilDate = CivilDate {
        year: 2026,
        month: 11,
        day: 21,
    };

    #[test]
    fn personal_numbers_in_every_form_become_one() {
        // The Tax Agency's published test number 811218-9876.
        for text in [
            "811218-9876",
            "8112189876",
            "198112189876",
            "19811218-9876",
            " 811218-9876 ",
        ] {
            let number = PersonalNumber::parse(text, TODAY).unwrap();
            assert_eq!(number.as_str(), "19811218-9876", "{text}");
            assert_eq!(number.kind(), PersonalNumberKind::Personnummer);
        }
        assert_eq!(
            PersonalNumber::parse("811218+9876", TODAY)
                .unwrap()
                .as_str(),
            "18811218-9876"
        );
    }

    #[test]
    fn the_century_of_short_forms_follows_today() {
        let born_2020 = valid_with_check("2010101234"[..9].to_owned());
        assert!(
            PersonalNumber::parse(&born_2020, TODAY)
                .unwrap()
                .as_str()
                .starts_with("2020")
        );
        // A day after today in 2026 must be 1926.
        let born_1926 = valid_with_check("261231123".to_owned());
        assert!(
            PersonalNumber::parse(&born_1926, TODAY)
                .unwrap()
                .as_str()
                .starts_with("1926")
        );
    }

    fn valid_with_check(nine: String) -> String {
        (0..10)
            .map(|check| format!("{nine}{check}"))
            .find(|candidate| {
                let digits: Vec<u8> = candidate.bytes().map(|b| b - b'0').collect();
                luhn_valid(&digits.try_into().unwrap())
            })
            .unwrap()
    }

    #[test]
    fn samordningsnummer_add_sixty_to_the_day() {
        let text = valid_with_check("701063238".to_owned());
        let number = PersonalNumber::parse(&text, TODAY).unwrap();
        assert_eq!(number.kind(), PersonalNumberKind::Samordningsnummer);
        assert_eq!(
            number.birth_date(),
            CivilDate {
                year: 1970,
                month: 10,
                day: 3
            }
        );
    }

    #[test]
    fn wrong_numbers_say_why() {
        assert_eq!(
            PersonalNumber::parse("811218-9875", TODAY),
            Err(IdentityError::CheckDigit)
        );
        assert_eq!(
            PersonalNumber::parse("811318-9876", TODAY),
            Err(IdentityError::Date)
        );
        assert_eq!(
            PersonalNumber::parse("810230-0000", TODAY),
            Err(IdentityError::Date)
        );
        assert_eq!(
            PersonalNumber::parse("81121-89876", TODAY),
            Err(IdentityError::Shape)
        );
        assert_eq!(
            PersonalNumber::parse("abc", TODAY),
            Err(IdentityError::Shape)
        );
        let future = valid_with_check("300101123".to_owned());
        assert_eq!(
            PersonalNumber::parse(&format!("20{future}"), TODAY),
            Err(IdentityError::Future)
        );
        for error in [
            IdentityError::Shape,
            IdentityError::Date,
            IdentityError::CheckDigit,
        ] {
            assert_ne!(error.message("sv"), error.message("en"));
            assert!(error.code().starts_with("identity_"));
        }
    }

    #[test]
    fn organisation_numbers() {
        // Bolagsverket's own organisationsnummer.
        let number = OrganisationNumber::parse("2021005489").unwrap();
        assert_eq!(number.as_str(), "202100-5489");
        assert_eq!(OrganisationNumber::parse("16202100-5489").unwrap(), number);
        assert_eq!(
            OrganisationNumber::parse("202100-5488"),
            Err(IdentityError::CheckDigit)
        );
        assert_eq!(
            OrganisationNumber::parse("811218-9876"),
            Err(IdentityError::NotOrganisation)
        );
        assert_eq!(
            OrganisationNumber::parse("202100-548"),
            Err(IdentityError::Shape)
        );
    }

    #[test]
    fn stored_values_read_back() {
        let number = PersonalNumber::parse("811218-9876", TODAY).unwrap();
        let json = serde_json::to_string(&number).unwrap();
        assert_eq!(json, "\"19811218-9876\"");
        assert_eq!(
            serde_json::from_str::<PersonalNumber>(&json).unwrap(),
            number
        );
        assert!(serde_json::from_str::<PersonalNumber>("\"19811218-9875\"").is_err());
    }

    #[test]
    fn luhn_check_digit_completes_known_numbers() {
        // 811218-9876 and 556036-0793 are the usual documented examples.
        assert_eq!(luhn_check_digit(&[8, 1, 1, 2, 1, 8, 9, 8, 7]), 6);
        assert_eq!(luhn_check_digit(&[5, 5, 6, 0, 3, 6, 0, 7, 9]), 3);
        let digits = [8, 1, 1, 2, 1, 8, 9, 8, 7, 6];
        assert!(luhn_valid(&digits));
    }
}
