//! How many segments a text message is billed as.
//!
//! An SMS carries 140 bytes. A text that fits the GSM 03.38 alphabet goes
//! as 7-bit septets: 160 in one message, 153 per segment once it must be
//! split (the rest of each segment is the concatenation header). Any other
//! character (Korean, most emoji, curly quotes) sends the whole text as
//! UCS-2: 70 UTF-16 code units alone, 67 per segment when split; a
//! character outside the Basic Multilingual Plane (an emoji) is two code
//! units. The characters of the GSM extension table (`{ } [ ] ~ \ | ^ €`
//! and form feed) take two septets, an escape and the character. Senders
//! do not split a two-unit character across segments, so a segment can end
//! one unit short. Carriers and AWS bill each segment as one message.
//!
//! Hand-written rather than taken from a crate: the two tables below are
//! the whole of the rule, and no maintained Rust crate counts segments.

/// How a text is encoded for sending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmsEncoding {
    /// The GSM 7-bit default alphabet (with its extension table).
    Gsm7,
    /// UTF-16 code units: anything the GSM alphabet cannot carry.
    Ucs2,
}

impl SmsEncoding {
    /// Units (septets or UTF-16 code units) that fit in one unsplit message.
    pub const fn single(self) -> usize {
        match self {
            Self::Gsm7 => 160,
            Self::Ucs2 => 70,
        }
    }

    /// Units per segment of a concatenated message.
    pub const fn concatenated(self) -> usize {
        match self {
            Self::Gsm7 => 153,
            Self::Ucs2 => 67,
        }
    }
}

/// What a text costs to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SmsSize {
    /// The encoding the whole text goes in.
    pub encoding: SmsEncoding,
    /// Septets (GSM-7) or UTF-16 code units (UCS-2).
    pub units: usize,
    /// Billed segments; an empty text is still one message.
    pub segments: usize,
}

/// The GSM 03.38 default alphabet: one septet each.
const GSM7_BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\u{1b}ÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?\
¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";

/// The GSM 03.38 extension table: an escape and the character, two septets each.
const GSM7_EXTENSION: &str = "\u{c}^{}\\[~]|€";

/// Septets `c` takes in GSM-7, or `None` if GSM-7 cannot carry it.
fn gsm7_septets(c: char) -> Option<usize> {
    if GSM7_BASIC.contains(c) {
        Some(1)
    } else if GSM7_EXTENSION.contains(c) {
        Some(2)
    } else {
        None
    }
}

/// The size of `text` as a text message: its encoding, units and billed segments.
pub fn sms_size(text: &str) -> SmsSize {
    let gsm: Option<Vec<usize>> = text.chars().map(gsm7_septets).collect();
    let (encoding, widths) = match gsm {
        Some(widths) => (SmsEncoding::Gsm7, widths),
        None => (SmsEncoding::Ucs2, text.chars().map(char::len_utf16).collect()),
    };
    let units = widths.iter().sum();
    let segments = if units <= encoding.single() { 1 } else { packed(&widths, encoding.concatenated()) };
    SmsSize { encoding, units, segments }
}

/// Billed segments of `text` (see [`sms_size`]).
pub fn sms_segments(text: &str) -> usize {
    sms_size(text).segments
}

