//! The counter-offer form: the commission terms, the benefits and the deal terms, pre-filled
//! from the latest revision, each field's error beside it as you type (the same rules the
//! service applies: money rules and the deal rules of SPEC §1.4).

use crate::console::form::{Field, Form};
use crate::console::panes::deals::form::{
    form_for as deal_form, parse_local, parse_local_end, show_applicable, show_local,
};
use crate::domain::ValidationErrors;
use crate::domain::negotiation::{Benefit, OfferDraft, Side};
use chrono::NaiveDate;

/// The fields of the commission and the offer itself; the deal's follow.
fn commission_fields(d: &OfferDraft, side: Side) -> Vec<Field> {
    let n = |v: Option<i64>| v.map(|v| v.to_string()).unwrap_or_default();
    vec![
        Field::new(
            "side",
            "For the",
            "marketplace, or partner (recorded on its behalf)",
            false,
            side.as_str(),
        ),
        Field::new(
            "model",
            "Commission",
            "percentage, fixed_fee, hybrid, flat_fee or referral_only",
            false,
            &d.model,
        ),
        Field::new(
            "rate_bps",
            "Rate (bps)",
            "0–10000; 1000 = 10%",
            false,
            &n(d.rate_bps),
        ),
        Field::new(
            "amount",
            "Amount",
            "in the currency's units, e.g. 2.50",
            false,
            d.amount.as_deref().unwrap_or(""),
        ),
        Field::new("base_bps", "Base (bps)", "0–10000", false, &n(d.base_bps)),
        Field::new(
            "bonus_bps",
            "Bonus (bps)",
            "0–10000, with base at most 10000",
            false,
            &n(d.bonus_bps),
        ),
        Field::new(
            "bonus_threshold",
            "Bonus after",
            "redemptions at base rate first",
            false,
            &n(d.bonus_threshold),
        ),
        Field::new(
            "currency",
            "Currency",
            "ISO 4217: EUR, JPY, KWD…",
            false,
            &d.currency,
        ),
        Field::new(
            "frequency",
            "Settled",
            "monthly, quarterly or annual",
            false,
            &d.frequency,
        ),
        Field::new(
            "take_rate_bps",
            "Take (bps)",
            "0–10000; empty = 1500",
            false,
            &n(d.take_rate_bps),
        ),
        Field::new(
            "benefits",
            "Benefits",
            "name [YYYY-MM-DD]; one per line",
            true,
            &benefits_text(&d.benefits),
        ),
        Field::new("note", "Note", "optional, with the revision", false, ""),
    ]
}

