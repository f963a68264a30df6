package io.smartpos.test

import io.smartpos.PosDevices
import io.smartpos.SmartPosTerminal
import io.smartpos.core.HostSimulator
import io.smartpos.core.KeyStoreCallback
import io.smartpos.core.PosAction
import io.smartpos.core.PosCredentials
import io.smartpos.core.PosJournalKeys
import io.smartpos.core.PosKeyAlgorithm
import io.smartpos.core.PosOperatorPolicy
import io.smartpos.core.OfflinePinEntry
import io.smartpos.core.PosOnlinePin
import io.smartpos.core.PosOperators
import io.smartpos.core.PosPinPad
import io.smartpos.core.PosRole
import io.smartpos.core.PosSecretKey
import io.smartpos.core.PosStatus
import io.smartpos.core.PosWorkingKey
import io.smartpos.core.PosWorkingKeyType
import io.smartpos.core.SmartPosException
import io.smartpos.core.SupervisorCallback
import io.smartpos.core.simulatedMasterKey
import io.smartpos.core.writeSimulatedConfig
import kotlinx.coroutines.runBlocking
import org.junit.After
import org.junit.Assert.assertArrayEquals
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertNotNull
import org.junit.Assert.assertNull
import org.junit.Assert.assertTrue
import org.junit.Assert.fail
import org.junit.Before
import org.junit.Test
import java.io.File
import java.nio.file.Files
import java.security.SecureRandom
import java.util.Collections
import java.util.concurrent.ConcurrentLinkedQueue
import java.util.concurrent.atomic.AtomicInteger

/** The device's key store as an app would write it: keys in memory, calls counted. */
class MemoryKeyStore(masterKey: ByteArray?) : KeyStoreCallback {
    @Volatile var master: PosSecretKey? = masterKey?.let { PosSecretKey(PosKeyAlgorithm.TDES2, it) }
    val working: MutableMap<PosWorkingKeyType, PosSecretKey> = Collections.synchronizedMap(mutableMapOf())
    @Volatile var installedAt: Long? = null
    private val journal = PosJournalKeys(ByteArray(32).also { SecureRandom().nextBytes(it) }, ByteArray(32).also { SecureRandom().nextBytes(it) })
    val masterReads = AtomicInteger()
    val erased = AtomicInteger()
    val workingInstalls = AtomicInteger()

    override fun masterKey(): PosSecretKey? {
        masterReads.incrementAndGet()
        return master
    }

    override fun installMasterKey(key: PosSecretKey) {
        master = key
        working.clear()
        installedAt = null
    }

    override fun workingKey(keyType: PosWorkingKeyType): PosSecretKey? = working[keyType]

    override fun installWorkingKeys(keys: List<PosWorkingKey>, installedAtMs: Long) {
        workingInstalls.incrementAndGet()
        working.clear()
        keys.forEach { working[it.keyType] = it.key }
        installedAt = installedAtMs
    }

    override fun workingKeysInstalledAtMs(): Long? = installedAt

    override fun journalKeys(): PosJournalKeys = journal

    override fun eraseAll() {
        erased.incrementAndGet()
        master = null
        working.clear()
        installedAt = null
    }
}

/** The supervisor dialog: answers with the queued credentials (`null`: cancelled), records the questions. */
class QueuedSupervisor : SupervisorCallback {
    private class Answer(val credentials: PosCredentials?)
    private val answers = ConcurrentLinkedQueue<Answer>()
    val asked: MutableList<Pair<PosRole, PosAction>> = Collections.synchronizedList(mutableListOf())

    fun answer(id: String?, password: String = "") {
        answers += Answer(id?.let { PosCredentials(it, password.toByteArray()) })
    }

    override fun credentials(role: PosRole, action: PosAction): PosCredentials? {
        asked += role to action
        return answers.poll()?.credentials
    }
}

/**
 * A terminal whose keys live in a Kotlin key store (KeyStoreCallback) and whose supervisor
 * actions go through a Kotlin supervisor dialog checked against the operator store (argon2id,
 * lock-out after 3 wrong passwords), over HostSimulator on loopback.
 */
