//! The `switchboard loadtest` and `switchboard bench` command lines.

use crate::mix::MixConfig;
use crate::report::{Percentiles, Report};
use crate::run::{LoadConfig, LoadError, run};
use crate::schedule::parse_duration;
use std::path::PathBuf;
use std::time::Duration;
use switchboard_sqlite::Durability;
use switchboard_sqlite::floor::{self, FloorReport};

/// Open-loop load against a running gateway (REST).
///
/// Sends `--rate` inquiries per second for `--duration` on a fixed
/// timetable, measuring each from the moment it was due; follows each
/// accepted inquiry to a terminal status; plays the partner for
/// reservation changes (reading its SMS link from the embedded outbox in
/// `--data-dir`, read-only). Over REST by default, over gRPC with `--grpc`.
#[derive(Debug, Clone, clap::Args)]
pub struct LoadtestArgs {
    /// Base URL of the gateway (loopback only unless --allow-remote).
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    pub target: String,
    /// Talk gRPC (switchboard.v1) to this address, e.g. 127.0.0.1:50051, instead of REST to --target.
    #[arg(long, value_name = "ADDR")]
    pub grpc: Option<String>,
    /// API key of the tenant to load (the demo tenant's under `up --demo`).
    #[arg(long, env = "SWITCHBOARD_DEMO_API_KEY", hide_env_values = true)]
    pub api_key: String,
    /// Inquiries per second.
    #[arg(long)]
    pub rate: f64,
    /// How long to send (e.g. 30s, 2m).
    #[arg(long, default_value = "30s", value_parser = parse_duration)]
    pub duration: Duration,
    /// After sending, how long to wait for accepted inquiries to reach a terminal status.
    #[arg(long, default_value = "60s", value_parser = parse_duration)]
    pub drain: Duration,
    /// Write the JSON report here.
    #[arg(long)]
    pub report: Option<PathBuf>,
    /// Write an SVG chart (latency percentiles and throughput per second) here.
    #[arg(long)]
    pub chart: Option<PathBuf>,
    /// The server's data directory (embedded mode): the simulated partner
    /// reads its SMS links from the outbox there, read-only. Without it
    /// partner requests go unanswered and end at the server's deadline.
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Share of inquiries that ask a partner to confirm a change (0–1).
    #[arg(long, default_value_t = 0.2)]
    pub partner_share: f64,
    /// Share of inquiries with a small photo attached (0–1).
    #[arg(long, default_value_t = 0.1)]
    pub attachment_share: f64,
    /// Share of partner requests the simulated partner never answers (0–1).
    #[arg(long, default_value_t = 0.2)]
    pub silent_partner_share: f64,
    /// The simulated partner answers after a delay drawn from this range.
    #[arg(long, default_value = "200ms..3s", value_parser = parse_delay_range)]
    pub partner_delay: DelayRange,
    /// Seed of the inquiry mix (the same seed sends the same inquiries).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Process id of the server: its peak memory (VmHWM) and CPU time go into the report.
    #[arg(long)]
    pub server_pid: Option<u32>,
    /// No progress bar.
    #[arg(long)]
    pub no_progress: bool,
    /// Allow a target that is not a loopback address.
    #[arg(long)]
    pub allow_remote: bool,
    /// Most status polls per second over all followed inquiries (default:
    /// twice --rate, at least 100). End-to-end times come from the server's
    /// timestamps, so pacing the polls delays only when completions are seen.
    #[arg(long)]
    pub max_poll_rate: Option<f64>,
    /// How many times a submission the server sheds (503 with
    /// `Retry-After`, UNAVAILABLE with `RetryInfo`) is sent again, each
    /// after the advised wait; 0 counts it and drops it.
    #[arg(long, default_value_t = crate::run::DEFAULT_SHED_RETRIES)]
    pub shed_retries: u32,
    /// Also poll the status of already accepted inquiries at this many
    /// polls a second, open loop, each of an id drawn uniformly from those
    /// accepted so far, for --duration; reported apart ("poll load").
    #[arg(long, value_name = "RATE")]
    pub poll_load: Option<f64>,
}

/// A `LOW..HIGH` range of delays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DelayRange(pub Duration, pub Duration);

fn parse_delay_range(text: &str) -> Result<DelayRange, String> {
    let (low, high) = text.split_once("..").ok_or_else(|| format!("{text:?} is not a range such as 200ms..3s"))?;
    let (low, high) = (parse_duration(low)?, parse_duration(high)?);
    if high < low {
        return Err(format!("{text:?}: the upper bound is below the lower one"));
    }
    Ok(DelayRange(low, high))
}

