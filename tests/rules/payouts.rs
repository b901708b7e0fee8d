//! A partner's payout details (migration 0029) as each group's own login: finance and admin
//! read and write them whole, every other group reads the IBAN masked and nothing else; the
//! database keeps the IBAN's checksum, who changed it and when; the audit log and the outbox
//! never hold the number.

use crate::common::{TestDb, partner_draft, person, try_sql};
use crate::{denied, rule};
use partnerdesk::domain::payout::PayoutDetailsDraft;

const IBAN: &str = "DE89370400440532013000";

fn draft(iban: &str) -> PayoutDetailsDraft {
    PayoutDetailsDraft {
        holder: "Aster Books GmbH".into(),
        iban: iban.into(),
        bic: "COBADEFFXXX".into(),
        currency: String::new(),
    }
}

#[tokio::test]
async fn payout_details_are_finances_to_read_whole_and_everyone_elses_masked() {
    let db = TestDb::new().await;
    let owner = db.admin().await;
    let p = owner
        .create_partner(&partner_draft("Aster Books", "aster.example"))
        .await
        .unwrap()
        .id;
    let (fin_login, fin) = person(&db, &["finance"]).await;
    let (cur_login, cur) = person(&db, &["curator"]).await;
    let (sup_login, _) = person(&db, &["support"]).await;
    let (ro_login, _) = person(&db, &["readonly"]).await;

    // A mistyped digit is refused by its checksum, naming the field, and nothing is written.
    let e = fin
        .set_payout_details(p, &draft("DE88 3704 0044 0532 0130 00"))
        .await
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "iban: its check digits do not match (ISO 13616 mod 97): a digit is mistyped"
    );
    let set = fin
        .set_payout_details(p, &draft("de89 3704 0044 0532 0130 00"))
        .await
        .unwrap();
    assert_eq!(
        (
            set.iban.as_deref(),
            set.iban_masked.as_str(),
            set.currency.as_str()
        ),
        (Some(IBAN), "DE89 •••• •••• 3000", "EUR")
    );
    assert_eq!(set.updated_by, fin_login.name);

    // Everyone else: the masked IBAN, never the number, holder or BIC.
    let shown = cur.payout_details(p).await.unwrap().unwrap();
    assert_eq!(
        (
            shown.iban,
            shown.holder,
            shown.bic,
            shown.iban_masked.as_str()
        ),
        (None, None, None, "DE89 •••• •••• 3000")
    );
    for login in [&cur_login, &sup_login, &ro_login] {
        for col in ["iban", "holder", "bic"] {
            denied(
                try_sql(
                    &login.pool,
                    &format!("SELECT {col} FROM partner_payout_details"),
                )
                .await,
            );
        }
        try_sql(
            &login.pool,
            "SELECT iban_masked, currency, changed_at, updated_by FROM partner_payout_details",
        )
        .await
        .unwrap();
        denied(
            try_sql(
                &login.pool,
                &format!(
                    "UPDATE partner_payout_details SET iban = '{IBAN}' WHERE partner_id = {p}"
                ),
            )
            .await,
        );
    }
    let e = cur.set_payout_details(p, &draft(IBAN)).await.unwrap_err();
    assert!(e.to_string().contains("finance"), "{e}");

    // Finance's own login by plain SQL: the checksum, the login and the time are the
    // database's.
    let got = try_sql(
        &fin_login.pool,
        &format!(
            "UPDATE partner_payout_details SET iban = 'DE88370400440532013000' WHERE partner_id = {p}"
        ),
    )
    .await
    .unwrap_err();
    assert!(
        got.starts_with("23514 ") && got.contains("partner_payout_details_iban_check"),
        "{got}"
    );
    assert_eq!(
        rule(
            try_sql(
                &fin_login.pool,
                &format!(
                    "UPDATE partner_payout_details SET holder = 'Mallory', updated_by = 'ada' WHERE partner_id = {p}"
                ),
            )
            .await
        ),
        format!(
            "partner_payout_details.updated_by: database login {} writes as itself (or as system or platform), not as ada",
            fin_login.name
        )
    );
    denied(
        try_sql(
            &fin_login.pool,
            &format!(
                "UPDATE partner_payout_details SET changed_at = now() - interval '1 year' WHERE partner_id = {p}"
            ),
        )
        .await,
    );

    // A change moves the version and the time of the change; the audit log keeps it masked
    // and the outbox has nothing of it.
    let again = fin
        .set_payout_details(
            p,
            &PayoutDetailsDraft {
                iban: "GB82 WEST 1234 5698 7654 32".into(),
                bic: "NWBKGB2L".into(),
                currency: "GBP".into(),
                ..draft(IBAN)
            },
        )
        .await
        .unwrap();
    assert_eq!(again.version, 2);
    assert!(again.changed_at >= set.changed_at);
    assert_eq!(again.iban_masked, "GB82 •••• •••• 5432");
    for number in [
        IBAN,
        "GB82WEST12345698765432",
        "COBADEFFXXX",
        "Aster Books GmbH",
    ] {
        assert_eq!(
            db.count(&format!(
                "SELECT count(*) FROM audit_log WHERE concat(before::text, after::text) LIKE '%{number}%'"
            ))
            .await,
            0,
            "{number} in the audit log"
        );
        assert_eq!(
            db.count(&format!(
                "SELECT count(*) FROM outbox_events WHERE payload::text LIKE '%{number}%'"
            ))
            .await,
            0,
            "{number} in the outbox"
        );
    }
    assert_eq!(
        db.count(
            "SELECT count(*) FROM audit_log WHERE action = 'partner.payout_details'
               AND after->>'iban' = 'GB82 •••• •••• 5432' AND before->>'iban' = 'DE89 •••• •••• 3000'"
        )
        .await,
        1
    );
}
