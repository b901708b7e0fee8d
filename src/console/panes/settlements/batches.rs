//! The Settlements pane's batches view (`B`): payout batches newest first, under the settings
//! they are made with (holding period, minimum payouts, the marketplace's account); a batch's
//! detail with its statements; making one (`n`: its currency and a note, then the dry run's
//! preview — what goes in, what waits and why — to confirm), paying one (`p`: the bank's
//! reference), cancelling one (`X`) and writing it for the bank (`w`: SEPA or CSV), each
//! confirmed like the statement moves. Finance and admin act; curators read.

use super::batches_effects::{Effect, Msg, Op, OpenBatch};
use super::{Question, SettlementsPane, parse_payment};
use crate::console::action::Action;
use crate::console::detail::Detail;
use crate::console::list::{KeysetList, ListRow, PAGE};
use crate::console::msg::{Effect as AppEffect, LoadMode};
use crate::console::pane::{Answer, fx};
use crate::console::shell::{Latest, Shell};
use crate::domain::Permission;
use crate::domain::money::{currency_exponent, format_amount};
use crate::service::batches::{BatchFormat, BatchPlan};
use crate::service::settings::Settings;
use crate::store::batches::Batch;
use std::path::PathBuf;

impl ListRow for Batch {
    type Cursor = i64;
    fn id(&self) -> i64 {
        self.id
    }
    fn cursor(&self) -> i64 {
        self.id
    }
}

/// What the batches view asks.
#[derive(Debug, Clone)]
pub enum BatchQuestion {
    /// `CURRENCY [| NOTE]` of a new batch (a prompt).
    New,
    /// `REFERENCE [DATE]` of batch `id`'s payment (a prompt).
    PayWhat { id: i64, about: String },
    /// `sepa|csv PATH` of batch `id`'s file (a prompt).
    FileWhat { id: i64, currency: String },
    /// A change, confirmed.
    Go(Op),
}

pub struct Batches {
    /// The view is on screen (instead of the statements).
    pub open: bool,
    pub list: KeysetList<Batch>,
    pub detail: Detail<OpenBatch>,
    /// The settings, for the header (finance and admin read them).
    pub settings: Option<Settings>,
    pub settings_req: Latest,
    /// The plan read before asking to create.
    pub planning: Latest,
}

impl Default for Batches {
    fn default() -> Self {
        Self {
            open: false,
            list: KeysetList::forward_only(),
            detail: Detail::default(),
            settings: None,
            settings_req: Latest::default(),
            planning: Latest::default(),
        }
    }
}

fn wrap(e: Effect) -> Vec<AppEffect> {
    fx(super::Effect::Batches(e))
}

/// Reads `CURRENCY [| NOTE]`.
pub fn parse_new(text: &str) -> Result<(String, Option<String>), String> {
    let (cur, note) = match text.split_once('|') {
        Some((c, n)) => (c.trim(), Some(n.trim()).filter(|n| !n.is_empty())),
        None => (text.trim(), None),
    };
    let cur = cur.to_ascii_uppercase();
    if cur.is_empty() {
        return Err("the batch's currency: EUR, or EUR | a note".into());
    }
    currency_exponent(&cur).map_err(|e| format!("currency: {e}"))?;
    Ok((cur, note.map(str::to_owned)))
}

/// Reads `sepa PATH` or `csv PATH`; the file must not exist yet.
pub fn parse_file(text: &str, currency: &str) -> Result<(BatchFormat, PathBuf), String> {
    let (fmt, path) = text
        .trim()
        .split_once(char::is_whitespace)
        .ok_or("sepa PATH or csv PATH")?;
    let format = match fmt {
        "sepa" if currency == "EUR" => BatchFormat::Sepa,
        "sepa" => {
            return Err(format!(
                "a SEPA credit transfer is in euros; this batch is in {currency}: csv PATH"
            ));
        }
        "csv" => BatchFormat::Csv,
        other => return Err(format!("format: sepa or csv, not '{other}'")),
    };
    let path = PathBuf::from(path.trim());
    if let Some(why) = crate::files::refusal(&path, false) {
        return Err(format!("{}: {why}", path.display()));
    }
    Ok((format, path))
}

