use crate::common::*;
use chrono::{DateTime, Utc};
use partnerdesk::Error;
use partnerdesk::domain::{DealState, Role, VerificationState};
use partnerdesk::service::Desk;
use partnerdesk::store::partners::{Partner, PartnerFilter};

#[tokio::test]
async fn create_partner_writes_row_audit_and_event_in_one_go() {
    let db = TestDb::new().await;
    let desk = db.curator().await;
    let p = desk
        .create_partner(&partner_draft("Northwind", "northwind.example"))
        .await
        .unwrap();
    assert_eq!(p.domain.as_deref(), Some("northwind.example"));
    assert_eq!(p.verification, VerificationState::Pending);
    let (actor, action, after): (String, String, serde_json::Value) = sqlx::query_as(
        "SELECT actor, action, after FROM audit_log WHERE entity_type = 'partner' AND entity_id = $1",
    )
    .bind(p.id.to_string())
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(
        (actor.as_str(), action.as_str()),
        ("cara", "partner.create")
    );
    assert_eq!(after["display_name"], "Northwind");
    assert_eq!(
        db.count("SELECT count(*) FROM outbox_events WHERE event_type = 'partner.created'")
            .await,
        1
    );
}

#[tokio::test]
async fn duplicate_domain_is_refused_and_names_the_first_partner() {
    let db = TestDb::new().await;
    let desk = db.curator().await;
    let first = desk
        .create_partner(&partner_draft("Northwind", "northwind.example"))
        .await
        .unwrap();
    let mut second = partner_draft("Northwind Again", "x.example");
    second.website_url = Some("http://NORTHWIND.example/about".into());
    let audits = db.audit_count().await;
    let err = desk.create_partner(&second).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "website_url: the domain northwind.example already belongs to partner Northwind (#{})",
            first.id
        )
    );
    assert!(matches!(err, Error::DuplicateDomain { existing_id, .. } if existing_id == first.id));
    assert_eq!(db.count("SELECT count(*) FROM partners").await, 1);
    assert_eq!(db.audit_count().await, audits, "nothing half-written");
}

// Helpers ---------------------------------------------------------------------------------

/// The database's own clock (the services stamp `now()` there).
async fn db_clock(db: &TestDb) -> DateTime<Utc> {
    sqlx::query_scalar("SELECT clock_timestamp()")
        .fetch_one(&db.pool)
        .await
        .unwrap()
}

/// The whole stored row of a partner (deleted or not), for "nothing changed" comparisons.
async fn partner_row(db: &TestDb, id: i64) -> serde_json::Value {
    sqlx::query_scalar("SELECT to_jsonb(p) FROM partners p WHERE id = $1")
        .bind(id)
        .fetch_one(&db.pool)
        .await
        .unwrap()
}

async fn outbox_count(db: &TestDb) -> i64 {
    db.count("SELECT count(*) FROM outbox_events").await
}

/// `(actor, action, reason)` of every audit row of one partner, oldest first.
async fn partner_audit(db: &TestDb, id: i64) -> Vec<(String, String, Option<String>)> {
    sqlx::query_as(
        "SELECT actor, action, reason FROM audit_log
          WHERE entity_type = 'partner' AND entity_id = $1 ORDER BY id",
    )
    .bind(id.to_string())
    .fetch_all(&db.pool)
    .await
    .unwrap()
}

/// `(actor, action, entity_id, reason, before state, after state)`.
type AuditRow = (
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
);

#[derive(Debug, Clone, Copy)]
enum Move {
    Vet,
    Disable,
    Revet,
}

/// A refused verification move: the exact message, and nothing written anywhere.
async fn assert_refused(db: &TestDb, desk: &Desk, id: i64, mv: Move, to: &str, reason: &str) {
    let row = partner_row(db, id).await;
    let from = row["verification"].as_str().unwrap().to_owned();
    let audits = db.audit_count().await;
    let events = outbox_count(db).await;
    let res = match mv {
        Move::Vet => desk.mark_vetted(id, None).await,
        Move::Disable => desk.disable_partner(id, None, Some("why not")).await,
        Move::Revet => desk.revet_partner(id, None).await,
    };
    let err = res.expect_err(&format!("{mv:?} from {from} must be refused"));
    assert_eq!(
        err.to_string(),
        format!("cannot move partner {id} from {from} to {to}: {reason}")
    );
    assert!(
        matches!(&err, Error::InvalidTransition { entity: "partner", from: f, to: t, .. } if *f == from && t == to),
        "{err:?}"
    );
    assert_eq!(
        partner_row(db, id).await,
        row,
        "{mv:?} from {from} changed the row"
    );
    assert_eq!(
        db.audit_count().await,
        audits,
        "{mv:?} from {from} wrote audit"
    );
    assert_eq!(
        outbox_count(db).await,
        events,
        "{mv:?} from {from} wrote an event"
    );
}

