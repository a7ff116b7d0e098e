//! Storage behind one trait. Handlers know only [`Store`]; SQLite is the embedded default and
//! PostgreSQL will be a second implementation with its own migrations.
//!
//! Every method is synchronous and scoped to an organization where the data belongs to one:
//! another organization's ids behave exactly like ids that do not exist. Handlers call the store
//! on tokio's blocking pool.

pub mod postgres;
pub mod sqlite;

use std::collections::HashMap;
use std::fmt;

use holdfast_core::api::{ConversationDetails, ConversationPage, SavedView, Selection};
use holdfast_core::audit::{Actor, AuditEvent, ChainHash, Client, StoredEvent};
use holdfast_core::deletion::{DeleteDateChange, RecordingState};
use holdfast_core::holds::{HoldDetails, HoldInfo, NewHold, OrgSettings, ReleaseRequest};
use holdfast_core::protection::{OrgStatus, ProtectAction, ProtectPlan, SelectionSummary};
use holdfast_core::retention::RetentionPolicy;
use holdfast_core::time::Instant;
use holdfast_core::view::ViewState;
use holdfast_core::{
    Cap, ConversationId, Direction, HoldId, Media, OrgId, Permissions, Reason, RecordingId,
    RecordingRole, UserId,
};

/// A failure of the store, not of the request.
#[derive(Debug)]
pub enum StoreError {
    /// The database failed (I/O, corruption, a bug in a query); the backend's error is kept.
    Database(Cause),
    /// The stored data breaks an invariant (a permission name this version does not know, say).
    Corrupt(String),
    /// The selection's filter query does not parse.
    BadFilter(holdfast_core::view::ViewError),
    /// An ingested id is already used (by another organization's conversation, or by another
    /// recording); the whole batch is rolled back.
    IdTaken(String),
    /// The storage cannot take the write (nothing of it was kept): the disk is full, a file is
    /// read-only, or I/O failed. The backend's error is kept.
    Unavailable(StorageFault, Cause),
    /// Every connection the instance may open is in use, and none came free in time.
    Busy,
}

/// Why the storage cannot take writes.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum StorageFault {
    Full,
    ReadOnly,
    Io,
}

impl StorageFault {
    pub const fn as_str(self) -> &'static str {
        match self {
            StorageFault::Full => "full",
            StorageFault::ReadOnly => "read-only",
            StorageFault::Io => "failing",
        }
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::Database(e) => {
                // A driver's own text may be only "db error": what the database said is in
                // its sources.
                write!(f, "database error: {e}")?;
                let mut source = e.source();
                while let Some(cause) = source {
                    write!(f, ": {cause}")?;
                    source = cause.source();
                }
                Ok(())
            }
            StoreError::Corrupt(e) => write!(f, "stored data is inconsistent: {e}"),
            StoreError::Busy => write!(f, "every database connection is in use"),
            StoreError::BadFilter(e) => write!(f, "{e}"),
            StoreError::IdTaken(id) => {
                write!(f, "the id {id} is already used; nothing was imported")
            }
            StoreError::Unavailable(fault, e) => {
                write!(f, "the storage is {}: {e}", fault.as_str())
            }
        }
    }
}

impl std::error::Error for StoreError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            StoreError::Database(cause) | StoreError::Unavailable(_, cause) => Some(cause.as_ref()),
            StoreError::BadFilter(e) => Some(e),
            StoreError::Corrupt(_) | StoreError::IdTaken(_) | StoreError::Busy => None,
        }
    }
}

/// A backend's own error, kept as the cause of a [`StoreError`].
pub type Cause = Box<dyn std::error::Error + Send + Sync + 'static>;

pub type StoreResult<T> = Result<T, StoreError>;

/// A user as the login check needs them.
#[derive(Clone, Debug)]
pub struct LoginRecord {
    pub user_id: UserId,
    pub org_id: OrgId,
    pub password_hash: String,
}

/// The signed-in user behind a request, with the organization every query is scoped to.
#[derive(Clone, Debug)]
pub struct Caller {
    pub user_id: UserId,
    pub username: String,
    pub display_name: String,
    pub org_id: OrgId,
    pub org_name: String,
    pub permissions: Permissions,
    /// Set when the caller is an API client (OAuth client credentials), not a person.
    pub api_client: Option<String>,
}

