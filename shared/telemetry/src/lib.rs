//! Telemetry set-up, one call from the binary.
//!
//! Logs never carry message content, phone numbers or e-mail addresses in
//! clear: the services log ids and masked contacts only.

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::format::FmtSpan;

/// How log lines look.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// One JSON object per line, with span fields (for log shippers).
    Json,
    /// Compact text for a terminal.
    Text,
}

/// Installs the global subscriber. The filter comes from `RUST_LOG`
/// (default: `info`, with HTTP request noise at `warn`). Safe to call
/// twice: the second call does nothing.
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,tower_http=warn"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Json => builder.json().with_current_span(true).with_span_list(false).with_span_events(FmtSpan::NONE).try_init(),
        LogFormat::Text => builder.compact().try_init(),
    };
}
