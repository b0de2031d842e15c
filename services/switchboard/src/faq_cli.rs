//! `switchboard tenant faq …` (a tenant's FAQ from the command line, with
//! the same checks and conditional writes as the API) and
//! `switchboard faq eval` (the FAQ evaluation set's figures).

use anyhow::Context;
use clap::Subcommand;
use std::path::PathBuf;
use switchboard_ai::local::faq::eval::{FaqSet, report};
use switchboard_domain::faq::{FaqEntryInput, add_entry, parse_variant};
use switchboard_domain::{FaqEntry, FaqEntryId, Tenant, TenantId};
use switchboard_store::{TenantStore, edit_tenant};

/// What to do with a tenant's FAQ.
#[derive(Debug, Subcommand)]
pub enum FaqAction {
    /// Print every entry, one JSON object a line.
    List,
    /// Add an entry; prints it with its id.
    Add {
        /// ko or en.
        #[arg(long)]
        language: String,
        #[arg(long)]
        question: String,
        #[arg(long)]
        answer: String,
        /// Another way customers ask it (repeatable).
        #[arg(long = "variant")]
        variants: Vec<String>,
    },
    /// Change an entry's question, answer or variants.
    Edit {
        /// The entry's id (faq-…).
        id: String,
        #[arg(long)]
        question: Option<String>,
        #[arg(long)]
        answer: Option<String>,
        /// Replaces the variants (repeatable).
        #[arg(long = "variant")]
        variants: Option<Vec<String>>,
    },
    /// Delete an entry.
    Delete {
        /// The entry's id.
        id: String,
    },
    /// Add a way customers ask an entry's question.
    AddVariant {
        /// The entry's id.
        id: String,
        /// The phrasing.
        text: String,
    },
    /// Remove an entry's variant by its position (0-based, as `list` shows them).
    RemoveVariant {
        /// The entry's id.
        id: String,
        /// The variant's position.
        index: usize,
    },
}

/// `switchboard faq …`.
#[derive(Debug, Subcommand)]
pub enum FaqCommand {
    /// Dev and held-out figures of the local FAQ retrieval on the FAQ
    /// evaluation set (default: the repository's shared/ai/corpus/faq).
    Eval {
        /// The set's directory.
        dir: Option<PathBuf>,
    },
}

/// Runs `switchboard faq …`.
pub fn faq(command: FaqCommand) -> anyhow::Result<()> {
    match command {
        FaqCommand::Eval { dir } => {
            let set = match dir {
                Some(dir) => FaqSet::load(&dir),
                None => FaqSet::repository(),
            }
            .context("reading the FAQ evaluation set")?;
            print!("{}", report(&set));
            Ok(())
        }
    }
}

fn line(entry: &FaqEntry) -> String {
    serde_json::json!({
        "id": entry.id, "language": entry.language.as_str(), "question": entry.question,
        "variants": entry.variants, "answer": entry.answer,
    })
    .to_string()
}

fn entry_mut<'a>(tenant: &'a mut Tenant, id: &str) -> anyhow::Result<&'a mut FaqEntry> {
    FaqEntryId::parse(id).ok().and_then(|parsed| tenant.faq_entry_mut(&parsed)).with_context(|| format!("no FAQ entry {id}"))
}

/// One change to a tenant's FAQ; the entry it returns is printed.
type Change = Box<dyn FnMut(&mut Tenant) -> anyhow::Result<Option<FaqEntry>> + Send>;

/// Runs `switchboard tenant faq --id TENANT <action>` against `store`.
pub async fn tenant_faq(store: &dyn TenantStore, id: &TenantId, action: FaqAction) -> anyhow::Result<()> {
    let edit = |change: Change| async move {
        let mut change = change;
        let (_, out) = edit_tenant(store, id, |t| change(t)).await??;
        if let Some(entry) = out {
            println!("{}", line(&entry));
        }
        anyhow::Ok(())
    };
    match action {
        FaqAction::List => {
            let tenant = store.get_tenant(id).await?.with_context(|| format!("no tenant {id}"))?;
            for entry in &tenant.faq {
                println!("{}", line(entry));
            }
            Ok(())
        }
        FaqAction::Add { language, question, answer, variants } => {
            let input =
                FaqEntryInput { language: Some(language), question: Some(question), answer: Some(answer), variants: Some(variants) };
            let entry = input.parse_new()?;
            edit(Box::new(move |t| {
                add_entry(&mut t.faq, entry.clone())?;
                Ok(Some(entry.clone()))
            }))
            .await
        }
        FaqAction::Edit { id: entry_id, question, answer, variants } => {
            let change = FaqEntryInput { language: None, question, answer, variants }.parse_change()?;
            edit(Box::new(move |t| {
                let entry = entry_mut(t, &entry_id)?;
                entry.apply(change.clone());
                Ok(Some(entry.clone()))
            }))
            .await
        }
        FaqAction::Delete { id: entry_id } => {
            edit(Box::new(move |t| {
                let before = t.faq.len();
                t.faq.retain(|e| e.id.as_str() != entry_id);
                anyhow::ensure!(t.faq.len() < before, "no FAQ entry {entry_id}");
                Ok(None)
            }))
            .await
        }
        FaqAction::AddVariant { id: entry_id, text } => {
            let text = parse_variant(&text)?;
            edit(Box::new(move |t| {
                let entry = entry_mut(t, &entry_id)?;
                entry.push_variant(&text)?;
                Ok(Some(entry.clone()))
            }))
            .await
        }
        FaqAction::RemoveVariant { id: entry_id, index } => {
            edit(Box::new(move |t| {
                let entry = entry_mut(t, &entry_id)?;
                anyhow::ensure!(entry.remove_variant(index), "FAQ entry {entry_id} has no variant {index}");
                Ok(Some(entry.clone()))
            }))
            .await
        }
    }
}
