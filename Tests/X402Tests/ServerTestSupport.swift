import Foundation
import HTTPTypes
import Testing
import X402TestSupport

@testable import X402

func testSchemes() -> SchemeRegistry<any SchemeServer> {
    var r = SchemeRegistry<any SchemeServer>()
    r.register(USDCServer(), networks: NetworkPattern(namespace: "eip155"))
    return r
}

/// Counts handler runs.
actor Counter {
    private(set) var value = 0
    func increment() { value += 1 }
}

let paidContent = "the paid weather report"

/// A handler that records its runs and answers with the paid content.
func contentHandler(
    _ counter: Counter, facilitator: ScriptedFacilitator? = nil, status: HTTPResponse.Status = .ok
)
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
