//! The native JSON API the app uses: plain `async fn`s over the state and a request.

use chrono::Utc;
use holdfast_core::api::{
    AuditPage, ConversationOutcome, DeleteDateRequest, IngestConversation, LoginRequest,
    MAX_SELECTION_IDS, Me, OrgStatusDto, ProtectRequest, ProtectResponse, SaveViewRequest,
    Selection, SummaryRequest, SummaryResponse, VIEW_NAME_MAX, view_name,
};
use holdfast_core::audit::AuditQuery;
use holdfast_core::audit::{Actor, AuditAction, Client, Details, EntityType};
use holdfast_core::protection::{OrgStatus, ProtectAction};
use holdfast_core::retention::RetentionPolicy;
use holdfast_core::view::ViewState;
use holdfast_core::{ConversationId, HoldId, Permission, Reason, RecordingId};
use hyper::StatusCode;
use hyper::header::{HeaderValue, SET_COOKIE};

use crate::auth::{self, LoginLimiter, SESSION_COOKIE, SESSION_HOURS};
use crate::error::ApiError;
use crate::handler::{
    AppState, Req, Resp, admit, audit_context, blocking, caller, client_of, deletion_outcome, json,
    require, settle_holds, settle_marked,
};
use crate::media;
use crate::store::{AuditContext, AuditDraft, AuditFilter, Caller, ProtectionChange};
use crate::usecase;

fn client(req: &Req) -> Client {
    client_of(req, None)
}

fn me_of(caller: &Caller) -> Me {
    Me {
        user_id: caller.user_id,
        username: caller.username.clone(),
        display_name: caller.display_name.clone(),
        org_id: caller.org_id,
        org_name: caller.org_name.clone(),
        permissions: caller
            .permissions
            .iter()
            .map(|p| p.as_str().to_owned())
            .collect(),
    }
}

pub async fn me(state: &AppState, req: &Req) -> Result<Resp, ApiError> {
    let caller = caller(state, req).await?;
    Ok(json(StatusCode::OK, &me_of(&caller)))
}

pub async fn login(state: &AppState, req: &Req) -> Result<Resp, ApiError> {
    let body: LoginRequest = req.json()?;
    let username = body.username.trim().to_owned();
    if username.is_empty() || username.len() > 200 || body.password.len() > 1024 {
        return Err(ApiError::BadCredentials);
    }
    let ip = req.peer.map(|p| p.ip().to_string()).unwrap_or_default();
    let attempt = admit(state, &format!("user:{}", username.to_lowercase()), &ip).await?;
    let lookup = username.clone();
    let record = blocking(state, move |s| s.find_login(&lookup)).await?;
    // An unknown username spends the same time as a wrong password, so names cannot be probed.
    let stored = record.as_ref().map_or_else(
        || auth::dummy_hash().to_owned(),
        |r| r.password_hash.clone(),
    );
    let ok = match state.password_checks.verify(body.password, stored).await {
        Some(ok) => ok,
        None => {
            // Not checked: the attempt is not held against the account.
            blocking(state, move |s| LoginLimiter::withdrawn(s, attempt)).await?;
            return Err(ApiError::Busy(auth::BUSY_SIGNING_IN));
        }
    };
    let user = record;
    let ok = ok && user.is_some();
    let user_id = match (user, ok) {
        (Some(user), true) => user.user_id,
        (user, _) => {
            blocking(state, move |s| LoginLimiter::failed(s, attempt, Utc::now())).await?;
            tracing::info!(username, ip, "failed login");
            // A failed login to a known account is audited in its organization; unknown
            // usernames belong to no organization and are only logged.
            if let Some(user) = user {
                let ctx = AuditContext {
                    actor: Actor::User {
                        id: user.user_id,
                        name: username.clone(),
                    },
                    client: client(req),
                    now: Utc::now(),
                };
                let draft = AuditDraft {
                    action: AuditAction::LoginFailed,
                    entity_type: EntityType::User,
                    entity_id: user.user_id.to_string(),
                    details: Details {
                        message: Some("wrong password".to_owned()),
                        ..Details::default()
                    },
                };
                blocking(state, move |s| {
                    usecase::audit::record(s, user.org_id, &ctx, draft)
                })
                .await?;
            }
            return Err(ApiError::BadCredentials);
        }
    };
    blocking(state, move |s| LoginLimiter::succeeded(s, attempt)).await?;
    let token = auth::new_token();
    let hash = auth::token_hash(&token);
    let started = Utc::now();
    let expires = started + chrono::Duration::hours(SESSION_HOURS);
    let caller = blocking(state, move |s| {
        s.create_session(&hash, user_id, started, expires)?;
        s.session_caller(&hash, started)
    })
    .await?
    .ok_or_else(|| ApiError::Internal("new session not found".to_owned()))?;
    let ctx = AuditContext {
        actor: Actor::User {
            id: caller.user_id,
            name: caller.username.clone(),
        },
        client: client(req),
        now: started,
    };
    let org = caller.org_id;
    let draft = AuditDraft {
        action: AuditAction::Login,
        entity_type: EntityType::User,
        entity_id: caller.user_id.to_string(),
        details: Details::default(),
    };
    blocking(state, move |s| usecase::audit::record(s, org, &ctx, draft)).await?;
    let mut resp = json(StatusCode::OK, &me_of(&caller));
    let secure = if state.secure_cookies { "; Secure" } else { "" };
    let cookie = format!(
        "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{secure}",
        SESSION_HOURS * 3600
    );
    resp.headers_mut().insert(
        SET_COOKIE,
        HeaderValue::from_str(&cookie).map_err(|e| ApiError::Internal(e.to_string()))?,
    );
    Ok(resp)
}

