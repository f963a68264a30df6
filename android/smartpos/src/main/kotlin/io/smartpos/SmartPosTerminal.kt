package io.smartpos

import com.sun.jna.Callback
import com.sun.jna.CallbackThreadInitializer
import com.sun.jna.Native
import com.sun.jna.Structure
import io.smartpos.core.CancellationHandle
import io.smartpos.core.KeyStoreCallback
import io.smartpos.core.PosAction
import io.smartpos.core.PosCardReader
import io.smartpos.core.PosCredentials
import io.smartpos.core.PosEvent
import io.smartpos.core.PosIndicators
import io.smartpos.core.PosJournalKeys
import io.smartpos.core.PosKeys
import io.smartpos.core.PosLanguage
import io.smartpos.core.PosOperators
import io.smartpos.core.PosPaymentMethod
import io.smartpos.core.PosPinPad
import io.smartpos.core.PosPrinter
import io.smartpos.core.PosQrDisplay
import io.smartpos.core.PosQrScanner
import io.smartpos.core.PosReceipt
import io.smartpos.core.PosReceiptCopy
import io.smartpos.core.PosReceiptData
import io.smartpos.core.PosRole
import io.smartpos.core.PosSaleRequest
import io.smartpos.core.PosSecretKey
import io.smartpos.core.PosSettlement
import io.smartpos.core.PosSettlementReport
import io.smartpos.core.PosSignOn
import io.smartpos.core.PosTerminal
import io.smartpos.core.PosTotalsReport
import io.smartpos.core.PosTransaction
import io.smartpos.core.PosWorkingKey
import io.smartpos.core.PosWorkingKeyType
import io.smartpos.core.SmartPosException
import io.smartpos.core.SupervisorCallback
import io.smartpos.core.TransactionEvents
import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.channels.BufferOverflow
import kotlinx.coroutines.flow.MutableSharedFlow
import kotlinx.coroutines.flow.SharedFlow
import kotlinx.coroutines.flow.asSharedFlow
import java.io.File
import java.util.concurrent.atomic.AtomicReference

/**
 * The devices of a terminal, as the app implements them (Android/vendor SDK adapters).
 *
 * Offline PIN: [PosPinPad.offlinePin] returns `OfflinePinEntry.Entered(digits)` with the digits
 * as an ASCII `ByteArray` (never a `String`, which cannot be cleared). Rust zeroizes its copy as
 * soon as the PIN block is built; the app must clear its own array (`digits.fill(0)`) once the
 * call has returned, e.g. keep the array and clear it on the next `onEvent`.
 */
class PosDevices(
    val cardReader: PosCardReader,
    val pinPad: PosPinPad,
    val printer: PosPrinter,
    val qrScanner: PosQrScanner,
    val indicators: PosIndicators,
    /** Same card and amount within the duplicate window: charge again? Default: no. */
    val confirmDuplicate: (panMasked: String, amount: ULong) -> Boolean = { _, _ -> false },
    /** The customer display of merchant-presented QR codes (the payload also arrives as the
     *  `merchant_qr` event). */
    val qrDisplay: PosQrDisplay? = null,
)

/**
 * The payment terminal for apps: sale, void, refund, settlement as suspend functions over
 * `io.smartpos.core.PosTerminal` (smartpos-terminal in Rust). A decline throws
 * `SmartPosException.Declined` (host response code and message), a lost host
 * `SmartPosException.HostUnavailable`; every other failure has its own `SmartPosException`
 * subclass. Cancelling the calling coroutine, or [cancel], stops the running transaction at its
 * next check (card wait, card APDU, host link) with `SmartPosException.Cancelled`.
 */
