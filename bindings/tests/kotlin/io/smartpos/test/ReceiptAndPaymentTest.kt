package io.smartpos.test

import io.smartpos.PosDevices
import io.smartpos.SmartPosTerminal
import io.smartpos.core.HostSimulator
import io.smartpos.core.PosEvent
import io.smartpos.core.PosKeys
import io.smartpos.core.PosLanguage
import io.smartpos.core.PosPaymentMethod
import io.smartpos.core.PosQrDisplay
import io.smartpos.core.PosReceiptCopy
import io.smartpos.core.PosStatus
import io.smartpos.core.SmartPosException
import io.smartpos.core.simulatedMasterKey
import io.smartpos.core.writeSimulatedConfig
import kotlinx.coroutines.CompletableDeferred
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.Job
import kotlinx.coroutines.cancelAndJoin
import kotlinx.coroutines.flow.onSubscription
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import org.junit.After
import org.junit.Assert.assertArrayEquals
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertNotNull
import org.junit.Assert.assertNull
import org.junit.Assert.assertTrue
import org.junit.Assert.fail
import org.junit.Before
import org.junit.Test
import java.io.File
import java.nio.file.Files
import java.util.Collections

/**
 * Receipts, reports and the payment kinds beyond a contact card sale, through the Kotlin facade
 * against HostSimulator on loopback: receipt records and renderings of smartpos-terminal,
 * pre-authorisation and completion, wallet-code QR sale through the scanner callback, a
 * contactless tap of a simulated NFC card.
 */
class ReceiptAndPaymentTest {
    private lateinit var host: HostSimulator
    private lateinit var dir: File
    private lateinit var devices: SimulatedDevices
    private lateinit var terminal: SmartPosTerminal

    /** The full PAN of the contact test card (visa-dda-offline-pin): must never be printed. */
    private val fullPan = "4761739001010010"

    @Before
    fun open() {
        host = HostSimulator.start()
        dir = Files.createTempDirectory("smartpos-jvm-receipts").toFile()
        writeSimulatedConfig(dir.path, host.address())
        devices = SimulatedDevices()
        terminal = SmartPosTerminal.open(
            dir, File(dir, "journal.db"), PosKeys(simulatedMasterKey(), ByteArray(32) { 7 }, ByteArray(32) { 9 }), "sup1", devices.devices(),
        )
    }

    @After
    fun close() {
        terminal.close()
        host.stop()
        host.close()
        dir.deleteRecursively()
    }

    private inline fun <reified E : SmartPosException> expect(noinline block: suspend () -> Unit): E {
        try {
            runBlocking { block() }
        } catch (e: SmartPosException) {
            if (e is E) return e
            fail("expected ${E::class.simpleName}, got ${e::class.simpleName}: ${e.message}")
        }
        fail("expected ${E::class.simpleName}, nothing was thrown")
        throw IllegalStateException("unreachable")
    }

    /** Collect the terminal's events into [into] from now on (subscribed before it returns). */
    private suspend fun CoroutineScope.collectEvents(into: MutableList<PosEvent>, onEach: (PosEvent) -> Unit = {}): Job {
        val subscribed = CompletableDeferred<Unit>()
        val job = launch(Dispatchers.Default) {
            terminal.events.onSubscription { subscribed.complete(Unit) }.collect {
                into += it
                onEach(it)
            }
        }
        subscribed.await()
        return job
    }

    /** Wait until the collector has seen the end of the payment (`progress:done`, the last
     *  event of an approved payment): every earlier event is then in [events] too. */
    private suspend fun awaitDone(events: List<PosEvent>, collector: Job) {
        while (synchronized(events) { events.none { it.kind == "progress" && it.name == "done" } }) kotlinx.coroutines.yield()
        // Joined: nothing appends to [events] while the test reads it.
        collector.cancelAndJoin()
    }

