//! SPEC §1.2: every mutation writes exactly one audit row in its own transaction; the
//! database keeps the log append-only.

use crate::common::*;
use partnerdesk::Error;
use partnerdesk::domain::{DealState, Role};
use partnerdesk::store::audit::AuditEntry;
use serde_json::{Value, json};

async fn last_audit_id(db: &TestDb) -> i64 {
    db.count("SELECT coalesce(max(id), 0) FROM audit_log").await
}

async fn audit_since(db: &TestDb, after_id: i64) -> Vec<AuditEntry> {
    sqlx::query_as(
        "SELECT id, at, actor, action, entity_type, entity_id, before, after, reason
           FROM audit_log WHERE id > $1 ORDER BY id",
    )
    .bind(after_id)
    .fetch_all(&db.pool)
    .await
    .unwrap()
}

/// Exactly one audit row since `after_id`, with this actor, action and entity.
async fn one_row(
    db: &TestDb,
    after_id: i64,
    actor: &str,
    action: &str,
    entity_type: &str,
    entity_id: impl ToString,
) -> AuditEntry {
    let mut rows = audit_since(db, after_id).await;
    assert_eq!(
        rows.len(),
        1,
        "{action}: expected one audit row, got {rows:#?}"
    );
    let row = rows.remove(0);
    assert_eq!(
        (
            row.actor.as_str(),
            row.action.as_str(),
            row.entity_type.as_str(),
            row.entity_id.clone()
        ),
        (actor, action, entity_type, entity_id.to_string()),
    );
    row
}

/// The log and the outbox are exactly as they were.
async fn nothing_written(db: &TestDb, snapshot: &str, events: i64, what: &str) {
    assert_eq!(audit_snapshot(db).await, snapshot, "{what} wrote audit");
    assert_eq!(
        db.count("SELECT count(*) FROM outbox_events").await,
        events,
        "{what} wrote an event"
    );
}

fn js<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap()
}

