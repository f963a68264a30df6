package io.smartpos.sample

import android.nfc.NfcAdapter
import android.nfc.Tag
import android.os.Bundle
import android.widget.TextView
import androidx.activity.ComponentActivity
import androidx.lifecycle.lifecycleScope
import io.smartpos.SmartPos
import io.smartpos.android.IsoDepCardReader
import io.smartpos.core.SmartPosException
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.launch
import kotlinx.coroutines.withContext

/** Tap a contactless card: the app runs application selection in Rust and shows the result. */
class MainActivity : ComponentActivity(), NfcAdapter.ReaderCallback {
    private lateinit var status: TextView

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        status = TextView(this).apply { textSize = 18f; setPadding(48, 48, 48, 48) }
        setContentView(status)
        status.text = "smartpos ${SmartPos.version}\nTap a card"
    }

    override fun onResume() {
        super.onResume()
        NfcAdapter.getDefaultAdapter(this)?.enableReaderMode(
            this, this, NfcAdapter.FLAG_READER_NFC_A or NfcAdapter.FLAG_READER_NFC_B or
                NfcAdapter.FLAG_READER_SKIP_NDEF_CHECK, null,
        ) ?: run { status.text = "No NFC on this device" }
    }

    override fun onPause() {
        NfcAdapter.getDefaultAdapter(this)?.disableReaderMode(this)
        super.onPause()
    }

    override fun onTagDiscovered(tag: Tag) {
        val reader = IsoDepCardReader.of(tag) ?: return
        lifecycleScope.launch {
            val text = withContext(Dispatchers.IO) {
                reader.use {
                    try {
                        val selection = SmartPos.openSession(it).use { session -> session.selectApplication() }
                        val aid = selection.aid.joinToString("") { b -> "%02X".format(b) }
                        "Selected ${selection.label ?: "(no label)"}\nAID $aid\n${selection.exchanges} APDUs"
                    } catch (e: SmartPosException) {
                        "Card error: ${e::class.simpleName}: ${e.message}"
                    }
                }
            }
            status.text = text
        }
    }
}
