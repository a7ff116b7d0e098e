//! Checkpoints off the request path. In WAL mode SQLite copies committed pages back into the
//! database file (a checkpoint, with its own fsync) inside the commit that pushed the log past
//! a thousand pages: a protect of a thousand conversations wrote about 2,400 pages and then
//! checkpointed them before it could answer. The writer's connection has automatic checkpoints
//! off; this thread, with a connection of its own, runs PASSIVE checkpoints (they never wait
//! for readers or the writer) shortly after commits, a few times a second at most, and a last
//! one when the store is dropped; once the log has grown past 64 MiB the writer checkpoints
//! the little that is left before its next transaction, so that the log starts over. Durability does not change: a commit still syncs the log
//! (`synchronous=FULL`), and what is not checkpointed yet is read from the log and recovered
//! from it after a crash.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TrySendError, sync_channel};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rusqlite::Connection;

use crate::store::{StoreError, StoreResult};

/// The log's length (in pages of 4 KiB, 64 MiB) past which it is made to start over.
pub(super) const LOG_LIMIT_FRAMES: i64 = 16_384;

/// How long the thread gathers commits before it checkpoints them together.
const GATHER: Duration = Duration::from_millis(100);

pub(super) struct Checkpointer {
    wake: Option<SyncSender<()>>,
    thread: Option<JoinHandle<()>>,
    /// Set when the log has grown past its limit: see [`Checkpointer::restart_log`].
    long: Arc<AtomicBool>,
}

impl Checkpointer {
    /// Starts the thread on its own connection to `path`; the log starts over once it is past
    /// `limit` pages ([`LOG_LIMIT_FRAMES`] but in tests).
    pub(super) fn start(path: &Path, limit: i64) -> StoreResult<Checkpointer> {
        let conn = super::open(path, None)?;
        let (wake, woken) = sync_channel(1);
        let long = Arc::new(AtomicBool::new(false));
        let seen = Arc::clone(&long);
        let thread = std::thread::Builder::new()
            .name("sqlite-checkpoint".to_owned())
            .spawn(move || run(&conn, &woken, &seen, limit))
            .map_err(|e| StoreError::Database(Box::new(e)))?;
        Ok(Checkpointer {
            wake: Some(wake),
            thread: Some(thread),
            long,
        })
    }

    /// Called by the writer, between transactions, before it begins one. The log starts over
    /// only when a transaction begins after everything in it was checkpointed, which commits
    /// one after another (an import, a burst of protects) never leave room for while the
    /// thread checkpoints beside them: once the log is past its limit, the writer checkpoints
    /// what is left itself (little: the thread copied the rest), so that its next transaction
    /// starts the log over and `journal_size_limit` cuts the file back.
    pub(super) fn restart_log(&self, writer: &Connection) {
        if self.long.swap(false, Ordering::Relaxed)
            && let Err(e) = writer.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))
        {
            tracing::warn!(error = %e, "a WAL checkpoint failed; the next commit tries again");
        }
    }

    /// Says that a commit wrote to the log; never blocks (a wake-up already pending covers it).
    pub(super) fn committed(&self) {
        if let Some(wake) = &self.wake {
            match wake.try_send(()) {
                Ok(()) | Err(TrySendError::Full(())) | Err(TrySendError::Disconnected(())) => {}
            }
        }
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.wake = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn run(conn: &Connection, woken: &Receiver<()>, long: &AtomicBool, limit: i64) {
    while woken.recv().is_ok() {
        // Commits that arrive meanwhile are checkpointed together, at most once a `GATHER`.
        let deadline = Instant::now() + GATHER;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match woken.recv_timeout(left) {
                Ok(()) if !left.is_zero() => {}
                Ok(()) | Err(RecvTimeoutError::Timeout) => break,
                // The store is gone: the last checkpoint below.
                Err(RecvTimeoutError::Disconnected) => {
                    checkpoint(conn, long, limit);
                    return;
                }
            }
        }
        checkpoint(conn, long, limit);
    }
    checkpoint(conn, long, limit);
}

fn checkpoint(conn: &Connection, long: &AtomicBool, limit: i64) {
    match conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| r.get::<_, i64>(1)) {
        Ok(frames) if frames > limit => long.store(true, Ordering::Relaxed),
        Ok(_) => {}
        Err(e) => {
            tracing::warn!(error = %e, "a WAL checkpoint failed; the next commit tries again")
        }
    }
}
