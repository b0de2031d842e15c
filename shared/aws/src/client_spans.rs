//! Every AWS SDK operation as a client span of the trace it runs in, with
//! its latency and outcome as metrics.

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{BeforeSerializationInterceptorContextRef, FinalizerInterceptorContextRef};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::{ConfigBag, Storable, StoreReplace};
use std::time::Instant;
use tracing::field::Empty;

/// An SDK interceptor: one client span per operation (retries inside
/// it), named `{service}.{operation}` with the `rpc.*` attributes, the
/// HTTP status and, on failure, `error.type`. Calls outside any span (the
/// workers' idle long polls) get no span, so they do not make a trace each;
/// every call counts in the `aws_requests` metrics.
#[derive(Debug, Clone, Default)]
pub struct ClientSpans;

/// The span and start of one operation, kept in its config bag.
#[derive(Debug)]
struct Call {
    span: tracing::Span,
    started: Instant,
    service: String,
    operation: String,
}

impl Storable for Call {
    type Storer = StoreReplace<Self>;
}

impl Intercept for ClientSpans {
    fn name(&self) -> &'static str {
        "ClientSpans"
    }

    // Not `read_before_execution`: a client-level interceptor runs that
    // before the operation's configuration (its name) is in the bag.
    // Serialization happens once per operation, before the retry loop.
    fn read_before_serialization(
        &self,
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let (service, operation) = crate::operation(cfg);
        let span = if tracing::Span::current().is_none() {
            tracing::Span::none()
        } else {
            tracing::info_span!(
                "aws call",
                otel.name = %format!("{service}.{operation}"),
                otel.kind = "client",
                otel.status_code = Empty,
                rpc.system = "aws-api",
                rpc.service = %service,
                rpc.method = %operation,
                http.response.status_code = Empty,
                aws.request_id = Empty,
                error.type = Empty,
            )
        };
        cfg.interceptor_state().store_put(Call { span, started: Instant::now(), service, operation });
        Ok(())
    }

    fn read_after_execution(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let Some(call) = cfg.load::<Call>() else { return Ok(()) };
        let status = context.response().map(|r| r.status().as_u16());
        if let Some(status) = status {
            call.span.record("http.response.status_code", status);
        }
        if let Some(id) = context.response().and_then(|r| r.headers().get("x-amzn-requestid")) {
            call.span.record("aws.request_id", id);
        }
        let failure = match context.output_or_error() {
            Some(Ok(_)) => None,
            Some(Err(e)) if e.is_timeout_error() => Some("timeout".to_owned()),
            Some(Err(e)) if e.is_connector_error() => Some("connection".to_owned()),
            Some(Err(_)) => Some(status.map(|s| s.to_string()).unwrap_or_else(|| "error".to_owned())),
            None => Some("interrupted".to_owned()),
        };
        if let Some(kind) = &failure {
            call.span.record("error.type", kind.as_str());
            call.span.record("otel.status_code", "error");
        }
        let outcome = if failure.is_some() { "error" } else { "ok" };
        switchboard_telemetry::metrics().aws_request(&call.service, &call.operation, outcome, call.started.elapsed());
        // The span ends when the config bag (and this record) is dropped,
        // right after the operation returns.
        Ok(())
    }
}
