//! Negotiations (SPEC §1.6, issue 12): open a thread, post messages and offer revisions for
//! either side, accept (into an agreement version, a contract and a draft deal), reject,
//! withdraw, and the expiry job. Each use case is one transaction that locks the thread first.

use super::deals::{existing_partner, insert_deals};
use super::record::{self, Change};
use super::{Actor, Desk};
use crate::domain::contract::snapshot_hash;
use crate::domain::negotiation::{
    OfferDraft, Side, TermChange, ThreadStatus, ThreadTrigger, check_body, check_note,
    check_reason, check_thread, diff,
};
use crate::domain::{Permission, ValidationErrors};
use crate::error::{Error, Result};
use crate::store::agreements::Agreement;
use crate::store::contracts::{Contract, NewContract};
use crate::store::deals::Deal;
use crate::store::negotiations::{Message, Offer, Thread, ThreadFilter, ThreadRow};
use crate::store::{self};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;
use sqlx::PgConnection;

/// How many overdue threads one expiry transaction handles.
const EXPIRY_BATCH: i64 = 500;

/// What opening a thread needs. The first offer and message are optional.
#[derive(Debug, Clone)]
pub struct NewThread {
    pub partner_id: i64,
    pub deal_id: Option<i64>,
    pub subject: String,
    pub deadline: Option<DateTime<Utc>>,
    /// Who opens it: normally the marketplace; `partner` when recorded on its behalf.
    pub side: Side,
    pub message: Option<String>,
    pub offer: Option<OfferDraft>,
}

/// A thread with everything the detail view shows.
#[derive(Debug, Clone, Serialize)]
pub struct NegotiationView {
    pub thread: Thread,
    pub partner_name: String,
    pub messages: Vec<Message>,
    /// Every revision with its difference from the previous one (empty for the first).
    pub offers: Vec<OfferWithDiff>,
    pub contract_id: Option<i64>,
    /// Whose turn it is: the side that did not make the latest revision; on a thread without
    /// an offer yet, the side that opened it (it makes the opening offer).
    pub turn: Option<Side>,
}

#[derive(Debug, Clone, Serialize)]
pub struct OfferWithDiff {
    #[serde(flatten)]
    pub offer: Offer,
    pub changes: Vec<TermChange>,
}

/// What an acceptance created.
#[derive(Debug, Clone, Serialize)]
pub struct Acceptance {
    pub thread: Thread,
    pub revision: i32,
    pub side: Side,
    pub agreement: Agreement,
    pub contract: Contract,
    pub deal: Deal,
}

impl Desk {
    pub async fn open_negotiation(&self, new: &NewThread) -> Result<Thread> {
        self.actor().require(Permission::ManageNegotiations)?;
        let (subject, deadline) = check_thread(&new.subject, new.deadline, Utc::now())?;
        let body = new.message.as_deref().map(check_body).transpose()?;
        let terms = new
            .offer
            .as_ref()
            .map(|o| o.validate(new.partner_id))
            .transpose()?;
        let mut tx = self.pool().begin().await?;
        existing_partner(&mut tx, new.partner_id).await?;
        if let Some(deal_id) = new.deal_id {
            let deal = store::deals::get(&mut tx, deal_id).await?;
            if deal.as_ref().map(|d| d.partner_id) != Some(new.partner_id) {
                let mut e = ValidationErrors::new();
                e.push(
                    "deal",
                    format!(
                        "must be a deal of partner #{} (deal #{deal_id} is not)",
                        new.partner_id
                    ),
                );
                return Err(e.into());
            }
        }
        let login = &self.actor().login;
        let thread = store::negotiations::insert_thread(
            &mut tx,
            new.partner_id,
            new.deal_id,
            &subject,
            deadline,
            new.side,
            login,
        )
        .await?;
        let mut records = vec![
            Change::new(self.actor(), "negotiation.open", "negotiation", thread.id)
                .after(&thread)
                .event("negotiation.opened", json!({ "negotiation": thread })),
        ];
        if let Some(body) = body {
            let m = store::negotiations::insert_message(&mut tx, thread.id, new.side, login, &body)
                .await?;
            records.push(message_record(self.actor(), &m));
        }
        if let Some(terms) = terms {
            let o = store::negotiations::insert_offer(
                &mut tx, thread.id, new.side, login, &terms, None,
            )
            .await?;
            records.push(offer_record(self.actor(), &o, &[]));
        }
        record::write_all(&mut tx, records).await?;
        tx.commit().await?;
        Ok(thread)
    }

