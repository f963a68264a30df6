package io.smartpos.test

import io.smartpos.SmartPosTerminal
import io.smartpos.core.HostSimulator
import io.smartpos.core.PosEvent
import io.smartpos.core.PosIndicators
import io.smartpos.core.PosKeys
import io.smartpos.core.PosStatus
import io.smartpos.core.SmartPosException
import io.smartpos.core.simulatedMasterKey
import io.smartpos.core.writeSimulatedConfig
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.async
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.yield
import org.junit.After
import org.junit.Assert.assertEquals
import org.junit.Assert.assertNotNull
import org.junit.Assert.assertTrue
import org.junit.Assert.fail
import org.junit.Before
import org.junit.Test
import java.io.File
import java.nio.file.Files
import java.util.Collections
import java.util.concurrent.CountDownLatch

/**
 * Whole payments through the Kotlin facade: SmartPosTerminal -> PosTerminal (smartpos-terminal)
 * -> the contact kernel over the simulated card reader -> ISO 8583 over loopback TCP to
 * smartpos-sim's host simulator -> SQLite journal in a temp directory.
 */
class TerminalTest {
    private lateinit var host: HostSimulator
    private lateinit var dir: File
    private lateinit var devices: SimulatedDevices
    private lateinit var terminal: SmartPosTerminal

    private fun keys() = PosKeys(simulatedMasterKey(), ByteArray(32) { 7 }, ByteArray(32) { 9 })

    @Before
    fun open() {
        host = HostSimulator.start()
        dir = Files.createTempDirectory("smartpos-jvm-terminal").toFile()
        writeSimulatedConfig(dir.path, host.address())
        devices = SimulatedDevices()
        terminal = SmartPosTerminal.open(dir, File(dir, "journal.db"), keys(), "sup1", devices.devices())
    }

    @After
    fun close() {
        terminal.close()
        host.stop()
        host.close()
        dir.deleteRecursively()
    }

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

    @Test
    fun saleApprovedByTheHostWithEventsOnTheFlow() = runBlocking {
        val events = Collections.synchronizedList(mutableListOf<PosEvent>())
        val collector = launch(Dispatchers.Default) { terminal.events.collect { events += it } }
        yield()
        val signOn = terminal.signOn()
        assertTrue(signOn.batchNo >= 1u)
        val tx = terminal.sale(1000, "01", orderRef = "ORDER-7")
        assertEquals(PosStatus.APPROVED, tx.status)
        assertEquals("00", tx.responseCode)
        assertEquals(1000L, tx.total)
        assertEquals("476173******0010", tx.panMasked)
        assertNotNull(tx.rrn)
        assertNotNull(tx.authCode)
        assertEquals("A0000000031010", tx.aid)
        assertEquals("12345678", tx.terminalId)
        assertTrue(host.approvedCount() >= 1u)
        // Offline PIN went from the Kotlin PIN pad to the card (the card verified it).
        assertTrue(devices.apdus.get() > 5)
        collector.cancel()
        val names = events.map { "${it.kind}:${it.name}" }
        assertTrue(names.toString(), "progress:online" in names)
        assertTrue(names.toString(), names.any { it.startsWith("prompt:") })
    }

    @Test
    fun declineCarriesTheHostsCodeAndMessage() = runBlocking {
        terminal.signOn()
        // HostSim amount rule: an amount ending in 51 is declined with 51 (insufficient funds).
        val e = expect<SmartPosException.Declined> { runBlocking { terminal.sale(1051, "01") } }
        assertEquals("51", e.responseCode)
        assertTrue(e.hostMessage, e.hostMessage.isNotEmpty())
        assertTrue(e.txnId > 0)
    }

