//! Deletion (rules 4, 5, 6, 11): by hand, by a deletion date set in the past, of a transcript or
//! an attachment, and by the retention sweep. Core decides whether each may happen; a refusal
//! of a protected recording is audited as `DeletionBlocked`; the files go after the commit
//! (the caller removes the ones returned).

use holdfast_core::audit::{Actor, AuditAction, Client, Details, EntityType};
use holdfast_core::deletion::{self, DeleteDateChange, DeletionRefusal};
use holdfast_core::time::Instant;
use holdfast_core::{OrgId, Permissions, RecordingId};

use crate::store::{AuditContext, AuditDraft, Deletion, Part, StoreResult, Transact, Tx};

/// What became of a deletion or a date change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Done (files to remove after the commit).
    Done(Deletion),
    /// Refused by core's rule; a protected recording's refusal is audited.
    Refused(DeletionRefusal),
    /// No such recording, transcript or attachment in the organization.
    NotFound,
}

/// Deletes a recording by hand: refused while protected, with a `DeletionBlocked` event
/// committed; otherwise its media, transcript and attachments go and a `Delete` event is
/// written. `None` when the recording is not in the organization.
pub fn delete_recording(
    store: &dyn Transact,
    org: OrgId,
    perms: Permissions,
    id: RecordingId,
    ctx: &AuditContext,
) -> StoreResult<Outcome> {
    super::transact(store, |tx| {
        let Some(found) = tx.recording(org, id)? else {
            return Ok(Outcome::NotFound);
        };
        if let Err(refusal) = deletion::manual_deletion(perms, &found.state) {
            block(tx, org, ctx, id, refusal, "manual deletion")?;
            return Ok(Outcome::Refused(refusal));
        }
        let files = delete(tx, org, ctx, &[id], "deleted by hand")?;
        Ok(Outcome::Done(Deletion {
            change: None,
            deleted: 1,
            files,
        }))
    })
}

/// Sets a recording's deletion date: a date not in the future is a manual deletion; a future
/// one is stored, suspended while the conversation is protected.
pub fn set_delete_date(
    store: &dyn Transact,
    org: OrgId,
    perms: Permissions,
    id: RecordingId,
    date: Option<Instant>,
    ctx: &AuditContext,
) -> StoreResult<Outcome> {
    super::transact(store, |tx| {
        let Some(found) = tx.recording(org, id)? else {
            return Ok(Outcome::NotFound);
        };
        let change = match deletion::set_delete_date(perms, &found.state, date, ctx.now) {
            Ok(change) => change,
            Err(refusal) => {
                block(tx, org, ctx, id, refusal, "deletion date in the past")?;
                return Ok(Outcome::Refused(refusal));
            }
        };
        if change == DeleteDateChange::DeleteNow {
            let files = delete(tx, org, ctx, &[id], "deletion date set to the past")?;
            return Ok(Outcome::Done(Deletion {
                change: Some(change),
                deleted: 1,
                files,
            }));
        }
        tx.store_delete_date(org, id, date)?;
        let who = match &ctx.actor {
            holdfast_core::audit::Actor::User { name, .. } => name.clone(),
            holdfast_core::audit::Actor::System => "the system".to_owned(),
        };
        let why = match date {
            Some(d) => format!("set by hand by {who} to {}", holdfast_core::time::format(d)),
            None => format!("set by hand by {who}: kept, no deletion date"),
        };
        tx.note_date(org, id, &why, ctx.now)?;
        let draft = AuditDraft {
            action: AuditAction::UpdateRetention,
            entity_type: EntityType::Recording,
            entity_id: id.to_string(),
            details: Details {
                recordings: vec![id],
                old_date: found.state.delete_date.map(holdfast_core::time::format),
                new_date: date.map(holdfast_core::time::format),
                message: (change == DeleteDateChange::StoreSuspended)
                    .then(|| "suspended while the conversation is protected".to_owned()),
                ..Details::default()
            },
        };
        super::audit::append(tx, org, ctx, [draft])?;
        Ok(Outcome::Done(Deletion {
            change: Some(change),
            deleted: 0,
            files: Vec::new(),
        }))
    })
}

