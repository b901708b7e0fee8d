//! What a person's own login writes is what really happened, by whom (migration 0027): an
//! event needs the change it announces in the same transaction, every `*_by` column names the
//! login, and a temporary table cannot stand in for one of the schema's own.

use crate::common::{TestDb, partner_draft, person, try_sql};
use crate::{partner_with_deal, rule};

/// `statements`, then `record_changes` writing one audit row by `actor` and one event of
/// `event_type` about (entity_type, id), in one transaction.
fn with_event(statements: &str, actor: &str, event_type: &str, entity: &str, id: i64) -> String {
    format!(
        "{statements};
         SELECT record_changes(ARRAY['{actor}'], ARRAY['{entity}.update'], ARRAY['{entity}'],
                ARRAY['{id}'], ARRAY[NULL::jsonb], ARRAY[NULL::jsonb], ARRAY[NULL::text],
                ARRAY['{event_type}'], ARRAY['{entity}'], ARRAY['{id}'], ARRAY['{{}}'::jsonb])"
    )
}

#[tokio::test]
async fn an_event_needs_the_change_it_announces_in_the_same_transaction() {
    let db = TestDb::new().await;
    let (p, d, _) = partner_with_deal(&db, "REAL1").await;
    let (cur_login, _) = person(&db, &["curator"]).await;
    let me = cur_login.name.clone();
    let events_before = db.count("SELECT count(*) FROM outbox_events").await;

    let noop = format!("UPDATE partners SET display_name = display_name WHERE id = {p}");
    let real = format!("UPDATE partners SET notes = 'checked twice' WHERE id = {p}");
    let undone = format!(
        "SAVEPOINT s; UPDATE partners SET notes = 'undone' WHERE id = {p}; ROLLBACK TO SAVEPOINT s"
    );
    let deal_noop = format!("UPDATE deals SET title = title WHERE id = {d}");
    let deal_title = format!("UPDATE deals SET title = 'Renamed' WHERE id = {d}");
    for (sql, want) in [
        // A no-op UPDATE writes a row version, but changes nothing.
        (
            with_event(&noop, &me, "partner.updated", "partner", p),
            format!(
                "outbox: partner {p} was not changed by this transaction; an event is published only with its change"
            ),
        ),
        // A change rolled back to a savepoint did not happen.
        (
            with_event(&undone, &me, "partner.updated", "partner", p),
            format!(
                "outbox: partner {p} was not changed by this transaction; an event is published only with its change"
            ),
        ),
        // A real change, announced as something else.
        (
            with_event(&real, &me, "partner.verified", "partner", p),
            format!(
                "outbox: partner.verified needs partner {p} moved to verified by this transaction"
            ),
        ),
        (
            with_event(&real, &me, "partner.created", "partner", p),
            format!(
                "outbox: partner.created needs partner {p} created by this transaction (a row of partners)"
            ),
        ),
        (
            with_event(&deal_noop, &me, "deal.activated", "deal", d),
            format!("outbox: deal.activated needs deal {d} moved to active by this transaction"),
        ),
        // The deal is active already: renaming it is no activation.
        (
            with_event(&deal_title, &me, "deal.activated", "deal", d),
            format!("outbox: deal.activated needs deal {d} moved to active by this transaction"),
        ),
    ] {
        assert_eq!(rule(try_sql(&cur_login.pool, &sql).await), want, "{sql}");
    }
    assert_eq!(
        db.count("SELECT count(*) FROM outbox_events").await,
        events_before,
        "no event was written"
    );

    // What really happened may be announced: the change, and the move it is.
    try_sql(
        &cur_login.pool,
        &with_event(&real, &me, "partner.updated", "partner", p),
    )
    .await
    .unwrap();
    let pause = format!(
        "UPDATE deals SET state = 'paused', updated_by = '{me}', updated_at = now() WHERE id = {d}"
    );
    try_sql(
        &cur_login.pool,
        &with_event(&pause, &me, "deal.paused", "deal", d),
    )
    .await
    .unwrap();
    assert_eq!(
        db.count("SELECT count(*) FROM outbox_events").await,
        events_before + 2
    );
    // The change log is the transaction's own: the next one starts empty.
    assert_eq!(
        rule(
            try_sql(
                &cur_login.pool,
                &with_event("SELECT 1", &me, "deal.paused", "deal", d)
            )
            .await
        ),
        format!("outbox: deal.paused needs deal {d} moved to paused by this transaction")
    );
}

#[tokio::test]
async fn a_paid_statement_is_announced_once_by_its_move() {
    let db = TestDb::new().await;
    let (p, d, m) = partner_with_deal(&db, "REAL2").await;
    let (fin_login, fin) = person(&db, &["finance"]).await;
    let me = fin_login.name.clone();
    let a = fin
        .add_agreement(
            p,
            &crate::percentage(1000, "EUR"),
            "2026-09-01".parse().unwrap(),
        )
        .await
        .unwrap();
    crate::redemption(&db, d, m, "2026-09-10T10:00:00Z", 1000).await;
    let s = fin.compute_settlement(a.id, "2026-09").await.unwrap().id;
    fin.review_settlement(s, None).await.unwrap();
    fin.approve_settlement(s, None).await.unwrap();
    fin.pay_settlement(s, "SEPA-9", None).await.unwrap();
    let paid_events = "SELECT count(*) FROM outbox_events WHERE event_type = 'settlement.paid'";
    assert_eq!(db.count(paid_events).await, 1);
    // Touching the paid statement does not let its payment be announced again.
    let touch = format!("UPDATE settlements SET review_note = review_note WHERE id = {s}");
    assert_eq!(
        rule(
            try_sql(
                &fin_login.pool,
                &with_event(&touch, &me, "settlement.paid", "settlement", s)
            )
            .await
        ),
        format!("outbox: settlement.paid needs settlement {s} moved to paid by this transaction")
    );
    assert_eq!(db.count(paid_events).await, 1);
}

