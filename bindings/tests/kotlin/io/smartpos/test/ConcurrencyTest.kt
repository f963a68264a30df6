package io.smartpos.test

import io.smartpos.SmartPos
import io.smartpos.jni.NativeApdu
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.async
import kotlinx.coroutines.awaitAll
import kotlinx.coroutines.runBlocking
import org.junit.Assert.assertEquals
import org.junit.Test

/** Many sessions at once on many threads: callbacks find their own reader, results do not mix. */
class ConcurrencyTest {
    @Test
    fun parallelSessionsOverBothPathsKeepTheirOwnCards() = runBlocking {
        val cards = listOf(Cards.mastercardDebit to "A0000000041010", Cards.visaWithPdol to "A0000000031010")
        val results = (0 until 16).map { worker ->
            async(Dispatchers.Default) {
                val (script, aid) = cards[worker % 2]
                val reader = SimulatedCardReader(script)
                val seen = mutableListOf<String>()
                SmartPos.openSession(reader).use { session ->
                    repeat(25) {
                        seen += session.selectApplication().aid.toHex()
                        seen += NativeApdu.selectApplication(reader).toHex()
                    }
                }
                // Every fourth worker also runs the flow on an attached Rust thread.
                if (worker % 4 == 0) seen += NativeApdu.selectApplicationOnWorkerThread(reader).toHex()
                Triple(aid, seen, reader.commands.size)
            }
        }.awaitAll()
        for ((worker, result) in results.withIndex()) {
            val (aid, seen, commands) = result
            assertEquals("worker $worker", List(seen.size) { aid }, seen)
            assertEquals("worker $worker", seen.size * 2, commands)
        }
    }
}
