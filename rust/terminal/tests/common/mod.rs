//! Shared rig of the end-to-end tests: HostSim on loopback TCP, a real journal file in a fresh
//! directory, the software key store with the simulator's default TMK, simulated devices and
//! the virtual cards with the test PKI.
#![allow(dead_code)]

pub mod proxy;

use smartpos_crypto::key::{KeyAlgorithm, SecretKey};
use smartpos_emv::TerminalConfig;
use smartpos_journal::{Journal, ManualClock, Timestamp};
use smartpos_sim::card::VirtualCard;
use smartpos_sim::contactless::pki::TestPki as ClPki;
use smartpos_sim::contactless::{Profile, Scheme, VirtualCard as ClCard};
use smartpos_sim::hostsim::config::CardEntry;
use smartpos_sim::hostsim::{HostSim, HostSimConfig};
use smartpos_sim::pki::TestPki;
use smartpos_terminal::sim_devices::{SimHandles, SimPresentation, sim_devices};
use smartpos_terminal::{
    AllowAll, Authoriser, OpenOptions, OperatorId, Settings, SoftKeyStore, Terminal,
};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

/// The simulator's default terminal TMK (TEST key, `smartpos_sim::hostsim::config`).
pub const TMK_HEX: &str = "11111111111111112222222222222222";
/// 2026-11-21T11:04:31Z.
pub const START_MS: i64 = 1_795_259_071_000;

static SEQ: AtomicU32 = AtomicU32::new(0);