// Verification ----------------------------------------------------------------------------

#[tokio::test]
async fn verification_moves_record_the_vetter_and_refused_moves_change_nothing() {
    use VerificationState::*;
    let db = TestDb::new().await;
    let cara = db.curator().await;
    let vic = db.desk("vic", &[Role::Curator]).await;
    let p = cara
        .create_partner(&partner_draft("Northwind", "northwind.example"))
        .await
        .unwrap();
    assert_eq!(
        (p.verification, p.vetted_by.as_deref(), p.vetted_at),
        (Pending, None, None)
    );

    // pending: only → verified.
    assert_refused(
        &db,
        &cara,
        p.id,
        Move::Disable,
        "disabled",
        "only a verified partner can be disabled",
    )
    .await;
    assert_refused(
        &db,
        &cara,
        p.id,
        Move::Revet,
        "pending",
        "the partner is already pending",
    )
    .await;

    let t0 = db_clock(&db).await;
    let vetted = cara.mark_vetted(p.id, Some(p.version)).await.unwrap();
    let t1 = db_clock(&db).await;
    assert_eq!(vetted.verification, Verified);
    assert_eq!(vetted.vetted_by.as_deref(), Some("cara"));
    let first_vetted_at = vetted.vetted_at.expect("vetted_at is set");
    assert!(
        t0 <= first_vetted_at && first_vetted_at <= t1,
        "{t0} <= {first_vetted_at} <= {t1}"
    );
    assert_eq!(vetted.version, p.version + 1);
    assert_eq!(
        cara.get_partner(p.id).await.unwrap(),
        vetted,
        "the database holds it"
    );

    // verified: only → disabled.
    assert_refused(
        &db,
        &cara,
        p.id,
        Move::Vet,
        "verified",
        "the partner is already verified",
    )
    .await;
    assert_refused(
        &db,
        &cara,
        p.id,
        Move::Revet,
        "pending",
        "a verified partner must be disabled before it is re-vetted",
    )
    .await;

    let disabled = vic
        .disable_partner(p.id, Some(vetted.version), Some("contract ended"))
        .await
        .unwrap();
    assert_eq!(disabled.verification, Disabled);
    assert_eq!(disabled.updated_by, "vic");
    assert_eq!(
        (disabled.vetted_by.as_deref(), disabled.vetted_at),
        (Some("cara"), Some(first_vetted_at)),
        "disabling keeps the record of who vetted"
    );
    assert_eq!(cara.get_partner(p.id).await.unwrap(), disabled);

    // disabled: only → pending.
    assert_refused(
        &db,
        &cara,
        p.id,
        Move::Vet,
        "verified",
        "re-vet a disabled partner first (disabled → pending → verified)",
    )
    .await;
    assert_refused(
        &db,
        &cara,
        p.id,
        Move::Disable,
        "disabled",
        "the partner is already disabled",
    )
    .await;

    let pending = cara
        .revet_partner(p.id, Some(disabled.version))
        .await
        .unwrap();
    assert_eq!(pending.verification, Pending);
    assert_eq!(cara.get_partner(p.id).await.unwrap(), pending);

    // Vetted again, by somebody else: the new vetter and time are recorded.
    let t2 = db_clock(&db).await;
    let again = vic.mark_vetted(p.id, Some(pending.version)).await.unwrap();
    let t3 = db_clock(&db).await;
    assert_eq!(again.verification, Verified);
    assert_eq!(again.vetted_by.as_deref(), Some("vic"));
    let second_vetted_at = again.vetted_at.unwrap();
    assert!(t2 <= second_vetted_at && second_vetted_at <= t3);
    assert!(second_vetted_at > first_vetted_at);
    assert_eq!(again.version, p.version + 4);
    assert_eq!(cara.get_partner(p.id).await.unwrap(), again);

    let s = |a: &str, b: &str, r: Option<&str>| (a.to_owned(), b.to_owned(), r.map(str::to_owned));
    assert_eq!(
        partner_audit(&db, p.id).await,
        vec![
            s("cara", "partner.create", None),
            s("cara", "partner.vet", None),
            s("vic", "partner.disable", Some("contract ended")),
            s("cara", "partner.revet", None),
            s("vic", "partner.vet", None),
        ]
    );
}

