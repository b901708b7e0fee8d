//! Deals (SPEC §1.4): the field rules, kinds, audience scopes and the state machine.

use super::validation::{
    Lines, ValidationErrors, clean_list, http_url, max_len, no_control_in, non_empty, required_text,
};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

pub const TITLE_MAX: usize = 255;
pub const DESCRIPTION_MAX: usize = 4_000;
pub const COUPON_CODE_MAX: usize = 64;
pub const REDEMPTION_URL_MAX: usize = 2_048;
pub const SCOPE_VALUE_MAX: usize = 255;
pub const CATEGORY_MAX: usize = 64;
pub const CATEGORIES_MAX: usize = 20;
/// The cap is stored as a PostgreSQL `integer`.
pub const CAP_MAX: i64 = i32::MAX as i64;

macro_rules! text_enum {
    ($(#[$m:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            /// The values as written, in order (what a picker offers).
            pub const NAMES: &'static [&'static str] = &[$($text),+];
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
            /// "a, b or c", for messages.
            pub fn choices() -> String {
                let names: Vec<&str> = Self::ALL.iter().map(|v| v.as_str()).collect();
                let (last, init) = names.split_last().expect("non-empty enum");
                format!("{} or {}", init.join(", "), last)
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result { f.write_str(self.as_str()) }
        }

        impl TryFrom<String> for $name {
            type Error = String;
            fn try_from(s: String) -> Result<Self, String> { s.parse() }
        }

        impl ::std::str::FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                let t = s.trim().to_ascii_lowercase();
                Self::ALL.iter().copied().find(|v| v.as_str() == t)
                    .ok_or_else(|| format!("must be {}", Self::choices()))
            }
        }
    };
}
pub(crate) use text_enum;

text_enum!(
    /// How a member redeems: by copying a code or by following a link.
    DealKind { Coupon => "coupon", Link => "link" }
);

text_enum!(
    /// Who can see a deal (SPEC §1.5).
    AudienceScope {
        Public => "public",
        Institute => "institute",
        Alumni => "alumni",
        Batch => "batch",
        Chapter => "chapter",
    }
);

text_enum!(
    /// The deal lifecycle.
    DealState {
        Draft => "draft",
        Active => "active",
        Paused => "paused",
        Expired => "expired",
    }
);

/// Who asks for a state change: an operator, or the expiry job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StateTrigger {
    Operator,
    ExpiryJob,
}

impl DealState {
    /// `draft → active`, `draft → paused`, `active ⇄ paused`, `active → expired` (expiry job
    /// only), `paused → expired` (manual). `expired` is final.
    pub fn check_transition(self, to: DealState, trigger: StateTrigger) -> Result<(), String> {
        use DealState::*;
        match (self, to, trigger) {
            (Draft, Active | Paused, StateTrigger::Operator)
            | (Active, Paused, StateTrigger::Operator)
            | (Paused, Active, StateTrigger::Operator)
            | (Paused, Expired, StateTrigger::Operator)
            | (Active, Expired, StateTrigger::ExpiryJob) => Ok(()),
            (Expired, _, _) => Err("an expired deal is final; duplicate it into a new draft".into()),
            (a, b, _) if a == b => Err(format!("the deal is already {a}")),
            (Active, Expired, StateTrigger::Operator) => Err(
                "an active deal expires by itself when valid_until passes; pause it first to expire it now".into(),
            ),
            (_, Draft, _) => Err("a deal never goes back to draft; duplicate it instead".into()),
            (Draft, Expired, _) => Err("a draft cannot expire; it was never published".into()),
            (a, b, StateTrigger::ExpiryJob) => {
                Err(format!("the expiry job only moves active deals to expired, not {a} → {b}"))
            }
            (a, b, _) => Err(format!("{a} → {b} is not allowed")),
        }
    }

    /// What changes for members when a deal enters this state (for confirmations).
    pub fn member_effect(self) -> &'static str {
        match self {
            DealState::Active => {
                "the deal becomes visible in search and starts accepting redemptions"
            }
            DealState::Paused => "the deal disappears from search and stops accepting redemptions",
            DealState::Expired => {
                "the deal disappears from search for good and can never be redeemed again"
            }
            DealState::Draft => "members cannot see the deal",
        }
    }
}

