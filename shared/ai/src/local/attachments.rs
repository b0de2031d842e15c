//! Local attachment checks: image dimensions, PDF pages and text layer, and
//! the problems a human should know about. No OCR and no image description
//! (those need a cloud engine); a scanned PDF is reported as having no text.

use crate::{AiError, AttachmentAnalysis, AttachmentAnalyzer};
use async_trait::async_trait;
use std::panic::{AssertUnwindSafe, catch_unwind};
use switchboard_domain::MediaType;

/// The `engine` recorded on every analysis this module makes.
pub const ENGINE: &str = "local-checks";

/// Smaller than this on either side, an image cannot show a damage or a
/// receipt: it is an icon, a tracking pixel or a failed upload.
pub const MIN_IMAGE_SIDE: u32 = 32;

/// PDF pages read for text; the rest are counted but not read, so a
/// 500-page upload cannot stall the analyzer.
const MAX_PAGES_READ: u32 = 50;

/// Extracted text kept, in characters: enough for the classifier, small
/// enough for an event or a store item.
pub(crate) const MAX_TEXT_CHARS: usize = 20_000;

/// The problem reported for a PDF without a text layer; an OCR engine that
/// reads the page after all withdraws it.
pub(crate) const NO_TEXT_LAYER: &str = "the PDF has no text layer (a scan or a photo?); its text could not be read";

/// Checks JPEG, PNG and PDF attachments locally.
#[derive(Debug, Clone, Copy, Default)]
pub struct LocalAttachmentAnalyzer;

impl LocalAttachmentAnalyzer {
    pub fn new() -> Self {
        Self
    }

    /// The analysis of one attachment. Pure and infallible: a file that
    /// cannot be read is reported in `problems`, never as an error or panic.
    pub fn analyze_now(&self, media_type: MediaType, bytes: &[u8]) -> AttachmentAnalysis {
        let mut analysis = AttachmentAnalysis { engine: ENGINE.to_owned(), ..AttachmentAnalysis::default() };
        if bytes.is_empty() {
            analysis.problems.push("the file is empty".to_owned());
            return analysis;
        }
        let detected = MediaType::detect(bytes);
        if detected != Some(media_type) {
            let looks_like = detected.map_or("an unknown format", |t| t.as_str());
            analysis.problems.push(format!("the content does not match its type {} (it looks like {looks_like})", media_type.as_str()));
        }
        match media_type {
            MediaType::Jpeg | MediaType::Png => check_image(media_type, bytes, &mut analysis),
            MediaType::Pdf => check_pdf(bytes, &mut analysis),
        }
        analysis
    }
}

#[async_trait]
impl AttachmentAnalyzer for LocalAttachmentAnalyzer {
    async fn analyze(&self, media_type: MediaType, bytes: &[u8], _context: &str) -> Result<AttachmentAnalysis, AiError> {
        Ok(self.analyze_now(media_type, bytes))
    }
}

fn check_image(media_type: MediaType, bytes: &[u8], analysis: &mut AttachmentAnalysis) {
    analysis.labels.push("photo".to_owned());
    match imagesize::blob_size(bytes) {
        Ok(size) => {
            let width = u32::try_from(size.width).unwrap_or(u32::MAX);
            let height = u32::try_from(size.height).unwrap_or(u32::MAX);
            analysis.width = Some(width);
            analysis.height = Some(height);
            if width == 0 || height == 0 {
                analysis.problems.push(format!("the image has no pixels ({width}×{height})"));
            } else if width.min(height) < MIN_IMAGE_SIDE {
                analysis.problems.push(format!("the image is tiny ({width}×{height} px) and unlikely to show anything useful"));
            }
        }
        Err(error) => {
            analysis.problems.push(format!("the image cannot be read (corrupt or not an image): {error}"));
            return;
        }
    }
    // The size lives in the header, so a cut-off upload still reports one:
    // look for the end marker too.
    if !has_end_marker(media_type, bytes) {
        analysis.problems.push("the image looks truncated (its end marker is missing)".to_owned());
    }
}

