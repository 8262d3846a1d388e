import Foundation
import Hummingbird
import NIOCore
import Testing
import Vapor
import X402
import X402Gateway
import X402Hummingbird
import X402TestSupport
import X402Vapor

/// A stand-in JWS key (this target has no chain module): a fixed "signature", enough to see where
/// each seller puts the signed objects. Real signatures are tested in X402EVMTests/X402SolanaTests.
struct PlaceholderJWSKey: JWSSigningKey {
    var algorithm: String { "EdDSA" }
    static let key = try! DIDKey(type: .ed25519, publicKey: [UInt8](repeating: 9, count: 32))
    var didKey: DIDKey { Self.key }
    func sign(_ signingInput: [UInt8]) throws -> [UInt8] { [UInt8](repeating: 7, count: 64) }
}

/// `offer-receipt` through every seller (Hummingbird, Vapor, gateway): the 402 carries one signed
/// offer per requirement; the paid answer's `PAYMENT-RESPONSE` carries the signed receipt.
@Suite("offer-receipt through every seller")
struct OfferReceiptSellerTests {
    static let routes: RouteTable = [
        "GET /premium": PaidRoute.exact("$0.01", on: .baseSepolia, payTo: .fixed(payTo))
            .signingOffersAndReceipts(OfferReceipt.RouteOptions(includeTransaction: true, offerValiditySeconds: 120))
    ]

    static func server(_ facilitator: ScriptedFacilitator) throws -> ResourceServer {
        var configuration = ResourceServer.Configuration(routes: routes, facilitator: facilitator, schemes: schemes())
        configuration.offerReceipts = OfferReceipt.Signing(signer: JWSOfferReceiptSigner(key: PlaceholderJWSKey()))
        return try ResourceServer(configuration: configuration)
    }

    static func withSigningSeller(_ kind: SellerKind, _ body: (Int) async throws -> Void) async throws {
        let facilitator = ScriptedFacilitator.seller()
        let server = try server(facilitator)
        switch kind {
        case .hummingbird:
            let router = Hummingbird.Router()
            router.add(middleware: X402Middleware(server: server))
            router.get("premium") { _, _ in "\(paidMarker) premium" }
            try await serving({ running in
                Hummingbird.Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)), onServerRunning: running)
            }) { port in try await body(port) }
        case .vapor:
            let app = try await Vapor.Application.make(.testing)
            do {
                app.middleware.use(X402VaporMiddleware(server: server))
                app.get("premium") { _ in "\(paidMarker) premium" }
                try await app.server.start(address: .hostname("127.0.0.1", port: 0))
                try await body(try #require(app.http.server.shared.localAddress?.port))
            } catch {
                await app.server.shutdown()
                try await app.asyncShutdown()
                throw error
            }
            await app.server.shutdown()
            try await app.asyncShutdown()
        case .gateway:
            try await serving({ lenientUpstream(served: ServedLog(), onServerRunning: $0) }) { upstreamPort in
                var configuration = GatewayConfiguration()
                configuration.upstream = "http://127.0.0.1:\(upstreamPort)"
                configuration.port = 0
                let gateway = try Gateway(configuration: configuration, server: server)
                try await serving({ gateway.application(onServerRunning: $0) }) { port in try await body(port) }
            }
        }
    }

    @Test(arguments: SellerKind.allCases)
    func offersAndReceipt(kind: SellerKind) async throws {
        try await Self.withSigningSeller(kind) { port in
            let unpaid = try await rawRequest(port: port, method: "GET", target: "/premium")
            #expect(unpaid.status == 402, "\(kind)")
            let header = try #require(unpaid.header("PAYMENT-REQUIRED"), "\(kind)")
            let required = try PaymentRequired(headerValue: header)
            let offers = try OfferReceipt.offers(in: required.extensions)
            #expect(offers.count == required.accepts.count, "\(kind)")
            let offer = try #require(offers.first)
            #expect(offer.format == .jws)
            #expect(offer.acceptIndex == 0)
            #expect(offer.payload.resourceUrl == required.resource?.url)
            #expect(offer.payload.amount == required.accepts.first?.amount)
            #expect(offer.payload.payTo == payTo)
            let validUntil = try #require(offer.payload.validUntil)
            #expect(abs(Double(validUntil) - Date().timeIntervalSince1970 - 120) < 60)
            // The route's declaration itself is not sent.
            #expect(required.extensions?[OfferReceipt.extensionKey]?["includeTxHash"] == nil)

            let paid = try await rawRequest(
                port: port, method: "GET", target: "/premium", headers: [("PAYMENT-SIGNATURE", try signature(for: header))])
            #expect(paid.status == 200, "\(kind)")
            #expect(paid.body.contains(paidMarker))
            let settlement = try SettleResponse(headerValue: try #require(paid.header("PAYMENT-RESPONSE"), "\(kind)"))
            let receipt = try #require(try OfferReceipt.receipt(in: settlement.extensions), "\(kind)")
            #expect(receipt.payload.payer == settlement.payer)
            #expect(receipt.payload.network == "eip155:84532")
            #expect(receipt.payload.resourceUrl == required.resource?.url)
            #expect(receipt.payload.transaction == settlement.transaction)
        }
    }
}
