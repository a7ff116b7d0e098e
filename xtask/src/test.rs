//! `cargo xtask test`: every check CI runs, in order, stopping at the first failure.
//!
//! Cheap checks come first so a formatting slip fails in seconds, not after a browser run.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, bail};

use crate::{WASM_TARGET, cargo, ensure_wasm_target, run_command, site, target_dir};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

struct Step {
    name: &'static str,
    run: fn() -> Result<()>,
}

const STEPS: &[Step] = &[
    Step {
        name: "formatting",
        run: || {
            run_command(cargo().args(["fmt", "--all", "--check"]))
                .context("some files are not formatted; `cargo fmt --all` fixes them")
        },
    },
    Step {
        name: "clippy (host crates)",
        run: || {
            run_command(cargo().args([
                "clippy",
                "--workspace",
                "--exclude",
                "holdfast-app",
                "--all-targets",
                "--",
                "-D",
                "warnings",
            ]))
        },
    },
    Step {
        name: "clippy (app, wasm32)",
        run: || {
            ensure_wasm_target()?;
            run_command(cargo().args([
                "clippy",
                "-p",
                "holdfast-app",
                "--target",
                WASM_TARGET,
                "--all-targets",
                "--",
                "-D",
                "warnings",
            ]))
        },
    },
    Step {
        name: "unit and integration tests (host)",
        run: || run_command(cargo().arg("test")),
    },
    Step {
        name: "core builds for wasm32",
        run: || {
            run_command(cargo().args(["build", "-p", "holdfast-core", "--target", WASM_TARGET]))
        },
    },
    Step {
        name: "Chromium and chromedriver installed",
        run: ensure_browsers,
    },
    Step {
        name: "app tests in headless Chromium",
        run: app_wasm_tests,
    },
    Step {
        name: "build the app (first load within its budget) and the release server",
        run: || {
            site::check_first_load(&site::build_app(site::Profile::Release)?)?;
            run_command(cargo().args(["build", "--release", "-p", "holdfast-server"]))
        },
    },
    Step {
        name: "the official Genesys Cloud Python SDK against the release server",
        run: || crate::sdk::run(false),
    },
    Step {
        name: "the official Genesys Cloud Python SDK against the release server on PostgreSQL",
        run: || crate::sdk::run(true),
    },
    Step {
        name: "three instances on one PostgreSQL: 64 clients racing, two sweeping, one killed",
        run: || crate::multi::run(8),
    },
    Step {
        name: "the benchmark at a small size (it runs; no time is asserted)",
        run: || crate::bench::run(&["--size", "2000"]),
    },
    Step {
        name: "end-to-end tests in headless Chromium",
        run: end_to_end_tests,
    },
];

pub fn run_all() -> Result<()> {
    let started = Instant::now();
    let total = STEPS.len();
    for (index, step) in STEPS.iter().enumerate() {
        let number = index + 1;
        eprintln!("\nxtask test: step {number}/{total}: {}", step.name);
        let step_started = Instant::now();
        (step.run)()
            .with_context(|| format!("xtask test: step {number}/{total} ({}) failed", step.name))?;
        eprintln!(
            "xtask test: step {number}/{total} passed in {:.1}s",
            step_started.elapsed().as_secs_f64()
        );
    }
    println!(
        "xtask test: all {total} steps passed in {:.0}s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Installs Chromium and its driver from Debian when either is missing.
fn ensure_browsers() -> Result<()> {
    if Path::new(CHROMIUM).is_file() && Path::new(CHROMEDRIVER).is_file() {
        return Ok(());
    }
    const INSTALL: &str = "apt-get update && apt-get install -y chromium chromium-driver";
    if !is_root()? {
        bail!(
            "{CHROMIUM} or {CHROMEDRIVER} is missing; install them as root with `{INSTALL}`, \
             then run `cargo xtask test` again"
        );
    }
    let apt = || {
        let mut command = Command::new("apt-get");
        command.env("DEBIAN_FRONTEND", "noninteractive");
        command
    };
    run_command(apt().arg("update"))?;
    run_command(apt().args(["install", "-y", "chromium", "chromium-driver"]))
}

fn is_root() -> Result<bool> {
    let output = Command::new("id")
        .arg("-u")
        .output()
        .context("could not run `id -u`")?;
    Ok(String::from_utf8_lossy(&output.stdout).trim() == "0")
}

/// Runs the app's `wasm_bindgen_test`s through `cargo xtask wasm-test-runner`.
fn app_wasm_tests() -> Result<()> {
    let this = std::env::current_exe().context("could not find the xtask binary")?;
    let this = this
        .to_str()
        .context("the xtask binary's path is not UTF-8")?;
    // Cargo splits a runner given through the environment on whitespace.
    if this.contains(char::is_whitespace) {
        bail!(
            "the xtask binary's path `{this}` contains whitespace, which cargo's runner setting cannot express"
        );
    }
    run_command(
        cargo()
            .args(["test", "-p", "holdfast-app", "--target", WASM_TARGET])
            .env(
                "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER",
                format!("{this} wasm-test-runner"),
            )
            .env("CHROMEDRIVER", CHROMEDRIVER)
            .env("CHROMIUM", CHROMIUM),
    )
}

/// Runs the end-to-end tests against the release server and the built site. Only the
/// `browser` test binary: the library has no tests of its own, and a closing "0 passed" from
/// its doc-tests would make the run's last line say that nothing was tested.
fn end_to_end_tests() -> Result<()> {
    let target = target_dir();
    run_command(
        cargo()
            .args(["test", "-p", "holdfast-e2e", "--test", "browser"])
            .env("HOLDFAST_BIN", target.join("release/holdfast"))
            .env("HOLDFAST_SITE", target.join("site"))
            .env("CHROMEDRIVER", CHROMEDRIVER)
            .env("CHROMIUM", CHROMIUM),
    )
}
