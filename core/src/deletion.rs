//! Rules 3, 4, 5 and 11: what may delete a recording, by hand or by policy, and what deletion
//! date a user is shown.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::domain::{FileState, Permission, Permissions};
use crate::time::Instant;

/// The facts about one recording that deletion decisions read.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct RecordingState {
    /// Whether its conversation is protected. Protection covers every recording of the
    /// conversation, whatever its media or role, and those that join later (rule 2).
    pub protected: bool,
    pub state: FileState,
    pub delete_date: Option<Instant>,
}

/// Why a manual deletion or a change of deletion date is refused.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum DeletionRefusal {
    /// The caller lacks `recording:recording:editRetention`.
    MissingPermission { permission: Permission },
    /// The conversation is protected: audited as `DeletionBlocked`, answered with 409.
    Protected,
    /// The recording is already deleted.
    AlreadyDeleted,
}

impl fmt::Display for DeletionRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeletionRefusal::MissingPermission { permission } => {
                write!(f, "you do not have the permission {permission}")
            }
            DeletionRefusal::Protected => f.write_str(
                "the conversation is protected from deletion; release its protection first",
            ),
            DeletionRefusal::AlreadyDeleted => f.write_str("the recording is already deleted"),
        }
    }
}

impl std::error::Error for DeletionRefusal {}

/// Rule 4: may the caller delete this recording (or its transcript or attachments) by hand now?
pub fn manual_deletion(perms: Permissions, rec: &RecordingState) -> Result<(), DeletionRefusal> {
    if !perms.contains(Permission::EditRetention) {
        return Err(DeletionRefusal::MissingPermission {
            permission: Permission::EditRetention,
        });
    }
    if rec.state == FileState::Deleted {
        return Err(DeletionRefusal::AlreadyDeleted);
    }
    if rec.protected {
        return Err(DeletionRefusal::Protected);
    }
    Ok(())
}

/// What setting a new deletion date does.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum DeleteDateChange {
    /// Store the date (or none, meaning keep); it applies as usual.
    Store,
    /// Store the future date; it is suspended while the conversation is protected.
    StoreSuspended,
    /// The date is not in the future: this is a manual deletion, done now.
    DeleteNow,
}

/// Rule 4: setting a deletion date in the past (or now) counts as manual deletion; a future date
/// may be stored while protected and is suspended until release.
pub fn set_delete_date(
    perms: Permissions,
    rec: &RecordingState,
    new_date: Option<Instant>,
    now: Instant,
) -> Result<DeleteDateChange, DeletionRefusal> {
    if !perms.contains(Permission::EditRetention) {
        return Err(DeletionRefusal::MissingPermission {
            permission: Permission::EditRetention,
        });
    }
    if rec.state == FileState::Deleted {
        return Err(DeletionRefusal::AlreadyDeleted);
    }
    match new_date {
        Some(date) if date <= now => {
            manual_deletion(perms, rec).map(|()| DeleteDateChange::DeleteNow)
        }
        _ if rec.protected => Ok(DeleteDateChange::StoreSuspended),
        _ => Ok(DeleteDateChange::Store),
    }
}

/// Rule 5: the sweep deletes an available recording whose date has come, unless protected.
pub fn sweep_eligible(rec: &RecordingState, now: Instant) -> bool {
    !rec.protected
        && rec.state == FileState::Available
        && rec.delete_date.is_some_and(|date| date <= now)
}

