//! The automated vetting checks (SPEC §1.3) against real local HTTP(S) servers started by the
//! tests on 127.0.0.1, and a fresh PostgreSQL database per test.

#[path = "../db/common.rs"]
#[allow(dead_code)]
mod common;

use crate::common::*;
use partnerdesk::Error;
use partnerdesk::domain::{PartnerDraft, Role};
use partnerdesk::service::Desk;
use partnerdesk::service::vetting::{CHECK_NAMES, CheckResult, VettingConfig};
use partnerdesk::store::partners::Partner;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

// A tiny HTTP/1.1 server with canned answers ------------------------------------------------

#[derive(Clone)]
enum Reply {
    Canned {
        status: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
        /// Send a Content-Length (otherwise the body ends when the connection closes).
        with_length: bool,
    },
    /// Reads the request and never answers.
    Hang,
}

fn ok(content_type: &str, body: impl Into<Vec<u8>>) -> Reply {
    Reply::Canned {
        status: 200,
        headers: vec![("Content-Type".into(), content_type.into())],
        body: body.into(),
        with_length: true,
    }
}

fn redirect(status: u16, location: &str) -> Reply {
    Reply::Canned {
        status,
        headers: vec![("Location".into(), location.into())],
        body: Vec::new(),
        with_length: true,
    }
}

fn status(code: u16) -> Reply {
    Reply::Canned {
        status: code,
        headers: vec![("Content-Type".into(), "text/plain".into())],
        body: b"nope".to_vec(),
        with_length: true,
    }
}

/// A small but real PNG signature followed by filler.
fn png(len: usize) -> Vec<u8> {
    let mut v = b"\x89PNG\r\n\x1a\n".to_vec();
    v.resize(len.max(8), 0);
    v
}

struct Server {
    addr: SocketAddr,
    scheme: &'static str,
    hits: Arc<Mutex<Vec<String>>>,
}

impl Server {
    async fn plain(routes: &[(&str, Reply)]) -> Self {
        Self::start(routes, None).await
    }

    async fn tls(routes: &[(&str, Reply)], tls: &Tls) -> Self {
        Self::start(routes, Some(tls.acceptor.clone())).await
    }

    async fn start(routes: &[(&str, Reply)], tls: Option<TlsAcceptor>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().unwrap();
        let routes: Arc<HashMap<String, Reply>> = Arc::new(
            routes
                .iter()
                .map(|(p, r)| (p.to_string(), r.clone()))
                .collect(),
        );
        let hits = Arc::new(Mutex::new(Vec::new()));
        let scheme = if tls.is_some() { "https" } else { "http" };
        let h = hits.clone();
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let (routes, hits, tls) = (routes.clone(), h.clone(), tls.clone());
                tokio::spawn(async move {
                    match tls {
                        Some(acceptor) => {
                            if let Ok(s) = acceptor.accept(stream).await {
                                serve(s, &routes, &hits).await;
                            }
                        }
                        None => serve(stream, &routes, &hits).await,
                    }
                });
            }
        });
        Self { addr, scheme, hits }
    }

    fn url(&self, path: &str) -> String {
        format!("{}://{}{path}", self.scheme, self.addr)
    }

    fn hits(&self) -> Vec<String> {
        self.hits.lock().unwrap().clone()
    }
}

async fn serve<S: AsyncRead + AsyncWrite + Unpin>(
    mut s: S,
    routes: &HashMap<String, Reply>,
    hits: &Mutex<Vec<String>>,
) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = match s.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        buf.extend_from_slice(&chunk[..n]);
        // Not HTTP (say a TLS ClientHello on the plain server): hang up, as servers do.
        if !buf[0].is_ascii_uppercase() || buf.len() > 64 * 1024 {
            return;
        }
        if buf.windows(4).any(|w| w == b"\r\n\r\n") {
            break;
        }
    }
    let head = String::from_utf8_lossy(&buf);
    let path = head.split_whitespace().nth(1).unwrap_or("/").to_owned();
    hits.lock().unwrap().push(path.clone());
    match routes.get(&path).cloned().unwrap_or_else(|| status(404)) {
        Reply::Hang => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
        }
        Reply::Canned {
            status,
            headers,
            body,
            with_length,
        } => {
            let mut out = format!("HTTP/1.1 {status} Canned\r\nConnection: close\r\n");
            for (k, v) in headers {
                out.push_str(&format!("{k}: {v}\r\n"));
            }
            if with_length {
                out.push_str(&format!("Content-Length: {}\r\n", body.len()));
            }
            out.push_str("\r\n");
            if s.write_all(out.as_bytes()).await.is_err() {
                return;
            }
            let _ = s.write_all(&body).await;
            let _ = s.flush().await;
            let _ = s.shutdown().await;
        }
    }
}

