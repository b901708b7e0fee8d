//! SPEC §1.1 at the service level: the role matrix, read-only sessions, and the bootstrap of
//! the very first operator.

use crate::common::*;
use partnerdesk::Error;
use partnerdesk::domain::{DealState, Role};
use partnerdesk::service::{Actor, Desk};
use partnerdesk::store::partners::PartnerFilter;

/// Rows that the use cases below could write.
async fn footprint(db: &TestDb) -> (i64, i64, i64, i64, i64) {
    (
        db.count("SELECT count(*) FROM partners").await,
        db.count("SELECT count(*) FROM deals").await,
        db.count("SELECT count(*) FROM operators").await,
        db.audit_count().await,
        db.count("SELECT count(*) FROM outbox_events").await,
    )
}

#[tokio::test]
async fn the_role_matrix_holds_for_partners_deals_and_operators() {
    let db = TestDb::new().await;
    let ada = db.admin().await;
    let p = verified_partner(&ada, "Northwind", "northwind.example").await;

    // (role, [create_partner, create_deal, add_operator])
    let table = [
        (Role::Curator, [true, true, false]),
        (Role::Support, [false, false, false]),
        (Role::Finance, [false, false, false]),
        (Role::Admin, [true, true, true]),
    ];
    for (role, [may_partner, may_deal, may_operator]) in table {
        // The same login "sam", registered with just this role, looked up as the console does.
        db.desk("sam", &[role]).await;
        let sam = Desk::for_operator(db.pool.clone(), "sam", false)
            .await
            .unwrap();
        assert_eq!(sam.actor().roles, vec![role]);
        assert!(sam.actor().registered && !sam.actor().read_only);

        let before = footprint(&db).await;
        let domain = format!("{role}.example");
        let res = sam
            .create_partner(&partner_draft(&format!("By {role}"), &domain))
            .await;
        if may_partner {
            let made = res.unwrap_or_else(|e| panic!("{role} may create partners: {e}"));
            assert_eq!(made.created_by, "sam");
            assert_eq!(
                db.count(&format!(
                    "SELECT count(*) FROM partners WHERE domain = '{domain}'"
                ))
                .await,
                1
            );
        } else {
            let e = res.expect_err(&format!("{role} may not create partners"));
            assert_eq!(
                e.to_string(),
                "sam may not manage partners: it needs the curator or admin role"
            );
            assert!(
                matches!(&e, Error::Forbidden { login, needs, .. } if login == "sam" && needs == "curator or admin")
            );
            assert_eq!(
                footprint(&db).await,
                before,
                "{role}: refused, nothing written"
            );
        }

        let before = footprint(&db).await;
        let code = format!("CODE{}", role.as_str().to_ascii_uppercase());
        let res = sam.create_deal(&coupon_draft(p.id, &code)).await;
        if may_deal {
            let made = res.unwrap_or_else(|e| panic!("{role} may create deals: {e}"));
            assert_eq!(made.created_by, "sam");
            assert_eq!(sam.get_deal(made.id).await.unwrap(), made);
        } else {
            let e = res.expect_err(&format!("{role} may not create deals"));
            assert_eq!(
                e.to_string(),
                "sam may not author and change deals: it needs the curator or admin role"
            );
            assert!(matches!(e, Error::Forbidden { .. }));
            assert_eq!(
                footprint(&db).await,
                before,
                "{role}: refused, nothing written"
            );
        }

        let before = footprint(&db).await;
        let login = format!("new_{role}");
        let res = sam.add_operator(&login, "Newcomer", &[Role::Support]).await;
        if may_operator {
            let made = res.unwrap_or_else(|e| panic!("{role} may add operators: {e}"));
            assert_eq!(made.updated_by, "sam");
            assert!(ada.get_operator(&login).await.unwrap().is_some());
        } else {
            let e = res.expect_err(&format!("{role} may not add operators"));
            assert_eq!(
                e.to_string(),
                "sam may not register operators and change roles: it needs the admin role"
            );
            assert!(matches!(e, Error::Forbidden { .. }));
            assert_eq!(
                footprint(&db).await,
                before,
                "{role}: refused, nothing written"
            );
            assert!(ada.get_operator(&login).await.unwrap().is_none());
        }
    }

    // Several roles: any granting one will do; none granting it is still refused.
    db.desk("sam", &[Role::Support, Role::Finance]).await;
    let sam = Desk::for_operator(db.pool.clone(), "sam", false)
        .await
        .unwrap();
    let e = sam
        .create_partner(&partner_draft("Mixed", "mixed.example"))
        .await
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "sam may not manage partners: it needs the curator or admin role"
    );
    db.desk("sam", &[Role::Finance, Role::Curator]).await;
    let sam = Desk::for_operator(db.pool.clone(), "sam", false)
        .await
        .unwrap();
    sam.create_partner(&partner_draft("Mixed", "mixed.example"))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_read_only_session_may_read_but_not_change_anything() {
    let db = TestDb::new().await;
    let ada = db.admin().await;
    let p = verified_partner(&ada, "Northwind", "northwind.example").await;
    let deal = ada.create_deal(&coupon_draft(p.id, "KEEP1")).await.unwrap();

    let ro = Desk::for_operator(db.pool.clone(), "ada", true)
        .await
        .unwrap();
    assert_eq!(
        ro.actor(),
        &Actor {
            login: "ada".into(),
            display_name: "ada".into(),
            roles: vec![Role::Admin],
            registered: true,
            read_only: true,
        }
    );
    let before = footprint(&db).await;
    let partners = "read-only: manage partners is not available in a read-only session";
    let deals = "read-only: author and change deals is not available in a read-only session";
    let operators =
        "read-only: register operators and change roles is not available in a read-only session";

    let refusals: Vec<(&str, Error)> = vec![
        (
            partners,
            ro.create_partner(&partner_draft("New", "new.example"))
                .await
                .unwrap_err(),
        ),
        (
            partners,
            ro.update_partner(
                p.id,
                p.version,
                &partner_draft("Renamed", "northwind.example"),
            )
            .await
            .unwrap_err(),
        ),
        (
            partners,
            ro.disable_partner(p.id, None, None).await.unwrap_err(),
        ),
        (
            partners,
            ro.delete_partner(p.id, None, None).await.unwrap_err(),
        ),
        (partners, ro.offboard_partner(p.id, None).await.unwrap_err()),
        (
            deals,
            ro.create_deal(&coupon_draft(p.id, "NEW1"))
                .await
                .unwrap_err(),
        ),
        (
            deals,
            ro.change_deal_state(deal.id, None, DealState::Active, None)
                .await
                .unwrap_err(),
        ),
        (
            operators,
            ro.add_operator("olga", "Olga", &[Role::Support])
                .await
                .unwrap_err(),
        ),
        (
            operators,
            ro.set_operator_roles("ada", &[Role::Curator], None)
                .await
                .unwrap_err(),
        ),
    ];
    for (i, (want, e)) in refusals.iter().enumerate() {
        assert_eq!(e.to_string(), *want, "refusal #{i}");
        assert!(matches!(e, Error::ReadOnly { .. }), "refusal #{i}: {e:?}");
    }
    assert_eq!(
        footprint(&db).await,
        before,
        "a read-only session wrote something"
    );

    // Reading works.
    assert_eq!(ro.get_partner(p.id).await.unwrap(), p);
    assert_eq!(ro.get_deal(deal.id).await.unwrap(), deal);
    let listed = ro
        .list_partners(&PartnerFilter::default(), 10)
        .await
        .unwrap();
    assert_eq!(listed.iter().map(|r| r.id).collect::<Vec<_>>(), vec![p.id]);

    // An unknown login: not registered, read-only, no roles; told it is not registered.
    let nobody = Desk::for_operator(db.pool.clone(), "nobody", false)
        .await
        .unwrap();
    assert_eq!(
        nobody.actor(),
        &Actor {
            login: "nobody".into(),
            display_name: "nobody".into(),
            roles: vec![],
            registered: false,
            read_only: true,
        }
    );
    let e = nobody
        .create_partner(&partner_draft("New", "new.example"))
        .await
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "nobody is not a registered operator, so may not manage partners: it needs the curator \
         or admin role (an admin can run: partnerdesk operators add nobody --role curator)"
    );
    assert!(
        matches!(&e, Error::NotRegistered { login, .. } if login == "nobody"),
        "{e:?}"
    );
    let e = nobody
        .add_operator("olga", "Olga", &[Role::Support])
        .await
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "nobody is not a registered operator, so may not register operators and change roles: \
         it needs the admin role (an admin can run: partnerdesk operators add nobody --role admin)"
    );
    assert!(matches!(e, Error::NotRegistered { .. }), "{e:?}");
    assert_eq!(footprint(&db).await, before);
    assert_eq!(nobody.get_partner(p.id).await.unwrap(), p);
}

