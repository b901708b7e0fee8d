//! Partners (SPEC §1.3): fields, limits, normalized domain, verification states.

use super::validation::{
    Lines, ValidationErrors, clean_list, http_url, max_len, no_control_in, non_empty, required_text,
};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

pub const NAME_MAX: usize = 255;
pub const URL_MAX: usize = 2048;
pub const EMAIL_MAX: usize = 254;
pub const REGION_MAX: usize = 64;
pub const NOTES_MAX: usize = 10_000;
pub const CATEGORY_MAX: usize = 64;
pub const CATEGORIES_MAX: usize = 20;

/// What an operator types for a partner; every field is raw text until validated.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartnerDraft {
    pub legal_name: String,
    pub display_name: String,
    pub logo_url: Option<String>,
    pub website_url: Option<String>,
    pub contact_email: Option<String>,
    pub categories: Vec<String>,
    pub region: Option<String>,
    pub notes: Option<String>,
}

/// A partner that passed every rule: trimmed, with its normalized website domain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ValidPartner {
    pub legal_name: String,
    pub display_name: String,
    pub logo_url: Option<String>,
    pub website_url: Option<String>,
    pub domain: Option<String>,
    pub contact_email: Option<String>,
    pub categories: Vec<String>,
    pub region: Option<String>,
    pub notes: Option<String>,
}

impl PartnerDraft {
    pub fn validate(&self) -> Result<ValidPartner, ValidationErrors> {
        let mut e = ValidationErrors::new();
        self.refuse_control_characters(&mut e);
        let legal_name = required_text(&mut e, "legal_name", &self.legal_name, NAME_MAX);
        let display_name = required_text(&mut e, "display_name", &self.display_name, NAME_MAX);

        let logo_url = non_empty(self.logo_url.as_deref());
        if let Some(u) = &logo_url {
            http_url(&mut e, "logo_url", u, URL_MAX);
        }
        let website_url = non_empty(self.website_url.as_deref());
        let mut domain = None;
        if let Some(u) = &website_url
            && let Some(parsed) = http_url(&mut e, "website_url", u, URL_MAX)
        {
            domain = normalize_domain(&parsed);
            if domain.is_none() {
                e.push("website_url", "must name a host like example.com");
            }
        }
        let contact_email = non_empty(self.contact_email.as_deref());
        if let Some(m) = &contact_email
            && let Err(rule) = check_email(m)
        {
            e.push("contact_email", rule);
        }
        let categories = clean_list(
            &mut e,
            "categories",
            &self.categories,
            CATEGORY_MAX,
            CATEGORIES_MAX,
        );
        let region = non_empty(self.region.as_deref());
        if let Some(r) = &region {
            max_len(&mut e, "region", r, REGION_MAX);
        }
        let notes = non_empty(self.notes.as_deref());
        if let Some(n) = &notes {
            max_len(&mut e, "notes", n, NOTES_MAX);
        }
        e.into_result(ValidPartner {
            legal_name,
            display_name,
            logo_url,
            website_url,
            domain,
            contact_email,
            categories,
            region,
            notes,
        })
    }
}

impl PartnerDraft {
    fn refuse_control_characters(&self, e: &mut ValidationErrors) {
        let one = Lines::One;
        let mut fields = vec![
            ("legal_name", Some(self.legal_name.as_str()), one),
            ("display_name", Some(self.display_name.as_str()), one),
            ("logo_url", self.logo_url.as_deref(), one),
            ("website_url", self.website_url.as_deref(), one),
            ("contact_email", self.contact_email.as_deref(), one),
            ("region", self.region.as_deref(), one),
            ("notes", self.notes.as_deref(), Lines::Many),
        ];
        fields.extend(
            self.categories
                .iter()
                .map(|c| ("categories", Some(c.as_str()), one)),
        );
        no_control_in(e, &fields);
    }
}

/// The normalized domain of a website: lowercase host (IDNA as punycode), no `www.`, no trailing dot.
pub fn normalize_domain(url: &url::Url) -> Option<String> {
    let host = url.host_str()?.trim_end_matches('.').to_ascii_lowercase();
    let host = host.strip_prefix("www.").unwrap_or(&host).to_owned();
    if host.is_empty() { None } else { Some(host) }
}

/// Normalized domain of a URL given as text; `None` if it does not parse.
pub fn domain_of(url: &str) -> Option<String> {
    url::Url::parse(url.trim())
        .ok()
        .and_then(|u| normalize_domain(&u))
}

/// The domain part of an e-mail address, lowercased.
pub fn email_domain(email: &str) -> Option<String> {
    email
        .rsplit_once('@')
        .map(|(_, d)| d.trim_end_matches('.').to_ascii_lowercase())
}

fn check_email(m: &str) -> Result<(), String> {
    let n = m.chars().count();
    if n > EMAIL_MAX {
        return Err(format!("at most {EMAIL_MAX} characters (got {n})"));
    }
    let Some((local, domain)) = m.rsplit_once('@') else {
        return Err("must be an address like name@example.com".into());
    };
    let domain_ok = domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && domain
            .chars()
            .all(|c| c.is_alphanumeric() || c == '.' || c == '-');
    if local.is_empty() || m.chars().any(char::is_whitespace) || !domain_ok {
        return Err("must be an address like name@example.com".into());
    }
    Ok(())
}

/// Is the e-mail's domain the website's domain or one of its subdomains (either way)?
pub fn email_matches_domain(email: &str, domain: &str) -> bool {
    let Some(ed) = email_domain(email) else {
        return false;
    };
    let ed = ed.strip_prefix("www.").unwrap_or(&ed);
    ed == domain || ed.ends_with(&format!(".{domain}")) || domain.ends_with(&format!(".{ed}"))
}

