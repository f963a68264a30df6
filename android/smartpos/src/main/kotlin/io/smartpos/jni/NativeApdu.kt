package io.smartpos.jni

/**
 * The reader side of the raw-JNI APDU fast path. libsmartpos caches the method ID of
 * [transceive] in `JNI_OnLoad` and calls it directly for every APDU (no JNA, no lookup).
 *
 * Send one command APDU, return the card's raw response (data + SW1 SW2). Throw on a reader
 * failure: the native side turns any exception into a `Transport` error.
 */
fun interface ApduTransceiver {
    fun transceive(apdu: ByteArray): ByteArray
}

/**
 * A failure of a [NativeApdu] call. [kind] is the name of the Rust error variant, the same names
 * as the subclasses of `io.smartpos.core.SmartPosException` (`Transport`, `CardStatus`,
 * `Protocol`, `InvalidInput`, `InvalidConfiguration`, `MalformedTlv`, `Cancelled`).
 */
class NativeApduException(val kind: String, message: String) : Exception(message)

/**
 * Natives of libsmartpos for the per-APDU fast path (ARCHITECTURE.md principle 8). Loading this
 * object runs `System.loadLibrary("smartpos")`, which calls `JNI_OnLoad` (JNA, used by the UniFFI
 * bindings, loads the same library but does not call it).
 */
object NativeApdu {
    init {
        System.loadLibrary("smartpos")
    }

    /** The core version, as `io.smartpos.core.version()` reports it over UniFFI. */
    @JvmStatic external fun version(): String

    /** One exchange through the cached method ID; returns the raw response (data + SW). */
    @JvmStatic external fun transmit(reader: ApduTransceiver, apdu: ByteArray): ByteArray

    /**
     * Register [reader] for the kernel calls of `io.smartpos.core.EmvKernel` (`tapNative`,
     * `startContactNative`): the kernel then reaches the card through the cached method ID, one
     * JNI call per APDU. Returns the handle; release it with
     * `io.smartpos.core.releaseNativeReader(handle.toULong())`.
     */
    @JvmStatic external fun openReader(reader: ApduTransceiver): Long
}
