//! The OpenAPI document served at `/api/openapi.json`, built from [`ENDPOINTS`]; a test checks
//! that every endpoint listed is routed as documented and that every route is listed.

/// One documented operation: method, path template (ids as `{id}`), the route name it maps to,
/// the permission it needs, and a summary.
pub struct Endpoint {
    pub method: &'static str,
    pub path: &'static str,
    pub route: &'static str,
    pub permission: Option<&'static str>,
    pub summary: &'static str,
}

const VIEW: Option<&str> = Some("recording:recording:view");

pub const ENDPOINTS: &[Endpoint] = &[
    Endpoint {
        method: "GET",
        path: "/healthz",
        route: "health",
        permission: None,
        summary: "Liveness",
    },
    Endpoint {
        method: "GET",
        path: "/metrics",
        route: "metrics",
        permission: None,
        summary: "Prometheus metrics",
    },
    Endpoint {
        method: "GET",
        path: "/api/openapi.json",
        route: "openapi",
        permission: None,
        summary: "This document",
    },
    Endpoint {
        method: "GET",
        path: "/api/session",
        route: "session.get",
        permission: None,
        summary: "The signed-in user",
    },
    Endpoint {
        method: "POST",
        path: "/api/session",
        route: "session.login",
        permission: None,
        summary: "Sign in",
    },
    Endpoint {
        method: "DELETE",
        path: "/api/session",
        route: "session.logout",
        permission: None,
        summary: "Sign out",
    },
    Endpoint {
        method: "GET",
        path: "/api/org/status",
        route: "org.status",
        permission: VIEW,
        summary: "Protected count and cap",
    },
    Endpoint {
        method: "GET",
        path: "/api/conversations",
        route: "conversations.list",
        permission: VIEW,
        summary: "A page of interactions (view query)",
    },
    Endpoint {
        method: "GET",
        path: "/api/conversations/{id}",
        route: "conversations.details",
        permission: VIEW,
        summary: "One interaction with its recordings",
    },
    Endpoint {
        method: "POST",
        path: "/api/selection/summary",
        route: "selection.summary",
        permission: VIEW,
        summary: "Counts of a selection",
    },
    Endpoint {
        method: "POST",
        path: "/api/protection",
        route: "protection.change",
        permission: Some("recording:deletionProtection:apply or :revoke"),
        summary: "Protect or release a selection",
    },
    Endpoint {
        method: "DELETE",
        path: "/api/recordings/{id}",
        route: "recordings.delete",
        permission: Some("recording:recording:editRetention"),
        summary: "Delete a recording by hand",
    },
    Endpoint {
        method: "PUT",
        path: "/api/recordings/{id}/deleteDate",
        route: "recordings.deleteDate",
        permission: Some("recording:recording:editRetention"),
        summary: "Set a recording's deletion date",
    },
    Endpoint {
        method: "GET",
        path: "/api/recordings/{id}/media",
        route: "recordings.media",
        permission: VIEW,
        summary: "A recording's media (Range supported; ETag and Repr-Digest carry its SHA-256)",
    },
    Endpoint {
        method: "PUT",
        path: "/api/recordings/{id}/media",
        route: "recordings.media.put",
        permission: Some("admin"),
        summary: "Upload a recording's media as the raw body (once; Content-Length required)",
    },
    Endpoint {
        method: "POST",
        path: "/api/recordings/{id}/attachments",
        route: "recordings.attachments.post",
        permission: Some("admin"),
        summary: "Upload an attachment of a recording as the raw body (?name=)",
    },
    Endpoint {
        method: "GET",
        path: "/api/attachments/{id}",
        route: "attachments.get",
        permission: VIEW,
        summary: "An attachment",
    },
    Endpoint {
        method: "DELETE",
        path: "/api/attachments/{id}",
        route: "attachments.delete",
        permission: Some("recording:recording:editRetention"),
        summary: "Delete an attachment by hand",
    },
    Endpoint {
        method: "DELETE",
        path: "/api/recordings/{id}/transcript",
        route: "recordings.transcript.delete",
        permission: Some("recording:recording:editRetention"),
        summary: "Delete a transcript by hand",
    },
    Endpoint {
        method: "GET",
        path: "/api/audit",
        route: "audit.list",
        permission: Some("audits:audit:view"),
        summary: "The audit trail",
    },
    Endpoint {
        method: "GET",
        path: "/api/audit.csv",
        route: "audit.csv",
        permission: Some("audits:audit:view"),
        summary: "The audit trail as CSV",
    },
    Endpoint {
        method: "GET",
        path: "/api/views",
        route: "views",
        permission: VIEW,
        summary: "Saved views",
    },
    Endpoint {
        method: "POST",
        path: "/api/views",
        route: "views",
        permission: VIEW,
        summary: "Save a view",
    },
    Endpoint {
        method: "PATCH",
        path: "/api/views/{id}",
        route: "views.one",
        permission: VIEW,
        summary: "Rename a saved view",
    },
    Endpoint {
        method: "DELETE",
        path: "/api/views/{id}",
        route: "views.one",
        permission: VIEW,
        summary: "Delete a saved view",
    },
    Endpoint {
        method: "POST",
        path: "/api/ingest",
        route: "ingest",
        permission: Some("admin"),
        summary: "Add conversations and recordings",
    },
    Endpoint {
        method: "GET",
        path: "/api/retention-policies",
        route: "retention.policies",
        permission: VIEW,
        summary: "Retention policies",
    },
    Endpoint {
        method: "GET",
        path: "/api/retention/forecast",
        route: "retention.forecast",
        permission: VIEW,
        summary: "What the retention sweep will delete in the next `days` days (1 to 366, default 30), per UTC day, protected recordings apart",
    },
    Endpoint {
        method: "GET",
        path: "/api/holds",
        route: "holds",
        permission: VIEW,
        summary: "Legal holds: the default hold first, then active and released ones, newest first; `q` searches names and case references",
    },
    Endpoint {
        method: "POST",
        path: "/api/holds",
        route: "holds",
        permission: Some("recording:deletionProtection:apply"),
        summary: "Create a legal hold (name, caseReference, description); add interactions with POST /api/protection and its `hold`",
    },
    Endpoint {
        method: "GET",
        path: "/api/holds/{id}",
        route: "holds.one",
        permission: VIEW,
        summary: "A hold, the interactions it covers and what releasing it would do (stay protected, become deletable, past-due recordings)",
    },
    Endpoint {
        method: "POST",
        path: "/api/holds/{id}/list/preview",
        route: "holds.list.preview",
        permission: Some("recording:deletionProtection:apply"),
        summary: "What adding a pasted list of up to 10,000 interaction ids would do: per id protectable, already protected, in the hold, no recording or not found, and the cap",
    },
    Endpoint {
        method: "POST",
        path: "/api/holds/{id}/list",
        route: "holds.list",
        permission: Some("recording:deletionProtection:apply"),
        summary: "Add a pasted list to a legal hold, all or nothing against the cap",
    },
    Endpoint {
        method: "POST",
        path: "/api/holds/{id}/release/approve",
        route: "holds.release.approve",
        permission: Some("recording:deletionProtection:revoke"),
        summary: "Two-person release: a second user approves the release that waits (not the one who asked); the hold is released",
    },
    Endpoint {
        method: "POST",
        path: "/api/holds/{id}/release/refuse",
        route: "holds.release.refuse",
        permission: Some("recording:deletionProtection:revoke"),
        summary: "Two-person release: refuse (or withdraw) the release that waits",
    },
    Endpoint {
        method: "GET",
        path: "/api/holds/{id}/report.csv",
        route: "holds.report",
        permission: VIEW,
        summary: "A hold's report as CSV: each interaction and recording with sizes, dates, state, SHA-256 of media and attachments, and who added it, when and why",
    },
    Endpoint {
        method: "PUT",
        path: "/api/org/settings",
        route: "org.settings",
        permission: Some("admin"),
        summary: "The organization's settings: twoPersonRelease (releasing a legal hold needs a second user's approval)",
    },
    Endpoint {
        method: "POST",
        path: "/api/holds/{id}/release",
        route: "holds.release",
        permission: Some("recording:deletionProtection:revoke"),
        summary: "Release a legal hold as a whole: interactions no other hold covers become deletable",
    },
    Endpoint {
        method: "POST",
        path: "/api/retention-policies",
        route: "retention.policies",
        permission: Some("admin"),
        summary: "Add a retention policy",
    },
    Endpoint {
        method: "PUT",
        path: "/api/retention-policies/{id}",
        route: "retention.policy",
        permission: Some("admin"),
        summary: "Replace a retention policy",
    },
    Endpoint {
        method: "POST",
        path: "/oauth/token",
        route: "oauth.token",
        permission: None,
        summary: "Client credentials grant",
    },
    Endpoint {
        method: "PUT",
        path: "/api/v2/recordings/deletionprotection",
        route: "v2.deletionprotection.put",
        permission: Some("recording:deletionProtection:apply or :revoke"),
        summary: "Genesys: protect (protect=true) or release (protect=false)",
    },
    Endpoint {
        method: "POST",
        path: "/api/v2/recordings/deletionprotection",
        route: "v2.deletionprotection.post",
        permission: VIEW,
        summary: "Genesys: which conversations are protected",
    },
    Endpoint {
        method: "GET",
        path: "/api/v2/conversations/{id}/recordingmetadata",
        route: "v2.recordingmetadata",
        permission: VIEW,
        summary: "Genesys: a conversation's recordings",
    },
    Endpoint {
        method: "GET",
        path: "/api/v2/conversations/{id}/recordings/{recordingId}",
        route: "v2.recording.get",
        permission: VIEW,
        summary: "Genesys: one recording",
    },
    Endpoint {
        method: "PUT",
        path: "/api/v2/conversations/{id}/recordings/{recordingId}",
        route: "v2.recording.put",
        permission: Some("recording:recording:editRetention"),
        summary: "Genesys: update a recording's deleteDate",
    },
    Endpoint {
        method: "POST",
        path: "/api/v2/audits/query/realtime",
        route: "v2.audits.query",
        permission: Some("audits:audit:view"),
        summary: "Genesys: audit query",
    },
    Endpoint {
        method: "GET",
        path: "/api/v2/recordings/retention/query",
        route: "v2.recordings.retention.query",
        permission: VIEW,
        summary: "Genesys: recordings retained for more days than retentionThresholdDays (deletion date more than that after creation, or none), by cursor",
    },
];

