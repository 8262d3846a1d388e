import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Testing
import X402
import X402EVM

@testable import X402Facilitator

/// Abuse limits of the HTTP surface: rate limits, exposure without auth, discovery poisoning,
/// structured verdicts for every advertised kind, refusal metrics.
@Suite("Facilitator limits")
struct FacilitatorLimitsTests {
    static let payer = "0xabcdefabcdefabcdefabcdefabcdefabcdefabcd"

    /// A request body for one `/supported` kind (v2 requirements for v2, v1 network names for v1).
    static func body(for kind: SupportedKind, ok: Bool = true, from: String = FacilitatorLimitsTests.payer) -> String {
        let payload: JSONObject = ["ok": .bool(ok), "authorization": ["from": .string(from)]]
        if kind.x402Version == .v1 {
            let requirements = PaymentRequirementsV1(
                scheme: kind.scheme, network: kind.network, maxAmountRequired: "1000", resource: "https://api.example.com/x",
                payTo: "0x209693Bc6afc0C5328bA36FaF03C514EF312287C", maxTimeoutSeconds: 60,
                asset: "0x036CbD53842c5426634e7929541eC2318f3dCF7e", extra: ["name": "USDC", "version": "2"])
            let request = FacilitatorRequest(
                paymentPayload: .v1(PaymentPayloadV1(scheme: kind.scheme, network: kind.network, payload: payload)),
                paymentRequirements: .v1(requirements))
            return String(decoding: request.jsonBytes(), as: UTF8.self)
        }
        var requirements = Fixtures.requirements
        requirements.network = Network(kind.network) ?? .baseSepolia
        let request = FacilitatorRequest(
            paymentPayload: .v2(PaymentPayload(accepted: requirements, payload: payload)), paymentRequirements: .v2(requirements))
        return String(decoding: request.jsonBytes(), as: UTF8.self)
    }

    static func routes(options: FacilitatorRoutes.Options, catalog: DiscoveryCatalog? = DiscoveryCatalog()) -> FacilitatorRoutes {
        let engine = FacilitatorEngine(schemes: [(FakeScheme(), [.baseSepolia])], extensions: ["bazaar"])
        return FacilitatorRoutes(engine: engine, options: options, catalog: catalog)
    }

    static let unlimited = FacilitatorRoutes.Options(
        maxBodyBytes: 8192, clientRate: RateLimit(burst: 0, perSecond: 0), payerRate: RateLimit(burst: 0, perSecond: 0))

    @Test("every kind /supported lists gets a structured verify and settle verdict, never a 400")
    func everyKindGetsAVerdict() async throws {
        try await Fixtures.app(Self.routes(options: Self.unlimited)).test(.router) { client in
            let (_, text) = try await client.get("/supported")
            let supported = try SupportedResponse(jsonBytes: Array(text.utf8))
            #expect(supported.kinds.contains { $0.x402Version == .v1 }, "the fixture advertises v1 kinds")
            for kind in supported.kinds {
                for ok in [true, false] {
                    let (vs, verdict, _) = try await client.post("/verify", Self.body(for: kind, ok: ok))
                    #expect(vs == .ok, "verify \(kind.network) v\(kind.x402Version.rawValue): \(verdict)")
                    #expect(verdict["isValid"]?.boolValue == ok, "verify \(kind.network): \(verdict)")
                    let (ss, settled, _) = try await client.post("/settle", Self.body(for: kind, ok: ok))
                    #expect(ss == .ok, "settle \(kind.network) v\(kind.x402Version.rawValue): \(settled)")
                    #expect(settled["success"]?.boolValue == ok, "settle \(kind.network): \(settled)")
                }
                // A caller's top-level x402Version (the API's 2 beside a v1 payment, the Go e2e
                // facilitator's 1 beside a v2 one, or none) does not turn a verdict into a 400.
                for top in ["1", "2", nil] as [String?] {
                    var body = try #require(try JSONValue(parsing: Array(Self.body(for: kind).utf8)).objectValue)
                    body["x402Version"] = top.flatMap { JSONNumber(literal: $0) }.map(JSONValue.number)
                    let text = JSONValue.object(body).serializedString()
                    let (vs, verdict, _) = try await client.post("/verify", text)
                    #expect(vs == .ok && verdict["isValid"] == true, "verify \(kind.network) top \(top ?? "none"): \(verdict)")
                }
            }
        }
    }
}

