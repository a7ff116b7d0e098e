//! The embedded SQLite store: one file in WAL mode with `synchronous=FULL`, one writer
//! connection and a small pool of readers. Every write transaction is `BEGIN IMMEDIATE`, so a
//! transaction that reads and then writes (the cap check, the audit chain) holds the write lock
//! from its first read.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use chrono::{TimeZone, Utc};
use holdfast_core::api::{
    AttachmentInfo, ConversationDetails, ConversationPage, ConversationRow, ProtectionInfo,
    RecordingInfo, SavedView, Selection,
};
use holdfast_core::audit::{self, AuditEvent};
use holdfast_core::deletion::{self, RecordingState};
use holdfast_core::holds::{HoldDetails, HoldList};
use holdfast_core::protection::{Count, OrgStatus, SelectionSummary};
use holdfast_core::retention::RetentionPolicy;
use holdfast_core::time::Instant;
use holdfast_core::view::{Filters, SortKey, ViewState};
use holdfast_core::{
    Cap, ConversationId, Direction, FileState, HoldId, Media, OrgId, Permissions, RecordingId,
    RecordingRole, UserId,
};
mod checkpoint;
mod holds;
mod tx;

use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params, params_from_iter};

use super::{
    AuditChain, AuditFilter, Caller, FileKind, FillItem, FoundRecording, HoldState, LoginRecord,
    LoginWindow, NewClient, NewConversation, NewOrg, NewUser, Standing, StorageFault, Store,
    StoreError, StoreResult, StoredFile, StoredObject, Transact, Tx,
};

/// The migrations, in order; `user_version` records how many have run.
const MIGRATIONS: &[&str] = &[
    include_str!("sqlite/0001_initial.sql"),
    include_str!("sqlite/0002_clients_media_views.sql"),
    include_str!("sqlite/0003_denormalized_for_scale.sql"),
    include_str!("sqlite/0004_participant_search.sql"),
    include_str!("sqlite/0005_audit_queries.sql"),
    include_str!("sqlite/0006_sweep_by_date.sql"),
    include_str!("sqlite/0007_deletion_order_with_media.sql"),
    include_str!("sqlite/0008_audit_canonical_form.sql"),
    include_str!("sqlite/0009_protect_touches_fewer_pages.sql"),
    include_str!("sqlite/0010_ids_per_organization.sql"),
    include_str!("sqlite/0011_media_checksums.sql"),
    include_str!("sqlite/0012_media_holds.sql"),
    include_str!("sqlite/0013_forecast_by_date.sql"),
    include_str!("sqlite/0014_legal_holds.sql"),
];

/// How many rows a batched insert or delete writes per statement: far below SQLite's limit of
/// 32,766 parameters, and few distinct statements to cache.
const ROWS_PER_STATEMENT: usize = 200;

/// `next_delete` of a conversation without any deletion date.
const NEVER: i64 = i64::MAX;

/// The bit of a media in `media_mask`.
fn media_bit(m: Media) -> i64 {
    match m {
        Media::Call => 1,
        Media::Chat => 2,
        Media::Email => 4,
        Media::Message => 8,
        Media::Screen => 16,
    }
}

/// Readers kept open for reuse.
const READER_POOL: usize = 4;

/// SQLite's error as a store error: a full disk, a read-only file or failing I/O say so, with
/// SQLite's error kept as the cause.
impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        use rusqlite::ErrorCode;
        let fault = match e.sqlite_error_code() {
            Some(ErrorCode::DiskFull) => Some(StorageFault::Full),
            Some(ErrorCode::ReadOnly) => Some(StorageFault::ReadOnly),
            Some(ErrorCode::SystemIoFailure | ErrorCode::CannotOpen) => Some(StorageFault::Io),
            _ => None,
        };
        match fault {
            Some(fault) => StoreError::Unavailable(fault, Box::new(e)),
            None => StoreError::Database(Box::new(e)),
        }
    }
}

pub struct SqliteStore {
    path: std::path::PathBuf,
    writer: Mutex<Connection>,
    readers: Mutex<Readers>,
    /// Signalled when a reader is handed back.
    reader_free: std::sync::Condvar,
    /// Called as every statement runs (the query-plan test sets it).
    trace: Mutex<Option<Tracer>>,
    /// Sign-in windows: one instance serves a SQLite database, so its memory is the one place
    /// every attempt passes (and a restart forgets them, as it forgets nothing that matters
    /// for longer than the window).
    login_windows: Mutex<HashMap<String, LoginWindow>>,
    /// Checkpoints what the writer commits, off the request path.
    checkpointer: checkpoint::Checkpointer,
}

/// A pooled reading connection, with the interactions totals it counted, each with the
/// database version it was counted at (`PRAGMA data_version`, which changes when any
/// connection, of this process or another, commits): paging through a view counts its total
/// once, not on every page, and never serves a total older than the data.
struct Reader {
    conn: Connection,
    totals: std::collections::HashMap<(OrgId, String), (i64, u64, bool)>,
}

/// The reading connections: at most [`READER_POOL`] open, idle ones kept. A read waits for
/// one rather than opening more: a connection opened for one request starts with a cold page
/// cache and none of the totals, and sixteen concurrent pages opened twelve of them each time.
#[derive(Default)]
struct Readers {
    idle: Vec<Reader>,
    open: usize,
}

/// How many totals a reader keeps (then it forgets them all and starts again).
const TOTALS_KEPT: usize = 256;

/// Each connection's page cache, in KiB (SQLite's default is 2 MB): the hot index pages of a
/// few million conversations stay in memory. Five connections stay within the server's
/// memory budget.
const CACHE_KIB: i64 = 16 * 1024;
/// The writer's page cache during a bulk load: random keys touch pages all over every index,
/// and with 16 MiB most inserts read a page back from the file (120k demo conversations:
/// 237 s with 16 MiB, 31 s with 1 GiB). Given back when the load ends.
const BULK_CACHE_KIB: i64 = 1024 * 1024;

fn ms(t: Instant) -> i64 {
    t.timestamp_millis()
}

fn from_ms(ms: i64) -> Instant {
    Utc.timestamp_millis_opt(ms).single().unwrap_or_default()
}

/// What [`SqliteStore::trace_statements`] calls.
pub type Tracer = fn(rusqlite::trace::TraceEvent<'_>);

fn open(path: &Path, trace: Option<Tracer>) -> rusqlite::Result<Connection> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    conn.execute_batch(&format!(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; \
         PRAGMA cache_size = -{CACHE_KIB};"
    ))?;
    conn.trace_v2(rusqlite::trace::TraceEventCodes::SQLITE_TRACE_STMT, trace);
    // Room for every fixed statement of the hot paths (rusqlite keeps 16 by default).
    conn.set_prepared_statement_cache_capacity(128);
    Ok(conn)
}

fn parse_id<T>(
    text: &str,
    parse: fn(&str) -> Result<T, holdfast_core::ids::IdError>,
) -> StoreResult<T> {
    parse(text).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// Checks that the database file at `path` and its `-wal` and `-shm` files, where they exist,
/// can be written: a file left read-only would otherwise let the server start and then fail
/// every write. Answers the first that cannot, with why.
pub fn check_writable(path: &Path) -> Result<(), (PathBuf, std::io::Error)> {
    let mut files = vec![path.to_owned()];
    for suffix in ["-wal", "-shm"] {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        files.push(PathBuf::from(name));
    }
    for file in files {
        if std::fs::symlink_metadata(&file).is_ok()
            && let Err(e) = std::fs::OpenOptions::new().append(true).open(&file)
        {
            return Err((file, e));
        }
    }
    Ok(())
}

impl SqliteStore {
    /// (organization, conversation) keys a keyset `sql` (after, after, limit) answers.
    fn keys_after(
        &self,
        sql: &str,
        after: Option<&(String, String)>,
        limit: usize,
    ) -> StoreResult<Vec<(OrgId, ConversationId)>> {
        let (org, id) = after.cloned().unwrap_or_default();
        self.read(|c| {
            let rows = c
                .prepare_cached(sql)?
                .query_map(
                    params![org, id, i64::try_from(limit).unwrap_or(i64::MAX)],
                    |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)),
                )?
                .collect::<Result<Vec<_>, _>>()?;
            rows.into_iter()
                .map(|(o, c)| {
                    Ok((
                        parse_id(&o, OrgId::parse)?,
                        parse_id(&c, ConversationId::parse)?,
                    ))
                })
                .collect()
        })
    }
    /// Opens (creating if needed) the database at `path` and runs pending migrations.
    pub fn open(path: &Path) -> StoreResult<SqliteStore> {
        Self::open_with_log_limit(path, checkpoint::LOG_LIMIT_FRAMES)
    }

    fn open_with_log_limit(path: &Path, log_limit: i64) -> StoreResult<SqliteStore> {
        let mut writer = open(path, None)?;
        migrate(&mut writer)?;
        // Statistics for the planner where they are missing or stale (cheap when they are
        // current): without them it answered `org_id = ? AND id IN (...)` by walking the
        // organization's whole index range.
        // Whole-index statistics: sampled ones (analysis_limit) took the organization, half the
        // table, for a thousand rows, and sent a million-row summary through a non-covering
        // index (2.5 s instead of 0.1 s). ANALYZE reads 1.2M conversations in about 3 s.
        writer.execute_batch("PRAGMA optimize = 0x10002;")?;
        // Commits never checkpoint: the checkpointer's thread does (see `checkpoint`).
        // The log file is cut back to this size when the writer starts it over.
        writer.execute_batch(
            "PRAGMA wal_autocheckpoint = 0; PRAGMA journal_size_limit = 67108864;",
        )?;
        let checkpointer = checkpoint::Checkpointer::start(path, log_limit)?;
        Ok(SqliteStore {
            path: path.to_owned(),
            writer: Mutex::new(writer),
            readers: Mutex::new(Readers::default()),
            reader_free: std::sync::Condvar::new(),
            trace: Mutex::new(None),
            login_windows: Mutex::default(),
            checkpointer,
        })
    }

    /// Runs `f` on the connection that writes: tests make SQLite's own limits stand in for a
    /// full disk (`max_page_count`) or a read-only file (`query_only`).
    pub fn with_writer<T>(
        &self,
        f: impl FnOnce(&Connection) -> rusqlite::Result<T>,
    ) -> StoreResult<T> {
        let conn = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        Ok(f(&conn)?)
    }

    /// Calls `f` as every statement the store runs from now on begins (and at the start of each
    /// trigger it fires): what the query-plan test explains.
    pub fn trace_statements(&self, f: Tracer) {
        *self.trace.lock().unwrap_or_else(|p| p.into_inner()) = Some(f);
        self.writer
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .trace_v2(rusqlite::trace::TraceEventCodes::SQLITE_TRACE_STMT, Some(f));
        // Idle readers were opened without it (the tests call this before any read).
        let mut readers = self.readers.lock().unwrap_or_else(|p| p.into_inner());
        let idle = readers.idle.len();
        readers.idle.clear();
        readers.open -= idle;
    }

    fn write<T>(
        &self,
        f: impl FnOnce(&rusqlite::Transaction<'_>) -> StoreResult<T>,
    ) -> StoreResult<T> {
        let mut conn = self
            .writer
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        self.checkpointer.restart_log(&conn);
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let out = f(&tx)?;
        tx.commit()?;
        self.checkpointer.committed();
        Ok(out)
    }

    fn read<T>(&self, f: impl FnOnce(&Connection) -> StoreResult<T>) -> StoreResult<T> {
        self.read_with(|reader| f(&reader.conn))
    }

    fn read_with<T>(&self, f: impl FnOnce(&mut Reader) -> StoreResult<T>) -> StoreResult<T> {
        let mut readers = self.readers.lock().unwrap_or_else(|p| p.into_inner());
        let pooled = loop {
            if let Some(reader) = readers.idle.pop() {
                break Some(reader);
            }
            if readers.open < READER_POOL {
                readers.open += 1;
                break None;
            }
            readers = self
                .reader_free
                .wait(readers)
                .unwrap_or_else(|p| p.into_inner());
        };
        drop(readers);
        let mut reader = match pooled {
            Some(reader) => reader,
            None => {
                let trace = *self.trace.lock().unwrap_or_else(|p| p.into_inner());
                match open(&self.path, trace) {
                    Ok(conn) => Reader {
                        conn,
                        totals: std::collections::HashMap::new(),
                    },
                    Err(e) => {
                        self.readers.lock().unwrap_or_else(|p| p.into_inner()).open -= 1;
                        self.reader_free.notify_one();
                        return Err(e.into());
                    }
                }
            }
        };
        let out = f(&mut reader);
        self.readers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .idle
            .push(reader);
        self.reader_free.notify_one();
        out
    }
}

