//! The referral program (issue 14): tokens kept only as hashes, claims exactly once, expiry,
//! first-touch attribution, rule precedence, payout rounding, idempotent conversion, and
//! payouts as lines of the partner's settlement.

use super::cli::pd;
use super::{Fixture, percentage};
use partnerdesk::domain::Role;
use partnerdesk::domain::referral::{PlanDraft, token_hash};
use partnerdesk::service::Desk;
use serde_json::Value;

/// Adds plan `code` ("Plan CODE") at `price` a month.
pub(super) async fn plan(admin: &Desk, code: &str, price: &str, currency: &str) {
    admin
        .add_plan(&PlanDraft {
            code: code.into(),
            name: format!("Plan {code}"),
            price: price.into(),
            currency: currency.into(),
        })
        .await
        .unwrap();
}

#[tokio::test]
async fn the_database_never_holds_a_token_and_a_thousand_claims_give_one_success() {
    let f = Fixture::new().await;
    let admin = f.db.admin().await;
    plan(&admin, "pro", "19.90", "EUR").await;
    let t = admin
        .issue_claim_token(f.partner_id, "pro", None, None)
        .await
        .unwrap();
    assert!(t.token.len() >= 4 + 22, "at least 128 bits: {}", t.token);
    // Nothing in the row (nor the audit log, nor the outbox) contains the token.
    for table in ["claim_tokens", "audit_log", "outbox_events"] {
        let n =
            f.db.count(&format!(
                "SELECT count(*) FROM {table} x WHERE x::text LIKE '%{}%'",
                &t.token[4..]
            ))
            .await;
        assert_eq!(n, 0, "{table} holds the token");
    }
    let stored: String = sqlx::query_scalar("SELECT token_hash FROM claim_tokens")
        .fetch_one(&f.db.pool)
        .await
        .unwrap();
    assert_eq!(stored, token_hash(&t.token));
    assert_eq!(t.record.last4, t.token[t.token.len() - 4..]);

    let mut tasks = Vec::new();
    for account in 1..=1000i64 {
        let desk = admin.clone();
        let token = t.token.clone();
        tasks.push(tokio::spawn(async move {
            desk.claim_token(&token, account, None).await
        }));
    }
    let mut won = Vec::new();
    for task in tasks {
        match task.await.unwrap() {
            Ok(a) => won.push(a.account_id),
            Err(e) => assert!(e.to_string().contains("was claimed already"), "{e}"),
        }
    }
    assert_eq!(won.len(), 1, "exactly one claim succeeds");
    assert_eq!(
        f.db.count("SELECT count(*) FROM referral_accounts").await,
        1
    );
    let claimed: i64 = sqlx::query_scalar("SELECT claimed_account FROM claim_tokens")
        .fetch_one(&f.db.pool)
        .await
        .unwrap();
    assert_eq!(claimed, won[0]);
}

#[tokio::test]
async fn expired_revoked_unknown_and_wrong_email_tokens_are_refused_with_their_reason() {
    let f = Fixture::new().await;
    let admin = f.db.admin().await;
    plan(&admin, "pro", "19.90", "EUR").await;
    let e = admin.claim_token("pdc_nothing", 5, None).await.unwrap_err();
    assert_eq!(e.to_string(), "unknown claim token");

    // Expiry edges: one second left claims; past the expiry (set in the database) refuses.
    let soon = chrono::Utc::now() + chrono::Duration::seconds(60);
    let t = admin
        .issue_claim_token(f.partner_id, "pro", Some("Ana@Example.org"), Some(soon))
        .await
        .unwrap();
    sqlx::query(
        "UPDATE claim_tokens SET expires_at = now() - interval '1 millisecond' WHERE id = $1",
    )
    .bind(t.record.id)
    .execute(&f.db.pool)
    .await
    .unwrap();
    let e = admin
        .claim_token(&t.token, 5, Some("ana@example.org"))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("expired at"), "{e}");
    sqlx::query("UPDATE claim_tokens SET expires_at = now() + interval '1 second' WHERE id = $1")
        .bind(t.record.id)
        .execute(&f.db.pool)
        .await
        .unwrap();
    let e = admin.claim_token(&t.token, 5, None).await.unwrap_err();
    assert!(
        e.to_string()
            .contains("meant for another e-mail address (give --email)"),
        "{e}"
    );
    let e = admin
        .claim_token(&t.token, 5, Some("bob@example.org"))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("meant for another e-mail"), "{e}");
    // The e-mail matches whatever its case.
    admin
        .claim_token(&t.token, 5, Some("ANA@example.org"))
        .await
        .unwrap();

    let r = admin
        .issue_claim_token(f.partner_id, "pro", None, None)
        .await
        .unwrap();
    admin.revoke_claim_token(r.record.id).await.unwrap();
    let e = admin.claim_token(&r.token, 6, None).await.unwrap_err();
    assert!(e.to_string().contains("was revoked"), "{e}");
    // A token in the past is refused when made.
    let e = admin
        .issue_claim_token(
            f.partner_id,
            "pro",
            None,
            Some(chrono::Utc::now() - chrono::Duration::seconds(1)),
        )
        .await
        .unwrap_err();
    assert_eq!(e.to_string(), "expires: must be in the future");
}

