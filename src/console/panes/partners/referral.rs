//! The Partners pane's referral tab (issue 14): a partner's referral codes (add, disable, copy
//! the link), claim tokens (issue, shown once in a popup with a copy key; revoke; their status),
//! the accounts attributed to it with their conversion, its commission rules and its payouts.
//! Curators and admins act; finance reads.

use super::{Effect, PartnersPane, Question};
use crate::console::action::Action;
use crate::console::msg::Effect as AppEffect;
use crate::console::panes::{Answer, fx};
use crate::console::shell::{Latest, Shell};
use crate::console::view::{local, local_fmt, now};
use crate::domain::Permission;
use crate::domain::money::{format_amount, format_bps};
use crate::domain::referral::{check_referral_code, check_rule, referral_link, rule_text};
use crate::error::Error;
use crate::service::Desk;
use crate::service::referrals::{IssuedToken, ReferralView};
use crate::store::referrals::{ClaimToken, Payout, Plan, ReferralCode};
use chrono::{DateTime, NaiveDate, Utc};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

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
    /// The selected row: the codes, then the tokens.
    pub selected: usize,
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

/// A claim token as typed in the prompt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenInput {
    pub plan: String,
    pub email: Option<String>,
    pub expires: Option<DateTime<Utc>>,
}

/// A commission rule as typed in the prompt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleInput {
    /// `None`: the partner's default rule.
    pub plan: Option<String>,
    pub bps: Option<i64>,
    pub flat: Option<String>,
    pub currency: Option<String>,
}

