//! The gRPC API, `switchboard.v1`: `InquiryService`, `ReservationService`,
//! `FaqService`, `WebhookService`, `PartnerService`, plus the standard health service and reflection (so
//! `grpcurl` works without the protos).
//!
//! Every call does what its REST twin does (`ops.rs`): the caller's
//! key comes from the `x-api-key` metadata entry (`authenticated.rs`), the
//! per-address and per-key rate limits apply, and errors carry the standard status codes
//! and `google.rpc` details (`status.rs`). Unary calls are bounded by the
//! client's deadline (`grpc-timeout`) and the server's request timeout
//! (tonic drops the work and answers CANCELLED);
//! `WatchInquiry` ends with DEADLINE_EXCEEDED when the client's deadline
//! passes, and with UNAVAILABLE when the server shuts down.

mod authenticated;
pub(crate) mod convert;
mod faq;
mod sla;
pub mod status;
mod webhooks;

use crate::conversation::{self, GRPC_FIELDS};
use crate::error::ApiError;
use crate::limits::MAX_PARTNER_BODY_BYTES;
use crate::listing;
use crate::ops;
use crate::partner::parse_answer;
use crate::partner_limit::check_partner;
use crate::state::Gateway;
use crate::suggestions;
use authenticated::{Authenticated, caller};
use futures::{Stream, StreamExt};
use std::pin::Pin;
use std::time::Duration;
use switchboard_domain::{Channel, SubmitFollowUp};
use switchboard_proto::v1 as pb;
use switchboard_proto::v1::faq_service_server::FaqServiceServer;
use switchboard_proto::v1::inquiry_service_server::{InquiryService, InquiryServiceServer};
use switchboard_proto::v1::partner_service_server::{PartnerService, PartnerServiceServer};
use switchboard_proto::v1::reservation_service_server::{ReservationService, ReservationServiceServer};
use switchboard_proto::v1::sla_service_server::SlaServiceServer;
use switchboard_proto::v1::webhook_service_server::WebhookServiceServer;
use tonic::{Request, Response, Status};

/// Largest SubmitInquiry message: five 5 MB attachments and the text.
pub const MAX_SUBMIT_MESSAGE_BYTES: usize = 32 * 1024 * 1024;
/// Largest message of every other call.
pub const MAX_SMALL_MESSAGE_BYTES: usize = 64 * 1024;

/// The services, sharing the gateway.
#[derive(Clone)]
pub(crate) struct Services {
    gateway: Gateway,
}

impl Services {
    /// The services over `gateway`.
    pub(crate) fn new(gateway: Gateway) -> Self {
        Self { gateway }
    }

    /// `InquiryService` with its message size limit, authenticated.
    pub(crate) fn inquiry_service(&self) -> Authenticated<InquiryServiceServer<Self>> {
        let server = InquiryServiceServer::new(self.clone()).max_decoding_message_size(MAX_SUBMIT_MESSAGE_BYTES);
        Authenticated::new(server, self.gateway.clone())
    }

    /// `ReservationService` with its message size limit, authenticated.
    pub(crate) fn reservation_service(&self) -> Authenticated<ReservationServiceServer<Self>> {
        let server = ReservationServiceServer::new(self.clone()).max_decoding_message_size(MAX_SMALL_MESSAGE_BYTES);
        Authenticated::new(server, self.gateway.clone())
    }

    /// `FaqService` with its message size limit, authenticated.
    pub(crate) fn faq_service(&self) -> Authenticated<FaqServiceServer<Self>> {
        let server = FaqServiceServer::new(self.clone()).max_decoding_message_size(MAX_SMALL_MESSAGE_BYTES);
        Authenticated::new(server, self.gateway.clone())
    }

    /// `WebhookService` with its message size limit, authenticated.
    pub(crate) fn webhook_service(&self) -> Authenticated<WebhookServiceServer<Self>> {
        let server = WebhookServiceServer::new(self.clone()).max_decoding_message_size(MAX_SMALL_MESSAGE_BYTES);
        Authenticated::new(server, self.gateway.clone())
    }

    /// `SlaService` with its message size limit, authenticated.
    pub(crate) fn sla_service(&self) -> Authenticated<SlaServiceServer<Self>> {
        let server = SlaServiceServer::new(self.clone()).max_decoding_message_size(MAX_SMALL_MESSAGE_BYTES);
        Authenticated::new(server, self.gateway.clone())
    }

    /// `PartnerService` with its message size limit: no API key (the token
    /// is the partner's credential), a per-address limit instead.
    pub(crate) fn partner_service(&self) -> PartnerServiceServer<Self> {
        PartnerServiceServer::new(self.clone()).max_decoding_message_size(MAX_PARTNER_BODY_BYTES)
    }
}