/// The dry run as the confirmation says it.
pub fn plan_body(plan: &BatchPlan, note: Option<&str>) -> Vec<String> {
    let cur = &plan.currency;
    let mut body = vec![format!(
        "{} statement{} owed in {cur}, {} in all:",
        plan.included.len(),
        if plan.included.len() == 1 { "" } else { "s" },
        format_amount(plan.total_minor, cur)
    )];
    for i in plan.included.iter().take(8) {
        body.push(format!(
            "  #{} {} {} · {} → {}",
            i.settlement_id,
            i.partner_name,
            i.period,
            format_amount(i.amount_minor, cur),
            i.iban_masked
        ));
    }
    if plan.included.len() > 8 {
        body.push(format!("  … and {} more", plan.included.len() - 8));
    }
    for w in &plan.waiting {
        body.push(format!(
            "Waits: {} ({}): {}",
            w.partner_name,
            format_amount(w.owed_minor, cur),
            w.reason
        ));
    }
    if let Some(changed) = plan.changed_text() {
        body.push(format!("Note: {changed}."));
    }
    if let Some(n) = note {
        body.push(format!("Your note: {n}"));
    }
    body
}

impl Batches {
    /// The batch the keys act on: the open one, else the selected row.
    pub fn current(&self) -> Option<&Batch> {
        if self.detail.open {
            self.detail.shown().map(|o| &o.batch)
        } else {
            self.list.selected_row()
        }
    }
}

impl SettlementsPane {
    /// Opens the batches view (`B`, or `batches` in the palette).
    pub fn open_batches(&mut self, sh: &mut Shell) -> Vec<AppEffect> {
        self.batches.open = true;
        self.batches.detail.open = false;
        self.reload_batches(sh)
    }

    fn load_batches(&mut self, sh: &mut Shell, mode: LoadMode) -> Vec<AppEffect> {
        let (tag, req) = self.batches.list.request(sh, mode);
        wrap(Effect::Load {
            tag,
            before: req.after,
            limit: PAGE,
            mode,
        })
    }

    fn load_batch(&mut self, sh: &mut Shell, id: i64) -> Vec<AppEffect> {
        let tag = self.batches.detail.begin(sh);
        wrap(Effect::Open { tag, id })
    }

    /// The list, the open batch, and (for finance and admin) the settings.
    pub(super) fn reload_batches(&mut self, sh: &mut Shell) -> Vec<AppEffect> {
        let mut out = self.load_batches(sh, LoadMode::Replace);
        if let Some(id) = self.batches.detail.shown().map(|o| o.batch.id) {
            out.extend(self.load_batch(sh, id));
        }
        if sh.may(Permission::ViewSettings) {
            let tag = self.batches.settings_req.begin(sh);
            out.extend(wrap(Effect::Settings { tag }));
        }
        out
    }

