//! `partnerdesk redeem --value/--currency` and `partnerdesk redemptions import`: the real
//! binary, what it prints, its exit codes and what lands in the database.

use super::common::{TestDb, coupon_draft, verified_partner};
use super::{Home, pd};
use partnerdesk::store::deals::Deal;

/// An active public coupon deal (no cap) and `n` public members.
async fn setup(db: &TestDb, n: i64) -> (Deal, Vec<i64>) {
    let curator = db.curator().await;
    let p = verified_partner(&curator, "Valued", "valued.example").await;
    let mut d = coupon_draft(p.id, "VALUED");
    d.state = Some("active".into());
    let deal = curator.create_deal(&d).await.unwrap();
    let members: Vec<i64> = sqlx::query_scalar(
        "INSERT INTO members (handle, display_name, role)
         SELECT 'cli' || g, 'cli' || g, 'public' FROM generate_series(1, $1) g RETURNING id",
    )
    .bind(n)
    .fetch_all(&db.pool)
    .await
    .unwrap();
    (deal, members)
}

async fn redemptions(db: &TestDb) -> i64 {
    db.count("SELECT count(*) FROM redemptions").await
}

#[tokio::test]
async fn redeem_takes_a_value_and_its_currency_and_refuses_one_that_breaks_a_rule() {
    let db = TestDb::new().await;
    let env = db.pg_env();
    let (deal, m) = setup(&db, 1).await;
    let (d, m) = (deal.id.to_string(), m[0].to_string());
    let redeem = |extra: &[&str]| {
        let mut args = vec!["redeem", "--deal", d.as_str(), "--member", m.as_str()];
        args.extend_from_slice(extra);
        pd("platform", &args).on(&env).run()
    };

    for (value, currency, shown) in [
        ("12.50", "EUR", "12.50 EUR"),
        ("0", "EUR", "0.00 EUR"),
        ("1.234", "KWD", "1.234 KWD"),
        ("500", "JPY", "500 JPY"),
    ] {
        let out = redeem(&["--value", value, "--currency", currency]);
        out.success();
        assert_eq!(out.stdout_lines().len(), 1, "{out}");
        assert!(
            out.stdout.starts_with("redeemed: redemption ")
                && out.stdout.contains(" with code VALUED, value ")
                && out.stdout.ends_with(&format!(", value {shown}\n")),
            "{out}"
        );
    }
    let stored: Vec<(Option<i64>, Option<String>)> =
        sqlx::query_as("SELECT value_minor, currency FROM redemptions ORDER BY id")
            .fetch_all(&db.pool)
            .await
            .unwrap();
    let v = |n: i64, c: &str| (Some(n), Some(c.to_owned()));
    assert_eq!(
        stored,
        [v(1250, "EUR"), v(0, "EUR"), v(1234, "KWD"), v(500, "JPY")]
    );
    // Without a value: as before.
    let out = redeem(&[]);
    out.success();
    assert!(out.stdout.ends_with(" with code VALUED\n"), "{out}");

    // A value that breaks a rule: one line naming the field and the rule, exit 3, nothing
    // recorded.
    let before = redemptions(&db).await;
    for (value, currency, line) in [
        ("-1", "EUR", "value: must be 0 or more"),
        ("5.5", "JPY", "value: JPY has 0 decimal places; got 5.5"),
        ("1.234", "EUR", "value: EUR has 2 decimal places; got 1.234"),
        (
            "ten",
            "EUR",
            "value: must be an amount such as 12.50 (got 'ten')",
        ),
        (
            "1",
            "EURO",
            "currency: must be an ISO 4217 currency code such as EUR (got 'EURO')",
        ),
        // Past the documented maximum of 900,000,000 minor units: no panic, the limit.
        (
            "79228162514264337593543950335",
            "EUR",
            "value: at most 9,000,000.00 EUR",
        ),
        ("1e28", "EUR", "value: at most 9,000,000.00 EUR"),
        ("9000000.01", "EUR", "value: at most 9,000,000.00 EUR"),
        ("900000001", "JPY", "value: at most 900,000,000 JPY"),
        ("900000.001", "KWD", "value: at most 900,000.000 KWD"),
        (
            "1000000000000000000000000000000",
            "EUR",
            "value: too large (at most 9,000,000.00 EUR)",
        ),
    ] {
        let got = redeem(&["--value", value, "--currency", currency]).error_line(3);
        assert_eq!(got, line);
    }
    let got = redeem(&["--value=-2.5", "--currency", "EUR"]).error_line(3);
    assert_eq!(got, "value: must be 0 or more");
    // One without the other is a usage error.
    for extra in [&["--currency", "EUR"][..], &["--value", "3"][..]] {
        let line = redeem(extra).error_line(2);
        assert!(line.contains("required"), "{line}");
    }
    assert_eq!(redemptions(&db).await, before);
}

