public import X402

/// The facilitator's paying keys on one chain: picks the least busy key for each transaction,
/// gives it a nonce from that key's ``NonceManager``, signs, broadcasts and recovers from nonce
/// and transport errors.
///
/// Any number of concurrent `submit(to:data:gasLimit:)` calls are safe, also with one key.
///
/// Repairs that must happen later (a freed nonce that nobody reused, a send of unknown outcome)
/// are queued for ``run()``, which the owner runs for the pool's lifetime (the facilitator service
/// runs it in its service group), so no task outlives the service that started it.
public actor SignerPool {
    /// Retry and repair settings.
    public struct Options: Sendable, Hashable {
        /// Nonce reservations per transaction before giving up (each nonce error costs one).
        public var maximumAttempts: Int = 6
        /// Re-sends of the same signed bytes after a transport error (the node may have it already).
        public var broadcastRetries: Int = 2
        /// Pause before a re-send, doubled each time.
        public var broadcastRetryDelay: Duration = .milliseconds(200)
        /// A freed nonce that no new transaction reuses within this delay is filled by a
        /// zero-value self-transfer, so the transactions queued behind it can be mined.
        public var gapRepairDelay: Duration = .seconds(3)

        public init() {}
    }

    struct Lane {
        let signer: any EVMSigner
        let nonces: NonceManager
        var busy = 0
    }

    public nonisolated let chainID: UInt64
    /// The pool's addresses, in the order given.
    public nonisolated let addresses: [EthereumAddress]
    public nonisolated let fees: FeeOracle
    public nonisolated let options: Options
    private let client: any EthereumClient
    private var lanes: [Lane]
    private var cursor = 0
    /// Deferred repairs, consumed by ``run()``.
    private nonisolated let maintenance = AsyncStream.makeStream(of: Maintenance.self, bufferingPolicy: .bufferingNewest(4096))
    private var maintenanceRunning = false

    private enum Maintenance: Sendable {
        /// Fill the nonce if it is still free (nobody reused it).
        case repairGap(nonce: UInt64, lane: Int)
        /// Fill the nonce if the chain still lacks it after a send of unknown outcome.
        case checkDelivery(nonce: UInt64, lane: Int)
    }

    /// Counters for tests and metrics.
    public private(set) var statistics = Statistics()

    public struct Statistics: Sendable, Hashable {
        public var submitted = 0
        public var nonceRetries = 0
        public var feeRetries = 0
        public var transportRetries = 0
        /// Gap fillers the node accepted.
        public var gapRepairs = 0
        /// Gap fillers sent, whatever the node answered (an accepted one whose answer was lost
        /// fills the gap without counting in ``gapRepairs``).
        public var gapFillsSent = 0
        /// Transactions moved to another key because the node said the first lacked gas money.
        public var keysSkippedForFunds = 0
        /// Fee bumps (``SignerPool/replace(_:beforeBroadcast:)``) the node accepted.
        public var replacements = 0
    }

    /// A pool over `signers` (at least one) on the chain `chainID`, served by `client`.
    public init(
        chainID: UInt64, client: any EthereumClient, signers: [any EVMSigner], fees: FeePolicy = FeePolicy(), options: Options = Options()
    ) {
        precondition(!signers.isEmpty, "a signer pool needs at least one signer")
        self.chainID = chainID
        self.client = client
        self.options = options
        self.fees = FeeOracle(client: client, policy: fees)
        self.lanes = signers.map { Lane(signer: $0, nonces: NonceManager(address: $0.address, client: client)) }
        self.addresses = signers.map(\.address)
    }

    /// The nonce manager of `address`, if it is in the pool.
    public func nonceManager(for address: EthereumAddress) -> NonceManager? {
        lanes.first { $0.signer.address == address }?.nonces
    }

    /// Signs and broadcasts a call from the least busy key. The returned transaction was accepted
    /// by the node, or (``SubmittedTransaction/Delivery/uncertain(_:)``) may have been: wait for
    /// its receipt either way, then call ``finished(_:)``.
    ///
    /// A key the node refuses for lack of gas money is skipped for this transaction and the next
    /// least busy key is tried.
    ///
    /// `beforeBroadcast`, when given, runs after signing and before each broadcast with the signed
    /// transaction (e.g. to record it durably). If it throws, nothing is broadcast, the nonce is
    /// released and the submission fails with ``TransactionSubmissionError/notRecorded(_:)``.
    public func submit(
        to target: EthereumAddress, data: [UInt8], gasLimit: UInt64,
        beforeBroadcast: (@Sendable (PreparedTransaction) async throws -> Void)? = nil
    ) async throws(TransactionSubmissionError) -> SubmittedTransaction {
        var excluded: Set<Int> = []
        while true {
            let index = checkout(excluding: excluded)
            do {
                return try await submit(lane: index, to: target, data: data, gasLimit: gasLimit, beforeBroadcast: beforeBroadcast)
            } catch {
                lanes[index].busy -= 1
                guard case .rejected(let nodeError) = error, Self.isOutOfGasMoney(nodeError), excluded.count + 1 < lanes.count else {
                    throw error
                }
                excluded.insert(index)
                statistics.keysSkippedForFunds += 1
            }
        }
    }

    static func isOutOfGasMoney(_ error: EthereumClientError) -> Bool {
        guard case .node(_, let message, _) = error else { return false }
        let text = message.lowercased()
        return text.contains("insufficient funds") || text.contains("insufficient balance for transfer")
    }

    /// Marks the transaction's key as less busy (its receipt arrived or the wait ended).
    public func finished(_ transaction: SubmittedTransaction) {
        if let index = lanes.firstIndex(where: { $0.signer.address == transaction.from }), lanes[index].busy > 0 {
            lanes[index].busy -= 1
        }
    }

    private func checkout(excluding excluded: Set<Int> = []) -> Int {
        var chosen: Int?
        for offset in 0..<lanes.count {
            let i = (cursor + offset) % lanes.count
            guard !excluded.contains(i) else { continue }
            if let current = chosen, lanes[current].busy <= lanes[i].busy { continue }
            chosen = i
        }
        let best = chosen ?? cursor % lanes.count
        cursor = (best + 1) % lanes.count
        lanes[best].busy += 1
        return best
    }

    private func submit(
        lane index: Int, to target: EthereumAddress, data: [UInt8], gasLimit: UInt64,
        beforeBroadcast: (@Sendable (PreparedTransaction) async throws -> Void)?
    ) async throws(TransactionSubmissionError) -> SubmittedTransaction {
        let signer = lanes[index].signer
        let nonces = lanes[index].nonces
        var lastFailure: String = "no attempt made"
        for _ in 0..<max(1, options.maximumAttempts) {
            let fees: TransactionFees
            do { fees = try await self.fees.fees() } catch { throw .feesUnavailable(error) }
            if let cap = self.fees.policy.maximumFeePerGas, fees.maxFeePerGas > cap {
                throw .feeAboveCap(required: fees.maxFeePerGas, cap: cap)
            }
            let nonce: UInt64
            do { nonce = try await nonces.reserve() } catch { throw .nonceUnavailable(error) }
            let transaction = EIP1559Transaction(
                chainId: chainID, nonce: nonce, maxPriorityFeePerGas: fees.maxPriorityFeePerGas, maxFeePerGas: fees.maxFeePerGas,
                gasLimit: gasLimit, to: target, value: .zero, data: data)
            let signed: SignedTransaction
            do {
                let signature = try await signer.sign(digest: transaction.signingHash)
                signed = SignedTransaction(eip1559: transaction, signature: signature, from: signer.address)
            } catch {
                await nonces.release(nonce)
                throw .signerFailed(String(describing: type(of: error)))
            }
            if let beforeBroadcast {
                do {
                    try await beforeBroadcast(PreparedTransaction(hash: signed.hash, from: signer.address, nonce: nonce, rawBytes: signed.rawBytes))
                } catch {
                    await release(nonce, on: index)
                    throw .notRecorded(String(describing: error))
                }
            }
            let outcome = await broadcast(signed)
            switch outcome {
            case .accepted:
                await nonces.confirmBroadcast(nonce)
                statistics.submitted += 1
                return SubmittedTransaction(hash: signed.hash, from: signer.address, nonce: nonce, delivery: .accepted)
            case .uncertain(let error):
                await nonces.abandon(nonce)
                statistics.submitted += 1
                scheduleDeliveryCheck(nonce, lane: index)
                return SubmittedTransaction(hash: signed.hash, from: signer.address, nonce: nonce, delivery: .uncertain(error.description))
            case .nonceConsumed(let error):
                await nonces.abandon(nonce)
                statistics.nonceRetries += 1
                lastFailure = error.description
            case .nonceTooHigh(let error):
                await nonces.release(nonce)
                await nonces.invalidate()
                statistics.nonceRetries += 1
                lastFailure = error.description
            case .feeTooLow(let error):
                await release(nonce, on: index)
                await self.fees.invalidate()
                statistics.feeRetries += 1
                lastFailure = error.description
            case .rejected(let error):
                await release(nonce, on: index)
                throw .rejected(error)
            }
        }
        throw .attemptsExhausted(lastFailure)
    }

    /// Releases a nonce that was not broadcast and schedules a gap repair if it is not the newest.
    private func release(_ nonce: UInt64, on index: Int) async {
        let nonces = lanes[index].nonces
        await nonces.release(nonce)
        guard await nonces.freeNonces.contains(nonce) else { return }
        scheduleGapRepair(nonce, lane: index)
    }

    private func scheduleGapRepair(_ nonce: UInt64, lane index: Int) {
        maintenance.continuation.yield(.repairGap(nonce: nonce, lane: index))
    }

    /// Schedules the repair of a freed nonce of the first key (tests).
    func scheduleGapRepairForTesting(_ nonce: UInt64) {
        scheduleGapRepair(nonce, lane: 0)
    }

    /// After a send of unknown outcome: if the chain still lacks the nonce later and no new
    /// transaction took it, fill it so that the transactions behind it are mined.
    private func scheduleDeliveryCheck(_ nonce: UInt64, lane index: Int) {
        maintenance.continuation.yield(.checkDelivery(nonce: nonce, lane: index))
    }

    /// Performs the pool's deferred repairs, each ``Options/gapRepairDelay`` after it was queued,
    /// until the calling task is cancelled. Run it once for the pool's lifetime, beside the
    /// server that settles through the pool; a second concurrent call returns at once.
    ///
    /// Without it, nonce gaps left by failed or uncertain sends are not filled, and transactions
    /// queued behind a gap wait until a new settlement reuses the nonce.
    public nonisolated func run() async {
        guard await beginMaintenance() else { return }
        let delay = options.gapRepairDelay
        await withDiscardingTaskGroup { group in
            for await job in maintenance.stream {
                group.addTask {
                    guard (try? await Task.sleep(for: delay)) != nil else { return }
                    await self.perform(job)
                }
            }
        }
        await endMaintenance()
    }

    private func beginMaintenance() -> Bool {
        guard !maintenanceRunning else { return false }
        maintenanceRunning = true
        return true
    }

    private func endMaintenance() { maintenanceRunning = false }

    private func perform(_ job: Maintenance) async {
        switch job {
        case .repairGap(let nonce, let lane): await repairGap(nonce, lane: lane)
        case .checkDelivery(let nonce, let lane): await checkDelivery(nonce, lane: lane)
        }
    }

    private func checkDelivery(_ nonce: UInt64, lane index: Int) async {
        guard (try? await lanes[index].nonces.claimIfGap(nonce)) == true else { return }
        await fill(nonce, lane: index)
    }

    /// Fills a still-free nonce with a zero-value self-transfer.
    private func repairGap(_ nonce: UInt64, lane index: Int) async {
        guard await lanes[index].nonces.claimFree(nonce) else { return }
        await fill(nonce, lane: index)
    }

    /// Sends a zero-value self-transfer with a claimed nonce.
    private func fill(_ nonce: UInt64, lane index: Int) async {
        let nonces = lanes[index].nonces
        let signer = lanes[index].signer
        do {
            let fees = try await self.fees.fees()
            let filler = EIP1559Transaction(
                chainId: chainID, nonce: nonce, maxPriorityFeePerGas: fees.maxPriorityFeePerGas, maxFeePerGas: fees.maxFeePerGas,
                gasLimit: 21_000, to: signer.address, value: .zero, data: [])
            let signature = try await signer.sign(digest: filler.signingHash)
            let signed = SignedTransaction(eip1559: filler, signature: signature, from: signer.address)
            statistics.gapFillsSent += 1
            switch await broadcast(signed) {
            case .accepted:
                await nonces.confirmBroadcast(nonce)
                statistics.gapRepairs += 1
            case .uncertain, .nonceConsumed:
                await nonces.abandon(nonce)
            case .nonceTooHigh, .feeTooLow, .rejected:
                await nonces.release(nonce)
                await nonces.invalidate()
            }
        } catch {
            await nonces.release(nonce)
        }
    }

    /// What the node said to signed bytes sent again.
    public enum RebroadcastResult: Sendable, Hashable {
        /// The node has the transaction (accepted again, or "already known"): it may still mine.
        case known
        /// The node says the sender's nonce is used: the transaction mined, or another one took
        /// its nonce (look its receipt up to tell).
        case nonceConsumed
        /// Another transaction holds the nonce in the pool; this one may still mine if that one is dropped.
        case nonceOccupied
        /// The node refused it or could not be asked; nothing is known.
        case failed(String)
    }

    /// Sends already signed bytes again (after a restart, or when a receipt is overdue). Never
    /// signs anything new, so it cannot create a second transfer.
    public func rebroadcast(_ raw: [UInt8]) async -> RebroadcastResult {
        do {
            _ = try await client.sendRawTransaction(raw)
            return .known
        } catch {
            switch SendFailure(error) {
            case .alreadyKnown: return .known
            case .nonceTooLow: return .nonceConsumed
            case .nonceOccupied: return .nonceOccupied
            case .transient, .nonceTooHigh, .feeTooLow, .rejected: return .failed(error.description)
            }
        }
    }

    /// What a fee bump (``replace(_:beforeBroadcast:)``) did.
    public enum Replacement: Sendable, Hashable {
        /// The node took the replacement: wait for its receipt (or the original's, which can
        /// still mine instead; only one of the two can).
        case sent(SubmittedTransaction)
        /// The nonce is used already: the original (or an earlier replacement) was mined, or
        /// another transaction took the nonce. Look the receipts up.
        case nonceConsumed
        /// Nothing new reached the node (the bumped fee is above the caps, the node refused, the
        /// record could not be written): the original stands.
        case notReplaced(String)
    }

    /// Sends a replacement of a transaction the node holds but has not mined (a fee bump): the
    /// same key, nonce, recipient, value, data and gas limit, both fees raised by at least an
    /// eighth (nodes want a tenth) and to at least the current estimate, within the pool's fee
    /// caps. Because the nonce is the same, at most one of the two is ever mined, so the transfer
    /// it carries cannot happen twice.
    ///
    /// `beforeBroadcast` runs after signing and before the broadcast (record the replacement's
    /// hash and bytes durably there); if it throws, nothing is sent.
    ///
    /// - Parameters:
    ///   - raw: The signed EIP-1559 transaction to replace; it must come from a key of this pool.
    ///   - beforeBroadcast: Records the replacement before it is sent.
    /// - Returns: What happened; never throws.
    public func replace(
        _ raw: [UInt8], beforeBroadcast: (@Sendable (PreparedTransaction) async throws -> Void)? = nil
    ) async -> Replacement {
        guard let original = try? SignedTransaction(rawBytes: raw), case .eip1559(let old) = original.body, old.chainId == chainID else {
            return .notReplaced("not an EIP-1559 transaction of this chain")
        }
        guard let lane = lanes.first(where: { $0.signer.address == original.from }) else {
            return .notReplaced("\(original.from.checksummed) is not a key of this pool")
        }
        let current = try? await fees.fees()
        func bumped(_ value: UInt256, atLeast floor: UInt256?) -> UInt256? {
            let (times9, overflow) = value.multipliedReportingOverflow(by: UInt256(9))
            guard !overflow else { return nil }
            let (raised, carry) = (times9 / UInt256(8)).addingReportingOverflow(UInt256(1))
            guard !carry else { return nil }
            if let floor, floor > raised { return floor }
            return raised
        }
        guard let tip = bumped(old.maxPriorityFeePerGas, atLeast: current?.maxPriorityFeePerGas),
            var maxFee = bumped(old.maxFeePerGas, atLeast: current?.maxFeePerGas)
        else { return .notReplaced("the bumped fee overflows") }
        if tip > maxFee { maxFee = tip }
        if let cap = fees.policy.maximumFeePerGas, maxFee > cap {
            return .notReplaced("the bumped maxFeePerGas \(maxFee) is above the cap \(cap)")
        }
        if tip > fees.policy.maximumPriorityFeePerGas {
            return .notReplaced("the bumped tip \(tip) is above the cap \(fees.policy.maximumPriorityFeePerGas)")
        }
        let transaction = EIP1559Transaction(
            chainId: chainID, nonce: old.nonce, maxPriorityFeePerGas: tip, maxFeePerGas: maxFee, gasLimit: old.gasLimit, to: old.to,
            value: old.value, data: old.data, accessList: old.accessList)
        let signed: SignedTransaction
        do {
            let signature = try await lane.signer.sign(digest: transaction.signingHash)
            signed = SignedTransaction(eip1559: transaction, signature: signature, from: lane.signer.address)
        } catch {
            return .notReplaced("the signer failed: \(String(describing: type(of: error)))")
        }
        if let beforeBroadcast {
            do {
                try await beforeBroadcast(PreparedTransaction(hash: signed.hash, from: signed.from, nonce: old.nonce, rawBytes: signed.rawBytes))
            } catch {
                return .notReplaced("the replacement could not be recorded: \(error)")
            }
        }
        let submitted = { (delivery: SubmittedTransaction.Delivery) in
            SubmittedTransaction(hash: signed.hash, from: signed.from, nonce: old.nonce, delivery: delivery)
        }
        do {
            _ = try await client.sendRawTransaction(signed.rawBytes)
            statistics.replacements += 1
            return .sent(submitted(.accepted))
        } catch {
            switch SendFailure(error) {
            case .alreadyKnown:
                return .sent(submitted(.accepted))
            case .transient:
                // The node may have it: the caller recorded it, and a later look-up tells.
                return .sent(submitted(.uncertain(error.description)))
            case .nonceTooLow:
                return .nonceConsumed
            case .nonceOccupied, .nonceTooHigh, .feeTooLow, .rejected:
                return .notReplaced("the node refused the replacement: \(error.description)")
            }
        }
    }

    enum BroadcastOutcome {
        case accepted
        case uncertain(EthereumClientError)
        case nonceConsumed(EthereumClientError)
        case nonceTooHigh(EthereumClientError)
        case feeTooLow(EthereumClientError)
        case rejected(EthereumClientError)
    }

    private func broadcast(_ signed: SignedTransaction) async -> BroadcastOutcome {
        var delay = options.broadcastRetryDelay
        var lastTransient: EthereumClientError?
        for attempt in 0...max(0, options.broadcastRetries) {
            do {
                _ = try await client.sendRawTransaction(signed.rawBytes)
                return .accepted
            } catch {
                switch SendFailure(error) {
                case .alreadyKnown:
                    return .accepted
                case .transient:
                    lastTransient = error
                    statistics.transportRetries += 1
                    if attempt < options.broadcastRetries {
                        try? await Task.sleep(for: delay)
                        delay *= 2
                    }
                case .nonceTooLow:
                    // After a lost answer, "nonce too low" may mean our own earlier copy was mined.
                    return attempt > 0 ? .uncertain(error) : .nonceConsumed(error)
                case .nonceOccupied:
                    return attempt > 0 ? .uncertain(error) : .nonceConsumed(error)
                case .nonceTooHigh:
                    return attempt > 0 ? .uncertain(error) : .nonceTooHigh(error)
                case .feeTooLow:
                    return attempt > 0 ? .uncertain(error) : .feeTooLow(error)
                case .rejected:
                    return attempt > 0 ? .uncertain(error) : .rejected(error)
                }
            }
        }
        return .uncertain(lastTransient ?? .timeout)
    }
}

