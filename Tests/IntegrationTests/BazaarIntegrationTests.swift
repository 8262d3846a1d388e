import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import NIOHTTP1
import Testing
import X402
import X402EVM
import X402HTTP
import X402Hummingbird
import X402TestSupport

/// `bazaar` discovery on the devnet: a Swift seller's declared routes are paid through the Swift
/// facilitator and appear in its catalog (`/discovery/resources`, `/discovery/search`); and, with
/// the official Python SDK (x402 2.25.0, `Tools/interop`): its seller's declaration is read by the
/// Swift side and cataloged by the Swift facilitator, ours passes its bazaar validators, and its
/// bazaar client lists the Swift facilitator's catalog.
@Suite("Bazaar discovery on the devnet and with the official Python SDK", .devnet, .serialized)
struct BazaarIntegrationTests {
    typealias World = HummingbirdSellerIntegrationTests.World

    static let weather = BazaarDeclaration.query(
        example: ["city": "Paris"], schema: ["properties": ["city": ["type": "string"]], "required": ["city"]],
        output: .json(["temp": 18], schema: ["properties": ["temp": ["type": "number"]]]))

    /// A Hummingbird seller with two bazaar routes: `GET /weather` and the dynamic `GET /users/[id]`.
    static func startSwiftSeller(_ w: World) async throws -> RunningApp {
        var schemes = SchemeRegistry<any SchemeServer>()
        schemes.registerExactEVM()
        let router = Router()
        let payTo = RequestValue<String>.fixed(w.payee.checksummed)
        router.add(
            middleware: try X402Middleware(
                configuration: .init(
                    routes: [
                        "GET /weather": PaidRoute(
                            accepts: [.exact("$0.01", on: w.network, payTo: payTo)], description: "Weather by city", mimeType: "application/json",
                            bazaar: Self.weather),
                        "GET /users/[id]": PaidRoute(
                            accepts: [.exact("$0.01", on: w.network, payTo: payTo)], description: "User profile", mimeType: "application/json",
                            bazaar: .query(
                                pathParams: ["properties": ["id": ["type": "string"]], "required": ["id"]], output: .json(["name": "Ada"]))),
                    ],
                    facilitator: HTTPFacilitatorClient(baseURL: w.facilitator.url), schemes: schemes)))
        router.get("weather") { _, _ -> Response in
            Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: #"{"temp":18}"#)))
        }
        router.get("users/:id") { _, _ -> Response in
            Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: #"{"name":"Ada"}"#)))
        }
        return await RunningApp.start(router)
    }

