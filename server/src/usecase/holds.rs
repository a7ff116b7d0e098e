//! Legal holds (matters): creating one and releasing one as a whole, each in one transaction
//! with its audit events. Adding conversations to a hold is a protect into it
//! ([`super::protection::apply`] with a hold).

use holdfast_core::api::Selection;
use holdfast_core::audit::{Actor, AuditAction, Details, EntityType};
use holdfast_core::holds::{
    CreateHoldRequest, HoldError, HoldInfo, ListPreview, ReleaseCounts, ReleaseRequest,
};
use holdfast_core::protection::{PlanError, ProtectAction};
use holdfast_core::{ConversationId, HoldId, OrgId, Permissions, Reason};

use crate::store::{
    AuditContext, AuditDraft, ProtectionChange, StoreError, StoreResult, Transact, Tx,
};

use super::{actor_id, actor_name};

/// Creates a legal hold owned by the caller, audited as `CreateHold`. A hold with a query
/// covers, in the same transaction, every interaction the query matches now (protected against
/// the cap as any protect: when they do not fit, no hold is created); from then on it catches
/// those that arrive and match ([`catch_arrivals`]).
pub fn create(
    store: &dyn Transact,
    org: OrgId,
    perms: Permissions,
    request: &CreateHoldRequest,
    ctx: &AuditContext,
) -> StoreResult<Result<Created, HoldError>> {
    let hold = match holdfast_core::holds::new_hold(perms, request) {
        Ok(hold) => hold,
        Err(e) => return Ok(Err(e)),
    };
    let id = HoldId::from_uuid(uuid::Uuid::new_v4());
    super::transact(store, |tx| {
        // What the query matches now must fit before anything is written.
        let matching = hold.query.as_ref().map(|query| Selection::Filter {
            query: query.clone(),
            except: Vec::new(),
        });
        if let Some(selection) = &matching {
            let status = tx.org_status(org)?;
            let summary = tx.summarize(org, selection, ctx.now)?;
            match holdfast_core::holds::plan_add(&status, perms, &summary) {
                Ok(_) | Err(PlanError::NothingToDo { .. } | PlanError::EmptySelection) => {}
                Err(plan) => return Ok(Err(HoldError::Refused { plan })),
            }
        }
        let owner = actor_name(ctx);
        let mut protected = Vec::new();
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
        if let Some(selection) = matching {
            let change = ProtectionChange {
                action: ProtectAction::Protect,
                selection,
                reason: Reason::new("matched the hold's query").ok().flatten(),
                hold: Some(id),
            };
            match super::protection::apply_in(tx, org, perms, &change, ctx)? {
                Ok(outcome) => protected = outcome.changed,
                Err(PlanError::NothingToDo { .. } | PlanError::EmptySelection) => {}
                // Decided above from the same counts in this transaction.
                Err(plan) => {
                    return Err(StoreError::Corrupt(format!(
                        "a query hold's plan changed within its transaction: {plan}"
                    )));
                }
            }
        }
        let created = tx.hold(org, id)?.ok_or_else(|| {
            StoreError::Corrupt(format!("the hold {id} is not found after its insert"))
        })?;
        Ok(Ok(Created {
            hold: created,
            protected,
        }))
    })
}

/// A hold just created.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Created {
    pub hold: HoldInfo,
    /// What its query protected: their stored objects' legal holds follow after the commit.
    pub protected: Vec<ConversationId>,
}

/// A list to add to a legal hold.
#[derive(Clone, Debug)]
pub struct ListChange {
    pub hold: HoldId,
    pub list: holdfast_core::holds::IdList,
    pub reason: Option<Reason>,
    /// False: only say what it would do.
    pub apply: bool,
}

/// What a list did, or would do: the preview, and the conversations it protected (their
/// stored objects' legal holds follow after the commit).
pub type ListDone = (ListPreview, Vec<ConversationId>);

