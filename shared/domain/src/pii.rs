//! Personal data in inquiry text: local detection, masking with detected
//! spans, and a redaction helper for anything about to be logged. The one
//! detector: the classifiers record its spans, the partner page masks the
//! text it shows with it (re-exported as `switchboard_ai::pii`).
//!
//! Comprehend's `DetectPiiEntities` supports only English and Spanish, so
//! Korean text (and English text when Comprehend is not used) relies on the
//! patterns here: phone numbers, e-mail addresses, card numbers and Korean
//! resident registration numbers. They are the identifiers customers type
//! into inquiries; names need a model and are left to Comprehend.

use crate::{PiiSpan, TextField};
use regex::Regex;
use std::sync::LazyLock;

/// Patterns and the kind (Comprehend's names) each one finds.
const PATTERNS: &[(&str, &str)] = &[
    ("EMAIL", r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"),
    // Resident registration number: birth date, '-', a 1–4 (or 5–8 for
    // foreigners) century/sex digit, six more.
    ("KR_RRN", r"[0-9]{6}-[1-8][0-9]{6}"),
    ("CREDIT_DEBIT_NUMBER", r"[0-9]{4}[ -]?[0-9]{4}[ -]?[0-9]{4}[ -]?[0-9]{4}"),
    // International form: +, country code, groups separated or not.
    ("PHONE", r"\+[0-9]{1,3}[ .-]?(\(?[0-9]{1,4}\)?[ .-]?){1,4}[0-9]{3,4}"),
    // Korean numbers: mobile 010/011/016–019 and area codes 02, 031–064,
    // with or without separators.
    ("PHONE", r"0(1[016789]|2|[3-6][1-5])[ .-]?[0-9]{3,4}[ .-]?[0-9]{4}"),
    // North American (555) 123-4567 / 555-123-4567.
    ("PHONE", r"\(?[0-9]{3}\)?[ .-][0-9]{3}[ .-][0-9]{4}"),
];

// Static patterns: `every_pattern_compiles` catches a typo; detection of
// the other kinds must still work if one slipped through.
static DETECTORS: LazyLock<Vec<(&'static str, Regex)>> =
    LazyLock::new(|| PATTERNS.iter().filter_map(|&(kind, pattern)| Regex::new(pattern).ok().map(|re| (kind, re))).collect());

/// Spans of personal data the local patterns find in `text` (one field of
/// an inquiry), ordered by position, without overlaps. A match glued to
/// letters or digits (part of a reservation number or an order code) is
/// not a phone number.
pub fn detect(field: TextField, text: &str) -> Vec<PiiSpan> {
    let mut spans: Vec<PiiSpan> = Vec::new();
    for (kind, re) in DETECTORS.iter() {
        for m in re.find_iter(text) {
            let before = text[..m.start()].chars().next_back();
            let after = text[m.end()..].chars().next();
            let glued = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
            // An e-mail address ends at a letter anyway; the others must stand alone.
            if *kind != "EMAIL" && (glued(before) || glued(after)) {
                continue;
            }
            spans.push(PiiSpan { field, kind: (*kind).to_owned(), start: m.start(), end: m.end() });
        }
    }
    merge(spans)
}

/// Spans sorted by position; where two overlap, the earlier (then longer) one wins.
pub fn merge(mut spans: Vec<PiiSpan>) -> Vec<PiiSpan> {
    spans.sort_by(|a, b| {
        (field_order(a.field), a.start, std::cmp::Reverse(a.end)).cmp(&(field_order(b.field), b.start, std::cmp::Reverse(b.end)))
    });
    let mut out: Vec<PiiSpan> = Vec::with_capacity(spans.len());
    for span in spans {
        match out.last() {
            Some(last) if last.field == span.field && span.start < last.end => {}
            _ => out.push(span),
        }
    }
    out
}

fn field_order(field: TextField) -> u8 {
    match field {
        TextField::Title => 0,
        TextField::Content => 1,
    }
}

/// `text` (the given field of an inquiry) with each span of that field
/// replaced by `[KIND]`. Spans out of range or off character boundaries
/// (a span recorded for another version of the text) are skipped rather
/// than trusted.
pub fn mask(text: &str, field: TextField, spans: &[PiiSpan]) -> String {
    let mut ours: Vec<&PiiSpan> = spans.iter().filter(|s| s.field == field).collect();
    ours.sort_by_key(|s| s.start);
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for span in ours {
        let valid = span.start >= at
            && span.start < span.end
            && span.end <= text.len()
            && text.is_char_boundary(span.start)
            && text.is_char_boundary(span.end);
        if !valid {
            continue;
        }
        out.push_str(&text[at..span.start]);
        out.push('[');
        out.push_str(&span.kind);
        out.push(']');
        at = span.end;
    }
    out.push_str(&text[at..]);
    out
}

/// Free text with whatever the local patterns find masked: for error
/// messages and other strings that may have picked up customer data on
/// their way into a log line.
pub fn redact(text: &str) -> String {
    mask(text, TextField::Content, &detect(TextField::Content, text))
}

/// Whether the byte range `[start, end)` of `field` overlaps a span.
pub fn overlaps(spans: &[PiiSpan], field: TextField, start: usize, end: usize) -> bool {
    spans.iter().any(|s| s.field == field && s.start < end && start < s.end)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<(String, &str)> {
        detect(TextField::Content, text).into_iter().map(|s| (s.kind, &text[s.start..s.end])).collect()
    }

    #[test]
    fn every_pattern_compiles() {
        assert_eq!(DETECTORS.len(), PATTERNS.len());
    }

    #[test]
    fn phone_numbers_and_emails_are_found_in_korean_and_english_text() {
        let found = kinds("연락처는 010-1234-5678 이고 메일은 kim.minji@example.co.kr 입니다. Call +1 213 555 0149.");
        assert_eq!(
            found,
            vec![
                ("PHONE".to_owned(), "010-1234-5678"),
                ("EMAIL".to_owned(), "kim.minji@example.co.kr"),
                ("PHONE".to_owned(), "+1 213 555 0149"),
            ]
        );
        assert_eq!(kinds("번호 01098765432로 연락주세요"), vec![("PHONE".to_owned(), "01098765432")]);
        assert_eq!(kinds("call (213) 555-0149 please"), vec![("PHONE".to_owned(), "(213) 555-0149")]);
    }

    #[test]
    fn reservation_numbers_prices_and_dates_are_not_personal_data() {
        for text in [
            "예약번호 HS-330192847 입니다",
            "booking CR-31092847 for six",
            "결제 금액 KRW98000, 2026-12-05 14:00",
            "order AB0101234567 shipped",
        ] {
            assert_eq!(kinds(text), vec![], "{text}");
        }
    }

    #[test]
    fn cards_and_resident_numbers_are_found() {
        assert_eq!(kinds("카드 1234 5678 9012 3456 로 결제"), vec![("CREDIT_DEBIT_NUMBER".to_owned(), "1234 5678 9012 3456")]);
        assert_eq!(kinds("주민번호 900101-1234567"), vec![("KR_RRN".to_owned(), "900101-1234567")]);
    }

    #[test]
    fn masking_replaces_each_span_with_its_kind() {
        let text = "전화 010-1234-5678, mail a@b.example";
        let spans = detect(TextField::Content, text);
        assert_eq!(mask(text, TextField::Content, &spans), "전화 [PHONE], mail [EMAIL]");
        assert_eq!(mask(text, TextField::Title, &spans), text, "spans of another field are not applied");
        assert_eq!(redact(text), "전화 [PHONE], mail [EMAIL]");
    }

    #[test]
    fn masking_skips_spans_that_do_not_fit_the_text() {
        let bad = [
            PiiSpan { field: TextField::Content, kind: "NAME".into(), start: 1, end: 2 },
            PiiSpan { field: TextField::Content, kind: "NAME".into(), start: 3, end: 99 },
        ];
        assert_eq!(mask("전화", TextField::Content, &bad), "전화", "inside a character, or past the end");
    }

    #[test]
    fn overlapping_spans_merge_into_the_first() {
        let span = |start, end| PiiSpan { field: TextField::Content, kind: "X".into(), start, end };
        assert_eq!(merge(vec![span(5, 9), span(0, 6), span(10, 12)]), vec![span(0, 6), span(10, 12)]);
        assert!(overlaps(&[span(0, 6)], TextField::Content, 5, 8));
        assert!(!overlaps(&[span(0, 6)], TextField::Content, 6, 8));
        assert!(!overlaps(&[span(0, 6)], TextField::Title, 0, 8));
    }
}
