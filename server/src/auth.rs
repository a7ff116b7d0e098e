//! Passwords (argon2id with OWASP's parameters), session tokens and the login rate limit.

use std::sync::Mutex;
use std::time::Duration;

use holdfast_core::time::Instant;

use argon2::password_hash::{PasswordHash, PasswordHasher, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use sha2::{Digest, Sha256};

use crate::store::{LoginWindow, Store, StoreResult};

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "holdfast_session";

/// How long a session lasts without signing in again.
pub const SESSION_HOURS: i64 = 12;

fn hasher() -> Argon2<'static> {
    // OWASP's recommendation for argon2id: 19 MiB of memory, 2 iterations, 1 lane.
    let params = Params::new(19 * 1024, 2, 1, None).expect("constant argon2 parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Random bytes from the operating system.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    // The OS generator failing leaves no safe way on; it does not happen on supported systems.
    getrandom::fill(&mut bytes).expect("the operating system's random generator works");
    bytes
}

/// The PHC string of an argon2id hash of `password` with a fresh salt.
pub fn hash_password(password: &str) -> String {
    let salt = SaltString::encode_b64(&random_bytes::<16>()).expect("16 bytes make a valid salt");
    hasher()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .expect("hashing with valid parameters succeeds")
}

/// Whether `password` matches the stored hash. A malformed stored hash matches nothing.
pub fn verify_password(password: &str, stored: &str) -> bool {
    verify_password_in(password, stored, &mut Vec::new())
}

/// The most argon2 memory a stored hash may ask for (64 MiB): a hash written by something else
/// cannot make a check take the machine's memory.
const MAX_BLOCKS: usize = 64 * 1024;

/// [`verify_password`], computed in `memory`, which is grown to the hash's size and kept by the
/// caller for the next check: the process then holds as many argon2 buffers as checks run at
/// once, instead of one in every thread that ever ran one (the allocator keeps freed buffers per
/// thread: 64 logins left 192 MiB behind with two checks at a time).
pub fn verify_password_in(password: &str, stored: &str, memory: &mut Vec<argon2::Block>) -> bool {
    let Ok(parsed) = PasswordHash::new(stored) else {
        return false;
    };
    let (Ok(params), Ok(algorithm)) = (
        Params::try_from(&parsed),
        argon2::Algorithm::try_from(parsed.algorithm),
    ) else {
        return false;
    };
    let version = match parsed.version.map(Version::try_from) {
        None => Version::default(),
        Some(Ok(v)) => v,
        Some(Err(_)) => return false,
    };
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return false;
    };
    let mut salt_bytes = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_bytes) else {
        return false;
    };
    if params.block_count() > MAX_BLOCKS {
        return false;
    }
    memory.resize(params.block_count(), argon2::Block::new());
    let mut out = vec![0u8; expected.len()];
    let hashed = Argon2::new(algorithm, version, params).hash_password_into_with_memory(
        password.as_bytes(),
        salt,
        &mut out,
        &mut memory[..],
    );
    // `Output`'s equality is constant-time.
    hashed.is_ok() && argon2::password_hash::Output::new(&out).is_ok_and(|o| o == expected)
}

/// A hash to verify against when the user does not exist, so that the answer takes as long as
/// for a wrong password and does not tell which usernames exist.
pub fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash_password("holdfast-dummy-password"))
}

/// A new session token (256 random bits, hex).
pub fn new_token() -> String {
    hex(&random_bytes::<32>())
}

/// What the store keeps of a token.
pub fn token_hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

/// Bytes from lower- or upper-case hex; `None` if it is not hex.
pub fn hex_decode(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) || !text.is_ascii() {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).ok())
        .collect()
}

/// Standard base64 with padding (RFC 4648 section 4).
pub fn base64_encode(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, b)| acc | u32::from(*b) << (16 - 8 * i));
        for i in 0..4 {
            match i <= chunk.len() {
                true => out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char),
                false => out.push('='),
            }
        }
    }
    out
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The value of cookie `name` in a `Cookie` header.
/// Whether two hex digests are equal, in time that does not depend on where they differ.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

