import Foundation
import Hummingbird
import Testing
import X402
import X402EVM
import X402HTTP
import X402Hummingbird
import X402SQLite
import X402TestSupport

/// `offer-receipt` on the devnet: a Swift seller (Hummingbird `X402Middleware` + the Swift
/// facilitator service) signs its offers and receipts with EIP-712; the `x402` CLI pays with the
/// seller's address pinned, stores the verified receipt in its ledger, and `x402 receipt verify`
/// passes on the exported receipt and fails on a tampered copy.
@Suite("offer-receipt on the devnet", .devnet)
struct OfferReceiptIntegrationTests {
    @Test("Swift seller signs, the CLI pays and stores the verified receipt; receipt verify passes, and fails on a tampered copy")
    func signedReceiptRoundTrip() async throws {
        let devnet = try await Devnet.shared()
        let binary = try x402Executable()
        async let facilitatorAccount = devnet.freshAccount()
        async let payerAccount = devnet.freshAccount(eth: .zero, usdc: 1_000_000)
        let payer = try await payerAccount
        let facilitator = try await FacilitatorServiceIntegrationTests.start(
            devnet: devnet, facilitator: try await facilitatorAccount, database: BuyerIntegrationTests.temporaryPath("facilitator.sqlite"))
        defer { Task { await facilitator.stop() } }

        // The seller's signing key is also its payTo (the EIP-712 signer buyers expect by default).
        let sellerKey = PrivateKey.random()
        var schemes = SchemeRegistry<any SchemeServer>()
        schemes.registerExactEVM()
        var configuration = ResourceServer.Configuration(
            routes: [
                "GET /report": PaidRoute.exact("$0.01", on: try #require(Network(devnet.network)), payTo: .fixed(sellerKey.address.checksummed))
                    .signingOffersAndReceipts(OfferReceipt.RouteOptions(includeTransaction: true))
            ],
            facilitator: HTTPFacilitatorClient(baseURL: facilitator.url), schemes: schemes)
        configuration.offerReceipts = OfferReceipt.Signing(signer: EIP712OfferReceiptSigner(key: sellerKey))
        let router = Router()
        router.add(middleware: try X402Middleware(configuration: configuration))
        router.get("report") { _, _ in "the paid report" }
        let app = await RunningApp.start(router)
        defer { app.task.cancel() }

        let home = FileManager.default.temporaryDirectory.appendingPathComponent("x402-receipt-it-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: home) }
        let keyFile = home.appendingPathComponent("key").path
        _ = FileManager.default.createFile(
            atPath: keyFile, contents: Data(payer.key.withUnsafeSecretBytes { Hex.encode($0) }.utf8), attributes: [.posixPermissions: 0o600])
        let environment = ["X402_HOME": home.path]

        let fetch = try await BuyerIntegrationTests.runCLI(
            binary, ["fetch", "\(app.url)/report", "--key-file", keyFile, "--seller-key", sellerKey.address.checksummed, "--json"], environment)
        #expect(fetch.status == 0, "\(fetch.stdout) \(fetch.stderr)")
        #expect(!fetch.stderr.contains("did not check out"), "\(fetch.stderr)")
        let transaction = try #require(try JSONValue(parsing: Array(fetch.stdout.utf8))["settlement"]?["transaction"]?.stringValue)

        // The ledger holds the receipt, verified, naming this payment's transaction and payer.
        let ledger = try SQLiteSpendLedger(path: home.appendingPathComponent("ledger.sqlite").path)
        let stored = try await ledger.receipts(payer: payer.address.checksummed, limit: 10)
        #expect(stored.count == 1)
        let receipt = try #require(stored.first)
        #expect(receipt.status == .verified, "\(receipt.detail)")
        #expect(receipt.signer == sellerKey.address.lowercased)
        #expect(receipt.receipt.payload.transaction == transaction)
        #expect(receipt.receipt.payload.payer.lowercased() == payer.address.lowercased)
        #expect(receipt.receipt.payload.network == devnet.network)
        let records = try await ledger.history(wallet: payer.address.checksummed, limit: 10)
        #expect(receipt.recordID == records.first?.id)

        // `history --receipts` lists it; one entry exported to a file verifies offline.
        let history = try await BuyerIntegrationTests.runCLI(binary, ["history", "--receipts", "--key-file", keyFile, "--json"], environment)
        #expect(history.status == 0, "\(history.stderr)")
        let entry = try #require(try JSONValue(parsing: Array(history.stdout.utf8))["receipts"]?.arrayValue?.first)
        #expect(entry["status"] == "verified")
        let file = home.appendingPathComponent("receipt.json").path
        _ = FileManager.default.createFile(atPath: file, contents: Data(entry.serialized()))
        let verify = try await BuyerIntegrationTests.runCLI(
            binary, ["receipt", "verify", file, "--address", sellerKey.address.checksummed, "--payer", payer.address.checksummed], environment)
        #expect(verify.status == 0, "\(verify.stdout) \(verify.stderr)")
        #expect(verify.stdout.hasPrefix("verified"))

        // A copy whose payer was changed no longer verifies under the seller's address.
        var tampered = try #require(entry["receipt"]?.objectValue)
        var payload = try #require(tampered["payload"]?.objectValue)
        payload["payer"] = .string(devnet.randomAddress().checksummed)
        tampered["payload"] = .object(payload)
        let tamperedFile = home.appendingPathComponent("tampered.json").path
        _ = FileManager.default.createFile(atPath: tamperedFile, contents: Data(JSONValue.object(tampered).serialized()))
        let refused = try await BuyerIntegrationTests.runCLI(
            binary, ["receipt", "verify", tamperedFile, "--address", sellerKey.address.checksummed], environment)
        #expect(refused.status == 11, "\(refused.stdout) \(refused.stderr)")
        #expect(refused.stdout.hasPrefix("unexpected-signer"))
    }
}
