//! A reader that goes away (`partnerdesk doctor | head -1`) or a closed standard error: no
//! command panics (exit 101); it stops writing, finishes and exits with its own code.

use crate::cli::{DEBUG_NOISE, TempDir, command};
use crate::common::{TestDb, active_deal, member};
use std::process::Stdio;

/// Which stream the reader closes before the command writes anything.
#[derive(Clone, Copy, Debug)]
enum Closed {
    Stdout,
    Stderr,
    Both,
}

/// Runs the binary with that stream's reading end closed at once; its exit code and what it
/// wrote on the stream that stayed open.
fn closed(db: &TestDb, user: &str, args: &[&str], which: Closed) -> (i32, String) {
    let home = TempDir::new("pd-pipe-home");
    let mut cmd = command(Some(db), user, args, &home);
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start partnerdesk");
    // Close the reading end now: every write to it fails with EPIPE.
    match which {
        Closed::Stdout => drop(child.stdout.take()),
        Closed::Stderr => drop(child.stderr.take()),
        Closed::Both => {
            drop(child.stdout.take());
            drop(child.stderr.take());
        }
    }
    let o = child.wait_with_output().expect("wait for partnerdesk");
    let code = o
        .status
        .code()
        .unwrap_or_else(|| panic!("{args:?} exited by itself, not by a signal: {:?}", o.status));
    let open = match which {
        Closed::Stdout => String::from_utf8_lossy(&o.stderr).into_owned(),
        Closed::Stderr => String::from_utf8_lossy(&o.stdout).into_owned(),
        Closed::Both => String::new(),
    };
    for noise in DEBUG_NOISE {
        assert!(!open.contains(noise), "{args:?} printed {noise:?}:\n{open}");
    }
    assert_ne!(code, 101, "{args:?} panicked:\n{open}");
    (code, open)
}

#[tokio::test]
async fn a_closed_standard_output_ends_no_command_with_a_panic() {
    let db = TestDb::new().await;
    let admin = db.admin().await;
    let deal = active_deal(&admin, "PIPE1").await;
    let m = member(&db, "piper", "public", false, None, &[]).await;
    admin.record_redemption(deal.id, m, None).await.unwrap();
    let (d, p, ms) = (
        deal.id.to_string(),
        deal.partner_id.to_string(),
        m.to_string(),
    );
    // Enough rows that a listing takes several writes.
    for i in 0..30 {
        let mut draft = crate::common::coupon_draft(deal.partner_id, &format!("PIPE{i}"));
        draft.title = format!("Pipe deal {i} with a long enough title to fill the pipe line");
        admin.create_deal(&draft).await.unwrap();
    }

    // A statement of this month with the redemption on it, and a referral code.
    let this_month = chrono::Utc::now()
        .date_naive()
        .format("%Y-%m-01")
        .to_string();
    let terms = partnerdesk::domain::terms::TermsDraft {
        model: "percentage".into(),
        rate_bps: Some(500),
        currency: "EUR".into(),
        frequency: "monthly".into(),
        ..Default::default()
    };
    let a = admin
        .add_agreement(deal.partner_id, &terms, this_month.parse().unwrap())
        .await
        .unwrap();
    let s = admin
        .compute_settlement(a.id, &this_month[..7])
        .await
        .unwrap()
        .id
        .to_string();
    admin
        .add_referral_code(deal.partner_id, None)
        .await
        .unwrap();

    let cases: &[&[&str]] = &[
        &["doctor"],
        &["settle", "list"],
        &["settle", "show", &s],
        &["settle", "show", &s, "--json"],
        &["agreements", "list", "--json"],
        &["referrals", "show", "--partner", &p],
        &["operators", "list"],
        &["partners", "list"],
        &["partners", "list", "--json"],
        &["partners", "show", &p],
        &["deals", "list"],
        &["deals", "list", "--json", "--limit", "500"],
        &["deals", "show", &d, "--json"],
        &["deals", "search", "pipe", "--member", &ms],
        &["export", "redemptions", "--deal", &d],
        &["jobs", "expire"],
        &["--help"],
        &["deals", "add", "--help"],
    ];
    for args in cases {
        let (code, stderr) = closed(&db, "ada", args, Closed::Stdout);
        assert_eq!(
            code, 0,
            "{args:?} finishes as if its output had been read:\n{stderr}"
        );
        assert_eq!(stderr, "", "{args:?} says nothing about it");
    }
    // A mutation still happens, and only once, when nobody reads what it prints.
    let (code, _) = closed(&db, "ada", &["deals", "pause", &d], Closed::Stdout);
    assert_eq!(code, 0);
    let state: String = sqlx::query_scalar("SELECT state FROM deals WHERE id = $1")
        .bind(deal.id)
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(state, "paused");
}

#[tokio::test]
async fn a_closed_standard_error_keeps_the_exit_code_of_the_scheme() {
    let db = TestDb::new().await;
    db.admin().await;
    // A refusal, a missing record, a usage error and a failure, with nowhere to say so.
    for (args, code) in [
        (&["partners", "show", "999999"][..], crate::NOT_FOUND),
        (&["operators", "add", "x", "--role", "admin"][..], 3),
        (&["partners", "list", "--bogus"][..], crate::USAGE),
        (
            &["--config", "/nonexistent/partnerdesk.toml", "doctor"][..],
            1,
        ),
    ] {
        let (got, stdout) = closed(&db, "nobody", args, Closed::Stderr);
        assert_eq!(got, code, "{args:?}:\n{stdout}");
        let (got, _) = closed(&db, "nobody", args, Closed::Both);
        assert_eq!(got, code, "{args:?} with both streams closed");
    }
}
