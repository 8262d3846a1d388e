import Foundation
import Testing
import X402
import X402SQLite
import X402TestSupport

@Suite struct SQLitePaymentStateStoreTests {
    static func temporaryPath() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("x402-state-\(UUID().uuidString)/state.sqlite").path
    }

    /// Two stores (two connection pools) on one file, as two processes would have.
    @Test(arguments: PaymentStateStoreCheck.allCases)
    func behavesLikeTheInMemoryStore(_ check: PaymentStateStoreCheck) async throws {
        let path = Self.temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: URL(fileURLWithPath: path).deletingLastPathComponent().path) }
        let stores = PaymentStateStorePair(first: try SQLitePaymentStateStore(path: path), second: try SQLitePaymentStateStore(path: path))
        try await check.run(on: stores)
    }

    @Test(arguments: PaymentStateStoreCheck.allCases)
    func inMemoryDatabase(_ check: PaymentStateStoreCheck) async throws {
        let store = try SQLitePaymentStateStore()
        try await check.run(on: PaymentStateStorePair(first: store, second: store))
    }

    @Test func recordsSurviveReopening() async throws {
        let path = Self.temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: URL(fileURLWithPath: path).deletingLastPathComponent().path) }
        let id = PaymentStateStoreCheck.freshIdentity()
        do {
            let store = try SQLitePaymentStateStore(path: path)
            #expect(try await store.claim(id, lease: .seconds(60), now: Date()) == .claimed)
            try await store.update(id, to: .settled, payer: "0xPayer", transaction: "0xTx", now: Date())
        }
        let reopened = try SQLitePaymentStateStore(path: path)
        guard case .rejected(let record) = try await reopened.claim(id, lease: .seconds(60), now: Date()) else {
            Issue.record("a settled payment was claimable after reopening")
            return
        }
        #expect(record.transaction == "0xTx")
    }

    @Test func oldFinishedRecordsArePruned() async throws {
        let store = try SQLitePaymentStateStore(retention: .seconds(60))
        let old = PaymentStateStoreCheck.freshIdentity()
        let t0 = Date(timeIntervalSince1970: 1_900_000_000)
        #expect(try await store.claim(old, lease: .seconds(5), now: t0) == .claimed)
        try await store.update(old, to: .settled, payer: nil, transaction: "0x1", now: t0)
        // The first claim after more than a minute prunes records beyond the retention.
        #expect(try await store.claim(PaymentStateStoreCheck.freshIdentity(), lease: .seconds(5), now: t0.addingTimeInterval(120)) == .claimed)
        #expect(try await store.record(for: old) == nil)
    }
}
