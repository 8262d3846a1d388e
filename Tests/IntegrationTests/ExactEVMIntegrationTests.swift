import Foundation
import Testing
import X402
import X402EVM
import X402EVMRPC

/// The `exact` EVM scheme end to end on the devnet: client signs, facilitator verifies and settles
/// with its own fresh key, balances are read back from the chain.
@Suite("exact EVM on the devnet", .devnet)
struct ExactEVMIntegrationTests {
    /// A facilitator paying gas from a fresh key, plus a fresh funded payer and an empty payee.
    struct Harness {
        let devnet: Devnet
        let facilitatorAccount: DevnetAccount
        let facilitator: ExactEVMFacilitator
        let payer: DevnetAccount
        let payee: EthereumAddress
        let network: Network
        let pool: SignerPool

        static func make(payerUSDC: UInt256 = 1_000_000, configure: (inout ExactEVMFacilitator.Options) -> Void = { _ in }) async throws -> Harness {
            let devnet = try await Devnet.shared()
            async let facilitatorAccount = devnet.freshAccount()
            async let payer = devnet.freshAccount(eth: .zero, usdc: payerUSDC)
            let network = try #require(Network(devnet.network))
            var options = ExactEVMFacilitator.Options()
            options.receiptTimeout = .seconds(60)
            configure(&options)
            let account = try await facilitatorAccount
            let chain = EVMFacilitatorChain(
                network: network, client: devnet.client, signers: [account.key], receiptPollInterval: .milliseconds(50))
            return Harness(
                devnet: devnet, facilitatorAccount: account, facilitator: ExactEVMFacilitator(chains: [chain], options: options),
                payer: try await payer, payee: devnet.randomAddress(), network: network, pool: chain.signers)
        }

        func requirements(
            amount: String = "1000", payTo: EthereumAddress? = nil, asset: EthereumAddress? = nil, network: Network? = nil
        )
            -> PaymentRequirements
        {
            PaymentRequirements(
                scheme: "exact", network: network ?? self.network, amount: amount, asset: (asset ?? devnet.token).checksummed,
                payTo: (payTo ?? payee).checksummed, maxTimeoutSeconds: 120, extra: ["name": "USDC", "version": "2"])
        }

        func client(_ key: PrivateKey? = nil, clock: UnixClock = .system) -> ExactEVMClient {
            ExactEVMClient(signer: key ?? payer.key, clock: clock)
        }

        func payment(_ requirements: PaymentRequirements, key: PrivateKey? = nil, clock: UnixClock = .system) async throws -> AnyPaymentPayload {
            let payload = try await client(key, clock: clock).createPayload(for: requirements, context: PaymentContext(version: .v2))
            return .v2(PaymentPayload(accepted: requirements, payload: payload.payload))
        }

        func balances() async throws -> (payer: UInt256, payee: UInt256) {
            (try await devnet.usdcBalance(of: payer.address), try await devnet.usdcBalance(of: payee))
        }

        func facilitatorNonce() async throws -> UInt64 {
            try await devnet.client.transactionCount(of: facilitatorAccount.address, at: .latest)
        }
    }

    @Test("happy path: verify, settle, balances move by exactly the amount, real mined transaction")
    func happyPath() async throws {
        let h = try await Harness.make()
        let requirements = h.requirements(amount: "12345")
        let payment = try await h.payment(requirements)
        let before = try await h.balances()

        let verified = await h.facilitator.verify(payment, requirements: .v2(requirements))
        #expect(verified.isValid, "\(verified)")
        #expect(verified.payer == h.payer.address.checksummed)

        let settled = await h.facilitator.settle(payment, requirements: .v2(requirements))
        #expect(settled.success, "\(settled)")
        #expect(settled.network == "eip155:84532")
        #expect(settled.payer == h.payer.address.checksummed)
        let hash = try Bytes32(hex: settled.transaction)
        let receipt = try #require(try await h.devnet.client.transactionReceipt(hash))
        #expect(receipt.succeeded)
        #expect(receipt.from == h.facilitatorAccount.address)
        #expect(receipt.to == h.devnet.token)

        let after = try await h.balances()
        #expect(before.payer - after.payer == 12345)
        #expect(after.payee - before.payee == 12345)
    }

