//! Webhooks (SPEC §1.8): Standard Webhooks secrets and signatures, the retry schedule, and
//! what an answer means. Plain Rust, no I/O.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use chrono::{DateTime, Utc};
use hmac::{KeyInit, Mac};
use std::time::Duration;

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

/// The prefix of a Standard Webhooks secret.
pub const SECRET_PREFIX: &str = "whsec_";
/// Random bytes in a new secret (the specification asks for 24 to 64).
pub const SECRET_BYTES: usize = 32;
/// How long a rotated-out secret still signs (both signatures are sent meanwhile).
pub const ROTATION_OVERLAP: chrono::Duration = chrono::Duration::hours(24);
/// An endpoint whose every attempt failed for this long is disabled.
pub const FAILING_LIMIT: Duration = Duration::from_secs(3 * 24 * 3600);

/// The wait after each failed attempt: the Standard Webhooks schedule (5 s, 5 min, 30 min,
/// 2 h, 5 h, 10 h, 10 h) stretched with 10 h steps to about three days. After the last, the
/// delivery has failed: 12 attempts over 2 days 19 h.
pub const RETRY_SCHEDULE: [Duration; 11] = [
    Duration::from_secs(5),
    Duration::from_secs(5 * 60),
    Duration::from_secs(30 * 60),
    Duration::from_secs(2 * 3600),
    Duration::from_secs(5 * 3600),
    Duration::from_secs(10 * 3600),
    Duration::from_secs(10 * 3600),
    Duration::from_secs(10 * 3600),
    Duration::from_secs(10 * 3600),
    Duration::from_secs(10 * 3600),
    Duration::from_secs(10 * 3600),
];

/// The most attempts one delivery gets.
pub const MAX_ATTEMPTS: i32 = RETRY_SCHEDULE.len() as i32 + 1;

/// A fresh secret: `whsec_` and the base64 of [`SECRET_BYTES`] random bytes.
pub fn new_secret() -> String {
    let mut key = [0u8; SECRET_BYTES];
    rand::fill(&mut key[..]);
    format!("{SECRET_PREFIX}{}", B64.encode(key))
}

/// The signing key of a secret: the base64-decoded part after `whsec_`.
pub fn secret_key(secret: &str) -> Result<Vec<u8>, String> {
    let b64 = secret.strip_prefix(SECRET_PREFIX).unwrap_or(secret);
    B64.decode(b64)
        .map_err(|_| "a webhook secret is whsec_ followed by base64".to_owned())
}

/// One Standard Webhooks signature: `v1,` + base64 HMAC-SHA256 of `{id}.{timestamp}.{body}`.
pub fn sign(secret: &str, msg_id: &str, timestamp: i64, body: &[u8]) -> Result<String, String> {
    let key = secret_key(secret)?;
    let mut mac = HmacSha256::new_from_slice(&key).map_err(|e| e.to_string())?;
    mac.update(msg_id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    Ok(format!("v1,{}", B64.encode(mac.finalize().into_bytes())))
}

/// The `webhook-signature` header: one signature per secret, space-separated.
pub fn signature_header(
    secrets: &[&str],
    msg_id: &str,
    timestamp: i64,
    body: &[u8],
) -> Result<String, String> {
    let sigs: Result<Vec<String>, String> = secrets
        .iter()
        .map(|s| sign(s, msg_id, timestamp, body))
        .collect();
    Ok(sigs?.join(" "))
}

/// The `webhook-id` of an event: the same on every attempt and replay.
pub fn message_id(event_id: i64) -> String {
    format!("evt_{event_id}")
}

/// What an answer (or its absence) means for a delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// 2xx.
    Delivered,
    /// 410 Gone: the receiver asks for no more; the endpoint is disabled.
    Gone,
    /// Anything else: try again on the schedule (at the earliest after `retry_after`).
    Retry { retry_after: Option<Duration> },
}

/// Classifies an HTTP status; `retry_after` is the answer's `Retry-After`, if any.
pub fn outcome(status: u16, retry_after: Option<Duration>) -> Outcome {
    match status {
        200..=299 => Outcome::Delivered,
        410 => Outcome::Gone,
        _ => Outcome::Retry { retry_after },
    }
}

/// Reads `Retry-After`: delay-seconds or an HTTP date (a date in the past is no wait).
pub fn parse_retry_after(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    let v = value.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = DateTime::parse_from_rfc2822(v).ok()?.with_timezone(&Utc);
    Some((at - now).to_std().unwrap_or(Duration::ZERO))
}

