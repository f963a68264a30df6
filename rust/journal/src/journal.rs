//! The journal: opening (pragmas, migrations, recovery), transaction creation and every state
//! transition. Each call runs in one SQLite `IMMEDIATE` transaction together with its audit
//! entry, so a refused or failed call leaves the database exactly as it was.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::types::ToSql;
use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};
use serde_json::json;

use crate::clock::{Clock, Timestamp};
use crate::error::{JournalError, Result};
use crate::model::{
    BatchId, BatchInfo, EntryMode, QrState, QueueKind, TransactionRecord, TxnId, TxnKind, TxnState,
};
use crate::pan::{Expiry, Pan, PanHash, PanProtector, ProtectedCard};
use crate::recovery::{self, OpenReport};
use crate::{schema, state, validate};

/// Settings for [`Journal::open`].
#[derive(Debug, Clone)]
pub struct JournalConfig {
    /// How long a writer waits for another connection's lock (SQLite `busy_timeout`).
    pub busy_timeout: Duration,
    /// Run `PRAGMA quick_check` on open and report problems as invariant violations.
    pub integrity_check: bool,
}

impl Default for JournalConfig {
    fn default() -> Self {
        JournalConfig {
            busy_timeout: Duration::from_secs(5),
            integrity_check: true,
        }
    }
}

/// The durable transaction journal of one terminal.
pub struct Journal {
    pub(crate) conn: Connection,
    /// Exclusive lock on `<path>-owner` held for the journal's lifetime (released by the OS if the
    /// process dies): only one `Journal` may run recovery and write on a file at a time.
    _owner: Connection,
    pub(crate) clock: Box<dyn Clock>,
    pub(crate) protector: Box<dyn PanProtector>,
    pub(crate) path: PathBuf,
    pub(crate) config: JournalConfig,
}

impl std::fmt::Debug for Journal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Journal")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

/// Operator recorded for actions the journal takes on its own (crash recovery).
pub const SYSTEM_OPERATOR: &str = "system";

/// A new payment to journal before anything is sent or read ([`Journal::begin`]).
#[derive(Debug, Clone, PartialEq)]
pub struct NewTransaction {
    /// Sale, pre-auth, balance inquiry or QR sale (voids, refunds and completions have their own calls).
    pub kind: TxnKind,
    /// Amount in minor units.
    pub amount: i64,
    /// Tip in minor units.
    pub tip: i64,
    /// Cashback in minor units.
    pub cashback: i64,
    /// Coupon discount already deducted from `amount`, minor units.
    pub coupon_discount: i64,
    /// ISO 4217 numeric currency code, e.g. `156`.
    pub currency: String,
    /// Operator (cashier) id.
    pub operator_id: String,
    /// Merchant's order reference.
    pub merchant_order_ref: Option<String>,
    /// Loyalty member id.
    pub member_id: Option<String>,
}

impl NewTransaction {
    /// A transaction with no tip, cashback, discount or references.
    pub fn new(kind: TxnKind, amount: i64, currency: &str, operator_id: &str) -> Self {
        NewTransaction {
            kind,
            amount,
            tip: 0,
            cashback: 0,
            coupon_discount: 0,
            currency: currency.to_owned(),
            operator_id: operator_id.to_owned(),
            merchant_order_ref: None,
            member_id: None,
        }
    }
}

/// Which original a refund refers to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OriginalRef {
    /// A transaction in this journal.
    Local(TxnId),
    /// A transaction known by RRN and date (possibly from another terminal or a purged journal).
    /// If a transaction with this RRN is in the journal it is linked and its amount enforced.
    Host {
        /// RRN of the original (field 37).
        rrn: String,
        /// Date of the original (MMDD or YYYYMMDD).
        date: String,
    },
}

/// A refund request ([`Journal::begin_refund`]).
#[derive(Debug, Clone, PartialEq)]
pub struct RefundRequest {
    /// The original.
    pub original: OriginalRef,
    /// Amount to refund, minor units.
    pub amount: i64,
    /// Currency (must equal the original's when it is local).
    pub currency: String,
    /// Operator.
    pub operator_id: String,
    /// Merchant's reference.
    pub merchant_order_ref: Option<String>,
}

/// Card data captured by the kernel ([`Journal::card_read`]). There is deliberately no field for
/// track 2, PIN block or CVV: they are never journalled.
#[derive(Debug, Clone)]
pub struct CardData<'a> {
    /// The PAN (stored masked and as a keyed hash; encrypted only if `keep_encrypted_pan`).
    pub pan: &'a Pan,
    /// Expiry: stored only inside the encrypted blob, never otherwise.
    pub expiry: Option<&'a Expiry>,
    /// Keep the full PAN (and expiry) encrypted because a later message needs it (advice, refund).
    pub keep_encrypted_pan: bool,
    /// Entry mode.
    pub entry_mode: EntryMode,
    /// Scheme / payment method.
    pub scheme: Option<String>,
    /// AID, hex (tag 4F).
    pub aid: Option<String>,
    /// Application label (tag 50).
    pub app_label: Option<String>,
    /// TVR, hex (tag 95).
    pub tvr: Option<String>,
    /// TSI, hex (tag 9B).
    pub tsi: Option<String>,
    /// CVM results, hex (tag 9F34).
    pub cvm_result: Option<String>,
}

impl<'a> CardData<'a> {
    /// Card data with only the PAN and entry mode.
    pub fn new(pan: &'a Pan, entry_mode: EntryMode) -> Self {
        CardData {
            pan,
            expiry: None,
            keep_encrypted_pan: false,
            entry_mode,
            scheme: None,
            aid: None,
            app_label: None,
            tvr: None,
            tsi: None,
            cvm_result: None,
        }
    }
}

/// What was sent online ([`Journal::online_pending`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OnlineRequest {
    /// MTI of the request, 4 digits (e.g. `0200`).
    pub mti: String,
    /// ARQC, hex (tag 9F26), when the card produced one.
    pub cryptogram: Option<String>,
    /// TVR at the time of the request.
    pub tvr: Option<String>,
    /// TSI at the time of the request.
    pub tsi: Option<String>,
    /// Field 55 of the request (EMV Book 4 §6.5.6), kept for the reversal that may repeat it;
    /// PAN, track and name data objects are removed before storing
    /// ([`crate::icc::strip_card_data`]).
    pub icc_data: Option<Vec<u8>>,
}

impl OnlineRequest {
    /// A request with only its MTI.
    pub fn mti(mti: &str) -> Self {
        OnlineRequest {
            mti: mti.to_owned(),
            cryptogram: None,
            tvr: None,
            tsi: None,
            icc_data: None,
        }
    }
}

