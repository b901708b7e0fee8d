//! The database's own grants: a curator's login negotiates end to end; support and read-only
//! logins read threads but the database refuses their writes.

use super::common::TestDb;
use super::offer;
use chrono::{Duration, Utc};
use partnerdesk::domain::Role;
use partnerdesk::domain::contract::BenefitStatus;
use partnerdesk::domain::negotiation::Side;
use partnerdesk::error::DbErrorKind;
use partnerdesk::error::Error;
use partnerdesk::service::negotiations::NewThread;
use partnerdesk::service::{Actor, Desk};
use sqlx::postgres::PgPoolOptions;

/// A login in `group`, dropped at the end; returns its name and a desk on its own connection
/// whose service-level roles allow everything (so only the database decides).
async fn login_desk(db: &TestDb, group: &str) -> (String, Desk) {
    let name = format!(
        "pdn_{group}_{}",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    );
    sqlx::query("SELECT db_login_set_roles($1, $2)")
        .bind(&name)
        .bind(vec![group.to_owned()])
        .execute(&db.pool)
        .await
        .expect("make the login");
    let pool = PgPoolOptions::new()
        .max_connections(2)
        .connect_with(db.login_options(&name).await)
        .await
        .expect("connect as the login");
    (
        name.clone(),
        Desk::new(pool, Actor::operator(&name, &[Role::Admin])),
    )
}

async fn drop_login(db: &TestDb, desk: Desk, name: &str) {
    desk.pool().close().await;
    let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP ROLE IF EXISTS \"{name}\""
    )))
    .execute(&db.pool)
    .await;
}

#[tokio::test]
async fn a_curator_login_negotiates_and_others_only_read() {
    let db = TestDb::new().await;
    let owner = db.curator().await;
    let p = super::common::verified_partner(&owner, "Acme", "acme.example").await;
    let (cur_name, cur) = login_desk(&db, "curator").await;
    let new = NewThread {
        partner_id: p.id,
        deal_id: None,
        subject: "Terms".into(),
        deadline: Some(Utc::now() + Duration::days(5)),
        side: Side::Marketplace,
        message: Some("hello".into()),
        offer: Some(offer(1200)),
    };
    let t = cur.open_negotiation(&new).await.expect("curator opens");
    cur.make_offer(t.id, Side::Partner, &offer(1000), None, Some(1))
        .await
        .expect("curator counters");
    let a = cur
        .accept_offer(t.id, None, None)
        .await
        .expect("curator accepts");
    cur.sign_contract(a.contract.id, Side::Marketplace)
        .await
        .expect("curator signs");
    cur.mark_benefit(a.contract.id, 1, BenefitStatus::Missed, "no slot left")
        .await
        .expect("curator marks a benefit");
    let t2 = cur.open_negotiation(&new).await.unwrap();
    cur.reject_negotiation(t2.id, Side::Partner, "no")
        .await
        .expect("curator rejects");
    assert_eq!(
        cur.expire_due_negotiations(Utc::now() + Duration::days(6))
            .await
            .unwrap(),
        0
    );

    for group in ["support", "finance", "readonly"] {
        let (name, desk) = login_desk(&db, group).await;
        assert_eq!(desk.get_negotiation(t.id).await.unwrap().offers.len(), 2);
        desk.get_contract(a.contract.id).await.unwrap();
        let e = desk.open_negotiation(&new).await.unwrap_err();
        assert!(
            matches!(&e, Error::Database(d) if d.kind == DbErrorKind::Privilege),
            "{group}: {e}"
        );
        drop_login(&db, desk, &name).await;
    }
    drop_login(&db, cur, &cur_name).await;
}

/// Issue 22, item 3: a delivered benefit records when and by whom, set by the database on the
/// move to delivered and never by the statement: the curator's own login, the owner's shared
/// login (the operator it names), and plain SQL on the login.
#[tokio::test]
async fn a_delivered_benefit_records_when_and_by_whom() {
    let db = TestDb::new().await;
    let owner = db.curator().await;
    let p = super::common::verified_partner(&owner, "Acme", "acme.example").await;
    let mut terms = offer(1200);
    for name in ["newsletter", "banner"] {
        terms
            .benefits
            .push(partnerdesk::domain::negotiation::Benefit {
                name: name.into(),
                due: None,
            });
    }
    let t = owner
        .open_negotiation(&NewThread {
            partner_id: p.id,
            deal_id: None,
            subject: "Terms".into(),
            deadline: Some(Utc::now() + Duration::days(5)),
            side: Side::Marketplace,
            message: None,
            offer: Some(terms),
        })
        .await
        .unwrap();
    let c = owner
        .accept_offer(t.id, None, None)
        .await
        .unwrap()
        .contract
        .id;
    let (cur_name, cur) = login_desk(&db, "curator").await;
    let before = Utc::now();

    // Through the product, as the curator's own login.
    cur.mark_benefit(c, 1, BenefitStatus::Delivered, "logo live")
        .await
        .unwrap();
    // Through the product, as the owner's shared login: the operator it names.
    owner
        .mark_benefit(c, 3, BenefitStatus::Delivered, "banner up")
        .await
        .unwrap();
    // By plain SQL on the curator's login: the database sets when and by whom.
    sqlx::query(
        "UPDATE contract_benefits SET status = 'delivered', note = 'sent', updated_at = now(),
                updated_by = $2 WHERE contract_id = $1 AND position = 2",
    )
    .bind(c)
    .bind(&cur_name)
    .execute(cur.pool())
    .await
    .unwrap();
    let v = owner.get_contract(c).await.unwrap();
    let got: Vec<(i32, Option<&str>)> = v
        .benefits
        .iter()
        .map(|b| (b.position, b.delivery().map(|(_, by)| by)))
        .collect();
    assert_eq!(
        got,
        vec![
            (1, Some(cur_name.as_str())),
            (2, Some(cur_name.as_str())),
            (3, Some("cara"))
        ]
    );
    for b in &v.benefits {
        let at = b.delivery().unwrap().0;
        assert!(at >= before && at <= Utc::now(), "{at}");
    }

    // Neither column is the statement's to set; nor is another operator's name.
    for sql in [
        "UPDATE contract_benefits SET delivered_by = 'cara' WHERE contract_id = $1",
        "UPDATE contract_benefits SET delivered_at = now() - interval '1 year' WHERE contract_id = $1",
    ] {
        let e = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(c)
            .execute(cur.pool())
            .await
            .unwrap_err();
        assert_eq!(
            e.as_database_error().and_then(|d| d.code()).as_deref(),
            Some("42501"),
            "{sql}: {e}"
        );
    }
    let e = sqlx::query(
        "UPDATE contract_benefits SET note = 'edited', updated_by = 'cara' WHERE contract_id = $1 AND position = 1",
    )
    .bind(c)
    .execute(cur.pool())
    .await
    .unwrap_err();
    assert_eq!(
        e.as_database_error().map(|d| d.message().to_owned()),
        Some(format!(
            "contract_benefits.updated_by: database login {cur_name} writes as itself (or as system or platform), not as cara"
        ))
    );
    // A delivery is kept when the benefit is written again.
    sqlx::query("UPDATE contract_benefits SET note = 'live since Monday', updated_by = $2 WHERE contract_id = $1 AND position = 1")
        .bind(c)
        .bind(&cur_name)
        .execute(cur.pool())
        .await
        .unwrap();
    let again = owner.get_contract(c).await.unwrap();
    assert_eq!(again.benefits[0].delivery(), v.benefits[0].delivery());
    drop_login(&db, cur, &cur_name).await;
}
