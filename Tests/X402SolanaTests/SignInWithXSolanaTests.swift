import Foundation
import HTTPTypes
import Testing
import X402
import X402TestSupport

@testable import X402Solana

private let keypair = try! SolanaKeypair(seed: [UInt8](repeating: 1, count: 32))
private let otherKeypair = try! SolanaKeypair(seed: [UInt8](repeating: 9, count: 32))
private let mainnet = Network.solanaMainnet.identifier
private let devnet = Network.solanaDevnet.identifier

private func fields(_ edit: (inout SignInFields) -> Void = { _ in }) -> SignInFields {
    var f = SignInFields(
        domain: "api.example.com", statement: "Sign in to access premium data", uri: "https://api.example.com/premium-data",
        chainID: mainnet, nonce: "a1b2c3d4e5f67890a1b2c3d4e5f67890", issuedAt: SignInTime.format(Date()),
        resources: ["https://api.example.com/premium-data"])
    edit(&f)
    return f
}

/// A proof of `f` signed by `signer`, claiming `address` (the signer's by default).
private func proof(by signer: SolanaKeypair = keypair, claiming address: String? = nil, _ f: SignInFields = fields()) throws -> SignInWithXProof {
    let address = address ?? signer.publicKey.base58
    let message = try SignInMessage.text(f, address: address)
    return SignInWithXProof(
        domain: f.domain, address: address, statement: f.statement, uri: f.uri, version: f.version, chainID: f.chainID, type: .ed25519,
        nonce: f.nonce, issuedAt: f.issuedAt, expirationTime: f.expirationTime, notBefore: f.notBefore, requestID: f.requestID,
        resources: f.resources, signature: signer.sign(Array(message.utf8)).base58)
}

/// `siws-vectors.json`, written by `Fixtures/siws_vectors.py` with solders (and checked there
/// against the x402 Python SDK's formatter and PyNaCl).
private enum SIWSVectors {
    static let all: [JSONValue] = {
        guard let url = Bundle.module.url(forResource: "Fixtures/siws-vectors", withExtension: "json"),
            let data = try? Data(contentsOf: url), let value = try? JSONValue(parsing: Array(data))
        else { return [] }
        return value["vectors"]?.arrayValue ?? []
    }()
}

@Suite struct SolanaSignInVerifierTests {
    let verifier = SolanaSignInVerifier()

    func reason(_ p: SignInWithXProof) async throws -> ErrorReason? {
        let message = try SignInMessage.text(p.fields, address: p.address)
        switch await verifier.verify(p, message: message) {
        case .success: return nil
        case .failure(let failure): return failure.reason
        }
    }

    @Test func aSignatureVerifiesToTheBase58Address() async throws {
        let p = try proof()
        let message = try SignInMessage.text(p.fields, address: p.address)
        #expect(try await verifier.verify(p, message: message).get() == keypair.publicKey.base58)
        #expect(verifier.namespace == "solana")
    }

    /// The independent vectors: the message text matches byte for byte, the signature made by
    /// solders verifies here, and this package's own signature is the same bytes (Ed25519 is
    /// deterministic).
    @Test func theIndependentVectors() async throws {
        #expect(SIWSVectors.all.count == 5)
        for v in SIWSVectors.all {
            let name = v["name"]?.stringValue ?? "?"
            let f = try #require(v["fields"])
            let seed = try #require(v["seed"]?.stringValue)
            let signer = try SolanaKeypair(seed: Hex.decode(seed))
            let address = try #require(v["address"]?.stringValue)
            #expect(signer.publicKey.base58 == address, "\(name)")
            let resources = f["resources"]?.arrayValue?.compactMap(\.stringValue)
            let fieldValues = SignInFields(
                domain: f["domain"]?.stringValue ?? "", statement: f["statement"]?.stringValue, uri: f["uri"]?.stringValue ?? "",
                version: f["version"]?.stringValue ?? "", chainID: f["chainId"]?.stringValue ?? "", nonce: f["nonce"]?.stringValue ?? "",
                issuedAt: f["issuedAt"]?.stringValue ?? "", expirationTime: f["expirationTime"]?.stringValue,
                notBefore: f["notBefore"]?.stringValue, requestID: f["requestId"]?.stringValue, resources: resources)
            let message = try SignInMessage.text(fieldValues, address: address)
            #expect(message == v["message"]?.stringValue, "\(name)")
            let signature = try #require(v["signature"]?.stringValue)
            #expect(try await SolanaSignInSigner(keypair: signer).signMessage(message) == signature, "\(name)")
            let p = SignInWithXProof(
                domain: fieldValues.domain, address: address, statement: fieldValues.statement, uri: fieldValues.uri,
                version: fieldValues.version, chainID: fieldValues.chainID, type: .ed25519, nonce: fieldValues.nonce,
                issuedAt: fieldValues.issuedAt, expirationTime: fieldValues.expirationTime, notBefore: fieldValues.notBefore,
                requestID: fieldValues.requestID, resources: resources, signature: signature)
            #expect(try await verifier.verify(p, message: message).get() == address, "\(name)")
        }
    }

