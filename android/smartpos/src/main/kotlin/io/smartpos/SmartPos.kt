package io.smartpos

import io.smartpos.core.ApduSession
import io.smartpos.core.ApplicationSelection
import io.smartpos.core.CancellationHandle
import io.smartpos.core.CardReader
import io.smartpos.core.ResponseApdu
import io.smartpos.core.SelectionEvent
import io.smartpos.core.SelectionListener
import io.smartpos.core.SmartPosException
import io.smartpos.core.TlvNode
import io.smartpos.jni.ApduTransceiver
import io.smartpos.jni.NativeApdu
import kotlinx.coroutines.CoroutineStart
import kotlinx.coroutines.awaitCancellation
import kotlinx.coroutines.channels.BufferOverflow
import kotlinx.coroutines.coroutineScope
import kotlinx.coroutines.flow.MutableSharedFlow
import kotlinx.coroutines.flow.SharedFlow
import kotlinx.coroutines.flow.asSharedFlow
import kotlinx.coroutines.launch
import java.util.concurrent.atomic.AtomicBoolean

/**
 * The entry point Android POS apps call: a thin layer over the generated UniFFI bindings
 * (`io.smartpos.core`) and the raw-JNI fast path (`io.smartpos.jni`). No payment logic lives
 * here; everything is in the Rust core.
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

    /** A session over [reader]; close it when the card is gone. */
    fun openSession(reader: CardReader): CardSession = CardSession(reader)

    /**
     * Application selection over the raw-JNI fast path: every APDU goes Rust → [reader] through
     * a cached JNI method ID. Returns the selected AID; throws
     * [io.smartpos.jni.NativeApduException] with the error kind.
     */
    fun selectApplicationFast(reader: ApduTransceiver): ByteArray = NativeApdu.selectApplication(reader)
}

/** What a [CardSession] did on the wire, in order, for UIs and logs. */
sealed class ApduEvent {
    /** One command and the card's raw answer. */
    class Exchanged(val command: ByteArray, val response: ByteArray) : ApduEvent()

    /** The reader failed on [command]. */
    class ReaderFailed(val command: ByteArray, val error: SmartPosException) : ApduEvent()

    /** A decision of the Rust selection flow (candidates found, one rejected, one selected). */
    class Selection(val event: SelectionEvent) : ApduEvent()
}

/**
 * APDU flows over one card reader. [events] replays nothing and drops the oldest event when a
 * slow collector falls 64 behind.
 */
class CardSession internal constructor(reader: CardReader) : AutoCloseable {
    private val eventFlow = MutableSharedFlow<ApduEvent>(
        extraBufferCapacity = 64,
        onBufferOverflow = BufferOverflow.DROP_OLDEST,
    )
    private val session = ApduSession.withListener(GuardedReader(reader, eventFlow), FlowListener(eventFlow))

    /** Every exchange of this session, as it happens. */
    val events: SharedFlow<ApduEvent> = eventFlow.asSharedFlow()

    /** APDUs exchanged so far. */
    val exchangeCount: Long
        get() = session.exchangeCount().toLong()

    /** Send one command; the answer split into data and SW. */
    fun transmit(apdu: ByteArray): ResponseApdu = session.transmit(apdu)

    /** SELECT PPSE then the best AID, blocking the calling thread. */
    fun selectApplicationBlocking(): ApplicationSelection = session.selectApplication()

    /**
     * SELECT PPSE then the best AID, as a suspend function. Cancelling the calling coroutine
     * cancels [cancel] as well, so the Rust flow stops before its next APDU; cancelling [cancel]
     * from elsewhere (a UI button) fails the call with `SmartPosException.Cancelled`.
     */
    suspend fun selectApplication(cancel: CancellationHandle = CancellationHandle()): ApplicationSelection =
        coroutineScope {
            val finished = AtomicBoolean(false)
            // Runs its finally block as soon as the caller's coroutine is cancelled, even while
            // this coroutine's thread is blocked inside the Rust flow (in the reader callback).
            val watcher = launch(start = CoroutineStart.UNDISPATCHED) {
                try {
                    awaitCancellation()
                } finally {
                    if (!finished.get()) cancel.cancel()
                }
            }
            try {
                session.selectApplicationAsync(cancel)
            } finally {
                finished.set(true)
                watcher.cancel()
            }
        }

    override fun close() = session.close()
}

/** Forwards the Rust flow's selection events into the session's flow; never throws into Rust. */
private class FlowListener(private val events: MutableSharedFlow<ApduEvent>) : SelectionListener {
    override fun onSelectionEvent(event: SelectionEvent) {
        events.tryEmit(ApduEvent.Selection(event))
    }
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
