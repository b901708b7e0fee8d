//! The Settlements pane's background work: what it asks of the services and what comes back.

use crate::console::msg::{Gen, LoadMode, Reply, TaskCtx, failure_of};
use crate::console::pane::Task;
use crate::console::shell::BusyId;
use crate::domain::money::format_amount;
use crate::domain::settlement::Period;
use crate::error::Error;
use crate::service::Desk;
use crate::service::rows::{Line, RedemptionRow, Settlement, SettlementFilter, SettlementRow};
use crate::service::settlements::{ComputeReport, Reset, SettlementView};
use chrono::NaiveDate;

/// How many periods the detail's chart shows.
pub const CHART_PERIODS: i64 = 12;

/// An open settlement: its view, and its partner's commission by period (newest first).
#[derive(Debug, Clone)]
pub struct Opened {
    pub view: SettlementView,
    pub history: Vec<(NaiveDate, String, i64)>,
}

/// A confirmed step and what it carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// One agreement's statement for a period, or (`agreement: None`) every agreement due at
    /// the period's close.
    Compute {
        agreement: Option<i64>,
        period: String,
    },
    Review {
        note: Option<String>,
    },
    Approve {
        note: Option<String>,
    },
    Dispute {
        reason: String,
    },
    Pay {
        reference: String,
        paid_on: Option<NaiveDate>,
    },
    Tally {
        count: i64,
        amount: String,
    },
}

#[derive(Debug)]
pub enum Effect {
    /// A page of settlements, newest period first, before the cursor.
    Load {
        tag: Gen,
        filter: SettlementFilter,
        before: Option<(NaiveDate, i64)>,
        limit: i64,
        mode: LoadMode,
    },
    /// A settlement's detail and its partner's commission history.
    LoadDetail { tag: Gen, id: i64 },
    /// A page of a settlement's lines after line `after`.
    Lines {
        tag: Gen,
        id: i64,
        after: Option<i32>,
        limit: i64,
        mode: LoadMode,
    },
    /// The redemption behind a line of settlement `settlement`.
    Redemption { settlement: i64, line: Box<Line> },
    /// The disputed statements computing `period` would reset, read before asking.
    DisputedDue { tag: Gen, period: Period },
    /// A confirmed step on settlement `id` (none for a computation).
    Act {
        busy: BusyId,
        id: Option<i64>,
        step: Step,
    },
    /// The batches view's work.
    Batches(super::batches_effects::Effect),
}

#[derive(Debug)]
pub enum Msg {
    Page {
        tag: Gen,
        mode: LoadMode,
        result: Result<Vec<SettlementRow>, Error>,
    },
    Detail {
        tag: Gen,
        result: Result<Box<Opened>, Error>,
    },
    Lines {
        tag: Gen,
        id: i64,
        mode: LoadMode,
        result: Result<Vec<Line>, Error>,
    },
    Redemption {
        settlement: i64,
        line: Box<Line>,
        result: Result<RedemptionRow, Error>,
    },
    DisputedDue {
        tag: Gen,
        period: Period,
        result: Result<Vec<Reset>, Error>,
    },
    /// A step is done: what to say.
    Done {
        busy: BusyId,
        result: Result<String, Error>,
    },
    Batches(super::batches_effects::Msg),
}

impl Reply for Msg {
    fn failure(&self) -> Option<&Error> {
        match self {
            Msg::Page { result, .. } => failure_of(result),
            Msg::Detail { result, .. } => failure_of(result),
            Msg::Lines { result, .. } => failure_of(result),
            Msg::Redemption { result, .. } => failure_of(result),
            Msg::Done { result, .. } => failure_of(result),
            Msg::DisputedDue { result, .. } => failure_of(result),
            Msg::Batches(m) => m.failure(),
        }
    }
}

/// "settlement 12 computed: 250 lines, 2 exceptions, commission 123.45 EUR, net 123.45 EUR".
fn computed(s: &Settlement) -> String {
    format!(
        "settlement {} computed ({} to {}): {} line{}, {} exception{}, commission {}, net {}",
        s.id,
        s.period_start,
        s.period_end,
        s.line_count,
        if s.line_count == 1 { "" } else { "s" },
        s.exception_count,
        if s.exception_count == 1 { "" } else { "s" },
        format_amount(s.commission_minor, &s.currency),
        format_amount(s.net_minor, &s.currency)
    )
}

