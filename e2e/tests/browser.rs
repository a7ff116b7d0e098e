//! End-to-end tests: the release server with demo data, driven through headless Chromium.
//!
//! One test binary for every browser flow (it links once, and tests share the harness). Run with
//! `cargo xtask test`, which builds the app and the server and sets the environment the harness
//! reads.

use holdfast_e2e::Harness;

#[tokio::test]
async fn the_app_page_loads() {
    let harness = Harness::start().await;
    harness
        .client()
        .goto(harness.base_url())
        .await
        .expect("the browser opens the app");
    harness.wait_for_title("Holdfast").await;
    harness.finish().await;
}
