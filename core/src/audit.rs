//! Rule 9: audit events, their canonical form and the per-organization hash chain.
//!
//! Each event's hash is `SHA-256(previous hash || canonical bytes of the event)`; the first event
//! of an organization follows [`GENESIS`]. A store keeps the exact bytes that were hashed, with
//! the version of their form ([`CANONICAL_FORM`]), and the columns it filters on beside them;
//! verification hashes the stored bytes (never a re-serialization, which a new field or a rename
//! would change) and checks every column against them. Editing, inserting or deleting a stored
//! event, or a column beside it, breaks the chain, and [`verify_chain`] names the first break.

use std::fmt;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::ids::{ConversationId, OrgId, RecordingId, UserId};
use crate::time::Instant;

/// What happened.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub enum AuditAction {
    ApplyProtection,
    RevokeProtection,
    Delete,
    DeletionBlocked,
    UpdateRetention,
    Login,
    LoginFailed,
    /// A legal hold (a matter) was created.
    CreateHold,
    /// A legal hold was released as a whole.
    ReleaseHold,
    /// A conversation already protected joined a legal hold (one that was not protected gets
    /// `ApplyProtection` naming the hold).
    AddToHold,
    /// A conversation matched a legal hold's query on arrival but was not protected: the cap
    /// was reached.
    HoldCapReached,
    /// A user asked to release a legal hold; a second user decides (two-person release).
    ReleaseRequested,
    /// A second user approved a requested release (the release's own events follow).
    ReleaseApproved,
    /// A requested release was refused or withdrawn.
    ReleaseRefused,
    /// An organization's setting changed.
    UpdateSettings,
}

impl AuditAction {
    pub const ALL: &'static [AuditAction] = &[
        AuditAction::ApplyProtection,
        AuditAction::RevokeProtection,
        AuditAction::Delete,
        AuditAction::DeletionBlocked,
        AuditAction::UpdateRetention,
        AuditAction::Login,
        AuditAction::LoginFailed,
        AuditAction::CreateHold,
        AuditAction::ReleaseHold,
        AuditAction::AddToHold,
        AuditAction::HoldCapReached,
        AuditAction::ReleaseRequested,
        AuditAction::ReleaseApproved,
        AuditAction::ReleaseRefused,
        AuditAction::UpdateSettings,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            AuditAction::ApplyProtection => "ApplyProtection",
            AuditAction::RevokeProtection => "RevokeProtection",
            AuditAction::Delete => "Delete",
            AuditAction::DeletionBlocked => "DeletionBlocked",
            AuditAction::UpdateRetention => "UpdateRetention",
            AuditAction::Login => "Login",
            AuditAction::LoginFailed => "LoginFailed",
            AuditAction::CreateHold => "CreateHold",
            AuditAction::ReleaseHold => "ReleaseHold",
            AuditAction::AddToHold => "AddToHold",
            AuditAction::HoldCapReached => "HoldCapReached",
            AuditAction::ReleaseRequested => "ReleaseRequested",
            AuditAction::ReleaseApproved => "ReleaseApproved",
            AuditAction::ReleaseRefused => "ReleaseRefused",
            AuditAction::UpdateSettings => "UpdateSettings",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|a| a.as_str() == text)
    }
}

/// What the event is about.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub enum EntityType {
    Conversation,
    Recording,
    User,
    RetentionPolicy,
    /// A legal hold (a matter).
    Hold,
    /// An organization (its settings).
    Organization,
}

impl EntityType {
    pub const fn as_str(self) -> &'static str {
        match self {
            EntityType::Conversation => "Conversation",
            EntityType::Recording => "Recording",
            EntityType::User => "User",
            EntityType::RetentionPolicy => "RetentionPolicy",
            EntityType::Hold => "Hold",
            EntityType::Organization => "Organization",
        }
    }
}

/// Who did it.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum Actor {
    User {
        id: UserId,
        name: String,
    },
    /// The deletion sweep and other automatic work.
    System,
}

/// Where the request came from.
#[derive(Clone, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Client {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    /// The OAuth client id of an API client.
    pub api_client: Option<String>,
}

/// The particulars of an event; fields that do not apply are `None` or empty.
#[derive(Clone, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Details {
    /// The recordings the event covers (for a protection: every recording of the conversation).
    pub recordings: Vec<RecordingId>,
    pub reason: Option<String>,
    pub old_date: Option<String>,
    pub new_date: Option<String>,
    pub message: Option<String>,
    /// The legal hold the event is about or acts through. Left out of the canonical bytes when
    /// absent, so every event of form 1 written before holds existed reads and hashes the same.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hold: Option<String>,
}

