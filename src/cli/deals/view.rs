//! `partnerdesk deals list|show`.

use super::scope_text;
use crate::cli::Context;
use crate::cli::args::Print;
use crate::cli::csv_list::{CSV_PAGE, CsvArgs, CsvColumn, day, write_pages};
use crate::cli::output::{self, out, outln};
use crate::cli::table::{Table, or_dash, record, time};
use crate::domain::list_text::{audience, used as used_text, window};
use crate::domain::{AudienceScope, DealState};
use crate::error::{Error, Result};
use crate::service::rows::{CouponCodeChange, Deal, DealFilter, DealListRow, DealSort};
use clap::Args;
use serde::Serialize;
use std::process::ExitCode;

/// The most rows one `list` prints.
pub const LIST_LIMIT_MAX: i64 = 10_000;

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Only deals in this state: draft, active, paused or expired.
    #[arg(long, value_name = "STATE")]
    pub state: Option<DealState>,
    /// Only the deals of this partner (its id).
    #[arg(long, value_name = "ID")]
    pub partner: Option<i64>,
    /// Only deals whose title, coupon code or partner name contains this text.
    #[arg(long, value_name = "TEXT")]
    pub text: Option<String>,
    /// Only deals for this audience: public, institute, alumni, batch or chapter.
    #[arg(long, value_name = "SCOPE")]
    pub scope: Option<AudienceScope>,
    /// Only deals in this category.
    #[arg(long, value_name = "NAME")]
    pub category: Option<String>,
    /// Sort by created (newest first), title, ends, state or used.
    #[arg(long, value_name = "KEY", default_value = "created", value_parser = parse_sort)]
    pub sort: DealSort,
    /// Reverse the order.
    #[arg(long)]
    pub reverse: bool,
    /// At most this many rows (not with --csv: it prints every match).
    #[arg(long, value_name = "N", default_value_t = 50,
          value_parser = clap::value_parser!(i64).range(1..=LIST_LIMIT_MAX))]
    pub limit: i64,
    #[command(flatten)]
    pub print: Print,
    #[command(flatten)]
    pub csv: CsvArgs,
}

fn parse_sort(s: &str) -> std::result::Result<DealSort, String> {
    let t = s.trim().to_ascii_lowercase();
    DealSort::ALL
        .into_iter()
        .find(|k| k.label() == t)
        .ok_or_else(|| "must be created, title, ends, state or used".into())
}

/// `deals list --csv`: the console's wide columns, in its order.
const CSV_COLUMNS: &[CsvColumn<DealListRow>] = &[
    ("title", |r| r.title.clone()),
    ("partner", |r| r.partner_name.clone()),
    ("kind", |r| r.kind.to_string()),
    ("audience", |r| {
        audience(r.audience_scope, r.audience_scope_value.as_deref())
    }),
    ("state", |r| r.state.to_string()),
    ("redeemed", |r| {
        used_text(r.redemption_count, r.redemption_cap)
    }),
    ("window", |r| window(r.valid_from, r.valid_until, day)),
    ("id", |r| r.id.to_string()),
];

pub async fn list(ctx: &Context, a: ListArgs) -> Result<ExitCode> {
    a.csv.check()?;
    let desk = ctx.desk(2).await?;
    let filter = DealFilter {
        state: a.state,
        partner_id: a.partner,
        scope: a.scope,
        category: a.category.filter(|c| !c.trim().is_empty()),
        text: a.text,
        sort: a.sort,
        // Newest first, as the console lists them; other keys ascending.
        descending: (a.sort == DealSort::Created) != a.reverse,
        after: None,
    };
    if a.csv.csv {
        let cursor = |r: &DealListRow| (r.sort_key.clone(), r.id);
        return write_pages(&a.csv, "deals", CSV_COLUMNS, cursor, |after| {
            let filter = DealFilter {
                after,
                ..filter.clone()
            };
            let desk = &desk;
            async move { desk.list_deals(&filter, CSV_PAGE).await }
        })
        .await;
    }
    let rows = desk.list_deals(&filter, a.limit).await?;
    if a.print.json {
        output::json(&rows)?;
    } else if rows.is_empty() {
        outln!("no deal matches");
    } else {
        out!("{}", list_table(&rows));
    }
    Ok(ExitCode::SUCCESS)
}

