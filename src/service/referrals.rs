//! The referral program (SPEC §1.7, seed 003, issue 14): referral codes, claim tokens
//! (shown once; the database keeps only their hash), first-touch attribution, commission rules
//! per plan, and conversions into payouts that join the partner's settlement. The plans
//! they are for: `plans.rs`.

use super::Desk;
use super::plans::plan_named;
use super::record::Change;
use crate::domain::Permission;
use crate::domain::money::format_amount;
use crate::domain::referral::{
    RulePay, check_referral_code, check_rule, default_code, new_token, payout, token_hash,
};
use crate::domain::validation::{Lines, ValidationErrors, no_control};
use crate::error::{Error, Result};
use crate::store::{
    self,
    referrals::{AccountRow, Attribution, ClaimToken, NewPayout, Payout, ReferralCode, Rule},
};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;

/// A token as created: the text, shown this once, and its record (which never holds it).
#[derive(Debug, Clone, Serialize)]
pub struct IssuedToken {
    pub token: String,
    pub record: ClaimToken,
}

/// What a conversion did.
#[derive(Debug, Clone, Serialize)]
pub struct Conversion {
    pub payout: Payout,
    /// False when the account had converted already (nothing new was written).
    pub created: bool,
    /// The partner's agreement in effect on its due day, whose statement for that period
    /// holds the payout; none: the payout reaches a statement once the partner has one (a
    /// `referral_only` agreement when referrals are all it does).
    pub agreement_id: Option<i64>,
    /// Its conversion plus the holding period: the statement of the period holding this day
    /// prices it.
    pub due_at: DateTime<Utc>,
    /// When its period's statement is past draft already: where it is charged late.
    pub lands: Option<String>,
}

/// A partner's referral program at a glance (the Partners pane's referral tab).
#[derive(Debug, Clone, Serialize)]
pub struct ReferralView {
    pub codes: Vec<ReferralCode>,
    pub tokens: Vec<ClaimToken>,
    pub accounts: Vec<AccountRow>,
    pub rules: Vec<Rule>,
}

impl Desk {
    /// Adds a code for the partner; the first one (or `default`) becomes its default code, made
    /// from its name when `code` is empty.
    pub async fn add_referral_code(
        &self,
        partner_id: i64,
        code: Option<&str>,
    ) -> Result<ReferralCode> {
        self.actor().require(Permission::ManagePartners)?;
        let mut tx = self.pool().begin().await?;
        let partner = store::partners::get(&mut tx, partner_id)
            .await?
            .ok_or_else(|| Error::not_found("partner", partner_id))?;
        let existing = store::referrals::codes_of(&mut tx, partner_id).await?;
        let is_default = !existing.iter().any(|c| c.is_default);
        let text = match code.map(str::trim).filter(|c| !c.is_empty()) {
            Some(c) => check_referral_code(c).map_err(|r| Error::field("code", r))?,
            None => default_code(&partner.display_name, partner_id),
        };
        let Some(c) = store::referrals::insert_code(
            &mut tx,
            partner_id,
            &text,
            is_default,
            &self.actor().login,
        )
        .await?
        else {
            drop(tx);
            let mut conn = self.pool().acquire().await?;
            let holder = store::referrals::code_by_text(&mut conn, &text).await?;
            return Err(Error::field(
                "code",
                match holder {
                    Some(h) => format!(
                        "'{text}' is taken (by partner {}, as '{}')",
                        h.partner_id, h.code
                    ),
                    None => format!("'{text}' could not be added; try again"),
                },
            ));
        };
        Change::new(self.actor(), "referral_code.add", "referral_code", c.id)
            .after(&c)
            .event("referral_code.added", json!({ "code": c }))
            .commit(tx)
            .await?;
        Ok(c)
    }

