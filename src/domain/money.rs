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

/// The most any one amount may be, in minor units of its currency: 9,000,000.00 EUR,
/// 900,000,000 JPY, 900,000.000 KWD. An order value, a fee, a plan price and a flat rule are
/// each at most this; a commission line (value × at most 10,000 bps / 10,000), a payout and a
/// take are at most what they are taken from, so every line is too. Sized so that
/// [`STATEMENT_LINES_MAX`] lines make at most [`TOTAL_MAX_MINOR`], [`BATCH_STATEMENTS_MAX`]
/// such statements still fit PostgreSQL's `bigint` (9,223,372,036,854,775,807), and one
/// amount stays within a SEPA credit transfer's 999,999,999.99 whatever the minor unit.
pub const AMOUNT_MAX_MINOR: i64 = 900_000_000;
/// The lines a statement is sized for.
pub const STATEMENT_LINES_MAX: i64 = 1_000_000;
/// The statements a payout batch is sized for.
pub const BATCH_STATEMENTS_MAX: i64 = 10_000;
/// The most a statement total (or a partner's tally of one) may be, in minor units:
/// [`STATEMENT_LINES_MAX`] × [`AMOUNT_MAX_MINOR`] = 900,000,000,000,000 (9,000,000,000,000.00 EUR).
pub const TOTAL_MAX_MINOR: i64 = STATEMENT_LINES_MAX * AMOUNT_MAX_MINOR;
// The paper arithmetic, checked by the compiler: a batch of 10,000 statements at the total
// maximum is 9,000,000,000,000,000,000 ≤ i64::MAX; one amount ≤ 999,999,999.99 even in JPY.
const _: () = assert!(TOTAL_MAX_MINOR.checked_mul(BATCH_STATEMENTS_MAX).is_some());
const _: () = assert!(AMOUNT_MAX_MINOR <= 999_999_999);
/// The most a count (a hybrid threshold, a partner's tally of redemptions) may be: PostgreSQL's
/// `integer`.
pub const COUNT_MAX: i64 = i32::MAX as i64;

/// Parses an amount typed in the currency's units ("12.50" EUR) into minor units (1250).
/// Refuses negatives, more decimals than the currency has, and more than
/// [`AMOUNT_MAX_MINOR`] ("at most 9,000,000.00 EUR").
pub fn parse_amount(text: &str, currency: &str) -> Result<i64, String> {
    parse_amount_up_to(text, currency, AMOUNT_MAX_MINOR)
}

/// [`parse_amount`] with another maximum, in minor units (a statement total's:
/// [`TOTAL_MAX_MINOR`]).
pub fn parse_amount_up_to(text: &str, currency: &str, max_minor: i64) -> Result<i64, String> {
    let exp = currency_exponent(currency).map_err(|_| "needs a valid currency".to_owned())?;
    let t = text.trim();
    let most = || grouped_amount(max_minor, currency);
    let places = || {
        format!(
            "{currency} has {exp} decimal place{}; got {t}",
            if exp == 1 { "" } else { "s" },
        )
    };
    // Decimals as typed (a `Decimal` rounds past 28 of them).
    let typed_places = t
        .split_once('.')
        .filter(|_| !t.contains(['e', 'E']))
        .map_or(0, |(_, f)| f.trim_end_matches('0').len());
    let d = match Decimal::from_str(t).or_else(|_| Decimal::from_scientific(t)) {
        Ok(d) => d,
        // A number, only too long for any amount (10^30), or too small (1e-30).
        Err(_) if is_number(t) && t.starts_with('-') => return Err("must be 0 or more".into()),
        Err(_) if is_number(t) && (t.contains("e-") || t.contains("E-")) => return Err(places()),
        Err(_) if is_number(t) => return Err(format!("too large (at most {})", most())),
        Err(_) => return Err(format!("must be an amount such as 12.50 (got '{t}')")),
    };
    if d.is_sign_negative() && !d.is_zero() {
        return Err("must be 0 or more".into());
    }
    if d > Decimal::new(max_minor, exp) {
        return Err(format!("at most {}", most()));
    }
    if d.normalize().scale() > exp || typed_places > exp as usize {
        return Err(places());
    }
    // At most max_minor once scaled: neither can overflow.
    Decimal::from(10i64.pow(exp))
        .checked_mul(d)
        .and_then(|m| i64::try_from(m.trunc()).ok())
        .ok_or_else(|| format!("too large (at most {})", most()))
}

