//! Typed gRPC clients for the in-process application, and small helpers
//! the gateway tests share.

use crate::TestApp;
use switchboard_domain::{Tenant, TenantId};
use switchboard_proto::v1::inquiry_service_client::InquiryServiceClient;
use switchboard_proto::v1::partner_service_client::PartnerServiceClient;
use switchboard_proto::v1::reservation_service_client::ReservationServiceClient;
use tonic::transport::Channel;
use tonic::{Code, Request, Status};

/// A channel to the app's gRPC port.
pub async fn channel(app: &TestApp) -> Channel {
    Channel::from_shared(app.grpc_url.clone()).expect("gRPC url").connect().await.expect("gRPC connects")
}

pub async fn inquiries(app: &TestApp) -> InquiryServiceClient<Channel> {
    InquiryServiceClient::new(channel(app).await)
}

pub async fn reservations(app: &TestApp) -> ReservationServiceClient<Channel> {
    ReservationServiceClient::new(channel(app).await)
}

pub async fn partners(app: &TestApp) -> PartnerServiceClient<Channel> {
    PartnerServiceClient::new(channel(app).await)
}

/// `message` with `key` in the `x-api-key` metadata.
pub fn keyed<T>(key: &str, message: T) -> Request<T> {
    let mut request = Request::new(message);
    request.metadata_mut().insert("x-api-key", key.parse().expect("ASCII key"));
    request
}

/// Asserts the call failed with `code`; returns the status.
#[track_caller]
pub fn expect_code<T: std::fmt::Debug>(result: Result<T, Status>, code: Code) -> Status {
    match result {
        Ok(v) => panic!("expected {code:?}, got a success: {v:?}"),
        Err(s) => {
            assert_eq!(s.code(), code, "unexpected status: {s:?}");
            s
        }
    }
}

/// The fields a status's BadRequest detail names.
pub fn bad_fields(status: &Status) -> Vec<String> {
    switchboard_gateway::grpc::status::field_violations(status).into_iter().map(|v| v.field).collect()
}

/// Adds a second tenant with `key`.
pub async fn add_tenant(app: &TestApp, id: &str, key: &str) {
    let tenant = Tenant {
        id: TenantId::parse(id).expect("tenant id"),
        name: format!("Tenant {id}"),
        api_key_hash: switchboard_domain::tenant::hash_api_key(key),
        domain_context: String::new(),
        faq: vec![],
        tier: "standard".into(),
        version: 0,
        auto_close_days: None,
        contact_email: None,
        sla: None,
    };
    switchboard_store::TenantStore::put_tenant(app.ports.store.as_ref(), &tenant).await.expect("tenant stored");
}
