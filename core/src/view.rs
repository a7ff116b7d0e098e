//! The interactions view's state (filters, sort, page, page size, columns) and its URL query
//! string. Every view is a URL: `ViewState::from_query(&v.to_query()) == Ok(v)` for every state,
//! and any other query gives a typed error, never a panic.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::{Direction, Media};
use crate::ids::HoldId;
use crate::time::Instant;

/// The filters of the interactions view. `None` and empty lists mean "any".
#[derive(Clone, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Filters {
    /// Conversations that started at or after this instant.
    pub from: Option<Instant>,
    /// Conversations that started before this instant.
    pub to: Option<Instant>,
    /// Conversations with a recording of one of these media.
    pub media: Vec<Media>,
    pub direction: Option<Direction>,
    pub queue: Option<String>,
    /// An agent whose name contains this text.
    pub agent: Option<String>,
    /// A remote party address containing this text.
    pub remote: Option<String>,
    pub has_recording: Option<bool>,
    pub protected: Option<bool>,
    /// Conversations with a recording whose deletion date is before this instant.
    pub deleted_before: Option<Instant>,
    /// The conversations of one hold: a legal hold's members (still covered, or as they were
    /// when it was released), or what the default hold protects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hold: Option<HoldId>,
}

/// What the table is sorted by.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum SortKey {
    #[default]
    Date,
    Duration,
    DeletionDate,
}

impl SortKey {
    pub const ALL: &'static [SortKey] = &[SortKey::Date, SortKey::Duration, SortKey::DeletionDate];

    pub const fn as_str(self) -> &'static str {
        match self {
            SortKey::Date => "date",
            SortKey::Duration => "duration",
            SortKey::DeletionDate => "deletion",
        }
    }
}

/// A sort key and direction. The default is newest first.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Sort {
    pub key: SortKey,
    pub descending: bool,
}

impl Sort {
    /// Clicking a column header: the same key flips the direction, another key starts
    /// descending (newest, longest, latest first).
    pub fn toggled(self, key: SortKey) -> Sort {
        match self.key == key {
            true => Sort {
                key,
                descending: !self.descending,
            },
            false => Sort {
                key,
                descending: true,
            },
        }
    }
}

impl Default for Sort {
    fn default() -> Self {
        Sort {
            key: SortKey::Date,
            descending: true,
        }
    }
}

/// A column of the interactions table.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Column {
    Date,
    Duration,
    Media,
    Direction,
    Users,
    RemoteParty,
    Queue,
    Recording,
    DeletionDate,
}

impl Column {
    /// Every column in its default order; all are shown by default.
    pub const ALL: &'static [Column] = &[
        Column::Date,
        Column::Duration,
        Column::Media,
        Column::Direction,
        Column::Users,
        Column::RemoteParty,
        Column::Queue,
        Column::Recording,
        Column::DeletionDate,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Column::Date => "date",
            Column::Duration => "duration",
            Column::Media => "media",
            Column::Direction => "direction",
            Column::Users => "users",
            Column::RemoteParty => "remote",
            Column::Queue => "queue",
            Column::Recording => "recording",
            Column::DeletionDate => "deletion",
        }
    }

    /// The column header a user reads.
    pub const fn label(self) -> &'static str {
        match self {
            Column::Date => "Date",
            Column::Duration => "Duration",
            Column::Media => "Media",
            Column::Direction => "Direction",
            Column::Users => "Users",
            Column::RemoteParty => "Remote party",
            Column::Queue => "Queue",
            Column::Recording => "Recording",
            Column::DeletionDate => "Deletion date",
        }
    }
}

/// The page sizes offered.
pub const PAGE_SIZES: &[u32] = &[10, 25, 50, 100];
/// The page size of a new view.
pub const DEFAULT_PAGE_SIZE: u32 = 25;
/// The longest text filter accepted, in characters.
pub const TEXT_FILTER_MAX: usize = 200;

/// The whole state of the interactions view.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ViewState {
    pub filters: Filters,
    pub sort: Sort,
    /// 1-based.
    pub page: u32,
    pub page_size: u32,
    /// The visible columns, in order; never empty, no repeats.
    pub columns: Vec<Column>,
}

impl Default for ViewState {
    fn default() -> Self {
        ViewState {
            filters: Filters::default(),
            sort: Sort::default(),
            page: 1,
            page_size: DEFAULT_PAGE_SIZE,
            columns: Column::ALL.to_vec(),
        }
    }
}

