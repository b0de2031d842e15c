//! Reservations and their numbers.

use crate::classification::Language;
use crate::contact::PhoneNumber;
use crate::tenant::TenantId;
use regex::Regex;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::LazyLock;

static RESERVATION_NUMBER: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^[A-Z]{2,4}-?[0-9]{6,12}$").expect("static pattern"));
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
    pub reservation_number: ReservationNumber,
    pub tenant_id: TenantId,
    pub customer_name: String,
    pub customer_phone: PhoneNumber,
    pub partner_id: String,
    pub partner_name: String,
    pub partner_phone: PhoneNumber,
    #[serde(default = "default_partner_locale")]
    pub partner_locale: Language,
    pub service_type: String,
    /// As the upstream system wrote it (a date or a date-time).
    pub reservation_date: String,
}

fn default_partner_locale() -> Language {
    Language::Ko
}

#[cfg(test)]
mod tests {
    use super::*;

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
