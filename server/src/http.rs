//! Request handling without sockets: [`handle`] turns a request into a response, so tests call it
//! directly; [`serve`] runs it on a listener with timeouts, body limits and graceful shutdown.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::{Buf, BufMut, Bytes};
use http_body_util::BodyExt;
use hyper::body::Body;
use hyper::header::{self, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;

use crate::api::{self, MediaKind};
use crate::error::ApiError;
use crate::genesys;
pub use crate::handler::{AppState, BodyTime, MAX_BODY, Req, Resp, StorageHealth, json};
use crate::routes::{Route, route};
use crate::store::Part;

/// How long a client may take to send its request headers.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(10);

/// The Content-Security-Policy of every response: only this origin, wasm allowed to compile, no
/// inline script or style.
pub const CSP: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; \
img-src 'self' data:; media-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; \
frame-ancestors 'none'; form-action 'self'";

/// Answers one request. Never panics on request input; every failure is a JSON error.
pub async fn handle<B>(state: &AppState, req: Request<B>, peer: Option<SocketAddr>) -> Resp
where
    B: Body,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    let (parts, body) = req.into_parts();
    let method = parts.method.clone();
    let path = parts.uri.path().to_owned();
    let started = std::time::Instant::now();
    // Two Host headers could name two sites to two readers of this request (a proxy, a log):
    // refused, as HTTP/1.1 asks.
    if parts.headers.get_all(header::HOST).iter().count() > 1 {
        let e = ApiError::BadRequest("send exactly one Host header".to_owned());
        return finish(error(&e), &method, &path, started);
    }
    let route = route(&parts.method, &path);
    // An upload is written to storage as it arrives, never read into memory first.
    let upload = match &route {
        Ok(Route::UploadMedia(id)) => Some(crate::upload::Target::Media(*id)),
        Ok(Route::UploadAttachment(id)) => Some(crate::upload::Target::Attachment(*id)),
        _ => None,
    };
    if let Some(target) = upload {
        let head = Req {
            method: parts.method.clone(),
            uri: parts.uri.clone(),
            headers: parts.headers.clone(),
            body: Bytes::new(),
            peer,
        };
        let resp = crate::upload::receive(state, &head, body, target)
            .await
            .unwrap_or_else(|e| {
                if let ApiError::Storage(fault) = e {
                    state.storage.record(fault);
                }
                error(&e)
            });
        state.metrics.observe(
            route.as_ref().map_or("unrouted", Route::name),
            resp.status().as_u16(),
            started.elapsed(),
        );
        return finish(resp, &method, &path, started);
    }
    // Ingest carries media; every other route small JSON. An unrouted request gets the small
    // limit, so nothing unknown is read at length.
    let limit = route.as_ref().map_or(MAX_BODY, Route::body_limit);
    // A route that takes a large body reads it only for a caller its headers already prove
    // allowed: nobody unauthenticated holds a megabyte of the server's memory.
    if limit > MAX_BODY {
        let head = Req {
            method: parts.method.clone(),
            uri: parts.uri.clone(),
            headers: parts.headers.clone(),
            body: Bytes::new(),
            peer,
        };
        if let Err(e) = crate::handler::caller(state, &head).await {
            return finish(error(&e), &method, &path, started);
        }
    }
    let declared = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    let deadline = state
        .body_time
        .deadline(declared.unwrap_or(limit).min(limit));
    let read = tokio::time::timeout(deadline, read_body(body, &parts.headers, limit));
    let body = match read.await {
        Ok(Ok(body)) => body,
        Ok(Err(e)) => return finish(error(&e), &method, &path, started),
        Err(_) => {
            tracing::info!(path, ?peer, "request body timed out");
            return finish(error(&ApiError::RequestTimeout), &method, &path, started);
        }
    };
    let req = Req {
        method: parts.method,
        uri: parts.uri,
        headers: parts.headers,
        body,
        peer,
    };
    let (name, resp) = match route {
        Ok(route) => (
            route.name(),
            dispatch(state, route, &req).await.unwrap_or_else(|e| {
                if let ApiError::Storage(fault) = e {
                    state.storage.record(fault);
                }
                error(&e)
            }),
        ),
        Err(e) => ("unrouted", error(&e)),
    };
    state
        .metrics
        .observe(name, resp.status().as_u16(), started.elapsed());
    finish(resp, &method, &path, started)
}

