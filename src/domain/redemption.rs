//! Redemption flags (SPEC §1.5): support marks a redemption as possible fraud or as disputed,
//! with a note; a flagged redemption is left out of settlement until the flag is resolved
//! (unflagged, with a reason).

use super::validation::{Lines, ValidationErrors, no_control, required_text};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The longest flag note or unflag reason, in characters.
pub const FLAG_TEXT_MAX: usize = 1000;

/// Why a redemption is flagged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FlagKind {
    /// Possible fraud, e.g. a shared coupon code.
    Fraud,
    /// The partner or the member disputes the redemption.
    Dispute,
}

impl FlagKind {
    pub const ALL: [FlagKind; 2] = [FlagKind::Fraud, FlagKind::Dispute];

    pub fn as_str(self) -> &'static str {
        match self {
            FlagKind::Fraud => "fraud",
            FlagKind::Dispute => "dispute",
        }
    }
}

impl fmt::Display for FlagKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for FlagKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "fraud" => Ok(FlagKind::Fraud),
            "dispute" => Ok(FlagKind::Dispute),
            other => Err(format!(
                "unknown flag kind '{other}' (expected fraud or dispute)"
            )),
        }
    }
}

/// Checks a flag note (`field` = "note") or an unflag reason (`field` = "reason"): required,
/// at most 1,000 characters. Returns it trimmed.
pub fn flag_text(field: &'static str, text: &str) -> Result<String, ValidationErrors> {
    let mut errs = ValidationErrors::new();
    no_control(&mut errs, field, text, Lines::Many);
    let v = required_text(&mut errs, field, text, FLAG_TEXT_MAX);
    errs.into_result(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_parse_and_refuse_unknown() {
        assert_eq!("Fraud".parse::<FlagKind>(), Ok(FlagKind::Fraud));
        assert_eq!(" dispute ".parse::<FlagKind>(), Ok(FlagKind::Dispute));
        assert_eq!(
            "spam".parse::<FlagKind>().unwrap_err(),
            "unknown flag kind 'spam' (expected fraud or dispute)"
        );
        for k in FlagKind::ALL {
            assert_eq!(k.as_str().parse::<FlagKind>(), Ok(k));
        }
    }

    #[test]
    fn notes_may_span_lines_but_hold_no_other_control_characters() {
        assert!(flag_text("note", "seen on a forum\ntoday").is_ok());
        assert!(
            flag_text("note", "\u{1b}]0;pwned\u{7}")
                .unwrap_err()
                .to_string()
                .starts_with("note: must not contain control characters")
        );
    }

    #[test]
    fn notes_are_required_and_bounded() {
        assert_eq!(flag_text("note", "  shared code  ").unwrap(), "shared code");
        assert_eq!(
            flag_text("note", "   ").unwrap_err().to_string(),
            "note: required"
        );
        assert!(flag_text("reason", &"é".repeat(1000)).is_ok());
        assert_eq!(
            flag_text("reason", &"é".repeat(1001))
                .unwrap_err()
                .to_string(),
            "reason: at most 1000 characters (got 1001)"
        );
    }
}
