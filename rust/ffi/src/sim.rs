//! Test-only surface (cargo feature `sim`): the virtual cards of smartpos-sim as objects a
//! Kotlin test wraps in its own `CardReader`, and a kernel configured for their test PKI.
//!
//! Enabled by scripts/jvm-test.sh and scripts/bench.sh; never by scripts/build-android.sh, so
//! no release library carries it.

use std::sync::{Arc, Mutex};

use once_cell::sync::OnceCell;
use smartpos_emv::{Apdu, CardTransport, TerminalConfig};
use smartpos_sim::contactless::pki::TestPki as ContactlessPki;
use smartpos_sim::contactless::{Profile, Scheme};

use crate::apdu::parse_hex;
use crate::error::SmartPosError;
use crate::kernel::{EmvKernel, HostAuthorisation};
use crate::session::CardReader;

/// The contactless test PKIs (one CA per scheme, index F3), generated once per process.
fn contactless_pkis() -> Result<&'static [(Scheme, Arc<ContactlessPki>)], SmartPosError> {
    static PKIS: OnceCell<Vec<(Scheme, Arc<ContactlessPki>)>> = OnceCell::new();
    PKIS.get_or_try_init(|| {
        [Scheme::Visa, Scheme::Mastercard, Scheme::UnionPay]
            .into_iter()
            .map(|scheme| {
                ContactlessPki::generate(scheme.rid())
                    .map(|pki| (scheme, Arc::new(pki)))
                    .map_err(|e| sim_error(format!("contactless test PKI: {e}")))
            })
            .collect()
    })
    .map(Vec::as_slice)
}

fn sim_error(reason: String) -> SmartPosError {
    SmartPosError::InvalidConfiguration {
        what: "simulator".into(),
        reason,
    }
}

/// The demo terminal trusting the simulator's contact PKI (CA index D7, with its revocation
/// list) and the contactless test PKIs (index F3): the kernel the virtual cards are made for.
#[uniffi::export]
pub fn simulated_emv_kernel() -> Result<Arc<EmvKernel>, SmartPosError> {
    let pki = smartpos_sim::pki::TestPki::shared()
        .map_err(|e| sim_error(format!("contact test PKI: {e}")))?;
    let mut config = TerminalConfig::demo().map_err(|e| sim_error(e.to_string()))?;
    config.terminal.revoked_certificates = pki.revocation_list();
    let mut keys = pki
        .key_store()
        .map_err(|e| sim_error(format!("contact CA keys: {e}")))?;
    for (_, cl) in contactless_pkis()? {
        cl.install(&mut keys)
            .map_err(|e| sim_error(format!("contactless CA keys: {e}")))?;
    }
    Ok(Arc::new(EmvKernel::from_parts(config, keys, None)?))
}

/// Names of the contactless profiles [`SimulatedCard::contactless`] knows.
pub const CONTACTLESS_PROFILES: [&str; 9] = [
    "visa_card",
    "visa_online_only",
    "visa_phone",
    "visa_decline",
    "mastercard_card",
    "mastercard_phone",
    "unionpay_card",
    "unionpay_ec",
    "unionpay_phone",
];

fn contactless_profile(name: &str) -> Option<Profile> {
    Some(match name {
        "visa_card" => Profile::visa_card(),
        "visa_online_only" => Profile::visa_online_only(),
        "visa_phone" => Profile::visa_phone(),
        "visa_decline" => {
            let mut p = Profile::visa_card();
            p.decline = true;
            p
        }
        "mastercard_card" => Profile::mastercard_card(),
        "mastercard_phone" => Profile::mastercard_phone(),
        "unionpay_card" => Profile::unionpay_card(),
        "unionpay_ec" => Profile::unionpay_ec(100_000),
        "unionpay_phone" => Profile::unionpay_phone(),
        _ => return None,
    })
}

enum Card {
    Contact(Box<smartpos_sim::card::VirtualCard>),
    Contactless(Box<smartpos_sim::contactless::VirtualCard>),
}

/// A virtual card: answers command APDUs like the real card of its profile would (real
/// cryptograms, ODA signatures under the test PKI, PIN try counter).
#[derive(uniffi::Object)]
pub struct SimulatedCard {
    card: Mutex<Card>,
}

#[uniffi::export]
impl SimulatedCard {
    /// A contact card by its smartpos-sim profile name (`visa-dda-offline-approve`,
    /// `visa-cda-online-pin`, ... as `smartpos emv sims` lists them).
    #[uniffi::constructor]
    pub fn contact(profile: String) -> Result<Arc<Self>, SmartPosError> {
        let card = smartpos_sim::card::VirtualCard::from_profile(&profile).map_err(|e| {
            SmartPosError::InvalidInput {
                field: "profile".into(),
                reason: e.to_string(),
            }
        })?;
        Ok(Arc::new(SimulatedCard {
            card: Mutex::new(Card::Contact(Box::new(card))),
        }))
    }

