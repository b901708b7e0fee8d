//! Negotiations (SPEC §1.6, issue 12): the thread's status machine, the sides, and the terms
//! of an offer revision with their rules and the field-by-field difference between revisions.

use super::deal::{DealDraft, text_enum};
use super::money::{Frequency, currency_exponent};
pub use super::offer_diff::{TermChange, diff, term_fields};
pub use super::terms::{Commission, ModelKind, Terms, TermsDraft};
use super::validation::{Lines, ValidationErrors, char_len, text};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

pub const SUBJECT_MAX: usize = 255;
pub const MESSAGE_MAX: usize = 10_000;
pub const REASON_MAX: usize = 2_000;
pub const BENEFIT_NAME_MAX: usize = 255;
pub const BENEFITS_MAX: usize = 50;

text_enum!(
    /// Who speaks: the marketplace, or the partner (recorded by an operator on its behalf).
    Side { Marketplace => "marketplace", Partner => "partner" }
);

impl Side {
    pub fn other(self) -> Side {
        match self {
            Side::Marketplace => Side::Partner,
            Side::Partner => Side::Marketplace,
        }
    }
}

text_enum!(
    /// A thread's status: `pending → negotiating → accepted | rejected | withdrawn | expired`.
    ThreadStatus {
        Pending => "pending",
        Negotiating => "negotiating",
        Accepted => "accepted",
        Rejected => "rejected",
        Withdrawn => "withdrawn",
        Expired => "expired",
    }
);

/// Who moves a thread: an operator (on either side), or the expiry job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThreadTrigger {
    Operator,
    ExpiryJob,
}

impl ThreadStatus {
    pub fn is_final(self) -> bool {
        !matches!(self, ThreadStatus::Pending | ThreadStatus::Negotiating)
    }

    /// `pending → negotiating` (the other side's first reply or counter-offer), `pending |
    /// negotiating → accepted | rejected | withdrawn` (operator), `→ expired` (the job only).
    pub fn check_transition(self, to: ThreadStatus, by: ThreadTrigger) -> Result<(), String> {
        use ThreadStatus::*;
        match (self, to, by) {
            (a, _, _) if a.is_final() => Err(format!("the thread is {a}, which is final")),
            (Pending, Negotiating, ThreadTrigger::Operator)
            | (Pending | Negotiating, Accepted | Rejected | Withdrawn, ThreadTrigger::Operator)
            | (Pending | Negotiating, Expired, ThreadTrigger::ExpiryJob) => Ok(()),
            (a, b, _) if a == b => Err(format!("the thread is already {a}")),
            (_, Expired, ThreadTrigger::Operator) => {
                Err("a thread expires by itself when its deadline passes".into())
            }
            (_, Pending, _) => Err("a thread never goes back to pending".into()),
            (a, b, ThreadTrigger::ExpiryJob) => Err(format!(
                "the expiry job only moves open threads to expired, not {a} → {b}"
            )),
            (a, b, _) => Err(format!("{a} → {b} is not allowed")),
        }
    }
}

/// A named benefit of an offer, with an optional due date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Benefit {
    pub name: String,
    #[serde(default)]
    pub due: Option<NaiveDate>,
}

/// The deal an accepted offer turns into (the fields of SPEC §1.4, checked by the deal rules).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DealTerms {
    pub title: String,
    #[serde(default)]
    pub description: String,
    pub kind: super::DealKind,
    pub coupon_code: Option<String>,
    pub redemption_url: Option<String>,
    #[serde(default)]
    pub categories: Vec<String>,
    pub audience_scope: super::AudienceScope,
    pub audience_scope_value: Option<String>,
    pub valid_from: DateTime<Utc>,
    pub valid_until: DateTime<Utc>,
    pub redemption_cap: Option<i32>,
}

impl DealTerms {
    /// The draft deal of this partner, as the deal service takes it.
    pub fn draft(&self, partner_id: i64) -> DealDraft {
        DealDraft {
            partner_id: Some(partner_id),
            title: self.title.clone(),
            description: self.description.clone(),
            kind: self.kind.as_str().into(),
            coupon_code: self.coupon_code.clone(),
            redemption_url: self.redemption_url.clone(),
            categories: self.categories.clone(),
            audience_scope: self.audience_scope.as_str().into(),
            audience_scope_value: self.audience_scope_value.clone(),
            valid_from: Some(self.valid_from),
            valid_until: Some(self.valid_until),
            redemption_cap: self.redemption_cap.map(i64::from),
            state: Some("draft".into()),
        }
    }

    /// Where the draft deal's window starts when the agreement takes effect on `effective`
    /// (00:00 UTC, periods being UTC): no earlier than the agreement, so that none of its
    /// redemptions falls before any statement — unless that would leave no window at all.
    pub fn draft_start(&self, effective: NaiveDate) -> DateTime<Utc> {
        let start = effective.and_time(chrono::NaiveTime::MIN).and_utc();
        if self.valid_from < start && start < self.valid_until {
            start
        } else {
            self.valid_from
        }
    }

