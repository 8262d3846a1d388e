import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Testing
import X402
import X402EVM
import X402HTTP
import X402Hummingbird
import X402Solana
import X402SolanaRPC
import X402TestSupport

/// The Solana form of sign-in-with-x on the svmnet: a Solana buyer pays once in USDC and signs in
/// afterwards (SIWS, Ed25519) with no facilitator call, between Swift peers and with the Python
/// SDK 2.25.0 on either side.
@Suite("sign-in-with-x (Solana) on the svmnet", .svmnet, .serialized)
struct SignInWithXSolanaIntegrationTests {
    static let price: UInt64 = 10_000

    struct Seller {
        let url: String
        let task: Task<Void, any Error>
        let facilitator: CountingFacilitator
        let hits: HitCounter
    }

    /// A Swift Hummingbird seller on a free port: `GET /report` for $0.01 in USDC on the svmnet's
    /// network with sign-in for an hour after payment, `GET /login` auth-only; the Solana verifier.
    static func startSeller(facilitatorURL: String, wallet: SolanaPublicKey, net: SVMNet) async throws -> Seller {
        var schemes = SchemeRegistry<any SchemeServer>()
        schemes.registerExactSVM()
        let port = try freeLoopbackPort()
        let origin = "http://127.0.0.1:\(port)"
        let facilitator = CountingFacilitator(HTTPFacilitatorClient(baseURL: facilitatorURL))
        let hits = HitCounter()
        let router = Router()
        router.add(
            middleware: try X402Middleware(
                configuration: .init(
                    routes: [
                        "GET /report": PaidRoute(
                            accepts: [.exact("$0.01", on: net.network, payTo: .fixed(wallet.base58))], description: "Report",
                            signIn: .afterPayment(period: .seconds(3600))),
                        "GET /login": .signInOnly(description: "Members"),
                    ],
                    facilitator: facilitator, schemes: schemes,
                    signInWithX: try SignInWithX.Server(
                        origin: origin, verifiers: [SolanaSignInVerifier()], statement: "Sign in to read the report",
                        chains: [net.network.identifier]))))
        router.get("report") { _, _ -> Response in
            await hits.hit()
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: #"{"report":1}"#)))
        }
        router.get("login") { _, _ -> Response in
            Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: #"{"member":true}"#)))
        }
        let (_, task) = await startServing { running in
            Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)), onServerRunning: running)
        }
        return Seller(url: origin, task: task, facilitator: facilitator, hits: hits)
    }

    /// A Swift facilitator process on the svmnet and a seller of `/report` paid to a fresh wallet.
    struct Market {
        let facilitatorProcess: FacilitatorProcess
        let wallet: SolanaPublicKey
        let seller: Seller

        static func open(_ net: SVMNet) async throws -> Market {
            let facilitatorProcess = try await SolanaPythonInteropTests.swiftFacilitator(net: net)
            do {
                let wallet = try await net.freshWallet(mints: [net.usdc])
                let seller = try await SignInWithXSolanaIntegrationTests.startSeller(
                    facilitatorURL: facilitatorProcess.url, wallet: wallet, net: net)
                return Market(facilitatorProcess: facilitatorProcess, wallet: wallet, seller: seller)
            } catch {
                await facilitatorProcess.stop()
                throw error
            }
        }

        func close() async {
            seller.task.cancel()
            await facilitatorProcess.stop()
        }
    }

    @Test("a Solana buyer pays once, then signs in 20 times: 1 transfer, 0 facilitator calls; replays and other wallets refused")
    func payOnceThenSignIn() async throws {
        let net = try await SVMNet.shared()
        let market = try await Market.open(net)
        defer { Task { await market.close() } }
        let (facilitatorProcess, wallet, seller) = (market.facilitatorProcess, market.wallet, market.seller)
        let url = seller.url + "/report"

        let payer = try await net.freshPayer(usdc: 1_000_000, mints: [net.usdc])
        var schemes = SchemeRegistry<any SchemeClient>()
        schemes.registerExactSVM(ExactSVMClient(signer: payer, rpc: net.rpc))
        let client = PayingHTTPClient(
            payer: Payer(schemes: schemes, wallet: payer.publicKey.base58), timeout: .seconds(90),
            options: PayingClientOptions(signIn: SolanaSignInSigner(keypair: payer)))

        // The 402 offers the Solana chain for sign-in, as ed25519.
        let unpaid = try await SellerHTTP.send(url)
        let offer = try PaymentRequired(headerValue: try #require(unpaid.header("PAYMENT-REQUIRED")))
        #expect(offer.extensions?[SignInWithX.extensionKey]?["supportedChains"] == [["chainId": .string(net.network.identifier), "type": "ed25519"]])

        // The first request pays: one transfer.
        let first = try await client.execute(HTTPClientRequest(url: url))
        #expect(first.status == 200, "\(facilitatorProcess.log())")
        guard case .paid(let receipt) = first.payment else {
            Issue.record("the first request was not paid: \(first.payment)")
            return
        }
        try await SolanaPythonInteropTests.expectLanded(receipt.settlement?.transaction, net)
        #expect(receipt.settlement?.payer == payer.publicKey.base58)
        let calls = await seller.facilitator.calls

        for _ in 0..<20 {
            let response = try await client.execute(HTTPClientRequest(url: url))
            #expect(response.status == 200)
            guard case .signedIn(let s) = response.payment else {
                Issue.record("not signed in: \(response.payment)")
                return
            }
            #expect(s.address == payer.publicKey.base58 && s.chainID == net.network.identifier)
        }
        #expect(await seller.facilitator.calls == calls, "the sign-ins called the facilitator")
        #expect(await seller.hits.count == 21)
        #expect(try await net.tokenBalance(of: wallet, mint: net.usdc) == Self.price)
        #expect(try await net.tokenBalance(of: payer.publicKey, mint: net.usdc) == 1_000_000 - Self.price)

        // A proof replayed, and a wallet that never paid: refused with their reasons, nothing served.
        let challenge = try await SellerHTTP.send(url)
        let required = try PaymentRequired(headerValue: try #require(challenge.header("PAYMENT-REQUIRED")))
        let proof = try await #require(SignInChallenge(extensions: required.extensions)).proof(
            signer: SolanaSignInSigner(keypair: payer), responseURL: url)
        #expect(try await SellerHTTP.send(url, headers: [(SignInWithX.headerName, proof.headerValue)]).status == 200)
        let replay = try await SellerHTTP.send(url, headers: [(SignInWithX.headerName, proof.headerValue)])
        #expect(replay.status == 402)
        #expect(try PaymentRequired(headerValue: try #require(replay.header("PAYMENT-REQUIRED"))).error == ErrorReason.siwxNonce.rawValue)
        let stranger = try SolanaKeypair(seed: (0..<32).map { _ in UInt8.random(in: .min ... .max) })
        let strangerProof = try await #require(SignInChallenge(extensions: required.extensions)).proof(
            signer: SolanaSignInSigner(keypair: stranger), responseURL: url)
        let refused = try await SellerHTTP.send(url, headers: [(SignInWithX.headerName, strangerProof.headerValue)])
        #expect(try PaymentRequired(headerValue: try #require(refused.header("PAYMENT-REQUIRED"))).error == ErrorReason.siwxNoAccess.rawValue)
        #expect(await seller.hits.count == 22)
        #expect(await seller.facilitator.calls == calls)
    }

    @Test("a buyer with an EVM key and a Solana keypair pays on Solana, then signs in with the keypair that paid (not the EVM key first in line)")
    func twoWalletsSignInWithThePayer() async throws {
        let net = try await SVMNet.shared()
        let market = try await Market.open(net)
        defer { Task { await market.close() } }
        let (facilitatorProcess, seller) = (market.facilitatorProcess, market.seller)
        let url = seller.url + "/report"
        let payer = try await net.freshPayer(usdc: 1_000_000, mints: [net.usdc])
        var schemes = SchemeRegistry<any SchemeClient>()
        schemes.registerExactSVM(ExactSVMClient(signer: payer, rpc: net.rpc))
        var options = PayingClientOptions(signIn: EVMSignInSigner(key: .random()))
        options.moreSignIn = [SolanaSignInSigner(keypair: payer)]
        let client = PayingHTTPClient(payer: Payer(schemes: schemes, wallet: "buyer"), timeout: .seconds(90), options: options)

        let first = try await client.execute(HTTPClientRequest(url: url))
        guard case .paid(let receipt) = first.payment else {
            Issue.record("the first request was not paid: \(first.payment) \(facilitatorProcess.log())")
            return
        }
        #expect(receipt.settlement?.payer == payer.publicKey.base58)
        let calls = await seller.facilitator.calls
        let again = try await client.execute(HTTPClientRequest(url: url))
        #expect(again.status == 200)
        guard case .signedIn(let signedIn) = again.payment else {
            Issue.record("paid again instead of signing in: \(again.payment)")
            return
        }
        #expect(signedIn.address == payer.publicKey.base58)
        #expect(await seller.facilitator.calls == calls)
        #expect(try await net.tokenBalance(of: payer.publicKey, mint: net.usdc) == 1_000_000 - Self.price)
    }

    @Test("x402 fetch with a Solana wallet pays once, then says it signed in instead of paying")
    func cliSignsIn() async throws {
        let net = try await SVMNet.shared()
        let market = try await Market.open(net)
        defer { Task { await market.close() } }
        let (wallet, seller) = (market.wallet, market.seller)

        let home = FileManager.default.temporaryDirectory.appendingPathComponent("x402-siws-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: home) }
        let cli = try x402Executable()
        let environment = ["X402_HOME": home.path, "X402_SVM_RPC_URL": net.url]
        let created = try await runProcess(cli, ["wallet", "new", "--solana", "--json"], environment: environment, scratch: home)
        #expect(created.status == 0, "\(created.stderr)")
        let address = try #require(try JSONValue(parsing: Array(created.stdout.utf8))["address"]?.stringValue)
        _ = try await net.rpc.request(method: "svmnet_setLamports", params: [.string(address), 1_000_000_000])
        _ = try await net.rpc.request(method: "svmnet_createTokenAccount", params: [.string(address), .string(net.usdc.base58), "50000"])
        let url = seller.url + "/report"

        let first = try await runProcess(cli, ["fetch", url, "--json", "--yes"], environment: environment, scratch: home)
        #expect(first.status == 0, "\(first.stdout) \(first.stderr)")
        #expect(try JSONValue(parsing: Array(first.stdout.utf8))["status"] == "paid", "\(first.stdout)")
        let calls = await seller.facilitator.calls

        let second = try await runProcess(cli, ["fetch", url, "--json", "--yes"], environment: environment, scratch: home)
        #expect(second.status == 0, "\(second.stdout) \(second.stderr)")
        let report = try JSONValue(parsing: Array(second.stdout.utf8))
        #expect(report["status"] == "signed_in", "\(report)")
        #expect(report["paid"] == false)
        #expect(report["signIn"]?["address"] == .string(address))
        #expect(report["signIn"]?["chainId"] == .string(net.network.identifier))
        #expect(await seller.facilitator.calls == calls)
        #expect(try await net.tokenBalance(of: wallet, mint: net.usdc) == Self.price)
        #expect(try await net.tokenBalance(of: try SolanaPublicKey(base58: address), mint: net.usdc) == 50_000 - Self.price)
    }

    /// The payer's keypair as the base58 text of its 64 bytes (the SDK's peers read it so).
    static func secret(_ net: SVMNet) async throws -> (SolanaKeypair, String) {
        let (keypair, secret) = try await SolanaPythonInteropTests.freshPayer(net)
        return (keypair, secret)
    }

    @Test("the Python SDK's SIWx client signs in to the Swift seller with its Solana keypair: auth-only, and after paying once")
    func pythonSignsInToSwift() async throws {
        let net = try await SVMNet.shared()
        let market = try await Market.open(net)
        defer { Task { await market.close() } }
        let (wallet, seller) = (market.wallet, market.seller)
        let (payer, secret) = try await Self.secret(net)
        func python(_ path: String) async throws -> JSONValue {
            try await PythonService.run(
                "py_client.py", ["--svm-key-env", "X402_IT_SVM_PAYER", "--svm-rpc-url", net.url, "--siwx", seller.url + path],
                environment: ["X402_IT_SVM_PAYER": secret])
        }

        let login = try await python("/login")
        #expect(login["status"] == 200, "\(login)")
        #expect(login["body"]?["member"] == true)
        #expect(login["paymentPayload"] == .null)

        let first = try await python("/report")
        #expect(first["status"] == 200, "\(first)")
        #expect(first["paymentPayload"] != .null)
        try await SolanaPythonInteropTests.expectLanded(first["paymentResponse"]?["transaction"]?.stringValue, net)
        #expect(first["paymentResponse"]?["payer"] == .string(payer.publicKey.base58))
        let calls = await seller.facilitator.calls

        let second = try await python("/report")
        #expect(second["status"] == 200, "\(second)")
        #expect(second["paymentPayload"] == .null)
        #expect(await seller.facilitator.calls == calls)
        #expect(await seller.hits.count == 2)
        #expect(try await net.tokenBalance(of: wallet, mint: net.usdc) == Self.price)
    }

    @Test("the Swift client signs in with its Solana keypair to the Python SDK's seller: auth-only, and after paying once")
    func swiftSignsInToPython() async throws {
        let net = try await SVMNet.shared()
        let facilitatorProcess = try await SolanaPythonInteropTests.swiftFacilitator(net: net)
        defer { Task { await facilitatorProcess.stop() } }
        let wallet = try await net.freshWallet(mints: [net.usdc])
        let port = try freeLoopbackPort()
        let base = "http://127.0.0.1:\(port)"
        let server = try await PythonService.start(
            "py_server.py",
            [
                "--port", String(port), "--facilitator-url", facilitatorProcess.url, "--network", net.network.identifier, "--pay-to",
                wallet.base58, "--siwx-origin", base,
            ])
        defer { Task { await server.stop() } }

        let payer = try await net.freshPayer(usdc: 1_000_000, mints: [net.usdc])
        var schemes = SchemeRegistry<any SchemeClient>()
        schemes.registerExactSVM(ExactSVMClient(signer: payer, rpc: net.rpc))
        let client = PayingHTTPClient(
            payer: Payer(schemes: schemes, wallet: payer.publicKey.base58), timeout: .seconds(90),
            options: PayingClientOptions(signIn: SolanaSignInSigner(keypair: payer)))

        // The SDK's challenge offers the Solana chain as ed25519; the Swift proof is accepted.
        let login = try await client.execute(HTTPClientRequest(url: base + "/login"))
        #expect(login.status == 200, "\(String(decoding: login.body, as: UTF8.self)) \(server.logTail)")
        guard case .signedIn(let loginSignIn) = login.payment else {
            Issue.record("not signed in: \(login.payment) \(server.logTail)")
            return
        }
        #expect(loginSignIn.chainID == net.network.identifier)

        let paid = try await client.execute(HTTPClientRequest(url: base + "/weather"))
        #expect(paid.status == 200, "\(String(decoding: paid.body, as: UTF8.self)) \(server.logTail) \(facilitatorProcess.log())")
        guard case .paid(let receipt) = paid.payment else {
            Issue.record("not paid: \(paid.payment) \(server.logTail)")
            return
        }
        try await SolanaPythonInteropTests.expectLanded(receipt.settlement?.transaction, net)

        let again = try await client.execute(HTTPClientRequest(url: base + "/weather"))
        #expect(again.status == 200, "\(server.logTail)")
        guard case .signedIn(let signIn) = again.payment else {
            Issue.record("not signed in after paying: \(again.payment) \(server.logTail)")
            return
        }
        #expect(signIn.address == payer.publicKey.base58)
        #expect(try await net.tokenBalance(of: wallet, mint: net.usdc) == Self.price)
        #expect(try await net.tokenBalance(of: payer.publicKey, mint: net.usdc) == 1_000_000 - Self.price)
    }
}
