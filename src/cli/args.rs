//! Flags several subcommands share, and how a mutation reports what it did.

use super::output::{self, outln};
use crate::error::Result;
use clap::Args;
use std::process::ExitCode;

/// `--version N`: optimistic concurrency for scripts.
#[derive(Debug, Args)]
pub struct Guard {
    /// Refuse unless the record is still at this version (as `show` or `list` printed it).
    #[arg(long, value_name = "N")]
    pub version: Option<i32>,
}

/// `--json`: the record as one JSON document instead of a line for people.
#[derive(Debug, Args)]
pub struct Print {
    /// Print the result as one JSON document.
    #[arg(long)]
    pub json: bool,
}

/// Prints `value` as JSON or `line()` for people.
pub fn done<T: serde::Serialize + ?Sized>(
    print: &Print,
    value: &T,
    line: impl FnOnce() -> String,
) -> Result<ExitCode> {
    if print.json {
        output::json(value)?;
    } else {
        outln!("{}", line());
    }
    Ok(ExitCode::SUCCESS)
}
