import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Testing
import X402

@testable import X402Facilitator

/// A scheme facilitator that accepts payloads with `ok: true`, and counts settlements.
final class FakeScheme: SchemeFacilitator, @unchecked Sendable {
    let scheme = "exact"
    let family = NetworkPattern.evm
    private let lock = NSLock()
    private var settlements = 0

    var settleCount: Int { lock.withLock { settlements } }

    func verify(_ payload: AnyPaymentPayload, requirements: AnyPaymentRequirements) async -> VerifyResponse {
        payload.payload["ok"]?.boolValue == true ? .valid(payer: "0xPAYER") : .invalid(.invalidPayload, message: "not ok", payer: "0xPAYER")
    }

    func settle(_ payload: AnyPaymentPayload, requirements: AnyPaymentRequirements) async -> SettleResponse {
        lock.withLock { settlements += 1 }
        guard payload.payload["ok"]?.boolValue == true else { return .failure(.invalidPayload, network: payload.networkIdentifier) }
        return SettleResponse(
            success: true, transaction: "0x" + String(repeating: "ab", count: 32), network: payload.networkIdentifier, payer: "0xPAYER")
    }

    func signers(for network: Network) -> [String] { ["0xFACILITATOR"] }
}

enum Fixtures {
    static let requirements = PaymentRequirements(
        scheme: "exact", network: .baseSepolia, amount: "1000", asset: "0x036CbD53842c5426634e7929541eC2318f3dCF7e",
        payTo: "0x209693Bc6afc0C5328bA36FaF03C514EF312287C", maxTimeoutSeconds: 60)

    static func body(ok: Bool = true, scheme: String = "exact", network: Network = .baseSepolia, extensions: JSONObject? = nil) -> String {
        var r = requirements
        r.scheme = scheme
        r.network = network
        let payload = PaymentPayload(
            resource: ResourceInfo(url: "https://api.example.com/weather?city=Paris", description: "Weather"), accepted: r,
            payload: ["ok": .bool(ok)], extensions: extensions)
        return String(decoding: FacilitatorRequest(paymentPayload: .v2(payload), paymentRequirements: .v2(r)).jsonBytes(), as: UTF8.self)
    }

    static func routes(
        tokens: [String] = [], catalog: DiscoveryCatalog? = DiscoveryCatalog(), scheme: FakeScheme = FakeScheme(), journal: SettlementJournal? = nil
    ) -> FacilitatorRoutes {
        let engine = FacilitatorEngine(schemes: [(scheme, [.baseSepolia])], extensions: ["bazaar"])
        var settle: (@Sendable (IncomingFacilitatorRequest, Logger) async -> SettleResponse)?
        if let journal {
            settle = { incoming, logger in await journal.settle(incoming, engine: engine, logger: logger) }
        }
        return FacilitatorRoutes(
            engine: engine, options: .init(bearerTokens: tokens, maxBodyBytes: 4096), catalog: catalog, settle: settle)
    }

    static func app(_ routes: FacilitatorRoutes) -> some ApplicationProtocol {
        Application(router: routes.router())
    }
}

extension TestClientProtocol {
    func post(_ uri: String, _ body: String, headers: HTTPFields = [:]) async throws -> (HTTPResponse.Status, JSONValue, HTTPFields) {
        var headers = headers
        headers[.contentType] = "application/json"
        return try await execute(uri: uri, method: .post, headers: headers, body: ByteBuffer(string: body)) { response in
            (response.status, (try? JSONValue(parsing: response.body.readableBytesView)) ?? .null, response.headers)
        }
    }

    func get(_ uri: String) async throws -> (HTTPResponse.Status, String) {
        try await execute(uri: uri, method: .get) { response in (response.status, String(buffer: response.body)) }
    }
}

@Suite("Facilitator HTTP routes")
struct FacilitatorRoutesTests {
    @Test("verify and settle: 200 with the verdict, positive and negative")
    func verdicts() async throws {
        try await Fixtures.app(Fixtures.routes()).test(.router) { client in
            let (s1, v1, _) = try await client.post("/verify", Fixtures.body())
            #expect(s1 == .ok && v1["isValid"] == true && v1["payer"] == "0xPAYER")
            let (s2, v2, _) = try await client.post("/verify", Fixtures.body(ok: false))
            #expect(s2 == .ok && v2["isValid"] == false && v2["invalidReason"] == "invalid_payload")
            let (s3, v3, _) = try await client.post("/settle", Fixtures.body())
            #expect(s3 == .ok && v3["success"] == true && v3["network"] == "eip155:84532")
            let (s4, v4, _) = try await client.post("/settle", Fixtures.body(ok: false))
            #expect(s4 == .ok && v4["success"] == false && v4["errorReason"] == "invalid_payload" && v4["transaction"] == "")
        }
    }