    /// A partner's default referral code: the one it has (a read, for anyone who reads the
    /// program), else one made from its name as its first code (`add_referral_code`: curators
    /// and admins). True when it was made now.
    pub async fn default_referral_code(&self, partner_id: i64) -> Result<(ReferralCode, bool)> {
        let existing = |codes: Vec<ReferralCode>| codes.into_iter().find(|c| c.is_default);
        {
            let mut conn = self.pool().acquire().await?;
            if let Some(c) = existing(store::referrals::codes_of(&mut conn, partner_id).await?) {
                return Ok((c, false));
            }
        }
        match self.add_referral_code(partner_id, None).await {
            Ok(c) => Ok((c, true)),
            // Made meanwhile by another session: that one is the default.
            Err(e @ Error::Validation(_)) => {
                let mut conn = self.pool().acquire().await?;
                match existing(store::referrals::codes_of(&mut conn, partner_id).await?) {
                    Some(c) => Ok((c, false)),
                    None => Err(e),
                }
            }
            Err(e) => Err(e),
        }
    }

    pub async fn disable_referral_code(&self, code: &str) -> Result<ReferralCode> {
        self.actor().require(Permission::ManagePartners)?;
        let mut tx = self.pool().begin().await?;
        let before = store::referrals::code_by_text(&mut tx, code)
            .await?
            .ok_or_else(|| Error::not_found("referral code", code.trim()))?;
        let after = store::referrals::disable_code(&mut tx, before.id, &self.actor().login)
            .await?
            .ok_or_else(|| {
                Error::Refused(format!("referral code {} is disabled already", before.code))
            })?;
        Change::new(
            self.actor(),
            "referral_code.disable",
            "referral_code",
            after.id,
        )
        .changed(&before, &after)
        .event("referral_code.disabled", json!({ "code": after }))
        .commit(tx)
        .await?;
        Ok(after)
    }

    /// A claim token for the partner with a plan, and optionally the e-mail it is meant for
    /// and an expiry. The token is returned this once; only its hash is stored.
    pub async fn issue_claim_token(
        &self,
        partner_id: i64,
        plan_code: &str,
        email: Option<&str>,
        expires_at: Option<DateTime<Utc>>,
    ) -> Result<IssuedToken> {
        self.actor().require(Permission::ManagePartners)?;
        let mut e = ValidationErrors::new();
        let email = email.map(str::trim).filter(|m| !m.is_empty());
        if let Some(m) = email
            && no_control(&mut e, "email", m, Lines::One)
            && (m.len() > 254 || m.split('@').count() != 2 || m.contains(char::is_whitespace))
        {
            e.push("email", format!("must be an e-mail address (got '{m}')"));
        }
        if let Some(t) = expires_at
            && t <= Utc::now()
        {
            e.push("expires", "must be in the future");
        }
        if !e.is_empty() {
            return Err(e.into());
        }
        let mut tx = self.pool().begin().await?;
        store::partners::get(&mut tx, partner_id)
            .await?
            .ok_or_else(|| Error::not_found("partner", partner_id))?;
        let plan = plan_named(&mut tx, plan_code).await?;
        if !plan.active {
            return Err(Error::field("plan", format!("{} is retired", plan.code)));
        }
        let t = new_token();
        let record = store::referrals::insert_token(
            &mut tx,
            partner_id,
            plan.id,
            email,
            expires_at,
            &t.hash,
            &t.last4,
            &self.actor().login,
        )
        .await?;
        Change::new(self.actor(), "claim_token.issue", "claim_token", record.id)
            .after(&record)
            .event("claim_token.issued", json!({ "token": record }))
            .commit(tx)
            .await?;
        Ok(IssuedToken {
            token: t.token,
            record,
        })
    }

    pub async fn revoke_claim_token(&self, id: i64) -> Result<ClaimToken> {
        self.actor().require(Permission::ManagePartners)?;
        let mut tx = self.pool().begin().await?;
        let before = store::referrals::token(&mut tx, id)
            .await?
            .ok_or_else(|| Error::not_found("claim token", id))?;
        let after = store::referrals::revoke_token(&mut tx, id, &self.actor().login)
            .await?
            .ok_or_else(|| Error::Refused(token_state(&before)))?;
        Change::new(self.actor(), "claim_token.revoke", "claim_token", id)
            .changed(&before, &after)
            .event("claim_token.revoked", json!({ "token": after }))
            .commit(tx)
            .await?;
        Ok(after)
    }

