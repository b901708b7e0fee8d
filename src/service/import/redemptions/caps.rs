//! The checks of a redemptions import made with the deals locked: that no deal changed while
//! the file was checked, and that the staged rows fit the caps with the counts recorded
//! meanwhile.

use super::PROBLEM_LIMIT;
use crate::error::{Error, RedemptionRefusal, Result};
use crate::service::import::RowProblem;
use crate::store::{self, deals::Deal};
use std::collections::{BTreeMap, HashMap};

/// A deal whose rules changed between the check of the rows and the lock: the rows were
/// judged by rules that no longer hold, so nothing is written.
pub(super) fn changed_meanwhile(seen: &Deal, now: &Deal) -> Result<()> {
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
pub(super) async fn cap_problems(
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
}
