//! Bulk import of deals from CSV (issue 4, "Bulk import"): every row checked with the rules
//! of [`Desk::create_deal`], a report of each bad row with its line, field and rule, and
//! nothing written unless every row is valid, then every row in one transaction. The import
//! of past redemptions ([`redemptions`]) shares the reader and [`RowProblem`].

use super::Desk;
use super::deals::{existing_partner, insert_deals, kyc_gate, window_open};
use crate::domain::deal::CAP_MAX;
use crate::domain::moment::read_utc;
use crate::domain::partner::domain_of;
use crate::domain::validation::Lines;
use crate::domain::{DealDraft, DealState, FieldError, Permission, ValidDeal, ValidationErrors};
use crate::error::{Error, Result};
use crate::store::{self, partners::Partner};
use chrono::{DateTime, Utc};
use read::{Layout, Row, read_rows};
use serde::Serialize;
use sqlx::PgConnection;
use std::collections::HashMap;
use std::fmt;
use std::io::Read;

mod read;
pub mod redemptions;

/// The columns a deal file may have, in the order of the field table (SPEC §1.4). Problems
/// within a row are reported in this order.
pub const COLUMNS: &[&str] = &[
    "partner",
    "title",
    "description",
    "kind",
    "coupon_code",
    "redemption_url",
    "categories",
    "audience_scope",
    "audience_scope_value",
    "valid_from",
    "valid_until",
    "redemption_cap",
    "state",
];

/// The columns every file must have (the others may be left out).
pub const REQUIRED_COLUMNS: &[&str] = &[
    "partner",
    "title",
    "kind",
    "audience_scope",
    "valid_from",
    "valid_until",
];

/// The deals file's columns, for the reader.
static LAYOUT: Layout = Layout {
    columns: COLUMNS,
    required: REQUIRED_COLUMNS,
};

pub use crate::domain::moment::TIME_FORMATS;

/// One broken rule in one row: `line 3: coupon_code: required when kind is coupon`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowProblem {
    /// The line of the file where the row starts (the header is line 1).
    pub line: u64,
    /// The column, or `row` for a problem with the row as a whole.
    pub field: &'static str,
    pub rule: String,
}

impl fmt::Display for RowProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A rule may quote the bad cell: shown escaped, on one line.
        let rule = crate::domain::validation::escape_control(&self.rule, Lines::One);
        write!(f, "line {}: {}: {rule}", self.line, self.field)
    }
}

/// A row that passed every rule, as it would be (or was) written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ValidRow {
    pub line: u64,
    pub deal: ValidDeal,
}

/// The outcome of an import or a dry run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    /// The file's name, as given (also in each audit row's reason: `import FILE`).
    pub source: String,
    /// Rows read (blank rows are skipped and not counted).
    pub rows: usize,
    /// Every problem of every bad row, by line, then in column order.
    pub problems: Vec<RowProblem>,
    /// The rows that passed, in file order (a preview of what is or would be written).
    pub valid_rows: Vec<ValidRow>,
    /// The ids of the deals written, in file order; empty on a dry run or when a row is bad.
    pub imported: Vec<i64>,
    pub dry_run: bool,
}

impl ImportReport {
    /// No row has a problem.
    pub fn is_valid(&self) -> bool {
        self.problems.is_empty()
    }

    /// How many rows have at least one problem.
    pub fn bad_rows(&self) -> usize {
        let mut lines: Vec<u64> = self.problems.iter().map(|p| p.line).collect();
        lines.dedup();
        lines.len()
    }
}

