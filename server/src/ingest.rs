//! Ingest: conversations and recordings arriving from the contact center, through the API or
//! `holdfast import` (JSON lines). Media and attachment bytes are stored before the database
//! commit, so a crash leaves at most an orphan object.

use std::path::Path;

use holdfast_core::api::{Base64Text, IngestConversation};
use holdfast_core::{OrgId, RecordingId};
use sha2::{Digest, Sha256};

use crate::auth::{base64_decode, hex};
use crate::media::{self, MediaStore, Spooled};
use crate::store::{NewAttachment, NewConversation, NewRecording};

/// The longest free text accepted on a conversation (queue, agent, party, wrap-up), in chars.
const TEXT_MAX: usize = 500;

/// Why an ingested conversation is refused.
#[derive(Debug, PartialEq, Eq)]
pub struct IngestRefusal {
    pub message: String,
    /// Media storage failed (not the input): answered 503, not 400.
    pub storage: bool,
}

impl IngestRefusal {
    pub fn new(message: String) -> IngestRefusal {
        IngestRefusal {
            message,
            storage: false,
        }
    }
}

impl std::fmt::Display for IngestRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

pub(crate) fn text(field: &str, value: &Option<String>) -> Result<(), IngestRefusal> {
    match value {
        Some(v) if v.chars().count() > TEXT_MAX || v.chars().any(char::is_control) => {
            Err(IngestRefusal::new(format!(
                "{field} is longer than {TEXT_MAX} characters or holds control characters"
            )))
        }
        _ => Ok(()),
    }
}

/// The base64 characters decoded at a time: a multiple of 4, so every slice but the last is
/// whole groups.
const DECODE_SLICE: usize = 64 * 1024;

/// A new relative path for a file of a recording: the recording's id and a fresh random part,
/// so that a refused ingest that names an existing recording never writes over, nor then
/// removes, the file of the recording that holds the id (which may be protected).
pub(crate) fn media_path(org: OrgId, rec: RecordingId, kind: &str) -> String {
    format!("{org}/{rec}.{kind}-{}", uuid::Uuid::new_v4())
}

/// Decodes `text` into a spool file a slice at a time, so that only the text (borrowed from
/// the request body) is ever held whole, and returns the file's size and SHA-256 (hex).
fn write_base64(
    file: &mut std::fs::File,
    what: &str,
    text: &Base64Text<'_>,
) -> Result<(u64, String), IngestRefusal> {
    let text = text.0.trim();
    let invalid = || IngestRefusal::new(format!("{what} is not valid base64"));
    // Base64 is ASCII; checked first so that slicing at any byte is at a character boundary.
    if !text.is_ascii() {
        return Err(invalid());
    }
    let mut size = 0u64;
    let mut digest = Sha256::new();
    for slice in text.as_bytes().chunks(DECODE_SLICE) {
        // ASCII, so every slice is valid UTF-8.
        let slice = std::str::from_utf8(slice).map_err(|_| invalid())?;
        let bytes = base64_decode(slice).ok_or_else(invalid)?;
        std::io::Write::write_all(file, &bytes).map_err(store_error)?;
        digest.update(&bytes);
        size += bytes.len() as u64;
    }
    Ok((size, hex(&digest.finalize())))
}

/// Where an ingest may read files it names (`mediaFile`, an attachment's `file`).
#[derive(Clone, Copy, Debug)]
pub enum Files<'a> {
    /// Over HTTP: nowhere. A request must never make the server read its own files.
    Refused,
    /// `holdfast import`: relative to the JSON lines file's directory.
    RelativeTo(&'a Path),
}

impl Files<'_> {
    fn resolve(self, file: &str) -> Result<std::path::PathBuf, IngestRefusal> {
        match self {
            Files::Refused => Err(IngestRefusal::new(
                "mediaFile and file are for `holdfast import`; over HTTP send the bytes in base64, \
                 or upload them with PUT /api/recordings/{id}/media"
                    .to_owned(),
            )),
            Files::RelativeTo(dir) => {
                let relative = Path::new(file);
                match relative.is_absolute() || file.is_empty() {
                    true => Err(IngestRefusal::new(format!(
                        "{file}: name media files relative to the JSON lines file"
                    ))),
                    false => Ok(dir.join(relative)),
                }
            }
        }
    }
}

