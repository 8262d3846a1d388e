import ArgumentParser
import Foundation
import Logging
import X402
import X402EVM
import X402Gateway
import X402SQLite
import X402Solana

#if PostgreSQL
import X402Postgres
#endif

/// `x402 gateway`: a paid reverse proxy in front of any HTTP service.
struct GatewayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gateway",
        abstract: "Put an existing HTTP API behind x402 payments (paid reverse proxy).",
        discussion: """
            Requests matching a --route must be paid; all others are forwarded for free. Flags override the \
            configuration file. Once listening, one JSON line is printed on stdout: \
            {"url": …, "upstream": …, "routes": […]}. Example:

              x402 gateway --upstream http://127.0.0.1:8080 --route 'GET /api/*=$0.01' \\
                  --pay-to 0x… --network eip155:84532 --facilitator https://x402.org/facilitator
            """)

    @Option(name: .long, help: "A JSON configuration file (see docs/gateway.md).")
    var config: String?

    @Option(name: .long, help: ArgumentHelp("The HTTP service to put behind payments.", valueName: "url"))
    var upstream: String?

    @Option(
        name: .long,
        help: ArgumentHelp("A paid route, e.g. 'GET /api/*=$0.01' (repeatable; replaces the file's routes).", valueName: "METHOD /pattern=PRICE"))
    var route: [String] = []

    @Option(name: .long, help: ArgumentHelp("The recipient of payments.", valueName: "address"))
    var payTo: String?

    @Option(name: .long, help: ArgumentHelp("The CAIP-2 network payments are made on, e.g. eip155:84532.", valueName: "caip2"))
    var network: String?

    @Option(name: .long, help: ArgumentHelp("The facilitator's base URL.", valueName: "url"))
    var facilitator: String?

    @Option(
        name: .long,
        help: ArgumentHelp("An environment variable holding the facilitator credential ('Bearer …' or 'Header: value').", valueName: "name"))
    var facilitatorAuthEnv: String?

    @OptionGroup var server: ServerOptions<GatewayServerDefaults>

    @Option(name: .long, help: ArgumentHelp("Payment state: memory, sqlite:PATH or postgres://… (default \(GatewayConfiguration().state))."))
    var state: String?

    @Option(
        name: .long,
        help: ArgumentHelp("Seconds to wait for the upstream's response head (default \(GatewayConfiguration().upstreamTimeoutSeconds))."))
    var upstreamTimeout: Int?

    @Option(
        name: .customLong("trusted-proxy"),
        help: ArgumentHelp(
            "A proxy (IPv4/IPv6 address or CIDR) whose X-Forwarded-*/Forwarded headers are passed on (repeatable; replaces the file's trustedProxies). From other peers they are overwritten.",
            valueName: "cidr"))
    var trustedProxy: [String] = []

    func configuration() throws -> GatewayConfiguration {
        do {
            return try merged()
        } catch {
            throw ValidationError(error.description)
        }
    }

    /// The file's configuration with the flags applied, validated.
    func merged() throws(GatewayConfigurationError) -> GatewayConfiguration {
        var c = GatewayConfiguration()
        if let config { c = try GatewayConfiguration.load(path: config) }
        if let upstream { c.upstream = upstream }
        if !route.isEmpty {
            var routes: [GatewayConfiguration.Route] = []
            for spec in route { routes.append(try GatewayConfiguration.Route(spec: spec)) }
            c.routes = routes
        }
        if let payTo { c.payTo = payTo }
        if let network {
            guard let parsed = Network(network) else { throw .invalidValue("network", "\(network) is not a CAIP-2 network identifier") }
            c.network = parsed
        }
        if let facilitator { c.facilitator = facilitator }
        if let facilitatorAuthEnv { c.facilitatorAuthEnv = facilitatorAuthEnv }
        server.apply(host: &c.host, port: &c.port, v1: &c.v1)
        if let state { c.state = state }
        if let upstreamTimeout { c.upstreamTimeoutSeconds = upstreamTimeout }
        if !trustedProxy.isEmpty { c.trustedProxies = trustedProxy }
        try c.validate()
        return c
    }

    func run() async throws {
        let configuration = try configuration()
        bootstrapStandardErrorLogging(level: server.logLevel)
        let logger = Logger(label: "x402.gateway")
        let store = try await Self.stateStore(configuration)
        var schemes = SchemeRegistry<any SchemeServer>()
        schemes.registerExactEVM()
        schemes.registerExactSVM()
        // Its own client for the upstream and the facilitator: a refused connection answers 502/503
        // at once instead of being retried until the request deadline.
        let offerReceipts = try Self.offerReceiptSigning(configuration.offerReceipts)
        try await withCLIHTTPClient(timeout: 5) { httpClient in
            let gateway: Gateway
            do {
                gateway = try Gateway(
                    configuration: configuration, schemes: schemes, store: store, offerReceipts: offerReceipts, httpClient: httpClient,
                    logger: logger)
            } catch {
                throw ValidationError(String(describing: error))
            }
            try await gateway.run { line in
                // Unbuffered, so a script reading the pipe sees the line at once.
                FileHandle.standardOutput.write(Data((line + "\n").utf8))
            }
        }
    }

    /// The offer and receipt signer the configuration names (its key from the environment or a file).
    static func offerReceiptSigning(_ member: GatewayConfiguration.OfferReceiptSigning?) throws -> OfferReceipt.Signing? {
        guard let member else { return nil }
        let source: GatewayConfiguration.OfferReceiptSigning.KeySource
        do { source = try member.keySource() } catch { throw ValidationError(error.description) }
        do {
            switch (member.format, source) {
            case (.eip712, .environment(let name)): return try .evm(format: .eip712, environmentVariable: name)
            case (.eip712, .file(let path)): return try .evm(format: .eip712, keyFile: path)
            case (.jws, .environment(let name)): return try .evm(format: .jws, environmentVariable: name)
            case (.jws, .file(let path)): return try .evm(format: .jws, keyFile: path)
            case (.eddsa, .environment(let name)): return try .eddsa(environmentVariable: name)
            case (.eddsa, .file(let path)): return try .eddsa(keypairFile: path)
            }
        } catch {
            // The error names the variable or file, never the key.
            throw ValidationError("offerReceipts: \(error)")
        }
    }

    /// The payment state store the configuration names.
    static func stateStore(_ configuration: GatewayConfiguration) async throws -> any PaymentStateStore {
        switch try configuration.stateLocation() {
        case .memory:
            return InMemoryPaymentStateStore()
        case .sqlite(let path):
            do {
                return try SQLitePaymentStateStore(path: path)
            } catch {
                throw ValidationError("--state sqlite:\(path): \(error)")
            }
        case .postgres(let url):
            #if PostgreSQL
            do {
                return try await PostgresPaymentStateStore.connect(url: url)
            } catch {
                // The URL may hold a password: name only the failure.
                throw ValidationError("--state postgres: cannot open the payment state store: \(error.description)")
            }
            #else
            _ = url
            throw ValidationError("--state postgres: this x402 was built without PostgreSQL support (package trait PostgreSQL is off)")
            #endif
        }
    }
}
