//! Legal holds on PostgreSQL (migration 0007): the hold side of a transaction, and the reads
//! of the hold pages (run in a read-only snapshot). Like every write here, a change locks the
//! organization's row first, so two instances never decide about one hold at once.

use holdfast_core::holds::{
    DEFAULT_HOLD_NAME, HoldDetails, HoldInfo, HoldMember, HoldMiss, HoldRef, NewHold, OrgSettings,
    ReleaseRequest,
};
use holdfast_core::time::Instant;
use holdfast_core::{ConversationId, HoldId, OrgId, UserId};

use super::{PgTx, instant, parse_id, to_u32};
use crate::store::{HoldRelease, ProtectedBy, StoreResult};

/// Whether an active legal hold covers the conversation `c`, as SQL.
pub(super) const HELD: &str = "EXISTS (SELECT 1 FROM hold_members m
    WHERE m.org_id = c.org_id AND m.conversation_id = c.id AND m.active)";

const HOLD_COLUMNS: &str = "h.id, h.name, h.case_ref, h.description, h.owner, h.created_at, h.released_at, h.released_by, h.query,
     (SELECT COUNT(*) FROM hold_misses x WHERE x.org_id = h.org_id AND x.hold_id = h.id)";

fn hold_of(row: &postgres::Row, conversations: i64) -> StoreResult<HoldInfo> {
    Ok(HoldInfo {
        id: parse_id(row.get(0), HoldId::parse)?,
        name: row.get(1),
        case_reference: row.get(2),
        description: row.get(3),
        owner: row.get(4),
        created_at: instant(row.get(5))?,
        released_at: row.get::<_, Option<i64>>(6).map(instant).transpose()?,
        released_by: row.get(7),
        conversations: to_u32(conversations),
        query: row.get(8),
        missed: to_u32(row.get(9)),
    })
}

impl PgTx<'_, '_> {
    /// How many conversations an active hold covers now.
    fn covered(&mut self, org: OrgId, id: HoldId) -> StoreResult<i64> {
        let org = org.to_string();
        Ok(match id.is_default() {
            true => self.tx.query_one(
                "SELECT COUNT(*) FROM protections WHERE org_id = $1 AND by_default",
                &[&org],
            )?,
            false => self.tx.query_one(
                "SELECT COUNT(*) FROM hold_members WHERE org_id = $1 AND hold_id = $2 AND active",
                &[&org, &id.to_string()],
            )?,
        }
        .get(0))
    }

    pub(super) fn find_hold(&mut self, org: OrgId, id: HoldId) -> StoreResult<Option<HoldInfo>> {
        self.ensure_locked(org)?;
        let Some(row) = self.tx.query_opt(
            &format!("SELECT {HOLD_COLUMNS} FROM holds h WHERE h.org_id = $1 AND h.id = $2"),
            &[&org.to_string(), &id.to_string()],
        )?
        else {
            return Ok(None);
        };
        let hold = hold_of(&row, 0)?;
        let conversations = match hold.released_at {
            Some(_) => 0,
            None => self.covered(org, id)?,
        };
        Ok(Some(HoldInfo {
            conversations: to_u32(conversations),
            ..hold
        }))
    }

