//! End-to-end acceptance tests: the embedded pipeline, and the AWS mode on the emulator.

mod answers;
mod aws_costs;
mod aws_pipeline;
mod conformance_messaging;
mod conformance_store;
mod crash;
mod dead_letter;
mod escalation;
mod idempotency;
mod partner;
mod shutdown;
mod upstream;
mod validation;
