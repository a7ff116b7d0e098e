//! Legal holds (matters): a named hold, with an optional case reference and description, covers
//! conversations. A conversation is protected while at least one active hold covers it; every
//! organization has a default hold, which the Protect and Release buttons and the Genesys flag
//! act on, so a protection made without naming a hold behaves as it always has.
//!
//! - Adding conversations to a hold protects those not protected (against the cap, as any
//!   protect: [`crate::protection::plan_protection`]) and lets the protected ones join it.
//! - The Release button (and the Genesys flag) releases only conversations no legal hold
//!   covers: the held ones stay protected ([`crate::protection::SelectionSummary::held`]).
//! - Releasing a hold releases the conversations nothing else keeps protected (the default
//!   hold or another active hold); its preview counts them exactly ([`ReleaseCounts`]).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::domain::{Direction, Media, Permission, Permissions};
use crate::ids::{ConversationId, HoldId};
use crate::protection::{
    OrgStatus, PlanError, ProtectAction, ProtectPlan, SelectionSummary, plan_protection,
};
use crate::time::Instant;
use crate::view::Filters;

pub const NAME_MAX_CHARS: usize = 120;
pub const CASE_MAX_CHARS: usize = 100;
pub const DESCRIPTION_MAX_CHARS: usize = 2000;

/// A hold's fields as the user gave them, checked.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct NewHold {
    /// The view filters every interaction it covers matches, now and on arrival (canonical
    /// form); `None`: it covers what is added to it.
    pub query: Option<String>,
    pub name: String,
    pub case_reference: Option<String>,
    pub description: Option<String>,
}

/// Why a hold cannot be created, or released.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum HoldError {
    NameMissing,
    TooLong {
        field: String,
        chars: usize,
        max: usize,
    },
    ControlCharacter {
        field: String,
    },
    /// The caller lacks the permission the change needs.
    MissingPermission {
        permission: Permission,
    },
    /// The hold was released already: it covers nothing more.
    Released,
    /// The default hold is never released as a whole: its conversations are released with
    /// the Release button.
    DefaultHold,
    /// The hold's query does not parse, or names what is not fixed when an interaction
    /// arrives (its protection, recordings or deletion dates), or nothing at all.
    Query {
        message: String,
    },
    /// What the query matches now cannot all be protected (over the cap, say): no hold is
    /// created.
    Refused {
        plan: PlanError,
    },
    /// The organization releases legal holds with two people, and the one who asked cannot
    /// approve.
    SamePerson,
    /// A release of this hold already waits for a second user.
    ReleasePending,
    /// No release of this hold waits for a decision.
    NoReleasePending,
}

impl fmt::Display for HoldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HoldError::NameMissing => f.write_str("a hold needs a name"),
            HoldError::TooLong { field, chars, max } => {
                write!(f, "the {field} has {chars} characters; at most {max} are allowed")
            }
            HoldError::ControlCharacter { field } => {
                write!(f, "the {field} contains a control character")
            }
            HoldError::MissingPermission { permission } => {
                write!(f, "you do not have the permission {permission}")
            }
            HoldError::Released => f.write_str("this hold is released: it covers nothing more"),
            HoldError::DefaultHold => f.write_str(
                "the default hold is not released as a whole: release its interactions with Release",
            ),
            HoldError::Query { message } => write!(f, "the hold's query: {message}"),
            HoldError::Refused { plan } => {
                write!(f, "the interactions the query matches now: {plan}")
            }
            HoldError::SamePerson => f.write_str(
                "you asked for this release: another user with the permission to release approves it",
            ),
            HoldError::ReleasePending => {
                f.write_str("a release of this hold already waits for a second user's approval")
            }
            HoldError::NoReleasePending => {
                f.write_str("no release of this hold waits for a decision")
            }
        }
    }
}

impl std::error::Error for HoldError {}

/// Trims `text`; empty is `None`. Single-line fields refuse every control character, the
/// description allows line breaks and tabs.
fn field(
    text: Option<&str>,
    name: &str,
    max: usize,
    multiline: bool,
) -> Result<Option<String>, HoldError> {
    let Some(text) = text.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    let chars = text.chars().count();
    if chars > max {
        return Err(HoldError::TooLong {
            field: name.to_owned(),
            chars,
            max,
        });
    }
    if text
        .chars()
        .any(|c| c.is_control() && !(multiline && (c == '\n' || c == '\t' || c == '\r')))
    {
        return Err(HoldError::ControlCharacter {
            field: name.to_owned(),
        });
    }
    Ok(Some(text.to_owned()))
}

