//! The Genesys Cloud Platform API v2 subset, for scripts and SDKs written against Genesys:
//! the same paths, field names and limits, decided by the same core rules as the native API.

use chrono::Utc;
use holdfast_core::api::{ConversationDetails, RecordingInfo};
use holdfast_core::audit::{Actor, AuditAction, AuditEvent, EntityType};
use holdfast_core::genesys::{
    AddressableEntityRef, AuditLogMessage, AuditQueryRequest, AuditQueryResponse,
    ConversationDeletionProtectionQuery, ConversationDeletionProtectionResponse, FailedUpdate,
    Recording, RecordingUpdate, TokenResponse,
};
use holdfast_core::protection::{PlanError, ProtectAction};
use holdfast_core::{ConversationId, Permission, RecordingId};
use hyper::StatusCode;

use crate::auth::{self, LoginLimiter};
use crate::error::ApiError;
use crate::handler::{
    AppState, Req, Resp, audit_context, blocking, caller, deletion_outcome, json, require,
    settle_holds,
};
use crate::store::{AuditFilter, ProtectionChange, Standing};

/// How long a bearer token lives, as in Genesys Cloud.
pub const TOKEN_SECONDS: i64 = 86_400;

/// The largest audit page.
pub const MAX_AUDIT_PAGE: u32 = 500;

/// `POST /oauth/token`: the client credentials grant, with the client id and secret in HTTP
/// Basic authentication and `grant_type=client_credentials` in a form body.
pub async fn token(state: &AppState, req: &Req) -> Result<Resp, ApiError> {
    let form = String::from_utf8_lossy(&req.body);
    let grant = form
        .split('&')
        .filter_map(|p| p.split_once('='))
        .find(|(k, _)| *k == "grant_type")
        .map(|(_, v)| v.to_owned());
    if grant.as_deref() != Some("client_credentials") {
        return Err(ApiError::BadRequest(
            "grant_type must be client_credentials".to_owned(),
        ));
    }
    let (client_id, secret) = req
        .header("authorization")
        .and_then(auth::basic_credentials)
        .ok_or(ApiError::BadCredentials)?;
    let ip = req.peer.map(|p| p.ip().to_string()).unwrap_or_default();
    let attempt = crate::handler::admit(state, &format!("client:{client_id}"), &ip).await?;
    let lookup = client_id.clone();
    let stored = blocking(state, move |s| s.client_secret(&lookup)).await?;
    let known = stored.is_some();
    let stored = stored.unwrap_or_else(|| auth::dummy_hash().to_owned());
    let Some(ok) = state.password_checks.verify(secret, stored).await else {
        blocking(state, move |s| LoginLimiter::withdrawn(s, attempt)).await?;
        return Err(ApiError::Busy(auth::BUSY_SIGNING_IN));
    };
    if !(ok && known) {
        blocking(state, move |s| LoginLimiter::failed(s, attempt, Utc::now())).await?;
        return Err(ApiError::BadCredentials);
    }
    blocking(state, move |s| LoginLimiter::succeeded(s, attempt)).await?;
    let token = auth::new_token();
    let hash = auth::token_hash(&token);
    let now = Utc::now();
    let expires = now + chrono::Duration::seconds(TOKEN_SECONDS);
    blocking(state, move |s| {
        s.create_token(&hash, &client_id, now, expires)
    })
    .await?;
    Ok(json(
        StatusCode::OK,
        &TokenResponse {
            access_token: token,
            token_type: "bearer".to_owned(),
            expires_in: TOKEN_SECONDS as u64,
        },
    ))
}

fn body_ids(req: &Req) -> Result<Vec<ConversationId>, ApiError> {
    let body: ConversationDeletionProtectionQuery = req.json()?;
    body.ids().map_err(|e| ApiError::BadRequest(e.to_string()))
}

