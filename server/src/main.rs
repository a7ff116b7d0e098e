//! The `holdfast` binary: parses the command line, opens the store, and serves or runs a command.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand};
use holdfast_core::UserId;
use holdfast_server::assets::Assets;
use holdfast_server::checkpoints;
use holdfast_server::http::{AppState, serve};
use holdfast_server::media::{LocalMedia, MediaStore, S3Media, S3Settings};
use holdfast_server::store::postgres::PgStore;
use holdfast_server::store::sqlite::SqliteStore;
use holdfast_server::store::{NewClient, NewOrg, NewUser};
use holdfast_server::store::{StorageFault, Store, StoreError};
use holdfast_server::{audit_cli, auth, demo, ingest, sweep};

#[derive(Parser)]
#[command(
    name = "holdfast",
    version,
    about = "Legal hold for contact-center recordings"
)]
struct Cli {
    /// Where the database and media files live.
    #[arg(long, env = "HOLDFAST_DATA_DIR", default_value = "data", global = true)]
    data_dir: PathBuf,
    /// The key that signs audit checkpoints, kept outside the data directory; made when
    /// missing. Default: the data directory's path with `.audit-key` added.
    #[arg(long, env = "HOLDFAST_AUDIT_KEY", global = true)]
    audit_key: Option<PathBuf>,
    /// The append-only file of signed audit checkpoints. Default: `audit-checkpoints.jsonl`
    /// in the data directory.
    #[arg(long, env = "HOLDFAST_AUDIT_CHECKPOINTS", global = true)]
    audit_checkpoints: Option<PathBuf>,
    /// PostgreSQL instead of SQLite in the data directory, for several instances on one
    /// database: `postgres://user@host:port/dbname`. Media stay in the data directory.
    #[arg(long, env = "HOLDFAST_DATABASE_URL", global = true)]
    database: Option<String>,
    /// Where media and attachment bytes are kept: a directory (default: `media` in the data
    /// directory) or an S3-compatible bucket, `s3://bucket/prefix`, with the credentials of
    /// AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN). A bucket created
    /// with Object Lock gets a legal hold on every object of a protected conversation.
    #[arg(long, env = "HOLDFAST_MEDIA", global = true)]
    media: Option<String>,
    /// The URL of an S3-compatible server (path-style addressing); default AWS_ENDPOINT_URL_S3
    /// or AWS_ENDPOINT_URL, else AWS itself.
    #[arg(long, env = "HOLDFAST_S3_ENDPOINT", global = true)]
    s3_endpoint: Option<String>,
    /// The bucket's region; default AWS_REGION or AWS_DEFAULT_REGION, else us-east-1.
    #[arg(long, env = "HOLDFAST_S3_REGION", global = true)]
    s3_region: Option<String>,
    /// Print machine-readable JSON instead of text where a command has output.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the app and the API.
    Serve {
        #[arg(long, env = "HOLDFAST_ADDR", default_value = "127.0.0.1:8080")]
        addr: SocketAddr,
        /// The built app (`cargo xtask build-app` writes target/site).
        #[arg(long, env = "HOLDFAST_SITE", default_value = "target/site")]
        site: PathBuf,
        /// Fill a new, empty database with demo data on start.
        #[arg(long, env = "HOLDFAST_DEMO")]
        demo: bool,
        /// How many conversations the demo organization gets.
        #[arg(long, default_value_t = 3000)]
        demo_size: usize,
        /// Mark the session cookie Secure (when served over TLS by a proxy).
        #[arg(long, env = "HOLDFAST_SECURE_COOKIES")]
        secure_cookies: bool,
        /// Seconds between retention sweeps; 0 turns the background sweep off.
        #[arg(long, env = "HOLDFAST_SWEEP_INTERVAL", default_value_t = 300)]
        sweep_interval: u64,
        /// A file holding the bearer token `GET /metrics` requires; made with a new random
        /// token when missing. Default: `metrics-token` in the data directory.
        #[arg(long, env = "HOLDFAST_METRICS_TOKEN_FILE")]
        metrics_token_file: Option<PathBuf>,
    },
    /// Fill an empty database with demo data.
    Demo {
        #[arg(long, default_value_t = 3000)]
        size: usize,
    },
    /// Run the retention sweep once: delete what is past due and not protected.
    Sweep,
    /// Import conversations and recordings from JSON lines (one conversation per line, the
    /// shape of `POST /api/ingest`); `-` reads standard input.
    Import {
        #[arg(long)]
        org: String,
        file: PathBuf,
    },
    /// Manage users.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage API clients (OAuth client credentials for the Genesys-compatible API).
    #[command(subcommand)]
    Client(ClientCommand),
    /// Verify or export the audit log.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Check the stored recordings and attachments.
    #[command(subcommand)]
    Media(MediaCommand),
}

