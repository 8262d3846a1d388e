public import X402

/// How the facilitator prices its EIP-1559 transactions.
///
/// `maxPriorityFeePerGas = min(max(eth_maxPriorityFeePerGas, minimumPriorityFee), maximumPriorityFeePerGas)` and
/// `maxFeePerGas = baseFeeMultiplier × next block's base fee + maxPriorityFeePerGas`. With the
/// default multiplier 2 a transaction stays includable through six consecutive full blocks
/// (+12.5 % each); the sender only ever pays base fee + tip.
///
/// The node is not trusted: a base fee or tip whose arithmetic would overflow is refused with
/// ``EthereumClientError/invalidResponse(_:)`` (never a trap), a suggested tip above
/// ``maximumPriorityFeePerGas`` is lowered to it, and a `maxFeePerGas` above ``maximumFeePerGas``
/// fails the send (and `/verify`) instead of paying it.
public struct FeePolicy: Sendable, Hashable {
    /// The default ceiling on `maxFeePerGas`: 200 gwei.
    public static let defaultMaximumFeePerGas = UInt256(200_000_000_000)
    /// The default ceiling on the tip: 5 gwei.
    public static let defaultMaximumPriorityFeePerGas = UInt256(5_000_000_000)

    public var baseFeeMultiplier: UInt64 = 2
    /// Floor for the tip, in wei (default 0.001 gwei, the tip Base and OP chains suggest).
    public var minimumPriorityFee: UInt256 = UInt256(1_000_000)
    /// Cap on `maxFeePerGas`, in wei (default ``defaultMaximumFeePerGas``); a higher estimate fails
    /// the send instead. `nil` removes the cap (not recommended: the node decides what you pay).
    public var maximumFeePerGas: UInt256?
    /// Cap on the tip, in wei (default ``defaultMaximumPriorityFeePerGas``): a higher suggestion
    /// from the node is lowered to this value.
    public var maximumPriorityFeePerGas: UInt256
    /// How long a fee estimate is reused (fees are read at most this often per chain).
    public var cacheSeconds: Double = 2

    public init(
        baseFeeMultiplier: UInt64 = 2, minimumPriorityFee: UInt256 = UInt256(1_000_000),
        maximumFeePerGas: UInt256? = FeePolicy.defaultMaximumFeePerGas,
        maximumPriorityFeePerGas: UInt256 = FeePolicy.defaultMaximumPriorityFeePerGas, cacheSeconds: Double = 2
    ) {
        self.baseFeeMultiplier = baseFeeMultiplier
        self.minimumPriorityFee = minimumPriorityFee
        self.maximumFeePerGas = maximumFeePerGas
        self.maximumPriorityFeePerGas = maximumPriorityFeePerGas
        self.cacheSeconds = cacheSeconds
    }
}

/// EIP-1559 fee values for one transaction.
public struct TransactionFees: Sendable, Hashable {
    public var maxFeePerGas: UInt256
    public var maxPriorityFeePerGas: UInt256

    public init(maxFeePerGas: UInt256, maxPriorityFeePerGas: UInt256) {
        self.maxFeePerGas = maxFeePerGas
        self.maxPriorityFeePerGas = maxPriorityFeePerGas
    }
}

/// Reads and caches fees for one chain: one `eth_feeHistory` and one `eth_maxPriorityFeePerGas`
/// per refresh (one JSON-RPC batch), shared by every concurrent sender.
public actor FeeOracle {
    private let client: any EthereumClient
    public nonisolated let policy: FeePolicy
    private var cached: (fees: TransactionFees, at: ContinuousClock.Instant)?
    private var refreshing: Task<TransactionFees, any Error>?

    public init(client: any EthereumClient, policy: FeePolicy = FeePolicy()) {
        self.client = client
        self.policy = policy
    }

    /// Current fees (cached for `policy.cacheSeconds`).
    public func fees() async throws(EthereumClientError) -> TransactionFees {
        if let cached, ContinuousClock.now - cached.at < .milliseconds(Int64(policy.cacheSeconds * 1000)) { return cached.fees }
        let task: Task<TransactionFees, any Error>
        if let refreshing {
            task = refreshing
        } else {
            let client = self.client
            let policy = self.policy
            task = Task { try await Self.read(client: client, policy: policy) }
            refreshing = task
        }
        do {
            let fees = try await task.value
            if refreshing == task {
                refreshing = nil
                cached = (fees, ContinuousClock.now)
            }
            return fees
        } catch {
            if refreshing == task { refreshing = nil }
            throw (error as? EthereumClientError) ?? .invalidResponse(String(describing: error))
        }
    }

    /// Forgets the cached fees (after a node said they were too low).
    public func invalidate() {
        cached = nil
    }

    static func read(client: any EthereumClient, policy: FeePolicy) async throws(EthereumClientError) -> TransactionFees {
        // Both reads in one request (a JSON-RPC batch where the client can send one): the next
        // block's base fee, and the suggested tip. Nodes without eth_feeHistory fall back to eth_gasPrice.
        let answers = await client.read([.feeHistory(blockCount: 1, newestBlock: .latest, rewardPercentiles: []), .maxPriorityFeePerGas])
        let baseFee: UInt256
        if let history = (try? answers.first?.get())?.history, let next = history.baseFeePerGas.last {
            baseFee = next
        } else {
            baseFee = try await client.gasPrice()
        }
        var tip = policy.minimumPriorityFee
        if answers.count == 2, let suggested = (try? answers[1].get())?.uint256, suggested > tip { tip = suggested }
        if tip > policy.maximumPriorityFeePerGas { tip = max(policy.maximumPriorityFeePerGas, policy.minimumPriorityFee) }
        // Reporting arithmetic: a lying node must not be able to trap the process.
        let (scaled, overflowMultiply) = baseFee.multipliedReportingOverflow(by: UInt256(policy.baseFeeMultiplier))
        let (maxFee, overflowAdd) = scaled.addingReportingOverflow(tip)
        guard !overflowMultiply, !overflowAdd else {
            throw .invalidResponse("implausible base fee \(baseFee) wei from the node (maxFeePerGas would overflow)")
        }
        return TransactionFees(maxFeePerGas: maxFee, maxPriorityFeePerGas: tip)
    }
}