/// Adds a pasted or uploaded list to a legal hold, all or nothing against the cap; with
/// `apply` false, only says what it would do. `Ok(None)`: no such hold.
pub fn add_list(
    store: &dyn Transact,
    org: OrgId,
    perms: Permissions,
    change: &ListChange,
    ctx: &AuditContext,
) -> StoreResult<Option<Result<ListDone, HoldError>>> {
    let (id, list, apply) = (change.hold, &change.list, change.apply);
    let reason = change.reason.as_ref();
    super::transact(store, |tx| {
        let Some(hold) = tx.hold(org, id)? else {
            return Ok(None);
        };
        if hold.id.is_default() {
            return Ok(Some(Err(HoldError::DefaultHold)));
        }
        if hold.released_at.is_some() {
            return Ok(Some(Err(HoldError::Released)));
        }
        let status = tx.org_status(org)?;
        let standings = tx.classify(org, &list.ids)?;
        let in_hold = tx.in_hold(org, id, &list.ids)?;
        let preview =
            holdfast_core::holds::list_preview(&status, perms, list, &standings, &in_hold);
        if !apply || preview.refusal.is_some() {
            return Ok(Some(Ok((preview, Vec::new()))));
        }
        let change = ProtectionChange {
            action: ProtectAction::Protect,
            selection: Selection::Ids {
                ids: list.ids.clone(),
            },
            reason: reason.cloned(),
            hold: Some(id),
        };
        match super::protection::apply_in(tx, org, perms, &change, ctx)? {
            Ok(outcome) => Ok(Some(Ok((preview, outcome.changed)))),
            // The preview was made from the same reads in this transaction.
            Err(plan) => Err(StoreError::Corrupt(format!(
                "a list's plan changed within its transaction: {plan}"
            ))),
        }
    })
}

/// What a committed hold release did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HoldReleased {
    pub counts: ReleaseCounts,
    /// The conversations no longer protected: their stored objects' legal holds follow.
    pub released: Vec<ConversationId>,
}

/// What a release asked for did: the hold is released, or (two-person release) the release
/// waits for a second user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReleaseOutcome {
    Released(HoldReleased),
    Requested(ReleaseRequest),
}

/// Releases a legal hold as a whole: the conversations nothing else protects are released
/// (each audited as `RevokeProtection` naming the hold), the others stay protected; the hold
/// is audited as `ReleaseHold` with the counts. Where the organization releases with two
/// people, this only asks (`ReleaseRequested`), and [`decide`] releases once a second user
/// approves. `Ok(None)`: no such hold.
pub fn release(
    store: &dyn Transact,
    org: OrgId,
    perms: Permissions,
    id: HoldId,
    reason: Option<&Reason>,
    ctx: &AuditContext,
) -> StoreResult<Option<Result<ReleaseOutcome, HoldError>>> {
    let reason = reason.map(|r| r.as_str().to_owned());
    let request_id = uuid::Uuid::new_v4().to_string();
    super::transact(store, |tx| {
        let Some(hold) = tx.hold(org, id)? else {
            return Ok(None);
        };
        if let Err(e) = holdfast_core::holds::check_release(perms, &hold) {
            return Ok(Some(Err(e)));
        }
        if !tx.settings(org)?.two_person_release {
            return release_in(tx, org, &hold, reason.as_deref(), ctx)
                .map(|done| Some(Ok(ReleaseOutcome::Released(done))));
        }
        if !tx.pending_releases(org, id)?.is_empty() {
            return Ok(Some(Err(HoldError::ReleasePending)));
        }
        let request = ReleaseRequest {
            id: request_id.clone(),
            hold: id,
            requested_by_id: actor_id(ctx),
            requested_by: actor_name(ctx),
            reason: reason.clone(),
            requested_at: ctx.now,
            interactions: None,
        };
        tx.insert_release_request(org, &request, None)?;
        let draft = hold_event(AuditAction::ReleaseRequested, &hold, reason.clone(), None);
        super::audit::append(tx, org, ctx, [draft])?;
        Ok(Some(Ok(ReleaseOutcome::Requested(request))))
    })
}

/// What an approval released.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Decided {
    /// A legal hold released as a whole: its counts.
    pub counts: Option<ReleaseCounts>,
    /// The conversations no longer protected: their stored objects' legal holds follow.
    pub released: Vec<ConversationId>,
}

