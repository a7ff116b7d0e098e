//! Every HTTP call of the app, with typed results. Components never format a URL.
//!
//! Calls go through the browser's `fetch`, and JSON through `holdfast_core::wire` rather than
//! serde: serde's generic code was the largest part of the download after the views.

use holdfast_core::HoldId;
use holdfast_core::api::{
    CSRF_HEADER, ConversationPage, ErrorBody, LoginRequest, Me, OrgStatusDto, ProtectRequest,
    ProtectResponse, Selection, SummaryRequest, SummaryResponse,
};
use holdfast_core::holds::{
    CreateHoldRequest, HoldDetails, HoldInfo, HoldList, ListPreview, ListRequest, ReleaseCounts,
    ReleaseHoldRequest,
};
use holdfast_core::protection::ProtectAction;
use holdfast_core::view::ViewState;
use holdfast_core::wire::{self, FromJson, Json, ToJson};
use std::future::Future;
use std::pin::Pin;

use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

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
    /// The server could not be reached, or its answer could not be read.
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

fn network(error: JsValue) -> ApiError {
    let text = match error.dyn_ref::<js_sys::Error>() {
        Some(e) => String::from(e.message()),
        None => error.as_string().unwrap_or_else(|| "no answer".to_owned()),
    };
    ApiError::Network(text)
}

/// One request: the answer's JSON when the status is 2xx, else the error it explains.
///
/// Boxed, so the fetch code exists once in the wasm instead of inlined into every caller.
fn call(
    method: &'static str,
    url: String,
    body: Option<String>,
) -> Pin<Box<dyn Future<Output = Result<Json, ApiError>>>> {
    Box::pin(fetch(method, url, body))
}

