package io.smartpos.android

import android.nfc.Tag
import android.nfc.TagLostException
import android.nfc.tech.IsoDep
import io.smartpos.core.CardReader
import io.smartpos.core.SmartPosException
import io.smartpos.jni.ApduTransceiver
import java.io.IOException

/**
 * Android NFC adapter: one contactless card through `android.nfc.tech.IsoDep` (ISO/IEC 14443-4).
 * Serves both paths: UniFFI ([CardReader]) and the raw-JNI fast path ([ApduTransceiver]).
 * Deliberately thin: all logic sits behind these interfaces and is tested on the host JVM.
 * Android only: this source set is not compiled by scripts/jvm-test.sh.
 */
class IsoDepCardReader(private val isoDep: IsoDep, timeoutMillis: Int = 2_000) :
    CardReader, ApduTransceiver, AutoCloseable {

    init {
        if (!isoDep.isConnected) isoDep.connect()
        isoDep.timeout = timeoutMillis
    }

    override fun transceive(apdu: ByteArray): ByteArray =
        try {
            isoDep.transceive(apdu)
        } catch (e: TagLostException) {
            throw SmartPosException.Transport("card removed: ${e.message}")
        } catch (e: IOException) {
            throw SmartPosException.Transport("IsoDep I/O: $e")
        }

    override fun close() {
        try {
            isoDep.close()
        } catch (_: IOException) {
            // Closing a lost tag fails; nothing to do.
        }
    }

    companion object {
        /** The reader for a discovered tag, or null if it does not speak ISO-DEP. */
        fun of(tag: Tag): IsoDepCardReader? = IsoDep.get(tag)?.let { IsoDepCardReader(it) }
    }
}
