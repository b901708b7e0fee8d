//! The `website` and `logo` checks: what each URL answers over HTTP(S), judged as a verdict
//! with the data it saw.

use super::client::{Answer, answer_data, get, http_status, too_large_detail};
use super::{Outcome, Verdict, VettingConfig};
use serde_json::json;
use url::Url;

pub(super) async fn check_website(
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

pub(super) async fn check_logo(
    client: &reqwest::Client,
    cfg: &VettingConfig,
    url: Option<&str>,
) -> Verdict {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mime_essence_drops_parameters() {
        assert_eq!(mime_essence("Image/PNG; charset=binary"), "image/png");
        assert_eq!(mime_essence("text/html"), "text/html");
    }
}
