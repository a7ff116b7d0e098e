//! A local S3-compatible server for tests: moto's server on a free loopback port, started and
//! stopped by the test itself, with a bucket created with Object Lock (moto enforces legal
//! holds: a held version cannot be deleted). Where the machine's Python lacks moto, a venv in
//! `target/moto-venv` gets it from PyPI once.
#![allow(dead_code)] // Each test file uses part of it.

use std::future::Future;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use holdfast_server::media::S3Settings;

/// The moto release the venv installs when the machine's Python has none.
const MOTO: &str = "moto[server]==5.2.1";

pub struct Moto {
    child: Child,
    pub endpoint: String,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A Python that can run `moto.server`, found (or its venv made) once per test process, so
/// that suites starting moto at once never build the venv twice.
fn python() -> PathBuf {
    static PYTHON: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    PYTHON.get_or_init(find_python).clone()
}

fn find_python() -> PathBuf {
    let has_moto = |python: &std::path::Path| {
        Command::new(python)
            .args(["-c", "import moto.server, flask"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    let system = PathBuf::from("python3");
    if has_moto(&system) {
        return system;
    }
    let venv = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/moto-venv");
    let python = venv.join("bin/python");
    if !has_moto(&python) {
        let ok = |c: &mut Command| c.status().is_ok_and(|s| s.success());
        assert!(
            ok(Command::new("python3").args(["-m", "venv"]).arg(&venv)),
            "python3 -m venv {} failed",
            venv.display()
        );
        assert!(
            ok(Command::new(&python).args(["-m", "pip", "install", "--quiet", MOTO])),
            "pip could not install {MOTO}"
        );
    }
    python
}

impl Moto {
    /// Starts moto on a free port and waits until it answers.
    pub fn start() -> Moto {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(python())
            .args([
                "-m",
                "moto.server",
                "-H",
                "127.0.0.1",
                "-p",
                &port.to_string(),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("moto's server starts");
        let moto = Moto {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
        };
        let started = std::time::Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < std::time::Duration::from_secs(60),
                "moto did not start within a minute"
            );
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        moto
    }

    /// Stops the server from answering (SIGSTOP): calls wait, then time out.
    pub fn pause(&self) {
        self.signal("-STOP");
    }

    /// Lets it answer again (SIGCONT).
    pub fn resume(&self) {
        self.signal("-CONT");
    }

    fn signal(&self, signal: &str) {
        let sent = Command::new("kill")
            .arg(signal)
            .arg(self.child.id().to_string())
            .status()
            .is_ok_and(|s| s.success());
        assert!(sent, "kill {signal} moto");
    }

    /// Settings for `bucket` under `prefix` on this server.
    pub fn settings(&self, bucket: &str, prefix: &str) -> S3Settings {
        S3Settings {
            bucket: bucket.to_owned(),
            prefix: prefix.to_owned(),
            endpoint: Some(self.endpoint.clone()),
            region: "us-east-1".to_owned(),
            access_key: "test".to_owned(),
            secret_key: "test".to_owned(),
            session_token: None,
            read_timeout: std::time::Duration::from_secs(2),
        }
    }

    /// Creates a bucket, with Object Lock or without.
    pub fn create_bucket(&self, bucket: &str, object_lock: bool) {
        sdk(
            &self.settings(bucket, ""),
            move |client, settings| async move {
                client
                    .create_bucket()
                    .bucket(&settings.bucket)
                    .object_lock_enabled_for_bucket(object_lock)
                    .send()
                    .await
                    .map(|_| ())
            },
        )
        .expect("the bucket is created");
    }
}

/// Runs an SDK call with the client of `settings` on a thread and runtime of its own, so that
/// async tests can call it too.
pub fn sdk<T, F, Fut>(settings: &S3Settings, call: F) -> T
where
    T: Send + 'static,
    F: FnOnce(aws_sdk_s3::Client, S3Settings) -> Fut + Send + 'static,
    Fut: Future<Output = T>,
{
    let settings = settings.clone();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(call(settings.client(), settings))
    })
    .join()
    .unwrap()
}
