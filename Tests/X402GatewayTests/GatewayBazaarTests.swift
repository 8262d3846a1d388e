import Foundation
import Testing
import X402
import X402TestSupport

@testable import X402Gateway

@Suite("x402 gateway: bazaar routes")
struct GatewayBazaarTests {
    static func file(_ routes: String) -> String {
        #"{"upstream":"http://127.0.0.1:8080","payTo":"0x209693Bc6afc0C5328bA36FaF03C514EF312287C","network":"eip155:84532","facilitator":"http://127.0.0.1:4020","routes":["#
            + routes + "]}"
    }

    @Test func aRouteDeclaresItsBazaarEntry() throws {
        let c = try GatewayConfiguration.parse(
            Array(
                Self.file(
                    """
                    { "route": "GET /weather", "price": "$0.01", "description": "Weather",
                      "bazaar": { "input": { "city": "Paris" }, "inputSchema": { "properties": { "city": { "type": "string" } } },
                                  "output": { "example": { "temp": 18 } } } },
                    { "route": "POST /users/[id]/notes", "price": "$0.02",
                      "bazaar": { "bodyType": "json", "input": { "text": "hi" }, "pathParamsSchema": { "properties": { "id": { "type": "string" } } } } }
                    """
                ).utf8))
        try c.validate()
        let table = try c.routeTable()
        let weather = try #require(table.match(method: "GET", path: "/weather"))
        #expect(
            weather.route.bazaar
                == .query(example: ["city": "Paris"], schema: ["properties": ["city": ["type": "string"]]], output: .json(["temp": 18])))
        let notes = try #require(table.match(method: "POST", path: "/users/7/notes"))
        #expect(notes.route.bazaar?.input == .body(.json, ["text": "hi"]))
        #expect(notes.route.bazaar?.pathParamsSchema == ["properties": ["id": ["type": "string"]]])
        // Round trip through the encoder.
        let again = try GatewayConfiguration.parse(Array(try JSONEncoder().encode(c)))
        #expect(again.routes == c.routes)
    }

    @Test(arguments: [
        (#"{"route":"GET /a","price":"$0.01","bazaar":{"inputs":{}}}"#, "unknown member \"routes[0].bazaar.inputs\""),
        (#"{"route":"GET /a","price":"$0.01","bazaar":{"output":{"examples":1}}}"#, "unknown member \"routes[0].bazaar.output.examples\""),
    ])
    func unknownMembersAreRefused(route: String, reason: String) {
        do {
            _ = try GatewayConfiguration.parse(Array(Self.file(route).utf8))
            Issue.record("accepted \(route)")
        } catch {
            #expect(error.description.contains(reason), "\(error)")
        }
    }

    @Test(arguments: [
        (#"{"route":"GET /a","price":"$0.01","bazaar":{"bodyType":"xml"}}"#, "bazaar.bodyType must be json, form-data or text"),
        (#"{"route":"GET /a","price":"$0.01","bazaar":{"input":[1]}}"#, "bazaar.input must be an object"),
    ])
    func malformedMembersAreRefused(route: String, reason: String) throws {
        let c = try GatewayConfiguration.parse(Array(Self.file(route).utf8))
        do {
            _ = try c.routeTable()
            Issue.record("accepted \(route)")
        } catch {
            #expect(error.description.contains(reason), "\(error)")
        }
    }

    /// A declaration that does not fit its route stops the gateway at start-up with the reason.
    @Test func aDeclarationThatDoesNotFitItsRouteStopsTheServer() async throws {
        var c = try gatewayConfiguration(upstream: "http://127.0.0.1:9")
        c.routes = [.init(route: "POST /a", price: "$0.01", bazaar: .init(input: ["q": "x"]))]
        do {
            var schemes = SchemeRegistry<any SchemeServer>()
            schemes.register(USDCServer(), networks: NetworkPattern(namespace: "eip155"))
            _ = try Gateway(configuration: c, schemes: schemes, facilitator: ScriptedFacilitator())
            Issue.record("started")
        } catch {
            #expect("\(error)".contains("bazaar: a declaration for GET/HEAD/DELETE does not fit a POST route"), "\(error)")
        }
    }
}