/// The deletion date a user is shown.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(tag = "kind", content = "date", rename_all = "camelCase")]
pub enum EffectiveDeletion {
    /// Protected: no date applies while the protection lasts (rule 3).
    Protected,
    /// Kept: no retention date.
    Never,
    /// Already deleted.
    Deleted,
    /// Deleted by the sweep on or after this date.
    On(#[serde(with = "crate::time::iso")] Instant),
}

/// The deletion date to show for a recording: "Protected" while protected.
pub fn effective_deletion(rec: &RecordingState) -> EffectiveDeletion {
    match (rec.protected, rec.state, rec.delete_date) {
        (_, FileState::Deleted, _) => EffectiveDeletion::Deleted,
        (true, _, _) => EffectiveDeletion::Protected,
        (false, _, None) => EffectiveDeletion::Never,
        (false, _, Some(date)) => EffectiveDeletion::On(date),
    }
}

/// Rule 6: the recordings a release hands to the next sweep, those whose date has passed.
pub fn past_due_on_release(recordings: &[RecordingState], now: Instant) -> usize {
    recordings
        .iter()
        .filter(|r| {
            sweep_eligible(
                &RecordingState {
                    protected: false,
                    ..**r
                },
                now,
            )
        })
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::parse;

    fn at(text: &str) -> Instant {
        parse(text).unwrap()
    }

    const NOW: &str = "2026-11-25T12:00:00Z";
    const PAST: &str = "2026-11-01T00:00:00Z";
    const FUTURE: &str = "2027-01-01T00:00:00Z";

    fn rec(protected: bool, state: FileState, date: Option<&str>) -> RecordingState {
        RecordingState {
            protected,
            state,
            delete_date: date.map(at),
        }
    }

    fn editor() -> Permissions {
        Permissions::of(&[Permission::EditRetention])
    }

    #[test]
    fn rule_4_manual_deletion() {
        use DeletionRefusal::*;
        use FileState::*;
        let cases = [
            (editor(), rec(false, Available, None), Ok(())),
            (editor(), rec(true, Available, Some(FUTURE)), Err(Protected)),
            (editor(), rec(false, Deleted, None), Err(AlreadyDeleted)),
            (
                Permissions::NONE,
                rec(false, Available, None),
                Err(MissingPermission {
                    permission: Permission::EditRetention,
                }),
            ),
        ];
        for (perms, r, expect) in cases {
            assert_eq!(manual_deletion(perms, &r), expect, "{r:?}");
        }
    }

    #[test]
    fn rule_4_setting_dates() {
        use DeleteDateChange::*;
        use FileState::*;
        let now = at(NOW);
        let cases = [
            (rec(false, Available, None), Some(FUTURE), Ok(Store)),
            (rec(false, Available, Some(PAST)), None, Ok(Store)),
            (rec(true, Available, None), Some(FUTURE), Ok(StoreSuspended)),
            (rec(true, Available, Some(FUTURE)), None, Ok(StoreSuspended)),
            (rec(false, Available, None), Some(PAST), Ok(DeleteNow)),
            (rec(false, Available, None), Some(NOW), Ok(DeleteNow)),
            (
                rec(true, Available, None),
                Some(PAST),
                Err(DeletionRefusal::Protected),
            ),
            (
                rec(false, Deleted, None),
                Some(FUTURE),
                Err(DeletionRefusal::AlreadyDeleted),
            ),
        ];
        for (r, date, expect) in cases {
            assert_eq!(
                set_delete_date(editor(), &r, date.map(at), now),
                expect,
                "{r:?} {date:?}"
            );
        }
    }

    #[test]
    fn rule_5_sweep() {
        use FileState::*;
        let now = at(NOW);
        let cases = [
            (rec(false, Available, Some(PAST)), true),
            (rec(false, Available, Some(NOW)), true),
            (rec(false, Available, Some(FUTURE)), false),
            (rec(false, Available, None), false),
            (rec(true, Available, Some(PAST)), false),
            (rec(false, Deleted, Some(PAST)), false),
        ];
        for (r, expect) in cases {
            assert_eq!(sweep_eligible(&r, now), expect, "{r:?}");
        }
    }

    #[test]
    fn effective_dates_and_release_preview() {
        use FileState::*;
        assert_eq!(
            effective_deletion(&rec(true, Available, Some(PAST))),
            EffectiveDeletion::Protected
        );
        assert_eq!(
            effective_deletion(&rec(false, Available, None)),
            EffectiveDeletion::Never
        );
        assert_eq!(
            effective_deletion(&rec(false, Deleted, Some(PAST))),
            EffectiveDeletion::Deleted
        );
        assert_eq!(
            effective_deletion(&rec(false, Available, Some(FUTURE))),
            EffectiveDeletion::On(at(FUTURE))
        );
        let recs = [
            rec(true, Available, Some(PAST)),
            rec(true, Available, Some(FUTURE)),
            rec(true, Available, None),
            rec(true, Deleted, Some(PAST)),
            rec(true, Available, Some(NOW)),
        ];
        assert_eq!(past_due_on_release(&recs, at(NOW)), 2);
    }
}
