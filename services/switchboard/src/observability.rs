//! AI calls as client spans with their latency, tokens and outcome: the
//! composition root wraps whichever engines the configuration chose
//! ([`traced`]), so local and AWS engines are observed alike.
//!
//! Spans and metrics carry the operation, the engine or model id, token
//! counts and the error kind, never the inquiry's text or the answer.

use async_trait::async_trait;
use std::sync::Arc;
use std::time::Instant;
use switchboard_ai::{
    AiError, AnswerDrafter, AttachmentAnalysis, AttachmentAnalyzer, Classifier, ClassifyRequest, Draft, DraftRequest, Engines,
    ReplySuggester, SuggestRequest,
};
use switchboard_domain::{Classification, MediaType, Suggestions};
use switchboard_telemetry::metrics;
use tracing::Instrument;
use tracing::field::Empty;

/// `engines`, each call a client span.
pub fn traced(engines: Engines) -> Engines {
    Engines {
        classifier: Arc::new(TracedClassifier(engines.classifier)),
        drafter: Arc::new(TracedDrafter(engines.drafter)),
        analyzer: Arc::new(TracedAnalyzer(engines.analyzer)),
        suggester: Arc::new(TracedSuggester(engines.suggester)),
    }
}

fn client_span(operation: &'static str) -> tracing::Span {
    tracing::info_span!(
        "ai call",
        otel.name = %format!("ai {operation}"),
        otel.kind = "client",
        otel.status_code = Empty,
        gen_ai.operation.name = operation,
        gen_ai.request.model = Empty,
        gen_ai.usage.input_tokens = Empty,
        gen_ai.usage.output_tokens = Empty,
        error.type = Empty,
    )
}

fn error_kind(e: &AiError) -> &'static str {
    match e {
        AiError::Unavailable(_) => "unavailable",
        AiError::Throttled => "throttled",
        AiError::Timeout(_) => "timeout",
        AiError::InvalidOutput(_) => "invalid_output",
        AiError::UnsupportedInput(_) => "unsupported_input",
    }
}

/// Records the end of a call on its span and in the metrics. When the
/// caller gives up first (the responder's time budget drops the future),
/// the call counts as a timeout and a fallback.
struct CallRecord {
    operation: &'static str,
    span: tracing::Span,
    started: Instant,
    finished: bool,
}

impl CallRecord {
    fn new(operation: &'static str, span: &tracing::Span) -> Self {
        Self { operation, span: span.clone(), started: Instant::now(), finished: false }
    }

    fn ok(&mut self, engine: &str, tokens: Option<(u32, u32)>) {
        self.finished = true;
        self.span.record("gen_ai.request.model", engine);
        if let Some((input, output)) = tokens {
            self.span.record("gen_ai.usage.input_tokens", input);
            self.span.record("gen_ai.usage.output_tokens", output);
            metrics().ai_tokens(self.operation, engine, u64::from(input), u64::from(output));
        }
        metrics().ai_call(self.operation, engine, "ok", self.started.elapsed());
    }

    fn failed(&mut self, kind: &'static str, fallback: bool) {
        self.finished = true;
        self.span.record("error.type", kind);
        self.span.record("otel.status_code", "error");
        metrics().ai_call(self.operation, "unknown", kind, self.started.elapsed());
        if fallback {
            metrics().ai_fallback(self.operation);
        }
    }
}

impl Drop for CallRecord {
    fn drop(&mut self) {
        if !self.finished {
            self.failed("cancelled", true);
        }
    }
}

struct TracedClassifier(Arc<dyn Classifier>);

#[async_trait]
impl Classifier for TracedClassifier {
    async fn classify(&self, request: &ClassifyRequest) -> Result<Classification, AiError> {
        let span = client_span("classify");
        let mut record = CallRecord::new("classify", &span);
        let result = self.0.classify(request).instrument(span).await;
        match &result {
            Ok(c) => record.ok(&c.engine, None),
            // The classifier service retries the message; no fallback here.
            Err(e) => record.failed(error_kind(e), false),
        }
        result
    }

    async fn classify_batch(&self, requests: &[ClassifyRequest]) -> Vec<Result<Classification, AiError>> {
        let span = client_span("classify_batch");
        let mut record = CallRecord::new("classify_batch", &span);
        let results = self.0.classify_batch(requests).instrument(span).await;
        match results.iter().find_map(|r| r.as_ref().err()) {
            Some(e) => record.failed(error_kind(e), false),
            None => record.ok(results.iter().find_map(|r| r.as_ref().ok()).map(|c| c.engine.as_str()).unwrap_or("none"), None),
        }
        results
    }
}

struct TracedSuggester(Arc<dyn ReplySuggester>);

#[async_trait]
impl ReplySuggester for TracedSuggester {
    async fn suggest(&self, request: &SuggestRequest) -> Result<Suggestions, AiError> {
        let span = client_span("suggest");
        let mut record = CallRecord::new("suggest", &span);
        let result = self.0.suggest(request).instrument(span).await;
        match &result {
            Ok(s) => record.ok(&s.engine, None),
            Err(e) => record.failed(error_kind(e), false),
        }
        result
    }
}

struct TracedDrafter(Arc<dyn AnswerDrafter>);

#[async_trait]
impl AnswerDrafter for TracedDrafter {
    async fn draft(&self, request: &DraftRequest) -> Result<Draft, AiError> {
        let span = client_span("draft");
        let mut record = CallRecord::new("draft", &span);
        let result = self.0.draft(request).instrument(span).await;
        match &result {
            Ok(d) => record.ok(&d.model, Some((d.prompt_tokens, d.completion_tokens))),
            // The responder answers with its fallback message instead.
            Err(e) => record.failed(error_kind(e), true),
        }
        result
    }
}

struct TracedAnalyzer(Arc<dyn AttachmentAnalyzer>);

#[async_trait]
impl AttachmentAnalyzer for TracedAnalyzer {
    async fn analyze(&self, media_type: MediaType, bytes: &[u8], context: &str) -> Result<AttachmentAnalysis, AiError> {
        let span = client_span("analyze");
        let mut record = CallRecord::new("analyze", &span);
        let result = self.0.analyze(media_type, bytes, context).instrument(span).await;
        match &result {
            Ok(a) => record.ok(&a.engine, None),
            // The image-analyzer records the failure as a finding and goes on.
            Err(e) => record.failed(error_kind(e), true),
        }
        result
    }
}
