package io.smartpos.test

import io.smartpos.SmartPos
import io.smartpos.core.ApduSession
import io.smartpos.core.CancellationHandle
import io.smartpos.core.SmartPosException
import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.async
import kotlinx.coroutines.runBlocking
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertTrue
import org.junit.Assert.fail
import org.junit.Test
import java.util.concurrent.CountDownLatch
import java.util.concurrent.TimeUnit

class CancellationTest {
    @Test
    fun handleCancelledDuringTheFirstExchangeStopsBeforeTheSecond() = runBlocking {
        val handle = CancellationHandle()
        // The "user presses Cancel" while the card answers SELECT PPSE.
        val card = SimulatedCardReader(Cards.mastercardDebit) { index, _ -> if (index == 0) handle.cancel() }
        try {
            ApduSession(card).use { it.selectApplicationAsync(handle) }
            fail("expected Cancelled")
        } catch (e: SmartPosException.Cancelled) {
            assertEquals(1u, e.exchanges)
        }
        assertEquals(listOf(Cards.SELECT_PPSE), card.commands)
        assertTrue(handle.isCancelled())
    }

    @Test
    fun cancellingTheCoroutineMidRunCancelsTheHandleAndStopsTheFlow() = runBlocking {
        val inFirstExchange = CountDownLatch(1)
        val release = CountDownLatch(1)
        val card = SimulatedCardReader(Cards.mastercardDebit) { index, _ ->
            if (index == 0) {
                inFirstExchange.countDown()
                // Blocks like IsoDep.transceive does, until the test has cancelled the job.
                check(release.await(10, TimeUnit.SECONDS)) { "test did not release the reader" }
            }
        }
        val handle = CancellationHandle()
        val session = SmartPos.openSession(card)
        val job = async(Dispatchers.Default) { session.selectApplication(handle) }
        assertTrue("reader was never called", inFirstExchange.await(10, TimeUnit.SECONDS))
        job.cancel()
        // The facade forwards the coroutine's cancellation to the Rust handle at once, even while
        // the Rust flow is blocked inside the reader callback.
        val deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10)
        while (!handle.isCancelled() && System.nanoTime() < deadline) Thread.sleep(1)
        assertTrue("handle not cancelled", handle.isCancelled())
        release.countDown()
        try {
            job.await()
            fail("expected the job to be cancelled")
        } catch (_: CancellationException) {
        }
        assertTrue(job.isCancelled)
        // SELECT AID was never sent.
        assertEquals(listOf(Cards.SELECT_PPSE), card.commands)
        assertEquals(1L, session.exchangeCount)
        session.close()
    }

    @Test
    fun uncancelledHandleLetsTheFlowFinishAndStaysUsable() = runBlocking {
        val handle = CancellationHandle()
        val selection = ApduSession(SimulatedCardReader(Cards.visaWithPdol)).use { it.selectApplicationAsync(handle) }
        assertEquals("A0000000031010", selection.aid.toHex())
        assertFalse(handle.isCancelled())
    }

    @Test
    fun facadeLeavesTheCallersHandleAloneWhenTheFlowSucceeds() = runBlocking {
        val handle = CancellationHandle()
        SmartPos.openSession(SimulatedCardReader(Cards.mastercardDebit)).use { session ->
            assertEquals("A0000000041010", session.selectApplication(handle).aid.toHex())
            assertFalse(handle.isCancelled())
            // The same handle serves the next flow.
            assertEquals("A0000000041010", session.selectApplication(handle).aid.toHex())
        }
    }

    @Test
    fun secondFlowOnABusySessionIsRefusedNotInterleaved() = runBlocking {
        val inFirstExchange = CountDownLatch(1)
        val release = CountDownLatch(1)
        val card = SimulatedCardReader(Cards.mastercardDebit) { index, _ ->
            if (index == 0) {
                inFirstExchange.countDown()
                check(release.await(10, TimeUnit.SECONDS))
            }
        }
        val session = ApduSession(card)
        val first = async(Dispatchers.Default) { session.selectApplicationAsync(CancellationHandle()) }
        assertTrue(inFirstExchange.await(10, TimeUnit.SECONDS))
        try {
            session.selectApplication()
            fail("expected InvalidInput")
        } catch (e: SmartPosException.InvalidInput) {
            assertEquals("session", e.field)
        }
        release.countDown()
        assertEquals("A0000000041010", first.await().aid.toHex())
        assertEquals(2, card.commands.size)
        session.close()
    }
}
