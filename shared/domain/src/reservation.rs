//! Reservations, their numbers, and the one set of rules a reservation
//! from outside (the API, an import file) must pass.

use crate::classification::Language;
use crate::contact::PhoneNumber;
use crate::field_error::{FieldError, ValidationErrors};
use crate::tenant::TenantId;
use crate::text::fold;
use regex::Regex;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::LazyLock;

// Constant patterns: a typo fails every test that parses a number, never a request.
#[allow(clippy::expect_used)]
static RESERVATION_NUMBER: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^[A-Z]{2,4}-?[0-9]{6,12}$").expect("static pattern"));
/// A number in folded (lower-case) text: the letters, then a hyphen, a
/// single space ("RB 55209183", as customers type it) or nothing, then the digits.
#[allow(clippy::expect_used)]
static CANDIDATE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?P<letters>[a-z]{2,4})(?P<sep>[- ]?)(?P<digits>[0-9]{6,12})").expect("static pattern"));
/// A label introducing a booking's number, at the end of the folded text
/// before a candidate: 예약번호, 예약 번호, booking, reservation, ref,
/// res no., confirmation, # — optionally followed by "number", "no.", "is",
/// 는, ':' and the like.
#[allow(clippy::expect_used)]
static LABEL_BEFORE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?:예약\s*번호|예약|booking|reservation|ref(?:erence)?|res\.?\s*no\.?|confirmation|conf\.?|#)\s*(?:(?:number|no\.?|num|code|id|#)\s*)?(?:(?:is|은|는|:|=)\s*)?[:#]?\s*$",
    )
    .expect("static pattern")
});

/// Words with which customers correct a number they just wrote, between
/// the two ("HT-… wait, it's TR-…", "HT-… 아니고 TR-…").
#[allow(clippy::expect_used)]
static CORRECTION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:^|[^\p{L}\p{N}])(?:wait|i mean|actually|correction|아니[고요라]?|정정)(?:[^\p{L}\p{N}]|$)").expect("static pattern")
});

/// How far before a candidate its label may end, in bytes of folded text.
const LABEL_WINDOW_BYTES: usize = 48;

/// Letters that, before digits, make something other than a booking: a
/// currency ("KRW150000" is a price), or a short word that introduces
/// another number ("tel 01012345678", "call me 01012345678", "on 20261224",
/// "room 804123"). Only these exact letters are refused, never a longer code.
const NOT_A_PREFIX: &[&str] = &[
    // currencies
    "krw", "usd", "eur", "jpy", "cny", "gbp", "won", // words before phone numbers, dates, rooms, amounts and other ids
    "tel", "call", "fax", "cell", "mob", "hp", "ph", "sms", "text", "room", "card", "acct", "pin", "otp", "code", "id", "no", "nr", "num",
    "ref", "res", "date", "paid", "cost", "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    // function words
    "a", "am", "pm", "at", "on", "in", "is", "by", "to", "of", "or", "and", "for", "the", "my", "our", "me", "us", "it", "be", "we", "so",
    "up", "was", "are", "now", "via", "from", "with", "till",
];

/// Why a reservation number was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must look like HT-20481123 (2–4 capital letters, optional '-', 6–12 digits)")]
pub struct InvalidReservationNumber;

/// A reservation number such as `HT-20481123`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ReservationNumber(String);

impl ReservationNumber {
    /// Checks and normalises (trimmed, upper case) a reservation number.
    pub fn parse(input: &str) -> Result<Self, InvalidReservationNumber> {
        let s = input.trim().to_ascii_uppercase();
        if RESERVATION_NUMBER.is_match(&s) { Ok(Self(s)) } else { Err(InvalidReservationNumber) }
    }

