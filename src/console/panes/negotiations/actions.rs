//! What the Negotiations pane does when asked: the questions before a reply, an acceptance, a
//! rejection, a withdrawal, a signature or a benefit; the counter-offer form opened and saved.

use super::{ENTITY, Effect, NegotiationsPane, Question, offer_form};
use crate::console::action::Action;
use crate::console::form::{Editing, fields_to_fix};
use crate::console::msg::Effect as AppEffect;
use crate::console::pane::fx;
use crate::console::recovery::FormSnapshot;
use crate::console::shell::Shell;
use crate::console::view::local;
use crate::domain::Permission;
use crate::domain::contract::{BenefitStatus, ContractStatus};
use crate::domain::negotiation::{OfferDraft, Side};
use crate::service::negotiations::NegotiationView;

/// Reads `partner: TEXT` (recorded on the partner's behalf) or `TEXT` (the marketplace's).
pub(super) fn side_and_text(text: &str) -> (Side, String) {
    match text.split_once(':') {
        Some((s, rest)) if s.trim().eq_ignore_ascii_case("partner") => {
            (Side::Partner, rest.trim().to_owned())
        }
        Some((s, rest)) if s.trim().eq_ignore_ascii_case("marketplace") => {
            (Side::Marketplace, rest.trim().to_owned())
        }
        _ => (Side::Marketplace, text.trim().to_owned()),
    }
}

/// What a form or prompt title adds for a side recorded on the partner's behalf.
fn behalf(side: Side) -> &'static str {
    match side {
        Side::Partner => " (recorded on its behalf)",
        Side::Marketplace => "",
    }
}

/// Reads `2 delivered: posted on the homepage` (position, status, note).
pub(super) fn parse_benefit(text: &str) -> Result<(i32, BenefitStatus, String), String> {
    let (head, note) = text
        .split_once(':')
        .ok_or("write N delivered: EVIDENCE or N missed: REASON")?;
    let mut words = head.split_whitespace();
    let position = words
        .next()
        .and_then(|n| n.parse::<i32>().ok())
        .ok_or("start with the benefit's number")?;
    let to = match words.next().map(str::to_ascii_lowercase).as_deref() {
        Some("delivered") => BenefitStatus::Delivered,
        Some("missed") => BenefitStatus::Missed,
        _ => return Err("delivered or missed after the number".into()),
    };
    let note = note.trim();
    if note.is_empty() {
        return Err("say what shows it (delivered) or why (missed) after the colon".into());
    }
    Ok((position, to, note.to_owned()))
}

impl NegotiationsPane {
    /// The thread the actions apply to: the open one (an action on a list row opens it first).
    pub(super) fn thread_or_open(
        &mut self,
        sh: &mut Shell,
    ) -> Result<&NegotiationView, Vec<AppEffect>> {
        if self.detail.shown().is_some() {
            return Ok(self.detail.data.as_ref().expect("shown"));
        }
        match self.list.selected_row().map(|r| r.id) {
            Some(id) => {
                self.detail.open_new();
                sh.toast("open: the thread's timeline first, then act on it");
                Err(self.load_detail(sh, id))
            }
            None => Err(Vec::new()),
        }
    }

    pub fn snapshot(&self) -> Option<FormSnapshot> {
        Some(self.form.as_ref()?.snapshot(ENTITY, "title"))
    }

    /// The counter-offer form, from the latest revision's terms, for the side whose turn it is.
    pub(super) fn counter(&mut self, v: &NegotiationView) -> Vec<AppEffect> {
        let latest = v.offers.last();
        // The side whose turn it is: on a thread without an offer, the one that opened it.
        let side = v.turn.unwrap_or(v.thread.opened_side);
        let draft = match latest {
            Some(o) => o.offer.terms.draft(),
            None => OfferDraft {
                model: "percentage".into(),
                currency: "EUR".into(),
                frequency: "monthly".into(),
                kind: "coupon".into(),
                audience_scope: "public".into(),
                ..OfferDraft::default()
            },
        };
        // The side first, so that a narrow screen still shows it.
        let title = match latest {
            Some(o) => format!(
                "Counter-offer for the {side}{} to revision {} on “{}”",
                behalf(side),
                o.offer.revision,
                v.thread.subject,
            ),
            None => format!(
                "Opening offer for the {side}{} on “{}”",
                behalf(side),
                v.thread.subject
            ),
        };
        let form = offer_form::form_for(title, &draft, side);
        self.thread_form = false;
        self.partner_id = v.thread.partner_id;
        self.form = Some(Editing {
            form,
            id: Some(v.thread.id),
            version: latest.map(|o| o.offer.revision),
        });
        if let Some(f) = self.form.as_mut() {
            f.form.errors = offer_form::check(&f.form, self.partner_id);
        }
        vec![AppEffect::TrackForm(self.snapshot())]
    }

    pub(super) fn save_offer(&mut self, sh: &mut Shell) -> Vec<AppEffect> {
        if !sh.require(Permission::ManageNegotiations) {
            return Vec::new();
        }
        let Some(ed) = self.form.as_mut() else {
            return Vec::new();
        };
        ed.form.errors = offer_form::check(&ed.form, self.partner_id);
        if !ed.form.errors.is_empty() {
            fields_to_fix(sh, &ed.form.errors);
            return Vec::new();
        }
        let (side, draft, note, _) = offer_form::read(&ed.form);
        let (Some(id), expected) = (ed.id, ed.version) else {
            return Vec::new();
        };
        ed.form.saving = true;
        let tag = self.save.begin(sh);
        fx(Effect::Offer {
            tag,
            id,
            side,
            draft: Box::new(draft),
            note,
            expected,
        })
    }

