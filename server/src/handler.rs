//! What every handler stands on: the server's state, a request as handlers see it, a JSON
//! response, and the steps the native and the Genesys handlers share (who is calling, may they,
//! run a store call off the async threads). Below the handlers and above the store, so that
//! neither handler module imports the other or the transport.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use chrono::Utc;
use holdfast_core::Permission;
use holdfast_core::audit::{Actor, Client};
use hyper::header::{self, HeaderValue};
use hyper::{Method, Response, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::assets::Assets;
use crate::auth::{self, LoginLimiter, SESSION_COOKIE};
use crate::error::ApiError;
use crate::media;
use crate::store::{AuditContext, Caller, Deletion, Store, StoreError};

/// The largest request body accepted.
pub const MAX_BODY: usize = 256 * 1024;
/// Everything a handler needs.
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub assets: Assets,
    /// Bounds the password hashes checked at once.
    pub password_checks: Arc<crate::auth::PasswordChecks>,
    /// How long a request body may take to arrive.
    pub body_time: BodyTime,
    /// Mark cookies `Secure` (behind a TLS-terminating proxy).
    pub secure_cookies: bool,
    /// Where media and attachment bytes are kept.
    pub media: Arc<dyn media::MediaStore>,
    pub metrics: crate::metrics::Metrics,
    /// The hash of the bearer token `/metrics` requires; `None` serves it to nobody.
    pub metrics_token: Option<String>,
    /// Signs verified audit chain heads into the checkpoint file (none: nothing is signed).
    pub checkpointer: Option<Arc<crate::checkpoints::Checkpointer>>,
    /// The last storage fault a request met, for `/healthz`.
    pub storage: StorageHealth,
    /// The last verified link of each organization's audit chain.
    pub chains: Arc<crate::chain::ChainCache>,
}

/// The last storage fault a request met (a full disk, a read-only file), reported on
/// `/healthz` for a minute after it was last met.
#[derive(Default)]
pub struct StorageHealth {
    last: std::sync::Mutex<Option<(crate::store::StorageFault, std::time::Instant)>>,
}

impl StorageHealth {
    /// How long a fault is reported after a request last met it.
    pub const REPORTED_FOR: Duration = Duration::from_secs(60);

    pub fn record(&self, fault: crate::store::StorageFault) {
        *self.last.lock().unwrap_or_else(|p| p.into_inner()) =
            Some((fault, std::time::Instant::now()));
    }

    pub fn current(&self) -> Option<crate::store::StorageFault> {
        let last = *self.last.lock().unwrap_or_else(|p| p.into_inner());
        last.filter(|(_, at)| at.elapsed() < Self::REPORTED_FOR)
            .map(|(fault, _)| fault)
    }
}

/// How long a request body may take: a base time and a slowest rate. A slow client cannot hold
/// a connection (and its buffer) open for longer than its body needs at that rate.
#[derive(Clone, Copy, Debug)]
pub struct BodyTime {
    pub base: Duration,
    /// Bytes per second.
    pub slowest_rate: u64,
}

impl Default for BodyTime {
    /// Ten seconds, and 256 KiB/s beyond them: a 256 KiB JSON body gets 11 s, a 96 MiB
    /// ingest 394 s.
    fn default() -> Self {
        BodyTime {
            base: Duration::from_secs(10),
            slowest_rate: 256 * 1024,
        }
    }
}

impl BodyTime {
    /// The deadline for a body of `length` bytes.
    pub fn deadline(&self, length: usize) -> Duration {
        self.base + Duration::from_secs(length as u64 / self.slowest_rate.max(1))
    }
}

pub type Resp = Response<crate::body::RespBody>;

/// What a handler sees of a request: parts, body bytes, and the client's address.
pub struct Req {
    pub method: Method,
    pub uri: hyper::Uri,
    pub headers: hyper::HeaderMap,
    pub body: Bytes,
    pub peer: Option<SocketAddr>,
}

impl Req {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The raw (still percent-encoded) value of the first `name=` in the query.
    pub fn query_param(&self, name: &str) -> Option<&str> {
        self.uri
            .query()?
            .split('&')
            .find_map(|pair| pair.strip_prefix(name)?.strip_prefix('='))
    }

    /// A 415 unless the body is declared JSON.
    pub fn require_json(&self) -> Result<(), ApiError> {
        let ct = self.header("content-type").unwrap_or("");
        match ct
            .trim_start()
            .to_ascii_lowercase()
            .starts_with("application/json")
        {
            true => Ok(()),
            false => Err(ApiError::UnsupportedMediaType),
        }
    }

    /// The body as JSON of type `T`, or a 4xx saying what is wrong.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, ApiError> {
        self.require_json()?;
        serde_json::from_slice(&self.body)
            .map_err(|e| ApiError::BadRequest(format!("invalid JSON body: {e}")))
    }
}

