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
import kotlinx.coroutines.launch

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
            // A demo tap with the demo terminal and the public EMVCo test CA keys: live cards
            // run the kernel, nothing goes to a host.
            val text = reader.use {
                try {
                    SmartPos.demoKernel().use { kernel ->
                        val r = kernel.tapFast(it, kernel.request(amount = 100))
                        "${r.outcomeName} (${r.kernel ?: "-"})\n${r.applicationLabel ?: r.aid ?: ""}\n" +
                            "${r.panMasked ?: ""}\nTVR ${r.tvr}\n${r.exchanges} APDUs"
                    }
                } catch (e: SmartPosException) {
                    "Card error: ${e::class.simpleName}: ${e.message}"
                }
            }
            status.text = text
        }
    }
}
