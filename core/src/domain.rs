//! The domain's small value types: media, roles, states, permissions, the reason text and the cap.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Declares a fieldless enum with one canonical lowercase-or-Genesys name per variant, used on the
/// wire, in the URL and in the database alike.
macro_rules! named_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug, Serialize, Deserialize)]
        pub enum $name {
            $($(#[$vdoc])* #[serde(rename = $text)] $variant),+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The canonical name.
            pub const fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            /// Parses the canonical name; anything else is `None`.
            pub fn parse(text: &str) -> Option<Self> {
                match text { $($text => Some($name::$variant),)+ _ => None }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

named_enum!(
    /// What a recording captured.
    Media {
        Call = "call",
        Chat = "chat",
        Email = "email",
        Message = "message",
        Screen = "screen",
    }
);

impl Media {
    /// The name Genesys Cloud uses in a Recording's `media` field (calls are `audio`).
    pub const fn genesys_name(self) -> &'static str {
        match self {
            Media::Call => "audio",
            Media::Chat => "chat",
            Media::Email => "email",
            Media::Message => "message",
            Media::Screen => "screen",
        }
    }

    /// Whether the media is text that can be shown as a transcript, rather than played.
    pub const fn is_text(self) -> bool {
        matches!(self, Media::Chat | Media::Email | Media::Message)
    }
}

named_enum!(
    /// Why a recording exists.
    RecordingRole {
        /// Made by a recording policy (Genesys `CUSTOMER_EXPERIENCE`).
        Policy = "policy",
        /// Started by hand.
        Adhoc = "adhoc",
    }
);

impl RecordingRole {
    /// The Genesys Cloud `recordingFileRole`.
    pub const fn genesys_name(self) -> &'static str {
        match self {
            RecordingRole::Policy => "CUSTOMER_EXPERIENCE",
            RecordingRole::Adhoc => "ADHOC",
        }
    }
}

named_enum!(
    /// Whether a recording's media is still stored.
    FileState {
        Available = "AVAILABLE",
        Deleted = "DELETED",
    }
);

named_enum!(
    /// Who started the conversation.
    Direction {
        Inbound = "inbound",
        Outbound = "outbound",
    }
);

named_enum!(
    /// A permission, with the Genesys Cloud name.
    Permission {
        /// See interactions and recordings.
        RecordingView = "recording:recording:view",
        /// Protect recordings from deletion.
        ProtectionApply = "recording:deletionProtection:apply",
        /// Release protection.
        ProtectionRevoke = "recording:deletionProtection:revoke",
        /// Change deletion dates and delete by hand.
        EditRetention = "recording:recording:editRetention",
        /// Read the audit trail.
        AuditView = "audits:audit:view",
        /// Manage users, roles, policies and the cap.
        Admin = "admin",
    }
);

impl Permission {
    const fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

/// A set of permissions, as granted to a user by the union of their roles.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default, Debug)]
pub struct Permissions(u8);

impl Permissions {
    /// No permission at all.
    pub const NONE: Permissions = Permissions(0);

    /// Builds the set from individual permissions.
    pub fn of(perms: &[Permission]) -> Self {
        perms.iter().fold(Self::NONE, |set, p| set.with(*p))
    }

    /// The set plus one permission.
    pub const fn with(self, perm: Permission) -> Self {
        Permissions(self.0 | perm.bit())
    }

    /// Whether the set holds `perm`.
    pub const fn contains(self, perm: Permission) -> bool {
        self.0 & perm.bit() != 0
    }

    /// The permissions in the set, in declaration order.
    pub fn iter(self) -> impl Iterator<Item = Permission> {
        Permission::ALL
            .iter()
            .copied()
            .filter(move |p| self.contains(*p))
    }

    /// Builds the set from Genesys names; unknown names are returned as the error.
    pub fn from_names<'a>(names: impl IntoIterator<Item = &'a str>) -> Result<Self, String> {
        names.into_iter().try_fold(Self::NONE, |set, name| {
            Permission::parse(name)
                .map(|p| set.with(p))
                .ok_or_else(|| name.to_owned())
        })
    }
}

/// The longest reason accepted, in characters.
pub const REASON_MAX_CHARS: usize = 500;

/// Why a reason text was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReasonError {
    /// Longer than [`REASON_MAX_CHARS`] characters after trimming.
    TooLong { chars: usize, max: usize },
    /// Holds a control character other than a line break or tab.
    ControlCharacter,
}

impl fmt::Display for ReasonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReasonError::TooLong { chars, max } => {
                write!(
                    f,
                    "the reason has {chars} characters; at most {max} are allowed"
                )
            }
            ReasonError::ControlCharacter => f.write_str("the reason holds a control character"),
        }
    }
}

