//! What telemetry does, read from the standard `OTEL_*` variables (and
//! `SWITCHBOARD_ENVIRONMENT`), validated with errors that name the variable.

use crate::{LogFormat, TelemetryError};
use opentelemetry_sdk::trace::Sampler;
use std::path::PathBuf;

/// Where finished spans go besides the local store.
#[derive(Debug, Clone, PartialEq)]
pub enum TraceExport {
    /// Nowhere: no collector is configured.
    None,
    /// OTLP over gRPC. `endpoint: None` lets the exporter read
    /// `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` / `OTEL_EXPORTER_OTLP_ENDPOINT`
    /// (default `http://localhost:4317`).
    Otlp { endpoint: Option<String> },
}

/// Everything [`crate::init`] needs.
#[derive(Debug, Clone)]
pub struct Settings {
    pub log_format: LogFormat,
    /// `OTEL_SERVICE_NAME`. When set, every span of the process carries it
    /// as `service.name`; when not, each component's spans are exported as
    /// `switchboard-{component}` and the rest as `switchboard`.
    pub service_name: Option<String>,
    /// `service.version`.
    pub service_version: String,
    /// `deployment.environment` (`SWITCHBOARD_ENVIRONMENT`, default `development`).
    pub environment: String,
    /// The components this process may run (`intake`, …, `gateway`): each
    /// gets its own `service.name` when [`Self::service_name`] is unset.
    pub components: Vec<String>,
    pub export: TraceExport,
    /// `OTEL_TRACES_SAMPLER` / `OTEL_TRACES_SAMPLER_ARG`; default: parent-based, always on.
    pub sampler: Sampler,
    /// The embedded SQLite file: finished spans are recorded in its `spans`
    /// table, for `switchboard trace`. `None` in AWS mode.
    pub local_spans: Option<PathBuf>,
    /// How long recorded spans are kept ([`crate::local::RETENTION`] by default).
    pub local_span_retention: std::time::Duration,
}

/// The service name spans of no particular component get.
pub const DEFAULT_SERVICE_NAME: &str = "switchboard";

impl Settings {
    /// Settings from the environment.
    pub fn from_env(log_format: LogFormat, service_version: &str) -> Result<Self, TelemetryError> {
        Self::from_lookup(log_format, service_version, |name| std::env::var(name).ok())
    }

