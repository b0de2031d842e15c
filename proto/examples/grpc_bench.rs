//! A closed-loop benchmark of `GetInquiryStatus` and `SubmitInquiry` over
//! gRPC against a running gateway (not a test: it prints numbers).
//!
//! ```sh
//! SWITCHBOARD_DEMO_API_KEY=demo-key SWITCHBOARD_API_RATE_PER_KEY=1000000 SWITCHBOARD_API_RATE_PER_IP=1000000 \
//!   target/release/switchboard up --demo --data-dir /tmp/sb-bench &
//! cargo run --release -p switchboard-proto --example grpc_bench -- http://127.0.0.1:50051 demo-key 10 32
//! ```
//!
//! Arguments: gRPC URL, API key, seconds per call, concurrent callers. Each
//! caller sends its next request as soon as the previous answer arrives, on
//! one shared HTTP/2 connection per caller group; the run stops by itself.

use hdrhistogram::Histogram;
use std::time::{Duration, Instant};
use switchboard_proto::v1 as pb;
use switchboard_proto::v1::inquiry_service_client::InquiryServiceClient;
use tonic::Request;
use tonic::transport::Channel;

fn keyed<T>(key: &str, message: T) -> Result<Request<T>, String> {
    let mut request = Request::new(message);
    request.metadata_mut().insert("x-api-key", key.parse().map_err(|_| "the key must be ASCII".to_owned())?);
    Ok(request)
}

#[derive(Clone, Copy)]
enum Call {
    Status,
    Submit,
}

async fn run(channel: Channel, key: String, call: Call, id: String, until: Instant) -> Result<(Histogram<u64>, u64), String> {
    let mut client = InquiryServiceClient::new(channel);
    let mut histogram = Histogram::<u64>::new(3).map_err(|e| e.to_string())?;
    let mut errors = 0;
    let mut n = 0u64;
    while Instant::now() < until {
        n += 1;
        let started = Instant::now();
        let ok = match call {
            Call::Status => client.get_inquiry_status(keyed(&key, pb::GetInquiryStatusRequest { inquiry_id: id.clone() })?).await.is_ok(),
            Call::Submit => {
                let request = pb::SubmitInquiryRequest {
                    content: format!("What time is check-in? (benchmark {n})"),
                    customer_phone: "+12135550149".into(),
                    ..Default::default()
                };
                client.submit_inquiry(keyed(&key, request)?).await.is_ok()
            }
        };
        if ok {
            histogram.record(started.elapsed().as_micros() as u64).map_err(|e| e.to_string())?;
        } else {
            errors += 1;
        }
    }
    Ok((histogram, errors))
}

async fn measure(url: &str, key: &str, call: Call, id: &str, seconds: u64, callers: usize) -> Result<(), String> {
    let name = match call {
        Call::Status => "GetInquiryStatus",
        Call::Submit => "SubmitInquiry",
    };
    let started = Instant::now();
    let until = started + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for i in 0..callers {
        // Eight callers share a connection, as a pooled client would.
        let channel = if i % 8 == 0 || tasks.is_empty() {
            Channel::from_shared(url.to_owned()).map_err(|e| e.to_string())?.connect().await.map_err(|e| e.to_string())?
        } else {
            Channel::from_shared(url.to_owned()).map_err(|e| e.to_string())?.connect_lazy()
        };
        tasks.push(tokio::spawn(run(channel, key.to_owned(), call, id.to_owned(), until)));
    }
    let mut total = Histogram::<u64>::new(3).map_err(|e| e.to_string())?;
    let mut errors = 0;
    for task in tasks {
        let (h, e) = task.await.map_err(|e| e.to_string())??;
        total.add(h).map_err(|e| e.to_string())?;
        errors += e;
    }
    let elapsed = started.elapsed().as_secs_f64();
    println!(
        "{name:<17} {callers:>3} callers  {:>8.0} req/s  p50 {:>6.2} ms  p99 {:>6.2} ms  max {:>7.2} ms  ({} ok, {errors} errors, {seconds} s)",
        total.len() as f64 / elapsed,
        total.value_at_quantile(0.5) as f64 / 1000.0,
        total.value_at_quantile(0.99) as f64 / 1000.0,
        total.max() as f64 / 1000.0,
        total.len(),
    );
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let url = args.first().cloned().unwrap_or_else(|| "http://127.0.0.1:50051".into());
    let key = args.get(1).cloned().unwrap_or_else(|| "demo-key".into());
    let seconds: u64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(10);
    let callers: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(32);

    let channel = Channel::from_shared(url.clone()).map_err(|e| e.to_string())?.connect().await.map_err(|e| e.to_string())?;
    let mut client = InquiryServiceClient::new(channel);
    let request =
        pb::SubmitInquiryRequest { content: "What time is check-in?".into(), customer_phone: "+12135550149".into(), ..Default::default() };
    let id = client.submit_inquiry(keyed(&key, request)?).await.map_err(|e| e.to_string())?.into_inner().inquiry_id;

    measure(&url, &key, Call::Status, &id, seconds, callers).await?;
    measure(&url, &key, Call::Submit, &id, seconds, callers).await?;
    Ok(())
}
