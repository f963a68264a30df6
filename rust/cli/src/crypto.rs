//! `smartpos crypto ...`: owned by the symmetric-crypto work (kcv, dukpt, pinblock, mac, sm4); see the issue for the subcommands and JSON keys.

use crate::report::{CliResult, UsageError};
use clap::Subcommand;

#[derive(Subcommand)]
pub enum Cmd {
    /// Placeholder until the symmetric crypto tools land.
    Todo,
    /// TR-31, EMV issuer-side crypto, SM2, SM3 (see crypto_asym.rs).
    #[command(flatten)]
    Asym(crate::crypto_asym::Cmd),
}

pub fn run(cmd: Cmd) -> CliResult {
    match cmd {
        Cmd::Todo => Err(Box::new(UsageError("not implemented yet".into()))),
        Cmd::Asym(cmd) => crate::crypto_asym::run(cmd),
    }
}
