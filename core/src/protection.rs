//! Rules 1, 2, 6, 7 and 8: which conversations can be protected, and the plan for protecting or
//! releasing a selection against the organization's cap and the caller's permissions.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::domain::{Cap, FileState, Permission, Permissions, RecordingRole};

/// What decides whether one recording makes its conversation protectable.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct RecordingFacts {
    pub role: RecordingRole,
    pub state: FileState,
}

/// Whether one conversation can be protected (rule 1).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Protectability {
    /// It has a policy-based recording that is not deleted.
    Protectable,
    /// It has no recording at all.
    NoRecording,
    /// It has recordings, but none is both policy-based and still available.
    NoAvailablePolicyRecording,
}

/// Rule 1: a conversation is protectable iff it has at least one policy-based recording that is
/// not deleted. Ownership is checked by the caller's scoped lookup: another organization's
/// conversation is never found.
pub fn protectability(recordings: &[RecordingFacts]) -> Protectability {
    if recordings.is_empty() {
        return Protectability::NoRecording;
    }
    let has_policy = recordings
        .iter()
        .any(|r| r.role == RecordingRole::Policy && r.state == FileState::Available);
    match has_policy {
        true => Protectability::Protectable,
        false => Protectability::NoAvailablePolicyRecording,
    }
}

/// Where one listed conversation stands before a protect or release.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Standing {
    Protected,
    Protectable,
    NotProtectable,
    /// Not in the caller's organization (or nowhere).
    NotFound,
}

/// What a protect or release does to one listed conversation.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Outcome {
    Changed,
    Unchanged,
    NoRecording,
    NotFound,
}

impl ProtectAction {
    /// The outcome for a conversation that stood at `standing` when a committed plan ran.
    pub const fn outcome(self, standing: Standing) -> Outcome {
        match (self, standing) {
            (_, Standing::NotFound) => Outcome::NotFound,
            (ProtectAction::Protect, Standing::Protectable) => Outcome::Changed,
            (ProtectAction::Protect, Standing::Protected) => Outcome::Unchanged,
            (ProtectAction::Protect, Standing::NotProtectable) => Outcome::NoRecording,
            (ProtectAction::Release, Standing::Protected) => Outcome::Changed,
            (ProtectAction::Release, _) => Outcome::Unchanged,
        }
    }
}

/// Protect or release.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ProtectAction {
    Protect,
    Release,
}

impl ProtectAction {
    /// The permission the action needs (rule 8).
    pub const fn permission(self) -> Permission {
        match self {
            ProtectAction::Protect => Permission::ProtectionApply,
            ProtectAction::Release => Permission::ProtectionRevoke,
        }
    }
}

/// The organization's standing against its cap.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct OrgStatus {
    /// Conversations protected now.
    pub protected: u32,
    pub cap: Cap,
}

impl OrgStatus {
    /// How many more conversations may be protected; zero when an administrator lowered the cap
    /// below the count.
    pub const fn headroom(&self) -> u32 {
        self.cap.get().saturating_sub(self.protected)
    }
}

/// What a selection holds, counted by the store within the caller's organization. Every
/// conversation of the selection is in exactly one of the first three counts.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SelectionSummary {
    /// Protected now.
    pub protected: u32,
    /// Not protected and protectable: protecting the selection protects these.
    pub protectable: u32,
    /// Not protected and not protectable (no recording, or none policy-based and available).
    pub without_recording: u32,
    /// Available recordings of the protected ones whose deletion date has passed: a release
    /// hands them to the next sweep.
    pub past_due_recordings: u32,
}

impl SelectionSummary {
    /// Every conversation the selection matches.
    pub const fn matching(&self) -> u32 {
        self.protected + self.protectable + self.without_recording
    }
}

/// What a protect or release will do, shown to the user before anything is sent and re-computed
/// by the server inside the write transaction.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProtectPlan {
    pub action: ProtectAction,
    /// Conversations whose protection changes.
    pub change: u32,
    /// Conversations already in the wanted state: they cost nothing and change nothing.
    pub unchanged: u32,
    /// Conversations that cannot be protected; they are reported, never silently dropped.
    pub without_recording: u32,
    /// The organization's protected count before and after.
    pub before: u32,
    pub after: u32,
    pub cap: u32,
    /// On release: recordings that the next sweep will delete because their date has passed.
    pub past_due_recordings: u32,
}

