public import AsyncHTTPClient
public import X402
public import X402EVM
public import X402EVMRPC
public import X402Solana

/// A `SolanaRPC` that talks JSON-RPC 2.0 over HTTP(S) to a Solana node.
///
/// ```swift
/// let rpc = SolanaJSONRPCClient(url: "http://127.0.0.1:8899")
/// let hash = try await rpc.latestBlockhash(commitment: .confirmed)
/// ```
///
/// It runs on the same transport as the EVM `JSONRPCClient` (one HTTP client, the same timeouts,
/// size limit and retry rules; errors never carry the URL or credentials). Every read is retried on a
/// transport fault. `sendTransaction` is retried with the *same wire bytes*, which cannot pay twice:
/// a Solana transaction is identified by its first signature, and the runtime refuses a signature it
/// has already processed (the caller reconciles such an answer through ``signatureStatuses(_:)``).
///
/// Every answer is read defensively: wrong shapes, out-of-range numbers, account data that is not
/// base64 or larger than ``maxAccountDataBytes`` are `SolanaRPCError.Code.invalidResponse` errors.
public struct SolanaJSONRPCClient: SolanaRPC {
    /// The transport (URL, timeouts, retries, headers, answer size limit).
    public let transport: JSONRPCClient

    /// Account data longer than this is refused (a mint or token account is a few hundred bytes).
    public var maxAccountDataBytes: Int = 1 << 20
    /// At most this many log lines of a simulation are kept.
    public var maxLogLines: Int = 200

    /// A client with the given transport configuration.
    public init(configuration: JSONRPCClient.Configuration, httpClient: HTTPClient = .shared) {
        self.transport = JSONRPCClient(configuration: configuration, httpClient: httpClient)
    }

    /// A client for the node at `url` with default settings.
    public init(url: String, httpClient: HTTPClient = .shared) {
        self.init(configuration: .init(url: url), httpClient: httpClient)
    }

    // MARK: SolanaRPC

    public func latestBlockhash(commitment: SolanaCommitment) async throws(SolanaRPCError) -> SolanaBlockhash {
        let value = try Self.contextValue(try await read("getLatestBlockhash", [Self.config(commitment)]))
        guard let blockhash = value["blockhash"]?.stringValue, Self.isBase58(blockhash, bytes: 32),
            let height = value["lastValidBlockHeight"]?.numberValue?.uint64Value
        else { throw SolanaRPCError(.invalidResponse, "getLatestBlockhash: unexpected value") }
        return SolanaBlockhash(blockhash: blockhash, lastValidBlockHeight: height)
    }

    public func accountInfo(
        _ address: String, commitment: SolanaCommitment
    ) async throws(SolanaRPCError)
        -> SolanaAccountInfo?
    {
        let params: [JSONValue] = [.string(address), Self.config(commitment, ["encoding": "base64"])]
        let value = try Self.contextValue(try await read("getAccountInfo", params))
        return try account(value, method: "getAccountInfo")
    }

    public func accountInfos(
        _ addresses: [String], commitment: SolanaCommitment
    ) async throws(SolanaRPCError)
        -> [SolanaAccountInfo?]
    {
        guard !addresses.isEmpty else { return [] }
        let params: [JSONValue] = [.array(addresses.map(JSONValue.string)), Self.config(commitment, ["encoding": "base64"])]
        let value = try Self.contextValue(try await read("getMultipleAccounts", params))
        guard let items = value.arrayValue, items.count == addresses.count else {
            throw SolanaRPCError(.invalidResponse, "getMultipleAccounts: expected \(addresses.count) entries")
        }
        var accounts: [SolanaAccountInfo?] = []
        accounts.reserveCapacity(items.count)
        for item in items { accounts.append(try account(item, method: "getMultipleAccounts")) }
        return accounts
    }

    public func simulateTransaction(
        _ transaction: String, sigVerify: Bool, commitment: SolanaCommitment
    )
        async throws(SolanaRPCError) -> SolanaSimulation
    {
        let config = Self.config(
            commitment,
            ["encoding": "base64", "sigVerify": .bool(sigVerify), "replaceRecentBlockhash": false])
        let value = try Self.contextValue(try await read("simulateTransaction", [.string(transaction), config]))
        guard value.objectValue != nil else { throw SolanaRPCError(.invalidResponse, "simulateTransaction: not an object") }
        let error = Self.nonNull(value["err"])
        var logs: [String] = []
        if let lines = value["logs"]?.arrayValue {
            for line in lines.prefix(maxLogLines) {
                if let text = line.stringValue { logs.append(String(text.prefix(1024))) }
            }
        }
        return SolanaSimulation(error: error, logs: logs, unitsConsumed: value["unitsConsumed"]?.numberValue?.uint64Value)
    }