/// `DELETE /api/session`: ends the session of the cookie, and the access token of a bearer
/// (a client signing out means the token stops working).
pub async fn logout(state: &AppState, req: &Req) -> Result<Resp, ApiError> {
    let cookie = req
        .header("cookie")
        .and_then(|c| auth::cookie(c, SESSION_COOKIE));
    let bearer = req.header("authorization").and_then(|a| {
        a.strip_prefix("Bearer ")
            .or_else(|| a.strip_prefix("bearer "))
    });
    for token in cookie.into_iter().chain(bearer) {
        let hash = auth::token_hash(token);
        blocking(state, move |s| s.delete_session(&hash)).await?;
    }
    let mut resp = json(StatusCode::OK, &serde_json::json!({"signedOut": true}));
    resp.headers_mut().insert(
        SET_COOKIE,
        HeaderValue::from_static("holdfast_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"),
    );
    Ok(resp)
}

fn status_dto(s: OrgStatus) -> OrgStatusDto {
    OrgStatusDto {
        protected: s.protected,
        cap: s.cap.get(),
    }
}

pub async fn org_status(state: &AppState, req: &Req) -> Result<Resp, ApiError> {
    let caller = caller(state, req).await?;
    require(&caller, Permission::RecordingView)?;
    let org = caller.org_id;
    let status = blocking(state, move |s| s.org_status(org)).await?;
    Ok(json(StatusCode::OK, &status_dto(status)))
}

pub async fn conversations(state: &AppState, req: &Req) -> Result<Resp, ApiError> {
    let caller = caller(state, req).await?;
    require(&caller, Permission::RecordingView)?;
    let view = ViewState::from_query(req.uri.query().unwrap_or(""))
        .map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let org = caller.org_id;
    let page = blocking(state, move |s| s.list_conversations(org, &view)).await?;
    Ok(json(StatusCode::OK, &page))
}

pub async fn selection_summary(state: &AppState, req: &Req) -> Result<Resp, ApiError> {
    let caller = caller(state, req).await?;
    require(&caller, Permission::RecordingView)?;
    let body: SummaryRequest = req.json()?;
    check_selection(&body.selection)?;
    let org = caller.org_id;
    let (summary, status) = blocking(state, move |s| {
        let now = Utc::now();
        Ok((s.summarize(org, &body.selection, now)?, s.org_status(org)?))
    })
    .await?;
    Ok(json(
        StatusCode::OK,
        &SummaryResponse {
            summary,
            org: status_dto(status),
        },
    ))
}

pub async fn protection(state: &AppState, req: &Req) -> Result<Resp, ApiError> {
    let caller = caller(state, req).await?;
    require(&caller, Permission::RecordingView)?;
    let body: ProtectRequest = req.json()?;
    check_selection(&body.selection)?;
    let reason = Reason::new(body.reason.as_deref().unwrap_or(""))
        .map_err(|e| ApiError::BadRequest(e.to_string()))?;
    if body.action == ProtectAction::Release && body.hold.is_some_and(|h| !h.is_default()) {
        return Err(ApiError::BadRequest(
            "a legal hold is released as a whole: POST /api/holds/{id}/release".to_owned(),
        ));
    }
    let change = ProtectionChange {
        action: body.action,
        selection: body.selection,
        reason,
        hold: body.hold,
    };
    let ctx = audit_context(&caller, req);
    let (org, perms) = (caller.org_id, caller.permissions);
    let (outcome, status) = blocking(state, move |s| {
        let outcome = usecase::protection::apply(s, org, perms, &change, &ctx)?;
        Ok((outcome, s.org_status(org)?))
    })
    .await?;
    let outcome = outcome.map_err(ApiError::Plan)?;
    settle_holds(state, org, outcome.changed.clone()).await?;
    // Two-person release: asked for, waiting for a second user; nothing changed yet.
    let requested = outcome.requested.is_some();
    let status_code = match requested {
        true => StatusCode::ACCEPTED,
        false => StatusCode::OK,
    };
    Ok(json(
        status_code,
        &ProtectResponse {
            requested,
            changed: outcome.changed_count(),
            unchanged: outcome.plan.unchanged,
            without_recording: outcome.plan.without_recording,
            not_found: u32::try_from(outcome.not_found.len()).unwrap_or(u32::MAX),
            joined: u32::try_from(outcome.joined.len()).unwrap_or(u32::MAX),
            org: status_dto(status),
            outcomes: outcome
                .standings
                .iter()
                .map(|(id, standing)| ConversationOutcome {
                    id: *id,
                    outcome: outcome.outcome_of(*id, *standing),
                })
                .collect(),
        },
    ))
}

