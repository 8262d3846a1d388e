import AsyncHTTPClient
import Foundation
import Hummingbird
import NIOHTTP1
import Testing
import X402
import X402EVM
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

/// The whole Solana flow over HTTP: `x402 facilitator serve` as a child process serving the EVM
/// devnet and the Solana svmnet at once, a Hummingbird seller asking for USDC on Solana (its fee
/// payer taken from `/supported`), and the Swift paying client.
@Suite(.svmnet, .devnet, .serialized)
struct ExactSVMServiceIntegrationTests {
    /// `x402 facilitator serve` with an EVM network and a Solana network (keys in the environment).
    static func mixedFacilitator(devnet: Devnet, evmKey: PrivateKey, net: SVMNet, database: String) async throws -> FacilitatorProcess {
        let environment = [
            "X402_IT_EVM_KEY": evmKey.withUnsafeSecretBytes { Hex.encode($0) },
            "X402_IT_SVM_KEYS": net.feePayerSecrets.joined(separator: ","),
        ]
        return try await FacilitatorProcess(environment: environment) { port in
            [
                "facilitator", "serve", "--network", "\(devnet.network)=\(devnet.url)", "--signer-key-env", "X402_IT_EVM_KEY",
                "--network", "\(net.network)=\(net.url)", "--svm-signer-key-env", "X402_IT_SVM_KEYS",
                "--port", "\(port)", "--database", "sqlite:" + database,
            ]
        }
    }

