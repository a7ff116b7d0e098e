//! Passwords (argon2id with OWASP's parameters), session tokens and the login rate limit.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use sha2::{Digest, Sha256};

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
    match PasswordHash::new(stored) {
        Ok(parsed) => hasher()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
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

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The value of cookie `name` in a `Cookie` header.
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

/// Failed logins allowed per key within the window before further attempts are refused.
const MAX_FAILURES: u32 = 10;
const WINDOW: Duration = Duration::from_secs(15 * 60);

/// Counts failed logins per account and per client address in a sliding window.
#[derive(Default)]
pub struct LoginLimiter {
    failures: Mutex<HashMap<String, (Instant, u32)>>,
}

impl LoginLimiter {
    /// Whether any of `keys` has used up its failures.
    pub fn blocked(&self, keys: &[String], now: Instant) -> bool {
        let map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        keys.iter().any(|k| {
            map.get(k)
                .is_some_and(|(start, n)| now.duration_since(*start) < WINDOW && *n >= MAX_FAILURES)
        })
    }

    pub fn record_failure(&self, keys: &[String], now: Instant) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        map.retain(|_, (start, _)| now.duration_since(*start) < WINDOW);
        for key in keys {
            let entry = map.entry(key.clone()).or_insert((now, 0));
            entry.1 += 1;
        }
    }

    pub fn clear(&self, keys: &[String]) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        for key in keys {
            map.remove(key);
        }
    }
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

    #[test]
    fn limiter_blocks_after_failures_and_clears() {
        let limiter = LoginLimiter::default();
        let now = Instant::now();
        let keys = vec!["user:a".to_owned(), "ip:1".to_owned()];
        for _ in 0..MAX_FAILURES {
            assert!(!limiter.blocked(&keys, now));
            limiter.record_failure(&keys, now);
        }
        assert!(limiter.blocked(&keys, now));
        assert!(limiter.blocked(&["ip:1".to_owned()], now));
        assert!(!limiter.blocked(&keys, now + WINDOW));
        limiter.clear(&keys);
        assert!(!limiter.blocked(&keys, now));
    }
}
