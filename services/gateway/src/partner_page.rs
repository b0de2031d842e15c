//! The partner's page at `/r/{token}`: server-rendered, no JavaScript,
//! readable on a phone, in the partner's language. It shows the request
//! but never the customer's contact details.

use crate::html_page::{escape, layout, message_page};
use crate::partner::{parse_answer, path_token};
use crate::state::Gateway;
use axum::Form;
use axum::extract::rejection::{FormRejection, PathRejection};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Html;
use serde::Deserialize;
use switchboard_domain::{InquiryStatus, Intent, Language};
use switchboard_partner_dispatcher::{ConfirmError, ConfirmationView};

/// The form the page posts back.
#[derive(Debug, Deserialize)]
pub struct AnswerForm {
    pub answer: Option<String>,
    pub reason: Option<String>,
    pub proposed_time: Option<String>,
}

pub async fn show(State(gateway): State<Gateway>, token: Result<Path<String>, PathRejection>) -> (StatusCode, Html<String>) {
    let token = match path_token(token) {
        Ok(t) => t,
        Err(e) => return error_page(e),
    };
    match gateway.dispatcher.open(&token).await {
        Ok(view) => (StatusCode::OK, Html(request_page(&view, &token, None))),
        Err(e) => error_page(e),
    }
}

pub async fn answer(
    State(gateway): State<Gateway>,
    token: Result<Path<String>, PathRejection>,
    form: Result<Form<AnswerForm>, FormRejection>,
) -> (StatusCode, Html<String>) {
    // A form that cannot be read (not form-encoded, too large, malformed)
    // is told on a page like every other answer of this route, not in plain text.
    let form = match form {
        Ok(Form(form)) => form,
        Err(rejection) => return unreadable_form(&rejection),
    };
    let token = match path_token(token) {
        Ok(t) => t,
        Err(e) => return error_page(e),
    };
    let answer = match parse_answer(form.answer.as_deref(), form.reason, form.proposed_time) {
        Ok(a) => a,
        Err(problem) => {
            return match gateway.dispatcher.open(&token).await {
                Ok(view) => (StatusCode::BAD_REQUEST, Html(request_page(&view, &token, Some(&problem.to_string())))),
                Err(e) => error_page(e),
            };
        }
    };
    match gateway.dispatcher.respond(&token, answer).await {
        Ok(view) => (StatusCode::OK, Html(done_page(&view))),
        Err(e) => error_page(e),
    }
}

struct Words {
    title: &'static str,
    reservation: &'static str,
    date: &'static str,
    service: &'static str,
    request: &'static str,
    deadline: &'static str,
    accept: &'static str,
    reject: &'static str,
    reason: &'static str,
    alternative: &'static str,
    proposed: &'static str,
    done: &'static str,
}

fn words(language: Language) -> Words {
    match language {
        Language::Ko => Words {
            title: "예약 요청 확인",
            reservation: "예약번호",
            date: "예약일",
            service: "서비스",
            request: "고객 요청",
            deadline: "응답 기한",
            accept: "수락",
            reject: "거절",
            reason: "사유 (선택)",
            alternative: "다른 시간 제안",
            proposed: "제안 일시",
            done: "응답이 전달되었습니다. 감사합니다.",
        },
        Language::En => Words {
            title: "Confirm a reservation request",
            reservation: "Reservation",
            date: "Date",
            service: "Service",
            request: "Customer's request",
            deadline: "Answer by",
            accept: "Accept",
            reject: "Reject",
            reason: "Reason (optional)",
            alternative: "Propose another time",
            proposed: "Proposed date and time",
            done: "Your answer was sent. Thank you.",
        },
    }
}

fn intent_label(intent: Option<Intent>, language: Language) -> &'static str {
    match (intent, language) {
        (Some(Intent::TroubleReport), Language::Ko) => "문제 신고",
        (Some(Intent::AddonRequest), Language::Ko) => "추가 요청",
        (_, Language::Ko) => "예약 변경 요청",
        (Some(Intent::TroubleReport), Language::En) => "Problem report",
        (Some(Intent::AddonRequest), Language::En) => "Add-on request",
        (_, Language::En) => "Reservation change request",
    }
}

