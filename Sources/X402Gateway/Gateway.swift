public import AsyncHTTPClient
public import Foundation
public import Hummingbird
public import Logging
public import NIOCore
public import X402
public import X402HTTP
import X402Hummingbird

/// A paid reverse proxy: x402 payments in front of any HTTP service.
///
/// Every request goes through `X402Middleware`; paid routes need a payment, the rest are
/// forwarded untouched. The upstream's response is held (its body not read) until the payment
/// settles and is then streamed through with `PAYMENT-RESPONSE`; when settlement fails the
/// client gets the 402 and the upstream's body is dropped unread. An upstream answer of 400 or
/// more, or no answer at all (502), is not settled. Settle-before routes stream immediately.
///
/// ```swift
/// var schemes = SchemeRegistry<any SchemeServer>()
/// schemes.registerExactEVM()
/// let gateway = try Gateway(configuration: configuration, schemes: schemes)
/// try await gateway.run()
/// ```
public struct Gateway: Sendable {
    public let configuration: GatewayConfiguration
    public let server: ResourceServer
    let forwarder: UpstreamForwarder
    let logger: Logger

    /// A gateway around a ready resource server (its routes, facilitator and store are used as is).
    public init(
        configuration: GatewayConfiguration, server: ResourceServer, httpClient: HTTPClient = .shared,
        logger: Logger = Logger(label: "x402.gateway")
    ) throws(GatewayConfigurationError) {
        self.configuration = configuration
        self.server = server
        self.forwarder = UpstreamForwarder(
            upstream: try configuration.upstreamURL(), httpClient: httpClient, timeout: .seconds(configuration.upstreamTimeoutSeconds),
            logger: logger, trustedProxies: try configuration.trustedProxyRanges())
        self.logger = logger
    }

    /// Builds the resource server from the configuration.
    ///
    /// - Parameters:
    ///   - configuration: routes, upstream, facilitator and limits (from flags or a JSON file).
    ///   - schemes: the scheme servers that price routes (e.g. `registerExactEVM()` from `X402EVM`).
    ///   - facilitator: the facilitator; by default an `HTTPFacilitatorClient` for
    ///     ``GatewayConfiguration/facilitator`` with the credential from
    ///     ``GatewayConfiguration/facilitatorAuthEnv``.
    ///   - store: where payment state is kept (shared across instances for a database store).
    ///   - offerReceipts: signs offers and receipts for routes that declare `offerReceipt`
    ///     (build it from ``GatewayConfiguration/offerReceipts`` with `X402EVM` or `X402Solana`).
    ///   - environment: where the credential variable is looked up.
    ///   - httpClient: the client that forwards to the upstream (redirects are passed through, not followed).
    ///   - logger: where requests, forwarding failures and settlements are logged.
    /// - Throws: ``GatewayConfigurationError`` for an invalid upstream, route or proxy range.
    public init(
        configuration: GatewayConfiguration, schemes: SchemeRegistry<any SchemeServer>, facilitator: (any FacilitatorClient)? = nil,
        store: any PaymentStateStore = InMemoryPaymentStateStore(), offerReceipts: OfferReceipt.Signing? = nil,
        environment: [String: String] = ProcessInfo.processInfo.environment,
        httpClient: HTTPClient = .shared, logger: Logger = Logger(label: "x402.gateway")
    ) throws(GatewayConfigurationError) {
        try configuration.validate()
        let facilitatorClient: any FacilitatorClient
        if let facilitator {
            facilitatorClient = facilitator
        } else {
            facilitatorClient = try Self.facilitatorClient(for: configuration, environment: environment, httpClient: httpClient)
        }
        let routes = try configuration.routeTable()
        let server: ResourceServer
        do {
            var serverConfiguration = ResourceServer.Configuration(
                routes: routes, facilitator: facilitatorClient, schemes: schemes, store: store, acceptsV1: configuration.v1)
            serverConfiguration.offerReceipts = offerReceipts
            server = try ResourceServer(configuration: serverConfiguration)
        } catch {
            throw .server(error.description)
        }
        try self.init(configuration: configuration, server: server, httpClient: httpClient, logger: logger)
    }

