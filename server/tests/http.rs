//! The server over real HTTP on an ephemeral port: sign-in, tenancy, the interactions list, the
//! selection summary, the app's files and every kind of bad input.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use holdfast_core::api::{ConversationPage, Me, SummaryResponse};
use holdfast_core::audit::{self, AuditAction};
use holdfast_core::protection::Count;
use holdfast_server::assets::Assets;
use holdfast_server::demo;
use holdfast_server::http::{AppState, serve};
use holdfast_server::media::{LocalMedia, MediaStore};
use holdfast_server::store::Store;
use holdfast_server::store::postgres::PgStore;
use holdfast_server::store::sqlite::SqliteStore;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A raw HTTP/1.1 answer.
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    fn parse<T: serde::de::DeserializeOwned>(&self) -> T {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "unexpected body ({e}): {}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    /// Asserts the status, showing the body when it differs.
    #[track_caller]
    fn assert_status(&self, status: u16) {
        assert_eq!(
            self.status,
            status,
            "{}",
            String::from_utf8_lossy(&self.body)
        );
    }

    /// Asserts a JSON error with this status and code.
    #[track_caller]
    fn assert_error(&self, status: u16, code: &str) {
        assert_eq!(
            self.status,
            status,
            "{}",
            String::from_utf8_lossy(&self.body)
        );
        let body = self.json();
        assert_eq!(body["status"], status);
        assert_eq!(body["code"], code);
        assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));
        assert_eq!(self.header("content-type"), Some("application/json"));
    }
}

struct Server {
    addr: SocketAddr,
    store: Arc<dyn Store>,
    /// The same store when it is SQLite, for the tests that look beneath the `Store` trait.
    sqlite: Option<Arc<SqliteStore>>,
    /// The database's address when it is PostgreSQL.
    postgres: Option<String>,
    /// Where its media are kept: the test's directory, or the suite's S3 bucket.
    media: Arc<dyn MediaStore>,
    /// Dropped with the server: stops serving.
    _stop: tokio::sync::oneshot::Sender<()>,
    _dir: TempDir,
}

impl Server {
    /// The SQLite store of a test that runs only on SQLite.
    fn sqlite(&self) -> &SqliteStore {
        self.sqlite.as_deref().expect("this test runs on SQLite")
    }

    /// The server's database, to change behind its back as someone with write access to it can.
    fn db(&self) -> RawDb {
        match &self.postgres {
            Some(url) => RawDb::Postgres(url.clone()),
            None => {
                RawDb::Sqlite(rusqlite::Connection::open(self._dir.0.join("db.sqlite3")).unwrap())
            }
        }
    }
}

/// A database beneath a test server, either backend, written with SQL that both speak and
/// SQLite's placeholders (`?` and `?N`).
enum RawDb {
    Sqlite(rusqlite::Connection),
    Postgres(String),
}

/// A parameter of [`RawDb`]'s statements.
#[derive(Clone, Debug)]
enum Raw {
    Text(String),
    Int(i64),
}

impl From<String> for Raw {
    fn from(v: String) -> Raw {
        Raw::Text(v)
    }
}

impl From<&str> for Raw {
    fn from(v: &str) -> Raw {
        Raw::Text(v.to_owned())
    }
}

impl From<&String> for Raw {
    fn from(v: &String) -> Raw {
        Raw::Text(v.clone())
    }
}

impl From<i64> for Raw {
    fn from(v: i64) -> Raw {
        Raw::Int(v)
    }
}

/// The parameters of a [`RawDb`] statement.
macro_rules! raw {
    ($($v:expr),* $(,)?) => { &[$(Raw::from($v)),*] };
}

/// SQLite's placeholders (`?`, `?N`) as PostgreSQL's (`$N`).
fn dollar_placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut next = 0;
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '?' {
            out.push(c);
            continue;
        }
        let mut digits = String::new();
        while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
            digits.push(*d);
            chars.next();
        }
        if digits.is_empty() {
            next += 1;
            digits = next.to_string();
        }
        out.push('$');
        out.push_str(&digits);
    }
    out
}

impl RawDb {
    /// Runs one statement; returns the rows it changed.
    fn execute(&self, sql: &str, args: &[Raw]) -> u64 {
        match self {
            RawDb::Sqlite(c) => {
                let values = Self::sqlite_params(args);
                c.execute(sql, values).unwrap() as u64
            }
            RawDb::Postgres(url) => Self::on_postgres(url, |c| {
                let params = Self::pg_params(args);
                let refs = Self::refs(&params);
                c.execute(&dollar_placeholders(sql), &refs).unwrap()
            }),
        }
    }

    /// Runs several statements (PostgreSQL only: what SQLite's tests need, they run alone).
    fn batch(&self, sql: &str) {
        match self {
            RawDb::Sqlite(c) => c.execute_batch(sql).unwrap(),
            RawDb::Postgres(url) => Self::on_postgres(url, |c| c.batch_execute(sql).unwrap()),
        }
    }

    /// The one text value of a query.
    fn text(&self, sql: &str, args: &[Raw]) -> String {
        match self {
            RawDb::Sqlite(c) => {
                let values = Self::sqlite_params(args);
                c.query_row(sql, values, |r| r.get(0)).unwrap()
            }
            RawDb::Postgres(url) => Self::on_postgres(url, |c| {
                let params = Self::pg_params(args);
                let refs = Self::refs(&params);
                c.query_one(&dollar_placeholders(sql), &refs)
                    .unwrap()
                    .get(0)
            }),
        }
    }

    fn sqlite_params(args: &[Raw]) -> rusqlite::ParamsFromIter<Vec<rusqlite::types::Value>> {
        rusqlite::params_from_iter(
            args.iter()
                .map(|a| match a {
                    Raw::Text(t) => rusqlite::types::Value::Text(t.clone()),
                    Raw::Int(n) => rusqlite::types::Value::Integer(*n),
                })
                .collect::<Vec<_>>(),
        )
    }

    fn refs(
        params: &[Box<dyn postgres::types::ToSql + Sync>],
    ) -> Vec<&(dyn postgres::types::ToSql + Sync)> {
        params.iter().map(|p| p.as_ref()).collect()
    }

    fn pg_params(args: &[Raw]) -> Vec<Box<dyn postgres::types::ToSql + Sync>> {
        args.iter()
            .map(|a| -> Box<dyn postgres::types::ToSql + Sync> {
                match a {
                    Raw::Text(t) => Box::new(t.clone()),
                    Raw::Int(n) => Box::new(*n),
                }
            })
            .collect()
    }

    /// The blocking client on a thread of its own: it cannot run on one that drives tokio.
    fn on_postgres<T: Send>(url: &str, f: impl FnOnce(&mut postgres::Client) -> T + Send) -> T {
        std::thread::scope(|scope| {
            scope
                .spawn(|| {
                    let mut client = postgres::Client::connect(url, postgres::NoTls).unwrap();
                    f(&mut client)
                })
                .join()
                .unwrap()
        })
    }
}

/// Where a test server keeps its data.
#[derive(Clone, Debug)]
enum Backend {
    Sqlite,
    /// A database of its own on the suite's throwaway PostgreSQL.
    Postgres(String),
    /// SQLite, its media in the suite's S3 bucket (moto), under a prefix of its own.
    SqliteS3(holdfast_server::media::S3Settings),
}

/// A test body that runs on either backend.
type BackendTest = fn(Backend) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()>>>;

struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let n = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let dir =
            std::env::temp_dir().join(format!("holdfast-test-{tag}-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The bearer token the test servers' `/metrics` requires.
const METRICS_TOKEN: &str = "test-metrics-token-0123456789";

async fn start(tag: &str) -> Server {
    start_tuned(tag, Default::default(), Default::default()).await
}

/// A server on `backend` with demo data.
async fn start_on(tag: &str, backend: &Backend) -> Server {
    start_tuned_on(tag, backend, Default::default(), Default::default()).await
}

/// A server on `backend` whose body deadline and password checks are set by the test.
async fn start_tuned_on(
    tag: &str,
    backend: &Backend,
    body_time: holdfast_server::http::BodyTime,
    password_checks: Arc<holdfast_server::auth::PasswordChecks>,
) -> Server {
    match backend {
        Backend::Sqlite => start_tuned(tag, body_time, password_checks).await,
        Backend::SqliteS3(settings) => {
            let dir = TempDir::new(tag);
            let store = Arc::new(SqliteStore::open(&dir.0.join("db.sqlite3")).unwrap());
            demo::seed(store.as_ref(), 300, demo::fixed_now()).unwrap();
            let media: Arc<dyn MediaStore> = Arc::new(
                holdfast_server::media::S3Media::open(settings, dir.0.join("spool")).unwrap(),
            );
            serve_store(
                dir,
                store.clone(),
                Some(store),
                media,
                body_time,
                password_checks,
            )
            .await
        }
        Backend::Postgres(url) => {
            let store = Arc::new(PgStore::connect(url).unwrap());
            demo::seed(store.as_ref(), 300, demo::fixed_now()).unwrap();
            let dir = TempDir::new(tag);
            let media = local_media(&dir);
            let mut server = serve_store(dir, store, None, media, body_time, password_checks).await;
            server.postgres = Some(url.clone());
            server
        }
    }
}

/// A server whose body deadline and password checks are set by the test.
async fn start_tuned(
    tag: &str,
    body_time: holdfast_server::http::BodyTime,
    password_checks: Arc<holdfast_server::auth::PasswordChecks>,
) -> Server {
    let dir = TempDir::new(tag);
    let store = Arc::new(SqliteStore::open(&dir.0.join("db.sqlite3")).unwrap());
    demo::seed(store.as_ref(), 300, demo::fixed_now()).unwrap();
    let media = local_media(&dir);
    serve_store(
        dir,
        store.clone(),
        Some(store),
        media,
        body_time,
        password_checks,
    )
    .await
}

/// Media in the test's directory.
fn local_media(dir: &TempDir) -> Arc<dyn MediaStore> {
    Arc::new(LocalMedia::open(dir.0.join("media")).unwrap())
}

/// Serves `store` from a test site in `dir`.
async fn serve_store(
    dir: TempDir,
    store: Arc<dyn Store>,
    sqlite: Option<Arc<SqliteStore>>,
    media: Arc<dyn MediaStore>,
    body_time: holdfast_server::http::BodyTime,
    password_checks: Arc<holdfast_server::auth::PasswordChecks>,
) -> Server {
    let site = dir.0.join("site");
    std::fs::create_dir_all(site.join("pkg")).unwrap();
    std::fs::write(
        site.join("index.html"),
        "<!doctype html><title>Holdfast</title>",
    )
    .unwrap();
    std::fs::write(site.join("index.html.br"), "brotli bytes").unwrap();
    std::fs::write(site.join("pkg/app_bg.wasm"), b"\0asm").unwrap();
    let state = Arc::new(AppState {
        store: store.clone(),
        assets: Assets::load(&site).unwrap(),
        password_checks,
        body_time,
        secure_cookies: false,
        media: media.clone(),
        metrics: Default::default(),
        metrics_token: Some(holdfast_server::auth::token_hash(METRICS_TOKEN)),
        checkpointer: None,
        storage: Default::default(),
        chains: Default::default(),
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    // Stopped when the test's `Server` is dropped, so that its store (and a PostgreSQL
    // store's connections) goes with it rather than living on beside the next tests.
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(serve(listener, state, async move {
        let _ = stopped.await;
    }));
    Server {
        addr,
        store,
        sqlite,
        postgres: None,
        media,
        _stop: stop,
        _dir: dir,
    }
}

impl Server {
    async fn send(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Answer {
        let mut stream = tokio::net::TcpStream::connect(self.addr).await.unwrap();
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Length: {}\r\n",
            self.addr,
            body.len()
        );
        for (k, v) in headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        head.push_str("\r\n");
        stream.write_all(head.as_bytes()).await.unwrap();
        // A body over the limit may be refused before it is all sent.
        let _ = stream.write_all(body).await;
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).await.unwrap();
        parse_answer(&raw)
    }

    /// `/metrics` as the scraper with the token gets it.
    async fn scrape(&self) -> String {
        let auth = format!("Bearer {METRICS_TOKEN}");
        let answer = self
            .send("GET", "/metrics", &[("authorization", &auth)], b"")
            .await;
        answer.assert_status(200);
        String::from_utf8(answer.body).unwrap()
    }

    async fn get(&self, path: &str, cookie: &str) -> Answer {
        self.send("GET", path, &[("cookie", cookie)], b"").await
    }

    async fn post_json(&self, path: &str, cookie: &str, body: &serde_json::Value) -> Answer {
        let body = serde_json::to_vec(body).unwrap();
        let headers = [
            ("cookie", cookie),
            ("content-type", "application/json"),
            ("x-holdfast-csrf", "1"),
        ];
        self.send("POST", path, &headers, &body).await
    }

    /// Signs in and returns the cookie pair.
    async fn login(&self, username: &str) -> String {
        let body = serde_json::json!({"username": username, "password": demo::DEMO_PASSWORD});
        let answer = self.post_json("/api/session", "", &body).await;
        answer.assert_status(200);
        let set = answer
            .header("set-cookie")
            .expect("a session cookie")
            .to_owned();
        set.split(';').next().unwrap().to_owned()
    }
}

/// The columns kept by triggers equal what they summarize, for every conversation.
fn assert_denormalized_consistent(server: &Server) {
    if server.postgres.is_some() {
        let wrong = server.db().text(
            "SELECT COUNT(*)::text FROM conversations c WHERE
                c.recording_count <> (SELECT COUNT(*) FROM recordings r WHERE r.org_id = c.org_id AND r.conversation_id = c.id)
             OR c.media_mask <> COALESCE((SELECT bit_or(holdfast_media_bit(r.media)) FROM recordings r
                                          WHERE r.org_id = c.org_id AND r.conversation_id = c.id), 0)
             OR c.protectable <> EXISTS (SELECT 1 FROM recordings r WHERE r.org_id = c.org_id AND r.conversation_id = c.id
                                         AND r.role = 'policy' AND r.file_state = 'AVAILABLE')
             OR c.next_delete IS DISTINCT FROM (SELECT MIN(r.delete_date) FROM recordings r WHERE r.org_id = c.org_id
                                                AND r.conversation_id = c.id AND r.file_state = 'AVAILABLE')
             OR c.protected <> EXISTS (SELECT 1 FROM protections p WHERE p.org_id = c.org_id AND p.conversation_id = c.id)",
            &[],
        );
        assert_eq!(
            wrong, "0",
            "conversations whose summary columns disagree with their recordings"
        );
        return;
    }
    let db = rusqlite::Connection::open(server._dir.0.join("db.sqlite3")).unwrap();
    let wrong: i64 = db
        .query_row(
            "SELECT COUNT(*) FROM conversations c JOIN conversation_facts f ON f.org_id = c.org_id AND f.id = c.id
             WHERE c.recording_count <> f.recording_count OR c.media_mask <> f.media_mask
                OR c.protectable <> f.protectable OR c.next_delete <> f.next_delete
                OR c.protected <> EXISTS (SELECT 1 FROM protections p WHERE p.org_id = c.org_id AND p.conversation_id = c.id)",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(
        wrong, 0,
        "conversations whose summary columns disagree with their recordings"
    );
}

fn parse_answer(raw: &[u8]) -> Answer {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a complete answer");
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect::<Vec<_>>();
    let mut body = raw[split + 4..].to_vec();
    if headers
        .iter()
        .any(|(k, v)| k.eq_ignore_ascii_case("transfer-encoding") && v == "chunked")
    {
        body = dechunk(&body);
    }
    Answer {
        status,
        headers,
        body,
    }
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let line_end = data.windows(2).position(|w| w == b"\r\n").unwrap();
        let size =
            usize::from_str_radix(std::str::from_utf8(&data[..line_end]).unwrap().trim(), 16)
                .unwrap();
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&data[line_end + 2..line_end + 2 + size]);
        data = &data[line_end + 4 + size..];
    }
}

#[tokio::test]
async fn sign_in_sets_a_strict_http_only_cookie_and_refuses_wrong_passwords() {
    sign_in_sets_a_strict_http_only_cookie_and_refuses_wrong_passwords_on(Backend::Sqlite).await;
}

async fn sign_in_sets_a_strict_http_only_cookie_and_refuses_wrong_passwords_on(backend: Backend) {
    let server = start_on("login", &backend).await;
    let wrong = serde_json::json!({"username": "manager", "password": "nope"});
    server
        .post_json("/api/session", "", &wrong)
        .await
        .assert_error(401, "bad.credentials");
    let unknown = serde_json::json!({"username": "nobody", "password": "nope"});
    server
        .post_json("/api/session", "", &unknown)
        .await
        .assert_error(401, "bad.credentials");

    let body = serde_json::json!({"username": "manager", "password": demo::DEMO_PASSWORD});
    let answer = server.post_json("/api/session", "", &body).await;
    assert_eq!(answer.status, 200);
    let cookie = answer.header("set-cookie").unwrap();
    for part in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(part), "{cookie}");
    }
    let me: Me = answer.parse();
    assert_eq!(me.org_name, demo::NORTHWIND);
    assert!(
        me.permissions
            .contains(&"recording:deletionProtection:revoke".to_owned())
    );

    let pair = cookie.split(';').next().unwrap();
    let again: Me = server.get("/api/session", pair).await.parse();
    assert_eq!(again.user_id, me.user_id);

    // Signing out ends the session on the server, not only in the browser.
    let out = server
        .send(
            "DELETE",
            "/api/session",
            &[("cookie", pair), ("x-holdfast-csrf", "1")],
            b"",
        )
        .await;
    assert_eq!(out.status, 200);
    server
        .get("/api/session", pair)
        .await
        .assert_error(401, "not.authorized");

    // Both logins and failed logins leave the chain sound; the successful one is audited.
    let events = server.store.audit_events(me.org_id).unwrap();
    assert_eq!(
        events
            .iter()
            .filter(|(e, _)| e.action == AuditAction::Login)
            .count(),
        1
    );
    assert_eq!(
        holdfast_server::audit_cli::verify(server.store.as_ref(), me.org_id).unwrap(),
        Ok(2)
    );
}

#[tokio::test]
async fn repeated_failed_logins_are_rate_limited() {
    repeated_failed_logins_are_rate_limited_on(Backend::Sqlite).await;
}

async fn repeated_failed_logins_are_rate_limited_on(backend: Backend) {
    let server = start_on("limit", &backend).await;
    let wrong = serde_json::json!({"username": "analyst", "password": "wrong"});
    for _ in 0..10 {
        server
            .post_json("/api/session", "", &wrong)
            .await
            .assert_error(401, "bad.credentials");
    }
    server
        .post_json("/api/session", "", &wrong)
        .await
        .assert_error(429, "too.many.requests");
}

#[tokio::test]
async fn every_api_call_needs_a_session_and_state_changes_need_the_csrf_header() {
    every_api_call_needs_a_session_and_state_changes_need_the_csrf_header_on(Backend::Sqlite).await;
}

async fn every_api_call_needs_a_session_and_state_changes_need_the_csrf_header_on(
    backend: Backend,
) {
    let server = start_on("csrf", &backend).await;
    server
        .get("/api/conversations", "")
        .await
        .assert_error(401, "not.authorized");
    server
        .get("/api/org/status", "holdfast_session=forged")
        .await
        .assert_error(401, "not.authorized");
    let body = br#"{"username":"manager","password":"holdfast-demo"}"#;
    let no_header = server
        .send(
            "POST",
            "/api/session",
            &[("content-type", "application/json")],
            body,
        )
        .await;
    no_header.assert_error(403, "csrf.rejected");
    let foreign = server
        .send(
            "POST",
            "/api/session",
            &[
                ("content-type", "application/json"),
                ("x-holdfast-csrf", "1"),
                ("sec-fetch-site", "cross-site"),
            ],
            body,
        )
        .await;
    foreign.assert_error(403, "csrf.rejected");
    let other_origin = server
        .send(
            "POST",
            "/api/session",
            &[
                ("content-type", "application/json"),
                ("x-holdfast-csrf", "1"),
                ("origin", "http://evil.example"),
            ],
            body,
        )
        .await;
    other_origin.assert_error(403, "csrf.rejected");
}

#[tokio::test]
async fn interactions_are_listed_paged_and_scoped_to_the_organization() {
    interactions_are_listed_paged_and_scoped_to_the_organization_on(Backend::Sqlite).await;
}

async fn interactions_are_listed_paged_and_scoped_to_the_organization_on(backend: Backend) {
    let server = start_on("tenancy", &backend).await;
    let northwind = server.login("manager").await;
    let contoso = server.login("contoso.manager").await;

    let page: ConversationPage = server
        .get("/api/conversations?size=10", &northwind)
        .await
        .parse();
    assert_eq!(page.total, 300);
    assert_eq!(page.entities.len(), 10);
    assert!(
        page.entities
            .windows(2)
            .all(|w| w[0].start_time >= w[1].start_time),
        "newest first"
    );
    let second: ConversationPage = server
        .get("/api/conversations?size=10&page=2", &northwind)
        .await
        .parse();
    assert!(
        second
            .entities
            .iter()
            .all(|r| !page.entities.iter().any(|p| p.id == r.id))
    );

    let theirs: ConversationPage = server
        .get("/api/conversations?size=100", &contoso)
        .await
        .parse();
    assert_eq!(theirs.total, 60);
    let all_ours: Vec<_> = {
        let mut ids = Vec::new();
        for n in 1..=3 {
            let p: ConversationPage = server
                .get(&format!("/api/conversations?size=100&page={n}"), &northwind)
                .await
                .parse();
            ids.extend(p.entities.into_iter().map(|r| r.id));
        }
        ids
    };
    assert_eq!(all_ours.len(), 300);
    assert!(theirs.entities.iter().all(|r| !all_ours.contains(&r.id)));

    // Another organization's ids count as nothing at all, exactly like unknown ids.
    let ids: Vec<String> = all_ours[..5].iter().map(|id| id.to_string()).collect();
    let body = serde_json::json!({"selection": {"kind": "ids", "ids": ids}});
    let summary: SummaryResponse = server
        .post_json("/api/selection/summary", &contoso, &body)
        .await
        .parse();
    assert_eq!(summary.summary.matching(), Count::Exact(0));
    let summary: SummaryResponse = server
        .post_json("/api/selection/summary", &northwind, &body)
        .await
        .parse();
    assert_eq!(summary.summary.matching(), Count::Exact(5));

    // Text filters match literally and in part; an agent filter keeps only that agent's rows.
    let agent = page.entities[0].agents[0]
        .split(' ')
        .next_back()
        .unwrap()
        .to_owned();
    let by_agent: ConversationPage = server
        .get(
            &format!("/api/conversations?agent={agent}&size=100"),
            &northwind,
        )
        .await
        .parse();
    let every = all_rows(&server, &northwind).await;
    let with_agent: Vec<_> = every
        .iter()
        .filter(|r| r.agents.iter().any(|a| a.contains(&agent)))
        .map(|r| r.id)
        .collect();
    assert_eq!(by_agent.total, with_agent.len() as u64);
    assert_eq!(
        by_agent.entities.iter().map(|r| r.id).collect::<Vec<_>>(),
        with_agent[..with_agent.len().min(100)],
        "exactly that agent's rows, newest first"
    );
    let none: ConversationPage = server
        .get("/api/conversations?agent=%25&size=10", &northwind)
        .await
        .parse();
    assert_eq!(none.total, 0, "% is not a wildcard");
    let sorted: ConversationPage = server
        .get("/api/conversations?sort=deletion&size=100", &northwind)
        .await
        .parse();
    let dates: Vec<_> = sorted.entities.iter().map(|r| r.deletion_date).collect();
    assert!(
        dates.windows(2).all(|w| match (w[0], w[1]) {
            (Some(a), Some(b)) => a <= b,
            (None, Some(_)) => false,
            _ => true,
        }),
        "dates ascending, never last"
    );
    let protected: ConversationPage = server
        .get("/api/conversations?protected=yes&size=100", &northwind)
        .await
        .parse();
    assert_eq!(
        protected.total, 40,
        "the demo protects 40 of Northwind's conversations"
    );
    assert_eq!(
        protected.entities.iter().map(|r| r.id).collect::<Vec<_>>(),
        every
            .iter()
            .filter(|r| r.protected)
            .map(|r| r.id)
            .collect::<Vec<_>>()
    );
    let status: serde_json::Value = server.get("/api/org/status", &northwind).await.json();
    assert_eq!(status["protected"], protected.total);
    assert_eq!(status["cap"], 1000);

    // A page's total is kept until the data changes, never past it: a protect, a release and
    // an arriving conversation each show on the next page.
    let total = |query: &'static str| {
        let (server, northwind) = (&server, &northwind);
        async move {
            let page: ConversationPage = server
                .get(&format!("/api/conversations?{query}"), northwind)
                .await
                .parse();
            page.total
        }
    };
    let ids = protectable_ids(&server, &northwind, 100, 3).await;
    let protect = serde_json::json!({"action": "protect", "selection": {"kind": "ids", "ids": ids}, "reason": "Case 4"});
    server
        .post_json("/api/protection", &northwind, &protect)
        .await
        .assert_status(200);
    assert_eq!(total("protected=yes").await, 43);
    assert_eq!(total("protected=no").await, 300 - 43);
    let release = serde_json::json!({"action": "release", "selection": {"kind": "ids", "ids": ids}, "reason": "Case 4"});
    server
        .post_json("/api/protection", &northwind, &release)
        .await
        .assert_status(200);
    assert_eq!(total("protected=yes").await, 40);
    let admin = server.login("admin").await;
    let arriving = serde_json::json!({"id": new_id(), "startTime": "2026-11-20T10:00:00Z", "endTime": "2026-11-20T10:05:00Z",
        "direction": "inbound", "recordings": [{"id": new_id(), "media": "chat", "role": "policy"}]});
    assert_eq!(total("media=chat").await + 1, {
        server
            .post_json("/api/ingest", &admin, &arriving)
            .await
            .assert_status(201);
        total("media=chat").await
    });
    assert_eq!(total("").await, 301);
}

#[tokio::test]
async fn the_summary_of_a_filter_counts_every_kind_once() {
    the_summary_of_a_filter_counts_every_kind_once_on(Backend::Sqlite).await;
}

async fn the_summary_of_a_filter_counts_every_kind_once_on(backend: Backend) {
    let server = start_on("summary", &backend).await;
    let cookie = server.login("supervisor").await;
    let body = serde_json::json!({"selection": {"kind": "filter", "query": "", "except": []}});
    let all: SummaryResponse = server
        .post_json("/api/selection/summary", &cookie, &body)
        .await
        .parse();
    assert_eq!(all.summary.matching(), Count::Exact(300));
    assert_eq!(all.summary.protected, all.org.protected);
    let body =
        serde_json::json!({"selection": {"kind": "filter", "query": "recorded=no", "except": []}});
    let none: SummaryResponse = server
        .post_json("/api/selection/summary", &cookie, &body)
        .await
        .parse();
    assert_eq!(
        (none.summary.protected, none.summary.protectable),
        (0, Count::Exact(0))
    );
    let rows = all_rows(&server, &cookie).await;
    let without = rows.iter().filter(|r| r.recording_count == 0).count();
    assert_eq!(none.summary.without_recording, Count::Exact(without as u32));
    // Of the whole organization, "without recording" is every unprotected conversation that
    // cannot be protected (rule 1: no policy recording that is not deleted).
    let unprotected: Vec<String> = rows
        .iter()
        .filter(|r| !r.protected)
        .map(|r| r.id.to_string())
        .collect();
    let protectable = protectable_by_details(&server, &cookie, &unprotected).await;
    let yes = protectable.iter().filter(|p| **p).count();
    assert_eq!(
        (all.summary.protectable, all.summary.without_recording),
        (
            Count::Exact(yes as u32),
            Count::Exact((unprotected.len() - yes) as u32)
        )
    );
    let body =
        serde_json::json!({"selection": {"kind": "filter", "query": "page=2", "except": []}});
    server
        .post_json("/api/selection/summary", &cookie, &body)
        .await
        .assert_error(400, "bad.request");
}

#[tokio::test]
async fn bad_input_gets_a_json_4xx() {
    bad_input_gets_a_json_4xx_on(Backend::Sqlite).await;
}

async fn bad_input_gets_a_json_4xx_on(backend: Backend) {
    let server = start_on("bad", &backend).await;
    let cookie = server.login("manager").await;
    server
        .get("/api/conversations?page=0", &cookie)
        .await
        .assert_error(400, "bad.request");
    server
        .get("/api/conversations?colour=red", &cookie)
        .await
        .assert_error(400, "bad.request");
    server
        .get("/api/conversations?queue=%FF", &cookie)
        .await
        .assert_error(400, "bad.request");
    server
        .get("/api/nothing-here", &cookie)
        .await
        .assert_error(404, "not.found");
    let wrong_method = server
        .send("PUT", "/api/conversations", &[("cookie", &cookie)], b"")
        .await;
    wrong_method.assert_error(405, "method.not.allowed");
    assert_eq!(wrong_method.header("allow"), Some("GET"));
    let wrong_method = server.send("PUT", "/api/session", &[], b"").await;
    wrong_method.assert_error(405, "method.not.allowed");
    assert_eq!(wrong_method.header("allow"), Some("GET, POST, DELETE"));
    let headers = [
        ("cookie", cookie.as_str()),
        ("content-type", "application/json"),
        ("x-holdfast-csrf", "1"),
    ];
    server
        .send("POST", "/api/selection/summary", &headers, b"{not json")
        .await
        .assert_error(400, "bad.request");
    server
        .send(
            "POST",
            "/api/selection/summary",
            &headers,
            br#"{"selection":{"kind":"ids","ids":["nope"]}}"#,
        )
        .await
        .assert_error(400, "bad.request");
    server
        .send(
            "POST",
            "/api/selection/summary",
            &headers,
            &vec![b' '; 300 * 1024],
        )
        .await
        .assert_error(413, "payload.too.large");
    let text = [
        ("cookie", cookie.as_str()),
        ("content-type", "text/plain"),
        ("x-holdfast-csrf", "1"),
    ];
    server
        .send("POST", "/api/selection/summary", &text, b"{}")
        .await
        .assert_error(415, "unsupported.media.type");
    let many: Vec<String> = (0..1001)
        .map(|i| format!("00000000-0000-4000-8000-{i:012}"))
        .collect();
    let body = serde_json::json!({"selection": {"kind": "ids", "ids": many}});
    server
        .post_json("/api/selection/summary", &cookie, &body)
        .await
        .assert_error(400, "bad.request");
}

#[tokio::test]
async fn the_app_is_served_precompressed_with_a_strict_policy() {
    the_app_is_served_precompressed_with_a_strict_policy_on(Backend::Sqlite).await;
}

