//! What the Settlements pane does when asked: the prompt each move needs (a period, a note, a
//! reason, a payment's reference, the partner's tally), then a confirmation saying what the
//! move will do, then the move on a task.

use super::{Effect, Question, SettlementsPane, Step};
use crate::console::action::Action;
use crate::console::msg::Effect as AppEffect;
use crate::console::pane::{Answer, fx};
use crate::console::shell::Shell;
use crate::console::view::now;
use crate::domain::Permission;
use crate::domain::money::{Frequency, TOTAL_MAX_MINOR, format_amount, parse_amount_up_to};
use crate::domain::settlement::{
    Discrepancy, Move, Period, REVIEW_DAYS, discrepancy_text, period_label, review_deadline,
};
use crate::service::rows::SettlementRow;
use crate::service::settlements::Reset;
use chrono::NaiveDate;

/// A move that needs a text before it is confirmed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Act {
    Review,
    Approve,
    Dispute,
    Pay,
    Tally,
}

impl Act {
    pub fn of(a: Action) -> Option<Act> {
        Some(match a {
            Action::SendToReview => Act::Review,
            Action::Approve => Act::Approve,
            Action::Dispute => Act::Dispute,
            Action::MarkPaid => Act::Pay,
            Action::Tally => Act::Tally,
            _ => return None,
        })
    }

    pub fn moves(self) -> Move {
        match self {
            Act::Review => Move::Review,
            Act::Approve => Move::Approve,
            Act::Dispute => Move::Dispute,
            Act::Pay => Move::Pay,
            Act::Tally => Move::Tally,
        }
    }
}

/// `2026-10` (every agreement due at its close) or `#7 2026-10` (agreement 7's statement).
pub fn parse_compute(text: &str) -> Result<(Option<i64>, Period), String> {
    let words: Vec<&str> = text.split_whitespace().collect();
    let (agreement, period) = match words.as_slice() {
        [period] => (None, *period),
        [a, period] => {
            let id = a.strip_prefix('#').unwrap_or(a);
            let id = id
                .parse::<i64>()
                .map_err(|_| format!("'{a}' is not an agreement: write #7 2026-10"))?;
            (Some(id), *period)
        }
        _ => return Err("a period (2026-10), or an agreement and a period (#7 2026-10)".into()),
    };
    Ok((agreement, Period::parse(period)?))
}

/// The partner's tally: `120 45.10` (its redemption count, then its amount).
pub fn parse_tally(text: &str) -> Result<(i64, String), String> {
    let words: Vec<&str> = text.split_whitespace().collect();
    let [count, amount] = words.as_slice() else {
        return Err("the partner's count, then its amount: 120 45.10".into());
    };
    let count = count
        .parse::<i64>()
        .ok()
        .filter(|c| *c >= 0)
        .ok_or_else(|| format!("'{count}' is not a count of redemptions (0 or more)"))?;
    Ok((count, (*amount).to_owned()))
}

/// A payment: its reference, then the day it was paid when not today (`TR-42 2026-11-28`).
pub fn parse_payment(text: &str) -> Result<(String, Option<NaiveDate>), String> {
    let text = text.trim();
    let (reference, paid_on) = match text.rsplit_once(char::is_whitespace) {
        Some((head, last)) => match NaiveDate::parse_from_str(last, "%Y-%m-%d") {
            Ok(d) => (head.trim(), Some(d)),
            Err(_) => (text, None),
        },
        None => (text, None),
    };
    if reference.is_empty() {
        return Err("the payment's reference is required (the bank transfer's id)".into());
    }
    Ok((reference.to_owned(), paid_on))
}

/// "123.45 EUR due from Bluebird Travel" (positive net) or "… due to …" (the marketplace
/// pays).
fn due(s: &SettlementRow) -> String {
    let st = &s.settlement;
    let amount = format_amount(st.net_minor.abs(), &st.currency);
    if st.net_minor >= 0 {
        format!("{amount} due from {}", s.partner_name)
    } else {
        format!("{amount} due to {}", s.partner_name)
    }
}

