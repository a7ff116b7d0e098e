//! Uploads: a recording's media (`PUT /api/recordings/{id}/media`) or an attachment of it
//! (`POST /api/recordings/{id}/attachments?name=`) as the raw request body, written to the media
//! directory a frame at a time as it arrives, never held whole, its SHA-256 taken on the way.
//!
//! Everything that can refuse an upload is checked before a byte of its body is read: the
//! caller and its permission, the CSRF proof of a cookie session, a declared size within the
//! limit, and whether the recording can take it. The spool file is synced and stored under a
//! new key, and only then does the database name it, in one transaction that checks the
//! recording again; a refusal or a broken upload removes it. An upload to a protected
//! conversation gets its legal hold before it is acknowledged.

use bytes::Buf;
use holdfast_core::{OrgId, Permission, RecordingId};
use http_body_util::BodyExt;
use hyper::StatusCode;
use hyper::body::Body;
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use crate::error::ApiError;
use crate::handler::{AppState, Req, Resp, blocking, caller, check_same_origin, json, require};
use crate::media::Spooled;
use crate::store::{MediaSlot, NewAttachment, StoredMedia};
use crate::{ingest, media, usecase};

/// What an upload adds to a recording.
#[derive(Clone, Copy, Debug)]
pub enum Target {
    Media(RecordingId),
    Attachment(RecordingId),
}

/// A file written and synced, not yet named by the database.
struct Received {
    relative: String,
    size: u64,
    sha256: String,
}

/// Receives one upload; `head` is the request without its body, `body` the body unread.
pub async fn receive<B>(
    state: &AppState,
    head: &Req,
    body: B,
    target: Target,
) -> Result<Resp, ApiError>
where
    B: Body,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    let caller = caller(state, head).await?;
    if head.header("authorization").is_none() {
        check_same_origin(head)?;
    }
    require(&caller, Permission::Admin)?;
    let declared = head
        .header("content-length")
        .ok_or(ApiError::LengthRequired)?
        .trim()
        .parse::<u64>()
        .map_err(|_| ApiError::BadRequest("Content-Length is not a number".to_owned()))?;
    if declared > crate::routes::UPLOAD_MAX_BODY {
        return Err(ApiError::PayloadTooLarge {
            limit: usize::try_from(crate::routes::UPLOAD_MAX_BODY).unwrap_or(usize::MAX),
        });
    }
    let content_type = match head.header("content-type") {
        None => "application/octet-stream".to_owned(),
        Some(t) if t.len() <= 100 && t.is_ascii() => holdfast_core::content::inert(t),
        Some(_) => {
            return Err(ApiError::BadRequest(
                "Content-Type is longer than 100 characters or not ASCII".to_owned(),
            ));
        }
    };
    let org = caller.org_id;
    let (recording, name) = match target {
        Target::Media(r) => (r, None),
        Target::Attachment(r) => (r, Some(attachment_name(head)?)),
    };
    let slot = blocking(state, move |s| {
        usecase::ingest::media_slot(s, org, recording)
    })
    .await?;
    refuse(target, slot)?;

    let kind = match target {
        Target::Media(_) => "media",
        Target::Attachment(_) => "att",
    };
    let received = write(state, org, recording, kind, body, declared).await?;
    let media = state.media.clone();
    let remove = move |relative: &str| {
        let (media, files) = (media.clone(), vec![relative.to_owned()]);
        tokio::task::spawn_blocking(move || media::remove_files(media.as_ref(), &files))
    };
    let answer = match name {
        None => {
            let stored = StoredMedia {
                path: received.relative.clone(),
                size_bytes: received.size,
                sha256: received.sha256.clone(),
                content_type,
            };
            let slot = blocking(state, move |s| {
                usecase::ingest::store_media(s, org, recording, &stored)
            })
            .await;
            (slot, serde_json::json!({}))
        }
        Some(name) => {
            let id = uuid::Uuid::new_v4().to_string();
            let attachment = NewAttachment {
                id: id.clone(),
                name,
                content_type,
                size_bytes: received.size,
                path: received.relative.clone(),
                sha256: received.sha256.clone(),
            };
            let slot = blocking(state, move |s| {
                usecase::ingest::add_attachment(s, org, recording, &attachment)
            })
            .await;
            (slot, serde_json::json!({"attachmentId": id}))
        }
    };
    let (slot, mut out) = answer;
    let slot = match slot {
        Ok(slot) => slot,
        Err(e) => {
            let _ = remove(&received.relative).await;
            return Err(e);
        }
    };
    let added = match target {
        Target::Media(_) => slot == MediaSlot::Free,
        Target::Attachment(_) => matches!(slot, MediaSlot::Free | MediaSlot::Taken),
    };
    if !added {
        // Changed while the body arrived (deleted, or another upload was first).
        let _ = remove(&received.relative).await;
        refuse(target, slot)?;
    }
    // Into a protected conversation: held before it is acknowledged.
    crate::handler::settle_marked(state, org).await?;
    out["recordingId"] = serde_json::json!(recording.to_string());
    out["sizeBytes"] = serde_json::json!(received.size);
    out["sha256"] = serde_json::json!(received.sha256);
    Ok(json(StatusCode::CREATED, &out))
}

