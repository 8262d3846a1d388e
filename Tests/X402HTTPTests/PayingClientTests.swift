import AsyncHTTPClient
import Foundation
import Hummingbird
import NIOCore
import NIOHTTP1
import Testing
import X402TestSupport

@testable import X402
@testable import X402HTTP

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

// NOTE: this test target depends on X402, X402HTTP and Hummingbird only, so the seller here is
// the core `ResourceServer` behind a few lines of Hummingbird glue (what `X402Middleware` does)
// and the buyer's scheme client is a deterministic test signer. Adding "X402EVM" and
// "X402Hummingbird" to the target would let these tests use `X402Middleware` and `ExactEVMClient`.

/// The fault-injection seam: a facilitator whose verdicts each test scripts.
actor PayingTestFacilitator: FacilitatorClient {
    var verdict: VerifyResponse = .valid(payer: "0xbuyer")
    var settlement: @Sendable (FacilitatorRequest) -> SettleResponse = { r in
        SettleResponse(success: true, transaction: "0xfeedbeef", network: r.paymentRequirements.networkIdentifier, payer: "0xbuyer")
    }
    private(set) var verified: [FacilitatorRequest] = []
    private(set) var settled: [FacilitatorRequest] = []

    func set(verdict: VerifyResponse) { self.verdict = verdict }
    func set(settlement: @escaping @Sendable (FacilitatorRequest) -> SettleResponse) { self.settlement = settlement }

    func verify(_ request: FacilitatorRequest) async throws(FacilitatorClientError) -> VerifyResponse {
        verified.append(request)
        // The payload must carry the test signer's signature over the accepted amount.
        guard request.paymentPayload.payload["signature"] == "0xtest-signature" else { return .invalid("invalid_exact_evm_payload_signature") }
        return verdict
    }

    func settle(_ request: FacilitatorRequest) async throws(FacilitatorClientError) -> SettleResponse {
        settled.append(request)
        return settlement(request)
    }

    func supported() async throws(FacilitatorClientError) -> SupportedResponse {
        SupportedResponse(kinds: [SupportedKind(x402Version: .v2, scheme: "exact", network: "eip155:84532")])
    }
}

/// A deterministic buyer-side signer that counts its signatures.
final class PayingTestSigner: SchemeClient, @unchecked Sendable {
    var scheme: String { "exact" }
    private let lock = NSLock()
    private var _signed = 0
    var signed: Int { lock.withLock { _signed } }

    func createPayload(for requirements: PaymentRequirements, context: PaymentContext) async throws -> SchemePayload {
        lock.withLock { _signed += 1 }
        return SchemePayload(payload: [
            "signature": "0xtest-signature",
            "authorization": ["from": "0xbuyer", "to": .string(requirements.payTo), "value": .string(requirements.amount)],
        ])
    }
}

struct PayingSellerScheme: SchemeServer {
    var scheme: String { "exact" }
    func assetAmount(for price: Price, on network: Network) throws -> AssetAmount { try AssetRegistry.standard.resolve(price, on: network) }
}

/// Counts requests the seller saw, per path.
actor PayingRequestLog {
    private(set) var hits: [String: Int] = [:]
    private(set) var paymentHeaders: [String] = []
    func hit(_ path: String, payment: String?) {
        hits[path, default: 0] += 1
        if let payment { paymentHeaders.append(payment) }
    }
}

/// The paid seller used by the tests, on a random local port.
struct PaidSeller {
    static let payTo = "0x209693Bc6afc0C5328bA36FaF03C514EF312287C"

