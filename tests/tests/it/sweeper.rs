//! The sweeper hands an inquiry that stopped moving back to the stage that
//! moves it on, once it has waited longer than its stage allows, and not
//! again before another allowance: on the embedded backends with a manual
//! clock, the inquiries stored as a lost message would leave them.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a failed unwrap is a failed test, reported with its message")]

use jiff::SignedDuration;
use std::time::Duration;
use switchboard_domain::fixtures::{self, InquiryBuilder};
use switchboard_domain::{EventType, Inquiry, InquiryStatus, Intent, Language, PartnerRequest, Service};
use switchboard_pipeline::testing::{START, TestPipeline};
use switchboard_pipeline::{Sweeper, SweeperParts, received_event};
use switchboard_store::InquiryStore;

/// How long an inquiry may wait on its stage in these tests.
const STUCK_AFTER: Duration = Duration::from_secs(300);

fn sweeper(p: &TestPipeline) -> Sweeper {
    Sweeper::new(SweeperParts {
        inquiries: p.store.clone(),
        topic: p.topic.clone(),
        classifier: p.queue(Service::Classifier),
        dispatcher: p.queue(Service::PartnerDispatcher),
        clock: p.clock.clone(),
        stuck_after: STUCK_AFTER,
    })
}

fn seconds(n: i64) -> SignedDuration {
    SignedDuration::from_secs(n)
}

/// An inquiry in `status` since [`START`], with no message on its way.
async fn stranded(p: &TestPipeline, status: InquiryStatus, seed: u8) -> Inquiry {
    let mut inquiry = InquiryBuilder::new().created_at(START, seed).status(status).build();
    if status != InquiryStatus::Received {
        inquiry.classification = Some(fixtures::classification(Language::En, Intent::ReservationChange));
    }
    p.store_inquiry(&inquiry).await;
    inquiry
}

/// The events waiting on `service`'s queue, as (type, id).
async fn waiting(p: &TestPipeline, service: Service) -> Vec<(String, String)> {
    p.take(service).await.into_iter().map(|e| (e.event_type, e.id)).collect()
}

#[tokio::test]
async fn an_inquiry_stuck_in_received_is_announced_again_once_it_has_waited_longer_than_allowed_and_not_again_until_the_next_allowance() {
    let p = TestPipeline::new().await;
    let inquiry = stranded(&p, InquiryStatus::Received, 1).await;
    let sweeper = sweeper(&p);

    p.clock.advance(seconds(299));
    assert_eq!(sweeper.sweep().await.unwrap(), 0, "still within its stage's allowance");
    assert!(waiting(&p, Service::Classifier).await.is_empty());

    p.clock.advance(seconds(2));
    assert_eq!(sweeper.sweep().await.unwrap(), 1);
    let again = received_event(&inquiry);
    assert_eq!(waiting(&p, Service::Classifier).await, [(again.event_type.clone(), again.id.clone())], "the intake's own event id");

    p.clock.advance(seconds(60));
    assert_eq!(sweeper.sweep().await.unwrap(), 0, "handed on a minute ago: not flooded with repeats");
    p.clock.advance(seconds(300));
    assert_eq!(sweeper.sweep().await.unwrap(), 1, "still stuck after another allowance: handed on again");
    assert_eq!(waiting(&p, Service::Classifier).await.len(), 1);
}

#[tokio::test]
async fn a_classified_inquiry_that_stopped_moving_goes_back_to_the_classifier_which_announces_its_verdict_again() {
    let p = TestPipeline::new().await;
    let inquiry = stranded(&p, InquiryStatus::Classified, 2).await;
    p.clock.advance(seconds(301));
    assert_eq!(sweeper(&p).sweep().await.unwrap(), 1);
    assert_eq!(
        waiting(&p, Service::Classifier).await,
        [(EventType::InquiryReceived.as_str().to_owned(), received_event(&inquiry).id)],
        "sent to the classifier's queue, not routed by the topic"
    );
    assert!(waiting(&p, Service::Responder).await.is_empty());
    assert!(waiting(&p, Service::PartnerDispatcher).await.is_empty());
}