/// Checks a new hold: a name of 1 to 120 characters, a case reference of at most 100, a
/// description of at most 2,000; creating one needs the permission to protect.
pub fn new_hold(perms: Permissions, request: &CreateHoldRequest) -> Result<NewHold, HoldError> {
    if !perms.contains(Permission::ProtectionApply) {
        return Err(HoldError::MissingPermission {
            permission: Permission::ProtectionApply,
        });
    }
    let name =
        field(Some(&request.name), "name", NAME_MAX_CHARS, false)?.ok_or(HoldError::NameMissing)?;
    let query = match request
        .query
        .as_deref()
        .map(str::trim)
        .filter(|q| !q.is_empty())
    {
        None => None,
        Some(q) => Some(hold_query(q)?.to_query()),
    };
    Ok(NewHold {
        query,
        name,
        case_reference: field(
            request.case_reference.as_deref(),
            "case reference",
            CASE_MAX_CHARS,
            false,
        )?,
        description: field(
            request.description.as_deref(),
            "description",
            DESCRIPTION_MAX_CHARS,
            true,
        )?,
    })
}

/// A hold's query: view filters that describe what an interaction is when it arrives (dates,
/// media, direction, queue, agent, remote party), at least one of them.
pub fn hold_query(query: &str) -> Result<Filters, HoldError> {
    let filters = Filters::from_query(query).map_err(|e| HoldError::Query {
        message: e.to_string(),
    })?;
    let state = [
        ("protected", filters.protected.is_some()),
        ("recorded", filters.has_recording.is_some()),
        ("deletedBefore", filters.deleted_before.is_some()),
        ("hold", filters.hold.is_some()),
    ];
    if let Some((name, _)) = state.iter().find(|(_, set)| *set) {
        return Err(HoldError::Query {
            message: format!(
                "{name} describes an interaction's state, not what it is; a hold's query uses dates, media, direction, queue, agent or remote party"
            ),
        });
    }
    if filters == Filters::default() {
        return Err(HoldError::Query {
            message: "it needs at least one filter; an empty one would match every interaction"
                .to_owned(),
        });
    }
    Ok(filters)
}

/// What an arriving interaction is, as a hold's query reads it.
#[derive(Clone, Copy, Debug)]
pub struct ArrivalFacts<'a> {
    pub start_time: Instant,
    pub direction: Direction,
    pub queue: Option<&'a str>,
    pub agents: &'a [String],
    pub remote_party: Option<&'a str>,
    /// The media of its recordings.
    pub media: &'a [Media],
}

/// Whether an arriving interaction matches a hold's query, as the interactions view's filters
/// match it: the start in [from, to), a recording of one of the media, the direction, the
/// queue exactly, an agent's name and the remote party containing the text (case-insensitive).
pub fn arrival_matches(filters: &Filters, facts: &ArrivalFacts<'_>) -> bool {
    let contains = |text: &str, part: &str| text.to_lowercase().contains(&part.to_lowercase());
    filters.from.is_none_or(|t| facts.start_time >= t)
        && filters.to.is_none_or(|t| facts.start_time < t)
        && (filters.media.is_empty() || facts.media.iter().any(|m| filters.media.contains(m)))
        && filters.direction.is_none_or(|d| d == facts.direction)
        && filters
            .queue
            .as_ref()
            .is_none_or(|q| facts.queue == Some(q.as_str()))
        && filters
            .agent
            .as_ref()
            .is_none_or(|a| facts.agents.iter().any(|name| contains(name, a)))
        && filters
            .remote
            .as_ref()
            .is_none_or(|r| facts.remote_party.is_some_and(|p| contains(p, r)))
}

/// A release of a legal hold asked for and waiting for a second user (two-person release).
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReleaseRequest {
    pub id: String,
    pub hold: HoldId,
    pub requested_by_id: crate::ids::UserId,
    /// The user name of who asked.
    pub requested_by: String,
    pub reason: Option<String>,
    #[serde(with = "crate::time::iso")]
    pub requested_at: Instant,
    /// A release of interactions from the default hold (the Release button, the Genesys flag):
    /// how many it released when asked. `None` for a legal hold released as a whole.
    #[serde(default)]
    pub interactions: Option<u32>,
}

