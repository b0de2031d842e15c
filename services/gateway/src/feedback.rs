//! What an operator teaches while resolving an inquiry: the right intent
//! or urgency (the classifier remembers it for the tenant's next similar
//! inquiries), and the FAQ entry that answers it (linked: the inquiry's
//! question becomes a variant of it; saved: a new entry), so the next
//! customer asking the same is answered without a person.
//!
//! Every effect is repeatable, so a resolve retried after a partial
//! failure ends in the same state: a known variant is not added twice, a
//! saved entry's id comes from the inquiry (a retry finds it), and the
//! correction is stored under the inquiry (a retry replaces it with the same record).

use crate::error::ApiError;
use crate::state::Gateway;
use switchboard_domain::correction::{memory_text, question_of, saved_faq_entry_id};
use switchboard_domain::faq::{MAX_ANSWER_CHARS, MAX_ENTRIES, MAX_QUESTION_CHARS, MAX_VARIANTS, add_entry};
use switchboard_domain::field_error::FieldError;
use switchboard_domain::{Correction, FaqEntry, FaqEntryId, Inquiry, Intent, RiskLevel, Tenant, Urgency, ValidationErrors};
use switchboard_store::edit_tenant;
use tracing::info;

/// The feedback fields of a resolve request, as the client sent them
/// (REST body, gRPC message). Field names are the wire names.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FeedbackInput {
    /// `corrected_intent`: the intent the inquiry really had.
    pub corrected_intent: Option<String>,
    /// `corrected_urgency`: the urgency it really had.
    pub corrected_urgency: Option<String>,
    /// `faq_entry_id`: an entry of the tenant's FAQ that answers it.
    pub faq_entry_id: Option<String>,
    /// `save_as_faq`: make the answer a new FAQ entry.
    pub save_as_faq: bool,
    /// `faq_answer`: the new entry's answer, when not the operator's answer.
    pub faq_answer: Option<String>,
    /// `suggestion_used`: the reply suggestion the answer started from.
    pub suggestion_used: Option<String>,
}

/// What to do with the tenant's FAQ.
#[derive(Debug, Clone, PartialEq)]
enum FaqAction {
    /// Add the inquiry's question to this entry.
    Link(FaqEntryId),
    /// Create an entry; `None`: the operator's answer is its answer.
    Save(Option<String>),
}

impl FaqAction {
    /// The request field that asked for this edit, named in its errors.
    fn field(&self) -> &'static str {
        match self {
            FaqAction::Link(_) => "faq_entry_id",
            FaqAction::Save(_) => "save_as_faq",
        }
    }
}

/// Feedback that passed validation.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Feedback {
    intent: Option<Intent>,
    urgency: Option<Urgency>,
    faq: Option<FaqAction>,
    /// Recorded with the resolution, nothing to apply.
    pub suggestion_used: Option<RiskLevel>,
}

