import HTTPTypes
public import Hummingbird
import NIOCore
public import X402

/// Hummingbird 2 middleware that charges for routes through a `ResourceServer`.
///
/// ```swift
/// router.add(middleware: try X402Middleware(configuration: .init(
///     routes: ["GET /weather": .exact("$0.01", on: .base, payTo: "0x…")],
///     facilitator: HTTPFacilitatorClient(baseURL: "https://x402.org/facilitator"),
///     schemes: schemes)))
/// ```
///
/// Unprotected requests pass straight through. For a paid request the handler runs, its response
/// is held (not written) until settlement succeeds, and is then sent with `PAYMENT-RESPONSE`;
/// if settlement fails the held body is dropped and the client gets the 402. Routes declared with
/// `SettlementTiming/beforeHandler` are settled first, so their body streams as it is produced.
///
/// What is charged is what is served (see `RouteTable/resolve(_:)`): the path is judged in its
/// canonical form (`RequestPath`), and a path the router could read differently (dot segments,
/// `%2F`, `;`, `\`) is refused with 400 when any reading is a paid route; malformed paths are
/// refused. `HEAD` is charged like `GET` (for `.autoGenerateHeadEndpoints`), `OPTIONS` on a paid
/// path is answered here without running the handler, and a method-override header or `_method`
/// parameter prices the request as that method too. Add the middleware before the routes (a
/// Hummingbird router middleware applies only to routes added after it). A paid response carries
/// `Cache-Control: private` merged with the handler's (`no-store` is kept; `public`, `max-age`
/// and `s-maxage` are dropped) and `Vary: PAYMENT-SIGNATURE, X-PAYMENT`.
public struct X402Middleware<Context: RequestContext>: RouterMiddleware {
    public let server: ResourceServer

    /// A middleware charging through a ready resource server.
    ///
    /// - Parameter server: The resource server.
    public init(server: ResourceServer) {
        self.server = server
    }

    /// A middleware charging through a resource server built from `configuration`.
    ///
    /// - Parameter configuration: The routes, facilitator, schemes and options
    ///   (see `ResourceServer/Configuration`).
    /// - Throws: `RouteConfigurationError` for an invalid route, price or missing scheme.
    public init(configuration: ResourceServer.Configuration) throws(RouteConfigurationError) {
        self.server = try ResourceServer(configuration: configuration)
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        switch await server.decide(ServerRequest(request)) {
        case .passThrough:
            return try await next(request, context)
        case .signedIn(_, let headers):
            var response = try await next(request, context)
            response.headers.mergePaymentRelease(headers)
            return response
        case .respond(let answer):
            return Response(answer)
        case .proceed(let payment):
            let response: Response
            do {
                response = try await next(request, context)
            } catch {
                await server.abandon(payment)
                throw error
            }
            switch await server.complete(payment, handlerStatus: response.status) {
            case .replace(let answer):
                return Response(answer)
            case .release(let headers):
                var released = response
                released.headers.mergePaymentRelease(headers)
                return released
            }
        }
    }
}

extension ServerRequest {
    /// The engine's view of a Hummingbird request: its method, its path and query as Hummingbird
    /// parses the target, its header fields, and its URL from the authority (or `Host`).
    ///
    /// - Parameter request: The Hummingbird request.
    public init(_ request: Request) {
        let host = request.head.authority ?? request.headers.firstValue(for: .hostHeader) ?? "localhost"
        let scheme = request.head.scheme ?? request.headers.firstValue(for: .xForwardedProto) ?? "http"
        let query = request.uri.query.flatMap { $0.isEmpty ? nil : $0 }
        let url = "\(scheme)://\(host)\(request.uri.path)" + (query.map { "?\($0)" } ?? "")
        self.init(method: request.method, path: request.uri.path, query: query, headers: request.headers, url: url)
    }
}

extension Response {
    /// A Hummingbird response for an engine answer.
    ///
    /// - Parameter answer: The engine's response.
    public init(_ answer: ServerResponse) {
        self.init(status: answer.status, headers: answer.headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: answer.body)))
    }
}
