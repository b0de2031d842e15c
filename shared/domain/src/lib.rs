//! Switchboard's domain: the vocabulary every service shares.
//!
//! Everything here is pure: no async, no I/O, no clock. Callers pass the
//! current time in. Input enters only through `parse` functions, so a value
//! of a domain type is valid by construction.

#![warn(missing_docs)]

pub mod attachment;
pub mod classification;
pub mod contact;
pub mod correction;
pub mod customer_link;
pub mod event;
pub mod faq;
pub mod field_error;
pub mod fixtures;
pub mod inquiry;
pub mod message;
pub mod partner;
pub mod pii;
pub mod reentry;
pub mod reservation;
pub mod routing;
pub mod satisfaction;
pub mod sla;
pub mod sms_countries;
pub mod sms_segments;
pub mod status;
pub mod submission;
pub mod suggestion;
pub mod tenant;
pub mod text;
pub mod timeline;
pub mod token;
pub mod verification;
pub mod webhook;

pub use attachment::{AttachmentUpload, MediaType};
pub use classification::{Certainty, Classification, Intent, Language, PiiSpan, Sentiment, TextField, UNSURE, Urgency};
pub use contact::{CustomerContact, EmailAddress, PhoneNumber};
pub use correction::Correction;
pub use customer_link::{CustomerClaims, CustomerGrant, CustomerLinks};
pub use event::{CloudEvent, EventType, RoutingAttributes};
pub use faq::{FaqEditError, FaqEntry, FaqEntryChange, FaqEntryId, FaqEntryInput};
pub use field_error::{FieldError, ValidationErrors};
pub use inquiry::{Channel, Escalation, Inquiry, InquiryId};
pub use message::{Author, FollowUp, Message, MessageChannel, SentimentTrend, SubmitFollowUp};
pub use partner::{PartnerAnswer, PartnerOutcome, PartnerRequest, PartnerStep, refuses_partner_answers};
pub use reentry::{FollowUpRound, Verdict};
pub use reservation::{Reservation, ReservationInput, ReservationNumber};
pub use routing::{FilterPolicy, Service};
pub use satisfaction::{AnsweredBy, Rating, Satisfaction};
pub use sla::{Sla, SlaPolicy, SlaPolicyInput, SlaState};
pub use sms_countries::SmsCountries;
pub use sms_segments::{SmsEncoding, SmsSize, sms_segments, sms_size};
pub use status::{InquiryStatus, TransitionError};
pub use submission::{NewInquiry, SubmitInquiry};
pub use suggestion::{Grounding, RiskLevel, Suggestion, Suggestions};
pub use tenant::{Tenant, TenantId};
pub use timeline::TimelineEvent;
pub use verification::{CustomerQuestion, Unverified};
