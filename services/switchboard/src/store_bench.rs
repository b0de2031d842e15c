//! `switchboard bench store`: does the embedded store stay as fast when
//! it holds a million inquiries as when it is nearly empty, and how many
//! bytes does each inquiry cost on disk before and after retention?
//!
//! It opens the embedded backends on a data directory exactly as `up`
//! does ([`Ports::embedded`]), loads a small baseline of inquiries and
//! measures the API's reads (one caller, on the API's read pool), then
//! bulk-loads up to `--inquiries` through the same store API the services
//! use (many writes in flight, so group commit batches them), measures
//! the same reads again, and finally runs the retention pass twice: at the
//! real time, then as it would run once every operational row's age has
//! passed. The reads, each timed into an HDR histogram:
//!
//! - **status**: one inquiry by id (what `GetInquiryStatus` reads), ids drawn
//!   uniformly from everything loaded;
//! - **list, first page**: a tenant's newest `--page-size` inquiries (`ListInquiries`);
//! - **list, deep page**: the page `--deep-page` pages down that listing,
//!   read with the cursor the pages before it handed out (a key seek, not an OFFSET);
//! - **escalation queue**: a tenant's escalated inquiries, earliest deadline
//!   first (`ListInquiries?sort=sla_due`), and every tenant's (the operators').
//!
//! The loaded inquiries look like the pipeline's: spread over the last
//! `--days` days across `--tenants` tenants, each with its received,
//! classified and answered (or escalated, one in ten, with an SLA clock)
//! events, an AI response record for answered ones, an idempotency key on
//! half of them and one SMS in the outbox.

use crate::config::Config;
use crate::startup::Ports;
use anyhow::Context;
use hdrhistogram::Histogram;
use jiff::{SignedDuration, Timestamp};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};
use switchboard_channels::{SmsMessage, SmsSender};
use switchboard_domain::fixtures::{InquiryBuilder, classification};
use switchboard_domain::{
    Escalation, Inquiry, InquiryId, InquiryStatus, Intent, Language, PhoneNumber, Sla, SlaPolicy, Tenant, TenantId, TimelineEvent, Urgency,
};
use switchboard_store::{AiResponseRecord, PageRequest, Store};

/// `switchboard bench store`.
#[derive(Debug, Clone, clap::Args)]
pub struct StoreBenchArgs {
    /// Inquiries in the store when the second measurement is taken.
    #[arg(long, default_value_t = 100_000)]
    pub inquiries: u64,
    /// Inquiries loaded before the first ("empty store") measurement:
    /// enough for every tenant's deep page to exist (tenants × deep page ×
    /// page size, 8,000 by default; 10,000 is the store the issue started from).
    #[arg(long, default_value_t = 10_000)]
    pub baseline: u64,
    /// The data directory (kept afterwards: `switchboard up --data-dir`
    /// and `loadtest/bench.sh` can run on it). Loading adds to what it holds.
    #[arg(long)]
    pub data_dir: PathBuf,
    /// Tenants the inquiries are spread over.
    #[arg(long, default_value_t = 8)]
    pub tenants: u32,
    /// Days the inquiries' creation times span, ending now.
    #[arg(long, default_value_t = 60)]
    pub days: u32,
    /// Timed reads of each kind per measurement.
    #[arg(long, default_value_t = 5_000)]
    pub samples: u32,
    /// Inquiries a listing page holds.
    #[arg(long, default_value_t = 20)]
    pub page_size: u32,
    /// Which page down a tenant's listing is the deep page.
    #[arg(long, default_value_t = 50)]
    pub deep_page: u32,
    /// Inquiries being written at once while loading.
    #[arg(long, default_value_t = 256)]
    pub concurrency: usize,
}

/// The reads' latencies at one store size, in microseconds.
#[derive(Debug, Clone)]
struct Figures {
    inquiries: u64,
    status: Histogram<u64>,
    list_first: Histogram<u64>,
    list_deep: Histogram<u64>,
    queue_tenant: Histogram<u64>,
    queue_all: Histogram<u64>,
}

fn histogram() -> anyhow::Result<Histogram<u64>> {
    Histogram::new_with_bounds(1, 60_000_000, 3).context("histogram bounds")
}

fn tenant_id(n: u32) -> anyhow::Result<TenantId> {
    TenantId::parse(&format!("bench-{n:02}")).map_err(|e| anyhow::anyhow!("tenant id: {e}"))
}

