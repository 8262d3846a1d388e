import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
import X402
import X402SQLite

@testable import X402Facilitator

/// A clock tests move by hand.
final class TestClock: @unchecked Sendable {
    private let lock = NSLock()
    private var current: Date
    init(_ start: Date = Date(timeIntervalSince1970: 1_800_000_000)) { current = start }
    var now: Date { lock.withLock { current } }
    func advance(_ seconds: TimeInterval) { lock.withLock { current += seconds } }
}

private func temporaryDatabase() -> String {
    FileManager.default.temporaryDirectory.appendingPathComponent("x402-discovery-\(UUID().uuidString)/facilitator.sqlite").path
}

private func resource(_ url: String, type: String = "http", at date: Date) -> DiscoveryResource {
    DiscoveryResource(
        resource: url, type: type, x402Version: .v2, accepts: [.v2(Fixtures.requirements)], lastUpdated: date,
        metadata: ["description": .string("d \(url)")])
}

private func bazaarBody(url: String, type: String = "http", tool: String? = nil) -> String {
    var input: JSONObject = ["type": .string(type), "method": "GET"]
    if let tool { input["toolName"] = .string(tool) }
    let payload = PaymentPayload(
        resource: ResourceInfo(url: url, description: "Weather"), accepted: Fixtures.requirements, payload: ["ok": true],
        extensions: ["bazaar": ["info": ["input": .object(input)], "schema": ["type": "object"]]])
    return String(
        decoding: FacilitatorRequest(paymentPayload: .v2(payload), paymentRequirements: .v2(Fixtures.requirements)).jsonBytes(), as: UTF8.self)
}

@Suite("Discovery store")
struct DiscoveryStoreTests {
    @Test("upsert replaces by key; type filter, order, limit, offset and total", arguments: ["memory", "sqlite"])
    func paging(kind: String) async throws {
        let store: any DiscoveryStore = kind == "memory" ? InMemoryDiscoveryStore() : try SQLiteDiscoveryStore(path: temporaryDatabase())
        let t = Date(timeIntervalSince1970: 1_800_000_000)
        for (i, url) in ["https://c.example/x", "https://a.example/x", "https://b.example/x"].enumerated() {
            try await store.upsert(key: url, resource: resource(url, at: t + Double(i)))
        }
        try await store.upsert(key: "https://m.example/mcp#tool", resource: resource("https://m.example/mcp", type: "mcp", at: t))
        // Same key again: replaced, not added.
        try await store.upsert(key: "https://a.example/x", resource: resource("https://a.example/x", at: t + 10))

        let all = try await store.page(type: nil, limit: 100, offset: 0, freshSince: .distantPast)
        #expect(all.total == 4)
        #expect(all.items.map(\.resource) == ["https://a.example/x", "https://b.example/x", "https://c.example/x", "https://m.example/mcp"])
        #expect(all.items[0].lastUpdated == t + 10)
        #expect(all.items[0].metadata?["description"] == "d https://a.example/x")

        let http = try await store.page(type: "http", limit: 2, offset: 1, freshSince: .distantPast)
        #expect(http.total == 3)
        #expect(http.items.map(\.resource) == ["https://b.example/x", "https://c.example/x"])
        let beyond = try await store.page(type: "http", limit: 2, offset: 5, freshSince: .distantPast)
        #expect(beyond.items.isEmpty && beyond.total == 3)
        let mcp = try await store.page(type: "mcp", limit: 10, offset: 0, freshSince: .distantPast)
        #expect(mcp.items.map(\.type) == ["mcp"])

        // Freshness: only entries updated at or after the cutoff count; prune deletes the rest.
        let fresh = try await store.page(type: nil, limit: 100, offset: 0, freshSince: t + 2)
        #expect(fresh.items.map(\.resource) == ["https://a.example/x", "https://b.example/x"])
        #expect(try await store.prune(updatedBefore: t + 2) == 2)
        #expect(try await store.page(type: nil, limit: 100, offset: 0, freshSince: .distantPast).total == 2)
    }

    @Test("SQLite entries survive reopening the file, next to the settlement journal")
    func persistence() async throws {
        let path = temporaryDatabase()
        // The settlement journal opens (and migrates) the file first, as the service does.
        let journal = try SQLiteSettlementStore(path: path)
        try await journal.save(
            SettlementJournalEntry(id: "e", network: "eip155:84532", scheme: "exact", status: .received, createdAt: Date(), updatedAt: Date()))
        let t = Date(timeIntervalSince1970: 1_800_000_123.5)
        do {
            let store = try SQLiteDiscoveryStore(path: path)
            try await store.upsert(key: "k", resource: resource("https://a.example/x", at: t))
        }
        let reopened = try SQLiteDiscoveryStore(path: path)
        let page = try await reopened.page(type: nil, limit: 10, offset: 0, freshSince: .distantPast)
        #expect(page.items == [resource("https://a.example/x", at: t)])
        #expect(try await SQLiteSettlementStore(path: path).entry(id: "e")?.status == .received)
    }

