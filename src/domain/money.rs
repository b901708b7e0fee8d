//! Money and commercial terms (SPEC §1.7): ISO 4217 currencies with their minor unit, amounts
//! in integer minor units (never floats), basis points, settlement frequencies and periods.

use super::deal::text_enum;
use super::validation::ValidationErrors;
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use iso_currency::Currency;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Basis points: 10,000 is 100%.
pub const BPS_MAX: i64 = 10_000;
/// The platform take rate when an offer does not name one: 15%.
pub const DEFAULT_TAKE_RATE_BPS: i32 = 1_500;

/// An ISO 4217 currency code and its minor unit (JPY 0, EUR 2, KWD 3).
pub fn currency_exponent(code: &str) -> Result<u32, String> {
    let c = code.trim();
    let cur = Currency::from_code(c)
        .filter(|_| c.len() == 3 && c.chars().all(|ch| ch.is_ascii_uppercase()))
        .ok_or_else(|| format!("must be an ISO 4217 currency code such as EUR (got '{c}')"))?;
    cur.exponent()
        .map(u32::from)
        .ok_or_else(|| format!("{c} has no minor unit; use a currency of money"))
}

/// Parses an amount typed in the currency's units ("12.50" EUR) into minor units (1250).
/// Refuses negatives and more decimals than the currency has.
pub fn parse_amount(text: &str, currency: &str) -> Result<i64, String> {
    let exp = currency_exponent(currency).map_err(|_| "needs a valid currency".to_owned())?;
    let d = Decimal::from_str(text.trim())
        .map_err(|_| format!("must be an amount such as 12.50 (got '{}')", text.trim()))?;
    if d.is_sign_negative() && !d.is_zero() {
        return Err("must be 0 or more".into());
    }
    if d.normalize().scale() > exp {
        return Err(format!(
            "{currency} has {exp} decimal place{}; got {}",
            if exp == 1 { "" } else { "s" },
            text.trim()
        ));
    }
    let minor = d * Decimal::from(10i64.pow(exp));
    i64::try_from(minor.trunc()).map_err(|_| "is too large".to_owned())
}

/// Minor units shown in the currency's units: 1250 EUR → "12.50 EUR".
pub fn format_amount(minor: i64, currency: &str) -> String {
    format!("{} {currency}", decimal_string(minor, currency))
}

/// Minor units as a decimal string with the currency's places: 1250 EUR → "12.50",
/// 1234 KWD → "1.234", 500 JPY → "500", −5 EUR → "-0.05".
pub fn decimal_string(minor: i64, currency: &str) -> String {
    let exp = currency_exponent(currency).unwrap_or(2);
    Decimal::new(minor, exp).to_string()
}

/// What a member spent at the partner, as the platform reports it with a redemption (SPEC
/// §1.5): an amount in minor units of an ISO 4217 currency (EUR cents, JPY yen, KWD fils).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderValue {
    /// 0 or more, in minor units of `currency`.
    pub minor: i64,
    /// The ISO 4217 code, upper case.
    pub currency: String,
}

impl OrderValue {
    /// Reads a value typed in the currency's units (`12.50`) and its currency (`EUR`): both or
    /// neither (`None`, or empty after trimming, is "not given"). The value is 0 or more, with
    /// no more decimals than the currency has (JPY 0, EUR 2, KWD 3). Each problem names its
    /// field, `value` or `currency`, and the rule.
    pub fn parse(
        value: Option<&str>,
        currency: Option<&str>,
    ) -> Result<Option<OrderValue>, ValidationErrors> {
        fn given(s: Option<&str>) -> Option<&str> {
            s.map(str::trim).filter(|s| !s.is_empty())
        }
        let mut errs = ValidationErrors::new();
        match (given(value), given(currency)) {
            (None, None) => Ok(None),
            (Some(_), None) => {
                errs.push("currency", "required when a value is given (e.g. EUR)");
                Err(errs)
            }
            (None, Some(_)) => {
                errs.push("value", "required when a currency is given (e.g. 12.50)");
                Err(errs)
            }
            (Some(v), Some(c)) => {
                if let Err(rule) = currency_exponent(c) {
                    errs.push("currency", rule);
                    return Err(errs);
                }
                match parse_amount(v, c) {
                    Ok(minor) => Ok(Some(OrderValue {
                        minor,
                        currency: c.to_owned(),
                    })),
                    Err(rule) => {
                        errs.push("value", rule);
                        Err(errs)
                    }
                }
            }
        }
    }
}

impl fmt::Display for OrderValue {
    /// In the currency's units: `12.50 EUR`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format_amount(self.minor, &self.currency))
    }
}

/// Basis points as a percentage: 1250 → "12.5%".
pub fn format_bps(bps: i64) -> String {
    let d = Decimal::new(bps, 2).normalize();
    format!("{d}%")
}

/// Checks basis points are within 0–10,000.
pub fn check_bps(v: i64) -> Result<i32, String> {
    if (0..=BPS_MAX).contains(&v) {
        Ok(v as i32)
    } else {
        Err(format!("must be 0–10000 basis points (got {v})"))
    }
}

text_enum!(
    /// How often an agreement is settled (SPEC §1.7).
    Frequency { Monthly => "monthly", Quarterly => "quarterly", Annual => "annual" }
);

