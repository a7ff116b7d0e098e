//! Holdfast's browser app: a leptos client-side-rendered single-page app over the server's JSON
//! API, deciding nothing itself that `holdfast_core` decides.

pub mod api;
pub mod components;
pub mod format;
pub mod load;
pub mod pages;
pub mod routes;
pub mod state;

use leptos::prelude::*;

use crate::components::shell::Shell;
use crate::pages::audit::AuditPage;
use crate::pages::details::DetailsPage;
use crate::pages::forecast::ForecastPage;
use crate::pages::holds::{HoldPage, HoldsPage};
use crate::pages::interactions::InteractionsPage;
use crate::pages::login::LoginPage;
use crate::pages::views::ViewsPage;
use crate::routes::{Route, Router};
use crate::state::Session;

/// The whole app: the sign-in page until a session exists, then the shell with the page the
/// address names.
#[component]
pub fn App() -> impl IntoView {
    let session = Session::provide();
    let router = Router::provide();
    session.refresh();
    let page = move || {
        router.visit.track();
        match router.route.get() {
            Route::Interactions => view! { <InteractionsPage /> }.into_any(),
            Route::Details(id) => view! { <DetailsPage id=id /> }.into_any(),
            Route::Audit => view! { <AuditPage /> }.into_any(),
            Route::Views => view! { <ViewsPage /> }.into_any(),
            Route::Forecast => view! { <ForecastPage /> }.into_any(),
            Route::Holds => view! { <HoldsPage /> }.into_any(),
            Route::Hold(id) => view! { <HoldPage id=id /> }.into_any(),
        }
    };
    // The window title names the page, for tabs and history.
    Effect::new(move |_| {
        document().set_title(&format!("{} · Holdfast", router.route.get().title()));
    });
    let signed_in = Memo::new(move |_| match session.phase.get() {
        state::Phase::Checking => None,
        state::Phase::SignedOut => Some(false),
        state::Phase::SignedIn(_) => Some(true),
    });
    move || match signed_in.get() {
        None => view! { <p class="loading" role="status">"Loading…"</p> }.into_any(),
        Some(false) => view! { <LoginPage /> }.into_any(),
        Some(true) => view! { <Shell>{page}</Shell> }.into_any(),
    }
}
