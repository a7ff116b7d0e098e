//! Legal holds on SQLite (migration 0014): the reads the hold pages make and the hold side of
//! a transaction, over any connection. Every statement starts from a key: a hold's members
//! (at most the cap's worth while it is active), or a conversation's memberships.

use holdfast_core::holds::{
    DEFAULT_HOLD_NAME, HoldDetails, HoldInfo, HoldMember, HoldMiss, HoldRef, NewHold, OrgSettings,
    ReleaseRequest,
};
use holdfast_core::time::Instant;
use holdfast_core::{ConversationId, HoldId, OrgId, UserId};
use rusqlite::{Connection, OptionalExtension, Row, params};

use super::{from_ms, ms, parse_id};
use crate::store::{HoldRelease, ProtectedBy, StoreResult};

/// Whether an active legal hold covers the conversation `c`, as SQL.
pub(super) const HELD: &str = "EXISTS (SELECT 1 FROM hold_members m INDEXED BY hold_members_active
    WHERE m.org_id = c.org_id AND m.conversation_id = c.id AND m.active = 1)";

const HOLD_COLUMNS: &str = "h.id, h.name, h.case_ref, h.description, h.owner, h.created_at, h.released_at, h.released_by, h.query,
     (SELECT COUNT(*) FROM hold_misses x WHERE x.org_id = h.org_id AND x.hold_id = h.id)";

/// A hold from [`HOLD_COLUMNS`] and its count.
fn hold_of(row: &Row<'_>, conversations: i64) -> StoreResult<HoldInfo> {
    let id: String = row.get(0)?;
    Ok(HoldInfo {
        id: parse_id(&id, HoldId::parse)?,
        name: row.get(1)?,
        case_reference: row.get(2)?,
        description: row.get(3)?,
        owner: row.get(4)?,
        created_at: from_ms(row.get(5)?),
        released_at: row.get::<_, Option<i64>>(6)?.map(from_ms),
        released_by: row.get(7)?,
        conversations: u32::try_from(conversations).unwrap_or(u32::MAX),
        query: row.get(8)?,
        missed: u32::try_from(row.get::<_, i64>(9)?).unwrap_or(u32::MAX),
    })
}

/// How many conversations a hold covers now.
fn covered(c: &Connection, org: OrgId, id: HoldId) -> StoreResult<i64> {
    let org = org.to_string();
    Ok(match id.is_default() {
        true => c
            .prepare_cached("SELECT COUNT(*) FROM protections WHERE org_id = ? AND by_default = 1")?
            .query_row([org], |r| r.get(0))?,
        false => c
            .prepare_cached(
                "SELECT COUNT(*) FROM hold_members WHERE org_id = ? AND hold_id = ? AND active = 1",
            )?
            .query_row(params![org, id.to_string()], |r| r.get(0))?,
    })
}

pub(super) fn hold(c: &Connection, org: OrgId, id: HoldId) -> StoreResult<Option<HoldInfo>> {
    let row = c
        .prepare_cached(&format!(
            "SELECT {HOLD_COLUMNS} FROM holds h WHERE h.org_id = ? AND h.id = ?"
        ))?
        .query_row(params![org.to_string(), id.to_string()], |r| {
            Ok(hold_of(r, 0))
        })
        .optional()?;
    let Some(hold) = row.transpose()? else {
        return Ok(None);
    };
    let conversations = match hold.released_at {
        Some(_) => 0,
        None => covered(c, org, id)?,
    };
    Ok(Some(HoldInfo {
        conversations: u32::try_from(conversations).unwrap_or(u32::MAX),
        ..hold
    }))
}

