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
import X402TestSupport

/// Counts every call to the real facilitator client it wraps (the facilitator service over HTTP).
actor CountingFacilitator: FacilitatorClient {
    let base: any FacilitatorClient
    private(set) var calls = 0

    init(_ base: any FacilitatorClient) { self.base = base }

    func verify(_ request: FacilitatorRequest) async throws(FacilitatorClientError) -> VerifyResponse {
        calls += 1
        return try await base.verify(request)
    }

    func settle(_ request: FacilitatorRequest) async throws(FacilitatorClientError) -> SettleResponse {
        calls += 1
        return try await base.settle(request)
    }

    func supported() async throws(FacilitatorClientError) -> SupportedResponse {
        calls += 1
        return try await base.supported()
    }
}

/// Reusable sessions on the devnet: the Swift client pays a Hummingbird seller once, then signs
/// in (`sign-in-with-x`) for every further request within the route's period: one transfer on
/// chain, no facilitator call for the sign-ins, and access ends with the period.
@Suite("sign-in-with-x on the devnet", .devnet, .serialized)
struct SignInWithXIntegrationTests {
    static let price: UInt256 = 10_000
    /// Long enough for 100 sign-ins on a loaded machine; the test waits only for what is left of it.
    static let period: Duration = .seconds(15)

