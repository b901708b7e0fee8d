//! The typed errors that services return. Each one displays as a single clear line that the
//! console shows as a toast and the command line prints before exiting non-zero.

use crate::domain::{FlagKind, ValidationErrors};
use chrono::{DateTime, Utc};
use std::fmt;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// One or more fields broke a rule; each names the field and the rule.
    #[error("{0}")]
    Validation(#[from] ValidationErrors),

    #[error("{entity} {id} not found")]
    NotFound { entity: &'static str, id: String },

    /// Optimistic concurrency: somebody saved first.
    #[error(
        "{entity} {id} was changed by {changed_by} at {} since you loaded it; reload it and apply your change again",
        changed_at.format("%Y-%m-%d %H:%M:%S UTC")
    )]
    Conflict {
        entity: &'static str,
        id: String,
        changed_by: String,
        changed_at: DateTime<Utc>,
        current_version: i32,
    },

    #[error("{login} may not {action}: it needs the {needs} role")]
    Forbidden {
        login: String,
        action: &'static str,
        needs: String,
    },

    #[error(
        "{login} is not a registered operator, so may not {action}: it needs the {needs} role (an admin can run: partnerdesk operators add {login} --role {needs_first})"
    )]
    NotRegistered {
        login: String,
        action: &'static str,
        needs: String,
        needs_first: &'static str,
    },

    #[error("read-only: {action} is not available in a read-only session")]
    ReadOnly { action: &'static str },

    #[error(
        "partner {partner} (#{partner_id}) still has {count} deal{} that {} not expired ({breakdown}); pause and expire them first (off-board pauses every active deal in one step)",
        if *count == 1 { "" } else { "s" },
        if *count == 1 { "is" } else { "are" }
    )]
    HasDeals {
        partner_id: i64,
        partner: String,
        count: i64,
        breakdown: String,
    },

    #[error("cannot move {entity} {id} from {from} to {to}: {reason}")]
    InvalidTransition {
        entity: &'static str,
        id: String,
        from: String,
        to: String,
        reason: String,
    },

    #[error(
        "deal cannot become active: partner {partner} (#{partner_id}) is {state}, not verified; vet the partner first"
    )]
    PartnerNotVerified {
        partner_id: i64,
        partner: String,
        state: String,
    },

    #[error(
        "website_url: the domain {domain} already belongs to partner {existing_name} (#{existing_id})"
    )]
    DuplicateDomain {
        domain: String,
        existing_id: i64,
        existing_name: String,
    },

    #[error("{0}")]
    AlreadyExists(String),

    /// Redemption refusals (SPEC §1.5).
    #[error("{0}")]
    Redemption(RedemptionRefusal),

    /// A flag or unflag that does not fit the redemption's state (SPEC §1.5).
    #[error("{0}")]
    Flag(FlagRefusal),

    /// A session connected as a person's own database login named somebody else.
    #[error(
        "{source_name} {claimed}: this session's database login is {db_user}, so it acts as {db_user} and no one else (drop {source_name}, or connect as {claimed})"
    )]
    Impersonation {
        claimed: String,
        db_user: String,
        /// Where the other name came from: `--operator` or the config file's `operator`.
        source_name: &'static str,
    },

    /// A rule refused the request (the last admin, a reset over real data), said plainly.
    #[error("{0}")]
    Refused(String),

    /// The operator cancelled a long-running operation (an export).
    #[error("{what} cancelled")]
    Cancelled { what: &'static str },

    /// Reading or writing a file or a stream failed.
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },

    #[error("{0}")]
    Database(#[from] DbError),

    /// Bad configuration (config file, keymap, profile), said plainly.
    #[error("{0}")]
    Config(String),

    /// The command line asked for something that cannot be done as asked (no flag given
    /// where one is needed, flags that contradict each other), said plainly.
    #[error("{0}")]
    Usage(String),
}

/// The exit codes of every command, one scheme (see [`Error::exit_code`]).
pub mod exit {
    /// Done.
    pub const SUCCESS: u8 = 0;
    /// Failed: the database unreachable, a file unreadable, anything unexpected.
    pub const FAILURE: u8 = 1;
    /// Bad usage: unknown or malformed flags and arguments, a bad config file or profile.
    pub const USAGE: u8 = 2;
    /// Refused by the rules: validation, permission, state transition, conflict, cap reached.
    pub const REFUSED: u8 = 3;
    /// What the command names does not exist (a deal, a partner, a member, an operator…).
    pub const NOT_FOUND: u8 = 4;
    /// Cancelled by Ctrl-C (128 + SIGINT, as a shell reports it).
    pub const CANCELLED: u8 = 130;
}

