//! The native JSON API between the browser app and the server: request and answer types, the
//! same on both sides of the wire.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use crate::deletion::EffectiveDeletion;
use crate::domain::{Direction, FileState, Media, RecordingRole};
use crate::ids::{ConversationId, OrgId, RecordingId, UserId};
use crate::protection::{PlanError, ProtectAction, SelectionSummary};
use crate::time::Instant;

/// The header every state-changing request of the app carries, as a CSRF defence: a cross-site
/// form cannot set it.
pub const CSRF_HEADER: &str = "x-holdfast-csrf";

/// The most ids one selection may list; larger selections use a filter.
pub const MAX_SELECTION_IDS: usize = 1000;

/// `POST /api/session`.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

/// The signed-in user: `GET /api/session`, and the answer to a login.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Me {
    pub user_id: UserId,
    pub username: String,
    pub display_name: String,
    pub org_id: OrgId,
    pub org_name: String,
    /// Genesys permission names.
    pub permissions: Vec<String>,
}

/// `GET /api/org/status`: the organization's protected count and cap.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrgStatusDto {
    pub protected: u32,
    pub cap: u32,
}

/// One row of the interactions table.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConversationRow {
    pub id: ConversationId,
    #[serde(with = "crate::time::iso")]
    pub start_time: Instant,
    #[serde(with = "crate::time::iso")]
    pub end_time: Instant,
    pub duration_ms: u64,
    pub direction: Direction,
    pub queue: Option<String>,
    pub agents: Vec<String>,
    pub remote_party: Option<String>,
    pub wrap_up: Option<String>,
    /// The media of its recordings, each once.
    pub media: Vec<Media>,
    pub recording_count: u32,
    pub protected: bool,
    /// The earliest deletion date among its available recordings; `None` = kept or none.
    #[serde(with = "crate::time::iso_opt")]
    pub deletion_date: Option<Instant>,
}

/// `GET /api/conversations?<view query>`: one page of the view.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConversationPage {
    pub entities: Vec<ConversationRow>,
    /// How many conversations the filters match: exact up to [`TOTAL_BOUND`] (up to
    /// [`TEXT_TOTAL_BOUND`] when a text filter matches many); beyond it the count stops there
    /// and `total_exact` is false, so that a page costs the same at ten thousand conversations
    /// as at ten million.
    pub total: u64,
    pub total_exact: bool,
    pub page: u32,
    pub page_size: u32,
}

/// Where the interactions view stops counting the matches of its filters.
pub const TOTAL_BOUND: u64 = 10_000;

/// Where it stops when an agent or remote-party text matches many participants: each match is
/// then found through the text index, not counted in a range of the table. A thousand is still
/// past what an organization can protect (its cap).
pub const TEXT_TOTAL_BOUND: u64 = 1_000;

/// How many participants (of every organization and kind) a text may match and still be "few":
/// up to this many, a text filter's total is exact up to [`TOTAL_BOUND`]; beyond, up to
/// [`TEXT_TOTAL_BOUND`] (a text of fewer than three characters counts as few). Every backend decides it
/// the same way, so that a view shows the same total on each.
pub const TEXT_SEARCH_MATCHES: u64 = 5_000;

/// Where the view stops counting: [`TEXT_TOTAL_BOUND`] when a text filter matches many
/// participants, else [`TOTAL_BOUND`].
pub fn total_bound(many_text_matches: bool) -> u64 {
    match many_text_matches {
        true => TEXT_TOTAL_BOUND,
        false => TOTAL_BOUND,
    }
}

/// What a protect, release or summary applies to.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Selection {
    /// Listed conversations (a row, a page).
    Ids { ids: Vec<ConversationId> },
    /// Every conversation matching the filters (a view query of filter parameters), except some.
    Filter {
        query: String,
        except: Vec<ConversationId>,
    },
}

/// `POST /api/selection/summary`.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct SummaryRequest {
    pub selection: Selection,
}

/// The summary of a selection together with the organization's status, taken at one moment, so
/// the app can run `plan_protection` on consistent numbers.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SummaryResponse {
    pub summary: SelectionSummary,
    pub org: OrgStatusDto,
}

/// `POST /api/protection`.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct ProtectRequest {
    pub action: ProtectAction,
    pub selection: Selection,
    pub reason: Option<String>,
    /// A protect into this legal hold (`None`: the default hold). A release always acts on
    /// the default hold: a legal hold is released as a whole.
    #[serde(default)]
    pub hold: Option<crate::ids::HoldId>,
}

/// What happened to one listed conversation.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct ConversationOutcome {
    pub id: ConversationId,
    pub outcome: crate::protection::Outcome,
}

