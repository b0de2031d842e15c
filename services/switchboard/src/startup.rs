//! The composition root: the one place that picks backends and wires
//! services to ports.

use crate::config::{Backend, Config, DurabilityLevel};
use anyhow::Context;
use async_trait::async_trait;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use switchboard_ai::Engines;
use switchboard_channels::sqlite::SqliteOutbox;
use switchboard_channels::webhook::HttpWebhooks;
use switchboard_channels::{EmailSender, SmsSender};
use switchboard_domain::{CustomerLinks, EmailAddress, Service};
use switchboard_gateway::{Gateway, NotReady, Readiness};
use switchboard_intake::Intake;
use switchboard_messaging::sqlite::SqliteBroker;
use switchboard_messaging::{Queue, Topic};
use switchboard_partner_dispatcher::{DispatcherConfig, PartnerDispatcher};
use switchboard_pipeline::{Clock, Relay, Stage, Sweeper, SweeperParts, SystemClock};
use switchboard_sqlite::{Database, Durability, ReadPool};
use switchboard_store::Store;
use switchboard_store::blob::BlobStore;
use switchboard_store::blob::FilesystemBlobs;
use switchboard_store::sqlite::SqliteStore;
use switchboard_worker::{Handler, Worker, WorkerConfig, redrive_max_receives};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

/// How long an AWS worker waits after a receive that was not full before
/// receiving again ([`WorkerConfig::fill_wait`]): at most this much more
/// latency per hop for a message arriving in the window, against one
/// receive and one delete per message when messages trickle in. Measured
/// in deploy/README.md ("What an inquiry costs").
const AWS_RECEIVE_FILL_WAIT: Duration = Duration::from_millis(100);

/// The gateway's reply-suggestion port on the AI engine.
struct Drafts(Arc<dyn switchboard_ai::ReplySuggester>);

#[async_trait]
impl switchboard_gateway::ReplySuggestions for Drafts {
    async fn suggest(
        &self,
        tenant: &switchboard_domain::Tenant,
        inquiry: &switchboard_domain::Inquiry,
        conversation: Vec<switchboard_domain::Message>,
        language: switchboard_domain::Language,
    ) -> Result<switchboard_domain::Suggestions, String> {
        let request = switchboard_ai::SuggestRequest { tenant: tenant.clone(), inquiry: inquiry.clone(), conversation, language };
        self.0.suggest(&request).await.map_err(|e| e.to_string())
    }
}

/// The pipeline's classifier, classifying customers' follow-ups for the
/// gateway (the sentiment trend): the text alone, as a new inquiry's.
struct FollowUps(Arc<dyn switchboard_ai::Classifier>);

#[async_trait]
impl switchboard_gateway::FollowUpClassifier for FollowUps {
    async fn classify(
        &self,
        _tenant: &switchboard_domain::TenantId,
        text: &str,
        language: Option<switchboard_domain::Language>,
    ) -> Result<switchboard_domain::Classification, String> {
        let request = switchboard_ai::ClassifyRequest {
            title: None,
            content: text.to_owned(),
            language_hint: language,
            reservation_hint: None,
            attachment_texts: vec![],
        };
        self.0.classify(&request).await.map_err(|e| e.to_string())
    }
}

/// The backends, as ports. Services see only these traits.
#[derive(Clone)]
pub struct Ports {
    /// The store the pipeline's services use.
    pub store: Arc<dyn Store>,
    /// The same store for the API's reads: in embedded mode on the API's
    /// own read connections, so a flood of status polls never waits for,
    /// or holds, the connections the workers read with. The same as
    /// `store` on AWS (DynamoDB has no pool to share).
    pub api_store: Arc<dyn Store>,
    pub blobs: Arc<dyn BlobStore>,
    pub sms: Arc<dyn SmsSender>,
    pub email: Arc<dyn EmailSender>,
    pub topic: Arc<dyn Topic>,
    pub queues: BTreeMap<Service, Arc<dyn Queue>>,
    pub dead_letter_queues: BTreeMap<Service, Arc<dyn Queue>>,
    /// The embedded outbox (`switchboard outbox`); `None` in AWS mode.
    pub outbox: Option<Arc<SqliteOutbox>>,
    /// The embedded database (its writer queue feeds load shedding); `None` in AWS mode.
    pub database: Option<Database>,
    /// The embedded database's retention task; `None` in AWS mode (TTL
    /// and queue retention do it there).
    pub retention: Option<crate::retention::Retention>,
    /// The AI engines (`SWITCHBOARD_AI`): local, or Comprehend, Bedrock and Textract.
    pub ai: Engines,
    /// Where the console reads an inquiry's trace: the recorded spans, or X-Ray.
    pub traces: Arc<dyn switchboard_gateway::TraceSource>,
}

