//! The dispatcher's handler and the partner's answer, called directly on
//! the embedded backends with a manual clock.

use super::*;
use jiff::SignedDuration;
use switchboard_channels::{Delivery, SmsMessage};
use switchboard_domain::fixtures::InquiryBuilder;
use switchboard_domain::{
    Classification, Intent, Language, PartnerAnswer, PhoneNumber, PiiSpan, Reservation, ReservationNumber, Sentiment, Service, TenantId,
    TextField, Urgency,
};
use switchboard_messaging::OutgoingMessage;
use switchboard_pipeline::testing::{RecordingQueue, START, TENANT, TestPipeline, delivery};
use switchboard_store::InquiryStore;

const CUSTOMER: &str = "+821012345678";
const PARTNER: &str = "+821055550000";
const RESERVATION: &str = "HT-20481123";
/// How long the fixture's customers have to answer a question: a day.
const REPLY_WAIT: Duration = Duration::from_secs(24 * 60 * 60);

/// An SMS channel that always fails with the given error.
struct FailingSms(fn() -> ChannelError);

#[async_trait]
impl SmsSender for FailingSms {
    async fn send_sms(&self, _message: &SmsMessage) -> Result<Delivery, ChannelError> {
        Err((self.0)())
    }
}

/// An SMS channel that fails while `down` is set, then sends through `inner`.
struct SwitchableSms {
    inner: Arc<dyn SmsSender>,
    down: std::sync::atomic::AtomicBool,
}

#[async_trait]
impl SmsSender for SwitchableSms {
    async fn send_sms(&self, message: &SmsMessage) -> Result<Delivery, ChannelError> {
        if self.down.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(ChannelError::Unavailable("timeout".into()));
        }
        self.inner.send_sms(message).await
    }
}

struct Fixture {
    pipeline: TestPipeline,
    own_queue: Arc<RecordingQueue>,
    dispatcher: PartnerDispatcher,
}

async fn fixture(deadline: Duration) -> Fixture {
    fixture_with_sms(deadline, None).await
}

async fn fixture_with_sms(deadline: Duration, sms: Option<Arc<dyn SmsSender>>) -> Fixture {
    fixture_on(deadline, |_| sms).await
}

/// A fixture whose SMS channel `sms` makes from the pipeline (`None`: its outbox).
async fn fixture_on(deadline: Duration, sms: impl FnOnce(&TestPipeline) -> Option<Arc<dyn SmsSender>>) -> Fixture {
    let pipeline = TestPipeline::new().await;
    let sms = sms(&pipeline);
    pipeline.store.put_reservation(&reservation()).await.unwrap();
    let own_queue = RecordingQueue::new(pipeline.queue(Service::PartnerDispatcher));
    let dispatcher = PartnerDispatcher::new(
        pipeline.stage(Service::PartnerDispatcher),
        pipeline.store.clone(),
        pipeline.store.clone(),
        sms.unwrap_or_else(|| pipeline.outbox.clone()),
        own_queue.clone(),
        TokenKeys::new(vec![vec![7; 32]]).unwrap(),
        DispatcherConfig {
            deadline,
            token_validity: Duration::from_secs(600),
            public_base_url: "http://partner.test/".into(),
            customer_reply: REPLY_WAIT,
        },
    );
    Fixture { pipeline, own_queue, dispatcher }
}

fn reservation() -> Reservation {
    Reservation {
        reservation_number: ReservationNumber::parse(RESERVATION).unwrap(),
        tenant_id: TenantId::parse(TENANT).unwrap(),
        customer_name: "Kim".into(),
        customer_phone: PhoneNumber::parse(CUSTOMER).unwrap(),
        partner_id: "partner-1".into(),
        partner_name: "Jeonju Tours".into(),
        partner_phone: PhoneNumber::parse(PARTNER).unwrap(),
        partner_locale: Language::En,
        service_type: "tour".into(),
        reservation_date: "2026-01-10".into(),
    }
}

/// A classified change request for the reservation, from its customer,
/// classified at [`START`].
fn change_request() -> Inquiry {
    let number = ReservationNumber::parse(RESERVATION).unwrap();
    let classification = Classification {
        language: Language::En,
        intent: Intent::ReservationChange,
        urgency: Urgency::Medium,
        sentiment: Sentiment::Neutral,
        reservation_number: Some(number.clone()),
        key_phrases: vec![],
        pii: vec![],
        engine: "test".into(),
        certainty: None,
        unsure: None,
    };
    let mut inquiry = InquiryBuilder::new()
        .created_at(START, 3)
        .content("Can we move the tour to 3 pm?")
        .reservation(number)
        .status(InquiryStatus::Classified)
        .classification(classification)
        .build();
    inquiry.customer.phone = Some(PhoneNumber::parse(CUSTOMER).unwrap());
    inquiry
}

impl Fixture {
    /// Stores `inquiry` and hands the dispatcher its `inquiry.classified`.
    async fn dispatch(&self, inquiry: &Inquiry) -> Result<(), Outcome> {
        self.pipeline.store_inquiry(inquiry).await;
        self.redeliver(inquiry).await
    }

    async fn redeliver(&self, inquiry: &Inquiry) -> Result<(), Outcome> {
        let stage = self.pipeline.stage(Service::Classifier);
        let classified = stage.event(EventType::InquiryClassified, inquiry, "1", json!({})).with_needs_partner(true);
        self.dispatcher.try_handle(&delivery(&classified, 1)).await
    }

