//! The interactions view: the table of the organization's conversations, the selection, and the
//! Protect / Release toolbar with its preview.

use holdfast_core::Permission;
use holdfast_core::protection::ProtectAction;
use holdfast_core::selection::Selected;
use leptos::prelude::*;

use crate::load::{load, notice};

use crate::api;
use crate::components::conversation_table::ConversationTable;
use crate::components::filter_bar::FilterBar;
use crate::components::protect_preview::{self, Preview, ProtectPreview};
use crate::format::{count, count_at_least};
use crate::routes;
use crate::state::Session;

#[component]
pub fn InteractionsPage() -> impl IntoView {
    let session = Session::get();
    let (initial, url_error) = routes::current_view();
    let view_state = RwSignal::new(initial);
    let selected = RwSignal::new(Selected::Nothing);
    let preview = RwSignal::new(None::<Preview>);
    // Bumped after a commit, so the page is fetched again.
    let revision = RwSignal::new(0u64);

    // Back and forward restore the view in the address.
    // Whether the view state was just read from the address (on arrival, after back or
    // forward): then the address is only rewritten in place, never pushed.
    let from_address = StoredValue::new(true);
    let listener = window_event_listener(leptos::ev::popstate, move |_| {
        if routes::Route::current() == routes::Route::Interactions {
            from_address.set_value(true);
            view_state.set(routes::current_view().0);
        }
    });
    on_cleanup(move || listener.remove());
    let router = routes::Router::get();
    Effect::new(move |_| {
        let view = view_state.get();
        let entry = match from_address.get_value() {
            true => routes::Entry::Replace,
            false => routes::Entry::Push,
        };
        from_address.set_value(false);
        routes::show_view(&view, entry);
        router.last_view.set(routes::view_url(&view));
    });

    let page = load(move || {
        revision.track();
        let view = view_state.get();
        async move { api::conversations(&view).await }
    });
    Effect::new(move |_| {
        if let Some(Err(e)) = page.get() {
            session.handle_error(&e);
        }
    });

    // How many match, and whether that is exact (counting stops at core's TOTAL_BOUND).
    let total = move || {
        page.get()
            .and_then(|r| r.ok())
            .map(|p| (p.total, p.total_exact))
            .unwrap_or((0, true))
    };
    let perms = move || session.permissions();

    let open_preview = move |action: ProtectAction, into_hold: bool| {
        if let Some(selection) = selected.get_untracked().to_selection() {
            protect_preview::open(preview, action, selection, into_hold);
        }
    };

    let go_to_page = move |delta: i64| {
        view_state.update(|v| {
            let next = (i64::from(v.page) + delta).max(1);
            v.page = u32::try_from(next).unwrap_or(1);
        });
    };

    let selection_bar = move || {
        let sel = selected.get();
        let (total, exact) = total();
        let on_page = page
            .get()
            .and_then(|r| r.ok())
            .map(|p| p.entities.len())
            .unwrap_or(0) as u64;
        let n = sel.count(total);
        if sel.is_empty() {
            return view! { <span class="count">"No interaction selected"</span> }.into_any();
        }
        let all_matching = matches!(sel, Selected::AllMatching { .. });
        let offer = (!all_matching && n >= on_page && (total > n || !exact)).then(|| {
            let label = format!("Select all {} matching interactions", count_at_least(total, exact));
            view! {
                <button class="btn-link" type="button"
                    on:click=move |_| selected.update(|s| s.select_all_matching(&view_state.get_untracked().filters))>
                    {label}
                </button>
            }
        });
        let text = match all_matching {
            true if exact && n == 1 => "The 1 matching interaction is selected.".to_owned(),
            true if exact => format!("All {} matching interactions are selected.", count(n)),
            // Beyond the bound the exact number comes with the preview, which counts them.
            true => format!(
                "All {} matching interactions are selected.",
                count_at_least(n, false)
            ),
            false => format!("{} selected.", count(n)),
        };
        view! {
            <span class="count" role="status">{text}</span>
            {offer}
            <button class="btn-link" type="button" on:click=move |_| selected.set(Selected::Nothing)>"Clear selection"</button>
        }
        .into_any()
    };

    view! {
        <h1 tabindex="-1">"Interactions"</h1>
        {url_error.map(|e| view! { <p class="alert" role="alert">{format!("The address held an invalid view ({e}); showing the default view.")}</p> })}
        <FilterBar view_state=view_state on_change=Callback::new(move |()| selected.set(Selected::Nothing)) />
        <SaveView view_state=view_state />
        <div class="toolbar" role="toolbar" aria-label="Protection">
            <Show when=move || perms().contains(Permission::ProtectionApply)>
                <button class="btn btn-primary" type="button" disabled=move || selected.with(Selected::is_empty)
                    on:click=move |_| open_preview(ProtectAction::Protect, false)>"Protect Recordings"</button>
                <button class="btn" type="button" disabled=move || selected.with(Selected::is_empty)
                    on:click=move |_| open_preview(ProtectAction::Protect, true)>"Add to hold"</button>
            </Show>
            <Show when=move || perms().contains(Permission::ProtectionRevoke)>
                <button class="btn" type="button" disabled=move || selected.with(Selected::is_empty)
                    on:click=move |_| open_preview(ProtectAction::Release, false)>"Release Recordings"</button>
            </Show>
        </div>
        <div class="selection-bar">{selection_bar}</div>
        {move || match page.get() {
            None => notice("loading", "Loading interactions…".to_owned()),
            Some(Err(e)) => notice("alert", e.to_string()),
            Some(Ok(p)) if p.entities.is_empty() => {
                notice("empty", "No interaction matches this view.".to_owned())
            }
            Some(Ok(p)) => {
                let view = view_state.get_untracked();
                let first = view.offset() + 1;
                let last = view.offset() + p.entities.len() as u64;
                let has_next = last < p.total || (!p.total_exact && p.entities.len() as u64 == u64::from(view.page_size));
                let range = format!("{}–{} of {}", count(first), count(last), count_at_least(p.total, p.total_exact));
                view! {
                    <ConversationTable rows=p.entities columns=view.columns.clone() sort=view.sort selected=selected
                        on_sort=Callback::new(move |key| view_state.update(|v| {
                            v.sort = v.sort.toggled(key);
                            v.page = 1;
                        })) />
                    <div class="pager">
                        <span class="count">{range}</span>
                        <button class="btn" type="button" disabled=view.page <= 1 on:click=move |_| go_to_page(-1)>"Previous page"</button>
                        <button class="btn" type="button" disabled=!has_next on:click=move |_| go_to_page(1)>"Next page"</button>
                    </div>
                }.into_any()
            }
        }}
        <ProtectPreview preview=preview selected=selected revision=revision />
    }
}

