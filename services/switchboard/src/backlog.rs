//! The pipeline's backlog for load shedding (the gateway's [`Backlog`]
//! port): each stage's queue through the queue port's statistics
//! (embedded: indexed reads giving depth and the oldest waiting message's
//! age; SQS: `GetQueueAttributes`, depth only), and the embedded writer's
//! queue length.

use crate::startup::Ports;
use async_trait::async_trait;
use std::collections::BTreeMap;
use std::sync::Arc;
use switchboard_domain::Service;
use switchboard_gateway::{Backlog, BacklogSample, StageBacklog};
use switchboard_messaging::Queue;
use switchboard_sqlite::Database;

/// The stages' queues and, in embedded mode, the store's writer.
pub struct PipelineBacklog {
    queues: BTreeMap<Service, Arc<dyn Queue>>,
    database: Option<Database>,
}

impl PipelineBacklog {
    /// The backlog of `ports`' pipeline.
    pub fn new(ports: &Ports) -> Self {
        Self { queues: ports.queues.clone(), database: ports.database.clone() }
    }
}

#[async_trait]
impl Backlog for PipelineBacklog {
    async fn sample(&self) -> Result<BacklogSample, String> {
        // All queues at once: a sample's latency is one read's, not six.
        let mut reads = tokio::task::JoinSet::new();
        for (&service, queue) in &self.queues {
            let queue = queue.clone();
            reads.spawn(async move {
                let stats = queue.stats().await.map_err(|e| format!("queue {}: {e}", queue.name()))?;
                Ok::<_, String>(StageBacklog { service, waiting: stats.visible, in_process: stats.in_flight, oldest_age: stats.oldest_age })
            });
        }
        let mut stages = Vec::with_capacity(self.queues.len());
        while let Some(read) = reads.join_next().await {
            stages.push(read.map_err(|e| e.to_string())??);
        }
        stages.sort_by_key(|s| s.service);
        let pending_writes = self.database.as_ref().map(|db| db.pending_writes() as u64);
        Ok(BacklogSample { stages, pending_writes })
    }
}
