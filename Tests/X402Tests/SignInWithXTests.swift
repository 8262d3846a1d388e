import Foundation
import Testing

@testable import X402

/// The spec's example fields (§2.1) as a client completes them for `eip155:8453`.
private func exampleFields(statement: String? = "Sign in to access premium data", chain: String = "eip155:8453") -> SignInFields {
    SignInFields(
        domain: "api.example.com", statement: statement, uri: "https://api.example.com/premium-data", version: "1", chainID: chain,
        nonce: "a1b2c3d4e5f67890a1b2c3d4e5f67890", issuedAt: "2024-01-15T10:30:00.000Z", expirationTime: "2024-01-15T10:35:00.000Z",
        resources: ["https://api.example.com/premium-data"])
}

private let exampleAddress = "0x857b06519E91e3A54538791bDbb0E22373e36b66"

@Suite struct SignInMessageTests {
    @Test func ethereumMessageIsByteExact() throws {
        let text = try SignInMessage.text(exampleFields(), address: exampleAddress)
        #expect(
            text == """
                api.example.com wants you to sign in with your Ethereum account:
                0x857b06519E91e3A54538791bDbb0E22373e36b66

                Sign in to access premium data

                URI: https://api.example.com/premium-data
                Version: 1
                Chain ID: 8453
                Nonce: a1b2c3d4e5f67890a1b2c3d4e5f67890
                Issued At: 2024-01-15T10:30:00.000Z
                Expiration Time: 2024-01-15T10:35:00.000Z
                Resources:
                - https://api.example.com/premium-data
                """)
        #expect(!text.hasSuffix("\n"))
    }

    @Test func ethereumWithoutStatementKeepsTwoEmptyLines() throws {
        var fields = exampleFields(statement: nil)
        fields.expirationTime = nil
        fields.resources = nil
        let text = try SignInMessage.text(fields, address: exampleAddress)
        #expect(text.contains("\(exampleAddress)\n\n\nURI: https://api.example.com/premium-data\n"))
        #expect(text.hasSuffix("Issued At: 2024-01-15T10:30:00.000Z"))
    }

    @Test func optionalLinesComeInOrder() throws {
        var fields = exampleFields()
        fields.notBefore = "2024-01-15T10:29:00.000Z"
        fields.requestID = "req-7"
        fields.resources = ["https://a.example/1", "ipfs://x"]
        let text = try SignInMessage.text(fields, address: exampleAddress)
        #expect(
            text.hasSuffix(
                "Expiration Time: 2024-01-15T10:35:00.000Z\nNot Before: 2024-01-15T10:29:00.000Z\nRequest ID: req-7\nResources:\n- https://a.example/1\n- ipfs://x"
            ))
    }

    @Test func solanaMessageHasOneEmptyLineWithoutStatement() throws {
        let chain = "solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp"
        var fields = exampleFields(statement: nil, chain: chain)
        fields.expirationTime = nil
        fields.resources = nil
        let address = "9WzDXwBbmkg8ZTbNMqUxvQRAyrZzDsGYdLVL9zYtAWWM"
        #expect(
            try SignInMessage.text(fields, address: address)
                == "api.example.com wants you to sign in with your Solana account:\n\(address)\n\nURI: https://api.example.com/premium-data\nVersion: 1\nChain ID: 5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp\nNonce: a1b2c3d4e5f67890a1b2c3d4e5f67890\nIssued At: 2024-01-15T10:30:00.000Z"
        )
        let withStatement = try SignInMessage.text(exampleFields(chain: chain), address: address)
        #expect(withStatement.contains("\(address)\n\nSign in to access premium data\n\nURI: "))
        #expect(withStatement.hasPrefix("api.example.com wants you to sign in with your Solana account:\n"))
    }

    @Test(arguments: ["eip155:", "eip155:0x1", "eip155:12a", "eip155:-1", "eip155:1234567890123456789", "eip155: 1"])
    func malformedEVMChainIDs(_ chain: String) {
        #expect(throws: SignInWithXFailure(.siwxChainID, "chain id must be eip155:<decimal>")) {
            try SignInMessage.text(exampleFields(chain: chain), address: exampleAddress)
        }
    }

    @Test func unknownNamespacesAreUnsupported() {
        #expect(throws: SignInWithXFailure.self) { try SignInMessage.text(exampleFields(chain: "cosmos:hub"), address: "x") }
        do {
            _ = try SignInMessage.text(exampleFields(chain: "cosmos:hub"), address: "x")
        } catch {
            #expect(error.reason == .siwxUnsupportedChain)
        }
    }
}

