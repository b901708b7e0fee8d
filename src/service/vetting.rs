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

use super::{Desk, record::Change};
use crate::domain::Permission;
use crate::domain::partner::{domain_of, email_domain, email_matches_domain};
use crate::error::{Error, Result};
use crate::store::{self, checks::NewCheck, partners::Partner};
use serde_json::{Value, json};
use std::error::Error as StdError;
use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use url::Url;

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

// HTTP ----------------------------------------------------------------------------------------

/// Why the redirect policy stopped a request.
#[derive(Debug)]
enum RedirectRefused {
    Scheme { url: String },
    TooMany { max: usize, url: String },
}

impl fmt::Display for RedirectRefused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Scheme { url } => write!(
                f,
                "redirect to {url} refused (only http and https are followed)"
            ),
            Self::TooMany { max, url } => {
                write!(f, "more than {max} redirects (the next was to {url})")
            }
        }
    }
}

impl StdError for RedirectRefused {}

fn build_client(cfg: &VettingConfig) -> Result<reqwest::Client> {
    let max = cfg.max_redirects;
    let policy = reqwest::redirect::Policy::custom(move |attempt| {
        let scheme = attempt.url().scheme();
        if scheme != "http" && scheme != "https" {
            let url = attempt.url().to_string();
            attempt.error(RedirectRefused::Scheme { url })
        } else if attempt.previous().len() > max {
            // `previous` holds the first URL and every redirect followed so far.
            let url = attempt.url().to_string();
            attempt.error(RedirectRefused::TooMany { max, url })
        } else {
            attempt.follow()
        }
    });
    let mut roots = Vec::new();
    for (i, pem) in cfg.extra_root_certs_pem.iter().enumerate() {
        let certs = reqwest::Certificate::from_pem_bundle(pem).map_err(|e| {
            Error::Config(format!(
                "vetting: extra root certificate {} is not valid PEM: {}",
                i + 1,
                innermost(&e)
            ))
        })?;
        if certs.is_empty() {
            return Err(Error::Config(format!(
                "vetting: extra root certificate {} holds no certificate",
                i + 1
            )));
        }
        roots.extend(certs);
    }
    reqwest::Client::builder()
        .timeout(cfg.timeout)
        .redirect(policy)
        .user_agent(concat!(
            "partnerdesk/",
            env!("CARGO_PKG_VERSION"),
            " (partner vetting)"
        ))
        .tls_certs_merge(roots)
        .build()
        .map_err(|e| {
            Error::Config(format!(
                "vetting: cannot build the HTTP client: {}",
                innermost(&e)
            ))
        })
}

/// What a GET came back with (the body read up to the limit, if asked).
#[derive(Debug)]
struct Answer {
    status: reqwest::StatusCode,
    final_url: Url,
    content_type: Option<String>,
    content_length: Option<u64>,
    body: Option<BodyRead>,
}

#[derive(Debug)]
struct BodyRead {
    bytes_read: u64,
    /// The body went past the limit (reading stopped there) or declared a length past it.
    too_large: bool,
}

impl Answer {
    fn tls(&self) -> bool {
        self.final_url.scheme() == "https"
    }
}

/// GETs a URL. The body is read (streamed, stopping past `max_body_bytes`) only when the
/// answer is 2xx and `want_body` accepts it. Errors come back as a one-line detail.
async fn get(
    client: &reqwest::Client,
    cfg: &VettingConfig,
    url: &Url,
    want_body: impl Fn(&reqwest::Response) -> bool,
) -> Result<Answer, String> {
    let mut resp = client
        .get(url.clone())
        .send()
        .await
        .map_err(|e| describe(&e, cfg))?;
    let status = resp.status();
    let final_url = resp.url().clone();
    let content_type = resp
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    let content_length = resp.content_length();
    let body = if status.is_success() && want_body(&resp) {
        Some(read_capped(&mut resp, cfg).await?)
    } else {
        None
    };
    Ok(Answer {
        status,
        final_url,
        content_type,
        content_length,
        body,
    })
}

/// Reads at most `max_body_bytes` (plus the chunk that crossed the limit), then stops.
async fn read_capped(
    resp: &mut reqwest::Response,
    cfg: &VettingConfig,
) -> Result<BodyRead, String> {
    if resp
        .content_length()
        .is_some_and(|n| n > cfg.max_body_bytes)
    {
        return Ok(BodyRead {
            bytes_read: 0,
            too_large: true,
        });
    }
    let mut bytes_read = 0u64;
    while let Some(chunk) = resp.chunk().await.map_err(|e| describe(&e, cfg))? {
        bytes_read += chunk.len() as u64;
        if bytes_read > cfg.max_body_bytes {
            return Ok(BodyRead {
                bytes_read,
                too_large: true,
            });
        }
    }
    Ok(BodyRead {
        bytes_read,
        too_large: false,
    })
}