pub(super) fn holds(
    c: &Connection,
    org: OrgId,
    search: Option<&str>,
) -> StoreResult<Vec<HoldInfo>> {
    // A hold is a few rows per matter: an organization has tens or hundreds, never millions.
    let mut stmt = c.prepare_cached(&format!(
        "SELECT {HOLD_COLUMNS} FROM holds h WHERE h.org_id = ?
         ORDER BY h.id <> '{}', h.released_at IS NOT NULL, h.created_at DESC, h.id",
        HoldId::DEFAULT
    ))?;
    let rows: Vec<HoldInfo> = stmt
        .query_map([org.to_string()], |r| Ok(hold_of(r, 0)))?
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .collect::<StoreResult<_>>()?;
    let mut out = Vec::with_capacity(rows.len());
    for hold in rows.into_iter().filter(|h| h.matches(search)) {
        let conversations = match hold.released_at {
            Some(_) => 0,
            None => covered(c, org, hold.id)?,
        };
        out.push(HoldInfo {
            conversations: u32::try_from(conversations).unwrap_or(u32::MAX),
            ..hold
        });
    }
    Ok(out)
}

/// The listed conversations an active legal hold covers, each once.
pub(super) fn held(
    c: &Connection,
    org: OrgId,
    ids: &[ConversationId],
) -> StoreResult<Vec<ConversationId>> {
    let mut stmt = c.prepare_cached(
        "SELECT 1 FROM hold_members INDEXED BY hold_members_active
         WHERE org_id = ? AND conversation_id = ? AND active = 1 LIMIT 1",
    )?;
    let mut out = Vec::new();
    let org = org.to_string();
    for id in ids {
        if out.contains(id) {
            continue;
        }
        if stmt.exists(params![org, id.to_string()])? {
            out.push(*id);
        }
    }
    Ok(out)
}

