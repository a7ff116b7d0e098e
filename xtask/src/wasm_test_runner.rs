//! `cargo xtask wasm-test-runner`: cargo's runner for wasm32 test binaries, headless Chromium.
//!
//! Cargo calls the runner as `<runner> <file.wasm> <test args...>` when
//! `CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER` names it. This is wasm-bindgen's own test runner
//! (`wasm_bindgen_cli::wasm_bindgen_test_runner`, the library behind the
//! `wasm-bindgen-test-runner` binary) at exactly the wasm-bindgen version the app uses, so nobody
//! has to `cargo install` a matching binary.
//!
//! That runner reads the browser's WebDriver capabilities from the JSON file named by
//! `WASM_BINDGEN_TEST_WEBDRIVER_JSON` and the driver from `CHROMEDRIVER`. A process cannot set its
//! own environment safely (`set_var` is unsafe, and unsafe code is forbidden here), so when the
//! variable is not set yet this command writes the capabilities, with a fresh profile folder, and
//! runs itself once more with the variables set.

use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

/// Set in the child process, so it runs the tests instead of preparing them again.
const CAPABILITIES_VAR: &str = "WASM_BINDGEN_TEST_WEBDRIVER_JSON";

/// The browser flags shared with the end-to-end tests: headless, and quiet (no network calls of
/// its own, no first-run dialogs), so test runs are deterministic and work offline.
const CHROME_ARGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
];

pub fn run(args: &[OsString]) -> Result<()> {
    if args.is_empty() {
        bail!("wasm-test-runner needs the wasm file to test; cargo passes it as the runner");
    }
    if std::env::var_os(CAPABILITIES_VAR).is_some() {
        let argv = std::iter::once(OsString::from("wasm-bindgen-test-runner")).chain(args.to_vec());
        return wasm_bindgen_cli::wasm_bindgen_test_runner::run_cli_with_args(argv);
    }

    let scratch = scratch_dir()?;
    let result = run_prepared(args, &scratch);
    // Chromium is gone by now (the runner closes its window and kills the driver).
    if let Err(error) = fs::remove_dir_all(&scratch) {
        eprintln!(
            "wasm-test-runner: could not remove {}: {error}",
            scratch.display()
        );
    }
    result
}

/// Writes the capabilities into `scratch` and runs this command again with them.
fn run_prepared(args: &[OsString], scratch: &Path) -> Result<()> {
    let profile = scratch.join("profile");
    fs::create_dir_all(&profile)?;
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".to_string());
    let mut chrome_args: Vec<String> = CHROME_ARGS.iter().map(|arg| arg.to_string()).collect();
    chrome_args.push(format!("--user-data-dir={}", profile.display()));
    let capabilities = serde_json::json!({
        "goog:chromeOptions": { "binary": chromium, "args": chrome_args },
    });
    let capabilities_file = scratch.join("webdriver.json");
    fs::write(&capabilities_file, capabilities.to_string())?;

    let chromedriver =
        std::env::var_os("CHROMEDRIVER").unwrap_or_else(|| "/usr/bin/chromedriver".into());
    let this = std::env::current_exe().context("could not find the xtask binary")?;
    let status = Command::new(this)
        .arg("wasm-test-runner")
        .args(args)
        .env(CAPABILITIES_VAR, &capabilities_file)
        .env("CHROMEDRIVER", chromedriver)
        .status()
        .context("could not run the wasm test runner")?;
    if !status.success() {
        bail!("wasm tests failed ({status})");
    }
    Ok(())
}

/// A new, empty folder under the system's temporary folder.
fn scratch_dir() -> Result<PathBuf> {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.subsec_nanos());
    let dir =
        std::env::temp_dir().join(format!("holdfast-wasm-test-{}-{nanos}", std::process::id()));
    fs::create_dir_all(&dir).with_context(|| format!("could not create {}", dir.display()))?;
    Ok(dir)
}
