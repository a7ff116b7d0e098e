//! The Genesys Cloud Platform API v2 subset: request and answer types with the exact field names,
//! casing and limits of Genesys Cloud, so that its SDKs and scripts work unchanged.

use serde::{Deserialize, Serialize};

use crate::ids::{ConversationId, IdError};
use crate::time::Instant;

/// `PUT|POST /api/v2/recordings/deletionprotection` accept at most this many ids.
pub const MAX_DELETION_PROTECTION_IDS: usize = 100;

/// The body of `PUT|POST /api/v2/recordings/deletionprotection`.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConversationDeletionProtectionQuery {
    pub conversation_ids: Vec<String>,
}

/// Why a deletion protection body is refused as a whole (HTTP 400).
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum IdsError {
    Empty,
    TooMany { count: usize, max: usize },
    Invalid(IdError),
}

impl std::fmt::Display for IdsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            IdsError::Empty => f.write_str("conversationIds must not be empty"),
            IdsError::TooMany { count, max } => {
                write!(
                    f,
                    "conversationIds has {count} entries; at most {max} are allowed"
                )
            }
            IdsError::Invalid(e) => e.fmt(f),
        }
    }
}

impl ConversationDeletionProtectionQuery {
    /// The ids, checked against the Genesys limit; repeats are kept once, in order.
    pub fn ids(&self) -> Result<Vec<ConversationId>, IdsError> {
        let count = self.conversation_ids.len();
        if count == 0 {
            return Err(IdsError::Empty);
        }
        if count > MAX_DELETION_PROTECTION_IDS {
            return Err(IdsError::TooMany {
                count,
                max: MAX_DELETION_PROTECTION_IDS,
            });
        }
        let mut ids = Vec::with_capacity(count);
        for text in &self.conversation_ids {
            let id = ConversationId::parse(text).map_err(IdsError::Invalid)?;
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
        Ok(ids)
    }
}

/// `{"id","selfUri"}`.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AddressableEntityRef {
    pub id: String,
    pub self_uri: String,
}

impl AddressableEntityRef {
    pub fn conversation(id: ConversationId) -> Self {
        AddressableEntityRef {
            id: id.to_string(),
            self_uri: format!("/api/v2/conversations/{id}"),
        }
    }
}

/// One conversation that a deletion protection request could not update.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FailedUpdate {
    pub conversation: AddressableEntityRef,
    pub error_message: String,
    pub error_code: String,
}

/// The answer of `PUT /api/v2/recordings/deletionprotection`.
#[derive(Clone, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConversationDeletionProtectionResponse {
    pub failed_updates: Vec<FailedUpdate>,
}

/// A Recording as `GET /api/v2/conversations/{id}/recordingmetadata` lists it.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Recording {
    pub id: String,
    pub conversation_id: String,
    /// `audio`, `chat`, `email`, `message` or `screen`.
    pub media: String,
    /// `AVAILABLE` or `DELETED`.
    pub file_state: String,
    #[serde(
        with = "crate::time::iso_opt",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub delete_date: Option<Instant>,
    #[serde(
        with = "crate::time::iso_opt",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub archive_date: Option<Instant>,
    #[serde(
        with = "crate::time::iso_opt",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub creation_time: Option<Instant>,
    #[serde(
        with = "crate::time::iso_opt",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub start_time: Option<Instant>,
    #[serde(
        with = "crate::time::iso_opt",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub end_time: Option<Instant>,
    /// `CUSTOMER_EXPERIENCE` or `ADHOC`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recording_file_role: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_duration_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_size_in_bytes: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub self_uri: Option<String>,
}

/// The body of `PUT /api/v2/conversations/{id}/recordings/{recordingId}`: a Recording with only
/// the fields the caller set, as the official SDKs send it. An absent field is left unchanged
/// (`None`); a field set to `null` is cleared (`Some(None)`). Read-only fields (`id`,
/// `fileState`, ...) are accepted and ignored, so a Recording read by GET can be sent back.
#[derive(Clone, PartialEq, Eq, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordingUpdate {
    #[serde(default, deserialize_with = "crate::time::iso_patch::deserialize")]
    pub delete_date: Option<Option<Instant>>,
    #[serde(default, deserialize_with = "crate::time::iso_patch::deserialize")]
    pub archive_date: Option<Option<Instant>>,
}