fn check_selection(selection: &Selection) -> Result<(), ApiError> {
    let count = match selection {
        Selection::Ids { ids } => ids.len(),
        Selection::Filter { except, .. } => except.len(),
    };
    if count > MAX_SELECTION_IDS {
        return Err(ApiError::BadRequest(format!(
            "the selection lists {count} ids; at most {MAX_SELECTION_IDS} are allowed (select by filter instead)"
        )));
    }
    Ok(())
}

pub async fn conversation_details(
    state: &AppState,
    req: &Req,
    id: ConversationId,
) -> Result<Resp, ApiError> {
    let caller = caller(state, req).await?;
    require(&caller, Permission::RecordingView)?;
    let org = caller.org_id;
    let details = blocking(state, move |s| s.conversation_details(org, id))
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(json(StatusCode::OK, &details))
}

async fn deletion_answer(
    state: &AppState,
    outcome: usecase::deletion::Outcome,
) -> Result<Resp, ApiError> {
    let deletion = deletion_outcome(state, outcome).await?;
    Ok(json(
        StatusCode::OK,
        &serde_json::json!({"deleted": deletion.deleted, "change": deletion.change}),
    ))
}

pub async fn delete_recording(
    state: &AppState,
    req: &Req,
    id: RecordingId,
) -> Result<Resp, ApiError> {
    let caller = caller(state, req).await?;
    require(&caller, Permission::RecordingView)?;
    let (org, perms, ctx) = (
        caller.org_id,
        caller.permissions,
        audit_context(&caller, req),
    );
    let outcome = blocking(state, move |s| {
        usecase::deletion::delete_recording(s, org, perms, id, &ctx)
    })
    .await?;
    deletion_answer(state, outcome).await
}

pub async fn set_delete_date(
    state: &AppState,
    req: &Req,
    id: RecordingId,
) -> Result<Resp, ApiError> {
    let caller = caller(state, req).await?;
    require(&caller, Permission::RecordingView)?;
    let body: DeleteDateRequest = req.json()?;
    let (org, perms, ctx) = (
        caller.org_id,
        caller.permissions,
        audit_context(&caller, req),
    );
    let outcome = blocking(state, move |s| {
        usecase::deletion::set_delete_date(s, org, perms, id, body.delete_date, &ctx)
    })
    .await?;
    deletion_answer(state, outcome).await
}

/// `GET /api/audit?<filters>`: a page of the audit trail and whether the chain verifies;
/// `GET /api/audit.csv?<filters>`: every matching event as CSV.
pub async fn audit(state: &AppState, req: &Req, csv: bool) -> Result<Resp, ApiError> {
    let caller = caller(state, req).await?;
    require(&caller, Permission::AuditView)?;
    let query = AuditQuery::from_query(req.uri.query().unwrap_or(""))
        .map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let org = caller.org_id;
    let page_size = u64::from(query.page_size);
    let filter = AuditFilter {
        action: query.action,
        user: query.user.clone(),
        about: None,
        from: query.from,
        to: query.to,
        offset: match csv {
            true => 0,
            false => u64::from(query.page - 1) * page_size,
        },
        limit: (!csv).then_some(page_size),
        ..AuditFilter::default()
    };
    let chains = state.chains.clone();
    let conversation = query.conversation;
    let (events, total, chain) = blocking(state, move |s| {
        let mut filter = filter;
        // Events about the conversation or one of its recordings (none for an unknown id).
        if let Some(c) = conversation {
            let mut about = vec![c.to_string()];
            if let Some(d) = s.conversation_details(org, c)? {
                about.extend(d.recordings.iter().map(|r| r.id.to_string()));
            }
            filter.about = Some(about);
        }
        let (events, total) = s.audit_page(org, &filter)?;
        let chain = match csv {
            true => Ok(0),
            false => chains.status(s, org)?,
        };
        Ok((events, total, chain))
    })
    .await?;
    if csv {
        let mut out = Vec::new();
        crate::audit_cli::write_csv(&mut out, events.iter().map(|(e, h)| (e, h.as_str())))
            .map_err(|e| ApiError::Internal(e.to_string()))?;
        return Ok(csv_response(out, "holdfast-audit.csv"));
    }
    let page = AuditPage {
        entities: events.into_iter().map(|(e, _)| e).collect(),
        total,
        page: query.page,
        page_size: query.page_size,
        chain_verified: chain.is_ok(),
        chain_error: chain.err().map(|e| e.to_string()),
    };
    Ok(json(StatusCode::OK, &page))
}