/// Why a query string is not a view.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum ViewError {
    /// A parameter this version does not know.
    UnknownParameter { name: String },
    /// The same parameter twice.
    RepeatedParameter { name: String },
    /// A value that does not parse for its parameter.
    InvalidValue { name: String, value: String },
    /// Percent-encoding that is not valid UTF-8.
    BadEncoding,
}

impl fmt::Display for ViewError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ViewError::UnknownParameter { name } => write!(f, "unknown view parameter '{name}'"),
            ViewError::RepeatedParameter { name } => {
                write!(f, "view parameter '{name}' is repeated")
            }
            ViewError::InvalidValue { name, value } => {
                write!(
                    f,
                    "'{value}' is not a valid value for view parameter '{name}'"
                )
            }
            ViewError::BadEncoding => f.write_str("the view's address is not valid UTF-8"),
        }
    }
}

impl std::error::Error for ViewError {}

impl Filters {
    /// Appends the filter parameters to `out`, in the canonical order.
    fn write_query(&self, out: &mut Vec<(&'static str, String)>) {
        let time = |t: &Instant| crate::time::format_seconds(*t);
        let yes_no = |b: bool| if b { "yes" } else { "no" }.to_owned();
        if let Some(t) = &self.from {
            out.push(("from", time(t)));
        }
        if let Some(t) = &self.to {
            out.push(("to", time(t)));
        }
        if !self.media.is_empty() {
            let names: Vec<_> = self.media.iter().map(|m| m.as_str()).collect();
            out.push(("media", names.join(",")));
        }
        if let Some(d) = self.direction {
            out.push(("direction", d.as_str().to_owned()));
        }
        if let Some(q) = &self.queue {
            out.push(("queue", q.clone()));
        }
        if let Some(a) = &self.agent {
            out.push(("agent", a.clone()));
        }
        if let Some(r) = &self.remote {
            out.push(("remote", r.clone()));
        }
        if let Some(b) = self.has_recording {
            out.push(("recorded", yes_no(b)));
        }
        if let Some(b) = self.protected {
            out.push(("protected", yes_no(b)));
        }
        if let Some(t) = &self.deleted_before {
            out.push(("deletedBefore", time(t)));
        }
        if let Some(h) = self.hold {
            out.push(("hold", h.to_string()));
        }
    }

    /// The filters as a query string (no leading `?`), for API calls that take only filters.
    pub fn to_query(&self) -> String {
        let mut pairs = Vec::new();
        self.write_query(&mut pairs);
        join_query(&pairs)
    }

    /// Parses a query of filter parameters only.
    pub fn from_query(query: &str) -> Result<Filters, ViewError> {
        let view = ViewState::from_query(query)?;
        match view
            == (ViewState {
                filters: view.filters.clone(),
                ..ViewState::default()
            }) {
            true => Ok(view.filters),
            false => Err(ViewError::UnknownParameter {
                name: "sort, page, size or columns".to_owned(),
            }),
        }
    }
}

impl ViewState {
    /// The canonical query string (no leading `?`): parameters at their default are left out, so
    /// the default view is the empty string.
    pub fn to_query(&self) -> String {
        let mut pairs = Vec::new();
        self.filters.write_query(&mut pairs);
        if self.sort != Sort::default() {
            let sign = if self.sort.descending { "-" } else { "" };
            pairs.push(("sort", format!("{sign}{}", self.sort.key.as_str())));
        }
        if self.page != 1 {
            pairs.push(("page", self.page.to_string()));
        }
        if self.page_size != DEFAULT_PAGE_SIZE {
            pairs.push(("size", self.page_size.to_string()));
        }
        if self.columns != Column::ALL {
            let names: Vec<_> = self.columns.iter().map(|c| c.as_str()).collect();
            pairs.push(("columns", names.join(",")));
        }
        join_query(&pairs)
    }

    /// Parses a query string, with or without the leading `?`.
    pub fn from_query(query: &str) -> Result<ViewState, ViewError> {
        let query = query.strip_prefix('?').unwrap_or(query);
        let mut view = ViewState::default();
        let mut seen: Vec<String> = Vec::new();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (raw_name, raw_value) = pair.split_once('=').unwrap_or((pair, ""));
            let name = percent_decode(raw_name)?;
            let value = percent_decode(raw_value)?;
            if seen.contains(&name) {
                return Err(ViewError::RepeatedParameter { name });
            }
            view.apply(&name, &value)?;
            seen.push(name);
        }
        Ok(view)
    }