    pub(super) fn ask(&mut self, sh: &mut Shell, a: Action) -> Vec<AppEffect> {
        if !sh.require(Permission::ManageNegotiations) {
            return Vec::new();
        }
        let v = match self.thread_or_open(sh) {
            Ok(v) => v.clone(),
            Err(fx) => return fx,
        };
        let t = &v.thread;
        if let (Action::Sign | Action::Benefit, Some(contract)) = (a, v.contract_id) {
            if a == Action::Sign {
                sh.prompt(
                    format!("Sign contract #{contract}"),
                    "the side to sign for: marketplace or partner (recorded on its behalf)",
                    "marketplace",
                    Question::Sign { id: t.id, contract },
                );
            } else {
                sh.prompt(
                    format!("A benefit of contract #{contract}"),
                    "N delivered: EVIDENCE, or N missed: REASON (N as listed)",
                    "1 delivered: ",
                    Question::Benefit { id: t.id, contract },
                );
            }
            return Vec::new();
        }
        let to = match a {
            Action::CompleteContract => Some(ContractStatus::Completed),
            Action::CancelContract => Some(ContractStatus::Cancelled),
            Action::DisputeContract => Some(ContractStatus::Disputed),
            _ => None,
        };
        if let (Some(to), Some(contract)) = (to, v.contract_id) {
            let verb = match to {
                ContractStatus::Completed => "Complete",
                ContractStatus::Cancelled => "Cancel",
                _ => "Dispute",
            };
            sh.prompt(
                format!("{verb} contract #{contract} (it becomes {to})"),
                "the reason (required); recorded with the move",
                "",
                Question::ContractMove {
                    id: t.id,
                    contract,
                    to,
                },
            );
            return Vec::new();
        }
        if to.is_some() || matches!(a, Action::Sign | Action::Benefit) {
            sh.toast_error("there is no contract yet: it comes with the acceptance");
            return Vec::new();
        }
        if t.status.is_final() {
            sh.toast_error(format!(
                "negotiation #{} is {}: nothing more can be done",
                t.id, t.status
            ));
            return Vec::new();
        }
        let latest = v.offers.last().map(|o| (o.offer.revision, o.offer.side));
        match a {
            Action::CounterOffer => return self.counter(&v),
            Action::Reply => sh.prompt(
                format!("Message on “{}”", t.subject),
                "the message (marketplace's); start with partner: to record the partner's words on its behalf",
                "",
                Question::Reply { id: t.id },
            ),
            Action::Accept => {
                let Some((revision, made_by)) = latest else {
                    sh.toast_error("there is no offer to accept yet");
                    return Vec::new();
                };
                let side = made_by.other();
                let mut body = vec![format!(
                    "Accept revision {revision} (made by the {made_by}) for the {side}{}.",
                    if side == Side::Partner {
                        ", recorded on its behalf"
                    } else {
                        ""
                    }
                )];
                let terms = &v.offers.last().expect("an offer").offer.terms;
                let effective = terms
                    .frequency
                    .effective_from(crate::console::view::now(), terms.deal.valid_from);
                let start = terms.deal.draft_start(effective);
                body.extend([
                    "It creates, in one step:".to_owned(),
                    format!(
                        "  · a new agreement version for {}, in effect from {effective},",
                        v.partner_name
                    ),
                    "  · a contract (a snapshot of the terms, hashed) awaiting signatures,".to_owned(),
                    format!("  · a draft deal from the deal terms, its window from {}.", local(start)),
                ]);
                if start != terms.deal.valid_from {
                    body.push(format!(
                        "The offer's window started {}: the deal starts with the agreement, so that no redemption falls before a statement.",
                        local(terms.deal.valid_from)
                    ));
                } else if terms.deal.valid_from.date_naive() < effective {
                    body.push(format!(
                        "The deal's window starts {}, before the agreement: redemptions until {effective} will be listed as exceptions (no agreement in effect) unless an earlier agreement covers them.",
                        local(terms.deal.valid_from)
                    ));
                }
                body.push("The negotiation is then closed as accepted.".to_owned());
                sh.confirm(
                    format!("Accept “{}”?", t.subject),
                    body,
                    ["Cancel", "Accept"],
                    Question::Accept {
                        id: t.id,
                        revision,
                        side,
                    },
                );
            }
            Action::Reject | Action::Withdraw => {
                let reject = a == Action::Reject;
                // The side whose turn it is rejects; the marketplace withdraws its own thread.
                let side = if reject {
                    v.turn.unwrap_or(Side::Marketplace)
                } else {
                    Side::Marketplace
                };
                sh.prompt(
                    format!(
                        "{} “{}” for the {side}",
                        if reject { "Reject" } else { "Withdraw" },
                        t.subject
                    ),
                    "the reason (required); the negotiation closes for good",
                    "",
                    Question::Close {
                        id: t.id,
                        side,
                        reject,
                    },
                );
            }
            _ => {}
        }
        Vec::new()
    }
}
