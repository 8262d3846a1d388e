public import X402
public import X402EVM

/// An `EthereumClient` over several nodes of one chain: each request goes to the first node in
/// service, and a node that fails is taken out of service and tried again later.
///
/// * A node is put in service only after it answered `eth_chainId` with ``Options/expectedChainID``
///   (checked before its first use and again whenever it comes back). A node that answers another
///   chain id is taken out: it may be a misconfigured or lying endpoint.
/// * A node that times out, cannot be reached, answers with an HTTP error or with an unusable
///   answer is taken out for ``Options/outOfServiceFor``, and the request goes to the next node.
///   A JSON-RPC error (a revert, `nonce too low`, …) is an answer, not a fault: it is returned as
///   it is and the node stays in service.
/// * When every node is out of service, each is tried again in order (a request never fails
///   only because all nodes failed recently).
///
/// Writes fail over too: `eth_sendRawTransaction` sends the same signed bytes, which have one
/// hash, so a transaction reaching two nodes is still one transaction.
public struct FailoverEthereumClient: EthereumClient {
    /// Failover settings.
    public struct Options: Sendable, Hashable {
        /// The chain id every node must report (`nil`: not checked).
        public var expectedChainID: UInt64?
        /// How long a failed node stays out of service before it is checked again (default 30 s).
        public var outOfServiceFor: Duration

        public init(expectedChainID: UInt64?, outOfServiceFor: Duration = .seconds(30)) {
            self.expectedChainID = expectedChainID
            self.outOfServiceFor = outOfServiceFor
        }
    }

    /// A node's standing.
    public typealias Health = EndpointHealth

    public let options: Options
    let endpoints: [any EthereumClient]
    private let rotation: EndpointRotation

    /// A client over `endpoints` (at least one), preferred in the order given.
    public init(endpoints: [any EthereumClient], options: Options) {
        precondition(!endpoints.isEmpty, "a failover client needs at least one endpoint")
        self.endpoints = endpoints
        self.options = options
        self.rotation = EndpointRotation(count: endpoints.count, outOfServiceFor: options.outOfServiceFor)
    }

    /// A client over JSON-RPC nodes at `urls`, each with `configuration`'s settings but its own URL.
    /// Retries within one node are lowered to one: failing over is the better retry.
    public init(urls: [String], configuration: JSONRPCClient.Configuration, options: Options) {
        let clients = urls.map { url -> any EthereumClient in
            var each = configuration
            each.url = url
            each.maxRetries = min(each.maxRetries, 1)
            return JSONRPCClient(configuration: each)
        }
        self.init(endpoints: clients, options: options)
    }

    /// Each node's standing, in the order given at initialisation.
    public var standings: [Health] { rotation.standings }

    /// A fault of the node (it is taken out), as opposed to its answer.
    static func isFault(_ error: EthereumClientError) -> Bool {
        if case .node = error { return false }
        return true
    }

    /// `nil` when node `index` reports the expected chain id (or none is expected), else why not.
    private func check(_ index: Int) async -> String? {
        guard let expected = options.expectedChainID else { return nil }
        do {
            let actual = try await endpoints[index].chainID()
            return actual == expected ? nil : "reports chain id \(actual), not \(expected)"
        } catch {
            return "chain id check failed: \(error)"
        }
    }

    func route<T: Sendable>(_ body: (any EthereumClient) async throws(EthereumClientError) -> T) async throws(EthereumClientError) -> T {
        try await rotation.route(
            check: { await check($0) }, isFault: Self.isFault,
            unavailable: { index in
                index.map { .transport("node \($0 + 1) is not on the expected chain or did not answer") }
                    ?? .transport("no node of this chain is in service")
            }
        ) { (index: Int) async throws(EthereumClientError) -> T in try await body(endpoints[index]) }
    }

    // MARK: EthereumClient

    public func chainID() async throws(EthereumClientError) -> UInt64 { try await route { c throws(EthereumClientError) in try await c.chainID() } }
    public func blockNumber() async throws(EthereumClientError) -> UInt64 {
        try await route { c throws(EthereumClientError) in try await c.blockNumber() }
    }
    public func transactionCount(of address: EthereumAddress, at block: BlockTag) async throws(EthereumClientError) -> UInt64 {
        try await route { c throws(EthereumClientError) in try await c.transactionCount(of: address, at: block) }
    }
    public func balance(of address: EthereumAddress, at block: BlockTag) async throws(EthereumClientError) -> UInt256 {
        try await route { c throws(EthereumClientError) in try await c.balance(of: address, at: block) }
    }
    public func code(at address: EthereumAddress, at block: BlockTag) async throws(EthereumClientError) -> [UInt8] {
        try await route { c throws(EthereumClientError) in try await c.code(at: address, at: block) }
    }
    public func call(_ request: CallRequest, at block: BlockTag) async throws(EthereumClientError) -> [UInt8] {
        try await route { c throws(EthereumClientError) in try await c.call(request, at: block) }
    }
    public func estimateGas(_ request: CallRequest) async throws(EthereumClientError) -> UInt64 {
        try await route { c throws(EthereumClientError) in try await c.estimateGas(request) }
    }
    public func sendRawTransaction(_ raw: [UInt8]) async throws(EthereumClientError) -> Bytes32 {
        try await route { c throws(EthereumClientError) in try await c.sendRawTransaction(raw) }
    }
    public func transactionReceipt(_ hash: Bytes32) async throws(EthereumClientError) -> TransactionReceipt? {
        try await route { c throws(EthereumClientError) in try await c.transactionReceipt(hash) }
    }
    public func gasPrice() async throws(EthereumClientError) -> UInt256 {
        try await route { c throws(EthereumClientError) in try await c.gasPrice() }
    }
    public func maxPriorityFeePerGas() async throws(EthereumClientError) -> UInt256 {
        try await route { c throws(EthereumClientError) in try await c.maxPriorityFeePerGas() }
    }
    public func feeHistory(blockCount: Int, newestBlock: BlockTag, rewardPercentiles: [Double]) async throws(EthereumClientError) -> FeeHistory {
        try await route { c throws(EthereumClientError) in
            try await c.feeHistory(blockCount: blockCount, newestBlock: newestBlock, rewardPercentiles: rewardPercentiles)
        }
    }

    /// The reads as one batch on the first node in service. A batch whose every read failed with
    /// a fault (not a node answer) counts as the node's fault and goes to the next node.
    public func read(_ reads: [ChainRead]) async -> [Result<ChainReadResult, EthereumClientError>] {
        do {
            return try await route { c throws(EthereumClientError) in
                let answers = await c.read(reads)
                if !answers.isEmpty, answers.allSatisfy({ if case .failure(let e) = $0 { Self.isFault(e) } else { false } }),
                    case .failure(let error) = answers[0]
                {
                    throw error
                }
                return answers
            }
        } catch {
            return reads.map { _ in .failure(error) }
        }
    }
}
