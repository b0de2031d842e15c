//! End-to-end acceptance tests: the embedded pipeline, and the AWS mode on the emulator.

// Every function in this crate is test code (helpers included): a panic is a
// failed assertion, so unwrap/expect are allowed here as in `#[test]` bodies.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod ai_aws;
mod answers;
mod attachments;
mod aws_costs;
mod aws_permissions;
mod aws_pipeline;
mod conformance_corrections;
mod conformance_messaging;
mod conformance_store;
mod conversation;
mod crash;
mod customer_page;
mod dead_letter;
mod escalation;
mod faq_api;
mod faults;
mod first_start;
mod follow_ups;
mod gateway_body_limits;
mod gateway_cli;
mod gateway_edge;
mod gateway_eta;
mod gateway_fuzz;
mod gateway_grpc;
mod gateway_openapi;
mod gateway_outages;
mod gateway_reflection;
mod gateway_rest;
mod gateway_streams;
mod gateway_tenancy;
mod idempotency;
mod intake_text;
mod learning;
mod load_shedding;
mod loadtest;
mod module_graph;
mod outbox;
mod partner;
mod partner_abuse;
mod partner_browser;
mod partner_outcomes;
mod partner_sms;
mod reservation_unverified;
mod reservations_import;
mod shutdown;
mod sms_limits;
mod status_reads;
mod submission_cancel;
mod sweeper;
mod telemetry;
mod upstream;
mod validation;