    @Test
    fun voidRefundAndSettlement() = runBlocking {
        terminal.signOn()
        val sale = terminal.sale(1200, "01")
        val void = terminal.void(sale.txnId)
        assertEquals("void", void.kind)
        assertEquals(PosStatus.APPROVED, void.status)
        val second = terminal.sale(3000, "01")
        val refund = terminal.refund(second.txnId, 1000)
        assertEquals("refund", refund.kind)
        assertEquals(1000L, refund.total)
        // Refund more than is left of the sale: the journal refuses before anything is sent.
        val over = expect<SmartPosException.Journal> { runBlocking { terminal.refund(second.txnId, 5000) } }
        assertTrue(over.reason, over.reason.contains("exceeds remaining 2000"))
        val settlement = terminal.settle()
        assertEquals(1u, settlement.salesCount)
        assertEquals(3000L, settlement.salesAmount)
        assertEquals(1u, settlement.refundsCount)
        assertEquals(1000L, settlement.refundsAmount)
    }

    @Test
    fun cancelMidTransactionStopsTheSale() = runBlocking {
        terminal.signOn()
        val start = devices.apdus.get()
        devices.onApdu = { index -> if (index == start + 3) terminal.cancel() }
        val e = expect<SmartPosException.Cancelled> { runBlocking { terminal.sale(1000, "01") } }
        assertTrue(e.step, e.step.isNotEmpty())
        devices.onApdu = {}
        // Nothing was authorised; the next sale goes through.
        assertEquals(PosStatus.APPROVED, terminal.sale(1000, "01").status)
    }

    @Test
    fun coroutineCancellationReachesTheTerminal() = runBlocking {
        terminal.signOn()
        val inside = CountDownLatch(1)
        val release = CountDownLatch(1)
        val start = devices.apdus.get()
        devices.onApdu = { index ->
            if (index == start + 1) {
                inside.countDown()
                release.await()
            }
        }
        val call = async(Dispatchers.Default) { runCatching { terminal.sale(1000, "01") } }
        inside.await()
        call.cancel()
        release.countDown()
        call.join()
        devices.onApdu = {}
        // The Rust side saw the cancel at its next check and released the terminal.
        val next = terminal.sale(1000, "01")
        assertEquals(PosStatus.APPROVED, next.status)
        assertEquals("no second authorisation of the cancelled sale", 1u + 0u, host.approvedCount())
    }

    @Test
    fun hostGoneIsHostUnavailable() = runBlocking {
        terminal.signOn()
        host.stop()
        val e = expect<SmartPosException.HostUnavailable> { runBlocking { terminal.sale(1000, "01") } }
        assertTrue(e.reason, e.reason.contains("reversal queued") || e.reason.isNotEmpty())
    }

    @Test
    fun readerThrowingIsATypedErrorAndIndicatorsThrowingIsIgnored() = runBlocking {
        terminal.close()
        devices.indicators = object : PosIndicators {
            override fun beep(success: Boolean) = throw IllegalStateException("beeper broken")
            override fun leds(status: String) = throw IllegalStateException("LEDs broken")
        }
        terminal = SmartPosTerminal.open(dir, File(dir, "journal.db"), keys(), "sup1", devices.devices())
        terminal.signOn()
        // Broken LEDs and beeper do not stop a payment.
        assertEquals(PosStatus.APPROVED, terminal.sale(1000, "01").status)
        devices.onApdu = { throw java.io.IOException("chip contact lost") }
        val e = runCatching { terminal.sale(1000, "01") }.exceptionOrNull()
        // The chip could not be read: the terminal reports a card or device error, typed.
        assertTrue("$e", e is SmartPosException.Card || e is SmartPosException.Device)
    }

    @Test
    fun badKeysAndBadConfigurationAreTyped() {
        val short = PosKeys(ByteArray(8), ByteArray(32), ByteArray(32))
        val e = expect<SmartPosException.InvalidInput> { SmartPosTerminal.open(dir, File(dir, "j2.db"), short, "sup1", devices.devices()) }
        assertEquals("master_key", e.field)
        val bad = Files.createTempDirectory("smartpos-jvm-bad").toFile()
        File(bad, "terminal.toml").writeText("[host]\nnot_a_field = 1\n")
        expect<SmartPosException.InvalidConfiguration> { SmartPosTerminal.open(bad, File(bad, "j.db"), keys(), "sup1", devices.devices()) }
        bad.deleteRecursively()
    }
}