pub(super) fn insert_hold(
    c: &Connection,
    org: OrgId,
    id: HoldId,
    hold: &NewHold,
    owner: &str,
    at: Instant,
) -> StoreResult<()> {
    c.prepare_cached(
        "INSERT INTO holds (org_id, id, name, case_ref, description, owner, created_at, query)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    )?
    .execute(params![
        org.to_string(),
        id.to_string(),
        hold.name,
        hold.case_reference,
        hold.description,
        owner,
        ms(at),
        hold.query
    ])?;
    Ok(())
}

pub(super) fn settings(c: &Connection, org: OrgId) -> StoreResult<OrgSettings> {
    let two: bool = c
        .prepare_cached("SELECT two_person_release FROM organizations WHERE id = ?")?
        .query_row([org.to_string()], |r| r.get(0))?;
    Ok(OrgSettings {
        two_person_release: two,
    })
}

pub(super) fn set_settings(c: &Connection, org: OrgId, settings: &OrgSettings) -> StoreResult<()> {
    c.prepare_cached("UPDATE organizations SET two_person_release = ? WHERE id = ?")?
        .execute(params![settings.two_person_release, org.to_string()])?;
    Ok(())
}

pub(super) fn pending_releases(
    c: &Connection,
    org: OrgId,
    hold: HoldId,
) -> StoreResult<Vec<ReleaseRequest>> {
    let mut stmt = c.prepare_cached(
        "SELECT id, requested_by_id, requested_by, reason, requested_at, interactions FROM release_requests
         INDEXED BY release_requests_pending
         WHERE org_id = ? AND hold_id = ? AND decided_at IS NULL ORDER BY requested_at, id",
    )?;
    let rows = stmt.query_map(params![org.to_string(), hold.to_string()], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, Option<String>>(3)?,
            r.get::<_, i64>(4)?,
            r.get::<_, Option<i64>>(5)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (id, by_id, by, reason, at, n) = row?;
        out.push(ReleaseRequest {
            id,
            hold,
            requested_by_id: parse_id(&by_id, UserId::parse)?,
            requested_by: by,
            reason,
            requested_at: from_ms(at),
            interactions: n.and_then(|n| u32::try_from(n).ok()),
        });
    }
    Ok(out)
}

pub(super) fn release_selection(
    c: &Connection,
    org: OrgId,
    request: &str,
) -> StoreResult<Option<String>> {
    Ok(
        c.prepare_cached("SELECT selection FROM release_requests WHERE org_id = ? AND id = ?")?
            .query_row(params![org.to_string(), request], |r| {
                r.get::<_, Option<String>>(0)
            })
            .optional()?
            .flatten(),
    )
}

pub(super) fn insert_release_request(
    c: &Connection,
    org: OrgId,
    r: &ReleaseRequest,
    selection: Option<&str>,
) -> StoreResult<()> {
    c.prepare_cached(
        "INSERT INTO release_requests (org_id, id, hold_id, requested_by_id, requested_by, reason, requested_at, selection, interactions)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )?
    .execute(params![
        org.to_string(),
        r.id,
        r.hold.to_string(),
        r.requested_by_id.to_string(),
        r.requested_by,
        r.reason,
        ms(r.requested_at),
        selection,
        r.interactions
    ])?;
    Ok(())
}

pub(super) fn decide_release(
    c: &Connection,
    org: OrgId,
    request: &str,
    by: &str,
    at: Instant,
    approved: bool,
) -> StoreResult<()> {
    c.prepare_cached(
        "UPDATE release_requests SET decided_by = ?, decided_at = ?, approved = ?
         WHERE org_id = ? AND id = ? AND decided_at IS NULL",
    )?
    .execute(params![by, ms(at), approved, org.to_string(), request])?;
    Ok(())
}

pub(super) fn in_hold(
    c: &Connection,
    org: OrgId,
    hold: HoldId,
    ids: &[ConversationId],
) -> StoreResult<Vec<ConversationId>> {
    let mut stmt = c.prepare_cached(
        "SELECT 1 FROM hold_members WHERE org_id = ? AND hold_id = ? AND conversation_id = ? AND active = 1",
    )?;
    let (org, hold) = (org.to_string(), hold.to_string());
    let mut out = Vec::new();
    for id in ids {
        if !out.contains(id) && stmt.exists(params![org, hold, id.to_string()])? {
            out.push(*id);
        }
    }
    Ok(out)
}

/// The organization's active legal holds that carry a query, oldest first.
pub(super) fn query_holds(c: &Connection, org: OrgId) -> StoreResult<Vec<(HoldId, String)>> {
    let mut stmt = c.prepare_cached(
        "SELECT id, query FROM holds WHERE org_id = ? AND query IS NOT NULL AND released_at IS NULL
         ORDER BY created_at, id",
    )?;
    let rows = stmt.query_map([org.to_string()], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (id, query) = row?;
        out.push((parse_id(&id, HoldId::parse)?, query));
    }
    Ok(out)
}

pub(super) fn note_miss(
    c: &Connection,
    org: OrgId,
    hold: HoldId,
    conversation: ConversationId,
    at: Instant,
) -> StoreResult<bool> {
    let n = c
        .prepare_cached(
            "INSERT INTO hold_misses (org_id, hold_id, conversation_id, at) VALUES (?, ?, ?, ?)
             ON CONFLICT DO NOTHING",
        )?
        .execute(params![
            org.to_string(),
            hold.to_string(),
            conversation.to_string(),
            ms(at)
        ])?;
    Ok(n == 1)
}

fn misses(c: &Connection, org: OrgId, hold: HoldId) -> StoreResult<Vec<HoldMiss>> {
    let mut stmt = c.prepare_cached(
        "SELECT conversation_id, at FROM hold_misses WHERE org_id = ? AND hold_id = ?
         ORDER BY at, conversation_id",
    )?;
    let rows = stmt.query_map(params![org.to_string(), hold.to_string()], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (id, at) = row?;
        out.push(HoldMiss {
            id: parse_id(&id, ConversationId::parse)?,
            at: from_ms(at),
        });
    }
    Ok(out)
}

pub(super) fn join_hold(
    c: &Connection,
    org: OrgId,
    hold: HoldId,
    conversations: &[ConversationId],
    by: &ProtectedBy,
) -> StoreResult<Vec<ConversationId>> {
    let mut stmt = c.prepare_cached(
        "INSERT INTO hold_members (org_id, hold_id, conversation_id, added_at, added_by, reason)
         VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
    )?;
    let (org, hold) = (org.to_string(), hold.to_string());
    let mut joined = Vec::new();
    for id in conversations {
        let n = stmt.execute(params![
            org,
            hold,
            id.to_string(),
            ms(by.at),
            by.by,
            by.reason
        ])?;
        if n == 1 {
            joined.push(*id);
        }
    }
    Ok(joined)
}

pub(super) fn hold_release(
    c: &Connection,
    org: OrgId,
    hold: HoldId,
    now: Instant,
) -> StoreResult<HoldRelease> {
    // From the hold's active members (at most the cap's worth), each looked up by key.
    let mut stmt = c.prepare_cached(
        "SELECT m.conversation_id,
                COALESCE((SELECT p.by_default FROM protections p
                          WHERE p.org_id = m.org_id AND p.conversation_id = m.conversation_id), 0)
                OR EXISTS (SELECT 1 FROM hold_members o INDEXED BY hold_members_active
                           WHERE o.org_id = m.org_id AND o.conversation_id = m.conversation_id
                             AND o.active = 1 AND o.hold_id <> m.hold_id),
                (SELECT COUNT(*) FROM recordings r
                 WHERE r.org_id = m.org_id AND r.conversation_id = m.conversation_id
                   AND r.file_state = 'AVAILABLE' AND r.delete_date <= ?)
         FROM hold_members m WHERE m.org_id = ? AND m.hold_id = ? AND m.active = 1
         ORDER BY m.conversation_id",
    )?;
    let rows = stmt.query_map(params![ms(now), org.to_string(), hold.to_string()], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, bool>(1)?,
            r.get::<_, i64>(2)?,
        ))
    })?;
    let mut out = HoldRelease::default();
    for row in rows {
        let (id, stays, due) = row?;
        let id = parse_id(&id, ConversationId::parse)?;
        match stays {
            true => out.stay_protected.push(id),
            false => {
                out.deletable.push(id);
                out.past_due_recordings = out
                    .past_due_recordings
                    .saturating_add(u32::try_from(due).unwrap_or(u32::MAX));
            }
        }
    }
    Ok(out)
}

