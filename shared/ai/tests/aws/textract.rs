use crate::stub::{Logs, Recorded, Reply, Stub};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::json;
use std::time::Duration;
use switchboard_ai::AttachmentAnalyzer;
use switchboard_ai::aws::bedrock::{BedrockVision, Converse};
use switchboard_ai::aws::textract::TextractAnalyzer;
use switchboard_domain::MediaType;

const MODEL: &str = "anthropic.claude-3-haiku-20240307-v1:0";
const CONTEXT: &str = "The shower door in room 301 is cracked, see the photo.";

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

/// A valid 64×48 black PNG.
fn png() -> Vec<u8> {
    let (width, height) = (64u32, 48u32);
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    chunk(&mut out, b"IHDR", &ihdr);
    let raw = vec![0u8; (1 + width as usize * 3) * height as usize];
    let mut zlib = vec![0x78, 0x01, 1];
    let len = raw.len() as u16;
    zlib.extend_from_slice(&len.to_le_bytes());
    zlib.extend_from_slice(&(!len).to_le_bytes());
    zlib.extend_from_slice(&raw);
    zlib.extend_from_slice(&adler32(&raw).to_be_bytes());
    chunk(&mut out, b"IDAT", &zlib);
    chunk(&mut out, b"IEND", &[]);
    out
}

/// A PDF with one page per entry, each showing its text.
fn pdf(pages: &[&str]) -> Vec<u8> {
    use lopdf::content::{Content, Operation};
    use lopdf::{Document, Object, Stream, dictionary};
    let mut doc = Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let font_id = doc.add_object(dictionary! { "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica" });
    let resources_id = doc.add_object(dictionary! { "Font" => dictionary! { "F1" => font_id } });
    let mut kids = Vec::new();
    for text in pages {
        let content = Content {
            operations: vec![
                Operation::new("BT", vec![]),
                Operation::new("Tf", vec!["F1".into(), 12.into()]),
                Operation::new("Td", vec![50.into(), 700.into()]),
                Operation::new("Tj", vec![Object::string_literal(*text)]),
                Operation::new("ET", vec![]),
            ],
        };
        let content_id = doc.add_object(Stream::new(dictionary! {}, content.encode().unwrap()));
        let page_id = doc.add_object(dictionary! {
            "Type" => "Page", "Parent" => pages_id, "Contents" => content_id, "Resources" => resources_id,
            "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
        });
        kids.push(page_id.into());
    }
    let count = kids.len() as i64;
    doc.objects.insert(pages_id, Object::Dictionary(dictionary! { "Type" => "Pages", "Kids" => kids, "Count" => count }));
    let catalog_id = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog_id);
    let mut out = Vec::new();
    doc.save_to(&mut out).unwrap();
    out
}

/// Textract and Bedrock vision as they answer.
fn engines(r: &Recorded) -> Reply {
    match r.operation() {
        "DetectDocumentText" => Reply::amz_json(json!({
            "DocumentMetadata": { "Pages": 1 },
            "Blocks": [
                { "BlockType": "PAGE", "Id": "p1" },
                { "BlockType": "LINE", "Id": "l1", "Text": "ROOM 301", "Confidence": 99.1 },
                { "BlockType": "LINE", "Id": "l2", "Text": "Receipt no. 4471", "Confidence": 98.7 },
                { "BlockType": "WORD", "Id": "w1", "Text": "ROOM" }
            ]
        })),
        "AnalyzeDocument" => Reply::amz_json(json!({
            "DocumentMetadata": { "Pages": 1 },
            "Blocks": [
                { "BlockType": "LINE", "Id": "l1", "Text": "Booking confirmation" },
                { "BlockType": "KEY_VALUE_SET", "Id": "k1", "EntityTypes": ["KEY"],
                  "Relationships": [{ "Type": "VALUE", "Ids": ["v1"] }, { "Type": "CHILD", "Ids": ["w1", "w2"] }] },
                { "BlockType": "KEY_VALUE_SET", "Id": "v1", "EntityTypes": ["VALUE"], "Relationships": [{ "Type": "CHILD", "Ids": ["w3"] }] },
                { "BlockType": "WORD", "Id": "w1", "Text": "Booking" },
                { "BlockType": "WORD", "Id": "w2", "Text": "no.:" },
                { "BlockType": "WORD", "Id": "w3", "Text": "HT-20481123" }
            ]
        })),
        "Converse" => Reply::converse(
            r#"{"description":"A glass shower door with a long crack across its lower half.","labels":["shower","damage","Glass"]}"#,
        ),
        other => Reply::amz_error(400, &format!("UnknownOperationException: {other}")),
    }
}

