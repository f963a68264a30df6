package io.smartpos.test

import io.smartpos.core.CardReader
import io.smartpos.jni.ApduTransceiver
import java.util.Collections

fun hex(text: String): ByteArray {
    val clean = text.replace(" ", "")
    require(clean.length % 2 == 0) { "odd hex: $text" }
    return ByteArray(clean.length / 2) { clean.substring(2 * it, 2 * it + 2).toInt(16).toByte() }
}

fun ByteArray.toHex(): String = joinToString("") { "%02X".format(it.toInt() and 0xFF) }

/** A TLV tree as text (tag, hex value, children), for equality checks: the generated data class
 *  compares its ByteArray field by identity. */
fun io.smartpos.core.TlvNode.render(): String =
    "$tag(${if (constructed) "C" else "P"}:${value.toHex()})" + children.joinToString(",", "[", "]") { it.render() }

fun List<io.smartpos.core.TlvNode>.render(): String = joinToString(";") { it.render() }

/**
 * A contactless card simulated from a table of command → response (hex). Serves both the
 * UniFFI [CardReader] and the JNI [ApduTransceiver] path, records every command it receives, and
 * runs [beforeAnswer] (exchange index, command) before answering, for cancellation and failure
 * tests. An unknown command is answered 6D00 (INS not supported, ISO/IEC 7816-4 §5.6).
 */
class SimulatedCardReader(
    private val script: Map<String, String>,
    private val beforeAnswer: (Int, ByteArray) -> Unit = { _, _ -> },
) : CardReader, ApduTransceiver {
    val commands: MutableList<String> = Collections.synchronizedList(mutableListOf())

    override fun transceive(apdu: ByteArray): ByteArray {
        val command = apdu.toHex()
        val index = commands.size
        commands.add(command)
        beforeAnswer(index, apdu)
        return hex(script[command] ?: "6D00")
    }
}

/**
 * A virtual card of smartpos-sim (real cryptograms, ODA under the test PKI) behind both reader
 * interfaces: APDUs go Rust kernel -> this Kotlin reader -> the Rust virtual card. Records the
 * commands and runs [beforeAnswer] (exchange index) first, for cancellation and failure tests.
 */
class SimCardReader(
    val card: io.smartpos.core.SimulatedCard,
    private val beforeAnswer: (Int) -> Unit = {},
) : CardReader, ApduTransceiver {
    val commands: MutableList<String> = Collections.synchronizedList(mutableListOf())

    override fun transceive(apdu: ByteArray): ByteArray {
        val index = commands.size
        commands.add(apdu.toHex())
        beforeAnswer(index)
        return card.transceive(apdu)
    }

    companion object {
        fun contactless(profile: String, beforeAnswer: (Int) -> Unit = {}) =
            SimCardReader(io.smartpos.core.SimulatedCard.contactless(profile), beforeAnswer)

        fun contact(profile: String, beforeAnswer: (Int) -> Unit = {}) =
            SimCardReader(io.smartpos.core.SimulatedCard.contact(profile), beforeAnswer)
    }
}

/** A fixed request (date, time, UN) so runs over both paths are comparable byte for byte. */
fun fixedRequest(amount: Long = 1000, type: io.smartpos.core.EmvTransactionType = io.smartpos.core.EmvTransactionType.PURCHASE) =
    io.smartpos.core.EmvTransactionRequest(amount.toULong(), 0uL, type, "261121", "101500", hex("12345678"), 1u, false)

/** Card captures used across the tests; each names where it was published. */
object Cards {
    const val SELECT_PPSE = "00A404000E325041592E5359532E444446303100"

    /**
     * Debit Mastercard, AID A0000000041010, label "Debit MasterCard", no PDOL. Source: the
     * public HCE sample AndroidCrypto "android_hce_emulate_a_creditcard",
     * MastercardSampleCardAab.java (SELECT_PPSE_RESPONSE, SELECT_AID_RESPONSE; 9000 appended,
     * the sample stores responses without it).
     */
    val mastercardDebit = mapOf(
        SELECT_PPSE to "6F3C840E325041592E5359532E4444463031A52ABF0C2761254F07A000000004101050104465626974204D6173746572436172648701019F0A04000101019000",
        "00A4040007A000000004101000" to "6F528407A0000000041010A54750104465626974204D6173746572436172649F12104465626974204D6173746572436172648701019F1101015F2D046465656EBF0C119F0A04000101019F6E07028000003030009000",
    )

    /**
     * Visa, AID A0000000031010 with a PDOL (9F66 9F02 9F03 9F1A 95 5F2A 9A 9C 9F37 9F4E).
     * Source: a public Android HCE replay sample (ApduService.java, SELECT_PAY_RESPONSE and
     * SELECT_VISA_RESPONSE).
     */
    val visaWithPdol = mapOf(
        SELECT_PPSE to "6F23840E325041592E5359532E4444463031A511BF0C0E610C4F07A00000000310108701019000",
        "00A4040007A000000003101000" to "6F458407A0000000031010A53A9F381B9F66049F02069F03069F1A0295055F2A029A039C019F37049F4E14BF0C149F5A0531082608269F4D021405BF6304DF2001805F2D02656E9000",
    )

    const val VISA_PDOL = "9F66049F02069F03069F1A0295055F2A029A039C019F37049F4E14"

    /** PPSE FCI listing one Mastercard entry. Source: moov-io/bertlv bertlv_test.go TestEncodeDecode. */
    const val MOOV_PPSE_FCI = "6F2F840E325041592E5359532E4444463031A51DBF0C1A61184F07A0000000041010500A4D617374657263617264870101"
}
