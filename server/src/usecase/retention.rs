//! Retention policies: creating or replacing one is audited as `UpdateRetention` in the same
//! transaction.

use holdfast_core::OrgId;
use holdfast_core::audit::{AuditAction, Details, EntityType};
use holdfast_core::retention::RetentionPolicy;

use crate::store::{AuditContext, AuditDraft, StoreError, StoreResult, Transact};

/// Creates (`id` = `None`, a new id is made) or replaces a policy; `None` when the id is not
/// the organization's.
pub fn save_policy(
    store: &dyn Transact,
    org: OrgId,
    id: Option<&str>,
    policy: &RetentionPolicy,
    ctx: &AuditContext,
) -> StoreResult<Option<String>> {
    let json = serde_json::to_string(policy).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let new_id = uuid::Uuid::new_v4().to_string();
    super::transact(store, |tx| {
        let id = match id {
            Some(id) => match tx.update_policy(org, id, &json)? {
                true => id.to_owned(),
                false => return Ok(None),
            },
            None => {
                tx.insert_policy(org, &new_id, &json)?;
                new_id.clone()
            }
        };
        let draft = AuditDraft {
            action: AuditAction::UpdateRetention,
            entity_type: EntityType::RetentionPolicy,
            entity_id: id.clone(),
            details: Details {
                message: Some(json.clone()),
                ..Details::default()
            },
        };
        super::audit::append(tx, org, ctx, [draft])?;
        Ok(Some(id))
    })
}