impl Ports {
    /// The backends the configuration names.
    pub async fn open(config: &Config, provision: bool) -> anyhow::Result<Self> {
        let mut ports = match config.backend {
            Backend::Embedded => Self::embedded(config).await?,
            Backend::Aws => crate::aws::ports(config, provision).await?,
        };
        // The AI engines are chosen apart from the backend: local engines on
        // AWS queues, or AWS engines on the embedded store, are both valid.
        ports.ai = crate::ai::engines(config, &switchboard_aws::AwsOptions::default(), None).await?;
        // Every AI call a client span with latency and tokens, whichever engine.
        ports.ai = crate::observability::traced(ports.ai);
        Ok(ports)
    }

    /// Opens the embedded backends in the data directory and provisions the
    /// topology: a queue and dead-letter queue per service, subscribed to the
    /// topic by the routing table.
    pub async fn embedded(config: &Config) -> anyhow::Result<Self> {
        std::fs::create_dir_all(&config.data_dir)
            .with_context(|| format!("cannot create SWITCHBOARD_DATA_DIR {}", config.data_dir.display()))?;
        let durability = match config.durability {
            DurabilityLevel::Normal => Durability::Normal,
            DurabilityLevel::Full => Durability::Full,
        };
        let db = Database::open_with_batch(&config.database_path(), durability, config.write_batch)?;
        let sqlite_store = SqliteStore::open(db.clone()).await?;
        let api_store = Arc::new(sqlite_store.reading_from(ReadPool::Api));
        let store = Arc::new(sqlite_store);
        let outbox = Arc::new(SqliteOutbox::open(db.clone()).await?);
        let broker = SqliteBroker::open(db.clone()).await?;
        let retention = crate::retention::Retention::new(
            db.clone(),
            store.as_ref().clone(),
            broker.clone(),
            outbox.as_ref().clone(),
            config.retention_policy(),
        );
        let prefix = &config.resource_prefix;
        let mut queues: BTreeMap<Service, Arc<dyn Queue>> = BTreeMap::new();
        let mut dead_letter_queues: BTreeMap<Service, Arc<dyn Queue>> = BTreeMap::new();
        let mut subscriptions = Vec::new();
        for service in Service::ALL {
            let (name, dlq) = (service.queue_name(prefix), service.dead_letter_queue_name(prefix));
            let queue = broker.create_queue(&name, Some(&dlq), redrive_max_receives(config.max_receives)).await?;
            queues.insert(service, Arc::new(queue));
            dead_letter_queues.insert(service, Arc::new(broker.queue(&dlq, None)));
            if let Some(policy) = service.subscription() {
                subscriptions.push((name, policy));
            }
        }
        let topic: Arc<dyn Topic> = Arc::new(broker.topic(subscriptions));
        let blobs = Arc::new(FilesystemBlobs::new(&config.data_dir.join("blobs")));
        Ok(Self {
            store,
            api_store,
            blobs,
            sms: outbox.clone(),
            email: outbox.clone(),
            topic,
            queues,
            dead_letter_queues,
            outbox: Some(outbox),
            database: Some(db),
            retention: Some(retention),
            ai: Engines::local(),
            traces: Arc::new(switchboard_gateway::RecordedTraces { path: config.spans_path() }),
        })
    }

    pub fn queue(&self, service: Service) -> anyhow::Result<Arc<dyn Queue>> {
        self.queues.get(&service).cloned().with_context(|| format!("no queue for {}", service.name()))
    }

    /// A service's dead-letter queue.
    pub fn dead_letter_queue(&self, service: Service) -> anyhow::Result<Arc<dyn Queue>> {
        self.dead_letter_queues.get(&service).cloned().with_context(|| format!("no dead-letter queue for {}", service.name()))
    }
}

/// What `serve` runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selection {
    pub services: Vec<Service>,
    pub gateway: bool,
    /// Create missing AWS resources first (`up`); `serve` expects them provisioned.
    pub provision: bool,
}

