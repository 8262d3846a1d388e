import X402

/// Collects settlements that arrive close together on one chain so that they leave as one
/// transaction (Multicall3 `aggregate3` calling `transferWithAuthorization` for each).
///
/// A settlement waits at most ``window`` for company; a full batch (``maximumBatch``) leaves at
/// once. The batcher only groups: what a batch does (re-simulation, records, the transaction,
/// the per-payment answers) is the `run` closure handed in with each settlement, which must
/// return one outcome per entry, in order.
actor SettlementBatcher {
    /// One settlement waiting for its batch.
    struct Entry: Sendable {
        let payment: ExactEVMFacilitator.CheckedPayment
        /// The settlement id of the request that started it.
        let owner: String?
        /// Transactions sent earlier for this authorization that were found dropped.
        let earlier: [Bytes32]
    }

    typealias Run = @Sendable ([Entry]) async -> [SettlementOutcome]

    private struct Waiter {
        let entry: Entry
        let run: Run
        let continuation: CheckedContinuation<SettlementOutcome, Never>
    }

    let window: Duration
    let maximumBatch: Int
    private var queue: [Waiter] = []
    private var timer: Task<Void, Never>?
    /// Which window ``timer`` belongs to.
    private var generation: UInt64 = 0
    /// Batches handed to `run` (for tests and metrics).
    private(set) var batchesRun = 0
    /// The largest batch handed to `run`.
    private(set) var largestBatch = 0

    init(window: Duration, maximumBatch: Int) {
        self.window = window
        self.maximumBatch = max(1, maximumBatch)
    }

    /// The outcome of one settlement, after at most ``window`` of waiting for others.
    func settle(_ entry: Entry, run: @escaping Run) async -> SettlementOutcome {
        await withCheckedContinuation { continuation in
            queue.append(Waiter(entry: entry, run: run, continuation: continuation))
            if queue.count >= maximumBatch {
                flush()
            } else if timer == nil {
                let window = self.window
                generation &+= 1
                let generation = self.generation
                timer = Task { [weak self] in
                    do { try await Task.sleep(for: window) } catch { return }
                    await self?.timerFired(generation)
                }
            }
        }
    }

    /// A window ended: flush, unless that window's queue already left (a full batch) and a newer
    /// window is running.
    private func timerFired(_ generation: UInt64) {
        guard generation == self.generation else { return }
        flush()
    }

    private func flush() {
        timer?.cancel()
        timer = nil
        while !queue.isEmpty {
            let taken = Array(queue.prefix(maximumBatch))
            queue.removeFirst(taken.count)
            batchesRun += 1
            largestBatch = max(largestBatch, taken.count)
            Task { await Self.run(taken) }
        }
    }

    private static func run(_ waiters: [Waiter]) async {
        guard let run = waiters.first?.run else { return }
        let outcomes = await run(waiters.map(\.entry))
        for (index, waiter) in waiters.enumerated() {
            let outcome =
                index < outcomes.count
                ? outcomes[index]
                : .failure(reason: .unexpectedSettleError, message: "the settlement batch gave no answer for this payment", transaction: nil)
            waiter.continuation.resume(returning: outcome)
        }
    }
}
