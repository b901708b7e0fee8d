//! `partnerdesk plans …` and `partnerdesk referrals …`: the referral program for scripts, and
//! what the platform reports (claims, attributions, conversions).

use super::Context;
use super::args::{Print, done};
use super::output::{self, out, outln};
use super::table::{Table, or_dash, time};
use crate::domain::moment::{utc_end, utc_start};
use crate::domain::money::{Frequency, format_amount, format_bps};
use crate::domain::referral::{PlanDraft, referral_link, rule_text};
use crate::domain::settlement::Period;
use crate::error::Result;
use crate::service::referrals::{Conversion, ReferralView};
use chrono::{DateTime, Utc};
use clap::Subcommand;
use std::process::ExitCode;

#[derive(Debug, Subcommand)]
pub enum PlansCommand {
    /// Add a subscription plan the platform sells.
    Add {
        /// Its code (lowercase letters, digits, '-', '_').
        #[arg(long, value_name = "CODE")]
        code: String,
        /// Its name as people see it (Pro, Basic…).
        #[arg(long, value_name = "TEXT")]
        name: String,
        /// The monthly list price in the currency's units (19.90).
        #[arg(long, value_name = "AMOUNT")]
        price: String,
        /// The price's ISO 4217 currency code (EUR, USD…).
        #[arg(long, value_name = "CODE")]
        currency: String,
        #[command(flatten)]
        print: Print,
    },
    /// List plans (a table, or --json).
    List {
        #[command(flatten)]
        print: Print,
    },
    /// Retire a plan: no new claim tokens for it.
    Retire {
        /// The plan's code.
        code: String,
    },
    /// Bring a retired plan back.
    Activate {
        /// The plan's code.
        code: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum ReferralsCommand {
    /// A partner's default referral code and its link, made from its name when it has none
    /// yet; with --code, add that code (a partner's first code is its default).
    Code {
        /// The partner's id.
        #[arg(long, value_name = "ID")]
        partner: i64,
        /// A new code to add: 3–40 letters, digits, '-' or '_', unique whatever its case.
        #[arg(long, value_name = "CODE")]
        code: Option<String>,
        #[command(flatten)]
        print: Print,
    },
    /// Disable a referral code.
    DisableCode {
        /// The referral code (whatever its case).
        code: String,
    },
    /// Create a claim token for a partner-provisioned account; the token is printed this once.
    Token {
        /// The partner's id.
        #[arg(long, value_name = "ID")]
        partner: i64,
        /// The plan's code.
        #[arg(long, value_name = "CODE")]
        plan: String,
        /// Only this e-mail may claim it.
        #[arg(long, value_name = "EMAIL")]
        email: Option<String>,
        /// When it expires (claims from then on are refused): YYYY-MM-DD HH:MM (UTC), RFC 3339,
        /// or a date YYYY-MM-DD (the whole day: up to the next day's 00:00 UTC). Default: never.
        #[arg(long, value_name = "TIME", value_parser = utc_end)]
        expires: Option<DateTime<Utc>>,
        #[command(flatten)]
        print: Print,
    },
    /// Revoke an unclaimed claim token.
    RevokeToken {
        /// The claim token's id (as `referrals show` lists it; not the token itself).
        id: i64,
    },
    /// Claim a token for an account, as the platform does when the account registers.
    Claim {
        /// The claim token as it was printed once (pdc_…).
        token: String,
        /// The platform's id of the account that claims it (a positive whole number).
        #[arg(long, value_name = "ID")]
        account: i64,
        /// The e-mail address the account registered with; required when the token is meant
        /// for one.
        #[arg(long, value_name = "EMAIL")]
        email: Option<String>,
        #[command(flatten)]
        print: Print,
    },
    /// Attribute an account to the partner of a referral code (first touch wins).
    Attribute {
        /// The referral code the account registered with (whatever its case).
        #[arg(long, value_name = "CODE")]
        code: String,
        /// The platform's id of the account (a positive whole number).
        #[arg(long, value_name = "ID")]
        account: i64,
        /// When the account registered, if reported late: YYYY-MM-DD HH:MM (UTC), RFC 3339,
        /// or a date (00:00 UTC); now by default. A conversion comes after it.
        #[arg(long, value_name = "TIME", value_parser = utc_start)]
        at: Option<DateTime<Utc>>,
        #[command(flatten)]
        print: Print,
    },
    /// Set a partner's commission rule for a plan, or its default without --plan.
    Rule {
        /// The partner's id.
        #[arg(long, value_name = "ID")]
        partner: i64,
        /// The plan's code the rule is for; without it, the partner's default rule.
        #[arg(long, value_name = "CODE")]
        plan: Option<String>,
        /// Basis points of the plan's monthly list price (1250 is 12.5%).
        #[arg(long, value_name = "BPS")]
        bps: Option<i64>,
        /// A flat amount, in the units of --currency (4.00).
        #[arg(long, value_name = "AMOUNT")]
        flat: Option<String>,
        /// With --flat: its ISO 4217 currency code (EUR, USD…).
        #[arg(long, value_name = "CODE")]
        currency: Option<String>,
        #[command(flatten)]
        print: Print,
    },
    /// Record that an attributed account's subscription became active: one payout (again:
    /// nothing new).
    Convert {
        /// The platform's id of the attributed account (a positive whole number).
        #[arg(long, value_name = "ID")]
        account: i64,
        /// The code of the plan it subscribed to.
        #[arg(long, value_name = "CODE")]
        plan: String,
        /// When the subscription became active (default now): YYYY-MM-DD HH:MM (UTC), RFC 3339,
        /// or a date YYYY-MM-DD (00:00 UTC).
        #[arg(long, value_name = "TIME", value_parser = utc_start)]
        at: Option<DateTime<Utc>>,
        #[command(flatten)]
        print: Print,
    },
    /// Reverse the payout of an account whose subscription was refunded (the platform's
    /// admin), once: its commission is taken back — left out of a statement still in draft, or
    /// by an adjustment line on the partner's next draft.
    Reverse {
        /// The platform's id of the converted account.
        #[arg(long, value_name = "ID")]
        account: i64,
        /// Why (kept with the payout and in the audit log).
        #[arg(long, value_name = "TEXT")]
        reason: String,
        #[command(flatten)]
        print: Print,
    },
    /// A partner's codes, tokens, rules, attributed accounts and payouts.
    Show {
        /// The partner's id.
        #[arg(long, value_name = "ID")]
        partner: i64,
        #[command(flatten)]
        print: Print,
    },
}

pub async fn run_plans(ctx: &Context, cmd: PlansCommand) -> Result<ExitCode> {
    let desk = ctx.desk(2).await?;
    match cmd {
        PlansCommand::Add {
            code,
            name,
            price,
            currency,
            print,
        } => {
            let p = desk
                .add_plan(&PlanDraft {
                    code,
                    name,
                    price,
                    currency,
                })
                .await?;
            done(&print, &p, || {
                format!(
                    "plan {} ({}): {} a month",
                    p.code,
                    p.name,
                    format_amount(p.price_minor, &p.currency)
                )
            })
        }
        PlansCommand::List { print } => {
            let plans = desk.plans().await?;
            if print.json {
                output::json(&plans)?;
                return Ok(ExitCode::SUCCESS);
            }
            let mut t = Table::new(&["CODE", "NAME", "PRICE", "STATE"]).right(&[2]);
            for p in &plans {
                t.row(vec![
                    p.code.clone(),
                    p.name.clone(),
                    format_amount(p.price_minor, &p.currency),
                    if p.active { "active" } else { "retired" }.into(),
                ]);
            }
            out!("{}", t.render());
            Ok(ExitCode::SUCCESS)
        }
        PlansCommand::Retire { code } => {
            let p = desk.set_plan_active(&code, false).await?;
            outln!("plan {} retired", p.code);
            Ok(ExitCode::SUCCESS)
        }
        PlansCommand::Activate { code } => {
            let p = desk.set_plan_active(&code, true).await?;
            outln!("plan {} active", p.code);
            Ok(ExitCode::SUCCESS)
        }
    }
}

pub async fn run(ctx: &Context, cmd: ReferralsCommand) -> Result<ExitCode> {
    let desk = ctx.desk(2).await?;
    match cmd {
        ReferralsCommand::Code {
            partner,
            code,
            print,
        } => {
            let (c, added) = match code.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
                Some(code) => (desk.add_referral_code(partner, Some(code)).await?, true),
                None => desk.default_referral_code(partner).await?,
            };
            done(&print, &c, || {
                format!(
                    "referral code {} of partner #{}{}{}: {}",
                    c.code,
                    c.partner_id,
                    if c.is_default { " (default)" } else { "" },
                    match (added, c.disabled_at.is_some()) {
                        (true, _) => " added",
                        (false, true) => ", disabled",
                        (false, false) => "",
                    },
                    referral_link(&c.code)
                )
            })
        }
        ReferralsCommand::DisableCode { code } => {
            let c = desk.disable_referral_code(&code).await?;
            outln!("referral code {} disabled", c.code);
            Ok(ExitCode::SUCCESS)
        }
        ReferralsCommand::Token {
            partner,
            plan,
            email,
            expires,
            print,
        } => {
            let t = desk
                .issue_claim_token(partner, &plan, email.as_deref(), expires)
                .await?;
            done(&print, &t, || {
                format!(
                    "{}\nclaim token {} for partner #{} (plan {plan}{}{}): shown this once; only its hash is kept",
                    t.token,
                    t.record.id,
                    t.record.partner_id,
                    t.record
                        .email
                        .as_deref()
                        .map(|e| format!(", for {e}"))
                        .unwrap_or_default(),
                    t.record
                        .expires_at
                        .map(|e| format!(", expires {}", time(e)))
                        .unwrap_or_default()
                )
            })
        }
        ReferralsCommand::RevokeToken { id } => {
            let t = desk.revoke_claim_token(id).await?;
            outln!("claim token {} (…{}) revoked", t.id, t.last4);
            Ok(ExitCode::SUCCESS)
        }
        ReferralsCommand::Claim {
            token,
            account,
            email,
            print,
        } => {
            let a = desk.claim_token(&token, account, email.as_deref()).await?;
            done(&print, &a, || {
                format!(
                    "claimed: account {account} is attributed to partner #{}",
                    a.partner_id
                )
            })
        }
        ReferralsCommand::Attribute {
            code,
            account,
            at,
            print,
        } => {
            let a = desk.attribute_account_at(&code, account, at).await?;
            done(&print, &a, || {
                format!(
                    "account {account} attributed to partner #{} by code {code}",
                    a.partner_id
                )
            })
        }
        ReferralsCommand::Rule {
            partner,
            plan,
            bps,
            flat,
            currency,
            print,
        } => {
            let r = desk
                .set_commission_rule(
                    partner,
                    plan.as_deref(),
                    bps,
                    flat.as_deref(),
                    currency.as_deref(),
                )
                .await?;
            done(&print, &r, || {
                format!(
                    "partner #{partner}: {} rule pays {}",
                    r.plan_code
                        .as_deref()
                        .map(|c| format!("plan {c}"))
                        .unwrap_or_else(|| "the default".into()),
                    rule_text(r.bps, r.amount_minor, r.currency.as_deref())
                )
            })
        }
        ReferralsCommand::Reverse {
            account,
            reason,
            print,
        } => {
            let (p, lands) = desk.reverse_payout(account, &reason).await?;
            if print.json {
                output::json(&serde_json::json!({ "payout": p, "lands": lands }))?;
            } else {
                outln!(
                    "reversed: payout {} of {} (account {account}): {}",
                    p.id,
                    format_amount(p.amount_minor, &p.currency),
                    p.reverse_reason.as_deref().unwrap_or_default()
                );
                outln!("{lands}");
            }
            Ok(ExitCode::SUCCESS)
        }
        ReferralsCommand::Convert {
            account,
            plan,
            at,
            print,
        } => {
            let c = desk.convert_account(account, &plan, at).await?;
            done(&print, &c, || {
                let p = &c.payout;
                format!(
                    "{}: payout {} of {} to partner #{} (the {} rule{})",
                    if c.created {
                        "converted"
                    } else {
                        "converted already"
                    },
                    p.id,
                    format_amount(p.amount_minor, &p.currency),
                    p.partner_id,
                    p.rule_scope,
                    p.bps
                        .map(|b| format!(
                            ": {} of {}",
                            format_bps(b.into()),
                            format_amount(p.price_minor, &p.currency)
                        ))
                        .unwrap_or_default()
                ) + &no_agreement_note(&c)
                    + &c.lands
                        .as_ref()
                        .map(|l| format!("\n{l}"))
                        .unwrap_or_default()
            })
        }
        ReferralsCommand::Show { partner, print } => {
            let v = desk.referral_view(partner).await?;
            if print.json {
                output::json(&v)?;
            } else {
                show(&v);
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn show(v: &ReferralView) {
    let mut t = Table::new(&["CODE", "LINK", "STATE"]);
    for c in &v.codes {
        t.row(vec![
            format!("{}{}", c.code, if c.is_default { " (default)" } else { "" }),
            referral_link(&c.code),
            if c.disabled_at.is_some() {
                "disabled"
            } else {
                "active"
            }
            .into(),
        ]);
    }
    out!("{}", t.render());
    outln!("");
    let mut t = Table::new(&["TOKEN", "…", "PLAN", "E-MAIL", "EXPIRES", "STATE"]).right(&[0, 2]);
    for tk in &v.tokens {
        t.row(vec![
            tk.id.to_string(),
            tk.last4.clone(),
            tk.plan_id.to_string(),
            or_dash(tk.email.as_deref()),
            tk.expires_at.map(time).unwrap_or_else(|| "-".into()),
            match (tk.claimed_account, tk.revoked_at) {
                (Some(a), _) => format!("claimed by account {a}"),
                (None, Some(_)) => "revoked".into(),
                _ if tk.expires_at.is_some_and(|e| e <= Utc::now()) => "expired".into(),
                _ => "open".into(),
            },
        ]);
    }
    out!("{}", t.render());
    outln!("");
    let mut t = Table::new(&["RULE", "PAYS"]);
    for r in &v.rules {
        t.row(vec![
            r.plan_code
                .as_deref()
                .map(|c| format!("plan {c}"))
                .unwrap_or_else(|| "default".into()),
            rule_text(r.bps, r.amount_minor, r.currency.as_deref()),
        ]);
    }
    out!("{}", t.render());
    outln!("");
    let mut t = Table::new(&["ACCOUNT", "VIA", "ATTRIBUTED", "CONVERTED", "PAYOUT"]).right(&[0]);
    for a in &v.accounts {
        t.row(vec![
            a.account_id.to_string(),
            a.via.clone(),
            time(a.attributed_at),
            a.converted_at
                .map(|c| format!("{} ({})", time(c), or_dash(a.plan_code.as_deref())))
                .unwrap_or_else(|| "-".into()),
            a.amount_minor
                .zip(a.currency.as_deref())
                .map(|(m, c)| format_amount(m, c))
                .unwrap_or_else(|| "-".into()),
        ]);
    }
    out!("{}", t.render());
}

/// When no agreement of the partner is in effect on the conversion's day, a line saying so:
/// the payout is on no statement until there is one for its period.
fn no_agreement_note(c: &Conversion) -> String {
    if c.agreement_id.is_some() {
        return String::new();
    }
    let p = &c.payout;
    let month = Period::of(Frequency::Monthly, c.due_at.date_naive());
    format!(
        "\npartner {} has no agreement in effect for {}: this payout reaches a statement once it \
         has one (agreements add --partner {} --model referral_only --currency {} --frequency \
         monthly --from {})",
        p.partner_id,
        month.label(),
        p.partner_id,
        p.currency,
        month.start
    )
}