fn view_body(req: &Req) -> Result<(String, Option<String>), ApiError> {
    let body: SaveViewRequest = req.json()?;
    let name = view_name(&body.name).ok_or_else(|| {
        ApiError::BadRequest(format!("a view name has 1 to {VIEW_NAME_MAX} characters"))
    })?;
    let query = match body.query {
        Some(q) => Some(
            ViewState::from_query(&q)
                .map_err(|e| ApiError::BadRequest(e.to_string()))?
                .to_query(),
        ),
        None => None,
    };
    Ok((name, query))
}

/// `GET /api/views` lists the caller's saved views; `POST /api/views` saves one.
pub async fn views(state: &AppState, req: &Req) -> Result<Resp, ApiError> {
    let caller = caller(state, req).await?;
    require(&caller, Permission::RecordingView)?;
    let user = caller.user_id;
    if req.method == hyper::Method::GET {
        let views = blocking(state, move |s| s.views(user)).await?;
        return Ok(json(StatusCode::OK, &views));
    }
    let (name, query) = view_body(req)?;
    let query = query.unwrap_or_default();
    let taken = name.clone();
    let saved = blocking(state, move |s| s.create_view(user, &name, &query)).await?;
    match saved {
        Some(view) => Ok(json(StatusCode::CREATED, &view)),
        None => Err(ApiError::Conflict(format!(
            "you already have a view named '{taken}'"
        ))),
    }
}

/// `PATCH /api/views/{id}` renames a view; `DELETE` deletes it.
pub async fn view(state: &AppState, req: &Req, id: &str) -> Result<Resp, ApiError> {
    let caller = caller(state, req).await?;
    require(&caller, Permission::RecordingView)?;
    let (user, id) = (caller.user_id, id.to_owned());
    if req.method == hyper::Method::DELETE {
        let deleted = blocking(state, move |s| s.delete_view(user, &id)).await?;
        return match deleted {
            true => Ok(json(StatusCode::OK, &serde_json::json!({"deleted": true}))),
            false => Err(ApiError::NotFound),
        };
    }
    let (name, _) = view_body(req)?;
    let taken = name.clone();
    match blocking(state, move |s| s.rename_view(user, &id, &name)).await? {
        None => Err(ApiError::NotFound),
        Some(false) => Err(ApiError::Conflict(format!(
            "you already have a view named '{taken}'"
        ))),
        Some(true) => Ok(json(StatusCode::OK, &serde_json::json!({"renamed": true}))),
    }
}

/// `POST /api/ingest`: one conversation or a list of them, with recordings; admin only.
pub async fn ingest(state: &AppState, req: &Req) -> Result<Resp, ApiError> {
    let caller = caller(state, req).await?;
    require(&caller, Permission::Admin)?;
    req.require_json()?;
    let (org, media) = (caller.org_id, state.media.clone());
    // The body is parsed on the blocking pool, its base64 borrowed rather than copied and
    // decoded into the files a slice at a time: a large recording is held once, as the body.
    let body = req.body.clone();
    let (conversations, done) = blocking(state, move |s| {
        let list = match parse_ingest(&body) {
            Ok(list) => list,
            Err(refusal) => return Ok(Err(refusal)),
        };
        let conversations = list.len();
        let mut written = Vec::new();
        let mut batch = Vec::with_capacity(list.len());
        for c in list {
            match crate::ingest::prepare(
                media.as_ref(),
                org,
                c,
                crate::ingest::Files::Refused,
                &mut written,
            ) {
                Ok(c) => batch.push(c),
                Err(refusal) => {
                    media::remove_files(media.as_ref(), &written);
                    return Ok(Err(refusal));
                }
            }
        }
        match usecase::ingest::ingest_at(s, org, &batch, chrono::Utc::now()) {
            Ok(done) => Ok(Ok((conversations, done))),
            Err(e) => {
                media::remove_files(media.as_ref(), &written);
                Err(e)
            }
        }
    })
    .await?
    .map_err(|r| match r.storage {
        true => {
            tracing::error!(error = %r, "could not store ingested media");
            ApiError::MediaStorage(
                "media storage did not take the media; nothing was kept: try again".to_owned(),
            )
        }
        false => ApiError::BadRequest(r.to_string()),
    })?;
    state.metrics.add_hold_cap_misses(done.caught.missed);
    // Objects that joined a protected conversation get its hold before the answer.
    settle_marked(state, org).await?;
    Ok(json(
        StatusCode::CREATED,
        &serde_json::json!({
            "conversations": conversations,
            "recordings": done.recordings,
            "heldByQuery": done.caught.protected.len(),
            "missedByQuery": done.caught.missed,
        }),
    ))
}

