//! `cargo xtask sdk`: the official Genesys Cloud Python SDK against the release server, so that
//! "existing scripts and SDKs work unchanged" is checked with the SDK itself, not with our idea
//! of what it sends.
//!
//! A venv in `target/sdk-venv` gets the pinned SDK from PyPI once; the release binary seeds demo
//! data into a throwaway data directory, adds an API client, and serves on a free loopback port
//! while `e2e/sdk/genesys_sdk.py` runs.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::{Context, Result, bail};

use crate::throwaway_postgres::ThrowawayPostgres;
use crate::{Server, root, run_command, target_dir, wait_for};

/// The SDK version the test is written against (it installs on this machine's Python 3.11).
const SDK: &str = "PureCloudPlatformClientV2==269.0.0";
const PASSWORD: &str = "holdfast-demo";

/// A data directory removed when dropped.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs the SDK script against the release server on SQLite, or with `postgres` on a throwaway
/// PostgreSQL 15 it starts (and removes) itself.
pub fn run(postgres: bool) -> Result<()> {
    let database = postgres.then(ThrowawayPostgres::start);
    let target = target_dir();
    let python = ensure_venv(&target.join("sdk-venv"))?;
    let bin = target.join("release/holdfast");
    if !bin.is_file() {
        bail!(
            "{} is missing; `cargo build --release -p holdfast-server` builds it",
            bin.display()
        );
    }
    let data = Scratch(target.join(format!("sdk-test-{}", std::process::id())));
    let _ = std::fs::remove_dir_all(&data.0);
    let holdfast = || {
        let mut command = Command::new(&bin);
        command
            .arg("--data-dir")
            .arg(&data.0)
            .env("HOLDFAST_LOG", "warn");
        if let Some(database) = &database {
            command.env("HOLDFAST_DATABASE_URL", database.url());
        }
        command
    };
    run_command(holdfast().args(["demo", "--size", "300"]))?;
    let output = holdfast()
        .args([
            "--json",
            "client",
            "add",
            "--org",
            "Northwind Contact Center",
        ])
        .args(["--name", "Genesys SDK test", "--role", "manager"])
        .output()
        .context("could not add the API client")?;
    if !output.status.success() {
        bail!(
            "`holdfast client add` failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let client: serde_json::Value = serde_json::from_slice(&output.stdout)
        .context("`holdfast client add --json` printed no JSON")?;
    let (Some(id), Some(secret)) = (client["clientId"].as_str(), client["clientSecret"].as_str())
    else {
        bail!("`holdfast client add --json` printed {client}");
    };

    let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let addr = format!("127.0.0.1:{port}");
    let _server = Server(
        holdfast()
            .args(["serve", "--addr", &addr, "--sweep-interval", "0"])
            .arg("--site")
            .arg(target.join("site"))
            .stdout(Stdio::null())
            .spawn()
            .context("could not start the server")?,
    );
    wait_for(&addr, Duration::from_secs(60))?;
    run_command(
        Command::new(&python)
            .arg(root().join("e2e/sdk/genesys_sdk.py"))
            .env("HOLDFAST_URL", format!("http://{addr}"))
            .env("HOLDFAST_CLIENT_ID", id)
            .env("HOLDFAST_CLIENT_SECRET", secret)
            .env("HOLDFAST_USER", "manager")
            .env("HOLDFAST_PASSWORD", PASSWORD),
    )
    .context("the official Genesys SDK test failed")
}

/// The venv's python, with the SDK installed (once).
fn ensure_venv(venv: &Path) -> Result<PathBuf> {
    let python = venv.join("bin/python");
    let has_sdk = |python: &Path| {
        Command::new(python)
            .args(["-c", "import PureCloudPlatformClientV2"])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    if python.is_file() && has_sdk(&python) {
        return Ok(python);
    }
    run_command(Command::new("python3").args(["-m", "venv"]).arg(venv))?;
    run_command(Command::new(&python).args(["-m", "pip", "install", "--quiet", SDK]))?;
    Ok(python)
}
