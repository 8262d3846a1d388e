import X402

/// The `settlement_pending` outcome of a transaction whose receipt did not come (as an error, so
/// it can travel in a `Result`).
struct PendingOutcome: Error {
    let outcome: SettlementOutcome
}

extension ExactEVMFacilitator {
    /// Gas a batched transaction needs besides its transfers (intrinsic gas, Multicall3's loop,
    /// the longer calldata).
    static let batchGasOverhead: UInt64 = 60_000

    /// The gas limit of a batch of `count` EOA transfers: ``Options/transferGasLimit`` each plus
    /// ``batchGasOverhead``, saturating instead of overflowing.
    func batchGasLimit(_ count: Int) -> UInt64 {
        let (product, overflow) = options.transferGasLimit.multipliedReportingOverflow(by: UInt64(max(0, count)))
        let (sum, overflowSum) = product.addingReportingOverflow(Self.batchGasOverhead)
        return overflow || overflowSum ? .max : sum
    }

    /// Settles a batch of checked EOA payments of one chain; one outcome per entry, in order.
    ///
    /// 1. The same authorization twice in the batch: the later ones are refused
    ///    (`duplicate_settlement`); only the first is sent.
    /// 2. The batch is simulated as it will be sent (one `eth_call` of `aggregate3` on the pending
    ///    state); a payment whose call fails is left out and answered with its diagnosed reason.
    /// 3. The rest go out in one transaction to Multicall3, signed by the pool; every payment's
    ///    pending record (hash, signed bytes, owner) is durable before the broadcast, so a retry
    ///    while the receipt is late resumes that transaction and never sends the payment again.
    /// 4. After the receipt, each payment is concluded from its own `AuthorizationUsed` and
    ///    `Transfer` events (``settles(_:_:)``); no receipt in time answers each payment
    ///    `settlement_pending` with the shared hash.
    ///
    /// A batch that ends up with one payment, a chain without Multicall3, and a simulation the
    /// node could not run send every payment alone.
    func settleBatch(_ entries: [SettlementBatcher.Entry]) async -> [SettlementOutcome] {
        var outcomes = [SettlementOutcome?](repeating: nil, count: entries.count)
        var seen: Set<SettlementKey> = []
        var members: [Int] = []
        for (index, entry) in entries.enumerated() {
            if seen.insert(entry.payment.key).inserted {
                members.append(index)
            } else {
                outcomes[index] = .failure(
                    reason: .duplicateSettlement, message: "the same authorization is already being settled in this batch", transaction: nil)
            }
        }
        guard let chain = entries.first?.payment.chain else { return [] }
        if let included = await simulated(entries, members, into: &outcomes, chain: chain), included.count > 1 {
            await send(entries, included, into: &outcomes, chain: chain)
        } else {
            await alone(entries, members.filter { outcomes[$0] == nil }, into: &outcomes)
        }
        return outcomes.map {
            $0 ?? .failure(reason: .unexpectedSettleError, message: "the settlement batch gave no answer for this payment", transaction: nil)
        }
    }

    /// Simulates the members as one `aggregate3` call; returns those that pass and answers the
    /// others. `nil` when the batch cannot be simulated (one member, no Multicall3, the node
    /// failed): every member is then sent alone, as the single path sends it.
    private func simulated(
        _ entries: [SettlementBatcher.Entry], _ members: [Int], into outcomes: inout [SettlementOutcome?], chain: EVMFacilitatorChain
    ) async -> [Int]? {
        guard members.count > 1, await chain.state.hasMulticall3() else { return nil }
        let calls = members.map { (entries[$0].payment.token, Self.transferCall(entries[$0].payment)) }
        let request = CallRequest(from: chain.signers.addresses[0], to: EIP3009Calls.multicall3, data: EIP3009Calls.aggregate3(calls))
        guard let answer = try? await chain.client.call(request, at: .pending), let results = EIP3009Calls.decodeTryAggregate(answer),
            results.count == members.count
        else { return nil }
        var included: [Int] = []
        var failed: [(index: Int, revert: String)] = []
        for (position, index) in members.enumerated() {
            if results[position].success {
                included.append(index)
            } else {
                failed.append((index, RevertReason(data: results[position].data).description))
            }
        }
        let diagnosed = await withTaskGroup(of: (Int, SettlementOutcome).self) { group in
            for (index, revert) in failed {
                let payment = entries[index].payment
                group.addTask {
                    var failure = await self.diagnose(payment, revert: revert)
                    // Where the diagnosis finds no cause of its own, the revert text may name one
                    // (an expired authorization), as a mined revert would.
                    if case .invalid(.exactEVMSimulationFailed, _) = failure, case let reason = Self.reason(forRevert: revert),
                        reason != .exactEVMTransactionFailed
                    {
                        failure = .invalid(reason, "the transfer would revert: \(revert)")
                    }
                    return (index, Self.outcome(failure, unexpected: .unexpectedSettleError))
                }
            }
            var all: [(Int, SettlementOutcome)] = []
            for await pair in group { all.append(pair) }
            return all
        }
        for (index, outcome) in diagnosed { outcomes[index] = outcome }
        return included
    }