    /// Hands the dispatcher the `n`-th message it sent to its own queue.
    async fn deliver_sent(&self, n: usize) -> Result<(), Outcome> {
        let sent = &self.own_queue.sent()[n];
        let event: CloudEvent = serde_json::from_str(&sent.body).unwrap();
        self.dispatcher.try_handle(&delivery(&event, 1)).await
    }

    fn at(&self, minutes: i64) {
        self.pipeline.clock.set(START + SignedDuration::from_mins(minutes));
    }

    /// The token in the link texted to the partner.
    async fn texted_token(&self, inquiry: &Inquiry) -> String {
        let texts = self.pipeline.outbox(inquiry.id).await;
        assert_eq!(texts.len(), 1, "one text to the partner: {texts:?}");
        assert_eq!(texts[0].to, PARTNER);
        texts[0].body.split("/r/").nth(1).unwrap().to_owned()
    }

    async fn token(&self, inquiry: &Inquiry) -> TokenRecord {
        let token = self.texted_token(inquiry).await;
        self.pipeline.store.get_token(&token_hash(&token)).await.unwrap().unwrap()
    }
}

fn delays(sent: &[OutgoingMessage]) -> Vec<u64> {
    sent.iter().map(|m| m.delay.as_secs() / 60).collect()
}

#[tokio::test]
async fn a_deadline_further_away_than_one_queue_delay_is_re_delayed_in_15_minute_hops() {
    let f = fixture(Duration::from_secs(40 * 60)).await;
    let inquiry = change_request();
    f.dispatch(&inquiry).await.unwrap();
    assert_eq!(f.pipeline.inquiry(inquiry.id).await.status, InquiryStatus::AwaitingPartner);
    assert_eq!(delays(&f.own_queue.sent()), [15], "the first hop is the longest delay a queue allows");

    f.at(15);
    f.deliver_sent(0).await.unwrap();
    f.at(30);
    f.deliver_sent(1).await.unwrap();
    assert_eq!(delays(&f.own_queue.sent()), [15, 15, 10], "each early delivery hops on; the last one lands on the deadline");
    assert!(!f.token(&inquiry).await.used, "the deadline has not passed yet");
    assert_eq!(f.pipeline.inquiry(inquiry.id).await.partner.unwrap().outcome, None);

    f.at(40);
    f.deliver_sent(2).await.unwrap();
    assert_eq!(f.own_queue.sent().len(), 3, "at the deadline the message does not hop again");
    let token = f.token(&inquiry).await;
    assert_eq!((token.used, token.outcome), (true, Some(PartnerOutcome::TimedOut)));
    assert_eq!(f.pipeline.inquiry(inquiry.id).await.partner.unwrap().outcome, Some(PartnerOutcome::TimedOut));
    let told: Vec<String> = f.pipeline.take(Service::Responder).await.into_iter().map(|e| e.event_type).collect();
    assert_eq!(told, ["partner.timed_out"]);
}

#[tokio::test]
async fn a_deadline_within_one_queue_delay_is_scheduled_for_the_deadline_itself() {
    let f = fixture(Duration::from_secs(5 * 60)).await;
    let inquiry = change_request();
    f.dispatch(&inquiry).await.unwrap();
    assert_eq!(delays(&f.own_queue.sent()), [5]);
    let deadline: CloudEvent = serde_json::from_str(&f.own_queue.sent()[0].body).unwrap();
    assert_eq!(deadline.data["deadline_at"], json!(START + SignedDuration::from_mins(5)));

    f.at(5);
    f.deliver_sent(0).await.unwrap();
    assert_eq!(f.token(&inquiry).await.outcome, Some(PartnerOutcome::TimedOut));
}

#[tokio::test]
async fn the_partner_is_texted_a_link_that_shows_the_request_until_the_deadline() {
    let f = fixture(Duration::from_secs(5 * 60)).await;
    let inquiry = change_request();
    f.dispatch(&inquiry).await.unwrap();
    let token = f.texted_token(&inquiry).await;

    f.at(4);
    let view = f.dispatcher.open(&token).await.unwrap();
    assert_eq!((view.status.as_str(), view.question.as_str()), ("pending", "Can we move the tour to 3 pm?"));
    assert!(f.pipeline.timeline(inquiry.id).await.contains(&"partner.opened".to_owned()));

    f.at(5);
    assert!(matches!(f.dispatcher.open(&token).await, Err(ConfirmError::Expired)));
}

#[tokio::test]
async fn the_partner_sees_the_request_without_the_personal_data_the_customer_typed() {
    let f = fixture(Duration::from_secs(5 * 60)).await;
    let mut inquiry = change_request();
    inquiry.title = Some("Tour HT-20481123, call 010-9876-5432".into());
    inquiry.content = "Can we move the tour to 2026-12-25 3 pm? Call Minji at +1 213 555 0149 or kim.minji@example.co.kr".into();
    // A name Comprehend found, recorded with the classification.
    let name = inquiry.content.find("Minji").unwrap();
    if let Some(classification) = inquiry.classification.as_mut() {
        classification.pii = vec![PiiSpan { field: TextField::Content, kind: "NAME".into(), start: name, end: name + "Minji".len() }];
    }
    f.dispatch(&inquiry).await.unwrap();

    let view = f.dispatcher.open(&f.texted_token(&inquiry).await).await.unwrap();
    assert_eq!(view.title.as_deref(), Some("Tour HT-20481123, call [PHONE]"));
    assert_eq!(view.question, "Can we move the tour to 2026-12-25 3 pm? Call [NAME] at [PHONE] or [EMAIL]");
}

