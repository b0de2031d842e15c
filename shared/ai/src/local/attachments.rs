//! Local attachment checks: image dimensions, PDF pages and text layer, and
//! the problems a human should know about. No OCR and no image description
//! (those need a cloud engine); a scanned PDF is reported as having no text.
//!
//! Attachments are hostile input. A PDF is parsed on a blocking thread, under
//! a deadline, and within a budget of decompressed bytes; an image's declared
//! size is checked against a pixel budget before anything would decode it. A
//! file over a limit is rejected with the reason in `problems`: the inquiry
//! goes on without it, and the process is never taken down by it.

use crate::{AiError, AttachmentAnalysis, AttachmentAnalyzer};
use async_trait::async_trait;
use flate2::read::{DeflateDecoder, ZlibDecoder};
use std::io::{self, Read, Write};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Duration;
use switchboard_domain::MediaType;

/// The `engine` recorded on every analysis this module makes.
pub const ENGINE: &str = "local-checks";

/// Smaller than this on either side, an image cannot show a damage or a
/// receipt: it is an icon, a tracking pixel or a failed upload.
pub const MIN_IMAGE_SIDE: u32 = 32;

/// PDF pages read for text; the rest are counted but not read, so a
/// 500-page upload cannot stall the analyzer.
pub const MAX_PAGES_READ: u32 = 50;

/// What a PDF's streams may decompress to, all together. An honest 5 MB
/// attachment (text, fonts, a few scans) stays far below; a compression
/// bomb of a few MB inflates to gigabytes and would take the process's
/// memory with it. Counted while inflating, never by inflating first.
pub const MAX_PDF_EXPANDED_BYTES: usize = 64 * 1024 * 1024;

/// Pixels an image may declare (width × height): 100 megapixels, above any
/// phone camera's photo that fits in an attachment. Decoding one costs 4
/// bytes a pixel, so a few-kB PNG declaring 100 000 × 100 000 would ask for
/// 40 GB; it is rejected from its header, before anything decodes it.
pub const MAX_IMAGE_PIXELS: u64 = 100_000_000;

/// How long the local checks of one attachment may take. Far above what an
/// honest file needs (milliseconds); a file that takes longer is reported
/// and skipped so the inquiry moves on. The thread reading it finishes on
/// its own (the decompression budget bounds its work), off the runtime.
pub const ANALYSIS_TIMEOUT: Duration = Duration::from_secs(15);

/// Filter layers followed when counting what a stream inflates to (lopdf
/// decodes a stream's filters in a chain, e.g. `[/FlateDecode /FlateDecode]`).
const MAX_FLATE_LAYERS: usize = 8;

/// Extracted text kept, in characters: enough for the classifier, small
/// enough for an event or a store item.
pub(crate) const MAX_TEXT_CHARS: usize = 20_000;

/// The problem reported for a PDF without a text layer; an OCR engine that
/// reads the page after all withdraws it.
pub(crate) const NO_TEXT_LAYER: &str = "the PDF has no text layer (a scan or a photo?); its text could not be read";

/// Checks JPEG, PNG and PDF attachments locally.
#[derive(Debug, Clone, Copy, Default)]
pub struct LocalAttachmentAnalyzer;

/// The local checks' verdict on one attachment.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Checked {
    pub analysis: AttachmentAnalysis,
    /// The file is over a limit (or could not be read in time) and must
    /// not be handed to another engine either; the reason is in
    /// `analysis.problems`.
    pub rejected: bool,
}

/// Why an attachment was not read.
#[derive(Debug, thiserror::Error)]
enum Rejection {
    #[error("the PDF expands past {} MB when decompressed (a compression bomb?); it was not read", MAX_PDF_EXPANDED_BYTES / (1024 * 1024))]
    PdfTooExpanded,
    #[error(
        "the image declares {width}×{height} pixels, more than the {} megapixels allowed; it was not read",
        MAX_IMAGE_PIXELS / 1_000_000
    )]
    TooManyPixels { width: u64, height: u64 },
}

