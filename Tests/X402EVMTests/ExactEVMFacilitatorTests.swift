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
        #expect(
            await verify(
                editingAuthorization(payment, "to", .string(F.otherKey.address.checksummed)), F.requirements(payTo: F.otherKey.address.checksummed)
            ).invalidReason == .exactEVMSignature)
        #expect(await verify(editingAuthorization(payment, "validBefore", .string(String(F.now + 100_000)))).invalidReason == .exactEVMSignature)
        #expect(await verify(editingAuthorization(payment, "nonce", .string(Bytes32.random().hexString))).invalidReason == .exactEVMSignature)
        // Another asset means another EIP-712 domain.
        let otherAsset = "0x1111111111111111111111111111111111111111"
        var movedAsset = payment
        if case .v2(var p) = payment {
            p.accepted.asset = otherAsset
            movedAsset = .v2(p)
        }
        // (The other asset is allowlisted so the signature check, not the asset allowlist, decides.)
        let allowing = F.facilitator(chain: ScriptedChain()) { $0.acceptedAssets = [.baseSepolia: [try! EthereumAddress(otherAsset)]] }
        #expect(await allowing.verify(movedAsset, requirements: .v2(F.requirements(asset: otherAsset))).invalidReason == .exactEVMSignature)

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

    @Test("ERC-1271 wallets: accepted only when isValidSignature answers the whole magic word, within the gas ceiling")
    func contractWallet() async throws {
        let wallet = try EthereumAddress("0x4444444444444444444444444444444444444444")
        let requirements = F.requirements()
        let authorization = TransferWithAuthorization(
            from: wallet, to: F.payTo, value: 10_000, validAfter: UInt256(F.now - 600), validBefore: UInt256(F.now + 60), nonce: .random())
        let signature = [UInt8](repeating: 0xAB, count: 100)
        let payment = AnyPaymentPayload.v2(
            PaymentPayload(
                accepted: requirements, payload: ExactEVMPayload(authorization: authorization, signature: signature).json))
        let chain = ScriptedChain()
        chain.codes[wallet] = [0x60, 0x00]
        let gasSeen = GasRecorder()
        chain.onCall = { request, _ in
            if request.to == wallet { gasSeen.record(request.gas) }
            return request.to == wallet ? EIP3009Calls.erc1271MagicValue + [UInt8](repeating: 0, count: 28) : []
        }
        #expect(await verify(payment, chain: chain).isValid)
        // The wallet's code runs under the contract-wallet gas ceiling.
        #expect(gasSeen.values == [250_000])
        chain.onCall = { _, _ in [UInt8](repeating: 0, count: 32) }
        #expect(await verify(payment, chain: chain).invalidReason == .exactEVMSignature)
        // F16: only the 4 magic bytes (USDC's SignatureChecker needs a 32-byte word): refused.
        chain.onCall = { request, _ in request.to == wallet ? EIP3009Calls.erc1271MagicValue : [] }
        #expect(await verify(payment, chain: chain).invalidReason == .exactEVMSignature)
        // A fallback that echoes calldata: the selector is the magic value, then digest bytes.
        chain.onCall = { request, _ in request.to == wallet ? Array(request.data.prefix(32)) : [] }
        #expect(await verify(payment, chain: chain).invalidReason == .exactEVMSignature)
    }

    @Test("F4: a contract wallet needing more gas than the ceiling is refused at verify and settle, nothing sent")
    func gasCeiling() async throws {
        let wallet = try EthereumAddress("0x4444444444444444444444444444444444444444")
        let requirements = F.requirements()
        let authorization = TransferWithAuthorization(
            from: wallet, to: F.payTo, value: 10_000, validAfter: UInt256(F.now - 600), validBefore: UInt256(F.now + 60), nonce: .random())
        let payment = AnyPaymentPayload.v2(
            PaymentPayload(
                accepted: requirements,
                payload: ExactEVMPayload(authorization: authorization, signature: [UInt8](repeating: 0xAB, count: 100)).json))
        let magic = EIP3009Calls.erc1271MagicValue + [UInt8](repeating: 0, count: 28)
        let chain = ScriptedChain()
        chain.codes[wallet] = [0x60, 0x00]
        chain.codes[F.token] = [0x60]
        chain.receiptLogs = { F.transferLogs($0) }
        chain.onCall = { request, _ in
            if request.data.starts(with: ABI.selector("authorizationState(address,bytes32)")) { return F.bool(false) }
            return request.to == wallet ? magic : []
        }
        // The wallet's isValidSignature is cheap, but the transfer is estimated at 25 M gas.
        chain.onEstimate = { _ in 25_000_000 }
        let facilitator = F.facilitator(chain: chain)
        let verified = await facilitator.verify(payment, requirements: .v2(requirements))
        #expect(verified.invalidReason == .gasLimitExceeded, "\(verified)")
        let settled = await facilitator.settle(payment, requirements: .v2(requirements))
        #expect(settled.errorReason == .gasLimitExceeded, "\(settled)")
        #expect(chain.sendCount == 0)

        // isValidSignature itself burns more than the ceiling: out of gas under the cap, and the
        // uncapped estimate says why.
        chain.onCall = { request, _ throws(EthereumClientError) in
            if request.to == wallet {
                if request.gas != nil { throw .node(code: -32000, message: "out of gas", data: nil) }
                return magic
            }
            return []
        }
        chain.onEstimate = { request in request.to == wallet ? 2_000_000 : 90_000 }
        #expect(await facilitator.verify(payment, requirements: .v2(requirements)).invalidReason == .gasLimitExceeded)
        #expect(await facilitator.settle(payment, requirements: .v2(requirements)).errorReason == .gasLimitExceeded)
        #expect(chain.sendCount == 0)

        // A hostile node's absurd estimate is refused, never trapped on (estimate × 1.3 in UInt64).
        chain.onCall = { request, _ in
            if request.data.starts(with: ABI.selector("authorizationState(address,bytes32)")) { return F.bool(false) }
            return request.to == wallet ? magic : []
        }
        chain.onEstimate = { _ in UInt64.max }
        #expect(await facilitator.verify(payment, requirements: .v2(requirements)).invalidReason == .gasLimitExceeded)
        #expect(await facilitator.settle(payment, requirements: .v2(requirements)).errorReason == .gasLimitExceeded)
        #expect(chain.sendCount == 0)

        // Within the ceiling: sent with estimate + 30 %, capped at the ceiling.
        chain.onEstimate = { _ in 200_000 }
        #expect(await facilitator.verify(payment, requirements: .v2(requirements)).isValid)
        let ok = await facilitator.settle(payment, requirements: .v2(requirements))
        #expect(ok.success, "\(ok)")
        guard case .eip1559(let sent)? = chain.acceptedTransactions.first?.body else {
            Issue.record("nothing sent")
            return
        }
        #expect(sent.gasLimit == 250_000)
    }

    @Test("F9: unknown asset, zero amount and self-payment are refused before any node call")
    func abuseLimits() async throws {
        let chain = ScriptedChain()
        let facilitator = F.facilitator(chain: chain)
        let other = "0x7777777777777777777777777777777777777777"
        let foreign = F.requirements(asset: other)
        let foreignPayment = try await F.payment(foreign)
        #expect(await facilitator.verify(foreignPayment, requirements: .v2(foreign)).invalidReason == .assetNotAccepted)
        #expect(await facilitator.settle(foreignPayment, requirements: .v2(foreign)).errorReason == .assetNotAccepted)
        // The operator's allowlist admits it.
        let allowing = F.facilitator(chain: chain) { $0.acceptedAssets = [.baseSepolia: [try! EthereumAddress(other)]] }
        #expect(await allowing.verify(foreignPayment, requirements: .v2(foreign)).invalidReason != .assetNotAccepted)

        let zero = F.requirements(amount: "0")
        let zeroPayment = try await F.payment(zero)
        #expect(await facilitator.verify(zeroPayment, requirements: .v2(zero)).invalidReason == .invalidPaymentAmount)
        #expect(await facilitator.settle(zeroPayment, requirements: .v2(zero)).errorReason == .invalidPaymentAmount)

        let selfPay = F.requirements(payTo: F.payerKey.address.checksummed)
        let selfPayment = try await F.payment(selfPay)
        #expect(await facilitator.verify(selfPayment, requirements: .v2(selfPay)).invalidReason == .selfPayment)
        #expect(await facilitator.settle(selfPayment, requirements: .v2(selfPay)).errorReason == .selfPayment)
        #expect(chain.sendCount == 0)
    }

    @Test("F15: absurd fee answers are refused with a reason, never trapped on; the tip is capped")
    func hostileFees() async throws {
        let payment = try await F.payment()
        let chain = ScriptedChain()
        // baseFee × 2 overflows UInt256.
        chain.baseFee = UInt256.max - UInt256(5)
        let facilitator = F.facilitator(chain: chain)
        let verified = await facilitator.verify(payment, requirements: .v2(F.requirements()))
        #expect(verified.invalidReason == .implausibleNodeAnswer, "\(verified)")
        let settled = await facilitator.settle(payment, requirements: .v2(F.requirements()))
        #expect(!settled.success)
        #expect(chain.sendCount == 0)

        // A base fee above the cap (200 gwei by default): refused at verify.
        let expensive = ScriptedChain()
        expensive.baseFee = UInt256(150_000_000_000)
        #expect(await F.facilitator(chain: expensive).verify(payment, requirements: .v2(F.requirements())).invalidReason == .feeAboveCap)

        // An absurd tip is lowered to the policy's maximum, not paid and not trapped on.
        let tipping = ScriptedChain()
        tipping.tip = UInt256.max
        let fees = try await FeeOracle(client: tipping).fees()
        #expect(fees.maxPriorityFeePerGas == FeePolicy.defaultMaximumPriorityFeePerGas)
        #expect(fees.maxFeePerGas == UInt256(2_000_000) + FeePolicy.defaultMaximumPriorityFeePerGas)
    }

    @Test("ERC-6492 (F3): deployment only through an allowlisted factory, after the wrapped signature is proved valid by simulation")
    func erc6492() async throws {
        let wallet = try EthereumAddress("0x5555555555555555555555555555555555555555")
        let factory = try EthereumAddress("0x6666666666666666666666666666666666666666")
        let requirements = F.requirements()
        let authorization = TransferWithAuthorization(
            from: wallet, to: F.payTo, value: 10_000, validAfter: UInt256(F.now - 600), validBefore: UInt256(F.now + 60), nonce: .random())
        let inner = authorization.sign(with: F.otherKey, in: F.domain()).bytes
        let wrapped = ERC6492Signature(factory: factory, factoryCalldata: [1, 2, 3, 4], innerSignature: inner).wrappedBytes
        let payment = AnyPaymentPayload.v2(
            PaymentPayload(
                accepted: requirements, payload: ExactEVMPayload(authorization: authorization, signature: wrapped).json))

        let isValidSignature = ABI.selector("isValidSignature(bytes32,bytes)")
        let magic = EIP3009Calls.erc1271MagicValue + [UInt8](repeating: 0, count: 28)
        let chain = ScriptedChain()
        chain.codes[F.token] = [0x60]
        chain.deployments[factory] = wallet
        chain.receiptLogs = { F.transferLogs($0) }
        let walletAnswer = Answer(magic)
        chain.onCall = { request, _ in
            if request.to == EIP3009Calls.multicall3 {
                // The ERC-6492 proof: (factory call, wallet.isValidSignature) in one batch.
                if request.data.firstRange(of: isValidSignature) != nil {
                    return F.tryAggregateAnswer([(true, []), (true, walletAnswer.value)])
                }
                return F.tryAggregateAnswer([(true, []), (true, [])])
            }
            if request.data.starts(with: ABI.selector("authorizationState(address,bytes32)")) { return F.bool(false) }
            return []
        }
        // Default: the facilitator does not deploy wallets, so verify and settle both refuse.
        let plain = F.facilitator(chain: chain, simulate: true)
        #expect(await plain.verify(payment, requirements: .v2(requirements)).invalidReason == .exactEVMUndeployedSmartWallet)
        #expect(await plain.settle(payment, requirements: .v2(requirements)).errorReason == .exactEVMUndeployedSmartWallet)
        #expect(chain.sendCount == 0)

        // Deployment on, but the factory is not allowlisted (the allowlist is empty by default):
        // refused, nothing sent. Before the fix this settled by sending factoryCalldata to the factory.
        let notAllowed = F.facilitator(chain: chain, simulate: true) { $0.deployERC6492Wallets = true }
        #expect(await notAllowed.verify(payment, requirements: .v2(requirements)).invalidReason == .erc6492FactoryNotAllowed)
        #expect(await notAllowed.settle(payment, requirements: .v2(requirements)).errorReason == .erc6492FactoryNotAllowed)
        #expect(chain.sendCount == 0)

        // Allowlisted, but the simulated wallet rejects the inner signature: refused, nothing sent.
        let deploying = F.facilitator(chain: chain, simulate: true) {
            $0.deployERC6492Wallets = true
            $0.erc6492Factories = [factory]
        }
        walletAnswer.value = F.word(UInt256(0xFFFF_FFFF) << 224)
        #expect(await deploying.verify(payment, requirements: .v2(requirements)).invalidReason == .exactEVMSignature)
        #expect(await deploying.settle(payment, requirements: .v2(requirements)).errorReason == .exactEVMSignature)
        // Only the 4 magic bytes: refused as well.
        walletAnswer.value = EIP3009Calls.erc1271MagicValue
        #expect(await deploying.settle(payment, requirements: .v2(requirements)).errorReason == .exactEVMSignature)
        #expect(chain.sendCount == 0)

        // Allowlisted and proved valid: deployed, then charged.
        walletAnswer.value = magic
        #expect(await deploying.verify(payment, requirements: .v2(requirements)).isValid)
        let settled = await deploying.settle(payment, requirements: .v2(requirements))
        #expect(settled.success, "\(settled)")
        let sent = chain.acceptedTransactions
        #expect(sent.count == 2)
        guard sent.count == 2, case .eip1559(let deploy) = sent[0].body, case .eip1559(let transfer) = sent[1].body else { return }
        #expect(deploy.to == factory && deploy.data == [1, 2, 3, 4])
        #expect(deploy.gasLimit == 117_000)  // estimated 90 000 + 30 %, under the 500 000 deployment ceiling
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

/// Records the `gas` of calls (for asserting the ceiling is passed to the node).
final class GasRecorder: @unchecked Sendable {
    private let lock = NSLock()
    private var seen: [UInt64?] = []
    func record(_ gas: UInt64?) { lock.withLock { seen.append(gas) } }
    var values: [UInt64?] { lock.withLock { seen } }
}

/// A mutable answer shared with a scripted node.
final class Answer: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [UInt8]
    init(_ value: [UInt8]) { stored = value }
    var value: [UInt8] {
        get { lock.withLock { stored } }
        set { lock.withLock { stored = newValue } }
    }
}

