//! Whether the reservation an inquiry names can be acted on, and what the
//! customer is told when it cannot.

use std::fmt;
use switchboard_domain::{Inquiry, Language, Reservation, ReservationNumber};

/// Why a partner cannot be asked: the customer's booking could not be
/// found or verified. This is not a fault: a person checks it. The reasons
/// name no personal data and never say whether a booking exists for
/// someone else.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unverified {
    /// The inquiry names no reservation.
    NoNumber,
    /// No reservation of the inquiry's tenant has that number.
    NotFound,
    /// The customer gave no phone number to match the booking's.
    NoPhone,
    /// The booking's phone is not the customer's.
    PhoneMismatch,
}

impl Unverified {
    /// The escalation reason operators read.
    pub fn reason(self) -> &'static str {
        match self {
            Self::NoNumber => "no reservation number was given",
            Self::NotFound => "reservation not found",
            Self::NoPhone => "the customer gave no phone to match the reservation",
            Self::PhoneMismatch => "the customer's phone does not match the reservation",
        }
    }

    /// What the customer is told: truthfully, that a person will check the
    /// booking. A booking that is not found and one that is someone
    /// else's read the same, so the message reveals nothing about it.
    pub fn customer_message(self, language: Language, number: Option<&ReservationNumber>) -> String {
        match (number, language) {
            (Some(n), Language::Ko) => {
                format!("입력하신 정보로 예약 {n}을(를) 찾지 못했습니다. 담당자가 예약을 확인한 뒤 연락드리겠습니다.")
            }
            (Some(n), Language::En) => {
                format!("We could not find booking {n} under your details; a member of our team will check it and get back to you.")
            }
            (None, Language::Ko) => "문의하신 예약을 확인하지 못했습니다. 담당자가 예약을 확인한 뒤 연락드리겠습니다.".into(),
            (None, Language::En) => {
                "We could not tell which booking this is about; a member of our team will check it and get back to you.".into()
            }
        }
    }
}

impl fmt::Display for Unverified {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.reason())
    }
}

/// The reservation the inquiry names, if it exists for the inquiry's
/// tenant and belongs to this customer (the phone numbers match).
pub(crate) fn verify(inquiry: &Inquiry, found: Option<Reservation>) -> Result<Reservation, Unverified> {
    if inquiry.reservation_number.is_none() {
        return Err(Unverified::NoNumber);
    }
    let reservation = found.filter(|r| r.tenant_id == inquiry.tenant_id).ok_or(Unverified::NotFound)?;
    match &inquiry.customer.phone {
        None => Err(Unverified::NoPhone),
        Some(phone) if *phone != reservation.customer_phone => Err(Unverified::PhoneMismatch),
        Some(_) => Ok(reservation),
    }
}