/// Whether `approver` may approve a requested release: the permission to release, and not
/// the one who asked.
pub fn check_approval(
    perms: Permissions,
    request: &ReleaseRequest,
    approver: crate::ids::UserId,
) -> Result<(), HoldError> {
    if !perms.contains(Permission::ProtectionRevoke) {
        return Err(HoldError::MissingPermission {
            permission: Permission::ProtectionRevoke,
        });
    }
    match request.requested_by_id == approver {
        true => Err(HoldError::SamePerson),
        false => Ok(()),
    }
}

/// `PUT /api/org/settings`.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrgSettings {
    /// Releasing a legal hold needs a second user's approval.
    pub two_person_release: bool,
}

/// Whether the caller may release this hold now.
pub fn check_release(perms: Permissions, hold: &HoldInfo) -> Result<(), HoldError> {
    if !perms.contains(Permission::ProtectionRevoke) {
        return Err(HoldError::MissingPermission {
            permission: Permission::ProtectionRevoke,
        });
    }
    if hold.id.is_default() {
        return Err(HoldError::DefaultHold);
    }
    if hold.released_at.is_some() {
        return Err(HoldError::Released);
    }
    Ok(())
}

/// What releasing a hold does, counted exactly (a hold covers at most the cap's worth of
/// protected conversations): each conversation it covers either stays protected or becomes
/// deletable, and the past-due recordings of those are what the next sweep deletes.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReleaseCounts {
    /// Conversations the hold covers now.
    pub covered: u32,
    /// Of those, kept protected by the default hold or another active hold.
    pub stay_protected: u32,
    /// Of those, no longer protected once the hold is released.
    pub deletable: u32,
    /// Available recordings of the deletable ones whose deletion date has passed: the next
    /// sweep deletes them.
    pub past_due_recordings: u32,
}

/// `POST /api/holds`.
#[derive(Clone, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateHoldRequest {
    pub name: String,
    /// View filters (`queue=Billing&agent=Chen`): the hold covers every interaction that
    /// matches them now and every one that arrives later and matches.
    #[serde(default)]
    pub query: Option<String>,
    #[serde(default)]
    pub case_reference: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
}

/// `POST /api/holds/{id}/release`.
#[derive(Clone, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
pub struct ReleaseHoldRequest {
    #[serde(default)]
    pub reason: Option<String>,
}

/// A hold as lists and pages show it.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HoldInfo {
    pub id: HoldId,
    pub name: String,
    pub case_reference: Option<String>,
    pub description: Option<String>,
    /// The user name of who created it.
    pub owner: String,
    #[serde(with = "crate::time::iso")]
    pub created_at: Instant,
    #[serde(with = "crate::time::iso_opt")]
    pub released_at: Option<Instant>,
    pub released_by: Option<String>,
    /// Conversations it covers now (none once released).
    pub conversations: u32,
    /// Its query, if it catches arrivals.
    pub query: Option<String>,
    /// Interactions that matched its query on arrival but could not be protected: the cap
    /// was reached.
    pub missed: u32,
}

impl HoldInfo {
    /// Whether the holds list's search finds it: its name or case reference contains the text,
    /// case-insensitively (no search finds every hold).
    pub fn matches(&self, search: Option<&str>) -> bool {
        let Some(needle) = search.map(str::to_lowercase) else {
            return true;
        };
        self.name.to_lowercase().contains(&needle)
            || self
                .case_reference
                .as_ref()
                .is_some_and(|r| r.to_lowercase().contains(&needle))
    }
}

/// `GET /api/holds`.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct HoldList {
    pub entities: Vec<HoldInfo>,
    /// The organization's settings (two-person release).
    #[serde(default)]
    pub settings: OrgSettings,
}

/// One conversation a hold covers, or covered until its release.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HoldMember {
    pub id: ConversationId,
    #[serde(with = "crate::time::iso")]
    pub start_time: Instant,
    pub queue: Option<String>,
    #[serde(with = "crate::time::iso")]
    pub added_at: Instant,
    pub added_by: String,
    pub reason: Option<String>,
    /// Whether the conversation is protected now (by this hold or another).
    pub protected: bool,
}