/// Why a PDF could not be read.
#[derive(Debug, thiserror::Error)]
enum PdfError {
    #[error(transparent)]
    Rejected(#[from] Rejection),
    #[error("the PDF cannot be read (corrupt or truncated): {0}")]
    Unreadable(#[source] lopdf::Error),
}

impl LocalAttachmentAnalyzer {
    pub fn new() -> Self {
        Self
    }

    /// The analysis of one attachment, on the calling thread. Infallible: a
    /// file that cannot be read, or is over a limit, is reported in
    /// `problems`, never as an error or panic. It may take a while on a
    /// large PDF: async code calls [`AttachmentAnalyzer::analyze`], which
    /// runs it off the runtime under [`ANALYSIS_TIMEOUT`].
    pub fn analyze_now(&self, media_type: MediaType, bytes: &[u8]) -> AttachmentAnalysis {
        check_now(media_type, bytes).analysis
    }

    /// The local checks, on a blocking thread under [`ANALYSIS_TIMEOUT`].
    pub(crate) async fn check(&self, media_type: MediaType, bytes: &[u8]) -> Checked {
        self.check_within(ANALYSIS_TIMEOUT, media_type, bytes).await
    }

    async fn check_within(&self, deadline: Duration, media_type: MediaType, bytes: &[u8]) -> Checked {
        // The blocking task must own its input; attachments are capped at
        // a few MB, so the copy is cheap next to the parse.
        let owned = bytes.to_vec();
        let task = tokio::task::spawn_blocking(move || check_now(media_type, &owned));
        let failed = |reason: String| Checked {
            analysis: AttachmentAnalysis { engine: ENGINE.to_owned(), problems: vec![reason], ..AttachmentAnalysis::default() },
            rejected: true,
        };
        match tokio::time::timeout(deadline, task).await {
            Ok(Ok(checked)) => checked,
            Ok(Err(error)) => failed(format!("the attachment could not be read (the reader failed: {error})")),
            Err(_) => failed(format!("reading the attachment took longer than {} s; it was not read", deadline.as_secs_f64())),
        }
    }
}

#[async_trait]
impl AttachmentAnalyzer for LocalAttachmentAnalyzer {
    /// Never fails: a file over a limit, unreadable or too slow to read is
    /// a problem on the analysis.
    async fn analyze(&self, media_type: MediaType, bytes: &[u8], _context: &str) -> Result<AttachmentAnalysis, AiError> {
        Ok(self.check(media_type, bytes).await.analysis)
    }
}

/// The local checks, on the calling thread.
fn check_now(media_type: MediaType, bytes: &[u8]) -> Checked {
    let mut analysis = AttachmentAnalysis { engine: ENGINE.to_owned(), ..AttachmentAnalysis::default() };
    if bytes.is_empty() {
        analysis.problems.push("the file is empty".to_owned());
        return Checked { analysis, rejected: false };
    }
    let detected = MediaType::detect(bytes);
    if detected != Some(media_type) {
        let looks_like = detected.map_or("an unknown format", |t| t.as_str());
        analysis.problems.push(format!("the content does not match its type {} (it looks like {looks_like})", media_type.as_str()));
    }
    let outcome = match media_type {
        MediaType::Jpeg | MediaType::Png => check_image(media_type, bytes, &mut analysis),
        MediaType::Pdf => check_pdf(bytes, &mut analysis),
    };
    let rejected = match outcome {
        Ok(()) => false,
        Err(rejection) => {
            analysis.problems.push(rejection.to_string());
            true
        }
    };
    Checked { analysis, rejected }
}

fn check_image(media_type: MediaType, bytes: &[u8], analysis: &mut AttachmentAnalysis) -> Result<(), Rejection> {
    analysis.labels.push("photo".to_owned());
    match imagesize::blob_size(bytes) {
        Ok(size) => {
            let (wide, high) = (size.width as u64, size.height as u64);
            let width = u32::try_from(wide).unwrap_or(u32::MAX);
            let height = u32::try_from(high).unwrap_or(u32::MAX);
            analysis.width = Some(width);
            analysis.height = Some(height);
            if wide.saturating_mul(high) > MAX_IMAGE_PIXELS {
                return Err(Rejection::TooManyPixels { width: wide, height: high });
            }
            if width == 0 || height == 0 {
                analysis.problems.push(format!("the image has no pixels ({width}×{height})"));
            } else if width.min(height) < MIN_IMAGE_SIDE {
                analysis.problems.push(format!("the image is tiny ({width}×{height} px) and unlikely to show anything useful"));
            }
        }
        Err(error) => {
            analysis.problems.push(format!("the image cannot be read (corrupt or not an image): {error}"));
            return Ok(());
        }
    }
    // The size lives in the header, so a cut-off upload still reports one:
    // look for the end marker too.
    if !has_end_marker(media_type, bytes) {
        analysis.problems.push("the image looks truncated (its end marker is missing)".to_owned());
    }
    Ok(())
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

fn check_pdf(bytes: &[u8], analysis: &mut AttachmentAnalysis) -> Result<(), Rejection> {
    analysis.labels.push("document".to_owned());
    // lopdf parses hostile input; a panic deep inside it must become a
    // reported problem, not a crashed worker.
    let facts = match catch_unwind(AssertUnwindSafe(|| read_pdf(bytes))) {
        Ok(Ok(facts)) => facts,
        Ok(Err(PdfError::Rejected(rejection))) => return Err(rejection),
        Ok(Err(error @ PdfError::Unreadable(_))) => {
            analysis.problems.push(error.to_string());
            return Ok(());
        }
        Err(_) => {
            analysis.problems.push("the PDF cannot be read (its structure is malformed)".to_owned());
            return Ok(());
        }
    };
    analysis.page_count = Some(facts.page_count);
    if facts.encrypted {
        analysis.problems.push("the PDF is encrypted".to_owned());
    }
    if facts.page_count == 0 {
        analysis.problems.push("the PDF has no pages".to_owned());
        return Ok(());
    }
    let text = facts.text.trim();
    if text.is_empty() {
        analysis.problems.push(NO_TEXT_LAYER.to_owned());
    } else {
        analysis.labels.extend(text_labels(text));
        analysis.extracted_text = Some(text.to_owned());
    }
    Ok(())
}

/// Reads a PDF within [`MAX_PDF_EXPANDED_BYTES`] of decompressed streams.
///
/// Three guards, because lopdf decompresses at three moments: loading
/// inflates the object streams, and text extraction the page contents and
/// fonts, once per page that uses them.
/// 1. Before loading, every Flate stream in the file is inflated into a
///    counter (nothing kept): together they must stay within the budget.
/// 2. Loading bounds any one stream lopdf decodes by the budget too (its
///    other filters included, which the count in 1 does not see).
/// 3. After loading, every stream text extraction may read is decompressed
///    once, in place, against what is left of the budget; extraction then
///    copies decoded bytes instead of inflating a shared stream again for
///    every page and font that names it. Images are left as they are: text
///    extraction never decodes them.
fn read_pdf(bytes: &[u8]) -> Result<PdfFacts, PdfError> {
    if flate_expansion(bytes, MAX_PDF_EXPANDED_BYTES as u64) > MAX_PDF_EXPANDED_BYTES as u64 {
        return Err(Rejection::PdfTooExpanded.into());
    }
    let options = lopdf::LoadOptions { max_decompressed_size: Some(MAX_PDF_EXPANDED_BYTES), ..lopdf::LoadOptions::default() };
    let mut doc = lopdf::Document::load_mem_with_options(bytes, options).map_err(|error| match error {
        lopdf::Error::Decompress(lopdf::DecompressError::MemoryLimitExceeded { .. }) => PdfError::Rejected(Rejection::PdfTooExpanded),
        error => PdfError::Unreadable(error),
    })?;
    decompress_in_place(&mut doc)?;

    let pages = doc.get_pages();
    let page_count = u32::try_from(pages.len()).unwrap_or(u32::MAX);
    let mut text = String::new();
    for &number in pages.keys().take(MAX_PAGES_READ as usize) {
        // Chunks that fail to decode (an odd font) are skipped; the rest of
        // the page still counts.
        for chunk in doc.extract_text_chunks_with_limit(&[number], MAX_PDF_EXPANDED_BYTES).into_iter().flatten() {
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

/// Decompresses every non-image stream of `doc` in place, all together
/// within [`MAX_PDF_EXPANDED_BYTES`]. A stream lopdf cannot decode (an
/// unknown filter, corrupt data) is left as it is: text extraction skips it.
fn decompress_in_place(doc: &mut lopdf::Document) -> Result<(), Rejection> {
    let mut left = MAX_PDF_EXPANDED_BYTES;
    for object in doc.objects.values_mut() {
        let lopdf::Object::Stream(stream) = object else { continue };
        let is_image = stream.dict.get(b"Subtype").and_then(lopdf::Object::as_name).is_ok_and(|name| name == b"Image");
        if is_image || !stream.is_compressed() {
            continue;
        }
        match stream.decompress_with_limit(left) {
            Ok(()) => left = left.checked_sub(stream.content.len()).ok_or(Rejection::PdfTooExpanded)?,
            Err(lopdf::Error::Decompress(lopdf::DecompressError::MemoryLimitExceeded { .. })) => {
                return Err(Rejection::PdfTooExpanded);
            }
            Err(_) => {}
        }
    }
    Ok(())
}

/// What the Flate streams in a PDF's raw bytes inflate to, all together,
/// counted up to `budget + 1` and never kept: constant memory, and work
/// bounded by the budget whatever the file claims.
///
/// Streams are found by their `stream` keyword rather than through the
/// cross-reference table, so a lying table or `/Length` cannot hide one,
/// and each is inflated until its own end: as zlib, or as raw deflate
/// (lopdf's fallback for a stream with a broken zlib header), following
/// nested zlib layers.
fn flate_expansion(bytes: &[u8], budget: u64) -> u64 {
    let mut total = 0u64;
    for start in stream_starts(bytes) {
        if total > budget {
            break;
        }
        total += inflated_len(&bytes[start..], budget - total + 1);
    }
    total
}

/// Where each stream's data begins: after `stream` and its end of line,
/// skipping the `endstream` keywords.
fn stream_starts(bytes: &[u8]) -> impl Iterator<Item = usize> + '_ {
    const KEYWORD: &[u8] = b"stream";
    bytes.windows(KEYWORD.len()).enumerate().filter_map(move |(at, window)| {
        if window != KEYWORD || bytes[..at].ends_with(b"end") {
            return None;
        }
        let after = &bytes[at + KEYWORD.len()..];
        if after.starts_with(b"\r\n") {
            Some(at + KEYWORD.len() + 2)
        } else if after.starts_with(b"\n") || after.starts_with(b"\r") {
            Some(at + KEYWORD.len() + 1)
        } else {
            None
        }
    })
}

/// Whether two bytes open a zlib stream (deflate, valid header check).
fn is_zlib_header(head: &[u8]) -> bool {
    matches!(head, [cmf, flg, ..] if cmf & 0x0F == 8 && (u16::from(*cmf) << 8 | u16::from(*flg)) % 31 == 0)
}

/// What `data` inflates to, counted up to `limit` bytes.
fn inflated_len(data: &[u8], limit: u64) -> u64 {
    let mut reader: Box<dyn Read + '_> =
        if is_zlib_header(data) { Box::new(ZlibDecoder::new(data)) } else { Box::new(DeflateDecoder::new(data)) };
    for _ in 0..MAX_FLATE_LAYERS {
        let mut head = [0u8; 2];
        let read = read_up_to(&mut reader, &mut head);
        if read == head.len() && is_zlib_header(&head) {
            reader = Box::new(ZlibDecoder::new(io::Cursor::new(head).chain(reader)));
            continue;
        }
        let mut counter = Counter(read as u64);
        // A corrupt stream ends the count where it breaks: what it gave
        // until then is what lopdf would get too.
        let _ = io::copy(&mut reader.take(limit.saturating_sub(counter.0)), &mut counter);
        return counter.0;
    }
    // More layers than a PDF reader follows: lopdf rejects such a stream.
    0
}

/// Fills `buf` as far as `reader` goes; a read error ends it like the end.
fn read_up_to(reader: &mut impl Read, buf: &mut [u8]) -> usize {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) | Err(_) => break,
            Ok(n) => filled += n,
        }
    }
    filled
}

/// A writer that only counts.
struct Counter(u64);

impl Write for Counter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0 += buf.len() as u64;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
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
    use std::io::Write;

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

    const MIB: usize = 1024 * 1024;

    /// A zlib stream of `mib` MiB of zeros, in about 1 kB per MiB: the same
    /// byte-aligned deflate blocks for one MiB, repeated (each copy refers
    /// only to its own output), then a final empty block and the checksum.
    /// Built this way so a 1 GiB bomb takes milliseconds to make.
    fn zeros_zlib(mib: usize) -> Vec<u8> {
        use flate2::Compression;
        use flate2::write::DeflateEncoder;
        let mut encoder = DeflateEncoder::new(Vec::new(), Compression::best());
        encoder.write_all(&vec![0u8; MIB]).unwrap();
        encoder.flush().unwrap();
        let one_mib = encoder.get_ref().clone();
        let mut out = vec![0x78, 0xDA];
        for _ in 0..mib {
            out.extend_from_slice(&one_mib);
        }
        out.extend_from_slice(&[0x03, 0x00]);
        // Adler-32 of zeros: a stays 1, b adds 1 per byte.
        let b = ((mib as u64 * MIB as u64) % 65_521) as u32;
        out.extend_from_slice(&((b << 16) | 1).to_be_bytes());
        out
    }

    /// zlib-compresses `bytes` (an outer filter layer).
    fn zlib(bytes: &[u8]) -> Vec<u8> {
        use flate2::Compression;
        use flate2::write::ZlibEncoder;
        let mut encoder = ZlibEncoder::new(Vec::new(), Compression::best());
        encoder.write_all(bytes).unwrap();
        encoder.finish().unwrap()
    }

    /// A PDF whose one page's content is the given streams, each with the
    /// given filters (already applied to its bytes).
    fn pdf_with_contents(contents: Vec<(Vec<u8>, Vec<&str>)>) -> Vec<u8> {
        let mut doc = Document::with_version("1.5");
        let pages_id = doc.new_object_id();
        let mut ids: Vec<Object> = Vec::new();
        for (bytes, filters) in contents {
            let filters: Vec<Object> = filters.into_iter().map(Object::from).collect();
            let mut stream = Stream::new(dictionary! { "Filter" => filters }, bytes);
            stream.allows_compression = false;
            ids.push(doc.add_object(stream).into());
        }
        let page_id = doc.add_object(dictionary! { "Type" => "Page", "Parent" => pages_id, "Contents" => ids });
        doc.objects.insert(
            pages_id,
            Object::Dictionary(dictionary! {
                "Type" => "Pages", "Kids" => vec![page_id.into()], "Count" => 1,
                "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
            }),
        );
        let catalog_id = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
        doc.trailer.set("Root", catalog_id);
        let mut out = Vec::new();
        doc.save_to(&mut out).unwrap();
        out
    }

    /// A PDF whose page content inflates to 1 GiB of zeros, from about 1 MB.
    fn pdf_bomb() -> Vec<u8> {
        pdf_with_contents(vec![(zeros_zlib(1024), vec!["FlateDecode"])])
    }

    /// A PNG header declaring `width`×`height`, with no pixel data at all.
    fn png_header(width: u32, height: u32) -> Vec<u8> {
        let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
        let mut ihdr = Vec::new();
        ihdr.extend_from_slice(&width.to_be_bytes());
        ihdr.extend_from_slice(&height.to_be_bytes());
        ihdr.extend_from_slice(&[8, 6, 0, 0, 0]);
        chunk(&mut out, b"IHDR", &ihdr);
        chunk(&mut out, b"IEND", &[]);
        out
    }

    fn expands_past_the_budget(a: &AttachmentAnalysis) -> bool {
        a.problems.iter().any(|p| p.contains("expands past 64 MB when decompressed"))
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

    #[tokio::test]
    async fn a_pdf_compression_bomb_is_rejected_with_a_reason_and_the_process_stays_up() {
        let bomb = pdf_bomb();
        assert!(bomb.len() < 2 * MIB, "a bomb small enough to upload: {} bytes", bomb.len());

        let analyzer = LocalAttachmentAnalyzer::new();
        let a = analyzer.analyze(MediaType::Pdf, &bomb, "see the attached booking").await.unwrap();
        assert!(expands_past_the_budget(&a), "{:?}", a.problems);
        assert_eq!(a.extracted_text, None);
        assert_eq!(a.engine, ENGINE);

        // Still here, and still reading honest files.
        let honest = analyzer.analyze(MediaType::Pdf, &pdf(&["Booking confirmation HT-1"]), "").await.unwrap();
        assert!(honest.extracted_text.is_some_and(|t| t.contains("HT-1")), "{:?}", honest.problems);
    }

    #[test]
    fn streams_that_each_fit_but_together_expand_past_the_budget_are_rejected() {
        let forty_mib = || (zeros_zlib(40), vec!["FlateDecode"]);
        let a = analyze(MediaType::Pdf, &pdf_with_contents(vec![forty_mib(), forty_mib()]));
        assert!(expands_past_the_budget(&a), "{:?}", a.problems);
    }

    #[test]
    fn streams_the_raw_count_cannot_see_are_counted_when_decoded() {
        // Hex-encoded first, so the count before loading sees no Flate
        // stream; decoding them for the text must still stop at the budget.
        let hex = |bytes: Vec<u8>| bytes.iter().map(|b| format!("{b:02x}")).collect::<String>().into_bytes();
        let forty_mib = || (hex(zeros_zlib(40)), vec!["ASCIIHexDecode", "FlateDecode"]);
        let a = analyze(MediaType::Pdf, &pdf_with_contents(vec![forty_mib(), forty_mib()]));
        assert!(expands_past_the_budget(&a), "{:?}", a.problems);
    }

    #[test]
    fn a_bomb_wrapped_in_a_second_flate_layer_is_rejected() {
        let wrapped = zlib(&zeros_zlib(1024));
        let a = analyze(MediaType::Pdf, &pdf_with_contents(vec![(wrapped, vec!["FlateDecode", "FlateDecode"])]));
        assert!(expands_past_the_budget(&a), "{:?}", a.problems);
    }

    #[test]
    fn a_compressed_pdf_within_the_budget_is_read() {
        let content = b"BT /F1 12 Tf 72 720 Td (Receipt 4471) Tj ET".to_vec();
        let mut bytes = pdf(&["Receipt 4471"]);
        let mut doc = Document::load_mem(&bytes).unwrap();
        doc.compress();
        bytes.clear();
        doc.save_to(&mut bytes).unwrap();
        assert!(!bytes.windows(content.len()).any(|w| w == content), "the content is compressed");
        let a = analyze(MediaType::Pdf, &bytes);
        assert!(a.extracted_text.is_some_and(|t| t.contains("Receipt 4471")), "{:?}", a.problems);
    }

    #[tokio::test]
    async fn an_image_declaring_more_pixels_than_the_budget_is_rejected_from_its_header() {
        let bomb = png_header(100_000, 100_000);
        assert!(bomb.len() < 100, "a few bytes declaring 10 gigapixels");
        let checked = LocalAttachmentAnalyzer::new().check(MediaType::Png, &bomb).await;
        assert!(checked.rejected);
        let a = checked.analysis;
        assert_eq!((a.width, a.height), (Some(100_000), Some(100_000)));
        assert!(
            a.problems.iter().any(|p| p.contains("declares 100000×100000 pixels, more than the 100 megapixels allowed")),
            "{:?}",
            a.problems
        );
        // Right at the budget is fine: 10 000 × 10 000 is 100 megapixels.
        assert!(!LocalAttachmentAnalyzer::new().check(MediaType::Png, &png_header(10_000, 10_000)).await.rejected);
    }

    #[tokio::test]
    async fn a_file_that_takes_too_long_to_read_is_reported_and_skipped() {
        let checked = LocalAttachmentAnalyzer::new().check_within(Duration::from_millis(1), MediaType::Pdf, &pdf_bomb()).await;
        assert!(checked.rejected);
        assert_eq!(checked.analysis.problems, ["reading the attachment took longer than 0.001 s; it was not read"]);
    }
}