    public func sendTransaction(
        _ transaction: String, skipPreflight: Bool, preflightCommitment: SolanaCommitment
    )
        async throws(SolanaRPCError) -> String
    {
        let config: JSONValue = [
            "encoding": "base64", "skipPreflight": .bool(skipPreflight),
            "preflightCommitment": .string(preflightCommitment.rawValue), "maxRetries": 0,
        ]
        // Same bytes on every attempt: the signature identifies the transaction, the runtime dedups it.
        let result = try await call("sendTransaction", [.string(transaction), config], idempotency: .idempotent)
        guard let signature = result.stringValue, Self.isBase58(signature, bytes: 64) else {
            throw SolanaRPCError(.invalidResponse, "sendTransaction: expected a base58 signature")
        }
        return signature
    }

    public func signatureStatuses(_ signatures: [String]) async throws(SolanaRPCError) -> [SolanaSignatureStatus?] {
        guard !signatures.isEmpty else { return [] }
        let params: [JSONValue] = [.array(signatures.map(JSONValue.string)), ["searchTransactionHistory": true]]
        let value = try Self.contextValue(try await read("getSignatureStatuses", params))
        guard let items = value.arrayValue, items.count == signatures.count else {
            throw SolanaRPCError(.invalidResponse, "getSignatureStatuses: expected \(signatures.count) entries")
        }
        var statuses: [SolanaSignatureStatus?] = []
        statuses.reserveCapacity(items.count)
        for item in items {
            if item.isNull {
                statuses.append(nil)
                continue
            }
            guard let slot = item["slot"]?.numberValue?.uint64Value else {
                throw SolanaRPCError(.invalidResponse, "getSignatureStatuses: entry without slot")
            }
            let confirmations = item["confirmations"]?.numberValue?.uint64Value
            let error = Self.nonNull(item["err"])
            let status = item["confirmationStatus"]?.stringValue.flatMap(SolanaCommitment.init(rawValue:))
            statuses.append(SolanaSignatureStatus(slot: slot, confirmations: confirmations, error: error, confirmationStatus: status))
        }
        return statuses
    }

    public func minimumBalanceForRentExemption(dataLength: Int) async throws(SolanaRPCError) -> UInt64 {
        guard dataLength >= 0 else { throw SolanaRPCError(.invalidResponse, "negative data length") }
        let result = try await read("getMinimumBalanceForRentExemption", [.number(JSONNumber(dataLength))])
        guard let lamports = result.numberValue?.uint64Value else {
            throw SolanaRPCError(.invalidResponse, "getMinimumBalanceForRentExemption: expected an integer")
        }
        return lamports
    }

    public func blockHeight(commitment: SolanaCommitment) async throws(SolanaRPCError) -> UInt64 {
        let result = try await read("getBlockHeight", [Self.config(commitment)])
        guard let height = result.numberValue?.uint64Value else {
            throw SolanaRPCError(.invalidResponse, "getBlockHeight: expected an integer")
        }
        return height
    }

    // MARK: Other reads

    /// `getBalance` in lamports.
    public func balance(of address: String, commitment: SolanaCommitment) async throws(SolanaRPCError) -> UInt64 {
        let value = try Self.contextValue(try await read("getBalance", [.string(address), Self.config(commitment)]))
        guard let lamports = value.numberValue?.uint64Value else {
            throw SolanaRPCError(.invalidResponse, "getBalance: expected an integer")
        }
        return lamports
    }

