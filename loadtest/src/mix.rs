//! What the load consists of: a realistic mix of the demo tenant's
//! inquiries, Korean and English, across every path of the pipeline.
//!
//! | kind | share (default) | path |
//! |---|---|---|
//! | FAQ question, Korean or English | most of the rest | classified, answered from the FAQ |
//! | FAQ question by e-mail only | 5 % of the rest | answered, notified by e-mail |
//! | angry complaint | 10 % of the rest | escalated, operators e-mailed |
//! | refund request | 7 % of the rest | escalated |
//! | question the FAQ cannot answer | 8 % of the rest | escalated (low confidence) |
//! | trouble report without a reservation | 5 % of the rest | escalated |
//! | unverifiable reservation (wrong phone) | 2 % of the rest | the customer is asked to check the number (`awaiting_customer`, where the followed path ends) |
//! | small photo attachment (PNG or JPEG) | `--attachment-share` (10 %) | image-analyzer, then classified |
//! | reservation change / add-on for a demo reservation | `--partner-share` (20 %) | partner link by SMS, answered or timed out |
//!
//! Every draw comes from one seeded generator, so a run is repeatable.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use std::time::Duration;

/// Shares and partner behaviour of a run.
#[derive(Debug, Clone, PartialEq)]
pub struct MixConfig {
    /// Share of inquiries that need a partner (reservation changes, add-ons).
    pub partner_share: f64,
    /// Share of inquiries carrying a small image.
    pub attachment_share: f64,
    /// Share of partner requests the simulated partner never answers
    /// (they end at the server's partner deadline).
    pub silent_share: f64,
    /// The simulated partner answers after a delay drawn uniformly from this range.
    pub partner_delay: (Duration, Duration),
    /// Share of submissions sent with an `Idempotency-Key` header.
    pub idempotency_share: f64,
}

impl Default for MixConfig {
    fn default() -> Self {
        Self {
            partner_share: 0.2,
            attachment_share: 0.1,
            silent_share: 0.2,
            partner_delay: (Duration::from_millis(200), Duration::from_secs(3)),
            idempotency_share: 0.5,
        }
    }
}

/// Which path an inquiry is meant to take.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    FaqKo,
    FaqEn,
    FaqByEmail,
    Complaint,
    Refund,
    OffFaq,
    Trouble,
    Unverifiable,
    Attachment,
    PartnerChange,
}

/// What the simulated partner does if this inquiry reaches `awaiting_partner`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PartnerPlan {
    /// Opens the link, then answers `answer` (`accept`, `reject`, `alternative`) after `after`.
    Answer { after: Duration, answer: &'static str },
    /// Never answers: the server's deadline decides.
    Silent,
}

/// One inquiry of the run.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub kind: Kind,
    /// The `POST /api/inquiries` body.
    pub body: Value,
    pub idempotency_key: Option<String>,
    pub partner: PartnerPlan,
}

/// Draws plans from a seeded generator.
pub struct Mix {
    config: MixConfig,
    rng: StdRng,
    run_id: u64,
}

const FAQ_KO: &[&str] = &[
    "체크인 시간이 언제인가요?",
    "조식은 몇 시에 제공되나요?",
    "호텔에 주차가 가능한가요? 요금이 궁금합니다.",
    "소형견과 함께 투숙할 수 있나요?",
    "와이파이 비밀번호를 알려주세요.",
    "한옥마을 투어는 어디서 출발하나요?",
    "전주역 픽업 서비스가 있나요?",
    "예약 취소 규정이 어떻게 되나요?",
];

const FAQ_EN: &[&str] = &[
    "What time is check-in?",
    "When and where is breakfast served?",
    "Is there parking at the hotel and how much is it?",
    "Can I bring my small dog?",
    "What is the wifi password?",
    "Where does the hanok village tour start?",
    "Do you offer pick-up from Jeonju station?",
    "What is your cancellation policy?",
];

const COMPLAINTS: &[&str] = &[
    "The staff were rude and I am furious, call me now!",
    "직원이 너무 불친절해서 정말 화가 납니다. 당장 연락 주세요!",
    "Our room was dirty and nobody at the desk helped us. This is unacceptable.",
];

const REFUNDS: &[&str] = &[
    "I was charged twice for my booking, please refund one of the payments.",
    "예약을 취소했는데 환불이 아직 안 들어왔어요. 확인 부탁드립니다.",
];

const OFF_FAQ: &[&str] = &[
    "Do you have a gym or a swimming pool?",
    "근처에 맛있는 비빔밥 집을 추천해 주실 수 있나요?",
    "Is there a laundry service for long stays?",
];

const TROUBLE: &[&str] = &["The air conditioner in our room is not working.", "객실 샤워기에서 따뜻한 물이 안 나와요."];