/// A field given as an empty string counts as absent (gRPC cannot tell them apart).
fn given(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

impl FeedbackInput {
    /// Checks the fields on their own, naming every wrong one.
    pub fn parse(&self) -> Result<Feedback, ApiError> {
        let mut errors = Vec::new();
        let intent = given(&self.corrected_intent).and_then(|raw| {
            let parsed = Intent::parse(raw);
            if parsed.is_none() {
                let names: Vec<&str> = Intent::ALL.iter().map(|i| i.as_str()).collect();
                errors.push(FieldError::new("corrected_intent", format!("must be one of {}", names.join(", "))));
            }
            parsed
        });
        let urgency = given(&self.corrected_urgency).and_then(|raw| {
            let parsed = Urgency::parse(raw);
            if parsed.is_none() {
                errors.push(FieldError::new("corrected_urgency", "must be one of low, medium, high"));
            }
            parsed
        });
        let link = given(&self.faq_entry_id).and_then(|raw| match FaqEntryId::parse(raw) {
            Ok(id) => Some(id),
            Err(e) => {
                errors.push(FieldError::new("faq_entry_id", e.to_string()));
                None
            }
        });
        let suggestion_used = given(&self.suggestion_used).and_then(|raw| {
            let parsed = RiskLevel::parse(raw);
            if parsed.is_none() {
                let names: Vec<&str> = RiskLevel::ALL.iter().map(|l| l.as_str()).collect();
                errors.push(FieldError::new("suggestion_used", format!("must be one of {}", names.join(", "))));
            }
            parsed
        });
        let answer = given(&self.faq_answer);
        if answer.is_some_and(|a| a.chars().count() > MAX_ANSWER_CHARS) {
            errors.push(FieldError::new("faq_answer", format!("must be at most {MAX_ANSWER_CHARS} characters (an FAQ answer)")));
        }
        if answer.is_some() && !self.save_as_faq {
            errors.push(FieldError::new("faq_answer", "is only used with save_as_faq"));
        }
        if self.save_as_faq && given(&self.faq_entry_id).is_some() {
            errors.push(FieldError::new("save_as_faq", "cannot be combined with faq_entry_id: link an entry or save a new one"));
        }
        if !errors.is_empty() {
            return Err(ApiError::Invalid(ValidationErrors(errors)));
        }
        let faq = match (link, self.save_as_faq) {
            (Some(id), _) => Some(FaqAction::Link(id)),
            (None, true) => Some(FaqAction::Save(answer.map(str::to_owned))),
            (None, false) => None,
        };
        Ok(Feedback { intent, urgency, faq, suggestion_used })
    }
}

impl Feedback {
    /// Whether there is anything to learn.
    pub fn is_empty(&self) -> bool {
        Self { suggestion_used: None, ..self.clone() } == Self::default()
    }

    /// Checks the feedback against the inquiry and its tenant before
    /// anything changes: a linked entry must exist in the inquiry's
    /// language, a correction needs the classifier's verdict to correct,
    /// and the FAQ edit must fit the FAQ's limits (the question's length,
    /// the entry's variants, the FAQ's entries, the answer's length) so
    /// that a resolve is not half done when the edit is refused.
    pub async fn check(&self, gateway: &Gateway, inquiry: &Inquiry, human_answer: &str) -> Result<(), ApiError> {
        if (self.intent.is_some() || self.urgency.is_some()) && inquiry.classification.is_none() {
            let field = if self.intent.is_some() { "corrected_intent" } else { "corrected_urgency" };
            return Err(ApiError::field(field, "the inquiry was never classified: there is no verdict to correct"));
        }
        let Some(action) = &self.faq else { return Ok(()) };
        let field = action.field();
        let question = question_of(inquiry);
        let length = question.chars().count();
        if length > MAX_QUESTION_CHARS {
            return Err(ApiError::field(
                field,
                &format!(
                    "the inquiry's text is {length} characters and an FAQ question at most {MAX_QUESTION_CHARS}: add a shorter phrasing through the FAQ API"
                ),
            ));
        }
        let tenant = gateway.tenants.get_tenant(&inquiry.tenant_id).await?;
        let faq = tenant.as_ref().map_or(&[][..], |t| t.faq.as_slice());
        match action {
            FaqAction::Link(id) => match faq.iter().find(|e| &e.id == id) {
                None => Err(unknown_entry(id)),
                Some(entry) if entry.language != inquiry.reply_language() => Err(ApiError::field(
                    field,
                    &format!("is a '{}' entry; the inquiry is in '{}'", entry.language.as_str(), inquiry.reply_language().as_str()),
                )),
                Some(entry) if !entry.has_phrasing(&question) && entry.variants.len() >= MAX_VARIANTS => {
                    Err(ApiError::field(field, &format!("the entry already has {MAX_VARIANTS} variants, the most it keeps")))
                }
                Some(_) => Ok(()),
            },
            FaqAction::Save(answer) => {
                let id = saved_faq_entry_id(inquiry.id);
                if faq.iter().any(|e| e.id == id) {
                    return Ok(()); // saved by an earlier try of this resolve
                }
                if faq.len() >= MAX_ENTRIES {
                    return Err(ApiError::field(field, &format!("the tenant's FAQ already has {MAX_ENTRIES} entries, the most it holds")));
                }
                if answer.is_none() && human_answer.chars().count() > MAX_ANSWER_CHARS {
                    return Err(ApiError::field(
                        "faq_answer",
                        &format!("is required when human_answer is longer than an FAQ answer may be ({MAX_ANSWER_CHARS} characters)"),
                    ));
                }
                Ok(())
            }
        }
    }

    /// Applies the feedback on the resolved inquiry: the FAQ edit, then the
    /// correction (which names the entry). Repeatable (see the module doc).
    pub async fn apply(&self, gateway: &Gateway, inquiry: &Inquiry, human_answer: &str) -> Result<(), ApiError> {
        if self.is_empty() {
            return Ok(());
        }
        let faq_entry_id = match &self.faq {
            Some(action) => Some(edit_faq(gateway, inquiry, action, human_answer).await?),
            None => None,
        };
        let Some(verdict) = inquiry.classification.as_ref() else {
            // Checked before resolving: only FAQ feedback gets here, and it is applied.
            return Ok(());
        };
        let correction = Correction {
            tenant_id: inquiry.tenant_id.clone(),
            inquiry_id: inquiry.id,
            // The resolution's time, the same on a retry.
            at: inquiry.updated_at,
            text: memory_text(inquiry),
            language: inquiry.reply_language(),
            original_intent: verdict.intent,
            original_urgency: verdict.urgency,
            corrected_intent: self.intent,
            corrected_urgency: self.urgency,
            faq_entry_id,
        };
        gateway.corrections.put_correction(&correction).await?;
        info!(inquiry_id = %inquiry.id, corrects = correction.corrects_classification(), "operator feedback stored");
        Ok(())
    }
}

/// 404 naming the field: the entry is not in the tenant's FAQ.
fn unknown_entry(id: &FaqEntryId) -> ApiError {
    ApiError::NotFound(format!("faq_entry_id: FAQ entry {id} not found in the tenant's FAQ"))
}

/// Why an FAQ edit wrote nothing.
enum Unchanged {
    /// The edit was made before (a retry): nothing to write.
    AlreadyDone,
    /// The linked entry was deleted since the check.
    Missing,
    /// The FAQ changed since the check and the edit no longer fits its limits.
    Refused(ValidationErrors),
}

/// Links or saves, returning the entry's id.
async fn edit_faq(gateway: &Gateway, inquiry: &Inquiry, action: &FaqAction, human_answer: &str) -> Result<FaqEntryId, ApiError> {
    let (store, tenant) = (gateway.tenants.as_ref(), &inquiry.tenant_id);
    let question = question_of(inquiry);
    let (id, edited) = match action {
        FaqAction::Link(id) => (id.clone(), edit_tenant(store, tenant, |t| link(t, id, &question)).await?),
        FaqAction::Save(answer) => {
            let entry = FaqEntry {
                id: saved_faq_entry_id(inquiry.id),
                language: inquiry.reply_language(),
                question,
                variants: Vec::new(),
                answer: answer.clone().unwrap_or_else(|| human_answer.to_owned()),
            };
            (entry.id.clone(), edit_tenant(store, tenant, |t| save(t, &entry)).await?)
        }
    };
    match edited {
        Ok(_) | Err(Unchanged::AlreadyDone) => Ok(id),
        Err(Unchanged::Missing) => Err(unknown_entry(&id)),
        Err(Unchanged::Refused(errors)) => {
            let reasons: Vec<String> = errors.0.into_iter().map(|e| e.reason).collect();
            Err(ApiError::field(action.field(), &reasons.join("; ")))
        }
    }
}

/// Adds `question` to entry `id` unless it has it, within the entry's limits.
fn link(tenant: &mut Tenant, id: &FaqEntryId, question: &str) -> Result<(), Unchanged> {
    let entry = tenant.faq_entry_mut(id).ok_or(Unchanged::Missing)?;
    match entry.push_variant(question) {
        Ok(true) => Ok(()),
        Ok(false) => Err(Unchanged::AlreadyDone),
        Err(errors) => Err(Unchanged::Refused(errors)),
    }
}

/// Adds `entry` unless an entry with its id exists, within the FAQ's limit.
fn save(tenant: &mut Tenant, entry: &FaqEntry) -> Result<(), Unchanged> {
    if tenant.faq_entry(&entry.id).is_some() {
        return Err(Unchanged::AlreadyDone);
    }
    add_entry(&mut tenant.faq, entry.clone()).map_err(Unchanged::Refused)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> FeedbackInput {
        FeedbackInput::default()
    }

    fn fields(e: ApiError) -> Vec<String> {
        match e {
            ApiError::Invalid(errors) => errors.0.into_iter().map(|e| e.field).collect(),
            other => panic!("not a validation error: {other:?}"),
        }
    }

    #[test]
    fn no_feedback_is_empty_and_blank_fields_are_absent() {
        assert!(input().parse().unwrap().is_empty());
        let blank = FeedbackInput { corrected_intent: Some(" ".into()), faq_entry_id: Some(String::new()), ..input() };
        assert!(blank.parse().unwrap().is_empty());
    }

    #[test]
    fn a_correction_and_a_link_are_read() {
        let f = FeedbackInput {
            corrected_intent: Some("trouble_report".into()),
            corrected_urgency: Some("high".into()),
            faq_entry_id: Some("faq-0123456789ab".into()),
            ..input()
        }
        .parse()
        .unwrap();
        assert_eq!(f.intent, Some(Intent::TroubleReport));
        assert_eq!(f.urgency, Some(Urgency::High));
        assert_eq!(f.faq, Some(FaqAction::Link(FaqEntryId::parse("faq-0123456789ab").unwrap())));
    }

    #[test]
    fn every_wrong_field_is_named() {
        let bad = FeedbackInput {
            corrected_intent: Some("broken_thing".into()),
            corrected_urgency: Some("urgent".into()),
            faq_entry_id: Some("faq-XYZ".into()),
            ..input()
        };
        assert_eq!(fields(bad.parse().unwrap_err()), ["corrected_intent", "corrected_urgency", "faq_entry_id"]);
    }

    #[test]
    fn linking_and_saving_together_is_refused() {
        let both = FeedbackInput { faq_entry_id: Some("faq-0123456789ab".into()), save_as_faq: true, ..input() };
        assert_eq!(fields(both.parse().unwrap_err()), ["save_as_faq"]);
    }

    #[test]
    fn an_faq_answer_needs_save_as_faq() {
        let stray = FeedbackInput { faq_answer: Some("Yes.".into()), ..input() };
        assert_eq!(fields(stray.parse().unwrap_err()), ["faq_answer"]);
        let saved = FeedbackInput { faq_answer: Some("Yes.".into()), save_as_faq: true, ..input() }.parse().unwrap();
        assert_eq!(saved.faq, Some(FaqAction::Save(Some("Yes.".into()))));
    }
}