/// Segments of `capacity` units that characters of `widths` fill in
/// order, a character never split across two.
fn packed(widths: &[usize], capacity: usize) -> usize {
    let (mut segments, mut used) = (1, 0);
    for &width in widths {
        if used + width > capacity {
            segments += 1;
            used = 0;
        }
        used += width;
    }
    segments
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn segments_follow_the_gsm7_and_ucs2_limits() {
        let a = |n: usize| "a".repeat(n);
        let ga = |n: usize| "가".repeat(n);
        let table: [(String, SmsEncoding, usize, usize); 14] = [
            (String::new(), SmsEncoding::Gsm7, 0, 1),
            (a(160), SmsEncoding::Gsm7, 160, 1),
            (a(161), SmsEncoding::Gsm7, 161, 2),
            (a(306), SmsEncoding::Gsm7, 306, 2),
            (a(307), SmsEncoding::Gsm7, 307, 3),
            (ga(70), SmsEncoding::Ucs2, 70, 1),
            (ga(71), SmsEncoding::Ucs2, 71, 2),
            (ga(134), SmsEncoding::Ucs2, 134, 2),
            (ga(135), SmsEncoding::Ucs2, 135, 3),
            // One character outside GSM-7 makes the whole text UCS-2.
            (format!("{}가", a(69)), SmsEncoding::Ucs2, 70, 1),
            (format!("{}’", a(70)), SmsEncoding::Ucs2, 71, 2),
            // Extension characters take two septets.
            ("€".repeat(80), SmsEncoding::Gsm7, 160, 1),
            ("{".repeat(81), SmsEncoding::Gsm7, 162, 2),
            // An emoji is two UTF-16 code units.
            ("😀".repeat(35), SmsEncoding::Ucs2, 70, 1),
        ];
        for (text, encoding, units, segments) in table {
            assert_eq!(sms_size(&text), SmsSize { encoding, units, segments }, "{text:?}");
        }
        assert_eq!(sms_segments(&"😀".repeat(36)), 2);
    }

    #[test]
    fn every_character_of_the_gsm7_alphabet_is_one_septet_and_the_extension_two() {
        assert_eq!(GSM7_BASIC.chars().count(), 128, "the default alphabet has 128 characters");
        assert_eq!(sms_size(GSM7_BASIC).units, 128);
        assert_eq!(sms_size(GSM7_EXTENSION).units, 2 * GSM7_EXTENSION.chars().count());
        for c in ['`', 'ç', 'á', '“', '•', '·'] {
            assert_eq!(sms_size(&c.to_string()).encoding, SmsEncoding::Ucs2, "{c:?} is not in GSM-7");
        }
    }

    #[test]
    fn a_two_unit_character_is_never_split_across_segments() {
        // 152 + 2 + 152 septets = 306: two full segments by count, but the
        // € cannot straddle them, so it opens the second and a third follows.
        let text = format!("{}€{}", "a".repeat(152), "a".repeat(152));
        assert_eq!(sms_size(&text), SmsSize { encoding: SmsEncoding::Gsm7, units: 306, segments: 3 });
        let emoji = format!("{}😀{}", "가".repeat(66), "가".repeat(66));
        assert_eq!(sms_size(&emoji), SmsSize { encoding: SmsEncoding::Ucs2, units: 134, segments: 3 });
    }

    proptest! {
        #[test]
        fn segments_hold_the_units_and_waste_at_most_one_unit_each(text in "\\PC{0,400}") {
            let size = sms_size(&text);
            let (single, per) = (size.encoding.single(), size.encoding.concatenated());
            if size.units <= single {
                prop_assert_eq!(size.segments, 1);
            } else {
                prop_assert!(size.units <= size.segments * per);
                prop_assert!(size.units > (size.segments - 1) * (per - 1), "{} units in {} segments", size.units, size.segments);
            }
        }

        #[test]
        fn appending_text_never_makes_fewer_segments(text in "\\PC{0,300}", more in "\\PC{0,100}") {
            // Going UCS-2 included: a UCS-2 segment holds fewer than half a GSM-7 one's septets.
            let longer = format!("{text}{more}");
            prop_assert!(sms_segments(&longer) >= sms_segments(&text));
        }

        #[test]
        fn plain_ascii_letters_and_digits_are_gsm7_one_septet_each(text in "[A-Za-z0-9 .,:/?=-]{0,500}") {
            let size = sms_size(&text);
            prop_assert_eq!(size.encoding, SmsEncoding::Gsm7);
            prop_assert_eq!(size.units, text.len());
            let expected = if text.len() <= 160 { 1 } else { text.len().div_ceil(153) };
            prop_assert_eq!(size.segments, expected);
        }

        #[test]
        fn any_text_with_a_hangul_syllable_is_ucs2_counted_in_utf16_units(text in "\\PC{0,200}", at in 0usize..200) {
            let chars: Vec<char> = text.chars().collect();
            let at = at.min(chars.len());
            let with: String = chars[..at].iter().chain(['한'].iter()).chain(chars[at..].iter()).collect();
            let size = sms_size(&with);
            prop_assert_eq!(size.encoding, SmsEncoding::Ucs2);
            prop_assert_eq!(size.units, with.encode_utf16().count());
        }
    }
}

/// The customer notifications whose text the domain writes, each at its
/// longest (the longest reservation number) with the longest customer link
/// ([`crate::fixtures::longest_customer_link`]), as the notifier texts them.
/// The bounds are what they cost now (the link and its label are 103 of
/// the Korean texts' units): a longer template or link fails here first.
#[cfg(test)]
mod customer_texts {
    use super::*;
    use crate::customer_link::with_link;
    use crate::fixtures::{LONGEST_RESERVATION_NUMBER, longest_customer_link};
    use crate::reentry::{CUSTOMER_CLOSED, NO_REPLY, closing_message};
    use crate::{Escalation, Language, ReservationNumber, Unverified};

    fn texted(text: &str, language: Language) -> SmsSize {
        sms_size(&with_link(text, &longest_customer_link(), language))
    }

    /// A template: its name, its text in a language, and the segments its
    /// longest text costs in Korean and in English.
    type Template = (&'static str, Box<dyn Fn(Language) -> String>, usize, usize);

    /// Each template the domain writes.
    fn templates() -> Vec<Template> {
        let number = || ReservationNumber::parse(LONGEST_RESERVATION_NUMBER).unwrap();
        vec![
            ("holding (escalated)", Box::new(Escalation::holding_message), 3, 2),
            ("closed by thanks", Box::new(|l| closing_message(l, CUSTOMER_CLOSED)), 3, 2),
            ("closed without reply", Box::new(|l| closing_message(l, NO_REPLY)), 3, 2),
            ("booking not found", Box::new(move |l| Unverified::NotFound.customer_message(l, Some(&number()))), 3, 2),
            ("no booking named", Box::new(|l| Unverified::NoNumber.customer_message(l, None)), 3, 2),
            ("question: check the number", Box::new(move |l| Unverified::NotFound.question(l, Some(&number()))), 4, 3),
            ("question: which booking", Box::new(|l| Unverified::NoNumber.question(l, None)), 3, 2),
        ]
    }

    #[test]
    fn every_domain_customer_text_with_its_link_stays_within_its_segments() {
        for (name, template, ko, en) in templates() {
            for (language, bound) in [(Language::Ko, ko), (Language::En, en)] {
                let text = template(language);
                let size = texted(&text, language);
                println!("{name} {language:?}: {} units, {} segments", size.units, size.segments);
                assert!(size.segments <= bound, "{name} in {language:?}: {size:?} over {bound}: {text}");
            }
        }
    }

    #[test]
    fn english_customer_texts_stay_gsm7() {
        for (name, template, _, _) in templates() {
            let size = texted(&template(Language::En), Language::En);
            assert_eq!(size.encoding, SmsEncoding::Gsm7, "{name}: one curly quote would make it UCS-2");
        }
    }
}