    @Test("pay once, then 100 sign-ins within the period: 1 transfer, 0 facilitator calls; access ends with the period")
    func payOnceThenSignIn() async throws {
        let w = try await HummingbirdSellerIntegrationTests.World.make()
        defer { Task { await w.facilitator.stop() } }
        let facilitator = CountingFacilitator(HTTPFacilitatorClient(baseURL: w.facilitator.url))

        var schemes = SchemeRegistry<any SchemeServer>()
        schemes.registerExactEVM()
        let port = try freeLoopbackPort()
        let origin = "http://127.0.0.1:\(port)"
        let access = InMemorySignInAccessStore()
        let signIn = try SignInWithX.Server(origin: origin, verifiers: [EVMSignInVerifier()], store: access, statement: "Sign in to read the report")
        let hits = HitCounter()
        let router = Router()
        router.add(
            middleware: try X402Middleware(
                configuration: .init(
                    routes: [
                        "GET /report": PaidRoute(
                            accepts: [.exact("$0.01", on: w.network, payTo: .fixed(w.payee.checksummed))], description: "Report",
                            signIn: .afterPayment(period: Self.period))
                    ],
                    facilitator: facilitator, schemes: schemes, signInWithX: signIn)))
        router.get("report") { _, _ -> Response in
            await hits.hit()
            return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: "the report")))
        }
        let (_, task) = await startServing { running in
            Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)), onServerRunning: running)
        }
        defer { task.cancel() }
        let url = origin + "/report"

        var clientSchemes = SchemeRegistry<any SchemeClient>()
        clientSchemes.registerExactEVM(ExactEVMClient(signer: w.payer.key))
        let client = PayingHTTPClient(
            payer: Payer(schemes: clientSchemes, wallet: w.payer.address.checksummed),
            options: PayingClientOptions(signIn: EVMSignInSigner(key: w.payer.key)))

        // The first request pays: one transfer.
        let payerBefore = try await w.devnet.usdcBalance(of: w.payer.address)
        let first = try await client.execute(HTTPClientRequest(url: url))
        #expect(first.status == 200)
        guard case .paid(let receipt) = first.payment else {
            Issue.record("the first request was not paid: \(first.payment)")
            return
        }
        let paidAt = ContinuousClock.now
        try await w.expectMined(receipt.settlement?.transaction)
        let callsAfterPayment = await facilitator.calls
        #expect(callsAfterPayment >= 2)  // verify and settle (and /supported once)

        // 100 further requests within the period: each signs in, none pays.
        var signedIn = 0
        for _ in 0..<100 {
            let response = try await client.execute(HTTPClientRequest(url: url))
            #expect(response.status == 200)
            #expect(String(decoding: response.body, as: UTF8.self) == "the report")
            if case .signedIn(let s) = response.payment, s.address == w.payer.address.checksummed { signedIn += 1 }
        }
        #expect(signedIn == 100)
        #expect(await facilitator.calls == callsAfterPayment, "the sign-ins called the facilitator")
        #expect(await hits.count == 101)
        // Exactly one transfer: the payer paid the price once, the payee received it once.
        #expect(payerBefore - (try await w.devnet.usdcBalance(of: w.payer.address)) == Self.price)
        #expect(try await w.devnet.usdcBalance(of: w.payee) == Self.price)

        // The period ends: a sign-in alone is refused (no access), before any handler runs.
        try await Task.sleep(until: paidAt + Self.period + .milliseconds(200))
        let challenge = try await SellerHTTP.send(url)
        let required = try PaymentRequired(headerValue: try #require(challenge.header("PAYMENT-REQUIRED")))
        let proof = try await #require(SignInChallenge(extensions: required.extensions)).proof(
            signer: EVMSignInSigner(key: w.payer.key), responseURL: url)
        let late = try await SellerHTTP.send(url, headers: [(SignInWithX.headerName, proof.headerValue)])
        #expect(late.status == 402)
        #expect(try PaymentRequired(headerValue: try #require(late.header("PAYMENT-REQUIRED"))).error == ErrorReason.siwxNoAccess.rawValue)
        #expect(await hits.count == 101)
        #expect(try await w.devnet.usdcBalance(of: w.payee) == Self.price)

        // The paying client then pays again (the sign-in is refused first): access is bought anew.
        let renewed = try await client.execute(HTTPClientRequest(url: url))
        #expect(renewed.status == 200)
        guard case .paid = renewed.payment else {
            Issue.record("after the period the client did not pay: \(renewed.payment)")
            return
        }
        #expect(try await w.devnet.usdcBalance(of: w.payee) == 2 * Self.price)
    }

    @Test("x402 fetch pays once, then says it signed in instead of paying")
    func cliSignsIn() async throws {
        let binary = try x402Executable()
        let w = try await HummingbirdSellerIntegrationTests.World.make()
        defer { Task { await w.facilitator.stop() } }
        let seller = try await ExtensionsPythonInteropTests.startSwiftSeller(w)
        defer { seller.task.cancel() }

        let home = FileManager.default.temporaryDirectory.appendingPathComponent("x402-siwx-it-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: home) }
        let keyFile = home.appendingPathComponent("key").path
        _ = FileManager.default.createFile(
            atPath: keyFile, contents: Data(w.payer.key.withUnsafeSecretBytes { Hex.encode($0) }.utf8), attributes: [.posixPermissions: 0o600])
        let environment = ["X402_HOME": home.path]
        let url = seller.url + "/report"

        let first = try await BuyerIntegrationTests.runCLI(binary, ["fetch", url, "--key-file", keyFile, "--json"], environment)
        #expect(first.status == 0, "\(first.stdout) \(first.stderr)")
        #expect(try JSONValue(parsing: Array(first.stdout.utf8))["status"] == "paid")

        let second = try await BuyerIntegrationTests.runCLI(binary, ["fetch", url, "--key-file", keyFile, "--json"], environment)
        #expect(second.status == 0, "\(second.stdout) \(second.stderr)")
        let o = try JSONValue(parsing: Array(second.stdout.utf8))
        #expect(o["status"] == "signed_in")
        #expect(o["paid"] == false)
        #expect(o["signIn"]?["address"] == .string(w.payer.address.checksummed))

        let human = try await BuyerIntegrationTests.runCLI(binary, ["fetch", url, "--key-file", keyFile], environment)
        #expect(human.status == 0)
        #expect(human.stderr.contains("signed in as \(w.payer.address.checksummed)"), "\(human.stderr)")
        #expect(human.stdout == #"{"report":1}"#)
        #expect(try await w.devnet.usdcBalance(of: w.payee) == Self.price)
    }
}

