//! `cargo xtask bench [--size N]`: what a manager's actions cost at a contact center's size,
//! measured over HTTP against the release server binary, with floors from the same run.
//!
//! The dataset is `holdfast demo --size N` (N conversations for Northwind, N/5 for Contoso),
//! built once and kept in `target/bench/` by size and schema version. Each measure runs a
//! number of times after a warm-up and reports p50 and p99 of the whole request as the client
//! sees it; nothing is asserted about time (the goals are printed beside the numbers). The
//! table goes to standard output and `target/bench/report.json`.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::throwaway_postgres::ThrowawayPostgres;
use crate::{Server, cargo, root, run_command, target_dir, wait_for};

pub(crate) const PASSWORD: &str = "holdfast-demo";

/// One HTTP/1.1 exchange on a new connection: the status and the body.
pub(crate) fn request(
    addr: &str,
    method: &str,
    path: &str,
    cookie: &str,
    body: &str,
) -> Result<(u16, String)> {
    let mut stream = TcpStream::connect(addr).with_context(|| format!("connecting to {addr}"))?;
    stream.set_nodelay(true)?;
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nCookie: {cookie}\r\n\
         Content-Type: application/json\r\nX-Holdfast-Csrf: 1\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes())?;
    stream.write_all(body.as_bytes())?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    let text = String::from_utf8_lossy(&raw);
    let status = text
        .get(9..12)
        .and_then(|s| s.parse().ok())
        .with_context(|| {
            format!(
                "no HTTP status in {:?}",
                text.chars().take(80).collect::<String>()
            )
        })?;
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    // The server sends bodies whole with Content-Length (no chunking).
    let _ = head;
    Ok((status, body.to_owned()))
}

/// One kept-alive connection, as a browser keeps one: GET requests one after another.
struct KeepAlive {
    stream: std::io::BufReader<TcpStream>,
}

impl KeepAlive {
    fn connect(addr: &str) -> Result<KeepAlive> {
        let stream = TcpStream::connect(addr).with_context(|| format!("connecting to {addr}"))?;
        stream.set_nodelay(true)?;
        Ok(KeepAlive {
            stream: std::io::BufReader::new(stream),
        })
    }

    /// The status of `GET path`, its body read to the end (the server sends Content-Length).
    fn get(&mut self, addr: &str, path: &str, cookie: &str) -> Result<u16> {
        use std::io::BufRead;
        let head = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nCookie: {cookie}\r\n\r\n");
        self.stream.get_mut().write_all(head.as_bytes())?;
        let mut line = String::new();
        self.stream.read_line(&mut line)?;
        let status = line
            .get(9..12)
            .and_then(|s| s.parse().ok())
            .with_context(|| format!("no HTTP status in {line:?}"))?;
        let mut length = 0usize;
        loop {
            line.clear();
            self.stream.read_line(&mut line)?;
            if line == "\r\n" || line.is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse().context("a Content-Length")?;
            }
        }
        let mut body = vec![0; length];
        self.stream.read_exact(&mut body)?;
        Ok(status)
    }
}

/// p50 and p99 of `runs` timed calls of `f`, after `warm` untimed ones.
fn measure(warm: usize, runs: usize, mut f: impl FnMut(usize) -> Result<()>) -> Result<(f64, f64)> {
    for i in 0..warm {
        f(i)?;
    }
    let mut times = Vec::with_capacity(runs);
    for i in 0..runs {
        let started = Instant::now();
        f(warm + i)?;
        times.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    let at = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize];
    Ok((at(0.5), at(0.99)))
}

/// A row of the report.
struct Row {
    what: String,
    p50: f64,
    p99: f64,
    /// The goal of issue 9 for this measure, in words.
    goal: &'static str,
    /// The p99 (or rate) the goal allows, and whether lower is better.
    limit: Option<f64>,
}

