//! The whole terminal: sign on, a chip sale, its void, settlement, the printed receipt.
//!
//! Run with `cargo run -p smartpos-examples --example terminal_sale`.
//!
//! Everything real except the hardware and the acquirer:
//! * smartpos-sim's `HostSim`, an acquirer/issuer host speaking the cups-pos ISO 8583 profile
//!   over real TCP on 127.0.0.1 (a free port), verifying ARQCs and MACs and keeping a ledger;
//! * smartpos-terminal's `Terminal` (the one orchestrator) with the simulated card reader, PIN
//!   pad, printer and indicators of its `sim` feature, and a real SQLite journal in a fresh
//!   temporary directory;
//! * a virtual Visa chip card with online PIN from smartpos-sim, inserted into the reader.
//!
//! The journal discipline (begin → card read → online pending → approved → completed, reversal
//! queued on any failure after an authorisation) is the terminal's job; the app sees
//! `TransactionOutcome`s and events.

use std::error::Error;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use smartpos_crypto::key::{KeyAlgorithm, SecretKey};
use smartpos_journal::TxnId;
use smartpos_sim::card::VirtualCard;
use smartpos_sim::hostsim::{HostSim, HostSimConfig};
use smartpos_sim::pki::TestPki;
use smartpos_terminal::prompts::Language;
use smartpos_terminal::receipt::{Copy, MerchantInfo, Receipt, ReceiptData, Width};
use smartpos_terminal::records::SettlementResult;
use smartpos_terminal::sim_devices::{SimPresentation, sim_devices};
use smartpos_terminal::{
    AllowAll, CancelToken, Event, MessageId, OpenOptions, OperatorId, SaleRequest, Settings,
    SoftKeyStore, Terminal, TransactionOutcome,
};

/// The terminal master key HostSim's default configuration shares with terminal 12345678
/// (a TEST key; a real TMK is injected in a key-loading facility and never appears in code).
const TMK: &str = "11111111111111112222222222222222";

/// What the example did, for its test.
pub struct Run {
    pub sale: TransactionOutcome,
    pub void: TransactionOutcome,
    pub settlement: SettlementResult,
    pub receipt: String,
    /// The prompts the app was asked to show during the sale, in order.
    pub prompts: Vec<MessageId>,
    /// The host's view: (approved, voided) of the sale in HostSim's ledger.
    pub host_saw: Option<(bool, bool)>,
}