/// Why a redemption was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RedemptionRefusal {
    /// The deal does not exist or the member cannot see it.
    NotFound {
        deal_id: i64,
    },
    NotActive {
        deal_id: i64,
        state: String,
    },
    OutsideWindow {
        deal_id: i64,
        from: DateTime<Utc>,
        until: DateTime<Utc>,
    },
    AlreadyRedeemed {
        deal_id: i64,
        member_id: i64,
        redeemed_at: DateTime<Utc>,
    },
    CapReached {
        deal_id: i64,
        cap: i32,
    },
}

impl RedemptionRefusal {
    /// A short machine-friendly name for counts and exit reports.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotFound { .. } => "not_found",
            Self::NotActive { .. } => "not_active",
            Self::OutsideWindow { .. } => "outside_window",
            Self::AlreadyRedeemed { .. } => "already_redeemed",
            Self::CapReached { .. } => "cap_reached",
        }
    }
}

impl fmt::Display for RedemptionRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ts = |t: &DateTime<Utc>| t.format("%Y-%m-%d %H:%M:%S%.3f UTC").to_string();
        match self {
            Self::NotFound { deal_id } => write!(f, "not found: deal {deal_id}"),
            Self::NotActive { deal_id, state } => {
                write!(f, "not active: deal {deal_id} is {state}")
            }
            Self::OutsideWindow {
                deal_id,
                from,
                until,
            } => write!(
                f,
                "outside window: deal {deal_id} is valid from {} until {}",
                ts(from),
                ts(until)
            ),
            Self::AlreadyRedeemed {
                deal_id,
                member_id,
                redeemed_at,
            } => write!(
                f,
                "already redeemed: member {member_id} redeemed deal {deal_id} at {}",
                ts(redeemed_at)
            ),
            Self::CapReached { deal_id, cap } => {
                write!(f, "cap reached: deal {deal_id} allows {cap} redemptions")
            }
        }
    }
}

/// Why a flag or an unflag was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FlagRefusal {
    /// Flagging a redemption that is flagged already.
    AlreadyFlagged {
        redemption_id: i64,
        kind: FlagKind,
        flagged_by: String,
        flagged_at: DateTime<Utc>,
    },
    /// Unflagging a redemption that is not flagged.
    NotFlagged { redemption_id: i64 },
}

impl fmt::Display for FlagRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::AlreadyFlagged {
                redemption_id,
                kind,
                flagged_by,
                flagged_at,
            } => write!(
                f,
                "redemption {redemption_id} is already flagged as {kind} by {flagged_by} at {}; unflag it first",
                flagged_at.format("%Y-%m-%d %H:%M:%S UTC")
            ),
            Self::NotFlagged { redemption_id } => write!(
                f,
                "redemption {redemption_id} is not flagged, so there is nothing to unflag"
            ),
        }
    }
}

impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Self {
        Error::Database(DbError::from(e))
    }
}

/// A database failure, described in one line without driver debug output or secrets.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct DbError {
    pub kind: DbErrorKind,
    pub message: String,
    /// The SQLSTATE, when the server sent one.
    pub code: Option<String>,
}

/// The SQLSTATE the schema's own rules raise (triggers and functions of migration 0024).
pub const RULE_SQLSTATE: &str = "PDR01";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DbErrorKind {
    Unreachable,
    Authentication,
    Privilege,
    Tls,
    MissingDatabase,
    Timeout,
    Constraint,
    /// One of the schema's own rules (SQLSTATE PDR01, migration 0024): its message is the
    /// refusal, said as the program says it.
    Rule,
    ConnectionLost,
    Migration,
    Other,
}

