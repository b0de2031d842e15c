//! The customer's page at `/c/{token}`: their conversation so far, where
//! the inquiry stands (and when it should be done), and a reply box.
//! Server-rendered, no JavaScript, in the inquiry's language. The link
//! comes with every notification (`customer_link.rs` in the domain).
//!
//! It shows what the customer was told and nothing else: the messages'
//! texts under "you", "automatic answer", "our team" or "notice", never a
//! classification, an internal reason, the partner or who on the team
//! answered.
//!
//! A reply (`POST /c/{token}/reply`) is stored as the API stores a
//! follow-up (`conversation::add_to`). The link's token is the only
//! credential, and it is in the form's URL, so a site without the link
//! cannot post; what the form adds: a key made for this link when the page
//! was rendered (`CustomerLinks::form_key`), which is also the reply's
//! idempotency key (a double submit stores one message), and a refusal of
//! posts a browser marks as cross-site (`Sec-Fetch-Site`). No cookie is
//! involved, so `SameSite` has nothing to protect.
//!
//! Once the inquiry is answered or resolved the page asks whether that
//! helped (`POST /c/{token}/rating`, 👍/👎 and an optional comment, the same
//! protections); the rating is kept in the inquiry's timeline
//! ([`switchboard_domain::satisfaction`]), shown on the inquiry in the API
//! and counted in `switchboard_satisfaction_ratings`.

use crate::conversation;
use crate::error::ApiError;
use crate::html_page::{escape, layout, message_page};
use crate::satisfaction;
use crate::state::Gateway;
use axum::Form;
use axum::extract::rejection::{FormRejection, PathRejection};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use jiff::Timestamp;
use serde::Deserialize;
use std::time::Duration;
use switchboard_domain::customer_link::customer_page_path;
use switchboard_domain::satisfaction::{MAX_COMMENT_CHARS, RateInput, can_be_rated};
use switchboard_domain::submission::MAX_CONTENT_CHARS;
use switchboard_domain::token::TokenError;
use switchboard_domain::{Author, Inquiry, InquiryStatus, Language, Message, MessageChannel, Rating, Satisfaction, SubmitFollowUp};
use switchboard_store::whole_conversation;
use tracing::warn;

/// What follows the link's path in the reply form's action: `/c/{token}/reply`.
pub(crate) const REPLY_SUFFIX: &str = "/reply";
/// What follows the link's path in the rating form's action: `/c/{token}/rating`.
pub(crate) const RATING_SUFFIX: &str = "/rating";
/// Every form the page posts to, after the link's path.
pub(crate) const FORM_SUFFIXES: [&str; 2] = [REPLY_SUFFIX, RATING_SUFFIX];

/// The form the page posts back.
#[derive(Debug, Deserialize)]
pub struct ReplyForm {
    /// What the customer writes.
    pub text: Option<String>,
    /// The key the page was rendered with ([`switchboard_domain::CustomerLinks::form_key`]).
    pub form_key: Option<String>,
}

/// The rating form the page posts back.
#[derive(Debug, Deserialize)]
pub struct RatingForm {
    /// `helpful` or `not_helpful` (the button pressed).
    pub rating: Option<String>,
    /// Optional text.
    pub comment: Option<String>,
    /// As in [`ReplyForm::form_key`].
    pub form_key: Option<String>,
}

/// `GET /c/{token}`: the conversation page.
pub async fn show(State(gateway): State<Gateway>, headers: HeaderMap, token: Result<Path<String>, PathRejection>) -> Response {
    let Ok(Path(token)) = token else { return refused(Refusal::Invalid) };
    match open(&gateway, &token).await {
        Ok(inquiry) => render(&gateway, &inquiry, &token, &headers, StatusCode::OK, None, "").await,
        Err(refusal) => refused(refusal),
    }
}

