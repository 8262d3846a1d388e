import Foundation
import Testing
import X402
@testable import X402EVM

@Suite("exact EVM facilitator: verification")
struct ExactEVMFacilitatorTests {
    typealias F = ExactFixture

    /// Verifies `payment` against `requirements` with a fresh scripted chain.
    func verify(
        _ payment: AnyPaymentPayload, _ requirements: PaymentRequirements = F.requirements(), chain: ScriptedChain = ScriptedChain(),
        now: UInt64 = F.now, simulate: Bool = false
    ) async -> VerifyResponse {
        await F.facilitator(chain: chain, simulate: simulate, now: now).verify(payment, requirements: .v2(requirements))
    }

    func editing(_ payment: AnyPaymentPayload, _ edit: (inout JSONObject) -> Void) -> AnyPaymentPayload {
        guard case .v2(var p) = payment else { return payment }
        edit(&p.payload)
        return .v2(p)
    }

    func editingAuthorization(_ payment: AnyPaymentPayload, _ key: String, _ value: JSONValue) -> AnyPaymentPayload {
        editing(payment) { payload in
            var a = payload["authorization"]!.objectValue!
            a[key] = value
            payload["authorization"] = .object(a)
        }
    }

    @Test("a correct payment is valid and names the payer")
    func valid() async throws {
        let response = await verify(try await F.payment())
        #expect(response.isValid, "\(response)")
        #expect(response.payer == F.payerKey.address.checksummed)
    }

    @Test("scheme, domain and network checks, in the reference order")
    func schemeDomainNetwork() async throws {
        let payment = try await F.payment()
        var wrongScheme = F.requirements()
        wrongScheme.scheme = "upto"
        var r = await verify(payment, wrongScheme)
        #expect(r.invalidReason == .exactEVMScheme)
        #expect(r.payer == F.payerKey.address.checksummed)

        r = await verify(payment, F.requirements(extra: ["name": "USDC"]))
        #expect(r.invalidReason == .exactEVMMissingEIP712Domain)

        // Scheme is checked before the domain.
        var both = F.requirements(extra: nil)
        both.scheme = "upto"
        #expect(await verify(payment, both).invalidReason == .exactEVMScheme)

        // The client paid on Base; the server asks for Base Sepolia.
        let onBase = try await F.payment(F.requirements(network: .base))
        #expect(await verify(onBase, F.requirements()).invalidReason == .exactEVMNetworkMismatch)

        // A network this facilitator does not serve.
        let elsewhere = try await F.payment(F.requirements(network: .eip155(137)))
        #expect(await verify(elsewhere, F.requirements(network: .eip155(137))).invalidReason == .exactEVMFailedToGetNetworkConfig)

        // The node is on another chain than the network says.
        let chain = ScriptedChain()
        chain.chainIDValue = 1
        #expect(await verify(payment, chain: chain).invalidReason == .invalidNetwork)
    }

    @Test("malformed payloads")
    func malformed() async throws {
        let payment = try await F.payment()
        #expect(await verify(editing(payment) { $0["authorization"] = nil }).invalidReason == .exactEVMPayload)
        #expect(await verify(editing(payment) { $0["authorization"] = "x" }).invalidReason == .exactEVMPayload)
        #expect(await verify(editing(payment) { $0["signature"] = nil }).invalidReason == .exactEVMPayloadMissingSignature)
        #expect(await verify(editing(payment) { $0["signature"] = "0xzz" }).invalidReason == .exactEVMSignatureFormat)
        #expect(await verify(editing(payment) { $0["signature"] = 5 }).invalidReason == .exactEVMSignatureFormat)
        #expect(await verify(editingAuthorization(payment, "value", "ten")).invalidReason == .exactEVMPayload)
        #expect(await verify(editingAuthorization(payment, "nonce", "0x1234")).invalidReason == .exactEVMPayload)
        let badFrom = await verify(editingAuthorization(payment, "from", "0x12"))
        #expect(badFrom.invalidReason == .exactEVMPayload)
        #expect(badFrom.payer == "0x12")
        let permit2 = editing(payment) { $0 = ["permit2Authorization": ["from": "0x00"], "signature": "0x00"] }
        #expect(await verify(permit2).invalidReason == .unsupportedPayloadType)
    }

