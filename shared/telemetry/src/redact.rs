//! The last line of defence for personal data: phone numbers (with or
//! without separators, or as a bare run of digits) and e-mail addresses
//! are masked in every log line and every exported span attribute,
//! whatever code put them there. (Message content cannot be
//! recognised by a pattern; the services keep it out of logs and spans by
//! logging ids only, and the end-to-end test checks it.)

use regex::Regex;
use std::borrow::Cow;
use std::sync::LazyLock;

/// What a masked value is replaced with.
pub const MASK: &str = "[redacted]";

const PATTERNS: &[&str] = &[
    // E-mail addresses.
    r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}",
    // International numbers: +, country code, groups with or without separators.
    r"\+[0-9]{1,3}[ .-]?(?:\(?[0-9]{1,4}\)?[ .-]?){1,4}[0-9]{3,4}",
    // Korean mobile and area-code numbers, with or without separators.
    r"0(?:1[016789]|2|[3-6][1-5])[ .-]?[0-9]{3,4}[ .-]?[0-9]{4}",
    // North American (555) 123-4567 / 555-123-4567.
    r"\(?[0-9]{3}\)?[ .-][0-9]{3}[ .-][0-9]{4}",
    // A bare run of 9 to 15 digits: a phone number without its `+` (E.164
    // has at most 15 digits), as in `"customer_phone": 821012345678` or a
    // parse error quoting it. An integer that long in a log line costs
    // little to lose; a phone number leaked cannot be taken back.
    r"[0-9]{9,15}",
];

/// The index in [`PATTERNS`] of the bare digit run, which a decimal point
/// also glues: the digits of a fraction (`0.123456789`) are not a number.
const DIGIT_RUN: usize = PATTERNS.len() - 1;

static DETECTORS: LazyLock<Vec<Regex>> = LazyLock::new(|| PATTERNS.iter().filter_map(|p| Regex::new(p).ok()).collect());

/// `text` with phone numbers, e-mail addresses and bare runs of 9 to 15
/// digits replaced by [`MASK`]. A digit run glued to letters, digits, `-`
/// or `_` (part of an id, a timestamp or a reservation number) is left
/// alone, and so are the digits around a decimal point.
pub fn redact(text: &str) -> Cow<'_, str> {
    // Cheap exits: nothing to mask without an '@' or a run of digits.
    if !text.contains('@') && !text.as_bytes().windows(3).any(|w| w.iter().all(u8::is_ascii_digit)) {
        return Cow::Borrowed(text);
    }
    let mut ranges: Vec<(usize, usize)> = Vec::new();
    for (index, re) in DETECTORS.iter().enumerate() {
        for m in re.find_iter(text) {
            let before = text[..m.start()].chars().next_back();
            let after = text[m.end()..].chars().next();
            let glued = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
            if index > 0 && (glued(before) || glued(after)) {
                continue;
            }
            if index == DIGIT_RUN && (before == Some('.') || text[m.end()..].starts_with('.') && decimal_after(&text[m.end() + 1..])) {
                continue;
            }
            ranges.push((m.start(), m.end()));
        }
    }
    if ranges.is_empty() {
        return Cow::Borrowed(text);
    }
    ranges.sort_unstable();
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for (start, end) in ranges {
        if end <= at {
            continue;
        }
        out.push_str(&text[at..start.max(at)]);
        out.push_str(MASK);
        at = end;
    }
    out.push_str(&text[at..]);
    Cow::Owned(out)
}

/// Whether `rest` (what follows a `.`) starts with a digit.
fn decimal_after(rest: &str) -> bool {
    rest.starts_with(|c: char| c.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_numbers_and_addresses_are_masked() {
        let line = r#"{"to":"010-1234-5678","intl":"+821012345678","us":"+1 213 555 0149","mail":"kim.minji@example.co.kr"}"#;
        let masked = redact(line);
        for secret in ["010-1234-5678", "+821012345678", "+1 213 555 0149", "kim.minji@example.co.kr"] {
            assert!(!masked.contains(secret), "{secret} left in {masked}");
        }
        assert_eq!(masked.matches(MASK).count(), 4, "{masked}");
    }

    #[test]
    fn bare_runs_of_nine_to_fifteen_digits_are_masked() {
        for (line, secret) in [
            (r#"{"customer_phone": 821012345678}"#, "821012345678"),
            ("invalid type: integer `821012345678`, expected a string", "821012345678"),
            ("call 01012345678 tonight", "01012345678"),
            ("nine 123456789 digits", "123456789"),
            ("fifteen 123456789012345.", "123456789012345"),
        ] {
            let masked = redact(line);
            assert!(!masked.contains(secret), "{secret} left in {masked}");
            assert_eq!(masked.matches(MASK).count(), 1, "{masked}");
        }
    }

    #[test]
    fn ids_timestamps_and_numbers_are_left_alone() {
        let line = r#"{"timestamp":"2026-11-22T10:11:12.123Z","inquiry_id":"0190f5e2-7c3a-7b1e-8a4d-012345678901","trace_id":"6761a2b312345678901234567890abcd","latency_ms":12345678,"ratio":0.123456789012,"big":123456789.5,"hash":"1234567890123456789012","reservation":"HT-20481123","code":"330192847_x"}"#;
        assert_eq!(redact(line), line);
    }
}