/// A new organization.
#[derive(Clone, Debug)]
pub struct NewOrg {
    pub id: OrgId,
    pub name: String,
    pub cap: u32,
}

pub use holdfast_core::protection::Standing;

/// A new API client.
#[derive(Clone, Debug)]
pub struct NewClient {
    pub id: String,
    pub org_id: OrgId,
    pub name: String,
    pub secret_hash: String,
    pub roles: Vec<(String, Permissions)>,
}

/// A new user with the names of the roles they get (created in their organization if missing).
#[derive(Clone, Debug)]
pub struct NewUser {
    pub id: UserId,
    pub org_id: OrgId,
    pub username: String,
    pub display_name: String,
    pub password_hash: String,
    pub roles: Vec<(String, Permissions)>,
}

/// A recording to add with its conversation.
#[derive(Clone, Debug)]
pub struct NewRecording {
    pub id: holdfast_core::RecordingId,
    pub media: Media,
    pub role: RecordingRole,
    pub created_at: Instant,
    pub duration_ms: Option<u64>,
    pub size_bytes: Option<u64>,
    pub deleted: bool,
    pub delete_date: Option<Instant>,
    pub transcript: Option<String>,
    /// The media file, relative to the media directory, written before the insert commits.
    pub media_path: Option<String>,
    /// The SHA-256 of the media file (hex), taken as it was written.
    pub media_sha256: Option<String>,
    pub content_type: Option<String>,
    pub attachments: Vec<NewAttachment>,
}

/// An attachment whose file is already written.
#[derive(Clone, Debug)]
pub struct NewAttachment {
    pub id: String,
    pub name: String,
    pub content_type: String,
    pub size_bytes: u64,
    pub path: String,
    /// The SHA-256 of the file (hex), taken as it was written.
    pub sha256: String,
}

/// A conversation to add, with its participants and recordings.
#[derive(Clone, Debug)]
pub struct NewConversation {
    pub id: ConversationId,
    pub start_time: Instant,
    pub end_time: Instant,
    pub direction: Direction,
    pub queue: Option<String>,
    pub agents: Vec<String>,
    pub remote_party: Option<String>,
    pub wrap_up: Option<String>,
    pub recordings: Vec<NewRecording>,
    /// Protected at import, by this user name, with this reason.
    pub protected_by: Option<(String, Option<String>)>,
}

/// What a conversation's stored objects must be, as the database says now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HoldState {
    pub conversation: ConversationId,
    pub protected: bool,
    /// The stored objects (media and attachments), relative keys.
    pub objects: Vec<String>,
    /// The pending mark, if the conversation is marked.
    pub mark: Option<i64>,
}

/// One thing [`Store::fill`] writes, in order.
#[derive(Clone, Debug)]
pub enum FillItem {
    Org(NewOrg),
    User(NewUser),
    /// Conversations of an organization written before, with the deletion dates given.
    Conversations(OrgId, Vec<NewConversation>),
}

/// Who asked, for the audit trail.
#[derive(Clone, Debug)]
pub struct AuditContext {
    pub actor: Actor,
    pub client: Client,
    pub now: Instant,
}

/// Holdfast's storage: the reads every page makes, and write transactions in which the use
/// cases (`crate::usecase`) run their data operations ([`Tx`]).
/// A window of sign-in attempts (see `auth::admit`): when it started and how many it holds.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct LoginWindow {
    pub started: Instant,
    pub attempts: u32,
}

