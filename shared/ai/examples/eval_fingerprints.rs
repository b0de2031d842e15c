//! Prints the fingerprint file of an evaluation set (JSON lines with
//! `title` and `content`): two lines per inquiry, for its title and content
//! together and for its content alone, so that a copy under another title
//! is caught too. See `switchboard_ai::model::fingerprint`.
//!
//! `cargo run -p switchboard-ai --example eval_fingerprints -- EVAL.jsonl > shared/ai/corpus/eval.fingerprints`

use switchboard_ai::model::fingerprint::Fingerprint;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args().nth(1).ok_or("usage: eval_fingerprints EVAL.jsonl")?;
    let text = std::fs::read_to_string(&path).map_err(|e| format!("cannot read {path}: {e}"))?;
    println!("# Fingerprints of the evaluation set's inquiries (no text): see shared/ai/src/model/fingerprint.rs.");
    for (n, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let v: serde_json::Value = serde_json::from_str(line).map_err(|e| format!("{path}:{}: not JSON: {e}", n + 1))?;
        let title = v["title"].as_str().unwrap_or_default();
        let content = v["content"].as_str().unwrap_or_default();
        println!("{}", Fingerprint::of(&format!("{title}\n{content}")).to_line());
        println!("{}", Fingerprint::of(content).to_line());
    }
    Ok(())
}