/// Reservation number, the customer's phone on it, and a request per language.
const PARTNER: &[(&str, &str, &str)] = &[
    ("HT-20481123", "+821012345678", "예약번호 HT-20481123 숙박 날짜를 12월 26일로 변경하고 싶어요."),
    ("TR-55501234", "+12135550149", "Could I move my tour TR-55501234 to December 28 at 10 am?"),
    ("CR-31092847", "+821077778888", "CR-31092847 렌터카 예약에 카시트를 추가할 수 있을까요?"),
    ("TR-55501234", "+12135550149", "For booking TR-55501234, can we add two more people to the tour?"),
];

const ATTACHMENT_TEXTS: &[&str] =
    &["The lamp in our room is broken, photo attached.", "영수증 사진 첨부합니다. 결제 내역 확인 부탁드려요."];

impl Mix {
    pub fn new(config: MixConfig, seed: u64) -> Self {
        let mut rng = StdRng::seed_from_u64(seed);
        let run_id = rng.random();
        Self { config, rng, run_id }
    }

    /// The plan of inquiry number `n`.
    pub fn plan(&mut self, n: u64) -> Plan {
        let roll: f64 = self.rng.random();
        let kind = if roll < self.config.partner_share {
            Kind::PartnerChange
        } else if roll < self.config.partner_share + self.config.attachment_share {
            Kind::Attachment
        } else {
            // The rest, by weight (percent of the rest).
            let weights = [
                (Kind::FaqKo, 32),
                (Kind::FaqEn, 31),
                (Kind::FaqByEmail, 5),
                (Kind::Complaint, 10),
                (Kind::Refund, 7),
                (Kind::OffFaq, 8),
                (Kind::Trouble, 5),
                (Kind::Unverifiable, 2),
            ];
            let mut pick = self.rng.random_range(0..100);
            let mut chosen = Kind::FaqEn;
            for (kind, weight) in weights {
                if pick < weight {
                    chosen = kind;
                    break;
                }
                pick -= weight;
            }
            chosen
        };
        let body = self.body(kind, n);
        let idempotency_key =
            (self.rng.random::<f64>() < self.config.idempotency_share).then(|| format!("loadtest-{:016x}-{n}", self.run_id));
        let partner = if self.rng.random::<f64>() < self.config.silent_share {
            PartnerPlan::Silent
        } else {
            let (low, high) = self.config.partner_delay;
            let after = if high > low { self.rng.random_range(low..=high) } else { low };
            let answer = *["accept", "accept", "accept", "reject", "alternative"].choose(&mut self.rng).unwrap_or(&"accept");
            PartnerPlan::Answer { after, answer }
        };
        Plan { kind, body, idempotency_key, partner }
    }

    fn pick(&mut self, options: &[&'static str]) -> &'static str {
        options.choose(&mut self.rng).copied().unwrap_or_default()
    }

    fn phone(&mut self) -> String {
        if self.rng.random_bool(0.6) {
            format!("+8210{:08}", self.rng.random_range(10_000_000..100_000_000u32))
        } else {
            format!("+1213555{:04}", self.rng.random_range(0..10_000u32))
        }
    }

    fn body(&mut self, kind: Kind, n: u64) -> Value {
        match kind {
            Kind::FaqKo => json!({ "content": self.pick(FAQ_KO), "customer_phone": self.phone(), "language": "ko" }),
            Kind::FaqEn => json!({ "content": self.pick(FAQ_EN), "customer_phone": self.phone() }),
            Kind::FaqByEmail => json!({
                "title": "Question before my stay",
                "content": self.pick(FAQ_EN),
                "customer_email": format!("guest{n}@loadtest.example"),
                "channel": "web",
            }),
            Kind::Complaint => json!({ "content": self.pick(COMPLAINTS), "customer_phone": self.phone() }),
            Kind::Refund => json!({ "content": self.pick(REFUNDS), "customer_phone": self.phone() }),
            Kind::OffFaq => json!({ "content": self.pick(OFF_FAQ), "customer_phone": self.phone() }),
            Kind::Trouble => json!({ "content": self.pick(TROUBLE), "customer_phone": self.phone() }),
            Kind::Unverifiable => json!({
                "content": "예약번호 HT-20481123 날짜를 변경하고 싶어요.",
                "customer_phone": self.phone(),
            }),
            Kind::Attachment => {
                let (filename, bytes) = if self.rng.random_bool(0.5) {
                    ("photo.png", png(64, 48, [self.rng.random(), self.rng.random(), self.rng.random()]))
                } else {
                    ("receipt.jpg", jpeg_header(640, 480))
                };
                json!({
                    "content": self.pick(ATTACHMENT_TEXTS),
                    "customer_phone": self.phone(),
                    "attachments": [{ "filename": filename, "content_base64": STANDARD.encode(bytes) }],
                })
            }
            Kind::PartnerChange => {
                let (number, phone, text) = *PARTNER.choose(&mut self.rng).unwrap_or(&PARTNER[0]);
                // Half name the reservation in a field, half only in the text.
                if self.rng.random_bool(0.5) {
                    json!({ "content": text, "customer_phone": phone, "reservation_number": number, "channel": "chat" })
                } else {
                    json!({ "content": text, "customer_phone": phone })
                }
            }
        }
    }
}

/// A real, decodable PNG of one colour (stored, uncompressed deflate):
/// a few kilobytes, like a small photo thumbnail.
pub fn png(width: u32, height: u32, rgb: [u8; 3]) -> Vec<u8> {
    let mut row = vec![0]; // filter: none
    row.extend(rgb.repeat(width as usize));
    let raw = row.repeat(height as usize);
    // zlib stream of stored blocks (at most 65535 bytes each).
    let mut zlib = vec![0x78, 0x01];
    let chunks: Vec<&[u8]> = raw.chunks(65_535).collect();
    for (i, block) in chunks.iter().enumerate() {
        zlib.push(u8::from(i + 1 == chunks.len()));
        let len = block.len() as u16;
        zlib.extend_from_slice(&len.to_le_bytes());
        zlib.extend_from_slice(&(!len).to_le_bytes());
        zlib.extend_from_slice(block);
    }
    zlib.extend_from_slice(&adler32(&raw).to_be_bytes());

    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]); // 8-bit RGB, deflate, no filter method, no interlace

