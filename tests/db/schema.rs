//! Integrity lives in the schema too: raw SQL that breaks a rule is refused by PostgreSQL
//! itself, whatever the application layer does.

use crate::common::*;
use sqlx::AssertSqlSafe;

const CHECK: &str = "23514";
const FOREIGN_KEY: &str = "23503";
const UNIQUE: &str = "23505";

/// Runs raw SQL that must be refused; returns `(SQLSTATE, constraint)`.
async fn refused(db: &TestDb, sql: &str) -> (String, String) {
    let err = sqlx::query(AssertSqlSafe(sql.to_owned()))
        .execute(&db.pool)
        .await
        .expect_err(&format!("the database accepted: {sql}"));
    let d = err
        .as_database_error()
        .unwrap_or_else(|| panic!("not a database error: {err}"));
    (
        d.code().map(|c| c.into_owned()).unwrap_or_default(),
        d.constraint().unwrap_or_default().to_owned(),
    )
}

async fn accepted(db: &TestDb, sql: &str) {
    sqlx::query(AssertSqlSafe(sql.to_owned()))
        .execute(&db.pool)
        .await
        .unwrap_or_else(|e| panic!("the database refused: {sql}: {e}"));
}

async fn raw_partner(db: &TestDb, name: &str, domain: &str) -> i64 {
    sqlx::query_scalar(
        "INSERT INTO partners (legal_name, display_name, domain, created_by, updated_by)
         VALUES ($1, $1, $2, 'test', 'test') RETURNING id",
    )
    .bind(name)
    .bind(domain)
    .fetch_one(&db.pool)
    .await
    .unwrap()
}

/// `(what, column changes, SQLSTATE, constraint)`.
type DealCase<'a> = (&'a str, Vec<(&'a str, &'a str)>, &'a str, &'a str);

/// An INSERT of a valid coupon deal, with some columns' SQL replaced.
fn deal_sql(partner_id: i64, changes: &[(&str, &str)]) -> String {
    let partner = partner_id.to_string();
    let mut cols: Vec<(&str, &str)> = vec![
        ("partner_id", &partner),
        ("title", "'Ten off'"),
        ("kind", "'coupon'"),
        ("coupon_code", "'TEN'"),
        ("redemption_url", "NULL"),
        ("audience_scope", "'public'"),
        ("audience_scope_value", "NULL"),
        ("valid_from", "'2030-01-01 00:00Z'"),
        ("valid_until", "'2030-02-01 00:00Z'"),
        ("redemption_cap", "NULL"),
        ("created_by", "'test'"),
        ("updated_by", "'test'"),
    ];
    for (name, sql) in changes {
        let col = cols
            .iter_mut()
            .find(|(c, _)| c == name)
            .unwrap_or_else(|| panic!("no column {name}"));
        col.1 = sql;
    }
    format!(
        "INSERT INTO deals ({}) VALUES ({})",
        cols.iter().map(|c| c.0).collect::<Vec<_>>().join(", "),
        cols.iter().map(|c| c.1).collect::<Vec<_>>().join(", ")
    )
}

