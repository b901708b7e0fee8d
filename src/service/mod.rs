//! Services: each use case in one transaction, with its permission check, its audit row and
//! its outbox event (both written by [`record`]). The console and the command line call only
//! these.

pub mod agreements;
pub mod batches;
pub mod bulk;
pub mod contracts;
pub mod deals;
pub mod export;
pub mod import;
mod landing;
pub mod monitor;
pub mod negotiations;
pub mod operators;
pub mod partners;
pub mod payouts;
pub mod plans;
pub(crate) mod record;
pub mod redemptions;
pub mod referrals;
pub mod relay;
mod reversals;
pub mod search;
pub mod settings;
pub mod settlements;
pub mod simulation;
pub mod statement;
pub mod vetting;
pub mod webhooks;

/// The records the services hand out, named here so that the console and the command line
/// reach them through the service layer, never the store.
pub mod rows {
    pub use crate::store::agreements::{Agreement, AgreementRow};
    pub use crate::store::audit::{AuditEntry, AuditFilter};
    pub use crate::store::contracts::{Contract, ContractBenefit, Signature};
    pub use crate::store::deal_list::{DealFilter, DealListRow, DealSort};
    pub use crate::store::deals::{CouponCodeChange, Deal};
    pub use crate::store::monitor::{MonitorFilter, MonitorRow, Thresholds};
    pub use crate::store::negotiations::{Message, Offer, Thread, ThreadFilter, ThreadRow};
    pub use crate::store::partners::{Partner, PartnerFilter, PartnerListRow, PartnerSort};
    pub use crate::store::redemptions::{ExportFilter, Redemption, RedemptionRow};
    pub use crate::store::settlements::{
        LedgerEntry, Line, Settlement, SettlementFilter, SettlementRow,
    };
    pub use crate::store::webhooks::{
        Attempt, Delivery, DeliveryFilter, Endpoint, EndpointRow, Event,
    };
}

use crate::domain::{Permission, Role};
use crate::error::{Error, Result};
use crate::store;
use sqlx::PgPool;

/// Who is acting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub login: String,
    pub display_name: String,
    pub roles: Vec<Role>,
    /// Known in the operators table. Unregistered operators get a read-only console.
    pub registered: bool,
    /// `--read-only`, or not registered.
    pub read_only: bool,
}

/// The login under which jobs (the expiry job, the relay) act.
pub const SYSTEM_LOGIN: &str = "system";
/// The login under which the platform records redemptions.
pub const PLATFORM_LOGIN: &str = "platform";

impl Actor {
    /// The automated jobs' identity: may do what an admin may.
    pub fn system() -> Self {
        Self {
            login: SYSTEM_LOGIN.into(),
            display_name: "System".into(),
            roles: vec![Role::Admin],
            registered: true,
            read_only: false,
        }
    }

    /// An operator with roles, as registered (used by tests and after lookup).
    pub fn operator(login: &str, roles: &[Role]) -> Self {
        Self {
            login: login.into(),
            display_name: login.into(),
            roles: roles.to_vec(),
            registered: true,
            read_only: false,
        }
    }

    /// May this session run the background jobs (the expiry job)? Not read-only, registered,
    /// and allowed to change deals.
    pub fn may_run_jobs(&self) -> bool {
        self.registered && !self.read_only && self.may(Permission::ManageDeals)
    }

    pub fn may(&self, p: Permission) -> bool {
        p.is_granted_to(&self.roles)
    }

    /// Refuses with the role the action needs.
    pub fn require(&self, p: Permission) -> Result<()> {
        if !self.registered {
            return Err(Error::NotRegistered {
                login: self.login.clone(),
                action: p.describe(),
                needs: p.needed_roles_text(),
                needs_first: p.roles().first().map(|r| r.as_str()).unwrap_or("admin"),
            });
        }
        if self.read_only && p.changes_data() {
            return Err(Error::ReadOnly {
                action: p.describe(),
            });
        }
        if self.may(p) {
            Ok(())
        } else {
            Err(Error::Forbidden {
                login: self.login.clone(),
                action: p.describe(),
                needs: p.needed_roles_text(),
            })
        }
    }

