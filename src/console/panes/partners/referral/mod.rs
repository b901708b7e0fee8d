//! The Partners pane's referral tab (issue 14): a partner's referral codes (add, disable, copy
//! the link), claim tokens (issue, shown once in a popup with a copy key; revoke; their status),
//! the accounts attributed to it with their conversion, its commission rules and its payouts.
//! Curators and admins act; finance reads.
//!
//! `prompt.rs` reads the claim-token prompt, `form.rs` is the commission rule form and
//! `view.rs` draws the tab.

mod form;
mod prompt;
mod view;

pub use form::{ENTITY as RULE_ENTITY, RuleEditing, RuleInput};
pub use prompt::{TokenInput, parse_token, token_status};
pub use view::draw;

use super::{Effect, PartnersPane, Question};
use crate::console::action::Action;
use crate::console::msg::Effect as AppEffect;
use crate::console::pane::{Answer, fx};
use crate::console::shell::{Latest, Shell};
use crate::console::view::{local, now};
use crate::domain::Permission;
use crate::domain::referral::{check_referral_code, referral_link, rule_text};
use crate::error::Error;
use crate::service::Desk;
use crate::service::referrals::{IssuedToken, ReferralView};
use crate::store::referrals::{ClaimToken, Payout, Plan, ReferralCode, Rule};

/// Payouts the tab shows, newest first.
const PAYOUTS: i64 = 50;

/// Everything the referral tab shows.
#[derive(Debug, Clone)]
pub struct ReferralData {
    pub view: ReferralView,
    pub payouts: Vec<Payout>,
    pub plans: Vec<Plan>,
}

impl ReferralData {
    pub async fn load(desk: &Desk, partner_id: i64) -> crate::Result<ReferralData> {
        Ok(ReferralData {
            view: desk.referral_view(partner_id).await?,
            payouts: desk.referral_payouts(partner_id, PAYOUTS).await?,
            plans: desk.plans().await?,
        })
    }

    fn plan_code(&self, id: i64) -> String {
        self.plans
            .iter()
            .find(|p| p.id == id)
            .map(|p| p.code.clone())
            .unwrap_or_else(|| format!("#{id}"))
    }

    fn plan_codes(&self) -> Vec<String> {
        self.plans.iter().map(|p| p.code.clone()).collect()
    }

    fn active_plans(&self) -> Vec<String> {
        self.plans
            .iter()
            .filter(|p| p.active)
            .map(|p| p.code.clone())
            .collect()
    }
}

/// The referral tab of one partner.
#[derive(Default)]
pub struct ReferralTab {
    pub partner_id: i64,
    pub name: String,
    pub data: Option<ReferralData>,
    pub load: Latest,
    /// The selected row: the codes, then the tokens, then the rules.
    pub selected: usize,
    /// The commission rule form, when open (it covers the tab).
    pub rule: Option<RuleEditing>,
}

/// What a change in the referral tab does.
#[derive(Debug, Clone)]
pub enum RefOp {
    AddCode(Option<String>),
    DisableCode(String),
    IssueToken(TokenInput),
    RevokeToken(i64),
    SetRule(RuleInput),
}

/// What a change in the referral tab came to.
#[derive(Debug)]
pub enum RefOutcome {
    Done(String),
    Token(IssuedToken),
    /// A commission rule saved (its form closes).
    RuleSet(String),
}