async fn fetch(method: &'static str, url: String, body: Option<String>) -> Result<Json, ApiError> {
    let init = web_sys::RequestInit::new();
    init.set_method(method);
    init.set_credentials(web_sys::RequestCredentials::SameOrigin);
    let headers = web_sys::Headers::new().map_err(network)?;
    headers.set("accept", "application/json").map_err(network)?;
    if method != "GET" {
        headers.set(CSRF_HEADER, "1").map_err(network)?;
    }
    if let Some(body) = body {
        headers
            .set("content-type", "application/json")
            .map_err(network)?;
        init.set_body(&JsValue::from_str(&body));
    }
    init.set_headers(&headers);
    let window = web_sys::window().ok_or_else(|| ApiError::Network("no window".to_owned()))?;
    let response: web_sys::Response = JsFuture::from(window.fetch_with_str_and_init(&url, &init))
        .await
        .map_err(network)?
        .unchecked_into();
    let text = JsFuture::from(response.text().map_err(network)?)
        .await
        .map_err(network)?
        .as_string()
        .unwrap_or_default();
    let status = response.status();
    if response.ok() {
        // An empty body (204) reads as null.
        return match text.is_empty() {
            true => Ok(Json::Null),
            false => Json::parse(&text).map_err(|e| ApiError::Network(e.to_string())),
        };
    }
    match wire::decode::<ErrorBody>(&text) {
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

fn read<T: FromJson>(json: Json) -> Result<T, ApiError> {
    T::from_json(&json).map_err(|e| ApiError::Network(e.to_string()))
}

async fn get<T: FromJson>(url: &str) -> Result<T, ApiError> {
    read(call("GET", url.to_owned(), None).await?)
}

async fn send<T: FromJson>(
    method: &'static str,
    url: &str,
    body: Option<&dyn ToJson>,
) -> Result<T, ApiError> {
    let body = body.map(|b| {
        let mut text = String::new();
        b.to_json().write(&mut text);
        text
    });
    read(call(method, url.to_owned(), body).await?)
}

/// An answer whose body does not matter.
pub struct Done;

impl FromJson for Done {
    fn from_json(_: &Json) -> Result<Self, wire::WireError> {
        Ok(Done)
    }
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
    send("POST", "/api/session", Some(&body as &dyn ToJson)).await
}

pub async fn logout() -> Result<Done, ApiError> {
    send::<Done>("DELETE", "/api/session", None).await
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
        Some(&SummaryRequest { selection } as &dyn ToJson),
    )
    .await
}

/// Protects or releases a selection; the server re-checks the plan and commits it atomically.
/// `hold`: a protect into this legal hold (`None`: the default hold).
pub async fn change_protection(
    action: ProtectAction,
    selection: Selection,
    reason: Option<String>,
    hold: Option<HoldId>,
) -> Result<ProtectResponse, ApiError> {
    send(
        "POST",
        "/api/protection",
        Some(&ProtectRequest {
            action,
            selection,
            reason,
            hold,
        } as &dyn ToJson),
    )
    .await
}

/// The organization's holds, with a search in names and case references.
pub async fn holds(search: &str) -> Result<HoldList, ApiError> {
    match search.trim() {
        "" => get("/api/holds").await,
        q => {
            get(&format!(
                "/api/holds?q={}",
                holdfast_core::view::percent_encode(q)
            ))
            .await
        }
    }
}

/// Creates a legal hold.
pub async fn create_hold(request: CreateHoldRequest) -> Result<HoldInfo, ApiError> {
    send("POST", "/api/holds", Some(&request as &dyn ToJson)).await
}

/// A hold, its interactions and what releasing it would do.
pub async fn hold(id: HoldId) -> Result<HoldDetails, ApiError> {
    get(&format!("/api/holds/{id}")).await
}

/// What adding a pasted list to a legal hold would do (`apply` false), or adds it.
pub async fn hold_list(
    id: HoldId,
    text: String,
    reason: Option<String>,
    apply: bool,
) -> Result<ListPreview, ApiError> {
    let url = match apply {
        true => format!("/api/holds/{id}/list"),
        false => format!("/api/holds/{id}/list/preview"),
    };
    let body = ListRequest { text, reason };
    send("POST", &url, Some(&body as &dyn ToJson)).await
}

/// What a release answered: done (its counts), or waiting for a second user.
pub enum Released {
    Done(ReleaseCounts),
    /// Interactions released from the default hold (an approved release of interactions).
    Interactions(u32),
    Requested,
}

impl FromJson for Released {
    fn from_json(value: &Json) -> Result<Self, wire::WireError> {
        match (value.member("covered")?, value.member("released")?) {
            (Json::Null, Json::Null) => Ok(Released::Requested),
            (Json::Null, n) => u32::from_json(n).map(Released::Interactions),
            _ => ReleaseCounts::from_json(value).map(Released::Done),
        }
    }
}

/// Releases a legal hold as a whole (or, with two-person release, asks for it).
pub async fn release_hold(id: HoldId, reason: Option<String>) -> Result<Released, ApiError> {
    let body = ReleaseHoldRequest { reason };
    send(
        "POST",
        &format!("/api/holds/{id}/release"),
        Some(&body as &dyn ToJson),
    )
    .await
}

/// Approves or refuses a release that waits for a second user (the default hold's are named).
pub async fn decide_release(
    id: HoldId,
    request: &str,
    approve: bool,
) -> Result<Released, ApiError> {
    let decision = if approve { "approve" } else { "refuse" };
    let body = ReleaseHoldRequest { reason: None };
    send(
        "POST",
        &format!("/api/holds/{id}/release/{decision}?request={request}"),
        Some(&body as &dyn ToJson),
    )
    .await
}

/// Changes the organization's settings (administrators).
pub async fn set_settings(settings: holdfast_core::holds::OrgSettings) -> Result<Done, ApiError> {
    send("PUT", "/api/org/settings", Some(&settings as &dyn ToJson)).await
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

/// What the retention sweep will delete in the next `days` days.
pub async fn forecast(days: u32) -> Result<holdfast_core::forecast::Forecast, ApiError> {
    get(&format!("/api/retention/forecast?days={days}")).await
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
    send("POST", "/api/views", Some(&body as &dyn ToJson)).await
}

/// Renames a saved view.
pub async fn rename_view(id: &str, name: &str) -> Result<Done, ApiError> {
    let body = holdfast_core::api::SaveViewRequest {
        name: name.to_owned(),
        query: None,
    };
    send(
        "PATCH",
        &format!("/api/views/{id}"),
        Some(&body as &dyn ToJson),
    )
    .await
}

/// Deletes a saved view.
pub async fn delete_view(id: &str) -> Result<Done, ApiError> {
    send::<Done>("DELETE", &format!("/api/views/{id}"), None).await
}
