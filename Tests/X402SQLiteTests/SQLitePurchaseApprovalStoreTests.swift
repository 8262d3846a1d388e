import Foundation
import Testing
import X402

@testable import X402SQLite

@Suite("SQLite approval queue")
struct SQLitePurchaseApprovalStoreTests {
    static let start = Date(timeIntervalSince1970: 1_800_000_000)

    static func purchase(
        _ id: String = PurchaseApprovals.randomID(), status: PurchaseStatus = .approved, expires: TimeInterval = 600
    )
        -> PendingPurchase
    {
        PendingPurchase(
            fetchID: id, status: status, wallet: "0xwallet", url: "https://api.example/data?q=1", method: "GET", host: "api.example", version: .v2,
            terms: ApprovedTerms(
                scheme: "exact", network: "eip155:84532", asset: "0x036CbD53842c5426634e7929541eC2318f3dCF7e",
                payTo: "0x209693Bc6afc0C5328bA36FaF03C514EF312287C", maxAmount: 500_000),
            decimals: 6, symbol: "USDC", value: try! DollarAmount("0.5"), reasons: ["$0.50 is above the approval threshold of $0.10"],
            createdAt: start, expiresAt: start.addingTimeInterval(expires))
    }

    @Test("create, read back every field, list by status newest first, duplicate refused")
    func roundTrip() async throws {
        let store = try SQLitePurchaseApprovalStore()
        let first = Self.purchase("ft_a", status: .awaitingApproval)
        var second = Self.purchase("ft_b", status: .preApproved)
        second.createdAt = Self.start.addingTimeInterval(1)
        second.updatedAt = second.createdAt
        try await store.create(first)
        try await store.create(second)
        #expect(try await store.purchase("ft_a") == first)
        #expect(try await store.purchase("ft_missing") == nil)
        #expect(try await store.purchases(statuses: nil, limit: 10).map(\.fetchID) == ["ft_b", "ft_a"])
        #expect(try await store.purchases(statuses: [.awaitingApproval], limit: 10).map(\.fetchID) == ["ft_a"])
        #expect(try await store.purchases(statuses: [], limit: 10).isEmpty)
        await #expect(throws: PurchaseApprovalError.duplicate("ft_a")) { try await store.create(first) }
    }

    @Test("transitions are compare-and-set, recorded as events; expiry guards claims; expire() moves the due ones")
    func transitions() async throws {
        let store = try SQLitePurchaseApprovalStore()
        try await store.create(Self.purchase("ft_a", status: .awaitingApproval))
        let later = Self.start.addingTimeInterval(10)
        let approved = try await store.transition(
            "ft_a", from: [.awaitingApproval], to: .approved, at: later, note: "ok", transaction: nil, onlyBefore: later)
        #expect(approved?.status == .approved)
        #expect(approved?.note == "ok")
        #expect(approved?.updatedAt == later)
        // The same change again does nothing.
        #expect(
            try await store.transition("ft_a", from: [.awaitingApproval], to: .approved, at: later, note: nil, transaction: nil, onlyBefore: nil)
                == nil)
        // A claim after the expiry fails; before it, wins once.
        #expect(try await store.claimForPayment("ft_a", at: Self.start.addingTimeInterval(600)) == nil)
        #expect(try await store.claimForPayment("ft_a", at: later)?.status == .paying)
        #expect(try await store.claimForPayment("ft_a", at: later) == nil)
        let paid = try await store.transition("ft_a", from: [.paying], to: .paid, at: later, note: "paid", transaction: "0xabc", onlyBefore: nil)
        #expect(paid?.transaction == "0xabc")
        let events = try await store.events(fetchID: "ft_a", limit: 10)
        #expect(events.map(\.to) == [.paid, .paying, .approved, .awaitingApproval])
        #expect(events.map(\.from) == [.paying, .approved, .awaitingApproval, nil])