impl RefOp {
    pub async fn run(self, desk: &Desk, partner_id: i64) -> crate::Result<RefOutcome> {
        Ok(match self {
            RefOp::AddCode(code) => {
                let c = desk.add_referral_code(partner_id, code.as_deref()).await?;
                RefOutcome::Done(format!("referral code {} added", c.code))
            }
            RefOp::DisableCode(code) => {
                let c = desk.disable_referral_code(&code).await?;
                RefOutcome::Done(format!("referral code {} disabled", c.code))
            }
            RefOp::IssueToken(t) => RefOutcome::Token(
                desk.issue_claim_token(partner_id, &t.plan, t.email.as_deref(), t.expires)
                    .await?,
            ),
            RefOp::RevokeToken(id) => {
                let t = desk.revoke_claim_token(id).await?;
                RefOutcome::Done(format!("claim token {} (…{}) revoked", t.id, t.last4))
            }
            RefOp::SetRule(r) => {
                let rule = desk
                    .set_commission_rule(
                        partner_id,
                        r.plan.as_deref(),
                        r.bps,
                        r.flat.as_deref(),
                        r.currency.as_deref(),
                    )
                    .await?;
                RefOutcome::RuleSet(format!(
                    "commission rule {}: {}",
                    scope(rule.plan_code.as_deref()),
                    rule_text(rule.bps, rule.amount_minor, rule.currency.as_deref())
                ))
            }
        })
    }
}

fn scope(plan: Option<&str>) -> String {
    plan.map(|c| format!("plan {c}"))
        .unwrap_or_else(|| "default".into())
}