fn failed(id: ConversationId, code: &str, message: &str) -> FailedUpdate {
    FailedUpdate {
        conversation: AddressableEntityRef::conversation(id),
        error_message: message.to_owned(),
        error_code: code.to_owned(),
    }
}

/// `PUT /api/v2/recordings/deletionprotection?protect=true|false`.
pub async fn set_deletion_protection(state: &AppState, req: &Req) -> Result<Resp, ApiError> {
    let caller = caller(state, req).await?;
    let protect = match req.query_param("protect") {
        Some("true") => true,
        Some("false") => false,
        _ => {
            return Err(ApiError::BadRequest(
                "the query parameter protect must be true or false".to_owned(),
            ));
        }
    };
    let action = if protect {
        ProtectAction::Protect
    } else {
        ProtectAction::Release
    };
    require(&caller, action.permission())?;
    let ids = body_ids(req)?;
    let org = caller.org_id;
    let listed = ids.clone();
    let (standings, held) = blocking(state, move |s| {
        let standings = s.classify(org, &listed)?;
        let held = match protect {
            true => Vec::new(),
            false => s.held(org, &listed)?,
        };
        Ok((standings, held))
    })
    .await?;
    let mut failed_updates = Vec::new();
    // A release leaves them protected: a legal hold covers them until it is released as a
    // whole.
    for id in &held {
        failed_updates.push(failed(
            *id,
            "conversation.legal.hold",
            "The conversation stays protected: a legal hold covers it until the hold is released.",
        ));
    }
    for (id, standing) in &standings {
        match standing {
            Standing::NotFound => {
                failed_updates.push(failed(*id, "not.found", "The conversation was not found."))
            }
            Standing::NotProtectable if protect => failed_updates.push(failed(
                *id,
                "recording.not.protectable",
                "The conversation has no policy-based recording that is not deleted.",
            )),
            _ => {}
        }
    }
    let change = ProtectionChange {
        action,
        selection: holdfast_core::api::Selection::Ids { ids },
        reason: None,
        hold: None,
    };
    let (perms, ctx) = (caller.permissions, audit_context(&caller, req));
    let outcome = blocking(state, move |s| {
        crate::usecase::protection::apply(s, org, perms, &change, &ctx)
    })
    .await?;
    match outcome {
        // Two-person release: asked for; each conversation it would release says so.
        Ok(outcome) if outcome.requested.is_some() => {
            for (id, standing) in &outcome.standings {
                if *standing == Standing::Protected && !outcome.held.contains(id) {
                    failed_updates.push(failed(
                        *id,
                        "release.awaits.approval",
                        "Two-person release: the release waits for a second user's approval in Holdfast.",
                    ));
                }
            }
        }
        Ok(outcome) => settle_holds(state, org, outcome.changed).await?,
        Err(PlanError::NothingToDo { .. }) | Err(PlanError::EmptySelection) => {}
        Err(e) => return Err(ApiError::Plan(e)),
    }
    Ok(json(
        StatusCode::OK,
        &ConversationDeletionProtectionResponse { failed_updates },
    ))
}

