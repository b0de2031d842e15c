//! The two ways the generator talks to Switchboard: REST (`/api/...`,
//! `/confirm`, `/respond`) and gRPC (`switchboard.v1.InquiryService` and
//! `PartnerService`). Both do the same four things with the same plans, so
//! a run over either measures the same work.

use crate::mix::Plan;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;
use serde_json::{Value, json};
use std::time::Duration;
use switchboard_proto::v1 as pb;
use tonic::metadata::{Ascii, MetadataValue};
use tonic::transport::Channel;

/// An inquiry's status as the generator needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct Status {
    /// Lower-case, as in the REST API: `received`, `awaiting_partner`, `answered`, …
    pub status: String,
    pub terminal: bool,
    /// When the status last changed (the server's clock).
    pub updated_at: jiff::Timestamp,
}

/// How a partner call went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartnerStep {
    Done,
    /// The request was already settled (answered, or its deadline passed).
    Late,
    Failed,
}

/// A Switchboard API client.
// One per run, held in the run's shared state: boxing the larger gRPC
// variant would save no memory worth an indirection.
#[allow(clippy::large_enum_variant)]
#[derive(Clone)]
pub enum Api {
    Rest {
        http: reqwest::Client,
        base: String,
        key: String,
    },
    Grpc {
        inquiries: pb::inquiry_service_client::InquiryServiceClient<Channel>,
        partner: pb::partner_service_client::PartnerServiceClient<Channel>,
        key: MetadataValue<Ascii>,
    },
}

/// `GET /api/inquiries/{id}/status`, the fields the generator needs.
#[derive(Debug, Deserialize)]
struct RestStatus {
    status: String,
    terminal: bool,
    updated_at: jiff::Timestamp,
}

impl Api {
    /// A REST client of the gateway at `base` (no trailing slash).
    pub fn rest(base: &str, key: &str, timeout: Duration) -> Result<Self, String> {
        let http =
            reqwest::Client::builder().timeout(timeout).pool_idle_timeout(Duration::from_secs(30)).build().map_err(|e| e.to_string())?;
        Ok(Self::Rest { http, base: base.to_owned(), key: key.to_owned() })
    }

    /// A gRPC client of the gateway at `uri` (`http://host:port`): one
    /// HTTP/2 connection, calls multiplexed on it.
    pub async fn grpc(uri: &str, key: &str, timeout: Duration) -> Result<Self, String> {
        let channel = Channel::from_shared(uri.to_owned())
            .map_err(|e| e.to_string())?
            .timeout(timeout)
            .connect_timeout(Duration::from_secs(5))
            .connect()
            .await
            .map_err(|e| format!("cannot connect to {uri}: {e}"))?;
        let key = key.parse().map_err(|_| "the API key is not valid gRPC metadata".to_owned())?;
        Ok(Self::Grpc {
            inquiries: pb::inquiry_service_client::InquiryServiceClient::new(channel.clone()),
            partner: pb::partner_service_client::PartnerServiceClient::new(channel),
            key,
        })
    }

