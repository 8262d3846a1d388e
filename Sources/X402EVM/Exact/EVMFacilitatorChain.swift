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
    /// The node's `eth_chainId` is compared with the network's chain id on first use (and again
    /// after ``ChainFactsPolicy/refreshInterval``); a mismatch rejects every payment on this chain
    /// with `invalid_network` until the node answers the right id.
    public init(
        network: Network, client: any EthereumClient, signers: [any EVMSigner], fees: FeePolicy = FeePolicy(),
        poolOptions: SignerPool.Options = SignerPool.Options(), receiptPollInterval: Duration = .milliseconds(250),
        facts: ChainFactsPolicy = ChainFactsPolicy()
    ) {
        guard let chainID = network.chainID else { preconditionFailure("\(network) is not an eip155 network with a numeric chain id") }
        self.init(
            network: network, client: client,
            pool: SignerPool(chainID: chainID, client: client, signers: signers, fees: fees, options: poolOptions),
            receipts: ReceiptWatcher(client: client, pollInterval: receiptPollInterval), facts: facts)
    }

    /// A chain with an existing pool (for sharing one pool between schemes).
    public init(
        network: Network, client: any EthereumClient, pool: SignerPool, receipts: ReceiptWatcher? = nil,
        facts: ChainFactsPolicy = ChainFactsPolicy()
    ) {
        guard let chainID = network.chainID else { preconditionFailure("\(network) is not an eip155 network with a numeric chain id") }
        precondition(pool.chainID == chainID, "the signer pool signs for chain \(pool.chainID), not \(chainID)")
        self.network = network
        self.chainID = chainID
        self.client = client
        self.signers = pool
        self.receipts = receipts ?? ReceiptWatcher(client: client)
        self.state = ChainState(client: client, expectedChainID: chainID, policy: facts)
    }
}
