//! The countries Switchboard may text (`SWITCHBOARD_SMS_COUNTRIES`), by
//! calling code. A leaked tenant key must not be a way to send texts to
//! premium-rate numbers abroad (SMS pumping), so numbers outside the list
//! are refused where they come in: a customer's at submission, a
//! partner's at reservation import.

use crate::contact::PhoneNumber;
use std::fmt;

/// A list entry that is not a calling code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a calling code (1 to 3 digits, such as 82 or 1)")]
pub struct BadCallingCode(String);

/// Calling codes (`82`, `1`); empty: every country.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SmsCountries(Vec<String>);

impl SmsCountries {
    /// Codes from a comma-separated list (`+` optional): `"82, +1"`.
    pub fn parse(list: &str) -> Result<Self, BadCallingCode> {
        let codes = list
            .split(',')
            .map(|c| c.trim().trim_start_matches('+'))
            .filter(|c| !c.is_empty())
            .map(|c| {
                let ok = (1..=3).contains(&c.len()) && c.chars().all(|d| d.is_ascii_digit()) && !c.starts_with('0');
                if ok { Ok(c.to_owned()) } else { Err(BadCallingCode(c.to_owned())) }
            })
            .collect::<Result<_, _>>()?;
        Ok(Self(codes))
    }

    /// Whether `phone` may be texted. Calling codes are a prefix code, so a
    /// number's code is the one its digits start with.
    pub fn allows(&self, phone: &PhoneNumber) -> bool {
        let digits = phone.as_str().trim_start_matches('+');
        self.0.is_empty() || self.0.iter().any(|code| digits.starts_with(code.as_str()))
    }

    /// Why `phone` is refused, for the caller's field error.
    pub fn refusal(&self) -> String {
        format!("is in a country Switchboard does not text (allowed calling codes: {self})")
    }
}

impl fmt::Display for SmsCountries {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let codes: Vec<String> = self.0.iter().map(|c| format!("+{c}")).collect();
        f.write_str(&codes.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn phone(s: &str) -> PhoneNumber {
        PhoneNumber::parse(s).unwrap()
    }

    #[test]
    fn only_numbers_of_the_listed_calling_codes_are_allowed() {
        let countries = SmsCountries::parse("82, +1").unwrap();
        assert!(countries.allows(&phone("010-1234-5678")));
        assert!(countries.allows(&phone("+12135550149")));
        assert!(!countries.allows(&phone("+447700900123")));
        assert!(!countries.allows(&phone("+8613800138000")), "+86 is not +8…2");
        assert_eq!(countries.refusal(), "is in a country Switchboard does not text (allowed calling codes: +82, +1)");
    }

    #[test]
    fn an_empty_list_allows_every_country_and_a_bad_code_is_named() {
        assert!(SmsCountries::parse("").unwrap().allows(&phone("+447700900123")));
        assert_eq!(SmsCountries::parse("82,kr").unwrap_err(), BadCallingCode("kr".into()));
        assert!(SmsCountries::parse("0082").is_err());
    }
}
