//! The deletion forecast: what the retention sweep will delete in the coming days, day by day
//! (UTC), and what it would delete but for a protection, shown apart. The same rule as the
//! sweep's (rule 5): an available recording whose date has come, unless its conversation is
//! protected; a date already past is deleted by the next sweep.

use chrono::{Duration, TimeZone, Utc};
use serde::{Deserialize, Serialize};

use crate::time::Instant;

/// The longest forecast asked for, in days.
pub const MAX_DAYS: u32 = 366;
/// A day, in milliseconds.
pub const DAY_MS: i64 = 86_400_000;

/// Recordings that come due, split by protection.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Due {
    /// Deleted by the sweep (not protected).
    pub deletable: u64,
    /// Due, but their conversation is protected: kept while it is.
    pub protected: u64,
}

/// One UTC day of the forecast.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ForecastDay {
    /// `2026-12-06`.
    pub date: String,
    /// Deleted by the sweep that day (not protected).
    pub deletable: u64,
    /// Due that day, but kept while their conversation is protected.
    pub protected: u64,
}

/// `GET /api/retention/forecast`.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Forecast {
    #[serde(with = "crate::time::iso")]
    pub now: Instant,
    /// Past their date already: the next sweep's.
    pub past_due: Due,
    /// Today (from now) and the days after, each its whole UTC day.
    pub days: Vec<ForecastDay>,
}

/// Where the forecast's days are: midnight UTC of `now`'s day, and the end of the last day.
pub fn window(now: Instant, days: u32) -> (Instant, Instant) {
    let start = Utc.from_utc_datetime(&now.date_naive().and_hms_opt(0, 0, 0).unwrap_or_default());
    (start, start + Duration::days(i64::from(days)))
}

/// Which bucket a due recording falls in: `None` past due, else the day's index from the
/// window's start. The store groups by the same arithmetic.
pub fn day_of(delete_date: Instant, now: Instant, start: Instant) -> Option<i64> {
    (delete_date > now).then(|| (delete_date - start).num_milliseconds().div_euclid(DAY_MS))
}

/// The forecast from counts grouped by (day index or `None` for past due, protected).
/// Counts outside the window are ignored.
pub fn forecast(
    now: Instant,
    days: u32,
    counts: impl IntoIterator<Item = (Option<i64>, bool, u64)>,
) -> Forecast {
    let (start, _) = window(now, days);
    let mut out = Forecast {
        now,
        past_due: Due::default(),
        days: (0..days)
            .map(|i| ForecastDay {
                date: (start + Duration::days(i64::from(i)))
                    .format("%Y-%m-%d")
                    .to_string(),
                deletable: 0,
                protected: 0,
            })
            .collect(),
    };
    for (day, protected, n) in counts {
        let (deletable, kept) = match day {
            None => (&mut out.past_due.deletable, &mut out.past_due.protected),
            Some(i) => match usize::try_from(i).ok().and_then(|i| out.days.get_mut(i)) {
                Some(d) => (&mut d.deletable, &mut d.protected),
                None => continue,
            },
        };
        match protected {
            true => *kept += n,
            false => *deletable += n,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Instant {
        crate::time::parse(text).unwrap()
    }

    #[test]
    fn days_are_whole_utc_days_from_today() {
        let now = at("2026-12-06T15:30:00Z");
        assert_eq!(
            window(now, 2),
            (at("2026-12-06T00:00:00Z"), at("2026-12-08T00:00:00Z"))
        );
        let start = window(now, 2).0;
        // At or before now: the next sweep's. After: the day it falls on.
        assert_eq!(day_of(now, now, start), None);
        assert_eq!(day_of(at("2026-12-01T00:00:00Z"), now, start), None);
        assert_eq!(day_of(at("2026-12-06T15:30:00.001Z"), now, start), Some(0));
        assert_eq!(day_of(at("2026-12-06T23:59:59.999Z"), now, start), Some(0));
        assert_eq!(day_of(at("2026-12-07T00:00:00Z"), now, start), Some(1));
    }

    #[test]
    fn counts_land_in_their_day_and_protected_ones_apart() {
        let now = at("2026-12-06T15:30:00Z");
        let f = forecast(
            now,
            3,
            [
                (None, false, 4),
                (None, true, 1),
                (Some(0), false, 2),
                (Some(2), true, 3),
                (Some(2), false, 5),
                (Some(3), false, 9),
            ],
        );
        assert_eq!(
            f.past_due,
            Due {
                deletable: 4,
                protected: 1
            }
        );
        let days: Vec<(&str, u64, u64)> = f
            .days
            .iter()
            .map(|d| (d.date.as_str(), d.deletable, d.protected))
            .collect();
        assert_eq!(
            days,
            vec![
                ("2026-12-06", 2, 0),
                ("2026-12-07", 0, 0),
                ("2026-12-08", 5, 3)
            ]
        );
    }
}
