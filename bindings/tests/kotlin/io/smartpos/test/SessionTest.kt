package io.smartpos.test

import io.smartpos.ApduEvent
import io.smartpos.SmartPos
import io.smartpos.core.ApduSession
import io.smartpos.core.SelectionEvent
import io.smartpos.core.SelectionListener
import kotlinx.coroutines.CoroutineStart
import kotlinx.coroutines.async
import kotlinx.coroutines.flow.filterIsInstance
import kotlinx.coroutines.flow.take
import kotlinx.coroutines.flow.toList
import kotlinx.coroutines.runBlocking
import org.junit.Assert.assertEquals
import org.junit.Assert.assertNull
import org.junit.Test

class SessionTest {
    @Test
    fun kotlinReaderDrivesSelectionOfTheDebitMastercard() {
        val card = SimulatedCardReader(Cards.mastercardDebit)
        SmartPos.openSession(card).use { session ->
            val selection = session.selectApplicationBlocking()
            assertEquals("A0000000041010", selection.aid.toHex())
            assertEquals("Debit MasterCard", selection.label)
            assertNull(selection.pdol)
            assertEquals(2u, selection.exchanges)
            assertEquals(1, selection.candidates.size)
            assertEquals(1.toUByte(), selection.candidates[0].priority)
            assertEquals(listOf(Cards.SELECT_PPSE, "00A4040007A000000004101000"), card.commands)
            assertEquals(2L, session.exchangeCount)
            // The FCI is handed back whole (without SW) for the kernel.
            assertEquals(Cards.mastercardDebit.getValue("00A4040007A000000004101000").dropLast(4), selection.fci.toHex())
        }
    }

    @Test
    fun suspendSelectionReturnsTheVisaPdol() = runBlocking {
        SmartPos.openSession(SimulatedCardReader(Cards.visaWithPdol)).use { session ->
            val selection = session.selectApplication()
            assertEquals("A0000000031010", selection.aid.toHex())
            assertEquals(Cards.VISA_PDOL, selection.pdol?.toHex())
        }
    }

    @Test
    fun refusedCandidateFallsBackToTheNextByPriority() {
        // Two entries: Mastercard priority 1, Visa priority 2. The card refuses the Mastercard AID
        // (6A82, file not found), so the Visa one is selected (EMV Book 1 §12.4).
        val ppse = "6F3A840E325041592E5359532E4444463031A528BF0C25" +
            "61104F07A0000000031010500256438701026111" + "4F07A0000000041010500350324D870101" + "9000"
        val card = SimulatedCardReader(
            mapOf(
                Cards.SELECT_PPSE to ppse,
                "00A4040007A000000004101000" to "6A82",
                "00A4040007A000000003101000" to Cards.visaWithPdol.getValue("00A4040007A000000003101000"),
            ),
        )
        val selection = ApduSession(card).use { it.selectApplication() }
        assertEquals("A0000000031010", selection.aid.toHex())
        assertEquals(listOf("A0000000041010", "A0000000031010"), selection.candidates.map { it.aid.toHex() })
        assertEquals(
            listOf(Cards.SELECT_PPSE, "00A4040007A000000004101000", "00A4040007A000000003101000"),
            card.commands,
        )
        assertEquals(3u, selection.exchanges)
    }

    @Test
    fun selectionEventsFromRustReachTheFlow() = runBlocking {
        val ppse = "6F3A840E325041592E5359532E4444463031A528BF0C25" +
            "61104F07A0000000031010500256438701026111" + "4F07A0000000041010500350324D870101" + "9000"
        val card = SimulatedCardReader(
            mapOf(
                Cards.SELECT_PPSE to ppse,
                "00A4040007A000000004101000" to "6A82",
                "00A4040007A000000003101000" to Cards.visaWithPdol.getValue("00A4040007A000000003101000"),
            ),
        )
        SmartPos.openSession(card).use { session ->
            val collected = async(start = CoroutineStart.UNDISPATCHED) {
                session.events.filterIsInstance<ApduEvent.Selection>().take(3).toList().map { it.event }
            }
            session.selectApplication()
            val events = collected.await()
            val found = events[0] as SelectionEvent.CandidatesFound
            assertEquals(listOf("A0000000041010", "A0000000031010"), found.candidates.map { it.aid.toHex() })
            val rejected = events[1] as SelectionEvent.CandidateRejected
            assertEquals("A0000000041010", rejected.aid.toHex())
            assertEquals("SW 6A82", rejected.reason)
            val selected = events[2] as SelectionEvent.ApplicationSelected
            assertEquals("A0000000031010", selected.aid.toHex())
            assertEquals("VC", selected.label)
        }
    }

    @Test
    fun throwingListenerDoesNotStopTheFlow() {
        val listener = object : SelectionListener {
            override fun onSelectionEvent(event: SelectionEvent) = throw IllegalStateException("UI gone")
        }
        val selection = ApduSession.withListener(SimulatedCardReader(Cards.visaWithPdol), listener).use { it.selectApplication() }
        assertEquals("A0000000031010", selection.aid.toHex())
    }

    @Test
    fun getResponseChainingIsFollowed() {
        // T=0 style: 61xx means "xx bytes waiting": the flow must send GET RESPONSE (EMV Book 1 §9.3.1.3).
        val ppse = Cards.visaWithPdol.getValue(Cards.SELECT_PPSE)
        val card = SimulatedCardReader(
            mapOf(
                Cards.SELECT_PPSE to "6125",
                "00C0000025" to ppse,
                "00A4040007A000000003101000" to Cards.visaWithPdol.getValue("00A4040007A000000003101000"),
            ),
        )
        val selection = ApduSession(card).use { it.selectApplication() }
        assertEquals("A0000000031010", selection.aid.toHex())
        assertEquals(3u, selection.exchanges)
        assertEquals("00C0000025", card.commands[1])
    }

    @Test
    fun transmitSplitsDataAndStatusWord() {
        val session = SmartPos.openSession(SimulatedCardReader(Cards.visaWithPdol))
        val response = session.transmit(hex(Cards.SELECT_PPSE))
        assertEquals(0x9000.toUShort(), response.sw)
        assertEquals(Cards.visaWithPdol.getValue(Cards.SELECT_PPSE).dropLast(4), response.data.toHex())
        val unknown = session.transmit(hex("80CA9F1700"))
        assertEquals(0x6D00.toUShort(), unknown.sw)
        assertEquals(0, unknown.data.size)
        session.close()
    }

    @Test
    fun eventsFlowReportsEveryExchangeInOrder() = runBlocking {
        SmartPos.openSession(SimulatedCardReader(Cards.mastercardDebit)).use { session ->
            val collected = async(start = CoroutineStart.UNDISPATCHED) {
                session.events.filterIsInstance<ApduEvent.Exchanged>().take(2).toList()
            }
            session.selectApplication()
            val events = collected.await()
            assertEquals(
                listOf(Cards.SELECT_PPSE, "00A4040007A000000004101000"),
                events.map { (it as ApduEvent.Exchanged).command.toHex() },
            )
            assertEquals("9000", (events[1] as ApduEvent.Exchanged).response.toHex().takeLast(4))
        }
    }
}