/// A JSON response.
pub fn json<T: Serialize>(status: StatusCode, value: &T) -> Resp {
    let body = serde_json::to_vec(value).unwrap_or_else(|_| b"{}".to_vec());
    let mut resp = Response::new(crate::body::RespBody::full(body));
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

/// Runs a store call on the blocking pool.
pub(crate) async fn blocking<T, F>(state: &AppState, f: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce(&dyn Store) -> Result<T, StoreError> + Send + 'static,
{
    let store: Arc<dyn Store> = state.store.clone();
    tokio::task::spawn_blocking(move || f(store.as_ref()))
        .await
        .map_err(|e| ApiError::Internal(format!("store task failed: {e}")))?
        .map_err(ApiError::from)
}

pub(crate) fn client_of(req: &Req, api_client: Option<String>) -> Client {
    Client {
        ip: req.peer.map(|p| p.ip().to_string()),
        user_agent: req
            .header("user-agent")
            .map(|ua| ua.chars().take(256).collect()),
        api_client,
    }
}

/// The caller: an API client with a bearer token, or a signed-in user; otherwise 401.
pub async fn caller(state: &AppState, req: &Req) -> Result<Caller, ApiError> {
    if let Some(auth) = req.header("authorization") {
        let token = auth
            .strip_prefix("Bearer ")
            .or_else(|| auth.strip_prefix("bearer "))
            .ok_or(ApiError::Unauthorized)?
            .trim();
        let hash = auth::token_hash(token);
        return blocking(state, move |s| s.token_caller(&hash, Utc::now()))
            .await?
            .ok_or(ApiError::Unauthorized);
    }
    let token = req
        .header("cookie")
        .and_then(|c| auth::cookie(c, SESSION_COOKIE))
        .ok_or(ApiError::Unauthorized)?;
    let hash = auth::token_hash(token);
    blocking(state, move |s| s.session_caller(&hash, Utc::now()))
        .await?
        .ok_or(ApiError::Unauthorized)
}

/// Counts a sign-in attempt at `account` from `address` before its secret is checked, and waits
/// as long as the limiter says (an account many have failed at is slowed, never locked).
pub async fn admit(
    state: &AppState,
    account: &str,
    address: &str,
) -> Result<auth::Admitted, ApiError> {
    let (account, address) = (account.to_owned(), address.to_owned());
    let attempt = blocking(state, move |s| {
        LoginLimiter::admit(s, &account, &address, Utc::now())
    })
    .await?
    .map_err(|retry_after| ApiError::TooManyRequests { retry_after })?;
    if !attempt.delay.is_zero() {
        tokio::time::sleep(attempt.delay).await;
    }
    Ok(attempt)
}

pub(crate) fn require(caller: &Caller, perm: Permission) -> Result<(), ApiError> {
    match caller.permissions.contains(perm) {
        true => Ok(()),
        false => Err(ApiError::Forbidden(perm)),
    }
}

pub(crate) fn audit_context(caller: &Caller, req: &Req) -> AuditContext {
    AuditContext {
        actor: Actor::User {
            id: caller.user_id,
            name: caller.username.clone(),
        },
        client: client_of(req, caller.api_client.clone()),
        now: Utc::now(),
    }
}

/// The deletion or date change, once committed, with its objects removed.
pub(crate) async fn deletion_outcome(
    state: &AppState,
    outcome: crate::usecase::deletion::Outcome,
) -> Result<Deletion, ApiError> {
    use crate::usecase::deletion::Outcome;
    let deletion = match outcome {
        Outcome::Done(deletion) => deletion,
        Outcome::Refused(refusal) => return Err(ApiError::Deletion(refusal)),
        Outcome::NotFound => return Err(ApiError::NotFound),
    };
    if !deletion.files.is_empty() {
        let (media, files) = (state.media.clone(), deletion.files.clone());
        let _ =
            tokio::task::spawn_blocking(move || media::remove_files(media.as_ref(), &files)).await;
    }
    Ok(deletion)
}

/// After a commit that may have marked conversations of the organization (an object joined a
/// protected conversation): settles the organization's marked conversations.
pub(crate) async fn settle_marked(
    state: &AppState,
    org: holdfast_core::OrgId,
) -> Result<(), ApiError> {
    if !state.media.keeps_holds() {
        return Ok(());
    }
    let marked = blocking(state, move |s| {
        let after = (org.to_string(), String::new());
        Ok(s.pending_holds(Some(&after), 1000)?
            .into_iter()
            .take_while(|(o, _)| *o == org)
            .map(|(_, id)| id)
            .collect::<Vec<_>>())
    })
    .await?;
    settle_holds(state, org, marked).await
}

/// After a commit that marked conversations (`Tx::mark_holds`): makes their objects' legal
/// holds agree before the request is acknowledged. Storage without holds has nothing to do
/// (the sweep clears the marks).
pub(crate) async fn settle_holds(
    state: &AppState,
    org: holdfast_core::OrgId,
    conversations: Vec<holdfast_core::ConversationId>,
) -> Result<(), ApiError> {
    if !state.media.keeps_holds() || conversations.is_empty() {
        return Ok(());
    }
    let (store, media) = (state.store.clone(), state.media.clone());
    let settled = tokio::task::spawn_blocking(move || {
        media::holds::settle(store.as_ref(), media.as_ref(), org, &conversations)
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))?;
    settled.map(|_| ()).map_err(|e| {
        state.metrics.add_hold_failure();
        tracing::error!(error = %e, "legal holds not settled");
        ApiError::MediaStorage(
            "the change is saved, but media storage has not taken its legal holds yet; they are \
             retried in the background, and repeating the request is safe"
                .to_owned(),
        )
    })
}

/// CSRF defence for state-changing requests from the app: the custom header (which a cross-site
/// form cannot send), and where the browser says where it comes from, this origin only.
pub fn check_same_origin(req: &Req) -> Result<(), ApiError> {
    if req.header(holdfast_core::api::CSRF_HEADER).is_none() {
        return Err(ApiError::CrossSite);
    }
    if let Some(site) = req.header("sec-fetch-site")
        && site != "same-origin"
        && site != "none"
    {
        return Err(ApiError::CrossSite);
    }
    if let (Some(origin), Some(host)) = (req.header("origin"), req.header("host")) {
        let origin_host = origin
            .split_once("://")
            .map(|(_, rest)| rest)
            .unwrap_or(origin);
        if origin_host != host {
            return Err(ApiError::CrossSite);
        }
    }
    Ok(())
}