/// What a change in the referral tab came to.
#[derive(Debug)]
pub enum RefOutcome {
    Done(String),
    Token(IssuedToken),
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
                RefOutcome::Done(format!(
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

/// A token's status: open, claimed, revoked or expired (at `now`).
pub fn token_status(t: &ClaimToken, now: DateTime<Utc>) -> String {
    match (t.claimed_account, t.revoked_at) {
        (Some(a), _) => format!("claimed (account {a})"),
        (None, Some(_)) => "revoked".into(),
        _ if t.expires_at.is_some_and(|e| e <= now) => "expired".into(),
        _ => "open".into(),
    }
}

/// The token prompt: `PLAN [E-MAIL] [EXPIRES]`, the expiry a day (`2026-12-31`, through its
/// end, UTC) or a time (RFC 3339). Each field's error is named.
pub fn parse_token(text: &str, plans: &[String], now: DateTime<Utc>) -> Result<TokenInput, String> {
    let mut words = text.split_whitespace();
    let Some(plan) = words.next() else {
        return Err(format!("plan: required (one of {})", plans.join(", ")));
    };
    let Some(plan) = plans.iter().find(|p| p.eq_ignore_ascii_case(plan)) else {
        return Err(format!(
            "plan: '{plan}' is not an active plan (one of {})",
            plans.join(", ")
        ));
    };
    let (mut email, mut expires) = (None, None);
    for w in words {
        if w.contains('@') {
            if email.is_some() {
                return Err("e-mail: give one address".into());
            }
            if w.split('@').count() != 2 || w.starts_with('@') || w.ends_with('@') {
                return Err(format!("e-mail: '{w}' is not an e-mail address"));
            }
            email = Some(w.to_owned());
        } else {
            if expires.is_some() {
                return Err(format!("'{w}': give a plan, an e-mail, then an expiry"));
            }
            let at = match NaiveDate::parse_from_str(w, "%Y-%m-%d") {
                Ok(d) => d.and_hms_opt(23, 59, 59).map(|t| t.and_utc()),
                Err(_) => DateTime::parse_from_rfc3339(w)
                    .ok()
                    .map(|t| t.with_timezone(&Utc)),
            }
            .ok_or_else(|| format!("expires: '{w}' is not a day (2026-12-31) or a time"))?;
            if at <= now {
                return Err(format!("expires: {w} is past; it must be in the future"));
            }
            expires = Some(at);
        }
    }
    Ok(TokenInput {
        plan: plan.clone(),
        email,
        expires,
    })
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

/// The rule prompt: `default|PLAN` then `15%`, `1500bps` or `25.00 EUR`; checked as the
/// service checks it, each field's error named.
pub fn parse_rule(text: &str, plans: &[String]) -> Result<RuleInput, String> {
    let words: Vec<&str> = text.split_whitespace().collect();
    let Some((first, rest)) = words.split_first() else {
        return Err("default or a plan, then 15%, 1500bps or 25.00 EUR".into());
    };
    let plan = if first.eq_ignore_ascii_case("default") {
        None
    } else {
        Some(
            plans
                .iter()
                .find(|p| p.eq_ignore_ascii_case(first))
                .cloned()
                .ok_or_else(|| {
                    format!(
                        "plan: '{first}' is not a plan (default, {})",
                        plans.join(", ")
                    )
                })?,
        )
    };
    let (bps, flat, currency) = match rest {
        [] => return Err("pays: 15%, 1500bps or 25.00 EUR".into()),
        [one] => {
            let bps = if let Some(p) = one.strip_suffix('%') {
                percent_bps(p).ok_or_else(|| format!("bps: '{one}' is not a percentage"))?
            } else {
                let b = one
                    .strip_suffix("bps")
                    .ok_or_else(|| format!("pays: '{one}': write 15%, 1500bps or 25.00 EUR"))?;
                b.parse::<i64>()
                    .map_err(|_| format!("bps: '{b}' is not a whole number"))?
            };
            (Some(bps), None, None)
        }
        [amount, currency] => (
            None,
            Some((*amount).to_owned()),
            Some(currency.to_uppercase()),
        ),
        _ => return Err("pays: 15%, 1500bps or 25.00 EUR (one of them)".into()),
    };
    check_rule(bps, flat.as_deref(), currency.as_deref()).map_err(|e| e.to_string())?;
    Ok(RuleInput {
        plan,
        bps,
        flat,
        currency,
    })
}

/// The selected row of the tab.
enum Picked<'a> {
    Code(&'a ReferralCode),
    Token(&'a ClaimToken),
}

impl ReferralTab {
    fn rows(&self) -> usize {
        self.data
            .as_ref()
            .map(|d| d.view.codes.len() + d.view.tokens.len())
            .unwrap_or(0)
    }

    fn picked(&self) -> Option<Picked<'_>> {
        let d = self.data.as_ref()?;
        let n = d.view.codes.len();
        if self.selected < n {
            Some(Picked::Code(&d.view.codes[self.selected]))
        } else {
            d.view.tokens.get(self.selected - n).map(Picked::Token)
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
                        "PLAN [E-MAIL] [EXPIRES]: {} ana@example.com 2026-12-31 (plans: {})",
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
            Action::SetRule if manage(sh) => {
                let plans = tab
                    .data
                    .as_ref()
                    .map(|d| d.plans.iter().map(|p| p.code.clone()).collect::<Vec<_>>())
                    .unwrap_or_default();
                sh.prompt(
                    format!("Commission rule of {}", tab.name),
                    format!(
                        "default or a plan ({}), then 15%, 1500bps or 25.00 EUR",
                        plans.join(", ")
                    ),
                    "default ",
                    Question::SetRule {
                        partner_id: pid,
                        plans,
                    },
                );
                Vec::new()
            }
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
            (Question::SetRule { partner_id, plans }, Answer::Text(t)) => {
                match parse_rule(&t, &plans) {
                    Ok(r) => self.referral_op(sh, partner_id, RefOp::SetRule(r)),
                    Err(e) => {
                        sh.ask_again(e);
                        Vec::new()
                    }
                }
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
        match result {
            Ok(RefOutcome::Done(text)) => sh.toast(text),
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
            self.load_referrals(sh)
        } else {
            Vec::new()
        }
    }
}

/// The referral tab: codes and tokens (the selectable rows), rules, attributed accounts and
/// payouts; side by side when wide.
pub fn draw(f: &mut Frame, area: Rect, tab: &ReferralTab, sh: &Shell) {
    let t = &sh.theme;
    let title = format!(
        " {} · #{} · referrals{} ",
        tab.name,
        tab.partner_id,
        if tab.load.pending && tab.data.is_some() {
            " · refreshing…"
        } else {
            ""
        }
    );
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(t.border_focus)
        .title(Span::styled(title, t.title));
    let inner = block.inner(area);
    f.render_widget(block, area);
    let Some(d) = &tab.data else {
        f.render_widget(Paragraph::new("loading…"), inner);
        return;
    };
    let now = now();
    let key = |a: Action| sh.keymap.keys_text_in(a, "partners");
    let head = |s: &str| Line::from(Span::styled(s.to_owned(), t.header));
    let none = |s: String| Line::from(Span::styled(format!("  {s}"), t.muted));
    let mark = |i: usize| {
        if i == tab.selected {
            Span::styled("› ", t.selected)
        } else {
            Span::raw("  ")
        }
    };

    let mut left = vec![head("Codes")];
    if d.view.codes.is_empty() {
        left.push(none(format!(
            "none yet ({} adds one)",
            key(Action::NewCode)
        )));
    }
    for (i, c) in d.view.codes.iter().enumerate() {
        let state = if c.disabled_at.is_some() {
            Span::styled("disabled", t.error)
        } else {
            Span::styled("active", t.ok)
        };
        left.push(Line::from(vec![
            mark(i),
            Span::raw(format!(
                "{:<16} ",
                format!("{}{}", c.code, if c.is_default { "*" } else { "" })
            )),
            state,
            Span::styled(format!("  {}", referral_link(&c.code)), t.muted),
        ]));
    }
    left.push(head("Claim tokens"));
    if d.view.tokens.is_empty() {
        left.push(none(format!("none ({} issues one)", key(Action::NewToken))));
    }
    let n = d.view.codes.len();
    for (i, tk) in d.view.tokens.iter().enumerate() {
        let status = token_status(tk, now);
        let style = match status.as_str() {
            "open" => t.ok,
            "revoked" | "expired" => t.muted,
            _ => t.label,
        };
        left.push(Line::from(vec![
            mark(n + i),
            Span::raw(format!(
                "{:>4} …{} {:<8} ",
                tk.id,
                tk.last4,
                d.plan_code(tk.plan_id)
            )),
            Span::styled(status, style),
            Span::styled(
                format!(
                    "  {}{}",
                    tk.email.as_deref().unwrap_or("any e-mail"),
                    tk.expires_at
                        .map(|e| format!(" · until {}", local_fmt(e, "%Y-%m-%d")))
                        .unwrap_or_default()
                ),
                t.muted,
            ),
        ]));
    }
    left.push(head("Commission rules"));
    if d.view.rules.is_empty() {
        left.push(none(format!(
            "none: conversions pay nothing ({} sets one)",
            key(Action::SetRule)
        )));
    }
    for r in &d.view.rules {
        left.push(Line::from(vec![
            Span::styled(format!("  {:<14}", scope(r.plan_code.as_deref())), t.label),
            Span::raw(rule_text(r.bps, r.amount_minor, r.currency.as_deref())),
        ]));
    }

    let mut right = vec![head("Attributed accounts")];
    if d.view.accounts.is_empty() {
        right.push(none("none yet".into()));
    }
    for a in &d.view.accounts {
        let conv = match (a.converted_at, &a.plan_code) {
            (Some(at), plan) => Span::styled(
                format!(
                    "converted {} {}",
                    local_fmt(at, "%Y-%m-%d"),
                    plan.as_deref().unwrap_or("-"),
                ),
                t.ok,
            ),
            (None, _) => Span::styled("not converted", t.muted),
        };
        right.push(Line::from(vec![
            Span::raw(format!("  {:>6} {:<6} ", a.account_id, a.via)),
            conv,
        ]));
    }
    right.push(head("Payouts"));
    if d.payouts.is_empty() {
        right.push(none("none yet".into()));
    }
    for p in &d.payouts {
        right.push(Line::from(vec![
            Span::styled(
                format!("  {} ", local_fmt(p.converted_at, "%Y-%m-%d")),
                t.muted,
            ),
            Span::raw(format!(
                "{:>6} {:<6} {:>10}  ",
                p.account_id,
                d.plan_code(p.plan_id),
                format_amount(p.amount_minor, &p.currency)
            )),
            Span::styled(
                match p.bps {
                    Some(b) => format!("{} ({})", format_bps(b.into()), p.rule_scope),
                    None => format!("flat ({})", p.rule_scope),
                },
                t.muted,
            ),
            Span::raw(match p.settlement_id {
                Some(s) => format!(" · settlement #{s}"),
                None => " · not settled yet".into(),
            }),
        ]));
    }

    if inner.width >= 110 {
        let [l, r] = Layout::horizontal([Constraint::Percentage(55), Constraint::Percentage(45)])
            .areas(inner);
        f.render_widget(Paragraph::new(left), l);
        f.render_widget(Paragraph::new(right), r);
    } else {
        left.extend(right);
        f.render_widget(Paragraph::new(left), inner);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn plans() -> Vec<String> {
        vec!["basic".into(), "pro".into()]
    }

    #[test]
    fn token_prompt_reads_plan_email_and_expiry_and_names_each_error() {
        let now = Utc.with_ymd_and_hms(2026, 11, 1, 12, 0, 0).unwrap();
        let t = parse_token("PRO ana@example.com 2026-12-31", &plans(), now).unwrap();
        assert_eq!(t.plan, "pro");
        assert_eq!(t.email.as_deref(), Some("ana@example.com"));
        assert_eq!(
            t.expires,
            Some(Utc.with_ymd_and_hms(2026, 12, 31, 23, 59, 59).unwrap())
        );
        let t = parse_token("basic", &plans(), now).unwrap();
        assert_eq!((t.email, t.expires), (None, None));
        let err = |s: &str| parse_token(s, &plans(), now).unwrap_err();
        assert!(err("").starts_with("plan: required"));
        assert!(err("gold").starts_with("plan: 'gold' is not an active plan"));
        assert!(err("pro a@b@c").starts_with("e-mail:"));
        assert!(err("pro 2026-10-01").starts_with("expires: 2026-10-01 is past"));
        assert!(err("pro tomorrow").starts_with("expires: 'tomorrow' is not a day"));
    }

    #[test]
    fn rule_prompt_reads_percent_bps_or_flat_and_names_each_error() {
        let r = parse_rule("default 12.5%", &plans()).unwrap();
        assert_eq!((r.plan, r.bps), (None, Some(1250)));
        let r = parse_rule("pro 1500bps", &plans()).unwrap();
        assert_eq!((r.plan.as_deref(), r.bps), (Some("pro"), Some(1500)));
        let r = parse_rule("PRO 4.00 eur", &plans()).unwrap();
        assert_eq!(r.flat.as_deref(), Some("4.00"));
        assert_eq!(r.currency.as_deref(), Some("EUR"));
        let err = |s: &str| parse_rule(s, &plans()).unwrap_err();
        assert!(err("gold 10%").starts_with("plan: 'gold'"));
        assert!(err("default 12.345%").starts_with("bps:"));
        assert!(err("default 12").starts_with("pays:"));
        assert!(err("default 4.00 XYZ").contains("currency"));
        assert!(err("default").starts_with("pays:"));
    }

    #[test]
    fn token_status_says_open_claimed_revoked_or_expired() {
        let now = Utc.with_ymd_and_hms(2026, 11, 1, 12, 0, 0).unwrap();
        let mut t = ClaimToken {
            id: 1,
            partner_id: 1,
            plan_id: 1,
            email: None,
            expires_at: Some(now + chrono::Duration::days(1)),
            last4: "abcd".into(),
            claimed_at: None,
            claimed_account: None,
            revoked_at: None,
            revoked_by: None,
            created_at: now,
            created_by: "cara".into(),
        };
        assert_eq!(token_status(&t, now), "open");
        assert_eq!(token_status(&t, now + chrono::Duration::days(2)), "expired");
        t.revoked_at = Some(now);
        assert_eq!(token_status(&t, now), "revoked");
        t.claimed_account = Some(501);
        assert_eq!(token_status(&t, now), "claimed (account 501)");
    }
}