    @Test
    fun receiptRecordsAndRenderingsShowTheMaskedPanOnly() = runBlocking {
        terminal.signOn()
        val sale = terminal.sale(1234, "01", orderRef = "ORDER-9", memberId = "M-77", couponDiscount = 100)
        val receipt = terminal.receipt(sale.txnId, PosReceiptCopy.CUSTOMER, PosLanguage.EN)
        val d = receipt.data
        assertEquals("476173******0010", d.panMasked)
        assertEquals(sale.authCode, d.authCode)
        assertEquals(sale.rrn, d.rrn)
        assertNotNull(d.authCode)
        assertNotNull(d.rrn)
        assertEquals("contact", d.entryMode)
        assertEquals("A0000000031010", d.aid)
        assertNotNull(d.tvr)
        assertNotNull(d.tsi)
        assertNotNull(d.cryptogram)
        assertEquals(1234L, d.amount)
        assertEquals(1234L, d.total)
        assertEquals(100L, d.couponDiscount)
        assertEquals("ORDER-9", d.orderRef)
        assertEquals("M-77", d.memberId)
        // Offline PIN verified by the card (CVM Results 9F34).
        assertEquals("pin_verified", d.cvm)
        assertEquals("sale", d.kind)
        assertFalse(d.reprint)
        // The text as smartpos-terminal lays it out: masked PAN, auth code, RRN; never the PAN.
        val text = receipt.text
        assertTrue(text, text.contains("476173******0010"))
        assertTrue(text, text.contains(sale.authCode!!))
        assertTrue(text, text.contains(sale.rrn!!))
        assertFalse(text, text.contains(fullPan))
        assertTrue(text, text.contains("ORDER-9"))
        // ESC/POS starts with ESC @ (initialise) and ends with GS V (cut); PNG has its signature.
        assertArrayEquals(byteArrayOf(0x1B, 0x40), receipt.escpos.copyOfRange(0, 2))
        assertFalse(String(receipt.escpos, Charsets.ISO_8859_1).contains(fullPan))
        assertArrayEquals(byteArrayOf(0x89.toByte(), 'P'.code.toByte(), 'N'.code.toByte(), 'G'.code.toByte()), receipt.png.copyOfRange(0, 4))
        // The transaction record carries the value-added data too.
        assertEquals("ORDER-9", sale.orderRef)
        assertEquals("M-77", sale.memberId)
        assertEquals(100uL, sale.couponDiscount)
        // Chinese labels.
        val zh = terminal.receipt(sale.txnId, PosReceiptCopy.MERCHANT, PosLanguage.ZH_HANS)
        assertTrue(zh.text, zh.text.contains("消费"))
        assertTrue(zh.text, zh.text.contains("476173******0010"))
    }

    @Test
    fun printReceiptSendsTheCopyToThePrinterAndMarksReprints() = runBlocking {
        terminal.signOn()
        val sale = terminal.sale(1000, "01")
        assertTrue("the terminal prints nothing by itself", devices.printed.isEmpty())
        val first = terminal.printReceipt(sale.txnId, PosReceiptCopy.CUSTOMER)
        assertFalse(first.reprint)
        assertEquals(1, devices.printed.size)
        val lines = devices.printed.single()
        assertTrue(lines.toString(), lines.any { it.contains("476173******0010") })
        assertTrue(lines.toString(), lines.any { it.contains(sale.authCode!!) })
        assertTrue(lines.none { it.contains(fullPan) })
        assertNotNull(devices.printedEscpos.single())
        val again = terminal.printReceipt(sale.txnId, PosReceiptCopy.CUSTOMER)
        assertTrue(again.reprint)
        assertTrue(devices.printed[1].toString(), devices.printed[1].any { it.contains("REPRINT") })
        // The merchant copy is its own first print, in the language set.
        terminal.setReceiptLanguage(PosLanguage.ZH_HANS)
        assertFalse(terminal.printReceipt(sale.txnId, PosReceiptCopy.MERCHANT).reprint)
        assertTrue(devices.printed[2].toString(), devices.printed[2].any { it.contains("消费") })
        // Unknown transaction: a typed journal error, nothing printed.
        expect<SmartPosException.Journal> { terminal.printReceipt(987_654, PosReceiptCopy.CUSTOMER) }
        assertEquals(3, devices.printed.size)
        // "Reprint last": the latest transaction, always marked as a reprint.
        val second = terminal.sale(1500, "01")
        val last = terminal.reprintLast()
        assertTrue(last.reprint)
        assertEquals(second.rrn, last.rrn)
        assertEquals(1500L, last.amount)
        assertTrue(devices.printed[3].toString(), devices.printed[3].any { it.contains("重打印") })
    }