/// The selected row of the tab.
enum Picked<'a> {
    Code(&'a ReferralCode),
    Token(&'a ClaimToken),
    Rule(&'a Rule),
}

impl ReferralTab {
    fn rows(&self) -> usize {
        self.data
            .as_ref()
            .map(|d| d.view.codes.len() + d.view.tokens.len() + d.view.rules.len())
            .unwrap_or(0)
    }

    fn picked(&self) -> Option<Picked<'_>> {
        let d = self.data.as_ref()?;
        let (codes, tokens) = (d.view.codes.len(), d.view.tokens.len());
        if self.selected < codes {
            Some(Picked::Code(&d.view.codes[self.selected]))
        } else if self.selected < codes + tokens {
            d.view.tokens.get(self.selected - codes).map(Picked::Token)
        } else {
            d.view
                .rules
                .get(self.selected - codes - tokens)
                .map(Picked::Rule)
        }
    }

    /// The code whose link is copied: the selected one, else the default one.
    fn link_code(&self) -> Option<&ReferralCode> {
        match self.picked() {
            Some(Picked::Code(c)) => Some(c),
            _ => self.data.as_ref()?.view.codes.iter().find(|c| c.is_default),
        }
    }
}

impl PartnersPane {
    /// `f`: opens the referral tab of the shown or selected partner, or closes it.
    pub(super) fn toggle_referrals(&mut self, sh: &mut Shell) -> Vec<AppEffect> {
        if self.referral.take().is_some() {
            return Vec::new();
        }
        let Some((id, _, name)) = self.target() else {
            return Vec::new();
        };
        self.referral = Some(ReferralTab {
            partner_id: id,
            name,
            ..Default::default()
        });
        self.load_referrals(sh)
    }

    pub(super) fn load_referrals(&mut self, sh: &mut Shell) -> Vec<AppEffect> {
        let Some(tab) = self.referral.as_mut() else {
            return Vec::new();
        };
        let tag = tab.load.begin(sh);
        fx(Effect::LoadReferrals {
            tag,
            id: tab.partner_id,
        })
    }

    pub(super) fn referrals_loaded(
        &mut self,
        sh: &mut Shell,
        tag: crate::console::msg::Gen,
        id: i64,
        result: Result<ReferralData, Error>,
    ) {
        let Some(tab) = self.referral.as_mut().filter(|t| t.partner_id == id) else {
            return;
        };
        if !tab.load.accept(tag) {
            return;
        }
        match result {
            Ok(d) => {
                tab.data = Some(d);
                tab.selected = tab.selected.min(tab.rows().saturating_sub(1));
            }
            Err(e) => sh.toast_error(e.to_string()),
        }
    }

    /// An action while the referral tab is open; `None` when the tab does not take it.
    pub(super) fn referral_action(&mut self, sh: &mut Shell, a: Action) -> Option<Vec<AppEffect>> {
        let tab = self.referral.as_mut()?;
        let manage = |sh: &mut Shell| sh.require(Permission::ManagePartners);
        let pid = tab.partner_id;
        Some(match a {
            Action::Down | Action::Up | Action::Top | Action::Bottom => {
                let last = tab.rows().saturating_sub(1);
                tab.selected = match a {
                    Action::Down => (tab.selected + 1).min(last),
                    Action::Up => tab.selected.saturating_sub(1),
                    Action::Top => 0,
                    _ => last,
                };
                Vec::new()
            }
            Action::Back | Action::Referrals => {
                self.referral = None;
                Vec::new()
            }
            Action::Refresh => self.load_referrals(sh),
            Action::CopyLink => match tab.link_code() {
                Some(c) => vec![AppEffect::Copy {
                    text: referral_link(&c.code),
                    what: format!("referral link of {}", c.code),
                }],
                None => {
                    sh.toast_error("no referral code to link to (a adds one)");
                    Vec::new()
                }
            },
            Action::NewCode if manage(sh) => {
                sh.prompt(
                    format!("New referral code for {}", tab.name),
                    "3–40 letters, digits, '-' or '_'; empty: made from the partner's name",
                    "",
                    Question::NewCode { partner_id: pid },
                );
                Vec::new()
            }
            Action::DisableCode if manage(sh) => {
                match tab.picked() {
                    Some(Picked::Code(c)) if c.disabled_at.is_none() => sh.confirm(
                        format!("Disable referral code {}?", c.code),
                        vec![
                            format!(
                                "Its link {} stops attributing new accounts.",
                                referral_link(&c.code)
                            ),
                            "Accounts attributed through it stay the partner's.".into(),
                        ],
                        ["Cancel", "Disable"],
                        Question::DisableCode {
                            partner_id: pid,
                            code: c.code.clone(),
                        },
                    ),
                    Some(Picked::Code(c)) => {
                        sh.toast_error(format!("referral code {} is disabled already", c.code))
                    }
                    _ => sh.toast_error("select a referral code first"),
                }
                Vec::new()
            }
            Action::NewToken if manage(sh) => {
                let plans = tab
                    .data
                    .as_ref()
                    .map(|d| d.active_plans())
                    .unwrap_or_default();
                if plans.is_empty() {
                    sh.toast_error("no active plan to issue a claim token for");
                    return Some(Vec::new());
                }
                sh.prompt(
                    format!("New claim token for {}", tab.name),
                    format!(
                        "PLAN [E-MAIL] [EXPIRES]: {} ana@example.com 2026-12-31 (plans: {}; an expiry date is the whole day, your time)",
                        plans[0],
                        plans.join(", ")
                    ),
                    "",
                    Question::NewToken {
                        partner_id: pid,
                        plans,
                    },
                );
                Vec::new()
            }
            Action::RevokeToken if manage(sh) => {
                match tab.picked() {
                    Some(Picked::Token(t)) if token_status(t, now()) == "open" => sh.confirm(
                        format!("Revoke claim token {} (…{})?", t.id, t.last4),
                        vec!["It can no longer be claimed.".into()],
                        ["Cancel", "Revoke"],
                        Question::RevokeToken {
                            partner_id: pid,
                            id: t.id,
                        },
                    ),
                    Some(Picked::Token(t)) => sh.toast_error(format!(
                        "claim token {} is {} already",
                        t.id,
                        token_status(t, now())
                    )),
                    _ => sh.toast_error("select a claim token first"),
                }
                Vec::new()
            }
            // The selected rule in the form, else a new one.
            Action::SetRule if manage(sh) => {
                let rule = match tab.picked() {
                    Some(Picked::Rule(r)) => Some(r),
                    _ => None,
                };
                tab.rule = Some(RuleEditing::new(pid, &tab.name, rule));
                vec![AppEffect::TrackForm(self.rule_snapshot())]
            }
            Action::Save if tab.rule.is_some() => self.save_rule(sh),
            Action::NewCode
            | Action::DisableCode
            | Action::NewToken
            | Action::RevokeToken
            | Action::SetRule => Vec::new(),
            // The partner's own changes wait until the tab is closed.
            Action::New
            | Action::Edit
            | Action::RunChecks
            | Action::MarkVetted
            | Action::Disable
            | Action::Revet
            | Action::Delete
            | Action::Offboard
            | Action::Open
            | Action::Sort
            | Action::SortReverse
            | Action::PageDown
            | Action::PageUp
            | Action::Filter => Vec::new(),
            _ => return None,
        })
    }

    fn referral_op(&mut self, sh: &mut Shell, partner_id: i64, op: RefOp) -> Vec<AppEffect> {
        let busy = sh.start_busy("referrals…");
        fx(Effect::Referral {
            busy,
            partner_id,
            op,
        })
    }

    /// A referral question answered.
    pub(super) fn referral_answered(
        &mut self,
        sh: &mut Shell,
        q: Question,
        a: Answer,
    ) -> Vec<AppEffect> {
        match (q, a) {
            (Question::NewCode { partner_id }, Answer::Text(t)) => {
                let t = t.trim();
                if t.is_empty() {
                    return self.referral_op(sh, partner_id, RefOp::AddCode(None));
                }
                match check_referral_code(t) {
                    Ok(c) => self.referral_op(sh, partner_id, RefOp::AddCode(Some(c))),
                    Err(e) => {
                        sh.ask_again(format!("code: {e}"));
                        Vec::new()
                    }
                }
            }
            (Question::DisableCode { partner_id, code }, Answer::Yes) => {
                self.referral_op(sh, partner_id, RefOp::DisableCode(code))
            }
            (Question::NewToken { partner_id, plans }, Answer::Text(t)) => {
                match parse_token(&t, &plans, now()) {
                    Ok(input) => self.referral_op(sh, partner_id, RefOp::IssueToken(input)),
                    Err(e) => {
                        sh.ask_again(e);
                        Vec::new()
                    }
                }
            }
            (Question::RevokeToken { partner_id, id }, Answer::Yes) => {
                self.referral_op(sh, partner_id, RefOp::RevokeToken(id))
            }
            (Question::CopyToken { token }, Answer::Yes) => vec![AppEffect::Copy {
                text: token,
                what: "the claim token".into(),
            }],
            _ => Vec::new(),
        }
    }

    /// A referral change came back: the token popup, or a toast; the tab reloads.
    pub(super) fn referral_done(
        &mut self,
        sh: &mut Shell,
        partner_id: i64,
        result: Result<RefOutcome, Error>,
    ) -> Vec<AppEffect> {
        // The rule form waiting for this answer (nothing else can be asked while it is open).
        let saving = self
            .rule_form()
            .is_some_and(|r| r.partner_id == partner_id && r.form.saving);
        let mut out = Vec::new();
        match result {
            Ok(RefOutcome::Done(text)) => sh.toast(text),
            Ok(RefOutcome::RuleSet(text)) => {
                sh.toast(text);
                if saving {
                    out.extend(self.close_rule_form());
                }
            }
            // The rule form's save refused: told on the form, which stays open.
            Err(e) if saving => {
                if let Some(r) = self.rule_form() {
                    r.refused(sh, e);
                }
            }
            Ok(RefOutcome::Token(t)) => {
                let r = &t.record;
                sh.confirm(
                    format!("Claim token {} issued", r.id),
                    vec![
                        "Shown this once; only its hash is kept:".into(),
                        String::new(),
                        format!("  {}", t.token),
                        String::new(),
                        format!(
                            "for {}{}",
                            r.email.as_deref().unwrap_or("any e-mail"),
                            r.expires_at
                                .map(|e| format!(", expires {}", local(e)))
                                .unwrap_or_default()
                        ),
                    ],
                    ["Close", "Copy and close"],
                    Question::CopyToken { token: t.token },
                );
            }
            Err(e) => sh.toast_error(e.to_string()),
        }
        if self
            .referral
            .as_ref()
            .is_some_and(|t| t.partner_id == partner_id)
        {
            out.extend(self.load_referrals(sh));
        }
        out
    }
}
