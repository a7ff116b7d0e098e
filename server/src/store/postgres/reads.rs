//! The PostgreSQL store's [`Store`] side: the reads every page makes, each in one read-only
//! snapshot, and the writes that are not use cases (people, sessions, tokens, saved views,
//! demo data).

use std::collections::{HashMap, HashSet};

use holdfast_core::api::{
    AttachmentInfo, ConversationDetails, ConversationPage, ConversationRow, ProtectionInfo,
    RecordingInfo, SavedView, Selection,
};
use holdfast_core::audit::{AuditEvent, Columns, StoredEvent};
use holdfast_core::deletion::{self, RecordingState};
use holdfast_core::holds::{HoldDetails, HoldList};
use holdfast_core::protection::{OrgStatus, SelectionSummary};
use holdfast_core::retention::RetentionPolicy;
use holdfast_core::time::Instant;
use holdfast_core::view::{SortKey, ViewState};
use holdfast_core::{
    Cap, ConversationId, Direction, FileState, HoldId, Media, OrgId, Permissions, RecordingId,
    RecordingRole, UserId,
};
use postgres::IsolationLevel;

use super::{
    PROTECTED, PgStore, PgTx, Sql, TOTALS_KEPT, blocking, instant, parse_id, policies,
    selection_sql,
};
use crate::store::{
    AuditChain, AuditFilter, Caller, FileKind, FillItem, HoldState, LoginRecord, LoginWindow,
    NewClient, NewConversation, NewOrg, NewUser, Standing, Store, StoreError, StoreResult,
    StoredFile, StoredObject, Tx,
};

impl PgStore {
    /// (organization, conversation) keys a keyset `sql` ($1, $2 after; $3 limit) answers.
    fn keys_after(
        &self,
        sql: &str,
        after: Option<&(String, String)>,
        limit: usize,
    ) -> StoreResult<Vec<(OrgId, ConversationId)>> {
        let (org, id) = after.cloned().unwrap_or_default();
        self.read(|pg| {
            pg.tx
                .query(sql, &[&org, &id, &i64::try_from(limit).unwrap_or(i64::MAX)])?
                .into_iter()
                .map(|row| {
                    Ok((
                        parse_id(row.get(0), OrgId::parse)?,
                        parse_id(row.get(1), ConversationId::parse)?,
                    ))
                })
                .collect()
        })
    }

    /// Runs `f` in one read-only snapshot.
    fn read<T>(&self, f: impl FnOnce(&mut PgTx<'_, '_>) -> StoreResult<T>) -> StoreResult<T> {
        blocking(|| self.read_here(f))
    }

    fn read_here<T>(&self, f: impl FnOnce(&mut PgTx<'_, '_>) -> StoreResult<T>) -> StoreResult<T> {
        let mut client = self.client()?;
        let out = {
            let mut tx = client
                .build_transaction()
                .isolation_level(IsolationLevel::RepeatableRead)
                .read_only(true)
                .start()?;
            let out = f(&mut PgTx {
                tx: &mut tx,
                locked: HashSet::new(),
                writable: false,
            })?;
            tx.commit()?;
            out
        };
        Ok(out)
    }