/// "settlement 12 (Bluebird Travel, 2026-09)".
fn named(s: &SettlementRow) -> String {
    format!(
        "settlement {} ({}, {})",
        s.settlement.id,
        s.partner_name,
        period_label(&s.frequency, s.settlement.period_start)
    )
}

fn quoted(label: &str, text: &Option<String>) -> String {
    match text {
        Some(t) => format!("{label}: “{t}”"),
        None => format!("No {}.", label.to_lowercase()),
    }
}

/// What computing a draft or disputed statement again does.
pub fn recompute_body(r: &SettlementRow) -> Vec<String> {
    let st = &r.settlement;
    vec![
        format!("Recompute {}.", named(r)),
        format!(
            "Its {} and totals are replaced by a new computation from the redemptions as they are now; it is a draft again.",
            match st.exception_count {
                0 => format!("{} lines", st.line_count),
                1 => format!("{} lines (and 1 exception)", st.line_count),
                n => format!("{} lines (and {n} exceptions)", st.line_count),
            }
        ),
    ]
}

/// The confirmation of a move: title, what it will do, the confirming answer.
pub fn confirm_text(s: &SettlementRow, step: &Step) -> (String, Vec<String>, &'static str) {
    let st = &s.settlement;
    let money = |m: i64| format_amount(m, &st.currency);
    let id = st.id;
    match step {
        Step::Review { note } => {
            let until = review_deadline(now()).format("%Y-%m-%d");
            let mut body = vec![
                format!("Send {} to the partner for review.", named(s)),
                format!(
                    "It opens a {REVIEW_DAYS}-day review window, until {until}; it is computed again only if disputed."
                ),
                format!("Commission {}, net {}.", money(st.commission_minor), due(s)),
                quoted("Note", note),
            ];
            if st.exception_count > 0 {
                body.push(format!(
                    "It has {} exception(s), not in the totals.",
                    st.exception_count
                ));
            }
            (format!("Send settlement {id} to review?"), body, "Send")
        }
        Step::Approve { note } => {
            let mut body = vec![
                format!(
                    "Approve settlement {id}: writes {} to the payout ledger.",
                    due(s)
                ),
                quoted("Note", note),
            ];
            let tally = st.tally_count.zip(st.tally_amount_minor);
            if let Some(d) = tally
                .map(|t| Discrepancy::of(t, st.redemption_count, st.commission_minor))
                .filter(|d| !d.is_zero())
            {
                body.push(format!(
                    "The partner's tally differs ({}).",
                    d.text(&st.currency)
                ));
            }
            (format!("Approve settlement {id}?"), body, "Approve")
        }
        Step::Dispute { reason } => {
            let mut body = vec![format!("Dispute {}: “{reason}”.", named(s))];
            if st.status == crate::domain::settlement::SettlementStatus::Approved {
                body.push(format!(
                    "Its approval of {} is reversed in the payout ledger (a new, opposite entry).",
                    money(st.net_minor)
                ));
            }
            body.push("Computing it again brings it back to draft.".into());
            (format!("Dispute settlement {id}?"), body, "Dispute")
        }
        Step::Pay { reference, paid_on } => {
            let today = now().date_naive();
            let day = paid_on.unwrap_or(today);
            let body = vec![
                format!(
                    "Mark settlement {id} paid on {day}{}, reference “{reference}”:",
                    if day == today { " (today)" } else { "" }
                ),
                format!(
                    "writes a payment of {} to the payout ledger, settling the {}.",
                    money(-st.net_minor),
                    due(s)
                ),
            ];
            (format!("Mark settlement {id} paid?"), body, "Mark paid")
        }
        Step::Tally { count, amount } => {
            let theirs = parse_amount_up_to(amount, &st.currency, TOTAL_MAX_MINOR).unwrap_or(0);
            let difference = discrepancy_text(
                Some((i32::try_from(*count).unwrap_or(i32::MAX), theirs)),
                st.redemption_count,
                st.commission_minor,
                &st.currency,
            );
            let body = vec![
                format!("Enter {}'s own tally on {}:", s.partner_name, named(s)),
                format!(
                    "theirs {count} redemptions, {}; ours {} redemptions, {} commission.",
                    money(theirs),
                    st.redemption_count,
                    money(st.commission_minor)
                ),
                if difference == "matches" {
                    "It matches ours.".into()
                } else {
                    format!("Difference (theirs − ours): {difference}.")
                },
            ];
            (
                format!("Enter the tally of settlement {id}?"),
                body,
                "Enter",
            )
        }
        Step::Compute { .. } => (
            format!("Recompute settlement {id}?"),
            recompute_body(s),
            "Compute",
        ),
    }
}

