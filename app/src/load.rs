//! Data a page fetches, and the one-line messages pages show while it loads or when it fails.
//!
//! Lighter than leptos's resources on purpose: a signal, an effect and a task, the same few
//! functions for every type of data, because every generic instance costs download size.

use std::cell::Cell;
use std::future::Future;
use std::rc::Rc;

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::ApiError;

/// `None` until the first answer; then the latest answer, kept while a newer one loads.
pub type Loaded<T> = RwSignal<Option<Result<T, ApiError>>>;

/// Fetches with `source` now and again whenever a signal it reads changes. An answer that
/// arrives after a newer request started is dropped, so the page never shows an older view.
pub fn load<T, Fut>(source: impl Fn() -> Fut + 'static) -> Loaded<T>
where
    T: Send + Sync + 'static,
    Fut: Future<Output = Result<T, ApiError>> + 'static,
{
    let data = RwSignal::new(None);
    let latest = Rc::new(Cell::new(0u64));
    Effect::new(move |_| {
        let request = source();
        let n = latest.get() + 1;
        latest.set(n);
        let latest = Rc::clone(&latest);
        spawn_local(async move {
            let answer = request.await;
            if latest.get() == n {
                data.set(Some(answer));
            }
        });
    });
    data
}

/// A one-line message: `class` is `loading`, `empty`, `done`, `muted`, `alert` or `refusal`;
/// the last two are announced as alerts, the others as status.
pub fn notice(class: &'static str, text: String) -> AnyView {
    let role = match class {
        "alert" | "refusal" => "alert",
        _ => "status",
    };
    view! { <p class=class role=role>{text}</p> }.into_any()
}