    /// Which protocol, for the report.
    pub fn protocol(&self) -> &'static str {
        match self {
            Self::Rest { .. } => "rest",
            Self::Grpc { .. } => "grpc",
        }
    }

    /// Checks the server answers before the run starts.
    pub async fn ready(&self) -> Result<(), String> {
        match self {
            Self::Rest { http, base, .. } => match http.get(format!("{base}/readyz")).send().await {
                Ok(r) if r.status().is_success() => Ok(()),
                Ok(r) => Err(format!("GET /readyz answered {}", r.status())),
                Err(e) => Err(e.to_string()),
            },
            // Connecting succeeded; an unknown id proves the service answers.
            Self::Grpc { inquiries, key, .. } => {
                let mut request = tonic::Request::new(pb::GetInquiryStatusRequest { inquiry_id: "not-an-id".into() });
                request.metadata_mut().insert("x-api-key", key.clone());
                match inquiries.clone().get_inquiry_status(request).await {
                    Ok(_) => Ok(()),
                    Err(s) if matches!(s.code(), tonic::Code::InvalidArgument | tonic::Code::NotFound) => Ok(()),
                    Err(s) => Err(format!("GetInquiryStatus answered {:?}: {}", s.code(), s.message())),
                }
            }
        }
    }

    /// Submits `plan`; the new inquiry's id, or why it was not taken.
    pub async fn submit(&self, plan: &Plan) -> Result<String, Refusal> {
        match self {
            Self::Rest { http, base, key } => {
                let mut request = http.post(format!("{base}/api/inquiries")).header("x-api-key", key).json(&plan.body);
                if let Some(k) = &plan.idempotency_key {
                    request = request.header("idempotency-key", k);
                }
                let body: Value = match request.send().await {
                    Ok(r) if r.status() == reqwest::StatusCode::ACCEPTED => r.json().await.map_err(|_| Refusal::error("bad_body"))?,
                    Ok(r) => return Err(rest_refusal(&r)),
                    Err(e) => return Err(Refusal::error(transport_error(&e))),
                };
                body["inquiry_id"].as_str().map(str::to_owned).ok_or_else(|| Refusal::error("bad_body"))
            }
            Self::Grpc { inquiries, key, .. } => {
                let mut request = tonic::Request::new(submit_request(plan).map_err(Refusal::Error)?);
                request.metadata_mut().insert("x-api-key", key.clone());
                match inquiries.clone().submit_inquiry(request).await {
                    Ok(r) => Ok(r.into_inner().inquiry_id),
                    Err(s) => Err(grpc_refusal(&s)),
                }
            }
        }
    }

    /// The inquiry's status; `None` when the call failed.
    pub async fn status(&self, id: &str) -> Option<Status> {
        self.status_or_error(id).await.ok()
    }

    /// The inquiry's status, or the kind of the failure (`http_429`,
    /// `timeout`, `grpc_not_found`, …), as the report counts errors.
    pub async fn status_or_error(&self, id: &str) -> Result<Status, String> {
        match self {
            Self::Rest { http, base, key } => {
                let r = match http.get(format!("{base}/api/inquiries/{id}/status")).header("x-api-key", key).send().await {
                    Ok(r) if r.status().is_success() => r,
                    Ok(r) => return Err(format!("http_{}", r.status().as_u16())),
                    Err(e) => return Err(transport_error(&e).to_owned()),
                };
                let v: RestStatus = r.json().await.map_err(|_| "bad_body".to_owned())?;
                Ok(Status { status: v.status, terminal: v.terminal, updated_at: v.updated_at })
            }
            Self::Grpc { inquiries, key, .. } => {
                let mut request = tonic::Request::new(pb::GetInquiryStatusRequest { inquiry_id: id.to_owned() });
                request.metadata_mut().insert("x-api-key", key.clone());
                let view = inquiries.clone().get_inquiry_status(request).await.map_err(|s| grpc_error(&s))?.into_inner();
                let updated = view.updated_at.ok_or_else(|| "bad_body".to_owned())?;
                Ok(Status {
                    status: status_name(view.status),
                    terminal: view.terminal,
                    updated_at: jiff::Timestamp::new(updated.seconds, updated.nanos).map_err(|_| "bad_body".to_owned())?,
                })
            }
        }
    }

    /// Opens the partner's link (records `opened`).
    pub async fn open(&self, token: &str) -> PartnerStep {
        match self {
            Self::Rest { http, base, .. } => rest_step(http.get(format!("{base}/confirm/{token}")).send().await),
            Self::Grpc { partner, .. } => {
                grpc_step(partner.clone().get_confirmation(pb::GetConfirmationRequest { token: token.to_owned() }).await)
            }
        }
    }

    /// Answers the partner request (`accept`, `reject` or `alternative`).
    pub async fn respond(&self, token: &str, answer: &str) -> PartnerStep {
        const PROPOSED: &str = "2026-12-29T10:00";
        match self {
            Self::Rest { http, base, .. } => {
                let mut body = json!({ "token": token, "answer": answer });
                if answer == "alternative" {
                    body["proposed_time"] = json!(PROPOSED);
                }
                rest_step(http.post(format!("{base}/respond")).json(&body).send().await)
            }
            Self::Grpc { partner, .. } => {
                let answer_code = match answer {
                    "reject" => pb::PartnerAnswer::Reject,
                    "alternative" => pb::PartnerAnswer::Alternative,
                    _ => pb::PartnerAnswer::Accept,
                };
                let request = pb::RespondConfirmationRequest {
                    token: token.to_owned(),
                    answer: answer_code as i32,
                    reason: String::new(),
                    proposed_time: if answer == "alternative" { PROPOSED.to_owned() } else { String::new() },
                };
                grpc_step(partner.clone().respond_confirmation(request).await)
            }
        }
    }
}

