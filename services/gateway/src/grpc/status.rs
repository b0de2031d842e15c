//! [`ApiError`] as a gRPC status with the standard `google.rpc` details:
//! `ErrorInfo` always, `BadRequest` naming the fields for INVALID_ARGUMENT,
//! `RetryInfo` (and a `retry-after` trailer) when waiting helps.

use crate::error::{ApiError, retry_after_secs};
use prost::Message;
use switchboard_proto::google::rpc::{BadRequest, ErrorInfo, RetryInfo, Status as RpcStatus, bad_request::FieldViolation};
use tonic::metadata::{MetadataMap, MetadataValue};
use tonic::{Code, Status};

const DOMAIN: &str = "switchboard.v1";

fn any<M: Message>(type_name: &str, message: &M) -> prost_types::Any {
    prost_types::Any { type_url: format!("type.googleapis.com/{type_name}"), value: message.encode_to_vec() }
}

/// The gRPC code of an error.
pub fn code(e: &ApiError) -> Code {
    match e {
        ApiError::Invalid(_) => Code::InvalidArgument,
        ApiError::Unauthenticated(_) => Code::Unauthenticated,
        ApiError::PermissionDenied(_) => Code::PermissionDenied,
        ApiError::NotFound(_) => Code::NotFound,
        ApiError::FailedPrecondition { .. } => Code::FailedPrecondition,
        ApiError::AlreadyExists(_) => Code::AlreadyExists,
        ApiError::TooLarge(_) | ApiError::RateLimited { .. } => Code::ResourceExhausted,
        ApiError::DeadlineExceeded(_) => Code::DeadlineExceeded,
        ApiError::Unavailable(_) | ApiError::Overloaded { .. } => Code::Unavailable,
    }
}

/// The status for `e`, with field names as the gRPC messages spell them.
pub fn status(e: ApiError) -> Status {
    let code = code(&e);
    let message = match &e {
        ApiError::Unavailable(cause) => crate::problem::hidden_cause(cause).to_owned(),
        _ => e.to_string(),
    };
    let mut details = Vec::new();
    let mut metadata = std::collections::HashMap::new();
    if let ApiError::FailedPrecondition { current: Some(current), .. } = &e {
        metadata.insert("current_status".to_owned(), current.as_str().to_owned());
    }
    details.push(any("google.rpc.ErrorInfo", &ErrorInfo { reason: e.reason().to_owned(), domain: DOMAIN.to_owned(), metadata }));
    if let ApiError::Invalid(errors) = &e {
        let field_violations =
            errors.0.iter().map(|f| FieldViolation { field: grpc_field(&f.field), description: f.reason.clone() }).collect();
        details.push(any("google.rpc.BadRequest", &BadRequest { field_violations }));
    }
    let mut trailers = MetadataMap::new();
    if let Some(wait) = e.retry_after() {
        let delay = prost_types::Duration { seconds: wait.as_secs() as i64, nanos: wait.subsec_nanos() as i32 };
        details.push(any("google.rpc.RetryInfo", &RetryInfo { retry_delay: Some(delay) }));
        trailers.insert("retry-after", MetadataValue::from(retry_after_secs(wait)));
    }
    let encoded = RpcStatus { code: code as i32, message: message.clone(), details }.encode_to_vec();
    Status::with_details_and_metadata(code, message, encoded.into(), trailers)
}

/// REST and domain field names in the gRPC messages' words.
fn grpc_field(field: &str) -> String {
    if let Some(index) = field.strip_prefix("attachments[").and_then(|rest| rest.strip_suffix("].content_base64")) {
        return format!("attachments[{index}].content");
    }
    match field {
        "Idempotency-Key" => "idempotency_key".into(),
        "id" => "inquiry_id".into(),
        other => other.to_owned(),
    }
}

impl From<ApiError> for Status {
    fn from(e: ApiError) -> Self {
        status(e)
    }
}

/// The decoded details of a status (for clients and tests).
pub fn details(status: &Status) -> Option<RpcStatus> {
    RpcStatus::decode(status.details()).ok()
}

