//! `P` on a partner: where the marketplace pays it (finance and admin). One prompt,
//! `HOLDER | IBAN | BIC [| CURRENCY]`, checked as it is typed (the IBAN by its mod-97
//! checksum), then a confirmation that shows the account masked, with `Cancel` first: a
//! changed payout account is the classic payout fraud.

use super::{Effect, PartnersPane, Question};
use crate::console::msg::Effect as AppEffect;
use crate::console::pane::fx;
use crate::console::shell::Shell;
use crate::domain::Permission;
use crate::domain::payout::{PayoutDetails, PayoutDetailsDraft, mask_iban};

/// The prompt's text as payout details (as typed, and as checked), each rule checked; the
/// first broken one otherwise.
pub fn parse_payout(text: &str) -> Result<(PayoutDetailsDraft, PayoutDetails), String> {
    let parts: Vec<&str> = text.split('|').map(str::trim).collect();
    if !(3..=4).contains(&parts.len()) {
        return Err("type HOLDER | IBAN | BIC, and | CURRENCY when not EUR".into());
    }
    let draft = PayoutDetailsDraft {
        holder: parts[0].to_owned(),
        iban: parts[1].to_owned(),
        bic: parts[2].to_owned(),
        currency: parts.get(3).map(|c| c.to_string()).unwrap_or_default(),
    };
    match draft.validate() {
        Ok(d) => Ok((draft, d)),
        Err(e) => Err(e
            .0
            .first()
            .map(|f| format!("{}: {}", f.field, f.rule))
            .unwrap_or_default()),
    }
}

impl PartnersPane {
    /// `P`: the prompt, for the open or selected partner.
    pub(super) fn ask_payout(&mut self, sh: &mut Shell) -> Vec<AppEffect> {
        if !sh.require(Permission::ManageSettlements) {
            return Vec::new();
        }
        let Some((partner_id, _, name)) = self.target() else {
            sh.toast_error("select a partner first");
            return Vec::new();
        };
        sh.prompt(
            format!("Payout account of {name}"),
            "HOLDER | IBAN | BIC [| CURRENCY], like Aster Books GmbH | DE89 3704 0044 0532 0130 00 | COBADEFFXXX",
            "",
            Question::Payout { partner_id, name },
        );
        Vec::new()
    }

    /// The prompt answered: the confirmation; confirmed: the change.
    pub(super) fn payout_answered(
        &mut self,
        sh: &mut Shell,
        q: Question,
        text: Option<String>,
    ) -> Vec<AppEffect> {
        match q {
            Question::Payout { partner_id, name } => {
                let Some(text) = text else {
                    return Vec::new();
                };
                match parse_payout(&text) {
                    Ok((draft, d)) => {
                        sh.confirm(
                            format!("Pay {name} at {}?", mask_iban(&d.iban)),
                            vec![
                                format!(
                                    "Payouts to {name} go to {} ({}), held by {}, in {}.",
                                    mask_iban(&d.iban),
                                    d.bic,
                                    d.holder,
                                    d.currency
                                ),
                                "A changed payout account is how payout fraud is done: check it with the partner first.".into(),
                            ],
                            ["Cancel", "Set"],
                            Question::PayoutGo { partner_id, draft },
                        );
                    }
                    Err(e) => sh.ask_again(e),
                }
                Vec::new()
            }
            Question::PayoutGo { partner_id, draft } => {
                let busy = sh.start_busy("payout account…".to_owned());
                fx(Effect::SetPayout {
                    busy,
                    partner_id,
                    draft,
                })
            }
            _ => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_prompt_reads_holder_iban_bic_and_currency() {
        let (d, _) =
            parse_payout("Aster Books GmbH | DE89 3704 0044 0532 0130 00 | COBADEFFXXX").unwrap();
        assert_eq!(
            (d.holder.as_str(), d.currency.as_str()),
            ("Aster Books GmbH", "")
        );
        assert_eq!(
            parse_payout("A | GB82 WEST 1234 5698 7654 32 | NWBKGB2L | GBP")
                .unwrap()
                .0
                .currency,
            "GBP"
        );
        assert_eq!(
            parse_payout("Aster | DE88 3704 0044 0532 0130 00 | COBADEFFXXX").unwrap_err(),
            "iban: its check digits do not match (ISO 13616 mod 97): a digit is mistyped"
        );
        assert_eq!(
            parse_payout("Aster Books GmbH").unwrap_err(),
            "type HOLDER | IBAN | BIC, and | CURRENCY when not EUR"
        );
    }
}
