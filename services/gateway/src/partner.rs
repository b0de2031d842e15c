//! The partner's JSON API: `GET /confirm/{token}` (what the partner is
//! asked) and `POST /respond` (the answer). The partner's web page
//! (`partner_page.rs`) and gRPC's `PartnerService` answer the same way.

use crate::error::ApiError;
use crate::problem::{Problem, from_json_rejection};
use crate::rate_limits::LimitKey;
use crate::state::Gateway;
use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use switchboard_domain::PartnerAnswer;
use switchboard_partner_dispatcher::{ConfirmError, ConfirmationView};

/// Longest reason a partner may give for rejecting, in characters (longer is cut).
const MAX_REASON_CHARS: usize = 500;
/// Longest proposed time, in characters.
const MAX_PROPOSED_TIME_CHARS: usize = 100;

/// `POST /respond` body.
#[derive(Debug, Deserialize)]
pub(crate) struct RespondRequest {
    /// The token from the partner's link.
    #[serde(default)]
    pub token: Option<String>,
    /// `accept`, `reject` or `alternative`.
    #[serde(default)]
    pub answer: Option<String>,
    /// For `reject`: why (optional).
    #[serde(default)]
    pub reason: Option<String>,
    /// For `alternative`: the proposed time.
    #[serde(default)]
    pub proposed_time: Option<String>,
}

/// Turns the form/JSON fields into an answer, naming the bad field.
pub(crate) fn parse_answer(answer: Option<&str>, reason: Option<String>, proposed_time: Option<String>) -> Result<PartnerAnswer, ApiError> {
    let reason = reason.map(|r| r.trim().chars().take(MAX_REASON_CHARS).collect::<String>()).filter(|r| !r.is_empty());
    match answer.map(str::trim) {
        Some("accept") => Ok(PartnerAnswer::Accept),
        Some("reject") => Ok(PartnerAnswer::Reject { reason }),
        Some("alternative") => {
            let proposed_time = proposed_time
                .map(|t| t.trim().to_owned())
                .filter(|t| !t.is_empty())
                .ok_or_else(|| ApiError::field("proposed_time", "is required when proposing an alternative"))?;
            if proposed_time.chars().count() > MAX_PROPOSED_TIME_CHARS {
                return Err(ApiError::field("proposed_time", "must be at most 100 characters"));
            }
            Ok(PartnerAnswer::Alternative { proposed_time: readable_time(proposed_time) })
        }
        Some(_) => Err(ApiError::field("answer", "must be accept, reject or alternative")),
        None => Err(ApiError::field("answer", "is required")),
    }
}

/// A date-time input's value (`2026-12-26T15:00`) as people write it
/// (`2026-12-26 15:00`), since the customer reads it in a text message.
/// Anything else (free text from a JSON client) is kept as written.
fn readable_time(proposed: String) -> String {
    match proposed.parse::<jiff::civil::DateTime>() {
        Ok(t) if t.second() == 0 && t.subsec_nanosecond() == 0 => t.strftime("%Y-%m-%d %H:%M").to_string(),
        Ok(t) => t.strftime("%Y-%m-%d %H:%M:%S").to_string(),
        Err(_) => proposed,
    }
}

/// The token in the path. A path that does not even decode (bytes that are
/// not UTF-8) is an invalid link like any other, not a malformed request.
pub(crate) fn path_token(path: Result<Path<String>, PathRejection>) -> Result<String, ConfirmError> {
    path.map(|Path(token)| token).map_err(|_| ConfirmError::Invalid)
}

/// What the partner is asked; records that the link was opened.
pub(crate) async fn confirm(
    State(gateway): State<Gateway>,
    token: Result<Path<String>, PathRejection>,
) -> Result<Json<ConfirmationView>, Problem> {
    let token = path_token(token).map_err(ApiError::from)?;
    Ok(gateway.dispatcher.open(&token).await.map(Json).map_err(ApiError::from)?)
}

/// The partner's answer, accepted once.
pub(crate) async fn respond(
    State(gateway): State<Gateway>,
    body: Result<Json<RespondRequest>, JsonRejection>,
) -> Result<(StatusCode, Json<ConfirmationView>), Problem> {
    let Json(request) = body.map_err(from_json_rejection)?;
    let token = request.token.filter(|t| !t.trim().is_empty()).ok_or_else(|| Problem::field("token", "is required"))?;
    // The address was counted by the route's layer; the link only now, from the body.
    gateway.api.limit(LimitKey::PartnerLink(token.trim())).map_err(ApiError::from)?;
    let answer = parse_answer(request.answer.as_deref(), request.reason, request.proposed_time)?;
    let view = gateway.dispatcher.respond(token.trim(), answer).await.map_err(ApiError::from)?;
    Ok((StatusCode::OK, Json(view)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(e: ApiError) -> String {
        match e {
            ApiError::Invalid(errors) => errors.0[0].field.clone(),
            other => panic!("expected a field error, got {other:?}"),
        }
    }

    fn alternative(time: &str) -> Result<PartnerAnswer, ApiError> {
        parse_answer(Some("alternative"), None, Some(time.into()))
    }

    #[test]
    fn a_date_time_input_value_is_made_readable() {
        assert_eq!(alternative("2026-12-26T15:00").unwrap(), PartnerAnswer::Alternative { proposed_time: "2026-12-26 15:00".into() });
        assert_eq!(alternative("2026-12-26T15:00:30").unwrap(), PartnerAnswer::Alternative { proposed_time: "2026-12-26 15:00:30".into() });
        assert_eq!(alternative(" 내일 오후 3시 ").unwrap(), PartnerAnswer::Alternative { proposed_time: "내일 오후 3시".into() });
    }

    #[test]
    fn an_alternative_needs_a_short_proposed_time() {
        assert_eq!(field(alternative("  ").unwrap_err()), "proposed_time");
        assert_eq!(field(alternative(&"가".repeat(101)).unwrap_err()), "proposed_time");
        assert!(alternative(&"가".repeat(100)).is_ok());
    }

    #[test]
    fn unknown_answers_are_named() {
        assert_eq!(field(parse_answer(Some("maybe"), None, None).unwrap_err()), "answer");
        assert_eq!(field(parse_answer(None, None, None).unwrap_err()), "answer");
        assert_eq!(parse_answer(Some("reject"), Some("  ".into()), None).unwrap(), PartnerAnswer::Reject { reason: None });
    }
}
