import Hummingbird
import NIOCore
import X402

/// Hummingbird 2 middleware that charges for routes through a ``ResourceServer``.
///
/// ```swift
/// router.add(middleware: try X402Middleware(
///     routes: ["GET /weather": .exact("$0.01", on: .base, payTo: "0x…")],
///     facilitator: HTTPFacilitatorClient(baseURL: "https://x402.org/facilitator"),
///     schemes: schemes))
/// ```
///
/// Unprotected requests pass straight through. For a paid request the handler runs, its response
/// is held (not written) until settlement succeeds, and is then sent with `PAYMENT-RESPONSE`;
/// if settlement fails the held body is dropped and the client gets the 402. Routes declared with
/// ``SettlementTiming/beforeHandler`` are settled first, so their body streams as it is produced.
public struct X402Middleware<Context: RequestContext>: RouterMiddleware {
    public let server: ResourceServer

    public init(server: ResourceServer) {
        self.server = server
    }

    /// Builds the resource server from its parts (see ``ResourceServer/init(routes:facilitator:schemes:store:hooks:paywall:exposesHeadersForCORS:claimLease:acceptsV1:)``).
    public init(
        routes: RouteTable, facilitator: any FacilitatorClient, schemes: SchemeRegistry<any SchemeServer>,
        store: any PaymentStateStore = InMemoryPaymentStateStore(), hooks: ServerHooks = ServerHooks(), paywall: Paywall = Paywall()
    ) throws(RouteConfigurationError) {
        self.server = try ResourceServer(
            routes: routes, facilitator: facilitator, schemes: schemes, store: store, hooks: hooks, paywall: paywall)
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        switch await server.decide(ServerRequest(request)) {
        case .passThrough:
            return try await next(request, context)
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
            switch await server.complete(payment, handlerStatus: response.status.code) {
            case .replace(let answer):
                return Response(answer)
            case .release(let headers):
                var released = response
                for (name, value) in headers {
                    if let field = HeaderFieldName(name) { released.headers[field] = value }
                }
                return released
            }
        }
    }
}

extension ServerRequest {
    /// The engine's view of a Hummingbird request.
    public init(_ request: Request) {
        var headers = HeaderFields()
        for field in request.headers { headers.add(field.name.rawName, field.value) }
        let host = request.head.authority ?? headers["Host"] ?? "localhost"
        let scheme = request.head.scheme ?? headers["X-Forwarded-Proto"] ?? "http"
        let query = request.uri.query.flatMap { $0.isEmpty ? nil : $0 }
        let url = "\(scheme)://\(host)\(request.uri.path)" + (query.map { "?\($0)" } ?? "")
        self.init(method: request.method.rawValue, path: request.uri.path, query: query, headers: headers, url: url)
    }
}

extension Response {
    /// A Hummingbird response for an engine answer.
    public init(_ answer: ServerResponse) {
        var fields = HTTPFields()
        for (name, value) in answer.headers {
            if let field = HeaderFieldName(name) { fields.append(HeaderField(name: field, value: value)) }
        }
        self.init(
            status: HTTPResponse.Status(code: answer.status), headers: fields,
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: answer.body)))
    }
}

/// `HTTPField` and its name type, reached through `HTTPFields` (HTTPTypes is not imported directly).
typealias HeaderField = HTTPFields.Element
typealias HeaderFieldName = HTTPFields.Element.Name