/// The whole log, as the database holds it.
async fn audit_snapshot(db: &TestDb) -> String {
    sqlx::query_scalar("SELECT coalesce(json_agg(a ORDER BY id)::text, '[]') FROM audit_log a")
        .fetch_one(&db.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn every_partner_mutation_writes_one_audit_row_with_before_and_after() {
    let db = TestDb::new().await;
    let cara = db.curator().await;
    let ada = db.admin().await;

    let mark = last_audit_id(&db).await;
    let created = cara
        .create_partner(&partner_draft("Northwind", "northwind.example"))
        .await
        .unwrap();
    let row = one_row(&db, mark, "cara", "partner.create", "partner", created.id).await;
    assert_eq!(row.before, None);
    assert_eq!(row.after, Some(js(&created)));
    assert_eq!(row.reason, None);

    let mark = last_audit_id(&db).await;
    let mut edit = partner_draft("Northwind Outfitters", "northwind.example");
    edit.region = Some("US".into());
    let updated = cara
        .update_partner(created.id, created.version, &edit)
        .await
        .unwrap();
    let row = one_row(&db, mark, "cara", "partner.update", "partner", created.id).await;
    let (before, after) = (row.before.unwrap(), row.after.unwrap());
    assert_eq!(before, js(&created), "before is the old record");
    assert_eq!(after, js(&updated), "after is the new record");
    assert_eq!(
        (&before["display_name"], &after["display_name"]),
        (&json!("Northwind"), &json!("Northwind Outfitters"))
    );
    assert_eq!(
        (&before["region"], &after["region"]),
        (&json!("EU"), &json!("US"))
    );
    assert_eq!(
        (&before["version"], &after["version"]),
        (&json!(1), &json!(2))
    );

    let mark = last_audit_id(&db).await;
    let vetted = ada
        .mark_vetted(created.id, Some(updated.version))
        .await
        .unwrap();
    let row = one_row(&db, mark, "ada", "partner.vet", "partner", created.id).await;
    assert_eq!(row.before, Some(js(&updated)));
    assert_eq!(row.after, Some(js(&vetted)));
    assert_eq!(row.after.as_ref().unwrap()["verification"], "verified");
    assert_eq!(row.after.as_ref().unwrap()["vetted_by"], "ada");
    assert_eq!(row.before.as_ref().unwrap()["verification"], "pending");

    let mark = last_audit_id(&db).await;
    let disabled = cara
        .disable_partner(created.id, Some(vetted.version), Some("fraud report"))
        .await
        .unwrap();
    let row = one_row(&db, mark, "cara", "partner.disable", "partner", created.id).await;
    assert_eq!(row.before, Some(js(&vetted)));
    assert_eq!(row.after, Some(js(&disabled)));
    assert_eq!(row.reason.as_deref(), Some("fraud report"));

    let mark = last_audit_id(&db).await;
    let pending = cara
        .revet_partner(created.id, Some(disabled.version))
        .await
        .unwrap();
    let row = one_row(&db, mark, "cara", "partner.revet", "partner", created.id).await;
    assert_eq!(row.before, Some(js(&disabled)));
    assert_eq!(row.after, Some(js(&pending)));
    assert_eq!(row.after.as_ref().unwrap()["verification"], "pending");

    let mark = last_audit_id(&db).await;
    ada.delete_partner(created.id, Some(pending.version), Some("duplicate entry"))
        .await
        .unwrap();
    let row = one_row(&db, mark, "ada", "partner.delete", "partner", created.id).await;
    assert_eq!(row.before, Some(js(&pending)));
    assert_eq!(row.after, None);
    assert_eq!(row.reason.as_deref(), Some("duplicate entry"));
}

#[tokio::test]
async fn every_deal_mutation_writes_one_audit_row_with_before_and_after() {
    let db = TestDb::new().await;
    let cara = db.curator().await;
    let p = verified_partner(&cara, "Northwind", "northwind.example").await;

    let mark = last_audit_id(&db).await;
    let created = cara
        .create_deal(&coupon_draft(p.id, "WELCOME10"))
        .await
        .unwrap();
    assert_eq!(created.state, DealState::Draft);
    let row = one_row(&db, mark, "cara", "deal.create", "deal", created.id).await;
    assert_eq!(row.before, None);
    assert_eq!(row.after, Some(js(&created)));

    let mark = last_audit_id(&db).await;
    let mut edit = coupon_draft(p.id, "WELCOME15");
    edit.title = "Fifteen off".into();
    let updated = cara
        .update_deal(created.id, created.version, &edit)
        .await
        .unwrap();
    let row = one_row(&db, mark, "cara", "deal.update", "deal", created.id).await;
    let (before, after) = (row.before.unwrap(), row.after.unwrap());
    assert_eq!(before, js(&created));
    assert_eq!(after, js(&updated));
    assert_eq!(
        (&before["title"], &after["title"]),
        (&json!("Deal WELCOME10"), &json!("Fifteen off"))
    );
    assert_eq!(
        (&before["coupon_code"], &after["coupon_code"]),
        (&json!("WELCOME10"), &json!("WELCOME15"))
    );

    let mark = last_audit_id(&db).await;
    let active = cara
        .change_deal_state(created.id, Some(updated.version), DealState::Active, None)
        .await
        .unwrap();
    let row = one_row(&db, mark, "cara", "deal.activate", "deal", created.id).await;
    assert_eq!(row.before, Some(js(&updated)));
    assert_eq!(row.after, Some(js(&active)));
    assert_eq!(
        (
            &row.before.as_ref().unwrap()["state"],
            &row.after.as_ref().unwrap()["state"]
        ),
        (&json!("draft"), &json!("active"))
    );

    let mark = last_audit_id(&db).await;
    let paused = cara
        .change_deal_state(
            created.id,
            Some(active.version),
            DealState::Paused,
            Some("stock ran out"),
        )
        .await
        .unwrap();
    let row = one_row(&db, mark, "cara", "deal.pause", "deal", created.id).await;
    assert_eq!(row.before, Some(js(&active)));
    assert_eq!(row.after, Some(js(&paused)));
    assert_eq!(row.after.as_ref().unwrap()["state"], "paused");
    assert_eq!(row.reason.as_deref(), Some("stock ran out"));
}

#[tokio::test]
async fn operator_register_and_role_change_write_one_audit_row_each() {
    let db = TestDb::new().await;
    let ada = db.admin().await;

    let mark = last_audit_id(&db).await;
    let olga = ada
        .add_operator("olga", "Olga Ops", &[Role::Support])
        .await
        .unwrap();
    let row = one_row(&db, mark, "ada", "operator.register", "operator", "olga").await;
    assert_eq!(row.before, None);
    assert_eq!(row.after, Some(js(&olga)));
    assert_eq!(row.after.as_ref().unwrap()["roles"], json!(["support"]));
    assert_eq!(row.after.as_ref().unwrap()["display_name"], "Olga Ops");

    let mark = last_audit_id(&db).await;
    let changed = ada
        .set_operator_roles("olga", &[Role::Finance, Role::Support], Some(olga.version))
        .await
        .unwrap();
    assert_eq!(
        changed.roles,
        vec!["support".to_owned(), "finance".to_owned()]
    );
    let row = one_row(&db, mark, "ada", "operator.set_roles", "operator", "olga").await;
    assert_eq!(row.before, Some(js(&olga)));
    assert_eq!(row.after, Some(js(&changed)));
    assert_eq!(row.before.as_ref().unwrap()["roles"], json!(["support"]));
    assert_eq!(
        row.after.as_ref().unwrap()["roles"],
        json!(["support", "finance"])
    );
}

#[tokio::test]
async fn the_database_refuses_update_delete_and_truncate_on_the_audit_log() {
    let db = TestDb::new().await;
    let cara = db.curator().await;
    let p = cara
        .create_partner(&partner_draft("Northwind", "northwind.example"))
        .await
        .unwrap();
    cara.mark_vetted(p.id, Some(p.version)).await.unwrap();
    let snapshot = audit_snapshot(&db).await;
    assert_eq!(db.audit_count().await, 2);

    for (sql, op) in [
        ("UPDATE audit_log SET actor = 'mallory'", "UPDATE"),
        (
            "UPDATE audit_log SET after = NULL WHERE id = (SELECT min(id) FROM audit_log)",
            "UPDATE",
        ),
        ("DELETE FROM audit_log", "DELETE"),
        (
            "DELETE FROM audit_log WHERE action = 'partner.vet'",
            "DELETE",
        ),
        ("TRUNCATE audit_log", "TRUNCATE"),
        ("TRUNCATE TABLE audit_log RESTART IDENTITY", "TRUNCATE"),
    ] {
        let err = sqlx::query(sql)
            .execute(&db.pool)
            .await
            .expect_err(&format!("the database accepted: {sql}"));
        let dbe = err.as_database_error().expect("a database error");
        assert!(
            dbe.message().contains("append-only"),
            "{sql}: {}",
            dbe.message()
        );
        assert_eq!(
            dbe.message(),
            format!("audit_log is append-only: {op} is not allowed"),
            "{sql}"
        );
        assert_eq!(dbe.code().as_deref(), Some("42501"), "{sql}");
    }
    assert_eq!(
        audit_snapshot(&db).await,
        snapshot,
        "the rows are unchanged"
    );
    assert_eq!(db.audit_count().await, 2);

    // Appending still works.
    cara.disable_partner(p.id, None, None).await.unwrap();
    assert_eq!(db.audit_count().await, 3);
}

#[tokio::test]
async fn failed_use_cases_write_no_audit_row() {
    let db = TestDb::new().await;
    let cara = db.curator().await;
    let ada = db.admin().await;
    let sam = db.desk("sam", &[Role::Support]).await;
    let pending = cara
        .create_partner(&partner_draft("Pending Co", "pending.example"))
        .await
        .unwrap();
    let verified = verified_partner(&cara, "Northwind", "northwind.example").await;
    let deal = cara
        .create_deal(&coupon_draft(verified.id, "KEEP1"))
        .await
        .unwrap();
    let olga = ada
        .add_operator("olga", "Olga", &[Role::Support])
        .await
        .unwrap();
    ada.set_operator_roles("olga", &[Role::Finance], Some(olga.version))
        .await
        .unwrap();

    let snapshot = audit_snapshot(&db).await;
    let events = db.count("SELECT count(*) FROM outbox_events").await;
    let mut long = partner_draft("Long", "long.example");
    long.display_name = "n".repeat(256);
    let e = cara.create_partner(&long).await.unwrap_err();
    assert!(matches!(e, Error::Validation(_)), "{e:?}");
    nothing_written(
        &db,
        &snapshot,
        events,
        "create_partner with a validation error",
    )
    .await;

    let e = cara
        .update_partner(pending.id, pending.version, &long)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Validation(_)), "{e:?}");
    nothing_written(
        &db,
        &snapshot,
        events,
        "update_partner with a validation error",
    )
    .await;

    let e = cara
        .update_partner(
            verified.id,
            verified.version - 1,
            &partner_draft("Stale", "northwind.example"),
        )
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Conflict { .. }), "{e:?}");
    nothing_written(&db, &snapshot, events, "update_partner on a stale version").await;

    let e = cara
        .create_partner(&partner_draft("Copycat", "northwind.example"))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::DuplicateDomain { .. }), "{e:?}");
    nothing_written(&db, &snapshot, events, "create_partner with a taken domain").await;

    let e = sam
        .create_partner(&partner_draft("Nope", "nope.example"))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Forbidden { .. }), "{e:?}");
    nothing_written(&db, &snapshot, events, "create_partner without the role").await;

    let e = cara
        .disable_partner(pending.id, None, None)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::InvalidTransition { .. }), "{e:?}");
    nothing_written(&db, &snapshot, events, "disable a pending partner").await;

    let e = cara
        .delete_partner(verified.id, None, None)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::HasDeals { .. }), "{e:?}");
    nothing_written(&db, &snapshot, events, "delete a partner with deals").await;

    let mut bad = coupon_draft(verified.id, "BAD1");
    bad.kind = "voucher".into();
    let e = cara.create_deal(&bad).await.unwrap_err();
    assert!(matches!(e, Error::Validation(_)), "{e:?}");
    nothing_written(
        &db,
        &snapshot,
        events,
        "create_deal with a validation error",
    )
    .await;

    let mut kyc = coupon_draft(pending.id, "KYC1");
    kyc.state = Some("active".into());
    let e = cara.create_deal(&kyc).await.unwrap_err();
    assert!(matches!(e, Error::PartnerNotVerified { .. }), "{e:?}");
    nothing_written(
        &db,
        &snapshot,
        events,
        "activate a deal of a pending partner",
    )
    .await;

    let e = cara
        .change_deal_state(deal.id, None, DealState::Expired, None)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::InvalidTransition { .. }), "{e:?}");
    nothing_written(&db, &snapshot, events, "expire a draft").await;

    let e = ada
        .add_operator("olga", "Olga Again", &[Role::Admin])
        .await
        .unwrap_err();
    assert!(matches!(e, Error::AlreadyExists(_)), "{e:?}");
    nothing_written(&db, &snapshot, events, "register an existing login").await;

    let e = ada
        .set_operator_roles("olga", &[Role::Admin], Some(olga.version))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Conflict { .. }), "{e:?}");
    nothing_written(&db, &snapshot, events, "set roles on a stale version").await;
}

