import AsyncHTTPClient
import Foundation
import Hummingbird
import NIOCore
import Testing
import Vapor
import X402
import X402EVM
import X402EVMRPC
import X402Gateway
import X402HTTP
import X402TestSupport
import X402Vapor

/// The seller side on the devnet: the Swift facilitator service (in process, over HTTP), a Vapor
/// server with `X402VaporMiddleware`, and the `x402 gateway` in front of a Hummingbird upstream
/// each charge a payment signed by the Swift client and one made by the official Python SDK's
/// client (`x402==2.25.0`). Each payment moves exactly the price on chain, the decoded
/// `PAYMENT-RESPONSE` names the transaction and the payer, and the handler/upstream runs once.
@Suite("seller side (Vapor, gateway) on the devnet", .devnet, .serialized)
struct GatewayVaporIntegrationTests {
    actor Hits {
        private(set) var count = 0
        func add() { count += 1 }
    }

    /// The resource server's scheme registry: the `exact` EVM server.
    static var schemes: SchemeRegistry<any X402.SchemeServer> {
        var schemes = SchemeRegistry<any X402.SchemeServer>()
        schemes.registerExactEVM()
        return schemes
    }

    /// Runs a Vapor app with the middleware on a free loopback port for the duration of `body`.
    static func withVaporSeller(
        facilitatorURL: String, payTo: EthereumAddress, price: String, hits: Hits, _ body: (String) async throws -> Void
    ) async throws {
        let app = try await Vapor.Application.make(.testing)
        do {
            let network = X402.Network.baseSepolia
            app.middleware.use(
                try X402VaporMiddleware(
                    configuration: .init(
                        routes: ["GET /report": .exact(.text(price), on: network, payTo: .fixed(payTo.checksummed), description: "A report")],
                        facilitator: HTTPFacilitatorClient(baseURL: facilitatorURL), schemes: schemes)))
            app.get("report") { _ async -> String in
                await hits.add()
                return "the report"
            }
            app.http.server.configuration.hostname = "127.0.0.1"
            app.http.server.configuration.port = 0
            try await app.server.start(address: .hostname("127.0.0.1", port: 0))
            let port = try #require(app.http.server.shared.localAddress?.port)
            try await body("http://127.0.0.1:\(port)/report")
        } catch {
            await app.server.shutdown()
            try? await app.asyncShutdown()
            throw error
        }
        await app.server.shutdown()
        try await app.asyncShutdown()
    }

