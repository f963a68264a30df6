package io.smartpos.test

import io.smartpos.SmartPos
import io.smartpos.core.ApduSession
import io.smartpos.core.CancellationHandle
import io.smartpos.core.CardReader
import io.smartpos.core.SmartPosException
import kotlinx.coroutines.runBlocking
import org.junit.Assert.assertEquals
import org.junit.Assert.assertTrue
import org.junit.Assert.fail
import org.junit.Test
import java.io.IOException

/** Each Rust error variant reaches Kotlin as its own exception class, with its fields. */
class ErrorTest {
    private inline fun <reified E : SmartPosException> expect(block: () -> Unit): E {
        try {
            block()
        } catch (e: SmartPosException) {
            if (e is E) return e
            fail("expected ${E::class.simpleName}, got ${e::class.simpleName}: ${e.message}")
        }
        fail("expected ${E::class.simpleName}, nothing was thrown")
        throw IllegalStateException("unreachable")
    }

    private fun select(script: Map<String, String>) = ApduSession(SimulatedCardReader(script)).use { it.selectApplication() }

    @Test
    fun invalidInputForBadHex() {
        val e = expect<SmartPosException.InvalidInput> { SmartPos.decodeTlv("9F0G") }
        assertEquals("hex", e.field)
        assertTrue(e.reason, e.reason.contains("'G'"))
    }

    @Test
    fun invalidInputForAShortCommand() {
        val e = expect<SmartPosException.InvalidInput> { ApduSession(SimulatedCardReader(emptyMap())).transmit(hex("00A4")) }
        assertEquals("apdu", e.field)
    }

    @Test
    fun malformedTlvInTheCardsAnswer() {
        // PPSE answered 9000 with a 6F whose length overruns the data.
        val e = expect<SmartPosException.MalformedTlv> { select(mapOf(Cards.SELECT_PPSE to "6F10840E9000")) }
        assertEquals("SELECT PPSE response", e.context)
    }

    @Test
    fun cardStatusCarriesCommandAndSw() {
        val e = expect<SmartPosException.CardStatus> { select(mapOf(Cards.SELECT_PPSE to "6A82")) }
        assertEquals("SELECT PPSE", e.command)
        assertEquals(0x6A82.toUShort(), e.sw)
    }

    @Test
    fun protocolViolationForAResponseWithoutStatusWord() {
        val e = expect<SmartPosException.Protocol> { select(mapOf(Cards.SELECT_PPSE to "90")) }
        assertTrue(e.reason, e.reason.contains("no status word"))
    }

    @Test
    fun protocolViolationForAnEndlessGetResponseChain() {
        val e = expect<SmartPosException.Protocol> {
            select(mapOf(Cards.SELECT_PPSE to "6101", "00C0000001" to "6101"))
        }
        assertTrue(e.reason, e.reason.contains("chained"))
    }

    @Test
    fun noApplicationWhenEveryCandidateIsRefused() {
        val e = expect<SmartPosException.NoApplication> {
            select(mapOf(Cards.SELECT_PPSE to Cards.visaWithPdol.getValue(Cards.SELECT_PPSE), "00A4040007A000000003101000" to "6283"))
        }
        assertTrue(e.reason, e.reason.contains("A0000000031010: SW 6283"))
    }

    @Test
    fun cancelledBeforeTheFirstApdu() {
        val card = SimulatedCardReader(Cards.mastercardDebit)
        val handle = CancellationHandle()
        handle.cancel()
        val e = expect<SmartPosException.Cancelled> { runBlocking { ApduSession(card).selectApplicationAsync(handle) } }
        assertEquals(0u, e.exchanges)
        assertEquals(0, card.commands.size)
    }

    @Test
    fun kotlinIOExceptionInTheCallbackComesBackAsTransport() {
        // Straight through the generated bindings: UniFFI reports the unexpected exception, the
        // Rust side converts it (From<UnexpectedUniFFICallbackError>) into Transport.
        val failing = object : CardReader {
            override fun transceive(apdu: ByteArray): ByteArray = throw IOException("Tag was lost.")
        }
        val e = expect<SmartPosException.Transport> { ApduSession(failing).use { it.selectApplication() } }
        assertTrue(e.reason, e.reason.contains("java.io.IOException: Tag was lost."))
    }

    @Test
    fun typedExceptionThrownByTheCallbackKeepsItsFields() {
        val failing = object : CardReader {
            override fun transceive(apdu: ByteArray): ByteArray = throw SmartPosException.Transport("reader powered off")
        }
        val e = expect<SmartPosException.Transport> { ApduSession(failing).use { it.selectApplication() } }
        assertEquals("reader powered off", e.reason)
    }

    @Test
    fun facadeTurnsAnErrorThrownByTheReaderIntoTransport() {
        // A java.lang.Error is not a kotlin.Exception: the generated callback code would not
        // catch it. The facade's reader guard must.
        val failing = object : CardReader {
            override fun transceive(apdu: ByteArray): ByteArray = throw StackOverflowError("deep")
        }
        SmartPos.openSession(failing).use { session ->
            val e = expect<SmartPosException.Transport> { session.selectApplicationBlocking() }
            assertTrue(e.reason, e.reason.contains("StackOverflowError"))
            assertEquals(0L, session.exchangeCount)
        }
    }

    @Test
    fun everyVariantIsADistinctClass() {
        val thrown = listOf(
            runCatching { SmartPos.decodeTlv("0") },
            runCatching { SmartPos.decodeTlv("6F05") },
            runCatching { select(mapOf(Cards.SELECT_PPSE to "6A81")) },
            runCatching { select(mapOf(Cards.SELECT_PPSE to "")) },
            runCatching { select(mapOf(Cards.SELECT_PPSE to "6F10840E325041592E5359532E44444630319000")) },
            runCatching { ApduSession(object : CardReader { override fun transceive(apdu: ByteArray) = throw IOException("x") }).selectApplication() },
            runCatching { runBlocking { ApduSession(SimulatedCardReader(emptyMap())).selectApplicationAsync(CancellationHandle().also { it.cancel() }) } },
        ).map { it.exceptionOrNull() }
        val classes = thrown.map { it!!::class.simpleName }
        assertEquals(
            listOf("InvalidInput", "MalformedTlv", "CardStatus", "Protocol", "NoApplication", "Transport", "Cancelled"),
            classes,
        )
        assertTrue(thrown.all { it is SmartPosException })
    }
}