    /// Claims a token for `account` (as the platform does when the account registers): exactly
    /// once, by one conditional statement; the account is attributed to the token's partner in
    /// the same transaction (first touch: an account attributed already is refused).
    pub async fn claim_token(
        &self,
        token: &str,
        account: i64,
        email: Option<&str>,
    ) -> Result<Attribution> {
        self.actor().require(Permission::RecordReferrals)?;
        check_account(account)?;
        let hash = token_hash(token);
        let mut tx = self.pool().begin().await?;
        let Some(t) = store::referrals::claim(&mut tx, &hash, account, email).await? else {
            drop(tx);
            let mut conn = self.pool().acquire().await?;
            return Err(
                match store::referrals::token_by_hash(&mut conn, &hash).await? {
                    None => Error::Refused("unknown claim token".into()),
                    Some(t) => Error::Refused(claim_refusal(&t, email)),
                },
            );
        };
        let Some(a) = store::referrals::attribute(
            &mut tx,
            account,
            t.partner_id,
            (None, Some(t.id)),
            None,
            &self.actor().login,
        )
        .await?
        else {
            drop(tx);
            return Err(self.already_attributed(account).await);
        };
        Change::new(self.actor(), "claim_token.claim", "claim_token", t.id)
            .after(&json!({ "token": t, "attribution": a }))
            .event(
                "referral.attributed",
                json!({ "attribution": a, "token_id": t.id }),
            )
            .commit(tx)
            .await?;
        Ok(a)
    }

    /// Attributes `account` to the partner of `code` (first touch wins).
    pub async fn attribute_account(&self, code: &str, account: i64) -> Result<Attribution> {
        self.attribute_account_at(code, account, None).await
    }

    /// [`Desk::attribute_account`] at `at` (the platform's own time of the sign-up, reported
    /// late; now when `None`): a conversion comes after it.
    pub async fn attribute_account_at(
        &self,
        code: &str,
        account: i64,
        at: Option<DateTime<Utc>>,
    ) -> Result<Attribution> {
        self.actor().require(Permission::RecordReferrals)?;
        check_account(account)?;
        if at.is_some_and(|at| at > Utc::now() + chrono::Duration::minutes(5)) {
            return Err(Error::field("at", "must not be in the future"));
        }
        let mut tx = self.pool().begin().await?;
        let c = store::referrals::code_by_text(&mut tx, code)
            .await?
            .ok_or_else(|| Error::not_found("referral code", code.trim()))?;
        if c.disabled_at.is_some() {
            return Err(Error::Refused(format!(
                "referral code {} is disabled",
                c.code
            )));
        }
        let Some(a) = store::referrals::attribute(
            &mut tx,
            account,
            c.partner_id,
            (Some(c.id), None),
            at,
            &self.actor().login,
        )
        .await?
        else {
            drop(tx);
            return Err(self.already_attributed(account).await);
        };
        Change::new(
            self.actor(),
            "referral.attribute",
            "referral_account",
            account,
        )
        .after(&a)
        .event(
            "referral.attributed",
            json!({ "attribution": a, "code": c.code }),
        )
        .commit(tx)
        .await?;
        Ok(a)
    }

    async fn already_attributed(&self, account: i64) -> Error {
        let first = async {
            let mut conn = self.pool().acquire().await?;
            store::referrals::attribution(&mut conn, account).await
        };
        match first.await {
            Ok(Some(a)) => Error::Refused(format!(
                "account {account} is attributed already to partner {} since {} (first touch wins)",
                a.partner_id,
                a.attributed_at.format("%Y-%m-%d %H:%M:%S UTC")
            )),
            Ok(None) => Error::Refused(format!("account {account} changed meanwhile; try again")),
            Err(e) => e.into(),
        }
    }