impl Desk {
    /// Imports deals from CSV read from `reader`; `source` names the file in the report and
    /// in the audit rows (`import FILE`).
    ///
    /// A header row is required; its columns are [`COLUMNS`] in any order, of which
    /// [`REQUIRED_COLUMNS`] must be present. An unknown, duplicated or missing column is an
    /// error (no row is read). `partner` is a partner id or the partner's domain;
    /// `categories` are separated by `;` or `,`; times are [`TIME_FORMATS`]; `state` is
    /// `draft` unless given. Each row is checked with the rules of [`Desk::create_deal`]:
    /// [`DealDraft::validate`], the partner exists, and an `active` row needs a verified
    /// partner (KYC gate) and a window that has not ended.
    ///
    /// Nothing is written unless every row is valid; then all rows are written in one
    /// transaction, each with its `deal.create` audit row and outbox event, and the active
    /// ones with their search document. With `dry_run` everything is checked and nothing is
    /// written.
    ///
    /// The time grows linearly with the rows: each partner is looked up (and locked) once,
    /// and the rows are written with a handful of statements, not a few per row.
    pub async fn import_deals<R: Read>(
        &self,
        source: &str,
        reader: R,
        dry_run: bool,
    ) -> Result<ImportReport> {
        self.actor().require(Permission::ManageDeals)?;
        let rows = read_rows(reader, &LAYOUT)?;
        let mut report = ImportReport {
            source: source.to_owned(),
            rows: rows.len(),
            problems: Vec::new(),
            valid_rows: Vec::new(),
            imported: Vec::new(),
            dry_run,
        };
        let now = Utc::now();
        let mut tx = self.pool().begin().await?;
        let mut partners = Partners::default();
        for row in &rows {
            match check_row(&mut tx, row, &mut partners, now).await? {
                Ok(deal) => report.valid_rows.push(ValidRow {
                    line: row.line,
                    deal,
                }),
                Err(problems) => report.problems.extend(problems),
            }
        }
        if dry_run || !report.is_valid() {
            tx.rollback().await?;
            return Ok(report);
        }
        let reason = format!("import {source}");
        let valid: Vec<&ValidDeal> = report.valid_rows.iter().map(|r| &r.deal).collect();
        let deals = insert_deals(&mut tx, self.actor(), &valid, Some(&reason)).await?;
        tx.commit().await?;
        report.imported = deals.iter().map(|d| d.id).collect();
        Ok(report)
    }
}

/// The partners a file names, each looked up once: by domain, and by id (locked for share
/// until the import ends, as `create_deal` locks its partner).
#[derive(Default)]
struct Partners {
    by_domain: HashMap<String, Option<i64>>,
    by_id: HashMap<i64, std::result::Result<Partner, Vec<FieldError>>>,
}

impl Partners {
    /// The partner must exist: [`existing_partner`], once per id.
    async fn existing(
        &mut self,
        conn: &mut PgConnection,
        id: i64,
    ) -> Result<std::result::Result<Partner, Vec<FieldError>>> {
        if let Some(found) = self.by_id.get(&id) {
            return Ok(found.clone());
        }
        let found = match existing_partner(conn, id).await {
            Ok(p) => Ok(p),
            Err(Error::Validation(v)) => Err(v.0),
            Err(e) => return Err(e),
        };
        self.by_id.insert(id, found.clone());
        Ok(found)
    }
}

/// Checks one row with the same rules as `create_deal`; every problem of the row at once.
async fn check_row(
    conn: &mut PgConnection,
    row: &Row,
    partners: &mut Partners,
    now: DateTime<Utc>,
) -> Result<Result<ValidDeal, Vec<RowProblem>>> {
    if !row.problems.is_empty() {
        return Ok(Err(row.problems.clone()));
    }
    // Cells that do not even parse: their field's rule is this, not what validate says of
    // the empty value they become.
    let mut parse = ValidationErrors::new();
    let partner_id = partner_ref(
        conn,
        row.cell("partner"),
        &mut partners.by_domain,
        &mut parse,
    )
    .await?;
    let draft = DealDraft {
        partner_id,
        title: row.cell("title").to_owned(),
        description: row.cell("description").to_owned(),
        kind: row.cell("kind").to_owned(),
        coupon_code: row.optional("coupon_code"),
        redemption_url: row.optional("redemption_url"),
        categories: split_categories(row.cell("categories")),
        audience_scope: row.cell("audience_scope").to_owned(),
        audience_scope_value: row.optional("audience_scope_value"),
        valid_from: read_utc(&mut parse, "valid_from", row.cell("valid_from"), false),
        valid_until: read_utc(&mut parse, "valid_until", row.cell("valid_until"), true),
        redemption_cap: parse_cap(&mut parse, row.cell("redemption_cap")),
        state: row.optional("state"),
    };
    let validated = draft.validate();
    let mut errors: Vec<FieldError> = parse.0.clone();
    if let Err(e) = &validated {
        errors.extend(
            e.0.iter()
                .filter(|f| parse.for_field(f.field).is_none())
                .cloned(),
        );
    }

    // The partner must exist; an active deal needs a verified one and an open window.
    let mut partner: Option<Partner> = None;
    if let Some(id) = partner_id.filter(|id| *id > 0)
        && !errors.iter().any(|f| f.field == "partner")
    {
        match partners.existing(conn, id).await? {
            Ok(p) => partner = Some(p),
            Err(v) => errors.extend(v),
        }
    }
    let asked_state = match &validated {
        Ok(v) => Some(v.state),
        Err(_) => draft.state.as_deref().and_then(|s| s.parse().ok()),
    };
    if asked_state == Some(DealState::Active) {
        if let Some(p) = &partner
            && let Err(e) = kyc_gate(p)
        {
            errors.push(FieldError {
                field: "state",
                rule: e.to_string(),
            });
        }
        if let Ok(v) = &validated {
            match window_open(v, now) {
                Ok(()) => {}
                Err(Error::Validation(w)) => errors.extend(w.0),
                Err(e) => return Err(e),
            }
        }
    }

    if errors.is_empty() {
        return Ok(Ok(validated.expect("no problems")));
    }
    let order = |f: &str| {
        COLUMNS
            .iter()
            .position(|c| *c == f)
            .unwrap_or(COLUMNS.len())
    };
    errors.sort_by_key(|f| order(f.field));
    Ok(Err(errors
        .into_iter()
        .map(|f| RowProblem {
            line: row.line,
            field: f.field,
            rule: f.rule,
        })
        .collect()))
}