/// Whether the file ends like a complete JPEG (EOI marker) or PNG (IEND
/// chunk). JPEGs may carry trailing padding, so the tail is searched.
fn has_end_marker(media_type: MediaType, bytes: &[u8]) -> bool {
    let tail = &bytes[bytes.len().saturating_sub(1024)..];
    match media_type {
        MediaType::Jpeg => tail.windows(2).any(|w| w == [0xFF, 0xD9]),
        MediaType::Png => tail.windows(4).any(|w| w == b"IEND"),
        MediaType::Pdf => true,
    }
}

/// What was read from a PDF.
struct PdfFacts {
    encrypted: bool,
    page_count: u32,
    text: String,
}

fn check_pdf(bytes: &[u8], analysis: &mut AttachmentAnalysis) {
    analysis.labels.push("document".to_owned());
    // lopdf parses hostile input; a panic deep inside it must become a
    // reported problem, not a crashed worker.
    let facts = match catch_unwind(AssertUnwindSafe(|| read_pdf(bytes))) {
        Ok(Ok(facts)) => facts,
        Ok(Err(error)) => {
            analysis.problems.push(format!("the PDF cannot be read (corrupt or truncated): {error}"));
            return;
        }
        Err(_) => {
            analysis.problems.push("the PDF cannot be read (its structure is malformed)".to_owned());
            return;
        }
    };
    analysis.page_count = Some(facts.page_count);
    if facts.encrypted {
        analysis.problems.push("the PDF is encrypted".to_owned());
    }
    if facts.page_count == 0 {
        analysis.problems.push("the PDF has no pages".to_owned());
        return;
    }
    let text = facts.text.trim();
    if text.is_empty() {
        analysis.problems.push(NO_TEXT_LAYER.to_owned());
    } else {
        analysis.labels.extend(text_labels(text));
        analysis.extracted_text = Some(text.to_owned());
    }
}

fn read_pdf(bytes: &[u8]) -> Result<PdfFacts, lopdf::Error> {
    let doc = lopdf::Document::load_mem(bytes)?;
    let pages = doc.get_pages();
    let page_count = u32::try_from(pages.len()).unwrap_or(u32::MAX);
    let mut text = String::new();
    for &number in pages.keys().take(MAX_PAGES_READ as usize) {
        // Chunks that fail to decode (an odd font) are skipped; the rest of
        // the page still counts.
        for chunk in doc.extract_text_chunks(&[number]).into_iter().flatten() {
            text.push_str(&chunk);
        }
        if !text.ends_with('\n') {
            text.push('\n');
        }
        if text.len() > MAX_TEXT_CHARS * 4 {
            break;
        }
    }
    let text = collapse_blank_lines(&text).chars().take(MAX_TEXT_CHARS).collect();
    Ok(PdfFacts { encrypted: doc.is_encrypted(), page_count, text })
}

fn collapse_blank_lines(text: &str) -> String {
    text.lines().map(str::trim_end).filter(|l| !l.trim().is_empty()).collect::<Vec<_>>().join("\n")
}