fn too_large_detail(cfg: &VettingConfig, a: &Answer) -> String {
    match a.content_length {
        Some(n) if n > cfg.max_body_bytes => format!(
            "body larger than {} bytes (Content-Length {n})",
            cfg.max_body_bytes
        ),
        _ => format!(
            "body larger than {} bytes (stopped reading)",
            cfg.max_body_bytes
        ),
    }
}

fn answer_data(url: &Url, a: &Answer) -> Value {
    json!({
        "url": url.as_str(),
        "status": a.status.as_u16(),
        "final_url": a.final_url.as_str(),
        "tls": a.tls(),
        "content_type": a.content_type,
        "content_length": a.content_length,
        "bytes_read": a.body.as_ref().map(|b| b.bytes_read),
        "too_large": a.body.as_ref().map(|b| b.too_large),
    })
}

fn http_status(s: reqwest::StatusCode) -> String {
    match s.canonical_reason() {
        Some(r) => format!("HTTP {} {r}", s.as_u16()),
        None => format!("HTTP {}", s.as_u16()),
    }
}

async fn check_website(
    client: &reqwest::Client,
    cfg: &VettingConfig,
    url: Option<&str>,
) -> Verdict {
    const NAME: &str = "website";
    let Some(raw) = url else {
        return Verdict::new(
            NAME,
            Outcome::Fail,
            "no website URL",
            json!({ "url": null }),
        );
    };
    let url = match Url::parse(raw.trim()) {
        Ok(u) if matches!(u.scheme(), "http" | "https") => u,
        _ => {
            return Verdict::new(
                NAME,
                Outcome::Fail,
                format!("not an http(s) URL: {raw}"),
                json!({ "url": raw }),
            );
        }
    };

    // A plain-http address: does the site answer over HTTPS all the same?
    let mut https_error = None;
    if url.scheme() == "http" {
        let mut https = url.clone();
        if https.set_scheme("https").is_ok() {
            match get(client, cfg, &https, |_| true).await {
                Ok(a) if a.status.is_success() && a.tls() => {
                    let mut v = website_verdict(cfg, &https, &a);
                    v.data["requested_url"] = json!(url.as_str());
                    return v;
                }
                Ok(a) if a.status.is_success() => {
                    https_error = Some(format!("redirected to plain http {}", a.final_url));
                }
                Ok(a) => https_error = Some(http_status(a.status)),
                Err(e) => https_error = Some(e),
            }
        }
    }

    let mut v = match get(client, cfg, &url, |_| true).await {
        Ok(a) => website_verdict(cfg, &url, &a),
        Err(e) => Verdict::new(
            NAME,
            Outcome::Fail,
            e.clone(),
            json!({ "url": url.as_str(), "error": e }),
        ),
    };
    if let Some(e) = https_error {
        v.data["https_url_error"] = json!(e);
        if v.outcome == Outcome::Warn && v.data["tls"] == json!(false) {
            v.detail = format!("{} (HTTPS: {e})", v.detail);
        }
    }
    v
}

fn website_verdict(cfg: &VettingConfig, url: &Url, a: &Answer) -> Verdict {
    const NAME: &str = "website";
    let data = answer_data(url, a);
    if !a.status.is_success() {
        let detail = if a.final_url == *url {
            http_status(a.status)
        } else {
            format!("{} at {}", http_status(a.status), a.final_url)
        };
        return Verdict::new(NAME, Outcome::Fail, detail, data);
    }
    let answered = format!("{} at {}", http_status(a.status), a.final_url);
    if !a.tls() {
        return Verdict::new(
            NAME,
            Outcome::Warn,
            format!("answers only over plain http: {answered}"),
            data,
        );
    }
    if a.body.as_ref().is_some_and(|b| b.too_large) {
        return Verdict::new(
            NAME,
            Outcome::Warn,
            format!("HTTPS ok ({answered}), but {}", too_large_detail(cfg, a)),
            data,
        );
    }
    Verdict::new(NAME, Outcome::Pass, format!("HTTPS ok: {answered}"), data)
}

const LOGO_TYPES: [&str; 2] = ["image/png", "image/svg+xml"];

