//! Whether an organization's audit chain verifies, as the audit trail page shows it, without
//! reading the whole chain on every request.
//!
//! The first request verifies the whole chain and remembers the last verified link. Later
//! requests verify only the events written since that link, so a new event that was edited,
//! inserted or cut is found at once. The whole chain is verified again when the last full
//! verification is older than [`FULL_EVERY`], so an edit to an old event shows within that
//! time. A broken chain stays broken (nothing repairs a hash chain), so its first break is kept
//! for that time too instead of reading every event again on every request. `holdfast audit
//! verify` always reads the whole chain.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use holdfast_core::OrgId;
use holdfast_core::audit::{self, ChainBreak, ChainHash, GENESIS};

use crate::store::{Store, StoreError, StoreResult};

/// How many events a verification reads at once.
pub const VERIFY_BATCH: usize = 10_000;

/// How old a full verification may be before the next request repeats it.
pub const FULL_EVERY: Duration = Duration::from_secs(300);

/// What is known of each organization's chain.
pub struct ChainCache {
    known: Mutex<HashMap<OrgId, Known>>,
    /// How many events a verification reads at once.
    batch: usize,
}

impl Default for ChainCache {
    fn default() -> Self {
        ChainCache::with_batch(VERIFY_BATCH)
    }
}

#[derive(Clone)]
struct Known {
    /// The last link known good (`(0, GENESIS)` for an empty chain), or the first break.
    state: Result<(u64, ChainHash), ChainBreak>,
    /// When the whole chain was last read and verified.
    full_at: Instant,
}

fn parse(hash: &str) -> Option<ChainHash> {
    ChainHash::from_hex(hash)
}

impl ChainCache {
    /// A cache that reads `batch` events at once (tests make batches small).
    pub fn with_batch(batch: usize) -> ChainCache {
        ChainCache {
            known: Mutex::new(HashMap::new()),
            batch: batch.max(1),
        }
    }

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
            .cloned()
            .filter(|k| now.saturating_duration_since(k.full_at) < FULL_EVERY);
        let (from, full_at) = match known {
            Some(Known { state: Err(e), .. }) => return Ok(Err(e)),
            Some(Known {
                state: Ok(through),
                full_at,
            }) => (through, full_at),
            None => ((0, GENESIS), now),
        };
        // A batch at a time, so that memory does not grow with the chain: each batch continues
        // from the last link of the one before, and the last (shorter) one is held against the
        // head read with it.
        let mut link = from;
        let result = loop {
            let (head, events) = store.audit_chain_after(org, link.0, self.batch)?;
            let head = head
                .map(|(seq, h)| {
                    parse(&h)
                        .map(|h| (seq, h))
                        .ok_or_else(|| StoreError::Corrupt(format!("audit head hash '{h}'")))
                })
                .transpose()?;
            if events.len() < self.batch {
                break audit::verify_chain_from(org, link, &events, head).map(|n| (n, head));
            }
            match audit::verify_links(org, link, &events) {
                Ok(next) => link = next,
                Err(e) => break Err(e),
            }
        };
        let (result, head) = match result {
            Ok((n, head)) => (Ok(n), head),
            Err(e) => (Err(e), None),
        };
        let state = match &result {
            Ok(_) => Ok(head.unwrap_or((0, GENESIS))),
            Err(e) => Err(e.clone()),
        };
        Ok(self.remember(org, state, full_at, now))
    }

    /// Keeps what a verification found. A break is kept from now: it was found by reading the
    /// chain, and a break found in the new events only is as final as one found in all of them.
    fn remember(
        &self,
        org: OrgId,
        state: Result<(u64, ChainHash), ChainBreak>,
        full_at: Instant,
        now: Instant,
    ) -> Result<u64, ChainBreak> {
        let (full_at, result) = match &state {
            Ok((last, _)) => (full_at, Ok(*last)),
            Err(e) => (now, Err(e.clone())),
        };
        self.lock().insert(org, Known { state, full_at });
        result
    }

    /// The last verified link of `org`'s chain, as the last verification left it.
    pub fn verified_head(&self, org: OrgId) -> Option<(u64, ChainHash)> {
        self.lock().get(&org).and_then(|k| k.state.clone().ok())
    }

    /// The organizations whose chain the last verification found broken, with the break.
    pub fn broken(&self) -> Vec<(OrgId, ChainBreak)> {
        let mut out: Vec<(OrgId, ChainBreak)> = self
            .lock()
            .iter()
            .filter_map(|(org, k)| k.state.clone().err().map(|e| (*org, e)))
            .collect();
        out.sort_by_key(|(org, _)| org.to_string());
        out
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<OrgId, Known>> {
        // A panic while holding this lock leaves only a cache behind: use it.
        self.known
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// How often the server checks every organization's chain by itself (the events since the last
/// check; the whole chain every [`FULL_EVERY`]), so that `/healthz` and `/metrics` report a
/// break within a minute even when nobody opens the audit trail.
pub const WATCH_EVERY: Duration = Duration::from_secs(60);

/// Checks every organization's chain once, and signs each verified head that is new.
pub fn check_all(
    store: &dyn Store,
    chains: &ChainCache,
    signer: Option<&crate::checkpoints::Checkpointer>,
) -> StoreResult<()> {
    for (org, _) in store.organizations()? {
        if let Err(e) = chains.status(store, org)? {
            tracing::error!(%org, error = %e, "audit chain broken");
            continue;
        }
        // Only a head this check verified is signed.
        if let (Some(signer), Some((seq, hash))) = (signer, chains.verified_head(org))
            && let Err(e) = signer.sign(org, seq, hash, chrono::Utc::now())
        {
            tracing::error!(%org, error = %e, "could not write an audit checkpoint");
        }
    }
    Ok(())
}
