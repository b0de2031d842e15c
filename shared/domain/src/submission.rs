//! A new inquiry as a client submits it, and its validation.

use crate::attachment::{AttachmentUpload, MAX_ATTACHMENT_BYTES, MAX_ATTACHMENTS, MediaType};
use crate::classification::Language;
use crate::contact::{CustomerContact, EmailAddress, PhoneNumber};
use crate::field_error::{FieldError, ValidationErrors};
use crate::inquiry::Channel;
use crate::reservation::ReservationNumber;
use crate::text::{fold, normalize};
use base64::Engine;
use serde::{Deserialize, Serialize};

/// Longest title, in characters.
pub const MAX_TITLE_CHARS: usize = 200;
/// Longest content, in characters.
pub const MAX_CONTENT_CHARS: usize = 10_000;

/// The body of `POST /api/inquiries` (and `data` of an upstream
/// `inquiry.submitted` event), exactly as received: nothing checked yet.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubmitInquiry {
    /// Optional title.
    #[serde(default)]
    pub title: Option<String>,
    /// What the customer wants to say (required).
    #[serde(default)]
    pub content: Option<String>,
    /// The customer's phone number.
    #[serde(default)]
    pub customer_phone: Option<String>,
    /// The customer's e-mail address.
    #[serde(default)]
    pub customer_email: Option<String>,
    /// The reservation the inquiry is about.
    #[serde(default)]
    pub reservation_number: Option<String>,
    /// Where it came in (`web`, `api`…).
    #[serde(default)]
    pub channel: Option<String>,
    /// The language the client says it is written in.
    #[serde(default)]
    pub language: Option<String>,
    /// Files sent with it.
    #[serde(default)]
    pub attachments: Vec<AttachmentInput>,
}

/// One attachment in a submission, base64-encoded.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttachmentInput {
    /// The file name, for display.
    #[serde(default)]
    pub filename: Option<String>,
    /// The file, base64-encoded.
    #[serde(default)]
    pub content_base64: Option<String>,
}

/// A submission that passed validation. The only way to get one is [`NewInquiry::parse`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewInquiry {
    /// The title, normalised ([`normalize`]: NFC, no zero-width
    /// characters) and trimmed; `None` if blank.
    pub title: Option<String>,
    /// What the customer wrote, normalised as the title is, and trimmed.
    pub content: String,
    /// How to reach the customer.
    pub customer: CustomerContact,
    /// The reservation it is about, if any.
    pub reservation_number: Option<ReservationNumber>,
    /// Where it came in.
    pub channel: Channel,
    /// The language, if the client gave one.
    pub language: Option<Language>,
    /// The attachments, checked.
    pub attachments: Vec<AttachmentUpload>,
}

impl NewInquiry {
    /// Validates every field and reports all problems at once.
    /// `default_channel` applies when the client named none (the REST API
    /// says `api`, an upstream event `event`).
    ///
    /// Every way in (REST, gRPC, chat, upstream events) passes here, so this
    /// is where text is normalised, once: nothing downstream ever sees
    /// decomposed Hangul or zero-width characters, and limits count the
    /// characters as stored.
    pub fn parse(input: SubmitInquiry, default_channel: Channel) -> Result<Self, ValidationErrors> {
        let mut errors = Vec::new();

        let title = input.title.map(|t| normalize(&t).trim().to_owned()).filter(|t| !t.is_empty());
        if title.as_ref().is_some_and(|t| t.chars().count() > MAX_TITLE_CHARS) {
            errors.push(FieldError::new("title", format!("must be at most {MAX_TITLE_CHARS} characters")));
        }

        let content = customer_text("content", input.content.as_deref()).unwrap_or_else(|e| {
            errors.push(e);
            String::new()
        });

        let phone = non_blank(input.customer_phone).and_then(|p| match PhoneNumber::parse(&p) {
            Ok(p) => Some(p),
            Err(e) => {
                errors.push(FieldError::new("customer_phone", e.to_string()));
                None
            }
        });
        let email = non_blank(input.customer_email).and_then(|e| match EmailAddress::parse(&e) {
            Ok(e) => Some(e),
            Err(err) => {
                errors.push(FieldError::new("customer_email", err.to_string()));
                None
            }
        });
        let contact_given = phone.is_some() || email.is_some();
        let contact_attempted = errors.iter().any(|e| e.field.starts_with("customer_"));
        if !contact_given && !contact_attempted {
            errors.push(FieldError::new("customer_phone", "customer_phone or customer_email is required"));
        }

        // Read folded, so a number typed in full-width characters is the same number.
        let reservation_number = non_blank(input.reservation_number).and_then(|r| match ReservationNumber::parse(&fold(&r)) {
            Ok(r) => Some(r),
            Err(e) => {
                errors.push(FieldError::new("reservation_number", e.to_string()));
                None
            }
        });

        let channel = match non_blank(input.channel) {
            None => default_channel,
            Some(c) => Channel::parse(&c).unwrap_or_else(|| {
                errors.push(FieldError::new("channel", "must be one of web, api, chat, event"));
                default_channel
            }),
        };

        let language = client_language(input.language).unwrap_or_else(|e| {
            errors.push(e);
            None
        });

        if input.attachments.len() > MAX_ATTACHMENTS {
            errors.push(FieldError::new("attachments", format!("at most {MAX_ATTACHMENTS} attachments are allowed")));
        }
        let mut attachments = Vec::new();
        for (i, a) in input.attachments.into_iter().enumerate().take(MAX_ATTACHMENTS) {
            match parse_attachment(i, a) {
                Ok(a) => attachments.push(a),
                Err(e) => errors.push(e),
            }
        }

        if !errors.is_empty() {
            return Err(ValidationErrors(errors));
        }
        Ok(Self { title, content, customer: CustomerContact { phone, email }, reservation_number, channel, language, attachments })
    }
}

