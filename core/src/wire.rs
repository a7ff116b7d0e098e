//! JSON for the browser app, without serde.
//!
//! serde's derived code is generic over the data format, and in the app's wasm its instances for
//! serde_json were the largest part of the download after the views themselves. This module is a
//! small JSON reader and writer with one plain function per type the app reads or sends; the
//! server keeps serde. The tests decode serde's encoding of every type and compare, and compare
//! what this module writes with what serde writes, so the two sides cannot drift apart.

use std::fmt;

use crate::api::AuditPage;
use crate::api::{
    AttachmentInfo, ConversationDetails, ConversationOutcome, ConversationPage, ConversationRow,
    ErrorBody, LoginRequest, Me, OrgStatusDto, ProtectRequest, ProtectResponse, ProtectionInfo,
    RecordingInfo, SaveViewRequest, SavedView, Selection, SummaryRequest, SummaryResponse,
};
use crate::audit::{Actor, AuditAction, AuditEvent, Client, Details, EntityType};
use crate::deletion::EffectiveDeletion;
use crate::domain::{Direction, FileState, Media, Permission, RecordingRole};
use crate::forecast::{Due, Forecast, ForecastDay};
use crate::holds::{
    CreateHoldRequest, HoldDetails, HoldInfo, HoldList, HoldMember, HoldMiss, HoldRef, ListLine,
    ListOutcome, ListPreview, ListRequest, ListRow, OrgSettings, ReleaseCounts, ReleaseHoldRequest,
    ReleaseRequest,
};
use crate::ids::{ConversationId, HoldId, OrgId, RecordingId, UserId};
use crate::protection::{Count, Outcome, PlanError, ProtectAction, SelectionSummary};
use crate::time::Instant;

/// How deeply arrays and objects may nest; the API's answers nest five levels at most.
const MAX_DEPTH: usize = 64;

/// A JSON value. Numbers are integers that fit an `i64`: the API sends no fractions, and no
/// count or size near 2^63.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Json {
    Null,
    Bool(bool),
    Int(i64),
    Str(String),
    Array(Vec<Json>),
    /// Members in the order written.
    Object(Vec<(String, Json)>),
}

/// Why a text is not the JSON a type expects.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct WireError(pub String);

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for WireError {}

fn error<T>(message: &str) -> Result<T, WireError> {
    Err(WireError(message.to_owned()))
}

/// A type the app reads from the server.
pub trait FromJson: Sized {
    fn from_json(value: &Json) -> Result<Self, WireError>;
}

/// A type the app sends to the server.
pub trait ToJson {
    fn to_json(&self) -> Json;
}

/// Parses a text and reads a `T` from it.
pub fn decode<T: FromJson>(text: &str) -> Result<T, WireError> {
    T::from_json(&Json::parse(text)?)
}

/// The JSON text of a value.
pub fn encode<T: ToJson>(value: &T) -> String {
    let mut out = String::new();
    value.to_json().write(&mut out);
    out
}

impl Json {
    /// Parses one JSON value; anything after it but whitespace is an error.
    pub fn parse(text: &str) -> Result<Json, WireError> {
        let mut reader = Reader {
            bytes: text.as_bytes(),
            at: 0,
        };
        let value = reader.value(0)?;
        reader.skip_space();
        match reader.at == reader.bytes.len() {
            true => Ok(value),
            false => reader.fail("unexpected text after the value"),
        }
    }

    /// Appends the compact JSON text of the value.
    pub fn write(&self, out: &mut String) {
        match self {
            Json::Null => out.push_str("null"),
            Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Json::Int(n) => out.push_str(&n.to_string()),
            Json::Str(s) => write_str(s, out),
            Json::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    item.write(out);
                }
                out.push(']');
            }
            Json::Object(members) => {
                out.push('{');
                for (i, (name, value)) in members.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write_str(name, out);
                    out.push(':');
                    value.write(out);
                }
                out.push('}');
            }
        }
    }

    /// A member of an object; a missing member reads as `null`, as serde reads a missing
    /// optional field.
    pub fn member(&self, name: &str) -> Result<&Json, WireError> {
        match self {
            Json::Object(members) => Ok(members
                .iter()
                .find(|(n, _)| n == name)
                .map_or(&Json::Null, |(_, v)| v)),
            _ => error("expected an object"),
        }
    }

    /// Reads the member `name` as a `T`; the error names the member.
    pub fn field<T: FromJson>(&self, name: &str) -> Result<T, WireError> {
        T::from_json(self.member(name)?).map_err(|e| WireError(format!("{name}: {}", e.0)))
    }

    fn as_str(&self) -> Result<&str, WireError> {
        match self {
            Json::Str(s) => Ok(s),
            _ => error("expected a string"),
        }
    }

    fn object(members: Vec<(&str, Json)>) -> Json {
        Json::Object(
            members
                .into_iter()
                .map(|(name, value)| (name.to_owned(), value))
                .collect(),
        )
    }
}