impl Frequency {
    /// What one period is called: month, quarter, year.
    pub fn unit(self) -> &'static str {
        match self {
            Frequency::Monthly => "month",
            Frequency::Quarterly => "quarter",
            Frequency::Annual => "year",
        }
    }

    fn months(self) -> u32 {
        match self {
            Frequency::Monthly => 1,
            Frequency::Quarterly => 3,
            Frequency::Annual => 12,
        }
    }

    /// The first day of the period holding `day` (UTC calendar month, quarter or year).
    pub fn period_start(self, day: NaiveDate) -> NaiveDate {
        let m0 = day.month0() / self.months() * self.months();
        NaiveDate::from_ymd_opt(day.year(), m0 + 1, 1).expect("valid period start")
    }

    /// The first day of the period after the one holding `day`.
    pub fn next_period_start(self, day: NaiveDate) -> NaiveDate {
        let start = self.period_start(day);
        start
            .checked_add_months(chrono::Months::new(self.months()))
            .expect("date in range")
    }

    /// The first period start on or after `day`.
    pub fn start_on_or_after(self, day: NaiveDate) -> NaiveDate {
        if self.period_start(day) == day {
            day
        } else {
            self.next_period_start(day)
        }
    }

    /// When an agreement version accepted at `accepted_at` takes effect: the start of the next
    /// settlement period, or the first period start on or after the offer's own start if that
    /// is later (one settlement always uses one version).
    pub fn effective_from(
        self,
        accepted_at: DateTime<Utc>,
        offer_start: DateTime<Utc>,
    ) -> NaiveDate {
        let next = self.next_period_start(accepted_at.date_naive());
        let own = self.start_on_or_after(offer_start.date_naive());
        next.max(own)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_follow_the_currency_minor_unit() {
        assert_eq!(parse_amount("12.50", "EUR"), Ok(1250));
        assert_eq!(parse_amount("12", "EUR"), Ok(1200));
        assert_eq!(parse_amount("500", "JPY"), Ok(500));
        assert!(
            parse_amount("5.5", "JPY")
                .unwrap_err()
                .contains("0 decimal places")
        );
        assert_eq!(parse_amount("1.234", "KWD"), Ok(1234));
        assert!(parse_amount("-1", "EUR").unwrap_err().contains("0 or more"));
        assert!(currency_exponent("EURO").is_err());
        assert!(currency_exponent("eur").is_err());
        assert!(currency_exponent("XXX").is_err() || currency_exponent("XXX").is_ok());
        assert_eq!(format_amount(1250, "EUR"), "12.50 EUR");
        assert_eq!(format_amount(1234, "KWD"), "1.234 KWD");
        assert_eq!(format_bps(1250), "12.5%");
        assert_eq!(format_bps(1500), "15%");
        assert!(check_bps(10_001).is_err());
    }

    #[test]
    fn effective_from_is_a_period_start() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let t = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        let at = t("2026-02-14T10:00:00Z");
        assert_eq!(
            Frequency::Monthly.effective_from(at, t("2026-01-01T00:00:00Z")),
            d("2026-03-01")
        );
        assert_eq!(
            Frequency::Quarterly.effective_from(at, t("2026-01-01T00:00:00Z")),
            d("2026-04-01")
        );
        assert_eq!(
            Frequency::Annual.effective_from(at, t("2026-01-01T00:00:00Z")),
            d("2027-01-01")
        );
        assert_eq!(
            Frequency::Monthly.effective_from(at, t("2026-06-10T00:00:00Z")),
            d("2026-07-01")
        );
        assert_eq!(
            Frequency::Monthly.effective_from(at, t("2026-06-01T00:00:00Z")),
            d("2026-06-01")
        );
    }

    #[test]
    fn order_values_are_both_or_neither_and_follow_the_currency() {
        let p = |v: &str, c: &str| OrderValue::parse(Some(v), Some(c));
        let rule = |r: Result<Option<OrderValue>, ValidationErrors>| r.unwrap_err().to_string();
        assert_eq!(OrderValue::parse(None, None), Ok(None));
        assert_eq!(OrderValue::parse(Some(" "), Some("")), Ok(None));
        assert_eq!(
            p("12.50", "EUR").unwrap().unwrap(),
            OrderValue {
                minor: 1250,
                currency: "EUR".into()
            }
        );
        assert_eq!(p("0", "EUR").unwrap().unwrap().minor, 0);
        assert_eq!(p("1.234", "KWD").unwrap().unwrap().minor, 1234);
        assert_eq!(p("500", "JPY").unwrap().unwrap().to_string(), "500 JPY");
        assert_eq!(rule(p("-1", "EUR")), "value: must be 0 or more");
        assert_eq!(
            rule(p("5.5", "JPY")),
            "value: JPY has 0 decimal places; got 5.5"
        );
        assert_eq!(
            rule(p("1.234", "EUR")),
            "value: EUR has 2 decimal places; got 1.234"
        );
        assert_eq!(
            rule(p("ten", "EUR")),
            "value: must be an amount such as 12.50 (got 'ten')"
        );
        assert!(rule(p("1", "eur")).starts_with("currency: must be an ISO 4217"));
        assert_eq!(
            rule(OrderValue::parse(None, Some("EUR"))),
            "value: required when a currency is given (e.g. 12.50)"
        );
        assert_eq!(
            rule(OrderValue::parse(Some("3"), None)),
            "currency: required when a value is given (e.g. EUR)"
        );
    }
}