/// What an operator types for a deal. Enumerations are raw text so that a bad value is a
/// field error, not a parse failure elsewhere.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DealDraft {
    pub partner_id: Option<i64>,
    pub title: String,
    pub description: String,
    pub kind: String,
    pub coupon_code: Option<String>,
    pub redemption_url: Option<String>,
    pub categories: Vec<String>,
    pub audience_scope: String,
    pub audience_scope_value: Option<String>,
    pub valid_from: Option<DateTime<Utc>>,
    pub valid_until: Option<DateTime<Utc>>,
    pub redemption_cap: Option<i64>,
    pub state: Option<String>,
}

/// A deal that passed every rule of the field table. Fields that do not apply to the kind
/// or scope are cleared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ValidDeal {
    pub partner_id: i64,
    pub title: String,
    pub description: String,
    pub kind: DealKind,
    pub coupon_code: Option<String>,
    pub redemption_url: Option<String>,
    pub categories: Vec<String>,
    pub audience_scope: AudienceScope,
    pub audience_scope_value: Option<String>,
    pub valid_from: DateTime<Utc>,
    pub valid_until: DateTime<Utc>,
    pub redemption_cap: Option<i32>,
    pub state: DealState,
}

impl DealDraft {
    fn refuse_control_characters(&self, e: &mut ValidationErrors) {
        let one = Lines::One;
        let mut fields = vec![
            ("title", Some(self.title.as_str()), one),
            ("description", Some(self.description.as_str()), Lines::Many),
            ("kind", Some(self.kind.as_str()), one),
            ("coupon_code", self.coupon_code.as_deref(), one),
            ("redemption_url", self.redemption_url.as_deref(), one),
            ("audience_scope", Some(self.audience_scope.as_str()), one),
            (
                "audience_scope_value",
                self.audience_scope_value.as_deref(),
                one,
            ),
            ("state", self.state.as_deref(), one),
        ];
        fields.extend(
            self.categories
                .iter()
                .map(|c| ("categories", Some(c.as_str()), one)),
        );
        no_control_in(e, &fields);
    }

    pub fn validate(&self) -> Result<ValidDeal, ValidationErrors> {
        let mut e = ValidationErrors::new();
        self.refuse_control_characters(&mut e);
        let partner_id = match self.partner_id {
            Some(id) if id > 0 => id,
            Some(_) => {
                e.push("partner", "must be an existing partner");
                0
            }
            None => {
                e.push("partner", "required");
                0
            }
        };
        let title = required_text(&mut e, "title", &self.title, TITLE_MAX);
        let description = self.description.trim().to_owned();
        max_len(&mut e, "description", &description, DESCRIPTION_MAX);

        let kind = if self.kind.trim().is_empty() {
            e.push("kind", format!("required: {}", DealKind::choices()));
            None
        } else {
            self.kind
                .parse::<DealKind>()
                .map_err(|r| e.push("kind", r))
                .ok()
        };
        let mut coupon_code = None;
        let mut redemption_url = None;
        match kind {
            Some(DealKind::Coupon) => match non_empty(self.coupon_code.as_deref()) {
                None => e.push("coupon_code", "required when kind is coupon"),
                Some(c) => {
                    max_len(&mut e, "coupon_code", &c, COUPON_CODE_MAX);
                    coupon_code = Some(c);
                }
            },
            Some(DealKind::Link) => match non_empty(self.redemption_url.as_deref()) {
                None => e.push("redemption_url", "required when kind is link"),
                Some(u) => {
                    http_url(&mut e, "redemption_url", &u, REDEMPTION_URL_MAX);
                    redemption_url = Some(u);
                }
            },
            None => {}
        }
        let categories = clean_list(
            &mut e,
            "categories",
            &self.categories,
            CATEGORY_MAX,
            CATEGORIES_MAX,
        );

        let scope = if self.audience_scope.trim().is_empty() {
            e.push(
                "audience_scope",
                format!("required: {}", AudienceScope::choices()),
            );
            None
        } else {
            self.audience_scope
                .parse::<AudienceScope>()
                .map_err(|r| e.push("audience_scope", r))
                .ok()
        };
        let value = non_empty(self.audience_scope_value.as_deref());
        let audience_scope_value = match (scope, value) {
            (Some(AudienceScope::Batch), None) => {
                e.push(
                    "audience_scope_value",
                    "required when scope is batch: a batch year",
                );
                None
            }
            (Some(AudienceScope::Batch), Some(v)) => {
                if parse_batch_year(&v).is_none() {
                    e.push(
                        "audience_scope_value",
                        "a batch year between 1900 and 2100, like 2019",
                    );
                }
                Some(v)
            }
            (Some(AudienceScope::Chapter), None) => {
                e.push(
                    "audience_scope_value",
                    "required when scope is chapter: a chapter name",
                );
                None
            }
            (Some(AudienceScope::Chapter), Some(v)) => {
                max_len(&mut e, "audience_scope_value", &v, SCOPE_VALUE_MAX);
                Some(v)
            }
            (Some(s), Some(_)) => {
                e.push(
                    "audience_scope_value",
                    format!("must be empty when scope is {s}"),
                );
                None
            }
            (_, _) => None,
        };

        match (self.valid_from, self.valid_until) {
            (None, _) => e.push("valid_from", "required"),
            (Some(_), None) => {}
            _ => {}
        }
        if self.valid_until.is_none() {
            e.push("valid_until", "required");
        }
        if let (Some(from), Some(until)) = (self.valid_from, self.valid_until)
            && until <= from
        {
            e.push("valid_until", "must be strictly after valid_from");
        }

        let redemption_cap = match self.redemption_cap {
            None => None,
            Some(c) if (1..=CAP_MAX).contains(&c) => Some(c as i32),
            Some(_) => {
                e.push(
                    "redemption_cap",
                    format!("a positive whole number up to {CAP_MAX}, or empty for no cap"),
                );
                None
            }
        };

        let state = match non_empty(self.state.as_deref()) {
            None => Some(DealState::Draft),
            Some(s) => match s.parse::<DealState>() {
                Ok(DealState::Expired) => {
                    e.push("state", "a new deal cannot start expired");
                    None
                }
                Ok(st) => Some(st),
                Err(r) => {
                    e.push("state", r);
                    None
                }
            },
        };

        if !e.is_empty() {
            return Err(e);
        }
        Ok(ValidDeal {
            partner_id,
            title,
            description,
            kind: kind.expect("checked"),
            coupon_code,
            redemption_url,
            categories,
            audience_scope: scope.expect("checked"),
            audience_scope_value,
            valid_from: self.valid_from.expect("checked"),
            valid_until: self.valid_until.expect("checked"),
            redemption_cap,
            state: state.expect("checked"),
        })
    }
}

