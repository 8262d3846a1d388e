import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Testing
import X402TestSupport

@testable import X402
@testable import X402HTTP

/// Counts requests per key (e.g. `/supported` attempts) and remembers headers seen.
actor ServerLog {
    var counts: [String: Int] = [:]
    var authorizations: [String] = []
    func hit(_ key: String) -> Int {
        counts[key, default: 0] += 1
        return counts[key]!
    }
    func saw(authorization: String?) { authorizations.append(authorization ?? "") }
    var idempotencyKeys: [String] = []
    func saw(idempotencyKey: String?) { idempotencyKeys.append(idempotencyKey ?? "") }
}

let network = "eip155:84532"

func jsonResponse(_ status: HTTPResponse.Status, _ text: String) -> Response {
    Response(
        status: status, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
}

/// A local facilitator answering each scenario under its own path prefix.
func withFacilitator(_ body: @Sendable (_ base: String, _ log: ServerLog) async throws -> Void) async throws {
    let log = ServerLog()
    let router = Router()
    // Positive answers.
    router.post("ok/verify") { _, _ in jsonResponse(.ok, #"{"isValid":true,"payer":"0xPAYER"}"#) }
    router.post("ok/settle") { _, _ in
        jsonResponse(.ok, #"{"success":true,"transaction":"0xtx","network":"eip155:84532","payer":"0xPAYER"}"#)
    }
    // Records the settlement id a /settle carries.
    router.post("idem/settle") { request, _ in
        let key = request.headers.first { $0.name.canonicalName == SettlementIdempotency.headerName.lowercased() }?.value
        await log.saw(idempotencyKey: key)
        return jsonResponse(.ok, #"{"success":true,"transaction":"0xtx","network":"eip155:84532","payer":"0xPAYER"}"#)
    }
    router.get("ok/supported") { _, _ in
        _ = await log.hit("supported")
        return jsonResponse(.ok, #"{"kinds":[{"x402Version":2,"scheme":"exact","network":"eip155:84532"}],"extensions":[],"signers":{}}"#)
    }
    // TS / Python: 200 with a negative verdict.
    router.post("negative200/verify") { _, _ in
        jsonResponse(.ok, #"{"isValid":false,"invalidReason":"invalid_exact_evm_insufficient_balance","payer":"0xPAYER"}"#)
    }
    router.post("negative200/settle") { _, _ in
        jsonResponse(.ok, #"{"success":false,"errorReason":"transaction_failed","transaction":"","network":"eip155:84532"}"#)
    }
    // x402-rs: 400 / 412 with the message.
    router.post("rs/verify") { _, _ in
        jsonResponse(
            .preconditionFailed,
            #"{"isValid":false,"invalidReason":"permit2_allowance_required","invalidReasonDetails":"approve first","payer":""}"#)
    }
    router.post("rs/settle") { _, _ in
        jsonResponse(
            .badRequest, #"{"success":false,"network":"","transaction":"","errorReason":"invalid_payment","errorMessage":"bad","payer":""}"#)
    }
    // Go: 500 with {"error": "<reason>: <message>"}.
    router.post("go/verify") { _, _ in
        jsonResponse(.internalServerError, #"{"error":"invalid_exact_evm_payload_signature: signature does not match"}"#)
    }
    router.post("go/settle") { _, _ in jsonResponse(.internalServerError, #"{"errorReason":"transaction_failed"}"#) }
    // Faults.
    router.post("garbage/verify") { _, _ in jsonResponse(.ok, "<html>hello</html>") }
    router.post("garbage/settle") { _, _ in jsonResponse(.ok, #"{"success":"yes"}"#) }
    router.get("garbage/supported") { _, _ in jsonResponse(.ok, #"{"kinds":"none"}"#) }
    router.post("broken/verify") { _, _ in jsonResponse(.internalServerError, #"{"error":"Internal Server Error"}"#) }
    router.post("broken/settle") { _, _ in jsonResponse(.badGateway, "upstream down") }
    router.post("lying/settle") { _, _ in
        jsonResponse(.internalServerError, #"{"success":true,"transaction":"0x1","network":"eip155:84532"}"#)
    }
    router.post("slow/verify") { _, _ in
        try await Task.sleep(for: .seconds(5))
        return jsonResponse(.ok, #"{"isValid":true}"#)
    }
    // Rate-limited /supported: 429 twice, then the answer.
    router.get("limited/supported") { _, _ in
        let n = await log.hit("limited")
        if n <= 2 { return jsonResponse(.tooManyRequests, #"{"error":"slow down"}"#) }
        return jsonResponse(.ok, #"{"kinds":[]}"#)
    }
    router.get("alwayslimited/supported") { _, _ in jsonResponse(.tooManyRequests, "") }
    // Requires a bearer token.
    router.post("auth/verify") { request, _ in
        let authorization = request.headers[.authorization]
        await log.saw(authorization: authorization)
        guard authorization == "Bearer secret" else { return jsonResponse(.unauthorized, #"{"error":"unauthorized"}"#) }
        return jsonResponse(.ok, #"{"isValid":true}"#)
    }

    try await withLoopbackServer(router) { base in try await body(base, log) }
}

func sampleRequest() -> FacilitatorRequest {
    let requirements = PaymentRequirements(
        scheme: "exact", network: .baseSepolia, amount: "10000", asset: "0x036CbD53842c5426634e7929541eC2318f3dCF7e",
        payTo: "0x209693Bc6afc0C5328bA36FaF03C514EF312287C", extra: ["name": "USDC", "version": "2"])
    let payload = PaymentPayload(accepted: requirements, payload: ["signature": "0x00"])
    return FacilitatorRequest(paymentPayload: .v2(payload), paymentRequirements: .v2(requirements))
}

func client(
    _ base: String, _ scenario: String, authentication: FacilitatorAuthentication = .none, timeout: Duration = .seconds(10)
)
    -> HTTPFacilitatorClient
{
    HTTPFacilitatorClient(
        configuration: .init(
            baseURL: "\(base)/\(scenario)//", authentication: authentication, timeout: timeout, settleTimeout: timeout,
            supportedRetryDelays: [.milliseconds(5), .milliseconds(5)]))
}

/// The error an operation failed with, or `nil` if it succeeded.
func failure<T>(_ operation: () async throws(FacilitatorClientError) -> T) async -> FacilitatorClientError? {
    do {
        _ = try await operation()
        return nil
    } catch {
        return error
    }
}

@Suite("HTTP facilitator client")
struct HTTPFacilitatorClientTests {
    @Test func baseURLLosesTrailingSlashes() {
        #expect(HTTPFacilitatorClient.Configuration(baseURL: "https://f.example/x402///").baseURL == "https://f.example/x402")
    }

    @Test func positiveAnswers() async throws {
        try await withFacilitator { base, log in
            let c = client(base, "ok")
            let v = try await c.verify(sampleRequest())
            #expect(v.isValid)
            #expect(v.payer == "0xPAYER")
            let s = try await c.settle(sampleRequest())
            #expect(s.success)
            #expect(s.transaction == "0xtx")
            let kinds = try await c.supported()
            #expect(kinds.kinds.first?.network == network)
            // Cached: a second call does not ask again.
            _ = try await c.supported()
            #expect(await log.counts["supported"] == 1)
            // An explicit refresh does.
            try await c.refreshSupported()
            #expect(await log.counts["supported"] == 2)
        }
    }

    @Test func negativeVerdictsOn200() async throws {
        try await withFacilitator { base, _ in
            let c = client(base, "negative200")
            let v = try await c.verify(sampleRequest())
            #expect(!v.isValid)
            #expect(v.invalidReason == .exactEVMInsufficientBalance)
            let s = try await c.settle(sampleRequest())
            #expect(!s.success)
            #expect(s.errorReason == .transactionFailed)
        }
    }

    @Test func negativeVerdictsOn4xx() async throws {
        try await withFacilitator { base, _ in
            let c = client(base, "rs")
            let v = try await c.verify(sampleRequest())
            #expect(!v.isValid)
            #expect(v.invalidReason == .permit2AllowanceRequired)
            #expect(v.invalidMessage == "approve first")
            let s = try await c.settle(sampleRequest())
            #expect(!s.success)
            #expect(s.errorReason == .invalidPayment)
            #expect(s.network == network)
        }
    }

    @Test func negativeVerdictsOn500WithBody() async throws {
        try await withFacilitator { base, _ in
            let c = client(base, "go")
            let v = try await c.verify(sampleRequest())
            #expect(!v.isValid)
            #expect(v.invalidReason == .exactEVMPayloadSignature)
            #expect(v.invalidMessage == "signature does not match")
            let s = try await c.settle(sampleRequest())
            #expect(!s.success)
            #expect(s.errorReason == .transactionFailed)
            #expect(s.network == network)
        }
    }

    @Test func garbageIsAnInvalidResponse() async throws {
        try await withFacilitator { base, _ in
            let c = client(base, "garbage")
            await #expect(throws: FacilitatorClientError.self) { _ = try await c.verify(sampleRequest()) }
            guard await failure({ () async throws(FacilitatorClientError) in try await c.settle(sampleRequest()) })?.code == .invalidResponse else {
                Issue.record("expected invalidResponse from /settle")
                return
            }
            guard await failure({ () async throws(FacilitatorClientError) in try await c.supported() })?.code == .invalidResponse else {
                Issue.record("expected invalidResponse from /supported")
                return
            }
        }
    }

    @Test func non2xxWithoutVerdictIsAnHTTPError() async throws {
        try await withFacilitator { base, _ in
            let c = client(base, "broken")
            let verifyError = await failure { () async throws(FacilitatorClientError) in try await c.verify(sampleRequest()) }
            #expect(verifyError == .httpStatus(500, bodyExcerpt: #"{"error":"Internal Server Error"}"#))
            let settleError = await failure { () async throws(FacilitatorClientError) in try await c.settle(sampleRequest()) }
            #expect(settleError == .httpStatus(502, bodyExcerpt: "upstream down"))
            // A non-2xx claiming success is never a success.
            let lying = client(base, "lying")
            guard let e500 = await failure({ () async throws(FacilitatorClientError) in try await lying.settle(sampleRequest()) }),
                e500.code == .httpStatus, e500.httpStatus == 500
            else {
                Issue.record("expected httpStatus 500")
                return
            }
            // An unknown path is a 404 without a verdict.
            let missing = client(base, "nothing-here")
            guard let e404 = await failure({ () async throws(FacilitatorClientError) in try await missing.verify(sampleRequest()) }),
                e404.code == .httpStatus, e404.httpStatus == 404
            else {
                Issue.record("expected httpStatus 404")
                return
            }
        }
    }

    @Test func slowFacilitatorTimesOut() async throws {
        try await withFacilitator { base, _ in
            let slow = client(base, "slow", timeout: .milliseconds(200))
            #expect(await failure { () async throws(FacilitatorClientError) in try await slow.verify(sampleRequest()) } == .timeout)
        }
    }

    @Test func unreachableFacilitator() async throws {
        // A port that was just free: bind-and-release is racy, so use a port that listens nowhere.
        // AsyncHTTPClient keeps retrying a refused connection until the deadline, so either
        // classification is possible; both make the resource server answer 503.
        let c = HTTPFacilitatorClient(configuration: .init(baseURL: "http://127.0.0.1:9", timeout: .seconds(1)))
        let error = await failure({ () async throws(FacilitatorClientError) in try await c.verify(sampleRequest()) })
        if error?.code != .unreachable && error?.code != .timeout {
            Issue.record("expected unreachable or timeout, got \(String(describing: error))")
        }
    }

    @Test func supportedRetriesOn429() async throws {
        try await withFacilitator { base, log in
            let kinds = try await client(base, "limited").supported()
            #expect(kinds.kinds.isEmpty)
            #expect(await log.counts["limited"] == 3)
            let limited = client(base, "alwayslimited")
            guard let e = await failure({ () async throws(FacilitatorClientError) in try await limited.supported() }), e.code == .httpStatus,
                e.httpStatus == 429
            else {
                Issue.record("expected 429")
                return
            }
        }
    }

    /// The seller's settlement id reaches the facilitator as `Idempotency-Key` on /settle (its
    /// retries are then recognised as the owner's); none, or a malformed one, sends no header.
    @Test func settlementIDIsSentAsIdempotencyKey() async throws {
        try await withFacilitator { base, log in
            let facilitator = client(base, "idem")
            _ = try await facilitator.settle(sampleRequest())
            let id = SettlementIdempotency.newID()
            _ = try await SettlementIdempotency.$current.withValue(id) { try await facilitator.settle(sampleRequest()) }
            _ = try await SettlementIdempotency.$current.withValue("bad id\r\nX: y") { try await facilitator.settle(sampleRequest()) }
            #expect(await log.idempotencyKeys == ["", id, ""])
        }
    }

    @Test func authenticationHeaders() async throws {
        try await withFacilitator { base, log in
            let fixed = try await client(base, "auth", authentication: .headers([("Authorization", "Bearer secret")])).verify(sampleRequest())
            #expect(fixed.isValid)
            let provided = client(
                base, "auth",
                authentication: .provider { endpoint in
                    #expect(endpoint == .verify)
                    return [("Authorization", "Bearer secret")]
                })
            let viaProvider = try await provided.verify(sampleRequest())
            #expect(viaProvider.isValid)
            await #expect(throws: FacilitatorClientError.self) { _ = try await client(base, "auth").verify(sampleRequest()) }
            struct NoToken: Error {}
            let failing = client(base, "auth", authentication: .provider { _ in throw NoToken() })
            #expect(
                await failure { () async throws(FacilitatorClientError) in try await failing.verify(sampleRequest()) }
                    == .unreachable("facilitator credentials unavailable"))
            #expect(await log.authorizations == ["Bearer secret", "Bearer secret", ""])
        }
    }

    /// The client drives the resource server: every facilitator answer shape ends in the right
    /// status, and content is only served after a successful settlement.
    @Test func resourceServerOverHTTP() async throws {
        try await withFacilitator { base, _ in
            var schemes = SchemeRegistry<any SchemeServer>()
            schemes.register(PlainSchemeServer(), networks: NetworkPattern(namespace: "eip155"))
            for (scenario, expected) in [("ok", 200), ("negative200", 402), ("rs", 412), ("go", 402), ("garbage", 502), ("broken", 502)] {
                let server = try ResourceServer(
                    configuration: .init(
                        routes: ["GET /paid": .exact("$0.01", on: .baseSepolia, payTo: "0x209693Bc6afc0C5328bA36FaF03C514EF312287C")],
                        facilitator: client(base, scenario), schemes: schemes))
                let unpaid = await server.respond(to: ServerRequest(method: .get, path: "/paid")) { _ in ServerResponse(status: 200) }
                let required = try PaymentRequired(headerValue: try #require(unpaid.headers[.paymentRequired]))
                let payment = PaymentPayload(
                    resource: required.resource, accepted: required.accepts[0],
                    payload: ["authorization": ["from": "0x1", "nonce": .string(scenario)], "signature": "0x"])
                let r = await server.respond(to: ServerRequest(method: .get, path: "/paid", headers: [.paymentSignature: payment.headerValue])) { _ in
                    ServerResponse(status: 200, body: Array("content".utf8))
                }
                #expect(r.status.code == expected, "\(scenario)")
                #expect((r.bodyText == "content") == (expected == 200), "\(scenario)")
            }
        }
    }
}

struct PlainSchemeServer: SchemeServer {
    var scheme: String { "exact" }
    func assetAmount(for price: Price, on network: Network) throws -> AssetAmount {
        try AssetRegistry.standard.resolve(price, on: network)
    }
}
