//! Text as Switchboard keeps it and as it compares it.
//!
//! The same words reach us in several encodings: decomposed Hangul (NFD,
//! as some macOS and iOS inputs send it), full-width Latin letters, and
//! invisible zero-width characters pasted along. Customers' text is stored
//! and shown as [`normalize`] leaves it (NFC: what was typed, composed);
//! everything that matches text (classifier features, FAQ retrieval,
//! memories of corrections) reads [`fold`] of it, so two spellings of the
//! same characters always compare equal.

use unicode_normalization::UnicodeNormalization;

/// Zero-width and invisible format characters that carry no meaning in an
/// inquiry: zero-width space, joiners, word joiner, byte-order mark, soft hyphen.
const INVISIBLE: [char; 6] = ['\u{200B}', '\u{200C}', '\u{200D}', '\u{2060}', '\u{FEFF}', '\u{00AD}'];

/// The form text is stored and displayed in: Unicode NFC, without
/// zero-width characters.
pub fn normalize(text: &str) -> String {
    text.nfc().filter(|c| !INVISIBLE.contains(c)).collect()
}

/// The form text is matched in: NFKC (full-width and compatibility
/// characters become their plain forms, Hangul is composed), lower case,
/// without zero-width characters.
pub fn fold(text: &str) -> String {
    text.nfkc().filter(|c| !INVISIBLE.contains(c)).flat_map(char::to_lowercase).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decomposed_hangul_is_stored_composed() {
        let nfd: String = "체크인".nfd().collect();
        assert_ne!(nfd, "체크인");
        assert_eq!(normalize(&nfd), "체크인");
    }

    #[test]
    fn full_width_latin_folds_to_plain_lower_case() {
        assert_eq!(fold("ＷｉＦｉ　ＰＡＳＳＷＯＲＤ"), "wifi password");
        // Storage keeps what the customer typed.
        assert_eq!(normalize("ＷｉＦｉ"), "ＷｉＦｉ");
    }

    #[test]
    fn zero_width_characters_are_dropped_from_both_forms() {
        assert_eq!(normalize("check\u{200B}in"), "checkin");
        assert_eq!(fold("조\u{FEFF}식"), "조식");
    }
}