#[tokio::test]
async fn a_partner_request_is_left_alone_until_its_deadline_has_passed_by_the_allowance_then_goes_back_to_the_dispatcher() {
    let p = TestPipeline::new().await;
    let mut inquiry = InquiryBuilder::new().created_at(START, 3).status(InquiryStatus::AwaitingPartner).build();
    inquiry.partner = Some(PartnerRequest {
        partner_id: "p-1".into(),
        partner_name: "Partner".into(),
        requested_at: START,
        deadline_at: START + seconds(3600),
        outcome: None,
        responded_at: None,
    });
    p.store_inquiry(&inquiry).await;
    let sweeper = sweeper(&p);

    p.clock.advance(seconds(3600 + 299));
    assert_eq!(sweeper.sweep().await.unwrap(), 0, "a partner has until the deadline, and the deadline message its allowance");
    p.clock.advance(seconds(2));
    assert_eq!(sweeper.sweep().await.unwrap(), 1);
    let handed = p.take(Service::PartnerDispatcher).await;
    assert_eq!(handed.len(), 1);
    assert_eq!((handed[0].kind(), handed[0].inquiry_id()), (Some(EventType::InquiryClassified), Some(inquiry.id)));
}

#[tokio::test]
async fn finished_inquiries_are_never_handed_on() {
    let p = TestPipeline::new().await;
    for (seed, status) in
        [InquiryStatus::Answered, InquiryStatus::Escalated, InquiryStatus::Resolved, InquiryStatus::Failed].into_iter().enumerate()
    {
        stranded(&p, status, 10 + seed as u8).await;
    }
    p.clock.advance(seconds(86_400));
    assert_eq!(sweeper(&p).sweep().await.unwrap(), 0);
    for service in Service::ALL {
        assert!(p.take(service).await.is_empty(), "{} got a message", service.name());
    }
}

#[tokio::test]
async fn a_reopened_inquiry_that_stopped_moving_gets_its_latest_follow_up_announced_to_the_classifier_again() {
    let p = TestPipeline::new().await;
    let inquiry = stranded(&p, InquiryStatus::Reopened, 9).await;
    let said = |key: &str, text: &str, second: i64| {
        let text = switchboard_domain::FollowUp { text: text.into(), language: None };
        switchboard_domain::Message::follow_up(inquiry.id, key, text, switchboard_domain::MessageChannel::Api, START + seconds(second))
    };
    // Stored without their announcements, as a lost message would leave them.
    for message in [said("a", "Is breakfast included?", 1), said("b", "And is there parking?", 2)] {
        p.store.append_message(&message, &[]).await.unwrap();
    }
    p.clock.advance(seconds(301));
    assert_eq!(sweeper(&p).sweep().await.unwrap(), 1);
    let handed = p.take(Service::Classifier).await;
    assert_eq!(handed.len(), 1);
    assert_eq!(handed[0].kind(), Some(EventType::MessageReceived));
    let latest = switchboard_store::whole_conversation(p.store.as_ref(), &inquiry).await.unwrap().pop().unwrap();
    let again = switchboard_pipeline::follow_up::received_event(&inquiry, &latest, "test", START);
    assert_eq!(handed[0].id, again.id, "the id it was stored with: the classifier takes it once");
}

#[tokio::test]
async fn a_question_back_left_unanswered_past_its_deadline_by_the_allowance_goes_back_to_the_dispatcher() {
    let p = TestPipeline::new().await;
    let mut inquiry = InquiryBuilder::new().created_at(START, 10).status(InquiryStatus::AwaitingCustomer).build();
    inquiry.classification = Some(fixtures::classification(Language::En, Intent::ReservationChange));
    inquiry.customer_question = Some(switchboard_domain::verification::CustomerQuestion {
        unverified: switchboard_domain::verification::Unverified::NotFound,
        message: "Please check your booking number.".into(),
        asked_at: START,
        deadline_at: START + seconds(86_400),
        reply: None,
    });
    p.store_inquiry(&inquiry).await;
    let sweeper = sweeper(&p);

    p.clock.advance(seconds(86_400 + 299));
    assert_eq!(sweeper.sweep().await.unwrap(), 0, "the customer has until the deadline, and the deadline message its allowance");
    p.clock.advance(seconds(2));
    assert_eq!(sweeper.sweep().await.unwrap(), 1);
    let handed = p.take(Service::PartnerDispatcher).await;
    assert_eq!(handed.len(), 1);
    assert_eq!((handed[0].kind(), handed[0].inquiry_id()), (Some(EventType::InquiryClassified), Some(inquiry.id)));
}
