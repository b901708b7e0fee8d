//! Settlements (SPEC §1.7, issue 13): periods, the status machine, and the rules that price a
//! statement — one line per unflagged redemption, each rounded once, half away from zero, to
//! the currency's minor unit; totals are sums of rounded lines.
//!
//! The database computes statements in bulk (`store::settlements::compute`); [`price`] (in
//! `pricing`, re-exported here) is the same rule written plainly, which the tests hold the
//! database's statements against.
mod pricing;

use super::deal::text_enum;
use super::money::Frequency;
use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

pub use pricing::{Priceable, PricedLine, Totals, apply_bps, commission_of, price};

/// How long the partner has to review a statement once it is sent (SPEC §1.7).
pub const REVIEW_DAYS: i64 = 7;
pub const NOTE_MAX: usize = 2_000;
pub const REFERENCE_MAX: usize = 200;

text_enum!(
    /// Where a settlement stands.
    SettlementStatus {
        Draft => "draft",
        InReview => "in_review",
        Approved => "approved",
        Paid => "paid",
        Disputed => "disputed",
    }
);

text_enum!(
    /// What a statement line is.
    LineKind {
        Redemption => "redemption",
        PeriodFee => "period_fee",
        Referral => "referral",
        Adjustment => "adjustment",
        Exception => "exception",
    }
);

text_enum!(
    /// Why a redemption could not be priced.
    ExceptionKind { NoValue => "no_value", OtherCurrency => "other_currency" }
);

impl ExceptionKind {
    pub fn describe(self) -> &'static str {
        match self {
            ExceptionKind::NoValue => "no order value",
            ExceptionKind::OtherCurrency => "value in another currency",
        }
    }
}

/// A move of a settlement, for messages and checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Move {
    Recompute,
    Review,
    Approve,
    Dispute,
    Pay,
    Tally,
}

impl Move {
    pub fn as_str(self) -> &'static str {
        match self {
            Move::Recompute => "recompute",
            Move::Review => "send to review",
            Move::Approve => "approve",
            Move::Dispute => "dispute",
            Move::Pay => "mark paid",
            Move::Tally => "enter the partner's tally",
        }
    }

    /// The statuses this move starts from.
    pub fn from(self) -> &'static [SettlementStatus] {
        use SettlementStatus::*;
        match self {
            Move::Recompute => &[Draft, Disputed],
            Move::Review => &[Draft],
            Move::Approve => &[InReview],
            Move::Dispute => &[InReview, Approved],
            Move::Pay => &[Approved],
            Move::Tally => &[Draft, InReview, Disputed, Approved],
        }
    }

    /// The status after the move (the tally keeps the status).
    pub fn to(self, from: SettlementStatus) -> SettlementStatus {
        use SettlementStatus::*;
        match self {
            Move::Recompute => Draft,
            Move::Review => InReview,
            Move::Approve => Approved,
            Move::Dispute => Disputed,
            Move::Pay => Paid,
            Move::Tally => from,
        }
    }

    /// Whether the move may start from `status`; the refusal names what it needs.
    pub fn check(self, id: i64, status: SettlementStatus) -> Result<(), String> {
        if self.from().contains(&status) {
            return Ok(());
        }
        let needs: Vec<&str> = self.from().iter().map(|s| s.as_str()).collect();
        Err(format!(
            "settlement {id} is {status}; {} needs {}",
            self.as_str(),
            join_or(&needs)
        ))
    }
}

fn join_or(items: &[&str]) -> String {
    match items.split_last() {
        Some((last, [])) => (*last).to_owned(),
        Some((last, init)) => format!("{} or {last}", init.join(", ")),
        None => String::new(),
    }
}

/// A settlement period: a calendar month, quarter or year in UTC, `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Period {
    pub frequency: Frequency,
    pub start: NaiveDate,
    pub end: NaiveDate,
}

impl Period {
    /// The period of `frequency` holding `day`.
    pub fn of(frequency: Frequency, day: NaiveDate) -> Period {
        Period {
            frequency,
            start: frequency.period_start(day),
            end: frequency.next_period_start(day),
        }
    }

