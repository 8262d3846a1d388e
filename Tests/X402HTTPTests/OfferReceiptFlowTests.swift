import AsyncHTTPClient
import Foundation
import Hummingbird
import NIOHTTP1
import Testing
import X402EVM
import X402TestSupport

@testable import X402
@testable import X402HTTP

/// `offer-receipt` end to end over HTTP: the core seller signs offers in its 402 and a receipt in
/// its settlement response; the paying client checks both and stores the receipt.
@Suite("offer-receipt: seller signs, client verifies and stores")
struct OfferReceiptFlowTests {
    static let sellerKey = try! PrivateKey(hex: "59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d")

    /// A seller whose `/paid` route signs offers and receipts with `signer`; `payTo` defaults to
    /// the seller key's address (the EIP-712 signer clients expect by default).
    static func run(
        signer: any OfferReceiptSigner, payTo: String = sellerKey.address.checksummed, includeTransaction: Bool = true,
        _ body: @Sendable (_ base: String, _ facilitator: PayingTestFacilitator) async throws -> Void
    ) async throws {
        let facilitator = PayingTestFacilitator()
        var schemes = SchemeRegistry<any SchemeServer>()
        schemes.register(PayingSellerScheme(), networks: .evm)
        var configuration = ResourceServer.Configuration(
            routes: [
                "GET /paid": PaidRoute.exact("$0.01", on: .baseSepolia, payTo: .fixed(payTo))
                    .signingOffersAndReceipts(OfferReceipt.RouteOptions(includeTransaction: includeTransaction)),
                "GET /plain": .exact("$0.01", on: .baseSepolia, payTo: .fixed(payTo)),
            ],
            facilitator: facilitator, schemes: schemes)
        configuration.offerReceipts = OfferReceipt.Signing(signer: signer)
        let server = try ResourceServer(configuration: configuration)
        let router = Router()
        router.add(middleware: SellerGlue(server: server, log: PayingRequestLog()))
        router.get("paid") { _, _ in "premium data" }
        router.get("plain") { _, _ in "plain data" }
        try await withLoopbackServer(router) { base in try await body(base, facilitator) }
    }

    static func client(
        _ signer: PayingTestSigner, policy: OfferReceiptClientPolicy, ledger: any SpendLedger = InMemorySpendLedger()
    ) -> PayingHTTPClient {
        var schemes = SchemeRegistry<any SchemeClient>()
        schemes.register(signer, networks: .evm)
        let payer = Payer(schemes: schemes, wallet: "0xbuyer", policy: .unrestricted, ledger: ledger)
        return PayingHTTPClient(payer: payer, options: PayingClientOptions(offerReceipts: policy))
    }

    @Test("EIP-712: signed offers in the 402, a verified receipt after settlement, stored with its verdict")
    func eip712Flow() async throws {
        try await Self.run(signer: EIP712OfferReceiptSigner(key: Self.sellerKey)) { base, facilitator in
            // The 402 carries one signed offer per requirement, for this resource.
            let probe = try await HTTPClient.shared.execute(HTTPClientRequest(url: "\(base)/paid"), timeout: .seconds(10))
            #expect(probe.status.code == 402)
            let required = try AnyPaymentRequired(header: probe.headers.first(name: "PAYMENT-REQUIRED"), body: [])
            let offers = try OfferReceipt.offers(in: required.extensions)
            #expect(offers.count == 1)
            #expect(offers.first?.payload.resourceUrl == required.resource?.url)
            #expect(offers.first?.acceptIndex == 0)
            #expect(OfferReceiptVerifier.evm().verify(offer: try #require(offers.first)).status == .verified)

            let store = InMemorySignedReceiptStore()
            let signer = PayingTestSigner()
            let client = Self.client(signer, policy: OfferReceiptClientPolicy(verifier: .evm(), store: store))
            let response = try await client.execute(HTTPClientRequest(url: "\(base)/paid"))
            #expect(response.status == 200)
            guard case .paid(let receipt) = response.payment else {
                Issue.record("not paid: \(response.payment)")
                return
            }
            let checked = try #require(receipt.offerReceipt)
            #expect(checked.verification.status == .verified)
            #expect(checked.problems.isEmpty)
            #expect(checked.receipt?.payload.transaction == "0xfeedbeef")
            #expect(checked.receipt?.payload.payer == "0xbuyer")
            #expect(checked.receipt?.payload.network == "eip155:84532")
            let stored = try await store.receipts(payer: "0xbuyer", limit: 10)
            #expect(stored.count == 1)
            #expect(stored.first?.status == .verified)
            #expect(stored.first?.recordID == receipt.recordID)
            #expect(await facilitator.settled.count == 1)
        }
    }

