//! Attachment bodies: a port, and the embedded adapter that keeps them as files.
//!
//! Messages and table items carry only keys; the bytes live here (S3 in AWS mode).

use crate::StoreError;
use async_trait::async_trait;
use std::path::{Path, PathBuf};

/// A stored body, as a listing shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredBlob {
    /// Its key.
    pub key: String,
    /// When it was last written (the file's modification time, the object's `LastModified`).
    pub stored_at: jiff::Timestamp,
}

/// Most keys one [`BlobStore::list`] call returns (S3's page size).
pub const LIST_PAGE: usize = 1000;

/// Stores and reads attachment bodies by key.
#[async_trait]
pub trait BlobStore: Send + Sync {
    /// Stores (or replaces) the body under `key`.
    async fn put(&self, key: &str, bytes: &[u8], media_type: &str) -> Result<(), StoreError>;
    /// The body under `key`; [`StoreError::NotFound`] if there is none.
    async fn get(&self, key: &str) -> Result<Vec<u8>, StoreError>;
    /// Deletes the body under `key`; deleting one that is not there is no error.
    async fn delete(&self, key: &str) -> Result<(), StoreError>;
    /// Up to [`LIST_PAGE`] bodies whose keys start with `prefix` and sort
    /// after `start_after`, in key order (a shorter page is the last).
    async fn list(&self, prefix: &str, start_after: &str) -> Result<Vec<StoredBlob>, StoreError>;
}

/// Refuses keys Switchboard would never make. Keys are made from ids; a key
/// that could climb out of a directory (or name an odd S3 object) is a bug
/// or an attack, and every adapter refuses it the same way.
pub(crate) fn check_key(key: &str) -> Result<(), StoreError> {
    let safe = !key.is_empty()
        && key.split('/').all(|part| !part.is_empty() && part != "." && part != "..")
        && key.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '-' | '_' | '.'));
    if safe { Ok(()) } else { Err(StoreError::NotFound(format!("invalid blob key {key:?}"))) }
}

/// Blobs as files under one directory (embedded mode).
#[derive(Debug, Clone)]
pub struct FilesystemBlobs {
    root: PathBuf,
}

impl FilesystemBlobs {
    /// Blobs under `root`, which is created on the first write.
    pub fn new(root: &Path) -> Self {
        Self { root: root.to_owned() }
    }

    fn path(&self, key: &str) -> Result<PathBuf, StoreError> {
        check_key(key)?;
        Ok(self.root.join(key))
    }
}

#[async_trait]
impl BlobStore for FilesystemBlobs {
    async fn put(&self, key: &str, bytes: &[u8], _media_type: &str) -> Result<(), StoreError> {
        let path = self.path(key)?;
        if let Some(parent) = path.parent() {
            tokio::fs::create_dir_all(parent).await?;
        }
        // Write then rename, so a crash never leaves a half-written attachment.
        let tmp = path.with_extension("partial");
        tokio::fs::write(&tmp, bytes).await?;
        Ok(tokio::fs::rename(&tmp, &path).await?)
    }

    async fn get(&self, key: &str) -> Result<Vec<u8>, StoreError> {
        let path = self.path(key)?;
        tokio::fs::read(&path).await.map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => StoreError::NotFound(key.to_owned()),
            _ => StoreError::Io(e),
        })
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        let path = self.path(key)?;
        match tokio::fs::remove_file(&path).await {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(StoreError::Io(e)),
            _ => Ok(()),
        }
    }

    async fn list(&self, prefix: &str, start_after: &str) -> Result<Vec<StoredBlob>, StoreError> {
        let (root, prefix, start_after) = (self.root.clone(), prefix.to_owned(), start_after.to_owned());
        tokio::task::spawn_blocking(move || {
            let mut found = Vec::new();
            walk(&root, "", &prefix, &start_after, &mut found)?;
            Ok(found)
        })
        .await
        .map_err(|e| StoreError::Io(std::io::Error::other(e)))?
    }
}