    /// The draft deal of this partner under an agreement taking effect on `effective`: its
    /// window starts no earlier than the agreement ([`DealTerms::draft_start`]).
    pub fn draft_under(&self, partner_id: i64, effective: NaiveDate) -> DealDraft {
        DealDraft {
            valid_from: Some(self.draft_start(effective)),
            ..self.draft(partner_id)
        }
    }
}

/// The validated terms of one offer revision (stored as JSON, never changed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfferTerms {
    pub commission: Commission,
    pub currency: String,
    pub frequency: Frequency,
    pub take_rate_bps: i32,
    #[serde(default)]
    pub benefits: Vec<Benefit>,
    pub deal: DealTerms,
}

/// What an operator types for an offer (flags, a TOML/JSON file or the form). Numbers are
/// raw so that a bad value is a field error; amounts are in the currency's units ("12.50").
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OfferDraft {
    pub model: String,
    pub rate_bps: Option<i64>,
    pub amount: Option<String>,
    pub base_bps: Option<i64>,
    pub bonus_bps: Option<i64>,
    pub bonus_threshold: Option<i64>,
    pub currency: String,
    pub frequency: String,
    pub take_rate_bps: Option<i64>,
    pub benefits: Vec<Benefit>,
    pub title: String,
    pub description: String,
    pub kind: String,
    pub coupon_code: Option<String>,
    pub redemption_url: Option<String>,
    pub categories: Vec<String>,
    pub audience_scope: String,
    pub audience_scope_value: Option<String>,
    pub valid_from: Option<DateTime<Utc>>,
    pub valid_until: Option<DateTime<Utc>>,
    pub redemption_cap: Option<i64>,
}

impl OfferTerms {
    /// The terms as an operator would type them again (the counter-offer form starts here).
    pub fn draft(&self) -> OfferDraft {
        let mut d = OfferDraft {
            model: self.commission.kind().as_str().into(),
            currency: self.currency.clone(),
            frequency: self.frequency.as_str().into(),
            take_rate_bps: Some(self.take_rate_bps.into()),
            benefits: self.benefits.clone(),
            title: self.deal.title.clone(),
            description: self.deal.description.clone(),
            kind: self.deal.kind.as_str().into(),
            coupon_code: self.deal.coupon_code.clone(),
            redemption_url: self.deal.redemption_url.clone(),
            categories: self.deal.categories.clone(),
            audience_scope: self.deal.audience_scope.as_str().into(),
            audience_scope_value: self.deal.audience_scope_value.clone(),
            valid_from: Some(self.deal.valid_from),
            valid_until: Some(self.deal.valid_until),
            redemption_cap: self.deal.redemption_cap.map(i64::from),
            ..OfferDraft::default()
        };
        let exp = currency_exponent(&self.currency).unwrap_or(2);
        let units = |m: i64| rust_decimal::Decimal::new(m, exp).to_string();
        match self.commission {
            Commission::Percentage { rate_bps } => d.rate_bps = Some(rate_bps.into()),
            Commission::FixedFee { amount_minor } | Commission::FlatFee { amount_minor } => {
                d.amount = Some(units(amount_minor))
            }
            Commission::Hybrid {
                base_bps,
                bonus_bps,
                bonus_threshold,
            } => {
                d.base_bps = Some(base_bps.into());
                d.bonus_bps = Some(bonus_bps.into());
                d.bonus_threshold = Some(bonus_threshold.into());
            }
            Commission::ReferralOnly => {}
        }
        d
    }
}

impl OfferTerms {
    /// The commercial part: what an agreement version holds.
    pub fn terms(&self) -> Terms {
        Terms {
            commission: self.commission.clone(),
            currency: self.currency.clone(),
            frequency: self.frequency,
            take_rate_bps: self.take_rate_bps,
        }
    }
}

impl OfferDraft {
    /// The commercial part as typed.
    pub fn terms_draft(&self) -> TermsDraft {
        TermsDraft {
            model: self.model.clone(),
            rate_bps: self.rate_bps,
            amount: self.amount.clone(),
            base_bps: self.base_bps,
            bonus_bps: self.bonus_bps,
            bonus_threshold: self.bonus_threshold,
            currency: self.currency.clone(),
            frequency: self.frequency.clone(),
            take_rate_bps: self.take_rate_bps,
        }
    }

    /// Drops each commission parameter that its model does not read: what a previous
    /// revision under another model left behind. An unknown model keeps them all.
    pub fn clear_unused(&mut self) {
        let Ok(kind) = self.model.trim().parse::<super::terms::ModelKind>() else {
            return;
        };
        let keep = |field: &str| kind.uses(field);
        if !keep("rate_bps") {
            self.rate_bps = None;
        }
        if !keep("amount") {
            self.amount = None;
        }
        if !keep("base_bps") {
            self.base_bps = None;
        }
        if !keep("bonus_bps") {
            self.bonus_bps = None;
        }
        if !keep("bonus_threshold") {
            self.bonus_threshold = None;
        }
        if !keep("take_rate_bps") {
            self.take_rate_bps = None;
        }
    }

