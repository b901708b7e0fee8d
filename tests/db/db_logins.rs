//! Issue 11: a person's own database login is its operator (impersonation refused, roles from
//! the database, forged actors refused by the database), the operators' rules (the first is an
//! admin, the last admin stays one, the same roles write nothing), and a read-only connection
//! the console works against without writing.

use crate::common::*;
use crate::db_roles::Login;
use partnerdesk::Error;
use partnerdesk::domain::{FlagKind, Role};
use partnerdesk::service::operators::{Claim, ClaimSource};
use partnerdesk::service::{Actor, Desk};
use partnerdesk::store::partners::PartnerFilter;
use sqlx::postgres::PgPoolOptions;

#[tokio::test]
async fn a_database_login_is_its_operator_with_the_roles_the_database_gives_it() {
    let db = TestDb::new().await;
    // The shared owner session bootstraps an admin with a login of its own.
    let root = Desk::for_operator(db.pool.clone(), "root", false)
        .await
        .unwrap();
    let name = format!(
        "pdt_ada_{}",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    );
    let op = root
        .add_operator_with(&name, "Ada Admin", &[Role::Admin], true)
        .await
        .unwrap();
    assert_eq!(op.roles, vec!["admin"]);
    let ada_login = Login::connect(&db, name.clone()).await;

    // $USER says mallory: a default, not a claim; the session is ada all the same.
    let os_user = Claim {
        login: "mallory".into(),
        source: ClaimSource::OsUser,
    };
    let ada = Desk::identify(ada_login.pool.clone(), &os_user, false)
        .await
        .unwrap();
    assert_eq!(
        ada.actor(),
        &Actor {
            login: name.clone(),
            display_name: "Ada Admin".into(),
            roles: vec![Role::Admin],
            registered: true,
            read_only: false,
        }
    );
    let id = ada.db_identity().await.unwrap();
    assert!(
        id.is_person_login() && !id.superuser && id.roles_set_up,
        "{id:?}"
    );

    // --operator or the config file naming somebody else: refused, one line.
    for (source, flag) in [
        (ClaimSource::Flag, "--operator"),
        (ClaimSource::Config, "the config file's operator"),
    ] {
        let claim = Claim {
            login: "root".into(),
            source,
        };
        let e = Desk::identify(ada_login.pool.clone(), &claim, false)
            .await
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            format!(
                "{flag} root: this session's database login is {name}, so it acts as {name} and no one else (drop {flag}, or connect as root)"
            )
        );
        assert!(matches!(e, Error::Impersonation { .. }));
        assert_eq!(e.exit_code(), 3);
    }
    let e = Desk::for_operator(ada_login.pool.clone(), "root", false)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Impersonation { .. }), "{e:?}");
    // Naming oneself is fine.
    Desk::for_operator(ada_login.pool.clone(), &name, false)
        .await
        .unwrap();

    // Ada registers a curator with a login; the roles come from the database, not the table.
    let cara_name = format!(
        "pdt_cara_{}",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    );
    ada.add_operator_with(&cara_name, "Cara", &[Role::Curator], true)
        .await
        .unwrap();
    let cara_login = Login::connect(&db, cara_name.clone()).await;
    sqlx::query("UPDATE operators SET roles = '{admin}' WHERE login = $1")
        .bind(&cara_name)
        .execute(&db.pool)
        .await
        .unwrap();
    let cara = Desk::identify(cara_login.pool.clone(), &Claim::named(&cara_name), false)
        .await
        .unwrap();
    assert_eq!(
        cara.actor().roles,
        vec![Role::Curator],
        "the database says curator"
    );
    let e = cara
        .add_operator("eve", "Eve", &[Role::Admin])
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Forbidden { .. }), "{e:?}");

    // A forged actor on cara's connection gets past the application's check, not the database's.
    let forged = Desk::new(
        cara_login.pool.clone(),
        Actor::operator(&cara_name, &[Role::Admin]),
    );
    let before = db.audit_count().await;
    let e = forged
        .add_operator("eve", "Eve", &[Role::Admin])
        .await
        .unwrap_err();
    assert_eq!(e.sqlstate(), Some("42501"), "{e:?}");
    let e = forged
        .set_operator_roles(&cara_name, &[Role::Admin], None)
        .await
        .unwrap_err();
    assert_eq!(e.sqlstate(), Some("42501"), "{e:?}");
    assert_eq!(db.audit_count().await, before, "nothing written");
    assert!(ada.get_operator("eve").await.unwrap().is_none());

    // What the curator may do works through the services on its own connection.
    let partner = cara
        .create_partner(&partner_draft("Northwind", "northwind.example"))
        .await
        .unwrap();
    let partner = cara
        .mark_vetted(partner.id, Some(partner.version))
        .await
        .unwrap();
    let mut draft = coupon_draft(partner.id, "CARA1");
    draft.state = Some("active".into());
    let deal = cara.create_deal(&draft).await.unwrap();
    assert_eq!(deal.created_by, cara_name);
    assert_eq!(
        cara.expire_due_deals(chrono::Utc::now() + chrono::Duration::days(60))
            .await
            .unwrap(),
        1
    );

    // set-roles changes the memberships too; the same roles again write nothing.
    ada.set_operator_roles(&cara_name, &[Role::Support], None)
        .await
        .unwrap();
    let cara = Desk::identify(cara_login.pool.clone(), &Claim::named(&cara_name), false)
        .await
        .unwrap();
    assert_eq!(cara.actor().roles, vec![Role::Support]);
    let audits = db.audit_count().await;
    let again = ada
        .set_operator_roles(&cara_name, &[Role::Support], None)
        .await
        .unwrap();
    assert_eq!(
        db.audit_count().await,
        audits,
        "the same roles again: no audit row"
    );
    assert_eq!(again.roles, vec!["support"]);

    // A support login may flag; its own connection cannot change partners.
    let m = member(&db, "mia", "public", false, None, &[]).await;
    let deal = active_deal(&db.admin().await, "SUP1").await;
    let r = ada.record_redemption(deal.id, m, None).await.unwrap();
    cara.flag_redemption(r.id, FlagKind::Fraud, "shared code")
        .await
        .unwrap();
    let forged = Desk::new(
        cara_login.pool.clone(),
        Actor::operator(&cara_name, &[Role::Curator]),
    );
    let e = forged
        .create_partner(&partner_draft("Sneaky", "sneaky.example"))
        .await
        .unwrap_err();
    assert_eq!(e.sqlstate(), Some("42501"), "{e:?}");

    // A superuser, or a login of no group, is not a person's login: the shared set-up.
    assert!(!root.db_identity().await.unwrap().is_person_login());
    drop((ada_login, cara_login));
}

