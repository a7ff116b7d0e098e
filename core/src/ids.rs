//! Identifier newtypes: a conversation id can never be passed where a recording id is meant.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The text given was not a UUID.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdError {
    /// Which kind of id was expected, for the error message.
    pub kind: &'static str,
    /// The rejected text, cut to 64 characters so an error never echoes a huge input.
    pub input: String,
}

impl fmt::Display for IdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "'{}' is not a valid {} id (a UUID)",
            self.input, self.kind
        )
    }
}

impl std::error::Error for IdError {}

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $kind:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            /// Wraps a UUID that is known to identify this kind of entity.
            pub const fn from_uuid(uuid: Uuid) -> Self {
                Self(uuid)
            }

            /// Parses the hyphenated or simple form of a UUID.
            pub fn parse(text: &str) -> Result<Self, IdError> {
                Uuid::try_parse(text.trim()).map(Self).map_err(|_| IdError {
                    kind: $kind,
                    input: text.chars().take(64).collect(),
                })
            }

            /// The UUID inside.
            pub const fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.hyphenated().fmt(f)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0.hyphenated())
            }
        }

        impl FromStr for $name {
            type Err = IdError;
            fn from_str(text: &str) -> Result<Self, IdError> {
                Self::parse(text)
            }
        }
    };
}

id_type!(
    /// An organization (a tenant).
    OrgId,
    "organization"
);
id_type!(
    /// A user of one organization.
    UserId,
    "user"
);
id_type!(
    /// A conversation, which the app calls an interaction.
    ConversationId,
    "conversation"
);
id_type!(
    /// One recording of a conversation.
    RecordingId,
    "recording"
);
id_type!(
    /// A legal hold (a matter) of one organization; [`HoldId::DEFAULT`] is the hold the
    /// Protect and Release buttons and the Genesys flag act on.
    HoldId,
    "hold"
);

impl HoldId {
    /// Every organization's default hold: the nil UUID.
    pub const DEFAULT: HoldId = HoldId(Uuid::nil());

    pub fn is_default(&self) -> bool {
        *self == Self::DEFAULT
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(input: &str, expect: Option<&str>) {
        let got = ConversationId::parse(input).ok().map(|id| id.to_string());
        assert_eq!(got.as_deref(), expect, "input {input:?}");
    }

    #[test]
    fn parses_uuids_and_refuses_the_rest() {
        let id = "6a1b5f0e-2f43-4c5e-9a59-0d6c2f8d1b11";
        check(id, Some(id));
        check(" 6a1b5f0e-2f43-4c5e-9a59-0d6c2f8d1b11 ", Some(id));
        check("6a1b5f0e2f434c5e9a590d6c2f8d1b11", Some(id));
        check("6A1B5F0E-2F43-4C5E-9A59-0D6C2F8D1B11", Some(id));
        check("", None);
        check("not-a-uuid", None);
        check("6a1b5f0e-2f43-4c5e-9a59-0d6c2f8d1b1", None);
        check("6a1b5f0e-2f43-4c5e-9a59-0d6c2f8d1b11x", None);
    }

    #[test]
    fn error_names_the_kind_and_cuts_long_input() {
        let err = RecordingId::parse(&"x".repeat(1000)).unwrap_err();
        assert_eq!(err.kind, "recording");
        assert_eq!(err.input.len(), 64);
        assert!(err.to_string().contains("recording id"));
    }

    #[test]
    fn serde_is_the_plain_string() {
        let id = UserId::parse("6a1b5f0e-2f43-4c5e-9a59-0d6c2f8d1b11").unwrap();
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, "\"6a1b5f0e-2f43-4c5e-9a59-0d6c2f8d1b11\"");
        assert_eq!(serde_json::from_str::<UserId>(&json).unwrap(), id);
        assert!(serde_json::from_str::<UserId>("\"nope\"").is_err());
    }
}
