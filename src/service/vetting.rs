//! Automated partner vetting checks (SPEC §1.3).
//!
//! Four checks, each ending in `pass`, `warn` or `fail` with a one-line detail and the data it
//! saw:
//! - `website`: the website answers 2xx over HTTPS (status, final URL after redirects, TLS);
//!   a site that answers only over plain http is a warning;
//! - `logo`: the logo answers with `image/png` or `image/svg+xml` and a sane size;
//! - `email_domain`: the contact e-mail's domain is the website's domain or a subdomain of it
//!   (otherwise flagged as a warning);
//! - `duplicate_domain`: no other live partner has the same normalized domain.
//!
//! The HTTP checks use one client per run with a timeout, a body-size limit (bodies are
//! streamed and reading stops at the limit) and a redirect policy that follows at most
//! `max_redirects` redirects, and only to http or https. No transaction is held while the
//! checks run; the results are stored afterwards in one transaction, with an audit row.
mod client;
mod describe;
mod web;

use super::{Desk, record::Change};
use crate::domain::Permission;
use crate::domain::partner::{domain_of, email_domain, email_matches_domain};
use crate::error::{Error, Result};
use crate::store::{self, checks::NewCheck, partners::Partner};
use client::build_client;
use serde_json::{Value, json};
use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use web::{check_logo, check_website};

pub use crate::store::checks::{CHECK_NAMES, CheckResult};

/// Limits of the HTTP checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VettingConfig {
    /// For each request, from connecting until the body has been read.
    pub timeout: Duration,
    /// Reading a body stops here; a bigger body is reported.
    pub max_body_bytes: u64,
    /// Redirects followed per request (only to http and https).
    pub max_redirects: usize,
    /// Extra trusted root certificates (PEM), on top of the system's.
    pub extra_root_certs_pem: Vec<Vec<u8>>,
}

impl Default for VettingConfig {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(10),
            max_body_bytes: 2 * 1024 * 1024,
            max_redirects: 5,
            extra_root_certs_pem: Vec::new(),
        }
    }
}

/// The verdict of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Outcome {
    Pass,
    Warn,
    Fail,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Pass => "pass",
            Outcome::Warn => "warn",
            Outcome::Fail => "fail",
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A check's result before it is stored.
#[derive(Debug, Clone, PartialEq)]
struct Verdict {
    check_name: &'static str,
    outcome: Outcome,
    detail: String,
    data: Value,
}

impl Verdict {
    fn new(
        check_name: &'static str,
        outcome: Outcome,
        detail: impl Into<String>,
        data: Value,
    ) -> Self {
        Self {
            check_name,
            outcome,
            detail: detail.into(),
            data,
        }
    }
}

impl Desk {
    /// Runs the four checks without holding any transaction open, then stores all results
    /// (and one audit row "partner.checks") in one transaction. `progress(done, total,
    /// check_name)` is called as each check finishes, `done` counting up to `total`.
    pub async fn run_vetting_checks(
        &self,
        partner_id: i64,
        cfg: &VettingConfig,
        progress: &(dyn Fn(usize, usize, &str) + Send + Sync),
    ) -> Result<Vec<CheckResult>> {
        self.actor().require(Permission::ManagePartners)?;
        let client = build_client(cfg)?;
        let partner = {
            let mut conn = self.pool().acquire().await?;
            store::partners::get(&mut conn, partner_id)
                .await?
                .ok_or_else(|| Error::not_found("partner", partner_id))?
        };
        let domain = partner
            .domain
            .clone()
            .or_else(|| partner.website_url.as_deref().and_then(domain_of));

        let total = CHECK_NAMES.len();
        let done = AtomicUsize::new(0);
        let finished = |v: Verdict| {
            let n = done.fetch_add(1, Ordering::SeqCst) + 1;
            progress(n, total, v.check_name);
            v
        };

        let email = finished(check_email_domain(
            partner.contact_email.as_deref(),
            domain.as_deref(),
        ));
        let duplicate = finished(
            self.check_duplicate_domain(&partner, domain.as_deref())
                .await?,
        );
        let (website, logo) = tokio::join!(
            async { finished(check_website(&client, cfg, partner.website_url.as_deref()).await) },
            async { finished(check_logo(&client, cfg, partner.logo_url.as_deref()).await) },
        );
        let verdicts = [website, logo, email, duplicate];

        let mut tx = self.pool().begin().await?;
        store::partners::get_for_share(&mut tx, partner_id)
            .await?
            .ok_or_else(|| Error::not_found("partner", partner_id))?;
        let mut results = Vec::with_capacity(verdicts.len());
        for v in &verdicts {
            let stored = store::checks::insert(
                &mut tx,
                partner_id,
                &NewCheck {
                    check_name: v.check_name,
                    outcome: v.outcome.as_str(),
                    detail: &v.detail,
                    data: &v.data,
                },
                &self.actor().login,
            )
            .await?;
            results.push(stored);
        }
        let summary = json!({
            "checks": results
                .iter()
                .map(|r| json!({ "check_name": r.check_name, "outcome": r.outcome, "detail": r.detail }))
                .collect::<Vec<_>>(),
        });
        // Results of checks, not a state change of the partner: no event.
        Change::new(self.actor(), "partner.checks", "partner", partner_id)
            .after(&summary)
            .no_event()
            .commit(tx)
            .await?;
        tracing::info!(
            partner_id,
            outcomes = ?results.iter().map(|r| (r.check_name.as_str(), r.outcome.as_str())).collect::<Vec<_>>(),
            "vetting checks stored"
        );
        Ok(results)
    }

