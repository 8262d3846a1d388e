import Foundation
import Testing
import X402

@testable import X402EVM

@Suite("exact EVM client and server")
struct ExactEVMClientTests {
    @Test("v2 payload: shape, checksummed addresses, verbatim value, timing window, recoverable signature")
    func v2Payload() async throws {
        let requirements = ExactFixture.requirements()
        let client = ExactFixture.client()
        let scheme = try await client.createPayload(for: requirements, context: PaymentContext(version: .v2))
        let payload = scheme.payload
        #expect(payload.keys == ["authorization", "signature"])
        let authorization = try #require(payload["authorization"]?.objectValue)
        #expect(authorization.keys == ["from", "to", "value", "validAfter", "validBefore", "nonce"])
        #expect(authorization["from"]?.stringValue == ExactFixture.payerKey.address.checksummed)
        #expect(authorization["to"]?.stringValue == ExactFixture.payTo.checksummed)
        #expect(authorization["value"]?.stringValue == "10000")
        #expect(authorization["validAfter"]?.stringValue == String(ExactFixture.now - 600))
        #expect(authorization["validBefore"]?.stringValue == String(ExactFixture.now + 60))
        let nonce = try #require(authorization["nonce"]?.stringValue)
        #expect(nonce.count == 66 && nonce.hasPrefix("0x") && nonce == nonce.lowercased())

        let signatureText = try #require(payload["signature"]?.stringValue)
        #expect(signatureText.count == 132)
        let bytes = try Hex.decode(signatureText)
        #expect(bytes[64] == 27 || bytes[64] == 28)

        let parsed = try ExactEVMPayload(json: payload)
        let signer = try parsed.authorization.recoverSigner(of: try Signature(bytes: parsed.signature), in: ExactFixture.domain())
        #expect(signer == ExactFixture.payerKey.address)
    }

    @Test("v1 requirements (network name) sign for the chain id of the name table")
    func v1Payload() async throws {
        let v1 = PaymentRequirementsV1(
            scheme: "exact", network: "base-sepolia", maxAmountRequired: "2500", resource: "https://example.com/r",
            payTo: ExactFixture.payTo.checksummed, maxTimeoutSeconds: 30, asset: ExactFixture.token.checksummed,
            extra: ["name": "USDC", "version": "2"])
        let normalized = try #require(v1.normalized)
        let scheme = try await ExactFixture.client().createPayload(for: normalized, context: PaymentContext(version: .v1))
        let parsed = try ExactEVMPayload(json: scheme.payload)
        #expect(parsed.authorization.value == UInt256(2500))
        #expect(parsed.authorization.validBefore == UInt256(ExactFixture.now + 30))
        let signer = try parsed.authorization.recoverSigner(of: try Signature(bytes: parsed.signature), in: ExactFixture.domain(chainID: 84532))
        #expect(signer == ExactFixture.payerKey.address)
        // The same authorization does not verify on another chain.
        let elsewhere = try parsed.authorization.recoverSigner(of: try Signature(bytes: parsed.signature), in: ExactFixture.domain(chainID: 8453))
        #expect(elsewhere != ExactFixture.payerKey.address)
    }

    @Test("nonces are 32 random bytes, distinct across payments")
    func nonceRandomness() async throws {
        let client = ExactFixture.client()
        var seen = Set<Bytes32>()
        var bitCounts = [Int](repeating: 0, count: 256)
        for _ in 0..<200 {
            let nonce = try client.authorization(for: ExactFixture.requirements()).nonce
            #expect(seen.insert(nonce).inserted)
            for (i, byte) in nonce.bytes.enumerated() {
                for bit in 0..<8 where byte & (1 << bit) != 0 { bitCounts[i * 8 + bit] += 1 }
            }
        }
        // Every bit position is set sometimes and clear sometimes (200 draws: P(fail) ≈ 256 · 2^-199).
        #expect(bitCounts.allSatisfy { $0 > 0 && $0 < 200 })
    }

    @Test("no maxTimeoutSeconds: the one-hour fallback is capped at the 10-minute validity cap")
    func fallbackTimeout() throws {
        // Before the cap, this signed an hour of validity (the fallback, unbounded).
        let a = try ExactFixture.client().authorization(for: ExactFixture.requirements(timeout: nil))
        #expect(a.validBefore == UInt256(ExactFixture.now + 600))
        var uncapped = ExactFixture.client()
        uncapped.maxValiditySeconds = 7200
        #expect(try uncapped.authorization(for: ExactFixture.requirements(timeout: nil)).validBefore == UInt256(ExactFixture.now + 3600))
    }

