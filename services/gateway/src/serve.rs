//! Serving the gateway: HTTP (REST, partner page, health) and gRPC side by
//! side, until shutdown. On shutdown both stop accepting, open watch
//! streams end (telling clients to reconnect), the gRPC health service
//! reports NOT_SERVING, and in-flight requests finish.

use crate::grpc::Services;
use crate::state::Gateway;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tonic::transport::Server;
use tonic::transport::server::TcpIncoming;
use tonic_health::ServingStatus;
use tracing::{info, warn};

/// How often gRPC health follows readiness (store and queues).
const HEALTH_EVERY: Duration = Duration::from_secs(5);

/// The sockets to serve on; any may be absent.
pub struct Listeners {
    pub http: Option<TcpListener>,
    pub grpc: Option<TcpListener>,
    /// An internal address for `/metrics`: when given, the public HTTP
    /// address no longer serves it (behind the load balancer it would be
    /// anyone's to scrape).
    pub metrics: Option<TcpListener>,
}

/// Serves until `shutdown` is cancelled and every connection has drained.
pub async fn serve(gateway: Gateway, listeners: Listeners, shutdown: CancellationToken) {
    let mut tasks = tokio::task::JoinSet::new();

    // Streams never end by themselves while their inquiry is pending:
    // end them when shutdown begins, so graceful shutdown does not wait on them.
    let api = gateway.api.clone();
    let token = shutdown.clone();
    tasks.spawn(async move {
        token.cancelled().await;
        api.stop_streams();
    });

    // Load shedding decides on a backlog sampled here, not per request.
    let api = gateway.api.clone();
    let token = shutdown.clone();
    tasks.spawn(async move { api.sample_backlog(token).await });

    let public_metrics = listeners.metrics.is_none();
    if let Some(listener) = listeners.metrics {
        let app = crate::app::metrics_router(gateway.clone());
        let token = shutdown.clone();
        tasks.spawn(async move {
            let served = axum::serve(listener, app).with_graceful_shutdown(async move { token.cancelled().await }).await;
            if let Err(e) = served {
                warn!(error = %e, "metrics server stopped with an error");
            }
        });
    }

    if let Some(listener) = listeners.http {
        let app = crate::app::router_with(gateway.clone(), public_metrics);
        let token = shutdown.clone();
        tasks.spawn(async move {
            // Connection info gives the rate limits the client's address.
            let app = app.into_make_service_with_connect_info::<SocketAddr>();
            let served = axum::serve(listener, app).with_graceful_shutdown(async move { token.cancelled().await }).await;
            if let Err(e) = served {
                warn!(error = %e, "HTTP server stopped with an error");
            }
        });
    }

    if let Some(listener) = listeners.grpc {
        let (reporter, health) = tonic_health::server::health_reporter();
        let services = Services::new(gateway.clone());
        let reflection_v1 = tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(switchboard_proto::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
            .build_v1();
        let reflection_v1alpha = tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(switchboard_proto::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
            .build_v1alpha();
        let (reflection_v1, reflection_v1alpha) = match (reflection_v1, reflection_v1alpha) {
            (Ok(a), Ok(b)) => (Some(a), Some(b)),
            (a, b) => {
                // The descriptors are compiled in; this would be a build defect.
                warn!(v1 = a.is_ok(), v1alpha = b.is_ok(), "gRPC reflection unavailable");
                (a.ok(), b.ok())
            }
        };

        // Health follows readiness, and says NOT_SERVING once shutdown begins.
        let readiness = gateway.readiness.clone();
        let token = shutdown.clone();
        tasks.spawn(async move {
            loop {
                let status = match readiness.check().await {
                    Ok(()) => ServingStatus::Serving,
                    Err(_) => ServingStatus::NotServing,
                };
                for name in ["", "switchboard.v1.InquiryService", "switchboard.v1.ReservationService", "switchboard.v1.PartnerService"] {
                    reporter.set_service_status(name, status).await;
                }
                tokio::select! {
                    _ = token.cancelled() => break,
                    _ = tokio::time::sleep(HEALTH_EVERY) => {}
                }
            }
            for name in ["", "switchboard.v1.InquiryService", "switchboard.v1.ReservationService", "switchboard.v1.PartnerService"] {
                reporter.set_service_status(name, ServingStatus::NotServing).await;
            }
        });

        let timeout = gateway.api.settings().request_timeout;
        let token = shutdown.clone();
        let addr = listener.local_addr().ok();
        tasks.spawn(async move {
            let router = Server::builder()
                .timeout(timeout)
                // Each call a server span starting its own trace (an inquiry's, for a submission).
                .layer(crate::telemetry::grpc_trace_layer())
                .add_service(health)
                .add_optional_service(reflection_v1)
                .add_optional_service(reflection_v1alpha)
                .add_service(services.inquiry_service())
                .add_service(services.reservation_service())
                .add_service(services.faq_service())
                .add_service(services.webhook_service())
                .add_service(services.sla_service())
                .add_service(services.partner_service());
            info!(addr = ?addr, "gRPC server listening");
            let served = router.serve_with_incoming_shutdown(TcpIncoming::from(listener), async move { token.cancelled().await }).await;
            if let Err(e) = served {
                warn!(error = %e, "gRPC server stopped with an error");
            }
        });
    }

    while let Some(joined) = tasks.join_next().await {
        if let Err(e) = joined {
            warn!(error = %e, "a gateway task ended abnormally");
        }
    }
}
