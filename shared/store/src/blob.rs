//! Attachment bodies: a port, and the embedded adapter that keeps them as files.
//!
//! Messages and table items carry only keys; the bytes live here (S3 in AWS mode).

use crate::StoreError;
use async_trait::async_trait;
use std::path::{Path, PathBuf};

/// Stores and reads attachment bodies by key.
#[async_trait]
pub trait BlobStore: Send + Sync {
    /// Stores (or replaces) the body under `key`.
    async fn put(&self, key: &str, bytes: &[u8], media_type: &str) -> Result<(), StoreError>;
    /// The body under `key`; [`StoreError::NotFound`] if there is none.
    async fn get(&self, key: &str) -> Result<Vec<u8>, StoreError>;
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
}