class SecureTerminalTest {
    private lateinit var host: HostSimulator
    private lateinit var dir: File
    private lateinit var devices: SimulatedDevices
    private lateinit var keys: MemoryKeyStore
    private lateinit var operators: PosOperators
    private lateinit var supervisor: QueuedSupervisor
    private lateinit var terminal: SmartPosTerminal

    // A light argon2id cost so the test suite stays quick; the default policy is m = 19 MiB, t = 2.
    private val policy = PosOperatorPolicy(3u, 6u, 256u, 1u)

    @Before
    fun open() {
        host = HostSimulator.start()
        dir = Files.createTempDirectory("smartpos-jvm-secure").toFile()
        writeSimulatedConfig(dir.path, host.address())
        devices = SimulatedDevices()
        keys = MemoryKeyStore(simulatedMasterKey())
        operators = PosOperators.openWithPolicy(File(dir, "operators.db").path, policy)
        assertTrue(operators.isEmpty())
        operators.bootstrapAdmin("admin", "Admin", "admin-pass".toByteArray())
        operators.addOperator("admin", "admin-pass".toByteArray(), "sup1", "Supervisor", PosRole.SUPERVISOR, "sup-pass".toByteArray())
        operators.addOperator("admin", "admin-pass".toByteArray(), "cash1", "Cashier", PosRole.CASHIER, "cash-pass".toByteArray())
        supervisor = QueuedSupervisor()
        terminal = SmartPosTerminal.openSecured(dir, File(dir, "journal.db"), keys, operators, supervisor, devices.devices())
    }

    @After
    fun close() {
        terminal.close()
        operators.close()
        host.stop()
        host.close()
        dir.deleteRecursively()
    }

    private inline fun <reified E : SmartPosException> expect(noinline block: suspend () -> Unit): E {
        try {
            runBlocking { block() }
        } catch (e: SmartPosException) {
            if (e is E) return e
            fail("expected ${E::class.simpleName}, got ${e::class.simpleName}: ${e.message}")
        }
        fail("expected ${E::class.simpleName}, nothing was thrown")
        throw IllegalStateException("unreachable")
    }

    @Test
    fun kotlinKeyStoreDrivesASaleAndTamperErasesIt() = runBlocking {
        val signOn = terminal.signOn()
        assertTrue(signOn.batchNo >= 1u)
        // The sign-on's PIN, MAC and data keys went to the Kotlin store, with their time.
        assertEquals(1, keys.workingInstalls.get())
        assertEquals(setOf(PosWorkingKeyType.PIN, PosWorkingKeyType.MAC, PosWorkingKeyType.DATA), keys.working.keys.toSet())
        assertEquals(16, keys.working[PosWorkingKeyType.MAC]!!.value.size)
        assertEquals(signOn.keysInstalledAtMs, keys.installedAt)
        val sale = terminal.sale(1000, "cash1")
        assertEquals(PosStatus.APPROVED, sale.status)
        assertTrue("the terminal read its TMK from the Kotlin store", keys.masterReads.get() > 0)

        terminal.tamper()
        assertEquals(1, keys.erased.get())
        assertNull(keys.master)
        assertTrue(keys.working.isEmpty())
        assertTrue(terminal.isTampered())
        val blocked = expect<SmartPosException.KeyMissing> { terminal.sale(1000, "cash1") }
        assertTrue(blocked.reason, blocked.reason.contains("tamper"))

        // Key loading needs an admin: the cashier is refused, the admin lifts the block.
        supervisor.answer("sup1", "sup-pass")
        val refused = expect<SmartPosException.NotAuthorised> {
            terminal.loadMasterKey(PosSecretKey(PosKeyAlgorithm.TDES2, simulatedMasterKey()))
        }
        assertTrue(refused.reason, refused.reason.contains("Admin"))
        assertTrue(terminal.isTampered())
        supervisor.answer("admin", "admin-pass")
        terminal.loadMasterKey(PosSecretKey(PosKeyAlgorithm.TDES2, simulatedMasterKey()))
        assertArrayEquals(simulatedMasterKey(), keys.master!!.value)
        assertFalse(terminal.isTampered())
        // Working keys were erased: the next sale signs on again by itself.
        assertEquals(PosStatus.APPROVED, terminal.sale(1000, "cash1").status)
        assertEquals(2, keys.workingInstalls.get())
        assertEquals(PosRole.ADMIN to PosAction.KEY_LOADING, supervisor.asked.last())
    }

