import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import NIOHTTP1
import Testing
import X402
import X402HTTP
import X402Hummingbird
import X402Solana
import X402SolanaRPC
import X402TestSupport

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Exact on Solana between swift-x402 and the official Python SDK (`x402==2.25.0`, `Tools/interop`)
/// on the svmnet, in all three roles: the SDK's client pays a Swift Hummingbird seller through the
/// Swift facilitator; a Swift-built payment is verified and settled by the SDK's facilitator; the
/// SDK's seller accepts the Swift client through the Swift facilitator. Every test pays from a fresh
/// payer to a fresh wallet, so the token balance deltas are exact.
@Suite(.svmnet, .serialized)
struct SolanaPythonInteropTests {
    static let price: UInt64 = 10_000  // "$0.01" in USDC's 6 decimals
    static let weather = #"{"report":{"weather":"sunny","temperature":70}}"#

    /// `x402 facilitator serve` for the svmnet's Solana network only, the fee payers from the
    /// environment (never argv).
    static func swiftFacilitator(net: SVMNet) async throws -> FacilitatorProcess {
        try await FacilitatorProcess(environment: ["X402_IT_SVM_FEE_PAYERS": net.feePayerSecrets.joined(separator: ",")]) { port in
            [
                "facilitator", "serve", "--network", "\(net.network)=\(net.url)", "--svm-signer-key-env", "X402_IT_SVM_FEE_PAYERS",
                "--port", "\(port)", "--database", "memory",
            ]
        }
    }

