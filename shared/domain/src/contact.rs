//! Customer and partner contact details: E.164 phone numbers and e-mail addresses.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;

/// Why a contact value was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ContactError {
    /// Not a phone number in a form Switchboard accepts.
    #[error("must be an E.164 number such as +821012345678 (or a Korean mobile number such as 010-1234-5678)")]
    InvalidPhone,
    /// Not an e-mail address.
    #[error("must be an e-mail address such as name@example.com")]
    InvalidEmail,
}

/// A phone number in E.164 form (`+` and 8 to 15 digits).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PhoneNumber(String);

impl PhoneNumber {
    /// Parses E.164 input; Korean domestic mobile numbers (`010-1234-5678`)
    /// are normalised to `+8210…`, since that is how customers type them.
    pub fn parse(input: &str) -> Result<Self, ContactError> {
        let compact: String = input.trim().chars().filter(|c| !matches!(c, ' ' | '-' | '(' | ')' | '.')).collect();
        if let Some(digits) = compact.strip_prefix('+') {
            let ok = (8..=15).contains(&digits.len()) && digits.chars().all(|c| c.is_ascii_digit()) && !digits.starts_with('0');
            return if ok { Ok(Self(compact)) } else { Err(ContactError::InvalidPhone) };
        }
        let korean_mobile =
            compact.len() >= 10 && compact.len() <= 11 && compact.chars().all(|c| c.is_ascii_digit()) && compact.starts_with("01");
        if korean_mobile {
            return Ok(Self(format!("+82{}", &compact[1..])));
        }
        Err(ContactError::InvalidPhone)
    }

    /// The number in E.164 form.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// SHA-256 (hex) of the E.164 form: how the number appears in storage
    /// keys (a customer's inquiries found by their phone), so the number
    /// itself is never a key. Not a secret: phone numbers are few enough to
    /// hash them all; it only keeps the number out of key listings and logs.
    pub fn lookup_hash(&self) -> String {
        crate::tenant::hex(&Sha256::digest(self.0.as_bytes()))
    }

    /// The number with every digit but the last four hidden, safe for logs
    /// and staff screens: `+********5678`. The country and area codes are
    /// hidden too: with them, a short number would be shown nearly whole.
    /// The shape (`+`, one `*` per hidden digit) is kept.
    pub fn masked(&self) -> String {
        let digits = self.0.chars().filter(char::is_ascii_digit).count();
        let hidden = digits.saturating_sub(4);
        let mut seen = 0;
        self.0
            .chars()
            .map(|c| {
                if !c.is_ascii_digit() {
                    return c;
                }
                seen += 1;
                if seen <= hidden { '*' } else { c }
            })
            .collect()
    }
}

impl TryFrom<String> for PhoneNumber {
    type Error = ContactError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<PhoneNumber> for String {
    fn from(value: PhoneNumber) -> Self {
        value.0
    }
}

impl fmt::Display for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An e-mail address, checked for shape (not deliverability).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct EmailAddress(String);

impl EmailAddress {
    /// Parses an address, trimming surrounding spaces.
    pub fn parse(input: &str) -> Result<Self, ContactError> {
        let s = input.trim();
        let Some((local, domain)) = s.split_once('@') else {
            return Err(ContactError::InvalidEmail);
        };
        let ok = !local.is_empty()
            && s.len() <= 254
            && !domain.contains('@')
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !s.chars().any(|c| c.is_whitespace() || c.is_control());
        if ok { Ok(Self(s.to_owned())) } else { Err(ContactError::InvalidEmail) }
    }

