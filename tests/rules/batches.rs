//! Marketplace settings and payout batches (migration 0030) as each group's own login: admins
//! alone set the settings and only finance and admin read the bank account; finance makes
//! batches, whose statements join only in the transaction that makes them, approved, of the
//! batch's currency and owed to the partner at its net, each in at most one batch; a
//! statement in an open batch moves only with it; a paid batch has paid every statement in
//! it and never changes again.

use crate::common::{TestDb, person, try_sql};
use crate::owed::{details, owed};
use crate::{denied, rule};
use partnerdesk::domain::Role;

#[tokio::test]
async fn settings_are_admins_to_set_and_the_bank_account_finances_to_read() {
    let db = TestDb::new().await;
    let (adm, _) = person(&db, &["admin"]).await;
    let (fin, _) = person(&db, &["finance"]).await;
    let (cur, _) = person(&db, &["curator"]).await;
    let (sup, _) = person(&db, &["support"]).await;
    for login in [&fin, &cur, &sup] {
        denied(
            try_sql(
                &login.pool,
                "UPDATE marketplace_settings SET holding_days = 1",
            )
            .await,
        );
        denied(
            try_sql(
                &login.pool,
                "INSERT INTO minimum_payouts (currency, amount_minor, updated_by) VALUES ('EUR', 1, current_user)",
            )
            .await,
        );
    }
    try_sql(
        &adm.pool,
        "UPDATE marketplace_settings SET bank_holder = 'M', bank_iban = 'DE02120300000000202051',
                bank_bic = 'BYLADEM1001', updated_by = current_user",
    )
    .await
    .unwrap();
    // The database keeps the IBAN's checksum and the account whole.
    let e = try_sql(
        &adm.pool,
        "UPDATE marketplace_settings SET bank_iban = 'DE02120300000000202052', updated_by = current_user",
    )
    .await
    .unwrap_err();
    assert!(e.starts_with("23514 "), "{e}");
    let e = try_sql(
        &adm.pool,
        "UPDATE marketplace_settings SET bank_bic = NULL, updated_by = current_user",
    )
    .await
    .unwrap_err();
    assert!(e.contains("marketplace_settings_bank_whole"), "{e}");
    // Who changed it is the login itself.
    let e = try_sql(
        &adm.pool,
        "UPDATE marketplace_settings SET holding_days = 7, updated_by = 'fin'",
    )
    .await
    .unwrap_err();
    assert!(e.contains("writes as itself"), "{e}");
    try_sql(&fin.pool, "SELECT bank_iban FROM marketplace_settings")
        .await
        .unwrap();
    for login in [&cur, &sup] {
        denied(try_sql(&login.pool, "SELECT bank_iban FROM marketplace_settings").await);
        try_sql(&login.pool, "SELECT holding_days FROM marketplace_settings")
            .await
            .unwrap();
    }
    // There is one row of settings: no second, none deleted.
    denied(try_sql(&adm.pool, "INSERT INTO marketplace_settings DEFAULT VALUES").await);
    denied(try_sql(&adm.pool, "DELETE FROM marketplace_settings").await);
}