    @Test("catalog: stale entries are not served and are pruned; a new report refreshes")
    func expiry() async throws {
        let clock = TestClock()
        let store = InMemoryDiscoveryStore()
        let catalog = DiscoveryCatalog(timeToLive: .seconds(100), store: store, now: { clock.now })
        let request = try FacilitatorRequest(jsonBytes: Array(bazaarBody(url: "https://api.example/weather?city=Paris").utf8))
        await catalog.record(request)
        #expect(try await catalog.count() == 1)
        clock.advance(60)
        #expect(try await catalog.page(type: nil, limit: 10, offset: 0).items.count == 1)
        clock.advance(41)  // 101 s since the report
        #expect(try await catalog.page(type: nil, limit: 10, offset: 0).items.isEmpty)
        // Filtered on read at once; deleted by the next prune (reads and writes prune at most once a minute).
        #expect(try await store.page(type: nil, limit: 10, offset: 0, freshSince: .distantPast).total == 1)
        #expect(try await catalog.prune() == 1)
        #expect(try await store.page(type: nil, limit: 10, offset: 0, freshSince: .distantPast).total == 0)
        await catalog.record(request)
        let page = try await catalog.page(type: "http", limit: 10, offset: 0)
        #expect(page.items.map(\.resource) == ["https://api.example/weather"])
        #expect(page.items.first?.lastUpdated == clock.now)
    }

    @Test("route: settled bazaar resources persist across a restart on the same SQLite file; limit and offset checked")
    func route() async throws {
        let path = temporaryDatabase()
        let clock = TestClock()
        func routes() throws -> FacilitatorRoutes {
            Fixtures.routes(catalog: DiscoveryCatalog(timeToLive: .seconds(3600), store: try SQLiteDiscoveryStore(path: path), now: { clock.now }))
        }
        try await Fixtures.app(try routes()).test(.router) { client in
            for i in 0..<5 { _ = try await client.post("/settle", bazaarBody(url: "https://api.example/r\(i)")) }
            _ = try await client.post("/settle", bazaarBody(url: "https://api.example/mcp", type: "mcp", tool: "forecast"))
            // Not recorded: invalid payment, and a payment without the bazaar extension.
            _ = try await client.post("/settle", Fixtures.body(ok: false, extensions: ["bazaar": ["info": ["input": ["type": "http"]]]]))
            _ = try await client.post("/settle", Fixtures.body())
        }
        clock.advance(1800)
        // A new service on the same file: the catalog is still there.
        try await Fixtures.app(try routes()).test(.router) { client in
            let (status, text) = try await client.get("/discovery/resources?type=http&limit=2&offset=3")
            #expect(status == .ok)
            let page = try DiscoveryResponse(jsonBytes: Array(text.utf8))
            #expect(page.items.map(\.resource) == ["https://api.example/r3", "https://api.example/r4"])
            #expect(page.pagination == .init(limit: 2, offset: 3, total: 5))
            let (_, mcp) = try await client.get("/discovery/resources?type=mcp")
            let mcpPage = try DiscoveryResponse(jsonBytes: Array(mcp.utf8))
            #expect(mcpPage.items.map(\.resource) == ["https://api.example/mcp"])
            #expect(mcpPage.pagination == .init(limit: 20, offset: 0, total: 1))
            for query in ["limit=0", "limit=101", "limit=x", "offset=-1"] {
                let (bad, _) = try await client.get("/discovery/resources?\(query)")
                #expect(bad == .badRequest, "\(query)")
            }
            let (ok100, _) = try await client.get("/discovery/resources?limit=100")
            #expect(ok100 == .ok)
        }
        clock.advance(1801)
        try await Fixtures.app(try routes()).test(.router) { client in
            let (_, text) = try await client.get("/discovery/resources")
            #expect(try DiscoveryResponse(jsonBytes: Array(text.utf8)).pagination.total == 0)
        }
        #expect(try await SQLiteDiscoveryStore(path: path).page(type: nil, limit: 100, offset: 0, freshSince: .distantPast).total == 0)
    }
}
