import Foundation
import Logging
import Testing
import X402
import X402EVMRPC

@testable import X402EVM
@testable import X402Facilitator

/// A settlement transaction the node holds but does not mine (its tip fell below what the node
/// takes, as in a fee spike): the owner's retry replaces it with a fee bump on the same nonce.
@Suite("stuck settlements on the devnet", .devnet)
struct StuckSettlementTests {
    /// A fresh facilitator key, and a payment of `amount` from a fresh payer to a fresh payee.
    struct Scene {
        let devnet: Devnet
        let key: DevnetAccount
        let now: UInt64
        let payee: EthereumAddress
        let requirements: PaymentRequirements
        let payment: AnyPaymentPayload

        static func make(amount: String) async throws -> Scene {
            let devnet = try await Devnet.shared()
            async let keyAccount = devnet.freshAccount()
            async let payerAccount = devnet.freshAccount(eth: .zero, usdc: 1_000)
            let (key, payer) = try await (keyAccount, payerAccount)
            let now = try await BatchedSettlementTests.chainNow(devnet)
            let payee = devnet.randomAddress()
            let requirements = try BatchedSettlementTests.requirements(devnet, payTo: payee, amount: amount)
            let payment = try await BatchedSettlementTests.pay(payer.key, requirements, clock: now)
            return Scene(devnet: devnet, key: key, now: now, payee: payee, requirements: requirements, payment: payment)
        }
    }

