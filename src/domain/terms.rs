//! Commercial terms (SPEC §1.7): a commission model with its parameters, the currency, the
//! settlement frequency and the platform take rate — what an offer proposes and what an
//! agreement version holds — and their rules.

use super::deal::text_enum;
use super::money::{
    DEFAULT_TAKE_RATE_BPS, Frequency, check_bps, check_count, currency_exponent, parse_amount,
};
use super::validation::ValidationErrors;
use serde::{Deserialize, Serialize};

text_enum!(
    /// The commission model of an offer (SPEC §1.7).
    ModelKind {
        Percentage => "percentage",
        FixedFee => "fixed_fee",
        Hybrid => "hybrid",
        FlatFee => "flat_fee",
        ReferralOnly => "referral_only",
    }
);

impl ModelKind {
    /// Whether the model reads this [`TermsDraft`] parameter (`rate_bps`, `amount`,
    /// `base_bps`, `bonus_bps`, `bonus_threshold`, `take_rate_bps`).
    pub fn uses(self, field: &str) -> bool {
        match self {
            ModelKind::Percentage => matches!(field, "rate_bps" | "take_rate_bps"),
            ModelKind::FixedFee | ModelKind::FlatFee => matches!(field, "amount" | "take_rate_bps"),
            ModelKind::Hybrid => matches!(
                field,
                "base_bps" | "bonus_bps" | "bonus_threshold" | "take_rate_bps"
            ),
            // No commission, so no take from it either.
            ModelKind::ReferralOnly => false,
        }
    }
}

/// A commission model with its parameters; amounts in the currency's minor units.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "model", rename_all = "snake_case")]
pub enum Commission {
    Percentage {
        rate_bps: i32,
    },
    FixedFee {
        amount_minor: i64,
    },
    Hybrid {
        base_bps: i32,
        bonus_bps: i32,
        bonus_threshold: i32,
    },
    FlatFee {
        amount_minor: i64,
    },
    /// No commission on redemptions: the partner is only paid its referral payouts.
    ReferralOnly,
}

impl Commission {
    pub fn kind(&self) -> ModelKind {
        match self {
            Commission::Percentage { .. } => ModelKind::Percentage,
            Commission::FixedFee { .. } => ModelKind::FixedFee,
            Commission::Hybrid { .. } => ModelKind::Hybrid,
            Commission::FlatFee { .. } => ModelKind::FlatFee,
            Commission::ReferralOnly => ModelKind::ReferralOnly,
        }
    }
}

impl Commission {
    /// The model with its parameters, as people read it: "percentage 5%", "fixed fee 2.50 EUR
    /// per redemption", "hybrid 5% + 2.5% after 100", "flat fee 300.00 EUR per period",
    /// "referral only (no commission)".
    pub fn text(&self, currency: &str) -> String {
        use super::money::{format_amount, format_bps};
        match *self {
            Commission::Percentage { rate_bps } => {
                format!("percentage {}", format_bps(rate_bps.into()))
            }
            Commission::FixedFee { amount_minor } => format!(
                "fixed fee {} per redemption",
                format_amount(amount_minor, currency)
            ),
            Commission::FlatFee { amount_minor } => format!(
                "flat fee {} per period",
                format_amount(amount_minor, currency)
            ),
            Commission::Hybrid {
                base_bps,
                bonus_bps,
                bonus_threshold,
            } => format!(
                "hybrid {} + {} after {bonus_threshold}",
                format_bps(base_bps.into()),
                format_bps(bonus_bps.into())
            ),
            Commission::ReferralOnly => "referral only (no commission)".into(),
        }
    }
}

/// Terms that passed every rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Terms {
    pub commission: Commission,
    pub currency: String,
    pub frequency: Frequency,
    pub take_rate_bps: i32,
}

/// Terms as an operator types them: numbers raw so that a bad one is a field error, amounts
/// in the currency's units ("12.50").
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TermsDraft {
    pub model: String,
    pub rate_bps: Option<i64>,
    pub amount: Option<String>,
    pub base_bps: Option<i64>,
    pub bonus_bps: Option<i64>,
    pub bonus_threshold: Option<i64>,
    pub currency: String,
    pub frequency: String,
    pub take_rate_bps: Option<i64>,
}

