public import X402

/// Exactly 32 bytes: a hash, an EIP-712 digest, a `bytes32` value, a signature's `r` or `s`.
///
/// Stored inline (no heap allocation). `description` and `Codable` use `0x` + 64 lower-case hex digits.
public struct Bytes32: Sendable, Hashable, Codable, CustomStringConvertible {
    @usableFromInline
    internal var storage: (UInt64, UInt64, UInt64, UInt64)

    /// All zero bytes.
    public static let zero = Bytes32(storage: (0, 0, 0, 0))

    @inlinable
    internal init(storage: (UInt64, UInt64, UInt64, UInt64)) {
        self.storage = storage
    }

    /// Creates a value from exactly 32 bytes, or `nil` for any other length.
    @inlinable
    public init?(_ bytes: some Collection<UInt8>) {
        guard bytes.count == 32 else { return nil }
        self.storage = (0, 0, 0, 0)
        withUnsafeMutableBytes(of: &storage) { raw in
            _ = raw.initializeMemory(as: UInt8.self, from: bytes)
        }
    }

    /// Copies 32 bytes from raw memory.
    @inlinable
    public init(copying raw: UnsafeRawBufferPointer) {
        precondition(raw.count >= 32)
        self.storage = (0, 0, 0, 0)
        withUnsafeMutableBytes(of: &storage) { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[0..<32])) }
    }

    /// Parses `0x` + 64 hex digits (the prefix is optional).
    public init(hex text: String) throws(HexError) {
        var text = text
        var storage: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        let result: Result<Void, HexError> = text.withUTF8 { utf8 in
            let digits = Hex.digits(utf8)
            guard digits.count % 2 == 0 else { return .failure(.oddLength) }
            guard digits.count == 64 else { return .failure(.wrongLength(expected: 32, actual: digits.count / 2)) }
            return Swift.withUnsafeMutableBytes(of: &storage) { raw in
                Result { () throws(HexError) in try Hex.decode(digits: digits, into: raw) }
            }
        }
        try result.get()
        self.storage = storage
    }

    /// Parses `0x` + 64 hex digits (the prefix is optional).
    public init(hex text: some StringProtocol) throws(HexError) {
        try self.init(hex: String(text))
    }

    /// The big-endian 32-byte encoding of an unsigned integer.
    @inlinable
    public init(_ value: UInt256) {
        self.storage = (0, 0, 0, 0)
        withUnsafeMutableBytes(of: &storage) { value.writeBigEndian(to: $0) }
    }

    /// The bytes, as an array.
    @inlinable
    public var bytes: [UInt8] { withUnsafeBytes { Array($0) } }

    /// The bytes read as a big-endian unsigned integer.
    @inlinable
    public var uint256: UInt256 { withUnsafeBytes { UInt256(bigEndian: $0) ?? .zero } }  // 32 bytes always convert

    /// Calls `body` with the 32 bytes.
    @inlinable
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try Swift.withUnsafeBytes(of: storage, body)
    }

    /// Whether every byte is zero.
    @inlinable
    public var isZero: Bool { (storage.0 | storage.1 | storage.2 | storage.3) == 0 }

    /// `0x` + 64 lower-case hex digits.
    public var hexString: String { withUnsafeBytes { Hex.encode($0) } }

    public var description: String { hexString }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        do {
            try self.init(hex: text)
        } catch {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "Expected 0x + 64 hex digits: \(error)")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(hexString)
    }

    public static func == (lhs: Bytes32, rhs: Bytes32) -> Bool {
        lhs.storage.0 == rhs.storage.0 && lhs.storage.1 == rhs.storage.1
            && lhs.storage.2 == rhs.storage.2 && lhs.storage.3 == rhs.storage.3
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(storage.0)
        hasher.combine(storage.1)
        hasher.combine(storage.2)
        hasher.combine(storage.3)
    }
}

extension Bytes32 {
    /// 32 bytes from the system's cryptographically secure random number generator (e.g. an EIP-3009 nonce).
    public static func random() -> Bytes32 {
        var generator = SystemRandomNumberGenerator()
        return Bytes32(storage: (generator.next(), generator.next(), generator.next(), generator.next()))
    }
}