/// One audit event, as stored.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditEvent {
    /// Position in the organization's chain, from 1.
    pub seq: u64,
    #[serde(with = "crate::time::iso")]
    pub time: Instant,
    pub org: OrgId,
    pub actor: Actor,
    pub client: Client,
    pub action: AuditAction,
    pub entity_type: EntityType,
    pub entity_id: String,
    pub details: Details,
}

impl AuditEvent {
    /// An event about a conversation.
    pub fn conversation_id(&self) -> Option<ConversationId> {
        match self.entity_type {
            EntityType::Conversation => ConversationId::parse(&self.entity_id).ok(),
            _ => None,
        }
    }

    /// The canonical bytes of form 1, which are hashed and stored: JSON with fields in
    /// declaration order, times with milliseconds. Golden vectors in the tests pin them: a
    /// change here must be a new form, never an edit of this one.
    pub fn canonical(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string(self)
    }

    /// The columns a store keeps beside the event to filter on, derived from it.
    pub fn columns(&self) -> Columns {
        Columns {
            time_ms: self.time.timestamp_millis(),
            action: self.action.as_str().to_owned(),
            entity_id: self.entity_id.clone(),
            actor_id: match &self.actor {
                Actor::User { id, .. } => Some(id.to_string()),
                Actor::System => None,
            },
        }
    }
}

/// The version of the canonical form that new events are stored in.
pub const CANONICAL_FORM: u32 = 1;

/// What a store keeps beside an event's bytes to filter and page on.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Columns {
    pub time_ms: i64,
    pub action: String,
    pub entity_id: String,
    pub actor_id: Option<String>,
}

/// An event as a store keeps it and reads it back for verification.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct StoredEvent {
    pub seq: u64,
    pub columns: Columns,
    /// The version of the form of `bytes`.
    pub form: u32,
    /// Exactly the bytes that were hashed.
    pub bytes: String,
    /// The stored hash, as stored (hex).
    pub hash: String,
}

/// A stored column that can disagree with the hashed event.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Column {
    Organization,
    Seq,
    Time,
    Action,
    EntityId,
    ActorId,
}

impl Column {
    pub const fn as_str(self) -> &'static str {
        match self {
            Column::Organization => "organization",
            Column::Seq => "seq",
            Column::Time => "time",
            Column::Action => "action",
            Column::EntityId => "entity id",
            Column::ActorId => "actor id",
        }
    }
}

/// A SHA-256 chain hash.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ChainHash(pub [u8; 32]);

/// The hash before an organization's first event.
pub const GENESIS: ChainHash = ChainHash([0; 32]);

impl ChainHash {
    pub fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }

    pub fn from_hex(text: &str) -> Option<ChainHash> {
        if text.len() != 64 || !text.is_ascii() {
            return None;
        }
        let mut out = [0u8; 32];
        for (i, byte) in out.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).ok()?;
        }
        Some(ChainHash(out))
    }
}

impl fmt::Debug for ChainHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

/// The hash of an event's canonical bytes following `prev`.
pub fn link_hash(prev: &ChainHash, bytes: &[u8]) -> ChainHash {
    let mut hasher = Sha256::new();
    hasher.update(prev.0);
    hasher.update(bytes);
    ChainHash(hasher.finalize().into())
}

/// The first broken link of a chain.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum ChainBreak {
    /// The event's stored hash is not the hash of its content after its predecessor: it or an
    /// earlier event was edited.
    HashMismatch { seq: u64 },
    /// The stored bytes hash right but are not an event (a repeated field, say): they were
    /// written by something other than Holdfast.
    Unreadable { seq: u64 },
    /// A column kept beside the event disagrees with the hashed event: it was altered.
    ColumnMismatch { seq: u64, column: Column },
    /// The event is stored in a form this version does not know.
    UnknownForm { seq: u64, form: u32 },
    /// Sequence numbers skip or repeat: an event was deleted or inserted.
    Gap { expected: u64, found: u64 },
    /// The organization's recorded head does not match the last event: events were cut off the
    /// end.
    Head { last_seq: u64 },
}