/// Contract wallets sign in through ERC-1271 on the devnet (the test wallet of
/// `ExactEVMSmartWalletTests`: valid iff its owner signed the digest).
@Suite("sign-in-with-x with a contract wallet on the devnet", .devnet)
struct SignInWithXContractWalletTests {
    @Test("an ERC-1271 wallet signs in through the node; another key's signature and a verifier without a node are refused")
    func erc1271() async throws {
        let s = try await ExactEVMSmartWalletTests.Setup.make()
        let owner = PrivateKey.random()
        let wallet = try await s.create(try s.walletInitCode(owner: owner.address))
        let chain = try #require(SignInMessage.evmChainNumber(s.network.identifier))

        func proof(signedBy key: PrivateKey) throws -> (SignInWithXProof, String) {
            let fields = SignInFields(
                domain: "api.example.com", uri: "https://api.example.com/x", chainID: s.network.identifier, nonce: "a1b2c3d4e5f67890",
                issuedAt: SignInTime.format(Date()))
            let message = try SignInMessage.text(fields, address: wallet.checksummed)
            let signature = key.signPersonalMessage(Array(message.utf8)).hexString
            return (
                SignInWithXProof(
                    domain: fields.domain, address: wallet.checksummed, uri: fields.uri, chainID: fields.chainID, type: .eip191,
                    nonce: fields.nonce, issuedAt: fields.issuedAt, signature: signature), message
            )
        }

        let verifier = EVMSignInVerifier(clients: [chain: s.devnet.client])
        let (good, message) = try proof(signedBy: owner)
        #expect(try await verifier.verify(good, message: message).get() == wallet.lowercased)

        let (forged, forgedMessage) = try proof(signedBy: PrivateKey.random())
        guard case .failure(let refusal) = await verifier.verify(forged, message: forgedMessage) else {
            Issue.record("the wallet accepted another key's signature")
            return
        }
        #expect(refusal.reason == .siwxSignature)

        guard case .failure(let offline) = await EVMSignInVerifier().verify(good, message: message) else {
            Issue.record("a contract wallet was accepted without asking it")
            return
        }
        #expect(offline.reason == .siwxSignature)
    }