// Optimistic concurrency ------------------------------------------------------------------

#[tokio::test]
async fn stale_update_is_a_conflict_naming_who_changed_it_and_when() {
    let db = TestDb::new().await;
    let cara = db.curator().await;
    let ada = db.admin().await;
    let loaded = cara
        .create_partner(&partner_draft("Northwind", "northwind.example"))
        .await
        .unwrap();

    let mut ada_edit = partner_draft("Northwind", "northwind.example");
    ada_edit.region = Some("US".into());
    let by_ada = ada
        .update_partner(loaded.id, loaded.version, &ada_edit)
        .await
        .unwrap();
    assert_eq!(by_ada.version, loaded.version + 1);

    let mut cara_edit = partner_draft("Northwind Outfitters", "northwind.example");
    cara_edit.notes = Some("cara's notes".into());
    let audits = db.audit_count().await;
    let err = cara
        .update_partner(loaded.id, loaded.version, &cara_edit)
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "partner {} was changed by ada at {} since you loaded it; reload it and apply your change again",
            loaded.id,
            by_ada.updated_at.format("%Y-%m-%d %H:%M:%S UTC")
        )
    );
    match &err {
        Error::Conflict {
            entity,
            id,
            changed_by,
            changed_at,
            current_version,
        } => {
            assert_eq!(*entity, "partner");
            assert_eq!(id, &loaded.id.to_string());
            assert_eq!(changed_by, "ada");
            assert_eq!(*changed_at, by_ada.updated_at);
            assert_eq!(*current_version, by_ada.version);
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
    assert_eq!(
        cara.get_partner(loaded.id).await.unwrap(),
        by_ada,
        "ada's edit stands"
    );
    assert_eq!(db.audit_count().await, audits);

    // Reloading and applying again works, on top of ada's edit's version.
    let retried = cara
        .update_partner(loaded.id, by_ada.version, &cara_edit)
        .await
        .unwrap();
    assert_eq!(retried.display_name, "Northwind Outfitters");
    assert_eq!(retried.notes.as_deref(), Some("cara's notes"));
    assert_eq!(retried.version, by_ada.version + 1);
    assert_eq!(retried.updated_by, "cara");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_concurrent_editors_one_wins_the_other_gets_a_conflict() {
    let db = TestDb::new().await;
    let cara = db.desk("cara", &[Role::Curator]).await;
    let cole = db.desk("cole", &[Role::Curator]).await;
    for round in 0..4 {
        let domain = format!("edit{round}.example");
        let loaded = cara
            .create_partner(&partner_draft(&format!("Edit {round}"), &domain))
            .await
            .unwrap();
        let mut by_cara = partner_draft(&format!("Edit {round} by cara"), &domain);
        by_cara.region = Some("cara".into());
        let mut by_cole = partner_draft(&format!("Edit {round} by cole"), &domain);
        by_cole.region = Some("cole".into());

        let (a, b) = tokio::join!(
            cara.update_partner(loaded.id, loaded.version, &by_cara),
            cole.update_partner(loaded.id, loaded.version, &by_cole),
        );
        let (winner_login, winner, err): (&str, Partner, Error) = match (a, b) {
            (Ok(w), Err(e)) => ("cara", w, e),
            (Err(e), Ok(w)) => ("cole", w, e),
            other => panic!("round {round}: expected exactly one winner, got {other:?}"),
        };
        assert_eq!(winner.updated_by, winner_login);
        assert_eq!(winner.region.as_deref(), Some(winner_login));
        assert_eq!(winner.version, loaded.version + 1);
        match &err {
            Error::Conflict {
                changed_by,
                changed_at,
                current_version,
                ..
            } => {
                assert_eq!(changed_by, winner_login, "round {round}");
                assert_eq!(*changed_at, winner.updated_at);
                assert_eq!(*current_version, winner.version);
            }
            other => panic!("round {round}: expected a conflict, got {other:?}"),
        }
        assert!(
            err.to_string().starts_with(&format!(
                "partner {} was changed by {winner_login} at ",
                loaded.id
            )),
            "{err}"
        );
        assert_eq!(cara.get_partner(loaded.id).await.unwrap(), winner);
        let updates: Vec<String> = sqlx::query_scalar(
            "SELECT actor FROM audit_log
              WHERE action = 'partner.update' AND entity_type = 'partner' AND entity_id = $1",
        )
        .bind(loaded.id.to_string())
        .fetch_all(&db.pool)
        .await
        .unwrap();
        assert_eq!(updates, vec![winner_login.to_owned()], "round {round}");
    }
}

// Delete guard ----------------------------------------------------------------------------

#[tokio::test]
async fn delete_is_refused_while_deals_are_not_expired_then_frees_the_domain() {
    let db = TestDb::new().await;
    let cara = db.curator().await;
    let p = verified_partner(&cara, "Northwind", "northwind.example").await;
    let draft = cara
        .create_deal(&coupon_draft(p.id, "DRAFT1"))
        .await
        .unwrap();
    let mut live = coupon_draft(p.id, "LIVE1");
    live.state = Some("active".into());
    let active = cara.create_deal(&live).await.unwrap();
    assert_eq!(
        (draft.state, active.state),
        (DealState::Draft, DealState::Active)
    );

    let row = partner_row(&db, p.id).await;
    let audits = db.audit_count().await;
    let err = cara.delete_partner(p.id, None, None).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "partner Northwind (#{}) still has 2 deals that are not expired (1 active, 1 draft); \
             pause and expire them first (off-board pauses every active deal in one step)",
            p.id
        )
    );
    assert!(
        matches!(&err, Error::HasDeals { partner_id, count: 2, .. } if *partner_id == p.id),
        "{err:?}"
    );
    assert_eq!(
        partner_row(&db, p.id).await,
        row,
        "refused delete changed nothing"
    );
    assert_eq!(db.audit_count().await, audits);

    // The active one: paused, then expired.
    let paused = cara
        .change_deal_state(active.id, Some(active.version), DealState::Paused, None)
        .await
        .unwrap();
    cara.change_deal_state(paused.id, Some(paused.version), DealState::Expired, None)
        .await
        .unwrap();
    let err = cara.delete_partner(p.id, None, None).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "partner Northwind (#{}) still has 1 deal that is not expired (1 draft); \
             pause and expire them first (off-board pauses every active deal in one step)",
            p.id
        )
    );

    // The draft: paused, then expired.
    let paused = cara
        .change_deal_state(draft.id, Some(draft.version), DealState::Paused, None)
        .await
        .unwrap();
    cara.change_deal_state(paused.id, Some(paused.version), DealState::Expired, None)
        .await
        .unwrap();

    let current = cara.get_partner(p.id).await.unwrap();
    cara.delete_partner(p.id, Some(current.version), Some("contract ended"))
        .await
        .unwrap();

    let err = cara.get_partner(p.id).await.unwrap_err();
    assert_eq!(err.to_string(), format!("partner {} not found", p.id));
    assert!(matches!(
        err,
        Error::NotFound {
            entity: "partner",
            ..
        }
    ));
    let listed = cara
        .list_partners(&PartnerFilter::default(), 100)
        .await
        .unwrap();
    assert!(
        listed.iter().all(|r| r.id != p.id),
        "deleted partner still listed"
    );
    let by_text = PartnerFilter {
        text: Some("northwind".into()),
        ..Default::default()
    };
    assert!(cara.list_partners(&by_text, 100).await.unwrap().is_empty());
    assert_eq!(
        db.count(&format!(
            "SELECT count(*) FROM partners WHERE id = {} AND deleted_at IS NOT NULL AND deleted_by = 'cara'",
            p.id
        ))
        .await,
        1,
        "the row is kept, marked deleted"
    );
    assert_eq!(
        db.count(&format!(
            "SELECT count(*) FROM deals WHERE partner_id = {} AND state = 'expired'",
            p.id
        ))
        .await,
        2,
        "expired deals keep their partner"
    );
    let (reason, before_name, after): (Option<String>, Option<String>, Option<serde_json::Value>) =
        sqlx::query_as(
            "SELECT reason, before->>'display_name', after FROM audit_log
              WHERE action = 'partner.delete' AND entity_id = $1",
        )
        .bind(p.id.to_string())
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(reason.as_deref(), Some("contract ended"));
    assert_eq!(before_name.as_deref(), Some("Northwind"));
    assert_eq!(after, None);

    // The domain is free again.
    let reborn = cara
        .create_partner(&partner_draft("Northwind Reborn", "northwind.example"))
        .await
        .unwrap();
    assert_ne!(reborn.id, p.id);
    assert_eq!(reborn.domain.as_deref(), Some("northwind.example"));
    let listed = cara.list_partners(&by_text, 100).await.unwrap();
    assert_eq!(
        listed.iter().map(|r| r.id).collect::<Vec<_>>(),
        vec![reborn.id]
    );
}