class SmartPosTerminal private constructor(
    private val pos: PosTerminal,
    private val eventFlow: MutableSharedFlow<PosEvent>,
) : AutoCloseable {
    private val running = AtomicReference<CancellationHandle?>(null)

    /** Prompts, LED changes and progress of every transaction, as they happen (drops the
     *  oldest past 64 when nobody collects). */
    val events: SharedFlow<PosEvent> = eventFlow.asSharedFlow()

    /** The terminal id from the settings. */
    val terminalId: String
        get() = pos.terminalId()

    /** Cancel the transaction running now, if any. */
    fun cancel() {
        running.get()?.cancel()
    }

    /** Key download and batch number from the host. */
    suspend fun signOn(): PosSignOn = pos.signOn()

    /**
     * A sale of [amount] minor units by cashier [operatorId]: by card (default), by the
     * customer's wallet code ([PosPaymentMethod.SCAN_WALLET_CODE], read with the QR scanner) or
     * the merchant-presented QR ([PosPaymentMethod.MERCHANT_QR]: its payload arrives as a
     * `merchant_qr` event on [events] for the app to display).
     */
    suspend fun sale(
        amount: Long,
        operatorId: String,
        tip: Long = 0,
        cashback: Long = 0,
        orderRef: String? = null,
        method: PosPaymentMethod = PosPaymentMethod.CARD,
        memberId: String? = null,
        couponDiscount: Long = 0,
    ): PosTransaction {
        val request = request(amount, operatorId, tip, cashback, orderRef, method, memberId, couponDiscount)
        return cancellable { pos.sale(request, it) }
    }

    /** A pre-authorisation by card of [amount]: held, not charged, until [completePreAuthorisation]. */
    suspend fun preAuthorise(amount: Long, operatorId: String, orderRef: String? = null): PosTransaction {
        val request = request(amount, operatorId, 0, 0, orderRef, PosPaymentMethod.CARD, null, 0)
        return cancellable { pos.preAuthorise(request, it) }
    }

    /** Complete the pre-authorisation [preAuthTxnId] for the final [amount] (no card needed). */
    suspend fun completePreAuthorisation(preAuthTxnId: Long, amount: Long, operatorId: String): PosTransaction {
        require(amount > 0) { "a completion amount is positive" }
        return pos.completePreAuthorisation(preAuthTxnId, amount.toULong(), operatorId)
    }

    private fun request(
        amount: Long, operatorId: String, tip: Long, cashback: Long, orderRef: String?,
        method: PosPaymentMethod, memberId: String?, couponDiscount: Long,
    ): PosSaleRequest {
        require(amount >= 0 && tip >= 0 && cashback >= 0 && couponDiscount >= 0) { "amounts are minor units, not negative" }
        return PosSaleRequest(amount.toULong(), tip.toULong(), cashback.toULong(), operatorId, orderRef, method, memberId, couponDiscount.toULong())
    }

    /** Void an approved sale of the open batch by its [PosTransaction.txnId]. */
    suspend fun void(txnId: Long): PosTransaction = cancellable { pos.void(txnId, it) }

    /** Refund [amount] of a sale of this journal by its [PosTransaction.txnId]. A refund the host
     *  did not answer comes back with status `PENDING`: it is queued and sent again by
     *  [flushQueues] (and before every transaction) until the host answers. */
    suspend fun refund(originalTxnId: Long, amount: Long): PosTransaction {
        require(amount > 0) { "a refund amount is positive" }
        return cancellable { pos.refund(originalTxnId, amount.toULong(), it) }
    }

    /** Refund of a sale known by its RRN and date (MMDD or YYYYMMDD). */
    suspend fun refund(rrn: String, date: String, amount: Long): PosTransaction {
        require(amount > 0) { "a refund amount is positive" }
        return cancellable { pos.refundByRrn(rrn, date, amount.toULong(), it) }
    }

    /** Balance inquiry with the card. */
    suspend fun balanceInquiry(operatorId: String): PosTransaction = cancellable { pos.balanceInquiry(operatorId, it) }

    /** Close the batch: totals to the host, upload on mismatch. */
    suspend fun settle(): PosSettlement = pos.settle()

    /** [settle] with the settlement report (journal totals against what was sent, text in [lang]). */
    suspend fun settleWithReport(lang: PosLanguage = PosLanguage.EN): PosSettlementReport = pos.settleWithReport(lang)

    /** Totals of the open batch by payment method, scheme and operator, with its text (X report). */
    suspend fun totalsReport(lang: PosLanguage = PosLanguage.EN): PosTotalsReport = pos.totalsReport(lang)

    /** Print the totals report of the open batch on the printer; returns it. */
    suspend fun printTotalsReport(lang: PosLanguage = PosLanguage.EN): PosTotalsReport = pos.printTotalsReport(lang)

    /** The receipt of [txnId]: data (masked PAN only), text, ESC/POS bytes and PNG. */
    suspend fun receipt(txnId: Long, copy: PosReceiptCopy = PosReceiptCopy.CUSTOMER, lang: PosLanguage = PosLanguage.EN): PosReceipt =
        pos.receipt(txnId, copy, lang)

    /** Print [copy] of the last finished transaction's receipt again, marked as a reprint. */
    suspend fun reprintLast(copy: PosReceiptCopy = PosReceiptCopy.CUSTOMER): PosReceiptData = pos.reprintLast(copy)

    /** Label language of [printReceipt] (English until set). */
    fun setReceiptLanguage(lang: PosLanguage) = pos.setReceiptLanguage(lang)

    /** Print [copy] of the receipt of [txnId] on the printer; a second print is marked as a reprint. */
    suspend fun printReceipt(txnId: Long, copy: PosReceiptCopy = PosReceiptCopy.CUSTOMER): PosReceiptData = pos.printReceipt(txnId, copy)

    /** The device's tamper switch fired: every key is erased, payments refused until keys are loaded. */
    suspend fun tamper() = pos.tamper()

    /** Whether payments are blocked by a tamper event. */
    suspend fun isTampered(): Boolean = pos.isTampered()

    /**
     * Load a terminal master key (an admin approves through the supervisor prompt); lifts the
     * tamper block. Rust zeroizes its copy at once; clear [key]'s array after the call.
     */
    suspend fun loadMasterKey(key: PosSecretKey) = pos.loadMasterKey(key)

    /** Send queued reversals and advices now; returns how many went. */
    suspend fun flushQueues(): Int = pos.flushQueues().toInt()

    private suspend fun <T> cancellable(block: suspend (CancellationHandle) -> T): T {
        val handle = CancellationHandle()
        running.set(handle)
        try {
            return block(handle)
        } catch (e: CancellationException) {
            // The coroutine went away: stop the Rust side too (it holds the terminal until then).
            handle.cancel()
            throw e
        } finally {
            running.compareAndSet(handle, null)
            handle.close()
        }
    }

    override fun close() = pos.close()

    companion object {
        init {
            // Before PosTerminal (and with it, possibly, the library) is first touched.
            CallbackThreads.keepAttached()
        }

        /**
         * Open the terminal with the software key store seeded by [keys] and every supervisor
         * action approved as [supervisorId] (tests and the demo; production terminals use
         * [openSecured]): settings, kernel configuration and CA keys from [configDir], the
         * journal file [journal] (crash recovery runs here), the [devices]. Throws
         * `SmartPosException.InvalidConfiguration`, `Journal`, `InvalidInput`.
         */
        fun open(configDir: File, journal: File, keys: PosKeys, supervisorId: String, devices: PosDevices): SmartPosTerminal {
            val flow = eventFlow()
            val g = Guarded(devices)
            val pos = PosTerminal.open(
                configDir.path, journal.path, keys, supervisorId,
                g.reader, g.pinPad, g.printer, g.scanner, g.indicators, listener(flow, devices),
            )
            g.qrDisplay?.let { pos.setQrDisplay(it) }
            return SmartPosTerminal(pos, flow)
        }

        /**
         * Open the terminal with its keys in the device's [keyStore] (secure element, Android
         * Keystore-wrapped storage) and void, refund, settlement, large amounts and key loading
         * approved through [supervisor]: the id and password typed are checked against
         * [operators] (argon2id, lock-out after too many wrong passwords), every grant and
         * refusal audited in the journal.
         */
        fun openSecured(
            configDir: File,
            journal: File,
            keyStore: KeyStoreCallback,
            operators: PosOperators,
            supervisor: SupervisorCallback,
            devices: PosDevices,
        ): SmartPosTerminal {
            val flow = eventFlow()
            val g = Guarded(devices)
            val pos = PosTerminal.openSecured(
                configDir.path, journal.path, GuardedKeyStore(keyStore), operators, GuardedSupervisor(supervisor),
                g.reader, g.pinPad, g.printer, g.scanner, g.indicators, listener(flow, devices),
            )
            g.qrDisplay?.let { pos.setQrDisplay(it) }
            return SmartPosTerminal(pos, flow)
        }

        private fun eventFlow() =
            MutableSharedFlow<PosEvent>(extraBufferCapacity = 64, onBufferOverflow = BufferOverflow.DROP_OLDEST)

        private fun listener(flow: MutableSharedFlow<PosEvent>, devices: PosDevices) = object : TransactionEvents {
            override fun onEvent(event: PosEvent) {
                CallbackThreads.stayAttached()
                flow.tryEmit(event)
            }

            override fun confirmDuplicate(panMasked: String, amount: ULong): Boolean =
                runCatching { devices.confirmDuplicate(panMasked, amount) }.getOrDefault(false)
        }
    }
}

