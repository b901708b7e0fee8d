//! The demo seed's payouts: the marketplace's settings (a holding period, a minimum payout in
//! EUR, a demo bank account for SEPA files), payout details for the EUR partners with
//! agreements, and the referral-only partner's last statement approved, so that a payout
//! batch has something to pay.

use crate::domain::Role;
use crate::domain::payout::PayoutDetailsDraft;
use crate::domain::settings::SettingChange;
use crate::error::Result;
use crate::service::{Actor, Desk};
use sqlx::PgPool;

/// Well-known example IBANs (each passes its mod-97 check) with their banks' BICs.
const ACCOUNTS: &[(&str, &str)] = &[
    ("DE89370400440532013000", "COBADEFFXXX"),
    ("DE02500105170137075030", "INGDDEFFXXX"),
    ("DE02100500000054540402", "BELADEBEXXX"),
    ("DE02300209000106531065", "CMCIDEDD"),
    ("DE02200505501015871393", "HASPDEHHXXX"),
    ("DE02370502990000684712", "COKSDE33XXX"),
    ("DE02700100800030876808", "PBNKDEFFXXX"),
    ("DE88100900001234567892", "BEVODEBBXXX"),
];

/// Seeds the settings and the payout details of `partners` (id, agreement currency).
pub async fn seed(pool: &PgPool, partners: &[(i64, &str)]) -> Result<()> {
    let admin = Desk::new(pool.clone(), Actor::operator("system", &[Role::Admin]));
    for (key, value) in [
        ("holding_days", "30"),
        (
            "bank_account",
            "Partnerdesk Marketplace GmbH | DE02 1203 0000 0000 2020 51 | BYLADEM1001",
        ),
        ("minimum_payout.EUR", "10.00"),
    ] {
        admin
            .set_setting(&SettingChange::parse(key, value)?)
            .await?;
    }
    let fin = Desk::new(pool.clone(), Actor::operator("fin", &[Role::Finance]));
    let eur = partners.iter().filter(|(_, c)| *c == "EUR");
    for ((partner, _), (iban, bic)) in eur.zip(ACCOUNTS) {
        let name: String = sqlx::query_scalar("SELECT legal_name FROM partners WHERE id = $1")
            .bind(partner)
            .fetch_one(pool)
            .await?;
        let holder: String = name.chars().take(70).collect();
        fin.set_payout_details(
            *partner,
            &PayoutDetailsDraft {
                holder,
                iban: (*iban).into(),
                bic: (*bic).into(),
                currency: "EUR".into(),
            },
        )
        .await?;
    }
    Ok(())
}
