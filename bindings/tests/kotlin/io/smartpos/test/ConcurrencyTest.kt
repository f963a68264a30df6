package io.smartpos.test

import io.smartpos.SmartPos
import io.smartpos.core.EmvOutcome
import io.smartpos.core.simulatedEmvKernel
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.async
import kotlinx.coroutines.awaitAll
import kotlinx.coroutines.runBlocking
import org.junit.Assert.assertEquals
import org.junit.Test

/** Many taps at once on many threads over both paths: callbacks find their own card, results
 *  do not mix. */
class ConcurrencyTest {
    @Test
    fun parallelTapsOverBothPathsKeepTheirOwnCards() = runBlocking {
        val facade = SmartPos.kernel(simulatedEmvKernel())
        val profiles = listOf("visa_card" to "A0000000031010", "mastercard_card" to "A0000000041010")
        val results = (0 until 8).map { worker ->
            async(Dispatchers.Default) {
                val (profile, aid) = profiles[worker % 2]
                val seen = mutableListOf<String>()
                repeat(4) {
                    val a = facade.tap(SimCardReader.contactless(profile), fixedRequest())
                    val b = facade.tapFast(SimCardReader.contactless(profile), fixedRequest())
                    for (r in listOf(a, b)) {
                        assertEquals(EmvOutcome.APPROVED, r.outcome)
                        seen += r.aid!!
                    }
                }
                aid to seen
            }
        }.awaitAll()
        for ((worker, result) in results.withIndex()) {
            val (aid, seen) = result
            assertEquals("worker $worker", List(8) { aid }, seen)
        }
    }
}
