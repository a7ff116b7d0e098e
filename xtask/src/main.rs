//! Holdfast's build and test commands, run as `cargo xtask <command>`.
//!
//! The commands are plain Rust instead of shell scripts so they behave the same on a developer's
//! machine and on a fresh CI machine. Arguments are few, so they are parsed by hand.

mod bench;
mod multi;
mod sdk;
mod site;
mod test;
#[path = "../../server/tests/support/throwaway_postgres.rs"]
mod throwaway_postgres;
mod upload_bench;
mod wasm_test_runner;

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use anyhow::{Context, Result, bail};

const USAGE: &str = "\
Usage: cargo xtask <command>

Commands:
  build-app [--debug]       Build the browser app into target/site (wasm, glue, html, css,
                            precompressed .br and .gz siblings).
  run [-- <server args>]    Build the app and the server, then serve the demo on
                            http://127.0.0.1:8080.
  test                      Everything CI runs: fmt, clippy, unit tests, the app's wasm tests
                            in headless Chromium, and the end-to-end browser tests.
  bench [--size N]          What a manager's actions cost over HTTP against the release
                            server with N demo conversations (default 100000); prints a
                            table and writes target/bench/report.json and chart.svg (p50
                            against size, every size run so far).
  bench --chart             Only draw target/bench/chart.svg from the reports kept.
  sdk [--postgres]          The official Genesys Cloud Python SDK against the release server
                            (needs `cargo build --release -p holdfast-server` and the site);
                            with --postgres, on a throwaway PostgreSQL 15 it starts itself.
  multi [--seconds N]       Three release servers on one throwaway PostgreSQL, 64 clients racing
                            protect and release for N seconds (default 20) while two sweep and
                            one is killed: the cap, every acknowledged change and the sweep are
                            checked exactly.
  size                      Build the app and check the first-load bytes (brotli) against the
                            budget.
  fuzz [--seconds N]        Every parser of untrusted input fuzzed for N seconds each
                            (default 60); `cargo xtask test` runs them for a moment.
  wasm-test-runner <wasm>   Cargo's runner for wasm32 tests: runs them in headless Chromium.
";

fn main() -> ExitCode {
    match dispatch() {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // Printed by hand rather than returned from `main`, which would add a backtrace to
            // every failing command whenever RUST_BACKTRACE is set: noise for a build tool.
            eprintln!("error: {error}");
            for cause in error.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            ExitCode::FAILURE
        }
    }
}

fn dispatch() -> Result<()> {
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    let Some(command) = args.first() else {
        print!("{USAGE}");
        bail!("no command given");
    };
    let rest = &args[1..];
    match command.to_str() {
        Some("build-app") => {
            let profile = match flags(rest)?.as_slice() {
                [] => site::Profile::Release,
                ["--debug"] => site::Profile::Debug,
                other => bail!("build-app takes only `--debug`, got {other:?}"),
            };
            site::build_app(profile).map(drop)
        }
        Some("run") => run(rest),
        Some("test") => {
            if !rest.is_empty() {
                bail!("test takes no arguments, got {rest:?}");
            }
            test::run_all()
        }
        Some("bench") => bench::run(&flags(rest)?),
        Some("sdk") => match flags(rest)?.as_slice() {
            [] => sdk::run(false),
            ["--postgres"] => sdk::run(true),
            other => bail!("sdk takes only `--postgres`, got {other:?}"),
        },
        Some("multi") => match flags(rest)?.as_slice() {
            [] => multi::run(20),
            ["--seconds", n] => multi::run(n.parse().context("--seconds takes a whole number")?),
            other => bail!("multi takes only `--seconds N`, got {other:?}"),
        },
        Some("size") => {
            if !rest.is_empty() {
                bail!("size takes no arguments, got {rest:?}");
            }
            site::check_size()
        }
        Some("fuzz") => {
            let seconds = match flags(rest)?.as_slice() {
                [] => "60".to_owned(),
                ["--seconds", n] if n.parse::<f64>().is_ok_and(|n| n > 0.0) => (*n).to_owned(),
                other => bail!("fuzz takes only `--seconds N`, got {other:?}"),
            };
            run_command(
                cargo()
                    .args([
                        "test",
                        "--release",
                        "-p",
                        "holdfast-server",
                        "--test",
                        "fuzz",
                        "--",
                        "--nocapture",
                    ])
                    .env("HOLDFAST_FUZZ_SECONDS", seconds),
            )
        }
        Some("wasm-test-runner") => wasm_test_runner::run(rest),
        Some("help" | "--help" | "-h") => {
            print!("{USAGE}");
            Ok(())
        }
        _ => {
            print!("{USAGE}");
            bail!("unknown command {command:?}")
        }
    }
}

