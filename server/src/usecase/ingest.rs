//! Ingest: conversations and recordings arrive. Each recording gets its deletion date from the
//! organization's retention policies as it arrives (core's `delete_date_on_arrival`); a
//! recording that joins a protected conversation is covered at once, since protection is the
//! conversation's (rule 2). A batch is one transaction: an id already used refuses all of it.

use holdfast_core::retention::{self, Arrival};
use holdfast_core::{OrgId, RecordingId};

use crate::store::{
    MediaSlot, NewAttachment, NewConversation, NewRecording, Standing, StoreError, StoreResult,
    StoredMedia, Transact, Tx,
};

/// Ingests a batch; returns how many recordings were added. An existing conversation of the
/// organization gets the new recordings.
pub fn ingest(store: &dyn Transact, org: OrgId, batch: &[NewConversation]) -> StoreResult<usize> {
    ingest_at(store, org, batch, chrono::Utc::now()).map(|done| done.recordings)
}

/// What an ingest did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Ingested {
    pub recordings: usize,
    /// What the legal holds' queries caught, and missed for the cap.
    pub caught: super::holds::Caught,
}

/// [`ingest`] at `now`, saying what the legal holds' queries caught: in the same transaction,
/// every arriving interaction an active hold's query matches is covered by it
/// ([`super::holds::catch_arrivals`]).
pub fn ingest_at(
    store: &dyn Transact,
    org: OrgId,
    batch: &[NewConversation],
    now: holdfast_core::time::Instant,
) -> StoreResult<Ingested> {
    super::transact(store, |tx| {
        let policies = tx.retention_policies(org)?;
        let mut recordings = 0;
        let mut joined = Vec::new();
        let mut arrived = Vec::new();
        for c in batch {
            // Looked up once: whether it is new decides both what the holds' queries see and
            // whether it is inserted.
            let known = tx.conversation_known(org, c.id)?;
            if !c.recordings.is_empty() || !known {
                arrived.push(super::holds::Arrived {
                    id: c.id,
                    start_time: c.start_time,
                    direction: c.direction,
                    queue: c.queue.clone(),
                    agents: c.agents.clone(),
                    remote_party: c.remote_party.clone(),
                    media: c.recordings.iter().map(|r| r.media).collect(),
                });
            }
            if !known {
                tx.insert_conversation(org, c)?;
            } else if c.recordings.iter().any(stores_objects) {
                joined.push(c.id);
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
                let why = retention::date_reason(retention::deciding_policy(&policies, &arrival));
                tx.note_date(org, r.id, &why, now)?;
                recordings += 1;
            }
        }
        // Objects that join a protected conversation get its legal hold.
        let protected: Vec<_> = tx
            .classify(org, &joined)?
            .into_iter()
            .filter(|(_, standing)| *standing == Standing::Protected)
            .map(|(id, _)| id)
            .collect();
        if !protected.is_empty() {
            tx.mark_holds(org, &protected)?;
        }
        let caught = super::holds::catch_arrivals(tx, org, &arrived, now)?;
        Ok(Ingested { recordings, caught })
    })
}

/// Whether a recording brings stored objects (media or attachments).
fn stores_objects(r: &NewRecording) -> bool {
    r.media_path.is_some() || !r.attachments.is_empty()
}

/// Marks the conversation of a recording that just got an object, if it is protected: the
/// object gets its legal hold.
fn hold_if_protected(tx: &mut dyn Tx, org: OrgId, id: RecordingId) -> StoreResult<()> {
    match tx.recording(org, id)? {
        Some(found) if found.state.protected => tx.mark_holds(org, &[found.conversation]),
        _ => Ok(()),
    }
}

/// Where a recording stands for an upload, read before its bytes are: a body is not read to be
/// refused after.
pub fn media_slot(store: &dyn Transact, org: OrgId, id: RecordingId) -> StoreResult<MediaSlot> {
    super::transact(store, |tx| tx.media_slot(org, id))
}

/// Records a recording's media file, written and synced, if its slot is still free; returns
/// where it stood (anything but `Free` stored nothing, and the caller removes the file).
pub fn store_media(
    store: &dyn Transact,
    org: OrgId,
    id: RecordingId,
    media: &StoredMedia,
) -> StoreResult<MediaSlot> {
    super::transact(store, |tx| {
        let slot = tx.media_slot(org, id)?;
        if slot == MediaSlot::Free {
            tx.store_media(org, id, media)?;
            hold_if_protected(tx, org, id)?;
        }
        Ok(slot)
    })
}

/// Adds an attachment, its file written and synced, to a recording that is not deleted;
/// returns where the recording stood (`Free` or `Taken`: added).
pub fn add_attachment(
    store: &dyn Transact,
    org: OrgId,
    recording: RecordingId,
    attachment: &NewAttachment,
) -> StoreResult<MediaSlot> {
    super::transact(store, |tx| {
        let slot = tx.media_slot(org, recording)?;
        if matches!(slot, MediaSlot::Free | MediaSlot::Taken) {
            tx.add_attachment(org, recording, attachment)?;
            hold_if_protected(tx, org, recording)?;
        }
        Ok(slot)
    })
}
