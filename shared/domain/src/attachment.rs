//! Attachments as uploaded: size limits and types detected from the bytes.

use serde::{Deserialize, Serialize};

/// Most attachments one inquiry may carry.
pub const MAX_ATTACHMENTS: usize = 5;
/// Largest attachment accepted, in bytes (5 MB).
pub const MAX_ATTACHMENT_BYTES: usize = 5 * 1024 * 1024;

/// The attachment types Switchboard reads, detected by magic bytes (a file
/// name or a client's content type says nothing reliable).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum MediaType {
    /// A JPEG image.
    #[serde(rename = "image/jpeg")]
    Jpeg,
    /// A PNG image.
    #[serde(rename = "image/png")]
    Png,
    /// A PDF document.
    #[serde(rename = "application/pdf")]
    Pdf,
}

impl MediaType {
    /// The type the leading bytes show, if Switchboard reads it.
    pub fn detect(bytes: &[u8]) -> Option<Self> {
        if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(Self::Jpeg)
        } else if bytes.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
            Some(Self::Png)
        } else if bytes.starts_with(b"%PDF-") {
            Some(Self::Pdf)
        } else {
            None
        }
    }

    /// The MIME type, e.g. `image/png`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Jpeg => "image/jpeg",
            Self::Png => "image/png",
            Self::Pdf => "application/pdf",
        }
    }

    /// The usual file extension, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Jpeg => "jpg",
            Self::Png => "png",
            Self::Pdf => "pdf",
        }
    }
}

/// A validated attachment, ready to be stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachmentUpload {
    /// The client's file name, kept for display only (never used as a storage key).
    pub filename: String,
    /// The type detected from the bytes.
    pub media_type: MediaType,
    /// The file itself.
    pub bytes: Vec<u8>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_are_detected_from_magic_bytes() {
        assert_eq!(MediaType::detect(&[0xFF, 0xD8, 0xFF, 0xE0, 0]), Some(MediaType::Jpeg));
        assert_eq!(MediaType::detect(b"\x89PNG\r\n\x1a\n...."), Some(MediaType::Png));
        assert_eq!(MediaType::detect(b"%PDF-1.7\n"), Some(MediaType::Pdf));
        assert_eq!(MediaType::detect(b"GIF89a"), None);
        assert_eq!(MediaType::detect(b""), None);
    }
}
