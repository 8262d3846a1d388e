import Foundation
import Testing

@testable import X402

/// A scheme facilitator that records calls and answers from fixed rules: a payload whose
/// `payload.ok` is `false` is invalid with `invalid_payload`.
final class FakeSchemeFacilitator: SchemeFacilitator, @unchecked Sendable {
    let scheme: String
    let family: NetworkPattern
    let extra: JSONObject?
    let addresses: [String]
    private let lock = TestLock()
    private var _calls: [String] = []

    init(scheme: String = "exact", family: NetworkPattern = .evm, extra: JSONObject? = nil, addresses: [String] = ["0xFAC"]) {
        self.scheme = scheme
        self.family = family
        self.extra = extra
        self.addresses = addresses
    }

    var calls: [String] { lock.withLock { _calls } }

    func verify(_ payload: AnyPaymentPayload, requirements: AnyPaymentRequirements) async -> VerifyResponse {
        lock.withLock { _calls.append("verify \(requirements.networkIdentifier)") }
        if payload.payload["ok"]?.boolValue == false { return .invalid(.invalidPayload, message: "not ok", payer: "0xPAYER") }
        return .valid(payer: "0xPAYER")
    }

    func settle(_ payload: AnyPaymentPayload, requirements: AnyPaymentRequirements) async -> SettleResponse {
        lock.withLock { _calls.append("settle \(requirements.networkIdentifier)") }
        if payload.payload["ok"]?.boolValue == false {
            return .failure(.invalidPayload, network: payload.networkIdentifier, payer: "0xPAYER")
        }
        return SettleResponse(success: true, transaction: "0xTX", network: payload.networkIdentifier, payer: "0xPAYER")
    }

    func supportedExtra(for network: Network) async -> JSONObject? { extra }
    func signers(for network: Network) -> [String] { addresses }
}

/// A minimal lock for the fake and the hook log.
final class TestLock: @unchecked Sendable {
    private let lock = NSLock()
    func withLock<T>(_ body: () throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }
}

/// Lines appended from concurrent code.
final class TestLog: @unchecked Sendable {
    private let lock = TestLock()
    private var _entries: [String] = []
    func append(_ line: String) { lock.withLock { _entries.append(line) } }
    var entries: [String] { lock.withLock { _entries } }
}

enum EngineFixtures {
    static func requirements(scheme: String = "exact", network: Network = .baseSepolia) -> PaymentRequirements {
        PaymentRequirements(
            scheme: scheme, network: network, amount: "1000", asset: "0x036CbD53842c5426634e7929541eC2318f3dCF7e",
            payTo: "0x209693Bc6afc0C5328bA36FaF03C514EF312287C", maxTimeoutSeconds: 60)
    }

    static func request(scheme: String = "exact", network: Network = .baseSepolia, ok: Bool = true) -> FacilitatorRequest {
        let r = requirements(scheme: scheme, network: network)
        return FacilitatorRequest(paymentPayload: .v2(PaymentPayload(accepted: r, payload: ["ok": .bool(ok)])), paymentRequirements: .v2(r))
    }

    static func v1Request(network: String = "base-sepolia", ok: Bool = true) -> FacilitatorRequest {
        let r = PaymentRequirementsV1(
            scheme: "exact", network: network, maxAmountRequired: "1000", resource: "https://example.com/r",
            payTo: "0x209693Bc6afc0C5328bA36FaF03C514EF312287C", maxTimeoutSeconds: 60,
            asset: "0x036CbD53842c5426634e7929541eC2318f3dCF7e")
        return FacilitatorRequest(
            paymentPayload: .v1(PaymentPayloadV1(scheme: "exact", network: network, payload: ["ok": .bool(ok)])), paymentRequirements: .v1(r))
    }
}

@Suite("Facilitator engine: dispatch")
struct FacilitatorEngineDispatchTests {
    let fake = FakeSchemeFacilitator()
    var engine: FacilitatorEngine { FacilitatorEngine(schemes: [(fake, [.baseSepolia, .base])]) }

    @Test("a registered payment reaches its scheme, v2 and v1")
    func dispatches() async {
        #expect(await engine.verify(EngineFixtures.request()).isValid)
        let settled = await engine.settle(EngineFixtures.request(network: .base))
        #expect(settled.success && settled.transaction == "0xTX" && settled.network == "eip155:8453")
        let v1 = await engine.settle(EngineFixtures.v1Request())
        #expect(v1.success && v1.network == "base-sepolia")
        #expect(fake.calls == ["verify eip155:84532", "settle eip155:8453", "settle base-sepolia"])
    }