impl TermsDraft {
    /// Checks every money rule, adding each broken one to `e` by field.
    pub fn check(&self, e: &mut ValidationErrors) -> Option<Terms> {
        let currency = self.currency.trim().to_owned();
        let currency_ok = match currency_exponent(&currency) {
            Ok(_) => true,
            Err(r) => {
                e.push("currency", r);
                false
            }
        };
        let bps = |e: &mut ValidationErrors, field: &'static str, v: Option<i64>| match v {
            None => {
                e.push(field, "required");
                0
            }
            Some(v) => check_bps(v).map_err(|r| e.push(field, r)).unwrap_or(0),
        };
        let amount = |e: &mut ValidationErrors| match self.amount.as_deref() {
            None | Some("") => {
                e.push("amount", "required");
                0
            }
            Some(_) if !currency_ok => 0,
            Some(a) => parse_amount(a, &currency)
                .map_err(|r| e.push("amount", r))
                .unwrap_or(0),
        };
        let kind = if self.model.trim().is_empty() {
            e.push("model", format!("required: {}", ModelKind::choices()));
            None
        } else {
            self.model
                .parse::<ModelKind>()
                .map_err(|r| e.push("model", r))
                .ok()
        };
        let commission = match kind {
            Some(ModelKind::Percentage) => Some(Commission::Percentage {
                rate_bps: bps(e, "rate_bps", self.rate_bps),
            }),
            Some(ModelKind::FixedFee) => Some(Commission::FixedFee {
                amount_minor: amount(e),
            }),
            Some(ModelKind::FlatFee) => Some(Commission::FlatFee {
                amount_minor: amount(e),
            }),
            Some(ModelKind::Hybrid) => {
                let base_bps = bps(e, "base_bps", self.base_bps);
                let bonus_bps = bps(e, "bonus_bps", self.bonus_bps);
                let bonus_threshold = match self.bonus_threshold {
                    None => {
                        e.push("bonus_threshold", "required");
                        0
                    }
                    Some(t) => check_count(t, 1)
                        .map_err(|r| e.push("bonus_threshold", r))
                        .unwrap_or(0),
                };
                if base_bps as i64 + bonus_bps as i64 > super::money::BPS_MAX {
                    e.push("bonus_bps", "base and bonus together must be at most 10000");
                }
                Some(Commission::Hybrid {
                    base_bps,
                    bonus_bps,
                    bonus_threshold,
                })
            }
            Some(ModelKind::ReferralOnly) => Some(Commission::ReferralOnly),
            None => None,
        };
        let frequency = if self.frequency.trim().is_empty() {
            e.push("frequency", format!("required: {}", Frequency::choices()));
            None
        } else {
            self.frequency
                .parse::<Frequency>()
                .map_err(|r| e.push("frequency", r))
                .ok()
        };
        let take_rate_bps = match self.take_rate_bps {
            None => DEFAULT_TAKE_RATE_BPS,
            Some(v) => check_bps(v)
                .map_err(|r| e.push("take_rate_bps", r))
                .unwrap_or(0),
        };
        match (commission, frequency) {
            (Some(commission), Some(frequency)) => Some(Terms {
                commission,
                currency,
                frequency,
                take_rate_bps,
            }),
            _ => None,
        }
    }

    /// Each parameter given that the model does not read, as a field error: terms typed whole
    /// (`agreements add`) where a `--fee` beside `percentage` or a `--bps` beside
    /// `referral_only` is a mistake to refuse, not a value to ignore. An unknown model is
    /// left to [`check`](Self::check).
    pub fn check_unused(&self, e: &mut ValidationErrors) {
        let Ok(kind) = self.model.trim().parse::<ModelKind>() else {
            return;
        };
        let given = [
            ("rate_bps", self.rate_bps.is_some()),
            (
                "amount",
                self.amount.as_deref().is_some_and(|a| !a.trim().is_empty()),
            ),
            ("base_bps", self.base_bps.is_some()),
            ("bonus_bps", self.bonus_bps.is_some()),
            ("bonus_threshold", self.bonus_threshold.is_some()),
            ("take_rate_bps", self.take_rate_bps.is_some()),
        ];
        for (field, is_given) in given {
            if is_given && !kind.uses(field) {
                e.push(field, format!("not used by the {kind} model"));
            }
        }
    }

    pub fn validate(&self) -> Result<Terms, ValidationErrors> {
        let mut e = ValidationErrors::new();
        let t = self.check(&mut e);
        match t {
            Some(t) if e.is_empty() => Ok(t),
            _ => Err(e),
        }
    }
}
