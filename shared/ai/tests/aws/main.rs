//! The AWS engines' real SDK clients against local stubs of Comprehend,
//! Textract and Bedrock Runtime: what is sent, what is parsed, and what
//! happens on throttling, timeouts, server errors and malformed answers.
//! Also the crate's other integration tests (one test binary per crate):
//! the labelled corpus (`corpus.rs`) and the committed model's freshness
//! (`model.rs`).

// Test code: the stubs and fixtures panic on what cannot happen in a test
// (a loopback port that cannot be bound, a poisoned lock), which fails it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod bedrock;
mod comprehend;
mod corpus;
mod intent_cost;
mod model;
mod stub;
mod textract;

/// Character offsets of `needle` in `text`, as Comprehend reports them.
pub fn char_offsets(text: &str, needle: &str) -> Option<(usize, usize)> {
    let at = text.find(needle)?;
    let begin = text[..at].chars().count();
    Some((begin, begin + needle.chars().count()))
}

/// Whether the text has Hangul.
pub fn has_hangul(text: &str) -> bool {
    text.chars().any(|c| ('\u{AC00}'..='\u{D7A3}').contains(&c))
}
