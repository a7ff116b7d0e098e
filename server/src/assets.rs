//! The app's static files, read once at start from the site folder that `cargo xtask build-app`
//! writes, each with the brotli and gzip variants built beside it.

use std::collections::HashMap;
use std::path::Path;

use bytes::Bytes;
use sha2::{Digest, Sha256};

/// One file and its precompressed variants.
pub struct Asset {
    pub content_type: &'static str,
    pub etag: String,
    pub identity: Bytes,
    pub brotli: Option<Bytes>,
    pub gzip: Option<Bytes>,
}

/// The encoding a response is sent in.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Encoding {
    Brotli,
    Gzip,
    Identity,
}

impl Encoding {
    pub fn header(self) -> Option<&'static str> {
        match self {
            Encoding::Brotli => Some("br"),
            Encoding::Gzip => Some("gzip"),
            Encoding::Identity => None,
        }
    }
}

impl Asset {
    /// The best variant the client accepts, and its bytes.
    pub fn negotiate(&self, accept_encoding: &str) -> (Encoding, Bytes) {
        if let Some(b) = self
            .brotli
            .as_ref()
            .filter(|_| accepts(accept_encoding, "br"))
        {
            return (Encoding::Brotli, b.clone());
        }
        if let Some(g) = self
            .gzip
            .as_ref()
            .filter(|_| accepts(accept_encoding, "gzip"))
        {
            return (Encoding::Gzip, g.clone());
        }
        (Encoding::Identity, self.identity.clone())
    }
}

/// Whether an `Accept-Encoding` header allows `coding` (listed, and not with `q=0`).
pub fn accepts(header: &str, coding: &str) -> bool {
    header.split(',').any(|item| {
        let mut parts = item.split(';').map(str::trim);
        let name = parts.next().unwrap_or("");
        let refused = parts.any(|p| {
            p.strip_prefix("q=")
                .and_then(|q| q.trim().parse::<f32>().ok())
                .is_some_and(|q| q == 0.0)
        });
        name.eq_ignore_ascii_case(coding) && !refused
    })
}

/// The content type for a file name.
pub fn content_type(name: &str) -> &'static str {
    match name.rsplit('.').next().unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" => "text/javascript; charset=utf-8",
        "wasm" => "application/wasm",
        "css" => "text/css; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "json" => "application/json",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// Every file of the site, by URL path (`/index.html`, `/pkg/holdfast_app_bg.wasm`).
#[derive(Default)]
pub struct Assets {
    files: HashMap<String, Asset>,
}

impl Assets {
    /// Reads the site folder. A missing folder gives an empty set: the API still works and the
    /// app's pages answer 404 with a hint to build it.
    pub fn load(root: &Path) -> std::io::Result<Assets> {
        let mut files = HashMap::new();
        if root.is_dir() {
            collect(root, root, &mut files)?;
        }
        Ok(Assets { files })
    }

    pub fn get(&self, path: &str) -> Option<&Asset> {
        self.files.get(path)
    }

    pub fn len(&self) -> usize {
        self.files.len()
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }
}

fn collect(root: &Path, dir: &Path, files: &mut HashMap<String, Asset>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect(root, &path, files)?;
            continue;
        }
        let name = path.to_string_lossy();
        if name.ends_with(".br") || name.ends_with(".gz") {
            continue;
        }
        let rel = path
            .strip_prefix(root)
            .unwrap_or(&path)
            .to_string_lossy()
            .replace('\\', "/");
        let identity = Bytes::from(std::fs::read(&path)?);
        let sibling = |ext: &str| std::fs::read(format!("{name}.{ext}")).ok().map(Bytes::from);
        let digest = Sha256::digest(&identity);
        let etag = format!(
            "\"{}\"",
            digest[..12]
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        );
        files.insert(
            format!("/{rel}"),
            Asset {
                content_type: content_type(&rel),
                etag,
                brotli: sibling("br"),
                gzip: sibling("gz"),
                identity,
            },
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_encoding() {
        assert!(accepts("gzip, deflate, br, zstd", "br"));
        assert!(accepts("gzip;q=1.0, br;q=0.5", "br"));
        assert!(!accepts("gzip, br;q=0", "br"));
        assert!(!accepts("gzip", "br"));
        assert!(!accepts("", "gzip"));
        assert!(accepts("GZIP", "gzip"));
    }

    #[test]
    fn negotiation_prefers_brotli_then_gzip() {
        let asset = Asset {
            content_type: "text/css",
            etag: "\"x\"".to_owned(),
            identity: Bytes::from_static(b"id"),
            brotli: Some(Bytes::from_static(b"br")),
            gzip: Some(Bytes::from_static(b"gz")),
        };
        assert_eq!(asset.negotiate("gzip, br").0, Encoding::Brotli);
        assert_eq!(asset.negotiate("gzip").0, Encoding::Gzip);
        assert_eq!(asset.negotiate("identity").0, Encoding::Identity);
        assert_eq!(content_type("pkg/app_bg.wasm"), "application/wasm");
    }
}
