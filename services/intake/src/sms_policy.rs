//! What a submission may cost in texts: the countries Switchboard may text
//! and a per-tenant hourly quota of submissions that text
//! (`SWITCHBOARD_SMS_COUNTRIES`, `SWITCHBOARD_SMS_PER_TENANT_PER_HOUR`).
//! Each submission with a phone number texts its customer at least once,
//! and often a partner; the quota bounds what a leaked key can send. It is
//! counted per process (each gateway or intake instance has its own).

use governor::clock::{Clock, DefaultClock};
use governor::middleware::NoOpMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;
use switchboard_domain::{PhoneNumber, SmsCountries, TenantId};

type Limiter = RateLimiter<TenantId, DefaultKeyedStateStore<TenantId>, DefaultClock, NoOpMiddleware<<DefaultClock as Clock>::Instant>>;

/// Where and how much a tenant's submissions may text.
#[derive(Clone, Default)]
pub struct SmsPolicy {
    countries: SmsCountries,
    per_hour: Option<(NonZeroU32, Arc<Limiter>)>,
}

/// Why a submission may not text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Refused {
    /// The number is in a country not on the list.
    Country(String),
    /// The tenant used its hourly quota; the next text is allowed after `wait`.
    Quota { per_hour: u32, wait: Duration },
}

impl SmsPolicy {
    /// Texts to `countries` only, at most `per_hour` submissions that text a
    /// tenant an hour (`None`: no quota).
    pub fn new(countries: SmsCountries, per_hour: Option<u32>) -> Self {
        let per_hour = per_hour.and_then(NonZeroU32::new).map(|n| (n, Arc::new(RateLimiter::keyed(Quota::per_hour(n)))));
        Self { countries, per_hour }
    }

    /// Counts one submission of `tenant` that texts `phone`.
    pub(crate) fn admit(&self, tenant: &TenantId, phone: &PhoneNumber) -> Result<(), Refused> {
        if !self.countries.allows(phone) {
            return Err(Refused::Country(self.countries.refusal()));
        }
        if let Some((per_hour, limiter)) = &self.per_hour {
            limiter.check_key(tenant).map_err(|not_until| Refused::Quota {
                per_hour: per_hour.get(),
                wait: not_until.wait_time_from(DefaultClock::default().now()),
            })?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tenant(id: &str) -> TenantId {
        TenantId::parse(id).unwrap()
    }

    #[test]
    fn a_number_abroad_is_refused_naming_the_allowed_codes() {
        let policy = SmsPolicy::new(SmsCountries::parse("82").unwrap(), None);
        let abroad = PhoneNumber::parse("+447700900123").unwrap();
        assert!(matches!(policy.admit(&tenant("demo"), &abroad), Err(Refused::Country(why)) if why.contains("+82")));
        assert!(policy.admit(&tenant("demo"), &PhoneNumber::parse("010-1234-5678").unwrap()).is_ok());
    }

    #[test]
    fn a_tenant_past_its_hourly_quota_waits_and_other_tenants_do_not() {
        let policy = SmsPolicy::new(SmsCountries::default(), Some(2));
        let phone = PhoneNumber::parse("+12135550149").unwrap();
        assert!(policy.admit(&tenant("a"), &phone).is_ok());
        assert!(policy.admit(&tenant("a"), &phone).is_ok());
        match policy.admit(&tenant("a"), &phone) {
            Err(Refused::Quota { per_hour: 2, wait }) => assert!(wait > Duration::from_secs(60), "{wait:?}"),
            other => panic!("expected the quota, got {other:?}"),
        }
        assert!(policy.admit(&tenant("b"), &phone).is_ok());
    }
}