fn migrate(conn: &mut Connection) -> StoreResult<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let done: usize = tx
        .query_row("PRAGMA user_version", [], |r| r.get::<_, i64>(0))?
        .try_into()
        .unwrap_or(0);
    if done > MIGRATIONS.len() {
        return Err(StoreError::Corrupt(format!(
            "the database has schema version {done}, newer than this program's {}",
            MIGRATIONS.len()
        )));
    }
    if done > 0 && done < MIGRATIONS.len() {
        // Some rebuild tables (0010 copies every conversation: about 80 s per million), and
        // the server does not answer meanwhile: say why.
        tracing::info!(
            from = done,
            to = MIGRATIONS.len(),
            "upgrading the database schema; a large database takes minutes"
        );
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(done) {
        tx.execute_batch(sql)?;
        tx.execute_batch(&format!("PRAGMA user_version = {}", i + 1))?;
    }
    tx.commit()?;
    Ok(())
}

/// How one text filter (an agent's name, a remote party) is answered. Neither way is cheap for
/// every text: a search costs what the text matches, a walk costs the rows passed before a page
/// is full, which is the page divided by the share of rows that match.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum TextPlan {
    /// Few participants match: their conversations are found through the trigram index.
    Search,
    /// Many match, or the text is too short for a trigram: rows are read in the page's order
    /// and each is checked, so a page stops after the rows it needs.
    Walk,
    /// The statement's FROM clause already joins the matches (a bounded count).
    Joined,
}

/// The plan of each text filter of a set of filters.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
struct TextPlans {
    agent: TextPlan,
    remote: TextPlan,
}

/// Up to this many trigram matches (every organization, every kind of participant), a text is
/// searched; beyond, the rows are walked. A search of 5,000 matches and a walk for a page at
/// one match in 2,000 rows each cost some tens of milliseconds.
const SPARSE_MATCHES: i64 = holdfast_core::api::TEXT_SEARCH_MATCHES as i64;

/// How many trigram matches a bounded count of a walked text filter reads at most.
const JOINED_MATCHES: i64 = 20_000;

/// Which participants a text filter searches in the trigram index `participant_search`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum TextKind {
    Agent,
    Remote,
}

impl TextKind {
    fn as_str(self) -> &'static str {
        match self {
            TextKind::Agent => "agent",
            TextKind::Remote => "remote",
        }
    }

    /// The index's query for a text: a quoted phrase, so that its characters mean only
    /// themselves.
    fn phrase(self, text: &str) -> String {
        format!("name:\"{}\"", text.replace('"', "\"\""))
    }

    /// Counts the index's matches of a phrase (of any kind), up to a limit (parameters: phrase,
    /// limit).
    fn count_sql(self) -> &'static str {
        "SELECT count(*) FROM (SELECT 1 FROM participant_search WHERE participant_search MATCH ? LIMIT ?)"
    }

    /// The conversations matching a phrase, as a condition on `c` (parameters: phrase,
    /// organization).
    fn search_clause(self) -> String {
        format!(
            "c.id IN (SELECT s.conversation_id FROM participant_search s
                      WHERE participant_search MATCH ? AND s.kind = '{}' AND s.org_id = ?)",
            self.as_str()
        )
    }

    /// The text checked on each row walked (parameter: a LIKE pattern).
    fn walk_clause(self) -> &'static str {
        match self {
            TextKind::Agent => {
                "EXISTS (SELECT 1 FROM participants p WHERE p.org_id = c.org_id AND p.conversation_id = c.id
                          AND p.kind = 'agent' AND p.name LIKE ? ESCAPE '\\')"
            }
            TextKind::Remote => "c.remote_party LIKE ? ESCAPE '\\'",
        }
    }

    /// At most a limit of the index's matches joined to their conversations `c` (parameters:
    /// phrase, limit), each conversation once.
    fn joined_from(self) -> String {
        format!(
            "(SELECT DISTINCT s.org_id, s.conversation_id FROM participant_search s
              WHERE participant_search MATCH ? AND s.kind = '{}' LIMIT ?) s
             CROSS JOIN conversations c ON c.org_id = s.org_id AND c.id = s.conversation_id",
            self.as_str()
        )
    }
}

/// Whether the trigram index can answer a text (three characters or more).
fn has_trigram(text: &str) -> bool {
    text.chars().count() >= 3
}

fn text_plans(c: &Connection, f: &Filters) -> StoreResult<TextPlans> {
    let plan = |kind: TextKind, text: &Option<String>| -> StoreResult<TextPlan> {
        let Some(text) = text.as_deref().filter(|t| has_trigram(t)) else {
            return Ok(TextPlan::Walk);
        };
        let matches: i64 = c
            .prepare_cached(kind.count_sql())?
            .query_row(params![kind.phrase(text), SPARSE_MATCHES + 1], |r| r.get(0))?;
        Ok(match matches <= SPARSE_MATCHES {
            true => TextPlan::Search,
            false => TextPlan::Walk,
        })
    };
    Ok(TextPlans {
        agent: plan(TextKind::Agent, &f.agent)?,
        remote: plan(TextKind::Remote, &f.remote)?,
    })
}

/// The WHERE clause (after `c.org_id = ?1`) and its parameters for a set of filters, with the
/// plan of each text filter.
fn filter_sql(org: OrgId, f: &Filters, plans: TextPlans) -> (String, Vec<Value>) {
    let mut sql = String::from("c.org_id = ?");
    let mut args: Vec<Value> = vec![Value::Text(org.to_string())];
    let mut add = |clause: &str, values: Vec<Value>| {
        sql.push_str(" AND ");
        sql.push_str(clause);
        args.extend(values);
    };
    if let Some(t) = f.from {
        add("c.start_time >= ?", vec![Value::Integer(ms(t))]);
    }
    if let Some(t) = f.to {
        add("c.start_time < ?", vec![Value::Integer(ms(t))]);
    }
    if !f.media.is_empty() {
        let mask = f.media.iter().map(|m| media_bit(*m)).fold(0, |a, b| a | b);
        add("(c.media_mask & ?) != 0", vec![Value::Integer(mask)]);
    }
    if let Some(d) = f.direction {
        add("c.direction = ?", vec![Value::Text(d.as_str().to_owned())]);
    }
    if let Some(q) = &f.queue {
        add("c.queue = ?", vec![Value::Text(q.clone())]);
    }
    for (kind, text, plan) in [
        (TextKind::Agent, &f.agent, plans.agent),
        (TextKind::Remote, &f.remote, plans.remote),
    ] {
        if let Some(text) = text {
            match plan {
                TextPlan::Search => add(
                    &kind.search_clause(),
                    vec![Value::Text(kind.phrase(text)), Value::Text(org.to_string())],
                ),
                TextPlan::Walk => add(kind.walk_clause(), vec![Value::Text(like_pattern(text))]),
                TextPlan::Joined => {}
            }
        }
    }
    if let Some(b) = f.has_recording {
        add(
            if b {
                "c.recording_count > 0"
            } else {
                "c.recording_count = 0"
            },
            vec![],
        );
    }
    if let Some(b) = f.protected {
        add("c.protected = ?", vec![Value::Integer(i64::from(b))]);
    }
    if let Some(t) = f.deleted_before {
        add("c.next_delete < ?", vec![Value::Integer(ms(t))]);
    }
    if let Some(hold) = f.hold {
        let org = Value::Text(org.to_string());
        match hold.is_default() {
            true => add(
                "c.id IN (SELECT p.conversation_id FROM protections p
                          WHERE p.org_id = ? AND p.by_default = 1)",
                vec![org],
            ),
            false => add(
                "c.id IN (SELECT m.conversation_id FROM hold_members m
                          WHERE m.org_id = ? AND m.hold_id = ?)",
                vec![org, Value::Text(hold.to_string())],
            ),
        }
    }
    (sql, args)
}

/// The index a statement over `c` goes through for these filters: a hold's conversations (the
/// cap's worth at most) are looked up by their key, never found by walking the organization's
/// rows in the sort order and checking each.
fn driving_index(f: &Filters) -> &'static str {
    match f.hold {
        Some(_) => KEY_INDEX,
        None => "",
    }
}

/// A text filter that matches many participants and has a trigram: a bounded count reads its
/// matches from the trigram index instead of walking rows until enough match (a thousand
/// matches at one in twenty is twenty thousand rows walked).
fn joined_text(f: &Filters, plans: TextPlans) -> Option<(TextKind, &str, TextPlans)> {
    fn walked(text: &Option<String>, plan: TextPlan) -> Option<&str> {
        text.as_deref()
            .filter(|t| has_trigram(t) && plan == TextPlan::Walk)
    }
    // A hold's conversations are few: counting them is exact and cheap.
    if f.hold.is_some() {
        return None;
    }
    if let Some(a) = walked(&f.agent, plans.agent) {
        let plans = TextPlans {
            agent: TextPlan::Joined,
            ..plans
        };
        return Some((TextKind::Agent, a, plans));
    }
    let r = walked(&f.remote, plans.remote)?;
    let plans = TextPlans {
        remote: TextPlan::Joined,
        ..plans
    };
    Some((TextKind::Remote, r, plans))
}