    @Test("signatures: wrong signer, tampered fields, high s, bad v, undeployed smart wallet")
    func signatures() async throws {
        let requirements = F.requirements()
        let byOther = try await F.client(F.otherKey).signedPayload(for: requirements)
        var claimed = byOther
        claimed.authorization.from = F.payerKey.address
        let wrongSigner = AnyPaymentPayload.v2(PaymentPayload(accepted: requirements, payload: claimed.json))
        #expect(await verify(wrongSigner).invalidReason == .exactEVMSignature)

        let payment = try await F.payment()
        // Tampering with any signed field breaks the signature.
        #expect(await verify(editingAuthorization(payment, "value", "20000"), F.requirements(amount: "20000")).invalidReason == .exactEVMSignature)
        #expect(await verify(editingAuthorization(payment, "to", .string(F.otherKey.address.checksummed)), F.requirements(payTo: F.otherKey.address.checksummed)).invalidReason == .exactEVMSignature)
        #expect(await verify(editingAuthorization(payment, "validBefore", .string(String(F.now + 100_000)))).invalidReason == .exactEVMSignature)
        #expect(await verify(editingAuthorization(payment, "nonce", .string(Bytes32.random().hexString))).invalidReason == .exactEVMSignature)
        // Another asset means another EIP-712 domain.
        let otherAsset = "0x1111111111111111111111111111111111111111"
        var movedAsset = payment
        if case .v2(var p) = payment { p.accepted.asset = otherAsset; movedAsset = .v2(p) }
        #expect(await verify(movedAsset, F.requirements(asset: otherAsset)).invalidReason == .exactEVMSignature)

        // High s: (r, n − s, v ^ 1) recovers the same key but is malleable: rejected.
        let parsed = try ExactEVMPayload(json: payment.payload)
        let s = UInt256(bigEndian: parsed.signature[32..<64])!
        let order = UInt256(hex: "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141")!
        var highS = Array(parsed.signature[0..<32]) + (order - s).bigEndianBytes + [parsed.signature[64] == 27 ? 28 : 27]
        let highSResponse = await verify(editing(payment) { $0["signature"] = .string(Hex.encode(highS)) })
        #expect(highSResponse.invalidReason == .exactEVMSignature)
        #expect(highSResponse.invalidMessage?.contains("upper half") == true)
        highS = parsed.signature
        highS[64] = 29
        #expect(await verify(editing(payment) { $0["signature"] = .string(Hex.encode(highS)) }).invalidReason == .exactEVMSignature)
        // v ∈ {0, 1} is accepted on the wire (the facilitator normalises before sending).
        var lowV = parsed.signature
        lowV[64] -= 27
        #expect(await verify(editing(payment) { $0["signature"] = .string(Hex.encode(lowV)) }).isValid)

        // A longer signature from an address without code and without ERC-6492 data.
        let long = parsed.signature + [UInt8](repeating: 7, count: 40)
        #expect(await verify(editing(payment) { $0["signature"] = .string(Hex.encode(long)) }).invalidReason == .exactEVMUndeployedSmartWallet)
    }

    @Test("ERC-1271 wallets: accepted when isValidSignature returns the magic value")
    func contractWallet() async throws {
        let wallet = try EthereumAddress("0x4444444444444444444444444444444444444444")
        let requirements = F.requirements()
        let authorization = TransferWithAuthorization(
            from: wallet, to: F.payTo, value: 10_000, validAfter: UInt256(F.now - 600), validBefore: UInt256(F.now + 60), nonce: .random())
        let signature = [UInt8](repeating: 0xAB, count: 100)
        let payment = AnyPaymentPayload.v2(PaymentPayload(
            accepted: requirements, payload: ExactEVMPayload(authorization: authorization, signature: signature).json))
        let chain = ScriptedChain()
        chain.codes[wallet] = [0x60, 0x00]
        chain.onCall = { request, _ in
            request.to == wallet ? EIP3009Calls.erc1271MagicValue + [UInt8](repeating: 0, count: 28) : []
        }
        #expect(await verify(payment, chain: chain).isValid)
        chain.onCall = { _, _ in [UInt8](repeating: 0, count: 32) }
        #expect(await verify(payment, chain: chain).invalidReason == .exactEVMSignature)
    }