/// The wait before attempt `attempts + 1` after `attempts` failed ones, or `None` when the
/// schedule is over. `scale` shrinks the schedule (tests); `jitter` in [0, 1) spreads it by
/// ±10 %; a `Retry-After` (never scaled) is a floor, held to at most a day.
pub fn next_delay(
    attempts: i32,
    scale: f64,
    jitter: f64,
    retry_after: Option<Duration>,
) -> Option<Duration> {
    let i = usize::try_from(attempts.checked_sub(1)?).ok()?;
    let base = RETRY_SCHEDULE.get(i)?.as_secs_f64() * scale;
    let spread = base * (0.9 + 0.2 * jitter.clamp(0.0, 1.0));
    let wait = Duration::from_secs_f64(spread.max(0.0));
    let floor = retry_after
        .unwrap_or(Duration::ZERO)
        .min(Duration::from_secs(24 * 3600));
    Some(wait.max(floor))
}

/// The most characters of an endpoint URL.
pub const URL_MAX: usize = 2000;

/// Every event type the product writes (README, "The event types written today").
pub const EVENT_TYPES: &[&str] = &[
    "partner.created",
    "partner.updated",
    "partner.verified",
    "partner.disabled",
    "partner.revet_requested",
    "partner.deleted",
    "deal.created",
    "deal.updated",
    "deal.activated",
    "deal.paused",
    "deal.expired",
    "deal.drafted",
    "deal.deleted",
    "negotiation.opened",
    "negotiation.message_posted",
    "negotiation.offered",
    "negotiation.accepted",
    "negotiation.rejected",
    "negotiation.withdrawn",
    "negotiation.expired",
    "negotiation.state_changed",
    "agreement.added",
    "agreement.created",
    "contract.created",
    "contract.signed",
    "contract.state_changed",
    "contract.benefit_changed",
    "settlement.computed",
    "settlement.in_review",
    "settlement.approved",
    "settlement.disputed",
    "settlement.paid",
    "plan.added",
    "referral_code.added",
    "referral_code.disabled",
    "claim_token.issued",
    "claim_token.revoked",
    "referral.attributed",
    "commission_rule.set",
    "payout.created",
];

/// Which addresses an endpoint may have. Public only, unless the config file says
/// `[webhooks] allow_private_addresses = true` (any: local receivers, tests) or lists the
/// addresses and networks allowed beside the public ones (`["10.20.0.0/16", "::1"]`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Addresses {
    #[default]
    PublicOnly,
    AllowPrivate,
    /// Public addresses, and these.
    Allow(Vec<ipnet::IpNet>),
}

impl Addresses {
    /// Every address allowed: nothing to check.
    pub fn is_open(&self) -> bool {
        matches!(self, Addresses::AllowPrivate)
    }

    /// Why `ip` may not be sent to, or `None`.
    pub fn refuses(&self, ip: std::net::IpAddr) -> Option<&'static str> {
        let why = non_public(ip)?;
        match self {
            Addresses::AllowPrivate => None,
            Addresses::PublicOnly => Some(why),
            Addresses::Allow(nets) => {
                let ip = ip.to_canonical();
                (!nets.iter().any(|n| n.contains(&ip))).then_some(why)
            }
        }
    }

    /// The config file's list: each entry an address (`127.0.0.1`, `::1`) or a network
    /// (`10.20.0.0/16`).
    pub fn parse_list(entries: &[String]) -> Result<Addresses, String> {
        let mut nets = Vec::with_capacity(entries.len());
        for e in entries {
            let t = e.trim();
            let net = t
                .parse::<ipnet::IpNet>()
                .or_else(|_| t.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                .map_err(|_| {
                    format!("'{t}' is not an address or a network such as 10.20.0.0/16 or ::1")
                })?;
            nets.push(net.trunc());
        }
        Ok(Addresses::Allow(nets))
    }
}

