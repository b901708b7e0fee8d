//! Bulk actions (issue 24): one action over many records, each row through the same service
//! call as one at a time — its permission check, its version check, its audit row and its
//! outbox event — in a transaction of its own, with a [`BulkReport`] at the end.
//!
//! The permission is checked once first: an operator who may not do it gets one clear error
//! and nothing is written. A row the rules refuse (changed elsewhere, a state it cannot leave,
//! not found, a note it lacks) is reported with a short reason and the run goes on; losing
//! the database stops the run with an error (the rows done before stay done). A dry run goes
//! through the very same per-row logic, each row in a transaction that is rolled back, so it
//! refuses what the real run would and commits nothing (no audit row, no outbox event).

use super::{Desk, check_version};
use crate::domain::bulk::BulkReport;
use crate::domain::negotiation::{Side, ThreadStatus};
use crate::domain::{DealState, FlagKind, Permission, VerificationState};
use crate::error::{DbErrorKind, Error, FlagRefusal, Result};
use crate::store::{self, settlements::SettlementFilter};
use chrono::NaiveDate;
use sqlx::PgConnection;
use std::sync::atomic::{AtomicBool, Ordering};

/// What a bulk run does to each of its rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BulkAction {
    /// Each with the reason kept in the audit log (as `deals pause --reason`).
    DealPause {
        reason: Option<String>,
    },
    DealActivate {
        reason: Option<String>,
    },
    DealExpire {
        reason: Option<String>,
    },
    PartnerVet,
    /// An empty reason is no reason.
    PartnerDisable {
        reason: String,
    },
    RedemptionFlag {
        kind: FlagKind,
        note: String,
    },
    RedemptionUnflag {
        reason: String,
    },
    /// Refund, with the reason (required; a refund is final and reverses its commission).
    RedemptionRefund {
        reason: String,
    },
    SettlementReview {
        note: Option<String>,
    },
    SettlementApprove {
        note: Option<String>,
    },
    /// One payment reference (and day, default today) for every statement.
    SettlementPay {
        reference: String,
        paid_on: Option<NaiveDate>,
    },
    /// Withdraw, speaking for `side`, with a reason (required, as for one thread).
    NegotiationWithdraw {
        side: Side,
        reason: String,
    },
}

impl BulkAction {
    /// The permission every row of the action needs.
    pub fn permission(&self) -> Permission {
        match self {
            Self::DealPause { .. } | Self::DealActivate { .. } | Self::DealExpire { .. } => {
                Permission::ManageDeals
            }
            Self::PartnerVet | Self::PartnerDisable { .. } => Permission::ManagePartners,
            Self::RedemptionFlag { .. } | Self::RedemptionUnflag { .. } => {
                Permission::FlagRedemptions
            }
            Self::RedemptionRefund { .. } => Permission::RefundRedemptions,
            Self::SettlementReview { .. }
            | Self::SettlementApprove { .. }
            | Self::SettlementPay { .. } => Permission::ManageSettlements,
            Self::NegotiationWithdraw { .. } => Permission::ManageNegotiations,
        }
    }

    /// What a row done has become, in the past tense (the summary's verb).
    pub fn verb(&self) -> &'static str {
        match self {
            Self::DealPause { .. } => "paused",
            Self::DealActivate { .. } => "activated",
            Self::DealExpire { .. } => "expired",
            Self::PartnerVet => "vetted",
            Self::PartnerDisable { .. } => "disabled",
            Self::RedemptionFlag { .. } => "flagged",
            Self::RedemptionUnflag { .. } => "unflagged",
            Self::RedemptionRefund { .. } => "refunded",
            Self::SettlementReview { .. } => "sent to review",
            Self::SettlementApprove { .. } => "approved",
            Self::SettlementPay { .. } => "paid",
            Self::NegotiationWithdraw { .. } => "withdrawn",
        }
    }

    /// The kind of record the targets are: `deal`, `partner`, `redemption`, `settlement`,
    /// `negotiation`.
    pub fn entity(&self) -> &'static str {
        match self {
            Self::DealPause { .. } | Self::DealActivate { .. } | Self::DealExpire { .. } => "deal",
            Self::PartnerVet | Self::PartnerDisable { .. } => "partner",
            Self::RedemptionFlag { .. }
            | Self::RedemptionUnflag { .. }
            | Self::RedemptionRefund { .. } => "redemption",
            Self::SettlementReview { .. }
            | Self::SettlementApprove { .. }
            | Self::SettlementPay { .. } => "settlement",
            Self::NegotiationWithdraw { .. } => "negotiation",
        }
    }
}

