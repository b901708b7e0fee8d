//! Many events, many relays: none lost, none sent twice unless an attempt went unanswered.

use crate::receiver::{Answer, Receiver};
use crate::{Relay, add_endpoint, db, events, wait_count};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// How many times each webhook-id reached a receiver.
fn tally(rx: &Receiver) -> HashMap<String, usize> {
    let mut m = HashMap::new();
    for r in rx.requests() {
        *m.entry(r.header("webhook-id").to_owned()).or_insert(0) += 1;
    }
    m
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_killed_mid_batch_leaves_nothing_undelivered() {
    let db = db().await;
    // A slow receiver, so that the kill lands with requests in flight.
    let rx = Receiver::start(Arc::new(|_, _| {
        Answer::After(Duration::from_millis(20), 200)
    }))
    .await;
    add_endpoint(&db, &rx.url(), &[]);
    let ids = events(&db, 400, "test.ping").await;
    let args = [
        "--concurrency",
        "8",
        "--timeout",
        "1",
        "--lease",
        "1.5",
        "--scan-every",
        "0.2",
    ];
    let first = Relay::start(&db, &args, "0.001");
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while rx.count() < 100 {
        assert!(
            std::time::Instant::now() < deadline,
            "the relay started sending"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    first.kill();
    let stranded = db
        .count("SELECT count(*) FROM webhook_deliveries WHERE status = 'delivering'")
        .await;
    let second = Relay::start(&db, &args, "0.001");
    wait_count(
        &db,
        "SELECT count(*) FROM webhook_deliveries WHERE status = 'delivered'",
        400,
        40,
    )
    .await;
    assert_eq!(second.stop(), 0);
    let seen = tally(&rx);
    for id in &ids {
        assert!(
            seen.contains_key(&format!("evt_{id}")),
            "event {id} delivered"
        );
    }
    let twice: usize = seen.values().map(|n| n - 1).sum();
    let expired = db
        .count(
            "SELECT count(*) FROM webhook_attempts
              WHERE error LIKE 'no outcome:%'",
        )
        .await;
    eprintln!(
        "SIGKILL: {stranded} deliveries leased at the kill, {expired} taken over after the lease, {twice} received twice"
    );
    assert!(
        twice as i64 <= expired,
        "only a delivery whose attempt went unanswered is sent again ({twice} > {expired})"
    );
    assert!(expired <= 8, "at most the requests in flight: {expired}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_relays_deliver_every_event_once_to_each_of_three_endpoints() {
    let db = db().await;
    let receivers = [
        Receiver::answering(200).await,
        Receiver::answering(204).await,
        Receiver::answering(202).await,
    ];
    for rx in &receivers {
        add_endpoint(&db, &rx.url(), &[]);
    }
    const N: i64 = 10_000;
    // Half before the relays start, half while they run, in batches of different sizes.
    let mut ids = events(&db, N / 2, "test.ping").await;
    let args = ["--concurrency", "8", "--scan-every", "0.5"];
    let relays: Vec<Relay> = (0..3).map(|_| Relay::start(&db, &args, "0.001")).collect();
    let mut left = N - N / 2;
    let mut batch = 1;
    while left > 0 {
        let n = batch.min(left);
        ids.extend(events(&db, n, "test.ping").await);
        left -= n;
        batch = batch * 3 % 97 + 1;
    }
    let started = std::time::Instant::now();
    wait_count(
        &db,
        "SELECT count(*) FROM webhook_deliveries WHERE status = 'delivered'",
        3 * N,
        240,
    )
    .await;
    let took = started.elapsed();
    for r in relays {
        assert_eq!(r.stop(), 0);
    }
    assert_eq!(
        db.count("SELECT count(*) FROM webhook_deliveries").await,
        3 * N,
        "one delivery per event and endpoint"
    );
    let unanswered = db
        .count("SELECT count(*) FROM webhook_attempts WHERE error LIKE 'no outcome:%'")
        .await;
    let mut twice_total = 0;
    for rx in &receivers {
        let seen = tally(rx);
        for id in &ids {
            assert!(
                seen.contains_key(&format!("evt_{id}")),
                "event {id} delivered"
            );
        }
        twice_total += seen.values().map(|n| n - 1).sum::<usize>();
    }
    eprintln!(
        "three relays: {} deliveries in {:.1} s after the last event, {twice_total} received twice, {unanswered} unanswered attempts",
        3 * N,
        took.as_secs_f64()
    );
    assert_eq!(
        twice_total as i64, unanswered,
        "a second copy only after an unanswered attempt"
    );
}