/// The host's answer ([`Journal::approve`], [`Journal::decline`]).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HostResponse {
    /// Response code (field 39).
    pub response_code: String,
    /// RRN (field 37).
    pub rrn: Option<String>,
    /// Authorisation code (field 38).
    pub auth_code: Option<String>,
    /// Host date/time (fields 12/13) verbatim.
    pub host_time: Option<String>,
}

/// A decline, by the host or by the card ([`Journal::decline`]).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Decline {
    /// Host response code, or `Z1`/`Z3` for an offline decline (EMV Book 4 §A.6).
    pub response_code: Option<String>,
    /// RRN, if the host assigned one.
    pub rrn: Option<String>,
    /// Host time.
    pub host_time: Option<String>,
    /// Why.
    pub reason: String,
}

/// An offline approval by the card ([`Journal::offline_approve`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfflineApproval {
    /// `Y1` (offline approved) or `Y3` (unable to go online, approved) — EMV Book 4 §A.6.
    pub response_code: String,
    /// TC, hex (tag 9F26).
    pub cryptogram: String,
    /// TVR.
    pub tvr: Option<String>,
    /// TSI.
    pub tsi: Option<String>,
    /// CVM results.
    pub cvm_result: Option<String>,
    /// Field 55 with the TC (EMV Book 4 §6.5.6) for the advice, card data removed before
    /// storing ([`crate::icc::strip_card_data`]).
    pub icc_data: Option<Vec<u8>>,
}

/// Final card data at completion ([`Journal::complete`]).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Completion {
    /// TC from the second GENERATE AC (contact), hex.
    pub cryptogram: Option<String>,
    /// Final TVR.
    pub tvr: Option<String>,
    /// Final TSI.
    pub tsi: Option<String>,
    /// CVM results.
    pub cvm_result: Option<String>,
}

/// Wallet confirmation of a QR payment ([`Journal::qr_paid`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QrPaid {
    /// Wallet's transaction id (stored as the RRN).
    pub wallet_txn_id: String,
    /// Payment method reported by the wallet (stored as scheme).
    pub scheme: Option<String>,
    /// Wallet time verbatim.
    pub host_time: Option<String>,
}

pub(crate) const TXN_COLUMNS: &str = "id, uuid, kind, state, original_id, original_rrn, original_date, stan, invoice, \
     batch_id, batch_no, rrn, auth_code, response_code, amount, tip, cashback, coupon_discount, currency, mti, \
     entry_mode, scheme, aid, app_label, pan_masked, pan_hash, pan_enc, tvr, tsi, cryptogram, cvm_result, \
     operator_id, merchant_order_ref, member_id, wallet_order_no, qr_state, qr_query_needed, voided_by, \
     created_at, updated_at, host_time, error_reason";

pub(crate) fn row_to_record(r: &rusqlite::Row<'_>) -> rusqlite::Result<TransactionRecord> {
    let hash: Option<Vec<u8>> = r.get(25)?;
    let pan_hash = match hash {
        None => None,
        Some(v) => Some(crate::pan::PanHash::from_bytes(v.try_into().map_err(
            |v: Vec<u8>| {
                rusqlite::Error::FromSqlConversionFailure(
                    25,
                    rusqlite::types::Type::Blob,
                    format!("pan_hash of {} bytes", v.len()).into(),
                )
            },
        )?)),
    };
    Ok(TransactionRecord {
        id: TxnId(r.get(0)?),
        uuid: r.get(1)?,
        kind: r.get(2)?,
        state: r.get(3)?,
        original_id: r.get::<_, Option<i64>>(4)?.map(TxnId),
        original_rrn: r.get(5)?,
        original_date: r.get(6)?,
        stan: r.get(7)?,
        invoice: r.get(8)?,
        batch_id: BatchId(r.get(9)?),
        batch_no: r.get(10)?,
        rrn: r.get(11)?,
        auth_code: r.get(12)?,
        response_code: r.get(13)?,
        amount: r.get(14)?,
        tip: r.get(15)?,
        cashback: r.get(16)?,
        coupon_discount: r.get(17)?,
        currency: r.get(18)?,
        mti: r.get(19)?,
        entry_mode: r.get(20)?,
        scheme: r.get(21)?,
        aid: r.get(22)?,
        app_label: r.get(23)?,
        pan_masked: r.get::<_, Option<String>>(24)?.map(crate::pan::MaskedPan),
        pan_hash,
        pan_encrypted: r
            .get::<_, Option<Vec<u8>>>(26)?
            .map(crate::pan::EncryptedPan),
        tvr: r.get(27)?,
        tsi: r.get(28)?,
        cryptogram: r.get(29)?,
        cvm_result: r.get(30)?,
        operator_id: r.get(31)?,
        merchant_order_ref: r.get(32)?,
        member_id: r.get(33)?,
        wallet_order_no: r.get(34)?,
        qr_state: r.get(35)?,
        qr_query_needed: r.get(36)?,
        voided_by: r.get::<_, Option<i64>>(37)?.map(TxnId),
        created_at: Timestamp(r.get(38)?),
        updated_at: Timestamp(r.get(39)?),
        host_time: r.get(40)?,
        error_reason: r.get(41)?,
    })
}

static LOAD_SQL: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| format!("SELECT {TXN_COLUMNS} FROM transactions WHERE id = ?1"));

pub(crate) fn load(conn: &Connection, id: TxnId) -> Result<TransactionRecord> {
    conn.prepare_cached(&LOAD_SQL)?
        .query_row([id.0], row_to_record)
        .optional()?
        .ok_or_else(|| JournalError::NotFound {
            what: "transaction",
            key: id.to_string(),
        })
}

pub(crate) fn audit(
    conn: &Connection,
    at: Timestamp,
    operator: &str,
    action: &str,
    txn: Option<TxnId>,
    details: &serde_json::Value,
) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO audit_log(at, operator_id, action, txn_id, details) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![at.0, operator, action, txn.map(|t| t.0), details.to_string()])?;
    Ok(())
}

/// Columns a transition may set (names are compile-time constants, never caller input).
type Sets<'a> = Vec<(&'static str, Box<dyn ToSql + 'a>)>;