    fn apply(&mut self, name: &str, value: &str) -> Result<(), ViewError> {
        let invalid = || ViewError::InvalidValue {
            name: name.to_owned(),
            value: value.chars().take(64).collect(),
        };
        let f = &mut self.filters;
        match name {
            "from" => f.from = Some(parse_time(value).ok_or_else(invalid)?),
            "to" => f.to = Some(parse_time(value).ok_or_else(invalid)?),
            "deletedBefore" => f.deleted_before = Some(parse_time(value).ok_or_else(invalid)?),
            "media" => f.media = parse_list(value, Media::parse).ok_or_else(invalid)?,
            "direction" => f.direction = Some(Direction::parse(value).ok_or_else(invalid)?),
            "queue" => f.queue = Some(parse_text(value).ok_or_else(invalid)?),
            "agent" => f.agent = Some(parse_text(value).ok_or_else(invalid)?),
            "remote" => f.remote = Some(parse_text(value).ok_or_else(invalid)?),
            "recorded" => f.has_recording = Some(parse_yes_no(value).ok_or_else(invalid)?),
            "protected" => f.protected = Some(parse_yes_no(value).ok_or_else(invalid)?),
            "hold" => f.hold = Some(parse_hold(value).ok_or_else(invalid)?),
            "sort" => {
                let (descending, key) = match value.strip_prefix('-') {
                    Some(key) => (true, key),
                    None => (false, value),
                };
                let key = SortKey::ALL
                    .iter()
                    .find(|k| k.as_str() == key)
                    .ok_or_else(invalid)?;
                self.sort = Sort {
                    key: *key,
                    descending,
                };
            }
            "page" => {
                self.page = value.parse().ok().filter(|p| *p >= 1).ok_or_else(invalid)?;
            }
            "size" => {
                self.page_size = value
                    .parse()
                    .ok()
                    .filter(|s| PAGE_SIZES.contains(s))
                    .ok_or_else(invalid)?;
            }
            "columns" => {
                let parse = |s: &str| Column::ALL.iter().copied().find(|c| c.as_str() == s);
                self.columns = parse_list(value, parse).ok_or_else(invalid)?;
            }
            _ => {
                return Err(ViewError::UnknownParameter {
                    name: name.chars().take(64).collect(),
                });
            }
        }
        Ok(())
    }

    /// The offset of the first row of the page.
    pub fn offset(&self) -> u64 {
        u64::from(self.page.saturating_sub(1)) * u64::from(self.page_size)
    }
}

fn parse_time(text: &str) -> Option<Instant> {
    let t = DateTime::parse_from_rfc3339(text).ok()?.with_timezone(&Utc);
    // Views name whole seconds, so that the canonical form is the only form.
    (t.timestamp_subsec_nanos() == 0).then_some(t)
}

/// A hold's id in its canonical form only, so that a view has one address.
fn parse_hold(text: &str) -> Option<HoldId> {
    HoldId::parse(text).ok().filter(|h| h.to_string() == text)
}

fn parse_yes_no(text: &str) -> Option<bool> {
    match text {
        "yes" => Some(true),
        "no" => Some(false),
        _ => None,
    }
}

fn parse_text(text: &str) -> Option<String> {
    let ok = !text.trim().is_empty()
        && text.trim() == text
        && text.chars().count() <= TEXT_FILTER_MAX
        && !text.chars().any(char::is_control);
    ok.then(|| text.to_owned())
}

/// A comma-separated list without repeats; empty is invalid.
fn parse_list<T: PartialEq>(text: &str, parse: impl Fn(&str) -> Option<T>) -> Option<Vec<T>> {
    let mut items = Vec::new();
    for part in text.split(',') {
        let item = parse(part)?;
        if items.contains(&item) {
            return None;
        }
        items.push(item);
    }
    Some(items)
}

fn join_query(pairs: &[(&str, String)]) -> String {
    let parts: Vec<String> = pairs
        .iter()
        .map(|(name, value)| format!("{name}={}", percent_encode(value)))
        .collect();
    parts.join("&")
}

