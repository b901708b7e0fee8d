//! Every service mutation writes its audit row and, when it is a state change of a partner or
//! a deal (SPEC §1.8), its outbox event, in the transaction of the change (`service::record`).
//!
//! Each mutation is run twice. First with a trap: a deferred constraint trigger on the audit
//! log that fails the transaction at its commit, after everything was written. The mutation
//! must fail and leave every table exactly as it was: no change, no audit row, no event (a
//! mutation that wrote no audit row would not be trapped and would succeed; one that wrote
//! something in another transaction would leave it behind). Then for real: the audit rows and
//! events written are exactly the expected ones, each event about its audit row's entity, and
//! every row written or changed in any table was written by the audit rows' transaction.

use crate::common::*;
use partnerdesk::domain::{DealDraft, DealState, FlagKind, Role};
use partnerdesk::service::vetting::VettingConfig;

/// The tables a mutation may write.
const TABLES: &[&str] = &[
    "operators",
    "partners",
    "partner_checks",
    "deals",
    "deal_coupon_codes",
    "deal_search_documents",
    "deal_conversions",
    "members",
    "redemptions",
    "audit_log",
    "outbox_events",
];

/// (audit action, outbox event) of each audit row a mutation writes, in order.
type Expected<'a> = &'a [(&'a str, Option<&'a str>)];

struct Walk<'a> {
    db: &'a TestDb,
    audit_mark: i64,
    event_mark: i64,
    snapshot: Vec<Vec<(String, String)>>,
    walked: Vec<&'static str>,
}

impl<'a> Walk<'a> {
    async fn new(db: &'a TestDb) -> Self {
        sqlx::raw_sql(
            "CREATE FUNCTION test_trap() RETURNS trigger LANGUAGE plpgsql AS $$
             BEGIN RAISE EXCEPTION 'trap: the transaction fails at its commit'; END; $$;",
        )
        .execute(&db.pool)
        .await
        .unwrap();
        Self {
            db,
            audit_mark: 0,
            event_mark: 0,
            snapshot: Vec::new(),
            walked: Vec::new(),
        }
    }

    /// Every row of every table, as text, with the transaction that wrote it.
    async fn tables(&self) -> Vec<Vec<(String, String)>> {
        let mut all = Vec::new();
        for t in TABLES {
            let rows: Vec<(String, String)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT x::text, xmin::text FROM {t} x ORDER BY 1"
            )))
            .fetch_all(&self.db.pool)
            .await
            .unwrap();
            all.push(rows);
        }
        all
    }

    /// Remembers the database as it is, and sets the trap.
    async fn arm(&mut self) {
        self.audit_mark = self
            .db
            .count("SELECT coalesce(max(id), 0) FROM audit_log")
            .await;
        self.event_mark = self
            .db
            .count("SELECT coalesce(max(id), 0) FROM outbox_events")
            .await;
        self.snapshot = self.tables().await;
        sqlx::raw_sql(
            "CREATE CONSTRAINT TRIGGER test_trap AFTER INSERT ON audit_log
                 DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION test_trap()",
        )
        .execute(&self.db.pool)
        .await
        .unwrap();
    }

    /// The trapped attempt failed at its commit and left nothing behind.
    async fn rolled_back<T: std::fmt::Debug>(
        &mut self,
        label: &'static str,
        attempt: partnerdesk::Result<T>,
    ) {
        sqlx::raw_sql("DROP TRIGGER test_trap ON audit_log")
            .execute(&self.db.pool)
            .await
            .unwrap();
        match attempt {
            Err(e) => assert!(e.to_string().contains("trap: "), "{label}: {e}"),
            Ok(v) => panic!("{label} committed with no audit row to trap: {v:?}"),
        }
        let now = self.tables().await;
        for ((t, was), is) in TABLES.iter().zip(&self.snapshot).zip(&now) {
            assert_eq!(was, is, "{label}: a failed transaction left this in {t}");
        }
        self.walked.push(label);
    }

    /// (what, entity type, entity id, transaction) of the rows of `table` after `mark`.
    async fn since(
        &self,
        what: &str,
        table: &str,
        mark: i64,
    ) -> Vec<(String, String, String, String)> {
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {what}, entity_type, entity_id, xmin::text FROM {table}
              WHERE id > $1 ORDER BY id"
        )))
        .bind(mark)
        .fetch_all(&self.db.pool)
        .await
        .unwrap()
    }

    /// The real run wrote exactly these audit rows and events, in one transaction.
    async fn wrote(&self, label: &str, expected: Expected<'_>) {
        let audits = self.since("action", "audit_log", self.audit_mark).await;
        let events = self
            .since("event_type", "outbox_events", self.event_mark)
            .await;
        let actions: Vec<&str> = audits.iter().map(|a| a.0.as_str()).collect();
        let want: Vec<&str> = expected.iter().map(|e| e.0).collect();
        assert_eq!(actions, want, "{label}: audit rows");
        let want_events: Vec<(&str, &str, &str)> = audits
            .iter()
            .zip(expected)
            .filter_map(|(a, (_, event))| event.map(|e| (e, a.1.as_str(), a.2.as_str())))
            .collect();
        let got_events: Vec<(&str, &str, &str)> = events
            .iter()
            .map(|e| (e.0.as_str(), e.1.as_str(), e.2.as_str()))
            .collect();
        assert_eq!(got_events, want_events, "{label}: outbox events");
        // Every row written or changed, in any table, by the audit rows' transaction.
        let xid = &audits[0].3;
        for ((t, was), is) in TABLES.iter().zip(&self.snapshot).zip(self.tables().await) {
            for (row, xmin) in is.iter().filter(|r| !was.contains(r)) {
                assert_eq!(
                    xmin, xid,
                    "{label}: written by another transaction: {t} {row}"
                );
            }
        }
    }
}

