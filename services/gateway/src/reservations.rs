//! `POST /api/reservations`: operators add the reservations partners are
//! asked about.

use crate::ops;
use crate::principal::Principal;
use crate::problem::{Problem, from_json_rejection};
use crate::state::Gateway;
use crate::views::ReservationView;
use axum::Json;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::http::StatusCode;
use switchboard_domain::ReservationInput;

/// Stores a reservation (operator key), replacing the one its tenant has with the same number.
#[utoipa::path(
    post, path = "/api/reservations", tag = "operators",
    request_body = crate::schemas::ReservationInputDoc,
    responses(
        (status = 201, description = "Stored", body = ReservationView),
        (status = 400, description = "A field is invalid", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not sent as `Content-Type: application/json`", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or unknown API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an operator key", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Rate limited", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub(crate) async fn put_reservation(
    State(gateway): State<Gateway>,
    principal: Principal,
    body: Result<Json<ReservationInput>, JsonRejection>,
) -> Result<(StatusCode, Json<ReservationView>), Problem> {
    let Json(input) = body.map_err(from_json_rejection)?;
    let r = ops::put_reservation(&gateway, &principal, input).await?;
    Ok((StatusCode::CREATED, Json(ReservationView::from(r))))
}