// Off-boarding ----------------------------------------------------------------------------

#[tokio::test]
async fn offboard_pauses_every_active_deal_in_one_transaction_and_reports_what_is_left() {
    let db = TestDb::new().await;
    let cara = db.curator().await;
    let p = verified_partner(&cara, "Northwind", "northwind.example").await;
    let mut active_ids = Vec::new();
    for code in ["ACT1", "ACT2", "ACT3"] {
        let mut d = coupon_draft(p.id, code);
        d.state = Some("active".into());
        active_ids.push(cara.create_deal(&d).await.unwrap().id);
    }
    let draft = cara
        .create_deal(&coupon_draft(p.id, "DRAFT1"))
        .await
        .unwrap();
    let other = active_deal(&cara, "OTHER1").await;
    let indexed_sql = format!(
        "SELECT count(*) FROM deal_search_documents s JOIN deals d ON d.id = s.deal_id WHERE d.partner_id = {}",
        p.id
    );
    assert_eq!(db.count(&indexed_sql).await, 3);
    let audit_before: i64 = db.count("SELECT coalesce(max(id), 0) FROM audit_log").await;

    let report = cara.offboard_partner(p.id, None).await.unwrap();

    let mut paused_ids: Vec<i64> = report.paused.iter().map(|d| d.id).collect();
    paused_ids.sort();
    assert_eq!(paused_ids, active_ids);
    assert!(report.paused.iter().all(|d| d.state == DealState::Paused));
    assert_eq!(
        report.remaining,
        vec![("draft".to_owned(), 1), ("paused".to_owned(), 3)]
    );
    assert_eq!(report.blocking(), 4);
    assert_eq!(report.partner.id, p.id);

    // What the database holds.
    let states: Vec<(String, i64)> = sqlx::query_as(
        "SELECT state, count(*) FROM deals WHERE partner_id = $1 GROUP BY state ORDER BY state",
    )
    .bind(p.id)
    .fetch_all(&db.pool)
    .await
    .unwrap();
    assert_eq!(states, report.remaining);
    assert_eq!(
        db.count(&indexed_sql).await,
        0,
        "paused deals left the search index"
    );
    assert_eq!(
        cara.get_deal(draft.id).await.unwrap(),
        draft,
        "the draft is untouched"
    );
    let other_now = cara.get_deal(other.id).await.unwrap();
    assert_eq!(
        other_now.state,
        DealState::Active,
        "another partner's deal is untouched"
    );
    assert_eq!(
        db.count(&format!(
            "SELECT count(*) FROM deal_search_documents WHERE deal_id = {}",
            other.id
        ))
        .await,
        1
    );
    assert_eq!(
        cara.get_partner(p.id).await.unwrap().verification,
        VerificationState::Verified
    );

    let rows: Vec<AuditRow> = sqlx::query_as(
        "SELECT actor, action, entity_id, reason, before->>'state', after->>'state'
               FROM audit_log WHERE id > $1 ORDER BY id",
    )
    .bind(audit_before)
    .fetch_all(&db.pool)
    .await
    .unwrap();
    assert_eq!(rows.len(), 4, "{rows:#?}");
    for (row, id) in rows.iter().zip(&active_ids) {
        assert_eq!(
            row,
            &(
                "cara".to_owned(),
                "deal.pause".to_owned(),
                id.to_string(),
                Some("partner off-boarded".to_owned()),
                Some("active".to_owned()),
                Some("paused".to_owned()),
            )
        );
    }
    assert_eq!(
        (rows[3].0.as_str(), rows[3].1.as_str(), rows[3].2.as_str()),
        ("cara", "partner.offboard", p.id.to_string().as_str())
    );
    let offboard_after: serde_json::Value = sqlx::query_scalar(
        "SELECT after FROM audit_log WHERE action = 'partner.offboard' AND entity_id = $1",
    )
    .bind(p.id.to_string())
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(
        offboard_after["paused_deals"],
        serde_json::json!(active_ids)
    );

    // One transaction: every row it wrote carries the same transaction id.
    let xids = db
        .count(&format!(
            "SELECT count(DISTINCT x) FROM (
                SELECT xmin::text AS x FROM deals WHERE id IN ({ids})
                UNION ALL SELECT xmin::text FROM audit_log WHERE id > {audit_before}
                UNION ALL SELECT xmin::text FROM outbox_events
                 WHERE event_type = 'deal.paused' AND entity_id IN ({quoted})
             ) t",
            ids = active_ids
                .iter()
                .map(|i| i.to_string())
                .collect::<Vec<_>>()
                .join(","),
            quoted = active_ids
                .iter()
                .map(|i| format!("'{i}'"))
                .collect::<Vec<_>>()
                .join(","),
        ))
        .await;
    assert_eq!(xids, 1, "off-boarding wrote in more than one transaction");
    assert_eq!(
        db.count("SELECT count(*) FROM outbox_events WHERE event_type = 'deal.paused'")
            .await,
        3
    );
}

