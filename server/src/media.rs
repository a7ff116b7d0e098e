//! Media and attachment files in the data directory. Files are removed only after the database
//! commit that deleted them: a crash in between leaves an orphan file, never a recording whose
//! bytes are gone while the database says it is available.

use std::path::{Component, Path, PathBuf};

use crate::store::{FileKind, Store};

/// The file for a stored relative path, refusing paths that would leave the media directory.
pub fn resolve(media_dir: &Path, relative: &str) -> Option<PathBuf> {
    let rel = Path::new(relative);
    let safe = rel.components().all(|c| matches!(c, Component::Normal(_)));
    (safe && !relative.is_empty()).then(|| media_dir.join(rel))
}

/// Removes committed deletions' files; a file already gone is not an error.
pub fn remove_files(media_dir: &Path, files: &[String]) {
    for file in files {
        let Some(path) = resolve(media_dir, file) else {
            tracing::warn!(
                file,
                "refusing to remove a path outside the media directory"
            );
            continue;
        };
        match std::fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                tracing::error!(path = %path.display(), error = %e, "could not remove a deleted recording's file")
            }
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
    /// Files in the media directory the database does not name (relative paths).
    pub extra: Vec<String>,
}

impl MediaReport {
    /// Nothing missing, changed or unknown.
    pub fn sound(&self) -> bool {
        self.missing.is_empty() && self.mismatched.is_empty() && self.extra.is_empty()
    }
}

/// The SHA-256 (hex) of a file, read a slice at a time.
pub fn sha256_of(path: &Path) -> std::io::Result<String> {
    let mut file = std::fs::File::open(path)?;
    copy_hashing(&mut file, &mut std::io::sink()).map(|(_, sha)| sha)
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

/// Reads every file the database names (every organization) and every file of the media
/// directory: which are missing, changed since they arrived, or unknown to the database.
pub fn verify(store: &dyn Store, media_dir: &Path) -> Result<MediaReport, String> {
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
                let Some(path) = resolve(media_dir, &object.path) else {
                    report.missing.push(problem);
                    continue;
                };
                let actual = match sha256_of(&path) {
                    Ok(sha) => sha,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                        report.missing.push(problem);
                        continue;
                    }
                    Err(e) => return Err(format!("reading {}: {e}", path.display())),
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
    let mut files = Vec::new();
    walk(media_dir, media_dir, &mut files)
        .map_err(|e| format!("listing {}: {e}", media_dir.display()))?;
    files.sort();
    report.extra = files.into_iter().filter(|f| !named.contains(f)).collect();
    Ok(report)
}

/// Every file under `dir`, as paths relative to `root` with `/` between parts.
fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) -> std::io::Result<()> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && dir == root => return Ok(()),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let entry = entry?;
        let path = entry.path();
        if entry.file_type()?.is_dir() {
            walk(root, &path, out)?;
        } else if let Ok(rel) = path.strip_prefix(root) {
            let parts: Vec<String> = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            out.push(parts.join("/"));
        }
    }
    Ok(())
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
