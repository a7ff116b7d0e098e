//! The app's entry point: a panic hook that reports to the console, then the app on the body.

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(holdfast_app::App);
}
