//! Which content types stored bytes (recordings, attachments) are kept and served as: only
//! types a browser plays or shows without running anything.
//!
//! A recording ingested as `text/html` with a script, served under its own type from this origin,
//! ran in a manager's browser; e-mail attachments come from anyone outside the company. So a
//! declared type is kept only when it is inert (audio, video, raster images, plain text, PDF)
//! and becomes `application/octet-stream` otherwise, at ingest and again when served.

/// What bytes of any other type are kept and served as.
pub const OPAQUE: &str = "application/octet-stream";

/// The Content-Security-Policy of stored bytes: nothing they contain may run, load or be framed.
pub const SANDBOX_CSP: &str = "sandbox; default-src 'none'; frame-ancestors 'none'";

/// Raster image types a browser decodes without scripting (SVG can carry script: not here).
const RASTER_IMAGES: &[&str] = &["png", "jpeg", "gif", "webp", "bmp", "avif"];

/// The inert type for a declared one: its essence (lower case, parameters dropped) when it is
/// audio, video, a raster image, plain text (served as UTF-8) or PDF, else [`OPAQUE`].
pub fn inert(declared: &str) -> String {
    let essence = declared
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let Some((kind, sub)) = essence.split_once('/') else {
        return OPAQUE.to_owned();
    };
    let token = !sub.is_empty()
        && sub.len() <= 64
        && sub
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b));
    if !token {
        return OPAQUE.to_owned();
    }
    match (kind, sub) {
        ("audio" | "video", _) => essence,
        ("image", sub) if RASTER_IMAGES.contains(&sub) => essence,
        ("text", "plain") => "text/plain; charset=utf-8".to_owned(),
        ("application", "pdf") => essence,
        _ => OPAQUE.to_owned(),
    }
}

/// Whether a recording's bytes of this (inert) type play in the page's player; everything else is
/// sent as a download (`Content-Disposition: attachment`).
pub fn plays_inline(inert_type: &str) -> bool {
    inert_type.starts_with("audio/") || inert_type.starts_with("video/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(declared: &str, kept: &str, inline: bool) {
        assert_eq!(inert(declared), kept, "{declared}");
        assert_eq!(plays_inline(&inert(declared)), inline, "{declared}");
    }

    #[test]
    fn only_inert_types_are_kept() {
        check("audio/wav", "audio/wav", true);
        check("Audio/OGG; codecs=opus", "audio/ogg", true);
        check("video/webm", "video/webm", true);
        check("image/png", "image/png", false);
        check("image/jpeg", "image/jpeg", false);
        check("text/plain", "text/plain; charset=utf-8", false);
        check(
            "text/plain; charset=latin1",
            "text/plain; charset=utf-8",
            false,
        );
        check("application/pdf", "application/pdf", false);
        // Everything that can run script, or that a browser might render as a document.
        check("text/html", OPAQUE, false);
        check("text/html; charset=utf-8", OPAQUE, false);
        check("text/javascript", OPAQUE, false);
        check("application/javascript", OPAQUE, false);
        check("image/svg+xml", OPAQUE, false);
        check("application/xhtml+xml", OPAQUE, false);
        check("text/xml", OPAQUE, false);
        check("message/rfc822", OPAQUE, false);
        check("multipart/x-mixed-replace; boundary=a", OPAQUE, false);
        check("application/octet-stream", OPAQUE, false);
        // Not a type at all.
        check("", OPAQUE, false);
        check("audio", OPAQUE, false);
        check("audio/", OPAQUE, false);
        check("audio/wav\r\nx: y", OPAQUE, false);
        check("audio/<script>", OPAQUE, false);
        check(&format!("audio/{}", "a".repeat(65)), OPAQUE, false);
    }
}
