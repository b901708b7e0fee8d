//! Past redemptions reported by the platform in a batch (SPEC §1.5, `partnerdesk redemptions
//! import`): each row judged by the rules of [`Desk::record_redemption`] at its own
//! `redeemed_at`, a report of every bad row with its line, field and rule, and nothing
//! written unless every row is valid.
//!
//! The file is read as a stream, a chunk of rows at a time: the deals and members a chunk
//! names are looked up with one statement each, and the rows that pass are loaded with COPY
//! into a temporary staging table. Then, in the same transaction, the deals are locked (in id
//! order, the lock `record_redemption` takes) and the caps are checked against their counts,
//! so that an import racing live redemptions never takes a deal past its cap. The rows go
//! from the staging table into `redemptions` with one INSERT … SELECT, the deals' counts move
//! with one UPDATE, and one audit row records the import.
mod asked;
mod caps;
mod judge;
mod problems;

use super::RowProblem;
use super::read::{Layout, Rows};
use crate::error::{Error, Result};
use crate::service::{Desk, record::Change};
use crate::store;
use asked::Asked;
use caps::{cap_problems, changed_meanwhile};
use chrono::Utc;
use judge::Judge;
use problems::Problems;
use serde::Serialize;
use serde_json::json;
use std::io::Read;

/// The columns a redemptions file may have. Problems within a row are reported in this order.
pub const COLUMNS: &[&str] = &[
    "deal_id",
    "member_id",
    "redeemed_at",
    "value",
    "currency",
    "source",
];

/// The columns every redemptions file must have (`value` and `currency` may be left out).
pub const REQUIRED_COLUMNS: &[&str] = &["deal_id", "member_id", "redeemed_at", "source"];

/// The most problems a report lists (a bound on memory for a file that is wrong throughout);
/// the rest are counted.
pub const PROBLEM_LIMIT: usize = 100_000;

/// Rows read, checked and staged at a time.
const CHUNK: usize = 50_000;

static LAYOUT: Layout = Layout {
    columns: COLUMNS,
    required: REQUIRED_COLUMNS,
};

/// How many rows of a file are for one deal (the rows that passed every rule).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DealRows {
    pub deal_id: i64,
    pub rows: u64,
}

/// The outcome of an import of redemptions, or of its dry run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RedemptionImportReport {
    /// The file's name, as given (also the audit row's entity id).
    pub source: String,
    /// Rows read (blank rows are skipped and not counted).
    pub rows: u64,
    /// Rows with at least one problem.
    pub bad_rows: u64,
    /// Problems in all; `problems` lists the first [`PROBLEM_LIMIT`] of them.
    pub problem_count: u64,
    /// Problems by line, then in column order.
    pub problems: Vec<RowProblem>,
    /// The rows that passed, per deal, by deal id.
    pub deals: Vec<DealRows>,
    /// Redemptions written: 0 on a dry run or when a row is bad.
    pub imported: u64,
    pub dry_run: bool,
    /// Rows dated into a period whose statement is past draft, per statement, and where
    /// they are charged (late data is never off every statement).
    pub late: Vec<LateRows>,
}

/// Rows of an import dated into a statement past draft.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LateRows {
    pub settlement_id: i64,
    pub rows: i64,
    /// "late: settlement 9 (2026-10) is approved; it is charged as an adjustment on …"
    pub lands: String,
}

impl RedemptionImportReport {
    /// No row has a problem.
    pub fn is_valid(&self) -> bool {
        self.problem_count == 0
    }

    /// Problems counted but not listed.
    pub fn unlisted_problems(&self) -> u64 {
        self.problem_count - self.problems.len() as u64
    }
}