/// One conversation, or an array of them.
fn parse_ingest(body: &[u8]) -> Result<Vec<IngestConversation<'_>>, crate::ingest::IngestRefusal> {
    let array = body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[');
    let parsed = match array {
        true => serde_json::from_slice(body),
        false => serde_json::from_slice(body).map(|c| vec![c]),
    };
    parsed.map_err(|e| crate::ingest::IngestRefusal::new(format!("invalid conversation: {e}")))
}

/// `GET /api/retention-policies` lists them; `POST` adds one (admin).
pub async fn retention_policies(state: &AppState, req: &Req) -> Result<Resp, ApiError> {
    if req.method == hyper::Method::POST {
        return save_policy(state, req, None).await;
    }
    let caller = caller(state, req).await?;
    require(&caller, Permission::RecordingView)?;
    let org = caller.org_id;
    let list = blocking(state, move |s| s.retention_policies(org)).await?;
    let body: Vec<serde_json::Value> = list
        .into_iter()
        .map(|(id, p)| serde_json::json!({"id": id, "policy": p}))
        .collect();
    Ok(json(StatusCode::OK, &body))
}

/// `GET /api/retention/forecast?days=N`: what the sweep will delete in the next N days (default
/// 30, at most 366), per UTC day, and what it would delete but for a protection.
pub async fn retention_forecast(state: &AppState, req: &Req) -> Result<Resp, ApiError> {
    use holdfast_core::forecast;
    let caller = caller(state, req).await?;
    require(&caller, Permission::RecordingView)?;
    let days = match req.query_param("days") {
        None => 30,
        Some(text) => text
            .parse::<u32>()
            .ok()
            .filter(|d| (1..=forecast::MAX_DAYS).contains(d))
            .ok_or_else(|| {
                ApiError::BadRequest(format!(
                    "days is a whole number from 1 to {}",
                    forecast::MAX_DAYS
                ))
            })?,
    };
    let (org, now) = (caller.org_id, chrono::Utc::now());
    let (start, until) = forecast::window(now, days);
    let counts = blocking(state, move |s| s.deletion_forecast(org, now, start, until)).await?;
    Ok(json(StatusCode::OK, &forecast::forecast(now, days, counts)))
}

/// A hold refused, as the API answers it.
fn hold_refused(e: holdfast_core::holds::HoldError) -> ApiError {
    use holdfast_core::holds::HoldError;
    match e {
        HoldError::MissingPermission { permission } => ApiError::Forbidden(permission),
        HoldError::Released
        | HoldError::DefaultHold
        | HoldError::ReleasePending
        | HoldError::NoReleasePending
        | HoldError::SamePerson => ApiError::Conflict(e.to_string()),
        HoldError::NameMissing
        | HoldError::TooLong { .. }
        | HoldError::ControlCharacter { .. }
        | HoldError::Query { .. } => ApiError::BadRequest(e.to_string()),
        HoldError::Refused { plan } => ApiError::Plan(plan),
    }
}

/// `GET /api/holds?q=` lists the organization's holds (the default hold first, active ones
/// before released ones, newest first), with a search in names and case references; `POST`
/// creates a legal hold, audited as `CreateHold`.
pub async fn holds(state: &AppState, req: &Req) -> Result<Resp, ApiError> {
    let caller = caller(state, req).await?;
    require(&caller, Permission::RecordingView)?;
    let org = caller.org_id;
    if req.method == hyper::Method::GET {
        let search = req
            .query_param("q")
            .map(str::trim)
            .filter(|q| !q.is_empty())
            .map(str::to_owned);
        if search.as_ref().is_some_and(|q| q.chars().count() > 200) {
            return Err(ApiError::BadRequest(
                "the search has more than 200 characters".to_owned(),
            ));
        }
        let list = blocking(state, move |s| s.holds(org, search.as_deref())).await?;
        return Ok(json(StatusCode::OK, &list));
    }
    let body: holdfast_core::holds::CreateHoldRequest = req.json()?;
    let (perms, ctx) = (caller.permissions, audit_context(&caller, req));
    let created = blocking(state, move |s| {
        usecase::holds::create(s, org, perms, &body, &ctx)
    })
    .await?
    .map_err(hold_refused)?;
    settle_holds(state, org, created.protected).await?;
    Ok(json(StatusCode::CREATED, &created.hold))
}