/// Where a stored file's bytes come from.
enum Source<'t, 'a> {
    Base64(&'t Base64Text<'a>),
    File(std::path::PathBuf),
}

impl Source<'_, '_> {
    /// Stores the bytes under the new key `rel` (listed in `written` once stored, so that a
    /// refusal later removes them); returns their size and SHA-256 (hex).
    fn store(
        self,
        media: &dyn MediaStore,
        rel: &str,
        what: &str,
        written: &mut Vec<String>,
    ) -> Result<(u64, String), IngestRefusal> {
        let (spooled, mut file) = Spooled::create(media).map_err(store_error)?;
        let (size, sha256) = match self {
            Source::Base64(text) => write_base64(&mut file, what, text)?,
            Source::File(from) => {
                let mut source = std::fs::File::open(&from)
                    .map_err(|e| IngestRefusal::new(format!("{}: {e}", from.display())))?;
                media::copy_hashing(&mut source, &mut file)
                    .map_err(|e| IngestRefusal::new(format!("copying {}: {e}", from.display())))?
            }
        };
        // The bytes are on disk before they are stored, and stored before the database says
        // they exist.
        file.sync_all().map_err(store_error)?;
        drop(file);
        media
            .put(rel, &spooled.path, size, &sha256)
            .map_err(store_error)?;
        written.push(rel.to_owned());
        Ok((size, sha256))
    }
}

fn store_error(e: std::io::Error) -> IngestRefusal {
    IngestRefusal {
        message: format!("could not store media: {e}"),
        storage: true,
    }
}

/// Checks a conversation and writes its files; returns what to insert. On a refusal, files
/// already written for it are listed in `written` for the caller to remove.
pub fn prepare(
    media: &dyn MediaStore,
    org: OrgId,
    c: IngestConversation<'_>,
    files: Files<'_>,
    written: &mut Vec<String>,
) -> Result<NewConversation, IngestRefusal> {
    if c.end_time < c.start_time {
        return Err(IngestRefusal::new(format!(
            "conversation {}: endTime is before startTime",
            c.id
        )));
    }
    for (field, value) in [
        ("queue", &c.queue),
        ("remoteParty", &c.remote_party),
        ("wrapUp", &c.wrap_up),
    ] {
        text(field, value)?;
    }
    for agent in &c.agents {
        text("agents", &Some(agent.clone()))?;
    }
    let mut recordings = Vec::with_capacity(c.recordings.len());
    for r in c.recordings {
        let mut size = None;
        let mut path = None;
        let mut sha256 = None;
        let source = match (&r.media_base64, &r.media_file) {
            (Some(_), Some(_)) => {
                return Err(IngestRefusal::new(format!(
                    "recording {}: give mediaBase64 or mediaFile, not both",
                    r.id
                )));
            }
            (Some(data), None) => Some(Source::Base64(data)),
            (None, Some(file)) => Some(Source::File(files.resolve(file)?)),
            (None, None) => None,
        };
        if let Some(source) = source {
            let rel = media_path(org, r.id, "media");
            let (bytes, digest) = source.store(media, &rel, "mediaBase64", written)?;
            size = Some(bytes);
            sha256 = Some(digest);
            path = Some(rel);
        }
        let mut attachments = Vec::with_capacity(r.attachments.len());
        for a in r.attachments {
            text("attachment name", &Some(a.name.clone()))?;
            text("attachment contentType", &Some(a.content_type.clone()))?;
            let id = uuid::Uuid::new_v4().to_string();
            let rel = media_path(org, r.id, "att");
            let source = match (&a.data_base64, &a.file) {
                (Some(data), None) => Source::Base64(data),
                (None, Some(file)) => Source::File(files.resolve(file)?),
                _ => {
                    return Err(IngestRefusal::new(format!(
                        "attachment {}: give dataBase64 or file, one of them",
                        a.name
                    )));
                }
            };
            let (size_bytes, sha256) =
                source.store(media, &rel, "attachment dataBase64", written)?;
            attachments.push(NewAttachment {
                id,
                name: a.name,
                // Kept only as an inert type: an attachment comes from outside the company.
                content_type: holdfast_core::content::inert(&a.content_type),
                size_bytes,
                path: rel,
                sha256,
            });
        }
        let size = size.or_else(|| r.transcript.as_ref().map(|t| t.len() as u64));
        recordings.push(NewRecording {
            id: r.id,
            media: r.media,
            role: r.role,
            created_at: r.created_at.unwrap_or(c.end_time),
            duration_ms: r.duration_ms,
            size_bytes: size,
            deleted: false,
            delete_date: None,
            transcript: r.transcript,
            media_path: path,
            media_sha256: sha256,
            content_type: r
                .content_type
                .filter(|t| t.len() <= 100 && t.is_ascii())
                .map(|t| holdfast_core::content::inert(&t)),
            attachments,
        });
    }
    Ok(NewConversation {
        id: c.id,
        start_time: c.start_time,
        end_time: c.end_time,
        direction: c.direction,
        queue: c.queue,
        agents: c.agents,
        remote_party: c.remote_party,
        wrap_up: c.wrap_up,
        recordings,
        protected_by: None,
    })
}