/// `GET /api/v2/recordings/retention/query?retentionThresholdDays=N&cursor=&pageSize=`: the
/// recordings retained for more days than N (their deletion date more than N days after their
/// creation, or none: kept), a page at a time in recording-id order, with the cursor to the
/// next page in `nextUri`.
pub async fn retention_query(state: &AppState, req: &Req) -> Result<Resp, ApiError> {
    use holdfast_core::genesys::{
        RETENTION_QUERY_DEFAULT_PAGE, RETENTION_QUERY_MAX_PAGE, RecordingRetention,
        RecordingRetentionCursorEntityListing,
    };
    let caller = caller(state, req).await?;
    require(&caller, Permission::RecordingView)?;
    let days: u32 = req
        .query_param("retentionThresholdDays")
        .and_then(|d| d.parse().ok())
        .filter(|d| *d <= 100_000)
        .ok_or_else(|| {
            ApiError::BadRequest(
                "retentionThresholdDays is required: a whole number of days".to_owned(),
            )
        })?;
    let size = match req.query_param("pageSize") {
        None => RETENTION_QUERY_DEFAULT_PAGE,
        Some(text) => text
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=RETENTION_QUERY_MAX_PAGE).contains(n))
            .ok_or_else(|| {
                ApiError::BadRequest(format!(
                    "pageSize is a whole number from 1 to {RETENTION_QUERY_MAX_PAGE}"
                ))
            })?,
    };
    let after =
        match req.query_param("cursor").filter(|c| !c.is_empty()) {
            None => None,
            Some(c) => Some(RecordingId::parse(c).map_err(|_| {
                ApiError::BadRequest("the cursor is not one this API gave".to_owned())
            })?),
        };
    let org = caller.org_id;
    let threshold_ms = i64::from(days) * 86_400_000;
    let limit = size as usize + 1;
    let mut rows = blocking(state, move |s| {
        s.retained_longer_than(org, threshold_ms, after, limit)
    })
    .await?;
    let more = rows.len() > size as usize;
    rows.truncate(size as usize);
    let base =
        format!("/api/v2/recordings/retention/query?retentionThresholdDays={days}&pageSize={size}");
    let next_uri = match (more, rows.last()) {
        (true, Some((_, last, _, _))) => Some(format!("{base}&cursor={last}")),
        _ => None,
    };
    let self_uri = match after {
        Some(a) => format!("{base}&cursor={a}"),
        None => base,
    };
    let listing = RecordingRetentionCursorEntityListing {
        entities: rows
            .into_iter()
            .map(|(c, r, delete_date, created)| RecordingRetention {
                conversation_id: c.to_string(),
                recording_id: r.to_string(),
                delete_date,
                creation_time: created,
            })
            .collect(),
        next_uri,
        self_uri,
    };
    Ok(json(StatusCode::OK, &listing))
}

/// `POST /api/v2/recordings/deletionprotection`: which of the listed conversations are protected.
pub async fn get_deletion_protection(state: &AppState, req: &Req) -> Result<Resp, ApiError> {
    let caller = caller(state, req).await?;
    require(&caller, Permission::RecordingView)?;
    let ids = body_ids(req)?;
    let org = caller.org_id;
    let standings = blocking(state, move |s| s.classify(org, &ids)).await?;
    let protected: Vec<AddressableEntityRef> = standings
        .into_iter()
        .filter(|(_, s)| *s == Standing::Protected)
        .map(|(id, _)| AddressableEntityRef::conversation(id))
        .collect();
    Ok(json(StatusCode::OK, &protected))
}

fn recording(details: &ConversationDetails, r: &RecordingInfo) -> Recording {
    let conv = details.conversation.id;
    Recording {
        id: r.id.to_string(),
        conversation_id: conv.to_string(),
        media: r.media.genesys_name().to_owned(),
        file_state: r.file_state.as_str().to_owned(),
        delete_date: r.delete_date,
        archive_date: None,
        creation_time: Some(r.created_at),
        start_time: Some(details.conversation.start_time),
        end_time: Some(details.conversation.end_time),
        recording_file_role: Some(r.role.genesys_name().to_owned()),
        output_duration_ms: r.duration_ms,
        output_size_in_bytes: r.size_bytes,
        self_uri: Some(format!("/api/v2/conversations/{conv}/recordings/{}", r.id)),
    }
}

async fn details(
    state: &AppState,
    req: &Req,
    id: ConversationId,
) -> Result<ConversationDetails, ApiError> {
    let caller = caller(state, req).await?;
    require(&caller, Permission::RecordingView)?;
    let org = caller.org_id;
    blocking(state, move |s| s.conversation_details(org, id))
        .await?
        .ok_or(ApiError::NotFound)
}