impl fmt::Display for ChainBreak {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChainBreak::HashMismatch { seq } => {
                write!(
                    f,
                    "event {seq} does not match its hash: it or an earlier event was altered"
                )
            }
            ChainBreak::Unreadable { seq } => write!(
                f,
                "event {seq} is not a readable audit event: it was written by something other than Holdfast"
            ),
            ChainBreak::ColumnMismatch { seq, column } => write!(
                f,
                "event {seq}'s {} column differs from its hashed content: it was altered",
                column.as_str()
            ),
            ChainBreak::UnknownForm { seq, form } => write!(
                f,
                "event {seq} is stored in form {form}, which this version does not know"
            ),
            ChainBreak::Gap { expected, found } => {
                write!(
                    f,
                    "expected event {expected} but found {found}: events were removed or inserted"
                )
            }
            ChainBreak::Head { last_seq } => write!(
                f,
                "the chain ends at event {last_seq} but the recorded head differs: events were removed from the end"
            ),
        }
    }
}

impl std::error::Error for ChainBreak {}

/// Verifies an organization's stored events in order of `seq` against the recorded head (`None`
/// for an empty chain). Returns the number of events verified.
pub fn verify_chain<'a>(
    org: OrgId,
    events: impl IntoIterator<Item = &'a StoredEvent>,
    head: Option<(u64, ChainHash)>,
) -> Result<u64, ChainBreak> {
    verify_chain_from(org, (0, GENESIS), events, head)
}

/// Verifies the events after a link already verified (`(0, GENESIS)` for the whole chain):
/// `events` are those with `seq` above `from.0`, in order. Each one's stored bytes must hash to
/// its stored hash after its predecessor, be an event of form [`CANONICAL_FORM`] of this
/// organization with this `seq`, and agree with every column kept beside them. Returns the last
/// `seq` verified, which is the head's.
pub fn verify_chain_from<'a>(
    org: OrgId,
    from: (u64, ChainHash),
    events: impl IntoIterator<Item = &'a StoredEvent>,
    head: Option<(u64, ChainHash)>,
) -> Result<u64, ChainBreak> {
    let (last_seq, prev) = verify_links(org, from, events)?;
    match head {
        None if last_seq == 0 => Ok(0),
        Some((seq, hash)) if seq == last_seq && hash == prev => Ok(last_seq),
        _ => Err(ChainBreak::Head { last_seq }),
    }
}

/// [`verify_chain_from`] without the head: the events continue the chain from `from`; answers
/// the last link, from which the next events continue (a long chain is verified a batch at a
/// time, and only the last batch is held against the head).
pub fn verify_links<'a>(
    org: OrgId,
    from: (u64, ChainHash),
    events: impl IntoIterator<Item = &'a StoredEvent>,
) -> Result<(u64, ChainHash), ChainBreak> {
    let (mut last_seq, mut prev) = from;
    for stored in events {
        let seq = stored.seq;
        let expected = last_seq + 1;
        if seq != expected {
            return Err(ChainBreak::Gap {
                expected,
                found: seq,
            });
        }
        let hash = ChainHash::from_hex(&stored.hash).ok_or(ChainBreak::HashMismatch { seq })?;
        if stored.form != CANONICAL_FORM {
            return Err(ChainBreak::UnknownForm {
                seq,
                form: stored.form,
            });
        }
        if link_hash(&prev, stored.bytes.as_bytes()) != hash {
            return Err(ChainBreak::HashMismatch { seq });
        }
        let event: AuditEvent =
            serde_json::from_str(&stored.bytes).map_err(|_| ChainBreak::Unreadable { seq })?;
        let columns = event.columns();
        let mismatch = [
            (event.org != org, Column::Organization),
            (event.seq != seq, Column::Seq),
            (columns.time_ms != stored.columns.time_ms, Column::Time),
            (columns.action != stored.columns.action, Column::Action),
            (
                columns.entity_id != stored.columns.entity_id,
                Column::EntityId,
            ),
            (columns.actor_id != stored.columns.actor_id, Column::ActorId),
        ]
        .into_iter()
        .find_map(|(differs, column)| differs.then_some(column));
        if let Some(column) = mismatch {
            return Err(ChainBreak::ColumnMismatch { seq, column });
        }
        prev = hash;
        last_seq = expected;
    }
    Ok((last_seq, prev))
}

