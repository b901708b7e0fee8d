//! Deal services against real PostgreSQL (SPEC §1.4, §1.5): the state machine, the KYC
//! gate, coupon-code history, the search index, the expiry job, validation, edit rules,
//! concurrent editors and redemption caps.

use crate::common::*;
use partnerdesk::Error;
use partnerdesk::domain::{DealDraft, DealState, Role};
use partnerdesk::error::RedemptionRefusal;
use partnerdesk::service::Desk;
use partnerdesk::store;
use partnerdesk::store::deals::Deal;

// Helpers ---------------------------------------------------------------------------------

/// The form an operator would see when editing `d`.
fn draft_of(d: &Deal) -> DealDraft {
    DealDraft {
        partner_id: Some(d.partner_id),
        title: d.title.clone(),
        description: d.description.clone(),
        kind: d.kind.to_string(),
        coupon_code: d.coupon_code.clone(),
        redemption_url: d.redemption_url.clone(),
        categories: d.categories.clone(),
        audience_scope: d.audience_scope.to_string(),
        audience_scope_value: d.audience_scope_value.clone(),
        valid_from: Some(d.valid_from),
        valid_until: Some(d.valid_until),
        redemption_cap: d.redemption_cap.map(i64::from),
        state: None,
    }
}

/// A coupon deal of `partner_id` brought into `state` through the services only
/// (expired via paused → expired).
async fn deal_in(desk: &Desk, partner_id: i64, code: &str, state: DealState) -> Deal {
    let d = desk
        .create_deal(&coupon_draft(partner_id, code))
        .await
        .expect("create draft deal");
    let step = |d: Deal, to: DealState| async move {
        desk.change_deal_state(d.id, Some(d.version), to, None)
            .await
            .unwrap_or_else(|e| panic!("set up {code} as {to}: {e}"))
    };
    match state {
        DealState::Draft => d,
        DealState::Active => step(d, DealState::Active).await,
        DealState::Paused => step(d, DealState::Paused).await,
        DealState::Expired => {
            let p = step(d, DealState::Paused).await;
            step(p, DealState::Expired).await
        }
    }
}

/// (state, version) as the database holds them.
async fn state_version(db: &TestDb, id: i64) -> (String, i32) {
    sqlx::query_as("SELECT state, version FROM deals WHERE id = $1")
        .bind(id)
        .fetch_one(&db.pool)
        .await
        .expect("deal row")
}

/// The whole deal row as the database holds it.
async fn stored(db: &TestDb, id: i64) -> Deal {
    let mut c = db.pool.acquire().await.unwrap();
    store::deals::get(&mut c, id)
        .await
        .unwrap()
        .expect("deal row")
}

async fn indexed(db: &TestDb, id: i64) -> bool {
    let mut c = db.pool.acquire().await.unwrap();
    store::deals::is_indexed(&mut c, id).await.unwrap()
}

/// The search index holds exactly the active deals, no more and no fewer.
async fn assert_index_is_exactly_the_active_deals(db: &TestDb) {
    let stray = db
        .count(
            "SELECT count(*) FROM deal_search_documents s JOIN deals d ON d.id = s.deal_id
              WHERE d.state <> 'active'",
        )
        .await;
    let missing = db
        .count(
            "SELECT count(*) FROM deals d WHERE d.state = 'active'
                AND NOT EXISTS (SELECT 1 FROM deal_search_documents s WHERE s.deal_id = d.id)",
        )
        .await;
    assert_eq!(
        (stray, missing),
        (0, 0),
        "(non-active indexed, active not indexed)"
    );
}

/// (actor, reason) of each audit row of one deal with this action, oldest first.
async fn deal_audits(db: &TestDb, id: i64, action: &str) -> Vec<(String, Option<String>)> {
    sqlx::query_as(
        "SELECT actor, reason FROM audit_log
          WHERE entity_type = 'deal' AND entity_id = $1 AND action = $2 ORDER BY id",
    )
    .bind(id.to_string())
    .bind(action)
    .fetch_all(&db.pool)
    .await
    .unwrap()
}

/// Moves a deal's window end into the past, behind the services' back (validation refuses
/// such windows for active deals, which is the point of the expiry job).
async fn make_due(db: &TestDb, id: i64) {
    let n = sqlx::query("UPDATE deals SET valid_until = now() - interval '1 hour' WHERE id = $1")
        .bind(id)
        .execute(&db.pool)
        .await
        .unwrap()
        .rows_affected();
    assert_eq!(n, 1);
}

/// Everything a refused call must leave untouched.
async fn written_rows(db: &TestDb) -> [i64; 5] {
    [
        db.count("SELECT count(*) FROM deals").await,
        db.audit_count().await,
        db.count("SELECT count(*) FROM outbox_events").await,
        db.count("SELECT count(*) FROM deal_coupon_codes").await,
        db.count("SELECT count(*) FROM deal_search_documents").await,
    ]
}

fn verb(to: DealState) -> &'static str {
    match to {
        DealState::Active => "activate",
        DealState::Paused => "pause",
        DealState::Expired => "expire",
        DealState::Draft => "draft",
    }
}

// 1. The state machine --------------------------------------------------------------------

