package io.smartpos.bench

import io.smartpos.CallbackThreads
import io.smartpos.core.ApduSession
import io.smartpos.core.CallbackWorker
import io.smartpos.core.CancellationHandle
import io.smartpos.core.CardReader
import io.smartpos.core.EmvTransactionRequest
import io.smartpos.core.EmvTransactionType
import io.smartpos.core.SimulatedCard
import io.smartpos.core.releaseNativeReader
import io.smartpos.core.simulatedEmvKernel
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
        // UniFFI callbacks from a long-lived Rust worker thread (how PosTerminal runs every
        // operation): first with JNA's default (the thread is attached to the JVM for each
        // callback and detached after it), then with the facade's CallbackThreadInitializer
        // (detach = false: attached once, stays attached).
        val perBatch = 100u
        val worker = CallbackWorker(card)
        val detached = measure("UniFFI callback from a Rust worker thread, JNA default (attach+detach)", 1, 20) {
            worker.exchange(perBatch, selectPpse).toInt()
        } / perBatch.toDouble()
        worker.close()
        // The facade's device callbacks call CallbackThreads.stayAttached() first.
        val stayingCard = object : CardReader {
            override fun transceive(apdu: ByteArray): ByteArray {
                CallbackThreads.stayAttached()
                return card.transceive(apdu)
            }
        }
        val attachedWorker = CallbackWorker(stayingCard)
        val attached = measure("UniFFI callback from a Rust worker thread, kept attached", 1, 20) {
            attachedWorker.exchange(perBatch, selectPpse).toInt()
        } / perBatch.toDouble()
        attachedWorker.close()
        println("callback from a Rust worker thread, per callback: before %.2f µs, after %.2f µs; ratio after/before %.3f (%.1fx faster)".format(
            detached / 1000, attached / 1000, attached / detached, detached / attached))
        // A whole contactless tap (Visa qVSDC, fDDA, kernel C-3) against a virtual card of
        // smartpos-sim. Both paths reach the card through a Kotlin reader that forwards to the
        // Rust virtual card over UniFFI; only the kernel -> Kotlin hop differs.
        val kernel = simulatedEmvKernel()
        val visa = SimulatedCard.contactless("visa_card")
        val simReader = object : CardReader, ApduTransceiver {
            override fun transceive(apdu: ByteArray): ByteArray = visa.transceive(apdu)
        }
        val request = EmvTransactionRequest(1000uL, 0uL, EmvTransactionType.PURCHASE, "261121", "101500",
            hexBytes("12345678"), 1u, false)
        val apdusPerTap = kernel.tap(simReader, request, handle).exchanges.toInt()
        val uniffiTap = measure("whole tap via UniFFI CardReader ($apdusPerTap APDUs, Visa fDDA)", 5, 100) {
            kernel.tap(simReader, request, handle).exchanges.toInt()
        }
        val nativeHandle = NativeApdu.openReader(simReader).toULong()
        val jniTap = measure("whole tap via JNI reader ($apdusPerTap APDUs, Visa fDDA)", 5, 100) {
            kernel.tapNative(nativeHandle, request, handle).exchanges.toInt()
        }
        releaseNativeReader(nativeHandle)
        println("ratio JNI/UniFFI, APDU round trip: %.3f (JNI %.1fx faster)".format(jni / uniffi, uniffi / jni))
        println("ratio JNI/UniFFI, whole tap:       %.3f (JNI saves %.1f µs per tap)".format(jniTap / uniffiTap, (uniffiTap - jniTap) / 1000))
        session.close()
        kernel.close()
        visa.close()
        handle.close()
        if (sink == 42L) println()
    }
}