/// A signed statement that an organization's chain had `hash` at event `seq` at `time`. The key
/// that signs it is not in the database, so whoever can rewrite the database (and recompute
/// every later hash and the head) cannot make a rewritten chain match it.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Checkpoint {
    pub org: OrgId,
    pub seq: u64,
    /// The chain hash of event `seq`, in hex.
    pub hash: String,
    #[serde(with = "crate::time::iso")]
    pub time: Instant,
}

impl Checkpoint {
    /// The bytes that are signed (checkpoint form 1).
    pub fn signed_bytes(&self) -> Vec<u8> {
        format!(
            "holdfast audit checkpoint 1\n{}\n{}\n{}\n{}",
            self.org,
            self.seq,
            self.hash,
            crate::time::format(self.time)
        )
        .into_bytes()
    }
}

/// How a chain disagrees with a checkpoint whose signature holds.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum CheckpointBreak {
    /// Event `checkpoint_seq` does not have the hash signed for it: the chain was rewritten
    /// after the last checkpoint that still matches, so every event from `first_suspect` on may
    /// have been changed.
    Rewritten {
        checkpoint_seq: u64,
        first_suspect: u64,
    },
    /// A checkpoint covers event `checkpoint_seq`, but the chain ends at `last_seq`.
    Truncated { checkpoint_seq: u64, last_seq: u64 },
}

impl fmt::Display for CheckpointBreak {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CheckpointBreak::Rewritten {
                checkpoint_seq,
                first_suspect,
            } => write!(
                f,
                "event {checkpoint_seq} differs from its signed checkpoint: the chain was rewritten from event {first_suspect} on (the first event after the last checkpoint that matches)"
            ),
            CheckpointBreak::Truncated {
                checkpoint_seq,
                last_seq,
            } => write!(
                f,
                "a signed checkpoint covers event {checkpoint_seq} but the chain ends at event {last_seq}: events were removed from the end"
            ),
        }
    }
}

/// Checks an organization's chain, which ends at `last_seq`, against its checkpoints whose
/// signatures were verified, in any order. `events` holds the stored events at the
/// checkpoints' `seq`s (more do no harm), in order of `seq`. Answers how many checkpoints match.
pub fn check_checkpoints(
    events: &[StoredEvent],
    last_seq: u64,
    checkpoints: &[Checkpoint],
) -> Result<usize, CheckpointBreak> {
    let mut sorted: Vec<&Checkpoint> = checkpoints.iter().collect();
    sorted.sort_by_key(|c| c.seq);
    let mut good = 0;
    for checkpoint in &sorted {
        let found = match checkpoint.seq <= last_seq {
            true => events.binary_search_by_key(&checkpoint.seq, |e| e.seq).ok(),
            false => None,
        };
        let Some(at) = found else {
            return Err(CheckpointBreak::Truncated {
                checkpoint_seq: checkpoint.seq,
                last_seq,
            });
        };
        if !events[at].hash.eq_ignore_ascii_case(&checkpoint.hash) {
            return Err(CheckpointBreak::Rewritten {
                checkpoint_seq: checkpoint.seq,
                first_suspect: good + 1,
            });
        }
        good = checkpoint.seq;
    }
    Ok(sorted.len())
}