    @Test("a scheme's negative answer is passed through")
    func negative() async {
        let verified = await engine.verify(EngineFixtures.request(ok: false))
        #expect(!verified.isValid && verified.invalidReason == .invalidPayload && verified.payer == "0xPAYER")
        let settled = await engine.settle(EngineFixtures.request(ok: false))
        #expect(!settled.success && settled.errorReason == .invalidPayload)
    }

    @Test("unknown scheme → unsupported_scheme, never reaching a scheme")
    func unknownScheme() async {
        let verified = await engine.verify(EngineFixtures.request(scheme: "upto"))
        #expect(!verified.isValid && verified.invalidReason == .unsupportedScheme)
        let settled = await engine.settle(EngineFixtures.request(scheme: "upto"))
        #expect(!settled.success && settled.errorReason == .unsupportedScheme && settled.network == "eip155:84532" && settled.transaction == "")
        #expect(fake.calls.isEmpty)
    }

    @Test("unserved network → invalid_network (CAIP-2, unknown v1 name, other namespace)")
    func unknownNetwork() async {
        #expect(await engine.verify(EngineFixtures.request(network: .ethereum)).invalidReason == .invalidNetwork)
        #expect(await engine.verify(EngineFixtures.request(network: .solanaDevnet)).invalidReason == .invalidNetwork)
        #expect(await engine.verify(EngineFixtures.v1Request(network: "no-such-net")).invalidReason == .invalidNetwork)
        let settled = await engine.settle(EngineFixtures.v1Request(network: "polygon"))
        #expect(settled.errorReason == .invalidNetwork && settled.network == "polygon")
        #expect(fake.calls.isEmpty)
    }

    @Test("a disabled or unknown version → invalid_x402_version")
    func versions() async throws {
        let v2only = FacilitatorEngine(schemes: [(fake, [.baseSepolia])], versions: [.v2])
        #expect(await v2only.verify(EngineFixtures.v1Request()).invalidReason == .invalidX402Version)
        #expect(await v2only.settle(EngineFixtures.v1Request()).errorReason == .invalidX402Version)

        let body = #"{"x402Version":3,"paymentPayload":{"x402Version":3,"whatever":true},"paymentRequirements":{"network":"eip155:1"}}"#
        let incoming = try IncomingFacilitatorRequest(jsonBytes: Array(body.utf8))
        #expect(incoming == .unsupportedVersion(3, network: "eip155:1"))
        #expect(await engine.verify(incoming).invalidReason == .invalidX402Version)
        let settled = await engine.settle(incoming)
        #expect(settled.errorReason == .invalidX402Version && settled.network == "eip155:1" && !settled.success)
        #expect(fake.calls.isEmpty)
    }

    @Test("the most specific registration wins: exact network over namespace wildcard")
    func specificity() async {
        let wildcard = FakeSchemeFacilitator(addresses: ["0xWILD"])
        let exact = FakeSchemeFacilitator(addresses: ["0xEXACT"])
        var registry = SchemeRegistry<any SchemeFacilitator>()
        registry.register(wildcard, networks: .evm)
        registry.register(exact, networks: NetworkPattern(.base))
        let engine = FacilitatorEngine(registry: registry)
        _ = await engine.verify(EngineFixtures.request(network: .base))
        _ = await engine.verify(EngineFixtures.request(network: .ethereum))
        #expect(exact.calls == ["verify eip155:8453"])
        #expect(wildcard.calls == ["verify eip155:1"])
    }

    @Test("used as a FacilitatorClient")
    func asClient() async throws {
        let client: any FacilitatorClient = engine
        #expect(try await client.verify(EngineFixtures.request()).isValid)
        #expect(try await client.settle(EngineFixtures.request()).success)
        #expect(try await client.supported().kinds.count == 4)
    }
}