/// Builds everything and replaces this process with the server, so Ctrl-C reaches it directly.
fn run(args: &[OsString]) -> Result<()> {
    let passthrough = match args.split_first() {
        None => &[][..],
        Some((dashes, rest)) if dashes == "--" => rest,
        Some(_) => bail!("run passes arguments to the server only after `--`, got {args:?}"),
    };
    site::build_app(site::Profile::Release)?;
    run_command(cargo().args(["build", "--release", "-p", "holdfast-server"]))?;

    let target = target_dir();
    let mut server = Command::new(target.join("release/holdfast"));
    server
        .current_dir(root())
        .args([
            "serve",
            "--addr",
            "127.0.0.1:8080",
            "--data-dir",
            "data",
            "--site",
        ])
        .arg(target.join("site"))
        .arg("--demo")
        .args(passthrough);
    eprintln!("$ {}", display(&server));
    exec(&mut server)
}

#[cfg(unix)]
fn exec(command: &mut Command) -> Result<()> {
    use std::os::unix::process::CommandExt;
    let error = command.exec();
    Err(error).with_context(|| format!("could not start `{}`", display(command)))
}

#[cfg(not(unix))]
fn exec(command: &mut Command) -> Result<()> {
    run_command(command)
}

/// Turns arguments into `&str`s for matching; none of the flags here are anything but ASCII.
fn flags(args: &[OsString]) -> Result<Vec<&str>> {
    args.iter()
        .map(|arg| {
            arg.to_str()
                .with_context(|| format!("argument {arg:?} is not UTF-8"))
        })
        .collect()
}

/// The workspace root: xtask always runs through cargo, from the xtask/ folder's parent.
fn root() -> PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir
        .parent()
        .expect("xtask/ sits inside the workspace root")
        .to_path_buf()
}

/// Cargo's target folder: `target/` unless `CARGO_TARGET_DIR` moves it.
fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => root().join(dir),
        None => root().join("target"),
    }
}

/// A `cargo` command run from the workspace root, using the cargo that started xtask.
fn cargo() -> Command {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command.current_dir(root());
    command
}

/// Runs a command with inherited output and fails if it does not exit successfully.
fn run_command(command: &mut Command) -> Result<()> {
    let shown = display(command);
    eprintln!("$ {shown}");
    let status = command
        .status()
        .with_context(|| format!("could not start `{shown}`"))?;
    if !status.success() {
        bail!("`{shown}` failed ({status})");
    }
    Ok(())
}

/// The command as a person would type it, with the environment it sets in front.
fn display(command: &Command) -> String {
    let envs = command.get_envs().filter_map(|(key, value)| {
        let value = value?;
        Some(format!(
            "{}={}",
            key.to_string_lossy(),
            value.to_string_lossy()
        ))
    });
    let program = Path::new(command.get_program())
        .file_name()
        .unwrap_or(command.get_program())
        .to_string_lossy()
        .into_owned();
    let args = command
        .get_args()
        .map(|arg| arg.to_string_lossy().into_owned());
    envs.chain(std::iter::once(program))
        .chain(args)
        .collect::<Vec<_>>()
        .join(" ")
}

/// Installs the wasm32 target through rustup when it is missing, as on a fresh CI machine.
fn ensure_wasm_target() -> Result<()> {
    let output = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .current_dir(root())
        .output()
        .context("could not run `rustup target list --installed`; is rustup installed?")?;
    if !output.status.success() {
        bail!(
            "`rustup target list --installed` failed ({})",
            output.status
        );
    }
    let installed = String::from_utf8_lossy(&output.stdout);
    if installed.lines().any(|line| line.trim() == WASM_TARGET) {
        return Ok(());
    }
    run_command(
        Command::new("rustup")
            .args(["target", "add", WASM_TARGET])
            .current_dir(root()),
    )
}

const WASM_TARGET: &str = "wasm32-unknown-unknown";

/// A server process that is killed when dropped, whatever happened meanwhile.
struct Server(std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Waits until something accepts connections on `addr`.
fn wait_for(addr: &str, patience: std::time::Duration) -> Result<()> {
    let started = std::time::Instant::now();
    while started.elapsed() < patience {
        if std::net::TcpStream::connect(addr).is_ok() {
            return Ok(());
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    bail!("nothing listened on {addr} within {} s", patience.as_secs())
}