/// What a customer wrote, as it is stored: [`normalize`]d and trimmed,
/// required, and at most [`MAX_CONTENT_CHARS`] characters as stored. The
/// rule of a submission's `content` and of every later customer message
/// (`crate::message::FollowUp`), so a conversation's texts obey one limit;
/// a failure names `field`.
pub fn customer_text(field: &str, raw: Option<&str>) -> Result<String, FieldError> {
    let text = raw.map(|c| normalize(c).trim().to_owned()).unwrap_or_default();
    let chars = text.chars().count();
    if chars == 0 {
        Err(FieldError::new(field, "is required and must not be blank"))
    } else if chars > MAX_CONTENT_CHARS {
        Err(FieldError::new(field, format!("must be at most {MAX_CONTENT_CHARS} characters")))
    } else {
        Ok(text)
    }
}

/// The language a client says a text is written in: none when blank, else
/// `ko` or `en` (see [`Language::parse`]); a failure names `language`.
pub fn client_language(raw: Option<String>) -> Result<Option<Language>, FieldError> {
    match non_blank(raw) {
        None => Ok(None),
        Some(l) => Language::parse(&l).map(Some).ok_or_else(|| FieldError::new("language", "must be ko or en")),
    }
}

fn non_blank(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

fn parse_attachment(index: usize, input: AttachmentInput) -> Result<AttachmentUpload, FieldError> {
    let field = |name: &str| format!("attachments[{index}].{name}");
    let encoded = non_blank(input.content_base64).ok_or_else(|| FieldError::new(field("content_base64"), "is required"))?;
    // Reject before decoding so a huge body costs no allocation: base64 is 4/3 of the bytes.
    if encoded.len() > (MAX_ATTACHMENT_BYTES / 3 + 1) * 4 + 4 {
        return Err(FieldError::new(
            field("content_base64"),
            format!("attachment is larger than {} MB", MAX_ATTACHMENT_BYTES / (1024 * 1024)),
        ));
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded.as_bytes())
        .map_err(|_| FieldError::new(field("content_base64"), "is not valid base64"))?;
    if bytes.len() > MAX_ATTACHMENT_BYTES {
        return Err(FieldError::new(
            field("content_base64"),
            format!("attachment is larger than {} MB", MAX_ATTACHMENT_BYTES / (1024 * 1024)),
        ));
    }
    let media_type =
        MediaType::detect(&bytes).ok_or_else(|| FieldError::new(field("content_base64"), "must be a JPEG, PNG or PDF file"))?;
    let filename = non_blank(input.filename)
        .map(|f| f.chars().filter(|c| !c.is_control()).take(255).collect())
        .unwrap_or_else(|| format!("attachment-{}.{}", index + 1, media_type.extension()));
    Ok(AttachmentUpload { filename, media_type, bytes })
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::STANDARD;

    fn valid() -> SubmitInquiry {
        SubmitInquiry {
            content: Some("When is breakfast served?".into()),
            customer_phone: Some("+821012345678".into()),
            ..Default::default()
        }
    }

    fn fields(err: ValidationErrors) -> Vec<String> {
        err.0.into_iter().map(|e| e.field).collect()
    }

    #[test]
    fn content_and_one_contact_are_enough() {
        let parsed = NewInquiry::parse(valid(), Channel::Api).unwrap();
        assert_eq!(parsed.content, "When is breakfast served?");
        assert_eq!(parsed.channel, Channel::Api);
    }

    #[test]
    fn decomposed_hangul_and_zero_width_characters_are_stored_normalised() {
        let nfd: String = unicode_normalization::UnicodeNormalization::nfd("체크인 몇 시예요?").collect();
        let input = SubmitInquiry { title: Some(format!("\u{200B}{nfd}")), content: Some(format!("{nfd}\u{FEFF}")), ..valid() };
        let parsed = NewInquiry::parse(input, Channel::Api).unwrap();
        assert_eq!(parsed.title.as_deref(), Some("체크인 몇 시예요?"));
        assert_eq!(parsed.content, "체크인 몇 시예요?");
    }

    #[test]
    fn content_of_only_invisible_characters_is_blank() {
        let input = SubmitInquiry { content: Some("\u{200B}\u{FEFF}".into()), ..valid() };
        assert_eq!(fields(NewInquiry::parse(input, Channel::Api).unwrap_err()), ["content"]);
    }

    #[test]
    fn a_reservation_number_in_full_width_characters_is_the_same_number() {
        let input = SubmitInquiry { reservation_number: Some("ｈｔ－２０４８１１２３".into()), ..valid() };
        let parsed = NewInquiry::parse(input, Channel::Api).unwrap();
        assert_eq!(parsed.reservation_number.unwrap().as_str(), "HT-20481123");
    }

    #[test]
    fn blank_content_is_rejected_by_name() {
        let input = SubmitInquiry { content: Some("   ".into()), ..valid() };
        assert_eq!(fields(NewInquiry::parse(input, Channel::Api).unwrap_err()), ["content"]);
    }

    #[test]
    fn content_over_ten_thousand_characters_is_rejected() {
        let input = SubmitInquiry { content: Some("가".repeat(10_001)), ..valid() };
        assert_eq!(fields(NewInquiry::parse(input, Channel::Api).unwrap_err()), ["content"]);
        let input = SubmitInquiry { content: Some("가".repeat(10_000)), ..valid() };
        assert!(NewInquiry::parse(input, Channel::Api).is_ok());
    }

    #[test]
    fn a_missing_contact_is_reported_once() {
        let input = SubmitInquiry { customer_phone: None, ..valid() };
        assert_eq!(fields(NewInquiry::parse(input, Channel::Api).unwrap_err()), ["customer_phone"]);
    }

    #[test]
    fn every_bad_field_is_reported_together() {
        let input = SubmitInquiry {
            title: Some("t".repeat(201)),
            content: Some(String::new()),
            customer_phone: Some("12".into()),
            reservation_number: Some("nope".into()),
            language: Some("fr".into()),
            channel: Some("fax".into()),
            ..Default::default()
        };
        assert_eq!(
            fields(NewInquiry::parse(input, Channel::Api).unwrap_err()),
            ["title", "content", "customer_phone", "reservation_number", "channel", "language"]
        );
    }

    #[test]
    fn an_attachment_over_five_megabytes_is_rejected() {
        let mut big = vec![0u8; MAX_ATTACHMENT_BYTES + 1];
        big[..3].copy_from_slice(&[0xFF, 0xD8, 0xFF]);
        let input = SubmitInquiry {
            attachments: vec![AttachmentInput { filename: Some("big.jpg".into()), content_base64: Some(STANDARD.encode(big)) }],
            ..valid()
        };
        let err = NewInquiry::parse(input, Channel::Api).unwrap_err();
        assert_eq!(err.0[0].field, "attachments[0].content_base64");
        assert!(err.0[0].reason.contains("5 MB"));
    }

    #[test]
    fn attachments_must_be_jpeg_png_or_pdf_by_content() {
        let input = SubmitInquiry {
            attachments: vec![AttachmentInput { filename: Some("x.jpg".into()), content_base64: Some(STANDARD.encode(b"GIF89a....")) }],
            ..valid()
        };
        let err = NewInquiry::parse(input, Channel::Api).unwrap_err();
        assert!(err.0[0].reason.contains("JPEG, PNG or PDF"));
    }

    #[test]
    fn more_than_five_attachments_are_rejected() {
        let one = AttachmentInput { filename: None, content_base64: Some(STANDARD.encode(b"%PDF-1.4 x")) };
        let input = SubmitInquiry { attachments: vec![one; 6], ..valid() };
        assert_eq!(fields(NewInquiry::parse(input, Channel::Api).unwrap_err()), ["attachments"]);
    }
}
