import Testing
import Vapor
import VaporTesting
import X402
import X402TestSupport

@testable import X402Vapor

/// A route's bazaar declaration through the Vapor middleware: in the 402, enriched per request.
@Suite("Vapor middleware: bazaar")
struct X402VaporBazaarTests {
    @Test func the402CarriesTheRoutesDeclaration() async throws {
        let declaration = BazaarDeclaration.query(example: ["city": "Oslo"], schema: ["properties": ["city": ["type": "string"]]])
        try await withApp(configure: { app in
            var schemes = SchemeRegistry<any SchemeServer>()
            schemes.register(USDCServer(), networks: NetworkPattern(namespace: "eip155"))
            app.middleware.use(
                try X402VaporMiddleware(
                    configuration: .init(
                        routes: [
                            "GET /cities/[name]": PaidRoute(
                                accepts: [.exact("$0.01", on: .baseSepolia, payTo: .fixed(payTo))], description: "City", bazaar: declaration)
                        ],
                        facilitator: ScriptedFacilitator.seller(), schemes: schemes)))
            app.get("cities", ":name") { _ in "city" }
        }) { app in
            try await app.testing().test(.GET, "cities/oslo?city=Oslo") { response in
                #expect(response.status.code == 402)
                let bazaar = try #require(try PaymentRequired(headerValue: try required(response)).extensions?[Bazaar.extensionKey])
                #expect(bazaar["routeTemplate"] == "/cities/:name")
                #expect(bazaar["info"]?["input"]?["pathParams"] == ["name": "oslo"])
                #expect(bazaar["info"]?["input"]?["queryParams"] == ["city": "Oslo"])
                #expect(bazaar["info"]?["input"]?["method"] == "GET")
            }
        }
    }
}
