//! Every route, parsed once from method and path into an enum that the dispatcher matches
//! exhaustively.

use hyper::Method;

use holdfast_core::{ConversationId, HoldId, RecordingId};

use crate::error::ApiError;

fn id<T>(
    text: &str,
    parse: fn(&str) -> Result<T, holdfast_core::ids::IdError>,
) -> Result<T, ApiError> {
    parse(text).map_err(|e| ApiError::BadRequest(e.to_string()))
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Route {
    Health,
    Metrics,
    OpenApi,
    SessionGet,
    Login,
    Logout,
    OrgStatus,
    Conversations,
    SelectionSummary,
    Protection,
    ConversationDetails(ConversationId),
    Audit,
    AuditCsv,
    Views,
    View(String),
    Ingest,
    RecordingMedia(RecordingId),
    /// A recording's media as the raw request body, streamed to storage.
    UploadMedia(RecordingId),
    /// An attachment of a recording as the raw request body (`?name=`), streamed to storage.
    UploadAttachment(RecordingId),
    Attachment(String),
    DeleteTranscript(RecordingId),
    DeleteAttachment(String),
    RetentionPolicies,
    /// What the sweep will delete in the coming days.
    RetentionForecast,
    RetentionPolicy(String),
    /// Legal holds: the list, and a new one.
    Holds,
    /// A hold with its conversations and what releasing it would do.
    Hold(HoldId),
    /// Releases a legal hold as a whole.
    HoldRelease(HoldId),
    /// Approves (`true`) or refuses the release of a legal hold that waits for a second user.
    HoldDecide(HoldId, bool),
    /// The organization's settings.
    OrgSettings,
    /// A hold's report, as CSV.
    HoldReport(HoldId),
    /// Adds a pasted list of interaction ids to a legal hold (`apply`), or previews it.
    HoldList(HoldId, bool),
    OauthToken,
    GenesysSetProtection,
    GenesysGetProtection,
    GenesysRecordingMetadata(ConversationId),
    GenesysRecording(ConversationId, RecordingId),
    GenesysPutRecording(ConversationId, RecordingId),
    GenesysAuditQuery,
    /// Recordings retained for more days than a threshold.
    GenesysRetentionQuery,
    DeleteRecording(RecordingId),
    SetDeleteDate(RecordingId),
    /// A file of the app, or the app's page for a client-side route.
    Asset(String),
}

/// The route for a request, or the error to answer with: unknown API paths are 404 and known
/// paths with another method are 405, both as JSON.
pub fn route(method: &Method, path: &str) -> Result<Route, ApiError> {
    let api = |allowed: &[(Method, Route)]| {
        allowed
            .iter()
            .find(|(m, _)| m == method)
            .map(|(_, r)| r.clone())
            .ok_or_else(|| ApiError::MethodNotAllowed {
                allow: allowed
                    .iter()
                    .map(|(m, _)| m.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    };
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match segments.as_slice() {
        ["api", "conversations", c] => {
            let c = id(c, ConversationId::parse)?;
            return api(&[(Method::GET, Route::ConversationDetails(c))]);
        }
        ["api", "v2", "conversations", c, "recordingmetadata"] => {
            let c = id(c, ConversationId::parse)?;
            return api(&[(Method::GET, Route::GenesysRecordingMetadata(c))]);
        }
        ["api", "v2", "conversations", c, "recordings", r] => {
            let (c, r) = (id(c, ConversationId::parse)?, id(r, RecordingId::parse)?);
            return api(&[
                (Method::GET, Route::GenesysRecording(c, r)),
                (Method::PUT, Route::GenesysPutRecording(c, r)),
            ]);
        }
        ["api", "views", v] => {
            let v = uuid::Uuid::try_parse(v)
                .map_err(|_| {
                    ApiError::BadRequest(format!("'{v}' is not a valid view id (a UUID)"))
                })?
                .to_string();
            return api(&[
                (Method::PATCH, Route::View(v.clone())),
                (Method::DELETE, Route::View(v)),
            ]);
        }
        ["api", "retention-policies", p] => {
            let p = uuid::Uuid::try_parse(p)
                .map_err(|_| {
                    ApiError::BadRequest(format!("'{p}' is not a valid policy id (a UUID)"))
                })?
                .to_string();
            return api(&[(Method::PUT, Route::RetentionPolicy(p))]);
        }
        ["api", "holds", h] => {
            let h = id(h, HoldId::parse)?;
            return api(&[(Method::GET, Route::Hold(h))]);
        }
        ["api", "holds", h, "report.csv"] => {
            let h = id(h, HoldId::parse)?;
            return api(&[(Method::GET, Route::HoldReport(h))]);
        }
        ["api", "holds", h, "list"] => {
            let h = id(h, HoldId::parse)?;
            return api(&[(Method::POST, Route::HoldList(h, true))]);
        }
        ["api", "holds", h, "list", "preview"] => {
            let h = id(h, HoldId::parse)?;
            return api(&[(Method::POST, Route::HoldList(h, false))]);
        }
        [
            "api",
            "holds",
            h,
            "release",
            decision @ ("approve" | "refuse"),
        ] => {
            let h = id(h, HoldId::parse)?;
            let approve = *decision == "approve";
            return api(&[(Method::POST, Route::HoldDecide(h, approve))]);
        }
        ["api", "holds", h, "release"] => {
            let h = id(h, HoldId::parse)?;
            return api(&[(Method::POST, Route::HoldRelease(h))]);
        }
        ["api", "recordings", r, "transcript"] => {
            let r = id(r, RecordingId::parse)?;
            return api(&[(Method::DELETE, Route::DeleteTranscript(r))]);
        }
        ["api", "recordings", r, "media"] => {
            let r = id(r, RecordingId::parse)?;
            return api(&[
                (Method::GET, Route::RecordingMedia(r)),
                (Method::PUT, Route::UploadMedia(r)),
            ]);
        }
        ["api", "recordings", r, "attachments"] => {
            let r = id(r, RecordingId::parse)?;
            return api(&[(Method::POST, Route::UploadAttachment(r))]);
        }
        ["api", "attachments", a] => {
            let a = uuid::Uuid::try_parse(a)
                .map_err(|_| {
                    ApiError::BadRequest(format!("'{a}' is not a valid attachment id (a UUID)"))
                })?
                .to_string();
            return api(&[
                (Method::GET, Route::Attachment(a.clone())),
                (Method::DELETE, Route::DeleteAttachment(a)),
            ]);
        }
        ["api", "recordings", r] => {
            let r = id(r, RecordingId::parse)?;
            return api(&[(Method::DELETE, Route::DeleteRecording(r))]);
        }
        ["api", "recordings", r, "deleteDate"] => {
            let r = id(r, RecordingId::parse)?;
            return api(&[(Method::PUT, Route::SetDeleteDate(r))]);
        }
        _ => {}
    }
    match path {
        "/healthz" => api(&[(Method::GET, Route::Health)]),
        "/metrics" => api(&[(Method::GET, Route::Metrics)]),
        "/api/openapi.json" => api(&[(Method::GET, Route::OpenApi)]),
        "/api/session" => api(&[
            (Method::GET, Route::SessionGet),
            (Method::POST, Route::Login),
            (Method::DELETE, Route::Logout),
        ]),
        "/api/org/status" => api(&[(Method::GET, Route::OrgStatus)]),
        "/api/conversations" => api(&[(Method::GET, Route::Conversations)]),
        "/api/selection/summary" => api(&[(Method::POST, Route::SelectionSummary)]),
        "/api/protection" => api(&[(Method::POST, Route::Protection)]),
        "/api/audit" => api(&[(Method::GET, Route::Audit)]),
        "/api/ingest" => api(&[(Method::POST, Route::Ingest)]),
        "/api/retention-policies" => api(&[
            (Method::GET, Route::RetentionPolicies),
            (Method::POST, Route::RetentionPolicies),
        ]),
        "/api/views" => api(&[(Method::GET, Route::Views), (Method::POST, Route::Views)]),
        "/api/retention/forecast" => api(&[(Method::GET, Route::RetentionForecast)]),
        "/api/holds" => api(&[(Method::GET, Route::Holds), (Method::POST, Route::Holds)]),
        "/api/org/settings" => api(&[(Method::PUT, Route::OrgSettings)]),
        "/api/audit.csv" => api(&[(Method::GET, Route::AuditCsv)]),
        "/oauth/token" => api(&[(Method::POST, Route::OauthToken)]),
        "/api/v2/recordings/deletionprotection" => api(&[
            (Method::PUT, Route::GenesysSetProtection),
            (Method::POST, Route::GenesysGetProtection),
        ]),
        "/api/v2/audits/query/realtime" => api(&[(Method::POST, Route::GenesysAuditQuery)]),
        "/api/v2/recordings/retention/query" => api(&[(Method::GET, Route::GenesysRetentionQuery)]),
        _ if path == "/api" || path.starts_with("/api/") || path.starts_with("/oauth/") => {
            Err(ApiError::NotFound)
        }
        _ => match *method {
            Method::GET | Method::HEAD => Ok(Route::Asset(path.to_owned())),
            _ => Err(ApiError::MethodNotAllowed {
                allow: "GET, HEAD".to_owned(),
            }),
        },
    }
}

/// The largest ingest body.
pub const INGEST_MAX_BODY: usize = 96 * 1024 * 1024;

/// The largest file an upload takes: streamed to disk, it costs no memory, only time and disk
/// (a day-long call recording in WAV is about 1.4 GB).
pub const UPLOAD_MAX_BODY: u64 = 4 * 1024 * 1024 * 1024;

impl Route {
    /// The largest body this route accepts: ingest carries media bytes, in base64 (a third
    /// larger than the bytes), so 96 MiB takes a recording of 72 MiB.
    pub fn body_limit(&self) -> usize {
        match self {
            Route::Ingest => INGEST_MAX_BODY,
            // Ten thousand ids, with room for a CSV's other columns.
            Route::HoldList(..) => 2 * 1024 * 1024,
            _ => crate::handler::MAX_BODY,
        }
    }

    /// A short name for logs and metrics.
    pub fn name(&self) -> &'static str {
        match self {
            Route::Health => "health",
            Route::Metrics => "metrics",
            Route::OpenApi => "openapi",
            Route::SessionGet => "session.get",
            Route::Login => "session.login",
            Route::Logout => "session.logout",
            Route::OrgStatus => "org.status",
            Route::Conversations => "conversations.list",
            Route::SelectionSummary => "selection.summary",
            Route::Protection => "protection.change",
            Route::ConversationDetails(_) => "conversations.details",
            Route::OauthToken => "oauth.token",
            Route::Audit => "audit.list",
            Route::Views => "views",
            Route::Ingest => "ingest",
            Route::RecordingMedia(_) => "recordings.media",
            Route::UploadMedia(_) => "recordings.media.put",
            Route::UploadAttachment(_) => "recordings.attachments.post",
            Route::Attachment(_) => "attachments.get",
            Route::DeleteTranscript(_) => "recordings.transcript.delete",
            Route::DeleteAttachment(_) => "attachments.delete",
            Route::RetentionPolicies => "retention.policies",
            Route::RetentionForecast => "retention.forecast",
            Route::RetentionPolicy(_) => "retention.policy",
            Route::Holds => "holds",
            Route::Hold(_) => "holds.one",
            Route::HoldRelease(_) => "holds.release",
            Route::HoldDecide(_, true) => "holds.release.approve",
            Route::HoldDecide(_, false) => "holds.release.refuse",
            Route::OrgSettings => "org.settings",
            Route::HoldReport(_) => "holds.report",
            Route::HoldList(_, true) => "holds.list",
            Route::HoldList(_, false) => "holds.list.preview",
            Route::View(_) => "views.one",
            Route::AuditCsv => "audit.csv",
            Route::GenesysSetProtection => "v2.deletionprotection.put",
            Route::GenesysGetProtection => "v2.deletionprotection.post",
            Route::GenesysRecordingMetadata(_) => "v2.recordingmetadata",
            Route::GenesysRecording(..) => "v2.recording.get",
            Route::GenesysPutRecording(..) => "v2.recording.put",
            Route::GenesysAuditQuery => "v2.audits.query",
            Route::GenesysRetentionQuery => "v2.recordings.retention.query",
            Route::DeleteRecording(_) => "recordings.delete",
            Route::SetDeleteDate(_) => "recordings.deleteDate",
            Route::Asset(_) => "asset",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(method: Method, path: &str, expect: Result<Route, &str>) {
        let got = route(&method, path).map_err(|e| e.code());
        assert_eq!(got, expect, "{method} {path}");
    }

    /// One route of each kind. `Route::name` matches exhaustively, so a new route gets a name;
    /// add a sample here too, and the test below makes sure the OpenAPI document lists it.
    fn samples() -> Vec<Route> {
        let c = ConversationId::parse("6a1b5f0e-2f43-4c5e-9a59-0d6c2f8d1b11").unwrap();
        let r = RecordingId::parse("6a1b5f0e-2f43-4c5e-9a59-0d6c2f8d1b11").unwrap();
        let s = String::new;
        vec![
            Route::Health,
            Route::Metrics,
            Route::OpenApi,
            Route::SessionGet,
            Route::Login,
            Route::Logout,
            Route::OrgStatus,
            Route::Conversations,
            Route::SelectionSummary,
            Route::Protection,
            Route::ConversationDetails(c),
            Route::Audit,
            Route::AuditCsv,
            Route::Views,
            Route::View(s()),
            Route::Ingest,
            Route::RecordingMedia(r),
            Route::UploadMedia(r),
            Route::UploadAttachment(r),
            Route::Attachment(s()),
            Route::RetentionPolicies,
            Route::RetentionForecast,
            Route::RetentionPolicy(s()),
            Route::Holds,
            Route::Hold(HoldId::DEFAULT),
            Route::HoldRelease(HoldId::DEFAULT),
            Route::HoldDecide(HoldId::DEFAULT, true),
            Route::HoldDecide(HoldId::DEFAULT, false),
            Route::OrgSettings,
            Route::HoldReport(HoldId::DEFAULT),
            Route::HoldList(HoldId::DEFAULT, true),
            Route::HoldList(HoldId::DEFAULT, false),
            Route::OauthToken,
            Route::GenesysSetProtection,
            Route::GenesysGetProtection,
            Route::GenesysRecordingMetadata(c),
            Route::GenesysRecording(c, r),
            Route::GenesysPutRecording(c, r),
            Route::GenesysAuditQuery,
            Route::GenesysRetentionQuery,
            Route::DeleteRecording(r),
            Route::SetDeleteDate(r),
            Route::DeleteTranscript(r),
            Route::DeleteAttachment(s()),
        ]
    }

    #[test]
    fn the_openapi_document_matches_the_router() {
        use crate::openapi::ENDPOINTS;
        let id = "6a1b5f0e-2f43-4c5e-9a59-0d6c2f8d1b11";
        for e in ENDPOINTS {
            let path = e.path.replace("{id}", id).replace("{recordingId}", id);
            let method = Method::from_bytes(e.method.as_bytes()).unwrap();
            let routed = route(&method, &path)
                .unwrap_or_else(|err| panic!("{} {}: {}", e.method, e.path, err.code()));
            assert_eq!(routed.name(), e.route, "{} {}", e.method, e.path);
        }
        for r in samples() {
            assert!(
                ENDPOINTS.iter().any(|e| e.route == r.name()),
                "{} is not documented",
                r.name()
            );
        }
        let doc = crate::openapi::document();
        let ops: usize = doc["paths"]
            .as_object()
            .unwrap()
            .values()
            .map(|p| p.as_object().unwrap().len())
            .sum();
        assert_eq!(ops, ENDPOINTS.len());
    }

    #[test]
    fn routes() {
        check(Method::GET, "/healthz", Ok(Route::Health));
        check(Method::POST, "/api/session", Ok(Route::Login));
        check(Method::DELETE, "/api/session", Ok(Route::Logout));
        check(Method::PUT, "/api/session", Err("method.not.allowed"));
        check(Method::GET, "/api/nope", Err("not.found"));
        check(Method::GET, "/oauth/nope", Err("not.found"));
        check(
            Method::GET,
            "/interactions",
            Ok(Route::Asset("/interactions".to_owned())),
        );
        check(Method::POST, "/index.html", Err("method.not.allowed"));
        let c = "6a1b5f0e-2f43-4c5e-9a59-0d6c2f8d1b11";
        let cid = ConversationId::parse(c).unwrap();
        check(
            Method::GET,
            &format!("/api/conversations/{c}"),
            Ok(Route::ConversationDetails(cid)),
        );
        check(Method::GET, "/api/conversations/nope", Err("bad.request"));
        check(
            Method::DELETE,
            &format!("/api/conversations/{c}"),
            Err("method.not.allowed"),
        );
        let rid = RecordingId::parse(c).unwrap();
        check(
            Method::PUT,
            &format!("/api/recordings/{c}/deleteDate"),
            Ok(Route::SetDeleteDate(rid)),
        );
        check(
            Method::DELETE,
            &format!("/api/recordings/{c}"),
            Ok(Route::DeleteRecording(rid)),
        );
    }
}