#[tokio::test]
async fn deals_that_break_a_rule_are_refused_by_the_database() {
    let db = TestDb::new().await;
    let pid = raw_partner(&db, "Northwind", "northwind.example").await;
    // The baseline is fine, so each refusal below is due to the one change it makes.
    accepted(&db, &deal_sql(pid, &[])).await;
    accepted(
        &db,
        &deal_sql(
            pid,
            &[
                ("audience_scope", "'batch'"),
                ("audience_scope_value", "'2019'"),
                ("redemption_cap", "1"),
            ],
        ),
    )
    .await;
    accepted(
        &db,
        &deal_sql(
            pid,
            &[
                ("kind", "'link'"),
                ("coupon_code", "NULL"),
                ("redemption_url", "'https://northwind.example/go'"),
            ],
        ),
    )
    .await;
    let deals = db.count("SELECT count(*) FROM deals").await;
    let missing = db
        .count("SELECT coalesce(max(id), 0) + 1000 FROM partners")
        .await;
    let missing = missing.to_string();

    let cases: Vec<DealCase> = vec![
        (
            "valid_until equal to valid_from",
            vec![("valid_until", "'2030-01-01 00:00Z'")],
            CHECK,
            "deals_check",
        ),
        (
            "valid_until before valid_from",
            vec![("valid_until", "'2029-12-31 23:59Z'")],
            CHECK,
            "deals_check",
        ),
        (
            "kind voucher",
            vec![("kind", "'voucher'")],
            CHECK,
            "deals_kind_check",
        ),
        (
            "coupon deal without a code",
            vec![("coupon_code", "NULL")],
            CHECK,
            "deals_check1",
        ),
        (
            "link deal without a URL",
            vec![("kind", "'link'"), ("coupon_code", "NULL")],
            CHECK,
            "deals_check2",
        ),
        (
            "batch scope without a value",
            vec![("audience_scope", "'batch'")],
            CHECK,
            "deals_check3",
        ),
        (
            "batch scope with a value that is not a year",
            vec![
                ("audience_scope", "'batch'"),
                ("audience_scope_value", "'soon'"),
            ],
            CHECK,
            "deals_check4",
        ),
        (
            "public scope with a value",
            vec![("audience_scope_value", "'2019'")],
            CHECK,
            "deals_check3",
        ),
        (
            "cap 0",
            vec![("redemption_cap", "0")],
            CHECK,
            "deals_redemption_cap_check",
        ),
        (
            "a missing partner",
            vec![("partner_id", missing.as_str())],
            FOREIGN_KEY,
            "deals_partner_id_fkey",
        ),
    ];
    for (what, changes, code, constraint) in cases {
        let sql = deal_sql(pid, &changes);
        let got = refused(&db, &sql).await;
        assert_eq!(
            got,
            (code.to_owned(), constraint.to_owned()),
            "{what}: {sql}"
        );
    }
    assert_eq!(db.count("SELECT count(*) FROM deals").await, deals);

    // A cap of N > 1 is the first N in total: the count may never pass it. (A cap of 1 is one
    // per member, enforced by the unique index on redemptions, so its count may pass 1.)
    accepted(&db, &deal_sql(pid, &[("redemption_cap", "2")])).await;
    let (code, constraint) = refused(
        &db,
        "UPDATE deals SET redemption_count = 3 WHERE redemption_cap = 2",
    )
    .await;
    assert_eq!(
        (code.as_str(), constraint.as_str()),
        (CHECK, "deals_cap_holds")
    );
    accepted(
        &db,
        "UPDATE deals SET redemption_count = 2 WHERE redemption_cap IN (1, 2)",
    )
    .await;
}

#[tokio::test]
async fn one_live_partner_per_domain_is_enforced_by_the_database() {
    let db = TestDb::new().await;
    db.curator().await; // an operator for deleted_by
    let first = raw_partner(&db, "Northwind", "northwind.example").await;
    let second = "INSERT INTO partners (legal_name, display_name, domain, created_by, updated_by)
                  VALUES ('Copy', 'Copy', 'northwind.example', 'test', 'test')";
    assert_eq!(
        refused(&db, second).await,
        (UNIQUE.to_owned(), "partners_domain_key".to_owned())
    );
    assert_eq!(
        refused(
            &db,
            "INSERT INTO partners (legal_name, display_name, domain, created_by, updated_by)
             VALUES ('Loud', 'Loud', 'NORTHWIND.example', 'test', 'test')"
        )
        .await,
        (CHECK.to_owned(), "partners_domain_check".to_owned()),
        "domains are stored normalized"
    );
    assert_eq!(
        refused(
            &db,
            &format!("UPDATE partners SET verification = 'verified' WHERE id = {first}")
        )
        .await,
        (CHECK.to_owned(), "partners_check".to_owned()),
        "verified needs vetted_by and vetted_at"
    );
    assert_eq!(
        refused(
            &db,
            &format!(
                "UPDATE partners SET deleted_at = now(), deleted_by = 'nobody' WHERE id = {first}"
            )
        )
        .await,
        (
            FOREIGN_KEY.to_owned(),
            "partners_deleted_by_fkey".to_owned()
        )
    );
    assert_eq!(
        db.count("SELECT count(*) FROM partners WHERE domain = 'northwind.example'")
            .await,
        1
    );

    // Once the first is deleted, the domain is free for a new live partner; not for two.
    accepted(
        &db,
        &format!("UPDATE partners SET deleted_at = now(), deleted_by = 'cara' WHERE id = {first}"),
    )
    .await;
    accepted(&db, second).await;
    assert_eq!(
        refused(&db, second).await,
        (UNIQUE.to_owned(), "partners_domain_key".to_owned())
    );
    assert_eq!(
        db.count("SELECT count(*) FROM partners WHERE domain = 'northwind.example'")
            .await,
        2
    );
}

