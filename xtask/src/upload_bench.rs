//! The upload measure of `cargo xtask bench`: eight clients upload a recording each at once, as
//! raw bodies, while the server's resident memory is sampled. An upload is written to disk as it
//! arrives, so the server should hold no more than a few slices of each.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::bench::{login_cookie, request};
use crate::{Server, wait_for};

/// How many clients upload at once.
pub const CLIENTS: usize = 8;

/// What the measure found.
pub struct Uploads {
    pub mb_each: usize,
    /// The server's resident memory before the uploads, and its highest while they ran (MB).
    pub idle_mb: f64,
    pub peak_mb: f64,
    /// All clients together, MB/s.
    pub mb_per_s: f64,
}

/// Uploads `mb_each` MiB from each of [`CLIENTS`] clients to a server of its own, on a small
/// dataset in `work` (removed after).
pub fn measure(bin: &Path, site: &Path, work: &Path, mb_each: usize) -> Result<Uploads> {
    let _ = std::fs::remove_dir_all(work);
    std::fs::create_dir_all(work)?;
    let data = work.join("data");
    let status = Command::new(bin)
        .arg("--data-dir")
        .arg(&data)
        .args(["demo", "--size", "200"])
        .env("HOLDFAST_LOG", "warn")
        .stdout(Stdio::null())
        .status()?;
    if !status.success() {
        bail!("holdfast demo failed for the upload measure");
    }
    let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let addr = format!("127.0.0.1:{port}");
    let server = Server(
        Command::new(bin)
            .arg("--data-dir")
            .arg(&data)
            .args(["serve", "--addr", &addr, "--sweep-interval", "0", "--site"])
            .arg(site)
            .env("HOLDFAST_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()
            .context("could not start the server")?,
    );
    wait_for(&addr, Duration::from_secs(60))?;
    let cookie = login_cookie(
        &addr,
        &format!(
            r#"{{"username":"admin","password":"{}"}}"#,
            crate::bench::PASSWORD
        ),
    )?;
    let recordings = recordings_without_media(&addr, &cookie, CLIENTS)?;
    let pid = server.0.id();
    std::thread::sleep(Duration::from_millis(300));
    let idle_mb = rss_mb(pid).context("no resident size in /proc")?;

    let done = std::sync::atomic::AtomicBool::new(false);
    let started = Instant::now();
    let (peak_mb, results) = std::thread::scope(|scope| {
        let sampler = scope.spawn(|| {
            let mut peak = idle_mb;
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                if let Some(mb) = rss_mb(pid) {
                    peak = peak.max(mb);
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            peak
        });
        let uploads: Vec<_> = recordings
            .iter()
            .map(|rec| {
                let (addr, cookie) = (&addr, &cookie);
                scope.spawn(move || upload(addr, cookie, rec, mb_each))
            })
            .collect();
        let results: Vec<Result<()>> = uploads
            .into_iter()
            .map(|u| {
                u.join()
                    .unwrap_or_else(|_| bail!("an upload thread panicked"))
            })
            .collect();
        done.store(true, std::sync::atomic::Ordering::Relaxed);
        (sampler.join().unwrap_or(f64::NAN), results)
    });
    let seconds = started.elapsed().as_secs_f64();
    for r in results {
        r?;
    }
    drop(server);
    let _ = std::fs::remove_dir_all(work);
    Ok(Uploads {
        mb_each,
        idle_mb,
        peak_mb,
        mb_per_s: (CLIENTS * mb_each) as f64 / seconds,
    })
}

/// One upload of `mb` MiB of generated audio-like bytes, a MiB at a time.
fn upload(addr: &str, cookie: &str, recording: &str, mb: usize) -> Result<()> {
    let mut stream = TcpStream::connect(addr)?;
    let length = mb * 1024 * 1024;
    let head = format!(
        "PUT /api/recordings/{recording}/media HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\
         Cookie: {cookie}\r\nX-Holdfast-Csrf: 1\r\nContent-Type: audio/wav\r\nContent-Length: {length}\r\n\r\n"
    );
    stream.write_all(head.as_bytes())?;
    let slice: Vec<u8> = (0..1024 * 1024u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 11) as u8)
        .collect();
    for _ in 0..mb {
        stream.write_all(&slice)?;
    }
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    let text = String::from_utf8_lossy(&raw);
    if !text.starts_with("HTTP/1.1 201") {
        bail!(
            "upload of {recording}: {}",
            text.chars().take(300).collect::<String>()
        );
    }
    Ok(())
}

/// `n` recordings of the signed-in organization that have no media yet.
fn recordings_without_media(addr: &str, cookie: &str, n: usize) -> Result<Vec<String>> {
    let (_, body) = request(
        addr,
        "GET",
        "/api/conversations?recorded=yes&size=50",
        cookie,
        "",
    )?;
    let page: serde_json::Value = serde_json::from_str(&body)?;
    let mut out = Vec::new();
    for row in page["entities"].as_array().context("no entities")? {
        let id = row["id"].as_str().context("a row without an id")?;
        let (_, body) = request(addr, "GET", &format!("/api/conversations/{id}"), cookie, "")?;
        let details: serde_json::Value = serde_json::from_str(&body)?;
        for r in details["recordings"].as_array().context("no recordings")? {
            if r["hasMedia"] == false && r["fileState"] == "AVAILABLE" && out.len() < n {
                out.push(
                    r["id"]
                        .as_str()
                        .context("a recording without an id")?
                        .to_owned(),
                );
            }
        }
        if out.len() == n {
            return Ok(out);
        }
    }
    bail!("fewer than {n} recordings without media in the demo data")
}

/// The process's resident memory now (VmRSS), in MB.
fn rss_mb(pid: u32) -> Option<f64> {
    crate::bench::proc_status_mb(pid, "VmRSS:")
}
