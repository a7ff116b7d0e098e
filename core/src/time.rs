//! Instants on the wire: ISO-8601 in UTC with milliseconds and `Z`, as Genesys Cloud writes them.

use chrono::{DateTime, Datelike, SecondsFormat, Timelike, Utc};

/// An instant in UTC. Everything in Holdfast is stored and compared in UTC; the browser shows it
/// in the user's zone.
pub type Instant = DateTime<Utc>;

/// Formats `2026-11-25T20:22:45.000Z`.
pub fn format(t: Instant) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Formats `2026-11-25T20:22:45Z`, whole seconds, as views write instants in the address.
///
/// By hand rather than through chrono's `format`, whose pattern interpreter is a large part of
/// the browser app's download.
pub fn format_seconds(t: Instant) -> String {
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        t.month(),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// Parses any RFC 3339 instant and converts it to UTC.
pub fn parse(text: &str) -> Option<Instant> {
    DateTime::parse_from_rfc3339(text.trim())
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// The instant to the millisecond, the precision instants are stored with.
pub fn whole_millis(t: Instant) -> Instant {
    DateTime::from_timestamp_millis(t.timestamp_millis()).unwrap_or(t)
}

/// What an instant on the wire must look like. An instant without an offset is refused rather
/// than guessed: read in the wrong zone, a deletion date would be hours early or late.
const EXPECTED: &str = "expected an RFC 3339 instant with a time zone offset, such as 2026-12-01T19:49:24.695Z or 2026-12-01T20:49:24+01:00";

/// Serde adapter for an instant in the Genesys format.
pub mod iso {
    use super::Instant;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(t: &Instant, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::format(*t))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Instant, D::Error> {
        let text = String::deserialize(d)?;
        super::parse(&text).ok_or_else(|| serde::de::Error::custom(super::EXPECTED))
    }
}

/// Serde adapter for an optional instant in the Genesys format (`null` when absent).
pub mod iso_opt {
    use super::Instant;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(t: &Option<Instant>, s: S) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => s.serialize_str(&super::format(*t)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Instant>, D::Error> {
        match Option::<String>::deserialize(d)? {
            None => Ok(None),
            Some(text) => super::parse(&text)
                .map(Some)
                .ok_or_else(|| serde::de::Error::custom(super::EXPECTED)),
        }
    }
}

/// Serde adapter for a field of a partial update: absent is `None` (with `#[serde(default)]`),
/// `null` is `Some(None)`, an instant is `Some(Some(_))`.
pub mod iso_patch {
    use super::Instant;
    use serde::Deserializer;

    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Option<Instant>>, D::Error> {
        super::iso_opt::deserialize(d).map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_seconds_format_matches_chrono() {
        for text in [
            "2026-11-25T20:22:45Z",
            "0001-01-01T00:00:00Z",
            "1999-12-31T23:59:59Z",
            "2024-02-29T12:00:00Z",
            "9999-12-31T23:59:59Z",
        ] {
            let t = parse(text).unwrap();
            assert_eq!(
                format_seconds(t),
                t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
            );
            assert_eq!(format_seconds(t), text);
        }
    }

    #[test]
    fn genesys_format() {
        let t = parse("2026-11-25T21:22:45.5+01:00").unwrap();
        assert_eq!(format(t), "2026-11-25T20:22:45.500Z");
        assert_eq!(parse("yesterday"), None);
        assert_eq!(parse("2026-11-25"), None);
    }
}
