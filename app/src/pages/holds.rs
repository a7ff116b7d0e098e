//! Legal holds (matters): the list with a search and a form to create one, and a hold's page
//! with its interactions and its release, previewed with the exact counts before it is sent.

use holdfast_core::holds::{CreateHoldRequest, HoldDetails, HoldInfo, ListOutcome, ListPreview};
use holdfast_core::{HoldId, Permission, Reason};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api;
use crate::format::{self, count, counted};
use crate::load::{load, notice};
use crate::state::Session;

/// A table of the pages' kind: labelled, with its column headings.
fn grid<R: IntoView + 'static>(
    label: &'static str,
    headings: &[&'static str],
    rows: Vec<R>,
) -> AnyView {
    let headings: Vec<_> = headings
        .iter()
        .map(|h| view! { <th scope="col">{*h}</th> })
        .collect();
    view! {
        <div class="table-wrap">
            <table class="grid" aria-label=label>
                <thead><tr>{headings}</tr></thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
    .into_any()
}

/// What a change said: done (politely, in `class`) or refused (an alert).
fn said_view((ok, text): (bool, String), class: &'static str) -> impl IntoView {
    let (role, class) = match ok {
        true => ("status", class),
        false => ("alert", "refusal"),
    };
    view! { <p class=class role=role>{text}</p> }
}

fn status_text(hold: &HoldInfo) -> String {
    match hold.released_at {
        Some(at) => format!(
            "Released {} by {}",
            format::instant(at),
            hold.released_by.clone().unwrap_or_default()
        ),
        None => "Active".to_owned(),
    }
}

#[component]
pub fn HoldsPage() -> impl IntoView {
    let session = Session::get();
    let search = RwSignal::new(String::new());
    let revision = RwSignal::new(0u64);
    let list = load(move || {
        revision.track();
        let q = search.get();
        async move { api::holds(&q).await }
    });
    let name = RwSignal::new(String::new());
    let case_reference = RwSignal::new(String::new());
    let description = RwSignal::new(String::new());
    // Filled in when the interactions view sent its filters here.
    let query = RwSignal::new(crate::routes::current_hold_query());
    let message = RwSignal::new(None::<(bool, String)>);
    let may_create = move || session.permissions().contains(Permission::ProtectionApply);
    let create = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let request = CreateHoldRequest {
            query: Some(query.get_untracked()),
            name: name.get_untracked(),
            case_reference: Some(case_reference.get_untracked()),
            description: Some(description.get_untracked()),
        };
        spawn_local(async move {
            match api::create_hold(request).await {
                Ok(hold) => {
                    let covered = match hold.query {
                        Some(_) => format!(
                            " It covers {} now, and those that arrive and match.",
                            counted(hold.conversations, "interaction", "interactions")
                        ),
                        None => String::new(),
                    };
                    message.set(Some((
                        true,
                        format!("Created the legal hold “{}”.{covered}", hold.name),
                    )));
                    name.set(String::new());
                    case_reference.set(String::new());
                    description.set(String::new());
                    query.set(String::new());
                    revision.update(|r| *r += 1);
                }
                Err(e) => {
                    session.handle_error(&e);
                    message.set(Some((false, e.to_string())));
                }
            }
        });
    };
    view! {
        <h1 tabindex="-1">"Legal holds"</h1>
        <p class="muted">"A legal hold keeps every recording, transcript and attachment of its interactions from deletion, including those that arrive later, until the hold is released. An interaction stays protected while any hold covers it; the Protect button uses the default hold."</p>
        <form class="filters" role="search" aria-label="Search holds" on:submit=|ev| ev.prevent_default()>
            <label>"Search"
                <input type="search" placeholder="Name or case reference" prop:value=search
                    on:input=move |ev| search.set(event_target_value(&ev)) />
            </label>
        </form>
        {move || match list.get() {
            None => notice("loading", "Loading…".to_owned()),
            Some(Err(e)) => notice("alert", e.to_string()),
            Some(Ok(list)) if list.entities.is_empty() => notice("empty", "No hold matches.".to_owned()),
            Some(Ok(list)) => {
                let rows: Vec<_> = list.entities.into_iter().map(|h| {
                    let href = format!("/holds/{}", h.id);
                    let status = status_text(&h);
                    let missed = (h.missed > 0).then(|| view! {
                        <span class="refusal">{format!(" · {} matched, not protected: cap reached", count(h.missed))}</span>
                    });
                    view! {
                        <tr>
                            <td><a href=href>{h.name.clone()}</a></td>
                            <td>{h.case_reference.clone().unwrap_or_default()}</td>
                            <td class="num">{count(h.conversations)}</td>
                            <td>{h.owner.clone()}</td>
                            <td>{format::instant(h.created_at)}</td>
                            <td>{status}{missed}</td>
                        </tr>
                    }
                }).collect();
                grid(
                    "Legal holds",
                    &["Name", "Case reference", "Interactions", "Owner", "Created", "Status"],
                    rows,
                )
            }
        }}
        {move || {
            let admin = session.permissions().contains(Permission::Admin);
            let on = list.get().and_then(|l| l.ok()).map(|l| l.settings.two_person_release);
            on.filter(|_| admin).map(|on| view! {
                <label class="protected-toggle">
                    <input type="checkbox" id="two-person" prop:checked=on on:change=move |ev| {
                        let two_person_release = event_target_checked(&ev);
                        spawn_local(async move {
                            let settings = holdfast_core::holds::OrgSettings { two_person_release };
                            match api::set_settings(settings).await {
                                Ok(_) => revision.update(|r| *r += 1),
                                Err(e) => message.set(Some((false, e.to_string()))),
                            }
                        });
                    } />
                    "Two-person release: releasing a legal hold needs a second user's approval"
                </label>
            })
        }}
        <Show when=may_create>
            <h2>"New legal hold"</h2>
            <form class="stack" aria-label="New legal hold" on:submit=create>
                <div class="field">
                    <label for="hold-name">"Name"</label>
                    <input id="hold-name" required maxlength="120" prop:value=name
                        on:input=move |ev| name.set(event_target_value(&ev)) />
                </div>
                <div class="field">
                    <label for="hold-case">"Case reference (optional)"</label>
                    <input id="hold-case" maxlength="100" prop:value=case_reference
                        on:input=move |ev| case_reference.set(event_target_value(&ev)) />
                </div>
                <div class="field">
                    <label for="hold-query">"Catch interactions matching (optional)"</label>
                    <input id="hold-query" maxlength="2000" placeholder="queue=Billing&agent=Chen" prop:value=query
                        on:input=move |ev| query.set(event_target_value(&ev)) />
                    <span class="muted">"The interactions view's filters: the hold covers every interaction that matches them now and every one that arrives later."</span>
                </div>
                <div class="field">
                    <label for="hold-description">"Description (optional)"</label>
                    <textarea id="hold-description" maxlength="2000" prop:value=description
                        on:input=move |ev| description.set(event_target_value(&ev))></textarea>
                </div>
                <button class="btn btn-primary" type="submit">"Create hold"</button>
            </form>
        </Show>
        {move || message.get().map(|said| said_view(said, "muted"))}
    }
}

