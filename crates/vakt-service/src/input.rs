//! The documented transmitter format, shared by `vakt accounts import` (CSV and JSON) and
//! the JSON API, parsed once into a [`NewTransmitter`] or a list of field errors.
//!
//! Columns (CSV) or keys (JSON): `account` (required), `receiver`, `prefix`, `key`,
//! `key_form` (`ascii` or `hex`, required with a key), `supervision_interval_s` (default 90),
//! `timestamp_policy` (`encrypted`, `all`, `ignore`), `window_behind_s` (40),
//! `window_ahead_s` (20), `clock_offset_s` (0), `dialect` (any of `crc_binary`,
//! `crc_includes_cr`, `length_decimal`, `prefix_optional`, separated by spaces or `+`),
//! `site_name` (required), `site_address`.

use serde::Deserialize;
use vakt_dc09::{Dialect, Key, KeyForm, Window};

use vakt_store::{NewTransmitter, Site, StoredKey, TimestampPolicy};

/// The heartbeat interval assumed when none is given: an IP path of the faster classes.
pub const DEFAULT_SUPERVISION_INTERVAL_S: u32 = 90;
/// The longest supervision interval accepted: 32 days, the slowest EN 50136 class.
pub const SUPERVISION_INTERVAL_S_MAX: u32 = 32 * 24 * 3600;
/// The widest timestamp window accepted on either side.
pub const WINDOW_S_MAX: u32 = 3600;

/// One transmitter as written in an import file or API body.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct TransmitterInput {
    /// The account.
    pub account: String,
    /// The receiver number to match.
    pub receiver: Option<String>,
    /// The account prefix (line) to match.
    pub prefix: Option<String>,
    /// The AES key.
    pub key: Option<String>,
    /// `ascii` or `hex`.
    pub key_form: Option<String>,
    /// Seconds between heartbeats.
    pub supervision_interval_s: Option<u32>,
    /// `encrypted`, `all` or `ignore`.
    pub timestamp_policy: Option<String>,
    /// Seconds the timestamp may lie behind.
    pub window_behind_s: Option<u32>,
    /// Seconds the timestamp may lie ahead.
    pub window_ahead_s: Option<u32>,
    /// The panel clock's known offset in seconds.
    pub clock_offset_s: Option<i32>,
    /// Dialect flags.
    pub dialect: Option<String>,
    /// The site's name.
    pub site_name: String,
    /// The site's address.
    pub site_address: Option<String>,
}

/// What is wrong with one field.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct FieldError {
    /// The field (column) name.
    pub field: &'static str,
    /// What is wrong, in English.
    pub message: String,
}

fn hex_field(
    field: &'static str,
    value: Option<String>,
    errors: &mut Vec<FieldError>,
) -> Option<String> {
    let value = value
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())?;
    if value.len() > 6 || !value.bytes().all(|b| b.is_ascii_hexdigit()) {
        errors.push(FieldError {
            field,
            message: format!("{value:?} is not 1-6 hex digits"),
        });
    }
    Some(value)
}

/// The key and its form, both or neither.
fn key_field(
    key: Option<String>,
    key_form: Option<String>,
    errors: &mut Vec<FieldError>,
) -> Option<StoredKey> {
    match (
        key.filter(|k| !k.is_empty()),
        key_form.filter(|f| !f.is_empty()),
    ) {
        (None, None) => None,
        (Some(_), None) => {
            errors.push(FieldError {
                field: "key_form",
                message: "say whether the key is \"ascii\" or \"hex\"".into(),
            });
            None
        }
        (None, Some(_)) => {
            errors.push(FieldError {
                field: "key",
                message: "a key form was given without a key".into(),
            });
            None
        }
        (Some(text), Some(form)) => match KeyForm::parse(&form) {
            Err(error) => {
                errors.push(FieldError {
                    field: "key_form",
                    message: error.to_string(),
                });
                None
            }
            Ok(form) => match Key::parse(&text, form) {
                Ok(key) => Some(StoredKey { key, form }),
                Err(error) => {
                    errors.push(FieldError {
                        field: "key",
                        message: error.to_string(),
                    });
                    None
                }
            },
        },
    }
}

/// Dialect flags, separated by spaces, `+`, commas or semicolons.
fn dialect_field(text: String, errors: &mut Vec<FieldError>) -> Dialect {
    let mut dialect = Dialect::default();
    for flag in text.split([' ', '+', ',', ';']).filter(|f| !f.is_empty()) {
        match flag {
            "crc_binary" => dialect.crc_binary = true,
            "crc_includes_cr" => dialect.crc_includes_cr = true,
            "length_decimal" => dialect.length_decimal = true,
            "prefix_optional" => dialect.prefix_optional = true,
            other => errors.push(FieldError {
                field: "dialect",
                message: format!(
                    "{other:?} is not one of crc_binary, crc_includes_cr, length_decimal, prefix_optional"
                ),
            }),
        }
    }
    dialect
}

