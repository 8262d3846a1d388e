public import AsyncHTTPClient
public import X402
public import X402EVM

/// One call of a JSON-RPC batch.
public struct RPCCall: Sendable, Equatable {
    public var method: String
    public var params: [JSONValue]

    public init(_ method: String, _ params: [JSONValue] = []) {
        self.method = method
        self.params = params
    }
}

/// An `EthereumClient` that talks JSON-RPC 2.0 over HTTP(S) to a node.
///
/// ```swift
/// let client = JSONRPCClient(url: "http://127.0.0.1:8545")
/// let chainID = try await client.chainID()
/// ```
///
/// **Retries.** Only transport faults are retried (connection refused or reset, timeouts, and the
/// gateway statuses in ``Configuration/retryableHTTPStatuses``), at most ``Configuration/maxRetries``
/// times with exponential backoff and jitter. A JSON-RPC error answer is never retried. Which requests
/// may be retried depends on their ``Idempotency``:
/// - reads (`eth_call`, `eth_getBalance`, … see ``idempotency(of:)``) are retried on any transport fault;
/// - `eth_sendRawTransaction` is retried with the *same raw bytes*, which cannot double-spend: the
///   transaction hash is `keccak256(raw)`, known before sending. An `already known` answer means the
///   node holds exactly this transaction and counts as success. A `nonce too low` answer counts as
///   success only if the node knows this exact hash (`eth_getTransactionByHash` is not null: an
///   earlier attempt, or an earlier process, got it in); otherwise it is thrown, since another
///   transaction took the nonce;
/// - any other method (including batches with a write) is retried only when the request provably
///   never left this process (the connection could not be established).
///
/// Error messages never contain the URL, headers or request body, which may carry credentials.
public struct JSONRPCClient: EthereumClient {
    /// Connection and retry settings.
    public struct Configuration: Sendable {
        /// The node's HTTP(S) endpoint.
        public var url: String
        /// The time allowed for one attempt: connecting, sending and reading the whole answer. (The shared
        /// `HTTPClient` keeps retrying a refused connection within this time before reporting it.)
        public var timeout: Duration
        /// Extra attempts after a retryable transport fault (0 disables retries).
        public var maxRetries: Int
        /// The delay before the first retry; each further retry doubles it (with jitter), up to ``maxBackoff``.
        public var backoffBase: Duration
        /// The longest delay between two attempts.
        public var maxBackoff: Duration
        /// Headers added to every request, e.g. `("Authorization", "Bearer …")`. Never included in errors.
        public var headers: [(name: String, value: String)]
        /// Answers larger than this many bytes fail with `EthereumClientError/invalidResponse(_:)`.
        public var maxResponseBytes: Int
        /// HTTP statuses treated as transport faults (overloaded or unreachable upstream), retried like them.
        public var retryableHTTPStatuses: Set<Int>

        public init(
            url: String,
            timeout: Duration = .seconds(15),
            maxRetries: Int = 2,
            backoffBase: Duration = .milliseconds(200),
            maxBackoff: Duration = .seconds(3),
            headers: [(name: String, value: String)] = [],
            maxResponseBytes: Int = 16 * 1024 * 1024,
            retryableHTTPStatuses: Set<Int> = [429, 502, 503, 504]
        ) {
            self.url = url
            self.timeout = timeout
            self.maxRetries = max(0, maxRetries)
            self.backoffBase = backoffBase
            self.maxBackoff = maxBackoff
            self.headers = headers
            self.maxResponseBytes = maxResponseBytes
            self.retryableHTTPStatuses = retryableHTTPStatuses
        }
    }

    /// Whether repeating a request after a transport fault is harmless.
    public enum Idempotency: Sendable, Hashable {
        /// Reading state: retried on any transport fault.
        case idempotent
        /// `eth_sendRawTransaction`: retried with the same bytes, reconciling the node's answer by hash.
        case rawTransaction
        /// Anything else: retried only if the request never left this process.
        case notIdempotent
    }

    public let configuration: Configuration
    let httpClient: HTTPClient

    /// A client for `configuration`, using `httpClient` (the process-wide shared client by default).
    public init(configuration: Configuration, httpClient: HTTPClient = .shared) {
        self.configuration = configuration
        self.httpClient = httpClient
    }

