//! The data inside the brackets: SIA DC-03 blocks and Contact ID reports, mapped into the
//! `vakt_core` event taxonomy.
//!
//! Real panels write these loosely (modifiers without `/`, blocks without an account, text in
//! carets, stray blocks), so the decoders take what they can and never fail: a packet that
//! cannot be read becomes an event of category unknown with the packet kept as its code, so
//! an operator still sees that something came.

use vakt_core::{Category, Condition, Event, EventCode, PayloadFormat};

/// What the data block of a message said.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Payload {
    /// The account named inside the data (`#1234|…`), which may differ from the header's.
    pub account: Option<String>,
    /// The events, in order.
    pub events: Vec<Event>,
}

fn unreadable(format: PayloadFormat, raw: &str) -> Event {
    Event {
        category: Category::Unknown,
        condition: Condition::New,
        zone: None,
        user: None,
        partition: None,
        code: EventCode {
            format,
            code: raw.to_owned(),
        },
        description: None,
        text: None,
    }
}

fn number(text: &str) -> Option<u32> {
    let digits: String = text.chars().take_while(char::is_ascii_digit).collect();
    if digits.is_empty() {
        None
    } else {
        digits.parse().ok()
    }
}

/// Splits `#acct|rest` into the account and the rest.
fn split_account(data: &str) -> (Option<String>, &str) {
    match data.strip_prefix('#') {
        Some(rest) => match rest.split_once('|') {
            Some((account, rest)) => (Some(account.to_owned()), rest),
            None => (Some(rest.to_owned()), ""),
        },
        None => (None, data),
    }
}

/// Decodes SIA DC-03 data (`#1234|Nri1/BA12|Atext`).
#[must_use]
pub fn parse_sia(data: &[u8]) -> Payload {
    let text = String::from_utf8_lossy(data);
    let (account, rest) = split_account(&text);
    let mut payload = Payload {
        account,
        events: Vec::new(),
    };
    for block in rest.split('|').filter(|b| !b.is_empty()) {
        let mut chars = block.chars();
        match chars.next() {
            Some('N' | 'O') => parse_sia_event_block(chars.as_str(), &mut payload.events),
            Some('A') => {
                if let Some(last) = payload.events.last_mut() {
                    last.text = Some(chars.as_str().to_owned());
                }
            }
            // Configuration, control, stray system blocks: not events.
            _ => {}
        }
    }
    payload
}

/// Reads the packets of one `N` block: modifiers (`ri1`, `id3`, `ti10:30`) that apply to
/// the events after them, and events (`BA12`, `CL0^text^`).
fn parse_sia_event_block(block: &str, events: &mut Vec<Event>) {
    let mut partition = None;
    let mut user = None;
    for packet in block.split('/').filter(|p| !p.is_empty()) {
        let mut rest = packet;
        // Modifiers: two lower-case letters and a value, possibly followed by an event
        // without a '/' in between (`ri1CL0`).
        while rest.len() >= 2 && rest.as_bytes().iter().take(2).all(u8::is_ascii_lowercase) {
            let name = rest.get(..2).unwrap_or_default();
            let value_end = rest
                .char_indices()
                .skip(2)
                .find(|&(_, c)| c.is_ascii_uppercase() || c == '^')
                .map_or(rest.len(), |(i, _)| i);
            let value = rest.get(2..value_end).unwrap_or_default();
            match name {
                "ri" => partition = number(value),
                "id" => user = number(value),
                _ => {}
            }
            rest = rest.get(value_end..).unwrap_or_default();
        }
        if rest.is_empty() {
            continue;
        }
        let code = rest.get(..2).unwrap_or(rest);
        if code.len() != 2 || !code.bytes().all(|b| b.is_ascii_uppercase()) {
            // Text after a modifier (`ri01^TOTAL^`) is not an event.
            if !rest.starts_with('^') {
                events.push(unreadable(PayloadFormat::Sia, rest));
            }
            continue;
        }
        let after = rest.get(2..).unwrap_or_default();
        let address = number(after);
        let text = after
            .split('^')
            .nth(1)
            .map(str::to_owned)
            .filter(|t| !t.trim().is_empty());
        events.push(Event::from_sia(code, address, partition, user, text));
    }
}

