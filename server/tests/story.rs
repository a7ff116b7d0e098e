//! One story over every storage backend: the use cases (ingest, protect and release against the
//! cap, deletion refused while protected, deletion dates, the sweep, the audit chain) run on
//! SQLite and on a throwaway PostgreSQL 15, written once and checked with exact values; and a
//! race of concurrent protects that must never pass the cap.

use std::sync::Arc;

use chrono::{Duration, TimeZone, Utc};
use holdfast_core::api::Selection;
use holdfast_core::audit::{Actor, Client};
use holdfast_core::deletion::{DeleteDateChange, DeletionRefusal};
use holdfast_core::protection::{Count, PlanError, ProtectAction};
use holdfast_core::time::Instant;
use holdfast_core::{
    ConversationId, Direction, FileState, Media, OrgId, Permission, Permissions, RecordingId,
    RecordingRole, UserId,
};
use holdfast_server::auth::{self, LoginLimiter};
use holdfast_server::store::postgres::PgStore;
use holdfast_server::store::sqlite::SqliteStore;
use holdfast_server::store::{
    AuditContext, NewConversation, NewOrg, NewRecording, ProtectionChange, Standing, Store,
    StoreError, Transact,
};
use holdfast_server::usecase::{self, deletion, protection};

#[path = "support/throwaway_postgres.rs"]
mod throwaway_postgres;
use throwaway_postgres::ThrowawayPostgres;

fn id(n: u32) -> String {
    format!("00000000-0000-4000-8000-{n:012}")
}

fn conversation(n: u32) -> ConversationId {
    ConversationId::parse(&id(n)).expect("a valid id")
}

fn recording(n: u32) -> RecordingId {
    RecordingId::parse(&id(1000 + n)).expect("a valid id")
}

fn org(n: u32) -> OrgId {
    OrgId::parse(&id(900_000 + n)).expect("a valid id")
}

fn now() -> Instant {
    Utc.with_ymd_and_hms(2026, 11, 1, 12, 0, 0)
        .single()
        .expect("a valid instant")
}

/// Conversation `n`, with one recording of this role (or none).
fn new_conversation(n: u32, role: Option<RecordingRole>) -> NewConversation {
    NewConversation {
        id: conversation(n),
        start_time: now() - Duration::hours(2),
        end_time: now() - Duration::hours(1),
        direction: Direction::Inbound,
        queue: Some("Support".to_owned()),
        agents: vec![format!("Agent {n}")],
        remote_party: Some(format!("+1 555 0100 {n:03}")),
        wrap_up: None,
        recordings: role
            .into_iter()
            .map(|role| NewRecording {
                id: recording(n),
                media: Media::Call,
                role,
                created_at: now() - Duration::hours(1),
                duration_ms: Some(3_600_000),
                size_bytes: Some(1_000),
                deleted: false,
                delete_date: None,
                transcript: None,
                media_path: None,
                media_sha256: None,
                content_type: None,
                attachments: Vec::new(),
            })
            .collect(),
        protected_by: None,
    }
}

fn ctx(at: Instant) -> AuditContext {
    AuditContext {
        actor: Actor::User {
            id: UserId::parse(&id(800_000)).expect("a valid id"),
            name: "manager".to_owned(),
        },
        client: Client::default(),
        now: at,
    }
}

fn manager() -> Permissions {
    Permissions::of(&[
        Permission::RecordingView,
        Permission::ProtectionApply,
        Permission::ProtectionRevoke,
        Permission::EditRetention,
    ])
}

fn change(action: ProtectAction, selection: Selection) -> ProtectionChange {
    ProtectionChange {
        action,
        selection,
        reason: None,
        hold: None,
    }
}

fn ids(ns: &[u32]) -> Selection {
    Selection::Ids {
        ids: ns.iter().map(|n| conversation(*n)).collect(),
    }
}

fn filter(query: &str) -> Selection {
    Selection::Filter {
        query: query.to_owned(),
        except: Vec::new(),
    }
}

fn audit_seq(store: &dyn Transact, org: OrgId) -> u64 {
    usecase::transact(store, |tx| tx.audit_head(org))
        .expect("the head reads")
        .map_or(0, |(seq, _)| seq)
}