pub fn cookie<'a>(header: &'a str, name: &str) -> Option<&'a str> {
    header
        .split(';')
        .filter_map(|part| part.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// The client id and secret of an `Authorization: Basic` header.
pub fn basic_credentials(header: &str) -> Option<(String, String)> {
    let encoded = header
        .strip_prefix("Basic ")
        .or_else(|| header.strip_prefix("basic "))?
        .trim();
    let decoded = String::from_utf8(base64_decode(encoded)?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    Some((id.to_owned(), secret.to_owned()))
}

/// Standard base64 with padding; twenty lines instead of a dependency.
pub fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let value = |c: u8| -> Option<u32> {
        match c {
            b'A'..=b'Z' => Some(u32::from(c - b'A')),
            b'a'..=b'z' => Some(u32::from(c - b'a') + 26),
            b'0'..=b'9' => Some(u32::from(c - b'0') + 52),
            b'+' => Some(62),
            b'/' => Some(63),
            _ => None,
        }
    };
    let bytes = text.trim_end_matches('=').as_bytes();
    let mut out = Vec::with_capacity(bytes.len() * 3 / 4);
    for chunk in bytes.chunks(4) {
        let mut acc = 0u32;
        for (i, c) in chunk.iter().enumerate() {
            acc |= value(*c)? << (18 - 6 * i);
        }
        let n = match chunk.len() {
            4 => 3,
            3 => 2,
            2 => 1,
            _ => return None,
        };
        out.extend_from_slice(&acc.to_be_bytes()[1..1 + n]);
    }
    Some(out)
}

/// Attempts one account may make from one address within the window before they are refused.
const PAIR_ATTEMPTS: u32 = 10;
/// Attempts one address may make over all accounts (a password spray) within the window.
const ADDRESS_ATTEMPTS: u32 = 100;
/// Failures of one account from all addresses after which each further attempt is slowed.
const ACCOUNT_FAILURES: u32 = 10;
/// How much an attempt on such an account waits before its password is checked.
pub const ACCOUNT_DELAY: Duration = Duration::from_secs(1);
const WINDOW: Duration = Duration::from_secs(15 * 60);

/// Counts sign-in attempts (a user's password, a client's secret) per account and address, per
/// address, and per account, in windows the store keeps: in memory for SQLite's one instance,
/// in the database for PostgreSQL, so that every instance counts the same attempts (three
/// instances behind a balancer do not allow three times the guesses).
///
/// An attempt is counted before its password is checked, in one step of the store, so that
/// forty concurrent guesses cannot all be checked before the first failure is counted. One
/// address is refused after ten guesses at one account; an account is never locked for everyone
/// (anyone could lock the managers out during an incident): after ten failures from anywhere its
/// attempts are only slowed. Every call blocks on the store: run it where blocking is allowed.
pub struct LoginLimiter;

/// An attempt the limiter let through: say how it ended with [`LoginLimiter::succeeded`] or
/// [`LoginLimiter::failed`].
#[derive(Debug, PartialEq, Eq)]
pub struct Admitted {
    pair: String,
    address: String,
    account: String,
    /// How long to wait before checking the password.
    pub delay: Duration,
}

/// The window as it counts at `now`: none once it is over.
fn current(window: Option<LoginWindow>, now: Instant) -> Option<LoginWindow> {
    window.filter(|w| elapsed(w.started, now) < WINDOW)
}

fn elapsed(since: Instant, now: Instant) -> Duration {
    (now - since).to_std().unwrap_or(Duration::ZERO)
}

/// One more attempt in a window, which starts afresh when it is over.
fn counted(window: Option<LoginWindow>, now: Instant) -> LoginWindow {
    match current(window, now) {
        Some(w) => LoginWindow {
            attempts: w.attempts.saturating_add(1),
            ..w
        },
        None => LoginWindow {
            started: now,
            attempts: 1,
        },
    }
}

impl LoginLimiter {
    /// Counts an attempt at `account` from `address`. Refused with how long until the next
    /// attempt is allowed when the pair or the address has used up its attempts.
    pub fn admit(
        store: &dyn Store,
        account: &str,
        address: &str,
        now: Instant,
    ) -> StoreResult<Result<Admitted, Duration>> {
        let attempt = Admitted {
            pair: format!("pair:{account}\n{address}"),
            address: format!("address:{address}"),
            account: format!("account:{account}"),
            delay: Duration::ZERO,
        };
        let keys = [
            attempt.pair.clone(),
            attempt.address.clone(),
            attempt.account.clone(),
        ];
        let mut outcome = Ok(Duration::ZERO);
        store.login_windows(&keys, &mut |w| {
            outcome = Ok(Duration::ZERO);
            for (i, most) in [(0, PAIR_ATTEMPTS), (1, ADDRESS_ATTEMPTS)] {
                if let Some(full) = current(w[i], now).filter(|c| c.attempts >= most) {
                    outcome = Err(WINDOW.saturating_sub(elapsed(full.started, now)));
                    return;
                }
            }
            w[0] = Some(counted(w[0], now));
            w[1] = Some(counted(w[1], now));
            if current(w[2], now).is_some_and(|c| c.attempts >= ACCOUNT_FAILURES) {
                outcome = Ok(ACCOUNT_DELAY);
            }
        })?;
        Ok(outcome.map(|delay| Admitted { delay, ..attempt }))
    }

    /// The password was right: the pair starts afresh (the address's count stays).
    pub fn succeeded(store: &dyn Store, attempt: Admitted) -> StoreResult<()> {
        store.login_windows(&[attempt.pair], &mut |w| w[0] = None)
    }

    /// The password was not checked (the server was busy): the attempt is not counted.
    pub fn withdrawn(store: &dyn Store, attempt: Admitted) -> StoreResult<()> {
        store.login_windows(&[attempt.pair, attempt.address], &mut |w| {
            for window in w.iter_mut() {
                *window = window.map(|c| LoginWindow {
                    attempts: c.attempts.saturating_sub(1),
                    ..c
                });
            }
        })
    }

    /// The password was wrong: counted against the account from every address.
    pub fn failed(store: &dyn Store, attempt: Admitted, now: Instant) -> StoreResult<()> {
        store.login_windows(&[attempt.account], &mut |w| w[0] = Some(counted(w[0], now)))
    }
}

/// Why a sign-in was answered 503.
pub const BUSY_SIGNING_IN: &str = "too many sign-ins at once; try again in a moment";

/// Bounds how many password hashes are checked at once (each argon2id check holds 19 MiB) and
/// how many wait: beyond the queue an attempt is answered 503 at once instead of holding memory.
pub struct PasswordChecks {
    permits: tokio::sync::Semaphore,
    waiting: std::sync::atomic::AtomicUsize,
    queue: usize,
    /// argon2 memory kept between checks, one buffer per check that may run at once.
    buffers: Mutex<Vec<Vec<argon2::Block>>>,
}

impl Default for PasswordChecks {
    /// As many at once as the machine has cores, and sixteen times that waiting: a wait holds
    /// no argon2 memory, and at about 15 ms a check the last in the queue waits some 120 ms.
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        PasswordChecks::new(cores, 16 * cores)
    }
}