pub trait Store: Transact + 'static {
    /// Says that a bulk load (demo data, an import) starts or has ended: the backend may trade
    /// memory for speed meanwhile. Every write stays as durable as ever.
    fn bulk_load(&self, active: bool) -> StoreResult<()>;

    /// Refreshes the query planner's statistics, after a bulk load (demo data, an import) has
    /// changed the tables' sizes.
    fn analyze(&self) -> StoreResult<()>;

    /// Whether the store holds no organization yet (a new database).
    fn is_empty(&self) -> StoreResult<bool>;

    fn create_org(&self, org: &NewOrg) -> StoreResult<()>;
    fn create_user(&self, user: &NewUser) -> StoreResult<()>;
    /// Sets the organization's cap. Lowering it below the protected count is allowed: nothing
    /// is released, and no new protection fits until the count is under the cap again.
    fn set_cap(&self, org: OrgId, cap: Cap) -> StoreResult<()>;
    /// Adds conversations in one transaction, with the deletion dates given (demo data).
    fn insert_conversations(&self, org: OrgId, batch: &[NewConversation]) -> StoreResult<()>;

    /// Fills an empty store with everything `items` yields, in one transaction: all of it or,
    /// after an error or a crash, nothing. The backend may build its indexes once at the end
    /// rather than row by row, which is what makes ten million demo conversations practical.
    fn fill(&self, items: &mut dyn Iterator<Item = FillItem>) -> StoreResult<()>;

    /// The organization's retention policies with their ids, by order.
    fn retention_policies(&self, org: OrgId) -> StoreResult<Vec<(String, RetentionPolicy)>>;

    fn find_login(&self, username: &str) -> StoreResult<Option<LoginRecord>>;

    /// Runs `change` on the sign-in windows named by `keys` (absent ones as `None`; a `None`
    /// left behind removes one) and keeps what it leaves, as one step for every instance that
    /// shares this store: two instances never both admit the attempt that fills a window.
    /// `change` may run more than once (a conflict runs the step again); the last run counts.
    /// SQLite, served by one instance, keeps them in memory; PostgreSQL in a table.
    fn login_windows(
        &self,
        keys: &[String],
        change: &mut dyn FnMut(&mut [Option<LoginWindow>]),
    ) -> StoreResult<()>;
    /// Every organization, id and name.
    fn organizations(&self) -> StoreResult<Vec<(OrgId, String)>>;
    /// The organization with this name.
    fn find_org(&self, name: &str) -> StoreResult<Option<OrgId>>;

    /// Adds an API client with the roles given (created in its organization if missing).
    fn create_client(&self, client: &NewClient) -> StoreResult<()>;
    /// The stored secret hash of an API client.
    fn client_secret(&self, client_id: &str) -> StoreResult<Option<String>>;
    fn create_token(
        &self,
        token_hash: &str,
        client_id: &str,
        now: Instant,
        expires: Instant,
    ) -> StoreResult<()>;
    /// The API client behind a live bearer token.
    fn token_caller(&self, token_hash: &str, now: Instant) -> StoreResult<Option<Caller>>;
    /// Where each listed conversation stands, within the organization.
    fn classify(
        &self,
        org: OrgId,
        ids: &[ConversationId],
    ) -> StoreResult<Vec<(ConversationId, Standing)>>;
    fn create_session(
        &self,
        token_hash: &str,
        user: UserId,
        now: Instant,
        expires: Instant,
    ) -> StoreResult<()>;
    /// The caller behind a live session.
    fn session_caller(&self, token_hash: &str, now: Instant) -> StoreResult<Option<Caller>>;
    /// Ends the session or the access token with this hash.
    fn delete_session(&self, token_hash: &str) -> StoreResult<()>;

    fn org_status(&self, org: OrgId) -> StoreResult<OrgStatus>;
    fn list_conversations(&self, org: OrgId, view: &ViewState) -> StoreResult<ConversationPage>;
    fn summarize(
        &self,
        org: OrgId,
        selection: &Selection,
        now: Instant,
    ) -> StoreResult<SelectionSummary>;

    /// One conversation with its recordings, transcripts, attachments and protection.
    fn conversation_details(
        &self,
        org: OrgId,
        id: ConversationId,
    ) -> StoreResult<Option<ConversationDetails>>;

    /// A recording's stored media file and its type, within the organization.
    fn media_file(&self, org: OrgId, id: RecordingId) -> StoreResult<Option<StoredFile>>;
    /// An attachment's stored file, name and type, within the organization.
    fn attachment_file(&self, org: OrgId, id: &str) -> StoreResult<Option<StoredFile>>;

    /// Up to `limit` stored files of one kind, every organization, in (organization, id)
    /// order after `after`: what `holdfast media verify` reads, a page at a time.
    fn stored_files(
        &self,
        kind: FileKind,
        after: Option<&(String, String)>,
        limit: usize,
    ) -> StoreResult<Vec<StoredObject>>;

    /// The organization's available recordings due before `until`, counted by (day, protected):
    /// the day is `None` at or before `now` (past due), else whole days since `start` (core's
    /// `forecast::day_of`).
    fn deletion_forecast(
        &self,
        org: OrgId,
        now: Instant,
        start: Instant,
        until: Instant,
    ) -> StoreResult<Vec<(Option<i64>, bool, u64)>>;

    /// Up to `limit` conversations marked for a legal-hold update ([`Tx::mark_holds`]), every
    /// organization, in (organization, id) order after `after`: what the reconciler settles.
    fn pending_holds(
        &self,
        after: Option<&(String, String)>,
        limit: usize,
    ) -> StoreResult<Vec<(OrgId, ConversationId)>>;
    /// Up to `limit` protected conversations, every organization, in (organization, id) order
    /// after `after`: what a full reconcile holds.
    fn protected_conversations(
        &self,
        after: Option<&(String, String)>,
        limit: usize,
    ) -> StoreResult<Vec<(OrgId, ConversationId)>>;
    /// What storage must hold now for each listed conversation of the organization that
    /// exists: whether it is protected, its stored objects and its pending mark.
    fn hold_states(
        &self,
        org: OrgId,
        conversations: &[ConversationId],
    ) -> StoreResult<Vec<HoldState>>;
    /// Clears each conversation's mark if it is still the one given; returns the conversations
    /// whose mark moved meanwhile (changed again: to be read and settled again).
    fn clear_holds(
        &self,
        org: OrgId,
        marks: &[(ConversationId, i64)],
    ) -> StoreResult<Vec<ConversationId>>;

    /// The listed conversations an active legal hold covers, each once.
    fn held(&self, org: OrgId, ids: &[ConversationId]) -> StoreResult<Vec<ConversationId>>;
    /// Up to `limit` available recordings of the organization after `after`, in id order, whose
    /// deletion date is more than `threshold_ms` after their creation or that have none (core's
    /// `genesys::retained_longer_than`): (conversation, recording, deletion date, creation).
    fn retained_longer_than(
        &self,
        org: OrgId,
        threshold_ms: i64,
        after: Option<RecordingId>,
        limit: usize,
    ) -> StoreResult<Vec<RetainedRecording>>;
    /// The organization's holds, the default hold first, then the newest first; with a
    /// search, those whose name or case reference contains it (case-insensitively).
    fn holds(
        &self,
        org: OrgId,
        search: Option<&str>,
    ) -> StoreResult<holdfast_core::holds::HoldList>;
    /// A hold with its members (active ones; every one it had once released) and what
    /// releasing it would do now.
    fn hold_details(
        &self,
        org: OrgId,
        id: HoldId,
        now: Instant,
    ) -> StoreResult<Option<HoldDetails>>;

    /// The user's saved views, by name.
    fn views(&self, user: UserId) -> StoreResult<Vec<SavedView>>;
    /// Saves a view; `None` when the user already has a view of that name.
    fn create_view(&self, user: UserId, name: &str, query: &str) -> StoreResult<Option<SavedView>>;
    /// Renames a view: `Ok(None)` when the view is not the user's, `Err(NameTaken)`-like `Ok(Some(false))`
    /// when the name is taken.
    fn rename_view(&self, user: UserId, id: &str, name: &str) -> StoreResult<Option<bool>>;
    /// Deletes a view; whether it existed.
    fn delete_view(&self, user: UserId, id: &str) -> StoreResult<bool>;

    /// The organization's events in order, for verification and export.
    fn audit_events(&self, org: OrgId) -> StoreResult<Vec<(AuditEvent, String)>>;
    /// The recorded head and at most `limit` of the events after `seq`, in order, with their
    /// stored hashes, read at one moment (so an event appended meanwhile is in both or in
    /// neither): what a verification from the link at `seq` needs, a batch at a time.
    fn audit_chain_after(&self, org: OrgId, seq: u64, limit: usize) -> StoreResult<AuditChain>;
    /// The events that pass `filter`, newest first, from `filter.offset` for `filter.limit`,
    /// with their stored hashes, and how many pass in all.
    fn audit_page(
        &self,
        org: OrgId,
        filter: &AuditFilter,
    ) -> StoreResult<(Vec<(AuditEvent, String)>, u64)>;
    /// The recorded head of the organization's chain.
    fn audit_head(&self, org: OrgId) -> StoreResult<Option<(u64, String)>>;
}