#[tokio::test]
async fn batches_hold_approved_owed_statements_once_and_move_them_only_together() {
    let db = TestDb::new().await;
    let owner_fin = db.desk("fin", &[Role::Finance]).await;
    let (p1, s1) = owed(&db, "Alder", "EUR", "4.00", 2).await;
    let (p2, s2) = owed(&db, "Birch", "EUR", "3.00", 1).await;
    // Without payout details: never in the batch.
    let (p3, s3) = owed(&db, "Cedar", "EUR", "3.00", 1).await;
    details(&owner_fin, p1, "DE89370400440532013000", "EUR").await;
    details(&owner_fin, p2, "DE02500105170137075030", "EUR").await;
    let (fin, fin_desk) = person(&db, &["finance"]).await;
    let (cur, cur_desk) = person(&db, &["curator"]).await;
    let (sup, _) = person(&db, &["support"]).await;

    // Only finance (and admin) make batches; nobody writes their totals.
    denied(
        try_sql(
            &cur.pool,
            "INSERT INTO payout_batches (currency, created_by, updated_by) VALUES ('EUR', current_user, current_user)",
        )
        .await,
    );
    denied(
        try_sql(
            &fin.pool,
            "INSERT INTO payout_batches (currency, total_minor, created_by, updated_by)
             VALUES ('EUR', 5, current_user, current_user)",
        )
        .await,
    );
    // A statement joins with its net owed, approved, in the batch's currency, with the
    // partner's account as it stands.
    let item = |sid: i64, pid: i64, amount: i64, iban: &str| {
        format!(
            "INSERT INTO payout_batches (currency, note, created_by, updated_by)
             VALUES ('EUR', 'n', current_user, current_user);
             INSERT INTO payout_batch_items (batch_id, settlement_id, partner_id, amount_minor, holder, iban, bic, account_changed_at)
             SELECT currval(pg_get_serial_sequence('payout_batches', 'id')), {sid}, {pid}, {amount},
                    d.holder, '{iban}', d.bic, d.changed_at
               FROM partner_payout_details d WHERE d.partner_id = {pid}"
        )
    };
    let e = rule(try_sql(&fin.pool, &item(s1, p1, 801, "DE89370400440532013000")).await);
    assert!(
        e.contains(&format!("settlement {s1} is approved in EUR with net -800")),
        "{e}"
    );
    let e = rule(try_sql(&fin.pool, &item(s1, p1, 800, "DE02500105170137075030")).await);
    assert!(
        e.contains("to its payout details in the batch's currency, as they stand"),
        "{e}"
    );
    // Without its note, a batch paying a freshly changed account is refused.
    let e = rule(
        try_sql(
            &fin.pool,
            &item(s1, p1, 800, "DE89370400440532013000").replace("'EUR', 'n'", "'EUR', NULL"),
        )
        .await,
    );
    assert!(
        e.contains("changed in the last 14 days; a batch that pays them needs a note"),
        "{e}"
    );

    // Through the product, as the person's own login.
    let (batch, _) = fin_desk
        .create_batch("EUR", Some("confirmed"))
        .await
        .unwrap();
    assert_eq!((batch.statement_count, batch.total_minor), (2, 1100));
    assert_eq!(batch.created_by, fin.name);
    let b = batch.id;
    // No statement joins it later, nor another open batch.
    let e = rule(
        try_sql(
            &fin.pool,
            &format!(
                "INSERT INTO payout_batch_items (batch_id, settlement_id, partner_id, amount_minor, holder, iban, bic, account_changed_at)
                 VALUES ({b}, {s3}, {p3}, 300, 'H', 'DE89370400440532013000', 'COBADEFFXXX', now())"
            ),
        )
        .await,
    );
    assert!(
        e.contains("statements join a batch only in the transaction that makes it"),
        "{e}"
    );
    let e = try_sql(&fin.pool, &item(s1, p1, 800, "DE89370400440532013000"))
        .await
        .unwrap_err();
    assert!(
        e.starts_with("23505 ") && e.contains("payout_batch_items_settlement_key"),
        "{e}"
    );
    // Items never change; nobody but the database frees them.
    denied(
        try_sql(
            &fin.pool,
            &format!("UPDATE payout_batch_items SET released = true WHERE batch_id = {b}"),
        )
        .await,
    );
    denied(
        try_sql(
            &fin.pool,
            &format!("DELETE FROM payout_batch_items WHERE batch_id = {b}"),
        )
        .await,
    );
    denied(
        try_sql(
            &fin.pool,
            &format!("UPDATE payout_batches SET total_minor = 1 WHERE id = {b}"),
        )
        .await,
    );
    // Bank details of a batch: finance's; others read them masked.
    for login in [&cur, &sup] {
        denied(try_sql(&login.pool, "SELECT iban FROM payout_batch_items").await);
        try_sql(
            &login.pool,
            "SELECT iban_masked, amount_minor FROM payout_batch_items",
        )
        .await
        .unwrap();
    }
    let shown = cur_desk.batch_items(b, 0, 10).await.unwrap();
    assert_eq!(shown[0].iban, None);
    assert_eq!(shown[0].iban_masked, "DE89 •••• •••• 3000");

    // A batched statement moves only with its batch.
    let e = rule(
        try_sql(
            &fin.pool,
            &format!(
                "UPDATE settlements SET status = 'disputed', dispute_reason = 'x', updated_by = current_user WHERE id = {s1}"
            ),
        )
        .await,
    );
    assert_eq!(
        e,
        format!("settlement {s1} is in open payout batch {b}: pay or cancel the batch")
    );
    // Marking the batch paid without paying its statements is refused at commit.
    let e = rule(
        try_sql(
            &fin.pool,
            &format!(
                "UPDATE payout_batches SET status = 'paid', paid_on = current_date, payment_reference = 'R',
                        paid_by = current_user, updated_by = current_user WHERE id = {b}"
            ),
        )
        .await,
    );
    assert!(
        e.contains(&format!(
            "payout batch {b} is paid: settlement {s1} in it must be paid in the same transaction"
        )),
        "{e}"
    );
    // …and paying a statement of a paid batch with another reference too.
    let e = rule(
        try_sql(
            &fin.pool,
            &format!(
                "UPDATE payout_batches SET status = 'paid', paid_on = current_date, payment_reference = 'R',
                        paid_by = current_user, updated_by = current_user WHERE id = {b};
                 UPDATE settlements SET status = 'paid', paid_on = current_date, payment_reference = 'OTHER',
                        updated_by = current_user WHERE id = {s1}"
            ),
        )
        .await,
    );
    assert!(
        e.starts_with(&format!(
            "settlement {s1}: payout batch {b} pays it (reference R"
        )),
        "{e}"
    );

    // The product pays it, as the login; then it never changes.
    let (paid, statements) = fin_desk.pay_batch(b, "BANK-1", None).await.unwrap();
    assert_eq!((paid.status.as_str(), statements.len()), ("paid", 2));
    assert_eq!(paid.paid_by.as_deref(), Some(fin.name.as_str()));
    let e = rule(
        try_sql(
            &fin.pool,
            &format!("UPDATE payout_batches SET status = 'cancelled', cancelled_by = current_user, updated_by = current_user WHERE id = {b}"),
        )
        .await,
    );
    assert_eq!(e, format!("payout batch {b} is paid: it never changes"));
    let payments: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM payout_ledger WHERE kind = 'payment' AND settlement_id = ANY($1)",
    )
    .bind(vec![s1, s2])
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(payments, 2);
}