/// The field violations in a status's `BadRequest` detail.
pub fn field_violations(status: &Status) -> Vec<FieldViolation> {
    details(status)
        .into_iter()
        .flat_map(|s| s.details)
        .filter(|d| d.type_url.ends_with("google.rpc.BadRequest"))
        .filter_map(|d| BadRequest::decode(d.value.as_slice()).ok())
        .flat_map(|b| b.field_violations)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn invalid_input_names_each_field_in_the_messages_words() {
        let e = ApiError::Invalid(switchboard_domain::ValidationErrors(vec![
            switchboard_domain::FieldError::new("content", "is required"),
            switchboard_domain::FieldError::new("attachments[2].content_base64", "too big"),
        ]));
        let s = status(e);
        assert_eq!(s.code(), Code::InvalidArgument);
        let fields: Vec<String> = field_violations(&s).into_iter().map(|v| v.field).collect();
        assert_eq!(fields, ["content", "attachments[2].content"]);
    }

    #[test]
    fn every_error_has_its_documented_status_code() {
        let cases = [
            (ApiError::field("f", "r"), Code::InvalidArgument),
            (ApiError::Unauthenticated("k".into()), Code::Unauthenticated),
            (ApiError::PermissionDenied("p".into()), Code::PermissionDenied),
            (ApiError::NotFound("n".into()), Code::NotFound),
            (
                ApiError::FailedPrecondition { detail: "d".into(), current: Some(switchboard_domain::InquiryStatus::Resolved) },
                Code::FailedPrecondition,
            ),
            (ApiError::AlreadyExists("a".into()), Code::AlreadyExists),
            (ApiError::TooLarge("t".into()), Code::ResourceExhausted),
            (ApiError::DeadlineExceeded("d".into()), Code::DeadlineExceeded),
            (ApiError::Unavailable("u".into()), Code::Unavailable),
            (ApiError::Overloaded { detail: "o".into(), retry_after: Duration::from_secs(1) }, Code::Unavailable),
        ];
        for (error, expected) in cases {
            let s = status(error.clone());
            assert_eq!(s.code(), expected, "{error:?}");
            let info = details(&s).unwrap().details.into_iter().find(|d| d.type_url.ends_with("ErrorInfo")).expect("ErrorInfo");
            let info = ErrorInfo::decode(info.value.as_slice()).unwrap();
            assert_eq!((info.reason.as_str(), info.domain.as_str()), (error.reason(), "switchboard.v1"));
        }
        let transition =
            status(ApiError::FailedPrecondition { detail: "d".into(), current: Some(switchboard_domain::InquiryStatus::Resolved) });
        let info = details(&transition).unwrap().details.into_iter().find(|d| d.type_url.ends_with("ErrorInfo")).unwrap();
        assert_eq!(ErrorInfo::decode(info.value.as_slice()).unwrap().metadata["current_status"], "resolved");
        assert!(
            status(ApiError::Unavailable("u".into())).metadata().get("retry-after").is_some(),
            "a dependency outage says when to retry"
        );
    }

    #[test]
    fn a_shed_submission_is_unavailable_with_the_advised_wait_in_retry_info() {
        let s = status(ApiError::Overloaded { detail: "the classifier queue is full".into(), retry_after: Duration::from_millis(1500) });
        assert_eq!(s.code(), Code::Unavailable);
        assert_eq!(s.metadata().get("retry-after").and_then(|v| v.to_str().ok()), Some("2"));
        let retry = details(&s).unwrap().details.into_iter().find(|d| d.type_url.ends_with("RetryInfo")).expect("RetryInfo");
        let delay = RetryInfo::decode(retry.value.as_slice()).unwrap().retry_delay.unwrap();
        assert_eq!((delay.seconds, delay.nanos), (1, 500_000_000));
    }

    #[test]
    fn a_rate_limit_says_when_to_retry() {
        let s = status(ApiError::RateLimited { detail: "slow down".into(), retry_after: Duration::from_millis(1500) });
        assert_eq!(s.code(), Code::ResourceExhausted);
        assert_eq!(s.metadata().get("retry-after").and_then(|v| v.to_str().ok()), Some("2"));
        let d = details(&s).unwrap();
        assert!(d.details.iter().any(|a| a.type_url.ends_with("RetryInfo")));
        assert!(d.details.iter().any(|a| a.type_url.ends_with("ErrorInfo")));
    }
}
