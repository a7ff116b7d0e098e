//! The PostgreSQL store, for several Holdfast instances on one database: versioned migrations
//! applied once however many instances start together, and write transactions in which the
//! use cases run ([`Transact`], [`Tx`]). Each transaction locks the row of every organization
//! it touches before it reads for a decision (`SELECT ... FOR UPDATE`), so two instances can
//! never both spend the last of an organization's cap, its audit chain has one appender at a
//! time, and the sweep cannot delete what a concurrent protect covers. Conversations,
//! recordings and attachments are keyed by organization and id.
//!
//! The reads the pages make (`Store`) are in `reads`, each in a read-only snapshot.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use holdfast_core::api::Selection;
use holdfast_core::audit::{ChainHash, StoredEvent};
use holdfast_core::deletion::RecordingState;
use holdfast_core::holds::{HoldInfo, NewHold, OrgSettings, ReleaseRequest};
use holdfast_core::protection::{
    Count, OrgStatus, ProtectAction, SelectionSummary, counting_bound,
};
use holdfast_core::retention::RetentionPolicy;
use holdfast_core::time::Instant;
use holdfast_core::view::Filters;
use holdfast_core::{Cap, ConversationId, FileState, HoldId, OrgId, RecordingId};
use postgres::error::SqlState;
use postgres::types::ToSql;
use postgres::{Client, IsolationLevel, NoTls};

mod holds;
mod reads;

use super::{
    FoundAttachment, FoundRecording, HoldRelease, MediaSlot, NewAttachment, NewConversation,
    NewRecording, ProtectedBy, Standing, StorageFault, StoreError, StoreResult, StoredMedia,
    Transact, Tx,
};

/// The migrations, in order; `holdfast_migrations` records which have run.
const MIGRATIONS: &[&str] = &[
    include_str!("postgres/0001_initial.sql"),
    include_str!("postgres/0002_login_windows.sql"),
    include_str!("postgres/0003_media_checksums.sql"),
    include_str!("postgres/0004_summary_columns.sql"),
    include_str!("postgres/0005_media_holds.sql"),
    include_str!("postgres/0006_forecast_by_date.sql"),
    include_str!("postgres/0007_legal_holds.sql"),
    include_str!("postgres/0008_hold_view_versions.sql"),
];

/// The advisory lock migrations run under, so that instances starting together apply each once.
const MIGRATION_LOCK: i64 = 0x486f_6c64_6661_7374;

/// How often a transaction that lost a serialization conflict or a deadlock is run again.
const RETRIES: usize = 5;

/// Connections one instance opens at most. PostgreSQL refuses clients past its
/// `max_connections` (100 by default) for every instance together: unbounded, forty requests at
/// once on three instances ran out and answered 500.
const MAX_OPEN: usize = 16;

/// How long a request waits for a connection to come free before it is answered 503.
const WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// A page's total as counted: the organization's data version it was counted at, the count
/// (up to one past the bound), and the bound.
type KeptTotal = (i64, u64, u64);

/// How many page totals an instance keeps (each a few dozen bytes), by organization and
/// filters.
const TOTALS_KEPT: usize = 10_000;

pub struct PgStore {
    url: String,
    totals: Mutex<HashMap<(OrgId, String), KeptTotal>>,
    pool: Mutex<Pool>,
    /// Signalled when a connection is handed back or closed.
    freed: std::sync::Condvar,
}

/// The instance's connections: the idle ones, and how many are open in all.
#[derive(Default)]
struct Pool {
    idle: Vec<Client>,
    open: usize,
}

/// A connection taken from the pool, handed back when dropped (closed if it broke).
struct Conn<'a> {
    store: &'a PgStore,
    client: Option<Client>,
}

impl std::ops::Deref for Conn<'_> {
    type Target = Client;
    fn deref(&self) -> &Client {
        self.client.as_ref().expect("held until dropped")
    }
}

impl std::ops::DerefMut for Conn<'_> {
    fn deref_mut(&mut self) -> &mut Client {
        self.client.as_mut().expect("held until dropped")
    }
}

impl Drop for Conn<'_> {
    fn drop(&mut self) {
        if let Some(client) = self.client.take() {
            self.store.give_back(client);
        }
    }
}

/// PostgreSQL's error as a store error: a full disk, a read-only server or a lost connection
/// say so (503 or 507, never half-applied: the transaction did not commit).
impl From<postgres::Error> for StoreError {
    fn from(e: postgres::Error) -> Self {
        // Every connection the server allows is taken (other instances, other tools): a moment
        // later there may be one.
        if e.code() == Some(&SqlState::TOO_MANY_CONNECTIONS) {
            return StoreError::Busy;
        }
        let fault = match e.code() {
            Some(code) if *code == SqlState::DISK_FULL => Some(StorageFault::Full),
            Some(code) if *code == SqlState::READ_ONLY_SQL_TRANSACTION => {
                Some(StorageFault::ReadOnly)
            }
            // The server ended the session (shut down, restarted, an administrator's command)
            // or the connection failed: nothing of the transaction was kept.
            Some(code) if code.code().starts_with("57") || code.code().starts_with("08") => {
                Some(StorageFault::Io)
            }
            Some(_) => None,
            None if e.is_closed() => Some(StorageFault::Io),
            None => None,
        };
        match fault {
            Some(fault) => StoreError::Unavailable(fault, Box::new(e)),
            None => StoreError::Database(Box::new(e)),
        }
    }
}

/// Runs `f`, which blocks on the database, where blocking is allowed: the blocking client runs
/// a small runtime of its own, which cannot start on a thread that drives tokio's tasks.
fn blocking<T>(f: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current() {
        Ok(handle) if handle.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(f)
        }
        _ => f(),
    }
}

/// Whether a failed transaction may simply be run again.
fn retryable(e: &postgres::Error) -> bool {
    matches!(e.code(), Some(code) if *code == SqlState::T_R_SERIALIZATION_FAILURE
        || *code == SqlState::T_R_DEADLOCK_DETECTED)
}