/// The "Add a list" section of an active legal hold: paste ids or read a CSV file, preview
/// what each becomes and whether it fits, then add all or nothing.
#[component]
fn AddList(
    id: HoldId,
    revision: RwSignal<u64>,
    said: RwSignal<Option<(bool, String)>>,
) -> impl IntoView {
    let session = Session::get();
    let text = RwSignal::new(String::new());
    let preview = RwSignal::new(None::<Result<ListPreview, String>>);
    let read_file = move |ev: leptos::ev::Event| {
        use wasm_bindgen::JsCast;
        let Some(file) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
            .and_then(|input| input.files())
            .and_then(|files| files.get(0))
        else {
            return;
        };
        spawn_local(async move {
            if let Ok(value) = wasm_bindgen_futures::JsFuture::from(file.text()).await {
                text.set(value.as_string().unwrap_or_default());
                preview.set(None);
            }
        });
    };
    let run = move |apply: bool| {
        let body = text.get_untracked();
        spawn_local(async move {
            match api::hold_list(id, body, None, apply).await {
                Ok(p) if apply => {
                    said.set(Some((
                        true,
                        format!(
                            "Added {} to the hold: {} newly protected.",
                            counted(
                                p.protectable + p.already_protected,
                                "interaction",
                                "interactions"
                            ),
                            count(p.protectable)
                        ),
                    )));
                    preview.set(None);
                    text.set(String::new());
                    revision.update(|r| *r += 1);
                    session.refresh_org();
                }
                Ok(p) => preview.set(Some(Ok(p))),
                Err(e) => {
                    session.handle_error(&e);
                    preview.set(Some(Err(e.to_string())));
                }
            }
        });
    };
    let shown = move || {
        preview.get().map(|p| match p {
            Err(e) => view! { <p class="refusal" role="alert">{e}</p> }.into_any(),
            Ok(p) => {
                let items = [
                    ("Will be protected", p.protectable),
                    ("Already protected: they join the hold", p.already_protected),
                    ("In this hold already", p.in_hold),
                    ("No recording to protect", p.no_recording),
                    ("Not found", p.not_found),
                    ("Listed twice", p.repeated),
                    ("Lines without an id", p.invalid.len() as u32),
                ]
                .into_iter()
                .map(|(k, v)| view! { <dt>{k}</dt><dd>{count(v)}</dd> })
                .collect::<Vec<_>>();
                let refused = p.refusal.map(|e| view! {
                    <p class="refusal" role="alert">{crate::components::protect_preview::refusal(&e)}</p>
                });
                let problems: Vec<_> = p
                    .rows
                    .iter()
                    .filter(|r| matches!(r.outcome, ListOutcome::NotFound | ListOutcome::NoRecording))
                    .take(50)
                    .map(|r| {
                        let what = match r.outcome {
                            ListOutcome::NotFound => "not found",
                            _ => "no recording to protect",
                        };
                        view! { <li>{format!("{}: {what}", r.id)}</li> }
                    })
                    .collect();
                let fits = p.refusal.is_none();
                view! {
                    <dl class="numbers" aria-label="List preview">{items}
                        <dt>"Protected conversations after"</dt><dd>{format!("{} / {}", count(p.after), count(p.cap))}</dd>
                    </dl>
                    {refused}
                    <ul class="muted">{problems}</ul>
                    {fits.then(|| view! {
                        <button class="btn btn-primary" type="button" on:click=move |_| run(true)>"Add the list"</button>
                    })}
                }
                .into_any()
            }
        })
    };
    view! {
        <h2>"Add a list"</h2>
        <div class="field">
            <label for="list-text">"Interaction ids: one a line, or a CSV export (up to 10,000)"</label>
            <textarea id="list-text" prop:value=text
                on:input=move |ev| { text.set(event_target_value(&ev)); preview.set(None); }></textarea>
        </div>
        <div class="field">
            <label for="list-file">"Or read a file"</label>
            <input id="list-file" type="file" accept=".csv,.txt,text/csv,text/plain" on:change=read_file />
        </div>
        <button class="btn" type="button" disabled=move || text.with(|t| t.trim().is_empty())
            on:click=move |_| run(false)>"Preview the list"</button>
        {shown}
    }
}

