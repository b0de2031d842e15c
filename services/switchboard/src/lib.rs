//! The `switchboard` binary's library: configuration, the composition
//! root, and the data tools, so tests build the same application the
//! binary runs.

pub mod ai;
pub mod attachments_cli;
pub mod aws;
pub mod backlog;
pub mod cloudformation;
pub mod config;
pub mod demo;
pub mod faq_cli;
pub mod model_cli;
pub mod observability;
pub mod permissions;
pub mod provision;
pub mod reservations_import;
pub mod retention;
pub mod startup;
pub mod store_bench;
pub mod tenant_eval;
pub mod token_keys;

pub use config::{Config, Overrides};
pub use startup::{App, Ports, Selection};
