//! End-to-end tests: the release server with demo data, driven through headless Chromium.
//!
//! One test binary for every browser flow (it links once, and tests share the harness). Run with
//! `cargo xtask test`, which builds the app and the server and sets the environment the harness
//! reads.

use std::time::{Duration, Instant};

use fantoccini::Locator;
use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::elements::Element;
use fantoccini::key::Key;
use holdfast_core::format::{count, counted};
use holdfast_e2e::Harness;

const PATIENCE: Duration = Duration::from_secs(20);

/// Waits for the first element matching `css`.
async fn find(h: &Harness, css: &str) -> Element {
    h.client()
        .wait()
        .at_most(PATIENCE)
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no element matches {css:?}: {e}"))
}

async fn all(h: &Harness, css: &str) -> Vec<Element> {
    h.client()
        .find_all(Locator::Css(css))
        .await
        .expect("the browser answers")
}

/// Polls `check` until it gives `Some`, or panics after a while with a screenshot.
async fn eventually<T, F, Fut>(h: &Harness, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let started = Instant::now();
    loop {
        if let Some(value) = check().await {
            return value;
        }
        if started.elapsed() > PATIENCE {
            let shot = h.screenshot(&format!("failed-{what}")).await;
            panic!(
                "gave up waiting for {what}; screenshot at {}",
                shot.display()
            );
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn text(h: &Harness, css: &str) -> String {
    find(h, css)
        .await
        .text()
        .await
        .expect("the element has text")
}

/// The text of the first element matching `css`, if it is there now (for `eventually`).
async fn text_now(h: &Harness, css: &str) -> Option<String> {
    h.client()
        .find(Locator::Css(css))
        .await
        .ok()?
        .text()
        .await
        .ok()
}

/// Clicks the first element matching `css`, once it is there.
async fn click(h: &Harness, css: &str) {
    find(h, css)
        .await
        .click()
        .await
        .unwrap_or_else(|e| panic!("{css} does not click: {e}"));
}

/// Confirms the open preview, waits for the commit's message and closes the dialog; returns
/// the message.
async fn confirm(h: &Harness) -> String {
    click(h, "dialog button.btn-primary").await;
    dialog_closed(h).await;
    announced(h).await
}

/// What the page said politely after a commit (its live region), once it says something.
async fn announced(h: &Harness) -> String {
    let region = find(h, "p.announcement[role=status][aria-live=polite]").await;
    eventually(h, "the result to be announced", || async {
        region.text().await.ok().filter(|t| !t.is_empty())
    })
    .await
}

/// Waits until no dialog is open (the preview is removed from the page when it closes).
async fn dialog_closed(h: &Harness) {
    eventually(h, "the dialog to close", || async {
        all(h, "dialog").await.is_empty().then_some(())
    })
    .await;
}

async fn sign_in(h: &Harness, username: &str, password: &str) {
    h.client()
        .goto(&h.url("/interactions"))
        .await
        .expect("the browser opens the app");
    find(h, "input#username")
        .await
        .send_keys(username)
        .await
        .expect("typing works");
    find(h, "input#password")
        .await
        .send_keys(password)
        .await
        .expect("typing works");
    find(h, "form button[type=submit]")
        .await
        .click()
        .await
        .expect("the button clicks");
}

/// How the listed conversations stand, read one by one through the API (rule 1): how many can
/// be protected (unprotected, with a policy recording that is not deleted), how many are
/// protected, and how many have nothing to protect.
async fn standings(h: &Harness, ids: &[String]) -> (u32, u32, u32) {
    let counts = h
        .client()
        .execute_async(
            "const [ids, done] = arguments;
             Promise.all(ids.map(id => fetch('/api/conversations/' + id).then(r => r.json())))
               .then(all => {
                 const protected_ = all.filter(d => d.protection).length;
                 const can = all.filter(d => !d.protection && d.recordings.some(r =>
                   r.role === 'policy' && r.fileState === 'AVAILABLE')).length;
                 done([can, protected_, all.length - can - protected_]);
               })",
            vec![serde_json::json!(ids)],
        )
        .await
        .expect("the script runs");
    let n = |i: usize| counts[i].as_u64().expect("a count") as u32;
    (n(0), n(1), n(2))
}

async fn row_ids(h: &Harness) -> Vec<String> {
    let rows = eventually(h, "rows", || async {
        let rows = all(h, "tbody tr[data-id]").await;
        (!rows.is_empty()).then_some(rows)
    })
    .await;
    let mut ids = Vec::new();
    for row in rows {
        ids.push(
            row.attr("data-id")
                .await
                .expect("attributes read")
                .expect("rows carry their id"),
        );
    }
    ids
}

#[tokio::test]
async fn manager_selects_a_page_previews_and_protects() {
    let h = Harness::start().await;
    sign_in(&h, "manager", "holdfast-demo").await;
    let ids = row_ids(&h).await;
    assert_eq!(ids.len(), 25, "the first page of the view");
    let meter = eventually(&h, "the cap meter", || async {
        let t = text(&h, ".cap-meter").await;
        t.contains("/ 1,000").then_some(t)
    })
    .await;
    assert_eq!(
        meter, "Protected conversations: 40 / 1,000",
        "the demo protects 40"
    );
    let before = 40;
    let (can, protected, cannot) = standings(&h, &ids).await;
    h.screenshot("interactions").await;

    let header = find(&h, "input[aria-label='Select all']").await;
    header.click().await.expect("the header checkbox clicks");
    eventually(&h, "the page to be selected", || async {
        (header.attr("aria-checked").await.ok()?? == "true").then_some(())
    })
    .await;
    for row in all(&h, "tbody input[type=checkbox]").await {
        assert_eq!(row.prop("checked").await.unwrap().as_deref(), Some("true"));
    }
    assert_eq!(text(&h, ".selection-bar .count").await, "25 selected.");
    // One row unticked: the header shows "mixed".
    all(&h, "tbody input[type=checkbox]").await[0]
        .click()
        .await
        .unwrap();
    eventually(&h, "a mixed header", || async {
        (header.attr("aria-checked").await.ok()?? == "mixed").then_some(())
    })
    .await;
    header.click().await.unwrap();

    find(&h, "button.btn-primary:not([disabled])")
        .await
        .click()
        .await
        .expect("Protect Recordings clicks");
    let numbers = eventually(&h, "the preview numbers", || async {
        let dl = h.client().find(Locator::Css("dialog dl")).await.ok()?;
        dl.text().await.ok()
    })
    .await;
    h.screenshot("protect-preview").await;
    let figure = |label: &str| -> u32 {
        let line = numbers
            .lines()
            .skip_while(|l| !l.starts_with(label))
            .nth(1)
            .unwrap_or_else(|| panic!("{label} in {numbers}"));
        line.split(' ')
            .next()
            .unwrap()
            .replace(',', "")
            .parse()
            .unwrap()
    };
    let new = figure("Will be protected");
    let already = figure("Already protected");
    let without = figure("No recording to protect");
    assert_eq!(
        (new, already, without),
        (can, protected, cannot),
        "{numbers}"
    );
    assert_eq!(figure("Protected conversations now"), before);
    assert_eq!(figure("After protecting"), before + new);

    find(&h, "dialog input#reason")
        .await
        .send_keys("Case 2026-118")
        .await
        .unwrap();
    assert_eq!(
        confirm(&h).await,
        format!("Protected {}.", counted(new, "interaction", "interactions"))
    );
    let after = format!("Protected conversations: {} / 1,000", before + new);
    eventually(&h, "the cap meter to update", || async {
        (text(&h, ".cap-meter").await == after).then_some(())
    })
    .await;
    eventually(&h, "lock icons", || async {
        let n = all(&h, "tbody svg[aria-label=Protected]").await.len();
        (n as u32 == new + already).then_some(n)
    })
    .await;
    assert_eq!(standings(&h, &ids).await, (0, new + already, without));
    h.finish().await;
}

#[tokio::test]
async fn another_organization_sees_none_of_the_first_ones_interactions() {
    let h = Harness::start().await;
    sign_in(&h, "manager", "holdfast-demo").await;
    let northwind = row_ids(&h).await;
    assert!(
        text(&h, ".topbar")
            .await
            .contains("Northwind Contact Center")
    );
    find(&h, ".topbar button")
        .await
        .click()
        .await
        .expect("Sign out clicks");
    find(&h, "input#username").await;
    sign_in(&h, "contoso.manager", "holdfast-demo").await;
    eventually(&h, "Contoso's top bar", || async {
        text(&h, ".topbar")
            .await
            .contains("Contoso Support")
            .then_some(())
    })
    .await;
    let contoso = row_ids(&h).await;
    assert_eq!(contoso.len(), 25, "the first page of Contoso's 600");
    assert!(
        contoso.iter().all(|id| !northwind.contains(id)),
        "no Northwind interaction is shown to Contoso"
    );
    // Even by address: another organization's interaction is not found.
    let probe = h
        .client()
        .execute_async(
            "fetch('/api/conversations/' + arguments[0]).then(r => arguments[1](r.status))",
            vec![serde_json::json!(northwind[0])],
        )
        .await
        .expect("the script runs");
    assert_eq!(probe, serde_json::json!(404));
    h.finish().await;
}

#[tokio::test]
async fn a_wrong_password_is_refused_with_a_message() {
    let h = Harness::start().await;
    sign_in(&h, "manager", "not-the-password").await;
    let alert = text(&h, "[role=alert]").await;
    assert!(alert.contains("wrong username or password"), "{alert}");
    assert!(all(&h, "tbody tr").await.is_empty());
    h.screenshot("sign-in-refused").await;
    h.finish().await;
}

#[tokio::test]
async fn a_supervisor_sees_no_release_button() {
    let h = Harness::start().await;
    sign_in(&h, "supervisor", "holdfast-demo").await;
    row_ids(&h).await;
    let buttons = all(&h, ".toolbar button").await;
    let mut labels = Vec::new();
    for b in buttons {
        labels.push(b.text().await.unwrap());
    }
    assert_eq!(
        labels,
        vec!["Protect Recordings".to_owned(), "Add to hold".to_owned()]
    );
    h.finish().await;
}

#[tokio::test]
async fn selecting_all_matching_beyond_the_cap_is_refused_before_anything_is_sent() {
    let h = Harness::start().await;
    sign_in(&h, "manager", "holdfast-demo").await;
    row_ids(&h).await;
    click(&h, "input[aria-label='Select all']").await;
    let offer = find(&h, ".selection-bar button.btn-link").await;
    let label = offer.text().await.unwrap();
    assert_eq!(label, "Select all 3,000 matching interactions");
    offer.click().await.unwrap();
    eventually(&h, "all matching selected", || async {
        text(&h, ".selection-bar")
            .await
            .contains("All 3,000 matching interactions are selected")
            .then_some(())
    })
    .await;
    click(&h, "button.btn-primary:not([disabled])").await;
    let refusal = text(&h, "dialog [role=alert]").await;
    // The numbers the server gives for every conversation (counted one by one against each
    // conversation's details in the server's own tests): the refusal must state them.
    let summary = h
        .client()
        .execute_async(
            "fetch('/api/selection/summary', {method: 'POST', headers: {'content-type': 'application/json',
               'x-holdfast-csrf': '1'}, body: JSON.stringify({selection: {kind: 'filter', query: '', except: []}})})
               .then(r => r.json()).then(arguments[0])",
            vec![],
        )
        .await
        .expect("the script runs");
    assert_eq!(summary["summary"]["protected"], 40);
    let new = summary["summary"]["protectable"]["exact"]
        .as_u64()
        .expect("an exact count: 3,000 is below the bound") as u32;
    assert_eq!(
        refusal,
        format!(
            "Over the limit: protecting {} would exceed the limit of 1,000 \
             protected conversations by {}. Only 960 more can be protected. Nothing was sent.",
            counted(new, "more interaction", "more interactions"),
            count(new - 960)
        )
    );
    let buttons = all(&h, "dialog button").await;
    assert_eq!(buttons.len(), 1, "only Close: there is nothing to confirm");
    h.screenshot("over-cap").await;
    click(&h, "dialog button").await;
    // Nothing changed on the server.
    assert_eq!(
        text(&h, ".cap-meter").await,
        "Protected conversations: 40 / 1,000"
    );
    h.finish().await;
}

