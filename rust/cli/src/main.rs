//! `smartpos`: the demo and the integrator's toolbox.
//!
//! Every tool subcommand accepts `--json` and then prints exactly one JSON object on stdout; hex is
//! upper-case. Errors go to stderr with a non-zero exit code (2 for bad input, 1 otherwise).

mod crypto;
mod crypto_asym;
mod emv;
mod hostsim;
mod iso8583;
mod operator;
mod qr;
mod report;
mod terminal;
mod tlv;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "smartpos",
    version,
    about = "smartpos payment core: demo and tools"
)]
struct Cli {
    /// Print one JSON object on stdout instead of text.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// BER-TLV tools (EMV Book 3 Annex B).
    #[command(subcommand)]
    Tlv(tlv::Cmd),
    /// Payment cryptography tools.
    #[command(subcommand)]
    Crypto(crypto::Cmd),
    /// ISO 8583 tools.
    #[command(subcommand)]
    Iso8583(iso8583::Cmd),
    /// QR payment codes.
    #[command(subcommand)]
    Qr(qr::Cmd),
    /// EMV transactions against scripted, virtual or PC/SC cards.
    #[command(subcommand)]
    Emv(emv::Cmd),
    /// Run the acquirer/issuer host simulator until killed.
    Hostsim(hostsim::Args),
    /// A merchant's day: host simulator, journal, virtual cards, receipts, settlement.
    Demo(terminal::DemoArgs),
    /// Card sale against a running host simulator with a virtual card.
    Sale(terminal::SaleArgs),
    /// Void a sale of the open batch (by journal id).
    Void(terminal::VoidArgs),
    /// Refund a sale (by journal id).
    Refund(terminal::RefundArgs),
    /// Settle the open batch and print the settlement report.
    Settle(terminal::SettleArgs),
    /// Operator accounts: add, list, unlock (argon2id, lock-out, audited in the journal).
    #[command(subcommand)]
    Operator(operator::OperatorCmd),
    /// Journal tools: list, show, export, backup.
    #[command(subcommand)]
    Journal(terminal::JournalCmd),
}

fn main() {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => std::process::exit(report::argument_error(&e)),
    };
    let result = match cli.command {
        Command::Tlv(cmd) => tlv::run(cmd),
        Command::Crypto(cmd) => crypto::run(cmd),
        Command::Iso8583(cmd) => iso8583::run(cmd),
        Command::Qr(cmd) => qr::run(cmd),
        Command::Hostsim(args) => hostsim::run(args, cli.json),
        Command::Emv(cmd) => emv::run(cmd),
        Command::Demo(args) => terminal::run_demo(args),
        Command::Sale(args) => terminal::run_sale(args),
        Command::Void(args) => terminal::run_void(args),
        Command::Refund(args) => terminal::run_refund(args),
        Command::Settle(args) => terminal::run_settle(args),
        Command::Journal(cmd) => terminal::run_journal(cmd),
        Command::Operator(cmd) => operator::run(cmd),
    };
    std::process::exit(report::emit(result, cli.json));
}