    /// A message from `side` (the partner's recorded on its behalf).
    pub async fn post_negotiation_message(
        &self,
        thread_id: i64,
        side: Side,
        body: &str,
    ) -> Result<Message> {
        self.actor().require(Permission::ManageNegotiations)?;
        let body = check_body(body)?;
        let mut tx = self.pool().begin().await?;
        let thread = open_thread(&mut tx, thread_id).await?;
        let m = store::negotiations::insert_message(
            &mut tx,
            thread_id,
            side,
            &self.actor().login,
            &body,
        )
        .await?;
        advance(&mut tx, self.actor(), &thread, side).await?;
        message_record(self.actor(), &m).commit(tx).await?;
        Ok(m)
    }

    /// A new offer revision from `side`. With `expected_latest`, refuses when somebody made a
    /// revision since (the counter-offer form passes the revision it started from).
    pub async fn make_offer(
        &self,
        thread_id: i64,
        side: Side,
        draft: &OfferDraft,
        note: Option<&str>,
        expected_latest: Option<i32>,
    ) -> Result<Offer> {
        self.actor().require(Permission::ManageNegotiations)?;
        let note = check_note(note)?;
        let mut tx = self.pool().begin().await?;
        let thread = open_thread(&mut tx, thread_id).await?;
        let terms = draft.validate(thread.partner_id)?;
        let latest = store::negotiations::latest_offer(&mut tx, thread_id).await?;
        if let Some(want) = expected_latest
            && latest.as_ref().map(|o| o.revision).unwrap_or(0) != want
        {
            return Err(superseded(thread_id, want, latest.as_ref()));
        }
        let offer = store::negotiations::insert_offer(
            &mut tx,
            thread_id,
            side,
            &self.actor().login,
            &terms,
            note.as_deref(),
        )
        .await?;
        advance(&mut tx, self.actor(), &thread, side).await?;
        let changes = latest
            .map(|l| diff(&l.terms, &offer.terms))
            .unwrap_or_default();
        offer_record(self.actor(), &offer, &changes)
            .commit(tx)
            .await?;
        Ok(offer)
    }