    let mut out = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
    for (name, data) in [(b"IHDR", &ihdr[..]), (b"IDAT", &zlib[..]), (b"IEND", &[][..])] {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let start = out.len();
        out.extend_from_slice(name);
        out.extend_from_slice(data);
        let crc = crc32(&out[start..]);
        out.extend_from_slice(&crc.to_be_bytes());
    }
    out
}

/// The start of a baseline JPEG up to its frame header: enough for a type
/// and size check, which is all the local analyzer does with a photo.
pub fn jpeg_header(width: u16, height: u16) -> Vec<u8> {
    let mut out = vec![0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0, 1, 1, 0, 0, 1, 0, 1, 0, 0];
    out.extend_from_slice(&[0xFF, 0xC0, 0x00, 0x11, 0x08]);
    out.extend_from_slice(&height.to_be_bytes());
    out.extend_from_slice(&width.to_be_bytes());
    out.extend_from_slice(&[0x03, 0x01, 0x22, 0x00, 0x02, 0x11, 0x01, 0x03, 0x11, 0x01]);
    out.extend_from_slice(&[0xFF, 0xD9]);
    out
}

fn adler32(data: &[u8]) -> u32 {
    let (mut a, mut b) = (1u32, 0u32);
    for &byte in data {
        a = (a + byte as u32) % 65_521;
        b = (b + a) % 65_521;
    }
    (b << 16) | a
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &byte in data {
        crc ^= byte as u32;
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn the_same_seed_draws_the_same_run() {
        let mut a = Mix::new(MixConfig::default(), 7);
        let mut b = Mix::new(MixConfig::default(), 7);
        for n in 0..50 {
            assert_eq!(a.plan(n), b.plan(n));
        }
    }

    #[test]
    fn shares_follow_the_configuration() {
        let mut mix = Mix::new(MixConfig::default(), 1);
        let mut kinds: BTreeMap<Kind, u32> = BTreeMap::new();
        for n in 0..10_000 {
            *kinds.entry(mix.plan(n).kind).or_default() += 1;
        }
        let share = |k| kinds.get(&k).copied().unwrap_or(0) as f64 / 10_000.0;
        assert!((share(Kind::PartnerChange) - 0.2).abs() < 0.02, "{kinds:?}");
        assert!((share(Kind::Attachment) - 0.1).abs() < 0.02, "{kinds:?}");
        assert!(share(Kind::FaqKo) > 0.15 && share(Kind::FaqEn) > 0.15, "{kinds:?}");
        assert!(kinds.len() >= 9, "every path is exercised: {kinds:?}");
    }

    #[test]
    fn partner_requests_name_a_demo_reservation_with_its_customer_phone() {
        let mut mix = Mix::new(MixConfig { partner_share: 1.0, ..MixConfig::default() }, 3);
        for n in 0..20 {
            let plan = mix.plan(n);
            let phone = plan.body["customer_phone"].as_str().unwrap().to_owned();
            let text = plan.body["content"].as_str().unwrap().to_owned();
            assert!(PARTNER.iter().any(|(number, p, _)| *p == phone && text.contains(number)), "{plan:?}");
        }
    }

    #[test]
    fn the_png_is_well_formed() {
        let bytes = png(64, 48, [1, 2, 3]);
        assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"));
        assert!(bytes.ends_with(&[0xAE, 0x42, 0x60, 0x82]), "IEND with its known CRC");
        assert_eq!(&bytes[16..24], &[0, 0, 0, 64, 0, 0, 0, 48]);
        assert_eq!(adler32(b"Wikipedia"), 0x11E6_0398);
    }
}