/// Approves (a second user with the permission to release: not the one who asked) or refuses
/// (any user with that permission, the one who asked included) a release that waits: the
/// legal hold's one, or, for the default hold, the one `request` names (a release of
/// interactions, planned again as it runs now). An approval releases in the same transaction.
/// `Ok(None)`: no such hold.
pub fn decide(
    store: &dyn Transact,
    org: OrgId,
    perms: Permissions,
    id: HoldId,
    request: Option<&str>,
    approve: bool,
    ctx: &AuditContext,
) -> StoreResult<Option<Result<Option<Decided>, HoldError>>> {
    super::transact(store, |tx| {
        let Some(hold) = tx.hold(org, id)? else {
            return Ok(None);
        };
        let pending = tx.pending_releases(org, id)?;
        let found = match request {
            Some(r) => pending.into_iter().find(|p| p.id == r),
            None if id.is_default() => None,
            None => pending.into_iter().next(),
        };
        let Some(request) = found else {
            return Ok(Some(Err(HoldError::NoReleasePending)));
        };
        let checked = match approve {
            true => holdfast_core::holds::check_approval(perms, &request, actor_id(ctx)).and_then(
                |()| match id.is_default() {
                    true => Ok(()),
                    false => holdfast_core::holds::check_release(perms, &hold),
                },
            ),
            false => match perms.contains(holdfast_core::Permission::ProtectionRevoke) {
                true => Ok(()),
                false => Err(HoldError::MissingPermission {
                    permission: holdfast_core::Permission::ProtectionRevoke,
                }),
            },
        };
        if let Err(e) = checked {
            return Ok(Some(Err(e)));
        }
        // A release of interactions runs first, as the approver, planned as it runs now: a
        // refusal (nothing left to release, say) writes nothing and leaves the request.
        let mut decided = Decided::default();
        if approve && id.is_default() {
            let selection = tx.release_selection(org, &request.id)?.ok_or_else(|| {
                StoreError::Corrupt(format!("the release {} has no selection", request.id))
            })?;
            let selection: Selection = serde_json::from_str(&selection)
                .map_err(|e| StoreError::Corrupt(format!("a stored selection: {e}")))?;
            let change = ProtectionChange {
                action: ProtectAction::Release,
                selection,
                reason: request
                    .reason
                    .as_deref()
                    .and_then(|r| Reason::new(r).ok().flatten()),
                hold: None,
            };
            match super::protection::apply_in(tx, org, perms, &change, ctx)? {
                Ok(outcome) => decided.released = outcome.changed,
                Err(plan) => return Ok(Some(Err(HoldError::Refused { plan }))),
            }
        }
        let by = actor_name(ctx);
        tx.decide_release(org, &request.id, &by, ctx.now, approve)?;
        let message = format!("asked by {}", request.requested_by);
        let (action, reason) = match approve {
            true => (AuditAction::ReleaseApproved, request.reason.clone()),
            false => (AuditAction::ReleaseRefused, None),
        };
        let draft = hold_event(action, &hold, reason, Some(message));
        super::audit::append(tx, org, ctx, [draft])?;
        match (approve, id.is_default()) {
            (true, false) => {
                release_in(tx, org, &hold, request.reason.as_deref(), ctx).map(|done| {
                    Some(Ok(Some(Decided {
                        counts: Some(done.counts),
                        released: done.released,
                    })))
                })
            }
            (true, true) => Ok(Some(Ok(Some(decided)))),
            (false, _) => Ok(Some(Ok(None))),
        }
    })
}

/// An event about a hold.
fn hold_event(
    action: AuditAction,
    hold: &HoldInfo,
    reason: Option<String>,
    message: Option<String>,
) -> AuditDraft {
    AuditDraft {
        action,
        entity_type: EntityType::Hold,
        entity_id: hold.id.to_string(),
        details: Details {
            reason,
            message,
            hold: Some(hold.id.to_string()),
            ..Details::default()
        },
    }
}

/// The release itself, inside the caller's transaction.
fn release_in(
    tx: &mut dyn Tx,
    org: OrgId,
    hold: &HoldInfo,
    reason: Option<&str>,
    ctx: &AuditContext,
) -> StoreResult<HoldReleased> {
    let id = hold.id;
    let reason = reason.map(str::to_owned);
    let plan = tx.hold_release(org, id, ctx.now)?;
    let counts = plan.counts();
    let by = actor_name(ctx);
    tx.end_hold(org, id, ctx.now, &by, reason.as_deref())?;
    let mut recordings_of = tx.recordings_of(org, &plan.deletable)?;
    let hold_text = id.to_string();
    let message = format!(
        "{}: {} released, {} stay protected by other holds, {} past-due recordings",
        hold.name, counts.deletable, counts.stay_protected, counts.past_due_recordings
    );
    let drafts: Vec<AuditDraft> = std::iter::once(hold_event(
        AuditAction::ReleaseHold,
        hold,
        reason.clone(),
        Some(message),
    ))
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
    Ok(HoldReleased {
        counts,
        released: plan.deletable,
    })
}

/// Changes the organization's settings, audited as `UpdateSettings`.
pub fn set_settings(
    store: &dyn Transact,
    org: OrgId,
    settings: &holdfast_core::holds::OrgSettings,
    ctx: &AuditContext,
) -> StoreResult<()> {
    super::transact(store, |tx| {
        tx.set_settings(org, settings)?;
        let draft = AuditDraft {
            action: AuditAction::UpdateSettings,
            entity_type: EntityType::Organization,
            entity_id: org.to_string(),
            details: Details {
                message: Some(format!("twoPersonRelease={}", settings.two_person_release)),
                ..Details::default()
            },
        };
        super::audit::append(tx, org, ctx, [draft])
    })
}

/// An interaction of an ingest batch, as a hold's query reads it.
#[derive(Clone, Debug)]
pub struct Arrived {
    pub id: ConversationId,
    pub start_time: holdfast_core::time::Instant,
    pub direction: holdfast_core::Direction,
    pub queue: Option<String>,
    pub agents: Vec<String>,
    pub remote_party: Option<String>,
    pub media: Vec<holdfast_core::Media>,
}