/**
 * JNA attaches a native thread to the JVM for each callback and, by default, detaches it again
 * when the callback returns: every device callback of a transaction would pay an attach and a
 * detach (and the app would see a new `Thread` object each time). The terminal runs its
 * operations on one long-lived Rust thread per terminal (`smartpos-worker`); this keeps that
 * thread attached from its first callback until it ends (JNA detaches it when the native thread
 * exits, i.e. when the terminal is closed):
 *
 * - [stayAttached] (`Native.detach(false)`), called at the start of every guarded device
 *   callback of [SmartPosTerminal], works whenever the library was loaded;
 * - [keepAttached] also registers a `CallbackThreadInitializer(daemon = true, detach = false,
 *   "smartpos-worker")` for every UniFFI callback of the library. JNA applies an initializer only
 *   to callbacks whose native trampoline is created after it (at library load), so it takes
 *   effect when the app calls it before its first use of the library (e.g. in
 *   `Application.onCreate`); the worker thread is then a named daemon thread.
 *
 * Close the terminal when done: a non-daemon attached thread keeps a desktop JVM alive.
 */
object CallbackThreads {
    private val initializer = CallbackThreadInitializer(true, false, "smartpos-worker")

    @Volatile private var done = false

    /** The JNA callback objects of a UniFFI vtable (its fields). */
    private fun callbacksOf(vtable: Structure): List<Callback> =
        generateSequence<Class<*>>(vtable.javaClass) { it.superclass }
            .takeWhile { it != Structure::class.java }
            .flatMap { it.declaredFields.asSequence() }
            .filter { Callback::class.java.isAssignableFrom(it.type) }
            .mapNotNull { field ->
                field.isAccessible = true
                field.get(vtable) as Callback?
            }
            .toList()

