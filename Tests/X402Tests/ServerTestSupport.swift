import Foundation
import HTTPTypes
import Testing

@testable import X402

/// A facilitator whose answers are scripted per test, recording every call.
actor ScriptedFacilitator: FacilitatorClient {
    enum Verdict: Sendable {
        case verify(VerifyResponse)
        case settle(SettleResponse)
        case fault(FacilitatorClientError)
    }

    var verifyAnswer: @Sendable (FacilitatorRequest) -> Result<VerifyResponse, FacilitatorClientError>
    var settleAnswer: @Sendable (FacilitatorRequest) -> Result<SettleResponse, FacilitatorClientError>
    var supportedAnswer: Result<SupportedResponse, FacilitatorClientError>
    /// Suspension points inside each call, so concurrent requests interleave.
    var yields: Int = 0
    private(set) var verifyCalls: [FacilitatorRequest] = []
    private(set) var settleCalls: [FacilitatorRequest] = []
    private(set) var events: [String] = []

    init(
        verify: @escaping @Sendable (FacilitatorRequest) -> Result<VerifyResponse, FacilitatorClientError> = { _ in .success(.valid(payer: testPayer)) },
        settle: @escaping @Sendable (FacilitatorRequest) -> Result<SettleResponse, FacilitatorClientError> = { r in
            .success(SettleResponse(success: true, transaction: "0xfeed", network: r.paymentRequirements.networkIdentifier, payer: testPayer))
        },
        supported: Result<SupportedResponse, FacilitatorClientError> = .success(
            SupportedResponse(kinds: [SupportedKind(x402Version: .v2, scheme: "exact", network: "eip155:84532")]))
    ) {
        verifyAnswer = verify
        settleAnswer = settle
        supportedAnswer = supported
    }

    func setYields(_ n: Int) { yields = n }
    func setVerify(_ f: @escaping @Sendable (FacilitatorRequest) -> Result<VerifyResponse, FacilitatorClientError>) { verifyAnswer = f }
    func setSettle(_ f: @escaping @Sendable (FacilitatorRequest) -> Result<SettleResponse, FacilitatorClientError>) { settleAnswer = f }
    func note(_ event: String) { events.append(event) }

    func verify(_ request: FacilitatorRequest) async throws(FacilitatorClientError) -> VerifyResponse {
        verifyCalls.append(request)
        events.append("verify")
        for _ in 0..<yields { await Task.yield() }
        return try verifyAnswer(request).get()
    }

    func settle(_ request: FacilitatorRequest) async throws(FacilitatorClientError) -> SettleResponse {
        settleCalls.append(request)
        events.append("settle")
        for _ in 0..<yields { await Task.yield() }
        return try settleAnswer(request).get()
    }

    func supported() async throws(FacilitatorClientError) -> SupportedResponse {
        try supportedAnswer.get()
    }
}

let testPayer = "0x857b06519E91e3A54538791bDbb0E22373e36b66"
let testPayTo = "0x209693Bc6afc0C5328bA36FaF03C514EF312287C"

/// A scheme server for tests: prices through the standard asset table.
struct TestSchemeServer: SchemeServer {
    var scheme: String { "exact" }
    func assetAmount(for price: Price, on network: Network) throws -> AssetAmount {
        try AssetRegistry.standard.resolve(price, on: network)
    }
}

func testSchemes() -> SchemeRegistry<any SchemeServer> {
    var r = SchemeRegistry<any SchemeServer>()
    r.register(TestSchemeServer(), networks: NetworkPattern(namespace: "eip155"))
    return r
}

/// Counts handler runs.
actor Counter {
    private(set) var value = 0
    func increment() { value += 1 }
}

let paidContent = "the paid weather report"

/// A handler that records its runs and answers with the paid content.
func contentHandler(_ counter: Counter, facilitator: ScriptedFacilitator? = nil, status: HTTPResponse.Status = .ok)
    -> @Sendable (ServerRequest) async throws -> ServerResponse
{
    { _ in
        await counter.increment()
        await facilitator?.note("handler")
        return ServerResponse(status: status, headers: [.contentType: "text/plain"], body: Array(paidContent.utf8))
    }
}

func request(
    _ method: HTTPRequest.Method = .get, _ path: String = "/weather", headers: HTTPFields = [.hostHeader: "api.example.com"]
) -> ServerRequest {
    ServerRequest(method: method, path: path, headers: headers)
}

/// Decodes the `PAYMENT-REQUIRED` header of a response.
func paymentRequired(_ response: ServerResponse) throws -> PaymentRequired {
    let header = try #require(response.headers[.paymentRequired])
    return try PaymentRequired(headerValue: header)
}

func settleResponse(_ response: ServerResponse, header: HTTPField.Name = .paymentResponse) throws -> SettleResponse {
    let value = try #require(response.headers[header])
    return try SettleResponse(headerValue: value)
}

/// A v2 payment echoing `accepted`, with an EIP-3009-shaped authorization.
func payment(for accepted: PaymentRequirements, nonce: String = "0x01", resource: ResourceInfo? = nil) -> PaymentPayload {
    PaymentPayload(
        resource: resource, accepted: accepted,
        payload: [
            "signature": "0xabcdef",
            "authorization": [
                "from": .string(testPayer), "to": .string(accepted.payTo), "value": .string(accepted.amount), "validAfter": "0",
                "validBefore": "9999999999", "nonce": .string(nonce),
            ],
        ])
}

/// Asks the server for its 402 and returns a paid request for the first offer.
func paidRequest(
    _ server: ResourceServer, method: HTTPRequest.Method = .get, path: String = "/weather", nonce: String = "0x01",
    tamper: (inout PaymentRequirements) -> Void = { _ in }
) async throws -> ServerRequest {
    let unpaid = await server.respond(to: request(method, path)) { _ in ServerResponse(status: 200) }
    #expect(unpaid.status == 402)
    let required = try paymentRequired(unpaid)
    var accepted = try #require(required.accepts.first)
    tamper(&accepted)
    let p = payment(for: accepted, nonce: nonce, resource: required.resource)
    return request(method, path, headers: [.hostHeader: "api.example.com", .paymentSignature: p.headerValue])
}

func makeServer(
    _ facilitator: ScriptedFacilitator, routes: RouteTable? = nil, store: any PaymentStateStore = InMemoryPaymentStateStore(),
    hooks: ServerHooks = ServerHooks(), settlement: SettlementTiming = .afterHandler
) throws -> ResourceServer {
    let table: RouteTable =
        routes ?? ["GET /weather": .exact("$0.01", on: .baseSepolia, payTo: .fixed(testPayTo), description: "Weather", settlement: settlement)]
    return try ResourceServer(configuration: .init(routes: table, facilitator: facilitator, schemes: testSchemes(), store: store, hooks: hooks))
}