pub fn run(args: &[&str]) -> Result<()> {
    let (size, postgres) = match args {
        [] => (100_000, false),
        ["--size", n] => (
            n.parse()
                .context("--size takes a number of conversations")?,
            false,
        ),
        ["--size", n, "--backend", "postgres"] | ["--backend", "postgres", "--size", n] => (
            n.parse()
                .context("--size takes a number of conversations")?,
            true,
        ),
        ["--backend", "sqlite"] => (100_000, false),
        ["--backend", "postgres"] => (100_000, true),
        ["--chart"] => {
            let dir = target_dir().join("bench");
            let chart = dir.join("chart.svg");
            std::fs::write(&chart, chart_svg(&reports(&dir)?))?;
            eprintln!("xtask bench: wrote {}", chart.display());
            return Ok(());
        }
        other => {
            bail!("bench takes `--size N`, `--backend sqlite|postgres` or `--chart`, got {other:?}")
        }
    };
    run_command(cargo().args(["build", "--release", "-p", "holdfast-server"]))?;
    let target = target_dir();
    let bin = target.join("release/holdfast");
    let dir = target.join("bench");
    // PostgreSQL: a throwaway server and a dataset built for this run (the SQLite one is kept).
    let database = postgres.then(ThrowawayPostgres::start);
    let data = match &database {
        None => dataset(&bin, &dir, size)?,
        Some(pg) => postgres_dataset(&bin, &dir, size, &pg.url())?,
    };
    let holdfast = || {
        let mut command = Command::new(&bin);
        command.arg("--data-dir").arg(&data);
        if let Some(pg) = &database {
            command.env("HOLDFAST_DATABASE_URL", pg.url());
        }
        command
    };

    let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let addr = format!("127.0.0.1:{port}");
    let _server = Server(
        holdfast()
            .args(["serve", "--addr", &addr, "--sweep-interval", "0", "--site"])
            .arg(target.join("site"))
            .env("HOLDFAST_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()
            .context("could not start the server")?,
    );
    wait_for(&addr, Duration::from_secs(120))?;
    let (status, _) = request(&addr, "GET", "/healthz", "", "")?;
    if status != 200 {
        bail!("/healthz answered {status}");
    }
    let login = format!(r#"{{"username":"manager","password":"{PASSWORD}"}}"#);
    let cookie = login_cookie(&addr, &login)?;

    let mut rows = Vec::new();
    let runs = 30;
    let mut row = |what: &str, goal: &'static str, limit: Option<f64>, (p50, p99): (f64, f64)| {
        eprintln!("  {what}: p50 {p50:.2} ms, p99 {p99:.2} ms");
        rows.push(Row {
            what: what.to_owned(),
            p50,
            p99,
            goal,
            limit,
        });
    };
    let get = |path: String| {
        let (addr, cookie) = (&addr, &cookie);
        move |_: usize| -> Result<()> {
            let (status, body) = request(addr, "GET", &path, cookie, "")?;
            match status {
                200 => Ok(()),
                s => bail!("GET {path}: {s} {body}"),
            }
        }
    };
    row(
        "floor: GET /healthz",
        "",
        None,
        measure(5, runs, get("/healthz".to_owned()))?,
    );
    for (what, query) in [
        ("interactions page 1, default", ""),
        (
            "page 1, media=chat by deletion date",
            "media=chat&sort=deletion",
        ),
        ("page 1, protected=yes", "protected=yes"),
        ("page 2000 of 50", "page=2000&size=50"),
        ("agent = Chen, page 1", "agent=Chen"),
        ("remote party contains 555, page 1", "remote=555"),
    ] {
        let goal = match query {
            "agent=Chen" | "remote=555" => "<= 50 ms at 10M",
            _ => "p99 <= 5 ms at 1M, <= 10 ms at 10M",
        };
        let limit = match query {
            "agent=Chen" | "remote=555" => 50.0,
            _ => 5.0,
        };
        row(
            what,
            goal,
            Some(limit),
            measure(3, runs, get(format!("/api/conversations?{query}")))?,
        );
    }
    let post = |path: &'static str, body: String, want: u16| {
        let (addr, cookie) = (&addr, &cookie);
        move |_: usize| -> Result<()> {
            let (status, answer) = request(addr, "POST", path, cookie, &body)?;
            match status == want {
                true => Ok(()),
                false => bail!("POST {path}: {status} {answer}"),
            }
        }
    };
    for (what, query) in [
        ("selection summary, all matching", ""),
        ("selection summary, media=chat", "media=chat"),
    ] {
        let body = format!(r#"{{"selection":{{"kind":"filter","query":"{query}","except":[]}}}}"#);
        row(
            what,
            "p99 <= 30 ms at 10M",
            Some(30.0),
            measure(2, runs, post("/api/selection/summary", body, 200))?,
        );
    }
    let over =
        r#"{"action":"protect","selection":{"kind":"filter","query":"protected=no","except":[]}}"#;
    row(
        "protect all matching (over the cap: refused)",
        "decided in <= 50 ms at 10M",
        Some(50.0),
        measure(2, runs, post("/api/protection", over.to_owned(), 409))?,
    );

    // Protect and release listed conversations: the ids come from the view, unprotected ones
    // with a recording, and each round releases what it protected.
    let ids = protectable_ids(&addr, &cookie, 960)?;
    for n in [10, ids.len()] {
        let list = ids[..n]
            .iter()
            .map(|id| format!("\"{id}\""))
            .collect::<Vec<_>>()
            .join(",");
        let body = |action: &str| {
            format!(
                r#"{{"action":"{action}","selection":{{"kind":"ids","ids":[{list}]}},"reason":"bench"}}"#
            )
        };
        let (protect, release) = (body("protect"), body("release"));
        let mut protect_ms = Vec::new();
        let mut release_ms = Vec::new();
        for _ in 0..10 {
            let started = Instant::now();
            post("/api/protection", protect.clone(), 200)(0)?;
            protect_ms.push(started.elapsed().as_secs_f64() * 1000.0);
            let started = Instant::now();
            post("/api/protection", release.clone(), 200)(0)?;
            release_ms.push(started.elapsed().as_secs_f64() * 1000.0);
        }
        let goal = "p50 <= 50 ms for 1,000 at 1M and 10M";
        row(
            &format!("protect {n} listed"),
            goal,
            Some(50.0),
            percentiles(protect_ms),
        );
        row(
            &format!("release {n} listed"),
            goal,
            Some(50.0),
            percentiles(release_ms),
        );
    }

    // A legal hold opened in the interactions view: the same ids protected into a hold, its
    // pages and summary read from the hold, then the hold released as a whole.
    let (status, answer) = request(
        &addr,
        "POST",
        "/api/holds",
        &cookie,
        r#"{"name":"Bench matter"}"#,
    )?;
    if status != 201 {
        bail!("POST /api/holds: {status} {answer}");
    }
    let created: serde_json::Value = serde_json::from_str(&answer)?;
    let hold = created["id"]
        .as_str()
        .context("the new hold's id")?
        .to_owned();
    let list = ids
        .iter()
        .map(|id| format!("\"{id}\""))
        .collect::<Vec<_>>()
        .join(",");
    post(
        "/api/protection",
        format!(
            r#"{{"action":"protect","selection":{{"kind":"ids","ids":[{list}]}},"hold":"{hold}","reason":"bench"}}"#
        ),
        200,
    )(0)?;
    for (what, query) in [
        (
            format!("hold of {}, page 1", ids.len()),
            format!("hold={hold}"),
        ),
        (
            format!("hold of {}, media=call by duration, page 3", ids.len()),
            format!("hold={hold}&media=call&sort=-duration&page=3"),
        ),
    ] {
        row(
            &what,
            "p99 <= 5 ms at 1M, <= 10 ms at 10M",
            Some(5.0),
            measure(3, runs, get(format!("/api/conversations?{query}")))?,
        );
    }
    let body = format!(r#"{{"selection":{{"kind":"filter","query":"hold={hold}","except":[]}}}}"#);
    row(
        &format!("selection summary, hold of {}", ids.len()),
        "p99 <= 30 ms at 10M",
        Some(30.0),
        measure(2, runs, post("/api/selection/summary", body, 200))?,
    );
    let release_path = format!("/api/holds/{hold}/release");
    let (status, answer) = request(&addr, "POST", &release_path, &cookie, "{}")?;
    if status != 200 {
        bail!("POST {release_path}: {status} {answer}");
    }

    // Sixteen managers paging at once, and the same server's health check as the floor.
    let pages = throughput(
        &addr,
        &cookie,
        "/api/conversations?page=3",
        Duration::from_secs(5),
    )?;
    let health = throughput(&addr, &cookie, "/healthz", Duration::from_secs(3))?;
    eprintln!("  16 clients paging: {pages:.0} pages/s; /healthz: {health:.0}/s");
    // The server's peak resident memory over the whole run, load included.
    let peak_mb = peak_rss_mb(_server.0.id());
    drop(_server);
    let sweep = match &database {
        None => sweep_copy(&bin, &data, &dir)?,
        // The throwaway database goes after this run: sweep it in place.
        Some(_) => sweep_twice(holdfast)?,
    };
    let load = Load {
        pages,
        health,
        peak_mb,
        sweep,
    };

    let backend = match postgres {
        true => "PostgreSQL",
        false => "SQLite",
    };
    // Uploads stream to disk: eight at once hold a few slices each, not the files. 200 MB
    // each at contact-center sizes; 16 MB where the run only proves the measure works.
    let uploads = match postgres {
        true => None,
        false => {
            let mb_each = if size >= 100_000 { 200 } else { 16 };
            let work = dir.join("uploads");
            Some(crate::upload_bench::measure(
                &bin,
                &target.join("site"),
                &work,
                mb_each,
            )?)
        }
    };
    print_table(size, backend, &rows, &load);
    if let Some(u) = &uploads {
        let above = u.peak_mb - u.idle_mb;
        let verdict = if above <= 100.0 { "meets" } else { "misses" };
        println!(
            "| {} clients uploading {} MB each at once | {above:.0} MB above idle ({:.0} -> {:.0} MB), {:.0} MB/s | | <= 100 MB above idle | {verdict} |",
            crate::upload_bench::CLIENTS,
            u.mb_each,
            u.idle_mb,
            u.peak_mb,
            u.mb_per_s
        );
    }
    write_report(&dir, size, postgres, &rows, &load)
}

/// What the load measures found.
struct Load {
    pages: f64,
    health: f64,
    /// The server's peak resident set (VmHWM) in MB, where /proc tells.
    peak_mb: Option<f64>,
    sweep: Sweep,
}

/// The retention sweep over a copy of the dataset: its backlog, then a pass with nothing due.
struct Sweep {
    deleted: u64,
    seconds: f64,
    /// What the pass after the backlog deleted (what came due meanwhile).
    after: u64,
    next_pass_ms: f64,
}

impl Sweep {
    fn per_second(&self) -> f64 {
        self.deleted as f64 / self.seconds.max(1e-9)
    }
}

/// Sweeps a copy of the dataset (the kept one stays as built, its past-due recordings included,
/// so that every run measures the same backlog), then sweeps it again (what came due meanwhile). Each
/// time is the sweep's own, as `holdfast sweep --json` reports it: the store opened, not the
/// process started.
fn sweep_copy(bin: &Path, data: &Path, dir: &Path) -> Result<Sweep> {
    let copy = dir.join("sweep-copy");
    let _ = std::fs::remove_dir_all(&copy);
    std::fs::create_dir_all(&copy)?;
    for name in ["holdfast.sqlite3", "holdfast.sqlite3-wal"] {
        let from = data.join(name);
        if from.is_file() {
            std::fs::copy(&from, copy.join(name))
                .with_context(|| format!("copying {}", from.display()))?;
        }
    }
    let holdfast = || {
        let mut command = Command::new(bin);
        command.arg("--data-dir").arg(&copy);
        command
    };
    let sweep = sweep_twice(holdfast);
    let _ = std::fs::remove_dir_all(&copy);
    sweep
}

/// Sweeps the backlog, then once more (what came due meanwhile), each timed by `holdfast sweep`.
fn sweep_twice(holdfast: impl Fn() -> Command) -> Result<Sweep> {
    let run = || -> Result<(u64, f64)> {
        let out = holdfast()
            .args(["--json", "sweep"])
            .env("HOLDFAST_LOG", "warn")
            .output()
            .context("could not run holdfast sweep")?;
        if !out.status.success() {
            bail!(
                "holdfast sweep failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).with_context(|| {
            format!(
                "holdfast sweep printed {}",
                String::from_utf8_lossy(&out.stdout)
            )
        })?;
        match (report["deleted"].as_u64(), report["seconds"].as_f64()) {
            (Some(deleted), Some(seconds)) => Ok((deleted, seconds)),
            _ => bail!("holdfast sweep printed {report}"),
        }
    };
    let (deleted, seconds) = run()?;
    // Dates keep coming due while a large backlog is swept (at 10M, one every second or so):
    // the next pass finds those few, not nothing.
    let (after, next) = run()?;
    let sweep = Sweep {
        deleted,
        seconds,
        after,
        next_pass_ms: next * 1000.0,
    };
    eprintln!(
        "  sweep: {deleted} recordings in {seconds:.2} s ({:.0}/s); the next pass: {after} in {:.2} ms",
        sweep.per_second(),
        sweep.next_pass_ms
    );
    Ok(sweep)
}

fn peak_rss_mb(pid: u32) -> Option<f64> {
    proc_status_mb(pid, "VmHWM:")
}

/// A memory figure of `/proc/PID/status` (`VmRSS:`, `VmHWM:`, ...), in MB.
pub(crate) fn proc_status_mb(pid: u32, field: &str) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kib: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix(field))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib / 1024.0)
}

