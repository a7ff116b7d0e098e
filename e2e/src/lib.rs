//! The end-to-end harness: the real `holdfast` binary with demo data, driven through headless
//! Chromium by chromedriver and fantoccini.
//!
//! Each [`Harness`] owns one server (fresh data folder, free port) and one browser (fresh
//! profile), so tests share nothing and can run in parallel. The paths come from the environment
//! that `cargo xtask test` sets; without it the tests fail loudly instead of skipping.

use std::fs::{self, File};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder};
use hyper_util::client::legacy::connect::HttpConnector;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Demo seeding hashes passwords and writes a few thousand rows; a slow CI machine needs time.
const SERVER_START_TIMEOUT: Duration = Duration::from_secs(60);
const DRIVER_START_TIMEOUT: Duration = Duration::from_secs(20);
/// How long the `wait_for_*` helpers wait for the page to get there.
pub const WAIT_TIMEOUT: Duration = Duration::from_secs(10);

/// The browser flags shared with the app's wasm tests (see xtask's `wasm_test_runner.rs`):
/// headless, and quiet (no network calls of its own, no first-run dialogs).
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
    "--window-size=1280,900",
];

/// One running server and one browser pointed at nothing yet.
///
/// Call [`Harness::finish`] at the end of a test to close the browser cleanly; if a test panics
/// first, dropping the harness kills the browser and the server, and keeps the scratch folder
/// (server log, data, browser profile) for a look.
pub struct Harness {
    // Fields drop in order: the browser goes before the server it talks to, and the scratch
    // folder goes last. The underscored ones are held only for what their drop does.
    client: Client,
    _driver: Process,
    _server: Process,
    base_url: String,
    _scratch: Scratch,
}

/// Where the pieces are, read from the environment `cargo xtask test` sets.
struct Setup {
    holdfast_bin: PathBuf,
    site: PathBuf,
    chromedriver: PathBuf,
    chromium: PathBuf,
}

impl Setup {
    fn from_env() -> Setup {
        let path = |name: &str| {
            let Some(value) = std::env::var_os(name) else {
                panic!(
                    "{name} is not set. The end-to-end tests need the release server, the built \
                     site, Chromium and chromedriver; run them with `cargo xtask test`, which \
                     builds all of that and sets HOLDFAST_BIN, HOLDFAST_SITE, CHROMEDRIVER and \
                     CHROMIUM."
                );
            };
            let path = PathBuf::from(value);
            assert!(
                path.exists(),
                "{name} points at {}, which does not exist; `cargo xtask test` builds it",
                path.display()
            );
            path
        };
        Setup {
            holdfast_bin: path("HOLDFAST_BIN"),
            site: path("HOLDFAST_SITE"),
            chromedriver: path("CHROMEDRIVER"),
            chromium: path("CHROMIUM"),
        }
    }
}

impl Harness {
    /// Starts a server with demo data and a browser session; panics with the reason if either
    /// does not come up.
    pub async fn start() -> Harness {
        Harness::start_with(&[]).await
    }

    /// Like [`Harness::start`], with the system set to the dark colour scheme.
    pub async fn start_dark() -> Harness {
        Harness::start_with(&[
            "--blink-settings=preferredColorScheme=0",
            "--force-dark-mode",
        ])
        .await
    }

    /// Like [`Harness::start`], with more Chromium command-line arguments.
    pub async fn start_with(browser_args: &[&str]) -> Harness {
        let setup = Setup::from_env();
        let scratch = Scratch::new();
        let data_dir = scratch.path.join("data");
        let profile_dir = scratch.path.join("chrome-profile");
        for dir in [&data_dir, &profile_dir] {
            fs::create_dir_all(dir).expect("the scratch folder is writable");
        }

        let server_port = free_port();
        let server_log = scratch.path.join("server.log");
        let mut command = Command::new(&setup.holdfast_bin);
        command
            .arg("serve")
            .arg("--addr")
            .arg(format!("127.0.0.1:{server_port}"))
            .arg("--data-dir")
            .arg(&data_dir)
            .arg("--site")
            .arg(&setup.site)
            .arg("--demo");
        let mut server = Process::spawn("holdfast", command, &server_log, false);
        wait_for_health(&mut server, server_port).await;

        let driver_port = free_port();
        let mut command = Command::new(&setup.chromedriver);
        command.arg(format!("--port={driver_port}"));
        let driver_log = scratch.path.join("chromedriver.log");
        // Its own process group, so dropping it also takes down the Chromium it started.
        let mut driver = Process::spawn("chromedriver", command, &driver_log, true);
        wait_for_port(&mut driver, driver_port, DRIVER_START_TIMEOUT).await;

        let mut args: Vec<String> = CHROME_ARGS.iter().map(|arg| arg.to_string()).collect();
        args.push(format!("--user-data-dir={}", profile_dir.display()));
        args.extend(browser_args.iter().map(|arg| arg.to_string()));
        let capabilities = serde_json::json!({
            "goog:chromeOptions": { "binary": setup.chromium, "args": args },
        });
        let serde_json::Value::Object(capabilities) = capabilities else {
            unreachable!("json! of an object literal is an object");
        };
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities)
            .connect(&format!("http://127.0.0.1:{driver_port}"))
            .await
            .unwrap_or_else(|error| {
                panic!(
                    "could not start Chromium through chromedriver: {error}\n{}",
                    driver.log_tail()
                )
            });