    /// The address as given (trimmed).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The address with the local part hidden, safe for logs: `a***@example.com`.
    pub fn masked(&self) -> String {
        match self.0.split_once('@') {
            Some((local, domain)) => format!("{}***@{domain}", local.chars().next().unwrap_or('*')),
            None => "***".to_owned(),
        }
    }
}

impl TryFrom<String> for EmailAddress {
    type Error = ContactError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<EmailAddress> for String {
    fn from(value: EmailAddress) -> Self {
        value.0
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// How to reach a customer: at least one of phone and e-mail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerContact {
    /// The customer's phone number.
    pub phone: Option<PhoneNumber>,
    /// The customer's e-mail address.
    pub email: Option<EmailAddress>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn e164_numbers_are_accepted_as_given() {
        assert_eq!(PhoneNumber::parse("+12135550149").unwrap().as_str(), "+12135550149");
    }

    #[test]
    fn korean_mobile_numbers_are_normalised_to_e164() {
        assert_eq!(PhoneNumber::parse("010-1234-5678").unwrap().as_str(), "+821012345678");
        assert_eq!(PhoneNumber::parse("+82 10 1234 5678").unwrap().as_str(), "+821012345678");
    }

    #[test]
    fn malformed_phone_numbers_are_rejected() {
        for bad in ["", "12345", "+0123456789", "+12ab5550149", "+1234567890123456", "02-123-4567"] {
            assert_eq!(PhoneNumber::parse(bad), Err(ContactError::InvalidPhone), "{bad}");
        }
    }

    #[test]
    fn the_lookup_hash_is_the_sha256_of_the_e164_form_whatever_the_input_form() {
        let typed = PhoneNumber::parse("010-1234-5678").unwrap();
        let e164 = PhoneNumber::parse("+821012345678").unwrap();
        assert_eq!(typed.lookup_hash(), e164.lookup_hash());
        // sha256("+821012345678"): stored keys depend on it.
        assert_eq!(e164.lookup_hash(), "2efdd01fdf56e3f07de56acd9d40beb256d5983aec5f6d597c2c48354f35f9e0");
    }

    #[test]
    fn a_masked_phone_shows_only_its_last_four_digits() {
        for (number, masked) in [
            ("+821012345678", "+********5678"),
            ("010-1234-5678", "+********5678"),
            ("+12345678", "+****5678"),
            ("+123456789", "+*****6789"),
            ("+123456789012345", "+***********2345"),
        ] {
            assert_eq!(PhoneNumber::parse(number).unwrap().masked(), masked, "{number}");
        }
    }

    mod properties {
        use super::super::*;
        use proptest::prelude::*;

        /// Every form `PhoneNumber::parse` accepts: E.164 of 8 to 15
        /// digits, and Korean mobile numbers with or without separators.
        fn any_phone() -> impl Strategy<Value = PhoneNumber> {
            prop_oneof!["\\+[1-9][0-9]{7,14}", "01[016789]-?[0-9]{3,4}-?[0-9]{4}"]
                .prop_filter_map("accepted by parse", |input| PhoneNumber::parse(&input).ok())
        }

        proptest! {
            #[test]
            fn a_masked_phone_never_shows_more_than_its_last_four_digits(phone in any_phone()) {
                let masked = phone.masked();
                let shown: String = masked.chars().filter(char::is_ascii_digit).collect();
                let digits: String = phone.as_str().chars().filter(char::is_ascii_digit).collect();
                prop_assert_eq!(&shown, &digits[digits.len() - 4..], "{}", masked);
                prop_assert!(masked.ends_with(shown.as_str()), "the shown digits are the last ones: {}", masked);
                prop_assert_eq!(masked.chars().count(), phone.as_str().chars().count(), "one * per hidden digit");
            }
        }
    }

    #[test]
    fn email_needs_a_local_part_and_a_dotted_domain() {
        assert!(EmailAddress::parse("a@b.example").is_ok());
        for bad in ["", "a@b", "@b.example", "a b@c.example", "a@@b.example", "a@.example"] {
            assert_eq!(EmailAddress::parse(bad), Err(ContactError::InvalidEmail), "{bad}");
        }
        assert_eq!(EmailAddress::parse("alice@b.example").unwrap().masked(), "a***@b.example");
    }
}