    /// A client for the node at `url` with default settings.
    public init(url: String, httpClient: HTTPClient = .shared) {
        self.init(configuration: Configuration(url: url), httpClient: httpClient)
    }

    /// Methods that only read state: retried on any transport fault.
    public static let readOnlyMethods: Set<String> = [
        "eth_chainId", "eth_blockNumber", "eth_getTransactionCount", "eth_getBalance", "eth_getCode",
        "eth_getStorageAt", "eth_call", "eth_estimateGas", "eth_createAccessList", "eth_getTransactionReceipt",
        "eth_getTransactionByHash", "eth_getBlockByNumber", "eth_getBlockByHash", "eth_getLogs", "eth_getProof",
        "eth_gasPrice", "eth_maxPriorityFeePerGas", "eth_feeHistory", "eth_blobBaseFee", "eth_syncing",
        "eth_getBlockTransactionCountByNumber", "eth_getBlockTransactionCountByHash", "eth_getBlockReceipts",
        "eth_accounts", "net_version", "net_listening", "net_peerCount", "web3_clientVersion", "web3_sha3",
        "devnet_accounts", "devnet_time",
    ]

    /// How a method is retried (see the type's documentation).
    public static func idempotency(of method: String) -> Idempotency {
        if method == "eth_sendRawTransaction" { return .rawTransaction }
        return readOnlyMethods.contains(method) ? .idempotent : .notIdempotent
    }

    // MARK: Generic calls

    /// Sends one call and returns its `result` (which may be JSON `null`).
    ///
    /// `idempotency` defaults to ``idempotency(of:)``; pass `.idempotent` for a read-only method not in
    /// ``readOnlyMethods``. A `.rawTransaction` request is sent without reconciliation here; use
    /// ``sendRawTransaction(_:)`` for that.
    public func request(
        method: String, params: [JSONValue] = [], idempotency: Idempotency? = nil
    ) async throws(EthereumClientError) -> JSONValue {
        let body = JSONValue.object(["jsonrpc": "2.0", "id": 1, "method": .string(method), "params": .array(params)])
        let exchange = try await send(body.serialized(), idempotency: idempotency ?? Self.idempotency(of: method))
        return try Self.decodeSingleResponse(exchange.bytes, status: exchange.status, expectedID: 1)
    }

    /// Sends several calls in one HTTP request and returns one result per call, in the calls' order.
    ///
    /// Each element is the call's `result` or its own error (a node error, or `.invalidResponse` when
    /// the node left it unanswered). The whole batch throws only when there is no usable answer at all
    /// (transport fault, HTTP error, malformed body, or a node that rejects the batch with one error).
    /// The batch is retried like its least idempotent call.
    public func batch(_ calls: [RPCCall]) async throws(EthereumClientError) -> [Result<JSONValue, EthereumClientError>] {
        guard !calls.isEmpty else { return [] }
        var requests: [JSONValue] = []
        requests.reserveCapacity(calls.count)
        for (index, call) in calls.enumerated() {
            requests.append(["jsonrpc": "2.0", "id": .number(JSONNumber(index + 1)), "method": .string(call.method), "params": .array(call.params)])
        }
        let idempotency: Idempotency = calls.allSatisfy { Self.idempotency(of: $0.method) == .idempotent } ? .idempotent : .notIdempotent
        let exchange = try await send(JSONValue.array(requests).serialized(), idempotency: idempotency)
        return try Self.decodeBatchResponse(exchange.bytes, status: exchange.status, count: calls.count)
    }

    // MARK: EthereumClient

    public func chainID() async throws(EthereumClientError) -> UInt64 {
        try EthereumJSON.uint64(try await request(method: "eth_chainId"))
    }

    public func blockNumber() async throws(EthereumClientError) -> UInt64 {
        try EthereumJSON.uint64(try await request(method: "eth_blockNumber"))
    }

    public func transactionCount(of address: EthereumAddress, at block: BlockTag) async throws(EthereumClientError) -> UInt64 {
        try EthereumJSON.uint64(
            try await request(method: "eth_getTransactionCount", params: [EthereumJSON.address(address), EthereumJSON.block(block)]))
    }

