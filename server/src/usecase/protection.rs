//! Protect and release (rules 1, 2, 7, 8, 9): a selection is counted, core plans the change
//! against the cap and the caller's permissions, and the plan is applied with one audit event
//! per conversation changed, all in one transaction.

use std::collections::HashSet;

use holdfast_core::api::Selection;
use holdfast_core::audit::{Actor, AuditAction, Details, EntityType};
use holdfast_core::protection::{
    Outcome, PlanError, ProtectAction, SelectionSummary, plan_protection,
};
use holdfast_core::{OrgId, Permissions};

use crate::store::{
    AuditContext, AuditDraft, ProtectedBy, ProtectionChange, ProtectionOutcome, Standing,
    StoreError, StoreResult, Transact, Tx,
};

/// Protects or releases a selection in one transaction. A refused plan changes nothing and is
/// returned as `Ok(Err(_))`.
pub fn apply(
    store: &dyn Transact,
    org: OrgId,
    perms: Permissions,
    change: &ProtectionChange,
    ctx: &AuditContext,
) -> StoreResult<Result<ProtectionOutcome, PlanError>> {
    super::transact(store, |tx| apply_in(tx, org, perms, change, ctx))
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
    // Listed ids are read once, for the plan and for each one's outcome; their past-due
    // recordings only matter to a release.
    let (summary, standings) = match &change.selection {
        Selection::Ids { ids } => {
            let standings = tx.classify(org, ids)?;
            let due = match change.action {
                ProtectAction::Protect => 0,
                ProtectAction::Release => tx.past_due(org, &change.selection, ctx.now)?,
            };
            (SelectionSummary::of_standings(&standings, due), standings)
        }
        Selection::Filter { .. } => (tx.summarize(org, &change.selection, ctx.now)?, Vec::new()),
    };
    let plan = match plan_protection(&status, perms, change.action, &summary) {
        Ok(plan) => plan,
        Err(e) => return Ok(Err(e)),
    };
    let ids = match &change.selection {
        // Listed ids: the standings already read say which change (core's outcome), each once.
        Selection::Ids { .. } => {
            let mut seen = HashSet::new();
            standings
                .iter()
                .filter(|(id, standing)| {
                    change.action.outcome(*standing) == Outcome::Changed && seen.insert(*id)
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
    let mut recordings_of = tx.recordings_of(org, &ids)?;
    let action = match change.action {
        ProtectAction::Protect => {
            let by = ProtectedBy {
                at: ctx.now,
                by: match &ctx.actor {
                    Actor::User { name, .. } => name.clone(),
                    Actor::System => "system".to_owned(),
                },
                reason: reason.clone(),
            };
            tx.protect(org, &ids, &by)?;
            AuditAction::ApplyProtection
        }
        ProtectAction::Release => {
            tx.release(org, &ids)?;
            AuditAction::RevokeProtection
        }
    };
    let drafts = ids.iter().map(|id| AuditDraft {
        action,
        entity_type: EntityType::Conversation,
        entity_id: id.to_string(),
        details: Details {
            recordings: recordings_of.remove(id).unwrap_or_default(),
            reason: reason.clone(),
            ..Details::default()
        },
    });
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
    }))
}
