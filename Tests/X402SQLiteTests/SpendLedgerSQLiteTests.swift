import Foundation
import Testing

@testable import X402
@testable import X402SQLite

@Suite("SQLite spend ledger")
struct SpendLedgerSQLiteTests {
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
        await #expect(throws: PaymentRefusal.exceedsBudget(amount: DollarAmount(attodollars: 1), spent: try DollarAmount("1"), budget: try DollarAmount("1"), window: SpendBudget.day)) {
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
        let required = AnyPaymentRequired.v2(PaymentRequired(resource: ResourceInfo(url: "https://x"), accepts: [
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
}