extension FacilitatorLimitsTests {
    @Test("per-payer token bucket: 429 with a JSON error and Retry-After; other payers unaffected")
    func payerRateLimit() async throws {
        var options = Self.unlimited
        options.payerRate = RateLimit(burst: 3, perSecond: 0.001)
        let kind = SupportedKind(x402Version: .v2, scheme: "exact", network: "eip155:84532")
        try await Fixtures.app(Self.routes(options: options)).test(.router) { client in
            for _ in 0..<3 {
                let (status, _, _) = try await client.post("/verify", Self.body(for: kind))
                #expect(status == .ok)
            }
            let (limited, body, headers) = try await client.post("/settle", Self.body(for: kind))
            #expect(limited == .tooManyRequests)
            #expect(body["reason"] == "rate_limited" && body["error"]?.stringValue != nil)
            #expect(headers[.retryAfter] != nil)
            // The payer's address is case-insensitive.
            let (upper, _, _) = try await client.post(
                "/verify", Self.body(for: kind, from: Self.payer.uppercased().replacingOccurrences(of: "0X", with: "0x")))
            #expect(upper == .tooManyRequests)
            let (other, verdict, _) = try await client.post("/verify", Self.body(for: kind, from: "0x2222222222222222222222222222222222222222"))
            #expect(other == .ok && verdict["isValid"] == true)
            let (_, metrics) = try await client.get("/metrics")
            #expect(metrics.contains(#"x402_facilitator_refusals_total{route="settle",reason="rate_limited"} 1"#), "\(metrics)")
            #expect(metrics.contains(#"x402_facilitator_refusals_total{route="verify",reason="rate_limited"} 1"#), "\(metrics)")
        }
    }

    @Test("forged payments naming a payer do not use up that payer's bucket; the payer's own valid ones do")
    func payerBucketChargedOnlyForProvedRequests() async throws {
        var options = Self.unlimited
        options.payerRate = RateLimit(burst: 3, perSecond: 0.001)
        let kind = SupportedKind(x402Version: .v2, scheme: "exact", network: "eip155:84532")
        try await Fixtures.app(Self.routes(options: options)).test(.router) { client in
            // Anyone can put the payer's address into a payment that does not verify.
            for route in ["/verify", "/settle", "/verify", "/settle", "/verify", "/settle"] {
                let (status, verdict, _) = try await client.post(route, Self.body(for: kind, ok: false))
                #expect(status == .ok && verdict["isValid"] != true && verdict["success"] != true, "\(route): \(verdict)")
            }
            // The payer's bucket is whole: three valid requests pass, the fourth is refused.
            for route in ["/verify", "/settle", "/verify"] {
                let (status, verdict, _) = try await client.post(route, Self.body(for: kind))
                #expect(status == .ok, "\(route): \(verdict)")
            }
            let (limited, _, _) = try await client.post("/verify", Self.body(for: kind))
            #expect(limited == .tooManyRequests)
            // An empty bucket refuses requests naming the payer, forged or not.
            let (forged, _, _) = try await client.post("/settle", Self.body(for: kind, ok: false))
            #expect(forged == .tooManyRequests)
        }
    }

