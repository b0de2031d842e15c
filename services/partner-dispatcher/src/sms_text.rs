//! The partner's text message, in the partner's language. The link is a
//! 22-character link id (`{base}/r/{id}`), so the longest request (the
//! longest reservation number and public base URL, a day left) is at most
//! 2 billed segments in Korean (UCS-2) and 1 in English (GSM-7); the
//! tests below count them with [`switchboard_domain::sms_segments`].

use std::time::Duration;
use switchboard_domain::{Inquiry, Intent, Language, Reservation};

/// The request, with the minutes left to answer (`time_left`, rounded up).
pub(crate) fn partner_request(reservation: &Reservation, inquiry: &Inquiry, time_left: Duration, link: &str) -> String {
    let minutes = time_left.as_secs().div_ceil(60).max(1);
    let intent = inquiry.classification.as_ref().map(|c| c.intent);
    match reservation.partner_locale {
        Language::Ko => {
            let what = match intent {
                Some(Intent::TroubleReport) => "문제 신고",
                Some(Intent::AddonRequest) => "추가 요청",
                _ => "변경 요청",
            };
            format!("[Switchboard] 예약 {} {what}. {minutes}분 내 응답: {link}", reservation.reservation_number)
        }
        Language::En => {
            let what = match intent {
                Some(Intent::TroubleReport) => "issue reported",
                Some(Intent::AddonRequest) => "add-on request",
                _ => "change request",
            };
            format!("[Switchboard] Booking {} {what}. Reply within {minutes} min: {link}", reservation.reservation_number)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::partner_link;
    use switchboard_domain::fixtures::{self, InquiryBuilder, LONG_PUBLIC_BASE_URL, LONGEST_RESERVATION_NUMBER};
    use switchboard_domain::token::{LINK_ID_CHARS, TokenClaims, TokenKeys};
    use switchboard_domain::{PhoneNumber, ReservationNumber, TenantId, sms_size};

    /// The longest realistic request: the longest reservation number, a
    /// 200-character partner name (not in the text, but it must stay out),
    /// the longest budgeted base URL, a day left to answer, a real link id.
    fn longest(locale: Language, intent: Intent) -> String {
        let number = ReservationNumber::parse(LONGEST_RESERVATION_NUMBER).unwrap();
        let reservation = Reservation {
            reservation_number: number.clone(),
            tenant_id: TenantId::parse("hanbit-stay-and-tours-seoul-station").unwrap(),
            customer_name: "김".repeat(200),
            customer_phone: PhoneNumber::parse("+821012345678").unwrap(),
            partner_id: "p".repeat(64),
            partner_name: "한빛 스테이 앤 투어즈 서울역점 ".repeat(10),
            partner_phone: PhoneNumber::parse("+821098765432").unwrap(),
            partner_locale: locale,
            service_type: "hotel".into(),
            reservation_date: "2026-12-31T23:59".into(),
        };
        let inquiry = InquiryBuilder::new().reservation(number).classification(fixtures::classification(locale, intent)).build();
        let keys = TokenKeys::new(vec![vec![7; 32]]).unwrap();
        let claims =
            TokenClaims { inquiry_id: inquiry.id.to_string(), partner_id: "p".repeat(64), expires_at: i64::MAX, scope: "confirm".into() };
        let link = partner_link(LONG_PUBLIC_BASE_URL, &keys.link_id(&claims));
        assert_eq!(link.len(), LONG_PUBLIC_BASE_URL.len() + 3 + LINK_ID_CHARS);
        partner_request(&reservation, &inquiry, Duration::from_secs(24 * 60 * 60), &link)
    }

    #[test]
    fn the_longest_korean_request_is_at_most_two_segments() {
        for intent in [Intent::ReservationChange, Intent::TroubleReport, Intent::AddonRequest] {
            let text = longest(Language::Ko, intent);
            let size = sms_size(&text);
            assert!(size.segments <= 2, "{} UTF-16 units, {} segments: {text}", size.units, size.segments);
            assert!(text.contains("1440분"), "{text}");
        }
    }

    #[test]
    fn the_longest_english_request_is_one_segment() {
        for intent in [Intent::ReservationChange, Intent::TroubleReport, Intent::AddonRequest] {
            let text = longest(Language::En, intent);
            let size = sms_size(&text);
            assert_eq!(size.encoding, switchboard_domain::SmsEncoding::Gsm7, "{text}");
            assert_eq!(size.segments, 1, "{} septets: {text}", size.units);
        }
    }

    #[test]
    fn the_request_names_the_booking_the_time_left_and_the_link_but_not_the_partner() {
        let text = longest(Language::En, Intent::ReservationChange);
        assert!(text.starts_with("[Switchboard] Booking ABCD-123456789012 change request. Reply within 1440 min: https://"), "{text}");
        assert!(!longest(Language::Ko, Intent::ReservationChange).contains("한빛"), "the partner's name stays out");
    }
}