/// The answer to a committed protect or release.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProtectResponse {
    pub changed: u32,
    pub unchanged: crate::protection::Count,
    pub without_recording: crate::protection::Count,
    pub not_found: u32,
    /// Into a legal hold: protected conversations that joined it (not counted in `changed`).
    #[serde(default)]
    pub joined: u32,
    /// A release with two-person release on: asked for, waiting for a second user; nothing
    /// changed yet.
    #[serde(default)]
    pub requested: bool,
    pub org: OrgStatusDto,
    /// For a selection by ids: each listed conversation's outcome, in the order listed.
    pub outcomes: Vec<ConversationOutcome>,
}

/// An attachment of a recording (an e-mail attachment, a file sent in a chat).
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AttachmentInfo {
    pub id: String,
    pub name: String,
    pub content_type: String,
    pub size_bytes: u64,
}

/// One recording in the details of an interaction.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordingInfo {
    pub id: RecordingId,
    pub media: Media,
    pub role: RecordingRole,
    #[serde(with = "crate::time::iso")]
    pub created_at: Instant,
    pub duration_ms: Option<u64>,
    pub size_bytes: Option<u64>,
    pub file_state: FileState,
    /// The stored retention date; suspended while the conversation is protected.
    #[serde(with = "crate::time::iso_opt")]
    pub delete_date: Option<Instant>,
    /// What the user is shown: "Protected", a date, kept, or deleted.
    pub effective_deletion: EffectiveDeletion,
    /// Whether media bytes can be fetched (played or downloaded).
    pub has_media: bool,
    pub transcript: Option<String>,
    pub attachments: Vec<AttachmentInfo>,
    /// Why the deletion date is what it is ("why this date"): the retention policy that set it
    /// on arrival, or who set it by hand; `None` for dates set before this was kept.
    #[serde(default)]
    pub date_reason: Option<String>,
    #[serde(default, with = "crate::time::iso_opt")]
    pub date_set_at: Option<Instant>,
}

/// Who protected an interaction, when and why.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProtectionInfo {
    #[serde(with = "crate::time::iso")]
    pub since: Instant,
    pub by: String,
    pub reason: Option<String>,
}

/// `GET /api/conversations/{id}`: one interaction with its recordings.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConversationDetails {
    pub conversation: ConversationRow,
    pub recordings: Vec<RecordingInfo>,
    pub protection: Option<ProtectionInfo>,
    /// The active holds that cover it: the default hold, legal holds, or none.
    #[serde(default)]
    pub holds: Vec<crate::holds::HoldRef>,
}

/// `PUT /api/recordings/{id}/deleteDate`: a new retention date, or `null` to keep.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeleteDateRequest {
    #[serde(with = "crate::time::iso_opt")]
    pub delete_date: Option<Instant>,
}

/// One row of the audit trail page.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditPage {
    pub entities: Vec<crate::audit::AuditEvent>,
    pub total: u64,
    pub page: u32,
    pub page_size: u32,
    /// Whether the organization's whole chain verifies, and if not, the first broken link.
    pub chain_verified: bool,
    pub chain_error: Option<String>,
}

/// A saved view of the interactions page: a name and the view's query string.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SavedView {
    pub id: String,
    pub name: String,
    /// A `ViewState` query string (canonical form).
    pub query: String,
}

/// `POST /api/views` and `PATCH /api/views/{id}` (which renames).
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct SaveViewRequest {
    pub name: String,
    #[serde(default)]
    pub query: Option<String>,
}

/// The longest view name, in characters.
pub const VIEW_NAME_MAX: usize = 100;

/// A view name: trimmed, 1 to [`VIEW_NAME_MAX`] characters, no control characters.
pub fn view_name(text: &str) -> Option<String> {
    let t = text.trim();
    let ok =
        !t.is_empty() && t.chars().count() <= VIEW_NAME_MAX && !t.chars().any(char::is_control);
    ok.then(|| t.to_owned())
}

/// Base64 text inside an ingest body, borrowed from the body where the JSON string has no
/// escapes (as base64 never needs), so that a recording of tens of megabytes is not copied
/// before it is decoded.
#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
#[serde(transparent)]
pub struct Base64Text<'a>(pub Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Base64Text<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Text;
        impl<'de> serde::de::Visitor<'de> for Text {
            type Value = Cow<'de, str>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("base64 text")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Cow::Borrowed(v))
            }
            fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Cow::Owned(v.to_owned()))
            }
            fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
                Ok(Cow::Owned(v))
            }
        }
        d.deserialize_str(Text).map(Base64Text)
    }
}