/// `GET /api/holds/{id}`: the hold, its conversations and what releasing it would do now.
pub async fn hold(state: &AppState, req: &Req, id: HoldId) -> Result<Resp, ApiError> {
    let caller = caller(state, req).await?;
    require(&caller, Permission::RecordingView)?;
    let (org, now) = (caller.org_id, chrono::Utc::now());
    let details = blocking(state, move |s| s.hold_details(org, id, now)).await?;
    Ok(json(StatusCode::OK, &details.ok_or(ApiError::NotFound)?))
}

/// `POST /api/holds/{id}/list/preview` `{"text"}`: what adding the pasted or uploaded list
/// (up to 10,000 ids, one a line or a CSV column) would do, per id and against the cap;
/// `POST /api/holds/{id}/list` adds it, all or nothing (409 with the preview's refusal).
pub async fn hold_list(
    state: &AppState,
    req: &Req,
    id: HoldId,
    apply: bool,
) -> Result<Resp, ApiError> {
    let caller = caller(state, req).await?;
    require(&caller, Permission::ProtectionApply)?;
    let body: holdfast_core::holds::ListRequest = req.json()?;
    let list = holdfast_core::holds::parse_id_list(&body.text).map_err(ApiError::BadRequest)?;
    let reason = Reason::new(body.reason.as_deref().unwrap_or(""))
        .map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let (org, perms, ctx) = (
        caller.org_id,
        caller.permissions,
        audit_context(&caller, req),
    );
    let change = usecase::holds::ListChange {
        hold: id,
        list,
        reason,
        apply,
    };
    let (preview, protected) = blocking(state, move |s| {
        usecase::holds::add_list(s, org, perms, &change, &ctx)
    })
    .await?
    .ok_or(ApiError::NotFound)?
    .map_err(hold_refused)?;
    if apply {
        if let Some(refusal) = preview.refusal {
            return Err(ApiError::Plan(refusal));
        }
        settle_holds(state, org, protected).await?;
    }
    Ok(json(StatusCode::OK, &preview))
}

/// `POST /api/holds/{id}/release` `{"reason"}`: releases a legal hold as a whole; answers what
/// it did (the counts its preview showed, read again in the release's transaction).
pub async fn release_hold(state: &AppState, req: &Req, id: HoldId) -> Result<Resp, ApiError> {
    let caller = caller(state, req).await?;
    require(&caller, Permission::RecordingView)?;
    let body: holdfast_core::holds::ReleaseHoldRequest = match req.body.is_empty() {
        true => Default::default(),
        false => req.json()?,
    };
    let reason = Reason::new(body.reason.as_deref().unwrap_or(""))
        .map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let (org, perms, ctx) = (
        caller.org_id,
        caller.permissions,
        audit_context(&caller, req),
    );
    let released = blocking(state, move |s| {
        usecase::holds::release(s, org, perms, id, reason.as_ref(), &ctx)
    })
    .await?
    .ok_or(ApiError::NotFound)?
    .map_err(hold_refused)?;
    match released {
        usecase::holds::ReleaseOutcome::Released(done) => {
            settle_holds(state, org, done.released).await?;
            Ok(json(StatusCode::OK, &done.counts))
        }
        // Two-person release: it waits for a second user.
        usecase::holds::ReleaseOutcome::Requested(request) => {
            Ok(json(StatusCode::ACCEPTED, &request))
        }
    }
}

