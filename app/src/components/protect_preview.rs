//! The preview shown before a protect or release is sent: the plan that core computes in the
//! browser from the selection's counts and the organization's standing, or the reason it is
//! refused. Nothing is sent while the plan is refused; a plan is sent only on confirmation.

use holdfast_core::api::Selection;
use holdfast_core::domain::REASON_MAX_CHARS;
use holdfast_core::holds::plan_add;
use holdfast_core::protection::{Count, PlanError, ProtectAction, ProtectPlan, plan_protection};
use holdfast_core::{HoldId, Reason, selection::Selected};
use leptos::prelude::*;

use crate::load::notice;
use leptos::task::spawn_local;
use std::sync::atomic::{AtomicU64, Ordering};
use wasm_bindgen::JsCast;

use crate::api;
use crate::format::{count, count_of, counted, counted_of};
use crate::state::Session;

/// Opens the preview of `action` on `selection`: fetches the selection's counts and the
/// organization's standing, and shows core's plan or its refusal. Nothing changes yet.
/// `into_hold`: a protect into a legal hold, chosen in the dialog among the active ones.
pub fn open(
    preview: RwSignal<Option<Preview>>,
    action: ProtectAction,
    selection: Selection,
    into_hold: bool,
) {
    let session = Session::get();
    let ticket = NEXT_TICKET.fetch_add(1, Ordering::Relaxed);
    let loading = Preview::Loading(action, ticket);
    preview.set(Some(loading.clone()));
    let perms = session.permissions_untracked();
    spawn_local(async move {
        let holds = match into_hold {
            false => Ok(Vec::new()),
            true => api::holds("").await.map(|list| {
                list.entities
                    .into_iter()
                    .filter(|h| !h.id.is_default() && h.released_at.is_none())
                    .map(|h| (h.id, h.name))
                    .collect::<Vec<_>>()
            }),
        };
        let shown = match (holds, api::summary(selection.clone()).await) {
            (Ok(holds), _) if into_hold && holds.is_empty() => Preview::Failed(
                "There is no active legal hold. Create one on the Legal holds page first."
                    .to_owned(),
            ),
            (Ok(holds), Ok(answer)) => {
                session.org.set(Some(answer.org));
                match crate::state::org_status(answer.org) {
                    Some(org) if into_hold => match plan_add(&org, perms, &answer.summary) {
                        Ok(plan) => Preview::IntoHold(plan, selection, holds),
                        Err(e) => Preview::Refused(action, e),
                    },
                    Some(org) => match plan_protection(&org, perms, action, &answer.summary) {
                        Ok(plan) => Preview::Plan(plan, selection),
                        Err(e) => Preview::Refused(action, e),
                    },
                    None => {
                        Preview::Failed("The organization's limit could not be read.".to_owned())
                    }
                }
            }
            (Err(e), _) | (_, Err(e)) => {
                session.handle_error(&e);
                Preview::Failed(e.to_string())
            }
        };
        // Only into the preview that asked: not after it was closed, nor over a newer one.
        if preview.with_untracked(|p| p.as_ref() == Some(&loading)) {
            preview.set(Some(shown));
        }
    });
}

/// Tells previews apart, so a late answer never lands in a later one.
static NEXT_TICKET: AtomicU64 = AtomicU64::new(0);

/// What the dialog shows.
#[derive(Clone, Debug, PartialEq)]
pub enum Preview {
    /// Counting the selection; the number names this opening of the preview.
    Loading(ProtectAction, u64),
    Plan(ProtectPlan, Selection),
    /// A protect into a legal hold: the plan (the same for every hold: the cap decides) and
    /// the active holds to choose from, by id and name.
    IntoHold(ProtectPlan, Selection, Vec<(HoldId, String)>),
    Sending(ProtectAction),
    Refused(ProtectAction, PlanError),
    Failed(String),
}