    /// The Swift Hummingbird seller: `GET /weather` for $0.01 in USDC on the svmnet's network.
    static func startSeller(
        facilitatorURL: String, wallet: SolanaPublicKey, net: SVMNet, v1: Bool = false
    ) async throws -> (
        RunningApp, HitCounter
    ) {
        var schemes = SchemeRegistry<any SchemeServer>()
        schemes.registerExactSVM()
        var configuration = ResourceServer.Configuration(
            routes: [
                "GET /weather": .exact(
                    .text("$0.01"), on: net.network, payTo: .fixed(wallet.base58), description: "Weather report", mimeType: "application/json")
            ],
            facilitator: HTTPFacilitatorClient(baseURL: facilitatorURL), schemes: schemes)
        if v1 { configuration.unpaidOfferVersion = .v1 }
        let hits = HitCounter()
        let router = Router()
        router.add(middleware: try X402Middleware(configuration: configuration))
        router.get("weather") { _, _ -> Response in
            await hits.hit()
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: weather)))
        }
        return (await RunningApp.start(router), hits)
    }

    /// The signature landed on the svmnet without an error.
    static func expectLanded(_ signature: String?, _ net: SVMNet) async throws {
        let signature = try #require(signature)
        let statuses = try await net.rpc.signatureStatuses([signature])
        let status = try #require(statuses.first ?? nil, "no status for \(signature)")
        #expect(status.error == nil, "\(status)")
    }

    /// A fresh payer (1 USDC in its ATA of the SPL Token USDC mint, SOL for nothing: the fee payer
    /// pays the fee) and its keypair as the base58 text of its 64 bytes, for the SDK's peers.
    static func freshPayer(_ net: SVMNet) async throws -> (SolanaKeypair, secret: String) {
        let seed = (0..<32).map { _ in UInt8.random(in: .min ... .max) }
        let keypair = try SolanaKeypair(seed: seed)
        _ = try await net.rpc.request(
            method: "svmnet_setLamports", params: [.string(keypair.publicKey.base58), .number(JSONNumber(UInt64(1_000_000_000)))])
        _ = try await net.rpc.request(
            method: "svmnet_createTokenAccount", params: [.string(keypair.publicKey.base58), .string(net.usdc.base58), "1000000"])
        return (keypair, Base58.encode(seed + keypair.publicKey.bytes))
    }

    // MARK: (a) SDK client → Swift seller → Swift facilitator

    @Test(
        "the Python SDK client pays the Swift Hummingbird seller in USDC on Solana through the Swift facilitator (v2 and v1)",
        arguments: [X402Version.v2, .v1])
    func pythonClientPaysSwiftSeller(version: X402Version) async throws {
        let net = try await SVMNet.shared()
        let facilitator = try await Self.swiftFacilitator(net: net)
        defer { Task { await facilitator.stop() } }
        let wallet = try await net.freshWallet(mints: [net.usdc])
        let (payer, secret) = try await Self.freshPayer(net)
        let (app, hits) = try await Self.startSeller(facilitatorURL: facilitator.url, wallet: wallet, net: net, v1: version == .v1)
        defer { Task { await app.stop() } }

        let result = try await PythonService.run(
            "py_client.py", ["--svm-key-env", "X402_IT_SVM_PAYER", "--svm-rpc-url", net.url, app.url + "/weather"],
            environment: ["X402_IT_SVM_PAYER": secret])
        #expect(result["status"] == 200, "\(result) \(facilitator.log())")
        #expect(result["body"]?["report"]?["weather"] == "sunny")
        let headerName = version == .v2 ? "PAYMENT-RESPONSE" : "X-PAYMENT-RESPONSE"
        let raw = try SettleResponse(headerValue: try #require(result["headers"]?[headerName]?.stringValue, "\(result)"))
        let expectedNetwork = version == .v2 ? net.network.identifier : "solana-devnet"
        #expect(raw.success && raw.payer == payer.publicKey.base58 && raw.network == expectedNetwork, "\(raw)")
        #expect(result["paymentResponse"]?["transaction"]?.stringValue == raw.transaction)
        try await Self.expectLanded(raw.transaction, net)
        #expect(try await net.tokenBalance(of: wallet, mint: net.usdc) == Self.price)
        #expect(try await net.tokenBalance(of: payer.publicKey, mint: net.usdc) == 1_000_000 - Self.price)
        #expect(await hits.count == 1)

        // The payment the SDK sent, presented again, is refused; nothing more moves.
        let payload = try AnyPaymentPayload(json: try #require(result["paymentPayload"]))
        #expect(payload.version == version)
        let replay = try await SellerHTTP.send(
            app.url + "/weather", headers: [(version == .v2 ? "PAYMENT-SIGNATURE" : "X-PAYMENT", payload.headerValue)])
        #expect(replay.status == 402)
        #expect(await hits.count == 1)
        #expect(try await net.tokenBalance(of: wallet, mint: net.usdc) == Self.price)
    }

    // MARK: (b) Swift client → SDK facilitator

    @Test("a Swift-built payment on Solana is verified and settled by the Python SDK's facilitator (v2 and v1)", arguments: [X402Version.v2, .v1])
    func swiftPaymentPythonFacilitator(version: X402Version) async throws {
        let net = try await SVMNet.shared()
        let wallet = try await net.freshWallet(mints: [net.usdc])
        let payer = try await net.freshPayer(usdc: 1_000_000, mints: [net.usdc])
        let sdk = try await PythonService.start(
            "py_facilitator.py",
            [
                "--port", "0", "--network", net.network.identifier, "--v1-network", "solana-devnet", "--svm-key-env", "X402_IT_SVM_FEE_PAYERS",
                "--svm-rpc-url", net.url,
            ],
            environment: ["X402_IT_SVM_FEE_PAYERS": net.feePayerSecrets.joined(separator: ",")])
        defer { Task { await sdk.stop() } }
        let feePayers = try #require(sdk.ready["svmFeePayers"]?.arrayValue).compactMap(\.stringValue)
        let feePayer = try #require(feePayers.first)
        #expect(net.feePayers.map(\.publicKey.base58).contains(feePayer))

        let client = ExactSVMClient(signer: payer, rpc: net.rpc)
        let request: JSONValue
        switch version {
        case .v1:
            let v1 = PaymentRequirementsV1(
                scheme: "exact", network: "solana-devnet", maxAmountRequired: String(Self.price), resource: "http://127.0.0.1/weather",
                description: "", mimeType: "application/json", payTo: wallet.base58, maxTimeoutSeconds: 60, asset: net.usdc.base58,
                extra: ["feePayer": .string(feePayer)])
            let scheme = try await client.createPayload(for: try #require(v1.normalized), context: PaymentContext(version: .v1))
            let payload = PaymentPayloadV1(scheme: "exact", network: "solana-devnet", payload: scheme.payload)
            request = ["x402Version": 1, "paymentPayload": payload.json, "paymentRequirements": v1.json]
        default:
            let requirements = PaymentRequirements(
                scheme: "exact", network: net.network, amount: String(Self.price), asset: net.usdc.base58, payTo: wallet.base58,
                maxTimeoutSeconds: 60, extra: ["feePayer": .string(feePayer)])
            let scheme = try await client.createPayload(for: requirements, context: PaymentContext(version: .v2))
            let payload = PaymentPayload(resource: ResourceInfo(url: "http://127.0.0.1/weather"), accepted: requirements, payload: scheme.payload)
            request = ["x402Version": 2, "paymentPayload": payload.json, "paymentRequirements": requirements.json]
        }

        let (vs, verifiedJSON) = try await FacilitatorServiceIntegrationTests.post(sdk.url + "/verify", request.serialized())
        let verified = try VerifyResponse(json: verifiedJSON)
        #expect(vs == 200 && verified.isValid, "\(verifiedJSON) \(sdk.logTail)")
        #expect(verified.payer == payer.publicKey.base58)
        #expect(try await net.tokenBalance(of: wallet, mint: net.usdc) == 0)

        let (ss, settledJSON) = try await FacilitatorServiceIntegrationTests.post(sdk.url + "/settle", request.serialized())
        let settled = try SettleResponse(json: settledJSON)
        #expect(ss == 200 && settled.success, "\(settledJSON) \(sdk.logTail)")
        #expect(settled.payer == payer.publicKey.base58)
        #expect(settled.network == (version == .v2 ? net.network.identifier : "solana-devnet"))
        try await Self.expectLanded(settled.transaction, net)
        #expect(try await net.tokenBalance(of: wallet, mint: net.usdc) == Self.price)
        #expect(try await net.tokenBalance(of: payer.publicKey, mint: net.usdc) == 1_000_000 - Self.price)

        // The same transaction again is not settled twice.
        let (_, againJSON) = try await FacilitatorServiceIntegrationTests.post(sdk.url + "/settle", request.serialized())
        #expect(againJSON["success"] != true, "\(againJSON)")
        #expect(try await net.tokenBalance(of: wallet, mint: net.usdc) == Self.price)
    }

    // MARK: (c) Swift client → SDK seller → Swift facilitator

    @Test("the Python SDK's seller on Solana, using the Swift facilitator, accepts a payment from the Swift client")
    func swiftClientPaysPythonSeller() async throws {
        let net = try await SVMNet.shared()
        let facilitator = try await Self.swiftFacilitator(net: net)
        defer { Task { await facilitator.stop() } }
        let wallet = try await net.freshWallet(mints: [net.usdc])
        let payer = try await net.freshPayer(usdc: 1_000_000, mints: [net.usdc])
        // The SDK's seller reads the fee payer from the Swift facilitator's /supported at start-up.
        let server = try await PythonService.start(
            "py_server.py", ["--port", "0", "--facilitator-url", facilitator.url, "--network", net.network.identifier, "--pay-to", wallet.base58])
        defer { Task { await server.stop() } }
        let url = try #require(server.ready["paidUrl"]?.stringValue)

        let unpaid = try await SellerHTTP.send(url)
        #expect(unpaid.status == 402, "\(server.logTail)")
        let offer = try PaymentRequired(headerValue: try #require(unpaid.header("PAYMENT-REQUIRED")))
        let accepted = try #require(offer.accepts.first)
        #expect(accepted.network == net.network && accepted.asset == net.usdc.base58 && accepted.amount == String(Self.price))
        #expect(accepted.extra?["feePayer"]?.stringValue.map { net.feePayers.map(\.publicKey.base58).contains($0) } == true)

        var schemes = SchemeRegistry<any SchemeClient>()
        schemes.registerExactSVM(ExactSVMClient(signer: payer, rpc: net.rpc))
        let client = PayingHTTPClient(payer: Payer(schemes: schemes, wallet: payer.publicKey.base58), timeout: .seconds(90))
        let paid = try await client.execute(HTTPClientRequest(url: url))
        #expect(paid.status == 200, "\(String(decoding: paid.body, as: UTF8.self)) \(server.logTail) \(facilitator.log())")
        #expect(try JSONValue(parsing: paid.body)["report"]?["weather"] == "sunny")
        // The header the SDK wrote, decoded independently of the client's bookkeeping.
        let header = try SettleResponse(headerValue: try #require(paid.headers[.paymentResponse]))
        #expect(header.success && header.payer == payer.publicKey.base58 && header.network == net.network.identifier, "\(header)")
        guard case .paid(let receipt) = paid.payment else {
            Issue.record("not paid: \(paid.payment)")
            return
        }
        #expect(receipt.settlement?.transaction == header.transaction)
        try await Self.expectLanded(header.transaction, net)
        #expect(try await net.tokenBalance(of: wallet, mint: net.usdc) == Self.price)
        #expect(try await net.tokenBalance(of: payer.publicKey, mint: net.usdc) == 1_000_000 - Self.price)

        // The SDK seller keeps no replay store: the Swift facilitator refuses the same payment again.
        let replay = try await SellerHTTP.send(url, headers: [("PAYMENT-SIGNATURE", receipt.payload.headerValue)])
        #expect(replay.status == 402)
        #expect(try await net.tokenBalance(of: wallet, mint: net.usdc) == Self.price)
    }
}