    @Test
    fun totalsReportOfTheOpenBatch() = runBlocking {
        terminal.signOn()
        terminal.sale(1000, "01")
        val second = terminal.sale(2500, "02")
        terminal.refund(second.txnId, 500)
        val report = terminal.totalsReport(PosLanguage.EN)
        assertEquals(2u, report.total.salesCount)
        assertEquals(3500L, report.total.salesAmount)
        assertEquals(1u, report.total.refundsCount)
        assertEquals(500L, report.total.refundsAmount)
        assertEquals(3000L, report.total.net)
        // The refund is recorded under the supervisor who approved it.
        assertEquals(setOf("01", "02", "sup1"), report.byOperator.map { it.group }.toSet())
        assertNull(report.closedAtMs)
        assertFalse(report.settled)
        assertTrue(report.text, report.text.contains("3,000") || report.text.contains("30.00"))
        val printed = terminal.printTotalsReport(PosLanguage.EN)
        assertEquals(report.total, printed.total)
        assertEquals(report.text.lines(), devices.printed.single())
        assertNull(devices.printedEscpos.single())
    }

    @Test
    fun everyCallbackOfEveryOperationRunsOnTheOneAttachedWorkerThread() = runBlocking {
        terminal.signOn()
        repeat(3) { terminal.sale(1000 + it.toLong(), "01") }
        assertTrue(devices.apdus.get() > 30)
        // One Rust worker thread per terminal, attached to the JVM once and kept attached
        // (CallbackThreads.stayAttached in the facade's guards): the same Java Thread object for
        // every APDU of the three sales. With JNA's default each callback would attach (and
        // detach) a new Thread object.
        val threads = devices.apduThreads.toList()
        assertEquals(threads.map { "${it.name}#${it.id}" }.toString(), 1, threads.size)
        assertTrue(threads.single() != Thread.currentThread())
    }

    @Test
    fun refundWithoutAnswerIsPendingAndSentAgainByFlush() = runBlocking {
        terminal.signOn()
        val sale = terminal.sale(3000, "01")
        // The host refunds, but its answer never arrives (read timeout).
        host.withholdAnswers(1u)
        val refund = terminal.refund(sale.txnId, 3000)
        assertEquals(PosStatus.PENDING, refund.status)
        assertTrue(refund.message, refund.message.contains("pending"))
        // Still counts against the sale: no second refund of the same money.
        val again = runCatching { terminal.refund(sale.txnId, 1) }.exceptionOrNull()
        assertTrue("$again", again is SmartPosException)
        // Sent again (once) until the host answers.
        assertEquals(1, terminal.flushQueues())
        assertEquals(0, terminal.flushQueues())
    }

    @Test
    fun settlementReportAfterAFailedSettlementIsOfTheBatchSettledAgain() = runBlocking {
        terminal.signOn()
        terminal.sale(2000, "01")
        // The host's answer to the settlement is lost: the batch is closed, not settled.
        host.withholdAnswers(1u)
        val failed = runCatching { terminal.settle() }.exceptionOrNull()
        assertTrue("$failed", failed is SmartPosException.HostUnavailable)
        terminal.sale(500, "01")
        // The failed batch is settled first, and the report is of that batch.
        val first = terminal.settleWithReport()
        assertEquals(2000L, first.settlement.salesAmount)
        assertEquals(2000L, first.totals.total.salesAmount)
        assertTrue(first.journalMatchesSent)
        val second = terminal.settleWithReport()
        assertEquals(500L, second.settlement.salesAmount)
        assertEquals(500L, second.totals.total.salesAmount)
        assertTrue(second.journalMatchesSent)
        assertTrue(second.settlement.batchNo != first.settlement.batchNo)
    }