// Concurrent creation ---------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_creates_with_one_domain_one_wins_the_other_is_named_duplicate() {
    let db = TestDb::new().await;
    let cara = db.desk("cara", &[Role::Curator]).await;
    let cole = db.desk("cole", &[Role::Curator]).await;
    for round in 0..4 {
        let domain = format!("race{round}.example");
        let a = partner_draft(&format!("Alpha {round}"), &domain);
        let mut b = partner_draft(&format!("Beta {round}"), &domain);
        b.website_url = Some(format!("https://WWW.RACE{round}.example/other"));
        let (ra, rb) = tokio::join!(cara.create_partner(&a), cole.create_partner(&b));
        let (winner, err) = match (ra, rb) {
            (Ok(w), Err(e)) | (Err(e), Ok(w)) => (w, e),
            other => panic!("round {round}: expected exactly one winner, got {other:?}"),
        };
        assert_eq!(
            err.to_string(),
            format!(
                "website_url: the domain {domain} already belongs to partner {} (#{})",
                winner.display_name, winner.id
            )
        );
        assert!(
            matches!(&err, Error::DuplicateDomain { existing_id, domain: d, .. } if *existing_id == winner.id && *d == domain),
            "{err:?}"
        );
        assert_eq!(
            db.count(&format!(
                "SELECT count(*) FROM partners WHERE domain = '{domain}'"
            ))
            .await,
            1
        );
        assert_eq!(
            db.count(&format!(
                "SELECT count(*) FROM audit_log WHERE action = 'partner.create' AND after->>'domain' = '{domain}'"
            ))
            .await,
            1,
            "only the winner is audited"
        );
        assert_eq!(
            db.count(&format!(
                "SELECT count(*) FROM outbox_events WHERE event_type = 'partner.created' AND payload->'partner'->>'domain' = '{domain}'"
            ))
            .await,
            1
        );
    }
}