/// A transaction signed by a ``SignerPool`` and not yet broadcast (given to `beforeBroadcast`).
public struct PreparedTransaction: Sendable, Hashable {
    public var hash: Bytes32
    public var from: EthereumAddress
    public var nonce: UInt64
    /// The signed bytes, as they will be broadcast.
    public var rawBytes: [UInt8]
}

/// A transaction handed to the node by a ``SignerPool``.
public struct SubmittedTransaction: Sendable, Hashable {
    public enum Delivery: Sendable, Hashable {
        /// The node accepted it.
        case accepted
        /// The node's answer was lost; it may or may not have the transaction.
        case uncertain(String)
    }

    public var hash: Bytes32
    public var from: EthereumAddress
    public var nonce: UInt64
    public var delivery: Delivery
}

/// Why a ``SignerPool`` could not submit a transaction. Nothing was broadcast.
public enum TransactionSubmissionError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The node refused the transaction (insufficient funds for gas, intrinsic gas, a revert, …).
    case rejected(EthereumClientError)
    case feesUnavailable(EthereumClientError)
    case feeAboveCap(required: UInt256, cap: UInt256)
    case nonceUnavailable(EthereumClientError)
    /// The signer failed; carries the error's type name only.
    case signerFailed(String)
    /// Every attempt hit a nonce or fee error.
    case attemptsExhausted(String)
    /// The transaction could not be recorded before its broadcast (the `beforeBroadcast` step failed).
    case notRecorded(String)

    public var description: String {
        switch self {
        case .rejected(let e): "the node rejected the transaction: \(e)"
        case .feesUnavailable(let e): "could not read fees: \(e)"
        case .feeAboveCap(let required, let cap): "required maxFeePerGas \(required) exceeds the configured cap \(cap)"
        case .nonceUnavailable(let e): "could not read the account nonce: \(e)"
        case .signerFailed(let t): "the transaction signer failed (\(t))"
        case .attemptsExhausted(let last): "gave up after repeated nonce or fee errors; last: \(last)"
        case .notRecorded(let problem): "the transaction could not be recorded before its broadcast, so it was not sent: \(problem)"
        }
    }
}

/// How a failed `eth_sendRawTransaction` is treated.
enum SendFailure {
    case alreadyKnown, transient, nonceTooLow, nonceOccupied, nonceTooHigh, feeTooLow, rejected

    init(_ error: EthereumClientError) {
        switch error {
        case .transport, .timeout, .invalidResponse:
            self = .transient
        case .httpStatus(let status, _):
            self = status >= 500 || status == 429 || status == 408 ? .transient : .rejected
        case .node(_, let message, _):
            let text = message.lowercased()
            if text.contains("already known") || text.contains("known transaction") || text.contains("already imported")
                || text.contains("alreadyknown")
            {
                self = .alreadyKnown
            } else if text.contains("nonce too low") || text.contains("nonce is too low") || text.contains("already been used")
                || text.contains("oldnonce")
            {
                self = .nonceTooLow
            } else if text.contains("replacement") && text.contains("underpriced") {
                self = .nonceOccupied
            } else if text.contains("nonce too high") || text.contains("nonce gap") {
                self = .nonceTooHigh
            } else if text.contains("underpriced") || text.contains("less than block base fee") || text.contains("fee cap")
                || text.contains("feecap")
            {
                self = .feeTooLow
            } else {
                self = .rejected
            }
        }
    }
}
