//! Approved statements the marketplace owes (a referral-only partner's), made through the
//! services, for the payout batch tests of several test binaries.

use crate::common::{TestDb, verified_partner};
use partnerdesk::domain::Role;
use partnerdesk::domain::payout::PayoutDetailsDraft;
use partnerdesk::domain::referral::PlanDraft;
use partnerdesk::domain::terms::TermsDraft;
use partnerdesk::service::Desk;

/// A partner paid only for referrals in `currency`: a flat `flat` per conversion, `n`
/// conversions on 2026-09-10, its September statement approved. Returns (partner, statement).
pub async fn owed(db: &TestDb, name: &str, currency: &str, flat: &str, n: i64) -> (i64, i64) {
    let admin = db.admin().await;
    let fin = db.desk("fin", &[Role::Finance]).await;
    let p = verified_partner(&admin, name, &format!("{}.example", name.to_lowercase())).await;
    let plan_code = format!("plan-{currency}").to_lowercase();
    let exists: bool = sqlx::query_scalar("SELECT exists(SELECT FROM plans WHERE code = $1)")
        .bind(&plan_code)
        .fetch_one(&db.pool)
        .await
        .unwrap();
    if !exists {
        admin
            .add_plan(&PlanDraft {
                code: plan_code.clone(),
                name: format!("Plan {currency}"),
                price: "100".into(),
                currency: currency.into(),
            })
            .await
            .unwrap();
    }
    let a = fin
        .add_agreement(
            p.id,
            &TermsDraft {
                model: "referral_only".into(),
                currency: currency.into(),
                frequency: "monthly".into(),
                ..Default::default()
            },
            "2026-09-01".parse().unwrap(),
        )
        .await
        .unwrap();
    let code = admin.add_referral_code(p.id, None).await.unwrap();
    admin
        .set_commission_rule(p.id, None, None, Some(flat), Some(currency))
        .await
        .unwrap();
    for k in 0..n {
        let account = p.id * 100 + k;
        admin
            .attribute_account_at(&code.code, account, "2026-08-01T09:00:00Z".parse().ok())
            .await
            .unwrap();
        admin
            .convert_account(account, &plan_code, "2026-08-10T10:00:00Z".parse().ok())
            .await
            .unwrap();
    }
    let s = fin.compute_settlement(a.id, "2026-09").await.unwrap();
    fin.review_settlement(s.id, None).await.unwrap();
    fin.approve_settlement(s.id, None).await.unwrap();
    (p.id, s.id)
}

pub async fn details(fin: &Desk, partner: i64, iban: &str, currency: &str) {
    fin.set_payout_details(
        partner,
        &PayoutDetailsDraft {
            holder: format!("Holder {partner} & Söhne"),
            iban: iban.into(),
            bic: "COBADEFFXXX".into(),
            currency: currency.into(),
        },
    )
    .await
    .unwrap();
}