    static func get(_ url: String) async throws -> (Int, JSONValue) {
        let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: url), timeout: .seconds(30))
        let body = try await response.body.collect(upTo: 4 * 1024 * 1024)
        return (Int(response.status.code), try JSONValue(parsing: Array(body.readableBytesView)))
    }

    static func unpaid402(_ url: String) async throws -> PaymentRequired {
        let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: url), timeout: .seconds(30))
        #expect(response.status.code == 402)
        let header = try #require(response.headers.first(name: "PAYMENT-REQUIRED"))
        return try PaymentRequired(headerValue: header)
    }

    @Test("a Swift seller's bazaar routes, paid through the Swift facilitator, are listed and found by search")
    func swiftSellerIsCataloged() async throws {
        let w = try await World.make()
        defer { Task { await w.facilitator.stop() } }
        let seller = try await Self.startSwiftSeller(w)
        defer { Task { await seller.stop() } }

        // Nothing is cataloged before a payment (a 402 or a verify publishes nothing).
        _ = try await Self.unpaid402(seller.url + "/weather?city=Paris")
        let (_, empty) = try await Self.get(w.facilitator.url + "/discovery/resources")
        #expect(empty["pagination"]?["total"] == 0)

        let client = w.payingClient()
        for path in ["/weather?city=Paris", "/users/42"] {
            let paid = try await client.execute(HTTPClientRequest(url: seller.url + path))
            #expect(paid.status == 200, "\(path): \(String(decoding: paid.body, as: UTF8.self))")
            guard case .paid(let receipt) = paid.payment else {
                Issue.record("\(path) not paid: \(paid.payment)")
                return
            }
            try await w.expectMined(receipt.settlement?.transaction)
        }

        let (status, listed) = try await Self.get(w.facilitator.url + "/discovery/resources?type=http")
        #expect(status == 200)
        let page = try DiscoveryResponse(json: listed)
        #expect(page.items.map(\.resource) == [seller.url + "/users/:id", seller.url + "/weather"])
        let weather = try #require(page.items.last)
        #expect(weather.description == "Weather by city" && weather.mimeType == "application/json")
        #expect(weather.metadata?["input"] == Self.weather.enriched(method: "GET")["info"]?["input"])
        #expect(weather.accepts.first?.networkIdentifier == w.network.identifier)
        let user = try #require(page.items.first)
        #expect(user.metadata?["routeTemplate"] == "/users/:id")
        #expect(user.metadata?["input"]?["pathParams"] == ["id": "42"])

        let (_, found) = try await Self.get(w.facilitator.url + "/discovery/search?query=weather%20city")
        let search = try DiscoverySearchResponse(json: found)
        #expect(search.resources.map(\.resource) == [seller.url + "/weather"])
        let (_, byQuery) = try await Self.get(w.facilitator.url + "/discovery/resources?query=profile")
        #expect(try DiscoveryResponse(json: byQuery).items.map(\.resource) == [seller.url + "/users/:id"])
        let (_, none) = try await Self.get(w.facilitator.url + "/discovery/search?query=nothing-like-this")
        #expect(try DiscoverySearchResponse(json: none).resources.isEmpty)

        // The x402 CLI finds them and quotes the dynamic one from its catalog example.
        let binary = try x402Executable()
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("x402-bazaar-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: home) }
        let discovered = try await runProcess(
            binary, ["discover", "weather", "--facilitator", w.facilitator.url, "--json"], environment: ["X402_HOME": home.path], scratch: home)
        #expect(discovered.status == 0, "\(discovered.stderr)")
        let listedByCLI = try JSONValue(parsing: Array(discovered.stdout.utf8))
        #expect(listedByCLI["resources"]?.arrayValue?.compactMap { $0["resource"]?.stringValue } == [seller.url + "/weather"])
        #expect(listedByCLI["resources"]?.arrayValue?.first?["options"]?.arrayValue?.first?["amount"] == "10000")
        let quoted = try await runProcess(
            binary, ["quote", "--discovered", seller.url + "/users/:id", "--facilitator", w.facilitator.url, "--json"],
            environment: ["X402_HOME": home.path], scratch: home)
        #expect(quoted.status == 0, "\(quoted.stdout) \(quoted.stderr)")
        let quote = try JSONValue(parsing: Array(quoted.stdout.utf8))
        #expect(quote["status"] == "payment_required")
        #expect(quote["url"] == .string(seller.url + "/users/:id"))
    }

    @Test("the Python SDK's bazaar declaration is read by the Swift client and cataloged by the Swift facilitator")
    func pythonDeclarationOnSwift() async throws {
        let w = try await World.make()
        defer { Task { await w.facilitator.stop() } }
        let server = try await PythonService.start(
            "py_server.py",
            ["--port", "0", "--facilitator-url", w.facilitator.url, "--pay-to", w.payee.checksummed, "--network", w.network.identifier, "--bazaar"])
        do {
            let required = try await Self.unpaid402(server.url + "/weather?city=Paris")
            let bazaar = try #require(required.extensions?[Bazaar.extensionKey], "\(server.logTail)")
            // The SDK's declaration as the Swift side reads it: enriched with the method, and its info
            // matches its schema under our validator.
            #expect(bazaar["info"]?["input"]?["method"] == "GET")
            #expect(bazaar["info"]?["input"]?["queryParams"] == ["city": "Paris"])
            #expect(bazaar["info"]?["output"]?["type"] == "json")
            try BazaarSchema.validate(try #require(bazaar["info"]), against: try #require(bazaar["schema"]))
            #expect(BazaarSchema.externalReference(in: try #require(bazaar["schema"])) == nil)

            let paid = try await w.payingClient().execute(HTTPClientRequest(url: server.url + "/weather?city=Paris"))
            #expect(paid.status == 200, "\(server.logTail)")
            guard case .paid(let receipt) = paid.payment else {
                Issue.record("not paid: \(paid.payment) \(server.logTail)")
                await server.stop()
                return
            }
            try await w.expectMined(receipt.settlement?.transaction)
            // The Swift client echoed the declaration whole.
            guard case .v2(let payload) = receipt.payload else { throw CancellationError() }
            #expect(payload.extensions?[Bazaar.extensionKey] == bazaar)

            let (_, listed) = try await Self.get(w.facilitator.url + "/discovery/search?query=weather")
            let entry = try #require(try DiscoverySearchResponse(json: listed).resources.first)
            #expect(entry.resource == server.url + "/weather")
            #expect(entry.metadata?["input"]?["queryParams"] == ["city": "Paris"])
            #expect(entry.description == "Weather report")
        } catch {
            await server.stop()
            throw error
        }
        await server.stop()
    }

    @Test("the Swift seller's declarations pass the Python SDK's bazaar validators and extraction")
    func swiftDeclarationOnPython() async throws {
        let w = try await World.make()
        defer { Task { await w.facilitator.stop() } }
        let seller = try await Self.startSwiftSeller(w)
        defer { Task { await seller.stop() } }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("x402-bazaar-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }

        for path in ["/weather?city=Paris", "/users/42"] {
            let required = try await Self.unpaid402(seller.url + path)
            let bazaar = try #require(required.extensions?[Bazaar.extensionKey])
            let file = directory.appendingPathComponent("ext.json")
            try Data(bazaar.serialized()).write(to: file)
            let verdict = try await PythonService.run("py_bazaar.py", ["validate", "--input", file.path])
            #expect(verdict["valid"] == true, "\(path): \(verdict)")
            #expect(verdict["specValid"] == true, "\(path): \(verdict)")

            // Its facilitator helper extracts the same resource from a payment echoing the declaration.
            let accepted = try #require(required.accepts.first)
            let payment = PaymentPayload(
                resource: required.resource, accepted: accepted, payload: ["signature": "0x00", "authorization": [:]],
                extensions: required.extensions)
            let envelope = directory.appendingPathComponent("payment.json")
            try Data(
                JSONValue.object(["paymentPayload": payment.json, "paymentRequirements": accepted.json]).serialized()
            ).write(to: envelope)
            let extracted = try await PythonService.run("py_bazaar.py", ["extract", "--input", envelope.path])
            #expect(extracted["found"] == true, "\(path): \(extracted)")
            #expect(extracted["method"] == "GET")
            if path == "/users/42" {
                #expect(extracted["routeTemplate"] == "/users/:id", "\(extracted)")
                #expect(extracted["resourceUrl"] == .string(seller.url + "/users/:id"), "\(extracted)")
            } else {
                #expect(extracted["resourceUrl"] == .string(seller.url + "/weather"), "\(extracted)")
            }
        }

        // A malformed declaration is refused by the SDK too (the method is outside the schema's enum).
        var broken = try #require(Self.weather.enriched(method: "GET").objectValue)
        broken["info"] = ["input": ["type": "http", "method": "PATCH"]]
        let file = directory.appendingPathComponent("broken.json")
        try Data(JSONValue.object(broken).serialized()).write(to: file)
        let verdict = try await PythonService.run("py_bazaar.py", ["validate", "--input", file.path])
        #expect(verdict["valid"] == false, "\(verdict)")
    }

    @Test("the Python SDK's bazaar client lists and searches the Swift facilitator's catalog")
    func pythonClientListsSwiftCatalog() async throws {
        let w = try await World.make()
        defer { Task { await w.facilitator.stop() } }
        let seller = try await Self.startSwiftSeller(w)
        defer { Task { await seller.stop() } }
        let paid = try await w.payingClient().execute(HTTPClientRequest(url: seller.url + "/weather?city=Paris"))
        #expect(paid.status == 200)

        let listed = try await PythonService.run("py_bazaar.py", ["list", "--facilitator-url", w.facilitator.url, "--type", "http"])
        let resources = try #require(listed["resources"]?.arrayValue, "\(listed)")
        #expect(resources.compactMap { $0["resource"]?.stringValue } == [seller.url + "/weather"])
        #expect(resources.first?["description"] == "Weather by city")
        #expect(resources.first?["x402Version"] == 2)
        #expect(listed["pagination"]?["total"] == 1)

        let searched = try await PythonService.run("py_bazaar.py", ["search", "--facilitator-url", w.facilitator.url, "--query", "weather"])
        #expect(searched["resources"]?.arrayValue?.compactMap { $0["resource"]?.stringValue } == [seller.url + "/weather"], "\(searched)")
        #expect(searched["partialResults"] == false)
        let nothing = try await PythonService.run("py_bazaar.py", ["search", "--facilitator-url", w.facilitator.url, "--query", "stocks"])
        #expect(nothing["resources"]?.arrayValue?.isEmpty == true, "\(nothing)")
    }
}
