//! Checkpoints off the request path. In WAL mode SQLite copies committed pages back into the
//! database file (a checkpoint, with its own fsync) inside the commit that pushed the log past
//! a thousand pages: a protect of a thousand conversations wrote about 2,400 pages and then
//! checkpointed them before it could answer. The writer's connection has automatic checkpoints
//! off; this thread, with a connection of its own, runs PASSIVE checkpoints (they never wait
//! for readers or the writer) shortly after commits, a few times a second at most, a TRUNCATE
//! one when the log has grown past 64 MiB, and a last one when the store is dropped. Durability does not change: a commit still syncs the log
//! (`synchronous=FULL`), and what is not checkpointed yet is read from the log and recovered
//! from it after a crash.

use std::path::Path;
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TrySendError, sync_channel};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rusqlite::Connection;

use crate::store::{StoreError, StoreResult};

/// The log's length (in pages of 4 KiB, 64 MiB) past which a checkpoint empties it.
const LOG_LIMIT_FRAMES: i64 = 16_384;

/// How long the thread gathers commits before it checkpoints them together.
const GATHER: Duration = Duration::from_millis(100);

pub(super) struct Checkpointer {
    wake: Option<SyncSender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Checkpointer {
    /// Starts the thread on its own connection to `path`.
    pub(super) fn start(path: &Path) -> StoreResult<Checkpointer> {
        let conn = super::open(path, None)?;
        let (wake, woken) = sync_channel(1);
        let thread = std::thread::Builder::new()
            .name("sqlite-checkpoint".to_owned())
            .spawn(move || run(&conn, &woken))
            .map_err(|e| StoreError::Database(Box::new(e)))?;
        Ok(Checkpointer {
            wake: Some(wake),
            thread: Some(thread),
        })
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

fn run(conn: &Connection, woken: &Receiver<()>) {
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
                    checkpoint(conn);
                    return;
                }
            }
        }
        checkpoint(conn);
    }
    checkpoint(conn);
}

fn checkpoint(conn: &Connection) {
    // The log starts over only when a transaction begins after everything in it was
    // checkpointed, which commits one after another (an import) never leave room for: past
    // its limit, a TRUNCATE checkpoint waits for the writer between two commits (within the
    // busy timeout) and empties the log.
    let log = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| r.get::<_, i64>(1));
    let done = match log {
        Ok(frames) if frames > LOG_LIMIT_FRAMES => conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
            .map(|()| frames),
        other => other,
    };
    if let Err(e) = done {
        tracing::warn!(error = %e, "a WAL checkpoint failed; the next commit tries again");
    }
}
