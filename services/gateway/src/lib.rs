//! The gateway: the gRPC API (`grpc`) and its REST twin for tenants and
//! operators, the partner's confirmation page, health and readiness. It
//! reads the store and calls the intake and partner-dispatcher libraries
//! in-process; it never talks to workers.
//!
//! This file only declares the modules and what the crate offers; no
//! module imports another that imports it back (the graph is acyclic).

mod admission;
mod api;
mod app;
mod chat;
mod client_address;
mod concurrency_cap;
mod console;
mod conversation;
mod customer_page;
mod error;
mod eta;
mod faq_ops;
mod faq_rest;
mod feedback;
pub mod follow_up_classifier;
pub mod grpc;
mod health;
mod html_page;
mod inquiries;
mod limiter;
mod limits;
mod listing;
mod message_views;
mod openapi;
pub mod operators;
mod ops;
mod partner;
mod partner_limit;
mod partner_page;
mod principal;
mod problem;
mod rate_limits;
mod reply_suggestions;
mod reservations;
mod rest;
mod satisfaction;
mod schemas;
mod serve;
mod sla_ops;
mod sla_rest;
mod state;
mod status_cache;
mod stream_slots;
mod suggestions;
mod telemetry;
mod tenant_rest;
mod timeline_pollers;
mod traces;
mod views;
mod watch;
mod webhook_admin;
pub mod webhook_ops;
mod webhook_rest;

pub use admission::{AdmissionLimits, Backlog, BacklogSample, StageBacklog};
pub use api::{Api, ApiParts, ApiSettings, DEFAULT_CONSOLE_SESSION, DEFAULT_MAX_CONCURRENT_REQUESTS};
pub use app::router;
pub use client_address::{BadProxyRange, TrustedProxies};
pub use error::ApiError;
pub use follow_up_classifier::FollowUpClassifier;
pub use health::{CachedReadiness, READINESS_TTL};
pub use limits::MAX_BODY_BYTES;
pub use operators::OperatorKeys;
pub use principal::Principal;
pub use problem::Problem;
pub use rate_limits::Rates;
pub use reply_suggestions::ReplySuggestions;
pub use serve::{Listeners, serve};
pub use state::{Gateway, GatewayParts, NotReady, Readiness};
pub use status_cache::DEFAULT_STATUS_STALENESS;
pub use traces::{RecordedTraces, TraceBar, TraceSource, TraceView, XRayTraces};
pub use webhook_admin::{DEFAULT_ROTATION_GRACE, WebhookAdmin};
