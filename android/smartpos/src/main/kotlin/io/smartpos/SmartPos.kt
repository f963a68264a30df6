package io.smartpos

import io.smartpos.core.ApduSession
import io.smartpos.core.CancellationHandle
import io.smartpos.core.CardReader
import io.smartpos.core.ContactTransaction
import io.smartpos.core.EmvKernel
import io.smartpos.core.EmvResult
import io.smartpos.core.EmvTransactionRequest
import io.smartpos.core.EmvTransactionType
import io.smartpos.core.HostAuthorisation
import io.smartpos.core.OfflinePinEntry
import io.smartpos.core.OnlinePinEntry
import io.smartpos.core.PinPad
import io.smartpos.core.ResponseApdu
import io.smartpos.core.SmartPosException
import io.smartpos.core.TlvNode
import io.smartpos.jni.ApduTransceiver
import io.smartpos.jni.NativeApdu
import kotlinx.coroutines.CoroutineStart
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.awaitCancellation
import kotlinx.coroutines.channels.BufferOverflow
import kotlinx.coroutines.coroutineScope
import kotlinx.coroutines.flow.MutableSharedFlow
import kotlinx.coroutines.flow.SharedFlow
import kotlinx.coroutines.flow.asSharedFlow
import kotlinx.coroutines.launch
import kotlinx.coroutines.withContext
import java.security.SecureRandom
import java.time.LocalDateTime
import java.time.format.DateTimeFormatter
import java.util.concurrent.atomic.AtomicBoolean
import java.util.concurrent.atomic.AtomicReference

/**
 * The entry point Android POS apps call: a thin layer over the generated UniFFI bindings
 * (`io.smartpos.core`) and the raw-JNI fast path (`io.smartpos.jni`). No payment logic lives
 * here; selection, the kernels and every EMV decision are in the Rust core.
 */
object SmartPos {
    /** The Rust core's version. */
    val version: String
        get() = io.smartpos.core.version()

    /** Decode BER-TLV (EMV Book 3 Annex B) from hex; throws `SmartPosException.InvalidInput`
     *  for bad hex and `SmartPosException.MalformedTlv` for bad TLV. */
    fun decodeTlv(hex: String): List<TlvNode> = io.smartpos.core.decodeTlvHex(hex)

    /** Decode BER-TLV from bytes. */
    fun decodeTlv(data: ByteArray): List<TlvNode> = io.smartpos.core.decodeTlv(data)

    /** Encode nodes with minimal lengths. */
    fun encodeTlv(nodes: List<TlvNode>): ByteArray = io.smartpos.core.encodeTlv(nodes)

    /** Raw exchanges over [reader] (diagnostics); close it when the card is gone. */
    fun openSession(reader: CardReader): CardSession = CardSession(reader)

    /**
     * The payment kernels with a terminal configuration (JSON), CA public key files (JSON) and
     * optionally the contactless combinations; throws `SmartPosException.InvalidConfiguration`.
     */
    fun kernel(terminalConfigJson: String, caKeyFilesJson: List<String>, contactlessConfigJson: String? = null): PaymentKernel =
        PaymentKernel(EmvKernel(terminalConfigJson, caKeyFilesJson, contactlessConfigJson))

    /** The facade over an already built kernel (e.g. `simulatedEmvKernel()` in host tests). */
    fun kernel(kernel: EmvKernel): PaymentKernel = PaymentKernel(kernel)

    /** The demo terminal with the public EMVCo test CA keys: demos and tests, never live cards. */
    fun demoKernel(): PaymentKernel = PaymentKernel(EmvKernel.demo())
}

/** What the core did on the wire and decided, in order, for UIs and logs. */
sealed class ApduEvent {
    /** One command and the card's raw answer. */
    class Exchanged(val command: ByteArray, val response: ByteArray) : ApduEvent()

    /** The reader failed on [command]. */
    class ReaderFailed(val command: ByteArray, val error: SmartPosException) : ApduEvent()

