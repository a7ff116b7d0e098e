//! Media and attachment bytes, behind one interface ([`MediaStore`]): a directory of this
//! machine (the default) or an S3-compatible bucket. New bytes are written to a spool file,
//! hashed and synced, then stored under a new key before the database commit names them.
//! Objects are removed only after the commit that deleted them: a crash in between leaves an
//! orphan object, never a recording whose bytes are gone while the database says it is
//! available. With an Object Lock bucket, protection is mirrored as legal holds ([`holds`]).

use std::future::Future;
use std::io;
use std::path::{Component, Path, PathBuf};
use std::pin::Pin;

use crate::body::RespBody;
use crate::store::{FileKind, Store};

pub mod holds;
mod local;
pub mod s3;

pub use local::LocalMedia;
pub use s3::{S3Media, S3Settings};

/// An answer a media store gives later (a download, from any runtime).
pub type Pending<'a, T> = Pin<Box<dyn Future<Output = io::Result<T>> + Send + 'a>>;

/// Where media and attachment bytes are kept. Keys are relative (`{org}/{recording}.media-…`);
/// the synchronous calls block, so they run on the blocking pool or the command line's thread.
pub trait MediaStore: Send + Sync {
    /// The directory or `s3://bucket/prefix/`, for logs and messages.
    fn describe(&self) -> String;
    /// Where new bytes are written before they are stored.
    fn spool_dir(&self) -> &Path;
    /// Stores the synced spool `file` (`size` bytes, SHA-256 hex) under the new `key`.
    fn put(&self, key: &str, file: &Path, size: u64, sha256: &str) -> io::Result<()>;
    /// Removes an object, lifting its legal hold first; one already gone is not an error.
    /// Called only after the database committed that its recording is deleted.
    fn remove(&self, key: &str) -> io::Result<()>;
    /// Whether objects carry legal holds (an Object Lock bucket).
    fn keeps_holds(&self) -> bool;
    /// Sets (`on`) or lifts the legal hold of each object; returns the ones that failed.
    fn set_holds(&self, keys: &[String], on: bool) -> Vec<(String, io::Error)>;
    /// Whether storage holds the object now.
    fn held(&self, key: &str) -> io::Result<bool>;
    /// Every stored key, sorted.
    fn list(&self) -> io::Result<Vec<String>>;
    /// Size and SHA-256 (hex) of the stored bytes, read whole; `NotFound` when missing.
    fn hash(&self, key: &str) -> io::Result<(u64, String)>;
    /// The stored size, for a download's range.
    fn size<'a>(&'a self, key: &'a str) -> Pending<'a, u64>;
    /// `len` bytes from `start`, streamed as the client takes them.
    fn read<'a>(&'a self, key: &'a str, start: u64, len: u64) -> Pending<'a, RespBody>;
}

/// A new file in the spool directory, removed when dropped: once stored, its bytes live under
/// their key; if anything failed, nothing is left behind.
pub struct Spooled {
    pub path: PathBuf,
}

impl Spooled {
    /// A new, empty spool file of `media`, opened for writing.
    pub fn create(media: &dyn MediaStore) -> io::Result<(Spooled, std::fs::File)> {
        let path = media
            .spool_dir()
            .join(format!("{}.part", uuid::Uuid::new_v4()));
        let file = std::fs::File::create_new(&path)?;
        Ok((Spooled { path }, file))
    }
}

/// How old a spool file must be before a new process takes it for a crash's leftover: older
/// than any upload can last, so that another process's upload in flight is never removed.
const SPOOL_LEFTOVER: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

/// Makes the spool directory and removes what crashes left in it.
pub(crate) fn open_spool(dir: &Path) -> io::Result<()> {
    std::fs::create_dir_all(dir)?;
    for entry in std::fs::read_dir(dir)?.flatten() {
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .is_ok_and(|t| t.elapsed().is_ok_and(|age| age > SPOOL_LEFTOVER));
        if old && entry.file_name().to_string_lossy().ends_with(".part") {
            let _ = std::fs::remove_file(entry.path());
        }
    }
    Ok(())
}

