//! `SlaService`: a tenant's first-response SLA policy over gRPC, the twin
//! of `sla_rest.rs` (both call `sla_ops`).

use super::Services;
use super::authenticated::caller;
use crate::sla_ops::{self, TenantSla};
use switchboard_domain::SlaPolicyInput;
use switchboard_domain::sla::{OpeningInput, Targets};
use switchboard_proto::v1 as pb;
use switchboard_proto::v1::sla_service_server::SlaService;
use tonic::{Request, Response, Status};

fn targets(t: Targets) -> pb::SlaTargets {
    pb::SlaTargets { high: t.high, medium: t.medium, low: t.low }
}

fn policy(t: TenantSla) -> pb::SlaPolicy {
    let input = t.policy.input().clone();
    pb::SlaPolicy {
        tenant_id: t.tenant_id.to_string(),
        is_default: t.default,
        first_response_secs: Some(targets(input.first_response_secs)),
        time_zone: input.time_zone,
        business_hours: input
            .business_hours
            .into_iter()
            .map(|o| pb::OpeningPeriod { days: o.days, open: o.open, close: o.close })
            .collect(),
    }
}

/// The request as the policy's input: absent targets are zeros, which the
/// parse names as out of range.
fn input(r: pb::SetSlaPolicyRequest) -> SlaPolicyInput {
    let t = r.first_response_secs.unwrap_or_default();
    SlaPolicyInput {
        first_response_secs: Targets { high: t.high, medium: t.medium, low: t.low },
        time_zone: r.time_zone,
        business_hours: r.business_hours.into_iter().map(|o| OpeningInput { days: o.days, open: o.open, close: o.close }).collect(),
    }
}

#[tonic::async_trait]
impl SlaService for Services {
    async fn get_sla_policy(&self, request: Request<pb::GetSlaPolicyRequest>) -> Result<Response<pb::SlaPolicy>, Status> {
        let principal = caller(&request)?;
        Ok(Response::new(policy(sla_ops::get(&self.gateway, &principal, &request.get_ref().tenant_id).await?)))
    }

    async fn set_sla_policy(&self, request: Request<pb::SetSlaPolicyRequest>) -> Result<Response<pb::SlaPolicy>, Status> {
        let principal = caller(&request)?;
        let r = request.into_inner();
        let tenant = r.tenant_id.clone();
        Ok(Response::new(policy(sla_ops::put(&self.gateway, &principal, &tenant, input(r)).await?)))
    }
}