fn share(name: &str, value: f64) -> Result<f64, CliError> {
    if (0.0..=1.0).contains(&value) { Ok(value) } else { Err(CliError::Invalid(format!("{name} must be between 0 and 1"))) }
}

/// Why a command failed.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Load(#[from] LoadError),
    #[error("cannot write {path}: {why}")]
    Write { path: PathBuf, why: String },
    #[error("benchmark failed: {0}")]
    Bench(String),
}

impl LoadtestArgs {
    /// The run these arguments describe.
    pub fn config(&self) -> Result<LoadConfig, CliError> {
        let partner_share = share("--partner-share", self.partner_share)?;
        let attachment_share = share("--attachment-share", self.attachment_share)?;
        if partner_share + attachment_share > 1.0 {
            return Err(CliError::Invalid("--partner-share plus --attachment-share must be at most 1".into()));
        }
        Ok(LoadConfig {
            target: self.target.clone(),
            grpc: self.grpc.clone(),
            api_key: self.api_key.clone(),
            rate: self.rate,
            duration: self.duration,
            drain: self.drain,
            data_dir: self.data_dir.clone(),
            mix: MixConfig {
                partner_share,
                attachment_share,
                silent_share: share("--silent-partner-share", self.silent_partner_share)?,
                partner_delay: (self.partner_delay.0, self.partner_delay.1),
                ..MixConfig::default()
            },
            seed: self.seed,
            server_pid: self.server_pid,
            progress: !self.no_progress,
            request_timeout: Duration::from_secs(30),
            allow_remote: self.allow_remote,
            max_poll_rate: self.max_poll_rate,
            shed_retries: self.shed_retries,
            poll_load: self.poll_load,
        })
    }
}

/// `switchboard loadtest`: runs, prints a summary, writes the report and chart.
pub async fn loadtest(args: LoadtestArgs) -> Result<Report, CliError> {
    let report = run(args.config()?).await?;
    println!("{}", summary(&report));
    if let Some(path) = &args.report {
        let json = serde_json::to_string_pretty(&report).map_err(|e| CliError::Write { path: path.clone(), why: e.to_string() })?;
        std::fs::write(path, json + "\n").map_err(|e| CliError::Write { path: path.clone(), why: e.to_string() })?;
        println!("report: {}", path.display());
    }
    if let Some(path) = &args.chart {
        crate::chart::write_svg(&report, path).map_err(|e| CliError::Write { path: path.clone(), why: e.to_string() })?;
        println!("chart: {}", path.display());
    }
    for broken in report.inconsistencies() {
        eprintln!("warning: report inconsistency: {broken}");
    }
    Ok(report)
}

fn line(name: &str, p: &Percentiles) -> String {
    format!("{name:<22} p50 {:>9.1}  p90 {:>9.1}  p99 {:>9.1}  max {:>9.1}  (n={})", p.p50, p.p90, p.p99, p.max, p.count)
}

/// The human summary printed after a run.
pub fn summary(r: &Report) -> String {
    let mut out = vec![
        format!(
            "{} req/s for {:.0} s against {} ({}): sent {} · accepted {} · shed {} ({} retried) · completed {} · in flight {} · errors {}",
            r.rate, r.duration_secs, r.target, r.protocol, r.sent, r.accepted, r.shed, r.shed_retries, r.completed, r.in_flight, r.errors
        ),
        format!(
            "throughput: accepted {:.1}/s, end-to-end {:.1}/s at steady state ({:.1}/s including the drain)",
            r.throughput_submit, r.throughput_e2e, r.throughput_e2e_overall
        ),
        "latency (ms):".to_owned(),
        line("  submit", &r.submit_latency_ms),
        line("  end-to-end, all", &r.e2e_latency_ms),
        line("  end-to-end, no partner", &r.e2e_auto_latency_ms),
        line("  end-to-end, partner", &r.e2e_partner_latency_ms),
    ];
    let join = |m: &std::collections::BTreeMap<String, u64>| m.iter().map(|(k, v)| format!("{k} {v}")).collect::<Vec<_>>().join(", ");
    out.push(format!("outcomes: {}", join(&r.outcomes)));
    if !r.errors_by_kind.is_empty() {
        out.push(format!("errors: {}", join(&r.errors_by_kind)));
    }
    let p = &r.partner;
    out.push(format!(
        "partner: requested {}, answered {}, silent {}, late {}, links missing {}, errors {}",
        p.requested, p.answered, p.silent, p.late, p.links_missing, p.errors
    ));
    out.push(format!("status polls: {} ({} failed)", r.status_polls, r.poll_errors));
    if let Some(p) = &r.poll_load {
        out.push(format!(
            "poll load: {}/s offered · sent {} · ok {} ({:.1}/s) · errors {} · skipped {} (no inquiry accepted yet)",
            p.rate, p.sent, p.ok, p.throughput, p.errors, p.skipped
        ));
        out.push(line("  poll latency (ms)", &p.latency_ms));
        if !p.errors_by_kind.is_empty() {
            out.push(format!("  poll errors: {}", join(&p.errors_by_kind)));
        }
    }
    if let Some(s) = &r.server {
        out.push(format!(
            "server pid {}: peak RSS {} MB, CPU {} s",
            s.pid,
            s.peak_rss_mb.map_or("?".into(), |m| format!("{m:.1}")),
            s.cpu_seconds.map_or("?".into(), |c| format!("{c:.1}"))
        ));
    }
    out.push(format!(
        "load generator: peak RSS {} MB, CPU {} s",
        r.client.peak_rss_mb.map_or("?".into(), |m| format!("{m:.1}")),
        r.client.cpu_seconds.map_or("?".into(), |c| format!("{c:.1}"))
    ));
    out.join("\n")
}