/// A fresh directory under the system temp dir.
pub fn temp_dir(tag: &str) -> PathBuf {
    let n = SEQ.fetch_add(1, Ordering::SeqCst);
    let d = std::env::temp_dir().join(format!(
        "smartpos-terminal-{tag}-{}-{n}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

pub fn tmk() -> SecretKey {
    SecretKey::from_hex(KeyAlgorithm::Tdes2, TMK_HEX).expect("tmk")
}

pub fn key_store() -> Arc<Mutex<SoftKeyStore>> {
    Arc::new(Mutex::new(SoftKeyStore::with_keys(tmk(), [7; 32], [9; 32])))
}

pub fn emv() -> (TerminalConfig, smartpos_emv::CaKeyStore) {
    let pki = TestPki::shared().expect("pki");
    let mut cfg = TerminalConfig::demo().expect("demo config");
    cfg.terminal.revoked_certificates = pki.revocation_list();
    let mut keys = pki.key_store().expect("ca keys");
    for scheme in [Scheme::Visa, Scheme::Mastercard, Scheme::UnionPay] {
        cl_pki(scheme)
            .install(&mut keys)
            .expect("contactless CA key");
    }
    (cfg, keys)
}

/// Contactless test PKIs generated so far, by scheme.
type PkiCache = Mutex<Vec<(Scheme, Arc<ClPki>)>>;

/// The contactless test PKI of `scheme` (one per scheme and test binary).
pub fn cl_pki(scheme: Scheme) -> Arc<ClPki> {
    static PKIS: OnceLock<PkiCache> = OnceLock::new();
    let m = PKIS.get_or_init(|| Mutex::new(Vec::new()));
    let mut g = m.lock().unwrap_or_else(|p| p.into_inner());
    if let Some((_, p)) = g.iter().find(|(s, _)| *s == scheme) {
        return p.clone();
    }
    let p = Arc::new(ClPki::generate(scheme.rid()).expect("contactless pki"));
    g.push((scheme, p.clone()));
    p
}

/// A virtual contactless card or phone of `profile`, certified by its scheme's test CA.
pub fn cl_card(profile: Profile) -> ClCard {
    let pki = cl_pki(profile.scheme);
    ClCard::new(profile, pki).expect("contactless card")
}

/// HostSim's default table plus the contactless virtual cards' accounts (PAN, PSN 01, the
/// contactless test IMK) so the host verifies their ARQCs.
pub fn host_config() -> HostSimConfig {
    let mut c = HostSimConfig::default_config();
    for (scheme, name) in [
        (Scheme::Visa, "visa"),
        (Scheme::Mastercard, "mastercard"),
        (Scheme::UnionPay, "unionpay"),
    ] {
        let pan = scheme.pan_digits();
        if c.cards.iter().any(|e| e.pan == pan) {
            continue;
        }
        c.cards.push(CardEntry {
            pan,
            pin: "1234".into(),
            imk: smartpos_sim::contactless::TEST_IMK.into(),
            psn: "01".into(),
            scheme: name.into(),
            balance: None,
            issuer_scripts: None,
        });
    }
    c
}

pub struct Rig {
    pub sim: HostSim,
    pub term: Terminal,
    pub h: SimHandles,
    pub keys: Arc<Mutex<SoftKeyStore>>,
    pub clock: ManualClock,
    pub dir: PathBuf,
    pub journal_path: PathBuf,
}

pub fn settings(sim: &HostSim) -> Settings {
    let mut s = Settings::default();
    s.host.address = sim.addr().to_string();
    s.host.response_timeout_ms = 1_500;
    s.host.connect_timeout_ms = 1_500;
    s.risk.duplicate_window_secs = 0;
    s
}

impl Rig {
    pub fn new(tag: &str) -> Rig {
        Rig::with(tag, host_config(), |_| {}, Some("1234"))
    }

    pub fn with(
        tag: &str,
        sim_config: HostSimConfig,
        tweak: impl FnOnce(&mut Settings),
        pin: Option<&str>,
    ) -> Rig {
        let sim = HostSim::start(&sim_config, "127.0.0.1:0", None).expect("hostsim");
        let dir = temp_dir(tag);
        let journal_path = dir.join("journal.db");
        let keys = key_store();
        let clock = ManualClock::new(Timestamp(START_MS));
        let mut s = settings(&sim);
        tweak(&mut s);
        let (term, h) = open_terminal(&dir, &journal_path, &keys, &clock, s, pin, None);
        Rig {
            sim,
            term,
            h,
            keys,
            clock,
            dir,
            journal_path,
        }
    }

    /// A rig whose terminal reaches HostSim through a recording [`proxy::Proxy`], with the
    /// kernel configuration changed by `emv_tweak` (e.g. a floor limit for offline approvals).
    pub fn proxied(tag: &str, emv_tweak: impl FnOnce(&mut TerminalConfig)) -> (Rig, proxy::Proxy) {
        let sim = HostSim::start(&host_config(), "127.0.0.1:0", None).expect("hostsim");
        let proxy = proxy::Proxy::start(sim.addr());
        let dir = temp_dir(tag);
        let journal_path = dir.join("journal.db");
        let keys = key_store();
        let clock = ManualClock::new(Timestamp(START_MS));
        let mut s = settings(&sim);
        s.host.address = proxy.addr().to_string();
        let (term, h) = open_terminal_emv(
            &dir,
            &journal_path,
            &keys,
            &clock,
            s,
            Some("1234"),
            emv_tweak,
        );
        let rig = Rig {
            sim,
            term,
            h,
            keys,
            clock,
            dir,
            journal_path,
        };
        (rig, proxy)
    }

    pub fn with_journal<R>(&self, f: impl FnOnce(&mut Journal) -> R) -> R {
        let j = self.term.journal();
        let mut g = j.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut g)
    }

    pub fn present(&self, card: VirtualCard, contactless: bool) {
        self.h.reader.push(SimPresentation::Card {
            card: Box::new(card),
            contactless,
        });
    }

    /// Tap a contactless card or phone (reader with activation: the Entry Point polls it).
    pub fn tap(&self, card: ClCard) {
        self.h.reader.push(SimPresentation::Tap(Box::new(card)));
    }

    /// Swap the terminal for one on a spare journal (releases this journal for a child process).
    pub fn restart_on_spare(&mut self) {
        let s = self.term.settings().clone();
        let spare_dir = temp_dir("spare");
        let (spare, _) = open_terminal(
            &spare_dir,
            &spare_dir.join("spare.db"),
            &key_store(),
            &self.clock,
            s,
            None,
            None,
        );
        drop(std::mem::replace(&mut self.term, spare));
    }

    /// Reopen the terminal on the same journal and key store (simulated restart): the old
    /// terminal is dropped first (it holds the journal's owner lock).
    pub fn restart(&mut self, pin: Option<&str>) {
        self.restart_with(pin, |_| {});
    }

    /// [`Rig::restart`] with changed settings.
    pub fn restart_with(&mut self, pin: Option<&str>, tweak: impl FnOnce(&mut Settings)) {
        let mut s = self.term.settings().clone();
        tweak(&mut s);
        let spare_dir = temp_dir("spare");
        let (spare, _) = open_terminal(
            &spare_dir,
            &spare_dir.join("spare.db"),
            &key_store(),
            &self.clock,
            s.clone(),
            pin,
            None,
        );
        drop(std::mem::replace(&mut self.term, spare));
        let (term, h) = open_terminal(
            &self.dir,
            &self.journal_path,
            &self.keys,
            &self.clock,
            s,
            pin,
            None,
        );
        self.term = term;
        self.h = h;
    }
}

pub fn open_terminal(
    dir: &std::path::Path,
    journal_path: &std::path::Path,
    keys: &Arc<Mutex<SoftKeyStore>>,
    clock: &ManualClock,
    settings: Settings,
    pin: Option<&str>,
    authoriser: Option<Box<dyn Authoriser>>,
) -> (Terminal, SimHandles) {
    open_terminal_as(
        dir,
        journal_path,
        keys,
        clock,
        settings,
        pin,
        authoriser,
        |_| {},
    )
}

/// [`open_terminal`] (supervisor `sup1`) with the kernel configuration changed by `emv_tweak`.
pub fn open_terminal_emv(
    dir: &std::path::Path,
    journal_path: &std::path::Path,
    keys: &Arc<Mutex<SoftKeyStore>>,
    clock: &ManualClock,
    settings: Settings,
    pin: Option<&str>,
    emv_tweak: impl FnOnce(&mut TerminalConfig),
) -> (Terminal, SimHandles) {
    open_terminal_as(
        dir,
        journal_path,
        keys,
        clock,
        settings,
        pin,
        None,
        emv_tweak,
    )
}

#[allow(clippy::too_many_arguments)]
fn open_terminal_as(
    dir: &std::path::Path,
    journal_path: &std::path::Path,
    keys: &Arc<Mutex<SoftKeyStore>>,
    clock: &ManualClock,
    settings: Settings,
    pin: Option<&str>,
    authoriser: Option<Box<dyn Authoriser>>,
    emv_tweak: impl FnOnce(&mut TerminalConfig),
) -> (Terminal, SimHandles) {
    let (mut emv_config, ca_keys) = emv();
    emv_tweak(&mut emv_config);
    let (devices, h) = sim_devices(pin, keys.clone());
    let term = Terminal::open_with(
        dir,
        devices,
        keys.clone(),
        journal_path,
        authoriser.unwrap_or_else(|| Box::new(AllowAll(OperatorId("sup1".into())))),
        OpenOptions {
            emv_config: Some(emv_config),
            ca_keys: Some(ca_keys),
            settings: Some(settings),
            clock: Some(Arc::new(clock.clone())),
        },
    )
    .expect("terminal opens");
    (term, h)
}

pub fn card(profile: &str) -> VirtualCard {
    VirtualCard::from_profile(profile).expect("virtual card")
}
