//! A tenant's reservations in the console: the list (searched by number,
//! customer, partner or service; phones shown masked), and a form that
//! adds or replaces one through the same operation as `POST
//! /api/reservations` (validation, the SMS country rule).

use super::page::{Chrome, html, message, problem_text};
use super::session::{SignedIn, form_refused};
use super::tenant_choice::{choose, matches};
use crate::ops;
use crate::state::Gateway;
use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use switchboard_domain::{Reservation, ReservationInput};

/// `?tenant=…&q=…&saved=1`.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ReservationQuery {
    tenant: Option<String>,
    #[serde(default)]
    q: String,
    saved: Option<String>,
}

/// A reservation as listed.
struct Row {
    number: String,
    service: String,
    date: String,
    customer: String,
    customer_phone: String,
    partner: String,
    partner_phone: String,
}

impl From<&Reservation> for Row {
    fn from(r: &Reservation) -> Self {
        Self {
            number: r.reservation_number.to_string(),
            service: r.service_type.clone(),
            date: r.reservation_date.clone(),
            customer: r.customer_name.clone(),
            customer_phone: r.customer_phone.masked(),
            partner: r.partner_name.clone(),
            partner_phone: r.partner_phone.masked(),
        }
    }
}

/// The page.
#[derive(Template)]
#[template(path = "console/reservations.html")]
struct ReservationsPage {
    chrome: Chrome,
    tenants: Vec<String>,
    tenant: Option<String>,
    q: String,
    rows: Vec<Row>,
    /// The form's fields: name, label, value (kept when the form comes back with a problem).
    fields: Vec<(&'static str, &'static str, String)>,
    saved: bool,
    problem: Option<String>,
}

/// The form's fields, as `ReservationInput` names them, with their values.
fn fields(input: &ReservationInput) -> Vec<(&'static str, &'static str, String)> {
    let v = |f: &Option<String>| f.clone().unwrap_or_default();
    vec![
        ("reservation_number", "reservation_number", v(&input.reservation_number)),
        ("customer_name", "customer_name", v(&input.customer_name)),
        ("customer_phone", "customer_phone", v(&input.customer_phone)),
        ("partner_id", "partner_id", v(&input.partner_id)),
        ("partner_name", "partner_name", v(&input.partner_name)),
        ("partner_phone", "partner_phone", v(&input.partner_phone)),
        ("partner_locale", "partner_locale (ko, en)", v(&input.partner_locale)),
        ("service_type", "service_type", v(&input.service_type)),
        ("reservation_date", "reservation_date", v(&input.reservation_date)),
    ]
}

/// `GET /console/reservations`.
pub(crate) async fn show(
    State(gateway): State<Gateway>,
    signed_in: SignedIn,
    headers: HeaderMap,
    Query(query): Query<ReservationQuery>,
) -> Response {
    render(&gateway, &signed_in, &headers, &query, &ReservationInput::default(), StatusCode::OK, None).await
}

async fn render(
    gateway: &Gateway,
    signed_in: &SignedIn,
    headers: &HeaderMap,
    query: &ReservationQuery,
    input: &ReservationInput,
    status: StatusCode,
    problem: Option<String>,
) -> Response {
    let chrome = signed_in.chrome(headers, "/console/reservations", "reservations");
    let (tenants, chosen) = match choose(gateway, query.tenant.as_deref()).await {
        Ok(found) => found,
        Err(e) => return message(chrome.w, StatusCode::SERVICE_UNAVAILABLE, chrome.w.reservations, &e.to_string()),
    };
    let rows = match &chosen {
        Some(t) => match gateway.api.reservations().reservations(&t.id).await {
            Ok(all) => all
                .iter()
                .filter(|r| {
                    let number = r.reservation_number.to_string();
                    matches(&query.q, &[&number, &r.customer_name, &r.partner_name, &r.service_type, &r.reservation_date])
                })
                .map(Row::from)
                .collect(),
            Err(e) => return message(chrome.w, StatusCode::SERVICE_UNAVAILABLE, chrome.w.reservations, &e.to_string()),
        },
        None => Vec::new(),
    };
    let page = ReservationsPage {
        chrome,
        tenants,
        tenant: chosen.map(|t| t.id.to_string()),
        q: query.q.clone(),
        rows,
        fields: fields(input),
        saved: query.saved.is_some(),
        problem,
    };
    html(status, &page)
}

/// What the form posts: the reservation's fields and the CSRF token.
#[derive(Debug, Deserialize)]
pub(crate) struct ReservationForm {
    csrf: Option<String>,
    #[serde(flatten)]
    input: ReservationInput,
}

/// `POST /console/reservations`: stores the reservation (replacing one with its number).
pub(crate) async fn save(
    State(gateway): State<Gateway>,
    signed_in: SignedIn,
    headers: HeaderMap,
    Form(form): Form<ReservationForm>,
) -> Response {
    let w = Chrome::words_for(&headers);
    if !signed_in.form_ok(&headers, form.csrf.as_deref()) {
        return form_refused(w);
    }
    let tenant = form.input.tenant_id.clone().unwrap_or_default();
    match ops::put_reservation(&gateway, &signed_in.principal(), form.input.clone()).await {
        Ok(_) => Redirect::to(&format!("/console/reservations?tenant={tenant}&saved=1")).into_response(),
        Err(e) => {
            let (status, text) = problem_text(e);
            let query = ReservationQuery { tenant: Some(tenant), ..ReservationQuery::default() };
            render(&gateway, &signed_in, &headers, &query, &form.input, status, Some(text)).await
        }
    }
}
