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