    /** A kernel run ended with [result]. */
    class Finished(val result: EmvResult) : ApduEvent()
}

/** A PIN pad that is not there: the kernel records "PIN pad not present" and goes on. */
object NoPinPad : PinPad {
    override fun offlinePin(enciphered: Boolean, triesLeft: UByte?): OfflinePinEntry = OfflinePinEntry.Failed
    override fun onlinePin(pan: String): OnlinePinEntry = OnlinePinEntry.Failed
}

/**
 * The EMV kernels over the app's readers. Every call is a suspend function that runs the
 * blocking kernel on [Dispatchers.IO]; cancelling the calling coroutine, or [cancel], stops the
 * kernel before its next APDU and fails the call with `SmartPosException.Cancelled`.
 *
 * Card answers are outcomes ([EmvResult.outcome]), never exceptions; exceptions are the reader
 * failing (`Transport`), cancellation (`Cancelled`), a bad request (`InvalidInput`).
 */
class PaymentKernel internal constructor(private val kernel: EmvKernel) : AutoCloseable {
    private val eventFlow = MutableSharedFlow<ApduEvent>(extraBufferCapacity = 64, onBufferOverflow = BufferOverflow.DROP_OLDEST)
    private val running = AtomicReference<CancellationHandle?>(null)
    private val random = SecureRandom()

    /** Exchanges and results of every call, as they happen; drops the oldest past 64. */
    val events: SharedFlow<ApduEvent> = eventFlow.asSharedFlow()

    /** Cancel the transaction running now, if any (a UI "cancel" button). */
    fun cancel() {
        running.get()?.cancel()
    }

    /** A request stamped with the local date and time and a fresh unpredictable number (9F37). */
    fun request(amount: Long, type: EmvTransactionType = EmvTransactionType.PURCHASE, amountOther: Long = 0, sequenceCounter: UInt = 1u, forceOnline: Boolean = false): EmvTransactionRequest {
        require(amount >= 0 && amountOther >= 0) { "amounts are minor units, not negative" }
        val now = LocalDateTime.now()
        val un = ByteArray(4).also(random::nextBytes)
        return EmvTransactionRequest(
            amount.toULong(), amountOther.toULong(), type,
            now.format(DateTimeFormatter.ofPattern("yyMMdd")), now.format(DateTimeFormatter.ofPattern("HHmmss")),
            un, sequenceCounter, forceOnline,
        )
    }

    /** A contactless tap over a UniFFI [reader] (one callback per APDU). */
    suspend fun tap(reader: CardReader, request: EmvTransactionRequest, cancel: CancellationHandle = CancellationHandle()): EmvResult =
        cancellable(cancel) { kernel.tap(GuardedReader(reader, eventFlow), request, cancel) }.also { eventFlow.tryEmit(ApduEvent.Finished(it)) }

    /** The same tap over the raw-JNI fast path (one cached-method-id call per APDU). */
    suspend fun tapFast(reader: ApduTransceiver, request: EmvTransactionRequest, cancel: CancellationHandle = CancellationHandle()): EmvResult =
        withNativeReader(reader) { handle -> cancellable(cancel) { kernel.tapNative(handle, request, cancel) } }
            .also { eventFlow.tryEmit(ApduEvent.Finished(it)) }

    /** A contact transaction up to its decision or online request; finish it with
     *  [ContactTransaction.complete] or [ContactTransaction.unableToGoOnline] (off the UI thread).
     *  [pinPad] answers offline PIN with `OfflinePinEntry.Entered(digits)`, the digits an ASCII
     *  `ByteArray`: Rust zeroizes its copy at once; the app must clear its array after the call. */
    suspend fun startContact(reader: CardReader, request: EmvTransactionRequest, pinPad: PinPad = NoPinPad, cancel: CancellationHandle = CancellationHandle()): ContactTransaction =
        cancellable(cancel) { kernel.startContact(GuardedReader(reader, eventFlow), request, GuardedPinPad(pinPad), cancel) }