/// Why a protect or release is refused as a whole.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum PlanError {
    /// The caller lacks the permission the action needs.
    MissingPermission { permission: Permission },
    /// The selection matches no conversation.
    EmptySelection,
    /// Every selected conversation is already in the wanted state or cannot be protected.
    NothingToDo {
        unchanged: u32,
        without_recording: u32,
    },
    /// The new protections exceed the remaining headroom: nothing changes (rule 7).
    OverCap { new: u32, headroom: u32, cap: u32 },
}

impl fmt::Display for PlanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PlanError::MissingPermission { permission } => {
                write!(f, "you do not have the permission {permission}")
            }
            PlanError::EmptySelection => f.write_str("no interaction is selected"),
            PlanError::NothingToDo {
                unchanged,
                without_recording,
            } => write!(
                f,
                "nothing to do: {unchanged} already in that state, {without_recording} without a recording that can be protected"
            ),
            PlanError::OverCap { new, headroom, cap } => write!(
                f,
                "protecting {new} more would exceed the limit of {cap} protected conversations; only {headroom} more can be protected"
            ),
        }
    }
}

impl std::error::Error for PlanError {}

/// Rules 6, 7 and 8: the plan for `action` on a selection, or the reason it is refused.
pub fn plan_protection(
    org: &OrgStatus,
    perms: Permissions,
    action: ProtectAction,
    sel: &SelectionSummary,
) -> Result<ProtectPlan, PlanError> {
    let permission = action.permission();
    if !perms.contains(permission) {
        return Err(PlanError::MissingPermission { permission });
    }
    if sel.matching() == 0 {
        return Err(PlanError::EmptySelection);
    }
    let (change, unchanged, without_recording) = match action {
        ProtectAction::Protect => (sel.protectable, sel.protected, sel.without_recording),
        ProtectAction::Release => (sel.protected, sel.protectable + sel.without_recording, 0),
    };
    if change == 0 {
        return Err(PlanError::NothingToDo {
            unchanged,
            without_recording,
        });
    }
    let after = match action {
        ProtectAction::Protect => {
            let headroom = org.headroom();
            if change > headroom {
                return Err(PlanError::OverCap {
                    new: change,
                    headroom,
                    cap: org.cap.get(),
                });
            }
            org.protected + change
        }
        ProtectAction::Release => org.protected.saturating_sub(change),
    };
    let past_due_recordings = match action {
        ProtectAction::Protect => 0,
        ProtectAction::Release => sel.past_due_recordings,
    };
    Ok(ProtectPlan {
        action,
        change,
        unchanged,
        without_recording,
        before: org.protected,
        after,
        cap: org.cap.get(),
        past_due_recordings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use FileState::*;
    use RecordingRole::*;

    #[track_caller]
    fn check_protectable(recordings: &[(RecordingRole, FileState)], expect: Protectability) {
        let facts: Vec<_> = recordings
            .iter()
            .map(|&(role, state)| RecordingFacts { role, state })
            .collect();
        assert_eq!(protectability(&facts), expect);
    }

    #[test]
    fn rule_1_protectability() {
        check_protectable(&[], Protectability::NoRecording);
        check_protectable(&[(Policy, Available)], Protectability::Protectable);
        check_protectable(
            &[(Policy, Deleted), (Policy, Available)],
            Protectability::Protectable,
        );
        check_protectable(
            &[(Adhoc, Available), (Policy, Available)],
            Protectability::Protectable,
        );
        check_protectable(
            &[(Adhoc, Available)],
            Protectability::NoAvailablePolicyRecording,
        );
        check_protectable(
            &[(Policy, Deleted)],
            Protectability::NoAvailablePolicyRecording,
        );
    }

    const ALL: &[Permission] = &[Permission::ProtectionApply, Permission::ProtectionRevoke];

    /// `sel` is (protected, protectable, without recording, past due recordings).
    #[track_caller]
    fn check(
        org: (u32, u32),
        perms: &[Permission],
        action: ProtectAction,
        sel: (u32, u32, u32, u32),
        expect: Result<(u32, u32, u32, u32, u32), PlanError>,
    ) {
        let org = OrgStatus {
            protected: org.0,
            cap: Cap::new(org.1).unwrap(),
        };
        let sel = SelectionSummary {
            protected: sel.0,
            protectable: sel.1,
            without_recording: sel.2,
            past_due_recordings: sel.3,
        };
        let got = plan_protection(&org, Permissions::of(perms), action, &sel).map(|p| {
            (
                p.change,
                p.unchanged,
                p.without_recording,
                p.after,
                p.past_due_recordings,
            )
        });
        assert_eq!(got, expect);
    }

    #[test]
    fn protect_plans() {
        use ProtectAction::Protect as P;
        check((962, 1000), ALL, P, (0, 10, 0, 0), Ok((10, 0, 0, 972, 0)));
        check((962, 1000), ALL, P, (5, 38, 2, 0), Ok((38, 5, 2, 1000, 0)));
        check(
            (962, 1000),
            ALL,
            P,
            (0, 39, 0, 0),
            Err(PlanError::OverCap {
                new: 39,
                headroom: 38,
                cap: 1000,
            }),
        );
        check(
            (1000, 1000),
            ALL,
            P,
            (3, 0, 0, 0),
            Err(PlanError::NothingToDo {
                unchanged: 3,
                without_recording: 0,
            }),
        );
        check(
            (1000, 1000),
            ALL,
            P,
            (3, 1, 0, 0),
            Err(PlanError::OverCap {
                new: 1,
                headroom: 0,
                cap: 1000,
            }),
        );
        check(
            (1200, 1000),
            ALL,
            P,
            (0, 1, 0, 0),
            Err(PlanError::OverCap {
                new: 1,
                headroom: 0,
                cap: 1000,
            }),
        );
        check(
            (0, 0),
            ALL,
            P,
            (0, 1, 0, 0),
            Err(PlanError::OverCap {
                new: 1,
                headroom: 0,
                cap: 0,
            }),
        );
        check(
            (0, 1000),
            ALL,
            P,
            (0, 0, 4, 0),
            Err(PlanError::NothingToDo {
                unchanged: 0,
                without_recording: 4,
            }),
        );
        check(
            (0, 1000),
            ALL,
            P,
            (0, 0, 0, 0),
            Err(PlanError::EmptySelection),
        );
        check(
            (0, 1000),
            &[Permission::ProtectionRevoke],
            P,
            (0, 1, 0, 0),
            Err(PlanError::MissingPermission {
                permission: Permission::ProtectionApply,
            }),
        );
        // Past-due counts only matter on release.
        check((0, 1000), ALL, P, (0, 1, 0, 7), Ok((1, 0, 0, 1, 0)));
    }

    #[test]
    fn release_plans() {
        use ProtectAction::Release as R;
        check((962, 1000), ALL, R, (10, 3, 2, 4), Ok((10, 5, 0, 952, 4)));
        // Release is never limited by the cap, even above it.
        check((1200, 1000), ALL, R, (1, 0, 0, 0), Ok((1, 0, 0, 1199, 0)));
        check(
            (5, 1000),
            ALL,
            R,
            (0, 2, 1, 0),
            Err(PlanError::NothingToDo {
                unchanged: 3,
                without_recording: 0,
            }),
        );
        check(
            (5, 1000),
            &[Permission::ProtectionApply],
            R,
            (1, 0, 0, 0),
            Err(PlanError::MissingPermission {
                permission: Permission::ProtectionRevoke,
            }),
        );
    }

    #[test]
    fn outcomes_per_conversation() {
        use ProtectAction::*;
        use Standing::*;
        let cases = [
            (Protect, Protectable, Outcome::Changed),
            (Protect, Protected, Outcome::Unchanged),
            (Protect, NotProtectable, Outcome::NoRecording),
            (Protect, NotFound, Outcome::NotFound),
            (Release, Protected, Outcome::Changed),
            (Release, Protectable, Outcome::Unchanged),
            (Release, NotProtectable, Outcome::Unchanged),
            (Release, NotFound, Outcome::NotFound),
        ];
        for (action, standing, expect) in cases {
            assert_eq!(action.outcome(standing), expect, "{action:?} {standing:?}");
        }
    }

    #[test]
    fn over_cap_message_gives_the_numbers() {
        let msg = PlanError::OverCap {
            new: 39,
            headroom: 38,
            cap: 1000,
        }
        .to_string();
        assert!(
            msg.contains("39") && msg.contains("38") && msg.contains("1000"),
            "{msg}"
        );
    }
}