/// The story, written once. `create_org` adds an organization with a cap.
fn story(store: &dyn Transact, create_org: &dyn Fn(OrgId, u32)) {
    let (north, other) = (org(1), org(2));
    create_org(north, 3);
    create_org(other, 1000);
    // 1-5 protectable, 6 without a recording, 7 with only an ad hoc one.
    let mut batch: Vec<NewConversation> = (1..=5)
        .map(|n| new_conversation(n, Some(RecordingRole::Policy)))
        .collect();
    batch.push(new_conversation(6, None));
    batch.push(new_conversation(7, Some(RecordingRole::Adhoc)));
    assert_eq!(usecase::ingest::ingest(store, north, &batch).unwrap(), 6);
    // The same ids again: refused as a whole.
    assert!(matches!(
        usecase::ingest::ingest(store, north, &batch[..1]),
        Err(StoreError::IdTaken(taken)) if taken == id(1001)
    ));

    // Over the cap of 3: nothing changes, and the numbers say why.
    let at = ctx(now());
    let refused = protection::apply(
        store,
        north,
        manager(),
        &change(ProtectAction::Protect, ids(&[1, 2, 3, 4])),
        &at,
    )
    .unwrap();
    assert_eq!(
        refused,
        Err(PlanError::OverCap {
            new: Count::Exact(4),
            headroom: 3,
            cap: 3
        })
    );
    // Two protected; one without a recording and one unknown are reported, not dropped.
    let done = protection::apply(
        store,
        north,
        manager(),
        &change(ProtectAction::Protect, ids(&[1, 2, 6, 99])),
        &at,
    )
    .unwrap()
    .expect("fits the cap");
    assert_eq!(done.changed, vec![conversation(1), conversation(2)]);
    assert_eq!(done.not_found, vec![conversation(99)]);
    assert_eq!(
        done.standings,
        vec![
            (conversation(1), Standing::Protectable),
            (conversation(2), Standing::Protectable),
            (conversation(6), Standing::NotProtectable),
            (conversation(99), Standing::NotFound),
        ]
    );
    assert_eq!((done.plan.before, done.plan.after), (0, 2));
    // Idempotent: protecting them again changes nothing.
    assert!(matches!(
        protection::apply(
            store,
            north,
            manager(),
            &change(ProtectAction::Protect, ids(&[1, 2])),
            &at
        )
        .unwrap(),
        Err(PlanError::NothingToDo { .. })
    ));
    // All unprotected protectable ones by filter: 3 (3, 4, 5) against a headroom of 1.
    assert_eq!(
        protection::apply(
            store,
            north,
            manager(),
            &change(ProtectAction::Protect, filter("protected=no")),
            &at
        )
        .unwrap(),
        Err(PlanError::OverCap {
            new: Count::Exact(3),
            headroom: 1,
            cap: 3
        })
    );

    // Deleting a protected recording by hand is refused (and audited).
    assert_eq!(
        deletion::delete_recording(store, north, manager(), recording(1), &at).unwrap(),
        deletion::Outcome::Refused(DeletionRefusal::Protected)
    );
    assert_eq!(
        deletion::delete_recording(store, other, manager(), recording(1), &at).unwrap(),
        deletion::Outcome::NotFound,
        "another organization's recording is one that does not exist"
    );
    // Deletion dates a day ahead: stored for 3, suspended for 1 (protected).
    let tomorrow = now() + Duration::days(1);
    let set = |n: u32| match deletion::set_delete_date(
        store,
        north,
        manager(),
        recording(n),
        Some(tomorrow),
        &at,
    )
    .unwrap()
    {
        deletion::Outcome::Done(done) => done.change,
        other => panic!("setting a date a day ahead: {other:?}"),
    };
    assert_eq!(set(3), Some(DeleteDateChange::Store));
    assert_eq!(set(1), Some(DeleteDateChange::StoreSuspended));
    // Two days on, the sweep deletes 3's recording and not 1's.
    let later = now() + Duration::days(2);
    let swept = deletion::sweep(store, later, 500).unwrap();
    assert_eq!(swept.deleted, 1);
    assert_eq!(
        deletion::delete_recording(store, north, manager(), recording(3), &at).unwrap(),
        deletion::Outcome::Refused(DeletionRefusal::AlreadyDeleted)
    );

    // Release by filter: both protected ones, and the one past due is counted.
    let released = protection::apply(
        store,
        north,
        manager(),
        &change(ProtectAction::Release, filter("protected=yes")),
        &ctx(later),
    )
    .unwrap()
    .expect("planned");
    let mut changed = released.changed.clone();
    changed.sort();
    assert_eq!(changed, vec![conversation(1), conversation(2)]);
    assert_eq!(released.plan.past_due_recordings, 1);
    assert_eq!(deletion::sweep(store, later, 500).unwrap().deleted, 1);
    assert_eq!(deletion::sweep(store, later, 500).unwrap().deleted, 0);

    // Every change was audited in one chain: 2 protections, 1 refusal, 2 dates, 1 sweep,
    // 2 releases, 1 sweep.
    assert_eq!(audit_seq(store, north), 9);
    assert_eq!(audit_seq(store, other), 0);

    // Ids are per organization: another one ingests the same conversation and recording ids
    // as its own, protects and sweeps them, and nothing of the first organization's changes.
    let before = usecase::transact(store, |tx| tx.classify(north, &[conversation(1)])).unwrap();
    let again = usecase::ingest::ingest(
        store,
        other,
        &[new_conversation(1, Some(RecordingRole::Policy))],
    );
    assert_eq!(again.unwrap(), 1);
    let theirs = usecase::transact(store, |tx| tx.recording(other, recording(1)))
        .unwrap()
        .expect("their own recording");
    assert!(!theirs.state.protected);
    assert_eq!(theirs.state.state, FileState::Available);
    assert_eq!(
        usecase::transact(store, |tx| tx.classify(north, &[conversation(1)])).unwrap(),
        before
    );
    assert_eq!(audit_seq(store, north), 9);
    // The same id again in the same organization is taken.
    let twice = usecase::ingest::ingest(
        store,
        other,
        &[new_conversation(1, Some(RecordingRole::Policy))],
    );
    assert!(
        matches!(&twice, Err(StoreError::IdTaken(taken)) if *taken == id(1001)),
        "{twice:?}"
    );
}