fn write_str(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.push_str("\\u00");
                out.push(char::from(HEX[(u32::from(c) >> 4) as usize]));
                out.push(char::from(HEX[(u32::from(c) & 15) as usize]));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn fail<T>(&self, message: &str) -> Result<T, WireError> {
        Err(WireError(format!("{message} at byte {}", self.at)))
    }

    fn skip_space(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.bytes.get(self.at) {
            self.at += 1;
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.skip_space();
        self.bytes.get(self.at).copied()
    }

    fn expect(&mut self, byte: u8) -> Result<(), WireError> {
        match self.peek() == Some(byte) {
            true => {
                self.at += 1;
                Ok(())
            }
            false => self.fail(match byte {
                b':' => "expected `:`",
                _ => "expected `,` or a closing bracket",
            }),
        }
    }

    fn keyword(&mut self, word: &str, value: Json) -> Result<Json, WireError> {
        match self.bytes[self.at..].starts_with(word.as_bytes()) {
            true => {
                self.at += word.len();
                Ok(value)
            }
            false => self.fail("expected a value"),
        }
    }

    fn value(&mut self, depth: usize) -> Result<Json, WireError> {
        if depth > MAX_DEPTH {
            return self.fail("nested too deeply");
        }
        match self.peek() {
            None => self.fail("unexpected end of the text"),
            Some(b'n') => self.keyword("null", Json::Null),
            Some(b't') => self.keyword("true", Json::Bool(true)),
            Some(b'f') => self.keyword("false", Json::Bool(false)),
            Some(b'"') => self.string().map(Json::Str),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(b'[') => {
                self.at += 1;
                let mut items = Vec::new();
                if self.peek() == Some(b']') {
                    self.at += 1;
                    return Ok(Json::Array(items));
                }
                loop {
                    items.push(self.value(depth + 1)?);
                    if self.peek() == Some(b']') {
                        self.at += 1;
                        return Ok(Json::Array(items));
                    }
                    self.expect(b',')?;
                }
            }
            Some(b'{') => {
                self.at += 1;
                let mut members = Vec::new();
                if self.peek() == Some(b'}') {
                    self.at += 1;
                    return Ok(Json::Object(members));
                }
                loop {
                    if self.peek() != Some(b'"') {
                        return self.fail("expected a member name");
                    }
                    let name = self.string()?;
                    self.expect(b':')?;
                    members.push((name, self.value(depth + 1)?));
                    if self.peek() == Some(b'}') {
                        self.at += 1;
                        return Ok(Json::Object(members));
                    }
                    self.expect(b',')?;
                }
            }
            Some(_) => self.fail("expected a value"),
        }
    }

    fn number(&mut self) -> Result<Json, WireError> {
        let start = self.at;
        if self.bytes.get(self.at) == Some(&b'-') {
            self.at += 1;
        }
        let digits = self.at;
        while let Some(b'0'..=b'9') = self.bytes.get(self.at) {
            self.at += 1;
        }
        let text = &self.bytes[start..self.at];
        let leading_zero = self.at - digits > 1 && self.bytes[digits] == b'0';
        if self.at == digits || leading_zero {
            return self.fail("malformed number");
        }
        if let Some(b'.' | b'e' | b'E') = self.bytes.get(self.at) {
            return self.fail("expected a whole number");
        }
        // The bytes are an optional minus and ASCII digits, so they are UTF-8.
        match std::str::from_utf8(text).ok().and_then(|t| t.parse().ok()) {
            Some(n) => Ok(Json::Int(n)),
            None => self.fail("number out of range"),
        }
    }

    fn hex4(&mut self) -> Result<u32, WireError> {
        let mut n = 0;
        for _ in 0..4 {
            let digit = self
                .bytes
                .get(self.at)
                .and_then(|b| char::from(*b).to_digit(16));
            match digit {
                Some(d) => n = n * 16 + d,
                None => return self.fail("malformed \\u escape"),
            }
            self.at += 1;
        }
        Ok(n)
    }

    fn string(&mut self) -> Result<String, WireError> {
        self.at += 1; // the opening quote
        let mut out = Vec::new();
        loop {
            let Some(&byte) = self.bytes.get(self.at) else {
                return self.fail("unterminated string");
            };
            self.at += 1;
            match byte {
                b'"' => break,
                b'\\' => {
                    let Some(&escape) = self.bytes.get(self.at) else {
                        return self.fail("unterminated string");
                    };
                    self.at += 1;
                    let c = match escape {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => {
                            let high = self.hex4()?;
                            let code = match high {
                                0xD800..=0xDBFF => {
                                    if !self.bytes[self.at..].starts_with(b"\\u") {
                                        return self.fail("unpaired surrogate");
                                    }
                                    self.at += 2;
                                    let low = self.hex4()?;
                                    if !(0xDC00..=0xDFFF).contains(&low) {
                                        return self.fail("unpaired surrogate");
                                    }
                                    0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)
                                }
                                n => n,
                            };
                            match char::from_u32(code) {
                                Some(c) => c,
                                None => return self.fail("unpaired surrogate"),
                            }
                        }
                        _ => return self.fail("unknown escape"),
                    };
                    let mut buf = [0; 4];
                    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                }
                0..0x20 => return self.fail("control character in a string"),
                byte => out.push(byte),
            }
        }
        // The input is a `&str` and escapes add whole characters, so this cannot fail.
        String::from_utf8(out).or_else(|_| self.fail("invalid UTF-8"))
    }
}

// ---- Values ----

impl FromJson for bool {
    fn from_json(value: &Json) -> Result<Self, WireError> {
        match value {
            Json::Bool(b) => Ok(*b),
            _ => error("expected true or false"),
        }
    }
}

