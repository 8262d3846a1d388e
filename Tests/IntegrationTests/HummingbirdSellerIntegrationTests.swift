import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Testing
import X402
import X402EVM
import X402EVMRPC
import X402HTTP
import X402Hummingbird

/// The seller's proofs on the devnet: a Hummingbird app with `X402Middleware`, paid through the
/// Swift facilitator service (in process, over HTTP), charges payments signed by the Swift client
/// (v2 and v1) and by the official Python SDK client; and the Python SDK's seller accepts a
/// payment from the Swift client. Every test uses fresh keys, so balance checks are exact.
@Suite("Hummingbird seller on the devnet", .devnet, .serialized)
struct HummingbirdSellerIntegrationTests {
    static let price: UInt256 = 10_000  // "$0.01" in USDC's 6 decimals
    static let weather = #"{"report":{"weather":"sunny","temperature":70}}"#

    /// The paid Hummingbird app: `GET /weather` for $0.01 in USDC on the devnet's network.
    struct Seller {
        let app: RunningApp
        let hits: HitCounter
        var weatherURL: String { app.url + "/weather" }
    }

    static func startSeller(facilitatorURL: String, payee: EthereumAddress, network: Network) async throws -> Seller {
        var schemes = SchemeRegistry<any SchemeServer>()
        schemes.registerExactEVM()
        let hits = HitCounter()
        let router = Router()
        router.add(
            middleware: try X402Middleware(
                configuration: .init(
                    routes: [
                        "GET /weather": .exact(
                            "$0.01", on: network, payTo: .fixed(payee.checksummed), description: "Weather report", mimeType: "application/json")
                    ],
                    facilitator: HTTPFacilitatorClient(baseURL: facilitatorURL), schemes: schemes)))
        router.get("weather") { _, _ -> Response in
            await hits.hit()
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: weather)))
        }
        return Seller(app: await RunningApp.start(router), hits: hits)
    }

    /// A fresh facilitator key, a fresh payer holding 1 USDC and a fresh payee; the facilitator
    /// service running in process with its own SQLite file.
    struct World {
        let devnet: Devnet
        let network: Network
        let payer: DevnetAccount
        let payee: EthereumAddress
        let facilitator: FacilitatorServiceIntegrationTests.Running

        static func make() async throws -> World {
            let devnet = try await Devnet.shared()
            async let facilitatorAccount = devnet.freshAccount()
            async let payerAccount = devnet.freshAccount(eth: .zero, usdc: 1_000_000)
            let facilitator = try await FacilitatorServiceIntegrationTests.start(
                devnet: devnet, facilitator: try await facilitatorAccount, database: FacilitatorServiceIntegrationTests.temporaryDatabase())
            return World(
                devnet: devnet, network: try #require(Network(devnet.network)), payer: try await payerAccount, payee: devnet.randomAddress(),
                facilitator: facilitator)
        }

        func payingClient(versions: Set<X402Version> = [.v2]) -> PayingHTTPClient {
            var schemes = SchemeRegistry<any SchemeClient>()
            schemes.registerExactEVM(ExactEVMClient(signer: payer.key), versions: versions)
            return PayingHTTPClient(payer: Payer(schemes: schemes, wallet: payer.address.checksummed))
        }

        /// The settlement's transaction was mined, succeeded, and was sent by our facilitator.
        func expectMined(_ transaction: String?) async throws {
            let hash = try Bytes32(hex: try #require(transaction))
            let receipt = try #require(try await devnet.client.transactionReceipt(hash))
            #expect(receipt.succeeded)
            #expect(receipt.from == facilitator.facilitator.address)
        }
    }

    @Test("the Swift client pays the Hummingbird seller, v2 and v1: balances move, PAYMENT-RESPONSE decodes, replays are refused")
    func swiftClientPaysHummingbird() async throws {
        let w = try await World.make()
        defer { Task { await w.facilitator.stop() } }
        let seller = try await Self.startSeller(facilitatorURL: w.facilitator.url, payee: w.payee, network: w.network)
        defer { Task { await seller.app.stop() } }

        // Unpaid: 402 with the offer, and the handler does not run.
        let unpaid = try await SellerHTTP.send(seller.weatherURL)
        #expect(unpaid.status == 402)
        let offer = try PaymentRequired(headerValue: try #require(unpaid.header("PAYMENT-REQUIRED")))
        #expect(offer.accepts.first?.amount == "10000" && offer.accepts.first?.payTo == w.payee.checksummed)
        #expect(await seller.hits.count == 0)

        // v2 through PayingHTTPClient.
        let payerBefore = try await w.devnet.usdcBalance(of: w.payer.address)
        let paid = try await w.payingClient().execute(HTTPClientRequest(url: seller.weatherURL))
        #expect(paid.status == 200)
        #expect(String(decoding: paid.body, as: UTF8.self) == Self.weather)
        guard case .paid(let receipt) = paid.payment else {
            Issue.record("not paid: \(paid.payment)")
            return
        }
        // The header itself, decoded independently of the client's bookkeeping.
        let header = try SettleResponse(headerValue: try #require(paid.headers[.paymentResponse]))
        #expect(header.success && header.payer == w.payer.address.checksummed && header.network == w.network.identifier, "\(header)")
        #expect(receipt.settlement?.transaction == header.transaction)
        try await w.expectMined(header.transaction)
        #expect(payerBefore - (try await w.devnet.usdcBalance(of: w.payer.address)) == Self.price)
        #expect(try await w.devnet.usdcBalance(of: w.payee) == Self.price)
        #expect(await seller.hits.count == 1)

        // The same payment again: refused before the handler, nothing moves.
        let replay = try await SellerHTTP.send(seller.weatherURL, headers: [("PAYMENT-SIGNATURE", receipt.payload.headerValue)])
        #expect(replay.status == 402)
        #expect(replay.header("PAYMENT-RESPONSE") == nil || (try? SettleResponse(headerValue: replay.header("PAYMENT-RESPONSE")!))?.success == false)
        #expect(await seller.hits.count == 1)
        #expect(try await w.devnet.usdcBalance(of: w.payee) == Self.price)

        // v1: a client that speaks v1 (sends X-PAYMENT) gets the v1 offer in the body…
        let v1Offer = try await SellerHTTP.send(seller.weatherURL, headers: [("X-PAYMENT", "not a payment")])
        #expect(v1Offer.status == 402)
        let required = try AnyPaymentRequired(header: nil, body: v1Offer.body)
        guard case .v1(let v1Required) = required else {
            Issue.record("expected a v1 body, got \(v1Offer.text)")
            return
        }
        #expect(v1Required.accepts.first?.network == w.network.legacyName)
        #expect(v1Required.accepts.first?.maxAmountRequired == "10000")

        // …which the Swift payer signs as v1; the seller answers X-PAYMENT-RESPONSE.
        let prepared = try await w.payingClient(versions: [.v1]).payer.preparePayment(for: required)
        #expect(prepared.headerName == "X-PAYMENT" && prepared.payload.version == .v1)
        let paidV1 = try await SellerHTTP.send(seller.weatherURL, headers: [(prepared.headerName, prepared.headerValue)])
        #expect(paidV1.status == 200, "\(paidV1.text)")
        #expect(paidV1.text == Self.weather)
        #expect(paidV1.header("PAYMENT-RESPONSE") == nil)
        let v1Settlement = try SettleResponse(headerValue: try #require(paidV1.header("X-PAYMENT-RESPONSE")))
        #expect(v1Settlement.success && v1Settlement.payer == w.payer.address.checksummed, "\(v1Settlement)")
        #expect(v1Settlement.network == w.network.legacyName)
        try await w.expectMined(v1Settlement.transaction)
        #expect(v1Settlement.transaction != header.transaction)
        #expect(try await w.devnet.usdcBalance(of: w.payee) == 2 * Self.price)
        #expect(payerBefore - (try await w.devnet.usdcBalance(of: w.payer.address)) == 2 * Self.price)
        #expect(await seller.hits.count == 2)

        let replayV1 = try await SellerHTTP.send(seller.weatherURL, headers: [(prepared.headerName, prepared.headerValue)])
        #expect(replayV1.status == 402)
        #expect(await seller.hits.count == 2)
        #expect(try await w.devnet.usdcBalance(of: w.payee) == 2 * Self.price)
    }

    @Test("the official Python SDK client (x402 2.25.0) pays the Hummingbird seller; its payment cannot be replayed")
    func pythonClientPaysHummingbird() async throws {
        let w = try await World.make()
        defer { Task { await w.facilitator.stop() } }
        let seller = try await Self.startSeller(facilitatorURL: w.facilitator.url, payee: w.payee, network: w.network)
        defer { Task { await seller.app.stop() } }

        let result = try await PythonService.run(
            "py_client.py", ["--key-env", "X402_SELLER_IT_PAYER_KEY", seller.weatherURL],
            environment: ["X402_SELLER_IT_PAYER_KEY": w.payer.key.withUnsafeSecretBytes { Hex.encode($0) }])
        #expect(result["status"] == 200, "\(result)")
        #expect(result["body"]?["report"]?["weather"] == "sunny")
        let settlement = try #require(result["paymentResponse"])
        #expect(settlement["success"] == true, "\(settlement)")
        #expect(settlement["payer"]?.stringValue?.lowercased() == w.payer.address.checksummed.lowercased())
        #expect(settlement["network"] == .string(w.network.identifier))
        // The raw header the SDK received decodes with the Swift codec to the same receipt.
        let raw = try SettleResponse(headerValue: try #require(result["headers"]?["PAYMENT-RESPONSE"]?.stringValue))
        #expect(raw.transaction == settlement["transaction"]?.stringValue)
        try await w.expectMined(raw.transaction)
        #expect(try await w.devnet.usdcBalance(of: w.payee) == Self.price)
        #expect(try await w.devnet.usdcBalance(of: w.payer.address) == 1_000_000 - Self.price)
        #expect(await seller.hits.count == 1)

        // The payment the SDK sent, presented again, is refused and the handler does not run.
        let payload = try AnyPaymentPayload(json: try #require(result["paymentPayload"]))
        #expect(payload.version == .v2)
        let replay = try await SellerHTTP.send(seller.weatherURL, headers: [("PAYMENT-SIGNATURE", payload.headerValue)])
        #expect(replay.status == 402)
        #expect(await seller.hits.count == 1)
        #expect(try await w.devnet.usdcBalance(of: w.payee) == Self.price)
    }

    @Test("the Python SDK's seller, using the Swift facilitator, accepts a payment from the Swift client")
    func swiftClientPaysPythonSeller() async throws {
        let w = try await World.make()
        defer { Task { await w.facilitator.stop() } }
        let server = try await PythonService.start(
            "py_server.py", ["--port", "0", "--facilitator-url", w.facilitator.url, "--pay-to", w.payee.checksummed])
        do {
            try await Self.payPythonSeller(w, server)
        } catch {
            await server.stop()
            throw error
        }
        await server.stop()
    }

    static func payPythonSeller(_ w: World, _ server: PythonService) async throws {
        let url = try #require(server.ready["paidUrl"]?.stringValue)

        let unpaid = try await SellerHTTP.send(url)
        #expect(unpaid.status == 402, "\(server.logTail)")

        let paid = try await w.payingClient().execute(HTTPClientRequest(url: url))
        #expect(paid.status == 200, "\(String(decoding: paid.body, as: UTF8.self)) \(server.logTail)")
        #expect(try JSONValue(parsing: paid.body)["report"]?["weather"] == "sunny")
        guard case .paid(let receipt) = paid.payment, let settlement = receipt.settlement else {
            Issue.record("not paid: \(paid.payment) \(server.logTail)")
            return
        }
        // The SDK writes PAYMENT-RESPONSE with `", "` separators; the Swift codec reads it.
        #expect(settlement.success && settlement.payer?.lowercased() == w.payer.address.checksummed.lowercased(), "\(settlement)")
        try await w.expectMined(settlement.transaction)
        #expect(try await w.devnet.usdcBalance(of: w.payee) == Self.price)
        #expect(try await w.devnet.usdcBalance(of: w.payer.address) == 1_000_000 - Self.price)

        // The Python seller refuses the same payment again (the Swift facilitator sees the nonce used).
        let replay = try await SellerHTTP.send(url, headers: [("PAYMENT-SIGNATURE", receipt.payload.headerValue)])
        #expect(replay.status == 402)
        #expect(try await w.devnet.usdcBalance(of: w.payee) == Self.price)
    }
}