fn computed_due(period: &str, r: &ComputeReport) -> String {
    let n = r.computed.len();
    let mut text = format!(
        "computed {n} settlement{} due at the close of {period}",
        if n == 1 { "" } else { "s" }
    );
    if !r.skipped.is_empty() {
        let ids: Vec<String> = r
            .skipped
            .iter()
            .map(|s| format!("{} ({})", s.settlement_id, s.status))
            .collect();
        text.push_str(&format!("; left alone, past draft: {}", ids.join(", ")));
    }
    if !r.reset.is_empty() {
        let ids: Vec<String> = r
            .reset
            .iter()
            .map(|s| s.settlement_id.to_string())
            .collect();
        text.push_str(&format!(
            "; reset from disputed to draft: {}",
            ids.join(", ")
        ));
    }
    text
}

/// What a move did, as the toast says it.
fn moved(s: &Settlement, step: &Step) -> String {
    let money = |m: i64| format_amount(m, &s.currency);
    match step {
        Step::Review { .. } => format!(
            "settlement {} sent to review; the partner reviews until {}",
            s.id,
            s.review_deadline
                .map(|d| d.format("%Y-%m-%d").to_string())
                .unwrap_or_default()
        ),
        Step::Approve { .. } => format!(
            "settlement {} approved: {} written to the payout ledger",
            s.id,
            money(s.net_minor)
        ),
        Step::Dispute { .. } => format!("settlement {} disputed", s.id),
        Step::Pay { reference, .. } => format!(
            "settlement {} paid on {}, reference {reference}",
            s.id,
            s.paid_on.map(|d| d.to_string()).unwrap_or_default()
        ),
        Step::Tally { .. } => format!(
            "settlement {}: the partner's tally {} redemptions, {} entered",
            s.id,
            s.tally_count.unwrap_or(0),
            money(s.tally_amount_minor.unwrap_or(0))
        ),
        Step::Compute { .. } => computed(s),
    }
}

async fn act(desk: &Desk, id: Option<i64>, step: Step) -> Result<String, Error> {
    let id = || id.ok_or_else(|| Error::not_found("settlement", "none"));
    let s = match &step {
        Step::Compute {
            agreement: None,
            period,
        } => {
            let r = desk.compute_due(period).await?;
            return Ok(computed_due(period, &r));
        }
        Step::Compute {
            agreement: Some(a),
            period,
        } => desk.compute_settlement(*a, period).await?,
        Step::Review { note } => desk.review_settlement(id()?, note.as_deref()).await?,
        Step::Approve { note } => desk.approve_settlement(id()?, note.as_deref()).await?,
        Step::Dispute { reason } => desk.dispute_settlement(id()?, reason).await?,
        Step::Pay { reference, paid_on } => desk.pay_settlement(id()?, reference, *paid_on).await?,
        Step::Tally { count, amount } => desk.enter_tally(id()?, *count, amount).await?,
    };
    Ok(moved(&s, &step))
}

impl crate::console::msg::PaneReply for Msg {}

impl Task for Effect {
    type Msg = Msg;

    async fn run(self, desk: Desk, _ctx: TaskCtx) -> Msg {
        match self {
            Effect::Load {
                tag,
                filter,
                before,
                limit,
                mode,
            } => Msg::Page {
                tag,
                mode,
                result: desk.settlements_page(&filter, before, limit).await,
            },
            Effect::LoadDetail { tag, id } => {
                let result = async {
                    let view = desk.settlement(id).await?;
                    let history = desk
                        .settlement_history(view.row.settlement.partner_id, CHART_PERIODS)
                        .await?;
                    Ok(Box::new(Opened { view, history }))
                };
                Msg::Detail {
                    tag,
                    result: result.await,
                }
            }
            Effect::Lines {
                tag,
                id,
                after,
                limit,
                mode,
            } => Msg::Lines {
                tag,
                id,
                mode,
                result: desk.settlement_lines(id, after, false, limit).await,
            },
            Effect::Redemption { settlement, line } => {
                let result = match line.redemption_id {
                    Some(r) => desk.redemption(r).await,
                    None => Err(Error::not_found("redemption", "none")),
                };
                Msg::Redemption {
                    settlement,
                    line,
                    result,
                }
            }
            Effect::Act { busy, id, step } => Msg::Done {
                busy,
                result: act(&desk, id, step).await,
            },
            Effect::Batches(e) => Msg::Batches(e.run(desk).await),
            Effect::DisputedDue { tag, period } => Msg::DisputedDue {
                tag,
                period,
                result: desk.disputed_due(&period.label()).await,
            },
        }
    }
}