fn percentiles(mut ms: Vec<f64>) -> (f64, f64) {
    ms.sort_by(f64::total_cmp);
    let at = |q: f64| ms[((ms.len() - 1) as f64 * q).round() as usize];
    (at(0.5), at(0.99))
}

/// Requests per second that 16 clients, each on one kept-alive connection as a browser is, get
/// for `path` in `time`.
fn throughput(addr: &str, cookie: &str, path: &str, time: Duration) -> Result<f64> {
    let done = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let workers: Vec<_> = (0..16)
        .map(|_| {
            let (addr, cookie, path) = (addr.to_owned(), cookie.to_owned(), path.to_owned());
            let (done, stop) = (done.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut client = None;
                while !stop.load(Ordering::Relaxed) {
                    let conn = match client.as_mut() {
                        Some(conn) => conn,
                        None => match KeepAlive::connect(&addr) {
                            Ok(conn) => client.insert(conn),
                            Err(_) => continue,
                        },
                    };
                    match conn.get(&addr, &path, &cookie) {
                        Ok(200) => {
                            done.fetch_add(1, Ordering::Relaxed);
                        }
                        Ok(_) => {}
                        // Start a new connection after a failed one.
                        Err(_) => client = None,
                    }
                }
            })
        })
        .collect();
    std::thread::sleep(time);
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        let _ = w.join();
    }
    Ok(done.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64())
}

