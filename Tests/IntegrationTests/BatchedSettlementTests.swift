import Foundation
import Logging
import NIOConcurrencyHelpers
import Testing
import X402
import X402EVMRPC
import X402Postgres
import X402SQLite
import X402TestSupport

@testable import X402EVM
@testable import X402Facilitator

/// Batched settlement (one Multicall3 `aggregate3` transaction for many `/settle`s) on the devnet:
/// exactly the payments that can pay are paid, each answer is the truthful one for that payment
/// (the same as one-by-one settlement), and the money-safety rules hold per payment.
@Suite("batched settlement on the devnet", .devnet)
struct BatchedSettlementTests {
    static func chainNow(_ devnet: Devnet) async throws -> UInt64 {
        let time = try await devnet.client.request(method: "devnet_time")
        return try #require(time["chainClock"]?.numberValue?.uint64Value)
    }

    static func requirements(_ devnet: Devnet, payTo: EthereumAddress, amount: String, timeout: Int = 3600) throws -> PaymentRequirements {
        PaymentRequirements(
            scheme: "exact", network: try #require(Network(devnet.network)), amount: amount, asset: devnet.token.checksummed,
            payTo: payTo.checksummed, maxTimeoutSeconds: timeout, extra: ["name": .string("USDC"), "version": .string("2")])
    }

    static func pay(_ key: PrivateKey, _ requirements: PaymentRequirements, clock: UInt64) async throws -> AnyPaymentPayload {
        let client = ExactEVMClient(signer: key, clock: .fixed(clock), maxValiditySeconds: 7200)
        let payload = try await client.signedPayload(for: requirements)
        return .v2(PaymentPayload(accepted: requirements, payload: payload.json))
    }

    static func facilitator(
        _ devnet: Devnet, key: PrivateKey, clock: UInt64, batch: Int?, client: (any EthereumClient)? = nil,
        receiptTimeout: Duration = .seconds(45), replaceStuckAfter: UInt64? = 60
    ) throws -> ExactEVMFacilitator {
        var options = ExactEVMFacilitator.Options()
        options.replaceStuckTransactionsAfter = replaceStuckAfter
        // Let payments whose authorization is already used reach the transaction (batch or not),
        // so the batch's own simulation and the receipt decide their answers.
        options.checkAuthorizationStateBeforeSending = false
        options.receiptTimeout = receiptTimeout
        if let batch {
            options.batchSettlements = true
            // Long window, exact batch size: the batch leaves when every payment is in it.
            options.settlementBatchWindow = .seconds(60)
            options.maximumSettlementBatch = batch
        }
        let chain = EVMFacilitatorChain(
            network: try #require(Network(devnet.network)), client: client ?? devnet.client, signers: [key],
            receiptPollInterval: .milliseconds(50))
        return ExactEVMFacilitator(chains: [chain], options: options, clock: .fixed(clock))
    }

    /// One round of the failure classes, on fresh accounts: each case's payee, amount and payload.
    struct Round {
        var labels: [String] = []
        var payments: [(AnyPaymentPayload, PaymentRequirements)] = []
        var payees: [EthereumAddress] = []
        var amounts: [UInt256] = []
    }

