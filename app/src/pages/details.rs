//! The details of one interaction: its recordings (media, role, created, size or duration,
//! state, deletion date or "Protected"), transcripts, attachments, an audio player for calls,
//! and the Protected checkbox, which applies or releases protection through the same preview.

use holdfast_core::api::{ConversationDetails, RecordingInfo, Selection};
use holdfast_core::deletion::EffectiveDeletion;
use holdfast_core::protection::ProtectAction;
use holdfast_core::selection::Selected;
use holdfast_core::{ConversationId, Media, Permission};
use leptos::prelude::*;

use crate::load::{load, notice};

use crate::api;
use crate::components::icons::Lock;
use crate::components::protect_preview::{self, Preview, ProtectPreview};
use crate::format;
use crate::state::Session;

fn size_or_duration(r: &RecordingInfo) -> String {
    match (r.duration_ms, r.size_bytes) {
        (Some(ms), _) => format::duration(ms),
        (None, Some(bytes)) => format!("{} KB", format::count(bytes.div_ceil(1024))),
        (None, None) => "—".to_owned(),
    }
}

fn deletion(r: &RecordingInfo) -> AnyView {
    match r.effective_deletion {
        EffectiveDeletion::Protected => {
            view! { <span class="lock"><Lock />"Protected"</span> }.into_any()
        }
        EffectiveDeletion::Never => "Kept".into_any(),
        EffectiveDeletion::Deleted => "Deleted".into_any(),
        EffectiveDeletion::On(date) => format::date(date).into_any(),
    }
}

fn recording_row(r: &RecordingInfo) -> impl IntoView + use<> {
    let player = (r.has_media && r.media == Media::Call).then(|| {
        let src = api::media_url(r.id);
        view! { <audio controls preload="none" src=src aria-label="Play the call recording"></audio> }
    });
    // "Why this date": the policy that set it on arrival, or who set it by hand, and when.
    let reason = r
        .date_reason
        .as_deref()
        .unwrap_or(holdfast_core::retention::DATE_REASON_UNRECORDED);
    let when = r
        .date_set_at
        .map(|t| format!(" ({})", format::instant(t)))
        .unwrap_or_default();
    let why = view! { <div class="why muted">{format!("Why this date: {reason}{when}")}</div> };
    view! {
        <tr>
            <td>{r.media.as_str()}</td>
            <td>{match r.role { holdfast_core::RecordingRole::Policy => "Policy", holdfast_core::RecordingRole::Adhoc => "Ad hoc" }}</td>
            <td>{format::instant(r.created_at)}</td>
            <td>{size_or_duration(r)}</td>
            <td>{r.file_state.as_str()}</td>
            <td>{deletion(r)}{why}</td>
            <td>{player}</td>
        </tr>
    }
}

fn texts(d: &ConversationDetails) -> impl IntoView + use<> {
    let items: Vec<_> = d
        .recordings
        .iter()
        .filter_map(|r| {
            let transcript = r.transcript.clone().map(|t| view! { <pre class="transcript">{t}</pre> });
            let attachments: Vec<_> = r
                .attachments
                .iter()
                .map(|a| {
                    let href = api::attachment_url(&a.id);
                    view! { <li><a href=href download=a.name.clone()>{a.name.clone()}</a>" "<span class="muted">{format!("{} bytes", format::count(a.size_bytes))}</span></li> }
                })
                .collect();
            (transcript.is_some() || !attachments.is_empty()).then(|| {
                view! {
                    <section class="text-block" aria-label=format!("{} transcript and attachments", r.media.as_str())>
                        <h3>{format!("{} transcript", r.media.as_str())}</h3>
                        {transcript}
                        <ul>{attachments}</ul>
                    </section>
                }
            })
        })
        .collect();
    items
}

/// The active holds that cover the interaction, linked to their pages.
fn holds_text(d: &holdfast_core::api::ConversationDetails) -> AnyView {
    if d.holds.is_empty() {
        return view! { "None: deletable when its date comes" }.into_any();
    }
    let links: Vec<_> = d
        .holds
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let name = match &h.case_reference {
                Some(case) => format!("{} ({case})", h.name),
                None => h.name.clone(),
            };
            view! { {(i > 0).then_some(", ")}<a href=format!("/holds/{}", h.id)>{name}</a> }
        })
        .collect();
    view! { <span class="hold-list">{links}</span> }.into_any()
}