/// A failure after the audit row was written rolls the audit row back with everything else.
#[tokio::test]
async fn audit_row_and_change_commit_together_or_not_at_all() {
    let db = TestDb::new().await;
    let cara = db.curator().await;
    // Make the last write of create_partner (its outbox event) fail.
    sqlx::raw_sql(
        "CREATE FUNCTION test_outbox_down() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN RAISE EXCEPTION 'outbox is down'; END; $$;
         CREATE TRIGGER test_outbox_down BEFORE INSERT ON outbox_events
             FOR EACH ROW EXECUTE FUNCTION test_outbox_down();",
    )
    .execute(&db.pool)
    .await
    .unwrap();
    let err = cara
        .create_partner(&partner_draft("Northwind", "northwind.example"))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("outbox is down"), "{err}");
    assert_eq!(db.count("SELECT count(*) FROM partners").await, 0);
    assert_eq!(
        db.audit_count().await,
        0,
        "the audit row went with the failed change"
    );

    sqlx::query("DROP TRIGGER test_outbox_down ON outbox_events")
        .execute(&db.pool)
        .await
        .unwrap();
    let p = cara
        .create_partner(&partner_draft("Northwind", "northwind.example"))
        .await
        .unwrap();
    assert_eq!(db.audit_count().await, 1);
    assert_eq!(
        db.count(&format!(
            "SELECT count(*) FROM audit_log WHERE entity_id = '{}' AND action = 'partner.create'",
            p.id
        ))
        .await,
        1
    );
}