/// Why an address is not public (loopback, link-local, private, …), or `None` for a public one.
pub fn non_public(ip: std::net::IpAddr) -> Option<&'static str> {
    use std::net::IpAddr;
    match ip {
        IpAddr::V4(v4) => non_public_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return non_public_v4(v4);
            }
            let seg = v6.segments();
            if v6.is_loopback() {
                Some("a loopback address")
            } else if v6.is_unspecified() {
                Some("the unspecified address")
            } else if seg[0] & 0xffc0 == 0xfe80 {
                Some("a link-local address")
            } else if seg[0] & 0xfe00 == 0xfc00 {
                Some("a private address")
            } else if seg[0] & 0xffc0 == 0xfec0 {
                Some("a site-local address")
            } else if seg[0] & 0xff00 == 0xff00 {
                Some("a multicast address")
            } else if seg[..6] == [0, 0, 0, 0, 0, 0] {
                // IPv4-compatible (::a.b.c.d, deprecated): judged as the IPv4 address.
                non_public_v4(std::net::Ipv4Addr::new(
                    (seg[6] >> 8) as u8,
                    seg[6] as u8,
                    (seg[7] >> 8) as u8,
                    seg[7] as u8,
                ))
            } else if seg[0] == 0x64 && seg[1] == 0xff9b {
                // NAT64 (64:ff9b::/96) reaches the embedded IPv4 address.
                non_public_v4(std::net::Ipv4Addr::new(
                    (seg[6] >> 8) as u8,
                    seg[6] as u8,
                    (seg[7] >> 8) as u8,
                    seg[7] as u8,
                ))
            } else if seg == [0xfd00, 0x0ec2, 0, 0, 0, 0, 0, 0x0254] {
                Some("a cloud metadata address")
            } else {
                None
            }
        }
    }
}

fn non_public_v4(ip: std::net::Ipv4Addr) -> Option<&'static str> {
    let o = ip.octets();
    if ip.is_loopback() {
        Some("a loopback address")
    } else if ip.is_unspecified() || o[0] == 0 {
        Some("the unspecified address")
    } else if o == [169, 254, 169, 254] || o == [100, 100, 100, 200] {
        Some("a cloud metadata address")
    } else if ip.is_link_local() {
        Some("a link-local address")
    } else if ip.is_private() {
        Some("a private address")
    } else if o[0] == 100 && (o[1] & 0xc0) == 64 {
        Some("a shared (carrier-grade NAT) address")
    } else if ip.is_broadcast() || ip.is_multicast() || o[0] >= 240 {
        Some("a broadcast, multicast or reserved address")
    } else {
        None
    }
}

/// Why a host name is not public (`localhost`, `*.localhost`, metadata names), or `None`.
pub fn non_public_name(name: &str) -> Option<&'static str> {
    let n = name.trim_end_matches('.').to_ascii_lowercase();
    if n == "localhost" || n.ends_with(".localhost") {
        Some("a loopback name")
    } else if n == "metadata.google.internal" || n == "metadata" || n == "instance-data" {
        Some("a cloud metadata name")
    } else {
        None
    }
}

/// Refuses a host that is not public (by its address when it is one, by its name otherwise;
/// the name's addresses are checked again when the relay resolves it).
pub fn check_host(host: &url::Host<&str>, addresses: &Addresses) -> Result<(), String> {
    let (why, shown) = match host {
        url::Host::Ipv4(ip) => (addresses.refuses((*ip).into()), ip.to_string()),
        url::Host::Ipv6(ip) => (addresses.refuses((*ip).into()), ip.to_string()),
        url::Host::Domain(_) if addresses.is_open() => (None, String::new()),
        url::Host::Domain(d) => (non_public_name(d), (*d).to_owned()),
    };
    match why {
        None => Ok(()),
        Some(why) => Err(refusal(&shown, why)),
    }
}

/// The message for an address that is not public.
pub fn refusal(shown: &str, why: &str) -> String {
    format!(
        "{shown} is {why}; webhooks go to public addresses only (the config file's [webhooks] allow_private_addresses allows others: true, or a list of addresses and networks)"
    )
}

/// An endpoint URL: http or https, with a host, no credentials, at most [`URL_MAX`]
/// characters, and (unless `addresses` allows others) a public host.
pub fn validate_url(url: &str, addresses: &Addresses) -> Result<url::Url, String> {
    let url = url.trim();
    if url.chars().count() > URL_MAX {
        return Err(format!("at most {URL_MAX} characters"));
    }
    let u = url::Url::parse(url).map_err(|e| format!("not a URL: {e}"))?;
    if u.scheme() != "http" && u.scheme() != "https" {
        return Err(format!("must be http or https, not {}", u.scheme()));
    }
    if u.host_str().is_none_or(str::is_empty) {
        return Err("needs a host".into());
    }
    if !u.username().is_empty() || u.password().is_some() {
        return Err("must not carry a user name or password".into());
    }
    if u.as_str().chars().count() > URL_MAX {
        return Err(format!("at most {URL_MAX} characters"));
    }
    if !addresses.is_open()
        && let Some(host) = u.host()
    {
        check_host(&host, addresses)?;
    }
    Ok(u)
}

