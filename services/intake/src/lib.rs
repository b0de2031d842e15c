//! Intake: the front door of the pipeline.
//!
//! [`Intake::submit`] is called in-process by the gateway; [`Intake`] also
//! handles the intake queue, where upstream systems put `inquiry.submitted`
//! CloudEvents. Both paths validate, dedupe on an idempotency key (the
//! client's `Idempotency-Key`, or the event id), store the inquiry as
//! `received` and publish `inquiry.received`. Upstream systems also put a
//! customer's follow-up there (`inquiry.message_received`, see
//! `upstream_message.rs`), stored as the API stores one, and a two-way SMS
//! number's SNS topic puts customers' text messages there
//! (`inbound_sms.rs`), which join the sender's newest open inquiry.

use async_trait::async_trait;
use serde_json::json;
use std::sync::Arc;
use switchboard_domain::{
    Channel, EventType, Inquiry, InquiryId, InquiryStatus, NewInquiry, Service, SubmitInquiry, TenantId, TimelineEvent, ValidationErrors,
};
use switchboard_messaging::{MessagingError, ReceivedMessage, events};
use switchboard_pipeline::{Clock, OrRetry, Relay, SystemClock};
use switchboard_store::blob::BlobStore;
use switchboard_store::{AttachmentRecord, Created, InquiryStore, StoreError, TenantStore};
use switchboard_worker::{Handler, Outcome};
use tracing::{Instrument, info, warn};

pub mod attachments;
mod inbound_sms;
mod sms_policy;
mod upstream_message;

pub use inbound_sms::{InboundNumbersError, InboundSmsNumbers};
use sms_policy::Refused;
pub use sms_policy::SmsPolicy;

/// The `inquiry.received` event of an inquiry (defined with the pipeline,
/// whose sweeper announces it again for an inquiry that stopped moving).
pub use switchboard_pipeline::received_event;

/// Why a submission was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    #[error(transparent)]
    Invalid(#[from] ValidationErrors),
    #[error("unknown tenant {0}")]
    UnknownTenant(String),
    /// Storage or messaging is down; nothing was accepted.
    #[error("a dependency is unavailable: {0}")]
    Unavailable(String),
    /// The tenant used its hourly quota of submissions that text
    /// (`sms_policy.rs`); worth retrying after `retry_after`.
    #[error("the tenant's quota of {per_hour} texted submissions an hour is used up")]
    SmsQuota { per_hour: u32, retry_after: std::time::Duration },
}

impl From<StoreError> for SubmitError {
    fn from(e: StoreError) -> Self {
        Self::Unavailable(e.to_string())
    }
}

impl From<MessagingError> for SubmitError {
    fn from(e: MessagingError) -> Self {
        Self::Unavailable(e.to_string())
    }
}

/// An accepted submission.
#[derive(Debug, Clone, PartialEq)]
pub struct Accepted {
    pub inquiry: Inquiry,
    /// The idempotency key had been used: this is the earlier inquiry.
    pub duplicate: bool,
}

/// The intake service.
#[derive(Clone)]
pub struct Intake {
    inquiries: Arc<dyn InquiryStore>,
    tenants: Arc<dyn TenantStore>,
    blobs: Arc<dyn BlobStore>,
    /// Publishes `inquiry.received` from the outbox it is stored in.
    relay: Relay,
    /// Stamps new inquiries (and their time-ordered ids).
    clock: Arc<dyn Clock>,
    /// Where and how much submissions may text.
    sms: SmsPolicy,
    /// Which tenant each two-way SMS number belongs to.
    inbound_numbers: InboundSmsNumbers,
}

impl Intake {
    /// Intake on the system clock; [`Self::with_clock`] changes it. The
    /// relay publishes from `inquiries`' outbox.
    pub fn new(inquiries: Arc<dyn InquiryStore>, tenants: Arc<dyn TenantStore>, blobs: Arc<dyn BlobStore>, relay: Relay) -> Self {
        Self {
            inquiries,
            tenants,
            blobs,
            relay,
            clock: Arc::new(SystemClock),
            sms: SmsPolicy::default(),
            inbound_numbers: InboundSmsNumbers::default(),
        }
    }