/// Lists the files under `dir` (whose key prefix is `at`) in key order into
/// `found`, as S3 lists objects, until the page is full. Directories whose
/// keys all sort at or before `start_after`, or outside `prefix`, are not
/// entered, so a page costs about its own size, not the whole tree.
fn walk(dir: &Path, at: &str, prefix: &str, start_after: &str, found: &mut Vec<StoredBlob>) -> Result<(), StoreError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(StoreError::Io(e)),
    };
    let mut names = Vec::new();
    for entry in entries {
        let entry = entry?;
        // Keys are ASCII (see `check_key`): any other name is not a blob.
        if let Ok(name) = entry.file_name().into_string() {
            names.push((name, entry.file_type()?.is_dir()));
        }
    }
    // A directory's keys carry a '/' after its name, so sort it as "name/".
    names.sort_by(|a, b| {
        let key = |(name, is_dir): &(String, bool)| if *is_dir { format!("{name}/") } else { name.clone() };
        key(a).cmp(&key(b))
    });
    for (name, is_dir) in names {
        if found.len() >= LIST_PAGE {
            return Ok(());
        }
        if is_dir {
            let under = format!("{at}{name}/");
            let overlaps_prefix = under.starts_with(prefix) || prefix.starts_with(&under);
            let all_before = start_after > under.as_str() && !start_after.starts_with(&under);
            if overlaps_prefix && !all_before {
                walk(&dir.join(&name), &under, prefix, start_after, found)?;
            }
        } else {
            let key = format!("{at}{name}");
            // Half-written bodies (see `put`) are not blobs yet.
            if key.starts_with(prefix) && key.as_str() > start_after && check_key(&key).is_ok() && !key.ends_with(".partial") {
                let modified = match std::fs::metadata(dir.join(&name)) {
                    Ok(metadata) => metadata.modified()?,
                    // Deleted since the directory was read (another sweep): not there.
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                    Err(e) => return Err(StoreError::Io(e)),
                };
                let stored_at = jiff::Timestamp::try_from(modified).map_err(|e| StoreError::Io(std::io::Error::other(e)))?;
                found.push(StoredBlob { key, stored_at });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn blobs_round_trip_and_keys_cannot_escape_the_root() {
        let dir = tempfile::tempdir().unwrap();
        let blobs = FilesystemBlobs::new(dir.path());
        blobs.put("inq/1/0.png", b"png", "image/png").await.unwrap();
        assert_eq!(blobs.get("inq/1/0.png").await.unwrap(), b"png");
        assert!(blobs.put("../evil", b"x", "x").await.is_err());
        assert!(matches!(blobs.get("inq/2/0.png").await, Err(StoreError::NotFound(_))));
    }

    #[tokio::test]
    async fn a_listing_pages_through_the_keys_in_order_and_a_delete_removes_one() {
        let dir = tempfile::tempdir().unwrap();
        let blobs = FilesystemBlobs::new(dir.path());
        let keys: Vec<String> = (0..LIST_PAGE + 5).map(|i| format!("a/{:02}/{i:05}.png", i % 7)).collect();
        for key in &keys {
            blobs.put(key, b"x", "image/png").await.unwrap();
        }
        blobs.put("b/0.png", b"x", "image/png").await.unwrap();
        let mut sorted = keys.clone();
        sorted.sort();
        let first = blobs.list("a/", "").await.unwrap();
        assert_eq!(first.len(), LIST_PAGE);
        let last = first.last().unwrap().key.clone();
        let second = blobs.list("a/", &last).await.unwrap();
        let listed: Vec<String> = first.into_iter().chain(second).map(|b| b.key).collect();
        assert_eq!(listed, sorted, "every key under the prefix once, in order, nothing else");

        blobs.delete(&sorted[0]).await.unwrap();
        blobs.delete(&sorted[0]).await.expect("deleting a missing blob is no error");
        assert!(matches!(blobs.get(&sorted[0]).await, Err(StoreError::NotFound(_))));
        assert_eq!(blobs.list("a/", "").await.unwrap()[0].key, sorted[1]);
    }
}