/// One row of a bulk run: the record, and its version as the operator saw it (`None`: as it
/// is now). Redemptions have no version, so theirs is not checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Target {
    pub id: i64,
    pub version: Option<i32>,
}

impl Target {
    /// A record as it is now (no version check).
    pub fn id(id: i64) -> Self {
        Self { id, version: None }
    }
}

impl Desk {
    /// The permission `action` needs (checked once, before any row).
    pub fn bulk_permission(action: &BulkAction) -> Permission {
        action.permission()
    }

    /// Runs `action` over `targets` in order, each row in its own transaction through the
    /// single-record service call; `progress(done so far, total)` is called after each row;
    /// `cancel`, once set, leaves the rows not yet begun untried. With `dry_run` nothing is
    /// committed: each row runs in a transaction that is rolled back, and the report says
    /// what would be done.
    pub async fn bulk(
        &self,
        action: &BulkAction,
        targets: &[Target],
        progress: &(dyn Fn(usize, usize) + Send + Sync),
        cancel: &AtomicBool,
        dry_run: bool,
    ) -> Result<BulkReport> {
        let permission = action.permission();
        self.actor().require(permission)?;
        let mut report = BulkReport::new(action.verb(), dry_run);
        let total = targets.len();
        for (i, t) in targets.iter().enumerate() {
            if cancel.load(Ordering::SeqCst) {
                report.not_tried = targets[i..].iter().map(|t| t.id).collect();
                break;
            }
            let outcome = self.bulk_row(action, *t, dry_run).await;
            match outcome {
                Ok(()) => report.done.push(t.id),
                Err(e) if stops_the_run(&e) => {
                    return Err(stopped(
                        self.refused_by_database(e, permission),
                        t.id,
                        &report,
                    ));
                }
                Err(e) => report.refused.push((t.id, short_reason(&e, t.id))),
            }
            progress(i + 1, total);
        }
        Ok(report)
    }

    /// The targets of a bulk settlement move: every statement the filter selects (a period,
    /// a status), in id order, at the version it has now.
    pub async fn settlement_targets(&self, filter: &SettlementFilter) -> Result<Vec<Target>> {
        self.actor().require(Permission::ViewSettlements)?;
        let mut conn = self.pool().acquire().await?;
        Ok(store::settlements::ids_matching(&mut conn, filter)
            .await?
            .into_iter()
            .map(|(id, version)| Target {
                id,
                version: Some(version),
            })
            .collect())
    }

    /// One row in its own transaction: committed, or rolled back in a dry run or on refusal.
    async fn bulk_row(&self, action: &BulkAction, t: Target, dry_run: bool) -> Result<()> {
        let mut tx = self.pool().begin().await?;
        let done = self.apply_one(&mut tx, action, t).await;
        if dry_run && done.is_ok() {
            tx.rollback().await?;
            return Ok(());
        }
        super::finish(tx, done).await
    }