async fn current_query(h: &Harness) -> String {
    let url = h.client().current_url().await.expect("the browser answers");
    url.query().unwrap_or("").to_owned()
}

#[tokio::test]
async fn filters_and_sorts_live_in_the_address_and_back_restores_them() {
    let h = Harness::start().await;
    sign_in(&h, "analyst", "holdfast-demo").await;
    row_ids(&h).await;
    let protected = h
        .client()
        .wait()
        .at_most(PATIENCE)
        .for_element(Locator::XPath(
            "//label[normalize-space(text())='Protected']/select",
        ))
        .await
        .expect("the Protected filter");
    protected
        .select_by_value("yes")
        .await
        .expect("an option is chosen");
    eventually(&h, "the filtered address", || async {
        (current_query(&h).await == "protected=yes").then_some(())
    })
    .await;
    eventually(&h, "only protected rows", || async {
        let rows = all(&h, "tbody tr[data-id]").await.len();
        let locks = all(&h, "tbody svg[aria-label=Protected]").await.len();
        (rows == 25 && locks == 25).then_some(())
    })
    .await;
    find(&h, "th[aria-sort] button").await;
    let duration = h
        .client()
        .find(Locator::XPath(
            "//th/button[starts-with(normalize-space(.), 'Duration')]",
        ))
        .await
        .unwrap();
    duration.click().await.unwrap();
    eventually(&h, "the sorted address", || async {
        (current_query(&h).await == "protected=yes&sort=-duration").then_some(())
    })
    .await;
    let th = find(&h, "th[aria-sort=descending]").await;
    assert!(th.text().await.unwrap().starts_with("Duration"));
    h.screenshot("filtered-sorted").await;

    // A reload keeps the view; back and forward walk through the earlier ones.
    h.client().refresh().await.unwrap();
    find(&h, "th[aria-sort=descending]").await;
    assert_eq!(current_query(&h).await, "protected=yes&sort=-duration");
    h.client().back().await.unwrap();
    eventually(&h, "back to the filter alone", || async {
        let th = h
            .client()
            .find(Locator::Css("th[aria-sort=descending]"))
            .await
            .ok()?;
        th.text().await.ok()?.starts_with("Date").then_some(())
    })
    .await;
    assert_eq!(current_query(&h).await, "protected=yes");
    h.client().back().await.unwrap();
    eventually(&h, "back to the default view", || async {
        (all(&h, "tbody svg[aria-label=Protected]").await.len() < 25).then_some(())
    })
    .await;
    h.client().forward().await.unwrap();
    eventually(&h, "forward to the filter", || async {
        (all(&h, "tbody svg[aria-label=Protected]").await.len() == 25).then_some(())
    })
    .await;
    h.finish().await;
}