pub(super) fn end_hold(
    c: &Connection,
    org: OrgId,
    hold: HoldId,
    at: Instant,
    by: &str,
    reason: Option<&str>,
) -> StoreResult<()> {
    let (org, hold) = (org.to_string(), hold.to_string());
    c.prepare_cached(
        "UPDATE holds SET released_at = ?, released_by = ?, release_reason = ?
         WHERE org_id = ? AND id = ? AND released_at IS NULL",
    )?
    .execute(params![ms(at), by, reason, org, hold])?;
    c.prepare_cached(
        "UPDATE hold_members SET active = 0 WHERE org_id = ? AND hold_id = ? AND active = 1",
    )?
    .execute(params![org, hold])?;
    // Protections that only this hold kept.
    c.prepare_cached(
        "DELETE FROM protections WHERE org_id = ?1 AND by_default = 0 AND conversation_id IN (
             SELECT m.conversation_id FROM hold_members m WHERE m.org_id = ?1 AND m.hold_id = ?2
               AND NOT EXISTS (SELECT 1 FROM hold_members o INDEXED BY hold_members_active
                               WHERE o.org_id = m.org_id AND o.conversation_id = m.conversation_id
                                 AND o.active = 1))",
    )?
    .execute(params![org, hold])?;
    Ok(())
}

