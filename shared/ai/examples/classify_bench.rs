//! Throughput of the local classifier on one core (not a test: it prints
//! numbers): every corpus line classified in turn, round after round, on
//! one thread, for the given seconds.
//!
//! ```sh
//! cargo run --release -p switchboard-ai --example classify_bench -- 10
//! ```
//!
//! The target is 5,000 inquiries/s on one core of the development machine.
//! Measured on 2026-12-04 there (2 vCPUs shared with other builds), with the
//! model of the 3,200-line corpus: 8,295 inquiries/s, 120.6 µs each (mean
//! content 100 characters); the first call, which decodes the model and
//! compiles the patterns, 79 ms.

use std::time::{Duration, Instant};
use switchboard_ai::local::LocalClassifier;
use switchboard_ai::model::{corpus, train};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let seconds: u64 = std::env::args().nth(1).map(|s| s.parse()).transpose()?.unwrap_or(10);
    let requests: Vec<_> = corpus::load()?.iter().map(train::request_of).collect();
    if requests.is_empty() {
        return Err("the corpus is empty".into());
    }
    let classifier = LocalClassifier::new();
    // The first call loads the model and compiles the rules' patterns.
    let warm = Instant::now();
    std::hint::black_box(classifier.classify_now(&requests[0]));
    println!("first classification (model load, patterns): {:.1} ms", warm.elapsed().as_secs_f64() * 1e3);
    let (budget, started) = (Duration::from_secs(seconds), Instant::now());
    let mut done = 0u64;
    let mut chars = 0u64;
    while started.elapsed() < budget {
        for request in &requests {
            chars += request.content.chars().count() as u64;
            std::hint::black_box(classifier.classify_now(request));
        }
        done += requests.len() as u64;
    }
    let elapsed = started.elapsed().as_secs_f64();
    println!(
        "{done} inquiries in {elapsed:.2} s on one thread: {:.0} inquiries/s, {:.1} µs each (mean content {} characters)",
        done as f64 / elapsed,
        elapsed * 1e6 / done as f64,
        chars / done.max(1)
    );
    Ok(())
}
