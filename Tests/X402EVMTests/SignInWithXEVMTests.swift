import Foundation
import HTTPTypes
import Testing
import X402
import X402TestSupport

@testable import X402EVM

private let key = try! PrivateKey(hex: "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80")
private let otherKey = try! PrivateKey(hex: "59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d")

private func fields(_ edit: (inout SignInFields) -> Void = { _ in }) -> SignInFields {
    var f = SignInFields(
        domain: "api.example.com", statement: "Sign in to access premium data", uri: "https://api.example.com/premium-data",
        chainID: "eip155:8453", nonce: "a1b2c3d4e5f67890a1b2c3d4e5f67890", issuedAt: SignInTime.format(Date()),
        resources: ["https://api.example.com/premium-data"])
    edit(&f)
    return f
}

private func proof(by signer: PrivateKey = key, claiming address: String? = nil, _ f: SignInFields = fields()) throws -> SignInWithXProof {
    let address = address ?? signer.address.checksummed
    let message = try SignInMessage.text(f, address: address)
    let signature = signer.signPersonalMessage(Array(message.utf8)).hexString
    return SignInWithXProof(
        domain: f.domain, address: address, statement: f.statement, uri: f.uri, version: f.version, chainID: f.chainID, type: .eip191,
        nonce: f.nonce, issuedAt: f.issuedAt, expirationTime: f.expirationTime, notBefore: f.notBefore, requestID: f.requestID,
        resources: f.resources, signature: signature)
}

@Suite struct EVMSignInVerifierTests {
    let verifier = EVMSignInVerifier()

    func reason(_ p: SignInWithXProof) async throws -> ErrorReason? {
        let message = try SignInMessage.text(p.fields, address: p.address)
        switch await verifier.verify(p, message: message) {
        case .success: return nil
        case .failure(let failure): return failure.reason
        }
    }

    @Test func anEOASignatureVerifiesToTheLowerCaseAddress() async throws {
        let p = try proof()
        let message = try SignInMessage.text(p.fields, address: p.address)
        #expect(try await verifier.verify(p, message: message).get() == key.address.lowercased)
    }

    /// The message as the reference SDK formats it (Python x402 2.25.0 `format_siwe_message`, through
    /// the `siwe` library) and its `personal_sign` by eth-account with the same key: both byte-exact
    /// (RFC 6979 nonces on both sides make the signatures identical).
    @Test(arguments: [
        (
            fields {
                $0.issuedAt = "2024-01-15T10:30:00.000Z"
                $0.expirationTime = "2024-01-15T10:35:00.000Z"
            },
            "api.example.com wants you to sign in with your Ethereum account:\n0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266\n\nSign in to access premium data\n\nURI: https://api.example.com/premium-data\nVersion: 1\nChain ID: 8453\nNonce: a1b2c3d4e5f67890a1b2c3d4e5f67890\nIssued At: 2024-01-15T10:30:00.000Z\nExpiration Time: 2024-01-15T10:35:00.000Z\nResources:\n- https://api.example.com/premium-data",
            "0x4c261c7acf140d1a136a34d486f56f787ce8c5a25624809f0aa6382aa842b8b65dab28ceb6f8b1f92c2738e0d5e8c09a09c09b6432d1c8fd904bac587a0b35d11c"
        ),
        (
            fields {
                $0.issuedAt = "2024-01-15T10:30:00.000Z"
                $0.statement = nil
                $0.resources = nil
            },
            "api.example.com wants you to sign in with your Ethereum account:\n0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266\n\n\nURI: https://api.example.com/premium-data\nVersion: 1\nChain ID: 8453\nNonce: a1b2c3d4e5f67890a1b2c3d4e5f67890\nIssued At: 2024-01-15T10:30:00.000Z",
            "0x5b4662aa379e739009a7090c1fedab1c9409807e846795695a50c69e45cd6d0a1193a6174ee8490b1cabace6ae0dcf33bbe99de0bb82138214ce20337e807b741c"
        ),
    ])
    func matchesTheReferenceSDK(_ f: SignInFields, _ message: String, _ signature: String) async throws {
        #expect(try SignInMessage.text(f, address: key.address.checksummed) == message)
        let signer = EVMSignInSigner(key: key)
        #expect(try await signer.signMessage(message) == signature)
    }

