//! `FaqService`: the caller's FAQ over gRPC, the twin of `faq_rest.rs`
//! (both call `faq_ops`).

use super::Services;
use super::authenticated::caller;
use crate::faq_ops::{self, Versioned};
use switchboard_domain::FaqEntry;
use switchboard_domain::faq::FaqEntryInput;
use switchboard_proto::v1 as pb;
use switchboard_proto::v1::faq_service_server::FaqService;
use tonic::{Request, Response, Status};

fn entry(e: FaqEntry) -> pb::FaqEntry {
    pb::FaqEntry {
        id: e.id.to_string(),
        language: e.language.as_str().to_owned(),
        question: e.question,
        variants: e.variants,
        answer: e.answer,
    }
}

fn response((e, version): Versioned<FaqEntry>) -> Response<pb::FaqEntryResponse> {
    Response::new(pb::FaqEntryResponse { entry: Some(entry(e)), version })
}

/// proto3 strings are never absent: empty means "not given".
fn given(s: String) -> Option<String> {
    (!s.is_empty()).then_some(s)
}

#[tonic::async_trait]
impl FaqService for Services {
    async fn list_faq_entries(&self, request: Request<pb::ListFaqEntriesRequest>) -> Result<Response<pb::ListFaqEntriesResponse>, Status> {
        let principal = caller(&request)?;
        let (entries, version) = faq_ops::list(&principal)?;
        Ok(Response::new(pb::ListFaqEntriesResponse { entries: entries.into_iter().map(entry).collect(), version }))
    }

    async fn get_faq_entry(&self, request: Request<pb::GetFaqEntryRequest>) -> Result<Response<pb::FaqEntryResponse>, Status> {
        let principal = caller(&request)?;
        Ok(response(faq_ops::get(&principal, &request.get_ref().id)?))
    }

    async fn add_faq_entry(&self, request: Request<pb::AddFaqEntryRequest>) -> Result<Response<pb::FaqEntryResponse>, Status> {
        let principal = caller(&request)?;
        let r = request.into_inner();
        let input =
            FaqEntryInput { language: given(r.language), question: given(r.question), answer: given(r.answer), variants: Some(r.variants) };
        Ok(response(faq_ops::add(&self.gateway, &faq_ops::Editor::of(&principal)?, &input, r.expected_version).await?))
    }

    async fn edit_faq_entry(&self, request: Request<pb::EditFaqEntryRequest>) -> Result<Response<pb::FaqEntryResponse>, Status> {
        let principal = caller(&request)?;
        let r = request.into_inner();
        let input =
            FaqEntryInput { language: None, question: r.question, answer: r.answer, variants: r.replace_variants.then_some(r.variants) };
        Ok(response(faq_ops::edit(&self.gateway, &faq_ops::Editor::of(&principal)?, &r.id, &input, r.expected_version).await?))
    }

    async fn delete_faq_entry(&self, request: Request<pb::DeleteFaqEntryRequest>) -> Result<Response<pb::DeleteFaqEntryResponse>, Status> {
        let principal = caller(&request)?;
        let r = request.into_inner();
        let version = faq_ops::delete(&self.gateway, &faq_ops::Editor::of(&principal)?, &r.id, r.expected_version).await?;
        Ok(Response::new(pb::DeleteFaqEntryResponse { version }))
    }

    async fn add_faq_variant(&self, request: Request<pb::AddFaqVariantRequest>) -> Result<Response<pb::FaqEntryResponse>, Status> {
        let principal = caller(&request)?;
        let r = request.into_inner();
        Ok(response(faq_ops::add_variant(&self.gateway, &faq_ops::Editor::of(&principal)?, &r.id, &r.text, r.expected_version).await?))
    }

    async fn remove_faq_variant(&self, request: Request<pb::RemoveFaqVariantRequest>) -> Result<Response<pb::FaqEntryResponse>, Status> {
        let principal = caller(&request)?;
        let r = request.into_inner();
        let index = usize::try_from(r.index).unwrap_or(usize::MAX);
        Ok(response(faq_ops::remove_variant(&self.gateway, &faq_ops::Editor::of(&principal)?, &r.id, index, r.expected_version).await?))
    }
}