#[tokio::test]
async fn every_state_pair_is_allowed_or_refused_exactly_as_the_spec_says() {
    use DealState::*;
    let db = TestDb::new().await;
    let desk = db.curator().await;
    let p = verified_partner(&desk, "Initech", "initech.example").await;
    let allowed = [
        (Draft, Active),
        (Draft, Paused),
        (Active, Paused),
        (Paused, Active),
        (Paused, Expired),
    ];
    let refusal = |from: DealState, to: DealState| -> &'static str {
        match (from, to) {
            (Expired, _) => "an expired deal is final; duplicate it into a new draft",
            (Draft, Draft) => "the deal is already draft",
            (Active, Active) => "the deal is already active",
            (Paused, Paused) => "the deal is already paused",
            (Active, Expired) => {
                "an active deal expires by itself when valid_until passes; pause it first to expire it now"
            }
            (_, Draft) => "a deal never goes back to draft; duplicate it instead",
            (Draft, Expired) => "a draft cannot expire; it was never published",
            _ => unreachable!("{from} -> {to} is allowed"),
        }
    };
    let mut checked = 0;
    for &from in DealState::ALL {
        for &to in DealState::ALL {
            let code = format!(
                "SM{}{}",
                from.as_str().to_uppercase(),
                to.as_str().to_uppercase()
            );
            let before = deal_in(&desk, p.id, &code, from).await;
            assert_eq!(before.state, from);
            let rows = written_rows(&db).await;
            let res = desk
                .change_deal_state(before.id, Some(before.version), to, Some("test"))
                .await;
            if allowed.contains(&(from, to)) {
                let after = res.unwrap_or_else(|e| panic!("{from} -> {to} must be allowed: {e}"));
                assert_eq!(after.state, to, "{from} -> {to}");
                assert_eq!(after.version, before.version + 1, "{from} -> {to}");
                assert_eq!(
                    state_version(&db, before.id).await,
                    (to.as_str().to_owned(), before.version + 1),
                    "{from} -> {to}"
                );
                assert_eq!(
                    deal_audits(&db, before.id, &format!("deal.{}", verb(to)))
                        .await
                        .last(),
                    Some(&("cara".to_owned(), Some("test".to_owned()))),
                    "{from} -> {to} audited"
                );
                assert_eq!(
                    indexed(&db, before.id).await,
                    to == Active,
                    "{from} -> {to} search"
                );
                if to == Active {
                    assert!(stored(&db, before.id).await.published_at.is_some());
                }
            } else {
                let err = res.expect_err(&format!("{from} -> {to} must be refused"));
                assert!(
                    matches!(&err, Error::InvalidTransition { entity: "deal", from: f, to: t, .. }
                        if f == from.as_str() && t == to.as_str()),
                    "{from} -> {to}: {err:?}"
                );
                assert_eq!(
                    err.to_string(),
                    format!(
                        "cannot move deal {} from {from} to {to}: {}",
                        before.id,
                        refusal(from, to)
                    )
                );
                assert_eq!(
                    state_version(&db, before.id).await,
                    (from.as_str().to_owned(), before.version),
                    "{from} -> {to} left the row alone"
                );
                assert_eq!(
                    written_rows(&db).await,
                    rows,
                    "{from} -> {to} wrote nothing"
                );
            }
            checked += 1;
        }
    }
    assert_eq!(checked, 16);
    assert_index_is_exactly_the_active_deals(&db).await;
}

#[tokio::test]
async fn only_the_expiry_job_moves_an_active_deal_to_expired() {
    let db = TestDb::new().await;
    let desk = db.curator().await;
    let p = verified_partner(&desk, "Hooli", "hooli.example").await;
    let due = deal_in(&desk, p.id, "DUE", DealState::Active).await;
    let not_due = deal_in(&desk, p.id, "LATER", DealState::Active).await;
    let paused_due = deal_in(&desk, p.id, "RESTING", DealState::Paused).await;
    make_due(&db, due.id).await;
    make_due(&db, paused_due.id).await;

    // Not by an operator, even once the window is over.
    let err = desk
        .change_deal_state(due.id, Some(due.version), DealState::Expired, None)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidTransition { .. }), "{err:?}");
    assert_eq!(
        state_version(&db, due.id).await,
        ("active".into(), due.version)
    );
    // Nor by an admin.
    let err = db
        .admin()
        .await
        .change_deal_state(due.id, None, DealState::Expired, None)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidTransition { .. }), "{err:?}");
    assert_eq!(deal_audits(&db, due.id, "deal.expire").await, []);

    // The job does it, as the system, and only to active deals whose window has passed.
    let n = desk.expire_due_deals(chrono::Utc::now()).await.unwrap();
    assert_eq!(n, 1);
    let after = stored(&db, due.id).await;
    assert_eq!(
        (after.state, after.version),
        (DealState::Expired, due.version + 1)
    );
    assert_eq!(after.updated_by, "system");
    assert_eq!(
        deal_audits(&db, due.id, "deal.expire").await,
        [("system".to_owned(), Some("valid_until passed".to_owned()))]
    );
    assert_eq!(
        state_version(&db, not_due.id).await,
        ("active".into(), not_due.version)
    );
    assert_eq!(
        state_version(&db, paused_due.id).await,
        ("paused".into(), paused_due.version)
    );
    assert!(!indexed(&db, due.id).await);
    assert!(indexed(&db, not_due.id).await);

    // The job's clock is the `now` it is given.
    let n = desk
        .expire_due_deals(chrono::Utc::now() + chrono::Duration::days(31))
        .await
        .unwrap();
    assert_eq!(n, 1);
    assert_eq!(
        state_version(&db, not_due.id).await,
        ("expired".into(), not_due.version + 1)
    );
    assert_eq!(
        state_version(&db, paused_due.id).await,
        ("paused".into(), paused_due.version)
    );
}

// 2. The KYC gate -------------------------------------------------------------------------

