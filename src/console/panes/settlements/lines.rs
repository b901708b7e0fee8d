//! The open settlement's lines: a window of pages (at most `WINDOW` lines held) read from the
//! database by line number, which runs 1…N without gaps, so the page before the window and the
//! last page are found by arithmetic rather than by reading backwards. Enter on a line shows its
//! redemption (the Redemptions pane has no view of a single redemption to send the operator
//! to).

use super::{Effect, SettlementsPane};
use crate::console::list::{ListRow, PAGE};
use crate::console::msg::{Effect as AppEffect, Gen, LoadMode};
use crate::console::pane::fx;
use crate::console::shell::Shell;
use crate::console::view::local_secs;
use crate::domain::money::{format_amount, format_bps};
use crate::domain::settlement::LineKind;
use crate::error::Error;
use crate::service::rows::{Line, RedemptionRow};

impl ListRow for Line {
    type Cursor = i64;
    fn id(&self) -> i64 {
        self.line_no.into()
    }
    fn cursor(&self) -> i64 {
        self.line_no.into()
    }
}

/// The page to ask for: (after line, how many), or `None` when there is nothing before.
pub fn page_bounds(
    mode: LoadMode,
    cursor: Option<i64>,
    total: Option<i64>,
) -> Option<(Option<i64>, i64)> {
    match mode {
        // The lines before the first one held.
        LoadMode::Prepend => {
            let first = cursor?;
            let after = (first - 1 - PAGE).max(0);
            let n = first - 1 - after;
            (n > 0).then_some((Some(after), n))
        }
        LoadMode::Last => Some((total.map(|t| (t - PAGE).max(0)), PAGE)),
        LoadMode::Replace | LoadMode::Append => Some((cursor, PAGE)),
    }
}

impl SettlementsPane {
    /// Lines of the open settlement: its statement lines and exceptions.
    pub fn total_lines(&self) -> Option<i64> {
        let s = &self.detail.data.as_ref()?.view.row.settlement;
        Some(i64::from(s.line_count) + i64::from(s.exception_count))
    }

    pub(super) fn load_lines(&mut self, sh: &mut Shell, mode: LoadMode) -> Vec<AppEffect> {
        let Some(id) = self.open_id else {
            return Vec::new();
        };
        let total = self.total_lines();
        let (tag, req) = self.lines.request(sh, mode);
        let Some((after, limit)) = page_bounds(mode, req.after, total) else {
            self.lines.accept(tag);
            self.lines.at_start = true;
            return Vec::new();
        };
        fx(Effect::Lines {
            tag,
            id,
            after: after.and_then(|a| i32::try_from(a).ok()),
            limit,
            mode,
        })
    }

    /// A page of lines came back: joined to the window, whose ends are then known by number.
    pub(super) fn lines_loaded(
        &mut self,
        sh: &mut Shell,
        tag: Gen,
        mode: LoadMode,
        result: Result<Vec<Line>, Error>,
    ) {
        self.lines.receive(sh, tag, mode, result);
        let total = self.total_lines();
        let l = &mut self.lines;
        if let (Some(first), Some(last)) = (l.rows.first(), l.rows.last()) {
            l.at_start = first.line_no <= 1;
            if let Some(t) = total {
                l.at_end = i64::from(last.line_no) >= t;
            }
        }
    }

    /// Enter on a line: its redemption, shown over the detail.
    pub(super) fn open_line(&mut self, sh: &mut Shell) -> Vec<AppEffect> {
        let (Some(id), Some(line)) = (self.open_id, self.lines.selected_row()) else {
            return Vec::new();
        };
        if line.redemption_id.is_none() {
            sh.toast(match line.payout_id {
                Some(p) => format!(
                    "line {} is referral payout {p}: partnerdesk referrals show --partner for its account",
                    line.line_no
                ),
                None => format!(
                    "line {} is the period's fee: no redemption behind it",
                    line.line_no
                ),
            });
            return Vec::new();
        }
        fx(Effect::Redemption {
            settlement: id,
            line: Box::new(line.clone()),
        })
    }
}

/// A line's kind as the table shows it: "redemption", "period fee", "referral", "no value",
/// "currency".
pub fn kind_text(l: &Line) -> &'static str {
    match (l.kind, l.exception.0) {
        (_, Some(e)) => match e {
            crate::domain::settlement::ExceptionKind::NoValue => "no value",
            crate::domain::settlement::ExceptionKind::OtherCurrency => "currency",
        },
        (LineKind::PeriodFee, _) => "period fee",
        (LineKind::Referral, _) => "referral",
        _ => "redemption",
    }
}

/// What the line's redemption is: the title and lines of the information popup.
pub fn redemption_info(settlement: i64, l: &Line, r: &RedemptionRow) -> (String, Vec<String>) {
    let mut lines = vec![
        format!("Line {} of settlement {settlement}", l.line_no),
        format!("Deal #{} {}", r.deal_id, r.deal_title),
        format!("Member #{} {}", r.member_id, r.member_handle),
        format!(
            "Redeemed {} ({}){}",
            local_secs(r.redeemed_at),
            r.source,
            r.coupon_code
                .as_ref()
                .map(|c| format!(" with code {c}"))
                .unwrap_or_default()
        ),
    ];
    let value = match (l.value_minor, &l.currency) {
        (Some(v), Some(c)) => format_amount(v, c),
        _ => "no value reported".into(),
    };
    match l.exception.0 {
        Some(e) => lines.push(format!(
            "Value {value}: an exception ({}), not in the totals",
            e.describe()
        )),
        None => lines.push(format!(
            "Value {value}{} → {}",
            l.rate_bps
                .map(|b| format!(" at {}", format_bps(b.into())))
                .unwrap_or_default(),
            l.amount_minor
                .map(|a| format_amount(a, l.currency.as_deref().unwrap_or("EUR")))
                .unwrap_or_else(|| "-".into())
        )),
    }
    match (r.flag_kind, &r.flagged_by) {
        (Some(k), by) => lines.push(format!(
            "Flagged {k}{}: left out when the statement is computed again",
            by.as_ref().map(|b| format!(" by {b}")).unwrap_or_default()
        )),
        (None, _) => lines.push("Not flagged.".into()),
    }
    (format!("Redemption #{}", r.id), lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_before_and_last_are_found_by_number() {
        // The window starts at line 201: the 100 before it.
        assert_eq!(
            page_bounds(LoadMode::Prepend, Some(201), Some(250)),
            Some((Some(100), 100))
        );
        // Starts at line 51: lines 1…50.
        assert_eq!(
            page_bounds(LoadMode::Prepend, Some(51), None),
            Some((Some(0), 50))
        );
        assert_eq!(page_bounds(LoadMode::Prepend, Some(1), Some(250)), None);
        assert_eq!(
            page_bounds(LoadMode::Last, None, Some(250)),
            Some((Some(150), 100))
        );
        assert_eq!(
            page_bounds(LoadMode::Last, None, Some(30)),
            Some((Some(0), 100))
        );
        assert_eq!(
            page_bounds(LoadMode::Append, Some(100), Some(250)),
            Some((Some(100), 100))
        );
    }
}