/// What a deletion or date change did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Deletion {
    /// How the date change was applied (`None` for a plain deletion or a sweep).
    pub change: Option<DeleteDateChange>,
    /// Recordings marked deleted.
    pub deleted: usize,
    /// Media and attachment files to remove once the transaction has committed, relative to
    /// the media directory.
    pub files: Vec<String>,
}

/// A part of a recording that can be deleted on its own.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Part {
    Transcript(RecordingId),
    Attachment(String),
}

/// A stored file to serve.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredFile {
    /// Relative to the media directory.
    pub path: String,
    pub content_type: String,
    /// For a download: the file name to suggest.
    pub name: Option<String>,
    /// The SHA-256 taken as the file arrived (hex); none for files stored before checksums.
    pub sha256: Option<String>,
}

/// Which files [`Store::stored_files`] lists.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum FileKind {
    /// Recordings' media.
    Media,
    Attachment,
}

/// A stored file as the database knows it.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct StoredObject {
    pub kind: FileKind,
    pub org: String,
    /// The recording's or attachment's id.
    pub id: String,
    /// Relative to the media directory.
    pub path: String,
    /// Taken when it arrived; none for files stored before checksums.
    pub sha256: Option<String>,
}

/// A protect or release to apply.
#[derive(Clone, Debug)]
pub struct ProtectionChange {
    pub action: ProtectAction,
    pub selection: Selection,
    pub reason: Option<Reason>,
    /// A protect into this legal hold; `None` (or the default hold's id): the default hold.
    pub hold: Option<HoldId>,
}

