// Compiled only with the package trait `Vapor` (on by default); see Package.swift.
#if Vapor
import Vapor
import X402

/// Vapor 4 middleware that charges for routes through a ``ResourceServer``.
///
/// ```swift
/// app.middleware.use(try X402VaporMiddleware(
///     routes: ["GET /weather": .exact("$0.01", on: .base, payTo: "0x…")],
///     facilitator: HTTPFacilitatorClient(baseURL: "https://x402.org/facilitator"),
///     schemes: schemes))
/// ```
///
/// Unprotected requests pass straight through. For a paid request the handler runs and its
/// response is held (its body, buffered or streamed, is not written) until settlement succeeds;
/// it is then sent with `PAYMENT-RESPONSE`. If settlement fails the held body is dropped and the
/// client gets the 402. A handler answering 400 or more (or throwing) is not settled. Routes
/// declared with ``SettlementTiming/beforeHandler`` are settled first, so their body streams as
/// it is produced.
///
/// What is charged is what is served (see ``RouteTable/resolve(_:)``): the path is judged in its
/// canonical form (``RequestPath``), and a path the router could read differently (dot segments,
/// `%2F` inside a parameter, `;`, `\`) is refused with 400 when any reading is a paid route;
/// malformed paths are refused. `HEAD` is charged like `GET` (Vapor answers `HEAD` with the `GET`
/// route), `OPTIONS` on a paid path is answered here without running the handler, and a
/// method-override header or `_method` parameter prices the request as that method too. Register
/// it with `app.middleware.use` (global middleware runs before routing). A paid response carries
/// `Cache-Control: private` merged with the handler's (`no-store` is kept; `public`, `max-age`
/// and `s-maxage` are dropped) and `Vary: PAYMENT-SIGNATURE, X-PAYMENT`.
public struct X402VaporMiddleware: AsyncMiddleware {
    public let server: ResourceServer

    public init(server: ResourceServer) {
        self.server = server
    }

    /// Builds the resource server from its parts (see ``ResourceServer``).
    public init(
        routes: RouteTable, facilitator: any FacilitatorClient, schemes: SchemeRegistry<any SchemeServer>,
        store: any PaymentStateStore = InMemoryPaymentStateStore(), hooks: ServerHooks = ServerHooks(), paywall: Paywall = Paywall()
    ) throws(RouteConfigurationError) {
        self.server = try ResourceServer(
            routes: routes, facilitator: facilitator, schemes: schemes, store: store, hooks: hooks, paywall: paywall)
    }

    public func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        switch await server.decide(ServerRequest(request)) {
        case .passThrough:
            return try await next.respond(to: request)
        case .respond(let answer):
            return Response(answer)
        case .proceed(let payment):
            let response: Response
            do {
                response = try await next.respond(to: request)
            } catch {
                await server.abandon(payment)
                throw error
            }
            switch await server.complete(payment, handlerStatus: Int(response.status.code)) {
            case .replace(let answer):
                return Response(answer)
            case .release(let headers):
                var merged = HeaderFields()
                for (name, value) in response.headers { merged.add(name, value) }
                merged.mergePaymentRelease(headers)
                var fields = HTTPHeaders()
                for (name, value) in merged { fields.add(name: name, value: value) }
                response.headers = fields
                return response
            }
        }
    }
}

extension ServerRequest {
    /// The engine's view of a Vapor request.
    public init(_ request: Request) {
        var headers = HeaderFields()
        for (name, value) in request.headers { headers.add(name, value) }
        let host = request.url.host.map { h in request.url.port.map { "\(h):\($0)" } ?? h } ?? headers["Host"] ?? "localhost"
        let scheme = request.url.scheme ?? headers["X-Forwarded-Proto"] ?? "http"
        let path = request.url.path.isEmpty ? "/" : request.url.path
        let query = request.url.query.flatMap { $0.isEmpty ? nil : $0 }
        let url = "\(scheme)://\(host)\(path)" + (query.map { "?\($0)" } ?? "")
        self.init(method: request.method.rawValue, path: path, query: query, headers: headers, url: url)
    }
}

extension Response {
    /// A Vapor response for an engine answer.
    public convenience init(_ answer: ServerResponse) {
        var headers = HTTPHeaders()
        for (name, value) in answer.headers { headers.add(name: name, value: value) }
        self.init(status: HTTPResponseStatus(statusCode: answer.status), headers: headers, body: .init(buffer: ByteBuffer(bytes: answer.body)))
    }
}
#endif  // Vapor
