//! The webhook view in the real console (issue 15): an endpoint nobody answers, a real change
//! and a real relay pass; `W` shows the endpoint failing and the delivery's attempt, and `R`
//! replays it through the confirmation (the database checked).

use super::*;

/// `partnerdesk ARGS` as the operator, to its end.
fn run(db: &TestDb, home: &Home, args: &[&str]) -> String {
    let out = std::process::Command::new(BIN)
        .args(args)
        .env_clear()
        .envs(env_for(db, home, OPERATOR))
        .output()
        .expect("run partnerdesk");
    assert!(
        out.status.success(),
        "partnerdesk {args:?}: {}\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test]
async fn a_failing_delivery_is_seen_with_its_attempt_and_replayed() {
    let db = seeded(OPERATOR).await;
    let home = Home::new();
    // The receiver is local: the config file allows loopback endpoints.
    std::fs::create_dir_all(home.path().join("config")).unwrap();
    std::fs::write(
        home.path().join("config").join("config.toml"),
        "[webhooks]\nallow_private_addresses = true\n",
    )
    .unwrap();
    // A port that was just free: nobody answers there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    run(
        &db,
        &home,
        &[
            "webhooks",
            "add",
            "--url",
            &format!("http://127.0.0.1:{port}/hook"),
            "--event",
            "deal.paused",
        ],
    );
    let deal: i64 = sqlx::query_scalar("SELECT min(id) FROM deals WHERE state = 'active'")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    run(&db, &home, &["deals", "pause", &deal.to_string()]);
    run(&db, &home, &["relay", "--once", "--timeout", "2"]);
    let delivery: i64 = sqlx::query_scalar(
        "SELECT id FROM webhook_deliveries WHERE status = 'pending' AND attempts = 1",
    )
    .fetch_one(&db.pool)
    .await
    .expect("one delivery tried once");

    let mut p = console(&db, &home, OPERATOR, &[], 120, 40);
    wait_ready(&p);
    p.send("W");
    p.wait_for("Webhook endpoints · 1", TIMEOUT);
    p.wait_for("failing since", TIMEOUT);
    p.wait_for("Deliveries to endpoint 1", TIMEOUT);
    p.wait_for("deal.paused", TIMEOUT);
    p.send(keys::ENTER);
    p.send(keys::ENTER);
    p.wait_for(&format!("Delivery {delivery}"), TIMEOUT);
    p.wait_for("no answer", TIMEOUT);
    p.wait_for("cannot connect", TIMEOUT);
    // The event is longer than the screen: G scrolls to its end.
    p.send("G");
    p.wait_for("\"to\": \"paused\"", TIMEOUT);

    p.send("R");
    p.wait_for(&format!("Send delivery {delivery} again?"), TIMEOUT);
    p.send(keys::RIGHT);
    p.send(keys::ENTER);
    p.wait_for(&format!("delivery {delivery} queued again"), TIMEOUT);
    assert_eq!(
        db.count(&format!(
            "SELECT count(*) FROM webhook_deliveries WHERE id = {delivery} AND attempts = 0"
        ))
        .await,
        1
    );
    assert_eq!(
        db.count(&format!(
            "SELECT count(*) FROM audit_log WHERE action = 'webhook.replay'
                AND entity_id = '{delivery}' AND actor = '{OPERATOR}'"
        ))
        .await,
        1
    );
    quit(&mut p);
}
