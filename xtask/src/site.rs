//! `cargo xtask build-app` and `cargo xtask size`: the browser app as the static files the server
//! sends.
//!
//! The pipeline is cargo (wasm32) -> wasm-bindgen (as a library) -> wasm-opt -> copy the HTML,
//! boot script and CSS -> precompress. Everything lands in `target/site/`, which is what the
//! server's `--site` flag points at.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use wasm_bindgen_cli_support::Bindgen;

use crate::{WASM_TARGET, cargo, ensure_wasm_target, root, run_command, target_dir};

/// The binaryen release whose wasm-opt understands what Rust 1.95 and wasm-bindgen 0.2.130 emit.
///
/// It comes from npm, not Debian: Debian's binaryen is too old for these wasm features and
/// produces an app that fails to load.
const BINARYEN_VERSION: &str = "132.0.0";

/// The wasm features the optimizer may keep and use.
///
/// These are the features Rust 1.95 enables by default for wasm32-unknown-unknown, plus what
/// wasm-bindgen 0.2.130 adds (externref tables need reference types). The list is explicit rather
/// than `--all-features` so wasm-opt never introduces instructions from proposals a browser may
/// lack (GC, strings, stack switching, ...). Chromium and Firefox support all of these.
const WASM_FEATURES: &[&str] = &[
    "--enable-bulk-memory",
    "--enable-bulk-memory-opt",
    "--enable-call-indirect-overlong",
    "--enable-multivalue",
    "--enable-mutable-globals",
    "--enable-nontrapping-float-to-int",
    "--enable-reference-types",
    "--enable-sign-ext",
];

/// The first-load budget, in brotli bytes: HTML, boot script, glue, wasm and CSS together.
/// Raised from 150,000 with the legal-hold pages (about 9 KB for two pages, 5 KB for the
/// hold choice in the protect dialog and its wire types, 4.5 KB for pasted lists): the next
/// step is one wasm per page loaded on first visit, not a higher number.
const FIRST_LOAD_BUDGET: u64 = 180_000;

/// The name wasm-bindgen gives the generated files: `pkg/holdfast_app.js`, `..._bg.wasm`.
const OUT_NAME: &str = "holdfast_app";

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    /// Small and optimized: the `wasm-release` profile, wasm-opt -Oz, precompressed.
    Release,
    /// Quick to build and debuggable: the dev profile, no wasm-opt, no precompression.
    Debug,
}

/// One file of the built site and its sizes.
pub struct SiteFile {
    /// The path under `target/site/`, with forward slashes, as the browser asks for it.
    pub path: String,
    pub raw: u64,
    /// Brotli and gzip sizes; `None` when not precompressed (debug builds).
    pub brotli: Option<u64>,
    pub gzip: Option<u64>,
}