#[tokio::test]
async fn the_first_operator_bootstraps_then_only_admins_register() {
    let db = TestDb::new().await;
    assert_eq!(db.count("SELECT count(*) FROM operators").await, 0);

    let root = Desk::for_operator(db.pool.clone(), "root", false)
        .await
        .unwrap();
    assert!(!root.actor().registered && root.actor().read_only);
    let ada = root
        .add_operator("ada", "Ada Admin", &[Role::Admin])
        .await
        .unwrap();
    assert_eq!(ada.roles, vec!["admin".to_owned()]);
    assert_eq!(ada.updated_by, "root");
    let (actor, action, entity_id): (String, String, String) =
        sqlx::query_as("SELECT actor, action, entity_id FROM audit_log")
            .fetch_one(&db.pool)
            .await
            .unwrap();
    assert_eq!(
        (actor.as_str(), action.as_str(), entity_id.as_str()),
        ("root", "operator.register", "ada")
    );

    // The bootstrap is over: the unregistered session is told it is not registered.
    let e = root
        .add_operator("eve", "Eve", &[Role::Admin])
        .await
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "root is not a registered operator, so may not register operators and change roles: \
         it needs the admin role (an admin can run: partnerdesk operators add root --role admin)"
    );
    assert!(matches!(e, Error::NotRegistered { .. }), "{e:?}");

    // The new admin registers a curator; the curator may not register anybody.
    let ada = Desk::for_operator(db.pool.clone(), "ada", false)
        .await
        .unwrap();
    assert_eq!(ada.actor().roles, vec![Role::Admin]);
    ada.add_operator("cara", "Cara Curator", &[Role::Curator])
        .await
        .unwrap();
    let cara = Desk::for_operator(db.pool.clone(), "cara", false)
        .await
        .unwrap();
    let e = cara
        .add_operator("eve", "Eve", &[Role::Admin])
        .await
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "cara may not register operators and change roles: it needs the admin role"
    );
    assert!(matches!(e, Error::Forbidden { .. }));
    let e = cara
        .set_operator_roles("cara", &[Role::Admin], None)
        .await
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "cara may not register operators and change roles: it needs the admin role"
    );

    let logins: Vec<String> = ada
        .list_operators()
        .await
        .unwrap()
        .into_iter()
        .map(|o| o.login)
        .collect();
    assert_eq!(logins, vec!["ada".to_owned(), "cara".to_owned()]);
    assert_eq!(
        ada.get_operator("cara").await.unwrap().unwrap().roles,
        vec!["curator".to_owned()]
    );
    assert_eq!(db.audit_count().await, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_bootstraps_at_once_register_exactly_one_operator() {
    let db = TestDb::new().await;
    let a = Desk::for_operator(db.pool.clone(), "first", false)
        .await
        .unwrap();
    let b = Desk::for_operator(db.pool.clone(), "second", false)
        .await
        .unwrap();
    let (ra, rb) = tokio::join!(
        a.add_operator("ada", "Ada", &[Role::Admin]),
        b.add_operator("bob", "Bob", &[Role::Admin]),
    );
    let (winner, err) = match (ra, rb) {
        (Ok(w), Err(e)) | (Err(e), Ok(w)) => (w, e),
        other => panic!("expected exactly one bootstrap, got {other:?}"),
    };
    let loser = if winner.login == "ada" {
        "second"
    } else {
        "first"
    };
    assert!(
        matches!(&err, Error::NotRegistered { login, .. } if login == loser),
        "{err:?}"
    );
    let logins: Vec<String> = sqlx::query_scalar("SELECT login FROM operators")
        .fetch_all(&db.pool)
        .await
        .unwrap();
    assert_eq!(logins, vec![winner.login.clone()]);
    assert_eq!(db.audit_count().await, 1);
}