    /// Settings from any variable lookup (tests pass a map).
    pub fn from_lookup(
        log_format: LogFormat,
        service_version: &str,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, TelemetryError> {
        let var = |name: &str| lookup(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        Ok(Self {
            log_format,
            service_name: var("OTEL_SERVICE_NAME"),
            service_version: service_version.to_owned(),
            environment: var("SWITCHBOARD_ENVIRONMENT").unwrap_or_else(|| "development".to_owned()),
            components: Vec::new(),
            export: export_from(
                var("OTEL_TRACES_EXPORTER").as_deref(),
                var("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT").or_else(|| var("OTEL_EXPORTER_OTLP_ENDPOINT")).is_some(),
                var("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL").or_else(|| var("OTEL_EXPORTER_OTLP_PROTOCOL")).as_deref(),
            )?,
            sampler: sampler_from(var("OTEL_TRACES_SAMPLER").as_deref(), var("OTEL_TRACES_SAMPLER_ARG").as_deref())?,
            local_spans: None,
            local_span_retention: crate::local::RETENTION,
        })
    }

    /// The components this process runs.
    pub fn with_components<S: Into<String>>(mut self, components: impl IntoIterator<Item = S>) -> Self {
        self.components = components.into_iter().map(Into::into).collect();
        self
    }

    /// Record spans in this embedded SQLite file.
    pub fn with_local_spans(mut self, path: impl Into<PathBuf>) -> Self {
        self.local_spans = Some(path.into());
        self
    }

    /// Keep recorded spans this long after they end.
    pub fn with_local_span_retention(mut self, retention: std::time::Duration) -> Self {
        self.local_span_retention = retention;
        self
    }
}

/// Whether to export: `OTEL_TRACES_EXPORTER` decides when set (`otlp` or
/// `none`); otherwise an OTLP endpoint variable turns export on. Only
/// gRPC is built in, so another protocol is refused rather than ignored.
fn export_from(exporter: Option<&str>, endpoint_set: bool, protocol: Option<&str>) -> Result<TraceExport, TelemetryError> {
    let otlp = match exporter {
        Some("otlp") => true,
        Some("none") => false,
        Some(other) => {
            return Err(TelemetryError::Config {
                variable: "OTEL_TRACES_EXPORTER",
                message: format!("{other:?} is not supported; use otlp or none"),
            });
        }
        None => endpoint_set,
    };
    if !otlp {
        return Ok(TraceExport::None);
    }
    if let Some(protocol) = protocol.filter(|p| *p != "grpc") {
        return Err(TelemetryError::Config {
            variable: "OTEL_EXPORTER_OTLP_PROTOCOL",
            message: format!("{protocol:?} is not supported; Switchboard exports OTLP over grpc"),
        });
    }
    Ok(TraceExport::Otlp { endpoint: None })
}

/// The sampler the OpenTelemetry specification's variables name.
pub fn sampler_from(name: Option<&str>, arg: Option<&str>) -> Result<Sampler, TelemetryError> {
    let ratio = || -> Result<f64, TelemetryError> {
        let Some(arg) = arg else { return Ok(1.0) };
        match arg.parse::<f64>() {
            Ok(r) if (0.0..=1.0).contains(&r) => Ok(r),
            _ => Err(TelemetryError::Config {
                variable: "OTEL_TRACES_SAMPLER_ARG",
                message: format!("{arg:?} is not a ratio between 0 and 1"),
            }),
        }
    };
    Ok(match name.unwrap_or("parentbased_always_on") {
        "always_on" => Sampler::AlwaysOn,
        "always_off" => Sampler::AlwaysOff,
        "traceidratio" => Sampler::TraceIdRatioBased(ratio()?),
        "parentbased_always_on" => Sampler::ParentBased(Box::new(Sampler::AlwaysOn)),
        "parentbased_always_off" => Sampler::ParentBased(Box::new(Sampler::AlwaysOff)),
        "parentbased_traceidratio" => Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(ratio()?))),
        other => {
            return Err(TelemetryError::Config {
                variable: "OTEL_TRACES_SAMPLER",
                message: format!(
                    "{other:?} is not supported; use always_on, always_off, traceidratio, parentbased_always_on, parentbased_always_off or parentbased_traceidratio"
                ),
            });
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn settings(vars: &[(&str, &str)]) -> Result<Settings, TelemetryError> {
        let vars: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Settings::from_lookup(LogFormat::Json, "1.2.3", |k| vars.get(k).cloned())
    }

    #[test]
    fn nothing_is_exported_unless_an_endpoint_or_the_exporter_variable_says_so() {
        assert_eq!(settings(&[]).unwrap().export, TraceExport::None);
        assert_eq!(
            settings(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://localhost:4317")]).unwrap().export,
            TraceExport::Otlp { endpoint: None }
        );
        assert_eq!(settings(&[("OTEL_TRACES_EXPORTER", "otlp")]).unwrap().export, TraceExport::Otlp { endpoint: None });
        assert_eq!(
            settings(&[("OTEL_TRACES_EXPORTER", "none"), ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://x:4317")]).unwrap().export,
            TraceExport::None
        );
    }

    #[test]
    fn bad_values_are_refused_naming_the_variable() {
        for (vars, variable) in [
            (vec![("OTEL_TRACES_EXPORTER", "zipkin")], "OTEL_TRACES_EXPORTER"),
            (vec![("OTEL_TRACES_SAMPLER", "xray")], "OTEL_TRACES_SAMPLER"),
            (vec![("OTEL_TRACES_SAMPLER", "traceidratio"), ("OTEL_TRACES_SAMPLER_ARG", "2")], "OTEL_TRACES_SAMPLER_ARG"),
            (vec![("OTEL_TRACES_EXPORTER", "otlp"), ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")], "OTEL_EXPORTER_OTLP_PROTOCOL"),
        ] {
            match settings(&vars) {
                Err(TelemetryError::Config { variable: v, .. }) => assert_eq!(v, variable),
                other => panic!("{vars:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn the_sampler_follows_the_specification_names() {
        let s = settings(&[("OTEL_TRACES_SAMPLER", "parentbased_traceidratio"), ("OTEL_TRACES_SAMPLER_ARG", "0.25")]).unwrap();
        assert!(format!("{:?}", s.sampler).contains("0.25"), "{:?}", s.sampler);
        let s = settings(&[]).unwrap();
        assert!(format!("{:?}", s.sampler).contains("ParentBased"), "{:?}", s.sampler);
        assert_eq!(s.environment, "development");
    }
}
