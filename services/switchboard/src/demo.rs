//! `up --demo`: a small hotel-and-tours business with a bilingual FAQ,
//! reservations with partners, and an API key to try it with.

use anyhow::Context;
use switchboard_domain::tenant::hash_api_key;
use switchboard_domain::{FaqEntry, FaqEntryId, Language, PhoneNumber, Reservation, ReservationNumber, Tenant, TenantId};
use switchboard_store::{ReservationStore, TenantStore};

/// The demo tenant's id.
pub const DEMO_TENANT: &str = "demo";

/// Seeds the demo tenant (with `api_key`) and its reservations. Idempotent:
/// the tenant's key is replaced, everything else rewritten as it was.
pub async fn seed(tenants: &dyn TenantStore, reservations: &dyn ReservationStore, api_key: &str) -> anyhow::Result<()> {
    let tenant = Tenant {
        id: TenantId::parse(DEMO_TENANT).context("demo tenant id")?,
        name: "Hanbit Stay & Tours".into(),
        api_key_hash: hash_api_key(api_key),
        domain_context: "A 40-room hotel in Jeonju with day tours of the hanok village. Friendly, concise, polite.".into(),
        faq: faq(),
        tier: "standard".into(),
        version: 0,
        auto_close_days: None,
        contact_email: None,
        sla: None,
    };
    tenants.put_tenant(&tenant).await?;
    for r in reservations_list()? {
        reservations.put_reservation(&r).await?;
    }
    Ok(())
}

fn entry(language: Language, question: &str, answer: &str) -> FaqEntry {
    // Derived ids: the demo FAQ keeps its ids across restarts.
    FaqEntry {
        id: FaqEntryId::derive(language, question),
        language,
        question: question.into(),
        variants: Vec::new(),
        answer: answer.into(),
    }
}

/// The demo FAQ, in Korean and English.
pub fn faq() -> Vec<FaqEntry> {
    use Language::{En, Ko};
    vec![
        entry(
            Ko,
            "체크인과 체크아웃 시간은 언제인가요?",
            "체크인은 오후 3시부터, 체크아웃은 오전 11시까지입니다. 얼리 체크인은 당일 객실 상황에 따라 가능합니다.",
        ),
        entry(
            En,
            "What are the check-in and check-out times?",
            "Check-in is from 3 pm and check-out is until 11 am. Early check-in depends on availability on the day.",
        ),
        entry(
            Ko,
            "조식은 몇 시에 어디서 제공되나요?",
            "조식은 매일 오전 7시부터 10시까지 1층 한식당에서 제공됩니다. 1인 15,000원이며 객실 요금에 포함된 경우도 있습니다.",
        ),
        entry(
            En,
            "When and where is breakfast served?",
            "Breakfast is served daily from 7 to 10 am in the ground-floor restaurant. It costs 15,000 won per person unless your rate includes it.",
        ),
        entry(
            Ko,
            "주차가 가능한가요? 주차 요금은 얼마인가요?",
            "호텔 지하 주차장을 투숙객은 무료로 이용하실 수 있습니다. 1객실당 1대까지 무료입니다.",
        ),
        entry(
            En,
            "Is there parking and how much does it cost?",
            "Guests park free of charge in the hotel's underground car park, one car per room.",
        ),
        entry(
            Ko,
            "예약 취소와 환불 규정이 어떻게 되나요?",
            "숙박 3일 전까지는 전액 환불, 1~2일 전은 50% 환불, 당일 취소는 환불이 어렵습니다.",
        ),
        entry(
            En,
            "What is the cancellation and refund policy?",
            "Cancel up to 3 days before arrival for a full refund, 1–2 days before for 50%; same-day cancellations are not refunded.",
        ),
        entry(
            Ko,
            "공항이나 기차역 픽업 서비스가 있나요?",
            "전주역 픽업은 무료이며 하루 전까지 요청해 주세요. 공항 셔틀은 운영하지 않습니다.",
        ),
        entry(
            En,
            "Do you offer airport or train station pick-up?",
            "Pick-up from Jeonju station is free if you ask a day ahead. We do not run an airport shuttle.",
        ),
        entry(
            Ko,
            "반려동물과 함께 투숙할 수 있나요?",
            "소형견(10kg 이하)에 한해 펫 전용 객실에서 투숙 가능하며 1박 20,000원이 추가됩니다.",
        ),
        entry(En, "Can I bring my pet?", "Small dogs up to 10 kg are welcome in our pet-friendly rooms for 20,000 won per night."),
        entry(
            Ko,
            "와이파이 비밀번호는 무엇인가요?",
            "객실 와이파이는 무료이며 비밀번호는 객실 안내문과 체크인 시 드리는 키 카드 봉투에 있습니다.",
        ),
        entry(
            En,
            "Is there Wi-Fi and what is the password?",
            "Wi-Fi is free in all rooms; the password is on the room card and on your key-card sleeve.",
        ),
        entry(Ko, "한옥마을 투어는 어디서 출발하나요?", "한옥마을 투어는 매일 오전 10시 호텔 로비에서 출발하며 약 3시간 소요됩니다."),
        entry(
            En,
            "Where does the hanok village tour start?",
            "The hanok village tour leaves the hotel lobby at 10 am daily and takes about three hours.",
        ),
    ]
}

fn reservations_list() -> anyhow::Result<Vec<Reservation>> {
    let tenant = TenantId::parse(DEMO_TENANT).context("demo tenant id")?;
    let r = |number: &str,
             customer: &str,
             customer_phone: &str,
             partner_id: &str,
             partner: &str,
             partner_phone: &str,
             locale,
             service: &str,
             date: &str|
     -> anyhow::Result<Reservation> {
        Ok(Reservation {
            reservation_number: ReservationNumber::parse(number).context("demo reservation number")?,
            tenant_id: tenant.clone(),
            customer_name: customer.into(),
            customer_phone: PhoneNumber::parse(customer_phone).context("demo phone")?,
            partner_id: partner_id.into(),
            partner_name: partner.into(),
            partner_phone: PhoneNumber::parse(partner_phone).context("demo phone")?,
            partner_locale: locale,
            service_type: service.into(),
            reservation_date: date.into(),
        })
    };
    Ok(vec![
        r("HT-20481123", "김민지", "+821012345678", "hanbit-hotel", "한빛호텔 전주", "+821098765432", Language::Ko, "hotel", "2026-12-24")?,
        r(
            "TR-55501234",
            "Alex Morgan",
            "+12135550149",
            "jeonju-tours",
            "Jeonju Day Tours",
            "+821055501234",
            Language::En,
            "tour",
            "2026-12-26T10:00",
        )?,
        r(
            "CR-31092847",
            "박서준",
            "+821077778888",
            "hanbit-rent",
            "한빛렌터카",
            "+821033334444",
            Language::Ko,
            "car_rental",
            "2026-12-27",
        )?,
    ])
}