/// `POST /c/{token}/reply`: stores the reply and shows the page again
/// (303 to `/c/{token}`, so reloading it posts nothing); a reply that
/// cannot be taken shows the page with why, the text kept.
pub async fn reply(
    State(gateway): State<Gateway>,
    headers: HeaderMap,
    token: Result<Path<String>, PathRejection>,
    form: Result<Form<ReplyForm>, FormRejection>,
) -> Response {
    let (form, token, inquiry) = match posted(&gateway, &headers, token, form, |f| f.form_key.as_deref()).await {
        Ok(posted) => posted,
        Err(response) => return response,
    };
    let form_key = form.form_key.clone().unwrap_or_default();
    let draft = form.text.clone().unwrap_or_default();
    let input = SubmitFollowUp { text: form.text, language: None };
    match conversation::add_to(&gateway, &inquiry, input, &form_key, MessageChannel::Web).await {
        Ok(_) => Redirect::to(&customer_page_path(&token)).into_response(),
        Err(ApiError::Invalid(_)) => {
            render(&gateway, &inquiry, &token, &headers, StatusCode::BAD_REQUEST, Some(Problem::Text), &draft).await
        }
        Err(ApiError::FailedPrecondition { .. }) => {
            render(&gateway, &inquiry, &token, &headers, StatusCode::CONFLICT, Some(Problem::Closed), &draft).await
        }
        Err(e) => {
            warn!(inquiry_id = %inquiry.id, error = %e, "customer reply not stored");
            refused(Refusal::Unavailable)
        }
    }
}

/// `POST /c/{token}/rating`: keeps the customer's rating of the answer and
/// shows the page again (303); an inquiry not answered yet, or a rating
/// that cannot be taken, shows the page with why.
pub async fn rate(
    State(gateway): State<Gateway>,
    headers: HeaderMap,
    token: Result<Path<String>, PathRejection>,
    form: Result<Form<RatingForm>, FormRejection>,
) -> Response {
    let (form, token, inquiry) = match posted(&gateway, &headers, token, form, |f| f.form_key.as_deref()).await {
        Ok(posted) => posted,
        Err(response) => return response,
    };
    let form_key = form.form_key.clone().unwrap_or_default();
    if !can_be_rated(inquiry.status) {
        return render(&gateway, &inquiry, &token, &headers, StatusCode::CONFLICT, Some(Problem::NotRateable), "").await;
    }
    let input = RateInput { rating: form.rating, comment: form.comment };
    match satisfaction::rate(&gateway, &inquiry, &input, &form_key).await {
        Ok(_) => Redirect::to(&customer_page_path(&token)).into_response(),
        Err(ApiError::Invalid(_)) => render(&gateway, &inquiry, &token, &headers, StatusCode::BAD_REQUEST, Some(Problem::Rating), "").await,
        Err(e) => {
            warn!(inquiry_id = %inquiry.id, error = %e, "customer rating not stored");
            refused(Refusal::Unavailable)
        }
    }
}

/// What every form the page posts goes through before it is acted on: a
/// readable form, not sent cross-site, on a link that opens, carrying the
/// key the page was rendered with for this link. The form, the token and
/// the inquiry, or the page that refuses it.
async fn posted<F>(
    gateway: &Gateway,
    headers: &HeaderMap,
    token: Result<Path<String>, PathRejection>,
    form: Result<Form<F>, FormRejection>,
    form_key: impl Fn(&F) -> Option<&str>,
) -> Result<(F, String, Inquiry), Response> {
    let Form(form) = form.map_err(|rejection| unreadable_form(&rejection))?;
    if is_cross_site(headers) {
        return Err(refused(Refusal::CrossSite));
    }
    let Ok(Path(token)) = token else { return Err(refused(Refusal::Invalid)) };
    let inquiry = open(gateway, &token).await.map_err(refused)?;
    if !gateway.customer_links.check_form_key(&token, form_key(&form).unwrap_or_default()) {
        return Err(refused(Refusal::ForeignForm));
    }
    Ok((form, token, inquiry))
}

/// Why a page is not shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refusal {
    /// Forged, tampered, another kind of link (a partner's), or its inquiry is gone.
    Invalid,
    /// Past its validity.
    Expired,
    /// A post another site made the browser send.
    CrossSite,
    /// A post without a form this page rendered for this link.
    ForeignForm,
    /// The store did not answer.
    Unavailable,
}

