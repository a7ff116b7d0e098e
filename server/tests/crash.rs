//! A crash between the two commits: the release binary is killed (SIGKILL) after the database
//! committed a release or a protect and before the bucket took the legal holds. The bucket is
//! then out of step with the database, and the reconciler (`holdfast media reconcile`, the
//! sweep) makes it agree; the bucket still refuses to delete a held object directly.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use holdfast_server::media::S3Settings;

#[path = "support/moto.rs"]
mod moto;

/// A TCP relay in front of the bucket that can stop passing the server's requests on (they are
/// read and dropped), so that a call is left waiting after the database commit, for sure.
struct Gate {
    port: u16,
    open: Arc<AtomicBool>,
}

impl Gate {
    fn to(upstream: u16) -> Gate {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let open = Arc::new(AtomicBool::new(true));
        let gate = open.clone();
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let Ok(server) = TcpStream::connect(("127.0.0.1", upstream)) else {
                    continue;
                };
                let (c2, s2) = (client.try_clone().unwrap(), server.try_clone().unwrap());
                let gate = gate.clone();
                std::thread::spawn(move || relay(client, server, Some(gate)));
                std::thread::spawn(move || relay(s2, c2, None));
            }
        });
        Gate { port, open }
    }

    fn set(&self, open: bool) {
        self.open.store(open, Ordering::SeqCst);
    }
}

fn relay(mut from: TcpStream, mut to: TcpStream, gate: Option<Arc<AtomicBool>>) {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if gate.as_ref().is_none_or(|g| g.load(Ordering::SeqCst))
            && to.write_all(&buf[..n]).is_err()
        {
            break;
        }
    }
    let _ = to.shutdown(std::net::Shutdown::Write);
}

struct Dir(PathBuf);

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `holdfast` with its data in `dir` and its media in the bucket, through `endpoint`.
fn holdfast(dir: &Path, settings: &S3Settings, endpoint: &str) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_holdfast"));
    c.env("HOLDFAST_DATA_DIR", dir.join("data"))
        .env("HOLDFAST_AUDIT_KEY", dir.join("audit-key"))
        .env(
            "HOLDFAST_MEDIA",
            format!("s3://{}/{}", settings.bucket, settings.prefix),
        )
        .env("HOLDFAST_S3_ENDPOINT", endpoint)
        .env("AWS_ACCESS_KEY_ID", &settings.access_key)
        .env("AWS_SECRET_ACCESS_KEY", &settings.secret_key)
        .env("HOLDFAST_LOG", "warn");
    c
}

fn run(mut c: Command) -> String {
    let out = c.output().unwrap();
    assert!(
        out.status.success(),
        "{:?}: {}",
        c,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// One HTTP/1.1 request; (status, head, body).
fn call(port: u16, method: &str, path: &str, cookie: &str, body: &str) -> (u16, String, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\nContent-Type: application/json\r\n\
         x-holdfast-csrf: 1\r\nCookie: {cookie}\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut raw = String::new();
    let _ = s.read_to_string(&mut raw);
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, head.to_owned(), body.to_owned())
}

struct Serving(Child);

impl Drop for Serving {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Serves on a free port until killed; returns the process and the port.
fn serve(dir: &Path, settings: &S3Settings, endpoint: &str) -> (Serving, u16) {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut c = holdfast(dir, settings, endpoint);
    c.args(["serve", "--addr", &format!("127.0.0.1:{port}")])
        .args(["--sweep-interval", "0", "--site"])
        .arg(dir.join("site"))
        .stdout(Stdio::null());
    let child = Serving(c.spawn().unwrap());
    let started = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(started.elapsed() < Duration::from_secs(30), "serve started");
        std::thread::sleep(Duration::from_millis(50));
    }
    (child, port)
}

fn login(port: u16) -> String {
    let (status, head, _) = call(
        port,
        "POST",
        "/api/session",
        "",
        r#"{"username":"manager","password":"holdfast-demo"}"#,
    );
    assert_eq!(status, 200, "{head}");
    head.lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .starts_with("set-cookie:")
                .then(|| l[11..].trim().split(';').next().unwrap().to_owned())
        })
        .unwrap()
}

