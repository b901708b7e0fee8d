//! The HTTP side of the vetting checks: the client with its timeout, root certificates and
//! redirect policy, a GET whose body is read only up to the size limit, and what its answer
//! shows.

use super::VettingConfig;
use super::describe::{describe, innermost};
use crate::error::{Error, Result};
use serde_json::{Value, json};
use std::error::Error as StdError;
use std::fmt;
use url::Url;

/// Why the redirect policy stopped a request.
#[derive(Debug)]
pub(super) enum RedirectRefused {
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

pub(super) fn build_client(cfg: &VettingConfig) -> Result<reqwest::Client> {
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
pub(super) struct Answer {
    pub(super) status: reqwest::StatusCode,
    pub(super) final_url: Url,
    pub(super) content_type: Option<String>,
    pub(super) content_length: Option<u64>,
    pub(super) body: Option<BodyRead>,
}

#[derive(Debug)]
pub(super) struct BodyRead {
    pub(super) bytes_read: u64,
    /// The body went past the limit (reading stopped there) or declared a length past it.
    pub(super) too_large: bool,
}

impl Answer {
    pub(super) fn tls(&self) -> bool {
        self.final_url.scheme() == "https"
    }
}

/// GETs a URL. The body is read (streamed, stopping past `max_body_bytes`) only when the
/// answer is 2xx and `want_body` accepts it. Errors come back as a one-line detail.
pub(super) async fn get(
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

pub(super) fn too_large_detail(cfg: &VettingConfig, a: &Answer) -> String {
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

pub(super) fn answer_data(url: &Url, a: &Answer) -> Value {
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

pub(super) fn http_status(s: reqwest::StatusCode) -> String {
    match s.canonical_reason() {
        Some(r) => format!("HTTP {} {r}", s.as_u16()),
        None => format!("HTTP {}", s.as_u16()),
    }
}
