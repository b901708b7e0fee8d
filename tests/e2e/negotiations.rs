//! Negotiations in the real console: open a thread, counter as the partner, accept, see the
//! draft deal.

use super::*;

#[tokio::test]
async fn open_a_thread_counter_as_the_partner_accept_and_see_the_draft_deal() {
    let db = seeded(OPERATOR).await;
    let (partner_id, partner_name): (i64, String) = sqlx::query_as(
        "SELECT id, display_name FROM partners WHERE verification = 'verified' AND deleted_at IS NULL
         ORDER BY id DESC LIMIT 1",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    let (thread_id, subject): (i64, String) = sqlx::query_as(
        "SELECT id, subject FROM negotiation_threads WHERE status = 'negotiating' ORDER BY id LIMIT 1",
    )
    .fetch_one(&db.pool)
    .await
    .expect("the demo data has a thread under negotiation");
    let home = Home::new();
    let mut p = console(&db, &home, OPERATOR, &[], 120, 40);
    wait_ready(&p);
    p.send("4");
    p.wait_for("Negotiations · sort", TIMEOUT);
    p.wait_for(&subject, TIMEOUT);

    // n: a new thread, its partner picked by name.
    p.send("n");
    p.wait_for("New negotiation", TIMEOUT);
    p.type_each(&partner_name);
    p.wait_for(&format!("Tab picks {partner_name} #{partner_id}"), TIMEOUT);
    p.send(keys::TAB);
    p.wait_for("✓ ", TIMEOUT);
    p.send(keys::TAB);
    p.wait_for("▸ Subject", TIMEOUT);
    p.type_each("E2E season terms");
    p.send(keys::CTRL_S);
    p.wait_for("opened: o makes the first offer", TIMEOUT);
    assert_eq!(
        db.count(&format!(
            "SELECT count(*) FROM negotiation_threads WHERE partner_id = {partner_id} AND subject = 'E2E season terms'"
        ))
        .await,
        1
    );

    // Back to the list; the thread under negotiation, found with /.
    p.send(keys::ESC);
    p.wait_for("Negotiations · sort", TIMEOUT);
    p.send("/");
    p.type_each("status:negotiating");
    p.send(keys::ENTER);
    p.wait_until("only the negotiating thread", TIMEOUT, |s| {
        s.contains(&subject) && !s.contains("E2E season terms")
    });
    p.send(keys::ENTER);
    p.wait_for(&format!("Negotiation #{thread_id}"), TIMEOUT);
    p.wait_for("made revision 3", TIMEOUT);

    // o: the counter-offer, for the partner (its turn), from revision 3's terms.
    p.send("o");
    p.wait_for("Counter-offer for the partner", TIMEOUT);
    assert!(field_row(&p, "For the").contains("partner"), "{}", p.dump());
    p.send(keys::CTRL_S);
    p.wait_for("revision 4 made for the partner", TIMEOUT);
    p.wait_for("made revision 4 for the partner (on its behalf)", TIMEOUT);

    // a: accepted for the marketplace, after saying what it creates.
    p.send("a");
    p.wait_for(
        "Accept revision 4 (made by the partner) for the marketplace.",
        TIMEOUT,
    );
    p.send(keys::RIGHT);
    p.send(keys::ENTER);
    p.wait_for("revision 4 accepted for the marketplace", TIMEOUT);
    let deal: (i64, String) = sqlx::query_as(
        "SELECT d.id, d.state FROM contracts c JOIN deals d ON d.id = c.deal_id WHERE c.thread_id = $1",
    )
    .bind(thread_id)
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(deal.1, "draft");
    p.wait_for(
        &format!("draft #{} (J opens it on the Deals pane)", deal.0),
        TIMEOUT,
    );
    // J: the draft deal, on the Deals pane.
    p.send("J");
    p.wait_for(&format!("Deal #{}", deal.0), TIMEOUT);
    p.wait_until("the deal is a draft", TIMEOUT, |s| {
        s.lines()
            .any(|l| l.contains("State") && l.contains("draft"))
    });
    quit(&mut p);
}