/// An attachment to ingest: its bytes in base64, or (`holdfast import` only) a file.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IngestAttachment<'a> {
    pub name: String,
    pub content_type: String,
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    pub data_base64: Option<Base64Text<'a>>,
    /// `holdfast import` only: the file, relative to the JSON lines file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
}

/// A recording to ingest. Its deletion date comes from the retention policies.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IngestRecording<'a> {
    pub id: RecordingId,
    pub media: Media,
    pub role: RecordingRole,
    /// Defaults to the conversation's end.
    #[serde(default, with = "crate::time::iso_opt")]
    pub created_at: Option<Instant>,
    #[serde(default)]
    pub duration_ms: Option<u64>,
    /// The media bytes (audio, screen video, or the raw e-mail), in base64.
    #[serde(default, borrow)]
    pub media_base64: Option<Base64Text<'a>>,
    /// `holdfast import` only: the media file, relative to the JSON lines file, copied a slice
    /// at a time (a recording of any size; base64 suits small ones).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_file: Option<String>,
    /// The media type of those bytes, such as `audio/wav`.
    #[serde(default)]
    pub content_type: Option<String>,
    #[serde(default)]
    pub transcript: Option<String>,
    #[serde(default, borrow)]
    pub attachments: Vec<IngestAttachment<'a>>,
}

/// `POST /api/ingest` and one line of `holdfast import`: a conversation and its recordings. An
/// existing conversation of the organization gets the recordings added. The base64 of its media
/// is borrowed from the text it was read from.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IngestConversation<'a> {
    pub id: ConversationId,
    #[serde(with = "crate::time::iso")]
    pub start_time: Instant,
    #[serde(with = "crate::time::iso")]
    pub end_time: Instant,
    pub direction: Direction,
    #[serde(default)]
    pub queue: Option<String>,
    #[serde(default)]
    pub agents: Vec<String>,
    #[serde(default)]
    pub remote_party: Option<String>,
    #[serde(default)]
    pub wrap_up: Option<String>,
    #[serde(default, borrow)]
    pub recordings: Vec<IngestRecording<'a>>,
}

/// Every error answer: `{"message","code","status"}`, plus typed details where a client acts on
/// them (the numbers of an over-cap refusal).
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct ErrorBody {
    pub message: String,
    pub code: String,
    pub status: u16,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<PlanError>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ingest_base64_is_borrowed_from_the_body_unless_escaped() {
        let body = r#"{"id":"6a1b5f0e-2f43-4c5e-9a59-0d6c2f8d1b11","startTime":"2026-11-20T10:00:00Z",
            "endTime":"2026-11-20T10:05:00Z","direction":"inbound","recordings":[
            {"id":"7a1b5f0e-2f43-4c5e-9a59-0d6c2f8d1b11","media":"call","role":"policy","mediaBase64":"aGVsbG8=",
             "attachments":[{"name":"a","contentType":"text/plain","dataBase64":"YS9i\/Yw=="}]}]}"#;
        let c: IngestConversation = serde_json::from_str(body).unwrap();
        let r = &c.recordings[0];
        assert!(matches!(
            r.media_base64,
            Some(Base64Text(Cow::Borrowed("aGVsbG8=")))
        ));
        assert_eq!(
            r.attachments[0].data_base64,
            Some(Base64Text(Cow::Owned("YS9i/Yw==".to_owned())))
        );
        assert_eq!((&r.media_file, &r.attachments[0].file), (&None, &None));
    }

    #[test]
    fn wire_names() {
        let sel = Selection::Filter {
            query: "protected=no".to_owned(),
            except: vec![],
        };
        let json = serde_json::to_value(&sel).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"kind": "filter", "query": "protected=no", "except": []})
        );
        let req: ProtectRequest = serde_json::from_str(
            r#"{"action":"protect","selection":{"kind":"ids","ids":["6a1b5f0e-2f43-4c5e-9a59-0d6c2f8d1b11"]},"reason":null}"#,
        )
        .unwrap();
        assert_eq!(req.action, ProtectAction::Protect);
        let err = ErrorBody {
            message: "m".to_owned(),
            code: "over.cap".to_owned(),
            status: 409,
            plan: Some(PlanError::OverCap {
                new: crate::protection::Count::Exact(2),
                headroom: 1,
                cap: 1000,
            }),
        };
        assert_eq!(
            serde_json::to_value(&err).unwrap(),
            serde_json::json!({"message":"m","code":"over.cap","status":409,
                "plan":{"kind":"overCap","new":{"exact":2},"headroom":1,"cap":1000}})
        );
    }
}