impl std::error::Error for ReasonError {}

/// The free-text reason of a protection, such as a case or matter reference.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize)]
#[serde(transparent)]
pub struct Reason(String);

impl Reason {
    /// Trims the text; an empty text is no reason (`Ok(None)`).
    pub fn new(text: &str) -> Result<Option<Reason>, ReasonError> {
        let text = text.trim();
        if text.is_empty() {
            return Ok(None);
        }
        let chars = text.chars().count();
        if chars > REASON_MAX_CHARS {
            return Err(ReasonError::TooLong {
                chars,
                max: REASON_MAX_CHARS,
            });
        }
        if text
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\t')
        {
            return Err(ReasonError::ControlCharacter);
        }
        Ok(Some(Reason(text.to_owned())))
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The largest cap an administrator may set.
pub const CAP_MAX: u32 = 1_000_000;

/// How many conversations an organization may have protected at once.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize)]
#[serde(transparent)]
pub struct Cap(u32);

impl Cap {
    /// The Genesys Cloud figure, used for new organizations.
    pub const DEFAULT: Cap = Cap(1000);

    /// A cap from 0 (no protection allowed) to [`CAP_MAX`].
    pub fn new(value: u32) -> Option<Cap> {
        (value <= CAP_MAX).then_some(Cap(value))
    }

    /// The number.
    pub const fn get(self) -> u32 {
        self.0
    }
}

impl Default for Cap {
    fn default() -> Self {
        Cap::DEFAULT
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for m in Media::ALL {
            assert_eq!(Media::parse(m.as_str()), Some(*m));
        }
        for p in Permission::ALL {
            assert_eq!(Permission::parse(p.as_str()), Some(*p));
        }
        assert_eq!(Media::parse("audio"), None);
        assert_eq!(Media::Call.genesys_name(), "audio");
        assert_eq!(FileState::Deleted.as_str(), "DELETED");
        assert_eq!(RecordingRole::Policy.genesys_name(), "CUSTOMER_EXPERIENCE");
        assert_eq!(serde_json::to_string(&Media::Email).unwrap(), "\"email\"");
    }

    #[test]
    fn permission_sets() {
        let set = Permissions::of(&[Permission::RecordingView, Permission::ProtectionApply]);
        assert!(set.contains(Permission::ProtectionApply));
        assert!(!set.contains(Permission::ProtectionRevoke));
        assert_eq!(set.iter().count(), 2);
        assert_eq!(
            Permissions::from_names(["recording:deletionProtection:revoke", "admin"]),
            Ok(Permissions::of(&[
                Permission::ProtectionRevoke,
                Permission::Admin
            ]))
        );
        assert_eq!(
            Permissions::from_names(["recording:*"]),
            Err("recording:*".to_owned())
        );
    }

    #[track_caller]
    fn check_reason(input: &str, expect: Result<Option<&str>, ReasonError>) {
        let got = Reason::new(input);
        let got = got
            .as_ref()
            .map(|r| r.as_ref().map(Reason::as_str))
            .map_err(Clone::clone);
        assert_eq!(got, expect, "input {input:?}");
    }

    #[test]
    fn reasons() {
        check_reason("", Ok(None));
        check_reason("   \n ", Ok(None));
        check_reason(" Case 2026-118 ", Ok(Some("Case 2026-118")));
        check_reason("line one\nline two", Ok(Some("line one\nline two")));
        check_reason(&"é".repeat(500), Ok(Some(&"é".repeat(500))));
        check_reason(
            &"é".repeat(501),
            Err(ReasonError::TooLong {
                chars: 501,
                max: 500,
            }),
        );
        check_reason("bell\u{7}", Err(ReasonError::ControlCharacter));
    }

    #[test]
    fn caps() {
        assert_eq!(Cap::default().get(), 1000);
        assert_eq!(Cap::new(0).map(Cap::get), Some(0));
        assert_eq!(Cap::new(CAP_MAX).map(Cap::get), Some(CAP_MAX));
        assert_eq!(Cap::new(CAP_MAX + 1), None);
    }
}