/// An event type the product writes ([`EVENT_TYPES`]).
pub fn validate_event_type(t: &str) -> Result<(), String> {
    if EVENT_TYPES.contains(&t) {
        Ok(())
    } else {
        Err(format!(
            "'{t}' is not an event type; the known ones are {}",
            EVENT_TYPES.join(", ")
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of the Standard Webhooks specification and its reference libraries.
    #[test]
    fn the_specification_test_vector() {
        let sig = sign(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            br#"{"test": 2432232314}"#,
        )
        .unwrap();
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn two_secrets_give_two_signatures() {
        let h = signature_header(
            &["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", &new_secret()],
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            br#"{"test": 2432232314}"#,
        )
        .unwrap();
        let parts: Vec<&str> = h.split(' ').collect();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0], "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
        assert!(parts[1].starts_with("v1,") && parts[1] != parts[0]);
    }

    #[test]
    fn new_secrets_are_random_and_decode_to_enough_bytes() {
        let (a, b) = (new_secret(), new_secret());
        assert_ne!(a, b);
        assert!(a.starts_with("whsec_"));
        assert_eq!(secret_key(&a).unwrap().len(), SECRET_BYTES);
    }

    #[test]
    fn the_schedule_runs_about_three_days_then_stops() {
        let total: Duration = (1..MAX_ATTEMPTS)
            .map(|a| next_delay(a, 1.0, 0.5, None).unwrap())
            .sum();
        let hours = total.as_secs_f64() / 3600.0;
        assert!((60.0..=72.0).contains(&hours), "{hours} h");
        assert_eq!(next_delay(MAX_ATTEMPTS, 1.0, 0.5, None), None);
        assert_eq!(
            next_delay(1, 1.0, 0.5, None),
            Some(Duration::from_secs(5)),
            "the middle of the jitter is the schedule itself"
        );
        let low = next_delay(2, 1.0, 0.0, None).unwrap().as_secs_f64();
        let high = next_delay(2, 1.0, 0.999, None).unwrap().as_secs_f64();
        assert!(low >= 270.0 && high <= 330.0 && low < high);
    }

    #[test]
    fn retry_after_is_a_floor_and_never_scaled() {
        let d = next_delay(1, 0.001, 0.5, Some(Duration::from_secs(2))).unwrap();
        assert_eq!(d, Duration::from_secs(2));
        let d = next_delay(3, 1.0, 0.5, Some(Duration::from_secs(2))).unwrap();
        assert_eq!(d, Duration::from_secs(1800));
    }

    #[test]
    fn retry_after_reads_seconds_and_http_dates() {
        let now = DateTime::parse_from_rfc3339("2015-10-21T07:27:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(
            parse_retry_after("120", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now),
            Some(Duration::from_secs(60))
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
    }

    #[test]
    fn answers_are_classified() {
        assert_eq!(outcome(204, None), Outcome::Delivered);
        assert_eq!(outcome(410, None), Outcome::Gone);
        assert_eq!(
            outcome(429, Some(Duration::from_secs(1))),
            Outcome::Retry {
                retry_after: Some(Duration::from_secs(1))
            }
        );
        assert_eq!(outcome(400, None), Outcome::Retry { retry_after: None });
    }

    #[test]
    fn urls_and_event_types() {
        let open = Addresses::AllowPrivate;
        assert!(validate_url("https://hooks.example.com/pd", &Addresses::PublicOnly).is_ok());
        assert!(validate_url("http://127.0.0.1:8080/x", &open).is_ok());
        assert!(validate_url("ftp://example.com/", &open).is_err());
        assert!(validate_url("https://u:p@example.com/", &open).is_err());
        assert!(validate_url("nonsense", &open).is_err());
        let long = format!("https://hooks.example.com/{}", "a".repeat(2000));
        assert_eq!(
            validate_url(&long, &open).unwrap_err(),
            "at most 2000 characters"
        );
        assert!(validate_event_type("deal.created").is_ok());
        assert!(validate_event_type("negotiation.message_posted").is_ok());
        assert!(validate_event_type("negotiation.rejected").is_ok());
        assert!(validate_event_type("Deal.Created").is_err());
        assert!(validate_event_type("deal..x").is_err());
        let e = validate_event_type("deal.activatd").unwrap_err();
        assert!(
            e.starts_with(
                "'deal.activatd' is not an event type; the known ones are partner.created, "
            ),
            "{e}"
        );
        assert!(validate_event_type("deal.nonexistent").is_err());
    }

    /// Classified only: nothing here is ever contacted.
    #[test]
    fn addresses_that_are_not_public_are_refused_in_every_form() {
        let strict = Addresses::PublicOnly;
        for (url, shown, why) in [
            (
                "http://169.254.169.254/latest/meta-data/",
                "169.254.169.254",
                "a cloud metadata address",
            ),
            ("http://localhost:9/", "localhost", "a loopback name"),
            ("http://api.localhost/", "api.localhost", "a loopback name"),
            ("http://[::1]:8080/", "::1", "a loopback address"),
            ("http://0x7f000001/", "127.0.0.1", "a loopback address"),
            ("http://2130706433/", "127.0.0.1", "a loopback address"),
            ("http://0177.0.0.1/", "127.0.0.1", "a loopback address"),
            ("http://127.1/", "127.0.0.1", "a loopback address"),
            (
                "http://[::ffff:127.0.0.1]/",
                "::ffff:127.0.0.1",
                "a loopback address",
            ),
            (
                "http://[::ffff:169.254.169.254]/",
                "::ffff:169.254.169.254",
                "a cloud metadata address",
            ),
            ("http://10.1.2.3/", "10.1.2.3", "a private address"),
            ("http://172.16.0.1/", "172.16.0.1", "a private address"),
            (
                "http://172.31.255.255/",
                "172.31.255.255",
                "a private address",
            ),
            ("http://192.168.1.1/", "192.168.1.1", "a private address"),
            ("http://169.254.1.1/", "169.254.1.1", "a link-local address"),
            ("http://[fe80::1]/", "fe80::1", "a link-local address"),
            ("http://[fc00::1]/", "fc00::1", "a private address"),
            (
                "http://[fd12:3456::1]/",
                "fd12:3456::1",
                "a private address",
            ),
            ("http://0.0.0.0/", "0.0.0.0", "the unspecified address"),
            ("http://[::]/", "::", "the unspecified address"),
            (
                "http://metadata.google.internal/",
                "metadata.google.internal",
                "a cloud metadata name",
            ),
        ] {
            assert_eq!(
                validate_url(url, &strict).unwrap_err(),
                refusal(shown, why),
                "{url}"
            );
            assert!(validate_url(url, &Addresses::AllowPrivate).is_ok(), "{url}");
        }
        for url in [
            "https://203.0.113.5/hook",
            "http://172.32.0.1/",
            "https://[2001:db8::5]/",
            "https://hooks.example.com/",
        ] {
            assert!(validate_url(url, &strict).is_ok(), "{url}");
        }
        assert_eq!(non_public("203.0.113.5".parse().unwrap()), None);
        assert_eq!(
            non_public("::ffff:10.0.0.1".parse().unwrap()),
            Some("a private address")
        );
    }

    /// A list allows exactly the addresses and networks it names, besides the public ones;
    /// names that are loopback by name stay refused. Classified only: nothing is contacted.
    #[test]
    fn a_list_allows_only_the_addresses_and_networks_it_names() {
        let list =
            Addresses::parse_list(&["10.20.0.0/16".into(), "::1".into(), " 127.0.0.1 ".into()])
                .unwrap();
        for url in [
            "http://10.20.3.4:8080/hook",
            "http://127.0.0.1:9/",
            "http://[::1]:8080/",
            "http://[::ffff:10.20.0.9]/",
            "https://hooks.example.com/",
        ] {
            assert!(validate_url(url, &list).is_ok(), "{url}");
        }
        for (url, shown, why) in [
            ("http://10.21.0.1/", "10.21.0.1", "a private address"),
            ("http://127.0.0.2/", "127.0.0.2", "a loopback address"),
            (
                "http://169.254.169.254/",
                "169.254.169.254",
                "a cloud metadata address",
            ),
            ("http://localhost:9/", "localhost", "a loopback name"),
        ] {
            assert_eq!(
                validate_url(url, &list).unwrap_err(),
                refusal(shown, why),
                "{url}"
            );
        }
        assert_eq!(
            Addresses::parse_list(&["10.0.0/8".into()]).unwrap_err(),
            "'10.0.0/8' is not an address or a network such as 10.20.0.0/16 or ::1"
        );
    }
}
