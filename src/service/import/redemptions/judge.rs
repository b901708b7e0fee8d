//! The rules of a redemptions import that need the database: the deals and members each chunk
//! of rows names, looked up once, and each row judged against them as `record_redemption`
//! would judge it at its time.

use super::COLUMNS;
use super::asked::Asked;
use crate::domain::{AudienceScope, DealKind, DealState, Member};
use crate::error::{RedemptionRefusal, Result};
use crate::service::import::RowProblem;
use crate::store::{
    self,
    deals::Deal,
    redemptions::{StagedRedemption, source_for},
};
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, BTreeSet, HashMap, hash_map::Entry};

/// A deal as the rows were checked against it, with its coupon codes over time.
pub(super) struct SeenDeal {
    pub(super) deal: Deal,
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
pub(super) struct Judge {
    /// Every deal the file has named: `None` when there is no such deal.
    pub(super) deals: HashMap<i64, Option<SeenDeal>>,
    /// Members looked up: `None` when there is no such member.
    members: HashMap<i64, Option<Member>>,
    /// Rows staged per deal.
    pub(super) staged: BTreeMap<i64, u64>,
    /// On one-per-member deals: the line that staged each (deal, member).
    first_line: HashMap<(i64, i64), u64>,
}

impl Judge {
    /// Looks up the deals and the members of `chunk` not seen before, a statement each.
    pub(super) async fn look_up(
        &mut self,
        conn: &mut sqlx::PgConnection,
        chunk: &[Asked],
    ) -> Result<()> {
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
    pub(super) fn check<'s>(
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

#[cfg(test)]
mod tests {
    use super::*;

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
