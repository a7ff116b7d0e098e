//! The app's address: which page shows, and the interactions view's state in the URL query
//! through core's encoding, so reload, back and forward, bookmarks and shared links restore the
//! view. Links inside the app navigate without reloading the page.

use holdfast_core::view::{ViewError, ViewState};
use holdfast_core::{ConversationId, HoldId};
use leptos::prelude::*;
use wasm_bindgen::JsCast;

/// The pages, parsed once from the address's path.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Route {
    Interactions,
    Details(ConversationId),
    Audit,
    Views,
    Forecast,
    Holds,
    Hold(HoldId),
}

impl Route {
    /// The page a path shows; anything unknown shows the interactions view.
    pub fn parse(path: &str) -> Route {
        match path {
            "/audit" => Route::Audit,
            "/views" => Route::Views,
            "/forecast" => Route::Forecast,
            "/holds" => Route::Holds,
            path if path.starts_with("/holds/") => path
                .strip_prefix("/holds/")
                .and_then(|id| HoldId::parse(id).ok())
                .map_or(Route::Holds, Route::Hold),
            path => path
                .strip_prefix("/interactions/")
                .and_then(|id| ConversationId::parse(id).ok())
                .map_or(Route::Interactions, Route::Details),
        }
    }

    /// Whether a path (without its query) is one of the app's pages: only those links navigate
    /// in place; anything else the server serves (health, metrics, the API) loads normally.
    pub fn is_page(path: &str) -> bool {
        matches!(
            path,
            "/" | "/interactions" | "/audit" | "/views" | "/forecast" | "/holds"
        ) || path.starts_with("/interactions/")
            || path.starts_with("/holds/")
    }

    /// The page's name, for the window title.
    pub const fn title(self) -> &'static str {
        match self {
            Route::Interactions => "Interactions",
            Route::Details(_) => "Interaction",
            Route::Audit => "Audit trail",
            Route::Views => "Saved views",
            Route::Forecast => "Deletion forecast",
            Route::Holds => "Legal holds",
            Route::Hold(_) => "Legal hold",
        }
    }

    /// The page of the current address.
    pub fn current() -> Route {
        let path = window()
            .and_then(|w| w.location().pathname().ok())
            .unwrap_or_default();
        Route::parse(&path)
    }
}

/// The page shown, shared through context. `visit` counts navigations, so following a link to
/// the page already shown (a saved view, say) builds it afresh from the new address.
#[derive(Clone, Copy)]
pub struct Router {
    pub route: RwSignal<Route>,
    pub visit: RwSignal<u64>,
    /// The address of the interactions view last shown, for the way back from a details page.
    pub last_view: RwSignal<String>,
}

impl Router {
    /// Creates the router, provides it, and takes over in-app links and back and forward.
    pub fn provide() -> Router {
        let router = Router {
            route: RwSignal::new(Route::current()),
            visit: RwSignal::new(0),
            last_view: RwSignal::new("/interactions".to_owned()),
        };
        provide_context(router);
        // These live as long as the app: the handles are never removed.
        let _ = window_event_listener(leptos::ev::click, move |ev| router.follow_link(&ev));
        let _ = window_event_listener(leptos::ev::popstate, move |_| {
            // Back and forward within one page (the interactions view's filters, the audit
            // trail's) are that page's business; only a change of page is the router's.
            let route = Route::current();
            if route != router.route.get_untracked() {
                router.show(route);
            }
        });
        router
    }

    pub fn get() -> Router {
        expect_context::<Router>()
    }

    /// Shows a page after a navigation in place: from the top, with the focus on its heading
    /// (or its main area while the heading loads), as a page load would start a screen reader
    /// and the keyboard there.
    fn show(self, route: Route) {
        self.route.set(route);
        self.visit.update(|v| *v += 1);
        if let Some(w) = window() {
            w.scroll_to_with_x_and_y(0.0, 0.0);
        }
        request_animation_frame(|| {
            let document = document();
            let target = document
                .query_selector("main h1")
                .ok()
                .flatten()
                .or_else(|| document.query_selector("main").ok().flatten())
                .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok());
            if let Some(target) = target {
                let _ = target.focus();
            }
        });
    }

    /// Goes to an address of the app without reloading: a new history entry (none when it is
    /// the address shown already), then the page.
    pub fn navigate(self, url: &str) {
        let entry = match current_address() == url {
            true => Entry::Replace,
            false => Entry::Push,
        };
        set_address(url, entry);
        self.show(Route::current());
    }

    /// A plain click on a link to a page of the app navigates in place. Links to the API
    /// (downloads, media), links with a target or a download attribute, and clicks with a
    /// modifier key (a new tab) are left to the browser.
    fn follow_link(self, ev: &web_sys::MouseEvent) {
        if ev.default_prevented()
            || ev.button() != 0
            || ev.meta_key()
            || ev.ctrl_key()
            || ev.shift_key()
            || ev.alt_key()
        {
            return;
        }
        let link = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            .and_then(|e| e.closest("a[href]").ok().flatten());
        let Some(link) = link else { return };
        if link.has_attribute("target") || link.has_attribute("download") {
            return;
        }
        let href = link.get_attribute("href").unwrap_or_default();
        let path = href.split(['?', '#']).next().unwrap_or_default();
        if Route::is_page(path) {
            ev.prevent_default();
            self.navigate(&href);
        }
    }
}

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

/// How an address change enters the browser's history.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Entry {
    /// A change the user made: a new entry, so back returns to what was shown before.
    Push,
    /// The same view written in its canonical form (on arrival, or after back or forward):
    /// the entry is replaced, so back is never trapped on an address that rewrites itself.
    Replace,
}

/// The path and query shown now.
fn current_address() -> String {
    window().map_or_else(String::new, |w| {
        w.location().pathname().unwrap_or_default() + &w.location().search().unwrap_or_default()
    })
}

/// Shows `url` in the address bar, unless it is there already.
fn set_address(url: &str, entry: Entry) {
    if current_address() == url {
        return;
    }
    if let Some(history) = window().and_then(|w| w.history().ok()) {
        let state = wasm_bindgen::JsValue::NULL;
        let _ = match entry {
            Entry::Push => history.push_state_with_url(&state, "", Some(url)),
            Entry::Replace => history.replace_state_with_url(&state, "", Some(url)),
        };
    }
}

/// Shows `view` in the address.
pub fn show_view(view: &ViewState, entry: Entry) {
    set_address(&view_url(view), entry);
}

/// The `query` parameter of the address (the holds page's "from these filters"), decoded.
pub fn current_hold_query() -> String {
    let search = window()
        .and_then(|w| w.location().search().ok())
        .unwrap_or_default();
    search
        .trim_start_matches('?')
        .split('&')
        .find_map(|pair| pair.strip_prefix("query="))
        .and_then(|q| holdfast_core::view::percent_decode(q).ok())
        .unwrap_or_default()
}

/// The address of the holds page with a new hold's query filled in.
pub fn new_hold_url(filters_query: &str) -> String {
    format!(
        "/holds?query={}",
        holdfast_core::view::percent_encode(filters_query)
    )
}

/// The address of an interaction's details.
pub fn details_url(id: holdfast_core::ConversationId) -> String {
    format!("/interactions/{id}")
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

/// Shows the audit trail's filters and page in the address.
pub fn show_audit_query(q: &holdfast_core::audit::AuditQuery, entry: Entry) {
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
    set_address(&url, entry);
}
