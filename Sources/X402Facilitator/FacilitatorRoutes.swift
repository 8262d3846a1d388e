import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import X402

/// The facilitator's HTTP surface over a ``FacilitatorEngine``.
///
/// * `POST /verify`, `POST /settle`: 200 with the verdict for every well-formed request, including
///   unknown versions, schemes and networks (`isValid:false` / `success:false` and a reason);
///   400 `{"error": "...", "field": "..."}` for a body that is not JSON, larger than
///   ``Options/maxBodyBytes`` (64 KiB by default) or missing required members; 401 without a valid
///   bearer token when tokens are configured.
/// * `GET /supported`, `GET /health`, `GET /metrics` (Prometheus text), `GET /discovery/resources`.
public struct FacilitatorRoutes: Sendable {
    public struct Options: Sendable {
        /// Tokens accepted in `Authorization: Bearer <token>` on `/verify` and `/settle`; empty: no auth.
        public var bearerTokens: [String] = []
        /// The largest accepted `/verify` or `/settle` body.
        public var maxBodyBytes: Int = 64 * 1024
        public init(bearerTokens: [String] = [], maxBodyBytes: Int = 64 * 1024) {
            self.bearerTokens = bearerTokens
            self.maxBodyBytes = maxBodyBytes
        }
    }

    public let engine: FacilitatorEngine
    public let options: Options
    public let metrics: FacilitatorMetrics
    public let catalog: DiscoveryCatalog?
    public let tracker: SettlementTracker
    /// Settles a request (the engine, or a journal wrapping it).
    let settle: @Sendable (IncomingFacilitatorRequest, Logger) async -> SettleResponse

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
    }

    /// A router serving every facilitator route.
    public func router() -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
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
        return router
    }

    // MARK: Routes

    private func verifyRoute(_ request: Request, _ context: BasicRequestContext) async throws(RouteFailure) -> Response {
        try authorize(request)
        let incoming = try await decode(request)
        let started = ContinuousClock.now
        let response = await engine.verify(incoming)
        metrics.verified(response, duration: ContinuousClock.now - started)
        if response.isValid, let catalog, case .payment(let payment) = incoming { await catalog.record(payment) }
        context.logger.info(
            "verify", metadata: ["network": "\(incoming.networkIdentifier)", "valid": "\(response.isValid)",
                "reason": "\(response.invalidReason?.rawValue ?? "")", "payer": "\(response.payer ?? "")"])
        return Self.json(response.json)
    }

    private func settleRoute(_ request: Request, _ context: BasicRequestContext) async throws(RouteFailure) -> Response {
        try authorize(request)
        let incoming = try await decode(request)
        let started = ContinuousClock.now
        let logger = context.logger
        let response = await tracker.run { [settle] in await settle(incoming, logger) }
        metrics.settled(response, duration: ContinuousClock.now - started)
        if response.success, let catalog, case .payment(let payment) = incoming { await catalog.record(payment) }
        context.logger.info(
            "settle", metadata: ["network": "\(response.network)", "success": "\(response.success)",
                "reason": "\(response.errorReason?.rawValue ?? "")", "transaction": "\(response.transaction)",
                "payer": "\(response.payer ?? "")"])
        return Self.json(response.json)
    }

    private func discoveryRoute(_ request: Request) async throws(RouteFailure) -> Response {
        let query = request.uri.queryParameters
        var limit = 20
        var offset = 0
        if let text = query["limit"] {
            guard let value = Int(String(text)), (1...100).contains(value) else {
                throw RouteFailure(status: .badRequest, message: "limit must be an integer from 1 to 100", field: "limit")
            }
            limit = value
        }
        if let text = query["offset"] {
            guard let value = Int(String(text)), value >= 0 else {
                throw RouteFailure(status: .badRequest, message: "offset must be a non-negative integer", field: "offset")
            }
            offset = value
        }
        let type = query["type"].map(String.init)
        guard let catalog else {
            return Self.json(DiscoveryResponse(items: [], pagination: .init(limit: limit, offset: offset, total: 0)).json)
        }
        do {
            return Self.json(try await catalog.page(type: type, limit: limit, offset: offset).json)
        } catch {
            throw RouteFailure(status: .serviceUnavailable, message: "the discovery catalog is unavailable")
        }
    }

    // MARK: Helpers

    /// A request that cannot be answered with a verdict.
    struct RouteFailure: Error {
        let status: HTTPResponse.Status
        let message: String
        var field: String? = nil
        var headers: HTTPFields = HTTPFields()
    }

    private func authorize(_ request: Request) throws(RouteFailure) {
        guard !options.bearerTokens.isEmpty else { return }
        var challenge = HTTPFields()
        challenge[.wwwAuthenticate] = "Bearer"
        guard let header = request.headers[.authorization], header.lowercased().hasPrefix("bearer ") else {
            throw RouteFailure(status: .unauthorized, message: "a bearer token is required", headers: challenge)
        }
        let presented = Array(header.dropFirst(7).trimmingCharacters(in: .whitespaces).utf8)
        var matched = false
        for token in options.bearerTokens where Self.constantTimeEqual(presented, Array(token.utf8)) { matched = true }
        guard matched else { throw RouteFailure(status: .unauthorized, message: "the bearer token is not valid", headers: challenge) }
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
        _ route: String, _ context: BasicRequestContext, _ body: () async throws(RouteFailure) -> Response
    ) async -> Response {
        let response: Response
        do {
            response = try await body()
        } catch {
            context.logger.notice("rejected \(route) request", metadata: ["status": "\(error.status.code)", "problem": "\(error.message)"])
            var json = JSONObject()
            json["error"] = .string(error.message)
            if let field = error.field { json["field"] = .string(field) }
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
    typealias Context = BasicRequestContext
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
