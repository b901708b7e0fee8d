//! Failed requests of the vetting checks described in one line: a timeout, a refused
//! redirect, a refused connection, a TLS failure, or the innermost cause.

use super::VettingConfig;
use super::client::RedirectRefused;
use std::error::Error as StdError;
use std::time::Duration;

/// One line for a failed request: a timeout, a refused redirect, a TLS failure, …
pub(super) fn describe(e: &reqwest::Error, cfg: &VettingConfig) -> String {
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
pub(super) fn innermost(e: &(dyn StdError + 'static)) -> String {
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
}