/// Writes `contents` into a file in `home`'s folder and returns its path as text.
fn file(home: &Home, name: &str, contents: &str) -> String {
    let p = home.0.join(name);
    std::fs::write(&p, contents).unwrap();
    p.display().to_string()
}

#[tokio::test]
async fn redemptions_import_writes_a_good_file_and_refuses_a_bad_one_whole() {
    let db = TestDb::new().await;
    let env = db.pg_env();
    let (deal, m) = setup(&db, 3).await;
    let dir = Home::new();
    let at = (chrono::Utc::now() - chrono::Duration::hours(1))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let id = deal.id;
    let good = file(
        &dir,
        "good.csv",
        &format!(
            "deal_id,member_id,redeemed_at,value,currency,source\n\
             {id},{},{at},12.50,EUR,copy_code\n\
             {id},{},{at},,,copy_code\n\
             {id},{},{at},1.234,KWD,copy_code\n",
            m[0], m[1], m[2]
        ),
    );
    // A dry run checks and writes nothing.
    let out = pd("platform", &["redemptions", "import", &good, "--dry-run"])
        .on(&env)
        .run();
    out.success();
    assert_eq!(
        out.stdout,
        "3 rows valid (for 1 deal); dry run: nothing imported\n"
    );
    assert_eq!(redemptions(&db).await, 0);

    let out = pd("platform", &["redemptions", "import", &good])
        .on(&env)
        .run();
    out.success();
    assert_eq!(out.stderr, "", "{out}");
    assert_eq!(
        out.stdout,
        "3 rows valid; imported 3 redemptions of 1 deal\n"
    );
    assert_eq!(redemptions(&db).await, 3);
    let count: i32 = sqlx::query_scalar("SELECT redemption_count FROM deals WHERE id = $1")
        .bind(id)
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(count, 3);
    assert_eq!(
        db.count(&format!(
            "SELECT count(*) FROM audit_log WHERE action = 'redemption.import' AND entity_id = '{}'",
            good.replace('\'', "''")
        ))
        .await,
        1
    );

    // A bad file: every problem on standard output, one line on standard error, exit 3,
    // nothing written.
    let bad = file(
        &dir,
        "bad.csv",
        &format!(
            "deal_id,member_id,redeemed_at,value,currency,source\n\
             {id},{},{at},12.50,EUR,copy_code\n\
             {id},{},{at},1.234,EUR,copy_code\n\
             {id},{},{at},,EUR,outbound_click\n",
            m[0], m[1], m[2]
        ),
    );
    let out = pd("platform", &["redemptions", "import", &bad])
        .on(&env)
        .run();
    assert_eq!(out.code, 3, "{out}");
    out.assert_clean();
    assert_eq!(
        out.stdout_lines(),
        [
            "line 3: value: EUR has 2 decimal places; got 1.234".to_owned(),
            "line 4: value: required when a currency is given (e.g. 12.50)".to_owned(),
            format!(
                "line 4: source: deal {id} is a coupon deal, so its redemptions are copy_code (got outbound_click)"
            ),
        ]
    );
    assert_eq!(
        out.stderr,
        format!("partnerdesk: {bad}: 2 of 3 rows have a problem; nothing imported\n")
    );
    assert_eq!(redemptions(&db).await, 3);

    // --json: the report as one document, the same exit code.
    let out = pd("platform", &["redemptions", "import", &bad, "--json"])
        .on(&env)
        .run();
    assert_eq!(out.code, 3, "{out}");
    let report: serde_json::Value = serde_json::from_str(&out.stdout).expect("one JSON document");
    assert_eq!(report["rows"], 3);
    assert_eq!(report["bad_rows"], 2);
    assert_eq!(report["problem_count"], 3);
    assert_eq!(report["imported"], 0);
    assert_eq!(report["problems"][0]["line"], 3);
    assert_eq!(report["problems"][0]["field"], "value");
    let out = pd(
        "platform",
        &["redemptions", "import", &good, "--json", "--dry-run"],
    )
    .on(&env)
    .run();
    out.success();
    let report: serde_json::Value = serde_json::from_str(&out.stdout).expect("one JSON document");
    assert_eq!(report["dry_run"], true);
    assert_eq!(report["deals"][0]["deal_id"], id);
    assert_eq!(report["deals"][0]["rows"], 3);

    // A bad header, a missing file, a read-only session.
    let header = file(&dir, "header.csv", "deal,member_id\n");
    let line = pd("platform", &["redemptions", "import", &header])
        .on(&env)
        .run()
        .error_line(3);
    assert!(
        line.starts_with(&format!(
            "{header}: header: unknown column deal; missing columns"
        )),
        "{line}"
    );
    let missing = dir.0.join("nope.csv").display().to_string();
    let line = pd("platform", &["redemptions", "import", &missing])
        .on(&env)
        .run()
        .error_line(1);
    assert_eq!(line, format!("cannot read {missing}: no such file"));
    let line = pd("platform", &["--read-only", "redemptions", "import", &good])
        .on(&env)
        .run()
        .error_line(3);
    assert_eq!(
        line,
        "read-only: recording redemptions is not available in a read-only session"
    );
    assert_eq!(redemptions(&db).await, 3);
}