/// What a committed protect or release did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProtectionOutcome {
    pub plan: ProtectPlan,
    /// The conversations whose protection changed.
    pub changed: Vec<ConversationId>,
    /// Listed ids that are not in the organization.
    pub not_found: Vec<ConversationId>,
    /// For a selection by ids: where each stood when the plan was made, in the order listed.
    pub standings: Vec<(ConversationId, Standing)>,
    /// Into a legal hold: the protected conversations that joined it.
    pub joined: Vec<ConversationId>,
    /// On a release of listed ids: the protected ones a legal hold kept protected.
    pub held: Vec<ConversationId>,
    /// With two-person release: the release asked for, which a second user decides on;
    /// nothing changed.
    pub requested: Option<holdfast_core::holds::ReleaseRequest>,
}

impl ProtectionOutcome {
    /// What the change did to a listed conversation that stood at `standing`.
    pub fn outcome_of(
        &self,
        id: ConversationId,
        standing: Standing,
    ) -> holdfast_core::protection::Outcome {
        // A release only asked for (two-person release) changed nothing yet.
        match self.requested.is_some() || self.held.contains(&id) {
            true => holdfast_core::protection::Outcome::Unchanged,
            false => self.plan.action.outcome(standing),
        }
    }

    /// How many conversations changed: none for a release only asked for.
    pub fn changed_count(&self) -> u32 {
        u32::try_from(self.changed.len()).unwrap_or(u32::MAX)
    }
}

/// An organization's recorded chain head (`seq`, hash) and its stored events, as stored.
pub type AuditChain = (
    Option<(u64, String)>,
    Vec<holdfast_core::audit::StoredEvent>,
);

/// The audit trail's filters and a window of the matching events (see
/// `holdfast_core::audit::AuditQuery`, which says what each filter means).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AuditFilter {
    pub action: Option<holdfast_core::audit::AuditAction>,
    /// The actor's user name, exactly; `system` also names the system actor.
    pub user: Option<String>,
    /// Events whose entity is one of these ids: a conversation and its recordings. (An event
    /// about a recording names that recording as its entity, so this finds every event about
    /// the conversation or one of its recordings.)
    pub about: Option<Vec<String>>,
    /// The acting user's id (Genesys `UserId`).
    pub actor_id: Option<String>,
    pub entity_type: Option<holdfast_core::audit::EntityType>,
    /// Events whose entity is this id or that list it among their recordings (Genesys
    /// `EntityId`).
    pub mentions: Option<String>,
    pub from: Option<holdfast_core::time::Instant>,
    pub to: Option<holdfast_core::time::Instant>,
    /// How many of the newest matching events to skip.
    pub offset: u64,
    /// How many to return; `None` for all.
    pub limit: Option<u64>,
}