fn apply_sets(conn: &Connection, id: TxnId, sets: Sets<'_>) -> Result<()> {
    if sets.is_empty() {
        return Ok(());
    }
    let cols: Vec<String> = sets
        .iter()
        .enumerate()
        .map(|(i, (c, _))| format!("{c} = ?{}", i + 1))
        .collect();
    let sql = format!(
        "UPDATE transactions SET {} WHERE id = ?{}",
        cols.join(", "),
        sets.len() + 1
    );
    let mut values: Vec<&dyn ToSql> = sets.iter().map(|(_, v)| v.as_ref()).collect();
    values.push(&id.0);
    conn.prepare_cached(&sql)?.execute(values.as_slice())?;
    Ok(())
}

/// Next value of a wrapping 000001-999999 counter, from its monotonic issue count.
pub(crate) fn next_counter(conn: &Connection, name: &str) -> Result<u32> {
    let issued: i64 = conn.query_row(
        "UPDATE counters SET issued = issued + 1 WHERE name = ?1 RETURNING issued",
        [name],
        |r| r.get(0),
    )?;
    let v = (issued - 1).rem_euclid(999_999) + 1;
    u32::try_from(v).map_err(|_| JournalError::Corrupt {
        column: "counters.issued",
        value: issued.to_string(),
    })
}

pub(crate) fn current_batch(conn: &Connection) -> Result<Option<BatchInfo>> {
    Ok(conn
        .query_row(
            "SELECT id, batch_no, opened_at, closed_at, settled FROM batches WHERE closed_at IS NULL",
            [],
            batch_row,
        )
        .optional()?)
}

pub(crate) fn batch_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<BatchInfo> {
    Ok(BatchInfo {
        id: BatchId(r.get(0)?),
        batch_no: r.get(1)?,
        opened_at: Timestamp(r.get(2)?),
        closed_at: r.get::<_, Option<i64>>(3)?.map(Timestamp),
        settled: r.get(4)?,
    })
}

/// The open batch, opening a new one (next batch number) if there is none.
pub(crate) fn ensure_open_batch(conn: &Connection, now: Timestamp) -> Result<BatchInfo> {
    if let Some(b) = current_batch(conn)? {
        return Ok(b);
    }
    let no = next_counter(conn, "batch")?;
    conn.execute(
        "INSERT INTO batches(batch_no, opened_at) VALUES (?1, ?2)",
        params![no, now.0],
    )?;
    let id = conn.last_insert_rowid();
    audit(
        conn,
        now,
        SYSTEM_OPERATOR,
        "batch.open",
        None,
        &json!({ "batch_no": no, "batch_id": id }),
    )?;
    Ok(BatchInfo {
        id: BatchId(id),
        batch_no: no,
        opened_at: now,
        closed_at: None,
        settled: false,
    })
}

/// Take the owner lock: an SQLite file `<path>-owner` held in an exclusive transaction by a
/// connection in EXCLUSIVE locking mode. SQLite's POSIX advisory locks are released when the
/// process exits, even by a crash, so a stale lock cannot outlive its owner.
fn acquire_owner_lock(path: &Path) -> Result<Connection> {
    let mut lock_path = path.as_os_str().to_owned();
    lock_path.push("-owner");
    let lock = Connection::open(PathBuf::from(lock_path))?;
    lock.busy_timeout(Duration::ZERO)?;
    lock.pragma_update(None, "locking_mode", "EXCLUSIVE")?;
    // BEGIN EXCLUSIVE takes the file's exclusive lock at once; the transaction stays open for
    // the journal's lifetime and is rolled back (lock released) when the connection closes.
    let taken = lock.execute_batch("BEGIN EXCLUSIVE");
    match taken {
        Ok(_) => Ok(lock),
        Err(rusqlite::Error::SqliteFailure(e, _))
            if e.code == rusqlite::ErrorCode::DatabaseBusy =>
        {
            Err(JournalError::InUse {
                path: path.display().to_string(),
            })
        }
        Err(e) => Err(e.into()),
    }
}

fn new_uuid() -> Result<String> {
    let mut b = [0u8; 16];
    openssl::rand::rand_bytes(&mut b)?;
    // RFC 9562 §5.4: version 4, variant 10.
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    Ok(format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    ))
}