#[tokio::test]
async fn an_answer_before_the_deadline_wins_and_the_deadline_announces_it_again() {
    let f = fixture(Duration::from_secs(5 * 60)).await;
    let inquiry = change_request();
    f.dispatch(&inquiry).await.unwrap();
    let token = f.texted_token(&inquiry).await;

    f.at(2);
    let view = f.dispatcher.respond(&token, PartnerAnswer::Accept).await.unwrap();
    assert_eq!(view.status, "accepted");
    f.at(5);
    f.deliver_sent(0).await.unwrap();

    let stored = f.pipeline.inquiry(inquiry.id).await.partner.unwrap();
    assert_eq!(stored.outcome, Some(PartnerOutcome::Accepted));
    assert_eq!(stored.responded_at, Some(START + SignedDuration::from_mins(2)));
    let told = f.pipeline.take(Service::Responder).await;
    assert_eq!(told.iter().map(|e| e.event_type.as_str()).collect::<Vec<_>>(), ["partner.responded", "partner.responded"]);
    assert_eq!(told[0].id, told[1].id, "the republished answer is the same event");
    assert!(matches!(f.dispatcher.respond(&token, PartnerAnswer::Accept).await, Err(ConfirmError::AlreadyAnswered { .. })));
}

/// `(author, text)` of the conversation's stored messages.
async fn conversation(f: &Fixture, inquiry: &Inquiry) -> Vec<(Author, String)> {
    f.pipeline.store.messages(inquiry.id, 0, 100).await.unwrap().into_iter().map(|m| (m.author, m.text)).collect()
}

#[tokio::test]
async fn the_partners_answer_joins_the_conversation_as_one_system_notice_even_when_announced_again() {
    let f = fixture(Duration::from_secs(5 * 60)).await;
    let inquiry = change_request();
    f.dispatch(&inquiry).await.unwrap();
    let token = f.texted_token(&inquiry).await;
    f.at(2);
    f.dispatcher.respond(&token, PartnerAnswer::Alternative { proposed_time: "2026-01-11 15:00".into() }).await.unwrap();
    // The deadline republishes the answer: the notice is not added twice.
    f.at(5);
    f.deliver_sent(0).await.unwrap();
    f.deliver_sent(0).await.unwrap();
    assert_eq!(conversation(&f, &inquiry).await, [(Author::System, "The partner proposed another time: 2026-01-11 15:00".to_owned())]);
}

#[tokio::test]
async fn a_partner_timing_out_joins_the_conversation_as_one_system_notice() {
    let f = fixture(Duration::from_secs(5 * 60)).await;
    let inquiry = change_request();
    f.dispatch(&inquiry).await.unwrap();
    f.at(5);
    f.deliver_sent(0).await.unwrap();
    f.deliver_sent(0).await.unwrap();
    assert_eq!(
        conversation(&f, &inquiry).await,
        [(Author::System, PartnerOutcome::TimedOut.notice(Language::En))],
        "one notice, however often the deadline is delivered"
    );
}

#[tokio::test]
async fn another_tenants_booking_with_the_same_number_neither_hides_nor_replaces_the_inquirys_own() {
    let f = fixture(Duration::from_secs(5 * 60)).await;
    // Imported after this tenant's: with reservations keyed by number
    // alone it replaced this tenant's booking.
    let elsewhere = Reservation {
        tenant_id: TenantId::parse("other").unwrap(),
        partner_phone: PhoneNumber::parse("+821066660000").unwrap(),
        partner_locale: Language::Ko,
        reservation_date: "2026-03-03".into(),
        ..reservation()
    };
    f.pipeline.store.put_reservation(&elsewhere).await.unwrap();
    let inquiry = change_request();
    f.dispatch(&inquiry).await.unwrap();
    assert_eq!(f.pipeline.inquiry(inquiry.id).await.status, InquiryStatus::AwaitingPartner, "the tenant's own partner is asked");

    let view = f.dispatcher.open(&f.texted_token(&inquiry).await).await.unwrap();
    assert_eq!(view.reservation_date.as_deref(), Some("2026-01-10"), "the partner sees the tenant's own booking");
    assert_eq!(view.language, Language::En, "in the tenant's partner's language");
}

#[tokio::test]
async fn a_redelivered_request_texts_the_partner_once() {
    let f = fixture(Duration::from_secs(5 * 60)).await;
    let inquiry = change_request();
    f.dispatch(&inquiry).await.unwrap();
    f.redeliver(&inquiry).await.unwrap();
    f.texted_token(&inquiry).await;
    assert_eq!(f.pipeline.inquiry(inquiry.id).await.status, InquiryStatus::AwaitingPartner);
}

/// A change request naming a booking this tenant does not have.
fn unknown_booking() -> Inquiry {
    Inquiry { reservation_number: Some(ReservationNumber::parse("HT-99999999").unwrap()), ..change_request() }
}

/// The `n`-th message sent to the dispatcher's own queue, as an event.
fn sent_event(f: &Fixture, n: usize) -> CloudEvent {
    serde_json::from_str(&f.own_queue.sent()[n].body).unwrap()
}

