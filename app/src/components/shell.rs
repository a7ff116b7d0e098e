//! The frame around every page: the top bar (product, organization, cap meter, user and sign
//! out), the left navigation, and the work area.

use leptos::prelude::*;

use crate::components::cap_meter::CapMeter;
use crate::components::icons::Shield;
use crate::routes::{Route, Router};
use crate::state::Session;

#[component]
pub fn Shell(children: Children) -> impl IntoView {
    let session = Session::get();
    let me = move || session.me();
    let route = Router::get().route;
    let current = move |page: Route| (route.get() == page).then_some("page");
    view! {
        <div class="shell">
            <header class="topbar">
                <span class="brand"><Shield />"Holdfast"</span>
                <span class="org">{move || me().map(|m| m.org_name)}</span>
                <span class="spacer"></span>
                <CapMeter />
                <span class="user">
                    {move || me().map(|m| m.display_name)}
                    <button class="btn" type="button" on:click=move |_| session.sign_out()>"Sign out"</button>
                </span>
            </header>
            <nav class="sidenav" aria-label="Main">
                <a href="/interactions" aria-current=move || matches!(route.get(), Route::Interactions | Route::Details(_)).then_some("page")>"Interactions"</a>
                <h2 class="nav-heading">"Saved views"</h2>
                <a href="/interactions?protected=yes">"Protected interactions"</a>
                {move || session.views.get().into_iter().map(|v| {
                    let href = if v.query.is_empty() { "/interactions".to_owned() } else { format!("/interactions?{}", v.query) };
                    view! { <a href=href>{v.name}</a> }
                }).collect::<Vec<_>>()}
                <a href="/views" aria-current=move || current(Route::Views)>"Manage saved views"</a>
                <h2 class="nav-heading">"Compliance"</h2>
                <Show when=move || session.permissions().contains(holdfast_core::Permission::AuditView)>
                    <a href="/audit" aria-current=move || current(Route::Audit)>"Audit trail"</a>
                </Show>
                <a href="/holds" aria-current=move || matches!(route.get(), Route::Holds | Route::Hold(_)).then_some("page")>"Legal holds"</a>
                <a href="/forecast" aria-current=move || current(Route::Forecast)>"Deletion forecast"</a>
            </nav>
            <main class="work" tabindex="-1">{children()}</main>
        </div>
    }
}
