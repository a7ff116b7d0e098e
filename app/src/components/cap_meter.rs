//! The cap meter, always visible: "Protected conversations: 962 / 1,000".

use leptos::prelude::*;

use crate::format::count;
use crate::state::Session;

#[component]
pub fn CapMeter() -> impl IntoView {
    let session = Session::get();
    view! {
        <div class="cap-meter" role="status" aria-live="polite">
            {move || match session.org.get() {
                Some(s) => view! {
                    <span>"Protected conversations: " {count(s.protected)} " / " {count(s.cap)}</span>
                    <meter min="0" max=s.cap.to_string() value=s.protected.to_string()
                        high=(u64::from(s.cap) * 9 / 10).to_string()
                        aria-label="Protected conversations against the limit"></meter>
                }.into_any(),
                None => view! { <span class="muted">"Protected conversations: …"</span> }.into_any(),
            }}
        </div>
    }
}