    /// Accepts the thread's latest revision for the side that did not make it (or `side`,
    /// which must be that side). With `revision`, refuses when it is no longer the latest.
    /// Creates the agreement version, the contract and the draft deal, or nothing.
    pub async fn accept_offer(
        &self,
        thread_id: i64,
        revision: Option<i32>,
        side: Option<Side>,
    ) -> Result<Acceptance> {
        self.actor().require(Permission::ManageNegotiations)?;
        let now = Utc::now();
        let mut tx = self.pool().begin().await?;
        let thread = open_thread(&mut tx, thread_id).await?;
        let offer = store::negotiations::latest_offer(&mut tx, thread_id)
            .await?
            .ok_or_else(|| {
                Error::Refused(format!(
                    "negotiation {thread_id} has no offer to accept yet; make an offer first"
                ))
            })?;
        if let Some(want) = revision
            && want != offer.revision
        {
            return Err(superseded(thread_id, want, Some(&offer)));
        }
        let side = side.unwrap_or(offer.side.other());
        if side == offer.side {
            return Err(Error::Refused(format!(
                "revision {} of negotiation {thread_id} was made by the {} side, which cannot accept its own offer; the {} side accepts it",
                offer.revision,
                offer.side,
                offer.side.other()
            )));
        }
        if thread.deadline <= now {
            return Err(Error::Refused(format!(
                "negotiation {thread_id} passed its deadline at {}; it can no longer be accepted",
                thread.deadline.format("%Y-%m-%d %H:%M UTC")
            )));
        }
        // The partner's row first (its agreement versions are numbered under this lock).
        let partner = store::partners::get_for_update(&mut tx, thread.partner_id)
            .await?
            .ok_or_else(|| Error::not_found("partner", thread.partner_id))?;
        let reason = format!("accepted revision {} for the {side} side", offer.revision);
        let after = store::negotiations::set_status(
            &mut tx,
            thread_id,
            ThreadStatus::Accepted,
            None,
            &self.actor().login,
        )
        .await?
        .ok_or_else(|| Error::Refused(format!("negotiation {thread_id} is no longer open")))?;

        let terms = &offer.terms;
        let effective = terms.frequency.effective_from(now, terms.deal.valid_from);
        let agreement = store::agreements::insert(
            &mut tx,
            thread.partner_id,
            effective,
            &terms.terms(),
            Some(offer.id),
            &self.actor().login,
        )
        .await?;
        // The draft deal's window starts no earlier than the agreement it is settled under.
        let valid = terms
            .deal
            .draft_under(thread.partner_id, agreement.effective_from)
            .validate()?;
        let deal_reason = format!(
            "draft from negotiation {thread_id} revision {}",
            offer.revision
        );
        let deal = insert_deals(&mut tx, self.actor(), &[&valid], Some(&deal_reason))
            .await?
            .pop()
            .ok_or_else(|| Error::not_found("deal", "new"))?;
        let snapshot = json!({
            "negotiation": { "id": thread_id, "subject": thread.subject },
            "parties": {
                "marketplace": "marketplace",
                "partner": { "id": partner.id, "name": partner.display_name },
            },
            "revision": {
                "id": offer.id,
                "number": offer.revision,
                "side": offer.side,
                "author": offer.author,
                "made_at": offer.created_at,
            },
            "accepted": { "side": side, "by": self.actor().login, "at": now },
            "terms": terms,
            "agreement": { "id": agreement.id, "version": agreement.version, "effective_from": agreement.effective_from },
            "deal_id": deal.id,
        });
        let hash = snapshot_hash(&snapshot);
        let contract = store::contracts::insert_contract(
            &mut tx,
            &NewContract {
                thread_id,
                offer_id: offer.id,
                partner_id: thread.partner_id,
                agreement_id: agreement.id,
                deal_id: deal.id,
                snapshot: &snapshot,
                snapshot_hash: &hash,
            },
            &terms.benefits,
            &self.actor().login,
        )
        .await?;
        let records = vec![
            Change::new(self.actor(), "negotiation.accept", "negotiation", thread_id)
                .changed(&thread, &after)
                .reason(Some(&reason))
                .event(
                    "negotiation.accepted",
                    json!({ "negotiation": after, "revision": offer.revision, "side": side,
                            "agreement_id": agreement.id, "contract_id": contract.id, "deal_id": deal.id }),
                ),
            Change::new(self.actor(), "agreement.create", "agreement", agreement.id)
                .after(&agreement)
                .event("agreement.created", json!({ "agreement": agreement })),
            Change::new(self.actor(), "contract.create", "contract", contract.id)
                .after(&contract)
                .event("contract.created", json!({ "contract": contract })),
        ];
        record::write_all(&mut tx, records).await?;
        tx.commit().await?;
        Ok(Acceptance {
            thread: after,
            revision: offer.revision,
            side,
            agreement,
            contract,
            deal,
        })
    }

    pub async fn reject_negotiation(
        &self,
        thread_id: i64,
        side: Side,
        reason: &str,
    ) -> Result<Thread> {
        self.close(thread_id, side, reason, ThreadStatus::Rejected)
            .await
    }

