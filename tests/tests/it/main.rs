//! End-to-end acceptance tests of the embedded pipeline.

mod answers;
mod crash;
mod dead_letter;
mod escalation;
mod idempotency;
mod partner;
mod shutdown;
mod upstream;
mod validation;
