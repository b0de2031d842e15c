//! Whether the reservation an inquiry names can be acted on, what the
//! customer is asked when it cannot ([`CustomerQuestion`]), and what they
//! are told when a person takes over.

use crate::classification::Language;
use crate::inquiry::{Escalation, Inquiry};
use crate::message::{Author, Message};
use crate::reservation::{Reservation, ReservationNumber};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Why a partner cannot be asked: the customer's booking could not be
/// found or verified. This is not a fault: the customer is asked to check
/// the number once ([`Unverified::asks_customer`]), then a person checks
/// it. The reasons name no personal data and never say whether a booking
/// exists for someone else.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
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

    /// Whether asking the customer can help: a missing or mistyped number
    /// can be given again. A customer without a phone is not asked for
    /// one: the phone they are reached on is what ties them to the booking,
    /// and a number typed into a reply would let anyone who knows a
    /// booking's number and phone act on it; a person checks instead.
    pub fn asks_customer(self) -> bool {
        matches!(self, Self::NoNumber | Self::NotFound | Self::PhoneMismatch)
    }

    /// What the customer is told when a person takes over: truthfully,
    /// that a person will check the booking. A booking that is not found
    /// and one that is someone else's read the same, so the message
    /// reveals nothing about it.
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

    /// The question the customer is asked: to check the number and reply
    /// with it. As in [`Self::customer_message`], a booking that is not
    /// found and one that is someone else's read the same.
    pub fn question(self, language: Language, number: Option<&ReservationNumber>) -> String {
        match (number, language) {
            (Some(n), Language::Ko) => format!(
                "입력하신 정보로 예약 {n}을(를) 찾지 못했습니다. 예약 확인 문자나 메일에 있는 예약번호를 확인하신 뒤 답장으로 보내 주세요. 답장이 없으면 담당자가 확인한 뒤 연락드리겠습니다."
            ),
            (Some(n), Language::En) => format!(
                "We could not find booking {n} under your details. Please check the reservation number in your booking confirmation and reply with it. If we do not hear back, a member of our team will check it and get back to you."
            ),
            (None, Language::Ko) => "어느 예약에 대한 문의인지 확인하지 못했습니다. 예약 확인 문자나 메일에 있는 예약번호를 답장으로 보내 주세요. 답장이 없으면 담당자가 확인한 뒤 연락드리겠습니다.".into(),
            (None, Language::En) => "We could not tell which booking this is about. Please reply with the reservation number in your booking confirmation. If we do not hear back, a member of our team will check it and get back to you.".into(),
        }
    }

    /// The escalation of an inquiry whose booking stays unverified.
    pub fn escalation(self, inquiry: &Inquiry) -> Escalation {
        Escalation {
            reason: self.reason().to_owned(),
            customer_message: self.customer_message(inquiry.reply_language(), inquiry.reservation_number.as_ref()),
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
pub fn verify(inquiry: &Inquiry, found: Option<Reservation>) -> Result<Reservation, Unverified> {
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

/// The question an inquiry asked its customer about its booking (the
/// inquiry is asked once: a second failure goes to a person at once), and
/// what came of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerQuestion {
    /// Why it was asked; the escalation reason when no usable reply comes.
    pub unverified: Unverified,
    /// What the customer was asked, as sent.
    pub message: String,
    /// When it was asked.
    pub asked_at: Timestamp,
    /// Past this without a reply, a person takes over.
    pub deadline_at: Timestamp,
    /// The follow-up (its sequence in the conversation) taken as the
    /// reply, once one was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply: Option<u32>,
}

impl CustomerQuestion {
    /// The question as its system message in the conversation, keyed
    /// `question`: an inquiry asks once, so it is added once.
    pub fn as_message(&self, inquiry: &Inquiry) -> Message {
        Message::reply(inquiry, Author::System, "question", self.message.as_str(), self.asked_at)
    }
}