    pub(super) fn batches_perform(&mut self, sh: &mut Shell, a: Action) -> Vec<AppEffect> {
        let b = &mut self.batches;
        if b.detail.open {
            if b.detail.navigate(a) {
                return Vec::new();
            }
        } else if let Some(mode) = b.list.navigate(a) {
            return self.load_batches(sh, mode);
        }
        match a {
            Action::Back if b.detail.open => {
                b.detail.open = false;
                Vec::new()
            }
            Action::Back | Action::Batches => {
                b.open = false;
                if self.list.rows.is_empty() {
                    self.load(sh, LoadMode::Replace)
                } else {
                    Vec::new()
                }
            }
            Action::Open => match b.list.selected_row().map(|r| r.id) {
                Some(id) => {
                    b.detail.open_new();
                    b.detail.data = None;
                    self.load_batch(sh, id)
                }
                None => Vec::new(),
            },
            Action::Refresh => self.reload_batches(sh),
            Action::Copy => b
                .current()
                .map(|x| AppEffect::copy_id("payout batch", x.id))
                .into_iter()
                .collect(),
            Action::New => {
                if sh.require(Permission::ManageSettlements) {
                    sh.prompt(
                        "New payout batch",
                        "its currency, and a note when an account changed lately: EUR | confirmed by phone",
                        "EUR",
                        Question::Batch(BatchQuestion::New),
                    );
                }
                Vec::new()
            }
            Action::MarkPaid | Action::CancelBatch | Action::WriteBatchFile => {
                self.ask_batch(sh, a)
            }
            _ => Vec::new(),
        }
    }

    fn ask_batch(&mut self, sh: &mut Shell, a: Action) -> Vec<AppEffect> {
        if !sh.require(Permission::ManageSettlements) {
            return Vec::new();
        }
        let Some(b) = self.batches.current().cloned() else {
            sh.toast_error("select a payout batch first");
            return Vec::new();
        };
        let about = format!(
            "batch {} · {} statement{} · {}",
            b.id,
            b.statement_count,
            if b.statement_count == 1 { "" } else { "s" },
            format_amount(b.total_minor, &b.currency)
        );
        if a == Action::WriteBatchFile {
            if b.status == "cancelled" {
                sh.toast_error(format!(
                    "payout batch {} is cancelled: nothing to write",
                    b.id
                ));
                return Vec::new();
            }
            let (fmt, ext) = if b.currency == "EUR" {
                ("sepa", "xml")
            } else {
                ("csv", "csv")
            };
            sh.prompt(
                format!("Write payout batch {} for the bank", b.id),
                "sepa PATH (pain.001.001.03, EUR) or csv PATH; the file must not exist yet",
                format!("{fmt} payout-batch-{}.{ext}", b.id),
                Question::Batch(BatchQuestion::FileWhat {
                    id: b.id,
                    currency: b.currency.clone(),
                }),
            );
            return Vec::new();
        }
        if b.status != "open" {
            sh.toast_error(format!(
                "payout batch {} is {}: only an open batch is paid or cancelled",
                b.id, b.status
            ));
            return Vec::new();
        }
        if a == Action::MarkPaid {
            sh.prompt(
                format!("Pay {about}"),
                "the bank's reference of the transfer, and its day if not today: BANK-77 2026-12-07",
                "",
                Question::Batch(BatchQuestion::PayWhat { id: b.id, about }),
            );
        } else {
            sh.confirm(
                format!("Cancel payout batch {}?", b.id),
                vec![
                    about,
                    "Its statements stay approved and may go into another batch.".into(),
                ],
                ["Keep it", "Cancel the batch"],
                Question::Batch(BatchQuestion::Go(Op::Cancel { id: b.id })),
            );
        }
        Vec::new()
    }

    pub(super) fn check_batch_answer(q: &BatchQuestion, text: &str) -> Option<String> {
        match q {
            BatchQuestion::New => parse_new(text).err(),
            BatchQuestion::PayWhat { .. } => match parse_payment(text) {
                Err(e) => Some(e),
                Ok((_, Some(d))) if d > chrono::Utc::now().date_naive() => {
                    Some("paid-on: must not be in the future".into())
                }
                Ok(_) => None,
            },
            BatchQuestion::FileWhat { currency, .. } => parse_file(text, currency).err(),
            BatchQuestion::Go(_) => None,
        }
    }

