import Foundation
import Testing
import X402

@testable import X402EVM

@Suite("Settlement: nonce manager, signer pool, idempotent settle")
struct SettlementTests {
    typealias F = ExactFixture
    let address = F.facilitatorKey.address

    func pool(_ chain: ScriptedChain, signers: [any EVMSigner] = [F.facilitatorKey], gapRepair: Duration = .seconds(60)) -> SignerPool {
        var options = SignerPool.Options()
        options.broadcastRetryDelay = .milliseconds(1)
        options.gapRepairDelay = gapRepair
        return SignerPool(chainID: 84532, client: chain, signers: signers, options: options)
    }

    /// Runs `body` while the pool's deferred repairs run, as the facilitator service does.
    func withMaintenance<T>(_ pool: SignerPool, _ body: () async throws -> T) async rethrows -> T {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await pool.run() }
            defer { group.cancelAll() }
            return try await body()
        }
    }

    func submit(_ pool: SignerPool, _ n: Int) async throws -> [SubmittedTransaction] {
        try await withThrowingTaskGroup(of: SubmittedTransaction.self) { group in
            for i in 0..<n {
                group.addTask { try await pool.submit(to: F.token, data: [UInt8(i & 0xFF)], gasLimit: 100_000) }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
    }

    @Test("concurrent reservations are distinct and consecutive from the pending count; one chain read")
    func concurrentReservations() async throws {
        let chain = ScriptedChain()
        chain.setNonce(17, for: address)
        let manager = NonceManager(address: address, client: chain)
        let nonces = try await withThrowingTaskGroup(of: UInt64.self) { group in
            for _ in 0..<100 { group.addTask { try await manager.reserve() } }
            return try await group.reduce(into: [UInt64]()) { $0.append($1) }
        }
        #expect(nonces.sorted() == Array(17..<117))
        #expect(await manager.synchronizations == 1)
    }

    @Test("released nonces are reused first; the newest one steps the counter back")
    func release() async throws {
        let chain = ScriptedChain()
        let manager = NonceManager(address: address, client: chain)
        for _ in 0..<5 { _ = try await manager.reserve() }  // 0…4
        await manager.release(4)
        #expect(await manager.nextNonce == 4)
        await manager.release(1)
        #expect(await manager.freeNonces == [1])
        #expect(try await manager.reserve() == 1)
        #expect(try await manager.reserve() == 4)
        #expect(try await manager.reserve() == 5)
    }

    @Test("resynchronisation: chain ahead, chain behind (a gap), sends under way are kept")
    func resync() async throws {
        let chain = ScriptedChain()
        let manager = NonceManager(address: address, client: chain)
        for _ in 0..<3 { _ = try await manager.reserve() }  // 0, 1, 2 outstanding
        await manager.confirmBroadcast(0)
        await manager.confirmBroadcast(1)
        // Someone else used the key: the chain is at 10.
        chain.setNonce(10, for: address)
        await manager.invalidate()
        #expect(try await manager.reserve() == 10)
        // The chain lost nonce 11 (we counted to 12): 11 is a gap and is filled first; 12 is still being sent.
        _ = try await manager.reserve()  // 11
        _ = try await manager.reserve()  // 12
        await manager.abandon(11)
        chain.setNonce(11, for: address)
        #expect(try await manager.reserve() == 11)
        #expect(try await manager.reserve() == 13)
    }

    @Test("200 concurrent submissions from one key: 200 distinct nonces, no retries")
    func burst() async throws {
        let chain = ScriptedChain()
        chain.setNonce(3, for: address)
        let pool = pool(chain)
        let sent = try await submit(pool, 200)
        #expect(Set(sent.map(\.nonce)) == Set(3..<203))
        #expect(Set(sent.map(\.hash)).count == 200)
        #expect(chain.acceptedTransactions.count == 200)
        #expect(chain.with { $0.nextNonce[address] } == 203)
        let stats = await pool.statistics
        #expect(stats.nonceRetries == 0)
    }

    @Test("nonce too low: resynchronise and resend with the chain's nonce")
    func nonceTooLow() async throws {
        let chain = ScriptedChain()
        let pool = pool(chain)
        _ = try await submit(pool, 1)  // nonce 0, local count now 1
        chain.setNonce(5, for: address)  // another process sent 1…4
        let sent = try await submit(pool, 1)
        #expect(sent[0].nonce == 5)
        #expect(await pool.statistics.nonceRetries == 1)
    }

    @Test("a lost answer: the same bytes are resent and 'already known' counts as accepted")
    func lostAnswer() async throws {
        let chain = ScriptedChain()
        chain.sendFaults = [.acceptThenFail(.transport("connection reset"))]
        let pool = pool(chain)
        let sent = try await submit(pool, 1)
        #expect(sent[0].delivery == .accepted)
        #expect(chain.acceptedTransactions.count == 1)
        #expect(chain.sendCount == 2)
        // The next transaction continues the sequence.
        #expect(try await submit(pool, 1)[0].nonce == 1)
    }

    @Test("transport failure that never delivered: uncertain, then the nonce is reused after resync")
    func neverDelivered() async throws {
        let chain = ScriptedChain()
        chain.sendFaults = [.fail(.transport("down")), .fail(.transport("down")), .fail(.transport("down"))]
        let pool = pool(chain)
        let first = try await submit(pool, 1)[0]
        #expect(first.nonce == 0)
        guard case .uncertain = first.delivery else {
            Issue.record("expected an uncertain delivery")
            return
        }
        // The chain never got nonce 0: the next send resynchronises and fills it (no stalled queue).
        let second = try await submit(pool, 1)[0]
        #expect(second.nonce == 0)
        #expect(second.delivery == .accepted)
        #expect(chain.with { $0.nextNonce[address] } == 1)
    }

    @Test("an undelivered nonce below queued transactions is filled later, so the queue does not stall")
    func undeliveredBelowQueue() async throws {
        let chain = ScriptedChain()
        chain.nonceFaults = [0: 3]
        chain.faultDelay = .milliseconds(30)
        let pool = pool(chain, gapRepair: .milliseconds(100))
        try await withMaintenance(pool) {
            // Nonce 0 is lost (three transport failures); nonce 1 reaches the node and waits behind the gap.
            let sent = try await submit(pool, 2)
            let lost = try #require(sent.first { $0.nonce == 0 })
            #expect(lost.delivery != .accepted)
            #expect(chain.with { $0.nextNonce[address] ?? 0 } == 0)
            // No further sends: the delivery check fills nonce 0 and nonce 1 is executed.
            try await chain.waitFor { $0.nextNonce[address] == 2 }
            #expect(await pool.statistics.gapRepairs == 1)
        }
    }

    @Test("a rejected transaction frees its nonce; a stranded gap is repaired by a self-transfer")
    func rejectedAndGapRepair() async throws {
        let chain = ScriptedChain()
        let pool = pool(chain, gapRepair: .milliseconds(50))
        let manager = try #require(await pool.nonceManager(for: address))
        // Reserve 0 and 1 directly so that 0 is freed below a newer nonce.
        _ = try await manager.reserve()
        _ = try await manager.reserve()
        chain.sendFaults = [.fail(.node(code: -32000, message: "insufficient funds for gas * price + value", data: nil))]
        await #expect(throws: TransactionSubmissionError.self) { _ = try await submit(pool, 1) }
        // Nonce 2 was rejected and was the newest: the counter steps back.
        #expect(await manager.nextNonce == 2)
        await manager.release(0)  // a freed nonce below an outstanding one
        await manager.confirmBroadcast(1)
        // Nobody reuses 0 in time: the pool repairs it.
        try await Task.sleep(for: .milliseconds(50))
        await pool.scheduleGapRepairForTesting(0)
        // Queued: nothing happens until the pool's maintenance runs.
        try await Task.sleep(for: .milliseconds(120))
        #expect(await pool.statistics.gapRepairs == 0)
        try await withMaintenance(pool) {
            // The repair runs after the delay: wait for it (bounded, not timed).
            for _ in 0..<400 where await pool.statistics.gapRepairs == 0 {
                try await Task.sleep(for: .milliseconds(25))
            }
        }
        #expect(await pool.statistics.gapRepairs == 1)
        let filler = try #require(chain.acceptedTransactions.first)
        guard case .eip1559(let body) = filler.body else { return }
        #expect(body.nonce == 0 && body.to == address && body.value == .zero && body.gasLimit == 21_000)
    }

    @Test("least busy key first, round robin among equals")
    func spreadsOverKeys() async throws {
        let chain = ScriptedChain()
        let pool = pool(chain, signers: [F.facilitatorKey, F.otherKey, F.payerKey])
        var held: [SubmittedTransaction] = []
        for _ in 0..<6 { held += try await submit(pool, 1) }
        let counts = Dictionary(grouping: held, by: \.from).mapValues(\.count)
        #expect(counts.values.sorted() == [2, 2, 2])
        for tx in held where tx.from == F.otherKey.address { await pool.finished(tx) }
        #expect(try await submit(pool, 1)[0].from == F.otherKey.address)
    }

    @Test("a key without gas money is skipped for the next one")
    func skipsUnfundedKey() async throws {
        let chain = ScriptedChain()
        let pool = pool(chain, signers: [F.facilitatorKey, F.otherKey])
        chain.sendFaults = [.fail(.node(code: -32000, message: "insufficient funds for gas * price + value", data: nil))]
        let sent = try await submit(pool, 1)[0]
        #expect(sent.from == F.otherKey.address)
        #expect(await pool.statistics.keysSkippedForFunds == 1)
        // The refused key's nonce was released: its next transaction still starts at 0.
        let manager = try #require(await pool.nonceManager(for: F.facilitatorKey.address))
        #expect(await manager.nextNonce == 0)
    }

    // MARK: Settlement

    func settlingChain() -> ScriptedChain {
        let chain = ScriptedChain()
        chain.codes[F.token] = [0x60]
        chain.receiptLogs = { F.transferLogs($0) }
        chain.onCall = { request, _ in
            // authorizationState → false; everything else succeeds.
            request.data.starts(with: ABI.selector("authorizationState(address,bytes32)")) ? F.bool(false) : []
        }
        return chain
    }

    @Test("settle: one transaction, the real hash, payer and network")
    func settleOnce() async throws {
        let chain = settlingChain()
        let facilitator = F.facilitator(chain: chain)
        let payment = try await F.payment()
        let response = await facilitator.settle(payment, requirements: .v2(F.requirements()))
        #expect(response.success, "\(response)")
        #expect(response.network == "eip155:84532")
        #expect(response.payer == F.payerKey.address.checksummed)
        let tx = try #require(chain.acceptedTransactions.first)
        #expect(response.transaction == tx.hash.hexString)
        // The transaction calls the (v, r, s) overload on the token.
        guard case .eip1559(let body) = tx.body else { return }
        #expect(body.to == F.token)
        #expect(Array(body.data.prefix(4)) == ABI.selector(EIP3009Calls.transferWithVRS))
        #expect(body.gasLimit == 120_000)
        #expect(body.maxFeePerGas == UInt256(3_000_000))  // 2 × base fee 1e6 + tip 1e6
    }

    /// Settles as the request carrying `settlementID` (the owner's token), or as one carrying none.
    func settle(
        _ facilitator: ExactEVMFacilitator, _ payment: AnyPaymentPayload, settlementID: String? = nil,
        requirements: PaymentRequirements = F.requirements()
    ) async -> SettleResponse {
        await SettlementIdempotency.$current.withValue(settlementID) { await facilitator.settle(payment, requirements: .v2(requirements)) }
    }

    // One payment forwarded N times byte for byte (a replaying buyer behind a seller that keeps no
    // replay store): exactly one answer may be a success; every other one fails and names the
    // transaction. This used to be "settle twice, sequentially and concurrently: one transaction,
    // same hash", which answered success to all of them (security review F2).
    @Test("20 concurrent and 20 sequential duplicates: one success, the rest fail with the reason and the hash; one transaction")
    func duplicatesGetOneSuccess() async throws {
        let chain = settlingChain()
        let facilitator = F.facilitator(chain: chain)
        let payment = try await F.payment()
        let concurrent = await withTaskGroup(of: SettleResponse.self) { group in
            for _ in 0..<20 { group.addTask { await self.settle(facilitator, payment) } }
            return await group.reduce(into: [SettleResponse]()) { $0.append($1) }
        }
        var sequential: [SettleResponse] = []
        for _ in 0..<20 { sequential.append(await settle(facilitator, payment)) }
        #expect(chain.acceptedTransactions.count == 1)
        let hash = try #require(chain.acceptedTransactions.first?.hash.hexString)
        #expect(concurrent.filter(\.success).count == 1)
        #expect(sequential.filter(\.success).isEmpty)
        for response in concurrent + sequential where !response.success {
            #expect(response.errorReason == .exactEVMNonceAlreadyUsed || response.errorReason == .duplicateSettlement, "\(response)")
            #expect(response.transaction == hash)
            #expect(response.payer == F.payerKey.address.checksummed)
        }
        // A facilitator without the record rejects the expired authorization.
        let expired = F.facilitator(chain: chain, now: F.now + 10_000)
        #expect(await expired.settle(payment, requirements: .v2(F.requirements())).errorReason == .exactEVMValidBefore)
    }

    @Test("the owner's settlement id gets its success again; concurrent duplicates with other ids or none do not")
    func ownerRetryIsRecognised() async throws {
        let chain = settlingChain()
        let facilitator = F.facilitator(chain: chain)
        let payment = try await F.payment()
        let owner = "x402-owner-0000000000000001"
        let first = await settle(facilitator, payment, settlementID: owner)
        #expect(first.success)
        let retry = await settle(facilitator, payment, settlementID: owner)
        #expect(retry.success && retry.transaction == first.transaction)
        let other = await settle(facilitator, payment, settlementID: "x402-other-000000000000002")
        #expect(!other.success && other.errorReason == .exactEVMNonceAlreadyUsed && other.transaction == first.transaction)
        // A malformed id from a peer counts as none.
        let junk = await settle(facilitator, payment, settlementID: "short")
        #expect(!junk.success && junk.transaction == first.transaction)
        #expect(chain.acceptedTransactions.count == 1)
    }

    // Was "a recorded settlement is returned even after the authorization expired; another
    // recipient is not": the recorded success is now returned only to its owner.
    @Test("after expiry the owner still gets the recorded success; a request without its id gets nonce_already_used; another recipient is refused")
    func recordedResultNeedsOwnerAndSameTransfer() async throws {
        let chain = settlingChain()
        let store = InMemorySettlementRecordStore()
        func facilitator(now: UInt64) -> ExactEVMFacilitator {
            let evm = EVMFacilitatorChain(network: .baseSepolia, client: chain, signers: [F.facilitatorKey], receiptPollInterval: .milliseconds(10))
            return ExactEVMFacilitator(chains: [evm], records: store, clock: .fixed(now))
        }
        let payment = try await F.payment()
        let owner = "x402-owner-0000000000000003"
        let first = await settle(facilitator(now: F.now), payment, settlementID: owner)
        #expect(first.success)
        let late = await settle(facilitator(now: F.now + 10_000), payment, settlementID: owner)
        #expect(late.success && late.transaction == first.transaction)
        let stranger = await settle(facilitator(now: F.now + 10_000), payment)
        #expect(!stranger.success && stranger.errorReason == .exactEVMNonceAlreadyUsed && stranger.transaction == first.transaction)
        let otherPayee = await settle(
            facilitator(now: F.now), payment, settlementID: owner, requirements: F.requirements(payTo: F.otherKey.address.checksummed))
        #expect(!otherPayee.success && otherPayee.errorReason == .exactEVMRecipientMismatch)
        #expect(chain.acceptedTransactions.count == 1)
    }

    @Test(
        "F11: a stuck pending transaction is broadcast again, never followed by one on a new nonce while it may mine (nor bumped before replaceStuckTransactionsAfter, however large)",
        arguments: [UInt64(60), .max]
    )
    func pendingIsRebroadcastNotReplaced(replaceAfter: UInt64) async throws {
        let chain = settlingChain()
        chain.mineTransactions = false
        let facilitator = F.facilitator(chain: chain) {
            $0.receiptTimeout = .milliseconds(50)
            $0.replaceStuckTransactionsAfter = replaceAfter
        }
        let payment = try await F.payment()
        let owner = "x402-owner-0000000000000004"
        let first = await settle(facilitator, payment, settlementID: owner)
        #expect(first.errorReason == .settlementPending)
        let sends = chain.sendCount
        let again = await settle(facilitator, payment, settlementID: owner)
        #expect(again.errorReason == .settlementPending && again.transaction == first.transaction)
        // The same signed bytes went out again ("already known"), nothing new was signed.
        #expect(chain.sendCount == sends + 1)
        #expect(chain.acceptedTransactions.count == 1)
        // Others are told a settlement is under way, with its hash.
        let other = await settle(facilitator, payment)
        #expect(other.errorReason == .duplicateSettlement && other.transaction == first.transaction)
    }

    @Test("a fee bump keeps key, nonce, call and gas, raises both fees by at least an eighth, and stays within the caps")
    func feeBumpReplacement() async throws {
        let chain = ScriptedChain()
        let pool = pool(chain)
        // A transaction waiting behind a nonce gap (nonce 5), as a stuck one waits in a node.
        let stuck = EIP1559Transaction(
            chainId: 84532, nonce: 5, maxPriorityFeePerGas: UInt256(1_000_000), maxFeePerGas: UInt256(3_000_000), gasLimit: 120_000,
            to: F.token, data: [0xAB, 0xCD]
        ).signed(with: F.facilitatorKey)
        _ = try await chain.sendRawTransaction(stuck.rawBytes)
        let sends = chain.sendCount
        let recorded = ManagedValue<[UInt8]>()
        guard case .sent(let submitted) = await pool.replace(stuck.rawBytes, beforeBroadcast: { recorded.set($0.rawBytes) }) else {
            Issue.record("not replaced")
            return
        }
        #expect(chain.sendCount == sends + 1)
        let replacement = try SignedTransaction(rawBytes: try #require(recorded.value))
        #expect(submitted.hash == replacement.hash && submitted.nonce == 5 && replacement.from == address)
        guard case .eip1559(let bumped) = replacement.body else {
            Issue.record("not EIP-1559")
            return
        }
        #expect(bumped.nonce == 5 && bumped.to == F.token && bumped.data == [0xAB, 0xCD] && bumped.gasLimit == 120_000)
        #expect(bumped.maxPriorityFeePerGas >= UInt256(1_125_000) && bumped.maxFeePerGas >= UInt256(3_375_000))
        #expect(await pool.statistics.replacements == 1)

        // Above the fee cap: nothing is signed into the record, nothing is sent.
        var fees = FeePolicy()
        fees.maximumFeePerGas = UInt256(3_200_000)
        let capped = SignerPool(chainID: 84532, client: chain, signers: [F.facilitatorKey], fees: fees)
        let before = chain.sendCount
        let refused = await capped.replace(stuck.rawBytes) { _ in Issue.record("recorded a replacement above the cap") }
        guard case .notReplaced(let why) = refused else {
            Issue.record("replaced above the cap: \(refused)")
            return
        }
        #expect(why.contains("cap") && chain.sendCount == before)
        // A transaction of another key, or one whose nonce is used: never replaced.
        let foreign = EIP1559Transaction(
            chainId: 84532, nonce: 0, maxPriorityFeePerGas: UInt256(1), maxFeePerGas: UInt256(2), gasLimit: 21_000, to: F.token
        ).signed(with: PrivateKey.random())
        guard case .notReplaced = await pool.replace(foreign.rawBytes) else {
            Issue.record("replaced another key's transaction")
            return
        }
        let mined = try await pool.submit(to: F.token, data: [1], gasLimit: 100_000)
        let minedRaw = try #require(chain.acceptedTransactions.first { $0.hash == mined.hash }?.rawBytes)
        #expect(await pool.replace(minedRaw) == .nonceConsumed)
    }

    @Test("F11: a nonce-used revert is recorded as the success of an earlier transaction that moved the money")
    func nonceUsedRevertFindsEarlierSuccess() async throws {
        let chain = settlingChain()
        let facilitator = F.facilitator(chain: chain)
        let payment = try await F.payment()
        let owner = "x402-owner-0000000000000005"
        // H1 mined with the transfer; H2 (the same call under a later nonce) reverted.
        let signers = try #require(facilitator.chains[.baseSepolia]?.signers)
        let checked = try await facilitator.check(payment, .v2(F.requirements()), timeWindow: false)
        let data = EIP3009Calls.transfer(checked.authorization, signature: checked.innerSignature)
        let h1 = try await signers.submit(to: F.token, data: data, gasLimit: 120_000)
        chain.receiptSucceeds = false
        let h2 = try await signers.submit(to: F.token, data: data, gasLimit: 120_000)
        chain.onCall = { request, _ throws(EthereumClientError) in
            if request.data.starts(with: ABI.selector("authorizationState(address,bytes32)")) { return F.bool(true) }
            throw F.revert("FiatTokenV2: authorization is used or canceled")
        }
        try await facilitator.records.save(
            SettlementRecord(
                key: checked.key, transaction: h2.hash, status: .pending, updatedAt: F.now, owner: owner, earlierTransactions: [h1.hash]))
        let response = await settle(facilitator, payment, settlementID: owner)
        #expect(response.success && response.transaction == h1.hash.hexString, "\(response)")
        let record = try await facilitator.records.record(for: checked.key)
        #expect(record?.status == .succeeded && record?.transaction == h1.hash)
    }

    @Test("F12: the pending record (hash and signed bytes) is durable before the broadcast; a failed write sends nothing")
    func recordBeforeBroadcast() async throws {
        actor Watch: SettlementRecordStore {
            let base = InMemorySettlementRecordStore()
            let chain: ScriptedChain
            var failing: Bool
            var pendingSavedAfterSends: [Int] = []
            var pendingRecords: [SettlementRecord] = []
            init(chain: ScriptedChain, failing: Bool) {
                self.chain = chain
                self.failing = failing
            }
            func record(for key: SettlementKey) async throws -> SettlementRecord? { await base.record(for: key) }
            func save(_ record: SettlementRecord) async throws {
                if case .pending = record.status {
                    if failing { throw CancellationError() }
                    pendingSavedAfterSends.append(chain.sendCount)
                    pendingRecords.append(record)
                }
                await base.save(record)
            }
            func remove(_ key: SettlementKey) async throws { await base.remove(key) }
        }
        for failing in [false, true] {
            let chain = settlingChain()
            let watch = Watch(chain: chain, failing: failing)
            let evm = EVMFacilitatorChain(network: .baseSepolia, client: chain, signers: [F.facilitatorKey], receiptPollInterval: .milliseconds(10))
            let facilitator = ExactEVMFacilitator(chains: [evm], records: watch, clock: .fixed(F.now))
            let response = await settle(facilitator, try await F.payment(), settlementID: "x402-owner-0000000000000006")
            if failing {
                #expect(!response.success && response.errorReason == .unexpectedSettleError && response.transaction == "")
                #expect(chain.sendCount == 0)
            } else {
                #expect(response.success)
                #expect(await watch.pendingSavedAfterSends == [0])
                let pending = try #require(await watch.pendingRecords.first)
                #expect(pending.owner == "x402-owner-0000000000000006")
                let raw = try #require(pending.rawTransaction)
                #expect(Keccak256.hash(raw) == pending.transaction)
                #expect(pending.transaction.hexString == response.transaction)
                #expect(pending.sender == F.facilitatorKey.address && pending.senderNonce == 0)
            }
        }
    }

    @Test("a record's detail text round-trips; junk is ignored")
    func recordDetailRoundTrip() throws {
        let key = SettlementKey(chainID: 1, token: F.token, payer: F.payTo, nonce: Bytes32(UInt256(7)))
        let record = SettlementRecord(
            key: key, transaction: Bytes32(UInt256(9)), status: .pending, updatedAt: 5, owner: "x402-owner-0000000000000007",
            sender: F.facilitatorKey.address, senderNonce: 42, rawTransaction: [1, 2, 3], earlierTransactions: [Bytes32(UInt256(8))])
        var read = SettlementRecord(key: key, transaction: Bytes32(UInt256(9)), status: .pending, updatedAt: 5)
        read.applyDetail(record.detailText)
        #expect(read == record)
        var junk = SettlementRecord(key: key, transaction: .zero, status: .pending, updatedAt: 0)
        junk.applyDetail("{\"owner\": \"a b\", \"senderNonce\": \"-1\", \"raw\": 5, \"earlier\": [1, \"0x12\"]}")
        #expect(junk.owner == nil && junk.senderNonce == nil && junk.rawTransaction == nil && junk.earlierTransactions.isEmpty)
        junk.applyDetail("not json")
        #expect(junk == SettlementRecord(key: key, transaction: .zero, status: .pending, updatedAt: 0))
    }

    @Test("an authorization already used on-chain is not sent")
    func alreadyUsedOnChain() async throws {
        let chain = settlingChain()
        chain.onCall = { _, _ in F.bool(true) }
        let response = await F.facilitator(chain: chain).settle(try await F.payment(), requirements: .v2(F.requirements()))
        #expect(response.errorReason == .exactEVMNonceAlreadyUsed)
        #expect(response.payer == F.payerKey.address.checksummed)
        #expect(chain.sendCount == 0)
    }

    @Test("no receipt in time: settlement_pending with the hash; a retry picks the receipt up")
    func receiptTimeout() async throws {
        let chain = settlingChain()
        chain.mineTransactions = false
        let facilitator = F.facilitator(chain: chain) { $0.receiptTimeout = .milliseconds(100) }
        let payment = try await F.payment()
        let response = await facilitator.settle(payment, requirements: .v2(F.requirements()))
        #expect(!response.success)
        #expect(response.errorReason == .settlementPending)
        let tx = try #require(chain.acceptedTransactions.first)
        #expect(response.transaction == tx.hash.hexString)
        #expect(response.errorMessage?.contains(tx.hash.hexString) == true)
    }

    @Test("a reverted transaction: reason from the replayed revert, recorded with its hash")
    func reverted() async throws {
        let chain = settlingChain()
        chain.receiptSucceeds = false
        chain.onCall = { request, _ throws(EthereumClientError) in
            if request.data.starts(with: ABI.selector("authorizationState(address,bytes32)")) { return F.bool(false) }
            throw F.revert("ERC20: transfer amount exceeds balance")
        }
        let facilitator = F.facilitator(chain: chain)
        let payment = try await F.payment()
        let response = await facilitator.settle(payment, requirements: .v2(F.requirements()))
        #expect(response.errorReason == .exactEVMInsufficientBalance)
        #expect(response.transaction == chain.acceptedTransactions.first?.hash.hexString)
        let again = await facilitator.settle(payment, requirements: .v2(F.requirements()))
        #expect(again.transaction == response.transaction && chain.acceptedTransactions.count == 1)
    }

    @Test("a success receipt without the Transfer log is a failure")
    func missingTransferLog() async throws {
        let chain = settlingChain()
        chain.receiptLogs = { _ in [] }
        let response = await F.facilitator(chain: chain).settle(try await F.payment(), requirements: .v2(F.requirements()))
        #expect(response.errorReason == .exactEVMTransactionFailed)
        #expect(!response.transaction.isEmpty)
    }

    @Test("settle re-verifies: a bad payment sends nothing")
    func settleReverifies() async throws {
        let chain = settlingChain()
        let response = await F.facilitator(chain: chain).settle(try await F.payment(), requirements: .v2(F.requirements(amount: "1")))
        #expect(response.errorReason == .exactEVMAuthorizationValue)
        #expect(response.transaction == "")
        #expect(chain.sendCount == 0)
    }

    @Test("record store is bounded")
    func storeBounded() async {
        let store = InMemorySettlementRecordStore(capacity: 3)
        for i in 0..<5 {
            let key = SettlementKey(chainID: 1, token: F.token, payer: F.payTo, nonce: Bytes32(UInt256(UInt64(i))))
            await store.save(SettlementRecord(key: key, transaction: .zero, status: .succeeded, updatedAt: 0))
        }
        #expect(await store.count == 3)
        let oldest = SettlementKey(chainID: 1, token: F.token, payer: F.payTo, nonce: Bytes32(UInt256(0)))
        #expect(await store.record(for: oldest) == nil)
    }
}
