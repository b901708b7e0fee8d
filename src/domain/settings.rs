//! The marketplace's own settings (SPEC §1.1): rules every operator and every job computes
//! with the same way, kept in the database, set by admins and audited — the holding period of
//! referral payouts, the minimum payout per currency, and the marketplace's bank account (the
//! debtor of every SEPA file). Here: what `settings set KEY VALUE` may say, checked.

use super::money::{TOTAL_MAX_MINOR, currency_exponent, parse_amount_up_to};
use super::payout::{HOLDER_MAX, check_bic, check_iban};
use super::validation::{Lines, ValidationErrors, text};
use serde::Serialize;

/// The longest holding period, in days.
pub const HOLDING_DAYS_MAX: i32 = 365;
/// The holding period when none is set (Tolt's and FirstPromoter's default).
pub const HOLDING_DAYS_DEFAULT: i32 = 30;

/// The keys `settings set` knows, with what each takes (for help and refusals).
pub const KEYS: &[(&str, &str)] = &[
    (
        "holding_days",
        "days a referral payout is to wait after its conversion (0–365; not applied to statements yet)",
    ),
    (
        "bank_account",
        "the marketplace's account, the debtor of SEPA files: HOLDER | IBAN | BIC, or none",
    ),
    (
        "minimum_payout.CUR",
        "the least a partner is paid in CUR (an amount such as 25.00), or none",
    ),
];

/// The marketplace's bank account, whole.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BankAccount {
    pub holder: String,
    pub iban: String,
    pub bic: String,
}

/// One change of a setting, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SettingChange {
    HoldingDays(i32),
    BankAccount(Option<BankAccount>),
    MinimumPayout {
        currency: String,
        amount_minor: Option<i64>,
    },
}

impl SettingChange {
    /// Parses `settings set KEY VALUE`: one clear refusal naming the key and its rule.
    pub fn parse(key: &str, value: &str) -> Result<SettingChange, ValidationErrors> {
        let mut e = ValidationErrors::new();
        let value = value.trim();
        let none = value.eq_ignore_ascii_case("none");
        match key.trim() {
            "holding_days" | "holding-days" => match value.parse::<i32>() {
                Ok(d) if (0..=HOLDING_DAYS_MAX).contains(&d) => {
                    return Ok(SettingChange::HoldingDays(d));
                }
                _ => e.push(
                    "holding_days",
                    format!("a whole number of days from 0 to {HOLDING_DAYS_MAX}; got {value:?}"),
                ),
            },
            "bank_account" | "bank-account" => {
                if none {
                    return Ok(SettingChange::BankAccount(None));
                }
                let parts: Vec<&str> = value.split('|').map(str::trim).collect();
                if parts.len() != 3 {
                    e.push(
                        "bank_account",
                        "HOLDER | IBAN | BIC (three parts separated by |), or none",
                    );
                    return Err(e);
                }
                let holder = text(&mut e, "holder", parts[0], HOLDER_MAX, Lines::One);
                let iban = check_iban(parts[1])
                    .map_err(|why| e.push("iban", why))
                    .unwrap_or_default();
                let bic = check_bic(parts[2])
                    .map_err(|why| e.push("bic", why))
                    .unwrap_or_default();
                return e.into_result(SettingChange::BankAccount(Some(BankAccount {
                    holder,
                    iban,
                    bic,
                })));
            }
            k => {
                let Some(cur) = k
                    .strip_prefix("minimum_payout.")
                    .or_else(|| k.strip_prefix("minimum-payout."))
                else {
                    let known: Vec<&str> = KEYS.iter().map(|(k, _)| *k).collect();
                    e.push(
                        "key",
                        format!("no setting {k:?}; the settings are {}", known.join(", ")),
                    );
                    return Err(e);
                };
                let currency = cur.to_ascii_uppercase();
                if let Err(why) = currency_exponent(&currency) {
                    e.push("minimum_payout", why);
                    return Err(e);
                }
                if none {
                    return Ok(SettingChange::MinimumPayout {
                        currency,
                        amount_minor: None,
                    });
                }
                match parse_amount_up_to(value, &currency, TOTAL_MAX_MINOR) {
                    Ok(0) => e.push(
                        "minimum_payout",
                        "more than zero (none for no minimum)".to_owned(),
                    ),
                    Ok(a) => {
                        return Ok(SettingChange::MinimumPayout {
                            currency,
                            amount_minor: Some(a),
                        });
                    }
                    Err(why) => e.push("minimum_payout", why),
                }
            }
        }
        Err(e)
    }

