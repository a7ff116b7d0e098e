//! The audit trail: every event of the organization, newest first, with filters, paging, a CSV
//! export of what the filters match, and whether the hash chain verifies.

use holdfast_core::audit::{Actor, AuditAction, AuditQuery};
use leptos::prelude::*;

use crate::load::{load, notice};

use crate::api;
use crate::format;
use crate::routes;
use crate::state::Session;

#[component]
pub fn AuditPage() -> impl IntoView {
    let session = Session::get();
    let query = RwSignal::new(routes::current_audit_query());
    // As on the interactions page: a query read from the address is only rewritten in place.
    let from_address = StoredValue::new(true);
    Effect::new(move |_| {
        let q = query.get();
        let entry = match from_address.get_value() {
            true => routes::Entry::Replace,
            false => routes::Entry::Push,
        };
        from_address.set_value(false);
        routes::show_audit_query(&q, entry);
    });
    let listener = window_event_listener(leptos::ev::popstate, move |_| {
        // Only while the address still shows this page: leaving it is the router's business.
        if routes::Route::current() == routes::Route::Audit {
            from_address.set_value(true);
            query.set(routes::current_audit_query());
        }
    });
    on_cleanup(move || listener.remove());
    let page = load(move || {
        let q = query.get();
        async move { api::audit(&q).await }
    });
    let set = move |f: Box<dyn FnOnce(&mut AuditQuery)>| {
        query.update(|q| {
            f(q);
            q.page = 1;
        })
    };
    let actions: Vec<_> = AuditAction::ALL
        .iter()
        .map(|a| view! { <option value=a.as_str()>{a.as_str()}</option> })
        .collect();
    view! {
        <h1 tabindex="-1">"Audit trail"</h1>
        <form class="filters" role="search" aria-label="Audit filters" on:submit=|ev| ev.prevent_default()>
            <label>"Action"
                <select prop:value=move || query.get().action.map(|a| a.as_str()).unwrap_or("")
                    on:change=move |ev| { let a = AuditAction::parse(&event_target_value(&ev)); set(Box::new(move |q| q.action = a)) }>
                    <option value="">"Any"</option>
                    {actions}
                </select>
            </label>
            <label>"User"
                <input type="search" prop:value=move || query.get().user.unwrap_or_default()
                    on:change=move |ev| {
                        let u = event_target_value(&ev).trim().to_owned();
                        set(Box::new(move |q| q.user = (!u.is_empty()).then_some(u)))
                    } />
            </label>
            <label>"Conversation"
                <input type="search" placeholder="Interaction id" prop:value=move || query.get().conversation.map(|c| c.to_string()).unwrap_or_default()
                    on:change=move |ev| {
                        let c = holdfast_core::ConversationId::parse(&event_target_value(&ev)).ok();
                        set(Box::new(move |q| q.conversation = c))
                    } />
            </label>
            <a class="btn" href=move || api::audit_csv_url(&query.get()) download="holdfast-audit.csv">"Export CSV"</a>
        </form>
        {move || match page.get() {
            None => notice("loading", "Loading the audit trail…".to_owned()),
            Some(Err(e)) => {
                session.handle_error(&e);
                notice("alert", e.to_string())
            }
            Some(Ok(p)) => {
                let chain = match (p.chain_verified, p.chain_error) {
                    (true, _) => notice("done", "The audit chain verifies: no event was altered or removed.".to_owned()),
                    (false, e) => notice("refusal", format!("The audit chain is broken: {}", e.unwrap_or_default())),
                };
                let rows: Vec<_> = p.entities.iter().map(|e| {
                    let actor = match &e.actor {
                        Actor::User { name, .. } => name.clone(),
                        Actor::System => "system".to_owned(),
                    };
                    let details = [e.details.reason.clone(), e.details.message.clone()]
                        .into_iter()
                        .flatten()
                        .collect::<Vec<_>>()
                        .join(" · ");
                    let recordings = e.details.recordings.len();
                    view! {
                        <tr>
                            <td>{format::instant(e.time)}</td>
                            <td>{e.action.as_str()}</td>
                            <td>{format!("{} {}", e.entity_type.as_str(), e.entity_id)}</td>
                            <td>{actor}</td>
                            <td>{e.client.ip.clone().unwrap_or_default()}</td>
                            <td>{(recordings > 0).then(|| format::counted(recordings as u64, "recording", "recordings"))}</td>
                            <td>{details}</td>
                        </tr>
                    }
                }).collect();
                let shown = format::counted(p.total, "event", "events");
                let (has_prev, has_next) = (p.page > 1, u64::from(p.page) * u64::from(p.page_size) < p.total);
                view! {
                    {chain}
                    <div class="table-wrap">
                        <table class="grid" aria-label="Audit events">
                            <thead><tr>
                                <th scope="col">"Time"</th><th scope="col">"Action"</th><th scope="col">"Entity"</th>
                                <th scope="col">"User"</th><th scope="col">"IP"</th><th scope="col">"Covers"</th><th scope="col">"Details"</th>
                            </tr></thead>
                            <tbody>{rows}</tbody>
                        </table>
                    </div>
                    <div class="pager">
                        <span class="count">{shown}</span>
                        <button class="btn" type="button" disabled=!has_prev on:click=move |_| query.update(|q| q.page -= 1)>"Previous page"</button>
                        <button class="btn" type="button" disabled=!has_next on:click=move |_| query.update(|q| q.page += 1)>"Next page"</button>
                    </div>
                }.into_any()
            }
        }}
    }
}
