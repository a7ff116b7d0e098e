//! Holdfast's browser app: a leptos client-side-rendered single-page app over the server's JSON
//! API, deciding nothing itself that `holdfast_core` decides.

pub mod api;
pub mod components;
pub mod format;
pub mod pages;
pub mod routes;
pub mod state;

use leptos::prelude::*;

use crate::components::shell::Shell;
use crate::pages::audit::AuditPage;
use crate::pages::details::DetailsPage;
use crate::pages::interactions::InteractionsPage;
use crate::pages::login::LoginPage;
use crate::pages::views::ViewsPage;
use crate::state::Session;

/// The whole app: the sign-in page until a session exists, then the shell with the page.
#[component]
pub fn App() -> impl IntoView {
    let session = Session::provide();
    session.refresh();
    view! {
        {move || match session.phase.get() {
            state::Phase::Checking => view! { <p class="loading" role="status">"Loading…"</p> }.into_any(),
            state::Phase::SignedOut => view! { <LoginPage /> }.into_any(),
            state::Phase::SignedIn(_) if routes::is_views() => {
                view! { <Shell><ViewsPage /></Shell> }.into_any()
            }
            state::Phase::SignedIn(_) if routes::is_audit() => {
                view! { <Shell><AuditPage /></Shell> }.into_any()
            }
            state::Phase::SignedIn(_) => match routes::current_details() {
                Some(id) => view! { <Shell><DetailsPage id=id /></Shell> }.into_any(),
                None => view! { <Shell><InteractionsPage /></Shell> }.into_any(),
            },
        }}
    }
}
