//! The OpenAPI schemas of shapes the handlers read or write through types
//! that are not themselves schemas (domain types, the partner
//! dispatcher's view). Documentation only: nothing is built from these.
//! The constraints (lengths, patterns, enums) are the server's, so a
//! client validating against them accepts nothing the server refuses (the
//! server also takes phone numbers written with spaces or brackets and
//! full-width reservation numbers, which a client normalises first).
//! A leaf module: views, problems and handlers point here for their
//! schemas, and this module points nowhere in the crate.

#![allow(dead_code)]

use serde::Serialize;
use utoipa::ToSchema;

/// An inquiry status.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum InquiryStatusDoc {
    Received,
    Analyzing,
    Classified,
    AwaitingPartner,
    AwaitingCustomer,
    Answered,
    Escalated,
    Reopened,
    Resolved,
    Failed,
}

/// `ko` or `en`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LanguageDoc {
    Ko,
    En,
}

/// Where an inquiry came in.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChannelDoc {
    Web,
    Api,
    Chat,
    Event,
}

/// A partner's answer.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PartnerAnswerDoc {
    Accept,
    Reject,
    Alternative,
}

/// An inquiry's urgency.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum UrgencyDoc {
    Low,
    Medium,
    High,
}

/// One field that failed validation.
#[derive(Debug, Serialize, ToSchema)]
pub struct FieldErrorDoc {
    /// e.g. `customer_phone`, `attachments[0].content_base64`.
    pub field: String,
    pub reason: String,
}

/// A file sent with an inquiry.
#[derive(Debug, Serialize, ToSchema)]
pub struct AttachmentDoc {
    pub filename: Option<String>,
    /// JPEG, PNG or PDF, at most 5 MB before encoding.
    #[schema(min_length = 1, max_length = 6_990_512)]
    pub content_base64: String,
}

/// Body of `POST /api/inquiries`. Only `content` and one of
/// `customer_phone`/`customer_email` are required.
#[derive(Debug, Serialize, ToSchema)]
pub struct SubmitInquiryDoc {
    /// At most 200 characters.
    #[schema(max_length = 200)]
    pub title: Option<String>,
    /// 1–10,000 characters, not blank.
    #[schema(min_length = 1, max_length = 10_000, pattern = r"\S")]
    pub content: String,
    /// E.164 (`+821012345678`) or Korean domestic (`010-1234-5678`).
    #[schema(pattern = r"^(\+[1-9][0-9]{7,14}|01[0-9]-?[0-9]{3,4}-?[0-9]{4})?$")]
    pub customer_phone: Option<String>,
    #[schema(
        max_length = 254,
        pattern = r"^([^@\s\u0000-\u001f\u007f-\u009f]+@[^@\s.\u0000-\u001f\u007f-\u009f]([^@\s\u0000-\u001f\u007f-\u009f]*\.)+[^@\s.\u0000-\u001f\u007f-\u009f]+)?$"
    )]
    pub customer_email: Option<String>,
    /// e.g. `HT-20481123`; detected in the content when absent.
    #[schema(pattern = r"^([A-Za-z]{2,4}-?[0-9]{6,12})?$")]
    pub reservation_number: Option<String>,
    /// `api` when absent.
    #[schema(value_type = Option<ChannelDoc>)]
    pub channel: Option<String>,
    /// Detected when absent.
    #[schema(value_type = Option<LanguageDoc>)]
    pub language: Option<String>,
    /// At most 5 (an array: `null` is refused).
    #[serde(default)]
    #[schema(max_items = 5)]
    pub attachments: Vec<AttachmentDoc>,
}

/// Body of `POST /respond`.
#[derive(Debug, Serialize, ToSchema)]
pub struct RespondDoc {
    /// The token from the partner's link.
    #[schema(min_length = 1, pattern = r"\S")]
    pub token: String,
    #[schema(value_type = PartnerAnswerDoc)]
    pub answer: String,
    /// For `reject`: why (optional; cut at 500 characters).
    pub reason: Option<String>,
    /// For `alternative`: the proposed time (required, at most 100 characters).
    #[schema(max_length = 100)]
    pub proposed_time: Option<String>,
}

/// The form of the partner's page (`POST /r/{token}`).
#[derive(Debug, Serialize, ToSchema)]
pub struct AnswerFormDoc {
    #[schema(value_type = PartnerAnswerDoc)]
    pub answer: String,
    /// For `reject`: why (optional; cut at 500 characters).
    pub reason: Option<String>,
    /// For `alternative`: the proposed time (required, at most 100 characters).
    #[schema(max_length = 100)]
    pub proposed_time: Option<String>,
}