    /// The same intake texting only as `sms` allows.
    pub fn with_sms_policy(self, sms: SmsPolicy) -> Self {
        Self { sms, ..self }
    }

    /// The same intake taking customers' text messages sent to `numbers`
    /// (none by default: every inbound text is dead-lettered).
    pub fn with_inbound_sms_numbers(self, numbers: InboundSmsNumbers) -> Self {
        Self { inbound_numbers: numbers, ..self }
    }

    /// The same intake acting by `clock`.
    pub fn with_clock(self, clock: Arc<dyn Clock>) -> Self {
        Self { clock, ..self }
    }

    /// Validates and stores a submission with its `inquiry.received` event
    /// in the outbox (one transaction), then publishes the event. Once
    /// stored it is accepted: a failed publish is left to the outbox relay.
    /// Nothing is written or published for invalid input. Safe to repeat
    /// with the same idempotency key: the first inquiry is returned (and
    /// announced again if it had not moved on).
    ///
    /// Runs in a span of the intake service: the gateway calls this
    /// in-process, and the trace shows intake as its own step.
    pub async fn submit(
        &self,
        tenant_id: &TenantId,
        request: SubmitInquiry,
        idempotency_key: Option<&str>,
        default_channel: Channel,
    ) -> Result<Accepted, SubmitError> {
        let span = tracing::info_span!(
            "intake submit",
            otel.kind = "internal",
            otel.status_code = tracing::field::Empty,
            switchboard.inquiry_id = tracing::field::Empty,
            error.type = tracing::field::Empty,
        );
        switchboard_telemetry::in_service(&span, Service::Intake.name(), None);
        let submitted = self.submit_in_span(tenant_id, request, idempotency_key, default_channel).instrument(span.clone()).await;
        match &submitted {
            Ok(accepted) => {
                span.record(switchboard_telemetry::INQUIRY_ATTRIBUTE, tracing::field::display(accepted.inquiry.id));
            }
            Err(e) => {
                let kind = match e {
                    SubmitError::Invalid(_) => "invalid",
                    SubmitError::UnknownTenant(_) => "unknown_tenant",
                    SubmitError::Unavailable(_) => "unavailable",
                    SubmitError::SmsQuota { .. } => "sms_quota",
                };
                span.record("error.type", kind);
                span.record("otel.status_code", "error");
            }
        }
        submitted
    }

    async fn submit_in_span(
        &self,
        tenant_id: &TenantId,
        request: SubmitInquiry,
        idempotency_key: Option<&str>,
        default_channel: Channel,
    ) -> Result<Accepted, SubmitError> {
        let new = NewInquiry::parse(request, default_channel)?;
        // A repeat is answered before anything is stored: its attachments
        // would belong to no inquiry.
        if let Some(key) = idempotency_key
            && let Some(existing) = self.inquiries.claimed_inquiry(tenant_id, key).await?
        {
            return self.accepted(existing, true).await;
        }
        // Counted after the repeat check: a retried submission costs no more texts.
        if let Some(phone) = &new.customer.phone {
            self.sms.admit(tenant_id, phone).map_err(|refused| match refused {
                Refused::Country(why) => SubmitError::Invalid(ValidationErrors::single("customer_phone", why)),
                Refused::Quota { per_hour, wait } => SubmitError::SmsQuota { per_hour, retry_after: wait },
            })?;
        }
        let now = self.clock.now();
        let inquiry = Inquiry::received(InquiryId::new(now, rand::random()), tenant_id.clone(), &new, now);

        // Bodies first, keyed by the new id: if the inquiry is then not
        // created (a crash, or a concurrent submission with the same key
        // won) they are unreferenced, never missing, and
        // `attachments::sweep` collects them.
        for (index, upload) in new.attachments.iter().enumerate() {
            let object_key = attachments::key(inquiry.id, index, upload.media_type);
            self.blobs.put(&object_key, &upload.bytes, upload.media_type.as_str()).await?;
            let record = AttachmentRecord {
                inquiry_id: inquiry.id,
                index: index as u32,
                object_key,
                filename: upload.filename.clone(),
                media_type: upload.media_type,
                size: upload.bytes.len() as u64,
                analysis: None,
            };
            self.inquiries.put_attachment(&record).await?;
        }

        let details = json!({ "channel": inquiry.channel.as_str(), "attachments": inquiry.attachment_count });
        let event = TimelineEvent::once("status.received", Service::Intake.name(), now, details);
        match self.inquiries.create_inquiry(&inquiry, idempotency_key, &event, &[received_event(&inquiry)]).await? {
            Created::New(i) => self.accepted(i, false).await,
            Created::Existing(i) => self.accepted(i, true).await,
        }
    }

