package io.smartpos.test

import io.smartpos.SmartPos
import io.smartpos.core.ApduSession
import io.smartpos.core.CancellationHandle
import io.smartpos.core.CardReader
import io.smartpos.core.EmvKernel
import io.smartpos.core.SmartPosException
import io.smartpos.core.simulatedEmvKernel
import kotlinx.coroutines.async
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.runBlocking
import org.junit.Assert.assertEquals
import org.junit.Assert.assertTrue
import org.junit.Assert.fail
import org.junit.Test
import java.io.IOException
import java.util.concurrent.CountDownLatch

/** Each Rust error variant reaches Kotlin as its own exception class, with its fields. */
class ErrorTest {
    private val kernel = simulatedEmvKernel()

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

    private fun tap(reader: CardReader, cancel: CancellationHandle = CancellationHandle()) = kernel.tap(reader, fixedRequest(), cancel)

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
    fun protocolViolationForAResponseWithoutStatusWord() {
        val e = expect<SmartPosException.Protocol> { ApduSession(SimulatedCardReader(mapOf(Cards.SELECT_PPSE to "90"))).transmit(hex(Cards.SELECT_PPSE)) }
        assertTrue(e.reason, e.reason.contains("no status word"))
    }

    @Test
    fun invalidConfigurationNamesTheDocument() {
        val e = expect<SmartPosException.InvalidConfiguration> { EmvKernel("{ not json", emptyList(), null) }
        assertEquals("terminal config", e.what)
        val demo = SmartPos.demoKernel()
        demo.close()
    }

    @Test
    fun cardRefusalsAreOutcomesNotExceptions() {
        // PPSE answered 6A82 (file not found): Entry Point ends the tap (Book B §3.3.2).
        val r = tap(SimulatedCardReader(mapOf(Cards.SELECT_PPSE to "6A82")))
        assertTrue(r.outcomeName, r.outcome != io.smartpos.core.EmvOutcome.APPROVED)
    }

    @Test
    fun cancelledBeforeTheFirstApdu() {
        val card = SimCardReader.contactless("visa_card")
        val handle = CancellationHandle()
        handle.cancel()
        val e = expect<SmartPosException.Cancelled> { tap(card, handle) }
        assertEquals(0u, e.exchanges)
        assertEquals(0, card.commands.size)
    }

    @Test
    fun coroutineCancellationReachesTheKernelWhileTheReaderIsBlocked() = runBlocking {
        val insideReader = CountDownLatch(1)
        val release = CountDownLatch(1)
        val card = SimCardReader.contactless("visa_card") { index ->
            if (index == 1) {
                insideReader.countDown()
                release.await()
            }
        }
        val facade = SmartPos.kernel(kernel)
        val handle = CancellationHandle()
        val call = async(Dispatchers.Default) { runCatching { facade.tap(card, fixedRequest(), handle) } }
        insideReader.await()
        // The app's coroutine is cancelled while the kernel waits inside the reader callback.
        call.cancel()
        // The facade's watcher reaches the Rust handle from its own coroutine: let the reader
        // return only once it has (on a loaded machine that can take a while; no time limit).
        while (!handle.isCancelled()) Thread.yield()
        release.countDown()
        call.join()
        // No APDU after the one in flight: the handle was set before the kernel's next step.
        assertEquals(2, card.commands.size)
    }

    @Test
    fun kotlinIOExceptionInTheCallbackComesBackAsTransport() {
        val failing = object : CardReader {
            override fun transceive(apdu: ByteArray): ByteArray = throw IOException("Tag was lost.")
        }
        val e = expect<SmartPosException.Transport> { tap(failing) }
        assertTrue(e.reason, e.reason.contains("java.io.IOException: Tag was lost."))
    }

    @Test
    fun typedExceptionThrownByTheCallbackKeepsItsClassAndFields() {
        val refusing = object : CardReader {
            override fun transceive(apdu: ByteArray): ByteArray = throw SmartPosException.CardStatus("SELECT PPSE", 0x6A81u)
        }
        val e = expect<SmartPosException.CardStatus> { tap(refusing) }
        assertEquals("SELECT PPSE", e.command)
        assertEquals(0x6A81.toUShort(), e.sw)
    }

    @Test
    fun facadeTurnsAnErrorThrownByTheReaderIntoTransport() = runBlocking {
        // A java.lang.Error is not a kotlin.Exception: the generated callback code would not
        // catch it. The facade's reader guard must.
        val failing = object : CardReader {
            override fun transceive(apdu: ByteArray): ByteArray = throw StackOverflowError("deep")
        }
        val e = expect<SmartPosException.Transport> { runBlocking { SmartPos.kernel(kernel).tap(failing, fixedRequest()) } }
        assertTrue(e.reason, e.reason.contains("StackOverflowError"))
    }

    @Test
    fun malformedTlvFromTheDecoder() {
        val e = expect<SmartPosException.MalformedTlv> { SmartPos.decodeTlv("6F05") }
        assertEquals("decode_tlv", e.context)
    }

    @Test
    fun everyVariantIsADistinctClass() {
        val thrown = listOf(
            runCatching { SmartPos.decodeTlv("0") },
            runCatching { SmartPos.decodeTlv("6F05") },
            runCatching { tap(object : CardReader { override fun transceive(apdu: ByteArray) = throw SmartPosException.CardStatus("x", 0x6A81u) }) },
            runCatching { ApduSession(SimulatedCardReader(mapOf(Cards.SELECT_PPSE to ""))).transmit(hex(Cards.SELECT_PPSE)) },
            runCatching { EmvKernel("[]", emptyList(), null) },
            runCatching { tap(object : CardReader { override fun transceive(apdu: ByteArray) = throw IOException("x") }) },
            runCatching { tap(SimCardReader.contactless("visa_card"), CancellationHandle().also { it.cancel() }) },
        ).map { it.exceptionOrNull() }
        val classes = thrown.map { it!!::class.simpleName }
        assertEquals(
            listOf("InvalidInput", "MalformedTlv", "CardStatus", "Protocol", "InvalidConfiguration", "Transport", "Cancelled"),
            classes,
        )
        assertTrue(thrown.all { it is SmartPosException })
    }
}
