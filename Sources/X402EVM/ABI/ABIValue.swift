public import X402

/// A value to ABI-encode, or one decoded from ABI data.
public indirect enum ABIValue: Sendable, Hashable, CustomStringConvertible {
    case uint(UInt256)
    case int(Int256)
    case address(EthereumAddress)
    case bool(Bool)
    /// `bytes<N>`: exactly N bytes.
    case fixedBytes([UInt8])
    case bytes([UInt8])
    case string(String)
    /// The elements of `T[]` or `T[k]`.
    case array([ABIValue])
    case tuple([ABIValue])

    /// A `bytes32` value.
    public static func bytes32(_ value: Bytes32) -> ABIValue { .fixedBytes(value.bytes) }

    public var description: String {
        switch self {
        case let .uint(value): value.decimalString
        case let .int(value): value.description
        case let .address(value): value.checksummed
        case let .bool(value): value ? "true" : "false"
        case let .fixedBytes(bytes), let .bytes(bytes): Hex.encode(bytes)
        case let .string(text): "\"\(text)\""
        case let .array(items): "[" + items.map(\.description).joined(separator: ",") + "]"
        case let .tuple(items): "(" + items.map(\.description).joined(separator: ",") + ")"
        }
    }

    /// The unsigned integer, if this is `.uint`.
    public var uintValue: UInt256? { if case let .uint(value) = self { value } else { nil } }
    /// The address, if this is `.address`.
    public var addressValue: EthereumAddress? { if case let .address(value) = self { value } else { nil } }
    /// The bytes, if this is `.bytes` or `.fixedBytes`.
    public var bytesValue: [UInt8]? {
        switch self {
        case let .bytes(bytes), let .fixedBytes(bytes): bytes
        default: nil
        }
    }
    /// The string, if this is `.string`.
    public var stringValue: String? { if case let .string(text) = self { text } else { nil } }
    /// The boolean, if this is `.bool`.
    public var boolValue: Bool? { if case let .bool(value) = self { value } else { nil } }
    /// The elements, if this is `.array` or `.tuple`.
    public var elements: [ABIValue]? {
        switch self {
        case let .array(items), let .tuple(items): items
        default: nil
        }
    }
}

/// Why ABI encoding, decoding or type parsing failed.
public enum ABIError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The type text is not a valid canonical ABI type.
    case invalidType(String)
    /// A value does not match its type (kind, width or length).
    case typeMismatch(type: String, value: String)
    /// The data ends before the value it should contain.
    case dataTooShort(type: String, offset: Int)
    /// An offset or length points outside the data or is implausibly large.
    case invalidOffset(type: String, offset: Int)
    /// Padding or unused high-order bits are not zero (or not a valid sign extension), or a bool is not 0/1.
    case invalidPadding(type: String, offset: Int)
    /// A `string` value is not valid UTF-8.
    case invalidUTF8(offset: Int)
    /// The number of values differs from the number of types.
    case countMismatch(expected: Int, actual: Int)
    /// A function or error signature is malformed.
    case invalidSignature(String)

    public var description: String {
        switch self {
        case let .invalidType(text): "invalid ABI type \"\(text)\""
        case let .typeMismatch(type, value): "value \(value.prefix(80)) does not fit ABI type \(type)"
        case let .dataTooShort(type, offset): "ABI data too short for \(type) at byte \(offset)"
        case let .invalidOffset(type, offset): "invalid ABI offset or length for \(type) at byte \(offset)"
        case let .invalidPadding(type, offset): "non-canonical ABI encoding of \(type) at byte \(offset) (padding/range)"
        case let .invalidUTF8(offset): "ABI string at byte \(offset) is not valid UTF-8"
        case let .countMismatch(expected, actual): "expected \(expected) ABI values, got \(actual)"
        case let .invalidSignature(text): "invalid function or error signature \"\(text)\""
        }
    }
}