/// The releases that wait for a second user, each with what the viewer may do about it.
fn pending_view(
    d: &HoldDetails,
    may: bool,
    me: Option<holdfast_core::UserId>,
    decide: impl Fn(String, bool) + Copy + Send + Sync + 'static,
) -> Vec<AnyView> {
    d.pending
        .iter()
        .map(|p| {
            let own = me == Some(p.requested_by_id);
            let what = match p.interactions {
                Some(n) => format!("Release of {} requested", counted(n, "interaction", "interactions")),
                None => "Release requested".to_owned(),
            };
            let asked = format!(
                "{what} by {} on {}{}.",
                p.requested_by,
                format::instant(p.requested_at),
                p.reason
                    .as_ref()
                    .map(|r| format!(": {r}"))
                    .unwrap_or_default()
            );
            let (a, b) = (p.id.clone(), p.id.clone());
            let c = p.id.clone();
            view! {
                <div class="pending" role="status">
                    <p>{asked}</p>
                    {(may && own).then(move || view! {
                        <p class="muted">"Another user with the permission to release approves it."</p>
                        <button class="btn" type="button" on:click=move |_| decide(c.clone(), false)>"Withdraw the request"</button>
                    })}
                    {(may && !own).then(move || view! {
                        <button class="btn btn-danger" type="button" on:click=move |_| decide(a.clone(), true)>"Approve release"</button>
                        " "
                        <button class="btn" type="button" on:click=move |_| decide(b.clone(), false)>"Refuse"</button>
                    })}
                </div>
            }
            .into_any()
        })
        .collect()
}