/// The client's deadline, from the `grpc-timeout` header (e.g. `5S`, `250m`).
pub(crate) fn client_timeout(metadata: &tonic::metadata::MetadataMap) -> Option<Duration> {
    let text = metadata.get("grpc-timeout")?.to_str().ok()?;
    if text.len() < 2 || text.len() > 9 {
        return None;
    }
    let (digits, unit) = text.split_at(text.len() - 1);
    let n: u64 = digits.parse().ok()?;
    Some(match unit {
        "H" => Duration::from_secs(n.saturating_mul(3600)),
        "M" => Duration::from_secs(n.saturating_mul(60)),
        "S" => Duration::from_secs(n),
        "m" => Duration::from_millis(n),
        "u" => Duration::from_micros(n),
        "n" => Duration::from_nanos(n),
        _ => return None,
    })
}

type WatchStream = Pin<Box<dyn Stream<Item = Result<pb::TimelineEvent, Status>> + Send>>;

#[tonic::async_trait]
impl InquiryService for Services {
    async fn submit_inquiry(&self, request: Request<pb::SubmitInquiryRequest>) -> Result<Response<pb::SubmitInquiryResponse>, Status> {
        let principal = caller(&request)?;
        let header_key = request.metadata().get("idempotency-key").map(|v| v.to_str().map(str::to_owned));
        let (submission, key) = convert::submit_request(request.into_inner())?;
        let key = ops::idempotency_key(idempotency(key, header_key)?.as_deref(), "idempotency_key")?;
        let accepted = ops::submit(&self.gateway, &principal, submission, key.as_deref(), Channel::Api).await?;
        let id = accepted.inquiry.id;
        Ok(Response::new(pb::SubmitInquiryResponse {
            inquiry_id: id.to_string(),
            status: convert::status(accepted.inquiry.status) as i32,
            status_url: format!("/api/inquiries/{id}/status"),
            duplicate: accepted.duplicate,
        }))
    }

    async fn get_inquiry(&self, request: Request<pb::GetInquiryRequest>) -> Result<Response<pb::Inquiry>, Status> {
        let principal = caller(&request)?;
        let (inquiry, timeline) = ops::detail(&self.gateway, &principal, &request.get_ref().inquiry_id, "inquiry_id").await?;
        let summary = conversation::summary(&self.gateway, &inquiry).await?;
        Ok(Response::new(convert::inquiry_detail(inquiry, timeline, summary)))
    }

    async fn get_inquiry_status(&self, request: Request<pb::GetInquiryStatusRequest>) -> Result<Response<pb::InquiryStatusView>, Status> {
        let principal = caller(&request)?;
        let report = ops::status(&self.gateway, &principal, &request.get_ref().inquiry_id, "inquiry_id").await?;
        Ok(Response::new(convert::status_view(report)))
    }

    async fn list_inquiries(&self, request: Request<pb::ListInquiriesRequest>) -> Result<Response<pb::ListInquiriesResponse>, Status> {
        let principal = caller(&request)?;
        let query = convert::list_params(request.into_inner()).parse()?;
        let page = listing::list(self.gateway.inquiries.as_ref(), &principal, query).await?;
        Ok(Response::new(pb::ListInquiriesResponse {
            inquiries: page.inquiries.into_iter().map(|i| convert::inquiry(i, vec![])).collect(),
            next_page_token: page.next_page_token.unwrap_or_default(),
        }))
    }

    type WatchInquiryStream = WatchStream;

    async fn watch_inquiry(&self, request: Request<pb::WatchInquiryRequest>) -> Result<Response<Self::WatchInquiryStream>, Status> {
        let principal = caller(&request)?;
        let deadline = client_timeout(request.metadata()).map(|d| tokio::time::Instant::now() + d);
        let inquiry = ops::load(&self.gateway, &principal, &request.get_ref().inquiry_id, "inquiry_id").await?;
        let slot = self.gateway.api.stream_slot(&principal.actor())?;
        let stream = crate::watch::watch(self.gateway.clone(), inquiry.id, deadline, slot)
            .map(|item| item.map(convert::watched).map_err(Status::from));
        Ok(Response::new(Box::pin(stream)))
    }

    async fn escalate_inquiry(&self, request: Request<pb::EscalateInquiryRequest>) -> Result<Response<pb::Inquiry>, Status> {
        let principal = caller(&request)?;
        let r = request.into_inner();
        let reason = (!r.reason.trim().is_empty()).then_some(r.reason.as_str());
        let inquiry = ops::escalate(&self.gateway, &principal, &r.inquiry_id, reason, "inquiry_id").await?;
        Ok(Response::new(convert::inquiry(inquiry, vec![])))
    }

    async fn resolve_inquiry(&self, request: Request<pb::ResolveInquiryRequest>) -> Result<Response<pb::Inquiry>, Status> {
        let principal = caller(&request)?;
        let r = request.into_inner();
        let feedback = crate::feedback::FeedbackInput {
            corrected_intent: Some(r.corrected_intent),
            corrected_urgency: Some(r.corrected_urgency),
            faq_entry_id: Some(r.faq_entry_id),
            save_as_faq: r.save_as_faq,
            faq_answer: Some(r.faq_answer),
            suggestion_used: Some(r.suggestion_used),
        };
        let inquiry = ops::resolve(&self.gateway, &principal, &r.inquiry_id, Some(&r.human_answer), &feedback, "inquiry_id").await?;
        Ok(Response::new(convert::inquiry(inquiry, vec![])))
    }