@Suite struct SignInTimeTests {
    @Test func parsesTheForms() throws {
        let base = try #require(SignInTime.parse("2024-01-15T10:30:00.000Z"))
        #expect(base.timeIntervalSince1970 == 1_705_314_600)
        #expect(SignInTime.parse("2024-01-15T10:30:00Z") == base)
        #expect(try #require(SignInTime.parse("2024-01-15T10:30:00.123456Z")).timeIntervalSince1970 - 1_705_314_600 > 0.1234)
        #expect(SignInTime.parse("2024-01-15T12:30:00+02:00") == base)
        #expect(SignInTime.parse("2024-01-15T05:00:00-05:30") == base)
        #expect(SignInTime.parse("2024-02-29T00:00:00Z") != nil)
    }

    @Test(arguments: [
        "", "2024-01-15", "2024-01-15T10:30:00", "2024-13-15T10:30:00Z", "2023-02-29T00:00:00Z", "2024-01-15T24:00:00Z",
        "2024-01-15T10:60:00Z", "2024-01-15T10:30:60Z", "2024-01-15T10:30:00.Z", "2024-01-15T10:30:00.1234567890Z",
        "2024-01-15T10:30:00+2:00", "2024-01-15 10:30:00Z", "1969-12-31T23:59:59Z", "２024-01-15T10:30:00Z",
        "2024-01-15T10:30:00.000Zjunk", String(repeating: "9", count: 100),
    ])
    func refusesMalformedTimes(_ text: String) {
        #expect(SignInTime.parse(text) == nil)
    }

    @Test func formatsLikeJavaScript() throws {
        #expect(SignInTime.format(Date(timeIntervalSince1970: 1_705_314_600.0456)) == "2024-01-15T10:30:00.045Z")
        #expect(SignInTime.format(Date(timeIntervalSince1970: 0)) == "1970-01-01T00:00:00.000Z")
        let now = Date()
        let text = SignInTime.format(now)
        #expect(abs(try #require(SignInTime.parse(text)).timeIntervalSince(now)) < 0.001)
    }
}

@Suite struct SignInProofDecodingTests {
    static let proof = SignInWithXProof(
        domain: "api.example.com", address: exampleAddress, statement: "hi", uri: "https://api.example.com/x", chainID: "eip155:8453",
        type: .eip191, nonce: "a1b2c3d4e5f67890", issuedAt: "2024-01-15T10:30:00.000Z", resources: ["https://api.example.com/x"],
        signature: "0x" + String(repeating: "ab", count: 65))

    @Test func roundTripsThroughTheHeader() throws {
        let decoded = try SignInWithXProof(headerValue: Self.proof.headerValue)
        #expect(decoded == Self.proof)
        #expect(String(decoding: Self.proof.jsonBytes(), as: UTF8.self).hasPrefix("{\"domain\":\"api.example.com\",\"address\":"))
    }

    static func header(_ edit: (inout JSONObject) -> Void) -> String {
        guard case .object(var o) = proof.json else { return "" }
        edit(&o)
        return PaymentHeader.encode(.object(o))
    }

    @Test func malformedHeadersAreInvalidPayloads() {
        var cases: [String] = [
            "not base64!", Base64.encode(Array("not json".utf8)), Base64.encode(Array("[1]".utf8)),
            String(repeating: "A", count: SignInWithX.maximumHeaderLength + 4),
            Self.header { $0["address"] = nil }, Self.header { $0["signature"] = 5 }, Self.header { $0["type"] = "rsa" },
            Self.header { $0["resources"] = "https://x" }, Self.header { $0["resources"] = [1] },
            Self.header { $0["resources"] = .array(Array(repeating: "https://x", count: 17)) },
            Self.header { $0["statement"] = .string(String(repeating: "s", count: 1025)) },
            Self.header { $0["nonce"] = nil }, Self.header { $0["issuedAt"] = .null },
        ]
        cases.append(Self.header { $0["chainId"] = ["eip155", 1] })
        for value in cases {
            do {
                _ = try SignInWithXProof(headerValue: value)
                Issue.record("accepted \(value.prefix(60))")
            } catch {
                #expect(error.reason == .siwxInvalidPayload)
            }
        }
    }
}

