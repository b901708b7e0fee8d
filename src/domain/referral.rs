//! The referral program (SPEC §1.7, seed 003): plans, referral codes, claim tokens, commission
//! rules and the payout of a conversion — `round(price × bps / 10000)` half away from zero in
//! integer minor units, or the flat amount.

use super::money::{check_bps, currency_exponent, parse_amount};
use super::settlement::apply_bps;
use super::validation::{Lines, ValidationErrors, text};
use base64::Engine;
use rand::Rng;
use serde::Serialize;
use sha2::{Digest, Sha256};

/// What a claim token starts with, so that one pasted in the wrong place is recognisable.
pub const TOKEN_PREFIX: &str = "pdc_";
/// Random bytes in a token: 256 bits (the issue asks for at least 128).
pub const TOKEN_BYTES: usize = 32;

/// A new claim token: the text shown once, its SHA-256 (hex) and its last four characters.
pub struct NewToken {
    pub token: String,
    pub hash: String,
    pub last4: String,
}

pub fn new_token() -> NewToken {
    let mut bytes = [0u8; TOKEN_BYTES];
    rand::rng().fill_bytes(&mut bytes);
    let token = format!(
        "{TOKEN_PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    );
    let last4 = token[token.len() - 4..].to_owned();
    NewToken {
        hash: token_hash(&token),
        token,
        last4,
    }
}

/// The SHA-256 of a token, lowercase hex: what the database keeps.
pub fn token_hash(token: &str) -> String {
    let digest = Sha256::digest(token.trim().as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// A plan's code: lowercase letters, digits, `-` and `_`, up to 40.
pub fn check_plan_code(code: &str) -> Result<String, String> {
    let c = code.trim();
    let ok = !c.is_empty()
        && c.len() <= 40
        && c.chars()
            .next()
            .is_some_and(|ch| ch.is_ascii_alphanumeric())
        && c.chars()
            .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '-' || ch == '_');
    if ok {
        Ok(c.to_owned())
    } else {
        Err(format!(
            "must be 1–40 lowercase letters, digits, '-' or '_' starting with a letter or digit (got '{c}')"
        ))
    }
}

/// A referral code: 3–40 URL-safe characters (letters, digits, `-`, `_`); unique whatever
/// the case.
pub fn check_referral_code(code: &str) -> Result<String, String> {
    let c = code.trim();
    if (3..=40).contains(&c.len())
        && c.chars()
            .all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '_')
    {
        Ok(c.to_owned())
    } else {
        Err(format!(
            "must be 3–40 letters, digits, '-' or '_' (it goes in a link) (got '{c}')"
        ))
    }
}

/// The registration link of a code.
pub fn referral_link(code: &str) -> String {
    format!("/register?ref={code}")
}

/// A partner's default code from its display name: `BLUEBIRD-7`.
pub fn default_code(display_name: &str, partner_id: i64) -> String {
    let mut stem: String = display_name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .take(12)
        .collect::<String>()
        .to_ascii_uppercase();
    if stem.is_empty() {
        stem = "PARTNER".into();
    }
    format!("{stem}-{partner_id}")
}

/// A plan as typed.
#[derive(Debug, Clone, Default)]
pub struct PlanDraft {
    pub code: String,
    pub name: String,
    pub price: String,
    pub currency: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ValidPlan {
    pub code: String,
    pub name: String,
    pub price_minor: i64,
    pub currency: String,
}

impl PlanDraft {
    pub fn validate(&self) -> Result<ValidPlan, ValidationErrors> {
        let mut e = ValidationErrors::new();
        let code = check_plan_code(&self.code)
            .map_err(|r| e.push("code", r))
            .unwrap_or_default();
        let name = text(&mut e, "name", &self.name, 100, Lines::One);
        let currency = self.currency.trim().to_owned();
        let price_minor = match currency_exponent(&currency) {
            Err(r) => {
                e.push("currency", r);
                0
            }
            Ok(_) => parse_amount(&self.price, &currency)
                .map_err(|r| e.push("price", r))
                .unwrap_or(0),
        };
        e.into_result(ValidPlan {
            code,
            name,
            price_minor,
            currency,
        })
    }
}

/// What a commission rule pays.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RulePay {
    /// Basis points of the plan's monthly list price.
    Bps { bps: i32 },
    /// A flat amount in minor units of a currency.
    Flat { amount_minor: i64, currency: String },
}

/// A rule as typed: `--bps 1500` or `--flat 25.00 --currency EUR`.
pub fn check_rule(
    bps: Option<i64>,
    flat: Option<&str>,
    currency: Option<&str>,
) -> Result<RulePay, ValidationErrors> {
    let mut e = ValidationErrors::new();
    let pay = match (bps, flat) {
        (Some(b), None) => check_bps(b)
            .map(|bps| RulePay::Bps { bps })
            .map_err(|r| e.push("bps", r))
            .ok(),
        (None, Some(f)) => {
            let c = currency.unwrap_or("").trim();
            match currency_exponent(c) {
                Err(r) => {
                    e.push("currency", format!("a flat rule needs its currency: {r}"));
                    None
                }
                Ok(_) => parse_amount(f, c)
                    .map(|amount_minor| RulePay::Flat {
                        amount_minor,
                        currency: c.to_owned(),
                    })
                    .map_err(|r| e.push("flat", r))
                    .ok(),
            }
        }
        _ => {
            e.push(
                "rule",
                "give either basis points (--bps) or a flat amount (--flat with --currency)",
            );
            None
        }
    };
    match pay {
        Some(p) if e.is_empty() => Ok(p),
        _ => Err(e),
    }
}

/// The payout of a conversion of a plan priced `price_minor` in `currency` under `pay`:
/// `round(price × bps / 10000)` half away from zero, or the flat amount (whose currency must
/// be the plan's).
pub fn payout(pay: &RulePay, price_minor: i64, currency: &str) -> Result<i64, String> {
    match pay {
        RulePay::Bps { bps } => Ok(apply_bps(price_minor, *bps)),
        RulePay::Flat {
            amount_minor,
            currency: c,
        } if c == currency => Ok(*amount_minor),
        RulePay::Flat { currency: c, .. } => Err(format!(
            "the rule pays a flat amount in {c} but the plan is priced in {currency}"
        )),
    }
}

/// What a commission rule pays, in words: "15% of the plan's monthly price", "25.00 EUR
/// flat".
pub fn rule_text(bps: Option<i32>, amount: Option<i64>, currency: Option<&str>) -> String {
    match (bps, amount, currency) {
        (Some(b), _, _) => format!(
            "{} of the plan's monthly price",
            super::money::format_bps(b.into())
        ),
        (None, Some(a), Some(c)) => format!("{} flat", super::money::format_amount(a, c)),
        _ => "-".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_long_and_only_their_hash_is_kept() {
        let a = new_token();
        let b = new_token();
        assert_ne!(a.token, b.token);
        assert!(a.token.starts_with(TOKEN_PREFIX));
        // 32 bytes in unpadded base64url: 43 characters.
        assert_eq!(a.token.len(), TOKEN_PREFIX.len() + 43);
        assert_eq!(a.hash, token_hash(&a.token));
        assert_eq!(a.hash.len(), 64);
        assert!(!a.hash.contains(&a.token[4..]));
        assert_eq!(a.last4, &a.token[a.token.len() - 4..]);
        // The SHA-256 of "abc", as published.
        assert_eq!(
            token_hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn payouts_round_half_away_from_zero() {
        // 19.90 × 12.5% = 2.4875 → 2.49; 10.10 × 5% = 0.505 → 0.51 (half to even: 0.50).
        assert_eq!(payout(&RulePay::Bps { bps: 1250 }, 1990, "EUR"), Ok(249));
        assert_eq!(payout(&RulePay::Bps { bps: 500 }, 1010, "EUR"), Ok(51));
        // ¥990 × 15% = 148.5 → 149.
        assert_eq!(payout(&RulePay::Bps { bps: 1500 }, 990, "JPY"), Ok(149));
        let flat = RulePay::Flat {
            amount_minor: 2500,
            currency: "EUR".into(),
        };
        assert_eq!(payout(&flat, 99_999, "EUR"), Ok(2500));
        assert!(payout(&flat, 100, "USD").is_err());
    }

    #[test]
    fn codes_and_rules_name_their_rules() {
        assert!(check_referral_code("BLUEBIRD-7").is_ok());
        assert!(check_referral_code("no spaces").is_err());
        assert!(check_referral_code("ab").is_err());
        assert!(check_plan_code("pro-monthly").is_ok());
        assert!(check_plan_code("Pro").is_err());
        assert_eq!(
            default_code("Bluebird Coffee Roasters", 7),
            "BLUEBIRDCOFF-7"
        );
        assert_eq!(referral_link("X1Y"), "/register?ref=X1Y");
        let e = check_rule(None, Some("25.00"), None)
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("currency: a flat rule needs its currency"),
            "{e}"
        );
        assert!(check_rule(Some(1000), Some("1"), Some("EUR")).is_err());
        assert_eq!(
            check_rule(None, Some("25"), Some("EUR")),
            Ok(RulePay::Flat {
                amount_minor: 2500,
                currency: "EUR".into()
            })
        );
        let e = PlanDraft {
            code: "pro".into(),
            name: "Pro".into(),
            price: "9.999".into(),
            currency: "EUR".into(),
        }
        .validate()
        .unwrap_err()
        .to_string();
        assert!(e.contains("price: EUR has 2 decimal places"), "{e}");
    }
}