impl PgStore {
    /// Connects to the database at `url` (`postgres://user@host:port/db`) and applies the
    /// migrations it has not run yet.
    pub fn connect(url: &str) -> StoreResult<PgStore> {
        blocking(|| PgStore::connect_here(url))
    }

    fn connect_here(url: &str) -> StoreResult<PgStore> {
        let store = PgStore {
            url: url.to_owned(),
            totals: Mutex::default(),
            pool: Mutex::default(),
            freed: std::sync::Condvar::new(),
        };
        migrate(&mut *store.client()?)?;
        Ok(store)
    }

    /// An idle connection, a new one while fewer than [`MAX_OPEN`] are open, or the first to
    /// come free within [`WAIT`].
    fn client(&self) -> StoreResult<Conn<'_>> {
        let deadline = std::time::Instant::now() + WAIT;
        let mut pool = self.pool.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            while let Some(client) = pool.idle.pop() {
                if !client.is_closed() {
                    return Ok(Conn {
                        store: self,
                        client: Some(client),
                    });
                }
                pool.open -= 1;
            }
            if pool.open < MAX_OPEN {
                pool.open += 1;
                drop(pool);
                return match Client::connect(&self.url, NoTls) {
                    Ok(client) => Ok(Conn {
                        store: self,
                        client: Some(client),
                    }),
                    Err(e) => {
                        self.closed();
                        Err(e.into())
                    }
                };
            }
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                return Err(StoreError::Busy);
            }
            pool = self
                .freed
                .wait_timeout(pool, left)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
    }

    fn give_back(&self, client: Client) {
        if client.is_closed() {
            return self.closed();
        }
        let mut pool = self.pool.lock().unwrap_or_else(|p| p.into_inner());
        pool.idle.push(client);
        drop(pool);
        self.freed.notify_one();
    }

    /// A connection was closed (or never opened): room for another.
    fn closed(&self) {
        let mut pool = self.pool.lock().unwrap_or_else(|p| p.into_inner());
        pool.open = pool.open.saturating_sub(1);
        drop(pool);
        self.freed.notify_one();
    }
}

impl Drop for PgStore {
    /// Closing a connection blocks too.
    fn drop(&mut self) {
        let pool = self.pool.get_mut().unwrap_or_else(|p| p.into_inner());
        let idle = std::mem::take(&mut pool.idle);
        blocking(move || drop(idle));
    }
}

fn migrate(client: &mut Client) -> StoreResult<()> {
    let mut tx = client.transaction()?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS holdfast_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())",
    )?;
    let done: i32 = tx
        .query_one(
            "SELECT COALESCE(MAX(version), 0) FROM holdfast_migrations",
            &[],
        )?
        .get(0);
    for (index, sql) in MIGRATIONS.iter().enumerate() {
        let version = i32::try_from(index + 1).unwrap_or(i32::MAX);
        if version <= done {
            continue;
        }
        tx.batch_execute(sql)?;
        tx.execute(
            "INSERT INTO holdfast_migrations (version) VALUES ($1)",
            &[&version],
        )?;
    }
    tx.commit()?;
    Ok(())
}

impl Transact for PgStore {
    fn transact(&self, work: &mut dyn FnMut(&mut dyn Tx) -> StoreResult<()>) -> StoreResult<()> {
        blocking(|| self.transact_here(work))
    }
}

impl PgStore {
    fn transact_here(
        &self,
        work: &mut dyn FnMut(&mut dyn Tx) -> StoreResult<()>,
    ) -> StoreResult<()> {
        let mut client = self.client()?;
        let mut attempt = 0;
        loop {
            attempt += 1;
            match run(&mut client, work) {
                Err(Failure::Retry(e)) if attempt < RETRIES => {
                    tracing::debug!(error = %e, attempt, "transaction conflict: run again");
                }
                Err(Failure::Retry(e)) => break Err(e.into()),
                Err(Failure::Store(e)) => break Err(e),
                Ok(()) => break Ok(()),
            }
        }
    }
}

/// Why one run of a transaction failed.
enum Failure {
    /// A serialization conflict or a deadlock: nothing was kept, run it again.
    Retry(postgres::Error),
    Store(StoreError),
}

fn run(
    client: &mut Client,
    work: &mut dyn FnMut(&mut dyn Tx) -> StoreResult<()>,
) -> Result<(), Failure> {
    let fail = |e: postgres::Error| match retryable(&e) {
        true => Failure::Retry(e),
        false => Failure::Store(e.into()),
    };
    let mut tx = client
        .build_transaction()
        .isolation_level(IsolationLevel::ReadCommitted)
        .start()
        .map_err(fail)?;
    let mut pg = PgTx {
        tx: &mut tx,
        locked: HashSet::new(),
        writable: true,
    };
    match work(&mut pg) {
        Ok(()) => {}
        Err(StoreError::Database(cause)) => {
            // A conflict inside `work` surfaces as a store error: look through it.
            return match cause.downcast::<postgres::Error>() {
                Ok(e) => Err(fail(*e)),
                Err(cause) => Err(Failure::Store(StoreError::Database(cause))),
            };
        }
        Err(e) => return Err(Failure::Store(e)),
    }
    tx.commit().map_err(fail)
}

/// A write transaction of the PostgreSQL store, with the organizations it has locked.
struct PgTx<'a, 'b> {
    tx: &'a mut postgres::Transaction<'b>,
    locked: HashSet<OrgId>,
    /// A write transaction locks what it decides about; a read takes its snapshot as it is.
    writable: bool,
}

/// A statement's text and its parameters, numbered as they are added.
#[derive(Default)]
struct Sql {
    text: String,
    args: Vec<Box<dyn ToSql + Sync>>,
}

