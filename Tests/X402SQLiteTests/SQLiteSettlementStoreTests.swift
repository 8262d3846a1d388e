import Foundation
import Testing
import X402
import X402SQLite

@Suite("SQLite settlement store")
struct SQLiteSettlementStoreTests {
    static func temporaryPath() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("x402-sqlite-\(UUID().uuidString)/settlements.sqlite").path
    }

    static func entry(_ id: String, _ status: SettlementJournalEntry.Status, at seconds: Double) -> SettlementJournalEntry {
        SettlementJournalEntry(
            id: id, network: "eip155:84532", scheme: "exact", status: status, createdAt: Date(timeIntervalSince1970: seconds),
            updatedAt: Date(timeIntervalSince1970: seconds))
    }

    @Test("journal entries move received → submitted → confirmed and read back exactly")
    func lifecycle() async throws {
        let store = try SQLiteSettlementStore()
        var e = Self.entry("a", .received, at: 1000)
        try await store.save(e)
        #expect(try await store.entry(id: "a") == e)
        e.status = .submitted
        e.transaction = "0x" + String(repeating: "12", count: 32)
        e.schemeKey = "eip155:84532/0xtoken/0xpayer/0xnonce"
        e.updatedAt = Date(timeIntervalSince1970: 1001)
        try await store.save(e)
        e.status = .confirmed
        e.payer = "0xPayer"
        e.response = SettleResponse(success: true, transaction: e.transaction!, network: "eip155:84532", payer: "0xPayer")
        try await store.save(e)
        let read = try #require(try await store.entry(id: "a"))
        #expect(read == e)
        #expect(read.isFinal)
        #expect(read.createdAt == Date(timeIntervalSince1970: 1000))
        #expect(try await store.entry(id: "missing") == nil)
    }

    @Test("open entries are listed oldest first, by status")
    func listing() async throws {
        let store = try SQLiteSettlementStore()
        try await store.save(Self.entry("late", .submitted, at: 30))
        try await store.save(Self.entry("early", .received, at: 10))
        try await store.save(Self.entry("done", .confirmed, at: 20))
        #expect(try await store.entries(in: [.received, .submitted]).map(\.id) == ["early", "late"])
        #expect(try await store.entries(in: [.confirmed]).map(\.id) == ["done"])
        #expect(try await store.entries(in: []).isEmpty)
    }

    @Test("a file database survives reopening (journal and scheme records)")
    func durability() async throws {
        let path = Self.temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: URL(fileURLWithPath: path).deletingLastPathComponent().path) }
        do {
            let store = try SQLiteSettlementStore(path: path)
            try await store.save(Self.entry("x", .submitted, at: 5))
            try await store.saveSchemeRecord(SchemeSettlementRow(key: "k", transaction: "0xabc", status: "pending", updatedAt: 5))
        }
        let reopened = try SQLiteSettlementStore(path: path)
        #expect(try await reopened.entry(id: "x")?.status == .submitted)
        var row = try #require(try await reopened.schemeRecord(key: "k"))
        #expect(row == SchemeSettlementRow(key: "k", transaction: "0xabc", status: "pending", updatedAt: 5))
        row.status = "failed"
        row.reason = "transaction_failed"
        row.message = "reverted"
        try await reopened.saveSchemeRecord(row)
        #expect(try await reopened.schemeRecord(key: "k") == row)
        try await reopened.removeSchemeRecord(key: "k")
        #expect(try await reopened.schemeRecord(key: "k") == nil)
    }

    @Test("concurrent writers of one entry leave one row")
    func concurrentUpserts() async throws {
        let store = try SQLiteSettlementStore(path: Self.temporaryPath())
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 0..<20 {
                group.addTask { try await store.save(Self.entry("same", i.isMultiple(of: 2) ? .received : .submitted, at: Double(i))) }
            }
            try await group.waitForAll()
        }
        #expect(try await store.entries(in: Set(SettlementJournalEntry.Status.allCases)).count == 1)
    }
}