#[tokio::test]
async fn an_unknown_reservation_is_answered_with_a_question_back_and_a_reply_deadline() {
    let f = fixture(Duration::from_secs(5 * 60)).await;
    let inquiry = unknown_booking();
    f.dispatch(&inquiry).await.unwrap();

    let asking = f.pipeline.inquiry(inquiry.id).await;
    assert_eq!(asking.status, InquiryStatus::AwaitingCustomer);
    assert_eq!(asking.escalation, None, "no person yet");
    let question = asking.customer_question.clone().unwrap();
    assert_eq!(question.unverified, Unverified::NotFound);
    assert_eq!(question.deadline_at, START + SignedDuration::from_hours(24));
    assert!(question.message.starts_with("We could not find booking HT-99999999 under your details. Please check the reservation number"));
    assert_eq!(conversation(&f, &inquiry).await, [(Author::System, question.message.clone())]);
    let told: Vec<String> = f.pipeline.take(Service::Notifier).await.into_iter().map(|e| e.event_type).collect();
    assert_eq!(told, ["inquiry.awaiting_customer"], "the notifier sends the customer the question");
    assert!(f.pipeline.outbox(inquiry.id).await.is_empty(), "no partner is texted");
    assert_eq!(delays(&f.own_queue.sent()), [15], "the reply deadline hops like the partner's");
    assert_eq!(sent_event(&f, 0).event_type, "inquiry.reply_deadline");
}

#[tokio::test]
async fn a_reservation_that_is_not_the_customers_is_asked_about_in_the_words_of_one_not_found() {
    let f = fixture(Duration::from_secs(5 * 60)).await;
    let mut inquiry = change_request();
    inquiry.customer.phone = Some(PhoneNumber::parse("+821011112222").unwrap());
    f.dispatch(&inquiry).await.unwrap();

    let asking = f.pipeline.inquiry(inquiry.id).await;
    assert_eq!(asking.status, InquiryStatus::AwaitingCustomer);
    let question = asking.customer_question.unwrap();
    assert_eq!(question.unverified, Unverified::PhoneMismatch);
    assert!(!question.message.contains(CUSTOMER));
    assert_eq!(
        question.message,
        Unverified::NotFound.question(Language::En, inquiry.reservation_number.as_ref()),
        "the customer cannot tell a booking of someone else's from none"
    );
    assert!(f.pipeline.outbox(inquiry.id).await.is_empty());
}

#[tokio::test]
async fn a_customer_without_a_phone_is_not_asked_and_goes_to_a_person_at_once() {
    let f = fixture(Duration::from_secs(5 * 60)).await;
    let mut inquiry = change_request();
    inquiry.customer.phone = None;
    inquiry.customer.email = Some(switchboard_domain::EmailAddress::parse("kim@example.com").unwrap());
    f.dispatch(&inquiry).await.unwrap();
    let escalated = f.pipeline.inquiry(inquiry.id).await;
    assert_eq!(escalated.status, InquiryStatus::Escalated);
    assert_eq!(escalated.escalation.unwrap().reason, "the customer gave no phone to match the reservation");
    assert_eq!(escalated.customer_question, None);
    assert!(f.own_queue.sent().is_empty(), "no wait without a question");
}

#[tokio::test]
async fn no_reply_by_the_deadline_escalates_with_the_reason_and_a_redelivered_deadline_changes_nothing() {
    let f = fixture(Duration::from_secs(5 * 60)).await;
    let inquiry = unknown_booking();
    f.dispatch(&inquiry).await.unwrap();
    f.pipeline.take(Service::Notifier).await;
    // Early deliveries hop on without touching the inquiry.
    f.at(15);
    f.deliver_sent(0).await.unwrap();
    assert_eq!(f.pipeline.inquiry(inquiry.id).await.status, InquiryStatus::AwaitingCustomer);
    assert_eq!(delays(&f.own_queue.sent()), [15, 15]);

    f.at(24 * 60);
    f.deliver_sent(1).await.unwrap();
    let escalated = f.pipeline.inquiry(inquiry.id).await;
    assert_eq!(escalated.status, InquiryStatus::Escalated);
    let escalation = escalated.escalation.clone().unwrap();
    assert_eq!(escalation.reason, "reservation not found");
    assert_eq!(
        escalation.customer_message,
        "We could not find booking HT-99999999 under your details; a member of our team will check it and get back to you."
    );
    assert_eq!(escalated.status_reason, None, "not a fault");
    assert!(f.pipeline.timeline(inquiry.id).await.contains(&"status.escalated".to_owned()));

    f.deliver_sent(1).await.unwrap();
    let again = f.pipeline.inquiry(inquiry.id).await;
    assert_eq!(again.version, escalated.version, "nothing is written twice");
    let told = f.pipeline.take(Service::Notifier).await;
    assert_eq!(told.iter().map(|e| e.event_type.as_str()).collect::<Vec<_>>(), ["inquiry.escalated", "inquiry.escalated"]);
    assert_eq!(told[0].id, told[1].id, "announced again with the same event, which the notifier dedupes");
    let notices: Vec<_> = conversation(&f, &inquiry).await.into_iter().map(|(_, text)| text).collect();
    assert_eq!(notices, [escalated.customer_question.unwrap().message, escalation.customer_message], "the question, then the notice");
    assert_eq!(f.own_queue.sent().len(), 2, "the deadline does not hop once due");
}