#[tokio::test]
async fn the_details_tab_releases_and_protects_with_the_protected_checkbox() {
    let h = Harness::start().await;
    sign_in(&h, "manager", "holdfast-demo").await;
    row_ids(&h).await;
    h.client()
        .goto(&h.url("/interactions?protected=yes"))
        .await
        .unwrap();
    let id = eventually(&h, "protected rows", || async {
        let rows = all(&h, "tbody tr[data-id]").await;
        let first = rows.first()?;
        let locks = all(&h, "tbody svg[aria-label=Protected]").await.len();
        (locks == rows.len()).then_some(())?;
        first.attr("data-id").await.ok()?
    })
    .await;
    find(&h, &format!("tr[data-id='{id}'] a"))
        .await
        .click()
        .await
        .expect("the date links to the details");
    eventually(&h, "the details page", || async {
        h.client()
            .current_url()
            .await
            .ok()?
            .path()
            .ends_with(&id)
            .then_some(())
    })
    .await;
    find(&h, "table[aria-label=Recordings]").await;
    let tab = find(&h, "[role=tab][aria-selected=true]").await;
    assert_eq!(tab.text().await.unwrap(), "Details");
    assert!(
        text(&h, "[role=tabpanel]")
            .await
            .contains("Recording Information")
    );
    h.screenshot("details").await;

    let checkbox = find(&h, ".protected-toggle input").await;
    assert_eq!(
        checkbox.prop("checked").await.unwrap().as_deref(),
        Some("true")
    );
    // Cancel changes nothing, the box included.
    checkbox.click().await.unwrap();
    find(&h, "dialog[open] dl").await;
    click(&h, "dialog button.btn").await;
    dialog_closed(&h).await;
    assert_eq!(
        checkbox.prop("checked").await.unwrap().as_deref(),
        Some("true"),
        "still ticked after Cancel"
    );
    checkbox.click().await.unwrap();
    let numbers = text(&h, "dialog dl").await;
    assert!(numbers.contains("Will be released\n1"), "{numbers}");
    assert_eq!(confirm(&h).await, "Released 1 interaction.");
    eventually(&h, "the lock to go", || async {
        let boxes = all(&h, ".protected-toggle input").await;
        let checked = boxes.first()?.prop("checked").await.ok()??;
        (checked == "false" && all(&h, ".protected-toggle svg").await.is_empty()).then_some(())
    })
    .await;
    assert_eq!(
        text(&h, ".cap-meter").await,
        "Protected conversations: 39 / 1,000"
    );

    click(&h, ".protected-toggle input").await;
    assert_eq!(confirm(&h).await, "Protected 1 interaction.");
    find(&h, ".protected-toggle svg[aria-label=Protected]").await;
    h.finish().await;
}

#[tokio::test]
async fn without_the_revoke_permission_the_protected_checkbox_cannot_be_unticked() {
    let h = Harness::start().await;
    sign_in(&h, "supervisor", "holdfast-demo").await;
    row_ids(&h).await;
    h.client()
        .goto(&h.url("/interactions?protected=yes"))
        .await
        .unwrap();
    click(&h, "tbody tr[data-id] a").await;
    let checkbox = find(&h, ".protected-toggle input").await;
    assert_eq!(
        checkbox.prop("checked").await.unwrap().as_deref(),
        Some("true")
    );
    assert!(checkbox.attr("disabled").await.unwrap().is_some());
    h.finish().await;
}

#[tokio::test]
async fn the_audit_trail_shows_both_events_and_verifies_the_chain() {
    let h = Harness::start().await;
    sign_in(&h, "manager", "holdfast-demo").await;
    row_ids(&h).await;
    h.client()
        .goto(&h.url("/interactions?protected=yes"))
        .await
        .unwrap();
    click(&h, "tbody tr[data-id] a").await;
    click(&h, ".protected-toggle input").await;
    confirm(&h).await;
    click(&h, ".protected-toggle input:not(:checked)").await;
    confirm(&h).await;
    let conversation = h
        .client()
        .current_url()
        .await
        .unwrap()
        .path()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();

    click(&h, "nav a[href='/audit']").await;
    let status = text(&h, "p.done[role=status]").await;
    assert_eq!(
        status,
        "The audit chain verifies: no event was altered or removed."
    );
    let filter = find(&h, "input[placeholder='Interaction id']").await;
    filter
        .send_keys(&format!("{conversation}\u{E007}"))
        .await
        .unwrap();
    let actions = eventually(&h, "this interaction's events", || async {
        let rows = all(&h, "table[aria-label='Audit events'] tbody tr").await;
        let mut actions = Vec::new();
        for row in rows {
            actions.push(
                row.find(Locator::Css("td:nth-child(2)"))
                    .await
                    .ok()?
                    .text()
                    .await
                    .ok()?,
            );
        }
        (actions.len() == 2).then_some(actions)
    })
    .await;
    assert_eq!(
        actions,
        vec!["ApplyProtection".to_owned(), "RevokeProtection".to_owned()],
        "newest first"
    );
    h.screenshot("audit").await;
    h.finish().await;
}

#[tokio::test]
async fn a_saved_view_reopens_after_a_reload_and_can_be_renamed_and_deleted() {
    let h = Harness::start().await;
    sign_in(&h, "analyst", "holdfast-demo").await;
    row_ids(&h).await;
    h.client()
        .goto(&h.url("/interactions?protected=yes&sort=duration"))
        .await
        .unwrap();
    row_ids(&h).await;
    find(&h, ".save-view input")
        .await
        .send_keys("Case files")
        .await
        .unwrap();
    click(&h, ".save-view button").await;
    let link = h
        .client()
        .wait()
        .at_most(PATIENCE)
        .for_element(Locator::XPath("//nav//a[normalize-space(.)='Case files']"))
        .await
        .expect("the saved view is listed");
    // Open it from the default view, after a reload.
    h.client().goto(&h.url("/interactions")).await.unwrap();
    h.client().refresh().await.unwrap();
    let link = {
        drop(link);
        h.client()
            .wait()
            .at_most(PATIENCE)
            .for_element(Locator::XPath("//nav//a[normalize-space(.)='Case files']"))
            .await
            .unwrap()
    };
    link.click().await.unwrap();
    eventually(&h, "the saved view's address", || async {
        (current_query(&h).await == "protected=yes&sort=duration").then_some(())
    })
    .await;
    find(&h, "th[aria-sort=ascending]").await;

    click(&h, "nav a[href='/views']").await;
    let name = find(&h, "table[aria-label='Saved views'] input").await;
    name.clear().await.unwrap();
    name.send_keys("Cases").await.unwrap();
    click(&h, "table[aria-label='Saved views'] button").await;
    h.client()
        .wait()
        .at_most(PATIENCE)
        .for_element(Locator::XPath("//nav//a[normalize-space(.)='Cases']"))
        .await
        .expect("the renamed view is listed");
    h.screenshot("saved-views").await;
    let delete = h
        .client()
        .find(Locator::XPath(
            "//table[@aria-label='Saved views']//button[normalize-space(.)='Delete']",
        ))
        .await
        .unwrap();
    delete.click().await.unwrap();
    eventually(&h, "the view to be gone", || async {
        let gone = h
            .client()
            .find(Locator::XPath("//nav//a[normalize-space(.)='Cases']"))
            .await
            .is_err();
        gone.then_some(())
    })
    .await;
    h.finish().await;
}

/// Presses keys in order, as a user at the keyboard does; `Key::Shift` is held for the key after
/// it (`[Shift, Tab]` is Shift+Tab).
async fn press(h: &Harness, keys: &[Key]) {
    let mut actions = KeyActions::new("keyboard".to_owned());
    let mut shift = false;
    for key in keys {
        if matches!(key, Key::Shift) {
            actions = actions.then(KeyAction::Down {
                value: Key::Shift.into(),
            });
            shift = true;
            continue;
        }
        actions = actions
            .then(KeyAction::Down {
                value: (*key).into(),
            })
            .then(KeyAction::Up {
                value: (*key).into(),
            });
        if shift {
            actions = actions.then(KeyAction::Up {
                value: Key::Shift.into(),
            });
            shift = false;
        }
    }
    h.client()
        .perform_actions(actions)
        .await
        .expect("the browser takes key presses");
}

/// Types text into whatever has the focus.
async fn type_text(h: &Harness, text: &str) {
    h.client()
        .active_element()
        .await
        .expect("something has the focus")
        .send_keys(text)
        .await
        .expect("typing works");
}

/// Whether the focused element matches `css`.
async fn focus_is(h: &Harness, css: &str) -> bool {
    h.client()
        .execute(
            "return document.activeElement !== null && document.activeElement.matches(arguments[0]);",
            vec![css.into()],
        )
        .await
        .expect("the browser runs the check")
        .as_bool()
        .unwrap_or(false)
}