    /// A contactless card or phone: one of [`CONTACTLESS_PROFILES`].
    #[uniffi::constructor]
    pub fn contactless(profile: String) -> Result<Arc<Self>, SmartPosError> {
        let p = contactless_profile(&profile).ok_or_else(|| SmartPosError::InvalidInput {
            field: "profile".into(),
            reason: format!(
                "no contactless profile {profile:?}; known: {}",
                CONTACTLESS_PROFILES.join(", ")
            ),
        })?;
        let pki = contactless_pkis()?
            .iter()
            .find(|(scheme, _)| *scheme == p.scheme)
            .map(|(_, pki)| pki.clone())
            .ok_or_else(|| sim_error("no test PKI for this scheme".into()))?;
        let card = smartpos_sim::contactless::VirtualCard::new(p, pki)
            .map_err(|e| sim_error(format!("personalising the card: {e}")))?;
        Ok(Arc::new(SimulatedCard {
            card: Mutex::new(Card::Contactless(Box::new(card))),
        }))
    }

    /// The simulated issuer's answer to this contact card's online request: the ARQC in
    /// `field55` (hex) verified under the scheme's test issuer master key, ARPC method 1 for
    /// ARC `00` (approve) or `05` (EMV Book 2 §8.2.1). `Protocol` if the ARQC does not verify.
    pub fn issuer_response(
        &self,
        field55: String,
        approve: bool,
    ) -> Result<HostAuthorisation, SmartPosError> {
        let record = parse_hex("field55", &field55)?;
        let card = self.card.lock().map_err(|_| SmartPosError::Transport {
            reason: "the virtual card panicked earlier".into(),
        })?;
        let Card::Contact(contact) = &*card else {
            return Err(SmartPosError::InvalidInput {
                field: "card".into(),
                reason: "issuer responses are simulated for contact cards".into(),
            });
        };
        let scheme = contact.profile().scheme;
        let arc = if approve { *b"00" } else { *b"05" };
        let verdict = smartpos_sim::card::issuer::authorise(scheme, &record, arc).map_err(|e| {
            SmartPosError::Protocol {
                reason: format!("simulated issuer: {e}"),
            }
        })?;
        if !verdict.arqc_valid {
            return Err(SmartPosError::Protocol {
                reason: "simulated issuer: the ARQC in field 55 does not verify".into(),
            });
        }
        Ok(HostAuthorisation {
            approved: approve,
            response_code: String::from_utf8_lossy(&arc).into_owned(),
            issuer_authentication_data: verdict.issuer_authentication_data,
            issuer_scripts: Vec::new(),
        })
    }

    /// Answer one command APDU (data + SW1 SW2). A command that is not an APDU is
    /// `InvalidInput`; the card's own failures (a torn profile) are `Transport`.
    pub fn transceive(&self, apdu: Vec<u8>) -> Result<Vec<u8>, SmartPosError> {
        let command = Apdu::decode(&apdu).map_err(|e| SmartPosError::InvalidInput {
            field: "apdu".into(),
            reason: e.to_string(),
        })?;
        let mut card = self.card.lock().map_err(|_| SmartPosError::Transport {
            reason: "the virtual card panicked earlier".into(),
        })?;
        let response = match &mut *card {
            Card::Contact(c) => c.exchange(&command),
            Card::Contactless(c) => c.exchange(&command),
        };
        response
            .map(|r| r.to_bytes())
            .map_err(|e| SmartPosError::Transport {
                reason: e.to_string(),
            })
    }
}

/// Names of the contactless profiles, for test parameterisation.
#[uniffi::export]
pub fn simulated_contactless_profiles() -> Vec<String> {
    CONTACTLESS_PROFILES.iter().map(|s| s.to_string()).collect()
}

/// The acquirer/issuer host simulator of smartpos-sim on loopback TCP (sign-on keys, MAC,
/// ARQC/ARPC, amount rules: an amount ending in 05/51/55/91/96 gets that response code).
#[derive(uniffi::Object)]
pub struct HostSimulator {
    sim: Mutex<smartpos_sim::hostsim::HostSim>,
}

fn host_lock(
    m: &Mutex<smartpos_sim::hostsim::HostSim>,
) -> std::sync::MutexGuard<'_, smartpos_sim::hostsim::HostSim> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