/// What is wrong with a reply, told above the form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Problem {
    /// Blank or too long.
    Text,
    /// The inquiry takes no more messages.
    Closed,
    /// A rating without its choice or with a comment too long.
    Rating,
    /// The inquiry has no answer to rate yet.
    NotRateable,
}

/// The inquiry of a customer link: its grant, then the inquiry, which must
/// still belong to the tenant a signed link was issued for.
async fn open(gateway: &Gateway, token: &str) -> Result<Inquiry, Refusal> {
    let grant = gateway.customer_links.open(token, Timestamp::now()).map_err(|e| match e {
        TokenError::Expired => Refusal::Expired,
        TokenError::Malformed | TokenError::BadSignature | TokenError::WrongScope => Refusal::Invalid,
    })?;
    let inquiry = gateway.inquiries.get_inquiry(grant.inquiry_id).await.map_err(|e| {
        warn!(inquiry_id = %grant.inquiry_id, error = %e, "customer page: inquiry not read");
        Refusal::Unavailable
    })?;
    inquiry.filter(|i| grant.opens(i)).ok_or(Refusal::Invalid)
}

/// Whether the browser says another site sent this request.
fn is_cross_site(headers: &HeaderMap) -> bool {
    headers.get("sec-fetch-site").is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"cross-site"))
}

async fn render(
    gateway: &Gateway,
    inquiry: &Inquiry,
    token: &str,
    headers: &HeaderMap,
    status: StatusCode,
    problem: Option<Problem>,
    draft: &str,
) -> Response {
    let messages = match whole_conversation(gateway.inquiries.as_ref(), inquiry).await {
        Ok(messages) => messages,
        Err(e) => {
            warn!(inquiry_id = %inquiry.id, error = %e, "customer page: conversation not read");
            return refused(Refusal::Unavailable);
        }
    };
    // The rating is read only where the page asks for one.
    let rated = if can_be_rated(inquiry.status) {
        match gateway.inquiries.timeline(inquiry.id).await {
            Ok(timeline) => Satisfaction::latest(&timeline).map(|s| s.rating),
            Err(e) => {
                warn!(inquiry_id = %inquiry.id, error = %e, "customer page: rating not read");
                return refused(Refusal::Unavailable);
            }
        }
    } else {
        None
    };
    // Waiting for the customer's own reply: no time to promise them.
    let waits_on_pipeline = !inquiry.status.is_terminal() && inquiry.status != InquiryStatus::AwaitingCustomer;
    let remaining = waits_on_pipeline.then(|| {
        gateway.api.refresh_eta(&gateway.inquiries);
        gateway.api.eta().estimate(inquiry, Timestamp::now()).remaining
    });
    let page = Page {
        language: page_language(inquiry, headers),
        status: inquiry.status,
        remaining,
        messages: &messages,
        token,
        form_key: &gateway.customer_links.form_key(token),
        problem,
        draft,
        rated,
    };
    (status, Html(page.html())).into_response()
}

/// The inquiry's language when it is known (the classifier's or the
/// client's), else the browser's preference between Korean and English,
/// else the one its text reads as.
fn page_language(inquiry: &Inquiry, headers: &HeaderMap) -> Language {
    inquiry
        .classification
        .as_ref()
        .map(|c| c.language)
        .or(inquiry.language)
        .or_else(|| headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).and_then(preferred_language))
        .unwrap_or_else(|| inquiry.reply_language())
}

/// Korean or English, whichever `Accept-Language` weighs higher (the first on a tie).
fn preferred_language(accept: &str) -> Option<Language> {
    let mut best: Option<(f32, Language)> = None;
    for entry in accept.split(',') {
        let mut parts = entry.split(';');
        let tag = parts.next().unwrap_or_default().trim();
        let primary = tag.split('-').next().unwrap_or_default();
        let Some(language) = Language::parse(primary) else { continue };
        let weight = parts.find_map(|p| p.trim().strip_prefix("q=").and_then(|q| q.parse::<f32>().ok())).unwrap_or(1.0);
        if weight > 0.0 && best.is_none_or(|(w, _)| weight > w) {
            best = Some((weight, language));
        }
    }
    best.map(|(_, language)| language)
}