/// An audit event before the store numbers and chains it.
#[derive(Clone, Debug)]
pub struct AuditDraft {
    pub action: holdfast_core::audit::AuditAction,
    pub entity_type: holdfast_core::audit::EntityType,
    pub entity_id: String,
    pub details: holdfast_core::audit::Details,
}

/// A recording's deletion facts and its conversation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FoundRecording {
    pub conversation: ConversationId,
    pub state: RecordingState,
}

/// An attachment as a deletion needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FoundAttachment {
    pub recording: RecordingId,
    /// Its file, relative to the media directory.
    pub path: Option<String>,
    pub name: String,
}

/// Who protects, when and why, as a protection row keeps it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProtectedBy {
    pub at: Instant,
    pub by: String,
    pub reason: Option<String>,
}

/// Write transactions: what the use cases need of a backend.
pub trait Transact: Send + Sync {
    /// Runs `work` in one write transaction and commits it when `work` returns `Ok`; nothing of
    /// it is kept otherwise. Writers are serialized per organization at least (SQLite: one
    /// writer at a time, `BEGIN IMMEDIATE`; PostgreSQL: the organization's row locked by the
    /// first operation that names it), so what `work` reads cannot change before it commits.
    /// A backend may run `work` again after a conflict it rolled back.
    fn transact(&self, work: &mut dyn FnMut(&mut dyn Tx) -> StoreResult<()>) -> StoreResult<()>;
}