    async fn apply_one(&self, tx: &mut PgConnection, action: &BulkAction, t: Target) -> Result<()> {
        let (id, v) = (t.id, t.version);
        match action {
            BulkAction::DealPause { reason } => deal(self, tx, t, DealState::Paused, reason).await,
            BulkAction::DealActivate { reason } => {
                deal(self, tx, t, DealState::Active, reason).await
            }
            BulkAction::DealExpire { reason } => {
                deal(self, tx, t, DealState::Expired, reason).await
            }
            BulkAction::PartnerVet => self
                .move_partner_in(tx, id, v, VerificationState::Verified, "partner.vet", None)
                .await
                .map(drop),
            BulkAction::PartnerDisable { reason } => {
                let reason = Some(reason.as_str()).filter(|r| !r.trim().is_empty());
                self.move_partner_in(
                    tx,
                    id,
                    v,
                    VerificationState::Disabled,
                    "partner.disable",
                    reason,
                )
                .await
                .map(drop)
            }
            BulkAction::RedemptionFlag { kind, note } => {
                self.flag_redemption_in(tx, id, *kind, note).await.map(drop)
            }
            BulkAction::RedemptionUnflag { reason } => {
                self.unflag_redemption_in(tx, id, reason).await.map(drop)
            }
            BulkAction::RedemptionRefund { reason } => {
                self.refund_redemption_in(tx, id, reason).await.map(drop)
            }
            BulkAction::SettlementReview { note } => {
                settlement_version(tx, t).await?;
                self.review_settlement_in(tx, id, note.as_deref())
                    .await
                    .map(drop)
            }
            BulkAction::SettlementApprove { note } => {
                settlement_version(tx, t).await?;
                self.approve_settlement_in(tx, id, note.as_deref())
                    .await
                    .map(drop)
            }
            BulkAction::SettlementPay { reference, paid_on } => {
                settlement_version(tx, t).await?;
                self.pay_settlement_in(tx, id, reference, *paid_on)
                    .await
                    .map(drop)
            }
            BulkAction::NegotiationWithdraw { side, reason } => {
                thread_version(tx, t).await?;
                self.close_in(tx, id, *side, reason, ThreadStatus::Withdrawn)
                    .await
                    .map(drop)
            }
        }
    }
}

async fn deal(
    desk: &Desk,
    tx: &mut PgConnection,
    t: Target,
    to: DealState,
    reason: &Option<String>,
) -> Result<()> {
    desk.change_deal_state_in(tx, t.id, t.version, to, reason.as_deref())
        .await
        .map(drop)
}

/// The single settlement moves take no version: a bulk row given one locks the statement and
/// checks it first (the move then takes the lock it already holds).
async fn settlement_version(tx: &mut PgConnection, t: Target) -> Result<()> {
    let Some(expected) = t.version else {
        return Ok(());
    };
    let s = store::settlements::lock(tx, t.id)
        .await?
        .ok_or_else(|| Error::not_found("settlement", t.id))?;
    check_version(
        "settlement",
        t.id,
        Some(expected),
        s.version,
        &s.updated_by,
        s.updated_at,
    )
}

/// As [`settlement_version`], for a negotiation thread.
async fn thread_version(tx: &mut PgConnection, t: Target) -> Result<()> {
    let Some(expected) = t.version else {
        return Ok(());
    };
    let th = store::negotiations::lock_thread(tx, t.id)
        .await?
        .ok_or_else(|| Error::not_found("negotiation", t.id))?;
    check_version(
        "negotiation",
        t.id,
        Some(expected),
        th.version,
        &th.updated_by,
        th.updated_at,
    )
}

/// An error no other row would escape: the database gone or failing, a file, the session's
/// own settings. The rules' refusals of one row (its state, its version, its fields, a
/// constraint or rule of the schema) are that row's alone.
fn stops_the_run(e: &Error) -> bool {
    match e {
        Error::Database(d) => !matches!(d.kind, DbErrorKind::Constraint | DbErrorKind::Rule),
        Error::Forbidden { .. }
        | Error::NotRegistered { .. }
        | Error::ReadOnly { .. }
        | Error::Io { .. }
        | Error::Config(_)
        | Error::Usage(_)
        | Error::Cancelled { .. } => true,
        _ => false,
    }
}