    /// The most recent result of each check for a partner (empty if never run), in
    /// [`CHECK_NAMES`] order.
    pub async fn latest_checks(&self, partner_id: i64) -> Result<Vec<CheckResult>> {
        let mut conn = self.pool().acquire().await?;
        Ok(store::checks::latest(&mut conn, partner_id).await?)
    }

    async fn check_duplicate_domain(
        &self,
        partner: &Partner,
        domain: Option<&str>,
    ) -> Result<Verdict> {
        const NAME: &str = "duplicate_domain";
        let Some(domain) = domain else {
            return Ok(Verdict::new(
                NAME,
                Outcome::Pass,
                "no website domain to compare",
                json!({ "domain": null }),
            ));
        };
        let mut conn = self.pool().acquire().await?;
        let other = store::partners::find_by_domain(&mut conn, domain, Some(partner.id)).await?;
        Ok(match other {
            Some((other_id, other_name)) => Verdict::new(
                NAME,
                Outcome::Fail,
                format!("the domain {domain} is also used by partner {other_name} (#{other_id})"),
                json!({ "domain": domain, "other_id": other_id, "other_name": other_name }),
            ),
            None => Verdict::new(
                NAME,
                Outcome::Pass,
                format!("no other partner uses {domain}"),
                json!({ "domain": domain }),
            ),
        })
    }
}

fn check_email_domain(email: Option<&str>, domain: Option<&str>) -> Verdict {
    const NAME: &str = "email_domain";
    let Some(email) = email else {
        return Verdict::new(
            NAME,
            Outcome::Warn,
            "no contact email",
            json!({ "email_domain": null, "website_domain": domain }),
        );
    };
    let ed = email_domain(email);
    let Some(domain) = domain else {
        return Verdict::new(
            NAME,
            Outcome::Warn,
            format!(
                "no website domain to compare the contact email domain {} with",
                ed.as_deref().unwrap_or("?")
            ),
            json!({ "email_domain": ed, "website_domain": null }),
        );
    };
    let matches = email_matches_domain(email, domain);
    let data = json!({ "email_domain": ed, "website_domain": domain, "matches": matches });
    let ed = ed.unwrap_or_default();
    if matches {
        Verdict::new(
            NAME,
            Outcome::Pass,
            format!("contact email domain {ed} matches the website domain {domain}"),
            data,
        )
    } else {
        Verdict::new(
            NAME,
            Outcome::Warn,
            format!(
                "flagged: contact email domain {ed} does not match the website domain {domain}"
            ),
            data,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_domain_check() {
        let v = check_email_domain(Some("a@mail.northwind.example"), Some("northwind.example"));
        assert_eq!(v.outcome, Outcome::Pass);
        let v = check_email_domain(Some("a@gmail.com"), Some("northwind.example"));
        assert_eq!(v.outcome, Outcome::Warn);
        assert!(v.detail.contains("gmail.com") && v.detail.contains("northwind.example"));
        let v = check_email_domain(None, Some("northwind.example"));
        assert_eq!(
            (v.outcome, v.detail.as_str()),
            (Outcome::Warn, "no contact email")
        );
    }

    #[test]
    fn default_config() {
        let c = VettingConfig::default();
        assert_eq!(c.timeout, Duration::from_secs(10));
        assert_eq!(c.max_body_bytes, 2 * 1024 * 1024);
        assert_eq!(c.max_redirects, 5);
        assert!(c.extra_root_certs_pem.is_empty());
    }
}
