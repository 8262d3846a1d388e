import Foundation
import GRDB
import Testing

@testable import X402
@testable import X402SQLite

@Suite("SQLite spend ledger")
struct SQLiteSpendLedgerTests {
    static let start = Date(timeIntervalSince1970: 1_800_000_000)

    static func record(_ dollars: String, wallet: String = "0xwallet", at date: Date = start) -> SpendRecord {
        let value = try! DollarAmount(dollars)
        return SpendRecord(
            wallet: wallet, createdAt: date, resource: "https://api.example/data", version: .v2, scheme: "exact", network: "eip155:84532",
            asset: "0x036CbD53842c5426634e7929541eC2318f3dCF7e", payTo: "0x209693Bc6afc0C5328bA36FaF03C514EF312287C",
            amount: String(describing: value.attodollars / UInt256.powerOfTen(12)!), value: value)
    }

    static func temporaryPath() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("spend-ledger-\(UUID().uuidString)/ledger.sqlite").path
    }

    static let budget = SpendBudget(limit: try! DollarAmount("1.00"))

    @Test("reserve within the budget, exactly at it, refuse one unit over; window edge; per wallet")
    func budgetRules() async throws {
        let ledger = try SQLiteSpendLedger()
        try await ledger.reserve(Self.record("0.60"), budget: Self.budget, now: Self.start)
        let later = Self.start.addingTimeInterval(3600)
        try await ledger.reserve(Self.record("0.40", at: later), budget: Self.budget, now: later)
        await #expect(
            throws: PaymentRefusal.exceedsBudget(
                amount: DollarAmount(attodollars: 1), spent: try DollarAmount("1"), budget: try DollarAmount("1"), window: SpendBudget.day)
        ) {
            var tiny = Self.record("0", at: later)
            tiny.value = DollarAmount(attodollars: 1)
            try await ledger.reserve(tiny, budget: Self.budget, now: later)
        }
        // Another wallet has its own budget.
        try await ledger.reserve(Self.record("1.00", wallet: "other", at: later), budget: Self.budget, now: later)
        // One second short of 24 h the first still counts; at 24 h it does not.
        let almost = Self.start.addingTimeInterval(86400 - 1)
        await #expect(throws: PaymentRefusal.self) { try await ledger.reserve(Self.record("0.01", at: almost), budget: Self.budget, now: almost) }
        let edge = Self.start.addingTimeInterval(86400)
        try await ledger.reserve(Self.record("0.60", at: edge), budget: Self.budget, now: edge)
        #expect(try await ledger.spent(by: "0xwallet", since: edge.addingTimeInterval(-86400)) == (try DollarAmount("1.00")))
    }

    @Test("records each attempt with its receipt; failed attempts release the budget; history newest first")
    func outcomesAndHistory() async throws {
        let path = Self.temporaryPath()
        let ledger = try SQLiteSpendLedger(path: path)
        let first = Self.record("0.50")
        let second = Self.record("0.50", at: Self.start.addingTimeInterval(1))
        try await ledger.reserve(first, budget: Self.budget, now: first.createdAt)
        try await ledger.reserve(second, budget: Self.budget, now: second.createdAt)
        let receipt = SettleResponse(success: true, transaction: "0xtx", network: "eip155:84532", payer: "0xpayer")
        try await ledger.markSettled(first.id, receipt: receipt, at: Self.start.addingTimeInterval(2))
        try await ledger.markFailed(second.id, reason: "invalid_exact_evm_payload_signature", at: Self.start.addingTimeInterval(2))
        let unknown = UUID(uuidString: "00000000-0000-0000-0000-000000000000")!
        await #expect(throws: SpendLedgerError.unknownRecord(unknown)) {
            try await ledger.markFailed(unknown, reason: "x", at: Self.start)
        }

        // Survives reopening.
        let reopened = try SQLiteSpendLedger(path: path)
        let history = try await reopened.history(wallet: "0xwallet", limit: 10)
        #expect(history.map(\.id) == [second.id, first.id])
        #expect(history[1].status == .settled)
        #expect(history[1].transaction == "0xtx")
        #expect(history[1].payer == "0xpayer")
        #expect(history[1].value == (try DollarAmount("0.5")))
        #expect(history[1].resource == "https://api.example/data")
        #expect(history[0].status == .failed)
        #expect(history[0].failureReason == "invalid_exact_evm_payload_signature")
        #expect(try await reopened.receipt(for: first.id) == receipt)
        #expect(try await reopened.spent(by: "0xwallet", since: Self.start.addingTimeInterval(-1)) == (try DollarAmount("0.5")))
        await #expect(throws: SpendLedgerError.duplicateRecord(first.id)) {
            try await reopened.reserve(first, budget: nil, now: Self.start)
        }
    }

    @Test("two ledger instances on the same file racing for the last of the budget never exceed it")
    func crossInstanceRace() async throws {
        let path = Self.temporaryPath()
        let a = try SQLiteSpendLedger(path: path)
        let b = try SQLiteSpendLedger(path: path)
        try await a.reserve(Self.record("0.70"), budget: Self.budget, now: Self.start)
        // $0.30 left; 30 attempts of $0.07 split over both instances → exactly 4 fit.
        let successes = await withTaskGroup(of: Bool.self) { group in
            for i in 0..<30 {
                let ledger = i.isMultiple(of: 2) ? a : b
                group.addTask {
                    do {
                        try await ledger.reserve(Self.record("0.07"), budget: Self.budget, now: Self.start)
                        return true
                    } catch {
                        return false
                    }
                }
            }
            return await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(successes == 4)
        let total = try await b.spent(by: "0xwallet", since: Self.start.addingTimeInterval(-1))
        #expect(total == (try DollarAmount("0.98")))
        #expect(total <= Self.budget.limit)
    }

    @Test("a payer on the SQLite ledger keeps its limits across instances")
    func payerAcrossRestarts() async throws {
        struct Signer: SchemeClient {
            var scheme: String { "exact" }
            func createPayload(for requirements: PaymentRequirements, context: PaymentContext) async throws -> SchemePayload {
                SchemePayload(payload: ["signature": "0x"])
            }
        }
        let path = Self.temporaryPath()
        var schemes = SchemeRegistry<any SchemeClient>()
        schemes.register(Signer(), networks: .evm)
        let required = AnyPaymentRequired.v2(
            PaymentRequired(
                resource: ResourceInfo(url: "https://x"),
                accepts: [
                    PaymentRequirements(
                        scheme: "exact", network: .baseSepolia, amount: "600000", asset: "0x036CbD53842c5426634e7929541eC2318f3dCF7e",
                        payTo: "0x209693Bc6afc0C5328bA36FaF03C514EF312287C", maxTimeoutSeconds: 60)
                ]))
        let policy = SpendingPolicy(budget: Self.budget)
        let first = Payer(schemes: schemes, wallet: "w", policy: policy, ledger: try SQLiteSpendLedger(path: path))
        _ = try await first.preparePayment(for: required)
        let restarted = Payer(schemes: schemes, wallet: "w", policy: policy, ledger: try SQLiteSpendLedger(path: path))
        await #expect(throws: PaymentRefusal.self) { try await restarted.preparePayment(for: required) }
        #expect(try await restarted.spentInWindow() == (try DollarAmount("0.6")))
    }

    /// Answers "unused" for every nonce except those listed as used; fails when told to.
    struct Reader: AuthorizationStateReader {
        let used: Set<String>
        var failing = false
        struct Down: Error {}
        func authorizationUse(network: String, asset: String, authorization: SignedAuthorization) async throws -> AuthorizationUse {
            if failing { throw Down() }
            return used.contains(authorization.nonce) ? .used : .unused
        }
    }

    @Test("unconfirmed attempts keep counting across reopening; reconciliation releases expired unused ones and settles used ones")
    func unconfirmedAndReconcile() async throws {
        let path = Self.temporaryPath()
        let ledger = try SQLiteSpendLedger(path: path)
        let records = (0..<3).map { Self.record("0.40", at: Self.start.addingTimeInterval(Double($0))) }
        for (i, r) in records.enumerated() {
            try await ledger.reserve(r, budget: nil, now: r.createdAt)
            try await ledger.recordAuthorization(
                r.id, SignedAuthorization(authorizer: "0xbuyer", nonce: "0x0\(i)", validBefore: Self.start.addingTimeInterval(600)))
            try await ledger.markUnconfirmed(r.id, reason: "payment rejected", transaction: i == 2 ? "0xhash" : nil, at: Self.start)
        }
        // Before the fix, a rejected payment was `failed` and the budget forgot it: here it still counts.
        let reopened = try SQLiteSpendLedger(path: path)
        #expect(try await reopened.spent(by: "0xwallet", since: Self.start.addingTimeInterval(-1)) == (try DollarAmount("1.20")))
        await #expect(throws: PaymentRefusal.self) {
            try await reopened.reserve(
                Self.record("0.01", at: Self.start.addingTimeInterval(10)), budget: Self.budget, now: Self.start.addingTimeInterval(10))
        }
        let history = try await reopened.history(wallet: nil, limit: 10)
        #expect(history.allSatisfy { $0.status == .unconfirmed })
        #expect(history.first { $0.id == records[2].id }?.transaction == "0xhash")
        #expect(history.first { $0.id == records[0].id }?.authorization?.nonce == "0x00")
        #expect(history.first { $0.id == records[0].id }?.authorization?.validBefore == Self.start.addingTimeInterval(600))

        #expect(try await reopened.expiredOpenAttempts(expiredBy: Self.start.addingTimeInterval(599), limit: 10).isEmpty)
        #expect(
            try await reopened.expiredOpenAttempts(expiredBy: Self.start.addingTimeInterval(600), limit: 2).map(\.id) == [
                records[0].id, records[1].id,
            ])

        let later = Self.start.addingTimeInterval(600 + 121)
        var down = Reader(used: [])
        down.failing = true
        let nothing = try await SpendReconciler(ledger: reopened, reader: down).reconcile(now: later)
        #expect(nothing.unreadable.count == 3)
        #expect(try await reopened.spent(by: "0xwallet", since: Self.start.addingTimeInterval(-1)) == (try DollarAmount("1.20")))

        let summary = try await SpendReconciler(ledger: reopened, reader: Reader(used: ["0x01"])).reconcile(now: later)
        #expect(Set(summary.released) == [records[0].id, records[2].id])
        #expect(summary.usedOnChain == [records[1].id])
        #expect(try await reopened.spent(by: "0xwallet", since: Self.start.addingTimeInterval(-1)) == (try DollarAmount("0.40")))
        let after = try await reopened.history(wallet: nil, limit: 10)
        #expect(after.first { $0.id == records[1].id }?.status == .settled)
        #expect(after.first { $0.id == records[0].id }?.status == .failed)
        #expect(try await reopened.expiredOpenAttempts(expiredBy: later, limit: 10).isEmpty)
    }

    @Test("a ledger file written by the v1 schema opens, keeps its rows and counts, and gains the new columns")
    func migratesV1File() async throws {
        let path = Self.temporaryPath()
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        // The v1 schema and migration record, as the previous release wrote them.
        let queue = try DatabaseQueue(path: path)
        try await queue.write { db in
            try db.execute(
                sql: """
                    CREATE TABLE grdb_migrations (identifier TEXT NOT NULL PRIMARY KEY);
                    INSERT INTO grdb_migrations VALUES ('spend ledger v1');
                    CREATE TABLE spend_ledger (
                        id TEXT PRIMARY KEY NOT NULL, wallet TEXT NOT NULL, created_at REAL NOT NULL, resource TEXT,
                        x402_version INTEGER NOT NULL, scheme TEXT NOT NULL, network TEXT NOT NULL, asset TEXT NOT NULL,
                        pay_to TEXT NOT NULL, amount TEXT NOT NULL, value_attodollars TEXT NOT NULL, status TEXT NOT NULL,
                        "transaction" TEXT, payer TEXT, failure_reason TEXT, receipt TEXT, completed_at REAL
                    );
                    CREATE INDEX spend_ledger_wallet_time ON spend_ledger(wallet, created_at);
                    INSERT INTO spend_ledger VALUES ('11111111-1111-1111-1111-111111111111', '0xwallet', 1800000000, 'https://old', 2, 'exact',
                        'eip155:84532', '0x036CbD53842c5426634e7929541eC2318f3dCF7e', '0x209693Bc6afc0C5328bA36FaF03C514EF312287C', '250000',
                        '250000000000000000', 'pending', NULL, NULL, NULL, NULL, NULL);
                    """)
        }
        try queue.close()
        let ledger = try SQLiteSpendLedger(path: path)
        let old = try #require(try await ledger.history(wallet: nil, limit: 10).first)
        #expect(old.status == .pending)
        #expect(old.authorization == nil)
        #expect(old.value == (try DollarAmount("0.25")))
        #expect(try await ledger.spent(by: "0xwallet", since: Self.start.addingTimeInterval(-1)) == (try DollarAmount("0.25")))
        // Never reconciled (no authorization): it keeps counting.
        #expect(try await ledger.expiredOpenAttempts(expiredBy: .distantFuture, limit: 10).isEmpty)
        let fresh = Self.record("0.10", at: Self.start.addingTimeInterval(5))
        try await ledger.reserve(fresh, budget: Self.budget, now: fresh.createdAt)
        try await ledger.recordAuthorization(fresh.id, SignedAuthorization(authorizer: "0xb", nonce: "0x01", validBefore: Self.start))
        #expect(try await ledger.expiredOpenAttempts(expiredBy: Self.start, limit: 10).map(\.id) == [fresh.id])
    }
}