fn protection(action: &str, conv: &str) -> String {
    format!(
        r#"{{"action":"{action}","selection":{{"kind":"ids","ids":["{conv}"]}},"reason":"matter 9"}}"#
    )
}

/// Whether the database has the conversation protected (read beside the running server).
fn protected_in_db(dir: &Path, conv: &str) -> bool {
    let db = rusqlite::Connection::open_with_flags(
        dir.join("data/holdfast.sqlite3"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap();
    db.query_row(
        "SELECT count(*) FROM protections WHERE conversation_id = ?",
        [conv],
        |r| r.get::<_, i64>(0),
    )
    .unwrap()
        == 1
}

/// Every version of the prefix's objects: (key, version id), by key.
fn versions(settings: &S3Settings) -> Vec<(String, Option<String>)> {
    moto::sdk(settings, |client, settings| async move {
        let listed = client
            .list_object_versions()
            .bucket(&settings.bucket)
            .prefix(format!("{}/", settings.prefix))
            .send()
            .await
            .unwrap();
        let mut out: Vec<(String, Option<String>)> = listed
            .versions()
            .iter()
            .map(|v| {
                (
                    v.key().unwrap().to_owned(),
                    v.version_id().map(str::to_owned),
                )
            })
            .collect();
        out.sort();
        out
    })
}

/// The legal hold of each version, as the bucket says (`None`: never held).
fn holds(settings: &S3Settings) -> Vec<Option<String>> {
    let listed = versions(settings);
    moto::sdk(settings, |client, settings| async move {
        let mut out = Vec::new();
        for (key, version) in listed {
            let hold = client
                .get_object_legal_hold()
                .bucket(&settings.bucket)
                .key(key)
                .set_version_id(version)
                .send()
                .await
                .ok()
                .and_then(|h| h.legal_hold()?.status().map(|s| s.as_str().to_owned()));
            out.push(hold);
        }
        out
    })
}

/// Sends `body` to `/api/protection` while the gate is shut, waits for the database to commit
/// it (`committed`), and kills the server with SIGKILL before the bucket heard of it.
fn crash_after_commit(
    server: Serving,
    port: u16,
    cookie: &str,
    gate: &Gate,
    body: String,
    committed: impl Fn() -> bool,
) {
    gate.set(false);
    let cookie = cookie.to_owned();
    let request = std::thread::spawn(move || call(port, "POST", "/api/protection", &cookie, &body));
    let started = Instant::now();
    while !committed() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the change was not committed"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // The request waits on the bucket: no answer yet.
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        !request.is_finished(),
        "answered before the bucket took the holds"
    );
    drop(server);
    let (status, _, _) = request.join().unwrap();
    assert_eq!(status, 0, "never acknowledged");
    gate.set(true);
}

#[test]
fn a_crash_between_the_database_commit_and_the_bucket_is_reconciled() {
    let moto = moto::Moto::start();
    moto.create_bucket("holdfast-media", true);
    let settings = moto.settings("holdfast-media", "crash");
    let upstream: u16 = moto.endpoint.rsplit(':').next().unwrap().parse().unwrap();
    let gate = Gate::to(upstream);
    let endpoint = format!("http://127.0.0.1:{}", gate.port);
    let dir = Dir(std::env::temp_dir().join(format!("holdfast-crash-{}", std::process::id())));
    std::fs::create_dir_all(dir.0.join("site")).unwrap();

    // Demo people, and a conversation whose recording has media and an attachment.
    run({
        let mut c = holdfast(&dir.0, &settings, &endpoint);
        c.args(["demo", "--size", "20"]);
        c
    });
    let conv = uuid::Uuid::new_v4().to_string();
    let line = serde_json::json!({"id": conv, "startTime": "2026-11-20T10:00:00Z", "endTime": "2026-11-20T10:05:00Z",
        "direction": "inbound", "recordings": [{"id": uuid::Uuid::new_v4().to_string(), "media": "call", "role": "policy",
        "mediaBase64": "YXVkaW8=", "attachments": [{"name": "n.txt", "contentType": "text/plain", "dataBase64": "bm90ZQ=="}]}]});
    std::fs::write(dir.0.join("in.jsonl"), line.to_string()).unwrap();
    run({
        let mut c = holdfast(&dir.0, &settings, &endpoint);
        c.args(["import", "--org", holdfast_server::demo::NORTHWIND])
            .arg(dir.0.join("in.jsonl"));
        c
    });
    assert_eq!(holds(&settings), vec![None, None]);

    // Protected and acknowledged: held.
    let (server, port) = serve(&dir.0, &settings, &endpoint);
    let cookie = login(port);
    let (status, _, body) = call(
        port,
        "POST",
        "/api/protection",
        &cookie,
        &protection("protect", &conv),
    );
    assert_eq!(status, 200, "{body}");
    let on = Some("ON".to_owned());
    assert_eq!(holds(&settings), vec![on.clone(), on.clone()]);

    // Killed after the release's commit: the bucket still holds what the database released.
    crash_after_commit(
        server,
        port,
        &cookie,
        &gate,
        protection("release", &conv),
        || !protected_in_db(&dir.0, &conv),
    );
    assert_eq!(holds(&settings), vec![on.clone(), on.clone()]);
    let reconciled = run({
        let mut c = holdfast(&dir.0, &settings, &endpoint);
        c.args(["--json", "media", "reconcile"]);
        c
    });
    let reconciled: serde_json::Value = serde_json::from_str(&reconciled).unwrap();
    assert_eq!(
        reconciled,
        serde_json::json!({"holds": true, "settled": 1, "held": 0, "lifted": 0})
    );
    let off = Some("OFF".to_owned());
    assert_eq!(holds(&settings), vec![off.clone(), off.clone()]);

    // Killed after the protect's commit: the database protects what the bucket does not hold,
    // the dangerous way round. The next sweep holds it.
    let (server, port) = serve(&dir.0, &settings, &endpoint);
    let cookie = login(port);
    crash_after_commit(
        server,
        port,
        &cookie,
        &gate,
        protection("protect", &conv),
        || protected_in_db(&dir.0, &conv),
    );
    assert_eq!(holds(&settings), vec![off.clone(), off]);
    run({
        let mut c = holdfast(&dir.0, &settings, &endpoint);
        c.arg("sweep");
        c
    });
    assert_eq!(holds(&settings), vec![on.clone(), on]);

    // A full reconcile finds nothing left to do, and the bucket refuses a direct delete.
    let reconciled = run({
        let mut c = holdfast(&dir.0, &settings, &endpoint);
        c.args(["--json", "media", "reconcile"]);
        c
    });
    let reconciled: serde_json::Value = serde_json::from_str(&reconciled).unwrap();
    assert_eq!(
        reconciled,
        serde_json::json!({"holds": true, "settled": 0, "held": 2, "lifted": 0})
    );
    let listed = versions(&settings);
    let refused = moto::sdk(&settings, |client, settings| async move {
        use aws_sdk_s3::error::ProvideErrorMetadata;
        let mut codes = Vec::new();
        for (key, version) in listed {
            let e = client
                .delete_object()
                .bucket(&settings.bucket)
                .key(key)
                .set_version_id(version)
                .send()
                .await
                .err()
                .and_then(|e| e.code().map(str::to_owned));
            codes.push(e);
        }
        codes
    });
    let denied = Some("AccessDenied".to_owned());
    assert_eq!(refused, vec![denied.clone(), denied]);
}