const CONTENTS: [&str; 6] = [
    "조식은 몇 시에 제공되나요? 아이 둘과 함께 가는데 유아 의자도 있을까요?",
    "Hi, we arrive late on Friday around 11pm. Is the front desk open all night, and can we still check in?",
    "The air conditioning in room 304 has been broken since yesterday and nobody came. This is unacceptable, call me now!",
    "예약한 투어 날짜를 다음 주 토요일로 바꾸고 싶습니다. 예약번호는 HT-20481123 입니다.",
    "Could I get a refund for the second night? We had to leave early because of a family emergency.",
    "Do you have parking on site and how much is it per night? We are driving from Seoul.",
];

/// Inquiry `n` of `total`, created `days` ago at the earliest, as the
/// pipeline leaves it: its record at every step and the events between.
fn inquiry(n: u64, total: u64, tenants: u32, days: u32, now: Timestamp) -> anyhow::Result<Inquiry> {
    let span_ms = i64::from(days) * 86_400_000;
    // Evenly spread, newest last; the id's random part is the number itself.
    let at = now - SignedDuration::from_millis(span_ms - (span_ms as f64 * (n as f64 + 0.5) / total.max(1) as f64) as i64);
    let mut random = [0u8; 10];
    random[..8].copy_from_slice(&n.to_be_bytes());
    let phone = PhoneNumber::parse(&format!("+8210{:08}", n % 100_000_000)).ok();
    let mut i = InquiryBuilder::new()
        .tenant(tenant_id((n % u64::from(tenants)) as u32)?)
        .created_at(at, 0)
        .phone(phone)
        .content(CONTENTS[(n % CONTENTS.len() as u64) as usize])
        .build();
    i.id = InquiryId::new(at, random);
    Ok(i)
}

/// Loads inquiries `from..to` (of `total` for their times).
async fn load(
    store: &Arc<dyn Store>,
    sms: &Arc<dyn SmsSender>,
    args: &StoreBenchArgs,
    from: u64,
    to: u64,
    now: Timestamp,
) -> anyhow::Result<()> {
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    let mut done = 0u64;
    for n in from..to {
        while tasks.len() >= args.concurrency.max(1) {
            if let Some(joined) = tasks.join_next().await {
                joined??;
                done += 1;
            }
        }
        let (store, sms) = (store.clone(), sms.clone());
        let i = inquiry(n, args.inquiries.max(to), args.tenants.max(1), args.days.max(1), now)?;
        tasks.spawn(async move { one_inquiry(store.as_ref(), sms.as_ref(), i, n).await });
        if (n + 1 - from).is_multiple_of(100_000) {
            let rate = (n + 1 - from) as f64 / started.elapsed().as_secs_f64();
            eprintln!("  loaded {} inquiries ({rate:.0}/s)", n + 1);
        }
    }
    while let Some(joined) = tasks.join_next().await {
        joined??;
        done += 1;
    }
    let seconds = started.elapsed().as_secs_f64();
    eprintln!("  loaded {done} inquiries in {seconds:.0} s ({:.0}/s)", done as f64 / seconds);
    Ok(())
}