    @Test func withoutAStatementTheTextHasOneEmptyLine() throws {
        let text = try SignInMessage.text(fields { $0.statement = nil }, address: keypair.publicKey.base58)
        #expect(text.contains("\(keypair.publicKey.base58)\n\nURI: "))
        #expect(!text.contains("\n\n\n"))
    }

    /// As the Python SDK's `format_siws_message`: an empty statement or request id adds no line.
    @Test func emptyStatementAndRequestIDAreNoLines() throws {
        let address = keypair.publicKey.base58
        let without = try SignInMessage.text(fields { $0.statement = nil }, address: address)
        #expect(try SignInMessage.text(fields { $0.statement = "" }, address: address) == without)
        #expect(
            try SignInMessage.text(
                fields {
                    $0.statement = nil
                    $0.requestID = ""
                }, address: address) == without)
        #expect(try SignInMessage.text(fields { $0.requestID = "r1" }, address: address).contains("\nRequest ID: r1\n"))
    }

    @Test func malformedSignaturesAndAddresses() async throws {
        let good = try proof()
        var p = good
        p.signature = "0x" + String(repeating: "ab", count: 64)  // hex, not base58
        #expect(try await reason(p) == .siwxMalformedSignature)
        p.signature = Base58.encode([UInt8](repeating: 7, count: 63))
        #expect(try await reason(p) == .siwxMalformedSignature)
        p.signature = Base58.encode([UInt8](repeating: 7, count: 65))
        #expect(try await reason(p) == .siwxMalformedSignature)
        p.signature = ""
        #expect(try await reason(p) == .siwxMalformedSignature)
        p.signature = String(repeating: "z", count: 4000)  // bounded: refused before any quadratic work
        #expect(try await reason(p) == .siwxMalformedSignature)

        p = try proof(claiming: Base58.encode([UInt8](repeating: 5, count: 31)))
        #expect(try await reason(p) == .siwxMalformedSignature)
        p = try proof(claiming: keypair.publicKey.checksumlessEVMStyle)
        #expect(try await reason(p) == .siwxMalformedSignature)
        // The same 32 bytes with a leading zero byte's "1" added: not canonical, not the account.
        p = try proof(claiming: "1" + keypair.publicKey.base58)
        #expect(try await reason(p) == .siwxMalformedSignature)
    }

    @Test func aSignatureByAnotherKeyOrOverOtherTextIsRefused() async throws {
        // Signed by another key, claiming ours.
        #expect(try await reason(try proof(by: otherKeypair, claiming: keypair.publicKey.base58)) == .siwxSignature)
        // Fields changed after signing (the text is rebuilt from the proof).
        for edit: (inout SignInWithXProof) -> Void in [
            { $0.nonce = "ffffffffffffffffffffffffffffffff" }, { $0.uri = "https://api.example.com/other" },
            { $0.statement = nil }, { $0.chainID = devnet }, { $0.expirationTime = "2099-01-01T00:00:00.000Z" },
            { $0.resources = nil }, { $0.domain = "API.example.com" },
        ] {
            var p = try proof()
            edit(&p)
            #expect(try await reason(p) == .siwxSignature)
        }
        // A bit flipped in the signature.
        var p = try proof()
        var bytes = try Base58.decode(p.signature)
        bytes[10] ^= 1
        p.signature = Base58.encode(bytes)
        #expect(try await reason(p) == .siwxSignature)
    }

    /// A small-order public key with R = identity and S = 0 satisfies the Ed25519 equation for
    /// every message under a cofactorless check; such keys are refused before any check.
    @Test(arguments: Ed25519Curve.smallOrderY)
    func smallOrderKeysAreRefused(_ y: [UInt8]) async throws {
        #expect(Ed25519Curve.hasSmallOrder(y))
        var negated = y
        negated[31] |= 0x80
        #expect(Ed25519Curve.hasSmallOrder(negated))
        let identity = [0x01] + [UInt8](repeating: 0, count: 31)
        let forged = Base58.encode(identity + [UInt8](repeating: 0, count: 32))
        for key in [y, negated] {
            var p = try proof(claiming: Base58.encode(key))
            p.signature = forged
            let r = try await reason(p)
            #expect(r == .siwxSignature || r == .siwxMalformedSignature)
        }
        #expect(!Ed25519Curve.hasSmallOrder(keypair.publicKey.bytes))
    }

    @Test(arguments: ["solana:", "solana:has space", "solana:0OIl", "solana:" + String(repeating: "a", count: 33), "eip155:8453"])
    func malformedChainIDs(_ chainID: String) async throws {
        var p = try proof()
        p.chainID = chainID
        let message = (try? SignInMessage.text(p.fields, address: p.address)) ?? ""
        guard case .failure(let failure) = await verifier.verify(p, message: message) else {
            Issue.record("\(chainID) was accepted")
            return
        }
        #expect(failure.reason == .siwxChainID)
    }
}