#[tokio::test]
async fn a_redelivered_unverifiable_request_asks_once_and_announces_the_question_again_with_the_same_event() {
    let f = fixture(Duration::from_secs(5 * 60)).await;
    let inquiry = unknown_booking();
    f.dispatch(&inquiry).await.unwrap();
    let first = f.pipeline.inquiry(inquiry.id).await;
    f.at(3);
    f.redeliver(&inquiry).await.unwrap();

    let again = f.pipeline.inquiry(inquiry.id).await;
    assert_eq!(again.version, first.version, "nothing is written twice");
    let told = f.pipeline.take(Service::Notifier).await;
    assert_eq!(told.len(), 2, "announced again in case the first announcement was lost");
    assert_eq!(told[0].id, told[1].id, "the same event, which the notifier dedupes");
    assert_eq!(conversation(&f, &inquiry).await.len(), 1, "one question in the conversation");
    assert_eq!(sent_event(&f, 0).id, sent_event(&f, 1).id, "the same deadline");
}

#[tokio::test]
async fn a_reply_that_still_does_not_verify_escalates_at_once() {
    let f = fixture(Duration::from_secs(5 * 60)).await;
    let inquiry = unknown_booking();
    f.dispatch(&inquiry).await.unwrap();
    // The classifier took up the reply: another unknown number, back to `classified`.
    let mut replied = f.pipeline.inquiry(inquiry.id).await;
    replied.status = InquiryStatus::Classified;
    replied.reservation_number = Some(ReservationNumber::parse("HT-88888888").unwrap());
    if let Some(q) = replied.customer_question.as_mut() {
        q.reply = Some(3);
    }
    f.pipeline.store.update_inquiry(&replied, replied.version, None, &[]).await.unwrap();
    f.pipeline.take(Service::Notifier).await;
    f.redeliver(&replied).await.unwrap();

    let escalated = f.pipeline.inquiry(inquiry.id).await;
    assert_eq!(escalated.status, InquiryStatus::Escalated, "asked once");
    assert_eq!(escalated.escalation.unwrap().reason, "reservation not found");
    let told: Vec<String> = f.pipeline.take(Service::Notifier).await.into_iter().map(|e| e.event_type).collect();
    assert_eq!(told, ["inquiry.escalated"]);
    assert!(f.pipeline.outbox(inquiry.id).await.is_empty(), "no partner is texted");
}

#[tokio::test]
async fn a_reply_with_the_right_number_asks_the_partner() {
    let f = fixture(Duration::from_secs(5 * 60)).await;
    let inquiry = unknown_booking();
    f.dispatch(&inquiry).await.unwrap();
    let mut replied = f.pipeline.inquiry(inquiry.id).await;
    replied.status = InquiryStatus::Classified;
    replied.reservation_number = Some(ReservationNumber::parse(RESERVATION).unwrap());
    f.pipeline.store.update_inquiry(&replied, replied.version, None, &[]).await.unwrap();
    f.redeliver(&replied).await.unwrap();

    assert_eq!(f.pipeline.inquiry(inquiry.id).await.status, InquiryStatus::AwaitingPartner);
    f.texted_token(&inquiry).await;
    // The question's deadline, delivered later, leaves the partner flow alone.
    f.at(24 * 60);
    f.deliver_sent(0).await.unwrap();
    assert_eq!(f.pipeline.inquiry(inquiry.id).await.status, InquiryStatus::AwaitingPartner);
}

#[tokio::test]
async fn an_escalation_never_overrides_a_partner_request_already_made() {
    let f = fixture(Duration::from_secs(5 * 60)).await;
    let inquiry = change_request();
    f.dispatch(&inquiry).await.unwrap();
    // The request is delivered again once its reservation can no longer be found.
    let mut stored = f.pipeline.inquiry(inquiry.id).await;
    stored.reservation_number = Some(ReservationNumber::parse("HT-99999999").unwrap());
    f.pipeline.store.update_inquiry(&stored, stored.version, None, &[]).await.unwrap();
    f.redeliver(&stored).await.unwrap();

    assert_eq!(f.pipeline.inquiry(inquiry.id).await.status, InquiryStatus::AwaitingPartner);
    assert!(f.pipeline.take(Service::Notifier).await.is_empty());
}

#[test]
fn a_reservation_is_verified_by_number_tenant_and_the_customers_phone() {
    let inquiry = change_request();
    assert_eq!(verify(&inquiry, Some(reservation())), Ok(reservation()));
    let no_number = Inquiry { reservation_number: None, ..change_request() };
    assert_eq!(verify(&no_number, Some(reservation())), Err(Unverified::NoNumber));
    assert_eq!(verify(&inquiry, None), Err(Unverified::NotFound));
    let elsewhere = Reservation { tenant_id: TenantId::parse("other").unwrap(), ..reservation() };
    assert_eq!(verify(&inquiry, Some(elsewhere)), Err(Unverified::NotFound));
    let no_phone =
        Inquiry { customer: switchboard_domain::CustomerContact { phone: None, ..inquiry.customer.clone() }, ..change_request() };
    assert_eq!(verify(&no_phone, Some(reservation())), Err(Unverified::NoPhone));
}