/// The conversations of filters (except some), each with `condition`, counted up to one past
/// `bound`: the cost never grows with the table. A walked text filter is counted from its
/// trigram matches, at most [`JOINED_MATCHES`] of them; when that many did not decide the
/// count, the rows are walked instead, so that the answer is always exact up to the bound.
fn count_up_to(
    c: &Connection,
    org: OrgId,
    f: &Filters,
    plans: TextPlans,
    except: &[ConversationId],
    condition: &str,
    bound: u64,
) -> StoreResult<u64> {
    let excluded = |sql: &mut String, args: &mut Vec<Value>| exclude(sql, args, except);
    let limit = i64::try_from(bound.saturating_add(1)).unwrap_or(i64::MAX);
    // Unprotected ones are counted as all of them less the protected ones (few, and counted
    // exactly through their own index): no index that a protect rewrites holds `protected`.
    if f.protected == Some(false) {
        let all = Filters {
            protected: None,
            ..f.clone()
        };
        let (mut where_sql, mut args) = filter_sql(org, &all, plans);
        excluded(&mut where_sql, &mut args);
        let protected: i64 = c
            .prepare_cached(&format!(
                "SELECT COUNT(*) FROM conversations c INDEXED BY conversations_org_protected
                 WHERE {where_sql} AND {condition} AND {IS_PROTECTED}"
            ))?
            .query_row(params_from_iter(args.iter()), |r| r.get(0))?;
        let protected = u64::try_from(protected).unwrap_or(0);
        let counted = count_up_to(c, org, &all, plans, except, condition, bound + protected)?;
        return Ok(counted.saturating_sub(protected));
    }
    if let Some((kind, text, joined)) = joined_text(f, plans) {
        let (mut where_sql, where_args) = filter_sql(org, f, joined);
        let mut args = vec![
            Value::Text(kind.phrase(text)),
            Value::Integer(JOINED_MATCHES),
        ];
        args.extend(where_args);
        excluded(&mut where_sql, &mut args);
        let from = kind.joined_from();
        let counted: i64 = c
            .prepare_cached(&format!(
                "SELECT COUNT(*) FROM (SELECT 1 FROM {from} WHERE {where_sql} AND {condition} LIMIT ?)"
            ))?
            .query_row(
                params_from_iter(args.iter().chain([&Value::Integer(limit)])),
                |r| r.get(0),
            )?;
        let counted = u64::try_from(counted).unwrap_or(0);
        // Decided when past the bound, or when the index holds no more matches than were read.
        let read: i64 = c
            .prepare_cached(kind.count_sql())?
            .query_row(params![kind.phrase(text), JOINED_MATCHES + 1], |r| r.get(0))?;
        if counted > bound || read <= JOINED_MATCHES {
            return Ok(counted);
        }
    }
    let (mut where_sql, mut args) = filter_sql(org, f, plans);
    excluded(&mut where_sql, &mut args);
    let index = driving_index(f);
    let counted: i64 = c.prepare_cached(&format!(
            "SELECT COUNT(*) FROM (SELECT 1 FROM conversations c {index} WHERE {where_sql} AND {condition} LIMIT ?)"
        ))?.query_row(params_from_iter(args.iter().chain([&Value::Integer(limit)])), |r| r.get(0))?;
    Ok(u64::try_from(counted).unwrap_or(0))
}

/// Adds "except these conversations" to a WHERE clause over `c` and its parameters.
fn exclude(sql: &mut String, args: &mut Vec<Value>, except: &[ConversationId]) {
    if !except.is_empty() {
        sql.push_str(&format!(
            " AND c.id NOT IN ({})",
            vec!["?"; except.len()].join(",")
        ));
        args.extend(except.iter().map(|id| Value::Text(id.to_string())));
    }
}

/// `%text%` with LIKE's wildcards escaped, so a filter matches literally.
fn like_pattern(text: &str) -> String {
    let escaped = text
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

/// The conversations' key (organization, id): SQLite's name for the index of their primary key.
const KEY_INDEX: &str = "INDEXED BY sqlite_autoindex_conversations_1";

/// A conversation with a policy-based recording that is not deleted (rule 1, as SQL).
const PROTECTABLE: &str = "c.protectable = 1";
const IS_PROTECTED: &str = "c.protected = 1";

/// The conversations a selection names, as a WHERE clause over `c`.
fn selection_sql(
    c: &Connection,
    org: OrgId,
    selection: &Selection,
) -> StoreResult<(String, Vec<Value>)> {
    match selection {
        Selection::Ids { ids } => {
            let marks = vec!["?"; ids.len()].join(",");
            let mut args = vec![Value::Text(org.to_string())];
            args.extend(ids.iter().map(|id| Value::Text(id.to_string())));
            // The key, named: without statistics the planner may walk an organization's
            // index instead (a million rows to find ten took seconds).
            Ok((format!("c.org_id = ? AND c.id IN ({marks})"), args))
        }
        Selection::Filter { query, except } => {
            let filters = Filters::from_query(query).map_err(StoreError::BadFilter)?;
            let plans = text_plans(c, &filters)?;
            let (mut sql, mut args) = filter_sql(org, &filters, plans);
            exclude(&mut sql, &mut args, except);
            Ok((sql, args))
        }
    }
}

/// The index a statement over a selection's conversations `c` goes through when nothing
/// narrower applies: listed ids and a hold's conversations by their key.
fn selection_index(selection: &Selection) -> &'static str {
    match selection {
        Selection::Ids { .. } => KEY_INDEX,
        Selection::Filter { query, .. } => Filters::from_query(query)
            .map(|f| driving_index(&f))
            .unwrap_or(""),
    }
}

impl Transact for SqliteStore {
    fn transact(&self, work: &mut dyn FnMut(&mut dyn Tx) -> StoreResult<()>) -> StoreResult<()> {
        self.write(|tx| work(&mut tx::SqliteTx { tx }))
    }
}

impl Store for SqliteStore {
    fn bulk_load(&self, active: bool) -> StoreResult<()> {
        let kib = if active { BULK_CACHE_KIB } else { CACHE_KIB };
        let conn = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        conn.execute_batch(&format!("PRAGMA cache_size = -{kib};"))?;
        Ok(())
    }

    fn analyze(&self) -> StoreResult<()> {
        let conn = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        conn.execute_batch("ANALYZE;")?;
        self.checkpointer.committed();
        Ok(())
    }

    fn is_empty(&self) -> StoreResult<bool> {
        self.read(|c| {
            Ok(c.query_row("SELECT COUNT(*) FROM organizations", [], |r| {
                r.get::<_, i64>(0)
            })? == 0)
        })
    }

    fn create_org(&self, org: &NewOrg) -> StoreResult<()> {
        self.write(|tx| insert_org(tx, org))
    }

    fn set_cap(&self, org: OrgId, cap: Cap) -> StoreResult<()> {
        self.write(|tx| {
            tx.execute(
                "UPDATE organizations SET cap = ? WHERE id = ?",
                params![cap.get(), org.to_string()],
            )?;
            Ok(())
        })
    }

    fn create_user(&self, user: &NewUser) -> StoreResult<()> {
        self.write(|tx| insert_user(tx, user))
    }

    fn insert_conversations(&self, org: OrgId, batch: &[NewConversation]) -> StoreResult<()> {
        self.write(|tx| write_conversations(tx, org, batch, Summaries::ByTriggers).map(drop))
    }

    fn fill(&self, items: &mut dyn Iterator<Item = FillItem>) -> StoreResult<()> {
        self.write(|tx| {
            // Indexes and triggers of the tables that grow are dropped for the load and made
            // again at the end, from their own stored definitions: an index built once from
            // sorted rows instead of a million random inserts, and the summary columns and the
            // search index written directly instead of by a trigger per row.
            let ddl: Vec<(String, String, String)> = {
                let mut stmt = tx.prepare(
                    "SELECT type, name, sql FROM sqlite_schema WHERE type IN ('index', 'trigger')
                     AND sql IS NOT NULL AND tbl_name IN ('conversations', 'participants', 'recordings', 'attachments', 'protections')
                     ORDER BY type = 'trigger', name",
                )?;
                stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                    .collect::<Result<_, _>>()?
            };
            for (kind, name, _) in &ddl {
                tx.execute_batch(&format!("DROP {} \"{}\";", kind.to_uppercase(), name.replace('"', "\"\"")))?;
            }
            for item in items {
                match item {
                    FillItem::Org(org) => insert_org(tx, &org)?,
                    FillItem::User(user) => insert_user(tx, &user)?,
                    FillItem::Conversations(org, batch) => {
                        write_conversations(tx, org, &batch, Summaries::Written)?;
                    }
                }
            }
            for (_, _, sql) in &ddl {
                tx.execute_batch(sql)?;
            }
            tx.execute_batch("INSERT INTO participant_search (participant_search) VALUES ('rebuild');")?;
            Ok(())
        })
    }

    fn retention_policies(&self, org: OrgId) -> StoreResult<Vec<(String, RetentionPolicy)>> {
        self.read(|c| policies(c, org))
    }

    fn login_windows(
        &self,
        keys: &[String],
        change: &mut dyn FnMut(&mut [Option<LoginWindow>]),
    ) -> StoreResult<()> {
        let mut map = self.login_windows.lock().unwrap_or_else(|p| p.into_inner());
        // Bounded: past this many, windows older than the longest kept are dropped.
        if map.len() > 100_000 {
            let cutoff = Utc::now() - chrono::Duration::hours(1);
            map.retain(|_, w| w.started > cutoff);
        }
        let mut windows: Vec<Option<LoginWindow>> =
            keys.iter().map(|k| map.get(k).copied()).collect();
        change(&mut windows);
        for (key, window) in keys.iter().zip(windows) {
            match window {
                Some(w) => map.insert(key.clone(), w),
                None => map.remove(key),
            };
        }
        Ok(())
    }

    fn find_login(&self, username: &str) -> StoreResult<Option<LoginRecord>> {
        self.read(|c| {
            let row = c
                .query_row(
                    "SELECT id, password_hash, org_id FROM users WHERE username = ?",
                    [username],
                    |r| {
                        Ok((
                            r.get::<_, String>(0)?,
                            r.get::<_, String>(1)?,
                            r.get::<_, String>(2)?,
                        ))
                    },
                )
                .optional()?;
            match row {
                None => Ok(None),
                Some((id, password_hash, org)) => Ok(Some(LoginRecord {
                    user_id: parse_id(&id, UserId::parse)?,
                    org_id: parse_id(&org, OrgId::parse)?,
                    password_hash,
                })),
            }
        })
    }

    fn create_session(
        &self,
        token_hash: &str,
        user: UserId,
        now: Instant,
        expires: Instant,
    ) -> StoreResult<()> {
        self.write(|tx| {
            tx.execute("DELETE FROM sessions WHERE expires_at <= ?", [ms(now)])?;
            tx.execute(
                "INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)",
                params![token_hash, user.to_string(), ms(now), ms(expires)],
            )?;
            Ok(())
        })
    }