/// Decodes Contact ID data (`#1234|1130 01 015`): qualifier, event code, group, zone or user.
#[must_use]
pub fn parse_contact_id(data: &[u8]) -> Payload {
    let text = String::from_utf8_lossy(data);
    let (account, rest) = split_account(&text);
    let mut payload = Payload {
        account,
        events: Vec::new(),
    };
    let report = rest.trim();
    if report.is_empty() {
        return payload;
    }
    let digits: String = report.chars().filter(|c| !c.is_whitespace()).collect();
    let parsed = (digits.len() == 9 && digits.bytes().all(|b| b.is_ascii_digit())).then(|| {
        let field = |from: usize, to: usize| {
            digits
                .get(from..to)
                .and_then(|d| d.parse::<u32>().ok())
                .unwrap_or(0)
        };
        (field(0, 1), field(1, 4), field(4, 6), field(6, 9))
    });
    match parsed {
        Some((qualifier @ (1 | 3 | 6), code, group, number)) => {
            let (qualifier, code) = (qualifier as u8, u16::try_from(code).unwrap_or(0));
            payload
                .events
                .push(Event::from_contact_id(qualifier, code, group, number));
        }
        _ => payload
            .events
            .push(unreadable(PayloadFormat::ContactId, report)),
    }
    payload
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sia_block_with_modifiers_and_several_events() {
        let payload = parse_sia(b"#1234|Nri1/BA12/BA13");
        assert_eq!(payload.account.as_deref(), Some("1234"));
        assert_eq!(payload.events.len(), 2);
        assert_eq!(payload.events[0].category, Category::Burglary);
        assert_eq!(
            (payload.events[0].zone, payload.events[0].partition),
            (Some(12), Some(1))
        );
        assert_eq!(payload.events[1].zone, Some(13));
    }

    #[test]
    fn sia_modifier_without_slash_and_text() {
        let payload = parse_sia(b"#123456|Nri1CL0^VX FRONTE ^");
        let event = &payload.events[0];
        assert_eq!(
            (event.category, event.user, event.partition),
            (Category::Closing, Some(0), Some(1))
        );
        assert_eq!(event.text.as_deref(), Some("VX FRONTE "));
    }

    #[test]
    fn sia_user_modifier_and_ascii_block() {
        let payload = parse_sia(b"#1234|Nid3/ri2/OP|Aevening");
        let event = &payload.events[0];
        assert_eq!(
            (event.category, event.user, event.partition),
            (Category::Opening, Some(3), Some(2))
        );
        assert_eq!(event.text.as_deref(), Some("evening"));
    }

    #[test]
    fn sia_quirks_from_the_field() {
        assert_eq!(
            parse_sia(b"Nri1/WA000").events[0].category,
            Category::Technical
        );
        assert_eq!(
            parse_sia(b"#0001|0|NRP").events[0].category,
            Category::Heartbeat
        );
        let texts = parse_sia(b"#7878|Nri01^TOTAL^/LX901^centrale^");
        assert_eq!(texts.events.len(), 1);
        assert_eq!(texts.events[0].code.code, "LX");
        let unknown = parse_sia(b"#1|NZZ1");
        assert_eq!(unknown.events[0].category, Category::Unknown);
        assert_eq!(unknown.events[0].code.code, "ZZ");
        let junk = parse_sia(b"#1|N12345");
        assert_eq!(junk.events[0].category, Category::Unknown);
    }

    #[test]
    fn contact_id_reports() {
        let payload = parse_contact_id(b"#1234|1130 02 015");
        assert_eq!(payload.account.as_deref(), Some("1234"));
        let event = &payload.events[0];
        assert_eq!(
            (event.category, event.condition),
            (Category::Burglary, Condition::New)
        );
        assert_eq!((event.zone, event.partition), (Some(15), Some(2)));
        let closing = &parse_contact_id(b"#1234|3401 01 004").events[0];
        assert_eq!(
            (closing.category, closing.user),
            (Category::Closing, Some(4))
        );
        let garbage = &parse_contact_id(b"#1234|11X0").events[0];
        assert_eq!(garbage.category, Category::Unknown);
        assert_eq!(garbage.code.code, "11X0");
        assert!(parse_contact_id(b"#1234|").events.is_empty());
    }
}
