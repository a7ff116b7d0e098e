//! Verifying and exporting the audit log, for `holdfast audit verify` and `audit export`.

use std::io::Write;

use holdfast_core::audit::{Actor, AuditEvent, ChainBreak, CheckpointBreak};

use crate::checkpoints::Checkpoints;
use crate::store::{Store, StoreResult};

/// The verification of one organization's chain: the number of events, or the first break;
/// and against its signed checkpoints, how many match, or how the chain disagrees.
pub struct OrgReport {
    pub org_name: String,
    pub result: Result<u64, ChainBreak>,
    pub checkpoints: Result<usize, CheckpointBreak>,
}

/// Verifies one organization's whole chain against its recorded head.
pub fn verify(
    store: &dyn Store,
    org: holdfast_core::OrgId,
) -> StoreResult<Result<u64, ChainBreak>> {
    // A cache that knows nothing reads and verifies every event.
    crate::chain::ChainCache::default().status(store, org)
}

/// Verifies every organization's chain, and each against its signed checkpoints.
pub fn verify_all(store: &dyn Store, checkpoints: &Checkpoints) -> StoreResult<Vec<OrgReport>> {
    store
        .organizations()?
        .into_iter()
        .map(|(id, name)| {
            let signed = checkpoints.by_org.get(&id).map_or(&[][..], Vec::as_slice);
            // The stored events at the checkpoints only, not the whole chain.
            let mut at = Vec::with_capacity(signed.len());
            for checkpoint in signed {
                let seq = checkpoint.seq.saturating_sub(1);
                let (_, events) = store.audit_chain_after(id, seq, 1)?;
                at.extend(events.into_iter().filter(|e| e.seq == checkpoint.seq));
            }
            at.sort_by_key(|e| e.seq);
            at.dedup_by_key(|e| e.seq);
            let last_seq = store.audit_head(id)?.map_or(0, |(seq, _)| seq);
            Ok(OrgReport {
                org_name: name,
                result: verify(store, id)?,
                checkpoints: holdfast_core::audit::check_checkpoints(&at, last_seq, signed),
            })
        })
        .collect()
}

pub(crate) fn csv_field(text: &str) -> String {
    // Quote every field, and defuse spreadsheet formulas.
    let text = match text.starts_with(['=', '+', '-', '@']) {
        true => format!("'{text}"),
        false => text.to_owned(),
    };
    format!("\"{}\"", text.replace('"', "\"\""))
}

/// Writes events as CSV with a header row.
pub fn write_csv<'a>(
    out: &mut dyn Write,
    events: impl IntoIterator<Item = (&'a AuditEvent, &'a str)>,
) -> std::io::Result<()> {
    writeln!(
        out,
        "seq,time,action,entity_type,entity_id,actor,ip,user_agent,api_client,reason,recordings,old_date,new_date,message,hash"
    )?;
    for (e, hash) in events {
        let actor = match &e.actor {
            Actor::User { name, .. } => name.clone(),
            Actor::System => "system".to_owned(),
        };
        let recordings: Vec<String> = e.details.recordings.iter().map(|r| r.to_string()).collect();
        let fields = [
            e.seq.to_string(),
            holdfast_core::time::format(e.time),
            e.action.as_str().to_owned(),
            e.entity_type.as_str().to_owned(),
            e.entity_id.clone(),
            actor,
            e.client.ip.clone().unwrap_or_default(),
            e.client.user_agent.clone().unwrap_or_default(),
            e.client.api_client.clone().unwrap_or_default(),
            e.details.reason.clone().unwrap_or_default(),
            recordings.join(" "),
            e.details.old_date.clone().unwrap_or_default(),
            e.details.new_date.clone().unwrap_or_default(),
            e.details.message.clone().unwrap_or_default(),
            hash.to_owned(),
        ];
        let line: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
        writeln!(out, "{}", line.join(","))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_and_defuses_formulas() {
        assert_eq!(csv_field("plain"), "\"plain\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=SUM(A1)"), "\"'=SUM(A1)\"");
    }
}
