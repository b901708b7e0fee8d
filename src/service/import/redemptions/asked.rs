//! A row of a redemptions file read into what it asks to record: the deal, the member, the
//! time, the order value and the kind of deal its source is for, with the problems of the
//! cells that do not read.

use crate::domain::moment::read_utc;
use crate::domain::{DealKind, OrderValue, ValidationErrors};
use crate::service::import::RowProblem;
use crate::service::import::read::Row;
use crate::store::redemptions::source_for;
use chrono::{DateTime, Utc};

/// What a row asks to record, as far as its cells read; the problems of those that do not.
pub(super) struct Asked {
    pub(super) line: u64,
    /// The row could not be read into cells (their count, their encoding): nothing else is
    /// checked.
    pub(super) unread: Vec<RowProblem>,
    pub(super) deal_id: Option<i64>,
    pub(super) member_id: Option<i64>,
    pub(super) at: Option<DateTime<Utc>>,
    pub(super) value: Option<OrderValue>,
    /// The kind of deal the `source` cell is for.
    pub(super) kind: Option<DealKind>,
    pub(super) problems: Vec<(&'static str, String)>,
}

impl Asked {
    pub(super) fn read(row: Row, now: DateTime<Utc>) -> Self {
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
            cell => read_utc(&mut errs, "redeemed_at", cell, false),
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