#[test]
fn the_customer_is_told_in_their_language() {
    let number = ReservationNumber::parse("HT-20481123").unwrap();
    let ko = Unverified::NotFound.customer_message(Language::Ko, Some(&number));
    assert!(ko.contains("HT-20481123") && ko.contains("담당자"), "{ko}");
    let none = Unverified::NoNumber.customer_message(Language::En, None);
    assert!(none.contains("a member of our team will check it"), "{none}");
}

#[tokio::test]
async fn a_refused_partner_number_is_rejected_at_once_and_an_outage_retried() {
    let refused =
        fixture_with_sms(Duration::from_secs(300), Some(Arc::new(FailingSms(|| ChannelError::Rejected("opted out".into()))))).await;
    let outcome = refused.dispatch(&change_request()).await;
    assert_eq!(outcome, Err(Outcome::reject("the partner's SMS was refused: the channel refused the message: opted out")));

    let down = fixture_with_sms(Duration::from_secs(300), Some(Arc::new(FailingSms(|| ChannelError::Unavailable("timeout".into()))))).await;
    let inquiry = change_request();
    let outcome = down.dispatch(&inquiry).await;
    assert_eq!(outcome, Err(Outcome::retry("the partner's SMS could not be sent: the channel is unavailable: timeout")));
    assert_eq!(down.pipeline.inquiry(inquiry.id).await.status, InquiryStatus::Classified, "nothing moves before the text is out");
}

#[tokio::test]
async fn events_it_does_not_handle_are_rejected() {
    let f = fixture(Duration::from_secs(300)).await;
    let inquiry = change_request();
    f.pipeline.store_inquiry(&inquiry).await;
    let answered = f.pipeline.stage(Service::Responder).event(EventType::InquiryAnswered, &inquiry, "1", json!({}));
    let outcome = f.dispatcher.try_handle(&delivery(&answered, 1)).await;
    assert_eq!(outcome, Err(Outcome::reject("partner-dispatcher does not handle inquiry.answered")));
}

/// A fixture whose SMS channel is down until the test says otherwise.
async fn fixture_with_sms_down(deadline: Duration) -> (Fixture, Arc<SwitchableSms>) {
    let mut switch = None;
    let f = fixture_on(deadline, |pipeline| {
        let sms = Arc::new(SwitchableSms { inner: pipeline.outbox.clone(), down: true.into() });
        switch = Some(sms.clone());
        Some(sms as Arc<dyn SmsSender>)
    })
    .await;
    (f, switch.unwrap())
}

impl SwitchableSms {
    fn up(&self) {
        self.down.store(false, std::sync::atomic::Ordering::SeqCst);
    }
}

impl Fixture {
    /// The link issued for the inquiry, texted or not (issuing again
    /// returns the inquiry's first link).
    async fn issued(&self, inquiry: &Inquiry) -> TokenRecord {
        let probe = TokenRecord {
            token_hash: "probe".into(),
            inquiry_id: inquiry.id,
            partner_id: "probe".into(),
            expires_at: START,
            deadline_at: START,
            issued_at: None,
            used: false,
            outcome: None,
            used_at: None,
            opened_at: None,
            voided_at: None,
        };
        self.pipeline.store.put_token(&probe).await.unwrap()
    }
}

#[tokio::test]
async fn the_deadline_counts_from_the_text_not_from_classification() {
    let f = fixture(Duration::from_secs(5 * 60)).await;
    let inquiry = change_request();
    // Classified at START; the dispatcher is backed up for half an hour.
    f.at(30);
    f.dispatch(&inquiry).await.unwrap();

    let token = f.token(&inquiry).await;
    assert_eq!(token.issued_at, Some(START + SignedDuration::from_mins(30)));
    assert_eq!(token.deadline_at, START + SignedDuration::from_mins(35), "text time + the deadline");
    assert_eq!(token.expires_at, START + SignedDuration::from_mins(40), "text time + the link's validity");
    let request = f.pipeline.inquiry(inquiry.id).await.partner.unwrap();
    assert_eq!((request.requested_at, request.deadline_at), (token.issued_at.unwrap(), token.deadline_at));
    assert_eq!(delays(&f.own_queue.sent()), [5], "the deadline message waits the whole deadline");

    f.at(34);
    let view = f.dispatcher.open(&f.texted_token(&inquiry).await).await.unwrap();
    assert_eq!(view.deadline_at, START + SignedDuration::from_mins(35));
}

#[tokio::test]
async fn a_text_retried_after_a_failure_keeps_the_link_and_deadline_of_the_first_attempt() {
    let (f, sms) = fixture_with_sms_down(Duration::from_secs(5 * 60)).await;
    let inquiry = change_request();
    f.at(30);
    assert!(f.dispatch(&inquiry).await.is_err(), "the SMS is down: retried");
    sms.up();
    f.at(33);
    f.redeliver(&inquiry).await.unwrap();
    f.at(34);
    f.redeliver(&inquiry).await.unwrap();

    let token = f.token(&inquiry).await;
    assert_eq!(token.issued_at, Some(START + SignedDuration::from_mins(30)), "the clock is not restarted");
    assert_eq!(token.deadline_at, START + SignedDuration::from_mins(35));
    let request = f.pipeline.inquiry(inquiry.id).await.partner.unwrap();
    assert_eq!(request.deadline_at, START + SignedDuration::from_mins(35));
    assert_eq!(delays(&f.own_queue.sent())[0], 2, "the deadline message waits what is left");
    let text = &f.pipeline.outbox(inquiry.id).await[0].body;
    assert!(text.contains("Reply within 2 min"), "the text gives the time left: {text}");
}