/// Sixteen threads each protect one conversation at once against a cap of 5: exactly five
/// succeed, the others are refused over the cap, and the chain has exactly five events.
fn race(store: Arc<dyn Transact>, create_org: &dyn Fn(OrgId, u32)) {
    let org = org(3);
    create_org(org, 5);
    let batch: Vec<NewConversation> = (100..116)
        .map(|n| new_conversation(n, Some(RecordingRole::Policy)))
        .collect();
    usecase::ingest::ingest(store.as_ref(), org, &batch).unwrap();
    let threads: Vec<_> = (100..116)
        .map(|n| {
            let store = store.clone();
            std::thread::spawn(move || {
                protection::apply(
                    store.as_ref(),
                    org,
                    manager(),
                    &change(ProtectAction::Protect, ids(&[n])),
                    &ctx(now()),
                )
                .unwrap()
            })
        })
        .collect();
    let outcomes: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    let protected = outcomes.iter().filter(|o| o.is_ok()).count();
    let over = outcomes
        .iter()
        .filter(|o| {
            matches!(
                o,
                Err(PlanError::OverCap {
                    new: Count::Exact(1),
                    headroom: 0,
                    cap: 5
                })
            )
        })
        .count();
    assert_eq!((protected, over), (5, 11));
    let status = usecase::transact(store.as_ref(), |tx| tx.org_status(org)).unwrap();
    assert_eq!(status.protected, 5);
    assert_eq!(audit_seq(store.as_ref(), org), 5);
}

fn sqlite() -> (tempdir::Dir, Arc<SqliteStore>) {
    let dir = tempdir::Dir::new();
    let store = SqliteStore::open(&dir.0.join("holdfast.sqlite3")).unwrap();
    (dir, Arc::new(store))
}

mod tempdir {
    /// A directory removed when dropped.
    pub struct Dir(pub std::path::PathBuf);