    /// Finds the reservation number a free text names, in any case and
    /// in full-width characters (the text is read [`fold`]ed).
    ///
    /// A candidate must stand on its own: glued to more letters or digits
    /// it is something else (an order code, a phone number), and letters
    /// that are a currency or a word (`NOT_A_PREFIX`) make a price, a
    /// date or a phone number. When several remain, the one the customer
    /// means is, in this order: one they correct themselves to ("… wait,
    /// it's TR-…", "… 아니고 …"), then the first one introduced by a label
    /// ("예약번호", "booking", "ref", "#"…), then the first. The same number
    /// written again with its hyphen is read with it.
    pub fn extract(text: &str) -> Option<Self> {
        let folded = fold(text);
        let mut chosen: Option<(Self, Standing)> = None;
        let mut previous_end = 0;
        for caps in CANDIDATE.captures_iter(&folded) {
            let (Some(whole), Some(letters), Some(sep), Some(digits)) =
                (caps.get(0), caps.name("letters"), caps.name("sep"), caps.name("digits"))
            else {
                continue;
            };
            let before = folded[..whole.start()].chars().next_back();
            let after = folded[whole.end()..].chars().next();
            let glued_before = before.is_some_and(|c| c.is_ascii_alphanumeric());
            let glued_after = after.is_some_and(|c| c.is_ascii_alphanumeric() || c == '-');
            if glued_before || glued_after || NOT_A_PREFIX.contains(&letters.as_str()) {
                continue;
            }
            let hyphen = if sep.as_str() == "-" { "-" } else { "" };
            let number = Self(format!("{}{hyphen}{}", letters.as_str().to_ascii_uppercase(), digits.as_str()));
            let standing = if chosen.is_some() && CORRECTION.is_match(&folded[previous_end..whole.start()]) {
                Standing::Corrected
            } else if labelled(&folded[..whole.start()]) {
                Standing::Labelled
            } else {
                Standing::First
            };
            previous_end = whole.end();
            chosen = match chosen {
                None => Some((number, standing)),
                Some((kept, kept_standing)) if kept.0.replace('-', "") == number.0.replace('-', "") => {
                    Some((if hyphen.is_empty() { kept } else { number }, kept_standing.max(standing)))
                }
                // A later correction overrides an earlier one; a label only what was merely first.
                Some((_, kept_standing))
                    if standing == Standing::Corrected || (standing == Standing::Labelled && kept_standing == Standing::First) =>
                {
                    Some((number, standing))
                }
                kept => kept,
            };
        }
        chosen.map(|(number, _)| number)
    }

    /// The number as text, e.g. `HT-20481123`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Why a candidate is taken over the others, weakest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Standing {
    /// Merely the first.
    First,
    /// Introduced by a label.
    Labelled,
    /// What the customer corrected themselves to.
    Corrected,
}

/// Whether the folded text just before a candidate ends with a label.
fn labelled(before: &str) -> bool {
    let mut start = before.len().saturating_sub(LABEL_WINDOW_BYTES);
    while !before.is_char_boundary(start) {
        start += 1;
    }
    LABEL_BEFORE.is_match(&before[start..])
}

impl TryFrom<String> for ReservationNumber {
    type Error = InvalidReservationNumber;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<ReservationNumber> for String {
    fn from(value: ReservationNumber) -> Self {
        value.0
    }
}

impl fmt::Display for ReservationNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A booking made through a partner, as imported by `switchboard reservations import`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reservation {
    /// The booking's number, the key customers quote.
    pub reservation_number: ReservationNumber,
    /// The business the booking belongs to.
    pub tenant_id: TenantId,
    /// The customer's name as booked.
    pub customer_name: String,
    /// The customer's phone number.
    pub customer_phone: PhoneNumber,
    /// The partner's id in the upstream system.
    pub partner_id: String,
    /// The partner's name, shown to the partner and the customer.
    pub partner_name: String,
    /// Where the partner's confirmation requests go.
    pub partner_phone: PhoneNumber,
    /// The language of the partner's confirmation page.
    #[serde(default = "default_partner_locale")]
    pub partner_locale: Language,
    /// What was booked, e.g. `hotel`, `spa`, `tour`.
    pub service_type: String,
    /// As the upstream system wrote it (a date or a date-time).
    pub reservation_date: String,
}

fn default_partner_locale() -> Language {
    Language::Ko
}

/// The value, or `None` with the reason recorded against `field`.
fn form<T, E: fmt::Display>(errors: &mut Vec<FieldError>, field: &str, checked: Result<T, E>) -> Option<T> {
    checked.map_err(|e| errors.push(FieldError::new(field, e.to_string()))).ok()
}

/// Longest reservation number, in characters.
pub const MAX_RESERVATION_NUMBER_CHARS: usize = 32;
/// Longest tenant id, partner id, service type and reservation date, in characters.
pub const MAX_ID_CHARS: usize = 64;
/// Longest customer or partner name, in characters.
pub const MAX_NAME_CHARS: usize = 200;
/// Longest phone number as written, in characters.
pub const MAX_PHONE_CHARS: usize = 32;

/// A reservation as a client or an import file sends it: nothing checked
/// yet. [`ReservationInput::parse`] is the only way in.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct ReservationInput {
    /// e.g. `HT-20481123`.
    #[serde(default)]
    pub reservation_number: Option<String>,
    /// The tenant's id (a slug).
    #[serde(default)]
    pub tenant_id: Option<String>,
    /// The customer's name.
    #[serde(default)]
    pub customer_name: Option<String>,
    /// E.164 or Korean domestic.
    #[serde(default)]
    pub customer_phone: Option<String>,
    /// The partner's id.
    #[serde(default)]
    pub partner_id: Option<String>,
    /// The partner's name.
    #[serde(default)]
    pub partner_name: Option<String>,
    /// E.164 or Korean domestic.
    #[serde(default)]
    pub partner_phone: Option<String>,
    /// `ko` or `en`; `ko` when absent.
    #[serde(default)]
    pub partner_locale: Option<String>,
    /// What was booked.
    #[serde(default)]
    pub service_type: Option<String>,
    /// A date or a date-time, kept as written.
    #[serde(default)]
    pub reservation_date: Option<String>,
}

