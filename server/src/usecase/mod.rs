//! The use cases that write: each written once, above every storage backend, as one
//! transaction of the backend's data operations ([`Tx`]) in which core makes every decision
//! and the audit events are appended. Handlers, the sweep and the command line call these;
//! a backend only runs SQL.

pub mod audit;
pub mod deletion;
pub mod holds;
pub mod ingest;
pub mod protection;
pub mod retention;

use crate::store::{StoreError, StoreResult, Transact, Tx};

/// The user name an audit context acts as (`system` for the system).
pub(crate) fn actor_name(ctx: &crate::store::AuditContext) -> String {
    match &ctx.actor {
        holdfast_core::audit::Actor::User { name, .. } => name.clone(),
        holdfast_core::audit::Actor::System => "system".to_owned(),
    }
}

/// The user an audit context acts as (the nil id for the system).
pub(crate) fn actor_id(ctx: &crate::store::AuditContext) -> holdfast_core::UserId {
    match &ctx.actor {
        holdfast_core::audit::Actor::User { id, .. } => *id,
        holdfast_core::audit::Actor::System => holdfast_core::UserId::from_uuid(uuid::Uuid::nil()),
    }
}

/// Runs `work` in one write transaction of `store` and returns what it returned; nothing is
/// kept when it fails.
pub fn transact<T>(
    store: &dyn Transact,
    mut work: impl FnMut(&mut dyn Tx) -> StoreResult<T>,
) -> StoreResult<T> {
    let mut out = None;
    store.transact(&mut |tx| {
        out = Some(work(tx)?);
        Ok(())
    })?;
    out.ok_or_else(|| StoreError::Corrupt("a transaction committed without its result".to_owned()))
}
