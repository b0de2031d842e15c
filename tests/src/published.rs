//! A recording events topic: tests count what the pipeline published, to
//! tell one run of a step from two.

use async_trait::async_trait;
use std::sync::{Arc, Mutex};
use switchboard_messaging::{MessagingError, Publication, Topic};

/// Wraps the application's topic and keeps every publication it passed on.
pub struct RecordingTopic {
    inner: Arc<dyn Topic>,
    published: Arc<Mutex<Vec<Publication>>>,
}

/// What a [`RecordingTopic`] saw, readable while the application runs.
#[derive(Clone, Default)]
pub struct Published(Arc<Mutex<Vec<Publication>>>);

impl RecordingTopic {
    /// Records what goes through `inner`; read it through the returned [`Published`].
    pub fn wrap(inner: Arc<dyn Topic>) -> (Arc<dyn Topic>, Published) {
        let published = Published::default();
        let topic = Self { inner, published: published.0.clone() };
        (Arc::new(topic), published)
    }
}

#[async_trait]
impl Topic for RecordingTopic {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn system(&self) -> &'static str {
        self.inner.system()
    }

    async fn publish(&self, publications: &[Publication]) -> Result<(), MessagingError> {
        self.inner.publish(publications).await?;
        self.published.lock().unwrap_or_else(std::sync::PoisonError::into_inner).extend_from_slice(publications);
        Ok(())
    }
}

impl Published {
    /// Waits until `event_type` about inquiry `id` is published, then
    /// asserts it was announced once (re-announcements of the same event
    /// id count once).
    pub async fn assert_announced_once(&self, id: &str, event_type: &str) {
        let deadline = tokio::time::Instant::now() + crate::PATIENCE;
        while !self.event_types_for(id).iter().any(|t| t == event_type) {
            assert!(tokio::time::Instant::now() < deadline, "{event_type} never published");
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        let announced: Vec<_> = self.distinct_events_for(id).into_iter().filter(|(t, _)| t == event_type).collect();
        assert_eq!(announced.len(), 1, "{announced:?}");
    }

    /// The event types published about inquiry `id`, in publishing order
    /// (a repeat of the same event counts again).
    pub fn event_types_for(&self, id: &str) -> Vec<String> {
        let published = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        published
            .iter()
            .filter_map(|p| serde_json::from_str::<serde_json::Value>(&p.body).ok())
            .filter(|event| event["subject"] == id)
            .map(|event| event["type"].as_str().unwrap_or_default().to_owned())
            .collect()
    }

    /// The distinct events published about inquiry `id`, as (type, event
    /// id) in order of first publication: a re-announcement (the same
    /// event id published again) counts once, a second run of a step
    /// under another event id counts again.
    pub fn distinct_events_for(&self, id: &str) -> Vec<(String, String)> {
        let published = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut distinct: Vec<(String, String)> = Vec::new();
        let events = published.iter().filter_map(|p| serde_json::from_str::<serde_json::Value>(&p.body).ok());
        for event in events.filter(|event| event["subject"] == id) {
            let key = (event["type"].as_str().unwrap_or_default().to_owned(), event["id"].as_str().unwrap_or_default().to_owned());
            if !distinct.contains(&key) {
                distinct.push(key);
            }
        }
        distinct
    }
}
