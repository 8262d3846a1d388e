// One set of behavioural checks for every DiscoveryStore (in memory, SQLite, PostgreSQL), run by
// X402Tests (the in-memory reference), X402SQLiteTests and X402PostgresTests.

package import Foundation
import Testing
package import X402

/// The behaviour of ``InMemoryDiscoveryStore``, which every persistent catalog store must match.
/// Each check expects an empty store of its own.
package enum DiscoveryStoreCheck: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case upsertReplacesByKeyAndPagesInResourceOrder
    case typeFilterAndFreshness
    case searchMatchesEveryWordCaseInsensitively
    case searchWordsAreDataNotPatterns
    case paymentTermFilters
    case pruneDeletesStaleEntries

    package var testDescription: String { rawValue }

    package static let t0 = Date(timeIntervalSince1970: 1_900_000_000)

    package static func requirement(
        network: Network = .eip155(84532), payTo: String = "0x209693Bc6afc0C5328bA36FaF03C514EF312287C"
    ) -> PaymentRequirements {
        PaymentRequirements(
            scheme: "exact", network: network, amount: "10000", asset: "0x036CbD53842c5426634e7929541eC2318f3dCF7e", payTo: payTo,
            maxTimeoutSeconds: 300, extra: ["name": "USDC", "version": "2"])
    }

    package static func entry(
        _ url: String, type: String = "http", description: String = "", at date: Date = t0, queryParams: JSONObject = [:],
        requirement: PaymentRequirements = requirement()
    ) -> DiscoveryResource {
        var input: JSONObject = ["type": .string(type), "method": "GET"]
        if !queryParams.isEmpty { input["queryParams"] = .object(queryParams) }
        var resource = DiscoveryResource(
            resource: url, type: type, x402Version: .v2, accepts: [.v2(requirement)], lastUpdated: date,
            metadata: ["description": .string(description), "input": .object(input)])
        resource.description = description.isEmpty ? nil : description
        return resource
    }

    package static func search(_ store: any DiscoveryStore, _ query: String?, type: String? = nil) async throws -> [String] {
        try await store.page(DiscoveryFilter(type: type, query: query), limit: 100, offset: 0, freshSince: .distantPast).items.map(\.resource)
    }

    package func run(on store: any DiscoveryStore) async throws {
        let t0 = Self.t0
        switch self {
        case .upsertReplacesByKeyAndPagesInResourceOrder:
            for (i, url) in ["https://c.example/x", "https://a.example/x", "https://b.example/x"].enumerated() {
                try await store.upsert(key: url, resource: Self.entry(url, at: t0 + Double(i)))
            }
            try await store.upsert(key: "https://a.example/x", resource: Self.entry("https://a.example/x", description: "new", at: t0 + 10))
            let all = try await store.page(.all, limit: 100, offset: 0, freshSince: .distantPast)
            #expect(all.total == 3)
            #expect(all.items.map(\.resource) == ["https://a.example/x", "https://b.example/x", "https://c.example/x"])
            #expect(all.items[0].lastUpdated == t0 + 10)
            #expect(all.items[0].description == "new")
            let second = try await store.page(.all, limit: 1, offset: 1, freshSince: .distantPast)
            #expect(second.items.map(\.resource) == ["https://b.example/x"] && second.total == 3)
            let beyond = try await store.page(.all, limit: 5, offset: 7, freshSince: .distantPast)
            #expect(beyond.items.isEmpty && beyond.total == 3)
        case .typeFilterAndFreshness:
            try await store.upsert(key: "h", resource: Self.entry("https://h.example/a", at: t0))
            try await store.upsert(key: "m#tool", resource: Self.entry("https://m.example/mcp", type: "mcp", at: t0 + 5))
            #expect(try await Self.search(store, nil, type: "mcp") == ["https://m.example/mcp"])
            #expect(try await Self.search(store, nil, type: "http") == ["https://h.example/a"])
            let fresh = try await store.page(.all, limit: 100, offset: 0, freshSince: t0 + 1)
            #expect(fresh.items.map(\.resource) == ["https://m.example/mcp"] && fresh.total == 1)
        case .searchMatchesEveryWordCaseInsensitively:
            try await store.upsert(
                key: "w", resource: Self.entry("https://api.example/weather", description: "Current Weather by City", queryParams: ["city": "Paris"]))
            try await store.upsert(key: "s", resource: Self.entry("https://api.example/stocks", description: "Stock quotes"))
            #expect(try await Self.search(store, "weather") == ["https://api.example/weather"])
            #expect(try await Self.search(store, "WEATHER city") == ["https://api.example/weather"])
            #expect(try await Self.search(store, "weather stock").isEmpty)
            #expect(try await Self.search(store, "api.example").count == 2)
            // The names of the example's query parameters are searchable, their values are not.
            #expect(try await Self.search(store, "city") == ["https://api.example/weather"])
            #expect(try await Self.search(store, "paris").isEmpty)
            let counted = try await store.page(DiscoveryFilter(query: "quotes"), limit: 0, offset: 0, freshSince: .distantPast)
            #expect(counted.total == 1 && counted.items.isEmpty)
        case .searchWordsAreDataNotPatterns:
            try await store.upsert(key: "p", resource: Self.entry("https://p.example/100%_off", description: "half_price"))
            try await store.upsert(key: "q", resource: Self.entry("https://q.example/other", description: "halfXprice"))
            #expect(try await Self.search(store, "%") == ["https://p.example/100%_off"])
            #expect(try await Self.search(store, "half_price") == ["https://p.example/100%_off"])
            #expect(try await Self.search(store, "'; drop table x; --").isEmpty)
            #expect(try await store.page(.all, limit: 10, offset: 0, freshSince: .distantPast).total == 2)
        case .paymentTermFilters:
            try await store.upsert(key: "a", resource: Self.entry("https://a.example/x", requirement: Self.requirement(network: .eip155(8453))))
            try await store.upsert(
                key: "b",
                resource: Self.entry("https://b.example/x", requirement: Self.requirement(payTo: "0x857b06519E91e3A54538791bDbb0E22373e36b66")))
            func filtered(_ filter: DiscoveryFilter) async throws -> [String] {
                try await store.page(filter, limit: 10, offset: 0, freshSince: .distantPast).items.map(\.resource)
            }
            #expect(try await filtered(DiscoveryFilter(network: "eip155:8453")) == ["https://a.example/x"])
            #expect(try await filtered(DiscoveryFilter(network: "eip155:84532")) == ["https://b.example/x"])
            // A prefix of a network is not that network.
            #expect(try await filtered(DiscoveryFilter(network: "eip155:845")).isEmpty)
            #expect(try await filtered(DiscoveryFilter(payTo: "0x857B06519E91E3A54538791BDBB0E22373E36B66")) == ["https://b.example/x"])
            #expect(try await filtered(DiscoveryFilter(scheme: "exact")).count == 2)
            #expect(try await filtered(DiscoveryFilter(scheme: "upto")).isEmpty)
        case .pruneDeletesStaleEntries:
            try await store.upsert(key: "old", resource: Self.entry("https://old.example/", at: t0))
            try await store.upsert(key: "new", resource: Self.entry("https://new.example/", at: t0 + 100))
            #expect(try await store.prune(updatedBefore: t0 + 50) == 1)
            #expect(try await Self.search(store, nil) == ["https://new.example/"])
        }
    }
}
