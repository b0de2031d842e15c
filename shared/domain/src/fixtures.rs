//! Test fixtures shared by every crate's tests: one way to build a valid
//! [`Inquiry`] without spelling out all of its fields.
//!
//! ```
//! use switchboard_domain::fixtures::InquiryBuilder;
//! use switchboard_domain::InquiryStatus;
//!
//! let inquiry = InquiryBuilder::new().content("Is there parking?").status(InquiryStatus::Classified).build();
//! assert_eq!(inquiry.content, "Is there parking?");
//! ```

use crate::{
    Channel, Classification, CustomerContact, Inquiry, InquiryId, InquiryStatus, Intent, Language, PhoneNumber, ReservationNumber,
    Sentiment, TenantId, Urgency,
};
use jiff::Timestamp;

/// Builds an [`Inquiry`]: by default a freshly received API inquiry of
/// tenant `demo`, saying "hello", from `+821012345678`, created at
/// 2023-11-14T22:13:20Z (second 1,700,000,000), version 1.
#[derive(Debug, Clone)]
pub struct InquiryBuilder {
    inquiry: Inquiry,
}

impl Default for InquiryBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl InquiryBuilder {
    /// The default inquiry described on the type.
    pub fn new() -> Self {
        let now = Timestamp::from_second(1_700_000_000).unwrap_or(Timestamp::UNIX_EPOCH);
        Self {
            inquiry: Inquiry {
                id: InquiryId::new(now, [1; 10]),
                tenant_id: TenantId::from_valid("demo"),
                customer: CustomerContact { phone: PhoneNumber::parse("+821012345678").ok(), email: None },
                channel: Channel::Api,
                title: None,
                content: "hello".into(),
                language: None,
                reservation_number: None,
                attachment_count: 0,
                classification: None,
                status: InquiryStatus::Received,
                status_reason: None,
                version: 1,
                partner: None,
                answer: None,
                escalation: None,
                human_answer: None,
                follow_up: None,
                customer_question: None,
                sla: None,
                created_at: now,
                updated_at: now,
            },
        }
    }

    /// Created (and last updated) at `at`; the id is re-minted from `at` and
    /// `seed`, so inquiries built with distinct times or seeds differ.
    pub fn created_at(mut self, at: Timestamp, seed: u8) -> Self {
        self.inquiry.id = InquiryId::new(at, [seed; 10]);
        self.inquiry.created_at = at;
        self.inquiry.updated_at = at;
        self
    }

    /// Belongs to `tenant`.
    pub fn tenant(mut self, tenant: TenantId) -> Self {
        self.inquiry.tenant_id = tenant;
        self
    }

    /// Says `content`.
    pub fn content(mut self, content: &str) -> Self {
        self.inquiry.content = content.to_owned();
        self
    }

    /// Has the title `title`.
    pub fn title(mut self, title: &str) -> Self {
        self.inquiry.title = Some(title.to_owned());
        self
    }

    /// Written in `language`, as the client said.
    pub fn language(mut self, language: Language) -> Self {
        self.inquiry.language = Some(language);
        self
    }

    /// From the customer whose phone is `phone` (`None`: no phone, e-mail
    /// `customer@example.com` instead, since a customer needs one of them).
    pub fn phone(mut self, phone: Option<PhoneNumber>) -> Self {
        if phone.is_none() {
            self.inquiry.customer.email = crate::EmailAddress::parse("customer@example.com").ok();
        }
        self.inquiry.customer.phone = phone;
        self
    }

    /// Names reservation `number`.
    pub fn reservation(mut self, number: ReservationNumber) -> Self {
        self.inquiry.reservation_number = Some(number);
        self
    }

    /// Is in `status`.
    pub fn status(mut self, status: InquiryStatus) -> Self {
        self.inquiry.status = status;
        self
    }

    /// Carries `classification`.
    pub fn classification(mut self, classification: Classification) -> Self {
        self.inquiry.classification = Some(classification);
        self
    }

    /// The inquiry.
    pub fn build(self) -> Inquiry {
        self.inquiry
    }
}

/// A classification of `intent` in `language`: low urgency, neutral, no
/// reservation number, no certainty, engine `test`. Change fields with
/// struct update syntax.
pub fn classification(language: Language, intent: Intent) -> Classification {
    Classification {
        language,
        intent,
        urgency: Urgency::Low,
        sentiment: Sentiment::Neutral,
        reservation_number: None,
        key_phrases: vec![],
        pii: vec![],
        engine: "test".into(),
        certainty: None,
        unsure: None,
    }
}

/// The longest public base URL the text messages' segment budgets are
/// counted with (40 characters): a real one longer than this makes every
/// text with a link longer too.
pub const LONG_PUBLIC_BASE_URL: &str = "https://inquiries.hanbitstay-tours.co.kr";

/// The longest reservation number [`crate::ReservationNumber::parse`]
/// accepts (4 letters, a hyphen, 12 digits).
pub const LONGEST_RESERVATION_NUMBER: &str = "ABCD-123456789012";

/// The longest customer link texted: [`LONG_PUBLIC_BASE_URL`], `/c/` and a
/// compact token ([`crate::customer_link::COMPACT_CUSTOMER_TOKEN_CHARS`]).
pub fn longest_customer_link() -> String {
    let token = "A".repeat(crate::customer_link::COMPACT_CUSTOMER_TOKEN_CHARS);
    format!("{LONG_PUBLIC_BASE_URL}{}", crate::customer_link::customer_page_path(&token))
}
