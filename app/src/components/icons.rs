//! Inline SVG icons: no icon font, no other origin. Icons that carry meaning have an accessible
//! name; decorative ones are hidden from screen readers.

use leptos::prelude::*;

/// The padlock shown for protected interactions, named "Protected".
#[component]
pub fn Lock() -> impl IntoView {
    view! {
        <svg class="icon" viewBox="0 0 16 16" role="img" aria-label="Protected" fill="currentColor">
            <title>"Protected"</title>
            <path d="M8 1a3.5 3.5 0 0 0-3.5 3.5V7H4a1 1 0 0 0-1 1v6a1 1 0 0 0 1 1h8a1 1 0 0 0 1-1V8a1 1 0 0 0-1-1h-.5V4.5A3.5 3.5 0 0 0 8 1zm-2 6V4.5a2 2 0 1 1 4 0V7H6z"/>
        </svg>
    }
}

/// The product mark; decorative.
#[component]
pub fn Shield() -> impl IntoView {
    view! {
        <svg class="icon" viewBox="0 0 16 16" aria-hidden="true" fill="currentColor">
            <path d="M8 0.5 2 3v4.5c0 3.6 2.6 6.9 6 8 3.4-1.1 6-4.4 6-8V3L8 0.5zm0 2.1 4 1.7v3.2c0 2.6-1.7 5-4 5.9-2.3-.9-4-3.3-4-5.9V4.3l4-1.7z"/>
        </svg>
    }
}