impl TransmitterInput {
    /// Checks every field and builds the transmitter, or says what is wrong with each field.
    ///
    /// # Errors
    /// Every field error found, not only the first.
    pub fn validate(self) -> Result<NewTransmitter, Vec<FieldError>> {
        let mut errors = Vec::new();
        let account = self.account.trim().to_owned();
        if account.is_empty()
            || account.len() > 16
            || !account.bytes().all(|b| b.is_ascii_alphanumeric())
        {
            errors.push(FieldError {
                field: "account",
                message: format!("{account:?} is not 1-16 letters or digits"),
            });
        }
        let receiver = hex_field("receiver", self.receiver, &mut errors);
        let prefix = hex_field("prefix", self.prefix, &mut errors);
        let key = key_field(self.key, self.key_form, &mut errors);
        let supervision_interval_s = self
            .supervision_interval_s
            .unwrap_or(DEFAULT_SUPERVISION_INTERVAL_S);
        if supervision_interval_s == 0 || supervision_interval_s > SUPERVISION_INTERVAL_S_MAX {
            errors.push(FieldError {
                field: "supervision_interval_s",
                message: format!("must be 1 to {SUPERVISION_INTERVAL_S_MAX} seconds"),
            });
        }
        let timestamp_policy = match self.timestamp_policy.filter(|p| !p.is_empty()) {
            None => TimestampPolicy::default(),
            Some(text) => TimestampPolicy::parse(text.trim()).unwrap_or_else(|| {
                errors.push(FieldError {
                    field: "timestamp_policy",
                    message: format!("{text:?} is not one of encrypted, all, ignore"),
                });
                TimestampPolicy::default()
            }),
        };
        let defaults = Window::default();
        let window = Window {
            behind_s: self.window_behind_s.unwrap_or(defaults.behind_s),
            ahead_s: self.window_ahead_s.unwrap_or(defaults.ahead_s),
        };
        for (field, value) in [
            ("window_behind_s", window.behind_s),
            ("window_ahead_s", window.ahead_s),
        ] {
            if value > WINDOW_S_MAX {
                errors.push(FieldError {
                    field,
                    message: format!("must be at most {WINDOW_S_MAX} seconds"),
                });
            }
        }
        let dialect = dialect_field(self.dialect.unwrap_or_default(), &mut errors);
        let site_name = self.site_name.trim().to_owned();
        if site_name.is_empty() {
            errors.push(FieldError {
                field: "site_name",
                message: "the site needs a name".into(),
            });
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(NewTransmitter {
            account,
            receiver,
            prefix,
            key,
            supervision_interval_s,
            timestamp_policy,
            window,
            clock_offset_s: self.clock_offset_s.unwrap_or(0),
            dialect,
            site: Site {
                name: site_name,
                address: self.site_address.unwrap_or_default().trim().to_owned(),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> TransmitterInput {
        TransmitterInput {
            account: "1234".into(),
            site_name: "Villa Ek".into(),
            ..TransmitterInput::default()
        }
    }

    #[test]
    fn defaults_fill_what_is_not_given() {
        let transmitter = input().validate().unwrap();
        assert_eq!(
            transmitter.supervision_interval_s,
            DEFAULT_SUPERVISION_INTERVAL_S
        );
        assert_eq!(transmitter.window, Window::default());
        assert_eq!(transmitter.key, None);
    }

    #[test]
    fn every_bad_field_is_reported() {
        let bad = TransmitterInput {
            account: "12 34".into(),
            receiver: Some("XYZ".into()),
            key: Some("short".into()),
            key_form: Some("ascii".into()),
            supervision_interval_s: Some(0),
            timestamp_policy: Some("sometimes".into()),
            dialect: Some("crc_binary+fancy".into()),
            site_name: " ".into(),
            ..TransmitterInput::default()
        };
        let fields: Vec<&str> = bad
            .validate()
            .unwrap_err()
            .iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(
            fields,
            [
                "account",
                "receiver",
                "key",
                "supervision_interval_s",
                "timestamp_policy",
                "dialect",
                "site_name"
            ]
        );
    }

    #[test]
    fn a_key_needs_its_form() {
        let mut keyed = input();
        keyed.key = Some("0123456789ABCDEF0123456789ABCDEF".into());
        assert_eq!(keyed.clone().validate().unwrap_err()[0].field, "key_form");
        keyed.key_form = Some("hex".into());
        assert_eq!(keyed.validate().unwrap().key.unwrap().key.bits(), 128);
    }
}
