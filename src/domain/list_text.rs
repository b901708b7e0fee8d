//! Cell text the lists share, the console's and the command line's: how many times a deal was
//! used against its cap, its audience, its window, a partner's vetting.

use super::{AudienceScope, VerificationState};
use chrono::{DateTime, Utc};

/// `7`, `7/100`, or `7 (1/member)` for a cap of one per member.
pub fn used(count: i32, cap: Option<i32>) -> String {
    match cap {
        Some(1) => format!("{count} (1/member)"),
        Some(c) => format!("{count}/{c}"),
        None => count.to_string(),
    }
}

/// `public`, or `batch 2019` / `chapter Pune` with its value.
pub fn audience(scope: AudienceScope, value: Option<&str>) -> String {
    match value {
        Some(v) => format!("{scope} {v}"),
        None => scope.to_string(),
    }
}

/// `2026-03-01 – 2026-03-31`: the days a deal runs from and until, each as `day` writes it.
pub fn window(
    from: DateTime<Utc>,
    until: DateTime<Utc>,
    day: impl Fn(DateTime<Utc>) -> String,
) -> String {
    format!("{} – {}", day(from), day(until))
}

/// What a list says of a vetting (who, or when): nothing while the partner is pending again.
pub fn vetted(state: VerificationState, what: Option<String>) -> String {
    match state {
        VerificationState::Pending => String::new(),
        _ => what.unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn used_counts_show_the_cap_and_one_per_member() {
        assert_eq!(used(7, None), "7");
        assert_eq!(used(7, Some(100)), "7/100");
        assert_eq!(used(1, Some(1)), "1 (1/member)");
    }
}