    @Test("unknown version, scheme and network are 200 verdicts, not errors")
    func unroutable() async throws {
        try await Fixtures.app(Fixtures.routes()).test(.router) { client in
            let (s1, v1, _) = try await client.post("/verify", Fixtures.body(scheme: "upto"))
            #expect(s1 == .ok && v1["invalidReason"] == "unsupported_scheme")
            let (s2, v2, _) = try await client.post("/settle", Fixtures.body(network: .ethereum))
            #expect(s2 == .ok && v2["errorReason"] == "invalid_network" && v2["network"] == "eip155:1")
            let v3body = #"{"x402Version":3,"paymentPayload":{"x402Version":3},"paymentRequirements":{"network":"eip155:84532"}}"#
            let (s3, v3, _) = try await client.post("/settle", v3body)
            #expect(s3 == .ok && v3["errorReason"] == "invalid_x402_version" && v3["success"] == false)
        }
    }

    @Test("structurally broken bodies: 400 naming the problem")
    func badRequests() async throws {
        try await Fixtures.app(Fixtures.routes()).test(.router) { client in
            let (s1, b1, _) = try await client.post("/verify", "{not json")
            #expect(s1 == .badRequest && (b1["error"]?.stringValue ?? "").contains("not JSON"))
            let (s2, b2, _) = try await client.post("/settle", #"{"paymentRequirements":{}}"#)
            #expect(s2 == .badRequest && b2["field"] == "paymentPayload")
            let (s3, b3, _) = try await client.post("/verify", #"{"paymentPayload":{"x402Version":2,"payload":{}},"paymentRequirements":{}}"#)
            #expect(s3 == .badRequest && (b3["field"]?.stringValue ?? "").hasPrefix("paymentPayload"))
            let big = "{\"pad\":\"" + String(repeating: "x", count: 5000) + "\"}"
            let (s4, b4, _) = try await client.post("/verify", big)
            #expect(s4 == .badRequest && (b4["error"]?.stringValue ?? "").contains("4096 bytes"))
        }
    }

    @Test("bearer tokens guard verify and settle only")
    func auth() async throws {
        try await Fixtures.app(Fixtures.routes(tokens: ["s3cret", "other"])).test(.router) { client in
            let (s1, _, h1) = try await client.post("/verify", Fixtures.body())
            #expect(s1 == .unauthorized && h1[.wwwAuthenticate] == "Bearer")
            let (s2, _, _) = try await client.post("/settle", Fixtures.body(), headers: [.authorization: "Bearer wrong"])
            #expect(s2 == .unauthorized)
            let (s3, v3, _) = try await client.post("/verify", Fixtures.body(), headers: [.authorization: "Bearer other"])
            #expect(s3 == .ok && v3["isValid"] == true)
            let (s4, _) = try await client.get("/supported")
            #expect(s4 == .ok)
        }
    }

    @Test("supported, health and request ids")
    func supportedAndHealth() async throws {
        try await Fixtures.app(Fixtures.routes()).test(.router) { client in
            let (status, text) = try await client.get("/supported")
            #expect(status == .ok)
            let supported = try SupportedResponse(jsonBytes: Array(text.utf8))
            #expect(supported.kinds.map(\.network) == ["eip155:84532", "base-sepolia"])
            #expect(supported.signers == ["eip155:*": ["0xFACILITATOR"]])
            #expect(supported.extensions == ["bazaar"])
            let (hs, health) = try await client.get("/health")
            #expect(hs == .ok && health.contains("\"ok\""))
            let (_, _, headers) = try await client.post("/verify", Fixtures.body(), headers: [RequestIDMiddleware.header: "abc-123"])
            #expect(headers[RequestIDMiddleware.header] == "abc-123")
        }
    }

    @Test("metrics: Prometheus text with request counts and outcomes by reason")
    func metrics() async throws {
        try await Fixtures.app(Fixtures.routes()).test(.router) { client in
            _ = try await client.post("/verify", Fixtures.body())
            _ = try await client.post("/verify", Fixtures.body(ok: false))
            _ = try await client.post("/settle", Fixtures.body())
            _ = try await client.post("/verify", "nope")
            let (status, text) = try await client.get("/metrics")
            #expect(status == .ok)
            #expect(text.contains(#"x402_facilitator_verify_total{outcome="valid",reason=""} 1"#), "\(text)")
            #expect(text.contains(#"x402_facilitator_verify_total{outcome="invalid",reason="invalid_payload"} 1"#))
            #expect(text.contains(#"x402_facilitator_settle_total{outcome="success",reason=""} 1"#))
            #expect(text.contains(#"x402_facilitator_http_requests_total{route="verify",status="400"} 1"#))
            #expect(text.contains("x402_facilitator_settle_duration_seconds_bucket"))
        }
    }

    @Test("discovery: bazaar resources from settled payments, type filter, limit and offset")
    func discovery() async throws {
        let bazaar: JSONObject = ["bazaar": ["info": ["input": ["type": "http", "method": "GET"]], "schema": ["type": "object"]]]
        try await Fixtures.app(Fixtures.routes()).test(.router) { client in
            _ = try await client.post("/settle", Fixtures.body(extensions: bazaar))
            _ = try await client.post("/settle", Fixtures.body(ok: false, extensions: bazaar))
            let (status, text) = try await client.get("/discovery/resources?type=http&limit=10")
            #expect(status == .ok)
            let page = try DiscoveryResponse(jsonBytes: Array(text.utf8))
            #expect(page.items.map(\.resource) == ["https://api.example.com/weather"])
            #expect(page.pagination == .init(limit: 10, offset: 0, total: 1))
            let (_, none) = try await client.get("/discovery/resources?type=mcp")
            #expect(try DiscoveryResponse(jsonBytes: Array(none.utf8)).items.isEmpty)
            let (_, past) = try await client.get("/discovery/resources?offset=1")
            #expect(try DiscoveryResponse(jsonBytes: Array(past.utf8)).pagination.total == 1)
            let (bad, _) = try await client.get("/discovery/resources?limit=101")
            #expect(bad == .badRequest)
        }
    }

    @Test("a repeated settle of a settled payment is answered from the journal (same Idempotency-Key)")
    func journal() async throws {
        let scheme = FakeScheme()
        let store = InMemorySettlementJournalStore()
        let routes = Fixtures.routes(scheme: scheme, journal: SettlementJournal(store: store))
        // The journal recognises a retry by its settlement id (an anonymous request is its own settlement).
        let key: HTTPFields = [HTTPField.Name(SettlementIdempotency.headerName)!: "settlement-id-0000001"]
        try await Fixtures.app(routes).test(.router) { client in
            let (_, first, _) = try await client.post("/settle", Fixtures.body(), headers: key)
            let (_, second, _) = try await client.post("/settle", Fixtures.body(), headers: key)
            #expect(first == second && first["success"] == true)
            #expect(scheme.settleCount == 1)
            // A failure without a transaction is not final: it is tried again.
            _ = try await client.post("/settle", Fixtures.body(ok: false), headers: key)
            _ = try await client.post("/settle", Fixtures.body(ok: false), headers: key)
            #expect(scheme.settleCount == 3)
        }
        let entries = await store.entries(in: Set(SettlementJournalEntry.Status.allCases))
        #expect(entries.map(\.status).sorted { $0.rawValue < $1.rawValue } == [.confirmed, .failed])
    }
}

@Suite("Facilitator configuration")
struct FacilitatorConfigurationTests {
    @Test("a file with every member, and defaults for missing ones")
    func decoding() throws {
        let text = """
            {"port": 8080, "networks": [{"network": "eip155:84532", "rpcURL": "http://127.0.0.1:8545", "signerKeyEnv": ["K"]}],
             "v1": false, "bearerTokensEnv": "TOKENS", "database": "sqlite:/tmp/x.sqlite"}
            """
        let c = try FacilitatorConfiguration.parse(Array(text.utf8))
        #expect(try JSONDecoder().decode(FacilitatorConfiguration.self, from: Data(text.utf8)) == c)
        #expect(c.port == 8080 && c.host == "127.0.0.1" && !c.v1 && c.maxBodyBytes == 65536)
        #expect(c.networks.first?.network == .baseSepolia)
        #expect(c.networks.first?.signerKeyEnv == ["K"])
        #expect(c.resolvedBearerTokens(environment: ["TOKENS": "a, b"]) == ["a", "b"])
        try c.validate()
    }

    @Test("invalid values are explained")
    func validation() throws {
        var c = FacilitatorConfiguration()
        #expect(throws: FacilitatorConfigurationError.self) { try c.validate() }
        c.networks = [.init(network: try #require(Network("solana:abc")), rpcURL: "http://x")]
        #expect(throws: FacilitatorConfigurationError.self) { try c.validate() }
        c.networks = [.init(network: .ethereum, rpcURL: "http://x", schemes: ["upto"])]
        #expect(
            throws: FacilitatorConfigurationError.invalidValue(
                "networks[0].schemes", "scheme \"upto\" on eip155:1 is not available (available: exact)")
        ) {
            try c.validate()
        }
        c.networks = [.init(network: .ethereum, rpcURL: "http://x")]
        c.database = "redis://x"
        #expect { try c.validate() } throws: { ($0 as? FacilitatorConfigurationError)?.description.hasPrefix("database: ") == true }
    }

    @Test(
        "a typo in the file is refused with its key path, not silently dropped",
        arguments: [
            (
                #"{"networks": [{"network": "eip155:84532", "rpcURL": "http://127.0.0.1:8545", "recieptTimeoutSeconds": 5}]}"#,
                "unknown member \"networks[0].recieptTimeoutSeconds\""
            ),
            (#"{"recieptTimeoutSeconds": 5}"#, "unknown member \"recieptTimeoutSeconds\""),
            (#"{"rateLimitPerPayer": {"burst": 1, "perSec": 2}}"#, "unknown member \"rateLimitPerPayer.perSec\""),
            (#"{"networks": [{"network": "base", "rpcURL": "http://x"}]}"#, "networks[0].network: not a CAIP-2 network identifier: base"),
            (#"{"port": "80"}"#, "port: "),
            (#"{"networks": [{"network": "eip155:1"}]}"#, "networks[0].rpcURL: missing"),
            ("[1]", "the top level must be an object"),
            ("{", "not JSON"),
        ])
    func unknownMembers(text: String, reason: String) {
        #expect {
            try FacilitatorConfiguration.parse(Array(text.utf8))
        } throws: { error in
            guard case .invalidFile(let why) = error as? FacilitatorConfigurationError else { return false }
            return why.contains(reason)
        }
    }

    @Test("a file's errors name the file")
    func fileErrors() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("x402-facilitator-config-\(UUID().uuidString).json").path
        try Data(#"{"networks": [], "databse": "memory"}"#.utf8).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(throws: FacilitatorConfigurationError.invalidFile("\(path): unknown member \"databse\"")) {
            try FacilitatorConfiguration.load(path: path)
        }
        #expect(throws: FacilitatorConfigurationError.unreadableFile(path + ".missing")) {
            try FacilitatorConfiguration.load(path: path + ".missing")
        }
    }

    @Test("a missing signer key names the variable, never a value")
    func keys() async throws {
        var c = FacilitatorConfiguration()
        c.networks = [.init(network: .baseSepolia, rpcURL: "http://127.0.0.1:1")]
        c.signerKeyEnv = ["NOPE"]
        await #expect(throws: FacilitatorConfigurationError.self) { _ = try await FacilitatorService(configuration: c, environment: [:]) }
        let key = "0x" + String(repeating: "11", count: 32)
        let service = try await FacilitatorService(configuration: c, environment: ["NOPE": key])
        #expect(service.signerAddresses[.baseSepolia]?.count == 1)
    }

    @Test("/supported lists the extensions the service implements: bazaar and payment-identifier, not sign-in-with-x")
    func supportedExtensions() async throws {
        var c = FacilitatorConfiguration()
        c.networks = [.init(network: .baseSepolia, rpcURL: "http://127.0.0.1:1")]
        c.signerKeyEnv = ["KEY"]
        let service = try await FacilitatorService(configuration: c, environment: ["KEY": "0x" + String(repeating: "11", count: 32)])
        let supported = await service.engine.supported()
        #expect(supported.extensions == ["bazaar", PaymentIdentifier.extensionKey])
        #expect(!supported.extensions.contains(SignInWithX.extensionKey))
    }
}