/// Up to `n` unprotected conversations with a policy recording that is not deleted, from the
/// view, each checked through its details.
/// Up to `n` protectable conversations of the view.
fn protectable_ids(addr: &str, cookie: &str, n: usize) -> Result<Vec<String>> {
    let found = crate::multi::protectable(addr, cookie, n, 10)?;
    Ok(found.into_iter().map(|(id, _)| id).collect())
}

pub(crate) fn login_cookie(addr: &str, body: &str) -> Result<String> {
    let mut stream = TcpStream::connect(addr)?;
    let head = format!(
        "POST /api/session HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Type: application/json\r\n\
         X-Holdfast-Csrf: 1\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(head.as_bytes())?;
    let mut raw = String::new();
    stream.read_to_string(&mut raw)?;
    raw.lines()
        .find_map(|l| {
            l.strip_prefix("set-cookie: ")
                .or_else(|| l.strip_prefix("Set-Cookie: "))
        })
        .and_then(|c| c.split(';').next())
        .map(str::to_owned)
        .with_context(|| format!("no session cookie in {raw}"))
}

/// The dataset of `size`, built with `holdfast demo` unless a finished one is kept.
fn dataset(bin: &Path, dir: &Path, size: usize) -> Result<PathBuf> {
    let schema = std::fs::read_dir(root().join("server/src/store/sqlite"))?
        .filter(|e| {
            e.as_ref()
                .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "sql"))
        })
        .count();
    let data = dir.join(format!("data-{size}-schema{schema}"));
    let done = data.join("bench-dataset-complete");
    if done.is_file() {
        eprintln!("xtask bench: using the dataset in {}", data.display());
        return Ok(data);
    }
    let seconds = build_demo(bin, &data, size, None)?;
    std::fs::write(&done, format!("{seconds:.1}\n"))?;
    Ok(data)
}