async fn the_app_is_served_precompressed_with_a_strict_policy_on(backend: Backend) {
    let server = start_on("assets", &backend).await;
    let page = server
        .send(
            "GET",
            "/interactions?protected=yes",
            &[("accept-encoding", "gzip, br")],
            b"",
        )
        .await;
    assert_eq!(page.status, 200);
    assert_eq!(
        page.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert_eq!(page.header("content-encoding"), Some("br"));
    assert_eq!(page.body, b"brotli bytes");
    let csp = page.header("content-security-policy").unwrap();
    assert!(
        csp.contains("script-src 'self' 'wasm-unsafe-eval'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    let plain = server.send("GET", "/", &[], b"").await;
    assert_eq!(plain.header("content-encoding"), None);
    assert_eq!(plain.body, b"<!doctype html><title>Holdfast</title>");
    let etag = plain.header("etag").unwrap().to_owned();
    let cached = server
        .send("GET", "/", &[("if-none-match", &etag)], b"")
        .await;
    assert_eq!(cached.status, 304);
    let wasm = server.send("GET", "/pkg/app_bg.wasm", &[], b"").await;
    assert_eq!(wasm.header("content-type"), Some("application/wasm"));
    server
        .send("GET", "/pkg/missing.js", &[], b"")
        .await
        .assert_error(404, "not.found");
    let health = server.send("GET", "/healthz", &[], b"").await;
    assert_eq!(health.json()["status"], "ok");
}

/// Every row of the caller's organization, newest first, read page by page without a filter:
/// the oracle filtered views are compared with.
async fn all_rows(server: &Server, cookie: &str) -> Vec<holdfast_core::api::ConversationRow> {
    let mut rows = Vec::new();
    for page in 1.. {
        let answer: ConversationPage = server
            .get(&format!("/api/conversations?size=100&page={page}"), cookie)
            .await
            .parse();
        let done = answer.entities.len() < 100;
        rows.extend(answer.entities);
        if done {
            return rows;
        }
    }
    rows
}

/// Whether each conversation can be protected (rule 1), decided from its details: a policy
/// recording that is not deleted.
async fn protectable_by_details(server: &Server, cookie: &str, ids: &[String]) -> Vec<bool> {
    let mut out = Vec::new();
    for id in ids {
        let d = details(server, cookie, id).await;
        out.push(d.recordings.iter().any(|r| {
            r.role == holdfast_core::RecordingRole::Policy
                && r.file_state == holdfast_core::FileState::Available
        }));
    }
    out
}

async fn page_ids(server: &Server, cookie: &str, query: &str) -> Vec<String> {
    let page: ConversationPage = server
        .get(&format!("/api/conversations?{query}"), cookie)
        .await
        .parse();
    page.entities.iter().map(|r| r.id.to_string()).collect()
}

/// Up to `n` of Northwind's unprotected conversations that can be protected, as ids.
async fn protectable_ids(server: &Server, cookie: &str, scan: u32, n: usize) -> Vec<String> {
    let org = server.store.find_org(demo::NORTHWIND).unwrap().unwrap();
    let candidates: Vec<holdfast_core::ConversationId> = page_ids(
        server,
        cookie,
        &format!("protected=no&recorded=yes&size={scan}"),
    )
    .await
    .iter()
    .map(|id| holdfast_core::ConversationId::parse(id).unwrap())
    .collect();
    server
        .store
        .classify(org, &candidates)
        .unwrap()
        .into_iter()
        .filter(|(_, s)| *s == holdfast_server::store::Standing::Protectable)
        .map(|(id, _)| id.to_string())
        .take(n)
        .collect()
}

async fn status(server: &Server, cookie: &str) -> (u64, u64) {
    let s = server.get("/api/org/status", cookie).await.json();
    (s["protected"].as_u64().unwrap(), s["cap"].as_u64().unwrap())
}

#[tokio::test]
async fn protect_and_release_commit_with_one_audit_event_per_conversation() {
    protect_and_release_commit_with_one_audit_event_per_conversation_on(Backend::Sqlite).await;
}

async fn protect_and_release_commit_with_one_audit_event_per_conversation_on(backend: Backend) {
    let server = start_on("protect", &backend).await;
    let cookie = server.login("manager").await;
    let me: Me = server.get("/api/session", &cookie).await.parse();
    let ids = page_ids(&server, &cookie, "protected=no&recorded=yes&size=10").await;
    let (before, _) = status(&server, &cookie).await;
    let events_before = server.store.audit_events(me.org_id).unwrap().len();

    let body = serde_json::json!({"action": "protect", "selection": {"kind": "ids", "ids": ids}, "reason": " Case 7 "});
    let answer = server.post_json("/api/protection", &cookie, &body).await;
    answer.assert_status(200);
    let done = answer.json();
    let protectable = protectable_by_details(&server, &cookie, &ids).await;
    let changed = protectable.iter().filter(|p| **p).count() as u64;
    assert_eq!(done["changed"].as_u64().unwrap(), changed);
    assert_eq!(
        done["withoutRecording"],
        serde_json::json!({"exact": 10 - changed})
    );
    assert_eq!(done["org"]["protected"].as_u64().unwrap(), before + changed);
    let outcomes: Vec<(String, String)> = done["outcomes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            (
                o["id"].as_str().unwrap().to_owned(),
                o["outcome"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let expected: Vec<(String, String)> = ids
        .iter()
        .zip(&protectable)
        .map(|(id, p)| {
            (
                id.clone(),
                if *p { "changed" } else { "noRecording" }.to_owned(),
            )
        })
        .collect();
    assert_eq!(
        outcomes, expected,
        "one outcome per id, in the order listed"
    );

    let events = server.store.audit_events(me.org_id).unwrap();
    let applied: Vec<_> = events[events_before..]
        .iter()
        .filter(|(e, _)| e.action == AuditAction::ApplyProtection)
        .collect();
    assert_eq!(applied.len() as u64, changed);
    let mut named: Vec<&str> = applied.iter().map(|(e, _)| e.entity_id.as_str()).collect();
    named.sort();
    let mut wanted: Vec<&str> = ids
        .iter()
        .zip(&protectable)
        .filter(|(_, p)| **p)
        .map(|(id, _)| id.as_str())
        .collect();
    wanted.sort();
    assert_eq!(named, wanted, "one event per conversation protected");
    for (e, _) in &applied {
        let recordings: Vec<_> = details(&server, &cookie, &e.entity_id)
            .await
            .recordings
            .iter()
            .map(|r| r.id)
            .collect();
        assert_eq!(
            (e.details.reason.as_deref(), &e.details.recordings),
            (Some("Case 7"), &recordings),
            "the event has the trimmed reason and every recording covered"
        );
    }

    // Protecting the same selection again changes nothing.
    server
        .post_json("/api/protection", &cookie, &body)
        .await
        .assert_error(409, "nothing.to.do");

    let release = serde_json::json!({"action": "release", "selection": {"kind": "ids", "ids": ids}, "reason": null});
    let answer = server.post_json("/api/protection", &cookie, &release).await;
    assert_eq!(answer.json()["changed"].as_u64().unwrap(), changed);
    assert_eq!(status(&server, &cookie).await.0, before);
    let events = server.store.audit_events(me.org_id).unwrap();
    let revoked = events
        .iter()
        .filter(|(e, _)| e.action == AuditAction::RevokeProtection)
        .count();
    assert_eq!(revoked as u64, changed);
    assert_eq!(
        holdfast_server::audit_cli::verify(server.store.as_ref(), me.org_id).unwrap(),
        Ok(events.len() as u64)
    );
}

#[tokio::test]
async fn over_the_cap_nothing_changes_and_the_numbers_are_given() {
    over_the_cap_nothing_changes_and_the_numbers_are_given_on(Backend::Sqlite).await;
}

async fn over_the_cap_nothing_changes_and_the_numbers_are_given_on(backend: Backend) {
    let server = start_on("cap", &backend).await;
    let cookie = server.login("manager").await;
    let me: Me = server.get("/api/session", &cookie).await.parse();
    let (before, _) = status(&server, &cookie).await;
    server
        .store
        .set_cap(
            me.org_id,
            holdfast_core::Cap::new(before as u32 + 3).unwrap(),
        )
        .unwrap();
    let events_before = server.store.audit_events(me.org_id).unwrap().len();

    let body = serde_json::json!({"action": "protect", "selection": {"kind": "filter", "query": "protected=no", "except": []}});
    let answer = server.post_json("/api/protection", &cookie, &body).await;
    answer.assert_error(409, "protection.limit.exceeded");
    let plan = &answer.json()["plan"];
    assert_eq!(plan["kind"], "overCap");
    assert_eq!(plan["headroom"], 3);
    assert_eq!(plan["cap"], before + 3);
    // Every unprotected conversation that can be protected, decided one by one from its details.
    let unprotected: Vec<String> = all_rows(&server, &cookie)
        .await
        .iter()
        .filter(|r| !r.protected)
        .map(|r| r.id.to_string())
        .collect();
    let new = protectable_by_details(&server, &cookie, &unprotected)
        .await
        .iter()
        .filter(|p| **p)
        .count();
    assert_eq!(plan["new"], serde_json::json!({"exact": new}));
    assert_eq!(status(&server, &cookie).await.0, before);
    assert_eq!(
        server.store.audit_events(me.org_id).unwrap().len(),
        events_before
    );
}

#[tokio::test]
async fn permissions_are_enforced_by_the_server() {
    permissions_are_enforced_by_the_server_on(Backend::Sqlite).await;
}

async fn permissions_are_enforced_by_the_server_on(backend: Backend) {
    let server = start_on("perms", &backend).await;
    let supervisor = server.login("supervisor").await;
    let analyst = server.login("analyst").await;
    let ids = page_ids(&server, &supervisor, "protected=yes&size=10").await;
    let release =
        serde_json::json!({"action": "release", "selection": {"kind": "ids", "ids": ids}});
    server
        .post_json("/api/protection", &supervisor, &release)
        .await
        .assert_error(403, "missing.permissions");
    let ids = page_ids(&server, &analyst, "protected=no&recorded=yes&size=10").await;
    let protect =
        serde_json::json!({"action": "protect", "selection": {"kind": "ids", "ids": ids}});
    server
        .post_json("/api/protection", &analyst, &protect)
        .await
        .assert_error(403, "missing.permissions");
    let long = serde_json::json!({"action": "protect", "selection": {"kind": "ids", "ids": ids}, "reason": "x".repeat(501)});
    server
        .post_json("/api/protection", &supervisor, &long)
        .await
        .assert_error(400, "bad.request");
}

#[tokio::test]
async fn racing_clients_never_push_the_organization_past_its_cap() {
    racing_clients_never_push_the_organization_past_its_cap_on(Backend::Sqlite).await;
}

async fn racing_clients_never_push_the_organization_past_its_cap_on(backend: Backend) {
    let server = Arc::new(start_on("race", &backend).await);
    let cookie = server.login("manager").await;
    let me: Me = server.get("/api/session", &cookie).await.parse();
    let (before, _) = status(&server, &cookie).await;
    let cap = before + 5;
    server
        .store
        .set_cap(me.org_id, holdfast_core::Cap::new(cap as u32).unwrap())
        .unwrap();
    // Forty conversations that can all be protected, two a request: with a headroom of 5,
    // exactly two requests fit (4 new), whichever order they commit in.
    let candidates = protectable_ids(&server, &cookie, 100, 40).await;
    assert_eq!(candidates.len(), 40);
    let mut tasks = Vec::new();
    for pair in candidates.chunks(2).take(20) {
        let (server, cookie) = (server.clone(), cookie.clone());
        let body =
            serde_json::json!({"action": "protect", "selection": {"kind": "ids", "ids": pair}});
        tasks.push(tokio::spawn(async move {
            server
                .post_json("/api/protection", &cookie, &body)
                .await
                .status
        }));
    }
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    statuses.sort();
    let mut expected = vec![200; 2];
    expected.extend([409; 18]);
    assert_eq!(statuses, expected);
    let (after, _) = status(&server, &cookie).await;
    assert_eq!(
        after,
        before + 4,
        "two pairs fit a headroom of 5, a third does not"
    );
}

async fn details(
    server: &Server,
    cookie: &str,
    id: &str,
) -> holdfast_core::api::ConversationDetails {
    server
        .get(&format!("/api/conversations/{id}"), cookie)
        .await
        .parse()
}

async fn put_json(server: &Server, path: &str, cookie: &str, body: &serde_json::Value) -> Answer {
    let body = serde_json::to_vec(body).unwrap();
    let headers = [
        ("cookie", cookie),
        ("content-type", "application/json"),
        ("x-holdfast-csrf", "1"),
    ];
    server.send("PUT", path, &headers, &body).await
}

async fn delete(server: &Server, path: &str, cookie: &str) -> Answer {
    server
        .send(
            "DELETE",
            path,
            &[("cookie", cookie), ("x-holdfast-csrf", "1")],
            b"",
        )
        .await
}

#[tokio::test]
async fn deletion_is_refused_while_protected_and_allowed_after_release() {
    deletion_is_refused_while_protected_and_allowed_after_release_on(Backend::Sqlite).await;
}

async fn deletion_is_refused_while_protected_and_allowed_after_release_on(backend: Backend) {
    let server = start_on("delete", &backend).await;
    let cookie = server.login("manager").await;
    let me: Me = server.get("/api/session", &cookie).await.parse();
    let conv = page_ids(&server, &cookie, "protected=yes&size=10").await[0].clone();
    let rec = details(&server, &cookie, &conv)
        .await
        .recordings
        .into_iter()
        .find(|r| r.file_state == holdfast_core::FileState::Available)
        .unwrap();
    let rec_path = format!("/api/recordings/{}", rec.id);
    assert_eq!(
        rec.effective_deletion,
        holdfast_core::deletion::EffectiveDeletion::Protected
    );

    delete(&server, &rec_path, &cookie)
        .await
        .assert_error(409, "recording.protected");
    let past = serde_json::json!({"deleteDate": "2020-01-01T00:00:00.000Z"});
    put_json(&server, &format!("{rec_path}/deleteDate"), &cookie, &past)
        .await
        .assert_error(409, "recording.protected");
    let blocked = server
        .store
        .audit_events(me.org_id)
        .unwrap()
        .iter()
        .filter(|(e, _)| e.action == AuditAction::DeletionBlocked)
        .count();
    assert_eq!(blocked, 2);

    // A future date is stored while protected, and stays suspended.
    let future = serde_json::json!({"deleteDate": "2099-01-01T00:00:00.000Z"});
    let answer = put_json(&server, &format!("{rec_path}/deleteDate"), &cookie, &future).await;
    assert_eq!(answer.json()["change"], "storeSuspended");
    let after = details(&server, &cookie, &conv).await;
    let same = after.recordings.iter().find(|r| r.id == rec.id).unwrap();
    assert_eq!(
        same.delete_date,
        holdfast_core::time::parse("2099-01-01T00:00:00Z")
    );
    assert_eq!(same.file_state, holdfast_core::FileState::Available);

    // The supervisor may not delete at all.
    let supervisor = server.login("supervisor").await;
    delete(&server, &rec_path, &supervisor)
        .await
        .assert_error(403, "missing.permissions");

    let release =
        serde_json::json!({"action": "release", "selection": {"kind": "ids", "ids": [conv]}});
    assert_eq!(
        server
            .post_json("/api/protection", &cookie, &release)
            .await
            .status,
        200
    );
    let answer = delete(&server, &rec_path, &cookie).await;
    answer.assert_status(200);
    let gone = details(&server, &cookie, &conv).await;
    let gone = gone.recordings.iter().find(|r| r.id == rec.id).unwrap();
    assert_eq!(gone.file_state, holdfast_core::FileState::Deleted);
    assert_eq!(gone.transcript, None);
    delete(&server, &rec_path, &cookie)
        .await
        .assert_error(409, "recording.already.deleted");

    // Another organization's recording is unknown; so is a made-up one.
    let contoso = server.login("contoso.manager").await;
    delete(&server, &rec_path, &contoso)
        .await
        .assert_error(404, "not.found");
    server
        .get(&format!("/api/conversations/{conv}"), &contoso)
        .await
        .assert_error(404, "not.found");
    delete(
        &server,
        "/api/recordings/00000000-0000-4000-8000-000000000000",
        &cookie,
    )
    .await
    .assert_error(404, "not.found");
    delete(&server, "/api/recordings/not-a-uuid", &cookie)
        .await
        .assert_error(400, "bad.request");
    assert_denormalized_consistent(&server);
}

#[tokio::test]
async fn the_sweep_never_deletes_protected_recordings_and_catches_up_after_release() {
    the_sweep_never_deletes_protected_recordings_and_catches_up_after_release_on(Backend::Sqlite)
        .await;
}

async fn the_sweep_never_deletes_protected_recordings_and_catches_up_after_release_on(
    backend: Backend,
) {
    let server = start_on("sweep", &backend).await;
    let cookie = server.login("manager").await;
    let protected = page_ids(&server, &cookie, "protected=yes&size=100").await;
    let mut before = Vec::new();
    for id in &protected {
        before.push(details(&server, &cookie, id).await.recordings);
    }
    let far_future = holdfast_core::time::parse("2200-01-01T00:00:00Z").unwrap();
    let media = server.media.clone();
    // What the sweep in 2200 deletes: every available recording with a date, of the unprotected
    // conversations of both organizations.
    let mut due = 0;
    for user in ["manager", "contoso.manager"] {
        let c = server.login(user).await;
        for row in all_rows(&server, &c).await.iter().filter(|r| !r.protected) {
            due += details(&server, &c, &row.id.to_string())
                .await
                .recordings
                .iter()
                .filter(|r| {
                    r.file_state == holdfast_core::FileState::Available && r.delete_date.is_some()
                })
                .count();
        }
    }
    let deleted =
        holdfast_server::sweep::run_once(server.store.as_ref(), media.as_ref(), far_future)
            .unwrap();
    assert_eq!(deleted, due, "every unprotected dated recording is swept");
    for (id, recordings) in protected.iter().zip(&before) {
        assert_eq!(
            &details(&server, &cookie, id).await.recordings,
            recordings,
            "protected {id} is untouched"
        );
    }
    // Release them all: the next sweep deletes what is past due, "as part of that policy",
    // exactly as many as the preview said at that same instant.
    let org = server.store.find_org(demo::NORTHWIND).unwrap().unwrap();
    let selection = holdfast_core::api::Selection::Filter {
        query: "protected=yes".to_owned(),
        except: vec![],
    };
    // Over HTTP, at the real now: the dates already passed (the demo data ends a month ago).
    let http: SummaryResponse = server
        .post_json(
            "/api/selection/summary",
            &cookie,
            &serde_json::json!({"selection": selection}),
        )
        .await
        .parse();
    let now = chrono::Utc::now();
    let passed = before
        .iter()
        .flatten()
        .filter(|r| {
            r.file_state == holdfast_core::FileState::Available
                && r.delete_date.is_some_and(|d| d <= now)
        })
        .count();
    assert_eq!(http.summary.past_due_recordings as usize, passed);
    let summary = server.store.summarize(org, &selection, far_future).unwrap();
    let dated: usize = before
        .iter()
        .flatten()
        .filter(|r| r.file_state == holdfast_core::FileState::Available && r.delete_date.is_some())
        .count();
    assert_eq!(summary.past_due_recordings as usize, dated);
    let release = serde_json::json!({"action": "release", "selection": {"kind": "filter", "query": "protected=yes", "except": []}});
    assert_eq!(
        server
            .post_json("/api/protection", &cookie, &release)
            .await
            .status,
        200
    );
    let again = holdfast_server::sweep::run_once(server.store.as_ref(), media.as_ref(), far_future)
        .unwrap();
    assert_eq!(again, dated);
    assert_eq!(
        holdfast_server::sweep::run_once(server.store.as_ref(), media.as_ref(), far_future)
            .unwrap(),
        0
    );
    assert_denormalized_consistent(&server);
}

/// Adds an API client and returns a bearer token for it.
async fn bearer(server: &Server, role: &str) -> String {
    let me_org = server.store.find_org(demo::NORTHWIND).unwrap().unwrap();
    let secret = "s3cret-for-tests";
    let id = uuid::Uuid::new_v4().to_string();
    server
        .store
        .create_client(&holdfast_server::store::NewClient {
            id: id.clone(),
            org_id: me_org,
            name: format!("{role} script"),
            secret_hash: holdfast_server::auth::hash_password(secret),
            roles: vec![(
                role.to_owned(),
                holdfast_server::auth::role_permissions(role).unwrap(),
            )],
        })
        .unwrap();
    // HTTP Basic: base64 of "id:secret", computed here with a tiny encoder.
    let basic = b64(format!("{id}:{secret}").as_bytes());
    let headers = [
        ("authorization", format!("Basic {basic}")),
        (
            "content-type",
            "application/x-www-form-urlencoded".to_owned(),
        ),
    ];
    let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let answer = server
        .send(
            "POST",
            "/oauth/token",
            &headers,
            b"grant_type=client_credentials",
        )
        .await;
    answer.assert_status(200);
    let token = answer.json();
    assert_eq!(token["token_type"], "bearer");
    let wrong = [(
        "authorization",
        format!("Basic {}", b64(format!("{id}:wrong").as_bytes())),
    )];
    let wrong: Vec<(&str, &str)> = wrong.iter().map(|(k, v)| (*k, v.as_str())).collect();
    server
        .send(
            "POST",
            "/oauth/token",
            &wrong,
            b"grant_type=client_credentials",
        )
        .await
        .assert_error(401, "bad.credentials");
    format!("Bearer {}", token["access_token"].as_str().unwrap())
}

/// Standard base64 with padding.
fn b64(bytes: &[u8]) -> String {
    holdfast_server::auth::base64_encode(bytes)
}

async fn v2(
    server: &Server,
    method: &str,
    path: &str,
    token: &str,
    body: &serde_json::Value,
) -> Answer {
    let body = serde_json::to_vec(body).unwrap();
    server
        .send(
            method,
            path,
            &[
                ("authorization", token),
                ("content-type", "application/json"),
            ],
            &body,
        )
        .await
}

#[tokio::test]
async fn the_genesys_deletion_protection_api_works_like_genesys() {
    the_genesys_deletion_protection_api_works_like_genesys_on(Backend::Sqlite).await;
}

async fn the_genesys_deletion_protection_api_works_like_genesys_on(backend: Backend) {
    let server = start_on("genesys", &backend).await;
    let token = bearer(&server, "manager").await;
    let cookie = server.login("manager").await;
    let fresh = protectable_ids(&server, &cookie, 25, 25).await;
    let bare = page_ids(&server, &cookie, "recorded=no&size=10").await;
    let unknown = "00000000-0000-4000-8000-000000000000".to_owned();
    let ids = vec![
        fresh[0].clone(),
        fresh[1].clone(),
        bare[0].clone(),
        unknown.clone(),
    ];
    let path = "/api/v2/recordings/deletionprotection";

    let answer = v2(
        &server,
        "PUT",
        &format!("{path}?protect=true"),
        &token,
        &serde_json::json!({"conversationIds": ids}),
    )
    .await;
    answer.assert_status(200);
    let failed = answer.json()["failedUpdates"].as_array().unwrap().clone();
    let codes: Vec<(&str, &str)> = failed
        .iter()
        .map(|f| {
            (
                f["conversation"]["id"].as_str().unwrap(),
                f["errorCode"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        codes,
        vec![
            (bare[0].as_str(), "recording.not.protectable"),
            (unknown.as_str(), "not.found")
        ]
    );
    assert_eq!(
        failed[1]["conversation"]["selfUri"],
        format!("/api/v2/conversations/{unknown}")
    );

    let listed = v2(
        &server,
        "POST",
        path,
        &token,
        &serde_json::json!({"conversationIds": ids}),
    )
    .await
    .json();
    let protected: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap())
        .collect();
    assert_eq!(protected, vec![fresh[0].as_str(), fresh[1].as_str()]);

    // Idempotent: protecting again is no error.
    let again = v2(
        &server,
        "PUT",
        &format!("{path}?protect=true"),
        &token,
        &serde_json::json!({"conversationIds": [fresh[0]]}),
    )
    .await;
    assert_eq!(again.json()["failedUpdates"], serde_json::json!([]));

    let too_many: Vec<String> = (0..101)
        .map(|i| format!("00000000-0000-4000-8000-{i:012}"))
        .collect();
    v2(
        &server,
        "PUT",
        &format!("{path}?protect=true"),
        &token,
        &serde_json::json!({"conversationIds": too_many}),
    )
    .await
    .assert_error(400, "bad.request");
    v2(
        &server,
        "PUT",
        &format!("{path}?protect=maybe"),
        &token,
        &serde_json::json!({"conversationIds": [fresh[0]]}),
    )
    .await
    .assert_error(400, "bad.request");
    v2(
        &server,
        "PUT",
        &format!("{path}?protect=true"),
        &token,
        &serde_json::json!({"conversationIds": ["x"]}),
    )
    .await
    .assert_error(400, "bad.request");
    v2(
        &server,
        "PUT",
        &format!("{path}?protect=true"),
        "Bearer forged",
        &serde_json::json!({"conversationIds": [fresh[0]]}),
    )
    .await
    .assert_error(401, "not.authorized");

    // A client without the revoke permission cannot release.
    let supervisor = bearer(&server, "supervisor").await;
    v2(
        &server,
        "PUT",
        &format!("{path}?protect=false"),
        &supervisor,
        &serde_json::json!({"conversationIds": [fresh[0]]}),
    )
    .await
    .assert_error(403, "missing.permissions");
    let released = v2(
        &server,
        "PUT",
        &format!("{path}?protect=false"),
        &token,
        &serde_json::json!({"conversationIds": [fresh[0]]}),
    )
    .await;
    assert_eq!(released.json()["failedUpdates"], serde_json::json!([]));

    // The audit query finds the client's events by action, in Genesys' page shape.
    let query = serde_json::json!({"interval": "2000-01-01T00:00:00Z/2100-01-01T00:00:00Z", "serviceName": "Quality",
        "filters": [{"property": "Action", "value": "ApplyProtection"}], "pageSize": 1});
    let page = v2(
        &server,
        "POST",
        "/api/v2/audits/query/realtime",
        &token,
        &query,
    )
    .await
    .json();
    assert_eq!(page["total"], 2);
    assert_eq!(page["pageCount"], 2);
    assert_eq!(page["entities"][0]["action"], "ApplyProtection");
    assert_eq!(page["entities"][0]["serviceName"], "Quality");
    // Filters all hold: two actions match nothing; an action and an entity type narrow.
    for (filters, total) in [
        (
            serde_json::json!([{"property": "Action", "value": "ApplyProtection"},
                {"property": "Action", "value": "RevokeProtection"}]),
            0,
        ),
        (
            serde_json::json!([{"property": "Action", "value": "ApplyProtection"},
                {"property": "EntityType", "value": "Conversation"}]),
            2,
        ),
        (
            serde_json::json!([{"property": "EntityType", "value": "Galaxy"}]),
            0,
        ),
    ] {
        let query = serde_json::json!({"interval": "2000-01-01T00:00:00Z/2100-01-01T00:00:00Z",
            "serviceName": "Quality", "filters": filters});
        let page = v2(
            &server,
            "POST",
            "/api/v2/audits/query/realtime",
            &token,
            &query,
        )
        .await
        .json();
        assert_eq!(page["total"], total, "{filters}");
    }
    let bad = serde_json::json!({"interval": "yesterday", "serviceName": "Quality"});
    v2(
        &server,
        "POST",
        "/api/v2/audits/query/realtime",
        &token,
        &bad,
    )
    .await
    .assert_error(400, "bad.request");
    v2(
        &server,
        "POST",
        "/api/v2/audits/query/realtime",
        &supervisor,
        &query,
    )
    .await
    .assert_error(403, "missing.permissions");
}

#[tokio::test]
async fn genesys_recordings_read_and_update_their_delete_date_under_the_rules() {
    genesys_recordings_read_and_update_their_delete_date_under_the_rules_on(Backend::Sqlite).await;
}

async fn genesys_recordings_read_and_update_their_delete_date_under_the_rules_on(backend: Backend) {
    let server = start_on("v2rec", &backend).await;
    let token = bearer(&server, "manager").await;
    let cookie = server.login("manager").await;
    let conv = page_ids(&server, &cookie, "protected=yes&size=10").await[0].clone();
    let list = v2(
        &server,
        "GET",
        &format!("/api/v2/conversations/{conv}/recordingmetadata"),
        &token,
        &serde_json::json!(null),
    )
    .await;
    assert_eq!(list.status, 200);
    // Every recording, with the Genesys names and values of what the native API shows.
    let native = details(&server, &cookie, &conv).await;
    let fmt = holdfast_core::time::format;
    let expected: Vec<serde_json::Value> = native
        .recordings
        .iter()
        .map(|r| {
            let mut v = serde_json::json!({
                "id": r.id.to_string(),
                "conversationId": conv,
                "media": r.media.genesys_name(),
                "fileState": r.file_state.as_str(),
                "creationTime": fmt(r.created_at),
                "startTime": fmt(native.conversation.start_time),
                "endTime": fmt(native.conversation.end_time),
                "recordingFileRole": r.role.genesys_name(),
                "selfUri": format!("/api/v2/conversations/{conv}/recordings/{}", r.id),
            });
            if let Some(date) = r.delete_date {
                v["deleteDate"] = fmt(date).into();
            }
            if let Some(ms) = r.duration_ms {
                v["outputDurationMs"] = ms.into();
            }
            if let Some(bytes) = r.size_bytes {
                v["outputSizeInBytes"] = bytes.into();
            }
            v
        })
        .collect();
    assert_eq!(list.json(), serde_json::Value::Array(expected.clone()));
    let first = expected[0].clone();
    let rec_path = format!(
        "/api/v2/conversations/{conv}/recordings/{}",
        first["id"].as_str().unwrap()
    );
    let got = v2(&server, "GET", &rec_path, &token, &serde_json::json!(null))
        .await
        .json();
    assert_eq!(got, first);

    // A whole Recording sent back, as a script that reads, edits and writes does.
    let mut past = got.clone();
    past["deleteDate"] = "2001-01-01T00:00:00.000Z".into();
    v2(&server, "PUT", &rec_path, &token, &past)
        .await
        .assert_error(409, "recording.protected");
    let mut future = got.clone();
    future["deleteDate"] = "2099-06-01T00:00:00.000Z".into();
    let updated = v2(&server, "PUT", &rec_path, &token, &future).await;
    updated.assert_status(200);
    let mut want = first.clone();
    want["deleteDate"] = "2099-06-01T00:00:00.000Z".into();
    assert_eq!(updated.json(), want);

    // Partial Recordings, as the official SDK sends them: only the fields set, any RFC 3339
    // instant (microseconds, an offset), absent fields unchanged, null clears.
    let put = |body: serde_json::Value| {
        let (server, token, rec_path) = (&server, &token, &rec_path);
        async move { v2(server, "PUT", rec_path, token, &body).await }
    };
    let answer = put(serde_json::json!({"deleteDate": "2099-07-01T10:00:00.123456+02:00"})).await;
    answer.assert_status(200);
    want["deleteDate"] = "2099-07-01T08:00:00.123Z".into();
    assert_eq!(answer.json(), want);
    let answer = put(serde_json::json!({})).await;
    assert_eq!(answer.json(), want, "an empty update changes nothing");
    let answer = put(serde_json::json!({"deleteDate": null})).await;
    answer.assert_status(200);
    want.as_object_mut().unwrap().remove("deleteDate");
    assert_eq!(answer.json(), want, "null clears the date");
    put(serde_json::json!({"deleteDate": "2001-01-01T00:00:00.000000+00:00"}))
        .await
        .assert_error(409, "recording.protected");
    put(serde_json::json!({"archiveDate": "2099-01-01T00:00:00Z"}))
        .await
        .assert_error(400, "bad.request");
    put(serde_json::json!({"deleteDate": "next week"}))
        .await
        .assert_error(400, "bad.request");
    assert_eq!(
        v2(&server, "GET", &rec_path, &token, &serde_json::json!(null))
            .await
            .json(),
        want,
        "refused updates change nothing"
    );

    // Released, a past date is a manual deletion again.
    let release = v2(
        &server,
        "PUT",
        "/api/v2/recordings/deletionprotection?protect=false",
        &token,
        &serde_json::json!({"conversationIds": [conv]}),
    )
    .await;
    assert_eq!(release.json(), serde_json::json!({"failedUpdates": []}));
    let answer = put(serde_json::json!({"deleteDate": "2001-01-01T00:00:00.000000+00:00"})).await;
    answer.assert_status(200);
    want["fileState"] = "DELETED".into();
    assert_eq!(
        answer.json(),
        want,
        "deleted now, the stored date untouched"
    );

    let other =
        format!("/api/v2/conversations/{conv}/recordings/00000000-0000-4000-8000-000000000000");
    v2(&server, "GET", &other, &token, &serde_json::json!(null))
        .await
        .assert_error(404, "not.found");
}

#[tokio::test]
async fn the_audit_trail_filters_pages_exports_and_verifies() {
    the_audit_trail_filters_pages_exports_and_verifies_on(Backend::Sqlite).await;
}

async fn the_audit_trail_filters_pages_exports_and_verifies_on(backend: Backend) {
    let server = start_on("audit", &backend).await;
    let cookie = server.login("manager").await;
    let ids = page_ids(&server, &cookie, "protected=no&recorded=yes&size=10").await;
    let body = serde_json::json!({"action": "protect", "selection": {"kind": "ids", "ids": ids}, "reason": "=HYPERLINK(\"x\")"});
    let changed = server
        .post_json("/api/protection", &cookie, &body)
        .await
        .json()["changed"]
        .as_u64()
        .unwrap();

    let page = server
        .get("/api/audit?action=ApplyProtection&size=3", &cookie)
        .await
        .json();
    assert_eq!(page["total"], changed);
    assert_eq!(page["entities"].as_array().unwrap().len(), 3);
    assert_eq!(page["chainVerified"], true);
    let all = server.get("/api/audit?user=manager", &cookie).await.json();
    assert_eq!(all["total"], changed + 1, "the protections and the login");
    let one = &ids[0];
    let about = server
        .get(&format!("/api/audit?conversation={one}"), &cookie)
        .await
        .json();
    assert!(
        about["entities"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["entityId"] == one.as_str())
    );

    let csv = server
        .get("/api/audit.csv?action=ApplyProtection", &cookie)
        .await;
    assert_eq!(csv.header("content-type"), Some("text/csv; charset=utf-8"));
    let text = String::from_utf8(csv.body.clone()).unwrap();
    assert_eq!(text.lines().count() as u64, changed + 1);
    assert!(
        text.contains("\"'=HYPERLINK(\"\"x\"\")\""),
        "formulas are defused: {text}"
    );

    server
        .get("/api/audit?action=Nope", &cookie)
        .await
        .assert_error(400, "bad.request");
    let supervisor = server.login("supervisor").await;
    server
        .get("/api/audit", &supervisor)
        .await
        .assert_error(403, "missing.permissions");
}

#[tokio::test]
async fn tampering_with_a_stored_audit_event_is_detected() {
    tampering_with_a_stored_audit_event_is_detected_on(Backend::Sqlite).await;
}

async fn tampering_with_a_stored_audit_event_is_detected_on(backend: Backend) {
    let server = start_on("tamper", &backend).await;
    let cookie = server.login("manager").await;
    let ids = page_ids(&server, &cookie, "protected=yes&size=10").await;
    let body = serde_json::json!({"action": "release", "selection": {"kind": "ids", "ids": ids}});
    assert_eq!(
        server
            .post_json("/api/protection", &cookie, &body)
            .await
            .status,
        200
    );
    let org = server.store.find_org(demo::NORTHWIND).unwrap().unwrap();
    assert!(
        holdfast_server::audit_cli::verify(server.store.as_ref(), org)
            .unwrap()
            .is_ok()
    );

    // Edit one event's reason behind the server's back.
    let db = server.db();
    db.execute("UPDATE audit_events SET event = replace(event, 'RevokeProtection', 'ApplyProtection') WHERE seq = 3 AND org_id = ?", raw![org.to_string()]);
    assert_eq!(
        holdfast_server::audit_cli::verify(server.store.as_ref(), org).unwrap(),
        Err(audit::ChainBreak::HashMismatch { seq: 3 })
    );
    let page = server.get("/api/audit", &cookie).await.json();
    assert_eq!(page["chainVerified"], false);
    assert_eq!(
        page["chainError"],
        audit::ChainBreak::HashMismatch { seq: 3 }.to_string()
    );
    // Seen once, reported at once by the health check and the metrics.
    assert_eq!(
        server.get("/healthz", "").await.json(),
        serde_json::json!({"status": "degraded", "brokenAuditChains": [
            {"orgId": org, "auditChain": audit::ChainBreak::HashMismatch { seq: 3 }.to_string()}]})
    );
    let metrics = server.scrape().await;
    let contoso = server.store.find_org(demo::CONTOSO).unwrap().unwrap();
    for (id, intact) in [(org, 0), (contoso, 1)] {
        let line = format!("holdfast_audit_chain_intact{{org_id=\"{id}\"}} {intact}");
        assert!(metrics.contains(&line), "{line} in {metrics}");
    }

    // Read a few events at a time, the chain verifies the same, and the edit is found in a
    // batch after the first.
    let small = holdfast_server::chain::ChainCache::with_batch(2);
    assert_eq!(
        small.status(server.store.as_ref(), org).unwrap(),
        Err(audit::ChainBreak::HashMismatch { seq: 3 })
    );
    db.execute("UPDATE audit_events SET event = replace(event, 'ApplyProtection', 'RevokeProtection') WHERE seq = 3 AND org_id = ?", raw![org.to_string()]);
    let whole = holdfast_server::audit_cli::verify(server.store.as_ref(), org)
        .unwrap()
        .unwrap();
    for batch in [1, 2, 7, whole as usize, whole as usize + 1] {
        assert_eq!(
            holdfast_server::chain::ChainCache::with_batch(batch)
                .status(server.store.as_ref(), org)
                .unwrap(),
            Ok(whole),
            "batch {batch}"
        );
    }
    assert!(
        holdfast_server::audit_cli::verify(server.store.as_ref(), org)
            .unwrap()
            .is_ok()
    );

    // Edit only the column the page filters on: the event disappears from the filter, and the
    // chain says so.
    let releases = || {
        let (server, cookie) = (&server, &cookie);
        async move {
            let path = "/api/audit?action=RevokeProtection&size=500";
            server.get(path, cookie).await.json()["total"].clone()
        }
    };
    assert_eq!(releases().await, 10);
    db.execute(
        "UPDATE audit_events SET action = 'Login' WHERE seq = 3 AND org_id = ?",
        raw![org.to_string()],
    );
    assert_eq!(releases().await, 9);
    let column = audit::ChainBreak::ColumnMismatch {
        seq: 3,
        column: audit::Column::Action,
    };
    assert_eq!(
        holdfast_server::audit_cli::verify(server.store.as_ref(), org).unwrap(),
        Err(column.clone())
    );
    db.execute(
        "UPDATE audit_events SET action = 'RevokeProtection' WHERE seq = 3 AND org_id = ?",
        raw![org.to_string()],
    );

    // Delete the last one: the head no longer matches.
    db.execute("DELETE FROM audit_events WHERE org_id = ? AND seq = (SELECT MAX(seq) FROM audit_events WHERE org_id = ?)", raw![org.to_string(), org.to_string()]);
    assert!(matches!(
        holdfast_server::audit_cli::verify(server.store.as_ref(), org).unwrap(),
        Err(audit::ChainBreak::Head { .. })
    ));
}

#[tokio::test]
async fn saved_views_are_per_user_and_validated() {
    saved_views_are_per_user_and_validated_on(Backend::Sqlite).await;
}

async fn saved_views_are_per_user_and_validated_on(backend: Backend) {
    let server = start_on("views", &backend).await;
    let cookie = server.login("manager").await;
    let body = serde_json::json!({"name": " Open cases ", "query": "size=50&protected=yes"});
    let saved = server.post_json("/api/views", &cookie, &body).await;
    assert_eq!(saved.status, 201);
    let saved = saved.json();
    assert_eq!(saved["name"], "Open cases");
    assert_eq!(
        saved["query"], "protected=yes&size=50",
        "stored in core's canonical form"
    );
    server
        .post_json("/api/views", &cookie, &body)
        .await
        .assert_error(409, "conflict");
    let bad = serde_json::json!({"name": "x", "query": "colour=red"});
    server
        .post_json("/api/views", &cookie, &bad)
        .await
        .assert_error(400, "bad.request");
    let empty = serde_json::json!({"name": "  ", "query": ""});
    server
        .post_json("/api/views", &cookie, &empty)
        .await
        .assert_error(400, "bad.request");

    let id = saved["id"].as_str().unwrap();
    let headers = [
        ("cookie", cookie.as_str()),
        ("content-type", "application/json"),
        ("x-holdfast-csrf", "1"),
    ];
    let renamed = server
        .send(
            "PATCH",
            &format!("/api/views/{id}"),
            &headers,
            br#"{"name":"Legal holds"}"#,
        )
        .await;
    assert_eq!(renamed.status, 200);
    let list = server.get("/api/views", &cookie).await.json();
    assert_eq!(list[0]["name"], "Legal holds");

    // Another user sees none of them and cannot touch them.
    let other = server.login("analyst").await;
    assert_eq!(
        server.get("/api/views", &other).await.json(),
        serde_json::json!([])
    );
    delete(&server, &format!("/api/views/{id}"), &other)
        .await
        .assert_error(404, "not.found");
    assert_eq!(
        delete(&server, &format!("/api/views/{id}"), &cookie)
            .await
            .status,
        200
    );
    assert_eq!(
        server.get("/api/views", &cookie).await.json(),
        serde_json::json!([])
    );
}

fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

#[tokio::test]
async fn ingest_applies_retention_on_arrival_and_serves_media_with_ranges() {
    ingest_applies_retention_on_arrival_and_serves_media_with_ranges_on(Backend::Sqlite).await;
}

async fn ingest_applies_retention_on_arrival_and_serves_media_with_ranges_on(backend: Backend) {
    let server = start_on("ingest", &backend).await;
    let admin = server.login("admin").await;
    let policy = serde_json::json!({"name": "Calls 30 days", "order": 1, "enabled": true, "media": ["call"],
        "queues": [], "direction": null, "action": {"kind": "deleteAfterDays", "days": 30}});
    let created = server
        .post_json("/api/retention-policies", &admin, &policy)
        .await;
    created.assert_status(201);
    let keep = serde_json::json!({"name": "Keep text", "order": 2, "enabled": true, "media": [],
        "queues": [], "direction": null, "action": {"kind": "keep"}});
    assert_eq!(
        server
            .post_json("/api/retention-policies", &admin, &keep)
            .await
            .status,
        201
    );

    let (conv, call, chat) = (new_id(), new_id(), new_id());
    let audio = "RIFF-pretend-audio-0123456789".repeat(10);
    let body = serde_json::json!({
    "id": conv, "startTime": "2026-11-20T10:00:00Z", "endTime": "2026-11-20T10:05:00Z", "direction": "inbound",
    "queue": "Legal", "agents": ["Ana Berg"], "remoteParty": "+1 555 0100",
    "recordings": [
        {"id": call, "media": "call", "role": "policy", "durationMs": 300000, "mediaBase64": b64(audio.as_bytes()), "contentType": "audio/wav"},
        {"id": chat, "media": "chat", "role": "adhoc", "transcript": "Customer: hello",
         "attachments": [{"name": "invoice.pdf", "contentType": "application/pdf", "dataBase64": b64(b"%PDF-1.4 pretend")}]}
    ]});
    let answer = server.post_json("/api/ingest", &admin, &body).await;
    answer.assert_status(201);
    assert_eq!(answer.json()["recordings"], 2);

    let d = details(&server, &admin, &conv).await;
    let call_rec = d
        .recordings
        .iter()
        .find(|r| r.id.to_string() == call)
        .unwrap();
    assert_eq!(
        call_rec.delete_date,
        holdfast_core::time::parse("2026-12-20T10:05:00Z"),
        "end + 30 days"
    );
    let chat_rec = d
        .recordings
        .iter()
        .find(|r| r.id.to_string() == chat)
        .unwrap();
    assert_eq!(chat_rec.delete_date, None, "kept by the second policy");
    assert_eq!(chat_rec.transcript.as_deref(), Some("Customer: hello"));
    assert!(call_rec.has_media);

    let media_path = format!("/api/recordings/{call}/media");
    let full = server.get(&media_path, &admin).await;
    assert_eq!(full.status, 200);
    assert_eq!(full.body, audio.as_bytes());
    assert_eq!(full.header("content-type"), Some("audio/wav"));
    // The checksum taken on arrival, as an ETag and an RFC 9530 digest of the whole file.
    let sha256 = holdfast_server::auth::hex(&Sha256::digest(audio.as_bytes()));
    let etag = format!("\"{sha256}\"");
    let digest = format!(
        "sha-256=:{}:",
        holdfast_server::auth::base64_encode(&Sha256::digest(audio.as_bytes()))
    );
    assert_eq!(full.header("etag"), Some(etag.as_str()));
    assert_eq!(full.header("repr-digest"), Some(digest.as_str()));
    let part = server
        .send(
            "GET",
            &media_path,
            &[("cookie", admin.as_str()), ("range", "bytes=5-14")],
            b"",
        )
        .await;
    assert_eq!(part.status, 206);
    assert_eq!(part.body, &audio.as_bytes()[5..15]);
    assert_eq!(part.header("etag"), Some(etag.as_str()));
    assert_eq!(part.header("repr-digest"), Some(digest.as_str()));
    assert_eq!(
        part.header("content-range"),
        Some(format!("bytes 5-14/{}", audio.len()).as_str())
    );
    let bad = server
        .send(
            "GET",
            &media_path,
            &[("cookie", admin.as_str()), ("range", "bytes=9999-")],
            b"",
        )
        .await;
    bad.assert_error(416, "range.not.satisfiable");
    let att = &chat_rec.attachments[0];
    let file = server
        .get(&format!("/api/attachments/{}", att.id), &admin)
        .await;
    assert_eq!(file.body, b"%PDF-1.4 pretend");
    assert!(
        file.header("content-disposition")
            .unwrap()
            .contains("invoice.pdf")
    );
    let contoso = server.login("contoso.manager").await;
    server
        .get(&media_path, &contoso)
        .await
        .assert_error(404, "not.found");

    // An ingest that names the stored recording again is refused, and neither overwrites nor
    // removes the stored recording's file on its way out.
    let again = serde_json::json!({"id": new_id(), "startTime": "2026-11-21T10:00:00Z", "endTime": "2026-11-21T10:05:00Z",
        "direction": "inbound", "recordings": [{"id": call, "media": "call", "role": "policy",
        "mediaBase64": b64(b"overwritten"), "contentType": "audio/wav",
        "attachments": [{"name": "x.txt", "contentType": "text/plain", "dataBase64": b64(b"x")}]}]});
    server
        .post_json("/api/ingest", &admin, &again)
        .await
        .assert_error(409, "conflict");
    assert_eq!(server.get(&media_path, &admin).await.body, audio.as_bytes());
    assert_eq!(server.objects().len(), 2, "the call and the invoice");

    // Deleting the recording removes its file after the commit.
    let answer = delete(&server, &media_path.replace("/media", ""), &admin).await;
    answer.assert_status(200);
    server
        .get(&media_path, &admin)
        .await
        .assert_error(404, "not.found");
    let files: Vec<_> = server.objects();
    assert_eq!(
        files.len(),
        1,
        "only the attachment of the chat is left: {files:?}"
    );

    let org = server.store.find_org(demo::NORTHWIND).unwrap().unwrap();
    let edits = server
        .store
        .audit_events(org)
        .unwrap()
        .iter()
        .filter(|(e, _)| e.action == AuditAction::UpdateRetention)
        .count();
    assert_eq!(edits, 2);
    assert_denormalized_consistent(&server);
}

/// Sends a request whose head is written as given and whose body is `body`, then closes the
/// sending side: for bodies that end before their `Content-Length`, or are chunked.
async fn send_raw(server: &Server, head: &str, body: &[u8]) -> Answer {
    let mut stream = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    let _ = stream.write_all(body).await;
    let _ = stream.shutdown().await;
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw).await;
    parse_answer(&raw)
}

#[tokio::test]
async fn media_and_attachments_upload_as_raw_bodies_with_their_checksums() {
    media_and_attachments_upload_as_raw_bodies_with_their_checksums_on(Backend::Sqlite).await;
}

async fn media_and_attachments_upload_as_raw_bodies_with_their_checksums_on(backend: Backend) {
    let server = start_on("upload", &backend).await;
    let admin = server.login("admin").await;
    let manager = server.login("manager").await;
    // A recording that arrived without its media.
    let (conv, rec) = (new_id(), new_id());
    let body = serde_json::json!({"id": conv, "startTime": "2026-11-20T10:00:00Z", "endTime": "2026-11-20T11:00:00Z",
        "direction": "inbound", "recordings": [{"id": rec, "media": "call", "role": "policy"}]});
    server
        .post_json("/api/ingest", &admin, &body)
        .await
        .assert_status(201);
    let audio: Vec<u8> = (0..3_000_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let sha256 = holdfast_server::auth::hex(&Sha256::digest(&audio));
    let path = format!("/api/recordings/{rec}/media");
    let put = |cookie: &str| {
        [
            ("cookie", cookie.to_owned()),
            ("content-type", "audio/wav".to_owned()),
            ("x-holdfast-csrf", "1".to_owned()),
        ]
    };
    let headers = |h: &[(&'static str, String)]| -> Vec<(&'static str, String)> { h.to_vec() };
    let send = |cookie: &str, body: Vec<u8>| {
        let h = headers(&put(cookie));
        let server = &server;
        let path = path.clone();
        async move {
            let refs: Vec<(&str, &str)> = h.iter().map(|(k, v)| (*k, v.as_str())).collect();
            server.send("PUT", &path, &refs, &body).await
        }
    };

    // Only an admin; a cookie session proves it is the app's.
    send(&manager, audio.clone())
        .await
        .assert_error(403, "missing.permissions");
    let no_csrf = server
        .send(
            "PUT",
            &path,
            &[("cookie", admin.as_str()), ("content-type", "audio/wav")],
            &audio,
        )
        .await;
    no_csrf.assert_error(403, "csrf.rejected");
    // The size comes first: chunked is refused, and nothing is stored.
    let chunked = send_raw(
        &server,
        &format!("PUT {path} HTTP/1.1\r\nHost: x\r\nCookie: {admin}\r\nX-Holdfast-Csrf: 1\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"),
        b"3\r\nabc\r\n0\r\n\r\n",
    )
    .await;
    chunked.assert_error(411, "length.required");
    // A body that ends before its length: refused, and its partial file removed.
    let short = send_raw(
        &server,
        &format!("PUT {path} HTTP/1.1\r\nHost: x\r\nCookie: {admin}\r\nX-Holdfast-Csrf: 1\r\nContent-Length: 1000\r\nConnection: close\r\n\r\n"),
        &audio[..10],
    )
    .await;
    short.assert_error(400, "bad.request");
    assert_eq!(server.objects(), Vec::<String>::new());

    let stored = send(&admin, audio.clone()).await;
    stored.assert_status(201);
    assert_eq!(
        stored.json(),
        serde_json::json!({"recordingId": rec, "sizeBytes": 3_000_000, "sha256": sha256})
    );
    let got = server.get(&path, &admin).await;
    assert_eq!(got.body, audio);
    assert_eq!(got.header("etag"), Some(format!("\"{sha256}\"").as_str()));
    assert_eq!(got.header("content-type"), Some("audio/wav"));
    let d = details(&server, &admin, &conv).await;
    assert!(d.recordings[0].has_media);
    assert_eq!(d.recordings[0].size_bytes, Some(3_000_000));
    // Media is written once.
    send(&admin, b"other".to_vec())
        .await
        .assert_error(409, "conflict");
    assert_eq!(server.get(&path, &admin).await.body, audio);
    assert_eq!(server.objects().len(), 1);
    // Not this organization's recording, or none at all: 404 alike, and nothing stored.
    let contoso = server.login("contoso.manager").await;
    let theirs = page_ids(&server, &contoso, "recorded=yes&size=10").await[0].clone();
    let their_recording = details(&server, &contoso, &theirs).await.recordings[0].id;
    for recording in [their_recording.to_string(), new_id()] {
        for path in [
            format!("/api/recordings/{recording}/media"),
            format!("/api/recordings/{recording}/attachments?name=x.txt"),
        ] {
            let method = if path.ends_with("/media") {
                "PUT"
            } else {
                "POST"
            };
            server
                .send(
                    method,
                    &path,
                    &[("cookie", admin.as_str()), ("x-holdfast-csrf", "1")],
                    b"x",
                )
                .await
                .assert_error(404, "not.found");
        }
    }
    assert_eq!(server.objects().len(), 1);
    assert!(!details(&server, &contoso, &theirs).await.recordings[0].has_media);

    // An attachment, named in the query, typed by its header.
    let note = b"%PDF-1.4 minutes of the call".to_vec();
    let attach = format!("/api/recordings/{rec}/attachments?name=minutes%20v2.pdf");
    let added = server
        .send(
            "POST",
            &attach,
            &[
                ("cookie", admin.as_str()),
                ("x-holdfast-csrf", "1"),
                ("content-type", "application/pdf"),
            ],
            &note,
        )
        .await;
    added.assert_status(201);
    let attachment = added.json()["attachmentId"].as_str().unwrap().to_owned();
    let d = details(&server, &admin, &conv).await;
    assert_eq!(d.recordings[0].attachments.len(), 1);
    assert_eq!(d.recordings[0].attachments[0].name, "minutes v2.pdf");
    assert_eq!(d.recordings[0].attachments[0].size_bytes, note.len() as u64);
    let file = server
        .get(&format!("/api/attachments/{attachment}"), &admin)
        .await;
    assert_eq!(file.body, note);
    let note_sha = holdfast_server::auth::hex(&Sha256::digest(&note));
    assert_eq!(
        file.header("etag"),
        Some(format!("\"{note_sha}\"").as_str())
    );
    server
        .send(
            "POST",
            &format!("/api/recordings/{rec}/attachments"),
            &[("cookie", admin.as_str()), ("x-holdfast-csrf", "1")],
            b"x",
        )
        .await
        .assert_error(400, "bad.request");
    let report =
        holdfast_server::media::verify(server.store.as_ref(), server.media.as_ref()).unwrap();
    assert_eq!((report.checked, report.sound()), (2, true));

    // A deleted recording takes nothing, and its files are gone.
    delete(&server, &format!("/api/recordings/{rec}"), &admin)
        .await
        .assert_status(200);
    server
        .send(
            "POST",
            &attach,
            &[("cookie", admin.as_str()), ("x-holdfast-csrf", "1")],
            &note,
        )
        .await
        .assert_error(409, "conflict");
    assert_eq!(server.objects(), Vec::<String>::new());
}

#[tokio::test]
async fn media_verify_finds_missing_changed_and_unknown_files() {
    media_verify_finds_missing_changed_and_unknown_files_on(Backend::Sqlite).await;
}

async fn media_verify_finds_missing_changed_and_unknown_files_on(backend: Backend) {
    use holdfast_server::media::{FileProblem, MediaReport, verify};
    let server = start_on("verify", &backend).await;
    let admin = server.login("admin").await;
    let (first, second) = (new_id(), new_id());
    let body = serde_json::json!([first.clone(), second.clone()].iter().map(|rec| serde_json::json!({
        "id": new_id(), "startTime": "2026-11-20T10:00:00Z", "endTime": "2026-11-20T10:05:00Z",
        "direction": "inbound", "recordings": [{"id": rec, "media": "call", "role": "policy",
        "mediaBase64": b64(format!("audio of {rec}").as_bytes()),
        "attachments": [{"name": "a.txt", "contentType": "text/plain", "dataBase64": b64(b"note")}]}]})
    ).collect::<Vec<_>>());
    server
        .post_json("/api/ingest", &admin, &body)
        .await
        .assert_status(201);
    let report = verify(server.store.as_ref(), server.media.as_ref()).unwrap();
    assert_eq!(
        report,
        MediaReport {
            checked: 4,
            ..MediaReport::default()
        }
    );
    assert!(report.sound());

    // One recording's bytes changed, the other's file gone, a file nobody stored added.
    let org = server
        .store
        .find_org(demo::NORTHWIND)
        .unwrap()
        .unwrap()
        .to_string();
    let path_of = |rec: &str| {
        server
            .objects()
            .into_iter()
            .find(|p| p.contains(&format!("{rec}.media-")))
            .unwrap()
    };
    let (changed, gone) = (path_of(&first), path_of(&second));
    server.tamper(&changed, Some(b"audio of someone else"));
    server.tamper(&gone, None);
    server.tamper(&format!("{org}/planted.wav"), Some(b"x"));
    let problem = |rec: &str, path: String| FileProblem {
        kind: "media",
        org: org.clone(),
        id: rec.to_owned(),
        path,
    };
    let report = verify(server.store.as_ref(), server.media.as_ref()).unwrap();
    assert_eq!(
        report,
        MediaReport {
            checked: 3,
            missing: vec![problem(&second, gone)],
            mismatched: vec![problem(&first, changed)],
            unhashed: vec![],
            extra: vec![format!("{org}/planted.wav")],
        }
    );
    assert!(!report.sound());
}

impl Server {
    /// Every object in the server's media storage, by key.
    fn objects(&self) -> Vec<String> {
        self.media.list().unwrap()
    }

    /// Changes storage behind the server's back, as whoever has access to it could: replaces
    /// an object's bytes, or removes it (`None`).
    fn tamper(&self, key: &str, bytes: Option<&[u8]>) {
        self.media.remove(key).unwrap();
        if let Some(bytes) = bytes {
            let file = self._dir.0.join("tampered");
            std::fs::write(&file, bytes).unwrap();
            self.media.put(key, &file, bytes.len() as u64, "").unwrap();
            std::fs::remove_file(file).unwrap();
        }
    }
}

#[tokio::test]
async fn a_recording_that_joins_a_protected_conversation_is_protected_at_once() {
    a_recording_that_joins_a_protected_conversation_is_protected_at_once_on(Backend::Sqlite).await;
}

async fn a_recording_that_joins_a_protected_conversation_is_protected_at_once_on(backend: Backend) {
    let server = start_on("joins", &backend).await;
    let admin = server.login("admin").await;
    let conv = page_ids(&server, &admin, "protected=yes&size=10").await[0].clone();
    let before = details(&server, &admin, &conv).await;
    let rec = new_id();
    let body = serde_json::json!({"id": conv, "startTime": holdfast_core::time::format(before.conversation.start_time),
        "endTime": holdfast_core::time::format(before.conversation.end_time), "direction": "inbound",
        "recordings": [{"id": rec, "media": "screen", "role": "adhoc", "createdAt": "2026-11-24T00:00:00Z"}]});
    let answer = server.post_json("/api/ingest", &admin, &body).await;
    answer.assert_status(201);
    let after = details(&server, &admin, &conv).await;
    assert_eq!(after.recordings.len(), before.recordings.len() + 1);
    let joined = after
        .recordings
        .iter()
        .find(|r| r.id.to_string() == rec)
        .unwrap();
    assert_eq!(
        joined.effective_deletion,
        holdfast_core::deletion::EffectiveDeletion::Protected
    );
    delete(&server, &format!("/api/recordings/{rec}"), &admin)
        .await
        .assert_error(409, "recording.protected");
}

#[tokio::test]
async fn bad_ingests_are_refused_whole_and_leave_nothing() {
    bad_ingests_are_refused_whole_and_leave_nothing_on(Backend::Sqlite).await;
}

async fn bad_ingests_are_refused_whole_and_leave_nothing_on(backend: Backend) {
    let server = start_on("badingest", &backend).await;
    let admin = server.login("admin").await;
    let manager = server.login("manager").await;
    let conv = |id: &str, rec: &str, data: &str| {
        serde_json::json!({"id": id, "startTime": "2026-11-20T10:00:00Z", "endTime": "2026-11-20T10:05:00Z",
            "direction": "outbound", "recordings": [{"id": rec, "media": "call", "role": "policy", "mediaBase64": data}]})
    };
    let one = conv(&new_id(), &new_id(), &b64(b"fine"));
    server
        .post_json("/api/ingest", &manager, &one)
        .await
        .assert_error(403, "missing.permissions");
    let broken = serde_json::json!([one, conv(&new_id(), &new_id(), "***not base64***")]);
    server
        .post_json("/api/ingest", &admin, &broken)
        .await
        .assert_error(400, "bad.request");
    let backwards = serde_json::json!({"id": new_id(), "startTime": "2026-11-20T10:00:00Z", "endTime": "2026-11-20T09:00:00Z", "direction": "inbound"});
    server
        .post_json("/api/ingest", &admin, &backwards)
        .await
        .assert_error(400, "bad.request");
    let page: ConversationPage = server
        .get("/api/conversations?size=10", &admin)
        .await
        .parse();
    assert_eq!(page.total, 300, "nothing of the refused batches was stored");
    assert!(
        server.objects().is_empty(),
        "no file of a refused batch is left"
    );

    // Ids are per organization: another organization's conversation and recording ids are
    // taken as this one's own, the same answer as for new ids, and theirs stay as they were.
    let contoso = server.login("contoso.manager").await;
    let theirs = page_ids(&server, &contoso, "recorded=yes&size=10").await[0].clone();
    let their_details = details(&server, &contoso, &theirs).await;
    let their_recording = their_details.recordings[0].id.to_string();
    let reuse = conv(&theirs, &their_recording, &b64(b"ours"));
    let answer = server.post_json("/api/ingest", &admin, &reuse).await;
    answer.assert_status(201);
    assert_eq!(answer.json()["recordings"], 1);
    let ours = details(&server, &admin, &theirs).await;
    assert_eq!(ours.recordings.len(), 1);
    assert_eq!(
        ours.conversation.direction,
        holdfast_core::Direction::Outbound
    );
    let media = server
        .get(&format!("/api/recordings/{their_recording}/media"), &admin)
        .await;
    assert_eq!(media.body, b"ours");
    let still = details(&server, &contoso, &theirs).await;
    assert_eq!(
        serde_json::to_value(&still).unwrap(),
        serde_json::to_value(&their_details).unwrap()
    );
    let page: ConversationPage = server
        .get("/api/conversations?size=10", &admin)
        .await
        .parse();
    assert_eq!(page.total, 301);
    // The same ids again in this organization are taken.
    server
        .post_json("/api/ingest", &admin, &reuse)
        .await
        .assert_error(409, "conflict");
    assert_denormalized_consistent(&server);
}

#[tokio::test]
async fn import_reads_json_lines_and_names_the_first_bad_line() {
    import_reads_json_lines_and_names_the_first_bad_line_on(Backend::Sqlite).await;
}

async fn import_reads_json_lines_and_names_the_first_bad_line_on(backend: Backend) {
    let server = start_on("import", &backend).await;
    let org = server.store.find_org(demo::CONTOSO).unwrap().unwrap();
    let line = |rec: bool| {
        let mut c = serde_json::json!({"id": new_id(), "startTime": "2026-11-20T10:00:00Z", "endTime": "2026-11-20T10:05:00Z", "direction": "inbound"});
        if rec {
            c["recordings"] = serde_json::json!([{"id": new_id(), "media": "email", "role": "policy", "transcript": "Dear team"}]);
        }
        c.to_string()
    };
    let mut input: Vec<String> = (0..450).map(|i| line(i % 2 == 0)).collect();
    input.insert(10, String::new());
    let media = server.media.clone();
    let mut calls = Vec::new();
    let text = input.join("\n");
    let report = holdfast_server::ingest::import(
        server.store.as_ref(),
        media.as_ref(),
        org,
        holdfast_server::ingest::Files::Refused,
        text.as_bytes(),
        |bytes, conversations| calls.push((bytes, conversations)),
    );
    assert_eq!(
        report,
        holdfast_server::ingest::ImportReport {
            conversations: 450,
            recordings: 225,
            failed: None
        }
    );
    // Progress after each batch of 200 and at the end; the bytes read count each line's end.
    let through = |lines: usize| {
        input[..lines]
            .iter()
            .map(|l| l.len() as u64 + 1)
            .sum::<u64>()
    };
    assert_eq!(
        calls,
        vec![
            (through(201), 200),
            (through(401), 400),
            (text.len() as u64 + 1, 450)
        ],
        "progress after each batch"
    );

    let bad: Vec<String> = vec![
        line(true),
        line(false),
        "{\"id\": 5}".to_owned(),
        line(true),
    ];
    let report = holdfast_server::ingest::import(
        server.store.as_ref(),
        media.as_ref(),
        org,
        holdfast_server::ingest::Files::Refused,
        bad.join("\n").as_bytes(),
        |_, _| {},
    );
    assert_eq!(report.conversations, 0);
    let (number, why) = report.failed.unwrap();
    assert_eq!(number, 3);
    let parse_error =
        serde_json::from_str::<holdfast_core::api::IngestConversation>("{\"id\": 5}").unwrap_err();
    assert_eq!(
        why,
        format!("{parse_error} (lines 1 to 2 were not imported either)")
    );

    // Media named as files beside the JSON lines, copied a slice at a time with their SHA-256.
    let source = TempDir::new("import-files");
    std::fs::create_dir_all(source.0.join("calls")).unwrap();
    let audio: Vec<u8> = (0..1_500_000u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(source.0.join("calls/one.wav"), &audio).unwrap();
    std::fs::write(source.0.join("notes.txt"), b"call notes").unwrap();
    let (conv, rec) = (new_id(), new_id());
    let with_files = serde_json::json!({"id": conv, "startTime": "2026-11-20T10:00:00Z", "endTime": "2026-11-20T10:05:00Z",
        "direction": "inbound", "recordings": [{"id": rec, "media": "call", "role": "policy", "mediaFile": "calls/one.wav",
        "contentType": "audio/wav", "attachments": [{"name": "notes.txt", "contentType": "text/plain", "file": "notes.txt"}]}]});
    let files = holdfast_server::ingest::Files::RelativeTo(&source.0);
    let import = |line: String| {
        holdfast_server::ingest::import(
            server.store.as_ref(),
            media.as_ref(),
            org,
            files,
            line.as_bytes(),
            |_, _| {},
        )
    };
    let report = import(with_files.to_string());
    assert_eq!(
        (report.conversations, report.recordings, report.failed),
        (1, 1, None)
    );
    let stored = server
        .store
        .media_file(org, holdfast_core::RecordingId::parse(&rec).unwrap())
        .unwrap()
        .unwrap();
    assert_eq!(
        media.hash(&stored.path).unwrap(),
        (
            audio.len() as u64,
            holdfast_server::auth::hex(&Sha256::digest(&audio))
        )
    );
    assert_eq!(
        stored.sha256.as_deref(),
        Some(holdfast_server::auth::hex(&Sha256::digest(&audio)).as_str())
    );
    let report = holdfast_server::media::verify(server.store.as_ref(), media.as_ref()).unwrap();
    assert_eq!((report.checked, report.sound()), (2, true));
    // A file that is not there, or not named relative to the JSON lines: the line is refused.
    let mut missing = with_files.clone();
    missing["id"] = serde_json::json!(new_id());
    missing["recordings"][0]["id"] = serde_json::json!(new_id());
    missing["recordings"][0]["mediaFile"] = serde_json::json!("calls/two.wav");
    let report = import(missing.to_string());
    let (line, why) = report.failed.unwrap();
    assert_eq!(line, 1);
    assert!(
        why.starts_with(&format!("{}: ", source.0.join("calls/two.wav").display())),
        "{why}"
    );
    missing["recordings"][0]["mediaFile"] = serde_json::json!("/etc/passwd");
    let (_, why) = import(missing.to_string()).failed.unwrap();
    assert_eq!(
        why,
        "/etc/passwd: name media files relative to the JSON lines file"
    );
    assert_eq!(
        media.list().unwrap().len(),
        2,
        "nothing of the refused lines is left"
    );
    // Over HTTP a request never makes the server read its own files.
    let admin = server.login("admin").await;
    let answer = server.post_json("/api/ingest", &admin, &missing).await;
    answer.assert_error(400, "bad.request");
    assert!(
        answer.json()["message"]
            .as_str()
            .unwrap()
            .contains("holdfast import")
    );
}

#[tokio::test]
async fn metrics_and_the_openapi_document_are_served() {
    metrics_and_the_openapi_document_are_served_on(Backend::Sqlite).await;
}

async fn metrics_and_the_openapi_document_are_served_on(backend: Backend) {
    let server = start_on("metrics", &backend).await;
    let cookie = server.login("manager").await;
    server.get("/api/conversations", &cookie).await;
    // Only for the holder of the metrics token: it names every organization.
    server
        .get("/metrics", "")
        .await
        .assert_error(401, "not.authorized");
    server
        .get("/metrics", &cookie)
        .await
        .assert_error(401, "not.authorized");
    let wrong = server
        .send(
            "GET",
            "/metrics",
            &[("authorization", "Bearer test-metrics-token-0123456788")],
            b"",
        )
        .await;
    wrong.assert_error(401, "not.authorized");
    let text = server.scrape().await;
    let org = server.store.find_org(demo::NORTHWIND).unwrap().unwrap();
    assert!(
        text.contains(
            "holdfast_http_requests_total{route=\"conversations.list\",status=\"2xx\"} 1"
        ),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "holdfast_protected_conversations{{org_id=\"{org}\"}} 40"
        )),
        "{text}"
    );
    assert!(text.contains("holdfast_sweep_deleted_total 0"));
    // A directory keeps no legal holds: nothing about them to report.
    assert!(!text.contains("holdfast_media_holds"), "{text}");
    assert!(
        !text.contains("Northwind"),
        "organizations by id, not by name"
    );
    let doc = server.get("/api/openapi.json", "").await.json();
    assert_eq!(doc["openapi"], "3.1.0");
    assert!(doc["paths"]["/api/v2/recordings/deletionprotection"]["put"].is_object());
    // Every operation that takes a body says what it takes, and the filters are parameters,
    // so that a client generator or a fuzzer can reach them.
    let mut without_body = Vec::new();
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for (method, op) in ops.as_object().unwrap() {
            if ["post", "put", "patch"].contains(&method.as_str()) && op["requestBody"].is_null() {
                without_body.push(format!("{method} {path}"));
            }
        }
    }
    assert_eq!(without_body, Vec::<String>::new());
    let list = &doc["paths"]["/api/conversations"]["get"]["parameters"];
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "from",
            "to",
            "media",
            "direction",
            "queue",
            "agent",
            "remote",
            "recorded",
            "protected",
            "deletedBefore",
            "sort",
            "page",
            "size",
            "columns"
        ]
    );
    assert_eq!(
        doc["paths"]["/api/protection"]["post"]["requestBody"]["content"]["application/json"]["schema"]
            ["required"],
        serde_json::json!(["action", "selection"])
    );
}

#[tokio::test]
async fn the_sweep_racing_protect_never_deletes_a_protected_recording() {
    the_sweep_racing_protect_never_deletes_a_protected_recording_on(Backend::Sqlite).await;
}

async fn the_sweep_racing_protect_never_deletes_a_protected_recording_on(backend: Backend) {
    let server = Arc::new(start_on("sweeprace", &backend).await);
    let cookie = server.login("manager").await;
    let org = server.store.find_org(demo::NORTHWIND).unwrap().unwrap();
    // Conversations with recordings that a sweep "in 2200" would delete.
    let targets = protectable_ids(&server, &cookie, 100, 40).await;
    let far_future = holdfast_core::time::parse("2200-01-01T00:00:00Z").unwrap();
    let store = server.store.clone();
    let media = server.media.clone();
    // The sweep runs in small batches on its own thread while protects arrive one by one.
    let sweeper = std::thread::spawn(move || {
        let mut total = 0;
        loop {
            let n =
                holdfast_server::usecase::deletion::sweep(store.as_ref(), far_future, 3).unwrap();
            holdfast_server::media::remove_files(media.as_ref(), &n.files);
            total += n.deleted;
            if n.deleted == 0 {
                return total;
            }
        }
    });
    let mut tasks = Vec::new();
    for id in &targets {
        let (server, cookie) = (server.clone(), cookie.clone());
        let body =
            serde_json::json!({"action": "protect", "selection": {"kind": "ids", "ids": [id]}});
        tasks.push(tokio::spawn(async move {
            server
                .post_json("/api/protection", &cookie, &body)
                .await
                .status
        }));
    }
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    let swept = sweeper.join().unwrap();

    // In the chain, commit order: no policy deletion of a recording comes after its
    // conversation's protection.
    let events = server.store.audit_events(org).unwrap();
    // The sweep runs over every organization.
    let contoso = server.store.find_org(demo::CONTOSO).unwrap().unwrap();
    let system_deletes = events
        .iter()
        .chain(&server.store.audit_events(contoso).unwrap())
        .filter(|(e, _)| e.action == AuditAction::Delete && e.actor == audit::Actor::System)
        .count();
    assert_eq!(
        swept, system_deletes,
        "one policy Delete event per recording swept"
    );
    // A protect succeeded exactly when its conversation was still protectable when it
    // committed: 200 with an ApplyProtection event, else 409 with none.
    for (id, status) in targets.iter().zip(&statuses) {
        let applied = events
            .iter()
            .any(|(e, _)| e.action == AuditAction::ApplyProtection && &e.entity_id == id);
        assert_eq!(
            (*status, applied).0,
            if applied { 200 } else { 409 },
            "protect of {id}"
        );
    }
    let mut protected_at = std::collections::HashMap::new();
    for (e, _) in &events {
        if e.action == AuditAction::ApplyProtection {
            for r in &e.details.recordings {
                protected_at.insert(*r, e.seq);
            }
        }
    }
    for (e, _) in &events {
        if e.action == AuditAction::Delete && e.actor == audit::Actor::System {
            for r in &e.details.recordings {
                if let Some(seq) = protected_at.get(r) {
                    assert!(
                        e.seq < *seq,
                        "recording {r} was swept (event {}) after its protection (event {seq})",
                        e.seq
                    );
                }
            }
        }
    }
    // And every protected conversation still has every recording it had when protected.
    for (e, _) in events
        .iter()
        .filter(|(e, _)| e.action == AuditAction::ApplyProtection)
    {
        let d = details(&server, &cookie, &e.entity_id).await;
        for r in &e.details.recordings {
            let rec = d.recordings.iter().find(|x| x.id == *r).unwrap();
            let deleted_before = events.iter().any(|(x, _)| {
                x.action == AuditAction::Delete && x.details.recordings.contains(r) && x.seq < e.seq
            });
            if !deleted_before {
                assert_eq!(
                    rec.file_state,
                    holdfast_core::FileState::Available,
                    "protected recording {r} survived"
                );
            }
        }
    }
    assert_denormalized_consistent(&server);
}

/// One row of the role matrix (see the test below).
type MatrixCase = (
    &'static str,
    String,
    Option<serde_json::Value>,
    holdfast_core::Permission,
    bool,
    [u16; 3],
);

#[tokio::test]
async fn every_endpoint_against_every_role_and_the_other_organization() {
    every_endpoint_against_every_role_and_the_other_organization_on(Backend::Sqlite).await;
}

async fn every_endpoint_against_every_role_and_the_other_organization_on(backend: Backend) {
    use holdfast_core::Permission::*;
    let server = start_on("matrix", &backend).await;
    let manager = server.login("manager").await;
    let conv = protectable_ids(&server, &manager, 10, 1).await[0].clone();
    // The demo data has no media files, so the media route answers 404 to everyone allowed.
    let rec = details(&server, &manager, &conv).await.recordings[0]
        .id
        .to_string();
    let ids = serde_json::json!({"kind": "ids", "ids": [conv]});
    let future = serde_json::json!({"deleteDate": "2099-01-01T00:00:00.000Z"});
    let audit_q = serde_json::json!({"interval": "2000-01-01T00:00:00Z/2100-01-01T00:00:00Z", "serviceName": "Quality"});
    let policy = serde_json::json!({"name": "p", "order": 1, "enabled": true, "media": [], "queues": [], "direction": null, "action": {"kind": "keep"}});
    // (method, path, body, permission needed, whether it names Northwind data by id, and the
    // status for the first Northwind caller allowed, for those after it, and for Contoso's
    // manager where allowed and not by id). The callers go in order manager, supervisor,
    // analyst, admin, contoso.manager, so state changes are seen by the ones after.
    let cases: Vec<MatrixCase> = vec![
        (
            "GET",
            "/api/org/status".into(),
            None,
            RecordingView,
            false,
            [200, 200, 200],
        ),
        (
            "GET",
            "/api/conversations".into(),
            None,
            RecordingView,
            false,
            [200, 200, 200],
        ),
        (
            "GET",
            format!("/api/conversations/{conv}"),
            None,
            RecordingView,
            true,
            [200, 200, 404],
        ),
        (
            "POST",
            "/api/selection/summary".into(),
            Some(serde_json::json!({"selection": ids})),
            RecordingView,
            false,
            [200, 200, 200],
        ),
        (
            "POST",
            "/api/protection".into(),
            Some(serde_json::json!({"action": "protect", "selection": ids})),
            ProtectionApply,
            false,
            [200, 409, 400],
        ),
        (
            "POST",
            "/api/protection".into(),
            Some(serde_json::json!({"action": "release", "selection": ids})),
            ProtectionRevoke,
            false,
            [200, 409, 400],
        ),
        (
            "PUT",
            format!("/api/recordings/{rec}/deleteDate"),
            Some(future.clone()),
            EditRetention,
            true,
            [200, 200, 404],
        ),
        (
            "GET",
            format!("/api/recordings/{rec}/media"),
            None,
            RecordingView,
            true,
            [404, 404, 404],
        ),
        (
            "GET",
            "/api/audit".into(),
            None,
            AuditView,
            false,
            [200, 200, 200],
        ),
        (
            "GET",
            "/api/audit.csv".into(),
            None,
            AuditView,
            false,
            [200, 200, 200],
        ),
        (
            "GET",
            "/api/views".into(),
            None,
            RecordingView,
            false,
            [200, 200, 200],
        ),
        (
            "GET",
            "/api/retention-policies".into(),
            None,
            RecordingView,
            false,
            [200, 200, 200],
        ),
        (
            "POST",
            "/api/retention-policies".into(),
            Some(policy),
            Admin,
            false,
            [201, 201, 201],
        ),
        (
            "POST",
            "/api/ingest".into(),
            Some(serde_json::json!([])),
            Admin,
            false,
            [201, 201, 201],
        ),
        (
            "POST",
            "/api/v2/recordings/deletionprotection".into(),
            Some(serde_json::json!({"conversationIds": [conv]})),
            RecordingView,
            false,
            [200, 200, 200],
        ),
        (
            "PUT",
            "/api/v2/recordings/deletionprotection?protect=true".into(),
            Some(serde_json::json!({"conversationIds": [conv]})),
            ProtectionApply,
            false,
            [200, 200, 200],
        ),
        (
            "GET",
            format!("/api/v2/conversations/{conv}/recordingmetadata"),
            None,
            RecordingView,
            true,
            [200, 200, 404],
        ),
        (
            "GET",
            format!("/api/v2/conversations/{conv}/recordings/{rec}"),
            None,
            RecordingView,
            true,
            [200, 200, 404],
        ),
        (
            "POST",
            "/api/v2/audits/query/realtime".into(),
            Some(audit_q),
            AuditView,
            false,
            [200, 200, 200],
        ),
        (
            "DELETE",
            format!("/api/recordings/{rec}"),
            None,
            EditRetention,
            true,
            [409, 409, 404],
        ),
    ];
    let mut users = Vec::new();
    for name in [
        "manager",
        "supervisor",
        "analyst",
        "admin",
        "contoso.manager",
    ] {
        let cookie = server.login(name).await;
        let perms = holdfast_server::auth::role_permissions(match name {
            "contoso.manager" => "manager",
            n => n,
        })
        .unwrap();
        users.push((name, cookie, perms));
    }
    for (method, path, body, needed, by_id, expect) in &cases {
        let mut first = true;
        let body = body
            .as_ref()
            .map(|b| serde_json::to_vec(b).unwrap())
            .unwrap_or_default();
        let anonymous = server
            .send(
                method,
                path,
                &[
                    ("content-type", "application/json"),
                    ("x-holdfast-csrf", "1"),
                ],
                &body,
            )
            .await;
        assert_eq!(anonymous.status, 401, "{method} {path} without a session");
        for (name, cookie, perms) in &users {
            let headers = [
                ("cookie", cookie.as_str()),
                ("content-type", "application/json"),
                ("x-holdfast-csrf", "1"),
            ];
            let answer = server.send(method, path, &headers, &body).await;
            let what = format!(
                "{method} {path} as {name}: {} {}",
                answer.status,
                String::from_utf8_lossy(&answer.body)
            );
            match (
                perms.contains(*needed),
                *name == "contoso.manager" && *by_id,
            ) {
                (false, _) => assert_eq!(answer.status, 403, "{what}"),
                (true, true) => assert_eq!(
                    answer.status, 404,
                    "another organization's id is unknown: {what}"
                ),
                (true, false) => {
                    let want = match (*name == "contoso.manager", first) {
                        (true, _) => expect[2],
                        (false, true) => expect[0],
                        (false, false) => expect[1],
                    };
                    assert_eq!(answer.status, want, "{what}");
                    first &= *name == "contoso.manager";
                }
            }
        }
    }
    // Nothing Contoso did touched Northwind's conversation: no event of either chain says so.
    let contoso = server.store.find_org(demo::CONTOSO).unwrap().unwrap();
    let northwind = server.store.find_org(demo::NORTHWIND).unwrap().unwrap();
    let theirs = server.store.audit_events(contoso).unwrap();
    assert!(
        theirs.iter().all(|(e, _)| e.entity_id != conv
            && e.details.recordings.iter().all(|r| r.to_string() != rec))
    );
    let ours = server.store.audit_events(northwind).unwrap();
    assert!(ours.iter().all(
        |(e, _)| !matches!(&e.actor, audit::Actor::User { name, .. } if name == "contoso.manager")
    ));
}

#[tokio::test]
async fn transcripts_and_attachments_follow_the_same_deletion_rule() {
    transcripts_and_attachments_follow_the_same_deletion_rule_on(Backend::Sqlite).await;
}

async fn transcripts_and_attachments_follow_the_same_deletion_rule_on(backend: Backend) {
    let server = start_on("parts", &backend).await;
    let admin = server.login("admin").await;
    let (conv, rec) = (new_id(), new_id());
    let body = serde_json::json!({"id": conv, "startTime": "2026-11-20T10:00:00Z", "endTime": "2026-11-20T10:05:00Z",
        "direction": "inbound", "recordings": [{"id": rec, "media": "email", "role": "policy", "transcript": "Dear team",
        "attachments": [{"name": "contract.pdf", "contentType": "application/pdf", "dataBase64": b64(b"%PDF")}]}]});
    assert_eq!(
        server.post_json("/api/ingest", &admin, &body).await.status,
        201
    );
    let att = details(&server, &admin, &conv).await.recordings[0].attachments[0]
        .id
        .clone();
    let protect =
        serde_json::json!({"action": "protect", "selection": {"kind": "ids", "ids": [conv]}});
    assert_eq!(
        server
            .post_json("/api/protection", &admin, &protect)
            .await
            .status,
        200
    );

    let transcript = format!("/api/recordings/{rec}/transcript");
    let attachment = format!("/api/attachments/{att}");
    delete(&server, &transcript, &admin)
        .await
        .assert_error(409, "recording.protected");
    delete(&server, &attachment, &admin)
        .await
        .assert_error(409, "recording.protected");
    let org = server.store.find_org(demo::NORTHWIND).unwrap().unwrap();
    let blocked = server
        .store
        .audit_events(org)
        .unwrap()
        .iter()
        .filter(|(e, _)| e.action == AuditAction::DeletionBlocked)
        .count();
    assert_eq!(blocked, 2);
    assert_eq!(
        server.get(&attachment, &admin).await.body,
        b"%PDF",
        "still there"
    );

    let release =
        serde_json::json!({"action": "release", "selection": {"kind": "ids", "ids": [conv]}});
    assert_eq!(
        server
            .post_json("/api/protection", &admin, &release)
            .await
            .status,
        200
    );
    assert_eq!(delete(&server, &attachment, &admin).await.status, 200);
    assert_eq!(delete(&server, &transcript, &admin).await.status, 200);
    let d = details(&server, &admin, &conv).await;
    assert_eq!(d.recordings[0].transcript, None);
    assert!(d.recordings[0].attachments.is_empty());
    assert_eq!(
        d.recordings[0].file_state,
        holdfast_core::FileState::Available,
        "the recording itself stays"
    );
    assert!(
        server.objects().is_empty(),
        "the attachment's file is removed"
    );
    delete(&server, &transcript, &admin)
        .await
        .assert_error(404, "not.found");
    delete(&server, &attachment, &admin)
        .await
        .assert_error(404, "not.found");
}

#[tokio::test]
async fn a_client_that_never_finishes_its_headers_is_cut_off() {
    let dir = TempDir::new("slowloris");
    let store = Arc::new(SqliteStore::open(&dir.0.join("db.sqlite3")).unwrap());
    let state = Arc::new(AppState {
        store,
        assets: Assets::default(),
        password_checks: Default::default(),
        body_time: Default::default(),
        secure_cookies: false,
        media: local_media(&dir),
        metrics: Default::default(),
        metrics_token: Some(holdfast_server::auth::token_hash(METRICS_TOKEN)),
        checkpointer: None,
        storage: Default::default(),
        chains: Default::default(),
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let timeout = std::time::Duration::from_millis(300);
    tokio::spawn(holdfast_server::http::serve_with_timeout(
        listener,
        state,
        std::future::pending(),
        timeout,
    ));

    let mut slow = tokio::net::TcpStream::connect(addr).await.unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    // The server closes the connection once the timeout passes; a generous bound keeps this
    // from depending on the machine's speed, and it would hang without the timer.
    let mut buf = Vec::new();
    let closed = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        slow.read_to_end(&mut buf),
    )
    .await;
    assert!(
        closed.is_ok(),
        "the server still holds a connection whose headers never finished"
    );

    // A normal client is served meanwhile and afterwards.
    let mut ok = tokio::net::TcpStream::connect(addr).await.unwrap();
    ok.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut raw = Vec::new();
    ok.read_to_end(&mut raw).await.unwrap();
    assert_eq!(parse_answer(&raw).status, 200);
}

/// The audit trail page filters and pages in SQL; every filter must mean exactly what core's
/// `AuditQuery::matches` says, which is checked here against every event of a varied trail.
#[tokio::test]
async fn audit_filters_in_sql_agree_with_the_rule_in_core() {
    audit_filters_in_sql_agree_with_the_rule_in_core_on(Backend::Sqlite).await;
}

async fn audit_filters_in_sql_agree_with_the_rule_in_core_on(backend: Backend) {
    use holdfast_core::audit::AuditQuery;
    use holdfast_server::store::AuditFilter;

    let server = start_on("audit-sql", &backend).await;
    let cookie = server.login("manager").await;
    server.login("supervisor").await;
    let wrong = serde_json::json!({"username": "analyst", "password": "wrong"});
    server.post_json("/api/session", "", &wrong).await;
    let ids = page_ids(&server, &cookie, "protected=no&recorded=yes&size=10").await[..6].to_vec();
    let protect = serde_json::json!({"action": "protect", "selection": {"kind": "ids", "ids": ids}, "reason": "Case 9"});
    assert_eq!(
        server
            .post_json("/api/protection", &cookie, &protect)
            .await
            .status,
        200
    );
    let release =
        serde_json::json!({"action": "release", "selection": {"kind": "ids", "ids": ids[..2]}});
    assert_eq!(
        server
            .post_json("/api/protection", &cookie, &release)
            .await
            .status,
        200
    );

    let org = server.store.find_org(demo::NORTHWIND).unwrap().unwrap();
    let events: Vec<_> = server
        .store
        .audit_events(org)
        .unwrap()
        .into_iter()
        .map(|(e, _)| e)
        .collect();
    assert!(
        events.len() >= 10,
        "a varied trail: {} events",
        events.len()
    );
    let middle = events[events.len() / 2].time;
    let conversation: holdfast_core::ConversationId = ids[0].parse().unwrap();
    let recordings_of: Vec<_> = server
        .store
        .conversation_details(org, conversation)
        .unwrap()
        .unwrap()
        .recordings
        .iter()
        .map(|r| r.id)
        .collect();
    let unknown: holdfast_core::ConversationId =
        "00000000-0000-4000-8000-00000000abcd".parse().unwrap();

    let mut actions = vec![None];
    actions.extend(AuditAction::ALL.iter().copied().map(Some));
    let users = [
        None,
        Some("manager"),
        Some("system"),
        Some("analyst"),
        Some("nobody"),
    ];
    let mut checked = 0;
    for action in &actions {
        for user in users {
            for about in [None, Some(conversation), Some(unknown)] {
                for (from, to) in [(None, None), (Some(middle), None), (None, Some(middle))] {
                    let query = AuditQuery {
                        action: *action,
                        user: user.map(str::to_owned),
                        conversation: about,
                        from,
                        to,
                        ..AuditQuery::new()
                    };
                    let of = match about {
                        Some(c) if c == conversation => recordings_of.as_slice(),
                        _ => &[],
                    };
                    let expected: Vec<u64> = events
                        .iter()
                        .rev()
                        .filter(|e| query.matches(e, of))
                        .map(|e| e.seq)
                        .collect();
                    let mut about_ids = about.map(|c| vec![c.to_string()]);
                    if about == Some(conversation) {
                        about_ids
                            .as_mut()
                            .unwrap()
                            .extend(recordings_of.iter().map(|r| r.to_string()));
                    }
                    let filter = AuditFilter {
                        action: *action,
                        user: query.user.clone(),
                        about: about_ids,
                        from,
                        to,
                        offset: 0,
                        limit: None,
                        ..AuditFilter::default()
                    };
                    let (got, total) = server.store.audit_page(org, &filter).unwrap();
                    let got: Vec<u64> = got.iter().map(|(e, _)| e.seq).collect();
                    assert_eq!(got, expected, "{query:?}");
                    assert_eq!(total, expected.len() as u64, "{query:?}");
                    // A window of it: the same events, in the same order.
                    let window = AuditFilter {
                        offset: 1,
                        limit: Some(2),
                        ..filter
                    };
                    let (page, total) = server.store.audit_page(org, &window).unwrap();
                    let page: Vec<u64> = page.iter().map(|(e, _)| e.seq).collect();
                    let slice: Vec<u64> = expected.iter().skip(1).take(2).copied().collect();
                    assert_eq!(page, slice, "{query:?}");
                    assert_eq!(total, expected.len() as u64);
                    checked += usize::from(!expected.is_empty());
                }
            }
        }
    }
    assert!(checked > 20, "only {checked} filters matched anything");

    // The Genesys query's filters: the acting user's id, the entity type, and an id that is
    // the entity or one of its listed recordings.
    let manager_id = events
        .iter()
        .find_map(|e| match &e.actor {
            holdfast_core::audit::Actor::User { id, name } if name == "manager" => {
                Some(id.to_string())
            }
            _ => None,
        })
        .expect("the manager acted");
    let recording = recordings_of[0].to_string();
    let mut types = vec![None];
    types.extend(
        [
            audit::EntityType::Conversation,
            audit::EntityType::Recording,
            audit::EntityType::User,
            audit::EntityType::RetentionPolicy,
        ]
        .map(Some),
    );
    let mut genesys_checked = 0;
    for actor in [None, Some(manager_id.as_str()), Some("nobody")] {
        for kind in &types {
            for mentions in [
                None,
                Some(ids[0].as_str()),
                Some(recording.as_str()),
                Some("x"),
            ] {
                let expected: Vec<u64> = events
                    .iter()
                    .rev()
                    .filter(|e| {
                        actor.is_none_or(|a| {
                            matches!(&e.actor, holdfast_core::audit::Actor::User { id, .. } if id.to_string() == a)
                        }) && kind.is_none_or(|k| e.entity_type == k)
                            && mentions.is_none_or(|m| {
                                e.entity_id == m
                                    || e.details.recordings.iter().any(|r| r.to_string() == m)
                            })
                    })
                    .map(|e| e.seq)
                    .collect();
                let filter = AuditFilter {
                    actor_id: actor.map(str::to_owned),
                    entity_type: *kind,
                    mentions: mentions.map(str::to_owned),
                    ..AuditFilter::default()
                };
                let (got, total) = server.store.audit_page(org, &filter).unwrap();
                let got: Vec<u64> = got.iter().map(|(e, _)| e.seq).collect();
                assert_eq!(got, expected, "{filter:?}");
                assert_eq!(total, expected.len() as u64);
                genesys_checked += usize::from(!expected.is_empty());
            }
        }
    }
    assert!(
        genesys_checked > 5,
        "only {genesys_checked} matched anything"
    );
}

/// The audit page verifies new events at once and the whole chain again after
/// `chain::FULL_EVERY`, so an edited old event shows within that time.
#[tokio::test]
async fn the_chain_status_checks_new_links_at_once_and_old_ones_within_its_period() {
    the_chain_status_checks_new_links_at_once_and_old_ones_within_its_period_on(Backend::Sqlite)
        .await;
}

async fn the_chain_status_checks_new_links_at_once_and_old_ones_within_its_period_on(
    backend: Backend,
) {
    use holdfast_server::chain::{ChainCache, FULL_EVERY};
    use std::time::{Duration, Instant};

    let server = start_on("chain-cache", &backend).await;
    let cookie = server.login("manager").await;
    let org = server.store.find_org(demo::NORTHWIND).unwrap().unwrap();
    let db = server.db();
    let cache = ChainCache::default();
    let store = server.store.as_ref();
    let now = Instant::now();
    let first = cache.status_at(store, org, now).unwrap().expect("sound");

    // A new event that was edited after it was written is found on the next request.
    let ids = page_ids(&server, &cookie, "protected=no&recorded=yes&size=10").await;
    let protect = serde_json::json!({"action": "protect", "selection": {"kind": "ids", "ids": ids[..1]}, "reason": "Case 1"});
    server.post_json("/api/protection", &cookie, &protect).await;
    let newest = first + 1;
    let edit = |from: &str, to: &str, seq: u64| {
        db.execute(
            "UPDATE audit_events SET event = replace(event, ?1, ?2) WHERE org_id = ?3 AND seq = ?4",
            raw![from, to, org.to_string(), seq as i64],
        );
    };
    edit("Case 1", "Case 2", newest);
    assert_eq!(
        cache.status_at(store, org, now).unwrap(),
        Err(audit::ChainBreak::HashMismatch { seq: newest })
    );
    // A break is remembered for the period, even if the row is put back...
    edit("Case 2", "Case 1", newest);
    assert_eq!(
        cache.status_at(store, org, now).unwrap(),
        Err(audit::ChainBreak::HashMismatch { seq: newest })
    );
    // ...and the whole chain is read again after it.
    let now = now + FULL_EVERY;
    assert_eq!(cache.status_at(store, org, now).unwrap(), Ok(newest));

    // An old event edited after it was verified: found when the period is over.
    let old = 2;
    let before = db.text(
        "SELECT event FROM audit_events WHERE org_id = ? AND seq = ?",
        raw![org.to_string(), old as i64],
    );
    db.execute(
        "UPDATE audit_events SET event = ?1 WHERE org_id = ?2 AND seq = ?3",
        raw![
            before.replacen("\"entityId\":\"", "\"entityId\":\"x", 1),
            org.to_string(),
            old as i64
        ],
    );
    let soon = now + Duration::from_secs(1);
    assert_eq!(cache.status_at(store, org, soon).unwrap(), Ok(newest));
    let later = now + FULL_EVERY + Duration::from_secs(1);
    assert_eq!(
        cache.status_at(store, org, later).unwrap(),
        Err(audit::ChainBreak::HashMismatch { seq: old })
    );
    // And it stays broken, also for a request that does not read the chain again.
    assert_eq!(
        cache
            .status_at(store, org, later + Duration::from_secs(1))
            .unwrap(),
        Err(audit::ChainBreak::HashMismatch { seq: old })
    );

    // The head moved back to an earlier link, to hide the newest events: they are found.
    db.execute(
        "UPDATE audit_events SET event = ?1 WHERE org_id = ?2 AND seq = ?3",
        raw![before.clone(), org.to_string(), old as i64],
    );
    assert_eq!(
        holdfast_server::audit_cli::verify(store, org).unwrap(),
        Ok(newest)
    );
    db.execute(
        "UPDATE audit_heads SET seq = ?1, hash = (SELECT hash FROM audit_events WHERE org_id = ?2 AND seq = ?1) WHERE org_id = ?2",
        raw![(newest - 1) as i64, org.to_string()],
    );
    assert_eq!(
        holdfast_server::audit_cli::verify(store, org).unwrap(),
        Err(audit::ChainBreak::Head { last_seq: newest })
    );
}

/// One conversation of a release-preview case: protected or not, and its recordings as
/// (already deleted, deletion date relative to the instant of the case in milliseconds).
struct Fixture {
    protected: bool,
    recordings: &'static [(bool, Option<i64>)],
}

/// How a release-preview case selects: listed conversations (by index), or the filter of the
/// case's queue except some (by index).
enum Pick {
    Ids(&'static [usize]),
    Queue { except: &'static [usize] },
}

const DAY: i64 = 24 * 3600 * 1000;

/// Rule 6 at one instant: the release preview's past-due count equals, exactly, what the sweep at
/// that instant deletes after the release, and what core's `past_due_on_release` says of the
/// selected protected conversations' recordings. Whatever was already due outside a protection
/// is swept first, so that the second sweep deletes only what the release handed to it.
#[track_caller]
fn check_release_preview(
    store: &dyn Store,
    media: &dyn MediaStore,
    convs: &[Fixture],
    pick: Pick,
    expected: usize,
) {
    use holdfast_core::api::Selection;
    use holdfast_core::deletion::{RecordingState, past_due_on_release};
    use holdfast_core::protection::ProtectAction;
    use holdfast_core::{ConversationId, FileState, OrgId, Permission, Permissions, RecordingId};
    use holdfast_server::store::{
        AuditContext, NewConversation, NewOrg, NewRecording, ProtectionChange,
    };

    let now = demo::fixed_now();
    let at = |offset: i64| now + chrono::Duration::milliseconds(offset);
    let org = OrgId::from_uuid(uuid::Uuid::new_v4());
    store
        .create_org(&NewOrg {
            id: org,
            name: "Fixture".to_owned(),
            cap: 1000,
        })
        .unwrap();
    let ids: Vec<ConversationId> = convs
        .iter()
        .map(|_| ConversationId::from_uuid(uuid::Uuid::new_v4()))
        .collect();
    let batch: Vec<NewConversation> = convs
        .iter()
        .zip(&ids)
        .map(|(c, id)| NewConversation {
            id: *id,
            start_time: at(-30 * DAY),
            end_time: at(-30 * DAY + 60_000),
            direction: holdfast_core::Direction::Inbound,
            queue: Some("Fixture".to_owned()),
            agents: vec![],
            remote_party: None,
            wrap_up: None,
            recordings: c
                .recordings
                .iter()
                .map(|(deleted, date)| NewRecording {
                    id: RecordingId::from_uuid(uuid::Uuid::new_v4()),
                    media: holdfast_core::Media::Call,
                    role: holdfast_core::RecordingRole::Policy,
                    created_at: at(-30 * DAY),
                    duration_ms: Some(60_000),
                    size_bytes: None,
                    deleted: *deleted,
                    delete_date: date.map(at),
                    transcript: None,
                    media_path: None,
                    media_sha256: None,
                    content_type: None,
                    attachments: vec![],
                })
                .collect(),
            protected_by: c.protected.then(|| ("fixture".to_owned(), None)),
        })
        .collect();
    store.insert_conversations(org, &batch).unwrap();
    let due_unprotected = convs
        .iter()
        .filter(|c| !c.protected)
        .flat_map(|c| c.recordings)
        .filter(|(deleted, date)| !deleted && date.is_some_and(|d| d <= 0))
        .count();
    assert_eq!(
        holdfast_server::sweep::run_once(store, media, now).unwrap(),
        due_unprotected,
        "the first sweep deletes what no protection covers"
    );

    let (selection, selected): (Selection, Vec<usize>) = match pick {
        Pick::Ids(list) => (
            Selection::Ids {
                ids: list.iter().map(|i| ids[*i]).collect(),
            },
            list.to_vec(),
        ),
        Pick::Queue { except } => (
            Selection::Filter {
                query: "queue=Fixture".to_owned(),
                except: except.iter().map(|i| ids[*i]).collect(),
            },
            (0..convs.len()).filter(|i| !except.contains(i)).collect(),
        ),
    };
    let states: Vec<RecordingState> = selected
        .iter()
        .filter(|i| convs[**i].protected)
        .flat_map(|i| convs[*i].recordings)
        .map(|(deleted, date)| RecordingState {
            protected: true,
            state: match deleted {
                true => FileState::Deleted,
                false => FileState::Available,
            },
            delete_date: date.map(at),
        })
        .collect();
    assert_eq!(past_due_on_release(&states, now), expected, "core's rule");
    let summary = store.summarize(org, &selection, now).unwrap();
    assert_eq!(
        summary.past_due_recordings as usize, expected,
        "the preview's count"
    );

    let ctx = AuditContext {
        actor: holdfast_core::audit::Actor::System,
        client: Default::default(),
        now,
    };
    let change = ProtectionChange {
        action: ProtectAction::Release,
        selection,
        reason: None,
        hold: None,
    };
    let perms = Permissions::of(&[Permission::RecordingView, Permission::ProtectionRevoke]);
    holdfast_server::usecase::protection::apply(store, org, perms, &change, &ctx)
        .unwrap()
        .expect("the release is planned");
    assert_eq!(
        holdfast_server::sweep::run_once(store, media, now).unwrap(),
        expected,
        "the sweep after the release deletes what the preview said"
    );
}

#[test]
fn the_release_preview_counts_exactly_what_the_next_sweep_deletes() {
    let dir = TempDir::new("preview");
    let store = SqliteStore::open(&dir.0.join("db.sqlite3")).unwrap();
    release_preview_cases(&store, local_media(&dir).as_ref());
}

async fn the_release_preview_counts_exactly_what_the_next_sweep_deletes_on(backend: Backend) {
    let Backend::Postgres(url) = backend else {
        return the_release_preview_counts_exactly_what_the_next_sweep_deletes();
    };
    let dir = TempDir::new("preview-pg");
    let store = PgStore::connect(&url).unwrap();
    release_preview_cases(&store, local_media(&dir).as_ref());
}

/// Every case, each in an organization of its own in `store`: what one case leaves (protected
/// recordings it did not release) is never due for another's sweep.
fn release_preview_cases(store: &dyn Store, media: &dyn MediaStore) {
    const DUE: (bool, Option<i64>) = (false, Some(-DAY));
    const DUE_NOW: (bool, Option<i64>) = (false, Some(0));
    const NEXT_MS: (bool, Option<i64>) = (false, Some(1));
    const LATER: (bool, Option<i64>) = (false, Some(DAY));
    const KEEP: (bool, Option<i64>) = (false, None);
    const GONE: (bool, Option<i64>) = (true, Some(-DAY));
    let p = |recordings| Fixture {
        protected: true,
        recordings,
    };
    let u = |recordings| Fixture {
        protected: false,
        recordings,
    };
    use Pick::{Ids, Queue};

    check_release_preview(store, media, &[p(&[DUE])], Ids(&[0]), 1);
    check_release_preview(
        store,
        media,
        &[p(&[DUE, DUE_NOW, NEXT_MS, LATER, KEEP, GONE])],
        Ids(&[0]),
        2,
    );
    check_release_preview(store, media, &[p(&[GONE, GONE])], Ids(&[0]), 0);
    check_release_preview(store, media, &[p(&[LATER, KEEP])], Ids(&[0]), 0);
    check_release_preview(store, media, &[p(&[DUE, DUE]), p(&[DUE])], Ids(&[1]), 1);
    check_release_preview(
        store,
        media,
        &[p(&[DUE, DUE]), p(&[DUE]), u(&[DUE, LATER])],
        Ids(&[0, 1, 2]),
        3,
    );
    check_release_preview(
        store,
        media,
        &[p(&[DUE, GONE]), p(&[DUE_NOW, LATER]), u(&[DUE])],
        Queue { except: &[] },
        2,
    );
    check_release_preview(
        store,
        media,
        &[p(&[DUE, DUE]), p(&[DUE]), p(&[KEEP])],
        Queue { except: &[0] },
        1,
    );
    check_release_preview(
        store,
        media,
        &[p(&[]), u(&[]), p(&[GONE, NEXT_MS])],
        Queue { except: &[] },
        0,
    );
}

/// `body` padded with trailing spaces (still the same JSON) to exactly `len` bytes.
fn padded(body: &serde_json::Value, len: usize) -> Vec<u8> {
    let mut bytes = serde_json::to_vec(body).unwrap();
    assert!(
        bytes.len() <= len,
        "the body is already {} bytes",
        bytes.len()
    );
    bytes.resize(len, b' ');
    bytes
}

#[tokio::test]
async fn body_limits_are_per_route_exact_and_checked_before_reading() {
    body_limits_are_per_route_exact_and_checked_before_reading_on(Backend::Sqlite).await;
}

async fn body_limits_are_per_route_exact_and_checked_before_reading_on(backend: Backend) {
    use holdfast_server::http::MAX_BODY;
    use holdfast_server::routes::INGEST_MAX_BODY;
    let server = start_on("limits", &backend).await;
    let cookie = server.login("admin").await;
    let headers = [
        ("cookie", cookie.as_str()),
        ("content-type", "application/json"),
        ("x-holdfast-csrf", "1"),
    ];
    let summary = serde_json::json!({"selection": {"kind": "ids", "ids": []}});
    let at_limit = server
        .send(
            "POST",
            "/api/selection/summary",
            &headers,
            &padded(&summary, MAX_BODY),
        )
        .await;
    at_limit.assert_status(200);
    let over = server
        .send(
            "POST",
            "/api/selection/summary",
            &headers,
            &padded(&summary, MAX_BODY + 1),
        )
        .await;
    over.assert_error(413, "payload.too.large");
    assert_eq!(
        over.json()["message"],
        format!("the request body is larger than {MAX_BODY} bytes")
    );

    // Without a declared length (chunked), the limit holds as the body arrives.
    let mut stream = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    let head = format!(
        "POST /api/selection/summary HTTP/1.1\r\nHost: {}\r\nConnection: close\r\ncookie: {cookie}\r\n\
         content-type: application/json\r\nx-holdfast-csrf: 1\r\ntransfer-encoding: chunked\r\n\r\n",
        server.addr
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let chunk = vec![b' '; 64 * 1024];
    for _ in 0..5 {
        let mut framed = format!("{:x}\r\n", chunk.len()).into_bytes();
        framed.extend_from_slice(&chunk);
        framed.extend_from_slice(b"\r\n");
        if stream.write_all(&framed).await.is_err() {
            break;
        }
    }
    let _ = stream.write_all(b"0\r\n\r\n").await;
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw).await;
    parse_answer(&raw).assert_error(413, "payload.too.large");

    // Ingest takes media: exactly its limit is accepted, one byte more is refused unread.
    let id = new_id();
    let rec = new_id();
    let skeleton = |media: String| {
        serde_json::json!({"id": id, "startTime": "2026-11-20T10:00:00Z", "endTime": "2026-11-20T11:00:00Z",
            "direction": "inbound", "recordings": [{"id": rec, "media": "call", "role": "policy",
            "contentType": "audio/wav", "mediaBase64": media}]})
    };
    let room = INGEST_MAX_BODY - serde_json::to_vec(&skeleton(String::new())).unwrap().len();
    let media = "QUJD".repeat(room / 4);
    let body = padded(&skeleton(media), INGEST_MAX_BODY);
    let over = server
        .send(
            "POST",
            "/api/ingest",
            &headers,
            &[body.as_slice(), b" "].concat(),
        )
        .await;
    over.assert_error(413, "payload.too.large");
    let answer = server.send("POST", "/api/ingest", &headers, &body).await;
    answer.assert_status(201);
    let size = details(&server, &cookie, &id).await.recordings[0].size_bytes;
    assert_eq!(size, Some((room / 4 * 3) as u64));
}

#[tokio::test]
async fn ingest_takes_a_recording_of_megabytes_and_serves_it_back_byte_for_byte() {
    ingest_takes_a_recording_of_megabytes_and_serves_it_back_byte_for_byte_on(Backend::Sqlite)
        .await;
}

async fn ingest_takes_a_recording_of_megabytes_and_serves_it_back_byte_for_byte_on(
    backend: Backend,
) {
    let server = start_on("bigingest", &backend).await;
    let admin = server.login("admin").await;
    // 5 MB of bytes that are not a repetition of a base64 group, so every slice boundary of
    // the decoder is crossed by real data.
    let audio: Vec<u8> = (0..5_000_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let (conv, rec) = (new_id(), new_id());
    let body = serde_json::json!({"id": conv, "startTime": "2026-11-20T10:00:00Z", "endTime": "2026-11-20T11:00:00Z",
        "direction": "inbound", "recordings": [{"id": rec, "media": "call", "role": "policy",
        "contentType": "audio/wav", "durationMs": 3_600_000, "mediaBase64": b64(&audio)}]});
    let answer = server.post_json("/api/ingest", &admin, &body).await;
    answer.assert_status(201);
    assert_eq!(
        answer.json(),
        serde_json::json!({"conversations": 1, "recordings": 1, "heldByQuery": 0, "missedByQuery": 0})
    );
    let d = details(&server, &admin, &conv).await;
    assert_eq!(d.recordings[0].size_bytes, Some(5_000_000));
    let media = server
        .get(&format!("/api/recordings/{rec}/media"), &admin)
        .await;
    assert_eq!(media.status, 200);
    assert_eq!(media.body.len(), audio.len());
    assert!(
        media.body == audio,
        "the bytes served are the bytes ingested"
    );

    // Bad base64 after megabytes of good: refused whole, and the half-written file is gone.
    let mut broken = b64(&audio);
    broken.replace_range(4_000_000..4_000_004, "!!!!");
    let body = serde_json::json!({"id": new_id(), "startTime": "2026-11-20T10:00:00Z", "endTime": "2026-11-20T11:00:00Z",
        "direction": "inbound", "recordings": [{"id": new_id(), "media": "call", "role": "policy", "mediaBase64": broken}]});
    server
        .post_json("/api/ingest", &admin, &body)
        .await
        .assert_error(400, "bad.request");
    assert_eq!(server.objects().len(), 1, "only the first recording's file");
}

/// Every statement run while the plan story runs, parameters expanded.
static STATEMENTS: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

fn record_statement(event: rusqlite::trace::TraceEvent<'_>) {
    if let rusqlite::trace::TraceEvent::Stmt(stmt, sql) = event {
        // Trigger programs announce themselves as comments; their statements are the trigger's.
        if sql.trim_start().starts_with("--") {
            return;
        }
        if let Some(expanded) = stmt.expanded_sql() {
            STATEMENTS.lock().unwrap().push(expanded);
        }
    }
}

/// The statement with its literals replaced, so that one shape is explained once.
fn shape(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                while let Some(c) = chars.next() {
                    if c == '\'' && chars.peek() != Some(&'\'') {
                        break;
                    }
                    if c == '\'' {
                        chars.next();
                    }
                }
                out.push('?');
            }
            '0'..='9' if !out.ends_with(|p: char| p.is_alphanumeric() || p == '_') => {
                while chars.peek().is_some_and(|c| c.is_ascii_digit()) {
                    chars.next();
                }
                out.push('?');
            }
            _ => out.push(c),
        }
    }
    // A list of ids is one shape however long it is.
    while out.contains("?,?") || out.contains("?, ?") {
        out = out.replace("?,?", "?").replace("?, ?", "?");
    }
    out
}

/// Scales the statistics of a small database to `factor` times its rows with the same
/// distribution, so that the planner plans as it would at a contact center's size.
fn scale_statistics(db: &rusqlite::Connection, factor: u64) {
    let rows: Vec<(String, Option<String>, String)> = db
        .prepare("SELECT tbl, idx, stat FROM sqlite_stat1")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    for (tbl, idx, stat) in rows {
        let scaled: Vec<String> = stat
            .split(' ')
            .enumerate()
            .map(|(i, n)| match n.parse::<u64>() {
                // The row count, and every prefix that is not unique, grow with the data.
                Ok(n) if i == 0 || n > 1 => (n * factor).to_string(),
                _ => n.to_owned(),
            })
            .collect();
        db.execute(
            "UPDATE sqlite_stat1 SET stat = ? WHERE tbl = ? AND idx IS ?",
            rusqlite::params![scaled.join(" "), tbl, idx],
        )
        .unwrap();
    }
    db.execute_batch("ANALYZE sqlite_schema").unwrap();
}

/// Why a plan line is wrong, if it is: a full scan of a table that grows with the data.
fn full_scan(detail: &str, subqueries: &[&str]) -> bool {
    const SMALL: &[&str] = &[
        "organizations",
        "audit_heads",
        "roles",
        "role_permissions",
        "user_roles",
        "retention_policies",
        "CONSTANT ROW",
        // The rows of a subquery, bounded by its own LIMIT or plan.
        "(subquery",
        // FTS5's own configuration rows.
        "main.participant_search_config",
    ];
    match detail.strip_prefix("SCAN ") {
        None => false,
        Some(rest) => {
            !rest.contains("VIRTUAL TABLE")
                && !SMALL.iter().any(|t| rest.starts_with(t))
                // A named subquery's rows (a co-routine), bounded by its own plan.
                && !subqueries.contains(&rest)
                // The rows of a multi-row INSERT's VALUES list.
                && !rest.ends_with("-ROW VALUES CLAUSE")
        }
    }
}

/// The query-plan check: every statement the store runs in a story that touches every
/// endpoint is explained on the same database with its statistics scaled to ten million
/// conversations. None may scan a table that grows with the data, and a statement that names
/// conversations by id must look them up by id. Nothing is timed.
/// A selection's summary, then a protect and a release of it, whatever they answer (the plan
/// test traces their statements).
async fn summarize_protect_release(server: &Server, cookie: &str, selection: &serde_json::Value) {
    server
        .post_json(
            "/api/selection/summary",
            cookie,
            &serde_json::json!({"selection": selection}),
        )
        .await;
    for action in ["protect", "release"] {
        let body = serde_json::json!({"action": action, "selection": selection, "reason": "plan"});
        server.post_json("/api/protection", cookie, &body).await;
    }
}

#[tokio::test]
async fn every_statement_the_store_runs_uses_a_key_or_a_bounded_range() {
    let server = start("plans").await;
    // Enough participants of one name that a text filter walks instead of searching.
    add_dense_conversations(&server, 6_000, 100);
    server.store.analyze().unwrap();
    let db = rusqlite::Connection::open(server._dir.0.join("db.sqlite3")).unwrap();
    scale_statistics(&db, 30_000);
    // And the same database as it is before any statistics exist (a new one, just filled).
    let bare_path = server._dir.0.join("bare.sqlite3");
    db.execute("VACUUM INTO ?", [bare_path.to_str().unwrap()])
        .unwrap();
    let bare = rusqlite::Connection::open(&bare_path).unwrap();
    bare.execute_batch("DROP TABLE sqlite_stat1; ANALYZE sqlite_schema;")
        .unwrap();
    server.sqlite().trace_statements(record_statement);

    let manager = server.login("manager").await;
    let admin = server.login("admin").await;
    let token = bearer(&server, "manager").await;
    server.get("/api/session", &manager).await;
    server.get("/api/org/status", &manager).await;
    for query in [
        "",
        "page=40&size=25",
        "sort=-date",
        "sort=duration",
        "sort=-duration",
        "sort=deletion",
        "sort=-deletion",
        "protected=yes",
        "protected=no&sort=deletion",
        "media=chat&sort=deletion",
        "direction=outbound",
        "queue=Billing",
        "agent=Chen",
        "agent=Ch",
        "remote=555",
        "agent=Dense%20Agent",
        "agent=Dense%20Agent&queue=Dense%20A&sort=-deletion",
        "agent=Dense%20Agent&from=2026-01-01T01:31:40Z",
        "remote=%2B44%20999",
        "agent=Rare%20Person",
        "recorded=no",
        "deletedBefore=2027-01-01T00:00:00Z",
        "from=2026-10-01T00:00:00Z&to=2026-10-15T00:00:00Z",
    ] {
        assert_eq!(
            server
                .get(&format!("/api/conversations?{query}"), &manager)
                .await
                .status,
            200
        );
    }
    let ids = protectable_ids(&server, &manager, 100, 10).await;
    let conv = ids[0].clone();
    let rec = details(&server, &manager, &conv).await.recordings[0]
        .id
        .to_string();
    let by_ids = serde_json::json!({"kind": "ids", "ids": ids});
    let by_filter =
        serde_json::json!({"kind": "filter", "query": "queue=Billing", "except": [conv]});
    let by_dense_text =
        serde_json::json!({"kind": "filter", "query": "agent=Dense%20Agent", "except": [conv]});
    for selection in [&by_ids, &by_filter, &by_dense_text] {
        summarize_protect_release(&server, &manager, selection).await;
    }
    // Legal holds: created, filled by ids and by filter, listed, shown, released.
    let hold = server
        .post_json(
            "/api/holds",
            &manager,
            &serde_json::json!({"name": "Plans"}),
        )
        .await;
    hold.assert_status(201);
    let hold = hold.json()["id"].as_str().unwrap().to_owned();
    for selection in [&by_ids, &by_filter] {
        let body = serde_json::json!({"action": "protect", "selection": selection, "hold": hold});
        server.post_json("/api/protection", &manager, &body).await;
    }
    server
        .post_json(
            "/api/selection/summary",
            &manager,
            &serde_json::json!({"selection": by_filter}),
        )
        .await;
    let release_ids = serde_json::json!({"action": "release", "selection": by_ids});
    server
        .post_json("/api/protection", &manager, &release_ids)
        .await;
    server
        .get("/api/holds?q=plan", &manager)
        .await
        .assert_status(200);
    server
        .get(
            &format!("/api/holds/{}", holdfast_core::HoldId::DEFAULT),
            &manager,
        )
        .await
        .assert_status(200);
    server
        .get(&format!("/api/holds/{hold}"), &manager)
        .await
        .assert_status(200);
    // A hold opened as the interactions view, with other filters, and as a selection.
    let default_hold = holdfast_core::HoldId::DEFAULT;
    for query in [
        format!("hold={hold}"),
        format!("hold={hold}&sort=-deletion&page=2&size=10"),
        format!("hold={hold}&protected=no"),
        format!("hold={hold}&agent=Dense%20Agent"),
        format!("hold={hold}&agent=Rare%20Person&sort=duration"),
        format!("hold={default_hold}&media=chat"),
    ] {
        server
            .get(&format!("/api/conversations?{query}"), &manager)
            .await
            .assert_status(200);
    }
    for query in [
        format!("hold={hold}"),
        format!("hold={default_hold}&queue=Billing"),
    ] {
        let selection = serde_json::json!({"kind": "filter", "query": query, "except": [conv]});
        summarize_protect_release(&server, &manager, &selection).await;
    }
    details(&server, &manager, &conv).await;
    server
        .post_json(
            &format!("/api/holds/{hold}/release"),
            &manager,
            &serde_json::json!({}),
        )
        .await
        .assert_status(200);
    put_json(
        &server,
        &format!("/api/recordings/{rec}/deleteDate"),
        &manager,
        &serde_json::json!({"deleteDate": "2099-01-01T00:00:00Z"}),
    )
    .await;
    delete(
        &server,
        &format!("/api/recordings/{rec}/transcript"),
        &manager,
    )
    .await;
    delete(&server, &format!("/api/recordings/{rec}"), &manager).await;
    server
        .get(&format!("/api/recordings/{rec}/media"), &manager)
        .await;
    server
        .get(
            "/api/attachments/00000000-0000-4000-8000-000000000000",
            &manager,
        )
        .await;
    for query in [
        "",
        "action=ApplyProtection",
        "user=manager",
        &format!("conversation={conv}"),
        "from=2026-01-01T00:00:00Z&to=2027-01-01T00:00:00Z&page=2&size=10",
    ] {
        server.get(&format!("/api/audit?{query}"), &manager).await;
    }
    server.get("/api/audit.csv?action=Delete", &manager).await;
    let view = server
        .post_json(
            "/api/views",
            &manager,
            &serde_json::json!({"name": "Plans", "query": "protected=yes"}),
        )
        .await
        .json();
    server.get("/api/views", &manager).await;
    let view_path = format!("/api/views/{}", view["id"].as_str().unwrap());
    server
        .send(
            "PATCH",
            &view_path,
            &[
                ("cookie", manager.as_str()),
                ("content-type", "application/json"),
                ("x-holdfast-csrf", "1"),
            ],
            br#"{"name":"Plans 2"}"#,
        )
        .await;
    delete(&server, &view_path, &manager).await;
    server.get("/api/retention-policies", &admin).await;
    server
        .get("/api/retention/forecast?days=30", &manager)
        .await
        .assert_status(200);
    let policy = serde_json::json!({"name": "p", "order": 1, "enabled": true, "media": [], "queues": [], "direction": null, "action": {"kind": "keep"}});
    server
        .post_json("/api/retention-policies", &admin, &policy)
        .await;
    let ingest = serde_json::json!({"id": conv, "startTime": "2026-11-20T10:00:00Z", "endTime": "2026-11-20T10:05:00Z", "direction": "inbound",
        "agents": ["Plan Agent"], "recordings": [{"id": new_id(), "media": "chat", "role": "policy", "transcript": "hi"}]});
    server.post_json("/api/ingest", &admin, &ingest).await;
    let v2_ids = serde_json::json!({"conversationIds": ids});
    v2(
        &server,
        "PUT",
        "/api/v2/recordings/deletionprotection?protect=true",
        &token,
        &v2_ids,
    )
    .await;
    v2(
        &server,
        "POST",
        "/api/v2/recordings/deletionprotection",
        &token,
        &v2_ids,
    )
    .await;
    v2(
        &server,
        "PUT",
        "/api/v2/recordings/deletionprotection?protect=false",
        &token,
        &v2_ids,
    )
    .await;
    for cursor in ["", "&cursor=00000000-0000-4000-8000-000000000000"] {
        v2(
            &server,
            "GET",
            &format!(
                "/api/v2/recordings/retention/query?retentionThresholdDays=30&pageSize=25{cursor}"
            ),
            &token,
            &serde_json::json!(null),
        )
        .await
        .assert_status(200);
    }
    server
        .get(
            &format!("/api/holds/{}/report.csv", holdfast_core::HoldId::DEFAULT),
            &manager,
        )
        .await
        .assert_status(200);
    v2(
        &server,
        "GET",
        &format!("/api/v2/conversations/{conv}/recordingmetadata"),
        &token,
        &serde_json::json!(null),
    )
    .await;
    for (property, value) in [
        ("Action", "ApplyProtection"),
        ("EntityType", "Conversation"),
        ("EntityId", conv.as_str()),
        ("UserId", "00000000-0000-4000-8000-000000000000"),
    ] {
        let q = serde_json::json!({"interval": "2000-01-01T00:00:00Z/2100-01-01T00:00:00Z", "serviceName": "Quality",
            "filters": [{"property": property, "value": value}]});
        v2(&server, "POST", "/api/v2/audits/query/realtime", &token, &q).await;
    }
    let far_future = holdfast_core::time::parse("2200-01-01T00:00:00Z").unwrap();
    holdfast_server::usecase::deletion::sweep(server.store.as_ref(), far_future, 50).unwrap();
    let org = server.store.find_org(demo::NORTHWIND).unwrap().unwrap();
    holdfast_server::audit_cli::verify(server.store.as_ref(), org)
        .unwrap()
        .unwrap();
    delete(&server, "/api/session", &manager).await;

    let statements = std::mem::take(&mut *STATEMENTS.lock().unwrap());
    let mut shapes: Vec<(String, String)> =
        statements.into_iter().map(|s| (shape(&s), s)).collect();
    shapes.sort();
    shapes.dedup_by(|a, b| a.0 == b.0);
    let mut explained = 0;
    let mut wrong = Vec::new();
    for (_, sql) in &shapes {
        let head = sql.trim_start().to_ascii_uppercase();
        if !["SELECT", "INSERT", "UPDATE", "DELETE", "WITH"]
            .iter()
            .any(|k| head.starts_with(k))
        {
            continue;
        }
        explained += 1;
        for (stats, conn) in [("scaled statistics", &db), ("no statistics", &bare)] {
            let plan: Vec<String> = conn
                .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
                .unwrap_or_else(|e| panic!("{e}: {sql}"))
                .query_map([], |r| r.get::<_, String>(3))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            if std::env::var_os("HOLDFAST_PRINT_PLANS").is_some() {
                eprintln!("{stats}: {sql}\n    {}\n", plan.join("\n    "));
            }
            let subqueries: Vec<&str> = plan
                .iter()
                .filter_map(|d| {
                    d.strip_prefix("CO-ROUTINE ")
                        .or(d.strip_prefix("MATERIALIZE "))
                })
                .collect();
            let scans = plan.iter().any(|d| full_scan(d, &subqueries));
            let by_id = sql.contains("c.id IN ('") && !plan.iter().any(|d| d.contains("AND id=?)"));
            // A hold's interactions are found from the hold and looked up by key (or among the
            // protected ones), never by walking the organization's interactions.
            let of_hold = sql.contains("c.id IN (SELECT m.conversation_id FROM hold_members")
                || sql.contains("c.id IN (SELECT p.conversation_id FROM protections p")
                || ((sql.contains("FROM hold_members m") || sql.contains("FROM protections p"))
                    && sql.contains("JOIN conversations c"));
            let by_hold = of_hold
                && !plan
                    .iter()
                    .any(|d| d.contains("AND id=?)") || d.contains("conversations_org_protected"));
            if scans || by_id || by_hold {
                wrong.push(format!("with {stats}: {sql}\n    {}", plan.join("\n    ")));
            }
        }
    }
    assert!(
        explained > 60,
        "the story ran {explained} statements of the store"
    );
    assert!(
        wrong.is_empty(),
        "{} of {explained} statements scan or miss their key:\n{}",
        wrong.len(),
        wrong.join("\n\n")
    );
}

#[tokio::test]
async fn the_interactions_total_is_exact_up_to_its_bound_and_says_so_beyond() {
    the_interactions_total_is_exact_up_to_its_bound_and_says_so_beyond_on(Backend::Sqlite).await;
}

async fn the_interactions_total_is_exact_up_to_its_bound_and_says_so_beyond_on(backend: Backend) {
    use holdfast_core::api::TOTAL_BOUND;
    let server = start_on("bound", &backend).await;
    let cookie = server.login("manager").await;
    let org = server.store.find_org(demo::NORTHWIND).unwrap().unwrap();
    let start = holdfast_core::time::parse("2026-01-01T00:00:00Z").unwrap();
    let extra = TOTAL_BOUND as usize + 1 - 300;
    let batch: Vec<holdfast_server::store::NewConversation> = (0..extra)
        .map(|i| holdfast_server::store::NewConversation {
            id: holdfast_core::ConversationId::from_uuid(uuid::Uuid::new_v4()),
            start_time: start + chrono::Duration::seconds(i as i64),
            end_time: start + chrono::Duration::seconds(i as i64 + 60),
            direction: holdfast_core::Direction::Outbound,
            queue: Some("Bulk".to_owned()),
            agents: vec![],
            remote_party: None,
            wrap_up: None,
            recordings: vec![],
            protected_by: None,
        })
        .collect();
    server.store.insert_conversations(org, &batch).unwrap();
    let page = |query: &'static str| {
        let (server, cookie) = (&server, &cookie);
        async move {
            let p: ConversationPage = server
                .get(&format!("/api/conversations?{query}"), cookie)
                .await
                .parse();
            (p.total, p.total_exact, p.entities.len())
        }
    };
    // 10,001 match: counting stops at the bound and says so.
    assert_eq!(page("").await, (TOTAL_BOUND, false, 25));
    // Exactly the bound (all but the first bulk one), and fewer: exact.
    assert_eq!(
        page("from=2026-01-01T00:00:01Z").await,
        (TOTAL_BOUND, true, 25)
    );
    assert_eq!(
        page("queue=Bulk&page=389").await,
        (TOTAL_BOUND - 299, true, 1)
    );
    assert_eq!(page("protected=yes").await, (40, true, 25));
    // The unprotected: all 10,001 less the 40 protected, counted through their own index.
    assert_eq!(page("protected=no").await, (TOTAL_BOUND - 39, true, 25));
    assert_eq!(page("queue=Nothing").await, (0, true, 0));
    // Pages past the bound are still served: rows 10,001 and on of everything.
    assert_eq!(page("page=401").await, (TOTAL_BOUND, false, 1));

    // The summary counts the same way: the protected exactly, the 10,001 added without a
    // recording past the bound, the protectable exactly below it.
    let more: Vec<holdfast_server::store::NewConversation> = batch
        .iter()
        .take(300)
        .map(|c| holdfast_server::store::NewConversation {
            id: holdfast_core::ConversationId::from_uuid(uuid::Uuid::new_v4()),
            ..c.clone()
        })
        .collect();
    // A total is counted once per reader and kept while the data stays as it was...
    for _ in 0..6 {
        assert_eq!(page("queue=Bulk").await, (TOTAL_BOUND - 299, true, 25));
    }
    server.store.insert_conversations(org, &more).unwrap();
    // ...and counted again once anything was written.
    for _ in 0..6 {
        assert_eq!(page("queue=Bulk").await, (TOTAL_BOUND, false, 25));
    }
    // 10,301 less 40 is past the bound, and said so.
    assert_eq!(page("protected=no").await, (TOTAL_BOUND, false, 25));
    let summary: SummaryResponse = server
        .post_json(
            "/api/selection/summary",
            &cookie,
            &serde_json::json!({"selection": {"kind": "filter", "query": "", "except": []}}),
        )
        .await
        .parse();
    let demo: SummaryResponse = server
        .post_json("/api/selection/summary", &cookie, &serde_json::json!({"selection": {"kind": "filter", "query": "from=2026-02-01T00:00:00Z", "except": []}}))
        .await
        .parse();
    assert_eq!(demo.summary.matching(), Count::Exact(300));
    assert_eq!(
        (
            summary.summary.protected,
            summary.summary.protectable,
            summary.summary.without_recording
        ),
        (
            40,
            demo.summary.protectable,
            Count::MoreThan(TOTAL_BOUND as u32)
        )
    );
    // Releasing all of them needs only the protected ones: planned and done exactly.
    let release = serde_json::json!({"action": "release", "selection": {"kind": "filter", "query": "", "except": []}});
    let done = server
        .post_json("/api/protection", &cookie, &release)
        .await
        .json();
    assert_eq!(done["changed"], 40);
    assert_eq!(
        done["unchanged"],
        serde_json::json!({"moreThan": TOTAL_BOUND + demo.summary.protectable.exact().unwrap() as u64})
    );
}

/// The schema as SQLite stores it: every table, index, trigger and view with its definition.
fn schema(path: &std::path::Path) -> Vec<(String, String, Option<String>)> {
    let db = rusqlite::Connection::open(path).unwrap();
    db.prepare("SELECT type, name, sql FROM sqlite_schema WHERE name NOT LIKE 'sqlite_stat%' ORDER BY type, name")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[tokio::test]
async fn a_store_filled_with_demo_data_keeps_every_index_and_trigger_of_a_new_one() {
    let server = start("fill").await;
    let fresh = TempDir::new("fresh");
    SqliteStore::open(&fresh.0.join("db.sqlite3")).unwrap();
    let filled = schema(&server._dir.0.join("db.sqlite3"));
    assert_eq!(filled, schema(&fresh.0.join("db.sqlite3")));
    assert_eq!(filled.iter().filter(|(t, _, _)| t == "trigger").count(), 7);
    // The summary columns the fill wrote equal what the triggers keep, and the search index
    // holds every participant.
    assert_denormalized_consistent(&server);
    let db = rusqlite::Connection::open(server._dir.0.join("db.sqlite3")).unwrap();
    let name: String = db
        .query_row(
            "SELECT name FROM participants WHERE kind = 'agent' LIMIT 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let part = format!("\"{}\"", name.chars().skip(1).take(4).collect::<String>());
    let count = |sql: &str, arg: &str| -> i64 { db.query_row(sql, [arg], |r| r.get(0)).unwrap() };
    let by_index = count(
        "SELECT COUNT(*) FROM participant_search WHERE participant_search MATCH ?",
        &part,
    );
    let by_scan = count(
        "SELECT COUNT(*) FROM participants WHERE instr(lower(name), lower(?)) > 0",
        part.trim_matches('"'),
    );
    assert_eq!(by_index, by_scan, "{part}");
    assert!(by_scan > 0, "the probe {part} matches its own participant");
    let integrity: String = db
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(integrity, "ok");
}

/// `n` conversations in Northwind without recordings, one a second from 2026-01-01, each with
/// the agent `agent`, the remote party `+44 999 <i>` and the queue `Dense A` or `Dense B` in
/// turn; every `rare`-th one also has the agent `Rare Person`. Answers their ids, oldest first.
fn add_dense_conversations(server: &Server, n: usize, rare: usize) -> Vec<String> {
    let org = server.store.find_org(demo::NORTHWIND).unwrap().unwrap();
    let start = holdfast_core::time::parse("2026-01-01T00:00:00Z").unwrap();
    let batch: Vec<holdfast_server::store::NewConversation> = (0..n)
        .map(|i| {
            let mut agents = vec!["Dense Agent".to_owned()];
            if i.is_multiple_of(rare) {
                agents.push("Rare Person".to_owned());
            }
            holdfast_server::store::NewConversation {
                id: holdfast_core::ConversationId::from_uuid(uuid::Uuid::new_v4()),
                start_time: start + chrono::Duration::seconds(i as i64),
                end_time: start + chrono::Duration::seconds(i as i64 + 60),
                direction: holdfast_core::Direction::Inbound,
                queue: Some(if i % 2 == 0 { "Dense A" } else { "Dense B" }.to_owned()),
                agents,
                remote_party: Some(format!("+44 999 {i:05}")),
                wrap_up: None,
                recordings: vec![],
                protected_by: None,
            }
        })
        .collect();
    server.store.insert_conversations(org, &batch).unwrap();
    batch.iter().map(|c| c.id.to_string()).collect()
}

#[tokio::test]
async fn a_text_filter_answers_the_same_whether_its_matches_are_searched_or_walked() {
    a_text_filter_answers_the_same_whether_its_matches_are_searched_or_walked_on(Backend::Sqlite)
        .await;
}

async fn a_text_filter_answers_the_same_whether_its_matches_are_searched_or_walked_on(
    backend: Backend,
) {
    use holdfast_core::api::TEXT_TOTAL_BOUND;
    let server = start_on("text-plans", &backend).await;
    let cookie = server.login("manager").await;
    // 6,000 participants named "Dense Agent" are more than a search takes (5,000): their rows
    // are walked in the page's order and counted from the index. The 60 "Rare Person" ones
    // are searched.
    let ids = add_dense_conversations(&server, 6_000, 100);
    let newest = |filter: &dyn Fn(usize) -> bool, skip: usize, take: usize| -> Vec<String> {
        (0..ids.len())
            .rev()
            .filter(|i| filter(*i))
            .skip(skip)
            .take(take)
            .map(|i| ids[i].clone())
            .collect()
    };
    let oldest = |filter: &dyn Fn(usize) -> bool, take: usize| -> Vec<String> {
        (0..ids.len())
            .filter(|i| filter(*i))
            .take(take)
            .map(|i| ids[i].clone())
            .collect()
    };
    let page = |query: String| {
        let (server, cookie) = (&server, &cookie);
        async move {
            let p: ConversationPage = server
                .get(&format!("/api/conversations?{query}"), cookie)
                .await
                .parse();
            let ids: Vec<String> = p.entities.iter().map(|e| e.id.to_string()).collect();
            (p.total, p.total_exact, ids)
        }
    };
    let all = |_: usize| true;
    let queue_b = |i: usize| i % 2 == 1;
    let rare = |i: usize| i.is_multiple_of(100);
    let last_500 = |i: usize| i >= 5_500;
    // A query, and the page it gives: the total, whether it is exact, the ids in order.
    type Case = (String, (u64, bool, Vec<String>));
    let cases: Vec<Case> = vec![
        // Walked, counted from the index up to its bound.
        (
            "agent=Dense%20Agent".into(),
            (TEXT_TOTAL_BOUND, false, newest(&all, 0, 25)),
        ),
        (
            "agent=dense%20agent&page=3".into(),
            (TEXT_TOTAL_BOUND, false, newest(&all, 50, 25)),
        ),
        (
            "agent=Dense%20Agent&queue=Dense%20B&sort=date".into(),
            (TEXT_TOTAL_BOUND, false, oldest(&queue_b, 25)),
        ),
        (
            "agent=ense%20Agen&from=2026-01-01T01:31:40Z".into(),
            (500, true, newest(&last_500, 0, 25)),
        ),
        (
            "remote=%2B44%20999&size=50".into(),
            (TEXT_TOTAL_BOUND, false, newest(&all, 0, 50)),
        ),
        // Both: the remote party is searched (1,000 match) and counted in that pass.
        (
            "remote=44%20999%2005&agent=Dense".into(),
            (1_000, true, newest(&|i| i >= 5_000, 0, 25)),
        ),
        // Searched, counted in the same pass.
        (
            "agent=Rare%20Person".into(),
            (60, true, newest(&rare, 0, 25)),
        ),
        (
            "agent=rare%20person&page=3".into(),
            (60, true, newest(&rare, 50, 10)),
        ),
        (
            "agent=Rare%20Person&queue=Dense%20B".into(),
            (0, true, vec![]),
        ),
        (
            "remote=999%2000100".into(),
            (1, true, newest(&|i| i == 100, 0, 1)),
        ),
        // A text too short for a trigram is walked and counted in the rows, to the full bound.
        (
            "remote=99&queue=Dense%20A".into(),
            (3_000, true, newest(&|i| i % 2 == 0, 0, 25)),
        ),
        // Without a text filter the bound is the view's.
        (
            "queue=Dense%20A".into(),
            (3_000, true, newest(&|i| i % 2 == 0, 0, 25)),
        ),
    ];
    for (query, expected) in cases {
        assert_eq!(page(query.clone()).await, expected, "{query}");
    }

    // The summary counts the same way: without a recording past the text bound, and exactly
    // under it; none of them is protectable.
    let summary = |query: &'static str| {
        let (server, cookie) = (&server, &cookie);
        async move {
            let s: SummaryResponse = server
                .post_json(
                    "/api/selection/summary",
                    cookie,
                    &serde_json::json!({"selection": {"kind": "filter", "query": query, "except": []}}),
                )
                .await
                .parse();
            (
                s.summary.protected,
                s.summary.protectable,
                s.summary.without_recording,
            )
        }
    };
    let more = Count::MoreThan(TEXT_TOTAL_BOUND as u32);
    assert_eq!(
        summary("agent=Dense%20Agent").await,
        (0, Count::Exact(0), more)
    );
    assert_eq!(
        summary("agent=Dense%20Agent&from=2026-01-01T01:31:40Z").await,
        (0, Count::Exact(0), Count::Exact(500))
    );
    assert_eq!(
        summary("agent=Rare%20Person").await,
        (0, Count::Exact(0), Count::Exact(60))
    );
}

#[tokio::test]
async fn stored_bytes_are_kept_and_served_only_as_inert_types() {
    stored_bytes_are_kept_and_served_only_as_inert_types_on(Backend::Sqlite).await;
}

async fn stored_bytes_are_kept_and_served_only_as_inert_types_on(backend: Backend) {
    let server = start_on("inert", &backend).await;
    let admin = server.login("admin").await;
    let conv = new_id();
    let (html, script, call) = (new_id(), new_id(), new_id());
    let page = b"<html><script src=\"/api/recordings/x/media\"></script></html>";
    let body = serde_json::json!({
    "id": conv, "startTime": "2026-11-20T10:00:00Z", "endTime": "2026-11-20T10:05:00Z", "direction": "inbound",
    "recordings": [
        {"id": html, "media": "email", "role": "policy", "mediaBase64": b64(page), "contentType": "text/html; charset=utf-8",
         "attachments": [
            {"name": "logo.svg", "contentType": "image/svg+xml", "dataBase64": b64(b"<svg onload=alert(1)/>")},
            {"name": "notes \"x\".txt", "contentType": "text/plain; charset=latin1", "dataBase64": b64(b"notes")},
            {"name": "scan.png", "contentType": "image/png", "dataBase64": b64(b"\x89PNG")}]},
        {"id": script, "media": "email", "role": "policy", "mediaBase64": b64(b"fetch('/api/views')"), "contentType": "text/javascript"},
        {"id": call, "media": "call", "role": "policy", "mediaBase64": b64(b"RIFF"), "contentType": "Audio/WAV; rate=8000"}
    ]});
    server
        .post_json("/api/ingest", &admin, &body)
        .await
        .assert_status(201);
    // How each is sent: type, disposition; every one in a sandbox, never sniffed.
    let served = |path: String| {
        let (server, admin) = (&server, &admin);
        async move {
            let r = server.get(&path, admin).await;
            assert_eq!(r.status, 200, "{path}");
            assert_eq!(
                r.header("content-security-policy"),
                Some(holdfast_core::content::SANDBOX_CSP),
                "{path}"
            );
            assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
            (
                r.header("content-type").unwrap().to_owned(),
                r.header("content-disposition").unwrap().to_owned(),
            )
        }
    };
    let opaque = "application/octet-stream".to_owned();
    assert_eq!(
        served(format!("/api/recordings/{html}/media")).await,
        (opaque.clone(), "attachment".to_owned())
    );
    assert_eq!(
        served(format!("/api/recordings/{script}/media")).await,
        (opaque.clone(), "attachment".to_owned())
    );
    assert_eq!(
        served(format!("/api/recordings/{call}/media")).await,
        ("audio/wav".to_owned(), "inline".to_owned())
    );
    let d = details(&server, &admin, &conv).await;
    let rec = d
        .recordings
        .iter()
        .find(|r| r.id.to_string() == html)
        .unwrap();
    let mut attachments = Vec::new();
    for a in &rec.attachments {
        let (ty, disposition) = served(format!("/api/attachments/{}", a.id)).await;
        attachments.push((a.name.clone(), a.content_type.clone(), ty, disposition));
    }
    attachments.sort();
    let row = |name: &str, kept: &str, disposition: &str| {
        (
            name.to_owned(),
            kept.to_owned(),
            kept.to_owned(),
            disposition.to_owned(),
        )
    };
    assert_eq!(
        attachments,
        vec![
            row(
                "logo.svg",
                "application/octet-stream",
                "attachment; filename=\"logo.svg\""
            ),
            row(
                "notes \"x\".txt",
                "text/plain; charset=utf-8",
                "attachment; filename=\"notes x.txt\""
            ),
            row("scan.png", "image/png", "attachment; filename=\"scan.png\""),
        ]
    );
    // The application's own pages keep the application's policy.
    let app = server.get("/", &admin).await;
    assert_eq!(
        app.header("content-security-policy"),
        Some(holdfast_server::http::CSP)
    );
}

/// Sends `head` (request line and headers, without the blank line) from `local` (an address
/// of 127.0.0.0/8), then `body` a byte every `pause`, and answers the status line and the error
/// code of what comes back, reading until the server closes or 20 s pass.
async fn dribble(
    server: &Server,
    local: &str,
    head: &str,
    body: &[u8],
    pause: std::time::Duration,
) -> (String, String) {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind(format!("{local}:0").parse().unwrap()).unwrap();
    let stream = socket.connect(server.addr).await.unwrap();
    let (mut read, mut write) = stream.into_split();
    write
        .write_all(format!("{head}\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let body = body.to_vec();
    let sender = tokio::spawn(async move {
        for b in body {
            tokio::time::sleep(pause).await;
            if write.write_all(&[b]).await.is_err() {
                break;
            }
        }
        write
    });
    let mut raw = Vec::new();
    let _ = tokio::time::timeout(
        std::time::Duration::from_secs(20),
        read.read_to_end(&mut raw),
    )
    .await;
    sender.abort();
    let raw = String::from_utf8_lossy(&raw).into_owned();
    let status = raw.lines().next().unwrap_or("").to_owned();
    let body = raw.split("\r\n\r\n").nth(1).unwrap_or("");
    let code = serde_json::from_str::<serde_json::Value>(body).unwrap_or_default()["code"]
        .as_str()
        .unwrap_or("")
        .to_owned();
    (status, code)
}

/// [`dribble`] without a body: what the server answers to the head alone.
async fn send_head(server: &Server, head: &str) -> (String, String) {
    dribble(server, "127.0.0.1", head, b"", std::time::Duration::ZERO).await
}

#[tokio::test]
async fn a_slow_body_is_cut_off_and_a_large_one_is_not_read_before_sign_in() {
    let body_time = holdfast_server::http::BodyTime {
        base: std::time::Duration::from_secs(1),
        slowest_rate: 1 << 20,
    };
    let server = start_tuned("slow", body_time, Default::default()).await;
    // 200 bytes promised, one sent every 100 ms: cut off after the second it may take, long
    // before the 20 s it would need.
    let answer = dribble(
        &server,
        "127.0.0.1",
        "POST /api/session HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nX-Holdfast-Csrf: 1\r\nContent-Length: 200",
        &[b' '; 200],
        std::time::Duration::from_millis(100),
    )
    .await;
    // Only the deadline answers 408: sent in full, the body would be refused as bad JSON.
    assert_eq!(
        answer,
        (
            "HTTP/1.1 408 Request Timeout".to_owned(),
            "request.timeout".to_owned()
        )
    );
    // An ingest of 50 MB without credentials is refused on its headers, no byte of it read.
    assert_eq!(
        send_head(
            &server,
            "POST /api/ingest HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: 50000000",
        )
        .await,
        ("HTTP/1.1 401 Unauthorized".to_owned(), "not.authorized".to_owned())
    );
}

/// Signs in as `username` from `local`; answers the status, the error code (or "ok") and the
/// `Retry-After` header.
async fn sign_in_from(
    addr: SocketAddr,
    local: &str,
    username: &str,
    password: &str,
) -> (u16, String, Option<String>) {
    let body = serde_json::json!({"username": username, "password": password}).to_string();
    let head = format!(
        "POST /api/session HTTP/1.1\r\nHost: t\r\nConnection: close\r\nContent-Type: application/json\r\nX-Holdfast-Csrf: 1\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind(format!("{local}:0").parse().unwrap()).unwrap();
    let mut stream = socket.connect(addr).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.unwrap();
    let raw = String::from_utf8_lossy(&raw).into_owned();
    let status: u16 = raw[9..12].parse().unwrap();
    let retry = raw
        .lines()
        .find_map(|l| l.strip_prefix("retry-after: "))
        .map(str::to_owned);
    let json: serde_json::Value =
        serde_json::from_str(raw.split("\r\n\r\n").nth(1).unwrap_or("")).unwrap();
    let code = json["code"].as_str().unwrap_or("ok").to_owned();
    (status, code, retry)
}

#[tokio::test]
async fn concurrent_wrong_passwords_are_counted_before_they_are_checked_and_never_lock_others_out()
{
    concurrent_wrong_passwords_are_counted_before_they_are_checked_and_never_lock_others_out_on(
        Backend::Sqlite,
    )
    .await;
}

async fn concurrent_wrong_passwords_are_counted_before_they_are_checked_and_never_lock_others_out_on(
    backend: Backend,
) {
    let checks = Arc::new(holdfast_server::auth::PasswordChecks::new(2, 64));
    let server = start_tuned_on("race", &backend, Default::default(), checks).await;
    let answers: Vec<(u16, String)> =
        sign_in_at_once(&server, "127.0.0.1", &["analyst"; 40], "wrong")
            .await
            .into_iter()
            .map(|(status, code, _)| (status, code))
            .collect();
    let expected: Vec<(u16, String)> = std::iter::repeat_n((401, "bad.credentials".to_owned()), 10)
        .chain(std::iter::repeat_n(
            (429, "too.many.requests".to_owned()),
            30,
        ))
        .collect();
    assert_eq!(answers, expected);
    // The eleventh from that address, even with the right password: refused, with the time.
    let (status, code, retry) =
        sign_in_from(server.addr, "127.0.0.1", "analyst", "holdfast-demo").await;
    assert_eq!((status, code.as_str()), (429, "too.many.requests"));
    let retry: u64 = retry.unwrap().parse().unwrap();
    assert!((890..=900).contains(&retry), "Retry-After {retry}");
    // From another address the account signs in (slowed, not locked); so does another account.
    assert_eq!(
        sign_in_from(server.addr, "127.0.0.2", "analyst", "holdfast-demo").await,
        (200, "ok".to_owned(), None)
    );
    assert_eq!(
        sign_in_from(server.addr, "127.0.0.1", "manager", "holdfast-demo").await,
        (200, "ok".to_owned(), None)
    );
}

#[tokio::test]
async fn password_checks_beyond_the_queue_are_answered_busy_at_once() {
    password_checks_beyond_the_queue_are_answered_busy_at_once_on(Backend::Sqlite).await;
}

async fn password_checks_beyond_the_queue_are_answered_busy_at_once_on(backend: Backend) {
    // One check at a time and two waiting. With the one permit taken, of 20 at once two wait
    // and 18 are told at once to come back; released, the two are checked (and fail).
    let checks = Arc::new(holdfast_server::auth::PasswordChecks::new(1, 2));
    let server = start_tuned_on("busy", &backend, Default::default(), checks.clone()).await;
    let held = checks.occupy().await.unwrap();
    let mut set = tokio::task::JoinSet::new();
    for i in 0..20 {
        let addr = server.addr;
        set.spawn(
            async move { sign_in_from(addr, "127.0.0.1", &format!("nobody{i}"), "wrong").await },
        );
    }
    let mut answers = Vec::new();
    while answers.len() < 18 {
        answers.push(set.join_next().await.unwrap().unwrap());
    }
    drop(held);
    answers.extend(set.join_all().await);
    answers.sort();
    let expected: Vec<(u16, String, Option<String>)> =
        std::iter::repeat_n((401, "bad.credentials".to_owned(), None), 2)
            .chain(std::iter::repeat_n(
                (503, "server.busy".to_owned(), Some("1".to_owned())),
                18,
            ))
            .collect();
    assert_eq!(answers, expected);
    // Busy answers were not counted: the address may still sign in.
    assert_eq!(
        sign_in_from(server.addr, "127.0.0.1", "manager", "holdfast-demo").await,
        (200, "ok".to_owned(), None)
    );
}

/// Signs in from `local` once per name, all at once; answers what each got, sorted.
async fn sign_in_at_once(
    server: &Server,
    local: &'static str,
    names: &[&str],
    password: &'static str,
) -> Vec<(u16, String, Option<String>)> {
    let mut set = tokio::task::JoinSet::new();
    for name in names {
        let (addr, name) = (server.addr, name.to_string());
        set.spawn(async move { sign_in_from(addr, local, &name, password).await });
    }
    let mut answers = set.join_all().await;
    answers.sort();
    answers
}

#[tokio::test]
async fn signing_out_ends_a_bearer_token_and_ambiguous_requests_are_refused() {
    signing_out_ends_a_bearer_token_and_ambiguous_requests_are_refused_on(Backend::Sqlite).await;
}

async fn signing_out_ends_a_bearer_token_and_ambiguous_requests_are_refused_on(backend: Backend) {
    let server = start_on("signout", &backend).await;
    let auth = bearer(&server, "manager").await;
    let status = |auth: String| {
        let server = &server;
        async move {
            server
                .send("GET", "/api/org/status", &[("authorization", &auth)], b"")
                .await
        }
    };
    status(auth.clone()).await.assert_status(200);
    let out = server
        .send("DELETE", "/api/session", &[("authorization", &auth)], b"")
        .await;
    out.assert_status(200);
    assert_eq!(out.json()["signedOut"], true);
    status(auth).await.assert_error(401, "not.authorized");

    // Two Host headers: refused.
    server
        .send("GET", "/healthz", &[("host", "elsewhere.example")], b"")
        .await
        .assert_error(400, "bad.request");
    // A body over the limit that waits for `100 Continue` is refused without one.
    assert_eq!(
        send_head(
            &server,
            "POST /api/session HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nX-Holdfast-Csrf: 1\r\nExpect: 100-continue\r\nContent-Length: 10000000",
        )
        .await,
        ("HTTP/1.1 413 Payload Too Large".to_owned(), "payload.too.large".to_owned())
    );
}

#[tokio::test]
async fn signed_checkpoints_catch_a_consistent_rewrite_and_a_cut_that_the_chain_alone_cannot() {
    signed_checkpoints_catch_a_consistent_rewrite_and_a_cut_that_the_chain_alone_cannot_on(
        Backend::Sqlite,
    )
    .await;
}

async fn signed_checkpoints_catch_a_consistent_rewrite_and_a_cut_that_the_chain_alone_cannot_on(
    backend: Backend,
) {
    use holdfast_server::audit_cli::verify_all;
    use holdfast_server::chain::{ChainCache, check_all};
    use holdfast_server::checkpoints::{self, Checkpointer};
    let server = start_on("checkpoints", &backend).await;
    let cookie = server.login("manager").await;
    let org = server.store.find_org(demo::NORTHWIND).unwrap().unwrap();
    let store = server.store.as_ref();
    let key_path = server._dir.0.join("signing.key");
    let file = server._dir.0.join("checkpoints.jsonl");
    let key = checkpoints::load_or_create_key(&key_path).unwrap();
    let public = key.verifying_key();
    assert_eq!(
        checkpoints::load_or_create_key(&key_path)
            .unwrap()
            .verifying_key(),
        public,
        "the key is kept"
    );
    let signer = Checkpointer::open(key, file.clone()).unwrap();
    let pass = || check_all(store, &ChainCache::default(), Some(&signer)).unwrap();
    let head = || store.audit_head(org).unwrap().unwrap().0;
    let protect = |n: usize| {
        let (server, cookie) = (&server, &cookie);
        async move {
            let ids = page_ids(server, cookie, "protected=no&recorded=yes&size=10").await;
            let body = serde_json::json!({"action": "protect", "selection": {"kind": "ids", "ids": ids[..n]}, "reason": "Case 7"});
            server
                .post_json("/api/protection", cookie, &body)
                .await
                .assert_status(200);
        }
    };
    // A checkpoint of each new head (Contoso's chain is empty: nothing to sign).
    pass();
    let first = head();
    protect(3).await;
    pass();
    pass();
    let second = head();
    assert_eq!(second, first + 3);
    let report = |server: &Server| {
        let signed = checkpoints::read(&file, &public).unwrap();
        let reports = verify_all(server.store.as_ref(), &signed).unwrap();
        let mut out: Vec<(String, String)> = reports
            .into_iter()
            .map(|r| {
                let chain = r.result.map_or_else(|e| e.to_string(), |n| n.to_string());
                let signed = r
                    .checkpoints
                    .map_or_else(|e| e.to_string(), |n| n.to_string());
                (r.org_name, format!("{chain}; {signed}"))
            })
            .collect();
        out.sort();
        (out, signed.bad_lines)
    };
    let ok = |n: u64, k: usize| (demo::NORTHWIND.to_owned(), format!("{n}; {k}"));
    let contoso = (demo::CONTOSO.to_owned(), "0; 0".to_owned());
    assert_eq!(
        report(&server),
        (vec![contoso.clone(), ok(second, 2)], vec![])
    );

    // Rewrite event first + 2 and recompute every later hash and the head, as someone with
    // write access to the database can: the chain verifies on its own, not against the key.
    let db = server.db();
    let stored = store.audit_chain_after(org, first, usize::MAX).unwrap().1;
    let mut prev =
        audit::ChainHash::from_hex(&store.audit_chain_after(org, first - 1, 1).unwrap().1[0].hash)
            .unwrap();
    for link in &stored {
        let mut event: audit::AuditEvent = serde_json::from_str(&link.bytes).unwrap();
        if event.seq == first + 2 {
            event.details.reason = Some("Nothing to see".to_owned());
        }
        let sealed = audit::seal(&event, &prev).unwrap();
        prev = audit::ChainHash::from_hex(&sealed.hash).unwrap();
        db.execute(
            "UPDATE audit_events SET event = ?1, hash = ?2 WHERE org_id = ?3 AND seq = ?4",
            raw![sealed.bytes, sealed.hash, org.to_string(), event.seq as i64],
        );
    }
    db.execute(
        "UPDATE audit_heads SET hash = ?1 WHERE org_id = ?2",
        raw![prev.to_hex(), org.to_string()],
    );
    let rewritten = audit::CheckpointBreak::Rewritten {
        checkpoint_seq: second,
        first_suspect: first + 1,
    };
    assert_eq!(
        report(&server),
        (
            vec![
                contoso.clone(),
                (demo::NORTHWIND.to_owned(), format!("{second}; {rewritten}"))
            ],
            vec![]
        )
    );
    // The server does not sign the rewritten head over the old one.
    pass();
    assert_eq!(std::fs::read_to_string(&file).unwrap().lines().count(), 2);

    // Cut the tail back to the first checkpoint, head and all: found as a cut.
    db.execute(
        "DELETE FROM audit_events WHERE org_id = ?1 AND seq > ?2",
        raw![org.to_string(), first as i64],
    );
    db.execute(
        "UPDATE audit_heads SET seq = ?1, hash = (SELECT hash FROM audit_events WHERE org_id = ?2 AND seq = ?1) WHERE org_id = ?2",
        raw![first as i64, org.to_string()],
    );
    let cut = audit::CheckpointBreak::Truncated {
        checkpoint_seq: second,
        last_seq: first,
    };
    assert_eq!(
        report(&server).0,
        vec![
            contoso,
            (demo::NORTHWIND.to_owned(), format!("{first}; {cut}"))
        ]
    );

    // A checkpoint edited in its file no longer counts, and is named.
    let text = std::fs::read_to_string(&file).unwrap();
    let forged = text.replacen(&format!("\"seq\":{second}"), &format!("\"seq\":{first}"), 1);
    std::fs::write(&file, forged).unwrap();
    let (reports, bad) = report(&server);
    assert_eq!(
        bad,
        vec![format!(
            "line 2 of {} is not a checkpoint signed by this key",
            file.display()
        )]
    );
    assert_eq!(reports[1], ok(first, 1));
}

#[tokio::test]
async fn a_full_or_read_only_store_answers_what_it_is_loses_nothing_and_says_so_on_healthz() {
    let server = start("storage").await;
    let cookie = server.login("manager").await;
    let org = server.store.find_org(demo::NORTHWIND).unwrap().unwrap();
    let ids = page_ids(&server, &cookie, "protected=no&recorded=yes&size=10").await;
    let ids = &ids[..5];
    let protect = serde_json::json!({"action": "protect", "selection": {"kind": "ids", "ids": ids}, "reason": "Case 9"});
    let before = server.store.org_status(org).unwrap().protected;
    let events = server.store.audit_head(org).unwrap().unwrap().0;
    // SQLite's own page limit: the file cannot grow, as on a full disk.
    server
        .sqlite()
        .with_writer(|c| {
            let pages: i64 = c.query_row("PRAGMA page_count", [], |r| r.get(0))?;
            c.query_row(&format!("PRAGMA max_page_count = {pages}"), [], |r| {
                r.get::<_, i64>(0)
            })
        })
        .unwrap();
    // Pages freed inside the file may take a few writes; then the file must grow. Protect and
    // release in turn until one is refused; what it would have changed is not kept.
    let release = serde_json::json!({"action": "release", "selection": {"kind": "ids", "ids": ids}, "reason": "Case 9"});
    let mut expected = before;
    let mut appended = 0;
    let mut refused = None;
    for i in 0..400 {
        let body = [&protect, &release][i % 2];
        let answer = server.post_json("/api/protection", &cookie, body).await;
        if answer.status != 200 {
            refused = Some(answer);
            break;
        }
        let changed = answer.json()["changed"].as_u64().unwrap() as u32;
        appended += u64::from(changed);
        expected = match i % 2 {
            0 => expected + changed,
            _ => expected - changed,
        };
    }
    let refused = refused.expect("the file filled up");
    refused.assert_error(507, "storage.full");
    assert_eq!(refused.header("retry-after"), Some("60"));
    assert_eq!(server.store.org_status(org).unwrap().protected, expected);
    assert_eq!(
        server.get("/healthz", "").await.json(),
        serde_json::json!({"status": "degraded", "storage": "full"})
    );
    // Read-only (SQLite's query_only answers as a read-only file does).
    server
        .sqlite()
        .with_writer(|c| {
            c.query_row("PRAGMA max_page_count = 1073741823", [], |r| {
                r.get::<_, i64>(0)
            })?;
            c.execute_batch("PRAGMA query_only = ON")
        })
        .unwrap();
    let writes = [&protect, &release];
    server
        .post_json(
            "/api/protection",
            &cookie,
            writes[usize::from(expected != before)],
        )
        .await
        .assert_error(503, "storage.read.only");
    assert_eq!(
        server.get("/healthz", "").await.json(),
        serde_json::json!({"status": "degraded", "storage": "read-only"})
    );
    // Nothing of the refused writes was kept, and the chain is whole.
    server
        .sqlite()
        .with_writer(|c| c.execute_batch("PRAGMA query_only = OFF"))
        .unwrap();
    assert_eq!(server.store.org_status(org).unwrap().protected, expected);
    let verified = holdfast_server::audit_cli::verify(server.store.as_ref(), org)
        .unwrap()
        .unwrap();
    // One event for each conversation each accepted protect or release changed, none more.
    assert_eq!(verified, events + appended);
    server
        .post_json(
            "/api/protection",
            &cookie,
            writes[usize::from(expected != before)],
        )
        .await
        .assert_status(200);
}

/// PostgreSQL's own read-only mode (as on a standby, or a database an administrator froze):
/// every write is answered 503 and kept nowhere, `/healthz` says why, and writes work again
/// once it is lifted. Connections the database closed meanwhile are answered 503 once each,
/// then replaced. (SQLite's full and read-only files are the test above.)
async fn a_read_only_postgres_answers_503_loses_nothing_and_says_so_on_healthz_on(
    backend: Backend,
) {
    assert!(matches!(backend, Backend::Postgres(_)), "a PostgreSQL test");
    let server = start_on("pg-read-only", &backend).await;
    let cookie = server.login("manager").await;
    let org = server.store.find_org(demo::NORTHWIND).unwrap().unwrap();
    let ids = page_ids(&server, &cookie, "protected=no&recorded=yes&size=10").await;
    let protect = serde_json::json!({"action": "protect", "selection": {"kind": "ids", "ids": &ids[..5]}, "reason": "Case 9"});
    let before = server.store.org_status(org).unwrap().protected;
    let events = server.store.audit_head(org).unwrap().unwrap().0;
    let db = server.db();
    let name = db.text("SELECT current_database()::text", &[]);
    let restart_sessions = || {
        db.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
             WHERE datname = current_database() AND pid <> pg_backend_pid()",
            &[],
        )
    };
    db.execute(
        &format!("ALTER DATABASE \"{name}\" SET default_transaction_read_only = on"),
        &[],
    );
    restart_sessions();
    // Until every closed connection has been met once: 503s only, then read-only ones.
    let mut codes = Vec::new();
    for _ in 0..40 {
        let answer = server.post_json("/api/protection", &cookie, &protect).await;
        assert_eq!(
            answer.status,
            503,
            "{}",
            String::from_utf8_lossy(&answer.body)
        );
        let code = answer.json()["code"].as_str().unwrap().to_owned();
        let done = code == "storage.read.only";
        codes.push(code);
        if done {
            break;
        }
    }
    assert_eq!(
        codes.last().map(String::as_str),
        Some("storage.read.only"),
        "{codes:?}"
    );
    assert!(
        codes
            .iter()
            .all(|c| c == "storage.failing" || c == "storage.read.only"),
        "{codes:?}"
    );
    assert_eq!(
        server.get("/healthz", "").await.json(),
        serde_json::json!({"status": "degraded", "storage": "read-only"})
    );
    // Lifted: nothing of the refused writes was kept, the chain is whole, and writes work.
    let rw = RawDb::Postgres(server.postgres.clone().unwrap());
    rw.batch(&format!(
        "BEGIN READ WRITE; ALTER DATABASE \"{name}\" RESET default_transaction_read_only; COMMIT;"
    ));
    restart_sessions();
    let mut answer = server.post_json("/api/protection", &cookie, &protect).await;
    for _ in 0..40 {
        if answer.status != 503 {
            break;
        }
        answer = server.post_json("/api/protection", &cookie, &protect).await;
    }
    answer.assert_status(200);
    let changed = answer.json()["changed"].as_u64().unwrap();
    let protectable = protectable_by_details(&server, &cookie, &ids[..5])
        .await
        .into_iter()
        .filter(|p| *p)
        .count() as u64;
    assert_eq!(changed, protectable);
    assert_eq!(
        u64::from(server.store.org_status(org).unwrap().protected),
        u64::from(before) + changed
    );
    let verified = holdfast_server::audit_cli::verify(server.store.as_ref(), org)
        .unwrap()
        .unwrap();
    assert_eq!(
        verified,
        events + changed,
        "one event a protection, none from the refused"
    );
}

#[test]
fn a_database_file_that_cannot_be_written_is_named_before_start() {
    let dir = TempDir::new("unwritable");
    let db = dir.0.join("holdfast.sqlite3");
    assert!(
        holdfast_server::store::sqlite::check_writable(&db).is_ok(),
        "nothing there yet"
    );
    std::fs::write(&db, b"").unwrap();
    assert!(holdfast_server::store::sqlite::check_writable(&db).is_ok());
    // A -shm that is not a writable file (a directory stands in for a stale read-only one, as
    // root may write any file).
    std::fs::create_dir(dir.0.join("holdfast.sqlite3-shm")).unwrap();
    let (file, _) = holdfast_server::store::sqlite::check_writable(&db).unwrap_err();
    assert_eq!(file, dir.0.join("holdfast.sqlite3-shm"));
}

/// The tests above that know only the HTTP API and the `Store` trait, run again on PostgreSQL.
/// `(name, test)` for each `name_on` function listed.
macro_rules! backend_tests {
    ($($test:ident),* $(,)?) => {
        &[$((stringify!($test), (|b| Box::pin($test(b))) as BackendTest)),*]
    };
}

const ON_POSTGRES: &[(&str, BackendTest)] = backend_tests![
    sign_in_sets_a_strict_http_only_cookie_and_refuses_wrong_passwords_on,
    repeated_failed_logins_are_rate_limited_on,
    every_api_call_needs_a_session_and_state_changes_need_the_csrf_header_on,
    interactions_are_listed_paged_and_scoped_to_the_organization_on,
    the_summary_of_a_filter_counts_every_kind_once_on,
    bad_input_gets_a_json_4xx_on,
    the_app_is_served_precompressed_with_a_strict_policy_on,
    protect_and_release_commit_with_one_audit_event_per_conversation_on,
    over_the_cap_nothing_changes_and_the_numbers_are_given_on,
    permissions_are_enforced_by_the_server_on,
    racing_clients_never_push_the_organization_past_its_cap_on,
    the_genesys_deletion_protection_api_works_like_genesys_on,
    genesys_recordings_read_and_update_their_delete_date_under_the_rules_on,
    the_audit_trail_filters_pages_exports_and_verifies_on,
    saved_views_are_per_user_and_validated_on,
    a_recording_that_joins_a_protected_conversation_is_protected_at_once_on,
    metrics_and_the_openapi_document_are_served_on,
    every_endpoint_against_every_role_and_the_other_organization_on,
    audit_filters_in_sql_agree_with_the_rule_in_core_on,
    body_limits_are_per_route_exact_and_checked_before_reading_on,
    the_interactions_total_is_exact_up_to_its_bound_and_says_so_beyond_on,
    a_text_filter_answers_the_same_whether_its_matches_are_searched_or_walked_on,
    stored_bytes_are_kept_and_served_only_as_inert_types_on,
    signing_out_ends_a_bearer_token_and_ambiguous_requests_are_refused_on,
    deletion_is_refused_while_protected_and_allowed_after_release_on,
    the_sweep_never_deletes_protected_recordings_and_catches_up_after_release_on,
    ingest_applies_retention_on_arrival_and_serves_media_with_ranges_on,
    bad_ingests_are_refused_whole_and_leave_nothing_on,
    import_reads_json_lines_and_names_the_first_bad_line_on,
    the_sweep_racing_protect_never_deletes_a_protected_recording_on,
    transcripts_and_attachments_follow_the_same_deletion_rule_on,
    ingest_takes_a_recording_of_megabytes_and_serves_it_back_byte_for_byte_on,
    concurrent_wrong_passwords_are_counted_before_they_are_checked_and_never_lock_others_out_on,
    password_checks_beyond_the_queue_are_answered_busy_at_once_on,
    tampering_with_a_stored_audit_event_is_detected_on,
    the_chain_status_checks_new_links_at_once_and_old_ones_within_its_period_on,
    signed_checkpoints_catch_a_consistent_rewrite_and_a_cut_that_the_chain_alone_cannot_on,
    media_verify_finds_missing_changed_and_unknown_files_on,
    media_and_attachments_upload_as_raw_bodies_with_their_checksums_on,
    a_read_only_postgres_answers_503_loses_nothing_and_says_so_on_healthz_on,
    the_release_preview_counts_exactly_what_the_next_sweep_deletes_on,
    the_deletion_forecast_says_what_each_sweep_then_deletes_on,
    legal_holds_cover_conversations_and_are_released_as_a_whole_on,
    a_hold_opens_as_the_interactions_view_with_every_filter_on,
    a_query_hold_catches_what_arrives_and_never_drops_one_silently_on,
    a_pasted_list_is_previewed_per_id_and_added_all_or_nothing_on,
    with_two_person_release_a_second_user_approves_on,
    the_genesys_retention_query_lists_what_is_retained_longer_than_the_threshold_on,
];

#[path = "support/throwaway_postgres.rs"]
mod throwaway_postgres;

/// The runtime a suite of backend tests runs its tests on, one after another, with the
/// server's logs shown with a failing test's output (a server error's cause is logged, not
/// answered); `HOLDFAST_TEST_LOG=debug` shows more.
fn suite_runtime() -> tokio::runtime::Runtime {
    let _ = tracing_subscriber::fmt()
        .with_max_level(match std::env::var("HOLDFAST_TEST_LOG").as_deref() {
            Ok("debug") => tracing::Level::DEBUG,
            _ => tracing::Level::ERROR,
        })
        .with_test_writer()
        .try_init();
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .unwrap()
}

/// Every test in [`ON_POSTGRES`] on one throwaway PostgreSQL, each in a database of its own.
#[test]
fn the_backend_neutral_tests_pass_on_postgres() {
    let runtime = suite_runtime();
    let pg = throwaway_postgres::ThrowawayPostgres::start();
    let mut admin = postgres::Client::connect(&pg.url(), postgres::NoTls).unwrap();
    // `HOLDFAST_PG_TESTS=name,name` runs only those.
    let only = std::env::var("HOLDFAST_PG_TESTS").ok();
    for (n, (name, test)) in ON_POSTGRES.iter().enumerate() {
        let name = name.trim_end_matches("_on");
        if only
            .as_ref()
            .is_some_and(|o| !o.split(',').any(|t| t == name))
        {
            continue;
        }
        admin
            .batch_execute(&format!("CREATE DATABASE test_{n}"))
            .unwrap();
        let url = pg.url();
        let url = format!(
            "{}/test_{n}",
            url.rsplit_once('/').map_or("", |(base, _)| base)
        );
        eprintln!("on PostgreSQL: {name}");
        runtime.block_on(test(Backend::Postgres(url)));
    }
    if only
        .as_ref()
        .is_none_or(|o| o.split(',').any(|t| t == "shared_bucket"))
    {
        eprintln!("on PostgreSQL: two instances sharing one bucket");
        admin.batch_execute("CREATE DATABASE test_shared").unwrap();
        let url = pg.url();
        let url = format!(
            "{}/test_shared",
            url.rsplit_once('/').map_or("", |(base, _)| base)
        );
        let moto = moto::Moto::start();
        moto.create_bucket("holdfast-media", true);
        runtime.block_on(two_instances_on_postgres_share_one_bucket(url, &moto));
    }
}

/// Two instances on one PostgreSQL and one bucket: what one protects, the bucket holds; what
/// the other releases, it lifts; an object the other stores joins the hold.
async fn two_instances_on_postgres_share_one_bucket(url: String, moto: &moto::Moto) {
    let settings = moto.settings("holdfast-media", "shared");
    demo::seed(&PgStore::connect(&url).unwrap(), 300, demo::fixed_now()).unwrap();
    let mut servers = Vec::new();
    for tag in ["shared-a", "shared-b"] {
        let dir = TempDir::new(tag);
        let store: Arc<dyn Store> = Arc::new(PgStore::connect(&url).unwrap());
        let media: Arc<dyn MediaStore> = Arc::new(
            holdfast_server::media::S3Media::open(&settings, dir.0.join("spool")).unwrap(),
        );
        let mut server = serve_store(
            dir,
            store,
            None,
            media,
            Default::default(),
            Default::default(),
        )
        .await;
        server.postgres = Some(url.clone());
        servers.push(server);
    }
    let (a, b) = (&servers[0], &servers[1]);
    let admin = a.login("admin").await;
    let manager = a.login("manager").await;
    let (conv, rec) = ingest_with_media(a, &admin, b"the call").await;
    // The other instance serves the bytes the first stored.
    let answer = b.get(&format!("/api/recordings/{rec}/media"), &admin).await;
    answer.assert_status(200);
    assert_eq!(answer.body, b"the call");

    protection(a, &manager, "protect", &conv)
        .await
        .assert_status(200);
    send_bytes(
        b,
        &admin,
        "POST",
        &format!("/api/recordings/{rec}/attachments?name=late.txt"),
        "text/plain",
        b"arrived later",
    )
    .await
    .assert_status(201);
    let keys = keys_of(b, &rec);
    let holds =
        || -> Vec<Option<String>> { keys.iter().map(|k| hold_in_bucket(&settings, k)).collect() };
    assert_eq!(holds(), vec![Some("ON".to_owned()); 3], "{keys:?}");

    protection(b, &manager, "release", &conv)
        .await
        .assert_status(200);
    assert_eq!(holds(), vec![Some("OFF".to_owned()); 3]);
    delete(a, &format!("/api/recordings/{rec}"), &admin)
        .await
        .assert_status(200);
    for key in &keys {
        assert_eq!(versions_in_bucket(&settings, key), 0, "{key}");
    }
}

#[tokio::test]
async fn the_deletion_forecast_says_what_each_sweep_then_deletes() {
    the_deletion_forecast_says_what_each_sweep_then_deletes_on(Backend::Sqlite).await;
}

/// The forecast of both organizations, day by day, against what the sweep deletes when run at
/// the end of each day: the same numbers. Protected recordings are never deleted and stay
/// counted apart.
async fn the_deletion_forecast_says_what_each_sweep_then_deletes_on(backend: Backend) {
    use holdfast_core::forecast::{Due, Forecast};
    let server = start_on("forecast", &backend).await;
    let northwind = server.login("manager").await;
    let contoso = server.login("contoso.manager").await;
    for bad in ["0", "367", "x", "-1"] {
        server
            .get(&format!("/api/retention/forecast?days={bad}"), &northwind)
            .await
            .assert_error(400, "bad.request");
    }
    let forecast = |cookie: String| {
        let server = &server;
        async move {
            let f: Forecast = server
                .get("/api/retention/forecast?days=30", &cookie)
                .await
                .parse();
            f
        }
    };
    let (a, b) = (
        forecast(northwind.clone()).await,
        forecast(contoso.clone()).await,
    );
    assert_eq!(a.days.len(), 30);
    assert_eq!(a.days[0].date, a.now.format("%Y-%m-%d").to_string());
    let default: Forecast = server
        .get("/api/retention/forecast", &northwind)
        .await
        .parse();
    assert_eq!(default.days.len(), 30);

    let media = server.media.clone();
    let sweep = |at: holdfast_core::time::Instant| {
        holdfast_server::sweep::run_once(server.store.as_ref(), media.as_ref(), at).unwrap() as u64
    };
    let now = a.now.max(b.now);
    assert_eq!(
        sweep(now),
        a.past_due.deletable + b.past_due.deletable,
        "the next sweep deletes what is past due"
    );
    let (start, _) = holdfast_core::forecast::window(now, 30);
    let mut swept_days = 0;
    let mut total = a.past_due.deletable + b.past_due.deletable;
    for last in [0usize, 1, 6, 29] {
        let end =
            start + chrono::Duration::days(last as i64 + 1) - chrono::Duration::milliseconds(1);
        let expected: u64 = (swept_days..=last)
            .map(|d| a.days[d].deletable + b.days[d].deletable)
            .sum();
        assert_eq!(sweep(end), expected, "the sweep at the end of day {last}");
        total += expected;
        swept_days = last + 1;
    }
    assert!(total > 0, "the demo data has recordings due within 30 days");
    // What was protected is all still there, in its day; nothing deletable is left in the 30.
    let protected = |f: &Forecast| -> u64 {
        f.past_due.protected + f.days.iter().map(|d| d.protected).sum::<u64>()
    };
    let after = forecast(northwind.clone()).await;
    assert!(
        protected(&a) > 0,
        "the demo data has protected recordings due"
    );
    assert_eq!(protected(&after), protected(&a));
    assert_eq!(
        after.days.iter().map(|d| d.deletable).sum::<u64>() + after.past_due.deletable,
        0
    );
    assert_eq!(
        after.past_due,
        Due {
            deletable: 0,
            protected: a.past_due.protected
        }
    );
}

#[tokio::test]
async fn legal_holds_cover_conversations_and_are_released_as_a_whole() {
    legal_holds_cover_conversations_and_are_released_as_a_whole_on(Backend::Sqlite).await;
}

/// Holds (matters) over the API: a hold is created, takes protectable and protected
/// interactions, keeps them protected against the Release button and the Genesys flag, and its
/// release lets go only what nothing else protects, exactly as its preview said; every change
/// is audited with the hold's id; another organization never sees it.
async fn legal_holds_cover_conversations_and_are_released_as_a_whole_on(backend: Backend) {
    use holdfast_core::holds::{HoldDetails, HoldInfo, HoldList, ReleaseCounts};
    let server = start_on("holds", &backend).await;
    let manager = server.login("manager").await;
    let analyst = server.login("analyst").await;
    let supervisor = server.login("supervisor").await;
    let contoso = server.login("contoso.manager").await;
    let me: Me = server.get("/api/session", &manager).await.parse();
    let events_before = server.store.audit_events(me.org_id).unwrap().len();
    let p = protectable_ids(&server, &manager, 100, 6).await;
    assert_eq!(p.len(), 6);
    let protect = |ids: &[String], hold: Option<&str>| serde_json::json!({"action": "protect", "selection": {"kind": "ids", "ids": ids}, "reason": "Case CV", "hold": hold});
    let release = |ids: &[String]| serde_json::json!({"action": "release", "selection": {"kind": "ids", "ids": ids}});

    // Creating: checked, owned by its creator, audited.
    for (body, status, code) in [
        (serde_json::json!({"name": "  "}), 400, "bad.request"),
        (
            serde_json::json!({"name": "x".repeat(121)}),
            400,
            "bad.request",
        ),
        (
            serde_json::json!({"name": "A", "caseReference": "a\u{7}"}),
            400,
            "bad.request",
        ),
        (serde_json::json!({"nom": "A"}), 400, "bad.request"),
    ] {
        server
            .post_json("/api/holds", &manager, &body)
            .await
            .assert_error(status, code);
    }
    server
        .post_json("/api/holds", &analyst, &serde_json::json!({"name": "A"}))
        .await
        .assert_error(403, "missing.permissions");
    let answer = server
        .post_json(
            "/api/holds",
            &manager,
            &serde_json::json!({"name": " Smith v. Northwind ", "caseReference": "CV-2026-114", "description": "Billing dispute\nfiled 2026-11-30"}),
        )
        .await;
    answer.assert_status(201);
    let smith: HoldInfo = answer.parse();
    assert_eq!(
        (
            smith.name.as_str(),
            smith.case_reference.as_deref(),
            smith.owner.as_str(),
            smith.conversations,
            smith.released_at
        ),
        (
            "Smith v. Northwind",
            Some("CV-2026-114"),
            "manager",
            0,
            None
        )
    );
    let hold_path = format!("/api/holds/{}", smith.id);
    let smith_id = smith.id.to_string();

    // p0 and p1 protected by the Protect button (the default hold); then p0..p3 into the hold:
    // two new protections, two already protected join it.
    let (before, _) = status(&server, &manager).await;
    server
        .post_json("/api/protection", &manager, &protect(&p[0..2], None))
        .await
        .assert_status(200);
    server
        .post_json("/api/protection", &supervisor, &protect(&p[4..5], None))
        .await
        .assert_status(200);
    let into = server
        .post_json(
            "/api/protection",
            &supervisor,
            &protect(&p[0..4], Some(&smith_id)),
        )
        .await;
    into.assert_status(200);
    let into = into.json();
    assert_eq!(
        (
            into["changed"].as_u64(),
            into["joined"].as_u64(),
            into["org"]["protected"].as_u64()
        ),
        (Some(2), Some(2), Some(before + 5))
    );
    // Again: everything is a member already.
    let again = server
        .post_json(
            "/api/protection",
            &manager,
            &protect(&p[0..4], Some(&smith_id)),
        )
        .await
        .json();
    assert_eq!(
        (again["changed"].as_u64(), again["joined"].as_u64()),
        (Some(0), Some(0))
    );

    // The list: the default hold first, each with what it covers now; the search.
    let list: HoldList = server.get("/api/holds", &manager).await.parse();
    let names: Vec<(&str, u32)> = list
        .entities
        .iter()
        .map(|h| (h.name.as_str(), h.conversations))
        .collect();
    let default_count = u32::try_from(before).unwrap() + 3;
    assert_eq!(
        names,
        vec![("Default hold", default_count), ("Smith v. Northwind", 4)]
    );
    let found: HoldList = server.get("/api/holds?q=cv-2026", &manager).await.parse();
    assert_eq!(
        found.entities.iter().map(|h| h.id).collect::<Vec<_>>(),
        vec![smith.id]
    );
    let none: HoldList = server.get("/api/holds?q=zzz", &manager).await.parse();
    assert_eq!(none.entities, vec![]);

    // Each interaction lists the holds that cover it.
    let holds_of = |id: String| {
        let server = &server;
        let manager = manager.clone();
        async move {
            details(server, &manager, &id)
                .await
                .holds
                .iter()
                .map(|h| h.name.clone())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        holds_of(p[0].clone()).await,
        vec!["Default hold", "Smith v. Northwind"]
    );
    assert_eq!(holds_of(p[2].clone()).await, vec!["Smith v. Northwind"]);
    assert_eq!(holds_of(p[5].clone()).await, Vec::<String>::new());

    // The Release button leaves what a legal hold covers protected.
    let summary = server
        .post_json(
            "/api/selection/summary",
            &manager,
            &serde_json::json!({"selection": {"kind": "ids", "ids": &p[0..5]}}),
        )
        .await
        .json();
    assert_eq!(
        (
            summary["summary"]["protected"].as_u64(),
            summary["summary"]["held"].as_u64()
        ),
        (Some(5), Some(4))
    );
    server
        .post_json("/api/protection", &manager, &release(&p[0..4]))
        .await
        .assert_error(409, "nothing.to.do");
    let released = server
        .post_json(
            "/api/protection",
            &manager,
            &release(&[p[0].clone(), p[4].clone()]),
        )
        .await
        .json();
    assert_eq!(released["changed"].as_u64(), Some(1));
    assert_eq!(
        released["outcomes"],
        serde_json::json!([{"id": p[0], "outcome": "unchanged"}, {"id": p[4], "outcome": "changed"}])
    );
    // So does the Genesys flag, and it says why.
    let token = bearer(&server, "manager").await;
    let genesys = v2(
        &server,
        "PUT",
        "/api/v2/recordings/deletionprotection?protect=false",
        &token,
        &serde_json::json!({"conversationIds": [p[2]]}),
    )
    .await;
    genesys.assert_status(200);
    assert_eq!(
        genesys.json()["failedUpdates"][0]["errorCode"].as_str(),
        Some("conversation.legal.hold")
    );
    assert_eq!(holds_of(p[2].clone()).await, vec!["Smith v. Northwind"]);

    // The hold's page: its interactions and what releasing it does (p0 and p1 stay protected
    // by the default hold; p2 and p3 become deletable).
    let page: HoldDetails = server.get(&hold_path, &manager).await.parse();
    assert_eq!(
        page.members
            .iter()
            .map(|m| m.id.to_string())
            .collect::<std::collections::BTreeSet<_>>(),
        p[0..4].iter().cloned().collect()
    );
    assert!(
        page.members
            .iter()
            .all(|m| m.added_by == "supervisor" && m.protected)
    );
    let preview = ReleaseCounts {
        covered: 4,
        stay_protected: 2,
        deletable: 2,
        past_due_recordings: page.release.past_due_recordings,
    };
    assert_eq!(page.release, preview);

    // The report: a row per recording of each interaction, with its checksum.
    let report = server
        .get(&format!("{hold_path}/report.csv"), &manager)
        .await;
    report.assert_status(200);
    assert_eq!(
        report.header("content-type"),
        Some("text/csv; charset=utf-8")
    );
    let text = String::from_utf8(report.body.to_vec()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("hold_id,hold_name,case_reference,hold_status,conversation_id,"));
    let mut expected_rows = 0;
    for id in &p[0..4] {
        let d = details(&server, &manager, id).await;
        expected_rows += d.recordings.len().max(1);
        for r in &d.recordings {
            let sha = server
                .store
                .media_file(me.org_id, r.id)
                .unwrap()
                .and_then(|f| f.sha256)
                .unwrap_or_default();
            let row = lines
                .iter()
                .find(|l| l.contains(&format!("\"{}\"", r.id)))
                .unwrap_or_else(|| panic!("a row for recording {}", r.id));
            assert!(
                row.starts_with(&format!(
                    "\"{}\",\"Smith v. Northwind\",\"CV-2026-114\",\"active\",\"{id}\"",
                    smith.id
                )),
                "{row}"
            );
            let why = r
                .date_reason
                .clone()
                .unwrap_or_else(|| holdfast_core::retention::DATE_REASON_UNRECORDED.to_owned());
            let set_at = r
                .date_set_at
                .map(holdfast_core::time::format)
                .unwrap_or_default();
            assert!(
                row.contains(&format!(",\"{why}\",\"{set_at}\",\"{sha}\",")),
                "{row}"
            );
            assert!(row.contains("\"supervisor\",\"Case CV\",\"true\""), "{row}");
        }
    }
    assert_eq!(lines.len() - 1, expected_rows);
    server
        .get(&format!("{hold_path}/report.csv"), &contoso)
        .await
        .assert_error(404, "not.found");

    // Releasing: the permission to revoke, an active legal hold, exactly what the preview said.
    let release_path = format!("{hold_path}/release");
    let settled = serde_json::json!({"reason": "Settled out of court"});
    server
        .post_json(&release_path, &supervisor, &settled)
        .await
        .assert_error(403, "missing.permissions");
    server
        .post_json(
            &format!("/api/holds/{}/release", holdfast_core::HoldId::DEFAULT),
            &manager,
            &settled,
        )
        .await
        .assert_error(409, "conflict");
    let (protected_before, _) = status(&server, &manager).await;
    let done = server.post_json(&release_path, &manager, &settled).await;
    done.assert_status(200);
    assert_eq!(done.parse::<ReleaseCounts>(), preview);
    assert_eq!(status(&server, &manager).await.0, protected_before - 2);
    assert_eq!(holds_of(p[0].clone()).await, vec!["Default hold"]);
    assert_eq!(holds_of(p[3].clone()).await, Vec::<String>::new());
    server
        .post_json(&release_path, &manager, &settled)
        .await
        .assert_error(409, "conflict");
    let after: HoldDetails = server.get(&hold_path, &manager).await.parse();
    assert_eq!(
        (
            after.hold.released_by.as_deref(),
            after.hold.conversations,
            after.members.len()
        ),
        (Some("manager"), 0, 4),
        "a released hold keeps its members for its report"
    );
    assert_eq!(
        after.members.iter().filter(|m| m.protected).count(),
        2,
        "only those the default hold covers are still protected"
    );
    server
        .post_json(
            "/api/protection",
            &manager,
            &protect(&p[5..6], Some(&smith_id)),
        )
        .await
        .assert_error(409, "hold.released");

    // Unknown, foreign and malformed holds.
    let unknown = holdfast_core::HoldId::from_uuid(uuid::Uuid::from_u128(77)).to_string();
    server
        .get(&format!("/api/holds/{unknown}"), &manager)
        .await
        .assert_error(404, "not.found");
    server
        .get(&hold_path, &contoso)
        .await
        .assert_error(404, "not.found");
    server
        .post_json(
            "/api/protection",
            &manager,
            &protect(&p[5..6], Some(&unknown)),
        )
        .await
        .assert_error(404, "hold.not.found");
    server
        .post_json(
            "/api/protection",
            &contoso,
            &protect(&p[5..6], Some(&smith_id)),
        )
        .await
        .assert_error(404, "hold.not.found");
    server
        .get("/api/holds/not-a-uuid", &manager)
        .await
        .assert_error(400, "bad.request");
    let mut with_hold = release(&p[5..6]);
    with_hold["hold"] = serde_json::json!(smith_id);
    server
        .post_json("/api/protection", &manager, &with_hold)
        .await
        .assert_error(400, "bad.request");

    // A filter into a hold: every protected interaction joins; at the cap, a new one does not fit.
    let matter: HoldInfo = server
        .post_json(
            "/api/holds",
            &manager,
            &serde_json::json!({"name": "Regulator inquiry"}),
        )
        .await
        .parse();
    let (protected_now, _) = status(&server, &manager).await;
    let filter = serde_json::json!({"action": "protect", "selection": {"kind": "filter", "query": "protected=yes", "except": []}, "hold": matter.id});
    let joined = server
        .post_json("/api/protection", &manager, &filter)
        .await
        .json();
    assert_eq!(
        (joined["changed"].as_u64(), joined["joined"].as_u64()),
        (Some(0), Some(protected_now))
    );
    server
        .store
        .set_cap(
            me.org_id,
            holdfast_core::Cap::new(u32::try_from(protected_now).unwrap()).unwrap(),
        )
        .unwrap();
    server
        .post_json(
            "/api/protection",
            &manager,
            &protect(&p[5..6], Some(&matter.id.to_string())),
        )
        .await
        .assert_error(409, "protection.limit.exceeded");

    // The audit trail: each change once, naming the hold.
    let events = server.store.audit_events(me.org_id).unwrap();
    let of_smith: Vec<(AuditAction, String)> = events[events_before..]
        .iter()
        .filter(|(e, _)| e.details.hold.as_deref() == Some(smith_id.as_str()))
        .map(|(e, _)| (e.action, e.entity_id.clone()))
        .collect();
    let mut expected = vec![
        (AuditAction::CreateHold, smith_id.clone()),
        (AuditAction::ApplyProtection, p[2].clone()),
        (AuditAction::ApplyProtection, p[3].clone()),
        (AuditAction::AddToHold, p[0].clone()),
        (AuditAction::AddToHold, p[1].clone()),
        (AuditAction::ReleaseHold, smith_id.clone()),
    ];
    let mut revoked = vec![
        (AuditAction::RevokeProtection, p[2].clone()),
        (AuditAction::RevokeProtection, p[3].clone()),
    ];
    revoked.sort_by(|a, b| a.1.cmp(&b.1));
    expected.extend(revoked);
    assert_eq!(of_smith, expected);
}

#[tokio::test]
async fn a_hold_opens_as_the_interactions_view_with_every_filter() {
    a_hold_opens_as_the_interactions_view_with_every_filter_on(Backend::Sqlite).await;
}

/// `hold=` in the interactions view: a legal hold's interactions (still covered, or as they
/// were when it was released) and the default hold's, with every other filter, sort, page,
/// summary and protect by filter; unknown and foreign holds match nothing.
async fn a_hold_opens_as_the_interactions_view_with_every_filter_on(backend: Backend) {
    use holdfast_core::api::ConversationRow;
    use holdfast_core::holds::HoldInfo;
    let server = start_on("hold-view", &backend).await;
    let manager = server.login("manager").await;
    let contoso = server.login("contoso.manager").await;
    let p = protectable_ids(&server, &manager, 100, 5).await;
    assert_eq!(p.len(), 5);
    let rows: ConversationPage = server
        .get(
            "/api/conversations?protected=no&recorded=yes&size=100",
            &manager,
        )
        .await
        .parse();
    let row = |id: &str| -> ConversationRow {
        rows.entities
            .iter()
            .find(|r| r.id.to_string() == id)
            .unwrap()
            .clone()
    };
    let hold: HoldInfo = server
        .post_json(
            "/api/holds",
            &manager,
            &serde_json::json!({"name": "View me"}),
        )
        .await
        .parse();
    let hold_id = hold.id.to_string();
    let default_id = holdfast_core::HoldId::DEFAULT.to_string();
    let (before, _) = status(&server, &manager).await;
    let protect = |ids: &[String], hold: Option<&str>| serde_json::json!({"action": "protect", "selection": {"kind": "ids", "ids": ids}, "reason": "View", "hold": hold});
    let page = |query: String| {
        let server = &server;
        let manager = manager.clone();
        async move {
            let page: ConversationPage = server
                .get(&format!("/api/conversations?{query}"), &manager)
                .await
                .parse();
            page
        }
    };
    // p0, p1 by the Protect button; p1, p2, p3 into the legal hold; p4 stays unprotected.
    server
        .post_json("/api/protection", &manager, &protect(&p[0..2], None))
        .await
        .assert_status(200);
    // The total a view keeps is never older than the hold: p1 joins without any interaction
    // changing.
    let empty = page(format!("hold={hold_id}")).await;
    assert_eq!((empty.total, empty.entities.len()), (0, 0));
    server
        .post_json(
            "/api/protection",
            &manager,
            &protect(&p[1..2], Some(&hold_id)),
        )
        .await
        .assert_status(200);
    let joined = page(format!("hold={hold_id}")).await;
    assert_eq!(
        (
            joined.total,
            joined
                .entities
                .iter()
                .map(|r| r.id.to_string())
                .collect::<Vec<_>>()
        ),
        (1, vec![p[1].clone()])
    );
    server
        .post_json(
            "/api/protection",
            &manager,
            &protect(&p[1..4], Some(&hold_id)),
        )
        .await
        .assert_status(200);

    let ids_of = |page: &ConversationPage| -> Vec<String> {
        page.entities.iter().map(|r| r.id.to_string()).collect()
    };
    // Newest first, as the view sorts by default (ties by id).
    let mut members: Vec<ConversationRow> = p[1..4].iter().map(|id| row(id)).collect();
    members.sort_by_key(|r| std::cmp::Reverse((r.start_time, r.id.to_string())));
    let newest: Vec<String> = members.iter().map(|r| r.id.to_string()).collect();
    let listed = page(format!("hold={hold_id}")).await;
    assert_eq!(ids_of(&listed), newest);
    assert_eq!((listed.total, listed.total_exact), (3, true));
    assert!(listed.entities.iter().all(|r| r.protected));
    // Sorted by duration, paged by two.
    let mut by_duration = members.clone();
    by_duration.sort_by_key(|r| (r.duration_ms, r.id.to_string()));
    let by_duration: Vec<String> = by_duration.iter().map(|r| r.id.to_string()).collect();
    let first = page(format!("hold={hold_id}&sort=duration&size=10")).await;
    assert_eq!(ids_of(&first), by_duration);
    // With another filter: the members of one direction, exactly.
    let direction = members[0].direction;
    let same: Vec<String> = members
        .iter()
        .filter(|r| r.direction == direction)
        .map(|r| r.id.to_string())
        .collect();
    let filtered = page(format!("hold={hold_id}&direction={}", direction.as_str())).await;
    assert_eq!(
        (ids_of(&filtered), filtered.total),
        (same.clone(), same.len() as u64)
    );

    // The default hold: what the Protect button protected, here and before.
    let default = page(format!("hold={default_id}&size=100")).await;
    assert_eq!(default.total, before + 2);
    let default_ids = ids_of(&default);
    assert!(default_ids.contains(&p[0]) && default_ids.contains(&p[1]));
    assert!(!default_ids.contains(&p[2]) && !default_ids.contains(&p[4]));

    // The summary and protect by filter read the same interactions.
    let summary = server
        .post_json(
            "/api/selection/summary",
            &manager,
            &serde_json::json!({"selection": {"kind": "filter", "query": format!("hold={hold_id}"), "except": []}}),
        )
        .await
        .json();
    assert_eq!(
        (
            summary["summary"]["protected"].as_u64(),
            summary["summary"]["held"].as_u64(),
            summary["summary"]["protectable"]["exact"].as_u64()
        ),
        (Some(3), Some(3), Some(0))
    );
    let by_filter = serde_json::json!({"action": "protect", "selection": {"kind": "filter", "query": format!("hold={hold_id}"), "except": []}});
    server
        .post_json("/api/protection", &manager, &by_filter)
        .await
        .assert_error(409, "nothing.to.do");

    // Released, the hold still opens on what it held; only p1 (the default hold's) stays
    // protected.
    server
        .post_json(
            &format!("/api/holds/{hold_id}/release"),
            &manager,
            &serde_json::json!({"reason": "Closed"}),
        )
        .await
        .assert_status(200);
    let released = page(format!("hold={hold_id}")).await;
    assert_eq!(ids_of(&released), newest);
    let still: Vec<String> = page(format!("hold={hold_id}&protected=yes"))
        .await
        .entities
        .iter()
        .map(|r| r.id.to_string())
        .collect();
    assert_eq!(still, vec![p[1].clone()]);
    let deletable = page(format!("hold={hold_id}&protected=no")).await;
    assert_eq!(deletable.total, 2);

    // Unknown and foreign holds match nothing; a malformed one is refused.
    let unknown = holdfast_core::HoldId::from_uuid(uuid::Uuid::from_u128(78)).to_string();
    let nothing = page(format!("hold={unknown}")).await;
    assert_eq!((nothing.total, nothing.entities.len()), (0, 0));
    let foreign: ConversationPage = server
        .get(&format!("/api/conversations?hold={hold_id}"), &contoso)
        .await
        .parse();
    assert_eq!((foreign.total, foreign.entities.len()), (0, 0));
    server
        .get("/api/conversations?hold=not-a-hold", &manager)
        .await
        .assert_error(400, "bad.request");
    // A saved view keeps it.
    server
        .post_json(
            "/api/views",
            &manager,
            &serde_json::json!({"name": "The hold", "query": format!("hold={hold_id}&sort=duration")}),
        )
        .await
        .assert_status(201);
}

#[tokio::test]
async fn a_query_hold_catches_what_arrives_and_never_drops_one_silently() {
    a_query_hold_catches_what_arrives_and_never_drops_one_silently_on(Backend::Sqlite).await;
}

/// A legal hold with a query covers what it matches when it is created and what arrives later
/// and matches; at the cap an arrival is not protected, and the hold, the audit trail and
/// `/metrics` say so.
async fn a_query_hold_catches_what_arrives_and_never_drops_one_silently_on(backend: Backend) {
    use holdfast_core::holds::{HoldDetails, HoldInfo, HoldList};
    let server = start_on("query-holds", &backend).await;
    let manager = server.login("manager").await;
    let admin = server.login("admin").await;
    let me: Me = server.get("/api/session", &manager).await.parse();
    let arrive = |queue: &str, role: &str, id: &str| {
        serde_json::json!({"id": id, "startTime": "2026-11-20T10:00:00Z", "endTime": "2026-11-20T10:05:00Z",
            "direction": "inbound", "queue": queue, "agents": ["Lena Legal"],
            "recordings": [{"id": new_id(), "media": "chat", "role": role, "transcript": "hello"}]})
    };

    // Queries that are not a description of an interaction are refused; one that matches more
    // than fits creates nothing.
    for (query, code) in [
        ("protected=yes", "bad.request"),
        (
            "queue=A&hold=00000000-0000-0000-0000-000000000000",
            "bad.request",
        ),
        ("sort=-date", "bad.request"),
        ("queue=A&queue=B", "bad.request"),
    ] {
        server
            .post_json(
                "/api/holds",
                &manager,
                &serde_json::json!({"name": "Q", "query": query}),
            )
            .await
            .assert_error(400, code);
    }
    let (protected, cap) = status(&server, &manager).await;
    let set_cap = |n: u64| {
        server
            .store
            .set_cap(
                me.org_id,
                holdfast_core::Cap::new(u32::try_from(n).unwrap()).unwrap(),
            )
            .unwrap()
    };
    set_cap(protected + 5);
    server
        .post_json(
            "/api/holds",
            &manager,
            &serde_json::json!({"name": "Everything inbound", "query": "direction=inbound"}),
        )
        .await
        .assert_error(409, "protection.limit.exceeded");
    let list: HoldList = server.get("/api/holds", &manager).await.parse();
    assert_eq!(list.entities.len(), 1, "only the default hold");
    assert_eq!(
        status(&server, &manager).await.0,
        protected,
        "nothing was protected"
    );
    set_cap(cap);

    let answer = server
        .post_json("/api/holds", &manager, &serde_json::json!({"name": "Legal review", "query": "agent=lena&queue=Legal%20Review"}))
        .await;
    answer.assert_status(201);
    let hold: HoldInfo = answer.parse();
    assert_eq!(
        (hold.query.as_deref(), hold.conversations, hold.missed),
        (Some("queue=Legal%20Review&agent=lena"), 0, 0)
    );
    let hold_id = hold.id.to_string();

    // Arrivals: one matching with a policy recording is protected into the hold by the system;
    // one of another queue and one without a policy recording are not.
    let (caught, other, adhoc) = (new_id(), new_id(), new_id());
    let arrived_from = chrono::Utc::now();
    let answer = server
        .post_json(
            "/api/ingest",
            &admin,
            &serde_json::json!([
                arrive("Legal Review", "policy", &caught),
                arrive("Billing", "policy", &other),
                arrive("Legal Review", "adhoc", &adhoc)
            ]),
        )
        .await;
    answer.assert_status(201);
    let done = answer.json();
    assert_eq!(
        (done["heldByQuery"].as_u64(), done["missedByQuery"].as_u64()),
        (Some(1), Some(0))
    );
    let names = |id: String| {
        let server = &server;
        let manager = manager.clone();
        async move {
            details(server, &manager, &id)
                .await
                .holds
                .iter()
                .map(|h| h.name.clone())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(names(caught.clone()).await, vec!["Legal review"]);
    // Why each date: the policy that decided on arrival, in words.
    let recording = details(&server, &manager, &caught).await.recordings[0].clone();
    let policies: Vec<_> = server
        .store
        .retention_policies(me.org_id)
        .unwrap()
        .into_iter()
        .map(|(_, p)| p)
        .collect();
    let arrival = holdfast_core::retention::Arrival {
        media: holdfast_core::Media::Chat,
        queue: Some("Legal Review"),
        direction: holdfast_core::Direction::Inbound,
        creation_time: recording.created_at,
    };
    let why = holdfast_core::retention::date_reason(holdfast_core::retention::deciding_policy(
        &policies, &arrival,
    ));
    assert_eq!(recording.date_reason.as_deref(), Some(why.as_str()));
    // The date shown is the one that policy gives, set when the interaction arrived.
    assert_eq!(
        recording.delete_date,
        holdfast_core::retention::delete_date_on_arrival(&policies, &arrival)
    );
    let set_at = recording.date_set_at.expect("when the date was set");
    assert!(
        set_at >= holdfast_core::time::whole_millis(arrived_from) && set_at <= chrono::Utc::now(),
        "{set_at} after {arrived_from}"
    );
    put_json(
        &server,
        &format!("/api/recordings/{}/deleteDate", recording.id),
        &admin,
        &serde_json::json!({"deleteDate": null}),
    )
    .await
    .assert_status(200);
    let recording = details(&server, &manager, &caught).await.recordings[0].clone();
    assert_eq!(
        recording.date_reason.as_deref(),
        Some("set by hand by admin: kept, no deletion date")
    );
    assert_eq!(names(other.clone()).await, Vec::<String>::new());
    assert_eq!(names(adhoc.clone()).await, Vec::<String>::new());
    // A policy recording arriving later in the ad hoc one makes it protectable: caught then.
    let later = serde_json::json!({"id": adhoc, "startTime": "2026-11-20T10:00:00Z", "endTime": "2026-11-20T10:05:00Z",
        "direction": "inbound", "queue": "Legal Review", "agents": ["Lena Legal"],
        "recordings": [{"id": new_id(), "media": "call", "role": "policy"}]});
    let done = server.post_json("/api/ingest", &admin, &later).await.json();
    assert_eq!(done["heldByQuery"].as_u64(), Some(1));
    assert_eq!(names(adhoc.clone()).await, vec!["Legal review"]);

    // A second query hold created now covers what already matches: they join it.
    let second: HoldInfo = server
        .post_json(
            "/api/holds",
            &manager,
            &serde_json::json!({"name": "Lena", "query": "agent=Lena%20Legal"}),
        )
        .await
        .parse();
    assert_eq!(second.conversations, 3, "the Billing one has the agent too");
    assert_eq!(names(caught.clone()).await, vec!["Legal review", "Lena"]);
    assert_eq!(names(other.clone()).await, vec!["Lena"]);

    // At the cap: the arrival is not protected, and that is said everywhere.
    set_cap(status(&server, &manager).await.0);
    let missed = new_id();
    let done = server
        .post_json(
            "/api/ingest",
            &admin,
            &arrive("Legal Review", "policy", &missed),
        )
        .await
        .json();
    assert_eq!(
        (done["heldByQuery"].as_u64(), done["missedByQuery"].as_u64()),
        (Some(0), Some(2))
    );
    assert_eq!(names(missed.clone()).await, Vec::<String>::new());
    let page: HoldDetails = server
        .get(&format!("/api/holds/{hold_id}"), &manager)
        .await
        .parse();
    assert_eq!(
        (
            page.hold.missed,
            page.missed
                .iter()
                .map(|m| m.id.to_string())
                .collect::<Vec<_>>()
        ),
        (1, vec![missed.clone()])
    );
    assert_eq!(page.hold.conversations, 2);
    let events = server.store.audit_events(me.org_id).unwrap();
    let about = |id: &str| -> Vec<(AuditAction, Option<String>, bool)> {
        events
            .iter()
            .filter(|(e, _)| e.entity_id == id)
            .map(|(e, _)| {
                (
                    e.action,
                    e.details.hold.clone(),
                    e.actor == holdfast_core::audit::Actor::System,
                )
            })
            .collect()
    };
    assert_eq!(
        about(&caught),
        vec![
            (AuditAction::ApplyProtection, Some(hold_id.clone()), true),
            (AuditAction::AddToHold, Some(second.id.to_string()), false),
        ]
    );
    let mut missed_events = about(&missed);
    missed_events.sort_by(|a, b| a.1.cmp(&b.1));
    let mut expected = vec![
        (AuditAction::HoldCapReached, Some(hold_id.clone()), true),
        (
            AuditAction::HoldCapReached,
            Some(second.id.to_string()),
            true,
        ),
    ];
    expected.sort_by(|a, b| a.1.cmp(&b.1));
    assert_eq!(missed_events, expected);
    assert!(
        server
            .scrape()
            .await
            .contains("holdfast_hold_cap_misses_total 2\n"),
        "the misses are counted"
    );
    // Arriving again changes nothing: a miss is recorded once.
    let again = serde_json::json!({"id": missed, "startTime": "2026-11-20T10:00:00Z", "endTime": "2026-11-20T10:05:00Z",
        "direction": "inbound", "queue": "Legal Review", "agents": ["Lena Legal"],
        "recordings": [{"id": new_id(), "media": "email", "role": "policy"}]});
    let done = server.post_json("/api/ingest", &admin, &again).await.json();
    assert_eq!(done["missedByQuery"].as_u64(), Some(0));
}

#[tokio::test]
async fn a_pasted_list_is_previewed_per_id_and_added_all_or_nothing() {
    a_pasted_list_is_previewed_per_id_and_added_all_or_nothing_on(Backend::Sqlite).await;
}

/// A list of ids pasted into a hold: the preview says what each becomes and whether it fits;
/// adding it is all or nothing against the cap.
async fn a_pasted_list_is_previewed_per_id_and_added_all_or_nothing_on(backend: Backend) {
    use holdfast_core::holds::{HoldDetails, HoldInfo, ListOutcome, ListPreview};
    let server = start_on("hold-list", &backend).await;
    let manager = server.login("manager").await;
    let analyst = server.login("analyst").await;
    let me: Me = server.get("/api/session", &manager).await.parse();
    let p = protectable_ids(&server, &manager, 100, 4).await;
    let protected = page_ids(&server, &manager, "protected=yes&size=25").await;
    let without = page_ids(&server, &manager, "recorded=no&size=25").await;
    let hold: HoldInfo = server
        .post_json("/api/holds", &manager, &serde_json::json!({"name": "List"}))
        .await
        .parse();
    let base = format!("/api/holds/{}/list", hold.id);
    let missing = new_id();
    // A CSV export: a header, an id column second, a repeated id, a line without one.
    let text = format!(
        "queue,conversationId\nBilling,{}\nBilling,{}\nSales,{}\nSales,{}\n,{}\n{}\nnot an id\n{}\n",
        p[0], p[1], protected[0], without[0], missing, p[0], protected[1]
    );
    let body = serde_json::json!({"text": text, "reason": "Subpoena 17"});
    server
        .post_json(&format!("{base}/preview"), &analyst, &body)
        .await
        .assert_error(403, "missing.permissions");
    let preview: ListPreview = server
        .post_json(&format!("{base}/preview"), &manager, &body)
        .await
        .parse();
    let outcomes: Vec<(String, ListOutcome)> = preview
        .rows
        .iter()
        .map(|r| (r.id.to_string(), r.outcome))
        .collect();
    assert_eq!(
        outcomes,
        vec![
            (p[0].clone(), ListOutcome::Protectable),
            (p[1].clone(), ListOutcome::Protectable),
            (protected[0].clone(), ListOutcome::AlreadyProtected),
            (without[0].clone(), ListOutcome::NoRecording),
            (missing.clone(), ListOutcome::NotFound),
            (protected[1].clone(), ListOutcome::AlreadyProtected),
        ]
    );
    let (before, _) = status(&server, &manager).await;
    assert_eq!(
        (
            preview.repeated,
            preview.invalid.len(),
            preview.invalid[0].line,
            preview.before,
            preview.after,
            preview.refusal
        ),
        (1, 1, 8, before as u32, before as u32 + 2, None)
    );
    assert_eq!(
        status(&server, &manager).await.0,
        before,
        "a preview changes nothing"
    );

    // Over the cap: nothing at all is added.
    server
        .store
        .set_cap(
            me.org_id,
            holdfast_core::Cap::new(before as u32 + 1).unwrap(),
        )
        .unwrap();
    server
        .post_json(&base, &manager, &body)
        .await
        .assert_error(409, "protection.limit.exceeded");
    let page: HoldDetails = server
        .get(&format!("/api/holds/{}", hold.id), &manager)
        .await
        .parse();
    assert_eq!(page.members.len(), 0, "all or nothing");
    server
        .store
        .set_cap(me.org_id, holdfast_core::Cap::new(1000).unwrap())
        .unwrap();
    let done: ListPreview = server.post_json(&base, &manager, &body).await.parse();
    assert_eq!(
        (done.protectable, done.already_protected, done.refusal),
        (2, 2, None)
    );
    assert_eq!(status(&server, &manager).await.0, before + 2);
    let page: HoldDetails = server
        .get(&format!("/api/holds/{}", hold.id), &manager)
        .await
        .parse();
    let mut members: Vec<String> = page.members.iter().map(|m| m.id.to_string()).collect();
    members.sort();
    let mut expected = vec![
        p[0].clone(),
        p[1].clone(),
        protected[0].clone(),
        protected[1].clone(),
    ];
    expected.sort();
    assert_eq!(members, expected);
    assert!(
        page.members
            .iter()
            .all(|m| m.reason.as_deref() == Some("Subpoena 17"))
    );
    // Again: every id is in the hold now.
    let again: ListPreview = server
        .post_json(&format!("{base}/preview"), &manager, &body)
        .await
        .parse();
    assert_eq!(again.in_hold, 4);
    server
        .post_json(&base, &manager, &body)
        .await
        .assert_error(409, "nothing.to.do");
    // More than 10,000 ids, or none that parse into a hold that does not exist.
    let many: String = (0..10_001).map(|_| format!("{}\n", new_id())).collect();
    server
        .post_json(&base, &manager, &serde_json::json!({"text": many}))
        .await
        .assert_error(400, "bad.request");
    server
        .post_json(
            &format!("/api/holds/{}/list", holdfast_core::HoldId::DEFAULT),
            &manager,
            &body,
        )
        .await
        .assert_error(409, "conflict");
}

#[tokio::test]
async fn with_two_person_release_a_second_user_approves() {
    with_two_person_release_a_second_user_approves_on(Backend::Sqlite).await;
}

/// Two-person release: an administrator turns it on; a release then waits for a second user
/// with the permission to release; the one who asked cannot approve it but may withdraw it;
/// every step is audited.
async fn with_two_person_release_a_second_user_approves_on(backend: Backend) {
    use holdfast_core::holds::{HoldDetails, HoldInfo, HoldList, ReleaseCounts, ReleaseRequest};
    let server = start_on("two-person", &backend).await;
    let manager = server.login("manager").await;
    let supervisor = server.login("supervisor").await;
    let admin = server.login("admin").await;
    let me: Me = server.get("/api/session", &manager).await.parse();
    let on = serde_json::json!({"twoPersonRelease": true});
    put_json(&server, "/api/org/settings", &manager, &on)
        .await
        .assert_error(403, "missing.permissions");
    put_json(&server, "/api/org/settings", &admin, &on)
        .await
        .assert_status(200);
    let list: HoldList = server.get("/api/holds", &manager).await.parse();
    assert!(list.settings.two_person_release);

    let p = protectable_ids(&server, &manager, 100, 2).await;
    let mut holds = Vec::new();
    for (name, id) in [("Approved", &p[0]), ("Withdrawn", &p[1])] {
        let hold: HoldInfo = server
            .post_json("/api/holds", &manager, &serde_json::json!({"name": name}))
            .await
            .parse();
        let body = serde_json::json!({"action": "protect", "selection": {"kind": "ids", "ids": [id]}, "hold": hold.id});
        server
            .post_json("/api/protection", &manager, &body)
            .await
            .assert_status(200);
        holds.push(hold.id.to_string());
    }
    let path = |i: usize, end: &str| format!("/api/holds/{}/release{end}", holds[i]);
    let (before, _) = status(&server, &manager).await;

    // Asked: nothing is released yet.
    let asked = server
        .post_json(
            &path(0, ""),
            &manager,
            &serde_json::json!({"reason": "Matter closed"}),
        )
        .await;
    asked.assert_status(202);
    let request: ReleaseRequest = asked.parse();
    assert_eq!(
        (
            request.requested_by.as_str(),
            request.reason.as_deref(),
            request.requested_by_id
        ),
        ("manager", Some("Matter closed"), me.user_id)
    );
    assert_eq!(status(&server, &manager).await.0, before);
    let page: HoldDetails = server
        .get(&format!("/api/holds/{}", holds[0]), &admin)
        .await
        .parse();
    assert_eq!(
        page.pending.first().map(|r| r.id.clone()),
        Some(request.id.clone())
    );
    assert_eq!(page.hold.released_at, None);
    server
        .post_json(&path(0, ""), &manager, &serde_json::json!({}))
        .await
        .assert_error(409, "conflict");

    // Not by the one who asked, not without the permission; then by a second user.
    let own = server
        .post_json(&path(0, "/approve"), &manager, &serde_json::json!({}))
        .await;
    own.assert_error(409, "conflict");
    assert!(
        own.json()["message"]
            .as_str()
            .unwrap()
            .contains("another user")
    );
    server
        .post_json(&path(0, "/approve"), &supervisor, &serde_json::json!({}))
        .await
        .assert_error(403, "missing.permissions");
    let approved = server
        .post_json(&path(0, "/approve"), &admin, &serde_json::json!({}))
        .await;
    approved.assert_status(200);
    assert_eq!(
        approved.parse::<ReleaseCounts>(),
        ReleaseCounts {
            covered: 1,
            stay_protected: 0,
            deletable: 1,
            past_due_recordings: approved.parse::<ReleaseCounts>().past_due_recordings,
        }
    );
    assert_eq!(status(&server, &manager).await.0, before - 1);
    let page: HoldDetails = server
        .get(&format!("/api/holds/{}", holds[0]), &admin)
        .await
        .parse();
    assert_eq!(
        (page.pending, page.hold.released_by.as_deref()),
        (Vec::new(), Some("admin"))
    );
    server
        .post_json(&path(0, "/approve"), &admin, &serde_json::json!({}))
        .await
        .assert_error(409, "conflict");

    // Withdrawn by the one who asked: the hold stays.
    server
        .post_json(&path(1, ""), &manager, &serde_json::json!({}))
        .await
        .assert_status(202);
    server
        .post_json(&path(1, "/refuse"), &manager, &serde_json::json!({}))
        .await
        .assert_status(200);
    let page: HoldDetails = server
        .get(&format!("/api/holds/{}", holds[1]), &admin)
        .await
        .parse();
    assert_eq!(
        (page.pending, page.hold.released_at, page.hold.conversations),
        (Vec::new(), None, 1)
    );

    // The Release button too: asked, then approved by a second user, planned as it runs then.
    let p2 = protectable_ids(&server, &manager, 100, 1).await;
    let release =
        serde_json::json!({"action": "release", "selection": {"kind": "ids", "ids": &p2}});
    let protect =
        serde_json::json!({"action": "protect", "selection": {"kind": "ids", "ids": &p2}});
    server
        .post_json("/api/protection", &manager, &protect)
        .await
        .assert_status(200);
    let asked = server
        .post_json("/api/protection", &manager, &release)
        .await;
    asked.assert_status(202);
    assert_eq!(
        (
            asked.json()["requested"].as_bool(),
            asked.json()["changed"].as_u64()
        ),
        (Some(true), Some(0))
    );
    assert_eq!(
        details(&server, &manager, &p2[0]).await.holds.len(),
        1,
        "still protected"
    );
    let default_path = format!("/api/holds/{}", holdfast_core::HoldId::DEFAULT);
    let page: HoldDetails = server.get(&default_path, &admin).await.parse();
    assert_eq!(
        page.pending
            .iter()
            .map(|r| (r.requested_by.as_str(), r.interactions))
            .collect::<Vec<_>>(),
        vec![("manager", Some(1))]
    );
    let approve = format!(
        "{default_path}/release/approve?request={}",
        page.pending[0].id
    );
    server
        .post_json(&approve, &manager, &serde_json::json!({}))
        .await
        .assert_error(409, "conflict");
    server
        .post_json(
            &format!("{default_path}/release/approve"),
            &admin,
            &serde_json::json!({}),
        )
        .await
        .assert_error(409, "conflict");
    let done = server
        .post_json(&approve, &admin, &serde_json::json!({}))
        .await;
    done.assert_status(200);
    assert_eq!(done.json(), serde_json::json!({"released": 1}));
    assert_eq!(
        details(&server, &manager, &p2[0]).await.holds.len(),
        0,
        "released"
    );
    // The Genesys flag asks too, and says so.
    server
        .post_json("/api/protection", &manager, &protect)
        .await
        .assert_status(200);
    let token = bearer(&server, "manager").await;
    let flag = v2(
        &server,
        "PUT",
        "/api/v2/recordings/deletionprotection?protect=false",
        &token,
        &serde_json::json!({"conversationIds": &p2}),
    )
    .await;
    flag.assert_status(200);
    assert_eq!(
        flag.json()["failedUpdates"][0]["errorCode"].as_str(),
        Some("release.awaits.approval")
    );
    assert_eq!(details(&server, &manager, &p2[0]).await.holds.len(), 1);

    let events = server.store.audit_events(me.org_id).unwrap();
    let about = |hold: &str| -> Vec<(AuditAction, String)> {
        events
            .iter()
            .filter(|(e, _)| {
                e.details.hold.as_deref() == Some(hold)
                    && e.entity_type == holdfast_core::audit::EntityType::Hold
            })
            .map(|(e, _)| {
                let who = match &e.actor {
                    holdfast_core::audit::Actor::User { name, .. } => name.clone(),
                    holdfast_core::audit::Actor::System => "system".to_owned(),
                };
                (e.action, who)
            })
            .collect()
    };
    assert_eq!(
        about(&holds[0]),
        vec![
            (AuditAction::CreateHold, "manager".to_owned()),
            (AuditAction::ReleaseRequested, "manager".to_owned()),
            (AuditAction::ReleaseApproved, "admin".to_owned()),
            (AuditAction::ReleaseHold, "admin".to_owned()),
        ]
    );
    assert_eq!(
        about(&holds[1]),
        vec![
            (AuditAction::CreateHold, "manager".to_owned()),
            (AuditAction::ReleaseRequested, "manager".to_owned()),
            (AuditAction::ReleaseRefused, "manager".to_owned()),
        ]
    );
    assert!(
        events
            .iter()
            .any(|(e, _)| e.action == AuditAction::UpdateSettings
                && e.details.message.as_deref() == Some("twoPersonRelease=true"))
    );
}

#[tokio::test]
async fn the_genesys_retention_query_lists_what_is_retained_longer_than_the_threshold() {
    the_genesys_retention_query_lists_what_is_retained_longer_than_the_threshold_on(
        Backend::Sqlite,
    )
    .await;
}

/// `GET /api/v2/recordings/retention/query`: every page through `nextUri` together lists, once
/// and in order, exactly the available recordings retained for more days than the threshold
/// (core's rule), checked against the interactions' own details.
async fn the_genesys_retention_query_lists_what_is_retained_longer_than_the_threshold_on(
    backend: Backend,
) {
    use holdfast_core::genesys::{RecordingRetentionCursorEntityListing, retained_longer_than};
    let server = start_on("retention-query", &backend).await;
    let manager = server.login("manager").await;
    let token = bearer(&server, "manager").await;
    let get = |path: String| {
        let server = &server;
        let token = token.clone();
        async move { v2(server, "GET", &path, &token, &serde_json::json!(null)).await }
    };
    for bad in [
        "",
        "?retentionThresholdDays=x",
        "?retentionThresholdDays=30&pageSize=0",
        "?retentionThresholdDays=30&pageSize=501",
        "?retentionThresholdDays=30&cursor=nope",
    ] {
        get(format!("/api/v2/recordings/retention/query{bad}"))
            .await
            .assert_error(400, "bad.request");
    }
    // Between the demo policies' retention periods, so that some recordings are listed and some not.
    let days = 150;
    let mut next = Some(format!(
        "/api/v2/recordings/retention/query?retentionThresholdDays={days}&pageSize=100"
    ));
    let mut listed: Vec<(String, String)> = Vec::new();
    let mut pages = 0;
    while let Some(path) = next {
        let page: RecordingRetentionCursorEntityListing = get(path.clone()).await.parse();
        assert_eq!(page.self_uri, path);
        // Full pages until the last.
        match page.next_uri {
            Some(_) => assert_eq!(page.entities.len(), 100),
            None => assert!((1..=100).contains(&page.entities.len())),
        }
        for e in &page.entities {
            assert!(
                retained_longer_than(e.creation_time, e.delete_date, days),
                "{e:?}"
            );
            listed.push((e.recording_id.clone(), e.conversation_id.clone()));
        }
        next = page.next_uri;
        pages += 1;
    }
    assert_eq!(pages, listed.len().div_ceil(100));
    assert!(pages > 1, "the demo data takes more than one page");
    let ids: Vec<&String> = listed.iter().map(|(r, _)| r).collect();
    let mut sorted = ids.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(ids, sorted, "in recording-id order, each once");
    let listed: std::collections::HashSet<String> = listed.into_iter().map(|(r, _)| r).collect();
    // Both answers occur in the sample, so the comparison is never vacuous.
    let (mut inside, mut outside) = (0, 0);
    for id in page_ids(&server, &manager, "size=50").await {
        for r in details(&server, &manager, &id).await.recordings {
            let expected = r.file_state == holdfast_core::FileState::Available
                && retained_longer_than(r.created_at, r.delete_date, days);
            assert_eq!(listed.contains(&r.id.to_string()), expected, "{r:?}");
            match expected {
                true => inside += 1,
                false => outside += 1,
            }
        }
    }
    assert!(inside > 0 && outside > 0, "{inside} listed, {outside} not");
}

/// The tests whose subject is media, run again with media in an S3 bucket.
const ON_S3: &[(&str, BackendTest)] = backend_tests![
    ingest_applies_retention_on_arrival_and_serves_media_with_ranges_on,
    bad_ingests_are_refused_whole_and_leave_nothing_on,
    import_reads_json_lines_and_names_the_first_bad_line_on,
    transcripts_and_attachments_follow_the_same_deletion_rule_on,
    ingest_takes_a_recording_of_megabytes_and_serves_it_back_byte_for_byte_on,
    media_verify_finds_missing_changed_and_unknown_files_on,
    media_and_attachments_upload_as_raw_bodies_with_their_checksums_on,
    deletion_is_refused_while_protected_and_allowed_after_release_on,
    the_sweep_never_deletes_protected_recordings_and_catches_up_after_release_on,
    stored_bytes_are_kept_and_served_only_as_inert_types_on,
    a_recording_that_joins_a_protected_conversation_is_protected_at_once_on,
    protect_and_release_commit_with_one_audit_event_per_conversation_on,
    the_sweep_racing_protect_never_deletes_a_protected_recording_on,
];

#[path = "support/moto.rs"]
mod moto;

/// Every test in [`ON_S3`] on one moto server, each under a prefix of its own in a bucket with
/// Object Lock; then the legal-hold tests.
#[test]
fn the_media_tests_pass_on_s3() {
    let runtime = suite_runtime();
    let moto = moto::Moto::start();
    moto.create_bucket("holdfast-media", true);
    moto.create_bucket("holdfast-plain", false);
    // `HOLDFAST_S3_TESTS=name,name` runs only those.
    let only = std::env::var("HOLDFAST_S3_TESTS").ok();
    let wanted = |name: &str| {
        only.as_ref()
            .is_none_or(|o| o.split(',').any(|t| t == name))
    };
    for (n, (name, test)) in ON_S3.iter().enumerate() {
        let name = name.trim_end_matches("_on");
        if !wanted(name) {
            continue;
        }
        eprintln!("on S3: {name}");
        let settings = moto.settings("holdfast-media", &format!("test-{n}"));
        runtime.block_on(test(Backend::SqliteS3(settings)));
    }
    if wanted("legal_holds") {
        runtime.block_on(legal_holds_follow_protection_in_an_object_lock_bucket(
            &moto,
        ));
    }
    if wanted("bucket_not_answering") {
        runtime.block_on(
            when_the_bucket_does_not_answer_nothing_is_lost_and_holds_are_settled_later(&moto),
        );
    }
    if wanted("plain_bucket") {
        runtime.block_on(a_bucket_without_object_lock_keeps_media_but_no_holds(&moto));
    }
}

/// A raw body sent as the app sends it (a cookie session with its CSRF header).
async fn send_bytes(
    server: &Server,
    cookie: &str,
    method: &str,
    path: &str,
    content_type: &str,
    body: &[u8],
) -> Answer {
    let headers = [
        ("cookie", cookie),
        ("content-type", content_type),
        ("x-holdfast-csrf", "1"),
    ];
    server.send(method, path, &headers, body).await
}

/// The legal hold of an object, as the bucket says (`None`: it never had one).
fn hold_in_bucket(settings: &holdfast_server::media::S3Settings, key: &str) -> Option<String> {
    let key = format!("{}/{key}", settings.prefix);
    moto::sdk(settings, move |client, settings| async move {
        client
            .get_object_legal_hold()
            .bucket(&settings.bucket)
            .key(&key)
            .send()
            .await
            .ok()
            .and_then(|out| out.legal_hold()?.status().map(|s| s.as_str().to_owned()))
    })
}

/// Deletes every version of an object directly through the S3 API, as anyone with the bucket's
/// credentials could; returns the error code of each refusal.
fn delete_in_bucket(settings: &holdfast_server::media::S3Settings, key: &str) -> Vec<String> {
    let key = format!("{}/{key}", settings.prefix);
    moto::sdk(settings, move |client, settings| async move {
        use aws_sdk_s3::error::ProvideErrorMetadata;
        let versions = client
            .list_object_versions()
            .bucket(&settings.bucket)
            .prefix(&key)
            .send()
            .await
            .unwrap();
        let mut refused = Vec::new();
        for v in versions.versions() {
            if let Err(e) = client
                .delete_object()
                .bucket(&settings.bucket)
                .key(&key)
                .set_version_id(v.version_id().map(str::to_owned))
                .send()
                .await
            {
                refused.push(e.code().unwrap_or("?").to_owned());
            }
        }
        refused
    })
}

/// How many versions of the object the bucket keeps.
fn versions_in_bucket(settings: &holdfast_server::media::S3Settings, key: &str) -> usize {
    let key = format!("{}/{key}", settings.prefix);
    moto::sdk(settings, move |client, settings| async move {
        let out = client
            .list_object_versions()
            .bucket(&settings.bucket)
            .prefix(&key)
            .send()
            .await
            .unwrap();
        out.versions().len() + out.delete_markers().len()
    })
}

/// A conversation ingested with one recording whose media and one attachment are `bytes`;
/// returns (conversation, recording).
async fn ingest_with_media(server: &Server, admin: &str, bytes: &[u8]) -> (String, String) {
    let (conv, rec) = (new_id(), new_id());
    let body = serde_json::json!({"id": conv, "startTime": "2026-11-20T10:00:00Z", "endTime": "2026-11-20T10:05:00Z",
        "direction": "inbound", "recordings": [{"id": rec, "media": "call", "role": "policy",
        "mediaBase64": b64(bytes), "contentType": "audio/wav",
        "attachments": [{"name": "notes.txt", "contentType": "text/plain", "dataBase64": b64(b"notes")}]}]});
    server
        .post_json("/api/ingest", admin, &body)
        .await
        .assert_status(201);
    (conv, rec)
}

async fn protection(server: &Server, cookie: &str, action: &str, conv: &str) -> Answer {
    let body = serde_json::json!({"action": action, "selection": {"kind": "ids", "ids": [conv]}, "reason": "matter 7"});
    server.post_json("/api/protection", cookie, &body).await
}

/// The keys of a recording's objects (its media and attachments), sorted.
fn keys_of(server: &Server, rec: &str) -> Vec<String> {
    server
        .objects()
        .into_iter()
        .filter(|k| k.contains(rec))
        .collect()
}

async fn legal_holds_follow_protection_in_an_object_lock_bucket(moto: &moto::Moto) {
    let settings = moto.settings("holdfast-media", "holds");
    let server = start_on("holds", &Backend::SqliteS3(settings.clone())).await;
    assert!(server.media.keeps_holds());
    let admin = server.login("admin").await;
    let manager = server.login("manager").await;
    let (conv, rec) = ingest_with_media(&server, &admin, b"the call").await;
    let (_, other) = ingest_with_media(&server, &admin, b"another call").await;
    let keys = keys_of(&server, &rec);
    assert_eq!(keys.len(), 2, "media and attachment: {keys:?}");
    let holds = |keys: &[String]| -> Vec<Option<String>> {
        keys.iter().map(|k| hold_in_bucket(&settings, k)).collect()
    };
    assert_eq!(
        holds(&keys),
        vec![None, None],
        "nothing is held before a protect"
    );

    // A protect holds every object of the conversation before it answers; others stay free.
    protection(&server, &manager, "protect", &conv)
        .await
        .assert_status(200);
    let on = Some("ON".to_owned());
    assert_eq!(holds(&keys), vec![on.clone(), on.clone()]);
    assert_eq!(holds(&keys_of(&server, &other)), vec![None, None]);

    // The bucket itself refuses to delete a held object, whoever asks.
    let media_key = keys.iter().find(|k| k.contains(".media-")).unwrap().clone();
    assert_eq!(
        delete_in_bucket(&settings, &media_key),
        vec!["AccessDenied".to_owned()]
    );
    let answer = server
        .get(&format!("/api/recordings/{rec}/media"), &admin)
        .await;
    answer.assert_status(200);
    assert_eq!(answer.body, b"the call");

    // What arrives later is held too: an uploaded attachment, and a recording ingested into
    // the conversation.
    let upload = send_bytes(
        &server,
        &admin,
        "POST",
        &format!("/api/recordings/{rec}/attachments?name=late.txt"),
        "text/plain",
        b"arrived later",
    )
    .await;
    upload.assert_status(201);
    let later = new_id();
    let body = serde_json::json!({"id": conv, "startTime": "2026-11-20T10:00:00Z", "endTime": "2026-11-20T10:05:00Z",
        "direction": "inbound", "recordings": [{"id": later, "media": "screen", "role": "policy",
        "mediaBase64": b64(b"screen recording")}]});
    server
        .post_json("/api/ingest", &admin, &body)
        .await
        .assert_status(201);
    let all = [keys_of(&server, &rec), keys_of(&server, &later)].concat();
    assert_eq!(all.len(), 4, "{all:?}");
    assert_eq!(holds(&all), vec![on.clone(); 4]);

    // A release lifts them; then a deletion removes every version of the objects.
    protection(&server, &manager, "release", &conv)
        .await
        .assert_status(200);
    let off = Some("OFF".to_owned());
    assert_eq!(holds(&all), vec![off; 4]);
    delete(&server, &format!("/api/recordings/{rec}"), &admin)
        .await
        .assert_status(200);
    assert_eq!(keys_of(&server, &rec), Vec::<String>::new());
    for key in &all[..3] {
        assert_eq!(versions_in_bucket(&settings, key), 0, "{key}");
    }
    let report =
        holdfast_server::media::verify(server.store.as_ref(), server.media.as_ref()).unwrap();
    assert_eq!((report.checked, report.sound()), (3, true), "{report:?}");
}

async fn when_the_bucket_does_not_answer_nothing_is_lost_and_holds_are_settled_later(
    moto: &moto::Moto,
) {
    let settings = moto.settings("holdfast-media", "retried");
    let server = start_on("retried", &Backend::SqliteS3(settings.clone())).await;
    let admin = server.login("admin").await;
    let manager = server.login("manager").await;
    let (conv, rec) = ingest_with_media(&server, &admin, b"the call").await;
    let keys = keys_of(&server, &rec);

    // The bucket stops answering: media that cannot be stored is not kept, and the answer says
    // it is the storage, not the input.
    let (late_conv, late_rec) = (new_id(), new_id());
    let body = serde_json::json!({"id": late_conv, "startTime": "2026-11-20T10:00:00Z", "endTime": "2026-11-20T10:05:00Z",
        "direction": "inbound", "recordings": [{"id": late_rec, "media": "call", "role": "policy"}]});
    server
        .post_json("/api/ingest", &admin, &body)
        .await
        .assert_status(201);
    moto.pause();
    let with_media = serde_json::json!({"id": new_id(), "startTime": "2026-11-20T10:00:00Z", "endTime": "2026-11-20T10:05:00Z",
        "direction": "inbound", "recordings": [{"id": new_id(), "media": "call", "role": "policy", "mediaBase64": b64(b"x")}]});
    let refused = server.post_json("/api/ingest", &admin, &with_media).await;
    let upload = send_bytes(
        &server,
        &admin,
        "PUT",
        &format!("/api/recordings/{late_rec}/media"),
        "audio/wav",
        b"late audio",
    )
    .await;
    moto.resume();
    refused.assert_error(503, "media.storage.failing");
    upload.assert_error(503, "media.storage.failing");
    assert!(
        !details(&server, &admin, &late_conv).await.recordings[0].has_media,
        "the database names no object"
    );
    send_bytes(
        &server,
        &admin,
        "PUT",
        &format!("/api/recordings/{late_rec}/media"),
        "audio/wav",
        b"late audio",
    )
    .await
    .assert_status(201);

    // The protect is committed, but not acknowledged.
    moto.pause();
    let answer = protection(&server, &manager, "protect", &conv).await;
    moto.resume();
    answer.assert_error(503, "media.storage.failing");
    assert_eq!(answer.header("retry-after"), Some("5"));
    assert!(
        details(&server, &manager, &conv)
            .await
            .conversation
            .protected
    );
    // Whether the bucket took the calls it did not answer is unknown: the mark stays, and the
    // scraper sees it.
    assert_eq!(server.store.pending_holds(None, 10).unwrap().len(), 1);
    let metric = |text: &str, name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{name} ")).map(str::to_owned))
    };
    let scraped = server.scrape().await;
    assert_eq!(
        metric(&scraped, "holdfast_media_holds_pending").as_deref(),
        Some("1")
    );
    assert_eq!(
        metric(&scraped, "holdfast_media_hold_failures_total").as_deref(),
        Some("1")
    );

    // The sweep settles what is marked; the mark goes.
    let media = server.media.clone();
    holdfast_server::sweep::run_once(server.store.as_ref(), media.as_ref(), chrono::Utc::now())
        .unwrap();
    assert_eq!(
        keys.iter()
            .map(|k| hold_in_bucket(&settings, k))
            .collect::<Vec<_>>(),
        vec![Some("ON".to_owned()); 2]
    );
    assert_eq!(server.store.pending_holds(None, 10).unwrap(), vec![]);
    assert_eq!(
        metric(&server.scrape().await, "holdfast_media_holds_pending").as_deref(),
        Some("0")
    );
    // Repeating the protect is safe: nothing to do.
    protection(&server, &manager, "protect", &conv)
        .await
        .assert_error(409, "nothing.to.do");
}

async fn a_bucket_without_object_lock_keeps_media_but_no_holds(moto: &moto::Moto) {
    let settings = moto.settings("holdfast-plain", "plain");
    let server = start_on("plain", &Backend::SqliteS3(settings.clone())).await;
    assert!(!server.media.keeps_holds());
    let admin = server.login("admin").await;
    let manager = server.login("manager").await;
    let (conv, rec) = ingest_with_media(&server, &admin, b"the call").await;
    protection(&server, &manager, "protect", &conv)
        .await
        .assert_status(200);
    let keys = keys_of(&server, &rec);
    assert_eq!(
        keys.iter()
            .map(|k| hold_in_bucket(&settings, k))
            .collect::<Vec<_>>(),
        vec![None, None]
    );
    // The database still refuses the deletion; the marks are cleared by the sweep.
    delete(&server, &format!("/api/recordings/{rec}"), &admin)
        .await
        .assert_error(409, "recording.protected");
    let media = server.media.clone();
    holdfast_server::sweep::run_once(server.store.as_ref(), media.as_ref(), chrono::Utc::now())
        .unwrap();
    assert_eq!(server.store.pending_holds(None, 10).unwrap(), vec![]);
}
