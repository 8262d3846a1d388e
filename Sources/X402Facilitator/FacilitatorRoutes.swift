import Foundation
import HTTPTypes
public import Hummingbird
public import Logging
public import NIOCore
public import X402

/// The facilitator's HTTP surface over a `FacilitatorEngine`.
///
/// * `POST /verify`, `POST /settle`: 200 with the verdict for every well-formed request, including
///   unknown versions, schemes and networks (`isValid:false` / `success:false` and a reason);
///   400 `{"error": "...", "field": "..."}` for a body that is not JSON, larger than
///   ``Options/maxBodyBytes`` (64 KiB by default) or missing required members; 401 without a valid
///   bearer token when tokens are configured; 429 `{"error": "...", "reason": "rate_limited"}` with
///   `Retry-After` when a client address or a payer exceeds its token bucket.
/// * `GET /supported`, `GET /health`, `GET /metrics` (Prometheus text), `GET /discovery/resources`
///   (`type`, `query`, `network`, `scheme`, `payTo`, `limit`, `offset`) and `GET /discovery/search`
///   (`query`, the same filters, `limit`, `cursor`).
///
/// The discovery catalog is fed by successful settlements only, never by `/verify`.
public struct FacilitatorRoutes: Sendable {
    public struct Options: Sendable {
        /// Default per-client-address limit on `/verify` + `/settle`: bursts of 120, 50 per second.
        public static let defaultClientRate = RateLimit(burst: 120, perSecond: 50)
        /// Default per-payer limit on `/verify` + `/settle`: bursts of 20, 2 per second.
        public static let defaultPayerRate = RateLimit(burst: 20, perSecond: 2)

        /// Tokens accepted in `Authorization: Bearer <token>` on `/verify` and `/settle`; empty: no auth.
        public var bearerTokens: [String] = []
        /// The largest accepted `/verify` or `/settle` body.
        public var maxBodyBytes: Int = 64 * 1024
        /// Token bucket per client IP address on `/verify` and `/settle` (burst 0: off).
        public var clientRate: RateLimit = Options.defaultClientRate
        /// Token bucket per payer (`authorization.from`) on `/verify` and `/settle` (burst 0: off),
        /// charged only for requests the payer's signature proved theirs (a valid verification, a
        /// settlement that reached a transaction); an empty bucket refuses any request naming the payer.
        public var payerRate: RateLimit = Options.defaultPayerRate

        public init(
            bearerTokens: [String] = [], maxBodyBytes: Int = 64 * 1024, clientRate: RateLimit = Options.defaultClientRate,
            payerRate: RateLimit = Options.defaultPayerRate
        ) {
            self.bearerTokens = bearerTokens
            self.maxBodyBytes = maxBodyBytes
            self.clientRate = clientRate
            self.payerRate = payerRate
        }
    }

    public let engine: FacilitatorEngine
    public let options: Options
    public let metrics: FacilitatorMetrics
    public let catalog: DiscoveryCatalog?
    public let tracker: SettlementTracker
    /// Settles a request (the engine, or a journal wrapping it).
    let settle: @Sendable (IncomingFacilitatorRequest, Logger) async -> SettleResponse
    let clientLimiter: RateLimiter
    let payerLimiter: RateLimiter

    public init(
        engine: FacilitatorEngine, options: Options = Options(), metrics: FacilitatorMetrics = FacilitatorMetrics(),
        catalog: DiscoveryCatalog? = nil, tracker: SettlementTracker? = nil,
        settle: (@Sendable (IncomingFacilitatorRequest, Logger) async -> SettleResponse)? = nil
    ) {
        self.engine = engine
        self.options = options
        self.metrics = metrics
        self.catalog = catalog
        self.tracker = tracker ?? SettlementTracker(onChange: { [metrics] in metrics.settlementsInFlight($0) })
        self.settle = settle ?? { incoming, _ in await engine.settle(incoming) }
        self.clientLimiter = RateLimiter(limit: options.clientRate)
        self.payerLimiter = RateLimiter(limit: options.payerRate)
    }