/// Says where the run stopped and that what was done stays done.
fn stopped(e: Error, at: i64, report: &BulkReport) -> Error {
    let note = if report.dry_run {
        format!(" (the dry run stopped at #{at}; nothing was written)")
    } else {
        let n = report.done.len();
        format!(
            " (the run stopped at #{at}; the {n} row{} done before it stay{} done)",
            if n == 1 { "" } else { "s" },
            if n == 1 { "s" } else { "" }
        )
    };
    match e {
        Error::Database(mut d) => {
            d.message.push_str(&note);
            Error::Database(d)
        }
        other => other,
    }
}

/// The final states, said `already …` when a row is found in one.
const FINAL: &[&str] = &[
    "expired",
    "paid",
    "withdrawn",
    "rejected",
    "accepted",
    "disabled",
];

/// How long a short reason may be, in characters.
const SHORT_MAX: usize = 60;

/// The short reason a bulk summary gives for a refused row: `changed elsewhere`, `already
/// expired`, `is draft`, `not found`, `note: required`.
pub fn short_reason(e: &Error, id: i64) -> String {
    let text = match e {
        Error::Conflict { .. } => "changed elsewhere".to_owned(),
        Error::NotFound { .. } => "not found".to_owned(),
        Error::InvalidTransition { from, to, .. } => state_word(from, from == to),
        Error::PartnerNotVerified { state, .. } => format!("partner is {state}, not verified"),
        Error::Flag(FlagRefusal::AlreadyFlagged { kind, .. }) => {
            format!("already flagged ({kind})")
        }
        Error::Flag(FlagRefusal::NotFlagged { .. }) => "not flagged".to_owned(),
        Error::HasDeals { count, .. } => format!("has {count} live deals"),
        Error::Validation(v) => match v.0.first() {
            Some(f) => format!("{}: {}", f.field, first_clause(&f.rule)),
            None => "invalid".to_owned(),
        },
        Error::Refused(s) => refused_text(s, id),
        Error::Database(d) => refused_text(&d.message, id),
        other => first_clause(&other.to_string()).to_owned(),
    };
    clip(&text)
}

/// `already expired` for a final state or the state asked for, else `is draft`.
fn state_word(state: &str, same: bool) -> String {
    if same || FINAL.contains(&state) {
        format!("already {state}")
    } else {
        format!("is {state}")
    }
}

/// `settlement 12 is approved; approve needs in_review` → `is approved`;
/// `negotiation 3 was already withdrawn by ann at …` → `already withdrawn`.
fn refused_text(s: &str, id: i64) -> String {
    let head = first_clause(s);
    let mut words = head.splitn(3, ' ');
    let rest = match (words.next(), words.next(), words.next()) {
        (Some(_), Some(n), Some(rest)) if n.trim_start_matches('#') == id.to_string() => rest,
        (Some(_), Some(n), rest) if n.trim_start_matches('#') == format!("{id}'s") => {
            return format!("its {}", rest.unwrap_or_default());
        }
        _ => head,
    };
    if rest.starts_with("was refunded ") {
        return "already refunded".to_owned();
    }
    if let Some(after) = rest.strip_prefix("was already ") {
        let state = after.split(' ').next().unwrap_or(after);
        return format!("already {state}");
    }
    if let Some(state) = rest.strip_prefix("is ")
        && FINAL.contains(&state)
    {
        return format!("already {state}");
    }
    rest.to_owned()
}

/// The text before its first `; ` or `: `.
fn first_clause(s: &str) -> &str {
    let cut = [s.find("; "), s.find(": ")]
        .into_iter()
        .flatten()
        .min()
        .unwrap_or(s.len());
    s[..cut].trim()
}