#[tokio::test]
async fn operators_keep_an_admin_the_first_is_an_admin_and_the_same_roles_write_nothing() {
    let db = TestDb::new().await;
    let root = Desk::for_operator(db.pool.clone(), "root", false)
        .await
        .unwrap();
    let e = root
        .add_operator("cara", "Cara", &[Role::Curator])
        .await
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "roles: the first operator of a database must be an admin (add --role admin)"
    );
    assert_eq!(db.count("SELECT count(*) FROM operators").await, 0);
    assert_eq!(db.audit_count().await, 0);
    root.add_operator("ada", "Ada", &[Role::Admin, Role::Curator])
        .await
        .unwrap();
    let ada = Desk::for_operator(db.pool.clone(), "ada", false)
        .await
        .unwrap();

    // The last admin keeps the admin role.
    let e = ada
        .set_operator_roles("ada", &[Role::Curator], None)
        .await
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "ada is the last admin and keeps the admin role: give another operator the admin role first"
    );
    assert_eq!(e.exit_code(), 3);
    assert_eq!(
        ada.get_operator("ada").await.unwrap().unwrap().roles,
        vec!["curator", "admin"]
    );

    // The same roles again (in any order): nothing written, version unchanged.
    let before = ada.get_operator("ada").await.unwrap().unwrap();
    let audits = db.audit_count().await;
    let same = ada
        .set_operator_roles("ada", &[Role::Admin, Role::Curator, Role::Admin], None)
        .await
        .unwrap();
    assert_eq!(same, before);
    assert_eq!(db.audit_count().await, audits);

    // With a second admin, the first may step down.
    ada.add_operator("bob", "Bob", &[Role::Admin])
        .await
        .unwrap();
    let after = ada
        .set_operator_roles("ada", &[Role::Curator], None)
        .await
        .unwrap();
    assert_eq!(after.roles, vec!["curator"]);
    assert_eq!(db.audit_count().await, audits + 2);
    let bob = Desk::for_operator(db.pool.clone(), "bob", false)
        .await
        .unwrap();
    let e = bob
        .set_operator_roles("bob", &[Role::Support], None)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Refused(_)), "{e:?}");
}

