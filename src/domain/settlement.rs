//! Settlements (SPEC §1.7, issue 13): periods, the status machine, and the rules that price a
//! statement — one line per unflagged redemption, each rounded once, half away from zero, to
//! the currency's minor unit; totals are sums of rounded lines.
//!
//! The database computes statements in bulk (`store::settlements::compute`); [`price`] here is
//! the same rule written plainly, which the tests hold the database's statements against.

use super::deal::text_enum;
use super::money::{BPS_MAX, Frequency};
use super::terms::Commission;
use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

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

/// `amount × bps / 10,000`, rounded once, half away from zero, in minor units.
pub fn apply_bps(amount_minor: i64, bps: i32) -> i64 {
    let d = Decimal::from(amount_minor) * Decimal::from(bps) / Decimal::from(BPS_MAX);
    let r = d.round_dp_with_strategy(0, RoundingStrategy::MidpointAwayFromZero);
    i64::try_from(r).expect("an amount in range")
}

/// One redemption as a statement sees it (oldest first, flagged ones already left out).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Priceable {
    pub redemption_id: i64,
    pub at: DateTime<Utc>,
    pub value_minor: Option<i64>,
    pub currency: Option<String>,
}

/// A priced line, or an exception.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PricedLine {
    pub line_no: i32,
    pub kind: LineKind,
    pub redemption_id: Option<i64>,
    pub rate_bps: Option<i32>,
    pub amount_minor: Option<i64>,
    pub exception: Option<ExceptionKind>,
}

/// What a statement adds up to, in minor units of its currency.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Totals {
    /// Σ line amounts: what the partner owes the marketplace.
    pub commission_minor: i64,
    /// What the marketplace owes the partner (referral payouts).
    pub payouts_minor: i64,
    /// The platform's take: take rate × commission, rounded once.
    pub take_minor: i64,
    /// commission − payouts: positive when the partner pays the marketplace.
    pub net_minor: i64,
}

impl Totals {
    pub fn of(commission_minor: i64, payouts_minor: i64, take_rate_bps: i32) -> Totals {
        Totals {
            commission_minor,
            payouts_minor,
            take_minor: apply_bps(commission_minor, take_rate_bps),
            net_minor: commission_minor - payouts_minor,
        }
    }
}

/// The statement of one agreement over one period, written plainly: lines numbered in
/// (`redeemed_at`, id) order; for `percentage` and `hybrid` a redemption without a value or in
/// another currency is an exception (listed, not priced); `hybrid` prices the first
/// `threshold` priced redemptions at base bps and every later one at base + bonus;
/// `flat_fee` prices each redemption at 0 and adds one line for the period's fee;
/// `referral_only` has no redemption lines at all (its statement holds referral payouts only).
pub fn price(
    commission: &Commission,
    currency: &str,
    redemptions: &[Priceable],
) -> Vec<PricedLine> {
    if *commission == Commission::ReferralOnly {
        return Vec::new();
    }
    let needs_value = matches!(
        commission,
        Commission::Percentage { .. } | Commission::Hybrid { .. }
    );
    let mut lines = Vec::with_capacity(redemptions.len() + 1);
    let mut priced = 0i64;
    for (i, r) in redemptions.iter().enumerate() {
        let exception = match (&r.value_minor, &r.currency) {
            _ if !needs_value => None,
            (None, _) | (_, None) => Some(ExceptionKind::NoValue),
            (Some(_), Some(c)) if c != currency => Some(ExceptionKind::OtherCurrency),
            _ => None,
        };
        let line_no = i as i32 + 1;
        if let Some(e) = exception {
            lines.push(PricedLine {
                line_no,
                kind: LineKind::Exception,
                redemption_id: Some(r.redemption_id),
                rate_bps: None,
                amount_minor: None,
                exception: Some(e),
            });
            continue;
        }
        priced += 1;
        let value = r.value_minor.unwrap_or(0);
        let (rate, amount) = match *commission {
            Commission::Percentage { rate_bps } => (Some(rate_bps), apply_bps(value, rate_bps)),
            Commission::Hybrid {
                base_bps,
                bonus_bps,
                bonus_threshold,
            } => {
                let bps = if priced <= i64::from(bonus_threshold) {
                    base_bps
                } else {
                    base_bps + bonus_bps
                };
                (Some(bps), apply_bps(value, bps))
            }
            Commission::FixedFee { amount_minor } => (None, amount_minor),
            Commission::FlatFee { .. } | Commission::ReferralOnly => (None, 0),
        };
        lines.push(PricedLine {
            line_no,
            kind: LineKind::Redemption,
            redemption_id: Some(r.redemption_id),
            rate_bps: rate,
            amount_minor: Some(amount),
            exception: None,
        });
    }
    if let Commission::FlatFee { amount_minor } = *commission {
        lines.push(PricedLine {
            line_no: redemptions.len() as i32 + 1,
            kind: LineKind::PeriodFee,
            redemption_id: None,
            rate_bps: None,
            amount_minor: Some(amount_minor),
            exception: None,
        });
    }
    lines
}