/// A batch year as typed: four digits between 1900 and 2100.
pub fn parse_batch_year(s: &str) -> Option<i32> {
    let y: i32 = s.trim().parse().ok()?;
    (1900..=2100).contains(&y).then_some(y)
}

/// The year of a timestamp (used by the seed to place batches).
pub fn year_of(t: DateTime<Utc>) -> i32 {
    t.year()
}

#[cfg(test)]
#[path = "deal_tests.rs"]
mod tests;

/// What activating a deal of `partner` whose window starts `valid_from` means for its
/// statements, when its partner's first agreement (`first_agreement`, if any) starts later:
/// the redemptions before that day are on no agreement, so the first statement lists them as
/// exceptions ("no agreement in effect"). `None` when the window starts under an agreement.
pub fn activation_warning(
    valid_from: DateTime<Utc>,
    partner: &str,
    first_agreement: Option<NaiveDate>,
) -> Option<String> {
    let starts = valid_from.date_naive();
    match first_agreement {
        Some(first) if starts < first => Some(format!(
            "The window starts {starts} but {partner}'s first agreement starts {first}: \
             redemptions before {first} will be listed as exceptions (\"no agreement in effect\") \
             on the first statement."
        )),
        Some(_) => None,
        None => Some(format!(
            "{partner} has no agreement yet: its redemptions will be listed as exceptions \
             (\"no agreement in effect\") until one is added from {starts} or earlier."
        )),
    }
}

#[cfg(test)]
mod activation_tests {
    use super::*;

    #[test]
    fn a_window_before_the_first_agreement_is_a_warning() {
        let at = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
        let day = |s: &str| s.parse::<NaiveDate>().unwrap();
        assert_eq!(
            activation_warning(at("2026-12-13T09:00:00Z"), "Acme", Some(day("2027-01-01"))),
            Some(
                "The window starts 2026-12-13 but Acme's first agreement starts 2027-01-01: \
                 redemptions before 2027-01-01 will be listed as exceptions (\"no agreement in \
                 effect\") on the first statement."
                    .into()
            )
        );
        assert_eq!(
            activation_warning(at("2027-01-01T00:00:00Z"), "Acme", Some(day("2027-01-01"))),
            None
        );
        assert!(
            activation_warning(at("2027-01-01T00:00:00Z"), "Acme", None)
                .unwrap()
                .starts_with("Acme has no agreement yet")
        );
    }
}