    static func run(
        _ body: @Sendable (_ base: String, _ facilitator: PayingTestFacilitator, _ log: PayingRequestLog) async throws -> Void
    ) async throws {
        let facilitator = PayingTestFacilitator()
        let log = PayingRequestLog()
        var schemes = SchemeRegistry<any SchemeServer>()
        schemes.register(PayingSellerScheme(), networks: .evm)
        let server = try ResourceServer(
            configuration: .init(
                routes: [
                    "GET /paid": .exact("$0.01", on: .baseSepolia, payTo: .fixed(payTo)),
                    "GET /dear": .exact("$2.00", on: .baseSepolia, payTo: .fixed(payTo)),
                    "GET /broken": .exact("$0.01", on: .baseSepolia, payTo: .fixed(payTo)),
                ],
                facilitator: facilitator, schemes: schemes))

        let router = Router()
        router.add(middleware: SellerGlue(server: server, log: log))
        router.get("paid") { _, _ in "premium data" }
        router.get("dear") { _, _ in "expensive data" }
        router.get("broken") { _, _ -> Response in Response(status: .internalServerError) }
        router.get("free") { _, _ in "free data" }
        // A same-origin redirect to the paid route.
        router.get("hop") { _, _ -> Response in Response(status: .found, headers: [.location: "/paid"]) }
        router.get("precondition") { _, _ in Response(status: .preconditionFailed) }
        // A legacy v1 seller: 402 with a JSON body; accepts X-PAYMENT, answers X-PAYMENT-RESPONSE.
        router.get("legacy") { request, _ -> Response in
            let requirement = PaymentRequirementsV1(
                scheme: "exact", network: "base-sepolia", maxAmountRequired: "10000", resource: "http://legacy/resource",
                description: "", mimeType: "", payTo: payTo, maxTimeoutSeconds: 60, asset: "0x036CbD53842c5426634e7929541eC2318f3dCF7e",
                extra: ["name": "USDC", "version": "2"])
            guard let header = request.headers[PayingFieldName("X-PAYMENT")!],
                let payment = try? AnyPaymentPayload(headerValue: header), case .v1(let v1) = payment, v1.network == "base-sepolia"
            else {
                let body = PaymentRequiredV1(error: "X-PAYMENT header is required", accepts: [requirement]).json.serialized()
                return Response(
                    status: .init(code: 402), headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: body)))
            }
            let receipt = SettleResponse(success: true, transaction: "0xlegacy", network: "base-sepolia", payer: "0xbuyer")
            return Response(
                status: .ok, headers: [PayingFieldName("X-PAYMENT-RESPONSE")!: receipt.headerValue],
                body: .init(byteBuffer: ByteBuffer(string: "legacy data")))
        }

        try await withLoopbackServer(router) { base in try await body(base, facilitator, log) }
    }
}

/// The core resource server behind Hummingbird (what `X402Middleware` does).
struct SellerGlue<Context: RequestContext>: RouterMiddleware {
    let server: ResourceServer
    let log: PayingRequestLog

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let headers = request.headers
        await log.hit(request.uri.path, payment: headers.firstValue(for: .paymentSignature) ?? headers.firstValue(for: .xPayment))
        let host = headers.firstValue(for: .hostHeader) ?? "localhost"
        let incoming = ServerRequest(
            method: request.method, path: request.uri.path, query: nil, headers: headers, url: "http://\(host)\(request.uri.path)")
        switch await server.decide(incoming) {
        case .passThrough, .signedIn:
            return try await next(request, context)
        case .respond(let answer):
            return Self.response(answer)
        case .proceed(let payment):
            let response = try await next(request, context)
            switch await server.complete(payment, handlerStatus: response.status) {
            case .replace(let answer): return Self.response(answer)
            case .release(let extra):
                var released = response
                for field in extra { released.headers[field.name] = field.value }
                return released
            }
        }
    }

    static func response(_ answer: ServerResponse) -> Response {
        Response(status: answer.status, headers: answer.headers, body: .init(byteBuffer: ByteBuffer(bytes: answer.body)))
    }
}

@Suite("Paying HTTP clients against a local paid server")
struct PayingClientTests {
    static func payer(_ signer: PayingTestSigner, policy: SpendingPolicy = .unrestricted, ledger: any SpendLedger = InMemorySpendLedger()) -> Payer {
        var schemes = SchemeRegistry<any SchemeClient>()
        schemes.register(signer, networks: .evm)
        return Payer(schemes: schemes, wallet: "0xbuyer", policy: policy, ledger: ledger)
    }

    @Test("paid flow: one 402, one paid retry, body and decoded settlement, ledger settled")
    func paidFlow() async throws {
        try await PaidSeller.run { base, facilitator, log in
            let signer = PayingTestSigner()
            let ledger = InMemorySpendLedger()
            let client = PayingHTTPClient(payer: Self.payer(signer, ledger: ledger))
            let response = try await client.execute(HTTPClientRequest(url: "\(base)/paid"))
            #expect(response.status == 200)
            #expect(String(decoding: response.body, as: UTF8.self) == "premium data")
            guard case .paid(let receipt) = response.payment else {
                Issue.record("not paid: \(response.payment)")
                return
            }
            #expect(receipt.settlement?.transaction == "0xfeedbeef")
            #expect(receipt.candidate.value == (try DollarAmount("0.01")))
            #expect(signer.signed == 1)
            #expect(await log.hits["/paid"] == 2)
            #expect(await facilitator.settled.count == 1)
            let record = try #require(try await ledger.history(wallet: "0xbuyer", limit: 1).first)
            #expect(record.status == .settled)
            #expect(record.transaction == "0xfeedbeef")
            #expect(record.resource?.hasSuffix("/paid") == true)
        }
    }

