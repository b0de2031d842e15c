//! `switchboard reservations import FILE`: reservations from JSON lines or
//! CSV with the same columns (the fields of
//! [`ReservationInput`]: `reservation_number, tenant_id, customer_name,
//! customer_phone, partner_id, partner_name, partner_phone,
//! partner_locale, service_type, reservation_date`).
//!
//! The format is chosen by the file's extension (`.csv`; `.json`,
//! `.jsonl`, `.ndjson`) or, for any other name, by its first line: JSON
//! lines start with `{`. Each line passes the same checks as a reservation
//! sent to the API ([`ReservationInput::parse`]); every bad line is
//! reported as `line N: field: reason` (each field at fault, separated by
//! `; `), and good lines are imported all the same.

use anyhow::{Context, bail};
use serde_json::{Map, Value};
use std::io::BufRead;
use std::path::Path;
use switchboard_domain::{Reservation, ReservationInput};
use switchboard_store::ReservationStore;

/// The columns: the fields of a reservation as the API takes it.
pub const COLUMNS: [&str; 10] = ReservationInput::FIELDS;

/// Columns that may be left out (the partner's language defaults to Korean).
const OPTIONAL: [&str; 1] = ["partner_locale"];

/// How the file is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// One JSON object per line.
    JsonLines,
    /// A header line naming the columns, then one reservation per line (RFC 4180).
    Csv,
}

impl Format {
    /// By extension, else by the first non-blank line.
    pub fn detect(path: &Path, first_line: Option<&str>) -> Self {
        let ext = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
        match ext.as_deref() {
            Some("csv") => Self::Csv,
            Some("json" | "jsonl" | "ndjson") => Self::JsonLines,
            _ if first_line.is_some_and(|l| strip_bom(l).trim_start().starts_with('{')) => Self::JsonLines,
            _ if first_line.is_some() => Self::Csv,
            _ => Self::JsonLines,
        }
    }
}

/// What an import did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct ImportReport {
    pub imported: usize,
    /// `line N: why` for every line that was skipped.
    pub rejected: Vec<String>,
}

/// Imports the file at `path`, choosing the format as [`Format::detect`] does.
pub async fn import_path(path: &Path, store: &dyn ReservationStore) -> anyhow::Result<ImportReport> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {} (it must be UTF-8 text)", path.display()))?;
    let first = text.lines().find(|l| !l.trim().is_empty());
    let reservations = parse(&text, Format::detect(path, first))?;
    store_all(reservations, store).await
}

/// Imports JSON lines from `reader` (kept for callers that stream).
pub async fn import(reader: impl BufRead, store: &dyn ReservationStore) -> anyhow::Result<ImportReport> {
    let mut text = String::new();
    for line in reader.lines() {
        text.push_str(&line.context("cannot read the reservations file")?);
        text.push('\n');
    }
    store_all(parse(&text, Format::JsonLines)?, store).await
}

/// One parsed line: a reservation, or why not.
type Parsed = Vec<(usize, Result<Reservation, String>)>;

async fn store_all(parsed: Parsed, store: &dyn ReservationStore) -> anyhow::Result<ImportReport> {
    let mut report = ImportReport::default();
    for (line, result) in parsed {
        match result {
            Ok(reservation) => {
                store.put_reservation(&reservation).await?;
                report.imported += 1;
            }
            Err(why) => report.rejected.push(format!("line {line}: {why}")),
        }
    }
    Ok(report)
}

/// Parses a whole file. Errors of one line are that line's; only a CSV
/// header that lacks a column (or cannot be read) fails the whole file.
pub fn parse(text: &str, format: Format) -> anyhow::Result<Parsed> {
    match format {
        Format::JsonLines => Ok(parse_json_lines(text)),
        Format::Csv => parse_csv(text),
    }
}

fn strip_bom(s: &str) -> &str {
    s.strip_prefix('\u{feff}').unwrap_or(s)
}

