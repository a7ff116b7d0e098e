//! Rule 9: audit events, their canonical form and the per-organization hash chain.
//!
//! Each event's hash is `SHA-256(previous hash || canonical JSON of the event)`; the first event
//! of an organization follows [`GENESIS`]. Editing, inserting or deleting a stored event breaks
//! every later link, and [`verify_chain`] names the first one.

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
}

impl EntityType {
    pub const fn as_str(self) -> &'static str {
        match self {
            EntityType::Conversation => "Conversation",
            EntityType::Recording => "Recording",
            EntityType::User => "User",
            EntityType::RetentionPolicy => "RetentionPolicy",
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

    /// The canonical bytes that are hashed: JSON with fields in declaration order, times with
    /// milliseconds. Serializing these plain structs cannot fail.
    pub fn canonical(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
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

/// The hash of `event` following `prev`.
pub fn chain_hash(prev: &ChainHash, event: &AuditEvent) -> ChainHash {
    let mut hasher = Sha256::new();
    hasher.update(prev.0);
    hasher.update(event.canonical());
    ChainHash(hasher.finalize().into())
}

/// The first broken link of a chain.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum ChainBreak {
    /// The event's stored hash is not the hash of its content after its predecessor: it or an
    /// earlier event was edited.
    HashMismatch { seq: u64 },
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

/// Verifies an organization's events in order of `seq`, each with its stored hash, against the
/// recorded head (`None` for an empty chain). Returns the number of events verified.
pub fn verify_chain<'a>(
    events: impl IntoIterator<Item = (&'a AuditEvent, ChainHash)>,
    head: Option<(u64, ChainHash)>,
) -> Result<u64, ChainBreak> {
    verify_chain_from((0, GENESIS), events, head)
}

/// Verifies the events after a link already verified (`(0, GENESIS)` for the whole chain):
/// `events` are those with `seq` above `from.0`, in order, each with its stored hash. Returns the
/// last `seq` verified, which is the head's.
pub fn verify_chain_from<'a>(
    from: (u64, ChainHash),
    events: impl IntoIterator<Item = (&'a AuditEvent, ChainHash)>,
    head: Option<(u64, ChainHash)>,
) -> Result<u64, ChainBreak> {
    let (mut last_seq, mut prev) = from;
    for (event, stored) in events {
        let expected = last_seq + 1;
        if event.seq != expected {
            return Err(ChainBreak::Gap {
                expected,
                found: event.seq,
            });
        }
        if chain_hash(&prev, event) != stored {
            return Err(ChainBreak::HashMismatch { seq: event.seq });
        }
        prev = stored;
        last_seq = expected;
    }
    match head {
        None if last_seq == 0 => Ok(0),
        Some((seq, hash)) if seq == last_seq && hash == prev => Ok(last_seq),
        _ => Err(ChainBreak::Head { last_seq }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::parse;

    fn event(seq: u64, action: AuditAction, reason: Option<&str>) -> AuditEvent {
        AuditEvent {
            seq,
            time: parse("2026-11-25T10:00:00Z").unwrap(),
            org: OrgId::parse("00000000-0000-4000-8000-000000000001").unwrap(),
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

    fn chain(events: &[AuditEvent]) -> Vec<(AuditEvent, ChainHash)> {
        let mut prev = GENESIS;
        events
            .iter()
            .map(|e| {
                prev = chain_hash(&prev, e);
                (e.clone(), prev)
            })
            .collect()
    }

    fn verify(
        links: &[(AuditEvent, ChainHash)],
        head: Option<(u64, ChainHash)>,
    ) -> Result<u64, ChainBreak> {
        verify_chain(links.iter().map(|(e, h)| (e, *h)), head)
    }

    #[test]
    fn a_sound_chain_verifies() {
        let links = chain(&[
            event(1, AuditAction::ApplyProtection, Some("Case 1")),
            event(2, AuditAction::DeletionBlocked, None),
            event(3, AuditAction::RevokeProtection, None),
        ]);
        let head = Some((3, links[2].1));
        assert_eq!(verify(&links, head), Ok(3));
        assert_eq!(verify(&[], None), Ok(0));
    }

    #[test]
    fn verifying_from_a_verified_link_checks_only_the_events_after_it() {
        let links = chain(&[
            event(1, AuditAction::ApplyProtection, Some("Case 1")),
            event(2, AuditAction::DeletionBlocked, None),
            event(3, AuditAction::RevokeProtection, None),
            event(4, AuditAction::Delete, None),
        ]);
        let head = Some((4, links[3].1));
        let after = |from: usize, links: &[(AuditEvent, ChainHash)]| {
            let start = match from {
                0 => (0, GENESIS),
                n => (n as u64, links[n - 1].1),
            };
            verify_chain_from(start, links[from..].iter().map(|(e, h)| (e, *h)), head)
        };
        for from in 0..=4 {
            assert_eq!(after(from, &links), Ok(4), "from {from}");
        }
        // A new event edited after its link was written is found from the last verified link.
        let mut edited = links.clone();
        edited[3].0.details.reason = Some("edited".to_owned());
        assert_eq!(after(2, &edited), Err(ChainBreak::HashMismatch { seq: 4 }));
        // A link that does not continue from the verified one is found too.
        assert_eq!(
            verify_chain_from(
                (2, links[0].1),
                links[2..].iter().map(|(e, h)| (e, *h)),
                head
            ),
            Err(ChainBreak::HashMismatch { seq: 3 })
        );
        // Events cut after the verified link: the head does not match.
        assert_eq!(
            verify_chain_from((4, links[3].1), std::iter::empty(), Some((3, links[2].1))),
            Err(ChainBreak::Head { last_seq: 4 })
        );
    }

    #[test]
    fn tampering_is_named() {
        let links = chain(&[
            event(1, AuditAction::ApplyProtection, Some("Case 1")),
            event(2, AuditAction::DeletionBlocked, None),
            event(3, AuditAction::RevokeProtection, None),
        ]);
        let head = Some((3, links[2].1));

        let mut edited = links.clone();
        edited[1].0.details.reason = Some("edited".to_owned());
        assert_eq!(
            verify(&edited, head),
            Err(ChainBreak::HashMismatch { seq: 2 })
        );

        let mut removed = links.clone();
        removed.remove(1);
        assert_eq!(
            verify(&removed, head),
            Err(ChainBreak::Gap {
                expected: 2,
                found: 3
            })
        );

        assert_eq!(
            verify(&links[..2], head),
            Err(ChainBreak::Head { last_seq: 2 })
        );
        assert_eq!(verify(&links, None), Err(ChainBreak::Head { last_seq: 3 }));
    }

    #[test]
    fn hashes_depend_on_every_field_and_round_trip_as_hex() {
        let a = chain_hash(&GENESIS, &event(1, AuditAction::Delete, None));
        let b = chain_hash(&GENESIS, &event(1, AuditAction::Delete, Some("x")));
        assert_ne!(a, b);
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
