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
        summary: "A recording's media (Range supported)",
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
];

/// The OpenAPI 3.1 document.
pub fn document() -> serde_json::Value {
    let mut paths = serde_json::Map::new();
    for e in ENDPOINTS {
        let entry = paths
            .entry(e.path.to_owned())
            .or_insert_with(|| serde_json::json!({}));
        let params: Vec<serde_json::Value> = e
            .path
            .split('/')
            .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .map(|name| serde_json::json!({"name": name, "in": "path", "required": true, "schema": {"type": "string", "format": "uuid"}}))
            .collect();
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