/// Why a Recording update is refused as a whole (HTTP 400).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum RecordingUpdateError {
    /// Holdfast does not archive recordings, so an archive date cannot be set.
    ArchiveDate,
}

impl std::fmt::Display for RecordingUpdateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RecordingUpdateError::ArchiveDate => f.write_str(
                "archiveDate cannot be set: Holdfast does not archive recordings (send deleteDate only)",
            ),
        }
    }
}

impl RecordingUpdate {
    /// The deletion date to set, if the update changes it from `current`: `Some(None)` clears it.
    /// Instants are kept to the millisecond, as stored, so a date equal to the millisecond is no
    /// change.
    pub fn delete_date_change(
        &self,
        current: Option<Instant>,
    ) -> Result<Option<Option<Instant>>, RecordingUpdateError> {
        if matches!(self.archive_date, Some(Some(_))) {
            return Err(RecordingUpdateError::ArchiveDate);
        }
        Ok(self
            .delete_date
            .map(|date| date.map(crate::time::whole_millis))
            .filter(|date| *date != current))
    }
}

/// `{"property","value"}` of an audit query.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct AuditQueryFilter {
    pub property: String,
    pub value: String,
}

/// The body of `POST /api/v2/audits/query/realtime`.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditQueryRequest {
    /// `start/end` in ISO-8601.
    pub interval: String,
    pub service_name: String,
    #[serde(default)]
    pub filters: Vec<AuditQueryFilter>,
    #[serde(default)]
    pub page_number: Option<u32>,
    #[serde(default)]
    pub page_size: Option<u32>,
}

/// One audit message in a realtime query answer.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditLogMessage {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<AddressableEntityRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote_ip: Option<Vec<String>>,
    pub service_name: String,
    pub level: String,
    #[serde(with = "crate::time::iso")]
    pub event_date: Instant,
    pub action: String,
    pub entity: AddressableEntityRef,
    pub entity_type: String,
    #[serde(default)]
    pub context: serde_json::Map<String, serde_json::Value>,
}

/// The answer of `POST /api/v2/audits/query/realtime`.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditQueryResponse {
    pub entities: Vec<AuditLogMessage>,
    pub page_size: u32,
    pub page_number: u32,
    pub total: u64,
    pub page_count: u32,
}

/// The answer of `POST /oauth/token`.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: String,
    pub expires_in: u64,
}

/// One recording of `GET /api/v2/recordings/retention/query`.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordingRetention {
    pub conversation_id: String,
    pub recording_id: String,
    /// Absent for a recording that is kept (no deletion date).
    #[serde(
        default,
        with = "crate::time::iso_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub delete_date: Option<Instant>,
    #[serde(with = "crate::time::iso")]
    pub creation_time: Instant,
}

/// `GET /api/v2/recordings/retention/query`: a page and the cursor to the next one.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordingRetentionCursorEntityListing {
    pub entities: Vec<RecordingRetention>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_uri: Option<String>,
    pub self_uri: String,
}

/// The largest `pageSize` of the retention query (Genesys's limit); the default is 25.
pub const RETENTION_QUERY_MAX_PAGE: u32 = 500;
pub const RETENTION_QUERY_DEFAULT_PAGE: u32 = 25;