#[tokio::test]
async fn a_deal_of_an_unverified_partner_cannot_become_active_until_vetted() {
    let db = TestDb::new().await;
    let desk = db.curator().await;
    let p = desk
        .create_partner(&partner_draft("Acme Pending", "acme.example"))
        .await
        .unwrap();
    let expected = format!(
        "deal cannot become active: partner Acme Pending (#{}) is pending, not verified; vet the partner first",
        p.id
    );

    // Created active: refused, nothing written.
    let mut active = coupon_draft(p.id, "KYC1");
    active.state = Some("active".into());
    let rows = written_rows(&db).await;
    let err = desk.create_deal(&active).await.unwrap_err();
    assert!(
        matches!(&err, Error::PartnerNotVerified { partner_id, state, .. } if *partner_id == p.id && state == "pending"),
        "{err:?}"
    );
    assert_eq!(err.to_string(), expected);
    assert_eq!(written_rows(&db).await, rows);

    // Created as a draft: fine; activated: refused, row untouched.
    let draft = desk.create_deal(&coupon_draft(p.id, "KYC2")).await.unwrap();
    let rows = written_rows(&db).await;
    let err = desk
        .change_deal_state(draft.id, Some(draft.version), DealState::Active, None)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::PartnerNotVerified { .. }), "{err:?}");
    assert_eq!(err.to_string(), expected);
    assert_eq!(
        state_version(&db, draft.id).await,
        ("draft".into(), draft.version)
    );
    assert_eq!(written_rows(&db).await, rows);

    // After vetting both work.
    desk.mark_vetted(p.id, Some(p.version)).await.unwrap();
    let activated = desk
        .change_deal_state(draft.id, Some(draft.version), DealState::Active, None)
        .await
        .unwrap();
    assert_eq!(
        state_version(&db, draft.id).await,
        ("active".into(), draft.version + 1)
    );
    assert!(indexed(&db, activated.id).await);
    let created = desk.create_deal(&active).await.unwrap();
    assert_eq!(stored(&db, created.id).await.state, DealState::Active);
    assert!(indexed(&db, created.id).await);
}

#[tokio::test]
async fn disabling_a_partner_pauses_its_active_deals_in_the_same_transaction() {
    let db = TestDb::new().await;
    let desk = db.curator().await;
    let p = verified_partner(&desk, "Globex", "globex.example").await;
    let other = verified_partner(&desk, "Umbrella", "umbrella.example").await;
    let a1 = deal_in(&desk, p.id, "GA1", DealState::Active).await;
    let a2 = deal_in(&desk, p.id, "GA2", DealState::Active).await;
    let draft = deal_in(&desk, p.id, "GD", DealState::Draft).await;
    let paused = deal_in(&desk, p.id, "GP", DealState::Paused).await;
    let elsewhere = deal_in(&desk, other.id, "UA", DealState::Active).await;
    let audits = db.audit_count().await;

    let disabled = desk
        .disable_partner(p.id, None, Some("fraud investigation"))
        .await
        .unwrap();
    assert_eq!(disabled.verification.as_str(), "disabled");

    for a in [&a1, &a2] {
        assert_eq!(
            state_version(&db, a.id).await,
            ("paused".into(), a.version + 1)
        );
        assert!(!indexed(&db, a.id).await);
        assert_eq!(
            deal_audits(&db, a.id, "deal.pause").await,
            [(
                "cara".to_owned(),
                Some("partner no longer verified".to_owned())
            )]
        );
    }
    assert_eq!(
        state_version(&db, draft.id).await,
        ("draft".into(), draft.version)
    );
    assert_eq!(
        state_version(&db, paused.id).await,
        ("paused".into(), paused.version)
    );
    assert_eq!(
        state_version(&db, elsewhere.id).await,
        ("active".into(), elsewhere.version)
    );
    assert_eq!(
        db.audit_count().await,
        audits + 3,
        "two pauses and the disable"
    );

    // One transaction: the partner row, both deal rows and the three audit rows were all
    // written by the same transaction id.
    let xids = db
        .count(&format!(
            "SELECT count(DISTINCT x) FROM (
                 SELECT xmin::text AS x FROM partners WHERE id = {p}
                 UNION ALL SELECT xmin::text FROM deals WHERE id IN ({a1}, {a2})
                 UNION ALL SELECT xmin::text FROM audit_log
                  WHERE (entity_type = 'partner' AND entity_id = '{p}' AND action = 'partner.disable')
                     OR (entity_type = 'deal' AND entity_id IN ('{a1}', '{a2}') AND action = 'deal.pause')
             ) t",
            p = p.id,
            a1 = a1.id,
            a2 = a2.id
        ))
        .await;
    assert_eq!(xids, 1);

    // And the gate keeps them paused.
    let err = desk
        .change_deal_state(a1.id, None, DealState::Active, None)
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "deal cannot become active: partner Globex (#{}) is disabled, not verified; vet the partner first",
            p.id
        )
    );
    assert_index_is_exactly_the_active_deals(&db).await;
}

// 3. Coupon code change mid-campaign --------------------------------------------------------

#[tokio::test]
async fn past_redemptions_keep_the_code_they_were_made_with() {
    let db = TestDb::new().await;
    let desk = db.curator().await;
    let deal = active_deal(&desk, "SPRING10").await;
    assert_eq!(deal.redemption_cap, None);
    let pat = member(&db, "pat", "public", false, None, &[]).await;

    let r1 = desk.record_redemption(deal.id, pat, None).await.unwrap();
    assert_eq!(r1.coupon_code.as_deref(), Some("SPRING10"));
    assert_eq!(r1.source, "copy_code");

    let mut edit = draft_of(&stored(&db, deal.id).await);
    edit.coupon_code = Some("SUMMER20".into());
    let edited = desk
        .update_deal(deal.id, deal.version, &edit)
        .await
        .unwrap();
    assert_eq!(edited.coupon_code.as_deref(), Some("SUMMER20"));
    assert_eq!(edited.state, DealState::Active);

    let r2 = desk.record_redemption(deal.id, pat, None).await.unwrap();
    assert_eq!(r2.coupon_code.as_deref(), Some("SUMMER20"));

    let stored_codes: Vec<(i64, Option<String>)> =
        sqlx::query_as("SELECT id, coupon_code FROM redemptions WHERE deal_id = $1 ORDER BY id")
            .bind(deal.id)
            .fetch_all(&db.pool)
            .await
            .unwrap();
    assert_eq!(
        stored_codes,
        [
            (r1.id, Some("SPRING10".to_owned())),
            (r2.id, Some("SUMMER20".to_owned()))
        ]
    );
    assert_eq!(stored(&db, deal.id).await.redemption_count, 2);

    // An edit that keeps the code adds nothing to the history.
    let mut retitle = draft_of(&edited);
    retitle.title = "Summer sale".into();
    desk.update_deal(deal.id, edited.version, &retitle)
        .await
        .unwrap();

    let history = desk.deal_code_history(deal.id).await.unwrap();
    let codes: Vec<(&str, &str)> = history
        .iter()
        .map(|c| (c.code.as_str(), c.set_by.as_str()))
        .collect();
    assert_eq!(codes, [("SPRING10", "cara"), ("SUMMER20", "cara")]);
    assert!(history[0].set_at <= history[1].set_at);
}

