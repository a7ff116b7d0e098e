//! The retention sweep: deletes recordings whose deletion date has come, unless their
//! conversation is protected (rule 5). The store decides and commits in one transaction; files
//! are removed after the commit. Each pass also settles the legal holds a crash left unsettled.

use holdfast_core::time::Instant;

use crate::media::{self, MediaStore};
use crate::store::{Store, StoreResult};

/// Recordings deleted per transaction, so that a large backlog does not hold the write lock
/// for long.
pub const BATCH: usize = 500;

/// Settles the marked legal holds (logged when storage fails: the next pass retries), then
/// sweeps until nothing is due; returns how many recordings were deleted.
pub fn run_once(store: &dyn Store, media: &dyn MediaStore, now: Instant) -> StoreResult<usize> {
    if let Err(e) = media::holds::drain(store, media) {
        tracing::error!(error = %e, "legal holds not settled; retried at the next sweep");
    }
    let mut total = 0;
    loop {
        let batch = crate::usecase::deletion::sweep(store, now, BATCH)?;
        media::remove_files(media, &batch.files);
        total += batch.deleted;
        if batch.deleted < BATCH {
            return Ok(total);
        }
    }
}