macro_rules! integer {
    ($($ty:ty),+) => {$(
        impl FromJson for $ty {
            fn from_json(value: &Json) -> Result<Self, WireError> {
                match value {
                    Json::Int(n) => <$ty>::try_from(*n).or_else(|_| error("number out of range")),
                    _ => error("expected a number"),
                }
            }
        }
    )+};
}
integer!(u16, u32, u64);

impl FromJson for String {
    fn from_json(value: &Json) -> Result<Self, WireError> {
        value.as_str().map(str::to_owned)
    }
}

impl<T: FromJson> FromJson for Option<T> {
    fn from_json(value: &Json) -> Result<Self, WireError> {
        match value {
            Json::Null => Ok(None),
            value => T::from_json(value).map(Some),
        }
    }
}

impl<T: FromJson> FromJson for Vec<T> {
    fn from_json(value: &Json) -> Result<Self, WireError> {
        match value {
            Json::Array(items) => items.iter().map(T::from_json).collect(),
            _ => error("expected an array"),
        }
    }
}

impl ToJson for String {
    fn to_json(&self) -> Json {
        Json::Str(self.clone())
    }
}

impl<T: ToJson> ToJson for Option<T> {
    fn to_json(&self) -> Json {
        self.as_ref().map_or(Json::Null, T::to_json)
    }
}

impl<T: ToJson> ToJson for Vec<T> {
    fn to_json(&self) -> Json {
        Json::Array(self.iter().map(T::to_json).collect())
    }
}

/// An instant: ISO-8601 text.
impl FromJson for Instant {
    fn from_json(value: &Json) -> Result<Self, WireError> {
        crate::time::parse(value.as_str()?).map_or_else(|| error("expected an instant"), Ok)
    }
}

/// Ids: the text of a UUID.
macro_rules! ids {
    ($($ty:ty),+) => {$(
        impl FromJson for $ty {
            fn from_json(value: &Json) -> Result<Self, WireError> {
                <$ty>::parse(value.as_str()?).or_else(|_| error("expected an id"))
            }
        }
    )+};
}
ids!(ConversationId, RecordingId, OrgId, UserId, HoldId);

impl ToJson for HoldId {
    fn to_json(&self) -> Json {
        Json::Str(self.to_string())
    }
}

/// Fieldless enums whose wire name is their canonical `as_str` name.
macro_rules! named {
    ($($ty:ty),+) => {$(
        impl FromJson for $ty {
            fn from_json(value: &Json) -> Result<Self, WireError> {
                <$ty>::parse(value.as_str()?).map_or_else(|| error("expected a known name"), Ok)
            }
        }
    )+};
}
named!(
    Media,
    Direction,
    FileState,
    RecordingRole,
    Permission,
    AuditAction
);

impl ToJson for ConversationId {
    fn to_json(&self) -> Json {
        Json::Str(self.to_string())
    }
}

/// Fieldless enums whose wire names are not their `as_str` names.
macro_rules! names {
    ($ty:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        impl FromJson for $ty {
            fn from_json(value: &Json) -> Result<Self, WireError> {
                match value.as_str()? {
                    $($text => Ok($ty::$variant),)+
                    _ => error("expected a known name"),
                }
            }
        }

        impl ToJson for $ty {
            fn to_json(&self) -> Json {
                Json::Str(match self { $($ty::$variant => $text),+ }.to_owned())
            }
        }
    };
}
names!(ListOutcome { Protectable = "protectable", AlreadyProtected = "alreadyProtected", InHold = "inHold", NoRecording = "noRecording", NotFound = "notFound" });
names!(Outcome { Changed = "changed", Unchanged = "unchanged", NoRecording = "noRecording", NotFound = "notFound" });
names!(ProtectAction { Protect = "protect", Release = "release" });
names!(EntityType { Conversation = "Conversation", Recording = "Recording", User = "User", RetentionPolicy = "RetentionPolicy", Hold = "Hold", Organization = "Organization" });

/// Structs read member by member; every field is named once, here, as serde names it.
macro_rules! from_object {
    ($ty:ident { $($field:ident: $name:literal),+ $(,)? }) => {
        impl FromJson for $ty {
            fn from_json(value: &Json) -> Result<Self, WireError> {
                Ok($ty { $($field: value.field($name)?),+ })
            }
        }
    };
}

