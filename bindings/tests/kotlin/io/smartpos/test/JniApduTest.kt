package io.smartpos.test

import io.smartpos.SmartPos
import io.smartpos.core.CancellationHandle
import io.smartpos.core.SmartPosException
import io.smartpos.core.nativeReaderCount
import io.smartpos.core.releaseNativeReader
import io.smartpos.core.simulatedEmvKernel
import io.smartpos.jni.ApduTransceiver
import io.smartpos.jni.NativeApdu
import io.smartpos.jni.NativeApduException
import kotlinx.coroutines.runBlocking
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertTrue
import org.junit.Assert.fail
import org.junit.Test
import java.io.IOException

/** The raw-JNI fast path: the real kernel reaching the card through a cached JNI method ID. */
class JniApduTest {
    private val kernel = simulatedEmvKernel()

    private fun expectKind(kind: String, block: () -> Unit): NativeApduException {
        try {
            block()
        } catch (e: NativeApduException) {
            assertEquals(e.message, kind, e.kind)
            return e
        }
        fail("expected NativeApduException($kind)")
        throw IllegalStateException("unreachable")
    }

    @Test
    fun tapOverJniIsTheSameTapAsOverUniffiCommandForCommand() {
        for (profile in listOf("visa_card", "mastercard_card", "unionpay_card")) {
            val jniCard = SimCardReader.contactless(profile)
            val uniffiCard = SimCardReader.contactless(profile)
            val handle = NativeApdu.openReader(jniCard).toULong()
            val viaJni = try {
                kernel.tapNative(handle, fixedRequest(), CancellationHandle())
            } finally {
                assertTrue(releaseNativeReader(handle))
            }
            val viaUniffi = kernel.tap(uniffiCard, fixedRequest(), CancellationHandle())
            assertEquals(profile, viaUniffi.outcome, viaJni.outcome)
            assertEquals(profile, viaUniffi.tvr, viaJni.tvr)
            assertEquals(profile, viaUniffi.cvmResults, viaJni.cvmResults)
            assertEquals(profile, uniffiCard.commands, jniCard.commands)
            assertTrue(profile, viaJni.exchanges.toInt() >= 3)
        }
    }

    @Test
    fun contactTransactionOverJniCompletesOnline() {
        val card = SimCardReader.contact("visa-cda-online-pin")
        val handle = NativeApdu.openReader(card).toULong()
        try {
            val tx = kernel.startContactNative(handle, fixedRequest(), io.smartpos.NoPinPad, CancellationHandle())
            assertTrue(tx.awaitingHost())
            // NoPinPad: online PIN could not be captured; the card still asks for an ARQC.
            val done = tx.complete(card.card.issuerResponse(tx.result().field55, true))
            assertEquals(io.smartpos.core.EmvOutcome.APPROVED, done.outcome)
        } finally {
            releaseNativeReader(handle)
        }
    }

    @Test
    fun facadeFastTapReleasesItsHandle() = runBlocking {
        val before = nativeReaderCount()
        val r = SmartPos.kernel(kernel).tapFast(SimCardReader.contactless("visa_card"), fixedRequest())
        assertEquals(io.smartpos.core.EmvOutcome.APPROVED, r.outcome)
        assertEquals(before, nativeReaderCount())
    }

    @Test
    fun readerExceptionOnTheJniPathIsTransportWithItsText() {
        val failing = ApduTransceiver { throw IOException("Transceive failed") }
        val handle = NativeApdu.openReader(failing).toULong()
        try {
            kernel.tapNative(handle, fixedRequest(), CancellationHandle())
            fail("expected Transport")
        } catch (e: SmartPosException.Transport) {
            assertTrue(e.reason, e.reason.contains("java.io.IOException: Transceive failed"))
        } finally {
            releaseNativeReader(handle)
        }
    }

    @Test
    fun cancellationOnTheJniPath() {
        val cancel = CancellationHandle()
        val card = SimCardReader.contactless("visa_card") { if (it == 1) cancel.cancel() }
        val handle = NativeApdu.openReader(card).toULong()
        try {
            kernel.tapNative(handle, fixedRequest(), cancel)
            fail("expected Cancelled")
        } catch (e: SmartPosException.Cancelled) {
            assertEquals(2u, e.exchanges)
        } finally {
            releaseNativeReader(handle)
        }
    }

    @Test
    fun releasedHandleIsInvalidInput() {
        val handle = NativeApdu.openReader(SimCardReader.contactless("visa_card")).toULong()
        assertTrue(releaseNativeReader(handle))
        assertFalse(releaseNativeReader(handle))
        try {
            kernel.tapNative(handle, fixedRequest(), CancellationHandle())
            fail("expected InvalidInput")
        } catch (e: SmartPosException.InvalidInput) {
            assertEquals("reader_handle", e.field)
        }
    }

    @Test
    fun transmitReturnsTheRawResponse() {
        val card = SimulatedCardReader(Cards.visaWithPdol)
        val response = NativeApdu.transmit(card, hex(Cards.SELECT_PPSE))
        assertEquals(Cards.visaWithPdol.getValue(Cards.SELECT_PPSE), response.toHex())
    }

    @Test
    fun badArgumentsAreTypedNotACrash() {
        expectKind("InvalidInput") { NativeApdu.transmit(SimulatedCardReader(emptyMap()), hex("00A4")) }
        expectKind("Protocol") { NativeApdu.transmit(ApduTransceiver { ByteArray(1) }, hex(Cards.SELECT_PPSE)) }
        // A reader failing with an unchecked exception is a transport failure, not a crash.
        val broken = ApduTransceiver { error("reader not initialised") }
        val e = expectKind("Transport") { NativeApdu.transmit(broken, hex(Cards.SELECT_PPSE)) }
        assertTrue(e.message, e.message!!.contains("IllegalStateException: reader not initialised"))
    }
}