impl SettlementsPane {
    /// `c`: the period to compute, pre-filled with the selected statement when it can be
    /// computed again (draft or disputed), else with last month.
    pub(super) fn ask_compute(&mut self, sh: &mut Shell) -> Vec<AppEffect> {
        if !sh.require(Permission::ManageSettlements) {
            return Vec::new();
        }
        let input = match self.current() {
            Some(r) if Move::Recompute.from().contains(&r.settlement.status) => format!(
                "#{} {}",
                r.settlement.agreement_id,
                period_label(&r.frequency, r.settlement.period_start)
            ),
            _ => Period::of(Frequency::Monthly, now().date_naive())
                .previous()
                .label(),
        };
        sh.prompt(
            "Compute settlements",
            "2026-10: every agreement due at its close · #7 2026-10: agreement 7 only (a draft or disputed one is computed again)",
            input,
            Question::ComputeWhat,
        );
        Vec::new()
    }

    /// A move on the open or selected settlement: refused here when its status does not allow
    /// it, else the prompt for the text it needs.
    pub(super) fn ask(&mut self, sh: &mut Shell, a: Action) -> Vec<AppEffect> {
        if !sh.require(Permission::ManageSettlements) {
            return Vec::new();
        }
        let Some(act) = Act::of(a) else {
            return Vec::new();
        };
        let Some(r) = self.current().cloned() else {
            if self.detail.open {
                sh.toast("the settlement is still loading");
            }
            return Vec::new();
        };
        let s = &r.settlement;
        if let Err(why) = act.moves().check(s.id, s.status) {
            sh.toast_error(why);
            return Vec::new();
        }
        let (title, hint, input) = match act {
            Act::Review => (
                format!("Send settlement {} to review", s.id),
                if s.exception_count > 0 {
                    format!(
                        "a note, required: {} redemption(s) could not be priced; say how they are handled",
                        s.exception_count
                    )
                } else {
                    "a note for the partner (optional)".to_owned()
                },
                String::new(),
            ),
            Act::Approve => (
                format!("Approve settlement {}", s.id),
                "a note (optional; required when the partner's tally differs from ours)".into(),
                String::new(),
            ),
            Act::Dispute => (
                format!("Dispute settlement {}", s.id),
                "the reason (required)".into(),
                String::new(),
            ),
            Act::Pay => (
                format!("Mark settlement {} paid", s.id),
                "the payment's reference, then the day it was paid if not today: TR-2026-0042 2026-11-28".into(),
                String::new(),
            ),
            Act::Tally => (
                format!("{}'s tally of settlement {}", r.partner_name, s.id),
                format!(
                    "the partner's redemption count, then its amount in {}: 120 45.10",
                    s.currency
                ),
                s.tally_count
                    .zip(s.tally_amount_minor)
                    .map(|(c, a)| {
                        format!(
                            "{c} {}",
                            crate::domain::money::decimal_string(a, &s.currency)
                        )
                    })
                    .unwrap_or_default(),
            ),
        };
        sh.prompt(
            title,
            hint,
            input,
            Question::Text {
                act,
                s: Box::new(r),
            },
        );
        Vec::new()
    }