    /// `2026-10` (a month), `2026-Q4` (a quarter) or `2026` (a year).
    pub fn parse(text: &str) -> Result<Period, String> {
        let t = text.trim();
        let bad = || {
            format!(
                "must be a month like 2026-10, a quarter like 2026-Q4 or a year like 2026 (got '{t}')"
            )
        };
        let year = |y: &str| -> Result<i32, String> {
            if y.len() == 4 && y.chars().all(|c| c.is_ascii_digit()) {
                y.parse::<i32>().map_err(|_| bad())
            } else {
                Err(bad())
            }
        };
        let (frequency, day) = match t.split_once('-') {
            None => (Frequency::Annual, NaiveDate::from_ymd_opt(year(t)?, 1, 1)),
            Some((y, q)) if q.starts_with(['Q', 'q']) => {
                let n: u32 = q[1..].parse().map_err(|_| bad())?;
                if !(1..=4).contains(&n) || q.len() != 2 {
                    return Err(bad());
                }
                (
                    Frequency::Quarterly,
                    NaiveDate::from_ymd_opt(year(y)?, (n - 1) * 3 + 1, 1),
                )
            }
            Some((y, m)) => {
                if m.len() != 2 {
                    return Err(bad());
                }
                let m: u32 = m.parse().map_err(|_| bad())?;
                (Frequency::Monthly, NaiveDate::from_ymd_opt(year(y)?, m, 1))
            }
        };
        day.map(|d| Period::of(frequency, d)).ok_or_else(bad)
    }

    /// The period's name as [`Period::parse`] reads it.
    pub fn label(&self) -> String {
        match self.frequency {
            Frequency::Monthly => self.start.format("%Y-%m").to_string(),
            Frequency::Quarterly => {
                format!("{}-Q{}", self.start.year(), self.start.month0() / 3 + 1)
            }
            Frequency::Annual => self.start.format("%Y").to_string(),
        }
    }

    pub fn starts_at(&self) -> DateTime<Utc> {
        self.start.and_time(chrono::NaiveTime::MIN).and_utc()
    }

    pub fn ends_at(&self) -> DateTime<Utc> {
        self.end.and_time(chrono::NaiveTime::MIN).and_utc()
    }

    /// The period before this one.
    pub fn previous(&self) -> Period {
        Period::of(
            self.frequency,
            self.start.pred_opt().expect("date in range"),
        )
    }

    /// The periods of every frequency that close when this one closes and are no shorter:
    /// a month names the monthly period, and the quarter and year that end with it.
    pub fn due_with(&self) -> Vec<Period> {
        let last_day = self.end.pred_opt().expect("date in range");
        Frequency::ALL
            .iter()
            .map(|&f| Period::of(f, last_day))
            .filter(|p| p.end == self.end && p.start <= self.start)
            .collect()
    }
}

/// The review deadline of a statement sent at `at`.
pub fn review_deadline(at: DateTime<Utc>) -> DateTime<Utc> {
    at + Duration::days(REVIEW_DAYS)
}

/// The partner's count against ours, and their amount against our commission.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Discrepancy {
    /// theirs − ours
    pub count: i64,
    /// theirs − ours, minor units
    pub amount_minor: i64,
}

impl Discrepancy {
    pub fn of(tally: (i32, i64), count: i32, commission_minor: i64) -> Discrepancy {
        Discrepancy {
            count: i64::from(tally.0) - i64::from(count),
            amount_minor: tally.1.saturating_sub(commission_minor),
        }
    }

    pub fn is_zero(&self) -> bool {
        self.count == 0 && self.amount_minor == 0
    }
}

/// What a settlement's period is called, from its agreement's frequency (as stored) and its
/// first day: `2026-10`, `2026-Q4`, `2026`; the first day itself when the frequency does not
/// read.
pub fn period_label(frequency: &str, start: NaiveDate) -> String {
    frequency
        .parse::<Frequency>()
        .map(|f| Period::of(f, start).label())
        .unwrap_or_else(|_| start.to_string())
}

/// What is left of a review window: "3 days left", "closes today", "window closed".
pub fn days_left(deadline: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let days = (deadline - now).num_days();
    if deadline <= now {
        "window closed".to_owned()
    } else if days == 0 {
        "closes today".to_owned()
    } else {
        format!("{days} day{} left", if days == 1 { "" } else { "s" })
    }
}