    pub(super) fn list_holds(
        &mut self,
        org: OrgId,
        search: Option<&str>,
    ) -> StoreResult<Vec<HoldInfo>> {
        let rows = self.tx.query(
            &format!(
                "SELECT {HOLD_COLUMNS} FROM holds h WHERE h.org_id = $1
                 ORDER BY h.id <> $2, h.released_at IS NOT NULL, h.created_at DESC, h.id"
            ),
            &[&org.to_string(), &HoldId::DEFAULT.to_string()],
        )?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let hold = hold_of(&row, 0)?;
            if !hold.matches(search) {
                continue;
            }
            let conversations = match hold.released_at {
                Some(_) => 0,
                None => self.covered(org, hold.id)?,
            };
            out.push(HoldInfo {
                conversations: to_u32(conversations),
                ..hold
            });
        }
        Ok(out)
    }

    pub(super) fn held_of(
        &mut self,
        org: OrgId,
        ids: &[ConversationId],
    ) -> StoreResult<Vec<ConversationId>> {
        self.ensure_locked(org)?;
        let listed: Vec<String> = ids.iter().map(ToString::to_string).collect();
        let rows = self.tx.query(
            "SELECT DISTINCT conversation_id FROM hold_members
             WHERE org_id = $1 AND conversation_id = ANY($2) AND active",
            &[&org.to_string(), &listed],
        )?;
        let found: std::collections::HashSet<String> = rows.iter().map(|r| r.get(0)).collect();
        let mut out: Vec<ConversationId> = Vec::new();
        for (id, text) in ids.iter().zip(&listed) {
            if found.contains(text) && !out.contains(id) {
                out.push(*id);
            }
        }
        Ok(out)
    }

    pub(super) fn add_hold(
        &mut self,
        org: OrgId,
        id: HoldId,
        hold: &NewHold,
        owner: &str,
        at: Instant,
    ) -> StoreResult<()> {
        self.ensure_locked(org)?;
        self.tx.execute(
            "INSERT INTO holds (org_id, id, name, case_ref, description, owner, created_at, query)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            &[
                &org.to_string(),
                &id.to_string(),
                &hold.name,
                &hold.case_reference,
                &hold.description,
                &owner,
                &at.timestamp_millis(),
                &hold.query,
            ],
        )?;
        Ok(())
    }

    pub(super) fn org_settings(&mut self, org: OrgId) -> StoreResult<OrgSettings> {
        let row = self.tx.query_one(
            "SELECT two_person_release FROM organizations WHERE id = $1",
            &[&org.to_string()],
        )?;
        Ok(OrgSettings {
            two_person_release: row.get(0),
        })
    }

    pub(super) fn store_settings(&mut self, org: OrgId, settings: &OrgSettings) -> StoreResult<()> {
        self.ensure_locked(org)?;
        self.tx.execute(
            "UPDATE organizations SET two_person_release = $2 WHERE id = $1",
            &[&org.to_string(), &settings.two_person_release],
        )?;
        Ok(())
    }

    pub(super) fn waiting_releases(
        &mut self,
        org: OrgId,
        hold: HoldId,
    ) -> StoreResult<Vec<ReleaseRequest>> {
        self.tx
            .query(
                "SELECT id, requested_by_id, requested_by, reason, requested_at, interactions FROM release_requests
                 WHERE org_id = $1 AND hold_id = $2 AND decided_at IS NULL ORDER BY requested_at, id",
                &[&org.to_string(), &hold.to_string()],
            )?
            .iter()
            .map(|r| {
                Ok(ReleaseRequest {
                    id: r.get(0),
                    hold,
                    requested_by_id: parse_id(r.get(1), UserId::parse)?,
                    requested_by: r.get(2),
                    reason: r.get(3),
                    requested_at: instant(r.get(4))?,
                    interactions: r.get::<_, Option<i64>>(5).and_then(|n| u32::try_from(n).ok()),
                })
            })
            .collect()
    }

    pub(super) fn selection_of(
        &mut self,
        org: OrgId,
        request: &str,
    ) -> StoreResult<Option<String>> {
        Ok(self
            .tx
            .query_opt(
                "SELECT selection FROM release_requests WHERE org_id = $1 AND id = $2",
                &[&org.to_string(), &request],
            )?
            .and_then(|r| r.get::<_, Option<String>>(0)))
    }

    pub(super) fn add_release_request(
        &mut self,
        org: OrgId,
        r: &ReleaseRequest,
        selection: Option<&str>,
    ) -> StoreResult<()> {
        self.ensure_locked(org)?;
        self.tx.execute(
            "INSERT INTO release_requests (org_id, id, hold_id, requested_by_id, requested_by, reason, requested_at, selection, interactions)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            &[
                &org.to_string(),
                &r.id,
                &r.hold.to_string(),
                &r.requested_by_id.to_string(),
                &r.requested_by,
                &r.reason,
                &r.requested_at.timestamp_millis(),
                &selection,
                &r.interactions.map(i64::from),
            ],
        )?;
        Ok(())
    }

    pub(super) fn record_decision(
        &mut self,
        org: OrgId,
        request: &str,
        by: &str,
        at: Instant,
        approved: bool,
    ) -> StoreResult<()> {
        self.ensure_locked(org)?;
        self.tx.execute(
            "UPDATE release_requests SET decided_by = $3, decided_at = $4, approved = $5
             WHERE org_id = $1 AND id = $2 AND decided_at IS NULL",
            &[
                &org.to_string(),
                &request,
                &by,
                &at.timestamp_millis(),
                &approved,
            ],
        )?;
        Ok(())
    }

    pub(super) fn members_of(
        &mut self,
        org: OrgId,
        hold: HoldId,
        ids: &[ConversationId],
    ) -> StoreResult<Vec<ConversationId>> {
        self.ensure_locked(org)?;
        let listed: Vec<String> = ids.iter().map(ToString::to_string).collect();
        let found: std::collections::HashSet<String> = self
            .tx
            .query(
                "SELECT conversation_id FROM hold_members
                 WHERE org_id = $1 AND hold_id = $2 AND conversation_id = ANY($3) AND active",
                &[&org.to_string(), &hold.to_string(), &listed],
            )?
            .iter()
            .map(|r| r.get(0))
            .collect();
        let mut out: Vec<ConversationId> = Vec::new();
        for (id, text) in ids.iter().zip(&listed) {
            if found.contains(text) && !out.contains(id) {
                out.push(*id);
            }
        }
        Ok(out)
    }

    pub(super) fn active_queries(&mut self, org: OrgId) -> StoreResult<Vec<(HoldId, String)>> {
        self.ensure_locked(org)?;
        self.tx
            .query(
                "SELECT id, query FROM holds WHERE org_id = $1 AND query IS NOT NULL AND released_at IS NULL
                 ORDER BY created_at, id",
                &[&org.to_string()],
            )?
            .iter()
            .map(|r| Ok((parse_id(r.get(0), HoldId::parse)?, r.get(1))))
            .collect()
    }

    pub(super) fn add_miss(
        &mut self,
        org: OrgId,
        hold: HoldId,
        conversation: ConversationId,
        at: Instant,
    ) -> StoreResult<bool> {
        self.ensure_locked(org)?;
        let n = self.tx.execute(
            "INSERT INTO hold_misses (org_id, hold_id, conversation_id, at) VALUES ($1, $2, $3, $4)
             ON CONFLICT DO NOTHING",
            &[
                &org.to_string(),
                &hold.to_string(),
                &conversation.to_string(),
                &at.timestamp_millis(),
            ],
        )?;
        Ok(n == 1)
    }

    fn misses(&mut self, org: OrgId, hold: HoldId) -> StoreResult<Vec<HoldMiss>> {
        self.tx
            .query(
                "SELECT conversation_id, at FROM hold_misses WHERE org_id = $1 AND hold_id = $2
                 ORDER BY at, conversation_id",
                &[&org.to_string(), &hold.to_string()],
            )?
            .iter()
            .map(|r| {
                Ok(HoldMiss {
                    id: parse_id(r.get(0), ConversationId::parse)?,
                    at: instant(r.get(1))?,
                })
            })
            .collect()
    }

    pub(super) fn add_members(
        &mut self,
        org: OrgId,
        hold: HoldId,
        conversations: &[ConversationId],
        by: &ProtectedBy,
    ) -> StoreResult<Vec<ConversationId>> {
        self.ensure_locked(org)?;
        let listed: Vec<String> = conversations.iter().map(ToString::to_string).collect();
        let rows = self.tx.query(
            "INSERT INTO hold_members (org_id, hold_id, conversation_id, added_at, added_by, reason)
             SELECT $1, $2, id, $4, $5, $6 FROM unnest($3::text[]) AS id
             ON CONFLICT DO NOTHING RETURNING conversation_id",
            &[
                &org.to_string(),
                &hold.to_string(),
                &listed,
                &by.at.timestamp_millis(),
                &by.by,
                &by.reason,
            ],
        )?;
        let joined: std::collections::HashSet<String> = rows.iter().map(|r| r.get(0)).collect();
        Ok(conversations
            .iter()
            .zip(&listed)
            .filter(|(_, text)| joined.contains(*text))
            .map(|(id, _)| *id)
            .collect())
    }

    pub(super) fn release_of(
        &mut self,
        org: OrgId,
        hold: HoldId,
        now: Instant,
    ) -> StoreResult<HoldRelease> {
        self.ensure_locked(org)?;
        let rows = self.tx.query(
            "SELECT m.conversation_id,
                    COALESCE((SELECT p.by_default FROM protections p
                              WHERE p.org_id = m.org_id AND p.conversation_id = m.conversation_id), false)
                    OR EXISTS (SELECT 1 FROM hold_members o
                               WHERE o.org_id = m.org_id AND o.conversation_id = m.conversation_id
                                 AND o.active AND o.hold_id <> m.hold_id),
                    (SELECT COUNT(*) FROM recordings r
                     WHERE r.org_id = m.org_id AND r.conversation_id = m.conversation_id
                       AND r.file_state = 'AVAILABLE' AND r.delete_date <= $3)
             FROM hold_members m WHERE m.org_id = $1 AND m.hold_id = $2 AND m.active
             ORDER BY m.conversation_id",
            &[&org.to_string(), &hold.to_string(), &now.timestamp_millis()],
        )?;
        let mut out = HoldRelease::default();
        for row in rows {
            let id = parse_id(row.get(0), ConversationId::parse)?;
            match row.get::<_, bool>(1) {
                true => out.stay_protected.push(id),
                false => {
                    out.deletable.push(id);
                    out.past_due_recordings =
                        out.past_due_recordings.saturating_add(to_u32(row.get(2)));
                }
            }
        }
        Ok(out)
    }

    pub(super) fn close_hold(
        &mut self,
        org: OrgId,
        hold: HoldId,
        at: Instant,
        by: &str,
        reason: Option<&str>,
    ) -> StoreResult<()> {
        self.ensure_locked(org)?;
        let (org, hold) = (org.to_string(), hold.to_string());
        self.tx.execute(
            "UPDATE holds SET released_at = $3, released_by = $4, release_reason = $5
             WHERE org_id = $1 AND id = $2 AND released_at IS NULL",
            &[&org, &hold, &at.timestamp_millis(), &by, &reason],
        )?;
        self.tx.execute(
            "UPDATE hold_members SET active = false WHERE org_id = $1 AND hold_id = $2 AND active",
            &[&org, &hold],
        )?;
        // Protections that only this hold kept.
        self.tx.execute(
            "DELETE FROM protections p WHERE p.org_id = $1 AND NOT p.by_default
               AND p.conversation_id IN (SELECT m.conversation_id FROM hold_members m
                                         WHERE m.org_id = $1 AND m.hold_id = $2)
               AND NOT EXISTS (SELECT 1 FROM hold_members o
                               WHERE o.org_id = p.org_id AND o.conversation_id = p.conversation_id
                                 AND o.active)",
            &[&org, &hold],
        )?;
        Ok(())
    }

    fn members(&mut self, org: OrgId, hold: &HoldInfo) -> StoreResult<Vec<HoldMember>> {
        let org = org.to_string();
        let rows = match hold.id.is_default() {
            true => self.tx.query(
                "SELECT p.conversation_id, c.start_time, c.queue, p.protected_at, p.protected_by, p.reason, true
                 FROM protections p JOIN conversations c ON c.org_id = p.org_id AND c.id = p.conversation_id
                 WHERE p.org_id = $1 AND p.by_default
                 ORDER BY p.protected_at, p.conversation_id",
                &[&org],
            )?,
            false => self.tx.query(
                "SELECT m.conversation_id, c.start_time, c.queue, m.added_at, m.added_by, m.reason, c.protected
                 FROM hold_members m JOIN conversations c ON c.org_id = m.org_id AND c.id = m.conversation_id
                 WHERE m.org_id = $1 AND m.hold_id = $2
                 ORDER BY m.added_at, m.conversation_id",
                &[&org, &hold.id.to_string()],
            )?,
        };
        rows.iter()
            .map(|r| {
                Ok(HoldMember {
                    id: parse_id(r.get(0), ConversationId::parse)?,
                    start_time: instant(r.get(1))?,
                    queue: r.get(2),
                    added_at: instant(r.get(3))?,
                    added_by: r.get(4),
                    reason: r.get(5),
                    protected: r.get(6),
                })
            })
            .collect()
    }

    pub(super) fn details_of_hold(
        &mut self,
        org: OrgId,
        id: HoldId,
        now: Instant,
    ) -> StoreResult<Option<HoldDetails>> {
        let Some(hold) = self.find_hold(org, id)? else {
            return Ok(None);
        };
        let release = match (hold.id.is_default(), hold.released_at) {
            (false, None) => self.release_of(org, id, now)?.counts(),
            _ => Default::default(),
        };
        let members = self.members(org, &hold)?;
        let missed = self.misses(org, id)?;
        let pending = self.waiting_releases(org, id)?;
        let settings = self.org_settings(org)?;
        Ok(Some(HoldDetails {
            hold,
            release,
            members,
            missed,
            pending,
            settings,
        }))
    }

    /// The active holds that cover a conversation: the default hold first, then by name.
    pub(super) fn holds_of(
        &mut self,
        org: OrgId,
        conversation: ConversationId,
    ) -> StoreResult<Vec<HoldRef>> {
        let (org, id) = (org.to_string(), conversation.to_string());
        let mut out = Vec::new();
        let by_default = self.tx.query_opt(
            "SELECT by_default FROM protections WHERE org_id = $1 AND conversation_id = $2",
            &[&org, &id],
        )?;
        if by_default.is_some_and(|r| r.get::<_, bool>(0)) {
            out.push(HoldRef {
                id: HoldId::DEFAULT,
                name: DEFAULT_HOLD_NAME.to_owned(),
                case_reference: None,
            });
        }
        for r in self.tx.query(
            "SELECT h.id, h.name, h.case_ref FROM hold_members m
             JOIN holds h ON h.org_id = m.org_id AND h.id = m.hold_id
             WHERE m.org_id = $1 AND m.conversation_id = $2 AND m.active ORDER BY h.name, h.id",
            &[&org, &id],
        )? {
            out.push(HoldRef {
                id: parse_id(r.get(0), HoldId::parse)?,
                name: r.get(1),
                case_reference: r.get(2),
            });
        }
        Ok(out)
    }
}
