//! Numbers as people read them, the same in the browser and in the tests that read its pages.

/// `3,000`.
pub fn count(n: impl Into<u64>) -> String {
    let digits = n.into().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A count that stopped at a bound: `3,000`, or `more than 10,000`.
pub fn count_of(n: crate::protection::Count) -> String {
    match n {
        crate::protection::Count::Exact(n) => count(n),
        crate::protection::Count::MoreThan(n) => format!("more than {}", count(n)),
    }
}

/// A count with its noun: `1 interaction`, `3,000 interactions`, `0 interactions`.
pub fn counted(n: impl Into<u64>, one: &str, many: &str) -> String {
    let n = n.into();
    format!("{} {}", count(n), if n == 1 { one } else { many })
}

/// [`count_of`] with its noun: `1 interaction`, `more than 10,000 interactions`, and as English
/// has it, `more than 1 interaction`.
pub fn counted_of(n: crate::protection::Count, one: &str, many: &str) -> String {
    match n {
        crate::protection::Count::Exact(n) => counted(n, one, many),
        // "more than one recording", "more than two recordings".
        crate::protection::Count::MoreThan(n) => format!("more than {}", counted(n, one, many)),
    }
}

/// A count that may be a lower bound: `10,000+` when counting stopped there.
pub fn count_at_least(n: u64, exact: bool) -> String {
    match exact {
        true => count(n),
        false => format!("{}+", count(n)),
    }
}

#[cfg(test)]
mod tests {
    #[track_caller]
    fn check(n: u64, shown: &str) {
        assert_eq!(super::count(n), shown);
    }

    #[test]
    fn thousands_are_separated() {
        check(0, "0");
        check(999, "999");
        check(1000, "1,000");
        check(2651, "2,651");
        check(1_000_000, "1,000,000");
        check(u64::MAX, "18,446,744,073,709,551,615");
        assert_eq!(super::count_at_least(10_000, false), "10,000+");
        assert_eq!(super::count_at_least(3_000, true), "3,000");
        use crate::protection::Count;
        assert_eq!(super::count_of(Count::Exact(2_651)), "2,651");
        assert_eq!(super::count_of(Count::MoreThan(10_000)), "more than 10,000");
    }

    #[test]
    fn a_noun_follows_its_count() {
        use super::{counted, counted_of};
        use crate::protection::Count;
        let it = |n: u64| counted(n, "interaction", "interactions");
        assert_eq!(it(0), "0 interactions");
        assert_eq!(it(1), "1 interaction");
        assert_eq!(it(2), "2 interactions");
        assert_eq!(it(1000), "1,000 interactions");
        assert_eq!(
            counted_of(Count::Exact(1), "recording", "recordings"),
            "1 recording"
        );
        assert_eq!(
            counted_of(Count::MoreThan(1), "recording", "recordings"),
            "more than 1 recording"
        );
        assert_eq!(
            counted_of(Count::MoreThan(10_000), "recording", "recordings"),
            "more than 10,000 recordings"
        );
    }
}
