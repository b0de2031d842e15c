//! `switchboard`: every Switchboard component in one binary.

/// mimalloc, not glibc's malloc: measured in loadtest/README.md ("Allocator").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use anyhow::Context;
use clap::{Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;
use switchboard::config::{Backend, Config, Overrides};
use switchboard::startup::{App, Ports, Selection};
use switchboard_domain::Service;
use switchboard_domain::tenant::hash_api_key;
use tokio_util::sync::CancellationToken;

/// Switchboard automates customer inquiries: intake, classification,
/// partner confirmation over SMS links, FAQ-grounded answers or escalation,
/// and notifications.
///
/// `switchboard up` runs every service and the HTTP gateway in one process
/// on one SQLite file in the data directory: no cloud account, no config.
/// `switchboard serve <service>...` runs only the named components, so
/// each can be scaled on its own (several processes may share one data
/// directory). Every flag can also be set as a SWITCHBOARD_* variable.
#[derive(Debug, Parser)]
#[command(name = "switchboard", version, about, long_about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Args, Default)]
struct Common {
    /// Data directory: the SQLite file, attachments, token keys [env: SWITCHBOARD_DATA_DIR] [default: ./switchboard-data]
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
    /// REST, partner page, health [env: SWITCHBOARD_HTTP_ADDR] [default: 127.0.0.1:8080]
    #[arg(long, global = true)]
    http_addr: Option<SocketAddr>,
    /// gRPC API, health and reflection [env: SWITCHBOARD_GRPC_ADDR] [default: 127.0.0.1:50051]
    #[arg(long, global = true)]
    grpc_addr: Option<SocketAddr>,
    /// Partner answer deadline in seconds [env: SWITCHBOARD_PARTNER_DEADLINE_SECS] [default: 300]
    #[arg(long, global = true)]
    partner_deadline_secs: Option<u64>,
    /// embedded (one SQLite file) or aws (SQS, SNS, DynamoDB, S3, SES; standard AWS_* configuration) [env: SWITCHBOARD_BACKEND] [default: embedded]
    #[arg(long, global = true, value_enum)]
    backend: Option<Backend>,
}

impl Common {
    fn overrides(&self) -> Overrides {
        Overrides {
            data_dir: self.data_dir.clone(),
            http_addr: self.http_addr,
            grpc_addr: self.grpc_addr,
            partner_deadline_secs: self.partner_deadline_secs,
            backend: self.backend,
        }
    }
}

#[derive(Debug, Subcommand)]
enum Command {
    /// The FAQ evaluation set: `switchboard faq eval [DIR]`.
    Faq {
        #[command(subcommand)]
        command: switchboard::faq_cli::FaqCommand,
    },
    /// Run every service and the gateway in one process (embedded mode).
    Up {
        /// Seed a demo tenant (a small hotel with a Korean/English FAQ) and
        /// reservations, and print its API key and a curl line to try.
        #[arg(long)]
        demo: bool,
        #[command(flatten)]
        common: Common,
    },
    /// Run only the named components: intake, image-analyzer, classifier,
    /// partner-dispatcher, responder, notifier, gateway.
    Serve {
        #[arg(required = true, value_parser = parse_component)]
        components: Vec<Component>,
        /// With the gateway: seed the demo tenant, as `up --demo` does.
        #[arg(long)]
        demo: bool,
        #[command(flatten)]
        common: Common,
    },
    /// Create or update, idempotently, the AWS resources the aws backend
    /// needs (topic, queues and dead-letter queues, subscriptions, table,
    /// bucket, e-mail sender) under SWITCHBOARD_RESOURCE_PREFIX.
    Provision {
        #[command(flatten)]
        common: Common,
    },
    /// Print every SMS and e-mail sent in embedded mode, as JSON lines.
    Outbox {
        /// Only this inquiry's messages.
        #[arg(long)]
        inquiry: Option<String>,
        #[command(flatten)]
        common: Common,
    },
    /// Reservation data.
    Reservations {
        #[command(subcommand)]
        command: ReservationsCommand,
    },
    /// Attachment bodies.
    Attachments {
        #[command(subcommand)]
        command: AttachmentsCommand,
    },
    /// Tenants and their API keys.
    Tenant {
        #[command(subcommand)]
        command: TenantCommand,
    },
    /// Operator keys: the escalation queue, resolving inquiries, reservations.
    Operator {
        #[command(subcommand)]
        command: OperatorCommand,
    },
    /// Print an inquiry's trace as a tree of spans with their durations,
    /// from the spans this data directory's processes recorded (embedded
    /// mode; in AWS mode traces go to X-Ray through the collector).
    Trace {
        /// The inquiry id.
        inquiry: String,
        #[command(flatten)]
        common: Common,
    },
    /// The routing table: which service's queue receives which events.
    Routing {
        /// `json` (service → SNS filter policy) or `cloudformation` (subscription resources).
        #[arg(long, default_value = "json")]
        format: RoutingFormat,
    },
    /// Deployment artefacts generated from the code.
    Deploy {
        #[command(subcommand)]
        command: DeployCommand,
    },
    /// Open-loop load against a running gateway, with a JSON report and an SVG chart.
    Loadtest(switchboard_loadtest::cli::LoadtestArgs),
    /// The local classifier's model: retrain it, or cross-validate it.
    Model {
        #[command(subcommand)]
        command: ModelCommand,
    },
    /// Classify JSON lines from stdin (`content`, optional `id`, `title`,
    /// `language`, `reservation_number`) with the local classifier: one
    /// verdict line per input line on stdout.
    Classify,
    /// Measure the local classifier on a labelled JSON-lines file (the
    /// corpus format): accuracy and confusion matrix per field; and, for
    /// lines with a `faq_entry` (an entry id, or null for none), the FAQ's
    /// answer rate.
    Eval {
        /// The labelled file.
        file: PathBuf,
        /// The FAQ the `faq_entry` lines are asked of: JSON lines of entries
        /// (`id`, `language`, `question`, `variants`, `answer`) [default: the demo FAQ].
        #[arg(long)]
        faq: Option<PathBuf>,
    },
    /// Micro-benchmarks (`bench sqlite`: the embedded store's durable-write
    /// floor; `bench store`: its reads and size at a million inquiries).
    Bench {
        #[command(subcommand)]
        command: BenchCommand,
    },
    /// Rebuild the embedded database file so that retention can shrink it
    /// (`auto_vacuum=INCREMENTAL`, one full VACUUM). Files made by this
    /// version need nothing; older ones keep their size until this runs.
    /// Stop every Switchboard process on the data directory first: it
    /// locks the file while it copies it, and needs as much free disk again.
    Compact {
        #[command(flatten)]
        common: Common,
    },
}

#[derive(Debug, Subcommand)]
enum BenchCommand {
    #[command(flatten)]
    Loadtest(switchboard_loadtest::cli::BenchCommand),
    /// The embedded store's API reads (status, listing first and deep
    /// pages, escalation queue) on a nearly empty store and after
    /// `--inquiries` inquiries, and its bytes per inquiry before and after retention.
    Store(switchboard::store_bench::StoreBenchArgs),
}

#[derive(Debug, Subcommand)]
enum ModelCommand {
    /// Retrain on shared/ai/corpus and rewrite the artefact (deterministic).
    Train {
        /// Where to write it [default: shared/ai/model/classifier.bin of the source tree].
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// K-fold cross-validation on the train split, then the held-out
    /// split's figures; with `--tenant T`, accuracy on that tenant's own
    /// corrections instead, held out by time (the base classifier alone, and
    /// with the memory of the earlier corrections).
    Eval {
        /// Number of folds.
        #[arg(long, default_value_t = switchboard_ai::model::crossval::FOLDS)]
        folds: usize,
        /// The tenant whose corrections to evaluate on (reads the store).
        #[arg(long)]
        tenant: Option<String>,
        #[command(flatten)]
        common: Common,
    },
}

#[derive(Debug, Subcommand)]
enum AttachmentsCommand {
    /// Delete attachment bodies whose inquiry was never created (a crash
    /// between storing them and creating it), once older than the grace.
    Sweep {
        /// Only bodies stored at least this many minutes ago.
        #[arg(long, default_value_t = switchboard_intake::attachments::GRACE.as_mins() as u32)]
        grace_minutes: u32,
        /// Only inquiries created in the last DAYS days (default: all).
        #[arg(long)]
        days: Option<u32>,
        #[command(flatten)]
        common: Common,
    },
}

#[derive(Debug, Subcommand)]
enum ReservationsCommand {
    /// Import reservations from a JSON-lines or CSV file (reservation_number,
    /// customer_name, customer_phone, partner_id, partner_name,
    /// partner_phone, partner_locale, service_type, reservation_date, tenant_id).
    /// CSV is read from a `.csv` file, or any file whose first line is a
    /// header rather than a JSON object; bad lines are reported by number.
    Import {
        file: PathBuf,
        #[command(flatten)]
        common: Common,
    },
    /// Move reservations stored before they were keyed by tenant
    /// (`RES#{number}`, one per number for every tenant) to their tenants'
    /// keys. Idempotent: a second run moves nothing. Embedded mode does it
    /// whenever the data file is opened; AWS mode needs this command once
    /// after the upgrade (it scans the whole table).
    Migrate {
        #[command(flatten)]
        common: Common,
    },
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum RoutingFormat {
    Json,
    Cloudformation,
}

#[derive(Debug, Subcommand)]
enum DeployCommand {
    /// Print the CloudFormation template (deploy/cloudformation/switchboard.json).
    Template,
}

#[derive(Debug, Subcommand)]
enum TenantCommand {
    /// Create a tenant; its API key is printed once, on the last line.
    Create {
        /// Display name.
        #[arg(long)]
        name: String,
        /// Tenant id (lowercase letters, digits, '-'); derived from the name if absent.
        #[arg(long)]
        id: Option<String>,
        #[command(flatten)]
        common: Common,
    },
    /// A tenant's FAQ: list, add, edit, delete, add-variant, remove-variant.
    Faq {
        /// The tenant's id.
        #[arg(long)]
        id: String,
        #[command(subcommand)]
        action: switchboard::faq_cli::FaqAction,
        #[command(flatten)]
        common: Common,
    },
    /// Change a tenant's settings: how long an answered inquiry waits for
    /// the customer's reply before it closes itself, its contact e-mail,
    /// and the first-response SLA of its escalated inquiries.
    Set {
        /// The tenant's id.
        #[arg(long)]
        id: String,
        /// Days (1 to 365) an answered inquiry waits for a reply before it closes itself.
        #[arg(long, conflicts_with = "default_auto_close")]
        auto_close_days: Option<u32>,
        /// Use the deployment's wait (SWITCHBOARD_AUTO_CLOSE_SECS) again.
        #[arg(long)]
        default_auto_close: bool,
        /// Where the tenant is e-mailed about its account (a webhook disabled after failures).
        #[arg(long, conflicts_with = "no_contact_email")]
        contact_email: Option<String>,
        /// Remove the contact e-mail.
        #[arg(long)]
        no_contact_email: bool,
        /// The first-response SLA as JSON, as `PUT /api/tenants/{tenant}/sla` takes it:
        /// '{"first_response_secs":{"high":3600,"medium":14400,"low":86400},"time_zone":"Asia/Seoul",
        /// "business_hours":[{"days":["mon","tue","wed","thu","fri"],"open":"09:00","close":"18:00"}]}'.
        #[arg(long, conflicts_with = "default_sla")]
        sla: Option<String>,
        /// Hold the tenant to the default SLA again (1 h high, 4 h medium, 24 h low, around the clock).
        #[arg(long)]
        default_sla: bool,
        #[command(flatten)]
        common: Common,
    },
    /// List tenants (ids and names; never keys).
    List {
        #[command(flatten)]
        common: Common,
    },
    /// Give a tenant a new API key (printed once, on the last line); the old
    /// key stops working at once.
    RotateKey {
        /// The tenant's id.
        #[arg(long)]
        id: String,
        #[command(flatten)]
        common: Common,
    },
}

#[derive(Debug, Subcommand)]
enum OperatorCommand {
    /// Create an operator key: its hash is added to the data directory's
    /// `operator-keys` file (read by gateways at start) and the key is
    /// printed once, on the last line. For gateways on other machines, add
    /// the printed `name=hash` entry to SWITCHBOARD_OPERATOR_KEY_HASHES.
    Create {
        /// The operator's name (letters, digits, '-', '_', '.'), recorded as `operator:{name}` on what they do.
        #[arg(long)]
        name: String,
        #[command(flatten)]
        common: Common,
    },
    /// List operators (names; never keys or hashes).
    List {
        #[command(flatten)]
        common: Common,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Component {
    Service(Service),
    Gateway,
}

fn parse_component(s: &str) -> Result<Component, String> {
    if s == "gateway" {
        return Ok(Component::Gateway);
    }
    Service::parse(s).map(Component::Service).ok_or_else(|| {
        let names: Vec<_> = Service::ALL.iter().map(|s| s.name()).chain(["gateway"]).collect();
        format!("unknown component {s:?}; choose from {}", names.join(", "))
    })
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Up { demo, common } => run(&common, Selection::all(), demo).await,
        Command::Serve { components, demo, common } => {
            let selection = Selection {
                services: components.iter().filter_map(|c| if let Component::Service(s) = c { Some(*s) } else { None }).collect(),
                gateway: components.contains(&Component::Gateway),
                provision: false,
            };
            run(&common, selection, demo).await
        }
        Command::Provision { common } => {
            let config = Config::load(&Overrides { backend: Some(Backend::Aws), ..common.overrides() })?;
            let clients = switchboard::aws::Clients::from_env().await;
            let report = switchboard::provision::run(&clients, &config).await?;
            if report.changes.is_empty() {
                println!("no changes: everything under prefix {} is in place", config.resource_prefix);
            }
            for change in &report.changes {
                println!("created or updated {change}");
            }
            Ok(())
        }
        Command::Outbox { inquiry, common } => {
            let config = Config::load(&common.overrides())?;
            if config.backend != Backend::Embedded {
                anyhow::bail!("the outbox exists in embedded mode only; in AWS mode messages go out through SNS and SES");
            }
            let ports = Ports::embedded(&config).await?;
            let outbox = ports.outbox.context("embedded mode has an outbox")?;
            for entry in outbox.entries(inquiry).await? {
                println!("{}", serde_json::to_string(&entry)?);
            }
            Ok(())
        }
        Command::Reservations { command: ReservationsCommand::Import { file, common } } => {
            let config = Config::load(&common.overrides())?;
            let ports = Ports::open(&config, false).await?;
            let report = switchboard::reservations_import::import_path(&file, ports.store.as_ref()).await?;
            for rejected in &report.rejected {
                eprintln!("skipped {rejected}");
            }
            println!("imported {} reservations, skipped {}", report.imported, report.rejected.len());
            if report.imported == 0 && !report.rejected.is_empty() {
                anyhow::bail!("no reservation could be imported");
            }
            Ok(())
        }
        Command::Reservations { command: ReservationsCommand::Migrate { common } } => {
            let config = Config::load(&common.overrides())?;
            let report = match config.backend {
                // Opening the file already moved them; this run reports what is left.
                Backend::Embedded => Ports::embedded(&config).await?.store.migrate_legacy_reservations().await?,
                Backend::Aws => {
                    use switchboard_store::ReservationStore as _;
                    switchboard::aws::store(&config).await.migrate_legacy_reservations().await?
                }
            };
            for pk in &report.unreadable {
                eprintln!("left {pk}: it does not read as a reservation, so it names no tenant");
            }
            println!(
                "moved {} reservations to their tenants' keys, removed {} already there, left {}",
                report.moved,
                report.superseded,
                report.unreadable.len()
            );
            Ok(())
        }
        Command::Tenant { command } => tenant(command).await,
        Command::Faq { command } => switchboard::faq_cli::faq(command),
        Command::Trace { inquiry, common } => {
            let config = Config::load(&common.overrides())?;
            if config.backend != Backend::Embedded {
                anyhow::bail!("the local trace view exists in embedded mode only; in AWS mode open the trace in X-Ray");
            }
            let path = config.spans_path();
            let spans = switchboard_telemetry::local::inquiry_spans(&path, &inquiry)?;
            if spans.is_empty() {
                anyhow::bail!("no spans recorded for inquiry {inquiry} in {}", path.display());
            }
            print!("{}", switchboard_telemetry::local::render_tree(&spans));
            Ok(())
        }
        Command::Operator { command } => operator(command),
        Command::Attachments { command: AttachmentsCommand::Sweep { grace_minutes, days, common } } => {
            let config = Config::load(&common.overrides())?;
            let grace = jiff::SignedDuration::from_mins(i64::from(grace_minutes));
            switchboard::attachments_cli::sweep(&config, grace, days).await
        }
        Command::Routing { format } => {
            let out = match format {
                RoutingFormat::Json => serde_json::Value::Object(
                    Service::ALL.iter().filter_map(|s| s.subscription().map(|p| (s.name().to_owned(), p.to_sns_json()))).collect(),
                ),
                RoutingFormat::Cloudformation => serde_json::Value::Object(switchboard::cloudformation::subscriptions()),
            };
            println!("{}", serde_json::to_string_pretty(&out)?);
            Ok(())
        }
        Command::Deploy { command: DeployCommand::Template } => {
            print!("{}", switchboard::cloudformation::template_text());
            Ok(())
        }
        Command::Loadtest(args) => {
            switchboard_loadtest::cli::loadtest(args).await?;
            Ok(())
        }
        Command::Model { command: ModelCommand::Eval { tenant: Some(tenant), common, .. } } => {
            let config = Config::load(&common.overrides())?;
            let ports = Ports::open(&config, false).await?;
            let tenant = switchboard_domain::TenantId::parse(&tenant).map_err(|e| anyhow::anyhow!("--tenant: {e}"))?;
            let eval = switchboard::tenant_eval::evaluate(ports.store.as_ref(), ports.ai.classifier.as_ref(), &tenant).await?;
            println!("{eval}");
            Ok(())
        }
        Command::Model { command } => {
            let report = match command {
                ModelCommand::Train { out } => {
                    let out = out.unwrap_or_else(|| switchboard_ai::model::artefact::ARTEFACT_PATH.into());
                    switchboard::model_cli::train_model(&out, switchboard_ai::model::crossval::FOLDS)?
                }
                ModelCommand::Eval { folds, .. } => switchboard::model_cli::evaluate_model(folds)?,
            };
            print!("{report}");
            Ok(())
        }
        Command::Classify => {
            switchboard::model_cli::classify_lines(std::io::stdin().lock(), std::io::stdout().lock())?;
            Ok(())
        }
        Command::Eval { file, faq } => {
            let input = std::fs::File::open(&file).with_context(|| format!("cannot open {}", file.display()))?;
            let faq = match faq {
                Some(path) => switchboard::model_cli::read_faq(
                    &std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?,
                )?,
                None => switchboard::demo::faq(),
            };
            print!("{}", switchboard::model_cli::evaluate_file(std::io::BufReader::new(input), &faq)?);
            Ok(())
        }
        Command::Bench { command: BenchCommand::Loadtest(command) } => {
            switchboard_loadtest::cli::bench(command).await?;
            Ok(())
        }
        Command::Bench { command: BenchCommand::Store(args) } => switchboard::store_bench::run(args).await,
        Command::Compact { common } => {
            let config = Config::load(&common.overrides())?;
            for path in [config.database_path(), config.spans_path()] {
                if !path.exists() {
                    continue;
                }
                let before = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
                let (was, now) = switchboard_sqlite::vacuum::convert_to_incremental(&path)?;
                let after = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
                println!("{}: auto_vacuum {was:?} -> {now:?}, {before} -> {after} bytes", path.display());
            }
            Ok(())
        }
    }
}

async fn run(common: &Common, selection: Selection, demo: bool) -> anyhow::Result<()> {
    let mut config = Config::load(&common.overrides())?;
    // The demo operator exists only under --demo.
    config.demo_operator_key =
        if demo && selection.gateway { Some(config.demo_operator_key.clone().unwrap_or_else(new_api_key)) } else { None };
    let telemetry = init_telemetry(&config)?;
    let app = App::build(config.clone(), &selection).await?;
    let addr = app.http_addr();
    if demo && selection.gateway {
        let key = config.demo_api_key.clone().unwrap_or_else(new_api_key);
        switchboard::demo::seed(app.ports.store.as_ref(), app.ports.store.as_ref(), &key).await?;
        print_demo(addr, &key, &config);
        if let Some(operator) = &config.demo_operator_key {
            println!("Operator key (escalation queue, resolve, reservations): {operator}");
            println!("  curl -s 'http://{addr}/api/inquiries?status=escalated' -H 'x-api-key: {operator}'");
        }
        println!("gRPC (reflection on): grpcurl -plaintext -H 'x-api-key: {key}' {} list", app.grpc_addr());
    }
    let names: Vec<_> = selection.services.iter().map(|s| s.name()).collect();
    if selection.gateway {
        eprintln!("switchboard: gateway on http://{addr}, gRPC on {}", app.grpc_addr());
    }
    let place = match config.backend {
        Backend::Embedded => format!("embedded, data in {}", config.data_dir.display()),
        Backend::Aws => format!("aws, resources prefixed {}", config.resource_prefix),
    };
    eprintln!("switchboard: running {} ({place})", names.join(", "));

    let shutdown = CancellationToken::new();
    let signal = shutdown.clone();
    tokio::spawn(async move {
        wait_for_signal().await;
        eprintln!("switchboard: shutting down (finishing in-flight work)");
        signal.cancel();
    });
    let ran = app.run(shutdown).await;
    // Flushing waits on the exporters, which the runtime drives meanwhile.
    let _ = tokio::task::spawn_blocking(move || telemetry.shutdown()).await;
    ran
}

/// Traces, logs and metrics for this process (see `switchboard-telemetry`).
/// Every component gets its own `service.name` unless OTEL_SERVICE_NAME
/// names the process; in embedded mode spans are also recorded in the
/// data directory's SQLite file for `switchboard trace`.
fn init_telemetry(config: &Config) -> anyhow::Result<switchboard_telemetry::TelemetryGuard> {
    let format = if config.log_format == "json" { switchboard_telemetry::LogFormat::Json } else { switchboard_telemetry::LogFormat::Text };
    let components = Service::ALL.iter().map(|s| s.name()).chain(["gateway"]);
    let mut settings = switchboard_telemetry::Settings::from_env(format, env!("CARGO_PKG_VERSION"))?.with_components(components);
    if config.backend == Backend::Embedded {
        std::fs::create_dir_all(&config.data_dir)
            .with_context(|| format!("cannot create SWITCHBOARD_DATA_DIR {}", config.data_dir.display()))?;
        settings = settings.with_local_spans(config.spans_path()).with_local_span_retention(config.span_retention());
    }
    Ok(switchboard_telemetry::init(settings)?)
}

fn print_demo(addr: SocketAddr, key: &str, config: &Config) {
    println!("Demo tenant \"demo\" (Hanbit Stay & Tours) is ready.");
    println!("API key: {key}");
    println!("Try:");
    println!(
        "  curl -s -X POST http://{addr}/api/inquiries -H 'x-api-key: {key}' -H 'content-type: application/json' \\\n    -d '{{\"content\":\"What time is check-in?\",\"customer_phone\":\"+12135550149\"}}'"
    );
    println!("  curl -s http://{addr}/api/inquiries/<inquiry_id> -H 'x-api-key: {key}'");
    if config.backend == Backend::Embedded {
        println!("  switchboard outbox --data-dir {}   # every SMS and e-mail sent", config.data_dir.display());
    }
}

fn new_api_key() -> String {
    let bytes: [u8; 24] = rand::random();
    format!("sb_{}", bytes.iter().map(|b| format!("{b:02x}")).collect::<String>())
}

async fn tenant(command: TenantCommand) -> anyhow::Result<()> {
    match command {
        TenantCommand::Create { name, id, common } => {
            let config = Config::load(&common.overrides())?;
            let ports = Ports::open(&config, false).await?;
            let id = id.unwrap_or_else(|| slug(&name));
            let id = switchboard_domain::TenantId::parse(&id).map_err(|e| anyhow::anyhow!("--id: {e}"))?;
            if ports.store.get_tenant(&id).await?.is_some() {
                anyhow::bail!("tenant {id} already exists");
            }
            let key = new_api_key();
            let tenant = switchboard_domain::Tenant {
                id: id.clone(),
                name,
                api_key_hash: hash_api_key(&key),
                domain_context: String::new(),
                faq: vec![],
                tier: "standard".into(),
                version: 0,
                auto_close_days: None,
                contact_email: None,
                sla: None,
            };
            ports.store.put_tenant(&tenant).await?;
            println!("created tenant {id}; its API key is shown once:");
            println!("{key}");
            Ok(())
        }
        TenantCommand::RotateKey { id, common } => {
            let config = Config::load(&common.overrides())?;
            let ports = Ports::open(&config, false).await?;
            let id = switchboard_domain::TenantId::parse(&id).map_err(|e| anyhow::anyhow!("--id: {e}"))?;
            let mut tenant = ports.store.get_tenant(&id).await?.with_context(|| format!("no tenant {id}"))?;
            let key = new_api_key();
            tenant.api_key_hash = hash_api_key(&key);
            ports.store.put_tenant(&tenant).await?;
            println!("tenant {id} has a new API key; the old one no longer works. It is shown once:");
            println!("{key}");
            Ok(())
        }
        TenantCommand::Faq { id, action, common } => {
            let config = Config::load(&common.overrides())?;
            let ports = Ports::open(&config, false).await?;
            let id = switchboard_domain::TenantId::parse(&id).map_err(|e| anyhow::anyhow!("--id: {e}"))?;
            switchboard::faq_cli::tenant_faq(ports.store.as_ref(), &id, action).await
        }
        TenantCommand::Set { id, auto_close_days, default_auto_close, contact_email, no_contact_email, sla, default_sla, common } => {
            let auto_close = (auto_close_days.is_some() || default_auto_close).then_some(auto_close_days);
            if auto_close.is_none() && contact_email.is_none() && !no_contact_email && sla.is_none() && !default_sla {
                anyhow::bail!(
                    "nothing to set: give --auto-close-days N, --default-auto-close, --contact-email E, --no-contact-email, --sla JSON or --default-sla"
                );
            }
            let contact = match contact_email {
                Some(e) => Some(Some(switchboard_domain::EmailAddress::parse(&e).map_err(|e| anyhow::anyhow!("--contact-email: {e}"))?)),
                None if no_contact_email => Some(None),
                None => None,
            };
            // Checked before anything is opened: each bad field named.
            let sla = match sla {
                Some(json) => {
                    let input: switchboard_domain::SlaPolicyInput =
                        serde_json::from_str(&json).map_err(|e| anyhow::anyhow!("--sla: not a policy: {e}"))?;
                    Some(Some(input.parse().map_err(|e| anyhow::anyhow!("--sla: {e}"))?))
                }
                None => default_sla.then_some(None),
            };
            let config = Config::load(&common.overrides())?;
            let ports = Ports::open(&config, false).await?;
            let id = switchboard_domain::TenantId::parse(&id).map_err(|e| anyhow::anyhow!("--id: {e}"))?;
            // A conditional update: a concurrent FAQ edit is not overwritten.
            let edited = switchboard_store::edit_tenant(ports.store.as_ref(), &id, |t| {
                if let Some(days) = auto_close {
                    t.set_auto_close_days(days)?;
                }
                if let Some(contact) = &contact {
                    t.contact_email = contact.clone();
                }
                if let Some(policy) = &sla {
                    t.sla = policy.clone();
                }
                Ok::<(), switchboard_domain::FieldError>(())
            })
            .await
            .map_err(|e| match e {
                switchboard_store::StoreError::NotFound(_) => anyhow::anyhow!("no tenant {id}"),
                other => anyhow::Error::new(other),
            })?;
            let (tenant, ()) = edited.map_err(|e| anyhow::anyhow!("--auto-close-days: {}", e.reason))?;
            let mut shown = serde_json::json!({ "id": tenant.id, "auto_close_days": tenant.auto_close_days });
            if let Some(contact) = &tenant.contact_email {
                shown["contact_email"] = serde_json::json!(contact);
            }
            if let Some(policy) = &tenant.sla {
                shown["sla"] = serde_json::to_value(policy)?;
            }
            println!("{shown}");
            Ok(())
        }
        TenantCommand::List { common } => {
            let config = Config::load(&common.overrides())?;
            let ports = Ports::open(&config, false).await?;
            for t in ports.store.list_tenants().await? {
                let line =
                    serde_json::json!({ "id": t.id, "name": t.name, "faq_entries": t.faq.len(), "auto_close_days": t.auto_close_days });
                println!("{line}");
            }
            Ok(())
        }
    }
}

fn operator(command: OperatorCommand) -> anyhow::Result<()> {
    match command {
        OperatorCommand::Create { name, common } => {
            let config = Config::load(&common.overrides())?;
            if config.operator_keys()?.names().contains(&name.as_str()) {
                anyhow::bail!("operator {name} already exists");
            }
            let key = new_api_key();
            let entry = switchboard_gateway::operators::entry_line(&name, &key);
            // Checked like every entry the gateway reads (the name's characters).
            switchboard_gateway::OperatorKeys::parse(&entry)
                .map_err(|_| anyhow::anyhow!("--name must be 1-64 letters, digits, '-', '_' or '.'"))?;
            std::fs::create_dir_all(&config.data_dir)
                .with_context(|| format!("cannot create SWITCHBOARD_DATA_DIR {}", config.data_dir.display()))?;
            let path = config.operator_keys_path();
            let mut file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)
                .with_context(|| format!("cannot write {}", path.display()))?;
            std::io::Write::write_all(&mut file, format!("{entry}\n").as_bytes())?;
            println!("created operator {name}; gateways on this data directory accept the key after a restart.");
            println!("elsewhere, add this entry to SWITCHBOARD_OPERATOR_KEY_HASHES: {entry}");
            println!("the key is shown once:");
            println!("{key}");
            Ok(())
        }
        OperatorCommand::List { common } => {
            let config = Config::load(&common.overrides())?;
            for name in config.operator_keys()?.names() {
                println!("{}", serde_json::json!({ "name": name }));
            }
            Ok(())
        }
    }
}

fn slug(name: &str) -> String {
    let s: String = name.to_lowercase().chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).collect();
    let s = s.split('-').filter(|p| !p.is_empty()).collect::<Vec<_>>().join("-");
    if s.is_empty() { "tenant".into() } else { s.chars().take(64).collect() }
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
