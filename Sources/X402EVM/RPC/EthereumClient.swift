public import X402

/// Which block a read refers to.
public enum BlockTag: Sendable, Hashable, CustomStringConvertible {
    case latest
    case pending
    case earliest
    case number(UInt64)

    /// The JSON-RPC parameter text (`latest`, `0x1b4`, …).
    public var description: String {
        switch self {
        case .latest: "latest"
        case .pending: "pending"
        case .earliest: "earliest"
        case .number(let n): "0x" + String(n, radix: 16)
        }
    }
}

/// A message call or gas-estimation request (`eth_call` / `eth_estimateGas`).
public struct CallRequest: Sendable, Hashable {
    public var from: EthereumAddress?
    public var to: EthereumAddress
    public var data: [UInt8]
    public var value: UInt256?
    public var gas: UInt64?

    public init(from: EthereumAddress? = nil, to: EthereumAddress, data: [UInt8], value: UInt256? = nil, gas: UInt64? = nil) {
        self.from = from
        self.to = to
        self.data = data
        self.value = value
        self.gas = gas
    }
}

/// An event log in a receipt.
public struct EventLog: Sendable, Hashable {
    public var address: EthereumAddress
    public var topics: [Bytes32]
    public var data: [UInt8]

    public init(address: EthereumAddress, topics: [Bytes32], data: [UInt8]) {
        self.address = address
        self.topics = topics
        self.data = data
    }
}

/// A mined transaction's receipt.
public struct TransactionReceipt: Sendable, Hashable {
    public var transactionHash: Bytes32
    /// `true` when the transaction succeeded (status 1).
    public var succeeded: Bool
    public var blockNumber: UInt64
    public var from: EthereumAddress?
    public var to: EthereumAddress?
    public var gasUsed: UInt64
    public var effectiveGasPrice: UInt256?
    public var logs: [EventLog]
    /// The hash of the block that included the transaction.
    public var blockHash: Bytes32?
    /// The created contract's address, for a contract-creation transaction.
    public var contractAddress: EthereumAddress?

    public init(
        transactionHash: Bytes32, succeeded: Bool, blockNumber: UInt64, from: EthereumAddress? = nil, to: EthereumAddress? = nil,
        gasUsed: UInt64, effectiveGasPrice: UInt256? = nil, logs: [EventLog], blockHash: Bytes32? = nil,
        contractAddress: EthereumAddress? = nil
    ) {
        self.blockHash = blockHash
        self.contractAddress = contractAddress
        self.transactionHash = transactionHash
        self.succeeded = succeeded
        self.blockNumber = blockNumber
        self.from = from
        self.to = to
        self.gasUsed = gasUsed
        self.effectiveGasPrice = effectiveGasPrice
        self.logs = logs
    }
}

/// Base fees and priority-fee percentiles of recent blocks (`eth_feeHistory`).
public struct FeeHistory: Sendable, Hashable {
    public var oldestBlock: UInt64
    /// One entry per block plus the next block's base fee.
    public var baseFeePerGas: [UInt256]
    public var gasUsedRatio: [Double]
    /// Per block, the priority fee at each requested percentile.
    public var reward: [[UInt256]]

    public init(oldestBlock: UInt64, baseFeePerGas: [UInt256], gasUsedRatio: [Double], reward: [[UInt256]]) {
        self.oldestBlock = oldestBlock
        self.baseFeePerGas = baseFeePerGas
        self.gasUsedRatio = gasUsedRatio
        self.reward = reward
    }
}

/// Why a node call failed. Node errors keep the node's code, message and revert data.
public enum EthereumClientError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The request never got an HTTP answer (connection refused, reset, DNS…).
    case transport(String)
    /// No answer within the configured timeout.
    case timeout
    /// The node answered with a non-2xx HTTP status.
    case httpStatus(Int, body: String)
    /// The node answered with a JSON-RPC error object.
    case node(code: Int, message: String, data: [UInt8]?)
    /// The answer was not the JSON-RPC response expected.
    case invalidResponse(String)

    /// Revert data carried by a node error, if any (`execution reverted` answers).
    public var revertData: [UInt8]? {
        if case .node(_, _, let data) = self { return data }
        return nil
    }

    public var description: String {
        switch self {
        case .transport(let m): "transport error: \(m)"
        case .timeout: "node request timed out"
        case .httpStatus(let s, let body): "node answered HTTP \(s): \(body.prefix(200))"
        case .node(let code, let message, let data):
            "node error \(code): \(message)" + (data.map { " (data \(Hex.encode($0.prefix(64))))" } ?? "")
        case .invalidResponse(let m): "invalid node response: \(m)"
        }
    }
}

/// Read and write access to an EVM chain: the seam between the schemes and a node.
///
/// `JSONRPCClient` (module `X402EVMRPC`) implements it over HTTP JSON-RPC, so this module needs no
/// HTTP client. Tests inject faults through their own conformances.
public protocol EthereumClient: Sendable {
    func chainID() async throws(EthereumClientError) -> UInt64
    func blockNumber() async throws(EthereumClientError) -> UInt64
    /// The account's transaction count; `.pending` includes transactions in the pool.
    func transactionCount(of address: EthereumAddress, at block: BlockTag) async throws(EthereumClientError) -> UInt64
    func balance(of address: EthereumAddress, at block: BlockTag) async throws(EthereumClientError) -> UInt256
    func code(at address: EthereumAddress, at block: BlockTag) async throws(EthereumClientError) -> [UInt8]
    /// Executes a call without a transaction; a revert throws `.node` with the revert data.
    func call(_ request: CallRequest, at block: BlockTag) async throws(EthereumClientError) -> [UInt8]
    func estimateGas(_ request: CallRequest) async throws(EthereumClientError) -> UInt64
    /// Broadcasts a signed transaction and returns its hash.
    func sendRawTransaction(_ raw: [UInt8]) async throws(EthereumClientError) -> Bytes32
    /// The receipt, or `nil` while the transaction is not mined.
    func transactionReceipt(_ hash: Bytes32) async throws(EthereumClientError) -> TransactionReceipt?
    func gasPrice() async throws(EthereumClientError) -> UInt256
    func maxPriorityFeePerGas() async throws(EthereumClientError) -> UInt256
    func feeHistory(blockCount: Int, newestBlock: BlockTag, rewardPercentiles: [Double]) async throws(EthereumClientError) -> FeeHistory
    /// Several independent reads; one result per read, in order. The default performs them one by
    /// one; `JSONRPCClient` sends them in one HTTP request (a JSON-RPC batch).
    func read(_ reads: [ChainRead]) async -> [Result<ChainReadResult, EthereumClientError>]
}
