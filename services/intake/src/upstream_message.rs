//! An upstream system's `inquiry.message_received`: a customer's follow-up
//! to an inquiry the system knows the id of (data: `tenant_id`,
//! `inquiry_id`, `text`, optional `language`). It is checked with the API's
//! rules, keyed by the event id (a redelivered event stores one message)
//! and stored and announced as the API stores a follow-up
//! (`switchboard_pipeline::follow_up`), channel `upstream`. It is not
//! classified here (intake has no classifier): the API's follow-ups are,
//! within a budget, and are stored unclassified past it, as these are.

use crate::Intake;
use serde::Deserialize;
use switchboard_domain::{CloudEvent, FollowUp, InquiryId, InquiryStatus, Message, MessageChannel, SubmitFollowUp, TenantId};
use switchboard_messaging::events;
use switchboard_pipeline::OrRetry;
use switchboard_pipeline::follow_up::append_follow_up;
use switchboard_worker::Outcome;

/// The CloudEvents source of the follow-up's announcement.
const SOURCE: &str = "switchboard/intake";

/// The event's data.
#[derive(Debug, Deserialize)]
struct UpstreamMessage {
    inquiry_id: String,
    #[serde(flatten)]
    follow_up: SubmitFollowUp,
}

impl Intake {
    /// Stores the follow-up of `event`, for an inquiry of `tenant`.
    pub(crate) async fn upstream_message(&self, tenant: &TenantId, event: &CloudEvent) -> Result<(), Outcome> {
        let data: UpstreamMessage = events::data(event).map_err(|e| Outcome::reject(format!("data is not a follow-up: {e}")))?;
        let id = InquiryId::parse(&data.inquiry_id).map_err(|_| Outcome::reject("data.inquiry_id is not an inquiry id"))?;
        // Another tenant's inquiry is as unknown as one that does not exist.
        let inquiry = self
            .inquiries
            .get_inquiry(id)
            .await
            .or_retry()?
            .filter(|i| i.tenant_id == *tenant)
            .ok_or_else(|| Outcome::reject(format!("inquiry {id} not found for tenant {tenant}")))?;
        let follow_up = FollowUp::parse(data.follow_up).map_err(|e| Outcome::reject(format!("data is not a follow-up: {e}")))?;
        if inquiry.status == InquiryStatus::Failed {
            return Err(Outcome::reject(format!("inquiry {id} failed: it takes no follow-up")));
        }
        let now = self.clock.now();
        let message = Message::follow_up(inquiry.id, &format!("event:{}", event.id), follow_up, MessageChannel::Upstream, now);
        append_follow_up(self.inquiries.as_ref(), &self.relay, &inquiry, &message, SOURCE, now).await.or_retry()?;
        Ok(())
    }
}