/// Deletes a recording's transcript or one attachment by hand, under the same rule as the
/// recording. `None` when it is not in the organization.
pub fn delete_part(
    store: &dyn Transact,
    org: OrgId,
    perms: Permissions,
    part: &Part,
    ctx: &AuditContext,
) -> StoreResult<Outcome> {
    super::transact(store, |tx| {
        let (recording, file, what) = match part {
            Part::Transcript(id) => match tx.has_transcript(org, *id)? {
                Some(true) => (*id, None, "transcript".to_owned()),
                _ => return Ok(Outcome::NotFound),
            },
            Part::Attachment(att) => match tx.attachment(org, att)? {
                Some(found) => (
                    found.recording,
                    found.path,
                    format!("attachment {}", found.name),
                ),
                None => return Ok(Outcome::NotFound),
            },
        };
        let Some(found) = tx.recording(org, recording)? else {
            return Ok(Outcome::NotFound);
        };
        if let Err(refusal) = deletion::manual_deletion(perms, &found.state) {
            let what = format!("deletion of the {what}");
            block(tx, org, ctx, recording, refusal, &what)?;
            return Ok(Outcome::Refused(refusal));
        }
        match part {
            Part::Transcript(id) => tx.remove_transcript(org, *id)?,
            Part::Attachment(att) => tx.remove_attachment(org, att)?,
        }
        let draft = AuditDraft {
            action: AuditAction::Delete,
            entity_type: EntityType::Recording,
            entity_id: recording.to_string(),
            details: Details {
                recordings: vec![recording],
                message: Some(format!("{what} deleted by hand")),
                ..Details::default()
            },
        };
        super::audit::append(tx, org, ctx, [draft])?;
        Ok(Outcome::Done(Deletion {
            change: None,
            deleted: 0,
            files: file.into_iter().collect(),
        }))
    })
}

/// One batch of the policy sweep (rule 5): deletes up to `limit` available recordings whose
/// date has come and whose conversation is not protected, with a `Delete` event each by the
/// system, in one transaction that a protect cannot interleave with.
pub fn sweep(store: &dyn Transact, now: Instant, limit: usize) -> StoreResult<Deletion> {
    super::transact(store, |tx| {
        let due = tx.due(now, limit)?;
        let ctx = AuditContext {
            actor: Actor::System,
            client: Client::default(),
            now,
        };
        // Each organization's events are appended with its chain head read and moved once.
        let mut by_org: Vec<(OrgId, Vec<RecordingId>)> = Vec::new();
        for (org, id) in &due {
            match by_org.iter_mut().find(|(o, _)| o == org) {
                Some((_, ids)) => ids.push(*id),
                None => by_org.push((*org, vec![*id])),
            }
        }
        let mut files = Vec::new();
        for (org, ids) in &by_org {
            files.extend(delete(tx, *org, &ctx, ids, "deleted by retention policy")?);
        }
        Ok(Deletion {
            change: None,
            deleted: due.len(),
            files,
        })
    })
}

/// Marks recordings deleted, drops their transcripts and attachments, audits each, and returns
/// the files to remove after the commit (rule 11: metadata and history stay).
fn delete(
    tx: &mut dyn Tx,
    org: OrgId,
    ctx: &AuditContext,
    recordings: &[RecordingId],
    why: &str,
) -> StoreResult<Vec<String>> {
    let mut files = Vec::new();
    let mut drafts = Vec::with_capacity(recordings.len());
    for id in recordings {
        files.extend(tx.mark_deleted(org, *id)?);
        drafts.push(AuditDraft {
            action: AuditAction::Delete,
            entity_type: EntityType::Recording,
            entity_id: id.to_string(),
            details: Details {
                recordings: vec![*id],
                message: Some(why.to_owned()),
                ..Details::default()
            },
        });
    }
    super::audit::append(tx, org, ctx, drafts)?;
    Ok(files)
}

/// Audits a refused deletion of a protected recording (`DeletionBlocked`); other refusals
/// (permission, already deleted) are answered without an event.
fn block(
    tx: &mut dyn Tx,
    org: OrgId,
    ctx: &AuditContext,
    id: RecordingId,
    refusal: DeletionRefusal,
    what: &str,
) -> StoreResult<()> {
    if refusal != DeletionRefusal::Protected {
        return Ok(());
    }
    let draft = AuditDraft {
        action: AuditAction::DeletionBlocked,
        entity_type: EntityType::Recording,
        entity_id: id.to_string(),
        details: Details {
            recordings: vec![id],
            message: Some(format!("{what} refused: the conversation is protected")),
            ..Details::default()
        },
    };
    super::audit::append(tx, org, ctx, [draft])
}