impl DbError {
    pub fn new(kind: DbErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            code: None,
        }
    }

    /// Describes an error that happened while talking to `target` (`user@host:port/db`).
    pub fn at(e: &sqlx::Error, target: &str) -> Self {
        let mut d = Self::from_ref(e);
        d.message = match d.kind {
            DbErrorKind::Unreachable => {
                format!("cannot reach PostgreSQL at {target}: {}", d.message)
            }
            DbErrorKind::Timeout => format!("timed out connecting to PostgreSQL at {target}"),
            DbErrorKind::Tls => format!("TLS with {target} failed: {}", d.message),
            DbErrorKind::Authentication => format!("{target}: {}", d.message),
            DbErrorKind::Privilege => format!("{target}: missing privileges: {}", d.message),
            DbErrorKind::MissingDatabase => format!("{target}: {}", d.message),
            _ => format!("{target}: {}", d.message),
        };
        d
    }

    fn from_ref(e: &sqlx::Error) -> Self {
        use std::io::ErrorKind as Io;
        match e {
            sqlx::Error::Io(io) => {
                let what = match io.kind() {
                    Io::ConnectionRefused => {
                        "connection refused (is the server running?)".to_owned()
                    }
                    Io::NotFound => "no server socket there (is the server running?)".to_owned(),
                    Io::TimedOut => "connection timed out".to_owned(),
                    // rustls reports a failed handshake (untrusted certificate, wrong name,
                    // protocol mismatch) as InvalidData wrapping its own error.
                    Io::InvalidData if io.get_ref().is_some() => {
                        return Self::new(DbErrorKind::Tls, io.to_string());
                    }
                    Io::ConnectionReset
                    | Io::ConnectionAborted
                    | Io::BrokenPipe
                    | Io::UnexpectedEof => {
                        return Self::new(
                            DbErrorKind::ConnectionLost,
                            "lost the connection to the database",
                        );
                    }
                    _ => io.to_string(),
                };
                Self::new(DbErrorKind::Unreachable, what)
            }
            sqlx::Error::Tls(t) => Self::new(DbErrorKind::Tls, t.to_string()),
            sqlx::Error::PoolTimedOut => Self::new(
                DbErrorKind::Timeout,
                "timed out waiting for a database connection",
            ),
            sqlx::Error::PoolClosed | sqlx::Error::WorkerCrashed => Self::new(
                DbErrorKind::ConnectionLost,
                "lost the connection to the database",
            ),
            sqlx::Error::Configuration(c) => {
                Self::new(DbErrorKind::Other, format!("bad connection settings: {c}"))
            }
            sqlx::Error::Database(db) => {
                let code = db.code().map(|c| c.into_owned());
                let msg = db.message().to_owned();
                let kind = match code.as_deref() {
                    Some("28P01") | Some("28000") => DbErrorKind::Authentication,
                    Some("42501") => DbErrorKind::Privilege,
                    Some("3D000") => DbErrorKind::MissingDatabase,
                    Some(RULE_SQLSTATE) => DbErrorKind::Rule,
                    Some(c) if c.starts_with("23") => DbErrorKind::Constraint,
                    Some("57P01") | Some("57P02") | Some("57P03") => DbErrorKind::ConnectionLost,
                    _ => DbErrorKind::Other,
                };
                let message = match kind {
                    DbErrorKind::Other | DbErrorKind::Constraint => match &code {
                        Some(c) => format!("database error: {msg} (SQLSTATE {c})"),
                        None => format!("database error: {msg}"),
                    },
                    _ => msg,
                };
                Self {
                    kind,
                    message,
                    code,
                }
            }
            // The stream broke off mid-message: the connection went away.
            sqlx::Error::Protocol(_) => Self::new(
                DbErrorKind::ConnectionLost,
                "lost the connection to the database",
            ),
            sqlx::Error::RowNotFound => Self::new(
                DbErrorKind::Other,
                "database error: expected a row, found none",
            ),
            sqlx::Error::Migrate(m) => Self::new(DbErrorKind::Migration, describe_migrate(m)),
            other => Self::new(DbErrorKind::Other, format!("database error: {other}")),
        }
    }

    /// Is this the connection going away (worth showing *reconnecting* and retrying)?
    pub fn is_connection_lost(&self) -> bool {
        matches!(
            self.kind,
            DbErrorKind::ConnectionLost | DbErrorKind::Unreachable | DbErrorKind::Timeout
        )
    }
}

impl From<sqlx::Error> for DbError {
    fn from(e: sqlx::Error) -> Self {
        Self::from_ref(&e)
    }
}

/// One line for a migration failure.
pub fn describe_migrate(m: &sqlx::migrate::MigrateError) -> String {
    use sqlx::migrate::MigrateError as M;
    match m {
        M::VersionMissing(v) => format!(
            "the database has migration {v} which this partnerdesk does not know; it was migrated by a newer version, so upgrade partnerdesk"
        ),
        M::VersionMismatch(v) => format!(
            "migration {v} differs from the one applied to the database; the migrations were edited after release"
        ),
        M::Dirty(v) => format!(
            "migration {v} failed part-way earlier; fix the database by hand, then run partnerdesk migrate"
        ),
        M::Execute(e) => format!("a migration failed: {}", DbError::from_ref(e).message),
        M::ExecuteMigration(e, v) => {
            format!("migration {v} failed: {}", DbError::from_ref(e).message)
        }
        other => format!("migration failed: {other}"),
    }
}

