package io.smartpos.test

import io.smartpos.SmartPos
import io.smartpos.core.SmartPosException
import io.smartpos.core.TlvNode
import io.smartpos.jni.NativeApdu
import org.junit.Assert.assertArrayEquals
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertTrue
import org.junit.Assert.fail
import org.junit.Test

class FacadeTest {
    @Test
    fun versionIsTheCrateVersionOnBothPaths() {
        assertTrue(SmartPos.version, Regex("""\d+\.\d+\.\d+""").matches(SmartPos.version))
        // The same libsmartpos answers over JNA (UniFFI) and over System.loadLibrary (JNI).
        assertEquals(SmartPos.version, NativeApdu.version())
    }

    @Test
    fun decodesThePpseFciTree() {
        // moov-io/bertlv bertlv_test.go TestEncodeDecode: 6F { 84, A5 { BF0C { 61 { 4F, 50, 87 } } } }
        val nodes = SmartPos.decodeTlv(Cards.MOOV_PPSE_FCI)
        assertEquals(1, nodes.size)
        val fci = nodes[0]
        assertEquals("6F", fci.tag)
        assertEquals("File Control Information (FCI) Template", fci.name)
        assertTrue(fci.constructed)
        assertEquals(listOf("84", "A5"), fci.children.map { it.tag })
        assertEquals("2PAY.SYS.DDF01", String(fci.children[0].value, Charsets.US_ASCII))
        assertFalse(fci.children[0].constructed)
        val entry = fci.children[1].children.single { it.tag == "BF0C" }.children.single()
        assertEquals("61", entry.tag)
        assertEquals(listOf("4F", "50", "87"), entry.children.map { it.tag })
        assertEquals("A0000000041010", entry.children[0].value.toHex())
        assertEquals("Mastercard", String(entry.children[1].value, Charsets.US_ASCII))
        assertArrayEquals(byteArrayOf(1), entry.children[2].value)
    }

    @Test
    fun bytesAndHexDecodeAlikeAndEncodingRoundTrips() {
        val bytes = hex(Cards.MOOV_PPSE_FCI)
        val fromBytes = SmartPos.decodeTlv(bytes)
        assertEquals(SmartPos.decodeTlv(Cards.MOOV_PPSE_FCI.lowercase()).render(), fromBytes.render())
        assertArrayEquals(bytes, SmartPos.encodeTlv(fromBytes))
    }

    @Test
    fun encodeBuildsMinimalLengthsFromKotlinNodes() {
        // 9F02 (Amount, Authorised) 000000001500 inside a 70 template: 70 09 9F02 06 000000001500
        val node = TlvNode("70", null, true, ByteArray(0), listOf(TlvNode("9F02", null, false, hex("000000001500"), emptyList())))
        assertEquals("70099F0206000000001500", SmartPos.encodeTlv(listOf(node)).toHex())
    }

    @Test
    fun primitiveNodeWithChildrenIsRejected() {
        val bad = TlvNode("5A", null, false, ByteArray(0), listOf(TlvNode("50", null, false, ByteArray(1), emptyList())))
        try {
            SmartPos.encodeTlv(listOf(bad))
            fail("expected InvalidInput")
        } catch (e: SmartPosException.InvalidInput) {
            assertEquals("children", e.field)
        }
    }

    @Test
    fun truncatedTlvIsMalformedWithTheReason() {
        // 6F says 0x2F bytes follow; only 3 do.
        try {
            SmartPos.decodeTlv("6F2F840E32")
            fail("expected MalformedTlv")
        } catch (e: SmartPosException.MalformedTlv) {
            assertEquals("decode_tlv", e.context)
            assertTrue(e.reason, e.reason.contains("6F"))
        }
    }
}