/// The release section of an active legal hold: what it would do, a reason, and the button;
/// with two-person release, the release that waits and its approval.
fn release_section(
    d: &HoldDetails,
    may: bool,
    me: Option<holdfast_core::UserId>,
    reason: RwSignal<String>,
    release: impl Fn() + Copy + Send + Sync + 'static,
    decide: impl Fn(String, bool) + Copy + Send + Sync + 'static,
) -> AnyView {
    let two_person = d.settings.two_person_release;
    let r = d.release;
    let items = vec![
        ("Interactions it covers", count(r.covered)),
        ("Stay protected by other holds", count(r.stay_protected)),
        ("Become deletable", count(r.deletable)),
        (
            "Recordings past their deletion date",
            count(r.past_due_recordings),
        ),
    ]
    .into_iter()
    .map(|(k, v)| view! { <dt>{k}</dt><dd>{v}</dd> })
    .collect::<Vec<_>>();
    let past_due = (r.past_due_recordings > 0).then(|| {
        view! {
            <p class="refusal">{format!(
                "{} past {} deletion date: the next retention sweep deletes {} after the release.",
                counted(r.past_due_recordings, "recording is", "recordings are"),
                if r.past_due_recordings == 1 { "its" } else { "their" },
                if r.past_due_recordings == 1 { "it" } else { "them" },
            )}</p>
        }
    });
    let reason_error = move || Reason::new(&reason.get()).err().map(|e| e.to_string());
    view! {
        <h2>"Release this hold"</h2>
        <dl class="numbers" aria-label="Release preview">{items}</dl>
        {past_due}
        {pending_view(d, may, me, decide)}
        {(may && d.pending.is_empty()).then(|| view! {
            {two_person.then(|| view! { <p class="muted">"Two-person release: a second user with the permission to release approves it."</p> })}
            <div class="field">
                <label for="release-reason">"Reason (optional)"</label>
                <input id="release-reason" maxlength="500" prop:value=reason
                    on:input=move |ev| reason.set(event_target_value(&ev)) />
                {move || reason_error().map(|e| view! { <span class="refusal" role="alert">{e}</span> })}
            </div>
            <button class="btn btn-danger" type="button" disabled=move || reason_error().is_some()
                on:click=move |_| release()>{if two_person { "Request release" } else { "Release hold" }}</button>
        })}
    }
    .into_any()
}

/// What a release or its approval did, in words.
fn release_said(done: api::Released) -> String {
    match done {
        api::Released::Done(done) => format!(
            "Released the hold: {} no longer protected, {} still protected by other holds.",
            counted(done.deletable, "interaction", "interactions"),
            count(done.stay_protected)
        ),
        api::Released::Interactions(n) => format!(
            "Released {}: no longer protected by the default hold.",
            counted(n, "interaction", "interactions")
        ),
        api::Released::Requested => {
            "Release requested: it waits for a second user's approval.".to_owned()
        }
    }
}