extension SolanaPublicKey {
    /// Not an address at all: the key's bytes as `0x` hex.
    fileprivate var checksumlessEVMStyle: String { "0x" + bytes.map { String(format: "%02x", $0) }.joined() }
}

/// The seller side with the Solana verifier: the declaration, the reference reasons for every
/// refused proof, grants keyed on the base58 account.
@Suite struct SolanaSignInServerTests {
    static let origin = "https://api.example.com"

    /// An EVM-namespace verifier that accepts nothing (to check which chains are offered).
    struct NoEVM: SignInSignatureVerifier {
        let namespace = "eip155"
        func verify(_ proof: SignInWithXProof, message: String) async -> Result<String, SignInWithXFailure> {
            .failure(SignInWithXFailure(.siwxSignature, "no"))
        }
    }

    static func settings(store: any SignInAccessStore = InMemorySignInAccessStore(), chains: [String] = [devnet]) throws -> SignInWithX.Server {
        try SignInWithX.Server(origin: origin, verifiers: [SolanaSignInVerifier()], store: store, statement: "Sign in", chains: chains)
    }

    @Test func theDeclarationOffersTheRoutesSolanaChainsAsEd25519() throws {
        let server = try SignInWithX.Server(origin: Self.origin, verifiers: [NoEVM(), SolanaSignInVerifier()])
        let declaration = server.declaration(path: "/report", networks: ["eip155:8453", devnet, mainnet, devnet])
        #expect(
            declaration["supportedChains"] == [
                ["chainId": "eip155:8453", "type": "eip191"], ["chainId": .string(devnet), "type": "ed25519"],
                ["chainId": .string(mainnet), "type": "ed25519"],
            ])
        // Without the Solana verifier, Solana networks are not offered.
        let evmOnly = try SignInWithX.Server(origin: Self.origin, verifiers: [NoEVM()])
        #expect(evmOnly.declaration(path: "/report", networks: [devnet])["supportedChains"] == [])
    }

    @Test func aChallengeIsAnsweredWithTheFirstSolanaChainAndVerifies() async throws {
        let server = try SignInWithX.Server(origin: Self.origin, verifiers: [NoEVM(), SolanaSignInVerifier()])
        let declaration = server.declaration(path: "/report", networks: ["eip155:8453", devnet, mainnet])
        let challenge = try #require(SignInChallenge(extensions: [SignInWithX.extensionKey: declaration]))
        let p = try await challenge.proof(signer: SolanaSignInSigner(keypair: keypair), responseURL: Self.origin + "/report")
        #expect(p.chainID == devnet)
        #expect(p.type == .ed25519)
        #expect(p.address == keypair.publicKey.base58)
        let decoded = try SignInWithXProof(headerValue: p.headerValue)
        #expect(try await server.verify(decoded, now: Date(), networks: ["eip155:8453", devnet, mainnet]) == keypair.publicKey.base58)
    }

    /// Every refusal the server makes before or after the signature, with its reference reason.
    @Test func refusedProofsCarryTheReferenceReasons() async throws {
        let now = Date()
        let server = try Self.settings()
        func reason(_ p: SignInWithXProof, networks: [String]? = [devnet]) async -> ErrorReason? {
            do {
                _ = try await server.verify(p, now: now, networks: networks)
                return nil
            } catch { return error.reason }
        }
        let base = fields {
            $0.chainID = devnet
            $0.issuedAt = SignInTime.format(now)
        }
        #expect(await reason(try proof(base)) == nil)
        let cases: [(ErrorReason, (inout SignInFields) -> Void)] = [
            (.siwxDomainMismatch, { $0.domain = "evil.example.com" }),
            (.siwxURIMismatch, { $0.uri = "https://evil.example.com/premium-data" }),
            (.siwxURIMismatch, { $0.uri = "http://api.example.com/premium-data" }),
            (.siwxIssuedAt, { $0.issuedAt = "yesterday" }),
            (.siwxIssuedAtTooOld, { $0.issuedAt = SignInTime.format(now.addingTimeInterval(-301)) }),
            (.siwxIssuedAtInFuture, { $0.issuedAt = SignInTime.format(now.addingTimeInterval(60)) }),
            (.siwxExpirationTime, { $0.expirationTime = "soon" }),
            (.siwxExpired, { $0.expirationTime = SignInTime.format(now.addingTimeInterval(-1)) }),
            (.siwxNotBefore, { $0.notBefore = "later" }),
            (.siwxNotYetValid, { $0.notBefore = SignInTime.format(now.addingTimeInterval(60)) }),
            (.siwxNonce, { $0.nonce = "short" }),
            (.siwxNonce, { $0.nonce = "not-alpha-numeric!" }),
            // A chain the route does not offer (mainnet on a devnet route), signed correctly.
            (.siwxUnsupportedChain, { $0.chainID = mainnet }),
            (.siwxUnsupportedChain, { $0.chainID = "cosmos:cosmoshub-4" }),
        ]
        for (expected, edit) in cases {
            var f = base
            edit(&f)
            let p =
                (try? proof(f))
                ?? SignInWithXProof(
                    domain: f.domain, address: keypair.publicKey.base58, uri: f.uri, chainID: f.chainID, type: .ed25519, nonce: f.nonce,
                    issuedAt: f.issuedAt, signature: "x")
            #expect(await reason(p) == expected, "\(expected)")
        }
        // A Solana chain with the EVM signature type, and the other way round.
        var typed = try proof(base)
        typed.type = .eip191
        #expect(await reason(typed) == .siwxUnsupportedChain)
        // Without the route's networks (`nil`) any chain with a verifier is taken.
        #expect(
            await reason(
                try proof(
                    fields {
                        $0.chainID = mainnet
                        $0.issuedAt = SignInTime.format(now)
                    }), networks: nil) == nil)
        // Undecodable headers.
        for header in ["%%%", PaymentHeader.encode(["domain": "api.example.com"]), String(repeating: "A", count: 9000)] {
            #expect(throws: SignInWithXFailure.self) { try SignInWithXProof(headerValue: header) }
        }
        // An unknown signature type is an unreadable proof.
        var json = try #require(try proof(base).json.objectValue)
        json["type"] = "sr25519"
        do {
            _ = try SignInWithXProof(headerValue: PaymentHeader.encode(.object(json)))
            Issue.record("an sr25519 proof was decoded")
        } catch { #expect(error.reason == .siwxInvalidPayload) }
    }

    /// Without configured chains, a route's 402 offers its own Solana network for sign-in (and no
    /// chain without a verifier); a proof for another Solana cluster is refused.
    @Test func aRouteAcceptingSolanaOffersItsNetwork() async throws {
        let facilitator = ScriptedFacilitator(
            supported: .success(
                SupportedResponse(kinds: [
                    SupportedKind(x402Version: .v2, scheme: "exact", network: devnet, extra: ["feePayer": .string(otherKeypair.publicKey.base58)])
                ])))
        var schemes = SchemeRegistry<any SchemeServer>()
        schemes.registerExactSVM()
        let route = PaidRoute(
            accepts: [.exact("$0.01", on: .solanaDevnet, payTo: .fixed(otherKeypair.publicKey.base58))], description: "Report",
            signIn: .afterPayment(period: .seconds(60)))
        let server = try ResourceServer(
            configuration: .init(
                routes: ["GET /report": route], facilitator: facilitator, schemes: schemes,
                signInWithX: try SignInWithX.Server(origin: Self.origin, verifiers: [SolanaSignInVerifier()])))
        let request = ServerRequest(method: .get, path: "/report", headers: [.hostHeader: "api.example.com"], url: Self.origin + "/report")
        let unpaid = await server.respond(to: request) { _ in ServerResponse(status: .ok) }
        let required = try PaymentRequired(headerValue: try #require(unpaid.headers[.paymentRequired]))
        #expect(required.extensions?[SignInWithX.extensionKey]?["supportedChains"] == [["chainId": .string(devnet), "type": "ed25519"]])

        let p = try proof(
            fields {
                $0.chainID = mainnet
                $0.uri = Self.origin + "/report"
            })
        var headers = request.headers
        headers[.signInWithX] = p.headerValue
        let refused = await server.respond(to: ServerRequest(method: .get, path: "/report", headers: headers, url: request.url)) { _ in
            ServerResponse(status: .ok)
        }
        #expect(try PaymentRequired(headerValue: try #require(refused.headers[.paymentRequired])).error == ErrorReason.siwxUnsupportedChain.rawValue)
    }

    /// In a resource server: auth-only sign-in, a paid grant keyed on the exact base58 account, a
    /// replayed proof refused, access ending with the grant.
    @Test func theResourceServerGrantsByBase58Account() async throws {
        let store = InMemorySignInAccessStore()
        let facilitator = ScriptedFacilitator(
            supported: .success(
                SupportedResponse(kinds: [
                    SupportedKind(x402Version: .v2, scheme: "exact", network: devnet, extra: ["feePayer": .string(otherKeypair.publicKey.base58)])
                ])))
        var schemes = SchemeRegistry<any SchemeServer>()
        schemes.registerExactSVM()
        let routes: RouteTable = [
            "GET /report": PaidRoute(
                accepts: [.exact("$0.01", on: .solanaDevnet, payTo: .fixed(otherKeypair.publicKey.base58))], description: "Report",
                signIn: .afterPayment(period: .seconds(3600))),
            "GET /login": .signInOnly(description: "Members"),
        ]
        let server = try ResourceServer(
            configuration: .init(routes: routes, facilitator: facilitator, schemes: schemes, signInWithX: try Self.settings(store: store)))
        func get(_ path: String, _ extra: HTTPFields = [:]) -> ServerRequest {
            var headers: HTTPFields = [.hostHeader: "api.example.com"]
            headers.append(contentsOf: extra)
            return ServerRequest(method: .get, path: path, headers: headers, url: Self.origin + path)
        }
        let ok: @Sendable (ServerRequest) async -> ServerResponse = { _ in ServerResponse(status: .ok, body: Array("secret".utf8)) }
        func signedIn(_ path: String, _ signer: SolanaKeypair) async throws -> ServerRequest {
            let unpaid = await server.respond(to: get(path), handler: ok)
            let required = try PaymentRequired(headerValue: try #require(unpaid.headers[.paymentRequired]))
            let ext = try #require(required.extensions?[SignInWithX.extensionKey])
            #expect(ext["supportedChains"] == [["chainId": .string(devnet), "type": "ed25519"]])
            let challenge = try #require(SignInChallenge(extensions: required.extensions))
            let p = try await challenge.proof(signer: SolanaSignInSigner(keypair: signer), responseURL: Self.origin + path)
            return get(path, [.signInWithX: p.headerValue])
        }
        func error(_ r: ServerResponse) throws -> String? { try PaymentRequired(headerValue: try #require(r.headers[.paymentRequired])).error }

        #expect(await server.respond(to: try await signedIn("/login", otherKeypair), handler: ok).status == .ok)

        let early = await server.respond(to: try await signedIn("/report", keypair), handler: ok)
        #expect(try error(early) == ErrorReason.siwxNoAccess.rawValue)
        // What the server records after a settlement whose payer is the Solana account.
        try await store.recordGrant(
            SignInGrant(
                resource: "/report", account: SignInGrant.canonicalAccount(keypair.publicKey.base58), expiresAt: Date().addingTimeInterval(60)))
        let request = try await signedIn("/report", keypair)
        let served = await server.respond(to: request, handler: ok)
        #expect(served.status == .ok)
        #expect(served.headers[.paymentResponse] == nil)
        let replay = await server.respond(to: request, handler: ok)
        #expect(try error(replay) == ErrorReason.siwxNonce.rawValue)
        // Base58 is case-sensitive: a grant for the upper-cased text is another account.
        let upper = InMemorySignInAccessStore()
        try await upper.recordGrant(SignInGrant(resource: "/report", account: keypair.publicKey.base58.uppercased(), expiresAt: .distantFuture))
        #expect(try await upper.hasAccess(resource: "/report", account: keypair.publicKey.base58, now: Date()) == false)
        #expect(await facilitator.verifies == 0)
        #expect(await facilitator.settles == 0)
    }
}