    pub async fn withdraw_negotiation(
        &self,
        thread_id: i64,
        side: Side,
        reason: &str,
    ) -> Result<Thread> {
        self.close(thread_id, side, reason, ThreadStatus::Withdrawn)
            .await
    }

    async fn close(
        &self,
        thread_id: i64,
        side: Side,
        reason: &str,
        to: ThreadStatus,
    ) -> Result<Thread> {
        self.actor().require(Permission::ManageNegotiations)?;
        let mut tx = self.pool().begin().await?;
        let after = self.close_in(&mut tx, thread_id, side, reason, to).await;
        super::finish(tx, after).await
    }

    /// Rejects or withdraws inside the caller's transaction (which it leaves to the caller to
    /// commit, or to roll back for a dry run).
    pub(crate) async fn close_in(
        &self,
        tx: &mut PgConnection,
        thread_id: i64,
        side: Side,
        reason: &str,
        to: ThreadStatus,
    ) -> Result<Thread> {
        self.actor().require(Permission::ManageNegotiations)?;
        let reason = check_reason(reason)?;
        let before = open_thread(tx, thread_id).await?;
        before
            .status
            .check_transition(to, ThreadTrigger::Operator)
            .map_err(|r| refuse(&before, to, r))?;
        let text = format!("{side} side: {reason}");
        let after =
            store::negotiations::set_status(tx, thread_id, to, Some(&text), &self.actor().login)
                .await?
                .ok_or_else(|| {
                    Error::Refused(format!("negotiation {thread_id} is no longer open"))
                })?;
        let verb = if to == ThreadStatus::Rejected {
            "reject"
        } else {
            "withdraw"
        };
        let action = format!("negotiation.{verb}");
        let event = format!("negotiation.{to}");
        Change::new(self.actor(), &action, "negotiation", thread_id)
            .changed(&before, &after)
            .reason(Some(&text))
            .event(&event, json!({ "negotiation": after, "side": side }))
            .write(tx)
            .await?;
        Ok(after)
    }

    /// The expiry job for threads: every open thread past its deadline becomes expired, as the
    /// system actor. Idempotent; two jobs at once never expire a thread twice.
    pub async fn expire_due_negotiations(&self, now: DateTime<Utc>) -> Result<u64> {
        self.actor().require(Permission::ManageDeals)?;
        let system = Actor::system();
        let mut total = 0u64;
        loop {
            let mut tx = self.pool().begin().await?;
            let due = store::negotiations::due_for_expiry(&mut tx, now, EXPIRY_BATCH).await?;
            if due.is_empty() {
                break;
            }
            let mut records = Vec::with_capacity(due.len());
            let mut afters = Vec::with_capacity(due.len());
            for before in &due {
                if let Some(after) = store::negotiations::set_status(
                    &mut tx,
                    before.id,
                    ThreadStatus::Expired,
                    Some("deadline passed"),
                    &system.login,
                )
                .await?
                {
                    afters.push((before, after));
                }
            }
            for (before, after) in &afters {
                records.push(
                    Change::new(&system, "negotiation.expire", "negotiation", before.id)
                        .changed(*before, after)
                        .reason(Some("deadline passed"))
                        .event("negotiation.expired", json!({ "negotiation": after })),
                );
            }
            record::write_all(&mut tx, records).await?;
            tx.commit().await?;
            total += afters.len() as u64;
            if (due.len() as i64) < EXPIRY_BATCH {
                break;
            }
        }
        Ok(total)
    }

    pub async fn list_negotiations(&self, f: &ThreadFilter, limit: i64) -> Result<Vec<ThreadRow>> {
        let mut conn = self.pool().acquire().await?;
        Ok(store::negotiations::list(&mut conn, f, limit).await?)
    }

