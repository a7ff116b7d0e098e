//! Legal holds (matters): creating one and releasing one as a whole, each in one transaction
//! with its audit events. Adding conversations to a hold is a protect into it
//! ([`super::protection::apply`] with a hold).

use holdfast_core::audit::{Actor, AuditAction, Details, EntityType};
use holdfast_core::holds::{CreateHoldRequest, HoldError, HoldInfo, ReleaseCounts};
use holdfast_core::{ConversationId, HoldId, OrgId, Permissions, Reason};

use crate::store::{AuditContext, AuditDraft, StoreError, StoreResult, Transact};

/// The name an audit context acts as.
fn actor_name(ctx: &AuditContext) -> String {
    match &ctx.actor {
        Actor::User { name, .. } => name.clone(),
        Actor::System => "system".to_owned(),
    }
}

/// Creates a legal hold owned by the caller, audited as `CreateHold`.
pub fn create(
    store: &dyn Transact,
    org: OrgId,
    perms: Permissions,
    request: &CreateHoldRequest,
    ctx: &AuditContext,
) -> StoreResult<Result<HoldInfo, HoldError>> {
    let hold = match holdfast_core::holds::new_hold(perms, request) {
        Ok(hold) => hold,
        Err(e) => return Ok(Err(e)),
    };
    let id = HoldId::from_uuid(uuid::Uuid::new_v4());
    super::transact(store, |tx| {
        let owner = actor_name(ctx);
        tx.insert_hold(org, id, &hold, &owner, ctx.now)?;
        let draft = AuditDraft {
            action: AuditAction::CreateHold,
            entity_type: EntityType::Hold,
            entity_id: id.to_string(),
            details: Details {
                message: Some(match &hold.case_reference {
                    Some(case) => format!("{} ({case})", hold.name),
                    None => hold.name.clone(),
                }),
                hold: Some(id.to_string()),
                ..Details::default()
            },
        };
        super::audit::append(tx, org, ctx, [draft])?;
        let created = tx.hold(org, id)?.ok_or_else(|| {
            StoreError::Corrupt(format!("the hold {id} is not found after its insert"))
        })?;
        Ok(Ok(created))
    })
}

/// What a committed hold release did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HoldReleased {
    pub counts: ReleaseCounts,
    /// The conversations no longer protected: their stored objects' legal holds follow.
    pub released: Vec<ConversationId>,
}

/// Releases a legal hold as a whole: the conversations nothing else protects are released
/// (each audited as `RevokeProtection` naming the hold), the others stay protected; the hold
/// is audited as `ReleaseHold` with the counts. `Ok(None)`: no such hold.
pub fn release(
    store: &dyn Transact,
    org: OrgId,
    perms: Permissions,
    id: HoldId,
    reason: Option<&Reason>,
    ctx: &AuditContext,
) -> StoreResult<Option<Result<HoldReleased, HoldError>>> {
    let reason = reason.map(|r| r.as_str().to_owned());
    super::transact(store, |tx| {
        let Some(hold) = tx.hold(org, id)? else {
            return Ok(None);
        };
        if let Err(e) = holdfast_core::holds::check_release(perms, &hold) {
            return Ok(Some(Err(e)));
        }
        let plan = tx.hold_release(org, id, ctx.now)?;
        let counts = plan.counts();
        let by = actor_name(ctx);
        tx.end_hold(org, id, ctx.now, &by, reason.as_deref())?;
        let mut recordings_of = tx.recordings_of(org, &plan.deletable)?;
        let hold_text = id.to_string();
        let hold_event = AuditDraft {
            action: AuditAction::ReleaseHold,
            entity_type: EntityType::Hold,
            entity_id: hold_text.clone(),
            details: Details {
                reason: reason.clone(),
                message: Some(format!(
                    "{}: {} released, {} stay protected by other holds, {} past-due recordings",
                    hold.name, counts.deletable, counts.stay_protected, counts.past_due_recordings
                )),
                hold: Some(hold_text.clone()),
                ..Details::default()
            },
        };
        let drafts: Vec<AuditDraft> = std::iter::once(hold_event)
            .chain(plan.deletable.iter().map(|conversation| AuditDraft {
                action: AuditAction::RevokeProtection,
                entity_type: EntityType::Conversation,
                entity_id: conversation.to_string(),
                details: Details {
                    recordings: recordings_of.remove(conversation).unwrap_or_default(),
                    reason: reason.clone(),
                    hold: Some(hold_text.clone()),
                    ..Details::default()
                },
            }))
            .collect();
        super::audit::append(tx, org, ctx, drafts)?;
        tx.mark_holds(org, &plan.deletable)?;
        Ok(Some(Ok(HoldReleased {
            counts,
            released: plan.deletable.clone(),
        })))
    })
}