    /// Runs a Hummingbird upstream and the gateway in front of it; `body` gets the paid URL.
    static func withGateway(
        facilitatorURL: String, payTo: EthereumAddress, price: String, hits: Hits, _ body: (String) async throws -> Void
    ) async throws {
        let router = Hummingbird.Router()
        router.get("api/data") { _, _ -> String in
            await hits.add()
            return "upstream data"
        }
        let upstream = { (running: @escaping @Sendable (any Channel) async -> Void) in
            Hummingbird.Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)), onServerRunning: running)
        }
        try await serving(upstream) { upstreamPort in
            var c = GatewayConfiguration()
            c.upstream = "http://127.0.0.1:\(upstreamPort)"
            c.payTo = payTo.checksummed
            c.network = .baseSepolia
            c.facilitator = facilitatorURL
            c.port = 0
            c.routes = [try .init(spec: "GET /api/*=\(price)")]
            let gateway = try Gateway(configuration: c, schemes: schemes)
            try await serving({ gateway.application(onServerRunning: $0) }) { gatewayPort in
                try await body("http://127.0.0.1:\(gatewayPort)/api/data")
            }
        }
    }

    /// Pays `url` with the Swift client and checks chain, header and handler.
    static func paySwift(_ url: String, devnet: Devnet, payee: EthereumAddress, hits: Hits, body expected: String) async throws {
        let payer = try await devnet.freshAccount(eth: .zero, usdc: 1_000_000)
        var clientSchemes = SchemeRegistry<any SchemeClient>()
        clientSchemes.registerExactEVM(ExactEVMClient(signer: payer.key))
        let client = PayingHTTPClient(payer: Payer(schemes: clientSchemes, wallet: payer.address.checksummed), timeout: .seconds(120))
        let payeeBefore = try await devnet.usdcBalance(of: payee)
        let hitsBefore = await hits.count

        let response = try await client.execute(HTTPClientRequest(url: url))
        #expect(response.status == 200)
        #expect(String(decoding: response.body, as: UTF8.self) == expected)
        let settlement = try #require(response.settlement)
        #expect(settlement.success)
        #expect(settlement.payer?.lowercased() == payer.address.checksummed.lowercased())
        try await checkOnChain(settlement, devnet: devnet, payer: payer.address, payee: payee, payeeBefore: payeeBefore, amount: 10_000)
        #expect(await hits.count == hitsBefore + 1)
    }

    /// Pays `url` with the Python SDK's client and checks chain, header and handler.
    static func payPython(_ url: String, devnet: Devnet, payee: EthereumAddress, hits: Hits, body expected: String) async throws {
        let payer = try await devnet.freshAccount(eth: .zero, usdc: 1_000_000)
        let payeeBefore = try await devnet.usdcBalance(of: payee)
        let hitsBefore = await hits.count

        let result = try await PythonInteropTests.runPython(
            "py_client.py", [url, "--key-env", "X402_INTEROP_TEST_KEY"], stdin: .object([:]), key: payer.key)
        #expect(result["status"] == 200, "\(result)")
        #expect(result["body"] == .string(expected))
        let header = try #require(result["headers"]?["PAYMENT-RESPONSE"]?.stringValue, "\(result)")
        let settlement = try SettleResponse(headerValue: header)
        #expect(settlement.success)
        #expect(settlement.payer?.lowercased() == payer.address.checksummed.lowercased())
        #expect(result["paymentPayload"]?["x402Version"] == 2)
        try await checkOnChain(settlement, devnet: devnet, payer: payer.address, payee: payee, payeeBefore: payeeBefore, amount: 10_000)
        #expect(await hits.count == hitsBefore + 1)
    }

    static func checkOnChain(
        _ settlement: SettleResponse, devnet: Devnet, payer: EthereumAddress, payee: EthereumAddress, payeeBefore: UInt256, amount: UInt64
    ) async throws {
        let hash = try Bytes32(hex: settlement.transaction)
        let receipt = try #require(try await devnet.client.transactionReceipt(hash))
        #expect(receipt.succeeded)
        #expect(try await devnet.usdcBalance(of: payee) - payeeBefore == UInt256(amount))
        #expect(try await devnet.usdcBalance(of: payer) == UInt256(1_000_000 - amount))
    }

    @Test("Vapor middleware: a Swift-signed and a Python-SDK payment each settle on chain exactly once")
    func vaporSeller() async throws {
        let devnet = try await Devnet.shared()
        let facilitator = try await FacilitatorServiceIntegrationTests.start(
            devnet: devnet, facilitator: try await devnet.freshAccount(), database: FacilitatorServiceIntegrationTests.temporaryDatabase())
        defer { Task { await facilitator.stop() } }
        let payee = devnet.randomAddress()
        let hits = Hits()
        try await Self.withVaporSeller(facilitatorURL: facilitator.url, payTo: payee, price: "$0.01", hits: hits) { url in
            try await Self.paySwift(url, devnet: devnet, payee: payee, hits: hits, body: "the report")
            try await Self.payPython(url, devnet: devnet, payee: payee, hits: hits, body: "the report")
        }
        #expect(try await devnet.usdcBalance(of: payee) == 20_000)
    }

    @Test("gateway: a Swift-signed and a Python-SDK payment each settle on chain exactly once")
    func gateway() async throws {
        let devnet = try await Devnet.shared()
        let facilitator = try await FacilitatorServiceIntegrationTests.start(
            devnet: devnet, facilitator: try await devnet.freshAccount(), database: FacilitatorServiceIntegrationTests.temporaryDatabase())
        defer { Task { await facilitator.stop() } }
        let payee = devnet.randomAddress()
        let hits = Hits()
        try await Self.withGateway(facilitatorURL: facilitator.url, payTo: payee, price: "$0.01", hits: hits) { url in
            try await Self.paySwift(url, devnet: devnet, payee: payee, hits: hits, body: "upstream data")
            try await Self.payPython(url, devnet: devnet, payee: payee, hits: hits, body: "upstream data")
        }
        #expect(try await devnet.usdcBalance(of: payee) == 20_000)
    }
}
