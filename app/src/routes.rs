//! The app's address: the interactions view's state lives in the URL query, through core's
//! encoding, so reload, back and forward, bookmarks and shared links restore the view.

use holdfast_core::view::{ViewError, ViewState};

fn window() -> Option<web_sys::Window> {
    web_sys::window()
}

/// The view in the current address; an invalid address gives the default view and the error.
pub fn current_view() -> (ViewState, Option<ViewError>) {
    let search = window()
        .and_then(|w| w.location().search().ok())
        .unwrap_or_default();
    match ViewState::from_query(&search) {
        Ok(view) => (view, None),
        Err(e) => (ViewState::default(), Some(e)),
    }
}

/// The address of a view of the interactions page.
pub fn view_url(view: &ViewState) -> String {
    match view.to_query() {
        q if q.is_empty() => "/interactions".to_owned(),
        q => format!("/interactions?{q}"),
    }
}

/// Records `view` as a new history entry, unless the address already shows it.
pub fn push_view(view: &ViewState) {
    let Some(w) = window() else { return };
    let url = view_url(view);
    let current =
        w.location().pathname().unwrap_or_default() + &w.location().search().unwrap_or_default();
    if current == url {
        return;
    }
    if let Ok(history) = w.history() {
        let _ = history.push_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&url));
    }
}

/// The interaction whose details the address shows (`/interactions/{id}`), if any.
pub fn current_details() -> Option<holdfast_core::ConversationId> {
    let path = window()?.location().pathname().ok()?;
    let id = path.strip_prefix("/interactions/")?;
    holdfast_core::ConversationId::parse(id).ok()
}

/// The address of an interaction's details.
pub fn details_url(id: holdfast_core::ConversationId) -> String {
    format!("/interactions/{id}")
}

/// Whether the address shows the audit trail.
pub fn is_audit() -> bool {
    window()
        .and_then(|w| w.location().pathname().ok())
        .is_some_and(|p| p == "/audit")
}

/// The audit trail's filters and page in the address (the defaults when it holds none or
/// an invalid one).
pub fn current_audit_query() -> holdfast_core::audit::AuditQuery {
    let search = window()
        .and_then(|w| w.location().search().ok())
        .unwrap_or_default();
    holdfast_core::audit::AuditQuery::from_query(&search)
        .unwrap_or_else(|_| holdfast_core::audit::AuditQuery::new())
}

/// Records the audit trail's filters and page as a history entry.
pub fn push_audit_query(q: &holdfast_core::audit::AuditQuery) {
    let Some(w) = window() else { return };
    let mut parts: Vec<String> = Vec::new();
    let filters = q.filters_query();
    if !filters.is_empty() {
        parts.push(filters);
    }
    if q.page > 1 {
        parts.push(format!("page={}", q.page));
    }
    let url = match parts.is_empty() {
        true => "/audit".to_owned(),
        false => format!("/audit?{}", parts.join("&")),
    };
    let current =
        w.location().pathname().unwrap_or_default() + &w.location().search().unwrap_or_default();
    if current != url
        && let Ok(history) = w.history()
    {
        let _ = history.push_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&url));
    }
}

/// Whether the address shows the saved views.
pub fn is_views() -> bool {
    window()
        .and_then(|w| w.location().pathname().ok())
        .is_some_and(|p| p == "/views")
}
