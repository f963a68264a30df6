package io.smartpos

import io.smartpos.core.CancellationHandle
import io.smartpos.core.PosCardReader
import io.smartpos.core.PosEvent
import io.smartpos.core.PosIndicators
import io.smartpos.core.PosKeys
import io.smartpos.core.PosPinPad
import io.smartpos.core.PosPrinter
import io.smartpos.core.PosQrScanner
import io.smartpos.core.PosSaleRequest
import io.smartpos.core.PosSettlement
import io.smartpos.core.PosSignOn
import io.smartpos.core.PosTerminal
import io.smartpos.core.PosTransaction
import io.smartpos.core.SmartPosException
import io.smartpos.core.TransactionEvents
import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.channels.BufferOverflow
import kotlinx.coroutines.flow.MutableSharedFlow
import kotlinx.coroutines.flow.SharedFlow
import kotlinx.coroutines.flow.asSharedFlow
import java.io.File
import java.util.concurrent.atomic.AtomicReference

/** The devices of a terminal, as the app implements them (Android/vendor SDK adapters). */
class PosDevices(
    val cardReader: PosCardReader,
    val pinPad: PosPinPad,
    val printer: PosPrinter,
    val qrScanner: PosQrScanner,
    val indicators: PosIndicators,
    /** Same card and amount within the duplicate window: charge again? Default: no. */
    val confirmDuplicate: (panMasked: String, amount: ULong) -> Boolean = { _, _ -> false },
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

    /** A card sale of [amount] minor units by cashier [operatorId]. */
    suspend fun sale(amount: Long, operatorId: String, tip: Long = 0, cashback: Long = 0, orderRef: String? = null): PosTransaction {
        require(amount >= 0 && tip >= 0 && cashback >= 0) { "amounts are minor units, not negative" }
        return cancellable { pos.sale(PosSaleRequest(amount.toULong(), tip.toULong(), cashback.toULong(), operatorId, orderRef), it) }
    }

    /** Void an approved sale of the open batch by its [PosTransaction.txnId]. */
    suspend fun void(txnId: Long): PosTransaction = cancellable { pos.void(txnId, it) }

    /** Refund [amount] of a sale of this journal by its [PosTransaction.txnId]. */
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
        /**
         * Open the terminal: settings, kernel configuration and CA keys from [configDir], the
         * journal file [journal] (crash recovery runs here), the [devices], the software key
         * store seeded with [keys]. Throws `SmartPosException.InvalidConfiguration`, `Journal`,
         * `InvalidInput`.
         */
        fun open(configDir: File, journal: File, keys: PosKeys, supervisorId: String, devices: PosDevices): SmartPosTerminal {
            val flow = MutableSharedFlow<PosEvent>(extraBufferCapacity = 64, onBufferOverflow = BufferOverflow.DROP_OLDEST)
            val listener = object : TransactionEvents {
                override fun onEvent(event: PosEvent) {
                    flow.tryEmit(event)
                }

                override fun confirmDuplicate(panMasked: String, amount: ULong): Boolean =
                    runCatching { devices.confirmDuplicate(panMasked, amount) }.getOrDefault(false)
            }
            val pos = PosTerminal.open(
                configDir.path, journal.path, keys, supervisorId,
                GuardedPosReader(devices.cardReader), GuardedPosPinPad(devices.pinPad), GuardedPrinter(devices.printer),
                GuardedScanner(devices.qrScanner), GuardedIndicators(devices.indicators), listener,
            )
            return SmartPosTerminal(pos, flow)
        }
    }
}

/** Anything a device callback throws that is not a `SmartPosException` (an `IOException`, an
 *  `Error`) becomes `SmartPosException.Device` naming the device: only typed errors reach Rust. */
private inline fun <T> guard(device: String, block: () -> T): T = try {
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
        runCatching { inner.beep(success) }
    }

    override fun leds(status: String) {
        runCatching { inner.leds(status) }
    }
}