    /// Runs `f` in one write transaction (the writes that are not use cases).
    fn write<T>(
        &self,
        f: impl FnOnce(&mut postgres::Transaction<'_>) -> StoreResult<T>,
    ) -> StoreResult<T> {
        blocking(|| self.write_here(f))
    }

    fn write_here<T>(
        &self,
        f: impl FnOnce(&mut postgres::Transaction<'_>) -> StoreResult<T>,
    ) -> StoreResult<T> {
        let mut client = self.client()?;
        let out = {
            let mut tx = client.transaction()?;
            let out = f(&mut tx)?;
            tx.commit()?;
            out
        };
        Ok(out)
    }
}

/// The id of the organization's role `name`, created with `perms` if missing.
fn ensure_role(
    tx: &mut postgres::Transaction<'_>,
    org: &str,
    name: &str,
    perms: Permissions,
) -> StoreResult<i64> {
    tx.execute(
        "INSERT INTO roles (org_id, name) VALUES ($1, $2) ON CONFLICT (org_id, name) DO NOTHING",
        &[&org, &name],
    )?;
    let role: i64 = tx
        .query_one(
            "SELECT id FROM roles WHERE org_id = $1 AND name = $2",
            &[&org, &name],
        )?
        .get(0);
    for p in perms.iter() {
        tx.execute(
            "INSERT INTO role_permissions (role_id, permission) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            &[&role, &p.as_str()],
        )?;
    }
    Ok(role)
}

fn insert_org(tx: &mut postgres::Transaction<'_>, org: &NewOrg) -> StoreResult<()> {
    tx.execute(
        "INSERT INTO organizations (id, name, cap) VALUES ($1, $2, $3)",
        &[
            &org.id.to_string(),
            &org.name,
            &i32::try_from(org.cap).unwrap_or(i32::MAX),
        ],
    )?;
    Ok(())
}

fn insert_user(tx: &mut postgres::Transaction<'_>, user: &NewUser) -> StoreResult<()> {
    let org = user.org_id.to_string();
    tx.execute(
        "INSERT INTO users (id, org_id, username, display_name, password_hash, created_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
        &[
            &user.id.to_string(),
            &org,
            &user.username,
            &user.display_name,
            &user.password_hash,
            &chrono::Utc::now().timestamp_millis(),
        ],
    )?;
    for (name, perms) in &user.roles {
        let role = ensure_role(tx, &org, name, *perms)?;
        tx.execute(
            "INSERT INTO user_roles (user_id, role_id) VALUES ($1, $2)",
            &[&user.id.to_string(), &role],
        )?;
    }
    Ok(())
}

/// Writes new conversations with the dates given (demo data); an id used is refused.
fn insert_conversations(
    tx: &mut postgres::Transaction<'_>,
    org: OrgId,
    batch: &[NewConversation],
) -> StoreResult<()> {
    let mut pg = PgTx {
        tx,
        locked: HashSet::new(),
        writable: true,
    };
    for c in batch {
        if pg.conversation_known(org, c.id)? {
            return Err(StoreError::IdTaken(c.id.to_string()));
        }
        pg.insert_conversation(org, c)?;
        for r in &c.recordings {
            if pg.recording_known(org, r.id)? {
                return Err(StoreError::IdTaken(r.id.to_string()));
            }
            pg.insert_recording(org, c.id, r, r.delete_date)?;
        }
        if let Some((by, reason)) = &c.protected_by {
            pg.tx.execute(
                "INSERT INTO protections (org_id, conversation_id, protected_at, protected_by, reason)
                 VALUES ($1, $2, $3, $4, $5)",
                &[
                    &org.to_string(),
                    &c.id.to_string(),
                    &c.end_time.timestamp_millis(),
                    by,
                    reason,
                ],
            )?;
        }
    }
    Ok(())
}

fn permissions(names: Vec<String>) -> StoreResult<Permissions> {
    Permissions::from_names(names.iter().map(String::as_str))
        .map_err(|name| StoreError::Corrupt(format!("unknown permission '{name}'")))
}

fn audit_event(json: &str) -> StoreResult<AuditEvent> {
    serde_json::from_str(json).map_err(|e| StoreError::Corrupt(format!("audit event: {e}")))
}

/// The columns of a conversation row, for `ConversationRow`.
const ROW: &str = "c.id, c.start_time, c.end_time, c.duration_ms, c.direction, c.queue, c.remote_party, c.wrap_up,
    (SELECT string_agg(a.name, E'\\n' ORDER BY a.ctid) FROM participants a
      WHERE a.org_id = c.org_id AND a.conversation_id = c.id AND a.kind = 'agent'),
    c.media_mask, c.recording_count,";
const NEXT_DELETE: &str = "c.next_delete";

fn row_of(row: &postgres::Row) -> StoreResult<ConversationRow> {
    let direction: String = row.get(4);
    let agents: Option<String> = row.get(8);
    let mask: i32 = row.get(9);
    let next: Option<i64> = row.get(12);
    Ok(ConversationRow {
        id: parse_id(row.get(0), ConversationId::parse)?,
        start_time: instant(row.get(1))?,
        end_time: instant(row.get(2))?,
        duration_ms: u64::try_from(row.get::<_, i64>(3)).unwrap_or(0),
        direction: Direction::parse(&direction)
            .ok_or_else(|| StoreError::Corrupt(format!("direction '{direction}'")))?,
        queue: row.get(5),
        agents: agents
            .map(|a| a.split('\n').map(str::to_owned).collect())
            .unwrap_or_default(),
        remote_party: row.get(6),
        wrap_up: row.get(7),
        media: Media::ALL
            .iter()
            .copied()
            .filter(|m| mask & super::media_bit(*m) != 0)
            .collect(),
        recording_count: u32::try_from(row.get::<_, i32>(10)).unwrap_or(0),
        protected: row.get(11),
        deletion_date: next.map(instant).transpose()?,
    })
}

impl Store for PgStore {
    fn bulk_load(&self, _active: bool) -> StoreResult<()> {
        Ok(())
    }

    fn analyze(&self) -> StoreResult<()> {
        self.write(|tx| Ok(tx.batch_execute("ANALYZE")?))
    }

    fn is_empty(&self) -> StoreResult<bool> {
        self.read(|pg| {
            let n: i64 = pg
                .tx
                .query_one("SELECT COUNT(*) FROM organizations", &[])?
                .get(0);
            Ok(n == 0)
        })
    }

    fn create_org(&self, org: &NewOrg) -> StoreResult<()> {
        self.write(|tx| insert_org(tx, org))
    }

    fn create_user(&self, user: &NewUser) -> StoreResult<()> {
        self.write(|tx| insert_user(tx, user))
    }

    fn set_cap(&self, org: OrgId, cap: Cap) -> StoreResult<()> {
        self.write(|tx| {
            tx.execute(
                "UPDATE organizations SET cap = $1 WHERE id = $2",
                &[
                    &i32::try_from(cap.get()).unwrap_or(i32::MAX),
                    &org.to_string(),
                ],
            )?;
            Ok(())
        })
    }

    fn insert_conversations(&self, org: OrgId, batch: &[NewConversation]) -> StoreResult<()> {
        self.write(|tx| insert_conversations(tx, org, batch))
    }

    fn fill(&self, items: &mut dyn Iterator<Item = FillItem>) -> StoreResult<()> {
        self.write(|tx| {
            // The summary columns are written once at the end, not by a trigger per row.
            tx.batch_execute(
                "ALTER TABLE recordings DISABLE TRIGGER recordings_summary;
                 ALTER TABLE protections DISABLE TRIGGER protections_summary;
                 ALTER TABLE protections DISABLE TRIGGER protections_released;
                 ALTER TABLE conversations DISABLE TRIGGER conversations_added;
                 ALTER TABLE conversations DISABLE TRIGGER conversations_changed;",
            )?;
            for item in items {
                match item {
                    FillItem::Org(org) => insert_org(tx, &org)?,
                    FillItem::User(user) => insert_user(tx, &user)?,
                    FillItem::Conversations(org, batch) => insert_conversations(tx, org, &batch)?,
                }
            }
            tx.batch_execute(
                "SELECT holdfast_summarize_all();
                 ALTER TABLE recordings ENABLE TRIGGER recordings_summary;
                 ALTER TABLE protections ENABLE TRIGGER protections_summary;
                 ALTER TABLE protections ENABLE TRIGGER protections_released;
                 ALTER TABLE conversations ENABLE TRIGGER conversations_added;
                 ALTER TABLE conversations ENABLE TRIGGER conversations_changed;
                 UPDATE organizations SET data_version = data_version + 1;",
            )?;
            Ok(())
        })
    }

    fn retention_policies(&self, org: OrgId) -> StoreResult<Vec<(String, RetentionPolicy)>> {
        self.read(|pg| policies(pg.tx, org))
    }

    fn login_windows(
        &self,
        keys: &[String],
        change: &mut dyn FnMut(&mut [Option<LoginWindow>]),
    ) -> StoreResult<()> {
        // Every row is made first (an empty window), then all are locked, each time in the
        // keys' order: two instances on the same keys wait for each other, never deadlock.
        let mut sorted: Vec<&String> = keys.iter().collect();
        sorted.sort();
        sorted.dedup();
        self.write(|tx| {
            for key in &sorted {
                tx.execute(
                    "INSERT INTO login_windows (key, started, attempts) VALUES ($1, 0, 0)
                     ON CONFLICT (key) DO NOTHING",
                    &[key],
                )?;
            }
            let rows = tx.query(
                "SELECT key, started, attempts FROM login_windows WHERE key = ANY($1) ORDER BY key FOR UPDATE",
                &[&sorted],
            )?;
            let mut found: HashMap<String, LoginWindow> = HashMap::new();
            for row in rows {
                let attempts: i32 = row.get(2);
                if attempts > 0 {
                    found.insert(
                        row.get(0),
                        LoginWindow {
                            started: instant(row.get(1))?,
                            attempts: u32::try_from(attempts).unwrap_or(0),
                        },
                    );
                }
            }
            let mut windows: Vec<Option<LoginWindow>> =
                keys.iter().map(|k| found.get(k).copied()).collect();
            change(&mut windows);
            for (key, window) in keys.iter().zip(windows) {
                match window {
                    Some(w) => tx.execute(
                        "UPDATE login_windows SET started = $2, attempts = $3 WHERE key = $1",
                        &[
                            key,
                            &w.started.timestamp_millis(),
                            &i32::try_from(w.attempts).unwrap_or(i32::MAX),
                        ],
                    )?,
                    None => tx.execute("DELETE FROM login_windows WHERE key = $1", &[key])?,
                };
            }
            // Windows over an hour old count for nothing: dropped as attempts pass, except
            // those another attempt holds.
            let cutoff = (chrono::Utc::now() - chrono::Duration::hours(1)).timestamp_millis();
            tx.execute(
                "DELETE FROM login_windows WHERE key IN (SELECT key FROM login_windows WHERE started < $1
                 ORDER BY started LIMIT 100 FOR UPDATE SKIP LOCKED)",
                &[&cutoff],
            )?;
            Ok(())
        })
    }

    fn find_login(&self, username: &str) -> StoreResult<Option<LoginRecord>> {
        self.read(|pg| {
            let row = pg.tx.query_opt(
                "SELECT id, password_hash, org_id FROM users WHERE username = $1",
                &[&username],
            )?;
            row.map(|row| {
                Ok(LoginRecord {
                    user_id: parse_id(row.get(0), UserId::parse)?,
                    password_hash: row.get(1),
                    org_id: parse_id(row.get(2), OrgId::parse)?,
                })
            })
            .transpose()
        })
    }

    fn organizations(&self) -> StoreResult<Vec<(OrgId, String)>> {
        self.read(|pg| {
            pg.tx
                .query("SELECT id, name FROM organizations ORDER BY name", &[])?
                .iter()
                .map(|row| Ok((parse_id(row.get(0), OrgId::parse)?, row.get(1))))
                .collect()
        })
    }

    fn find_org(&self, name: &str) -> StoreResult<Option<OrgId>> {
        self.read(|pg| {
            pg.tx
                .query_opt("SELECT id FROM organizations WHERE name = $1", &[&name])?
                .map(|row| parse_id(row.get(0), OrgId::parse))
                .transpose()
        })
    }

    fn create_client(&self, client: &NewClient) -> StoreResult<()> {
        self.write(|tx| {
            let org = client.org_id.to_string();
            tx.execute(
                "INSERT INTO api_clients (id, org_id, name, secret_hash, created_at) VALUES ($1, $2, $3, $4, $5)",
                &[
                    &client.id,
                    &org,
                    &client.name,
                    &client.secret_hash,
                    &chrono::Utc::now().timestamp_millis(),
                ],
            )?;
            for (name, perms) in &client.roles {
                let role = ensure_role(tx, &org, name, *perms)?;
                tx.execute(
                    "INSERT INTO api_client_roles (client_id, role_id) VALUES ($1, $2)",
                    &[&client.id, &role],
                )?;
            }
            Ok(())
        })
    }

    fn client_secret(&self, client_id: &str) -> StoreResult<Option<String>> {
        self.read(|pg| {
            Ok(pg
                .tx
                .query_opt(
                    "SELECT secret_hash FROM api_clients WHERE id = $1",
                    &[&client_id],
                )?
                .map(|row| row.get(0)))
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
            tx.execute(
                "DELETE FROM access_tokens WHERE expires_at <= $1",
                &[&now.timestamp_millis()],
            )?;
            tx.execute(
                "INSERT INTO access_tokens (token_hash, client_id, expires_at) VALUES ($1, $2, $3)",
                &[&token_hash, &client_id, &expires.timestamp_millis()],
            )?;
            Ok(())
        })
    }

    fn token_caller(&self, token_hash: &str, now: Instant) -> StoreResult<Option<Caller>> {
        self.read(|pg| {
            let Some(row) = pg.tx.query_opt(
                "SELECT k.id, k.name, o.id, o.name FROM access_tokens t
                 JOIN api_clients k ON k.id = t.client_id JOIN organizations o ON o.id = k.org_id
                 WHERE t.token_hash = $1 AND t.expires_at > $2",
                &[&token_hash, &now.timestamp_millis()],
            )?
            else {
                return Ok(None);
            };
            let client_id: String = row.get(0);
            let name: String = row.get(1);
            let names: Vec<String> = pg
                .tx
                .query(
                    "SELECT DISTINCT rp.permission FROM api_client_roles cr
                     JOIN role_permissions rp ON rp.role_id = cr.role_id WHERE cr.client_id = $1",
                    &[&client_id],
                )?
                .iter()
                .map(|r| r.get(0))
                .collect();
            Ok(Some(Caller {
                user_id: parse_id(&client_id, UserId::parse)?,
                username: name.clone(),
                display_name: name,
                org_id: parse_id(row.get(2), OrgId::parse)?,
                org_name: row.get(3),
                permissions: permissions(names)?,
                api_client: Some(client_id),
            }))
        })
    }

    fn classify(
        &self,
        org: OrgId,
        ids: &[ConversationId],
    ) -> StoreResult<Vec<(ConversationId, Standing)>> {
        self.read(|pg| pg.classify(org, ids))
    }

    fn create_session(
        &self,
        token_hash: &str,
        user: UserId,
        now: Instant,
        expires: Instant,
    ) -> StoreResult<()> {
        self.write(|tx| {
            tx.execute(
                "DELETE FROM sessions WHERE expires_at <= $1",
                &[&now.timestamp_millis()],
            )?;
            tx.execute(
                "INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
                &[
                    &token_hash,
                    &user.to_string(),
                    &now.timestamp_millis(),
                    &expires.timestamp_millis(),
                ],
            )?;
            Ok(())
        })
    }

    fn session_caller(&self, token_hash: &str, now: Instant) -> StoreResult<Option<Caller>> {
        self.read(|pg| {
            let Some(row) = pg.tx.query_opt(
                "SELECT u.id, u.username, u.display_name, o.id, o.name
                 FROM sessions s JOIN users u ON u.id = s.user_id JOIN organizations o ON o.id = u.org_id
                 WHERE s.token_hash = $1 AND s.expires_at > $2",
                &[&token_hash, &now.timestamp_millis()],
            )?
            else {
                return Ok(None);
            };
            let user_id: String = row.get(0);
            let names: Vec<String> = pg
                .tx
                .query(
                    "SELECT DISTINCT rp.permission FROM user_roles ur
                     JOIN role_permissions rp ON rp.role_id = ur.role_id WHERE ur.user_id = $1",
                    &[&user_id],
                )?
                .iter()
                .map(|r| r.get(0))
                .collect();
            Ok(Some(Caller {
                user_id: parse_id(&user_id, UserId::parse)?,
                username: row.get(1),
                display_name: row.get(2),
                org_id: parse_id(row.get(3), OrgId::parse)?,
                org_name: row.get(4),
                permissions: permissions(names)?,
                api_client: None,
            }))
        })
    }

    fn delete_session(&self, token_hash: &str) -> StoreResult<()> {
        self.write(|tx| {
            tx.execute("DELETE FROM sessions WHERE token_hash = $1", &[&token_hash])?;
            tx.execute(
                "DELETE FROM access_tokens WHERE token_hash = $1",
                &[&token_hash],
            )?;
            Ok(())
        })
    }

    fn org_status(&self, org: OrgId) -> StoreResult<OrgStatus> {
        self.read(|pg| pg.org_status(org))
    }

    fn list_conversations(&self, org: OrgId, view: &ViewState) -> StoreResult<ConversationPage> {
        let selection = Selection::Filter {
            query: view.filters.to_query(),
            except: Vec::new(),
        };
        self.read(|pg| {
            let mut sql: Sql = selection_sql(org, &selection)?;
            let dir = if view.sort.descending { "DESC" } else { "ASC" };
            // "Never" (no date) sorts after every date, as PostgreSQL sorts NULL by default.
            let order = match view.sort.key {
                SortKey::Date => format!("c.start_time {dir}, c.id {dir}"),
                SortKey::Duration => format!("c.duration_ms {dir}, c.id {dir}"),
                SortKey::DeletionDate => format!("c.next_delete {dir}, c.id {dir}"),
            };
            let limit = sql.arg(i64::from(view.page_size));
            let offset = sql.arg(i64::try_from(view.offset()).unwrap_or(i64::MAX));
            // The page's keys first, read from an index; the rows' columns (agents, ...) only for
            // those: PostgreSQL computes a select list before OFFSET skips, so page 2000 would
            // build a hundred thousand rows to show fifty.
            let rows = pg.tx.query(
                &format!(
                    "SELECT {ROW} {PROTECTED}, {NEXT_DELETE} AS next_delete
                     FROM (SELECT c.org_id, c.id FROM conversations c
                           WHERE {} ORDER BY {order} LIMIT {limit} OFFSET {offset}) page
                     JOIN conversations c ON c.org_id = page.org_id AND c.id = page.id
                     ORDER BY {order}",
                    sql.text
                ),
                &sql.refs(),
            )?;
            let entities = rows.iter().map(row_of).collect::<StoreResult<Vec<_>>>()?;
            // The total as counted at this organization's data version, if it has not moved.
            let version: i64 = pg
                .tx
                .query_one(
                    "SELECT data_version FROM organizations WHERE id = $1",
                    &[&org.to_string()],
                )?
                .get(0);
            let key = (org, view.filters.to_query());
            let cached = self
                .totals
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .get(&key)
                .filter(|(at, _, _)| *at == version)
                .map(|(_, n, bound)| (*n, *bound));
            let (n, bound) = match cached {
                Some(known) => known,
                None => {
                    let counted = selection_sql(org, &selection)?;
                    let bound = pg.view_bound(&selection)?;
                    let n = pg.count_up_to(&counted, "TRUE", bound)?;
                    let mut totals = self.totals.lock().unwrap_or_else(|p| p.into_inner());
                    // Bounded: a burst of distinct filters starts it afresh.
                    if totals.len() >= TOTALS_KEPT {
                        totals.clear();
                    }
                    totals.insert(key, (version, n, bound));
                    (n, bound)
                }
            };
            Ok(ConversationPage {
                entities,
                total: n.min(bound),
                total_exact: n <= bound,
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
        self.read(|pg| pg.summarize(org, selection, now))
    }

    fn held(&self, org: OrgId, ids: &[ConversationId]) -> StoreResult<Vec<ConversationId>> {
        self.read(|pg| pg.held_of(org, ids))
    }

    fn retained_longer_than(
        &self,
        org: OrgId,
        threshold_ms: i64,
        after: Option<RecordingId>,
        limit: usize,
    ) -> StoreResult<Vec<crate::store::RetainedRecording>> {
        self.read(|pg| {
            let after = after.map(|a| a.to_string()).unwrap_or_default();
            pg.tx
                .query(
                    "SELECT conversation_id, id, delete_date, created_at FROM recordings
                     WHERE org_id = $1 AND id > $2 AND file_state = 'AVAILABLE'
                       AND (delete_date IS NULL OR delete_date - created_at > $3)
                     ORDER BY id LIMIT $4",
                    &[
                        &org.to_string(),
                        &after,
                        &threshold_ms,
                        &i64::try_from(limit).unwrap_or(i64::MAX),
                    ],
                )?
                .iter()
                .map(|r| {
                    Ok((
                        parse_id(r.get(0), ConversationId::parse)?,
                        parse_id(r.get(1), RecordingId::parse)?,
                        r.get::<_, Option<i64>>(2).map(instant).transpose()?,
                        instant(r.get(3))?,
                    ))
                })
                .collect()
        })
    }

    fn holds(&self, org: OrgId, search: Option<&str>) -> StoreResult<HoldList> {
        self.read(|pg| {
            Ok(HoldList {
                entities: pg.list_holds(org, search)?,
                settings: pg.org_settings(org)?,
            })
        })
    }

    fn hold_details(
        &self,
        org: OrgId,
        id: HoldId,
        now: Instant,
    ) -> StoreResult<Option<HoldDetails>> {
        self.read(|pg| pg.details_of_hold(org, id, now))
    }

    fn conversation_details(
        &self,
        org: OrgId,
        id: ConversationId,
    ) -> StoreResult<Option<ConversationDetails>> {
        self.read(|pg| {
            let (org_text, id_text) = (org.to_string(), id.to_string());
            let Some(row) = pg.tx.query_opt(
                &format!(
                    "SELECT {ROW} {PROTECTED}, {NEXT_DELETE} FROM conversations c WHERE c.org_id = $1 AND c.id = $2"
                ),
                &[&org_text, &id_text],
            )?
            else {
                return Ok(None);
            };
            let conversation = row_of(&row)?;
            let protection = pg
                .tx
                .query_opt(
                    "SELECT protected_at, protected_by, reason FROM protections WHERE org_id = $1 AND conversation_id = $2",
                    &[&org_text, &id_text],
                )?
                .map(|r| {
                    Ok::<_, StoreError>(ProtectionInfo {
                        since: instant(r.get(0))?,
                        by: r.get(1),
                        reason: r.get(2),
                    })
                })
                .transpose()?;
            let rows = pg.tx.query(
                "SELECT r.id, media, role, created_at, duration_ms, size_bytes, file_state, delete_date,
                        media_path IS NOT NULL, transcript, d.reason, d.set_at
                 FROM recordings r LEFT JOIN recording_dates d ON d.org_id = r.org_id AND d.recording_id = r.id
                 WHERE r.org_id = $1 AND r.conversation_id = $2 ORDER BY created_at, r.id",
                &[&org_text, &id_text],
            )?;
            let mut recordings = Vec::with_capacity(rows.len());
            for r in rows {
                let rid: String = r.get(0);
                let corrupt = |what: &str| StoreError::Corrupt(format!("recording {rid}: {what}"));
                let (media, role, state): (String, String, String) = (r.get(1), r.get(2), r.get(6));
                let file_state = FileState::parse(&state).ok_or_else(|| corrupt("file state"))?;
                let delete_date = r.get::<_, Option<i64>>(7).map(instant).transpose()?;
                let facts = RecordingState {
                    protected: protection.is_some(),
                    state: file_state,
                    delete_date,
                };
                let attachments = pg
                    .tx
                    .query(
                        "SELECT id, name, content_type, size_bytes FROM attachments
                         WHERE org_id = $1 AND recording_id = $2 ORDER BY name",
                        &[&org_text, &rid],
                    )?
                    .iter()
                    .map(|a| AttachmentInfo {
                        id: a.get(0),
                        name: a.get(1),
                        content_type: a.get(2),
                        size_bytes: u64::try_from(a.get::<_, i64>(3)).unwrap_or(0),
                    })
                    .collect();
                recordings.push(RecordingInfo {
                    id: parse_id(&rid, RecordingId::parse)?,
                    media: Media::parse(&media).ok_or_else(|| corrupt("media"))?,
                    role: RecordingRole::parse(&role).ok_or_else(|| corrupt("role"))?,
                    created_at: instant(r.get(3))?,
                    duration_ms: r.get::<_, Option<i64>>(4).and_then(|d| u64::try_from(d).ok()),
                    size_bytes: r.get::<_, Option<i64>>(5).and_then(|s| u64::try_from(s).ok()),
                    file_state,
                    delete_date,
                    effective_deletion: deletion::effective_deletion(&facts),
                    has_media: r.get(8),
                    transcript: r.get(9),
                    attachments,
                    date_reason: r.get(10),
                    date_set_at: r.get::<_, Option<i64>>(11).map(instant).transpose()?,
                });
            }
            let holds = pg.holds_of(org, id)?;
            Ok(Some(ConversationDetails {
                conversation,
                recordings,
                protection,
                holds,
            }))
        })
    }

    fn media_file(&self, org: OrgId, id: RecordingId) -> StoreResult<Option<StoredFile>> {
        self.read(|pg| {
            let row = pg.tx.query_opt(
                "SELECT media_path, content_type, media_sha256 FROM recordings
                 WHERE org_id = $1 AND id = $2 AND file_state = 'AVAILABLE'",
                &[&org.to_string(), &id.to_string()],
            )?;
            Ok(row.and_then(|row| {
                let path: Option<String> = row.get(0);
                let content_type: Option<String> = row.get(1);
                path.map(|path| StoredFile {
                    path,
                    content_type: content_type
                        .unwrap_or_else(|| "application/octet-stream".to_owned()),
                    name: None,
                    sha256: row.get(2),
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
                 WHERE (org_id, id) > ($1, $2) AND media_path IS NOT NULL ORDER BY org_id, id LIMIT $3"
            }
            FileKind::Attachment => {
                "SELECT org_id, id, path, sha256 FROM attachments
                 WHERE (org_id, id) > ($1, $2) AND path IS NOT NULL ORDER BY org_id, id LIMIT $3"
            }
        };
        let (org, id) = after.cloned().unwrap_or_default();
        self.read(|pg| {
            Ok(pg
                .tx
                .query(sql, &[&org, &id, &i64::try_from(limit).unwrap_or(i64::MAX)])?
                .into_iter()
                .map(|row| StoredObject {
                    kind,
                    org: row.get(0),
                    id: row.get(1),
                    path: row.get(2),
                    sha256: row.get(3),
                })
                .collect())
        })
    }

    fn deletion_forecast(
        &self,
        org: OrgId,
        now: Instant,
        start: Instant,
        until: Instant,
    ) -> StoreResult<Vec<(Option<i64>, bool, u64)>> {
        self.read(|pg| {
            Ok(pg
                .tx
                .query(
                    "SELECT CASE WHEN r.delete_date <= $2 THEN NULL ELSE (r.delete_date - $3) / 86400000 END AS day,
                            c.protected, COUNT(*)
                     FROM recordings r
                     JOIN conversations c ON c.org_id = r.org_id AND c.id = r.conversation_id
                     WHERE r.org_id = $1 AND r.file_state = 'AVAILABLE' AND r.delete_date < $4
                     GROUP BY 1, 2",
                    &[
                        &org.to_string(),
                        &now.timestamp_millis(),
                        &start.timestamp_millis(),
                        &until.timestamp_millis(),
                    ],
                )?
                .into_iter()
                .map(|row| {
                    (
                        row.get::<_, Option<i64>>(0),
                        row.get::<_, bool>(1),
                        u64::try_from(row.get::<_, i64>(2)).unwrap_or(0),
                    )
                })
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
             WHERE (org_id, conversation_id) > ($1, $2) ORDER BY org_id, conversation_id LIMIT $3",
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
             WHERE (org_id, conversation_id) > ($1, $2) ORDER BY org_id, conversation_id LIMIT $3",
            after,
            limit,
        )
    }

    fn hold_states(
        &self,
        org: OrgId,
        conversations: &[ConversationId],
    ) -> StoreResult<Vec<HoldState>> {
        let listed: Vec<String> = conversations.iter().map(ToString::to_string).collect();
        self.read(|pg| {
            let mut states: Vec<HoldState> = Vec::with_capacity(listed.len());
            for row in pg.tx.query(
                "SELECT c.id, c.protected, h.mark FROM conversations c
                 LEFT JOIN media_holds h ON h.org_id = c.org_id AND h.conversation_id = c.id
                 WHERE c.org_id = $1 AND c.id = ANY($2) ORDER BY c.id",
                &[&org.to_string(), &listed],
            )? {
                states.push(HoldState {
                    conversation: parse_id(row.get(0), ConversationId::parse)?,
                    protected: row.get(1),
                    objects: Vec::new(),
                    mark: row.get(2),
                });
            }
            let index: HashMap<ConversationId, usize> = states
                .iter()
                .enumerate()
                .map(|(i, s)| (s.conversation, i))
                .collect();
            for row in pg.tx.query(
                "SELECT conversation_id, media_path FROM recordings
                 WHERE org_id = $1 AND conversation_id = ANY($2) AND media_path IS NOT NULL
                 UNION ALL
                 SELECT r.conversation_id, a.path FROM recordings r
                 JOIN attachments a ON a.org_id = r.org_id AND a.recording_id = r.id
                 WHERE r.org_id = $1 AND r.conversation_id = ANY($2) AND a.path IS NOT NULL",
                &[&org.to_string(), &listed],
            )? {
                let id = parse_id(row.get(0), ConversationId::parse)?;
                if let Some(&i) = index.get(&id) {
                    states[i].objects.push(row.get(1));
                }
            }
            Ok(states)
        })
    }

    fn clear_holds(
        &self,
        org: OrgId,
        marks: &[(ConversationId, i64)],
    ) -> StoreResult<Vec<ConversationId>> {
        self.write(|tx| {
            let mut moved = Vec::new();
            for (id, mark) in marks {
                let cleared = tx.execute(
                    "DELETE FROM media_holds WHERE org_id = $1 AND conversation_id = $2 AND mark = $3",
                    &[&org.to_string(), &id.to_string(), mark],
                )?;
                if cleared == 0 {
                    moved.push(*id);
                }
            }
            Ok(moved)
        })
    }

    fn attachment_file(&self, org: OrgId, id: &str) -> StoreResult<Option<StoredFile>> {
        self.read(|pg| {
            Ok(pg
                .tx
                .query_opt(
                    "SELECT path, content_type, name, sha256 FROM attachments
                     WHERE org_id = $1 AND id = $2 AND path IS NOT NULL",
                    &[&org.to_string(), &id],
                )?
                .map(|row| StoredFile {
                    path: row.get(0),
                    content_type: row.get(1),
                    name: Some(row.get(2)),
                    sha256: row.get(3),
                }))
        })
    }

    fn views(&self, user: UserId) -> StoreResult<Vec<SavedView>> {
        self.read(|pg| {
            Ok(pg
                .tx
                .query(
                    "SELECT id, name, query FROM saved_views WHERE user_id = $1 ORDER BY name",
                    &[&user.to_string()],
                )?
                .iter()
                .map(|r| SavedView {
                    id: r.get(0),
                    name: r.get(1),
                    query: r.get(2),
                })
                .collect())
        })
    }

    fn create_view(&self, user: UserId, name: &str, query: &str) -> StoreResult<Option<SavedView>> {
        let id = uuid::Uuid::new_v4().to_string();
        self.write(|tx| {
            let n = tx.execute(
                "INSERT INTO saved_views (id, user_id, name, query, created_at) VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (user_id, name) DO NOTHING",
                &[
                    &id,
                    &user.to_string(),
                    &name,
                    &query,
                    &chrono::Utc::now().timestamp_millis(),
                ],
            )?;
            Ok((n == 1).then(|| SavedView {
                id: id.clone(),
                name: name.to_owned(),
                query: query.to_owned(),
            }))
        })
    }

    fn rename_view(&self, user: UserId, id: &str, name: &str) -> StoreResult<Option<bool>> {
        self.write(|tx| {
            let user = user.to_string();
            if tx
                .query_opt(
                    "SELECT 1 FROM saved_views WHERE id = $1 AND user_id = $2 FOR UPDATE",
                    &[&id, &user],
                )?
                .is_none()
            {
                return Ok(None);
            }
            let taken = tx
                .query_opt(
                    "SELECT 1 FROM saved_views WHERE user_id = $1 AND name = $2 AND id <> $3",
                    &[&user, &name, &id],
                )?
                .is_some();
            if taken {
                return Ok(Some(false));
            }
            tx.execute(
                "UPDATE saved_views SET name = $1 WHERE id = $2",
                &[&name, &id],
            )?;
            Ok(Some(true))
        })
    }

    fn delete_view(&self, user: UserId, id: &str) -> StoreResult<bool> {
        self.write(|tx| {
            Ok(tx.execute(
                "DELETE FROM saved_views WHERE id = $1 AND user_id = $2",
                &[&id, &user.to_string()],
            )? == 1)
        })
    }

    fn audit_events(&self, org: OrgId) -> StoreResult<Vec<(AuditEvent, String)>> {
        self.read(|pg| {
            pg.tx
                .query(
                    "SELECT event, hash FROM audit_events WHERE org_id = $1 ORDER BY seq",
                    &[&org.to_string()],
                )?
                .iter()
                .map(|r| Ok((audit_event(r.get(0))?, r.get(1))))
                .collect()
        })
    }

    fn audit_chain_after(&self, org: OrgId, seq: u64, limit: usize) -> StoreResult<AuditChain> {
        // One snapshot: the head and the events are read at the same moment.
        self.read(|pg| {
            let org = org.to_string();
            let head = pg
                .tx
                .query_opt(
                    "SELECT seq, hash FROM audit_heads WHERE org_id = $1",
                    &[&org],
                )?
                .map(|r| (u64::try_from(r.get::<_, i64>(0)).unwrap_or(0), r.get(1)));
            let events = pg
                .tx
                .query(
                    "SELECT seq, time, action, entity_id, actor_id, form, event, hash
                     FROM audit_events WHERE org_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
                    &[
                        &org,
                        &i64::try_from(seq).unwrap_or(i64::MAX),
                        &i64::try_from(limit).unwrap_or(i64::MAX),
                    ],
                )?
                .iter()
                .map(|r| StoredEvent {
                    seq: u64::try_from(r.get::<_, i64>(0)).unwrap_or(0),
                    columns: Columns {
                        time_ms: r.get(1),
                        action: r.get(2),
                        entity_id: r.get(3),
                        actor_id: r.get(4),
                    },
                    form: u32::try_from(r.get::<_, i32>(5)).unwrap_or(u32::MAX),
                    bytes: r.get(6),
                    hash: r.get(7),
                })
                .collect();
            Ok((head, events))
        })
    }

    fn audit_page(
        &self,
        org: OrgId,
        filter: &AuditFilter,
    ) -> StoreResult<(Vec<(AuditEvent, String)>, u64)> {
        let mut sql = Sql::default();
        let org_arg = sql.arg(org.to_string());
        sql.text = format!("org_id = {org_arg}");
        if let Some(action) = filter.action {
            let a = sql.arg(action.as_str().to_owned());
            sql.and(&format!("action = {a}"));
        }
        if let Some(user) = &filter.user {
            let u = sql.arg(user.clone());
            sql.and(&format!("actor_name = {u}"));
        }
        if let Some(ids) = &filter.about {
            let ids = sql.arg(ids.clone());
            sql.and(&format!("entity_id = ANY({ids})"));
        }
        if let Some(actor) = &filter.actor_id {
            let a = sql.arg(actor.clone());
            sql.and(&format!("actor_id = {a}"));
        }
        if let Some(kind) = filter.entity_type {
            let k = sql.arg(kind.as_str().to_owned());
            sql.and(&format!("entity_type = {k}"));
        }
        if let Some(id) = &filter.mentions {
            let id = sql.arg(id.clone());
            sql.and(&format!(
                "(entity_id = {id} OR (event::jsonb) -> 'details' -> 'recordings' ? {id})"
            ));
        }
        if let Some(from) = filter.from {
            let t = sql.arg(from.timestamp_millis());
            sql.and(&format!("time >= {t}"));
        }
        if let Some(to) = filter.to {
            let t = sql.arg(to.timestamp_millis());
            sql.and(&format!("time < {t}"));
        }
        self.read(|pg| {
            let total: i64 = pg
                .tx
                .query_one(
                    &format!("SELECT COUNT(*) FROM audit_events WHERE {}", sql.text),
                    &sql.refs(),
                )?
                .get(0);
            let mut args = sql.refs();
            let limit = filter.limit.map(|l| i64::try_from(l).unwrap_or(i64::MAX));
            let offset = i64::try_from(filter.offset).unwrap_or(i64::MAX);
            args.push(&limit);
            args.push(&offset);
            let page = format!(
                "SELECT event, hash FROM audit_events WHERE {} ORDER BY seq DESC LIMIT ${} OFFSET ${}",
                sql.text,
                args.len() - 1,
                args.len()
            );
            let events = pg
                .tx
                .query(&page, &args)?
                .iter()
                .map(|r| Ok((audit_event(r.get(0))?, r.get(1))))
                .collect::<StoreResult<Vec<_>>>()?;
            Ok((events, u64::try_from(total).unwrap_or(0)))
        })
    }

    fn audit_head(&self, org: OrgId) -> StoreResult<Option<(u64, String)>> {
        self.read(|pg| {
            Ok(pg
                .tx
                .query_opt(
                    "SELECT seq, hash FROM audit_heads WHERE org_id = $1",
                    &[&org.to_string()],
                )?
                .map(|r| (u64::try_from(r.get::<_, i64>(0)).unwrap_or(0), r.get(1))))
        })
    }
}