impl Desk {
    /// Imports past redemptions from CSV read from `reader`; `source` names the file in the
    /// report and in the audit row.
    ///
    /// The header names the columns [`COLUMNS`] in any order, of which [`REQUIRED_COLUMNS`]
    /// must be present. `redeemed_at` is RFC 3339 or `YYYY-MM-DD HH:MM` in UTC, and not in the
    /// future; `value` (in the currency's units) and `currency` are both given or both empty
    /// ([`OrderValue::parse`]); `source` is `copy_code` for a coupon deal and
    /// `outbound_click` for a link deal.
    ///
    /// Each row is judged by the rules of [`Desk::record_redemption`] at its `redeemed_at`:
    /// the deal exists and the member, who exists, can see it; the deal is active (now) and
    /// `redeemed_at` is inside its window; a cap of 1 admits one redemption per member
    /// (counting the rows already recorded and the earlier rows of the file), a cap of N at
    /// most N in all (the recorded ones and the file's together). The caps are checked with
    /// the deals locked, as `record_redemption` locks one, so that live redemptions recorded
    /// meanwhile are counted and none can pass the cap.
    ///
    /// Nothing is written unless every row is valid; then every row is written in one
    /// transaction, a `copy_code` row with the coupon code the deal had at its `redeemed_at`,
    /// each deal's count moves, and one `redemption.import` audit row (entity `import`, the
    /// file) records the file, its rows and its deals; no event is published. With `dry_run`
    /// everything is checked, the caps too, and nothing is written.
    ///
    /// Who may: whoever may record a redemption (the operator when registered, else the
    /// platform); on a person's own login the database decides (the admin's grants), and its
    /// refusal is said as the product's own, naming the role.
    pub async fn import_redemptions<R: Read>(
        &self,
        source: &str,
        reader: R,
        dry_run: bool,
    ) -> Result<RedemptionImportReport> {
        self.import_redemptions_now(source, reader, dry_run)
            .await
            .map_err(|e| self.refused_by_database(e, crate::domain::Permission::RecordRedemptions))
    }

    async fn import_redemptions_now<R: Read>(
        &self,
        source: &str,
        reader: R,
        dry_run: bool,
    ) -> Result<RedemptionImportReport> {
        let mut rows = Rows::open(reader, &LAYOUT)?;
        let now = Utc::now();
        let mut report = RedemptionImportReport {
            source: source.to_owned(),
            rows: 0,
            bad_rows: 0,
            problem_count: 0,
            problems: Vec::new(),
            deals: Vec::new(),
            imported: 0,
            dry_run,
            late: Vec::new(),
        };
        let mut problems = Problems::default();
        let mut tx = self.pool().begin().await?;
        store::redemptions::create_import_staging(&mut tx).await?;
        let mut judge = Judge::default();
        let mut chunk: Vec<Asked> = Vec::with_capacity(CHUNK);
        let mut buf = String::new();
        let mut more = true;
        while more {
            chunk.clear();
            while chunk.len() < CHUNK {
                let Some(row) = rows.next_row()? else {
                    more = false;
                    break;
                };
                report.rows += 1;
                chunk.push(Asked::read(row, now));
            }
            judge.look_up(&mut tx, &chunk).await?;
            for asked in &chunk {
                match judge.check(asked) {
                    Ok(staged) => store::redemptions::write_staged(&mut buf, &staged),
                    Err(p) => problems.add(p),
                }
            }
            if !buf.is_empty() {
                store::redemptions::copy_staged(&mut tx, buf.as_bytes()).await?;
                buf.clear();
            }
        }
        // The caps, with the deals locked.
        let deal_ids: Vec<i64> = judge.staged.keys().copied().collect();
        let locked = store::deals::get_many_for_update(&mut tx, &deal_ids).await?;
        for d in &locked {
            if let Some(Some(seen)) = judge.deals.get(&d.id) {
                changed_meanwhile(&seen.deal, d)?;
            }
        }
        let late = cap_problems(&mut tx, &locked, &judge.staged).await?;
        problems.merge(late);

        report.bad_rows = problems.bad_rows;
        report.problem_count = problems.count;
        report.problems = problems.kept;
        report.deals = judge
            .staged
            .iter()
            .map(|(&deal_id, &rows)| DealRows { deal_id, rows })
            .collect();
        if report.is_valid() {
            for (settlement_id, status, start, freq, partner, currency, rows) in
                store::redemptions::staged_late(&mut tx).await?
            {
                let lands = super::super::landing::late_on(
                    &mut tx,
                    settlement_id,
                    &status,
                    start,
                    &freq,
                    partner,
                    &currency,
                )
                .await?;
                report.late.push(LateRows {
                    settlement_id,
                    rows,
                    lands,
                });
            }
        }
        if dry_run || !report.is_valid() || deal_ids.is_empty() {
            tx.rollback().await?;
            return Ok(report);
        }
        let imported = store::redemptions::insert_staged(&mut tx).await?;
        let counts = judge
            .staged
            .values()
            .map(|n| i32::try_from(*n))
            .collect::<std::result::Result<Vec<i32>, _>>()
            .map_err(|_| Error::Refused("a deal's redemption count would overflow".into()))?;
        store::redemptions::add_counts(&mut tx, &deal_ids, &counts).await?;
        let actor = self.platform_actor();
        Change::new(&actor, "redemption.import", "import", source)
            .after(&json!({
                "file": source,
                "rows": imported,
                "deals": report.deals,
            }))
            .no_event()
            .commit(tx)
            .await?;
        report.imported = imported;
        Ok(report)
    }
}
