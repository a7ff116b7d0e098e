//! Legal holds that follow protection. The transaction that protects, releases, or adds an
//! object to a protected conversation marks the conversation (`Tx::mark_holds`); after the
//! commit the request sets or lifts the holds of its objects and clears the mark, and only
//! then is it acknowledged. A crash between the commit and storage leaves the mark, and the
//! reconciler (the sweep, `holdfast media reconcile`) settles it: storage is made to agree with
//! the database, never the other way round.
//!
//! Two settlers may race (a request and the sweep, or a protect and a release): each applies
//! the state it read, then clears the mark only if it is still the one it read; a mark that
//! moved, or a state read without a mark that differs when read again, is applied again. So
//! the last hold set on an object is always of a state read after the last change.

use std::collections::{BTreeMap, HashMap, HashSet};

use holdfast_core::{ConversationId, OrgId, RecordingId};

use super::MediaStore;
use crate::store::{HoldState, Store};

/// Conversations read and settled at a time.
const PAGE: usize = 500;
/// Rounds of re-reading before a conversation that keeps changing is left to the reconciler.
const ROUNDS: usize = 5;

/// Makes storage's legal holds of these conversations agree with the database and clears their
/// marks; returns how many objects were held or lifted. On an error the marks stay for the
/// reconciler.
pub fn settle(
    store: &dyn Store,
    media: &dyn MediaStore,
    org: OrgId,
    conversations: &[ConversationId],
) -> Result<usize, String> {
    let mut todo = conversations.to_vec();
    let mut applied: HashMap<ConversationId, (bool, Vec<String>)> = HashMap::new();
    let mut objects = 0;
    for _ in 0..ROUNDS {
        if todo.is_empty() {
            return Ok(objects);
        }
        let mut states: Vec<HoldState> = Vec::new();
        for chunk in todo.chunks(PAGE) {
            states.extend(store.hold_states(org, chunk).map_err(|e| e.to_string())?);
        }
        // Read without a mark and as applied last round: nothing changed since.
        states.retain(|s| {
            s.mark.is_some()
                || applied.get(&s.conversation) != Some(&(s.protected, s.objects.clone()))
        });
        let (mut hold, mut lift) = (Vec::new(), Vec::new());
        for s in &states {
            match s.protected {
                true => hold.extend(s.objects.iter().cloned()),
                false => lift.extend(s.objects.iter().cloned()),
            }
        }
        let mut failures = media.set_holds(&hold, true);
        failures.extend(media.set_holds(&lift, false));
        if let Some((key, e)) = failures.first() {
            return Err(format!(
                "{} of {} legal holds could not be set ({key}: {e}); the reconciler retries",
                failures.len(),
                hold.len() + lift.len()
            ));
        }
        objects += hold.len() + lift.len();
        let marks: Vec<(ConversationId, i64)> = states
            .iter()
            .filter_map(|s| s.mark.map(|m| (s.conversation, m)))
            .collect();
        let moved = store.clear_holds(org, &marks).map_err(|e| e.to_string())?;
        todo = moved;
        todo.extend(
            states
                .iter()
                .filter(|s| s.mark.is_none())
                .map(|s| s.conversation),
        );
        applied = states
            .into_iter()
            .map(|s| (s.conversation, (s.protected, s.objects)))
            .collect();
    }
    Err(format!(
        "the holds of {} conversations kept changing; the reconciler settles them",
        todo.len()
    ))
}

/// Settles every marked conversation of every organization (what a crash left); returns how
/// many conversations were settled. Storage without holds only has its marks cleared.
pub fn drain(store: &dyn Store, media: &dyn MediaStore) -> Result<usize, String> {
    let mut settled = 0;
    let mut after: Option<(String, String)> = None;
    loop {
        let page = store
            .pending_holds(after.as_ref(), PAGE)
            .map_err(|e| e.to_string())?;
        let Some((org, id)) = page.last() else {
            return Ok(settled);
        };
        after = Some((org.to_string(), id.to_string()));
        for (org, ids) in by_org(&page) {
            settle(store, media, org, &ids)?;
            settled += ids.len();
        }
        if page.len() < PAGE {
            return Ok(settled);
        }
    }
}

