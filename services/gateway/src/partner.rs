//! The partner's JSON API (seed 002): `GET /confirm/{token}`, `POST /respond`.

use crate::problem::from_json_rejection;
use crate::{Gateway, Problem};
use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use switchboard_domain::PartnerAnswer;
use switchboard_partner_dispatcher::{ConfirmError, ConfirmationView};

/// `POST /respond` body.
#[derive(Debug, Deserialize)]
pub struct RespondRequest {
    #[serde(default)]
    pub token: Option<String>,
    /// `accept`, `reject` or `alternative`.
    #[serde(default)]
    pub answer: Option<String>,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub proposed_time: Option<String>,
}

/// Turns the form/JSON fields into an answer, naming the bad field.
pub fn parse_answer(answer: Option<&str>, reason: Option<String>, proposed_time: Option<String>) -> Result<PartnerAnswer, Problem> {
    let reason = reason.map(|r| r.trim().chars().take(500).collect::<String>()).filter(|r| !r.is_empty());
    match answer.map(str::trim) {
        Some("accept") => Ok(PartnerAnswer::Accept),
        Some("reject") => Ok(PartnerAnswer::Reject { reason }),
        Some("alternative") => {
            let proposed_time = proposed_time
                .map(|t| t.trim().to_owned())
                .filter(|t| !t.is_empty())
                .ok_or_else(|| Problem::field("proposed_time", "is required when proposing an alternative"))?;
            if proposed_time.len() > 100 {
                return Err(Problem::field("proposed_time", "must be at most 100 characters"));
            }
            Ok(PartnerAnswer::Alternative { proposed_time })
        }
        Some(_) => Err(Problem::field("answer", "must be accept, reject or alternative")),
        None => Err(Problem::field("answer", "is required")),
    }
}

/// The HTTP form of a confirmation error.
pub fn confirm_problem(e: ConfirmError) -> Problem {
    match e {
        ConfirmError::Invalid => Problem::unauthorized("the link is not valid"),
        ConfirmError::Expired => Problem::unauthorized("the link has expired"),
        ConfirmError::AlreadyAnswered { outcome } => Problem::conflict(format!(
            "this request was already answered ({})",
            outcome.map(|o| o.as_str()).unwrap_or("answered")
        )),
        ConfirmError::BadAnswer(why) => Problem::field("answer", &why),
        ConfirmError::Unavailable(why) => Problem::unavailable(why),
    }
}

pub async fn confirm(State(gateway): State<Gateway>, Path(token): Path<String>) -> Result<Json<ConfirmationView>, Problem> {
    gateway.dispatcher.open(&token).await.map(Json).map_err(confirm_problem)
}

pub async fn respond(
    State(gateway): State<Gateway>,
    body: Result<Json<RespondRequest>, JsonRejection>,
) -> Result<(StatusCode, Json<ConfirmationView>), Problem> {
    let Json(request) = body.map_err(from_json_rejection)?;
    let token = request.token.filter(|t| !t.trim().is_empty()).ok_or_else(|| Problem::field("token", "is required"))?;
    let answer = parse_answer(request.answer.as_deref(), request.reason, request.proposed_time)?;
    let view = gateway.dispatcher.respond(token.trim(), answer).await.map_err(confirm_problem)?;
    Ok((StatusCode::OK, Json(view)))
}