fn benefits_text(b: &[Benefit]) -> String {
    b.iter()
        .map(|b| match b.due {
            Some(d) => format!("{} {d}", b.name),
            None => b.name.clone(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The counter-offer form for `d`, answering as `side`.
pub fn form_for(title: String, d: &OfferDraft, side: Side) -> Form {
    let values = [
        ("title", d.title.clone()),
        ("description", d.description.clone()),
        ("kind", d.kind.clone()),
        ("coupon_code", d.coupon_code.clone().unwrap_or_default()),
        (
            "redemption_url",
            d.redemption_url.clone().unwrap_or_default(),
        ),
        ("categories", d.categories.join(", ")),
        ("audience_scope", d.audience_scope.clone()),
        (
            "audience_scope_value",
            d.audience_scope_value.clone().unwrap_or_default(),
        ),
        (
            "valid_from",
            d.valid_from.map(show_local).unwrap_or_default(),
        ),
        (
            "valid_until",
            d.valid_until.map(show_local).unwrap_or_default(),
        ),
        (
            "redemption_cap",
            d.redemption_cap.map(|c| c.to_string()).unwrap_or_default(),
        ),
    ];
    let deal = deal_form(String::new(), &values);
    let mut fields = commission_fields(d, side);
    fields.extend(deal.fields.into_iter().filter(|f| f.name != "partner"));
    let mut form = Form::new(title, fields);
    show_terms(&mut form);
    form
}

/// Fields of one commission model, kind or scope appear and disappear with it.
pub fn show_terms(form: &mut Form) {
    let model = form.value("model").trim().to_ascii_lowercase();
    form.set_hidden("rate_bps", model != "percentage");
    form.set_hidden(
        "amount",
        !matches!(model.as_str(), "fixed_fee" | "flat_fee"),
    );
    for f in ["base_bps", "bonus_bps", "bonus_threshold"] {
        form.set_hidden(f, model != "hybrid");
    }
    show_applicable(form);
}

/// The form's text as an offer: the side, the draft, the note, and the fields whose text
/// could not even be read.
pub fn read(form: &Form) -> (Side, OfferDraft, Option<String>, ValidationErrors) {
    let mut e = ValidationErrors::new();
    let text = |n: &str| form.value(n).trim().to_owned();
    let opt = |n: &str| Some(text(n)).filter(|t| !t.is_empty());
    let side = match text("side").parse::<Side>() {
        Ok(s) => s,
        Err(_) => {
            e.push("side", "marketplace or partner");
            Side::Marketplace
        }
    };
    let mut number = |n: &'static str| match opt(n) {
        None => None,
        Some(v) => v
            .parse::<i64>()
            .map_err(|_| e.push(n, "a whole number"))
            .ok(),
    };
    let mut d = OfferDraft {
        model: text("model"),
        rate_bps: number("rate_bps"),
        amount: opt("amount"),
        base_bps: number("base_bps"),
        bonus_bps: number("bonus_bps"),
        bonus_threshold: number("bonus_threshold"),
        currency: text("currency").to_ascii_uppercase(),
        frequency: text("frequency"),
        take_rate_bps: number("take_rate_bps"),
        redemption_cap: number("redemption_cap"),
        title: form.value("title").trim().to_owned(),
        description: form.value("description"),
        kind: text("kind"),
        coupon_code: opt("coupon_code"),
        redemption_url: opt("redemption_url"),
        categories: crate::domain::validation::split_list(&form.value("categories")),
        audience_scope: text("audience_scope"),
        audience_scope_value: opt("audience_scope_value"),
        ..OfferDraft::default()
    };
    for (n, slot, end) in [
        ("valid_from", &mut d.valid_from, false),
        ("valid_until", &mut d.valid_until, true),
    ] {
        if let Some(v) = opt(n) {
            match if end {
                parse_local_end(&v)
            } else {
                parse_local(&v)
            } {
                Some(t) => *slot = Some(t),
                None => e.push(
                    n,
                    "a local time like 2026-12-01 09:00, or a date (2026-12-01)",
                ),
            }
        }
    }
    for line in form
        .value("benefits")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
    {
        let (name, due) = match line.rsplit_once(' ') {
            Some((name, d)) if NaiveDate::parse_from_str(d, "%Y-%m-%d").is_ok() => {
                (name.trim(), NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
            }
            _ => (line, None),
        };
        d.benefits.push(Benefit {
            name: name.to_owned(),
            due,
        });
    }
    // A parameter hidden for the model is not part of the offer (what is shown is offered).
    d.clear_unused();
    (side, d, opt("note"), e)
}

/// Every error of the form as typed: what could not be read, then the offer's own rules.
pub fn check(form: &Form, partner_id: i64) -> ValidationErrors {
    let (_, draft, _, mut errors) = read(form);
    if let Err(rules) = draft.validate(partner_id) {
        for r in rules.0 {
            if errors.for_field(r.field).is_none() {
                errors.0.push(r);
            }
        }
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A parameter hidden for the model (the previous revision's, under another model) is not
    /// part of the offer: what the form shows is what is offered.
    #[test]
    fn a_hidden_parameter_is_not_offered() {
        let previous = OfferDraft {
            model: "fixed_fee".into(),
            amount: Some("4.00".into()),
            currency: "EUR".into(),
            frequency: "monthly".into(),
            ..OfferDraft::default()
        };
        let mut form = form_for("Counter-offer".into(), &previous, Side::Partner);
        form.set_value("model", "percentage");
        form.set_value("rate_bps", "900");
        show_terms(&mut form);
        let (_, d, _, errors) = read(&form);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!((d.rate_bps, d.amount), (Some(900), None));
    }
}