impl Journal {
    /// Open (creating if needed) the journal at `path`: WAL mode, `synchronous = FULL`, foreign keys
    /// on, busy timeout; apply migrations; recover from a crash (online-pending → reversal-pending,
    /// unsent transactions aborted, QR orders flagged for a status query); check invariants.
    pub fn open(
        path: impl AsRef<Path>,
        config: JournalConfig,
        clock: Box<dyn Clock>,
        protector: Box<dyn PanProtector>,
    ) -> Result<(Journal, OpenReport)> {
        let path = path.as_ref().to_path_buf();
        let owner = acquire_owner_lock(&path)?;
        let mut conn = Connection::open(&path)?;
        conn.busy_timeout(config.busy_timeout)?;
        conn.set_prepared_statement_cache_capacity(64);
        let mode: String =
            conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(JournalError::Corrupt {
                column: "journal_mode",
                value: mode,
            });
        }
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        // Overwrite deleted content with zeros (no remnants of replaced encrypted PANs).
        conn.pragma_update(None, "secure_delete", "ON")?;
        let now = clock.now();
        let (before, applied) = schema::migrate(&mut conn, now)?;
        let mut journal = Journal {
            conn,
            _owner: owner,
            clock,
            protector,
            path,
            config,
        };
        let report = recovery::recover(&mut journal, before, applied)?;
        Ok((journal, report))
    }

    /// The file this journal lives in.
    pub fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// Keyed hash of a PAN, for velocity and duplicate queries.
    pub fn pan_hash(&self, pan: &Pan) -> Result<PanHash> {
        self.protector.keyed_hash(pan)
    }

    /// Allocate the next STAN (ISO 8583 field 11, 000001-999999, wrapping) for a message that is
    /// not a journalled transaction (sign-on, settlement, a reversal's own trace number).
    pub fn next_stan(&mut self) -> Result<u32> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let v = next_counter(&tx, "stan")?;
        tx.commit()?;
        Ok(v)
    }

    /// The open batch.
    pub fn current_batch(&mut self) -> Result<BatchInfo> {
        let now = self.now();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let b = ensure_open_batch(&tx, now)?;
        tx.commit()?;
        Ok(b)
    }

    /// Journal a new sale, pre-auth, balance inquiry or QR sale in state `created`, with a fresh
    /// STAN and invoice number, in the open batch.
    pub fn begin(&mut self, new: NewTransaction) -> Result<TransactionRecord> {
        if !matches!(
            new.kind,
            TxnKind::Sale | TxnKind::PreAuth | TxnKind::BalanceInquiry | TxnKind::QrSale
        ) {
            return Err(JournalError::InvalidField {
                field: "kind",
                reason: format!(
                    "{} is started with begin_void / begin_refund / begin_pre_auth_completion",
                    new.kind
                ),
            });
        }
        let row = InsertRow {
            kind: new.kind,
            amount: validate::amount("amount", new.amount)?,
            tip: validate::amount("tip", new.tip)?,
            cashback: validate::amount("cashback", new.cashback)?,
            coupon_discount: validate::amount("coupon_discount", new.coupon_discount)?,
            currency: validate::digits("currency", &new.currency, 3)?,
            operator_id: validate::text("operator_id", &new.operator_id, 32)?,
            merchant_order_ref: validate::opt_text(
                "merchant_order_ref",
                new.merchant_order_ref.as_deref(),
                64,
            )?,
            member_id: validate::opt_text("member_id", new.member_id.as_deref(), 64)?,
            ..InsertRow::default()
        };
        self.insert(row, |_| Ok(()))
    }

    /// Journal a void of `original`: allowed only for an approved sale, pre-auth or pre-auth
    /// completion in the open (unsettled) batch that is not voided and has no void in flight.
    pub fn begin_void(&mut self, original: TxnId, operator_id: &str) -> Result<TransactionRecord> {
        let operator_id = validate::text("operator_id", operator_id, 32)?;
        let orig_id = original;
        self.insert_with_original(orig_id, move |tx, orig| {
            let refuse = |reason: &str| JournalError::VoidRefused {
                original: orig_id,
                reason: reason.to_owned(),
            };
            if !matches!(
                orig.kind,
                TxnKind::Sale | TxnKind::PreAuth | TxnKind::PreAuthCompletion
            ) {
                return Err(refuse(&format!("a {} cannot be voided", orig.kind)));
            }
            if !matches!(orig.state, TxnState::Approved | TxnState::Completed) || orig.rrn.is_none()
            {
                return Err(refuse(&format!(
                    "original is {}, not host-approved",
                    orig.state
                )));
            }
            if orig.voided_by.is_some() {
                return Err(refuse("already voided"));
            }
            let open = current_batch(tx)?;
            if open.map(|b| b.id) != Some(orig.batch_id) {
                return Err(refuse(
                    "original's batch is closed (settled or settling): refund instead",
                ));
            }
            let in_flight: i64 = tx.query_row(
                "SELECT count(*) FROM transactions WHERE original_id = ?1 AND kind = 'void' \
                 AND state NOT IN ('declined','aborted','reversed')",
                [orig.id.0],
                |r| r.get(0),
            )?;
            if in_flight > 0 {
                return Err(refuse("a void of it is already in progress"));
            }
            Ok(InsertRow {
                kind: TxnKind::Void,
                amount: orig.amount,
                tip: orig.tip,
                cashback: orig.cashback,
                currency: orig.currency.clone(),
                operator_id: operator_id.clone(),
                original_id: Some(orig.id),
                original_rrn: orig.rrn.clone(),
                original_date: None,
                merchant_order_ref: orig.merchant_order_ref.clone(),
                member_id: orig.member_id.clone(),
                copy_card_from: Some(orig.id),
                ..InsertRow::default()
            })
        })
    }

    /// Journal a refund. With a local original (given, or found by RRN) the original must be an
    /// approved sale / completion / QR sale in the same currency and the refunds not voided,
    /// declined, aborted or reversed may not exceed its total.
    pub fn begin_refund(&mut self, req: RefundRequest) -> Result<TransactionRecord> {
        let amount = validate::amount("amount", req.amount)?;
        let currency = validate::digits("currency", &req.currency, 3)?;
        let operator_id = validate::text("operator_id", &req.operator_id, 32)?;
        let merchant_order_ref =
            validate::opt_text("merchant_order_ref", req.merchant_order_ref.as_deref(), 64)?;
        let (local, rrn, date) = match &req.original {
            OriginalRef::Local(id) => (Some(*id), None, None),
            OriginalRef::Host { rrn, date } => {
                let rrn = validate::text("original_rrn", rrn, 32)?;
                if date.len() != 4 && date.len() != 8 {
                    return Err(JournalError::InvalidField {
                        field: "original_date",
                        reason: "expected MMDD or YYYYMMDD".into(),
                    });
                }
                let date = validate::digits("original_date", date, date.len())?;
                let found: Option<i64> = self
                    .conn
                    .query_row(
                        "SELECT id FROM transactions WHERE rrn = ?1 AND kind IN ('sale','pre_auth_completion','qr_sale') \
                         AND state IN ('approved','offline_approved','completed') ORDER BY id DESC LIMIT 1",
                        [&rrn],
                        |r| r.get(0),
                    )
                    .optional()?;
                (found.map(TxnId), Some(rrn), Some(date))
            }
        };
        let base = InsertRow {
            kind: TxnKind::Refund,
            amount,
            currency: currency.clone(),
            operator_id,
            merchant_order_ref,
            original_rrn: rrn.clone(),
            original_date: date.clone(),
            ..InsertRow::default()
        };
        let Some(orig_id) = local else {
            return self.insert(base, |_| Ok(()));
        };
        self.insert_with_original(orig_id, move |tx, orig| {
            check_original(orig, &[TxnKind::Sale, TxnKind::PreAuthCompletion, TxnKind::QrSale], "refund")?;
            if orig.currency != currency {
                return Err(JournalError::InvalidField {
                    field: "currency",
                    reason: format!("{currency} differs from the original's {}", orig.currency),
                });
            }
            let refunded: i64 = tx.query_row(
                "SELECT COALESCE(sum(amount), 0) FROM transactions WHERE original_id = ?1 AND kind = 'refund' \
                 AND state NOT IN ('declined','aborted','reversed')",
                [orig.id.0],
                |r| r.get(0),
            )?;
            let remaining = orig.total() - refunded;
            if amount > remaining {
                return Err(JournalError::AmountExceedsOriginal { original: orig.id, requested: amount, remaining });
            }
            Ok(InsertRow {
                original_id: Some(orig.id),
                original_rrn: rrn.or_else(|| orig.rrn.clone()),
                original_date: date,
                copy_card_from: Some(orig.id),
                ..base
            })
        })
    }

    /// Journal the completion of an approved pre-authorisation, for at most the authorised amount.
    pub fn begin_pre_auth_completion(
        &mut self,
        original: TxnId,
        amount: i64,
        operator_id: &str,
    ) -> Result<TransactionRecord> {
        let amount = validate::amount("amount", amount)?;
        let operator_id = validate::text("operator_id", operator_id, 32)?;
        self.insert_with_original(original, move |tx, orig| {
            check_original(orig, &[TxnKind::PreAuth], "pre-auth completion")?;
            let done: i64 = tx.query_row(
                "SELECT count(*) FROM transactions WHERE original_id = ?1 AND kind = 'pre_auth_completion' \
                 AND state NOT IN ('declined','aborted','reversed')",
                [orig.id.0],
                |r| r.get(0),
            )?;
            if done > 0 {
                return Err(JournalError::OriginalNotEligible {
                    original: orig.id,
                    kind: orig.kind,
                    state: orig.state,
                    reason: "already completed".into(),
                });
            }
            if amount > orig.amount {
                return Err(JournalError::AmountExceedsOriginal { original: orig.id, requested: amount, remaining: orig.amount });
            }
            Ok(InsertRow {
                kind: TxnKind::PreAuthCompletion,
                amount,
                currency: orig.currency.clone(),
                operator_id: operator_id.clone(),
                original_id: Some(orig.id),
                original_rrn: orig.rrn.clone(),
                copy_card_from: Some(orig.id),
                ..InsertRow::default()
            })
        })
    }

    fn insert_with_original<F>(&mut self, original: TxnId, build: F) -> Result<TransactionRecord>
    where
        F: FnOnce(&Transaction<'_>, &TransactionRecord) -> Result<InsertRow>,
    {
        let now = self.now();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let orig = load(&tx, original)?;
        let row = build(&tx, &orig)?;
        let rec = insert_row(&tx, now, row)?;
        tx.commit()?;
        Ok(rec)
    }

    fn insert<F>(&mut self, row: InsertRow, check: F) -> Result<TransactionRecord>
    where
        F: FnOnce(&Transaction<'_>) -> Result<()>,
    {
        let now = self.now();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        check(&tx)?;
        let rec = insert_row(&tx, now, row)?;
        tx.commit()?;
        Ok(rec)
    }

    /// Run one transition: check legality for the kind, apply `sets`, change state, audit, commit.
    fn transition<F>(
        &mut self,
        id: TxnId,
        to: TxnState,
        action: &'static str,
        f: F,
    ) -> Result<TransactionRecord>
    where
        F: for<'t> FnOnce(
            &Transaction<'t>,
            &TransactionRecord,
            Timestamp,
        ) -> Result<(Sets<'static>, serde_json::Value)>,
    {
        let now = self.now();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let rec = load(&tx, id)?;
        if !state::is_legal(rec.kind, rec.state, to) {
            return Err(JournalError::IllegalTransition {
                id,
                from: rec.state,
                to,
            });
        }
        let (mut sets, details) = f(&tx, &rec, now)?;
        sets.push(("state", Box::new(to)));
        sets.push(("updated_at", Box::new(now.0)));
        apply_sets(&tx, id, sets)?;
        if to.is_final() {
            prune_icc(&tx, id)?;
        }
        audit(
            &tx,
            now,
            &rec.operator_id,
            action,
            Some(id),
            &json!({ "from": rec.state, "to": to, "details": details }),
        )?;
        let out = load(&tx, id)?;
        tx.commit()?;
        Ok(out)
    }

    /// `created → card_read`: store the masked PAN, its keyed hash, and (only if asked) the PAN and
    /// expiry encrypted under the caller's data key, bound to this record's UUID.
    pub fn card_read(&mut self, id: TxnId, card: &CardData<'_>) -> Result<TransactionRecord> {
        let masked = card.pan.masked();
        let hash = self.protector.keyed_hash(card.pan)?;
        let scheme = validate::opt_text("scheme", card.scheme.as_deref(), 32)?;
        let aid = validate::opt_hex("aid", card.aid.as_deref(), 10, 32)?;
        let label = card
            .app_label
            .as_deref()
            .map(|l| validate::free_text("app_label", l, 32))
            .transpose()?;
        let tvr = validate::opt_hex("tvr", card.tvr.as_deref(), 10, 10)?;
        let tsi = validate::opt_hex("tsi", card.tsi.as_deref(), 4, 4)?;
        let cvm = validate::opt_hex("cvm_result", card.cvm_result.as_deref(), 6, 6)?;
        let uuid: String = self
            .conn
            .query_row("SELECT uuid FROM transactions WHERE id = ?1", [id.0], |r| {
                r.get(0)
            })
            .optional()?
            .ok_or_else(|| JournalError::NotFound {
                what: "transaction",
                key: id.to_string(),
            })?;
        let sealed = if card.keep_encrypted_pan {
            let pc = ProtectedCard {
                pan: card.pan.clone(),
                expiry: card.expiry.cloned(),
            };
            Some(self.protector.seal(&pc, uuid.as_bytes())?)
        } else {
            None
        };
        let entry = card.entry_mode;
        self.transition(id, TxnState::CardRead, "txn.card_read", move |_, _, _| {
            let details = json!({ "pan": masked.as_str(), "entry_mode": entry, "encrypted_pan": sealed.is_some() });
            let sets: Sets<'static> = vec![
                ("pan_masked", Box::new(masked.0)),
                ("pan_hash", Box::new(hash.0.to_vec())),
                ("pan_enc", Box::new(sealed.map(|s| s.0))),
                ("entry_mode", Box::new(entry)),
                ("scheme", Box::new(scheme)),
                ("aid", Box::new(aid)),
                ("app_label", Box::new(label)),
                ("tvr", Box::new(tvr)),
                ("tsi", Box::new(tsi)),
                ("cvm_result", Box::new(cvm)),
            ];
            Ok((sets, details))
        })
    }

    /// `→ online_pending`: the request is about to be sent. From here an unknown outcome means
    /// reversal (crash recovery does it on the next open).
    pub fn online_pending(&mut self, id: TxnId, req: &OnlineRequest) -> Result<TransactionRecord> {
        let mti = validate::digits("mti", &req.mti, 4)?;
        let cryptogram = validate::opt_hex("cryptogram", req.cryptogram.as_deref(), 16, 16)?;
        let tvr = validate::opt_hex("tvr", req.tvr.as_deref(), 10, 10)?;
        let tsi = validate::opt_hex("tsi", req.tsi.as_deref(), 4, 4)?;
        let icc = stripped_icc(req.icc_data.as_deref())?;
        self.transition(
            id,
            TxnState::OnlinePending,
            "txn.online_pending",
            move |tx, rec, _| {
                if rec.kind == TxnKind::QrSale {
                    return Err(JournalError::WrongKind {
                        id,
                        kind: rec.kind,
                        operation: "online_pending (use qr_order_placed)",
                    });
                }
                let details = json!({ "mti": mti, "icc_data": icc.as_ref().map(Vec::len) });
                keep_icc(tx, id, icc)?;
                let mut sets: Sets<'static> = vec![("mti", Box::new(mti))];
                if let Some(c) = cryptogram {
                    sets.push(("cryptogram", Box::new(c)));
                }
                if let Some(t) = tvr {
                    sets.push(("tvr", Box::new(t)));
                }
                if let Some(t) = tsi {
                    sets.push(("tsi", Box::new(t)));
                }
                Ok((sets, details))
            },
        )
    }

    /// `online_pending → approved`. RRN and response code are required; the authorisation code
    /// too for sales, pre-auths and completions. A void's approval marks its original voided.
    pub fn approve(&mut self, id: TxnId, resp: &HostResponse) -> Result<TransactionRecord> {
        let rc = validate::response_code(&resp.response_code)?;
        let rrn = validate::opt_text("rrn", resp.rrn.as_deref(), 32)?;
        let auth = validate::opt_text("auth_code", resp.auth_code.as_deref(), 6)?;
        let host_time = validate::opt_text("host_time", resp.host_time.as_deref(), 20)?;
        self.transition(id, TxnState::Approved, "txn.approved", move |tx, rec, _| {
            if rec.kind == TxnKind::QrSale {
                return Err(JournalError::WrongKind {
                    id,
                    kind: rec.kind,
                    operation: "approve (use qr_paid)",
                });
            }
            let Some(rrn) = rrn else {
                return Err(JournalError::MissingField {
                    id,
                    state: TxnState::Approved,
                    field: "rrn",
                });
            };
            if auth.is_none()
                && matches!(
                    rec.kind,
                    TxnKind::Sale | TxnKind::PreAuth | TxnKind::PreAuthCompletion
                )
            {
                return Err(JournalError::MissingField {
                    id,
                    state: TxnState::Approved,
                    field: "auth_code",
                });
            }
            if rec.kind == TxnKind::Void
                && let Some(orig) = rec.original_id
            {
                tx.execute(
                    "UPDATE transactions SET voided_by = ?1 WHERE id = ?2 AND voided_by IS NULL",
                    params![id.0, orig.0],
                )?;
                if tx.changes() != 1 {
                    return Err(JournalError::VoidRefused {
                        original: orig,
                        reason: "already voided".into(),
                    });
                }
            }
            let details = json!({ "response_code": rc, "rrn": rrn, "auth_code": auth });
            let sets: Sets<'static> = vec![
                ("response_code", Box::new(rc)),
                ("rrn", Box::new(rrn)),
                ("auth_code", Box::new(auth)),
                ("host_time", Box::new(host_time)),
            ];
            Ok((sets, details))
        })
    }

    /// `→ declined`, from `card_read` (card AAC) or `online_pending` (host decline).
    pub fn decline(&mut self, id: TxnId, d: &Decline) -> Result<TransactionRecord> {
        let rc = d
            .response_code
            .as_deref()
            .map(validate::response_code)
            .transpose()?;
        let rrn = validate::opt_text("rrn", d.rrn.as_deref(), 32)?;
        let host_time = validate::opt_text("host_time", d.host_time.as_deref(), 20)?;
        let reason = validate::free_text("reason", &d.reason, 200)?;
        self.transition(id, TxnState::Declined, "txn.declined", move |_, rec, _| {
            if rec.kind == TxnKind::QrSale {
                return Err(JournalError::WrongKind {
                    id,
                    kind: rec.kind,
                    operation: "decline (use qr_cancelled)",
                });
            }
            let details = json!({ "response_code": rc, "reason": reason });
            let sets: Sets<'static> = vec![
                ("response_code", Box::new(rc)),
                ("rrn", Box::new(rrn)),
                ("host_time", Box::new(host_time)),
                ("error_reason", Box::new(reason)),
            ];
            Ok((sets, details))
        })
    }

    /// `card_read → offline_approved` (sales only): the card returned a TC at the first GENERATE
    /// AC (EMV Book 3 §10.8). An advice is queued in the same database transaction.
    pub fn offline_approve(&mut self, id: TxnId, a: &OfflineApproval) -> Result<TransactionRecord> {
        if a.response_code != "Y1" && a.response_code != "Y3" {
            return Err(JournalError::InvalidField {
                field: "response_code",
                reason: "offline approval is Y1 or Y3".into(),
            });
        }
        let rc = a.response_code.clone();
        let tc = validate::hex("cryptogram", &a.cryptogram, 16, 16)?;
        let tvr = validate::opt_hex("tvr", a.tvr.as_deref(), 10, 10)?;
        let tsi = validate::opt_hex("tsi", a.tsi.as_deref(), 4, 4)?;
        let cvm = validate::opt_hex("cvm_result", a.cvm_result.as_deref(), 6, 6)?;
        let icc = stripped_icc(a.icc_data.as_deref())?;
        self.transition(
            id,
            TxnState::OfflineApproved,
            "txn.offline_approved",
            move |tx, _, now| {
                enqueue(tx, id, QueueKind::Advice, now)?;
                keep_icc(tx, id, icc)?;
                let details = json!({ "response_code": rc });
                let mut sets: Sets<'static> = vec![
                    ("response_code", Box::new(rc)),
                    ("cryptogram", Box::new(tc)),
                ];
                push_opt(&mut sets, "tvr", tvr);
                push_opt(&mut sets, "tsi", tsi);
                push_opt(&mut sets, "cvm_result", cvm);
                Ok((sets, details))
            },
        )
    }

    /// `approved / offline_approved → completed`: the terminal finished (card completion done).
    pub fn complete(&mut self, id: TxnId, c: &Completion) -> Result<TransactionRecord> {
        let tc = validate::opt_hex("cryptogram", c.cryptogram.as_deref(), 16, 16)?;
        let tvr = validate::opt_hex("tvr", c.tvr.as_deref(), 10, 10)?;
        let tsi = validate::opt_hex("tsi", c.tsi.as_deref(), 4, 4)?;
        let cvm = validate::opt_hex("cvm_result", c.cvm_result.as_deref(), 6, 6)?;
        self.transition(id, TxnState::Completed, "txn.completed", move |_, _, _| {
            let mut sets: Sets<'static> = Vec::new();
            push_opt(&mut sets, "cryptogram", tc);
            push_opt(&mut sets, "tvr", tvr);
            push_opt(&mut sets, "tsi", tsi);
            push_opt(&mut sets, "cvm_result", cvm);
            Ok((sets, json!({})))
        })
    }

    /// `online_pending / approved → reversal_pending`: the outcome must be cancelled at the host
    /// (no response, or a failure after approval such as a card decline at the second GENERATE AC).
    /// The reversal is queued in the same database transaction.
    pub fn require_reversal(&mut self, id: TxnId, reason: &str) -> Result<TransactionRecord> {
        let reason = validate::free_text("reason", reason, 200)?;
        self.transition(
            id,
            TxnState::ReversalPending,
            "txn.reversal_pending",
            move |tx, _, now| {
                enqueue(tx, id, QueueKind::Reversal, now)?;
                let details = json!({ "reason": reason });
                Ok((
                    vec![("error_reason", Box::new(reason) as Box<dyn ToSql>)],
                    details,
                ))
            },
        )
    }

    /// `created / card_read → aborted` (and `online_pending → aborted` for a balance inquiry, or
    /// a request cancelled before it was written to the host): abandoned before funds could
    /// move. Never for a request that may have reached the host: that is `require_reversal`.
    pub fn abort(&mut self, id: TxnId, reason: &str) -> Result<TransactionRecord> {
        let reason = validate::free_text("reason", reason, 200)?;
        self.transition(id, TxnState::Aborted, "txn.aborted", move |_, _, _| {
            let details = json!({ "reason": reason });
            Ok((
                vec![("error_reason", Box::new(reason) as Box<dyn ToSql>)],
                details,
            ))
        })
    }

    /// QR sale `created → online_pending` with the wallet order in state `pay`.
    pub fn qr_order_placed(
        &mut self,
        id: TxnId,
        wallet_order_no: &str,
    ) -> Result<TransactionRecord> {
        let order = validate::text("wallet_order_no", wallet_order_no, 64)?;
        self.transition(id, TxnState::OnlinePending, "qr.pay", move |_, rec, _| {
            if rec.kind != TxnKind::QrSale {
                return Err(JournalError::WrongKind {
                    id,
                    kind: rec.kind,
                    operation: "qr_order_placed",
                });
            }
            let details = json!({ "wallet_order_no": order });
            let sets: Sets<'static> = vec![
                ("wallet_order_no", Box::new(order)),
                ("qr_state", Box::new(QrState::Pay)),
                ("entry_mode", Box::new(EntryMode::Qr)),
            ];
            Ok((sets, details))
        })
    }

    /// QR order `pay → polling` (or a further poll): state stays `online_pending`. Clears the
    /// status-query flag set by crash recovery.
    pub fn qr_polling(&mut self, id: TxnId) -> Result<TransactionRecord> {
        self.qr_step(
            id,
            QrState::Polling,
            TxnState::OnlinePending,
            "qr.polling",
            None,
            |_| Vec::new(),
        )
    }

    /// QR order `pay / polling → paid`: the transaction becomes `approved` (response code `00`,
    /// the wallet transaction id as RRN).
    pub fn qr_paid(&mut self, id: TxnId, paid: &QrPaid) -> Result<TransactionRecord> {
        let wid = validate::text("wallet_txn_id", &paid.wallet_txn_id, 64)?;
        let scheme = validate::opt_text("scheme", paid.scheme.as_deref(), 32)?;
        let host_time = validate::opt_text("host_time", paid.host_time.as_deref(), 32)?;
        self.qr_step(
            id,
            QrState::Paid,
            TxnState::Approved,
            "qr.paid",
            None,
            move |_| {
                let mut sets: Sets<'static> = vec![
                    ("rrn", Box::new(wid)),
                    ("response_code", Box::new("00")),
                    ("host_time", Box::new(host_time)),
                ];
                push_opt(&mut sets, "scheme", scheme);
                sets
            },
        )
    }

    /// QR order `pay / polling → revoked / closed`: the transaction becomes `declined`.
    pub fn qr_cancelled(
        &mut self,
        id: TxnId,
        how: QrState,
        reason: &str,
    ) -> Result<TransactionRecord> {
        if !matches!(how, QrState::Revoked | QrState::Closed) {
            return Err(JournalError::InvalidField {
                field: "qr_state",
                reason: "cancellation is revoked or closed".into(),
            });
        }
        let reason = validate::free_text("reason", reason, 200)?;
        self.qr_step(
            id,
            how,
            TxnState::Declined,
            "qr.cancelled",
            Some(reason),
            |_| Vec::new(),
        )
    }

    fn qr_step<F>(
        &mut self,
        id: TxnId,
        to_qr: QrState,
        to: TxnState,
        action: &'static str,
        reason: Option<String>,
        sets: F,
    ) -> Result<TransactionRecord>
    where
        F: FnOnce(&TransactionRecord) -> Sets<'static>,
    {
        let now = self.now();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let rec = load(&tx, id)?;
        if rec.kind != TxnKind::QrSale {
            return Err(JournalError::WrongKind {
                id,
                kind: rec.kind,
                operation: action,
            });
        }
        let from_qr = rec.qr_state;
        let qr_ok = matches!(from_qr, Some(QrState::Pay | QrState::Polling));
        if !qr_ok {
            return Err(JournalError::IllegalQrTransition {
                id,
                from: from_qr,
                to: to_qr,
            });
        }
        if rec.state != to && !state::is_legal(rec.kind, rec.state, to) {
            return Err(JournalError::IllegalTransition {
                id,
                from: rec.state,
                to,
            });
        }
        let mut s = sets(&rec);
        s.push(("qr_state", Box::new(to_qr)));
        s.push(("qr_query_needed", Box::new(false)));
        s.push(("state", Box::new(to)));
        s.push(("updated_at", Box::new(now.0)));
        if let Some(r) = &reason {
            s.push(("error_reason", Box::new(r.clone())));
        }
        apply_sets(&tx, id, s)?;
        audit(
            &tx,
            now,
            &rec.operator_id,
            action,
            Some(id),
            &json!({ "from": rec.state, "to": to, "qr_from": from_qr, "qr_to": to_qr, "reason": reason }),
        )?;
        let out = load(&tx, id)?;
        tx.commit()?;
        Ok(out)
    }

    /// Append an operator action (sign-in, settings change, receipt reprint…) to the audit log.
    /// Details are refused if they contain what looks like a card number.
    pub fn record_audit(
        &mut self,
        operator_id: &str,
        action: &str,
        txn: Option<TxnId>,
        details: &serde_json::Value,
    ) -> Result<()> {
        let op = validate::text("operator_id", operator_id, 32)?;
        let action = validate::text("action", action, 64)?;
        validate::reject_pan_like("details", &details.to_string())?;
        let now = self.now();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        if let Some(t) = txn {
            load(&tx, t)?;
        }
        audit(&tx, now, &op, &action, txn, details)?;
        tx.commit()?;
        Ok(())
    }

    /// Decrypt the stored PAN (and expiry) of a record, for a later message that needs it.
    pub fn decrypt_pan(&self, id: TxnId) -> Result<ProtectedCard> {
        let rec = load(&self.conn, id)?;
        let sealed = rec.pan_encrypted.ok_or(JournalError::NotFound {
            what: "encrypted PAN of transaction",
            key: id.to_string(),
        })?;
        self.protector.open(&sealed, rec.uuid.as_bytes())
    }

    /// Drop the encrypted PAN of a record once no message needs it any more (data minimisation).
    pub fn forget_pan(&mut self, id: TxnId) -> Result<()> {
        let now = self.now();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let rec = load(&tx, id)?;
        tx.execute(
            "UPDATE transactions SET pan_enc = NULL, updated_at = ?1 WHERE id = ?2",
            params![now.0, id.0],
        )?;
        audit(
            &tx,
            now,
            &rec.operator_id,
            "txn.pan_forgotten",
            Some(id),
            &json!({}),
        )?;
        tx.commit()?;
        Ok(())
    }
}

