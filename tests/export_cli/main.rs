//! `partnerdesk export redemptions`: the real binary against real PostgreSQL — the CSV it
//! writes (to a file or to standard output), what it prints, its refusals, and Ctrl-C.
//!
//! Every run of the binary gets a fresh `PARTNERDESK_HOME`, a known `USER`, no
//! `DATABASE_URL`, and only the PG* settings of the test's own database.

#[path = "../support/cli.rs"]
#[allow(dead_code)]
mod cli;
#[path = "../db/common.rs"]
#[allow(dead_code)]
mod common;

mod safety;

use cli::{BIN, CONNECTION_VARS, TempDir, pd};
use common::{TestDb, active_deal};
use partnerdesk::domain::{FlagKind, Role};
use partnerdesk::service::export::EXPORT_COLUMNS;
use partnerdesk::store::deals::Deal;
use std::process::Command;

/// A deal with an awkward title and `n` redemptions from 2026-03-01 00:00 UTC, a minute apart,
/// by members with awkward handles; one flagged with a note that needs quoting. `sam` is
/// registered as support. Also another deal's redemptions, which are never exported.
async fn fixture(db: &TestDb, n: i64) -> Deal {
    let cara = db.curator().await;
    let sam = db.desk("sam", &[Role::Support]).await;
    let mut deal = active_deal(&cara, "CLIEXP").await;
    let other = active_deal(&cara, "CLIOTHER").await;
    deal.title = "Half off, \"really\"".into();
    sqlx::query("UPDATE deals SET title = $2 WHERE id = $1")
        .bind(deal.id)
        .bind(&deal.title)
        .execute(&db.pool)
        .await
        .unwrap();
    let members: Vec<i64> = sqlx::query_scalar(
        "INSERT INTO members (handle, display_name, role)
         SELECT 'm, \"' || g || '\"', 'Member ' || g, 'public' FROM generate_series(1, 5) g
         RETURNING id",
    )
    .fetch_all(&db.pool)
    .await
    .unwrap();
    for (d, count) in [(&deal, n), (&other, 20)] {
        sqlx::query(
            "INSERT INTO redemptions (deal_id, member_id, source, coupon_code, redeemed_at,
                                      value_minor, currency)
             SELECT $1, ($2::bigint[])[1 + (g % 5)], 'copy_code', $3,
                    timestamptz '2026-03-01 00:00:00+00' + (g - 1) * interval '1 minute',
                    CASE WHEN g % 3 = 0 THEN NULL ELSE 995 + g END,
                    CASE WHEN g % 3 = 0 THEN NULL ELSE 'EUR' END
               FROM generate_series(1, $4) g ORDER BY g",
        )
        .bind(d.id)
        .bind(&members)
        .bind(d.coupon_code.as_deref())
        .bind(count)
        .execute(&db.pool)
        .await
        .unwrap();
    }
    let first: i64 = sqlx::query_scalar("SELECT min(id) FROM redemptions WHERE deal_id = $1")
        .bind(deal.id)
        .fetch_one(&db.pool)
        .await
        .unwrap();
    sam.flag_redemption(
        first,
        FlagKind::Fraud,
        "seen on a forum, \"free codes\"\ntoday",
    )
    .await
    .unwrap();
    deal
}

/// A redemption as a plain SELECT reads it.
#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    deal_id: i64,
    title: String,
    member_id: i64,
    handle: String,
    source: String,
    coupon_code: Option<String>,
    redeemed_at: chrono::DateTime<chrono::Utc>,
    value_minor: Option<i64>,
    currency: Option<String>,
    flag_kind: Option<String>,
    flag_note: Option<String>,
}