/// Everything the page shows.
struct Page<'a> {
    language: Language,
    status: InquiryStatus,
    /// Time left, for an inquiry still on its way.
    remaining: Option<Duration>,
    messages: &'a [Message],
    token: &'a str,
    form_key: &'a str,
    problem: Option<Problem>,
    draft: &'a str,
    /// The customer's latest rating, on a page that asks for one.
    rated: Option<Rating>,
}

struct Words {
    title: &'static str,
    status: &'static str,
    reply: &'static str,
    send: &'static str,
    closed: &'static str,
    problem_closed: &'static str,
    did_it_help: &'static str,
    helpful: &'static str,
    not_helpful: &'static str,
    comment: &'static str,
    thanks: &'static str,
    problem_not_rateable: &'static str,
}

fn words(language: Language) -> Words {
    match language {
        Language::Ko => Words {
            title: "문의 내역",
            status: "진행 상황",
            reply: "답장하기",
            send: "보내기",
            closed: "이 문의에는 더 이상 답장할 수 없습니다. 새로 문의해 주세요.",
            problem_closed: "이 문의에는 더 이상 답장할 수 없습니다.",
            did_it_help: "답변이 도움이 되었나요?",
            helpful: "도움이 됐어요",
            not_helpful: "도움이 안 됐어요",
            comment: "의견 (선택)",
            thanks: "의견을 보내 주셔서 감사합니다.",
            problem_not_rateable: "답변을 드린 뒤에 평가하실 수 있습니다.",
        },
        Language::En => Words {
            title: "Your inquiry",
            status: "Status",
            reply: "Reply",
            send: "Send",
            closed: "This inquiry takes no more replies. Please send a new inquiry.",
            problem_closed: "This inquiry takes no more replies.",
            did_it_help: "Did this help?",
            helpful: "Yes, it helped",
            not_helpful: "No, it did not",
            comment: "Comment (optional)",
            thanks: "Thank you for your feedback.",
            problem_not_rateable: "You can rate the answer once we have answered.",
        },
    }
}

/// Who wrote a message, as the customer is told: never which person.
fn author_label(author: Author, language: Language) -> &'static str {
    match (author, language) {
        (Author::Customer, Language::Ko) => "나",
        (Author::Ai, Language::Ko) => "자동 답변",
        (Author::Operator, Language::Ko) => "상담팀",
        (Author::System, Language::Ko) => "안내",
        (Author::Customer, Language::En) => "You",
        (Author::Ai, Language::En) => "Automatic answer",
        (Author::Operator, Language::En) => "Our team",
        (Author::System, Language::En) => "Notice",
    }
}

/// The error of a blank or over-long reply, with the submission's limit.
fn problem_text(language: Language) -> String {
    let max = MAX_CONTENT_CHARS;
    match language {
        Language::Ko => format!("메시지를 입력해 주세요 (최대 {max}자)."),
        Language::En => format!("Please write a message (at most {max} characters)."),
    }
}

/// The error of a rating without its choice or with a long comment, with the comment's limit.
fn problem_rating(language: Language) -> String {
    let max = MAX_COMMENT_CHARS;
    match language {
        Language::Ko => format!("도움이 됐는지 골라 주세요 (의견은 최대 {max}자)."),
        Language::En => format!("Please choose whether it helped (a comment is at most {max} characters)."),
    }
}