#[derive(Subcommand)]
enum MediaCommand {
    /// Read every stored file and report the missing ones, the ones whose SHA-256 changed since
    /// they arrived, and files the database does not know; exits 1 when any is found.
    Verify,
    /// Make the bucket's legal holds agree with the database: settle what a crash left, hold
    /// every object of every protected conversation, lift every other hold. Reads every
    /// object's hold; the sweep does the cheap part (the settling) on every pass.
    Reconcile,
}

#[derive(Subcommand)]
enum UserCommand {
    /// Add a user to an organization, creating the organization if it does not exist.
    Add {
        #[arg(long)]
        org: String,
        #[arg(long)]
        username: String,
        #[arg(long)]
        display_name: Option<String>,
        /// manager, supervisor, analyst, auditor or admin; repeatable.
        #[arg(long = "role", required = true)]
        roles: Vec<String>,
        /// The password; read from HOLDFAST_PASSWORD so it stays out of the shell history.
        #[arg(long, env = "HOLDFAST_PASSWORD", hide_env_values = true)]
        password: String,
    },
}

#[derive(Subcommand)]
enum ClientCommand {
    /// Add an API client; prints its client id and secret once.
    Add {
        #[arg(long)]
        org: String,
        #[arg(long)]
        name: String,
        #[arg(long = "role", required = true)]
        roles: Vec<String>,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Verify every organization's hash chain, and each against the signed checkpoints; names
    /// the first broken link.
    Verify {
        /// Check the checkpoints against this public key (64 hex digits) instead of the key
        /// file's.
        #[arg(long)]
        public_key: Option<String>,
    },
    /// Export an organization's audit log as CSV on standard output.
    Export {
        #[arg(long)]
        org: String,
    },
}

/// Where the audit signing key is: `--audit-key`, or beside the data directory (never in it).
fn audit_key_path(cli: &Cli) -> PathBuf {
    cli.audit_key.clone().unwrap_or_else(|| {
        let mut name = cli.data_dir.as_os_str().to_owned();
        name.push(".audit-key");
        PathBuf::from(name)
    })
}

fn audit_checkpoints_path(cli: &Cli) -> PathBuf {
    cli.audit_checkpoints
        .clone()
        .unwrap_or_else(|| cli.data_dir.join("audit-checkpoints.jsonl"))
}

fn open_store(
    data_dir: &std::path::Path,
    database: Option<&str>,
) -> anyhow::Result<Arc<dyn Store>> {
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("creating {}", data_dir.display()))?;
    if let Some(url) = database {
        let store = PgStore::connect(url).map_err(|e| {
            // The URL may carry a password: name the database by its host only.
            let host = url.rsplit('@').next().unwrap_or("the database");
            anyhow::anyhow!("connecting to PostgreSQL at {host}: {e}")
        })?;
        return Ok(Arc::new(store));
    }
    let path = data_dir.join("holdfast.sqlite3");
    // Say which file and why, rather than failing every write later or SQLite's bare message.
    if let Err((file, e)) = holdfast_server::store::sqlite::check_writable(&path) {
        anyhow::bail!(
            "{} cannot be written ({e}): Holdfast writes it; give the user running Holdfast write access",
            file.display()
        );
    }
    let store = SqliteStore::open(&path).map_err(|e| match e {
        StoreError::Unavailable(StorageFault::Full, cause) => anyhow::anyhow!(
            "the disk holding {} is full ({cause}): free space, then start again",
            path.display()
        ),
        StoreError::Unavailable(StorageFault::ReadOnly, cause) => anyhow::anyhow!(
            "{} or its -wal or -shm file is read-only, or on a read-only file system ({cause})",
            path.display()
        ),
        other => anyhow::anyhow!("opening {}: {other}", path.display()),
    })?;
    Ok(Arc::new(store))
}

