package io.smartpos.test

import io.smartpos.ApduEvent
import io.smartpos.SmartPos
import io.smartpos.core.CancellationHandle
import io.smartpos.core.EmvInterface
import io.smartpos.core.EmvOutcome
import io.smartpos.core.EmvTransactionType
import io.smartpos.core.OfflinePinEntry
import io.smartpos.core.OnlinePinEntry
import io.smartpos.core.PinPad
import io.smartpos.core.SmartPosException
import io.smartpos.core.simulatedEmvKernel
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.yield
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertNull
import org.junit.Assert.assertTrue
import org.junit.Test
import java.util.concurrent.atomic.AtomicInteger

/**
 * Whole EMV transactions through the Kotlin facade: smartpos-emv's kernels in libsmartpos, the
 * card a virtual card of smartpos-sim behind a Kotlin reader (EMV Book 3 §10 contact flow,
 * EMV Contactless Books A/B/C-2/C-3/C-7 taps).
 */
class KernelTest {
    private val kernel = SmartPos.kernel(simulatedEmvKernel())

    /** A PIN pad that answers with fixed values and counts its calls. */
    private class TestPinPad(val pin: String?) : PinPad {
        val calls = AtomicInteger()
        override fun offlinePin(enciphered: Boolean, triesLeft: UByte?): OfflinePinEntry {
            calls.incrementAndGet()
            return if (pin == null) OfflinePinEntry.Bypassed else OfflinePinEntry.Entered(pin.toByteArray())
        }

        override fun onlinePin(pan: String): OnlinePinEntry {
            calls.incrementAndGet()
            // A real PIN pad encrypts under its PIN key; opaque bytes stand for that here.
            return OnlinePinEntry.Entered(hex("0123456789ABCDEF"))
        }
    }

    @Test
    fun visaContactlessTapApprovedOfflineWithFdda() = runBlocking {
        val card = SimCardReader.contactless("visa_card")
        val r = kernel.tap(card, fixedRequest())
        assertEquals(EmvInterface.CONTACTLESS, r.`interface`)
        assertEquals(EmvOutcome.APPROVED, r.outcome)
        assertEquals("APPROVED", r.outcomeName)
        assertEquals("C-3", r.kernel)
        assertEquals("A0000000031010", r.aid)
        assertEquals("fdda", r.oda)
        assertTrue(r.odaOk)
        // First APDU is SELECT PPSE (EMV Contactless Book B §3.3.2).
        assertEquals(Cards.SELECT_PPSE, card.commands.first())
        assertEquals(card.commands.size, r.exchanges.toInt())
        // Field 55 carries the cryptogram (9F26) and the PAN is masked 6 + 4.
        assertTrue(r.field55, r.field55.contains("9F2608"))
        assertTrue(r.panMasked!!, Regex("""\d{6}\*+\d{4}""").matches(r.panMasked!!))
        assertNull(r.tsi)
    }

    @Test
    fun everyContactlessSchemeRunsItsKernel() = runBlocking {
        val expected = mapOf("visa_card" to "C-3", "mastercard_card" to "C-2", "unionpay_card" to "C-7")
        for ((profile, kernelName) in expected) {
            val r = kernel.tap(SimCardReader.contactless(profile), fixedRequest())
            assertEquals(profile, kernelName, r.kernel)
            assertTrue("$profile: ${r.outcomeName}", r.outcome == EmvOutcome.APPROVED || r.outcome == EmvOutcome.ONLINE_REQUEST)
        }
        assertEquals(EmvOutcome.DECLINED, kernel.tap(SimCardReader.contactless("visa_decline"), fixedRequest()).outcome)
        assertEquals(EmvOutcome.ONLINE_REQUEST, kernel.tap(SimCardReader.contactless("visa_online_only"), fixedRequest()).outcome)
    }

    @Test
    fun contactSaleWithOnlinePinApprovedByTheSimulatedIssuer() = runBlocking {
        val card = SimCardReader.contact("visa-cda-online-pin")
        val pinPad = TestPinPad("1234")
        val tx = kernel.startContact(card, fixedRequest(), pinPad)
        assertTrue(tx.awaitingHost())
        val online = tx.result()
        assertEquals(EmvOutcome.ONLINE_REQUEST, online.outcome)
        assertEquals("online_pin", online.cvm)
        assertEquals("0123456789ABCDEF", tx.onlinePinBlock()!!.toHex())
        assertEquals(1, pinPad.calls.get())
        // The issuer verifies the ARQC in field 55 and answers with an ARPC (EMV Book 2 §8.2).
        val answer = card.card.issuerResponse(online.field55, true)
        val done = kernel.complete(tx, answer)
        assertEquals(EmvOutcome.APPROVED, done.outcome)
        assertEquals("cda", done.oda)
        assertTrue(done.odaOk)
        assertFalse(tx.awaitingHost())
        assertEquals(done.field55.isNotEmpty(), true)
    }