    /// Sends each of `indices` in a transaction of its own, concurrently.
    private func alone(_ entries: [SettlementBatcher.Entry], _ indices: [Int], into outcomes: inout [SettlementOutcome?]) async {
        let results = await withTaskGroup(of: (Int, SettlementOutcome).self) { group in
            for index in indices {
                let entry = entries[index]
                group.addTask { (index, await self.sendAlone(entry.payment, owner: entry.owner, earlier: entry.earlier)) }
            }
            var all: [(Int, SettlementOutcome)] = []
            for await pair in group { all.append(pair) }
            return all
        }
        for (index, outcome) in results { outcomes[index] = outcome }
    }

    /// Sends `indices` as one Multicall3 transaction and concludes each from the receipt.
    private func send(
        _ entries: [SettlementBatcher.Entry], _ indices: [Int], into outcomes: inout [SettlementOutcome?], chain: EVMFacilitatorChain
    ) async {
        let data = EIP3009Calls.aggregate3(indices.map { (entries[$0].payment.token, Self.transferCall(entries[$0].payment)) })
        let records = self.records
        let clock = self.clock
        let members = indices.map { entries[$0] }
        @Sendable func record(
            _ entry: SettlementBatcher.Entry, _ hash: Bytes32, from: EthereumAddress, nonce: UInt64, raw: [UInt8]
        )
            -> SettlementRecord
        {
            SettlementRecord(
                key: entry.payment.key, transaction: hash, status: .pending, updatedAt: clock.now, owner: entry.owner, sender: from,
                senderNonce: nonce, rawTransaction: raw, earlierTransactions: entry.earlier)
        }
        let raw = ManagedRaw()
        let submitted: SubmittedTransaction
        do {
            // Every payment's pending record (hash and signed bytes) is durable before anything is broadcast.
            submitted = try await chain.signers.submit(to: EIP3009Calls.multicall3, data: data, gasLimit: batchGasLimit(indices.count)) {
                prepared in
                for member in members {
                    try await records.save(record(member, prepared.hash, from: prepared.from, nonce: prepared.nonce, raw: prepared.rawBytes))
                }
                raw.set(prepared.rawBytes)
                SettlementCrashPoint.beforeBroadcast.reach()
            }
        } catch {
            // Nothing was broadcast: forget every record written (or perhaps written) for it.
            let failure: SettlementOutcome
            switch error {
            case .rejected(let nodeError):
                let text = Self.revertText(nodeError)
                failure = .failure(reason: Self.reason(forRevert: text), message: "transaction rejected: \(text)", transaction: nil)
            case .notRecorded(let problem):
                failure = .failure(
                    reason: .unexpectedSettleError, message: "the settlement could not be recorded, so nothing was sent: \(problem)",
                    transaction: nil)
            default:
                failure = .failure(reason: .exactEVMTransactionFailed, message: error.description, transaction: nil)
            }
            if raw.value != nil || { if case .notRecorded = error { true } else { false } }() {
                for member in members { try? await records.remove(member.payment.key) }
            }
            for index in indices { outcomes[index] = failure }
            return
        }
        SettlementCrashPoint.afterBroadcast.reach()
        let signed = raw.value ?? []
        switch await receipt(of: submitted.hash, on: chain) {
        case .failure(let pending):
            for index in indices { outcomes[index] = pending.outcome }
        case .success(let receipt):
            let concluded = await withTaskGroup(of: (Int, SettlementOutcome).self) { group in
                for index in indices {
                    let entry = entries[index]
                    let pending = record(entry, submitted.hash, from: submitted.from, nonce: submitted.nonce, raw: signed)
                    group.addTask { (index, await self.conclude(entry.payment, record: pending, receipt: receipt)) }
                }
                var all: [(Int, SettlementOutcome)] = []
                for await pair in group { all.append(pair) }
                return all
            }
            for (index, outcome) in concluded { outcomes[index] = outcome }
        }
        await chain.signers.finished(submitted)
    }

    /// The calldata of the payment's `transferWithAuthorization`.
    static func transferCall(_ payment: CheckedPayment) -> [UInt8] {
        EIP3009Calls.transfer(payment.authorization, signature: payment.innerSignature)
    }
}
