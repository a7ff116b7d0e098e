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

/// A number counted up to a bound, so that counting costs the same whatever the size of the
/// data: exact, or more than the bound where counting stopped.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Count {
    Exact(u32),
    MoreThan(u32),
}

impl Default for Count {
    fn default() -> Self {
        Count::Exact(0)
    }
}

impl Count {
    /// The count of rows read with a limit of `bound + 1`: one more than the bound says that
    /// there are more.
    pub const fn of(counted: u32, bound: u32) -> Count {
        match counted > bound {
            true => Count::MoreThan(bound),
            false => Count::Exact(counted),
        }
    }

    pub const fn is_zero(self) -> bool {
        matches!(self, Count::Exact(0))
    }

    /// The exact number, if it is known.
    pub const fn exact(self) -> Option<u32> {
        match self {
            Count::Exact(n) => Some(n),
            Count::MoreThan(_) => None,
        }
    }

    /// Whether it is known to fit within `n`.
    pub const fn fits(self, n: u32) -> bool {
        matches!(self, Count::Exact(c) if c <= n)
    }

    /// The sum: exact only if both are.
    pub const fn plus(self, other: Count) -> Count {
        match (self, other) {
            (Count::Exact(a), Count::Exact(b)) => Count::Exact(a.saturating_add(b)),
            (Count::Exact(a) | Count::MoreThan(a), Count::Exact(b) | Count::MoreThan(b)) => {
                Count::MoreThan(a.saturating_add(b))
            }
        }
    }
}

impl fmt::Display for Count {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Count::Exact(n) => write!(f, "{n}"),
            Count::MoreThan(n) => write!(f, "more than {n}"),
        }
    }
}

/// How far a store counts the conversations of a selection that protecting would protect:
/// past the headroom, so that whether they fit is always known, and past the interactions
/// view's bound, so that the preview is exact wherever the view's total is. Never more than
/// the cap's worth of rows (rule 7 needs no more). `view_bound` is the view's
/// ([`crate::api::total_bound`]).
pub fn counting_bound(org: &OrgStatus, view_bound: u64) -> u32 {
    let view = u32::try_from(view_bound).unwrap_or(u32::MAX);
    org.headroom().max(view)
}

/// What a selection holds, counted by the store within the caller's organization. Every
/// conversation of the selection is in exactly one of the first three counts; the protected
/// ones are few (the cap keeps them so) and always counted exactly, the others up to a bound.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SelectionSummary {
    /// Protected now.
    pub protected: u32,
    /// Not protected and protectable: protecting the selection protects these. Counted at
    /// least to [`counting_bound`].
    pub protectable: Count,
    /// Not protected and not protectable (no recording, or none policy-based and available).
    pub without_recording: Count,
    /// Available recordings of the protected ones whose deletion date has passed: a release
    /// hands them to the next sweep. Those of the held ones are not counted: a release leaves
    /// them protected.
    pub past_due_recordings: u32,
    /// Of the protected ones, those a legal hold (a matter, not the default hold) covers: the
    /// Release button leaves them protected until their hold is released.
    pub held: u32,
}

impl SelectionSummary {
    /// The summary of listed conversations from where each stands: each id once, those not in
    /// the organization nowhere; with the past-due recordings of the protected ones that are
    /// not held, and the protected ones a legal hold covers (`held`, each once).
    pub fn of_standings(
        standings: &[(crate::ids::ConversationId, Standing)],
        held: &[crate::ids::ConversationId],
        past_due_recordings: u32,
    ) -> SelectionSummary {
        let mut seen = std::collections::BTreeSet::new();
        let (mut protected, mut protectable, mut without) = (0u32, 0u32, 0u32);
        for (id, standing) in standings {
            if !seen.insert(*id) {
                continue;
            }
            match standing {
                Standing::Protected => protected += 1,
                Standing::Protectable => protectable += 1,
                Standing::NotProtectable => without += 1,
                Standing::NotFound => {}
            }
        }
        SelectionSummary {
            protected,
            protectable: Count::Exact(protectable),
            without_recording: Count::Exact(without),
            past_due_recordings,
            held: held
                .iter()
                .collect::<std::collections::BTreeSet<_>>()
                .len()
                .try_into()
                .unwrap_or(u32::MAX),
        }
    }