    /** Resume a contact transaction with the host's answer, as a suspend call. */
    suspend fun complete(transaction: ContactTransaction, host: HostAuthorisation?): EmvResult =
        withContext(Dispatchers.IO) { if (host != null) transaction.complete(host) else transaction.unableToGoOnline() }
            .also { eventFlow.tryEmit(ApduEvent.Finished(it)) }

    private suspend fun <T> withNativeReader(reader: ApduTransceiver, block: suspend (ULong) -> T): T {
        val handle = NativeApdu.openReader(reader).toULong()
        try {
            return block(handle)
        } finally {
            io.smartpos.core.releaseNativeReader(handle)
        }
    }

    /**
     * Run a blocking kernel call on [Dispatchers.IO]. When the caller's coroutine is cancelled,
     * [cancel] is set at once (the watcher's finally runs while the IO thread is still inside
     * Rust), so the kernel stops before its next APDU.
     */
    private suspend fun <T> cancellable(cancel: CancellationHandle, block: () -> T): T = coroutineScope {
        val finished = AtomicBoolean(false)
        running.set(cancel)
        val watcher = launch(start = CoroutineStart.UNDISPATCHED) {
            try {
                awaitCancellation()
            } finally {
                if (!finished.get()) cancel.cancel()
            }
        }
        try {
            withContext(Dispatchers.IO) { block() }
        } finally {
            finished.set(true)
            running.compareAndSet(cancel, null)
            watcher.cancel()
        }
    }

    override fun close() = kernel.close()
}

/** Raw exchanges over one card reader (diagnostics). */
class CardSession internal constructor(reader: CardReader) : AutoCloseable {
    private val eventFlow = MutableSharedFlow<ApduEvent>(extraBufferCapacity = 64, onBufferOverflow = BufferOverflow.DROP_OLDEST)
    private val session = ApduSession(GuardedReader(reader, eventFlow))

    /** Every exchange of this session, as it happens. */
    val events: SharedFlow<ApduEvent> = eventFlow.asSharedFlow()

    /** APDUs exchanged so far. */
    val exchangeCount: Long
        get() = session.exchangeCount().toLong()

    /** Send one command; the answer split into data and SW. */
    fun transmit(apdu: ByteArray): ResponseApdu = session.transmit(apdu)

    override fun close() = session.close()
}

/**
 * Wraps the app's reader: records events, and turns anything the reader throws that is not a
 * `SmartPosException` (an `IOException`, an `Error`) into `SmartPosException.Transport`, so
 * nothing but typed errors crosses into Rust.
 */
private class GuardedReader(
    private val inner: CardReader,
    private val events: MutableSharedFlow<ApduEvent>,
) : CardReader {
    override fun transceive(apdu: ByteArray): ByteArray {
        val response = try {
            inner.transceive(apdu)
        } catch (e: SmartPosException) {
            events.tryEmit(ApduEvent.ReaderFailed(apdu, e))
            throw e
        } catch (t: Throwable) {
            val typed = SmartPosException.Transport(t.toString())
            events.tryEmit(ApduEvent.ReaderFailed(apdu, typed))
            throw typed
        }
        events.tryEmit(ApduEvent.Exchanged(apdu, response))
        return response
    }
}

/** The app's PIN pad; anything it throws becomes a typed error (the kernel treats it as a
 *  failed PIN pad). */
private class GuardedPinPad(private val inner: PinPad) : PinPad {
    override fun offlinePin(enciphered: Boolean, triesLeft: UByte?): OfflinePinEntry = guard { inner.offlinePin(enciphered, triesLeft) }
    override fun onlinePin(pan: String): OnlinePinEntry = guard { inner.onlinePin(pan) }

    private inline fun <T> guard(block: () -> T): T = try {
        block()
    } catch (e: SmartPosException) {
        throw e
    } catch (t: Throwable) {
        throw SmartPosException.Transport("PIN pad: $t")
    }
}
