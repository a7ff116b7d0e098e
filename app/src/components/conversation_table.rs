//! The interactions table: a checkbox per row, a tri-state header checkbox, and the columns of
//! the view.

use holdfast_core::ConversationId;
use holdfast_core::api::ConversationRow;
use holdfast_core::selection::{HeaderState, Selected};
use holdfast_core::view::{Column, Sort, SortKey};
use leptos::prelude::*;

use crate::components::icons::Lock;
use crate::format;

fn cell(column: Column, row: &ConversationRow) -> AnyView {
    match column {
        Column::Date => {
            let href = crate::routes::details_url(row.id);
            view! { <a href=href>{format::instant(row.start_time)}</a> }.into_any()
        }
        Column::Duration => format::duration(row.duration_ms).into_any(),
        Column::Media => {
            let names: Vec<&str> = row.media.iter().map(|m| m.as_str()).collect();
            names.join(", ").into_any()
        }
        Column::Direction => row.direction.as_str().into_any(),
        Column::Users => row.agents.join(", ").into_any(),
        Column::RemoteParty => row.remote_party.clone().unwrap_or_default().into_any(),
        Column::Queue => row.queue.clone().unwrap_or_default().into_any(),
        Column::Recording => match (row.protected, row.recording_count) {
            (true, _) => view! { <span class="lock"><Lock /></span> }.into_any(),
            (false, 0) => view! { <span class="muted">"No recording"</span> }.into_any(),
            (false, _) => "Recorded".into_any(),
        },
        Column::DeletionDate => match (row.protected, row.deletion_date) {
            (true, _) => view! { <span class="lock">"Protected"</span> }.into_any(),
            (false, Some(date)) => format::date(date).into_any(),
            (false, None) => view! { <span class="muted">"—"</span> }.into_any(),
        },
    }
}

#[component]
pub fn ConversationTable(
    rows: Vec<ConversationRow>,
    columns: Vec<Column>,
    sort: Sort,
    selected: RwSignal<Selected>,
    on_sort: Callback<SortKey>,
) -> impl IntoView {
    let page: Vec<ConversationId> = rows.iter().map(|r| r.id).collect();
    let header_page = page.clone();
    let header = Memo::new(move |_| selected.with(|s| s.header_state(&header_page)));
    let toggle_page = move |_| selected.update(|s| s.toggle_page(&page));
    let head: Vec<_> = columns
        .iter()
        .map(|c| {
            let key = match c {
                Column::Date => Some(SortKey::Date),
                Column::Duration => Some(SortKey::Duration),
                Column::DeletionDate => Some(SortKey::DeletionDate),
                _ => None,
            };
            let aria_sort = match key {
                Some(k) if k == sort.key && sort.descending => "descending",
                Some(k) if k == sort.key => "ascending",
                _ => "none",
            };
            let arrow = match aria_sort {
                "descending" => " ▼",
                "ascending" => " ▲",
                _ => "",
            };
            match key {
                Some(k) => view! {
                    <th scope="col" aria-sort=aria_sort>
                        <button class="sort" type="button" on:click=move |_| on_sort.run(k)>
                            {c.label()}{arrow}
                        </button>
                    </th>
                }
                .into_any(),
                None => view! { <th scope="col">{c.label()}</th> }.into_any(),
            }
        })
        .collect();
    let body: Vec<_> = rows
        .into_iter()
        .map(|row| {
            let id = row.id;
            let checked = move || selected.with(|s| s.contains(id));
            let label = format!(
                "Select interaction of {} with {}",
                format::instant(row.start_time),
                row.remote_party
                    .clone()
                    .unwrap_or_else(|| "unknown party".to_owned())
            );
            let cells: Vec<_> = columns
                .iter()
                .map(|c| view! { <td>{cell(*c, &row)}</td> })
                .collect();
            view! {
                <tr data-id=id.to_string() aria-selected=move || checked().to_string()>
                    <td class="check">
                        <input type="checkbox" aria-label=label prop:checked=checked
                            on:change=move |_| selected.update(|s| s.toggle(id)) />
                    </td>
                    {cells}
                </tr>
            }
        })
        .collect();
    view! {
        <div class="table-wrap">
            <table class="grid" aria-label="Interactions">
                <thead>
                    <tr>
                        <th class="check" scope="col">
                            <input type="checkbox" aria-label="Select all"
                                prop:checked=move || header.get() == HeaderState::All
                                prop:indeterminate=move || header.get() == HeaderState::Some
                                aria-checked=move || header.get().aria_checked()
                                on:change=toggle_page />
                        </th>
                        {head}
                    </tr>
                </thead>
                <tbody>{body}</tbody>
            </table>
        </div>
    }
}