impl Sql {
    /// Adds a parameter and returns its placeholder.
    fn arg(&mut self, value: impl ToSql + Sync + 'static) -> String {
        self.args.push(Box::new(value));
        format!("${}", self.args.len())
    }

    fn and(&mut self, clause: &str) {
        self.text.push_str(" AND ");
        self.text.push_str(clause);
    }

    fn refs(&self) -> Vec<&(dyn ToSql + Sync)> {
        self.args.iter().map(|a| a.as_ref()).collect()
    }
}

/// Kept by the `protections` trigger (migration 0004).
const PROTECTED: &str = "c.protected";
/// A conversation with a policy-based recording that is not deleted (rule 1, as SQL), kept by
/// the `recordings` trigger.
const PROTECTABLE: &str = "c.protectable";

/// The bit of a media in `media_mask` (migration 0004's `holdfast_media_bit`).
fn media_bit(m: holdfast_core::Media) -> i32 {
    match m {
        holdfast_core::Media::Call => 1,
        holdfast_core::Media::Chat => 2,
        holdfast_core::Media::Email => 4,
        holdfast_core::Media::Message => 8,
        holdfast_core::Media::Screen => 16,
    }
}

/// `%text%` for ILIKE, with the pattern characters in `text` taken literally.
fn contains(text: &str) -> String {
    let escaped = text
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

/// The conversations `c` a selection names, as a WHERE clause.
fn selection_sql(org: OrgId, selection: &Selection) -> StoreResult<Sql> {
    let mut sql = Sql::default();
    let org_arg = sql.arg(org.to_string());
    sql.text = format!("c.org_id = {org_arg}");
    let (query, except) = match selection {
        Selection::Ids { ids } => {
            let ids: Vec<String> = ids.iter().map(ToString::to_string).collect();
            let ids = sql.arg(ids);
            sql.and(&format!("c.id = ANY({ids})"));
            return Ok(sql);
        }
        Selection::Filter { query, except } => (query, except),
    };
    let f = Filters::from_query(query).map_err(StoreError::BadFilter)?;
    if let Some(t) = f.from {
        let t = sql.arg(t.timestamp_millis());
        sql.and(&format!("c.start_time >= {t}"));
    }
    if let Some(t) = f.to {
        let t = sql.arg(t.timestamp_millis());
        sql.and(&format!("c.start_time < {t}"));
    }
    if !f.media.is_empty() {
        let mask = sql.arg(f.media.iter().map(|m| media_bit(*m)).fold(0, |a, b| a | b));
        sql.and(&format!("(c.media_mask & {mask}) <> 0"));
    }
    if let Some(d) = f.direction {
        let d = sql.arg(d.as_str().to_owned());
        sql.and(&format!("c.direction = {d}"));
    }
    if let Some(q) = &f.queue {
        let q = sql.arg(q.clone());
        sql.and(&format!("c.queue = {q}"));
    }
    if let Some(text) = &f.agent {
        // As a set the planner may build once from the trigram index (a rare name among a
        // million conversations), rather than a check on every row a page walks.
        let text = sql.arg(contains(text));
        sql.and(&format!(
            "c.id IN (SELECT a.conversation_id FROM participants a WHERE a.org_id = {org_arg}
             AND a.kind = 'agent' AND a.name ILIKE {text})"
        ));
    }
    if let Some(text) = &f.remote {
        let text = sql.arg(contains(text));
        sql.and(&format!("c.remote_party ILIKE {text}"));
    }
    match f.has_recording {
        Some(true) => sql.and("c.recording_count > 0"),
        Some(false) => sql.and("c.recording_count = 0"),
        None => {}
    }
    match f.protected {
        Some(true) => sql.and(PROTECTED),
        Some(false) => sql.and(&format!("NOT {PROTECTED}")),
        None => {}
    }
    if let Some(t) = f.deleted_before {
        let t = sql.arg(t.timestamp_millis());
        sql.and(&format!("c.next_delete < {t}"));
    }
    // A hold's conversations (the cap's worth at most), read from the hold once, as an array,
    // and looked up by key: as a semi-join, a count up to its bound walked the organization's
    // conversations checking each against the hold.
    match f.hold {
        Some(h) if h.is_default() => sql.and(&format!(
            "c.id = ANY(ARRAY(SELECT p.conversation_id FROM protections p
                              WHERE p.org_id = {org_arg} AND p.by_default))"
        )),
        Some(h) => {
            let h = sql.arg(h.to_string());
            sql.and(&format!(
                "c.id = ANY(ARRAY(SELECT m.conversation_id FROM hold_members m
                                  WHERE m.org_id = {org_arg} AND m.hold_id = {h}))"
            ));
        }
        None => {}
    }
    if !except.is_empty() {
        let except: Vec<String> = except.iter().map(ToString::to_string).collect();
        let except = sql.arg(except);
        sql.and(&format!("NOT (c.id = ANY({except}))"));
    }
    Ok(sql)
}

/// The organization's retention policies with their ids, by order.
fn policies(
    tx: &mut postgres::Transaction<'_>,
    org: OrgId,
) -> StoreResult<Vec<(String, RetentionPolicy)>> {
    let rows = tx.query(
        "SELECT id, policy FROM retention_policies WHERE org_id = $1",
        &[&org.to_string()],
    )?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let (id, json): (String, String) = (row.get(0), row.get(1));
        let policy: RetentionPolicy = serde_json::from_str(&json)
            .map_err(|e| StoreError::Corrupt(format!("retention policy {id}: {e}")))?;
        out.push((id, policy));
    }
    out.sort_by_key(|(_, p)| p.order);
    Ok(out)
}

fn parse_id<T, E>(text: &str, parse: impl Fn(&str) -> Result<T, E>) -> StoreResult<T> {
    parse(text).map_err(|_| StoreError::Corrupt(format!("stored id '{text}'")))
}

fn instant(ms: i64) -> StoreResult<Instant> {
    chrono::DateTime::from_timestamp_millis(ms)
        .ok_or_else(|| StoreError::Corrupt(format!("stored time {ms}")))
}