use serde_json::{Value, json};

fn names(all: &[&str]) -> Value {
    json!({"type": "string", "enum": all})
}

fn uuid() -> Value {
    json!({"type": "string", "format": "uuid"})
}

fn instant() -> Value {
    json!({"type": "string", "format": "date-time"})
}

fn text(max: u32) -> Value {
    json!({"type": "string", "maxLength": max})
}

/// The request body an operation takes (its JSON Schema), so that a client or a fuzzer can
/// build one; `None` for an operation without a body.
fn body(method: &str, path: &str) -> Option<(&'static str, Value)> {
    use holdfast_core::{Direction, Media, RecordingRole};
    let media = names(&Media::ALL.iter().map(|m| m.as_str()).collect::<Vec<_>>());
    let direction = names(
        &Direction::ALL
            .iter()
            .map(|d| d.as_str())
            .collect::<Vec<_>>(),
    );
    let role = names(
        &RecordingRole::ALL
            .iter()
            .map(|r| r.as_str())
            .collect::<Vec<_>>(),
    );
    let selection = json!({"oneOf": [
        {"type": "object", "required": ["kind", "ids"], "properties": {
            "kind": {"const": "ids"}, "ids": {"type": "array", "items": uuid(), "maxItems": 1000}}},
        {"type": "object", "required": ["kind", "query", "except"], "properties": {
            "kind": {"const": "filter"}, "query": text(4096), "except": {"type": "array", "items": uuid()}}}
    ]});
    let policy = json!({"type": "object", "required": ["name", "order", "enabled", "media", "queues", "direction", "action"],
        "properties": {"name": text(200), "order": {"type": "integer"}, "enabled": {"type": "boolean"},
            "media": {"type": "array", "items": media}, "queues": {"type": "array", "items": text(200)},
            "direction": {"oneOf": [direction, {"type": "null"}]},
            "action": {"oneOf": [
                {"type": "object", "required": ["kind"], "properties": {"kind": {"const": "keep"}}},
                {"type": "object", "required": ["kind", "days"], "properties": {"kind": {"const": "deleteAfterDays"}, "days": {"type": "integer", "minimum": 0}}}]}}});
    let conversation_ids = json!({"type": "object", "required": ["conversationIds"], "properties": {"conversationIds": {"type": "array", "items": {"type": "string"}, "maxItems": 100}}});
    let nullable_instant = json!({"oneOf": [instant(), {"type": "null"}]});
    let schema = match (method, path) {
        ("POST", "/api/session") => json!({"type": "object", "required": ["username", "password"],
            "properties": {"username": text(200), "password": text(1024)}}),
        ("POST", "/api/selection/summary") => {
            json!({"type": "object", "required": ["selection"], "properties": {"selection": selection}})
        }
        ("POST", "/api/protection") => {
            json!({"type": "object", "required": ["action", "selection"], "properties": {
            "action": names(&["protect", "release"]), "selection": selection, "reason": text(500),
            "hold": {"oneOf": [uuid(), {"type": "null"}], "description": "protect into this legal hold (default: the default hold)"}}})
        }
        ("POST", "/api/holds") => {
            json!({"type": "object", "required": ["name"], "properties": {
            "name": text(120), "caseReference": text(100), "description": text(2000)}})
        }
        ("POST", "/api/holds/{id}/list") | ("POST", "/api/holds/{id}/list/preview") => {
            json!({"type": "object", "required": ["text"], "properties": {
            "text": {"type": "string", "maxLength": 2097152, "description": "up to 10,000 interaction ids, one a line or a CSV column"},
            "reason": text(500)}})
        }
        ("PUT", "/api/org/settings") => {
            json!({"type": "object", "required": ["twoPersonRelease"], "properties": {"twoPersonRelease": {"type": "boolean"}}})
        }
        ("POST", "/api/holds/{id}/release/approve")
        | ("POST", "/api/holds/{id}/release/refuse") => {
            json!({"type": "object", "properties": {}})
        }
        ("POST", "/api/holds/{id}/release") => {
            json!({"type": "object", "properties": {"reason": text(500)}})
        }
        ("PUT", "/api/recordings/{id}/deleteDate") => {
            json!({"type": "object", "required": ["deleteDate"], "properties": {"deleteDate": nullable_instant}})
        }
        ("POST", "/api/views") => {
            json!({"type": "object", "required": ["name"], "properties": {"name": text(100), "query": text(4096)}})
        }
        ("PATCH", "/api/views/{id}") => {
            json!({"type": "object", "properties": {"name": text(100), "query": text(4096)}})
        }
        ("POST", "/api/ingest") => {
            json!({"type": "object", "required": ["id", "startTime", "endTime", "direction"], "properties": {
            "id": uuid(), "startTime": instant(), "endTime": instant(), "direction": direction,
            "queue": text(200), "agents": {"type": "array", "items": text(200)}, "remoteParty": text(200), "wrapUp": text(200),
            "recordings": {"type": "array", "items": {"type": "object", "required": ["id", "media", "role"], "properties": {
                "id": uuid(), "media": media, "role": role, "createdAt": instant(), "durationMs": {"type": "integer", "minimum": 0},
                "mediaBase64": {"type": "string", "contentEncoding": "base64"}, "contentType": text(100), "transcript": {"type": "string"},
                "attachments": {"type": "array", "items": {"type": "object", "required": ["name", "contentType", "dataBase64"], "properties": {
                    "name": text(200), "contentType": text(100), "dataBase64": {"type": "string", "contentEncoding": "base64"}}}}}}}}})
        }
        ("POST", "/api/retention-policies") | ("PUT", "/api/retention-policies/{id}") => policy,
        ("PUT", "/api/recordings/{id}/media") | ("POST", "/api/recordings/{id}/attachments") => {
            return Some((
                "application/octet-stream",
                json!({"type": "string", "format": "binary"}),
            ));
        }
        ("POST", "/oauth/token") => {
            return Some((
                "application/x-www-form-urlencoded",
                json!({"type": "object", "required": ["grant_type"],
                "properties": {"grant_type": {"const": "client_credentials"}}}),
            ));
        }
        ("PUT" | "POST", "/api/v2/recordings/deletionprotection") => conversation_ids,
        ("PUT", "/api/v2/conversations/{id}/recordings/{recordingId}") => {
            json!({"type": "object", "properties": {
            "deleteDate": nullable_instant, "archiveDate": {"type": "null"}}})
        }
        ("POST", "/api/v2/audits/query/realtime") => {
            json!({"type": "object", "required": ["interval", "serviceName"], "properties": {
            "interval": {"type": "string", "description": "start/end, ISO-8601"}, "serviceName": {"const": "Quality"},
            "filters": {"type": "array", "items": {"type": "object", "required": ["property", "value"], "properties": {
                "property": names(&["Action", "EntityType", "EntityId", "UserId"]), "value": {"type": "string"}}}},
            "pageNumber": {"type": "integer", "minimum": 1}, "pageSize": {"type": "integer", "minimum": 1}}})
        }
        _ => return None,
    };
    Some(("application/json", schema))
}

