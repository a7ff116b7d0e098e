//! A legal hold's report for a legal team to file: every interaction the hold covers (or
//! covered, once released) with each recording, its size, dates and state, the SHA-256 taken
//! when its media and attachments arrived, and who added the interaction, when and why. Read
//! from the store's reads; a hold covers at most the cap's worth of interactions.

use holdfast_core::time::Instant;
use holdfast_core::{HoldId, OrgId};

use crate::audit_cli::csv_field;
use crate::store::{Store, StoreResult};

const HEADER: &str = "hold_id,hold_name,case_reference,hold_status,conversation_id,conversation_start,queue,added_at,added_by,reason,protected_now,recording_id,media,role,recording_created,duration_ms,size_bytes,file_state,deletion_date,deletion_date_reason,deletion_date_set_at,media_sha256,attachments";

/// The report as CSV (a header and a row per recording, or one per interaction without any);
/// `None` when the hold is not the organization's.
pub fn hold_csv(
    store: &dyn Store,
    org: OrgId,
    id: HoldId,
    now: Instant,
) -> StoreResult<Option<Vec<u8>>> {
    let Some(details) = store.hold_details(org, id, now)? else {
        return Ok(None);
    };
    let h = &details.hold;
    let time = |t: Instant| holdfast_core::time::format(t);
    let status = match h.released_at {
        Some(at) => format!(
            "released {} by {}",
            time(at),
            h.released_by.clone().unwrap_or_default()
        ),
        None => "active".to_owned(),
    };
    let mut out = String::from(HEADER);
    out.push('\n');
    for m in &details.members {
        let head = [
            h.id.to_string(),
            h.name.clone(),
            h.case_reference.clone().unwrap_or_default(),
            status.clone(),
            m.id.to_string(),
            time(m.start_time),
            m.queue.clone().unwrap_or_default(),
            time(m.added_at),
            m.added_by.clone(),
            m.reason.clone().unwrap_or_default(),
            m.protected.to_string(),
        ];
        let recordings = store
            .conversation_details(org, m.id)?
            .map(|d| d.recordings)
            .unwrap_or_default();
        let mut rows: Vec<Vec<String>> = Vec::new();
        for r in &recordings {
            let sha = store
                .media_file(org, r.id)?
                .and_then(|f| f.sha256)
                .unwrap_or_default();
            let mut attachments = Vec::new();
            for a in &r.attachments {
                let sha = store
                    .attachment_file(org, &a.id)?
                    .and_then(|f| f.sha256)
                    .unwrap_or_default();
                attachments.push(format!("{} ({} bytes, sha256 {sha})", a.name, a.size_bytes));
            }
            rows.push(vec![
                r.id.to_string(),
                r.media.as_str().to_owned(),
                r.role.as_str().to_owned(),
                time(r.created_at),
                r.duration_ms.map(|d| d.to_string()).unwrap_or_default(),
                r.size_bytes.map(|s| s.to_string()).unwrap_or_default(),
                r.file_state.as_str().to_owned(),
                r.delete_date.map(time).unwrap_or_default(),
                r.date_reason
                    .clone()
                    .unwrap_or_else(|| holdfast_core::retention::DATE_REASON_UNRECORDED.to_owned()),
                r.date_set_at.map(time).unwrap_or_default(),
                sha,
                attachments.join("; "),
            ]);
        }
        if rows.is_empty() {
            rows.push(vec![String::new(); 12]);
        }
        for row in rows {
            let fields: Vec<String> = head.iter().chain(&row).map(|f| csv_field(f)).collect();
            out.push_str(&fields.join(","));
            out.push('\n');
        }
    }
    Ok(Some(out.into_bytes()))
}
