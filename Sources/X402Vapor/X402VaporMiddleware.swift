// Compiled only with the package trait `Vapor` (on by default); see Package.swift.
#if Vapor
import HTTPTypes
public import Vapor
public import X402

/// Vapor 4 middleware that charges for routes through a `ResourceServer`.
///
/// ```swift
/// app.middleware.use(try X402VaporMiddleware(configuration: .init(
///     routes: ["GET /weather": .exact("$0.01", on: .base, payTo: "0x…")],
///     facilitator: HTTPFacilitatorClient(baseURL: "https://x402.org/facilitator"),
///     schemes: schemes)))
/// ```
///
/// Unprotected requests pass straight through. For a paid request the handler runs and its
/// response is held (its body, buffered or streamed, is not written) until settlement succeeds;
/// it is then sent with `PAYMENT-RESPONSE`. If settlement fails the held body is dropped and the
/// client gets the 402. A handler answering 400 or more (or throwing) is not settled. Routes
/// declared with `SettlementTiming/beforeHandler` are settled first, so their body streams as
/// it is produced.
///
/// What is charged is what is served (see `RouteTable/resolve(_:)`): the path is judged in its
/// canonical form (`RequestPath`), and a path the router could read differently (dot segments,
/// `%2F` inside a parameter, `;`, `\`) is refused with 400 when any reading is a paid route;
/// malformed paths are refused. `HEAD` is charged like `GET` (Vapor answers `HEAD` with the `GET`
/// route), `OPTIONS` on a paid path is answered here without running the handler, and a
/// method-override header or `_method` parameter prices the request as that method too. Register
/// it with `app.middleware.use` (global middleware runs before routing). A paid response carries
/// `Cache-Control: private` merged with the handler's (`no-store` is kept; `public`, `max-age`
/// and `s-maxage` are dropped) and `Vary: PAYMENT-SIGNATURE, X-PAYMENT`.
public struct X402VaporMiddleware: AsyncMiddleware {
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

    public func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        switch await server.decide(ServerRequest(request)) {
        case .passThrough:
            return try await next.respond(to: request)
        case .signedIn(_, let headers):
            let response = try await next.respond(to: request)
            var merged = HTTPFields(response.headers)
            merged.mergePaymentRelease(headers)
            response.headers = HTTPHeaders(merged)
            return response
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
            switch await server.complete(payment, handlerStatus: HTTPResponse.Status(response.status)) {
            case .replace(let answer):
                return Response(answer)
            case .release(let headers):
                var merged = HTTPFields(response.headers)
                merged.mergePaymentRelease(headers)
                response.headers = HTTPHeaders(merged)
                return response
            }
        }
    }
}

extension ServerRequest {
    /// The engine's view of a Vapor request.
    ///
    /// - Parameter request: The Vapor request.
    public init(_ request: Request) {
        let headers = HTTPFields(request.headers)
        let host = request.url.host.map { h in request.url.port.map { "\(h):\($0)" } ?? h } ?? headers.firstValue(for: .hostHeader) ?? "localhost"
        let scheme = request.url.scheme ?? headers.firstValue(for: .xForwardedProto) ?? "http"
        let path = request.url.path.isEmpty ? "/" : request.url.path
        let query = request.url.query.flatMap { $0.isEmpty ? nil : $0 }
        let url = "\(scheme)://\(host)\(path)" + (query.map { "?\($0)" } ?? "")
        // A method that is not a token cannot come through Vapor's parser; it would be priced as `GET`.
        let method = HTTPRequest.Method(request.method.rawValue) ?? .get
        self.init(method: method, path: path, query: query, headers: headers, url: url)
    }
}

extension Response {
    /// A Vapor response for an engine answer.
    ///
    /// - Parameter answer: The engine's response.
    public convenience init(_ answer: ServerResponse) {
        self.init(
            status: HTTPResponseStatus(statusCode: answer.status.code), headers: HTTPHeaders(answer.headers),
            body: .init(buffer: ByteBuffer(bytes: answer.body)))
    }
}

extension HTTPFields {
    /// Vapor's (NIO's) header fields as `HTTPFields`, in order. A field whose name is not a valid
    /// token (which NIO's parser does not let through) is left out; values are kept as received,
    /// with bytes that may not appear in a field value turned into spaces.
    ///
    /// - Parameter headers: NIO header fields.
    init(_ headers: HTTPHeaders) {
        self.init()
        reserveCapacity(headers.count)
        for (name, value) in headers {
            if let fieldName = HTTPField.Name(name) { append(HTTPField(name: fieldName, value: value)) }
        }
    }
}

extension HTTPHeaders {
    /// `HTTPFields` as Vapor's (NIO's) header fields, in order.
    ///
    /// - Parameter fields: The fields.
    init(_ fields: HTTPFields) {
        self.init()
        reserveCapacity(fields.count)
        for field in fields { add(name: field.name.rawName, value: field.value) }
    }
}

extension HTTPResponse.Status {
    /// A Vapor (NIO) status as an `HTTPResponse.Status`; a code outside `0...999`, which a
    /// handler could set but HTTP cannot carry, is read as `500`.
    ///
    /// - Parameter status: The NIO status.
    init(_ status: HTTPResponseStatus) {
        let code = Int(status.code)
        self.init(code: (0...999).contains(code) ? code : 500)
    }
}
#endif  // Vapor