from_object!(Me {
    user_id: "userId",
    username: "username",
    display_name: "displayName",
    org_id: "orgId",
    org_name: "orgName",
    permissions: "permissions",
});
from_object!(OrgStatusDto {
    protected: "protected",
    cap: "cap"
});
from_object!(ConversationRow {
    id: "id",
    start_time: "startTime",
    end_time: "endTime",
    duration_ms: "durationMs",
    direction: "direction",
    queue: "queue",
    agents: "agents",
    remote_party: "remoteParty",
    wrap_up: "wrapUp",
    media: "media",
    recording_count: "recordingCount",
    protected: "protected",
    deletion_date: "deletionDate",
});
from_object!(ConversationPage {
    entities: "entities",
    total: "total",
    total_exact: "totalExact",
    page: "page",
    page_size: "pageSize",
});
from_object!(SelectionSummary {
    protected: "protected",
    protectable: "protectable",
    without_recording: "withoutRecording",
    past_due_recordings: "pastDueRecordings",
    held: "held",
});
from_object!(SummaryResponse {
    summary: "summary",
    org: "org"
});
from_object!(ConversationOutcome {
    id: "id",
    outcome: "outcome"
});
from_object!(ProtectResponse {
    changed: "changed",
    unchanged: "unchanged",
    without_recording: "withoutRecording",
    not_found: "notFound",
    joined: "joined",
    requested: "requested",
    org: "org",
    outcomes: "outcomes",
});
from_object!(AttachmentInfo {
    id: "id",
    name: "name",
    content_type: "contentType",
    size_bytes: "sizeBytes",
});
from_object!(RecordingInfo {
    id: "id",
    media: "media",
    role: "role",
    created_at: "createdAt",
    duration_ms: "durationMs",
    size_bytes: "sizeBytes",
    file_state: "fileState",
    delete_date: "deleteDate",
    effective_deletion: "effectiveDeletion",
    has_media: "hasMedia",
    transcript: "transcript",
    attachments: "attachments",
    date_reason: "dateReason",
    date_set_at: "dateSetAt",
});
from_object!(ProtectionInfo {
    since: "since",
    by: "by",
    reason: "reason"
});
from_object!(ConversationDetails {
    conversation: "conversation",
    recordings: "recordings",
    protection: "protection",
    holds: "holds",
});
from_object!(HoldRef {
    id: "id",
    name: "name",
    case_reference: "caseReference",
});
from_object!(HoldInfo {
    id: "id",
    name: "name",
    case_reference: "caseReference",
    description: "description",
    owner: "owner",
    created_at: "createdAt",
    released_at: "releasedAt",
    released_by: "releasedBy",
    conversations: "conversations",
    query: "query",
    missed: "missed",
});
from_object!(HoldMiss { id: "id", at: "at" });
from_object!(ListRow {
    id: "id",
    outcome: "outcome"
});
from_object!(ListLine {
    line: "line",
    text: "text"
});
from_object!(ListPreview {
    rows: "rows",
    invalid: "invalid",
    repeated: "repeated",
    protectable: "protectable",
    already_protected: "alreadyProtected",
    in_hold: "inHold",
    no_recording: "noRecording",
    not_found: "notFound",
    before: "before",
    after: "after",
    cap: "cap",
    refusal: "refusal",
});
from_object!(HoldList {
    entities: "entities",
    settings: "settings"
});
from_object!(OrgSettings {
    two_person_release: "twoPersonRelease"
});
from_object!(ReleaseRequest {
    id: "id",
    hold: "hold",
    requested_by_id: "requestedById",
    requested_by: "requestedBy",
    reason: "reason",
    requested_at: "requestedAt",
    interactions: "interactions",
});
from_object!(HoldMember {
    id: "id",
    start_time: "startTime",
    queue: "queue",
    added_at: "addedAt",
    added_by: "addedBy",
    reason: "reason",
    protected: "protected",
});
from_object!(ReleaseCounts {
    covered: "covered",
    stay_protected: "stayProtected",
    deletable: "deletable",
    past_due_recordings: "pastDueRecordings",
});
from_object!(HoldDetails {
    hold: "hold",
    release: "release",
    members: "members",
    missed: "missed",
    pending: "pending",
    settings: "settings",
});
from_object!(Client {
    ip: "ip",
    user_agent: "userAgent",
    api_client: "apiClient",
});
from_object!(Details {
    recordings: "recordings",
    reason: "reason",
    old_date: "oldDate",
    new_date: "newDate",
    message: "message",
    hold: "hold",
});
from_object!(AuditEvent {
    seq: "seq",
    time: "time",
    org: "org",
    actor: "actor",
    client: "client",
    action: "action",
    entity_type: "entityType",
    entity_id: "entityId",
    details: "details",
});
from_object!(AuditPage {
    entities: "entities",
    total: "total",
    page: "page",
    page_size: "pageSize",
    chain_verified: "chainVerified",
    chain_error: "chainError",
});
from_object!(Due {
    deletable: "deletable",
    protected: "protected",
});
from_object!(ForecastDay {
    date: "date",
    deletable: "deletable",
    protected: "protected",
});
from_object!(Forecast {
    now: "now",
    past_due: "pastDue",
    days: "days",
});
from_object!(SavedView {
    id: "id",
    name: "name",
    query: "query"
});
from_object!(ErrorBody {
    message: "message",
    code: "code",
    status: "status",
    plan: "plan",
});

impl FromJson for EffectiveDeletion {
    fn from_json(value: &Json) -> Result<Self, WireError> {
        match value.field::<String>("kind")?.as_str() {
            "protected" => Ok(EffectiveDeletion::Protected),
            "never" => Ok(EffectiveDeletion::Never),
            "deleted" => Ok(EffectiveDeletion::Deleted),
            "on" => value.field("date").map(EffectiveDeletion::On),
            _ => error("expected a known kind of deletion"),
        }
    }
}

impl FromJson for Actor {
    fn from_json(value: &Json) -> Result<Self, WireError> {
        match value.field::<String>("type")?.as_str() {
            "user" => Ok(Actor::User {
                id: value.field("id")?,
                name: value.field("name")?,
            }),
            "system" => Ok(Actor::System),
            _ => error("expected a known actor"),
        }
    }
}