fn push_opt(sets: &mut Sets<'static>, col: &'static str, v: Option<String>) {
    if let Some(v) = v {
        sets.push((col, Box::new(v)));
    }
}

fn check_original(orig: &TransactionRecord, kinds: &[TxnKind], what: &str) -> Result<()> {
    let bad = |reason: String| JournalError::OriginalNotEligible {
        original: orig.id,
        kind: orig.kind,
        state: orig.state,
        reason,
    };
    if !kinds.contains(&orig.kind) {
        return Err(bad(format!("a {what} cannot reference a {}", orig.kind)));
    }
    if !TxnState::APPROVED.contains(&orig.state) {
        return Err(bad("original is not approved".into()));
    }
    if orig.voided_by.is_some() {
        return Err(bad("original was voided".into()));
    }
    Ok(())
}

pub(crate) fn enqueue(
    conn: &Connection,
    id: TxnId,
    kind: QueueKind,
    now: Timestamp,
) -> Result<bool> {
    let n = conn.execute(
        "INSERT INTO queue(txn_id, kind, created_at) VALUES (?1, ?2, ?3) ON CONFLICT(txn_id, kind) DO NOTHING",
        params![id.0, kind, now.0],
    )?;
    Ok(n == 1)
}

/// Card data removed from `icc` (None when nothing is left to keep).
fn stripped_icc(icc: Option<&[u8]>) -> Result<Option<Vec<u8>>> {
    match icc {
        None => Ok(None),
        Some(d) => Ok(Some(crate::icc::strip_card_data(d)?).filter(|v| !v.is_empty())),
    }
}