// 4. Search documents -------------------------------------------------------------------------

#[tokio::test]
async fn a_deal_is_in_the_search_index_exactly_while_active() {
    let db = TestDb::new().await;
    let desk = db.curator().await;
    let p = verified_partner(&desk, "Stark", "stark.example").await;

    let draft = deal_in(&desk, p.id, "IDXDRAFT", DealState::Draft).await;
    assert!(!indexed(&db, draft.id).await, "a draft is not indexed");
    let mut paused_draft = coupon_draft(p.id, "IDXPAUSED");
    paused_draft.state = Some("paused".into());
    let created_paused = desk.create_deal(&paused_draft).await.unwrap();
    assert!(
        !indexed(&db, created_paused.id).await,
        "created paused: not indexed"
    );

    let mut d = coupon_draft(p.id, "IDX");
    d.state = Some("active".into());
    let deal = desk.create_deal(&d).await.unwrap();
    assert!(indexed(&db, deal.id).await, "created active");
    assert_index_is_exactly_the_active_deals(&db).await;

    let deal = desk
        .change_deal_state(deal.id, Some(deal.version), DealState::Paused, None)
        .await
        .unwrap();
    assert!(!indexed(&db, deal.id).await, "paused");
    assert_index_is_exactly_the_active_deals(&db).await;

    // Editing a paused deal does not put it back.
    let mut edit = draft_of(&deal);
    edit.title = "Xylophone bargains".into();
    let deal = desk
        .update_deal(deal.id, deal.version, &edit)
        .await
        .unwrap();
    assert!(!indexed(&db, deal.id).await, "edited while paused");

    let deal = desk
        .change_deal_state(deal.id, Some(deal.version), DealState::Active, None)
        .await
        .unwrap();
    assert!(indexed(&db, deal.id).await, "resumed");
    let matches = db
        .count(&format!(
            "SELECT count(*) FROM deal_search_documents
              WHERE deal_id = {} AND document @@ plainto_tsquery('english', 'xylophone')",
            deal.id
        ))
        .await;
    assert_eq!(matches, 1, "the resumed document carries the edited title");
    assert_index_is_exactly_the_active_deals(&db).await;

    let deal = desk
        .change_deal_state(deal.id, Some(deal.version), DealState::Paused, None)
        .await
        .unwrap();
    let deal = desk
        .change_deal_state(deal.id, Some(deal.version), DealState::Expired, None)
        .await
        .unwrap();
    assert_eq!(deal.state, DealState::Expired);
    assert!(!indexed(&db, deal.id).await, "expired by hand");
    assert_index_is_exactly_the_active_deals(&db).await;

    let by_job = deal_in(&desk, p.id, "IDXJOB", DealState::Active).await;
    assert!(indexed(&db, by_job.id).await);
    make_due(&db, by_job.id).await;
    assert_eq!(desk.expire_due_deals(chrono::Utc::now()).await.unwrap(), 1);
    assert!(!indexed(&db, by_job.id).await, "expired by the job");
    assert_index_is_exactly_the_active_deals(&db).await;
    assert_eq!(
        db.count("SELECT count(*) FROM deal_search_documents").await,
        0
    );
}

// 5. The expiry job -----------------------------------------------------------------------