impl Drop for Spooled {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// The file for a stored relative path, refusing paths that would leave the media directory.
pub fn resolve(media_dir: &Path, relative: &str) -> Option<PathBuf> {
    let rel = Path::new(relative);
    let safe = rel.components().all(|c| matches!(c, Component::Normal(_)));
    (safe && !relative.is_empty()).then(|| media_dir.join(rel))
}

/// Removes committed deletions' objects; one already gone is not an error. A failure is
/// logged: the object stays, unknown to the database, until `holdfast media verify` reports it.
pub fn remove_files(media: &dyn MediaStore, files: &[String]) {
    for file in files {
        if let Err(e) = media.remove(file) {
            tracing::error!(file, media = %media.describe(), error = %e, "could not remove a deleted recording's object");
        }
    }
}

/// A stored file that is not as the database says.
#[derive(Clone, PartialEq, Eq, Debug, serde::Serialize)]
pub struct FileProblem {
    /// `media` or `attachment`.
    pub kind: &'static str,
    pub org: String,
    /// The recording's or attachment's id.
    pub id: String,
    pub path: String,
}

/// What `holdfast media verify` found.
#[derive(Clone, PartialEq, Eq, Debug, Default, serde::Serialize)]
pub struct MediaReport {
    /// Files the database names, read whole.
    pub checked: u64,
    /// Named by the database, not in the media directory.
    pub missing: Vec<FileProblem>,
    /// Their bytes no longer have the SHA-256 taken when they arrived.
    pub mismatched: Vec<FileProblem>,
    /// Stored before checksums were taken: present, but nothing to check them against.
    pub unhashed: Vec<FileProblem>,
    /// Objects in media storage the database does not name (keys).
    pub extra: Vec<String>,
}

impl MediaReport {
    /// Nothing missing, changed or unknown.
    pub fn sound(&self) -> bool {
        self.missing.is_empty() && self.mismatched.is_empty() && self.extra.is_empty()
    }
}

/// Copies `from` into `to` a slice at a time; returns the size and SHA-256 (hex) of what
/// passed.
pub fn copy_hashing(
    from: &mut impl std::io::Read,
    to: &mut impl std::io::Write,
) -> std::io::Result<(u64, String)> {
    use sha2::Digest;
    let mut digest = sha2::Sha256::new();
    let mut size = 0u64;
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let n = from.read(&mut buf)?;
        if n == 0 {
            break;
        }
        to.write_all(&buf[..n])?;
        digest.update(&buf[..n]);
        size += n as u64;
    }
    Ok((size, crate::auth::hex(&digest.finalize())))
}

/// Reads every object the database names (every organization) and lists media storage: which
/// are missing, changed since they arrived, or unknown to the database.
pub fn verify(store: &dyn Store, media: &dyn MediaStore) -> Result<MediaReport, String> {
    let mut report = MediaReport::default();
    let mut named = std::collections::HashSet::new();
    for kind in [FileKind::Media, FileKind::Attachment] {
        let mut after: Option<(String, String)> = None;
        loop {
            let page = store
                .stored_files(kind, after.as_ref(), 1000)
                .map_err(|e| e.to_string())?;
            let Some(last) = page.last() else {
                break;
            };
            after = Some((last.org.clone(), last.id.clone()));
            for object in page {
                let problem = FileProblem {
                    kind: match object.kind {
                        FileKind::Media => "media",
                        FileKind::Attachment => "attachment",
                    },
                    org: object.org,
                    id: object.id,
                    path: object.path.clone(),
                };
                named.insert(object.path.clone());
                let actual = match media.hash(&object.path) {
                    Ok((_, sha)) => sha,
                    Err(e)
                        if matches!(
                            e.kind(),
                            io::ErrorKind::NotFound | io::ErrorKind::InvalidInput
                        ) =>
                    {
                        report.missing.push(problem);
                        continue;
                    }
                    Err(e) => return Err(format!("reading {}: {e}", object.path)),
                };
                report.checked += 1;
                match object.sha256 {
                    None => report.unhashed.push(problem),
                    Some(stored) if !stored.eq_ignore_ascii_case(&actual) => {
                        report.mismatched.push(problem)
                    }
                    Some(_) => {}
                }
            }
        }
    }
    let files = media
        .list()
        .map_err(|e| format!("listing {}: {e}", media.describe()))?;
    report.extra = files.into_iter().filter(|f| !named.contains(f)).collect();
    Ok(report)
}

/// The first and last byte of a single `Range: bytes=` request against a file of `size` bytes;
/// `None` when it cannot be satisfied (answered 416).
pub fn parse_range(header: &str, size: u64) -> Option<(u64, u64)> {
    let spec = header.trim().strip_prefix("bytes=")?;
    if spec.contains(',') || size == 0 {
        return None;
    }
    let (start, end) = spec.split_once('-')?;
    let (start, end) = match (start.trim(), end.trim()) {
        ("", suffix) => {
            let n: u64 = suffix.parse().ok()?;
            (size.saturating_sub(n), size - 1)
        }
        (start, "") => (start.parse().ok()?, size - 1),
        (start, end) => (start.parse().ok()?, end.parse::<u64>().ok()?.min(size - 1)),
    };
    (start <= end && start < size).then_some((start, end))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(parse_range("bytes=0-99", 1000), Some((0, 99)));
        assert_eq!(parse_range("bytes=900-", 1000), Some((900, 999)));
        assert_eq!(parse_range("bytes=-100", 1000), Some((900, 999)));
        assert_eq!(parse_range("bytes=990-2000", 1000), Some((990, 999)));
        assert_eq!(parse_range("bytes=1000-", 1000), None);
        assert_eq!(parse_range("bytes=5-1", 1000), None);
        assert_eq!(parse_range("bytes=0-1,5-6", 1000), None);
        assert_eq!(parse_range("items=0-1", 1000), None);
        assert_eq!(parse_range("bytes=x-", 1000), None);
    }

    #[test]
    fn paths_stay_inside_the_media_directory() {
        let root = Path::new("/data/media");
        assert_eq!(
            resolve(root, "ab/cd.wav"),
            Some(PathBuf::from("/data/media/ab/cd.wav"))
        );
        assert_eq!(resolve(root, "../secret"), None);
        assert_eq!(resolve(root, "/etc/passwd"), None);
        assert_eq!(resolve(root, ""), None);
    }
}
