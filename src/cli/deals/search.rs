//! `partnerdesk deals search`: what a member would find.

use crate::cli::Context;
use crate::cli::output::{out, outln};
use crate::cli::table::{Table, time};
use crate::error::Result;
use crate::service::search::DealHit;
use std::process::ExitCode;

pub(super) async fn search(
    ctx: &Context,
    text: &str,
    member: i64,
    limit: i64,
    json: bool,
) -> Result<ExitCode> {
    let desk = ctx.desk(2).await?;
    let hits = desk.search_deals(member, text, limit).await?;
    if json {
        crate::cli::output::json(&hits)?;
    } else if hits.is_empty() {
        outln!("no active deal matches");
    } else {
        out!("{}", hits_table(&hits));
    }
    Ok(ExitCode::SUCCESS)
}

/// The hits as an aligned table with a header line.
fn hits_table(hits: &[DealHit]) -> String {
    let mut t = Table::new(&[
        "ID",
        "TITLE",
        "PARTNER",
        "KIND",
        "SCOPE",
        "VALID UNTIL",
        "RANK",
    ])
    .right(&[0, 6]);
    for h in hits {
        t.row(vec![
            h.id.to_string(),
            h.title.clone(),
            h.partner.clone(),
            h.kind.to_string(),
            super::scope_text(h.audience_scope, h.audience_scope_value.as_deref()),
            time(h.valid_until),
            format!("{:.3}", h.rank),
        ]);
    }
    t.render()
}