    @Test(
        "a settlement stuck below the node's minimum tip is replaced with a fee bump on the owner's retry: one transfer, one nonce, the replacement's hash"
    )
    func feeBump() async throws {
        let scene = try await Scene.make(amount: "250")
        let (devnet, key, now, payee, requirements, payment) = (scene.devnet, scene.key, scene.now, scene.payee, scene.requirements, scene.payment)
        // From this key the node now wants a tip of 1.1e6 wei; the facilitator estimates 1e6.
        func minimumTip(_ wei: UInt256) async throws {
            _ = try await devnet.client.request(
                method: "devnet_setMinPriorityFee", params: [EthereumJSON.address(key.address), EthereumJSON.quantity(wei)])
        }
        try await minimumTip(UInt256(1_100_000))

        let records = InMemorySettlementRecordStore()
        let chain = EVMFacilitatorChain(
            network: try #require(Network(devnet.network)), client: devnet.client, signers: [key.key], receiptPollInterval: .milliseconds(50))
        // One instance of the facilitator gives up on the parked transaction after 2 s; the
        // owner's retry reaches another on the same records and key that waits as long as a
        // loaded devnet may need to mine the replacement.
        func facilitator(receiptTimeout: Duration) -> ExactEVMFacilitator {
            var options = ExactEVMFacilitator.Options()
            options.receiptTimeout = receiptTimeout
            options.replaceStuckTransactionsAfter = 0
            return ExactEVMFacilitator(chains: [chain], options: options, records: records, clock: .fixed(now))
        }
        let (impatient, patient) = (facilitator(receiptTimeout: .seconds(2)), facilitator(receiptTimeout: .seconds(90)))
        let owner = SettlementIdempotency.newID()
        func settle(as id: String?, on facilitator: ExactEVMFacilitator) async -> SettleResponse {
            await SettlementIdempotency.$current.withValue(id) { await facilitator.settle(payment, requirements: .v2(requirements)) }
        }

        let first = await settle(as: owner, on: impatient)
        #expect(!first.success && first.errorReason == .settlementPending, "\(first)")
        let stuck = try Bytes32(hex: first.transaction)
        #expect(try await devnet.usdcBalance(of: payee, at: .pending) == .zero)

        // The owner settles again: the node still holds the transaction unmined, so it is replaced.
        let again = await settle(as: owner, on: patient)
        #expect(again.success, "\(again)")
        let replacement = try Bytes32(hex: again.transaction)
        #expect(replacement != stuck)
        let receipt = try await devnet.waitForReceipt(replacement)
        #expect(receipt.succeeded)
        #expect(try await devnet.usdcBalance(of: payee) == 250)
        // One nonce: the replacement took the stuck transaction's place, which can never mine.
        #expect(try await devnet.client.transactionCount(of: key.address, at: .latest) == 1)
        #expect(try await devnet.client.transactionReceipt(stuck) == nil)
        #expect(await chain.signers.statistics.replacements == 1)
        guard case .v2(let signed) = payment else {
            Issue.record("expected a v2 payment")
            return
        }
        let authorization = try ExactEVMPayload(json: signed.payload).authorization
        let settlementKey = SettlementKey(chainID: devnet.chainID, token: devnet.token, payer: authorization.from, nonce: authorization.nonce)
        let record = try #require(await records.record(for: settlementKey))
        #expect(record.transaction == replacement && record.earlierTransactions.contains(stuck) && record.status == .succeeded)
        // Anyone else is told it is settled, with the replacement's hash; nothing is sent again.
        let stranger = await settle(as: nil, on: impatient)
        #expect(!stranger.success && stranger.transaction == again.transaction, "\(stranger)")
        #expect(try await devnet.client.transactionCount(of: key.address, at: .pending) == 1)
        try await minimumTip(.zero)
    }

    @Test("a restart finds a fee bump's original mined instead of the recorded replacement: paid by the original, never failed")
    func resumeFindsTheOriginal() async throws {
        let scene = try await Scene.make(amount: "300")
        let (devnet, key, now, payee, requirements, payment) = (scene.devnet, scene.key, scene.now, scene.payee, scene.requirements, scene.payment)
        let records = InMemorySettlementRecordStore()
        let network = try #require(Network(devnet.network))
        let chain = EVMFacilitatorChain(network: network, client: devnet.client, signers: [key.key], receiptPollInterval: .milliseconds(50))
        let facilitator = ExactEVMFacilitator(chains: [chain], options: ExactEVMFacilitator.Options(), records: records, clock: .fixed(now))
        let owner = SettlementIdempotency.newID()
        let paid = await SettlementIdempotency.$current.withValue(owner) { await facilitator.settle(payment, requirements: .v2(requirements)) }
        #expect(paid.success, "\(paid)")
        let original = try Bytes32(hex: paid.transaction)

        // The state a crash leaves after a fee bump was recorded and before the original mined
        // (here it mined already): the record names the replacement, the original among the earlier.
        guard case .v2(let signed) = payment else {
            Issue.record("expected a v2 payment")
            return
        }
        let authorization = try ExactEVMPayload(json: signed.payload).authorization
        let settlementKey = SettlementKey(chainID: devnet.chainID, token: devnet.token, payer: authorization.from, nonce: authorization.nonce)
        let replacement = EIP1559Transaction(
            chainId: devnet.chainID, nonce: 0, maxPriorityFeePerGas: UInt256(2_000_000), maxFeePerGas: UInt256(10_000_000_000),
            gasLimit: 120_000, to: devnet.token, data: EIP3009Calls.transfer(authorization, signature: [])
        ).signed(with: key.key)
        var record = try #require(await records.record(for: settlementKey))
        record.status = .pending
        record.transaction = replacement.hash
        record.rawTransaction = replacement.rawBytes
        record.earlierTransactions = [original]
        await records.save(record)
        let journal = SettlementJournal(store: InMemorySettlementJournalStore())
        try await journal.store.save(
            SettlementJournalEntry(
                id: "bump-\(owner)", network: devnet.network, scheme: "exact", status: .submitted, transaction: replacement.hash.hexString,
                schemeKey: settlementKey.description, createdAt: Date(timeIntervalSince1970: 0), updatedAt: Date(timeIntervalSince1970: 0)))

        let resumer = SettlementResumer(journal: journal, records: records, chains: [chain], logger: Logger(label: "test"))
        #expect(await resumer.resumeOpenSettlements(startedBefore: Date()) == 0)
        let entry = try #require(try await journal.store.entry(id: "bump-\(owner)"))
        #expect(entry.status == .confirmed && entry.response?.success == true && entry.transaction == original.hexString, "\(entry)")
        let final = try #require(await records.record(for: settlementKey))
        #expect(final.status == .succeeded && final.transaction == original)
        #expect(try await devnet.usdcBalance(of: payee) == 300)
    }
}
