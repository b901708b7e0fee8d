//! `partnerdesk webhooks …`: output, refusals, replays, the audit trail.

use crate::pd;
use crate::receiver::Receiver;
use crate::{ADMIN, add_endpoint, db, events};
use partnerdesk::domain::Role;
use serde_json::Value;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn add_list_disable_enable_and_their_refusals() {
    let db = db().await;
    let out = pd(
        Some(&db),
        ADMIN,
        &[
            "webhooks",
            "add",
            "--url",
            "https://hooks.example.com/pd",
            "--event",
            "deal.created",
            "--event",
            "partner.created",
        ],
    );
    out.success();
    let lines = out.stdout_lines();
    assert!(
        lines[0].starts_with(
            "webhook endpoint 1 added: https://hooks.example.com/pd (deal.created,partner.created)"
        ),
        "{out}"
    );
    let secret = lines[1].strip_prefix("secret: whsec_").expect("the secret");
    assert!(secret.len() >= 32);

    let list = pd(Some(&db), ADMIN, &["webhooks", "list"]);
    list.success();
    let text = list.stdout_text();
    assert!(text.contains("https://hooks.example.com/pd"), "{text}");
    assert!(!text.contains(secret), "the secret is shown once");

    let off = pd(
        Some(&db),
        ADMIN,
        &["webhooks", "disable", "1", "--reason", "maintenance"],
    );
    off.success();
    assert_eq!(
        off.stdout_text(),
        "webhook endpoint 1 disabled: maintenance\n"
    );
    let again = pd(Some(&db), ADMIN, &["webhooks", "disable", "1"]);
    assert_eq!(
        again.error_line(3),
        "webhook endpoint 1 is disabled already"
    );
    pd(Some(&db), ADMIN, &["webhooks", "enable", "1"]).success();

    let missing = pd(Some(&db), ADMIN, &["webhooks", "enable", "99"]);
    assert_eq!(missing.error_line(4), "webhook endpoint 99 not found");
    let bad = pd(
        Some(&db),
        ADMIN,
        &[
            "webhooks",
            "add",
            "--url",
            "ftp://x.example/",
            "--event",
            "Bad",
        ],
    );
    let err = bad.code;
    assert_eq!(err, 3, "{bad}");
    assert!(bad.stderr.contains("url: must be http or https"), "{bad}");

    db.desk("cara", &[Role::Curator]).await;
    let no = pd(Some(&db), "cara", &["webhooks", "list"]);
    assert_eq!(
        no.error_line(3),
        "cara may not view webhook endpoints and deliveries: it needs the admin role"
    );
    let relay = pd(Some(&db), "cara", &["relay", "--once"]);
    relay.error_line(3);

    assert_eq!(
        db.count(
            "SELECT count(*) FROM audit_log WHERE entity_type = 'webhook_endpoint'
               AND action IN ('webhook.add', 'webhook.disable', 'webhook.enable')"
        )
        .await,
        3
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_sends_a_delivery_or_an_event_again() {
    let db = db().await;
    let rx = Receiver::answering(200).await;
    let (id, _) = add_endpoint(&db, &rx.url(), &[]);
    let ev = events(&db, 1, "test.ping").await[0];
    pd(Some(&db), ADMIN, &["relay", "--once"]).success();
    assert_eq!(rx.count(), 1);

    let list = pd(Some(&db), ADMIN, &["webhooks", "deliveries", "--json"]);
    list.success();
    let v: Value = serde_json::from_slice(&list.stdout).unwrap();
    assert_eq!(v[0]["status"], "delivered");
    let delivery = v[0]["id"].as_i64().unwrap();
    let table = pd(
        Some(&db),
        ADMIN,
        &["webhooks", "deliveries", "--endpoint", &id.to_string()],
    );
    table.success();
    assert!(table.stdout_text().contains("delivered"));

    let out = pd(
        Some(&db),
        ADMIN,
        &["webhooks", "replay", "--delivery", &delivery.to_string()],
    );
    out.success();
    pd(Some(&db), ADMIN, &["relay", "--once"]).success();
    assert_eq!(rx.count(), 2);

    // An event replayed to an endpoint added after it.
    let late = Receiver::answering(200).await;
    let (late_id, _) = add_endpoint(&db, &late.url(), &[]);
    let out = pd(
        Some(&db),
        ADMIN,
        &[
            "webhooks",
            "replay",
            "--event",
            &ev.to_string(),
            "--endpoint",
            &late_id.to_string(),
        ],
    );
    out.success();
    assert_eq!(
        out.stdout_text(),
        format!("event {ev} queued again for endpoint {late_id}\n")
    );
    pd(Some(&db), ADMIN, &["relay", "--once"]).success();
    assert_eq!(late.count(), 1);
    assert_eq!(rx.count(), 2);
    let ids: Vec<String> = rx
        .requests()
        .iter()
        .chain(late.requests().iter())
        .map(|r| r.header("webhook-id").to_owned())
        .collect();
    assert!(ids.iter().all(|i| *i == format!("evt_{ev}")), "{ids:?}");
    assert_eq!(
        db.count("SELECT count(*) FROM audit_log WHERE action = 'webhook.replay'")
            .await,
        2
    );
    let none = pd(
        Some(&db),
        ADMIN,
        &["webhooks", "replay", "--event", "999999"],
    );
    assert_eq!(none.error_line(4), "event 999999 not found");

    // One event's deliveries, and one delivery's attempts: two, both answered 200.
    let of_event = pd(
        Some(&db),
        ADMIN,
        &[
            "webhooks",
            "deliveries",
            "--event",
            &ev.to_string(),
            "--json",
        ],
    );
    of_event.success();
    let v: Value = serde_json::from_slice(&of_event.stdout).unwrap();
    let endpoints: Vec<i64> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["endpoint_id"].as_i64().unwrap())
        .collect();
    assert_eq!(endpoints, [late_id, id]);
    let attempts = pd(
        Some(&db),
        ADMIN,
        &["webhooks", "attempts", &delivery.to_string(), "--json"],
    );
    attempts.success();
    let v: Value = serde_json::from_slice(&attempts.stdout).unwrap();
    assert_eq!(v["delivery"]["id"], delivery);
    assert_eq!(v["event"]["id"], ev);
    assert_eq!(v["event"]["event_type"], "test.ping");
    let statuses: Vec<i64> = v["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["status"].as_i64().unwrap())
        .collect();
    assert_eq!(statuses, [200, 200], "the first send and the replay");
    let table = pd(
        Some(&db),
        ADMIN,
        &["webhooks", "attempts", &delivery.to_string()],
    );
    table.success();
    let text = table.stdout_text();
    assert!(
        text.contains("STATUS") && text.lines().filter(|l| l.contains(" 200 ")).count() >= 2,
        "{text}"
    );
    let missing = pd(Some(&db), ADMIN, &["webhooks", "attempts", "424242"]);
    assert_eq!(missing.error_line(4), "webhook delivery 424242 not found");
}

#[test]
fn help_documents_every_subcommand_and_flag() {
    for (args, wanted) in [
        (
            &["webhooks", "--help"][..],
            &[
                "add",
                "list",
                "disable",
                "enable",
                "rotate",
                "replay",
                "deliveries",
            ][..],
        ),
        (
            &["webhooks", "add", "--help"][..],
            &["--url", "--event", "--json"][..],
        ),
        (
            &["webhooks", "replay", "--help"][..],
            &["--delivery", "--event", "--endpoint"][..],
        ),
        (
            &["relay", "--help"][..],
            &[
                "--once",
                "--concurrency",
                "--timeout",
                "--lease",
                "--scan-every",
            ][..],
        ),
    ] {
        let out = pd(None, "u", args);
        out.success();
        for w in wanted {
            assert!(out.stdout_text().contains(w), "{w} documented:{out}");
        }
        assert!(
            !out.stdout_text().contains("retry-scale"),
            "a test knob stays hidden"
        );
    }
    let both = pd(
        None,
        "u",
        &["webhooks", "replay", "--delivery", "1", "--event", "2"],
    );
    assert_eq!(both.code, 2, "{both}");
}

/// Without the config file's allowance, `webhooks add` refuses hosts that are not public
/// (checked on the URL alone: nothing is sent anywhere), unknown event types and a URL over
/// 2,000 characters, each with one line, and writes nothing.
#[tokio::test]
async fn add_refuses_private_addresses_unknown_events_and_long_urls() {
    let db = db().await;
    let audit = db.audit_count().await;
    let allow = "webhooks go to public addresses only (the config file's [webhooks] allow_private_addresses allows others: true, or a list of addresses and networks)";
    for (url, why) in [
        (
            "http://169.254.169.254/latest/meta-data/",
            "169.254.169.254 is a cloud metadata address",
        ),
        ("http://localhost:9/", "localhost is a loopback name"),
        ("http://[::1]:8080/", "::1 is a loopback address"),
        ("http://0x7f000001/", "127.0.0.1 is a loopback address"),
        ("http://2130706433/", "127.0.0.1 is a loopback address"),
        (
            "http://[::ffff:127.0.0.1]/",
            "::ffff:127.0.0.1 is a loopback address",
        ),
        ("http://10.0.0.7/hook", "10.0.0.7 is a private address"),
        ("http://192.168.1.20/", "192.168.1.20 is a private address"),
        ("http://[fe80::1]/", "fe80::1 is a link-local address"),
    ] {
        let out = crate::cli::pd(Some(&db), ADMIN, &["webhooks", "add", "--url", url]);
        assert_eq!(out.error_line(3), format!("url: {why}; {allow}"), "{url}");
    }
    for event in ["deal.activatd", "deal.nonexistent"] {
        let out = crate::cli::pd(
            Some(&db),
            ADMIN,
            &[
                "webhooks",
                "add",
                "--url",
                "https://hooks.example.com/pd",
                "--event",
                event,
            ],
        );
        let line = out.error_line(3);
        assert!(
            line.starts_with(&format!(
                "event: '{event}' is not an event type; the known ones are partner.created, partner.updated, "
            )),
            "{line}"
        );
        assert!(
            line.contains(", deal.activated, ") && line.ends_with(", payout.created"),
            "{line}"
        );
    }
    let long = format!("https://hooks.example.com/{}", "a".repeat(2000));
    let out = crate::cli::pd(Some(&db), ADMIN, &["webhooks", "add", "--url", &long]);
    assert_eq!(out.error_line(3), "url: at most 2000 characters");
    assert_eq!(db.count("SELECT count(*) FROM webhook_endpoints").await, 0);
    assert_eq!(db.audit_count().await, audit, "nothing was recorded");

    // A public address (never contacted here) and a known event are taken.
    crate::cli::pd(
        Some(&db),
        ADMIN,
        &[
            "webhooks",
            "add",
            "--url",
            "https://203.0.113.5/hook",
            "--event",
            "deal.activated",
        ],
    )
    .success();
    assert_eq!(db.count("SELECT count(*) FROM webhook_endpoints").await, 1);
}

/// An endpoint stored before the rule (as the owner) whose name resolves to loopback: the
/// relay without the allowance refuses it before connecting, records a failed attempt with
/// the reason, and the receiver on 127.0.0.1 gets nothing. With the allowance it is sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_relay_refuses_a_stored_endpoint_whose_name_is_loopback() {
    let db = db().await;
    let rx = Receiver::answering(200).await;
    let port = url::Url::parse(&rx.url()).unwrap().port().unwrap();
    for url in [
        format!("http://localhost:{port}/hook"),
        format!("http://0x7f000001:{port}/hook"),
    ] {
        sqlx::query(
            "INSERT INTO webhook_endpoints (url, secret, after_event_id, created_by, updated_by)
             VALUES ($1, 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 0, 'ada', 'ada')",
        )
        .bind(&url)
        .execute(&db.pool)
        .await
        .unwrap();
    }
    events(&db, 1, "deal.created").await;
    crate::cli::pd(Some(&db), ADMIN, &["relay", "--once", "--timeout", "2"]).success();
    assert_eq!(rx.count(), 0, "nothing reached the receiver");
    let errors: Vec<String> = sqlx::query_scalar(
        "SELECT a.error FROM webhook_attempts a JOIN webhook_deliveries d ON d.id = a.delivery_id
         ORDER BY d.endpoint_id",
    )
    .fetch_all(&db.pool)
    .await
    .unwrap();
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(
        errors[0].contains("localhost is a loopback name"),
        "{errors:?}"
    );
    assert!(
        errors[1].contains("127.0.0.1 is a loopback address"),
        "{errors:?}"
    );
    assert_eq!(
        db.count("SELECT count(*) FROM webhook_deliveries WHERE status = 'pending'")
            .await,
        2,
        "a failed attempt, retried on the schedule"
    );
}

/// `[webhooks] allow_private_addresses` as a list allows exactly the addresses and networks
/// it names: with 127.0.0.1 listed, a receiver there is added and sent to; with only another
/// network listed, it is refused when added and, stored already, refused by the relay before
/// anything is sent. A bad entry is a config error naming it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_list_allows_the_addresses_and_networks_it_names_and_nothing_else() {
    let db = db().await;
    let rx = Receiver::answering(200).await;
    let home = |allow: &str| {
        let home = crate::cli::TempDir::new("pd-webhooks-list");
        std::fs::create_dir_all(home.path("config")).unwrap();
        std::fs::write(
            home.path("config").join("config.toml"),
            format!("[webhooks]\nallow_private_addresses = {allow}\n"),
        )
        .unwrap();
        home
    };
    let run = |home: &crate::cli::TempDir, args: &[&str]| {
        crate::cli::output(&mut crate::cli::command(Some(&db), ADMIN, args, home), args)
    };
    let other = home(r#"["10.20.0.0/16"]"#);
    let listed = home(r#"["10.20.0.0/16", "127.0.0.1"]"#);
    let url = rx.url();
    let add = ["webhooks", "add", "--url", url.as_str()];
    assert_eq!(
        run(&other, &add).error_line(3),
        "url: 127.0.0.1 is a loopback address; webhooks go to public addresses only (the config file's [webhooks] allow_private_addresses allows others: true, or a list of addresses and networks)"
    );
    run(&listed, &add).success();
    events(&db, 1, "deal.created").await;
    run(&listed, &["relay", "--once", "--timeout", "2"]).success();
    assert_eq!(rx.count(), 1, "sent to the listed address");

    events(&db, 1, "deal.created").await;
    run(&other, &["relay", "--once", "--timeout", "2"]).success();
    assert_eq!(rx.count(), 1, "nothing more reached the receiver");
    let error: String = sqlx::query_scalar(
        "SELECT a.error FROM webhook_attempts a WHERE a.error IS NOT NULL ORDER BY a.id DESC LIMIT 1",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert!(error.contains("127.0.0.1 is a loopback address"), "{error}");

    let bad = home(r#"["10.0.0/8"]"#);
    let line = run(&bad, &["webhooks", "list"]).error_line(2);
    assert!(
        line.contains("'10.0.0/8' is not an address or a network such as 10.20.0.0/16 or ::1"),
        "{line}"
    );
}
