import Foundation
import Testing
import X402
import X402EVM
import X402TestSupport

@testable import X402Gateway

/// `offer-receipt` from the gateway's configuration: the signing member, the routes that declare
/// it, and the signed offers in their 402s.
@Suite("x402 gateway: signed offers and receipts")
struct GatewayOfferReceiptTests {
    static let file = #"""
        {"upstream":"http://127.0.0.1:8080","payTo":"0x209693Bc6afc0C5328bA36FaF03C514EF312287C","network":"eip155:84532",
         "facilitator":"http://127.0.0.1:4020",
         "offerReceipts":{"format":"jws","keyEnv":"X402_OFFER_KEY"},
         "routes":[{"route":"GET /a","price":"$0.01","offerReceipt":true},
                   {"route":"GET /b","price":"$0.02","offerReceipt":{"includeTxHash":true,"offerValiditySeconds":120}},
                   "GET /c=$0.03"]}
        """#

    @Test func theFileDeclaresTheSignerAndTheRoutes() throws {
        let c = try GatewayConfiguration.parse(Array(Self.file.utf8))
        try c.validate()
        #expect(c.offerReceipts == .init(format: .jws, keyEnv: "X402_OFFER_KEY"))
        #expect(c.routes.map(\.offerReceipt) == [.init(), .init(includeTxHash: true, offerValiditySeconds: 120), nil])
        let table = try c.routeTable()
        let declared = table.routes.map { OfferReceipt.RouteOptions(extensions: $0.route.extensions) }
        #expect(declared == [.init(), .init(includeTransaction: true, offerValiditySeconds: 120), nil])
    }

    @Test(arguments: [
        (#""offerReceipt":true"#, #""offerReceipt":false"#, "offerReceipt"),
        (#""offerReceipt":true"#, #""offerReceipt":{"includeTxhash":true}"#, "unknown member \"routes[0].offerReceipt.includeTxhash\""),
        (#""keyEnv":"X402_OFFER_KEY""#, #""keyEnv":"X402_OFFER_KEY","key":"0xabc""#, "unknown member \"offerReceipts.key\""),
        (#""format":"jws""#, #""format":"rsa""#, "offerReceipts.format"),
    ])
    func badMembersAreRefusedWithTheirPath(original: String, replacement: String, reason: String) throws {
        let text = Self.file.replacingOccurrences(of: original, with: replacement)
        #expect(text != Self.file)
        do {
            _ = try GatewayConfiguration.parse(Array(text.utf8))
            Issue.record("accepted \(text)")
        } catch {
            #expect(error.description.contains(reason), "\(error)")
        }
    }

    @Test func validationNeedsOneKeySourceAndTheSignerForDeclaringRoutes() throws {
        var c = try GatewayConfiguration.parse(Array(Self.file.utf8))
        #expect(try c.offerReceipts?.keySource() == .environment("X402_OFFER_KEY"))
        // An empty name counts as none, for the validation and the signer the CLI builds alike.
        #expect(try GatewayConfiguration.OfferReceiptSigning(format: .eddsa, keyEnv: "", keyFile: "/k").keySource() == .file("/k"))
        c.offerReceipts?.keyFile = "/etc/x402/offer.key"
        #expect(throws: GatewayConfigurationError.invalidValue("offerReceipts", "set exactly one of keyEnv and keyFile")) { try c.validate() }
        c.offerReceipts = nil
        #expect { try c.validate() } throws: { error in
            (error as? GatewayConfigurationError)?.description.contains("offerReceipt needs the top-level offerReceipts") == true
        }
        c = try GatewayConfiguration.parse(Array(Self.file.utf8))
        c.routes[1].offerReceipt?.offerValiditySeconds = 0
        #expect { try c.validate() } throws: { error in
            (error as? GatewayConfigurationError)?.description.contains("offerValiditySeconds") == true
        }
    }

    @Test("a declaring route's 402 carries an offer signed by the configured key; a route that does not declare it carries none")
    func theGatewaySignsOffers() async throws {
        let key = PrivateKey.random()
        let log = UpstreamLog()
        try await serving({ upstreamApp(log: log, onServerRunning: $0) }) { upstreamPort in
            var schemes = SchemeRegistry<any SchemeServer>()
            schemes.register(USDCServer(), networks: NetworkPattern(namespace: "eip155"))
            var configuration = try gatewayConfiguration(upstream: "http://127.0.0.1:\(upstreamPort)")
            // EIP-712 offers are expected from the recipient's own key.
            configuration.payTo = key.address.checksummed
            configuration.offerReceipts = .init(format: .eip712, keyEnv: "X402_OFFER_KEY")
            configuration.routes[0].offerReceipt = .init(offerValiditySeconds: 120)
            let gateway = try Gateway(
                configuration: configuration, schemes: schemes, facilitator: ScriptedFacilitator.seller(),
                offerReceipts: try .evm(format: .eip712, key: key))
            try await serving({ gateway.application(onServerRunning: $0) }) { port in
                let signed = try await fetch("http://127.0.0.1:\(port)/api/data")
                let required = try PaymentRequired(headerValue: try #require(signed.header("PAYMENT-REQUIRED")))
                let policy = OfferReceiptClientPolicy(verifier: .evm(), requireSignedOffers: true)
                let checked = try policy.checkOffers(.v2(required))
                #expect(checked.count == 1)
                #expect(checked.first?.verification.status == .verified)
                #expect(checked.first?.verification.signer == .address(key.address.checksummed.lowercased()))
                let unsigned = try await fetch("http://127.0.0.1:\(port)/api/echo", method: "POST", body: "x")
                let plain = try PaymentRequired(headerValue: try #require(unsigned.header("PAYMENT-REQUIRED")))
                #expect(plain.extensions?[OfferReceipt.extensionKey] == nil)
                #expect(await log.count == 0)
            }
        }
    }
}