    @Test("free and non-402 responses pass through untouched; a 412 is not retried")
    func passThrough() async throws {
        try await PaidSeller.run { base, _, log in
            let signer = PayingTestSigner()
            let client = PayingHTTPClient(payer: Self.payer(signer))
            let free = try await client.execute(HTTPClientRequest(url: "\(base)/free"))
            #expect(free.status == 200)
            #expect(String(decoding: free.body, as: UTF8.self) == "free data")
            guard case .notRequired = free.payment else {
                Issue.record("paid for free")
                return
            }
            let precondition = try await client.execute(HTTPClientRequest(url: "\(base)/precondition"))
            #expect(precondition.status == 412)
            #expect(await log.hits["/precondition"] == 1)
            #expect(signer.signed == 0)
        }
    }

    @Test("refused by policy: typed refusal with the numbers, nothing signed, no second request")
    func refusedByPolicy() async throws {
        try await PaidSeller.run { base, _, log in
            let signer = PayingTestSigner()
            let client = PayingHTTPClient(payer: Self.payer(signer, policy: SpendingPolicy(perPaymentCap: try DollarAmount("$0.25"))))
            await #expect(throws: PaymentRefusal.exceedsPerPaymentCap(amount: try DollarAmount("2"), cap: try DollarAmount("0.25"))) {
                try await client.execute(HTTPClientRequest(url: "\(base)/dear"))
            }
            #expect(signer.signed == 0)
            #expect(await log.hits["/dear"] == 1)
            #expect(await log.paymentHeaders.isEmpty)
        }
    }

    @Test("a request that already carries a payment header is never paid again")
    func neverPayTwice() async throws {
        try await PaidSeller.run { base, _, log in
            let signer = PayingTestSigner()
            let client = PayingHTTPClient(payer: Self.payer(signer))
            var request = HTTPClientRequest(url: "\(base)/paid")
            request.headers.add(name: "payment-signature", value: "bm90IGEgcGF5bWVudA==")
            await #expect(throws: PaymentRefusal.requestAlreadyCarriesPayment(header: "payment-signature")) {
                try await client.execute(request)
            }
            #expect(signer.signed == 0)
            #expect(await log.hits["/paid"] == 1)
        }
    }

    @Test("payment rejected at verify: a typed rejection with the reason; the spend keeps counting (unconfirmed)")
    func rejectedAtVerify() async throws {
        try await PaidSeller.run { base, facilitator, log in
            await facilitator.set(verdict: .invalid("invalid_exact_evm_insufficient_balance"))
            let signer = PayingTestSigner()
            let ledger = InMemorySpendLedger()
            let client = PayingHTTPClient(payer: Self.payer(signer, ledger: ledger))
            let response = try await client.execute(HTTPClientRequest(url: "\(base)/paid"))
            #expect(response.status == 402)
            guard case .rejected(let rejection) = response.payment else {
                Issue.record("not rejected")
                return
            }
            #expect(rejection.reason == "invalid_exact_evm_insufficient_balance")
            #expect(await log.hits["/paid"] == 2)  // never loops
            #expect(signer.signed == 1)
            // The server holds the signature: its 402 does not release the budget (it used to: `.failed`).
            #expect(try await ledger.history(wallet: nil, limit: 1).first?.status == .unconfirmed)
            #expect(try await ledger.spent(by: "0xbuyer", since: .distantPast) == (try DollarAmount("0.01")))
        }
    }

    @Test("payment rejected at settlement: the reason comes from PAYMENT-RESPONSE")
    func rejectedAtSettle() async throws {
        try await PaidSeller.run { base, facilitator, _ in
            await facilitator.set(settlement: { r in .failure("transaction_failed", network: r.paymentRequirements.networkIdentifier) })
            let client = PayingHTTPClient(payer: Self.payer(PayingTestSigner()))
            let response = try await client.execute(HTTPClientRequest(url: "\(base)/paid"))
            guard case .rejected(let rejection) = response.payment else {
                Issue.record("not rejected")
                return
            }
            #expect(rejection.reason == "transaction_failed")
            #expect(rejection.settlement?.success == false)
        }
    }

    @Test("a failing handler is not settled, but the signature is live: the reservation keeps counting (unconfirmed)")
    func handlerFailure() async throws {
        try await PaidSeller.run { base, facilitator, _ in
            let ledger = InMemorySpendLedger()
            let client = PayingHTTPClient(payer: Self.payer(PayingTestSigner(), ledger: ledger))
            let response = try await client.execute(HTTPClientRequest(url: "\(base)/broken"))
            #expect(response.status == 500)
            #expect(await facilitator.settled.isEmpty)
            #expect(try await ledger.history(wallet: nil, limit: 1).first?.status == .unconfirmed)
        }
    }

    @Test("budget after a hostile 402: the rejected payment still counts, so the next one is refused (nothing signed)")
    func hostileRejectionKeepsBudget() async throws {
        try await PaidSeller.run { base, facilitator, log in
            await facilitator.set(verdict: .invalid("invalid_exact_evm_insufficient_balance"))
            let signer = PayingTestSigner()
            let policy = SpendingPolicy(budget: SpendBudget(limit: try DollarAmount("0.015")))
            let client = PayingHTTPClient(payer: Self.payer(signer, policy: policy))
            let first = try await client.execute(HTTPClientRequest(url: "\(base)/paid"))
            guard case .rejected = first.payment else {
                Issue.record("not rejected: \(first.payment)")
                return
            }
            await #expect(
                throws: PaymentRefusal.exceedsBudget(
                    amount: try DollarAmount("0.01"), spent: try DollarAmount("0.01"), budget: try DollarAmount("0.015"), window: SpendBudget.day)
            ) {
                try await client.execute(HTTPClientRequest(url: "\(base)/paid"))
            }
            #expect(signer.signed == 1)
            #expect(await log.paymentHeaders.count == 1)
            // The same after a 500 without a receipt (verification passes, the handler fails).
            await facilitator.set(verdict: .valid(payer: "0xbuyer"))
            let other = PayingTestSigner()
            let client2 = PayingHTTPClient(payer: Self.payer(other, policy: policy))
            #expect(try await client2.execute(HTTPClientRequest(url: "\(base)/broken")).status == 500)
            await #expect(throws: PaymentRefusal.self) { try await client2.execute(HTTPClientRequest(url: "\(base)/broken")) }
            #expect(other.signed == 1)
        }
    }

    @Test("v1 server: body-borne 402, X-PAYMENT retry, X-PAYMENT-RESPONSE decoded")
    func v1Server() async throws {
        try await PaidSeller.run { base, _, log in
            let client = PayingHTTPClient(payer: Self.payer(PayingTestSigner()))
            let response = try await client.execute(HTTPClientRequest(url: "\(base)/legacy"))
            #expect(response.status == 200)
            #expect(response.settlement?.transaction == "0xlegacy")
            #expect(response.settlement?.network == "base-sepolia")
            let header = try #require(await log.paymentHeaders.first)
            guard case .v1(let payment) = try AnyPaymentPayload(headerValue: header) else {
                Issue.record("not v1")
                return
            }
            #expect(payment.network == "base-sepolia")
        }
    }

    @Test("quote: prices without paying; a free resource says so")
    func quote() async throws {
        try await PaidSeller.run { base, facilitator, _ in
            let signer = PayingTestSigner()
            let client = PayingHTTPClient(payer: Self.payer(signer))
            guard case .paymentRequired(let quote) = try await client.quote(HTTPClientRequest(url: "\(base)/paid")) else {
                Issue.record("not priced")
                return
            }
            #expect(quote.chosen?.price == (try DollarAmount("0.01")))
            #expect(quote.chosen?.atomicAmount == 10_000)
            #expect(quote.chosen?.network == .baseSepolia)
            #expect(quote.chosen?.payTo == PaidSeller.payTo)
            guard case .free(let free) = try await client.quote(HTTPClientRequest(url: "\(base)/free")) else {
                Issue.record("not free")
                return
            }
            #expect(free.status == 200)
            #expect(signer.signed == 0)
            #expect(await facilitator.verified.isEmpty)
        }
    }

    @Test("URLSession: paid flow and policy refusal")
    func urlSession() async throws {
        try await PaidSeller.run { base, _, log in
            let signer = PayingTestSigner()
            let session = PayingURLSession(payer: Self.payer(signer, policy: SpendingPolicy(perPaymentCap: try DollarAmount("1"))))
            let response = try await session.data(for: URLRequest(url: URL(string: "\(base)/paid")!))
            #expect(response.status == 200)
            #expect(String(decoding: response.body, as: UTF8.self) == "premium data")
            #expect(response.settlement?.transaction == "0xfeedbeef")
            await #expect(throws: PaymentRefusal.self) { try await session.data(for: URLRequest(url: URL(string: "\(base)/dear")!)) }
            #expect(signer.signed == 1)
            #expect(await log.hits["/dear"] == 1)
        }
    }
}

/// `HTTPField` and its name type, reached through `HTTPFields` (HTTPTypes is not imported directly).
typealias PayingField = HTTPFields.Element
typealias PayingFieldName = HTTPFields.Element.Name
