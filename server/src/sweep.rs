//! The retention sweep: deletes recordings whose deletion date has come, unless their
//! conversation is protected (rule 5). The store decides and commits in one transaction; files
//! are removed after the commit.

use std::path::Path;

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
        let batch = crate::usecase::deletion::sweep(store, now, BATCH)?;
        media::remove_files(media_dir, &batch.files);
        total += batch.deleted;
        if batch.deleted < BATCH {
            return Ok(total);
        }
    }
}