#[tokio::test]
async fn first_touch_wins_even_when_partners_race() {
    let f = Fixture::new().await;
    let admin = f.db.admin().await;
    let mut codes = Vec::new();
    for i in 0..12 {
        let d = super::common::active_deal(&admin, &format!("REF{i}")).await;
        codes.push(
            admin
                .add_referral_code(d.partner_id, Some(&format!("ref-code-{i}")))
                .await
                .unwrap()
                .code,
        );
    }
    let mut tasks = Vec::new();
    for c in codes {
        let desk = admin.clone();
        tasks.push(tokio::spawn(async move {
            desk.attribute_account(&c, 4242).await
        }));
    }
    let mut ok = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => ok += 1,
            Err(e) => assert!(
                e.to_string()
                    .contains("account 4242 is attributed already to partner"),
                "{e}"
            ),
        }
    }
    assert_eq!(ok, 1);
    // Codes are unique whatever the case.
    let e = admin
        .add_referral_code(f.partner_id, Some("REF-CODE-3"))
        .await
        .unwrap_err();
    assert!(
        e.to_string().starts_with("code: 'REF-CODE-3' is taken"),
        "{e}"
    );
}

#[tokio::test]
async fn a_plan_rule_overrides_the_default_and_payouts_round_half_away_from_zero() {
    let f = Fixture::new().await;
    let admin = f.db.admin().await;
    plan(&admin, "pro", "99.00", "EUR").await;
    plan(&admin, "basic", "10.10", "EUR").await;
    plan(&admin, "tokyo", "990", "JPY").await;
    let code = admin.add_referral_code(f.partner_id, None).await.unwrap();
    assert!(code.is_default);
    // Default 5%; pro has its own flat 3.00, lower than 5% of 99.00 — it still wins.
    admin
        .set_commission_rule(f.partner_id, None, Some(500), None, None)
        .await
        .unwrap();
    admin
        .set_commission_rule(f.partner_id, Some("pro"), None, Some("3.00"), Some("EUR"))
        .await
        .unwrap();
    admin
        .set_commission_rule(f.partner_id, Some("tokyo"), Some(1500), None, None)
        .await
        .unwrap();
    for account in [1, 2, 3] {
        admin.attribute_account(&code.code, account).await.unwrap();
    }
    let pro = admin.convert_account(1, "pro", None).await.unwrap();
    assert_eq!(
        (pro.payout.amount_minor, pro.payout.rule_scope.as_str()),
        (300, "plan")
    );
    // 10.10 × 5% = 0.505 → 0.51 (half to even would give 0.50).
    let basic = admin.convert_account(2, "basic", None).await.unwrap();
    assert_eq!(
        (basic.payout.amount_minor, basic.payout.rule_scope.as_str()),
        (51, "default")
    );
    // ¥990 × 15% = 148.5 → ¥149.
    let jpy = admin.convert_account(3, "tokyo", None).await.unwrap();
    assert_eq!(jpy.payout.amount_minor, 149);
    // An unattributed account, and bad rules, are refused with their reason.
    let e = admin.convert_account(9, "pro", None).await.unwrap_err();
    assert_eq!(e.to_string(), "account 9 is not attributed to any partner");
    let e = admin
        .set_commission_rule(f.partner_id, None, Some(500), Some("1.00"), Some("EUR"))
        .await
        .unwrap_err();
    assert!(
        e.to_string().starts_with("rule: give either basis points"),
        "{e}"
    );
}