/// Presses `keys` until the focus is on an element matching `css`; panics after `most` presses.
async fn move_focus_to(h: &Harness, keys: &[Key], css: &str, most: usize) {
    for _ in 0..most {
        if focus_is(h, css).await {
            return;
        }
        press(h, keys).await;
    }
    assert!(
        focus_is(h, css).await,
        "{css} never got the focus in {most} key presses"
    );
}

/// The focused element draws a visible focus ring.
async fn focus_ring_shows(h: &Harness) -> bool {
    let style = h
        .client()
        .execute(
            "const s = getComputedStyle(document.activeElement); \
             return [s.outlineStyle, s.outlineWidth];",
            vec![],
        )
        .await
        .expect("the browser runs the check");
    let style: Vec<String> = serde_json::from_value(style).expect("two strings");
    style[0] != "none" && style[1] != "0px"
}

#[tokio::test]
async fn protecting_one_interaction_with_the_keyboard_alone() {
    let h = Harness::start().await;
    h.client()
        .goto(&h.url("/interactions"))
        .await
        .expect("the browser opens the app");
    find(&h, "input#username").await;
    eventually(&h, "the focus on the first field", || async {
        focus_is(&h, "input#username").await.then_some(())
    })
    .await;
    type_text(&h, "manager").await;
    press(&h, &[Key::Tab]).await;
    type_text(&h, "holdfast-demo").await;
    press(&h, &[Key::Enter]).await;
    row_ids(&h).await;
    // The first row the seed left unprotected.
    let id = h
        .client()
        .execute(
            "const row = [...document.querySelectorAll('tbody tr[data-id]')] \
               .find((r) => !r.querySelector('svg[aria-label=Protected]')); \
             return row.dataset.id;",
            vec![],
        )
        .await
        .unwrap();
    let row = format!("tbody tr[data-id='{}']", id.as_str().expect("an id"));

    // Forward through the filters and the toolbar to that row's checkbox.
    move_focus_to(&h, &[Key::Tab], &format!("{row} input[type=checkbox]"), 80).await;
    assert!(
        focus_ring_shows(&h).await,
        "the focused checkbox shows a focus ring"
    );
    press(&h, &[Key::Space]).await;
    eventually(&h, "the row to be selected", || async {
        let row = find(&h, &row).await;
        (row.attr("aria-selected").await.ok()?? == "true").then_some(())
    })
    .await;
    assert_eq!(text(&h, ".selection-bar .count").await, "1 selected.");

    // Back to "Protect Recordings", and open the preview.
    move_focus_to(&h, &[Key::Shift, Key::Tab], "button.btn-primary", 80).await;
    assert!(
        focus_ring_shows(&h).await,
        "the focused button shows a focus ring"
    );
    press(&h, &[Key::Enter]).await;
    let numbers = text(&h, "dialog[open] dl").await;
    assert!(numbers.contains("Will be protected\n1"), "{numbers}");
    assert!(
        focus_is(&h, "dialog[open] *").await,
        "the focus moved into the dialog"
    );
    // Escape closes it and the focus goes back to the button that opened it.
    press(&h, &[Key::Escape]).await;
    dialog_closed(&h).await;
    assert!(
        focus_is(&h, "button.btn-primary").await,
        "focus back on Protect"
    );
    press(&h, &[Key::Enter]).await;
    find(&h, "dialog[open] dl").await;

    // The dialog keeps the focus: Tab goes to the reason and the confirm button inside it.
    move_focus_to(&h, &[Key::Tab], "dialog input#reason", 6).await;
    type_text(&h, "Keyboard only").await;
    move_focus_to(&h, &[Key::Tab], "dialog button.btn-primary", 6).await;
    press(&h, &[Key::Enter]).await;
    // The dialog closes by itself and the result is said in the page's polite live region.
    dialog_closed(&h).await;
    assert_eq!(announced(&h).await, "Protected 1 interaction.");
    // The selection is cleared, so Protect is disabled: the focus goes to the page's heading.
    assert!(focus_is(&h, "main h1").await, "focus on the heading");
    eventually(&h, "the lock on the row", || async {
        let lock = format!("{row} svg[aria-label=Protected]");
        (!all(&h, &lock).await.is_empty()).then_some(())
    })
    .await;
    h.screenshot("keyboard-protected").await;
    h.finish().await;
}

/// Every control on the screen has an accessible name, and where it shows a label, the name
/// starts with that label (WCAG 2.5.3, label in name). Returns the offenders.
async fn unnamed_controls(h: &Harness) -> Vec<String> {
    let offenders = h
        .client()
        .execute(
            r#"
            const norm = (t) => (t || '').replace(/\s+/g, ' ').trim().toLowerCase();
            const visible = (el) => {
                if (el.tagName === 'BUTTON' || el.tagName === 'A') return norm(el.textContent);
                const label = el.labels && el.labels[0];
                if (!label) return '';
                // The label's own text, without the control's (a select's options, say).
                const copy = label.cloneNode(true);
                copy.querySelectorAll('input, select, textarea').forEach((c) => c.remove());
                return norm(copy.textContent);
            };
            const name = (el) => {
                if (el.getAttribute('aria-label')) return norm(el.getAttribute('aria-label'));
                const by = el.getAttribute('aria-labelledby');
                if (by) return norm(by.split(' ').map((id) => document.getElementById(id)?.textContent).join(' '));
                return visible(el) || norm(el.getAttribute('title'));
            };
            const bad = [];
            for (const el of document.querySelectorAll('a[href], button, input, select, textarea, audio[controls]')) {
                const n = name(el), v = visible(el);
                if (!n || (v && !n.startsWith(v))) bad.push(el.outerHTML.slice(0, 120) + ' -> "' + n + '"');
            }
            return bad;
            "#,
            vec![],
        )
        .await
        .expect("the browser runs the check");
    serde_json::from_value(offenders).expect("a list of strings")
}

#[tokio::test]
async fn every_control_is_named_by_its_visible_label() {
    let h = Harness::start().await;
    h.client()
        .goto(&h.url("/interactions"))
        .await
        .expect("the browser opens the app");
    find(&h, "input#username").await;
    assert_eq!(
        unnamed_controls(&h).await,
        Vec::<String>::new(),
        "sign-in page"
    );
    sign_in(&h, "manager", "holdfast-demo").await;
    let ids = row_ids(&h).await;
    assert_eq!(
        unnamed_controls(&h).await,
        Vec::<String>::new(),
        "interactions"
    );
    click(&h, "input[aria-label='Select all']").await;
    click(&h, "button.btn-primary:not([disabled])").await;
    find(&h, "dialog[open] dl").await;
    assert_eq!(unnamed_controls(&h).await, Vec::<String>::new(), "preview");
    click(&h, "dialog button.btn").await;
    for (path, ready) in [
        (format!("/interactions/{}", ids[0]), ".facts"),
        ("/audit".to_owned(), "table[aria-label='Audit events']"),
        ("/views".to_owned(), "h1"),
    ] {
        h.client().goto(&h.url(&path)).await.expect("navigates");
        find(&h, ready).await;
        assert_eq!(unnamed_controls(&h).await, Vec::<String>::new(), "{path}");
    }
    h.finish().await;
}