    @Test("JWS ES256K with the seller's key pinned: verified; the receipt omits the transaction when not configured")
    func jwsFlow() async throws {
        let key = try ES256KSigningKey(key: Self.sellerKey)
        try await Self.run(signer: JWSOfferReceiptSigner(key: key), includeTransaction: false) { base, _ in
            let store = InMemorySignedReceiptStore()
            let client = Self.client(
                PayingTestSigner(),
                policy: OfferReceiptClientPolicy(verifier: .evm(trust: OfferReceiptTrust(signers: [.key(key.didKey)])), store: store))
            let response = try await client.execute(HTTPClientRequest(url: "\(base)/paid"))
            guard case .paid(let receipt) = response.payment else {
                Issue.record("not paid: \(response.payment)")
                return
            }
            #expect(receipt.offerReceipt?.verification.status == .verified)
            #expect(receipt.offerReceipt?.receipt?.format == .jws)
            #expect(receipt.offerReceipt?.receipt?.payload.transaction == nil)
            #expect(try await store.receipts(payer: nil, limit: 5).first?.status == .verified)
        }
    }

    @Test("an offer from an unexpected signer is refused before anything is signed")
    func unexpectedSignerRefused() async throws {
        // EIP-712 offers signed by a key that is not the payTo.
        let stranger = try PrivateKey(hex: "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80")
        try await Self.run(signer: EIP712OfferReceiptSigner(key: stranger)) { base, facilitator in
            let signer = PayingTestSigner()
            let client = Self.client(signer, policy: OfferReceiptClientPolicy(verifier: .evm()))
            await #expect(throws: OfferReceiptRefusal.self) { try await client.execute(HTTPClientRequest(url: "\(base)/paid")) }
            #expect(signer.signed == 0)
            #expect(await facilitator.settled.isEmpty)
        }
        // JWS offers whose key is not the pinned one.
        let key = try ES256KSigningKey(key: Self.sellerKey)
        let pinned = try ES256KSigningKey(key: stranger).didKey
        try await Self.run(signer: JWSOfferReceiptSigner(key: key)) { base, _ in
            let signer = PayingTestSigner()
            let client = Self.client(signer, policy: OfferReceiptClientPolicy(verifier: .evm(trust: OfferReceiptTrust(signers: [.key(pinned)]))))
            await #expect(throws: OfferReceiptRefusal.self) { try await client.execute(HTTPClientRequest(url: "\(base)/paid")) }
            #expect(signer.signed == 0)
        }
    }

    @Test("signed offers required: an unsigned route is refused; a receipt naming another payer is stored as invalid")
    func requiredAndMismatch() async throws {
        try await Self.run(signer: EIP712OfferReceiptSigner(key: Self.sellerKey)) { base, facilitator in
            let signer = PayingTestSigner()
            let strict = Self.client(signer, policy: OfferReceiptClientPolicy(verifier: .evm(), requireSignedOffers: true))
            await #expect(throws: OfferReceiptRefusal.self) { try await strict.execute(HTTPClientRequest(url: "\(base)/plain")) }
            #expect(signer.signed == 0)

            await facilitator.set { r in
                SettleResponse(success: true, transaction: "0xfeedbeef", network: r.paymentRequirements.networkIdentifier, payer: "0xsomeoneelse")
            }
            let store = InMemorySignedReceiptStore()
            let client = Self.client(PayingTestSigner(), policy: OfferReceiptClientPolicy(verifier: .evm(), store: store))
            let response = try await client.execute(HTTPClientRequest(url: "\(base)/paid"))
            guard case .paid(let receipt) = response.payment else {
                Issue.record("not paid: \(response.payment)")
                return
            }
            let checked = try #require(receipt.offerReceipt)
            #expect(checked.verification.status == .verified)
            #expect(checked.problems == [.payer(found: "0xsomeoneelse")])
            #expect(!checked.isGood)
            #expect(try await store.receipts(payer: nil, limit: 5).first?.status == .invalid)
        }
    }

    @Test("a route declaring offer-receipt without a configured signer is a configuration error")
    func notConfigured() {
        var schemes = SchemeRegistry<any SchemeServer>()
        schemes.register(PayingSellerScheme(), networks: .evm)
        #expect(throws: RouteConfigurationError.self) {
            try ResourceServer(
                configuration: .init(
                    routes: ["GET /paid": PaidRoute.exact("$0.01", on: .baseSepolia, payTo: .fixed("0x0")).signingOffersAndReceipts()],
                    facilitator: PayingTestFacilitator(), schemes: schemes))
        }
    }
}