fn parse_json_lines(text: &str) -> Parsed {
    strip_bom(text)
        .lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(n, line)| {
            let parsed = match serde_json::from_str::<Map<String, Value>>(line) {
                Ok(object) => reservation(&object),
                Err(e) => Err(format!("not a JSON object: {e}")),
            };
            (n + 1, parsed)
        })
        .collect()
}

fn parse_csv(text: &str) -> anyhow::Result<Parsed> {
    let mut records = csv_records(strip_bom(text)).into_iter();
    let Some((header_line, header)) = records.next() else {
        return Ok(Vec::new());
    };
    let header = match header {
        Ok(header) => header,
        Err(why) => bail!("line {header_line}: the CSV header cannot be read: {why}"),
    };
    let header: Vec<String> = header.iter().map(|h| h.trim().to_ascii_lowercase()).collect();
    let missing: Vec<_> = COLUMNS.iter().filter(|c| !OPTIONAL.contains(c) && !header.iter().any(|h| h == *c)).collect();
    if !missing.is_empty() {
        let missing: Vec<&str> = missing.into_iter().copied().collect();
        bail!("line {header_line}: the CSV header lacks column(s) {}; it must name {}", missing.join(", "), COLUMNS.join(", "));
    }
    Ok(records
        .map(|(line, record)| {
            let parsed = record.and_then(|fields| {
                if fields.len() != header.len() {
                    return Err(format!("has {} fields, the header names {}", fields.len(), header.len()));
                }
                let object: Map<String, Value> = header
                    .iter()
                    .zip(fields)
                    .filter(|(_, v)| !v.trim().is_empty())
                    .map(|(k, v)| (k.clone(), Value::String(v.trim().to_owned())))
                    .collect();
                reservation(&object)
            });
            (line, parsed)
        })
        .collect())
}

/// Builds a reservation from named fields with the domain's rules, naming
/// every field at fault.
fn reservation(object: &Map<String, Value>) -> Result<Reservation, String> {
    let mut bad = Vec::new();
    let mut column = |name: &str| match object.get(name) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => {
            bad.push(format!("{name}: must be text"));
            None
        }
    };
    let input = ReservationInput {
        reservation_number: column("reservation_number"),
        tenant_id: column("tenant_id"),
        customer_name: column("customer_name"),
        customer_phone: column("customer_phone"),
        partner_id: column("partner_id"),
        partner_name: column("partner_name"),
        partner_phone: column("partner_phone"),
        partner_locale: column("partner_locale"),
        service_type: column("service_type"),
        reservation_date: column("reservation_date"),
    };
    if !bad.is_empty() {
        return Err(bad.join("; "));
    }
    input.parse().map_err(|errors| errors.0.iter().map(|e| format!("{}: {}", e.field, e.reason)).collect::<Vec<_>>().join("; "))
}