    /// valid (payer A), a second valid debit of A, valid (payer B), insufficient balance (C),
    /// expired on chain (the facilitator's clock is behind), nonce used between verify and settle.
    static func round(_ devnet: Devnet, clock: UInt64) async throws -> Round {
        async let a = devnet.freshAccount(eth: .zero, usdc: 2_000)
        async let b = devnet.freshAccount(eth: .zero, usdc: 1_000)
        async let c = devnet.freshAccount(eth: .zero, usdc: 100)
        async let d = devnet.freshAccount(eth: .zero, usdc: 1_000)
        async let e = devnet.freshAccount(eth: .zero, usdc: 1_000)
        async let settlerAccount = devnet.freshAccount()
        let (payerA, payerB, payerC, payerD, payerE, settler) = try await (a, b, c, d, e, settlerAccount)
        var round = Round()
        func add(_ label: String, _ key: PrivateKey, amount: UInt64, timeout: Int = 3600) async throws {
            let payee = devnet.randomAddress()
            let offered = try Self.requirements(devnet, payTo: payee, amount: String(amount), timeout: timeout)
            round.labels.append(label)
            round.payments.append((try await Self.pay(key, offered, clock: clock), offered))
            round.payees.append(payee)
            round.amounts.append(UInt256(amount))
        }
        try await add("valid A", payerA.key, amount: 1_000)
        try await add("second debit of A", payerA.key, amount: 900)
        try await add("valid B", payerB.key, amount: 700)
        try await add("insufficient balance", payerC.key, amount: 5_000)
        // Signed with validBefore = clock + 120, which the chain (ahead of the facilitator's clock) has passed.
        try await add("expired on chain", payerD.key, amount: 10, timeout: 120)
        try await add("nonce used between verify and settle", payerE.key, amount: 10)
        // Used between verify and settle: another facilitator settles it first.
        let other = try facilitator(devnet, key: settler.key, clock: clock, batch: nil)
        let (usedPayment, usedRequirements) = round.payments[5]
        let first = await other.settle(usedPayment, requirements: .v2(usedRequirements))
        try #require(first.success, "\(first)")
        return round
    }

    static let expectedReasons: [ErrorReason?] = [
        nil, nil, nil, .exactEVMInsufficientBalance, .exactEVMValidBefore, .exactEVMNonceAlreadyUsed,
    ]

    /// Settles every payment of the round concurrently; answers in the round's order.
    static func settleAll(_ facilitator: ExactEVMFacilitator, _ round: Round) async -> [SettleResponse] {
        await withTaskGroup(of: (Int, SettleResponse).self) { group in
            for (index, (payment, requirements)) in round.payments.enumerated() {
                group.addTask { (index, await facilitator.settle(payment, requirements: .v2(requirements))) }
            }
            var answers = [SettleResponse?](repeating: nil, count: round.payments.count)
            for await (index, answer) in group { answers[index] = answer }
            return answers.compactMap { $0 }
        }
    }

