public import X402

/// One chain an EVM facilitator serves: its node, its paying keys and its receipt watcher.
public struct EVMFacilitatorChain: Sendable {
    public let network: Network
    public let chainID: UInt64
    public let client: any EthereumClient
    /// The facilitator's keys on this chain (gas payers), with their nonce managers.
    public let signers: SignerPool
    public let receipts: ReceiptWatcher
    let state: ChainState

    /// A chain served through `client`, paying gas from `signers` (at least one).
    ///
    /// The node's `eth_chainId` is compared with the network's chain id on first use; a mismatch
    /// rejects every payment on this chain with `invalid_network`.
    public init(
        network: Network, client: any EthereumClient, signers: [any EVMSigner], fees: FeePolicy = FeePolicy(),
        poolOptions: SignerPool.Options = SignerPool.Options(), receiptPollInterval: Duration = .milliseconds(250)
    ) {
        guard let chainID = network.chainID else { preconditionFailure("\(network) is not an eip155 network with a numeric chain id") }
        self.init(
            network: network, client: client,
            pool: SignerPool(chainID: chainID, client: client, signers: signers, fees: fees, options: poolOptions),
            receipts: ReceiptWatcher(client: client, pollInterval: receiptPollInterval))
    }

    /// A chain with an existing pool (for sharing one pool between schemes).
    public init(network: Network, client: any EthereumClient, pool: SignerPool, receipts: ReceiptWatcher? = nil) {
        guard let chainID = network.chainID else { preconditionFailure("\(network) is not an eip155 network with a numeric chain id") }
        precondition(pool.chainID == chainID, "the signer pool signs for chain \(pool.chainID), not \(chainID)")
        self.network = network
        self.chainID = chainID
        self.client = client
        self.signers = pool
        self.receipts = receipts ?? ReceiptWatcher(client: client)
        self.state = ChainState(client: client, expectedChainID: chainID)
    }
}

/// Facts about a chain learned once: the node's chain id and which tokens have code.
actor ChainState {
    private let client: any EthereumClient
    let expectedChainID: UInt64
    private var confirmedChainID = false
    private var contracts: Set<EthereumAddress> = []

    init(client: any EthereumClient, expectedChainID: UInt64) {
        self.client = client
        self.expectedChainID = expectedChainID
    }

    /// The node's chain id if it differs from the expected one; `nil` when they agree.
    func chainIDMismatch() async throws(EthereumClientError) -> UInt64? {
        if confirmedChainID { return nil }
        let actual = try await client.chainID()
        if actual == expectedChainID {
            confirmedChainID = true
            return nil
        }
        return actual
    }

    /// Whether `address` holds contract code (positive answers are cached).
    func hasCode(_ address: EthereumAddress) async throws(EthereumClientError) -> Bool {
        if contracts.contains(address) { return true }
        let code = try await client.code(at: address, at: .latest)
        if !code.isEmpty { contracts.insert(address) }
        return !code.isEmpty
    }
}