/// Fills `data` (or the database at `url`) with `size` demo conversations; returns how long it took.
fn build_demo(bin: &Path, data: &Path, size: usize, url: Option<&str>) -> Result<f64> {
    let _ = std::fs::remove_dir_all(data);
    std::fs::create_dir_all(data)?;
    let started = Instant::now();
    let mut command = Command::new(bin);
    command
        .arg("--data-dir")
        .arg(data)
        .args(["demo", "--size", &size.to_string()])
        .env("HOLDFAST_LOG", "warn");
    if let Some(url) = url {
        command.env("HOLDFAST_DATABASE_URL", url);
    }
    run_command(&mut command)?;
    let seconds = started.elapsed().as_secs_f64();
    let total = size + size / 5;
    let backend = if url.is_some() {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    eprintln!(
        "xtask bench: {total} demo conversations in {backend} in {seconds:.1} s ({:.0}/s)",
        total as f64 / seconds
    );
    Ok(seconds)
}

/// A PostgreSQL dataset of `size` in the throwaway database at `url`, built for this run.
fn postgres_dataset(bin: &Path, dir: &Path, size: usize, url: &str) -> Result<PathBuf> {
    let data = dir.join(format!("postgres-{size}"));
    build_demo(bin, &data, size, Some(url))?;
    Ok(data)
}

/// Whether the measure meets its goal: the p50 where the goal names it, else the p99.
fn verdict(row: &Row) -> &'static str {
    let value = match row.goal.starts_with("p50") {
        true => row.p50,
        false => row.p99,
    };
    match row.limit {
        None => "",
        Some(limit) if value <= limit => "meets",
        Some(_) => "misses",
    }
}