#[tokio::test]
async fn converting_again_or_at_once_makes_one_payout() {
    let f = Fixture::new().await;
    let admin = f.db.admin().await;
    plan(&admin, "pro", "19.90", "EUR").await;
    let code = admin.add_referral_code(f.partner_id, None).await.unwrap();
    admin
        .set_commission_rule(f.partner_id, None, Some(1250), None, None)
        .await
        .unwrap();
    admin.attribute_account(&code.code, 7).await.unwrap();
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let desk = admin.clone();
        tasks.push(tokio::spawn(async move {
            desk.convert_account(7, "pro", None).await
        }));
    }
    let mut created = 0;
    for t in tasks {
        let c = t.await.unwrap().unwrap();
        // 19.90 × 12.5% = 2.4875 → 2.49
        assert_eq!(c.payout.amount_minor, 249);
        created += usize::from(c.created);
    }
    assert_eq!(created, 1);
    assert_eq!(f.db.count("SELECT count(*) FROM referral_payouts").await, 1);
    assert_eq!(
        f.db.count("SELECT count(*) FROM outbox_events WHERE event_type = 'payout.created'")
            .await,
        1
    );
    let again = admin.convert_account(7, "pro", None).await.unwrap();
    assert!(!again.created);
}

#[tokio::test]
async fn payouts_are_lines_the_marketplace_owes_in_the_settlement() {
    let f = Fixture::new().await;
    f.no_holding().await;
    let admin = f.db.admin().await;
    plan(&admin, "pro", "19.90", "EUR").await;
    plan(&admin, "usd", "20.00", "USD").await;
    let code = admin.add_referral_code(f.partner_id, None).await.unwrap();
    admin
        .set_commission_rule(f.partner_id, None, Some(1250), None, None)
        .await
        .unwrap();
    let at = |s: &str| Some(s.parse().unwrap());
    // Registered in August (reported late), before the conversions below.
    for account in [11, 12, 13] {
        admin
            .attribute_account_at(&code.code, account, at("2026-08-20T09:00:00Z"))
            .await
            .unwrap();
    }
    admin
        .convert_account(11, "pro", at("2026-09-10T10:00:00Z"))
        .await
        .unwrap();
    admin
        .convert_account(12, "usd", at("2026-09-11T10:00:00Z"))
        .await
        .unwrap();
    // October's: not in September's statement.
    admin
        .convert_account(13, "pro", at("2026-10-01T00:00:00Z"))
        .await
        .unwrap();
    let a = f.agreement(percentage(1000, "EUR"), "2026-09-01").await;
    f.redemption("2026-09-05T10:00:00Z", Some((5000, "EUR")))
        .await;
    let s = f.finance.compute_settlement(a.id, "2026-09").await.unwrap();
    // Commission 50.00 × 10% = 5.00; payouts 2.49 (the USD one is an exception); net 2.51.
    assert_eq!(
        (
            s.commission_minor,
            s.payouts_minor,
            s.net_minor,
            s.take_minor
        ),
        (500, 249, 251, 75)
    );
    assert_eq!(s.exception_count, 1);
    // Each payout says which statement it is on; October's is on none yet.
    let on: Vec<(i64, Option<i64>)> = admin
        .referral_payouts(f.partner_id, 10)
        .await
        .unwrap()
        .iter()
        .map(|p| (p.account_id, p.settlement_id))
        .collect();
    assert_eq!(on, [(13, None), (12, Some(s.id)), (11, Some(s.id))]);
    let lines = f.lines(s.id).await;
    let kinds: Vec<(String, Option<i64>)> = super::amounts(&lines);
    assert_eq!(
        kinds,
        [
            ("redemption".into(), Some(500)),
            ("referral".into(), Some(249)),
            ("exception".into(), None),
        ]
    );
    // In the JSON and CSV statements, the payout is the line's source.
    let out = pd(
        Some(&f.db),
        "fin",
        &["settle", "show", &s.id.to_string(), "--json"],
    );
    out.success();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["totals"]["payouts"], "2.49");
    assert_eq!(v["totals"]["net"], "2.51");
    assert_eq!(v["lines"][1]["kind"], "referral");
    assert_eq!(v["lines"][1]["value"], "19.90");
    assert_eq!(v["lines"][1]["amount"], "2.49");
    let payout_id: i64 =
        sqlx::query_scalar("SELECT id FROM referral_payouts WHERE account_id = 11")
            .fetch_one(&f.db.pool)
            .await
            .unwrap();
    assert_eq!(v["lines"][1]["source_id"], payout_id);
    // Approving writes the net to the ledger.
    f.finance
        .review_settlement(s.id, Some("USD payout settled apart"))
        .await
        .unwrap();
    f.finance.approve_settlement(s.id, None).await.unwrap();
    assert_eq!(
        f.db.count("SELECT amount_minor FROM payout_ledger WHERE kind = 'approval'")
            .await,
        251
    );
}