async fn one_inquiry(store: &dyn Store, sms: &dyn SmsSender, mut i: Inquiry, n: u64) -> anyhow::Result<()> {
    let at = i.created_at;
    let event = |kind: &str, actor: &str, at: Timestamp, details: serde_json::Value| TimelineEvent::once(kind, actor, at, details);
    let key = n.is_multiple_of(2).then(|| format!("bench-{n}"));
    let received = event("status.received", "intake", at, serde_json::json!({ "channel": "api" }));
    store.create_inquiry(&i, key.as_deref(), &received, &[]).await?;

    let escalated = n % 10 == 3;
    let language = if n.is_multiple_of(2) { Language::Ko } else { Language::En };
    let intent = if escalated { Intent::Complaint } else { Intent::GeneralQuestion };
    let at = at + SignedDuration::from_millis(180);
    let version = i.version;
    i.classification = Some(switchboard_domain::Classification {
        urgency: if escalated { Urgency::High } else { Urgency::Low },
        key_phrases: vec!["breakfast".into(), "check-in".into()],
        ..classification(language, intent)
    });
    i.language = Some(language);
    i.status = InquiryStatus::Classified;
    i.updated_at = at;
    let classified = event("status.classified", "classifier", at, serde_json::json!({ "intent": intent, "language": language }));
    i = store.update_inquiry(&i, version, Some(&classified), &[]).await?;

    let at = at + SignedDuration::from_millis(900);
    let version = i.version;
    i.updated_at = at;
    if escalated {
        i.status = InquiryStatus::Escalated;
        i.escalation = Some(Escalation { reason: "angry complaint".into(), customer_message: Escalation::holding_message(language) });
        i.sla = Some(Sla::start(&SlaPolicy::default(), "sla".into(), Urgency::High, at));
        let e = event("status.escalated", "responder", at, serde_json::json!({ "reason": "angry complaint" }));
        store.update_inquiry(&i, version, Some(&e), &[]).await?;
    } else {
        i.status = InquiryStatus::Answered;
        i.answer = Some("Breakfast is served every day from 7 to 10 am in the lobby restaurant; high chairs are available.".into());
        let e = event("status.answered", "responder", at, serde_json::json!({ "quality_score": 0.82, "model": "local" }));
        store.update_inquiry(&i, version, Some(&e), &[]).await?;
        let record = AiResponseRecord {
            inquiry_id: i.id,
            at,
            model: "local-faq".into(),
            prompt_tokens: 412,
            completion_tokens: 58,
            latency_ms: 4,
            quality_score: 0.82,
            fallback_used: false,
        };
        store.put_ai_response(&record).await?;
    }
    if let Some(to) = i.customer.phone.clone() {
        let body = format!("[Hanbit Stay] Your inquiry {} was answered. Reply to this message to continue.", i.id);
        sms.send_sms(&SmsMessage { id: format!("bench-notify-{}", i.id), to, body, inquiry_id: Some(i.id) }).await?;
    }
    Ok(())
}

fn micros(since: Instant) -> u64 {
    since.elapsed().as_micros().max(1) as u64
}

/// Times every kind of read `samples` times over the `loaded` inquiries.
async fn measure(store: &Arc<dyn Store>, args: &StoreBenchArgs, loaded: u64, now: Timestamp) -> anyhow::Result<Figures> {
    let (tenants, page_size) = (args.tenants.max(1), args.page_size.clamp(1, PageRequest::MAX_SIZE));
    let mut f = Figures {
        inquiries: loaded,
        status: histogram()?,
        list_first: histogram()?,
        list_deep: histogram()?,
        queue_tenant: histogram()?,
        queue_all: histogram()?,
    };
    // The cursor of each tenant's deep page, from paging down to it (untimed).
    let mut deep = Vec::new();
    for t in 0..tenants {
        let tenant = tenant_id(t)?;
        let mut after = None;
        for _ in 1..args.deep_page.max(1) {
            let page = store.list_by_tenant(&tenant, &PageRequest { limit: page_size, after: after.clone() }).await?;
            match page.next {
                Some(next) => after = Some(next),
                None => anyhow::bail!("tenant {tenant} has fewer than {} pages: load more (--baseline)", args.deep_page),
            }
        }
        deep.push((tenant, after));
    }
    let mut rng = 0x9e37_79b9_7f4a_7c15u64;
    for s in 0..args.samples {
        // xorshift: a uniform, reproducible draw without another dependency.
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        let id = inquiry(rng % loaded, args.inquiries.max(loaded), tenants, args.days.max(1), now)?.id;
        let t = Instant::now();
        store.get_inquiry(id).await?.with_context(|| format!("inquiry {id} is missing"))?;
        f.status.record(micros(t))?;

        let (tenant, after) = &deep[(s % tenants) as usize];
        let t = Instant::now();
        let page = store.list_by_tenant(tenant, &PageRequest::first(page_size)).await?;
        f.list_first.record(micros(t))?;
        anyhow::ensure!(page.items.len() == page_size as usize, "a short first page");

        let t = Instant::now();
        let page = store.list_by_tenant(tenant, &PageRequest { limit: page_size, after: after.clone() }).await?;
        f.list_deep.record(micros(t))?;
        anyhow::ensure!(page.items.len() == page_size as usize, "a short deep page");

        let t = Instant::now();
        store.sla_queue(Some(tenant), &PageRequest::first(page_size)).await?;
        f.queue_tenant.record(micros(t))?;

        let t = Instant::now();
        store.sla_queue(None, &PageRequest::first(page_size)).await?;
        f.queue_all.record(micros(t))?;
    }
    Ok(f)
}

