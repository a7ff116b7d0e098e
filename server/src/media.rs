//! Media and attachment files in the data directory. Files are removed only after the database
//! commit that deleted them: a crash in between leaves an orphan file, never a recording whose
//! bytes are gone while the database says it is available.

use std::path::{Component, Path, PathBuf};

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