/// A test CA and a server certificate for 127.0.0.1 signed by it.
struct Tls {
    acceptor: TlsAcceptor,
    ca_pem: Vec<u8>,
}

fn tls() -> Tls {
    use rcgen::{
        BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose,
        IsCa, KeyPair, KeyUsagePurpose,
    };
    use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};

    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "partnerdesk test CA");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();

    let leaf_key = KeyPair::generate().unwrap();
    let mut leaf_params = CertificateParams::new(vec!["127.0.0.1".to_owned()]).unwrap();
    leaf_params
        .distinguished_name
        .push(DnType::CommonName, "127.0.0.1");
    leaf_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let leaf = leaf_params.signed_by(&leaf_key, &ca).unwrap();

    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![leaf.der().clone()],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der())),
        )
        .unwrap();
    Tls {
        acceptor: TlsAcceptor::from(Arc::new(config)),
        ca_pem: ca.pem().into_bytes(),
    }
}

// Helpers ------------------------------------------------------------------------------------

fn cfg(tls: &Tls) -> VettingConfig {
    VettingConfig {
        timeout: Duration::from_secs(5),
        extra_root_certs_pem: vec![tls.ca_pem.clone()],
        ..Default::default()
    }
}

async fn partner(
    desk: &Desk,
    name: &str,
    website: &str,
    logo: Option<&str>,
    email: Option<&str>,
) -> Partner {
    desk.create_partner(&PartnerDraft {
        legal_name: format!("{name} Ltd"),
        display_name: name.into(),
        logo_url: logo.map(Into::into),
        website_url: Some(website.into()),
        contact_email: email.map(Into::into),
        ..Default::default()
    })
    .await
    .expect("create partner")
}

type Progress = Arc<Mutex<Vec<(usize, usize, String)>>>;

async fn run(desk: &Desk, id: i64, cfg: &VettingConfig) -> (Vec<CheckResult>, Progress) {
    let seen: Progress = Arc::default();
    let s = seen.clone();
    let results = desk
        .run_vetting_checks(id, cfg, &move |done, total, name| {
            s.lock().unwrap().push((done, total, name.to_owned()));
        })
        .await
        .expect("run vetting checks");
    (results, seen)
}

fn by_name<'a>(results: &'a [CheckResult], name: &str) -> &'a CheckResult {
    results
        .iter()
        .find(|r| r.check_name == name)
        .unwrap_or_else(|| panic!("no {name} result in {results:#?}"))
}

fn assert_outcome(r: &CheckResult, outcome: &str, detail_has: &str) {
    assert_eq!(r.outcome, outcome, "{}: {r:#?}", r.check_name);
    assert!(
        r.detail.contains(detail_has),
        "{}: detail {:?} should contain {detail_has:?}",
        r.check_name,
        r.detail
    );
}

async fn stored_count(db: &TestDb, partner_id: i64) -> i64 {
    db.count(&format!(
        "SELECT count(*) FROM partner_checks WHERE partner_id = {partner_id}"
    ))
    .await
}

// Tests --------------------------------------------------------------------------------------