/// The query parameters an operation reads.
fn query(method: &str, path: &str) -> Vec<Value> {
    let param = |name: &str, schema: Value| json!({"name": name, "in": "query", "required": false, "schema": schema});
    let string = || json!({"type": "string"});
    let filters = || {
        vec![
            param("from", instant()),
            param("to", instant()),
            param(
                "media",
                json!({"type": "string", "description": "media, comma-separated"}),
            ),
            param("direction", names(&["inbound", "outbound"])),
            param("queue", string()),
            param("agent", string()),
            param("remote", string()),
            param("recorded", names(&["yes", "no"])),
            param("protected", names(&["yes", "no"])),
            param("deletedBefore", instant()),
        ]
    };
    let page = || {
        vec![
            param("page", json!({"type": "integer", "minimum": 1})),
            param("size", json!({"type": "integer", "minimum": 1})),
        ]
    };
    match (method, path) {
        ("GET", "/api/conversations") => {
            let mut all = filters();
            all.push(param("sort", json!({"type": "string", "description": "date, duration or deletion; - for descending"})));
            all.extend(page());
            all.push(param("columns", string()));
            all
        }
        ("GET", "/api/audit") | ("GET", "/api/audit.csv") => {
            let mut all = vec![
                param(
                    "action",
                    names(
                        &holdfast_core::audit::AuditAction::ALL
                            .iter()
                            .map(|a| a.as_str())
                            .collect::<Vec<_>>(),
                    ),
                ),
                param("user", string()),
                param("conversation", uuid()),
                param("from", instant()),
                param("to", instant()),
            ];
            all.extend(page());
            all
        }
        ("GET", "/api/holds") => vec![param("q", json!({"type": "string", "maxLength": 200}))],
        ("GET", "/api/v2/recordings/retention/query") => vec![
            json!({"name": "retentionThresholdDays", "in": "query", "required": true, "schema": {"type": "integer", "minimum": 0}}),
            param("cursor", string()),
            param(
                "pageSize",
                json!({"type": "integer", "minimum": 1, "maximum": 500}),
            ),
        ],
        ("POST", "/api/recordings/{id}/attachments") => {
            vec![
                json!({"name": "name", "in": "query", "required": true, "schema": {"type": "string", "maxLength": 200}}),
            ]
        }
        ("PUT", "/api/v2/recordings/deletionprotection") => {
            vec![
                json!({"name": "protect", "in": "query", "required": true, "schema": {"type": "boolean"}}),
            ]
        }
        _ => Vec::new(),
    }
}