fn print_table(size: usize, backend: &str, rows: &[Row], load: &Load) {
    let (pages, health) = (load.pages, load.health);
    println!(
        "\nHoldfast bench: {size} Northwind conversations (+{} Contoso) on {backend}, release build, one client unless stated\n",
        size / 5
    );
    println!("| what the manager does | p50 ms | p99 ms | goal | against the goal |");
    println!("|---|---:|---:|---|---|");
    for r in rows {
        println!(
            "| {} | {:.2} | {:.2} | {} | {} |",
            r.what,
            r.p50,
            r.p99,
            r.goal,
            verdict(r)
        );
    }
    let share = pages / health * 100.0;
    println!(
        "| 16 clients paging (page 3) | {pages:.0} pages/s | | >= 3,000 pages/s at 1M | {:.1}% of /healthz ({health:.0}/s) |",
        share
    );
    if let Some(mb) = load.peak_mb {
        let verdict = if mb <= 150.0 { "meets" } else { "misses" };
        println!("| server peak RSS over the run | {mb:.0} MB | | <= 150 MB | {verdict} |");
    }
    let sweep = &load.sweep;
    let rate = sweep.per_second();
    let verdict = |ok: bool| if ok { "meets" } else { "misses" };
    println!(
        "| sweep of the backlog ({} recordings, media included) | {rate:.0} recordings/s | | >= 20,000/s | {} |",
        sweep.deleted,
        verdict(rate >= 20_000.0)
    );
    println!(
        "| the sweep's next pass ({} came due meanwhile) | {:.2} ms | | idle <= 10 ms at 10M | {} |",
        sweep.after,
        sweep.next_pass_ms,
        verdict(sweep.next_pass_ms <= 10.0)
    );
}