impl FromJson for Count {
    fn from_json(value: &Json) -> Result<Self, WireError> {
        match value {
            Json::Object(members) => match members.as_slice() {
                [(kind, _)] if kind == "exact" => value.field("exact").map(Count::Exact),
                [(kind, _)] if kind == "moreThan" => value.field("moreThan").map(Count::MoreThan),
                _ => error("expected {\"exact\": n} or {\"moreThan\": n}"),
            },
            _ => error("expected a count"),
        }
    }
}

impl FromJson for PlanError {
    fn from_json(value: &Json) -> Result<Self, WireError> {
        match value.field::<String>("kind")?.as_str() {
            "missingPermission" => Ok(PlanError::MissingPermission {
                permission: value.field("permission")?,
            }),
            "emptySelection" => Ok(PlanError::EmptySelection),
            "nothingToDo" => Ok(PlanError::NothingToDo {
                unchanged: value.field("unchanged")?,
                without_recording: value.field("without_recording")?,
            }),
            "overCap" => Ok(PlanError::OverCap {
                new: value.field("new")?,
                headroom: value.field("headroom")?,
                cap: value.field("cap")?,
            }),
            "unknownHold" => Ok(PlanError::UnknownHold),
            "holdReleased" => Ok(PlanError::HoldReleased),
            _ => error("expected a known refusal"),
        }
    }
}

// ---- Requests ----

impl ToJson for LoginRequest {
    fn to_json(&self) -> Json {
        Json::object(vec![
            ("username", self.username.to_json()),
            ("password", self.password.to_json()),
        ])
    }
}

impl ToJson for Selection {
    fn to_json(&self) -> Json {
        match self {
            Selection::Ids { ids } => Json::object(vec![
                ("kind", Json::Str("ids".to_owned())),
                ("ids", ids.to_json()),
            ]),
            Selection::Filter { query, except } => Json::object(vec![
                ("kind", Json::Str("filter".to_owned())),
                ("query", query.to_json()),
                ("except", except.to_json()),
            ]),
        }
    }
}

impl ToJson for SummaryRequest {
    fn to_json(&self) -> Json {
        Json::object(vec![("selection", self.selection.to_json())])
    }
}

impl ToJson for ProtectRequest {
    fn to_json(&self) -> Json {
        Json::object(vec![
            ("action", self.action.to_json()),
            ("selection", self.selection.to_json()),
            ("reason", self.reason.to_json()),
            ("hold", self.hold.to_json()),
        ])
    }
}

impl ToJson for CreateHoldRequest {
    fn to_json(&self) -> Json {
        Json::object(vec![
            ("name", self.name.to_json()),
            ("query", self.query.to_json()),
            ("caseReference", self.case_reference.to_json()),
            ("description", self.description.to_json()),
        ])
    }
}

impl ToJson for ListRequest {
    fn to_json(&self) -> Json {
        Json::object(vec![
            ("text", self.text.to_json()),
            ("reason", self.reason.to_json()),
        ])
    }
}

impl ToJson for OrgSettings {
    fn to_json(&self) -> Json {
        Json::object(vec![(
            "twoPersonRelease",
            Json::Bool(self.two_person_release),
        )])
    }
}

impl ToJson for ReleaseHoldRequest {
    fn to_json(&self) -> Json {
        Json::object(vec![("reason", self.reason.to_json())])
    }
}