/// Each row of the deal in `[from, to)` as the export writes it: twelve fields, NULL as "".
async fn expected(
    db: &TestDb,
    deal_id: i64,
    from: Option<&str>,
    to: Option<&str>,
) -> Vec<Vec<String>> {
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT r.id, r.deal_id, d.title, r.member_id, m.handle, r.source, r.coupon_code,
                r.redeemed_at, r.value_minor, r.currency, r.flag_kind, r.flag_note
           FROM redemptions r JOIN deals d ON d.id = r.deal_id JOIN members m ON m.id = r.member_id
          WHERE r.deal_id = $1
            AND ($2::timestamptz IS NULL OR r.redeemed_at >= $2::timestamptz)
            AND ($3::timestamptz IS NULL OR r.redeemed_at < $3::timestamptz)
          ORDER BY r.redeemed_at, r.id",
    )
    .bind(deal_id)
    .bind(from)
    .bind(to)
    .fetch_all(&db.pool)
    .await
    .unwrap();
    rows.into_iter()
        .map(|r| {
            vec![
                r.id.to_string(),
                r.deal_id.to_string(),
                r.title,
                r.member_id.to_string(),
                r.handle,
                r.source,
                r.coupon_code.unwrap_or_default(),
                r.redeemed_at
                    .to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
                // The value in its currency's units, with the currency's decimals.
                match (r.value_minor, &r.currency) {
                    (Some(v), Some(c)) => {
                        let exp = iso_currency::Currency::from_code(c)
                            .unwrap()
                            .exponent()
                            .unwrap();
                        rust_decimal::Decimal::new(v, exp.into()).to_string()
                    }
                    _ => String::new(),
                },
                r.currency.unwrap_or_default(),
                r.flag_kind.unwrap_or_default(),
                r.flag_note.unwrap_or_default(),
            ]
        })
        .collect()
}

/// The header and records of a CSV text, parsed with the `csv` crate.
fn parse(bytes: &[u8]) -> (Vec<String>, Vec<Vec<String>>) {
    let mut rd = csv::Reader::from_reader(bytes);
    let header = rd.headers().unwrap().iter().map(str::to_owned).collect();
    let rows = rd
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect();
    (header, rows)
}

// Tests ---------------------------------------------------------------------------------------

#[tokio::test]
async fn export_to_a_file_writes_the_rows_of_the_database_and_says_so() {
    let db = TestDb::new().await;
    let deal = fixture(&db, 1500).await;
    let dir = TempDir::new("pd-export-out");
    let out_file = dir.path("march.csv");
    let id = deal.id.to_string();
    let out = pd(
        Some(&db),
        "sam",
        &[
            "export",
            "redemptions",
            "--deal",
            &id,
            "--out",
            out_file.to_str().unwrap(),
        ],
    );
    assert_eq!(out.code, 0, "{out}");
    out.assert_clean();
    // Standard error is not a terminal here: no progress bar, nothing at all.
    assert_eq!(out.stderr, "", "{out}");
    let line = out.stdout_text();
    let prefix = "exported 1500 redemptions (";
    assert!(line.starts_with(prefix), "{out}");
    assert!(
        line.contains(&format!(") to {} in ", out_file.display())),
        "{out}"
    );
    assert_eq!(line.lines().count(), 1, "{out}");
    // Only the file: the temporary one was renamed into place.
    assert_eq!(dir.names(), ["march.csv"]);

    let bytes = std::fs::read(&out_file).unwrap();
    let (header, rows) = parse(&bytes);
    assert_eq!(header, EXPORT_COLUMNS);
    let want = expected(&db, deal.id, None, None).await;
    assert_eq!(want.len(), 1500);
    assert_eq!(rows, want);
    assert_eq!(rows[0][10], "fraud");
    assert_eq!(rows[0][11], "seen on a forum, \"free codes\"\ntoday");
    assert_eq!(rows[0][7], "2026-03-01T00:00:00.000000Z");

    // Without --out the same bytes go to standard output, and nothing else.
    let to_stdout = pd(Some(&db), "sam", &["export", "redemptions", "--deal", &id]);
    assert_eq!(to_stdout.code, 0, "{to_stdout}");
    assert_eq!(to_stdout.stderr, "", "{to_stdout}");
    assert_eq!(to_stdout.stdout, bytes);
}