#[tokio::test]
async fn the_expiry_job_expires_due_deals_once_and_is_idempotent() {
    let db = TestDb::new().await;
    let desk = db.curator().await;
    let p = verified_partner(&desk, "Wayne", "wayne.example").await;
    let mut due = Vec::new();
    for i in 0..5 {
        let d = deal_in(&desk, p.id, &format!("EXP{i}"), DealState::Active).await;
        make_due(&db, d.id).await;
        due.push(d);
    }
    let fresh = deal_in(&desk, p.id, "FRESH", DealState::Active).await;
    let draft = deal_in(&desk, p.id, "DRAFTDUE", DealState::Draft).await;
    make_due(&db, draft.id).await;
    let paused = deal_in(&desk, p.id, "PAUSEDDUE", DealState::Paused).await;
    make_due(&db, paused.id).await;
    let events = db
        .count("SELECT count(*) FROM outbox_events WHERE event_type = 'deal.expired'")
        .await;

    let now = chrono::Utc::now();
    assert_eq!(desk.expire_due_deals(now).await.unwrap(), 5);
    assert_eq!(desk.expire_due_deals(now).await.unwrap(), 0, "second run");
    assert_eq!(
        desk.expire_due_deals(chrono::Utc::now()).await.unwrap(),
        0,
        "third run"
    );

    for d in &due {
        assert_eq!(
            state_version(&db, d.id).await,
            ("expired".into(), d.version + 1)
        );
        assert_eq!(
            deal_audits(&db, d.id, "deal.expire").await,
            [("system".to_owned(), Some("valid_until passed".to_owned()))]
        );
        assert!(!indexed(&db, d.id).await);
    }
    assert_eq!(
        db.count("SELECT count(*) FROM outbox_events WHERE event_type = 'deal.expired'")
            .await,
        events + 5
    );
    assert_eq!(
        state_version(&db, fresh.id).await,
        ("active".into(), fresh.version)
    );
    assert_eq!(
        state_version(&db, draft.id).await,
        ("draft".into(), draft.version)
    );
    assert_eq!(
        state_version(&db, paused.id).await,
        ("paused".into(), paused.version)
    );
    assert_eq!(
        db.count("SELECT count(*) FROM audit_log WHERE action = 'deal.expire'")
            .await,
        5
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_expiry_jobs_at_once_expire_each_deal_exactly_once() {
    let db = TestDb::new().await;
    let desk = db.curator().await;
    let other = db.admin().await;
    let p = verified_partner(&desk, "Tyrell", "tyrell.example").await;
    let mut total_due = 0;
    for round in 0..3 {
        let mut ids = Vec::new();
        for i in 0..25 {
            let d = deal_in(&desk, p.id, &format!("R{round}N{i}"), DealState::Active).await;
            make_due(&db, d.id).await;
            ids.push(d.id);
        }
        total_due += ids.len() as u64;
        let now = chrono::Utc::now();
        let (a, b) = (desk.clone(), other.clone());
        let (ra, rb) = tokio::join!(
            tokio::spawn(async move { a.expire_due_deals(now).await }),
            tokio::spawn(async move { b.expire_due_deals(now).await }),
        );
        let (ra, rb) = (ra.unwrap().unwrap(), rb.unwrap().unwrap());
        assert_eq!(ra + rb, ids.len() as u64, "round {round}: {ra} + {rb}");
        let list = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
        assert_eq!(
            db.count(&format!(
                "SELECT count(*) FROM deals WHERE id IN ({list}) AND state = 'expired'"
            ))
            .await,
            ids.len() as i64
        );
    }
    let wrong = db
        .count(
            "SELECT count(*) FROM (
                 SELECT d.id FROM deals d
                   LEFT JOIN audit_log a ON a.entity_type = 'deal' AND a.entity_id = d.id::text
                                       AND a.action = 'deal.expire'
                  GROUP BY d.id
                 HAVING count(a.id) <> 1 OR bool_or(a.actor <> 'system')
             ) t",
        )
        .await;
    assert_eq!(
        wrong, 0,
        "deals without exactly one deal.expire audit row by system"
    );
    assert_eq!(
        db.count("SELECT count(*) FROM audit_log WHERE action = 'deal.expire'")
            .await,
        total_due as i64
    );
    assert_eq!(
        db.count("SELECT count(*) FROM deals WHERE version <> 3")
            .await,
        0,
        "created, activated, expired: no deal was written twice"
    );
}

// 6. Validation at the service level ------------------------------------------------------

#[tokio::test]
async fn a_draft_with_several_broken_fields_lists_each_and_writes_nothing() {
    let db = TestDb::new().await;
    let desk = db.curator().await;
    let p = verified_partner(&desk, "Cyberdyne", "cyberdyne.example").await;
    let now = chrono::Utc::now();
    let broken = DealDraft {
        partner_id: Some(p.id),
        title: "   ".into(),
        description: "d".repeat(4_001),
        kind: "voucher".into(),
        coupon_code: None,
        redemption_url: None,
        categories: vec!["c".repeat(65)],
        audience_scope: "batch".into(),
        audience_scope_value: None,
        valid_from: Some(now),
        valid_until: Some(now - chrono::Duration::hours(1)),
        redemption_cap: Some(0),
        state: Some("live".into()),
    };
    let rows = written_rows(&db).await;
    let err = desk.create_deal(&broken).await.unwrap_err();
    let Error::Validation(e) = &err else {
        panic!("expected a validation error, got {err:?}")
    };
    let fields: Vec<&str> = e.0.iter().map(|f| f.field).collect();
    assert_eq!(
        fields,
        [
            "title",
            "description",
            "kind",
            "categories",
            "audience_scope_value",
            "valid_until",
            "redemption_cap",
            "state"
        ]
    );
    assert_eq!(
        err.to_string(),
        "title: required; \
         description: at most 4000 characters (got 4001); \
         kind: must be coupon or link; \
         categories: each entry at most 64 characters (cccccccccccccccccccc… is longer); \
         audience_scope_value: required when scope is batch: a batch year; \
         valid_until: must be strictly after valid_from; \
         redemption_cap: a positive whole number up to 2147483647, or empty for no cap; \
         state: must be draft, active, paused or expired"
    );
    assert_eq!(written_rows(&db).await, rows, "nothing written");
}

#[tokio::test]
async fn a_partner_that_does_not_exist_is_a_validation_error_on_partner() {
    let db = TestDb::new().await;
    let desk = db.curator().await;
    let rows = written_rows(&db).await;
    let err = desk
        .create_deal(&coupon_draft(999_999, "GHOST"))
        .await
        .unwrap_err();
    let Error::Validation(e) = &err else {
        panic!("expected a validation error, got {err:?}")
    };
    assert_eq!(e.0.len(), 1);
    assert_eq!(
        e.for_field("partner"),
        Some("must be an existing partner (no partner #999999)")
    );
    assert_eq!(
        err.to_string(),
        "partner: must be an existing partner (no partner #999999)"
    );
    assert_eq!(written_rows(&db).await, rows);

    // A deleted partner no longer exists for new deals either.
    let gone = desk
        .create_partner(&partner_draft("Gone", "gone.example"))
        .await
        .unwrap();
    desk.delete_partner(gone.id, None, None).await.unwrap();
    let rows = written_rows(&db).await;
    let err = desk
        .create_deal(&coupon_draft(gone.id, "GONE"))
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "partner: must be an existing partner (no partner #{})",
            gone.id
        )
    );
    assert_eq!(written_rows(&db).await, rows);
}

// 7. Edit rules -----------------------------------------------------------------------------

