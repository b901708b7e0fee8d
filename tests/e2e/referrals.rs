//! The referral tab in the real console: a claim token is shown once, and the database keeps
//! only its hash.

use super::*;
use partnerdesk::domain::referral::token_hash;

#[tokio::test]
async fn a_claim_token_is_shown_once_and_only_its_hash_is_kept() {
    let db = seeded(OPERATOR).await;
    let home = Home::new();
    let mut p = console(&db, &home, OPERATOR, &[], 120, 40);
    wait_ready(&p);
    p.send("f");
    p.wait_for("· referrals", TIMEOUT);
    p.wait_for("Claim tokens", TIMEOUT);
    let before = db.count("SELECT count(*) FROM claim_tokens").await;

    p.send("t");
    p.type_each("pro");
    p.send(keys::ENTER);
    p.wait_for("Shown this once", TIMEOUT);
    let screen = p.screen();
    let token: String = screen
        .split_whitespace()
        .find(|w| w.starts_with("pdc_"))
        .expect("the token on screen")
        .to_owned();
    assert_eq!(token.len(), 4 + 43, "256 bits in base64url: {token}");
    assert_eq!(
        db.count("SELECT count(*) FROM claim_tokens").await,
        before + 1
    );
    let (hash, last4): (String, String) =
        sqlx::query_as("SELECT token_hash, last4 FROM claim_tokens ORDER BY id DESC LIMIT 1")
            .fetch_one(&db.pool)
            .await
            .unwrap();
    assert_eq!(hash, token_hash(&token));
    assert_eq!(last4, token[token.len() - 4..]);
    assert_eq!(
        db.count(&format!(
            "SELECT count(*) FROM claim_tokens t WHERE t::text LIKE '%{}%'",
            &token[4..]
        ))
        .await,
        0,
        "the token itself is nowhere in the table"
    );

    // Closed (the default answer): it is gone from the screen for good.
    p.send(keys::ENTER);
    p.wait_until("the popup closed", TIMEOUT, |s| {
        !s.contains("Shown this once")
    });
    assert!(!p.screen().contains(&token[4..]));
    p.wait_for(&format!("…{last4}"), TIMEOUT);
    quit(&mut p);
}