impl Selection {
    /// Everything: `switchboard up`.
    pub fn all() -> Self {
        Self { services: Service::ALL.to_vec(), gateway: true, provision: true }
    }
}

/// A built application, ready to run.
pub struct App {
    pub config: Config,
    pub ports: Ports,
    pub workers: Vec<Worker>,
    pub gateway: Gateway,
    listener: Option<TcpListener>,
    http_addr: SocketAddr,
    grpc_listener: Option<TcpListener>,
    grpc_addr: SocketAddr,
    metrics_listener: Option<TcpListener>,
    /// The outbox relay and the sweeper: run by the gateway's process only
    /// (one per deployment, or one per gateway instance), so a left-behind
    /// event is not published by every process at once.
    housekeeping: Option<(Relay, Sweeper)>,
    /// The embedded retention task: run by the gateway's process, as the
    /// relay and sweeper are (several processes would only repeat it).
    retention: Option<crate::retention::Retention>,
    clock: Arc<dyn Clock>,
}

struct StoreAndQueues(Ports);

#[async_trait]
impl Readiness for StoreAndQueues {
    async fn check(&self) -> Result<(), NotReady> {
        let not_ready = |dependency: String| move |cause: String| NotReady { dependency, cause };
        let probe = switchboard_domain::TenantId::parse("readiness-probe").map_err(|e| not_ready("store".into())(e.to_string()))?;
        self.0.store.get_tenant(&probe).await.map_err(|e| not_ready("store".into())(e.to_string()))?;
        for (service, queue) in &self.0.queues {
            queue.stats().await.map_err(|e| not_ready(format!("queue {}", service.name()))(e.to_string()))?;
        }
        Ok(())
    }

    async fn sample_queues(&self) {
        for (service, queue) in &self.0.queues {
            match queue.stats().await {
                Ok(s) => switchboard_telemetry::metrics().queue_depth(
                    service.name(),
                    s.visible,
                    s.in_flight,
                    s.delayed,
                    s.dead_lettered,
                    s.oldest_age,
                ),
                Err(e) => warn!(queue = %queue.name(), error = %e, "queue depth not sampled"),
            }
        }
    }
}

impl App {
    /// Opens the backends, binds the HTTP port (when the gateway is
    /// selected) and wires every selected service.
    pub async fn build(config: Config, selection: &Selection) -> anyhow::Result<Self> {
        let ports = Ports::open(&config, selection.provision).await?;
        Self::build_with(config, selection, ports).await
    }

