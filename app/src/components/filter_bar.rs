//! The filter bar of the interactions view: every filter of the view state, the page size, and
//! a way to clear them. Each change goes to the view state (and so to the address) and back to
//! the first page.

use holdfast_core::time::Instant;
use holdfast_core::view::{Filters, PAGE_SIZES, ViewState};
use holdfast_core::{Direction, Media};
use leptos::prelude::*;

/// A local calendar date (`2026-11-25` from a date input) as the instant of its local midnight.
fn local_midnight(text: &str) -> Option<Instant> {
    let mut parts = text.split('-').map(|p| p.parse::<u32>().ok());
    let (y, m, d) = (parts.next()??, parts.next()??, parts.next()??);
    let date = js_sys::Date::new_with_year_month_day(
        y,
        i32::try_from(m).ok()? - 1,
        i32::try_from(d).ok()?,
    );
    let ms = date.get_time();
    if ms.is_nan() {
        return None;
    }
    chrono::DateTime::from_timestamp_millis(ms as i64)
}

/// The local calendar date of an instant, for a date input.
fn local_date(t: Option<Instant>) -> String {
    let Some(t) = t else { return String::new() };
    let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(t.timestamp_millis() as f64));
    format!(
        "{:04}-{:02}-{:02}",
        date.get_full_year(),
        date.get_month() + 1,
        date.get_date()
    )
}

fn yes_no(value: Option<bool>) -> &'static str {
    match value {
        None => "",
        Some(true) => "yes",
        Some(false) => "no",
    }
}

fn parse_yes_no(text: &str) -> Option<bool> {
    match text {
        "yes" => Some(true),
        "no" => Some(false),
        _ => None,
    }
}

fn text_filter(text: String) -> Option<String> {
    let t = text.trim().to_owned();
    (!t.is_empty()).then_some(t)
}

/// The hold a view is limited to (`hold=` in its address, from a hold's page): its name, a
/// link back to it, and a way to remove it. The filter bar has no input for it.
#[component]
fn HoldFilter(view_state: RwSignal<ViewState>, on_change: Callback<()>) -> impl IntoView {
    let hold = Memo::new(move |_| view_state.with(|v| v.filters.hold));
    let holds = crate::load::load(move || {
        let wanted = hold.get();
        async move {
            match wanted {
                Some(_) => crate::api::holds("").await.map(|l| l.entities),
                None => Ok(Vec::new()),
            }
        }
    });
    move || {
        let id = hold.get()?;
        let remove = move |_| {
            view_state.update(|v| {
                v.filters.hold = None;
                v.page = 1;
            });
            on_change.run(());
        };
        let named = match holds.get() {
            None => view! { "Showing the interactions of a hold…" }.into_any(),
            Some(Ok(list)) => match list.iter().find(|h| h.id == id) {
                Some(h) => view! {
                    "Showing the interactions of the hold "
                    <a href=format!("/holds/{id}")>{h.name.clone()}</a>
                }
                .into_any(),
                None => "No hold of your organization has this address: no interaction shows."
                    .into_any(),
            },
            Some(Err(e)) => e.to_string().into_any(),
        };
        Some(view! {
            <p class="hold-filter" role="status">
                {named}
                " "
                <button class="btn-link" type="button" on:click=remove>"Show all interactions"</button>
            </p>
        })
    }
}

