package io.smartpos.test

import io.smartpos.SmartPos
import io.smartpos.core.ApduSession
import io.smartpos.jni.ApduTransceiver
import io.smartpos.jni.NativeApdu
import io.smartpos.jni.NativeApduException
import org.junit.Assert.assertEquals
import org.junit.Assert.assertTrue
import org.junit.Assert.fail
import org.junit.Test
import java.io.IOException

/** The raw-JNI fast path: Rust calls ApduTransceiver.transceive through a cached method ID. */
class JniApduTest {
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
    fun selectionOverJniMatchesTheUniffiPathCommandForCommand() {
        val jniCard = SimulatedCardReader(Cards.mastercardDebit)
        val uniffiCard = SimulatedCardReader(Cards.mastercardDebit)
        val aid = SmartPos.selectApplicationFast(jniCard)
        val selection = ApduSession(uniffiCard).use { it.selectApplication() }
        assertEquals("A0000000041010", aid.toHex())
        assertEquals(selection.aid.toHex(), aid.toHex())
        assertEquals(uniffiCard.commands, jniCard.commands)
    }

    @Test
    fun selectionOnAnAttachedRustWorkerThread() {
        val callers = java.util.Collections.synchronizedList(mutableListOf<Thread>())
        val card = SimulatedCardReader(Cards.visaWithPdol) { _, _ -> callers.add(Thread.currentThread()) }
        val aid = NativeApdu.selectApplicationOnWorkerThread(card)
        assertEquals("A0000000031010", aid.toHex())
        assertEquals(2, card.commands.size)
        // Both APDUs ran on the one Rust thread the JVM attached, not on the test's thread.
        assertEquals(2, callers.size)
        assertTrue(callers[0] === callers[1])
        assertTrue(callers[0] !== Thread.currentThread())
    }

    @Test
    fun transmitReturnsTheRawResponse() {
        val card = SimulatedCardReader(Cards.visaWithPdol)
        val response = NativeApdu.transmit(card, hex(Cards.SELECT_PPSE))
        assertEquals(Cards.visaWithPdol.getValue(Cards.SELECT_PPSE), response.toHex())
    }

    @Test
    fun readerExceptionBecomesTransportWithItsText() {
        val failing = ApduTransceiver { throw IOException("Transceive failed") }
        val e = expectKind("Transport") { NativeApdu.selectApplication(failing) }
        assertTrue(e.message, e.message!!.contains("java.io.IOException: Transceive failed"))
        // Same on the worker thread: the exception is cleared there and reported here.
        expectKind("Transport") { NativeApdu.selectApplicationOnWorkerThread(failing) }
    }

    @Test
    fun cardRefusalAndProtocolErrorsKeepTheirKind() {
        val e = expectKind("CardStatus") { NativeApdu.selectApplication(SimulatedCardReader(mapOf(Cards.SELECT_PPSE to "6A82"))) }
        assertTrue(e.message, e.message!!.contains("6A82"))
        expectKind("Protocol") { NativeApdu.transmit(ApduTransceiver { ByteArray(1) }, hex(Cards.SELECT_PPSE)) }
        expectKind("NoApplication") {
            NativeApdu.selectApplication(SimulatedCardReader(mapOf(Cards.SELECT_PPSE to "6F10840E325041592E5359532E44444630319000")))
        }
    }

    @Test
    fun badArgumentsAreInvalidInputNotACrash() {
        expectKind("InvalidInput") { NativeApdu.transmit(SimulatedCardReader(emptyMap()), hex("00A4")) }
        // A reader failing with an unchecked exception is a transport failure, not a crash.
        val broken = ApduTransceiver { error("reader not initialised") }
        val e = expectKind("Transport") { NativeApdu.transmit(broken, hex(Cards.SELECT_PPSE)) }
        assertTrue(e.message, e.message!!.contains("IllegalStateException: reader not initialised"))
    }
}