    /// As [`Self::build`], on ports the caller opened (tests count AWS requests this way).
    pub async fn build_with(config: Config, selection: &Selection, ports: Ports) -> anyhow::Result<Self> {
        let keys = crate::token_keys::load(config.token_keys.as_deref(), &config.data_dir)?;

        let (listener, http_addr) = if selection.gateway {
            let listener = TcpListener::bind(config.http_addr)
                .await
                .with_context(|| format!("cannot listen on SWITCHBOARD_HTTP_ADDR {}", config.http_addr))?;
            let addr = listener.local_addr()?;
            (Some(listener), addr)
        } else {
            (None, config.http_addr)
        };
        let (grpc_listener, grpc_addr) = if selection.gateway {
            let listener = TcpListener::bind(config.grpc_addr)
                .await
                .with_context(|| format!("cannot listen on SWITCHBOARD_GRPC_ADDR {}", config.grpc_addr))?;
            let addr = listener.local_addr()?;
            (Some(listener), addr)
        } else {
            (None, config.grpc_addr)
        };
        let metrics_listener = match config.metrics_addr.filter(|_| selection.gateway) {
            Some(addr) => Some(TcpListener::bind(addr).await.with_context(|| format!("cannot listen on SWITCHBOARD_METRICS_ADDR {addr}"))?),
            None => None,
        };

        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let stage = |service| Stage::new(service, ports.store.clone(), ports.topic.clone()).with_clock(clock.clone());
        let relay = Relay::new(ports.store.clone(), ports.topic.clone());
        let sms = switchboard_intake::SmsPolicy::new(config.sms_countries()?, Some(config.sms_per_tenant_per_hour));
        let intake = Intake::new(ports.store.clone(), ports.store.clone(), ports.blobs.clone(), relay.clone())
            .with_clock(clock.clone())
            .with_sms_policy(sms)
            .with_inbound_sms_numbers(config.inbound_sms_numbers()?);
        let dispatcher = PartnerDispatcher::new(
            stage(Service::PartnerDispatcher),
            ports.store.clone(),
            ports.store.clone(),
            ports.sms.clone(),
            ports.queue(Service::PartnerDispatcher)?,
            keys.clone(),
            DispatcherConfig {
                deadline: config.partner_deadline(),
                token_validity: Duration::from_secs(600),
                public_base_url: config.public_base_url(http_addr),
                customer_reply: config.customer_reply(),
            },
        );
        let operators = EmailAddress::parse(&config.operator_email).context("SWITCHBOARD_OPERATOR_EMAIL")?;
        // The notifier issues customers' links, the gateway opens them: the
        // same keys as the partner's links, a scope and validity of their own.
        let customer_links = CustomerLinks::new(keys.clone(), &config.public_base_url(http_addr), config.customer_link_validity());

        let worker_config = WorkerConfig {
            concurrency: config.worker_concurrency,
            max_receives: config.max_receives,
            base_backoff: Duration::from_millis(config.retry_base_ms),
            max_backoff: Duration::from_millis(config.retry_base_ms.saturating_mul(60)),
            grace: Duration::from_secs(config.shutdown_grace_secs),
            // Local polls are free; SQS bills each one, so wait longer there.
            wait: match config.backend {
                Backend::Embedded => Duration::from_secs(1),
                Backend::Aws => Duration::from_secs(10),
            },
            visibility: config.visibility(),
            // SQS bills each receive: under load, let a few milliseconds'
            // arrivals share one (and its batched delete). Local receives
            // are free, so the embedded broker does not wait.
            fill_wait: match config.backend {
                Backend::Embedded => Duration::ZERO,
                Backend::Aws => AWS_RECEIVE_FILL_WAIT,
            },
            ..WorkerConfig::default()
        };
        let mut workers = Vec::new();
        for &service in &selection.services {
            let handler: Arc<dyn Handler> = match service {
                Service::Intake => Arc::new(intake.clone()),
                Service::ImageAnalyzer => {
                    Arc::new(switchboard_image_analyzer::ImageAnalyzer::new(stage(service), ports.blobs.clone(), ports.ai.analyzer.clone()))
                }
                Service::Classifier => {
                    Arc::new(switchboard_classifier::Classifier::new(stage(service), ports.ai.classifier.clone()).with_memory(
                        switchboard_classifier::tenant_memory::TenantMemories::new(
                            ports.store.clone(),
                            Duration::from_millis(config.memory_ttl_ms),
                        ),
                    ))
                }
                Service::PartnerDispatcher => Arc::new(dispatcher.clone()),
                Service::Responder => Arc::new(
                    switchboard_responder::Responder::new(
                        stage(service),
                        ports.store.clone(),
                        ports.ai.drafter.clone(),
                        Duration::from_millis(config.answer_budget_ms),
                    )
                    .with_auto_close(switchboard_responder::AutoClose {
                        queue: ports.queue(Service::Responder)?,
                        default_wait: config.auto_close(),
                    }),
                ),
                Service::Notifier => Arc::new(
                    switchboard_notifier::Notifier::new(
                        stage(service),
                        ports.sms.clone(),
                        ports.email.clone(),
                        operators.clone(),
                        customer_links.clone(),
                    )
                    .with_webhooks(switchboard_notifier::Webhooks {
                        store: ports.store.clone(),
                        tenants: ports.store.clone(),
                        sender: Arc::new(HttpWebhooks::new(config.webhook_policy()?, Duration::from_millis(config.webhook_timeout_ms))),
                        queue: ports.queue(Service::Notifier)?,
                        schedule: config.webhook_schedule()?,
                        disable_after: config.webhook_disable_after,
                    })
                    .with_sla(switchboard_notifier::SlaTimer { queue: ports.queue(Service::Notifier)?, tenants: ports.store.clone() }),
                ),
            };
            let worker_config = match service {
                // The partner's SMS is retried twice, then the inquiry
                // fails. Only this worker's limit changes.
                Service::PartnerDispatcher => WorkerConfig {
                    max_receives: worker_config.max_receives.min(switchboard_partner_dispatcher::SMS_ATTEMPTS),
                    ..worker_config
                },
                _ => worker_config,
            };
            workers.push(Worker::new(service.name(), ports.queue(service)?, handler, worker_config));
        }

        let gateway = Gateway::new(switchboard_gateway::GatewayParts {
            intake,
            dispatcher,
            customer_links,
            // The API's reads; submissions (intake) and partner answers
            // (dispatcher) are the pipeline's work and use its store.
            inquiries: ports.api_store.clone(),
            tenants: ports.api_store.clone(),
            corrections: ports.api_store.clone(),
            classifier: Arc::new(FollowUps(ports.ai.classifier.clone())),
            suggester: Arc::new(Drafts(ports.ai.suggester.clone())),
            sessions: ports.api_store.clone(),
            traces: ports.traces.clone(),
            readiness: Arc::new(switchboard_gateway::CachedReadiness::new(
                Arc::new(StoreAndQueues(ports.clone())),
                switchboard_gateway::READINESS_TTL,
            )),
            webhooks: switchboard_gateway::WebhookAdmin {
                store: ports.api_store.clone(),
                notifier_queue: ports.queue(Service::Notifier)?,
                policy: config.webhook_policy()?,
                allow_http: config.webhook_allow_http,
                rotation_grace: Duration::from_secs(config.webhook_rotation_grace_secs),
            },
            api: switchboard_gateway::Api::new(switchboard_gateway::ApiParts {
                relay: relay.clone(),
                reservations: ports.api_store.clone(),
                queues: ports.queues.clone().into_iter().collect(),
                operators: config.operator_keys()?,
                settings: config.api_settings()?,
                backlog: Some(Arc::new(crate::backlog::PipelineBacklog::new(&ports))),
            }),
        });
        // The gateway's process publishes what the outbox holds and sweeps
        // (several gateways do the same work twice: repeats, not harm).
        let housekeeping = if selection.gateway {
            let sweeper = Sweeper::new(SweeperParts {
                inquiries: ports.store.clone(),
                topic: ports.topic.clone(),
                classifier: ports.queue(Service::Classifier)?,
                dispatcher: ports.queue(Service::PartnerDispatcher)?,
                clock: clock.clone(),
                stuck_after: Duration::from_secs(config.stuck_after_secs),
            });
            Some((relay, sweeper))
        } else {
            None
        };
        let retention = ports.retention.clone().filter(|_| selection.gateway && config.retention_every_secs > 0);
        Ok(Self {
            config,
            ports,
            workers,
            gateway,
            listener,
            http_addr,
            grpc_listener,
            grpc_addr,
            metrics_listener,
            housekeeping,
            retention,
            clock,
        })
    }