    /// Sets the partner's commission rule for a plan, or its default (`plan` = None).
    pub async fn set_commission_rule(
        &self,
        partner_id: i64,
        plan_code: Option<&str>,
        bps: Option<i64>,
        flat: Option<&str>,
        currency: Option<&str>,
    ) -> Result<Rule> {
        self.actor().require(Permission::ManagePartners)?;
        let pay = check_rule(bps, flat, currency)?;
        let mut tx = self.pool().begin().await?;
        store::partners::get(&mut tx, partner_id)
            .await?
            .ok_or_else(|| Error::not_found("partner", partner_id))?;
        let plan = match plan_code {
            Some(c) => Some(plan_named(&mut tx, c).await?),
            None => None,
        };
        let before = match &plan {
            Some(p) => store::referrals::applicable_rule(&mut tx, partner_id, p.id)
                .await?
                .filter(|r| r.plan_id == Some(p.id)),
            None => store::referrals::rules_of(&mut tx, partner_id)
                .await?
                .into_iter()
                .find(|r| r.plan_id.is_none()),
        };
        let (b, f) = match &pay {
            RulePay::Bps { bps } => (Some(*bps), None),
            RulePay::Flat {
                amount_minor,
                currency,
            } => (None, Some((*amount_minor, currency.as_str()))),
        };
        let id = store::referrals::upsert_rule(
            &mut tx,
            partner_id,
            plan.as_ref().map(|p| p.id),
            b,
            f,
            &self.actor().login,
        )
        .await?;
        let after = store::referrals::rule(&mut tx, id)
            .await?
            .ok_or_else(|| Error::not_found("commission rule", id))?;
        let c = Change::new(self.actor(), "commission_rule.set", "commission_rule", id);
        let c = match &before {
            Some(b) => c.changed(b, &after),
            None => c.after(&after),
        };
        c.event("commission_rule.set", json!({ "rule": after }))
            .commit(tx)
            .await?;
        Ok(after)
    }

    /// Records that an attributed account's subscription became active: one payout, by the
    /// plan's rule if the partner has one, else its default; converting again is idempotent.
    pub async fn convert_account(
        &self,
        account: i64,
        plan_code: &str,
        at: Option<DateTime<Utc>>,
    ) -> Result<Conversion> {
        self.actor().require(Permission::RecordReferrals)?;
        check_account(account)?;
        let at = at.unwrap_or_else(Utc::now);
        if at > Utc::now() + chrono::Duration::minutes(5) {
            return Err(Error::field("at", "must not be in the future"));
        }
        let mut tx = self.pool().begin().await?;
        if let Some(p) = store::referrals::payout_of_account(&mut tx, account).await? {
            return conversion(&mut tx, p, false).await;
        }
        let a = store::referrals::attribution(&mut tx, account)
            .await?
            .ok_or_else(|| {
                Error::Refused(format!(
                    "account {account} is not attributed to any partner"
                ))
            })?;
        if at < a.attributed_at {
            return Err(Error::field(
                "at",
                format!(
                    "is before account {account}'s attribution ({}): a conversion comes after it",
                    a.attributed_at.format("%Y-%m-%d %H:%M:%S UTC")
                ),
            ));
        }
        let plan = plan_named(&mut tx, plan_code).await?;
        let rule = store::referrals::applicable_rule(&mut tx, a.partner_id, plan.id)
            .await?
            .ok_or_else(|| {
                Error::Refused(format!(
                    "partner {} has no commission rule for plan {} and no default rule",
                    a.partner_id, plan.code
                ))
            })?;
        let pay = match (rule.bps, rule.amount_minor, rule.currency.clone()) {
            (Some(bps), _, _) => RulePay::Bps { bps },
            (None, Some(amount_minor), Some(currency)) => RulePay::Flat {
                amount_minor,
                currency,
            },
            _ => {
                return Err(Error::Refused(format!(
                    "commission rule {} is incomplete",
                    rule.id
                )));
            }
        };
        let amount = payout(&pay, plan.price_minor, &plan.currency).map_err(Error::Refused)?;
        let new = NewPayout {
            account_id: account,
            partner_id: a.partner_id,
            plan_id: plan.id,
            rule_id: rule.id,
            rule_scope: if rule.plan_id.is_some() {
                "plan"
            } else {
                "default"
            },
            bps: rule.bps,
            price_minor: plan.price_minor,
            currency: &plan.currency,
            amount_minor: amount,
            converted_at: at,
        };
        let Some(p) = store::referrals::insert_payout(&mut tx, &new, &self.actor().login).await?
        else {
            // Another conversion of this account committed meanwhile: the same payout.
            drop(tx);
            let mut conn = self.pool().acquire().await?;
            let p = store::referrals::payout_of_account(&mut conn, account)
                .await?
                .ok_or_else(|| Error::not_found("payout of account", account))?;
            return conversion(&mut conn, p, false).await;
        };
        let c = conversion(&mut tx, p, true).await?;
        let p = &c.payout;
        Change::new(self.actor(), "referral.convert", "referral_payout", p.id)
            .after(&p)
            .reason(Some(&format!(
                "{} of {} by the {} rule",
                format_amount(p.amount_minor, &p.currency),
                plan.code,
                p.rule_scope
            )))
            .event("payout.created", json!({ "payout": p, "plan": plan.code }))
            .commit(tx)
            .await?;
        Ok(c)
    }

