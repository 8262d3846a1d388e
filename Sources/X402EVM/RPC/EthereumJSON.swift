public import X402

/// Encoding and decoding of Ethereum JSON-RPC values (quantities, data, addresses, hashes, receipts, …).
///
/// Decoding is strict about shape: quantities are `0x`-prefixed hex strings with at least one digit
/// (leading zeros are accepted, `0x` alone is not), data is `0x`-prefixed hex with an even number of
/// digits. Every failure is an ``EthereumClientError/invalidResponse(_:)`` naming the field.
public enum EthereumJSON {
    // MARK: Encoding

    /// A quantity parameter: `0x` followed by hex digits without leading zeros (`0x0` for zero).
    public static func quantity(_ value: UInt64) -> JSONValue {
        .string("0x" + String(value, radix: 16))
    }

    /// A quantity parameter: `0x` followed by hex digits without leading zeros (`0x0` for zero).
    public static func quantity(_ value: UInt256) -> JSONValue {
        .string(value.hexString)
    }

    /// A data parameter: `0x` followed by two lower-case hex digits per byte.
    public static func data(_ bytes: some Sequence<UInt8>) -> JSONValue {
        .string(Hex.encode(bytes))
    }

    /// An address parameter (lower-case hex).
    public static func address(_ address: EthereumAddress) -> JSONValue {
        .string(address.lowercased)
    }

    /// A 32-byte hash parameter.
    public static func bytes32(_ value: Bytes32) -> JSONValue {
        .string(value.hexString)
    }

    /// A block parameter: `latest`, `pending`, `earliest` or a number.
    public static func block(_ tag: BlockTag) -> JSONValue {
        .string(tag.description)
    }

    /// The transaction object of `eth_call` / `eth_estimateGas`. Calldata goes in `data`, which every node accepts.
    public static func callObject(_ request: CallRequest) -> JSONValue {
        var object = JSONObject()
        if let from = request.from { object["from"] = address(from) }
        object["to"] = address(request.to)
        if let gas = request.gas { object["gas"] = quantity(gas) }
        if let value = request.value { object["value"] = quantity(value) }
        object["data"] = data(request.data)
        return .object(object)
    }

    // MARK: Decoding

    /// A quantity that fits in 64 bits.
    public static func uint64(_ value: JSONValue, field: String = "result") throws(EthereumClientError) -> UInt64 {
        let digits = try quantityDigits(value, field: field)
        guard digits.count <= 16, let result = UInt64(digits, radix: 16) else {
            throw .invalidResponse("\(field): quantity does not fit in 64 bits")
        }
        return result
    }

    /// A quantity of up to 256 bits.
    public static func uint256(_ value: JSONValue, field: String = "result") throws(EthereumClientError) -> UInt256 {
        let digits = try quantityDigits(value, field: field)
        guard digits.count <= 64, let result = UInt256(hex: digits) else {
            throw .invalidResponse("\(field): quantity does not fit in 256 bits")
        }
        return result
    }

    /// The significant hex digits of a quantity (`"0"` for zero), leading zeros removed.
    private static func quantityDigits(_ value: JSONValue, field: String) throws(EthereumClientError) -> Substring {
        guard let text = value.stringValue else {
            throw .invalidResponse("\(field): expected a hex quantity string, got \(value.typeName)")
        }
        guard text.hasHexPrefix else { throw .invalidResponse("\(field): quantity lacks the 0x prefix") }
        let digits = text.dropFirst(2)
        guard !digits.isEmpty else { throw .invalidResponse("\(field): quantity has no digits") }
        guard digits.utf8.allSatisfy({ Hex.nibble($0) != nil }) else {
            throw .invalidResponse("\(field): quantity is not hexadecimal")
        }
        let significant = digits.drop { $0 == "0" }
        return significant.isEmpty ? "0" : significant
    }

    /// Arbitrary-length data.
    public static func bytes(_ value: JSONValue, field: String = "result") throws(EthereumClientError) -> [UInt8] {
        guard let text = value.stringValue else {
            throw .invalidResponse("\(field): expected a hex data string, got \(value.typeName)")
        }
        guard text.hasHexPrefix else { throw .invalidResponse("\(field): data lacks the 0x prefix") }
        do {
            return try Hex.decode(text)
        } catch {
            throw .invalidResponse("\(field): \(error)")
        }
    }

    /// A 20-byte address.
    public static func address(_ value: JSONValue, field: String = "result") throws(EthereumClientError) -> EthereumAddress {
        let raw = try bytes(value, field: field)
        guard let address = EthereumAddress(raw) else {
            throw .invalidResponse("\(field): expected 20 bytes for an address, got \(raw.count)")
        }
        return address
    }

    /// A 20-byte address, or `nil` for JSON `null` or a missing member.
    public static func optionalAddress(_ value: JSONValue?, field: String) throws(EthereumClientError) -> EthereumAddress? {
        guard let value, !value.isNull else { return nil }
        return try address(value, field: field)
    }

    /// A 32-byte word (hash, topic).
    public static func bytes32(_ value: JSONValue, field: String = "result") throws(EthereumClientError) -> Bytes32 {
        let raw = try bytes(value, field: field)
        guard let word = Bytes32(raw) else {
            throw .invalidResponse("\(field): expected 32 bytes, got \(raw.count)")
        }
        return word
    }

