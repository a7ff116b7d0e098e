//! The app's components in a real browser (headless Chromium, run by `cargo xtask test`): the
//! table's checkboxes and the protect preview, with core's rules deciding what they show.

use chrono::{TimeZone, Utc};
use holdfast_app::components::conversation_table::ConversationTable;
use holdfast_app::components::protect_preview::{Preview, ProtectPreview};
use holdfast_app::state::Session;
use holdfast_core::api::{ConversationRow, Selection};
use holdfast_core::protection::{
    Count, OrgStatus, PlanError, ProtectAction, SelectionSummary, plan_protection,
};
use holdfast_core::selection::Selected;
use holdfast_core::view::{Column, Sort};
use holdfast_core::{Cap, ConversationId, Direction, Media, Permission, Permissions};
use leptos::mount::mount_to;
use leptos::prelude::*;
use leptos::task::tick;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

fn host() -> web_sys::HtmlElement {
    let doc = document();
    let host = doc.create_element("div").unwrap();
    doc.body().unwrap().append_child(&host).unwrap();
    host.unchecked_into()
}

fn row(n: u128, protected: bool) -> ConversationRow {
    let start = Utc.with_ymd_and_hms(2026, 11, 2, 9, 30, 0).unwrap();
    ConversationRow {
        id: ConversationId::from_uuid(uuid::Uuid::from_u128(n)),
        start_time: start,
        end_time: start + chrono::Duration::seconds(245),
        duration_ms: 245_000,
        direction: Direction::Inbound,
        queue: Some("Billing".to_owned()),
        agents: vec!["Ana Berg".to_owned()],
        remote_party: Some(format!("+1 555 000 {n:04}")),
        wrap_up: None,
        media: vec![Media::Call],
        recording_count: 1,
        protected,
        deletion_date: Some(start + chrono::Duration::days(180)),
    }
}

fn checkboxes(host: &web_sys::HtmlElement) -> Vec<web_sys::HtmlInputElement> {
    let list = host.query_selector_all("input[type=checkbox]").unwrap();
    (0..list.length())
        .map(|i| list.item(i).unwrap().unchecked_into())
        .collect()
}

async fn settle() {
    for _ in 0..3 {
        tick().await;
    }
}

#[wasm_bindgen_test]
async fn header_checkbox_selects_the_page_and_shows_mixed() {
    let host = host();
    let selected = RwSignal::new(Selected::Nothing);
    let rows = vec![row(1, false), row(2, true), row(3, false)];
    let _mounted = mount_to(host.clone(), move || {
        view! {
            <ConversationTable rows=rows.clone() columns=Column::ALL.to_vec() sort=Sort::default()
                selected=selected on_sort=Callback::new(|_| ()) />
        }
    });
    let boxes = checkboxes(&host);
    assert_eq!(boxes.len(), 4);
    let header = &boxes[0];
    assert_eq!(
        header.get_attribute("aria-label").as_deref(),
        Some("Select all")
    );
    assert_eq!(
        header.get_attribute("aria-checked").as_deref(),
        Some("false")
    );

    header.click();
    settle().await;
    assert!(
        boxes[1..].iter().all(|b| b.checked()),
        "every row is ticked"
    );
    assert_eq!(
        header.get_attribute("aria-checked").as_deref(),
        Some("true")
    );
    assert_eq!(selected.get_untracked().count(3), 3);

    boxes[2].click();
    settle().await;
    assert_eq!(
        header.get_attribute("aria-checked").as_deref(),
        Some("mixed")
    );
    assert!(header.indeterminate());
    assert_eq!(selected.get_untracked().count(3), 2);

    // The protected row shows the lock with its accessible name, and "Protected" as its date.
    // Exactly one row (the second) is protected: one lock, in that row.
    let locks = host
        .query_selector_all("svg[aria-label=Protected]")
        .unwrap();
    assert_eq!(locks.length(), 1);
    let second_row = host
        .query_selector_all("tbody tr")
        .unwrap()
        .item(1)
        .unwrap();
    assert!(
        second_row
            .unchecked_ref::<web_sys::Element>()
            .query_selector("svg[aria-label=Protected]")
            .unwrap()
            .is_some()
    );
    let text = host.text_content().unwrap_or_default();
    assert!(
        text.contains("Protected") && text.contains("4:05") && text.contains("Billing"),
        "{text}"
    );
}

#[wasm_bindgen_test]
async fn over_the_cap_the_preview_refuses_and_offers_no_confirmation() {
    let host = host();
    let org = OrgStatus {
        protected: 962,
        cap: Cap::DEFAULT,
    };
    let perms = Permissions::of(&[Permission::ProtectionApply]);
    let sel = SelectionSummary {
        protectable: Count::Exact(40),
        ..SelectionSummary::default()
    };
    let refused = plan_protection(&org, perms, ProtectAction::Protect, &sel).unwrap_err();
    assert_eq!(
        refused,
        PlanError::OverCap {
            new: Count::Exact(40),
            headroom: 38,
            cap: 1000
        }
    );
    let _mounted = mount_to(host.clone(), move || {
        Session::provide();
        let preview = RwSignal::new(Some(Preview::Refused(ProtectAction::Protect, refused)));
        view! { <ProtectPreview preview=preview selected=RwSignal::new(Selected::Nothing) revision=RwSignal::new(0) /> }
    });
    settle().await;
    let alert = host
        .query_selector("[role=alert]")
        .unwrap()
        .expect("an alert");
    let text = alert.text_content().unwrap_or_default();
    assert!(
        text.contains("by 2") && text.contains("Only 38 more") && text.contains("Nothing was sent"),
        "{text}"
    );
    let buttons: Vec<String> = {
        let list = host.query_selector_all("button").unwrap();
        (0..list.length())
            .map(|i| list.item(i).unwrap().text_content().unwrap_or_default())
            .collect()
    };
    assert_eq!(buttons, vec!["Close".to_owned()]);
}

#[wasm_bindgen_test]
async fn a_plan_shows_the_numbers_against_the_cap() {
    let host = host();
    let org = OrgStatus {
        protected: 962,
        cap: Cap::DEFAULT,
    };
    let perms = Permissions::of(&[Permission::ProtectionApply]);
    let sel = SelectionSummary {
        protected: 3,
        protectable: Count::Exact(25),
        without_recording: Count::Exact(2),
        past_due_recordings: 0,
        held: 0,
    };
    let plan = plan_protection(&org, perms, ProtectAction::Protect, &sel).unwrap();
    let _mounted = mount_to(host.clone(), move || {
        Session::provide();
        let selection = Selection::Ids { ids: vec![] };
        let preview = RwSignal::new(Some(Preview::Plan(plan, selection)));
        view! { <ProtectPreview preview=preview selected=RwSignal::new(Selected::Nothing) revision=RwSignal::new(0) /> }
    });
    settle().await;
    let numbers = host
        .query_selector("dl")
        .unwrap()
        .expect("the numbers")
        .text_content()
        .unwrap_or_default();
    for expected in [
        "Will be protected25",
        "Already protected3",
        "No recording to protect2",
        "962 / 1,000",
        "987 / 1,000",
    ] {
        assert!(numbers.contains(expected), "{expected} in {numbers}");
    }
    assert!(
        host.query_selector("input#reason").unwrap().is_some(),
        "a reason can be entered"
    );
    let confirm = host
        .query_selector("button.btn-primary")
        .unwrap()
        .expect("a confirm button");
    assert_eq!(confirm.text_content().as_deref(), Some("Protect"));
}