/// Writes `report-N.json` and redraws the chart (SQLite), or `postgres-report-N.json` (kept
/// apart from the chart, which compares sizes on one backend).
fn write_report(dir: &Path, size: usize, postgres: bool, rows: &[Row], load: &Load) -> Result<()> {
    let measures: Vec<serde_json::Value> = rows
        .iter()
        .map(|r| serde_json::json!({"what": r.what, "p50Ms": r.p50, "p99Ms": r.p99, "goal": r.goal, "verdict": verdict(r)}))
        .collect();
    let report = serde_json::json!({
        "size": size, "measures": measures,
        "pagingPerSecond16Clients": load.pages, "healthzPerSecond16Clients": load.health,
        "serverPeakRssMb": load.peak_mb,
        "sweepDeleted": load.sweep.deleted, "sweepSeconds": load.sweep.seconds,
        "sweepPerSecond": load.sweep.per_second(), "sweepNextPassDeleted": load.sweep.after,
        "sweepNextPassMs": load.sweep.next_pass_ms,
    });
    std::fs::create_dir_all(dir)?;
    if postgres {
        let path = dir.join(format!("postgres-report-{size}.json"));
        std::fs::write(&path, serde_json::to_string_pretty(&report)?)?;
        eprintln!("xtask bench: wrote {}", path.display());
        return Ok(());
    }
    let path = dir.join(format!("report-{size}.json"));
    std::fs::write(&path, serde_json::to_string_pretty(&report)?)?;
    std::fs::write(
        dir.join("report.json"),
        serde_json::to_string_pretty(&report)?,
    )?;
    eprintln!("xtask bench: wrote {}", path.display());
    let chart = dir.join("chart.svg");
    std::fs::write(&chart, chart_svg(&reports(dir)?))?;
    eprintln!("xtask bench: wrote {}", chart.display());
    Ok(())
}

/// Every report kept in `dir` (one per size, the latest run of each), smallest size first.
fn reports(dir: &Path) -> Result<Vec<serde_json::Value>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name.starts_with("report-") && name.ends_with(".json") {
            let text = std::fs::read_to_string(&path)?;
            out.push(serde_json::from_str::<serde_json::Value>(&text)?);
        }
    }
    out.sort_by_key(|r| r["size"].as_u64().unwrap_or(0));
    Ok(out)
}

