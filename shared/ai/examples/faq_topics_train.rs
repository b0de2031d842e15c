//! Trains the FAQ topic model on `corpus/faq/topics.tsv` and writes the
//! committed artefact: `cargo run --release -p switchboard-ai --example
//! faq_topics_train [-- OUT]`.

use switchboard_ai::local::faq::topic;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = std::env::args().nth(1).unwrap_or_else(|| topic::ARTEFACT_PATH.to_owned());
    print!("{}", topic::train_artefact(std::path::Path::new(&out))?);
    Ok(())
}