/// A verifier that accepts exactly one signature text: the server-side checks around the
/// signature are what these tests exercise (the EVM verifier has its own tests in X402EVMTests).
private struct FixedVerifier: SignInSignatureVerifier {
    let namespace = "eip155"
    func verify(_ proof: SignInWithXProof, message: String) async -> Result<String, SignInWithXFailure> {
        proof.signature == "0xgood" ? .success(proof.address.lowercased()) : .failure(SignInWithXFailure(.siwxSignature, "bad"))
    }
}

@Suite struct SignInValidationTests {
    static func server() throws -> SignInWithX.Server {
        try SignInWithX.Server(origin: "https://api.example.com", verifiers: [FixedVerifier()])
    }

    static let now = Date(timeIntervalSince1970: 1_705_314_660)  // 60 s after issuedAt

    static func proof(_ edit: (inout SignInWithXProof) -> Void = { _ in }) -> SignInWithXProof {
        var p = SignInWithXProof(
            domain: "api.example.com", address: exampleAddress, uri: "https://api.example.com/premium-data", chainID: "eip155:8453",
            type: .eip191, nonce: "a1b2c3d4e5f67890", issuedAt: "2024-01-15T10:30:00.000Z", expirationTime: "2024-01-15T10:35:00.000Z",
            signature: "0xgood")
        edit(&p)
        return p
    }

    @Test func aGoodProofVerifies() async throws {
        #expect(try await Self.server().verify(Self.proof(), now: Self.now) == exampleAddress.lowercased())
    }

    static let refusals: [(ErrorReason, @Sendable (inout SignInWithXProof) -> Void)] = [
        (ErrorReason.siwxDomainMismatch, { p in p.domain = "evil.example.com" }),
        (.siwxDomainMismatch, { $0.domain = "api.example.com:8443" }),
        (.siwxURIMismatch, { $0.uri = "https://evil.example.com/premium-data" }),
        (.siwxURIMismatch, { $0.uri = "http://api.example.com/premium-data" }),
        (.siwxURIMismatch, { $0.uri = "https://api.example.com.evil.com/x" }),
        (.siwxURIMismatch, { $0.uri = "https://user@api.example.com/x" }),
        (.siwxURIMismatch, { $0.uri = "/premium-data" }),
        (.siwxURIMismatch, { $0.uri = "ftp://api.example.com/x" }),
        (.siwxIssuedAt, { $0.issuedAt = "yesterday" }),
        (.siwxIssuedAtTooOld, { $0.issuedAt = "2024-01-15T10:25:59.000Z" }),
        (.siwxIssuedAtInFuture, { $0.issuedAt = "2024-01-15T10:31:05.001Z" }),
        (.siwxExpirationTime, { $0.expirationTime = "soon" }),
        (.siwxExpired, { $0.expirationTime = "2024-01-15T10:30:59.000Z" }),
        (.siwxNotBefore, { $0.notBefore = "later" }),
        (.siwxNotYetValid, { $0.notBefore = "2024-01-15T10:31:30.000Z" }),
        (.siwxNonce, { $0.nonce = "short" }),
        (.siwxNonce, { $0.nonce = "has spaces in it" }),
        (.siwxNonce, { $0.nonce = String(repeating: "a", count: 129) }),
        (.siwxUnsupportedChain, { $0.chainID = "solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp" }),
        (.siwxUnsupportedChain, { $0.chainID = "eip155" }),
        (.siwxUnsupportedChain, { $0.type = .ed25519 }),
        (.siwxChainID, { $0.chainID = "eip155:base" }),
        (.siwxSignature, { $0.signature = "0xbad" }),
        (.siwxInvalidPayload, { $0.version = "2" }),
        // A field that leaves its line could pose as other lines of the signed message.
        (.siwxInvalidPayload, { $0.statement = "Sign in\nURI: https://evil.example.com/" }),
        (.siwxInvalidPayload, { $0.uri = "https://api.example.com/premium-data\nNonce: 0000000000000000" }),
        (.siwxInvalidPayload, { $0.resources = ["https://api.example.com/a", "b\r- c"] }),
        (.siwxInvalidPayload, { $0.requestID = "r\u{2028}1" }),
        (.siwxInvalidPayload, { $0.statement = "tab\there" }),
        (.siwxInvalidPayload, { $0.statement = "c1 \u{85} control" }),
    ]

