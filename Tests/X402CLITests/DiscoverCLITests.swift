import Foundation
import Testing
import X402
import X402EVM
import X402TestSupport

/// `x402 discover` and `x402 quote --discovered` against a scripted (and hostile) catalog.
@Suite("x402 discover: the bazaar catalog, read as hostile input")
struct DiscoverCLITests {
    static let usdc = "0x036CbD53842c5426634e7929541eC2318f3dCF7e"

    static func item(_ resource: String, description: String, amount: String, input: JSONObject = ["type": "http", "method": "GET"]) -> JSONValue {
        let requirement: JSONValue = [
            "scheme": "exact", "network": "eip155:84532", "amount": .string(amount), "asset": .string(usdc),
            "payTo": .string(TestSeller.payTo), "maxTimeoutSeconds": 60, "extra": ["name": "USDC", "version": "2"],
        ]
        return [
            "resource": .string(resource), "type": "http", "x402Version": 2, "accepts": [requirement], "lastUpdated": 1_900_000_000,
            "description": .string(description), "metadata": ["description": .string(description), "input": .object(input)],
        ]
    }

    static func catalog(host: String) -> [JSONValue] {
        [
            item("http://\(host)/weather", description: "Weather by city", amount: "10000"),
            item("http://\(host)/dear", description: "Expensive\u{1B}[2J\rPay $0.00 only\u{202E}", amount: "2000000"),
            item("http://\(host)/broken", description: "A negative price", amount: "-5"),
            item(
                "http://\(host)/users/:id", description: "User profile", amount: "10000",
                input: ["type": "http", "method": "GET", "pathParams": ["id": "4 2/x"], "queryParams": ["fields": "name+age"]]),
        ]
    }

    /// The server's `127.0.0.1:port`, known once it listens.
    final class HostBox: @unchecked Sendable {
        private let lock = NSLock()
        private var value = "127.0.0.1"
        var host: String {
            get { lock.withLock { value } }
            set { lock.withLock { value = newValue } }
        }
    }

    static func serve(_ body: @Sendable (_ base: String, _ log: CLIScriptedServer.Log) async throws -> Void) async throws {
        let box = HostBox()
        try await CLIScriptedServer.run(
            { path, _ in
                let host = box.host
                switch path {
                case "/discovery/resources":
                    let page: JSONValue = [
                        "x402Version": 2, "items": .array(Self.catalog(host: host)), "pagination": ["limit": 20, "offset": 0, "total": 4],
                    ]
                    return (200, [("Content-Type", "application/json")], page.serializedString())
                case "/discovery/search":
                    let page: JSONValue = ["x402Version": 2, "resources": .array(Array(Self.catalog(host: host).suffix(1))), "partialResults": false]
                    return (200, [("Content-Type", "application/json")], page.serializedString())
                default:
                    return CLIScriptedServer.paymentRequired(url: "http://\(host)\(path)", description: "Live offer")
                }
            }
        ) { base, log in
            box.host = String(base.dropFirst("http://".count))
            try await body(base, log)
        }
    }

    @Test("lists the catalog with prices, escapes hostile text, skips unparseable amounts, filters by price")
    func lists() async throws {
        let cli = try CLI()
        defer { cli.cleanUp() }
        try await Self.serve { base, log in
            let listed = try await cli.run(["discover", "--facilitator", base])
            #expect(listed.status == 0, "\(listed)")
            #expect(!BuyerCLISafetyTests.raw(listed.stdout), "\(listed)")
            #expect(listed.stdout.contains("Expensive\\e[2J\\rPay $0.00 only\\u{202E}"), "\(listed)")
            #expect(listed.stdout.contains("$0.01"), "\(listed)")
            #expect(listed.stdout.contains("GET \(base)/weather"), "\(listed)")
            // The negative amount is not a price: shown as unknown.
            let broken = try #require(listed.stdout.split(separator: "\n").first { $0.contains("/broken") })
            #expect(broken.contains("?"), "\(listed)")
            #expect(await log.requests.map(\.path) == ["/discovery/resources"])

            let cheap = try await cli.run(["discover", "--facilitator", base, "--max-price", "0.05", "--json"])
            #expect(cheap.status == 0, "\(cheap)")
            let resources = try #require(try cheap.json()["resources"]?.arrayValue)
            #expect(resources.compactMap { $0["resource"]?.stringValue } == [base + "/weather", base + "/users/:id"])
            #expect(resources.first?["options"]?.arrayValue?.first?["usd"] == "0.01")
            #expect(resources.first?["number"] == 1)

            let searched = try await cli.run(["discover", "user", "--facilitator", base, "--json"])
            #expect(try searched.json()["resources"]?.arrayValue?.count == 1, "\(searched)")
            #expect(await log.requests.last?.path == "/discovery/search")
        }
    }

    @Test("quote --discovered builds the request from the catalog's example: path parameters encoded, query added")
    func quotesADiscoveredResource() async throws {
        let cli = try CLI()
        defer { cli.cleanUp() }
        try await Self.serve { base, log in
            let quote = try await cli.run(["quote", "--discovered", base + "/users/:id", "--facilitator", base, "--json"])
            #expect(quote.status == 0, "\(quote)")
            #expect(try quote.json()["status"] == "payment_required", "\(quote)")
            let paths = await log.requests.map(\.path)
            #expect(paths.first == "/discovery/search")
            // `4 2/x` is one segment, encoded; the template is never requested.
            #expect(paths.contains("/users/4%202%2Fx"), "\(paths)")
            #expect(!paths.contains("/users/:id"))

            let missing = try await cli.run(["quote", "--discovered", base + "/nowhere", "--facilitator", base])
            #expect(missing.status == 1, "\(missing)")
            #expect(missing.stderr.contains("is not in the catalog"), "\(missing)")
        }
    }

    @Test("unreachable or unreadable catalogs are exit 5 and 6")
    func failures() async throws {
        let cli = try CLI()
        defer { cli.cleanUp() }
        let unreachable = try await cli.run(["discover", "--facilitator", "http://127.0.0.1:\(try freeLoopbackPort())", "--timeout", "5"])
        #expect(unreachable.status == 5, "\(unreachable)")
        try await CLIScriptedServer.run({ _, _ in (200, [], "not json") }) { base, _ in
            let garbage = try await cli.run(["discover", "--facilitator", base])
            #expect(garbage.status == 6, "\(garbage)")
        }
        let usage = try await cli.run(["discover", "--facilitator", "ftp://x", "--max-price", "abc"])
        #expect(usage.status == 64, "\(usage)")
    }
}
