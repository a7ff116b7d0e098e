//! Whether an organization's audit chain verifies, as the audit trail page shows it, without
//! reading the whole chain on every request.
//!
//! The first request verifies the whole chain and remembers the last verified link. Later
//! requests verify only the events written since that link, so a new event that was edited,
//! inserted or cut is found at once. The whole chain is verified again when the last full
//! verification is older than [`FULL_EVERY`], so an edit to an old event shows within that
//! time. `holdfast audit verify` always reads the whole chain.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use holdfast_core::OrgId;
use holdfast_core::audit::{self, ChainBreak, ChainHash, GENESIS};

use crate::store::{Store, StoreError, StoreResult};

/// How old a full verification may be before the next request repeats it.
pub const FULL_EVERY: Duration = Duration::from_secs(300);

/// The last verified link of each organization's chain.
#[derive(Default)]
pub struct ChainCache {
    verified: Mutex<HashMap<OrgId, Verified>>,
}

#[derive(Clone, Copy)]
struct Verified {
    /// The last link known good: its `seq` and hash (`(0, GENESIS)` for an empty chain).
    through: (u64, ChainHash),
    /// When the whole chain was last read and verified.
    full_at: Instant,
}

fn parse(hash: &str) -> Option<ChainHash> {
    ChainHash::from_hex(hash)
}

impl ChainCache {
    /// The chain's standing: the number of events, or its first broken link.
    pub fn status(&self, store: &dyn Store, org: OrgId) -> StoreResult<Result<u64, ChainBreak>> {
        self.status_at(store, org, Instant::now())
    }

    /// [`ChainCache::status`] at a given moment (tests move the clock).
    pub fn status_at(
        &self,
        store: &dyn Store,
        org: OrgId,
        now: Instant,
    ) -> StoreResult<Result<u64, ChainBreak>> {
        let known = self
            .lock()
            .get(&org)
            .copied()
            .filter(|v| now.duration_since(v.full_at) < FULL_EVERY);
        let (from, full_at) = match known {
            Some(v) => (v.through, v.full_at),
            None => ((0, GENESIS), now),
        };
        // The head first: events appended while this runs lie beyond it and wait for the next
        // request, instead of looking like a chain that does not end at its head.
        let head = store
            .audit_head(org)?
            .map(|(seq, h)| {
                parse(&h)
                    .map(|h| (seq, h))
                    .ok_or_else(|| StoreError::Corrupt(format!("audit head hash '{h}'")))
            })
            .transpose()?;
        let events = match from.0 {
            0 => store.audit_events(org)?,
            seq => store.audit_events_after(org, seq)?,
        };
        let before_head = |seq: u64| head.is_none_or(|(last, _)| seq <= last);
        let mut links = Vec::with_capacity(events.len());
        for (event, hash) in events.iter().filter(|(e, _)| before_head(e.seq)) {
            // A stored hash that is not even hex is a broken link, not a failure to verify.
            match parse(hash) {
                Some(h) => links.push((event, h)),
                None => return Ok(self.broken(org, ChainBreak::HashMismatch { seq: event.seq })),
            }
        }
        match audit::verify_chain_from(from, links, head) {
            Ok(last) => {
                let through = head.unwrap_or((0, GENESIS));
                self.lock().insert(org, Verified { through, full_at });
                Ok(Ok(last))
            }
            Err(e) => Ok(self.broken(org, e)),
        }
    }

    /// A broken chain is verified in full again next time.
    fn broken(&self, org: OrgId, e: ChainBreak) -> Result<u64, ChainBreak> {
        self.lock().remove(&org);
        Err(e)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<OrgId, Verified>> {
        // A panic while holding this lock leaves only a cache behind: use it.
        self.verified
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
