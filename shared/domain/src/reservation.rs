//! Reservations, their numbers, and the one set of rules a reservation
//! from outside (the API, an import file) must pass.

use crate::classification::Language;
use crate::contact::PhoneNumber;
use crate::field_error::{FieldError, ValidationErrors};
use crate::tenant::TenantId;
use regex::Regex;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::LazyLock;

// Constant patterns: a typo fails every test that parses a number, never a request.
#[allow(clippy::expect_used)]
static RESERVATION_NUMBER: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^[A-Z]{2,4}-?[0-9]{6,12}$").expect("static pattern"));
#[allow(clippy::expect_used)]
static CANDIDATE: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"[A-Z]{2,4}-?[0-9]{6,12}").expect("static pattern"));

/// Currency codes: "KRW150000" is a price, not a booking.
const CURRENCY_PREFIXES: [&str; 6] = ["KRW", "USD", "EUR", "JPY", "CNY", "GBP"];

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

    /// Finds the first reservation number in free text. A candidate must
    /// stand on its own: glued to more letters or digits it is something
    /// else (an order code, a phone number), and currency-prefixed amounts
    /// are prices.
    pub fn extract(text: &str) -> Option<Self> {
        CANDIDATE.find_iter(text).find_map(|m| {
            let before = text[..m.start()].chars().next_back();
            let after = text[m.end()..].chars().next();
            let glued_before = before.is_some_and(|c| c.is_ascii_alphanumeric());
            let glued_after = after.is_some_and(|c| c.is_ascii_alphanumeric() || c == '-');
            let is_price = CURRENCY_PREFIXES.iter().any(|p| m.as_str().starts_with(p));
            (!glued_before && !glued_after && !is_price).then(|| Self(m.as_str().to_owned()))
        })
    }

    /// The number as text, e.g. `HT-20481123`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
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

    #[test]
    fn extraction_finds_numbers_inside_korean_text() {
        let text = "다음주 금요일 객실 데코 추가 가능할까요? 예약번호HS-330192847 입니다";
        assert_eq!(ReservationNumber::extract(text).unwrap().as_str(), "HS-330192847");
    }

    #[test]
    fn extraction_ignores_prices_dates_and_phone_numbers() {
        let text = "I paid KRW150000 on 2024-11-23, call me at +821012345678 or 010-1234-5678.";
        assert_eq!(ReservationNumber::extract(text), None);
        let text = "Paid USD-1200000 for booking CR-31092847.";
        assert_eq!(ReservationNumber::extract(text).unwrap().as_str(), "CR-31092847");
    }
}