/// Reads a body of at most `limit` bytes into one buffer: a declared length over the limit is
/// refused before anything is read, and a declared length within it is allocated once, so the
/// body is never held twice (as frames and as their concatenation).
async fn read_body<B>(body: B, headers: &hyper::HeaderMap, limit: usize) -> Result<Bytes, ApiError>
where
    B: Body,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(ApiError::PayloadTooLarge { limit });
    }
    let mut buf = bytes::BytesMut::with_capacity(declared.map_or(0, |n| n as usize));
    let mut body = std::pin::pin!(body);
    while let Some(frame) = body.frame().await {
        let frame =
            frame.map_err(|e| ApiError::BadRequest(format!("could not read the body: {e}")))?;
        if let Ok(data) = frame.into_data() {
            if buf.len() + data.remaining() > limit {
                return Err(ApiError::PayloadTooLarge { limit });
            }
            buf.put(data);
        }
    }
    Ok(buf.freeze())
}

/// `GET /healthz`: `ok`, or `degraded` with every audit chain found broken. Still 200: the
/// server serves, and taking every instance out of a load balancer over a tampered audit row
/// would stop every legal hold with it; monitoring alerts on the body or on `/metrics`.
fn health(state: &AppState) -> Resp {
    let broken: Vec<serde_json::Value> = state
        .chains
        .broken()
        .into_iter()
        .map(|(org, e)| serde_json::json!({"orgId": org, "auditChain": e.to_string()}))
        .collect();
    let storage = state.storage.current();
    let body = match (broken.is_empty(), storage) {
        (true, None) => serde_json::json!({"status": "ok"}),
        _ => {
            let mut body = serde_json::json!({"status": "degraded"});
            if !broken.is_empty() {
                body["brokenAuditChains"] = broken.into();
            }
            if let Some(fault) = storage {
                body["storage"] = fault.as_str().into();
            }
            body
        }
    };
    json(StatusCode::OK, &body)
}

fn finish(mut resp: Resp, method: &Method, path: &str, started: std::time::Instant) -> Resp {
    let h = resp.headers_mut();
    // A handler may send a stricter policy of its own (stored media: a sandbox).
    h.entry("content-security-policy")
        .or_insert(HeaderValue::from_static(CSP));
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    h.insert("referrer-policy", HeaderValue::from_static("same-origin"));
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    tracing::debug!(%method, path, status = resp.status().as_u16(), micros = started.elapsed().as_micros() as u64, "request");
    resp
}

async fn dispatch(state: &AppState, route: Route, req: &Req) -> Result<Resp, ApiError> {
    // Requests that carry their credentials explicitly (a bearer token, or a client secret for
    // a token) cannot be forged cross-site; cookie-authenticated ones must prove they are ours.
    let explicit = req.header("authorization").is_some();
    if !explicit
        && route != Route::Health
        && !matches!(route, Route::Asset(_))
        && req.method != Method::GET
    {
        crate::handler::check_same_origin(req)?;
    }
    match route {
        Route::Health => Ok(health(state)),
        Route::OpenApi => Ok(json(StatusCode::OK, &crate::openapi::document())),
        Route::Metrics => api::metrics(state, req).await,
        Route::SessionGet => api::me(state, req).await,
        Route::Login => api::login(state, req).await,
        Route::Logout => api::logout(state, req).await,
        Route::OrgStatus => api::org_status(state, req).await,
        Route::Conversations => api::conversations(state, req).await,
        Route::SelectionSummary => api::selection_summary(state, req).await,
        Route::Protection => api::protection(state, req).await,
        Route::ConversationDetails(id) => api::conversation_details(state, req, id).await,
        Route::OauthToken => genesys::token(state, req).await,
        Route::Audit => api::audit(state, req, false).await,
        Route::Views => api::views(state, req).await,
        Route::Ingest => api::ingest(state, req).await,
        Route::RecordingMedia(id) => api::media(state, req, MediaKind::Recording(id)).await,
        Route::Attachment(id) => api::media(state, req, MediaKind::Attachment(id)).await,
        Route::RetentionPolicies => api::retention_policies(state, req).await,
        Route::RetentionForecast => api::retention_forecast(state, req).await,
        Route::Holds => api::holds(state, req).await,
        Route::Hold(id) => api::hold(state, req, id).await,
        Route::HoldRelease(id) => api::release_hold(state, req, id).await,
        Route::HoldList(id, apply) => api::hold_list(state, req, id, apply).await,
        Route::HoldDecide(id, approve) => api::decide_release(state, req, id, approve).await,
        Route::OrgSettings => api::org_settings(state, req).await,
        Route::HoldReport(id) => api::hold_report(state, req, id).await,
        Route::RetentionPolicy(id) => api::save_policy(state, req, Some(&id)).await,
        Route::View(id) => api::view(state, req, &id).await,
        Route::AuditCsv => api::audit(state, req, true).await,
        Route::GenesysSetProtection => genesys::set_deletion_protection(state, req).await,
        Route::GenesysGetProtection => genesys::get_deletion_protection(state, req).await,
        Route::GenesysRecordingMetadata(c) => genesys::recording_metadata(state, req, c).await,
        Route::GenesysRecording(c, r) => genesys::get_recording(state, req, c, r).await,
        Route::GenesysPutRecording(c, r) => genesys::put_recording(state, req, c, r).await,
        Route::GenesysAuditQuery => genesys::audit_query(state, req).await,
        Route::GenesysRetentionQuery => genesys::retention_query(state, req).await,
        Route::DeleteRecording(id) => api::delete_recording(state, req, id).await,
        Route::SetDeleteDate(id) => api::set_delete_date(state, req, id).await,
        Route::DeleteTranscript(id) => api::delete_part(state, req, Part::Transcript(id)).await,
        Route::DeleteAttachment(id) => api::delete_part(state, req, Part::Attachment(id)).await,
        Route::Asset(path) => Ok(asset(state, req, &path)),
        // Answered in `handle`, before any body is read.
        Route::UploadMedia(_) | Route::UploadAttachment(_) => Err(ApiError::Internal(
            "an upload reached the dispatcher".to_owned(),
        )),
    }
}