// Validation ------------------------------------------------------------------------------

#[tokio::test]
async fn display_name_over_255_characters_is_refused_by_the_service_and_nothing_is_written() {
    let db = TestDb::new().await;
    let cara = db.curator().await;
    let partners = db.count("SELECT count(*) FROM partners").await;
    let audits = db.audit_count().await;
    let events = outbox_count(&db).await;

    let mut d = partner_draft("Long", "long.example");
    d.display_name = "n".repeat(256);
    let err = cara.create_partner(&d).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "display_name: at most 255 characters (got 256)"
    );
    match &err {
        Error::Validation(v) => {
            assert_eq!(v.0.len(), 1, "{v}");
            assert_eq!(
                v.for_field("display_name"),
                Some("at most 255 characters (got 256)")
            );
        }
        other => panic!("expected a validation error, got {other:?}"),
    }
    assert_eq!(db.count("SELECT count(*) FROM partners").await, partners);
    assert_eq!(db.audit_count().await, audits);
    assert_eq!(outbox_count(&db).await, events);

    d.display_name = "n".repeat(255);
    let p = cara.create_partner(&d).await.unwrap();
    assert_eq!(p.display_name, "n".repeat(255));
    assert_eq!(
        db.count(&format!(
            "SELECT length(display_name)::bigint FROM partners WHERE id = {}",
            p.id
        ))
        .await,
        255
    );

    // Characters, not bytes: 255 two-byte characters fit, 256 do not (on edit too).
    d.display_name = "é".repeat(255);
    let edited = cara.update_partner(p.id, p.version, &d).await.unwrap();
    assert_eq!(edited.display_name.chars().count(), 255);
    let row = partner_row(&db, p.id).await;
    let audits = db.audit_count().await;
    d.display_name = "é".repeat(256);
    let err = cara
        .update_partner(p.id, edited.version, &d)
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "display_name: at most 255 characters (got 256)"
    );
    assert_eq!(partner_row(&db, p.id).await, row);
    assert_eq!(db.audit_count().await, audits);
}
