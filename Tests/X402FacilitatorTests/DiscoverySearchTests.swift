import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
import X402

@testable import X402Facilitator

/// A settle body whose payment carries `bazaar` as a seller built it.
private func settleBody(url: String, description: String, bazaar: JSONValue) -> String {
    let payload = PaymentPayload(
        resource: ResourceInfo(url: url, description: description, mimeType: "application/json"), accepted: Fixtures.requirements,
        payload: ["ok": true], extensions: ["bazaar": bazaar])
    return String(
        decoding: FacilitatorRequest(paymentPayload: .v2(payload), paymentRequirements: .v2(Fixtures.requirements)).jsonBytes(), as: UTF8.self)
}

@Suite("Discovery search")
struct DiscoverySearchTests {
    static let weather = BazaarDeclaration.query(
        example: ["city": "Paris"], schema: ["properties": ["city": ["type": "string"]]], output: .json(["temp": 18]))

    @Test("the catalog keeps only declarations whose info matches their schema, with no external reference")
    func schemaChecks() {
        func entry(_ bazaar: JSONValue) -> (String, DiscoveryResource)? {
            let payload = PaymentPayload(
                resource: ResourceInfo(url: "https://api.example/weather", description: "Weather"), accepted: Fixtures.requirements, payload: [:],
                extensions: ["bazaar": bazaar])
            return DiscoveryCatalog.entry(
                for: FacilitatorRequest(paymentPayload: .v2(payload), paymentRequirements: .v2(Fixtures.requirements)), at: Date())
        }
        let good = Self.weather.enriched(method: "GET")
        let recorded = entry(good)
        #expect(recorded?.1.description == "Weather")
        #expect(recorded?.1.metadata?["input"] == good["info"]?["input"])
        // info that does not match: the method is not in the narrowed enum.
        var wrongMethod = good.objectValue!
        var info = wrongMethod["info"]!.objectValue!
        info["input"] = ["type": "http", "method": "POST", "queryParams": ["city": "Paris"]]
        wrongMethod["info"] = .object(info)
        #expect(entry(.object(wrongMethod)) == nil)
        // An external $ref in the schema: refused without fetching anything.
        #expect(entry(["info": good["info"]!, "schema": ["$ref": "http://169.254.169.254/latest/meta-data"]]) == nil)
        #expect(entry(["info": good["info"]!, "schema": ["type": "object", "properties": ["input": ["$id": "file:///etc/passwd"]]]]) == nil)
    }

    @Test("GET /discovery/search and ?query= on /discovery/resources find settled resources by their words")
    func search() async throws {
        let routes = Fixtures.routes(catalog: DiscoveryCatalog(timeToLive: .seconds(3600)))
        try await Fixtures.app(routes).test(.router) { client in
            _ = try await client.post(
                "/settle",
                settleBody(url: "https://api.example/weather?x=1", description: "Weather by city", bazaar: Self.weather.enriched(method: "GET")))
            _ = try await client.post(
                "/settle",
                settleBody(
                    url: "https://api.example/users/42", description: "User profile",
                    bazaar: BazaarDeclaration.query().enriched(method: "GET", routeTemplate: "/users/:id", pathParams: ["id": "42"])))
            for i in 0..<3 {
                _ = try await client.post(
                    "/settle",
                    settleBody(
                        url: "https://api.example/stock\(i)", description: "Stock quote \(i)",
                        bazaar: BazaarDeclaration.query().enriched(method: "GET")))
            }

            let (status, text) = try await client.get("/discovery/search?query=weather")
            #expect(status == .ok)
            let found = try DiscoverySearchResponse(jsonBytes: Array(text.utf8))
            #expect(found.resources.map(\.resource) == ["https://api.example/weather"])
            #expect(found.resources.first?.description == "Weather by city")
            #expect(found.partialResults == false && found.cursor == nil)
            // The raw answer has the upstream shape.
            let raw = try JSONValue(parsing: Array(text.utf8))
            #expect(raw["x402Version"] == 2 && raw["resources"]?.arrayValue?.count == 1 && raw["pagination"]?["limit"] == 20)

            // Templates are cataloged and searchable; words are matched whatever their case.
            let (_, users) = try await client.get("/discovery/search?query=USER%20profile")
            #expect(try DiscoverySearchResponse(jsonBytes: Array(users.utf8)).resources.map(\.resource) == ["https://api.example/users/:id"])

            // Paging with the cursor.
            let (_, first) = try await client.get("/discovery/search?query=stock&limit=2")
            let page1 = try DiscoverySearchResponse(jsonBytes: Array(first.utf8))
            #expect(page1.resources.count == 2 && page1.partialResults == true)
            let cursor = try #require(page1.cursor)
            let (_, second) = try await client.get("/discovery/search?query=stock&limit=2&cursor=\(cursor)")
            let page2 = try DiscoverySearchResponse(jsonBytes: Array(second.utf8))
            #expect(page2.resources.map(\.resource) == ["https://api.example/stock2"] && page2.cursor == nil)

            // The list endpoint takes the same query.
            let (_, listed) = try await client.get("/discovery/resources?query=stock&limit=1")
            let list = try DiscoveryResponse(jsonBytes: Array(listed.utf8))
            #expect(list.items.count == 1 && list.pagination.total == 3)
            let (_, byNetwork) = try await client.get("/discovery/resources?network=eip155:1")
            #expect(try DiscoveryResponse(jsonBytes: Array(byNetwork.utf8)).pagination.total == 0)

            // Bounded queries: too long, too many words, control characters, bad cursors.
            let long = String(repeating: "a", count: DiscoveryFilter.maximumQueryBytes + 1)
            for query in [
                "query=\(long)", "query=" + (1...9).map { "w\($0)" }.joined(separator: "%20"), "query=a%0Ab", "query=a&cursor=-1",
                "query=a&cursor=x", "query=a&cursor=1234567890123", "query=a&limit=0", "query=a&limit=101",
            ] {
                let (bad, _) = try await client.get("/discovery/search?\(query)")
                #expect(bad == .badRequest, "\(query.prefix(40))")
            }
            let (badList, _) = try await client.get("/discovery/resources?query=\(long)")
            #expect(badList == .badRequest)
            // A query without words lists everything.
            let (_, all) = try await client.get("/discovery/search")
            #expect(try DiscoverySearchResponse(jsonBytes: Array(all.utf8)).resources.count == 5)
        }
    }
}