#[tokio::test]
async fn after_the_session_ends_signing_in_again_returns_to_the_same_view() {
    let h = Harness::start().await;
    sign_in(&h, "analyst", "holdfast-demo").await;
    row_ids(&h).await;
    click(&h, ".pager button:last-child").await;
    eventually(&h, "the second page", || async {
        (current_query(&h).await == "page=2").then_some(())
    })
    .await;
    let second = row_ids(&h).await;
    // The session ends (expired or revoked on the server: the browser's cookie is no longer
    // good). The next call is refused and the app asks to sign in again, keeping the address.
    h.client().delete_all_cookies().await.expect("cookies go");
    click(&h, ".pager button:last-child").await;
    let notice = text(&h, ".login-card [role=status]").await;
    assert_eq!(notice, "Your session has ended. Please sign in again.");
    assert_eq!(current_query(&h).await, "page=3", "the address is kept");
    h.screenshot("session-ended").await;
    find(&h, "input#username")
        .await
        .send_keys("analyst")
        .await
        .unwrap();
    find(&h, "input#password")
        .await
        .send_keys("holdfast-demo")
        .await
        .unwrap();
    click(&h, "form button[type=submit]").await;
    let range = eventually(&h, "the third page again", || async {
        let t = text(&h, ".pager .count").await;
        t.starts_with("51–75 of").then_some(t)
    })
    .await;
    assert_eq!(range, "51–75 of 3,000");
    assert!(row_ids(&h).await.iter().all(|id| !second.contains(id)));

    // Signing out ends the session on the server, not only in the page.
    click(&h, ".user button").await;
    find(&h, "input#username").await;
    let status = h
        .client()
        .execute_async(
            "fetch('/api/session').then(r => arguments[0](r.status))",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(status.as_u64(), Some(401));
    h.finish().await;
}

/// The contrast ratio (WCAG 2) of an element's text against the page's background (set on the root element).
async fn contrast(h: &Harness, css: &str) -> f64 {
    let ratio = h
        .client()
        .execute(
            r#"
            const rgb = (c) => c.match(/[\d.]+/g).slice(0, 3).map(Number);
            const lum = (c) => {
                const [r, g, b] = rgb(c).map((v) => {
                    v /= 255;
                    return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
                });
                return 0.2126 * r + 0.7152 * g + 0.0722 * b;
            };
            const fg = lum(getComputedStyle(document.querySelector(arguments[0])).color);
            const bg = lum(getComputedStyle(document.documentElement).backgroundColor);
            return (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
            "#,
            vec![css.into()],
        )
        .await
        .expect("the browser runs the check");
    ratio.as_f64().expect("a number")
}

#[tokio::test]
async fn dark_mode_follows_the_system_setting() {
    let h = Harness::start_dark().await;
    sign_in(&h, "manager", "holdfast-demo").await;
    row_ids(&h).await;
    let dark = h
        .client()
        .execute(
            "return matchMedia('(prefers-color-scheme: dark)').matches;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        dark,
        serde_json::Value::Bool(true),
        "the browser prefers dark"
    );
    let background = h
        .client()
        .execute(
            "return getComputedStyle(document.documentElement).backgroundColor;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        background.as_str(),
        Some("rgb(20, 23, 27)"),
        "the dark background"
    );
    for css in ["h1", "tbody td", ".cap-meter", ".sidenav a"] {
        let ratio = contrast(&h, css).await;
        assert!(
            ratio >= 4.5,
            "{css} has a contrast of {ratio:.2}, under 4.5"
        );
    }
    h.screenshot("interactions-dark").await;
    h.finish().await;
}

/// Whether the page has been loaded only once since `mark_page` (in-app navigation keeps it).
async fn same_page(h: &Harness) -> bool {
    h.client()
        .execute("return window.holdfastMark === 1;", vec![])
        .await
        .expect("the browser runs the check")
        .as_bool()
        .unwrap_or(false)
}

async fn mark_page(h: &Harness) {
    h.client()
        .execute("window.holdfastMark = 1;", vec![])
        .await
        .expect("the browser runs the script");
}

async fn choose(h: &Harness, label: &str, value: &str) {
    let select = h
        .client()
        .find(Locator::XPath(&format!(
            "//label[normalize-space(text())='{label}']/select"
        )))
        .await
        .unwrap_or_else(|e| panic!("no select labelled {label}: {e}"));
    select
        .select_by_value(value)
        .await
        .unwrap_or_else(|e| panic!("{label} does not take {value}: {e}"));
}

/// The seed's whole flow, in one page load: filter, select the page with the header checkbox,
/// protect, see the locks, open one interaction, untick Protected, confirm, the lock is gone,
/// back to the same filtered view, and the audit trail shows both events.
#[tokio::test]
async fn the_seed_flow_end_to_end_without_a_page_reload() {
    let h = Harness::start().await;
    sign_in(&h, "manager", "holdfast-demo").await;
    row_ids(&h).await;
    mark_page(&h).await;
    choose(&h, "Direction", "inbound").await;
    choose(&h, "Recording", "yes").await;
    let view = eventually(&h, "the filters in the address", || async {
        let q = current_query(&h).await;
        (q.contains("direction=inbound") && q.contains("recorded=yes")).then_some(q)
    })
    .await;
    let locks = || async { all(&h, "tbody svg[aria-label=Protected]").await.len() };
    let ids = eventually(&h, "the filtered rows", || async {
        let ids = row_ids(&h).await;
        let cells = all(&h, "tbody td:nth-child(5)").await;
        let mut inbound = true;
        for cell in cells {
            inbound &= cell.text().await.ok()? == "inbound";
        }
        (inbound && ids.len() == 25).then_some(ids)
    })
    .await;
    let already = locks().await;

    click(&h, "input[aria-label='Select all']").await;
    click(&h, "button.btn-primary:not([disabled])").await;
    let numbers = text(&h, "dialog dl").await;
    let new = 25 - already;
    assert!(
        numbers.contains(&format!("Will be protected\n{new}")),
        "{numbers}"
    );
    assert_eq!(
        confirm(&h).await,
        format!(
            "Protected {}.",
            counted(new as u64, "interaction", "interactions")
        )
    );
    eventually(&h, "a lock on every row", || async {
        (locks().await == 25).then_some(())
    })
    .await;
    h.screenshot("interactions-protected").await;

    // The first row's details, by a plain click on its date: in place, at its own address.
    let first = ids[0].clone();
    click(&h, &format!("tr[data-id='{first}'] a")).await;
    let checkbox = find(&h, ".protected-toggle input:checked").await;
    assert!(
        h.client()
            .current_url()
            .await
            .unwrap()
            .path()
            .ends_with(&first),
        "the details have their own address"
    );
    assert_eq!(h.client().title().await.unwrap(), "Interaction · Holdfast");
    assert!(
        focus_is(&h, "main, main h1").await,
        "after navigating in place the focus starts at the page"
    );
    checkbox.click().await.unwrap();
    assert_eq!(confirm(&h).await, "Released 1 interaction.");
    eventually(&h, "the lock to go", || async {
        all(&h, ".protected-toggle svg")
            .await
            .is_empty()
            .then_some(())
    })
    .await;

    // The way back is to the filtered view again, with that row unlocked and the others
    // still locked; the browser's back button goes there too.
    let back = find(&h, "main p a").await;
    assert_eq!(
        back.attr("href").await.unwrap().as_deref(),
        Some(format!("/interactions?{view}").as_str())
    );
    h.client().back().await.unwrap();
    eventually(&h, "the filtered view again", || async {
        let unlocked = all(
            &h,
            &format!("tr[data-id='{first}'] svg[aria-label=Protected]"),
        )
        .await
        .is_empty();
        (current_query(&h).await == view && unlocked && locks().await == 24).then_some(())
    })
    .await;

    assert_eq!(h.client().title().await.unwrap(), "Interactions · Holdfast");
    click(&h, "nav a[href='/audit']").await;
    find(&h, "input[placeholder='Interaction id']")
        .await
        .send_keys(&format!("{first}\u{E007}"))
        .await
        .unwrap();
    let actions = eventually(&h, "both events", || async {
        let cells = all(&h, "table[aria-label='Audit events'] tbody td:nth-child(2)").await;
        let mut actions = Vec::new();
        for cell in cells {
            actions.push(cell.text().await.ok()?);
        }
        (actions.len() == 2).then_some(actions)
    })
    .await;
    assert_eq!(
        actions,
        ["RevokeProtection", "ApplyProtection"],
        "newest first"
    );
    assert!(
        same_page(&h).await,
        "the whole flow ran without reloading the page"
    );
    h.finish().await;
}

#[tokio::test]
async fn back_is_never_trapped_by_an_address_that_rewrites_itself() {
    let h = Harness::start().await;
    sign_in(&h, "analyst", "holdfast-demo").await;
    row_ids(&h).await;
    h.client().goto(&h.url("/views")).await.unwrap();
    find(&h, "h1").await;
    // "/" and a non-canonical query show the interactions view at its canonical address...
    h.client().goto(&h.url("/?page=1")).await.unwrap();
    row_ids(&h).await;
    eventually(&h, "the canonical address", || async {
        let url = h.client().current_url().await.ok()?;
        (url.path() == "/interactions" && url.query().is_none()).then_some(())
    })
    .await;
    // ...in place of the entry, so one step back is the page before.
    h.client().back().await.unwrap();
    eventually(&h, "the saved views page again", || async {
        let url = h.client().current_url().await.ok()?;
        (url.path() == "/views").then_some(())
    })
    .await;
    h.finish().await;
}

/// Rule 6 in the browser: before a release the manager is told how many recordings are past
/// their deletion date. The expected number is read recording by recording through the API
/// (available, with a date that has passed), not from the summary the preview shows.
#[tokio::test]
async fn the_release_preview_says_how_many_past_due_recordings_the_sweep_will_delete() {
    let h = Harness::start().await;
    sign_in(&h, "manager", "holdfast-demo").await;
    row_ids(&h).await;
    h.client()
        .goto(&h.url("/interactions?protected=yes&size=50"))
        .await
        .expect("the browser navigates");
    let rows = eventually(&h, "the 40 protected rows", || async {
        let rows = row_ids(&h).await;
        (rows.len() == 40).then_some(rows)
    })
    .await;
    let due = h
        .client()
        .execute_async(
            "const [ids, done] = arguments;
             Promise.all(ids.map(id => fetch('/api/conversations/' + id).then(r => r.json())))
               .then(all => done(all.flatMap(d => d.recordings).filter(r =>
                 r.fileState === 'AVAILABLE' && r.deleteDate && Date.parse(r.deleteDate) <= Date.now()).length))",
            vec![serde_json::json!(rows)],
        )
        .await
        .expect("the script runs")
        .as_u64()
        .expect("a count");
    // The demo data has protected recordings whose date has passed; without them this test
    // would not test anything.
    assert!(due > 0, "the demo data has past-due protected recordings");
    click(&h, "input[aria-label='Select all']").await;
    h.client()
        .find(Locator::XPath(
            "//button[normalize-space()='Release Recordings']",
        ))
        .await
        .expect("a Release button")
        .click()
        .await
        .expect("it clicks");
    let numbers = text(&h, "dialog dl").await;
    assert!(numbers.contains("Will be released\n40\n"), "{numbers}");
    assert!(
        numbers.contains(&format!("Recordings past their deletion date\n{due}\n")),
        "{numbers}"
    );
    assert_eq!(
        text(&h, "dialog p.refusal").await,
        format!(
            "{due} recordings are past their deletion date and will be deleted by the next retention sweep after release."
        )
    );
    h.screenshot("release-preview-past-due").await;
    click(&h, "dialog button.btn").await;
    h.finish().await;
}

/// Stored XSS through ingest: a recording ingested as `text/html` whose script is a second one
/// ingested as `text/javascript`, which would create a saved view as whoever opens it. Opening
/// it in the browser downloads bytes instead, and nothing runs.
#[tokio::test]
async fn a_recording_ingested_as_a_web_page_never_runs_in_the_managers_browser() {
    let h = Harness::start().await;
    sign_in(&h, "admin", "holdfast-demo").await;
    row_ids(&h).await;
    let js = "fetch('/api/views', {method: 'POST', headers: {'content-type': 'application/json', 'x-holdfast-csrf': '1'}, body: JSON.stringify({name: 'planted', query: ''})});";
    let answer = h
        .client()
        .execute_async(
            "const [js, done] = arguments;
             const [conv, page, script] = [crypto.randomUUID(), crypto.randomUUID(), crypto.randomUUID()];
             const html = '<html><body><script src=\"/api/recordings/' + script + '/media\"></script></body></html>';
             fetch('/api/ingest', {method: 'POST',
               headers: {'content-type': 'application/json', 'x-holdfast-csrf': '1'},
               body: JSON.stringify({id: conv, startTime: '2026-11-20T10:00:00Z', endTime: '2026-11-20T10:05:00Z',
                 direction: 'inbound', recordings: [
                   {id: page, media: 'email', role: 'policy', mediaBase64: btoa(html), contentType: 'text/html'},
                   {id: script, media: 'email', role: 'policy', mediaBase64: btoa(js), contentType: 'text/javascript'}]})})
               .then(r => done([r.status, page]))",
            vec![serde_json::json!(js)],
        )
        .await
        .expect("the script runs");
    let (status, page) = (&answer[0], answer[1].as_str().expect("an id"));
    assert_eq!(status, &serde_json::json!(201));
    // The manager opens the recording's address, as a link in an e-mail would have them do.
    let _ = h
        .client()
        .goto(&h.url(&format!("/api/recordings/{page}/media")))
        .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    h.client().goto(&h.url("/interactions")).await.unwrap();
    row_ids(&h).await;
    let views = h
        .client()
        .execute_async(
            "const [done] = arguments;
             fetch('/api/views').then(r => r.json()).then(v => done(v.map(x => x.name)))",
            vec![],
        )
        .await
        .expect("the script runs");
    assert_eq!(views, serde_json::json!([]), "no script ran");
    // The same script, run by the page itself, does plant the view: the check above would see it.
    let planted = h
        .client()
        .execute_async(
            &format!(
                "const [done] = arguments; {js}
                 setTimeout(() => fetch('/api/views').then(r => r.json()).then(v => done(v.map(x => x.name))), 500)"
            ),
            vec![],
        )
        .await
        .expect("the script runs");
    assert_eq!(planted, serde_json::json!(["planted"]));
    h.finish().await;
}

/// The deletion forecast page shows the server's forecast: the past-due row and every day, and
/// as many days as chosen.
#[tokio::test]
async fn the_deletion_forecast_shows_what_the_sweep_will_delete_day_by_day() {
    let h = Harness::start().await;
    sign_in(&h, "analyst", "holdfast-demo").await;
    row_ids(&h).await;
    click(&h, "nav a[href='/forecast']").await;
    let rows = || async {
        let mut out = Vec::new();
        for row in all(&h, "table[aria-label='Deletion forecast'] tbody tr").await {
            match row.text().await {
                Ok(text) => out.push(text),
                // The table was drawn again while it was read (a new choice of days): none yet.
                Err(_) => return Vec::new(),
            }
        }
        out
    };
    eventually(&h, "the forecast's 31 rows", || async {
        (rows().await.len() == 31).then_some(())
    })
    .await;
    let forecast = h
        .client()
        .execute_async(
            "fetch('/api/retention/forecast?days=30').then(r => r.json()).then(arguments[0])",
            vec![],
        )
        .await
        .expect("the script runs");
    let n = |v: &serde_json::Value| count(v.as_u64().expect("a count"));
    let shown = rows().await;
    assert_eq!(
        shown[0],
        format!(
            "Past due: the next sweep {} {}",
            n(&forecast["pastDue"]["deletable"]),
            n(&forecast["pastDue"]["protected"])
        )
    );
    for (i, day) in forecast["days"].as_array().unwrap().iter().enumerate() {
        assert_eq!(
            shown[i + 1],
            format!(
                "{} {} {}",
                day["date"].as_str().unwrap(),
                n(&day["deletable"]),
                n(&day["protected"])
            )
        );
    }
    h.screenshot("forecast").await;
    let days = find(&h, "select").await;
    days.select_by_value("7").await.unwrap();
    eventually(&h, "a week's rows", || async {
        (rows().await.len() == 8).then_some(())
    })
    .await;
    h.finish().await;
}

/// The figure after `label` in a definition list's text (label and value on their own lines).
fn figure(numbers: &str, label: &str) -> u32 {
    numbers
        .lines()
        .skip_while(|l| !l.starts_with(label))
        .nth(1)
        .unwrap_or_else(|| panic!("{label} in {numbers}"))
        .split(' ')
        .next()
        .unwrap()
        .replace(',', "")
        .parse()
        .unwrap()
}

/// The rows of a table, as their text, read at one moment (a re-render between rows cannot
/// leave a stale one).
async fn table_rows(h: &Harness, label: &str) -> Vec<String> {
    let rows = h
        .client()
        .execute(
            "return Array.from(document.querySelectorAll(arguments[0])).map(r => r.innerText.replace(/\\s+/g, ' ').trim())",
            vec![serde_json::json!(format!("table[aria-label='{label}'] tbody tr"))],
        )
        .await
        .expect("the script runs");
    rows.as_array()
        .map(|rows| {
            rows.iter()
                .filter_map(|r| r.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// A legal hold from start to end in the browser: created on the holds page, found by its case
/// reference, filled from the interactions view with "Add to hold" (the dialog's numbers are
/// the server's), shown with its interactions and the exact release preview, and released:
/// what the default hold covers stays protected, the rest becomes deletable.
#[tokio::test]
async fn a_legal_hold_is_created_filled_from_the_view_and_released_as_previewed() {
    let h = Harness::start().await;
    sign_in(&h, "manager", "holdfast-demo").await;
    let ids = row_ids(&h).await;
    // Two of the page protected by the Protect button first (the default hold).
    h.client()
        .execute_async(
            "const [ids, done] = arguments;
             fetch('/api/protection', {method: 'POST', headers: {'content-type': 'application/json', 'x-holdfast-csrf': '1'},
               body: JSON.stringify({action: 'protect', selection: {kind: 'ids', ids}})}).then(r => done(r.status))",
            vec![serde_json::json!(ids[..2])],
        )
        .await
        .expect("the script runs");
    let (can, protected, _) = standings(&h, &ids).await;
    assert!(can > 0 && protected >= 2, "the first page has both kinds");
    h.client().refresh().await.unwrap();

    click(&h, "nav a[href='/holds']").await;
    eventually(&h, "the default hold", || async {
        let rows = table_rows(&h, "Legal holds").await;
        (rows.len() == 1 && rows[0].starts_with(&format!("Default hold {} ", 40 + 2))).then_some(())
    })
    .await;
    find(&h, "input#hold-name")
        .await
        .send_keys("Smith v. Northwind")
        .await
        .unwrap();
    find(&h, "input#hold-case")
        .await
        .send_keys("CV-2026-114")
        .await
        .unwrap();
    click(&h, "form[aria-label='New legal hold'] button[type=submit]").await;
    eventually(&h, "the new hold in the list", || async {
        let rows = table_rows(&h, "Legal holds").await;
        (rows.len() == 2 && rows[1].starts_with("Smith v. Northwind CV-2026-114 0 manager "))
            .then_some(())
    })
    .await;
    assert_eq!(
        text(&h, "main p.muted[role=status]").await,
        "Created the legal hold “Smith v. Northwind”."
    );
    find(&h, "input[type=search]")
        .await
        .send_keys("cv-2026")
        .await
        .unwrap();
    eventually(&h, "the search to find it alone", || async {
        let rows = table_rows(&h, "Legal holds").await;
        (rows.len() == 1 && rows[0].starts_with("Smith v. Northwind")).then_some(())
    })
    .await;

    // The first page of the view into the hold.
    click(&h, "nav a[href='/interactions']").await;
    row_ids(&h).await;
    let header = find(&h, "input[aria-label='Select all']").await;
    header.click().await.unwrap();
    h.client()
        .find(Locator::XPath("//button[normalize-space(.)='Add to hold']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let numbers = eventually(&h, "the preview numbers", || async {
        let dl = h.client().find(Locator::Css("dialog dl")).await.ok()?;
        dl.text().await.ok()
    })
    .await;
    assert_eq!(text(&h, "dialog h2").await, "Add to legal hold");
    let chosen = h
        .client()
        .execute(
            "return document.querySelector('#hold-choice').selectedOptions[0].text",
            vec![],
        )
        .await
        .expect("the script runs");
    assert_eq!(chosen.as_str(), Some("Smith v. Northwind"));
    assert_eq!(
        (
            figure(&numbers, "Will be protected"),
            figure(&numbers, "Already protected: they join the hold")
        ),
        (can, protected),
        "{numbers}"
    );
    h.screenshot("add-to-hold").await;
    assert_eq!(
        confirm(&h).await,
        format!(
            "Added {} to Smith v. Northwind: {} newly protected.",
            counted(can + protected, "interaction", "interactions"),
            count(can)
        )
    );

    // The hold's page: its interactions and what releasing it does.
    click(&h, "nav a[href='/holds']").await;
    click(
        &h,
        "table[aria-label='Legal holds'] tbody tr:nth-child(2) a",
    )
    .await;
    let preview = eventually(&h, "the release preview", || async {
        let dl = h
            .client()
            .find(Locator::Css("dl[aria-label='Release preview']"))
            .await
            .ok()?;
        dl.text().await.ok()
    })
    .await;
    assert_eq!(
        (
            figure(&preview, "Interactions it covers"),
            figure(&preview, "Stay protected by other holds"),
            figure(&preview, "Become deletable"),
        ),
        (can + protected, protected, can),
        "{preview}"
    );
    assert_eq!(
        table_rows(&h, "Interactions of the hold").await.len() as u32,
        can + protected
    );
    h.screenshot("legal-hold").await;

    // Opened in the interactions view: the hold's interactions with every filter, sort and
    // column of the view, and a way back.
    click(&h, "a[href^='/interactions?hold=']").await;
    eventually(&h, "the hold's interactions in the view", || async {
        let said = text_now(&h, "p.hold-filter").await?;
        let rows = all(&h, "tbody tr[data-id]").await;
        (said == "Showing the interactions of the hold Smith v. Northwind Show all interactions"
            && rows.len() as u32 == can + protected)
            .then_some(())
    })
    .await;
    let in_view = row_ids(&h).await;
    assert!(in_view.iter().all(|id| ids.contains(id)), "{in_view:?}");
    assert_eq!(standings(&h, &in_view).await, (0, can + protected, 0));
    click(&h, "p.hold-filter a").await;
    eventually(&h, "the hold's page again", || async {
        h.client()
            .find(Locator::Css("dl[aria-label='Release preview']"))
            .await
            .ok()
    })
    .await;
    find(&h, "input#release-reason")
        .await
        .send_keys("Settled")
        .await
        .unwrap();
    click(&h, "button.btn-danger").await;
    eventually(&h, "the release to be said", || async {
        let said = text(&h, "p.announcement[role=status]").await;
        (said
            == format!(
                "Released the hold: {} no longer protected, {} still protected by other holds.",
                counted(can, "interaction", "interactions"),
                count(protected)
            ))
        .then_some(())
    })
    .await;
    eventually(&h, "the hold shown released", || async {
        let facts = text(&h, "dl.facts").await;
        facts.contains("Released ").then_some(())
    })
    .await;
    let after = "Protected conversations: 42 / 1,000".to_owned();
    eventually(
        &h,
        "the cap meter back to the default hold's 42",
        || async { (text(&h, ".cap-meter").await == after).then_some(()) },
    )
    .await;
    h.finish().await;
}

/// A legal hold with a query, created on the holds page, catches an interaction that arrives
/// later and matches: its page lists it, and the interaction's page names the hold.
#[tokio::test]
async fn a_query_hold_catches_an_arriving_interaction() {
    let h = Harness::start().await;
    sign_in(&h, "admin", "holdfast-demo").await;
    row_ids(&h).await;
    click(&h, "nav a[href='/holds']").await;
    find(&h, "input#hold-name")
        .await
        .send_keys("Legal review")
        .await
        .unwrap();
    find(&h, "input#hold-query")
        .await
        .send_keys("queue=Legal%20Review")
        .await
        .unwrap();
    click(&h, "form[aria-label='New legal hold'] button[type=submit]").await;
    eventually(&h, "the hold to be created", || async {
        let said = text(&h, "main p.muted[role=status]").await;
        (said
            == "Created the legal hold “Legal review”. It covers 0 interactions now, and those that arrive and match.")
            .then_some(())
    })
    .await;

    // An interaction arrives (as a recorder would send it) and matches.
    let id = "7d9d1c1e-5b51-4a39-9a2e-0c3f1e2d4b61";
    let answer = h
        .client()
        .execute_async(
            "const [id, done] = arguments;
             fetch('/api/ingest', {method: 'POST', headers: {'content-type': 'application/json', 'x-holdfast-csrf': '1'},
               body: JSON.stringify({id, startTime: '2026-12-05T09:00:00Z', endTime: '2026-12-05T09:04:00Z',
                 direction: 'inbound', queue: 'Legal Review', agents: ['Lena Legal'],
                 recordings: [{id: '0b6f3d7e-1c2a-4e5f-8a9b-7c6d5e4f3a2b', media: 'chat', role: 'policy', transcript: 'hello'}]})})
               .then(r => r.json()).then(done)",
            vec![serde_json::json!(id)],
        )
        .await
        .expect("the script runs");
    assert_eq!(answer["heldByQuery"], serde_json::json!(1), "{answer}");

    h.client().refresh().await.unwrap();
    click(
        &h,
        "table[aria-label='Legal holds'] tbody tr:nth-child(2) a",
    )
    .await;
    eventually(&h, "the caught interaction on the hold's page", || async {
        (table_rows(&h, "Interactions of the hold").await.len() == 1).then_some(())
    })
    .await;
    let facts = text(&h, "dl.facts").await;
    assert!(facts.contains("Catches\nqueue=Legal%20Review"), "{facts}");
    h.screenshot("query-hold").await;
    click(&h, "table[aria-label='Interactions of the hold'] a").await;
    eventually(&h, "the interaction to name its hold", || async {
        let facts = text(&h, "dl.facts").await;
        facts.contains("Holds\nLegal review").then_some(())
    })
    .await;
    h.finish().await;
}

/// A list pasted into a hold's page: the preview counts each kind of id, then the list is
/// added and the hold shows its interactions.
#[tokio::test]
async fn a_pasted_list_is_previewed_and_added_to_a_hold() {
    let h = Harness::start().await;
    sign_in(&h, "manager", "holdfast-demo").await;
    let ids = row_ids(&h).await;
    let listed = &ids[..6];
    let (can, protected, without) = standings(&h, listed).await;
    let hold = h
        .client()
        .execute_async(
            "const [done] = arguments;
             fetch('/api/holds', {method: 'POST', headers: {'content-type': 'application/json', 'x-holdfast-csrf': '1'},
               body: JSON.stringify({name: 'Subpoena 17'})}).then(r => r.json()).then(done)",
            vec![],
        )
        .await
        .expect("the script runs");
    let hold_id = hold["id"].as_str().expect("a hold id").to_owned();
    h.client()
        .goto(&h.url(&format!("/holds/{hold_id}")))
        .await
        .unwrap();
    let missing = "3f0c9a52-6d1b-4e8f-9a7c-2b5d4e6f8a91";
    let pasted = format!(
        "conversationId\n{}\nnot an id\n{missing}\n",
        listed.join("\n")
    );
    find(&h, "textarea#list-text")
        .await
        .send_keys(&pasted)
        .await
        .unwrap();
    h.client()
        .find(Locator::XPath(
            "//button[normalize-space(.)='Preview the list']",
        ))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let numbers = eventually(&h, "the list preview", || async {
        let dl = h
            .client()
            .find(Locator::Css("dl[aria-label='List preview']"))
            .await
            .ok()?;
        dl.text().await.ok()
    })
    .await;
    assert_eq!(
        (
            figure(&numbers, "Will be protected"),
            figure(&numbers, "Already protected: they join the hold"),
            figure(&numbers, "No recording to protect"),
            figure(&numbers, "Not found"),
            figure(&numbers, "Lines without an id"),
        ),
        (can, protected, without, 1, 1),
        "{numbers}"
    );
    h.screenshot("hold-list-preview").await;
    h.client()
        .find(Locator::XPath(
            "//button[normalize-space(.)='Add the list']",
        ))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    eventually(&h, "the list to be added", || async {
        let said = text(&h, "p.announcement[role=status]").await;
        (said
            == format!(
                "Added {} to the hold: {} newly protected.",
                counted(can + protected, "interaction", "interactions"),
                count(can)
            ))
        .then_some(())
    })
    .await;
    eventually(&h, "the hold's interactions", || async {
        (table_rows(&h, "Interactions of the hold").await.len() as u32 == can + protected)
            .then_some(())
    })
    .await;
    h.finish().await;
}

/// Clicks the button with this text, once it is there.
async fn click_button(h: &Harness, label: &str) {
    h.client()
        .wait()
        .at_most(PATIENCE)
        .for_element(Locator::XPath(&format!(
            "//button[normalize-space(.)='{label}']"
        )))
        .await
        .unwrap_or_else(|e| panic!("no button {label}: {e}"))
        .click()
        .await
        .unwrap_or_else(|e| panic!("{label} does not click: {e}"));
}

/// Two-person release in the browser: an administrator turns it on and asks to release a
/// hold; the page says it waits and offers only to withdraw it; a manager approves it.
#[tokio::test]
async fn a_two_person_release_is_asked_by_one_user_and_approved_by_another() {
    let h = Harness::start().await;
    sign_in(&h, "admin", "holdfast-demo").await;
    let ids = row_ids(&h).await;
    click(&h, "nav a[href='/holds']").await;
    click(&h, "input#two-person").await;
    let created = h
        .client()
        .execute_async(
            "const [ids, done] = arguments;
             const post = (url, body) => fetch(url, {method: 'POST', headers: {'content-type': 'application/json', 'x-holdfast-csrf': '1'},
               body: JSON.stringify(body)}).then(r => r.json());
             post('/api/holds', {name: 'Closed matter'})
               .then(hold => post('/api/protection', {action: 'protect', selection: {kind: 'ids', ids}, hold: hold.id})
                 .then(done_ => fetch('/api/holds').then(r => r.json()))
                 .then(list => done({hold: hold.id, twoPerson: list.settings.twoPersonRelease})))",
            vec![serde_json::json!(ids[..1])],
        )
        .await
        .expect("the script runs");
    assert_eq!(created["twoPerson"], serde_json::json!(true), "{created}");
    let hold = created["hold"].as_str().unwrap().to_owned();
    let (can, protected, _) = standings(&h, &ids[..1]).await;
    let covered = can + protected;
    h.client()
        .goto(&h.url(&format!("/holds/{hold}")))
        .await
        .unwrap();
    click_button(&h, "Request release").await;
    eventually(&h, "the request to wait", || async {
        let pending = text_now(&h, ".pending").await?;
        (pending.starts_with("Release requested by admin on ")
            && pending.contains("Another user with the permission to release approves it."))
        .then_some(())
    })
    .await;
    assert!(
        h.client()
            .find(Locator::XPath(
                "//button[normalize-space(.)='Approve release']"
            ))
            .await
            .is_err(),
        "the one who asked cannot approve"
    );
    h.screenshot("two-person-requested").await;

    click(&h, "header button").await;
    sign_in(&h, "manager", "holdfast-demo").await;
    row_ids(&h).await;
    h.client()
        .goto(&h.url(&format!("/holds/{hold}")))
        .await
        .unwrap();
    click_button(&h, "Approve release").await;
    eventually(&h, "the release to be said", || async {
        let said = text(&h, "p.announcement[role=status]").await;
        (said
            == format!(
                "Released the hold: {} no longer protected, 0 still protected by other holds.",
                counted(covered, "interaction", "interactions")
            ))
        .then_some(())
    })
    .await;
    eventually(&h, "the hold shown released by the manager", || async {
        text(&h, "dl.facts")
            .await
            .contains("Released ")
            .then_some(())
    })
    .await;
    h.finish().await;
}