/// The data operations of one write transaction: what the use cases in `crate::usecase` are
/// written with, once, for every backend. Each reads or writes data and decides nothing: the
/// rules are core's, applied by the use cases. Every operation is scoped to the organization
/// it names; another organization's ids behave like ids that do not exist.
pub trait Tx {
    /// The organization's protected count and cap, read for a decision that holds until the
    /// transaction ends (no other writer can change them before it commits).
    fn org_status(&mut self, org: OrgId) -> StoreResult<OrgStatus>;
    /// Where each listed conversation stands, in the order listed.
    fn classify(
        &mut self,
        org: OrgId,
        ids: &[ConversationId],
    ) -> StoreResult<Vec<(ConversationId, Standing)>>;
    /// The available recordings of the selection's protected conversations whose date is not
    /// after `now`: what a release hands to the next sweep.
    fn past_due(&mut self, org: OrgId, selection: &Selection, now: Instant) -> StoreResult<u32>;
    /// The selection's counts, exact up to the bounds core's plan needs.
    fn summarize(
        &mut self,
        org: OrgId,
        selection: &Selection,
        now: Instant,
    ) -> StoreResult<SelectionSummary>;
    /// The conversations of a selection by filter that `action` changes: the unprotected
    /// protectable ones for a protect, the protected ones for a release.
    fn to_change(
        &mut self,
        org: OrgId,
        selection: &Selection,
        action: ProtectAction,
    ) -> StoreResult<Vec<ConversationId>>;
    /// Every recording of each conversation, by creation time.
    fn recordings_of(
        &mut self,
        org: OrgId,
        conversations: &[ConversationId],
    ) -> StoreResult<HashMap<ConversationId, Vec<RecordingId>>>;
    /// Protects conversations that are not protected: into the default hold (`by_default`),
    /// or for a legal hold that [`Tx::join_hold`] then names.
    fn protect(
        &mut self,
        org: OrgId,
        conversations: &[ConversationId],
        by: &ProtectedBy,
        by_default: bool,
    ) -> StoreResult<()>;
    /// The listed conversations an active legal hold covers, each once.
    fn held(&mut self, org: OrgId, ids: &[ConversationId]) -> StoreResult<Vec<ConversationId>>;
    /// The protected conversations of a selection (at most the cap's worth).
    fn protected_in(
        &mut self,
        org: OrgId,
        selection: &Selection,
    ) -> StoreResult<Vec<ConversationId>>;
    /// A hold of the organization, with the conversations it covers now.
    fn hold(&mut self, org: OrgId, id: HoldId) -> StoreResult<Option<HoldInfo>>;
    /// Adds a legal hold.
    fn insert_hold(
        &mut self,
        org: OrgId,
        id: HoldId,
        hold: &NewHold,
        owner: &str,
        at: Instant,
    ) -> StoreResult<()>;
    /// Records why a recording's deletion date is what it is ("why this date").
    fn note_date(
        &mut self,
        org: OrgId,
        recording: RecordingId,
        reason: &str,
        at: Instant,
    ) -> StoreResult<()>;
    /// The organization's settings.
    fn settings(&mut self, org: OrgId) -> StoreResult<OrgSettings>;
    fn set_settings(&mut self, org: OrgId, settings: &OrgSettings) -> StoreResult<()>;
    /// The releases of the hold that wait for a second user, oldest first.
    fn pending_releases(&mut self, org: OrgId, hold: HoldId) -> StoreResult<Vec<ReleaseRequest>>;
    /// A release of interactions from the default hold asked for: its selection (JSON).
    fn release_selection(&mut self, org: OrgId, request: &str) -> StoreResult<Option<String>>;
    /// Records a release asked for; `selection` for a release of interactions.
    fn insert_release_request(
        &mut self,
        org: OrgId,
        request: &ReleaseRequest,
        selection: Option<&str>,
    ) -> StoreResult<()>;
    /// Records the decision on a requested release.
    fn decide_release(
        &mut self,
        org: OrgId,
        request: &str,
        by: &str,
        at: Instant,
        approved: bool,
    ) -> StoreResult<()>;
    /// The listed conversations that are active members of the legal hold.
    fn in_hold(
        &mut self,
        org: OrgId,
        hold: HoldId,
        ids: &[ConversationId],
    ) -> StoreResult<Vec<ConversationId>>;
    /// The organization's active legal holds that carry a query (id, query), oldest first.
    fn query_holds(&mut self, org: OrgId) -> StoreResult<Vec<(HoldId, String)>>;
    /// Records that a query hold matched an arriving conversation it could not protect;
    /// whether this was not recorded before.
    fn note_miss(
        &mut self,
        org: OrgId,
        hold: HoldId,
        conversation: ConversationId,
        at: Instant,
    ) -> StoreResult<bool>;
    /// Makes protected conversations members of an active legal hold; returns those that were
    /// not members already, in the order given.
    fn join_hold(
        &mut self,
        org: OrgId,
        hold: HoldId,
        conversations: &[ConversationId],
        by: &ProtectedBy,
    ) -> StoreResult<Vec<ConversationId>>;
    /// What releasing an active legal hold would do now: its members that stay protected
    /// (the default hold or another active hold covers them), those that would not, and the
    /// past-due recordings of those.
    fn hold_release(&mut self, org: OrgId, hold: HoldId, now: Instant) -> StoreResult<HoldRelease>;
    /// Marks a legal hold released and its members inactive (the rows stay for its report).
    fn end_hold(
        &mut self,
        org: OrgId,
        hold: HoldId,
        at: Instant,
        by: &str,
        reason: Option<&str>,
    ) -> StoreResult<()>;
    /// Releases protected conversations.
    fn release(&mut self, org: OrgId, conversations: &[ConversationId]) -> StoreResult<()>;
    /// Marks conversations whose stored objects' legal holds must be made to agree with this
    /// transaction once it commits (the outbox the reconciler settles after a crash).
    fn mark_holds(&mut self, org: OrgId, conversations: &[ConversationId]) -> StoreResult<()>;

    /// A recording's deletion facts.
    fn recording(&mut self, org: OrgId, id: RecordingId) -> StoreResult<Option<FoundRecording>>;
    /// Whether the recording has a transcript (`None`: no such recording).
    fn has_transcript(&mut self, org: OrgId, id: RecordingId) -> StoreResult<Option<bool>>;
    fn attachment(&mut self, org: OrgId, id: &str) -> StoreResult<Option<FoundAttachment>>;
    fn remove_transcript(&mut self, org: OrgId, id: RecordingId) -> StoreResult<()>;
    fn remove_attachment(&mut self, org: OrgId, id: &str) -> StoreResult<()>;
    /// Marks a recording deleted and drops its transcript and attachments (its metadata
    /// stays); returns its media and attachment files, to remove after the commit.
    fn mark_deleted(&mut self, org: OrgId, id: RecordingId) -> StoreResult<Vec<String>>;
    fn store_delete_date(
        &mut self,
        org: OrgId,
        id: RecordingId,
        date: Option<Instant>,
    ) -> StoreResult<()>;
    /// Up to `limit` available recordings of any organization whose date is not after `now`
    /// and whose conversation is not protected, earliest date first.
    fn due(&mut self, now: Instant, limit: usize) -> StoreResult<Vec<(OrgId, RecordingId)>>;