impl PasswordChecks {
    pub fn new(at_once: usize, queue: usize) -> PasswordChecks {
        PasswordChecks {
            permits: tokio::sync::Semaphore::new(at_once),
            waiting: std::sync::atomic::AtomicUsize::new(0),
            queue,
            buffers: Mutex::new(Vec::new()),
        }
    }

    /// Takes one permit as a check in progress does, until the guard drops (tests fill the
    /// server with it).
    pub async fn occupy(&self) -> Option<tokio::sync::SemaphorePermit<'_>> {
        self.permits.acquire().await.ok()
    }

    /// Checks `password` against `stored` when a permit is free; `None` when the queue is full.
    pub async fn verify(&self, password: String, stored: String) -> Option<bool> {
        use std::sync::atomic::Ordering;
        if self.waiting.fetch_add(1, Ordering::SeqCst) >= self.queue {
            self.waiting.fetch_sub(1, Ordering::SeqCst);
            return None;
        }
        let permit = self.permits.acquire().await;
        self.waiting.fetch_sub(1, Ordering::SeqCst);
        let _permit = permit.ok()?;
        let mut memory = self
            .buffers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .pop()
            .unwrap_or_default();
        let (ok, memory) = tokio::task::spawn_blocking(move || {
            let ok = verify_password_in(&password, &stored, &mut memory);
            (ok, memory)
        })
        .await
        .unwrap_or((false, Vec::new()));
        self.buffers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(memory);
        Some(ok)
    }
}