        Harness {
            client,
            _driver: driver,
            _server: server,
            base_url: format!("http://127.0.0.1:{server_port}"),
            _scratch: scratch,
        }
    }

    /// The server's address, like `http://127.0.0.1:40123`, without a trailing slash.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The address of `path` (which starts with `/`) on the server.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// The WebDriver session.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Waits until the document's title is `title`, or panics after [`WAIT_TIMEOUT`].
    pub async fn wait_for_title(&self, title: &str) {
        let started = Instant::now();
        loop {
            let current = self.client.title().await.expect("the browser answers");
            if current == title {
                return;
            }
            if started.elapsed() > WAIT_TIMEOUT {
                self.screenshot("wait_for_title").await;
                panic!("the title is still {current:?} after {WAIT_TIMEOUT:?}, not {title:?}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Saves what the browser shows to `target/e2e-screenshots/<name>.png` and returns the path.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let png = self
            .client
            .screenshot()
            .await
            .expect("the browser takes a screenshot");
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/e2e-screenshots");
        fs::create_dir_all(&dir).expect("target/ is writable");
        let name: String = name
            .chars()
            .map(|c| match c {
                'a'..='z' | 'A'..='Z' | '0'..='9' | '-' | '_' => c,
                _ => '_',
            })
            .collect();
        let path = dir.join(format!("{name}.png"));
        fs::write(&path, png).expect("target/e2e-screenshots is writable");
        path
    }

    /// Closes the browser session (Chromium quits cleanly), then stops the server and removes
    /// the scratch folder.
    pub async fn finish(self) {
        // A test's own failures have already panicked; failing to close is not worth another.
        if let Err(error) = self.client.clone().close().await {
            eprintln!("could not close the browser session: {error}");
        }
        drop(self);
    }
}

/// A child process whose output goes to a log file, killed on drop.
struct Process {
    name: &'static str,
    child: Child,
    log: PathBuf,
    /// Whether the child leads its own process group, which is then killed as a whole.
    group: bool,
}

impl Process {
    fn spawn(name: &'static str, mut command: Command, log: &Path, group: bool) -> Process {
        let file = File::create(log).expect("the scratch folder is writable");
        let file_again = file.try_clone().expect("a log file handle can be cloned");
        command.stdin(Stdio::null()).stdout(file).stderr(file_again);
        if group {
            use std::os::unix::process::CommandExt;
            command.process_group(0);
        }
        let child = command
            .spawn()
            .unwrap_or_else(|error| panic!("could not start {name} ({command:?}): {error}"));
        Process {
            name,
            child,
            log: log.to_path_buf(),
            group,
        }
    }

    /// Panics with the log if the process has already exited.
    fn assert_running(&mut self) {
        if let Ok(Some(status)) = self.child.try_wait() {
            panic!(
                "{} exited during start-up ({status})\n{}",
                self.name,
                self.log_tail()
            );
        }
    }

    /// The last lines of the process's output, to show with a failure.
    fn log_tail(&self) -> String {
        let text = fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let tail = lines[lines.len().saturating_sub(40)..].join("\n");
        format!(
            "--- last lines of {} ({}) ---\n{tail}",
            self.name,
            self.log.display()
        )
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        if self.group {
            // Chromium and its helpers share chromedriver's process group.
            let group = format!("-{}", self.child.id());
            let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!("{}", self.log_tail());
        }
    }
}

/// A fresh folder for one harness's data, profile and logs.
struct Scratch {
    path: PathBuf,
}

impl Scratch {
    fn new() -> Scratch {
        static COUNT: AtomicUsize = AtomicUsize::new(0);
        let count = COUNT.fetch_add(1, Ordering::Relaxed);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.subsec_nanos());
        let path = std::env::temp_dir().join(format!(
            "holdfast-e2e-{}-{count}-{nanos}",
            std::process::id()
        ));
        fs::create_dir_all(&path).expect("the temporary folder is writable");
        Scratch { path }
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("kept the test's scratch folder: {}", self.path.display());
            return;
        }
        let _ = fs::remove_dir_all(&self.path);
    }
}

/// A port nobody listens on right now; the OS picks it.
fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("can bind a localhost port");
    listener
        .local_addr()
        .expect("a bound listener has an address")
        .port()
}

/// Waits until `GET /healthz` answers 200, or panics with the server's log.
async fn wait_for_health(server: &mut Process, port: u16) {
    let started = Instant::now();
    loop {
        server.assert_running();
        if health_status(port).await == Some(200) {
            return;
        }
        if started.elapsed() > SERVER_START_TIMEOUT {
            panic!(
                "the server did not answer GET /healthz with 200 within {SERVER_START_TIMEOUT:?}\n{}",
                server.log_tail()
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The status code of `GET /healthz`, or `None` when nothing answers yet.
async fn health_status(port: u16) -> Option<u16> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).await.ok()?;
    let request =
        format!("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.ok()?;
    let mut response = Vec::new();
    let read = stream.read_to_end(&mut response);
    tokio::time::timeout(Duration::from_secs(5), read)
        .await
        .ok()?
        .ok()?;
    // "HTTP/1.1 200 OK": the code is the second word of the status line.
    let status_line = response.split(|&byte| byte == b'\n').next()?;
    let status_line = std::str::from_utf8(status_line).ok()?;
    status_line.split_whitespace().nth(1)?.parse().ok()
}

/// Waits until something accepts connections on `port`, or panics with the process's log.
async fn wait_for_port(process: &mut Process, port: u16, timeout: Duration) {
    let started = Instant::now();
    loop {
        process.assert_running();
        if TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            return;
        }
        if started.elapsed() > timeout {
            panic!(
                "{} did not listen on port {port} within {timeout:?}\n{}",
                process.name,
                process.log_tail()
            );
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