/// `GET /api/holds/{id}`: the hold, its conversations and what releasing it would do.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HoldDetails {
    pub hold: HoldInfo,
    pub release: ReleaseCounts,
    pub members: Vec<HoldMember>,
    /// Interactions that matched its query on arrival and were not protected (cap reached),
    /// with when.
    pub missed: Vec<HoldMiss>,
    /// The releases waiting for a second user: one at most for a legal hold; for the default
    /// hold, each Release of interactions asked for.
    pub pending: Vec<ReleaseRequest>,
    #[serde(default)]
    pub settings: OrgSettings,
}

/// An interaction a query hold matched on arrival but could not protect.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HoldMiss {
    pub id: ConversationId,
    #[serde(with = "crate::time::iso")]
    pub at: Instant,
}

/// A hold that covers a conversation, as its details page lists it.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HoldRef {
    pub id: HoldId,
    pub name: String,
    pub case_reference: Option<String>,
}

/// The plan for adding a selection to a legal hold: the unprotected protectable ones are
/// protected against the cap exactly as a protect would ([`plan_protection`]); the protected
/// ones join the hold at no cost, so a selection of protected ones only is not "nothing to do".
pub fn plan_add(
    org: &OrgStatus,
    perms: Permissions,
    sel: &SelectionSummary,
) -> Result<ProtectPlan, PlanError> {
    match plan_protection(org, perms, ProtectAction::Protect, sel) {
        Err(PlanError::NothingToDo {
            unchanged,
            without_recording,
        }) if sel.protected > 0 => Ok(ProtectPlan {
            action: ProtectAction::Protect,
            change: 0,
            unchanged,
            without_recording,
            before: org.protected,
            after: org.protected,
            cap: org.cap.get(),
            past_due_recordings: 0,
            held: 0,
        }),
        other => other,
    }
}

/// The most interaction ids a pasted or uploaded list may hold.
pub const MAX_LIST_IDS: usize = 10_000;

/// A pasted or uploaded list: ids one per line, or a CSV column.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct IdList {
    /// Each id once, in the order first listed.
    pub ids: Vec<ConversationId>,
    /// Ids listed more than once (after the first).
    pub repeated: u32,
    /// Lines that hold no id (1-based line number and the line, cut to 80 characters); a
    /// first line without one is a CSV header and not counted.
    pub invalid: Vec<(u32, String)>,
}

/// Reads a list: on each line, the first field (split at commas, semicolons or tabs, quotes
/// trimmed) that is an id. More than [`MAX_LIST_IDS`] ids is refused whole.
pub fn parse_id_list(text: &str) -> Result<IdList, String> {
    let mut list = IdList::default();
    let mut seen = std::collections::HashSet::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let id = line
            .split([',', ';', '\t'])
            .map(|f| f.trim().trim_matches('"').trim())
            .find_map(|f| ConversationId::parse(f).ok());
        match id {
            Some(id) if seen.insert(id) => list.ids.push(id),
            Some(_) => list.repeated += 1,
            None if n == 0 => {}
            None => list.invalid.push((
                u32::try_from(n + 1).unwrap_or(u32::MAX),
                line.chars().take(80).collect(),
            )),
        }
        if list.ids.len() > MAX_LIST_IDS {
            return Err(format!(
                "the list has more than {MAX_LIST_IDS} interaction ids; split it"
            ));
        }
    }
    Ok(list)
}

/// What adding a list to a hold does to one of its ids.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ListOutcome {
    /// Not protected, can be: protected into the hold (against the cap).
    Protectable,
    /// Protected already: it joins the hold.
    AlreadyProtected,
    /// In this hold already: nothing changes.
    InHold,
    /// It has no recording that can be protected.
    NoRecording,
    /// Not an interaction of the organization.
    NotFound,
}

/// `POST /api/holds/{id}/list` and its preview: the list's text.
#[derive(Clone, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
pub struct ListRequest {
    pub text: String,
    #[serde(default)]
    pub reason: Option<String>,
}

/// One listed id and what adding the list does to it.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct ListRow {
    pub id: ConversationId,
    pub outcome: ListOutcome,
}

/// A line of the list that holds no id.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct ListLine {
    pub line: u32,
    pub text: String,
}