@Suite("EIP-712 domain separator cache")
struct EIP712SeparatorCacheTests {
    @Test("F19: canonically equivalent names with different bytes get different separators")
    func keyedByBytes() throws {
        let token = try EthereumAddress("0x036CbD53842c5426634e7929541eC2318f3dCF7e")
        let composed = "Caf\u{E9} Dollar"  // é as one scalar
        let decomposed = "Cafe\u{301} Dollar"  // e + combining acute: == composed as a Swift String
        #expect(composed == decomposed && Array(composed.utf8) != Array(decomposed.utf8))
        let first = EIP712Domain(name: composed, version: "1", chainId: 84532, verifyingContract: token)
        let second = EIP712Domain(name: decomposed, version: "1", chainId: 84532, verifyingContract: token)
        #expect(first.separator != second.separator)
        // Each equals the separator computed from its own bytes.
        func expected(_ name: String) -> Bytes32 {
            let typeHash = Keccak256.hash(utf8: "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)")
            let encoded = try! ABI.encode(
                [.bytes32(typeHash), .bytes32(Keccak256.hash(Array(name.utf8))), .bytes32(Keccak256.hash(utf8: "1")), .uint(84532), .address(token)],
                as: ["bytes32", "bytes32", "bytes32", "uint256", "address"])
            return Keccak256.hash(encoded)
        }
        #expect(first.separator == expected(composed))
        #expect(second.separator == expected(decomposed))
    }
}
