use crate::stub::{Logs, Reply, SHORT, SLOW, Stub};
use jiff::Timestamp;
use std::time::Duration;
use switchboard_ai::aws::bedrock::{BedrockAnswerDrafter, Converse};
use switchboard_ai::local::{LocalClassifier, NO_FAQ_MATCH};
use switchboard_ai::{AiError, AnswerDrafter, ClassifyRequest, DraftRequest};
use switchboard_domain::fixtures::InquiryBuilder;
use switchboard_domain::{FaqEntry, Inquiry, InquiryStatus, Language, PartnerOutcome, ReservationNumber, Tenant, TenantId};

const MODEL: &str = "anthropic.claude-3-haiku-20240307-v1:0";

fn entry(language: Language, question: &str, answer: &str) -> FaqEntry {
    FaqEntry::new(language, question, answer)
}

fn tenant() -> Tenant {
    use Language::{En, Ko};
    Tenant {
        id: TenantId::parse("hanbit").unwrap(),
        name: "Hanbit Stay".into(),
        api_key_hash: String::new(),
        domain_context: "A 40-room hotel in Jeonju with day tours of the hanok village.".into(),
        faq: vec![
            entry(
                En,
                "Is there parking and how much does it cost?",
                "Guests park free of charge in the underground car park, one car per room.",
            ),
            entry(En, "When and where is breakfast served?", "Breakfast is served daily from 7 to 10 am in the ground-floor restaurant."),
            entry(En, "Can I bring my pet?", "Small dogs up to 10 kg are welcome in pet-friendly rooms for 20,000 won per night."),
            entry(Ko, "주차가 가능한가요? 주차 요금은 얼마인가요?", "호텔 지하 주차장을 투숙객은 무료로 이용하실 수 있습니다."),
            entry(Ko, "조식은 몇 시에 어디서 제공되나요?", "조식은 매일 오전 7시부터 10시까지 1층 한식당에서 제공됩니다."),
        ],
        tier: "standard".into(),
        version: 0,
        auto_close_days: None,
        contact_email: None,
        sla: None,
    }
}

fn inquiry(content: &str) -> Inquiry {
    let mut inquiry = InquiryBuilder::new()
        .created_at(Timestamp::from_second(1_800_000_000).unwrap(), 3)
        .tenant(TenantId::parse("hanbit").unwrap())
        .content(content)
        .status(InquiryStatus::Classified)
        .build();
    let request =
        ClassifyRequest { title: None, content: content.into(), language_hint: None, reservation_hint: None, attachment_texts: vec![] };
    inquiry.classification = Some(LocalClassifier::new().classify_now(&request));
    inquiry.reservation_number = inquiry.classification.as_ref().and_then(|c| c.reservation_number.clone());
    inquiry
}

fn draft_request(content: &str, language: Language) -> DraftRequest {
    DraftRequest { tenant: tenant(), inquiry: inquiry(content), partner_outcome: None, language }
}

async fn drafter(stub: &Stub, budget: Duration) -> BedrockAnswerDrafter {
    BedrockAnswerDrafter::new(Converse::new(stub.clients().await.bedrock, budget), MODEL.into())
}

const PARKING_ANSWER: &str = r#"{"answer":"Hello! Parking is free for guests in our underground car park, one car per room.","confidence":0.93,"escalate":false,"reason":null}"#;

fn system_of(stub: &Stub) -> String {
    stub.calls("Converse")[0].body["system"][0]["text"].as_str().unwrap_or_default().to_owned()
}

