//! Each tenant's memory of operators' corrections, as the classifier
//! consults it: read from the store and kept for a short time, so a busy
//! tenant's inquiries do not each read its corrections (a DynamoDB query in
//! AWS mode), while an operator's correction takes effect within that time
//! and without a restart.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use switchboard_ai::memory::Memory;
use switchboard_domain::TenantId;
use switchboard_store::{CorrectionStore, StoreError};
use tokio::time::Instant;

/// How long a tenant's memory is used before its corrections are read
/// again: an operator's correction shows within this time. One read per
/// tenant and replica every 5 s is nothing next to the inquiry's own
/// writes; `SWITCHBOARD_MEMORY_TTL_MS` changes it (0 reads every time).
pub const DEFAULT_TTL: Duration = Duration::from_secs(5);

/// Tenants' memories, each cached for `ttl`.
pub struct TenantMemories {
    store: Arc<dyn CorrectionStore>,
    ttl: Duration,
    /// One entry per tenant seen (tenants are few; an entry is rebuilt, never removed).
    cached: Mutex<HashMap<TenantId, (Instant, Arc<Memory>)>>,
}

impl TenantMemories {
    /// Memories read from `store`, each kept for `ttl` (zero: never kept).
    pub fn new(store: Arc<dyn CorrectionStore>, ttl: Duration) -> Self {
        Self { store, ttl, cached: Mutex::new(HashMap::new()) }
    }

    /// The tenant's memory, read again when the cached one is older than the TTL.
    pub async fn memory(&self, tenant: &TenantId) -> Result<Arc<Memory>, StoreError> {
        let now = Instant::now();
        if let Some((read_at, memory)) = self.lock().get(tenant)
            && now.duration_since(*read_at) < self.ttl
        {
            return Ok(memory.clone());
        }
        let memory = Arc::new(Memory::new(&self.store.corrections(tenant).await?));
        if !self.ttl.is_zero() {
            self.lock().insert(tenant.clone(), (now, memory.clone()));
        }
        Ok(memory)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<TenantId, (Instant, Arc<Memory>)>> {
        // The map holds only finished reads: a panic elsewhere leaves it consistent.
        self.cached.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
