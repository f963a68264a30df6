//! `smartpos hostsim`: run the acquirer/issuer host simulator until killed.
//!
//! * `smartpos hostsim --listen 127.0.0.1:PORT [--tls CERT.pem,KEY.pem] [--client-ca CA.pem]
//!   [--config FILE.json]` binds, prints the bound address as the first stdout line (with
//!   `--json`: `{"listen":"127.0.0.1:PORT","tls":bool,"terminals":N,"cards":N}`) and serves
//!   until the process is killed. Port 0 picks a free port.
//! * `smartpos hostsim --print-config` prints the default configuration (terminals, the test
//!   accounts with PAN/PIN/IMK of every contact and contactless virtual card, rules) and exits.

use crate::report::{CliResult, Report, UsageError};
use clap::Args as ClapArgs;
use serde_json::json;
use smartpos_sim::hostsim::{HostSim, HostSimConfig, Identity, ServerTls};
use std::io::Write;
use std::path::PathBuf;

#[derive(ClapArgs)]
pub struct Args {
    /// Address to bind, e.g. 127.0.0.1:0.
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: String,
    /// Serve TLS with this certificate and key: CERT.pem,KEY.pem.
    #[arg(long)]
    tls: Option<String>,
    /// Require client certificates issued by this CA (PEM); needs --tls.
    #[arg(long = "client-ca")]
    client_ca: Option<PathBuf>,
    /// Configuration JSON (terminals, cards, rules, faults); the embedded default otherwise.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Print the default configuration and exit.
    #[arg(long = "print-config")]
    print_config: bool,
}

fn read(path: &std::path::Path, what: &str) -> Result<Vec<u8>, UsageError> {
    std::fs::read(path).map_err(|e| UsageError(format!("{what} {}: {e}", path.display())))
}

pub fn run(args: Args, json_out: bool) -> CliResult {
    if args.print_config {
        // The configuration a plain `smartpos hostsim` runs with: the embedded JSON plus the
        // accounts of every virtual card.
        let v = serde_json::to_value(HostSimConfig::default_config())?;
        return Ok(Report::json(v));
    }
    let config = match &args.config {
        Some(p) => {
            let text = read(p, "--config")?;
            let text =
                String::from_utf8(text).map_err(|_| UsageError("--config: not UTF-8".into()))?;
            HostSimConfig::from_json(&text)
                .map_err(|e| UsageError(format!("--config {}: {e}", p.display())))?
        }
        None => HostSimConfig::default_config(),
    };
    let tls = match &args.tls {
        Some(spec) => {
            let (cert, key) = spec
                .split_once(',')
                .ok_or_else(|| UsageError("--tls: expected CERT.pem,KEY.pem".into()))?;
            let client_ca_pem = match &args.client_ca {
                Some(p) => Some(read(p, "--client-ca")?),
                None => None,
            };
            Some(ServerTls {
                identity: Identity {
                    cert_pem: read(std::path::Path::new(cert), "--tls certificate")?,
                    key_pem: read(std::path::Path::new(key), "--tls key")?,
                },
                client_ca_pem,
            })
        }
        None if args.client_ca.is_some() => {
            return Err(Box::new(UsageError("--client-ca needs --tls".into())));
        }
        None => None,
    };
    let sim = HostSim::start(&config, &args.listen, tls.as_ref())?;
    let addr = sim.addr().to_string();
    let line = if json_out {
        json!({
            "listen": addr,
            "tls": tls.is_some(),
            "terminals": config.terminals.len(),
            "cards": config.cards.len(),
        })
        .to_string()
    } else {
        addr
    };
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}")?;
    out.flush()?;
    drop(out);
    loop {
        std::thread::park();
    }
}