#[component]
pub fn DetailsPage(id: ConversationId) -> impl IntoView {
    let session = Session::get();
    // Back to the interactions view as it was (its filters, sort and page).
    let back = crate::routes::Router::get().last_view;
    let revision = RwSignal::new(0u64);
    let preview = RwSignal::new(None::<Preview>);
    let selected = RwSignal::new(Selected::Nothing);
    let copied = RwSignal::new(false);
    let details = load(move || {
        revision.track();
        api::details(id)
    });
    let perms = move || session.permissions();
    let toggle = move |protected: bool| {
        let action = if protected {
            ProtectAction::Release
        } else {
            ProtectAction::Protect
        };
        protect_preview::open(preview, action, Selection::Ids { ids: vec![id] }, false);
    };
    let copy_link = move |_| {
        if let Some(w) = web_sys::window() {
            let href = w.location().href().unwrap_or_default();
            let _ = w.navigator().clipboard().write_text(&href);
            copied.set(true);
        }
    };
    view! {
        <p><a href=move || back.get()>"← Interactions"</a></p>
        {move || match details.get() {
            None => notice("loading", "Loading the interaction…".to_owned()),
            Some(Err(e)) => {
                session.handle_error(&e);
                notice("alert", e.to_string())
            }
            Some(Ok(d)) => {
                let c = d.conversation.clone();
                let protected = c.protected;
                let may = if protected { perms().contains(Permission::ProtectionRevoke) } else { perms().contains(Permission::ProtectionApply) };
                let since = d.protection.clone().map(|p| {
                    let reason = p.reason.map(|r| format!(" — {r}")).unwrap_or_default();
                    format!("Protected since {} by {}{reason}", format::instant(p.since), p.by)
                });
                let rows: Vec<_> = d.recordings.iter().map(recording_row).collect();
                view! {
                    <h1 tabindex="-1">{format!("Interaction of {}", format::instant(c.start_time))}</h1>
                    <div class="toolbar">
                        <label class="protected-toggle">
                            // The box changes only when the change is confirmed and saved: the click
                            // opens the preview and leaves it as it is.
                            <input type="checkbox" prop:checked=protected disabled=!may
                                on:click=move |ev| { ev.prevent_default(); toggle(protected) } />
                            {protected.then(|| view! { <Lock /> })}
                            "Protected"
                        </label>
                        {since.map(|s| view! { <span class="muted">{s}</span> })}
                        <span class="spacer"></span>
                        <button class="btn" type="button" on:click=copy_link>"Copy link"</button>
                        {move || copied.get().then(|| view! { <span role="status" class="muted">"Link copied"</span> })}
                    </div>
                    <div class="tabs" role="tablist" aria-label="Interaction">
                        <button class="tab" type="button" role="tab" id="tab-details" aria-selected="true"
                            aria-controls="panel-details">"Details"</button>
                    </div>
                    <section role="tabpanel" id="panel-details" aria-labelledby="tab-details">
                    <dl class="facts">
                        <dt>"Holds"</dt><dd>{holds_text(&d)}</dd>
                        <dt>"Direction"</dt><dd>{c.direction.as_str()}</dd>
                        <dt>"Duration"</dt><dd>{format::duration(c.duration_ms)}</dd>
                        <dt>"Queue"</dt><dd>{c.queue.clone().unwrap_or_default()}</dd>
                        <dt>"Users"</dt><dd>{c.agents.join(", ")}</dd>
                        <dt>"Remote party"</dt><dd>{c.remote_party.clone().unwrap_or_default()}</dd>
                        <dt>"Wrap-up"</dt><dd>{c.wrap_up.clone().unwrap_or_default()}</dd>
                    </dl>
                    <h2>"Recording Information"</h2>
                    {if d.recordings.is_empty() {
                        notice("empty", "This interaction has no recording.".to_owned())
                    } else {
                        view! {
                            <div class="table-wrap">
                                <table class="grid" aria-label="Recordings">
                                    <thead><tr>
                                        <th scope="col">"Media"</th><th scope="col">"Role"</th><th scope="col">"Created"</th>
                                        <th scope="col">"Size or duration"</th><th scope="col">"State"</th>
                                        <th scope="col">"Deletion date"</th><th scope="col">"Play"</th>
                                    </tr></thead>
                                    <tbody>{rows}</tbody>
                                </table>
                            </div>
                        }.into_any()
                    }}
                    {texts(&d)}
                    </section>
                }.into_any()
            }
        }}
        <ProtectPreview preview=preview selected=selected revision=revision />
    }
}
