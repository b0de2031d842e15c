//! `?` for the ports' failures in handlers: a store or channel call that
//! failed means "try the message again later".
//!
//! These are not `From` impls on [`Outcome`] (as the messaging port's is,
//! in the worker crate): Rust allows `impl From<StoreError> for Outcome`
//! only in the crate of one of the two types, and neither direction is one
//! the crates should depend in. The worker runtime knows queues, not the
//! storage and channel ports; the ports know nothing of the runtime. This
//! crate sees both, so the rule "a port failure is a retry" is written once
//! here, as `.or_retry()?`.

use switchboard_channels::ChannelError;
use switchboard_store::{StoreError, TransitionError};
use switchboard_worker::Outcome;

/// A failure that passes: worth trying the message again.
pub trait Transient: std::fmt::Display {}

impl Transient for StoreError {}
impl Transient for ChannelError {}
impl Transient for TransitionError {}

/// Turns a port's failure into [`Outcome::Retry`], for `?` in handlers.
pub trait OrRetry<T> {
    /// `Err(e)` becomes `Err(Outcome::retry(e))`.
    fn or_retry(self) -> Result<T, Outcome>;
}

impl<T, E: Transient> OrRetry<T> for Result<T, E> {
    fn or_retry(self) -> Result<T, Outcome> {
        self.map_err(Outcome::retry)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_store_or_channel_failure_is_retried_with_its_reason() {
        let store: Result<(), StoreError> = Err(StoreError::Unavailable("down".into()));
        assert_eq!(store.or_retry(), Err(Outcome::retry("store unavailable: down")));
        let channel: Result<u8, ChannelError> = Err(ChannelError::Unavailable("busy".into()));
        assert_eq!(channel.or_retry(), Err(Outcome::retry("the channel is unavailable: busy")));
        let fine: Result<u8, StoreError> = Ok(1);
        assert_eq!(fine.or_retry(), Ok(1));
    }
}
