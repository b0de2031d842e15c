//! Where attachment bodies are kept, and collecting the ones no inquiry
//! references.
//!
//! Intake stores a submission's bodies before its inquiry (so an inquiry
//! never points at a missing body), under keys that name the inquiry:
//! `attachments/{inquiry id}/{index}.{extension}`. A body whose inquiry was
//! never created — the process died in between, or a concurrent submission
//! with the same idempotency key won — is an orphan. [`sweep`] deletes
//! orphans (and their attachment records) older than a grace period: far longer than any submission takes
//! between storing its bodies and creating its inquiry, so a body whose
//! inquiry is about to be created is never taken.

use jiff::{SignedDuration, Timestamp};
use std::collections::BTreeSet;
use switchboard_domain::{InquiryId, MediaType};
use switchboard_store::blob::{BlobStore, LIST_PAGE};
use switchboard_store::{InquiryStore, StoreError};

/// The prefix of every attachment body's key.
pub const PREFIX: &str = "attachments/";

/// How old an unreferenced body must be before [`sweep`] deletes it. A
/// submission stores its bodies and creates its inquiry within one request
/// (the gateway's timeout is seconds) or one queue delivery.
pub const GRACE: SignedDuration = SignedDuration::from_hours(1);

/// The key of attachment `index` of inquiry `id`.
pub fn key(id: InquiryId, index: usize, media_type: MediaType) -> String {
    format!("{PREFIX}{id}/{index}.{}", media_type.extension())
}

/// The inquiry an attachment key names, if it is one.
pub fn inquiry_of(key: &str) -> Option<InquiryId> {
    let (id, _file) = key.strip_prefix(PREFIX)?.split_once('/')?;
    InquiryId::parse(id).ok()
}

/// The first key of inquiries created at `at` or later: inquiry ids begin
/// with their creation time (UUIDv7), so keys sort by it.
fn first_key_at(at: Timestamp) -> String {
    format!("{PREFIX}{}", InquiryId::new(at, [0; 10]))
}

/// What a sweep did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Swept {
    /// Bodies looked at (old enough to judge).
    pub examined: usize,
    /// The keys deleted: their inquiry does not exist.
    pub deleted: Vec<String>,
    /// Attachment records deleted with them (table items of the same
    /// never-created inquiries).
    pub records_deleted: usize,
}

/// Deletes the attachment bodies stored before `now - grace` whose inquiry
/// does not exist, among those of inquiries created at `since` or later
/// (`None`: all). Safe to run at any time, by several processes at once,
/// and again after a failure: it only deletes what nothing references.
pub async fn sweep(
    blobs: &dyn BlobStore,
    inquiries: &dyn InquiryStore,
    now: Timestamp,
    grace: SignedDuration,
    since: Option<Timestamp>,
) -> Result<Swept, StoreError> {
    let cutoff = now - grace;
    let mut swept = Swept::default();
    let mut after = since.map(first_key_at).unwrap_or_default();
    // Inquiries seen to exist, and seen not to, so each is read once.
    let (mut existing, mut missing) = (BTreeSet::new(), BTreeSet::new());
    loop {
        let page = blobs.list(PREFIX, &after).await?;
        for blob in &page {
            // Not a body this layout makes, or too young to judge.
            let Some(id) = inquiry_of(&blob.key) else { continue };
            if blob.stored_at > cutoff {
                continue;
            }
            swept.examined += 1;
            if existing.contains(&id) {
                continue;
            }
            if !missing.contains(&id) {
                if inquiries.get_inquiry(id).await?.is_some() {
                    existing.insert(id);
                    continue;
                }
                // Conditional on the inquiry's absence, like the read above.
                swept.records_deleted += inquiries.delete_orphan_attachments(id).await?;
                missing.insert(id);
            }
            blobs.delete(&blob.key).await?;
            swept.deleted.push(blob.key.clone());
        }
        match page.last() {
            Some(last) if page.len() >= LIST_PAGE => after = last.key.clone(),
            _ => return Ok(swept),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_names_its_inquiry_and_keys_sort_by_creation_time() {
        let earlier = InquiryId::new(Timestamp::from_second(1_700_000_000).unwrap(), [0xff; 10]);
        let later = InquiryId::new(Timestamp::from_second(1_700_000_001).unwrap(), [0; 10]);
        let key = key(earlier, 2, MediaType::Png);
        assert_eq!(inquiry_of(&key), Some(earlier));
        assert!(key < super::key(later, 0, MediaType::Jpeg));
        assert!(first_key_at(Timestamp::from_second(1_700_000_001).unwrap()) > key);
        assert_eq!(inquiry_of("attachments/not-an-id/0.png"), None);
        assert_eq!(inquiry_of("elsewhere/0.png"), None);
    }
}
