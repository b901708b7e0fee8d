//! Audit rows and events cannot be forged by a person's login: the one writer,
//! `record_changes`, writes the login's own name (or `system` / `platform`), records the login
//! beside it, and publishes an event only for a row the same transaction changed.

use crate::common::{TestDb, partner_draft, person, try_sql};
use crate::{denied, rule};
use partnerdesk::domain::DealState;

const FORGED_EVENT: &str = "INSERT INTO outbox_events (event_type, entity_type, entity_id, payload)
     VALUES ('settlement.paid', 'settlement', '3', '{}')";

/// `record_changes` called by hand: one audit row (actor, entity) and one event about
/// (entity_type, id).
fn call(actor: &str, entity_type: &str, id: &str, event: bool) -> String {
    let ev = if event {
        format!(
            "ARRAY['{entity_type}.updated'], ARRAY['{entity_type}'], ARRAY['{id}'], ARRAY['{{}}'::jsonb]"
        )
    } else {
        "ARRAY[]::text[], ARRAY[]::text[], ARRAY[]::text[], ARRAY[]::jsonb[]".into()
    };
    format!(
        "SELECT record_changes(ARRAY['{actor}'], ARRAY['{entity_type}.update'], ARRAY['{entity_type}'],
                ARRAY['{id}'], ARRAY[NULL::jsonb], ARRAY[NULL::jsonb], ARRAY[NULL::text], {ev})"
    )
}

#[tokio::test]
async fn no_login_forges_an_audit_row_or_an_event() {
    let db = TestDb::new().await;
    let admin = db.admin().await;
    let p = admin
        .create_partner(&partner_draft("Northwind", "northwind.example"))
        .await
        .unwrap();
    let events_before = db.count("SELECT count(*) FROM outbox_events").await;
    let audit_before = db.audit_count().await;
    for group in ["curator", "support", "finance", "admin", "readonly"] {
        let (login, _) = person(&db, &[group]).await;
        let me = login.name.clone();
        // The tables themselves: no INSERT for anyone.
        denied(try_sql(&login.pool, FORGED_EVENT).await);
        denied(
            try_sql(
                &login.pool,
                "INSERT INTO audit_log (actor, action, entity_type, entity_id) VALUES ('fin', 'settlement.pay', 'settlement', '3')",
            )
            .await,
        );
        if group == "readonly" {
            denied(try_sql(&login.pool, &call(&me, "partner", &p.id.to_string(), false)).await);
            continue;
        }
        // Naming someone else.
        let why = rule(
            try_sql(
                &login.pool,
                &call("fin", "partner", &p.id.to_string(), false),
            )
            .await,
        );
        assert_eq!(
            why,
            format!(
                "audit: database login {me} writes changes as itself (or as system or platform), not as fin"
            )
        );
        // An event about a row this transaction did not change.
        let why = rule(try_sql(&login.pool, &call(&me, "partner", &p.id.to_string(), true)).await);
        assert_eq!(
            why,
            format!(
                "outbox: partner {} was not changed by this transaction; an event is published only with its change",
                p.id
            )
        );
        let why = rule(try_sql(&login.pool, &call(&me, "settlement", "3", true)).await);
        assert!(
            why.starts_with("outbox: settlement 3 was not changed"),
            "{why}"
        );
        // An event without its audit row.
        let why = rule(
            try_sql(
                &login.pool,
                &format!(
                    "SELECT record_changes(ARRAY[]::text[], ARRAY[]::text[], ARRAY[]::text[], ARRAY[]::text[],
                        ARRAY[]::jsonb[], ARRAY[]::jsonb[], ARRAY[]::text[], ARRAY['partner.updated'],
                        ARRAY['partner'], ARRAY['{}'], ARRAY['{{}}'::jsonb])",
                    p.id
                ),
            )
            .await,
        );
        assert_eq!(
            why,
            format!(
                "outbox: an event about partner {} needs its audit row in the same call",
                p.id
            )
        );
        // Its own name on an audit row alone is what the product writes: allowed.
        try_sql(&login.pool, &call(&me, "partner", &p.id.to_string(), false))
            .await
            .unwrap();
    }
    assert_eq!(
        db.count("SELECT count(*) FROM outbox_events").await,
        events_before,
        "no event was forged"
    );
    assert_eq!(
        db.count(&format!(
            "SELECT count(*) FROM audit_log WHERE id > {audit_before} AND actor <> db_login"
        ))
        .await,
        0,
        "every row written since names its own login"
    );
}