fn to_u32(n: i64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

impl PgTx<'_, '_> {
    /// Locks the organization's row until the transaction ends (once per transaction) and
    /// returns its cap: every decision about the organization is made under this lock.
    fn lock(&mut self, org: OrgId) -> StoreResult<Cap> {
        let lock = match self.writable {
            true => "FOR UPDATE",
            false => "",
        };
        let row = self.tx.query_opt(
            &format!("SELECT cap FROM organizations WHERE id = $1 {lock}"),
            &[&org.to_string()],
        )?;
        let cap: i32 = row
            .ok_or_else(|| StoreError::Corrupt(format!("no organization {org}")))?
            .get(0);
        self.locked.insert(org);
        u32::try_from(cap)
            .ok()
            .and_then(Cap::new)
            .ok_or_else(|| StoreError::Corrupt(format!("cap {cap}")))
    }

    fn ensure_locked(&mut self, org: OrgId) -> StoreResult<()> {
        match self.locked.contains(&org) {
            true => Ok(()),
            false => self.lock(org).map(drop),
        }
    }

    /// Where the view stops counting for these filters (core's `total_bound`): lower when a
    /// text filter matches many participants, decided as every backend decides it.
    pub(super) fn view_bound(&mut self, selection: &Selection) -> StoreResult<u64> {
        let Selection::Filter { query, .. } = selection else {
            return Ok(holdfast_core::api::total_bound(false));
        };
        let f = Filters::from_query(query).map_err(StoreError::BadFilter)?;
        // A hold's interactions are few (the cap's worth at most): counted exactly.
        if f.hold.is_some() {
            return Ok(holdfast_core::api::total_bound(false));
        }
        let mut many = false;
        for text in [&f.agent, &f.remote].into_iter().flatten() {
            // A text of fewer than three characters has no trigram to count by: exact.
            if text.chars().count() < 3 {
                continue;
            }
            let limit =
                i64::try_from(holdfast_core::api::TEXT_SEARCH_MATCHES + 1).unwrap_or(i64::MAX);
            let matches: i64 = self
                .tx
                .query_one(
                    "SELECT COUNT(*) FROM (SELECT 1 FROM participants WHERE name ILIKE $1 LIMIT $2) s",
                    &[&contains(text), &limit],
                )?
                .get(0);
            many |= u64::try_from(matches).unwrap_or(0) > holdfast_core::api::TEXT_SEARCH_MATCHES;
        }
        Ok(holdfast_core::api::total_bound(many))
    }

    /// Counts the rows of `c` matching `sql` and `condition`, up to `bound` + 1.
    pub(super) fn count_up_to(
        &mut self,
        sql: &Sql,
        condition: &str,
        bound: u64,
    ) -> StoreResult<u64> {
        let limit = i64::try_from(bound.saturating_add(1)).unwrap_or(i64::MAX);
        let mut args = sql.refs();
        args.push(&limit);
        let n: i64 = self
            .tx
            .query_one(
                &format!(
                    "SELECT COUNT(*) FROM (SELECT 1 FROM conversations c WHERE {} AND {condition} LIMIT ${}) s",
                    sql.text,
                    args.len()
                ),
                &args,
            )?
            .get(0);
        Ok(u64::try_from(n).unwrap_or(0))
    }
}

impl Tx for PgTx<'_, '_> {
    fn org_status(&mut self, org: OrgId) -> StoreResult<OrgStatus> {
        let cap = self.lock(org)?;
        let protected: i64 = self
            .tx
            .query_one(
                "SELECT COUNT(*) FROM protections WHERE org_id = $1",
                &[&org.to_string()],
            )?
            .get(0);
        Ok(OrgStatus {
            protected: to_u32(protected),
            cap,
        })
    }

    fn classify(
        &mut self,
        org: OrgId,
        ids: &[ConversationId],
    ) -> StoreResult<Vec<(ConversationId, Standing)>> {
        self.ensure_locked(org)?;
        let listed: Vec<String> = ids.iter().map(ToString::to_string).collect();
        let rows = self.tx.query(
            &format!(
                "SELECT c.id, {PROTECTED}, {PROTECTABLE} FROM conversations c WHERE c.org_id = $1 AND c.id = ANY($2)"
            ),
            &[&org.to_string(), &listed],
        )?;
        let mut found: HashMap<String, Standing> = HashMap::new();
        for row in rows {
            let standing = match (row.get::<_, bool>(1), row.get::<_, bool>(2)) {
                (true, _) => Standing::Protected,
                (false, true) => Standing::Protectable,
                (false, false) => Standing::NotProtectable,
            };
            found.insert(row.get(0), standing);
        }
        Ok(ids
            .iter()
            .zip(&listed)
            .map(|(id, text)| (*id, found.get(text).copied().unwrap_or(Standing::NotFound)))
            .collect())
    }

    fn past_due(&mut self, org: OrgId, selection: &Selection, now: Instant) -> StoreResult<u32> {
        self.ensure_locked(org)?;
        let mut sql = selection_sql(org, selection)?;
        let now = sql.arg(now.timestamp_millis());
        // From the protected conversations (at most the cap's worth) to their recordings.
        let n: i64 = self
            .tx
            .query_one(
                &format!(
                    "SELECT COUNT(*) FROM protections p
                     JOIN conversations c ON c.org_id = p.org_id AND c.id = p.conversation_id
                     JOIN recordings r ON r.org_id = c.org_id AND r.conversation_id = c.id
                     WHERE {} AND NOT {HELD} AND r.file_state = 'AVAILABLE' AND r.delete_date <= {now}",
                    sql.text,
                    HELD = holds::HELD
                ),
                &sql.refs(),
            )?
            .get(0);
        Ok(to_u32(n))
    }

    fn summarize(
        &mut self,
        org: OrgId,
        selection: &Selection,
        now: Instant,
    ) -> StoreResult<SelectionSummary> {
        if let Selection::Ids { ids } = selection {
            let standings = self.classify(org, ids)?;
            let protected: Vec<ConversationId> = standings
                .iter()
                .filter(|(_, s)| *s == Standing::Protected)
                .map(|(id, _)| *id)
                .collect();
            let held = self.held_of(org, &protected)?;
            let due = self.past_due(org, selection, now)?;
            return Ok(SelectionSummary::of_standings(&standings, &held, due));
        }
        let status = self.org_status(org)?;
        let sql = selection_sql(org, selection)?;
        let row = self.tx.query_one(
            &format!(
                "SELECT COUNT(*), COUNT(*) FILTER (WHERE {PROTECTABLE}), COUNT(*) FILTER (WHERE {HELD})
                 FROM protections p
                 JOIN conversations c ON c.org_id = p.org_id AND c.id = p.conversation_id WHERE {}",
                sql.text,
                HELD = holds::HELD
            ),
            &sql.refs(),
        )?;
        let protected: i64 = row.get(0);
        let held: i64 = row.get(2);
        let view_bound = self.view_bound(selection)?;
        let protectable_bound = counting_bound(&status, view_bound);
        let protectable = self.count_up_to(
            &sql,
            &format!("{PROTECTABLE} AND NOT {PROTECTED}"),
            u64::from(protectable_bound),
        )?;
        let without = self.count_up_to(
            &sql,
            &format!("NOT {PROTECTABLE} AND NOT {PROTECTED}"),
            view_bound,
        )?;
        let view_bound = u32::try_from(view_bound).unwrap_or(u32::MAX);
        Ok(SelectionSummary {
            protected: to_u32(protected),
            protectable: Count::of(
                u32::try_from(protectable).unwrap_or(u32::MAX),
                protectable_bound,
            ),
            without_recording: Count::of(u32::try_from(without).unwrap_or(u32::MAX), view_bound),
            past_due_recordings: self.past_due(org, selection, now)?,
            held: to_u32(held),
        })
    }

    fn to_change(
        &mut self,
        org: OrgId,
        selection: &Selection,
        action: ProtectAction,
    ) -> StoreResult<Vec<ConversationId>> {
        self.ensure_locked(org)?;
        let sql = selection_sql(org, selection)?;
        let query = match action {
            ProtectAction::Protect => format!(
                "SELECT c.id FROM conversations c WHERE {} AND {PROTECTABLE} AND NOT {PROTECTED}",
                sql.text
            ),
            // The held ones stay: only their hold's release lets them go.
            ProtectAction::Release => format!(
                "SELECT c.id FROM protections p
                 JOIN conversations c ON c.org_id = p.org_id AND c.id = p.conversation_id
                 WHERE {} AND NOT {HELD}",
                sql.text,
                HELD = holds::HELD
            ),
        };
        self.tx
            .query(&query, &sql.refs())?
            .iter()
            .map(|row| parse_id(row.get(0), ConversationId::parse))
            .collect()
    }

    fn recordings_of(
        &mut self,
        org: OrgId,
        conversations: &[ConversationId],
    ) -> StoreResult<HashMap<ConversationId, Vec<RecordingId>>> {
        let listed: Vec<String> = conversations.iter().map(ToString::to_string).collect();
        let rows = self.tx.query(
            "SELECT conversation_id, id FROM recordings WHERE org_id = $1 AND conversation_id = ANY($2)
             ORDER BY conversation_id, created_at, id",
            &[&org.to_string(), &listed],
        )?;
        let mut out: HashMap<ConversationId, Vec<RecordingId>> = HashMap::new();
        for row in rows {
            out.entry(parse_id(row.get(0), ConversationId::parse)?)
                .or_default()
                .push(parse_id(row.get(1), RecordingId::parse)?);
        }
        Ok(out)
    }

    fn protect(
        &mut self,
        org: OrgId,
        conversations: &[ConversationId],
        by: &ProtectedBy,
        by_default: bool,
    ) -> StoreResult<()> {
        self.ensure_locked(org)?;
        let listed: Vec<String> = conversations.iter().map(ToString::to_string).collect();
        self.tx.execute(
            "INSERT INTO protections (org_id, conversation_id, protected_at, protected_by, reason, by_default)
             SELECT $1, id, $3, $4, $5, $6 FROM unnest($2::text[]) AS id",
            &[
                &org.to_string(),
                &listed,
                &by.at.timestamp_millis(),
                &by.by,
                &by.reason,
                &by_default,
            ],
        )?;
        Ok(())
    }

    fn held(&mut self, org: OrgId, ids: &[ConversationId]) -> StoreResult<Vec<ConversationId>> {
        self.held_of(org, ids)
    }

    fn protected_in(
        &mut self,
        org: OrgId,
        selection: &Selection,
    ) -> StoreResult<Vec<ConversationId>> {
        self.ensure_locked(org)?;
        let sql = selection_sql(org, selection)?;
        self.tx
            .query(
                &format!(
                    "SELECT DISTINCT c.id FROM protections p
                     JOIN conversations c ON c.org_id = p.org_id AND c.id = p.conversation_id WHERE {}",
                    sql.text
                ),
                &sql.refs(),
            )?
            .iter()
            .map(|row| parse_id(row.get(0), ConversationId::parse))
            .collect()
    }

    fn hold(&mut self, org: OrgId, id: HoldId) -> StoreResult<Option<HoldInfo>> {
        self.find_hold(org, id)
    }

    fn insert_hold(
        &mut self,
        org: OrgId,
        id: HoldId,
        hold: &NewHold,
        owner: &str,
        at: Instant,
    ) -> StoreResult<()> {
        self.add_hold(org, id, hold, owner, at)
    }

    fn note_date(
        &mut self,
        org: OrgId,
        recording: RecordingId,
        reason: &str,
        at: Instant,
    ) -> StoreResult<()> {
        self.ensure_locked(org)?;
        self.tx.execute(
            "INSERT INTO recording_dates (org_id, recording_id, reason, set_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (org_id, recording_id) DO UPDATE SET reason = excluded.reason, set_at = excluded.set_at",
            &[&org.to_string(), &recording.to_string(), &reason, &at.timestamp_millis()],
        )?;
        Ok(())
    }

    fn settings(&mut self, org: OrgId) -> StoreResult<OrgSettings> {
        self.org_settings(org)
    }

    fn set_settings(&mut self, org: OrgId, settings: &OrgSettings) -> StoreResult<()> {
        self.store_settings(org, settings)
    }

    fn pending_releases(&mut self, org: OrgId, hold: HoldId) -> StoreResult<Vec<ReleaseRequest>> {
        self.ensure_locked(org)?;
        self.waiting_releases(org, hold)
    }

    fn release_selection(&mut self, org: OrgId, request: &str) -> StoreResult<Option<String>> {
        self.ensure_locked(org)?;
        self.selection_of(org, request)
    }

    fn insert_release_request(
        &mut self,
        org: OrgId,
        request: &ReleaseRequest,
        selection: Option<&str>,
    ) -> StoreResult<()> {
        self.add_release_request(org, request, selection)
    }

    fn decide_release(
        &mut self,
        org: OrgId,
        request: &str,
        by: &str,
        at: Instant,
        approved: bool,
    ) -> StoreResult<()> {
        self.record_decision(org, request, by, at, approved)
    }

    fn in_hold(
        &mut self,
        org: OrgId,
        hold: HoldId,
        ids: &[ConversationId],
    ) -> StoreResult<Vec<ConversationId>> {
        self.members_of(org, hold, ids)
    }

    fn query_holds(&mut self, org: OrgId) -> StoreResult<Vec<(HoldId, String)>> {
        self.active_queries(org)
    }

    fn note_miss(
        &mut self,
        org: OrgId,
        hold: HoldId,
        conversation: ConversationId,
        at: Instant,
    ) -> StoreResult<bool> {
        self.add_miss(org, hold, conversation, at)
    }

    fn join_hold(
        &mut self,
        org: OrgId,
        hold: HoldId,
        conversations: &[ConversationId],
        by: &ProtectedBy,
    ) -> StoreResult<Vec<ConversationId>> {
        self.add_members(org, hold, conversations, by)
    }

    fn hold_release(&mut self, org: OrgId, hold: HoldId, now: Instant) -> StoreResult<HoldRelease> {
        self.release_of(org, hold, now)
    }

    fn end_hold(
        &mut self,
        org: OrgId,
        hold: HoldId,
        at: Instant,
        by: &str,
        reason: Option<&str>,
    ) -> StoreResult<()> {
        self.close_hold(org, hold, at, by, reason)
    }

    fn release(&mut self, org: OrgId, conversations: &[ConversationId]) -> StoreResult<()> {
        self.ensure_locked(org)?;
        let listed: Vec<String> = conversations.iter().map(ToString::to_string).collect();
        self.tx.execute(
            "DELETE FROM protections WHERE org_id = $1 AND conversation_id = ANY($2)",
            &[&org.to_string(), &listed],
        )?;
        Ok(())
    }

    fn mark_holds(&mut self, org: OrgId, conversations: &[ConversationId]) -> StoreResult<()> {
        let listed: Vec<String> = conversations.iter().map(ToString::to_string).collect();
        self.tx.execute(
            "INSERT INTO media_holds (org_id, conversation_id, mark)
             SELECT $1, id, 1 FROM unnest($2::text[]) AS id
             ON CONFLICT (org_id, conversation_id) DO UPDATE SET mark = media_holds.mark + 1",
            &[&org.to_string(), &listed],
        )?;
        Ok(())
    }

    fn recording(&mut self, org: OrgId, id: RecordingId) -> StoreResult<Option<FoundRecording>> {
        self.ensure_locked(org)?;
        let row = self.tx.query_opt(
            "SELECT r.conversation_id, r.file_state, r.delete_date,
                    EXISTS (SELECT 1 FROM protections p WHERE p.org_id = r.org_id AND p.conversation_id = r.conversation_id)
             FROM recordings r WHERE r.org_id = $1 AND r.id = $2",
            &[&org.to_string(), &id.to_string()],
        )?;
        let Some(row) = row else {
            return Ok(None);
        };
        let state: String = row.get(1);
        let state = FileState::parse(&state)
            .ok_or_else(|| StoreError::Corrupt(format!("file state '{state}'")))?;
        let date: Option<i64> = row.get(2);
        Ok(Some(FoundRecording {
            conversation: parse_id(row.get(0), ConversationId::parse)?,
            state: RecordingState {
                protected: row.get(3),
                state,
                delete_date: date.map(instant).transpose()?,
            },
        }))
    }

    fn has_transcript(&mut self, org: OrgId, id: RecordingId) -> StoreResult<Option<bool>> {
        let row = self.tx.query_opt(
            "SELECT transcript IS NOT NULL FROM recordings WHERE org_id = $1 AND id = $2",
            &[&org.to_string(), &id.to_string()],
        )?;
        Ok(row.map(|r| r.get(0)))
    }

    fn attachment(&mut self, org: OrgId, id: &str) -> StoreResult<Option<FoundAttachment>> {
        let row = self.tx.query_opt(
            "SELECT recording_id, path, name FROM attachments WHERE org_id = $1 AND id = $2",
            &[&org.to_string(), &id],
        )?;
        row.map(|row| {
            Ok(FoundAttachment {
                recording: parse_id(row.get(0), RecordingId::parse)?,
                path: row.get(1),
                name: row.get(2),
            })
        })
        .transpose()
    }

    fn remove_transcript(&mut self, org: OrgId, id: RecordingId) -> StoreResult<()> {
        self.tx.execute(
            "UPDATE recordings SET transcript = NULL WHERE org_id = $1 AND id = $2",
            &[&org.to_string(), &id.to_string()],
        )?;
        Ok(())
    }

    fn remove_attachment(&mut self, org: OrgId, id: &str) -> StoreResult<()> {
        self.tx.execute(
            "DELETE FROM attachments WHERE org_id = $1 AND id = $2",
            &[&org.to_string(), &id],
        )?;
        Ok(())
    }

    fn mark_deleted(&mut self, org: OrgId, id: RecordingId) -> StoreResult<Vec<String>> {
        let (org, id) = (org.to_string(), id.to_string());
        let Some(row) = self.tx.query_opt(
            "SELECT media_path FROM recordings WHERE org_id = $1 AND id = $2",
            &[&org, &id],
        )?
        else {
            return Ok(Vec::new());
        };
        let mut files: Vec<String> = row.get::<_, Option<String>>(0).into_iter().collect();
        for row in self.tx.query(
            "DELETE FROM attachments WHERE org_id = $1 AND recording_id = $2 RETURNING path",
            &[&org, &id],
        )? {
            files.extend(row.get::<_, Option<String>>(0));
        }
        self.tx.execute(
            "UPDATE recordings SET file_state = 'DELETED', media_path = NULL, transcript = NULL
             WHERE org_id = $1 AND id = $2",
            &[&org, &id],
        )?;
        Ok(files)
    }

    fn store_delete_date(
        &mut self,
        org: OrgId,
        id: RecordingId,
        date: Option<Instant>,
    ) -> StoreResult<()> {
        self.tx.execute(
            "UPDATE recordings SET delete_date = $3 WHERE org_id = $1 AND id = $2",
            &[
                &org.to_string(),
                &id.to_string(),
                &date.map(|d| d.timestamp_millis()),
            ],
        )?;
        Ok(())
    }

    fn due(&mut self, now: Instant, limit: usize) -> StoreResult<Vec<(OrgId, RecordingId)>> {
        // Every organization locked, in one order (no deadlock with a protect, which locks
        // one): no protect can commit between this read and the deletions.
        for row in self
            .tx
            .query("SELECT id FROM organizations ORDER BY id FOR UPDATE", &[])?
        {
            self.locked.insert(parse_id(row.get(0), OrgId::parse)?);
        }
        let rows = self.tx.query(
            "SELECT r.org_id, r.id FROM recordings r
             WHERE r.file_state = 'AVAILABLE' AND r.delete_date <= $1
               AND NOT EXISTS (SELECT 1 FROM protections p WHERE p.org_id = r.org_id AND p.conversation_id = r.conversation_id)
             ORDER BY r.delete_date LIMIT $2",
            &[
                &now.timestamp_millis(),
                &i64::try_from(limit).unwrap_or(i64::MAX),
            ],
        )?;
        rows.iter()
            .map(|row| {
                Ok((
                    parse_id(row.get(0), OrgId::parse)?,
                    parse_id(row.get(1), RecordingId::parse)?,
                ))
            })
            .collect()
    }

    fn audit_head(&mut self, org: OrgId) -> StoreResult<Option<(u64, ChainHash)>> {
        // One appender at a time per organization: its row is locked first.
        self.ensure_locked(org)?;
        let row = self.tx.query_opt(
            "SELECT seq, hash FROM audit_heads WHERE org_id = $1",
            &[&org.to_string()],
        )?;
        row.map(|row| {
            let hash: String = row.get(1);
            let hash = ChainHash::from_hex(&hash)
                .ok_or_else(|| StoreError::Corrupt("audit head hash".to_owned()))?;
            Ok((u64::try_from(row.get::<_, i64>(0)).unwrap_or(0), hash))
        })
        .transpose()
    }

    fn insert_audit_events(&mut self, org: OrgId, events: &[StoredEvent]) -> StoreResult<()> {
        let seq: Vec<i64> = events
            .iter()
            .map(|e| i64::try_from(e.seq).unwrap_or(i64::MAX))
            .collect();
        let time: Vec<i64> = events.iter().map(|e| e.columns.time_ms).collect();
        let action: Vec<&str> = events.iter().map(|e| e.columns.action.as_str()).collect();
        let entity: Vec<&str> = events
            .iter()
            .map(|e| e.columns.entity_id.as_str())
            .collect();
        let actor: Vec<Option<&str>> = events
            .iter()
            .map(|e| e.columns.actor_id.as_deref())
            .collect();
        let form: Vec<i32> = events
            .iter()
            .map(|e| i32::try_from(e.form).unwrap_or(i32::MAX))
            .collect();
        let bytes: Vec<&str> = events.iter().map(|e| e.bytes.as_str()).collect();
        let hash: Vec<&str> = events.iter().map(|e| e.hash.as_str()).collect();
        self.tx.execute(
            "INSERT INTO audit_events (org_id, seq, time, action, entity_id, actor_id, form, event, hash)
             SELECT $1, * FROM unnest($2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::text[],
                                      $7::integer[], $8::text[], $9::text[])",
            &[
                &org.to_string(),
                &seq,
                &time,
                &action,
                &entity,
                &actor,
                &form,
                &bytes,
                &hash,
            ],
        )?;
        Ok(())
    }

    fn move_audit_head(&mut self, org: OrgId, seq: u64, hash: &ChainHash) -> StoreResult<()> {
        self.tx.execute(
            "INSERT INTO audit_heads (org_id, seq, hash) VALUES ($1, $2, $3)
             ON CONFLICT (org_id) DO UPDATE SET seq = EXCLUDED.seq, hash = EXCLUDED.hash",
            &[
                &org.to_string(),
                &i64::try_from(seq).unwrap_or(i64::MAX),
                &hash.to_hex(),
            ],
        )?;
        Ok(())
    }

    fn update_policy(&mut self, org: OrgId, id: &str, policy: &str) -> StoreResult<bool> {
        let n = self.tx.execute(
            "UPDATE retention_policies SET policy = $3 WHERE id = $1 AND org_id = $2",
            &[&id, &org.to_string(), &policy],
        )?;
        Ok(n > 0)
    }

    fn insert_policy(&mut self, org: OrgId, id: &str, policy: &str) -> StoreResult<()> {
        self.tx.execute(
            "INSERT INTO retention_policies (id, org_id, policy) VALUES ($1, $2, $3)",
            &[&id, &org.to_string(), &policy],
        )?;
        Ok(())
    }

    fn retention_policies(&mut self, org: OrgId) -> StoreResult<Vec<RetentionPolicy>> {
        Ok(policies(self.tx, org)?
            .into_iter()
            .map(|(_, p)| p)
            .collect())
    }

    fn conversation_known(&mut self, org: OrgId, id: ConversationId) -> StoreResult<bool> {
        Ok(self
            .tx
            .query_opt(
                "SELECT 1 FROM conversations WHERE org_id = $1 AND id = $2",
                &[&org.to_string(), &id.to_string()],
            )?
            .is_some())
    }

    fn recording_known(&mut self, org: OrgId, id: RecordingId) -> StoreResult<bool> {
        Ok(self
            .tx
            .query_opt(
                "SELECT 1 FROM recordings WHERE org_id = $1 AND id = $2",
                &[&org.to_string(), &id.to_string()],
            )?
            .is_some())
    }

    fn insert_conversation(&mut self, org: OrgId, c: &NewConversation) -> StoreResult<()> {
        let (org, id) = (org.to_string(), c.id.to_string());
        let duration = (c.end_time - c.start_time).num_milliseconds().max(0);
        self.tx.execute(
            "INSERT INTO conversations (org_id, id, start_time, end_time, duration_ms, direction, queue, remote_party, wrap_up)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            &[
                &org,
                &id,
                &c.start_time.timestamp_millis(),
                &c.end_time.timestamp_millis(),
                &duration,
                &c.direction.as_str(),
                &c.queue,
                &c.remote_party,
                &c.wrap_up,
            ],
        )?;
        let mut kinds: Vec<&str> = vec!["agent"; c.agents.len()];
        let mut names: Vec<&str> = c.agents.iter().map(String::as_str).collect();
        if let Some(remote) = &c.remote_party {
            kinds.push("remote");
            names.push(remote);
        }
        self.tx.execute(
            "INSERT INTO participants (org_id, conversation_id, kind, name)
             SELECT $1, $2, * FROM unnest($3::text[], $4::text[])",
            &[&org, &id, &kinds, &names],
        )?;
        Ok(())
    }

    fn insert_recording(
        &mut self,
        org: OrgId,
        conversation: ConversationId,
        r: &NewRecording,
        delete_date: Option<Instant>,
    ) -> StoreResult<()> {
        let (org, id) = (org.to_string(), r.id.to_string());
        let state = if r.deleted { "DELETED" } else { "AVAILABLE" };
        self.tx.execute(
            "INSERT INTO recordings (org_id, id, conversation_id, media, role, created_at, duration_ms, size_bytes,
                                     file_state, delete_date, media_path, transcript, content_type, media_sha256)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
            &[
                &org,
                &id,
                &conversation.to_string(),
                &r.media.as_str(),
                &r.role.as_str(),
                &r.created_at.timestamp_millis(),
                &r.duration_ms.and_then(|d| i64::try_from(d).ok()),
                &r.size_bytes.and_then(|s| i64::try_from(s).ok()),
                &state,
                &delete_date.map(|d| d.timestamp_millis()),
                &r.media_path,
                &r.transcript,
                &r.content_type,
                &r.media_sha256,
            ],
        )?;
        for a in &r.attachments {
            self.insert_attachment(&org, &id, a)?;
        }
        Ok(())
    }

    fn media_slot(&mut self, org: OrgId, id: RecordingId) -> StoreResult<MediaSlot> {
        self.ensure_locked(org)?;
        let row = self.tx.query_opt(
            "SELECT file_state, media_path IS NOT NULL FROM recordings WHERE org_id = $1 AND id = $2",
            &[&org.to_string(), &id.to_string()],
        )?;
        Ok(match row {
            None => MediaSlot::NotFound,
            Some(row) if row.get::<_, String>(0) != "AVAILABLE" => MediaSlot::Deleted,
            Some(row) if row.get::<_, bool>(1) => MediaSlot::Taken,
            Some(_) => MediaSlot::Free,
        })
    }

    fn store_media(&mut self, org: OrgId, id: RecordingId, media: &StoredMedia) -> StoreResult<()> {
        self.ensure_locked(org)?;
        self.tx.execute(
            "UPDATE recordings SET media_path = $1, media_sha256 = $2, size_bytes = $3, content_type = $4
             WHERE org_id = $5 AND id = $6",
            &[
                &media.path,
                &media.sha256,
                &i64::try_from(media.size_bytes).unwrap_or(i64::MAX),
                &media.content_type,
                &org.to_string(),
                &id.to_string(),
            ],
        )?;
        Ok(())
    }

    fn add_attachment(
        &mut self,
        org: OrgId,
        recording: RecordingId,
        a: &NewAttachment,
    ) -> StoreResult<()> {
        self.ensure_locked(org)?;
        self.insert_attachment(&org.to_string(), &recording.to_string(), a)
    }
}

impl PgTx<'_, '_> {
    fn insert_attachment(
        &mut self,
        org: &str,
        recording: &str,
        a: &NewAttachment,
    ) -> StoreResult<()> {
        self.tx.execute(
            "INSERT INTO attachments (org_id, id, recording_id, name, content_type, size_bytes, path, sha256)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            &[
                &org,
                &a.id,
                &recording,
                &a.name,
                &a.content_type,
                &i64::try_from(a.size_bytes).unwrap_or(i64::MAX),
                &a.path,
                &a.sha256,
            ],
        )?;
        Ok(())
    }
}
