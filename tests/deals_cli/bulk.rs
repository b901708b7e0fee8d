//! `partnerdesk deals pause|activate|expire ID…` and `partners vet ID…` through the real
//! binary (issue 24): several ids, each in its own step, then one summary line; one id as
//! always.

use crate::cli::pd;
use crate::common::{TestDb, coupon_draft, partner_draft, verified_partner};
use partnerdesk::domain::Role;

/// Three active deals and a paused one of one partner: (active ids, paused id).
async fn deals(db: &TestDb) -> (Vec<i64>, i64) {
    let desk = db.curator().await;
    let p = verified_partner(&desk, "Many Deals", "many.example").await;
    let mut active = Vec::new();
    for i in 0..3 {
        let mut d = coupon_draft(p.id, &format!("MANY{i}"));
        d.state = Some("active".into());
        active.push(desk.create_deal(&d).await.unwrap().id);
    }
    let mut d = coupon_draft(p.id, "PAUSED");
    d.state = Some("paused".into());
    let paused = desk.create_deal(&d).await.unwrap().id;
    (active, paused)
}

async fn pauses(db: &TestDb) -> i64 {
    db.count("SELECT count(*) FROM audit_log WHERE action = 'deal.pause'")
        .await
}

#[tokio::test]
async fn deals_pause_with_several_ids_pauses_each_and_prints_one_summary() {
    let db = TestDb::new().await;
    let (active, paused) = deals(&db).await;
    let mut args: Vec<String> = vec!["deals".into(), "pause".into()];
    args.extend(active.iter().map(|i| i.to_string()));
    args.push(paused.to_string());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();

    let mut dry = args.clone();
    dry.push("--dry-run");
    let out = pd(Some(&db), "cara", &dry);
    assert_eq!(out.code, 3, "a refusal, even in a dry run:{out}");
    assert_eq!(
        out.stdout_text().trim(),
        format!("would pause 3, 1 refused: #{paused} already paused")
    );
    assert_eq!(pauses(&db).await, 0, "a dry run pauses nothing");

    let out = pd(Some(&db), "cara", &args);
    assert_eq!(out.code, 3, "{out}");
    assert_eq!(
        out.stdout_text().trim(),
        format!("3 paused, 1 refused: #{paused} already paused")
    );
    assert_eq!(out.stderr, "", "{out}");
    assert_eq!(pauses(&db).await, 3, "one pause row per deal paused");

    // All done: exit 0.
    let ids: Vec<String> = active.iter().map(|i| i.to_string()).collect();
    let mut again = vec!["deals", "activate"];
    again.extend(ids.iter().map(String::as_str));
    let out = pd(Some(&db), "cara", &again);
    out.success();
    assert_eq!(out.stdout_text().trim(), "3 activated");
}

#[tokio::test]
async fn deals_pause_with_one_id_says_what_it_always_said() {
    let db = TestDb::new().await;
    let (active, _) = deals(&db).await;
    let id = active[0].to_string();
    let out = pd(Some(&db), "cara", &["deals", "pause", &id]);
    out.success();
    assert_eq!(
        out.stdout_text().trim(),
        format!(
            "deal {id} Deal MANY0 is now paused (version 2): the deal disappears from search and stops accepting redemptions"
        )
    );
    // --version names one deal's version.
    let two = active[1].to_string();
    let out = pd(
        Some(&db),
        "cara",
        &["deals", "pause", &id, &two, "--version", "2"],
    );
    let line = out.error_line(3);
    assert_eq!(
        line,
        "version: names the version of one record; give one id, or leave --version out"
    );
}

#[tokio::test]
async fn a_support_operator_bulk_pause_is_refused_once_and_writes_nothing() {
    let db = TestDb::new().await;
    let (active, _) = deals(&db).await;
    db.desk("sam", &[Role::Support]).await;
    let audit = db.audit_count().await;
    let a = active[0].to_string();
    let b = active[1].to_string();
    let out = pd(Some(&db), "sam", &["deals", "pause", &a, &b]);
    let line = out.error_line(3);
    assert_eq!(
        line,
        "sam may not author and change deals: it needs the curator or admin role"
    );
    assert_eq!(db.audit_count().await, audit);
    assert_eq!(pauses(&db).await, 0);
}

#[tokio::test]
async fn partners_vet_with_several_ids_vets_each_pending_partner() {
    let db = TestDb::new().await;
    let desk = db.curator().await;
    let a = desk
        .create_partner(&partner_draft("Pending A", "pa.example"))
        .await
        .unwrap();
    let b = desk
        .create_partner(&partner_draft("Pending B", "pb.example"))
        .await
        .unwrap();
    let c = verified_partner(&desk, "Vetted C", "vc.example").await;
    let (a, b, c) = (a.id.to_string(), b.id.to_string(), c.id.to_string());
    let out = pd(
        Some(&db),
        "cara",
        &["partners", "vet", &a, &b, &c, "--json"],
    );
    assert_eq!(out.code, 3, "{out}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v["summary"],
        format!("2 vetted, 1 refused: #{c} already verified")
    );
    assert_eq!(
        db.count("SELECT count(*) FROM partners WHERE verification = 'verified'")
            .await,
        3
    );
}