    /// The confirmation of a computation, saying what it will do.
    /// `resets`: the disputed statements a computation of every agreement due would reset.
    pub(super) fn confirm_compute(
        &self,
        sh: &mut Shell,
        agreement: Option<i64>,
        p: Period,
        resets: &[Reset],
    ) {
        let label = p.label();
        let body = match agreement {
            Some(a) => match self.current().filter(|r| {
                r.settlement.agreement_id == a && r.settlement.period_start == p.start
            }) {
                Some(r) => recompute_body(r),
                None => vec![
                    format!("Compute agreement {a}'s statement for {label}:"),
                    "a new draft, or its draft or disputed one computed again; one past draft is left alone.".into(),
                ],
            },
            None => vec![
                format!(
                    "Compute every agreement due at the close of {label} (with the quarter and year that close with it):"
                ),
                "new drafts; drafts and disputed ones computed again; those past draft are left alone and named."
                    .into(),
            ],
        };
        let mut body = body;
        if !resets.is_empty() {
            body.push(format!(
                "It resets {} disputed statement{} to draft and computes {} again:",
                resets.len(),
                if resets.len() == 1 { "" } else { "s" },
                if resets.len() == 1 { "it" } else { "them" }
            ));
            body.extend(resets.iter().map(|r| format!("  · {}", r.text())));
        }
        sh.confirm(
            format!("Compute {label}?"),
            body,
            ["Cancel", "Compute"],
            Question::Go {
                id: None,
                step: Step::Compute {
                    agreement,
                    period: label,
                },
            },
        );
    }

    /// The step a prompt's text makes, or why the text does not do.
    pub(super) fn step_of(act: Act, text: &str, s: &SettlementRow) -> Result<Step, String> {
        let text = text.trim();
        let optional = (!text.is_empty()).then(|| text.to_owned());
        let st = &s.settlement;
        Ok(match act {
            Act::Review if optional.is_none() && st.exception_count > 0 => {
                return Err(format!(
                    "a note is required: it has {} exception{} (say why it may go to review)",
                    st.exception_count,
                    if st.exception_count == 1 { "" } else { "s" }
                ));
            }
            Act::Review => Step::Review { note: optional },
            Act::Approve
                if optional.is_none()
                    && st.tally_count.zip(st.tally_amount_minor).is_some_and(|t| {
                        !Discrepancy::of(t, st.redemption_count, st.commission_minor).is_zero()
                    }) =>
            {
                return Err(
                    "a note is required: the partner's tally differs from ours (say why it may be approved)"
                        .into(),
                );
            }
            Act::Approve => Step::Approve { note: optional },
            Act::Dispute => Step::Dispute {
                reason: optional.ok_or("a reason is required")?,
            },
            Act::Pay => {
                let (reference, paid_on) = parse_payment(text)?;
                let today = now().date_naive();
                if let Some(day) = paid_on.filter(|d| *d > today) {
                    return Err(format!(
                        "the payment date {day} is in the future: at most today, {today}"
                    ));
                }
                Step::Pay { reference, paid_on }
            }
            Act::Tally => {
                let (count, amount) = parse_tally(text)?;
                parse_amount_up_to(&amount, &s.settlement.currency, TOTAL_MAX_MINOR)
                    .map_err(|e| format!("the amount {e}"))?;
                Step::Tally { count, amount }
            }
        })
    }

    pub(super) fn answer(&mut self, sh: &mut Shell, q: Question, a: Answer) -> Vec<AppEffect> {
        match (q, a) {
            (Question::ComputeWhat, Answer::Text(text)) => match parse_compute(&text) {
                // Every agreement due: the disputed statements it would reset are read first,
                // so that the question names them.
                Ok((None, period)) => {
                    let tag = self.asking.begin(sh);
                    return fx(Effect::DisputedDue { tag, period });
                }
                Ok((agreement, period)) => self.confirm_compute(sh, agreement, period, &[]),
                Err(e) => sh.ask_again(e),
            },
            (Question::Text { act, s }, Answer::Text(text)) => {
                match Self::step_of(act, &text, &s) {
                    Ok(step) => {
                        let (title, body, yes) = confirm_text(&s, &step);
                        sh.confirm(
                            title,
                            body,
                            ["Cancel", yes],
                            Question::Go {
                                id: Some(s.settlement.id),
                                step,
                            },
                        );
                    }
                    Err(e) => sh.ask_again(e),
                }
            }
            (Question::Go { id, step }, Answer::Yes) => {
                let label = match (&step, id) {
                    (Step::Compute { period, .. }, _) => format!("computing {period}"),
                    (_, Some(id)) => format!("settlement {id}"),
                    (_, None) => "settlement".to_owned(),
                };
                let busy = sh.start_busy(label);
                return fx(Effect::Act { busy, id, step });
            }
            _ => {}
        }
        Vec::new()
    }
}