/// `POST /api/holds/{id}/release/approve` or `.../refuse`: a second user decides on the
/// release that waits (two-person release); the one who asked cannot approve it (409
/// `conflict`), but may withdraw it. An approval answers the release's counts.
pub async fn decide_release(
    state: &AppState,
    req: &Req,
    id: HoldId,
    approve: bool,
) -> Result<Resp, ApiError> {
    let caller = caller(state, req).await?;
    require(&caller, Permission::RecordingView)?;
    let (org, perms, ctx) = (
        caller.org_id,
        caller.permissions,
        audit_context(&caller, req),
    );
    // The default hold's requests are named (`?request=`); a legal hold has one at most.
    let request = req.query_param("request").map(str::to_owned);
    let done = blocking(state, move |s| {
        usecase::holds::decide(s, org, perms, id, request.as_deref(), approve, &ctx)
    })
    .await?
    .ok_or(ApiError::NotFound)?
    .map_err(hold_refused)?;
    match done {
        Some(done) => {
            let answer = match done.counts {
                Some(counts) => {
                    serde_json::to_value(counts).map_err(|e| ApiError::Internal(e.to_string()))?
                }
                None => serde_json::json!({"released": done.released.len()}),
            };
            settle_holds(state, org, done.released).await?;
            Ok(json(StatusCode::OK, &answer))
        }
        None => Ok(json(StatusCode::OK, &serde_json::json!({"refused": true}))),
    }
}

/// `GET /api/holds/{id}/report.csv`: the hold's report for a legal team: every interaction
/// with each recording, its size, dates, state and SHA-256, and who added it, when and why.
pub async fn hold_report(state: &AppState, req: &Req, id: HoldId) -> Result<Resp, ApiError> {
    let caller = caller(state, req).await?;
    require(&caller, Permission::RecordingView)?;
    let (org, now) = (caller.org_id, chrono::Utc::now());
    let csv = blocking(state, move |s| crate::report::hold_csv(s, org, id, now))
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(csv_response(csv, &format!("holdfast-hold-{id}.csv")))
}

/// A CSV download, never cached.
fn csv_response(body: Vec<u8>, file_name: &str) -> Resp {
    let mut resp = hyper::Response::new(crate::body::RespBody::full(body));
    let h = resp.headers_mut();
    h.insert(
        hyper::header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    // The names given are ASCII without quotes.
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{file_name}\"")) {
        h.insert(hyper::header::CONTENT_DISPOSITION, value);
    }
    h.insert(
        hyper::header::CACHE_CONTROL,
        HeaderValue::from_static("no-store"),
    );
    resp
}

/// `PUT /api/org/settings` `{"twoPersonRelease": bool}` (admin), audited as `UpdateSettings`.
pub async fn org_settings(state: &AppState, req: &Req) -> Result<Resp, ApiError> {
    let caller = caller(state, req).await?;
    require(&caller, Permission::Admin)?;
    let body: holdfast_core::holds::OrgSettings = req.json()?;
    let (org, ctx) = (caller.org_id, audit_context(&caller, req));
    blocking(state, move |s| {
        usecase::holds::set_settings(s, org, &body, &ctx)
    })
    .await?;
    Ok(json(StatusCode::OK, &body))
}

