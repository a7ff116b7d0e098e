//! The SQLite data operations of one write transaction ([`Tx`]): SQL only, inside the
//! `BEGIN IMMEDIATE` transaction [`SqliteStore::transact`](super::SqliteStore) opened, so
//! what a use case reads here cannot change before it commits.

use std::collections::HashMap;

use holdfast_core::api::Selection;
use holdfast_core::audit::{ChainHash, StoredEvent};
use holdfast_core::holds::{HoldInfo, NewHold, OrgSettings, ReleaseRequest};
use holdfast_core::protection::{OrgStatus, ProtectAction, SelectionSummary};
use holdfast_core::retention::RetentionPolicy;
use holdfast_core::time::Instant;
use holdfast_core::{ConversationId, HoldId, OrgId, RecordingId};
use rusqlite::types::Value;
use rusqlite::{OptionalExtension, params, params_from_iter};

use super::{
    IS_PROTECTED, KEY_INDEX, PROTECTABLE, ROWS_PER_STATEMENT, Summaries, classify,
    conversation_known, holds, insert_attachment, insert_conversation, insert_recording, ms,
    org_status, parse_id, past_due, policies, recording_known, recording_state, selection_index,
    selection_sql, summarize,
};
use crate::store::{
    FoundAttachment, FoundRecording, HoldRelease, MediaSlot, NewAttachment, NewConversation,
    NewRecording, ProtectedBy, Standing, StoreError, StoreResult, StoredMedia, Tx,
};

/// A write transaction of the SQLite store.
pub(super) struct SqliteTx<'a> {
    pub(super) tx: &'a rusqlite::Transaction<'a>,
}

/// `?, ?, ...`: `n` placeholders.
fn marks(n: usize) -> String {
    vec!["?"; n].join(", ")
}