    /// An event log object (`address`, `topics`, `data`).
    public static func eventLog(_ value: JSONValue, field: String = "log") throws(EthereumClientError) -> EventLog {
        let object = try object(value, field: field)
        let topicValues = try array(try member("topics", of: object, field: field), field: field + ".topics")
        var topics: [Bytes32] = []
        topics.reserveCapacity(topicValues.count)
        for (index, topic) in topicValues.enumerated() {
            topics.append(try bytes32(topic, field: "\(field).topics[\(index)]"))
        }
        return EventLog(
            address: try address(try member("address", of: object, field: field), field: field + ".address"),
            topics: topics,
            data: try bytes(try member("data", of: object, field: field), field: field + ".data")
        )
    }

    /// A transaction receipt; `nil` for JSON `null` (not mined yet).
    public static func receipt(_ value: JSONValue, field: String = "result") throws(EthereumClientError) -> TransactionReceipt? {
        if value.isNull { return nil }
        let object = try object(value, field: field)
        let succeeded: Bool
        if let status = object["status"], !status.isNull {
            switch try uint64(status, field: field + ".status") {
            case 1: succeeded = true
            case 0: succeeded = false
            case let other: throw .invalidResponse("\(field).status: expected 0x0 or 0x1, got \(other)")
            }
        } else {
            throw .invalidResponse("\(field): receipt has no status (pre-Byzantium receipts are not supported)")
        }
        let logValues = try array(try member("logs", of: object, field: field), field: field + ".logs")
        var logs: [EventLog] = []
        logs.reserveCapacity(logValues.count)
        for (index, log) in logValues.enumerated() {
            logs.append(try eventLog(log, field: "\(field).logs[\(index)]"))
        }
        var receipt = TransactionReceipt(
            transactionHash: try bytes32(try member("transactionHash", of: object, field: field), field: field + ".transactionHash"),
            succeeded: succeeded,
            blockNumber: try uint64(try member("blockNumber", of: object, field: field), field: field + ".blockNumber"),
            from: try optionalAddress(object["from"], field: field + ".from"),
            to: try optionalAddress(object["to"], field: field + ".to"),
            gasUsed: try uint64(try member("gasUsed", of: object, field: field), field: field + ".gasUsed"),
            effectiveGasPrice: try optional(object["effectiveGasPrice"]) { v throws(EthereumClientError) in
                try uint256(v, field: field + ".effectiveGasPrice")
            },
            logs: logs
        )
        receipt.blockHash = try optional(object["blockHash"]) { v throws(EthereumClientError) in
            try bytes32(v, field: field + ".blockHash")
        }
        receipt.contractAddress = try optionalAddress(object["contractAddress"], field: field + ".contractAddress")
        return receipt
    }

    /// An `eth_feeHistory` result. A missing `reward` (no percentiles requested) decodes as `[]`.
    public static func feeHistory(_ value: JSONValue, field: String = "result") throws(EthereumClientError) -> FeeHistory {
        let object = try object(value, field: field)
        let baseFees = try array(try member("baseFeePerGas", of: object, field: field), field: field + ".baseFeePerGas")
        let ratios = try array(try member("gasUsedRatio", of: object, field: field), field: field + ".gasUsedRatio")
        var history = FeeHistory(
            oldestBlock: try uint64(try member("oldestBlock", of: object, field: field), field: field + ".oldestBlock"),
            baseFeePerGas: [],
            gasUsedRatio: [],
            reward: []
        )
        for (index, fee) in baseFees.enumerated() {
            history.baseFeePerGas.append(try uint256(fee, field: "\(field).baseFeePerGas[\(index)]"))
        }
        for (index, ratio) in ratios.enumerated() {
            guard let number = ratio.numberValue, number.doubleValue.isFinite else {
                throw .invalidResponse("\(field).gasUsedRatio[\(index)]: expected a number, got \(ratio.typeName)")
            }
            history.gasUsedRatio.append(number.doubleValue)
        }
        if let rewards = object["reward"], !rewards.isNull {
            for (block, row) in try array(rewards, field: field + ".reward").enumerated() {
                var fees: [UInt256] = []
                for (index, fee) in try array(row, field: "\(field).reward[\(block)]").enumerated() {
                    fees.append(try uint256(fee, field: "\(field).reward[\(block)][\(index)]"))
                }
                history.reward.append(fees)
            }
        }
        return history
    }

    // MARK: Shape helpers

    static func object(_ value: JSONValue, field: String) throws(EthereumClientError) -> JSONObject {
        guard let object = value.objectValue else {
            throw .invalidResponse("\(field): expected an object, got \(value.typeName)")
        }
        return object
    }

    static func array(_ value: JSONValue, field: String) throws(EthereumClientError) -> [JSONValue] {
        guard let array = value.arrayValue else {
            throw .invalidResponse("\(field): expected an array, got \(value.typeName)")
        }
        return array
    }

    static func member(_ key: String, of object: JSONObject, field: String) throws(EthereumClientError) -> JSONValue {
        guard let value = object[key] else { throw .invalidResponse("\(field): missing \(key)") }
        return value
    }

    static func optional<T>(
        _ value: JSONValue?, _ decode: (JSONValue) throws(EthereumClientError) -> T
    ) throws(EthereumClientError) -> T? {
        guard let value, !value.isNull else { return nil }
        return try decode(value)
    }
}