    public func balance(of address: EthereumAddress, at block: BlockTag) async throws(EthereumClientError) -> UInt256 {
        try EthereumJSON.uint256(
            try await request(method: "eth_getBalance", params: [EthereumJSON.address(address), EthereumJSON.block(block)]))
    }

    public func code(at address: EthereumAddress, at block: BlockTag) async throws(EthereumClientError) -> [UInt8] {
        try EthereumJSON.bytes(
            try await request(method: "eth_getCode", params: [EthereumJSON.address(address), EthereumJSON.block(block)]))
    }

    public func call(_ request: CallRequest, at block: BlockTag) async throws(EthereumClientError) -> [UInt8] {
        try EthereumJSON.bytes(
            try await self.request(method: "eth_call", params: [EthereumJSON.callObject(request), EthereumJSON.block(block)]))
    }

    public func estimateGas(_ request: CallRequest) async throws(EthereumClientError) -> UInt64 {
        try EthereumJSON.uint64(try await self.request(method: "eth_estimateGas", params: [EthereumJSON.callObject(request)]))
    }

    /// Broadcasts a signed transaction; see the type's documentation for how retries are reconciled.
    public func sendRawTransaction(_ raw: [UInt8]) async throws(EthereumClientError) -> Bytes32 {
        let localHash = Keccak256.hash(raw)
        let body = JSONValue.object([
            "jsonrpc": "2.0", "id": 1, "method": "eth_sendRawTransaction", "params": [EthereumJSON.data(raw)],
        ])
        let result: JSONValue
        do {
            let exchange = try await send(body.serialized(), idempotency: .rawTransaction)
            result = try Self.decodeSingleResponse(exchange.bytes, status: exchange.status, expectedID: 1)
        } catch {
            guard case .node(_, let message, _) = error else { throw error }
            if Self.isAlreadyKnown(message) { return localHash }
            if Self.isNonceTooLow(message),
                let known = try? await request(method: "eth_getTransactionByHash", params: [EthereumJSON.bytes32(localHash)]),
                !known.isNull
            {
                return localHash
            }
            throw error
        }
        let hash = try EthereumJSON.bytes32(result)
        guard hash == localHash else {
            throw .invalidResponse("node returned transaction hash \(hash) for a transaction whose hash is \(localHash)")
        }
        return hash
    }

    public func transactionReceipt(_ hash: Bytes32) async throws(EthereumClientError) -> TransactionReceipt? {
        try EthereumJSON.receipt(try await request(method: "eth_getTransactionReceipt", params: [EthereumJSON.bytes32(hash)]))
    }

    public func gasPrice() async throws(EthereumClientError) -> UInt256 {
        try EthereumJSON.uint256(try await request(method: "eth_gasPrice"))
    }

    public func maxPriorityFeePerGas() async throws(EthereumClientError) -> UInt256 {
        try EthereumJSON.uint256(try await request(method: "eth_maxPriorityFeePerGas"))
    }

    public func feeHistory(
        blockCount: Int, newestBlock: BlockTag, rewardPercentiles: [Double]
    ) async throws(EthereumClientError) -> FeeHistory {
        var percentiles: [JSONValue] = []
        for percentile in rewardPercentiles {
            guard let number = JSONNumber(percentile) else { throw .invalidResponse("reward percentile \(percentile) is not finite") }
            percentiles.append(.number(number))
        }
        let params: [JSONValue] = [EthereumJSON.quantity(UInt64(max(0, blockCount))), EthereumJSON.block(newestBlock), .array(percentiles)]
        return try EthereumJSON.feeHistory(try await request(method: "eth_feeHistory", params: params))
    }

    // MARK: Answers of eth_sendRawTransaction

    /// The node already holds this exact transaction (geth, Erigon, Nethermind, Besu and the devnet phrasings).
    static func isAlreadyKnown(_ message: String) -> Bool {
        let text = message.lowercased()
        return text.contains("already known") || text.contains("known transaction") || text.contains("alreadyknown")
            || text.contains("already imported") || text.contains("already in the pool") || text.contains("already exists")
    }

    /// The account's nonce has moved past the transaction's nonce.
    static func isNonceTooLow(_ message: String) -> Bool {
        let text = message.lowercased()
        return text.contains("nonce too low") || text.contains("oldnonce") || text.contains("nonce is too low")
    }
}