/// `GET /api/v2/conversations/{id}/recordingmetadata`.
pub async fn recording_metadata(
    state: &AppState,
    req: &Req,
    id: ConversationId,
) -> Result<Resp, ApiError> {
    let d = details(state, req, id).await?;
    let list: Vec<Recording> = d.recordings.iter().map(|r| recording(&d, r)).collect();
    Ok(json(StatusCode::OK, &list))
}

/// `GET /api/v2/conversations/{id}/recordings/{recordingId}`.
pub async fn get_recording(
    state: &AppState,
    req: &Req,
    conv: ConversationId,
    rec: RecordingId,
) -> Result<Resp, ApiError> {
    let d = details(state, req, conv).await?;
    let r = d
        .recordings
        .iter()
        .find(|r| r.id == rec)
        .ok_or(ApiError::NotFound)?;
    Ok(json(StatusCode::OK, &recording(&d, r)))
}

/// `PUT /api/v2/conversations/{id}/recordings/{recordingId}`: updates the `deleteDate` under
/// rule 4 and answers the updated Recording. The body is a partial Recording: absent fields
/// stay as they are and `deleteDate: null` clears the date.
pub async fn put_recording(
    state: &AppState,
    req: &Req,
    conv: ConversationId,
    rec: RecordingId,
) -> Result<Resp, ApiError> {
    let caller = caller(state, req).await?;
    let body: RecordingUpdate = req.json()?;
    let d = details(state, req, conv).await?;
    let current = d
        .recordings
        .iter()
        .find(|r| r.id == rec)
        .ok_or(ApiError::NotFound)?;
    let change = body
        .delete_date_change(current.delete_date)
        .map_err(|e| ApiError::BadRequest(e.to_string()))?;
    if let Some(date) = change {
        let (org, perms, ctx) = (
            caller.org_id,
            caller.permissions,
            audit_context(&caller, req),
        );
        let outcome = blocking(state, move |s| {
            crate::usecase::deletion::set_delete_date(s, org, perms, rec, date, &ctx)
        })
        .await?;
        deletion_outcome(state, outcome).await?;
    }
    let d = details(state, req, conv).await?;
    let r = d
        .recordings
        .iter()
        .find(|r| r.id == rec)
        .ok_or(ApiError::NotFound)?;
    Ok(json(StatusCode::OK, &recording(&d, r)))
}

fn message(e: &AuditEvent) -> AuditLogMessage {
    let (user, level) = match &e.actor {
        Actor::User { id, .. } => (
            Some(AddressableEntityRef {
                id: id.to_string(),
                self_uri: format!("/api/v2/users/{id}"),
            }),
            "USER",
        ),
        Actor::System => (None, "SYSTEM"),
    };
    let entity_path = match e.entity_type {
        EntityType::Conversation => "conversations",
        EntityType::Recording => "recordings",
        EntityType::User => "users",
        EntityType::RetentionPolicy => "recording/mediaretentionpolicies",
        EntityType::Hold => "holdfast/holds",
        EntityType::Organization => "organizations",
    };
    let mut context = serde_json::Map::new();
    if let Some(reason) = &e.details.reason {
        context.insert("reason".to_owned(), reason.clone().into());
    }
    if !e.details.recordings.is_empty() {
        let ids: Vec<String> = e.details.recordings.iter().map(|r| r.to_string()).collect();
        context.insert("recordingIds".to_owned(), ids.join(",").into());
    }
    for (key, value) in [
        ("oldDeleteDate", &e.details.old_date),
        ("newDeleteDate", &e.details.new_date),
        ("message", &e.details.message),
        ("holdId", &e.details.hold),
    ] {
        if let Some(v) = value {
            context.insert(key.to_owned(), v.clone().into());
        }
    }
    AuditLogMessage {
        id: format!("{}-{}", e.org, e.seq),
        user,
        remote_ip: e.client.ip.clone().map(|ip| vec![ip]),
        service_name: "Quality".to_owned(),
        level: level.to_owned(),
        event_date: e.time,
        action: e.action.as_str().to_owned(),
        entity: AddressableEntityRef {
            id: e.entity_id.clone(),
            self_uri: format!("/api/v2/{entity_path}/{}", e.entity_id),
        },
        entity_type: e.entity_type.as_str().to_owned(),
        context,
    }
}