impl Preview {
    fn action(&self) -> Option<ProtectAction> {
        match self {
            Preview::Loading(a, _) | Preview::Sending(a) | Preview::Refused(a, _) => Some(*a),
            Preview::Plan(plan, _) | Preview::IntoHold(plan, ..) => Some(plan.action),
            Preview::Failed(_) => None,
        }
    }
}

fn title(action: ProtectAction) -> &'static str {
    match action {
        ProtectAction::Protect => "Protect recordings",
        ProtectAction::Release => "Release recordings",
    }
}

/// A refusal in words.
pub fn refusal(e: &PlanError) -> String {
    match e {
        PlanError::OverCap {
            new: Count::Exact(new),
            headroom,
            cap,
        } => format!(
            "Over the limit: protecting {} would exceed the limit of {} protected conversations by {}. Only {} more can be protected. Nothing was sent.",
            counted(*new, "more interaction", "more interactions"),
            count(*cap),
            count(new.saturating_sub(*headroom)),
            count(*headroom)
        ),
        // Counting stopped past the headroom: what is known is enough to refuse.
        PlanError::OverCap { new, headroom, cap } => format!(
            "Over the limit: protecting {} would exceed the limit of {} protected conversations. Only {} more can be protected. Nothing was sent.",
            counted_of(*new, "more interaction", "more interactions"),
            count(*cap),
            count(*headroom)
        ),
        PlanError::NothingToDo {
            unchanged,
            without_recording,
        } => format!(
            "Nothing to do: {} already in that state and {} without a recording that can be protected.",
            count_of(*unchanged),
            count_of(*without_recording)
        ),
        PlanError::EmptySelection => "No interaction is selected.".to_owned(),
        PlanError::MissingPermission { permission } => {
            format!("You do not have the permission {permission}.")
        }
        PlanError::UnknownHold => "That legal hold does not exist.".to_owned(),
        PlanError::HoldReleased => {
            "That legal hold is released: it takes no more interactions.".to_owned()
        }
    }
}

fn numbers(plan: &ProtectPlan, into_hold: bool) -> AnyView {
    let already = match into_hold {
        true => "Already protected: they join the hold",
        false => "Already protected",
    };
    let mut rows: Vec<(&str, String)> = match plan.action {
        ProtectAction::Protect => vec![
            ("Will be protected", count(plan.change)),
            (already, count_of(plan.unchanged)),
            ("No recording to protect", count_of(plan.without_recording)),
            (
                "Protected conversations now",
                format!("{} / {}", count(plan.before), count(plan.cap)),
            ),
            (
                "After protecting",
                format!("{} / {}", count(plan.after), count(plan.cap)),
            ),
        ],
        ProtectAction::Release => vec![
            ("Will be released", count(plan.change)),
            ("Not protected", count_of(plan.unchanged)),
            (
                "Recordings past their deletion date",
                count(plan.past_due_recordings),
            ),
            (
                "Protected conversations now",
                format!("{} / {}", count(plan.before), count(plan.cap)),
            ),
            (
                "After releasing",
                format!("{} / {}", count(plan.after), count(plan.cap)),
            ),
        ],
    };
    if plan.held > 0 {
        rows.insert(1, ("Stay protected by a legal hold", count(plan.held)));
    }
    let items: Vec<_> = rows
        .into_iter()
        .map(|(k, v)| view! { <dt>{k}</dt><dd>{v}</dd> })
        .collect();
    view! { <dl class="numbers" aria-label="Preview">{items}</dl> }.into_any()
}

