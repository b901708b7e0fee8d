//! Marks and a bulk action in a real terminal: rows marked on two pages of the Deals list are
//! paused in one go, each through its own transaction; `Ctrl-a` marks every row the filter
//! matches, and the rows already paused are refused by name.

use super::{Home, OPERATOR, TIMEOUT, console, keys, open_deals, seeded};

/// 150 active link deals titled `Bulkpause 001` … `Bulkpause 150` (ids in that order).
async fn many_deals(db: &super::common::TestDb) -> Vec<i64> {
    let partner: i64 = sqlx::query_scalar(
        "SELECT id FROM partners WHERE verification = 'verified' AND deleted_at IS NULL
         ORDER BY id LIMIT 1",
    )
    .fetch_one(&db.pool)
    .await
    .expect("a verified partner in the demo data");
    sqlx::query(
        "INSERT INTO deals (partner_id, title, kind, redemption_url, audience_scope,
                            valid_from, valid_until, created_by, updated_by)
         SELECT $1, 'Bulkpause ' || lpad(g::text, 3, '0'), 'link', 'https://x.example/' || g,
                'public', now() - interval '1 day', now() + interval '30 days', 'ada', 'ada'
           FROM generate_series(1, 150) g",
    )
    .bind(partner)
    .execute(&db.pool)
    .await
    .expect("insert the deals");
    sqlx::query(
        "UPDATE deals SET state = 'active', version = version + 1 WHERE title LIKE 'Bulkpause %'",
    )
    .execute(&db.pool)
    .await
    .expect("activate them");
    sqlx::query_scalar("SELECT id FROM deals WHERE title LIKE 'Bulkpause %' ORDER BY title")
        .fetch_all(&db.pool)
        .await
        .expect("their ids")
}

async fn paused(db: &super::common::TestDb) -> Vec<i64> {
    sqlx::query_scalar(
        "SELECT id FROM deals WHERE title LIKE 'Bulkpause %' AND state = 'paused' ORDER BY id",
    )
    .fetch_all(&db.pool)
    .await
    .expect("paused deals")
}

#[tokio::test]
async fn rows_marked_on_two_pages_are_paused_in_one_go_and_ctrl_a_marks_every_match() {
    let db = seeded(OPERATOR).await;
    let ids = many_deals(&db).await;
    let home = Home::new();
    let mut p = console(&db, &home, OPERATOR, &[], 120, 40);
    p.wait_for("● connected", TIMEOUT);
    open_deals(&p);
    p.send("/");
    p.wait_for("Enter keeps · Esc restores", TIMEOUT);
    p.type_each("bulkpause");
    p.send(keys::ENTER);
    p.wait_until("the first page of the matches", TIMEOUT, |s| {
        s.contains("filter “bulkpause”") && s.contains("· 100+") && !s.contains("loading…")
    });
    // Newest first: 150, 149, 148 marked on the first page.
    p.send(" ");
    p.send(" ");
    p.send(" ");
    p.wait_for("3 marked", TIMEOUT);
    // G goes to the last page (another page from the server): 001 and 003 marked there.
    p.send("G");
    p.wait_until("the last page", TIMEOUT, |s| {
        s.contains("· last 100") && !s.contains("loading…")
    });
    p.send(" ");
    p.wait_for("4 marked", TIMEOUT);
    p.send("k");
    p.send("k");
    p.send(" ");
    p.wait_for("5 marked", TIMEOUT);
    p.send("p");
    p.wait_for("Pause 5 deals?", TIMEOUT);
    p.send(keys::RIGHT);
    p.send(keys::ENTER);
    p.wait_for("5 paused", TIMEOUT);
    let mut want = vec![ids[149], ids[148], ids[147], ids[0], ids[2]];
    want.sort();
    assert_eq!(paused(&db).await, want, "{}", p.dump());
    // Each row went through the one helper: an audit row and an event per deal.
    let audited: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_log WHERE action = 'deal.pause'
            AND entity_id = ANY($1::bigint[]::text[])",
    )
    .bind(&want)
    .fetch_one(&db.pool)
    .await
    .expect("audit rows");
    assert_eq!(audited, 5);
    p.wait_until("the marks done are cleared", TIMEOUT, |s| {
        !s.contains(" marked ")
    });

    // Ctrl-a: every row the filter matches, from the server (150, not the 100 loaded).
    p.send("\x01");
    p.wait_for("150 rows marked", TIMEOUT);
    p.send("p");
    p.wait_for("Pause 150 deals?", TIMEOUT);
    p.send(keys::RIGHT);
    p.send(keys::ENTER);
    // The five already paused are refused by name and stay marked.
    p.wait_for("145 paused, 5 refused:", TIMEOUT);
    p.wait_for(&format!("#{} already paused", want[0]), TIMEOUT);
    p.wait_for("5 marked", TIMEOUT);
    assert_eq!(paused(&db).await.len(), 150);
    // Esc clears the marks.
    p.send(keys::ESC);
    p.wait_for("5 marks cleared", TIMEOUT);
    p.send("q");
    assert_eq!(p.wait_exit(TIMEOUT), 0);
    p.assert_restored();
}