/// A page of (organization, conversation) keys, by organization.
fn by_org(page: &[(OrgId, ConversationId)]) -> BTreeMap<OrgId, Vec<ConversationId>> {
    let mut out: BTreeMap<OrgId, Vec<ConversationId>> = BTreeMap::new();
    for (org, id) in page {
        out.entry(*org).or_default().push(*id);
    }
    out
}

/// What `holdfast media reconcile` did.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Reconciled {
    /// Whether storage keeps legal holds at all.
    pub holds: bool,
    /// Marked conversations settled.
    pub settled: usize,
    /// Objects of protected conversations, each held.
    pub held: usize,
    /// Objects found held that no protection covers, lifted.
    pub lifted: usize,
}

/// Makes every legal hold agree with the database: settles the marks, holds every object of
/// every protected conversation, and lifts the hold of every other held object. Reads every
/// object's hold: the full check, for the command line (the sweep only settles the marks).
pub fn reconcile(store: &dyn Store, media: &dyn MediaStore) -> Result<Reconciled, String> {
    let mut report = Reconciled {
        holds: media.keeps_holds(),
        settled: drain(store, media)?,
        ..Reconciled::default()
    };
    if !report.holds {
        return Ok(report);
    }
    let mut protected_objects = HashSet::new();
    let mut after: Option<(String, String)> = None;
    loop {
        let page = store
            .protected_conversations(after.as_ref(), PAGE)
            .map_err(|e| e.to_string())?;
        let Some((org, id)) = page.last() else {
            break;
        };
        after = Some((org.to_string(), id.to_string()));
        for (org, ids) in by_org(&page) {
            for state in store.hold_states(org, &ids).map_err(|e| e.to_string())? {
                let failures = media.set_holds(&state.objects, true);
                if let Some((key, e)) = failures.first() {
                    return Err(format!("holding {key}: {e}"));
                }
                report.held += state.objects.len();
                protected_objects.extend(state.objects);
            }
        }
    }
    // Every other object that is held: a release or deletion whose hold a crash kept. Lifted
    // through `settle` for the conversation it belongs to, so that a protect meanwhile wins.
    let keys = media.list().map_err(|e| e.to_string())?;
    let mut owners: BTreeMap<OrgId, Vec<ConversationId>> = BTreeMap::new();
    for key in keys.iter().filter(|k| !protected_objects.contains(*k)) {
        if !media.held(key).map_err(|e| e.to_string())? {
            continue;
        }
        match owner(store, key)? {
            Some((org, conversation)) => owners.entry(org).or_default().push(conversation),
            // Named by no recording: nothing in the database protects it.
            None => {
                if let Some((key, e)) = media.set_holds(std::slice::from_ref(key), false).first() {
                    return Err(format!("lifting {key}: {e}"));
                }
            }
        }
        report.lifted += 1;
    }
    for (org, ids) in owners {
        settle(store, media, org, &ids)?;
    }
    Ok(report)
}

/// The organization and conversation of the recording a key was stored for, if the database
/// still has that recording (`{org}/{recording}.{media|att}-{random}`).
fn owner(store: &dyn Store, key: &str) -> Result<Option<(OrgId, ConversationId)>, String> {
    let Some((org, rest)) = key.split_once('/') else {
        return Ok(None);
    };
    let recording = rest.split_once('.').map_or(rest, |(r, _)| r);
    let (Ok(org), Ok(recording)) = (OrgId::parse(org), RecordingId::parse(recording)) else {
        return Ok(None);
    };
    let found = crate::usecase::transact(store, |tx| tx.recording(org, recording))
        .map_err(|e| e.to_string())?;
    Ok(found.map(|f| (org, f.conversation)))
}
