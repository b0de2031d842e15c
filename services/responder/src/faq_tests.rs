//! The responder with the local FAQ drafter over a fixture FAQ: what is
//! answered from the FAQ, in which language, and what goes to a person.

use super::*;
use jiff::SignedDuration;
use switchboard_ai::local::LocalAnswerDrafter;
use switchboard_domain::fixtures::InquiryBuilder;
use switchboard_domain::{FaqEntry, Intent, Language, ReservationNumber, Service};
use switchboard_pipeline::testing::{START, TestPipeline, delivery};

/// A guesthouse FAQ in both languages, each entry with a variant.
fn faq() -> Vec<FaqEntry> {
    let entry = |language, question: &str, variant: &str, answer: &str| {
        let mut e = FaqEntry::new(language, question, answer);
        e.variants.push(variant.to_owned());
        e
    };
    vec![
        entry(Language::Ko, "입실 시간이 어떻게 되나요?", "몇 시부터 들어갈 수 있나요?", "입실은 오후 4시부터입니다."),
        entry(Language::Ko, "취소 규정이 어떻게 되나요?", "예약 취소하면 환불되나요?", "7일 전까지 취소하시면 전액 환불됩니다."),
        entry(Language::Ko, "주차할 수 있나요?", "차 세울 곳 있나요?", "마당에 무료로 주차하실 수 있습니다."),
        entry(Language::En, "What time is check-in?", "When can we arrive?", "Check-in is from 4 pm."),
        entry(
            Language::En,
            "What is your cancellation policy?",
            "Do I get a refund if I cancel?",
            "Cancel 7 days ahead for a full refund.",
        ),
        entry(Language::En, "Is there parking?", "Where can we leave the car?", "Park for free in the yard."),
    ]
}

async fn setup() -> (TestPipeline, Responder) {
    let pipeline = TestPipeline::new().await;
    let mut tenant = pipeline.store.get_tenant(&switchboard_domain::TenantId::parse("demo").unwrap()).await.unwrap().unwrap();
    let version = tenant.version;
    tenant.faq = faq();
    pipeline.store.update_tenant(&tenant, version).await.unwrap();
    let stage = pipeline.stage(Service::Responder);
    let responder = Responder::new(stage, pipeline.store.clone(), Arc::new(LocalAnswerDrafter::new()), Duration::from_secs(5));
    (pipeline, responder)
}

/// `content` classified; `seed` makes its id (one per inquiry of a test).
fn classified(seed: u8, content: &str, language: Language, intent: Intent) -> Inquiry {
    let classification = switchboard_domain::fixtures::classification(language, intent);
    InquiryBuilder::new().created_at(START, seed).content(content).status(InquiryStatus::Classified).classification(classification).build()
}

/// The inquiry after the responder handled it.
async fn respond(pipeline: &TestPipeline, responder: &Responder, inquiry: Inquiry) -> Inquiry {
    pipeline.store_inquiry(&inquiry).await;
    pipeline.clock.set(START + SignedDuration::from_secs(1));
    let event = pipeline.stage(Service::Classifier).event(EventType::InquiryClassified, &inquiry, "1", json!({}));
    responder.try_handle(&delivery(&event, 1)).await.unwrap();
    pipeline.inquiry(inquiry.id).await
}

#[tokio::test]
async fn a_paraphrase_of_an_faq_question_is_answered_from_its_entry_in_its_language() {
    let (pipeline, responder) = setup().await;
    let done =
        respond(&pipeline, &responder, classified(1, "토요일에 가는데 입실 몇시부터 돼요?", Language::Ko, Intent::GeneralQuestion)).await;
    assert_eq!(done.status, InquiryStatus::Answered, "{:?}", done.escalation);
    let answer = done.answer.unwrap();
    assert!(answer.contains("입실은 오후 4시부터입니다."), "{answer}");
    assert!(!answer.contains("Check-in is from"), "{answer}");
}

#[tokio::test]
async fn a_question_the_faq_does_not_answer_is_escalated() {
    let (pipeline, responder) = setup().await;
    let done = respond(&pipeline, &responder, classified(2, "Is there a sauna we could use?", Language::En, Intent::GeneralQuestion)).await;
    assert_eq!(done.status, InquiryStatus::Escalated);
    assert!(done.answer.is_none());
}

#[tokio::test]
async fn a_policy_question_is_answered_while_the_matching_request_is_not() {
    let (pipeline, responder) = setup().await;
    let policy =
        respond(&pipeline, &responder, classified(3, "what is your cancellation policy?", Language::En, Intent::GeneralQuestion)).await;
    assert_eq!(policy.status, InquiryStatus::Answered, "{:?}", policy.escalation);
    assert!(policy.answer.unwrap().contains("full refund"));

    let refund = respond(&pipeline, &responder, classified(4, "환불해 주세요", Language::Ko, Intent::Refund)).await;
    assert_eq!(refund.status, InquiryStatus::Escalated);
    assert!(refund.answer.is_none());

    let mut cancel = classified(5, "Please cancel my booking GH-20481123.", Language::En, Intent::ReservationChange);
    cancel.reservation_number = ReservationNumber::parse("GH-20481123").ok();
    let cancel = respond(&pipeline, &responder, cancel).await;
    assert_eq!(cancel.status, InquiryStatus::Escalated, "a request to act is never answered from the FAQ");
    assert!(cancel.answer.is_none());
}