/// The form of the customer's page (`POST /c/{token}/reply`).
#[derive(Debug, Serialize, ToSchema)]
pub struct ReplyFormDoc {
    /// What the customer writes (required, at most 10,000 characters).
    #[schema(max_length = 10000)]
    pub text: String,
    /// The key the page rendered the form with: it must be this link's, and
    /// it makes a double submit store one message.
    pub form_key: String,
}

/// The rating form of the customer's page (`POST /c/{token}/rating`).
#[derive(Debug, Serialize, ToSchema)]
pub struct RatingFormDoc {
    /// Whether the answer helped: `helpful` or `not_helpful` (the button pressed).
    pub rating: String,
    /// Optional, at most 1,000 characters.
    #[schema(max_length = 1000)]
    pub comment: Option<String>,
    /// As in the reply form: this link's key; a double submit keeps one rating.
    pub form_key: String,
}

/// What the partner sees.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConfirmationDoc {
    pub inquiry_id: String,
    pub partner_name: String,
    pub language: String,
    pub intent: Option<String>,
    pub title: Option<String>,
    pub question: String,
    pub reservation_number: Option<String>,
    pub reservation_date: Option<String>,
    pub service_type: Option<String>,
    pub deadline_at: String,
    /// `pending`, or the recorded outcome.
    pub status: String,
}

/// Body of `POST /api/reservations`: every field but `partner_locale` is
/// required.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReservationInputDoc {
    /// e.g. `HT-20481123`, at most 32 characters.
    #[schema(max_length = 32, pattern = r"^[A-Za-z]{2,4}-?[0-9]{6,12}$")]
    pub reservation_number: String,
    /// The tenant's id (lower-case letters, digits, `-`).
    #[schema(min_length = 1, max_length = 64, pattern = r"^[a-z0-9-]{1,64}$")]
    pub tenant_id: String,
    /// At most 200 characters.
    #[schema(min_length = 1, max_length = 200, pattern = r"\S")]
    pub customer_name: String,
    /// E.164 (`+821012345678`) or Korean domestic (`010-1234-5678`).
    #[schema(max_length = 32, pattern = r"^(\+[1-9][0-9]{7,14}|01[0-9]-?[0-9]{3,4}-?[0-9]{4})$")]
    pub customer_phone: String,
    /// At most 64 characters.
    #[schema(min_length = 1, max_length = 64, pattern = r"\S")]
    pub partner_id: String,
    /// At most 200 characters.
    #[schema(min_length = 1, max_length = 200, pattern = r"\S")]
    pub partner_name: String,
    /// E.164 or Korean domestic.
    #[schema(max_length = 32, pattern = r"^(\+[1-9][0-9]{7,14}|01[0-9]-?[0-9]{3,4}-?[0-9]{4})$")]
    pub partner_phone: String,
    /// `ko` when absent.
    #[schema(value_type = Option<LanguageDoc>)]
    pub partner_locale: Option<String>,
    /// e.g. `hotel`, at most 64 characters.
    #[schema(min_length = 1, max_length = 64, pattern = r"\S")]
    pub service_type: String,
    /// A date or a date-time as the upstream system writes it, at most 64 characters.
    #[schema(min_length = 1, max_length = 64, pattern = r"\S")]
    pub reservation_date: String,
}

/// One way customers ask an FAQ entry's question: 1–500 characters, not blank.
#[derive(Debug, Serialize, ToSchema)]
#[schema(min_length = 1, max_length = 500, pattern = r"\S")]
pub struct VariantTextDoc(pub String);

/// Body of `POST /api/faq`. Text is trimmed and normalised (NFC).
#[derive(Debug, Serialize, ToSchema)]
pub struct FaqEntryAddDoc {
    #[schema(value_type = LanguageDoc)]
    pub language: String,
    /// 1–500 characters.
    #[schema(min_length = 1, max_length = 500, pattern = r"\S")]
    pub question: String,
    /// 1–4,000 characters.
    #[schema(min_length = 1, max_length = 4_000, pattern = r"\S")]
    pub answer: String,
    /// At most 20, each 1–500 characters.
    #[schema(max_items = 20, value_type = Option<Vec<VariantTextDoc>>)]
    pub variants: Option<Vec<String>>,
}

/// Body of `PATCH /api/faq/{id}` (any of `question`, `answer`,
/// `variants`; fields left out stay). Text is trimmed and normalised (NFC).
#[derive(Debug, Serialize, ToSchema)]
pub struct FaqEntryInputDoc {
    /// Ignored: an entry keeps its language.
    #[schema(value_type = Option<LanguageDoc>)]
    pub language: Option<String>,
    /// 1–500 characters.
    #[schema(min_length = 1, max_length = 500, pattern = r"\S")]
    pub question: Option<String>,
    /// 1–4,000 characters.
    #[schema(min_length = 1, max_length = 4_000, pattern = r"\S")]
    pub answer: Option<String>,
    /// At most 20, each 1–500 characters; replaces the variants on edit.
    #[schema(max_items = 20, value_type = Option<Vec<VariantTextDoc>>)]
    pub variants: Option<Vec<String>>,
}