/// "Save view as": stores the current view under a name.
#[component]
fn SaveView(view_state: RwSignal<holdfast_core::view::ViewState>) -> impl IntoView {
    let session = Session::get();
    let name = RwSignal::new(String::new());
    let message = RwSignal::new(None::<String>);
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let (n, view) = (name.get_untracked(), view_state.get_untracked());
        leptos::task::spawn_local(async move {
            match api::save_view(&n, &view).await {
                Ok(saved) => {
                    name.set(String::new());
                    message.set(Some(format!("Saved as \u{201c}{}\u{201d}.", saved.name)));
                    session.refresh_views();
                }
                Err(e) => message.set(Some(e.to_string())),
            }
        });
    };
    view! {
        <form class="save-view" on:submit=save>
            <label>"Save view as"
                <input type="text" maxlength="100" required prop:value=name
                    on:input=move |ev| name.set(event_target_value(&ev)) />
            </label>
            <button class="btn" type="submit">"Save view"</button>
            {move || {
                let filters = view_state.with(|v| v.filters.to_query());
                // Only filters that describe an interaction, as core's rule for a hold's query says.
                (holdfast_core::holds::hold_query(&filters).is_ok() && session.permissions().contains(holdfast_core::Permission::ProtectionApply))
                    .then(|| view! { <a href=crate::routes::new_hold_url(&filters)>"New legal hold from these filters"</a> })
            }}
            {move || message.get().map(|m| view! { <span class="muted" role="status">{m}</span> })}
        </form>
    }
}