#[tokio::test]
async fn the_cli_prints_a_token_once_and_finance_only_reads() {
    let f = Fixture::new().await;
    let admin = f.db.admin().await;
    plan(&admin, "pro", "19.90", "EUR").await;
    let pid = f.partner_id.to_string();
    let out = pd(
        Some(&f.db),
        "ada",
        &["referrals", "token", "--partner", &pid, "--plan", "pro"],
    );
    out.success();
    let token = out.stdout_lines()[0].clone();
    assert!(token.starts_with("pdc_"), "{out}");
    assert!(out.stdout_text().contains("shown this once"), "{out}");
    let out = pd(
        Some(&f.db),
        "ada",
        &["referrals", "show", "--partner", &pid],
    );
    out.success();
    assert!(!out.stdout_text().contains(&token[4..]), "{out}");
    assert!(
        out.stdout_text().contains(&token[token.len() - 4..]),
        "{out}"
    );
    // A curator may not record a claim: the refusal names what claiming is and who may.
    f.db.curator().await;
    let out = pd(
        Some(&f.db),
        "cara",
        &["referrals", "claim", &token, "--account", "30"],
    );
    assert_eq!(
        out.error_line(3),
        "cara may not record referral claims, attributions and conversions for the platform: it needs the admin role"
    );
    assert_eq!(
        f.db.count("SELECT count(*) FROM claim_tokens WHERE claimed_at IS NOT NULL")
            .await,
        0
    );
    let out = pd(
        Some(&f.db),
        "ada",
        &["referrals", "claim", &token, "--account", "31"],
    );
    out.success();
    let out = pd(
        Some(&f.db),
        "ada",
        &["referrals", "claim", &token, "--account", "32"],
    );
    assert!(
        out.error_line(3)
            .contains("was claimed already (account 31"),
        "{out}"
    );
    let fin = f.db.desk("fin", &[Role::Finance]).await;
    assert!(fin.referral_view(f.partner_id).await.is_ok());
    let out = pd(
        Some(&f.db),
        "fin",
        &["referrals", "code", "--partner", &pid],
    );
    assert_eq!(
        out.code, 3,
        "finance reads, curators and admins manage:{out}"
    );
}

/// A conversion comes after its attribution: dated before it, it is refused with the field
/// named, by the service and (as the admin's own login, by plain SQL) by the database, and
/// nothing is written.
#[tokio::test]
async fn a_conversion_before_its_attribution_is_refused() {
    let f = Fixture::new().await;
    let admin = f.db.admin().await;
    plan(&admin, "pro", "99.00", "EUR").await;
    let code = admin.add_referral_code(f.partner_id, None).await.unwrap();
    admin
        .set_commission_rule(f.partner_id, None, Some(500), None, None)
        .await
        .unwrap();
    admin.attribute_account(&code.code, 41).await.unwrap();
    let attributed: chrono::DateTime<chrono::Utc> =
        sqlx::query_scalar("SELECT attributed_at FROM referral_accounts WHERE account_id = 41")
            .fetch_one(&f.db.pool)
            .await
            .unwrap();
    let before = attributed - chrono::Duration::days(2);
    let e = admin
        .convert_account(41, "pro", Some(before))
        .await
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "at: is before account 41's attribution ({}): a conversion comes after it",
            attributed.format("%Y-%m-%d %H:%M:%S UTC")
        )
    );
    let (login, _) = crate::common::person(&f.db, &["admin"]).await;
    let got = crate::common::try_sql(
        &login.pool,
        &format!(
            "INSERT INTO referral_payouts (account_id, partner_id, plan_id, rule_id, rule_scope, bps,
                 price_minor, currency, amount_minor, converted_at, created_by)
             SELECT 41, {p}, pl.id, r.id, 'default', 500, 9900, 'EUR', 495, now() - interval '2 days', session_user
               FROM plans pl, commission_rules r WHERE pl.code = 'pro' AND r.partner_id = {p}",
            p = f.partner_id
        ),
    )
    .await;
    let e = got.unwrap_err();
    assert!(
        e.starts_with("PDR01 referral payout: account 41 converted at ")
            && e.contains("is before its attribution at"),
        "{e}"
    );
    assert_eq!(f.db.count("SELECT count(*) FROM referral_payouts").await, 0);
    // After it, the conversion is taken.
    admin
        .convert_account(41, "pro", Some(attributed + chrono::Duration::minutes(1)))
        .await
        .unwrap();
    assert_eq!(f.db.count("SELECT count(*) FROM referral_payouts").await, 1);
}