#[uniffi::export]
impl HostSimulator {
    /// Start with the default configuration on `127.0.0.1`, any free port.
    #[uniffi::constructor]
    pub fn start() -> Result<Arc<Self>, SmartPosError> {
        let sim = smartpos_sim::hostsim::HostSim::start_default()
            .map_err(|e| sim_error(format!("host simulator: {e}")))?;
        Ok(Arc::new(HostSimulator {
            sim: Mutex::new(sim),
        }))
    }

    /// Start like [`HostSimulator::start`], but a QR order (wallet code or merchant QR) is
    /// paid by the host itself only after `qr_polls_until_paid` status queries (default 2): a
    /// large number leaves merchant-QR orders to [`HostSimulator::wallet_pay`].
    #[uniffi::constructor]
    pub fn start_with_qr_polls(qr_polls_until_paid: u32) -> Result<Arc<Self>, SmartPosError> {
        let mut config = smartpos_sim::hostsim::HostSimConfig::default_config();
        config.qr_polls_until_paid = qr_polls_until_paid;
        let sim = smartpos_sim::hostsim::HostSim::start(&config, "127.0.0.1:0", None)
            .map_err(|e| sim_error(format!("host simulator: {e}")))?;
        Ok(Arc::new(HostSimulator {
            sim: Mutex::new(sim),
        }))
    }

    /// `host:port` it listens on.
    pub fn address(&self) -> String {
        host_lock(&self.sim).addr().to_string()
    }

    /// Transactions the host approved (reversed ones included).
    pub fn approved_count(&self) -> u32 {
        let ledger = host_lock(&self.sim).ledger();
        u32::try_from(ledger.entries.iter().filter(|e| e.approved).count()).unwrap_or(u32::MAX)
    }

    /// Requests handled.
    pub fn request_count(&self) -> u32 {
        host_lock(&self.sim).ledger().requests
    }

    /// Reversals applied.
    pub fn reversals_applied(&self) -> u32 {
        host_lock(&self.sim).ledger().reversals_applied
    }

    /// A simulated customer's wallet pays the merchant-presented QR `payload` the terminal
    /// showed (its `merchant_qr` event): the order becomes paid at the host, the terminal's next
    /// query sees it. Returns the order's RRN; `InvalidInput` when the payload names no open
    /// order of this host.
    pub fn wallet_pay(&self, payload: String) -> Result<String, SmartPosError> {
        host_lock(&self.sim)
            .wallet_pay(&payload)
            .map_err(|e| SmartPosError::InvalidInput {
                field: "payload".into(),
                reason: e.to_string(),
            })
    }

    /// The next `count` requests are handled (the host applies them) but never answered: the
    /// terminal's read times out (lost answers, e.g. a refund left pending).
    pub fn withhold_answers(&self, count: u32) {
        host_lock(&self.sim).inject(smartpos_sim::hostsim::Fault::NoAnswer, count);
    }

    /// Stop listening (later connections are refused).
    pub fn stop(&self) {
        host_lock(&self.sim).shutdown();
    }
}

/// The simulator's default terminal master key (a TEST key, never for production).
#[uniffi::export]
pub fn simulated_master_key() -> Vec<u8> {
    // smartpos-sim hostsim default terminal TMK.
    crate::apdu::parse_hex("tmk", "11111111111111112222222222222222").unwrap_or_default()
}

/// The CA public key record (EMV Book 2 §11.2.2: RID, index, modulus, exponent, expiry and the
/// SHA-1 checksum over RID || index || modulus || exponent) of a contactless test PKI.
fn contactless_ca_record(pki: &ContactlessPki) -> smartpos_emv::config::CaPublicKeyRecord {
    let public = pki.ca.public_key();
    let index = smartpos_sim::contactless::pki::TEST_CA_INDEX;
    let mut hashed = pki.rid.to_vec();
    hashed.push(index);
    hashed.extend_from_slice(public.modulus());
    hashed.extend_from_slice(public.exponent());
    smartpos_emv::config::CaPublicKeyRecord {
        rid: pki.rid.to_vec(),
        index: format!("{index:02X}"),
        modulus: public.modulus().to_vec(),
        exponent: public.exponent().to_vec(),
        // The contactless test PKI installs its CA key expiring 2030-12-31.
        expiry: "301231".into(),
        checksum: smartpos_crypto::hash::sha1(&hashed).to_vec(),
        source: "smartpos-sim contactless test PKI (test only)".into(),
        modulus_bits: public.modulus_len() * 8,
    }
}

