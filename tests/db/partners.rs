use crate::common::*;
use partnerdesk::Error;
use partnerdesk::domain::VerificationState;

#[tokio::test]
async fn create_partner_writes_row_audit_and_event_in_one_go() {
    let db = TestDb::new().await;
    let desk = db.curator().await;
    let p = desk.create_partner(&partner_draft("Northwind", "northwind.example")).await.unwrap();
    assert_eq!(p.domain.as_deref(), Some("northwind.example"));
    assert_eq!(p.verification, VerificationState::Pending);
    let (actor, action, after): (String, String, serde_json::Value) = sqlx::query_as(
        "SELECT actor, action, after FROM audit_log WHERE entity_type = 'partner' AND entity_id = $1",
    )
    .bind(p.id.to_string())
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!((actor.as_str(), action.as_str()), ("cara", "partner.create"));
    assert_eq!(after["display_name"], "Northwind");
    assert_eq!(db.count("SELECT count(*) FROM outbox_events WHERE event_type = 'partner.created'").await, 1);
}

#[tokio::test]
async fn duplicate_domain_is_refused_and_names_the_first_partner() {
    let db = TestDb::new().await;
    let desk = db.curator().await;
    let first = desk.create_partner(&partner_draft("Northwind", "northwind.example")).await.unwrap();
    let mut second = partner_draft("Northwind Again", "x.example");
    second.website_url = Some("http://NORTHWIND.example/about".into());
    let audits = db.audit_count().await;
    let err = desk.create_partner(&second).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("website_url: the domain northwind.example already belongs to partner Northwind (#{})", first.id)
    );
    assert!(matches!(err, Error::DuplicateDomain { existing_id, .. } if existing_id == first.id));
    assert_eq!(db.count("SELECT count(*) FROM partners").await, 1);
    assert_eq!(db.audit_count().await, audits, "nothing half-written");
}