    fn session_caller(&self, token_hash: &str, now: Instant) -> StoreResult<Option<Caller>> {
        self.read(|c| {
            let row = c
                .query_row(
                    "SELECT u.id, u.username, u.display_name, o.id, o.name
                     FROM sessions s JOIN users u ON u.id = s.user_id JOIN organizations o ON o.id = u.org_id
                     WHERE s.token_hash = ? AND s.expires_at > ?",
                    params![token_hash, ms(now)],
                    |r| Ok((r.get::<_, String>(0)?, r.get(1)?, r.get(2)?, r.get::<_, String>(3)?, r.get(4)?)),
                )
                .optional()?;
            let Some((user_id, username, display_name, org_id, org_name)) = row else {
                return Ok(None);
            };
            let mut stmt = c.prepare_cached(
                "SELECT DISTINCT rp.permission FROM user_roles ur JOIN role_permissions rp ON rp.role_id = ur.role_id WHERE ur.user_id = ?",
            )?;
            let names: Vec<String> = stmt.query_map([&user_id], |r| r.get(0))?.collect::<Result<_, _>>()?;
            let permissions = Permissions::from_names(names.iter().map(String::as_str))
                .map_err(|name| StoreError::Corrupt(format!("unknown permission '{name}'")))?;
            Ok(Some(Caller {
                user_id: parse_id(&user_id, UserId::parse)?,
                username,
                display_name,
                org_id: parse_id(&org_id, OrgId::parse)?,
                org_name,
                permissions,
                api_client: None,
            }))
        })
    }

    fn organizations(&self) -> StoreResult<Vec<(OrgId, String)>> {
        self.read(|c| {
            let mut stmt = c.prepare("SELECT id, name FROM organizations ORDER BY name")?;
            let rows: Vec<(String, String)> = stmt
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<Result<_, _>>()?;
            rows.into_iter()
                .map(|(id, name)| Ok((parse_id(&id, OrgId::parse)?, name)))
                .collect()
        })
    }

    fn find_org(&self, name: &str) -> StoreResult<Option<OrgId>> {
        self.read(|c| {
            let id: Option<String> = c
                .query_row("SELECT id FROM organizations WHERE name = ?", [name], |r| {
                    r.get(0)
                })
                .optional()?;
            id.map(|id| parse_id(&id, OrgId::parse)).transpose()
        })
    }

    fn create_client(&self, client: &NewClient) -> StoreResult<()> {
        self.write(|tx| {
            let org = client.org_id.to_string();
            tx.execute(
                "INSERT INTO api_clients (id, org_id, name, secret_hash, created_at) VALUES (?, ?, ?, ?, ?)",
                params![client.id, org, client.name, client.secret_hash, ms(Utc::now())],
            )?;
            for (name, perms) in &client.roles {
                let role_id = ensure_role(tx, &org, name, *perms)?;
                tx.execute("INSERT INTO api_client_roles (client_id, role_id) VALUES (?, ?)", params![client.id, role_id])?;
            }
            Ok(())
        })
    }

    fn client_secret(&self, client_id: &str) -> StoreResult<Option<String>> {
        self.read(|c| {
            Ok(c.query_row(
                "SELECT secret_hash FROM api_clients WHERE id = ?",
                [client_id],
                |r| r.get(0),
            )
            .optional()?)
        })
    }

    fn create_token(
        &self,
        token_hash: &str,
        client_id: &str,
        now: Instant,
        expires: Instant,
    ) -> StoreResult<()> {
        self.write(|tx| {
            tx.execute("DELETE FROM access_tokens WHERE expires_at <= ?", [ms(now)])?;
            tx.execute(
                "INSERT INTO access_tokens (token_hash, client_id, expires_at) VALUES (?, ?, ?)",
                params![token_hash, client_id, ms(expires)],
            )?;
            Ok(())
        })
    }