#[tokio::test]
async fn healthy_partner_passes_and_results_are_stored_with_an_audit_row() {
    let db = TestDb::new().await;
    let desk = db.curator().await;
    let tls = tls();
    let srv = Server::tls(
        &[
            ("/start", redirect(301, "/home")),
            (
                "/home",
                ok("text/html; charset=utf-8", "<html>hello</html>"),
            ),
            ("/logo.png", ok("image/png", png(1234))),
        ],
        &tls,
    )
    .await;
    let p = partner(
        &desk,
        "Northwind",
        &srv.url("/start"),
        Some(&srv.url("/logo.png")),
        Some("deals@127.0.0.1"),
    )
    .await;

    let before = chrono::Utc::now();
    let (results, progress) = run(&desk, p.id, &cfg(&tls)).await;
    let after = chrono::Utc::now();

    let names: Vec<&str> = results.iter().map(|r| r.check_name.as_str()).collect();
    assert_eq!(names, CHECK_NAMES);
    let website = by_name(&results, "website");
    assert_outcome(website, "pass", "HTTPS ok");
    assert_eq!(website.data["status"], 200);
    assert_eq!(website.data["tls"], true);
    assert_eq!(website.data["final_url"], srv.url("/home"));
    assert_outcome(by_name(&results, "logo"), "pass", "image/png, 1234 bytes");
    assert_outcome(by_name(&results, "email_domain"), "pass", "matches");
    assert_outcome(
        by_name(&results, "duplicate_domain"),
        "pass",
        "no other partner",
    );

    // Stored, one timestamp per run, by the operator who ran them.
    assert_eq!(stored_count(&db, p.id).await, 4);
    for r in &results {
        assert_eq!(r.checked_by, "cara");
        assert_eq!(r.checked_at, results[0].checked_at);
        assert!(r.checked_at >= before - chrono::Duration::seconds(1) && r.checked_at <= after);
    }
    assert_eq!(desk.latest_checks(p.id).await.unwrap(), results);

    // One audit row.
    let (actor, after_json): (String, serde_json::Value) = sqlx::query_as(
        "SELECT actor, after FROM audit_log
          WHERE action = 'partner.checks' AND entity_type = 'partner' AND entity_id = $1",
    )
    .bind(p.id.to_string())
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(actor, "cara");
    assert_eq!(after_json["checks"].as_array().unwrap().len(), 4);
    assert_eq!(after_json["checks"][0]["outcome"], "pass");

    // Progress: each check reported once as it finished, counting up to 4.
    let progress = progress.lock().unwrap().clone();
    let done: Vec<usize> = progress.iter().map(|(d, _, _)| *d).collect();
    assert_eq!(done, [1, 2, 3, 4]);
    assert!(progress.iter().all(|(_, t, _)| *t == 4));
    let mut reported: Vec<&str> = progress.iter().map(|(_, _, n)| n.as_str()).collect();
    reported.sort_unstable();
    let mut expected = CHECK_NAMES.to_vec();
    expected.sort_unstable();
    assert_eq!(reported, expected);

    assert_eq!(srv.hits().iter().filter(|h| *h == "/home").count(), 1);
}

#[tokio::test]
async fn logo_with_the_wrong_content_type_fails_naming_the_type() {
    let db = TestDb::new().await;
    let desk = db.curator().await;
    let tls = tls();
    let srv = Server::tls(
        &[
            ("/", ok("text/html", "<html></html>")),
            (
                "/logo",
                ok("text/html; charset=utf-8", "<html>not a logo</html>"),
            ),
        ],
        &tls,
    )
    .await;
    let p = partner(
        &desk,
        "Contoso",
        &srv.url("/"),
        Some(&srv.url("/logo")),
        Some("a@127.0.0.1"),
    )
    .await;
    let (results, _) = run(&desk, p.id, &cfg(&tls)).await;
    let logo = by_name(&results, "logo");
    assert_outcome(logo, "fail", "text/html");
    assert!(logo.detail.contains("image/png"), "{}", logo.detail);
    assert_eq!(logo.data["content_type"], "text/html; charset=utf-8");
    assert_outcome(by_name(&results, "website"), "pass", "HTTPS ok");
}

#[tokio::test]
async fn a_server_that_never_answers_times_out() {
    let db = TestDb::new().await;
    let desk = db.curator().await;
    let tls = tls();
    let srv = Server::tls(&[("/", Reply::Hang), ("/logo.png", Reply::Hang)], &tls).await;
    let p = partner(
        &desk,
        "Slowpoke",
        &srv.url("/"),
        Some(&srv.url("/logo.png")),
        Some("a@127.0.0.1"),
    )
    .await;
    let cfg = VettingConfig {
        timeout: Duration::from_millis(300),
        ..cfg(&tls)
    };
    let started = Instant::now();
    let (results, _) = run(&desk, p.id, &cfg).await;
    let took = started.elapsed();
    assert_outcome(
        by_name(&results, "website"),
        "fail",
        "timed out after 300 ms",
    );
    assert_outcome(by_name(&results, "logo"), "fail", "timed out after 300 ms");
    assert!(took < Duration::from_secs(5), "took {took:?}");
    // The other checks still ran and everything was stored.
    assert_outcome(by_name(&results, "email_domain"), "pass", "matches");
    assert_eq!(stored_count(&db, p.id).await, 4);
}