fn used(count: i32, cap: Option<i32>) -> String {
    match cap {
        Some(c) => format!("{count}/{c}"),
        None => count.to_string(),
    }
}

fn list_table(rows: &[DealListRow]) -> String {
    let mut t = Table::new(&[
        "ID",
        "TITLE",
        "PARTNER",
        "KIND",
        "SCOPE",
        "STATE",
        "VALID UNTIL",
        "USED",
        "VERSION",
    ])
    .right(&[0, 7, 8]);
    for r in rows {
        t.row(vec![
            r.id.to_string(),
            r.title.clone(),
            format!("{} (#{})", r.partner_name, r.partner_id),
            r.kind.to_string(),
            scope_text(r.audience_scope, r.audience_scope_value.as_deref()),
            r.state.to_string(),
            time(r.valid_until),
            used(r.redemption_count, r.redemption_cap),
            r.version.to_string(),
        ]);
    }
    t.render()
}

/// `deals show --json`: the deal's record, its partner's name and every code it has had.
#[derive(Serialize)]
struct Shown<'a> {
    #[serde(flatten)]
    deal: &'a Deal,
    /// `None` when the partner has been deleted.
    partner_name: Option<&'a str>,
    coupon_codes: &'a [CouponCodeChange],
}

pub async fn show(ctx: &Context, id: i64, print: &Print) -> Result<ExitCode> {
    let desk = ctx.desk(2).await?;
    let deal = desk.get_deal(id).await?;
    let partner = match desk.get_partner(deal.partner_id).await {
        Ok(p) => Some(p.display_name),
        // Expired deals keep a deleted partner on record.
        Err(Error::NotFound { .. }) => None,
        Err(e) => return Err(e),
    };
    let codes = desk.deal_code_history(id).await?;
    let shown = Shown {
        deal: &deal,
        partner_name: partner.as_deref(),
        coupon_codes: &codes,
    };
    if print.json {
        output::json(&shown)?;
    } else {
        out!("{}", show_text(&shown));
    }
    Ok(ExitCode::SUCCESS)
}

fn show_text(s: &Shown<'_>) -> String {
    let d = s.deal;
    let redeem = match (&d.coupon_code, &d.redemption_url) {
        (Some(c), _) => format!("{}, code {c}", d.kind),
        (_, Some(u)) => format!("{}, {u}", d.kind),
        _ => d.kind.to_string(),
    };
    let cap = match d.redemption_cap {
        None => "none".to_owned(),
        Some(1) => "1 (one per member)".to_owned(),
        Some(n) => format!("{n} (the first {n} in total)"),
    };
    let published = d
        .published_at
        .map(|t| format!(", published at {}", time(t)))
        .unwrap_or_default();
    let codes = s
        .coupon_codes
        .iter()
        .map(|c| format!("{} (set by {} at {})", c.code, c.set_by, time(c.set_at)))
        .collect::<Vec<_>>()
        .join("\n");
    record(&[
        ("deal", format!("{} {}", d.id, d.title)),
        (
            "partner",
            match s.partner_name {
                Some(n) => format!("{n} (#{})", d.partner_id),
                None => format!("#{} (deleted)", d.partner_id),
            },
        ),
        ("state", format!("{}{published}", d.state)),
        ("redeem", redeem),
        (
            "audience",
            scope_text(d.audience_scope, d.audience_scope_value.as_deref()),
        ),
        (
            "valid",
            format!("{} to {}", time(d.valid_from), time(d.valid_until)),
        ),
        ("cap", cap),
        ("redeemed", d.redemption_count.to_string()),
        ("categories", or_dash(Some(&d.categories.join(", ")))),
        ("description", or_dash(Some(&d.description))),
        ("codes", or_dash(Some(&codes))),
        (
            "version",
            format!(
                "{}, changed by {} at {}",
                d.version,
                d.updated_by,
                time(d.updated_at)
            ),
        ),
        (
            "created",
            format!("by {} at {}", d.created_by, time(d.created_at)),
        ),
    ])
}