/// Verification state: `pending → verified → disabled → pending`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VerificationState {
    Pending,
    Verified,
    Disabled,
}

impl VerificationState {
    pub const ALL: [VerificationState; 3] = [Self::Pending, Self::Verified, Self::Disabled];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Verified => "verified",
            Self::Disabled => "disabled",
        }
    }

    /// Allowed moves, or why not.
    pub fn check_transition(self, to: VerificationState) -> Result<(), String> {
        use VerificationState::*;
        match (self, to) {
            (Pending, Verified) | (Verified, Disabled) | (Disabled, Pending) => Ok(()),
            (a, b) if a == b => Err(format!("the partner is already {}", a.as_str())),
            (Pending, Disabled) => Err("only a verified partner can be disabled".into()),
            (Verified, Pending) => {
                Err("a verified partner must be disabled before it is re-vetted".into())
            }
            (Disabled, Verified) => {
                Err("re-vet a disabled partner first (disabled → pending → verified)".into())
            }
            _ => unreachable!("all pairs are covered"),
        }
    }
}

impl fmt::Display for VerificationState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl TryFrom<String> for VerificationState {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        s.parse()
    }
}

impl FromStr for VerificationState {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| format!("unknown verification state '{s}'"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft() -> PartnerDraft {
        PartnerDraft {
            legal_name: "Northwind Outfitters LLC".into(),
            display_name: "Northwind".into(),
            website_url: Some("https://WWW.Northwind.example/shop".into()),
            contact_email: Some("deals@northwind.example".into()),
            ..Default::default()
        }
    }

    #[test]
    fn control_characters_are_refused_but_notes_may_span_lines() {
        let mut d = draft();
        d.display_name = "North\u{1b}[2Jwind".into();
        d.categories = vec!["ok".into(), "b\u{7}ell".into()];
        d.notes = Some("first line\nsecond line".into());
        let e = d.validate().unwrap_err();
        assert_eq!(
            e.for_field("display_name"),
            Some("must not contain control characters (found U+001B at character 6)")
        );
        assert!(e.for_field("categories").unwrap().contains("U+0007"));
        assert!(e.for_field("notes").is_none());
        d.display_name = "Northwind".into();
        d.categories.clear();
        d.notes = Some("nul\0".into());
        assert!(
            d.validate()
                .unwrap_err()
                .for_field("notes")
                .unwrap()
                .contains("U+0000")
        );
    }

    #[test]
    fn valid_partner_gets_normalized_domain() {
        let v = draft().validate().unwrap();
        assert_eq!(v.domain.as_deref(), Some("northwind.example"));
    }

    #[test]
    fn names_at_limit_pass_and_one_past_fails() {
        let mut d = draft();
        d.legal_name = "x".repeat(255);
        d.display_name = "y".repeat(255);
        assert!(d.validate().is_ok());
        d.legal_name = "x".repeat(256);
        d.display_name = "y".repeat(256);
        let e = d.validate().unwrap_err();
        assert_eq!(
            e.for_field("legal_name"),
            Some("at most 255 characters (got 256)")
        );
        assert_eq!(
            e.for_field("display_name"),
            Some("at most 255 characters (got 256)")
        );
    }

    #[test]
    fn names_are_required() {
        let d = PartnerDraft {
            legal_name: "  ".into(),
            ..Default::default()
        };
        let e = d.validate().unwrap_err();
        assert_eq!(e.for_field("legal_name"), Some("required"));
        assert_eq!(e.for_field("display_name"), Some("required"));
    }

    #[test]
    fn urls_and_email_are_checked() {
        let mut d = draft();
        d.logo_url = Some("javascript:alert(1)".into());
        d.website_url = Some("northwind".into());
        d.contact_email = Some("nobody".into());
        let e = d.validate().unwrap_err();
        assert!(e.for_field("logo_url").unwrap().contains("http(s)"));
        assert!(e.for_field("website_url").unwrap().contains("http(s)"));
        assert!(
            e.for_field("contact_email")
                .unwrap()
                .contains("name@example.com")
        );
    }

    #[test]
    fn url_length_limit() {
        let mut d = draft();
        let base = "https://a.example/";
        d.logo_url = Some(format!("{base}{}", "p".repeat(URL_MAX - base.len())));
        assert!(d.validate().is_ok());
        d.logo_url = Some(format!("{base}{}", "p".repeat(URL_MAX - base.len() + 1)));
        assert_eq!(
            d.validate().unwrap_err().for_field("logo_url"),
            Some("at most 2048 characters (got 2049)")
        );
    }

    #[test]
    fn domain_normalization() {
        assert_eq!(
            domain_of("http://www.Example.COM.:8080/a").as_deref(),
            Some("example.com")
        );
        assert_eq!(
            domain_of("https://shop.example.com").as_deref(),
            Some("shop.example.com")
        );
        assert_eq!(
            domain_of("https://bücher.example").as_deref(),
            Some("xn--bcher-kva.example")
        );
    }

    #[test]
    fn email_domain_matching() {
        assert!(email_matches_domain(
            "a@northwind.example",
            "northwind.example"
        ));
        assert!(email_matches_domain(
            "a@mail.northwind.example",
            "northwind.example"
        ));
        assert!(!email_matches_domain("a@gmail.com", "northwind.example"));
    }

    #[test]
    fn verification_transitions() {
        use VerificationState::*;
        let allowed = [
            (Pending, Verified),
            (Verified, Disabled),
            (Disabled, Pending),
        ];
        for from in VerificationState::ALL {
            for to in VerificationState::ALL {
                assert_eq!(
                    from.check_transition(to).is_ok(),
                    allowed.contains(&(from, to)),
                    "{from} -> {to}"
                );
            }
        }
    }
}
