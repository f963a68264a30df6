//! `smartpos crypto tr31|emv|sm2|sm3 ...`: owned by the crypto_asym work; see the issue for the subcommands and JSON keys.

use crate::report::{CliResult, UsageError};
use clap::Subcommand;

#[derive(Subcommand)]
pub enum Cmd {
    /// Placeholder until the crypto_asym tools land.
    TodoAsym,
}

pub fn run(cmd: Cmd) -> CliResult {
    match cmd {
        Cmd::TodoAsym => Err(Box::new(UsageError("not implemented yet".into()))),
    }
}