/// `POST /api/retention-policies` or `PUT /api/retention-policies/{id}`: audited as
/// `UpdateRetention`. Applies to recordings that arrive from now on.
pub async fn save_policy(state: &AppState, req: &Req, id: Option<&str>) -> Result<Resp, ApiError> {
    let caller = caller(state, req).await?;
    require(&caller, Permission::Admin)?;
    let policy: RetentionPolicy = req.json()?;
    if view_name(&policy.name).is_none() {
        return Err(ApiError::BadRequest(format!(
            "a policy name has 1 to {VIEW_NAME_MAX} characters"
        )));
    }
    let (org, ctx, id) = (
        caller.org_id,
        audit_context(&caller, req),
        id.map(str::to_owned),
    );
    let creating = id.is_none();
    let saved = blocking(state, move |s| {
        usecase::retention::save_policy(s, org, id.as_deref(), &policy, &ctx)
    })
    .await?
    .ok_or(ApiError::NotFound)?;
    let status = if creating {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok(json(status, &serde_json::json!({"id": saved})))
}

/// Which stored file a media request asks for.
pub enum MediaKind {
    Recording(RecordingId),
    Attachment(String),
}

/// `GET /api/recordings/{id}/media` and `GET /api/attachments/{id}`: the bytes, with single
/// `Range` requests answered 206 so the audio player can seek.
pub async fn media(state: &AppState, req: &Req, kind: MediaKind) -> Result<Resp, ApiError> {
    let caller = caller(state, req).await?;
    require(&caller, Permission::RecordingView)?;
    let org = caller.org_id;
    let recording = matches!(kind, MediaKind::Recording(_));
    let file = blocking(state, move |s| match kind {
        MediaKind::Recording(id) => s.media_file(org, id),
        MediaKind::Attachment(id) => s.attachment_file(org, &id),
    })
    .await?
    .ok_or(ApiError::NotFound)?;
    let total = state.media.size(&file.path).await.map_err(|e| {
        if e.kind() != std::io::ErrorKind::NotFound {
            tracing::error!(key = %file.path, error = %e, "could not read a stored object");
        }
        ApiError::NotFound
    })?;
    let range = match req.header("range") {
        None => None,
        Some(h) => Some(
            media::parse_range(h, total).ok_or(ApiError::RangeNotSatisfiable { size: total })?,
        ),
    };
    let (status, start, length, content_range) = match range {
        None => (StatusCode::OK, 0, total, None),
        Some((start, end)) => (
            StatusCode::PARTIAL_CONTENT,
            start,
            end - start + 1,
            Some(format!("bytes {start}-{end}/{total}")),
        ),
    };
    // Read a slice at a time as the client takes it: a long recording is never held whole.
    let body = state
        .media
        .read(&file.path, start, length)
        .await
        .map_err(|e| {
            tracing::error!(key = %file.path, error = %e, "could not read a stored object");
            ApiError::NotFound
        })?;
    // Stored bytes are served only as an inert type, in a sandbox, and downloaded unless they
    // are a recording the player plays: whatever they contain never runs as this origin.
    let served = holdfast_core::content::inert(&file.content_type);
    let disposition = match (recording, file.name) {
        (true, _) if holdfast_core::content::plays_inline(&served) => "inline".to_owned(),
        (_, None) => "attachment".to_owned(),
        (_, Some(name)) => {
            let safe: String = name
                .chars()
                .filter(|c| c.is_ascii_graphic() || *c == ' ')
                .filter(|c| *c != '"' && *c != '\\')
                .collect();
            format!("attachment; filename=\"{safe}\"")
        }
    };
    let mut builder = hyper::Response::builder()
        .status(status)
        .header(hyper::header::CONTENT_TYPE, served)
        .header(hyper::header::CONTENT_DISPOSITION, disposition)
        .header(
            hyper::header::CONTENT_SECURITY_POLICY,
            holdfast_core::content::SANDBOX_CSP,
        )
        .header(hyper::header::ACCEPT_RANGES, "bytes")
        .header(hyper::header::CACHE_CONTROL, "private, no-store");
    if let Some(cr) = content_range {
        builder = builder.header(hyper::header::CONTENT_RANGE, cr);
    }
    // The checksum taken when the file arrived, of the whole file (a range too): a client can
    // check what it downloaded against what was stored.
    if let Some(sha256) = file.sha256.as_deref()
        && let Some(digest) = auth::hex_decode(sha256)
    {
        builder = builder
            .header(hyper::header::ETAG, format!("\"{sha256}\""))
            .header(
                "repr-digest",
                format!("sha-256=:{}:", auth::base64_encode(&digest)),
            );
    }
    builder
        .body(body)
        .map_err(|e| ApiError::Internal(e.to_string()))
}

/// `GET /metrics`: Prometheus text, for the holder of the metrics token only (it names every
/// organization, by id).
pub async fn metrics(state: &AppState, req: &Req) -> Result<Resp, ApiError> {
    let presented = req
        .header("authorization")
        .and_then(|a| a.strip_prefix("Bearer "))
        .map(auth::token_hash);
    match (&state.metrics_token, presented) {
        (Some(expected), Some(given)) if auth::same_secret(expected, &given) => {}
        _ => return Err(ApiError::Unauthorized),
    }
    let holds = state.media.keeps_holds();
    let (protected, holds_pending) = blocking(state, move |s| {
        let protected = s
            .organizations()?
            .into_iter()
            .map(|(id, _)| {
                s.org_status(id)
                    .map(|st| (id.to_string(), st.protected, st.cap.get()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let pending = match holds {
            true => Some(s.pending_holds(None, 10_000)?.len()),
            false => None,
        };
        Ok((protected, pending))
    })
    .await?;
    let broken: Vec<String> = state
        .chains
        .broken()
        .into_iter()
        .map(|(org, _)| org.to_string())
        .collect();
    let mut resp = hyper::Response::new(crate::body::RespBody::full(state.metrics.render(
        &protected,
        &broken,
        holds_pending,
    )));
    resp.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    Ok(resp)
}

/// `DELETE /api/recordings/{id}/transcript` and `DELETE /api/attachments/{id}`.
pub async fn delete_part(
    state: &AppState,
    req: &Req,
    part: crate::store::Part,
) -> Result<Resp, ApiError> {
    let caller = caller(state, req).await?;
    require(&caller, Permission::RecordingView)?;
    let (org, perms, ctx) = (
        caller.org_id,
        caller.permissions,
        audit_context(&caller, req),
    );
    let outcome = blocking(state, move |s| {
        usecase::deletion::delete_part(s, org, perms, &part, &ctx)
    })
    .await?;
    deletion_answer(state, outcome).await
}
