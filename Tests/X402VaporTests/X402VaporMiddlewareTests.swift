import Testing
import Vapor
import VaporTesting
import X402
import X402TestSupport

@testable import X402Vapor

actor Runs {
    private(set) var count = 0
    func add() { count += 1 }
}

/// Records when the streamed body's chunks were produced, relative to settlement.
actor Timeline {
    private(set) var events: [String] = []
    func add(_ e: String) { events.append(e) }
}

/// A facilitator that notes its settlement on a timeline.
actor TimelineFacilitator: FacilitatorClient {
    let timeline: Timeline
    init(timeline: Timeline) { self.timeline = timeline }
    func verify(_ request: FacilitatorRequest) async throws(FacilitatorClientError) -> VerifyResponse { .valid(payer: payer) }
    func settle(_ request: FacilitatorRequest) async throws(FacilitatorClientError) -> SettleResponse {
        await timeline.add("settled")
        return SettleResponse(success: true, transaction: "0xdef", network: request.paymentRequirements.networkIdentifier, payer: payer)
    }
    func supported() async throws(FacilitatorClientError) -> SupportedResponse { SupportedResponse(kinds: []) }
}

func configure(
    _ app: Application, facilitator: any FacilitatorClient, runs: Runs, timeline: Timeline = Timeline(),
    settlement: SettlementTiming = .afterHandler
) throws {
    var schemes = SchemeRegistry<any SchemeServer>()
    schemes.register(USDCServer(), networks: NetworkPattern(namespace: "eip155"))
    app.middleware.use(
        try X402VaporMiddleware(
            configuration: .init(
                routes: [
                    "GET /weather": .exact("$0.01", on: .baseSepolia, payTo: .fixed(payTo), description: "Weather", settlement: settlement),
                    "GET /broken": .exact("$0.01", on: .baseSepolia, payTo: .fixed(payTo)),
                    "GET /stream": .exact("$0.02", on: .baseSepolia, payTo: .fixed(payTo), settlement: .beforeHandler),
                ],
                facilitator: facilitator, schemes: schemes)))
    app.get("weather") { _ async -> String in
        await runs.add()
        return "sunny"
    }
    app.get("broken") { _ async -> Response in
        await runs.add()
        return Response(status: .serviceUnavailable, body: .init(string: "try later"))
    }
    app.get("stream") { _ async -> Response in
        await runs.add()
        return Response(
            status: .ok,
            body: .init(asyncStream: { writer in
                for i in 0..<3 {
                    await timeline.add("chunk\(i)")
                    try await writer.write(.buffer(ByteBuffer(string: "part\(i);")))
                }
                try await writer.write(.end)
            }))
    }
    app.get("free") { _ in "free" }
}

/// The `X-PAYMENT` value paying the first offer of a v1 402 body.
func v1Payment(for body: String) throws -> String {
    let required = try PaymentRequiredV1(json: try JSONValue(parsing: body))
    let offer = try #require(required.accepts.first)
    let payment = PaymentPayloadV1(
        scheme: offer.scheme, network: offer.network,
        payload: ["signature": "0xsigned", "authorization": ["from": .string(payer), "nonce": "0x02"]])
    return payment.headerValue
}

func required(_ response: TestingHTTPResponse) throws -> String {
    try #require(response.headers.first(name: "PAYMENT-REQUIRED"))
}

@Suite("Vapor middleware")
struct X402VaporMiddlewareTests {
    @Test func unpaidRequestGets402() async throws {
        let runs = Runs()
        try await withApp(configure: { try configure($0, facilitator: ScriptedFacilitator.seller(), runs: runs) }) { app in
            try await app.testing().test(.GET, "weather?city=Oslo") { response in
                #expect(response.status.code == 402)
                #expect(response.body.string == "{}")
                let required = try PaymentRequired(headerValue: try required(response))
                #expect(required.error == "Payment required")
                #expect(required.accepts.first?.amount == "10000")
                #expect(required.accepts.first?.payTo == payTo)
                #expect(required.resource?.url.hasSuffix("/weather?city=Oslo") == true)
                #expect(required.resource?.description == "Weather")
            }
            try await app.testing().test(.GET, "free") { response in
                #expect(response.status == .ok)
                #expect(response.body.string == "free")
            }
        }
        #expect(await runs.count == 0)
    }