/// Digits with at most one point, an optional sign and exponent: what reads as a number.
fn is_number(t: &str) -> bool {
    let t = t.strip_prefix(['-', '+']).unwrap_or(t);
    let (mantissa, exponent) = match t.find(['e', 'E']) {
        Some(i) => (&t[..i], Some(&t[i + 1..])),
        None => (t, None),
    };
    let digits = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_digit());
    let mantissa_ok = match mantissa.split_once('.') {
        Some((a, b)) => {
            (digits(a) || a.is_empty()) && (digits(b) || b.is_empty()) && a.len() + b.len() > 0
        }
        None => digits(mantissa),
    };
    mantissa_ok && exponent.is_none_or(|e| digits(e.strip_prefix(['-', '+']).unwrap_or(e)))
}

/// Minor units with thousands grouped, for limits: 900000000 EUR → "9,000,000.00 EUR".
pub fn grouped_amount(minor: i64, currency: &str) -> String {
    let plain = decimal_string(minor, currency);
    let (sign, plain) = match plain.strip_prefix('-') {
        Some(p) => ("-", p),
        None => ("", plain.as_str()),
    };
    let (int, frac) = match plain.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (plain, None),
    };
    let out = group_digits(int);
    match frac {
        Some(f) => format!("{sign}{out}.{f} {currency}"),
        None => format!("{sign}{out} {currency}"),
    }
}

/// A count as typed: from `min` to [`COUNT_MAX`]; the refusal says the bound it broke.
pub fn check_count(v: i64, min: i64) -> Result<i32, String> {
    if v < min {
        Err(format!("must be {min} or more (got {v})"))
    } else if v > COUNT_MAX {
        Err(format!("must be at most {} (got {v})", grouped(COUNT_MAX)))
    } else {
        Ok(v as i32)
    }
}

/// 2147483647 → "2,147,483,647".
fn grouped(n: i64) -> String {
    match n.to_string().strip_prefix('-') {
        Some(d) => format!("-{}", group_digits(d)),
        None => group_digits(&n.to_string()),
    }
}