/// `[#######.............]  35%  12,000 conversations`, or a plain count when the size is unknown.
fn progress_bar(bytes: u64, total: u64, conversations: usize) -> String {
    if total == 0 {
        return format!("{conversations} conversations imported");
    }
    let done = (bytes.min(total) * 30 / total) as usize;
    let percent = bytes.min(total) * 100 / total;
    format!(
        "[{}{}] {percent:>3}%  {conversations} conversations",
        "#".repeat(done),
        ".".repeat(30 - done)
    )
}

fn org_or_create(store: &dyn Store, name: &str) -> anyhow::Result<holdfast_core::OrgId> {
    if let Some(id) = store.find_org(name)? {
        return Ok(id);
    }
    let id = holdfast_core::OrgId::from_uuid(uuid::Uuid::new_v4());
    store.create_org(&NewOrg {
        id,
        name: name.to_owned(),
        cap: holdfast_core::Cap::DEFAULT.get(),
    })?;
    Ok(id)
}

fn parse_roles(names: &[String]) -> anyhow::Result<Vec<(String, holdfast_core::Permissions)>> {
    names
        .iter()
        .map(|n| {
            auth::role_permissions(n)
                .map(|p| (n.clone(), p))
                .with_context(|| {
                    format!("unknown role '{n}' (manager, supervisor, analyst, auditor, admin)")
                })
        })
        .collect()
}

fn seed_demo(store: &dyn Store, size: usize) -> anyhow::Result<bool> {
    if !store.is_empty()? {
        return Ok(false);
    }
    let started = std::time::Instant::now();
    let n = demo::seed(store, size, chrono::Utc::now())?;
    tracing::info!(
        conversations = n,
        ms = started.elapsed().as_millis() as u64,
        "demo data written"
    );
    Ok(true)
}

/// The metrics token kept in `path`, made (a new random one, readable by the owner only) when
/// the file does not exist.
fn metrics_token(path: &std::path::Path) -> anyhow::Result<String> {
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let token = text.trim().to_owned();
            anyhow::ensure!(
                token.len() >= 16,
                "the metrics token in {} is shorter than 16 characters",
                path.display()
            );
            Ok(token)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let token = auth::new_token();
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let mut file = options
                .open(path)
                .with_context(|| format!("creating {}", path.display()))?;
            std::io::Write::write_all(&mut file, format!("{token}\n").as_bytes())?;
            Ok(token)
        }
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}

fn print_logins(url: &str) {
    println!("Holdfast is running at {url}");
    println!("Demo logins (password: {}):", demo::DEMO_PASSWORD);
    for login in demo::LOGINS {
        println!("  {:<16} {:<11} {}", login.username, login.role, login.org);
    }
}

/// Threads for the store's blocking work. The store has five connections and argon2 checks are
/// bounded to the cores, so more threads would only wait; each thread the allocator sees keeps
/// memory of its own (16 clients paging took peak RSS to 173 MB with tokio's default of 512).
const BLOCKING_THREADS: usize = 16;

fn main() -> anyhow::Result<()> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads(BLOCKING_THREADS)
        .build()
        .context("starting the runtime")?
        .block_on(run())
}

