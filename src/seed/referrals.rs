//! The demo seed's referral program: three plans, a default code and commission rules for
//! each partner with an agreement, accounts attributed by code and by claim token, most of them
//! converted into payouts over the last two months, and an open token — through the services,
//! so that each has its audit rows and events.

use crate::domain::Role;
use crate::domain::referral::PlanDraft;
use crate::error::Result;
use crate::service::{Actor, Desk, PLATFORM_LOGIN};
use chrono::{DateTime, Duration, Utc};
use sqlx::PgPool;

/// (code, name, monthly price, currency)
const PLANS: &[(&str, &str, &str, &str)] = &[
    ("starter", "Starter", "9.90", "EUR"),
    ("pro", "Pro", "29.00", "EUR"),
    ("team-jp", "Team (Japan)", "4900", "JPY"),
];

/// Seeds the program for `partners` (with their agreement currencies); returns the payouts made.
pub async fn seed(pool: &PgPool, partners: &[(i64, &str)], now: DateTime<Utc>) -> Result<u64> {
    let cara = Desk::new(pool.clone(), Actor::operator("cara", &[Role::Curator]));
    let platform = Desk::new(
        pool.clone(),
        Actor::operator(PLATFORM_LOGIN, &[Role::Admin]),
    );
    for (code, name, price, currency) in PLANS {
        cara.add_plan(&PlanDraft {
            code: (*code).into(),
            name: (*name).into(),
            price: (*price).into(),
            currency: (*currency).into(),
        })
        .await?;
    }
    let mut account = 10_000i64;
    let mut payouts = 0u64;
    for (i, &(partner, currency)) in partners.iter().enumerate() {
        let code = cara.add_referral_code(partner, None).await?;
        cara.set_commission_rule(partner, None, Some(1000 + 250 * (i as i64 % 3)), None, None)
            .await?;
        if currency == "EUR" {
            cara.set_commission_rule(partner, Some("pro"), None, Some("4.00"), Some("EUR"))
                .await?;
        }
        let plan = match currency {
            "JPY" => "team-jp",
            _ if i % 2 == 0 => "pro",
            _ => "starter",
        };
        // Three accounts by code, one by a claimed token; all but the last converted, spread
        // over the last 60 days.
        for k in 0..4i64 {
            account += 1;
            if k == 3 {
                let t = cara
                    .issue_claim_token(
                        partner,
                        plan,
                        Some(&format!("admin{account}@example.org")),
                        None,
                    )
                    .await?;
                platform
                    .claim_token(
                        &t.token,
                        account,
                        Some(&format!("admin{account}@example.org")),
                    )
                    .await?;
            } else if k < 3 {
                // Registered a day before it converted.
                let at = now - Duration::days(9 + 17 * k + i as i64);
                platform
                    .attribute_account_at(&code.code, account, Some(at))
                    .await?;
            } else {
                platform.attribute_account(&code.code, account).await?;
            }
            if k < 3 {
                let at = now - Duration::days(8 + 17 * k + i as i64);
                platform.convert_account(account, plan, Some(at)).await?;
                payouts += 1;
            }
        }
        // An open token, for the console's token list.
        cara.issue_claim_token(partner, plan, None, Some(now + Duration::days(14)))
            .await?;
    }
    Ok(payouts)
}

/// Accounts attributed to `partner` by its default code and converted to `plan` at the given
/// times (the referral-only partner's payouts in a month that gets settled); numbered from
/// `first_account`.
pub async fn convert_at(
    pool: &PgPool,
    partner: i64,
    plan: &str,
    first_account: i64,
    times: &[DateTime<Utc>],
) -> Result<u64> {
    let platform = Desk::new(
        pool.clone(),
        Actor::operator(PLATFORM_LOGIN, &[Role::Admin]),
    );
    let code = platform
        .referral_view(partner)
        .await?
        .codes
        .into_iter()
        .find(|c| c.is_default)
        .map(|c| c.code)
        .unwrap_or_default();
    for (k, at) in times.iter().enumerate() {
        let account = first_account + k as i64;
        platform
            .attribute_account_at(&code, account, Some(*at - Duration::hours(1)))
            .await?;
        platform.convert_account(account, plan, Some(*at)).await?;
    }
    Ok(times.len() as u64)
}
