//! The retention sweep: deletes recordings whose deletion date has come, unless their
//! conversation is protected (rule 5). The store decides and commits in one transaction; files
//! are removed after the commit.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use holdfast_core::time::Instant;

use crate::media;
use crate::store::{Store, StoreResult};

/// Recordings deleted per transaction, so that a large backlog does not hold the write lock
/// for long.
pub const BATCH: usize = 500;

/// Sweeps until nothing is due; returns how many recordings were deleted.
pub fn run_once(store: &dyn Store, media_dir: &Path, now: Instant) -> StoreResult<usize> {
    let mut total = 0;
    loop {
        let batch = store.sweep(now, BATCH)?;
        media::remove_files(media_dir, &batch.files);
        total += batch.deleted;
        if batch.deleted < BATCH {
            return Ok(total);
        }
    }
}

/// Sweeps every `interval`, for the life of the server.
pub async fn every(state: Arc<crate::http::AppState>, interval: Duration) {
    let mut ticker = tokio::time::interval(interval);
    loop {
        ticker.tick().await;
        let (store, media_dir) = (state.store.clone(), state.media_dir.clone());
        let result = tokio::task::spawn_blocking(move || {
            run_once(store.as_ref(), &media_dir, chrono::Utc::now())
        })
        .await;
        match result {
            Ok(Ok(0)) => {}
            Ok(Ok(n)) => {
                state.metrics.add_sweep(n);
                tracing::info!(deleted = n, "retention sweep");
            }
            Ok(Err(e)) => tracing::error!(error = %e, "retention sweep failed"),
            Err(e) => tracing::error!(error = %e, "retention sweep task failed"),
        }
    }
}
