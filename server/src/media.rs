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

#[cfg(test)]
mod tests {
    use super::*;

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