/// The database file and its WAL, after a checkpoint that empties the WAL.
fn file_bytes(path: &Path) -> anyhow::Result<u64> {
    let conn = switchboard_sqlite::rusqlite::Connection::open(path)?;
    conn.busy_timeout(Duration::from_secs(30))?;
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
    let size = |p: PathBuf| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
    Ok(size(path.to_owned()) + size(PathBuf::from(format!("{}-wal", path.display()))))
}

fn size_line(label: &str, bytes: u64, inquiries: u64, free_pages: u64) {
    println!(
        "{label:<44} {:>10.1} MB  {:>7.0} bytes/inquiry  ({free_pages} free pages)",
        bytes as f64 / 1e6,
        bytes as f64 / inquiries.max(1) as f64
    );
}

fn print_figures(before: &Figures, after: &Figures) {
    println!(
        "\nread (µs, one caller, API read pool)     {:>12} inquiries     {:>12} inquiries     change",
        before.inquiries, after.inquiries
    );
    let rows: [(&str, &Histogram<u64>, &Histogram<u64>); 5] = [
        ("status (get by id)", &before.status, &after.status),
        ("list, first page", &before.list_first, &after.list_first),
        ("list, deep page (cursor)", &before.list_deep, &after.list_deep),
        ("escalation queue, one tenant", &before.queue_tenant, &after.queue_tenant),
        ("escalation queue, all tenants", &before.queue_all, &after.queue_all),
    ];
    for (name, b, a) in rows {
        for q in [0.5, 0.99] {
            let (vb, va) = (b.value_at_quantile(q), a.value_at_quantile(q));
            let change = (va as f64 - vb as f64) / vb.max(1) as f64 * 100.0;
            println!("{:<40} p{:<3} {:>10}  {:>21}  {:>+8.1} %", name, (q * 100.0) as u32, vb, va, change);
        }
    }
}

/// Runs the benchmark.
pub async fn run(args: StoreBenchArgs) -> anyhow::Result<()> {
    anyhow::ensure!(args.baseline < args.inquiries, "--baseline must be less than --inquiries");
    let config = Config { data_dir: args.data_dir.clone(), ..Config::default() };
    let ports = Ports::embedded(&config).await?;
    let (store, api_store, sms) = (ports.store.clone(), ports.api_store.clone(), ports.sms.clone());
    let retention = ports.retention.clone().context("embedded ports have a retention task")?;
    let database = ports.database.clone().context("embedded ports have a database")?;
    let path = config.database_path();
    for t in 0..args.tenants.max(1) {
        let id = tenant_id(t)?;
        let tenant = Tenant {
            id: id.clone(),
            name: format!("Bench tenant {t}"),
            api_key_hash: switchboard_domain::tenant::hash_api_key(&format!("bench-key-{t}")),
            domain_context: String::new(),
            faq: vec![],
            tier: "standard".into(),
            version: 0,
            auto_close_days: None,
            contact_email: None,
            sla: None,
        };
        store.put_tenant(&tenant).await?;
    }
    let now = Timestamp::now();
    println!("switchboard bench store: {} inquiries into {}", args.inquiries, path.display());
    load(&store, &sms, &args, 0, args.baseline, now).await?;
    let small = measure(&api_store, &args, args.baseline, now).await?;
    size_line(&format!("file after {} inquiries", args.baseline), file_bytes(&path)?, args.baseline, database.page_counts().await?.free);
    load(&store, &sms, &args, args.baseline, args.inquiries, now).await?;
    let large = measure(&api_store, &args, args.inquiries, now).await?;
    print_figures(&small, &large);
    println!();
    size_line(&format!("file after {} inquiries", args.inquiries), file_bytes(&path)?, args.inquiries, database.page_counts().await?.free);
    for (label, at) in [
        ("after retention now", Timestamp::now()),
        (
            "after retention once every age has passed",
            Timestamp::now() + SignedDuration::from_hours(24 * (config.retention_sent_days as i64 + 1)),
        ),
    ] {
        let started = Instant::now();
        let report = retention.pass(at).await?;
        println!(
            "retention pass: {} expired items, {} dead letters, {} sent messages, {} pages freed, {} writes, {:.1} s",
            report.expired_items,
            report.dead_letters,
            report.sent,
            report.pages_freed,
            report.writes,
            started.elapsed().as_secs_f64()
        );
        size_line(label, file_bytes(&path)?, args.inquiries, database.page_counts().await?.free);
    }
    Ok(())
}