#[tokio::test]
async fn from_and_to_take_dates_and_rfc3339_times() {
    let db = TestDb::new().await;
    let deal = fixture(&db, 3000).await; // 2026-03-01 00:00 … 03-03 01:59
    let id = deal.id.to_string();

    // A bare date starts at 00:00 UTC and ends with the whole day: the whole of March 2nd.
    let out = pd(
        Some(&db),
        "sam",
        &[
            "export",
            "redemptions",
            "--deal",
            &id,
            "--from",
            "2026-03-02",
            "--to",
            "2026-03-02",
        ],
    );
    assert_eq!(out.code, 0, "{out}");
    let (header, rows) = parse(&out.stdout);
    assert_eq!(header, EXPORT_COLUMNS);
    assert_eq!(rows.len(), 1440);
    assert_eq!(
        rows,
        expected(
            &db,
            deal.id,
            Some("2026-03-02T00:00:00Z"),
            Some("2026-03-03T00:00:00Z")
        )
        .await
    );
    assert_eq!(rows[0][7], "2026-03-02T00:00:00.000000Z");
    assert_eq!(rows[1439][7], "2026-03-02T23:59:00.000000Z");

    // RFC 3339 with an offset: 01:30+01:00 is 00:30 UTC; only --from.
    let out = pd(
        Some(&db),
        "sam",
        &[
            "export",
            "redemptions",
            "--deal",
            &id,
            "--from",
            "2026-03-03T01:30:00+01:00",
        ],
    );
    assert_eq!(out.code, 0, "{out}");
    let (_, rows) = parse(&out.stdout);
    assert_eq!(rows.len(), 90); // 00:30 … 01:59
    assert_eq!(rows[0][7], "2026-03-03T00:30:00.000000Z");

    // An empty range: the header alone.
    let out = pd(
        Some(&db),
        "sam",
        &[
            "export",
            "redemptions",
            "--deal",
            &id,
            "--from",
            "2027-01-01",
        ],
    );
    assert_eq!(out.code, 0, "{out}");
    assert_eq!(out.stdout_text(), format!("{}\n", EXPORT_COLUMNS.join(",")));
}

#[tokio::test]
async fn refusals_are_one_line_and_leave_no_file() {
    let db = TestDb::new().await;
    let deal = fixture(&db, 10).await;
    let dir = TempDir::new("pd-export-refused");
    let out_file = dir.path("x.csv");
    let out_arg = out_file.to_str().unwrap();
    let id = deal.id.to_string();
    let missing = (deal.id + 1000).to_string();

    let out = pd(
        Some(&db),
        "sam",
        &[
            "export",
            "redemptions",
            "--deal",
            &missing,
            "--out",
            out_arg,
        ],
    );
    assert_eq!(out.error_line(4), format!("deal {missing} not found"));

    let out = pd(
        Some(&db),
        "sam",
        &[
            "export",
            "redemptions",
            "--deal",
            &id,
            "--from",
            "2026-03-02",
            "--to",
            "2026-03-01",
            "--out",
            out_arg,
        ],
    );
    assert_eq!(out.error_line(3), "to: must be after from");

    let out = pd(
        Some(&db),
        "sam",
        &[
            "export",
            "redemptions",
            "--deal",
            &id,
            "--from",
            "last tuesday",
        ],
    );
    let line = out.error_line(2);
    assert!(line.contains("'last tuesday' is not a time"), "{out}");
    assert!(line.contains("RFC 3339"), "{out}");

    // An operator who is not registered may not export.
    let out = pd(
        Some(&db),
        "stranger",
        &["export", "redemptions", "--deal", &id, "--out", out_arg],
    );
    let line = out.error_line(3);
    assert!(
        line.starts_with(
            "stranger is not a registered operator, so may not view and export redemptions"
        ),
        "{out}"
    );

    assert!(dir.names().is_empty(), "{:?}", dir.names());
}

#[test]
fn the_help_documents_every_flag() {
    for (sub, flags) in [
        (&["export", "--help"][..], &["redemptions"][..]),
        (
            &["export", "redemptions", "--help"][..],
            &[
                "--deal",
                "--from",
                "--to",
                "--out",
                "RFC 3339",
                "YYYY-MM-DD",
                "export cancelled",
                "flag_note",
            ][..],
        ),
    ] {
        let mut cmd = Command::new(BIN);
        cmd.args(sub);
        for v in CONNECTION_VARS {
            cmd.env_remove(v);
        }
        let home = TempDir::new("pd-export-help");
        let o = cmd
            .env("PARTNERDESK_HOME", &home.0)
            .env("TERM", "dumb")
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&o.stdout);
        assert!(o.status.success(), "{stdout}");
        assert!(stdout.contains("Usage: partnerdesk export"), "{stdout}");
        for flag in flags {
            assert!(stdout.contains(flag), "{flag} documented:\n{stdout}");
        }
    }
}