    /// Every conversation the selection matches.
    pub const fn matching(&self) -> Count {
        Count::Exact(self.protected)
            .plus(self.protectable)
            .plus(self.without_recording)
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
    pub unchanged: Count,
    /// Conversations that cannot be protected; they are reported, never silently dropped.
    pub without_recording: Count,
    /// The organization's protected count before and after.
    pub before: u32,
    pub after: u32,
    pub cap: u32,
    /// On release: recordings that the next sweep will delete because their date has passed.
    pub past_due_recordings: u32,
    /// On release: protected conversations that stay protected because a legal hold covers
    /// them (counted in `unchanged`).
    pub held: u32,
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
        unchanged: Count,
        without_recording: Count,
    },
    /// The new protections are not known to fit the remaining headroom: nothing changes
    /// (rule 7).
    OverCap { new: Count, headroom: u32, cap: u32 },
    /// The legal hold named is not the organization's.
    UnknownHold,
    /// The legal hold named was released: it takes nothing more.
    HoldReleased,
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
            PlanError::UnknownHold => f.write_str("no such legal hold"),
            PlanError::HoldReleased => {
                f.write_str("this legal hold is released: it takes no more interactions")
            }
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
    if sel.matching().is_zero() {
        return Err(PlanError::EmptySelection);
    }
    let (change, unchanged, without_recording) = match action {
        ProtectAction::Protect => (
            sel.protectable,
            Count::Exact(sel.protected),
            sel.without_recording,
        ),
        // The held ones stay protected: only their hold's release lets them go.
        ProtectAction::Release => (
            Count::Exact(sel.protected.saturating_sub(sel.held)),
            sel.protectable
                .plus(sel.without_recording)
                .plus(Count::Exact(sel.held.min(sel.protected))),
            Count::Exact(0),
        ),
    };
    if change.is_zero() {
        return Err(PlanError::NothingToDo {
            unchanged,
            without_recording,
        });
    }
    let headroom = org.headroom();
    let (change, after) = match (action, change.exact()) {
        (ProtectAction::Protect, Some(n)) if change.fits(headroom) => (n, org.protected + n),
        // Not known to fit: more than a bound past the headroom, or exactly too many.
        (ProtectAction::Protect, _) => {
            return Err(PlanError::OverCap {
                new: change,
                headroom,
                cap: org.cap.get(),
            });
        }
        (ProtectAction::Release, _) => {
            let released = sel.protected.saturating_sub(sel.held);
            (released, org.protected.saturating_sub(released))
        }
    };
    let (past_due_recordings, held) = match action {
        ProtectAction::Protect => (0, 0),
        ProtectAction::Release => (sel.past_due_recordings, sel.held.min(sel.protected)),
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
        held,
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
            protectable: Count::Exact(sel.1),
            without_recording: Count::Exact(sel.2),
            past_due_recordings: sel.3,
            held: 0,
        };
        let got = plan_protection(&org, Permissions::of(perms), action, &sel).map(|p| {
            (
                p.change,
                p.unchanged.exact().expect("exact"),
                p.without_recording.exact().expect("exact"),
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
                new: Count::Exact(39),
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
                unchanged: Count::Exact(3),
                without_recording: Count::Exact(0),
            }),
        );
        check(
            (1000, 1000),
            ALL,
            P,
            (3, 1, 0, 0),
            Err(PlanError::OverCap {
                new: Count::Exact(1),
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
                new: Count::Exact(1),
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
                new: Count::Exact(1),
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
                unchanged: Count::Exact(0),
                without_recording: Count::Exact(4),
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
                unchanged: Count::Exact(3),
                without_recording: Count::Exact(0),
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
    fn a_release_leaves_the_held_ones_protected() {
        let org = OrgStatus {
            protected: 20,
            cap: Cap::new(1000).unwrap(),
        };
        let sel = |protected, held| SelectionSummary {
            protected,
            protectable: Count::Exact(2),
            without_recording: Count::Exact(1),
            past_due_recordings: 3,
            held,
        };
        let perms = Permissions::of(ALL);
        let plan = plan_protection(&org, perms, ProtectAction::Release, &sel(10, 4)).unwrap();
        assert_eq!(
            (
                plan.change,
                plan.unchanged,
                plan.after,
                plan.held,
                plan.past_due_recordings
            ),
            (6, Count::Exact(7), 14, 4, 3)
        );
        // Every protected one held: nothing to release.
        assert_eq!(
            plan_protection(&org, perms, ProtectAction::Release, &sel(4, 4)),
            Err(PlanError::NothingToDo {
                unchanged: Count::Exact(7),
                without_recording: Count::Exact(0),
            })
        );
        // A protect ignores holds.
        let plan = plan_protection(&org, perms, ProtectAction::Protect, &sel(4, 4)).unwrap();
        assert_eq!((plan.change, plan.held), (2, 0));
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

    /// A selection counted only up to a bound.
    #[track_caller]
    fn check_bounded(
        org: (u32, u32),
        action: ProtectAction,
        (protected, protectable, without): (u32, Count, Count),
        expect: Result<(u32, Count, Count, u32), PlanError>,
    ) {
        let org = OrgStatus {
            protected: org.0,
            cap: Cap::new(org.1).unwrap(),
        };
        let sel = SelectionSummary {
            protected,
            protectable,
            without_recording: without,
            past_due_recordings: 0,
            held: 0,
        };
        let got = plan_protection(&org, Permissions::of(ALL), action, &sel)
            .map(|p| (p.change, p.unchanged, p.without_recording, p.after));
        assert_eq!(got, expect);
    }

    #[test]
    fn plans_from_bounded_counts() {
        use Count::{Exact as E, MoreThan as M};
        use ProtectAction::{Protect as P, Release as R};
        let over = |new, headroom| {
            Err(PlanError::OverCap {
                new,
                headroom,
                cap: 1000,
            })
        };
        // More than the bound, and the bound is past the headroom: refused with what is known.
        check_bounded(
            (40, 1000),
            P,
            (40, M(10_000), M(10_000)),
            over(M(10_000), 960),
        );
        // More than a bound below the headroom: not known to fit, so refused all the same.
        check_bounded((40, 1000), P, (0, M(500), E(0)), over(M(500), 960));
        // Exact and fitting, with a bounded count of the others: planned.
        check_bounded(
            (40, 1000),
            P,
            (3, E(900), M(10_000)),
            Ok((900, E(3), M(10_000), 940)),
        );
        // Releasing needs only the protected ones, which are always exact.
        check_bounded(
            (40, 1000),
            R,
            (40, M(10_000), E(7)),
            Ok((40, M(10_007), E(0), 0)),
        );
        check_bounded(
            (40, 1000),
            R,
            (0, M(10_000), E(0)),
            Err(PlanError::NothingToDo {
                unchanged: M(10_000),
                without_recording: E(0),
            }),
        );
        check_bounded(
            (40, 1000),
            P,
            (0, E(0), E(0)),
            Err(PlanError::EmptySelection),
        );
        check_bounded(
            (40, 1000),
            P,
            (0, E(0), M(10_000)),
            Err(PlanError::NothingToDo {
                unchanged: E(0),
                without_recording: M(10_000),
            }),
        );
    }

    #[test]
    fn a_summary_of_listed_conversations_counts_each_once() {
        use Standing::*;
        let id = |n| crate::ids::ConversationId::from_uuid(uuid::Uuid::from_u128(n));
        let listed = [
            (id(1), Protected),
            (id(2), Protectable),
            (id(2), Protectable),
            (id(3), NotProtectable),
            (id(4), NotFound),
            (id(5), Protectable),
        ];
        assert_eq!(
            SelectionSummary::of_standings(&listed, &[id(1), id(1)], 7),
            SelectionSummary {
                protected: 1,
                protectable: Count::Exact(2),
                without_recording: Count::Exact(1),
                past_due_recordings: 7,
                held: 1,
            }
        );
    }

    #[test]
    fn counts_stop_at_their_bound() {
        use Count::{Exact as E, MoreThan as M};
        assert_eq!(Count::of(0, 10), E(0));
        assert_eq!(Count::of(10, 10), E(10));
        assert_eq!(Count::of(11, 10), M(10));
        assert_eq!(E(2).plus(E(3)), E(5));
        assert_eq!(E(2).plus(M(3)), M(5));
        assert_eq!(M(2).plus(M(3)), M(5));
        assert!(E(960).fits(960) && !E(961).fits(960) && !M(5).fits(960));
        assert_eq!(M(10_000).to_string(), "more than 10000");
        let org = |protected, cap| OrgStatus {
            protected,
            cap: Cap::new(cap).unwrap(),
        };
        assert_eq!(counting_bound(&org(40, 1000), 10_000), 10_000);
        assert_eq!(counting_bound(&org(40, 1_000_000), 10_000), 999_960);
        assert_eq!(counting_bound(&org(40, 1000), 1_000), 1_000);
        assert_eq!(counting_bound(&org(0, 5000), 1_000), 5_000);
    }

    #[test]
    fn over_cap_message_gives_the_numbers() {
        let msg = PlanError::OverCap {
            new: Count::Exact(39),
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