    /// Every rule of an offer: the money rules and the deal rules of SPEC §1.4 (for this
    /// partner), so that an accepted offer always yields a valid draft deal.
    pub fn validate(&self, partner_id: i64) -> Result<OfferTerms, ValidationErrors> {
        let mut e = ValidationErrors::new();
        let terms = self.terms_draft().check(&mut e);
        let mut benefits = Vec::new();
        if self.benefits.len() > BENEFITS_MAX {
            e.push("benefits", format!("at most {BENEFITS_MAX}"));
        }
        for b in &self.benefits {
            let name = text(&mut e, "benefits", &b.name, BENEFIT_NAME_MAX, Lines::One);
            if benefits.iter().any(|x: &Benefit| x.name == name) {
                e.push("benefits", format!("'{name}' is listed twice"));
            }
            benefits.push(Benefit { name, due: b.due });
        }
        let deal = DealDraft {
            partner_id: Some(partner_id),
            title: self.title.clone(),
            description: self.description.clone(),
            kind: self.kind.clone(),
            coupon_code: self.coupon_code.clone(),
            redemption_url: self.redemption_url.clone(),
            categories: self.categories.clone(),
            audience_scope: self.audience_scope.clone(),
            audience_scope_value: self.audience_scope_value.clone(),
            valid_from: self.valid_from,
            valid_until: self.valid_until,
            redemption_cap: self.redemption_cap,
            state: Some("draft".into()),
        }
        .validate();
        let deal = match deal {
            Ok(v) => Some(DealTerms {
                title: v.title,
                description: v.description,
                kind: v.kind,
                coupon_code: v.coupon_code,
                redemption_url: v.redemption_url,
                categories: v.categories,
                audience_scope: v.audience_scope,
                audience_scope_value: v.audience_scope_value,
                valid_from: v.valid_from,
                valid_until: v.valid_until,
                redemption_cap: v.redemption_cap,
            }),
            Err(de) => {
                e.0.extend(de.0);
                None
            }
        };
        match (terms, deal) {
            (Some(t), Some(deal)) if e.is_empty() => Ok(OfferTerms {
                commission: t.commission,
                currency: t.currency,
                frequency: t.frequency,
                take_rate_bps: t.take_rate_bps,
                benefits,
                deal,
            }),
            _ => Err(e),
        }
    }
}

/// A message body: not blank, at most 10,000 characters, lines and tabs but no other control
/// characters.
pub fn check_body(body: &str) -> Result<String, ValidationErrors> {
    super::validation::check_text("body", body, MESSAGE_MAX, Lines::Many)
}

/// The note of an offer revision, if any: at most 2,000 characters, lines and tabs but no
/// other control characters. Blank is none.
pub fn check_note(note: Option<&str>) -> Result<Option<String>, ValidationErrors> {
    note.filter(|n| !n.trim().is_empty())
        .map(|n| super::validation::check_text("note", n, REASON_MAX, Lines::Many))
        .transpose()
}

/// A reason for rejecting, withdrawing or changing a status: required, one line, at most
/// 2,000 characters.
pub fn check_reason(reason: &str) -> Result<String, ValidationErrors> {
    super::validation::check_text("reason", reason, REASON_MAX, Lines::One)
}

/// A thread subject and deadline.
pub fn check_thread(
    subject: &str,
    deadline: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<(String, DateTime<Utc>), ValidationErrors> {
    let mut e = ValidationErrors::new();
    let s = text(&mut e, "subject", subject, SUBJECT_MAX, Lines::One);
    let d = match deadline {
        None => {
            e.push("deadline", "required");
            now
        }
        Some(d) if d <= now => {
            e.push("deadline", "must be in the future");
            d
        }
        Some(d) => d,
    };
    e.into_result((s, d))
}

/// Characters in a body (for the form's counter).
pub fn body_len(s: &str) -> usize {
    char_len(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_move() {
        use ThreadStatus::*;
        let op = ThreadTrigger::Operator;
        let job = ThreadTrigger::ExpiryJob;
        for &from in ThreadStatus::ALL {
            for &to in ThreadStatus::ALL {
                for by in [op, job] {
                    let ok = from.check_transition(to, by).is_ok();
                    let want = matches!(
                        (from, to, by),
                        (Pending, Negotiating, ThreadTrigger::Operator)
                            | (
                                Pending | Negotiating,
                                Accepted | Rejected | Withdrawn,
                                ThreadTrigger::Operator
                            )
                            | (Pending | Negotiating, Expired, ThreadTrigger::ExpiryJob)
                    );
                    assert_eq!(ok, want, "{from} → {to} by {by:?}");
                }
            }
        }
        assert!(
            Accepted
                .check_transition(Rejected, op)
                .unwrap_err()
                .contains("final")
        );
    }
}