#[tokio::test]
async fn a_request_whose_deadline_passed_before_the_text_could_go_is_not_texted_and_times_out() {
    let (f, sms) = fixture_with_sms_down(Duration::from_secs(5 * 60)).await;
    let inquiry = change_request();
    assert!(f.dispatch(&inquiry).await.is_err(), "the SMS is down: retried");
    sms.up();
    f.at(6);
    f.redeliver(&inquiry).await.unwrap();

    assert!(f.pipeline.outbox(inquiry.id).await.is_empty(), "an expired link is never texted");
    let stored = f.pipeline.inquiry(inquiry.id).await;
    assert_eq!(stored.status, InquiryStatus::AwaitingPartner);
    assert_eq!(stored.partner.unwrap().outcome, Some(PartnerOutcome::TimedOut));
    let told: Vec<String> = f.pipeline.take(Service::Responder).await.into_iter().map(|e| e.event_type).collect();
    assert_eq!(told, ["partner.timed_out"], "the same path as a partner who never answered");

    f.redeliver(&inquiry).await.unwrap();
    assert!(f.pipeline.outbox(inquiry.id).await.is_empty(), "nor on a redelivery");
}

#[tokio::test]
async fn a_token_used_without_an_outcome_does_not_end_the_deadline() {
    let f = fixture(Duration::from_secs(5 * 60)).await;
    let inquiry = change_request();
    f.dispatch(&inquiry).await.unwrap();
    // The link was used up without an outcome, and the write that should
    // have gone with it never landed: the inquiry still waits.
    f.at(1);
    assert!(f.pipeline.store.void_tokens(inquiry.id, START + SignedDuration::from_mins(1)).await.unwrap());

    f.at(5);
    f.deliver_sent(0).await.unwrap();
    assert_eq!(f.pipeline.inquiry(inquiry.id).await.partner.unwrap().outcome, Some(PartnerOutcome::TimedOut));
    let told: Vec<String> = f.pipeline.take(Service::Responder).await.into_iter().map(|e| e.event_type).collect();
    assert_eq!(told, ["partner.timed_out"]);
}

#[tokio::test]
async fn an_answer_used_on_the_token_but_never_recorded_is_recorded_by_the_deadline() {
    let f = fixture(Duration::from_secs(5 * 60)).await;
    let inquiry = change_request();
    f.dispatch(&inquiry).await.unwrap();
    // The partner's answer used the token, then the process died.
    let hash = f.token(&inquiry).await.token_hash;
    f.pipeline.store.consume_token(&hash, &PartnerOutcome::Accepted, START + SignedDuration::from_mins(2)).await.unwrap();

    f.at(5);
    f.deliver_sent(0).await.unwrap();
    let request = f.pipeline.inquiry(inquiry.id).await.partner.unwrap();
    assert_eq!((request.outcome, request.responded_at), (Some(PartnerOutcome::Accepted), Some(START + SignedDuration::from_mins(2))));
    let told: Vec<String> = f.pipeline.take(Service::Responder).await.into_iter().map(|e| e.event_type).collect();
    assert_eq!(told, ["partner.responded"]);
}

#[tokio::test]
async fn escalating_voids_the_link_so_a_later_answer_is_refused_and_the_deadline_ends_quietly() {
    let f = fixture(Duration::from_secs(5 * 60)).await;
    let inquiry = change_request();
    f.dispatch(&inquiry).await.unwrap();
    let token = f.texted_token(&inquiry).await;
    f.at(1);
    f.pipeline.stage(Service::Responder).advance(inquiry.id, InquiryStatus::Escalated, json!({}), |_| {}).await.unwrap().unwrap();

    let record = f.token(&inquiry).await;
    assert_eq!((record.used, record.outcome, record.voided_at), (true, None, Some(START + SignedDuration::from_mins(1))));
    f.at(2);
    let refused = f.dispatcher.respond(&token, PartnerAnswer::Accept).await;
    assert!(matches!(refused, Err(ConfirmError::Closed { status: InquiryStatus::Escalated })), "{refused:?}");
    assert!(matches!(f.dispatcher.open(&token).await, Err(ConfirmError::Closed { status: InquiryStatus::Escalated })));

    f.at(5);
    f.deliver_sent(0).await.unwrap();
    assert_eq!(f.pipeline.inquiry(inquiry.id).await.partner.unwrap().outcome, None);
    assert!(f.pipeline.take(Service::Responder).await.is_empty(), "nothing to announce");
}

#[tokio::test]
async fn a_link_issued_before_a_person_took_the_inquiry_is_voided_and_never_texted() {
    let (f, sms) = fixture_with_sms_down(Duration::from_secs(5 * 60)).await;
    let inquiry = change_request();
    assert!(f.dispatch(&inquiry).await.is_err(), "the SMS is down: retried, with the link issued");
    f.pipeline.stage(Service::Responder).advance(inquiry.id, InquiryStatus::Escalated, json!({}), |_| {}).await.unwrap().unwrap();
    sms.up();
    f.redeliver(&inquiry).await.unwrap();

    let record = f.issued(&inquiry).await;
    assert!(record.used && record.voided_at.is_some(), "{record:?}");
    assert!(f.pipeline.outbox(inquiry.id).await.is_empty(), "the escalated inquiry's partner is not texted");
}

