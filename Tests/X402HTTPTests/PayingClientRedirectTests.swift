import AsyncHTTPClient
import Foundation
import HTTPTypes
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

/// What a scripted server saw: path and request headers, in order.
actor ScriptedLog {
    private(set) var requests: [(path: String, headers: HTTPFields)] = []
    func add(_ path: String, _ headers: HTTPFields) { requests.append((path, headers)) }
    var paymentHeaders: [String] {
        requests.compactMap { $0.headers.firstValue(for: .paymentSignature) ?? $0.headers.firstValue(for: .xPayment) }
    }
    func count(_ path: String) -> Int { requests.filter { $0.path == path }.count }
}

/// A local HTTP server whose every answer a test scripts (fault injection: redirectors,
/// a capturing "other origin", a seller answering `settlement_pending`).
enum ScriptedServer {
    typealias Answer = (status: Int, headers: [(String, String)], body: String)
    typealias Handler = @Sendable (_ path: String, _ headers: HTTPFields) async -> Answer

    static func run(_ handler: @escaping Handler, _ body: @Sendable (_ base: String, _ log: ScriptedLog) async throws -> Void) async throws {
        let log = ScriptedLog()
        let router = Router()
        router.add(middleware: ScriptedMiddleware(handler: handler, log: log))
        router.get("**") { _, _ in "unreachable" }
        router.post("**") { _, _ in "unreachable" }
        try await withLoopbackServer(router) { base in try await body(base, log) }
    }

    /// A v2 402 answer for $0.01 of Base Sepolia USDC to ``PaidSeller/payTo``.
    static func paymentRequired(url: String) -> Answer {
        let requirement = PaymentRequirements(
            scheme: "exact", network: .baseSepolia, amount: "10000", asset: "0x036CbD53842c5426634e7929541eC2318f3dCF7e", payTo: PaidSeller.payTo,
            maxTimeoutSeconds: 60, extra: ["name": "USDC", "version": "2"])
        let required = PaymentRequired(error: "Payment required", resource: ResourceInfo(url: url), accepts: [requirement])
        return (402, [(PaymentHeaderName.paymentRequired, required.headerValue)], "{}")
    }
}

struct ScriptedMiddleware<Context: RequestContext>: RouterMiddleware {
    let handler: ScriptedServer.Handler
    let log: ScriptedLog

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let headers = request.headers
        await log.add(request.uri.path, headers)
        let answer = await handler(request.uri.path, headers)
        var fields = HTTPFields()
        for (name, value) in answer.headers { fields.append(PayingField(name: PayingFieldName(name)!, value: value)) }
        return Response(status: .init(code: answer.status), headers: fields, body: .init(byteBuffer: ByteBuffer(string: answer.body)))
    }
}

/// Counts calls of a handler (the cross-origin consent).
final class CallCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var _urls: [String] = []
    func add(_ url: String) { lock.withLock { _urls.append(url) } }
    var urls: [String] { lock.withLock { _urls } }
}

@Suite("Paying clients: redirects and pending settlements")
struct PayingClientRedirectTests {
    static func payer(_ signer: PayingTestSigner, ledger: any SpendLedger = InMemorySpendLedger()) -> Payer {
        PayingClientTests.payer(signer, ledger: ledger)
    }

    /// A redirector (origin A) sending `/go` to `target`.
    static func redirector(to target: String, status: Int = 302) -> ScriptedServer.Handler {
        { path, _ in path == "/go" ? (status, [("Location", target)], "") : (404, [], "") }
    }

