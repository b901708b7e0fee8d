//! The rules that price a statement, written plainly: one line per unflagged redemption,
//! each rounded once, half away from zero, to the currency's minor unit, and the totals as
//! sums of rounded lines.

use super::{ExceptionKind, LineKind};
use crate::domain::money::BPS_MAX;
use crate::domain::terms::Commission;
use chrono::{DateTime, Utc};
use rust_decimal::{Decimal, RoundingStrategy};
use serde::Serialize;

/// `amount × bps / 10,000`, rounded once, half away from zero, in minor units. No panic
/// whatever the input: any i64 × i32 fits a `Decimal` (2·10^28 < 7.9·10^28), and a result
/// past i64 (only above 10,000 bps of an amount near i64::MAX, which validation never lets
/// through) saturates.
pub fn apply_bps(amount_minor: i64, bps: i32) -> i64 {
    let r = Decimal::from(amount_minor)
        .checked_mul(Decimal::from(bps))
        .and_then(|d| d.checked_div(Decimal::from(BPS_MAX)))
        .map(|d| d.round_dp_with_strategy(0, RoundingStrategy::MidpointAwayFromZero))
        .and_then(|r| i64::try_from(r).ok());
    r.unwrap_or(if (amount_minor < 0) == (bps < 0) {
        i64::MAX
    } else {
        i64::MIN
    })
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
            net_minor: commission_minor.saturating_sub(payouts_minor),
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

/// Σ of the priced lines' amounts (exact up to [`TOTAL_MAX_MINOR`] and well beyond; never a
/// panic).
///
/// [`TOTAL_MAX_MINOR`]: crate::domain::money::TOTAL_MAX_MINOR
pub fn commission_of(lines: &[PricedLine]) -> i64 {
    lines
        .iter()
        .filter_map(|l| l.amount_minor)
        .fold(0i64, i64::saturating_add)
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn a_million_lines_at_the_maximum_add_up_without_overflow() {
        use crate::domain::money::{AMOUNT_MAX_MINOR, TOTAL_MAX_MINOR};
        // A full-rate line is the value itself; a million of them the statement maximum.
        assert_eq!(apply_bps(AMOUNT_MAX_MINOR, 10_000), AMOUNT_MAX_MINOR);
        let line = PricedLine {
            line_no: 1,
            kind: LineKind::Redemption,
            redemption_id: Some(1),
            rate_bps: Some(10_000),
            amount_minor: Some(AMOUNT_MAX_MINOR),
            exception: None,
        };
        let lines = vec![line; 1_000_000];
        assert_eq!(commission_of(&lines), TOTAL_MAX_MINOR);
        let t = Totals::of(TOTAL_MAX_MINOR, TOTAL_MAX_MINOR, 10_000);
        assert_eq!((t.take_minor, t.net_minor), (TOTAL_MAX_MINOR, 0));
        // Far past any valid amount: a saturated figure, never a panic.
        assert_eq!(apply_bps(i64::MAX, 10_000), i64::MAX);
        assert_eq!(apply_bps(i64::MAX, 20_000), i64::MAX);
        assert_eq!(apply_bps(i64::MIN, 20_000), i64::MIN);
        assert_eq!(Totals::of(i64::MIN, i64::MAX, 0).net_minor, i64::MIN);
    }

    #[test]
    fn totals_round_the_take_once() {
        let t = Totals::of(1003, 0, 1500); // 150.45 → 150
        assert_eq!(t.take_minor, 150);
        assert_eq!(Totals::of(1010, 0, 1500).take_minor, 152); // 151.5 → 152
        assert_eq!(Totals::of(1010, 200, 1500).net_minor, 810);
    }
}