    fn token_caller(&self, token_hash: &str, now: Instant) -> StoreResult<Option<Caller>> {
        self.read(|c| {
            let row = c
                .query_row(
                    "SELECT k.id, k.name, o.id, o.name FROM access_tokens t
                     JOIN api_clients k ON k.id = t.client_id JOIN organizations o ON o.id = k.org_id
                     WHERE t.token_hash = ? AND t.expires_at > ?",
                    params![token_hash, ms(now)],
                    |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?, r.get(3)?)),
                )
                .optional()?;
            let Some((client_id, name, org_id, org_name)) = row else { return Ok(None) };
            let mut stmt = c.prepare_cached(
                "SELECT DISTINCT rp.permission FROM api_client_roles cr JOIN role_permissions rp ON rp.role_id = cr.role_id WHERE cr.client_id = ?",
            )?;
            let names: Vec<String> = stmt.query_map([&client_id], |r| r.get(0))?.collect::<Result<_, _>>()?;
            let permissions = Permissions::from_names(names.iter().map(String::as_str))
                .map_err(|name| StoreError::Corrupt(format!("unknown permission '{name}'")))?;
            Ok(Some(Caller {
                user_id: parse_id(&client_id, UserId::parse)?,
                username: name.clone(),
                display_name: name,
                org_id: parse_id(&org_id, OrgId::parse)?,
                org_name,
                permissions,
                api_client: Some(client_id),
            }))
        })
    }

    fn classify(
        &self,
        org: OrgId,
        ids: &[ConversationId],
    ) -> StoreResult<Vec<(ConversationId, Standing)>> {
        self.read(|c| classify(c, org, ids))
    }

    fn delete_session(&self, token_hash: &str) -> StoreResult<()> {
        self.write(|tx| {
            tx.execute("DELETE FROM sessions WHERE token_hash = ?", [token_hash])?;
            tx.execute(
                "DELETE FROM access_tokens WHERE token_hash = ?",
                [token_hash],
            )?;
            Ok(())
        })
    }

    fn org_status(&self, org: OrgId) -> StoreResult<OrgStatus> {
        self.read(|c| org_status(c, org))
    }

    fn list_conversations(&self, org: OrgId, view: &ViewState) -> StoreResult<ConversationPage> {
        self.read_with(|reader| {
            let c = &reader.conn;
            let plans = text_plans(c, &view.filters)?;
            let (where_sql, args) = filter_sql(org, &view.filters, plans);
            let dir = if view.sort.descending { "DESC" } else { "ASC" };
            let order = match view.sort.key {
                SortKey::Date => format!("c.start_time {dir}, c.id {dir}"),
                SortKey::Duration => format!("c.duration_ms {dir}, c.id {dir}"),
                // "Never" is stored as the largest value: it sorts after every date.
                SortKey::DeletionDate => format!("c.next_delete {dir}, c.id {dir}"),
            };
            let mut page_args = args;
            page_args.push(Value::Integer(i64::from(view.page_size)));
            page_args.push(Value::Integer(
                i64::try_from(view.offset()).unwrap_or(i64::MAX),
            ));
            // A searched text filter finds every match before sorting them: the same pass counts
            // them, instead of a second search.
            let searched = plans.agent == TextPlan::Search || plans.remote == TextPlan::Search;
            let (entities, counted) = query_rows(
                c,
                &format!(
                    "{} WHERE {where_sql} ORDER BY {order} LIMIT ? OFFSET ?",
                    driving_index(&view.filters)
                ),
                &page_args,
                searched,
            )?;
            let version: i64 = c
                .prepare_cached("PRAGMA data_version")?
                .query_row([], |r| r.get(0))?;
            let key = (org, view.filters.to_query());
            let kept = reader
                .totals
                .get(&key)
                .filter(|(at, _, _)| *at == version)
                .map(|(_, n, exact)| (*n, *exact));
            let (total, total_exact) = match (counted, kept) {
                (Some(n), _) => (n, true),
                (None, Some(kept)) => kept,
                (None, None) => {
                    let bound = holdfast_core::api::total_bound(
                        joined_text(&view.filters, plans).is_some(),
                    );
                    let n = count_up_to(c, org, &view.filters, plans, &[], "1", bound)?;
                    (n.min(bound), n <= bound)
                }
            };
            if reader.totals.len() >= TOTALS_KEPT {
                reader.totals.clear();
            }
            reader.totals.insert(key, (version, total, total_exact));
            Ok(ConversationPage {
                entities,
                total,
                total_exact,
                page: view.page,
                page_size: view.page_size,
            })
        })
    }

    fn summarize(
        &self,
        org: OrgId,
        selection: &Selection,
        now: Instant,
    ) -> StoreResult<SelectionSummary> {
        self.read(|c| summarize(c, org, selection, now))
    }

    fn conversation_details(
        &self,
        org: OrgId,
        id: ConversationId,
    ) -> StoreResult<Option<ConversationDetails>> {
        self.read(|c| conversation_details(c, org, id))
    }

    fn media_file(&self, org: OrgId, id: RecordingId) -> StoreResult<Option<StoredFile>> {
        self.read(|c| {
            let row: Option<(Option<String>, Option<String>, Option<String>)> = c
                .query_row(
                    "SELECT media_path, content_type, media_sha256 FROM recordings WHERE id = ? AND org_id = ? AND file_state = 'AVAILABLE'",
                    params![id.to_string(), org.to_string()],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .optional()?;
            Ok(row.and_then(|(path, ct, sha256)| {
                path.map(|path| StoredFile {
                    path,
                    content_type: ct.unwrap_or_else(|| "application/octet-stream".to_owned()),
                    name: None,
                    sha256,
                })
            }))
        })
    }

    fn stored_files(
        &self,
        kind: FileKind,
        after: Option<&(String, String)>,
        limit: usize,
    ) -> StoreResult<Vec<StoredObject>> {
        let sql = match kind {
            FileKind::Media => {
                "SELECT org_id, id, media_path, media_sha256 FROM recordings
                 WHERE (org_id, id) > (?, ?) AND media_path IS NOT NULL ORDER BY org_id, id LIMIT ?"
            }
            FileKind::Attachment => {
                "SELECT org_id, id, path, sha256 FROM attachments
                 WHERE (org_id, id) > (?, ?) AND path IS NOT NULL ORDER BY org_id, id LIMIT ?"
            }
        };
        let (org, id) = after.cloned().unwrap_or_default();
        self.read(|c| {
            let rows = c
                .prepare_cached(sql)?
                .query_map(
                    params![org, id, i64::try_from(limit).unwrap_or(i64::MAX)],
                    |r| {
                        Ok(StoredObject {
                            kind,
                            org: r.get(0)?,
                            id: r.get(1)?,
                            path: r.get(2)?,
                            sha256: r.get(3)?,
                        })
                    },
                )?
                .collect::<Result<_, _>>()?;
            Ok(rows)
        })
    }

    fn deletion_forecast(
        &self,
        org: OrgId,
        now: Instant,
        start: Instant,
        until: Instant,
    ) -> StoreResult<Vec<(Option<i64>, bool, u64)>> {
        self.read(|c| {
            let rows = c
                .prepare_cached(
                    "SELECT CASE WHEN r.delete_date <= ?2 THEN NULL ELSE (r.delete_date - ?3) / 86400000 END AS day,
                            c.protected, COUNT(*)
                     FROM recordings r INDEXED BY recordings_org_due
                     JOIN conversations c ON c.org_id = r.org_id AND c.id = r.conversation_id
                     WHERE r.org_id = ?1 AND r.file_state = 'AVAILABLE' AND r.delete_date < ?4
                     GROUP BY day, c.protected",
                )?
                .query_map(
                    params![org.to_string(), ms(now), ms(start), ms(until)],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get::<_, i64>(2)?)),
                )?
                .collect::<Result<Vec<(Option<i64>, bool, i64)>, _>>()?;
            Ok(rows
                .into_iter()
                .map(|(day, p, n)| (day, p, u64::try_from(n).unwrap_or(0)))
                .collect())
        })
    }

    fn pending_holds(
        &self,
        after: Option<&(String, String)>,
        limit: usize,
    ) -> StoreResult<Vec<(OrgId, ConversationId)>> {
        self.keys_after(
            "SELECT org_id, conversation_id FROM media_holds
             WHERE (org_id, conversation_id) > (?, ?) ORDER BY org_id, conversation_id LIMIT ?",
            after,
            limit,
        )
    }

    fn protected_conversations(
        &self,
        after: Option<&(String, String)>,
        limit: usize,
    ) -> StoreResult<Vec<(OrgId, ConversationId)>> {
        self.keys_after(
            "SELECT org_id, conversation_id FROM protections
             WHERE (org_id, conversation_id) > (?, ?) ORDER BY org_id, conversation_id LIMIT ?",
            after,
            limit,
        )
    }

    fn hold_states(
        &self,
        org: OrgId,
        conversations: &[ConversationId],
    ) -> StoreResult<Vec<HoldState>> {
        let org_text = org.to_string();
        self.read(|c| {
            let mut out = Vec::with_capacity(conversations.len());
            for id in conversations {
                let id_text = id.to_string();
                let row: Option<(bool, Option<i64>)> = c
                    .prepare_cached(
                        "SELECT EXISTS (SELECT 1 FROM protections p WHERE p.org_id = c.org_id AND p.conversation_id = c.id),
                                (SELECT mark FROM media_holds h WHERE h.org_id = c.org_id AND h.conversation_id = c.id)
                         FROM conversations c WHERE c.org_id = ? AND c.id = ?",
                    )?
                    .query_row(params![org_text, id_text], |r| Ok((r.get(0)?, r.get(1)?)))
                    .optional()?;
                let Some((protected, mark)) = row else {
                    continue;
                };
                let objects = c
                    .prepare_cached(
                        "SELECT media_path FROM recordings
                         WHERE org_id = ?1 AND conversation_id = ?2 AND media_path IS NOT NULL
                         UNION ALL
                         SELECT a.path FROM recordings r
                         JOIN attachments a ON a.org_id = r.org_id AND a.recording_id = r.id
                         WHERE r.org_id = ?1 AND r.conversation_id = ?2 AND a.path IS NOT NULL",
                    )?
                    .query_map(params![org_text, id_text], |r| r.get(0))?
                    .collect::<Result<Vec<String>, _>>()?;
                out.push(HoldState {
                    conversation: *id,
                    protected,
                    objects,
                    mark,
                });
            }
            Ok(out)
        })
    }

    fn clear_holds(
        &self,
        org: OrgId,
        marks: &[(ConversationId, i64)],
    ) -> StoreResult<Vec<ConversationId>> {
        let org_text = org.to_string();
        self.write(|tx| {
            let mut moved = Vec::new();
            let mut stmt = tx.prepare_cached(
                "DELETE FROM media_holds WHERE org_id = ? AND conversation_id = ? AND mark = ?",
            )?;
            for (id, mark) in marks {
                if stmt.execute(params![org_text, id.to_string(), mark])? == 0 {
                    moved.push(*id);
                }
            }
            Ok(moved)
        })
    }

    fn attachment_file(&self, org: OrgId, id: &str) -> StoreResult<Option<StoredFile>> {
        self.read(|c| {
            Ok(c.query_row(
                "SELECT path, content_type, name, sha256 FROM attachments WHERE id = ? AND org_id = ? AND path IS NOT NULL",
                params![id, org.to_string()],
                |r| Ok(StoredFile { path: r.get(0)?, content_type: r.get(1)?, name: Some(r.get(2)?), sha256: r.get(3)? }),
            )
            .optional()?)
        })
    }

    fn held(&self, org: OrgId, ids: &[ConversationId]) -> StoreResult<Vec<ConversationId>> {
        self.read(|c| holds::held(c, org, ids))
    }

    fn retained_longer_than(
        &self,
        org: OrgId,
        threshold_ms: i64,
        after: Option<RecordingId>,
        limit: usize,
    ) -> StoreResult<Vec<super::RetainedRecording>> {
        self.read(|c| {
            // From the organization's recordings in key order after the cursor: a page reads
            // its rows and those it passes over.
            let mut stmt = c.prepare_cached(
                "SELECT conversation_id, id, delete_date, created_at FROM recordings
                 WHERE org_id = ? AND id > ? AND file_state = 'AVAILABLE'
                   AND (delete_date IS NULL OR delete_date - created_at > ?)
                 ORDER BY id LIMIT ?",
            )?;
            let after = after.map(|a| a.to_string()).unwrap_or_default();
            let rows = stmt.query_map(
                params![
                    org.to_string(),
                    after,
                    threshold_ms,
                    i64::try_from(limit).unwrap_or(i64::MAX)
                ],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, Option<i64>>(2)?,
                        r.get::<_, i64>(3)?,
                    ))
                },
            )?;
            let mut out = Vec::new();
            for row in rows {
                let (c, r, d, created) = row?;
                out.push((
                    parse_id(&c, ConversationId::parse)?,
                    parse_id(&r, RecordingId::parse)?,
                    d.map(from_ms),
                    from_ms(created),
                ));
            }
            Ok(out)
        })
    }

    fn holds(&self, org: OrgId, search: Option<&str>) -> StoreResult<HoldList> {
        self.read(|c| {
            Ok(HoldList {
                entities: holds::holds(c, org, search)?,
                settings: holds::settings(c, org)?,
            })
        })
    }

    fn hold_details(
        &self,
        org: OrgId,
        id: HoldId,
        now: Instant,
    ) -> StoreResult<Option<HoldDetails>> {
        self.read(|c| holds::hold_details(c, org, id, now))
    }

    fn views(&self, user: UserId) -> StoreResult<Vec<SavedView>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT id, name, query FROM saved_views WHERE user_id = ? ORDER BY name",
            )?;
            let views = stmt
                .query_map([user.to_string()], |r| {
                    Ok(SavedView {
                        id: r.get(0)?,
                        name: r.get(1)?,
                        query: r.get(2)?,
                    })
                })?
                .collect::<Result<_, _>>()?;
            Ok(views)
        })
    }

    fn create_view(&self, user: UserId, name: &str, query: &str) -> StoreResult<Option<SavedView>> {
        self.write(|tx| {
            let id = uuid::Uuid::new_v4().to_string();
            let n = tx.execute(
                "INSERT OR IGNORE INTO saved_views (id, user_id, name, query, created_at) VALUES (?, ?, ?, ?, ?)",
                params![id, user.to_string(), name, query, ms(Utc::now())],
            )?;
            Ok((n == 1).then(|| SavedView { id, name: name.to_owned(), query: query.to_owned() }))
        })
    }

    fn rename_view(&self, user: UserId, id: &str, name: &str) -> StoreResult<Option<bool>> {
        self.write(|tx| {
            let exists = tx
                .prepare_cached("SELECT 1 FROM saved_views WHERE id = ? AND user_id = ?")?
                .exists(params![id, user.to_string()])?;
            if !exists {
                return Ok(None);
            }
            let taken = tx
                .prepare_cached(
                    "SELECT 1 FROM saved_views WHERE user_id = ? AND name = ? AND id <> ?",
                )?
                .exists(params![user.to_string(), name, id])?;
            if taken {
                return Ok(Some(false));
            }
            tx.execute(
                "UPDATE saved_views SET name = ? WHERE id = ?",
                params![name, id],
            )?;
            Ok(Some(true))
        })
    }

    fn delete_view(&self, user: UserId, id: &str) -> StoreResult<bool> {
        self.write(|tx| {
            Ok(tx.execute(
                "DELETE FROM saved_views WHERE id = ? AND user_id = ?",
                params![id, user.to_string()],
            )? == 1)
        })
    }

    fn audit_events(&self, org: OrgId) -> StoreResult<Vec<(AuditEvent, String)>> {
        self.read(|c| {
            let mut stmt =
                c.prepare("SELECT event, hash FROM audit_events WHERE org_id = ? ORDER BY seq")?;
            let rows = stmt.query_map([org.to_string()], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
            })?;
            let mut out = Vec::new();
            for row in rows {
                let (json, hash) = row?;
                out.push((audit_event(&json)?, hash));
            }
            Ok(out)
        })
    }

    fn audit_chain_after(&self, org: OrgId, seq: u64, limit: usize) -> StoreResult<AuditChain> {
        self.read(|c| {
            // One read transaction: the head and the events come from the same snapshot.
            let tx = c.unchecked_transaction()?;
            let head = tx
                .query_row(
                    "SELECT seq, hash FROM audit_heads WHERE org_id = ?",
                    [org.to_string()],
                    |r| Ok((r.get::<_, i64>(0)? as u64, r.get::<_, String>(1)?)),
                )
                .optional()?;
            let mut events = Vec::new();
            {
                let mut stmt = tx.prepare_cached(
                    "SELECT seq, time, action, entity_id, actor_id, form, event, hash
                     FROM audit_events WHERE org_id = ? AND seq > ? ORDER BY seq LIMIT ?",
                )?;
                let limit = i64::try_from(limit).unwrap_or(i64::MAX);
                let rows = stmt.query_map(params![org.to_string(), seq as i64, limit], |r| {
                    Ok(audit::StoredEvent {
                        seq: r.get::<_, i64>(0)?.try_into().unwrap_or(0),
                        columns: audit::Columns {
                            time_ms: r.get(1)?,
                            action: r.get(2)?,
                            entity_id: r.get(3)?,
                            actor_id: r.get(4)?,
                        },
                        form: r.get::<_, i64>(5)?.try_into().unwrap_or(u32::MAX),
                        bytes: r.get(6)?,
                        hash: r.get(7)?,
                    })
                })?;
                for row in rows {
                    events.push(row?);
                }
            }
            tx.commit()?;
            Ok((head, events))
        })
    }

    fn audit_page(
        &self,
        org: OrgId,
        filter: &AuditFilter,
    ) -> StoreResult<(Vec<(AuditEvent, String)>, u64)> {
        let mut clauses = vec!["org_id = ?"];
        let mut args: Vec<Value> = vec![Value::Text(org.to_string())];
        if let Some(action) = filter.action {
            clauses.push("action = ?");
            args.push(Value::Text(action.as_str().to_owned()));
        }
        if let Some(user) = &filter.user {
            clauses.push("actor_name = ?");
            args.push(Value::Text(user.clone()));
        }
        let about;
        if let Some(ids) = &filter.about {
            about = format!("entity_id IN ({})", vec!["?"; ids.len()].join(", "));
            clauses.push(match ids.is_empty() {
                true => "0",
                false => &about,
            });
            args.extend(ids.iter().map(|id| Value::Text(id.clone())));
        }
        if let Some(actor) = &filter.actor_id {
            clauses.push("actor_id = ?");
            args.push(Value::Text(actor.clone()));
        }
        if let Some(kind) = filter.entity_type {
            clauses.push("entity_type = ?");
            args.push(Value::Text(kind.as_str().to_owned()));
        }
        if let Some(id) = &filter.mentions {
            clauses.push(
                "(entity_id = ? OR EXISTS (SELECT 1 FROM json_each(event, '$.details.recordings') WHERE value = ?))",
            );
            args.push(Value::Text(id.clone()));
            args.push(Value::Text(id.clone()));
        }
        if let Some(from) = filter.from {
            clauses.push("time >= ?");
            args.push(Value::Integer(ms(from)));
        }
        if let Some(to) = filter.to {
            clauses.push("time < ?");
            args.push(Value::Integer(ms(to)));
        }
        let filter_sql = clauses.join(" AND ");
        // Left to itself, SQLite walks the primary key for "newest first" and scans the whole
        // trail for one conversation's few events; its entity index finds them at once.
        let table = match filter.about {
            Some(_) => "audit_events INDEXED BY audit_events_entity",
            None => "audit_events",
        };
        let limit = filter
            .limit
            .map_or(-1, |l| i64::try_from(l).unwrap_or(i64::MAX));
        let offset = i64::try_from(filter.offset).unwrap_or(i64::MAX);
        self.read(|c| {
            let total: i64 = c.query_row(
                &format!("SELECT count(*) FROM {table} WHERE {filter_sql}"),
                params_from_iter(args.iter()),
                |r| r.get(0),
            )?;
            let mut page_args = args.clone();
            page_args.push(Value::Integer(limit));
            page_args.push(Value::Integer(offset));
            let mut stmt = c.prepare(&format!(
                "SELECT event, hash FROM {table} WHERE {filter_sql} ORDER BY seq DESC LIMIT ? OFFSET ?"
            ))?;
            let rows = stmt.query_map(params_from_iter(page_args.iter()), |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
            })?;
            let mut events = Vec::new();
            for row in rows {
                let (json, hash) = row?;
                events.push((audit_event(&json)?, hash));
            }
            Ok((events, total as u64))
        })
    }

    fn audit_head(&self, org: OrgId) -> StoreResult<Option<(u64, String)>> {
        self.read(|c| {
            Ok(c.query_row(
                "SELECT seq, hash FROM audit_heads WHERE org_id = ?",
                [org.to_string()],
                |r| Ok((r.get::<_, i64>(0)? as u64, r.get(1)?)),
            )
            .optional()?)
        })
    }
}