    /// The key it changes, as `settings show` names it.
    pub fn key(&self) -> String {
        match self {
            SettingChange::HoldingDays(_) => "holding_days".into(),
            SettingChange::BankAccount(_) => "bank_account".into(),
            SettingChange::MinimumPayout { currency, .. } => format!("minimum_payout.{currency}"),
        }
    }
}

/// A partner's minimum payout as typed (`--minimum 25.00`, or `none`), in its payout
/// currency.
pub fn parse_partner_minimum(value: &str, currency: &str) -> Result<Option<i64>, String> {
    let v = value.trim();
    if v.eq_ignore_ascii_case("none") || v.is_empty() {
        return Ok(None);
    }
    parse_amount_up_to(v, currency, TOTAL_MAX_MINOR).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(key: &str, value: &str) -> String {
        SettingChange::parse(key, value).unwrap_err().to_string()
    }

    #[test]
    fn holding_days_are_whole_days_up_to_a_year() {
        assert_eq!(
            SettingChange::parse("holding_days", "30").unwrap(),
            SettingChange::HoldingDays(30)
        );
        assert_eq!(
            SettingChange::parse("holding_days", "0").unwrap(),
            SettingChange::HoldingDays(0)
        );
        assert!(refusal("holding_days", "366").contains("holding_days: a whole number of days"));
        assert!(refusal("holding_days", "-1").contains("from 0 to 365"));
        assert!(refusal("holding_days", "2.5").contains("holding_days"));
    }

    #[test]
    fn a_minimum_is_an_amount_of_its_currency() {
        assert_eq!(
            SettingChange::parse("minimum_payout.eur", "25.00").unwrap(),
            SettingChange::MinimumPayout {
                currency: "EUR".into(),
                amount_minor: Some(2500)
            }
        );
        assert_eq!(
            SettingChange::parse("minimum_payout.JPY", "1000").unwrap(),
            SettingChange::MinimumPayout {
                currency: "JPY".into(),
                amount_minor: Some(1000)
            }
        );
        assert_eq!(
            SettingChange::parse("minimum_payout.KWD", "none").unwrap(),
            SettingChange::MinimumPayout {
                currency: "KWD".into(),
                amount_minor: None
            }
        );
        assert!(refusal("minimum_payout.JPY", "10.5").contains("minimum_payout: JPY has 0"));
        assert!(refusal("minimum_payout.EUR", "0").contains("more than zero"));
        assert!(refusal("minimum_payout.XXY", "1").contains("minimum_payout"));
    }

    #[test]
    fn the_bank_account_is_whole_or_none() {
        let c = SettingChange::parse(
            "bank_account",
            "Partnerdesk Marketplace GmbH | DE02 1203 0000 0000 2020 51 | byladem1001",
        )
        .unwrap();
        assert_eq!(
            c,
            SettingChange::BankAccount(Some(BankAccount {
                holder: "Partnerdesk Marketplace GmbH".into(),
                iban: "DE02120300000000202051".into(),
                bic: "BYLADEM1001".into(),
            }))
        );
        assert_eq!(
            SettingChange::parse("bank_account", "none").unwrap(),
            SettingChange::BankAccount(None)
        );
        assert!(refusal("bank_account", "just a name").contains("HOLDER | IBAN | BIC"));
        assert!(
            refusal("bank_account", "X | DE02120300000000202052 | BYLADEM1001")
                .contains("iban: its check digits")
        );
        assert!(refusal("colour", "red").contains("key: no setting \"colour\""));
    }
}