    @Test("a server asking for a long validity window gets the cap; strict mode refuses it; shorter windows are kept")
    func validityCap() async throws {
        let client = ExactFixture.client()
        // A day asked: 600 s signed (before the cap: a day).
        let day = try client.authorization(for: ExactFixture.requirements(timeout: 86_400))
        #expect(day.validBefore == UInt256(ExactFixture.now + 600))
        let signed = try await client.createPayload(for: ExactFixture.requirements(timeout: 86_400), context: PaymentContext(version: .v2))
        #expect(signed.payload["authorization"]?["validBefore"]?.stringValue == String(ExactFixture.now + 600))
        #expect(try client.authorization(for: ExactFixture.requirements(timeout: 60)).validBefore == UInt256(ExactFixture.now + 60))
        #expect(try client.authorization(for: ExactFixture.requirements(timeout: 600)).validBefore == UInt256(ExactFixture.now + 600))

        var configured = ExactFixture.client()
        configured.maxValiditySeconds = 120
        #expect(try configured.authorization(for: ExactFixture.requirements(timeout: 3600)).validBefore == UInt256(ExactFixture.now + 120))
        configured.refusesLongerValidity = true
        #expect(throws: ExactEVMClientError.validityWindowTooLong(requested: 3600, cap: 120)) {
            _ = try configured.authorization(for: ExactFixture.requirements(timeout: 3600))
        }
        #expect(try configured.authorization(for: ExactFixture.requirements(timeout: 100)).validBefore == UInt256(ExactFixture.now + 100))
    }

    @Test("the signed authorization is described for the ledger: from, nonce, validBefore")
    func describesAuthorization() async throws {
        let client = ExactFixture.client()
        let signed = try await client.createPayload(for: ExactFixture.requirements(timeout: 86_400), context: PaymentContext(version: .v2))
        let described = try #require(client.signedAuthorization(in: signed))
        let parsed = try ExactEVMPayload(json: signed.payload)
        #expect(described.authorizer == ExactFixture.payerKey.address.checksummed)
        #expect(described.nonce == Hex.encode(parsed.authorization.nonce.bytes))
        #expect(described.validBefore == Date(timeIntervalSince1970: TimeInterval(ExactFixture.now + 600)))
        #expect(client.signedAuthorization(in: SchemePayload(payload: ["signature": "0x00"])) == nil)
    }

    @Test("typed errors: missing domain, bad addresses, bad amounts, Permit2")
    func clientErrors() async throws {
        let client = ExactFixture.client()
        await #expect(throws: ExactEVMClientError.missingEIP712Domain) {
            _ = try await client.signedPayload(for: ExactFixture.requirements(extra: ["name": "USDC"]))
        }
        #expect(throws: ExactEVMClientError.invalidPayTo("0x1234")) {
            _ = try client.authorization(for: ExactFixture.requirements(payTo: "0x1234"))
        }
        await #expect(throws: ExactEVMClientError.invalidAsset("USDC")) {
            _ = try await client.signedPayload(for: ExactFixture.requirements(asset: "USDC"))
        }
        for amount in ["1.5", "-1", "", "1e6", "0x10"] {
            #expect(throws: ExactEVMClientError.invalidAmount(amount)) {
                _ = try client.authorization(for: ExactFixture.requirements(amount: amount))
            }
        }
        #expect(throws: ExactEVMClientError.unsupportedTransferMethod("permit2")) {
            _ = try client.authorization(
                for: ExactFixture.requirements(extra: ["name": "USDC", "version": "2", "assetTransferMethod": "permit2"]))
        }
        await #expect(throws: ExactEVMClientError.unsupportedNetwork("solana:EtWTRABZaYq6iMfeYKouRu166VU2xqa1")) {
            _ = try await client.signedPayload(for: ExactFixture.requirements(network: .solanaDevnet))
        }
    }

    @Test("payload parsing errors map to the reference reasons")
    func payloadParsing() throws {
        let good = ExactEVMPayload(
            authorization: TransferWithAuthorization(
                from: ExactFixture.payerKey.address, to: ExactFixture.payTo, value: 1, validAfter: 0, validBefore: 10, nonce: .random()),
            signature: [UInt8](repeating: 1, count: 65))
        #expect(try ExactEVMPayload(json: good.json) == good)
        var noAuthorization = good.json
        noAuthorization["authorization"] = nil
        #expect(throws: ExactEVMPayloadError.missingAuthorization) { try ExactEVMPayload(json: noAuthorization) }
        var noSignature = good.json
        noSignature["signature"] = nil
        #expect(throws: ExactEVMPayloadError.missingSignature) { try ExactEVMPayload(json: noSignature) }
        var garbled = good.json
        garbled["signature"] = "0xzz"
        do {
            _ = try ExactEVMPayload(json: garbled)
            Issue.record("garbled signature accepted")
        } catch {
            #expect(error.reason == .exactEVMSignatureFormat)
        }
        var badFrom = good.json
        var authorization = try #require(badFrom["authorization"]?.objectValue)
        authorization["from"] = "0xnothex"
        badFrom["authorization"] = .object(authorization)
        do {
            _ = try ExactEVMPayload(json: badFrom)
            Issue.record("bad from accepted")
        } catch {
            #expect(error.reason == .exactEVMPayload)
        }
    }

    @Test("server: money → default USDC with name/version; token amounts pass through")
    func serverPricing() throws {
        let server = ExactEVMServer()
        let money = try server.assetAmount(for: try .dollars("$0.01"), on: .baseSepolia)
        #expect(money.amount == UInt256(10_000))
        #expect(money.asset == "0x036CbD53842c5426634e7929541eC2318f3dCF7e")
        #expect(money.extra["name"]?.stringValue == "USDC")
        #expect(money.extra["version"]?.stringValue == "2")

        let base = try server.assetAmount(for: try .dollars("1.5"), on: .base)
        #expect(base.amount == UInt256(1_500_000))
        #expect(base.extra["name"]?.stringValue == "USD Coin")

        let token = try server.assetAmount(
            for: .tokenAmount(amount: 42, asset: "0x036cbd53842c5426634e7929541ec2318f3dcf7e"), on: .baseSepolia)
        #expect(token.amount == UInt256(42))
        #expect(token.asset == "0x036CbD53842c5426634e7929541eC2318f3dCF7e")
        #expect(token.extra["version"]?.stringValue == "2")

        let custom = try server.assetAmount(
            for: .tokenAmount(amount: 7, asset: "0x1111111111111111111111111111111111111111", extra: ["name": "Mine", "version": "9"]),
            on: .eip155(31337))
        #expect(custom.extra["name"]?.stringValue == "Mine")

        #expect(throws: (any Error).self) { _ = try server.assetAmount(for: try .dollars("1"), on: .eip155(31337)) }
        #expect(throws: (any Error).self) { _ = try server.assetAmount(for: try .dollars("1"), on: .solanaDevnet) }

        var registry = AssetRegistry()
        registry.register(
            Asset(
                network: .eip155(31337), address: "0x2222222222222222222222222222222222222222", symbol: "TST", decimals: 18,
                eip712Name: "Test", eip712Version: "1", transferMethod: .eip3009))
        let local = try ExactEVMServer(assets: registry).assetAmount(for: try .dollars("0.5"), on: .eip155(31337))
        #expect(local.amount == UInt256(500_000_000_000_000_000 as UInt64))
        #expect(local.extra["name"]?.stringValue == "Test")
    }

    @Test("registration covers eip155:* for v2 and v1")
    func registration() {
        var clients = SchemeRegistry<any SchemeClient>()
        clients.registerExactEVM(signer: ExactFixture.payerKey)
        #expect(clients.supports(version: .v2, scheme: "exact", network: .base))
        #expect(clients.supports(version: .v1, scheme: "exact", network: .baseSepolia))
        #expect(!clients.supports(version: .v2, scheme: "exact", network: .solanaDevnet))
        var servers = SchemeRegistry<any SchemeServer>()
        servers.registerExactEVM()
        #expect(servers.supports(version: .v2, scheme: "exact", network: .eip155(137)))
        var facilitators = SchemeRegistry<any SchemeFacilitator>()
        let facilitator = ExactFixture.facilitator(chain: ScriptedChain())
        facilitators.registerExactEVM(facilitator)
        #expect(facilitators.supports(version: .v1, scheme: "exact", network: .baseSepolia))
        #expect(facilitator.signers(for: .baseSepolia) == [ExactFixture.facilitatorKey.address.checksummed])
        #expect(facilitator.family.description == "eip155:*")
    }
}