    /// `getTokenAccountBalance`: the raw amount (atomic units) and the mint's decimals; `nil` when the account does not exist.
    public func tokenAccountBalance(
        _ address: String, commitment: SolanaCommitment
    ) async throws(SolanaRPCError)
        -> (amount: UInt64, decimals: UInt8)?
    {
        let result: JSONValue
        do {
            result = try await read("getTokenAccountBalance", [.string(address), Self.config(commitment)])
        } catch let error where error.code == .node(code: -32602) {
            return nil  // "could not find account" / "not a Token account"
        }
        let value = try Self.contextValue(result)
        guard let amountText = value["amount"]?.stringValue, let amount = UInt64(amountText),
            let decimals = value["decimals"]?.numberValue?.intValue, let decimals8 = UInt8(exactly: decimals)
        else { throw SolanaRPCError(.invalidResponse, "getTokenAccountBalance: unexpected value") }
        return (amount, decimals8)
    }

    /// `getGenesisHash` (base58): names the cluster, the reference of a `solana:` CAIP-2 id.
    public func genesisHash() async throws(SolanaRPCError) -> String {
        guard let hash = try await read("getGenesisHash", []).stringValue, Self.isBase58(hash, bytes: 32) else {
            throw SolanaRPCError(.invalidResponse, "getGenesisHash: expected a base58 hash")
        }
        return hash
    }

    /// Sends any method (for node-specific helpers), as a read: retried on transport faults.
    public func request(method: String, params: [JSONValue]) async throws(SolanaRPCError) -> JSONValue {
        try await read(method, params)
    }

    // MARK: Plumbing

    private func read(_ method: String, _ params: [JSONValue]) async throws(SolanaRPCError) -> JSONValue {
        try await call(method, params, idempotency: .idempotent)
    }

    private func call(
        _ method: String, _ params: [JSONValue], idempotency: JSONRPCClient.Idempotency
    )
        async throws(SolanaRPCError) -> JSONValue
    {
        do {
            return try await transport.request(method: method, params: params, idempotency: idempotency)
        } catch {
            throw Self.map(error)
        }
    }

    private func account(_ value: JSONValue, method: String) throws(SolanaRPCError) -> SolanaAccountInfo? {
        if value.isNull { return nil }
        guard let owner = value["owner"]?.stringValue, Self.isBase58(owner, bytes: 32),
            let lamports = value["lamports"]?.numberValue?.uint64Value,
            let executable = value["executable"]?.boolValue,
            let data = value["data"]?.arrayValue, data.count == 2,
            let encoded = data[0].stringValue, data[1].stringValue == "base64"
        else { throw SolanaRPCError(.invalidResponse, "\(method): unexpected account shape") }
        guard encoded.utf8.count <= (maxAccountDataBytes / 3 + 1) * 4 else {
            throw SolanaRPCError(.invalidResponse, "\(method): account data too large")
        }
        let bytes: [UInt8]
        do { bytes = try Base64.decode(encoded) } catch {
            throw SolanaRPCError(.invalidResponse, "\(method): account data is not base64")
        }
        return SolanaAccountInfo(owner: owner, lamports: lamports, data: bytes, executable: executable)
    }

    /// The member's value unless it is absent or JSON `null` (`JSONValue` is nil-literal
    /// expressible, so a `nil` in a closure would become `.null`).
    static func nonNull(_ value: JSONValue?) -> JSONValue? {
        guard let value, !value.isNull else { return Optional<JSONValue>.none }
        return value
    }

    static func config(_ commitment: SolanaCommitment, _ extra: JSONObject = [:]) -> JSONValue {
        var object = extra
        object["commitment"] = .string(commitment.rawValue)
        return .object(object)
    }

    /// The `value` of a `{context, value}` answer.
    static func contextValue(_ result: JSONValue) throws(SolanaRPCError) -> JSONValue {
        guard let value = result["value"], result["context"]?.objectValue != nil else {
            throw SolanaRPCError(.invalidResponse, "expected {context, value}")
        }
        return value
    }

    /// Whether `text` is base58 of exactly `bytes` bytes (a key, hash or signature from the node).
    static func isBase58(_ text: String, bytes: Int) -> Bool {
        (try? Base58.decode(text, length: bytes)) != nil
    }

    static func map(_ error: EthereumClientError) -> SolanaRPCError {
        switch error {
        case .transport(let message): SolanaRPCError(.transport, message)
        case .timeout: SolanaRPCError(.transport, "request timed out")
        case .httpStatus(let status, _): SolanaRPCError(.transport, "node answered HTTP \(status)")
        case .node(let code, let message, _): SolanaRPCError(.node(code: code), String(message.prefix(1024)))
        case .invalidResponse(let message): SolanaRPCError(.invalidResponse, message)
        }
    }
}