/// The refusal for a recording that cannot take the upload, if it cannot.
fn refuse(target: Target, slot: MediaSlot) -> Result<(), ApiError> {
    match (target, slot) {
        (_, MediaSlot::NotFound) => Err(ApiError::NotFound),
        (_, MediaSlot::Deleted) => Err(ApiError::Conflict(
            "the recording is deleted: it takes no files".to_owned(),
        )),
        (Target::Media(_), MediaSlot::Taken) => Err(ApiError::Conflict(
            "the recording has its media already; media is written once".to_owned(),
        )),
        _ => Ok(()),
    }
}

/// The `name` query parameter of an attachment upload.
fn attachment_name(head: &Req) -> Result<String, ApiError> {
    let bad = || ApiError::BadRequest("name the attachment: ?name= (URL-encoded)".to_owned());
    let raw = head.query_param("name").ok_or_else(bad)?;
    let name = holdfast_core::view::percent_decode(raw).map_err(|_| bad())?;
    if name.trim().is_empty() {
        return Err(bad());
    }
    ingest::text("name", &Some(name.clone())).map_err(|r| ApiError::BadRequest(r.message))?;
    Ok(name)
}

/// Writes the body to a new file as it arrives, within the body deadline for its size.
async fn write<B>(
    state: &AppState,
    org: OrgId,
    recording: RecordingId,
    kind: &str,
    body: B,
    declared: u64,
) -> Result<Received, ApiError>
where
    B: Body,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    let relative = ingest::media_path(org, recording, kind);
    let io = |e: std::io::Error| {
        tracing::error!(error = %e, "could not store an upload");
        ApiError::MediaStorage(
            "media storage did not take the upload; nothing was kept: try again".to_owned(),
        )
    };
    let media = state.media.clone();
    let (spooled, file) = tokio::task::spawn_blocking(move || Spooled::create(media.as_ref()))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .map_err(io)?;
    let mut file = tokio::fs::File::from_std(file);
    let deadline = state
        .body_time
        .deadline(usize::try_from(declared).unwrap_or(usize::MAX));
    let copied = tokio::time::timeout(deadline, copy(body, &mut file, declared)).await;
    let (size, sha256) = match copied {
        Ok(Ok(done)) => {
            file.sync_all().await.map_err(io)?;
            done
        }
        Ok(Err(e)) => return Err(e),
        Err(_) => return Err(ApiError::RequestTimeout),
    };
    drop(file);
    // Stored under its new key; the spool file goes when `spooled` is dropped, either way.
    let (media, key, digest) = (state.media.clone(), relative.clone(), sha256.clone());
    tokio::task::spawn_blocking(move || media.put(&key, &spooled.path, size, &digest))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .map_err(io)?;
    Ok(Received {
        relative,
        size,
        sha256,
    })
}

/// Copies the body into the file frame by frame; returns its size and SHA-256 (hex).
async fn copy<B>(
    body: B,
    file: &mut tokio::fs::File,
    declared: u64,
) -> Result<(u64, String), ApiError>
where
    B: Body,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    let mut body = std::pin::pin!(body);
    let mut digest = Sha256::new();
    let mut size = 0u64;
    while let Some(frame) = body.frame().await {
        let frame =
            frame.map_err(|e| ApiError::BadRequest(format!("could not read the body: {e}")))?;
        if let Ok(mut data) = frame.into_data() {
            // Hyper's frames are `Bytes` already: no copy.
            let data = data.copy_to_bytes(data.remaining());
            size += data.len() as u64;
            if size > declared {
                return Err(ApiError::BadRequest(
                    "the body is longer than its Content-Length".to_owned(),
                ));
            }
            digest.update(&data);
            file.write_all(&data)
                .await
                .map_err(|e| ApiError::Internal(format!("could not store the upload: {e}")))?;
        }
    }
    if size != declared {
        return Err(ApiError::BadRequest(format!(
            "the body ended after {size} of the {declared} bytes its Content-Length declares"
        )));
    }
    file.flush()
        .await
        .map_err(|e| ApiError::Internal(format!("could not store the upload: {e}")))?;
    Ok((size, crate::auth::hex(&digest.finalize())))
}
