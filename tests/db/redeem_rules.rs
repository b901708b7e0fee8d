//! Recording a redemption: the audience matrix for all five scopes and the window's edges.

use crate::common::*;
use partnerdesk::error::{Error, RedemptionRefusal};

/// (handle, role, institute verified, batch year, chapters, may redeem each of the 5 scopes)
type MemberCase = (
    &'static str,
    &'static str,
    bool,
    Option<i32>,
    &'static [&'static str],
    [bool; 5],
);

#[tokio::test]
async fn every_scope_admits_exactly_the_members_who_can_see_the_deal() {
    let db = TestDb::new().await;
    let desk = db.curator().await;
    let p = verified_partner(&desk, "Scoped", "scoped.example").await;
    let scopes: [(&str, Option<&str>); 5] = [
        ("public", None),
        ("institute", None),
        ("alumni", None),
        ("batch", Some("2019")),
        ("chapter", Some("Berlin")),
    ];
    let mut deals = Vec::new();
    for (i, (scope, value)) in scopes.iter().enumerate() {
        let mut d = coupon_draft(p.id, &format!("S{i}"));
        d.state = Some("active".into());
        d.audience_scope = (*scope).into();
        d.audience_scope_value = value.map(str::to_owned);
        deals.push(desk.create_deal(&d).await.unwrap().id);
    }
    // (handle, role, institute verified, batch, chapters) and which scopes each may redeem.
    let members: [MemberCase; 6] = [
        (
            "guest",
            "public",
            false,
            None,
            &[],
            [true, false, false, false, false],
        ),
        (
            "student",
            "institute",
            true,
            None,
            &["Pune"],
            [true, true, false, false, false],
        ),
        (
            "unverified",
            "institute",
            false,
            None,
            &[],
            [true, false, false, false, false],
        ),
        (
            "alum19",
            "alumni",
            true,
            Some(2019),
            &["Berlin"],
            [true, true, true, true, true],
        ),
        (
            "alum20",
            "alumni",
            false,
            Some(2020),
            &[],
            [true, false, true, false, false],
        ),
        (
            "berliner",
            "public",
            false,
            None,
            &["berlin"],
            [true, false, false, false, true],
        ),
    ];
    let total = members
        .iter()
        .flat_map(|m| m.5)
        .filter(|allowed| *allowed)
        .count() as i64;
    for (handle, role, verified, batch, chapters, allowed) in members {
        let m = member(&db, handle, role, verified, batch, chapters).await;
        for (i, deal) in deals.iter().enumerate() {
            let r = desk.record_redemption(*deal, m, None).await;
            match (allowed[i], r) {
                (true, Ok(row)) => assert_eq!(row.member_id, m),
                (false, Err(Error::Redemption(RedemptionRefusal::NotFound { deal_id }))) => {
                    assert_eq!(deal_id, *deal)
                }
                (want, got) => panic!(
                    "{handle} on {} scope: wanted allowed={want}, got {got:?}",
                    scopes[i].0
                ),
            }
        }
    }
    assert_eq!(db.count("SELECT count(*) FROM redemptions").await, total);
}

#[tokio::test]
async fn only_inside_the_window() {
    let db = TestDb::new().await;
    let desk = db.curator().await;
    let m = member(&db, "pat", "public", false, None, &[]).await;
    let deal = active_deal(&desk, "EDGE").await;
    // Just opened: accepted.
    sqlx::query("UPDATE deals SET valid_from = now() - interval '1 second' WHERE id = $1")
        .bind(deal.id)
        .execute(&db.pool)
        .await
        .unwrap();
    desk.record_redemption(deal.id, m, None).await.unwrap();
    // Not open yet.
    sqlx::query("UPDATE deals SET valid_from = now() + interval '1 minute' WHERE id = $1")
        .bind(deal.id)
        .execute(&db.pool)
        .await
        .unwrap();
    let e = desk.record_redemption(deal.id, m, None).await.unwrap_err();
    assert!(
        matches!(
            e,
            Error::Redemption(RedemptionRefusal::OutsideWindow { .. })
        ),
        "{e:?}"
    );
    assert!(
        e.to_string()
            .starts_with(&format!("outside window: deal {} is valid from", deal.id)),
        "{e}"
    );
    // Ended a moment ago, still active because the expiry job has not run.
    sqlx::query("UPDATE deals SET valid_from = now() - interval '1 day', valid_until = now() - interval '1 millisecond' WHERE id = $1")
        .bind(deal.id)
        .execute(&db.pool)
        .await
        .unwrap();
    let e = desk.record_redemption(deal.id, m, None).await.unwrap_err();
    assert!(
        matches!(
            e,
            Error::Redemption(RedemptionRefusal::OutsideWindow { .. })
        ),
        "{e:?}"
    );
    assert_eq!(
        db.count(&format!(
            "SELECT count(*) FROM redemptions WHERE deal_id = {}",
            deal.id
        ))
        .await,
        1
    );
    assert_eq!(
        db.count(&format!(
            "SELECT redemption_count::bigint FROM deals WHERE id = {}",
            deal.id
        ))
        .await,
        1
    );
}
