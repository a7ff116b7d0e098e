//! Appending to an organization's audit chain (rule 9): events are numbered after the head,
//! sealed (the exact bytes hashed, chained to the one before), stored, and the head moved,
//! all in the caller's transaction.

use holdfast_core::OrgId;
use holdfast_core::audit::{self, AuditEvent};

use crate::store::{AuditContext, AuditDraft, StoreError, StoreResult, Transact, Tx};

/// Numbers, seals and stores events in order inside `tx`: the head is read once and moved
/// once, to the last of them (a protect of a thousand appends a thousand events).
pub fn append(
    tx: &mut dyn Tx,
    org: OrgId,
    ctx: &AuditContext,
    drafts: impl IntoIterator<Item = AuditDraft>,
) -> StoreResult<()> {
    let (first, mut prev) = tx.audit_head(org)?.unwrap_or((0, audit::GENESIS));
    let mut last = first;
    let mut sealed = Vec::new();
    for draft in drafts {
        let event = AuditEvent {
            seq: last + 1,
            time: ctx.now,
            org,
            actor: ctx.actor.clone(),
            client: ctx.client.clone(),
            action: draft.action,
            entity_type: draft.entity_type,
            entity_id: draft.entity_id,
            details: draft.details,
        };
        let stored = audit::seal(&event, &prev)
            .map_err(|e| StoreError::Corrupt(format!("audit event: {e}")))?;
        prev = audit::ChainHash::from_hex(&stored.hash)
            .ok_or_else(|| StoreError::Corrupt("a sealed hash".to_owned()))?;
        last = event.seq;
        sealed.push(stored);
    }
    if last == first {
        return Ok(());
    }
    tx.insert_audit_events(org, &sealed)?;
    tx.move_audit_head(org, last, &prev)
}

/// Appends one event in a transaction of its own (a sign-in, a policy change's neighbours).
pub fn record(
    store: &dyn Transact,
    org: OrgId,
    ctx: &AuditContext,
    draft: AuditDraft,
) -> StoreResult<()> {
    super::transact(store, |tx| append(tx, org, ctx, [draft.clone()]))
}