fn user_of(stub: &Stub) -> String {
    stub.calls("Converse")[0].body["messages"][0]["content"][0]["text"].as_str().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn an_answer_is_drafted_by_the_configured_model_from_the_retrieved_faq_entries() {
    let stub = Stub::start(|_, _| Reply::converse(PARKING_ANSWER)).await;
    let draft = drafter(&stub, Duration::from_secs(20))
        .await
        .draft(&draft_request("Hi, is there parking at the hotel and what does it cost?", Language::En))
        .await
        .unwrap();

    let call = &stub.calls("Converse")[0];
    assert_eq!((call.method.as_str(), call.model_id()), ("POST", Some(MODEL)), "REST-JSON /model/{{modelId}}/converse");
    assert_eq!(call.body["messages"][0]["role"], "user");
    assert!(call.body["inferenceConfig"]["maxTokens"].as_i64().is_some_and(|n| n > 0));
    let system = system_of(&stub);
    assert!(system.contains("Hanbit Stay") && system.contains("hanok village"), "the tenant's domain context");
    let parking = system.find("Is there parking and how much does it cost?").expect("the retrieved entry");
    assert!(system.contains("underground car park, one car per room"), "with its answer");
    assert!(parking < system.find("When and where is breakfast").unwrap_or(usize::MAX), "the best match first");
    assert!(!system.contains("주차"), "only entries in the reply language");
    assert!(system.contains("English") && system.contains("escalate"), "answer language and the escalation rule");
    let user = user_of(&stub);
    assert!(user.contains("is there parking at the hotel"), "the inquiry");
    assert!(user.contains("intent=general_question") && user.contains("Partner outcome: none"), "{user}");

    assert_eq!(draft.text, "Hello! Parking is free for guests in our underground car park, one car per room.");
    assert_eq!((draft.confidence, draft.escalate.as_deref(), draft.model.as_str()), (0.93, None, MODEL));
    assert_eq!((draft.prompt_tokens, draft.completion_tokens), (812, 64), "the usage Bedrock reported");
}

#[tokio::test]
async fn an_inquiry_the_faq_does_not_cover_is_escalated_not_answered() {
    let reply = r#"{"answer":"","confidence":0.05,"escalate":true,"reason":"The FAQ says nothing about the swimming pool."}"#;
    let stub = Stub::start(move |_, _| Reply::converse(reply)).await;
    let draft = drafter(&stub, Duration::from_secs(20))
        .await
        .draft(&draft_request("Is the swimming pool heated in winter?", Language::En))
        .await
        .unwrap();
    assert_eq!(draft.escalate.as_deref(), Some("The FAQ says nothing about the swimming pool."));
    assert_eq!(draft.confidence, 0.05);
}

#[tokio::test]
async fn a_korean_inquiry_is_answered_in_korean_and_a_reply_in_another_language_is_refused() {
    let korean = r#"{"answer":"안녕하세요. 조식은 매일 오전 7시부터 10시까지 1층 한식당에서 제공됩니다.","confidence":0.9,"escalate":false,"reason":null}"#;
    let stub = Stub::start(move |_, _| Reply::converse(korean)).await;
    let request = draft_request("조식은 몇 시부터 먹을 수 있나요?", Language::Ko);
    let draft = drafter(&stub, Duration::from_secs(20)).await.draft(&request).await.unwrap();
    assert!(draft.text.contains("오전 7시부터"));
    let system = system_of(&stub);
    assert!(system.contains("Korean") && system.contains("조식은 몇 시에 어디서 제공되나요?"), "{system}");

    let english = Stub::start(|_, _| Reply::converse(PARKING_ANSWER)).await;
    let error = drafter(&english, Duration::from_secs(20)).await.draft(&request).await.unwrap_err();
    assert!(matches!(error, AiError::InvalidOutput(_)), "{error}");
}

#[tokio::test]
async fn a_throttled_converse_is_retried_once_then_answers() {
    let stub =
        Stub::start(|_, nth| if nth == 0 { Reply::rest_error(429, "ThrottlingException") } else { Reply::converse(PARKING_ANSWER) }).await;
    let draft = drafter(&stub, Duration::from_secs(20)).await.draft(&draft_request("Is there parking?", Language::En)).await;
    assert!(draft.is_ok(), "{draft:?}");
    assert_eq!(stub.calls("Converse").len(), 2);
}

#[tokio::test]
async fn throttled_twice_is_an_error_after_exactly_one_retry() {
    let stub = Stub::start(|_, _| Reply::rest_error(429, "ThrottlingException")).await;
    let draft = drafter(&stub, Duration::from_secs(20)).await.draft(&draft_request("Is there parking?", Language::En)).await;
    assert!(matches!(draft, Err(AiError::Throttled)), "{draft:?}");
    assert_eq!(stub.calls("Converse").len(), 2);
}

#[tokio::test]
async fn a_server_error_is_an_error_not_an_invented_answer() {
    for failure in
        [Reply::rest_error(500, "InternalServerException"), Reply::rest_error(503, "ServiceUnavailableException"), Reply::garbage()]
    {
        let stub = Stub::start(move |_, _| failure.clone()).await;
        let draft = drafter(&stub, Duration::from_secs(20)).await.draft(&draft_request("Is there parking?", Language::En)).await;
        assert!(matches!(draft, Err(AiError::Unavailable(_) | AiError::InvalidOutput(_))), "{draft:?}");
        assert_eq!(stub.calls("Converse").len(), 1, "only throttling is retried");
    }
}

#[tokio::test]
async fn a_model_slower_than_the_budget_is_a_timeout() {
    let stub = Stub::start(|_, _| Reply::converse(PARKING_ANSWER).after(SLOW)).await;
    let draft = drafter(&stub, SHORT).await.draft(&draft_request("Is there parking?", Language::En)).await;
    assert!(matches!(draft, Err(AiError::Timeout(_))), "{draft:?}");
}

#[tokio::test]
async fn a_reply_that_is_not_the_json_asked_for_is_an_error_logged_without_content() {
    let logs = Logs::capture();
    let stub = Stub::start(|_, _| Reply::converse("Sure! Parking is free at 010-1234-5678.")).await;
    let draft = drafter(&stub, Duration::from_secs(20)).await.draft(&draft_request("Is there parking?", Language::En)).await;
    let error = draft.unwrap_err();
    assert!(matches!(error, AiError::InvalidOutput(_)));
    assert!(!error.to_string().contains("010") && !error.to_string().contains("Parking is free"), "{error}");
    assert!(!logs.text().contains("010-1234"), "{}", logs.text());
}

#[tokio::test]
async fn a_tenant_with_nothing_to_ground_an_answer_is_escalated_without_a_call() {
    let stub = Stub::start(|_, _| Reply::converse(PARKING_ANSWER)).await;
    let mut request = draft_request("Is there parking?", Language::En);
    request.tenant.faq.clear();
    request.tenant.domain_context.clear();
    let draft = drafter(&stub, Duration::from_secs(20)).await.draft(&request).await.unwrap();
    assert_eq!(draft.escalate.as_deref(), Some(NO_FAQ_MATCH));
    assert!(stub.requests().is_empty());
}

#[tokio::test]
async fn a_partner_outcome_notification_is_written_from_the_seed_prompt_in_the_customer_s_language() {
    let cases = [
        (PartnerOutcome::Accepted, "파트너 응답: accept", "대안 시간: 없음"),
        (PartnerOutcome::Rejected { reason: Some("만실".into()) }, "파트너 응답: reject (만실)", "대안 시간: 없음"),
        (
            PartnerOutcome::Alternative { proposed_time: "2026-12-05 14:00".into() },
            "파트너 응답: alternative",
            "대안 시간: 2026-12-05 14:00",
        ),
        (PartnerOutcome::TimedOut, "파트너 응답: timeout", "대안 시간: 없음"),
    ];
    for (outcome, response, alternative) in cases {
        let reply = r#"{"answer":"안녕하세요. 요청하신 예약 변경에 대해 안내드립니다.","confidence":1.0,"escalate":false,"reason":null}"#;
        let stub = Stub::start(move |_, _| Reply::converse(reply)).await;
        let mut request = draft_request("예약 날짜를 12월 5일로 변경하고 싶어요. 예약번호 HT-20481123", Language::Ko);
        request.partner_outcome = Some(outcome);
        let draft = drafter(&stub, Duration::from_secs(20)).await.draft(&request).await.unwrap();

        let user = user_of(&stub);
        assert!(user.starts_with("당신은 고객 서비스 담당자입니다."), "the Korean notification prompt: {user}");
        for line in ["고객 문의: 예약 날짜를 12월 5일로", "문의 유형: reservation_change", "예약번호: HT-20481123", response, alternative]
        {
            assert!(user.contains(line), "{line} in {user}");
        }
        assert!(draft.text.starts_with("안녕하세요"));
        assert_eq!((draft.escalate, draft.model.as_str()), (None, MODEL));
    }

    let stub = Stub::start(|_, _| {
        Reply::converse(r#"{"answer":"Good news: your change is confirmed.","confidence":1.0,"escalate":false,"reason":null}"#)
    })
    .await;
    let mut request = draft_request("Please move my booking HT-20481123 to Friday.", Language::En);
    request.inquiry.reservation_number = ReservationNumber::parse("HT-20481123").ok();
    request.partner_outcome = Some(PartnerOutcome::Accepted);
    drafter(&stub, Duration::from_secs(20)).await.draft(&request).await.unwrap();
    let user = user_of(&stub);
    assert!(
        user.contains("in English") && user.contains("Partner response: accept") && user.contains("Reservation number: HT-20481123"),
        "{user}"
    );
}

#[tokio::test]
async fn a_failed_notification_is_an_error_so_the_responder_falls_back() {
    let stub = Stub::start(|_, _| Reply::rest_error(500, "InternalServerException")).await;
    let mut request = draft_request("Please move my booking HT-20481123 to Friday.", Language::En);
    request.partner_outcome = Some(PartnerOutcome::Accepted);
    assert!(drafter(&stub, Duration::from_secs(20)).await.draft(&request).await.is_err());
}

#[tokio::test]
async fn the_engines_built_from_settings_answer_with_the_configured_answer_model() {
    let stub = Stub::start(|_, _| Reply::converse(PARKING_ANSWER)).await;
    let mut settings = crate::stub::settings();
    settings.answer_model_id = "anthropic.claude-3-5-sonnet-20240620-v1:0".into();
    let engines = switchboard_ai::aws::engines(&stub.clients().await, &settings);
    let draft = engines.drafter.draft(&draft_request("Is there parking?", Language::En)).await.unwrap();
    assert_eq!(draft.model, "anthropic.claude-3-5-sonnet-20240620-v1:0");
    assert_eq!(stub.calls("Converse")[0].model_id(), Some("anthropic.claude-3-5-sonnet-20240620-v1:0"));
}