    pub async fn get_negotiation(&self, id: i64) -> Result<NegotiationView> {
        let mut conn = self.pool().acquire().await?;
        let thread = store::negotiations::get_thread(&mut conn, id)
            .await?
            .ok_or_else(|| Error::not_found("negotiation", id))?;
        let partner_name = store::partners::get(&mut conn, thread.partner_id)
            .await?
            .map(|p| p.display_name)
            .unwrap_or_default();
        let messages = store::negotiations::messages(&mut conn, id).await?;
        let raw = store::negotiations::offers(&mut conn, id).await?;
        let mut offers: Vec<OfferWithDiff> = Vec::with_capacity(raw.len());
        for o in raw {
            let changes = offers
                .last()
                .map(|p| diff(&p.offer.terms, &o.terms))
                .unwrap_or_default();
            offers.push(OfferWithDiff { offer: o, changes });
        }
        let contract_id = store::contracts::contract_of_thread(&mut conn, id)
            .await?
            .map(|c| c.id);
        let turn = if thread.status.is_final() {
            None
        } else {
            Some(
                offers
                    .last()
                    .map(|o| o.offer.side.other())
                    .unwrap_or(thread.opened_side),
            )
        };
        Ok(NegotiationView {
            thread,
            partner_name,
            messages,
            offers,
            contract_id,
            turn,
        })
    }
}

/// The thread, locked and still open; a final thread is refused naming who closed it and when.
async fn open_thread(conn: &mut PgConnection, id: i64) -> Result<Thread> {
    let t = store::negotiations::lock_thread(conn, id)
        .await?
        .ok_or_else(|| Error::not_found("negotiation", id))?;
    if t.status.is_final() {
        return Err(Error::Refused(format!(
            "negotiation {id} was already {} by {} at {}; nothing was changed",
            t.status,
            t.updated_by,
            t.updated_at.format("%Y-%m-%d %H:%M:%S UTC")
        )));
    }
    Ok(t)
}

/// A message or an offer from the side that did not open the thread moves `pending` on.
async fn advance(conn: &mut PgConnection, actor: &Actor, t: &Thread, side: Side) -> Result<Thread> {
    let to = if t.status == ThreadStatus::Pending && side != t.opened_side {
        ThreadStatus::Negotiating
    } else {
        t.status
    };
    let after = store::negotiations::touch(conn, t.id, to, &actor.login).await?;
    if to != t.status {
        Change::new(actor, "negotiation.negotiate", "negotiation", t.id)
            .changed(t, &after)
            .event(
                "negotiation.state_changed",
                json!({ "from": t.status, "to": to, "by": actor.login }),
            )
            .write(conn)
            .await?;
    }
    Ok(after)
}

fn superseded(thread_id: i64, want: i32, latest: Option<&Offer>) -> Error {
    match latest {
        Some(l) => Error::Refused(format!(
            "revision {want} of negotiation {thread_id} is no longer the latest: {} made revision {} for the {} side at {}; review it first",
            l.author,
            l.revision,
            l.side,
            l.created_at.format("%Y-%m-%d %H:%M:%S UTC")
        )),
        None => Error::Refused(format!(
            "negotiation {thread_id} has no revision {want}: it has no offers yet"
        )),
    }
}

fn refuse(t: &Thread, to: ThreadStatus, reason: String) -> Error {
    Error::InvalidTransition {
        entity: "negotiation",
        id: t.id.to_string(),
        from: t.status.to_string(),
        to: to.to_string(),
        reason,
    }
}

fn message_record<'a>(actor: &'a Actor, m: &Message) -> record::Record<'a> {
    Change::new(actor, "negotiation.message", "negotiation", m.thread_id)
        .after(m)
        .event("negotiation.message_posted", json!({ "message": m }))
}

fn offer_record<'a>(actor: &'a Actor, o: &Offer, changes: &[TermChange]) -> record::Record<'a> {
    Change::new(actor, "negotiation.offer", "negotiation", o.thread_id)
        .after(o)
        .event(
            "negotiation.offered",
            json!({ "offer": o, "changes": changes }),
        )
}