    @Test
    fun contactDeclinedOnlineAndUnableToGoOnline() = runBlocking {
        val card = SimCardReader.contact("mc-cda-online-pin")
        val tx = kernel.startContact(card, fixedRequest(), TestPinPad("1234"))
        val declined = kernel.complete(tx, card.card.issuerResponse(tx.result().field55, false))
        assertEquals(EmvOutcome.DECLINED, declined.outcome)

        val offline = kernel.startContact(SimCardReader.contact("visa-sda-signature"), fixedRequest())
        val r = kernel.complete(offline, null)
        // TAC-default has "exceeds floor limit" set: default action analysis gives an AAC.
        assertEquals(EmvOutcome.DECLINED, r.outcome)
        assertTrue(r.uiMessages.toString(), "unable_to_go_online" in r.uiMessages)
    }

    @Test
    fun offlinePinGoesFromTheKotlinPinPadToTheCard() = runBlocking {
        val pinPad = TestPinPad("1234")
        val tx = kernel.startContact(SimCardReader.contact("visa-dda-offline-pin"), fixedRequest(), pinPad)
        // CVM Results 01 00 02: plaintext PIN verified by the ICC, successful (Book 3 Annex C3).
        assertEquals("010002", tx.result().cvmResults)
        assertEquals(1, pinPad.calls.get())
    }

    @Test
    fun aThrowingPinPadIsAFailedPinPadNotACrash() = runBlocking {
        val broken = object : PinPad {
            override fun offlinePin(enciphered: Boolean, triesLeft: UByte?): OfflinePinEntry = throw IllegalStateException("pad unplugged")
            override fun onlinePin(pan: String): OnlinePinEntry = throw IllegalStateException("pad unplugged")
        }
        val r = kernel.startContact(SimCardReader.contact("visa-dda-offline-pin"), fixedRequest(), broken).result()
        assertTrue(r.uiMessages.toString(), "pin_pad_failed" in r.uiMessages)
        // TVR byte 3 b5: PIN pad not present or not working (Book 3 Annex C5).
        assertEquals(0x10, r.tvr.substring(4, 6).toInt(16) and 0x10)
    }

    @Test
    fun refundTransactionTypeReachesField55() = runBlocking {
        val r = kernel.tap(SimCardReader.contactless("visa_online_only"), fixedRequest(type = EmvTransactionType.REFUND))
        // 9C 01 20: Transaction Type refund.
        assertTrue(r.field55, r.field55.contains("9C0120"))
    }

    @Test
    fun eventsFlowSeesEveryExchangeAndTheResult() = runBlocking {
        val card = SimCardReader.contactless("mastercard_card")
        val collected = mutableListOf<ApduEvent>()
        val job = launch { kernel.events.collect { collected += it } }
        yield()
        val r = kernel.tap(card, fixedRequest())
        // Let the collector drain the buffer (it runs on this same thread).
        repeat(200) { if (collected.lastOrNull() !is ApduEvent.Finished) yield() }
        job.cancel()
        val exchanged = collected.filterIsInstance<ApduEvent.Exchanged>()
        assertEquals(card.commands, exchanged.map { it.command.toHex() })
        assertEquals(r, (collected.last() as ApduEvent.Finished).result)
    }

    @Test
    fun badRequestIsInvalidInput() = runBlocking {
        val bad = fixedRequest().copy(unpredictableNumber = hex("0102"))
        try {
            kernel.tap(SimCardReader.contactless("visa_card"), bad)
            throw AssertionError("expected InvalidInput")
        } catch (e: SmartPosException.InvalidInput) {
            assertEquals("unpredictable_number", e.field)
        }
    }

    @Test
    fun facadeRequestIsStampedAndRandom() {
        val a = kernel.request(1500)
        val b = kernel.request(1500)
        assertEquals(6, a.date.length)
        assertEquals(6, a.time.length)
        assertEquals(4, a.unpredictableNumber.size)
        assertFalse(a.unpredictableNumber.contentEquals(b.unpredictableNumber) && a.unpredictableNumber.contentEquals(ByteArray(4)))
        assertEquals(1500uL, a.amount)
    }

    @Test
    fun cancellationHandleStopsTheTapMidTransaction() = runBlocking {
        val handle = CancellationHandle()
        val card = SimCardReader.contactless("visa_card") { index -> if (index == 2) handle.cancel() }
        try {
            kernel.tap(card, fixedRequest(), handle)
            throw AssertionError("expected Cancelled")
        } catch (e: SmartPosException.Cancelled) {
            assertEquals(3u, e.exchanges)
        }
        // The exchange that saw the cancel finished; nothing was sent after it.
        assertEquals(3, card.commands.size)
    }

    @Test
    fun kernelCancelStopsTheRunningTransaction() = runBlocking {
        lateinit var card: SimCardReader
        card = SimCardReader.contactless("mastercard_card") { index -> if (index == 1) kernel.cancel() }
        try {
            kernel.tap(card, fixedRequest())
            throw AssertionError("expected Cancelled")
        } catch (e: SmartPosException.Cancelled) {
            assertEquals(2, card.commands.size)
        }
    }
}