    /// A counterfactual wallet (ERC-6492): the test CREATE2 factory of `ExactEVMSmartWalletTests`
    /// and its ERC-1271 wallet, predicted but not deployed.
    @Test("an undeployed ERC-6492 wallet signs in only through an allowlisted factory, in a simulation that deploys nothing")
    func erc6492() async throws {
        let s = try await ExactEVMSmartWalletTests.Setup.make()
        let client = s.devnet.client
        let factory = try await s.create(try Hex.decode(ExactEVMSmartWalletTests.factoryInitCode))
        let owner = PrivateKey.random()
        let chain = try #require(SignInMessage.evmChainNumber(s.network.identifier))

        /// The CREATE2 address and factory calldata of `owner`'s wallet.
        func counterfactual(owner: EthereumAddress, salt: Bytes32) throws -> (EthereumAddress, [UInt8]) {
            let initCode = try s.walletInitCode(owner: owner)
            let digest = Keccak256.hash([0xFF] + factory.bytes + salt.bytes + Keccak256.hash(initCode).bytes)
            let calldata = try ABI.encodeCall("deploy(bytes,bytes32)", [.bytes(initCode), .bytes32(salt)])
            return (try #require(EthereumAddress(digest.bytes[12...])), calldata)
        }
        let salt = Bytes32.random()
        let (wallet, calldata) = try counterfactual(owner: owner.address, salt: salt)
        #expect(try await client.code(at: wallet, at: .latest).isEmpty)

        /// A proof for `wallet` whose inner signature is `key`'s, wrapped with `factory`/`data`.
        func proof(signedBy key: PrivateKey, factory: EthereumAddress, data: [UInt8]) throws -> (SignInWithXProof, String) {
            let fields = SignInFields(
                domain: "api.example.com", uri: "https://api.example.com/x", chainID: s.network.identifier, nonce: "a1b2c3d4e5f67890",
                issuedAt: SignInTime.format(Date()))
            let message = try SignInMessage.text(fields, address: wallet.checksummed)
            let inner = key.signPersonalMessage(Array(message.utf8)).bytes
            let wrapped = ERC6492Signature(factory: factory, factoryCalldata: data, innerSignature: inner).wrappedBytes
            return (
                SignInWithXProof(
                    domain: fields.domain, address: wallet.checksummed, uri: fields.uri, chainID: fields.chainID, type: .eip191,
                    nonce: fields.nonce, issuedAt: fields.issuedAt, signatureScheme: "eip6492", signature: Hex.encode(wrapped)), message
            )
        }
        func reason(_ verifier: EVMSignInVerifier, _ p: (SignInWithXProof, String)) async -> ErrorReason? {
            switch await verifier.verify(p.0, message: p.1) {
            case .success(let account):
                #expect(account == wallet.lowercased)
                return nil
            case .failure(let failure): return failure.reason
            }
        }

        let allowing = EVMSignInVerifier(clients: [chain: client], erc6492Factories: [factory])
        let good = try proof(signedBy: owner, factory: factory, data: calldata)
        #expect(await reason(allowing, good) == nil)
        // Only simulated: still nothing at the address.
        #expect(try await client.code(at: wallet, at: .latest).isEmpty)

        // Failing closed: no allowlist (the default), a factory off the list, no node.
        #expect(await reason(EVMSignInVerifier(clients: [chain: client]), good) == .siwxSignature)
        #expect(await reason(EVMSignInVerifier(clients: [chain: client], erc6492Factories: [s.devnet.randomAddress()]), good) == .siwxSignature)
        #expect(await reason(EVMSignInVerifier(erc6492Factories: [factory]), good) == .siwxSignature)
        // Another key's inner signature; calldata deploying someone else's wallet (the claimed
        // address stays empty); calldata that makes the factory revert; a tiny gas cap.
        #expect(await reason(allowing, try proof(signedBy: PrivateKey.random(), factory: factory, data: calldata)) == .siwxSignature)
        let (_, othersCalldata) = try counterfactual(owner: PrivateKey.random().address, salt: salt)
        #expect(await reason(allowing, try proof(signedBy: owner, factory: factory, data: othersCalldata)) == .siwxSignature)
        #expect(await reason(allowing, try proof(signedBy: owner, factory: factory, data: [0xde, 0xad, 0xbe, 0xef])) == .siwxSignature)
        var starved = allowing
        starved.maximumValidationGas = 30_000
        #expect(await reason(starved, good) != nil)
        // The zero factory means "no deployment data".
        #expect(await reason(allowing, try proof(signedBy: owner, factory: .zero, data: [])) == .siwxSignature)

        // Once the wallet is deployed, the wrapped signature is checked through ERC-1271 with its
        // inner signature, allowlist or not.
        let transaction = EIP1559Transaction(
            chainId: s.devnet.chainID, nonce: try await client.transactionCount(of: s.deployer.address, at: .pending),
            maxPriorityFeePerGas: try await client.maxPriorityFeePerGas(), maxFeePerGas: try await client.gasPrice() * 2,
            gasLimit: 2_000_000, to: factory, value: .zero, data: calldata)
        let signed = transaction.signed(with: s.deployer.key)
        _ = try await client.sendRawTransaction(signed.rawBytes)
        #expect(try await s.devnet.waitForReceipt(signed.hash).succeeded)
        #expect(try await client.code(at: wallet, at: .latest).isEmpty == false)
        #expect(await reason(EVMSignInVerifier(clients: [chain: client]), good) == nil)
        #expect(
            await reason(EVMSignInVerifier(clients: [chain: client]), try proof(signedBy: PrivateKey.random(), factory: factory, data: calldata))
                == .siwxSignature)
    }
}