/// A fresh directory for the journal (removed again at the end).
fn temp_dir() -> Result<PathBuf, Box<dyn Error>> {
    static SEQ: AtomicU32 = AtomicU32::new(0);
    let dir = std::env::temp_dir().join(format!(
        "smartpos-example-terminal-{}-{}",
        std::process::id(),
        SEQ.fetch_add(1, Ordering::SeqCst)
    ));
    // A leftover from an earlier run with the same process id would hold an old journal.
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

pub fn run(dir: &std::path::Path) -> Result<Run, Box<dyn Error>> {
    // 1. The acquirer: HostSim on a free loopback port, default terminals and cards.
    let host = HostSim::start(&HostSimConfig::default_config(), "127.0.0.1:0", None)?;
    println!("HostSim listening on {}", host.addr());

    // 2. Key store: the TMK plus the journal's PAN hash/encryption keys (fixed here so the
    //    journal could be reopened; a device keeps them in its keystore).
    let tmk = SecretKey::from_hex(KeyAlgorithm::Tdes2, TMK)?;
    let keys = Arc::new(Mutex::new(SoftKeyStore::with_keys(tmk, [7; 32], [9; 32])));

    // 3. Simulated devices; `handles` lets us insert cards and read what was printed.
    let (devices, handles) = sim_devices(Some("1234"), keys.clone());

    // 4. Settings (defaults: terminal 12345678, merchant 123456789012345) pointing at HostSim,
    //    and the kernel trusting the simulator's test CA keys.
    let mut settings = Settings::default();
    settings.host.address = host.addr().to_string();
    let pki = TestPki::shared()?;
    let mut emv_config = smartpos_emv::TerminalConfig::demo()?;
    emv_config.terminal.revoked_certificates = pki.revocation_list();
    let mut terminal = Terminal::open_with(
        dir,
        devices,
        keys,
        &dir.join("journal.db"),
        // Who may do what (void, settle need a supervisor role): allow everything here.
        Box::new(AllowAll(OperatorId("supervisor".into()))),
        OpenOptions {
            emv_config: Some(emv_config),
            ca_keys: Some(pki.key_store()?),
            settings: Some(settings),
            clock: None,
        },
    )?;

    // 5. Sign on: working keys (PIN, MAC) downloaded under the TMK, KCVs checked.
    let signed_on = terminal.sign_on()?;
    println!("signed on, batch {:06}", signed_on.batch_no);

    // 6. A sale of 12.34: the customer inserts a Visa chip card and enters PIN 1234.
    handles.reader.push(SimPresentation::Card {
        card: Box::new(VirtualCard::from_profile("visa-cda-online-pin")?),
        contactless: false,
    });
    let cancel = CancelToken::new(); // the app's "cancel" button
    let sale = terminal.sale(&SaleRequest::card(1_234, "cashier1"), &cancel)?;
    println!(
        "sale: {:?} rc {:?} RRN {:?} auth {:?} card {:?}",
        sale.status, sale.response_code, sale.rrn, sale.auth_code, sale.pan_masked
    );

    // What the app's screen showed: the terminal sends events (prompts, LEDs, progress) to
    // the EventSink in `Devices`; the simulated one records them.
    let prompts: Vec<MessageId> = handles
        .events
        .events()
        .into_iter()
        .filter_map(|e| match e {
            Event::Prompt { id, .. } => Some(id),
            _ => None,
        })
        .collect();
    println!("prompts: {prompts:?}");

    // 7. The receipt, from the journal record (PAN masked, CVM line, totals).
    let record = terminal
        .journal()
        .lock()
        .map_err(|_| "journal lock poisoned")?
        .get(TxnId(sale.txn_id))?;
    let merchant = MerchantInfo::from_settings(terminal.settings(), None);
    let data = ReceiptData::from_outcome(&sale, &record, &merchant);
    let receipt = Receipt::build(&data, Copy::Customer, Language::En).to_text(Width::Cols32);
    println!("{receipt}");

    // 8. Void it (same batch, before settlement).
    let void = terminal.void(TxnId(sale.txn_id), &cancel)?;
    println!("void: {:?} rc {:?}", void.status, void.response_code);

    // 9. Settle the batch: totals compared with the host (uploaded if they differ).
    let settlement = terminal.settle()?;
    println!(
        "settled batch {:06}: {} sale(s) {}, balanced first time: {}",
        settlement.batch_no,
        settlement.sales_count,
        settlement.sales_amount,
        settlement.balanced_first_time
    );

    let host_saw = host
        .ledger()
        .by_stan("12345678", sale.stan)
        .map(|e| (e.approved, e.voided));
    Ok(Run {
        sale,
        void,
        settlement,
        receipt,
        prompts,
        host_saw,
    })
}

fn main() -> Result<(), Box<dyn Error>> {
    let dir = temp_dir()?;
    let result = run(&dir);
    // Clean up whatever happened (the journal is only a demo here).
    let _ = std::fs::remove_dir_all(&dir);
    result.map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;
    use smartpos_terminal::Status;

    #[test]
    fn runs() {
        super::main().unwrap();
    }

    #[test]
    fn sale_void_settle_over_hostsim() {
        let dir = temp_dir().unwrap();
        let r = run(&dir).unwrap();
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(r.sale.status, Status::Approved, "{:?}", r.sale);
        assert_eq!(r.sale.response_code.as_deref(), Some("00"));
        assert_eq!(r.sale.pan_masked.as_deref(), Some("476173******0010"));
        assert_eq!(r.void.status, Status::Approved, "{:?}", r.void);
        assert_eq!(r.void.kind, "void");
        // Online PIN was asked for before the approval was shown.
        let pos = |id| r.prompts.iter().position(|p| *p == id);
        assert!(
            pos(MessageId::EnterPin) < pos(MessageId::Approved),
            "{:?}",
            r.prompts
        );
        assert!(pos(MessageId::EnterPin).is_some(), "{:?}", r.prompts);
        // The host approved the sale and then saw it voided.
        assert_eq!(r.host_saw, Some((true, true)));
        // The voided sale is out of the batch totals, and the host agreed at once.
        assert_eq!(
            (r.settlement.sales_count, r.settlement.sales_amount),
            (0, 0)
        );
        assert!(r.settlement.balanced_first_time, "{:?}", r.settlement);
        // The receipt shows the masked PAN, never the full one, and the amount.
        assert!(!r.receipt.contains("4761739001010010"), "{}", r.receipt);
        assert!(r.receipt.contains("0010"), "{}", r.receipt);
        assert!(r.receipt.contains("12.34"), "{}", r.receipt);
    }
}
