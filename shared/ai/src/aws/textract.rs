//! The attachment analyzer on Amazon Textract and a Bedrock vision model.
//!
//! The local checks always run first (dimensions, pages, PDF text layer,
//! problems). Then, at once:
//! - Textract reads the text: `DetectDocumentText` for photos (JPEG,
//!   PNG), `AnalyzeDocument` with `FORMS` for PDFs, so a booking
//!   confirmation's fields come out as "key: value" lines. Only within the
//!   synchronous limits: one page, and at most 5 MB for a document passed
//!   as bytes (Textract's synchronous limit is 10 MB, but `Document.Bytes`
//!   takes 5 MB; Switchboard's attachments are capped at 5 MiB anyway).
//! - A Bedrock vision model describes what a photo shows relative to the
//!   inquiry (the damage in a trouble report, the receipt of a refund).
//!
//! A failed call is recorded as a problem on the analysis (without
//! content) and the rest is kept: an attachment never stalls an inquiry.

use super::bedrock::BedrockVision;
use super::call::{sdk_failure, within_budget};
use crate::local::LocalAttachmentAnalyzer;
use crate::local::attachments::{ENGINE as LOCAL_ENGINE, MAX_TEXT_CHARS, NO_TEXT_LAYER, text_labels};
use crate::{AiError, AttachmentAnalysis, AttachmentAnalyzer};
use async_trait::async_trait;
use aws_sdk_textract::Client;
use aws_sdk_textract::primitives::Blob;
use aws_sdk_textract::types::{Block, BlockType, Document, EntityType, FeatureType, RelationshipType, SelectionStatus};
use std::collections::HashMap;
use std::time::Duration;
use switchboard_domain::MediaType;
use tracing::warn;

/// The `engine` part Textract adds to an analysis.
pub const ENGINE: &str = "textract";

/// The `engine` part a photo description adds.
pub const VISION_ENGINE: &str = "bedrock-vision";

/// Largest document Textract takes as bytes (`Document.Bytes`: 5 MB).
pub const MAX_DOCUMENT_BYTES: usize = 5 * 1024 * 1024;

/// Pages a synchronous Textract call reads in a PDF.
pub const MAX_SYNC_PAGES: u32 = 1;

/// Reads attachments with Textract (and, when configured, describes photos
/// with a Bedrock vision model), on top of the local checks.
#[derive(Debug, Clone)]
pub struct TextractAnalyzer {
    client: Client,
    budget: Duration,
    local: LocalAttachmentAnalyzer,
    vision: Option<BedrockVision>,
}

/// What Textract read.
#[derive(Debug, Clone, Default, PartialEq)]
struct TextRead {
    lines: Vec<String>,
    /// Form fields (AnalyzeDocument FORMS): key and value text.
    fields: Vec<(String, String)>,
}

impl TextRead {
    /// The lines, then the form fields as "key: value" lines.
    fn text(&self) -> String {
        let mut text = self.lines.join("\n");
        if !self.fields.is_empty() {
            text.push_str("\n\n");
            let fields: Vec<String> = self.fields.iter().map(|(k, v)| format!("{k}: {v}")).collect();
            text.push_str(&fields.join("\n"));
        }
        text.chars().take(MAX_TEXT_CHARS).collect()
    }
}

impl TextractAnalyzer {
    /// `budget` bounds each call (Textract, Bedrock vision), its one retry
    /// on throttling included.
    pub fn new(client: Client, budget: Duration) -> Self {
        Self { client, budget, local: LocalAttachmentAnalyzer::new(), vision: None }
    }

    /// Also describe photos with a Bedrock vision model.
    pub fn with_vision(mut self, vision: BedrockVision) -> Self {
        self.vision = Some(vision);
        self
    }