/// A partner id, or a partner's domain (`example.com`, `www.Example.com`,
/// `https://example.com/`), looked up among live partners.
async fn partner_ref(
    conn: &mut PgConnection,
    cell: &str,
    domains: &mut HashMap<String, Option<i64>>,
    errs: &mut ValidationErrors,
) -> Result<Option<i64>> {
    let cell = cell.trim();
    if cell.is_empty() {
        return Ok(None);
    }
    if cell.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(match cell.parse::<i64>() {
            Ok(id) => Some(id),
            Err(_) => {
                errs.push(
                    "partner",
                    format!("must be an existing partner (no partner #{cell})"),
                );
                None
            }
        });
    }
    let url = if cell.contains("://") {
        cell.to_owned()
    } else {
        format!("https://{cell}")
    };
    let Some(domain) = domain_of(&url).filter(|d| !cell.contains(' ') && d.contains('.')) else {
        errs.push(
            "partner",
            "a partner id, or a partner's domain like example.com",
        );
        return Ok(None);
    };
    let id = match domains.get(&domain) {
        Some(id) => *id,
        None => {
            let found = store::partners::find_by_domain(conn, &domain, None)
                .await?
                .map(|(id, _)| id);
            domains.insert(domain.clone(), found);
            found
        }
    };
    if id.is_none() {
        errs.push(
            "partner",
            format!("must be an existing partner (no partner with the domain {domain})"),
        );
    }
    Ok(id)
}

/// A cell of categories, separated by `;` or `,`.
fn split_categories(cell: &str) -> Vec<String> {
    cell.split([';', ','])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// A whole number, or empty for no cap; its range is checked by validate.
fn parse_cap(errs: &mut ValidationErrors, cell: &str) -> Option<i64> {
    let s = cell.trim();
    if s.is_empty() {
        return None;
    }
    match s.parse::<i64>() {
        Ok(n) => Some(n),
        Err(_) => {
            // The same rule validate states for a number out of range.
            errs.push(
                "redemption_cap",
                format!("a positive whole number up to {CAP_MAX}, or empty for no cap"),
            );
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_and_caps() {
        let mut e = ValidationErrors::new();
        assert_eq!(
            read_utc(&mut e, "valid_from", "2026-03-01 09:30", false),
            Some("2026-03-01T09:30:00Z".parse().unwrap())
        );
        assert_eq!(
            read_utc(&mut e, "valid_from", "2026-03-01T10:30:00+01:00", false),
            Some("2026-03-01T09:30:00Z".parse().unwrap())
        );
        assert_eq!(read_utc(&mut e, "valid_from", " ", false), None);
        // A bare date: 00:00 as a start, the whole day as an end.
        assert_eq!(
            read_utc(&mut e, "valid_from", "2026-03-01", false),
            Some("2026-03-01T00:00:00Z".parse().unwrap())
        );
        assert_eq!(
            read_utc(&mut e, "valid_until", "2026-03-01", true),
            Some("2026-03-02T00:00:00Z".parse().unwrap())
        );
        assert!(e.is_empty());
        assert_eq!(read_utc(&mut e, "valid_from", "01/03/2026", false), None);
        assert_eq!(
            e.to_string(),
            format!("valid_from: not a date and time (01/03/2026): use {TIME_FORMATS}")
        );
        let mut e = ValidationErrors::new();
        assert_eq!(parse_cap(&mut e, "12"), Some(12));
        assert_eq!(parse_cap(&mut e, ""), None);
        assert!(e.is_empty());
        assert_eq!(parse_cap(&mut e, "ten"), None);
        assert!(
            e.to_string()
                .starts_with("redemption_cap: a positive whole number")
        );
    }

    #[test]
    fn categories_split_on_semicolons_and_commas() {
        assert_eq!(
            split_categories(" food; travel ,books;;"),
            ["food", "travel", "books"]
        );
    }
}
