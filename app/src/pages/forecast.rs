//! The deletion forecast: what the retention sweep will delete in the coming days, day by day,
//! and what is due but kept because its conversation is protected.

use leptos::prelude::*;

use crate::api;
use crate::format::{count, counted};
use crate::load::{load, notice};

#[component]
pub fn ForecastPage() -> impl IntoView {
    let days = RwSignal::new(30u32);
    let data = load(move || {
        let d = days.get();
        async move { api::forecast(d).await }
    });
    let choices: Vec<_> = [7u32, 30, 90, 365]
        .into_iter()
        .map(|d| view! { <option value=d.to_string()>{d.to_string()}</option> })
        .collect();
    view! {
        <h1 tabindex="-1">"Deletion forecast"</h1>
        <p class="muted">"What the retention sweep will delete, by day (UTC). Recordings of protected conversations are kept while they are protected, and counted apart."</p>
        <form class="filters" aria-label="Forecast" on:submit=|ev| ev.prevent_default()>
            <label>"Days"
                <select prop:value=move || days.get().to_string()
                    on:change=move |ev| days.set(event_target_value(&ev).parse().unwrap_or(30))>
                    {choices}
                </select>
            </label>
        </form>
        {move || match data.get() {
            None => notice("loading", "Loading…".to_owned()),
            Some(Err(e)) => notice("alert", e.to_string()),
            Some(Ok(f)) => {
                let deleted: u64 = f.past_due.deletable + f.days.iter().map(|d| d.deletable).sum::<u64>();
                let kept: u64 = f.past_due.protected + f.days.iter().map(|d| d.protected).sum::<u64>();
                let summary = format!(
                    "In the next {} the sweep will delete {}. Kept while protected: {}.",
                    counted(f.days.len() as u64, "day", "days"),
                    counted(deleted, "recording", "recordings"),
                    count(kept)
                );
                let row = |label: String, deletable: u64, protected: u64| view! {
                    <tr><td>{label}</td><td class="num">{count(deletable)}</td><td class="num">{count(protected)}</td></tr>
                };
                let mut rows = vec![row("Past due: the next sweep".to_owned(), f.past_due.deletable, f.past_due.protected)];
                rows.extend(f.days.into_iter().map(|d| row(d.date, d.deletable, d.protected)));
                view! {
                    <p class="count" role="status">{summary}</p>
                    <div class="table-wrap">
                        <table class="grid" aria-label="Deletion forecast">
                            <thead><tr><th scope="col">"Day (UTC)"</th><th scope="col">"Deleted by the sweep"</th><th scope="col">"Kept: protected"</th></tr></thead>
                            <tbody>{rows}</tbody>
                        </table>
                    </div>
                }.into_any()
            }
        }}
    }
}