    @Test("ERC-6492: undeployed wallets are rejected unless deployment is enabled; then simulated and deployed before the transfer")
    func erc6492() async throws {
        let wallet = try EthereumAddress("0x5555555555555555555555555555555555555555")
        let factory = try EthereumAddress("0x6666666666666666666666666666666666666666")
        let requirements = F.requirements()
        let authorization = TransferWithAuthorization(
            from: wallet, to: F.payTo, value: 10_000, validAfter: UInt256(F.now - 600), validBefore: UInt256(F.now + 60), nonce: .random())
        let inner = authorization.sign(with: F.otherKey, in: F.domain()).bytes
        let wrapped = ERC6492Signature(factory: factory, factoryCalldata: [1, 2, 3, 4], innerSignature: inner).wrappedBytes
        let payment = AnyPaymentPayload.v2(PaymentPayload(
            accepted: requirements, payload: ExactEVMPayload(authorization: authorization, signature: wrapped).json))

        let chain = ScriptedChain()
        chain.codes[F.token] = [0x60]
        chain.deployments[factory] = wallet
        chain.receiptLogs = { F.transferLogs($0) }
        chain.onCall = { request, _ in
            if request.to == EIP3009Calls.multicall3 { return F.tryAggregateAnswer([(true, []), (true, [])]) }
            if request.data.starts(with: ABI.selector("authorizationState(address,bytes32)")) { return F.bool(false) }
            return []
        }
        // Default: the facilitator does not deploy wallets, so verify and settle both refuse.
        let plain = F.facilitator(chain: chain, simulate: true)
        #expect(await plain.verify(payment, requirements: .v2(requirements)).invalidReason == .exactEVMUndeployedSmartWallet)
        #expect(await plain.settle(payment, requirements: .v2(requirements)).errorReason == .exactEVMUndeployedSmartWallet)
        #expect(chain.sendCount == 0)

        let deploying = F.facilitator(chain: chain, simulate: true) { $0.deployERC6492Wallets = true }
        #expect(await deploying.verify(payment, requirements: .v2(requirements)).isValid)
        let settled = await deploying.settle(payment, requirements: .v2(requirements))
        #expect(settled.success, "\(settled)")
        let sent = chain.acceptedTransactions
        #expect(sent.count == 2)
        guard sent.count == 2, case .eip1559(let deploy) = sent[0].body, case .eip1559(let transfer) = sent[1].body else { return }
        #expect(deploy.to == factory && deploy.data == [1, 2, 3, 4])
        #expect(transfer.to == F.token && transfer.gasLimit == 117_000)  // estimated 90 000 + 30 %
        #expect(settled.transaction == sent[1].hash.hexString)
    }

    @Test("recipient, validity window and value")
    func recipientTimeValue() async throws {
        let payment = try await F.payment()
        #expect(await verify(payment, F.requirements(payTo: F.otherKey.address.checksummed)).invalidReason == .exactEVMRecipientMismatch)
        // Recipient compares case-insensitively.
        #expect(await verify(payment, F.requirements(payTo: F.payTo.checksummed)).isValid)
        // validBefore = now + 60: valid until now + 54, expired from now + 55 on.
        #expect(await verify(payment, now: F.now + 54).isValid)
        #expect(await verify(payment, now: F.now + 55).invalidReason == .exactEVMValidBefore)
        // validAfter = now − 600.
        #expect(await verify(payment, now: F.now - 600).isValid)
        #expect(await verify(payment, now: F.now - 601).invalidReason == .exactEVMValidAfter)
        #expect(await verify(payment, F.requirements(amount: "10001")).invalidReason == .exactEVMAuthorizationValue)
        #expect(await verify(payment, F.requirements(amount: "9999")).invalidReason == .exactEVMAuthorizationValue)
        #expect(await verify(payment, F.requirements(amount: "1e4")).invalidReason == ErrorReason("invalid_exact_evm_required_amount"))
    }

