//! `cargo xtask multi [--seconds N]`: several Holdfast instances on one PostgreSQL, as a contact
//! center that outgrew one machine runs them. Three release servers share a throwaway
//! PostgreSQL 15 and a media directory; 64 clients race protect and release across them while
//! two of the instances sweep and a dater keeps giving the raced recordings deletion dates a
//! second ahead; halfway, one instance is killed with SIGKILL. Checked, exactly:
//! - the protected count sampled every few milliseconds never passes the cap;
//! - every conversation's protection is what its last acknowledged request left (nothing
//!   acknowledged is lost, nothing unacknowledged appears), whichever instance answered;
//! - replaying the audit chain in order, the sweep never deleted a recording while a protection
//!   covered it (the replay is first shown to catch such a deletion in a made-up chain);
//! - `holdfast audit verify` passes on the database after the kill.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};

use crate::bench::{login_cookie, request};
use crate::throwaway_postgres::ThrowawayPostgres;
use crate::{Server, run_command, target_dir, wait_for};

const CLIENTS: usize = 64;
/// Conversations each client protects and releases: 64 x 16 is more than the 960 of headroom.
const PER_CLIENT: usize = 16;
const PASSWORD: &str = "holdfast-demo";

/// What a client last had acknowledged for its conversations.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Known {
    Protected,
    Released,
    /// A request whose answer was lost (its instance was killed): either may hold.
    Unknown,
}

