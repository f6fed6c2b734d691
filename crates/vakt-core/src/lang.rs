//! The two languages Vakt speaks to people, Swedish first: the centre works in Swedish, and
//! staff, customers and panels may choose English. Every word a person reads comes from a
//! catalogue keyed by this (the console's in `vakt-web`, the keypad's in `vakt-panel`).

use serde::{Deserialize, Serialize};

/// A language Vakt speaks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Lang {
    /// Svenska, the default.
    #[default]
    Sv,
    /// English.
    En,
}

impl Lang {
    /// Reads `sv` or `en` (or a browser's `en-GB,en;q=0.9`); anything else is Swedish.
    #[must_use]
    pub fn parse(text: &str) -> Lang {
        if text.trim().starts_with("en") {
            Lang::En
        } else {
            Lang::Sv
        }
    }

    /// The stable code, `sv` or `en`.
    #[must_use]
    pub fn code(self) -> &'static str {
        match self {
            Lang::Sv => "sv",
            Lang::En => "en",
        }
    }

    /// `swedish` or `english`, whichever this language is.
    #[must_use]
    pub fn pick<'a>(self, swedish: &'a str, english: &'a str) -> &'a str {
        match self {
            Lang::Sv => swedish,
            Lang::En => english,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anything_but_english_is_swedish() {
        assert_eq!(Lang::parse("en-GB,en;q=0.9"), Lang::En);
        assert_eq!(Lang::parse("sv-SE"), Lang::Sv);
        assert_eq!(Lang::parse("de"), Lang::Sv);
        assert_eq!(Lang::parse(""), Lang::Sv);
        assert_eq!(Lang::En.code(), "en");
        assert_eq!(Lang::Sv.pick("ja", "yes"), "ja");
        assert_eq!(
            serde_json::to_string(&Lang::En).ok().as_deref(),
            Some("\"en\"")
        );
    }
}
