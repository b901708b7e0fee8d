//! Settlements (issue 13) against real PostgreSQL: one fresh database per test. Every expected
//! figure below is worked by hand in the comment beside it.

#[path = "../support/cli.rs"]
#[allow(dead_code)]
mod cli;
#[path = "../db/common.rs"]
#[allow(dead_code)]
mod common;
#[path = "../support/owed.rs"]
mod owed;

mod adjustments;
mod agreements;
mod batches;
mod bulk;
mod cli_runs;
mod closing;
mod holding;
mod moves;
mod pricing;
mod referral_only;
mod referrals;

use chrono::{DateTime, Utc};
use common::{TestDb, active_deal, member};
use partnerdesk::domain::Role;
use partnerdesk::domain::terms::TermsDraft;
use partnerdesk::service::Desk;
use partnerdesk::service::rows::{Agreement, Line};

/// A partner with one active deal and one member, and a finance operator.
pub struct Fixture {
    pub db: TestDb,
    pub finance: Desk,
    pub partner_id: i64,
    pub deal_id: i64,
    pub member_id: i64,
}

impl Fixture {
    pub async fn new() -> Self {
        let db = TestDb::new().await;
        let admin = db.admin().await;
        let deal = active_deal(&admin, "SETTLE").await;
        let member_id = member(&db, "mia", "public", false, None, &[]).await;
        let finance = db.desk("fin", &[Role::Finance]).await;
        Fixture {
            partner_id: deal.partner_id,
            deal_id: deal.id,
            member_id,
            finance,
            db,
        }
    }

    /// No holding period (the marketplace's setting, 30 days by default): a referral payout is
    /// on the statement of its conversion's own period, for the tests about pricing them.
    pub async fn no_holding(&self) {
        self.db
            .admin()
            .await
            .set_setting(&partnerdesk::domain::settings::SettingChange::HoldingDays(
                0,
            ))
            .await
            .expect("holding_days 0");
    }

    /// An agreement of the fixture's partner from `from`.
    pub async fn agreement(&self, draft: TermsDraft, from: &str) -> Agreement {
        self.finance
            .add_agreement(self.partner_id, &draft, from.parse().unwrap())
            .await
            .expect("add agreement")
    }

    /// A redemption of the fixture's deal at `at` (RFC 3339) with an optional value (minor
    /// units) and currency, as the platform reported it.
    pub async fn redemption(&self, at: &str, value: Option<(i64, &str)>) -> i64 {
        let at: DateTime<Utc> = at.parse().expect("time");
        sqlx::query_scalar(
            "INSERT INTO redemptions (deal_id, member_id, source, coupon_code, redeemed_at,
                    value_minor, currency)
             VALUES ($1, $2, 'copy_code', 'SETTLE', $3, $4, $5) RETURNING id",
        )
        .bind(self.deal_id)
        .bind(self.member_id)
        .bind(at)
        .bind(value.map(|v| v.0))
        .bind(value.map(|v| v.1))
        .fetch_one(&self.db.pool)
        .await
        .expect("insert redemption")
    }

    /// Every line of a settlement, through the service's pages (of 2, to cross pages).
    pub async fn lines(&self, id: i64) -> Vec<Line> {
        let mut all: Vec<Line> = Vec::new();
        loop {
            let page = self
                .finance
                .settlement_lines(id, all.last().map(|l| l.line_no), false, 2)
                .await
                .expect("lines");
            if page.is_empty() {
                return all;
            }
            all.extend(page);
        }
    }
}

pub use common::percentage;

/// (kind, amount) of each line, for comparing statements.
pub fn amounts(lines: &[Line]) -> Vec<(String, Option<i64>)> {
    lines
        .iter()
        .map(|l| (l.kind.to_string(), l.amount_minor))
        .collect()
}