/// Keep the field 55 of `id`'s queued messages (replacing an earlier one).
fn keep_icc(conn: &Connection, id: TxnId, icc: Option<Vec<u8>>) -> Result<()> {
    if let Some(data) = icc {
        conn.execute(
            "INSERT INTO queue_icc(txn_id, data) VALUES (?1, ?2) \
             ON CONFLICT(txn_id) DO UPDATE SET data = excluded.data",
            params![id.0, data],
        )?;
    }
    Ok(())
}

/// Drop the field 55 of `id` once it is final and has nothing left in a queue (data
/// minimisation: no message will repeat it any more).
pub(crate) fn prune_icc(conn: &Connection, id: TxnId) -> Result<()> {
    conn.execute(
        "DELETE FROM queue_icc WHERE txn_id = ?1 \
         AND (SELECT state FROM transactions WHERE id = ?1) IN ('completed','declined','reversed','aborted') \
         AND NOT EXISTS (SELECT 1 FROM queue WHERE txn_id = ?1 AND done = 0)",
        [id.0],
    )?;
    Ok(())
}

struct InsertRow {
    kind: TxnKind,
    amount: i64,
    tip: i64,
    cashback: i64,
    coupon_discount: i64,
    currency: String,
    operator_id: String,
    merchant_order_ref: Option<String>,
    member_id: Option<String>,
    original_id: Option<TxnId>,
    original_rrn: Option<String>,
    original_date: Option<String>,
    copy_card_from: Option<TxnId>,
}

