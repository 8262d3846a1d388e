import X402

/// How the facilitator prices its EIP-1559 transactions.
///
/// `maxPriorityFeePerGas = max(eth_maxPriorityFeePerGas, minimumPriorityFee)` and
/// `maxFeePerGas = baseFeeMultiplier × next block's base fee + maxPriorityFeePerGas`. With the
/// default multiplier 2 a transaction stays includable through six consecutive full blocks
/// (+12.5 % each); the sender only ever pays base fee + tip.
public struct FeePolicy: Sendable, Hashable {
    public var baseFeeMultiplier: UInt64 = 2
    /// Floor for the tip, in wei (default 0.001 gwei, the tip Base and OP chains suggest).
    public var minimumPriorityFee: UInt256 = UInt256(1_000_000)
    /// Optional cap on `maxFeePerGas`, in wei; a higher estimate fails the send instead.
    public var maximumFeePerGas: UInt256?
    /// How long a fee estimate is reused (fees are read at most this often per chain).
    public var cacheSeconds: Double = 2

    public init(
        baseFeeMultiplier: UInt64 = 2, minimumPriorityFee: UInt256 = UInt256(1_000_000), maximumFeePerGas: UInt256? = nil,
        cacheSeconds: Double = 2
    ) {
        self.baseFeeMultiplier = baseFeeMultiplier
        self.minimumPriorityFee = minimumPriorityFee
        self.maximumFeePerGas = maximumFeePerGas
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
/// per refresh, shared by every concurrent sender.
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
        // The next block's base fee; nodes without eth_feeHistory fall back to eth_gasPrice.
        let baseFee: UInt256
        if let history = try? await client.feeHistory(blockCount: 1, newestBlock: .latest, rewardPercentiles: []),
            let next = history.baseFeePerGas.last
        {
            baseFee = next
        } else {
            baseFee = try await client.gasPrice()
        }
        var tip = policy.minimumPriorityFee
        if let suggested = try? await client.maxPriorityFeePerGas(), suggested > tip { tip = suggested }
        let maxFee = baseFee * UInt256(policy.baseFeeMultiplier) + tip
        return TransactionFees(maxFeePerGas: maxFee, maxPriorityFeePerGas: tip)
    }
}