/// An event as a store writes it after `prev`: its bytes, columns and hash.
pub fn seal(event: &AuditEvent, prev: &ChainHash) -> Result<StoredEvent, serde_json::Error> {
    let bytes = event.canonical()?;
    let hash = link_hash(prev, bytes.as_bytes());
    Ok(StoredEvent {
        seq: event.seq,
        columns: event.columns(),
        form: CANONICAL_FORM,
        bytes,
        hash: hash.to_hex(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::parse;

    const ORG: &str = "00000000-0000-4000-8000-000000000001";

    fn org() -> OrgId {
        OrgId::parse(ORG).unwrap()
    }

    fn event(seq: u64, action: AuditAction, reason: Option<&str>) -> AuditEvent {
        AuditEvent {
            seq,
            time: parse("2026-11-25T10:00:00Z").unwrap(),
            org: org(),
            actor: Actor::System,
            client: Client::default(),
            action,
            entity_type: EntityType::Conversation,
            entity_id: "6a1b5f0e-2f43-4c5e-9a59-0d6c2f8d1b11".to_owned(),
            details: Details {
                reason: reason.map(str::to_owned),
                ..Details::default()
            },
        }
    }

    fn chain(events: &[AuditEvent]) -> Vec<StoredEvent> {
        let mut prev = GENESIS;
        events
            .iter()
            .map(|e| {
                let stored = seal(e, &prev).unwrap();
                prev = ChainHash::from_hex(&stored.hash).unwrap();
                stored
            })
            .collect()
    }

    fn head_of(links: &[StoredEvent]) -> Option<(u64, ChainHash)> {
        links
            .last()
            .map(|l| (l.seq, ChainHash::from_hex(&l.hash).unwrap()))
    }

    fn three() -> Vec<StoredEvent> {
        chain(&[
            event(1, AuditAction::ApplyProtection, Some("Case 1")),
            event(2, AuditAction::DeletionBlocked, None),
            event(3, AuditAction::RevokeProtection, None),
        ])
    }

    #[test]
    fn a_sound_chain_verifies() {
        let links = three();
        assert_eq!(verify_chain(org(), &links, head_of(&links)), Ok(3));
        assert_eq!(verify_chain(org(), &[], None), Ok(0));
    }

    /// Canonical form 1, pinned: every event ever stored was hashed over these bytes, so they
    /// may never change (a change is a new form).
    #[test]
    fn canonical_form_1_is_pinned_by_golden_vectors() {
        let system = event(1, AuditAction::ApplyProtection, Some("Case 1"));
        let user = AuditEvent {
            seq: 2,
            actor: Actor::User {
                id: UserId::parse("00000000-0000-4000-8000-0000000000aa").unwrap(),
                name: "Maria M".to_owned(),
            },
            client: Client {
                ip: Some("10.0.0.1".to_owned()),
                user_agent: Some("x".to_owned()),
                api_client: None,
            },
            details: Details {
                recordings: vec![
                    RecordingId::parse("00000000-0000-4000-8000-0000000000bb").unwrap(),
                ],
                old_date: Some("2026-12-01T00:00:00.000Z".to_owned()),
                ..Details::default()
            },
            ..event(2, AuditAction::UpdateRetention, None)
        };
        let links = chain(&[system, user]);
        assert_eq!(links[0].bytes, GOLDEN_BYTES_1);
        assert_eq!(links[0].hash, GOLDEN_HASH_1);
        assert_eq!(links[1].bytes, GOLDEN_BYTES_2);
        assert_eq!(links[1].hash, GOLDEN_HASH_2);
        assert_eq!(
            links[1].columns,
            Columns {
                time_ms: 1_795_600_800_000,
                action: "UpdateRetention".to_owned(),
                entity_id: "6a1b5f0e-2f43-4c5e-9a59-0d6c2f8d1b11".to_owned(),
                actor_id: Some("00000000-0000-4000-8000-0000000000aa".to_owned()),
            }
        );
    }

    /// A hold's id is written after the other details only when there is one: events without
    /// it keep the bytes above, and one with it reads back equal.
    #[test]
    fn a_hold_id_is_written_only_when_there_is_one() {
        let mut held = event(1, AuditAction::ReleaseHold, None);
        held.details.hold = Some("h-1".to_owned());
        let bytes = held.canonical().unwrap();
        assert!(
            bytes.ends_with(r#""newDate":null,"message":null,"hold":"h-1"}}"#),
            "{bytes}"
        );
        assert_eq!(serde_json::from_str::<AuditEvent>(&bytes).unwrap(), held);
        let plain = event(1, AuditAction::ReleaseHold, None)
            .canonical()
            .unwrap();
        assert!(plain.ends_with(r#""message":null}}"#), "{plain}");
    }

    // Checked independently: SHA-256 of 32 zero bytes then GOLDEN_BYTES_1, and of
    // GOLDEN_HASH_1's bytes then GOLDEN_BYTES_2 (Python's hashlib gives the same).
    const GOLDEN_BYTES_1: &str = "{\"seq\":1,\"time\":\"2026-11-25T10:00:00.000Z\",\"org\":\"00000000-0000-4000-8000-000000000001\",\"actor\":{\"type\":\"system\"},\"client\":{\"ip\":null,\"userAgent\":null,\"apiClient\":null},\"action\":\"ApplyProtection\",\"entityType\":\"Conversation\",\"entityId\":\"6a1b5f0e-2f43-4c5e-9a59-0d6c2f8d1b11\",\"details\":{\"recordings\":[],\"reason\":\"Case 1\",\"oldDate\":null,\"newDate\":null,\"message\":null}}";
    const GOLDEN_HASH_1: &str = "d8f899110bd6e2127fe46acadf3a67043e56daab393635e6aaa5b51bfb60bff0";
    const GOLDEN_BYTES_2: &str = "{\"seq\":2,\"time\":\"2026-11-25T10:00:00.000Z\",\"org\":\"00000000-0000-4000-8000-000000000001\",\"actor\":{\"type\":\"user\",\"id\":\"00000000-0000-4000-8000-0000000000aa\",\"name\":\"Maria M\"},\"client\":{\"ip\":\"10.0.0.1\",\"userAgent\":\"x\",\"apiClient\":null},\"action\":\"UpdateRetention\",\"entityType\":\"Conversation\",\"entityId\":\"6a1b5f0e-2f43-4c5e-9a59-0d6c2f8d1b11\",\"details\":{\"recordings\":[\"00000000-0000-4000-8000-0000000000bb\"],\"reason\":null,\"oldDate\":\"2026-12-01T00:00:00.000Z\",\"newDate\":null,\"message\":null}}";
    const GOLDEN_HASH_2: &str = "73896245f22af6c0cf4b1c84a5956bbdaf5a9f16f97ac472f7c116a2e91cf250";

    #[test]
    fn verifying_from_a_verified_link_checks_only_the_events_after_it() {
        let links = chain(&[
            event(1, AuditAction::ApplyProtection, Some("Case 1")),
            event(2, AuditAction::DeletionBlocked, None),
            event(3, AuditAction::RevokeProtection, None),
            event(4, AuditAction::Delete, None),
        ]);
        let head = head_of(&links);
        let at = |n: usize| ChainHash::from_hex(&links[n - 1].hash).unwrap();
        let after = |from: usize, links: &[StoredEvent]| {
            let start = match from {
                0 => (0, GENESIS),
                n => (n as u64, at(n)),
            };
            verify_chain_from(org(), start, &links[from..], head)
        };
        for from in 0..=4 {
            assert_eq!(after(from, &links), Ok(4), "from {from}");
        }
        // A new event edited after its link was written is found from the last verified link.
        let mut edited = links.clone();
        edited[3].bytes = edited[3].bytes.replace("Delete", "Login");
        assert_eq!(after(2, &edited), Err(ChainBreak::HashMismatch { seq: 4 }));
        // A link that does not continue from the verified one is found too.
        assert_eq!(
            verify_chain_from(org(), (2, at(1)), &links[2..], head),
            Err(ChainBreak::HashMismatch { seq: 3 })
        );
        // Events cut after the verified link: the head does not match.
        assert_eq!(
            verify_chain_from(org(), (4, at(4)), &[], Some((3, at(3)))),
            Err(ChainBreak::Head { last_seq: 4 })
        );
    }

    #[track_caller]
    fn check_tampered(edit: impl Fn(&mut Vec<StoredEvent>), expected: ChainBreak) {
        let links = three();
        let head = head_of(&links);
        let mut edited = links.clone();
        edit(&mut edited);
        assert_eq!(verify_chain(org(), &edited, head), Err(expected));
    }

    #[test]
    fn tampering_is_named() {
        use ChainBreak::*;
        check_tampered(
            |l| l[1].bytes = l[1].bytes.replace("null", "\"edited\""),
            HashMismatch { seq: 2 },
        );
        check_tampered(|l| l[1].hash = "zz".to_owned(), HashMismatch { seq: 2 });
        check_tampered(
            |l| {
                l.remove(1);
            },
            Gap {
                expected: 2,
                found: 3,
            },
        );
        check_tampered(
            |l| {
                l.pop();
            },
            Head { last_seq: 2 },
        );
        // The columns the audit page filters on are checked against the hashed bytes.
        let column = |column| ColumnMismatch { seq: 2, column };
        check_tampered(
            |l| l[1].columns.action = "Login".to_owned(),
            column(Column::Action),
        );
        check_tampered(|l| l[1].columns.time_ms += 1, column(Column::Time));
        check_tampered(
            |l| l[1].columns.entity_id = "other".to_owned(),
            column(Column::EntityId),
        );
        check_tampered(
            |l| l[1].columns.actor_id = Some("someone".to_owned()),
            column(Column::ActorId),
        );
        check_tampered(|l| l[1].form = 2, UnknownForm { seq: 2, form: 2 });
        let links = three();
        assert_eq!(verify_chain(org(), &links, None), Err(Head { last_seq: 3 }));
        let other = OrgId::parse("00000000-0000-4000-8000-000000000002").unwrap();
        assert_eq!(
            verify_chain(other, &links, head_of(&links)),
            Err(ColumnMismatch {
                seq: 1,
                column: Column::Organization
            })
        );
    }

    #[test]
    fn bytes_that_hash_right_but_are_no_event_are_named() {
        // A repeated field (what a later reader might take either way), rehashed consistently.
        let mut links = three();
        let prev = ChainHash::from_hex(&links[0].hash).unwrap();
        links[1].bytes = links[1].bytes.replacen("{", "{\"seq\":2,", 1);
        links[1].hash = link_hash(&prev, links[1].bytes.as_bytes()).to_hex();
        let head = Some((2, ChainHash::from_hex(&links[1].hash).unwrap()));
        assert_eq!(
            verify_chain(org(), &links[..2], head),
            Err(ChainBreak::Unreadable { seq: 2 })
        );
    }

    #[test]
    fn a_rewrite_or_a_cut_is_named_against_the_signed_checkpoints() {
        let links = chain(&[
            event(1, AuditAction::ApplyProtection, Some("Case 1")),
            event(2, AuditAction::DeletionBlocked, None),
            event(3, AuditAction::RevokeProtection, None),
            event(4, AuditAction::Delete, None),
        ]);
        let at = |seq: u64, links: &[StoredEvent]| Checkpoint {
            org: org(),
            seq,
            hash: links[seq as usize - 1].hash.clone(),
            time: parse("2026-11-25T10:01:00Z").unwrap(),
        };
        let checkpoints = vec![at(3, &links), at(1, &links)];
        assert_eq!(check_checkpoints(&links, 4, &checkpoints), Ok(2));
        assert_eq!(check_checkpoints(&links, 4, &[]), Ok(0));
        // Only the events at the checkpoints are needed.
        let at_checkpoints = [links[0].clone(), links[2].clone()];
        assert_eq!(check_checkpoints(&at_checkpoints, 4, &checkpoints), Ok(2));
        // Event 2 rewritten and every later hash recomputed: the chain verifies on its own...
        let mut events: Vec<AuditEvent> = links
            .iter()
            .map(|l| serde_json::from_str(&l.bytes).unwrap())
            .collect();
        events[1].details.message = Some("rewritten".to_owned());
        let rewritten = chain(&events);
        assert_eq!(verify_chain(org(), &rewritten, head_of(&rewritten)), Ok(4));
        // ...but not against the checkpoints: from event 2 on, after the one at 1 that holds.
        assert_eq!(
            check_checkpoints(&rewritten, 4, &checkpoints),
            Err(CheckpointBreak::Rewritten {
                checkpoint_seq: 3,
                first_suspect: 2
            })
        );
        assert_eq!(
            check_checkpoints(&links[..2], 2, &checkpoints),
            Err(CheckpointBreak::Truncated {
                checkpoint_seq: 3,
                last_seq: 2
            })
        );
        assert_eq!(
            String::from_utf8(at(1, &links).signed_bytes()).unwrap(),
            format!(
                "holdfast audit checkpoint 1\n{ORG}\n1\n{}\n2026-11-25T10:01:00.000Z",
                links[0].hash
            )
        );
    }

    #[test]
    fn hashes_depend_on_every_byte_and_round_trip_as_hex() {
        let a = link_hash(&GENESIS, b"a");
        let b = link_hash(&GENESIS, b"b");
        assert_ne!(a, b);
        assert_ne!(link_hash(&a, b"a"), a);
        assert_eq!(ChainHash::from_hex(&a.to_hex()), Some(a));
        assert_eq!(ChainHash::from_hex("zz"), None);
        assert_eq!(
            AuditAction::parse("RevokeProtection"),
            Some(AuditAction::RevokeProtection)
        );
    }
}

/// The audit trail's filters and page, as the app sends them in a query string.
#[derive(Clone, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditQuery {
    pub action: Option<AuditAction>,
    /// The actor's user name, exactly.
    pub user: Option<String>,
    /// Events about this conversation or one of its recordings.
    pub conversation: Option<ConversationId>,
    pub from: Option<Instant>,
    pub to: Option<Instant>,
    /// 1-based.
    pub page: u32,
    pub page_size: u32,
}

/// The largest page of the audit trail.
pub const AUDIT_PAGE_MAX: u32 = 500;

impl AuditQuery {
    /// No filter, the first page of 50.
    pub fn new() -> AuditQuery {
        AuditQuery {
            page: 1,
            page_size: 50,
            ..AuditQuery::default()
        }
    }

    /// Parses `action=ApplyProtection&user=manager&conversation=<id>&from=..&to=..&page=2&size=50`.
    pub fn from_query(query: &str) -> Result<AuditQuery, crate::view::ViewError> {
        use crate::view::{ViewError, percent_decode};
        let mut q = AuditQuery {
            page: 1,
            page_size: 50,
            ..AuditQuery::default()
        };
        for pair in query
            .trim_start_matches('?')
            .split('&')
            .filter(|p| !p.is_empty())
        {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let (name, value) = (percent_decode(name)?, percent_decode(value)?);
            let invalid = || ViewError::InvalidValue {
                name: name.clone(),
                value: value.chars().take(64).collect(),
            };
            match name.as_str() {
                "action" => q.action = Some(AuditAction::parse(&value).ok_or_else(invalid)?),
                "user" if !value.is_empty() => q.user = Some(value.clone()),
                "conversation" => {
                    q.conversation = Some(ConversationId::parse(&value).map_err(|_| invalid())?)
                }
                "from" => q.from = Some(crate::time::parse(&value).ok_or_else(invalid)?),
                "to" => q.to = Some(crate::time::parse(&value).ok_or_else(invalid)?),
                "page" => q.page = value.parse().ok().filter(|p| *p >= 1).ok_or_else(invalid)?,
                "size" => {
                    q.page_size = value
                        .parse()
                        .ok()
                        .filter(|s| (1..=AUDIT_PAGE_MAX).contains(s))
                        .ok_or_else(invalid)?;
                }
                _ => {
                    return Err(ViewError::UnknownParameter {
                        name: name.chars().take(64).collect(),
                    });
                }
            }
        }
        Ok(q)
    }

    /// The query string of the filters (no paging), for links such as the CSV export.
    pub fn filters_query(&self) -> String {
        use crate::view::percent_encode;
        let mut parts = Vec::new();
        if let Some(a) = self.action {
            parts.push(format!("action={}", a.as_str()));
        }
        if let Some(u) = &self.user {
            parts.push(format!("user={}", percent_encode(u)));
        }
        if let Some(c) = self.conversation {
            parts.push(format!("conversation={c}"));
        }
        if let Some(t) = self.from {
            parts.push(format!("from={}", percent_encode(&crate::time::format(t))));
        }
        if let Some(t) = self.to {
            parts.push(format!("to={}", percent_encode(&crate::time::format(t))));
        }
        parts.join("&")
    }

    /// Whether `event` passes the filters; `recordings_of` tells which recordings belong to the
    /// conversation filtered on.
    pub fn matches(&self, event: &AuditEvent, recordings_of: &[RecordingId]) -> bool {
        let by_user = match (&self.user, &event.actor) {
            (None, _) => true,
            (Some(u), Actor::User { name, .. }) => name == u,
            (Some(u), Actor::System) => u == "system",
        };
        let about = match self.conversation {
            None => true,
            Some(c) => {
                event.conversation_id() == Some(c)
                    || event
                        .details
                        .recordings
                        .iter()
                        .any(|r| recordings_of.contains(r))
            }
        };
        self.action.is_none_or(|a| a == event.action)
            && by_user
            && about
            && self.from.is_none_or(|t| event.time >= t)
            && self.to.is_none_or(|t| event.time < t)
    }
}

#[cfg(test)]
mod query_tests {
    use super::*;

    #[test]
    fn audit_queries_parse_and_round_trip_their_filters() {
        let q = AuditQuery::from_query(
            "action=RevokeProtection&user=Maria%20M&from=2026-11-01T00:00:00.000Z&page=2&size=10",
        )
        .unwrap();
        assert_eq!(q.action, Some(AuditAction::RevokeProtection));
        assert_eq!(q.user.as_deref(), Some("Maria M"));
        assert_eq!((q.page, q.page_size), (2, 10));
        let again = AuditQuery::from_query(&q.filters_query()).unwrap();
        assert_eq!(
            again,
            AuditQuery {
                page: 1,
                page_size: 50,
                ..q
            }
        );
        assert!(AuditQuery::from_query("action=Nope").is_err());
        assert!(AuditQuery::from_query("size=501").is_err());
        assert!(AuditQuery::from_query("colour=red").is_err());
        assert!(AuditQuery::from_query("conversation=x").is_err());
    }
}
