package io.smartpos.test

import io.smartpos.PosDevices
import io.smartpos.core.CardPresentation
import io.smartpos.core.OfflinePinEntry
import io.smartpos.core.PosCardReader
import io.smartpos.core.PosIndicators
import io.smartpos.core.PosOnlinePin
import io.smartpos.core.PosPinPad
import io.smartpos.core.PosPrinter
import io.smartpos.core.PosQrScanner
import io.smartpos.core.SimulatedCard
import io.smartpos.core.SmartPosException
import java.util.Collections
import java.util.concurrent.atomic.AtomicInteger

/**
 * The simulated device set of the host-JVM tests: a contact reader that inserts a fresh
 * virtual card of smartpos-sim (profile [profile]) at every `detect` — or, when
 * [contactlessProfile] is set and the terminal opened the field, taps a fresh contactless
 * virtual card or phone of that profile — a PIN pad with fixed digits, a printer and indicators
 * that record, a scanner that reads [walletCode] (nothing to scan when `null`).
 * [onApdu] runs before every APDU with its index (cancellation and failure tests).
 */
class SimulatedDevices(var profile: String = "visa-dda-offline-pin", var pin: String? = "1234") {
    val apdus = AtomicInteger()
    val detects = AtomicInteger()
    val printed: MutableList<List<String>> = Collections.synchronizedList(mutableListOf())
    val printedEscpos: MutableList<ByteArray?> = Collections.synchronizedList(mutableListOf())
    @Volatile var contactlessProfile: String? = null
    @Volatile var walletCode: String? = null
    val scans = AtomicInteger()
    /** Every distinct Java thread object an APDU callback ran on (identity). */
    val apduThreads: MutableSet<Thread> = Collections.synchronizedSet(Collections.newSetFromMap(java.util.IdentityHashMap()))
    val leds: MutableList<String> = Collections.synchronizedList(mutableListOf())
    @Volatile var onApdu: (Int) -> Unit = {}
    @Volatile private var card: SimulatedCard? = null

    val reader = object : PosCardReader {
        override fun detect(contact: Boolean, contactless: Boolean, magstripe: Boolean, timeoutMs: ULong): CardPresentation {
            detects.incrementAndGet()
            contactlessProfile?.let { tap ->
                if (contactless) {
                    card = SimulatedCard.contactless(tap)
                    return CardPresentation.Contactless
                }
            }
            // Only a chip card is in this reader: asked for the stripe alone (fallback), no card.
            if (!contact) return CardPresentation.NoCard
            card = SimulatedCard.contact(profile)
            return CardPresentation.Chip
        }

        override fun transceive(apdu: ByteArray): ByteArray {
            apduThreads += Thread.currentThread()
            onApdu(apdus.getAndIncrement())
            return (card ?: throw SmartPosException.Transport("no card")).transceive(apdu)
        }

        override fun waitForRemoval(timeoutMs: ULong) {}
    }

    val pinPad = object : PosPinPad {
        override fun onlinePin(pan: String, amount: ULong): PosOnlinePin = PosOnlinePin.Bypassed
        override fun offlinePin(triesLeft: UByte?): OfflinePinEntry =
            pin?.let { OfflinePinEntry.Entered(it.toByteArray()) } ?: OfflinePinEntry.Bypassed
    }

    val printer = object : PosPrinter {
        override fun print(lines: List<String>, escpos: ByteArray?) {
            printed += lines
            printedEscpos += escpos
        }
    }

    val scanner = object : PosQrScanner {
        override fun scan(timeoutMs: ULong): String {
            scans.incrementAndGet()
            return walletCode ?: throw SmartPosException.Device("QR scanner", "no camera in the test")
        }
    }

    var indicators: PosIndicators = object : PosIndicators {
        override fun beep(success: Boolean) {}
        override fun leds(status: String) {
            leds += status
        }
    }

    fun devices() = PosDevices(reader, pinPad, printer, scanner, indicators)
}