#[component]
pub fn FilterBar(view_state: RwSignal<ViewState>, on_change: Callback<()>) -> impl IntoView {
    let set = move |f: Box<dyn FnOnce(&mut Filters)>| {
        view_state.update(|v| {
            f(&mut v.filters);
            v.page = 1;
        });
        on_change.run(());
    };
    let filters = move || view_state.get().filters;
    let media_options: Vec<_> = Media::ALL
        .iter()
        .map(|m| view! { <option value=m.as_str()>{m.as_str()}</option> })
        .collect();
    let size_options: Vec<_> = PAGE_SIZES
        .iter()
        .map(|s| view! { <option value=s.to_string()>{s.to_string()}</option> })
        .collect();
    view! {
        <HoldFilter view_state=view_state on_change=on_change />
        <form class="filters" role="search" aria-label="Filters" on:submit=|ev| ev.prevent_default()>
            <label>"From"
                <input type="date" prop:value=move || local_date(filters().from)
                    on:change=move |ev| { let t = local_midnight(&event_target_value(&ev)); set(Box::new(move |f| f.from = t)) } />
            </label>
            <label>"To"
                <input type="date" prop:value=move || local_date(filters().to.map(|t| t - chrono::Duration::days(1)))
                    on:change=move |ev| {
                        // "To" names a whole day: the filter ends at the next local midnight.
                        let t = local_midnight(&event_target_value(&ev)).map(|t| t + chrono::Duration::days(1));
                        set(Box::new(move |f| f.to = t))
                    } />
            </label>
            <label>"Media"
                <select prop:value=move || filters().media.first().map(|m| m.as_str()).unwrap_or("")
                    on:change=move |ev| {
                        let m = Media::parse(&event_target_value(&ev));
                        set(Box::new(move |f| f.media = m.into_iter().collect()))
                    }>
                    <option value="">"Any"</option>
                    {media_options}
                </select>
            </label>
            <label>"Direction"
                <select prop:value=move || filters().direction.map(|d| d.as_str()).unwrap_or("")
                    on:change=move |ev| { let d = Direction::parse(&event_target_value(&ev)); set(Box::new(move |f| f.direction = d)) }>
                    <option value="">"Any"</option>
                    <option value="inbound">"inbound"</option>
                    <option value="outbound">"outbound"</option>
                </select>
            </label>
            <label>"Queue"
                <input type="search" prop:value=move || filters().queue.unwrap_or_default()
                    on:change=move |ev| { let q = text_filter(event_target_value(&ev)); set(Box::new(move |f| f.queue = q)) } />
            </label>
            <label>"Agent"
                <input type="search" prop:value=move || filters().agent.unwrap_or_default()
                    on:change=move |ev| { let a = text_filter(event_target_value(&ev)); set(Box::new(move |f| f.agent = a)) } />
            </label>
            <label>"Remote party"
                <input type="search" prop:value=move || filters().remote.unwrap_or_default()
                    on:change=move |ev| { let r = text_filter(event_target_value(&ev)); set(Box::new(move |f| f.remote = r)) } />
            </label>
            <label>"Recording"
                <select prop:value=move || yes_no(filters().has_recording)
                    on:change=move |ev| { let b = parse_yes_no(&event_target_value(&ev)); set(Box::new(move |f| f.has_recording = b)) }>
                    <option value="">"Any"</option>
                    <option value="yes">"Recorded"</option>
                    <option value="no">"No recording"</option>
                </select>
            </label>
            <label>"Protected"
                <select prop:value=move || yes_no(filters().protected)
                    on:change=move |ev| { let b = parse_yes_no(&event_target_value(&ev)); set(Box::new(move |f| f.protected = b)) }>
                    <option value="">"Any"</option>
                    <option value="yes">"Protected"</option>
                    <option value="no">"Not protected"</option>
                </select>
            </label>
            <label>"Deleted before"
                <input type="date" prop:value=move || local_date(filters().deleted_before)
                    on:change=move |ev| { let t = local_midnight(&event_target_value(&ev)); set(Box::new(move |f| f.deleted_before = t)) } />
            </label>
            <label>"Rows"
                <select prop:value=move || view_state.get().page_size.to_string()
                    on:change=move |ev| {
                        if let Ok(size) = event_target_value(&ev).parse() {
                            view_state.update(|v| { v.page_size = size; v.page = 1; });
                        }
                    }>
                    {size_options}
                </select>
            </label>
            <button class="btn" type="button" on:click=move |_| set(Box::new(|f| *f = Filters::default()))>"Clear filters"</button>
        </form>
    }
}
