//! Protect and release (rules 1, 2, 7, 8, 9): a selection is counted, core plans the change
//! against the cap and the caller's permissions, and the plan is applied with one audit event
//! per conversation changed, all in one transaction.

use std::collections::HashSet;

use holdfast_core::api::Selection;
use holdfast_core::audit::{Actor, AuditAction, Details, EntityType};
use holdfast_core::holds::ReleaseRequest;
use holdfast_core::protection::{
    Outcome, PlanError, ProtectAction, SelectionSummary, plan_protection,
};
use holdfast_core::{ConversationId, HoldId, OrgId, Permissions};

use crate::store::{
    AuditContext, AuditDraft, ProtectedBy, ProtectionChange, ProtectionOutcome, Standing,
    StoreError, StoreResult, Transact, Tx,
};

/// Protects or releases a selection in one transaction. A refused plan changes nothing and is
/// returned as `Ok(Err(_))`. Where the organization releases with two people, a release is
/// only asked for (`requested`): a second user approves it (`usecase::holds::decide`).
pub fn apply(
    store: &dyn Transact,
    org: OrgId,
    perms: Permissions,
    change: &ProtectionChange,
    ctx: &AuditContext,
) -> StoreResult<Result<ProtectionOutcome, PlanError>> {
    let request_id = uuid::Uuid::new_v4().to_string();
    super::transact(store, |tx| {
        if change.action == ProtectAction::Release && tx.settings(org)?.two_person_release {
            return request_in(tx, org, perms, change, &request_id, ctx);
        }
        apply_in(tx, org, perms, change, ctx)
    })
}

/// What a selection holds, read once inside the transaction: the summary the plan is made
/// from, each listed id's standing, and (on a release) the listed ones a legal hold keeps.
type Read = (
    SelectionSummary,
    Vec<(ConversationId, Standing)>,
    Vec<ConversationId>,
);

fn read_selection(
    tx: &mut dyn Tx,
    org: OrgId,
    change: &ProtectionChange,
    now: holdfast_core::time::Instant,
) -> StoreResult<Read> {
    Ok(match &change.selection {
        Selection::Ids { ids } => {
            let standings = tx.classify(org, ids)?;
            let (held, due) = match change.action {
                ProtectAction::Protect => (Vec::new(), 0),
                ProtectAction::Release => {
                    let protected: Vec<ConversationId> = standings
                        .iter()
                        .filter(|(_, s)| *s == Standing::Protected)
                        .map(|(id, _)| *id)
                        .collect();
                    (
                        tx.held(org, &protected)?,
                        tx.past_due(org, &change.selection, now)?,
                    )
                }
            };
            (
                SelectionSummary::of_standings(&standings, &held, due),
                standings,
                held,
            )
        }
        Selection::Filter { .. } => (
            tx.summarize(org, &change.selection, now)?,
            Vec::new(),
            Vec::new(),
        ),
    })
}

/// A release asked for (two-person release): planned as it would run now, recorded with its
/// selection for the second user, audited `ReleaseRequested`; nothing is released.
fn request_in(
    tx: &mut dyn Tx,
    org: OrgId,
    perms: Permissions,
    change: &ProtectionChange,
    request_id: &str,
    ctx: &AuditContext,
) -> StoreResult<Result<ProtectionOutcome, PlanError>> {
    let status = tx.org_status(org)?;
    let (summary, standings, held) = read_selection(tx, org, change, ctx.now)?;
    let plan = match plan_protection(&status, perms, change.action, &summary) {
        Ok(plan) => plan,
        Err(e) => return Ok(Err(e)),
    };
    let reason = change.reason.as_ref().map(|r| r.as_str().to_owned());
    let request = ReleaseRequest {
        id: request_id.to_owned(),
        hold: HoldId::DEFAULT,
        requested_by_id: super::actor_id(ctx),
        requested_by: super::actor_name(ctx),
        reason: reason.clone(),
        requested_at: ctx.now,
        interactions: Some(plan.change),
    };
    let selection = serde_json::to_string(&change.selection)
        .map_err(|e| StoreError::Corrupt(format!("a selection: {e}")))?;
    tx.insert_release_request(org, &request, Some(&selection))?;
    let draft = AuditDraft {
        action: AuditAction::ReleaseRequested,
        entity_type: EntityType::Hold,
        entity_id: HoldId::DEFAULT.to_string(),
        details: Details {
            reason,
            message: Some(format!(
                "release of {} from the default hold",
                holdfast_core::format::counted(plan.change, "interaction", "interactions")
            )),
            hold: Some(HoldId::DEFAULT.to_string()),
            ..Details::default()
        },
    };
    super::audit::append(tx, org, ctx, [draft])?;
    let not_found = standings
        .iter()
        .filter(|(_, s)| *s == Standing::NotFound)
        .map(|(id, _)| *id)
        .collect();
    Ok(Ok(ProtectionOutcome {
        plan,
        changed: Vec::new(),
        not_found,
        standings,
        joined: Vec::new(),
        held,
        requested: Some(request),
    }))
}