/// `image/PNG; charset=x` → `image/png`.
fn mime_essence(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

async fn check_logo(client: &reqwest::Client, cfg: &VettingConfig, url: Option<&str>) -> Verdict {
    const NAME: &str = "logo";
    let Some(raw) = url else {
        return Verdict::new(NAME, Outcome::Warn, "no logo URL", json!({ "url": null }));
    };
    let url = match Url::parse(raw.trim()) {
        Ok(u) if matches!(u.scheme(), "http" | "https") => u,
        _ => {
            return Verdict::new(
                NAME,
                Outcome::Fail,
                format!("not an http(s) URL: {raw}"),
                json!({ "url": raw }),
            );
        }
    };
    let is_image = |r: &reqwest::Response| {
        r.headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|t| LOGO_TYPES.contains(&mime_essence(t).as_str()))
    };
    let a = match get(client, cfg, &url, is_image).await {
        Ok(a) => a,
        Err(e) => {
            return Verdict::new(
                NAME,
                Outcome::Fail,
                e.clone(),
                json!({ "url": url.as_str(), "error": e }),
            );
        }
    };
    let data = answer_data(&url, &a);
    if !a.status.is_success() {
        return Verdict::new(NAME, Outcome::Fail, http_status(a.status), data);
    }
    let expected = LOGO_TYPES.join(" or ");
    let Some(ct) = a.content_type.as_deref() else {
        return Verdict::new(
            NAME,
            Outcome::Fail,
            format!("no Content-Type; expected {expected}"),
            data,
        );
    };
    let essence = mime_essence(ct);
    if !LOGO_TYPES.contains(&essence.as_str()) {
        return Verdict::new(
            NAME,
            Outcome::Fail,
            format!("wrong content type {essence}; expected {expected}"),
            data,
        );
    }
    let Some(body) = &a.body else {
        return Verdict::new(NAME, Outcome::Fail, "the body was not read", data);
    };
    if body.too_large {
        return Verdict::new(NAME, Outcome::Fail, too_large_detail(cfg, &a), data);
    }
    if body.bytes_read == 0 {
        return Verdict::new(NAME, Outcome::Fail, format!("empty {essence} body"), data);
    }
    Verdict::new(
        NAME,
        Outcome::Pass,
        format!("{essence}, {} bytes", body.bytes_read),
        data,
    )
}

// Describing errors ----------------------------------------------------------------------------

/// One line for a failed request: a timeout, a refused redirect, a TLS failure, …
fn describe(e: &reqwest::Error, cfg: &VettingConfig) -> String {
    if let Some(r) = find_source::<RedirectRefused>(e) {
        return r.to_string();
    }
    if e.is_timeout() {
        return format!("timed out after {}", human_duration(cfg.timeout));
    }
    let https = e.url().is_some_and(|u| u.scheme() == "https");
    let kinds = io_error_kinds(e);
    {
        use std::io::ErrorKind as K;
        if kinds.contains(&K::ConnectionRefused) {
            return "connection refused".into();
        }
        // rustls reports handshake failures (bad certificate, a peer that does not speak TLS)
        // as invalid data, or as an early end of the stream.
        if https
            && e.is_connect()
            && kinds
                .iter()
                .any(|k| matches!(k, K::InvalidData | K::UnexpectedEof))
        {
            return format!("TLS handshake failed: {}", innermost(e));
        }
    }
    if e.is_connect() {
        return format!("cannot connect: {}", innermost(e));
    }
    if e.is_body() || e.is_decode() {
        return format!("error reading the body: {}", innermost(e));
    }
    format!("request failed: {}", innermost(e))
}

fn find_source<'a, T: StdError + 'static>(e: &'a (dyn StdError + 'static)) -> Option<&'a T> {
    let mut cur: Option<&(dyn StdError + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(t) = err.downcast_ref::<T>() {
            return Some(t);
        }
        cur = err.source();
    }
    None
}

/// The kinds of every I/O error in the chain, including I/O errors wrapped inside I/O errors
/// (whose `source()` skips the wrapped error itself).
fn io_error_kinds(e: &(dyn StdError + 'static)) -> Vec<std::io::ErrorKind> {
    let mut kinds = Vec::new();
    let mut cur: Option<&(dyn StdError + 'static)> = Some(e);
    while let Some(err) = cur {
        let mut inner = Some(err);
        while let Some(io) = inner.and_then(|i| i.downcast_ref::<std::io::Error>()) {
            kinds.push(io.kind());
            inner = io.get_ref().map(|i| i as &(dyn StdError + 'static));
        }
        cur = err.source();
    }
    kinds
}

/// The innermost cause's message (the most specific one).
fn innermost(e: &(dyn StdError + 'static)) -> String {
    let mut cur = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}

/// `10 s`, `300 ms`.
fn human_duration(d: Duration) -> String {
    if d.subsec_millis() == 0 && d.as_secs() > 0 {
        format!("{} s", d.as_secs())
    } else {
        format!("{} ms", d.as_millis())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_naturally() {
        assert_eq!(human_duration(Duration::from_secs(10)), "10 s");
        assert_eq!(human_duration(Duration::from_millis(300)), "300 ms");
        assert_eq!(human_duration(Duration::from_millis(1500)), "1500 ms");
    }

    #[test]
    fn mime_essence_drops_parameters() {
        assert_eq!(mime_essence("Image/PNG; charset=binary"), "image/png");
        assert_eq!(mime_essence("text/html"), "text/html");
    }

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