/// Every entity type, for reading a Genesys `EntityType` filter.
const ENTITY_TYPES: &[EntityType] = &[
    EntityType::Conversation,
    EntityType::Recording,
    EntityType::User,
    EntityType::RetentionPolicy,
    EntityType::Hold,
    EntityType::Organization,
];

/// `POST /api/v2/audits/query/realtime`.
pub async fn audit_query(state: &AppState, req: &Req) -> Result<Resp, ApiError> {
    let caller = caller(state, req).await?;
    require(&caller, Permission::AuditView)?;
    let body: AuditQueryRequest = req.json()?;
    if body.service_name != "Quality" {
        return Err(ApiError::BadRequest(
            "serviceName must be Quality".to_owned(),
        ));
    }
    let (start, end) = body
        .interval
        .split_once('/')
        .and_then(|(a, b)| {
            Some((
                holdfast_core::time::parse(a)?,
                holdfast_core::time::parse(b)?,
            ))
        })
        .ok_or_else(|| {
            ApiError::BadRequest("interval must be two ISO-8601 instants: start/end".to_owned())
        })?;
    let page_size = body.page_size.unwrap_or(25);
    let page_number = body.page_number.unwrap_or(1);
    if !(1..=MAX_AUDIT_PAGE).contains(&page_size) || page_number == 0 {
        return Err(ApiError::BadRequest(format!(
            "pageSize must be 1 to {MAX_AUDIT_PAGE} and pageNumber at least 1"
        )));
    }
    // Filters all hold (AND): two different values for one property match nothing.
    let mut filter = AuditFilter {
        from: Some(start),
        to: Some(end),
        offset: (u64::from(page_number) - 1) * u64::from(page_size),
        limit: Some(u64::from(page_size)),
        ..AuditFilter::default()
    };
    let mut contradiction = false;
    let mut set = |slot: &mut Option<String>, value: &str| match slot {
        Some(held) if held != value => contradiction = true,
        _ => *slot = Some(value.to_owned()),
    };
    let mut action = None;
    let mut entity_type = None;
    for f in &body.filters {
        let value = f.value.as_str();
        match f.property.as_str() {
            "Action" => {
                AuditAction::parse(value)
                    .ok_or_else(|| ApiError::BadRequest(format!("unknown Action '{value}'")))?;
                set(&mut action, value);
            }
            "EntityType" => set(&mut entity_type, value),
            "EntityId" => set(&mut filter.mentions, value),
            "UserId" => set(&mut filter.actor_id, value),
            other => {
                return Err(ApiError::BadRequest(format!(
                    "unknown filter property '{other}'"
                )));
            }
        }
    }
    filter.action = action.as_deref().and_then(AuditAction::parse);
    if let Some(kind) = &entity_type {
        // An entity type Holdfast does not have matches nothing.
        filter.entity_type = ENTITY_TYPES.iter().copied().find(|t| t.as_str() == kind);
        contradiction |= filter.entity_type.is_none();
    }
    let org = caller.org_id;
    let (events, total) = match contradiction {
        true => (Vec::new(), 0),
        false => blocking(state, move |s| s.audit_page(org, &filter)).await?,
    };
    let entities: Vec<AuditLogMessage> = events.iter().map(|(e, _)| message(e)).collect();
    Ok(json(
        StatusCode::OK,
        &AuditQueryResponse {
            entities,
            page_size,
            page_number,
            total,
            page_count: u32::try_from(total.div_ceil(u64::from(page_size))).unwrap_or(u32::MAX),
        },
    ))
}