/// The permissions of the demo roles, also used by `holdfast user add --role`.
pub fn role_permissions(role: &str) -> Option<holdfast_core::Permissions> {
    use holdfast_core::Permission::{self, *};
    let perms: &[Permission] = match role {
        "manager" => &[
            RecordingView,
            ProtectionApply,
            ProtectionRevoke,
            EditRetention,
            AuditView,
        ],
        "supervisor" => &[RecordingView, ProtectionApply],
        "analyst" => &[RecordingView],
        "auditor" => &[RecordingView, AuditView],
        "admin" => Permission::ALL,
        _ => return None,
    };
    Some(holdfast_core::Permissions::of(perms))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_and_hashes_are_salted() {
        let a = hash_password("correct horse");
        let b = hash_password("correct horse");
        assert_ne!(a, b);
        assert!(a.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{a}");
        assert!(verify_password("correct horse", &a));
        assert!(!verify_password("correct horse!", &a));
        assert!(!verify_password("x", "not a hash"));
        // One buffer serves every check, whatever came before.
        let mut memory = Vec::new();
        for (password, hash, ok) in [
            ("correct horse", &a, true),
            ("wrong", &b, false),
            ("correct horse", &b, true),
        ] {
            assert_eq!(verify_password_in(password, hash, &mut memory), ok);
            assert_eq!(memory.len(), 19 * 1024);
        }
        // A stored hash asking for more memory than a check may take matches nothing.
        let greedy = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(65 * 1024, 1, 1, None).unwrap(),
        )
        .hash_password(b"pw", &SaltString::encode_b64(&[7; 16]).unwrap())
        .unwrap()
        .to_string();
        assert!(!verify_password("pw", &greedy));
    }

    #[test]
    fn cookies_and_tokens() {
        assert_eq!(
            cookie("a=1; holdfast_session=abc; b=2", SESSION_COOKIE),
            Some("abc")
        );
        assert_eq!(cookie("a=1", SESSION_COOKIE), None);
        let t = new_token();
        assert_eq!(t.len(), 64);
        assert_ne!(token_hash(&t), t);
    }

    #[test]
    fn base64_and_hex_round_trip() {
        for (bytes, text) in [
            (&b""[..], ""),
            (b"f", "Zg=="),
            (b"fo", "Zm8="),
            (b"foo", "Zm9v"),
            (b"foob", "Zm9vYg=="),
            (b"\xff\xfe\x00", "//4A"),
        ] {
            assert_eq!(base64_encode(bytes), text);
            assert_eq!(base64_decode(text).as_deref(), Some(bytes));
        }
        assert_eq!(hex_decode("00ff7A"), Some(vec![0, 255, 122]));
        assert_eq!(hex_decode("0"), None);
        assert_eq!(hex_decode("zz"), None);
        assert_eq!(hex(&[0, 255, 122]), "00ff7a");
    }

    #[test]
    fn basic_authentication() {
        // "client:s3cret" and "a:b:c" (the secret may hold a colon).
        assert_eq!(
            basic_credentials("Basic Y2xpZW50OnMzY3JldA=="),
            Some(("client".to_owned(), "s3cret".to_owned()))
        );
        assert_eq!(
            basic_credentials("Basic YTpiOmM="),
            Some(("a".to_owned(), "b:c".to_owned()))
        );
        assert_eq!(basic_credentials("Basic !!!"), None);
        assert_eq!(basic_credentials("Bearer x"), None);
    }

    /// A store of its own in a new directory, removed when dropped.
    struct TempStore(std::path::PathBuf, crate::store::sqlite::SqliteStore);

    impl Drop for TempStore {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn temp_store() -> TempStore {
        let dir = std::env::temp_dir().join(format!("holdfast-auth-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let store = crate::store::sqlite::SqliteStore::open(&dir.join("db.sqlite3")).unwrap();
        TempStore(dir, store)
    }

    #[test]
    fn one_address_is_refused_after_a_spray_over_many_accounts() {
        let temp = temp_store();
        let store = &temp.1;
        let now = chrono::Utc::now();
        for i in 0..ADDRESS_ATTEMPTS {
            let a = LoginLimiter::admit(store, &format!("user{i}"), "10.0.0.9", now)
                .unwrap()
                .unwrap();
            LoginLimiter::failed(store, a, now).unwrap();
        }
        assert_eq!(
            LoginLimiter::admit(store, "someone", "10.0.0.9", now).unwrap(),
            Err(WINDOW)
        );
        assert!(
            LoginLimiter::admit(store, "someone", "10.0.0.8", now)
                .unwrap()
                .is_ok()
        );
    }
}