    async fn add_message(&self, request: Request<pb::AddMessageRequest>) -> Result<Response<pb::AddMessageResponse>, Status> {
        let principal = caller(&request)?;
        let header_key = request.metadata().get("idempotency-key").map(|v| v.to_str().map(str::to_owned));
        let r = request.into_inner();
        let key = idempotency(convert::non_empty(r.idempotency_key), header_key)?;
        let input = SubmitFollowUp { text: Some(r.text), language: convert::non_empty(r.language) };
        let added = conversation::add(&self.gateway, &principal, &r.inquiry_id, input, key.as_deref(), &GRPC_FIELDS).await?;
        Ok(Response::new(pb::AddMessageResponse { message: Some(convert::message(added.message)), duplicate: added.duplicate }))
    }

    async fn list_messages(&self, request: Request<pb::ListMessagesRequest>) -> Result<Response<pb::ListMessagesResponse>, Status> {
        let principal = caller(&request)?;
        let r = request.into_inner();
        let limit = (r.page_size != 0).then_some(r.page_size);
        let page =
            conversation::list(&self.gateway, &principal, &r.inquiry_id, limit, convert::non_empty(r.page_token), &GRPC_FIELDS).await?;
        Ok(Response::new(pb::ListMessagesResponse {
            messages: page.items.into_iter().map(convert::message).collect(),
            next_page_token: page.next.unwrap_or_default(),
        }))
    }

    async fn get_suggestions(&self, request: Request<pb::GetSuggestionsRequest>) -> Result<Response<pb::GetSuggestionsResponse>, Status> {
        let principal = caller(&request)?;
        let r = request.into_inner();
        let drafts = suggestions::suggest(&self.gateway, &principal, &r.inquiry_id, "inquiry_id").await?;
        Ok(Response::new(convert::suggestions(drafts)))
    }
}

/// The idempotency key of a call: the request field's, else the
/// `idempotency-key` metadata entry's (which must be visible ASCII).
fn idempotency(
    field: Option<String>,
    metadata: Option<Result<String, tonic::metadata::errors::ToStrError>>,
) -> Result<Option<String>, ApiError> {
    match (field, metadata) {
        (Some(k), _) => Ok(Some(k)),
        (None, Some(Ok(k))) => Ok(Some(k)),
        (None, Some(Err(_))) => Err(ApiError::field("idempotency_key", "must be visible ASCII")),
        (None, None) => Ok(None),
    }
}

#[tonic::async_trait]
impl ReservationService for Services {
    async fn put_reservation(&self, request: Request<pb::PutReservationRequest>) -> Result<Response<pb::Reservation>, Status> {
        let principal = caller(&request)?;
        let input = convert::reservation_input(request.into_inner().reservation);
        let stored = ops::put_reservation(&self.gateway, &principal, input).await?;
        Ok(Response::new(convert::reservation(stored.into())))
    }
}

impl Services {
    /// Counts a partner call from its client (behind trusted proxies, the
    /// forwarded address) for the link `token`.
    fn partner_limit<T>(&self, request: &Request<T>, token: &str) -> Result<(), Status> {
        let proxies = &self.gateway.api.settings().trusted_proxies;
        let client = request.remote_addr().map(|peer| proxies.client(peer.ip(), &request.metadata().clone().into_headers()));
        let token = Some(token.trim()).filter(|t| !t.is_empty());
        check_partner(&self.gateway, client, token).map_err(|limited| ApiError::from(limited).into())
    }
}

#[tonic::async_trait]
impl PartnerService for Services {
    async fn get_confirmation(&self, request: Request<pb::GetConfirmationRequest>) -> Result<Response<pb::Confirmation>, Status> {
        self.partner_limit(&request, &request.get_ref().token)?;
        let token = request.into_inner().token;
        if token.trim().is_empty() {
            return Err(ApiError::field("token", "is required").into());
        }
        let view = self.gateway.dispatcher.open(token.trim()).await.map_err(ApiError::from)?;
        Ok(Response::new(convert::confirmation(view)))
    }

    async fn respond_confirmation(&self, request: Request<pb::RespondConfirmationRequest>) -> Result<Response<pb::Confirmation>, Status> {
        self.partner_limit(&request, &request.get_ref().token)?;
        let r = request.into_inner();
        if r.token.trim().is_empty() {
            return Err(ApiError::field("token", "is required").into());
        }
        let answer = match pb::PartnerAnswer::try_from(r.answer) {
            Ok(pb::PartnerAnswer::Accept) => Some("accept"),
            Ok(pb::PartnerAnswer::Reject) => Some("reject"),
            Ok(pb::PartnerAnswer::Alternative) => Some("alternative"),
            Ok(pb::PartnerAnswer::Unspecified) => None,
            Err(_) => Some("unknown"),
        };
        let reason = (!r.reason.trim().is_empty()).then_some(r.reason);
        let proposed = (!r.proposed_time.trim().is_empty()).then_some(r.proposed_time);
        let answer = parse_answer(answer, reason, proposed)?;
        let view = self.gateway.dispatcher.respond(r.token.trim(), answer).await.map_err(ApiError::from)?;
        Ok(Response::new(convert::confirmation(view)))
    }
}