    /// The partner's referral program: codes, tokens, attributed accounts and rules.
    pub async fn referral_view(&self, partner_id: i64) -> Result<ReferralView> {
        let mut conn = self.pool().acquire().await?;
        Ok(ReferralView {
            codes: store::referrals::codes_of(&mut conn, partner_id).await?,
            tokens: store::referrals::tokens_of(&mut conn, partner_id).await?,
            accounts: store::referrals::accounts_of(&mut conn, partner_id, 200).await?,
            rules: store::referrals::rules_of(&mut conn, partner_id).await?,
        })
    }

    pub async fn referral_payouts(&self, partner_id: i64, limit: i64) -> Result<Vec<Payout>> {
        let mut conn = self.pool().acquire().await?;
        let mut payouts =
            store::referrals::payouts_of(&mut conn, partner_id, limit.clamp(1, 5000)).await?;
        for p in payouts
            .iter_mut()
            .filter(|p| p.settlement_id.is_none() && p.reversed_at.is_none())
        {
            p.lands = Some(
                super::landing::payout(&mut conn, p.partner_id, &p.currency, p.converted_at)
                    .await?
                    .short,
            );
        }
        Ok(payouts)
    }
}

fn check_account(account: i64) -> Result<()> {
    if account > 0 {
        Ok(())
    } else {
        Err(Error::field(
            "account",
            format!("must be a positive id (got {account})"),
        ))
    }
}

/// Why a token could not be claimed, read after the claim found nothing to change.
fn claim_refusal(t: &ClaimToken, email: Option<&str>) -> String {
    if let (Some(at), Some(acc)) = (t.claimed_at, t.claimed_account) {
        return format!(
            "claim token …{} was claimed already (account {acc}, {})",
            t.last4,
            at.format("%Y-%m-%d %H:%M:%S UTC")
        );
    }
    if t.revoked_at.is_some() {
        return format!("claim token …{} was revoked", t.last4);
    }
    if let Some(exp) = t.expires_at
        && exp <= Utc::now()
    {
        return format!(
            "claim token …{} expired at {}",
            t.last4,
            exp.format("%Y-%m-%d %H:%M:%S UTC")
        );
    }
    if let Some(meant) = &t.email
        && !email.is_some_and(|e| e.trim().eq_ignore_ascii_case(meant))
    {
        return format!(
            "claim token …{} is meant for another e-mail address{}",
            t.last4,
            if email.is_none() {
                " (give --email)"
            } else {
                ""
            }
        );
    }
    format!("claim token …{} could not be claimed; try again", t.last4)
}

fn token_state(t: &ClaimToken) -> String {
    if t.claimed_at.is_some() {
        format!("claim token {} was claimed already", t.id)
    } else {
        format!("claim token {} was revoked already", t.id)
    }
}

/// A conversion with the agreement in effect on its payout's day.
async fn conversion(
    conn: &mut sqlx::PgConnection,
    payout: Payout,
    created: bool,
) -> Result<Conversion> {
    let due_at = super::landing::due(conn, payout.converted_at).await?;
    let agreement_id = store::agreements::in_effect(conn, payout.partner_id, due_at.date_naive())
        .await?
        .map(|a| a.id);
    let lands = super::landing::payout(
        conn,
        payout.partner_id,
        &payout.currency,
        payout.converted_at,
    )
    .await?
    .text;
    Ok(Conversion {
        payout,
        created,
        agreement_id,
        due_at,
        lands,
    })
}