impl ToJson for SaveViewRequest {
    fn to_json(&self) -> Json {
        Json::object(vec![
            ("name", self.name.to_json()),
            ("query", self.query.to_json()),
        ])
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde::Serialize;
    use serde::de::DeserializeOwned;

    use super::*;
    use crate::time;

    /// Reads serde's encoding of `value` with this module and expects `value` back.
    fn reads_serde<T>(value: &T)
    where
        T: FromJson + Serialize + PartialEq + fmt::Debug,
    {
        let text = serde_json::to_string(value).unwrap();
        assert_eq!(&decode::<T>(&text).unwrap(), value, "reading {text}");
    }

    /// Writes `value` with this module and expects serde to read it back as `value`, and the JSON
    /// to be the same as serde's.
    fn writes_like_serde<T>(value: &T)
    where
        T: ToJson + Serialize + DeserializeOwned + PartialEq + fmt::Debug,
    {
        let text = encode(value);
        let ours: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(ours, serde_json::to_value(value).unwrap(), "{text}");
        assert_eq!(&serde_json::from_str::<T>(&text).unwrap(), value);
    }

    fn at(text: &str) -> Instant {
        time::parse(text).unwrap()
    }

    fn conversation(n: u128, protected: bool) -> ConversationRow {
        ConversationRow {
            id: ConversationId::from_uuid(uuid::Uuid::from_u128(n)),
            start_time: at("2026-11-25T09:00:00.250Z"),
            end_time: at("2026-11-25T09:04:05Z"),
            duration_ms: 245_000,
            direction: match protected {
                true => Direction::Inbound,
                false => Direction::Outbound,
            },
            queue: protected.then(|| "Sales \"EU\"".to_owned()),
            agents: vec!["Ana Chen".to_owned(), "Zoë Ødegård".to_owned()],
            remote_party: (!protected).then(|| "+44 20 7946 0000".to_owned()),
            wrap_up: protected.then(|| "Callback scheduled".to_owned()),
            media: Media::ALL.to_vec(),
            recording_count: 3,
            protected,
            deletion_date: (!protected).then(|| at("2027-01-01T00:00:00Z")),
        }
    }

    #[test]
    fn reads_every_answer_the_app_reads() {
        reads_serde(&crate::forecast::forecast(
            at("2026-12-06T15:30:00.125Z"),
            2,
            [(None, true, 3), (Some(1), false, 7)],
        ));
        reads_serde(&Me {
            user_id: UserId::from_uuid(uuid::Uuid::from_u128(7)),
            username: "manager".to_owned(),
            display_name: "Maria Manager".to_owned(),
            org_id: OrgId::from_uuid(uuid::Uuid::from_u128(8)),
            org_name: "Northwind".to_owned(),
            permissions: vec![Permission::ProtectionApply.as_str().to_owned()],
        });
        reads_serde(&ConversationPage {
            entities: vec![conversation(1, true), conversation(2, false)],
            total: 3_000_000_000,
            total_exact: false,
            page: 2,
            page_size: 25,
        });
        let summary = SelectionSummary {
            protected: 1,
            protectable: Count::Exact(2),
            without_recording: Count::MoreThan(10_000),
            past_due_recordings: 4,
            held: 5,
        };
        let org = OrgStatusDto {
            protected: 40,
            cap: 1000,
        };
        reads_serde(&SummaryResponse { summary, org });
        reads_serde(&ProtectResponse {
            changed: 1,
            unchanged: Count::MoreThan(10_000),
            without_recording: Count::Exact(3),
            not_found: 4,
            joined: 2,
            requested: true,
            org,
            outcomes: [
                Outcome::Changed,
                Outcome::Unchanged,
                Outcome::NoRecording,
                Outcome::NotFound,
            ]
            .into_iter()
            .enumerate()
            .map(|(i, outcome)| ConversationOutcome {
                id: ConversationId::from_uuid(uuid::Uuid::from_u128(i as u128)),
                outcome,
            })
            .collect(),
        });
        let recording = |n: u128, effective_deletion| RecordingInfo {
            id: RecordingId::from_uuid(uuid::Uuid::from_u128(n)),
            media: Media::ALL[n as usize % Media::ALL.len()],
            role: match n % 2 {
                0 => RecordingRole::Policy,
                _ => RecordingRole::Adhoc,
            },
            created_at: at("2026-11-25T09:00:01Z"),
            duration_ms: n.is_multiple_of(2).then_some(61_000),
            size_bytes: (!n.is_multiple_of(2)).then_some(2048),
            file_state: match effective_deletion {
                EffectiveDeletion::Deleted => FileState::Deleted,
                _ => FileState::Available,
            },
            delete_date: n.is_multiple_of(2).then(|| at("2026-12-01T00:00:00Z")),
            effective_deletion,
            has_media: n.is_multiple_of(2),
            transcript: (!n.is_multiple_of(2)).then(|| "Hello\nline two\t\u{1}".to_owned()),
            date_reason: n.is_multiple_of(2).then(|| {
                "retention policy “Calls” on arrival: deleted 90 days after creation".to_owned()
            }),
            date_set_at: n.is_multiple_of(2).then(|| at("2026-11-25T09:00:02Z")),
            attachments: vec![AttachmentInfo {
                id: format!("att-{n}"),
                name: "invoice.pdf".to_owned(),
                content_type: "application/pdf".to_owned(),
                size_bytes: 10,
            }],
        };
        for protection in [
            None,
            Some(ProtectionInfo {
                since: at("2026-11-20T10:00:00Z"),
                by: "Maria Manager".to_owned(),
                reason: Some("Case 4711".to_owned()),
            }),
        ] {
            reads_serde(&ConversationDetails {
                conversation: conversation(5, protection.is_some()),
                recordings: vec![
                    recording(1, EffectiveDeletion::Protected),
                    recording(2, EffectiveDeletion::Never),
                    recording(3, EffectiveDeletion::Deleted),
                    recording(4, EffectiveDeletion::On(at("2026-12-24T18:00:00Z"))),
                ],
                holds: match protection {
                    Some(_) => vec![
                        HoldRef {
                            id: HoldId::DEFAULT,
                            name: "Default hold".to_owned(),
                            case_reference: None,
                        },
                        HoldRef {
                            id: HoldId::from_uuid(uuid::Uuid::from_u128(3)),
                            name: "Smith".to_owned(),
                            case_reference: Some("CV-1".to_owned()),
                        },
                    ],
                    None => Vec::new(),
                },
                protection,
            });
        }
        let hold = |n: u128, released: bool| HoldInfo {
            id: HoldId::from_uuid(uuid::Uuid::from_u128(n)),
            name: format!("Matter {n}"),
            case_reference: n.is_multiple_of(2).then(|| format!("CV-{n}")),
            description: released.then(|| "line 1\nline 2".to_owned()),
            owner: "maria".to_owned(),
            created_at: at("2026-11-20T10:00:00Z"),
            released_at: released.then(|| at("2026-12-01T10:00:00.5Z")),
            released_by: released.then(|| "lee".to_owned()),
            conversations: if released { 0 } else { 12 },
            query: released.then(|| "queue=Billing&agent=Chen".to_owned()),
            missed: if released { 2 } else { 0 },
        };
        reads_serde(&HoldList {
            entities: vec![hold(1, false), hold(2, true)],
            settings: OrgSettings {
                two_person_release: true,
            },
        });
        writes_like_serde(&OrgSettings {
            two_person_release: true,
        });
        reads_serde(&ListPreview {
            rows: vec![ListRow {
                id: ConversationId::from_uuid(uuid::Uuid::from_u128(5)),
                outcome: ListOutcome::InHold,
            }],
            invalid: vec![ListLine {
                line: 3,
                text: "x".to_owned(),
            }],
            repeated: 1,
            protectable: 2,
            already_protected: 3,
            in_hold: 4,
            no_recording: 5,
            not_found: 6,
            before: 7,
            after: 9,
            cap: 10,
            refusal: Some(PlanError::HoldReleased),
        });
        reads_serde(&HoldDetails {
            hold: hold(4, false),
            release: ReleaseCounts {
                covered: 12,
                stay_protected: 2,
                deletable: 10,
                past_due_recordings: 3,
            },
            members: vec![HoldMember {
                id: ConversationId::from_uuid(uuid::Uuid::from_u128(5)),
                start_time: at("2026-11-01T08:00:00Z"),
                queue: Some("Billing".to_owned()),
                added_at: at("2026-11-20T10:00:00Z"),
                added_by: "maria".to_owned(),
                reason: None,
                protected: true,
            }],
            missed: vec![HoldMiss {
                id: ConversationId::from_uuid(uuid::Uuid::from_u128(6)),
                at: at("2026-11-21T10:00:00.25Z"),
            }],
            pending: vec![ReleaseRequest {
                id: "r-1".to_owned(),
                hold: HoldId::from_uuid(uuid::Uuid::from_u128(4)),
                requested_by_id: UserId::from_uuid(uuid::Uuid::from_u128(9)),
                requested_by: "maria".to_owned(),
                reason: Some("settled".to_owned()),
                requested_at: at("2026-12-01T10:00:00Z"),
                interactions: Some(12),
            }],
            settings: OrgSettings::default(),
        });
        let event = |seq: u64, action, actor| AuditEvent {
            seq,
            time: at("2026-11-25T22:00:00.123Z"),
            org: OrgId::from_uuid(uuid::Uuid::from_u128(8)),
            actor,
            client: Client {
                ip: Some("203.0.113.9".to_owned()),
                user_agent: seq.is_multiple_of(2).then(|| "Chromium".to_owned()),
                api_client: (!seq.is_multiple_of(2)).then(|| "holdfast-sync".to_owned()),
            },
            action,
            entity_type: [
                EntityType::Conversation,
                EntityType::Recording,
                EntityType::User,
                EntityType::RetentionPolicy,
                EntityType::Hold,
                EntityType::Organization,
            ][seq as usize % 6],
            entity_id: format!("entity-{seq}"),
            details: Details {
                recordings: vec![RecordingId::from_uuid(uuid::Uuid::from_u128(9))],
                reason: Some("legal".to_owned()),
                old_date: seq.is_multiple_of(3).then(|| "2026-12-01".to_owned()),
                new_date: Some("2027-01-01".to_owned()),
                message: (!seq.is_multiple_of(3)).then(|| "sweep".to_owned()),
                hold: seq.is_multiple_of(2).then(|| format!("hold-{seq}")),
            },
        };
        reads_serde(&AuditPage {
            entities: AuditAction::ALL
                .iter()
                .enumerate()
                .map(|(i, action)| {
                    let actor = match i % 2 {
                        0 => Actor::System,
                        _ => Actor::User {
                            id: UserId::from_uuid(uuid::Uuid::from_u128(7)),
                            name: "Maria".to_owned(),
                        },
                    };
                    event(i as u64 + 1, *action, actor)
                })
                .collect(),
            total: 7,
            page: 1,
            page_size: 50,
            chain_verified: false,
            chain_error: Some("event 3 was altered".to_owned()),
        });
        reads_serde(&vec![SavedView {
            id: "v1".to_owned(),
            name: "Open cases".to_owned(),
            query: "protected=yes".to_owned(),
        }]);
        let refusals = [
            None,
            Some(PlanError::MissingPermission {
                permission: Permission::ProtectionRevoke,
            }),
            Some(PlanError::EmptySelection),
            Some(PlanError::NothingToDo {
                unchanged: Count::Exact(2),
                without_recording: Count::MoreThan(10_000),
            }),
            Some(PlanError::OverCap {
                new: Count::Exact(3000),
                headroom: 960,
                cap: 1000,
            }),
            Some(PlanError::OverCap {
                new: Count::MoreThan(10_000),
                headroom: 960,
                cap: 1000,
            }),
        ];
        for plan in refusals {
            reads_serde(&ErrorBody {
                message: "Over the limit".to_owned(),
                code: "protection.limit.exceeded".to_owned(),
                status: 409,
                plan,
            });
        }
    }

    #[test]
    fn writes_every_request_the_app_sends() {
        let ids = vec![
            ConversationId::from_uuid(uuid::Uuid::from_u128(1)),
            ConversationId::from_uuid(uuid::Uuid::from_u128(2)),
        ];
        writes_like_serde(&LoginRequest {
            username: "manager".to_owned(),
            password: "p\"w\\d\u{7f}\u{0}".to_owned(),
        });
        for selection in [
            Selection::Ids { ids: ids.clone() },
            Selection::Filter {
                query: "protected=no&agent=Chen".to_owned(),
                except: ids,
            },
        ] {
            writes_like_serde(&SummaryRequest {
                selection: selection.clone(),
            });
            for (action, reason) in [
                (ProtectAction::Protect, Some("Case 4711".to_owned())),
                (ProtectAction::Release, None),
            ] {
                for hold in [None, Some(HoldId::from_uuid(uuid::Uuid::from_u128(3)))] {
                    writes_like_serde(&ProtectRequest {
                        action,
                        selection: selection.clone(),
                        reason: reason.clone(),
                        hold,
                    });
                }
            }
        }
        writes_like_serde(&CreateHoldRequest {
            query: Some("queue=Billing".to_owned()),
            name: "Smith v. Northwind".to_owned(),
            case_reference: Some("CV-2026-114".to_owned()),
            description: None,
        });
        writes_like_serde(&ListRequest {
            text: "a\nb,c".to_owned(),
            reason: None,
        });
        writes_like_serde(&ReleaseHoldRequest {
            reason: Some("settled".to_owned()),
        });
        for query in [None, Some("sort=date.asc".to_owned())] {
            writes_like_serde(&SaveViewRequest {
                name: "Open cases".to_owned(),
                query,
            });
        }
    }

    #[test]
    fn refuses_what_is_not_the_type() {
        let refused = |text: &str| decode::<OrgStatusDto>(text).unwrap_err().0;
        assert_eq!(refused(r#"{"protected":1}"#), "cap: expected a number");
        assert_eq!(
            refused(r#"{"protected":-1,"cap":1}"#),
            "protected: number out of range"
        );
        assert_eq!(refused(r#"[1]"#), "expected an object");
        assert_eq!(
            refused(r#"{"protected":1.5,"cap":1}"#),
            "expected a whole number at byte 14"
        );
        assert!(
            decode::<ConversationRow>(r#"{"id":"not-a-uuid"}"#)
                .unwrap_err()
                .0
                .starts_with("id: expected an id")
        );
        let deletion = r#"{"kind":"later"}"#;
        assert_eq!(
            decode::<EffectiveDeletion>(deletion).unwrap_err().0,
            "expected a known kind of deletion"
        );
    }

    #[test]
    fn refuses_malformed_text() {
        for text in [
            "",
            "{",
            "[1,]",
            "[1 2]",
            r#"{"a" 1}"#,
            r#"{"a":1,}"#,
            r#"{a:1}"#,
            "01",
            "-",
            "1e3",
            "99999999999999999999",
            r#""abc"#,
            r#""\x""#,
            r#""\ud800""#,
            r#""\ud800\u0041""#,
            "\"a\u{1}b\"",
            "nul",
            "true false",
            "[]]",
        ] {
            assert!(Json::parse(text).is_err(), "accepted {text:?}");
        }
        let deep = "[".repeat(MAX_DEPTH + 2) + &"]".repeat(MAX_DEPTH + 2);
        assert!(
            Json::parse(&deep)
                .unwrap_err()
                .0
                .starts_with("nested too deeply")
        );
        let fine = "[".repeat(MAX_DEPTH) + &"]".repeat(MAX_DEPTH);
        assert!(Json::parse(&fine).is_ok());
    }

    fn from_serde(value: &serde_json::Value) -> Json {
        match value {
            serde_json::Value::Null => Json::Null,
            serde_json::Value::Bool(b) => Json::Bool(*b),
            serde_json::Value::Number(n) => Json::Int(n.as_i64().unwrap()),
            serde_json::Value::String(s) => Json::Str(s.clone()),
            serde_json::Value::Array(items) => Json::Array(items.iter().map(from_serde).collect()),
            serde_json::Value::Object(members) => Json::Object(
                members
                    .iter()
                    .map(|(k, v)| (k.clone(), from_serde(v)))
                    .collect(),
            ),
        }
    }

    fn any_json() -> impl Strategy<Value = serde_json::Value> {
        let leaf = prop_oneof![
            Just(serde_json::Value::Null),
            any::<bool>().prop_map(serde_json::Value::Bool),
            any::<i64>().prop_map(|n| serde_json::Value::Number(n.into())),
            any::<String>().prop_map(serde_json::Value::String),
        ];
        leaf.prop_recursive(4, 32, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::Array),
                prop::collection::btree_map(any::<String>(), inner, 0..6)
                    .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        /// Whatever serde_json writes (compact or pretty), the reader reads as the same value, and
        /// the writer's text reads back the same too.
        #[test]
        fn agrees_with_serde_json(value in any_json()) {
            let expected = from_serde(&value);
            prop_assert_eq!(&Json::parse(&value.to_string()).unwrap(), &expected);
            prop_assert_eq!(&Json::parse(&serde_json::to_string_pretty(&value).unwrap()).unwrap(), &expected);
            let mut ours = String::new();
            expected.write(&mut ours);
            prop_assert_eq!(serde_json::from_str::<serde_json::Value>(&ours).unwrap(), value);
        }

        /// Any text: an answer or an error, never a panic.
        #[test]
        fn never_panics(text in "\\PC{0,40}") {
            let _ = Json::parse(&text);
        }
    }
}