/// The OpenAPI 3.1 document.
pub fn document() -> serde_json::Value {
    let mut paths = serde_json::Map::new();
    for e in ENDPOINTS {
        let entry = paths
            .entry(e.path.to_owned())
            .or_insert_with(|| serde_json::json!({}));
        let mut params: Vec<serde_json::Value> = e
            .path
            .split('/')
            .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .map(|name| serde_json::json!({"name": name, "in": "path", "required": true, "schema": {"type": "string", "format": "uuid"}}))
            .collect();
        params.extend(query(e.method, e.path));
        let mut op = serde_json::json!({
            "operationId": format!("{}.{}", e.route, e.method.to_lowercase()),
            "summary": e.summary,
            "parameters": params,
            "responses": {
                "200": {"description": "Success (JSON)"},
                "4XX": {"description": "Error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
            }
        });
        if let Some(p) = e.permission {
            op["x-permission"] = p.into();
        }
        if let Some((content_type, schema)) = body(e.method, e.path) {
            op["requestBody"] =
                json!({"required": true, "content": {content_type: {"schema": schema}}});
        }
        entry[e.method.to_lowercase()] = op;
    }
    serde_json::json!({
        "openapi": "3.1.0",
        "info": {"title": "Holdfast", "version": env!("CARGO_PKG_VERSION"),
                 "description": "Legal hold for contact-center recordings: the native API and the Genesys Cloud compatible subset."},
        "paths": paths,
        "components": {"schemas": {"Error": {"type": "object", "required": ["message", "code", "status"],
            "properties": {"message": {"type": "string"}, "code": {"type": "string"}, "status": {"type": "integer"}}}}}
    })
}