fn rest_step(sent: Result<reqwest::Response, reqwest::Error>) -> PartnerStep {
    match sent.map(|r| r.status().as_u16()) {
        Ok(200) => PartnerStep::Done,
        // 401: the link expired (deadline passed); 409: already answered.
        Ok(401 | 409) => PartnerStep::Late,
        _ => PartnerStep::Failed,
    }
}

fn grpc_step<T>(result: Result<tonic::Response<T>, tonic::Status>) -> PartnerStep {
    match result {
        Ok(_) => PartnerStep::Done,
        Err(s) if matches!(s.code(), tonic::Code::Unauthenticated | tonic::Code::AlreadyExists) => PartnerStep::Late,
        Err(_) => PartnerStep::Failed,
    }
}

/// The error kind of a request that got no answer.
fn transport_error(e: &reqwest::Error) -> &'static str {
    if e.is_timeout() {
        "timeout"
    } else if e.is_connect() {
        "connect"
    } else {
        "transport"
    }
}

/// Why a submission was not taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Shed for overload (503 with `Retry-After`, UNAVAILABLE with
    /// `RetryInfo`): worth retrying after the advised wait.
    Shed { retry_after: Duration },
    /// Anything else, by kind (`http_429`, `timeout`, …).
    Error(String),
}

impl Refusal {
    fn error(kind: &str) -> Self {
        Self::Error(kind.to_owned())
    }
}

/// A non-202 answer: shed when it is 503 with a `Retry-After` in seconds.
fn rest_refusal(response: &reqwest::Response) -> Refusal {
    let status = response.status();
    let retry_after = response.headers().get(reqwest::header::RETRY_AFTER).and_then(|v| v.to_str().ok()?.trim().parse::<u64>().ok());
    match retry_after {
        Some(seconds) if status == reqwest::StatusCode::SERVICE_UNAVAILABLE => Refusal::Shed { retry_after: Duration::from_secs(seconds) },
        _ => Refusal::Error(format!("http_{}", status.as_u16())),
    }
}

/// A failed call: shed when UNAVAILABLE carries a `RetryInfo` delay.
fn grpc_refusal(status: &tonic::Status) -> Refusal {
    use prost::Message;
    use switchboard_proto::google::rpc::{RetryInfo, Status as RpcStatus};
    let delay = RpcStatus::decode(status.details())
        .ok()
        .into_iter()
        .flat_map(|s| s.details)
        .find(|d| d.type_url.ends_with("google.rpc.RetryInfo"))
        .and_then(|d| RetryInfo::decode(d.value.as_slice()).ok()?.retry_delay);
    match delay {
        Some(d) if status.code() == tonic::Code::Unavailable => {
            Refusal::Shed { retry_after: Duration::from_secs(d.seconds.max(0) as u64) + Duration::from_nanos(d.nanos.max(0) as u64) }
        }
        _ => Refusal::Error(grpc_error(status)),
    }
}

/// `grpc_unavailable`, `grpc_resource_exhausted`, …: the error kinds of the report.
fn grpc_error(status: &tonic::Status) -> String {
    let name = format!("{:?}", status.code());
    let mut snake = String::from("grpc");
    for c in name.chars() {
        if c.is_ascii_uppercase() {
            snake.push('_');
        }
        snake.push(c.to_ascii_lowercase());
    }
    snake
}