/// Which way the customer's mood goes across the conversation.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SentimentTrendDoc {
    Improving,
    Steady,
    Worsening,
}

/// Body of `POST /api/inquiries/{id}/messages`: a customer's follow-up.
#[derive(Debug, Serialize, ToSchema)]
pub struct FollowUpDoc {
    /// 1–10,000 characters, not blank (the rule of a submission's `content`).
    #[schema(min_length = 1, max_length = 10_000, pattern = r"\S")]
    pub text: String,
    /// Detected when absent.
    #[schema(value_type = Option<LanguageDoc>)]
    pub language: Option<String>,
}

/// Body of `POST /api/webhooks`.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookCreateDoc {
    /// `https://…` (`http://` only where the deployment allows it); it
    /// must not resolve to a loopback, private, link-local or other
    /// internal address.
    #[schema(min_length = 1, max_length = 2000)]
    pub url: String,
    /// Event types (`inquiry.answered`, `inquiry.escalated`,
    /// `inquiry.resolved`, `inquiry.failed`, `inquiry.awaiting_customer`),
    /// or `["*"]` (the default) for every one.
    #[schema(value_type = Option<Vec<WebhookEventDoc>>)]
    pub events: Option<Vec<String>>,
    /// A note, at most 200 characters.
    #[schema(max_length = 200)]
    pub description: Option<String>,
    /// `false` registers it disabled.
    pub enabled: Option<bool>,
}

/// Body of `PATCH /api/webhooks/{id}`: fields left out stay.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookChangeDoc {
    /// `https://…`, checked as at registration.
    #[schema(min_length = 1, max_length = 2000)]
    pub url: Option<String>,
    #[schema(value_type = Option<Vec<WebhookEventDoc>>)]
    pub events: Option<Vec<String>>,
    #[schema(max_length = 200)]
    pub description: Option<String>,
    /// `true` enables it again (and forgets its failures); `false` disables it.
    pub enabled: Option<bool>,
}

/// An event type a webhook can receive, or `*` for every one.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = WebhookEventDoc)]
pub enum WebhookEventDoc {
    #[serde(rename = "*")]
    All,
    #[serde(rename = "inquiry.answered")]
    Answered,
    #[serde(rename = "inquiry.escalated")]
    Escalated,
    #[serde(rename = "inquiry.resolved")]
    Resolved,
    #[serde(rename = "inquiry.failed")]
    Failed,
    #[serde(rename = "inquiry.awaiting_customer")]
    AwaitingCustomer,
}

/// Seconds to a person's first response, by urgency (1 to 2,592,000: 30 days).
#[derive(Debug, Serialize, ToSchema)]
pub struct SlaTargetsDoc {
    #[schema(minimum = 1, maximum = 2592000)]
    pub high: u32,
    #[schema(minimum = 1, maximum = 2592000)]
    pub medium: u32,
    #[schema(minimum = 1, maximum = 2592000)]
    pub low: u32,
}

/// A day of the week.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum WeekdayDoc {
    Mon,
    Tue,
    Wed,
    Thu,
    Fri,
    Sat,
    Sun,
}

/// One opening period: the days it applies to, and from when to when
/// (local time; `close` after `open`, `24:00` is midnight; an overnight
/// period is written as two).
#[derive(Debug, Serialize, ToSchema)]
pub struct OpeningDoc {
    #[schema(min_items = 1)]
    pub days: Vec<WeekdayDoc>,
    #[schema(pattern = r"^([01][0-9]|2[0-3]):[0-5][0-9]$", example = "09:00")]
    pub open: String,
    #[schema(pattern = r"^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$", example = "18:00")]
    pub close: String,
}

/// Body of `PUT /api/tenants/{tenant}/sla`.
#[derive(Debug, Serialize, ToSchema)]
pub struct SlaPolicyDoc {
    pub first_response_secs: SlaTargetsDoc,
    /// An IANA time zone, e.g. `Asia/Seoul` or `UTC`.
    #[schema(min_length = 1, example = "Asia/Seoul")]
    pub time_zone: String,
    /// When the business answers; left out or empty: around the clock.
    #[serde(default)]
    pub business_hours: Vec<OpeningDoc>,
}

/// An escalation's first-response SLA state.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SlaStateDoc {
    Pending,
    Met,
    Breached,
}

/// The order of `GET /api/inquiries`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ListSortDoc {
    Created,
    SlaDue,
}
