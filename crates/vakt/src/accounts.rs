//! `vakt accounts`: import transmitters from CSV or JSON, and list them.
//!
//! An import is all or nothing: every line is checked first, every error is reported with
//! its line and field, and only a file without errors is written, in one transaction.

use std::fmt::Write as _;
use std::path::Path;

use vakt_service::TransmitterInput;
use vakt_service::transmitters::Trouble;
use vakt_store::{NewTransmitter, Transmitter};

/// The format of an import file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Comma-separated, with a header line naming the columns.
    Csv,
    /// A JSON array of objects.
    Json,
}

impl Format {
    /// The format a file name implies.
    #[must_use]
    pub fn of(path: &Path) -> Option<Format> {
        match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "csv" => Some(Format::Csv),
            "json" => Some(Format::Json),
            _ => None,
        }
    }
}

/// One problem in an import file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// The line (1-based) the entry starts on.
    pub line: usize,
    /// The field, when one is to blame.
    pub field: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.field {
            Some(field) => write!(f, "line {}, field {}: {}", self.line, field, self.message),
            None => write!(f, "line {}: {}", self.line, self.message),
        }
    }
}

/// Reads and checks a whole file.
///
/// # Errors
/// Every problem found.
pub fn parse(text: &str, format: Format) -> Result<Vec<NewTransmitter>, Vec<Problem>> {
    let (entries, mut problems) = match format {
        Format::Csv => read_csv(text),
        Format::Json => read_json(text)?,
    };
    let found = match vakt_service::transmitters::validate_batch(entries) {
        Ok(transmitters) if problems.is_empty() => return Ok(transmitters),
        Ok(_) => Vec::new(),
        Err(found) => found,
    };
    for p in found {
        let (field, message) = match p.trouble {
            Trouble::Field { field, message } => (Some(field.to_owned()), message),
            Trouble::SameAs(earlier) => (
                Some("account".to_owned()),
                format!("the same account, receiver and prefix as line {earlier}"),
            ),
            // A file whose every line failed to read has its problems already.
            Trouble::Empty if !problems.is_empty() => continue,
            Trouble::Empty => (None, "no transmitters in the file".to_owned()),
        };
        problems.push(Problem {
            line: p.entry,
            field,
            message,
        });
    }
    problems.sort_by_key(|p| p.line);
    Err(problems)
}

type Entries = (Vec<(usize, TransmitterInput)>, Vec<Problem>);

fn read_csv(text: &str) -> Entries {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let mut entries = Vec::new();
    let mut problems = Vec::new();
    let mut records = reader.deserialize::<TransmitterInput>();
    loop {
        let line = records.reader().position().line() as usize;
        let Some(result) = records.next() else { break };
        match result {
            Ok(input) => entries.push((line.max(2), input)),
            Err(error) => {
                let line = error.position().map_or(line, |p| p.line() as usize);
                let (field, message) = match error.kind() {
                    csv::ErrorKind::Deserialize { err, .. } => (
                        err.field().and_then(|i| reader_header(text, i as usize)),
                        err.kind().to_string(),
                    ),
                    _ => (None, error.to_string()),
                };
                problems.push(Problem {
                    line,
                    field,
                    message,
                });
            }
        }
    }
    (entries, problems)
}

fn reader_header(text: &str, index: usize) -> Option<String> {
    let header = text.lines().next()?;
    header.split(',').nth(index).map(|h| h.trim().to_owned())
}

/// The lines on which the top-level elements of a JSON array start.
fn element_lines(text: &str) -> Vec<usize> {
    let mut lines = Vec::new();
    let (mut depth, mut line, mut in_string, mut escaped) = (0_i32, 1_usize, false, false);
    let mut expecting = false;
    for c in text.chars() {
        if c == '\n' {
            line += 1;
        }
        if in_string {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
            continue;
        }
        if depth == 1 && expecting && !c.is_whitespace() && c != ',' && c != ']' {
            lines.push(line);
            expecting = false;
        }
        match c {
            '"' => in_string = true,
            '[' | '{' => {
                depth += 1;
                if depth == 1 {
                    expecting = true;
                }
            }
            ']' | '}' => depth -= 1,
            ',' if depth == 1 => expecting = true,
            _ => {}
        }
    }
    lines
}