    @Test func paidRequestGetsContentAndPaymentResponseAndAReplayIsRejected() async throws {
        let runs = Runs()
        let facilitator = ScriptedFacilitator.seller()
        try await withApp(configure: { try configure($0, facilitator: facilitator, runs: runs) }) { app in
            let tester = try app.testing()
            let offer = try required(try await tester.sendRequest(.GET, "weather"))
            let paid = try signature(for: offer)
            try await tester.test(.GET, "weather", headers: ["PAYMENT-SIGNATURE": paid]) { response in
                #expect(response.status == .ok)
                #expect(response.body.string == "sunny")
                let settlement = try SettleResponse(headerValue: try #require(response.headers.first(name: "PAYMENT-RESPONSE")))
                #expect(settlement.success && settlement.transaction == "0xabc" && settlement.payer == payer)
            }
            try await tester.test(.GET, "weather", headers: ["PAYMENT-SIGNATURE": paid]) { response in
                #expect(response.status.code == 402)
                let again = try PaymentRequired(headerValue: try required(response))
                #expect(again.error == "payment_already_used")
                #expect(!response.body.string.contains("sunny"))
            }
            // A payment the facilitator rejects gets the 402 with the reason, and no content.
            var payload = try PaymentPayload(headerValue: paid)
            payload.payload["signature"] = "0xforged"
            payload.payload["authorization"] = ["from": .string(payer), "nonce": "0x99"]
            try await tester.test(.GET, "weather", headers: ["PAYMENT-SIGNATURE": payload.headerValue]) { response in
                #expect(response.status.code == 402)
                let rejected = try PaymentRequired(headerValue: try required(response))
                #expect(rejected.error == "invalid_exact_evm_payload_signature")
            }
        }
        #expect(await runs.count == 1)
        #expect(await facilitator.settles == 1)
    }

    @Test func v1ClientsGetTheBodyAndPayWithXPayment() async throws {
        let runs = Runs()
        let facilitator = ScriptedFacilitator.seller()
        try await withApp(configure: { try configure($0, facilitator: facilitator, runs: runs) }) { app in
            let tester = try app.testing()
            let unpaid = try await tester.sendRequest(.GET, "weather", headers: ["X-PAYMENT": "not-base64!"])
            #expect(unpaid.status.code == 402)
            let body = try JSONValue(parsing: unpaid.body.string)
            #expect(body["x402Version"] == 1)
            let first = body["accepts"]?.arrayValue?.first
            #expect(first?["network"] == "base-sepolia")
            #expect(first?["maxAmountRequired"] == "10000")
            try await tester.test(.GET, "weather", headers: ["X-PAYMENT": try v1Payment(for: unpaid.body.string)]) { response in
                #expect(response.status == .ok)
                #expect(response.body.string == "sunny")
                #expect(response.headers.first(name: "PAYMENT-RESPONSE") == nil)
                let settlement = try SettleResponse(headerValue: try #require(response.headers.first(name: "X-PAYMENT-RESPONSE")))
                #expect(settlement.success)
            }
        }
        #expect(await facilitator.settles == 1)
    }

    @Test func settlementFailureWithholdsTheContent() async throws {
        let runs = Runs()
        let facilitator = ScriptedFacilitator.seller(settle: .failure(.transactionFailed, message: "reverted", network: "eip155:84532"))
        try await withApp(configure: { try configure($0, facilitator: facilitator, runs: runs) }) { app in
            let tester = try app.testing()
            let offer = try required(try await tester.sendRequest(.GET, "weather"))
            try await tester.test(.GET, "weather", headers: ["PAYMENT-SIGNATURE": try signature(for: offer)]) { response in
                #expect(response.status.code == 402)
                #expect(response.body.string == "{}")
                #expect(response.headers.first(name: "PAYMENT-REQUIRED") == nil)
                let settlement = try SettleResponse(headerValue: try #require(response.headers.first(name: "PAYMENT-RESPONSE")))
                #expect(!settlement.success && settlement.errorReason == .transactionFailed)
            }
        }
        #expect(await runs.count == 1)
    }

    @Test func handlerErrorIsNotSettled() async throws {
        let runs = Runs()
        let facilitator = ScriptedFacilitator.seller()
        try await withApp(configure: { try configure($0, facilitator: facilitator, runs: runs) }) { app in
            let tester = try app.testing()
            let offer = try required(try await tester.sendRequest(.GET, "broken"))
            try await tester.test(.GET, "broken", headers: ["PAYMENT-SIGNATURE": try signature(for: offer)]) { response in
                #expect(response.status == .serviceUnavailable)
                #expect(response.body.string == "try later")
                #expect(response.headers.first(name: "PAYMENT-RESPONSE") == nil)
            }
        }
        #expect(await runs.count == 1)
        #expect(await facilitator.verifies == 1)
        #expect(await facilitator.settles == 0)
    }

    @Test func facilitatorDownGives503AndNoContent() async throws {
        let runs = Runs()
        let facilitator = ScriptedFacilitator.seller(fault: .unreachable("connection refused"))
        try await withApp(configure: { try configure($0, facilitator: facilitator, runs: runs) }) { app in
            let tester = try app.testing()
            let offer = try required(try await tester.sendRequest(.GET, "weather"))
            try await tester.test(.GET, "weather", headers: ["PAYMENT-SIGNATURE": try signature(for: offer)]) { response in
                #expect(response.status == .serviceUnavailable)
                #expect(response.headers.first(name: "Retry-After") == "5")
                #expect(response.body.string.contains("unavailable"))
                #expect(!response.body.string.contains("sunny"))
            }
        }
        #expect(await runs.count == 0)
    }

    @Test func settleBeforeRouteStreamsAfterSettling() async throws {
        let runs = Runs()
        let timeline = Timeline()
        let facilitator = TimelineFacilitator(timeline: timeline)
        try await withApp(configure: { try configure($0, facilitator: facilitator, runs: runs, timeline: timeline) }) { app in
            let tester = try app.testing()
            let offer = try required(try await tester.sendRequest(.GET, "stream"))
            try await tester.test(.GET, "stream", headers: ["PAYMENT-SIGNATURE": try signature(for: offer)]) { response in
                #expect(response.status == .ok)
                #expect(response.body.string == "part0;part1;part2;")
                let header = try #require(response.headers.first(name: "PAYMENT-RESPONSE"))
                #expect(try SettleResponse(headerValue: header).transaction == "0xdef")
            }
        }
        #expect(await timeline.events == ["settled", "chunk0", "chunk1", "chunk2"])
    }

    @Test func browserGetsThePaywall() async throws {
        try await withApp(configure: { try configure($0, facilitator: ScriptedFacilitator.seller(), runs: Runs()) }) { app in
            let browser: HTTPHeaders = ["Accept": "text/html,application/xhtml+xml", "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/126"]
            try await app.testing().test(.GET, "weather", headers: browser) { response in
                #expect(response.status.code == 402)
                #expect(response.headers.first(name: "PAYMENT-REQUIRED") == nil)
                #expect(response.headers.first(name: "Content-Type")?.hasPrefix("text/html") == true)
                #expect(response.body.string.contains("$0.01"))
            }
        }
    }
}