/// An audit event as stored.
fn audit_event(json: &str) -> StoreResult<AuditEvent> {
    serde_json::from_str(json).map_err(|e| StoreError::Corrupt(format!("audit event: {e}")))
}

/// Conversation rows matching `tail` (an optional index hint, then a WHERE clause over `c`, with
/// ORDER BY and LIMIT as needed),
/// and with `total`, how many rows match before the LIMIT (none when no row comes back).
fn query_rows(
    c: &Connection,
    tail: &str,
    args: &[Value],
    total: bool,
) -> StoreResult<(Vec<ConversationRow>, Option<u64>)> {
    let window = if total { "count(*) OVER ()" } else { "NULL" };
    let sql = format!(
        "SELECT c.id, c.start_time, c.end_time, c.duration_ms, c.direction, c.queue, c.remote_party, c.wrap_up,
                (SELECT group_concat(name, char(10)) FROM participants p
                 WHERE p.org_id = c.org_id AND p.conversation_id = c.id AND p.kind = 'agent'),
                c.media_mask, c.recording_count, c.protected, c.next_delete, {window}
         FROM conversations c {tail}"
    );
    let mut stmt = c.prepare_cached(&sql)?;
    let rows = stmt.query_map(params_from_iter(args.iter()), |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, i64>(1)?,
            r.get::<_, i64>(2)?,
            r.get::<_, i64>(3)?,
            r.get::<_, String>(4)?,
            r.get::<_, Option<String>>(5)?,
            r.get::<_, Option<String>>(6)?,
            r.get::<_, Option<String>>(7)?,
            r.get::<_, Option<String>>(8)?,
            r.get::<_, i64>(9)?,
            r.get::<_, i64>(10)?,
            r.get::<_, bool>(11)?,
            r.get::<_, i64>(12)?,
            r.get::<_, Option<i64>>(13)?,
        ))
    })?;
    let mut entities = Vec::new();
    let mut matched = None;
    for row in rows {
        let (
            id,
            start,
            end,
            duration,
            direction,
            queue,
            remote,
            wrap_up,
            agents,
            media,
            count,
            protected,
            next,
            window,
        ) = row?;
        matched = window.and_then(|n| u64::try_from(n).ok());
        let media: Vec<Media> = Media::ALL
            .iter()
            .copied()
            .filter(|m| media & media_bit(*m) != 0)
            .collect();
        entities.push(ConversationRow {
            id: parse_id(&id, ConversationId::parse)?,
            start_time: from_ms(start),
            end_time: from_ms(end),
            duration_ms: u64::try_from(duration).unwrap_or(0),
            direction: Direction::parse(&direction)
                .ok_or_else(|| StoreError::Corrupt(format!("direction '{direction}'")))?,
            queue,
            agents: agents
                .map(|a| a.split('\n').map(str::to_owned).collect())
                .unwrap_or_default(),
            remote_party: remote,
            wrap_up,
            media,
            recording_count: u32::try_from(count).unwrap_or(u32::MAX),
            protected,
            deletion_date: (next != NEVER).then(|| from_ms(next)),
        });
    }
    Ok((entities, matched))
}

fn org_status(c: &Connection, org: OrgId) -> StoreResult<OrgStatus> {
    let (cap, protected): (i64, i64) = c.query_row(
        "SELECT cap, (SELECT COUNT(*) FROM protections WHERE org_id = o.id) FROM organizations o WHERE id = ?",
        [org.to_string()],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    let cap = u32::try_from(cap)
        .ok()
        .and_then(Cap::new)
        .ok_or_else(|| StoreError::Corrupt(format!("cap {cap}")))?;
    Ok(OrgStatus {
        protected: u32::try_from(protected).unwrap_or(u32::MAX),
        cap,
    })
}

/// The counts of a selection. Listed ids: where each stands (looked up by id) and, for a
/// release, their past-due recordings. A filter: each count bounded, the protected ones
/// through their own index (the cap keeps them few), the others counted up to a bound (core's
/// `counting_bound` for those a protect would protect, the view's for the rest), then the
/// past-due recordings of the protected ones only. Nothing here reads more rows than the
/// cap's worth and the bounds.
fn summarize(
    c: &Connection,
    org: OrgId,
    selection: &Selection,
    now: Instant,
) -> StoreResult<SelectionSummary> {
    let n = |v: i64| u32::try_from(v).unwrap_or(u32::MAX);
    let (query, except) = match selection {
        Selection::Ids { ids } => {
            let standings = classify(c, org, ids)?;
            let protected: Vec<ConversationId> = standings
                .iter()
                .filter(|(_, s)| *s == Standing::Protected)
                .map(|(id, _)| *id)
                .collect();
            return Ok(SelectionSummary::of_standings(
                &standings,
                &holds::held(c, org, &protected)?,
                past_due(c, org, selection, now)?,
            ));
        }
        Selection::Filter { query, except } => (query, except),
    };
    let (where_sql, args) = selection_sql(c, org, selection)?;
    let status = org_status(c, org)?;
    // The protected ones, exactly, through their own index (at most the cap's worth), split
    // by whether they are protectable: the counts below count protected and unprotected alike
    // (the summary index does not hold `protected`, so that a protect does not rewrite it) and
    // subtract these.
    let (protected, protected_protectable, held): (i64, i64, i64) = c.query_row(
        &format!(
            "SELECT COUNT(*), COALESCE(SUM({PROTECTABLE}), 0), COALESCE(SUM({HELD}), 0)
             FROM conversations c INDEXED BY conversations_org_protected WHERE {where_sql} AND {IS_PROTECTED}",
            HELD = holds::HELD
        ),
        params_from_iter(args.iter()),
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?;
    let filters = Filters::from_query(query).map_err(StoreError::BadFilter)?;
    let plans = text_plans(c, &filters)?;
    let unprotected = |condition: &str, bound: u32, protected: i64| -> StoreResult<Count> {
        let protected = u64::try_from(protected).unwrap_or(0);
        let counted = count_up_to(
            c,
            org,
            &filters,
            plans,
            except,
            condition,
            u64::from(bound) + protected,
        )?;
        let counted = counted.saturating_sub(protected);
        Ok(Count::of(u32::try_from(counted).unwrap_or(u32::MAX), bound))
    };
    let view_bound = holdfast_core::api::total_bound(joined_text(&filters, plans).is_some());
    let protectable = unprotected(
        PROTECTABLE,
        holdfast_core::protection::counting_bound(&status, view_bound),
        protected_protectable,
    )?;
    let without = unprotected(
        &format!("NOT {PROTECTABLE}"),
        u32::try_from(view_bound).unwrap_or(u32::MAX),
        protected - protected_protectable,
    )?;
    Ok(SelectionSummary {
        protected: n(protected),
        protectable,
        without_recording: without,
        past_due_recordings: past_due(c, org, selection, now)?,
        held: n(held),
    })
}

/// The available recordings of a selection's protected conversations whose date has come and
/// that no legal hold keeps protected: what a release hands to the next sweep (rule 6).
fn past_due(c: &Connection, org: OrgId, selection: &Selection, now: Instant) -> StoreResult<u32> {
    let (where_sql, mut args) = selection_sql(c, org, selection)?;
    args.push(Value::Integer(ms(now)));
    // From the protected conversations to their recordings, never the other way: left to
    // itself the planner walked every due recording of every organization (6.8 s at 1M).
    // Listed ids are looked up by their key; a filter goes through the protected index.
    let protected_index = match selection {
        Selection::Ids { .. } => KEY_INDEX,
        Selection::Filter { .. } => "INDEXED BY conversations_org_protected",
    };
    let due: i64 = c.query_row(
        &format!(
            "SELECT COUNT(*) FROM conversations c {protected_index} CROSS JOIN recordings r
             WHERE r.org_id = c.org_id AND r.conversation_id = c.id AND {where_sql} AND {IS_PROTECTED}
               AND NOT {HELD} AND r.file_state = 'AVAILABLE' AND r.delete_date <= ?",
            HELD = holds::HELD
        ),
        params_from_iter(args.iter()),
        |r| r.get(0),
    )?;
    Ok(u32::try_from(due).unwrap_or(u32::MAX))
}

/// The id of the organization's role `name`, created with `perms` if missing.
fn ensure_role(
    tx: &rusqlite::Transaction<'_>,
    org: &str,
    name: &str,
    perms: Permissions,
) -> StoreResult<i64> {
    tx.execute(
        "INSERT OR IGNORE INTO roles (org_id, name) VALUES (?, ?)",
        params![org, name],
    )?;
    let role_id: i64 = tx.query_row(
        "SELECT id FROM roles WHERE org_id = ? AND name = ?",
        params![org, name],
        |r| r.get(0),
    )?;
    for p in perms.iter() {
        tx.execute(
            "INSERT OR IGNORE INTO role_permissions (role_id, permission) VALUES (?, ?)",
            params![role_id, p.as_str()],
        )?;
    }
    Ok(role_id)
}

/// A recording's deletion facts and its conversation, within the organization.
fn recording_state(
    c: &Connection,
    org: OrgId,
    id: RecordingId,
) -> StoreResult<Option<FoundRecording>> {
    let row = c
        .query_row(
            "SELECT r.conversation_id, r.file_state, r.delete_date,
                    EXISTS (SELECT 1 FROM protections p WHERE p.org_id = r.org_id AND p.conversation_id = r.conversation_id)
             FROM recordings r WHERE r.id = ? AND r.org_id = ?",
            params![id.to_string(), org.to_string()],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, Option<i64>>(2)?,
                    r.get::<_, bool>(3)?,
                ))
            },
        )
        .optional()?;
    let Some((conv, state, date, protected)) = row else {
        return Ok(None);
    };
    let state = FileState::parse(&state)
        .ok_or_else(|| StoreError::Corrupt(format!("file state '{state}'")))?;
    Ok(Some(FoundRecording {
        conversation: parse_id(&conv, ConversationId::parse)?,
        state: RecordingState {
            protected,
            state,
            delete_date: date.map(from_ms),
        },
    }))
}