/// "2026-11-07 (3 days left)" while in review, "-" otherwise.
pub fn review_by(
    status: SettlementStatus,
    deadline: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> String {
    match (status, deadline) {
        (SettlementStatus::InReview, Some(d)) => {
            format!("{} ({})", d.format("%Y-%m-%d"), days_left(d, now))
        }
        _ => "-".into(),
    }
}

impl Discrepancy {
    /// "matches", or "+2 / +1.50 EUR" (theirs − ours: count, then amount).
    pub fn text(&self, currency: &str) -> String {
        if self.is_zero() {
            return "matches".into();
        }
        format!(
            "{:+} / {}{}",
            self.count,
            if self.amount_minor > 0 { "+" } else { "" },
            super::money::format_amount(self.amount_minor, currency)
        )
    }
}

/// The partner's tally (count, amount) against ours: "-" before one is entered, else
/// [`Discrepancy::text`].
pub fn discrepancy_text(
    tally: Option<(i32, i64)>,
    count: i32,
    commission_minor: i64,
    currency: &str,
) -> String {
    match tally {
        Some(t) => Discrepancy::of(t, count, commission_minor).text(currency),
        None => "-".into(),
    }
}

/// Who owes whom on a net, without a sign: 800 → "8.00 EUR due from the partner" (the
/// partner pays the marketplace), −800 → "8.00 EUR due to the partner".
pub fn net_due_text(net_minor: i64, currency: &str) -> String {
    let amount = super::money::format_amount(net_minor.checked_abs().unwrap_or(i64::MAX), currency);
    if net_minor >= 0 {
        format!("{amount} due from the partner")
    } else {
        format!("{amount} due to the partner")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn periods_parse_and_name_themselves() {
        let p = Period::parse("2026-10").unwrap();
        assert_eq!((p.start, p.end), (d("2026-10-01"), d("2026-11-01")));
        assert_eq!(p.label(), "2026-10");
        let q = Period::parse("2026-Q4").unwrap();
        assert_eq!((q.start, q.end), (d("2026-10-01"), d("2027-01-01")));
        assert_eq!(q.label(), "2026-Q4");
        let y = Period::parse("2026").unwrap();
        assert_eq!((y.start, y.end), (d("2026-01-01"), d("2027-01-01")));
        assert_eq!(Period::parse("2026-12").unwrap().end, d("2027-01-01"));
        for bad in [
            "2026-13", "2026-Q5", "26-10", "2026-1", "october", "2026-Q", "",
        ] {
            assert!(Period::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(p.previous().label(), "2026-09");
        assert_eq!(
            Period::parse("2026-01").unwrap().previous().label(),
            "2025-12"
        );
    }

    #[test]
    fn a_month_is_due_with_the_quarter_and_year_that_close_with_it() {
        let labels = |p: &str| -> Vec<String> {
            Period::parse(p)
                .unwrap()
                .due_with()
                .iter()
                .map(|p| p.label())
                .collect()
        };
        assert_eq!(labels("2026-10"), ["2026-10"]);
        assert_eq!(labels("2026-09"), ["2026-09", "2026-Q3"]);
        assert_eq!(labels("2026-12"), ["2026-12", "2026-Q4", "2026"]);
        assert_eq!(labels("2026-Q4"), ["2026-Q4", "2026"]);
        assert_eq!(labels("2026"), ["2026"]);
    }

    #[test]
    fn moves_name_what_they_need() {
        use SettlementStatus::*;
        assert!(Move::Approve.check(4, InReview).is_ok());
        assert_eq!(
            Move::Approve.check(4, Draft).unwrap_err(),
            "settlement 4 is draft; approve needs in_review"
        );
        assert_eq!(
            Move::Dispute.check(4, Paid).unwrap_err(),
            "settlement 4 is paid; dispute needs in_review or approved"
        );
        assert!(Move::Recompute.check(1, Disputed).is_ok());
        assert!(Move::Recompute.check(1, Approved).is_err());
        assert!(Move::Tally.check(1, Paid).is_err());
        assert_eq!(Move::Recompute.to(Disputed), Draft);
    }

    #[test]
    fn labels_windows_and_discrepancies_read_as_people_say_them() {
        let start = d("2026-10-01");
        assert_eq!(period_label("monthly", start), "2026-10");
        assert_eq!(period_label("quarterly", start), "2026-Q4");
        assert_eq!(period_label("annual", d("2026-01-01")), "2026");
        assert_eq!(period_label("weekly", start), "2026-10-01");
        let now = DateTime::parse_from_rfc3339("2026-11-04T10:00:00Z")
            .unwrap()
            .to_utc();
        let deadline = now + Duration::days(3) + Duration::hours(2);
        assert_eq!(
            review_by(SettlementStatus::InReview, Some(deadline), now),
            "2026-11-07 (3 days left)"
        );
        assert_eq!(days_left(now + Duration::hours(5), now), "closes today");
        assert_eq!(days_left(now + Duration::hours(30), now), "1 day left");
        assert_eq!(days_left(now - Duration::hours(1), now), "window closed");
        assert_eq!(review_by(SettlementStatus::Draft, Some(deadline), now), "-");
        assert_eq!(discrepancy_text(None, 3, 100, "EUR"), "-");
        assert_eq!(discrepancy_text(Some((3, 100)), 3, 100, "EUR"), "matches");
        assert_eq!(
            discrepancy_text(Some((5, 250)), 3, 100, "EUR"),
            "+2 / +1.50 EUR"
        );
        assert_eq!(
            discrepancy_text(Some((1, 50)), 3, 100, "EUR"),
            "-2 / -0.50 EUR"
        );
    }
}