/// Conversations per transaction when importing.
pub const IMPORT_BATCH: usize = 200;

/// How an import ended.
#[derive(Debug, PartialEq, Eq)]
pub struct ImportReport {
    /// Conversations committed, all from the first lines of the input.
    pub conversations: usize,
    pub recordings: usize,
    /// The first line that could not be imported, and why; nothing from it on was imported.
    pub failed: Option<(usize, String)>,
}

/// Imports JSON lines of [`IngestConversation`] in batches, calling `progress` with the bytes
/// read and conversations committed after each batch. Blank lines are skipped.
pub fn import(
    store: &dyn crate::store::Store,
    media: &dyn MediaStore,
    org: OrgId,
    files: Files<'_>,
    input: impl std::io::BufRead,
    mut progress: impl FnMut(u64, usize),
) -> ImportReport {
    let mut report = ImportReport {
        conversations: 0,
        recordings: 0,
        failed: None,
    };
    let mut batch = Vec::with_capacity(IMPORT_BATCH);
    let mut written = Vec::new();
    let mut first_line = 1;
    let mut bytes = 0u64;
    let flush =
        |batch: &mut Vec<NewConversation>, written: &mut Vec<String>, report: &mut ImportReport| {
            let n = batch.len();
            let result = crate::usecase::ingest::ingest(store, org, batch);
            batch.clear();
            match result {
                Ok(recordings) => {
                    written.clear();
                    report.conversations += n;
                    report.recordings += recordings;
                    Ok(())
                }
                Err(e) => {
                    media::remove_files(media, written);
                    written.clear();
                    Err(e.to_string())
                }
            }
        };
    for (i, line) in input.lines().enumerate() {
        let number = i + 1;
        let line = match line {
            Ok(line) => line,
            Err(e) => {
                report.failed = Some((number, format!("could not read: {e}")));
                break;
            }
        };
        bytes += line.len() as u64 + 1;
        if line.trim().is_empty() {
            continue;
        }
        let parsed = serde_json::from_str::<IngestConversation>(&line)
            .map_err(|e| e.to_string())
            .and_then(|c| prepare(media, org, c, files, &mut written).map_err(|r| r.to_string()));
        match parsed {
            Ok(c) => batch.push(c),
            Err(e) => {
                media::remove_files(media, &written);
                // The lines of this batch before the bad one are not committed either.
                let why = match batch.is_empty() {
                    true => e,
                    false => format!(
                        "{e} (lines {first_line} to {} were not imported either)",
                        number - 1
                    ),
                };
                report.failed = Some((number, why));
                return report;
            }
        }
        if batch.len() == IMPORT_BATCH {
            if let Err(e) = flush(&mut batch, &mut written, &mut report) {
                report.failed = Some((first_line, e));
                return report;
            }
            first_line = number + 1;
            progress(bytes, report.conversations);
        }
    }
    if report.failed.is_none()
        && !batch.is_empty()
        && let Err(e) = flush(&mut batch, &mut written, &mut report)
    {
        report.failed = Some((first_line, e));
    }
    progress(bytes, report.conversations);
    report
}
