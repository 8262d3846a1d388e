import Foundation
import HTTPTypes
import Testing
import X402TestSupport

@testable import X402

/// The 402 of a route whose prices and payees are fixed is built once per resource URL, not per
/// request; a route with a per-request price or payee is built for every request.
/// A thread-safe count.
final class Tally: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    var value: Int {
        lock.lock()
        defer { lock.unlock() }
        return count
    }
    func add() {
        lock.lock()
        count += 1
        lock.unlock()
    }
}

@Suite("seller: fixed offers built once")
struct ServerOfferCacheTests {
    /// USDC requirements, counting how often requirements are built (`enhance` runs once per build).
    struct CountingServer: SchemeServer {
        let builds = Tally()
        var scheme: String { "exact" }
        func assetAmount(for price: Price, on network: Network) throws -> AssetAmount { try AssetRegistry.standard.resolve(price, on: network) }
        func enhance(
            _ requirements: PaymentRequirements, supportedKind: SupportedKind?, facilitatorExtensions: [String]
        ) async throws
            -> PaymentRequirements
        {
            builds.add()
            return requirements
        }
    }

    static func server(_ counting: CountingServer, routes: RouteTable) throws -> ResourceServer {
        var schemes = SchemeRegistry<any SchemeServer>()
        schemes.register(counting, networks: NetworkPattern(namespace: "eip155"))
        return try ResourceServer(configuration: .init(routes: routes, facilitator: ScriptedFacilitator(), schemes: schemes))
    }

    @Test("a fixed route: the same PAYMENT-REQUIRED for every request of one URL, built once; another URL is its own offer")
    func fixedRouteBuiltOnce() async throws {
        let counting = CountingServer()
        let server = try Self.server(
            counting, routes: ["GET /weather": .exact("$0.01", on: .baseSepolia, payTo: .fixed(testPayTo), description: "Weather")])
        var headers: [String] = []
        for _ in 0..<5 {
            let answer = await server.respond(to: request(.get, "/weather")) { _ in ServerResponse(status: 200) }
            #expect(answer.status == 402)
            headers.append(try #require(answer.headers[.paymentRequired]))
        }
        #expect(Set(headers).count == 1)
        #expect(counting.builds.value == 1)
        let required = try PaymentRequired(headerValue: headers[0])
        #expect(required.resource?.url == "http://api.example.com/weather")
        #expect(required.accepts.first?.amount == "10000")

        // Another URL (query) gets its own resource in the offer.
        let other = await server.respond(to: request(.get, "/weather?city=Paris")) { _ in ServerResponse(status: 200) }
        #expect(try paymentRequired(other).resource?.url == "http://api.example.com/weather?city=Paris")
        #expect(counting.builds.value == 2)
        // The paid path still matches the cached offer.
        let paid = try await paidRequest(server)
        let served = await server.respond(to: paid) { _ in ServerResponse(status: 200) }
        #expect(served.status == 200)
    }

    @Test("a per-request price is built for every request")
    func dynamicRouteBuiltEveryTime() async throws {
        let counting = CountingServer()
        let asked = Tally()
        let route = PaidRoute(
            accepts: [
                PaymentOption(
                    scheme: "exact", network: .baseSepolia,
                    price: .perRequest { _ in
                        asked.add()
                        return try PriceSpec.parse("$0.02")
                    }, payTo: .fixed(testPayTo))
            ], description: "Weather")
        let server = try Self.server(counting, routes: ["GET /weather": route])
        for _ in 0..<3 {
            let answer = await server.respond(to: request(.get, "/weather")) { _ in ServerResponse(status: 200) }
            #expect(try paymentRequired(answer).accepts.first?.amount == "20000")
        }
        #expect(asked.value == 3)
        #expect(counting.builds.value == 3)
    }

    @Test("an offer changed after it was built is encoded again, never sent stale")
    func changedOfferIsReencoded() throws {
        let required = PaymentRequired(error: "Payment required", resource: nil, accepts: [], extensions: nil)
        var offer = PaymentOffer(required: required, requirementsV1: [], encodedRequired: required.headerValue)
        #expect(offer.encodedRequired != nil)
        offer.required.error = "changed"
        #expect(offer.encodedRequired == nil)
    }

    @Test("the cache is bounded: many distinct keys start it over; an entry is fresh only before its deadline")
    func bounded() {
        let cache = BoundedCache<String, Int, Int>(capacity: 256)
        for index in 0..<(cache.capacity + 10) { cache.store(index, for: "k\(index)", until: 100) }
        #expect(cache.value(for: "k0", now: 0) == nil)
        #expect(cache.value(for: "k\(cache.capacity + 9)", now: 0) == cache.capacity + 9)
        #expect(cache.value(for: "k\(cache.capacity + 9)", now: 99) != nil)
        #expect(cache.value(for: "k\(cache.capacity + 9)", now: 100) == nil)
        #expect(cache.count <= cache.capacity)
    }
}