@Suite("Facilitator engine: request decoding")
struct FacilitatorEngineDecodingTests {
    @Test(
        "structurally broken bodies throw typed errors naming the problem",
        arguments: [
            ("not json", "invalidJSON"),
            ("[]", "message"),
            (#"{"paymentRequirements":{}}"#, "paymentPayload"),
            (#"{"paymentPayload":{"x402Version":2}}"#, "paymentPayload.accepted"),
            (#"{"paymentPayload":{"x402Version":"2"}}"#, "paymentPayload.x402Version"),
            (#"{"paymentPayload":{"x402Version":9}}"#, "paymentRequirements"),
        ])
    func broken(body: String, mentions: String) {
        do {
            _ = try IncomingFacilitatorRequest(jsonBytes: Array(body.utf8))
            Issue.record("decoded \(body)")
        } catch {
            switch error {
            case .invalidJSON: #expect(mentions == "invalidJSON")
            case .invalidMessage(let e): #expect(e.description.contains(mentions) || (e.path.isEmpty && mentions == "message"), "\(e)")
            default: Issue.record("unexpected \(error)")
            }
        }
    }

    @Test("a well-formed request decodes to a payment")
    func wellFormed() throws {
        let request = EngineFixtures.request()
        let incoming = try IncomingFacilitatorRequest(jsonBytes: request.jsonBytes())
        #expect(incoming == .payment(request))
        #expect(incoming.networkIdentifier == "eip155:84532")
    }
}

@Suite("Facilitator engine: supported and hooks")
struct FacilitatorEngineSupportedTests {
    @Test("kinds per scheme × network × version, v1 by legacy name, signers by family, scheme extra")
    func supported() async {
        let evm = FakeSchemeFacilitator(addresses: ["0xA", "0xB"])
        let svm = FakeSchemeFacilitator(family: .solana, extra: ["feePayer": "FeePayer111"], addresses: ["FeePayer111"])
        let other = FakeSchemeFacilitator(scheme: "upto", addresses: ["0xB", "0xC"])
        let custom = Network("eip155:999999")!  // no v1 name
        let engine = FacilitatorEngine(
            schemes: [(evm, [.baseSepolia, custom]), (svm, [.solanaDevnet]), (other, [.baseSepolia])], extensions: ["bazaar"])
        let s = await engine.supported()
        let ids = s.kinds.map { "\($0.x402Version.rawValue) \($0.scheme) \($0.network)" }
        #expect(
            ids == [
                "2 exact eip155:84532", "2 exact eip155:999999", "2 exact solana:EtWTRABZaYq6iMfeYKouRu166VU2xqa1",
                "2 upto eip155:84532", "1 exact base-sepolia", "1 exact solana-devnet", "1 upto base-sepolia",
            ])
        #expect(s.kind(version: .v2, scheme: "exact", network: Network.solanaDevnet.identifier)?.extra == ["feePayer": "FeePayer111"])
        #expect(s.kind(version: .v2, scheme: "exact", network: "eip155:84532")?.extra == nil)
        #expect(s.signers == ["eip155:*": ["0xA", "0xB", "0xC"], "solana:*": ["FeePayer111"]])
        #expect(s.extensions == ["bazaar"])

        let v2only = await FacilitatorEngine(schemes: [(evm, [.baseSepolia])], versions: [.v2]).supported()
        #expect(v2only.kinds == [SupportedKind(x402Version: .v2, scheme: "exact", network: "eip155:84532")])
    }

    @Test("a before-hook aborts with its reason; after-hooks see every dispatched result")
    func hooks() async {
        let fake = FakeSchemeFacilitator()
        let log = TestLog()
        var hooks = FacilitatorHooks()
        hooks.onBeforeSettle { request in
            request.paymentPayload.payload["block"] != nil ? .abort("before_settle_hook_error", message: "blocked") : .proceed
        }
        hooks.onAfterVerify { _, response in log.append("verified \(response.isValid)") }
        hooks.onAfterSettle { _, response in log.append("settled \(response.success)") }
        let engine = FacilitatorEngine(schemes: [(fake, [.baseSepolia])], hooks: hooks)

        var blocked = EngineFixtures.request()
        if case .v2(var p) = blocked.paymentPayload {
            p.payload = ["ok": true, "block": true]
            blocked.paymentPayload = .v2(p)
        }
        let aborted = await engine.settle(blocked)
        #expect(!aborted.success && aborted.errorReason == "before_settle_hook_error" && aborted.errorMessage == "blocked")
        #expect(aborted.network == "eip155:84532")
        #expect(await engine.verify(EngineFixtures.request()).isValid)
        #expect(await engine.settle(EngineFixtures.request()).success)
        _ = await engine.settle(EngineFixtures.request(scheme: "nope"))
        #expect(log.entries == ["verified true", "settled true"])
        #expect(fake.calls == ["verify eip155:84532", "settle eip155:84532"])
    }
}