    @Test("a bucket charged after the fact goes into debt for requests admitted together, and pays it back first")
    func chargedBucketDebt() {
        let limiter = RateLimiter(limit: RateLimit(burst: 2, perSecond: 1))
        let start = ContinuousClock.now
        // Four requests admitted together (each saw a token), then charged.
        for _ in 0..<4 { #expect(limiter.hasToken("p", now: start)) }
        for _ in 0..<4 { limiter.charge("p", now: start) }
        #expect(!limiter.hasToken("p", now: start))
        // 2 tokens of debt: 2.5 s refill gives 0.5, still no token; 3.1 s gives 1.1.
        #expect(!limiter.hasToken("p", now: start + .milliseconds(2500)))
        #expect(limiter.hasToken("p", now: start + .milliseconds(3100)))
        // The debt is bounded by the burst: a flood of charges costs at most burst + burst / rate.
        for _ in 0..<1000 { limiter.charge("q", now: start) }
        #expect(limiter.hasToken("q", now: start + .milliseconds(4100)))
        // Looking at keys never charged (made-up payers) stores nothing.
        let tracked = limiter.trackedKeys
        for i in 0..<500 { #expect(limiter.hasToken("made-up-\(i)", now: start)) }
        #expect(limiter.trackedKeys == tracked)
    }

    @Test("per-client token bucket applies before the body is read")
    func clientRateLimit() async throws {
        var options = Self.unlimited
        options.clientRate = RateLimit(burst: 2, perSecond: 0.001)
        try await Fixtures.app(Self.routes(options: options)).test(.router) { client in
            var statuses: [HTTPResponse.Status] = []
            for _ in 0..<3 { statuses.append(try await client.post("/verify", "{not json").0) }
            #expect(statuses == [.badRequest, .badRequest, .tooManyRequests])
            // Other routes are not limited.
            let (supported, _) = try await client.get("/supported")
            #expect(supported == .ok)
        }
    }

    @Test("the rate limiter's table stays bounded under a flood of distinct keys")
    func boundedTable() {
        let limiter = RateLimiter(limit: RateLimit(burst: 1, perSecond: 0), maximumKeys: 100)
        for i in 0..<1000 { _ = limiter.allow("k\(i)") }
        #expect(limiter.trackedKeys <= 100)
        // A key that used its token stays limited while it is tracked.
        #expect(limiter.allow("k999") == false)
    }

    @Test("refusal metrics count verdicts by reason")
    func refusalMetrics() async throws {
        try await Fixtures.app(Self.routes(options: Self.unlimited)).test(.router) { client in
            _ = try await client.post("/verify", Fixtures.body(ok: false))
            _ = try await client.post("/settle", Fixtures.body(ok: false))
            _ = try await client.post("/verify", "nope")
            let (_, text) = try await client.get("/metrics")
            #expect(text.contains(#"x402_facilitator_refusals_total{route="verify",reason="invalid_payload"} 1"#), "\(text)")
            #expect(text.contains(#"x402_facilitator_refusals_total{route="settle",reason="invalid_payload"} 1"#))
            #expect(text.contains(#"x402_facilitator_refusals_total{route="verify",reason="invalid_request"} 1"#))
        }
        let metrics = FacilitatorMetrics()
        metrics.gasUsed(network: "eip155:84532", gas: 61_234)
        metrics.gasUsed(network: "eip155:84532", gas: 1_000)
        let text = String(decoding: metrics.exposition(), as: UTF8.self)
        #expect(text.contains(#"x402_facilitator_gas_used_total{network="eip155:84532"} 62234"#), "\(text)")
    }

    @Test("F17: the catalog is fed by settlements only, and hostile metadata is not published")
    func discoveryPoisoning() async throws {
        let bazaar: JSONObject = ["bazaar": ["info": ["input": ["type": "http", "method": "GET"]]]]
        let catalog = DiscoveryCatalog()
        try await Fixtures.app(Self.routes(options: Self.unlimited, catalog: catalog)).test(.router) { client in
            // A valid verify publishes nothing (before the fix it did).
            _ = try await client.post("/verify", Fixtures.body(extensions: bazaar))
            #expect(try await catalog.count() == 0)
            _ = try await client.post("/settle", Fixtures.body(extensions: bazaar))
            #expect(try await catalog.count() == 1)
        }

        func entry(url: String, description: String? = nil, mimeType: String? = nil, bazaar: JSONObject) -> (String, DiscoveryResource)? {
            let payload = PaymentPayload(
                resource: ResourceInfo(url: url, description: description, mimeType: mimeType), accepted: Fixtures.requirements,
                payload: [:], extensions: bazaar)
            let request = FacilitatorRequest(paymentPayload: .v2(payload), paymentRequirements: .v2(Fixtures.requirements))
            return DiscoveryCatalog.entry(for: request, at: Date())
        }
        #expect(entry(url: "https://api.example.com/a", description: "Weather", bazaar: bazaar) != nil)
        #expect(entry(url: "javascript://api.example.com/a", bazaar: bazaar) == nil)
        #expect(entry(url: "ftp://api.example.com/a", bazaar: bazaar) == nil)
        #expect(entry(url: "https://api.example.com/" + String(repeating: "a", count: 3000), bazaar: bazaar) == nil)
        #expect(entry(url: "https://api.example.com/a", description: "Pay \u{1B}[2Kto me", bazaar: bazaar) == nil)
        #expect(entry(url: "https://api.example.com/a", description: "evil\u{202E}txt", bazaar: bazaar) == nil)
        #expect(entry(url: "https://api.example.com/a", description: String(repeating: "d", count: 2000), bazaar: bazaar) == nil)
        #expect(entry(url: "https://api.example.com/a", mimeType: String(repeating: "m", count: 200), bazaar: bazaar) == nil)
        var many = JSONObject()
        for i in 0..<100 { many["k\(i)"] = .string("v") }
        #expect(entry(url: "https://api.example.com/a", bazaar: ["bazaar": ["info": ["input": .object(many.merging(["type": "http"]))]]]) == nil)
        #expect(entry(url: "https://api.example.com/a", bazaar: ["bazaar": .object(many.merging(["info": ["input": ["type": "http"]]]))]) == nil)
        let huge = String(repeating: "x", count: 20_000)
        #expect(
            entry(url: "https://api.example.com/a", bazaar: ["bazaar": ["info": ["input": ["type": "http"], "output": ["example": .string(huge)]]]])
                == nil)
        #expect(entry(url: "https://api.example.com/a", bazaar: ["bazaar": ["info": ["input": ["type": "http\u{0}"]]]]) == nil)
    }
}

@Suite("Facilitator exposure")
struct FacilitatorExposureTests {
    @Test("F9: a non-loopback address without bearer tokens is refused unless insecureNoAuth")
    func exposure() async throws {
        var c = FacilitatorConfiguration()
        c.networks = [.init(network: .baseSepolia, rpcURL: "http://127.0.0.1:1")]
        c.signerKeyEnv = ["KEY"]
        let environment = ["KEY": "0x" + String(repeating: "11", count: 32), "TOKENS": "t0ken"]
        for host in ["127.0.0.1", "localhost", "::1", "127.0.0.2"] {
            c.host = host
            #expect(throws: Never.self) { try c.validateExposure(bearerTokens: []) }
        }
        c.host = "0.0.0.0"
        #expect(throws: FacilitatorConfigurationError.self) { try c.validateExposure(bearerTokens: []) }
        await #expect(throws: FacilitatorConfigurationError.self) { _ = try await FacilitatorService(configuration: c, environment: environment) }
        c.host = "127.0.0.1.example.com"
        #expect(throws: FacilitatorConfigurationError.self) { try c.validateExposure(bearerTokens: []) }
        c.host = "0.0.0.0"
        c.bearerTokensEnv = "TOKENS"
        _ = try await FacilitatorService(configuration: c, environment: environment)
        c.bearerTokensEnv = nil
        c.insecureNoAuth = true
        _ = try await FacilitatorService(configuration: c, environment: environment)
        // The file key.
        let file = try JSONDecoder().decode(FacilitatorConfiguration.self, from: Data(#"{"host":"0.0.0.0","insecureNoAuth":true}"#.utf8))
        #expect(file.insecureNoAuth)
    }

    @Test("limits from the configuration file, with defaults, and their validation")
    func limitsConfiguration() throws {
        let text = """
            {"networks": [{"network": "eip155:84532", "rpcURL": "http://127.0.0.1:8545"}],
             "maxGasPerSettlement": 300000, "maxFeePerGasWei": 1000000000, "maxPriorityFeePerGasWei": 100,
             "acceptedAssets": {"eip155:84532": ["0x7777777777777777777777777777777777777777"]},
             "deployERC6492Wallets": true, "erc6492Factories": ["0x6666666666666666666666666666666666666666"],
             "rateLimitPerClient": {"burst": 10, "perSecond": 1}, "rateLimitPerPayer": {"burst": 0, "perSecond": 0}}
            """
        let c = try FacilitatorConfiguration.parse(Array(text.utf8))
        #expect(c.maxGasPerSettlement == 300_000 && c.maxFeePerGasWei == 1_000_000_000 && c.maxPriorityFeePerGasWei == 100)
        #expect(c.erc6492Factories.count == 1 && c.deployERC6492Wallets)
        #expect(c.rateLimitPerClient == RateLimit(burst: 10, perSecond: 1) && !c.rateLimitPerPayer.isEnabled)
        try c.validate()
        let d = FacilitatorConfiguration()
        #expect(d.maxGasPerSettlement == 250_000 && d.maxFeePerGasWei == 200_000_000_000 && d.erc6492Factories.isEmpty && !d.insecureNoAuth)
        var bad = c
        bad.erc6492Factories = ["nope"]
        #expect(throws: FacilitatorConfigurationError.self) { try bad.validate() }
        bad = c
        bad.maxGasPerSettlement = 1
        #expect(throws: FacilitatorConfigurationError.self) { try bad.validate() }
        bad = c
        bad.rateLimitPerPayer = RateLimit(burst: 1, perSecond: .nan)
        #expect(throws: FacilitatorConfigurationError.self) { try bad.validate() }
    }
}
