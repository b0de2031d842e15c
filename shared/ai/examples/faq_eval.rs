//! The FAQ evaluation set's figures, and with `-v` every question the
//! drafter gets wrong: `cargo run -p switchboard-ai --example faq_eval -- -v`.

use switchboard_ai::local::CONFIDENCE_THRESHOLD;
use switchboard_ai::local::faq::eval::{FaqSet, Split, report};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let set = FaqSet::repository()?;
    // `--query FAQ TEXT`: the best entries of one FAQ (`hotel.en`) for one text.
    if let Some(at) = std::env::args().position(|a| a == "--query") {
        let args: Vec<String> = std::env::args().skip(at + 1).collect();
        if let [faq, text, ..] = &args[..] {
            let tenant = set.tenants.get(faq).ok_or("no such FAQ")?;
            let language = tenant.faq.first().map(|e| e.language).ok_or("empty FAQ")?;
            for (entry, confidence) in switchboard_ai::local::retrieve_faq(tenant, language, text, 3) {
                println!("{confidence:.3}\t{}\t{}", entry.id, entry.question);
            }
        }
        return Ok(());
    }
    // `--topic TEXT…`: the topic model's best topic of each text.
    if let Some(at) = std::env::args().position(|a| a == "--topic") {
        let model = switchboard_ai::local::faq::topic::model().ok_or("no topic model")?;
        for text in std::env::args().skip(at + 1) {
            let (topic, p) = model.topic(&text);
            // The runners-up too: how peaked the distribution is.
            let mut ranked: Vec<(usize, f32)> = model.distribution(&text).into_iter().enumerate().collect();
            ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
            let rest: Vec<String> = ranked.iter().skip(1).take(3).map(|(t, p)| format!("{}:{p:.3}", model.topics[*t])).collect();
            println!("{p:.3}\t{topic}\t{text}\t{}", rest.join(" "));
        }
        return Ok(());
    }
    // `--explain FAQ TEXT`: every phrasing's score parts for one text.
    if let Some(at) = std::env::args().position(|a| a == "--explain") {
        let args: Vec<String> = std::env::args().skip(at + 1).collect();
        if let [faq, text, ..] = &args[..] {
            let tenant = set.tenants.get(faq).ok_or("no such FAQ")?;
            let language = tenant.faq.first().map(|e| e.language).ok_or("empty FAQ")?;
            println!("{:?}", switchboard_ai::local::faq::text_words(text));
            let mut rows = switchboard_ai::local::faq::explain(tenant, language, text);
            rows.sort_by(|a, b| (b.1 * 0.8 + b.2 * 0.2).total_cmp(&(a.1 * 0.8 + a.2 * 0.2)));
            for (question, lexical, ngram, topic, swapped) in rows.iter().take(4) {
                println!("lex {lexical:.3} ngram {ngram:.3} topic {topic} swapped {swapped}\t{question}");
            }
        }
        return Ok(());
    }
    if std::env::args().any(|a| a == "--dump") {
        // For tuning on dev only: id, split, expected position (-1: none),
        // request, then per phrasing position:lexical:ngram:topic:swapped:tdoc:tentry.
        for case in set.cases.iter().filter(|c| c.split == Split::Dev) {
            let Some(tenant) = set.tenants.get(&case.faq) else { continue };
            let expected = case.expected.as_ref().and_then(|e| tenant.faq.iter().position(|f| &f.id == e)).map_or(-1, |p| p as i64);
            let (rows, request) = switchboard_ai::local::faq::doc_parts(tenant, case.language, &case.text);
            let rows: Vec<String> = rows
                .iter()
                .map(|(p, l, s, t, w, d, e)| format!("{p}:{l:.5}:{s:.5}:{}:{}:{d:.5}:{e:.5}", u8::from(*t), u8::from(*w)))
                .collect();
            println!("{}\t{}\t{expected}\t{}\t{}", case.id, case.split, u8::from(request), rows.join(" "));
        }
        return Ok(());
    }
    print!("{}", report(&set));
    if let Some(at) = std::env::args().position(|a| a == "--words") {
        for text in std::env::args().skip(at + 1) {
            println!("{text}\t{:?}", switchboard_ai::local::faq::text_words(&text));
        }
        return Ok(());
    }
    if std::env::args().any(|a| a == "--parts") {
        // id, split, expected, then entry:lexical:ngram for every entry
        // Never the sealed questions: they are only reported in totals.
        for case in set.cases.iter().filter(|c| c.split != Split::Sealed) {
            let Some(tenant) = set.tenants.get(&case.faq) else { continue };
            let (parts, request) = switchboard_ai::local::faq::score_parts(tenant, case.language, &case.text);
            let expected = case.expected.as_ref().map_or("-".to_owned(), |e| e.to_string());
            let parts: Vec<String> = parts.iter().map(|(id, l, s)| format!("{id}:{l:.4}:{s:.4}")).collect();
            println!("{}\t{}\t{expected}\t{request}\t{}", case.id, case.split, parts.join(" "));
        }
        return Ok(());
    }
    if std::env::args().any(|a| a == "-v") {
        // `--at LEVEL`: list the misses at another level than the drafter's.
        let args: Vec<String> = std::env::args().collect();
        let level = args.iter().position(|a| a == "--at").and_then(|at| args.get(at + 1)).and_then(|l| l.parse::<f32>().ok());
        let level = level.unwrap_or(CONFIDENCE_THRESHOLD);
        // `--fresh`, `--unseen`, `--blind`: that set's misses. The sealed set's are never listed.
        let splits: &[Split] = if args.iter().any(|a| a == "--dev") {
            &[Split::Dev]
        } else if args.iter().any(|a| a == "--fresh") {
            &[Split::Fresh]
        } else if args.iter().any(|a| a == "--unseen") {
            &[Split::Unseen]
        } else if args.iter().any(|a| a == "--blind") {
            &[Split::Blind]
        } else {
            &[Split::Dev, Split::HeldOut]
        };
        for &split in splits {
            for (case, best) in set.scores(Some(split)) {
                let (id, score) = best.map_or((None, 0.0), |(id, s)| (Some(id), s));
                let answered = score >= level;
                let ok = match &case.expected {
                    Some(e) => answered && id.as_ref() == Some(e),
                    None => !answered,
                };
                let near = case.expected.is_none() && score >= 0.8 * level;
                if !ok || near {
                    let right_entry = case.expected.is_some() && id.as_ref() == case.expected.as_ref();
                    println!(
                        "{split}\t{}\t{score:.3}\t{}\t{}",
                        case.id,
                        if right_entry { "right-entry" } else { "other-entry" },
                        case.text
                    );
                }
            }
        }
    }
    Ok(())
}