/// Splits CSV text into records (RFC 4180: quoted fields may hold commas,
/// doubled quotes and line breaks). Each record comes with the line it
/// starts on; blank lines are skipped.
fn csv_records(text: &str) -> Vec<(usize, Result<Vec<String>, String>)> {
    let mut records = Vec::new();
    let mut chars = text.chars().peekable();
    let mut line = 1;
    while chars.peek().is_some() {
        let start = line;
        let mut fields = Vec::new();
        let mut field = String::new();
        // Inside quotes; and whether this field's closing quote was seen.
        let (mut quoted, mut closed) = (false, false);
        let mut error = None;
        let fault = |error: &mut Option<String>, why: String| {
            error.get_or_insert(why);
        };
        loop {
            let Some(c) = chars.next() else {
                if quoted {
                    fault(&mut error, "a quoted field is not closed".to_owned());
                }
                break;
            };
            match c {
                '"' if quoted => {
                    if chars.peek() == Some(&'"') {
                        chars.next();
                        field.push('"');
                    } else {
                        (quoted, closed) = (false, true);
                    }
                }
                '"' if !closed && field.trim().is_empty() => {
                    field.clear();
                    quoted = true;
                }
                '"' => {
                    fault(&mut error, format!("field {} has a stray '\"' (quote the whole field, double inner quotes)", fields.len() + 1))
                }
                ',' if !quoted => {
                    fields.push(std::mem::take(&mut field));
                    closed = false;
                }
                '\n' if !quoted => {
                    line += 1;
                    break;
                }
                '\r' if !quoted && chars.peek() == Some(&'\n') => {}
                c if quoted => {
                    if c == '\n' {
                        line += 1;
                    }
                    field.push(c);
                }
                c if closed => {
                    if !c.is_whitespace() {
                        fault(&mut error, format!("field {} has text after its closing quote", fields.len() + 1));
                    }
                }
                c => field.push(c),
            }
        }
        fields.push(field);
        let blank = fields.len() == 1 && fields[0].trim().is_empty() && error.is_none();
        if !blank {
            records.push((start, error.map_or(Ok(fields), Err)));
        }
    }
    records
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    const HEADER: &str = "reservation_number,customer_name,customer_phone,partner_id,partner_name,partner_phone,partner_locale,service_type,reservation_date,tenant_id";

    fn ok(parsed: &Parsed) -> Vec<&Reservation> {
        parsed.iter().filter_map(|(_, r)| r.as_ref().ok()).collect()
    }

    fn errors(parsed: &Parsed) -> Vec<String> {
        parsed.iter().filter_map(|(n, r)| r.as_ref().err().map(|e| format!("line {n}: {e}"))).collect()
    }

    #[test]
    fn csv_with_the_json_columns_imports_quoted_fields_and_crlf() {
        let text = format!(
            "\u{feff}{HEADER}\r\nHT-20481123,\"Kim, Minji\",010-1234-5678,hanbit-hotel,\"한빛호텔 \"\"전주\"\"\",+821098765432,ko,hotel,2026-12-24,demo\r\n\r\nTR-55501234,Alex Morgan,+12135550149,jeonju-tours,Jeonju Day Tours,+821055501234,en,tour,2026-12-26T10:00,demo\r\n"
        );
        let parsed = parse(&text, Format::Csv).unwrap();
        let good = ok(&parsed);
        assert_eq!(good.len(), 2, "{:?}", errors(&parsed));
        assert_eq!(good[0].customer_name, "Kim, Minji");
        assert_eq!(good[0].partner_name, "한빛호텔 \"전주\"");
        assert_eq!(good[0].customer_phone.as_str(), "+821012345678");
        assert_eq!(good[1].partner_locale, switchboard_domain::Language::En);
        assert_eq!((parsed[0].0, parsed[1].0), (2, 4), "records carry their line numbers");
    }

    #[test]
    fn each_bad_csv_line_is_reported_with_its_number_and_column() {
        let text = format!(
            "{HEADER}\nHT-20481123,Kim,010-1234-5678,p,P,+821098765432,ko,hotel,2026-12-24,demo\nnot-a-number,Kim,010-1234-5678,p,P,+821098765432,ko,hotel,2026-12-24,demo\nHT-20481124,Kim,call me,p,P,+821098765432,ko,hotel,2026-12-24,demo\nHT-20481125,Kim,010-1234-5678,p,P,+821098765432,fr,hotel,2026-12-24,demo\nHT-20481126,Kim,010-1234-5678,p,P,+821098765432,ko,hotel\nHT-20481127,,010-1234-5678,p,P,+821098765432,ko,hotel,2026-12-24,demo\nHT-20481128,\"Kim\"x,010-1234-5678,p,P,+821098765432,ko,hotel,2026-12-24,demo\n"
        );
        let parsed = parse(&text, Format::Csv).unwrap();
        assert_eq!(ok(&parsed).len(), 1);
        let errors = errors(&parsed);
        assert_eq!(errors.len(), 6, "{errors:?}");
        assert!(errors[0].starts_with("line 3: reservation_number:"), "{errors:?}");
        assert!(errors[1].starts_with("line 4: customer_phone:"), "{errors:?}");
        assert!(errors[2].starts_with("line 5: partner_locale: must be ko or en"), "{errors:?}");
        assert!(errors[3].starts_with("line 6: has 8 fields, the header names 10"), "{errors:?}");
        assert_eq!(errors[4], "line 7: customer_name: is required");
        assert!(errors[5].starts_with("line 8: field 2 has text after its closing quote"), "{errors:?}");
    }

    #[test]
    fn a_csv_header_without_a_required_column_fails_the_file() {
        let err = parse("reservation_number,customer_name\nHT-20481123,Kim\n", Format::Csv).unwrap_err().to_string();
        assert!(err.contains("line 1") && err.contains("customer_phone") && err.contains("tenant_id"), "{err}");
    }

    #[test]
    fn the_partner_locale_column_may_be_left_out_and_defaults_to_korean() {
        let text = "tenant_id,reservation_number,customer_name,customer_phone,partner_id,partner_name,partner_phone,service_type,reservation_date\ndemo,HT-20481123,Kim,010-1234-5678,p,P,+821098765432,hotel,2026-12-24\n";
        let parsed = parse(text, Format::Csv).unwrap();
        assert_eq!(ok(&parsed)[0].partner_locale, switchboard_domain::Language::Ko);
    }

    #[test]
    fn an_unclosed_quote_is_reported_not_swallowed() {
        let text = format!("{HEADER}\nHT-20481123,\"Kim,010-1234-5678,p,P,+821098765432,ko,hotel,2026-12-24,demo\n");
        let errors = errors(&parse(&text, Format::Csv).unwrap());
        assert_eq!(errors, ["line 2: a quoted field is not closed"]);
    }

    #[test]
    fn json_lines_name_the_line_and_the_field() {
        let text = "{\"reservation_number\":\"HT-20481123\",\"customer_name\":\"Kim\",\"customer_phone\":\"010-1234-5678\",\"partner_id\":\"p\",\"partner_name\":\"P\",\"partner_phone\":\"+821098765432\",\"service_type\":\"hotel\",\"reservation_date\":\"2026-12-24\",\"tenant_id\":\"demo\"}\n\n{\"reservation_number\":\"HT-1\"}\nnot json\n";
        let parsed = parse(text, Format::JsonLines).unwrap();
        assert_eq!(ok(&parsed).len(), 1);
        let errors = errors(&parsed);
        assert!(errors[0].starts_with("line 3: tenant_id: is required; customer_name: is required;"), "{errors:?}");
        assert!(
            errors[0].ends_with("; reservation_number: must look like HT-20481123 (2–4 capital letters, optional '-', 6–12 digits)"),
            "{errors:?}"
        );
        assert!(errors[1].starts_with("line 4: not a JSON object"), "{errors:?}");
    }

    #[test]
    fn the_import_applies_the_api_s_length_limits_and_names_non_text_values() {
        let line = |name: &str, phone: &str| {
            format!(
                "{{\"reservation_number\":\"HT-20481123\",\"customer_name\":{name},\"customer_phone\":{phone},\"partner_id\":\"p\",\"partner_name\":\"P\",\"partner_phone\":\"+821098765432\",\"service_type\":\"hotel\",\"reservation_date\":\"2026-12-24\",\"tenant_id\":\"demo\"}}\n"
            )
        };
        let text = line(&format!("\"{}\"", "K".repeat(201)), "\"010-1234-5678\"") + &line("\"Kim\"", "1012345678");
        let errors = errors(&parse(&text, Format::JsonLines).unwrap());
        assert_eq!(errors, ["line 1: customer_name: must be at most 200 characters", "line 2: customer_phone: must be text"]);
    }

    #[test]
    fn the_format_follows_the_extension_then_the_first_line() {
        assert_eq!(Format::detect(&PathBuf::from("r.CSV"), Some("{")), Format::Csv);
        assert_eq!(Format::detect(&PathBuf::from("r.jsonl"), Some("a,b")), Format::JsonLines);
        assert_eq!(Format::detect(&PathBuf::from("r.txt"), Some("\u{feff}{\"a\":1}")), Format::JsonLines);
        assert_eq!(Format::detect(&PathBuf::from("reservations"), Some("reservation_number,tenant_id")), Format::Csv);
        assert_eq!(Format::detect(&PathBuf::from("empty"), None), Format::JsonLines);
    }
}