impl Tx for SqliteTx<'_> {
    fn org_status(&mut self, org: OrgId) -> StoreResult<OrgStatus> {
        org_status(self.tx, org)
    }

    fn classify(
        &mut self,
        org: OrgId,
        ids: &[ConversationId],
    ) -> StoreResult<Vec<(ConversationId, Standing)>> {
        classify(self.tx, org, ids)
    }

    fn past_due(&mut self, org: OrgId, selection: &Selection, now: Instant) -> StoreResult<u32> {
        past_due(self.tx, org, selection, now)
    }

    fn summarize(
        &mut self,
        org: OrgId,
        selection: &Selection,
        now: Instant,
    ) -> StoreResult<SelectionSummary> {
        summarize(self.tx, org, selection, now)
    }

    fn to_change(
        &mut self,
        org: OrgId,
        selection: &Selection,
        action: ProtectAction,
    ) -> StoreResult<Vec<ConversationId>> {
        let (where_sql, args) = selection_sql(self.tx, org, selection)?;
        let wanted = match action {
            ProtectAction::Protect => format!("NOT {IS_PROTECTED} AND {PROTECTABLE}"),
            // The held ones stay: only their hold's release lets them go.
            ProtectAction::Release => format!("{IS_PROTECTED} AND NOT {}", holds::HELD),
        };
        // A release by filter reads the protected conversations only (see `summarize`).
        let index = match action {
            ProtectAction::Release => "INDEXED BY conversations_org_protected",
            ProtectAction::Protect => selection_index(selection),
        };
        let mut stmt = self.tx.prepare(&format!(
            "SELECT c.id FROM conversations c {index} WHERE {where_sql} AND {wanted}"
        ))?;
        let ids: Vec<String> = stmt
            .query_map(params_from_iter(args.iter()), |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        ids.iter()
            .map(|id| parse_id(id, ConversationId::parse))
            .collect()
    }

    fn recordings_of(
        &mut self,
        org: OrgId,
        conversations: &[ConversationId],
    ) -> StoreResult<HashMap<ConversationId, Vec<RecordingId>>> {
        let mut out: HashMap<ConversationId, Vec<RecordingId>> = HashMap::new();
        let org_text = org.to_string();
        for chunk in conversations.chunks(500) {
            let mut stmt = self.tx.prepare_cached(&format!(
                "SELECT conversation_id, id FROM recordings WHERE org_id = ? AND conversation_id IN ({})
                 ORDER BY conversation_id, created_at, id",
                marks(chunk.len())
            ))?;
            let mut args = vec![org_text.clone()];
            args.extend(chunk.iter().map(ToString::to_string));
            let rows = stmt.query_map(params_from_iter(args.iter()), |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
            })?;
            for row in rows {
                let (conversation, recording) = row?;
                out.entry(parse_id(&conversation, ConversationId::parse)?)
                    .or_default()
                    .push(parse_id(&recording, RecordingId::parse)?);
            }
        }
        Ok(out)
    }

    fn protect(
        &mut self,
        org: OrgId,
        conversations: &[ConversationId],
        by: &ProtectedBy,
        by_default: bool,
    ) -> StoreResult<()> {
        // A few hundred rows a statement.
        let org_text = org.to_string();
        for chunk in conversations.chunks(ROWS_PER_STATEMENT) {
            let rows = vec!["(?, ?, ?, ?, ?, ?)"; chunk.len()].join(", ");
            let mut args: Vec<Value> = Vec::with_capacity(chunk.len() * 6);
            for id in chunk {
                args.extend([
                    Value::Text(id.to_string()),
                    Value::Text(org_text.clone()),
                    Value::Integer(ms(by.at)),
                    Value::Text(by.by.clone()),
                    by.reason.clone().map_or(Value::Null, Value::Text),
                    Value::Integer(i64::from(by_default)),
                ]);
            }
            self.tx
                .prepare_cached(&format!(
                    "INSERT INTO protections (conversation_id, org_id, protected_at, protected_by, reason, by_default) VALUES {rows}"
                ))?
                .execute(params_from_iter(args.iter()))?;
        }
        Ok(())
    }

    fn held(&mut self, org: OrgId, ids: &[ConversationId]) -> StoreResult<Vec<ConversationId>> {
        holds::held(self.tx, org, ids)
    }

    fn protected_in(
        &mut self,
        org: OrgId,
        selection: &Selection,
    ) -> StoreResult<Vec<ConversationId>> {
        let (where_sql, args) = selection_sql(self.tx, org, selection)?;
        // Listed ids by their key; a filter through the protected index (the cap's worth).
        let index = match selection {
            Selection::Ids { .. } => KEY_INDEX,
            Selection::Filter { .. } => "INDEXED BY conversations_org_protected",
        };
        let mut stmt = self.tx.prepare(&format!(
            "SELECT DISTINCT c.id FROM conversations c {index} WHERE {where_sql} AND {IS_PROTECTED}"
        ))?;
        let ids: Vec<String> = stmt
            .query_map(params_from_iter(args.iter()), |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        ids.iter()
            .map(|id| parse_id(id, ConversationId::parse))
            .collect()
    }

    fn hold(&mut self, org: OrgId, id: HoldId) -> StoreResult<Option<HoldInfo>> {
        holds::hold(self.tx, org, id)
    }

    fn insert_hold(
        &mut self,
        org: OrgId,
        id: HoldId,
        hold: &NewHold,
        owner: &str,
        at: Instant,
    ) -> StoreResult<()> {
        holds::insert_hold(self.tx, org, id, hold, owner, at)
    }

    fn note_date(
        &mut self,
        org: OrgId,
        recording: RecordingId,
        reason: &str,
        at: Instant,
    ) -> StoreResult<()> {
        self.tx
            .prepare_cached(
                "INSERT INTO recording_dates (org_id, recording_id, reason, set_at) VALUES (?, ?, ?, ?)
                 ON CONFLICT (org_id, recording_id) DO UPDATE SET reason = excluded.reason, set_at = excluded.set_at",
            )?
            .execute(params![org.to_string(), recording.to_string(), reason, ms(at)])?;
        Ok(())
    }

    fn settings(&mut self, org: OrgId) -> StoreResult<OrgSettings> {
        holds::settings(self.tx, org)
    }

    fn set_settings(&mut self, org: OrgId, settings: &OrgSettings) -> StoreResult<()> {
        holds::set_settings(self.tx, org, settings)
    }

    fn pending_releases(&mut self, org: OrgId, hold: HoldId) -> StoreResult<Vec<ReleaseRequest>> {
        holds::pending_releases(self.tx, org, hold)
    }

    fn release_selection(&mut self, org: OrgId, request: &str) -> StoreResult<Option<String>> {
        holds::release_selection(self.tx, org, request)
    }

    fn insert_release_request(
        &mut self,
        org: OrgId,
        request: &ReleaseRequest,
        selection: Option<&str>,
    ) -> StoreResult<()> {
        holds::insert_release_request(self.tx, org, request, selection)
    }

    fn decide_release(
        &mut self,
        org: OrgId,
        request: &str,
        by: &str,
        at: Instant,
        approved: bool,
    ) -> StoreResult<()> {
        holds::decide_release(self.tx, org, request, by, at, approved)
    }

    fn in_hold(
        &mut self,
        org: OrgId,
        hold: HoldId,
        ids: &[ConversationId],
    ) -> StoreResult<Vec<ConversationId>> {
        holds::in_hold(self.tx, org, hold, ids)
    }

    fn query_holds(&mut self, org: OrgId) -> StoreResult<Vec<(HoldId, String)>> {
        holds::query_holds(self.tx, org)
    }

    fn note_miss(
        &mut self,
        org: OrgId,
        hold: HoldId,
        conversation: ConversationId,
        at: Instant,
    ) -> StoreResult<bool> {
        holds::note_miss(self.tx, org, hold, conversation, at)
    }

    fn join_hold(
        &mut self,
        org: OrgId,
        hold: HoldId,
        conversations: &[ConversationId],
        by: &ProtectedBy,
    ) -> StoreResult<Vec<ConversationId>> {
        holds::join_hold(self.tx, org, hold, conversations, by)
    }

    fn hold_release(&mut self, org: OrgId, hold: HoldId, now: Instant) -> StoreResult<HoldRelease> {
        holds::hold_release(self.tx, org, hold, now)
    }

    fn end_hold(
        &mut self,
        org: OrgId,
        hold: HoldId,
        at: Instant,
        by: &str,
        reason: Option<&str>,
    ) -> StoreResult<()> {
        holds::end_hold(self.tx, org, hold, at, by, reason)
    }

    fn release(&mut self, org: OrgId, conversations: &[ConversationId]) -> StoreResult<()> {
        for chunk in conversations.chunks(ROWS_PER_STATEMENT) {
            let mut args: Vec<String> = chunk.iter().map(ToString::to_string).collect();
            args.push(org.to_string());
            self.tx
                .prepare_cached(&format!(
                    "DELETE FROM protections WHERE conversation_id IN ({}) AND org_id = ?",
                    marks(chunk.len())
                ))?
                .execute(params_from_iter(args.iter()))?;
        }
        Ok(())
    }

    fn mark_holds(&mut self, org: OrgId, conversations: &[ConversationId]) -> StoreResult<()> {
        let org_text = org.to_string();
        let mut stmt = self.tx.prepare_cached(
            "INSERT INTO media_holds (org_id, conversation_id, mark) VALUES (?, ?, 1)
             ON CONFLICT (org_id, conversation_id) DO UPDATE SET mark = mark + 1",
        )?;
        for id in conversations {
            stmt.execute(params![org_text, id.to_string()])?;
        }
        Ok(())
    }

    fn recording(&mut self, org: OrgId, id: RecordingId) -> StoreResult<Option<FoundRecording>> {
        recording_state(self.tx, org, id)
    }

    fn has_transcript(&mut self, org: OrgId, id: RecordingId) -> StoreResult<Option<bool>> {
        Ok(self
            .tx
            .prepare_cached(
                "SELECT transcript IS NOT NULL FROM recordings WHERE id = ? AND org_id = ?",
            )?
            .query_row(params![id.to_string(), org.to_string()], |r| r.get(0))
            .optional()?)
    }

    fn attachment(&mut self, org: OrgId, id: &str) -> StoreResult<Option<FoundAttachment>> {
        let row: Option<(String, Option<String>, String)> = self
            .tx
            .prepare_cached(
                "SELECT recording_id, path, name FROM attachments WHERE id = ? AND org_id = ?",
            )?
            .query_row(params![id, org.to_string()], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .optional()?;
        row.map(|(recording, path, name)| {
            Ok(FoundAttachment {
                recording: parse_id(&recording, RecordingId::parse)?,
                path,
                name,
            })
        })
        .transpose()
    }

    fn remove_transcript(&mut self, org: OrgId, id: RecordingId) -> StoreResult<()> {
        self.tx
            .prepare_cached("UPDATE recordings SET transcript = NULL WHERE id = ? AND org_id = ?")?
            .execute(params![id.to_string(), org.to_string()])?;
        Ok(())
    }

    fn remove_attachment(&mut self, org: OrgId, id: &str) -> StoreResult<()> {
        self.tx
            .prepare_cached("DELETE FROM attachments WHERE id = ? AND org_id = ?")?
            .execute(params![id, org.to_string()])?;
        Ok(())
    }

    fn mark_deleted(&mut self, org: OrgId, id: RecordingId) -> StoreResult<Vec<String>> {
        let id_text = id.to_string();
        let org_text = org.to_string();
        let media: Option<Option<String>> = self
            .tx
            .prepare_cached("SELECT media_path FROM recordings WHERE id = ? AND org_id = ?")?
            .query_row(params![id_text, org_text], |r| r.get(0))
            .optional()?;
        let Some(media) = media else {
            return Ok(Vec::new());
        };
        let mut files: Vec<String> = media.into_iter().collect();
        let paths: Vec<String> = self
            .tx
            .prepare_cached(
                "SELECT path FROM attachments WHERE org_id = ? AND recording_id = ? AND path IS NOT NULL",
            )?
            .query_map([&org_text, &id_text], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        files.extend(paths);
        self.tx
            .prepare_cached("DELETE FROM attachments WHERE org_id = ? AND recording_id = ?")?
            .execute([&org_text, &id_text])?;
        self.tx
            .prepare_cached(
                "UPDATE recordings SET file_state = 'DELETED', media_path = NULL, transcript = NULL
                 WHERE org_id = ? AND id = ?",
            )?
            .execute([&org_text, &id_text])?;
        Ok(files)
    }

    fn store_delete_date(
        &mut self,
        org: OrgId,
        id: RecordingId,
        date: Option<Instant>,
    ) -> StoreResult<()> {
        self.tx
            .prepare_cached("UPDATE recordings SET delete_date = ? WHERE id = ? AND org_id = ?")?
            .execute(params![date.map(ms), id.to_string(), org.to_string()])?;
        Ok(())
    }

    fn due(&mut self, now: Instant, limit: usize) -> StoreResult<Vec<(OrgId, RecordingId)>> {
        let rows: Vec<(String, String)> = self
            .tx
            .prepare_cached(
                "SELECT r.org_id, r.id FROM recordings r
                 WHERE r.file_state = 'AVAILABLE' AND r.delete_date <= ?
                   AND NOT EXISTS (SELECT 1 FROM protections p
                                   WHERE p.org_id = r.org_id AND p.conversation_id = r.conversation_id)
                 ORDER BY r.delete_date LIMIT ?",
            )?
            .query_map(
                params![ms(now), i64::try_from(limit).unwrap_or(i64::MAX)],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?
            .collect::<Result<_, _>>()?;
        rows.iter()
            .map(|(org, id)| {
                Ok((
                    parse_id(org, OrgId::parse)?,
                    parse_id(id, RecordingId::parse)?,
                ))
            })
            .collect()
    }

    fn audit_head(&mut self, org: OrgId) -> StoreResult<Option<(u64, ChainHash)>> {
        let head: Option<(i64, String)> = self
            .tx
            .prepare_cached("SELECT seq, hash FROM audit_heads WHERE org_id = ?")?
            .query_row([org.to_string()], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        head.map(|(seq, hash)| {
            let hash = ChainHash::from_hex(&hash)
                .ok_or_else(|| StoreError::Corrupt("audit head hash".to_owned()))?;
            Ok((u64::try_from(seq).unwrap_or(0), hash))
        })
        .transpose()
    }

    fn insert_audit_events(&mut self, org: OrgId, events: &[StoredEvent]) -> StoreResult<()> {
        let org_text = org.to_string();
        for chunk in events.chunks(ROWS_PER_STATEMENT) {
            let rows = vec!["(?, ?, ?, ?, ?, ?, ?, ?, ?)"; chunk.len()].join(", ");
            let mut args: Vec<Value> = Vec::with_capacity(chunk.len() * 9);
            for e in chunk {
                args.extend([
                    Value::Text(org_text.clone()),
                    Value::Integer(i64::try_from(e.seq).unwrap_or(i64::MAX)),
                    Value::Integer(e.columns.time_ms),
                    Value::Text(e.columns.action.clone()),
                    Value::Text(e.columns.entity_id.clone()),
                    e.columns.actor_id.clone().map_or(Value::Null, Value::Text),
                    Value::Integer(i64::from(e.form)),
                    Value::Text(e.bytes.clone()),
                    Value::Text(e.hash.clone()),
                ]);
            }
            self.tx
                .prepare_cached(&format!(
                    "INSERT INTO audit_events (org_id, seq, time, action, entity_id, actor_id, form, event, hash) VALUES {rows}"
                ))?
                .execute(params_from_iter(args.iter()))?;
        }
        Ok(())
    }

    fn move_audit_head(&mut self, org: OrgId, seq: u64, hash: &ChainHash) -> StoreResult<()> {
        self.tx
            .prepare_cached(
                "INSERT INTO audit_heads (org_id, seq, hash) VALUES (?1, ?2, ?3)
                 ON CONFLICT (org_id) DO UPDATE SET seq = ?2, hash = ?3",
            )?
            .execute(params![
                org.to_string(),
                i64::try_from(seq).unwrap_or(i64::MAX),
                hash.to_hex()
            ])?;
        Ok(())
    }

    fn update_policy(&mut self, org: OrgId, id: &str, policy: &str) -> StoreResult<bool> {
        let n = self
            .tx
            .prepare_cached("UPDATE retention_policies SET policy = ? WHERE id = ? AND org_id = ?")?
            .execute(params![policy, id, org.to_string()])?;
        Ok(n > 0)
    }

    fn insert_policy(&mut self, org: OrgId, id: &str, policy: &str) -> StoreResult<()> {
        self.tx
            .prepare_cached("INSERT INTO retention_policies (id, org_id, policy) VALUES (?, ?, ?)")?
            .execute(params![id, org.to_string(), policy])?;
        Ok(())
    }

    fn retention_policies(&mut self, org: OrgId) -> StoreResult<Vec<RetentionPolicy>> {
        Ok(policies(self.tx, org)?
            .into_iter()
            .map(|(_, p)| p)
            .collect())
    }

    fn conversation_known(&mut self, org: OrgId, id: ConversationId) -> StoreResult<bool> {
        conversation_known(self.tx, org, id)
    }

    fn recording_known(&mut self, org: OrgId, id: RecordingId) -> StoreResult<bool> {
        recording_known(self.tx, org, id)
    }

    fn insert_conversation(
        &mut self,
        org: OrgId,
        conversation: &NewConversation,
    ) -> StoreResult<()> {
        insert_conversation(self.tx, org, conversation, Summaries::ByTriggers)
    }

    fn insert_recording(
        &mut self,
        org: OrgId,
        conversation: ConversationId,
        recording: &NewRecording,
        delete_date: Option<Instant>,
    ) -> StoreResult<()> {
        insert_recording(self.tx, org, conversation, recording, delete_date)
    }

    fn media_slot(&mut self, org: OrgId, id: RecordingId) -> StoreResult<MediaSlot> {
        let row: Option<(String, bool)> = self
            .tx
            .prepare_cached(
                "SELECT file_state, media_path IS NOT NULL FROM recordings WHERE org_id = ? AND id = ?",
            )?
            .query_row(params![org.to_string(), id.to_string()], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()?;
        Ok(match row {
            None => MediaSlot::NotFound,
            Some((state, _)) if state != "AVAILABLE" => MediaSlot::Deleted,
            Some((_, true)) => MediaSlot::Taken,
            Some((_, false)) => MediaSlot::Free,
        })
    }

    fn store_media(&mut self, org: OrgId, id: RecordingId, media: &StoredMedia) -> StoreResult<()> {
        self.tx
            .prepare_cached(
                "UPDATE recordings SET media_path = ?, media_sha256 = ?, size_bytes = ?, content_type = ?
                 WHERE org_id = ? AND id = ?",
            )?
            .execute(params![
                media.path,
                media.sha256,
                i64::try_from(media.size_bytes).unwrap_or(i64::MAX),
                media.content_type,
                org.to_string(),
                id.to_string()
            ])?;
        Ok(())
    }

    fn add_attachment(
        &mut self,
        org: OrgId,
        recording: RecordingId,
        a: &NewAttachment,
    ) -> StoreResult<()> {
        insert_attachment(self.tx, org, recording, a)
    }
}