    pub(super) fn batch_answered(
        &mut self,
        sh: &mut Shell,
        q: BatchQuestion,
        a: Answer,
    ) -> Vec<AppEffect> {
        let op = match (q, a) {
            (BatchQuestion::New, Answer::Text(t)) => {
                let Ok((currency, note)) = parse_new(&t) else {
                    return Vec::new();
                };
                let tag = self.batches.planning.begin(sh);
                return wrap(Effect::Plan {
                    tag,
                    currency,
                    note,
                });
            }
            (BatchQuestion::PayWhat { id, about }, Answer::Text(t)) => {
                let Ok((reference, paid_on)) = parse_payment(&t) else {
                    return Vec::new();
                };
                sh.confirm(
                    format!("Pay {about}?"),
                    vec![
                        format!(
                            "Every statement in it is marked paid {}, reference {reference},",
                            paid_on
                                .map(|d| format!("on {d}"))
                                .unwrap_or_else(|| "today".into())
                        ),
                        "each with its payment entry in the payout ledger. This happens once."
                            .into(),
                    ],
                    ["Cancel", "Pay the batch"],
                    Question::Batch(BatchQuestion::Go(Op::Pay {
                        id,
                        reference,
                        paid_on,
                    })),
                );
                return Vec::new();
            }
            (BatchQuestion::FileWhat { id, currency }, Answer::Text(t)) => {
                let Ok((format, path)) = parse_file(&t, &currency) else {
                    return Vec::new();
                };
                Op::Write { id, format, path }
            }
            (BatchQuestion::Go(op), Answer::Yes) => op,
            _ => return Vec::new(),
        };
        let label = match &op {
            Op::Create { currency, .. } => format!("making a {currency} payout batch"),
            Op::Pay { id, .. } => format!("paying batch {id}"),
            Op::Cancel { id } => format!("cancelling batch {id}"),
            Op::Write { id, .. } => format!("writing batch {id}"),
        };
        let busy = sh.start_busy(label);
        wrap(Effect::Act { busy, op })
    }

    pub(super) fn batches_msg(&mut self, sh: &mut Shell, msg: Msg) -> Vec<AppEffect> {
        let b = &mut self.batches;
        match msg {
            Msg::Page { tag, mode, result } => {
                b.list.receive(sh, tag, mode, result);
                Vec::new()
            }
            Msg::Opened { tag, result } => {
                if b.detail.accept(tag) {
                    match result {
                        Ok(o) => b.detail.data = Some(*o),
                        Err(e) => {
                            b.detail.open = false;
                            sh.toast_error(e.to_string());
                        }
                    }
                }
                Vec::new()
            }
            Msg::Settings { tag, result } => {
                if b.settings_req.accept(tag) {
                    b.settings = result.ok().map(|s| *s);
                }
                Vec::new()
            }
            Msg::Plan { tag, note, result } => {
                if !b.planning.accept(tag) {
                    return Vec::new();
                }
                match result {
                    Ok(plan) if plan.included.is_empty() => {
                        let mut lines = plan_body(&plan, None);
                        lines[0] = format!("No statement in {} is ready to pay.", plan.currency);
                        sh.inform(format!("No {} payout batch", plan.currency), lines);
                    }
                    Ok(plan) if plan.changed_text().is_some() && note.is_none() => {
                        let mut lines = plan_body(&plan, None);
                        lines.push(format!(
                            "A note is required: n again, then {} | who confirmed the account.",
                            plan.currency
                        ));
                        sh.inform("The batch needs a note", lines);
                    }
                    Ok(plan) => sh.confirm(
                        format!("Make a {} payout batch?", plan.currency),
                        plan_body(&plan, note.as_deref()),
                        ["Cancel", "Make the batch"],
                        Question::Batch(BatchQuestion::Go(Op::Create {
                            currency: plan.currency.clone(),
                            note,
                        })),
                    ),
                    Err(e) => sh.toast_error(e.to_string()),
                }
                Vec::new()
            }
            Msg::Done { busy, result } => {
                sh.finish(busy, result);
                let mut out = self.reload_batches(sh);
                out.extend(self.load(sh, LoadMode::Replace));
                out
            }
        }
    }
}