/// The dialog. After a commit it clears the selection, bumps `revision` (so the table and the
/// cap meter show the new state without a reload), closes, and says what was done in a polite
/// live region beside it.
#[component]
pub fn ProtectPreview(
    preview: RwSignal<Option<Preview>>,
    selected: RwSignal<Selected>,
    revision: RwSignal<u64>,
) -> impl IntoView {
    let session = Session::get();
    let reason = RwSignal::new(String::new());
    let reason_error = move || Reason::new(&reason.get()).err().map(|e| e.to_string());
    // The legal hold chosen for a protect into one (empty: the first listed).
    let hold_choice = RwSignal::new(String::new());
    // The result of a commit, said politely once the dialog has closed.
    let announcement = RwSignal::new(String::new());
    // One native modal <dialog> while a preview is open: it keeps focus inside, makes the page
    // behind it inert and closes on Escape. Closing gives the focus back to the control that
    // opened it, or, when that control is gone or disabled (the commit cleared the selection,
    // the details were reloaded), to the page's heading.
    let dialog = NodeRef::<leptos::html::Dialog>::new();
    let opener = StoredValue::new_local(None::<web_sys::HtmlElement>);
    let is_open = Memo::new(move |_| preview.with(Option::is_some));
    Effect::new(move |_| {
        if let Some(d) = dialog.get()
            && !d.open()
        {
            // A new preview: the last result is said again if it comes again.
            announcement.set(String::new());
            opener.set_value(
                document()
                    .active_element()
                    .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok()),
            );
            let _ = d.show_modal();
        }
    });
    let sending = move || preview.with(|p| matches!(p, Some(Preview::Sending(_))));
    let close = move || {
        if let Some(d) = dialog.get_untracked() {
            d.close();
        }
        reason.set(String::new());
        hold_choice.set(String::new());
        preview.set(None);
        let usable = |e: &web_sys::HtmlElement| e.is_connected() && !e.has_attribute("disabled");
        let target = opener.get_value().filter(usable).or_else(|| {
            document()
                .query_selector("main h1")
                .ok()
                .flatten()
                .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
        });
        if let Some(target) = target {
            let _ = target.focus();
        }
    };
    let confirm = move |_| {
        let (plan, selection, hold) = match preview.get_untracked() {
            Some(Preview::Plan(plan, selection)) => (plan, selection, None),
            Some(Preview::IntoHold(plan, selection, holds)) => {
                let chosen = hold_choice.get_untracked();
                let hold = holds
                    .iter()
                    .find(|(id, _)| id.to_string() == chosen)
                    .or(holds.first())
                    .cloned();
                (plan, selection, hold)
            }
            _ => return,
        };
        let Ok(text) = Reason::new(&reason.get_untracked()) else {
            return;
        };
        preview.set(Some(Preview::Sending(plan.action)));
        spawn_local(async move {
            let text = text.map(|r| r.as_str().to_owned());
            match api::change_protection(plan.action, selection, text, hold.as_ref().map(|h| h.0))
                .await
            {
                Ok(done) => {
                    session.org.set(Some(done.org));
                    selected.set(Selected::Nothing);
                    revision.update(|r| *r += 1);
                    let verb = match plan.action {
                        ProtectAction::Protect => "Protected",
                        ProtectAction::Release => "Released",
                    };
                    // Closed once the page has drawn the cleared selection, so that the
                    // focus does not go back to a Protect button about to be disabled.
                    set_timeout(close, std::time::Duration::ZERO);
                    let said = match &hold {
                        _ if done.requested => {
                            "Release requested: it waits for a second user's approval on the default hold's page.".to_owned()
                        }
                        Some((_, name)) => format!(
                            "Added {} to {name}: {} newly protected.",
                            counted(done.changed + done.joined, "interaction", "interactions"),
                            count(done.changed)
                        ),
                        None => format!(
                            "{verb} {}.",
                            counted(done.changed, "interaction", "interactions")
                        ),
                    };
                    announcement.set(said.clone());
                    // Shown for a while, then gone, unless something newer was said.
                    set_timeout(
                        move || {
                            if announcement.get_untracked() == said {
                                announcement.set(String::new());
                            }
                        },
                        std::time::Duration::from_secs(10),
                    );
                }
                Err(e) => {
                    session.handle_error(&e);
                    preview.set(Some(Preview::Failed(e.to_string())));
                }
            }
        });
    };
    let heading = move || {
        preview.with(|p| match p {
            Some(Preview::IntoHold(..)) => "Add to legal hold",
            p => p
                .as_ref()
                .and_then(Preview::action)
                .map_or("Preview", title),
        })
    };
    let confirm_label = move || {
        preview.with(|p| match p {
            Some(Preview::Plan(plan, _)) => Some(match plan.action {
                ProtectAction::Protect => "Protect",
                ProtectAction::Release => "Release",
            }),
            Some(Preview::IntoHold(..)) => Some("Add to hold"),
            _ => None,
        })
    };
    let content = move || {
        preview.get().map(|p| match p {
            Preview::Loading(..) => notice("loading", "Counting the selection…".to_owned()),
            Preview::Sending(_) => notice("loading", "Saving…".to_owned()),
            Preview::IntoHold(plan, _, holds) => {
                // The first hold is chosen until another is.
                let first = holds.first().map(|(id, _)| id.to_string()).unwrap_or_default();
                let chosen = move || {
                    let c = hold_choice.get();
                    if c.is_empty() { first.clone() } else { c }
                };
                let options: Vec<_> = holds
                    .into_iter()
                    .map(|(id, name)| view! { <option value=id.to_string()>{name}</option> })
                    .collect();
                view! {
                    <div class="field">
                        <label for="hold-choice">"Legal hold"</label>
                        <select id="hold-choice" prop:value=chosen
                            on:change=move |ev| hold_choice.set(event_target_value(&ev))>{options}</select>
                    </div>
                    {numbers(&plan, true)}
                    <div class="field">
                        <label for="reason">"Reason (optional)"</label>
                        <input id="reason" maxlength=REASON_MAX_CHARS.to_string()
                            prop:value=reason on:input=move |ev| reason.set(event_target_value(&ev)) />
                        {move || reason_error().map(|e| view! { <span class="refusal" role="alert">{e}</span> })}
                    </div>
                }.into_any()
            }
            Preview::Plan(plan, _) => {
                let past_due = (plan.action == ProtectAction::Release && plan.past_due_recordings > 0).then(|| {
                    view! {
                        <p class="refusal">{match plan.past_due_recordings {
                            1 => "1 recording is past its deletion date and will be deleted by the next retention sweep after release.".to_owned(),
                            n => format!(
                                "{} recordings are past their deletion date and will be deleted by the next retention sweep after release.",
                                count(n)
                            ),
                        }}</p>
                    }
                });
                let reason_field = (plan.action == ProtectAction::Protect).then(|| view! {
                    <div class="field">
                        <label for="reason">"Reason (optional)"</label>
                        <input id="reason" maxlength=REASON_MAX_CHARS.to_string() placeholder="Case or matter reference"
                            prop:value=reason on:input=move |ev| reason.set(event_target_value(&ev)) />
                        {move || reason_error().map(|e| view! { <span class="refusal" role="alert">{e}</span> })}
                    </div>
                });
                view! { {numbers(&plan, false)} {past_due} {reason_field} }.into_any()
            }
            Preview::Refused(_, e) => notice("refusal", refusal(&e)),
            Preview::Failed(e) => notice("refusal", e),
        })
    };
    let dialog_view = move || {
        is_open.get().then(|| {
            view! {
                <dialog class="dialog" node_ref=dialog aria-labelledby="preview-title"
                    on:cancel=move |ev: leptos::ev::Event| {
                        // Escape closes, except while the change is being saved.
                        ev.prevent_default();
                        if !sending() { close(); }
                    }>
                    <h2 id="preview-title">{heading}</h2>
                    {content}
                    <div class="dialog-actions">
                        <button class="btn" type="button" disabled=sending on:click=move |_| close()>
                            {move || if confirm_label().is_some() { "Cancel" } else { "Close" }}
                        </button>
                        {move || confirm_label().map(|label| view! {
                            <button class="btn btn-primary" type="button" on:click=confirm
                                disabled=move || reason_error().is_some()>{label}</button>
                        })}
                    </div>
                </dialog>
            }
        })
    };
    view! {
        <p class="announcement" role="status" aria-live="polite">{move || announcement.get()}</p>
        {dialog_view}
    }
}
