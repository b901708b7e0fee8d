//! The commission rule form: the plan (blank: the partner's default rule; Tab completes a plan
//! code), what the rule pays (a percentage, basis points or a flat amount) and the flat
//! amount's currency — each field's error beside it as you type, by the domain's
//! [`check_rule`], the rule the service applies.

use super::{RefOp, ReferralTab};
use crate::console::form::{Absorbed, Field, Form, fields_to_fix};
use crate::console::msg::Effect as AppEffect;
use crate::console::panes::partners::PartnersPane;
use crate::console::recovery::FormSnapshot;
use crate::console::shell::Shell;
use crate::domain::money::{decimal_string, format_bps};
use crate::domain::referral::{check_plan_code, check_rule};
use crate::domain::{Permission, ValidationErrors};
use crate::error::Error;
use crate::store::referrals::Rule;

/// What the recovery file calls this form.
pub const ENTITY: &str = "commission rule";

const PAY_HINT: &str = "12.5% or 1250bps of the price, or a flat 4.00";

/// A commission rule as the form reads it, for the service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleInput {
    /// `None`: the partner's default rule.
    pub plan: Option<String>,
    pub bps: Option<i64>,
    pub flat: Option<String>,
    pub currency: Option<String>,
}

/// The rule form open on a partner's referral tab.
pub struct RuleEditing {
    pub form: Form,
    pub partner_id: i64,
    /// The partner's name (the form's title, and recovery's label).
    pub partner: String,
}

impl RuleEditing {
    /// A form for a new rule (`rule` = None: blank, no errors until something is typed) or
    /// filled with an existing one.
    pub fn new(partner_id: i64, partner: &str, rule: Option<&Rule>) -> Self {
        let (plan, pay, currency) = match rule {
            Some(r) => (
                r.plan_code.clone().unwrap_or_default(),
                match (r.bps, r.amount_minor, r.currency.as_deref()) {
                    (Some(b), _, _) => format_bps(b.into()),
                    (None, Some(a), Some(c)) => decimal_string(a, c),
                    _ => String::new(),
                },
                r.currency.clone().unwrap_or_default(),
            ),
            None => Default::default(),
        };
        let title = match rule {
            Some(r) => format!(
                "Commission rule of {partner}: {}",
                super::scope(r.plan_code.as_deref())
            ),
            None => format!("New commission rule of {partner}"),
        };
        let form = Form::new(
            title,
            vec![
                Field::new(
                    "plan",
                    "Plan",
                    "blank: the default rule; Tab completes a plan",
                    false,
                    &plan,
                ),
                Field::new("pay", "Pays", PAY_HINT, false, &pay),
                Field::new(
                    "currency",
                    "Currency",
                    "a flat amount's, as EUR; blank for a %",
                    false,
                    &currency,
                ),
            ],
        );
        RuleEditing {
            form,
            partner_id,
            partner: partner.to_owned(),
        }
    }

    /// What recovery keeps: the fields, the partner by id and name.
    pub fn snapshot(&self) -> FormSnapshot {
        FormSnapshot {
            entity: ENTITY.into(),
            record_id: Some(self.partner_id),
            version: None,
            label: self.partner.clone(),
            fields: self.form.values(),
            saved_at: chrono::Utc::now(),
        }
    }

    /// Checks the fields as typed (`plans`: the plan codes known, when loaded), each error
    /// beside its field.
    pub fn check(&mut self, plans: Option<&[String]>) -> Result<RuleInput, ValidationErrors> {
        let r = read(&self.form, plans);
        self.form.errors = r.clone().err().unwrap_or_default();
        r
    }

    /// Tab on the plan field: completes a plan code begun there (the first that starts with
    /// it); `false` when there is nothing to complete, and the focus moves on.
    pub fn complete(&mut self, plans: &[String]) -> bool {
        if self.form.focused() != Some("plan") {
            return false;
        }
        let typed = self.form.value("plan").trim().to_ascii_lowercase();
        if typed.is_empty() || plans.contains(&typed) {
            return false;
        }
        match plans.iter().find(|p| p.starts_with(&typed)) {
            Some(p) => {
                self.form.set_value("plan", p);
                true
            }
            None => false,
        }
    }

    /// A refused save, told on the form: the service's field errors beside the form's fields
    /// (its `bps` and `flat` are this form's `pay`), anything else as the form's notice.
    pub fn refused(&mut self, sh: &mut Shell, e: Error) {
        let e = match e {
            Error::Validation(v) => Error::Validation(ValidationErrors(
                v.0.into_iter()
                    .map(|mut f| {
                        f.field = form_field(f.field);
                        f
                    })
                    .collect(),
            )),
            other => other,
        };
        match self.form.absorb(e) {
            Absorbed::Fields => sh.toast_error("the rule was refused; see the form"),
            Absorbed::Conflict { changed_by, when } => {
                sh.toast_error(format!("changed by {changed_by} at {when}"))
            }
            Absorbed::Other(text) => sh.toast_error(text),
        }
    }
}