/// Micro-benchmarks.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum BenchCommand {
    /// The durable-write floor of the embedded store on this machine:
    /// commits/s of one-row transactions and rows/s of batched ones, at
    /// synchronous=NORMAL and FULL, raw and through the store's writer.
    Sqlite(SqliteBenchArgs),
}

/// `switchboard bench sqlite`.
#[derive(Debug, Clone, clap::Args)]
pub struct SqliteBenchArgs {
    /// Where the scratch database goes (its filesystem is what is measured);
    /// a fresh folder in the current directory by default, removed afterwards.
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Seconds per measurement.
    #[arg(long, default_value = "3s", value_parser = parse_duration)]
    pub time: Duration,
    /// Bytes of payload per row.
    #[arg(long, default_value_t = 600)]
    pub row_bytes: usize,
    /// Rows per transaction in the batched measurement.
    #[arg(long, default_value_t = 50)]
    pub batch: usize,
    /// Concurrent callers in the measurement through the store's writer.
    #[arg(long, default_value_t = 64)]
    pub callers: usize,
    /// Also write the results as JSON here.
    #[arg(long)]
    pub json: Option<PathBuf>,
}

/// `switchboard bench …`.
pub async fn bench(command: BenchCommand) -> Result<Vec<FloorReport>, CliError> {
    let BenchCommand::Sqlite(args) = command;
    let (dir, remove) = match &args.dir {
        Some(d) => (d.clone(), false),
        None => (PathBuf::from(format!("switchboard-bench-{}", std::process::id())), true),
    };
    std::fs::create_dir_all(&dir).map_err(|e| CliError::Bench(format!("{}: {e}", dir.display())))?;
    let settings = floor::FloorSettings { time: args.time, row_bytes: args.row_bytes, batch: args.batch, callers: args.callers };
    let mut reports = Vec::new();
    for durability in [Durability::Normal, Durability::Full] {
        let report = floor::measure(&dir, durability, &settings).await.map_err(|e| CliError::Bench(e.to_string()));
        match report {
            Ok(r) => {
                println!("{}", r.summary());
                reports.push(r);
            }
            Err(e) => {
                if remove {
                    let _ = std::fs::remove_dir_all(&dir);
                }
                return Err(e);
            }
        }
    }
    if remove {
        let _ = std::fs::remove_dir_all(&dir);
    }
    if let Some(path) = &args.json {
        let values: Vec<serde_json::Value> = reports
            .iter()
            .map(|r| {
                serde_json::json!({
                    "synchronous": r.durability.pragma(),
                    "row_bytes": r.row_bytes,
                    "one_row_commits_per_sec": r.one_row_commits_per_sec.round(),
                    "batch": r.batch,
                    "batched_rows_per_sec": r.batched_rows_per_sec.round(),
                    "callers": r.callers,
                    "writer_writes_per_sec": r.writer_writes_per_sec.round(),
                })
            })
            .collect();
        let json = serde_json::to_string_pretty(&values).map_err(|e| CliError::Write { path: path.clone(), why: e.to_string() })?;
        std::fs::write(path, json + "\n").map_err(|e| CliError::Write { path: path.clone(), why: e.to_string() })?;
    }
    Ok(reports)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delay_ranges_parse() {
        assert_eq!(parse_delay_range("200ms..3s"), Ok(DelayRange(Duration::from_millis(200), Duration::from_secs(3))));
        assert!(parse_delay_range("3s..1s").is_err());
        assert!(parse_delay_range("3s").is_err());
    }
}
