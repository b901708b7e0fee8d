//! A refused call leaves no row locked once it has returned: its transaction is rolled back
//! before the call returns, not when the pool gets round to the connection. Else the row stays
//! locked for a moment, and the expiry job (`FOR UPDATE SKIP LOCKED`) run right after skips it
//! (`deals::only_the_expiry_job_moves_an_active_deal_to_expired` failed so under load).

use crate::common::*;
use partnerdesk::Error;
use partnerdesk::domain::DealState;

/// Does a `SKIP LOCKED` read right now skip the deal?
async fn skipped(db: &TestDb, id: i64) -> bool {
    let mut tx = db.pool.begin().await.unwrap();
    let got: Option<i64> =
        sqlx::query_scalar("SELECT id FROM deals WHERE id = $1 FOR UPDATE SKIP LOCKED")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await
            .unwrap();
    tx.rollback().await.unwrap();
    got.is_none()
}

#[tokio::test]
async fn a_refused_state_change_holds_no_lock_once_it_returns() {
    let db = TestDb::new().await;
    let desk = db.curator().await;
    let deal = active_deal(&desk, "DUE").await;
    // Before the fix about a third of these rounds found the row still locked.
    let mut locked = 0;
    for _ in 0..100 {
        let err = desk
            .change_deal_state(deal.id, None, DealState::Expired, None)
            .await
            .unwrap_err();
        assert!(matches!(err, Error::InvalidTransition { .. }), "{err:?}");
        if skipped(&db, deal.id).await {
            locked += 1;
        }
    }
    assert_eq!(locked, 0, "rounds that found the row still locked");
}

#[tokio::test]
async fn a_refused_partner_move_holds_no_lock_once_it_returns() {
    let db = TestDb::new().await;
    let desk = db.curator().await;
    let deal = active_deal(&desk, "DUE").await;
    let mut locked = 0;
    for _ in 0..100 {
        // Sending a verified partner back to pending is refused, after its row was locked.
        let err = desk.revet_partner(deal.partner_id, None).await.unwrap_err();
        assert!(matches!(err, Error::InvalidTransition { .. }), "{err:?}");
        let mut tx = db.pool.begin().await.unwrap();
        let got: Option<i64> =
            sqlx::query_scalar("SELECT id FROM partners WHERE id = $1 FOR UPDATE SKIP LOCKED")
                .bind(deal.partner_id)
                .fetch_optional(&mut *tx)
                .await
                .unwrap();
        tx.rollback().await.unwrap();
        locked += usize::from(got.is_none());
    }
    assert_eq!(locked, 0, "rounds that found the row still locked");
}
