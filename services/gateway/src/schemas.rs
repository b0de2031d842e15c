//! The OpenAPI schemas of shapes the handlers read or write through types
//! that are not themselves schemas (domain types, the partner
//! dispatcher's view). Documentation only: nothing is built from these.
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
    Answered,
    Escalated,
    Resolved,
    Failed,
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
    pub content_base64: String,
}

/// Body of `POST /api/inquiries`. Only `content` and one of
/// `customer_phone`/`customer_email` are required.
#[derive(Debug, Serialize, ToSchema)]
pub struct SubmitInquiryDoc {
    /// At most 200 characters.
    pub title: Option<String>,
    /// 1–10,000 characters.
    pub content: String,
    /// E.164 (`+821012345678`) or Korean domestic (`010-1234-5678`).
    pub customer_phone: Option<String>,
    pub customer_email: Option<String>,
    /// e.g. `HT-20481123`; detected in the content when absent.
    pub reservation_number: Option<String>,
    /// `web`, `api`, `chat` or `event`; `api` when absent.
    pub channel: Option<String>,
    /// `ko` or `en`; detected when absent.
    pub language: Option<String>,
    /// At most 5.
    pub attachments: Option<Vec<AttachmentDoc>>,
}

/// Body of `POST /respond`.
#[derive(Debug, Serialize, ToSchema)]
pub struct RespondDoc {
    /// The token from the partner's link.
    pub token: String,
    /// `accept`, `reject` or `alternative`.
    pub answer: String,
    /// For `reject`: why (optional).
    pub reason: Option<String>,
    /// For `alternative`: the proposed time (required).
    pub proposed_time: Option<String>,
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
    pub reservation_number: String,
    /// The tenant's id (lower-case letters, digits, `-`).
    pub tenant_id: String,
    /// At most 200 characters.
    pub customer_name: String,
    /// E.164 (`+821012345678`) or Korean domestic (`010-1234-5678`).
    pub customer_phone: String,
    /// At most 64 characters.
    pub partner_id: String,
    /// At most 200 characters.
    pub partner_name: String,
    /// E.164 or Korean domestic.
    pub partner_phone: String,
    /// `ko` or `en`; `ko` when absent.
    pub partner_locale: Option<String>,
    /// e.g. `hotel`, at most 64 characters.
    pub service_type: String,
    /// A date or a date-time as the upstream system writes it, at most 64 characters.
    pub reservation_date: String,
}

/// Body of `POST /api/faq` (all of `language`, `question`, `answer`) and
/// `PATCH /api/faq/{id}` (any of `question`, `answer`, `variants`). Text is
/// trimmed and normalised (NFC).
#[derive(Debug, Serialize, ToSchema)]
pub struct FaqEntryInputDoc {
    /// `ko` or `en`; required to add, ignored on edits.
    pub language: Option<String>,
    /// 1–500 characters.
    pub question: Option<String>,
    /// 1–4,000 characters.
    pub answer: Option<String>,
    /// At most 20, each 1–500 characters; replaces the variants on edit.
    pub variants: Option<Vec<String>>,
}