    /// Why Textract cannot take this file synchronously, if it cannot.
    fn out_of_limits(media_type: MediaType, bytes: &[u8], analysis: &AttachmentAnalysis) -> Option<String> {
        if bytes.len() > MAX_DOCUMENT_BYTES {
            return Some(format!(
                "too large for text recognition ({} bytes; Textract takes {MAX_DOCUMENT_BYTES} bytes inline)",
                bytes.len()
            ));
        }
        match (media_type, analysis.page_count) {
            (MediaType::Pdf, Some(pages)) if pages > MAX_SYNC_PAGES => {
                Some(format!("only single-page PDFs are read by text recognition (this one has {pages} pages); its text layer was used"))
            }
            (MediaType::Pdf, None) => Some("the PDF cannot be read, so it was not sent to text recognition".to_owned()),
            _ => None,
        }
    }

    async fn read_text(&self, media_type: MediaType, bytes: &[u8]) -> Result<TextRead, AiError> {
        let document = || Document::builder().bytes(Blob::new(bytes)).build();
        match media_type {
            MediaType::Jpeg | MediaType::Png => {
                within_budget(self.budget, || {
                    let call = self.client.detect_document_text().document(document()).send();
                    async move {
                        let out = call.await.map_err(|e| sdk_failure("textract", "DetectDocumentText", &e))?;
                        Ok(read_blocks(out.blocks()))
                    }
                })
                .await
            }
            MediaType::Pdf => {
                within_budget(self.budget, || {
                    let call = self.client.analyze_document().document(document()).feature_types(FeatureType::Forms).send();
                    async move {
                        let out = call.await.map_err(|e| sdk_failure("textract", "AnalyzeDocument", &e))?;
                        Ok(read_blocks(out.blocks()))
                    }
                })
                .await
            }
        }
    }
}

#[async_trait]
impl AttachmentAnalyzer for TextractAnalyzer {
    /// Never fails: engine failures are problems on the analysis.
    async fn analyze(&self, media_type: MediaType, bytes: &[u8], context: &str) -> Result<AttachmentAnalysis, AiError> {
        // Off the runtime and under a deadline: the local checks parse the file.
        let checked = self.local.check(media_type, bytes).await;
        let mut analysis = checked.analysis;
        // An empty or mislabelled file is reported by the local checks; a
        // cloud engine would only bill for the same verdict. One over a local
        // limit (a compression bomb, a gigapixel image) is not sent either.
        if checked.rejected || bytes.is_empty() || MediaType::detect(bytes) != Some(media_type) {
            return Ok(analysis);
        }
        let mut engines = vec![LOCAL_ENGINE];
        let limits = Self::out_of_limits(media_type, bytes, &analysis);
        let textract = async {
            match &limits {
                None => Some(self.read_text(media_type, bytes).await),
                Some(_) => None,
            }
        };
        let vision = async {
            match (&self.vision, media_type) {
                (Some(vision), MediaType::Jpeg | MediaType::Png) => Some(vision.describe(media_type, bytes, context).await),
                _ => None,
            }
        };
        let (text, description) = tokio::join!(textract, vision);

        if let Some(why) = limits {
            analysis.problems.push(why);
        }
        match text {
            Some(Ok(read)) => {
                engines.push(ENGINE);
                let text = read.text();
                if !text.trim().is_empty() {
                    analysis.problems.retain(|p| p != NO_TEXT_LAYER);
                    for label in text_labels(&text) {
                        push_label(&mut analysis.labels, label);
                    }
                    if !read.fields.is_empty() {
                        push_label(&mut analysis.labels, "form".to_owned());
                    }
                    analysis.extracted_text = Some(text);
                }
            }
            Some(Err(error)) => {
                warn!(engine = ENGINE, %error, "text recognition failed; the local findings are kept");
                analysis.problems.push(format!("text recognition failed: {error}"));
            }
            None => {}
        }
        match description {
            Some(Ok(d)) => {
                engines.push(VISION_ENGINE);
                for label in d.labels {
                    push_label(&mut analysis.labels, label);
                }
                analysis.description = Some(d.description);
            }
            Some(Err(error)) => {
                warn!(engine = VISION_ENGINE, %error, "image description failed; the local findings are kept");
                analysis.problems.push(format!("image description failed: {error}"));
            }
            None => {}
        }
        analysis.engine = engines.join("+");
        Ok(analysis)
    }
}