    impl Dir {
        pub fn new() -> Dir {
            static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
            let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let dir =
                std::env::temp_dir().join(format!("holdfast-story-{}-{n}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).expect("a temporary directory");
            Dir(dir)
        }
    }

    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

fn new_org(id: OrgId, cap: u32) -> NewOrg {
    NewOrg {
        id,
        name: format!("Org {id}"),
        cap,
    }
}

#[test]
fn the_story_on_sqlite() {
    let (_dir, store) = sqlite();
    let create = |id, cap| store.create_org(&new_org(id, cap)).unwrap();
    story(store.as_ref(), &create);
    race(store.clone(), &create);
    the_limiter_refuses_a_pair_and_slows_an_account(&[store.as_ref()]);
    let shared: Arc<dyn Store> = store.clone();
    racing_guesses_are_counted_once(&[shared]);
}

#[test]
fn the_story_on_postgres() {
    let pg = ThrowawayPostgres::start();
    // Three instances start together: the migrations run once.
    let url = pg.url();
    let starts: Vec<_> = (0..3)
        .map(|_| {
            let url = url.clone();
            std::thread::spawn(move || PgStore::connect(&url).map(drop))
        })
        .collect();
    for start in starts {
        start.join().unwrap().unwrap();
    }
    let store = Arc::new(PgStore::connect(&url).unwrap());
    let create = |id, cap| store.create_org(&new_org(id, cap)).unwrap();
    story(store.as_ref(), &create);
    race(store.clone(), &create);
    // Sign-in attempts are counted in the database: two instances count as one.
    let second = Arc::new(PgStore::connect(&url).unwrap());
    the_limiter_refuses_a_pair_and_slows_an_account(&[store.as_ref(), second.as_ref()]);
    let third: Arc<dyn Store> = Arc::new(PgStore::connect(&url).unwrap());
    racing_guesses_are_counted_once(&[store.clone(), second.clone(), third]);
}
/// The limiter's rule, with the attempts spread over `stores` in turn (several instances
/// sharing one database count as one): ten guesses at an account from an address, a hundred
/// from an address, a window of fifteen minutes.
fn the_limiter_refuses_a_pair_and_slows_an_account(stores: &[&dyn Store]) {
    let store = |i: usize| stores[i % stores.len()];
    // Whole milliseconds, as a database keeps them.
    let now =
        chrono::DateTime::from_timestamp_millis(chrono::Utc::now().timestamp_millis()).unwrap();
    // Ten guesses from one address: the eleventh is refused until the window ends.
    for i in 0..10 {
        let a = LoginLimiter::admit(store(i), "ana", "10.0.0.1", now)
            .unwrap()
            .unwrap();
        assert_eq!(a.delay, std::time::Duration::ZERO);
        LoginLimiter::failed(store(i + 1), a, now).unwrap();
    }
    let later = now + chrono::Duration::seconds(60);
    for i in 0..stores.len() {
        assert_eq!(
            LoginLimiter::admit(store(i), "ana", "10.0.0.1", later).unwrap(),
            Err(std::time::Duration::from_secs(14 * 60))
        );
    }
    // Another address still gets in, slowed: the account has failed ten times.
    let other = LoginLimiter::admit(store(1), "ana", "10.0.0.2", later)
        .unwrap()
        .unwrap();
    assert_eq!(other.delay, auth::ACCOUNT_DELAY);
    LoginLimiter::succeeded(store(0), other).unwrap();
    // An attempt the server was too busy to check is not counted: nine more, then refused.
    let busy = LoginLimiter::admit(store(0), "cy", "10.0.0.3", later)
        .unwrap()
        .unwrap();
    LoginLimiter::withdrawn(store(1), busy).unwrap();
    for i in 0..10 {
        assert!(
            LoginLimiter::admit(store(i), "cy", "10.0.0.3", later)
                .unwrap()
                .is_ok()
        );
    }
    assert!(
        LoginLimiter::admit(store(0), "cy", "10.0.0.3", later)
            .unwrap()
            .is_err()
    );
    // Another account from the first address is not refused.
    let bob = LoginLimiter::admit(store(0), "bob", "10.0.0.1", later)
        .unwrap()
        .unwrap();
    assert_eq!(bob.delay, std::time::Duration::ZERO);
    // After the window the pair starts afresh.
    let after = now + chrono::Duration::minutes(15);
    assert!(
        LoginLimiter::admit(store(1), "ana", "10.0.0.1", after)
            .unwrap()
            .is_ok()
    );
}

/// Thirty guesses at once at one account from one address, spread over `stores`: exactly ten
/// are let through, however the instances interleave.
fn racing_guesses_are_counted_once(stores: &[Arc<dyn Store>]) {
    let now = chrono::Utc::now();
    let start = Arc::new(std::sync::Barrier::new(30));
    let threads: Vec<_> = (0..30)
        .map(|i| {
            let store = stores[i % stores.len()].clone();
            let start = start.clone();
            std::thread::spawn(move || {
                // Each with a connection of its own open, then all at once.
                LoginLimiter::admit(store.as_ref(), &format!("warm{i}"), "10.0.0.5", now)
                    .unwrap()
                    .unwrap();
                start.wait();
                LoginLimiter::admit(store.as_ref(), "dee", "10.0.0.4", now)
                    .unwrap()
                    .is_ok()
            })
        })
        .collect();
    let admitted = threads
        .into_iter()
        .map(|t| t.join().unwrap())
        .filter(|ok| *ok)
        .count();
    assert_eq!(admitted, 10);
}