#[tokio::test]
async fn the_cap_cannot_go_below_the_redemptions_already_made() {
    let db = TestDb::new().await;
    let desk = db.curator().await;
    let deal = active_deal(&desk, "CAPPED").await;
    for h in ["m1", "m2", "m3"] {
        let m = member(&db, h, "public", false, None, &[]).await;
        desk.record_redemption(deal.id, m, None).await.unwrap();
    }
    let deal = stored(&db, deal.id).await;
    assert_eq!(deal.redemption_count, 3);

    let mut edit = draft_of(&deal);
    edit.redemption_cap = Some(2);
    let rows = written_rows(&db).await;
    let err = desk
        .update_deal(deal.id, deal.version, &edit)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Validation(_)), "{err:?}");
    assert_eq!(
        err.to_string(),
        "redemption_cap: at least the 3 redemptions already made"
    );
    assert_eq!(stored(&db, deal.id).await, deal, "row unchanged");
    assert_eq!(written_rows(&db).await, rows);

    edit.redemption_cap = Some(3);
    let after = desk
        .update_deal(deal.id, deal.version, &edit)
        .await
        .unwrap();
    assert_eq!(
        (after.redemption_cap, after.version),
        (Some(3), deal.version + 1)
    );
    assert_eq!(stored(&db, deal.id).await.redemption_cap, Some(3));
}

#[tokio::test]
async fn an_expired_deal_cannot_be_edited() {
    let db = TestDb::new().await;
    let desk = db.curator().await;
    let p = verified_partner(&desk, "Soylent", "soylent.example").await;
    let deal = deal_in(&desk, p.id, "OVER", DealState::Expired).await;
    let mut edit = draft_of(&deal);
    edit.title = "Back from the dead".into();
    let rows = written_rows(&db).await;
    let err = desk
        .update_deal(deal.id, deal.version, &edit)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Validation(_)), "{err:?}");
    assert_eq!(
        err.to_string(),
        "state: an expired deal is final and cannot be edited; duplicate it instead"
    );
    assert_eq!(stored(&db, deal.id).await, deal);
    assert_eq!(written_rows(&db).await, rows);

    // Nor can an edit sneak a state change in.
    let live = deal_in(&desk, p.id, "LIVE", DealState::Draft).await;
    let mut edit = draft_of(&live);
    edit.state = Some("active".into());
    let err = desk
        .update_deal(live.id, live.version, &edit)
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "state: change the state with activate, pause or expire, not by editing"
    );
    assert_eq!(stored(&db, live.id).await, live);
}

#[tokio::test]
async fn a_stale_version_is_a_conflict_naming_who_changed_it() {
    let db = TestDb::new().await;
    let cara = db.curator().await;
    let carl = db.desk("carl", &[Role::Curator]).await;
    let deal = active_deal(&cara, "STALE").await;

    let mut carls = draft_of(&deal);
    carls.title = "Carl's title".into();
    let saved = carl
        .update_deal(deal.id, deal.version, &carls)
        .await
        .unwrap();

    let mut caras = draft_of(&deal);
    caras.title = "Cara's title".into();
    let rows = written_rows(&db).await;
    let err = cara
        .update_deal(deal.id, deal.version, &caras)
        .await
        .unwrap_err();
    match &err {
        Error::Conflict {
            entity,
            changed_by,
            current_version,
            changed_at,
            ..
        } => {
            assert_eq!((*entity, changed_by.as_str()), ("deal", "carl"));
            assert_eq!(*current_version, deal.version + 1);
            assert_eq!(*changed_at, saved.updated_at);
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
    assert_eq!(
        err.to_string(),
        format!(
            "deal {} was changed by carl at {} since you loaded it; reload it and apply your change again",
            deal.id,
            saved.updated_at.format("%Y-%m-%d %H:%M:%S UTC")
        )
    );
    let now = stored(&db, deal.id).await;
    assert_eq!(
        (now.title.as_str(), now.version, now.updated_by.as_str()),
        ("Carl's title", deal.version + 1, "carl")
    );
    assert_eq!(written_rows(&db).await, rows);

    // A state change on the stale version is a conflict too.
    let err = cara
        .change_deal_state(deal.id, Some(deal.version), DealState::Paused, None)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Conflict { changed_by, .. } if changed_by == "carl"),
        "{err:?}"
    );
    assert_eq!(
        state_version(&db, deal.id).await,
        ("active".into(), deal.version + 1)
    );
}

// 8. Two concurrent editors -------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_concurrent_editors_one_wins_the_other_gets_a_conflict() {
    let db = TestDb::new().await;
    let cara = db.curator().await;
    let carl = db.desk("carl", &[Role::Curator]).await;
    let deal = active_deal(&cara, "RACE").await;
    for round in 0..5 {
        // Both load the same version.
        let (seen_a, seen_b) = tokio::join!(cara.get_deal(deal.id), carl.get_deal(deal.id));
        let (seen_a, seen_b) = (seen_a.unwrap(), seen_b.unwrap());
        assert_eq!(seen_a.version, seen_b.version);
        let v = seen_a.version;
        let mut da = draft_of(&seen_a);
        da.title = format!("cara round {round}");
        let mut dc = draft_of(&seen_b);
        dc.title = format!("carl round {round}");
        let (a, b) = (cara.clone(), carl.clone());
        let id = deal.id;
        let (ra, rb) = tokio::join!(
            tokio::spawn(async move { a.update_deal(id, v, &da).await }),
            tokio::spawn(async move { b.update_deal(id, v, &dc).await }),
        );
        let (ra, rb) = (ra.unwrap(), rb.unwrap());
        let (winner, won, lost) = match (ra, rb) {
            (Ok(w), Err(l)) => ("cara", w, l),
            (Err(l), Ok(w)) => ("carl", w, l),
            (a, b) => panic!("round {round}: exactly one must succeed: {a:?} / {b:?}"),
        };
        match &lost {
            Error::Conflict {
                changed_by,
                current_version,
                ..
            } => {
                assert_eq!(changed_by, winner, "round {round}");
                assert_eq!(*current_version, v + 1, "round {round}");
            }
            other => panic!("round {round}: loser must get a conflict, got {other:?}"),
        }
        let now = stored(&db, deal.id).await;
        assert_eq!(now.title, format!("{winner} round {round}"));
        assert_eq!((now.version, now.updated_by.as_str()), (v + 1, winner));
        assert_eq!(won, now);
    }
    let updates: Vec<(String,)> = sqlx::query_as(
        "SELECT actor FROM audit_log WHERE entity_type = 'deal' AND entity_id = $1 AND action = 'deal.update'",
    )
    .bind(deal.id.to_string())
    .fetch_all(&db.pool)
    .await
    .unwrap();
    assert_eq!(
        updates.len(),
        5,
        "one audit row per round, for the winner only"
    );
    assert_eq!(stored(&db, deal.id).await.version, deal.version + 5);
}

