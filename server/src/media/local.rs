//! Media in a directory of this machine: the default. It keeps no legal holds (any process with
//! file access can delete a file); the database's protection is the only guard.

use std::io;
use std::path::{Path, PathBuf};

use super::{MediaStore, Pending, copy_hashing, resolve};
use crate::body::RespBody;

/// Files under one directory, each at its key; new files are written in `.spool` beside them.
pub struct LocalMedia {
    dir: PathBuf,
    spool: PathBuf,
}

impl LocalMedia {
    /// The directory, made if missing.
    pub fn open(dir: PathBuf) -> io::Result<LocalMedia> {
        let spool = dir.join(".spool");
        super::open_spool(&spool)?;
        Ok(LocalMedia { dir, spool })
    }

    fn path(&self, key: &str) -> io::Result<PathBuf> {
        resolve(&self.dir, key).ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{key}: not a key inside the media directory"),
            )
        })
    }
}

impl MediaStore for LocalMedia {
    fn describe(&self) -> String {
        self.dir.display().to_string()
    }

    fn spool_dir(&self) -> &Path {
        &self.spool
    }

    fn put(&self, key: &str, file: &Path, _size: u64, _sha256: &str) -> io::Result<()> {
        let path = self.path(key)?;
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        // A link, not a rename: it never replaces a file already stored under the key.
        std::fs::hard_link(file, &path)
    }

    fn remove(&self, key: &str) -> io::Result<()> {
        match std::fs::remove_file(self.path(key)?) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            done => done,
        }
    }

    fn keeps_holds(&self) -> bool {
        false
    }

    fn set_holds(&self, _keys: &[String], _on: bool) -> Vec<(String, io::Error)> {
        Vec::new()
    }

    fn held(&self, _key: &str) -> io::Result<bool> {
        Ok(false)
    }

    fn list(&self) -> io::Result<Vec<String>> {
        let mut files = Vec::new();
        walk(&self.dir, &self.dir, &mut files)?;
        files.sort();
        Ok(files)
    }

    fn hash(&self, key: &str) -> io::Result<(u64, String)> {
        let mut file = std::fs::File::open(self.path(key)?)?;
        copy_hashing(&mut file, &mut io::sink())
    }

    fn size<'a>(&'a self, key: &'a str) -> Pending<'a, u64> {
        Box::pin(async move { Ok(tokio::fs::metadata(self.path(key)?).await?.len()) })
    }

    fn read<'a>(&'a self, key: &'a str, start: u64, len: u64) -> Pending<'a, RespBody> {
        Box::pin(async move { RespBody::file_range(self.path(key)?, start, len).await })
    }
}

/// Every file under `dir`, as paths relative to `root` with `/` between parts; the spool (and
/// any other dot-directory) left out.
fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) -> io::Result<()> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound && dir == root => return Ok(()),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let entry = entry?;
        let path = entry.path();
        if entry.file_type()?.is_dir() {
            if !entry.file_name().to_string_lossy().starts_with('.') {
                walk(root, &path, out)?;
            }
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