    @Test("one facilitator process serves EVM and Solana; a Swift client pays a Hummingbird seller in USDC on Solana, once")
    func paysOverHTTP() async throws {
        let net = try await SVMNet.shared()
        let devnet = try await Devnet.shared()
        let database = FileManager.default.temporaryDirectory.appendingPathComponent("svm-service-\(UUID().uuidString).sqlite").path
        defer { try? FileManager.default.removeItem(atPath: database) }
        let facilitator = try await Self.mixedFacilitator(
            devnet: devnet, evmKey: try await devnet.freshAccount().key, net: net, database: database)
        defer { Task { await facilitator.stop() } }

        // /supported lists the Solana kinds (v2 CAIP-2, v1 name) with a fee payer the facilitator manages.
        let supported = try await HTTPFacilitatorClient(baseURL: facilitator.url).supported()
        let solanaKind = try #require(supported.kinds.first { $0.network == net.network.identifier && $0.x402Version == .v2 })
        let feePayer = try #require(solanaKind.extra?["feePayer"]?.stringValue)
        #expect(net.feePayers.map(\.publicKey.base58).contains(feePayer))
        #expect(supported.kinds.contains { $0.network == devnet.network })
        #expect(supported.kinds.contains { $0.network == "solana-devnet" && $0.x402Version == .v1 })

        // The seller: $0.01 in USDC on the Solana network (default asset = the devnet USDC mint).
        let wallet = try await net.freshWallet()
        var schemes = SchemeRegistry<any SchemeServer>()
        schemes.registerExactSVM()
        let configuration = ResourceServer.Configuration(
            routes: [
                "GET /report": .exact(.text("$0.01"), on: net.network, payTo: .fixed(wallet.base58), description: "report", mimeType: "text/plain")
            ],
            facilitator: HTTPFacilitatorClient(baseURL: facilitator.url), schemes: schemes)
        let hits = HitCounter()
        let router = Router()
        router.add(middleware: try X402Middleware(configuration: configuration))
        router.get("report") { _, _ in
            await hits.hit()
            return "the paid report"
        }
        let app = await RunningApp.start(router)
        defer { Task { await app.stop() } }

        // Unpaid: a 402 offering the Solana USDC with the facilitator's fee payer; the handler does not run.
        let unpaid = try await SellerHTTP.send(app.url + "/report")
        #expect(unpaid.status == 402)
        let offer = try PaymentRequired(headerValue: try #require(unpaid.header("PAYMENT-REQUIRED")))
        let accepted = try #require(offer.accepts.first)
        #expect(accepted.network == net.network && accepted.asset == net.usdc.base58 && accepted.amount == "10000")
        #expect(accepted.extra?["feePayer"]?.stringValue.map { net.feePayers.map(\.publicKey.base58).contains($0) } == true)
        #expect(await hits.count == 0)

        // Paid by the Swift client.
        let payer = try await net.freshPayer(usdc: 1_000_000, mints: [net.usdc])
        var clientSchemes = SchemeRegistry<any SchemeClient>()
        clientSchemes.registerExactSVM(ExactSVMClient(signer: payer, rpc: net.rpc))
        let client = PayingHTTPClient(payer: Payer(schemes: clientSchemes, wallet: payer.publicKey.base58), timeout: .seconds(90))
        let before = try await net.tokenBalance(of: wallet, mint: net.usdc)
        let paid = try await client.execute(HTTPClientRequest(url: app.url + "/report"))
        #expect(paid.status == 200, "\(facilitator.log())")
        #expect(String(decoding: paid.body, as: UTF8.self) == "the paid report")
        let receipt = try SettleResponse(headerValue: try #require(paid.headers[.paymentResponse]))
        #expect(receipt.success && receipt.payer == payer.publicKey.base58 && receipt.network == net.network.identifier, "\(receipt)")
        let signature = receipt.transaction
        let statuses = try await net.rpc.signatureStatuses([signature])
        let status = try #require(statuses.first ?? nil)
        #expect(status.error == nil)
        #expect(try await net.tokenBalance(of: wallet, mint: net.usdc) - before == 10_000)
        #expect(try await net.tokenBalance(of: payer.publicKey, mint: net.usdc) == 1_000_000 - 10_000)
        #expect(await hits.count == 1)

        // The `x402` CLI as the buyer: a new Solana wallet (0600 key file), funded, pays once; the
        // wallet balance reads the token account.
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("x402-svm-cli-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: home) }
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        let cli = try x402Executable()
        let environment = ["X402_HOME": home.path, "X402_SVM_RPC_URL": net.url]
        let created = try await runProcess(cli, ["wallet", "new", "--solana", "--json"], environment: environment, scratch: home)
        #expect(created.status == 0, "\(created.stderr)")
        let address = try #require(try JSONValue(parsing: Array(created.stdout.utf8))["address"]?.stringValue)
        let keyFile = home.appendingPathComponent("solana-key").path
        let mode = try #require(try FileManager.default.attributesOfItem(atPath: keyFile)[.posixPermissions] as? NSNumber)
        #expect(mode.intValue & 0o077 == 0)
        #expect(!created.stdout.contains(try String(contentsOfFile: keyFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        _ = try await net.rpc.request(method: "svmnet_setLamports", params: [.string(address), 1_000_000_000])
        _ = try await net.rpc.request(method: "svmnet_createTokenAccount", params: [.string(address), .string(net.usdc.base58), "50000"])

        let walletBefore = try await net.tokenBalance(of: wallet, mint: net.usdc)
        let fetched = try await runProcess(cli, ["fetch", app.url + "/report", "--json", "--yes"], environment: environment, scratch: home)
        #expect(fetched.status == 0, "\(fetched.stdout) \(fetched.stderr)")
        let report = try JSONValue(parsing: Array(fetched.stdout.utf8))
        #expect(report["status"]?.stringValue == "paid" && report["paid"]?.boolValue == true, "\(report)")
        #expect(try await net.tokenBalance(of: wallet, mint: net.usdc) - walletBefore == 10_000)
        let owner = try SolanaPublicKey(base58: address)
        #expect(try await net.tokenBalance(of: owner, mint: net.usdc) == 40_000)
        #expect(await hits.count == 2)

        let balance = try await runProcess(
            cli, ["wallet", "balance", "--network", net.network.identifier, "--json"], environment: environment, scratch: home)
        #expect(balance.status == 0, "\(balance.stderr)")
        let read = try JSONValue(parsing: Array(balance.stdout.utf8))
        #expect(read["address"]?.stringValue == address)
        #expect(read["token"]?["amount"]?.stringValue == "40000", "\(read)")
        #expect(read["sol"]?["lamports"]?.stringValue.flatMap(UInt64.init).map { $0 > 0 } == true, "\(read)")
    }
}