async fn run() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("HOLDFAST_LOG")
                .unwrap_or_else(|_| "info".into()),
        )
        .init();
    let cli = Cli::parse();
    let key_path = audit_key_path(&cli);
    let checkpoints_path = audit_checkpoints_path(&cli);
    let store = open_store(&cli.data_dir, cli.database.as_deref())?;
    let media_args = MediaArgs {
        data_dir: cli.data_dir.clone(),
        media: cli.media.clone(),
        s3_endpoint: cli.s3_endpoint.clone(),
        s3_region: cli.s3_region.clone(),
    };
    match cli.command {
        Command::Demo { size } => {
            let written = seed_demo(store.as_ref(), size)?;
            match (cli.json, written) {
                (true, _) => println!("{}", serde_json::json!({"seeded": written})),
                (false, true) => println!("demo data written"),
                (false, false) => println!("the database is not empty; nothing written"),
            }
        }
        Command::User(UserCommand::Add {
            org,
            username,
            display_name,
            roles,
            password,
        }) => {
            let org_id = org_or_create(store.as_ref(), &org)?;
            let roles = parse_roles(&roles)?;
            let id = UserId::from_uuid(uuid::Uuid::new_v4());
            store.create_user(&NewUser {
                id,
                org_id,
                display_name: display_name.unwrap_or_else(|| username.clone()),
                username: username.clone(),
                password_hash: auth::hash_password(&password),
                roles,
            })?;
            match cli.json {
                true => println!(
                    "{}",
                    serde_json::json!({"userId": id.to_string(), "username": username})
                ),
                false => println!("user {username} added ({id})"),
            }
        }
        Command::Client(ClientCommand::Add { org, name, roles }) => {
            let org_id = store
                .find_org(&org)?
                .with_context(|| format!("no organization named '{org}'"))?;
            let roles = parse_roles(&roles)?;
            let id = uuid::Uuid::new_v4().to_string();
            let secret = auth::new_token();
            store.create_client(&NewClient {
                id: id.clone(),
                org_id,
                name,
                secret_hash: auth::hash_password(&secret),
                roles,
            })?;
            match cli.json {
                true => println!(
                    "{}",
                    serde_json::json!({"clientId": id, "clientSecret": secret})
                ),
                false => println!(
                    "client id:     {id}\nclient secret: {secret}\n(the secret is shown only now)"
                ),
            }
        }
        Command::Audit(AuditCommand::Verify { public_key }) => {
            let key = match public_key {
                Some(hex) => checkpoints::public_key(&hex)
                    .context("--public-key is not an Ed25519 public key (64 hex digits)")?,
                None => checkpoints::load_or_create_key(&key_path)?.verifying_key(),
            };
            let signed = checkpoints::read(&checkpoints_path, &key)?;
            let reports = audit_cli::verify_all(store.as_ref(), &signed)?;
            let broken = !signed.bad_lines.is_empty()
                || reports
                    .iter()
                    .any(|r| r.result.is_err() || r.checkpoints.is_err());
            for line in &signed.bad_lines {
                match cli.json {
                    true => println!("{}", serde_json::json!({"checkpointFile": line})),
                    false => println!("BROKEN: {line}"),
                }
            }
            for r in &reports {
                let checkpoints = r.checkpoints.as_ref().map_err(ToString::to_string);
                match (&r.result, &checkpoints, cli.json) {
                    (_, _, true) => println!(
                        "{}",
                        serde_json::json!({"org": r.org_name, "ok": r.result.is_ok() && checkpoints.is_ok(),
                            "events": r.result.as_ref().ok(), "error": r.result.as_ref().err().map(ToString::to_string),
                            "checkpoints": checkpoints.as_ref().ok(), "checkpointError": checkpoints.as_ref().err()})
                    ),
                    (Ok(n), Ok(k), false) => println!(
                        "{}: {n} events, chain verified, signed checkpoints matching: {k}",
                        r.org_name
                    ),
                    (Err(e), _, false) => println!("{}: BROKEN: {e}", r.org_name),
                    (Ok(_), Err(e), false) => println!("{}: BROKEN: {e}", r.org_name),
                }
            }
            if broken {
                anyhow::bail!("the audit chain is broken");
            }
        }
        Command::Media(MediaCommand::Reconcile) => {
            let media = open_media(&media_args)?;
            let report = holdfast_server::media::holds::reconcile(store.as_ref(), media.as_ref())
                .map_err(|e| anyhow::anyhow!(e))?;
            match (cli.json, report.holds) {
                (true, _) => println!("{}", serde_json::to_string(&report)?),
                (false, false) => println!(
                    "{} keeps no legal holds (not an Object Lock bucket); {} marks cleared",
                    media.describe(),
                    report.settled
                ),
                (false, true) => println!(
                    "{} conversations settled, {} objects of protected conversations held, {} other holds lifted",
                    report.settled, report.held, report.lifted
                ),
            }
        }
        Command::Media(MediaCommand::Verify) => {
            let media = open_media(&media_args)?;
            let report = holdfast_server::media::verify(store.as_ref(), media.as_ref())
                .map_err(|e| anyhow::anyhow!(e))?;
            match cli.json {
                true => println!("{}", serde_json::to_string(&report)?),
                false => {
                    for (what, list) in [
                        ("MISSING", &report.missing),
                        ("CHANGED", &report.mismatched),
                        ("NO CHECKSUM", &report.unhashed),
                    ] {
                        for p in list {
                            println!(
                                "{what}: {} {} of organization {}: {}",
                                p.kind, p.id, p.org, p.path
                            );
                        }
                    }
                    for path in &report.extra {
                        println!("UNKNOWN: {path}");
                    }
                    println!(
                        "{} files read: {} missing, {} changed, {} unknown, {} stored before checksums",
                        report.checked,
                        report.missing.len(),
                        report.mismatched.len(),
                        report.extra.len(),
                        report.unhashed.len()
                    );
                }
            }
            if !report.sound() {
                std::process::exit(1);
            }
        }
        Command::Audit(AuditCommand::Export { org }) => {
            let org_id = store
                .find_org(&org)?
                .with_context(|| format!("no organization named '{org}'"))?;
            let events = store.audit_events(org_id)?;
            let mut out = std::io::stdout().lock();
            audit_cli::write_csv(&mut out, events.iter().map(|(e, h)| (e, h.as_str())))?;
        }
        Command::Import { org, file } => {
            let org_id = store
                .find_org(&org)?
                .with_context(|| format!("no organization named '{org}'"))?;
            let media = open_media(&media_args)?;
            let (reader, total): (Box<dyn std::io::BufRead>, u64) = match file.to_str() {
                Some("-") => (Box::new(std::io::stdin().lock()), 0),
                _ => {
                    let f = std::fs::File::open(&file)
                        .with_context(|| format!("opening {}", file.display()))?;
                    let total = f.metadata().map(|m| m.len()).unwrap_or(0);
                    (Box::new(std::io::BufReader::new(f)), total)
                }
            };
            let show = !cli.json;
            store.bulk_load(true)?;
            // Media files a line names are relative to the file (to here for standard input).
            let base = match file.to_str() {
                Some("-") => PathBuf::from("."),
                _ => file
                    .parent()
                    .filter(|p| !p.as_os_str().is_empty())
                    .map_or_else(|| PathBuf::from("."), Path::to_path_buf),
            };
            let files = ingest::Files::RelativeTo(&base);
            let report = ingest::import(
                store.as_ref(),
                media.as_ref(),
                org_id,
                files,
                reader,
                |bytes, n| {
                    if show {
                        eprint!("\r{}", progress_bar(bytes, total, n));
                    }
                },
            );
            if show {
                eprintln!();
            }
            store.bulk_load(false)?;
            store.analyze()?;
            // Recordings that joined protected conversations get their holds now.
            holdfast_server::media::holds::drain(store.as_ref(), media.as_ref())
                .map_err(|e| anyhow::anyhow!(e))?;
            match cli.json {
                true => println!(
                    "{}",
                    serde_json::json!({"conversations": report.conversations, "recordings": report.recordings,
                        "failedLine": report.failed.as_ref().map(|f| f.0), "error": report.failed.as_ref().map(|f| &f.1)})
                ),
                false => println!(
                    "imported {} conversations with {} recordings",
                    report.conversations, report.recordings
                ),
            }
            if let Some((line, e)) = report.failed {
                anyhow::bail!("line {line}: {e}");
            }
        }
        Command::Sweep => {
            let started = std::time::Instant::now();
            let media = open_media(&media_args)?;
            let report = sweep::run_once(store.as_ref(), media.as_ref(), chrono::Utc::now())?;
            let seconds = started.elapsed().as_secs_f64();
            match cli.json {
                true => println!(
                    "{}",
                    serde_json::json!({"deleted": report, "seconds": seconds})
                ),
                false => println!("{report} recordings deleted in {seconds:.3} s"),
            }
        }
        Command::Serve {
            addr,
            site,
            demo,
            demo_size,
            secure_cookies,
            sweep_interval,
            metrics_token_file,
        } => {
            let checkpointer = checkpoints::Checkpointer::open(
                checkpoints::load_or_create_key(&key_path)?,
                checkpoints_path,
            )?;
            let public = checkpoints::public_hex(&checkpointer.public_key());
            let token_file =
                metrics_token_file.unwrap_or_else(|| cli.data_dir.join("metrics-token"));
            let metrics_token = metrics_token(&token_file)?;
            if demo {
                seed_demo(store.as_ref(), demo_size)?;
            }
            let assets =
                Assets::load(&site).with_context(|| format!("reading {}", site.display()))?;
            if assets.is_empty() {
                tracing::warn!(site = %site.display(), "no app files found; run `cargo xtask build-app`");
            }
            // Warm the dummy hash so the first failed login is not faster than the rest.
            let _ = auth::dummy_hash();
            let listener = tokio::net::TcpListener::bind(addr)
                .await
                .with_context(|| format!("binding {addr}"))?;
            let local = listener.local_addr()?;
            let media = open_media(&media_args)?;
            tracing::info!(media = %media.describe(), legal_holds = media.keeps_holds(), "media storage");
            let state = Arc::new(AppState {
                store,
                assets,
                password_checks: Arc::default(),
                body_time: Default::default(),
                secure_cookies,
                media,
                metrics: Default::default(),
                metrics_token: Some(auth::token_hash(&metrics_token)),
                checkpointer: Some(Arc::new(checkpointer)),
                storage: Default::default(),
                chains: Default::default(),
            });
            if sweep_interval > 0 {
                let interval = std::time::Duration::from_secs(sweep_interval);
                tokio::spawn(holdfast_server::tasks::sweep_every(state.clone(), interval));
            }
            tokio::spawn(holdfast_server::tasks::watch_chains(
                state.clone(),
                holdfast_server::chain::WATCH_EVERY,
            ));
            print_logins(&format!("http://{local}/"));
            println!(
                "Audit checkpoints are signed with the key in {}; public key {public}",
                key_path.display()
            );
            println!(
                "Metrics: GET /metrics with the header \"Authorization: Bearer <token>\", the token in {}",
                token_file.display()
            );
            serve(listener, state, shutdown_signal()).await;
        }
    }
    Ok(())
}

/// What the command line says of media storage, kept apart from the command it runs.
struct MediaArgs {
    data_dir: PathBuf,
    media: Option<String>,
    s3_endpoint: Option<String>,
    s3_region: Option<String>,
}

/// The media storage the command line names: a directory (the data directory's `media` by
/// default) or an S3 bucket.
fn open_media(cli: &MediaArgs) -> anyhow::Result<Arc<dyn MediaStore>> {
    match cli.media.as_deref() {
        // `s3:/x` and other slips are refused as S3 settings, not made a directory.
        Some(url) if url.starts_with("s3:") => {
            let settings =
                S3Settings::from_url(url, cli.s3_endpoint.clone(), cli.s3_region.clone())
                    .map_err(|e| anyhow::anyhow!(e))?;
            let media = S3Media::open(&settings, cli.data_dir.join("spool"))
                .map_err(|e| anyhow::anyhow!(e))?;
            Ok(Arc::new(media))
        }
        other => {
            let dir = other.map_or_else(|| cli.data_dir.join("media"), PathBuf::from);
            let media = LocalMedia::open(dir.clone())
                .with_context(|| format!("creating {}", dir.display()))?;
            Ok(Arc::new(media))
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down");
}