    /// The HTTP facilitator client the configuration names.
    public static func facilitatorClient(
        for configuration: GatewayConfiguration, environment: [String: String], httpClient: HTTPClient = .shared
    ) throws(GatewayConfigurationError) -> HTTPFacilitatorClient {
        guard let url = configuration.facilitator else { throw .missing("facilitator") }
        var authentication = FacilitatorAuthentication.none
        if let variable = configuration.facilitatorAuthEnv {
            guard let value = environment[variable], !value.isEmpty else { throw .missingEnvironment(variable) }
            authentication = .headers([authenticationHeader(value)])
        }
        return HTTPFacilitatorClient(configuration: .init(baseURL: url, authentication: authentication), httpClient: httpClient)
    }

    /// `Name: value` → that header; anything else is the `Authorization` value.
    static func authenticationHeader(_ value: String) -> (name: String, value: String) {
        let text = value.trimmingCharacters(in: .whitespacesAndNewlines)
        if let colon = text.firstIndex(of: ":") {
            let name = text[..<colon]
            let isToken = !name.isEmpty && name.utf8.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 | 0x20 >= 97 && $0 | 0x20 <= 122) || $0 == 45 }
            if isToken { return (String(name), text[text.index(after: colon)...].trimmingCharacters(in: .whitespaces)) }
        }
        return ("Authorization", text)
    }

    /// The gateway's HTTP responder: the x402 middleware in front of the forwarder.
    public var responder: some HTTPResponder<GatewayRequestContext> {
        GatewayResponder(middleware: X402Middleware(server: server), forwarder: forwarder)
    }

    /// The Hummingbird application listening on the configured host and port.
    public func application(onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }) -> some ApplicationProtocol {
        Application(
            responder: responder,
            configuration: .init(address: .hostname(configuration.host, port: configuration.port)),
            onServerRunning: onServerRunning, logger: logger)
    }

    /// Runs until SIGINT/SIGTERM; `onReady` gets the ready line (see ``readyLine(port:)``) once listening.
    public func run(onReady: @escaping @Sendable (String) -> Void = { _ in }) async throws {
        let line = { @Sendable (port: Int) in readyLine(port: port) }
        try await application { channel in onReady(line(channel.localAddress?.port ?? configuration.port)) }.runService()
    }

    /// One JSON line announcing that the gateway listens on `port`:
    /// `{"url": "http://127.0.0.1:4021", "upstream": "…", "routes": ["GET /api/*=$0.01"]}`.
    public func readyLine(port: Int) -> String {
        let host = configuration.host.contains(":") ? "[\(configuration.host)]" : configuration.host
        let routes = configuration.routes.map { JSONValue.string("\($0.route)=\($0.price)") }
        let line: JSONValue = [
            "url": .string("http://\(host):\(port)"), "upstream": .string(configuration.upstream ?? ""), "routes": .array(routes),
        ]
        return line.serializedString()
    }
}

struct GatewayResponder: HTTPResponder {
    typealias Context = GatewayRequestContext
    let middleware: X402Middleware<GatewayRequestContext>
    let forwarder: UpstreamForwarder

    func respond(to request: Request, context: GatewayRequestContext) async throws -> Response {
        // Method overrides never reach the upstream, so the request is priced as the method it is.
        var request = request
        if MethodOverride.headerNames.contains(where: { request.headers.contains($0) }) {
            var head = request.head
            for name in MethodOverride.headerNames { head.headerFields[values: name] = [] }
            request = Request(head: head, body: request.body)
        }
        return try await middleware.handle(request, context: context) { request, context in
            await forwarder.forward(request, context: context)
        }
    }
}