/// The body of [`apply`], inside its transaction: the counts the plan is made from cannot
/// change before the plan is applied.
pub fn apply_in(
    tx: &mut dyn Tx,
    org: OrgId,
    perms: Permissions,
    change: &ProtectionChange,
    ctx: &AuditContext,
) -> StoreResult<Result<ProtectionOutcome, PlanError>> {
    let status = tx.org_status(org)?;
    // A protect into a legal hold: the hold must be the organization's and active.
    let hold = match change.hold.filter(|h| !h.is_default()) {
        Some(id) => match tx.hold(org, id)? {
            None => return Ok(Err(PlanError::UnknownHold)),
            Some(h) if h.released_at.is_some() => return Ok(Err(PlanError::HoldReleased)),
            Some(_) => Some(id),
        },
        None => None,
    };
    // Listed ids are read once, for the plan and for each one's outcome; their past-due
    // recordings only matter to a release, and which are held only to a release.
    let (summary, standings, held) = read_selection(tx, org, change, ctx.now)?;
    let planned = match hold {
        Some(_) => holdfast_core::holds::plan_add(&status, perms, &summary),
        None => plan_protection(&status, perms, change.action, &summary),
    };
    let plan = match planned {
        Ok(plan) => plan,
        Err(e) => return Ok(Err(e)),
    };
    let ids: Vec<ConversationId> = match &change.selection {
        // Listed ids: the standings already read say which change (core's outcome), each once;
        // a release leaves the held ones.
        Selection::Ids { .. } => {
            let mut seen = HashSet::new();
            standings
                .iter()
                .filter(|(id, standing)| {
                    change.action.outcome(*standing) == Outcome::Changed
                        && !held.contains(id)
                        && seen.insert(*id)
                })
                .map(|(id, _)| *id)
                .collect()
        }
        Selection::Filter { .. } => tx.to_change(org, &change.selection, change.action)?,
    };
    // The plan was made from the same counts inside this transaction; a mismatch is a bug.
    if ids.len() != plan.change as usize {
        return Err(StoreError::Corrupt(format!(
            "planned {} changes but found {} conversations",
            plan.change,
            ids.len()
        )));
    }
    let reason = change.reason.as_ref().map(|r| r.as_str().to_owned());
    let by = ProtectedBy {
        at: ctx.now,
        by: match &ctx.actor {
            Actor::User { name, .. } => name.clone(),
            Actor::System => "system".to_owned(),
        },
        reason: reason.clone(),
    };
    let action = match change.action {
        ProtectAction::Protect => {
            tx.protect(org, &ids, &by, hold.is_none())?;
            AuditAction::ApplyProtection
        }
        ProtectAction::Release => {
            tx.release(org, &ids)?;
            AuditAction::RevokeProtection
        }
    };
    // Into a legal hold: the new protections and the protected ones of the selection join it.
    let joined = match hold {
        Some(id) => {
            let mut members = ids.clone();
            let protected = match &change.selection {
                Selection::Ids { .. } => standings
                    .iter()
                    .filter(|(_, s)| *s == Standing::Protected)
                    .map(|(id, _)| *id)
                    .collect(),
                Selection::Filter { .. } => tx.protected_in(org, &change.selection)?,
            };
            members.extend(protected.into_iter().filter(|id| !ids.contains(id)));
            let new: HashSet<ConversationId> = ids.iter().copied().collect();
            tx.join_hold(org, id, &members, &by)?
                .into_iter()
                .filter(|id| !new.contains(id))
                .collect()
        }
        None => Vec::new(),
    };
    let mut recordings_of = tx.recordings_of(org, &[ids.as_slice(), joined.as_slice()].concat())?;
    let hold_text = hold.map(|h| h.to_string());
    let drafts = ids
        .iter()
        .map(|id| (action, id))
        .chain(joined.iter().map(|id| (AuditAction::AddToHold, id)))
        .map(|(action, id)| AuditDraft {
            action,
            entity_type: EntityType::Conversation,
            entity_id: id.to_string(),
            details: Details {
                recordings: recordings_of.remove(id).unwrap_or_default(),
                reason: reason.clone(),
                hold: hold_text.clone(),
                ..Details::default()
            },
        })
        .collect::<Vec<_>>();
    super::audit::append(tx, org, ctx, drafts)?;
    // Their stored objects' legal holds follow once this commits (`media::holds`).
    tx.mark_holds(org, &ids)?;
    let not_found = standings
        .iter()
        .filter(|(_, s)| *s == Standing::NotFound)
        .map(|(id, _)| *id)
        .collect();
    Ok(Ok(ProtectionOutcome {
        plan,
        changed: ids,
        not_found,
        standings,
        joined,
        held,
        requested: None,
    }))
}