    /** Register the thread initializer for every callback of the library; idempotent. */
    @Synchronized
    fun keepAttached() {
        if (done) return
        val vtables: List<Structure> = listOf(
            io.smartpos.core.uniffiCallbackInterfaceCardReader.vtable,
            io.smartpos.core.uniffiCallbackInterfacePinPad.vtable,
            io.smartpos.core.uniffiCallbackInterfacePosCardReader.vtable,
            io.smartpos.core.uniffiCallbackInterfacePosIndicators.vtable,
            io.smartpos.core.uniffiCallbackInterfacePosPinPad.vtable,
            io.smartpos.core.uniffiCallbackInterfacePosPrinter.vtable,
            io.smartpos.core.uniffiCallbackInterfacePosQrScanner.vtable,
            io.smartpos.core.uniffiCallbackInterfacePosQrDisplay.vtable,
            io.smartpos.core.uniffiCallbackInterfaceTransactionEvents.vtable,
            io.smartpos.core.uniffiCallbackInterfaceKeyStoreCallback.vtable,
            io.smartpos.core.uniffiCallbackInterfaceSupervisorCallback.vtable,
        )
        for (vtable in vtables) {
            for (callback in callbacksOf(vtable)) Native.setCallbackThreadInitializer(callback, initializer)
        }
        done = true
    }

    /** Inside a callback from a native thread: do not detach it when the callback returns. */
    fun stayAttached() {
        Native.detach(false)
    }
}

/** The app's devices behind the guards below. */
private class Guarded(devices: PosDevices) {
    val reader: PosCardReader = GuardedPosReader(devices.cardReader)
    val pinPad: PosPinPad = GuardedPosPinPad(devices.pinPad)
    val printer: PosPrinter = GuardedPrinter(devices.printer)
    val scanner: PosQrScanner = GuardedScanner(devices.qrScanner)
    val indicators: PosIndicators = GuardedIndicators(devices.indicators)
    val qrDisplay: PosQrDisplay? = devices.qrDisplay?.let { GuardedQrDisplay(it) }
}