fn push_label(labels: &mut Vec<String>, label: String) {
    if !labels.contains(&label) {
        labels.push(label);
    }
}

/// Lines and form fields from Textract's blocks. A field's key and value
/// are `KEY_VALUE_SET` blocks whose `CHILD` words (and check boxes) make
/// the text; the key points at its value through a `VALUE` relationship.
fn read_blocks(blocks: &[Block]) -> TextRead {
    let by_id: HashMap<&str, &Block> = blocks.iter().filter_map(|b| Some((b.id()?, b))).collect();
    let children_text = |block: &Block| -> String {
        let mut words: Vec<&str> = Vec::new();
        for relation in block.relationships().iter().filter(|r| r.r#type() == Some(&RelationshipType::Child)) {
            for child in relation.ids().iter().filter_map(|id| by_id.get(id.as_str())) {
                match child.block_type() {
                    Some(BlockType::Word) => words.extend(child.text()),
                    Some(BlockType::SelectionElement) => words.push(match child.selection_status() {
                        Some(SelectionStatus::Selected) => "[x]",
                        _ => "[ ]",
                    }),
                    _ => {}
                }
            }
        }
        words.join(" ")
    };
    let mut read = TextRead::default();
    for block in blocks {
        match block.block_type() {
            Some(BlockType::Line) => {
                if let Some(text) = block.text().map(str::trim).filter(|t| !t.is_empty()) {
                    read.lines.push(text.to_owned());
                }
            }
            Some(BlockType::KeyValueSet) if block.entity_types().contains(&EntityType::Key) => {
                let key = children_text(block);
                let value = block
                    .relationships()
                    .iter()
                    .filter(|r| r.r#type() == Some(&RelationshipType::Value))
                    .flat_map(|r| r.ids())
                    .filter_map(|id| by_id.get(id.as_str()))
                    .map(|v| children_text(v))
                    .collect::<Vec<_>>()
                    .join(" ");
                if !key.trim().is_empty() {
                    read.fields.push((key.trim().trim_end_matches(':').trim().to_owned(), value.trim().to_owned()));
                }
            }
            _ => {}
        }
    }
    read
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_textract::types::Relationship;

    fn word(id: &str, text: &str) -> Block {
        Block::builder().id(id).block_type(BlockType::Word).text(text).build()
    }

    fn kv(id: &str, entity: EntityType, children: &[&str], value: Option<&str>) -> Block {
        let mut b = Block::builder().id(id).block_type(BlockType::KeyValueSet).entity_types(entity).relationships(
            Relationship::builder().r#type(RelationshipType::Child).set_ids(Some(children.iter().map(|s| s.to_string()).collect())).build(),
        );
        if let Some(v) = value {
            b = b.relationships(Relationship::builder().r#type(RelationshipType::Value).ids(v).build());
        }
        b.build()
    }

    #[test]
    fn form_fields_pair_keys_with_their_values() {
        let blocks = vec![
            Block::builder().id("l1").block_type(BlockType::Line).text("Booking confirmation").build(),
            kv("k1", EntityType::Key, &["w1", "w2"], Some("v1")),
            kv("v1", EntityType::Value, &["w3"], None),
            word("w1", "Booking"),
            word("w2", "no.:"),
            word("w3", "HT-20481123"),
        ];
        let read = read_blocks(&blocks);
        assert_eq!(read.lines, vec!["Booking confirmation"]);
        assert_eq!(read.fields, vec![("Booking no.".to_owned(), "HT-20481123".to_owned())]);
        assert_eq!(read.text(), "Booking confirmation\n\nBooking no.: HT-20481123");
    }
}