/// The form's field for a field the domain names.
fn form_field(name: &'static str) -> &'static str {
    match name {
        "bps" | "flat" | "rule" => "pay",
        other => other,
    }
}

/// Percent with up to two decimals, as basis points: `12.5` → 1250.
fn percent_bps(p: &str) -> Option<i64> {
    let (whole, frac) = p.split_once('.').unwrap_or((p, ""));
    if whole.is_empty()
        || frac.len() > 2
        || !(whole.chars().chain(frac.chars())).all(|c| c.is_ascii_digit())
    {
        return None;
    }
    let frac = format!("{frac:0<2}");
    Some(whole.parse::<i64>().ok()? * 100 + frac.parse::<i64>().ok()?)
}

/// The form's text as a rule, or each broken rule by field.
pub fn read(form: &Form, plans: Option<&[String]>) -> Result<RuleInput, ValidationErrors> {
    let mut e = ValidationErrors::new();
    let plan_text = form.value("plan").trim().to_owned();
    let plan = if plan_text.is_empty() {
        None
    } else {
        match plans {
            Some(known) => match known.iter().find(|p| p.eq_ignore_ascii_case(&plan_text)) {
                Some(p) => Some(p.clone()),
                None => {
                    e.push(
                        "plan",
                        format!(
                            "'{plan_text}' is not a plan (blank for the default, or {})",
                            known.join(", ")
                        ),
                    );
                    None
                }
            },
            None => check_plan_code(&plan_text)
                .map_err(|r| e.push("plan", r))
                .ok(),
        }
    };
    let currency =
        Some(form.value("currency").trim().to_ascii_uppercase()).filter(|c| !c.is_empty());
    let pay = form.value("pay").trim().to_owned();
    let (mut bps, mut flat) = (None, None);
    if pay.is_empty() {
        e.push("pay", format!("required: {PAY_HINT}"));
    } else if let Some(p) = pay.strip_suffix('%') {
        match percent_bps(p.trim()) {
            Some(b) => bps = Some(b),
            None => e.push(
                "pay",
                format!("'{pay}' is not a percentage with at most two decimals (12.5%)"),
            ),
        }
    } else if let Some(b) = pay.strip_suffix("bps") {
        match b.trim().parse::<i64>() {
            Ok(b) => bps = Some(b),
            Err(_) => e.push(
                "pay",
                format!("'{}' is not a whole number of basis points", b.trim()),
            ),
        }
    } else {
        flat = Some(pay.clone());
    }
    if bps.is_some() && currency.is_some() {
        e.push("currency", "a percentage has no currency: leave it blank");
    } else if (bps.is_some() || flat.is_some())
        && let Err(v) = check_rule(bps, flat.as_deref(), currency.as_deref())
    {
        for f in v.0 {
            // A currency missing or unknown is the currency field's; anything else is about
            // what the rule pays.
            e.push(form_field(f.field), f.rule);
        }
    }
    if e.is_empty() {
        Ok(RuleInput {
            plan,
            bps,
            flat,
            currency,
        })
    } else {
        Err(e)
    }
}

/// The commission rule form on the Partners pane.
impl PartnersPane {
    /// The open rule form.
    pub(in crate::console::panes::partners) fn rule_form(&mut self) -> Option<&mut RuleEditing> {
        self.referral.as_mut()?.rule.as_mut()
    }

    pub(in crate::console::panes::partners) fn rule_snapshot(&self) -> Option<FormSnapshot> {
        Some(self.referral.as_ref()?.rule.as_ref()?.snapshot())
    }

    /// The plan codes the rule form knows (once the tab has loaded).
    fn known_plans(&self) -> Option<Vec<String>> {
        Some(self.referral.as_ref()?.data.as_ref()?.plan_codes())
    }

    /// Ctrl-s: a rule that reads goes to the service; one that does not says which fields.
    pub(super) fn save_rule(&mut self, sh: &mut Shell) -> Vec<AppEffect> {
        if !sh.require(Permission::ManagePartners) {
            return Vec::new();
        }
        let plans = self.known_plans();
        let Some(ed) = self.rule_form() else {
            return Vec::new();
        };
        match ed.check(plans.as_deref()) {
            Ok(input) => {
                ed.form.saving = true;
                let pid = ed.partner_id;
                self.referral_op(sh, pid, RefOp::SetRule(input))
            }
            Err(e) => {
                fields_to_fix(sh, &e);
                Vec::new()
            }
        }
    }

    /// A field of the rule form changed: checked as typed, and kept for recovery.
    pub(in crate::console::panes::partners) fn rule_form_changed(&mut self) -> Vec<AppEffect> {
        let plans = self.known_plans();
        let Some(ed) = self.rule_form() else {
            return Vec::new();
        };
        let _ = ed.check(plans.as_deref());
        ed.form.notice = None;
        vec![AppEffect::TrackForm(self.rule_snapshot())]
    }

    /// Tab on the rule form's plan field completes a plan code.
    pub(in crate::console::panes::partners) fn complete_rule(&mut self) -> Option<Vec<AppEffect>> {
        let plans = self.known_plans()?;
        self.rule_form()?
            .complete(&plans)
            .then(|| self.rule_form_changed())
    }

    pub(in crate::console::panes::partners) fn close_rule_form(&mut self) -> Vec<AppEffect> {
        match self.referral.as_mut().and_then(|t| t.rule.take()) {
            Some(_) => vec![AppEffect::TrackForm(None)],
            None => Vec::new(),
        }
    }

    /// An unsaved rule form from an earlier session: the partner's tab, the form filled.
    pub(in crate::console::panes::partners) fn restore_rule(
        &mut self,
        sh: &mut Shell,
        snap: &FormSnapshot,
    ) -> Vec<AppEffect> {
        let Some(partner_id) = snap.record_id else {
            return Vec::new();
        };
        self.referral = Some(ReferralTab {
            partner_id,
            name: snap.label.clone(),
            ..Default::default()
        });
        let mut out = self.load_referrals(sh);
        if let Some(tab) = self.referral.as_mut() {
            let mut ed = RuleEditing::new(partner_id, &snap.label, None);
            ed.form.fill(&snap.fields);
            tab.rule = Some(ed);
        }
        out.extend(self.rule_form_changed());
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plans() -> Vec<String> {
        vec!["basic".into(), "pro".into()]
    }

    fn form(plan: &str, pay: &str, currency: &str) -> Form {
        let mut ed = RuleEditing::new(1, "Bluebird", None);
        ed.form.set_value("plan", plan);
        ed.form.set_value("pay", pay);
        ed.form.set_value("currency", currency);
        ed.form
    }

    fn errors(plan: &str, pay: &str, currency: &str) -> ValidationErrors {
        read(&form(plan, pay, currency), Some(&plans())).unwrap_err()
    }

    #[test]
    fn reads_a_percentage_basis_points_or_a_flat_amount() {
        let p = plans();
        let r = read(&form("", "12.5%", ""), Some(&p)).unwrap();
        assert_eq!((r.plan, r.bps, r.flat), (None, Some(1250), None));
        let r = read(&form("PRO", "1500bps", ""), Some(&p)).unwrap();
        assert_eq!((r.plan.as_deref(), r.bps), (Some("pro"), Some(1500)));
        let r = read(&form("pro", "4.00", "eur"), Some(&p)).unwrap();
        assert_eq!(
            (r.flat.as_deref(), r.currency.as_deref()),
            (Some("4.00"), Some("EUR"))
        );
        // Plans not loaded yet: a well-formed code is left to the service.
        assert!(read(&form("gold", "5%", ""), None).is_ok());
    }

    #[test]
    fn names_each_field_and_its_rule() {
        let e = errors("gold", "10%", "");
        assert!(
            e.for_field("plan")
                .unwrap()
                .starts_with("'gold' is not a plan")
        );
        let e = errors("", "12.345%", "");
        assert!(e.for_field("pay").unwrap().contains("at most two decimals"));
        let e = errors("", "12000bps", "");
        assert_eq!(
            e.for_field("pay"),
            Some("must be 0–10000 basis points (got 12000)")
        );
        let e = errors("", "4.001", "EUR");
        assert!(
            e.for_field("pay")
                .unwrap()
                .contains("EUR has 2 decimal places")
        );
        let e = errors("", "4.00", "XYZ");
        assert!(
            e.for_field("currency")
                .unwrap()
                .starts_with("a flat rule needs its currency")
        );
        let e = errors("", "4.00", "");
        assert!(e.for_field("currency").is_some());
        let e = errors("", "10%", "EUR");
        assert!(e.for_field("currency").unwrap().contains("no currency"));
        let e = errors("", "", "");
        assert!(e.for_field("pay").unwrap().starts_with("required"));
    }

    #[test]
    fn an_existing_rule_fills_the_form_and_tab_completes_a_plan() {
        let rule = Rule {
            id: 1,
            partner_id: 1,
            plan_id: Some(2),
            plan_code: Some("pro".into()),
            bps: None,
            amount_minor: Some(1250),
            currency: Some("EUR".into()),
            updated_at: chrono::Utc::now(),
            updated_by: "cara".into(),
            version: 1,
        };
        let ed = RuleEditing::new(1, "Bluebird", Some(&rule));
        assert_eq!(
            (
                ed.form.value("plan"),
                ed.form.value("pay"),
                ed.form.value("currency")
            ),
            ("pro".into(), "12.50".into(), "EUR".into())
        );
        let mut ed = RuleEditing::new(1, "Bluebird", None);
        assert!(
            !ed.complete(&plans()),
            "blank: the default rule, no completion"
        );
        ed.form.set_value("plan", "b");
        assert!(ed.complete(&plans()));
        assert_eq!(ed.form.value("plan"), "basic");
        assert!(!ed.complete(&plans()), "a whole code: Tab moves on");
    }
}
