package io.smartpos.bench

import io.smartpos.core.ApduSession
import io.smartpos.core.CancellationHandle
import io.smartpos.core.CardReader
import io.smartpos.jni.ApduTransceiver
import io.smartpos.jni.NativeApdu
import java.lang.management.ManagementFactory

/**
 * FFI figures on the host JVM: median time per operation over many batches, after warm-up.
 * Run by scripts/bench.sh. No assertion on time anywhere: this only measures.
 */
object FfiBench {
    private const val SAMPLES = 101

    // SELECT PPSE (EMV Book B §3.3.2) and a Visa PPSE answer, so the byte counts are realistic.
    private val selectPpse = hexBytes("00A404000E325041592E5359532E444446303100")
    private val ppseAnswer = hexBytes("6F23840E325041592E5359532E4444463031A511BF0C0E610C4F07A00000000310108701019000")
    private val selectAid = hexBytes("00A4040007A000000003101000")
    private val aidAnswer = hexBytes("6F458407A0000000031010A53A9F381B9F66049F02069F03069F1A0295055F2A029A039C019F37049F4E14BF0C149F5A0531082608269F4D021405BF6304DF2001805F2D02656E9000")

    private fun hexBytes(text: String) = ByteArray(text.length / 2) { text.substring(2 * it, 2 * it + 2).toInt(16).toByte() }

    /** Answers SELECT PPSE and SELECT AID from memory: both readers do the same (tiny) work. */
    private class MemoryCard : CardReader, ApduTransceiver {
        override fun transceive(apdu: ByteArray): ByteArray =
            if (apdu.size == selectPpse.size && apdu[5] == selectPpse[5]) ppseAnswer else aidAnswer
    }

    private var sink = 0L

    private val threads = ManagementFactory.getThreadMXBean()

    /**
     * Median wall-clock nanoseconds per call of [op] over [SAMPLES] batches of [batch] calls,
     * after [warmup] calls. Also prints the calling thread's CPU time per call (median), which
     * is less disturbed by other processes on a busy machine; GC and JNA's cleaner thread are in
     * the wall time only.
     */
    private fun measure(name: String, batch: Int, warmup: Int, op: () -> Int): Double {
        repeat(warmup) { sink += op() }
        val wall = DoubleArray(SAMPLES)
        val cpu = DoubleArray(SAMPLES)
        for (s in 0 until SAMPLES) {
            val cpuStart = threads.currentThreadCpuTime
            val start = System.nanoTime()
            repeat(batch) { sink += op() }
            wall[s] = (System.nanoTime() - start).toDouble() / batch
            cpu[s] = (threads.currentThreadCpuTime - cpuStart).toDouble() / batch
        }
        wall.sort()
        cpu.sort()
        val median = wall[SAMPLES / 2]
        println("%-60s median %9.2f µs (p10 %8.2f, p90 %8.2f), thread CPU %8.2f µs; %d x %d calls".format(
            name, median / 1000, wall[SAMPLES / 10] / 1000, wall[SAMPLES * 9 / 10] / 1000, cpu[SAMPLES / 2] / 1000, SAMPLES, batch))
        return median
    }

    @JvmStatic
    fun main(args: Array<String>) {
        val card = MemoryCard()
        val handle = CancellationHandle()
        val session = ApduSession(card)
        println("ffi-bench: load average ${"%.2f".format(ManagementFactory.getOperatingSystemMXBean().systemLoadAverage)} on ${Runtime.getRuntime().availableProcessors()} CPUs")
        println("ffi-bench: libsmartpos ${io.smartpos.core.version()} (JNI side ${NativeApdu.version()}), JVM ${System.getProperty("java.version")}")
        measure("UniFFI call: CancellationHandle.isCancelled()", 500, 20_000) { if (handle.isCancelled()) 1 else 0 }
        measure("UniFFI call: version() -> String", 500, 20_000) { io.smartpos.core.version().length }
        val uniffi = measure("UniFFI APDU round trip: transmit (Rust -> Kotlin CardReader)", 200, 10_000) {
            session.transmit(selectPpse).data.size
        }
        val jni = measure("JNI APDU round trip: NativeApdu.transmit (cached method ID)", 5_000, 100_000) {
            NativeApdu.transmit(card, selectPpse).size
        }
        val uniffiFlow = measure("UniFFI selection flow (2 APDUs, callback interface)", 100, 5_000) {
            session.selectApplication().exchanges.toInt()
        }
        val jniFlow = measure("JNI selection flow (2 APDUs, cached method ID)", 2_000, 50_000) {
            NativeApdu.selectApplication(card).size
        }
        println("ratio JNI/UniFFI, APDU round trip: %.3f (JNI %.1fx faster)".format(jni / uniffi, uniffi / jni))
        println("ratio JNI/UniFFI, selection flow:  %.3f (JNI %.1fx faster)".format(jniFlow / uniffiFlow, uniffiFlow / jniFlow))
        session.close()
        handle.close()
        if (sink == 42L) println()
    }
}