/// Whether a recording is "retained for more days than" the threshold, as Genesys's retention
/// query selects them: its deletion date is more than `days` days after its creation, or it
/// has none (kept, so retained longer than any threshold).
pub fn retained_longer_than(created: Instant, delete_date: Option<Instant>, days: u32) -> bool {
    delete_date.is_none_or(|d| d - created > chrono::Duration::days(i64::from(days)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(ids: Vec<String>) -> ConversationDeletionProtectionQuery {
        ConversationDeletionProtectionQuery {
            conversation_ids: ids,
        }
    }

    #[test]
    fn deletion_protection_body_limits() {
        let id = "6a1b5f0e-2f43-4c5e-9a59-0d6c2f8d1b11".to_owned();
        assert_eq!(
            query(vec![id.clone(), id.clone()]).ids().map(|v| v.len()),
            Ok(1)
        );
        assert_eq!(query(vec![]).ids(), Err(IdsError::Empty));
        assert_eq!(
            query(vec![id.clone(); 101]).ids(),
            Err(IdsError::TooMany {
                count: 101,
                max: 100
            })
        );
        assert_eq!(query(vec![id; 100]).ids().map(|v| v.len()), Ok(1));
        assert!(matches!(
            query(vec!["x".to_owned()]).ids(),
            Err(IdsError::Invalid(_))
        ));
    }

    #[track_caller]
    fn check_update(
        body: &str,
        current: Option<&str>,
        expected: Result<Option<Option<&str>>, RecordingUpdateError>,
    ) {
        let at = |t: &str| crate::time::parse(t).unwrap();
        let update: RecordingUpdate = serde_json::from_str(body).unwrap();
        let expected = expected.map(|change| change.map(|date| date.map(at)));
        assert_eq!(update.delete_date_change(current.map(at)), expected);
    }

    #[test]
    fn a_recording_update_changes_only_what_it_sets() {
        const NOW: &str = "2026-12-01T19:49:24.695Z";
        // The official SDK: microseconds and an offset rather than Z.
        check_update(
            r#"{"deleteDate":"2026-12-01T19:49:24.695272+00:00"}"#,
            None,
            Ok(Some(Some(NOW))),
        );
        check_update(
            r#"{"deleteDate":"2026-12-01T20:49:24.695272+01:00"}"#,
            None,
            Ok(Some(Some(NOW))),
        );
        check_update(
            r#"{"deleteDate":"2026-12-01T19:49:24.695272+00:00"}"#,
            Some(NOW),
            Ok(None),
        );
        check_update(
            r#"{"deleteDate":"2026-12-01T19:49:24Z"}"#,
            Some(NOW),
            Ok(Some(Some("2026-12-01T19:49:24Z"))),
        );
        check_update(r#"{"deleteDate":null}"#, Some(NOW), Ok(Some(None)));
        check_update(r#"{"deleteDate":null}"#, None, Ok(None));
        check_update(r#"{}"#, Some(NOW), Ok(None));
        check_update(
            r#"{"id":"x","fileState":"AVAILABLE","media":"audio"}"#,
            Some(NOW),
            Ok(None),
        );
        check_update(
            r#"{"archiveDate":null,"deleteDate":null}"#,
            Some(NOW),
            Ok(Some(None)),
        );
        check_update(
            r#"{"archiveDate":"2027-01-01T00:00:00Z"}"#,
            None,
            Err(RecordingUpdateError::ArchiveDate),
        );
        assert!(serde_json::from_str::<RecordingUpdate>(r#"{"deleteDate":"tomorrow"}"#).is_err());
        assert!(serde_json::from_str::<RecordingUpdate>(r#"{"deleteDate":5}"#).is_err());
        // No offset: refused, not guessed.
        let naive =
            serde_json::from_str::<RecordingUpdate>(r#"{"deleteDate":"2026-12-01T19:49:24"}"#);
        assert!(
            naive
                .unwrap_err()
                .to_string()
                .starts_with("expected an RFC 3339 instant with a time zone offset")
        );
    }

    #[test]
    fn wire_names_match_genesys() {
        let body: ConversationDeletionProtectionQuery =
            serde_json::from_str(r#"{"conversationIds":["a"]}"#).unwrap();
        assert_eq!(body.conversation_ids, vec!["a".to_owned()]);
        let id = ConversationId::parse("6a1b5f0e-2f43-4c5e-9a59-0d6c2f8d1b11").unwrap();
        let answer = ConversationDeletionProtectionResponse {
            failed_updates: vec![FailedUpdate {
                conversation: AddressableEntityRef::conversation(id),
                error_message: "m".to_owned(),
                error_code: "c".to_owned(),
            }],
        };
        assert_eq!(
            serde_json::to_value(&answer).unwrap(),
            serde_json::json!({"failedUpdates":[{"conversation":{"id":"6a1b5f0e-2f43-4c5e-9a59-0d6c2f8d1b11",
                "selfUri":"/api/v2/conversations/6a1b5f0e-2f43-4c5e-9a59-0d6c2f8d1b11"},
                "errorMessage":"m","errorCode":"c"}]})
        );
    }
}
