//! One relay, one endpoint: signatures, retries, 410, Retry-After, timeouts, rotation.

use crate::pd;
use crate::receiver::{Answer, Receiver};
use crate::{ADMIN, Relay, add_endpoint, db, events, verify, wait_count};

use partnerdesk::domain::Role;
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_event_arrives_signed_and_a_receiver_verifies_it() {
    let db = db().await;
    let before = events(&db, 1, "test.before").await;
    let rx = Receiver::answering(204).await;
    let (id, secret) = add_endpoint(&db, &rx.url(), &[]);
    // A real state change through the services, and two written straight into the outbox.
    let desk = db.desk(ADMIN, &[Role::Admin]).await;
    let p = desk
        .create_partner(&crate::common::partner_draft("Hooked", "hooked.example"))
        .await
        .expect("create partner");
    let ids = events(&db, 2, "test.ping").await;

    let out = pd(Some(&db), ADMIN, &["relay", "--once"]);
    out.success();
    assert_eq!(
        out.stdout_text().trim(),
        "relay: 3 attempts: 3 delivered, 0 to retry, 0 failed; 0 endpoints disabled"
    );

    let got = rx.requests();
    assert_eq!(
        got.len(),
        3,
        "the event before the endpoint was added is not sent"
    );
    let mut seen = Vec::new();
    for r in &got {
        let (wid, ts, sig) = (
            r.header("webhook-id"),
            r.header("webhook-timestamp"),
            r.header("webhook-signature"),
        );
        assert!(verify(&secret, wid, ts, &r.body, sig), "signature of {wid}");
        assert_eq!(sig.split(' ').count(), 1, "one secret, one signature");
        assert_eq!(r.header("content-type"), "application/json");
        let now = chrono::Utc::now().timestamp();
        let ts: i64 = ts.parse().expect("unix seconds");
        assert!((now - ts).abs() < 60);
        let body: Value = serde_json::from_slice(&r.body).expect("JSON body");
        assert_eq!(body["id"], wid);
        seen.push((wid.to_owned(), body));
    }
    seen.sort_by(|a, b| a.0.cmp(&b.0));
    let partner_event = seen
        .iter()
        .find(|(_, b)| b["type"] == "partner.created")
        .expect("the partner's event");
    assert_eq!(partner_event.1["entity"]["id"], p.id.to_string());
    assert_eq!(partner_event.1["data"]["partner"]["display_name"], "Hooked");
    for e in ids {
        assert!(seen.iter().any(|(w, _)| *w == format!("evt_{e}")));
    }
    assert!(!seen.iter().any(|(w, _)| *w == format!("evt_{}", before[0])));

    // Listed with their counts; nothing left to send.
    let list = pd(Some(&db), ADMIN, &["webhooks", "list", "--json"]);
    list.success();
    let v: Value = serde_json::from_slice(&list.stdout).unwrap();
    assert_eq!(v[0]["id"], id);
    assert_eq!(v[0]["delivered"], 3);
    assert!(v[0].get("secret").is_none(), "list never shows a secret");
    let again = pd(Some(&db), ADMIN, &["relay", "--once"]);
    assert!(again.stdout_text().starts_with("relay: 0 attempts"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_500_is_retried_on_the_schedule_until_it_succeeds() {
    let db = db().await;
    let rx = Receiver::start(Arc::new(|n, _| {
        if n < 2 {
            Answer::Status(500)
        } else {
            Answer::Status(200)
        }
    }))
    .await;
    add_endpoint(&db, &rx.url(), &["deal.created"]);
    events(&db, 1, "test.other").await;
    let ids = events(&db, 1, "deal.created").await;
    // 5 s and 5 min shrunk to 5 ms and 300 ms.
    let relay = Relay::start(&db, &["--scan-every", "0.2"], "0.001");
    wait_count(
        &db,
        "SELECT count(*) FROM webhook_deliveries WHERE status = 'delivered'",
        1,
        20,
    )
    .await;
    assert_eq!(relay.stop(), 0, "SIGTERM is a clean stop");
    let got = rx.requests();
    assert_eq!(
        got.len(),
        3,
        "two failures and a success; the other type is not sent"
    );
    let wid = format!("evt_{}", ids[0]);
    assert!(
        got.iter().all(|r| r.header("webhook-id") == wid),
        "one id on every retry"
    );
    let gap = got[2].at - got[1].at;
    assert!(
        gap >= Duration::from_millis(250),
        "the second wait is the 5 min step: {gap:?}"
    );
    let attempts: Vec<(Option<i32>, Option<String>)> =
        sqlx::query_as("SELECT status, error FROM webhook_attempts ORDER BY id")
            .fetch_all(&db.pool)
            .await
            .unwrap();
    assert_eq!(attempts.len(), 3);
    assert_eq!(attempts[0].0, Some(500));
    assert_eq!(attempts[2], (Some(200), None));
    let (attempts, failing): (i32, Option<chrono::DateTime<chrono::Utc>>) = sqlx::query_as(
        "SELECT d.attempts, w.failing_since FROM webhook_deliveries d
           JOIN webhook_endpoints w ON w.id = d.endpoint_id",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(attempts, 3);
    assert_eq!(failing, None, "a success ends the failing spell");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_410_disables_the_endpoint_and_says_why() {
    let db = db().await;
    let rx = Receiver::answering(410).await;
    let (id, _) = add_endpoint(&db, &rx.url(), &[]);
    events(&db, 3, "test.ping").await;
    let out = pd(Some(&db), ADMIN, &["relay", "--once", "--concurrency", "1"]);
    out.success();
    assert_eq!(
        rx.count(),
        1,
        "nothing more is sent once the endpoint is disabled"
    );
    let list = pd(Some(&db), ADMIN, &["webhooks", "list", "--json"]);
    let v: Value = serde_json::from_slice(&list.stdout).unwrap();
    assert_eq!(v[0]["enabled"], false);
    let reason = v[0]["disabled_reason"].as_str().unwrap();
    assert!(reason.starts_with("answered 410 Gone"), "{reason}");
    let audit = db
        .count(&format!(
            "SELECT count(*) FROM audit_log WHERE action = 'webhook.disable'
               AND entity_id = '{id}' AND actor = 'system'"
        ))
        .await;
    assert_eq!(audit, 1, "the relay's disabling is audited as the system");
    // The events wait for it: enabling sends them.
    assert_eq!(
        db.count("SELECT count(*) FROM webhook_deliveries WHERE status = 'pending'")
            .await,
        3
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_after_is_honoured() {
    let db = db().await;
    let rx = Receiver::start(Arc::new(|n, _| {
        if n == 0 {
            Answer::With(429, vec![("Retry-After".into(), "1".into())])
        } else {
            Answer::Status(200)
        }
    }))
    .await;
    add_endpoint(&db, &rx.url(), &[]);
    events(&db, 1, "test.ping").await;
    // The schedule alone would retry after 0.5 ms.
    let relay = Relay::start(&db, &["--scan-every", "0.2"], "0.0001");
    wait_count(
        &db,
        "SELECT count(*) FROM webhook_deliveries WHERE status = 'delivered'",
        1,
        20,
    )
    .await;
    relay.stop();
    let got = rx.requests();
    assert_eq!(got.len(), 2);
    let gap = got[1].at - got[0].at;
    assert!(
        gap >= Duration::from_millis(950),
        "Retry-After: 1 waited {gap:?}"
    );
    assert!(gap < Duration::from_secs(5), "{gap:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unanswered_request_times_out_and_is_retried() {
    let db = db().await;
    let rx = Receiver::start(Arc::new(|n, _| {
        if n == 0 {
            Answer::Hang
        } else {
            Answer::Status(200)
        }
    }))
    .await;
    add_endpoint(&db, &rx.url(), &[]);
    events(&db, 1, "test.ping").await;
    let relay = Relay::start(
        &db,
        &["--timeout", "0.5", "--lease", "5", "--scan-every", "0.2"],
        "0.001",
    );
    wait_count(
        &db,
        "SELECT count(*) FROM webhook_deliveries WHERE status = 'delivered'",
        1,
        20,
    )
    .await;
    relay.stop();
    let (status, error, ms): (Option<i32>, String, i32) = sqlx::query_as(
        "SELECT status, error, duration_ms FROM webhook_attempts ORDER BY id LIMIT 1",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(status, None);
    assert!(error.starts_with("no answer within 500ms"), "{error}");
    assert!((450..3000).contains(&ms), "{ms} ms");
    assert_eq!(rx.count(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotated_secret_sends_both_signatures() {
    let db = db().await;
    let rx = Receiver::answering(200).await;
    let (id, old) = add_endpoint(&db, &rx.url(), &[]);
    let out = pd(
        Some(&db),
        ADMIN,
        &["webhooks", "rotate", &id.to_string(), "--json"],
    );
    out.success();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let new = v["secret"].as_str().unwrap().to_owned();
    assert_ne!(new, old);
    assert!(v["previous_expires_at"].is_string());
    events(&db, 1, "test.ping").await;
    pd(Some(&db), ADMIN, &["relay", "--once"]).success();
    let r = &rx.requests()[0];
    let sig = r.header("webhook-signature");
    let parts: Vec<&str> = sig.split(' ').collect();
    assert_eq!(parts.len(), 2, "{sig}");
    let (wid, ts) = (r.header("webhook-id"), r.header("webhook-timestamp"));
    assert!(
        verify(&new, wid, ts, &r.body, parts[0]),
        "the new secret signs first"
    );
    assert!(
        verify(&old, wid, ts, &r.body, parts[1]),
        "the old one too, for a day"
    );
    // The rotation is audited, without either secret.
    let leaked = db
        .count(&format!(
            "SELECT count(*) FROM audit_log WHERE entity_type = 'webhook_endpoint'
               AND (coalesce(before::text, '') || coalesce(after::text, '')) LIKE '%{}%'",
            &new[6..20]
        ))
        .await;
    assert_eq!(leaked, 0);
    assert_eq!(
        db.count("SELECT count(*) FROM audit_log WHERE action = 'webhook.rotate'")
            .await,
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endpoint_failing_for_days_is_disabled() {
    let db = db().await;
    let rx = Receiver::answering(503).await;
    add_endpoint(&db, &rx.url(), &[]);
    events(&db, 2, "test.ping").await;
    // Three days shrunk to 2.6 s; events keep coming meanwhile, as they would.
    let relay = Relay::start(&db, &["--scan-every", "0.2"], "0.00001");
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while db
        .count("SELECT count(*) FROM webhook_endpoints WHERE NOT enabled")
        .await
        == 0
    {
        assert!(std::time::Instant::now() < deadline, "disabled within 30 s");
        events(&db, 1, "test.ping").await;
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    relay.stop();
    let reason: String = sqlx::query_scalar("SELECT disabled_reason FROM webhook_endpoints")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert!(
        reason.starts_with("every attempt failed since") && reason.contains("503"),
        "{reason}"
    );
    assert!(rx.count() >= 4);
}