#[tokio::test]
async fn redemptions_with_an_unknown_source_are_refused() {
    let db = TestDb::new().await;
    let cara = db.curator().await;
    let deal = active_deal(&cara, "TEN").await;
    let member_id = member(&db, "mia", "public", false, None, &[]).await;
    let insert = |source: &str, code: &str, deal_id: i64| {
        format!(
            "INSERT INTO redemptions (deal_id, member_id, source, coupon_code)
             VALUES ({deal_id}, {member_id}, {source}, {code})"
        )
    };
    accepted(&db, &insert("'copy_code'", "'TEN'", deal.id)).await;
    accepted(&db, &insert("'outbound_click'", "NULL", deal.id)).await;
    let cases = [
        (
            "an unknown source",
            insert("'voucher'", "NULL", deal.id),
            CHECK,
            "redemptions_source_check",
        ),
        (
            "copy_code without the code",
            insert("'copy_code'", "NULL", deal.id),
            CHECK,
            "redemptions_check",
        ),
        (
            "an unknown deal",
            insert("'copy_code'", "'TEN'", deal.id + 1000),
            FOREIGN_KEY,
            "redemptions_deal_id_fkey",
        ),
    ];
    for (what, sql, code, constraint) in cases {
        assert_eq!(
            refused(&db, &sql).await,
            (code.to_owned(), constraint.to_owned()),
            "{what}: {sql}"
        );
    }
    assert_eq!(db.count("SELECT count(*) FROM redemptions").await, 2);
}

#[tokio::test]
async fn operators_with_a_bad_login_or_role_are_refused() {
    let db = TestDb::new().await;
    let insert = |login: &str, roles: &str| {
        format!(
            "INSERT INTO operators (login, display_name, roles, updated_by)
             VALUES ('{login}', 'Someone', {roles}, 'test')"
        )
    };
    accepted(&db, &insert("alice", "ARRAY['curator']")).await;
    accepted(&db, &insert("_svc.bot-1", "ARRAY['support', 'finance']")).await;
    let cases = [
        (
            "an uppercase login",
            insert("Alice", "ARRAY['curator']"),
            "operators_login_check",
        ),
        (
            "a login with a space",
            insert("al ice", "ARRAY['curator']"),
            "operators_login_check",
        ),
        (
            "a login starting with a digit",
            insert("1alice", "ARRAY['curator']"),
            "operators_login_check",
        ),
        (
            "an unknown role",
            insert("bob", "ARRAY['root']"),
            "operators_roles_check",
        ),
        (
            "no role",
            insert("bob", "ARRAY[]::text[]"),
            "operators_roles_check",
        ),
    ];
    for (what, sql, constraint) in cases {
        assert_eq!(
            refused(&db, &sql).await,
            (CHECK.to_owned(), constraint.to_owned()),
            "{what}: {sql}"
        );
    }
    assert_eq!(
        refused(&db, &insert("alice", "ARRAY['admin']")).await,
        (UNIQUE.to_owned(), "operators_pkey".to_owned()),
        "a login is registered once"
    );
    assert_eq!(db.count("SELECT count(*) FROM operators").await, 2);
}