    @Test(arguments: 0..<refusals.count)
    func refusesWithTheReferenceReason(_ index: Int) async throws {
        let (reason, edit) = Self.refusals[index]
        let server = try Self.server()
        do {
            _ = try await server.verify(Self.proof(edit), now: Self.now)
            Issue.record("accepted a proof that should fail with \(reason)")
        } catch {
            #expect(error.reason == reason, "\(error)")
        }
    }

    @Test func aSmallClockDifferenceBetweenInstancesIsTolerated() async throws {
        let proof = Self.proof { $0.issuedAt = "2024-01-15T10:31:04.000Z" }  // 4 s ahead of `now`
        #expect(try await Self.server().verify(proof, now: Self.now) == exampleAddress.lowercased())
    }

    @Test func originsMustBePlainHTTPOrigins() {
        for bad in ["api.example.com", "https://api.example.com/path", "ftp://api.example.com", "https://u:p@api.example.com", "https://"] {
            #expect(throws: SignInWithXFailure.self, "\(bad)") { try SignInWithX.Server(origin: bad, verifiers: []) }
        }
        #expect(throws: Never.self) { try SignInWithX.Server(origin: "http://127.0.0.1:8080/", verifiers: []) }
    }

    @Test func theDomainIsTheOriginsAuthority() throws {
        let server = try SignInWithX.Server(origin: "http://LocalHost:8080", verifiers: [FixedVerifier()])
        #expect(server.origin == "http://localhost:8080")
        #expect(server.domain == "localhost:8080")
    }

    @Test func declarationsAreFreshAndOfferOnlyVerifiableChains() throws {
        var server = try Self.server()
        server.statement = "Sign in"
        let now = Date(timeIntervalSince1970: 1_705_314_600)
        let one = server.declaration(
            path: "/premium-data", networks: ["eip155:8453", "solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp", "eip155:8453"], now: now)
        let two = server.declaration(path: "/premium-data", networks: ["eip155:8453"], now: now)
        let info = try #require(one["info"]?.objectValue)
        #expect(info["domain"] == "api.example.com")
        #expect(info["uri"] == "https://api.example.com/premium-data")
        #expect(info["version"] == "1")
        #expect(info["issuedAt"] == "2024-01-15T10:30:00.000Z")
        #expect(info["expirationTime"] == "2024-01-15T10:35:00.000Z")
        #expect(info["statement"] == "Sign in")
        #expect(info["resources"] == ["https://api.example.com/premium-data"])
        let nonce = try #require(info["nonce"]?.stringValue)
        #expect(nonce.count == 32 && nonce.allSatisfy { $0.isHexDigit && !$0.isUppercase })
        #expect(nonce != two["info"]?["nonce"]?.stringValue)
        #expect(one["supportedChains"] == [["chainId": "eip155:8453", "type": "eip191"]])
        #expect(one["schema"]?["required"]?.arrayValue?.count == 9)
    }

    @Test func theClientRefusesChallengesBoundToAnotherOrigin() async throws {
        let server = try Self.server()
        let declaration = server.declaration(path: "/premium-data", networks: ["eip155:8453"])
        let challenge = try #require(SignInChallenge(extensions: [SignInWithX.extensionKey: declaration]))
        struct Signer: SignInSigner {
            let signatureType = SignInSignatureType.eip191
            let address = exampleAddress
            func signMessage(_ message: String) async throws -> String { "0xgood" }
        }
        let proof = try await challenge.proof(signer: Signer(), responseURL: "https://api.example.com/premium-data?x=1")
        #expect(proof.chainID == "eip155:8453")
        #expect(try await server.verify(proof, now: Date()) == exampleAddress.lowercased())
        await #expect(throws: SignInWithXFailure.self) {
            try await challenge.proof(signer: Signer(), responseURL: "https://evil.example.com/premium-data")
        }
        await #expect(throws: SignInWithXFailure.self) {
            try await challenge.proof(signer: Signer(), responseURL: "http://api.example.com/premium-data")
        }
        struct SolanaSigner: SignInSigner {
            let signatureType = SignInSignatureType.ed25519
            let address = "9WzDXwBbmkg8ZTbNMqUxvQRAyrZzDsGYdLVL9zYtAWWM"
            func signMessage(_ message: String) async throws -> String { "sig" }
        }
        await #expect(throws: SignInWithXFailure.self) {
            try await challenge.proof(signer: SolanaSigner(), responseURL: "https://api.example.com/premium-data")
        }
    }
}

