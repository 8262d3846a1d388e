import X402

/// Waits for transaction receipts on one chain without flooding the node: every waiter asks for
/// its receipt once, then again only when a new block appeared. A single `eth_blockNumber` poll
/// is shared by all waiters.
public actor ReceiptWatcher {
    private let client: any EthereumClient
    /// Pause between block-number polls.
    public nonisolated let pollInterval: Duration
    private var latestBlock: UInt64?
    private var polling: Task<UInt64, any Error>?

    public init(client: any EthereumClient, pollInterval: Duration = .milliseconds(250)) {
        self.client = client
        self.pollInterval = pollInterval
    }

    /// The receipt of `hash`, or `nil` if it was not mined within `timeout` (or the waiting task
    /// was cancelled).
    public nonisolated func receipt(of hash: Bytes32, timeout: Duration) async throws(EthereumClientError) -> TransactionReceipt? {
        let deadline = ContinuousClock.now + timeout
        var seenBlock: UInt64 = 0
        var consecutiveErrors = 0
        while true {
            do {
                if let receipt = try await client.transactionReceipt(hash) { return receipt }
                consecutiveErrors = 0
            } catch {
                consecutiveErrors += 1
                if consecutiveErrors >= 5 { throw error }
            }
            guard ContinuousClock.now < deadline, !Task.isCancelled else { return nil }
            seenBlock = await nextBlock(after: seenBlock, deadline: deadline)
        }
    }

    /// Returns once a block newer than `block` is known (or the deadline passed).
    private func nextBlock(after block: UInt64, deadline: ContinuousClock.Instant) async -> UInt64 {
        while ContinuousClock.now < deadline, !Task.isCancelled {
            if let latestBlock, latestBlock > block { return latestBlock }
            let task: Task<UInt64, any Error>
            if let polling {
                task = polling
            } else {
                let client = self.client
                let interval = pollInterval
                let first = latestBlock == nil
                task = Task {
                    if !first { try await Task.sleep(for: interval) }
                    return try await client.blockNumber()
                }
                polling = task
            }
            let result = try? await task.value
            if polling == task {
                polling = nil
                if let result { latestBlock = max(latestBlock ?? 0, result) }
            }
            if result == nil { try? await Task.sleep(for: pollInterval) }
        }
        return block
    }
}