    @Test
    fun preAuthorisationThenCompletion() = runBlocking {
        terminal.signOn()
        devices.profile = "visa-cda-online-pin"
        val pa = terminal.preAuthorise(10_000, "01")
        assertEquals(PosStatus.APPROVED, pa.status)
        assertEquals("pre_auth", pa.kind)
        assertNotNull(pa.authCode)
        val apdus = devices.apdus.get()
        val done = terminal.completePreAuthorisation(pa.txnId, 8_000, "01")
        assertEquals(PosStatus.APPROVED, done.status)
        assertEquals("pre_auth_completion", done.kind)
        assertEquals(8_000L, done.amount)
        assertEquals("completion needs no card", apdus, devices.apdus.get())
        // More than was held: refused, typed.
        val over = runCatching { terminal.completePreAuthorisation(pa.txnId, 20_000, "01") }.exceptionOrNull()
        assertTrue("$over", over is SmartPosException)
        val receipt = terminal.receipt(done.txnId, PosReceiptCopy.CUSTOMER, PosLanguage.EN)
        assertTrue(receipt.text, receipt.text.contains("PRE-AUTH COMPLETION"))
    }

    @Test
    fun walletCodeFromTheScannerPaysAQrSale() = runBlocking {
        terminal.signOn()
        // A WeChat Pay payment code: 18 digits starting 10-15 (smartpos-qr's wallet code rule).
        devices.walletCode = "134567890123456789"
        val events = Collections.synchronizedList(mutableListOf<PosEvent>())
        val collector = collectEvents(events)
        val tx = terminal.sale(1800, "01", method = PosPaymentMethod.SCAN_WALLET_CODE)
        awaitDone(events, collector)
        assertEquals(1, devices.scans.get())
        assertEquals(PosStatus.APPROVED, tx.status)
        assertEquals("qr_sale", tx.kind)
        assertEquals("qr", tx.entryMode)
        assertNull(tx.panMasked)
        assertNotNull(tx.walletOrder)
        assertEquals("no card was read", 0, devices.detects.get())
        val names = events.map { "${it.kind}:${it.name}" }
        assertTrue(names.toString(), "prompt:scan_code" in names)
        // Not a wallet code: refused before anything is sent.
        devices.walletCode = "hello"
        val bad = expect<SmartPosException.InvalidInput> { terminal.sale(1800, "01", method = PosPaymentMethod.SCAN_WALLET_CODE) }
        assertEquals("qr", bad.field)
    }

    @Test
    fun merchantPresentedQrIsShownOnTheQrDisplayAndPaidByTheWallet() = runBlocking {
        // A host that never marks an order paid by itself: only the customer's wallet does.
        terminal.close()
        host.stop()
        host.close()
        host = HostSimulator.startWithQrPolls(1_000_000u)
        writeSimulatedConfig(dir.path, host.address())
        val shown = Collections.synchronizedList(mutableListOf<String>())
        val paidRrn = Collections.synchronizedList(mutableListOf<String>())
        val cleared = java.util.concurrent.atomic.AtomicInteger()
        // The app's customer display shows the payload; here the simulated customer's wallet
        // scans it and pays.
        val display = object : PosQrDisplay {
            override fun show(payload: String) {
                shown += payload
                paidRrn += host.walletPay(payload)
            }

            override fun clear() {
                cleared.incrementAndGet()
            }
        }
        val d = devices
        terminal = SmartPosTerminal.open(
            dir, File(dir, "journal.db"), PosKeys(simulatedMasterKey(), ByteArray(32) { 7 }, ByteArray(32) { 9 }), "sup1",
            PosDevices(d.reader, d.pinPad, d.printer, d.scanner, d.indicators, qrDisplay = display),
        )
        terminal.signOn()
        val events = Collections.synchronizedList(mutableListOf<PosEvent>())
        val collector = collectEvents(events)
        val tx = terminal.sale(6600, "01", method = PosPaymentMethod.MERCHANT_QR)
        awaitDone(events, collector)
        assertEquals(PosStatus.APPROVED, tx.status)
        assertEquals("qr_sale", tx.kind)
        assertEquals(6600L, tx.total)
        assertEquals(1, shown.size)
        // An EMVCo MPM payload (EMV QRCPS-MPM §4.1: "000201" payload format indicator first,
        // CRC in tag 63 last) with the amount in tag 54.
        val payload = shown.single()
        assertTrue(payload, payload.startsWith("000201"))
        assertTrue(payload, payload.contains("540566.00"))
        assertTrue(payload, payload.substring(payload.length - 8).startsWith("6304"))
        assertEquals(paidRrn.single(), tx.rrn)
        assertEquals("the display is cleared once paid", 1, cleared.get())
        // The listener saw the same payload once, and the display being cleared.
        assertEquals(listOf(payload), events.filter { it.kind == "merchant_qr" }.map { it.payload })
        assertTrue(events.toString(), events.any { it.kind == "merchant_qr_cleared" })
        assertEquals("no card, no scan", 0, devices.detects.get() + devices.scans.get())
    }