impl Error {
    /// The exit code of a command that ends with this error: the one scheme of [`exit`].
    /// 1 failure, 2 usage, 3 refused by the rules, 4 not found, 130 cancelled.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Validation(_)
            | Error::Conflict { .. }
            | Error::Forbidden { .. }
            | Error::NotRegistered { .. }
            | Error::ReadOnly { .. }
            | Error::HasDeals { .. }
            | Error::InvalidTransition { .. }
            | Error::PartnerNotVerified { .. }
            | Error::DuplicateDomain { .. }
            | Error::AlreadyExists(_)
            | Error::Impersonation { .. }
            | Error::Refused(_)
            | Error::Flag(_) => exit::REFUSED,
            Error::Redemption(RedemptionRefusal::NotFound { .. }) => exit::NOT_FOUND,
            Error::Redemption(_) => exit::REFUSED,
            Error::NotFound { .. } => exit::NOT_FOUND,
            Error::Cancelled { .. } => exit::CANCELLED,
            Error::Config(_) | Error::Usage(_) => exit::USAGE,
            // A CHECK or unique constraint is a rule of the schema refusing the change.
            // So is the database refusing a login what its roles do not allow.
            Error::Database(d)
                if matches!(
                    d.kind,
                    DbErrorKind::Constraint | DbErrorKind::Rule | DbErrorKind::Privilege
                ) =>
            {
                exit::REFUSED
            }
            Error::Database(_) | Error::Io { .. } => exit::FAILURE,
        }
    }

    /// One field that broke one rule: `period: must be a month like 2026-10`.
    pub fn field(name: &'static str, rule: impl Into<String>) -> Self {
        let mut e = ValidationErrors::new();
        e.push(name, rule);
        Error::Validation(e)
    }

    pub fn not_found(entity: &'static str, id: impl ToString) -> Self {
        Error::NotFound {
            entity,
            id: id.to_string(),
        }
    }

    /// The SQLSTATE of a database error, if any.
    pub fn sqlstate(&self) -> Option<&str> {
        match self {
            Error::Database(d) => d.code.as_deref(),
            _ => None,
        }
    }
}

/// The unique-violation constraint name of a raw sqlx error, if that is what it is.
pub fn unique_violation(e: &sqlx::Error) -> Option<String> {
    match e {
        sqlx::Error::Database(db) if db.code().as_deref() == Some("23505") => {
            Some(db.constraint().unwrap_or_default().to_owned())
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_follow_one_scheme() {
        let refused: Error = ValidationErrors::default().into();
        assert_eq!(refused.exit_code(), 3);
        assert_eq!(Error::not_found("deal", 1).exit_code(), 4);
        assert_eq!(Error::not_found("member", 1).exit_code(), 4);
        assert_eq!(
            Error::Redemption(RedemptionRefusal::NotFound { deal_id: 1 }).exit_code(),
            4,
            "a missing deal is not found whichever command names it"
        );
        assert_eq!(
            Error::Redemption(RedemptionRefusal::CapReached { deal_id: 1, cap: 1 }).exit_code(),
            3
        );
        assert_eq!(Error::ReadOnly { action: "x" }.exit_code(), 3);
        assert_eq!(Error::Config("bad".into()).exit_code(), 2);
        assert_eq!(Error::Cancelled { what: "export" }.exit_code(), 130);
        let down = Error::Database(DbError::new(DbErrorKind::Unreachable, "down"));
        assert_eq!(down.exit_code(), 1);
    }

    #[test]
    fn a_failed_tls_handshake_is_a_tls_error_not_unreachable() {
        // What rustls hands back through the socket when it does not trust the certificate.
        let io = std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "invalid peer certificate: UnknownIssuer",
        );
        let d = DbError::at(&sqlx::Error::Io(io), "u@db.example:5432/pd");
        assert_eq!(d.kind, DbErrorKind::Tls);
        assert_eq!(
            d.message,
            "TLS with u@db.example:5432/pd failed: invalid peer certificate: UnknownIssuer"
        );
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        let d = DbError::at(&sqlx::Error::Io(refused), "u@h:1/x");
        assert_eq!(d.kind, DbErrorKind::Unreachable);
    }
}
