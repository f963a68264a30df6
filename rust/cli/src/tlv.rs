//! `smartpos tlv ...`: owned by the tlv work; see the issue for the subcommands and JSON keys.

use crate::report::{CliResult, UsageError};
use clap::Subcommand;

#[derive(Subcommand)]
pub enum Cmd {
    /// Placeholder until the tlv tools land.
    Todo,
}

pub fn run(cmd: Cmd) -> CliResult {
    match cmd {
        Cmd::Todo => Err(Box::new(UsageError("not implemented yet".into()))),
    }
}