#[tokio::test]
async fn an_oversized_logo_fails_and_reading_stops_at_the_limit() {
    let db = TestDb::new().await;
    let desk = db.curator().await;
    let tls = tls();
    let big = 8 * 1024 * 1024;
    let srv = Server::tls(
        &[
            ("/", ok("text/html", "<html></html>")),
            ("/declared.png", ok("image/png", png(4096))),
            (
                "/streamed.png",
                Reply::Canned {
                    status: 200,
                    headers: vec![("Content-Type".into(), "image/png".into())],
                    body: png(big),
                    with_length: false,
                },
            ),
        ],
        &tls,
    )
    .await;
    let p = partner(
        &desk,
        "Bigfoot",
        &srv.url("/"),
        Some(&srv.url("/declared.png")),
        Some("a@127.0.0.1"),
    )
    .await;
    let cfg = VettingConfig {
        max_body_bytes: 1024,
        ..cfg(&tls)
    };

    // Content-Length says too much: refused without reading the body.
    let (results, _) = run(&desk, p.id, &cfg).await;
    let logo = by_name(&results, "logo");
    assert_outcome(logo, "fail", "body larger than 1024 bytes");
    assert_eq!(logo.data["content_length"], 4096);

    // No Content-Length: the body is streamed and reading stops past the limit.
    sqlx::query("UPDATE partners SET logo_url = $2 WHERE id = $1")
        .bind(p.id)
        .bind(srv.url("/streamed.png"))
        .execute(&db.pool)
        .await
        .unwrap();
    let (results, _) = run(&desk, p.id, &cfg).await;
    let logo = by_name(&results, "logo");
    assert_outcome(logo, "fail", "body larger than 1024 bytes");
    let read = logo.data["bytes_read"].as_u64().unwrap();
    assert!(
        read > 1024 && read < big as u64 / 2,
        "read {read} bytes of {big}"
    );
    assert!(logo.data["content_length"].is_null());
}

#[tokio::test]
async fn a_redirect_to_another_scheme_is_refused_and_not_followed() {
    let db = TestDb::new().await;
    let desk = db.curator().await;
    let tls = tls();
    // Something listening where the ftp:// redirect points, to prove nobody went there.
    let ftp = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let ftp_addr = ftp.local_addr().unwrap();
    let ftp_connections = Arc::new(AtomicUsize::new(0));
    let c = ftp_connections.clone();
    tokio::spawn(async move {
        while ftp.accept().await.is_ok() {
            c.fetch_add(1, Ordering::SeqCst);
        }
    });
    let target = format!("ftp://{ftp_addr}/site");
    let srv = Server::tls(
        &[
            ("/", redirect(302, &target)),
            ("/logo.png", ok("image/png", png(100))),
        ],
        &tls,
    )
    .await;
    let p = partner(
        &desk,
        "Ftpish",
        &srv.url("/"),
        Some(&srv.url("/logo.png")),
        Some("a@127.0.0.1"),
    )
    .await;
    let (results, _) = run(&desk, p.id, &cfg(&tls)).await;
    let website = by_name(&results, "website");
    assert_outcome(website, "fail", &format!("redirect to {target} refused"));
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(
        ftp_connections.load(Ordering::SeqCst),
        0,
        "the ftp redirect was followed"
    );
    assert_eq!(srv.hits().iter().filter(|h| *h == "/").count(), 1);
}

#[tokio::test]
async fn redirects_stop_after_max_redirects() {
    let db = TestDb::new().await;
    let desk = db.curator().await;
    let tls = tls();
    let srv = Server::tls(&[("/loop", redirect(302, "/loop"))], &tls).await;
    let p = partner(&desk, "Loopy", &srv.url("/loop"), None, Some("a@127.0.0.1")).await;
    let cfg = VettingConfig {
        max_redirects: 2,
        ..cfg(&tls)
    };
    let (results, _) = run(&desk, p.id, &cfg).await;
    assert_outcome(
        by_name(&results, "website"),
        "fail",
        "more than 2 redirects",
    );
    // The first request and two followed redirects.
    assert_eq!(srv.hits().len(), 3);
    // No logo URL is only a warning.
    assert_outcome(by_name(&results, "logo"), "warn", "no logo URL");
}