/// Percent-encodes everything but RFC 3986's unreserved characters and `,` (list separator),
/// `:` (times), which are safe in a query value.
pub fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b',' | b':' => {
                out.push(char::from(byte));
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

/// Decodes `%XX` escapes and `+` as a space (as forms send them).
pub fn percent_decode(text: &str) -> Result<String, ViewError> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = bytes.get(i + 1..i + 3).ok_or(ViewError::BadEncoding)?;
                let hex = std::str::from_utf8(hex).map_err(|_| ViewError::BadEncoding)?;
                out.push(u8::from_str_radix(hex, 16).map_err(|_| ViewError::BadEncoding)?);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).map_err(|_| ViewError::BadEncoding)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(query: &str, expect: Result<&str, ViewError>) {
        let got = ViewState::from_query(query).map(|v| v.to_query());
        assert_eq!(
            got.as_deref().map_err(Clone::clone),
            expect,
            "query {query:?}"
        );
    }

    fn invalid(name: &str, value: &str) -> ViewError {
        ViewError::InvalidValue {
            name: name.to_owned(),
            value: value.to_owned(),
        }
    }

    #[test]
    fn canonical_forms() {
        check("", Ok(""));
        check("?", Ok(""));
        check("?page=1&size=25&sort=-date", Ok(""));
        check("protected=yes", Ok("protected=yes"));
        check("size=50&page=3", Ok("page=3&size=50"));
        check(
            "media=chat,call&direction=inbound",
            Ok("media=chat,call&direction=inbound"),
        );
        check("queue=Sales+EMEA", Ok("queue=Sales%20EMEA"));
        check("agent=Jos%C3%A9", Ok("agent=Jos%C3%A9"));
        check(
            "from=2026-11-01T01:00:00%2B01:00",
            Ok("from=2026-11-01T00:00:00Z"),
        );
        check("sort=duration", Ok("sort=duration"));
        check(
            "sort=-deletion&recorded=no",
            Ok("recorded=no&sort=-deletion"),
        );
        check("columns=date,recording", Ok("columns=date,recording"));
        check(
            "hold=00000000-0000-0000-0000-000000000000&protected=no",
            Ok("protected=no&hold=00000000-0000-0000-0000-000000000000"),
        );
    }

    #[test]
    fn typed_errors() {
        let unknown = |n: &str| ViewError::UnknownParameter { name: n.to_owned() };
        check("colour=red", Err(unknown("colour")));
        check("page=0", Err(invalid("page", "0")));
        check("page=-1", Err(invalid("page", "-1")));
        check("page=99999999999", Err(invalid("page", "99999999999")));
        check("size=7", Err(invalid("size", "7")));
        check("media=fax", Err(invalid("media", "fax")));
        check("media=", Err(invalid("media", "")));
        check("media=call,call", Err(invalid("media", "call,call")));
        check("columns=", Err(invalid("columns", "")));
        check("protected=maybe", Err(invalid("protected", "maybe")));
        check("from=yesterday", Err(invalid("from", "yesterday")));
        check(
            "from=2026-11-01T00:00:00.5Z",
            Err(invalid("from", "2026-11-01T00:00:00.5Z")),
        );
        check("queue=", Err(invalid("queue", "")));
        check("sort=name", Err(invalid("sort", "name")));
        check(
            "page=2&page=3",
            Err(ViewError::RepeatedParameter {
                name: "page".to_owned(),
            }),
        );
        let id = "6a1b5f0e-2f43-4c5e-9a59-0d6c2f8d1b11";
        for value in [
            "",
            "abc",
            &id.to_uppercase(),
            &id.replace('-', ""),
            &format!(" {id}"),
        ] {
            check(&format!("hold={value}"), Err(invalid("hold", value)));
        }
        check("queue=%", Err(ViewError::BadEncoding));
        check("queue=%zz", Err(ViewError::BadEncoding));
        check("queue=%FF", Err(ViewError::BadEncoding));
    }

    #[test]
    fn sort_toggles() {
        let date_desc = Sort::default();
        assert_eq!(
            date_desc.toggled(SortKey::Date),
            Sort {
                key: SortKey::Date,
                descending: false
            }
        );
        assert_eq!(
            date_desc.toggled(SortKey::Duration),
            Sort {
                key: SortKey::Duration,
                descending: true
            }
        );
    }

    #[test]
    fn offsets() {
        let view = ViewState {
            page: 3,
            page_size: 50,
            ..ViewState::default()
        };
        assert_eq!(view.offset(), 100);
        assert_eq!(ViewState::default().offset(), 0);
    }

    #[test]
    fn filters_alone() {
        let f = Filters::from_query("protected=no&queue=Sales").unwrap();
        assert_eq!(f.protected, Some(false));
        assert_eq!(Filters::from_query(&f.to_query()), Ok(f));
        assert!(Filters::from_query("page=2").is_err());
    }
}
