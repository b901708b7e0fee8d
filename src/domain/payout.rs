//! A partner's payout details (where the marketplace pays it): the account holder, the IBAN
//! (checked by its ISO 13616 mod-97 checksum, by the `iban_validate` crate), the BIC and the
//! payout currency. Only finance and admin read them whole; everyone else, the audit log and
//! every message see the IBAN masked (`DE89 •••• •••• 3000`); events carry none of it.

use super::validation::{Lines, ValidationErrors, text};
use serde::{Deserialize, Serialize};

/// The longest account holder's name (SEPA allows 70).
pub const HOLDER_MAX: usize = 70;

/// Payout details as typed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PayoutDetailsDraft {
    pub holder: String,
    pub iban: String,
    pub bic: String,
    /// The payout currency; EUR when empty.
    pub currency: String,
}

/// Payout details that passed every rule: the IBAN and BIC in their electronic form
/// (upper case, no spaces).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PayoutDetails {
    pub holder: String,
    pub iban: String,
    pub bic: String,
    pub currency: String,
}

impl PayoutDetailsDraft {
    pub fn validate(&self) -> Result<PayoutDetails, ValidationErrors> {
        let mut e = ValidationErrors::new();
        let holder = text(&mut e, "holder", &self.holder, HOLDER_MAX, Lines::One);
        let iban = match check_iban(&self.iban) {
            Ok(i) => i,
            Err(why) => {
                e.push("iban", why);
                String::new()
            }
        };
        let bic = match check_bic(&self.bic) {
            Ok(b) => b,
            Err(why) => {
                e.push("bic", why);
                String::new()
            }
        };
        let currency = match self.currency.trim() {
            "" => "EUR".to_owned(),
            c => match super::money::currency_exponent(c) {
                Ok(_) => c.to_owned(),
                Err(why) => {
                    e.push("currency", why);
                    String::new()
                }
            },
        };
        e.into_result(PayoutDetails {
            holder,
            iban,
            bic,
            currency,
        })
    }
}

/// An IBAN, its spaces removed and upper-cased, refused unless its country's length and
/// format and its mod-97 checksum hold. The refusal never repeats the number.
pub fn check_iban(text: &str) -> Result<String, String> {
    let compact: String = text
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_uppercase();
    if compact.is_empty() {
        return Err("required".into());
    }
    use iban::{IbanLike, ParseBaseIbanError, ParseIbanError};
    match compact.parse::<iban::Iban>() {
        Ok(i) => Ok(i.electronic_str().to_owned()),
        Err(ParseIbanError::InvalidBaseIban {
            source: ParseBaseIbanError::InvalidChecksum,
        }) => Err(
            "its check digits do not match (ISO 13616 mod 97): a digit is mistyped".into(),
        ),
        Err(ParseIbanError::InvalidBban(_)) => {
            Err("not an IBAN of its country (its length or format is wrong)".into())
        }
        Err(ParseIbanError::UnknownCountry(_)) => {
            Err("its first two letters are no country that has IBANs".into())
        }
        Err(_) => Err("not an IBAN: two letters of its country, two check digits, then the account (DE89 3704 0044 0532 0130 00)".into()),
    }
}

/// A BIC (ISO 9362): 8 or 11 characters, four letters of the bank, two of its country, two
/// of its location and an optional branch.
pub fn check_bic(text: &str) -> Result<String, String> {
    let b: String = text
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_uppercase();
    let ok = matches!(b.len(), 8 | 11)
        && b[..6].chars().all(|c| c.is_ascii_uppercase())
        && b[6..].chars().all(|c| c.is_ascii_alphanumeric());
    if ok {
        Ok(b)
    } else {
        Err("not a BIC: 8 or 11 letters and digits, like COBADEFFXXX".into())
    }
}

/// An IBAN in its paper form: groups of four (`DE89 3704 0044 0532 0130 00`).
pub fn grouped_iban(iban: &str) -> String {
    iban.as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The IBAN as everyone but finance sees it: its country and check digits, then its last
/// four characters (`DE89 •••• •••• 3000`); how long it is stays hidden too.
pub fn mask_iban(iban: &str) -> String {
    let n = iban.chars().count();
    if n < 8 {
        return "•••• •••• ••••".into();
    }
    let first: String = iban.chars().take(4).collect();
    let last: String = iban.chars().skip(n - 4).collect();
    format!("{first} •••• •••• {last}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ibans_are_checked_by_their_checksum_and_shown_masked() {
        assert_eq!(
            check_iban("de89 3704 0044 0532 0130 00").as_deref(),
            Ok("DE89370400440532013000")
        );
        assert_eq!(
            check_iban("DE88370400440532013000").unwrap_err(),
            "its check digits do not match (ISO 13616 mod 97): a digit is mistyped"
        );
        assert!(
            check_iban("DE8937040044053201300").is_err(),
            "one digit short"
        );
        assert!(check_iban("hello").is_err());
        assert_eq!(check_iban(" ").unwrap_err(), "required");
        assert_eq!(mask_iban("DE89370400440532013000"), "DE89 •••• •••• 3000");
        assert_eq!(check_bic("cobadeffxxx").as_deref(), Ok("COBADEFFXXX"));
        assert_eq!(check_bic("COBADEFF").as_deref(), Ok("COBADEFF"));
        assert!(check_bic("COBA1EFF").is_err());
        assert!(check_bic("COBADEF").is_err());
        let d = PayoutDetailsDraft {
            holder: "Aster Books GmbH".into(),
            iban: "DE89 3704 0044 0532 0130 00".into(),
            bic: "COBADEFFXXX".into(),
            currency: String::new(),
        }
        .validate()
        .unwrap();
        assert_eq!(d.currency, "EUR");
        let e = PayoutDetailsDraft {
            currency: "EURO".into(),
            ..PayoutDetailsDraft::default()
        }
        .validate()
        .unwrap_err();
        let fields: Vec<&str> = e.0.iter().map(|f| f.field).collect();
        assert_eq!(fields, ["holder", "iban", "bic", "currency"]);
    }
}