    /// The organization's chain head: the last event's number and hash.
    fn audit_head(&mut self, org: OrgId) -> StoreResult<Option<(u64, ChainHash)>>;
    /// Stores sealed events, in order, after the head.
    fn insert_audit_events(&mut self, org: OrgId, events: &[StoredEvent]) -> StoreResult<()>;
    /// Moves the chain head to the last event stored.
    fn move_audit_head(&mut self, org: OrgId, seq: u64, hash: &ChainHash) -> StoreResult<()>;

    /// Replaces the organization's retention policy `id` (its JSON); whether it was there.
    fn update_policy(&mut self, org: OrgId, id: &str, policy: &str) -> StoreResult<bool>;
    /// Adds a retention policy (its JSON) under a new id.
    fn insert_policy(&mut self, org: OrgId, id: &str, policy: &str) -> StoreResult<()>;

    /// The organization's retention policies, by order.
    fn retention_policies(&mut self, org: OrgId) -> StoreResult<Vec<RetentionPolicy>>;
    /// Whether the organization has this conversation. A backend whose ids are one key across
    /// organizations (SQLite today) refuses an id another organization uses (`IdTaken`).
    fn conversation_known(&mut self, org: OrgId, id: ConversationId) -> StoreResult<bool>;
    /// Whether this recording id is used: in the organization, or (SQLite today) in any.
    fn recording_known(&mut self, org: OrgId, id: RecordingId) -> StoreResult<bool>;
    /// Adds a conversation and its participants, without its recordings.
    fn insert_conversation(
        &mut self,
        org: OrgId,
        conversation: &NewConversation,
    ) -> StoreResult<()>;
    /// Adds a recording (and its attachments) to a conversation of the organization, with its
    /// deletion date.
    fn insert_recording(
        &mut self,
        org: OrgId,
        conversation: ConversationId,
        recording: &NewRecording,
        delete_date: Option<Instant>,
    ) -> StoreResult<()>;

    /// Whether a recording of the organization can take media bytes.
    fn media_slot(&mut self, org: OrgId, id: RecordingId) -> StoreResult<MediaSlot>;
    /// Records the media file of a recording whose slot is free.
    fn store_media(&mut self, org: OrgId, id: RecordingId, media: &StoredMedia) -> StoreResult<()>;
    /// Adds an attachment, its file already written, to a recording of the organization.
    fn add_attachment(
        &mut self,
        org: OrgId,
        recording: RecordingId,
        attachment: &NewAttachment,
    ) -> StoreResult<()>;
}

/// A recording as Genesys's retention query lists it.
pub type RetainedRecording = (ConversationId, RecordingId, Option<Instant>, Instant);

/// What releasing a legal hold does to its members ([`Tx::hold_release`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HoldRelease {
    pub stay_protected: Vec<ConversationId>,
    pub deletable: Vec<ConversationId>,
    pub past_due_recordings: u32,
}

impl HoldRelease {
    /// The counts a preview shows.
    pub fn counts(&self) -> holdfast_core::holds::ReleaseCounts {
        let n = |v: &Vec<ConversationId>| u32::try_from(v.len()).unwrap_or(u32::MAX);
        holdfast_core::holds::ReleaseCounts {
            covered: n(&self.stay_protected) + n(&self.deletable),
            stay_protected: n(&self.stay_protected),
            deletable: n(&self.deletable),
            past_due_recordings: self.past_due_recordings,
        }
    }
}

/// Where a recording stands for an upload of its media.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum MediaSlot {
    /// No such recording in the organization.
    NotFound,
    /// Deleted: it takes nothing more.
    Deleted,
    /// It has its media already (a recording's media is written once).
    Taken,
    /// Available, without media.
    Free,
}

/// A media file written for a recording, as the database keeps it.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct StoredMedia {
    /// Relative to the media directory.
    pub path: String,
    pub size_bytes: u64,
    pub sha256: String,
    pub content_type: String,
}
