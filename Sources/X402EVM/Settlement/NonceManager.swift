import X402

/// Hands out transaction nonces for one sender address without asking the node each time.
///
/// * Starts from `eth_getTransactionCount(address, "pending")`, then counts locally, so any number
///   of concurrent sends get distinct, consecutive nonces.
/// * A nonce that was reserved but **certainly not broadcast** (the node rejected the
///   transaction, or signing failed) is ``release(_:)``d and handed out again before any new one:
///   otherwise every later transaction would wait behind the gap forever.
/// * After a send whose outcome contradicts the local count (nonce too low / too high, a
///   different transaction already holding the nonce, or a transport failure that may or may not
///   have delivered it), ``invalidate()`` makes the next reservation resynchronise from the chain.
///   The resynchronisation keeps nonces still being sent, drops freed nonces the chain has
///   already consumed, and treats the chain's next nonce as a gap to fill when this manager had
///   counted past it and no send of it is under way.
///
/// ``freeNonces`` that nobody picks up are repaired by the ``SignerPool`` (a zero-value
/// self-transfer fills the gap).
public actor NonceManager {
    public nonisolated let address: EthereumAddress
    private let client: any EthereumClient

    private var next: UInt64?
    private var stale = false
    /// Reserved, send not finished.
    private var outstanding: Set<UInt64> = []
    /// Reserved earlier, certainly not broadcast: reuse first (ascending).
    private var free: [UInt64] = []
    private var synchronizing: Task<UInt64, any Error>?

    /// How many times the manager read the chain's nonce (for tests and metrics).
    public private(set) var synchronizations = 0

    public init(address: EthereumAddress, client: any EthereumClient) {
        self.address = address
        self.client = client
    }

    /// A nonce for a new transaction: the lowest freed one, else the next in sequence.
    public func reserve() async throws(EthereumClientError) -> UInt64 {
        while true {
            if !stale, !free.isEmpty {
                let nonce = free.removeFirst()
                outstanding.insert(nonce)
                return nonce
            }
            if !stale, let current = next {
                next = current + 1
                outstanding.insert(current)
                return current
            }
            try await synchronize()
        }
    }

    /// The transaction with `nonce` reached the node.
    public func confirmBroadcast(_ nonce: UInt64) {
        outstanding.remove(nonce)
    }

    /// The transaction with `nonce` was certainly not broadcast: hand the nonce out again.
    public func release(_ nonce: UInt64) {
        outstanding.remove(nonce)
        if let current = next, nonce + 1 == current, !free.contains(nonce) {
            // The newest nonce: just step back (and absorb freed nonces now at the top).
            next = nonce
            while let last = free.last, last + 1 == next! {
                free.removeLast()
                next = last
            }
        } else if !free.contains(nonce) {
            free.append(nonce)
            free.sort()
        }
    }

    /// The send of `nonce` ended in an unknown state (it may have reached the node); the next
    /// reservation resynchronises.
    public func abandon(_ nonce: UInt64) {
        outstanding.remove(nonce)
        stale = true
    }

    /// The local count disagrees with the chain: resynchronise before the next reservation.
    public func invalidate() {
        stale = true
    }

    /// Takes `nonce` out of the free list if it is still there (for gap repair).
    public func claimFree(_ nonce: UInt64) -> Bool {
        guard !stale, let index = free.firstIndex(of: nonce) else { return false }
        free.remove(at: index)
        outstanding.insert(nonce)
        return true
    }

    /// Resynchronises now and claims `nonce` if the chain lacks it and nobody is sending it (the
    /// lowest gap): used to fill the nonce of a send whose delivery was uncertain.
    public func claimIfGap(_ nonce: UInt64) async throws(EthereumClientError) -> Bool {
        stale = true
        try await synchronize()
        if stale { try await synchronize() }
        return claimFree(nonce)
    }

    /// Freed nonces waiting to be reused.
    public var freeNonces: [UInt64] { free }

    /// The next new nonce, if known.
    public var nextNonce: UInt64? { next }

    private func synchronize() async throws(EthereumClientError) {
        let task: Task<UInt64, any Error>
        if let running = synchronizing {
            task = running
        } else {
            let client = self.client
            let address = self.address
            task = Task { try await client.transactionCount(of: address, at: .pending) }
            synchronizing = task
        }
        let chainNext: UInt64
        do {
            chainNext = try await task.value
        } catch {
            if synchronizing == task { synchronizing = nil }
            throw (error as? EthereumClientError) ?? .invalidResponse(String(describing: error))
        }
        guard synchronizing == task else { return }  // another waiter applied this result
        synchronizing = nil
        synchronizations += 1
        apply(chainNext: chainNext)
    }

    private func apply(chainNext: UInt64) {
        let localNext = next ?? chainNext
        free.removeAll { $0 < chainNext }
        if chainNext < localNext, !outstanding.contains(chainNext), !free.contains(chainNext) {
            // Counted past it but the node lacks it and nobody is sending it: a gap to fill.
            free.append(chainNext)
            free.sort()
        }
        var newNext = max(localNext, chainNext)
        if let highest = outstanding.max(), highest >= newNext { newNext = highest + 1 }
        next = newNext
        free.removeAll { $0 >= newNext }
        stale = false
    }
}