// 9. Redemption caps ---------------------------------------------------------------------------

#[tokio::test]
async fn cap_one_refuses_a_second_redemption_naming_the_first() {
    let db = TestDb::new().await;
    let desk = db.curator().await;
    let p = verified_partner(&desk, "Oscorp", "oscorp.example").await;
    let mut d = coupon_draft(p.id, "ONCE");
    d.state = Some("active".into());
    d.redemption_cap = Some(1);
    let deal = desk.create_deal(&d).await.unwrap();
    let pat = member(&db, "pat", "public", false, None, &[]).await;

    let first = desk.record_redemption(deal.id, pat, None).await.unwrap();
    let rows = written_rows(&db).await;
    let err = desk
        .record_redemption(deal.id, pat, None)
        .await
        .unwrap_err();
    assert!(
        matches!(
            &err,
            Error::Redemption(RedemptionRefusal::AlreadyRedeemed { deal_id, member_id, redeemed_at })
                if *deal_id == deal.id && *member_id == pat && *redeemed_at == first.redeemed_at
        ),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        format!(
            "already redeemed: member {pat} redeemed deal {} at {}",
            deal.id,
            first.redeemed_at.format("%Y-%m-%d %H:%M:%S%.3f UTC")
        )
    );
    assert_eq!(written_rows(&db).await, rows);
    assert_eq!(
        db.count(&format!(
            "SELECT count(*) FROM redemptions WHERE deal_id = {}",
            deal.id
        ))
        .await,
        1
    );
    assert_eq!(stored(&db, deal.id).await.redemption_count, 1);

    // Cap 1 is one per member, not one in total: other members still redeem.
    let quinn = member(&db, "quinn", "public", false, None, &[]).await;
    let ruth = member(&db, "ruth", "public", false, None, &[]).await;
    desk.record_redemption(deal.id, quinn, None).await.unwrap();
    desk.record_redemption(deal.id, ruth, None).await.unwrap();
    assert!(desk.record_redemption(deal.id, ruth, None).await.is_err());
    assert_eq!(stored(&db, deal.id).await.redemption_count, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn cap_one_holds_when_the_same_member_races_itself() {
    let db = TestDb::with_connections(20).await;
    let desk = db.curator().await;
    let p = verified_partner(&desk, "Racer", "racer.example").await;
    let mut d = coupon_draft(p.id, "RACE");
    d.state = Some("active".into());
    d.redemption_cap = Some(1);
    let deal = desk.create_deal(&d).await.unwrap();
    let pat = member(&db, "pat", "public", false, None, &[]).await;
    let mut tasks = Vec::new();
    for _ in 0..50 {
        let desk = desk.clone();
        tasks.push(tokio::spawn(async move {
            desk.record_redemption(deal.id, pat, None).await
        }));
    }
    let mut ok = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => ok += 1,
            Err(Error::Redemption(RedemptionRefusal::AlreadyRedeemed { .. })) => {}
            Err(e) => panic!("unexpected refusal: {e:?}"),
        }
    }
    assert_eq!(ok, 1);
    assert_eq!(
        db.count(&format!(
            "SELECT count(*) FROM redemptions WHERE deal_id = {}",
            deal.id
        ))
        .await,
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn cap_n_admits_exactly_n_of_many_concurrent_members() {
    const CAP: i32 = 50;
    const ATTEMPTS: usize = 200;
    let db = TestDb::with_connections(20).await;
    let curator = db.curator().await;
    let p = verified_partner(&curator, "Massive Dynamic", "massive.example").await;
    let mut d = coupon_draft(p.id, "FIFTY");
    d.state = Some("active".into());
    d.redemption_cap = Some(CAP.into());
    let deal = curator.create_deal(&d).await.unwrap();
    let mut members = Vec::with_capacity(ATTEMPTS);
    for i in 0..ATTEMPTS {
        members.push(member(&db, &format!("shopper{i}"), "public", false, None, &[]).await);
    }
    // The platform records redemptions: an unregistered caller.
    let platform = Desk::for_operator(db.pool.clone(), "storefront", true)
        .await
        .unwrap();

    let tasks: Vec<_> = members
        .iter()
        .map(|&m| {
            let desk = platform.clone();
            let id = deal.id;
            tokio::spawn(async move { desk.record_redemption(id, m, None).await })
        })
        .collect();
    let mut admitted = 0;
    let mut capped = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(r) => {
                assert_eq!(r.coupon_code.as_deref(), Some("FIFTY"));
                admitted += 1;
            }
            Err(Error::Redemption(RedemptionRefusal::CapReached { deal_id, cap })) => {
                assert_eq!((deal_id, cap), (deal.id, CAP));
                capped += 1;
            }
            Err(e) => panic!("unexpected refusal: {e}"),
        }
    }
    assert_eq!((admitted, capped), (CAP, ATTEMPTS as i32 - CAP));
    assert_eq!(
        db.count(&format!(
            "SELECT count(*) FROM redemptions WHERE deal_id = {}",
            deal.id
        ))
        .await,
        CAP as i64
    );
    assert_eq!(
        db.count(&format!(
            "SELECT count(DISTINCT member_id) FROM redemptions WHERE deal_id = {}",
            deal.id
        ))
        .await,
        CAP as i64
    );
    assert_eq!(stored(&db, deal.id).await.redemption_count, CAP);
    assert_eq!(
        db.count("SELECT count(*) FROM audit_log WHERE action = 'redemption.record' AND actor = 'platform'").await,
        CAP as i64
    );
    let extra = member(&db, "latecomer", "public", false, None, &[]).await;
    let err = platform
        .record_redemption(deal.id, extra, None)
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("cap reached: deal {} allows 50 redemptions", deal.id)
    );
}

