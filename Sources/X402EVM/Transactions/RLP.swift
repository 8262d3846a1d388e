public import X402

/// A Recursive Length Prefix item: a byte string or a list of items.
public indirect enum RLPItem: Sendable, Hashable {
    case bytes([UInt8])
    case list([RLPItem])

    /// An unsigned integer as its minimal big-endian bytes (zero is the empty string).
    public static func uint(_ value: UInt256) -> RLPItem {
        .bytes(Array(value.bigEndianBytes.drop { $0 == 0 }))
    }

    /// An unsigned integer as its minimal big-endian bytes.
    public static func uint(_ value: UInt64) -> RLPItem { uint(UInt256(value)) }

    /// An address (20 bytes), or the empty string for `nil` (contract creation).
    public static func address(_ value: EthereumAddress?) -> RLPItem { .bytes(value?.bytes ?? []) }

    /// The RLP encoding.
    public var encoded: [UInt8] {
        var output: [UInt8] = []
        encode(into: &output)
        return output
    }

    func encode(into output: inout [UInt8]) {
        switch self {
        case let .bytes(bytes):
            if bytes.count == 1, bytes[0] < 0x80 {
                output.append(bytes[0])
            } else {
                Self.appendLength(bytes.count, offset: 0x80, to: &output)
                output.append(contentsOf: bytes)
            }
        case let .list(items):
            var payload: [UInt8] = []
            for item in items { item.encode(into: &payload) }
            Self.appendLength(payload.count, offset: 0xC0, to: &output)
            output.append(contentsOf: payload)
        }
    }

    private static func appendLength(_ length: Int, offset: UInt8, to output: inout [UInt8]) {
        if length < 56 {
            output.append(offset + UInt8(length))
        } else {
            let lengthBytes = Array(UInt256(UInt64(length)).bigEndianBytes.drop { $0 == 0 })
            output.append(offset + 55 + UInt8(lengthBytes.count))
            output.append(contentsOf: lengthBytes)
        }
    }

    /// Decodes exactly one canonical RLP item (no trailing bytes, minimal length prefixes).
    public init(decoding data: some Collection<UInt8>) throws(RLPError) {
        let bytes = Array(data)
        var index = 0
        self = try Self.decodeItem(bytes, &index, end: bytes.count, depth: 0)
        guard index == bytes.count else { throw .trailingBytes }
    }

    private static func decodeItem(_ data: [UInt8], _ index: inout Int, end: Int, depth: Int) throws(RLPError) -> RLPItem {
        guard depth < 256 else { throw .tooDeep }
        guard index < end else { throw .truncated }
        let prefix = data[index]
        index += 1
        switch prefix {
        case 0x00...0x7F:
            return .bytes([prefix])
        case 0x80...0xBF:
            let length = try readLength(data, &index, end: end, prefix: prefix, base: 0x80)
            let bytes = Array(data[index..<(index + length)])
            if length == 1, bytes[0] < 0x80 { throw .nonCanonical }
            index += length
            return .bytes(bytes)
        default:
            let length = try readLength(data, &index, end: end, prefix: prefix, base: 0xC0)
            let listEnd = index + length
            var items: [RLPItem] = []
            while index < listEnd {
                items.append(try decodeItem(data, &index, end: listEnd, depth: depth + 1))
            }
            return .list(items)
        }
    }

    private static func readLength(_ data: [UInt8], _ index: inout Int, end: Int, prefix: UInt8, base: UInt8) throws(RLPError) -> Int {
        let short = Int(prefix - base)
        let length: Int
        if short < 56 {
            length = short
        } else {
            let lengthOfLength = short - 55
            guard end - index >= lengthOfLength else { throw .truncated }
            guard data[index] != 0 else { throw .nonCanonical }
            guard lengthOfLength <= 4 else { throw .tooLarge }
            var value = 0
            for _ in 0..<lengthOfLength {
                value = value << 8 | Int(data[index])
                index += 1
            }
            guard value >= 56 else { throw .nonCanonical }
            length = value
        }
        guard end - index >= length else { throw .truncated }
        return length
    }

    /// The byte string, if this is `.bytes`.
    public var bytesValue: [UInt8]? { if case let .bytes(bytes) = self { bytes } else { nil } }
    /// The items, if this is `.list`.
    public var listValue: [RLPItem]? { if case let .list(items) = self { items } else { nil } }

    /// The byte string read as a canonical unsigned integer (no leading zeros, at most 32 bytes).
    public func uint256Value() throws(RLPError) -> UInt256 {
        guard case let .bytes(bytes) = self else { throw .unexpectedList }
        guard bytes.first != 0 else { throw .nonCanonical }
        guard let value = UInt256(bigEndian: bytes) else { throw .tooLarge }
        return value
    }

    /// The byte string read as a canonical unsigned integer below 2^64.
    public func uint64Value() throws(RLPError) -> UInt64 {
        guard let value = try uint256Value().asUInt64 else { throw .tooLarge }
        return value
    }
}

/// Why RLP data could not be decoded.
public enum RLPError: Error, Sendable, Hashable, CustomStringConvertible {
    case truncated
    case trailingBytes
    case nonCanonical
    case tooLarge
    case tooDeep
    case unexpectedList
    case unexpectedBytes

    public var description: String {
        switch self {
        case .truncated: "RLP data ends early"
        case .trailingBytes: "RLP data has trailing bytes after the item"
        case .nonCanonical: "RLP encoding is not canonical (non-minimal length or integer)"
        case .tooLarge: "RLP length or integer too large"
        case .tooDeep: "RLP nesting too deep"
        case .unexpectedList: "expected an RLP byte string, found a list"
        case .unexpectedBytes: "expected an RLP list, found a byte string"
        }
    }
}
