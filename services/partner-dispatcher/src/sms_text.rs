//! The partner's text message, in the partner's language, kept short
//! enough for one SMS segment where the link allows.

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
