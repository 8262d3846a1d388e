import X402

/// Collects settlements that arrive close together on one chain so that they leave as one
/// transaction (Multicall3 `aggregate3` calling `transferWithAuthorization` for each).
///
/// A settlement waits at most ``window`` for company; a full batch (``maximumBatch``) leaves at
/// once. The batcher only groups: what a batch does (re-simulation, records, the transaction,
/// the per-payment answers) is the `run` closure handed in with each settlement, which must
/// return one outcome per entry, in order.
struct SettlementBatcher: Sendable {
    /// One settlement waiting for its batch.
    struct Entry: Sendable {
        let payment: ExactEVMFacilitator.CheckedPayment
        /// The settlement id of the request that started it.
        let owner: String?
        /// Transactions sent earlier for this authorization that were found dropped.
        let earlier: [Bytes32]
    }

    typealias Run = @Sendable ([Entry]) async -> [SettlementOutcome]

    private let batcher: WindowBatcher<Entry, SettlementOutcome>

    var window: Duration { batcher.window }
    var maximumBatch: Int { batcher.maximumBatch }
    /// Batches handed to `run` (for tests and metrics).
    var batchesRun: Int { get async { await batcher.batchesRun } }
    /// The largest batch handed to `run`.
    var largestBatch: Int { get async { await batcher.largestBatch } }

    init(window: Duration, maximumBatch: Int) {
        batcher = WindowBatcher(window: window, maximumBatch: maximumBatch)
    }

    /// The outcome of one settlement, after at most ``window`` of waiting for others.
    func settle(_ entry: Entry, run: @escaping Run) async -> SettlementOutcome {
        await batcher.submit(
            entry,
            unanswered: .failure(reason: .unexpectedSettleError, message: "the settlement batch gave no answer for this payment", transaction: nil),
            run: run)
    }
}