/// Which of a buyer's wallets signs in: the one that paid, among those the server offers.
@Suite struct SignInWalletChoiceTests {
    struct Wallet: SignInSigner {
        let signatureType: SignInSignatureType
        let address: String
        func signMessage(_ message: String) async throws -> String { "sig" }
    }

    static let evm = Wallet(signatureType: .eip191, address: "0xAbCdEf0123456789aBcDeF0123456789AbCdEf01")
    static let solana = Wallet(signatureType: .ed25519, address: "9WzDXwBbmkg8ZTbNMqUxvQRAyrZzDsGYdLVL9zYtAWWM")

    static func challenge(_ chains: [(String, String)]) throws -> SignInChallenge {
        let supported: [JSONValue] = chains.map { .object(["chainId": .string($0.0), "type": .string($0.1)]) }
        let declaration: JSONObject = ["info": ["domain": "api.example.com"], "supportedChains": .array(supported)]
        return try #require(SignInChallenge(extensions: [SignInWithX.extensionKey: .object(declaration)]))
    }

    @Test func theWalletThatPaidSignsIn() throws {
        let both = try Self.challenge([("eip155:8453", "eip191"), ("solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp", "ed25519")])
        let wallets: [any SignInSigner] = [Self.evm, Self.solana]
        // Paid with the Solana keypair: it signs in, though the EVM key comes first.
        #expect(both.signer(among: wallets, payers: [Self.solana.address])?.address == Self.solana.address)
        // Paid with the EVM key, whatever the case of the receipt's address.
        #expect(both.signer(among: wallets, payers: [Self.evm.address.lowercased()])?.address == Self.evm.address)
        // A receipt that named no payer counts for the first wallet only.
        #expect(both.signer(among: wallets, payers: [nil])?.address == Self.evm.address)
        // A payer that is none of these wallets: nobody signs in (the flow pays).
        #expect(both.signer(among: wallets, payers: ["0x1111111111111111111111111111111111111111"]) == nil)
        // Base58 is compared exactly.
        #expect(both.signer(among: [Self.solana], payers: [Self.solana.address.lowercased()]) == nil)
        // A route that takes no payment: the first wallet the server accepts.
        #expect(both.signer(among: wallets, payers: nil)?.address == Self.evm.address)
    }

    @Test func onlyChainTypesTheServerOffers() throws {
        let solanaOnly = try Self.challenge([("solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp", "ed25519")])
        let wallets: [any SignInSigner] = [Self.evm, Self.solana]
        #expect(solanaOnly.signer(among: wallets, payers: nil)?.address == Self.solana.address)
        // The EVM key paid, but the server only takes Solana sign-ins: nobody signs in.
        #expect(solanaOnly.signer(among: wallets, payers: [Self.evm.address]) == nil)
        // A receipt without a payer counts for the first wallet, which this server cannot take.
        #expect(solanaOnly.signer(among: wallets, payers: [nil]) == nil)
    }

    @Test func theLedgerNamesThePayersOfSettledPaymentsForTheResource() async throws {
        func record(_ resource: String, _ status: SpendRecord.Status, payer: String?) -> SpendRecord {
            SpendRecord(
                wallet: "buyer", createdAt: Date(), resource: resource, version: .v2, scheme: "exact", network: "eip155:8453",
                asset: "0xA", payTo: "0xB", amount: "1", value: .zero, status: status, payer: payer)
        }
        let ledger = InMemorySpendLedger(records: [
            record("https://api.example.com/report?day=1", .settled, payer: Self.solana.address),
            record("https://api.example.com/report", .failed, payer: Self.evm.address),
            record("https://api.example.com/other", .settled, payer: Self.evm.address),
        ])
        let payers = await ledger.settledPayers(for: "https://api.example.com/report?day=2", wallet: "buyer")
        #expect(payers == [Self.solana.address])
        #expect(await ledger.settledPayers(for: "https://api.example.com/none", wallet: "buyer") == nil)
        #expect(await ledger.hasSettledPayment(for: "https://api.example.com/other", wallet: "buyer"))
    }
}