    /// Announces an accepted inquiry: a new one, or a repeat's that has not
    /// moved on (its first announcement may still be in the outbox).
    async fn accepted(&self, inquiry: Inquiry, duplicate: bool) -> Result<Accepted, SubmitError> {
        if (!duplicate || inquiry.status == InquiryStatus::Received)
            && let Err(e) = self.relay.deliver(&[received_event(&inquiry)]).await
        {
            warn!(inquiry_id = %inquiry.id, error = %e, "inquiry.received left to the outbox relay");
        }
        info!(inquiry_id = %inquiry.id, tenant_id = %inquiry.tenant_id, duplicate, "inquiry accepted");
        Ok(Accepted { inquiry, duplicate })
    }
}

/// The outcome of an upstream submission: a submission that is invalid or
/// names an unknown tenant will never be accepted; an unavailable
/// dependency passes.
impl From<SubmitError> for Outcome {
    fn from(e: SubmitError) -> Self {
        match e {
            SubmitError::Invalid(_) | SubmitError::UnknownTenant(_) => Outcome::reject(e),
            SubmitError::Unavailable(_) | SubmitError::SmsQuota { .. } => Outcome::retry(e),
        }
    }
}

impl Intake {
    /// Accepts an upstream `inquiry.submitted` event from the intake queue,
    /// keyed by its event id, as [`Self::submit`] does; an
    /// `inquiry.message_received` event or a customer's inbound text
    /// message joins an inquiry's conversation.
    pub async fn try_handle(&self, message: &ReceivedMessage) -> Result<(), Outcome> {
        if inbound_sms::recognised(&message.body) {
            return self.inbound_sms(&message.body).await;
        }
        let event = events::parse(message).map_err(Outcome::reject)?;
        let kind = event.kind();
        if !matches!(kind, Some(EventType::InquirySubmitted | EventType::MessageReceived)) {
            return Err(Outcome::reject(format!("event type {:?} is not inquiry.submitted or inquiry.message_received", event.event_type)));
        }
        let tenant = event.data.get("tenant_id").and_then(|t| t.as_str()).map(str::to_owned).or_else(|| event.tenantid.clone());
        let tenant = tenant.ok_or_else(|| Outcome::reject("data.tenant_id is required"))?;
        let tenant_id = TenantId::parse(&tenant).map_err(|_| Outcome::reject("data.tenant_id is not a valid tenant id"))?;
        if self.tenants.get_tenant(&tenant_id).await.or_retry()?.is_none() {
            return Err(Outcome::reject(format!("unknown tenant {tenant_id}")));
        }
        if kind == Some(EventType::MessageReceived) {
            return self.upstream_message(&tenant_id, &event).await;
        }
        // The reason names the field that does not fit, never its value:
        // it is logged, put on the span and kept with the dead letter.
        let request: SubmitInquiry =
            events::data(&event).map_err(|e| Outcome::reject(format!("data is not an inquiry submission: {e}")))?;
        let key = format!("event:{}", event.id);
        match self.submit(&tenant_id, request, Some(&key), Channel::Event).await {
            Ok(_) => Ok(()),
            Err(e) => {
                if matches!(e, SubmitError::Unavailable(_)) {
                    warn!(error = %e, "upstream submission will be retried");
                }
                Err(e.into())
            }
        }
    }
}

/// Upstream events and inbound text messages on the intake queue.
#[async_trait]
impl Handler for Intake {
    async fn handle(&self, message: &ReceivedMessage) -> Outcome {
        Outcome::of(self.try_handle(message).await)
    }
}

#[cfg(test)]
mod tests;