    /// A router serving every facilitator route.
    public func router() -> Router<FacilitatorRequestContext> {
        let router = Router(context: FacilitatorRequestContext.self)
        router.add(middleware: RequestIDMiddleware())
        router.post("/verify") { request, context in
            await measure("verify", context) { () async throws(RouteFailure) -> Response in try await verifyRoute(request, context) }
        }
        router.post("/settle") { request, context in
            await measure("settle", context) { () async throws(RouteFailure) -> Response in try await settleRoute(request, context) }
        }
        router.get("/supported") { _, context in
            await measure("supported", context) { Self.json(await engine.supported().json) }
        }
        router.get("/health") { _, context in
            await measure("health", context) {
                let inFlight = await tracker.inFlight
                return Self.json(["status": "ok", "settlementsInFlight": .number(JSONNumber(inFlight))])
            }
        }
        router.get("/metrics") { _, _ in
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: metrics.exposition())))
        }
        router.get("/discovery/resources") { request, context in
            await measure("discovery", context) { () async throws(RouteFailure) -> Response in try await discoveryRoute(request) }
        }
        router.get("/discovery/search") { request, context in
            await measure("discovery", context) { () async throws(RouteFailure) -> Response in try await discoverySearchRoute(request) }
        }
        return router
    }

    // MARK: Routes

    private func verifyRoute(_ request: Request, _ context: FacilitatorRequestContext) async throws(RouteFailure) -> Response {
        try authorize(request)
        try limitClient(context)
        let incoming = try await decode(request)
        let payer = try limitPayer(incoming)
        let started = ContinuousClock.now
        let response = await engine.verify(incoming)
        metrics.verified(response, duration: ContinuousClock.now - started)
        if response.isValid, let payer { payerLimiter.charge(payer) }
        // The catalog is not fed here: a verify costs the caller nothing, so it must not publish.
        context.logger.info(
            "verify",
            metadata: [
                "network": "\(incoming.networkIdentifier)", "valid": "\(response.isValid)",
                "reason": "\(response.invalidReason?.rawValue ?? "")", "payer": "\(response.payer ?? "")",
            ])
        return Self.json(response.json)
    }

    private func settleRoute(_ request: Request, _ context: FacilitatorRequestContext) async throws(RouteFailure) -> Response {
        try authorize(request)
        try limitClient(context)
        let incoming = try await decode(request)
        let payer = try limitPayer(incoming)
        let started = ContinuousClock.now
        let logger = context.logger
        // The caller's settlement id (see SettlementIdempotency): the owner's retries carry it.
        let settlementID = request.headers[HTTPField.Name(SettlementIdempotency.headerName)!].flatMap {
            SettlementIdempotency.isAcceptable($0) ? $0 : nil
        }
        let response = await SettlementIdempotency.$current.withValue(settlementID) {
            await tracker.run { [settle] in await settle(incoming, logger) }
        }
        metrics.settled(response, duration: ContinuousClock.now - started)
        // Charged only when the payer's signature carried the settlement this far.
        if response.success || !response.transaction.isEmpty, let payer { payerLimiter.charge(payer) }
        if response.success, let catalog, case .payment(let payment) = incoming { await catalog.record(payment) }
        context.logger.info(
            "settle",
            metadata: [
                "network": "\(response.network)", "success": "\(response.success)",
                "reason": "\(response.errorReason?.rawValue ?? "")", "transaction": "\(response.transaction)",
                "payer": "\(response.payer ?? "")",
            ])
        return Self.json(response.json)
    }

    private func discoveryRoute(_ request: Request) async throws(RouteFailure) -> Response {
        let (filter, limit, offset) = try Self.discoveryPage(request, start: .offset)
        guard let catalog else {
            return Self.json(DiscoveryResponse(items: [], pagination: .init(limit: limit, offset: offset, total: 0)).json)
        }
        do {
            return Self.json(try await catalog.page(filter, limit: limit, offset: offset).json)
        } catch {
            throw RouteFailure(status: .serviceUnavailable, message: "the discovery catalog is unavailable")
        }
    }

    /// `GET /discovery/search`: the upstream search shape (`resources`, `partialResults`,
    /// `pagination.cursor`); the cursor is the offset of the next page.
    private func discoverySearchRoute(_ request: Request) async throws(RouteFailure) -> Response {
        let (filter, limit, offset) = try Self.discoveryPage(request, start: .cursor)
        guard let catalog else { return Self.json(DiscoverySearchResponse(resources: [], partialResults: false, limit: limit).json) }
        do {
            let page = try await catalog.page(filter, limit: limit, offset: offset)
            let next = offset + page.items.count
            let more = next < page.pagination.total
            return Self.json(
                DiscoverySearchResponse(resources: page.items, partialResults: more, limit: limit, cursor: more ? String(next) : nil).json)
        } catch {
            throw RouteFailure(status: .serviceUnavailable, message: "the discovery catalog is unavailable")
        }
    }

    /// Where a discovery page starts: `offset` (`/discovery/resources`) or the `cursor` a previous
    /// answer gave (`/discovery/search`).
    private enum PageStart {
        case offset, cursor
    }

    /// The filter, `limit` (1–100, default 20) and start of a discovery request; a malformed one is a 400.
    private static func discoveryPage(_ request: Request, start: PageStart) throws(RouteFailure) -> (DiscoveryFilter, Int, Int) {
        let query = request.uri.queryParameters
        var limit = 20
        var offset = 0
        if let text = query["limit"] {
            guard let value = Int(String(text)), (1...100).contains(value) else {
                throw RouteFailure(status: .badRequest, message: "limit must be an integer from 1 to 100", field: "limit")
            }
            limit = value
        }
        switch start {
        case .offset:
            if let text = query["offset"] {
                guard let value = Int(String(text)), value >= 0 else {
                    throw RouteFailure(status: .badRequest, message: "offset must be a non-negative integer", field: "offset")
                }
                offset = value
            }
        case .cursor:
            if let text = query["cursor"], !text.isEmpty {
                guard text.utf8.count <= 12, let value = Int(String(text)), value >= 0 else {
                    throw RouteFailure(status: .badRequest, message: "cursor must come from a previous answer", field: "cursor")
                }
                offset = value
            }
        }
        return (try discoveryFilter { query[Substring($0)].map(String.init) }, limit, offset)
    }

    /// The filters of a discovery request (`type`, `query`, `network`, `scheme`, `payTo`), each at
    /// most 256 bytes; a malformed search is a 400.
    private static func discoveryFilter(_ parameter: (String) -> String?) throws(RouteFailure) -> DiscoveryFilter {
        func text(_ name: String) throws(RouteFailure) -> String? {
            guard let value = parameter(name) else { return nil }
            guard value.utf8.count <= DiscoveryFilter.maximumQueryBytes else {
                throw RouteFailure(status: .badRequest, message: "\(name) must be at most \(DiscoveryFilter.maximumQueryBytes) bytes", field: name)
            }
            return value.isEmpty ? nil : value
        }
        do {
            return try DiscoveryFilter(
                type: try text("type"), query: try text("query"), network: try text("network"), scheme: try text("scheme"),
                payTo: try text("payTo"))
        } catch let error as DiscoveryFilterError {
            throw RouteFailure(status: .badRequest, message: error.description, field: "query")
        } catch let error as RouteFailure {
            throw error
        } catch {
            throw RouteFailure(status: .badRequest, message: "\(error)", field: "query")
        }
    }

    // MARK: Helpers

    /// A request that cannot be answered with a verdict.
    struct RouteFailure: Error {
        let status: HTTPResponse.Status
        let message: String
        var field: String? = nil
        var headers: HTTPFields = HTTPFields()
        /// The refusal's machine-readable reason (metrics label, and `reason` in the JSON body when set).
        var reason: String? = nil
    }

    /// 429 when the client's address has used up its bucket.
    private func limitClient(_ context: FacilitatorRequestContext) throws(RouteFailure) {
        let key = context.remoteAddress?.ipAddress ?? "unknown"
        guard clientLimiter.allow("ip:" + key) else { throw Self.rateLimited("too many requests from this client", limit: clientLimiter.limit) }
    }

    /// 429 when the payer (`paymentPayload.payload.authorization.from`) has used up its bucket;
    /// otherwise the payer's bucket key, to be charged once the payment proved to be the payer's.
    ///
    /// The `from` in a request is only a claim until its signature is checked, so a request is
    /// charged to the payer's bucket only after a valid verification or a settlement that got as
    /// far as a transaction: anyone can write a victim's address into forged payments, and must
    /// not be able to empty the victim's bucket with them (those count against the sender's
    /// client bucket only).
    private func limitPayer(_ incoming: IncomingFacilitatorRequest) throws(RouteFailure) -> String? {
        guard case .payment(let request) = incoming,
            let from = request.paymentPayload.payload["authorization"]?["from"]?.stringValue, !from.isEmpty, from.utf8.count <= 128
        else { return nil }
        let key = "payer:" + from.lowercased()
        guard payerLimiter.hasToken(key) else {
            throw Self.rateLimited("too many requests for this payer", limit: payerLimiter.limit)
        }
        return key
    }

    private static func rateLimited(_ message: String, limit: RateLimit) -> RouteFailure {
        var headers = HTTPFields()
        let wait = limit.perSecond > 0 && limit.perSecond.isFinite ? max(1, Int((1 / limit.perSecond).rounded(.up))) : 60
        headers[.retryAfter] = String(min(wait, 3600))
        return RouteFailure(status: .tooManyRequests, message: message, headers: headers, reason: ErrorReason.rateLimited.rawValue)
    }

    private func authorize(_ request: Request) throws(RouteFailure) {
        guard !options.bearerTokens.isEmpty else { return }
        var challenge = HTTPFields()
        challenge[.wwwAuthenticate] = "Bearer"
        guard let header = request.headers[.authorization], header.lowercased().hasPrefix("bearer ") else {
            throw RouteFailure(status: .unauthorized, message: "a bearer token is required", headers: challenge, reason: "unauthorized")
        }
        let presented = Array(header.dropFirst(7).trimmingCharacters(in: .whitespaces).utf8)
        var matched = false
        for token in options.bearerTokens where Self.constantTimeEqual(presented, Array(token.utf8)) { matched = true }
        guard matched else {
            throw RouteFailure(status: .unauthorized, message: "the bearer token is not valid", headers: challenge, reason: "unauthorized")
        }
    }

    private func decode(_ request: Request) async throws(RouteFailure) -> IncomingFacilitatorRequest {
        var request = request
        let body: ByteBuffer
        do {
            body = try await request.collectBody(upTo: options.maxBodyBytes)
        } catch {
            throw RouteFailure(status: .badRequest, message: "request body exceeds \(options.maxBodyBytes) bytes")
        }
        do {
            return try IncomingFacilitatorRequest(jsonBytes: body.readableBytesView)
        } catch {
            switch error {
            case .invalidJSON(let e): throw RouteFailure(status: .badRequest, message: "request body is not JSON: \(e)")
            case .invalidMessage(let e):
                throw RouteFailure(status: .badRequest, message: "invalid request: \(e)", field: e.path.isEmpty ? nil : e.path)
            default: throw RouteFailure(status: .badRequest, message: "invalid request: \(error)")
            }
        }
    }

    private func measure(
        _ route: String, _ context: FacilitatorRequestContext, _ body: () async throws(RouteFailure) -> Response
    ) async -> Response {
        let response: Response
        do {
            response = try await body()
        } catch {
            context.logger.notice("rejected \(route) request", metadata: ["status": "\(error.status.code)", "problem": "\(error.message)"])
            var json = JSONObject()
            json["error"] = .string(error.message)
            if let field = error.field { json["field"] = .string(field) }
            if let reason = error.reason { json["reason"] = .string(reason) }
            metrics.refused(route: route, reason: error.reason ?? "invalid_request")
            response = Self.json(.object(json), status: error.status, headers: error.headers)
        }
        metrics.request(route: route, status: response.status.code)
        return response
    }

    static func json(_ value: JSONValue, status: HTTPResponse.Status = .ok, headers: HTTPFields = HTTPFields()) -> Response {
        var headers = headers
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: value.serialized())))
    }

    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var difference = UInt8(truncatingIfNeeded: a.count ^ b.count)
        for i in 0..<max(a.count, b.count) {
            difference |= (i < a.count ? a[i] : 0) ^ (i < b.count ? b[i] : 0)
        }
        return difference == 0
    }
}

/// Tags each request's logs with `request_id` (the caller's `X-Request-Id` when it sends a
/// reasonable one, else Hummingbird's id) and echoes it in the response.
struct RequestIDMiddleware: RouterMiddleware {
    typealias Context = FacilitatorRequestContext
    static let header = HTTPField.Name("X-Request-Id")!

    static func isReasonable(_ id: String) -> Bool {
        guard (1...128).contains(id.utf8.count) else { return false }
        for c in id.utf8 {
            let ok = (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x2D || c == 0x5F || c == 0x2E
            if !ok { return false }
        }
        return true
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        var id = context.id
        if let given = request.headers[Self.header], Self.isReasonable(given) { id = given }
        context.logger[metadataKey: "request_id"] = .string(id)
        var response = try await next(request, context)
        response.headers[Self.header] = id
        return response
    }
}

/// The facilitator's request context: Hummingbird's basics plus the client's address (for the
/// per-client rate limit).
public struct FacilitatorRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The peer's address (`nil` in in-process tests).
    public let remoteAddress: SocketAddress?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }
}