/// The status in plain words.
fn status_words(status: InquiryStatus, language: Language) -> &'static str {
    use InquiryStatus::*;
    match (status, language) {
        (Received | Analyzing | Classified, Language::Ko) => "문의를 접수해 확인하고 있습니다.",
        (Reopened, Language::Ko) => "다시 보내 주신 내용을 확인하고 있습니다.",
        (AwaitingPartner, Language::Ko) => "제휴사의 확인을 기다리고 있습니다.",
        (AwaitingCustomer, Language::Ko) => "예약번호 확인을 위해 답장을 기다리고 있습니다.",
        (Answered, Language::Ko) => "답변을 보내 드렸습니다.",
        (Escalated, Language::Ko) => "담당자가 확인하고 있습니다.",
        (Resolved, Language::Ko) => "처리가 완료되었습니다.",
        (Failed, Language::Ko) => "자동으로 처리하지 못해 담당자가 직접 연락드립니다.",
        (Received | Analyzing | Classified, Language::En) => "We have your inquiry and are looking into it.",
        (Reopened, Language::En) => "We have your new message and are looking into it.",
        (AwaitingPartner, Language::En) => "We are waiting for our partner to confirm.",
        (AwaitingCustomer, Language::En) => "We are waiting for your reply with the reservation number.",
        (Answered, Language::En) => "We have answered your inquiry.",
        (Escalated, Language::En) => "A member of our team is looking into it.",
        (Resolved, Language::En) => "Your inquiry has been resolved.",
        (Failed, Language::En) => "We could not handle it automatically: our team will contact you.",
    }
}

/// The time left in plain words: whole minutes, rounded up.
fn eta_words(remaining: Duration, language: Language) -> String {
    let minutes = remaining.as_secs().div_ceil(60).max(1);
    match language {
        Language::Ko => format!("예상 완료: 약 {minutes}분 후"),
        Language::En if minutes == 1 => "Expected in about a minute".to_owned(),
        Language::En => format!("Expected in about {minutes} minutes"),
    }
}