#[tokio::test]
async fn an_import_value_past_the_maximum_is_a_problem_of_its_line() {
    let db = TestDb::new().await;
    let env = db.pg_env();
    let (deal, m) = setup(&db, 3).await;
    let dir = Home::new();
    let at = (chrono::Utc::now() - chrono::Duration::hours(1))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let id = deal.id;
    let big = file(
        &dir,
        "big.csv",
        &format!(
            "deal_id,member_id,redeemed_at,value,currency,source\n\
             {id},{},{at},9000000.00,EUR,copy_code\n\
             {id},{},{at},1e28,EUR,copy_code\n\
             {id},{},{at},79228162514264337593543950335,JPY,copy_code\n",
            m[0], m[1], m[2]
        ),
    );
    let out = pd("platform", &["redemptions", "import", &big])
        .on(&env)
        .run();
    assert_eq!(out.code, 3, "{out}");
    out.assert_clean();
    assert_eq!(
        out.stdout_lines(),
        [
            "line 3: value: at most 9,000,000.00 EUR",
            "line 4: value: at most 900,000,000 JPY",
        ]
    );
    assert_eq!(
        out.stderr,
        format!("partnerdesk: {big}: 2 of 3 rows have a problem; nothing imported\n")
    );
    assert_eq!(redemptions(&db).await, 0);
}

#[tokio::test]
async fn redemptions_import_problem_lines_show_control_characters_escaped() {
    let db = TestDb::new().await;
    let env = db.pg_env();
    let (deal, m) = setup(&db, 3).await;
    let dir = Home::new();
    let at = (chrono::Utc::now() - chrono::Duration::hours(1))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let id = deal.id;
    // A clipboard write, a screen clear and a NUL in three cells.
    let bad = file(
        &dir,
        "control.csv",
        &format!(
            "deal_id,member_id,redeemed_at,value,currency,source\n\
             {id},{},{at},12.50,\u{1b}]52;c;aGk=\u{7},copy_code\n\
             {id},{},{at},1.00,EUR,copy\u{1b}[2J\n\
             {id},{},{at},1\u{0}2,EUR,copy_code\n",
            m[0], m[1], m[2]
        ),
    );
    let out = pd("platform", &["redemptions", "import", &bad])
        .on(&env)
        .run();
    assert_eq!(out.code, 3, "{out}");
    out.assert_clean();
    assert!(
        !out.stdout.contains(['\u{1b}', '\u{7}', '\u{0}']),
        "no raw control character is printed:{out}"
    );
    let lines = out.stdout_lines();
    assert_eq!(lines.len(), 3, "{out}");
    assert!(lines[0].starts_with("line 2: currency: "), "{out}");
    assert!(lines[0].contains("\\x1b]52;c;aGk=\\x07"), "{out}");
    assert!(lines[1].starts_with("line 3: source: "), "{out}");
    assert!(lines[1].contains("copy\\x1b[2J"), "{out}");
    assert!(lines[2].starts_with("line 4: value: "), "{out}");
    assert!(lines[2].contains("1\\x002"), "{out}");
    assert_eq!(redemptions(&db).await, 0);
}
