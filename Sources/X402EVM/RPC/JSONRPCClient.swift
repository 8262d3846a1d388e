import AsyncHTTPClient
import NIOCore
import X402

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// One call of a JSON-RPC batch.
public struct RPCCall: Sendable, Equatable {
    public var method: String
    public var params: [JSONValue]

    public init(_ method: String, _ params: [JSONValue] = []) {
        self.method = method
        self.params = params
    }
}

/// An ``EthereumClient`` that talks JSON-RPC 2.0 over HTTP(S) to a node.
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
        /// Answers larger than this many bytes fail with ``EthereumClientError/invalidResponse(_:)``.
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
    private let httpClient: HTTPClient

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
               !known.isNull {
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

// MARK: - Transport

extension JSONRPCClient {
    struct Exchange: Sendable {
        var status: Int
        var bytes: [UInt8]
    }

    /// A failed attempt: the error to report, whether it is worth retrying, and whether the node may have seen it.
    struct Fault: Error {
        var error: EthereumClientError
        var isTransient: Bool
        var mayHaveReachedNode: Bool
    }

    /// Posts `body`, retrying transport faults as `idempotency` allows.
    func send(_ body: [UInt8], idempotency: Idempotency) async throws(EthereumClientError) -> Exchange {
        var retry = 0
        while true {
            do {
                return try await attempt(body)
            } catch let fault {
                guard Self.shouldRetry(fault, idempotency), retry < configuration.maxRetries, !Task.isCancelled else {
                    throw fault.error
                }
                retry += 1
                do {
                    try await Task.sleep(for: backoff(beforeRetry: retry))
                } catch {
                    throw .transport("request cancelled")
                }
            }
        }
    }

    /// The retry rule: only transient faults, and for non-idempotent requests only those the node cannot have seen.
    static func shouldRetry(_ fault: Fault, _ idempotency: Idempotency) -> Bool {
        switch idempotency {
        case .idempotent, .rawTransaction: fault.isTransient
        case .notIdempotent: fault.isTransient && !fault.mayHaveReachedNode
        }
    }

    /// The delay before retry number `retry` (1-based): `backoffBase · 2^(retry-1)`, capped, with 50–100 % jitter.
    func backoff(beforeRetry retry: Int) -> Duration {
        let exponential = configuration.backoffBase * (1 << min(retry - 1, 20))
        let capped = min(exponential, configuration.maxBackoff)
        return capped * Double.random(in: 0.5...1.0)
    }

    /// One HTTP exchange within ``Configuration/timeout``.
    func attempt(_ body: [UInt8]) async throws(Fault) -> Exchange {
        if Task.isCancelled {
            throw Fault(error: .transport("request cancelled"), isTransient: false, mayHaveReachedNode: false)
        }
        var request = HTTPClientRequest(url: configuration.url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "Accept", value: "application/json")
        for header in configuration.headers {
            request.headers.replaceOrAdd(name: header.name, value: header.value)
        }
        request.body = .bytes(ByteBuffer(bytes: body))

        let clock = ContinuousClock()
        let deadline = clock.now + configuration.timeout
        let response: HTTPClientResponse
        do {
            response = try await httpClient.execute(request, deadline: .now() + TimeAmount(configuration.timeout))
        } catch {
            throw Self.classify(error)
        }
        let status = Int(response.status.code)
        let limit = configuration.maxResponseBytes
        let bytes: [UInt8]
        do {
            bytes = try await withThrowingTaskGroup(of: [UInt8]?.self) { group in
                group.addTask {
                    var buffer = try await response.body.collect(upTo: limit)
                    return buffer.readBytes(length: buffer.readableBytes) ?? []
                }
                group.addTask {
                    try await Task.sleep(until: deadline, clock: clock)
                    return nil
                }
                defer { group.cancelAll() }
                guard let first = try await group.next(), let bytes = first else {
                    throw Fault(error: .timeout, isTransient: true, mayHaveReachedNode: true)
                }
                return bytes
            }
        } catch {
            throw Self.classify(error)
        }
        if !(200..<300).contains(status) {
            // Some nodes send JSON-RPC errors with a 4xx/5xx status: keep the node's error then.
            if let nodeError = Self.nodeErrorInBody(bytes) {
                throw Fault(error: nodeError, isTransient: false, mayHaveReachedNode: true)
            }
            let text = String(decoding: bytes.prefix(512), as: UTF8.self)
            throw Fault(
                error: .httpStatus(status, body: text),
                isTransient: configuration.retryableHTTPStatuses.contains(status),
                mayHaveReachedNode: true
            )
        }
        return Exchange(status: status, bytes: bytes)
    }

    /// Maps a transport-level error to a ``Fault``; descriptions name no URL or header.
    static func classify(_ error: any Error) -> Fault {
        if let fault = error as? Fault { return fault }
        if error is CancellationError {
            return Fault(error: .transport("request cancelled"), isTransient: false, mayHaveReachedNode: true)
        }
        if error is NIOTooManyBytesError {
            return Fault(error: .invalidResponse("answer exceeds the configured maximum size"), isTransient: false, mayHaveReachedNode: true)
        }
        if let client = error as? HTTPClientError {
            switch client {
            case .connectTimeout, .getConnectionFromPoolTimeout:
                return Fault(error: .timeout, isTransient: true, mayHaveReachedNode: false)
            case .deadlineExceeded, .readTimeout, .writeTimeout:
                return Fault(error: .timeout, isTransient: true, mayHaveReachedNode: true)
            case .remoteConnectionClosed:
                return Fault(error: .transport("the node closed the connection"), isTransient: true, mayHaveReachedNode: true)
            case .cancelled:
                return Fault(error: .transport("request cancelled"), isTransient: !Task.isCancelled, mayHaveReachedNode: true)
            case .invalidURL, .emptyHost, .emptyScheme, .missingSocketPath:
                return Fault(error: .transport("invalid node URL"), isTransient: false, mayHaveReachedNode: false)
            default:
                if client.description.contains("unsupportedScheme") {
                    return Fault(error: .transport("invalid node URL"), isTransient: false, mayHaveReachedNode: false)
                }
                return Fault(error: .transport(client.description), isTransient: true, mayHaveReachedNode: true)
            }
        }
        if let channel = error as? ChannelError, case .connectTimeout = channel {
            return Fault(error: .timeout, isTransient: true, mayHaveReachedNode: false)
        }
        let typeName = String(describing: type(of: error))
        if typeName == "NIOConnectionError" {
            let detail = "\(error)".lowercased().contains("refused") ? ": connection refused" : ""
            return Fault(error: .transport("could not connect to the node" + detail), isTransient: true, mayHaveReachedNode: false)
        }
        if let io = error as? IOError {
            switch io.errnoCode {
            case ECONNREFUSED:
                return Fault(error: .transport("could not connect to the node: connection refused"), isTransient: true, mayHaveReachedNode: false)
            case ENETUNREACH, EHOSTUNREACH, EADDRNOTAVAIL:
                return Fault(error: .transport("could not connect to the node: unreachable"), isTransient: true, mayHaveReachedNode: false)
            case ECONNRESET:
                return Fault(error: .transport("connection reset by the node"), isTransient: true, mayHaveReachedNode: true)
            default:
                return Fault(error: .transport("I/O error: \(io.description)"), isTransient: true, mayHaveReachedNode: true)
            }
        }
        return Fault(error: .transport("\(typeName): \(error)"), isTransient: true, mayHaveReachedNode: true)
    }
}

// MARK: - Response decoding

extension JSONRPCClient {
    static func parseJSON(_ bytes: [UInt8]) throws(EthereumClientError) -> JSONValue {
        do {
            return try JSONValue(parsing: bytes)
        } catch {
            throw .invalidResponse("answer is not JSON (\(error))")
        }
    }

    /// The `result` of a single-call answer, or its error as ``EthereumClientError/node(code:message:data:)``.
    static func decodeSingleResponse(_ bytes: [UInt8], status: Int, expectedID: Int) throws(EthereumClientError) -> JSONValue {
        let json = try parseJSON(bytes)
        guard let object = json.objectValue else {
            throw .invalidResponse("expected a JSON-RPC response object, got \(json.typeName)")
        }
        return try decodeResponseObject(object, expectedID: expectedID).get()
    }

    /// One response object → its result or error; checks the id when present.
    static func decodeResponseObject(_ object: JSONObject, expectedID: Int?) throws(EthereumClientError) -> Result<JSONValue, EthereumClientError> {
        if let error = object["error"], !error.isNull {
            return .failure(try nodeError(error))
        }
        if let expectedID, let id = object["id"], id.intValue != expectedID {
            throw .invalidResponse("response id \(id) does not match request id \(expectedID)")
        }
        guard let result = object["result"] else {
            throw .invalidResponse("response has neither result nor error")
        }
        return .success(result)
    }

    /// Results of a batch answer, matched to the calls by id.
    static func decodeBatchResponse(_ bytes: [UInt8], status: Int, count: Int) throws(EthereumClientError) -> [Result<JSONValue, EthereumClientError>] {
        let json = try parseJSON(bytes)
        if let object = json.objectValue {
            // A node that rejects the whole batch answers with one error object.
            if let error = object["error"], !error.isNull { throw try nodeError(error) }
            throw .invalidResponse("expected an array answering the batch, got an object")
        }
        guard let responses = json.arrayValue else {
            throw .invalidResponse("expected an array answering the batch, got \(json.typeName)")
        }
        var results = [Result<JSONValue, EthereumClientError>?](repeating: nil, count: count)
        for response in responses {
            guard let object = response.objectValue else {
                throw .invalidResponse("batch answer contains a \(response.typeName) instead of a response object")
            }
            guard let id = object["id"]?.intValue, id >= 1, id <= count else {
                // An error without a usable id (e.g. an invalid request) cannot be matched; skip it.
                if object["error"] != nil { continue }
                throw .invalidResponse("batch answer has a response with an unknown id")
            }
            guard results[id - 1] == nil else { throw .invalidResponse("batch answer repeats id \(id)") }
            results[id - 1] = try decodeResponseObject(object, expectedID: nil)
        }
        return results.enumerated().map { index, result in
            result ?? .failure(.invalidResponse("batch answer has no response for call \(index + 1)"))
        }
    }

    /// A JSON-RPC error object → ``EthereumClientError/node(code:message:data:)``.
    static func nodeError(_ value: JSONValue) throws(EthereumClientError) -> EthereumClientError {
        guard let object = value.objectValue else {
            if let message = value.stringValue { return .node(code: 0, message: message, data: nil) }
            throw .invalidResponse("error member is a \(value.typeName), not an object")
        }
        guard let code = object["code"]?.intValue else {
            throw .invalidResponse("error object has no integer code")
        }
        let message = object["message"]?.stringValue ?? ""
        return .node(code: code, message: message, data: object["data"].flatMap(revertData))
    }

    /// Revert bytes from an error's `data`: a hex string, `"Reverted 0x…"`, or an object with its own `data`.
    static func revertData(_ value: JSONValue) -> [UInt8]? {
        switch value {
        case .string(let text):
            let hex = text.hasHexPrefix ? Substring(text) : text.split(separator: " ").last.flatMap { $0.hasHexPrefix ? $0 : nil }
            guard let hex else { return nil }
            return try? Hex.decode(hex)
        case .object(let object):
            return object["data"].flatMap(revertData)
        default:
            return nil
        }
    }

    /// A node error carried by a non-2xx answer, if the body is a JSON-RPC error response.
    static func nodeErrorInBody(_ bytes: [UInt8]) -> EthereumClientError? {
        guard let json = try? JSONValue(parsing: bytes) else { return nil }
        let object = json.objectValue ?? json.arrayValue?.first?.objectValue
        guard let error = object?["error"], !error.isNull else { return nil }
        return try? nodeError(error)
    }
}

/// A node's answer bytes decoded exactly as ``JSONRPCClient`` decodes them, without a transport:
/// the entry points the fuzz targets and decoding tests use.
public enum JSONRPCAnswer {
    /// The `result` of a single-call answer, or its error as ``EthereumClientError/node(code:message:data:)``.
    public static func single(_ bytes: [UInt8], expectedID: Int) throws(EthereumClientError) -> JSONValue {
        try JSONRPCClient.decodeSingleResponse(bytes, status: 200, expectedID: expectedID)
    }

    /// The results of a batch answer to `count` calls (ids `1…count`), matched by id.
    public static func batch(_ bytes: [UInt8], count: Int) throws(EthereumClientError) -> [Result<JSONValue, EthereumClientError>] {
        try JSONRPCClient.decodeBatchResponse(bytes, status: 200, count: max(count, 0))
    }

    /// The node error carried by a non-2xx answer's body, if it is a JSON-RPC error response.
    public static func nodeError(inBody bytes: [UInt8]) -> EthereumClientError? {
        JSONRPCClient.nodeErrorInBody(bytes)
    }
}

extension TimeAmount {
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        let nanoseconds = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        self = nanoseconds.overflow ? .nanoseconds(.max) : .nanoseconds(nanoseconds.partialValue + attoseconds / 1_000_000_000)
    }
}