/// Labels a document by the words on it.
pub(crate) fn text_labels(text: &str) -> Vec<String> {
    let lower = text.to_lowercase();
    let kinds: [(&str, &[&str]); 3] = [
        ("receipt", &["receipt", "영수증", "승인번호", "paid", "payment"]),
        ("invoice", &["invoice", "세금계산서", "청구서", "bill to"]),
        ("booking_confirmation", &["booking", "reservation", "confirmation", "예약번호", "예약 확인", "예약확인"]),
    ];
    kinds.iter().filter(|(_, words)| words.iter().any(|w| lower.contains(w))).map(|(label, _)| (*label).to_owned()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use lopdf::content::{Content, Operation};
    use lopdf::{Document, Object, Stream, dictionary};

    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = 0xFFFF_FFFFu32;
        for &b in bytes {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
            }
        }
        !crc
    }

    fn adler32(bytes: &[u8]) -> u32 {
        let (mut a, mut b) = (1u32, 0u32);
        for &x in bytes {
            a = (a + u32::from(x)) % 65521;
            b = (b + a) % 65521;
        }
        (b << 16) | a
    }

    fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let mut body = kind.to_vec();
        body.extend_from_slice(data);
        out.extend_from_slice(&body);
        out.extend_from_slice(&crc32(&body).to_be_bytes());
    }

    /// A valid black RGB PNG (stored, uncompressed zlib blocks).
    fn png(width: u32, height: u32) -> Vec<u8> {
        let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
        let mut ihdr = Vec::new();
        ihdr.extend_from_slice(&width.to_be_bytes());
        ihdr.extend_from_slice(&height.to_be_bytes());
        ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
        chunk(&mut out, b"IHDR", &ihdr);
        let raw = vec![0u8; (1 + width as usize * 3) * height as usize];
        let mut zlib = vec![0x78, 0x01];
        let blocks: Vec<&[u8]> = raw.chunks(65_535).collect();
        for (i, block) in blocks.iter().enumerate() {
            zlib.push(u8::from(i + 1 == blocks.len()));
            let len = block.len() as u16;
            zlib.extend_from_slice(&len.to_le_bytes());
            zlib.extend_from_slice(&(!len).to_le_bytes());
            zlib.extend_from_slice(block);
        }
        zlib.extend_from_slice(&adler32(&raw).to_be_bytes());
        chunk(&mut out, b"IDAT", &zlib);
        chunk(&mut out, b"IEND", &[]);
        out
    }

    /// The markers a JPEG reader needs for the size: SOI, a baseline SOF0
    /// frame header, EOI.
    fn jpeg(width: u16, height: u16) -> Vec<u8> {
        let mut out = vec![0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0, 1, 1, 0, 0, 1, 0, 1, 0, 0];
        out.extend_from_slice(&[0xFF, 0xC0, 0x00, 0x11, 0x08]);
        out.extend_from_slice(&height.to_be_bytes());
        out.extend_from_slice(&width.to_be_bytes());
        out.extend_from_slice(&[0x03, 0x01, 0x22, 0x00, 0x02, 0x11, 0x01, 0x03, 0x11, 0x01]);
        out.extend_from_slice(&[0xFF, 0xD9]);
        out
    }

    /// A PDF whose pages show the given lines (empty: a page with no text).
    fn pdf(pages: &[&str]) -> Vec<u8> {
        let mut doc = Document::with_version("1.5");
        let pages_id = doc.new_object_id();
        let font_id = doc.add_object(dictionary! {
            "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica", "Encoding" => "WinAnsiEncoding",
        });
        let resources_id = doc.add_object(dictionary! { "Font" => dictionary! { "F1" => font_id } });
        let mut kids = Vec::new();
        for text in pages {
            let mut operations = vec![];
            if !text.is_empty() {
                operations = vec![
                    Operation::new("BT", vec![]),
                    Operation::new("Tf", vec!["F1".into(), 12.into()]),
                    Operation::new("Td", vec![72.into(), 720.into()]),
                    Operation::new("Tj", vec![Object::string_literal(*text)]),
                    Operation::new("ET", vec![]),
                ];
            }
            let content = Content { operations };
            let content_id = doc.add_object(Stream::new(dictionary! {}, content.encode().unwrap()));
            let page_id = doc.add_object(dictionary! { "Type" => "Page", "Parent" => pages_id, "Contents" => content_id });
            kids.push(Object::from(page_id));
        }
        let count = kids.len() as i64;
        doc.objects.insert(
            pages_id,
            Object::Dictionary(dictionary! {
                "Type" => "Pages", "Kids" => kids, "Count" => count, "Resources" => resources_id,
                "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
            }),
        );
        let catalog_id = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
        doc.trailer.set("Root", catalog_id);
        let mut out = Vec::new();
        doc.save_to(&mut out).unwrap();
        out
    }

    fn analyze(media_type: MediaType, bytes: &[u8]) -> AttachmentAnalysis {
        LocalAttachmentAnalyzer::new().analyze_now(media_type, bytes)
    }

    #[test]
    fn a_png_reports_its_size_and_no_problems() {
        let a = analyze(MediaType::Png, &png(64, 48));
        assert_eq!((a.width, a.height), (Some(64), Some(48)));
        assert!(a.problems.is_empty(), "{:?}", a.problems);
        assert_eq!(a.labels, vec!["photo"]);
        assert_eq!(a.engine, ENGINE);
        assert_eq!(a.page_count, None);
    }

    #[test]
    fn a_jpeg_reports_its_size() {
        let a = analyze(MediaType::Jpeg, &jpeg(640, 480));
        assert_eq!((a.width, a.height), (Some(640), Some(480)));
        assert!(a.problems.is_empty(), "{:?}", a.problems);
    }

    #[test]
    fn a_tiny_image_is_reported() {
        let a = analyze(MediaType::Png, &png(16, 200));
        assert_eq!(a.width, Some(16));
        assert!(a.problems.iter().any(|p| p.contains("tiny")), "{:?}", a.problems);
    }

    #[test]
    fn a_corrupt_png_is_reported_not_panicking() {
        let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
        bytes.extend_from_slice(&[0xDE, 0xAD, 0xBE, 0xEF, 0x00]);
        let a = analyze(MediaType::Png, &bytes);
        assert_eq!(a.width, None);
        assert!(a.problems.iter().any(|p| p.contains("cannot be read")), "{:?}", a.problems);
    }

    #[test]
    fn a_truncated_png_is_reported() {
        let full = png(100, 100);
        let a = analyze(MediaType::Png, &full[..full.len() / 2]);
        assert_eq!(a.width, Some(100), "the header still gives the size");
        assert!(a.problems.iter().any(|p| p.contains("truncated")), "{:?}", a.problems);
    }

    #[test]
    fn a_truncated_jpeg_is_reported() {
        let full = jpeg(800, 600);
        let a = analyze(MediaType::Jpeg, &full[..full.len() - 2]);
        assert!(a.problems.iter().any(|p| p.contains("truncated")), "{:?}", a.problems);
    }

    #[test]
    fn content_that_does_not_match_its_type_is_reported() {
        let a = analyze(MediaType::Jpeg, &png(64, 64));
        assert!(a.problems.iter().any(|p| p.contains("does not match")), "{:?}", a.problems);
    }

    #[test]
    fn an_empty_file_is_reported() {
        for media_type in [MediaType::Jpeg, MediaType::Png, MediaType::Pdf] {
            let a = analyze(media_type, &[]);
            assert_eq!(a.problems, vec!["the file is empty"]);
        }
    }

    #[test]
    fn a_text_pdf_gives_its_pages_and_text() {
        let a = analyze(MediaType::Pdf, &pdf(&["Booking confirmation HT-20481123", "Total paid 150000 KRW"]));
        assert_eq!(a.page_count, Some(2));
        let text = a.extracted_text.unwrap_or_default();
        assert!(text.contains("HT-20481123") && text.contains("Total paid"), "{text}");
        assert!(a.problems.is_empty(), "{:?}", a.problems);
        assert!(a.labels.contains(&"document".to_owned()) && a.labels.contains(&"booking_confirmation".to_owned()), "{:?}", a.labels);
    }

    #[test]
    fn a_pdf_without_a_text_layer_is_noted() {
        let a = analyze(MediaType::Pdf, &pdf(&[""]));
        assert_eq!(a.page_count, Some(1));
        assert_eq!(a.extracted_text, None);
        assert!(a.problems.iter().any(|p| p.contains("no text layer")), "{:?}", a.problems);
    }

    #[test]
    fn a_corrupt_pdf_is_reported_not_panicking() {
        for bytes in [
            b"%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF".to_vec(),
            b"%PDF-".to_vec(),
            b"%PDF-1.4\n\xff\xfe\x00garbage garbage\nstartxref\n999999\n%%EOF".to_vec(),
        ] {
            let a = analyze(MediaType::Pdf, &bytes);
            assert!(!a.problems.is_empty(), "{:?}", String::from_utf8_lossy(&bytes));
            assert_eq!(a.extracted_text, None);
        }
        let full = pdf(&["Receipt"]);
        let a = analyze(MediaType::Pdf, &full[..full.len() / 3]);
        assert_eq!(a.extracted_text, None, "{:?}", a);
    }

    #[tokio::test]
    async fn the_port_returns_the_same_analysis() {
        let bytes = png(40, 40);
        let via_port = LocalAttachmentAnalyzer::new().analyze(MediaType::Png, &bytes, "the sink is broken").await.ok();
        assert_eq!(via_port, Some(analyze(MediaType::Png, &bytes)));
    }
}
