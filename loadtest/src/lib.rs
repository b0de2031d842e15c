//! Switchboard's load generator: `switchboard loadtest` and `switchboard bench`.
//!
//! Open-loop load at a fixed rate over REST or gRPC ([`schedule`], [`api`]), a
//! realistic mix of inquiries ([`mix`]), HDR histograms of submit latency
//! and end-to-end time to a terminal status ([`report`]), a simulated
//! partner that reads its links from the embedded outbox ([`links`]), an
//! optional poll-heavy load of status reads beside it ([`poll_load`]), and
//! a JSON report with an SVG chart ([`chart`]). See `loadtest/README.md`.

pub mod api;
pub mod chart;
pub mod cli;
pub mod links;
pub mod mix;
pub mod poll_load;
pub mod procstat;
pub mod report;
pub mod run;
pub mod schedule;

pub use report::Report;
pub use run::{LoadConfig, LoadError, run};