    @Test("v1 payloads: network names on both sides")
    func v1() async throws {
        let v1 = PaymentRequirementsV1(
            scheme: "exact", network: "base-sepolia", maxAmountRequired: "10000", resource: "https://example.com",
            payTo: F.payTo.checksummed, maxTimeoutSeconds: 60, asset: F.token.checksummed, extra: ["name": "USDC", "version": "2"])
        let payload = try await F.client().signedPayload(for: try #require(v1.normalized))
        let facilitator = F.facilitator(chain: ScriptedChain())
        let good = AnyPaymentPayload.v1(PaymentPayloadV1(scheme: "exact", network: "base-sepolia", payload: payload.json))
        #expect(await facilitator.verify(good, requirements: .v1(v1)).isValid)
        let mismatch = AnyPaymentPayload.v1(PaymentPayloadV1(scheme: "exact", network: "base", payload: payload.json))
        #expect(await facilitator.verify(mismatch, requirements: .v1(v1)).invalidReason == .exactEVMNetworkMismatch)
        var unknown = v1
        unknown.network = "atlantis"
        let unknownPayload = AnyPaymentPayload.v1(PaymentPayloadV1(scheme: "exact", network: "atlantis", payload: payload.json))
        #expect(await facilitator.verify(unknownPayload, requirements: .v1(unknown)).invalidReason == .exactEVMNetworkMismatch)
        // Settling a v1 payment reports the v1 network name.
        let settled = await facilitator.settle(mismatch, requirements: .v1(v1))
        #expect(settled.network == "base")
        #expect(settled.errorReason == .exactEVMNetworkMismatch)
    }

    @Test("simulation failures are diagnosed through one Multicall3 call")
    func simulationDiagnosis() async throws {
        let payment = try await F.payment()
        func chain(_ results: [(Bool, [UInt8])]?) -> ScriptedChain {
            let chain = ScriptedChain()
            chain.codes[F.token] = [0x60]
            chain.onCall = { request, _ throws(EthereumClientError) in
                if request.to == EIP3009Calls.multicall3 {
                    guard let results else { throw F.revert("no multicall") }
                    return F.tryAggregateAnswer(results)
                }
                throw F.revert("FiatTokenV2: something")
            }
            return chain
        }
        let fine: [(Bool, [UInt8])] = [(true, F.word(1_000_000)), (true, F.string("USDC")), (true, F.string("2")), (true, F.bool(false))]
        var cases: [([(Bool, [UInt8])]?, ErrorReason)] = [
            (fine, .exactEVMSimulationFailed),
            (nil, .exactEVMSimulationFailed),
        ]
        var used = fine
        used[3] = (true, F.bool(true))
        cases.append((used, .exactEVMNonceAlreadyUsed))
        var noEIP3009 = fine
        noEIP3009[3] = (false, [])
        cases.append((noEIP3009, .exactEVMEIP3009NotSupported))
        var name = fine
        name[1] = (true, F.string("USD Coin"))
        cases.append((name, .exactEVMTokenNameMismatch))
        var version = fine
        version[2] = (true, F.string("1"))
        cases.append((version, .exactEVMTokenVersionMismatch))
        var poor = fine
        poor[0] = (true, F.word(9_999))
        cases.append((poor, .exactEVMInsufficientBalance))
        for (results, expected) in cases {
            let response = await verify(payment, chain: chain(results), simulate: true)
            #expect(response.invalidReason == expected)
            #expect(response.payer == F.payerKey.address.checksummed)
        }
        // A passing simulation.
        let ok = ScriptedChain()
        ok.codes[F.token] = [0x60]
        #expect(await verify(payment, chain: ok, simulate: true).isValid)
        // An asset without code is not an EIP-3009 token.
        #expect(await verify(payment, chain: ScriptedChain(), simulate: true).invalidReason == .exactEVMEIP3009NotSupported)
    }

    @Test("node failures become unexpected_verify_error with the payer, never a throw")
    func unexpected() async throws {
        let payment = try await F.payment()
        let chain = ScriptedChain()
        chain.codes[F.token] = [0x60]
        chain.onCall = { _, _ throws(EthereumClientError) in throw .transport("connection refused") }
        let response = await verify(payment, chain: chain, simulate: true)
        #expect(response.invalidReason == .unexpectedVerifyError)
        #expect(response.invalidMessage?.contains("connection refused") == true)
        #expect(response.payer == F.payerKey.address.checksummed)
    }

    @Test("revert texts map to the reference reasons")
    func revertMapping() {
        let table: [(String, ErrorReason)] = [
            ("FiatTokenV2: authorization is expired", .exactEVMValidBefore),
            ("AuthorizationExpired()", .exactEVMValidBefore),
            ("FiatTokenV2: authorization is not yet valid", .exactEVMValidAfter),
            ("AuthorizationNotYetValid()", .exactEVMValidAfter),
            ("FiatTokenV2: authorization is used or canceled", .exactEVMNonceAlreadyUsed),
            ("AuthorizationAlreadyUsed()", .exactEVMNonceAlreadyUsed),
            ("ERC20: transfer amount exceeds balance", .exactEVMInsufficientBalance),
            ("ERC20InsufficientBalance(0x…, 1, 2)", .exactEVMInsufficientBalance),
            ("FiatTokenV2: invalid signature", .exactEVMSignature),
            ("ECRecover: invalid signature 's' value", .exactEVMSignature),
            ("SignerMismatch()", .exactEVMSignature),
            ("execution reverted", .exactEVMTransactionFailed),
        ]
        for (text, reason) in table {
            #expect(ExactEVMFacilitator.reason(forRevert: text) == reason, "\(text)")
        }
    }
}