    @Test("v1 payment: settles and answers with the v1 network name")
    func v1HappyPath() async throws {
        let h = try await Harness.make()
        let v1 = PaymentRequirementsV1(
            scheme: "exact", network: "base-sepolia", maxAmountRequired: "777", resource: "https://example.com/v1",
            payTo: h.payee.checksummed, maxTimeoutSeconds: 120, asset: h.devnet.token.checksummed, extra: ["name": "USDC", "version": "2"])
        let scheme = try await h.client().createPayload(for: try #require(v1.normalized), context: PaymentContext(version: .v1))
        let payment = AnyPaymentPayload.v1(PaymentPayloadV1(scheme: "exact", network: "base-sepolia", payload: scheme.payload))
        #expect(await h.facilitator.verify(payment, requirements: .v1(v1)).isValid)
        let settled = await h.facilitator.settle(payment, requirements: .v1(v1))
        #expect(settled.success, "\(settled)")
        #expect(settled.network == "base-sepolia")
        #expect(try await h.devnet.usdcBalance(of: h.payee) == 777)
    }

    /// Verifies and settles `payment`; expects `reason` from both and that no money moved.
    func expectRejected(
        _ h: Harness, _ payment: AnyPaymentPayload, _ requirements: PaymentRequirements, _ reason: ErrorReason,
        settleReason: ErrorReason? = nil, sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        let before = try await h.balances()
        let nonceBefore = try await h.facilitatorNonce()
        let verified = await h.facilitator.verify(payment, requirements: .v2(requirements))
        #expect(!verified.isValid, sourceLocation: sourceLocation)
        #expect(verified.invalidReason == reason, "\(verified)", sourceLocation: sourceLocation)
        let settled = await h.facilitator.settle(payment, requirements: .v2(requirements))
        #expect(!settled.success, sourceLocation: sourceLocation)
        #expect(settled.errorReason == (settleReason ?? reason), "\(settled)", sourceLocation: sourceLocation)
        let after = try await h.balances()
        #expect(after.payer == before.payer && after.payee == before.payee, "money moved", sourceLocation: sourceLocation)
        #expect(try await h.facilitatorNonce() == nonceBefore, "a transaction was sent", sourceLocation: sourceLocation)
    }

    func editing(_ payment: AnyPaymentPayload, _ edit: (inout JSONObject) -> Void) -> AnyPaymentPayload {
        guard case .v2(var p) = payment else { return payment }
        edit(&p.payload)
        return .v2(p)
    }

    @Test("each failure class: its reason, no money moved, no transaction sent")
    func failures() async throws {
        let h = try await Harness.make()
        let requirements = h.requirements()

        // Wrong signer: someone else signs an authorization claiming the payer's address.
        var forged = try await h.client(PrivateKey.random()).signedPayload(for: requirements)
        forged.authorization.from = h.payer.address
        try await expectRejected(h, .v2(PaymentPayload(accepted: requirements, payload: forged.json)), requirements, .exactEVMSignature)

        let payment = try await h.payment(requirements)
        // Tampered amount: the server asks for more than was signed.
        try await expectRejected(h, payment, h.requirements(amount: "1001"), .exactEVMAuthorizationValue)
        // Tampered recipient in the authorization.
        let redirected = editing(payment) { p in
            var a = p["authorization"]!.objectValue!
            a["to"] = .string(h.devnet.randomAddress().checksummed)
            p["authorization"] = .object(a)
        }
        try await expectRejected(h, redirected, requirements, .exactEVMSignature)
        // Recipient differs from the server's payTo.
        try await expectRejected(h, payment, h.requirements(payTo: h.devnet.randomAddress()), .exactEVMRecipientMismatch)
        // Another asset: not in the registry nor allowlisted, so refused before its EIP-712 domain
        // is used (was .exactEVMSignature before the asset allowlist, security review F9; the
        // domain binding itself is covered with an allowlisted asset in ExactEVMFacilitatorTests).
        let otherAsset = h.devnet.randomAddress()
        try await expectRejected(h, payment, h.requirements(asset: otherAsset), .assetNotAccepted)
        // Network: paid on Base, asked on the devnet's chain.
        let onBase = try await h.payment(h.requirements(network: .base))
        try await expectRejected(h, onBase, requirements, .exactEVMNetworkMismatch)
        // Chain id: signed for chain 8453 but presented as the devnet's chain.
        let signedForBase = try await h.client().signedPayload(for: h.requirements(network: .base))
        try await expectRejected(h, .v2(PaymentPayload(accepted: requirements, payload: signedForBase.json)), requirements, .exactEVMSignature)
        // Expired and not yet valid.
        let now = UnixClock.system.now
        try await expectRejected(h, try await h.payment(requirements, clock: .fixed(now - 200)), requirements, .exactEVMValidBefore)
        try await expectRejected(h, try await h.payment(requirements, clock: .fixed(now + 1000)), requirements, .exactEVMValidAfter)
        // High s (same key, malleated): rejected offline.
        let parsed = try ExactEVMPayload(json: payment.payload)
        let order = UInt256(hex: "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141")!
        let s = UInt256(bigEndian: parsed.signature[32..<64])!
        let highS = Array(parsed.signature[0..<32]) + (order - s).bigEndianBytes + [parsed.signature[64] == 27 ? 28 : 27]
        try await expectRejected(h, editing(payment) { $0["signature"] = .string(Hex.encode(highS)) }, requirements, .exactEVMSignature)
        // Malformed payloads.
        try await expectRejected(h, editing(payment) { $0["authorization"] = nil }, requirements, .exactEVMPayload)
        try await expectRejected(h, editing(payment) { $0["signature"] = "0x1234zz" }, requirements, .exactEVMSignatureFormat)
        try await expectRejected(h, editing(payment) { $0["signature"] = nil }, requirements, .exactEVMPayloadMissingSignature)

        // The untouched payment still settles afterwards.
        let settled = await h.facilitator.settle(payment, requirements: .v2(requirements))
        #expect(settled.success, "\(settled)")
    }

    @Test("insufficient balance: simulation diagnoses it; settle's reverted transaction maps to it")
    func insufficientBalance() async throws {
        let h = try await Harness.make(payerUSDC: 500)
        let requirements = h.requirements(amount: "1000")
        let payment = try await h.payment(requirements)
        let verified = await h.facilitator.verify(payment, requirements: .v2(requirements))
        #expect(verified.invalidReason == .exactEVMInsufficientBalance, "\(verified)")
        // With simulation in settle (recommended for untrusted callers) nothing is sent.
        let careful = try await Harness.make(payerUSDC: 500) { $0.simulateInSettle = true }
        let carefulPayment = try await careful.payment(careful.requirements(amount: "1000"))
        let nonce = try await careful.facilitatorNonce()
        let refused = await careful.facilitator.settle(carefulPayment, requirements: .v2(careful.requirements(amount: "1000")))
        #expect(refused.errorReason == .exactEVMInsufficientBalance, "\(refused)")
        #expect(try await careful.facilitatorNonce() == nonce)
        // The reference default (no simulation in settle): the transfer reverts on-chain, its hash is reported.
        let settled = await h.facilitator.settle(payment, requirements: .v2(requirements))
        #expect(settled.errorReason == .exactEVMInsufficientBalance, "\(settled)")
        #expect(!settled.transaction.isEmpty)
        #expect(try await h.devnet.usdcBalance(of: h.payer.address) == 500)
    }

    @Test("reused nonce after a successful settle: rejected by verify and by another facilitator's settle, nothing sent")
    func reusedNonce() async throws {
        let h = try await Harness.make()
        let requirements = h.requirements()
        let payment = try await h.payment(requirements)
        let first = await h.facilitator.settle(payment, requirements: .v2(requirements))
        #expect(first.success, "\(first)")
        #expect(await h.facilitator.verify(payment, requirements: .v2(requirements)).invalidReason == .exactEVMNonceAlreadyUsed)
        // A second facilitator (no shared record) sees authorizationState on-chain and sends nothing.
        let other = try await Harness.make()
        let nonce = try await other.facilitatorNonce()
        let again = await other.facilitator.settle(payment, requirements: .v2(requirements))
        #expect(again.errorReason == .exactEVMNonceAlreadyUsed, "\(again)")
        #expect(try await other.facilitatorNonce() == nonce)
        #expect(try await h.devnet.usdcBalance(of: h.payee) == 1000)
    }

    // Was "... same hash" with every answer a success; now only the first request owns the
    // settlement and the others fail naming its transaction (security review F2).
    @Test("settle twice (sequentially and concurrently): one transaction, one transfer, one success, every answer names it")
    func settleTwice() async throws {
        let h = try await Harness.make()
        let requirements = h.requirements()
        let payment = try await h.payment(requirements)
        let nonce = try await h.facilitatorNonce()
        let concurrent = await withTaskGroup(of: SettleResponse.self) { group in
            for _ in 0..<5 { group.addTask { await h.facilitator.settle(payment, requirements: .v2(requirements)) } }
            return await group.reduce(into: [SettleResponse]()) { $0.append($1) }
        }
        let later = await h.facilitator.settle(payment, requirements: .v2(requirements))
        let all = concurrent + [later]
        #expect(all.filter(\.success).count == 1, "\(all)")
        #expect(!later.success && later.errorReason == .exactEVMNonceAlreadyUsed, "\(later)")
        #expect(Set(all.map(\.transaction)).count == 1)
        #expect(try await h.facilitatorNonce() == nonce + 1)
        #expect(try await h.devnet.usdcBalance(of: h.payee) == 1000)
    }

    @Test("200 concurrent verifications with simulation (throughput is printed, not asserted)")
    func verifyThroughput() async throws {
        let h = try await Harness.make(payerUSDC: 200 * 1000)
        let requirements = h.requirements(amount: "1000")
        var payments: [AnyPaymentPayload] = []
        for _ in 0..<200 { payments.append(try await h.payment(requirements)) }
        _ = await h.facilitator.verify(payments[0], requirements: .v2(requirements))  // chain id and token code are cached after this
        let started = ContinuousClock.now
        let results = await withTaskGroup(of: VerifyResponse.self) { group in
            for payment in payments { group.addTask { await h.facilitator.verify(payment, requirements: .v2(requirements)) } }
            return await group.reduce(into: [VerifyResponse]()) { $0.append($1) }
        }
        let elapsed = ContinuousClock.now - started
        #expect(results.allSatisfy { $0.isValid })
        print("exact-evm verify: 200 verifications with simulation in \(elapsed)")
    }

    @Test("200 concurrent settlements from one facilitator key: 200 distinct mined transactions, no nonce errors")
    func twoHundredConcurrent() async throws {
        let h = try await Harness.make(payerUSDC: 0)
        let payers = try await withThrowingTaskGroup(of: DevnetAccount.self) { group in
            for _ in 0..<10 { group.addTask { try await h.devnet.freshAccount(eth: .zero, usdc: 20 * 1000) } }
            return try await group.reduce(into: [DevnetAccount]()) { $0.append($1) }
        }
        let requirements = h.requirements(amount: "1000")
        var payments: [AnyPaymentPayload] = []
        for payer in payers {
            for _ in 0..<20 { payments.append(try await h.payment(requirements, key: payer.key)) }
        }
        let nonceBefore = try await h.facilitatorNonce()
        let started = ContinuousClock.now
        let responses = await withTaskGroup(of: SettleResponse.self) { group in
            for payment in payments { group.addTask { await h.facilitator.settle(payment, requirements: .v2(requirements)) } }
            return await group.reduce(into: [SettleResponse]()) { $0.append($1) }
        }
        let elapsed = ContinuousClock.now - started
        let failures = responses.filter { !$0.success }
        #expect(failures.isEmpty, "\(failures.prefix(3))")
        let hashes = Set(responses.map(\.transaction))
        #expect(hashes.count == 200)
        var blocks = Set<UInt64>()
        for hash in hashes {
            let receipt = try #require(try await h.devnet.client.transactionReceipt(try Bytes32(hex: hash)))
            #expect(receipt.succeeded)
            blocks.insert(receipt.blockNumber)
        }
        #expect(try await h.facilitatorNonce() == nonceBefore + 200)
        #expect(try await h.devnet.usdcBalance(of: h.payee) == 200 * 1000)
        let stats = await h.pool.statistics
        #expect(stats.nonceRetries == 0 && stats.feeRetries == 0 && stats.submitted == 200, "\(stats)")
        print("exact-evm burst: 200 settlements in \(elapsed) over \(blocks.count) blocks")
    }
}