#[tokio::test]
async fn the_real_flows_write_their_login_beside_the_actor() {
    let db = TestDb::new().await;
    let (cara_login, cara) = person(&db, &["curator"]).await;
    let p = cara
        .create_partner(&partner_draft("Contoso", "contoso.example"))
        .await
        .unwrap();
    let (actor, login, events): (String, String, i64) = sqlx::query_as(
        "SELECT a.actor, a.db_login,
                (SELECT count(*) FROM outbox_events e WHERE e.entity_type = 'partner' AND e.entity_id = a.entity_id)
           FROM audit_log a WHERE a.action = 'partner.create' AND a.entity_id = $1",
    )
    .bind(p.id.to_string())
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(
        (actor.as_str(), login.as_str(), events),
        (cara_login.name.as_str(), cara_login.name.as_str(), 1)
    );

    // The expiry job acts as `system`, with the login that ran it beside it.
    let owner = db.admin().await;
    let deal = crate::common::active_deal(&owner, "EXPIRE1").await;
    sqlx::query("UPDATE deals SET valid_from = now() - interval '2 days', valid_until = now() - interval '1 day' WHERE id = $1")
        .bind(deal.id)
        .execute(&db.pool)
        .await
        .unwrap();
    assert_eq!(cara.expire_due_deals(chrono::Utc::now()).await.unwrap(), 1);
    assert_eq!(
        cara.get_deal(deal.id).await.unwrap().state,
        DealState::Expired
    );
    let (actor, login): (String, String) = sqlx::query_as(
        "SELECT actor, db_login FROM audit_log WHERE entity_type = 'deal' AND entity_id = $1 ORDER BY id DESC LIMIT 1",
    )
    .bind(deal.id.to_string())
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(
        (actor.as_str(), login.as_str()),
        ("system", cara_login.name.as_str())
    );
    // The column is not the caller's to set: nobody but the owner inserts into audit_log.
    denied(
        try_sql(
            &cara_login.pool,
            "INSERT INTO audit_log (actor, action, entity_type, entity_id, db_login) VALUES ('system', 'x', 'deal', '1', 'someone')",
        )
        .await,
    );
}

#[tokio::test]
async fn text_with_control_characters_is_refused_by_the_database_too() {
    let db = TestDb::new().await;
    let (cur_login, cara) = person(&db, &["curator"]).await;
    let p = cara
        .create_partner(&partner_draft("Fabrikam", "fabrikam.example"))
        .await
        .unwrap();
    for (sql, constraint) in [
        (
            format!(
                "UPDATE partners SET display_name = E'Fab\\x1b]0;owned\\x07' WHERE id = {}",
                p.id
            ),
            "partners_display_name_text",
        ),
        (
            format!(
                "UPDATE partners SET notes = E'two\\nlines\\x1b[2J' WHERE id = {}",
                p.id
            ),
            "partners_notes_text",
        ),
        (
            format!(
                "INSERT INTO negotiation_threads (partner_id, subject, deadline, opened_side, created_by, updated_by) VALUES ({}, E'Terms\\u009b', now() + interval '1 day', 'marketplace', session_user, session_user)",
                p.id
            ),
            "negotiation_threads_subject_text",
        ),
    ] {
        let err = try_sql(&cur_login.pool, &sql).await.unwrap_err();
        assert!(
            err.starts_with("23514 ") && err.contains(constraint),
            "{sql}: {err}"
        );
    }
    // Line breaks and tabs where a field spans lines: allowed.
    try_sql(
        &cur_login.pool,
        &format!(
            "UPDATE partners SET notes = E'two\\nlines\\tand a tab\\r\\n' WHERE id = {}",
            p.id
        ),
    )
    .await
    .unwrap();
}
