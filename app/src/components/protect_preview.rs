//! The preview shown before a protect or release is sent: the plan that core computes in the
//! browser from the selection's counts and the organization's standing, or the reason it is
//! refused. Nothing is sent from here while the plan is refused.

use holdfast_core::protection::{PlanError, ProtectAction, ProtectPlan};
use leptos::prelude::*;

use crate::format::count;

/// What the dialog shows.
#[derive(Clone, Debug, PartialEq)]
pub enum Preview {
    Loading(ProtectAction),
    Plan(ProtectPlan),
    Refused(ProtectAction, PlanError),
    Failed(String),
}

fn title(action: ProtectAction) -> &'static str {
    match action {
        ProtectAction::Protect => "Protect recordings",
        ProtectAction::Release => "Release recordings",
    }
}

fn refusal(e: &PlanError) -> String {
    match e {
        PlanError::OverCap { new, headroom, cap } => format!(
            "Over the limit: protecting {} more interactions would exceed the limit of {} protected conversations by {}. Only {} more can be protected. Nothing was sent.",
            count(*new),
            count(*cap),
            count(new - headroom),
            count(*headroom)
        ),
        other => format!("{}.", capitalize(&other.to_string())),
    }
}

fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map(|c| c.to_uppercase().collect::<String>() + chars.as_str()).unwrap_or_default()
}

fn numbers(plan: &ProtectPlan) -> AnyView {
    let rows: Vec<(&str, String)> = match plan.action {
        ProtectAction::Protect => vec![
            ("Will be protected", count(plan.change)),
            ("Already protected", count(plan.unchanged)),
            ("No recording to protect", count(plan.without_recording)),
            ("Protected conversations now", format!("{} / {}", count(plan.before), count(plan.cap))),
            ("After protecting", format!("{} / {}", count(plan.after), count(plan.cap))),
        ],
        ProtectAction::Release => vec![
            ("Will be released", count(plan.change)),
            ("Not protected", count(plan.unchanged)),
            ("Recordings past their deletion date", count(plan.past_due_recordings)),
            ("Protected conversations now", format!("{} / {}", count(plan.before), count(plan.cap))),
            ("After releasing", format!("{} / {}", count(plan.after), count(plan.cap))),
        ],
    };
    let items: Vec<_> = rows.into_iter().map(|(k, v)| view! { <dt>{k}</dt><dd>{v}</dd> }).collect();
    view! { <dl class="numbers" aria-label="Preview">{items}</dl> }.into_any()
}

#[component]
pub fn ProtectPreview(preview: RwSignal<Option<Preview>>) -> impl IntoView {
    let close = move |_| preview.set(None);
    move || {
        preview.get().map(|p| {
            let action = match &p {
                Preview::Loading(a) | Preview::Refused(a, _) => Some(*a),
                Preview::Plan(plan) => Some(plan.action),
                Preview::Failed(_) => None,
            };
            let heading = action.map(title).unwrap_or("Preview");
            let content = match &p {
                Preview::Loading(_) => view! { <p role="status">"Counting the selection…"</p> }.into_any(),
                Preview::Plan(plan) => {
                    let past_due = (plan.action == ProtectAction::Release && plan.past_due_recordings > 0).then(|| {
                        view! {
                            <p class="refusal">{format!(
                                "{} recordings are past their deletion date and will be deleted by the next retention sweep after release.",
                                count(plan.past_due_recordings)
                            )}</p>
                        }
                    });
                    view! { {numbers(plan)} {past_due} }.into_any()
                }
                Preview::Refused(_, e) => view! { <p class="refusal" role="alert">{refusal(e)}</p> }.into_any(),
                Preview::Failed(e) => view! { <p class="refusal" role="alert">{e.clone()}</p> }.into_any(),
            };
            view! {
                <div class="overlay">
                    <div class="dialog" role="dialog" aria-modal="true" aria-labelledby="preview-title">
                        <h2 id="preview-title">{heading}</h2>
                        {content}
                        <div class="dialog-actions">
                            <button class="btn" type="button" on:click=close>"Close"</button>
                        </div>
                    </div>
                </div>
            }
        })
    }
}
