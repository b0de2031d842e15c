//! Authentication of the gRPC services that take an API key: before each
//! call the per-address limit applies and the `x-api-key` metadata entry
//! becomes a [`Principal`] in the call's extensions, as the REST extractor
//! does for HTTP. (A tonic interceptor cannot do this: it may not wait for
//! the store's tenant lookup.) A call without a valid key never reaches the
//! service.

use crate::error::ApiError;
use crate::principal::{Principal, api_key, authenticate, check_client};
use crate::state::Gateway;
use axum::http;
use futures::future::BoxFuture;
use std::convert::Infallible;
use std::task::{Context, Poll};
use switchboard_telemetry::metrics;
use tonic::body::Body;
use tonic::server::NamedService;
use tonic::transport::server::TcpConnectInfo;
use tonic::{Request, Status};

/// The call load shedding applies to.
const SUBMIT_INQUIRY_PATH: &str = "/switchboard.v1.InquiryService/SubmitInquiry";

/// A gRPC service whose calls are authenticated first.
#[derive(Clone)]
pub(crate) struct Authenticated<S> {
    inner: S,
    gateway: Gateway,
}

impl<S> Authenticated<S> {
    /// Wraps `inner`.
    pub(crate) fn new(inner: S, gateway: Gateway) -> Self {
        Self { inner, gateway }
    }
}

impl<S: NamedService> NamedService for Authenticated<S> {
    const NAME: &'static str = S::NAME;
}

impl<S> tower::Service<http::Request<Body>> for Authenticated<S>
where
    S: tower::Service<http::Request<Body>, Response = http::Response<Body>, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<Body>) -> Self::Future {
        // The service that was polled ready serves this call; a clone takes its place.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let gateway = self.gateway.clone();
        Box::pin(async move {
            let proxies = &gateway.api.settings().trusted_proxies;
            let peer = request.extensions().get::<TcpConnectInfo>().and_then(TcpConnectInfo::remote_addr);
            let client = peer.map(|peer| proxies.client(peer.ip(), request.headers()));
            // Owned, so the request (whose body is not `Sync`) is not held across the lookup.
            let key = api_key(request.headers()).map(|k| k.map(str::to_owned));
            let submission = request.uri().path() == SUBMIT_INQUIRY_PATH;
            let principal = async {
                // Shed before any work, as the REST twin does (`admission.rs`).
                if submission {
                    gateway.api.admission().check().inspect_err(|_| metrics().submission_shed("grpc"))?;
                }
                check_client(&gateway.api, client)?;
                authenticate(&gateway, key?.as_deref()).await
            }
            .await;
            // Held until the response is ready (a stream's messages come later, uncapped).
            let slot = principal.and_then(|principal| gateway.api.cap().slot().map(|slot| (principal, slot)));
            match slot {
                Ok((principal, _slot)) => {
                    request.extensions_mut().insert(principal);
                    inner.call(request).await
                }
                Err(e) => Ok(Status::from(e).into_http()),
            }
        })
    }
}

/// The caller of an authenticated call.
pub(crate) fn caller<T>(request: &Request<T>) -> Result<Principal, Status> {
    // Only a service left unwrapped would lack one: refuse rather than serve anonymously.
    request
        .extensions()
        .get::<Principal>()
        .cloned()
        .ok_or_else(|| ApiError::Unauthenticated("the x-api-key header is required".into()).into())
}