    pub fn roles_text(&self) -> String {
        if self.roles.is_empty() {
            "no role".into()
        } else {
            self.roles
                .iter()
                .map(|r| r.as_str())
                .collect::<Vec<_>>()
                .join(",")
        }
    }
}

/// The service entry point: a pool and the acting operator.
#[derive(Debug, Clone)]
pub struct Desk {
    pool: PgPool,
    actor: Actor,
}

impl Desk {
    pub fn new(pool: PgPool, actor: Actor) -> Self {
        Self { pool, actor }
    }

    /// Looks the operator up; an unknown login gets a read-only actor with no roles. On a
    /// person's own database login, the operator is that user (see [`Desk::identify`]).
    pub async fn for_operator(pool: PgPool, login: &str, read_only: bool) -> Result<Self> {
        Self::identify(pool, &operators::Claim::named(login), read_only).await
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    pub fn actor(&self) -> &Actor {
        &self.actor
    }

    /// The database refusing this login a privilege in the middle of use case `p` (its grants
    /// are the last line: a person's own login whose roles do not allow it): said as the
    /// product's own refusal, naming the role it needs. Other errors pass through.
    pub(crate) fn refused_by_database(&self, e: Error, p: Permission) -> Error {
        match e {
            Error::Database(d) if d.kind == crate::error::DbErrorKind::Privilege => {
                Error::Forbidden {
                    login: self.actor.login.clone(),
                    action: p.describe(),
                    needs: p.needed_roles_text(),
                }
            }
            other => other,
        }
    }

    /// The same pool acting as somebody else.
    pub fn as_actor(&self, actor: Actor) -> Self {
        Self {
            pool: self.pool.clone(),
            actor,
        }
    }

    /// Reads the audit timeline of one entity, newest first.
    pub async fn timeline(
        &self,
        entity_type: &str,
        entity_id: impl ToString,
        limit: i64,
    ) -> Result<Vec<store::audit::AuditEntry>> {
        let mut conn = self.pool.acquire().await?;
        let f = store::audit::AuditFilter {
            entity_type: Some(entity_type.into()),
            entity_id: Some(entity_id.to_string()),
            ..Default::default()
        };
        Ok(store::audit::list(&mut conn, &f, limit).await?)
    }

    /// The audit log, filtered, newest first.
    pub async fn audit(
        &self,
        f: &store::audit::AuditFilter,
        limit: i64,
    ) -> Result<Vec<store::audit::AuditEntry>> {
        let mut conn = self.pool.acquire().await?;
        Ok(store::audit::list(&mut conn, f, limit).await?)
    }
}

/// Refuses a save over a stale version, naming who changed the record and when.
pub(crate) fn check_version(
    entity: &'static str,
    id: impl ToString,
    expected: Option<i32>,
    current: i32,
    changed_by: &str,
    changed_at: chrono::DateTime<chrono::Utc>,
) -> Result<()> {
    match expected {
        Some(v) if v != current => Err(Error::Conflict {
            entity,
            id: id.to_string(),
            changed_by: changed_by.to_owned(),
            changed_at,
            current_version: current,
        }),
        _ => Ok(()),
    }
}

/// Ends a transaction by what ran in it: committed when `result` is `Ok`, otherwise rolled
/// back before this returns. A transaction that is only dropped queues its `ROLLBACK`, which
/// the pool sends later, on a task of its own, when it takes the connection back; until then
/// the refused call's row locks are held, and a job reading `FOR UPDATE SKIP LOCKED` right
/// after it (the expiry job) skips the row as if another job had it.
pub(crate) async fn finish<T>(
    tx: sqlx::Transaction<'_, sqlx::Postgres>,
    result: Result<T>,
) -> Result<T> {
    match result {
        Ok(v) => {
            tx.commit().await?;
            Ok(v)
        }
        Err(e) => {
            // A rollback that fails leaves a broken connection, which the pool closes (and
            // the server ends its transaction); the refusal is what the caller needs to hear.
            let _ = tx.rollback().await;
            Err(e)
        }
    }
}