impl Default for InsertRow {
    fn default() -> Self {
        InsertRow {
            kind: TxnKind::Sale,
            amount: 0,
            tip: 0,
            cashback: 0,
            coupon_discount: 0,
            currency: String::new(),
            operator_id: String::new(),
            merchant_order_ref: None,
            member_id: None,
            original_id: None,
            original_rrn: None,
            original_date: None,
            copy_card_from: None,
        }
    }
}

fn insert_row(tx: &Transaction<'_>, now: Timestamp, row: InsertRow) -> Result<TransactionRecord> {
    let batch = ensure_open_batch(tx, now)?;
    let stan = next_counter(tx, "stan")?;
    let invoice = next_counter(tx, "invoice")?;
    let uuid = new_uuid()?;
    tx.execute(
        "INSERT INTO transactions(uuid, kind, state, original_id, original_rrn, original_date, stan, invoice, batch_id, \
         batch_no, amount, tip, cashback, coupon_discount, currency, operator_id, merchant_order_ref, member_id, \
         created_at, updated_at) \
         VALUES (?1, ?2, 'created', ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?18)",
        params![
            uuid,
            row.kind,
            row.original_id.map(|t| t.0),
            row.original_rrn,
            row.original_date,
            stan,
            invoice,
            batch.id.0,
            batch.batch_no,
            row.amount,
            row.tip,
            row.cashback,
            row.coupon_discount,
            row.currency,
            row.operator_id,
            row.merchant_order_ref,
            row.member_id,
            now.0
        ],
    )?;
    let id = TxnId(tx.last_insert_rowid());
    if let Some(src) = row.copy_card_from {
        // Masked PAN, hash and card identity follow the original (the encrypted PAN does not:
        // it is bound to the original's UUID).
        tx.execute(
            "UPDATE transactions SET (pan_masked, pan_hash, scheme, aid, app_label, entry_mode) = \
             (SELECT pan_masked, pan_hash, scheme, aid, app_label, entry_mode FROM transactions WHERE id = ?1) \
             WHERE id = ?2",
            params![src.0, id.0],
        )?;
    }
    audit(
        tx,
        now,
        &row.operator_id,
        "txn.created",
        Some(id),
        &json!({ "kind": row.kind, "amount": row.amount, "currency": row.currency, "stan": stan, "invoice": invoice,
                 "batch_no": batch.batch_no, "original_id": row.original_id }),
    )?;
    load(tx, id)
}