/// "9000000" → "9,000,000".
fn group_digits(int: &str) -> String {
    let mut out = String::with_capacity(int.len() + int.len() / 3);
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
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

/// The currencies whose minor unit is not 2 (JPY 0, KWD 3, …), from ISO 4217 as the
/// `iso_currency` crate has it: what SQL that writes amounts as decimals needs to know.
pub fn exponents_other_than_two() -> Vec<(&'static str, u32)> {
    use iso_currency::IntoEnumIterator;
    Currency::iter()
        .filter_map(|c| c.exponent().map(|e| (c.code(), u32::from(e))))
        .filter(|(_, e)| *e != 2)
        .collect()
}

/// An SQL expression over the bigint `minor` and the text `currency` columns: the amount in
/// the currency's units as `numeric` with exactly its minor unit's decimals ("12.50" EUR,
/// "1250" JPY, "1.250" KWD), for `COPY`, which cannot call back into Rust.
pub fn sql_decimal(minor: &str, currency: &str) -> String {
    let mut case = format!("CASE {currency}");
    for (code, exp) in exponents_other_than_two() {
        case.push_str(&format!(" WHEN '{code}' THEN {exp}"));
    }
    case.push_str(" ELSE 2 END");
    format!("round({minor}::numeric / power(10::numeric, {case}), {case})")
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
    fn amounts_stop_at_the_documented_maximum_per_minor_unit() {
        // The maximum is 900,000,000 minor units whatever the currency's places.
        assert_eq!(parse_amount("9000000.00", "EUR"), Ok(900_000_000));
        assert_eq!(parse_amount("9000000", "EUR"), Ok(AMOUNT_MAX_MINOR));
        assert_eq!(
            parse_amount("9000000.01", "EUR"),
            Err("at most 9,000,000.00 EUR".into())
        );
        assert_eq!(parse_amount("900000000", "JPY"), Ok(900_000_000));
        assert_eq!(
            parse_amount("900000001", "JPY"),
            Err("at most 900,000,000 JPY".into())
        );
        assert_eq!(parse_amount("900000.000", "KWD"), Ok(900_000_000));
        assert_eq!(
            parse_amount("900000.001", "KWD"),
            Err("at most 900,000.000 KWD".into())
        );
        // What used to overflow the multiplication, or bigint later.
        for big in [
            "79228162514264337593543950335",
            "1e28",
            "1E28",
            "92233720368547758.07",
        ] {
            assert_eq!(
                parse_amount(big, "EUR"),
                Err("at most 9,000,000.00 EUR".into()),
                "{big}"
            );
        }
        assert_eq!(
            parse_amount("79228162514264337593543950335", "KWD"),
            Err("at most 900,000.000 KWD".into())
        );
        // Too long for any number: still a number, too large.
        let e30 = format!("1{}", "0".repeat(30));
        assert_eq!(
            parse_amount(&e30, "EUR"),
            Err("too large (at most 9,000,000.00 EUR)".into())
        );
        assert_eq!(
            parse_amount("1e30", "JPY"),
            Err("too large (at most 900,000,000 JPY)".into())
        );
        assert_eq!(
            parse_amount(&format!("-{e30}"), "EUR"),
            Err("must be 0 or more".into())
        );
        assert_eq!(parse_amount("1.5e2", "EUR"), Ok(15_000));
        assert_eq!(
            parse_amount("1e-30", "EUR"),
            Err("EUR has 2 decimal places; got 1e-30".into())
        );
        let tiny = format!("0.{}1", "0".repeat(30));
        assert_eq!(
            parse_amount(&tiny, "EUR"),
            Err(format!("EUR has 2 decimal places; got {tiny}"))
        );
        assert!(
            parse_amount("1e", "EUR")
                .unwrap_err()
                .starts_with("must be an amount")
        );
        assert!(
            parse_amount("12,50", "EUR")
                .unwrap_err()
                .starts_with("must be an amount")
        );
        // A statement total's maximum: a million lines at the maximum.
        assert_eq!(TOTAL_MAX_MINOR, 900_000_000_000_000);
        assert_eq!(
            parse_amount_up_to("9000000000000.00", "EUR", TOTAL_MAX_MINOR),
            Ok(TOTAL_MAX_MINOR)
        );
        assert_eq!(
            parse_amount_up_to("9000000000000.01", "EUR", TOTAL_MAX_MINOR),
            Err("at most 9,000,000,000,000.00 EUR".into())
        );
    }

    #[test]
    fn the_maximum_fits_every_total_on_paper() {
        // A million lines at the maximum is one statement's total; 10,000 such statements a
        // batch: 900,000,000 × 10^6 × 10^4 = 9.0 × 10^18 ≤ 9,223,372,036,854,775,807.
        let batch = (AMOUNT_MAX_MINOR as i128) * 1_000_000 * 10_000;
        assert_eq!(batch, 9_000_000_000_000_000_000);
        assert!(batch <= i64::MAX as i128);
        assert!(TOTAL_MAX_MINOR.checked_mul(BATCH_STATEMENTS_MAX).is_some());
        // Ten times the maximum would not fit: the rule is as large as a round one can be.
        assert!((AMOUNT_MAX_MINOR as i128 * 10) * 1_000_000 * 10_000 > i64::MAX as i128);
        // One amount within a SEPA transfer's 999,999,999.99 in every minor unit.
        for (c, most) in [
            ("JPY", "900,000,000 JPY"),
            ("EUR", "9,000,000.00 EUR"),
            ("KWD", "900,000.000 KWD"),
        ] {
            assert_eq!(grouped_amount(AMOUNT_MAX_MINOR, c), most);
            let major = Decimal::new(AMOUNT_MAX_MINOR, currency_exponent(c).unwrap());
            assert!(major <= Decimal::new(99_999_999_999, 2), "{c}");
        }
        assert_eq!(grouped_amount(-123_456, "EUR"), "-1,234.56 EUR");
        assert_eq!(grouped_amount(5, "JPY"), "5 JPY");
    }

    #[test]
    fn counts_say_their_limit() {
        assert_eq!(check_count(0, 0), Ok(0));
        assert_eq!(check_count(COUNT_MAX, 1), Ok(i32::MAX));
        assert_eq!(
            check_count(99_999_999_999, 1),
            Err("must be at most 2,147,483,647 (got 99999999999)".into())
        );
        assert_eq!(check_count(-1, 0), Err("must be 0 or more (got -1)".into()));
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
        assert_eq!(rule(p("1e28", "EUR")), "value: at most 9,000,000.00 EUR");
        assert_eq!(
            rule(p(&"9".repeat(30), "JPY")),
            "value: too large (at most 900,000,000 JPY)"
        );
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