async fn analyzer(stub: &Stub) -> TextractAnalyzer {
    let clients = stub.clients().await;
    let vision = BedrockVision::new(Converse::new(clients.bedrock, Duration::from_secs(20)), MODEL.into());
    TextractAnalyzer::new(clients.textract, Duration::from_secs(20)).with_vision(vision)
}

#[tokio::test]
async fn a_photo_is_read_by_detect_document_text_and_described_by_the_vision_model() {
    let stub = Stub::start(|r, _| engines(r)).await;
    let image = png();
    let a = analyzer(&stub).await.analyze(MediaType::Png, &image, CONTEXT).await.unwrap();

    let textract = stub.calls("DetectDocumentText");
    assert_eq!(textract.len(), 1);
    assert_eq!(textract[0].target.as_deref(), Some("Textract.DetectDocumentText"));
    assert_eq!(textract[0].body["Document"]["Bytes"].as_str().map(|b| STANDARD.decode(b).unwrap()), Some(image.clone()));
    let vision = &stub.calls("Converse")[0];
    assert_eq!(vision.model_id(), Some(MODEL));
    let blocks = &vision.body["messages"][0]["content"];
    assert_eq!(blocks[0]["image"]["format"], "png");
    assert_eq!(blocks[0]["image"]["source"]["bytes"].as_str().map(|b| STANDARD.decode(b).unwrap()), Some(image));
    assert!(blocks[1]["text"].as_str().unwrap().contains("shower door in room 301"), "the inquiry, for context");
    assert!(stub.calls("AnalyzeDocument").is_empty());

    assert_eq!(a.extracted_text.as_deref(), Some("ROOM 301\nReceipt no. 4471"));
    assert_eq!(a.description.as_deref(), Some("A glass shower door with a long crack across its lower half."));
    assert_eq!((a.width, a.height), (Some(64), Some(48)), "the local checks stay");
    for label in ["photo", "receipt", "shower", "damage", "glass"] {
        assert!(a.labels.contains(&label.to_owned()), "{label} in {:?}", a.labels);
    }
    assert_eq!(a.engine, "local-checks+textract+bedrock-vision");
    assert!(a.problems.is_empty(), "{:?}", a.problems);
}

#[tokio::test]
async fn a_one_page_pdf_is_read_with_analyze_document_forms_and_not_sent_to_vision() {
    let stub = Stub::start(|r, _| engines(r)).await;
    let a = analyzer(&stub).await.analyze(MediaType::Pdf, &pdf(&[""]), CONTEXT).await.unwrap();

    let calls = stub.calls("AnalyzeDocument");
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].target.as_deref(), Some("Textract.AnalyzeDocument"));
    assert_eq!(calls[0].body["FeatureTypes"], json!(["FORMS"]));
    assert!(stub.calls("Converse").is_empty() && stub.calls("DetectDocumentText").is_empty());
    assert_eq!(a.extracted_text.as_deref(), Some("Booking confirmation\n\nBooking no.: HT-20481123"));
    assert!(a.labels.contains(&"form".to_owned()) && a.labels.contains(&"booking_confirmation".to_owned()), "{:?}", a.labels);
    assert!(a.problems.is_empty(), "OCR read what the missing text layer hid: {:?}", a.problems);
}

