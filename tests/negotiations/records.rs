//! The database keeps revisions and signed snapshots as they were; contracts are signed by
//! both sides and their benefits fulfilled.

use super::common::TestDb;
use super::thread_with_offer;
use partnerdesk::domain::contract::{BenefitStatus, ContractStatus};
use partnerdesk::domain::negotiation::Side;

async fn refused(db: &TestDb, sql: &str) -> String {
    let e = sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
        .execute(&db.pool)
        .await
        .expect_err(sql);
    e.to_string()
}

#[tokio::test]
async fn the_database_refuses_changing_or_deleting_offer_revisions() {
    let db = TestDb::new().await;
    let desk = db.curator().await;
    thread_with_offer(&db, &desk, "Acme").await;
    // Even the owner (this connection) is refused by the trigger.
    let e = refused(&db, "UPDATE negotiation_offers SET note = 'x'").await;
    assert!(
        e.contains("negotiation_offers is append-only: UPDATE"),
        "{e}"
    );
    let e = refused(&db, "DELETE FROM negotiation_offers").await;
    assert!(e.contains("append-only: DELETE"), "{e}");
    let e = refused(&db, "UPDATE negotiation_messages SET body = 'x'").await;
    assert!(e.contains("append-only"), "{e}");
    let e = refused(
        &db,
        "INSERT INTO negotiation_offers (thread_id, revision, side, author, terms) \
         SELECT thread_id, revision, side, author, terms FROM negotiation_offers",
    )
    .await;
    assert!(e.contains("negotiation_offers_revision_key"), "{e}");
}

#[tokio::test]
async fn a_signed_contract_keeps_its_snapshot() {
    let db = TestDb::new().await;
    let desk = db.curator().await;
    let t = thread_with_offer(&db, &desk, "Acme").await;
    let a = desk.accept_offer(t.id, None, None).await.unwrap();
    let id = a.contract.id;
    let c = desk.sign_contract(id, Side::Marketplace).await.unwrap();
    assert_eq!(c.status, ContractStatus::PendingSignature);
    let e = desk.sign_contract(id, Side::Marketplace).await.unwrap_err();
    assert!(
        e.to_string()
            .contains("already signed for the marketplace side by cara"),
        "{e}"
    );
    let c = desk.sign_contract(id, Side::Partner).await.unwrap();
    assert_eq!(c.status, ContractStatus::Signed);
    let view = desk.get_contract(id).await.unwrap();
    assert_eq!(view.signatures.len(), 2);
    let e = refused(
        &db,
        &format!("UPDATE contracts SET snapshot = '{{}}'::jsonb WHERE id = {id}"),
    )
    .await;
    assert!(e.contains("never changes"), "{e}");
    let e = refused(
        &db,
        &format!("UPDATE contracts SET snapshot_hash = repeat('0', 64) WHERE id = {id}"),
    )
    .await;
    assert!(e.contains("never changes"), "{e}");
    let e = refused(&db, &format!("DELETE FROM contracts WHERE id = {id}")).await;
    assert!(e.contains("never deleted"), "{e}");
    let e = refused(&db, "DELETE FROM contract_signatures").await;
    assert!(e.contains("append-only"), "{e}");
    let e = desk.sign_contract(id, Side::Partner).await.unwrap_err();
    assert!(e.to_string().contains("is signed"), "{e}");
    let done = desk
        .change_contract_status(id, ContractStatus::Completed, "all delivered")
        .await
        .unwrap();
    assert_eq!(done.status, ContractStatus::Completed);
    let e = desk
        .change_contract_status(id, ContractStatus::Disputed, "late")
        .await
        .unwrap_err();
    assert!(e.to_string().contains("final"), "{e}");
}

#[tokio::test]
async fn benefits_are_delivered_or_missed_once_and_overdue_ones_show() {
    let db = TestDb::new().await;
    let desk = db.curator().await;
    let t = thread_with_offer(&db, &desk, "Acme").await;
    let a = desk.accept_offer(t.id, None, None).await.unwrap();
    let id = a.contract.id;
    let e = desk
        .mark_benefit(id, 1, BenefitStatus::Delivered, " ")
        .await
        .unwrap_err();
    assert_eq!(e.to_string(), "note: required");
    let b = desk
        .mark_benefit(id, 1, BenefitStatus::Delivered, "logo live on the homepage")
        .await
        .unwrap();
    assert_eq!(b.status, BenefitStatus::Delivered);
    let e = desk
        .mark_benefit(id, 1, BenefitStatus::Missed, "x")
        .await
        .unwrap_err();
    assert!(e.to_string().contains("final"), "{e}");
    let e = desk
        .mark_benefit(id, 9, BenefitStatus::Missed, "x")
        .await
        .unwrap_err();
    assert_eq!(e.exit_code(), 4);
    // Overdue: a pending benefit past its due date.
    let t2 = thread_with_offer(&db, &desk, "Beta").await;
    let a2 = desk.accept_offer(t2.id, None, None).await.unwrap();
    sqlx::query("UPDATE contract_benefits SET due_date = current_date - 1 WHERE contract_id = $1")
        .bind(a2.contract.id)
        .execute(&db.pool)
        .await
        .unwrap();
    assert_eq!(
        desk.get_contract(a2.contract.id).await.unwrap().overdue,
        vec![1]
    );
    assert!(desk.get_contract(id).await.unwrap().overdue.is_empty());
}