/// A line chart of each measure's p50 against the dataset size, both axes logarithmic: a flat
/// line is a cost that does not grow with the data.
fn chart_svg(reports: &[serde_json::Value]) -> String {
    const W: f64 = 900.0;
    const H: f64 = 520.0;
    const LEFT: f64 = 70.0;
    const RIGHT: f64 = 330.0;
    const TOP: f64 = 30.0;
    const BOTTOM: f64 = 50.0;
    const COLOURS: &[&str] = &[
        "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
        "#bcbd22", "#17becf", "#393b79", "#637939", "#8c6d31", "#843c39", "#7b4173",
    ];
    let mut series: Vec<(String, Vec<(f64, f64)>)> = Vec::new();
    for report in reports {
        let size = report["size"].as_f64().unwrap_or(1.0).max(1.0);
        for m in report["measures"].as_array().into_iter().flatten() {
            let (Some(what), Some(p50)) = (m["what"].as_str(), m["p50Ms"].as_f64()) else {
                continue;
            };
            if p50 <= 0.0 {
                continue;
            }
            match series.iter_mut().find(|(w, _)| w == what) {
                Some((_, points)) => points.push((size, p50)),
                None => series.push((what.to_owned(), vec![(size, p50)])),
            }
        }
    }
    let all = || series.iter().flat_map(|(_, p)| p.iter().copied());
    let (min_x, max_x) = all().fold((f64::MAX, f64::MIN), |(a, b), (x, _)| (a.min(x), b.max(x)));
    let (min_y, max_y) = all().fold((f64::MAX, f64::MIN), |(a, b), (_, y)| (a.min(y), b.max(y)));
    if series.is_empty() {
        return format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{W}\" height=\"60\"><text x=\"10\" y=\"30\">no reports yet</text></svg>\n"
        );
    }
    let decade = |v: f64, up: bool| {
        let e = v.log10();
        10f64.powf(if up { e.ceil() } else { e.floor() })
    };
    let (x0, x1) = (
        decade(min_x, false),
        decade(max_x, true).max(decade(min_x, false) * 10.0),
    );
    let (y0, y1) = (
        decade(min_y, false),
        decade(max_y, true).max(decade(min_y, false) * 10.0),
    );
    let px =
        |x: f64| LEFT + (x.log10() - x0.log10()) / (x1.log10() - x0.log10()) * (W - LEFT - RIGHT);
    let py = |y: f64| {
        H - BOTTOM - (y.log10() - y0.log10()) / (y1.log10() - y0.log10()) * (H - TOP - BOTTOM)
    };
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{W}\" height=\"{H}\" font-family=\"sans-serif\" font-size=\"11\">\n\
         <title>Holdfast bench: p50 latency against conversations</title>\n\
         <rect width=\"{W}\" height=\"{H}\" fill=\"white\"/>\n"
    );
    let mut tick = x0;
    while tick <= x1 * 1.0001 {
        let x = px(tick);
        svg.push_str(&format!(
            "<line x1=\"{x:.1}\" y1=\"{TOP}\" x2=\"{x:.1}\" y2=\"{:.1}\" stroke=\"#ddd\"/><text x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>\n",
            H - BOTTOM,
            H - BOTTOM + 16.0,
            tick
        ));
        tick *= 10.0;
    }
    let mut tick = y0;
    while tick <= y1 * 1.0001 {
        let y = py(tick);
        svg.push_str(&format!(
            "<line x1=\"{LEFT}\" y1=\"{y:.1}\" x2=\"{:.1}\" y2=\"{y:.1}\" stroke=\"#ddd\"/><text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{tick} ms</text>\n",
            W - RIGHT,
            LEFT - 6.0,
            y + 4.0
        ));
        tick *= 10.0;
    }
    svg.push_str(&format!(
        "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">conversations (Northwind)</text>\n",
        (LEFT + W - RIGHT) / 2.0,
        H - 12.0
    ));
    for (i, (what, points)) in series.iter().enumerate() {
        let colour = COLOURS[i % COLOURS.len()];
        let path: Vec<String> = points
            .iter()
            .map(|(x, y)| format!("{:.1},{:.1}", px(*x), py(*y)))
            .collect();
        svg.push_str(&format!(
            "<polyline fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\" points=\"{}\"/>\n",
            path.join(" ")
        ));
        for (x, y) in points {
            svg.push_str(&format!(
                "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"3\" fill=\"{colour}\"/>\n",
                px(*x),
                py(*y)
            ));
        }
        let label = what.replace('&', "&amp;").replace('<', "&lt;");
        let ly = TOP + 14.0 * i as f64;
        svg.push_str(&format!(
            "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"10\" height=\"10\" fill=\"{colour}\"/><text x=\"{:.1}\" y=\"{:.1}\">{label}</text>\n",
            W - RIGHT + 12.0,
            ly - 9.0,
            W - RIGHT + 26.0,
            ly
        ));
    }
    svg.push_str("</svg>\n");
    svg
}
