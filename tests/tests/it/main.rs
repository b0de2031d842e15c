//! End-to-end acceptance tests: the embedded pipeline, and the AWS mode on the emulator.

mod ai_aws;
mod answers;
mod aws_costs;
mod aws_permissions;
mod aws_pipeline;
mod conformance_messaging;
mod conformance_store;
mod crash;
mod dead_letter;
mod escalation;
mod idempotency;
mod partner;
mod partner_abuse;
mod partner_browser;
mod partner_outcomes;
mod partner_sms;
mod reservations_import;
mod shutdown;
mod upstream;
mod validation;