    @Test("mixed valid and failing payments in one batch: exactly the valid ones paid, each answer as one-by-one settlement gives it")
    func mixedBatch() async throws {
        let devnet = try await Devnet.shared()
        let now = try await Self.chainNow(devnet)
        // The facilitators' clock is 3000 s behind the chain: the payment signed for 120 s looks
        // valid to them and is expired on chain.
        let clock = now - 3000
        async let batchedKey = devnet.freshAccount()
        async let singleKey = devnet.freshAccount()
        async let batchedRound = Self.round(devnet, clock: clock)
        async let singleRound = Self.round(devnet, clock: clock)
        let (batchedAccount, singleAccount, batched, single) = try await (batchedKey, singleKey, batchedRound, singleRound)

        let facilitator = try Self.facilitator(devnet, key: batchedAccount.key, clock: clock, batch: batched.payments.count)
        let network = try #require(Network(devnet.network))
        let batcher = try #require(facilitator.batchers[network])
        let answers = await Self.settleAll(facilitator, batched)
        let alone = try Self.facilitator(devnet, key: singleAccount.key, clock: clock, batch: nil)
        let aloneAnswers = await Self.settleAll(alone, single)
        try #require(answers.count == batched.payments.count && aloneAnswers.count == single.payments.count)

        #expect(answers.map(\.errorReason) == Self.expectedReasons, "\(answers)")
        #expect(aloneAnswers.map(\.errorReason) == Self.expectedReasons, "\(aloneAnswers)")
        for (index, label) in batched.labels.enumerated() {
            #expect(answers[index].success == aloneAnswers[index].success, "\(label)")
            #expect(answers[index].success == (Self.expectedReasons[index] == nil), "\(label)")
        }
        // One batch, one transaction: every success carries the same hash, sent to Multicall3.
        #expect(await batcher.batchesRun == 1)
        #expect(await batcher.largestBatch == batched.payments.count)
        let hashes = Set(answers.filter(\.success).map(\.transaction))
        #expect(hashes.count == 1)
        let hash = try Bytes32(hex: try #require(hashes.first))
        let receipt = try await devnet.waitForReceipt(hash)
        #expect(receipt.to == EIP3009Calls.multicall3)
        // Only the batch was sent from the batched facilitator's key.
        #expect(try await devnet.client.transactionCount(of: batchedAccount.address, at: .latest) == 1)
        // Balances exact: the valid payments paid, nothing else moved.
        for round in [batched, single] {
            for (index, payee) in round.payees.enumerated() {
                let expected: UInt256 = Self.expectedReasons[index] == nil || index == 5 ? round.amounts[index] : .zero
                #expect(try await devnet.usdcBalance(of: payee) == expected, "\(round.labels[index])")
            }
        }
        // Settling a paid one again (no owner) is a duplicate carrying the batch's transaction.
        let again = await facilitator.settle(batched.payments[0].0, requirements: .v2(batched.payments[0].1))
        #expect(!again.success && again.errorReason == .exactEVMNonceAlreadyUsed && again.transaction == hash.hexString, "\(again)")
    }

    @Test("the same authorization twice in one batch is sent once; the duplicate is refused")
    func duplicatesInOneBatch() async throws {
        let devnet = try await Devnet.shared()
        let now = try await Self.chainNow(devnet)
        async let keyAccount = devnet.freshAccount()
        async let payerAccount = devnet.freshAccount(eth: .zero, usdc: 1_000)
        async let otherAccount = devnet.freshAccount(eth: .zero, usdc: 1_000)
        let (key, payer, other) = try await (keyAccount, payerAccount, otherAccount)
        let payee = devnet.randomAddress()
        let requirements = try Self.requirements(devnet, payTo: payee, amount: "400")
        let payment = try await Self.pay(payer.key, requirements, clock: now)
        let second = try await Self.pay(other.key, requirements, clock: now)
        let facilitator = try Self.facilitator(devnet, key: key.key, clock: now, batch: 3)
        // The facilitator shares concurrent settlements of one authorization before batching; the
        // batch itself refuses a duplicate that reaches it (checked here through the batch directly).
        let checked = try await facilitator.check(payment, .v2(requirements), timeWindow: false)
        let checkedSecond = try await facilitator.check(second, .v2(requirements), timeWindow: false)
        let entries = [checked, checked, checkedSecond].map { SettlementBatcher.Entry(payment: $0, owner: nil, earlier: []) }
        let outcomes = await facilitator.settleBatch(entries)
        let answers = outcomes.map { $0.response(network: devnet.network, payer: nil) }
        #expect(answers.map(\.success) == [true, false, true], "\(answers)")
        #expect(answers[1].errorReason == .duplicateSettlement)
        #expect(answers[0].transaction == answers[2].transaction)
        #expect(try await devnet.usdcBalance(of: payee) == 800)
        #expect(try await devnet.usdcBalance(of: payer.address) == 600)
        #expect(try await devnet.client.transactionCount(of: key.address, at: .latest) == 1)
    }

    @Test("a batch whose receipt is late: every payment pending with the shared hash; retries never send again and then answer the truth")
    func lateReceipt() async throws {
        let devnet = try await Devnet.shared()
        let now = try await Self.chainNow(devnet)
        async let keyAccount = devnet.freshAccount()
        async let payerA = devnet.freshAccount(eth: .zero, usdc: 1_000)
        async let payerB = devnet.freshAccount(eth: .zero, usdc: 1_000)
        let (key, a, b) = try await (keyAccount, payerA, payerB)
        let payee = devnet.randomAddress()
        let requirements = try Self.requirements(devnet, payTo: payee, amount: "250")
        let paymentA = try await Self.pay(a.key, requirements, clock: now)
        let paymentB = try await Self.pay(b.key, requirements, clock: now)
        // The node accepts the transaction but does not mine it until released.
        let node = HeldBroadcastClient(inner: devnet.client)
        // Stuck transactions would be bumped at once, but a batch's never is (its records are one per payment).
        let facilitator = try Self.facilitator(
            devnet, key: key.key, clock: now, batch: 2, client: node, receiptTimeout: .milliseconds(300), replaceStuckAfter: 0)
        let (idA, idB) = (SettlementIdempotency.newID(), SettlementIdempotency.newID())
        func settle(_ payment: AnyPaymentPayload, as id: String?) async -> SettleResponse {
            await SettlementIdempotency.$current.withValue(id) { await facilitator.settle(payment, requirements: .v2(requirements)) }
        }
        async let answerA = settle(paymentA, as: idA)
        async let answerB = settle(paymentB, as: idB)
        let (firstA, firstB) = await (answerA, answerB)
        #expect(firstA.errorReason == .settlementPending && firstB.errorReason == .settlementPending, "\(firstA) \(firstB)")
        #expect(!firstA.transaction.isEmpty && firstA.transaction == firstB.transaction)

        // The owner's retry while the receipt is missing resumes the same signed transaction.
        let retried = await settle(paymentA, as: idA)
        #expect(retried.errorReason == .settlementPending && retried.transaction == firstA.transaction, "\(retried)")
        // Another request for B is told a settlement is under way, with the transaction.
        let stranger = await settle(paymentB, as: SettlementIdempotency.newID())
        #expect(stranger.errorReason == .duplicateSettlement && stranger.transaction == firstA.transaction, "\(stranger)")
        #expect(node.distinctBroadcasts == 1)

        // The transaction mines: each owner's retry gets its own success with the shared hash.
        try await node.release()
        _ = try await devnet.waitForReceipt(try Bytes32(hex: firstA.transaction))
        let finalA = await settle(paymentA, as: idA)
        let finalB = await settle(paymentB, as: idB)
        #expect(finalA.success && finalA.transaction == firstA.transaction, "\(finalA)")
        #expect(finalB.success && finalB.transaction == firstA.transaction, "\(finalB)")
        #expect(try await devnet.usdcBalance(of: payee) == 500)
        #expect(node.distinctBroadcasts == 1)
        #expect(try await devnet.client.transactionCount(of: key.address, at: .latest) == 1)
    }

    @Test("a payer front-runs one authorization of a batch already sent: only that payment fails, with the truth; the other is paid")
    func frontRunWithinBatch() async throws {
        let devnet = try await Devnet.shared()
        let now = try await Self.chainNow(devnet)
        async let keyAccount = devnet.freshAccount()
        async let otherAccount = devnet.freshAccount()
        async let payerA = devnet.freshAccount(eth: .zero, usdc: 1_000)
        async let payerB = devnet.freshAccount(eth: .zero, usdc: 1_000)
        let (key, other, a, b) = try await (keyAccount, otherAccount, payerA, payerB)
        let payee = devnet.randomAddress()
        let requirements = try Self.requirements(devnet, payTo: payee, amount: "300")
        let paymentA = try await Self.pay(a.key, requirements, clock: now)
        let paymentB = try await Self.pay(b.key, requirements, clock: now)
        // The batch is signed and handed to the node, which holds it: the front-runner's
        // transaction mines first.
        let node = HeldBroadcastClient(inner: devnet.client)
        let facilitator = try Self.facilitator(devnet, key: key.key, clock: now, batch: 2, client: node, receiptTimeout: .milliseconds(300))
        let (idA, idB) = (SettlementIdempotency.newID(), SettlementIdempotency.newID())
        func settle(_ payment: AnyPaymentPayload, as id: String) async -> SettleResponse {
            await SettlementIdempotency.$current.withValue(id) { await facilitator.settle(payment, requirements: .v2(requirements)) }
        }
        async let answerA = settle(paymentA, as: idA)
        async let answerB = settle(paymentB, as: idB)
        let (firstA, firstB) = await (answerA, answerB)
        #expect(firstA.errorReason == .settlementPending && firstB.errorReason == .settlementPending, "\(firstA) \(firstB)")
        let batch = firstA.transaction

        let frontRunner = try Self.facilitator(devnet, key: other.key, clock: now, batch: nil)
        let frontRun = await frontRunner.settle(paymentA, requirements: .v2(requirements))
        try #require(frontRun.success, "\(frontRun)")
        try await node.release()
        let receipt = try await devnet.waitForReceipt(try Bytes32(hex: batch))
        // The batch itself succeeded; A's call in it failed without failing B's.
        #expect(receipt.succeeded && receipt.to == EIP3009Calls.multicall3)

        let finalA = await settle(paymentA, as: idA)
        let finalB = await settle(paymentB, as: idB)
        #expect(!finalA.success && finalA.errorReason == .exactEVMNonceAlreadyUsed, "\(finalA)")
        #expect(finalB.success && finalB.transaction == batch, "\(finalB)")
        // A was paid once (by the front-runner's transaction), B once (by the batch).
        #expect(try await devnet.usdcBalance(of: payee) == 600)
        #expect(try await devnet.usdcBalance(of: a.address) == 700)
        #expect(try await devnet.usdcBalance(of: b.address) == 700)
    }

    @Test(
        "a batch mined without some of its transfers (gas too low): those payments are told nothing moved and settle on a retry, once; so does a restart's resume pass"
    )
    func batchOutOfGas() async throws {
        try await Self.starvedBatch(records: InMemorySettlementRecordStore(), journal: InMemorySettlementJournalStore())
    }

    @Test("the starved batch, its resume pass and the retries with the records and journal in SQLite")
    func batchOutOfGasSQLite() async throws {
        let store = try SQLiteSettlementStore()
        try await Self.starvedBatch(records: SchemeSettlementRecords(store: store), journal: store)
    }

    /// A batch of two sent with too little gas for both, a restart's resume pass over it, and the
    /// owners' retries on a facilitator with enough gas, on `records` and `journal`.
    static func starvedBatch(records: any SettlementRecordStore, journal journalStore: any SettlementJournalStore) async throws {
        let devnet = try await Devnet.shared()
        let now = try await Self.chainNow(devnet)
        async let keyAccount = devnet.freshAccount()
        async let payerA = devnet.freshAccount(eth: .zero, usdc: 1_000)
        async let payerB = devnet.freshAccount(eth: .zero, usdc: 1_000)
        let (key, a, b) = try await (keyAccount, payerA, payerB)
        let payee = devnet.randomAddress()
        let requirements = try Self.requirements(devnet, payTo: payee, amount: "100")
        let payments = [try await Self.pay(a.key, requirements, clock: now), try await Self.pay(b.key, requirements, clock: now)]
        let network = try #require(Network(devnet.network))
        func make(transferGas: UInt64, window: Duration) -> ExactEVMFacilitator {
            var options = ExactEVMFacilitator.Options()
            options.batchSettlements = true
            options.settlementBatchWindow = window
            options.maximumSettlementBatch = 2
            options.transferGasLimit = transferGas
            let chain = EVMFacilitatorChain(network: network, client: devnet.client, signers: [key.key], receiptPollInterval: .milliseconds(50))
            return ExactEVMFacilitator(chains: [chain], options: options, records: records, clock: .fixed(now))
        }
        // 2 × 20 000 + 60 000 gas: not enough for both transfers.
        let starved = make(transferGas: 20_000, window: .seconds(60))
        let ids = [SettlementIdempotency.newID(), SettlementIdempotency.newID()]
        let first = await withTaskGroup(of: (Int, SettleResponse).self) { group in
            for index in 0..<2 {
                group.addTask {
                    await SettlementIdempotency.$current.withValue(ids[index]) {
                        (index, await starved.settle(payments[index], requirements: .v2(requirements)))
                    }
                }
            }
            var answers = [SettleResponse?](repeating: nil, count: 2)
            for await (index, answer) in group { answers[index] = answer }
            return answers.compactMap { $0 }
        }
        try #require(first.count == 2)
        let unpaid = first.filter { !$0.success }
        #expect(!unpaid.isEmpty, "\(first)")
        // Nothing moved those payments: their answers name no transaction (so a journal does not
        // take them as final) and their message names the batch.
        let named = unpaid[0].errorMessage?.split(separator: " ").first { $0.hasPrefix("0x") && $0.count == 66 }
        let batchHash = try #require(first.first(where: \.success)?.transaction ?? named.map(String.init))
        for answer in unpaid {
            #expect(answer.errorReason == .exactEVMTransactionFailed && answer.transaction.isEmpty, "\(answer)")
            #expect(answer.errorMessage?.contains(batchHash) == true, "\(answer)")
        }
        let receipt = try await devnet.waitForReceipt(try Bytes32(hex: batchHash))
        #expect(receipt.to == EIP3009Calls.multicall3)
        #expect(try await devnet.usdcBalance(of: payee) == UInt256(UInt64(100 * (2 - unpaid.count))))

        // A restart that finds both payments submitted with the batch (the crash came after the
        // broadcast, before the answers were recorded): the resume pass confirms the one the batch
        // moved and forgets the others (not final, record dropped) so that a retry settles them.
        let journal = SettlementJournal(store: journalStore)
        var keys: [SettlementKey] = []
        for (index, payment) in payments.enumerated() {
            guard case .v2(let p) = payment else {
                Issue.record("expected v2")
                return
            }
            let authorization = try ExactEVMPayload(json: p.payload).authorization
            let key = SettlementKey(chainID: devnet.chainID, token: devnet.token, payer: authorization.from, nonce: authorization.nonce)
            keys.append(key)
            try await records.save(
                SettlementRecord(
                    key: key, transaction: try Bytes32(hex: batchHash), status: .pending, updatedAt: now, owner: ids[index], sender: key.payer,
                    senderNonce: 0, rawTransaction: nil, earlierTransactions: []))
            try await journal.store.save(
                SettlementJournalEntry(
                    id: "resume-\(ids[index])", network: devnet.network, scheme: "exact", status: .submitted, transaction: batchHash,
                    schemeKey: key.description, createdAt: Date(timeIntervalSince1970: 0), updatedAt: Date(timeIntervalSince1970: 0)))
        }
        let resumeChain = EVMFacilitatorChain(network: network, client: devnet.client, signers: [key.key])
        let resumer = SettlementResumer(journal: journal, records: records, chains: [resumeChain], logger: Logger(label: "test"))
        #expect(await resumer.resumeOpenSettlements(startedBefore: Date()) == 0)
        for index in 0..<2 {
            let entry = try #require(try await journal.store.entry(id: "resume-\(ids[index])"))
            let record = try await records.record(for: keys[index])
            if first[index].success {
                #expect(entry.status == .confirmed && entry.isFinal && entry.transaction == batchHash, "\(entry)")
                #expect(record?.status == .succeeded)
            } else {
                #expect(entry.status == .failed && !entry.isFinal && entry.transaction == nil, "\(entry)")
                #expect(entry.response?.errorReason == .exactEVMTransactionFailed)
                #expect(record == nil, "the record of a payment the batch did not move is dropped")
            }
        }

        // The owners retry on a facilitator with enough gas and the same records: each payment
        // the batch did not move is settled now; the one it moved (if any) is not sent again.
        let healthy = make(transferGas: 120_000, window: .milliseconds(10))
        for index in 0..<2 {
            let again = await SettlementIdempotency.$current.withValue(ids[index]) {
                await healthy.settle(payments[index], requirements: .v2(requirements))
            }
            #expect(again.success, "\(again)")
            if first[index].success { #expect(again.transaction == first[index].transaction) }
        }
        #expect(try await devnet.usdcBalance(of: payee) == 200)
    }

    @Test(
        "a batch the node cannot simulate (every Multicall3 call fails): each payment is sent alone, with the answer one-by-one settlement gives it"
    )
    func batchSimulationFails() async throws {
        let devnet = try await Devnet.shared()
        let now = try await Self.chainNow(devnet)
        let clock = now - 3000
        async let keyAccount = devnet.freshAccount()
        async let playedRound = Self.round(devnet, clock: clock)
        let (account, round) = try await (keyAccount, playedRound)
        let node = HeldBroadcastClient(inner: devnet.client, holding: false, failingMulticall: true)
        let facilitator = try Self.facilitator(devnet, key: account.key, clock: clock, batch: round.payments.count, client: node)
        let network = try #require(Network(devnet.network))
        let batcher = try #require(facilitator.batchers[network])
        let answers = await Self.settleAll(facilitator, round)
        try #require(answers.count == round.payments.count)
        #expect(answers.map(\.errorReason) == Self.expectedReasons, "\(answers)")
        // The batch formed, its simulation failed, and the payments went out one by one: a
        // transaction of its own per success, each to the token itself.
        #expect(await batcher.batchesRun == 1)
        #expect(node.refusedMulticallCalls > 0)
        let hashes = answers.filter(\.success).map(\.transaction)
        #expect(hashes.count == 3 && Set(hashes).count == 3, "\(answers)")
        for hash in hashes { #expect(try await devnet.waitForReceipt(try Bytes32(hex: hash)).to == devnet.token) }
        for (index, payee) in round.payees.enumerated() {
            let expected: UInt256 = Self.expectedReasons[index] == nil || index == 5 ? round.amounts[index] : .zero
            #expect(try await devnet.usdcBalance(of: payee) == expected, "\(round.labels[index])")
        }
    }

    /// The devnet, except that broadcasts are held (answered as accepted, not passed on) until
    /// ``release()`` (a transaction whose receipt is late), and, with `failingMulticall`, every
    /// call to Multicall3 fails as a node error would (fault injection).
    final class HeldBroadcastClient: EthereumClient {
        let inner: JSONRPCClient
        let failingMulticall: Bool
        private let held: NIOLockedValueBox<(holding: Bool, raws: [[UInt8]])>
        private let refused = NIOLockedValueBox(0)
        init(inner: JSONRPCClient, holding: Bool = true, failingMulticall: Bool = false) {
            self.inner = inner
            self.held = NIOLockedValueBox((holding, []))
            self.failingMulticall = failingMulticall
        }

        /// Multicall3 calls answered with an error.
        var refusedMulticallCalls: Int { refused.withLockedValue { $0 } }

        var distinctBroadcasts: Int { held.withLockedValue { $0.raws.count } }

        /// Passes every held transaction on and stops holding.
        func release() async throws {
            let raws = held.withLockedValue { state in
                state.holding = false
                return state.raws
            }
            for raw in raws { _ = try await inner.sendRawTransaction(raw) }
        }

        func sendRawTransaction(_ raw: [UInt8]) async throws(EthereumClientError) -> Bytes32 {
            let holding = held.withLockedValue { state in
                guard state.holding else { return false }
                if !state.raws.contains(raw) { state.raws.append(raw) }
                return true
            }
            if holding { return Keccak256.hash(raw) }
            return try await inner.sendRawTransaction(raw)
        }
        func chainID() async throws(EthereumClientError) -> UInt64 { try await inner.chainID() }
        func blockNumber() async throws(EthereumClientError) -> UInt64 { try await inner.blockNumber() }
        func transactionCount(of address: EthereumAddress, at block: BlockTag) async throws(EthereumClientError) -> UInt64 {
            try await inner.transactionCount(of: address, at: block)
        }
        func balance(of address: EthereumAddress, at block: BlockTag) async throws(EthereumClientError) -> UInt256 {
            try await inner.balance(of: address, at: block)
        }
        func code(at address: EthereumAddress, at block: BlockTag) async throws(EthereumClientError) -> [UInt8] {
            try await inner.code(at: address, at: block)
        }
        func call(_ request: CallRequest, at block: BlockTag) async throws(EthereumClientError) -> [UInt8] {
            if failingMulticall, request.to == EIP3009Calls.multicall3 {
                refused.withLockedValue { $0 += 1 }
                throw .node(code: -32603, message: "internal error (injected)", data: nil)
            }
            return try await inner.call(request, at: block)
        }
        func estimateGas(_ request: CallRequest) async throws(EthereumClientError) -> UInt64 { try await inner.estimateGas(request) }
        func transactionReceipt(_ hash: Bytes32) async throws(EthereumClientError) -> TransactionReceipt? {
            try await inner.transactionReceipt(hash)
        }
        func gasPrice() async throws(EthereumClientError) -> UInt256 { try await inner.gasPrice() }
        func maxPriorityFeePerGas() async throws(EthereumClientError) -> UInt256 { try await inner.maxPriorityFeePerGas() }
        func feeHistory(blockCount: Int, newestBlock: BlockTag, rewardPercentiles: [Double]) async throws(EthereumClientError) -> FeeHistory {
            try await inner.feeHistory(blockCount: blockCount, newestBlock: newestBlock, rewardPercentiles: rewardPercentiles)
        }
    }
}

/// Which authorization a batched receipt settled is read from its `AuthorizationUsed` event, not
/// from a `Transfer` another payment of the batch could have emitted.
@Suite("batched settlement receipts")
struct BatchedReceiptTests {
    static let token = EIP3009Calls.multicall3
    static func authorization(nonce: UInt8) -> TransferWithAuthorization {
        TransferWithAuthorization(
            from: try! EthereumAddress("0x70997970C51812dc3A010C7d01b50e0d17dc79C8"),
            to: try! EthereumAddress("0x23618e81E3f5cdF7f54C3d65f7FBc0aBf5B21E8f"), value: UInt256(500), validAfter: .zero,
            validBefore: UInt256(UInt64.max), nonce: Bytes32(UInt256(UInt64(nonce))))
    }

    static func used(_ a: TransferWithAuthorization, by token: EthereumAddress = token) -> EventLog {
        EventLog(address: token, topics: [EIP3009Calls.authorizationUsedTopic, a.from.word, a.nonce], data: [])
    }

    static func transfer(_ a: TransferWithAuthorization, by token: EthereumAddress = token) -> EventLog {
        EventLog(address: token, topics: [EIP3009Calls.transferTopic, a.from.word, a.to.word], data: a.value.bigEndianBytes)
    }

    @Test("two payments with the same payer, payee and value: only the one whose authorization was used is settled")
    func sameTransferDifferentNonce() {
        let first = Self.authorization(nonce: 1)
        let second = Self.authorization(nonce: 2)
        let logs = [Self.used(first), Self.transfer(first)]
        #expect(EIP3009Calls.settlesAuthorization(logs, token: Self.token, first))
        #expect(!EIP3009Calls.settlesAuthorization(logs, token: Self.token, second))
        // A Transfer alone proves nothing; an AuthorizationUsed from another contract neither.
        #expect(!EIP3009Calls.settlesAuthorization([Self.transfer(first)], token: Self.token, first))
        let other = EthereumAddress.zero
        #expect(other != Self.token)
        #expect(!EIP3009Calls.settlesAuthorization([Self.used(first, by: other), Self.transfer(first)], token: Self.token, first))
        // The Transfer must sit next to the authorization's event, not elsewhere in the batch.
        let third = Self.authorization(nonce: 3)
        var bigger = third
        bigger.value = UInt256(501)
        let spread = [Self.used(first), Self.transfer(first), Self.used(third), Self.transfer(bigger)]
        #expect(EIP3009Calls.settlesAuthorization(spread, token: Self.token, first))
        #expect(!EIP3009Calls.settlesAuthorization(spread, token: Self.token, third))
    }
}

/// The starved batch and its resume pass with the records and journal in PostgreSQL.
@Suite("batched settlement on PostgreSQL", .devnet, .postgres)
struct BatchedSettlementPostgresTests {
    @Test("the starved batch, its resume pass and the retries with the records and journal in PostgreSQL")
    func batchOutOfGasPostgres() async throws {
        let database = try await TestPostgres.open()
        defer { database.close() }
        let store = try await PostgresSettlementStore(database: database, lockConnections: 1)
        try await BatchedSettlementTests.starvedBatch(records: SchemeSettlementRecords(store: store), journal: store)
    }
}