/// What adding a list to a hold would do (the preview), or did: per id, the counts, and the
/// plan against the cap or why it is refused (then nothing is added: all or nothing).
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListPreview {
    pub rows: Vec<ListRow>,
    pub invalid: Vec<ListLine>,
    pub repeated: u32,
    pub protectable: u32,
    pub already_protected: u32,
    pub in_hold: u32,
    pub no_recording: u32,
    pub not_found: u32,
    /// Protected conversations before and after, and the cap.
    pub before: u32,
    pub after: u32,
    pub cap: u32,
    /// Why it would be refused (over the cap, nothing to add, ...); `None`: it fits.
    pub refusal: Option<PlanError>,
}

/// The preview of adding a list to a hold, from where each id stands and which are in the
/// hold already; the cap decides as for any protect (core's [`plan_add`]).
pub fn list_preview(
    org: &OrgStatus,
    perms: Permissions,
    list: &IdList,
    standings: &[(ConversationId, crate::protection::Standing)],
    in_hold: &[ConversationId],
) -> ListPreview {
    use crate::protection::Standing;
    let rows: Vec<ListRow> = standings
        .iter()
        .map(|(id, standing)| ListRow {
            id: *id,
            outcome: match standing {
                Standing::Protected if in_hold.contains(id) => ListOutcome::InHold,
                Standing::Protected => ListOutcome::AlreadyProtected,
                Standing::Protectable => ListOutcome::Protectable,
                Standing::NotProtectable => ListOutcome::NoRecording,
                Standing::NotFound => ListOutcome::NotFound,
            },
        })
        .collect();
    let n = |o: ListOutcome| {
        u32::try_from(rows.iter().filter(|r| r.outcome == o).count()).unwrap_or(u32::MAX)
    };
    let (protectable, already, held) = (
        n(ListOutcome::Protectable),
        n(ListOutcome::AlreadyProtected),
        n(ListOutcome::InHold),
    );
    // Those in the hold already change nothing: they count as neither new nor joining.
    let summary = SelectionSummary {
        protected: already,
        protectable: crate::protection::Count::Exact(protectable),
        without_recording: crate::protection::Count::Exact(n(ListOutcome::NoRecording)),
        past_due_recordings: 0,
        held: 0,
    };
    let plan = plan_add(org, perms, &summary);
    ListPreview {
        invalid: list
            .invalid
            .iter()
            .map(|(line, text)| ListLine {
                line: *line,
                text: text.clone(),
            })
            .collect(),
        repeated: list.repeated,
        protectable,
        already_protected: already,
        in_hold: held,
        no_recording: n(ListOutcome::NoRecording),
        not_found: n(ListOutcome::NotFound),
        before: org.protected,
        after: plan.as_ref().map_or(org.protected, |p| p.after),
        cap: org.cap.get(),
        refusal: plan.err(),
        rows,
    }
}

/// The name the default hold is shown with.
pub const DEFAULT_HOLD_NAME: &str = "Default hold";

#[cfg(test)]
mod tests {
    use super::*;

    fn request(name: &str, case: Option<&str>, description: Option<&str>) -> CreateHoldRequest {
        CreateHoldRequest {
            query: None,
            name: name.to_owned(),
            case_reference: case.map(str::to_owned),
            description: description.map(str::to_owned),
        }
    }

    const BOTH: &[Permission] = &[Permission::ProtectionApply, Permission::ProtectionRevoke];

    #[test]
    fn a_new_hold_is_checked() {
        let perms = Permissions::of(BOTH);
        assert_eq!(
            new_hold(
                perms,
                &request("  Smith v. Northwind ", Some(" "), Some("a\nb"))
            ),
            Ok(NewHold {
                query: None,
                name: "Smith v. Northwind".to_owned(),
                case_reference: None,
                description: Some("a\nb".to_owned()),
            })
        );
        assert_eq!(
            new_hold(perms, &request(" ", None, None)),
            Err(HoldError::NameMissing)
        );
        assert_eq!(
            new_hold(perms, &request(&"x".repeat(121), None, None)),
            Err(HoldError::TooLong {
                field: "name".to_owned(),
                chars: 121,
                max: 120
            })
        );
        assert_eq!(
            new_hold(perms, &request("a", Some("line\nbreak"), None)),
            Err(HoldError::ControlCharacter {
                field: "case reference".to_owned()
            })
        );
        assert_eq!(
            new_hold(
                Permissions::of(&[Permission::ProtectionRevoke]),
                &request("a", None, None)
            ),
            Err(HoldError::MissingPermission {
                permission: Permission::ProtectionApply
            })
        );
    }