pub fn run(seconds: u64) -> Result<()> {
    let target = target_dir();
    let bin = target.join("release/holdfast");
    if !bin.is_file() {
        bail!(
            "{} is missing; `cargo build --release -p holdfast-server` builds it",
            bin.display()
        );
    }
    replay_catches_a_deletion_under_protection()?;
    let pg = ThrowawayPostgres::start();
    let data = target.join(format!("multi-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data);
    let _cleanup = Cleanup(data.clone());
    let holdfast = || {
        let mut c = Command::new(&bin);
        c.arg("--data-dir")
            .arg(&data)
            .env("HOLDFAST_DATABASE_URL", pg.url())
            .env("HOLDFAST_LOG", "warn");
        c
    };
    run_command(holdfast().args(["demo", "--size", "2000"]))?;

    // Three instances; the first two sweep every second.
    let mut servers = Vec::new();
    let mut addrs = Vec::new();
    for n in 0..3 {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let addr = format!("127.0.0.1:{port}");
        let sweep = if n < 2 { "1" } else { "0" };
        let child = holdfast()
            .args([
                "serve",
                "--addr",
                &addr,
                "--sweep-interval",
                sweep,
                "--site",
            ])
            .arg(target.join("site"))
            .stdout(Stdio::null())
            .spawn()
            .context("could not start a server")?;
        servers.push(Some(Server(child)));
        wait_for(&addr, Duration::from_secs(60))?;
        addrs.push(addr);
    }
    // One sign-in serves every instance: sessions live in the database.
    let login = format!(r#"{{"username":"manager","password":"{PASSWORD}"}}"#);
    let cookie = login_cookie(&addrs[0], &login)?;
    let (status, body) = request(&addrs[2], "GET", "/api/org/status", &cookie, "")?;
    if status != 200 {
        bail!("the session from instance 1 is not known to instance 3: {status} {body}");
    }
    let org: serde_json::Value = serde_json::from_str(&body)?;
    let cap = org["cap"].as_u64().context("the cap")?;
    let pool = protectable(
        &addrs[0],
        &cookie,
        CLIENTS * PER_CLIENT,
        CLIENTS * PER_CLIENT,
    )?;
    eprintln!(
        "xtask multi: 3 instances on one PostgreSQL, {} conversations raced by {CLIENTS} clients for {seconds} s, cap {cap}",
        pool.len()
    );

    let alive = Arc::new(Mutex::new(vec![true, true, true]));
    let stop = Arc::new(AtomicBool::new(false));
    let over_cap = Arc::new(AtomicU64::new(0));
    let samples = Arc::new(AtomicU64::new(0));
    let acks = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let deadline = started + Duration::from_secs(seconds);

    // The sampler: the protected count, from every live instance in turn.
    let sampler = {
        let (addrs, cookie, alive, stop) =
            (addrs.clone(), cookie.clone(), alive.clone(), stop.clone());
        let (over_cap, samples) = (over_cap.clone(), samples.clone());
        std::thread::spawn(move || {
            let mut n = 0usize;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let i = n % 3;
                if !alive.lock().map(|a| a[i]).unwrap_or(false) {
                    continue;
                }
                if let Ok((200, body)) = request(&addrs[i], "GET", "/api/org/status", &cookie, "")
                    && let Ok(status) = serde_json::from_str::<serde_json::Value>(&body)
                {
                    samples.fetch_add(1, Ordering::Relaxed);
                    if status["protected"].as_u64().unwrap_or(0)
                        > status["cap"].as_u64().unwrap_or(0)
                    {
                        over_cap.fetch_add(1, Ordering::Relaxed);
                    }
                }
                std::thread::sleep(Duration::from_millis(5));
            }
        })
    };
    // The dater: deletion dates a second ahead on the raced recordings, protected or not.
    let dater = {
        let (addrs, cookie, alive, stop) =
            (addrs.clone(), cookie.clone(), alive.clone(), stop.clone());
        let recordings: Vec<String> = pool.iter().flat_map(|(_, r)| r.clone()).collect();
        std::thread::spawn(move || {
            let mut n = 0usize;
            while !stop.load(Ordering::Relaxed) && !recordings.is_empty() {
                n += 1;
                let i = [0, 1, 2]
                    .into_iter()
                    .find(|i| alive.lock().map(|a| a[(n + i) % 3]).unwrap_or(false));
                let Some(i) = i.map(|i| (n + i) % 3) else {
                    break;
                };
                let id = &recordings[(n * 7919) % recordings.len()];
                let body = format!(
                    r#"{{"deleteDate":"{}"}}"#,
                    rfc3339(SystemTime::now() + Duration::from_secs(1))
                );
                let _ = request(
                    &addrs[i],
                    "PUT",
                    &format!("/api/recordings/{id}/deleteDate"),
                    &cookie,
                    &body,
                );
                std::thread::sleep(Duration::from_millis(2));
            }
        })
    };
    // The clients.
    let chunks: Vec<Vec<String>> = pool
        .chunks(PER_CLIENT)
        .map(|c| c.iter().map(|(id, _)| id.clone()).collect())
        .collect();
    let mut clients = Vec::new();
    for (k, ids) in chunks.into_iter().enumerate() {
        let (addrs, cookie, alive) = (addrs.clone(), cookie.clone(), alive.clone());
        let acks = acks.clone();
        clients.push(std::thread::spawn(
            move || -> Result<(Vec<String>, Known)> {
                let list = ids
                    .iter()
                    .map(|id| format!("\"{id}\""))
                    .collect::<Vec<_>>()
                    .join(",");
                let body = |action: &str| {
                    format!(
                        r#"{{"action":"{action}","selection":{{"kind":"ids","ids":[{list}]}}}}"#
                    )
                };
                let mut known = Known::Released;
                let mut n = k;
                while Instant::now() < deadline {
                    for (action, wanted) in
                        [("protect", Known::Protected), ("release", Known::Released)]
                    {
                        n += 1;
                        let i = (0..3)
                            .map(|j| (n + j) % 3)
                            .find(|i| alive.lock().map(|a| a[*i]).unwrap_or(false));
                        let Some(i) = i else {
                            bail!("no instance is alive")
                        };
                        match request(&addrs[i], "POST", "/api/protection", &cookie, &body(action))
                        {
                            Ok((200, _)) => {
                                known = wanted;
                                acks.fetch_add(1, Ordering::Relaxed);
                            }
                            // Over the cap (a protect) or nothing to do: nothing changed.
                            Ok((409, _)) => {}
                            // Refused while storage is busy: nothing was kept.
                            Ok((503, _)) => {}
                            Ok((status, answer)) => bail!("{action}: {status} {answer}"),
                            // The instance died mid-request: the outcome is not known.
                            Err(_) => known = Known::Unknown,
                        }
                    }
                }
                Ok((ids, known))
            },
        ));
    }
    // Halfway, one instance dies without a chance to clean up.
    std::thread::sleep(Duration::from_secs(seconds / 2));
    alive
        .lock()
        .map_err(|_| anyhow::anyhow!("a thread panicked"))?[2] = false;
    std::thread::sleep(Duration::from_millis(50));
    if let Some(mut server) = servers[2].take() {
        server.0.kill().context("killing instance 3")?;
        let _ = server.0.wait();
    }
    let mut expected: HashMap<String, Known> = HashMap::new();
    for client in clients {
        let (ids, known) = client
            .join()
            .map_err(|_| anyhow::anyhow!("a client panicked"))??;
        for id in ids {
            expected.insert(id, known);
        }
    }
    stop.store(true, Ordering::Relaxed);
    let _ = sampler.join();
    let _ = dater.join();

    // Every conversation as its last acknowledged request left it.
    let mut lost = Vec::new();
    let mut checked = 0;
    for (id, known) in &expected {
        let (status, body) = request(
            &addrs[0],
            "GET",
            &format!("/api/conversations/{id}"),
            &cookie,
            "",
        )?;
        if status != 200 {
            bail!("conversation {id}: {status} {body}");
        }
        let details: serde_json::Value = serde_json::from_str(&body)?;
        let protected = details["protection"].is_object();
        match known {
            Known::Protected if !protected => {
                lost.push(format!("{id}: acknowledged protected, found released"))
            }
            Known::Released if protected => {
                lost.push(format!("{id}: acknowledged released, found protected"))
            }
            _ => {}
        }
        checked += usize::from(*known != Known::Unknown);
    }
    let events = audit_events(&pg.url())?;
    let violations = deletions_under_protection(&events);
    let swept = events.iter().filter(|e| is_sweep(e)).count();
    run_command(holdfast().args(["audit", "verify"]).stdout(Stdio::null()))
        .context("the audit chains do not verify after the kill")?;
    let (over, sampled) = (
        over_cap.load(Ordering::Relaxed),
        samples.load(Ordering::Relaxed),
    );
    eprintln!(
        "xtask multi: {} acknowledged protects and releases; {sampled} samples of the count, {over} over the cap; \
         {checked} conversations checked, {} differ; {swept} recordings swept, {} while protected; chains verify",
        acks.load(Ordering::Relaxed),
        lost.len(),
        violations.len()
    );
    if over > 0 || !lost.is_empty() || !violations.is_empty() {
        bail!(
            "several instances broke a rule: {over} samples over the cap; {lost:?}; {violations:?}"
        );
    }
    // A run that sampled nothing, swept nothing, or knows the state of few conversations would
    // pass without having tested anything.
    let acknowledged = acks.load(Ordering::Relaxed);
    if sampled == 0 || swept == 0 || acknowledged < CLIENTS as u64 || checked * 2 < expected.len() {
        bail!(
            "the run proved too little: {sampled} samples, {swept} swept, {acknowledged} acknowledged, \
             {checked} of {} conversations known",
            expected.len()
        );
    }
    Ok(())
}

/// Removes the run's data directory.
struct Cleanup(PathBuf);

impl Drop for Cleanup {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Up to `n` protectable conversations of the view, with their recordings; fewer than `least`
/// is an error.
pub(crate) fn protectable(
    addr: &str,
    cookie: &str,
    n: usize,
    least: usize,
) -> Result<Vec<(String, Vec<String>)>> {
    let mut out = Vec::new();
    for page in 1..=40 {
        let path = format!("/api/conversations?protected=no&recorded=yes&size=100&page={page}");
        let (_, body) = request(addr, "GET", &path, cookie, "")?;
        let page: serde_json::Value = serde_json::from_str(&body)?;
        let rows = page["entities"].as_array().context("a page of entities")?;
        for id in rows.iter().filter_map(|r| r["id"].as_str()) {
            let (_, details) =
                request(addr, "GET", &format!("/api/conversations/{id}"), cookie, "")?;
            let details: serde_json::Value = serde_json::from_str(&details)?;
            let recordings = details["recordings"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            let protectable = recordings
                .iter()
                .any(|r| r["role"] == "policy" && r["fileState"] == "AVAILABLE");
            if protectable {
                let ids = recordings
                    .iter()
                    .filter_map(|r| r["id"].as_str().map(str::to_owned))
                    .collect();
                out.push((id.to_owned(), ids));
            }
        }
        if out.len() >= n || rows.is_empty() {
            break;
        }
    }
    out.truncate(n);
    if out.len() < least {
        bail!("found only {} protectable conversations", out.len());
    }
    Ok(out)
}

/// Every audit event of every organization, in chain order, as stored.
fn audit_events(url: &str) -> Result<Vec<serde_json::Value>> {
    let out = Command::new("psql")
        .args([
            url,
            "-At",
            "-c",
            "SELECT event FROM audit_events ORDER BY org_id, seq",
        ])
        .output()
        .context("psql runs")?;
    if !out.status.success() {
        bail!("psql: {}", String::from_utf8_lossy(&out.stderr));
    }
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).context("a stored event"))
        .collect()
}

fn is_sweep(event: &serde_json::Value) -> bool {
    event["action"] == "Delete" && event["actor"]["type"] == "system"
}

/// Replays chains in order: a protection covers the recordings its event lists until it is
/// revoked; a deletion by the system of a covered recording is a violation.
fn deletions_under_protection(events: &[serde_json::Value]) -> Vec<String> {
    let recordings = |e: &serde_json::Value| -> Vec<String> {
        e["details"]["recordings"]
            .as_array()
            .map(|l| {
                l.iter()
                    .filter_map(|r| r.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut covered: HashMap<String, HashSet<String>> = HashMap::new();
    let mut violations = Vec::new();
    for e in events {
        let conversation = e["entityId"].as_str().unwrap_or_default().to_owned();
        match e["action"].as_str() {
            Some("ApplyProtection") => {
                covered.insert(conversation, recordings(e).into_iter().collect());
            }
            Some("RevokeProtection") => {
                covered.remove(&conversation);
            }
            Some("Delete") if is_sweep(e) => {
                for r in recordings(e) {
                    if covered.values().any(|set| set.contains(&r)) {
                        violations.push(format!("recording {r} swept at event {}", e["seq"]));
                    }
                }
            }
            _ => {}
        }
    }
    violations
}

/// The negative control: a made-up chain in which the sweep deletes a covered recording.
fn replay_catches_a_deletion_under_protection() -> Result<()> {
    let chain: Vec<serde_json::Value> = [
        r#"{"seq":1,"action":"ApplyProtection","entityId":"c1","actor":{"type":"user"},"details":{"recordings":["r1"]}}"#,
        r#"{"seq":2,"action":"Delete","entityId":"r1","actor":{"type":"system"},"details":{"recordings":["r1"]}}"#,
        r#"{"seq":3,"action":"RevokeProtection","entityId":"c1","actor":{"type":"user"},"details":{"recordings":["r1"]}}"#,
        r#"{"seq":4,"action":"Delete","entityId":"r1","actor":{"type":"system"},"details":{"recordings":["r1"]}}"#,
    ]
    .iter()
    .map(|e| serde_json::from_str(e))
    .collect::<Result<_, _>>()?;
    let found = deletions_under_protection(&chain);
    if found != ["recording r1 swept at event 2"] {
        bail!("the replay does not catch a deletion under protection: {found:?}");
    }
    Ok(())
}

/// `2026-12-06T04:20:00.000Z` for a moment.
fn rfc3339(at: SystemTime) -> String {
    let since = at.duration_since(UNIX_EPOCH).unwrap_or_default();
    let (secs, millis) = (since.as_secs() as i64, since.subsec_millis());
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}
