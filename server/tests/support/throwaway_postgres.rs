//! A throwaway PostgreSQL 15 for tests: its own data directory, a free port, its socket in a
//! temporary directory; stopped and removed when dropped. Only the standard library, so that
//! the server's tests and xtask (`#[path]`) share this one file.

use std::path::{Path, PathBuf};
use std::process::Command;

/// A PostgreSQL 15 of its own, on a free port with its socket in a temporary directory, stopped
/// and removed when dropped. Debian's server binaries are off PATH, and `initdb` refuses to run
/// as root, so as root it runs as the `postgres` user on a directory that user owns.
pub struct ThrowawayPostgres {
    dir: PathBuf,
    bin: PathBuf,
    port: u16,
}

fn as_postgres(bin: &Path, program: &str) -> Command {
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0\n"));
    match root {
        true => {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(bin.join(program));
            c
        }
        false => Command::new(bin.join(program)),
    }
}

/// The directory of PostgreSQL's server binaries, installing the package where it is missing.
fn postgres_bin() -> PathBuf {
    let find = || {
        std::fs::read_dir("/usr/lib/postgresql")
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path().join("bin"))
            .find(|bin| bin.join("initdb").is_file())
    };
    if let Some(bin) = find() {
        return bin;
    }
    let apt = |args: &[&str]| {
        Command::new("apt-get")
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status()
            .is_ok_and(|s| s.success())
    };
    // A new machine's package lists may be missing or stale: refreshed once if needed.
    let installed = apt(&["install", "-y", "postgresql-15"])
        || (apt(&["update"]) && apt(&["install", "-y", "postgresql-15"]));
    assert!(
        installed,
        "PostgreSQL is not installed and apt-get could not install it"
    );
    find().expect("postgresql-15 installs its server binaries under /usr/lib/postgresql")
}

impl ThrowawayPostgres {
    pub fn start() -> ThrowawayPostgres {
        let bin = postgres_bin();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let dir = std::env::temp_dir().join(format!("holdfast-pg-{}-{port}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("a temporary directory");
        let _ = Command::new("chown").arg("postgres").arg(&dir).status();
        let data = dir.join("data");
        let out = as_postgres(&bin, "initdb")
            .arg("-D")
            .arg(&data)
            .args(["-A", "trust", "-U", "postgres"])
            .output()
            .expect("initdb runs");
        assert!(
            out.status.success(),
            "initdb: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let options = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=on -c synchronous_commit=on -c max_connections=60",
            dir.display()
        );
        let out = as_postgres(&bin, "pg_ctl")
            .arg("-D")
            .arg(&data)
            .args(["-o", &options, "-l"])
            .arg(dir.join("log"))
            .args(["-w", "start"])
            .output()
            .expect("pg_ctl runs");
        assert!(
            out.status.success(),
            "pg_ctl start: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        ThrowawayPostgres { dir, bin, port }
    }

    /// The URL of its `postgres` database, as `--database` takes it.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for ThrowawayPostgres {
    fn drop(&mut self) {
        let _ = as_postgres(&self.bin, "pg_ctl")
            .arg("-D")
            .arg(self.dir.join("data"))
            .args(["-m", "immediate", "stop"])
            .output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