    @Test("a 402 reached through a cross-origin redirect is not paid without consent: typed refusal, nothing signed, no payment header anywhere")
    func crossOriginRedirectNotPaid() async throws {
        try await PaidSeller.run { sellerBase, facilitator, sellerLog in
            try await ScriptedServer.run(Self.redirector(to: "\(sellerBase)/paid")) { base, redirectorLog in
                let signer = PayingTestSigner()
                let client = PayingHTTPClient(payer: Self.payer(signer))
                let sellerOrigin = "http://127.0.0.1:\(URLComponents(string: sellerBase)!.port!)"
                let redirectorOrigin = "http://127.0.0.1:\(URLComponents(string: base)!.port!)"
                await #expect(throws: PaymentRefusal.crossOriginPaymentRequest(requested: redirectorOrigin, answeredBy: sellerOrigin)) {
                    try await client.execute(HTTPClientRequest(url: "\(base)/go"))
                }
                #expect(signer.signed == 0)
                #expect(await sellerLog.hits["/paid"] == 1)
                #expect(await sellerLog.paymentHeaders.isEmpty)
                #expect(await redirectorLog.paymentHeaders.isEmpty)
                #expect(await facilitator.verified.isEmpty)
            }
        }
    }

    @Test("with the owner's consent the other origin is paid directly; the redirector never sees the payment")
    func crossOriginWithConsent() async throws {
        try await PaidSeller.run { sellerBase, _, sellerLog in
            try await ScriptedServer.run(Self.redirector(to: "\(sellerBase)/paid")) { base, redirectorLog in
                let signer = PayingTestSigner()
                let asked = CallCounter()
                let options = PayingClientOptions(crossOriginPayment: { request in
                    asked.add(request.requestedURL + " -> " + request.paymentURL)
                    return true
                })
                let client = PayingHTTPClient(payer: Self.payer(signer), options: options)
                let response = try await client.execute(HTTPClientRequest(url: "\(base)/go"))
                #expect(response.status == 200)
                #expect(String(decoding: response.body, as: UTF8.self) == "premium data")
                #expect(asked.urls == ["\(base)/go -> \(sellerBase)/paid"])
                #expect(signer.signed == 1)
                #expect(await redirectorLog.count("/go") == 1)
                #expect(await redirectorLog.paymentHeaders.isEmpty)
                #expect(await sellerLog.paymentHeaders.count == 1)
            }
        }
    }

    @Test("URLSession: a 402 behind a cross-origin redirect is not paid either")
    func urlSessionCrossOrigin() async throws {
        try await PaidSeller.run { sellerBase, _, sellerLog in
            try await ScriptedServer.run(Self.redirector(to: "\(sellerBase)/paid")) { base, _ in
                let signer = PayingTestSigner()
                let session = PayingURLSession(payer: Self.payer(signer))
                await #expect(throws: PaymentRefusal.self) { try await session.data(for: URLRequest(url: URL(string: "\(base)/go")!)) }
                #expect(signer.signed == 0)
                #expect(await sellerLog.paymentHeaders.isEmpty)
                // Same-origin redirects still work through URLSession.
                let paid = try await session.data(for: URLRequest(url: URL(string: "\(sellerBase)/hop")!))
                #expect(paid.status == 200)
                #expect(String(decoding: paid.body, as: UTF8.self) == "premium data")
                #expect(signer.signed == 1)
            }
        }
    }

    @Test("a redirect on the paid request to another origin is followed without the payment header (or credentials)")
    func paymentHeaderStaysOnItsOrigin() async throws {
        try await ScriptedServer.run({ _, _ in (200, [], "captured") }) { captureBase, captureLog in
            let seller: ScriptedServer.Handler = { path, headers in
                if headers.firstValue(for: .paymentSignature) == nil { return ScriptedServer.paymentRequired(url: "http://seller\(path)") }
                return (307, [("Location", "\(captureBase)/capture")], "")
            }
            try await ScriptedServer.run(seller) { base, sellerLog in
                let signer = PayingTestSigner()
                let ledger = InMemorySpendLedger()
                let client = PayingHTTPClient(payer: Self.payer(signer, ledger: ledger))
                var request = HTTPClientRequest(url: "\(base)/item")
                request.headers.add(name: "Authorization", value: "Bearer caller-secret")
                let response = try await client.execute(request)
                #expect(response.status == 200)
                #expect(signer.signed == 1)
                #expect(await sellerLog.paymentHeaders.count == 1)
                #expect(await captureLog.count("/capture") == 1)
                #expect(await captureLog.paymentHeaders.isEmpty)
                #expect(await captureLog.requests.first?.headers.firstValue(for: .authorization) == nil)
                #expect(await sellerLog.requests.first?.headers.firstValue(for: .authorization) == "Bearer caller-secret")
                // No receipt from the paid origin: the spend stays pending (counted).
                #expect(response.settlement == nil)
                #expect(try await ledger.history(wallet: nil, limit: 1).first?.status == .pending)
            }
        }
    }

    @Test("same-origin redirects are followed: the 402 behind /hop is paid, the payment goes to the paying URL")
    func sameOriginRedirect() async throws {
        try await PaidSeller.run { base, facilitator, log in
            let signer = PayingTestSigner()
            let client = PayingHTTPClient(payer: Self.payer(signer))
            let response = try await client.execute(HTTPClientRequest(url: "\(base)/hop"))
            #expect(response.status == 200)
            #expect(String(decoding: response.body, as: UTF8.self) == "premium data")
            #expect(signer.signed == 1)
            #expect(await log.hits["/hop"] == 1)
            #expect(await log.hits["/paid"] == 2)
            #expect(await facilitator.settled.count == 1)
        }
    }

    @Test("redirects are bounded: a loop fails with a typed error after 5")
    func redirectLoop() async throws {
        try await ScriptedServer.run({ _, _ in (302, [("Location", "/loop")], "") }) { base, log in
            let client = PayingHTTPClient(payer: Self.payer(PayingTestSigner()))
            let error = await #expect(throws: PayingClientError.self) { try await client.execute(HTTPClientRequest(url: "\(base)/loop")) }
            #expect(error?.code == .tooManyRedirects)
            #expect(await log.count("/loop") == 6)
        }
    }

    /// A seller speaking the agreed protocol: the paid request is answered 402 with a
    /// `settlement_pending` receipt `pendingAnswers` times, then 200 with a successful receipt.
    static func pendingSeller(pendingAnswers: Int) -> ScriptedServer.Handler {
        let paid = CallCounter()
        return { path, headers in
            guard headers.firstValue(for: .paymentSignature) != nil else { return ScriptedServer.paymentRequired(url: "http://seller\(path)") }
            paid.add(path)
            if paid.urls.count <= pendingAnswers {
                let pending = SettleResponse(
                    success: false, errorReason: .settlementPending, transaction: "0xpendingtx", network: "eip155:84532", payer: "0xbuyer")
                return (
                    402,
                    [(PaymentHeaderName.paymentResponse, pending.headerValue)] + [
                        ScriptedServer.paymentRequired(url: "http://seller\(path)").headers[0]
                    ], ""
                )
            }
            let done = SettleResponse(success: true, transaction: "0xpendingtx", network: "eip155:84532", payer: "0xbuyer")
            return (200, [(PaymentHeaderName.paymentResponse, done.headerValue)], "delivered")
        }
    }

    static let quickRetry = PendingSettlementPolicy(
        maxWait: .seconds(30), initialDelay: .milliseconds(5), maxDelay: .milliseconds(20), maxAttempts: 3)

    @Test("a 402 carrying a pending settlement: the very same payment is re-sent, never a second signature; then delivered")
    func pendingSettlementResent() async throws {
        try await ScriptedServer.run(Self.pendingSeller(pendingAnswers: 2)) { base, log in
            let signer = PayingTestSigner()
            let ledger = InMemorySpendLedger()
            let client = PayingHTTPClient(payer: Self.payer(signer, ledger: ledger), options: PayingClientOptions(pendingSettlement: Self.quickRetry))
            let response = try await client.execute(HTTPClientRequest(url: "\(base)/item"))
            #expect(response.status == 200)
            #expect(String(decoding: response.body, as: UTF8.self) == "delivered")
            guard case .paid(let receipt) = response.payment else {
                Issue.record("not paid: \(response.payment)")
                return
            }
            #expect(receipt.settlement?.transaction == "0xpendingtx")
            #expect(signer.signed == 1)
            let headers = await log.paymentHeaders
            #expect(headers.count == 3)
            #expect(Set(headers).count == 1)
            let record = try #require(try await ledger.history(wallet: nil, limit: 5).first)
            #expect(record.status == .settled)
            #expect(record.transaction == "0xpendingtx")
            #expect(record.failureReason == nil)
        }
    }

    @Test("still pending after the bounded retries: reported pending with the transaction, counted, one signature")
    func pendingSettlementGivesUp() async throws {
        try await ScriptedServer.run(Self.pendingSeller(pendingAnswers: 1000)) { base, log in
            let signer = PayingTestSigner()
            let ledger = InMemorySpendLedger()
            let client = PayingHTTPClient(payer: Self.payer(signer, ledger: ledger), options: PayingClientOptions(pendingSettlement: Self.quickRetry))
            let response = try await client.execute(HTTPClientRequest(url: "\(base)/item"))
            #expect(response.status == 402)
            guard case .pending(let pending) = response.payment else {
                Issue.record("not pending: \(response.payment)")
                return
            }
            #expect(pending.transaction == "0xpendingtx")
            #expect(pending.attempts == 4)
            #expect(pending.description == "payment pending, tx 0xpendingtx")
            #expect(signer.signed == 1)
            #expect(await log.paymentHeaders.count == 4)
            #expect(Set(await log.paymentHeaders).count == 1)
            let record = try #require(try await ledger.history(wallet: nil, limit: 5).first)
            #expect(record.status == .unconfirmed)
            #expect(record.transaction == "0xpendingtx")
            #expect(try await ledger.spent(by: "0xbuyer", since: .distantPast) == (try DollarAmount("0.01")))
        }
    }

    @Test("against the core seller: a settlement_pending answer makes the client re-present the same payment, which then settles")
    func pendingAgainstResourceServer() async throws {
        try await PaidSeller.run { base, facilitator, log in
            let calls = CallCounter()
            await facilitator.set(settlement: { r in
                calls.add("settle")
                let network = r.paymentRequirements.networkIdentifier
                if calls.urls.count == 1 {
                    return SettleResponse(success: false, errorReason: .settlementPending, transaction: "0xslow", network: network, payer: "0xbuyer")
                }
                return SettleResponse(success: true, transaction: "0xslow", network: network, payer: "0xbuyer")
            })
            let signer = PayingTestSigner()
            let ledger = InMemorySpendLedger()
            let client = PayingHTTPClient(payer: Self.payer(signer, ledger: ledger), options: PayingClientOptions(pendingSettlement: Self.quickRetry))
            let response = try await client.execute(HTTPClientRequest(url: "\(base)/paid"))
            #expect(response.status == 200, "\(response.payment)")
            #expect(String(decoding: response.body, as: UTF8.self) == "premium data")
            #expect(response.settlement?.transaction == "0xslow")
            #expect(signer.signed == 1)
            let headers = await log.paymentHeaders
            #expect(headers.count == 2)
            #expect(Set(headers).count == 1)
            #expect(try await ledger.history(wallet: nil, limit: 1).first?.status == .settled)
        }
    }

    @Test("an HTTPClient that follows redirects by itself is detected before anything is signed")
    func followingHTTPClientRefused() async throws {
        try await PaidSeller.run { base, _, log in
            let signer = PayingTestSigner()
            let client = PayingHTTPClient(httpClient: .shared, payer: Self.payer(signer))
            let error = await #expect(throws: PayingClientError.self) { try await client.execute(HTTPClientRequest(url: "\(base)/hop")) }
            #expect(error?.code == .transport && error?.message.contains("followed a redirect by itself") == true)
            #expect(signer.signed == 0)
            #expect(await log.paymentHeaders.isEmpty)
        }
    }
}