    @Test func refusesWhatOthersSigned() async throws {
        // Signed by another key while claiming ours.
        #expect(try await reason(proof(by: otherKey, claiming: key.address.checksummed)) == .siwxSignature)
        // A field changed after signing.
        var p = try proof()
        p.statement = "Sign in to access everything"
        #expect(try await reason(p) == .siwxSignature)
        p = try proof()
        p.uri = "https://api.example.com/other"
        #expect(try await reason(p) == .siwxSignature)
        p = try proof()
        p.chainID = "eip155:1"
        #expect(try await reason(p) == .siwxSignature)
    }

    @Test func refusesMalformedSignaturesAndAddresses() async throws {
        var p = try proof()
        p.signature = "0xzz"
        #expect(try await reason(p) == .siwxMalformedSignature)
        p.signature = "0x" + String(repeating: "11", count: 64)
        #expect(try await reason(p) == .siwxMalformedSignature)
        p.signature = "0x"
        #expect(try await reason(p) == .siwxMalformedSignature)
        p = try proof()
        p.address = "0x1234"
        #expect(try await reason(p) == .siwxMalformedSignature)
        // A wrong EIP-55 checksum.
        p = try proof()
        p.address = "0xF39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
        #expect(try await reason(p) == .siwxMalformedSignature)
        // A malformed ERC-6492 wrapper is refused.
        p = try proof()
        p.signature = Hex.encode(Array(repeating: 0x01, count: 96) + ERC6492Signature.magicSuffix)
        #expect(try await reason(p) == .siwxMalformedSignature)
        // A well-formed one is refused without a node to simulate it (failing closed).
        p = try proof()
        p.signature = Hex.encode(
            ERC6492Signature(factory: otherKey.address, factoryCalldata: [1, 2, 3], innerSignature: try Hex.decode(p.signature)).wrappedBytes)
        #expect(try await reason(p) == .siwxSignature)
    }

    @Test func refusesTheHighSTwin() async throws {
        let p = try proof()
        var bytes = try Hex.decode(p.signature)
        // s' = n − s, v flipped: the same point, rejected as malleable.
        let n: [UInt8] = try Hex.decode("fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141")
        var s = Array(bytes[32..<64])
        var borrow = 0
        for i in (0..<32).reversed() {
            let d = Int(n[i]) - Int(s[i]) - borrow
            s[i] = UInt8((d + 256) % 256)
            borrow = d < 0 ? 1 : 0
        }
        bytes.replaceSubrange(32..<64, with: s)
        bytes[64] = bytes[64] == 27 ? 28 : 27
        var twin = p
        twin.signature = Hex.encode(bytes)
        #expect(try await reason(twin) == .siwxSignature)
    }

    @Test func theSignerSignsWhatTheVerifierChecks() async throws {
        let signer = EVMSignInSigner(key: key)
        #expect(signer.address == key.address.checksummed)
        let f = fields()
        let message = try SignInMessage.text(f, address: signer.address)
        let signature = try await signer.signMessage(message)
        let p = SignInWithXProof(
            domain: "api.example.com", address: signer.address, statement: "Sign in to access premium data",
            uri: "https://api.example.com/premium-data", chainID: "eip155:8453", type: .eip191, nonce: "a1b2c3d4e5f67890a1b2c3d4e5f67890",
            issuedAt: f.issuedAt, resources: ["https://api.example.com/premium-data"], signature: signature)
        #expect(try await reason(p) == nil)
    }
}

/// The seller side end to end in process: the resource server with the EVM verifier, a scripted
/// facilitator (counting its calls) and the in-memory stores.
@Suite struct SignInResourceServerTests {
    static let origin = "https://api.example.com"

    static func server(
        _ facilitator: ScriptedFacilitator, period: Duration? = .seconds(3600), store: any SignInAccessStore = InMemorySignInAccessStore(),
        routes: RouteTable? = nil
    ) throws -> ResourceServer {
        let table: RouteTable =
            routes ?? [
                "GET /premium/*": PaidRoute(
                    accepts: [.exact("$0.01", on: .baseSepolia, payTo: .fixed(testPayTo))], description: "Premium",
                    signIn: .afterPayment(period: period)),
                "GET /login": .signInOnly(description: "Members"),
            ]
        var schemes = SchemeRegistry<any SchemeServer>()
        schemes.register(USDCServer(), networks: NetworkPattern(namespace: "eip155"))
        let signIn = try SignInWithX.Server(
            origin: origin, verifiers: [EVMSignInVerifier()], store: store, statement: "Sign in", chains: ["eip155:84532"])
        return try ResourceServer(configuration: .init(routes: table, facilitator: facilitator, schemes: schemes, signInWithX: signIn))
    }