#[component]
pub fn HoldPage(id: HoldId) -> impl IntoView {
    let session = Session::get();
    let revision = RwSignal::new(0u64);
    let details = load(move || {
        revision.track();
        api::hold(id)
    });
    let reason = RwSignal::new(String::new());
    let said = RwSignal::new(None::<(bool, String)>);
    let release = move || {
        let Ok(text) = Reason::new(&reason.get_untracked()) else {
            return;
        };
        let text = text.map(|r| r.as_str().to_owned());
        spawn_local(async move {
            match api::release_hold(id, text).await {
                Ok(done) => {
                    said.set(Some((true, release_said(done))));
                    reason.set(String::new());
                    revision.update(|r| *r += 1);
                    session.refresh_org();
                }
                Err(e) => {
                    session.handle_error(&e);
                    said.set(Some((false, e.to_string())));
                }
            }
        });
    };
    let decide = move |request: String, approve: bool| {
        spawn_local(async move {
            match api::decide_release(id, &request, approve).await {
                Ok(done) => {
                    let text = match (approve, done) {
                        (true, done) => release_said(done),
                        (false, _) => {
                            "The release request is withdrawn or refused: the hold stays."
                                .to_owned()
                        }
                    };
                    said.set(Some((true, text)));
                    revision.update(|r| *r += 1);
                    session.refresh_org();
                }
                Err(e) => {
                    session.handle_error(&e);
                    said.set(Some((false, e.to_string())));
                }
            }
        });
    };
    view! {
        <p><a href="/holds">"← Legal holds"</a></p>
        {move || match details.get() {
            None => notice("loading", "Loading the hold…".to_owned()),
            Some(Err(e)) => {
                session.handle_error(&e);
                notice("alert", e.to_string())
            }
            Some(Ok(d)) => {
                let h = d.hold.clone();
                let status = status_text(&h);
                let active = h.released_at.is_none();
                let may = session.permissions().contains(Permission::ProtectionRevoke);
                let me = session.me().map(|m| m.user_id);
                let release_view = match h.id.is_default() {
                    // The default hold's releases of interactions that wait for a second user.
                    true => (!d.pending.is_empty()).then(|| view! {
                        <h2>"Releases waiting for approval"</h2>
                        {pending_view(&d, may, me, decide)}
                    }.into_any()),
                    false => active.then(|| release_section(&d, may, me, reason, release, decide)),
                };
                let rows: Vec<_> = d.members.iter().map(|m| {
                    let href = format!("/interactions/{}", m.id);
                    view! {
                        <tr>
                            <td><a href=href>{format::instant(m.start_time)}</a></td>
                            <td>{m.queue.clone().unwrap_or_default()}</td>
                            <td>{format::instant(m.added_at)}</td>
                            <td>{m.added_by.clone()}</td>
                            <td>{m.reason.clone().unwrap_or_default()}</td>
                            <td>{if m.protected { "Protected" } else { "Not protected" }}</td>
                        </tr>
                    }
                }).collect();
                let missed = (!d.missed.is_empty()).then(|| {
                    let items: Vec<_> = d.missed.iter().map(|m| {
                        let href = format!("/interactions/{}", m.id);
                        view! { <li><a href=href>{format!("Arrived {}", format::instant(m.at))}</a></li> }
                    }).collect();
                    view! {
                        <div class="alert" role="alert">
                            <p>{format!("{} matched this hold's query but {} not protected: the limit of protected conversations was reached.",
                                counted(d.missed.len() as u64, "interaction", "interactions"),
                                if d.missed.len() == 1 { "was" } else { "were" })}</p>
                            <ul>{items}</ul>
                        </div>
                    }
                });
                let query = h.query.clone().map(|q| {
                    let href = format!("/interactions?{q}");
                    view! { <dt>"Catches"</dt><dd><a href=href>{q.clone()}</a></dd> }
                });
                let members = if rows.is_empty() {
                    notice("empty", "This hold covers no interaction.".to_owned())
                } else {
                    grid(
                        "Interactions of the hold",
                        &["Interaction", "Queue", "Added", "Added by", "Reason", "Now"],
                        rows,
                    )
                };
                view! {
                    <h1 tabindex="-1">{h.name.clone()}</h1>
                    <dl class="facts">
                        <dt>"Case reference"</dt><dd>{h.case_reference.clone().unwrap_or_default()}</dd>
                        {h.description.clone().map(|d| view! { <dt>"Description"</dt><dd class="pre">{d}</dd> })}
                        <dt>"Owner"</dt><dd>{h.owner.clone()}</dd>
                        <dt>"Created"</dt><dd>{format::instant(h.created_at)}</dd>
                        <dt>"Status"</dt><dd>{status}</dd>
                        <dt>"Interactions covered"</dt><dd>{count(h.conversations)}</dd>
                        {query}
                    </dl>
                    {missed}
                    <div class="toolbar no-print">
                        <a class="btn" href=format!("/interactions?hold={}", h.id)>"Open in the interactions view"</a>
                        <a class="btn" href=format!("/api/holds/{}/report.csv", h.id) download="">"Download the report (CSV)"</a>
                        <button class="btn" type="button" on:click=|_| { if let Some(w) = web_sys::window() { let _ = w.print(); } }>"Print"</button>
                    </div>
                    <p class="muted no-print">"Add interactions from the interactions view: select them and choose “Add to hold”."</p>
                    {(active && !h.id.is_default() && session.permissions().contains(Permission::ProtectionApply))
                        .then(|| view! { <AddList id=h.id revision=revision said=said /> })}
                    {release_view}
                    <h2>"Interactions"</h2>
                    {members}
                }.into_any()
            }
        }}
        {move || said.get().map(|said| said_view(said, "announcement"))}
    }
}