/// A hold's members: the default hold's protections, or a legal hold's rows (every one it
/// ever had, once released).
fn members(c: &Connection, org: OrgId, hold: &HoldInfo) -> StoreResult<Vec<HoldMember>> {
    // The default hold's members are its protections, a legal hold's its rows.
    let (sql, args) = match hold.id.is_default() {
        true => (
            "SELECT p.conversation_id, c.start_time, c.queue, p.protected_at, p.protected_by, p.reason, 1
             FROM protections p CROSS JOIN conversations c ON c.org_id = p.org_id AND c.id = p.conversation_id
             WHERE p.org_id = ? AND p.by_default = 1
             ORDER BY p.protected_at, p.conversation_id",
            vec![org.to_string()],
        ),
        false => (
            "SELECT m.conversation_id, c.start_time, c.queue, m.added_at, m.added_by, m.reason, c.protected
             FROM hold_members m CROSS JOIN conversations c ON c.org_id = m.org_id AND c.id = m.conversation_id
             WHERE m.org_id = ? AND m.hold_id = ?
             ORDER BY m.added_at, m.conversation_id",
            vec![org.to_string(), hold.id.to_string()],
        ),
    };
    let mut stmt = c.prepare_cached(sql)?;
    let rows = stmt.query_map(rusqlite::params_from_iter(args.iter()), |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, i64>(1)?,
            r.get::<_, Option<String>>(2)?,
            r.get::<_, i64>(3)?,
            r.get::<_, String>(4)?,
            r.get::<_, Option<String>>(5)?,
            r.get::<_, bool>(6)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (id, start, queue, added_at, added_by, reason, protected) = row?;
        out.push(HoldMember {
            id: parse_id(&id, ConversationId::parse)?,
            start_time: from_ms(start),
            queue,
            added_at: from_ms(added_at),
            added_by,
            reason,
            protected,
        });
    }
    Ok(out)
}

pub(super) fn hold_details(
    c: &Connection,
    org: OrgId,
    id: HoldId,
    now: Instant,
) -> StoreResult<Option<HoldDetails>> {
    let Some(hold) = hold(c, org, id)? else {
        return Ok(None);
    };
    let release = match (hold.id.is_default(), hold.released_at) {
        (false, None) => hold_release(c, org, id, now)?.counts(),
        _ => Default::default(),
    };
    let members = members(c, org, &hold)?;
    let missed = misses(c, org, id)?;
    Ok(Some(HoldDetails {
        hold,
        release,
        members,
        missed,
        pending: pending_releases(c, org, id)?,
        settings: settings(c, org)?,
    }))
}

/// The active holds that cover a conversation: the default hold first, then by name.
pub(super) fn holds_of(
    c: &Connection,
    org: OrgId,
    conversation: ConversationId,
) -> StoreResult<Vec<HoldRef>> {
    let (org, id) = (org.to_string(), conversation.to_string());
    let mut out = Vec::new();
    let by_default: Option<bool> = c
        .prepare_cached(
            "SELECT by_default FROM protections WHERE org_id = ? AND conversation_id = ?",
        )?
        .query_row(params![org, id], |r| r.get(0))
        .optional()?;
    if by_default == Some(true) {
        out.push(HoldRef {
            id: HoldId::DEFAULT,
            name: DEFAULT_HOLD_NAME.to_owned(),
            case_reference: None,
        });
    }
    let mut stmt = c.prepare_cached(
        "SELECT h.id, h.name, h.case_ref FROM hold_members m INDEXED BY hold_members_active
         JOIN holds h ON h.org_id = m.org_id AND h.id = m.hold_id
         WHERE m.org_id = ? AND m.conversation_id = ? AND m.active = 1 ORDER BY h.name, h.id",
    )?;
    let rows = stmt.query_map(params![org, id], |r| {
        Ok((r.get::<_, String>(0)?, r.get(1)?, r.get(2)?))
    })?;
    for row in rows {
        let (hold, name, case_reference) = row?;
        out.push(HoldRef {
            id: parse_id(&hold, HoldId::parse)?,
            name,
            case_reference,
        });
    }
    Ok(out)
}
