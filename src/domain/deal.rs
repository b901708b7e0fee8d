//! Deals (SPEC §1.4): the field rules, kinds, audience scopes and the state machine.

use super::validation::{
    Lines, ValidationErrors, clean_list, http_url, max_len, no_control_in, non_empty, required_text,
};
use chrono::{DateTime, Datelike, Utc};
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
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(d: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, d, 0, 0, 0).unwrap()
    }

    fn coupon() -> DealDraft {
        DealDraft {
            partner_id: Some(1),
            title: "20% off".into(),
            description: String::new(),
            kind: "coupon".into(),
            coupon_code: Some("SAVE20".into()),
            audience_scope: "public".into(),
            valid_from: Some(t(1)),
            valid_until: Some(t(2)),
            ..Default::default()
        }
    }

    fn err(d: &DealDraft, field: &str) -> String {
        d.validate()
            .unwrap_err()
            .for_field(field)
            .unwrap_or_else(|| panic!("no error on {field}"))
            .to_owned()
    }

    #[test]
    fn control_characters_are_refused_but_descriptions_may_span_lines() {
        let mut d = coupon();
        d.description = "line one\r\nline two\twith a tab".into();
        assert!(d.validate().is_ok());
        d.title = "20%\0 off".into();
        assert_eq!(
            err(&d, "title"),
            "must not contain control characters (found U+0000 at character 4)"
        );
        d.title = "20% off".into();
        d.coupon_code = Some("SAVE\u{1b}20".into());
        assert!(err(&d, "coupon_code").contains("U+001B"));
        d.coupon_code = Some("SAVE20".into());
        d.description = "bell\u{7}".into();
        assert!(err(&d, "description").contains("other than line breaks and tabs"));
    }

    #[test]
    fn a_minimal_coupon_is_a_draft() {
        let v = coupon().validate().unwrap();
        assert_eq!(v.state, DealState::Draft);
        assert_eq!(v.kind, DealKind::Coupon);
        assert_eq!(v.redemption_url, None);
    }

    #[test]
    fn partner_is_required() {
        let mut d = coupon();
        d.partner_id = None;
        assert_eq!(err(&d, "partner"), "required");
    }

    #[test]
    fn title_limits() {
        let mut d = coupon();
        d.title = "t".repeat(255);
        assert!(d.validate().is_ok());
        d.title = "t".repeat(256);
        assert_eq!(err(&d, "title"), "at most 255 characters (got 256)");
        d.title = " ".into();
        assert_eq!(err(&d, "title"), "required");
    }

    #[test]
    fn description_limit() {
        let mut d = coupon();
        d.description = "d".repeat(4000);
        assert!(d.validate().is_ok());
        d.description = "d".repeat(4001);
        assert_eq!(err(&d, "description"), "at most 4000 characters (got 4001)");
    }

    #[test]
    fn kind_is_required_and_closed() {
        let mut d = coupon();
        d.kind = "".into();
        assert_eq!(err(&d, "kind"), "required: coupon or link");
        d.kind = "voucher".into();
        assert_eq!(err(&d, "kind"), "must be coupon or link");
    }

    #[test]
    fn coupon_code_rules() {
        let mut d = coupon();
        d.coupon_code = Some("C".repeat(64));
        assert!(d.validate().is_ok());
        d.coupon_code = Some("C".repeat(65));
        assert_eq!(err(&d, "coupon_code"), "at most 64 characters (got 65)");
        d.coupon_code = None;
        assert_eq!(err(&d, "coupon_code"), "required when kind is coupon");
    }

    #[test]
    fn redemption_url_rules() {
        let mut d = coupon();
        d.kind = "link".into();
        d.coupon_code = Some("IGNORED".into());
        assert_eq!(err(&d, "redemption_url"), "required when kind is link");
        let base = "https://partner.example/";
        d.redemption_url = Some(format!("{base}{}", "a".repeat(2048 - base.len())));
        let v = d.validate().unwrap();
        assert_eq!(v.coupon_code, None, "coupon code is cleared for links");
        d.redemption_url = Some(format!("{base}{}", "a".repeat(2049 - base.len())));
        assert_eq!(
            err(&d, "redemption_url"),
            "at most 2048 characters (got 2049)"
        );
        d.redemption_url = Some("ftp://partner.example/x".into());
        assert!(err(&d, "redemption_url").contains("http(s)"));
    }

    #[test]
    fn scope_rules() {
        let mut d = coupon();
        d.audience_scope = "".into();
        assert_eq!(
            err(&d, "audience_scope"),
            "required: public, institute, alumni, batch or chapter"
        );
        d.audience_scope = "everyone".into();
        assert_eq!(
            err(&d, "audience_scope"),
            "must be public, institute, alumni, batch or chapter"
        );
        d.audience_scope = "batch".into();
        assert_eq!(
            err(&d, "audience_scope_value"),
            "required when scope is batch: a batch year"
        );
        d.audience_scope_value = Some("nineteen".into());
        assert!(err(&d, "audience_scope_value").contains("batch year"));
        d.audience_scope_value = Some("2019".into());
        assert!(d.validate().is_ok());
        d.audience_scope = "chapter".into();
        d.audience_scope_value = None;
        assert_eq!(
            err(&d, "audience_scope_value"),
            "required when scope is chapter: a chapter name"
        );
        d.audience_scope_value = Some("c".repeat(255));
        assert!(d.validate().is_ok());
        d.audience_scope_value = Some("c".repeat(256));
        assert_eq!(
            err(&d, "audience_scope_value"),
            "at most 255 characters (got 256)"
        );
        for s in ["public", "institute", "alumni"] {
            d.audience_scope = s.into();
            d.audience_scope_value = Some("x".into());
            assert_eq!(
                err(&d, "audience_scope_value"),
                format!("must be empty when scope is {s}")
            );
        }
    }

    #[test]
    fn window_rules() {
        let mut d = coupon();
        d.valid_from = None;
        d.valid_until = None;
        assert_eq!(err(&d, "valid_from"), "required");
        assert_eq!(err(&d, "valid_until"), "required");
        d.valid_from = Some(t(2));
        d.valid_until = Some(t(2));
        assert_eq!(err(&d, "valid_until"), "must be strictly after valid_from");
        d.valid_until = Some(t(2) + chrono::Duration::microseconds(1));
        assert!(d.validate().is_ok());
    }

    #[test]
    fn cap_rules() {
        let mut d = coupon();
        d.redemption_cap = Some(1);
        assert!(d.validate().is_ok());
        d.redemption_cap = Some(CAP_MAX);
        assert!(d.validate().is_ok());
        for bad in [0, -1, CAP_MAX + 1] {
            d.redemption_cap = Some(bad);
            assert!(err(&d, "redemption_cap").starts_with("a positive whole number"));
        }
    }

    #[test]
    fn state_defaults_and_choices() {
        let mut d = coupon();
        d.state = Some("paused".into());
        assert_eq!(d.validate().unwrap().state, DealState::Paused);
        d.state = Some("expired".into());
        assert_eq!(err(&d, "state"), "a new deal cannot start expired");
        d.state = Some("live".into());
        assert_eq!(err(&d, "state"), "must be draft, active, paused or expired");
    }

    #[test]
    fn every_error_is_reported_at_once() {
        let d = DealDraft::default();
        let e = d.validate().unwrap_err();
        let fields: Vec<&str> = e.0.iter().map(|f| f.field).collect();
        assert_eq!(
            fields,
            [
                "partner",
                "title",
                "kind",
                "audience_scope",
                "valid_from",
                "valid_until"
            ]
        );
    }

    #[test]
    fn state_machine_allows_exactly_the_spec() {
        use DealState::*;
        use StateTrigger::*;
        let allowed = [
            (Draft, Active, Operator),
            (Draft, Paused, Operator),
            (Active, Paused, Operator),
            (Paused, Active, Operator),
            (Paused, Expired, Operator),
            (Active, Expired, ExpiryJob),
        ];
        for &from in DealState::ALL {
            for &to in DealState::ALL {
                for trig in [Operator, ExpiryJob] {
                    assert_eq!(
                        from.check_transition(to, trig).is_ok(),
                        allowed.contains(&(from, to, trig)),
                        "{from} -> {to} by {trig:?}"
                    );
                }
            }
        }
        assert!(
            Expired
                .check_transition(Active, Operator)
                .unwrap_err()
                .contains("final")
        );
    }
}