/// The JSON error response for `e`; server failures are logged with their cause.
pub fn error(e: &ApiError) -> Resp {
    if let ApiError::Internal(cause) = e {
        tracing::error!(cause, "request failed");
    }
    let mut resp = json(e.status(), &e.body());
    if let Some(seconds) = e.retry_after() {
        resp.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    if let ApiError::MethodNotAllowed { allow } = e
        && let Ok(value) = HeaderValue::from_str(allow)
    {
        resp.headers_mut().insert(header::ALLOW, value);
    }
    if matches!(e, ApiError::RequestTimeout) {
        // The rest of the body is not read: the connection cannot carry another request.
        resp.headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    resp
}

fn asset(state: &AppState, req: &Req, path: &str) -> Resp {
    let path = if path == "/" { "/index.html" } else { path };
    // Client-side routes (no file extension) get the app's page.
    let last = path.rsplit('/').next().unwrap_or("");
    let key = if !last.contains('.') {
        "/index.html"
    } else {
        path
    };
    let Some(asset) = state.assets.get(key) else {
        return match state.assets.is_empty() {
            true => error(&ApiError::AppNotBuilt),
            false => error(&ApiError::NotFound),
        };
    };
    let mut builder = Response::builder()
        .header(header::CONTENT_TYPE, asset.content_type)
        .header(header::ETAG, &asset.etag)
        .header(header::VARY, "Accept-Encoding")
        // Names are not content-hashed: the browser revalidates every time and gets a 304.
        .header(header::CACHE_CONTROL, "no-cache");
    if req
        .header("if-none-match")
        .is_some_and(|tags| tags.split(',').any(|t| t.trim() == asset.etag))
    {
        return builder
            .status(StatusCode::NOT_MODIFIED)
            .body(crate::body::RespBody::empty())
            .unwrap_or_else(|_| error(&ApiError::Internal("response".to_owned())));
    }
    let (encoding, bytes) = asset.negotiate(req.header("accept-encoding").unwrap_or(""));
    if let Some(name) = encoding.header() {
        builder = builder.header(header::CONTENT_ENCODING, name);
    }
    let body = if req.method == Method::HEAD {
        Bytes::new()
    } else {
        bytes
    };
    builder
        .body(crate::body::RespBody::full(body))
        .unwrap_or_else(|_| error(&ApiError::Internal("response".to_owned())))
}

/// Serves `state` on `listener` until `shutdown` resolves, then lets open connections finish
/// (up to 10 seconds).
pub async fn serve(
    listener: TcpListener,
    state: Arc<AppState>,
    shutdown: impl Future<Output = ()>,
) {
    serve_with_timeout(listener, state, shutdown, HEADER_TIMEOUT).await;
}

/// [`serve`] with another header read timeout, so that a test can watch a slow client being
/// cut off without waiting the full ten seconds.
pub async fn serve_with_timeout(
    listener: TcpListener,
    state: Arc<AppState>,
    shutdown: impl Future<Output = ()>,
    header_timeout: Duration,
) {
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    // Out of file descriptors and the like: wait a moment rather than spin.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let state = state.clone();
        let service = service_fn(move |req| {
            let state = state.clone();
            async move { Ok::<_, Infallible>(handle(&state, req, Some(peer)).await) }
        });
        let conn = http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(header_timeout)
            .serve_connection(TokioIo::new(stream), service);
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, "connection ended with an error");
            }
        });
    }
    tokio::select! {
        () = graceful.shutdown() => tracing::info!("all connections closed"),
        () = tokio::time::sleep(Duration::from_secs(10)) => tracing::warn!("gave up waiting for connections to close"),
    }
}