#[tokio::test]
async fn every_by_column_names_the_login_that_wrote_it() {
    let db = TestDb::new().await;
    let (p, d, m) = partner_with_deal(&db, "WHO1").await;
    let r = crate::redemption(&db, d, m, "2026-09-10T10:00:00Z", 1000).await;
    let (cur_login, cur) = person(&db, &["curator"]).await;
    let (sup_login, _) = person(&db, &["support"]).await;
    let cur_me = cur_login.name.clone();
    let sup_me = sup_login.name.clone();
    let refusal = |table: &str, column: &str, me: &str, named: &str| {
        format!(
            "{table}.{column}: database login {me} writes as itself (or as system or platform), not as {named}"
        )
    };
    for (login, sql, want) in [
        (
            &cur_login,
            format!("UPDATE deals SET title = 'Mine', updated_by = 'fin' WHERE id = {d}"),
            refusal("deals", "updated_by", &cur_me, "fin"),
        ),
        (
            &cur_login,
            format!("UPDATE partners SET vetted_by = '{sup_me}' WHERE id = {p}"),
            refusal("partners", "vetted_by", &cur_me, &sup_me),
        ),
        (
            &cur_login,
            "INSERT INTO partners (legal_name, display_name, domain, created_by, updated_by)
             VALUES ('Forged Ltd', 'Forged', 'forged.example', 'ada', 'ada')"
                .to_owned(),
            refusal("partners", "created_by", &cur_me, "ada"),
        ),
        (
            &sup_login,
            format!(
                "UPDATE redemptions SET flag_kind = 'fraud', flag_note = 'x', flagged_by = 'ada', flagged_at = now() WHERE id = {r}"
            ),
            refusal("redemptions", "flagged_by", &sup_me, "ada"),
        ),
    ] {
        let got = try_sql(&login.pool, &sql).await;
        assert!(got.is_err(), "{sql} was allowed");
        assert_eq!(rule(got), want, "{sql}");
    }
    // Its own name, and the documented system actors, are what the product writes.
    try_sql(
        &cur_login.pool,
        &format!("UPDATE deals SET title = 'Mine', updated_by = '{cur_me}' WHERE id = {d}"),
    )
    .await
    .unwrap();
    try_sql(
        &cur_login.pool,
        &format!("UPDATE deals SET title = 'Ours', updated_by = 'system' WHERE id = {d}"),
    )
    .await
    .unwrap();
    try_sql(
        &sup_login.pool,
        &format!(
            "UPDATE redemptions SET flag_kind = 'fraud', flag_note = 'x', flagged_by = '{sup_me}', flagged_at = now() WHERE id = {r}"
        ),
    )
    .await
    .unwrap();
    // And the product's own flow, as the login, writes the login.
    let made = cur
        .create_partner(&partner_draft("Northwind", "northwind.example"))
        .await
        .unwrap();
    let by: (String, String) =
        sqlx::query_as("SELECT created_by, updated_by FROM partners WHERE id = $1")
            .bind(made.id)
            .fetch_one(&db.pool)
            .await
            .unwrap();
    assert_eq!(by, (cur_me.clone(), cur_me.clone()));
}

#[tokio::test]
async fn a_temporary_table_never_stands_in_for_the_schemas_own() {
    let db = TestDb::new().await;
    let (p, _, _) = partner_with_deal(&db, "TEMP1").await;
    let (cur_login, _) = person(&db, &["curator"]).await;
    let me = cur_login.name.clone();
    // A look-alike change log, made by the login and filled with a change that never was.
    let forged_log = format!(
        "CREATE TEMPORARY TABLE pd_changes (entity_type text, entity_id bigint, table_name name,
             op text, state_before text, state_after text);
         INSERT INTO pd_changes VALUES ('partner', {p}, 'partners', 'update', 'pending', 'verified')"
    );
    assert_eq!(
        rule(
            try_sql(
                &cur_login.pool,
                &with_event(
                    &format!("{forged_log}; UPDATE partners SET notes = 'x' WHERE id = {p}"),
                    &me,
                    "partner.verified",
                    "partner",
                    p
                )
            )
            .await
        ),
        "outbox: the temporary table pd_changes is not the schema owner's; drop it (the database keeps this transaction's changes there)"
    );
    // A look-alike status machine, with a move the real one does not have: the trigger reads
    // the schema's own.
    let thread: i64 = sqlx::query_scalar(
        "INSERT INTO negotiation_threads (partner_id, subject, deadline, opened_side, created_by, updated_by)
         VALUES ($1, 'Terms', now() + interval '7 days', 'marketplace', 'cara', 'cara') RETURNING id",
    )
    .bind(p)
    .fetch_one(&db.pool)
    .await
    .unwrap();
    let why = rule(
        try_sql(
            &cur_login.pool,
            &format!(
                "CREATE TEMPORARY TABLE status_moves AS SELECT * FROM public.status_moves;
                 INSERT INTO status_moves VALUES ('negotiation', 'pending', 'archived', 'forge');
                 UPDATE negotiation_threads SET status = 'archived' WHERE id = {thread}"
            ),
        )
        .await,
    );
    assert!(
        why.starts_with(&format!(
            "negotiation {thread}: pending → archived is not a move of its status machine"
        )),
        "{why}"
    );
}
