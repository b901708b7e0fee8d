//! The redemption monitor in a real terminal: live counts, and deals entering and leaving the
//! active set, with no key pressed.

use super::common::TestDb;
use super::pty::{TIMEOUT, keys};
use super::{
    BIN, Home, OPERATOR, console, env_for, lines_of, quit, scalar_i64, seeded, table_rows,
    wait_ready,
};
use std::time::Duration;

/// Waits until the console LISTENs on `channel`, so that what is announced next is heard.
async fn wait_listening(db: &TestDb, channel: &str) {
    let deadline = std::time::Instant::now() + TIMEOUT;
    loop {
        let listening = db
            .count(&format!(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = '{}'
                 AND query ILIKE '%LISTEN%{channel}%'",
                db.name
            ))
            .await;
        if listening > 0 {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the console never listened on {channel}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The number in the Redemptions column of the monitor row `index` (top to bottom), with the
/// row's text.
fn monitor_count(screen: &str, index: usize) -> Option<(i64, String)> {
    let lines = lines_of(screen);
    let header = lines
        .iter()
        .find(|l| l.contains(" Deal ") && l.contains("Redemptions"))?;
    let col = header
        .chars()
        .collect::<Vec<_>>()
        .windows(11)
        .position(|w| w.iter().collect::<String>() == "Redemptions")?;
    let row = table_rows(&lines, "Id").into_iter().nth(index)?;
    let count = row
        .chars()
        .skip(col)
        .collect::<String>()
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    Some((count, row))
}

/// A monitor row from its deal's title on (after the id column).
fn deal_cell(row: &str) -> String {
    row.trim_start_matches('│')
        .trim_start()
        .trim_start_matches(|c: char| c.is_ascii_digit())
        .trim_start()
        .to_owned()
}

#[tokio::test]
async fn live_count_in_the_redemption_monitor() {
    let db = seeded(OPERATOR).await;
    // The newest active public deal without a cap, open now: near the top of the monitor
    // (newest first), and any member may redeem it as often as they like.
    let (deal, title, count): (i64, String, i32) = sqlx::query_as(
        "SELECT id, title, redemption_count FROM deals
         WHERE state = 'active' AND audience_scope = 'public' AND redemption_cap IS NULL
           AND valid_from <= now() AND valid_until > now() + interval '1 hour'
         ORDER BY id DESC LIMIT 1",
    )
    .fetch_one(&db.pool)
    .await
    .expect("an active public deal without a cap in the demo data");
    let index = scalar_i64(
        &db,
        "SELECT count(*) FROM deals WHERE state = 'active' AND id > $1",
        deal,
    )
    .await as usize;
    assert!(index < 30, "the deal is on the first screen (row {index})");
    let member: i64 = sqlx::query_scalar(
        "SELECT id FROM members m
         WHERE NOT EXISTS (SELECT 1 FROM redemptions r WHERE r.deal_id = $1 AND r.member_id = m.id)
         ORDER BY id LIMIT 1",
    )
    .bind(deal)
    .fetch_one(&db.pool)
    .await
    .expect("a member who has not redeemed it");

    let home = Home::new();
    let mut p = console(&db, &home, OPERATOR, &[], 120, 40);
    wait_ready(&p);
    p.send("3");
    p.wait_for("Redemption monitor", TIMEOUT);
    let prefix: String = title.chars().take(15).collect();
    let shown = |s: &str, n: i64| {
        monitor_count(s, index)
            .is_some_and(|(c, row)| c == n && deal_cell(&row).starts_with(&prefix))
    };
    p.wait_until(
        &format!("{title:?} with {count} redemptions"),
        TIMEOUT,
        |s| shown(s, count as i64),
    );

    // The console listens for counts: wait until it does, so that the announcement is heard.
    wait_listening(&db, "partnerdesk_redemptions").await;

    // Another process records a redemption; the count on screen moves with no key pressed.
    let out = std::process::Command::new(BIN)
        .args([
            "redeem",
            "--deal",
            &deal.to_string(),
            "--member",
            &member.to_string(),
        ])
        .env_clear()
        .envs(env_for(&db, &home, OPERATOR))
        .output()
        .expect("run partnerdesk redeem");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.starts_with("redeemed:"),
        "redeem failed: {}\n{stdout}{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    p.wait_until(
        &format!("{title:?} with {} redemptions", count + 1),
        TIMEOUT,
        |s| shown(s, count as i64 + 1),
    );
    quit(&mut p);
    assert_eq!(
        scalar_i64(
            &db,
            "SELECT redemption_count::bigint FROM deals WHERE id = $1",
            deal
        )
        .await,
        count as i64 + 1
    );
}

/// Issue 10 item 2: a deal activated elsewhere appears on the monitor, and leaves it when it
/// is paused, with no key pressed; `/` finds it by its title (item 13).
#[tokio::test]
async fn deals_activated_and_paused_elsewhere_come_and_go() {
    let db = seeded(OPERATOR).await;
    // A draft of a verified partner, given a title of its own.
    let title = "Zephyr lantern week for members";
    let deal: i64 = sqlx::query_scalar(
        "UPDATE deals SET title = $1
          WHERE id = (SELECT d.id FROM deals d JOIN partners p ON p.id = d.partner_id
                       WHERE d.state = 'draft' AND p.verification = 'verified'
                       ORDER BY d.id LIMIT 1)
          RETURNING id",
    )
    .bind(title)
    .fetch_one(&db.pool)
    .await
    .expect("a draft of a verified partner in the demo data");
    let active = |db: &TestDb| {
        let db = db.pool.clone();
        async move {
            sqlx::query_scalar::<_, i64>("SELECT count(*) FROM deals WHERE state = 'active'")
                .fetch_one(&db)
                .await
                .unwrap()
        }
    };
    let before = active(&db).await;

    let home = Home::new();
    let mut p = console(&db, &home, OPERATOR, &[], 120, 40);
    wait_ready(&p);
    p.send("3");
    p.wait_for(
        &format!("Redemption monitor · {before} active deals"),
        TIMEOUT,
    );
    wait_listening(&db, "partnerdesk_deal_states").await;

    // Another session activates the deal: the monitor counts it and lists it.
    let set_state = |state: &'static str| {
        let pool = db.pool.clone();
        async move {
            sqlx::query("UPDATE deals SET state = $2, version = version + 1 WHERE id = $1")
                .bind(deal)
                .bind(state)
                .execute(&pool)
                .await
                .unwrap();
        }
    };
    set_state("active").await;
    p.wait_for(
        &format!("Redemption monitor · {} active deals", before + 1),
        TIMEOUT,
    );
    // `/` finds it by its title.
    let words = "zephyr lantern";
    p.send("/");
    p.type_each(words);
    p.send(keys::ENTER);
    p.wait_until(&format!("{title:?} found"), TIMEOUT, |s| {
        let rows = table_rows(&lines_of(s), "Id");
        s.contains("1 active deal matching “zephyr lantern”")
            && rows.len() == 1
            && deal_cell(&rows[0]).starts_with("Zephyr lantern week")
    });
    // Paused elsewhere: it leaves.
    set_state("paused").await;
    p.wait_until(&format!("{title:?} gone"), TIMEOUT, |s| {
        s.contains("0 active deals matching") && s.contains("no active deal has “zephyr lantern”")
    });
    quit(&mut p);
    assert_eq!(active(&db).await, before);
}
