//! Property tests of core's round trips, and the guard that keeps core free of I/O crates.

use chrono::{TimeZone, Utc};
use holdfast_core::view::{Column, Filters, PAGE_SIZES, Sort, SortKey, ViewState};
use holdfast_core::{Direction, Media};
use proptest::prelude::*;
use proptest::sample::{select, subsequence};

fn instant() -> impl Strategy<Value = chrono::DateTime<Utc>> {
    // 1970 to 2100, whole seconds: views name whole seconds.
    (0i64..4_102_444_800).prop_map(|s| Utc.timestamp_opt(s, 0).single().unwrap_or_default())
}

fn text() -> impl Strategy<Value = String> {
    // Any printable text, including spaces, '&', '=', '%', '+' and non-ASCII, trimmed and not
    // empty, as the view accepts.
    "[ -~é漢字😀]{1,40}".prop_filter_map("trimmed, not empty", |s| {
        let t = s.trim().to_owned();
        (!t.is_empty()).then_some(t)
    })
}

fn media() -> impl Strategy<Value = Vec<Media>> {
    subsequence(Media::ALL.to_vec(), 0..=Media::ALL.len()).prop_shuffle()
}

fn filters() -> impl Strategy<Value = Filters> {
    (
        (
            proptest::option::of(instant()),
            proptest::option::of(instant()),
            media(),
        ),
        proptest::option::of(select(Direction::ALL.to_vec())),
        (
            proptest::option::of(text()),
            proptest::option::of(text()),
            proptest::option::of(text()),
        ),
        (
            proptest::option::of(any::<bool>()),
            proptest::option::of(any::<bool>()),
            proptest::option::of(instant()),
        ),
        proptest::option::of(any::<u128>().prop_map(|n| {
            holdfast_core::HoldId::parse(&uuid::Uuid::from_u128(n).to_string()).unwrap()
        })),
    )
        .prop_map(
            |((from, to, media), direction, (queue, agent, remote), (rec, prot, del), hold)| {
                Filters {
                    from,
                    to,
                    media,
                    direction,
                    queue,
                    agent,
                    remote,
                    has_recording: rec,
                    protected: prot,
                    deleted_before: del,
                    hold,
                }
            },
        )
}

fn view() -> impl Strategy<Value = ViewState> {
    (
        filters(),
        select(SortKey::ALL.to_vec()),
        any::<bool>(),
        1u32..=u32::MAX,
        select(PAGE_SIZES.to_vec()),
        subsequence(Column::ALL.to_vec(), 1..=Column::ALL.len()).prop_shuffle(),
    )
        .prop_map(
            |(filters, key, descending, page, page_size, columns)| ViewState {
                filters,
                sort: Sort { key, descending },
                page,
                page_size,
                columns,
            },
        )
}

proptest! {
    #[test]
    fn view_state_round_trips_through_the_query(v in view()) {
        let query = v.to_query();
        prop_assert_eq!(ViewState::from_query(&query), Ok(v.clone()));
        prop_assert_eq!(ViewState::from_query(&format!("?{query}")), Ok(v));
    }

    #[test]
    fn any_query_parses_or_errs_without_panic(query in "\\PC{0,80}") {
        if let Ok(v) = ViewState::from_query(&query) {
            // Whatever parses has one canonical form, which parses to the same view.
            prop_assert_eq!(ViewState::from_query(&v.to_query()), Ok(v));
        }
    }

    #[test]
    fn filters_round_trip(f in filters()) {
        prop_assert_eq!(Filters::from_query(&f.to_query()), Ok(f));
    }
}

/// core runs in the browser and in the server alike: it must not depend on an async runtime,
/// an HTTP stack, a database or the DOM.
#[test]
fn core_depends_on_no_io_crate() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let out = std::process::Command::new(cargo)
        .args([
            "tree",
            "-p",
            "holdfast-core",
            "-e",
            "normal",
            "--target",
            "all",
            "--prefix",
            "none",
        ])
        .args(["--format", "{p}", "--offline"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo tree runs");
    assert!(
        out.status.success(),
        "cargo tree failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let tree = String::from_utf8_lossy(&out.stdout);
    let names: Vec<&str> = tree
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert!(names.contains(&"serde"), "the tree was read: {names:?}");
    for banned in [
        "tokio",
        "hyper",
        "rusqlite",
        "web-sys",
        "js-sys",
        "wasm-bindgen",
        "getrandom",
    ] {
        assert!(
            !names.contains(&banned),
            "holdfast-core depends on {banned}: {names:?}"
        );
    }
}