/// Builds the app into `target/site/` and returns its files with their sizes.
pub fn build_app(profile: Profile) -> Result<Vec<SiteFile>> {
    let started = Instant::now();
    let root = root();
    let target = target_dir();
    let site = target.join("site");
    ensure_wasm_target()?;

    let (cargo_profile, profile_dir) = match profile {
        Profile::Release => ("wasm-release", "wasm-release"),
        Profile::Debug => ("dev", "debug"),
    };
    run_command(cargo().args([
        "build",
        "-p",
        "holdfast-app",
        "--target",
        WASM_TARGET,
        "--profile",
        cargo_profile,
    ]))?;
    let wasm = target
        .join(WASM_TARGET)
        .join(profile_dir)
        .join("holdfast-app.wasm");

    // Start from an empty folder: a stale `.br` next to a fresh file would be served instead of it.
    if site.exists() {
        fs::remove_dir_all(&site).with_context(|| format!("could not clear {}", site.display()))?;
    }
    let pkg = site.join("pkg");
    fs::create_dir_all(&pkg).with_context(|| format!("could not create {}", pkg.display()))?;

    eprintln!("wasm-bindgen {} -> {}", wasm.display(), pkg.display());
    let debug = profile == Profile::Debug;
    Bindgen::new()
        .input_path(&wasm)
        .web(true)?
        .out_name(OUT_NAME)
        .typescript(false)
        // The library defaults to leaving the wasm file's URL out of the glue (the command line
        // puts it in); boot.js calls `init()` without one, so the glue must know it.
        .omit_default_module_path(false)
        // Debug builds keep function names, so panics and profiles are readable, and the glue's
        // extra checks, but not DWARF: that would make the file tens of megabytes.
        .debug(debug)
        .remove_name_section(!debug)
        .remove_producers_section(!debug)
        .generate(&pkg)
        .with_context(|| format!("wasm-bindgen failed on {}", wasm.display()))?;

    if profile == Profile::Release {
        optimize_wasm(&pkg.join(format!("{OUT_NAME}_bg.wasm")))?;
    }
    copy_assets(&root, &site)?;

    let mut files = Vec::new();
    for path in files_under(&site)? {
        let raw = fs::metadata(&path)?.len();
        let (brotli, gzip) = match profile {
            Profile::Release => {
                let (brotli, gzip) = precompress(&path)?;
                (Some(brotli), Some(gzip))
            }
            Profile::Debug => (None, None),
        };
        let relative = path
            .strip_prefix(&site)
            .expect("listed under the site folder");
        let path = relative.to_string_lossy().replace('\\', "/");
        files.push(SiteFile {
            path,
            raw,
            brotli,
            gzip,
        });
    }
    print_sizes(&files);
    eprintln!(
        "build-app: {} in {:.1}s",
        site.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(files)
}

/// `cargo xtask size`: fails when the first load, compressed, is over the budget.
pub fn check_size() -> Result<()> {
    check_first_load(&build_app(Profile::Release)?)
}

/// Prints the first-load bytes of a release build and fails when they are over the budget.
pub fn check_first_load(files: &[SiteFile]) -> Result<()> {
    let first_load = |path: &str| {
        matches!(
            path,
            "index.html" | "boot.js" | "pkg/holdfast_app.js" | "pkg/holdfast_app_bg.wasm"
        ) || (path.starts_with("style/") && path.ends_with(".css"))
    };
    let mut total = 0;
    println!("first load (brotli):");
    for file in files.iter().filter(|file| first_load(&file.path)) {
        let brotli = file.brotli.expect("release builds are precompressed");
        println!("  {:>9}  {}", brotli, file.path);
        total += brotli;
    }
    println!(
        "  {total:>9}  total, budget {FIRST_LOAD_BUDGET} ({:.0}% used)",
        total as f64 * 100.0 / FIRST_LOAD_BUDGET as f64
    );
    if total > FIRST_LOAD_BUDGET {
        bail!("first load is {total} bytes of brotli, over the budget of {FIRST_LOAD_BUDGET}");
    }
    Ok(())
}

/// Runs wasm-opt -Oz over the wasm file in place.
fn optimize_wasm(wasm: &Path) -> Result<()> {
    let wasm_opt = install_binaryen()?;
    let optimized = wasm.with_extension("opt.wasm");
    let before = fs::metadata(wasm)?.len();
    let started = Instant::now();
    // The npm package's wasm-opt is a Node script (binaryen compiled to wasm by emscripten);
    // calling node directly avoids depending on the executable bit and the shebang.
    let mut command = Command::new("node");
    command
        .arg(&wasm_opt)
        .arg("-Oz")
        .args(WASM_FEATURES)
        .arg(wasm)
        .arg("-o")
        .arg(&optimized)
        .current_dir(root());
    run_command(&mut command)?;
    fs::rename(&optimized, wasm)?;
    let after = fs::metadata(wasm)?.len();
    eprintln!(
        "wasm-opt: {before} -> {after} bytes in {:.1}s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Installs binaryen from npm into `target/tools/` unless that version is already there, and
/// returns the path of its wasm-opt script.
fn install_binaryen() -> Result<PathBuf> {
    let tools = target_dir().join("tools");
    let package = tools.join("node_modules/binaryen");
    let wasm_opt = package.join("bin/wasm-opt");
    let manifest = fs::read_to_string(package.join("package.json")).unwrap_or_default();
    let wanted = format!("\"version\": \"{BINARYEN_VERSION}\"");
    if manifest.contains(&wanted) && wasm_opt.is_file() {
        return Ok(wasm_opt);
    }
    fs::create_dir_all(&tools)?;
    let mut npm = Command::new("npm");
    npm.arg("install")
        .arg("--prefix")
        .arg(&tools)
        .args(["--no-audit", "--no-fund", "--no-save"])
        .arg(format!("binaryen@{BINARYEN_VERSION}"))
        .current_dir(root());
    run_command(&mut npm).context(
        "installing binaryen from npm failed; wasm-opt needs Node.js and npm \
         (Debian: `apt-get install nodejs npm`)",
    )?;
    if !wasm_opt.is_file() {
        bail!(
            "npm installed binaryen@{BINARYEN_VERSION} but {} is missing",
            wasm_opt.display()
        );
    }
    Ok(wasm_opt)
}

/// Copies the page, its boot script and the stylesheets next to the generated package.
fn copy_assets(root: &Path, site: &Path) -> Result<()> {
    let copy = |from: &Path, to: &Path| -> Result<()> {
        fs::copy(from, to)
            .map(drop)
            .with_context(|| format!("could not copy {} to {}", from.display(), to.display()))
    };
    copy(&root.join("index.html"), &site.join("index.html"))?;
    copy(&root.join("app/boot.js"), &site.join("boot.js"))?;

    let styles = site.join("style");
    fs::create_dir_all(&styles)?;
    let source = root.join("style");
    let entries =
        fs::read_dir(&source).with_context(|| format!("could not read {}", source.display()))?;
    for entry in entries {
        let path = entry?.path();
        if path.extension().is_some_and(|extension| extension == "css") {
            let name = path.file_name().expect("a directory entry has a name");
            copy(&path, &styles.join(name))?;
        }
    }
    Ok(())
}

/// Every file under `dir`, recursively, in a stable order.
fn files_under(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in
            fs::read_dir(&dir).with_context(|| format!("could not read {}", dir.display()))?
        {
            let entry = entry?;
            if entry.file_type()?.is_dir() {
                pending.push(entry.path());
            } else {
                files.push(entry.path());
            }
        }
    }
    files.sort();
    Ok(files)
}

/// Writes `<file>.br` (brotli, quality 11) and `<file>.gz` (gzip, best) and returns their sizes.
fn precompress(path: &Path) -> Result<(u64, u64)> {
    let data = fs::read(path)?;
    let with_suffix = |suffix: &str| {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        PathBuf::from(name)
    };

    let params = brotli::enc::backward_references::BrotliEncoderParams {
        quality: 11,
        lgwin: 22,
        size_hint: data.len(),
        ..Default::default()
    };
    let mut brotli = Vec::new();
    brotli::BrotliCompress(&mut data.as_slice(), &mut brotli, &params)?;
    fs::write(with_suffix(".br"), &brotli)?;

    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(&data)?;
    let gzip = encoder.finish()?;
    fs::write(with_suffix(".gz"), &gzip)?;

    Ok((brotli.len() as u64, gzip.len() as u64))
}

fn print_sizes(files: &[SiteFile]) {
    let column = |size: Option<u64>| size.map_or_else(|| "-".to_string(), |size| size.to_string());
    println!("{:>9}  {:>9}  {:>9}  file", "raw", "brotli", "gzip");
    for file in files {
        println!(
            "{:>9}  {:>9}  {:>9}  {}",
            file.raw,
            column(file.brotli),
            column(file.gzip),
            file.path
        );
    }
    let sum = |size: fn(&SiteFile) -> Option<u64>| files.iter().map(size).sum::<Option<u64>>();
    println!(
        "{:>9}  {:>9}  {:>9}  total",
        files.iter().map(|file| file.raw).sum::<u64>(),
        column(sum(|file| file.brotli)),
        column(sum(|file| file.gzip)),
    );
}