#[tokio::test]
async fn a_website_only_on_plain_http_is_a_warning() {
    let db = TestDb::new().await;
    let desk = db.curator().await;
    let tls = tls();
    let srv = Server::plain(&[
        ("/", ok("text/html", "<html>plain</html>")),
        (
            "/logo.svg",
            ok("image/svg+xml", "<svg xmlns='http://www.w3.org/2000/svg'/>"),
        ),
    ])
    .await;
    let p = partner(
        &desk,
        "Plainly",
        &srv.url("/"),
        Some(&srv.url("/logo.svg")),
        Some("a@127.0.0.1"),
    )
    .await;
    let (results, _) = run(&desk, p.id, &cfg(&tls)).await;
    let website = by_name(&results, "website");
    assert_outcome(website, "warn", "plain http");
    assert_eq!(website.data["tls"], false);
    assert_eq!(website.data["status"], 200);
    assert!(website.data["https_url_error"].is_string(), "{website:#?}");
    assert_outcome(by_name(&results, "logo"), "pass", "image/svg+xml");
}

#[tokio::test]
async fn plain_http_that_redirects_to_https_passes() {
    let db = TestDb::new().await;
    let desk = db.curator().await;
    let tls = tls();
    let secure = Server::tls(&[("/", ok("text/html", "<html>secure</html>"))], &tls).await;
    let plain = Server::plain(&[("/", redirect(301, &secure.url("/")))]).await;
    let p = partner(
        &desk,
        "Upgrader",
        &plain.url("/"),
        None,
        Some("a@127.0.0.1"),
    )
    .await;
    let (results, _) = run(&desk, p.id, &cfg(&tls)).await;
    let website = by_name(&results, "website");
    assert_outcome(website, "pass", "HTTPS ok");
    assert_eq!(website.data["final_url"], secure.url("/"));
    assert_eq!(website.data["tls"], true);
}

#[tokio::test]
async fn an_untrusted_certificate_fails_the_tls_handshake() {
    let db = TestDb::new().await;
    let desk = db.curator().await;
    let tls = tls();
    let srv = Server::tls(&[("/", ok("text/html", "<html></html>"))], &tls).await;
    let p = partner(&desk, "Selfie", &srv.url("/"), None, Some("a@127.0.0.1")).await;
    // The test CA is not trusted here.
    let cfg = VettingConfig {
        timeout: Duration::from_secs(5),
        ..Default::default()
    };
    let (results, _) = run(&desk, p.id, &cfg).await;
    assert_outcome(by_name(&results, "website"), "fail", "TLS handshake failed");
    assert!(srv.hits().is_empty());
}

#[tokio::test]
async fn an_http_error_status_fails() {
    let db = TestDb::new().await;
    let desk = db.curator().await;
    let tls = tls();
    let srv = Server::tls(&[("/", status(503)), ("/logo.png", status(404))], &tls).await;
    let p = partner(
        &desk,
        "Down",
        &srv.url("/"),
        Some(&srv.url("/logo.png")),
        Some("a@127.0.0.1"),
    )
    .await;
    let (results, _) = run(&desk, p.id, &cfg(&tls)).await;
    assert_outcome(by_name(&results, "website"), "fail", "HTTP 503");
    assert_outcome(by_name(&results, "logo"), "fail", "HTTP 404");
}

#[tokio::test]
async fn a_contact_email_on_another_domain_is_flagged() {
    let db = TestDb::new().await;
    let desk = db.curator().await;
    let tls = tls();
    let srv = Server::tls(&[("/", ok("text/html", "<html></html>"))], &tls).await;
    let p = partner(
        &desk,
        "Mismatch",
        &srv.url("/"),
        None,
        Some("someone@elsewhere.example"),
    )
    .await;
    let (results, _) = run(&desk, p.id, &cfg(&tls)).await;
    let email = by_name(&results, "email_domain");
    assert_outcome(email, "warn", "elsewhere.example");
    assert!(email.detail.contains("127.0.0.1"), "{}", email.detail);
    assert_eq!(email.data["matches"], false);

    // No contact e-mail at all: a warning too.
    sqlx::query("UPDATE partners SET contact_email = NULL WHERE id = $1")
        .bind(p.id)
        .execute(&db.pool)
        .await
        .unwrap();
    let (results, _) = run(&desk, p.id, &cfg(&tls)).await;
    assert_outcome(
        by_name(&results, "email_domain"),
        "warn",
        "no contact email",
    );
}