fn conversation_details(
    c: &Connection,
    org: OrgId,
    id: ConversationId,
) -> StoreResult<Option<ConversationDetails>> {
    let args = [Value::Text(org.to_string()), Value::Text(id.to_string())];
    let Some(conversation) = query_rows(c, "WHERE c.org_id = ? AND c.id = ?", &args, false)?
        .0
        .into_iter()
        .next()
    else {
        return Ok(None);
    };
    let protection = c
        .query_row(
            "SELECT protected_at, protected_by, reason FROM protections WHERE org_id = ? AND conversation_id = ?",
            [org.to_string(), id.to_string()],
            |r| {
                Ok(ProtectionInfo {
                    since: from_ms(r.get(0)?),
                    by: r.get(1)?,
                    reason: r.get(2)?,
                })
            },
        )
        .optional()?;
    let mut stmt = c.prepare_cached(
        "SELECT id, media, role, created_at, duration_ms, size_bytes, file_state, delete_date, media_path IS NOT NULL, transcript,
                d.reason, d.set_at
         FROM recordings LEFT JOIN recording_dates d ON d.org_id = recordings.org_id AND d.recording_id = recordings.id
         WHERE recordings.org_id = ? AND recordings.conversation_id = ? ORDER BY created_at, id",
    )?;
    let raw: Vec<_> = stmt
        .query_map([org.to_string(), id.to_string()], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, Option<i64>>(4)?,
                r.get::<_, Option<i64>>(5)?,
                r.get::<_, String>(6)?,
                r.get::<_, Option<i64>>(7)?,
                r.get::<_, bool>(8)?,
                r.get::<_, Option<String>>(9)?,
                (
                    r.get::<_, Option<String>>(10)?,
                    r.get::<_, Option<i64>>(11)?,
                ),
            ))
        })?
        .collect::<Result<_, _>>()?;
    let mut attachments_stmt =
        c.prepare_cached("SELECT id, name, content_type, size_bytes FROM attachments WHERE org_id = ? AND recording_id = ? ORDER BY name")?;
    let mut recordings = Vec::with_capacity(raw.len());
    for (rid, media, role, created, duration, size, state, date, has_media, transcript, why) in raw
    {
        let corrupt = |what: &str| StoreError::Corrupt(format!("recording {rid}: {what}"));
        let file_state = FileState::parse(&state).ok_or_else(|| corrupt("file state"))?;
        let delete_date = date.map(from_ms);
        let facts = RecordingState {
            protected: protection.is_some(),
            state: file_state,
            delete_date,
        };
        let attachments = attachments_stmt
            .query_map([&org.to_string(), &rid], |r| {
                Ok(AttachmentInfo {
                    id: r.get(0)?,
                    name: r.get(1)?,
                    content_type: r.get(2)?,
                    size_bytes: r.get::<_, i64>(3)?.try_into().unwrap_or(0),
                })
            })?
            .collect::<Result<_, _>>()?;
        recordings.push(RecordingInfo {
            id: parse_id(&rid, RecordingId::parse)?,
            media: Media::parse(&media).ok_or_else(|| corrupt("media"))?,
            role: RecordingRole::parse(&role).ok_or_else(|| corrupt("role"))?,
            created_at: from_ms(created),
            duration_ms: duration.and_then(|d| u64::try_from(d).ok()),
            size_bytes: size.and_then(|s| u64::try_from(s).ok()),
            file_state,
            delete_date,
            effective_deletion: deletion::effective_deletion(&facts),
            has_media,
            transcript,
            attachments,
            date_reason: why.0,
            date_set_at: why.1.map(from_ms),
        });
    }
    Ok(Some(ConversationDetails {
        conversation,
        recordings,
        protection,
        holds: holds::holds_of(c, org, id)?,
    }))
}

fn policies(c: &Connection, org: OrgId) -> StoreResult<Vec<(String, RetentionPolicy)>> {
    let mut stmt =
        c.prepare_cached("SELECT id, policy FROM retention_policies WHERE org_id = ?")?;
    let rows: Vec<(String, String)> = stmt
        .query_map([org.to_string()], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    let mut out = Vec::with_capacity(rows.len());
    for (id, json) in rows {
        let policy: RetentionPolicy = serde_json::from_str(&json)
            .map_err(|e| StoreError::Corrupt(format!("retention policy {id}: {e}")))?;
        out.push((id, policy));
    }
    out.sort_by_key(|(_, p)| p.order);
    Ok(out)
}

/// Who writes a new conversation's summary columns.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Summaries {
    /// The triggers, as recordings arrive: every ordinary write.
    ByTriggers,
    /// This code, from the conversation as given, while [`Store::fill`] has the triggers off.
    Written,
}

fn insert_org(tx: &rusqlite::Transaction<'_>, org: &NewOrg) -> StoreResult<()> {
    tx.execute(
        "INSERT INTO organizations (id, name, cap) VALUES (?, ?, ?)",
        params![org.id.to_string(), org.name, org.cap],
    )?;
    Ok(())
}

fn insert_user(tx: &rusqlite::Transaction<'_>, user: &NewUser) -> StoreResult<()> {
    let org = user.org_id.to_string();
    tx.execute(
        "INSERT INTO users (id, org_id, username, display_name, password_hash, created_at) VALUES (?, ?, ?, ?, ?, ?)",
        params![user.id.to_string(), org, user.username, user.display_name, user.password_hash, ms(Utc::now())],
    )?;
    for (name, perms) in &user.roles {
        let role_id = ensure_role(tx, &org, name, *perms)?;
        tx.execute(
            "INSERT INTO user_roles (user_id, role_id) VALUES (?, ?)",
            params![user.id.to_string(), role_id],
        )?;
    }
    Ok(())
}

/// The summary columns of a new conversation, as the triggers would leave them (the
/// `conversation_facts` view, which the tests compare them with): protected, recording count,
/// media mask, protectable, next deletion date.
fn summary_columns(c: &NewConversation) -> (bool, i64, i64, bool, i64) {
    let facts: Vec<holdfast_core::protection::RecordingFacts> = c
        .recordings
        .iter()
        .map(|r| holdfast_core::protection::RecordingFacts {
            role: r.role,
            state: if r.deleted {
                FileState::Deleted
            } else {
                FileState::Available
            },
        })
        .collect();
    let protectable = holdfast_core::protection::protectability(&facts)
        == holdfast_core::protection::Protectability::Protectable;
    let mask = c.recordings.iter().fold(0, |m, r| m | media_bit(r.media));
    let next = c
        .recordings
        .iter()
        .filter(|r| !r.deleted)
        .filter_map(|r| r.delete_date.map(ms))
        .min()
        .unwrap_or(NEVER);
    (
        c.protected_by.is_some(),
        c.recordings.len() as i64,
        mask,
        protectable,
        next,
    )
}

/// Writes new conversations with the deletion dates given (demo data, [`Store::fill`]); an id
/// already used is refused and nothing of the batch is kept.
fn write_conversations(
    tx: &rusqlite::Transaction<'_>,
    org: OrgId,
    batch: &[NewConversation],
    summaries: Summaries,
) -> StoreResult<usize> {
    let mut recordings = 0;
    for c in batch {
        if conversation_known(tx, org, c.id)? {
            return Err(StoreError::IdTaken(c.id.to_string()));
        }
        insert_conversation(tx, org, c, summaries)?;
        for r in &c.recordings {
            if recording_known(tx, org, r.id)? {
                return Err(StoreError::IdTaken(r.id.to_string()));
            }
            insert_recording(tx, org, c.id, r, r.delete_date)?;
            recordings += 1;
        }
        if let Some((by, reason)) = &c.protected_by {
            tx.prepare_cached(
                "INSERT INTO protections (conversation_id, org_id, protected_at, protected_by, reason) VALUES (?, ?, ?, ?, ?)",
            )?
            .execute(params![c.id.to_string(), org.to_string(), ms(c.end_time), by, reason])?;
        }
    }
    Ok(recordings)
}

/// Whether the organization has a conversation of this id (ids are per organization).
fn conversation_known(c: &Connection, org: OrgId, id: ConversationId) -> StoreResult<bool> {
    Ok(
        c.prepare_cached("SELECT 1 FROM conversations WHERE org_id = ? AND id = ?")?
            .exists([org.to_string(), id.to_string()])?,
    )
}

/// Whether the organization has a recording of this id.
fn recording_known(c: &Connection, org: OrgId, id: RecordingId) -> StoreResult<bool> {
    Ok(
        c.prepare_cached("SELECT 1 FROM recordings WHERE org_id = ? AND id = ?")?
            .exists([org.to_string(), id.to_string()])?,
    )
}

/// A new conversation and its participants, without its recordings. Its summary columns are
/// written here when `summaries` says so, else left to the triggers as recordings arrive.
fn insert_conversation(
    tx: &Connection,
    org: OrgId,
    c: &NewConversation,
    summaries: Summaries,
) -> StoreResult<()> {
    let id = c.id.to_string();
    let duration = (c.end_time - c.start_time).num_milliseconds().max(0);
    let (protected, count, mask, protectable, next) = match summaries {
        Summaries::Written => summary_columns(c),
        Summaries::ByTriggers => (false, 0, 0, false, NEVER),
    };
    tx.prepare_cached(
        "INSERT INTO conversations (id, org_id, start_time, end_time, duration_ms, direction, queue, remote_party, wrap_up,
                                    protected, recording_count, media_mask, protectable, next_delete)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )?
    .execute(params![
        id,
        org.to_string(),
        ms(c.start_time),
        ms(c.end_time),
        duration,
        c.direction.as_str(),
        c.queue,
        c.remote_party,
        c.wrap_up,
        protected,
        count,
        mask,
        protectable,
        next
    ])?;
    let mut part = tx.prepare_cached(
        "INSERT INTO participants (org_id, conversation_id, kind, name) VALUES (?, ?, ?, ?)",
    )?;
    let org = org.to_string();
    for agent in &c.agents {
        part.execute(params![org, id, "agent", agent])?;
    }
    if let Some(remote) = &c.remote_party {
        part.execute(params![org, id, "remote", remote])?;
    }
    Ok(())
}

