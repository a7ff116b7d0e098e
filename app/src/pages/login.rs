//! The sign-in page.

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api;
use crate::components::icons::Shield;
use crate::state::Session;

#[component]
pub fn LoginPage() -> impl IntoView {
    let session = Session::get();
    let username = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        error.set(None);
        let (u, p) = (username.get_untracked(), password.get_untracked());
        spawn_local(async move {
            match api::login(&u, &p).await {
                Ok(me) => session.signed_in(me),
                Err(e) => {
                    error.set(Some(e.to_string()));
                    busy.set(false);
                }
            }
        });
    };
    // The first field has the focus, so a keyboard user types straight away.
    let first = NodeRef::<leptos::html::Input>::new();
    Effect::new(move |_| {
        if let Some(input) = first.get() {
            let _ = input.focus();
        }
    });
    view! {
        <main class="login-page">
            <form class="login-card" on:submit=submit>
                <h1><Shield />"Holdfast"</h1>
                <p class="sub">"Legal hold for contact-center recordings"</p>
                {move || session.notice.get().map(|n| view! { <p class="alert" role="status">{n}</p> })}
                {move || error.get().map(|e| view! { <p class="alert" role="alert">{e}</p> })}
                <div class="field">
                    <label for="username">"Username"</label>
                    <input id="username" name="username" node_ref=first autocomplete="username" required
                        prop:value=username on:input=move |ev| username.set(event_target_value(&ev)) />
                </div>
                <div class="field">
                    <label for="password">"Password"</label>
                    <input id="password" name="password" type="password" autocomplete="current-password" required
                        prop:value=password on:input=move |ev| password.set(event_target_value(&ev)) />
                </div>
                <button class="btn btn-primary" type="submit" disabled=move || busy.get()>
                    {move || if busy.get() { "Signing in…" } else { "Sign in" }}
                </button>
            </form>
        </main>
    }
}