#[tokio::test]
async fn a_pdf_beyond_the_synchronous_page_limit_keeps_its_text_layer_and_is_not_sent() {
    let stub = Stub::start(|r, _| engines(r)).await;
    let a = analyzer(&stub).await.analyze(MediaType::Pdf, &pdf(&["Invoice page one", "page two"]), CONTEXT).await.unwrap();
    assert!(stub.requests().is_empty());
    assert!(a.extracted_text.as_deref().is_some_and(|t| t.contains("Invoice page one")));
    assert!(a.problems.iter().any(|p| p.contains("single-page")), "{:?}", a.problems);
}

#[tokio::test]
async fn a_mislabelled_file_is_left_to_the_local_checks() {
    let stub = Stub::start(|r, _| engines(r)).await;
    let a = analyzer(&stub).await.analyze(MediaType::Jpeg, &png(), CONTEXT).await.unwrap();
    assert!(stub.requests().is_empty());
    assert!(a.problems.iter().any(|p| p.contains("does not match")), "{:?}", a.problems);
}

#[tokio::test]
async fn an_image_over_the_pixel_budget_is_rejected_locally_and_not_sent() {
    // A header declaring 100 000 × 100 000 pixels, and no pixel data.
    let mut bomb = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&100_000u32.to_be_bytes());
    ihdr.extend_from_slice(&100_000u32.to_be_bytes());
    ihdr.extend_from_slice(&[8, 6, 0, 0, 0]);
    chunk(&mut bomb, b"IHDR", &ihdr);
    chunk(&mut bomb, b"IEND", &[]);

    let stub = Stub::start(|r, _| engines(r)).await;
    let a = analyzer(&stub).await.analyze(MediaType::Png, &bomb, CONTEXT).await.unwrap();
    assert!(stub.requests().is_empty(), "neither Textract nor the vision model is asked");
    assert!(a.problems.iter().any(|p| p.contains("more than the 100 megapixels allowed")), "{:?}", a.problems);
    assert_eq!(a.engine, "local-checks");
}

#[tokio::test]
async fn engine_failures_become_problems_and_the_local_findings_stay() {
    let logs = Logs::capture();
    let stub = Stub::start(|r, _| match r.operation() {
        "DetectDocumentText" => Reply::amz_error(500, "InternalServerError"),
        _ => Reply::converse("A cracked door, I think."),
    })
    .await;
    let a = analyzer(&stub).await.analyze(MediaType::Png, &png(), CONTEXT).await.unwrap();
    assert_eq!((a.width, a.height, a.engine.as_str()), (Some(64), Some(48), "local-checks"));
    assert_eq!(a.extracted_text, None);
    assert_eq!(a.description, None);
    assert!(a.problems.iter().any(|p| p.starts_with("text recognition failed")), "{:?}", a.problems);
    assert!(a.problems.iter().any(|p| p.starts_with("image description failed")), "{:?}", a.problems);
    assert!(!logs.text().contains("room 301") && !logs.text().contains("cracked"), "{}", logs.text());
}

#[tokio::test]
async fn a_throttled_textract_call_is_retried_once() {
    let stub = Stub::start(|r, nth| {
        if r.operation() == "DetectDocumentText" && nth == 0 {
            Reply::amz_error(400, "ProvisionedThroughputExceededException")
        } else {
            engines(r)
        }
    })
    .await;
    let a = analyzer(&stub).await.analyze(MediaType::Png, &png(), CONTEXT).await.unwrap();
    assert_eq!(stub.calls("DetectDocumentText").len(), 2);
    assert_eq!(a.extracted_text.as_deref(), Some("ROOM 301\nReceipt no. 4471"));
}

#[tokio::test]
async fn without_a_vision_model_a_photo_is_only_read() {
    let stub = Stub::start(|r, _| engines(r)).await;
    let mut settings = crate::stub::settings();
    settings.vision_model_id = None;
    let a = switchboard_ai::aws::engines(&stub.clients().await, &settings).analyzer.analyze(MediaType::Png, &png(), CONTEXT).await.unwrap();
    assert!(stub.calls("Converse").is_empty());
    assert_eq!((a.engine.as_str(), a.description.as_deref()), ("local-checks+textract", None));
}
