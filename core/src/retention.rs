//! Retention policies: which deletion date a recording gets when it arrives.

use chrono::Duration;
use serde::{Deserialize, Serialize};

use crate::domain::{Direction, Media};
use crate::time::Instant;

/// What a matching policy does.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum RetentionAction {
    /// `deleteDate = creationTime + days`.
    DeleteAfterDays { days: u32 },
    /// No deletion date.
    Keep,
}

/// A retention policy. Empty condition lists match everything.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RetentionPolicy {
    pub name: String,
    pub order: i32,
    pub enabled: bool,
    pub media: Vec<Media>,
    pub queues: Vec<String>,
    pub direction: Option<Direction>,
    pub action: RetentionAction,
}

/// The facts about an arriving recording that policies match on.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Arrival<'a> {
    pub media: Media,
    pub queue: Option<&'a str>,
    pub direction: Direction,
    pub creation_time: Instant,
}

impl RetentionPolicy {
    fn matches(&self, rec: &Arrival<'_>) -> bool {
        self.enabled
            && (self.media.is_empty() || self.media.contains(&rec.media))
            && (self.queues.is_empty()
                || rec
                    .queue
                    .is_some_and(|q| self.queues.iter().any(|p| p == q)))
            && self.direction.is_none_or(|d| d == rec.direction)
    }
}

/// The policy that decides an arriving recording's deletion date: the first enabled matching
/// one by `order`.
pub fn deciding_policy<'p>(
    policies: &'p [RetentionPolicy],
    rec: &Arrival<'_>,
) -> Option<&'p RetentionPolicy> {
    policies
        .iter()
        .filter(|p| p.matches(rec))
        .min_by_key(|p| p.order)
}

/// "Why this date" of a recording whose reason was not kept: its date was set before Holdfast
/// recorded reasons (the demo data, or an import before legal holds existed).
pub const DATE_REASON_UNRECORDED: &str =
    "not recorded: the date was set before Holdfast kept reasons (demo data or an earlier import)";

/// Why an arriving recording got its date, in words ("why this date").
pub fn date_reason(policy: Option<&RetentionPolicy>) -> String {
    match policy {
        None => "no retention policy matched on arrival: kept".to_owned(),
        Some(p) => match p.action {
            RetentionAction::Keep => format!("retention policy “{}” on arrival: kept", p.name),
            RetentionAction::DeleteAfterDays { days } => format!(
                "retention policy “{}” on arrival: deleted {} after creation",
                p.name,
                crate::format::counted(days, "day", "days")
            ),
        },
    }
}

/// The deletion date of an arriving recording: the first enabled matching policy by `order`
/// decides; with none, the recording is kept (`None`).
pub fn delete_date_on_arrival(policies: &[RetentionPolicy], rec: &Arrival<'_>) -> Option<Instant> {
    let policy = deciding_policy(policies, rec)?;
    match policy.action {
        RetentionAction::Keep => None,
        RetentionAction::DeleteAfterDays { days } => rec
            .creation_time
            .checked_add_signed(Duration::days(i64::from(days))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::parse;

    fn policy(
        name: &str,
        order: i32,
        media: &[Media],
        queue: Option<&str>,
        action: RetentionAction,
    ) -> RetentionPolicy {
        RetentionPolicy {
            name: name.to_owned(),
            order,
            enabled: true,
            media: media.to_vec(),
            queues: queue.map(|q| vec![q.to_owned()]).unwrap_or_default(),
            direction: None,
            action,
        }
    }

    #[test]
    fn first_matching_policy_by_order_decides() {
        let created = parse("2026-01-01T00:00:00Z").unwrap();
        let policies = vec![
            policy(
                "everything",
                10,
                &[],
                None,
                RetentionAction::DeleteAfterDays { days: 90 },
            ),
            policy("legal keeps", 1, &[], Some("Legal"), RetentionAction::Keep),
            policy(
                "chats short",
                5,
                &[Media::Chat],
                None,
                RetentionAction::DeleteAfterDays { days: 30 },
            ),
        ];
        let check = |media, queue, expect: Option<&str>| {
            let rec = Arrival {
                media,
                queue,
                direction: Direction::Inbound,
                creation_time: created,
            };
            assert_eq!(
                delete_date_on_arrival(&policies, &rec),
                expect.and_then(parse),
                "{media} {queue:?}"
            );
        };
        check(Media::Call, Some("Sales"), Some("2026-04-01T00:00:00Z"));
        check(Media::Chat, Some("Sales"), Some("2026-01-31T00:00:00Z"));
        check(Media::Chat, Some("Legal"), None);
        check(Media::Call, None, Some("2026-04-01T00:00:00Z"));
        let mut disabled = policies.clone();
        disabled.iter_mut().for_each(|p| p.enabled = false);
        let rec = Arrival {
            media: Media::Call,
            queue: None,
            direction: Direction::Outbound,
            creation_time: created,
        };
        assert_eq!(delete_date_on_arrival(&disabled, &rec), None);
    }
}