#[tokio::test]
async fn a_member_who_cannot_see_the_deal_gets_not_found() {
    let db = TestDb::new().await;
    let desk = db.curator().await;
    let p = verified_partner(&desk, "Vandelay", "vandelay.example").await;
    let scoped = |code: &str, scope: &str, value: Option<&str>| {
        let mut d = coupon_draft(p.id, code);
        d.state = Some("active".into());
        d.audience_scope = scope.into();
        d.audience_scope_value = value.map(str::to_owned);
        d
    };
    let alumni = desk
        .create_deal(&scoped("ALUMNI", "alumni", None))
        .await
        .unwrap();
    let batch = desk
        .create_deal(&scoped("B2019", "batch", Some("2019")))
        .await
        .unwrap();
    let chapter = desk
        .create_deal(&scoped("PUNE", "chapter", Some("Pune")))
        .await
        .unwrap();
    let public = member(&db, "pub", "public", false, None, &[]).await;
    let alum19 = member(&db, "alum19", "alumni", true, Some(2019), &[]).await;
    let alum20 = member(&db, "alum20", "alumni", true, Some(2020), &["pune"]).await;

    for (deal, who) in [
        (&alumni, public),
        (&batch, alum20),
        (&batch, public),
        (&chapter, alum19),
    ] {
        let err = desk
            .record_redemption(deal.id, who, None)
            .await
            .unwrap_err();
        assert!(
            matches!(&err, Error::Redemption(RedemptionRefusal::NotFound { deal_id }) if *deal_id == deal.id),
            "deal {} member {who}: {err:?}",
            deal.id
        );
        assert_eq!(err.to_string(), format!("not found: deal {}", deal.id));
    }
    assert_eq!(db.count("SELECT count(*) FROM redemptions").await, 0);

    for (deal, who) in [(&alumni, alum19), (&batch, alum19), (&chapter, alum20)] {
        desk.record_redemption(deal.id, who, None).await.unwrap();
    }
    assert_eq!(db.count("SELECT count(*) FROM redemptions").await, 3);
    assert_eq!(db.count("SELECT sum(redemption_count) FROM deals").await, 3);

    // A deal that does not exist reads the same as one the member cannot see.
    let err = desk
        .record_redemption(987_654, public, None)
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), "not found: deal 987654");
}

#[tokio::test]
async fn a_paused_deal_is_not_redeemable() {
    let db = TestDb::new().await;
    let desk = db.curator().await;
    let deal = active_deal(&desk, "NAPPING").await;
    let deal = desk
        .change_deal_state(deal.id, Some(deal.version), DealState::Paused, None)
        .await
        .unwrap();
    let pat = member(&db, "pat", "public", false, None, &[]).await;
    let rows = written_rows(&db).await;
    let err = desk
        .record_redemption(deal.id, pat, None)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Redemption(RedemptionRefusal::NotActive { deal_id, state })
            if *deal_id == deal.id && state == "paused"),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        format!("not active: deal {} is paused", deal.id)
    );
    assert_eq!(written_rows(&db).await, rows);
    assert_eq!(db.count("SELECT count(*) FROM redemptions").await, 0);
    assert_eq!(stored(&db, deal.id).await.redemption_count, 0);
}

/// Issue 22, item 4: what the console says before activating a deal, read from the database:
/// a partner that is not verified is a refusal said before asking; a window that starts
/// before the partner's first agreement (or with none) is a warning in the question. Nothing
/// is changed by reading it.
#[tokio::test]
async fn activating_says_first_what_the_partner_and_its_agreements_make_of_it() {
    let db = TestDb::new().await;
    let admin = db.admin().await;
    let pending = admin
        .create_partner(&partner_draft("Pending Co", "pending.example"))
        .await
        .unwrap();
    let d = admin
        .create_deal(&DealDraft {
            state: Some("draft".into()),
            ..coupon_draft(pending.id, "PEND1")
        })
        .await
        .unwrap();
    let c = admin.check_activation(d.id).await.unwrap();
    assert_eq!(
        c.refusal.as_deref(),
        Some(
            Error::PartnerNotVerified {
                partner_id: pending.id,
                partner: "Pending Co".into(),
                state: "pending".into(),
            }
            .to_string()
            .as_str()
        )
    );

    let acme = verified_partner(&admin, "Acme", "acme.example").await;
    let mut draft = coupon_draft(acme.id, "ACME1");
    draft.state = Some("draft".into());
    draft.valid_from = Some("2026-12-13T09:00:00Z".parse().unwrap());
    draft.valid_until = Some("2027-03-01T00:00:00Z".parse().unwrap());
    let d = admin.create_deal(&draft).await.unwrap();
    let c = admin.check_activation(d.id).await.unwrap();
    assert_eq!(c.refusal, None);
    assert_eq!(
        c.warning.as_deref(),
        Some(
            "Acme has no agreement yet: its redemptions will be listed as exceptions (\"no agreement in effect\") until one is added from 2026-12-13 or earlier."
        )
    );
    admin
        .add_agreement(
            acme.id,
            &percentage(1000, "EUR"),
            "2027-01-01".parse().unwrap(),
        )
        .await
        .unwrap();
    let c = admin.check_activation(d.id).await.unwrap();
    assert_eq!(
        c.warning.as_deref(),
        Some(
            "The window starts 2026-12-13 but Acme's first agreement starts 2027-01-01: redemptions before 2027-01-01 will be listed as exceptions (\"no agreement in effect\") on the first statement."
        )
    );
    admin
        .add_agreement(
            acme.id,
            &percentage(900, "EUR"),
            "2026-12-01".parse().unwrap(),
        )
        .await
        .unwrap_or_else(|e| panic!("an earlier version: {e}"));
    assert_eq!(admin.check_activation(d.id).await.unwrap().warning, None);
    assert_eq!(
        admin.get_deal(d.id).await.unwrap().state,
        DealState::Draft,
        "reading changes nothing"
    );
}