fn read_json(text: &str) -> Result<Entries, Vec<Problem>> {
    let values: Vec<serde_json::Value> = serde_json::from_str(text).map_err(|error| {
        vec![Problem {
            line: error.line(),
            field: None,
            message: format!("not a JSON array of objects: {error}"),
        }]
    })?;
    let lines = element_lines(text);
    let mut entries = Vec::new();
    let mut problems = Vec::new();
    for (index, value) in values.into_iter().enumerate() {
        let line = lines.get(index).copied().unwrap_or(1);
        match serde_json::from_value::<TransmitterInput>(value) {
            Ok(input) => entries.push((line, input)),
            Err(error) => {
                let message = error.to_string();
                let field = message
                    .split('`')
                    .nth(1)
                    .filter(|_| message.contains("field"))
                    .map(str::to_owned);
                problems.push(Problem {
                    line,
                    field,
                    message,
                });
            }
        }
    }
    Ok((entries, problems))
}

/// The registry as a table for a person.
#[must_use]
pub fn table(transmitters: &[Transmitter]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<5} {:<16} {:<4} {:<4} {:<24} {:>8}  site",
        "id", "account", "rcv", "pref", "key", "poll s"
    );
    for t in transmitters {
        let spec = &t.spec;
        let key = spec.key.as_ref().map_or_else(
            || "none (plain)".to_owned(),
            vakt_store::StoredKey::describe,
        );
        let _ = writeln!(
            out,
            "{:<5} {:<16} {:<4} {:<4} {:<24} {:>8}  {}, {}",
            t.id,
            spec.account,
            spec.receiver.as_deref().unwrap_or("*"),
            spec.prefix.as_deref().unwrap_or("*"),
            key,
            spec.supervision_interval_s,
            spec.site.name,
            spec.site.address
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const CSV: &str = "account,prefix,key,key_form,supervision_interval_s,site_name,site_address\n\
                       1234,0,0123456789ABCDEF,ascii,90,Villa Ek,Storgatan 1\n\
                       5678,0,,,3600,Kontor AB,Hamngatan 2\n";

    #[test]
    fn a_good_csv_imports() {
        let transmitters = parse(CSV, Format::Csv).unwrap();
        assert_eq!(transmitters.len(), 2);
        assert_eq!(transmitters[0].key.as_ref().unwrap().key.bits(), 128);
        assert_eq!(transmitters[1].supervision_interval_s, 3600);
    }

    #[test]
    fn csv_errors_name_line_and_field() {
        let bad = "account,prefix,key,key_form,supervision_interval_s,site_name\n\
                   1234,0,short,ascii,90,Villa Ek\n\
                   5678,0,,,often,Kontor\n\
                   9999,0,,,90,Villa Ek\n\
                   9999,0,,,60,Villa Ek\n";
        let problems = parse(bad, Format::Csv).unwrap_err();
        let shown: Vec<String> = problems.iter().map(ToString::to_string).collect();
        assert!(shown[0].starts_with("line 2, field key:"), "{shown:?}");
        assert!(
            shown[1].starts_with("line 3, field supervision_interval_s:"),
            "{shown:?}"
        );
        assert!(
            shown[2].starts_with(
                "line 5, field account: the same account, receiver and prefix as line 4"
            ),
            "{shown:?}"
        );
        assert_eq!(problems.len(), 3, "{shown:?}");
    }

    #[test]
    fn json_errors_name_the_line_of_the_entry() {
        let json = "[\n  {\"account\": \"1234\", \"site_name\": \"A\"},\n  {\"account\": \"1234\",\n   \"site_name\": \"A\"},\n  {\"account\": \"99\", \"site_name\": \"B\", \"colour\": \"red\"}\n]";
        let problems = parse(json, Format::Json).unwrap_err();
        assert_eq!(problems[0].line, 3);
        assert_eq!(problems[0].field.as_deref(), Some("account"));
        assert_eq!(problems[1].line, 5);
        assert_eq!(problems[1].field.as_deref(), Some("colour"));
    }

    #[test]
    fn an_empty_file_is_an_error() {
        assert!(parse("account,site_name\n", Format::Csv).is_err());
        assert!(parse("[]", Format::Json).is_err());
    }
}