#[tokio::test]
async fn another_live_partner_on_the_same_domain_fails_the_duplicate_check() {
    let db = TestDb::new().await;
    let desk = db.curator().await;
    let tls = tls();
    let srv = Server::tls(&[("/", ok("text/html", "<html></html>"))], &tls).await;
    let p = partner(&desk, "Original", &srv.url("/"), None, Some("a@127.0.0.1")).await;

    // A deleted partner that had the domain does not count.
    sqlx::query(
        "INSERT INTO partners (legal_name, display_name, website_url, domain, created_by, updated_by,
                               deleted_at, deleted_by)
         VALUES ('Gone Ltd', 'Gone', 'https://127.0.0.1/', '127.0.0.1', 'cara', 'cara', now(), 'cara')",
    )
    .execute(&db.pool)
    .await
    .unwrap();
    let (results, _) = run(&desk, p.id, &cfg(&tls)).await;
    assert_outcome(
        by_name(&results, "duplicate_domain"),
        "pass",
        "no other partner uses 127.0.0.1",
    );

    // A live one does. The unique index normally prevents it (create and update refuse it), so
    // this database drops the index to stand for data that predates it.
    sqlx::query("DROP INDEX partners_domain_key")
        .execute(&db.pool)
        .await
        .unwrap();
    let twin: i64 = sqlx::query_scalar(
        "INSERT INTO partners (legal_name, display_name, website_url, domain, created_by, updated_by)
         VALUES ('Twin Ltd', 'Twin', 'https://www.127.0.0.1/', '127.0.0.1', 'cara', 'cara') RETURNING id",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    let (results, _) = run(&desk, p.id, &cfg(&tls)).await;
    let dup = by_name(&results, "duplicate_domain");
    assert_outcome(dup, "fail", &format!("partner Twin (#{twin})"));
    assert_eq!(dup.data["other_id"], twin);
}

#[tokio::test]
async fn latest_checks_returns_the_newest_result_of_each_check() {
    let db = TestDb::new().await;
    let desk = db.curator().await;
    let tls = tls();
    let srv = Server::tls(
        &[
            ("/", ok("text/html", "<html></html>")),
            ("/logo.png", ok("image/png", png(64))),
            ("/logo.html", ok("text/html", "<html></html>")),
        ],
        &tls,
    )
    .await;
    let p = partner(
        &desk,
        "Twice",
        &srv.url("/"),
        Some(&srv.url("/logo.png")),
        Some("a@127.0.0.1"),
    )
    .await;
    assert!(desk.latest_checks(p.id).await.unwrap().is_empty());

    let (first, _) = run(&desk, p.id, &cfg(&tls)).await;
    assert_outcome(by_name(&first, "logo"), "pass", "image/png");
    sqlx::query("UPDATE partners SET logo_url = $2 WHERE id = $1")
        .bind(p.id)
        .bind(srv.url("/logo.html"))
        .execute(&db.pool)
        .await
        .unwrap();
    let (second, _) = run(&desk, p.id, &cfg(&tls)).await;
    assert!(second[0].checked_at > first[0].checked_at);

    let latest = desk.latest_checks(p.id).await.unwrap();
    assert_eq!(latest, second);
    let names: Vec<&str> = latest.iter().map(|r| r.check_name.as_str()).collect();
    assert_eq!(names, CHECK_NAMES);
    assert_outcome(by_name(&latest, "logo"), "fail", "text/html");
    assert_eq!(stored_count(&db, p.id).await, 8, "history is kept");
    // Reading needs no role.
    let support = db.desk("sam", &[Role::Support]).await;
    assert_eq!(support.latest_checks(p.id).await.unwrap(), second);
}

#[tokio::test]
async fn unknown_partner_and_missing_permission_are_refused() {
    let db = TestDb::new().await;
    let desk = db.curator().await;
    let tls = tls();
    let err = desk
        .run_vetting_checks(999_999, &cfg(&tls), &|_, _, _| {})
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::NotFound {
                entity: "partner",
                ..
            }
        ),
        "{err}"
    );

    let srv = Server::tls(&[("/", ok("text/html", "<html></html>"))], &tls).await;
    let p = partner(&desk, "Guarded", &srv.url("/"), None, None).await;
    let support = db.desk("sam", &[Role::Support]).await;
    let err = support
        .run_vetting_checks(p.id, &cfg(&tls), &|_, _, _| {})
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Forbidden { .. }), "{err}");
    assert_eq!(stored_count(&db, p.id).await, 0);
    assert!(srv.hits().is_empty(), "nothing fetched without permission");
}
