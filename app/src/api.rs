//! Every HTTP call of the app, with typed results. Components never format a URL.

use gloo_net::http::{Request, Response};
use holdfast_core::api::{
    CSRF_HEADER, ConversationPage, ErrorBody, LoginRequest, Me, OrgStatusDto, ProtectRequest,
    ProtectResponse, Selection, SummaryRequest, SummaryResponse,
};
use holdfast_core::protection::ProtectAction;
use holdfast_core::view::ViewState;
use serde::de::DeserializeOwned;

/// Why a call failed, in words a user can read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ApiError {
    /// The session is gone: sign in again.
    Unauthorized,
    /// The server refused or failed, with its message.
    Server {
        status: u16,
        code: String,
        message: String,
    },
    /// The server could not be reached.
    Network(String),
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ApiError::Unauthorized => f.write_str("Your session has ended. Please sign in again."),
            ApiError::Server { message, .. } => f.write_str(message),
            ApiError::Network(e) => write!(f, "The server could not be reached ({e})."),
        }
    }
}

async fn read<T: DeserializeOwned>(resp: Result<Response, gloo_net::Error>) -> Result<T, ApiError> {
    let resp = resp.map_err(|e| ApiError::Network(e.to_string()))?;
    let status = resp.status();
    if resp.ok() {
        return resp
            .json::<T>()
            .await
            .map_err(|e| ApiError::Network(e.to_string()));
    }
    match resp.json::<ErrorBody>().await {
        Ok(body) if status == 401 && body.code == "not.authorized" => Err(ApiError::Unauthorized),
        Ok(body) => Err(ApiError::Server {
            status,
            code: body.code,
            message: body.message,
        }),
        Err(_) => Err(ApiError::Server {
            status,
            code: "unknown".to_owned(),
            message: format!("The server answered {status}."),
        }),
    }
}

async fn get<T: DeserializeOwned>(url: &str) -> Result<T, ApiError> {
    read(Request::get(url).send().await).await
}

async fn send<B: serde::Serialize, T: DeserializeOwned>(
    method: &str,
    url: &str,
    body: Option<&B>,
) -> Result<T, ApiError> {
    let builder = match method {
        "DELETE" => Request::delete(url),
        "PATCH" => Request::patch(url),
        _ => Request::post(url),
    }
    .header(CSRF_HEADER, "1");
    let request = match body {
        Some(body) => builder
            .json(body)
            .map_err(|e| ApiError::Network(e.to_string()))?,
        None => builder
            .build()
            .map_err(|e| ApiError::Network(e.to_string()))?,
    };
    read(request.send().await).await
}

/// The signed-in user, or `Unauthorized`.
pub async fn session() -> Result<Me, ApiError> {
    get("/api/session").await
}

pub async fn login(username: &str, password: &str) -> Result<Me, ApiError> {
    let body = LoginRequest {
        username: username.to_owned(),
        password: password.to_owned(),
    };
    send("POST", "/api/session", Some(&body)).await
}

pub async fn logout() -> Result<serde_json::Value, ApiError> {
    send::<(), _>("DELETE", "/api/session", None).await
}

pub async fn org_status() -> Result<OrgStatusDto, ApiError> {
    get("/api/org/status").await
}

/// One page of the interactions view.
pub async fn conversations(view: &ViewState) -> Result<ConversationPage, ApiError> {
    get(&format!("/api/conversations?{}", view.to_query())).await
}

/// One interaction with its recordings.
pub async fn details(
    id: holdfast_core::ConversationId,
) -> Result<holdfast_core::api::ConversationDetails, ApiError> {
    get(&format!("/api/conversations/{id}")).await
}

/// Where a recording's media is played from.
pub fn media_url(id: holdfast_core::RecordingId) -> String {
    format!("/api/recordings/{id}/media")
}

/// Where an attachment is downloaded from.
pub fn attachment_url(id: &str) -> String {
    format!("/api/attachments/{id}")
}

/// The counts of a selection, with the organization's status at the same moment.
pub async fn summary(selection: Selection) -> Result<SummaryResponse, ApiError> {
    send(
        "POST",
        "/api/selection/summary",
        Some(&SummaryRequest { selection }),
    )
    .await
}

/// Protects or releases a selection; the server re-checks the plan and commits it atomically.
pub async fn change_protection(
    action: ProtectAction,
    selection: Selection,
    reason: Option<String>,
) -> Result<ProtectResponse, ApiError> {
    send(
        "POST",
        "/api/protection",
        Some(&ProtectRequest {
            action,
            selection,
            reason,
        }),
    )
    .await
}

fn audit_query_string(q: &holdfast_core::audit::AuditQuery) -> String {
    let filters = q.filters_query();
    let paging = format!("page={}&size={}", q.page, q.page_size);
    match filters.is_empty() {
        true => paging,
        false => format!("{filters}&{paging}"),
    }
}

/// A page of the audit trail.
pub async fn audit(
    q: &holdfast_core::audit::AuditQuery,
) -> Result<holdfast_core::api::AuditPage, ApiError> {
    get(&format!("/api/audit?{}", audit_query_string(q))).await
}

/// The CSV export of what the filters match.
pub fn audit_csv_url(q: &holdfast_core::audit::AuditQuery) -> String {
    format!("/api/audit.csv?{}", q.filters_query())
}

/// The user's saved views.
pub async fn views() -> Result<Vec<holdfast_core::api::SavedView>, ApiError> {
    get("/api/views").await
}

/// Saves the view under a name.
pub async fn save_view(
    name: &str,
    view: &ViewState,
) -> Result<holdfast_core::api::SavedView, ApiError> {
    let body = holdfast_core::api::SaveViewRequest {
        name: name.to_owned(),
        query: Some(view.to_query()),
    };
    send("POST", "/api/views", Some(&body)).await
}

/// Renames a saved view.
pub async fn rename_view(id: &str, name: &str) -> Result<serde_json::Value, ApiError> {
    let body = holdfast_core::api::SaveViewRequest {
        name: name.to_owned(),
        query: None,
    };
    send("PATCH", &format!("/api/views/{id}"), Some(&body)).await
}

/// Deletes a saved view.
pub async fn delete_view(id: &str) -> Result<serde_json::Value, ApiError> {
    send::<(), _>("DELETE", &format!("/api/views/{id}"), None).await
}