    #[test]
    fn protected_ones_join_a_hold_without_cost() {
        use crate::domain::Cap;
        use crate::protection::Count;
        let org = OrgStatus {
            protected: 1000,
            cap: Cap::new(1000).unwrap(),
        };
        let sel = |protected, protectable| SelectionSummary {
            protected,
            protectable: Count::Exact(protectable),
            without_recording: Count::Exact(2),
            past_due_recordings: 0,
            held: 0,
        };
        let perms = Permissions::of(BOTH);
        let plan = plan_add(&org, perms, &sel(5, 0)).unwrap();
        assert_eq!(
            (
                plan.change,
                plan.unchanged,
                plan.without_recording,
                plan.after
            ),
            (0, Count::Exact(5), Count::Exact(2), 1000)
        );
        assert_eq!(
            plan_add(&org, perms, &sel(5, 1)),
            Err(PlanError::OverCap {
                new: Count::Exact(1),
                headroom: 0,
                cap: 1000
            })
        );
        assert_eq!(
            plan_add(&org, perms, &sel(0, 0)),
            Err(PlanError::NothingToDo {
                unchanged: Count::Exact(0),
                without_recording: Count::Exact(2)
            })
        );
    }

    #[test]
    fn a_query_names_what_an_interaction_is() {
        let perms = Permissions::of(BOTH);
        let with = |q: &str| CreateHoldRequest {
            query: Some(q.to_owned()),
            ..request("Q", None, None)
        };
        assert_eq!(
            new_hold(perms, &with("agent=Chen&queue=Billing")).map(|h| h.query),
            Ok(Some("queue=Billing&agent=Chen".to_owned()))
        );
        assert_eq!(new_hold(perms, &with("  ")).map(|h| h.query), Ok(None));
        for bad in [
            "protected=yes",
            "recorded=no&queue=A",
            "deletedBefore=2027-01-01T00:00:00Z",
            "queue=A&hold=00000000-0000-0000-0000-000000000000",
            "sort=-date",
            "colour=red",
            "page=2",
        ] {
            assert!(
                matches!(new_hold(perms, &with(bad)), Err(HoldError::Query { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn an_arrival_matches_as_the_view_filters_match() {
        let at = |t: &str| crate::time::parse(t).unwrap();
        let agents = ["Wei Chen".to_owned(), "Ana Jensen".to_owned()];
        let facts = ArrivalFacts {
            start_time: at("2026-12-01T10:00:00Z"),
            direction: Direction::Inbound,
            queue: Some("Billing"),
            agents: &agents,
            remote_party: Some("+1 555 0100"),
            media: &[Media::Call, Media::Chat],
        };
        let matches = |q: &str| arrival_matches(&hold_query(q).unwrap(), &facts);
        for yes in [
            "queue=Billing",
            "agent=chen",
            "remote=555",
            "media=email,chat",
            "direction=inbound&agent=JENSEN",
            "from=2026-12-01T10:00:00Z&to=2026-12-01T10:00:01Z",
        ] {
            assert!(matches(yes), "{yes}");
        }
        for no in [
            "queue=billing",
            "agent=Lee",
            "remote=999",
            "media=email",
            "direction=outbound",
            "to=2026-12-01T10:00:00Z",
            "from=2026-12-01T10:00:01Z",
        ] {
            assert!(!matches(no), "{no}");
        }
    }

    #[test]
    fn a_list_is_read_one_id_a_line_or_from_a_csv_column() {
        let id = |n: u128| ConversationId::from_uuid(uuid::Uuid::from_u128(n));
        let text = format!(
            "conversationId,queue\n{},Billing\n\n  {}  \n\"x\";\"{}\"\nnot an id\n{}\n",
            id(1),
            id(2),
            id(3),
            id(1)
        );
        assert_eq!(
            parse_id_list(&text),
            Ok(IdList {
                ids: vec![id(1), id(2), id(3)],
                repeated: 1,
                invalid: vec![(6, "not an id".to_owned())],
            })
        );
        let many: String = (0..=10_000u128)
            .map(|n| format!("{}\n", id(n + 1)))
            .collect();
        assert!(parse_id_list(&many).is_err());
        let most: String = (0..10_000u128)
            .map(|n| format!("{}\n", id(n + 1)))
            .collect();
        assert_eq!(parse_id_list(&most).map(|l| l.ids.len()), Ok(10_000));
    }

    #[test]
    fn a_list_preview_says_what_each_id_becomes_and_whether_it_fits() {
        use crate::domain::Cap;
        use crate::protection::Standing::*;
        let id = |n: u128| ConversationId::from_uuid(uuid::Uuid::from_u128(n));
        let standings = [
            (id(1), Protectable),
            (id(2), Protected),
            (id(3), Protected),
            (id(4), NotProtectable),
            (id(5), NotFound),
            (id(6), Protectable),
        ];
        let org = |protected| OrgStatus {
            protected,
            cap: Cap::new(10).unwrap(),
        };
        let list = IdList::default();
        let perms = Permissions::of(BOTH);
        let fits = list_preview(&org(5), perms, &list, &standings, &[id(3)]);
        assert_eq!(
            fits.rows.iter().map(|r| r.outcome).collect::<Vec<_>>(),
            vec![
                ListOutcome::Protectable,
                ListOutcome::AlreadyProtected,
                ListOutcome::InHold,
                ListOutcome::NoRecording,
                ListOutcome::NotFound,
                ListOutcome::Protectable
            ]
        );
        assert_eq!(
            (
                fits.protectable,
                fits.already_protected,
                fits.in_hold,
                fits.no_recording,
                fits.not_found
            ),
            (2, 1, 1, 1, 1)
        );
        assert_eq!((fits.before, fits.after, fits.refusal), (5, 7, None));
        let over = list_preview(&org(9), perms, &list, &standings, &[]);
        assert_eq!(
            over.refusal,
            Some(PlanError::OverCap {
                new: crate::protection::Count::Exact(2),
                headroom: 1,
                cap: 10
            })
        );
        assert_eq!(over.after, 9);
    }

    #[test]
    fn a_release_is_approved_by_a_second_user_only() {
        let user = |n: u128| crate::ids::UserId::from_uuid(uuid::Uuid::from_u128(n));
        let request = ReleaseRequest {
            id: "r".to_owned(),
            hold: HoldId::from_uuid(uuid::Uuid::from_u128(7)),
            requested_by_id: user(1),
            requested_by: "maria".to_owned(),
            reason: None,
            requested_at: Instant::from_timestamp_millis(0).unwrap(),
            interactions: None,
        };
        let perms = Permissions::of(BOTH);
        assert_eq!(check_approval(perms, &request, user(2)), Ok(()));
        assert_eq!(
            check_approval(perms, &request, user(1)),
            Err(HoldError::SamePerson)
        );
        assert_eq!(
            check_approval(
                Permissions::of(&[Permission::ProtectionApply]),
                &request,
                user(2)
            ),
            Err(HoldError::MissingPermission {
                permission: Permission::ProtectionRevoke
            })
        );
    }

    #[test]
    fn only_an_active_matter_is_released() {
        let hold = HoldInfo {
            id: HoldId::from_uuid(uuid::Uuid::from_u128(7)),
            name: "Audit".to_owned(),
            case_reference: None,
            description: None,
            owner: "maria".to_owned(),
            created_at: Instant::from_timestamp_millis(0).unwrap(),
            released_at: None,
            released_by: None,
            conversations: 3,
            query: None,
            missed: 0,
        };
        let perms = Permissions::of(BOTH);
        assert_eq!(check_release(perms, &hold), Ok(()));
        assert_eq!(
            check_release(Permissions::of(&[Permission::ProtectionApply]), &hold),
            Err(HoldError::MissingPermission {
                permission: Permission::ProtectionRevoke
            })
        );
        let default = HoldInfo {
            id: HoldId::DEFAULT,
            ..hold.clone()
        };
        assert_eq!(check_release(perms, &default), Err(HoldError::DefaultHold));
        let released = HoldInfo {
            released_at: Some(hold.created_at),
            ..hold
        };
        assert_eq!(check_release(perms, &released), Err(HoldError::Released));
    }
}