fn request_page(view: &ConfirmationView, token: &str, error: Option<&str>) -> String {
    let w = words(view.language);
    let action = format!("/r/{}", escape(token));
    let row = |label: &str, value: Option<&String>| value.map(|v| format!("<dt>{}</dt><dd>{}</dd>", label, escape(v))).unwrap_or_default();
    let deadline = view.deadline_at.strftime("%Y-%m-%d %H:%M UTC").to_string();
    let body = format!(
        r#"<h1>{heading}</h1>
{error}
<dl>{number}{date}{service}{deadline}</dl>
<p><strong>{request_label}</strong></p>
<blockquote>{question}</blockquote>
<form method="post" action="{action}" class="accept"><input type="hidden" name="answer" value="accept"><button type="submit">{accept}</button></form>
<form method="post" action="{action}" class="reject"><input type="hidden" name="answer" value="reject">
<label>{reason}<input name="reason" maxlength="500"></label><button type="submit">{reject}</button></form>
<form method="post" action="{action}" class="alt"><input type="hidden" name="answer" value="alternative">
<label>{proposed}<input type="datetime-local" name="proposed_time" required></label><button type="submit">{alternative}</button></form>"#,
        heading = intent_label(view.intent, view.language),
        error = error.map(|e| format!(r#"<p class="error">{}</p>"#, escape(e))).unwrap_or_default(),
        number = row(w.reservation, view.reservation_number.as_ref()),
        date = row(w.date, view.reservation_date.as_ref()),
        service = row(w.service, view.service_type.as_ref()),
        deadline = row(w.deadline, Some(&deadline)),
        request_label = w.request,
        question = escape(&view.question),
        accept = w.accept,
        reason = w.reason,
        reject = w.reject,
        proposed = w.proposed,
        alternative = w.alternative,
    );
    layout(view.language.as_str(), w.title, &body)
}

fn done_page(view: &ConfirmationView) -> String {
    let w = words(view.language);
    let answered = match (view.status.as_str(), view.language) {
        ("accepted", Language::Ko) => "요청을 수락하셨습니다.",
        ("rejected", Language::Ko) => "요청을 거절하셨습니다.",
        ("alternative", Language::Ko) => "다른 시간을 제안하셨습니다.",
        ("accepted", Language::En) => "You accepted the request.",
        ("rejected", Language::En) => "You declined the request.",
        ("alternative", Language::En) => "You proposed another time.",
        _ => "",
    };
    let number = view.reservation_number.as_deref().map(|n| format!("<p>{} {}</p>", w.reservation, escape(n))).unwrap_or_default();
    layout(view.language.as_str(), w.title, &format!(r#"<h1 class="done">{}</h1><p>{answered}</p>{number}"#, w.done))
}

/// The page for a form that could not be read, with the rejection's status
/// (413 too large, 415 not form-encoded, 400/422 malformed).
fn unreadable_form(rejection: &FormRejection) -> (StatusCode, Html<String>) {
    let status = rejection.status();
    let (ko, en) = match status {
        StatusCode::PAYLOAD_TOO_LARGE => ("응답이 너무 깁니다.", "The answer is too long."),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ("응답은 이 페이지의 양식으로 보내 주세요.", "Please send the answer with this page's form."),
        _ => ("응답을 처리할 수 없습니다.", "The answer could not be read."),
    };
    (status, Html(message_page(en, ko, en)))
}

fn error_page(e: ConfirmError) -> (StatusCode, Html<String>) {
    // The partner's language is unknown without a valid token: say it in both.
    let (status, ko, en) = match e {
        ConfirmError::Invalid => (StatusCode::UNAUTHORIZED, "유효하지 않은 링크입니다.", "This link is not valid."),
        ConfirmError::Unknown => (StatusCode::NOT_FOUND, "유효하지 않은 링크입니다.", "This link is not valid."),
        ConfirmError::Expired => (StatusCode::UNAUTHORIZED, "응답 기한이 지난 링크입니다.", "This link has expired."),
        ConfirmError::AlreadyAnswered { .. } => (StatusCode::CONFLICT, "이미 응답한 요청입니다.", "This request was already answered."),
        ConfirmError::Closed { status: InquiryStatus::Failed } => (
            StatusCode::CONFLICT,
            "이 요청은 처리할 수 없게 되어 더 이상 응답을 받지 않습니다. 담당자가 고객에게 직접 연락합니다.",
            "This request could not be processed and no longer takes an answer. Our staff will contact the customer directly.",
        ),
        ConfirmError::Closed { .. } => (
            StatusCode::CONFLICT,
            "이 요청은 담당자가 직접 처리하고 있어 더 이상 응답을 받지 않습니다.",
            "This request is now handled by our staff and no longer takes an answer.",
        ),
        ConfirmError::BadAnswer(_) => (StatusCode::BAD_REQUEST, "응답을 처리할 수 없습니다.", "The answer could not be read."),
        ConfirmError::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "잠시 후 다시 시도해 주세요.", "Please try again in a moment."),
    };
    (status, Html(message_page(en, ko, en)))
}