    @Test
    fun merchantQrCancelledWhileShownIsRevoked() = runBlocking {
        terminal.close()
        host.stop()
        host.close()
        host = HostSimulator.startWithQrPolls(1_000_000u)
        writeSimulatedConfig(dir.path, host.address())
        val cleared = java.util.concurrent.atomic.AtomicInteger()
        lateinit var t: SmartPosTerminal
        // The attendant cancels while the code is on the screen.
        val display = object : PosQrDisplay {
            override fun show(payload: String) = t.cancel()
            override fun clear() {
                cleared.incrementAndGet()
            }
        }
        val d = devices
        t = SmartPosTerminal.open(
            dir, File(dir, "journal.db"), PosKeys(simulatedMasterKey(), ByteArray(32) { 7 }, ByteArray(32) { 9 }), "sup1",
            PosDevices(d.reader, d.pinPad, d.printer, d.scanner, d.indicators, qrDisplay = display),
        )
        terminal = t
        terminal.signOn()
        val tx = terminal.sale(4200, "01", method = PosPaymentMethod.MERCHANT_QR)
        assertEquals(PosStatus.REVOKED, tx.status)
        assertEquals("qr_sale", tx.kind)
        assertEquals(1, cleared.get())
        assertEquals("nothing approved at the host", 0u, host.approvedCount())
    }

    @Test
    fun contactlessTapsRunTheKernelOfTheirScheme() = runBlocking {
        terminal.signOn()
        // EMV Contactless Book B: the Entry Point picks the kernel by the card's AID.
        for ((profile, kernel) in listOf("mastercard_card" to "C-2", "visa_card" to "C-3", "unionpay_card" to "C-7")) {
            devices.contactlessProfile = profile
            val tx = terminal.sale(1200, "01")
            assertTrue("$profile: ${tx.status}", tx.status == PosStatus.APPROVED || tx.status == PosStatus.APPROVED_OFFLINE)
            assertEquals(profile, kernel, tx.kernel)
            assertEquals(profile, "contactless", tx.entryMode)
        }
    }

    @Test
    fun contactlessSaleOfASimulatedNfcCard() = runBlocking {
        terminal.signOn()
        devices.contactlessProfile = "visa_online_only"
        val events = Collections.synchronizedList(mutableListOf<PosEvent>())
        val collector = collectEvents(events)
        val tx = terminal.sale(1500, "01")
        awaitDone(events, collector)
        assertEquals(PosStatus.APPROVED, tx.status)
        assertEquals("contactless", tx.entryMode)
        assertEquals("C-3", tx.kernel)
        assertEquals("00", tx.responseCode)
        assertNotNull(tx.panMasked)
        assertEquals("visa", tx.scheme)
        // The kernel's Book A UI requests reach Kotlin with their raw code and hold time.
        val bookA = events.filter { it.kind == "prompt" && it.bookACode != null }
        assertTrue(events.toString(), bookA.isNotEmpty())
        assertTrue(bookA.toString(), bookA.all { it.holdTimeMs != null })
        // The terminal's own prompts carry neither.
        assertTrue(events.toString(), events.any { it.kind == "prompt" && it.name == "present_card" && it.bookACode == null && it.holdTimeMs == null })
        val receipt = terminal.receipt(tx.txnId, PosReceiptCopy.CUSTOMER, PosLanguage.EN)
        assertEquals("contactless", receipt.data.entryMode)
        assertTrue(receipt.text, receipt.text.contains("CONTACTLESS"))
    }
}
