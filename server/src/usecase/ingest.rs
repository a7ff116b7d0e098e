//! Ingest: conversations and recordings arrive. Each recording gets its deletion date from the
//! organization's retention policies as it arrives (core's `delete_date_on_arrival`); a
//! recording that joins a protected conversation is covered at once, since protection is the
//! conversation's (rule 2). A batch is one transaction: an id already used refuses all of it.

use holdfast_core::OrgId;
use holdfast_core::retention::{self, Arrival};

use crate::store::{NewConversation, StoreError, StoreResult, Transact};

/// Ingests a batch; returns how many recordings were added. An existing conversation of the
/// organization gets the new recordings.
pub fn ingest(store: &dyn Transact, org: OrgId, batch: &[NewConversation]) -> StoreResult<usize> {
    super::transact(store, |tx| {
        let policies = tx.retention_policies(org)?;
        let mut recordings = 0;
        for c in batch {
            if !tx.conversation_known(org, c.id)? {
                tx.insert_conversation(org, c)?;
            }
            for r in &c.recordings {
                if tx.recording_known(org, r.id)? {
                    return Err(StoreError::IdTaken(r.id.to_string()));
                }
                let arrival = Arrival {
                    media: r.media,
                    queue: c.queue.as_deref(),
                    direction: c.direction,
                    creation_time: r.created_at,
                };
                let date = retention::delete_date_on_arrival(&policies, &arrival);
                tx.insert_recording(org, c.id, r, date)?;
                recordings += 1;
            }
        }
        Ok(recordings)
    })
}
