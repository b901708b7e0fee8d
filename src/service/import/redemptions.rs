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

use super::read::{Layout, Row, Rows};
use super::{RowProblem, parse_time};
use crate::domain::{AudienceScope, DealKind, DealState, Member, OrderValue, ValidationErrors};
use crate::error::{Error, RedemptionRefusal, Result};
use crate::service::{Desk, record::Change};
use crate::store::{
    self,
    deals::Deal,
    redemptions::{StagedRedemption, source_for},
};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet, HashMap, hash_map::Entry};
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
    /// platform).
    pub async fn import_redemptions<R: Read>(
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

/// The problems found so far: the first [`PROBLEM_LIMIT`] by line, and how many in all.
#[derive(Default)]
struct Problems {
    kept: Vec<RowProblem>,
    count: u64,
    bad_rows: u64,
}

impl Problems {
    /// The problems of one more bad row (rows come in file order).
    fn add(&mut self, row: Vec<RowProblem>) {
        self.bad_rows += 1;
        self.count += row.len() as u64;
        let room = PROBLEM_LIMIT.saturating_sub(self.kept.len());
        self.kept.extend(row.into_iter().take(room));
    }

    /// Problems found after the whole file was read (one per row, by line, each on a row
    /// that had none before), and how many such rows there are in all.
    fn merge(&mut self, (late, total): (Vec<RowProblem>, u64)) {
        self.bad_rows += total;
        self.count += total;
        let early = std::mem::take(&mut self.kept);
        let mut all = Vec::with_capacity(early.len() + late.len());
        let (mut a, mut b) = (early.into_iter().peekable(), late.into_iter().peekable());
        while all.len() < PROBLEM_LIMIT {
            let take_a = match (a.peek(), b.peek()) {
                (Some(x), Some(y)) => x.line <= y.line,
                (Some(_), None) => true,
                (None, Some(_)) => false,
                (None, None) => break,
            };
            all.extend(if take_a { a.next() } else { b.next() });
        }
        self.kept = all;
    }
}

/// What a row asks to record, as far as its cells read; the problems of those that do not.
struct Asked {
    line: u64,
    /// The row could not be read into cells (their count, their encoding): nothing else is
    /// checked.
    unread: Vec<RowProblem>,
    deal_id: Option<i64>,
    member_id: Option<i64>,
    at: Option<DateTime<Utc>>,
    value: Option<OrderValue>,
    /// The kind of deal the `source` cell is for.
    kind: Option<DealKind>,
    problems: Vec<(&'static str, String)>,
}

impl Asked {
    fn read(row: Row, now: DateTime<Utc>) -> Self {
        if !row.problems.is_empty() {
            return Self {
                line: row.line,
                unread: row.problems,
                deal_id: None,
                member_id: None,
                at: None,
                value: None,
                kind: None,
                problems: Vec::new(),
            };
        }
        let mut errs = ValidationErrors::new();
        let deal_id = read_id(&mut errs, "deal_id", "deal", row.cell("deal_id"));
        let member_id = read_id(&mut errs, "member_id", "member", row.cell("member_id"));
        let at = match row.cell("redeemed_at").trim() {
            "" => {
                errs.push("redeemed_at", "required");
                None
            }
            cell => parse_time(&mut errs, "redeemed_at", cell),
        };
        if let Some(t) = at
            && t > now
        {
            errs.push(
                "redeemed_at",
                format!(
                    "must not be in the future (got {})",
                    t.format("%Y-%m-%d %H:%M:%S UTC")
                ),
            );
        }
        let value = match OrderValue::parse(Some(row.cell("value")), Some(row.cell("currency"))) {
            Ok(v) => v,
            Err(e) => {
                errs.0.extend(e.0);
                None
            }
        };
        let kind = match row.cell("source").trim() {
            "" => {
                errs.push(
                    "source",
                    "required: copy_code for a coupon deal, outbound_click for a link deal",
                );
                None
            }
            s if s == source_for(DealKind::Coupon) => Some(DealKind::Coupon),
            s if s == source_for(DealKind::Link) => Some(DealKind::Link),
            s => {
                errs.push(
                    "source",
                    format!(
                        "must be copy_code (coupon deals) or outbound_click (link deals); got '{s}'"
                    ),
                );
                None
            }
        };
        Self {
            line: row.line,
            unread: Vec::new(),
            deal_id,
            member_id,
            at,
            value,
            kind,
            problems: errs.0.into_iter().map(|f| (f.field, f.rule)).collect(),
        }
    }
}

/// A deal or member id: a positive whole number.
fn read_id(
    errs: &mut ValidationErrors,
    field: &'static str,
    what: &str,
    cell: &str,
) -> Option<i64> {
    let s = cell.trim();
    if s.is_empty() {
        errs.push(field, "required");
        return None;
    }
    match s.parse::<i64>() {
        Ok(id) if id > 0 => Some(id),
        _ => {
            errs.push(
                field,
                format!("must be a {what} id, a positive whole number (got '{s}')"),
            );
            None
        }
    }
}

/// A deal as the rows were checked against it, with its coupon codes over time.
struct SeenDeal {
    deal: Deal,
    /// `(set_at, code)`, oldest first.
    codes: Vec<(DateTime<Utc>, String)>,
}

impl SeenDeal {
    /// The coupon code the deal had at `at`: the last one set by then (the first one for a
    /// time before any was recorded); the current code from the last change on.
    fn code_at(&self, at: DateTime<Utc>) -> Option<&str> {
        let current = self.deal.coupon_code.as_deref();
        if self.codes.len() < 2 {
            return current;
        }
        let i = self
            .codes
            .iter()
            .rposition(|(set_at, _)| *set_at <= at)
            .unwrap_or(0);
        if i + 1 == self.codes.len() {
            current
        } else {
            Some(self.codes[i].1.as_str())
        }
    }
}

/// The most members kept between chunks (what visibility needs of each, some 100 bytes);
/// past it the cache starts again.
const MEMBER_CACHE: usize = 250_000;

/// The rows' rules that need the database: the deals (looked up once each), the members
/// (looked up once each while they fit in [`MEMBER_CACHE`]), and what the file has staged so
/// far.
#[derive(Default)]
struct Judge {
    /// Every deal the file has named: `None` when there is no such deal.
    deals: HashMap<i64, Option<SeenDeal>>,
    /// Members looked up: `None` when there is no such member.
    members: HashMap<i64, Option<Member>>,
    /// Rows staged per deal.
    staged: BTreeMap<i64, u64>,
    /// On one-per-member deals: the line that staged each (deal, member).
    first_line: HashMap<(i64, i64), u64>,
}

impl Judge {
    /// Looks up the deals and the members of `chunk` not seen before, a statement each.
    async fn look_up(&mut self, conn: &mut sqlx::PgConnection, chunk: &[Asked]) -> Result<()> {
        let new_deals: Vec<i64> = chunk
            .iter()
            .filter_map(|a| a.deal_id)
            .filter(|id| !self.deals.contains_key(id))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        if !new_deals.is_empty() {
            let found = store::deals::get_many(conn, &new_deals).await?;
            let coupons: Vec<i64> = found
                .iter()
                .filter(|d| d.kind == DealKind::Coupon)
                .map(|d| d.id)
                .collect();
            let mut codes: HashMap<i64, Vec<(DateTime<Utc>, String)>> = HashMap::new();
            for (deal_id, code, set_at) in store::deals::code_histories(conn, &coupons).await? {
                codes.entry(deal_id).or_default().push((set_at, code));
            }
            for id in new_deals {
                self.deals.insert(id, None);
            }
            for deal in found {
                let codes = codes.remove(&deal.id).unwrap_or_default();
                self.deals.insert(deal.id, Some(SeenDeal { deal, codes }));
            }
        }
        let mut new_members: BTreeSet<i64> = chunk
            .iter()
            .filter_map(|a| a.member_id)
            .filter(|id| !self.members.contains_key(id))
            .collect();
        if self.members.len() + new_members.len() > MEMBER_CACHE {
            // Start again with this chunk's members only.
            self.members.clear();
            new_members = chunk.iter().filter_map(|a| a.member_id).collect();
        }
        let ids: Vec<i64> = new_members.into_iter().collect();
        for id in &ids {
            self.members.insert(*id, None);
        }
        for m in store::members::get_many(conn, &ids).await? {
            // Only what visibility needs is kept.
            let kept = Member {
                handle: String::new(),
                display_name: String::new(),
                ..m
            };
            self.members.insert(kept.id, Some(kept));
        }
        Ok(())
    }

    /// Judges one row as `record_redemption` would at its time: the row to stage, or every
    /// problem of the row in column order.
    fn check<'s>(
        &'s mut self,
        a: &'s Asked,
    ) -> std::result::Result<StagedRedemption<'s>, Vec<RowProblem>> {
        if !a.unread.is_empty() {
            return Err(a.unread.clone());
        }
        let mut errs: Vec<(&'static str, String)> = a.problems.clone();
        let deal = a.deal_id.and_then(|id| match self.deals.get(&id) {
            Some(Some(seen)) => Some(seen),
            _ => {
                errs.push((
                    "deal_id",
                    format!("must be an existing deal (no deal #{id})"),
                ));
                None
            }
        });
        let member = a.member_id.and_then(|id| match self.members.get(&id) {
            Some(Some(m)) => Some(m),
            _ => {
                errs.push((
                    "member_id",
                    format!("must be an existing member (no member #{id})"),
                ));
                None
            }
        });
        if let Some(seen) = deal {
            let d = &seen.deal;
            if let Some(m) = member
                && !m.can_see(d.audience_scope, d.audience_scope_value.as_deref())
            {
                errs.push((
                    "deal_id",
                    format!(
                        "{}: member {} cannot see it (its audience is {})",
                        RedemptionRefusal::NotFound { deal_id: d.id },
                        m.id,
                        audience(d)
                    ),
                ));
            }
            if d.state != DealState::Active {
                let refusal = RedemptionRefusal::NotActive {
                    deal_id: d.id,
                    state: d.state.to_string(),
                };
                errs.push(("deal_id", refusal.to_string()));
            }
            if let Some(at) = a.at
                && (at < d.valid_from || at >= d.valid_until)
            {
                let refusal = RedemptionRefusal::OutsideWindow {
                    deal_id: d.id,
                    from: d.valid_from,
                    until: d.valid_until,
                };
                errs.push(("redeemed_at", refusal.to_string()));
            }
            if let Some(kind) = a.kind
                && kind != d.kind
            {
                errs.push((
                    "source",
                    format!(
                        "deal {} is a {} deal, so its redemptions are {} (got {})",
                        d.id,
                        d.kind,
                        source_for(d.kind),
                        source_for(kind)
                    ),
                ));
            }
        }
        // The file's own repeats on one-per-member deals, among rows that pass otherwise.
        if errs.is_empty()
            && let (Some(seen), Some(m)) = (deal, member)
            && seen.deal.redemption_cap == Some(1)
        {
            match self.first_line.entry((seen.deal.id, m.id)) {
                Entry::Occupied(first) => errs.push((
                    "member_id",
                    format!(
                        "already redeemed: member {} redeemed deal {} on line {} of this file (the deal allows one redemption per member)",
                        m.id,
                        seen.deal.id,
                        first.get()
                    ),
                )),
                Entry::Vacant(v) => {
                    v.insert(a.line);
                }
            }
        }
        if !errs.is_empty() {
            let order = |f: &str| {
                COLUMNS
                    .iter()
                    .position(|c| *c == f)
                    .unwrap_or(COLUMNS.len())
            };
            errs.sort_by_key(|(f, _)| order(f));
            return Err(errs
                .into_iter()
                .map(|(field, rule)| RowProblem {
                    line: a.line,
                    field,
                    rule,
                })
                .collect());
        }
        let (Some(seen), Some(member_id), Some(at)) = (deal, a.member_id, a.at) else {
            unreachable!("a row without problems has a deal, a member and a time");
        };
        let d = &seen.deal;
        *self.staged.entry(d.id).or_default() += 1;
        Ok(StagedRedemption {
            line: a.line,
            deal_id: d.id,
            member_id,
            kind: d.kind,
            coupon_code: match d.kind {
                DealKind::Coupon => seen.code_at(at),
                DealKind::Link => None,
            },
            one_per_member: d.redemption_cap == Some(1),
            redeemed_at: at,
            value: a.value.as_ref(),
        })
    }
}

/// `public`, or `batch 2019` / `chapter Pune` with its value.
fn audience(d: &Deal) -> String {
    match (d.audience_scope, d.audience_scope_value.as_deref()) {
        (AudienceScope::Batch | AudienceScope::Chapter, Some(v)) => {
            format!("{} {v}", d.audience_scope)
        }
        (s, _) => s.to_string(),
    }
}

/// A deal whose rules changed between the check of the rows and the lock: the rows were
/// judged by rules that no longer hold, so nothing is written.
fn changed_meanwhile(seen: &Deal, now: &Deal) -> Result<()> {
    let same = seen.state == now.state
        && seen.kind == now.kind
        && seen.coupon_code == now.coupon_code
        && seen.audience_scope == now.audience_scope
        && seen.audience_scope_value == now.audience_scope_value
        && seen.valid_from == now.valid_from
        && seen.valid_until == now.valid_until
        && seen.redemption_cap == now.redemption_cap;
    if same {
        return Ok(());
    }
    Err(Error::Refused(format!(
        "deal {} was changed by {} at {} while the file was being checked; nothing imported: run the import again",
        now.id,
        now.updated_by,
        now.updated_at.format("%Y-%m-%d %H:%M:%S UTC")
    )))
}

/// The caps, checked against the locked deals' counts: on a one-per-member deal, a staged row
/// whose member has a recorded redemption; on a deal with a cap of N, the staged rows beyond
/// what the cap leaves room for (in file order). The first [`PROBLEM_LIMIT`] by line, and how
/// many in all.
async fn cap_problems(
    conn: &mut sqlx::PgConnection,
    locked: &[Deal],
    staged: &BTreeMap<i64, u64>,
) -> Result<(Vec<RowProblem>, u64)> {
    let limit = PROBLEM_LIMIT as i64;
    let mut found = Vec::new();
    let mut total = 0u64;
    let mut over: Vec<(&Deal, i64)> = Vec::new();
    let mut one_per_member = false;
    for d in locked {
        let n = staged.get(&d.id).copied().unwrap_or(0);
        match d.redemption_cap {
            Some(1) => one_per_member = true,
            Some(cap) => {
                let room = i64::from(cap) - i64::from(d.redemption_count);
                let room = room.max(0);
                if n as i64 > room {
                    total += n - room as u64;
                    over.push((d, room));
                }
            }
            None => {}
        }
    }
    if !over.is_empty() {
        let ids: Vec<i64> = over.iter().map(|(d, _)| d.id).collect();
        let rooms: Vec<i64> = over.iter().map(|(_, r)| *r).collect();
        let by_id: HashMap<i64, &Deal> = over.iter().map(|(d, _)| (d.id, *d)).collect();
        for (line, deal_id, n) in
            store::redemptions::staged_over_cap(conn, &ids, &rooms, limit).await?
        {
            let d = by_id[&deal_id];
            let cap = d.redemption_cap.unwrap_or_default();
            found.push(RowProblem {
                line: line as u64,
                field: "deal_id",
                rule: format!(
                    "{} and has {}; this row would be its {}",
                    RedemptionRefusal::CapReached { deal_id, cap },
                    d.redemption_count,
                    ordinal(i64::from(d.redemption_count) + n)
                ),
            });
        }
    }
    if one_per_member {
        let (repeats, rows) = store::redemptions::staged_repeats(conn, limit).await?;
        total += repeats as u64;
        for (line, deal_id, member_id, redeemed_at) in rows {
            let refusal = RedemptionRefusal::AlreadyRedeemed {
                deal_id,
                member_id,
                redeemed_at,
            };
            found.push(RowProblem {
                line: line as u64,
                field: "member_id",
                rule: format!("{refusal} (the deal allows one redemption per member)"),
            });
        }
    }
    found.sort_by_key(|p| p.line);
    found.truncate(PROBLEM_LIMIT);
    Ok((found, total))
}

/// 1st, 2nd, 3rd, 4th, 11th, 21st…
fn ordinal(n: i64) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinals() {
        let got: Vec<String> = [1, 2, 3, 4, 11, 12, 13, 21, 22, 51, 101, 111]
            .into_iter()
            .map(ordinal)
            .collect();
        assert_eq!(
            got,
            [
                "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "51st",
                "101st", "111th"
            ]
        );
    }

    fn problem(line: u64) -> RowProblem {
        RowProblem {
            line,
            field: "deal_id",
            rule: "r".into(),
        }
    }

    #[test]
    fn late_problems_merge_by_line_and_the_list_stays_bounded() {
        let mut p = Problems::default();
        p.add(vec![problem(2), problem(2)]);
        p.add(vec![problem(9)]);
        p.merge((vec![problem(5), problem(12)], 2));
        let lines: Vec<u64> = p.kept.iter().map(|p| p.line).collect();
        assert_eq!(lines, [2, 2, 5, 9, 12]);
        assert_eq!((p.count, p.bad_rows), (5, 4));

        let mut p = Problems::default();
        for line in 0..2 * PROBLEM_LIMIT as u64 {
            p.add(vec![problem(line + 2)]);
        }
        p.merge((vec![problem(3)], 5000));
        assert_eq!(p.kept.len(), PROBLEM_LIMIT);
        assert_eq!(p.kept[1].line, 3);
        assert_eq!(p.count, 2 * PROBLEM_LIMIT as u64 + 5000);
    }

    fn deal_with_codes(current: &str, codes: &[(&str, &str)]) -> SeenDeal {
        let t = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().to_utc();
        let deal = Deal {
            id: 1,
            partner_id: 1,
            title: "t".into(),
            description: String::new(),
            kind: DealKind::Coupon,
            coupon_code: Some(current.into()),
            redemption_url: None,
            categories: Vec::new(),
            audience_scope: AudienceScope::Public,
            audience_scope_value: None,
            valid_from: t("2026-01-01T00:00:00Z"),
            valid_until: t("2027-01-01T00:00:00Z"),
            redemption_cap: None,
            redemption_count: 0,
            state: DealState::Active,
            published_at: None,
            created_at: t("2026-01-01T00:00:00Z"),
            created_by: "c".into(),
            updated_at: t("2026-01-01T00:00:00Z"),
            updated_by: "c".into(),
            version: 1,
        };
        SeenDeal {
            deal,
            codes: codes
                .iter()
                .map(|(at, code)| (t(at), (*code).to_owned()))
                .collect(),
        }
    }

    #[test]
    fn a_row_gets_the_code_the_deal_had_at_its_time() {
        let t = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().to_utc();
        let d = deal_with_codes(
            "THIRD",
            &[
                ("2026-02-01T00:00:00Z", "FIRST"),
                ("2026-03-01T00:00:00Z", "SECOND"),
                ("2026-04-01T00:00:00Z", "THIRD"),
            ],
        );
        assert_eq!(d.code_at(t("2026-01-15T00:00:00Z")), Some("FIRST"));
        assert_eq!(d.code_at(t("2026-02-01T00:00:00Z")), Some("FIRST"));
        assert_eq!(d.code_at(t("2026-03-15T00:00:00Z")), Some("SECOND"));
        assert_eq!(d.code_at(t("2026-05-01T00:00:00Z")), Some("THIRD"));
        // One code (or none recorded): the deal's code.
        let d = deal_with_codes("ONLY", &[("2026-02-01T00:00:00Z", "ONLY")]);
        assert_eq!(d.code_at(t("2026-01-15T00:00:00Z")), Some("ONLY"));
        let d = deal_with_codes("SEEDED", &[]);
        assert_eq!(d.code_at(t("2026-01-15T00:00:00Z")), Some("SEEDED"));
    }
}