impl ReservationInput {
    /// The fields in the order they are checked and reported.
    pub const FIELDS: [&'static str; 10] = [
        "reservation_number",
        "tenant_id",
        "customer_name",
        "customer_phone",
        "partner_id",
        "partner_name",
        "partner_phone",
        "partner_locale",
        "service_type",
        "reservation_date",
    ];

    /// Validates every field, reporting all problems at once: first each
    /// missing or too long field (once, as such), then each field whose
    /// form is wrong. Text is trimmed; the partner's language defaults to
    /// Korean.
    pub fn parse(self) -> Result<Reservation, ValidationErrors> {
        let mut errors = Vec::new();
        let mut text = |field: &str, value: Option<String>, max: usize| -> Option<String> {
            let value = value.map(|v| v.trim().to_owned()).unwrap_or_default();
            if value.is_empty() {
                errors.push(FieldError::new(field, "is required"));
                None
            } else if value.chars().count() > max {
                errors.push(FieldError::new(field, format!("must be at most {max} characters")));
                None
            } else {
                Some(value)
            }
        };
        let number = text("reservation_number", self.reservation_number, MAX_RESERVATION_NUMBER_CHARS);
        let tenant = text("tenant_id", self.tenant_id, MAX_ID_CHARS);
        let customer_name = text("customer_name", self.customer_name, MAX_NAME_CHARS);
        let customer_phone = text("customer_phone", self.customer_phone, MAX_PHONE_CHARS);
        let partner_id = text("partner_id", self.partner_id, MAX_ID_CHARS);
        let partner_name = text("partner_name", self.partner_name, MAX_NAME_CHARS);
        let partner_phone = text("partner_phone", self.partner_phone, MAX_PHONE_CHARS);
        let service_type = text("service_type", self.service_type, MAX_ID_CHARS);
        let reservation_date = text("reservation_date", self.reservation_date, MAX_ID_CHARS);
        // A field already reported as missing or too long is not checked again.
        let reservation_number = number.and_then(|n| form(&mut errors, "reservation_number", ReservationNumber::parse(&n)));
        let tenant_id = tenant.and_then(|t| form(&mut errors, "tenant_id", TenantId::parse(&t)));
        let customer_phone = customer_phone.and_then(|p| form(&mut errors, "customer_phone", PhoneNumber::parse(&p)));
        let partner_phone = partner_phone.and_then(|p| form(&mut errors, "partner_phone", PhoneNumber::parse(&p)));
        let partner_locale = match self.partner_locale.as_deref().map(str::trim).filter(|l| !l.is_empty()) {
            None => Some(Language::Ko),
            Some(l) => form(&mut errors, "partner_locale", Language::parse(l).ok_or("must be ko or en")),
        };
        match (
            reservation_number,
            tenant_id,
            customer_name,
            customer_phone,
            partner_id,
            partner_name,
            partner_phone,
            partner_locale,
            service_type,
            reservation_date,
        ) {
            (
                Some(reservation_number),
                Some(tenant_id),
                Some(customer_name),
                Some(customer_phone),
                Some(partner_id),
                Some(partner_name),
                Some(partner_phone),
                Some(partner_locale),
                Some(service_type),
                Some(reservation_date),
            ) if errors.is_empty() => Ok(Reservation {
                reservation_number,
                tenant_id,
                customer_name,
                customer_phone,
                partner_id,
                partner_name,
                partner_phone,
                partner_locale,
                service_type,
                reservation_date,
            }),
            _ => Err(ValidationErrors(errors)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid() -> ReservationInput {
        ReservationInput {
            reservation_number: Some("HT-20481123".into()),
            tenant_id: Some("demo".into()),
            customer_name: Some("Kim".into()),
            customer_phone: Some("010-1234-5678".into()),
            partner_id: Some("hotel".into()),
            partner_name: Some("Hotel".into()),
            partner_phone: Some("+821098765432".into()),
            partner_locale: None,
            service_type: Some("hotel".into()),
            reservation_date: Some("2026-12-24".into()),
        }
    }

    fn fields(input: ReservationInput) -> Vec<String> {
        input.parse().unwrap_err().0.into_iter().map(|e| e.field).collect()
    }

    #[test]
    fn a_complete_reservation_parses_with_a_korean_partner_page_by_default() {
        let r = valid().parse().unwrap();
        assert_eq!((r.reservation_number.as_str(), r.partner_locale), ("HT-20481123", Language::Ko));
        assert_eq!(r.customer_phone.as_str(), "+821012345678");
    }

    #[test]
    fn every_bad_reservation_field_is_named_once_missing_ones_first() {
        let input = ReservationInput {
            reservation_number: Some("nope".into()),
            customer_phone: None,
            partner_locale: Some("fr".into()),
            ..valid()
        };
        assert_eq!(fields(input), ["customer_phone", "reservation_number", "partner_locale"]);
    }

    #[test]
    fn blank_fields_are_missing_and_long_ones_are_rejected_by_length() {
        let input = ReservationInput {
            customer_name: Some("   ".into()),
            partner_name: Some("가".repeat(MAX_NAME_CHARS + 1)),
            reservation_number: Some(format!("HT-{}", "1".repeat(MAX_RESERVATION_NUMBER_CHARS))),
            ..valid()
        };
        let errors = input.parse().unwrap_err().0;
        assert_eq!(errors[0], FieldError::new("reservation_number", "must be at most 32 characters"));
        assert_eq!(errors[1], FieldError::new("customer_name", "is required"));
        assert_eq!(errors[2], FieldError::new("partner_name", "must be at most 200 characters"));
        assert_eq!(errors.len(), 3);
        assert!(ReservationInput { partner_name: Some("가".repeat(MAX_NAME_CHARS)), ..valid() }.parse().is_ok());
    }

    #[test]
    fn well_formed_numbers_parse_and_are_uppercased() {
        assert_eq!(ReservationNumber::parse("ht-20481123").unwrap().as_str(), "HT-20481123");
        assert!(ReservationNumber::parse("ABCD123456789012").is_ok());
        for bad in ["H-123456", "ABCDE-123456", "HT-12345", "HT-1234567890123", "HT 123456"] {
            assert!(ReservationNumber::parse(bad).is_err(), "{bad}");
        }
    }

    fn extracted(text: &str) -> Option<String> {
        ReservationNumber::extract(text).map(String::from)
    }

    #[test]
    fn extraction_finds_numbers_inside_korean_text() {
        assert_eq!(extracted("다음주 금요일 객실 데코 추가 가능할까요? 예약번호HS-330192847 입니다").as_deref(), Some("HS-330192847"));
    }

    #[test]
    fn lower_and_mixed_case_numbers_are_read_in_canonical_form() {
        assert_eq!(extracted("please cancel ht-20481123 thanks").as_deref(), Some("HT-20481123"));
        assert_eq!(extracted("예약 Ht-20481123 변경요").as_deref(), Some("HT-20481123"));
        assert_eq!(extracted("htl7730214 취소").as_deref(), Some("HTL7730214"));
    }

    #[test]
    fn full_width_and_space_separated_numbers_are_read_as_typed_without_the_space() {
        assert_eq!(extracted("예약번호 ＨＴ－２０４８１１２３ 입니다").as_deref(), Some("HT-20481123"));
        assert_eq!(extracted("Reference RB 55209183. Could you confirm?").as_deref(), Some("RB55209183"));
    }

    #[test]
    fn a_labelled_number_is_preferred_to_an_earlier_unlabelled_one() {
        let text = "The courier code SB-20261204 did not work; my booking number is HT-20481123.";
        assert_eq!(extracted(text).as_deref(), Some("HT-20481123"));
        let text = "지난번 TR-20261130 건은 끝났고요, 예약번호: MV-20481173 일정 변경 부탁드려요";
        assert_eq!(extracted(text).as_deref(), Some("MV-20481173"));
        let text = "ref#CR-31092847 — also saw TR-20261130 on the invoice";
        assert_eq!(extracted(text).as_deref(), Some("CR-31092847"));
    }

    #[test]
    fn a_number_the_customer_corrects_themselves_to_wins_even_over_a_label() {
        let text = "booking HT-20481123... wait no, that's last year's, it's HT-20481321";
        assert_eq!(extracted(text).as_deref(), Some("HT-20481321"));
        assert_eq!(extracted("예약번호 TR-20261130 아니고 TR-20261131 이에요").as_deref(), Some("TR-20261131"));
        let text = "HT-20481123, actually HT-20481124, i mean HT-20481125";
        assert_eq!(extracted(text).as_deref(), Some("HT-20481125"), "the last correction stands");
    }

    #[test]
    fn the_same_number_written_again_with_its_hyphen_is_read_with_it() {
        assert_eq!(extracted("rp 00982341 … RP-00982341 sorry").as_deref(), Some("RP-00982341"));
        assert_eq!(extracted("RP-00982341 (rp00982341)").as_deref(), Some("RP-00982341"));
    }

    #[test]
    fn without_a_label_the_first_number_is_taken() {
        assert_eq!(extracted("TR-20261130 and HT-20481123").as_deref(), Some("TR-20261130"));
    }

    #[test]
    fn extraction_ignores_prices_dates_and_phone_numbers() {
        let text = "I paid KRW150000 on 2024-11-23, call me at +821012345678 or 010-1234-5678.";
        assert_eq!(extracted(text), None);
        assert_eq!(extracted("Paid USD-1200000 for booking CR-31092847.").as_deref(), Some("CR-31092847"));
        for decoy in
            ["krw 150000 냈어요", "usd1200000", "₩45,000", "$120", "on 20261224", "20261224", "call me 01012345678", "tel 01012345678"]
        {
            assert_eq!(extracted(decoy), None, "{decoy}");
        }
    }

    #[test]
    fn extraction_ignores_order_ids_glued_to_other_characters_and_flight_numbers() {
        for decoy in
            ["ORD-48-2213", "order A1HT-20481123", "HT-20481123-B", "HT-20481123X", "#48213", "flight KE123", "OZ 1234 arrives", "KE0123"]
        {
            assert_eq!(extracted(decoy), None, "{decoy}");
        }
    }

    mod properties {
        use super::super::*;
        use super::extracted;
        use proptest::prelude::*;

        /// Letters of a booking code that are not a refused prefix.
        fn code_letters() -> impl Strategy<Value = String> {
            "[A-Za-z]{2,4}".prop_filter("a refused prefix", |l| !NOT_A_PREFIX.contains(&l.to_ascii_lowercase().as_str()))
        }

        /// Text that stands around a number without gluing to it.
        fn surrounding() -> impl Strategy<Value = String> {
            prop_oneof![Just(String::new()), "[가-힣 ]{0,12} ", "[a-z ]{0,12} ", "[.!?,:(] ?"]
        }

        proptest! {
            #[test]
            fn a_number_standing_on_its_own_is_found_in_any_case(
                letters in code_letters(),
                hyphen in any::<bool>(),
                digits in "[0-9]{6,12}",
                before in surrounding(),
                after in prop_oneof![Just(String::new()), " [가-힣a-z ]{0,12}", "[.!?,)] ?"],
            ) {
                let written = format!("{letters}{}{digits}", if hyphen { "-" } else { "" });
                let text = format!("{before}{written}{after}");
                prop_assert_eq!(extracted(&text), Some(written.to_ascii_uppercase()));
            }

            #[test]
            fn a_labelled_number_wins_wherever_it_stands(
                labelled in "[A-Z]{2,4}-[0-9]{6,12}",
                other in "[A-Z]{2,4}-[0-9]{6,12}",
                label in prop_oneof![Just("예약번호"), Just("예약 번호"), Just("booking"), Just("Reservation no."), Just("ref:"), Just("Res No."), Just("confirmation #"), Just("#")],
                labelled_first in any::<bool>(),
            ) {
                prop_assume!([&labelled, &other].iter().all(|n| !NOT_A_PREFIX.contains(&n[..n.find('-').unwrap_or(0)].to_ascii_lowercase().as_str())));
                let text = if labelled_first {
                    format!("{label} {labelled}, not {other}")
                } else {
                    format!("Order {other} was fine, but {label} {labelled} is wrong")
                };
                prop_assert_eq!(extracted(&text), Some(labelled));
            }

            #[test]
            fn prices_phone_numbers_and_dates_are_never_numbers(
                amount in 100_000u64..100_000_000_000,
                currency in prop_oneof![Just("KRW"), Just("krw "), Just("USD-"), Just("usd"), Just("₩"), Just("$"), Just("EUR ")],
                middle in 1000u32..9999,
                last in 1000u32..9999,
                year in 2020u32..2035,
                month in 1u32..=12,
                day in 1u32..=28,
            ) {
                let text = format!(
                    "paid {currency}{amount}, call 010-{middle}-{last} or +8210{middle}{last} or on 010{middle}{last}, from {year}-{month:02}-{day:02} to {year}{month:02}{day:02}"
                );
                prop_assert_eq!(extracted(&text), None);
            }
        }
    }
}