#[tokio::test]
async fn the_partner_is_texted_a_22_character_link_id_whose_record_is_kept_under_its_hash_only() {
    let f = fixture(Duration::from_secs(5 * 60)).await;
    let inquiry = change_request();
    f.dispatch(&inquiry).await.unwrap();
    let id = f.texted_token(&inquiry).await;
    assert!(switchboard_domain::token::is_link_id(&id), "{id}");
    let text = &f.pipeline.outbox(inquiry.id).await[0].body;
    assert!(text.ends_with(&format!("http://partner.test/r/{id}")), "{text}");
    assert_eq!(switchboard_domain::sms_segments(text), 1, "an English request with a short link is one segment: {text}");
    let record = f.token(&inquiry).await;
    assert_ne!(record.token_hash, id, "the id itself is never stored");
    assert!(f.pipeline.store.get_token(&id).await.unwrap().is_none());

    // A redelivery (a retried text) sends the same link.
    f.redeliver(&inquiry).await.unwrap();
    assert_eq!(f.texted_token(&inquiry).await, id);
}

#[tokio::test]
async fn a_link_id_is_answered_once_and_then_refused_as_a_signed_link_was() {
    let f = fixture(Duration::from_secs(5 * 60)).await;
    let inquiry = change_request();
    f.dispatch(&inquiry).await.unwrap();
    let id = f.texted_token(&inquiry).await;
    assert_eq!(f.dispatcher.open(&id).await.unwrap().status, "pending");
    assert_eq!(f.dispatcher.respond(&id, PartnerAnswer::Accept).await.unwrap().status, "accepted");
    assert!(matches!(
        f.dispatcher.respond(&id, PartnerAnswer::Reject { reason: None }).await,
        Err(ConfirmError::AlreadyAnswered { outcome: Some(PartnerOutcome::Accepted) })
    ));
    assert!(matches!(f.dispatcher.open(&id).await, Err(ConfirmError::AlreadyAnswered { .. })));
    assert_eq!(f.pipeline.inquiry(inquiry.id).await.partner.unwrap().outcome, Some(PartnerOutcome::Accepted));
}

#[tokio::test]
async fn an_unknown_link_id_is_unknown_and_an_expired_one_expired() {
    let f = fixture(Duration::from_secs(5 * 60)).await;
    assert!(matches!(f.dispatcher.open("AAAAAAAAAAAAAAAAAAAAAA").await, Err(ConfirmError::Unknown)));
    assert!(matches!(f.dispatcher.respond("AAAAAAAAAAAAAAAAAAAAAA", PartnerAnswer::Accept).await, Err(ConfirmError::Unknown)));
    // Anything else that is no signed token stays merely invalid, as before.
    assert!(matches!(f.dispatcher.open("not-a-link").await, Err(ConfirmError::Invalid)));

    let inquiry = change_request();
    f.dispatch(&inquiry).await.unwrap();
    let id = f.texted_token(&inquiry).await;
    // Past the link's validity (10 minutes), not only past the deadline.
    f.at(10);
    assert!(matches!(f.dispatcher.open(&id).await, Err(ConfirmError::Expired)));
}

#[tokio::test]
async fn a_signed_link_issued_before_link_ids_is_texted_again_as_it_was_and_answered_once() {
    let f = fixture(Duration::from_secs(5 * 60)).await;
    let inquiry = change_request();
    f.pipeline.store_inquiry(&inquiry).await;
    // The record an older dispatcher issued: kept under the signed token's hash.
    let mut legacy = TokenRecord {
        token_hash: String::new(),
        inquiry_id: inquiry.id,
        partner_id: "partner-1".into(),
        expires_at: START + SignedDuration::from_mins(10),
        deadline_at: START + SignedDuration::from_mins(5),
        issued_at: Some(START),
        used: false,
        outcome: None,
        used_at: None,
        opened_at: None,
        voided_at: None,
    };
    let token = TokenKeys::new(vec![vec![7; 32]]).unwrap().sign(&claims(&legacy));
    legacy.token_hash = token_hash(&token);
    f.pipeline.store.put_token(&legacy).await.unwrap();

    f.redeliver(&inquiry).await.unwrap();
    assert_eq!(f.texted_token(&inquiry).await, token, "the link already issued, not a new one");
    assert_eq!(f.dispatcher.open(&token).await.unwrap().status, "pending");
    f.dispatcher.respond(&token, PartnerAnswer::Accept).await.unwrap();
    assert!(matches!(f.dispatcher.respond(&token, PartnerAnswer::Accept).await, Err(ConfirmError::AlreadyAnswered { .. })));
}

#[tokio::test]
async fn a_link_id_whose_key_was_dropped_no_longer_opens() {
    let f = fixture(Duration::from_secs(5 * 60)).await;
    let inquiry = change_request();
    f.dispatch(&inquiry).await.unwrap();
    let id = f.texted_token(&inquiry).await;
    let rotated = PartnerDispatcher { keys: TokenKeys::new(vec![vec![8; 32], vec![7; 32]]).unwrap(), ..f.dispatcher.clone() };
    assert_eq!(rotated.open(&id).await.unwrap().status, "pending", "while its key is still listed");
    let dropped = PartnerDispatcher { keys: TokenKeys::new(vec![vec![8; 32]]).unwrap(), ..f.dispatcher.clone() };
    assert!(matches!(dropped.open(&id).await, Err(ConfirmError::Invalid)), "the key is gone: the link is void");
}
