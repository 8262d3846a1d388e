import Foundation
import Testing
import X402
import X402EVMRPC

@testable import X402EVM

/// A settlement transaction the node holds but does not mine (its tip fell below what the node
/// takes, as in a fee spike): the owner's retry replaces it with a fee bump on the same nonce.
@Suite("stuck settlements on the devnet", .devnet)
struct StuckSettlementTests {
    @Test(
        "a settlement stuck below the node's minimum tip is replaced with a fee bump on the owner's retry: one transfer, one nonce, the replacement's hash"
    )
    func feeBump() async throws {
        let devnet = try await Devnet.shared()
        async let keyAccount = devnet.freshAccount()
        async let payerAccount = devnet.freshAccount(eth: .zero, usdc: 1_000)
        let (key, payer) = try await (keyAccount, payerAccount)
        let now = try await BatchedSettlementTests.chainNow(devnet)
        let payee = devnet.randomAddress()
        let requirements = try BatchedSettlementTests.requirements(devnet, payTo: payee, amount: "250")
        let payment = try await BatchedSettlementTests.pay(payer.key, requirements, clock: now)
        // From this key the node now wants a tip of 1.1e6 wei; the facilitator estimates 1e6.
        func minimumTip(_ wei: UInt256) async throws {
            _ = try await devnet.client.request(
                method: "devnet_setMinPriorityFee", params: [EthereumJSON.address(key.address), EthereumJSON.quantity(wei)])
        }
        try await minimumTip(UInt256(1_100_000))

        var options = ExactEVMFacilitator.Options()
        options.receiptTimeout = .seconds(2)
        options.replaceStuckTransactionsAfter = 0
        let records = InMemorySettlementRecordStore()
        let chain = EVMFacilitatorChain(
            network: try #require(Network(devnet.network)), client: devnet.client, signers: [key.key], receiptPollInterval: .milliseconds(50))
        let facilitator = ExactEVMFacilitator(chains: [chain], options: options, records: records, clock: .fixed(now))
        let owner = SettlementIdempotency.newID()
        func settle(as id: String?) async -> SettleResponse {
            await SettlementIdempotency.$current.withValue(id) { await facilitator.settle(payment, requirements: .v2(requirements)) }
        }

        let first = await settle(as: owner)
        #expect(!first.success && first.errorReason == .settlementPending, "\(first)")
        let stuck = try Bytes32(hex: first.transaction)
        #expect(try await devnet.usdcBalance(of: payee, at: .pending) == .zero)

        // The owner settles again: the node still holds the transaction unmined, so it is replaced.
        let again = await settle(as: owner)
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
        let record = try #require(try await records.record(for: settlementKey))
        #expect(record.transaction == replacement && record.earlierTransactions.contains(stuck) && record.status == .succeeded)
        // Anyone else is told it is settled, with the replacement's hash; nothing is sent again.
        let stranger = await settle(as: nil)
        #expect(!stranger.success && stranger.transaction == again.transaction, "\(stranger)")
        #expect(try await devnet.client.transactionCount(of: key.address, at: .pending) == 1)
        try await minimumTip(.zero)
    }
}
