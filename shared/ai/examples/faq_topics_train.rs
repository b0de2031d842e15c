//! Trains the FAQ topic model on `corpus/faq/topics.tsv` and writes the
//! committed artefact: `cargo run -p switchboard-ai --example
//! faq_topics_train [-- OUT]`; with `-- --cv` prints the model's 5-fold
//! cross-validated accuracy on the corpus instead.

use switchboard_ai::local::faq::topic;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    if std::env::args().any(|a| a == "--cv") {
        // `--epochs N`, `--rate R`, `--l2 X`: other settings to compare.
        let args: Vec<String> = std::env::args().collect();
        let arg = |name: &str| args.iter().position(|a| a == name).and_then(|at| args.get(at + 1)).and_then(|v| v.parse::<f32>().ok());
        let mut params = topic::PARAMS;
        params.epochs = arg("--epochs").map_or(params.epochs, |e| e as u32);
        params.learning_rate = arg("--rate").unwrap_or(params.learning_rate);
        params.l2 = arg("--l2").unwrap_or(params.l2);
        let lines = topic::corpus()?;
        println!("{params:?}: 5-fold accuracy {:.3} on {} lines", topic::cross_validate(&lines, &params, 5), lines.len());
        return Ok(());
    }
    let out = std::env::args().nth(1).unwrap_or_else(|| topic::ARTEFACT_PATH.to_owned());
    print!("{}", topic::train_artefact(std::path::Path::new(&out))?);
    Ok(())
}