/// A new recording of a conversation, with its attachments and the deletion date given.
fn insert_recording(
    tx: &Connection,
    org: OrgId,
    conversation: ConversationId,
    r: &super::NewRecording,
    delete_date: Option<Instant>,
) -> StoreResult<()> {
    let state = if r.deleted { "DELETED" } else { "AVAILABLE" };
    tx.prepare_cached(
        "INSERT INTO recordings (id, conversation_id, org_id, media, role, created_at, duration_ms, size_bytes, file_state, delete_date, media_path, transcript, content_type, media_sha256)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )?
    .execute(params![
        r.id.to_string(),
        conversation.to_string(),
        org.to_string(),
        r.media.as_str(),
        r.role.as_str(),
        ms(r.created_at),
        r.duration_ms.and_then(|d| i64::try_from(d).ok()),
        r.size_bytes.and_then(|s| i64::try_from(s).ok()),
        state,
        delete_date.map(ms),
        r.media_path,
        r.transcript,
        r.content_type,
        r.media_sha256,
    ])?;
    for a in &r.attachments {
        insert_attachment(tx, org, r.id, a)?;
    }
    Ok(())
}

/// A new attachment of a recording, its file already written.
fn insert_attachment(
    tx: &Connection,
    org: OrgId,
    recording: RecordingId,
    a: &super::NewAttachment,
) -> StoreResult<()> {
    tx.prepare_cached(
        "INSERT INTO attachments (id, org_id, recording_id, name, content_type, size_bytes, path, sha256) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    )?
    .execute(params![
        a.id,
        org.to_string(),
        recording.to_string(),
        a.name,
        a.content_type,
        i64::try_from(a.size_bytes).unwrap_or(i64::MAX),
        a.path,
        a.sha256
    ])?;
    Ok(())
}

/// Where each listed conversation stands, within the organization, in the order listed.
fn classify(
    c: &Connection,
    org: OrgId,
    ids: &[ConversationId],
) -> StoreResult<Vec<(ConversationId, Standing)>> {
    let mut stmt = c.prepare_cached(&format!(
        "SELECT {IS_PROTECTED}, {PROTECTABLE} FROM conversations c WHERE c.id = ? AND c.org_id = ?"
    ))?;
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        let row = stmt
            .query_row(params![id.to_string(), org.to_string()], |r| {
                Ok((r.get::<_, bool>(0)?, r.get::<_, bool>(1)?))
            })
            .optional()?;
        let standing = match row {
            None => Standing::NotFound,
            Some((true, _)) => Standing::Protected,
            Some((false, true)) => Standing::Protectable,
            Some((false, false)) => Standing::NotProtectable,
        };
        out.push((*id, standing));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A new, empty directory for a test's database.
    fn temp_dir(kind: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("holdfast-{kind}-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    /// An organization named `name`, with an id from `n`.
    fn org(n: u128, name: String) -> crate::store::NewOrg {
        crate::store::NewOrg {
            id: OrgId::from_uuid(uuid::Uuid::from_u128(n)),
            name,
            cap: 10,
        }
    }

    fn count(c: &Connection, sql: &str) -> i64 {
        c.query_row(sql, [], |r| r.get(0)).unwrap()
    }

    /// A commit never checkpoints in the request that made it (automatic checkpoints are off on
    /// the writer); the checkpointer's thread copies it into the database file soon after,
    /// while the store is still open.
    #[test]
    fn commits_reach_the_database_file_through_the_checkpointer() {
        let dir =
            std::env::temp_dir().join(format!("holdfast-checkpoint-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("db.sqlite3");
        let store = SqliteStore::open(&path).unwrap();
        let automatic: i64 = store
            .with_writer(|c| c.query_row("PRAGMA wal_autocheckpoint", [], |r| r.get(0)))
            .unwrap();
        assert_eq!(automatic, 0);
        store
            .create_org(&org(5, "Checkpointed".to_owned()))
            .unwrap();
        // The database file alone, without its log, has the organization once checkpointed.
        let in_file = || {
            let copy = dir.join("copy.sqlite3");
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(dir.join(format!("copy.sqlite3{suffix}")));
            }
            std::fs::copy(&path, &copy).ok()?;
            Connection::open(&copy)
                .ok()?
                .query_row(
                    "SELECT COUNT(*) FROM organizations WHERE name = 'Checkpointed'",
                    [],
                    |r| r.get::<_, i64>(0),
                )
                .ok()
        };
        let mut seen = None;
        for _ in 0..200 {
            seen = in_file();
            if seen == Some(1) {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(25));
        }
        assert_eq!(
            seen,
            Some(1),
            "the commit is in the database file while the store is open"
        );
        drop(store);
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// Commits one after another (an import) never leave the checkpointer's thread room to
    /// finish between them: past its limit the log is still made to start over, so the file
    /// does not grow with every commit.
    #[test]
    fn the_log_starts_over_under_commits_one_after_another() {
        let dir = temp_dir("log");
        let path = dir.join("db.sqlite3");
        let store = SqliteStore::open_with_log_limit(&path, 64).unwrap();
        let mut largest = 0;
        for n in 0..600u128 {
            store
                .create_org(&org(1_000 + n, format!("Org {n} {}", "x".repeat(2_000))))
                .unwrap();
            let wal = std::fs::metadata(dir.join("db.sqlite3-wal")).map_or(0, |m| m.len());
            largest = largest.max(wal);
        }
        // Each commit writes some 23 KB of log: 600 of them without the log starting over make
        // a file of 14 MB; starting over, it holds what about 100 ms of commits wrote.
        assert!(largest < 9_000_000, "the log grew to {largest} bytes");
        drop(store);
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// A database of schema 9 (ids one key across organizations) with two organizations, a
    /// protected conversation with participants, recordings and an attachment, comes through
    /// the migration to per-organization keys whole: the same rows, the summaries and search
    /// index still right, and another organization may then use the same ids.
    #[test]
    fn the_migration_to_per_organization_ids_keeps_every_row() {
        let dir = temp_dir("migration");
        let mut c = open(&dir.join("db.sqlite3"), None).unwrap();
        for sql in &MIGRATIONS[..9] {
            c.execute_batch(sql).unwrap();
        }
        c.execute_batch(
            "PRAGMA user_version = 9;
             INSERT INTO organizations (id, name, cap) VALUES ('o1', 'North', 10), ('o2', 'South', 10);
             INSERT INTO conversations (id, org_id, start_time, end_time, duration_ms, direction, queue, remote_party)
             VALUES ('c1', 'o1', 1, 2, 1, 'inbound', 'Legal', '+1 555 0100'),
                    ('c2', 'o1', 3, 4, 1, 'outbound', NULL, NULL),
                    ('c3', 'o2', 5, 6, 1, 'inbound', NULL, NULL);
             INSERT INTO participants (conversation_id, kind, name)
             VALUES ('c1', 'agent', 'Ana Berg'), ('c1', 'remote', '+1 555 0100'), ('c3', 'agent', 'Bo Chen');
             INSERT INTO recordings (id, conversation_id, org_id, media, role, created_at, file_state, delete_date, media_path)
             VALUES ('r1', 'c1', 'o1', 'call', 'policy', 2, 'AVAILABLE', 100, 'o1/r1.media-x'),
                    ('r2', 'c1', 'o1', 'chat', 'adhoc', 2, 'AVAILABLE', 50, NULL),
                    ('r3', 'c3', 'o2', 'email', 'policy', 6, 'DELETED', NULL, NULL);
             INSERT INTO attachments (id, recording_id, name, content_type, size_bytes, path)
             VALUES ('a1', 'r2', 'invoice.pdf', 'application/pdf', 9, 'o1/r2.att-y');
             INSERT INTO protections (conversation_id, org_id, protected_at, protected_by, reason)
             VALUES ('c1', 'o1', 7, 'Ana', 'case 1');",
        )
        .unwrap();
        migrate(&mut c).unwrap();

        assert_eq!(count(&c, "PRAGMA user_version"), MIGRATIONS.len() as i64);
        assert_eq!(
            count(&c, "SELECT COUNT(*) FROM pragma_foreign_key_check"),
            0
        );
        let summary: (i64, i64, i64, i64, i64) = c
            .query_row(
                "SELECT protected, recording_count, media_mask, protectable, next_delete FROM conversations
                 WHERE org_id = 'o1' AND id = 'c1'",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
            )
            .unwrap();
        assert_eq!(summary, (1, 2, 3, 1, 50));
        assert_eq!(
            count(
                &c,
                "SELECT COUNT(*) FROM conversations c JOIN conversation_facts f ON f.org_id = c.org_id AND f.id = c.id
                 WHERE c.recording_count = f.recording_count AND c.media_mask = f.media_mask
                   AND c.protectable = f.protectable AND c.next_delete = f.next_delete"
            ),
            3
        );
        assert_eq!(
            count(
                &c,
                "SELECT COUNT(*) FROM attachments WHERE org_id = 'o1' AND recording_id = 'r2' AND path = 'o1/r2.att-y'"
            ),
            1
        );
        assert_eq!(
            count(
                &c,
                "SELECT COUNT(*) FROM participants WHERE org_id = 'o1' AND conversation_id = 'c1'"
            ),
            2
        );
        let found: Vec<(String, String)> = c
            .prepare("SELECT org_id, conversation_id FROM participant_search WHERE participant_search MATCH 'name:\"Berg\"'")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(found, vec![("o1".to_owned(), "c1".to_owned())]);

        // The second organization takes the first one's ids as its own; the triggers and the
        // search index keep the two apart.
        c.execute_batch(
            "INSERT INTO conversations (id, org_id, start_time, end_time, duration_ms, direction)
             VALUES ('c1', 'o2', 1, 2, 1, 'inbound');
             INSERT INTO participants (org_id, conversation_id, kind, name) VALUES ('o2', 'c1', 'agent', 'Cy Berg');
             INSERT INTO recordings (id, conversation_id, org_id, media, role, created_at, file_state, delete_date)
             VALUES ('r1', 'c1', 'o2', 'screen', 'policy', 2, 'AVAILABLE', 10);",
        )
        .unwrap();
        assert_eq!(
            count(
                &c,
                "SELECT media_mask * 1000 + next_delete FROM conversations WHERE org_id = 'o2' AND id = 'c1'"
            ),
            16_010
        );
        assert_eq!(
            count(
                &c,
                "SELECT media_mask * 1000 + next_delete FROM conversations WHERE org_id = 'o1' AND id = 'c1'"
            ),
            3_050
        );
        assert_eq!(
            count(
                &c,
                "SELECT COUNT(*) FROM participant_search WHERE participant_search MATCH 'name:\"Berg\"'"
            ),
            2
        );
        assert_eq!(
            count(&c, "SELECT COUNT(*) FROM protections WHERE org_id = 'o2'"),
            0
        );
        drop(c);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
