//! The field-by-field difference between two offer revisions (issue 12): every term shown in
//! its units (money in the currency, rates as percentages), benefits added and removed.

use super::money::{format_amount, format_bps};
use super::negotiation::{Commission, OfferTerms};
use chrono::NaiveDate;
use serde::Serialize;

/// One difference between two revisions' terms.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum TermChange {
    /// A field whose value changed, shown in its units (money in the currency, rates as %).
    Changed {
        field: String,
        old: String,
        new: String,
    },
    BenefitAdded {
        name: String,
        due: Option<NaiveDate>,
    },
    BenefitRemoved {
        name: String,
        due: Option<NaiveDate>,
    },
}

impl std::fmt::Display for TermChange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let due = |d: &Option<NaiveDate>| d.map(|d| format!(" (due {d})")).unwrap_or_default();
        match self {
            TermChange::Changed { field, old, new } => write!(f, "{field}: {old} → {new}"),
            TermChange::BenefitAdded { name, due: d } => {
                write!(f, "benefit added: {name}{}", due(d))
            }
            TermChange::BenefitRemoved { name, due: d } => {
                write!(f, "benefit removed: {name}{}", due(d))
            }
        }
    }
}

/// The terms as named, displayable fields (for the diff and for `show`).
pub fn term_fields(t: &OfferTerms) -> Vec<(&'static str, String)> {
    let money = |m: i64| format_amount(m, &t.currency);
    let opt = |v: &Option<String>| v.clone().unwrap_or_else(|| "—".into());
    let dash = |v: &str| {
        if v.is_empty() {
            "—".to_owned()
        } else {
            v.to_owned()
        }
    };
    let mut f = vec![("model", t.commission.kind().to_string())];
    match t.commission {
        Commission::Percentage { rate_bps } => f.push(("rate", format_bps(rate_bps.into()))),
        Commission::FixedFee { amount_minor } => {
            f.push(("fee per redemption", money(amount_minor)))
        }
        Commission::FlatFee { amount_minor } => f.push(("fee per period", money(amount_minor))),
        Commission::Hybrid {
            base_bps,
            bonus_bps,
            bonus_threshold,
        } => {
            f.push(("base rate", format_bps(base_bps.into())));
            f.push(("bonus rate", format_bps(bonus_bps.into())));
            f.push(("bonus threshold", format!("{bonus_threshold} redemptions")));
        }
        Commission::ReferralOnly => f.push(("commission", "none (referral payouts only)".into())),
    }
    f.extend([
        ("currency", t.currency.clone()),
        ("frequency", t.frequency.to_string()),
        ("take rate", format_bps(t.take_rate_bps.into())),
        ("title", t.deal.title.clone()),
        ("description", dash(&t.deal.description)),
        ("deal type", t.deal.kind.to_string()),
        ("coupon code", opt(&t.deal.coupon_code)),
        ("redemption url", opt(&t.deal.redemption_url)),
        ("categories", dash(&t.deal.categories.join(", "))),
        ("audience", t.deal.audience_scope.to_string()),
        ("audience value", opt(&t.deal.audience_scope_value)),
        (
            "valid from",
            t.deal.valid_from.format("%Y-%m-%d %H:%M UTC").to_string(),
        ),
        (
            "valid until",
            t.deal.valid_until.format("%Y-%m-%d %H:%M UTC").to_string(),
        ),
        (
            "cap",
            t.deal
                .redemption_cap
                .map(|c| c.to_string())
                .unwrap_or_else(|| "none".into()),
        ),
    ]);
    f
}

/// The field-by-field difference from `old` to `new`: changed fields (a model change shows the
/// parameters that went and came), then benefits added and removed (a changed due date is a
/// removal and an addition).
pub fn diff(old: &OfferTerms, new: &OfferTerms) -> Vec<TermChange> {
    let a = term_fields(old);
    let b = term_fields(new);
    let mut out = Vec::new();
    let mut names: Vec<&str> = a.iter().map(|(k, _)| *k).collect();
    for (k, _) in &b {
        if !names.contains(k) {
            names.push(k);
        }
    }
    let get = |f: &[(&'static str, String)], k: &str| {
        f.iter()
            .find(|(n, _)| *n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| "—".into())
    };
    for k in names {
        let (o, n) = (get(&a, k), get(&b, k));
        if o != n {
            out.push(TermChange::Changed {
                field: k.into(),
                old: o,
                new: n,
            });
        }
    }
    for x in &new.benefits {
        if !old.benefits.contains(x) {
            out.push(TermChange::BenefitAdded {
                name: x.name.clone(),
                due: x.due,
            });
        }
    }
    for x in &old.benefits {
        if !new.benefits.contains(x) {
            out.push(TermChange::BenefitRemoved {
                name: x.name.clone(),
                due: x.due,
            });
        }
    }
    out
}