/// What the query holds did with an ingest batch.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Caught {
    /// Newly protected: their stored objects' legal holds follow after the commit.
    pub protected: Vec<ConversationId>,
    /// Matched but not protected, the cap reached (each hold and interaction once).
    pub missed: usize,
}

/// Inside an ingest's transaction: every arriving interaction that an active legal hold's query
/// matches is covered by that hold, as the system. One that can be protected is protected
/// into the holds if the cap has room (`ApplyProtection`, then `AddToHold` for each further
/// hold); one already protected joins them (`AddToHold`); one that can be protected but does
/// not fit is never dropped silently: each hold records it as missed and the audit trail says
/// `HoldCapReached`. One without a recording that can be protected is left; a later batch
/// that brings it one checks it again.
pub fn catch_arrivals(
    tx: &mut dyn Tx,
    org: OrgId,
    arrivals: &[Arrived],
    now: holdfast_core::time::Instant,
) -> StoreResult<Caught> {
    use holdfast_core::audit::Client;
    use holdfast_core::holds::{ArrivalFacts, arrival_matches, hold_query};
    use holdfast_core::protection::Standing;
    let mut caught = Caught::default();
    if arrivals.is_empty() {
        return Ok(caught);
    }
    // A stored query always parsed when it was saved; one that no longer does catches nothing.
    let holds: Vec<(HoldId, holdfast_core::view::Filters)> = tx
        .query_holds(org)?
        .into_iter()
        .filter_map(|(id, query)| hold_query(&query).ok().map(|f| (id, f)))
        .collect();
    if holds.is_empty() {
        return Ok(caught);
    }
    let ctx = AuditContext {
        actor: Actor::System,
        client: Client::default(),
        now,
    };
    let by = crate::store::ProtectedBy {
        at: now,
        by: "system".to_owned(),
        reason: Some("matched the hold's query on arrival".to_owned()),
    };
    let mut drafts = Vec::new();
    let event = |action, id: ConversationId, hold: HoldId, recordings| AuditDraft {
        action,
        entity_type: EntityType::Conversation,
        entity_id: id.to_string(),
        details: Details {
            recordings,
            reason: by.reason.clone(),
            hold: Some(hold.to_string()),
            ..Details::default()
        },
    };
    for a in arrivals {
        let facts = ArrivalFacts {
            start_time: a.start_time,
            direction: a.direction,
            queue: a.queue.as_deref(),
            agents: &a.agents,
            remote_party: a.remote_party.as_deref(),
            media: &a.media,
        };
        let matching: Vec<HoldId> = holds
            .iter()
            .filter(|(_, f)| arrival_matches(f, &facts))
            .map(|(id, _)| *id)
            .collect();
        if matching.is_empty() {
            continue;
        }
        let standing = tx
            .classify(org, &[a.id])?
            .first()
            .map_or(Standing::NotFound, |(_, s)| *s);
        let recordings = tx
            .recordings_of(org, &[a.id])?
            .remove(&a.id)
            .unwrap_or_default();
        let joins = match standing {
            Standing::Protected => matching.clone(),
            Standing::Protectable if tx.org_status(org)?.headroom() > 0 => {
                tx.protect(org, &[a.id], &by, false)?;
                tx.mark_holds(org, &[a.id])?;
                caught.protected.push(a.id);
                drafts.push(event(
                    AuditAction::ApplyProtection,
                    a.id,
                    matching[0],
                    recordings.clone(),
                ));
                for hold in &matching {
                    tx.join_hold(org, *hold, &[a.id], &by)?;
                }
                matching[1..].to_vec()
            }
            Standing::Protectable => {
                for hold in &matching {
                    if tx.note_miss(org, *hold, a.id, now)? {
                        caught.missed += 1;
                        drafts.push(event(
                            AuditAction::HoldCapReached,
                            a.id,
                            *hold,
                            recordings.clone(),
                        ));
                    }
                }
                Vec::new()
            }
            Standing::NotProtectable | Standing::NotFound => Vec::new(),
        };
        if standing == Standing::Protected {
            for hold in joins {
                if !tx.join_hold(org, hold, &[a.id], &by)?.is_empty() {
                    drafts.push(event(
                        AuditAction::AddToHold,
                        a.id,
                        hold,
                        recordings.clone(),
                    ));
                }
            }
        } else {
            for hold in joins {
                drafts.push(event(
                    AuditAction::AddToHold,
                    a.id,
                    hold,
                    recordings.clone(),
                ));
            }
        }
    }
    super::audit::append(tx, org, &ctx, drafts)?;
    Ok(caught)
}