impl Page<'_> {
    fn html(&self) -> String {
        let w = words(self.language);
        let eta = self.remaining.map(|r| format!("<br>{}", escape(&eta_words(r, self.language)))).unwrap_or_default();
        let messages: String = self
            .messages
            .iter()
            .map(|m| {
                format!(
                    r#"<li class="{class}"><span class="who">{who} · {at}</span><span class="text">{text}</span></li>"#,
                    class = m.author.as_str(),
                    who = author_label(m.author, self.language),
                    at = m.created_at.strftime("%Y-%m-%d %H:%M UTC"),
                    text = escape(&m.text),
                )
            })
            .collect();
        let problem = self
            .problem
            .map(|p| match p {
                Problem::Text => problem_text(self.language),
                Problem::Closed => w.problem_closed.to_owned(),
                Problem::Rating => problem_rating(self.language),
                Problem::NotRateable => w.problem_not_rateable.to_owned(),
            })
            .map(|text| format!(r#"<p class="error" role="alert">{text}</p>"#))
            .unwrap_or_default();
        let form = if self.status == InquiryStatus::Failed {
            format!("<p>{}</p>", w.closed)
        } else {
            format!(
                r#"<form method="post" action="{action}{REPLY_SUFFIX}" class="reply"><input type="hidden" name="form_key" value="{form_key}">
<label for="text">{reply}</label><textarea id="text" name="text" rows="4" maxlength="{max}" required>{draft}</textarea>
<button type="submit">{send}</button></form>"#,
                action = escape(&customer_page_path(self.token)),
                form_key = escape(self.form_key),
                reply = w.reply,
                max = MAX_CONTENT_CHARS,
                draft = escape(self.draft),
                send = w.send,
            )
        };
        let rating = if can_be_rated(self.status) { self.rating_form(&w) } else { String::new() };
        let body = format!(
            r#"<h1>{title}</h1>
<p class="status"><strong>{status_label}</strong>: {status}{eta}</p>
<ol class="messages">{messages}</ol>
{problem}{rating}{form}"#,
            title = w.title,
            status_label = w.status,
            status = status_words(self.status, self.language),
        );
        layout(self.language.as_str(), w.title, &body)
    }

    /// "Did this help?" with two buttons and a comment box; after a rating,
    /// the thanks and which one was chosen (the form stays, to change it).
    fn rating_form(&self, w: &Words) -> String {
        let pressed = |rating: Rating| if self.rated == Some(rating) { r#" aria-pressed="true""# } else { "" };
        let thanks = self.rated.map(|_| format!(r#"<p class="rated" role="status">{}</p>"#, w.thanks)).unwrap_or_default();
        format!(
            r#"<form method="post" action="{action}{RATING_SUFFIX}" class="rating"><input type="hidden" name="form_key" value="{form_key}">
<fieldset><legend>{legend}</legend>{thanks}
<label for="comment">{comment}</label><textarea id="comment" name="comment" rows="2" maxlength="{max}"></textarea>
<button type="submit" name="rating" value="{up}"{up_pressed}>👍 {helpful}</button>
<button type="submit" name="rating" value="{down}"{down_pressed}>👎 {not_helpful}</button></fieldset></form>"#,
            action = escape(&customer_page_path(self.token)),
            form_key = escape(self.form_key),
            legend = w.did_it_help,
            comment = w.comment,
            max = MAX_COMMENT_CHARS,
            up = Rating::Helpful.as_str(),
            up_pressed = pressed(Rating::Helpful),
            helpful = w.helpful,
            down = Rating::NotHelpful.as_str(),
            down_pressed = pressed(Rating::NotHelpful),
            not_helpful = w.not_helpful,
        )
    }
}

/// The page of a link that does not open (or a post that is refused); the
/// customer's language is unknown without a valid link, so both.
fn refused(refusal: Refusal) -> Response {
    let (status, ko, en) = match refusal {
        Refusal::Invalid => (StatusCode::UNAUTHORIZED, "유효하지 않은 링크입니다.", "This link is not valid."),
        Refusal::Expired => (
            StatusCode::UNAUTHORIZED,
            "기간이 지난 링크입니다. 가장 최근에 받은 안내의 링크를 이용해 주세요.",
            "This link has expired. Please use the link in the latest message we sent you.",
        ),
        Refusal::CrossSite | Refusal::ForeignForm => (
            StatusCode::FORBIDDEN,
            "이 페이지에서 보낸 답장이 아닙니다. 페이지를 새로 열어 다시 보내 주세요.",
            "This reply did not come from this page. Please open the page again and send it from there.",
        ),
        Refusal::Unavailable => (StatusCode::SERVICE_UNAVAILABLE, "잠시 후 다시 시도해 주세요.", "Please try again in a moment."),
    };
    (status, Html(message_page(en, ko, en))).into_response()
}

/// The page for a form that could not be read, with the rejection's status.
fn unreadable_form(rejection: &FormRejection) -> Response {
    let status = rejection.status();
    let (ko, en) = match status {
        StatusCode::PAYLOAD_TOO_LARGE => ("메시지가 너무 깁니다.", "The message is too long."),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ("이 페이지의 양식으로 보내 주세요.", "Please send the message with this page's form."),
        _ => ("메시지를 처리할 수 없습니다.", "The message could not be read."),
    };
    (status, Html(message_page(en, ko, en))).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_browsers_preferred_language_between_korean_and_english_is_taken() {
        assert_eq!(preferred_language("ko-KR,ko;q=0.9,en-US;q=0.8"), Some(Language::Ko));
        assert_eq!(preferred_language("en-GB, ko;q=0.5"), Some(Language::En));
        assert_eq!(preferred_language("fr, ko;q=0.3, en;q=0.7"), Some(Language::En));
        assert_eq!(preferred_language("de, fr"), None);
        assert_eq!(preferred_language("ko;q=0, en;q=0.1"), Some(Language::En));
        assert_eq!(preferred_language(""), None);
    }

    #[test]
    fn the_eta_is_whole_minutes_rounded_up() {
        assert_eq!(eta_words(Duration::from_secs(1), Language::En), "Expected in about a minute");
        assert_eq!(eta_words(Duration::from_secs(61), Language::En), "Expected in about 2 minutes");
        assert_eq!(eta_words(Duration::ZERO, Language::Ko), "예상 완료: 약 1분 후");
    }

    #[test]
    fn a_cross_site_post_is_recognised() {
        let mut headers = HeaderMap::new();
        assert!(!is_cross_site(&headers));
        headers.insert("sec-fetch-site", "same-origin".parse().unwrap());
        assert!(!is_cross_site(&headers));
        headers.insert("sec-fetch-site", "cross-site".parse().unwrap());
        assert!(is_cross_site(&headers));
    }
}