    @Test
    fun aKeyStoreWithoutMasterKeyIsKeyMissing() = runBlocking {
        keys.master = null
        val e = expect<SmartPosException.KeyMissing> { terminal.sale(1000, "cash1") }
        assertTrue(e.reason, e.reason.contains("master key"))
        // A key store that throws is a typed error too, not a crash.
        keys.master = PosSecretKey(PosKeyAlgorithm.TDES2, ByteArray(5))
        expect<SmartPosException.KeyMissing> { terminal.sale(1000, "cash1") }
        Unit
    }

    @Test
    fun aMasterKeyOfTheWrongLengthIsRefusedBeforeTheAdminIsAsked() = runBlocking {
        val e = expect<SmartPosException.InvalidInput> {
            terminal.loadMasterKey(PosSecretKey(PosKeyAlgorithm.TDES2, ByteArray(10)))
        }
        assertEquals("key", e.field)
        assertTrue("nobody was asked", supervisor.asked.isEmpty())
        assertArrayEquals("the stored key is untouched", simulatedMasterKey(), keys.master!!.value)
    }

    @Test
    fun journalKeysOfTheWrongLengthAreRefusedAtOpen() {
        val short = object : KeyStoreCallback by MemoryKeyStore(simulatedMasterKey()) {
            override fun journalKeys() = PosJournalKeys(ByteArray(16), ByteArray(32))
        }
        val e = expect<SmartPosException.KeyMissing> {
            SmartPosTerminal.openSecured(dir, File(dir, "j2.db"), short, operators, supervisor, devices.devices()).close()
        }
        assertTrue(e.reason, e.reason.contains("journal hash key has 16 bytes"))
    }

    /**
     * A PIN pad that enciphers the online PIN as the device's secure PIN pad would: an ISO 9564-1
     * §9.1 format 0 block (PIN field XOR PAN field) under the PIN key (TPK) the terminal stored
     * in the Kotlin key store at sign-on, TDEA ECB.
     */
    private inner class KeyStorePinPad(private val pin: String) : PosPinPad {
        override fun onlinePin(pan: String, amount: ULong): PosOnlinePin {
            val tpk = keys.working[PosWorkingKeyType.PIN] ?: throw SmartPosException.KeyMissing("no PIN key")
            val pinField = ("0" + pin.length.toString(16) + pin).padEnd(16, 'F')
            val panField = "0000" + pan.dropLast(1).takeLast(12)
            val clear = ByteArray(8) { i ->
                (pinField.substring(2 * i, 2 * i + 2).toInt(16) xor panField.substring(2 * i, 2 * i + 2).toInt(16)).toByte()
            }
            val k = tpk.value
            val key24 = k.copyOfRange(0, 16) + k.copyOfRange(0, 8)
            val cipher = javax.crypto.Cipher.getInstance("DESede/ECB/NoPadding")
            cipher.init(javax.crypto.Cipher.ENCRYPT_MODE, javax.crypto.spec.SecretKeySpec(key24, "DESede"))
            val block = cipher.doFinal(clear)
            clear.fill(0)
            key24.fill(0)
            return PosOnlinePin.Entered(block, null)
        }

        override fun offlinePin(triesLeft: UByte?): OfflinePinEntry = OfflinePinEntry.Entered(pin.toByteArray())
    }

    @Test
    fun balanceInquiryWithAnOnlinePinEncipheredUnderTheKotlinStoresPinKey() = runBlocking {
        terminal.close()
        // The UnionPay prepaid test card: online PIN 123456, balance 1000.00 at the host.
        devices.profile = "up-cda-online-pin"
        val d = devices
        terminal = SmartPosTerminal.openSecured(
            dir, File(dir, "journal.db"), keys, operators, supervisor,
            PosDevices(d.reader, KeyStorePinPad("123456"), d.printer, d.scanner, d.indicators),
        )
        terminal.signOn()
        val inquiry = terminal.balanceInquiry("cash1")
        assertEquals(PosStatus.APPROVED, inquiry.status)
        assertEquals("balance_inquiry", inquiry.kind)
        assertEquals(100_000uL, inquiry.balance)
        // A wrong PIN is declined by the issuer (55), typed.
        terminal.close()
        terminal = SmartPosTerminal.openSecured(
            dir, File(dir, "journal.db"), keys, operators, supervisor,
            PosDevices(d.reader, KeyStorePinPad("654321"), d.printer, d.scanner, d.indicators),
        )
        val wrong = expect<SmartPosException.Declined> { terminal.balanceInquiry("cash1") }
        assertEquals("55", wrong.responseCode)
    }