private class GuardedQrDisplay(private val inner: PosQrDisplay) : PosQrDisplay {
    override fun show(payload: String) = guard("QR display") { inner.show(payload) }
    override fun clear() = guard("QR display") { inner.clear() }
}

/** A key store that throws anything but `SmartPosException` fails with `SmartPosException.KeyMissing`. */
private class GuardedKeyStore(private val inner: KeyStoreCallback) : KeyStoreCallback {
    private inline fun <T> keys(block: () -> T): T = try {
        CallbackThreads.stayAttached()
        block()
    } catch (e: SmartPosException) {
        throw e
    } catch (t: Throwable) {
        throw SmartPosException.KeyMissing("key store: $t")
    }

    override fun masterKey(): PosSecretKey? = keys { inner.masterKey() }
    override fun installMasterKey(key: PosSecretKey) = keys { inner.installMasterKey(key) }
    override fun workingKey(keyType: PosWorkingKeyType): PosSecretKey? = keys { inner.workingKey(keyType) }
    override fun installWorkingKeys(keys: List<PosWorkingKey>, installedAtMs: Long) = keys { inner.installWorkingKeys(keys, installedAtMs) }
    override fun workingKeysInstalledAtMs(): Long? = keys { inner.workingKeysInstalledAtMs() }
    override fun journalKeys(): PosJournalKeys = keys { inner.journalKeys() }
    override fun eraseAll() = keys { inner.eraseAll() }
}

/** A supervisor dialog that throws is treated as cancelled (nothing is approved). */
private class GuardedSupervisor(private val inner: SupervisorCallback) : SupervisorCallback {
    override fun credentials(role: PosRole, action: PosAction): PosCredentials? = try {
        CallbackThreads.stayAttached()
        inner.credentials(role, action)
    } catch (e: SmartPosException) {
        throw e
    } catch (t: Throwable) {
        null
    }
}

/** Anything a device callback throws that is not a `SmartPosException` (an `IOException`, an
 *  `Error`) becomes `SmartPosException.Device` naming the device: only typed errors reach Rust. */
private inline fun <T> guard(device: String, block: () -> T): T = try {
    CallbackThreads.stayAttached()
    block()
} catch (e: SmartPosException) {
    throw e
} catch (t: Throwable) {
    throw SmartPosException.Device(device, t.toString())
}

private class GuardedPosReader(private val inner: PosCardReader) : PosCardReader {
    override fun detect(contact: Boolean, contactless: Boolean, magstripe: Boolean, timeoutMs: ULong) =
        guard("card reader") { inner.detect(contact, contactless, magstripe, timeoutMs) }
    override fun transceive(apdu: ByteArray): ByteArray = guard("card reader") { inner.transceive(apdu) }
    override fun waitForRemoval(timeoutMs: ULong) = guard("card reader") { inner.waitForRemoval(timeoutMs) }
}

private class GuardedPosPinPad(private val inner: PosPinPad) : PosPinPad {
    override fun onlinePin(pan: String, amount: ULong) = guard("PIN pad") { inner.onlinePin(pan, amount) }
    override fun offlinePin(triesLeft: UByte?) = guard("PIN pad") { inner.offlinePin(triesLeft) }
}

private class GuardedPrinter(private val inner: PosPrinter) : PosPrinter {
    override fun print(lines: List<String>, escpos: ByteArray?) = guard("printer") { inner.print(lines, escpos) }
}

private class GuardedScanner(private val inner: PosQrScanner) : PosQrScanner {
    override fun scan(timeoutMs: ULong): String = guard("QR scanner") { inner.scan(timeoutMs) }
}

/** Beeper and LEDs cannot fail a payment: their exceptions are dropped. */
private class GuardedIndicators(private val inner: PosIndicators) : PosIndicators {
    override fun beep(success: Boolean) {
        runCatching { CallbackThreads.stayAttached(); inner.beep(success) }
    }

    override fun leds(status: String) {
        runCatching { CallbackThreads.stayAttached(); inner.leds(status) }
    }
}