/// Drives the console's loads (every pane) against `desk`, answering each effect through the
/// runtime's own `execute`; returns the failures.
async fn console_loads(desk: Desk) -> (Vec<String>, usize) {
    use partnerdesk::console::action::Action;
    use partnerdesk::console::app::{App, Session};
    use partnerdesk::console::keymap::Keymap;
    use partnerdesk::console::msg::{Msg, TaskCtx};
    use partnerdesk::console::panes::PaneId;
    use partnerdesk::console::runtime::execute;
    use partnerdesk::console::theme::Theme;
    let session = Session {
        operator: desk.actor().login.clone(),
        roles: String::new(),
        registered: true,
        read_only: desk.actor().read_only,
        database: "test".into(),
    };
    let mut app = App::new(
        Keymap::builtin(),
        Theme::builtin("default").unwrap(),
        session,
    );
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Msg>();
    let ctx = TaskCtx {
        tx,
        vetting: Default::default(),
        thresholds: Default::default(),
    };
    let mut failures = Vec::new();
    let mut answered = 0;
    let mut effects = app.update(Msg::Connected(desk.clone()));
    for _ in 0..PaneId::ALL.len() {
        let mut rounds = 0;
        while !effects.is_empty() && rounds < 20 {
            rounds += 1;
            let mut next = Vec::new();
            for fx in effects.drain(..) {
                if let Some(msg) = execute(desk.clone(), fx, ctx.clone()).await {
                    answered += 1;
                    if let Some(e) = msg.failure() {
                        failures.push(e.to_string());
                    }
                    next.extend(app.update(msg));
                }
                while let Ok(m) = rx.try_recv() {
                    next.extend(app.update(m));
                }
            }
            effects = next;
        }
        effects = app.perform(Action::NextPane);
    }
    (failures, answered)
}

#[tokio::test]
async fn the_read_only_console_works_on_a_read_only_connection_and_writes_nothing() {
    let db = TestDb::new().await;
    let ada = db.admin().await;
    let deal = active_deal(&ada, "RO1").await;
    let m = member(&db, "mia", "public", false, None, &[]).await;
    ada.record_redemption(deal.id, m, None).await.unwrap();
    // A deal past its window: the expiry job would expire it.
    sqlx::query("UPDATE deals SET valid_from = now() - interval '3 days', valid_until = now() - interval '1 day' WHERE id = $1")
        .bind(deal.id)
        .execute(&db.pool)
        .await
        .unwrap();
    let footprint =
        "SELECT (SELECT count(*) FROM audit_log) * 1000 + (SELECT count(*) FROM outbox_events)
                     + (SELECT count(*) FROM deals WHERE state = 'expired') * 100";
    let before = db.count(footprint).await;

    // Like a hot standby: every transaction read-only.
    let ro_pool = PgPoolOptions::new()
        .max_connections(4)
        .connect_with(
            db.options
                .clone()
                .options([("default_transaction_read_only", "on")]),
        )
        .await
        .unwrap();
    partnerdesk::store::migrate::ensure_current(&ro_pool)
        .await
        .unwrap();
    for (login, read_only) in [("ada", true), ("nobody", false)] {
        let desk = Desk::for_operator(ro_pool.clone(), login, read_only)
            .await
            .unwrap();
        assert!(desk.actor().read_only && !desk.actor().may_run_jobs());
        let (failures, answered) = console_loads(desk.clone()).await;
        // An unregistered operator is told it may not see redemptions; nothing else fails
        // (no write refused by the read-only connection).
        let failures: Vec<&String> = failures
            .iter()
            .filter(|f| !f.contains("is not a registered operator"))
            .collect();
        assert!(failures.is_empty(), "{login}: {failures:?}");
        assert!(
            answered >= 4,
            "{login}: the panes loaded ({answered} answers)"
        );
        // The expiry job is not run for it, and the service refuses it too.
        let ctx_less = partnerdesk::console::runtime::execute(
            desk.clone(),
            partnerdesk::console::msg::Effect::ExpiryJob,
            partnerdesk::console::msg::TaskCtx {
                tx: tokio::sync::mpsc::unbounded_channel().0,
                vetting: Default::default(),
                thresholds: Default::default(),
            },
        )
        .await;
        assert!(ctx_less.is_none(), "{login}: the expiry job ran");
        assert!(desk.expire_due_deals(chrono::Utc::now()).await.is_err());
        let listed = desk
            .list_partners(&PartnerFilter::default(), 10)
            .await
            .unwrap();
        assert_eq!(listed.len(), 1);
    }
    // On the read-write pool too, a read-only or unregistered session never runs the job.
    for (login, read_only) in [("ada", true), ("nobody", false)] {
        let desk = Desk::for_operator(db.pool.clone(), login, read_only)
            .await
            .unwrap();
        let e = desk.expire_due_deals(chrono::Utc::now()).await.unwrap_err();
        assert!(
            matches!(e, Error::ReadOnly { .. } | Error::NotRegistered { .. }),
            "{e:?}"
        );
    }
    assert_eq!(db.count(footprint).await, before, "nothing written");
    // The admin's own session runs it.
    assert_eq!(ada.expire_due_deals(chrono::Utc::now()).await.unwrap(), 1);
}