    @Test
    fun voidNeedsTheSupervisorsPassword() = runBlocking {
        terminal.signOn()
        val sale = terminal.sale(1200, "cash1")
        supervisor.answer("sup1", "not-the-password")
        val wrong = expect<SmartPosException.NotAuthorised> { terminal.void(sale.txnId) }
        assertTrue(wrong.reason, wrong.reason.contains("wrong password"))
        assertEquals(PosRole.SUPERVISOR to PosAction.VOID, supervisor.asked.single())
        // Cancelled dialog: not authorised, nothing sent.
        supervisor.answer(null)
        val cancelled = expect<SmartPosException.NotAuthorised> { terminal.void(sale.txnId) }
        assertTrue(cancelled.reason, cancelled.reason.contains("cancelled"))
        // A cashier's own password does not approve a void.
        supervisor.answer("cash1", "cash-pass")
        val cashier = expect<SmartPosException.NotAuthorised> { terminal.void(sale.txnId) }
        assertTrue(cashier.reason, cashier.reason.contains("Supervisor"))
        val before = host.requestCount()
        supervisor.answer("sup1", "sup-pass")
        val void = terminal.void(sale.txnId)
        assertEquals(PosStatus.APPROVED, void.status)
        assertEquals("void", void.kind)
        assertEquals("the journal records the supervisor who approved", "sup1", void.operatorId)
        assertTrue(host.requestCount() > before)
        // The successful sign-in reset the failure count.
        assertEquals(0u, operators.operator("sup1").failedAttempts)
    }

    @Test
    fun threeWrongPasswordsLockTheSupervisorUntilAnAdminUnlocks() = runBlocking {
        terminal.signOn()
        val sale = terminal.sale(1500, "cash1")
        repeat(2) {
            supervisor.answer("sup1", "guess-$it")
            expect<SmartPosException.NotAuthorised> { terminal.void(sale.txnId) }
        }
        assertEquals(2u, operators.operator("sup1").failedAttempts)
        supervisor.answer("sup1", "guess-3")
        expect<SmartPosException.OperatorLocked> { terminal.void(sale.txnId) }
        assertTrue(operators.operator("sup1").locked)
        // Locked: even the right password is refused.
        supervisor.answer("sup1", "sup-pass")
        expect<SmartPosException.OperatorLocked> { terminal.void(sale.txnId) }
        // Only an admin unlocks (a supervisor cannot).
        val e = try {
            operators.unlock("sup1", "sup-pass".toByteArray(), "sup1"); null
        } catch (e: SmartPosException) {
            e
        }
        assertTrue("$e", e is SmartPosException.OperatorLocked)
        operators.unlock("admin", "admin-pass".toByteArray(), "sup1")
        assertFalse(operators.operator("sup1").locked)
        supervisor.answer("sup1", "sup-pass")
        assertEquals(PosStatus.APPROVED, terminal.void(sale.txnId).status)
    }

    @Test
    fun settlementAsksTheSupervisorAndReportsTheBatch() = runBlocking {
        terminal.signOn()
        terminal.sale(2000, "cash1")
        terminal.sale(3000, "cash1")
        supervisor.answer("sup1", "sup-pass")
        val report = terminal.settleWithReport()
        assertEquals(PosRole.SUPERVISOR to PosAction.SETTLEMENT, supervisor.asked.last())
        assertEquals(2u, report.settlement.salesCount)
        assertEquals(5000L, report.settlement.salesAmount)
        assertTrue(report.journalMatchesSent)
        assertEquals(2u, report.totals.total.salesCount)
        assertEquals(5000L, report.totals.total.net)
        assertEquals("cash1", report.totals.byOperator.single().group)
        assertTrue(report.text, report.text.contains("SETTLEMENT REPORT"))
        assertNotNull(report.totals.closedAtMs)
    }
}