        try await store.create(Self.purchase("ft_b", status: .awaitingApproval, expires: 60))
        try await store.create(Self.purchase("ft_c", status: .preApproved, expires: 120))
        #expect(try await store.expire(dueBy: Self.start.addingTimeInterval(60)).map(\.fetchID) == ["ft_b"])
        #expect(try await store.purchase("ft_b")?.status == .expired)
        #expect(try await store.purchase("ft_c")?.status == .preApproved)
        #expect(try await store.purchase("ft_a")?.status == .paid)  // closed purchases never expire
    }

    @Test("a payment is attached only while paying, read back by another connection; a file without the column gains it")
    func attachedPayment() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("approvals-\(UUID().uuidString)/ledger.sqlite").path
        defer { try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent) }
        let a = try SQLitePurchaseApprovalStore(path: path)
        try await a.create(Self.purchase("ft_pay"))
        let record = UUID()
        #expect(try await a.attachSpendRecord("ft_pay", record: record) == false)  // approved, not paying
        _ = try #require(try await a.claimForPayment("ft_pay", at: Self.start.addingTimeInterval(1)))
        #expect(try await a.attachSpendRecord("ft_pay", record: record))
        #expect(try await a.attachSpendRecord("ft_missing", record: record) == false)
        let b = try SQLitePurchaseApprovalStore(path: path)
        #expect(try await b.purchase("ft_pay")?.spendRecord == record)

        // A queue file written before the column existed: opening it adds the column, rows keep their data.
        let old = FileManager.default.temporaryDirectory.appendingPathComponent("approvals-old-\(UUID().uuidString).sqlite").path
        defer { try? FileManager.default.removeItem(atPath: old) }
        let c = try SQLitePurchaseApprovalStore(path: old)
        try await c.create(Self.purchase("ft_old"))
        try await c.dropSpendRecordColumnForTesting()
        let reopened = try SQLitePurchaseApprovalStore(path: old)
        #expect(try await reopened.purchase("ft_old")?.fetchID == "ft_old")
        #expect(try await reopened.purchase("ft_old")?.spendRecord == nil)
    }

    @Test("two connections to one file racing for one approval: exactly one claims it, every time")
    func racingConnections() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("approvals-\(UUID().uuidString)/ledger.sqlite").path
        defer { try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent) }
        // The ledger and the queue share the file, as in the CLI.
        _ = try SQLiteSpendLedger(path: path)
        let a = try SQLitePurchaseApprovalStore(path: path)
        let b = try SQLitePurchaseApprovalStore(path: path)
        for round in 0..<20 {
            let id = "ft_race\(round)"
            try await a.create(Self.purchase(id))
            let now = Self.start.addingTimeInterval(1)
            let wins = await withTaskGroup(of: Bool.self) { group in
                for store in [a, b, a, b] {
                    group.addTask { (try? await store.claimForPayment(id, at: now)) != nil }
                }
                return await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(wins == 1, "round \(round)")
            #expect(try await b.events(fetchID: id, limit: 10).filter { $0.to == .paying }.count == 1)
        }
    }

    @Test("per-host limit across two ledger connections: racers never exceed it")
    func hostBudgetAcrossConnections() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("ledger-\(UUID().uuidString)/ledger.sqlite").path
        defer { try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent) }
        let first = try SQLiteSpendLedger(path: path)
        let second = try SQLiteSpendLedger(path: path)
        let hostBudget = HostBudget(host: "api.example", budget: SpendBudget(limit: try DollarAmount("0.30")))
        let now = Self.start
        let accepted = await withTaskGroup(of: Bool.self) { group in
            for i in 0..<10 {
                let ledger = i.isMultiple(of: 2) ? first : second
                group.addTask {
                    let record = SQLiteSpendLedgerTests.record("0.10", at: now)
                    return (try? await ledger.reserve(record, budget: nil, hostBudget: hostBudget, now: now)) != nil
                }
            }
            return await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(accepted == 3)
        #expect(try await first.spent(by: "0xwallet", host: "api.example", since: now.addingTimeInterval(-1)) == (try DollarAmount("0.30")))
        // Another host is not counted against it.
        var elsewhere = SQLiteSpendLedgerTests.record("0.10", at: now)
        elsewhere.resource = "https://other.example/x"
        try await second.reserve(elsewhere, budget: nil, hostBudget: hostBudget, now: now)
    }
}