/// Σ of the priced lines' amounts.
pub fn commission_of(lines: &[PricedLine]) -> i64 {
    lines.iter().filter_map(|l| l.amount_minor).sum()
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
            amount_minor: tally.1 - commission_minor,
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
    fn bps_round_half_away_from_zero() {
        // 1.25 cents → 1; 1.5 → 2; 2.5 → 3 (half to even would give 2); −2.5 → −3.
        assert_eq!(apply_bps(25, 500), 1);
        assert_eq!(apply_bps(30, 5000), 15);
        assert_eq!(apply_bps(3, 5000), 2);
        assert_eq!(apply_bps(5, 5000), 3);
        assert_eq!(apply_bps(-5, 5000), -3);
        assert_eq!(apply_bps(1250, 500), 63); // 12.50 EUR at 5% = 0.625 → 0.63
        assert_eq!(apply_bps(1, 4999), 0);
        assert_eq!(apply_bps(0, 10_000), 0);
    }

    fn r(id: i64, value: Option<i64>, currency: Option<&str>) -> Priceable {
        Priceable {
            redemption_id: id,
            at: DateTime::from_timestamp(1_790_000_000 + id, 0).unwrap(),
            value_minor: value,
            currency: currency.map(str::to_owned),
        }
    }

    #[test]
    fn hybrid_bonus_starts_after_the_threshold_of_priced_lines() {
        let c = Commission::Hybrid {
            base_bps: 500,
            bonus_bps: 250,
            bonus_threshold: 2,
        };
        let rs = [
            r(1, Some(1000), Some("EUR")),
            r(2, None, None),
            r(3, Some(1000), Some("EUR")),
            r(4, Some(1000), Some("EUR")),
            r(5, Some(1000), Some("USD")),
            r(6, Some(1010), Some("EUR")),
        ];
        let lines = price(&c, "EUR", &rs);
        let got: Vec<(i32, Option<i32>, Option<i64>)> = lines
            .iter()
            .map(|l| (l.line_no, l.rate_bps, l.amount_minor))
            .collect();
        assert_eq!(
            got,
            [
                (1, Some(500), Some(50)),
                (2, None, None),
                (3, Some(500), Some(50)),
                (4, Some(750), Some(75)),
                (5, None, None),
                (6, Some(750), Some(76)), // 75.75 → 76
            ]
        );
        assert_eq!(lines[1].exception, Some(ExceptionKind::NoValue));
        assert_eq!(lines[4].exception, Some(ExceptionKind::OtherCurrency));
        assert_eq!(commission_of(&lines), 251);
    }

    #[test]
    fn flat_fee_lines_are_informational_plus_one_period_fee() {
        let c = Commission::FlatFee { amount_minor: 5000 };
        let lines = price(&c, "JPY", &[r(1, None, None), r(2, Some(900), Some("USD"))]);
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[2].kind, LineKind::PeriodFee);
        assert_eq!(commission_of(&lines), 5000);
        let fixed = price(
            &Commission::FixedFee { amount_minor: 150 },
            "EUR",
            &[r(1, None, None)],
        );
        assert_eq!(fixed[0].amount_minor, Some(150));
    }

    #[test]
    fn referral_only_has_no_redemption_lines_and_no_commission() {
        let lines = price(
            &Commission::ReferralOnly,
            "EUR",
            &[r(1, Some(5000), Some("EUR")), r(2, None, None)],
        );
        assert!(lines.is_empty());
        // Its payouts 2.49 + 1.50: net = commission − payouts = −3.99, take 0.
        let t = Totals::of(commission_of(&lines), 399, 1500);
        assert_eq!(
            (t.commission_minor, t.take_minor, t.net_minor),
            (0, 0, -399)
        );
    }

    #[test]
    fn totals_round_the_take_once() {
        let t = Totals::of(1003, 0, 1500); // 150.45 → 150
        assert_eq!(t.take_minor, 150);
        assert_eq!(Totals::of(1010, 0, 1500).take_minor, 152); // 151.5 → 152
        assert_eq!(Totals::of(1010, 200, 1500).net_minor, 810);
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