    /// The address the HTTP server listens on (the real port when configured as 0).
    pub fn http_addr(&self) -> SocketAddr {
        self.http_addr
    }

    /// The address the gRPC server listens on (the real port when configured as 0).
    pub fn grpc_addr(&self) -> SocketAddr {
        self.grpc_addr
    }

    /// Runs workers and gateway until `shutdown`, then stops accepting,
    /// drains in-flight work within the grace period and returns.
    pub async fn run(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let mut tasks = tokio::task::JoinSet::new();
        if let Some((relay, sweeper)) = self.housekeeping {
            let (every, grace) =
                (Duration::from_millis(self.config.outbox_relay_ms.max(1)), Duration::from_millis(self.config.outbox_grace_ms));
            tasks.spawn(relay.run(self.clock.clone(), every, grace, shutdown.clone()));
            tasks.spawn(sweeper.run(Duration::from_secs(self.config.sweep_every_secs.max(1)), shutdown.clone()));
        }
        if let Some(retention) = self.retention {
            tasks.spawn(retention.run(Duration::from_secs(self.config.retention_every_secs.max(1)), shutdown.clone()));
        }
        for worker in self.workers {
            let token = shutdown.clone();
            tasks.spawn(async move {
                let name = worker.name().to_owned();
                worker.run(token).await;
                info!(worker = %name, "worker stopped");
            });
        }
        if self.listener.is_some() || self.grpc_listener.is_some() {
            let listeners =
                switchboard_gateway::Listeners { http: self.listener, grpc: self.grpc_listener, metrics: self.metrics_listener };
            let gateway = self.gateway;
            let token = shutdown.clone();
            tasks.spawn(async move { switchboard_gateway::serve(gateway, listeners, token).await });
        }
        while let Some(joined) = tasks.join_next().await {
            if let Err(e) = joined {
                warn!(error = %e, "a task ended abnormally");
            }
        }
        Ok(())
    }
}
