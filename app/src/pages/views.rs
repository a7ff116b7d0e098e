//! Saved views: open, rename and delete the user's views; the built-in "Protected
//! interactions" view is always there.

use holdfast_core::api::SavedView;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api;
use crate::state::Session;

fn href(v: &SavedView) -> String {
    match v.query.is_empty() {
        true => "/interactions".to_owned(),
        false => format!("/interactions?{}", v.query),
    }
}

#[component]
fn ViewRow(view: SavedView) -> impl IntoView {
    let session = Session::get();
    let name = RwSignal::new(view.name.clone());
    let error = RwSignal::new(None::<String>);
    let (id_rename, id_delete) = (view.id.clone(), view.id.clone());
    let rename = move |_| {
        let (id, n) = (id_rename.clone(), name.get_untracked());
        spawn_local(async move {
            match api::rename_view(&id, &n).await {
                Ok(_) => {
                    error.set(None);
                    session.refresh_views();
                }
                Err(e) => error.set(Some(e.to_string())),
            }
        });
    };
    let delete = move |_| {
        let id = id_delete.clone();
        spawn_local(async move {
            match api::delete_view(&id).await {
                Ok(_) => session.refresh_views(),
                Err(e) => error.set(Some(e.to_string())),
            }
        });
    };
    let label = format!("Name of the view {}", view.name);
    view! {
        <tr>
            <td><a href=href(&view)>"Open"</a></td>
            <td><input type="text" aria-label=label maxlength="100" prop:value=name on:input=move |ev| name.set(event_target_value(&ev)) /></td>
            <td><button class="btn" type="button" on:click=rename>"Rename"</button></td>
            <td><button class="btn" type="button" on:click=delete>"Delete"</button></td>
            <td>{move || error.get().map(|e| view! { <span class="refusal" role="alert">{e}</span> })}</td>
        </tr>
    }
}

#[component]
pub fn ViewsPage() -> impl IntoView {
    let session = Session::get();
    view! {
        <h1 tabindex="-1">"Saved views"</h1>
        <p><a href="/interactions?protected=yes">"Protected interactions"</a>" (built in)"</p>
        {move || {
            let views = session.views.get();
            if views.is_empty() {
                return view! { <p class="empty">"No saved view yet: use “Save view as” on the interactions page."</p> }.into_any();
            }
            let rows: Vec<_> = views.into_iter().map(|v| view! { <ViewRow view=v /> }).collect();
            view! {
                <div class="table-wrap">
                    <table class="grid" aria-label="Saved views"><tbody>{rows}</tbody></table>
                </div>
            }
            .into_any()
        }}
    }
}