/// Write a configuration directory for a terminal talking to the host simulator at
/// `host_address`: `terminal.toml` (host, short timeouts and QR poll interval, no duplicate
/// window), `emv.json` (the
/// demo terminal with the simulator PKI's revocation list) and `ca_keys.json` (the simulator's
/// contact CA keys and the contactless test CA keys, index F3, of the virtual cards of
/// [`SimulatedCard::contactless`]).
#[uniffi::export]
pub fn write_simulated_config(
    config_dir: String,
    host_address: String,
) -> Result<(), SmartPosError> {
    let dir = std::path::Path::new(&config_dir);
    let write = |name: &str, text: String| {
        std::fs::write(dir.join(name), text).map_err(|e| SmartPosError::InvalidInput {
            field: "config_dir".into(),
            reason: format!("writing {name}: {e}"),
        })
    };
    std::fs::create_dir_all(dir).map_err(|e| SmartPosError::InvalidInput {
        field: "config_dir".into(),
        reason: e.to_string(),
    })?;
    let toml = format!(
        "qr_poll_interval_ms = 20\nqr_max_polls = 100\n\n[host]\naddress = \"{host_address}\"\nconnect_timeout_ms = 1500\nresponse_timeout_ms = 1500\n\n[risk]\nduplicate_window_secs = 0\n"
    );
    write("terminal.toml", toml)?;
    let pki = smartpos_sim::pki::TestPki::shared()
        .map_err(|e| sim_error(format!("contact test PKI: {e}")))?;
    let mut config = TerminalConfig::demo().map_err(|e| sim_error(e.to_string()))?;
    config.terminal.revoked_certificates = pki.revocation_list();
    write(
        "emv.json",
        serde_json::to_string_pretty(&config).map_err(|e| sim_error(e.to_string()))?,
    )?;
    let mut records: Vec<_> = pki.schemes.iter().map(|s| s.ca_key_record()).collect();
    for (_, cl) in contactless_pkis()? {
        records.push(contactless_ca_record(cl));
    }
    let keys = smartpos_emv::config::CaKeyFile {
        comment: "smartpos-sim test PKIs, contact and contactless (test only)".into(),
        keys: records,
    };
    write(
        "ca_keys.json",
        serde_json::to_string_pretty(&keys).map_err(|e| sim_error(e.to_string()))?,
    )
}

/// A long-lived Rust worker thread that calls the app's [`CardReader`] back: the shape of every
/// device callback of a [`crate::PosTerminal`] operation, for scripts/bench.sh to measure what
/// one UniFFI callback from a Rust worker thread costs (JNA attaching the thread per callback,
/// or once when the facade keeps it attached).
#[derive(uniffi::Object)]
pub struct CallbackWorker {
    jobs: Mutex<std::sync::mpsc::Sender<CallbackJob>>,
}

type CallbackRun = Result<u32, SmartPosError>;

/// Calls to make, the APDU, and where to send the result.
type CallbackJob = (u32, Vec<u8>, std::sync::mpsc::Sender<CallbackRun>);

#[uniffi::export]
impl CallbackWorker {
    /// Start the worker thread (`smartpos-worker`, like the terminal's) over `reader`.
    #[uniffi::constructor]
    pub fn new(reader: Box<dyn CardReader>) -> Result<Arc<Self>, SmartPosError> {
        let (tx, rx) = std::sync::mpsc::channel::<CallbackJob>();
        std::thread::Builder::new()
            .name("smartpos-worker".into())
            .spawn(move || {
                while let Ok((calls, apdu, done)) = rx.recv() {
                    let mut bytes = 0u32;
                    let mut result = Ok(0);
                    for _ in 0..calls {
                        match reader.transceive(apdu.clone()) {
                            Ok(r) => {
                                bytes =
                                    bytes.saturating_add(u32::try_from(r.len()).unwrap_or(u32::MAX))
                            }
                            Err(e) => {
                                result = Err(e);
                                break;
                            }
                        }
                    }
                    let _ = done.send(result.map(|_: u32| bytes));
                }
            })
            .map_err(|e| SmartPosError::Device {
                device: "thread".into(),
                reason: e.to_string(),
            })?;
        Ok(Arc::new(CallbackWorker {
            jobs: Mutex::new(tx),
        }))
    }

    /// Call the reader `calls` times with `apdu` from the worker thread; the response bytes
    /// received in total.
    pub fn exchange(&self, calls: u32, apdu: Vec<u8>) -> Result<u32, SmartPosError> {
        let (done, result) = std::sync::mpsc::channel();
        let stopped = || SmartPosError::Device {
            device: "thread".into(),
            reason: "the worker thread has stopped".into(),
        };
        self.jobs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .send((calls, apdu, done))
            .map_err(|_| stopped())?;
        result.recv().map_err(|_| stopped())?
    }
}
