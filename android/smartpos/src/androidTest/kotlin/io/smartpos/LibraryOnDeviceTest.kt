package io.smartpos

import androidx.test.ext.junit.runners.AndroidJUnit4
import androidx.test.platform.app.InstrumentationRegistry
import io.smartpos.core.CardReader
import io.smartpos.core.PosOperatorPolicy
import io.smartpos.core.PosOperators
import io.smartpos.core.PosRole
import io.smartpos.core.SmartPosException
import io.smartpos.jni.ApduTransceiver
import io.smartpos.jni.NativeApdu
import kotlinx.coroutines.test.runTest
import org.junit.Assert.assertEquals
import org.junit.Assert.assertTrue
import org.junit.Test
import java.io.File
import org.junit.runner.RunWith

/**
 * On a device or emulator: libsmartpos for the device's ABI loads through JNA (UniFFI) and
 * System.loadLibrary (JNI), and the demo kernel runs a tap over both paths against an in-memory
 * card that only knows SELECT PPSE / SELECT AID (the tap ends at GPO, the same way on both).
 * The full behaviour is covered on the host JVM by scripts/jvm-test.sh.
 */
@RunWith(AndroidJUnit4::class)
class LibraryOnDeviceTest {
    private fun bytes(hex: String) = ByteArray(hex.length / 2) { hex.substring(2 * it, 2 * it + 2).toInt(16).toByte() }

    // Visa PPSE and FCI answers (public Android HCE replay sample, ApduService.java).
    private val card = object : CardReader, ApduTransceiver {
        override fun transceive(apdu: ByteArray): ByteArray = when (apdu.size) {
            20 -> bytes("6F23840E325041592E5359532E4444463031A511BF0C0E610C4F07A00000000310108701019000")
            else -> bytes("6F188407A0000000031010A50D500B56495341204352454449549000")
        }
    }

    @Test
    fun bothPathsRunTheSameTap() = runTest {
        assertEquals(SmartPos.version, NativeApdu.version())
        SmartPos.demoKernel().use { kernel ->
            val request = kernel.request(amount = 100)
            val viaUniffi = kernel.tap(card, request)
            val viaJni = kernel.tapFast(card, request)
            assertEquals(viaUniffi.outcome, viaJni.outcome)
            assertEquals(viaUniffi.exchanges, viaJni.exchanges)
            assertEquals("A0000000031010", viaJni.aid)
        }
    }

    @Test
    fun callbackThreadsStayAttachedAfterMinification() {
        // Reflection over the generated vtables works on ART (and after R8 with consumer-rules.pro).
        CallbackThreads.keepAttached()
        CallbackThreads.keepAttached()
    }

    @Test
    fun operatorStoreLocksOutOnTheDevice() {
        val dir = InstrumentationRegistry.getInstrumentation().targetContext.cacheDir
        val file = File(dir, "operators-test.db").apply { delete() }
        PosOperators.openWithPolicy(file.path, PosOperatorPolicy(2u, 6u, 1024u, 1u)).use { ops ->
            ops.bootstrapAdmin("admin", "Admin", "admin-pass".toByteArray())
            ops.addOperator("admin", "admin-pass".toByteArray(), "sup1", "Supervisor", PosRole.SUPERVISOR, "sup-pass".toByteArray())
            repeat(2) {
                runCatching { ops.unlock("sup1", "wrong-pass".toByteArray(), "sup1") }
            }
            assertTrue(ops.operator("sup1").locked)
            val e = runCatching { ops.unlock("sup1", "sup-pass".toByteArray(), "sup1") }.exceptionOrNull()
            assertTrue("$e", e is SmartPosException.OperatorLocked)
        }
        file.delete()
    }
}