/// `INQUIRY_STATUS_AWAITING_PARTNER` → `awaiting_partner`, as REST spells it.
fn status_name(code: i32) -> String {
    pb::InquiryStatus::try_from(code)
        .map(|s| s.as_str_name().trim_start_matches("INQUIRY_STATUS_").to_ascii_lowercase())
        .unwrap_or_else(|_| "unknown".into())
}

/// The gRPC form of a plan's REST body.
fn submit_request(plan: &Plan) -> Result<pb::SubmitInquiryRequest, String> {
    let text = |field: &str| plan.body[field].as_str().unwrap_or_default().to_owned();
    let channel = match plan.body["channel"].as_str() {
        Some("web") => pb::Channel::Web,
        Some("chat") => pb::Channel::Chat,
        Some("event") => pb::Channel::Event,
        _ => pb::Channel::Api,
    };
    let mut attachments = Vec::new();
    for a in plan.body["attachments"].as_array().into_iter().flatten() {
        let content = STANDARD.decode(a["content_base64"].as_str().unwrap_or_default()).map_err(|_| "bad_plan".to_owned())?;
        attachments.push(pb::Attachment { filename: a["filename"].as_str().unwrap_or_default().to_owned(), content });
    }
    Ok(pb::SubmitInquiryRequest {
        title: text("title"),
        content: text("content"),
        customer_phone: text("customer_phone"),
        customer_email: text("customer_email"),
        reservation_number: text("reservation_number"),
        channel: channel as i32,
        language: text("language"),
        attachments,
        idempotency_key: plan.idempotency_key.clone().unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mix::{Kind, PartnerPlan};

    #[test]
    fn a_plan_becomes_the_same_request_over_grpc() {
        let plan = Plan {
            kind: Kind::Attachment,
            body: json!({
                "content": "photo attached", "customer_phone": "+821012345678", "channel": "chat",
                "attachments": [{ "filename": "a.png", "content_base64": STANDARD.encode(b"\x89PNG") }],
            }),
            idempotency_key: Some("k1".into()),
            partner: PartnerPlan::Silent,
        };
        let r = submit_request(&plan).unwrap();
        assert_eq!((r.content.as_str(), r.customer_phone.as_str(), r.idempotency_key.as_str()), ("photo attached", "+821012345678", "k1"));
        assert_eq!(r.channel, pb::Channel::Chat as i32);
        assert_eq!(r.attachments[0].content, b"\x89PNG");
        assert!(r.customer_email.is_empty());
    }

    #[test]
    fn an_unavailable_call_with_retry_info_is_shed_for_the_advised_wait_and_other_failures_keep_their_kind() {
        use prost::Message;
        use switchboard_proto::google::rpc::{RetryInfo, Status as RpcStatus};
        let mut retry = RetryInfo { retry_delay: Some(Default::default()) };
        if let Some(delay) = retry.retry_delay.as_mut() {
            delay.seconds = 1;
            delay.nanos = 500_000_000;
        }
        let mut details =
            RpcStatus { code: tonic::Code::Unavailable as i32, message: "overloaded".into(), details: vec![Default::default()] };
        details.details[0].type_url = "type.googleapis.com/google.rpc.RetryInfo".into();
        details.details[0].value = retry.encode_to_vec();
        let shed = tonic::Status::with_details(tonic::Code::Unavailable, "overloaded", details.encode_to_vec().into());
        assert_eq!(grpc_refusal(&shed), Refusal::Shed { retry_after: Duration::from_millis(1500) });
        assert_eq!(grpc_refusal(&tonic::Status::unavailable("down")), Refusal::Error("grpc_unavailable".into()));
        assert_eq!(grpc_refusal(&tonic::Status::resource_exhausted("slow down")), Refusal::Error("grpc_resource_exhausted".into()));
    }

    #[test]
    fn statuses_and_errors_are_named_as_over_rest() {
        assert_eq!(status_name(pb::InquiryStatus::AwaitingPartner as i32), "awaiting_partner");
        assert_eq!(status_name(pb::InquiryStatus::Answered as i32), "answered");
        assert_eq!(grpc_error(&tonic::Status::resource_exhausted("slow down")), "grpc_resource_exhausted");
    }
}