/// Runs a mutation trapped (nothing is left), then for real (exactly `expected` is written).
macro_rules! walk {
    ($w:ident, $label:literal, $call:expr, $expected:expr) => {{
        $w.arm().await;
        let attempt = $call.await;
        $w.rolled_back($label, attempt).await;
        let done = $call.await.unwrap_or_else(|e| panic!("{}: {e}", $label));
        $w.wrote($label, $expected).await;
        done
    }};
}

const DEAL_CREATE: (&str, Option<&str>) = ("deal.create", Some("deal.created"));
const DEAL_PAUSE: (&str, Option<&str>) = ("deal.pause", Some("deal.paused"));

#[tokio::test]
async fn every_mutation_writes_its_audit_row_and_event_in_its_own_transaction_or_nothing() {
    let db = TestDb::new().await;
    let ada = db.admin().await;
    let cara = db.curator().await;
    let sam = db.desk("sam", &[Role::Support]).await;
    let mut w = Walk::new(&db).await;

    // Operators: audited, not events.
    let olga = walk!(
        w,
        "add_operator",
        ada.add_operator("olga", "Olga", &[Role::Support]),
        &[("operator.register", None)]
    );
    walk!(
        w,
        "set_operator_roles",
        ada.set_operator_roles("olga", &[Role::Finance], Some(olga.version)),
        &[("operator.set_roles", None)]
    );

    // Partners.
    let p = walk!(
        w,
        "create_partner",
        cara.create_partner(&partner_draft("Northwind", "northwind.example")),
        &[("partner.create", Some("partner.created"))]
    );
    let p = walk!(
        w,
        "update_partner",
        cara.update_partner(
            p.id,
            p.version,
            &partner_draft("Northwind Outfitters", "northwind.example")
        ),
        &[("partner.update", Some("partner.updated"))]
    );
    walk!(
        w,
        "mark_vetted",
        cara.mark_vetted(p.id, Some(p.version)),
        &[("partner.vet", Some("partner.verified"))]
    );
    let mut offline = partner_draft("Offline Co", "offline.example");
    (offline.website_url, offline.logo_url) = (None, None);
    let quiet = cara.create_partner(&offline).await.unwrap();
    walk!(
        w,
        "run_vetting_checks",
        cara.run_vetting_checks(quiet.id, &VettingConfig::default(), &|_, _, _| {}),
        &[("partner.checks", None)]
    );

    // Deals.
    let mut active = coupon_draft(p.id, "WALK1");
    active.state = Some("active".into());
    let d = walk!(w, "create_deal", cara.create_deal(&active), &[DEAL_CREATE]);
    let mut edit = active.clone();
    edit.state = None;
    edit.title = "Walked".into();
    let d = walk!(
        w,
        "update_deal",
        cara.update_deal(d.id, d.version, &edit),
        &[("deal.update", Some("deal.updated"))]
    );
    walk!(
        w,
        "change_deal_state",
        cara.change_deal_state(d.id, Some(d.version), DealState::Paused, Some("stock")),
        &[("deal.pause", Some("deal.paused"))]
    );
    walk!(
        w,
        "change_deal_state",
        cara.change_deal_state(d.id, None, DealState::Active, None),
        &[("deal.activate", Some("deal.activated"))]
    );
    let csv = format!(
        "partner,title,kind,coupon_code,audience_scope,valid_from,valid_until\n\
         {id},One,coupon,W1,public,2030-01-01 00:00,2030-02-01 00:00\n\
         northwind.example,Two,coupon,W2,public,2030-01-01 00:00,2030-02-01 00:00\n",
        id = p.id
    );
    walk!(
        w,
        "import_deals",
        cara.import_deals("walk.csv", csv.as_bytes(), false),
        &[DEAL_CREATE; 2]
    );

    // Redemptions and the monitor: audited, not events.
    let mia = member(&db, "mia", "public", false, None, &[]).await;
    let r = walk!(
        w,
        "record_redemption",
        sam.record_redemption(d.id, mia, None),
        &[("redemption.record", None)]
    );
    walk!(
        w,
        "flag_redemption",
        sam.flag_redemption(r.id, FlagKind::Fraud, "shared on a forum"),
        &[("redemption.flag", None)]
    );
    walk!(
        w,
        "unflag_redemption",
        sam.unflag_redemption(r.id, "checked"),
        &[("redemption.unflag", None)]
    );
    let link = cara
        .create_deal(&DealDraft {
            kind: "link".into(),
            coupon_code: None,
            redemption_url: Some("https://northwind.example/go".into()),
            ..coupon_draft(p.id, "LINK")
        })
        .await
        .unwrap();
    walk!(
        w,
        "set_confirmed_conversions",
        sam.set_confirmed_conversions(link.id, 3),
        &[("deal.conversions", None)]
    );

    // Partner moves that pause deals: the deals' rows first, then the partner's.
    walk!(
        w,
        "disable_partner",
        cara.disable_partner(p.id, None, Some("fraud report")),
        &[DEAL_PAUSE, ("partner.disable", Some("partner.disabled"))]
    );
    walk!(
        w,
        "revet_partner",
        cara.revet_partner(p.id, None),
        &[("partner.revet", Some("partner.revet_requested"))]
    );
    let q = verified_partner(&cara, "Quartz", "quartz.example").await;
    let mut due = coupon_draft(q.id, "DUE1");
    due.state = Some("active".into());
    cara.create_deal(&due).await.unwrap();
    let expired = walk!(
        w,
        "expire_due_deals",
        cara.expire_due_deals(chrono::Utc::now() + chrono::Duration::days(365)),
        &[("deal.expire", Some("deal.expired"))]
    );
    assert_eq!(expired, 1);
    due.coupon_code = Some("LIVE1".into());
    cara.create_deal(&due).await.unwrap();
    let report = walk!(
        w,
        "offboard_partner",
        cara.offboard_partner(q.id, Some("contract ended")),
        &[DEAL_PAUSE, ("partner.offboard", None)]
    );
    assert_eq!(report.paused.len(), 1);
    walk!(
        w,
        "delete_partner",
        ada.delete_partner(quiet.id, None, Some("never traded")),
        &[("partner.delete", Some("partner.deleted"))]
    );

    let mut walked = w.walked.clone();
    walked.sort();
    walked.dedup();
    assert_eq!(walked.len(), 19, "every service mutation: {walked:?}");
}