    static func facilitator() -> ScriptedFacilitator {
        ScriptedFacilitator(settle: { r in
            .success(
                SettleResponse(success: true, transaction: "0xfeed", network: r.paymentRequirements.networkIdentifier, payer: key.address.checksummed)
            )
        })
    }

    static func get(_ path: String, _ extra: HTTPFields = [:]) -> ServerRequest {
        var headers: HTTPFields = [.hostHeader: "api.example.com"]
        headers.append(contentsOf: extra)
        return ServerRequest(method: .get, path: path, headers: headers, url: origin + path)
    }

    static func ok(_: ServerRequest) async -> ServerResponse { ServerResponse(status: .ok, body: Array("secret".utf8)) }

    /// Asks for a 402 and answers its sign-in challenge with `signer`.
    static func signedIn(_ server: ResourceServer, _ path: String, signer: PrivateKey = key) async throws -> (ServerRequest, String) {
        let unpaid = await server.respond(to: get(path), handler: ok)
        #expect(unpaid.status.code == 402)
        let required = try PaymentRequired(headerValue: try #require(unpaid.headers[.paymentRequired]))
        let challenge = try #require(SignInChallenge(extensions: required.extensions))
        let proof = try await challenge.proof(signer: EVMSignInSigner(key: signer), responseURL: origin + path)
        return (get(path, [.signInWithX: proof.headerValue]), proof.headerValue)
    }

    static func error(of response: ServerResponse) throws -> String? {
        try PaymentRequired(headerValue: try #require(response.headers[.paymentRequired])).error
    }

    static func pay(_ server: ResourceServer, _ path: String) async throws -> ServerResponse {
        let unpaid = await server.respond(to: get(path), handler: ok)
        let required = try PaymentRequired(headerValue: try #require(unpaid.headers[.paymentRequired]))
        let accepted = try #require(required.accepts.first)
        let payment = PaymentPayload(
            resource: required.resource, accepted: accepted,
            payload: [
                "signature": "0xabcdef",
                "authorization": ["from": .string(key.address.checksummed), "nonce": .string("0x\(UUID().uuidString.prefix(8))")],
            ],
            extensions: required.extensions)
        return await server.respond(to: get(path, [.paymentSignature: payment.headerValue]), handler: ok)
    }

    @Test func the402DeclaresTheChallenge() async throws {
        let server = try Self.server(Self.facilitator())
        let unpaid = await server.respond(to: Self.get("/premium/a"), handler: Self.ok)
        let required = try PaymentRequired(headerValue: try #require(unpaid.headers[.paymentRequired]))
        let ext = try #require(required.extensions?[SignInWithX.extensionKey])
        #expect(ext["info"]?["domain"] == "api.example.com")
        #expect(ext["info"]?["uri"] == "https://api.example.com/premium/a")
        #expect(ext["info"]?["statement"] == "Sign in")
        #expect(ext["supportedChains"] == [["chainId": "eip155:84532", "type": "eip191"]])
    }

    @Test func aWalletThatPaidSignsInWithoutTheFacilitator() async throws {
        let facilitator = Self.facilitator()
        let server = try Self.server(facilitator)

        // Before paying, a valid sign-in is not enough.
        let (early, _) = try await Self.signedIn(server, "/premium/a")
        let refused = await server.respond(to: early, handler: Self.ok)
        #expect(refused.status.code == 402)
        #expect(try Self.error(of: refused) == ErrorReason.siwxNoAccess.rawValue)

        let paid = try await Self.pay(server, "/premium/a")
        #expect(paid.status == .ok)
        #expect(await facilitator.settles == 1)
        let (verifies, settles) = (await facilitator.verifies, await facilitator.settles)

        for _ in 0..<5 {
            let (request, _) = try await Self.signedIn(server, "/premium/a")
            let served = await server.respond(to: request, handler: Self.ok)
            #expect(served.status == .ok)
            #expect(served.body == Array("secret".utf8))
            #expect(served.headers[.paymentResponse] == nil)
            #expect(served.headers[.cacheControl] == "private")
        }
        #expect(await facilitator.verifies == verifies)
        #expect(await facilitator.settles == settles)

        // The grant is for that path and that wallet only.
        let (otherPath, _) = try await Self.signedIn(server, "/premium/b")
        #expect(await server.respond(to: otherPath, handler: Self.ok).status.code == 402)
        let (otherWallet, _) = try await Self.signedIn(server, "/premium/a", signer: otherKey)
        #expect(await server.respond(to: otherWallet, handler: Self.ok).status.code == 402)
    }

    @Test func aProofIsSingleUse() async throws {
        let server = try Self.server(Self.facilitator())
        #expect(try await Self.pay(server, "/premium/a").status == .ok)
        let (request, _) = try await Self.signedIn(server, "/premium/a")
        #expect(await server.respond(to: request, handler: Self.ok).status == .ok)
        let replay = await server.respond(to: request, handler: Self.ok)
        #expect(replay.status.code == 402)
        #expect(try Self.error(of: replay) == ErrorReason.siwxNonce.rawValue)
    }

    @Test func accessEndsWithThePeriod() async throws {
        let server = try Self.server(Self.facilitator(), period: .zero)
        #expect(try await Self.pay(server, "/premium/a").status == .ok)
        let (request, _) = try await Self.signedIn(server, "/premium/a")
        let refused = await server.respond(to: request, handler: Self.ok)
        #expect(refused.status.code == 402)
        #expect(try Self.error(of: refused) == ErrorReason.siwxNoAccess.rawValue)
    }

    @Test func authOnlyRoutesServeAnySignedInWallet() async throws {
        let facilitator = Self.facilitator()
        let server = try Self.server(facilitator)
        let unpaid = await server.respond(to: Self.get("/login"), handler: Self.ok)
        #expect(unpaid.status.code == 402)
        let required = try PaymentRequired(headerValue: try #require(unpaid.headers[.paymentRequired]))
        #expect(required.accepts.isEmpty)
        let (request, _) = try await Self.signedIn(server, "/login", signer: otherKey)
        #expect(await server.respond(to: request, handler: Self.ok).status == .ok)
        #expect(await facilitator.verifies == 0)
        #expect(await facilitator.settles == 0)
    }

    @Test func proofsForAnotherOriginOrTamperedAreRefused() async throws {
        let server = try Self.server(Self.facilitator())
        let f = fields {
            $0.domain = "evil.example.com"
            $0.uri = "https://evil.example.com/login"
        }
        let evil = try proof(f)
        let refused = await server.respond(to: Self.get("/login", [.signInWithX: evil.headerValue]), handler: Self.ok)
        #expect(try Self.error(of: refused) == ErrorReason.siwxDomainMismatch.rawValue)
        let garbage = await server.respond(to: Self.get("/login", [.signInWithX: "%%%"]), handler: Self.ok)
        #expect(try Self.error(of: garbage) == ErrorReason.siwxInvalidPayload.rawValue)
        var forged = try proof(
            fields {
                $0.uri = "https://api.example.com/login"
                $0.chainID = "eip155:84532"
            })
        forged.address = otherKey.address.checksummed
        let bad = await server.respond(to: Self.get("/login", [.signInWithX: forged.headerValue]), handler: Self.ok)
        #expect(try Self.error(of: bad) == ErrorReason.siwxSignature.rawValue)
    }

    @Test func aRouteWithSignInNeedsServerSettings() {
        var schemes = SchemeRegistry<any SchemeServer>()
        schemes.register(USDCServer(), networks: NetworkPattern(namespace: "eip155"))
        #expect(throws: RouteConfigurationError.self) {
            try ResourceServer(configuration: .init(routes: ["GET /login": .signInOnly()], facilitator: Self.facilitator(), schemes: schemes))
        }
        // An auth-only route has no networks to offer: the settings must name the chains.
        #expect(throws: RouteConfigurationError.self) {
            try ResourceServer(
                configuration: .init(
                    routes: ["GET /login": .signInOnly()], facilitator: Self.facilitator(), schemes: schemes,
                    signInWithX: try SignInWithX.Server(origin: Self.origin, verifiers: [EVMSignInVerifier()])))
        }
    }
}