fn clip(s: &str) -> String {
    if s.chars().count() <= SHORT_MAX {
        s.to_owned()
    } else {
        let mut t: String = s.chars().take(SHORT_MAX - 1).collect();
        t.push('…');
        t
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn every_action_says_what_a_dry_run_would_do_in_the_present_tense() {
        use crate::domain::bulk::present;
        let t = String::new;
        let all = [
            BulkAction::DealPause { reason: None },
            BulkAction::DealActivate { reason: None },
            BulkAction::DealExpire { reason: None },
            BulkAction::PartnerVet,
            BulkAction::PartnerDisable { reason: t() },
            BulkAction::RedemptionFlag {
                kind: FlagKind::Fraud,
                note: t(),
            },
            BulkAction::RedemptionUnflag { reason: t() },
            BulkAction::RedemptionRefund { reason: t() },
            BulkAction::SettlementReview { note: None },
            BulkAction::SettlementApprove { note: None },
            BulkAction::SettlementPay {
                reference: t(),
                paid_on: None,
            },
            BulkAction::NegotiationWithdraw {
                side: Side::Marketplace,
                reason: t(),
            },
        ];
        for a in &all {
            assert_ne!(present(a.verb()), a.verb(), "{a:?}");
        }
    }
    use super::*;
    use crate::error::DbError;

    #[test]
    fn a_stale_version_is_changed_elsewhere() {
        let e = Error::Conflict {
            entity: "deal",
            id: "41".into(),
            changed_by: "ann".into(),
            changed_at: chrono::Utc::now(),
            current_version: 3,
        };
        assert_eq!(short_reason(&e, 41), "changed elsewhere");
    }

    #[test]
    fn a_transition_names_the_state_the_row_is_in() {
        let e = |from: &str, to: &str| Error::InvalidTransition {
            entity: "deal",
            id: "57".into(),
            from: from.into(),
            to: to.into(),
            reason: "whatever".into(),
        };
        assert_eq!(short_reason(&e("expired", "paused"), 57), "already expired");
        assert_eq!(short_reason(&e("paused", "paused"), 57), "already paused");
        assert_eq!(short_reason(&e("draft", "expired"), 57), "is draft");
    }

    #[test]
    fn a_settlement_refusal_keeps_only_the_status() {
        let s = Error::Refused("settlement 12 is approved; approve needs in_review".into());
        assert_eq!(short_reason(&s, 12), "is approved");
        let s = Error::Refused("settlement 12 is paid; pay needs approved".into());
        assert_eq!(short_reason(&s, 12), "already paid");
        let s = Error::Refused(
            "settlement 12's period ends 2026-12-01; a statement goes to review once its period is over".into(),
        );
        assert_eq!(short_reason(&s, 12), "its period ends 2026-12-01");
        let n = Error::Refused(
            "negotiation 3 was already withdrawn by ann at 2026-11-02 10:00:00 UTC; nothing was changed".into(),
        );
        assert_eq!(short_reason(&n, 3), "already withdrawn");
    }

    #[test]
    fn a_missing_field_names_the_field_and_the_rule_briefly() {
        let e = Error::field(
            "note",
            "required: 2 redemptions could not be priced (exceptions); say how",
        );
        assert_eq!(short_reason(&e, 1), "note: required");
        assert_eq!(short_reason(&Error::not_found("deal", 9), 9), "not found");
    }

    #[test]
    fn losing_the_database_stops_the_run_but_a_rule_of_the_schema_refuses_one_row() {
        let lost = Error::Database(DbError::new(DbErrorKind::ConnectionLost, "lost"));
        assert!(stops_the_run(&lost));
        let rule = Error::Database(DbError::new(DbErrorKind::Rule, "a rule"));
        assert!(!stops_the_run(&rule));
        assert!(!stops_the_run(&Error::not_found("deal", 1)));
    }

    #[test]
    fn a_run_stopped_by_the_database_says_what_stays_done() {
        let mut r = BulkReport::new("paused", false);
        r.done = vec![1, 2];
        let lost = Error::Database(DbError::new(
            DbErrorKind::ConnectionLost,
            "lost the connection",
        ));
        assert_eq!(
            stopped(lost, 3, &r).to_string(),
            "lost the connection (the run stopped at #3; the 2 rows done before it stay done)"
        );
    }

    #[test]
    fn a_long_reason_is_clipped_to_one_short_phrase() {
        let e = Error::Refused("x".repeat(200));
        assert_eq!(short_reason(&e, 1).chars().count(), SHORT_MAX);
    }
}
