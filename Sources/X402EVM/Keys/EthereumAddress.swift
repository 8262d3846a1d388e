/// A 20-byte Ethereum account address.
///
/// Parsing accepts `0x` + 40 hex digits in all-lower, all-upper or EIP-55 mixed case; mixed case
/// must carry a valid checksum. `description` and `Codable` use the EIP-55 checksummed form.
public struct EthereumAddress: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    @usableFromInline
    internal var storage: (UInt64, UInt64, UInt32)

    /// The zero address.
    public static let zero = EthereumAddress(storage: (0, 0, 0))

    @inlinable
    internal init(storage: (UInt64, UInt64, UInt32)) {
        self.storage = storage
    }

    /// Copies 20 bytes from raw memory.
    @inlinable
    public init(copying raw: UnsafeRawBufferPointer) {
        precondition(raw.count >= 20)
        storage = (0, 0, 0)
        withUnsafeMutableBytes(of: &storage) { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[0..<20])) }
    }

    /// Creates an address from exactly 20 bytes, or `nil` for any other length.
    public init?(_ bytes: some Collection<UInt8>) {
        guard bytes.count == 20 else { return nil }
        storage = (0, 0, 0)
        withUnsafeMutableBytes(of: &storage) { _ = $0.initializeMemory(as: UInt8.self, from: bytes) }
    }

    /// Parses `0x` + 40 hex digits; mixed-case input must match its EIP-55 checksum.
    public init(_ text: some StringProtocol) throws(AddressError) {
        try self.init(text, validatingChecksum: true)
    }

    /// Parses `0x` + 40 hex digits; with `validatingChecksum: false`, any case is accepted.
    public init(_ text: some StringProtocol, validatingChecksum: Bool) throws(AddressError) {
        var text = String(text)
        let parsed: Result<EthereumAddress, AddressError> = text.withUTF8 { utf8 in
            EthereumAddress.parse(UnsafeRawBufferPointer(utf8), validatingChecksum: validatingChecksum)
        }
        self = try parsed.get()
    }

    static func parse(_ utf8: UnsafeRawBufferPointer, validatingChecksum: Bool) -> Result<EthereumAddress, AddressError> {
        guard utf8.count == 42, utf8[0] == 0x30, utf8[1] == 0x78 || utf8[1] == 0x58 else {
            return .failure(.invalidFormat)
        }
        var address = EthereumAddress.zero
        var sawLower = false
        var sawUpper = false
        let ok = withUnsafeMutableBytes(of: &address.storage) { out -> Bool in
            for index in 0..<20 {
                let high = utf8[2 + 2 * index]
                let low = utf8[3 + 2 * index]
                guard let h = Hex.nibble(high), let l = Hex.nibble(low) else { return false }
                if high >= 0x61 { sawLower = true } else if high >= 0x41 { sawUpper = true }
                if low >= 0x61 { sawLower = true } else if low >= 0x41 { sawUpper = true }
                out[index] = h << 4 | l
            }
            return true
        }
        guard ok else { return .failure(.invalidFormat) }
        if validatingChecksum, sawLower, sawUpper {
            let expected = address.checksummedUTF8()
            for index in 2..<42 where expected[index] != utf8[index] {
                return .failure(.invalidChecksum)
            }
        }
        return .success(address)
    }

    /// Calls `body` with the 20 bytes.
    @inlinable
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try Swift.withUnsafeBytes(of: storage) { try body(UnsafeRawBufferPointer(rebasing: $0[0..<20])) }
    }

    /// The 20 bytes.
    public var bytes: [UInt8] { withUnsafeBytes { Array($0) } }

    /// The address left-padded to 32 bytes (its ABI / EIP-712 encoding).
    @inlinable
    public var word: Bytes32 {
        var word = Bytes32.zero
        Swift.withUnsafeMutableBytes(of: &word.storage) { out in
            withUnsafeBytes { out.baseAddress!.advanced(by: 12).copyMemory(from: $0.baseAddress!, byteCount: 20) }
        }
        return word
    }

    /// EIP-55 checksummed text, e.g. `0x857b06519E91e3A54538791bDbb0E22373e36b66`.
    public var checksummed: String { String(decoding: checksummedUTF8(), as: UTF8.self) }

    /// Lower-case text.
    public var lowercased: String { withUnsafeBytes { Hex.encode($0) } }

    public var description: String { checksummed }

    func checksummedUTF8() -> [UInt8] {
        var text = [UInt8](repeating: 0, count: 42)
        text[0] = 0x30
        text[1] = 0x78
        withUnsafeBytes { raw in
            for index in 0..<20 {
                text[2 + 2 * index] = Hex.lowerDigits[Int(raw[index] >> 4)]
                text[3 + 2 * index] = Hex.lowerDigits[Int(raw[index] & 0x0F)]
            }
        }
        let hash = text.withUnsafeBytes { Keccak256.hash(UnsafeRawBufferPointer(rebasing: $0[2..<42])) }
        hash.withUnsafeBytes { digest in
            for index in 0..<40 where text[2 + index] >= 0x61 {
                let nibble = index % 2 == 0 ? digest[index / 2] >> 4 : digest[index / 2] & 0x0F
                if nibble >= 8 { text[2 + index] -= 0x20 }
            }
        }
        return text
    }

    public static func < (lhs: EthereumAddress, rhs: EthereumAddress) -> Bool {
        lhs.withUnsafeBytes { l in rhs.withUnsafeBytes { r in l.lexicographicallyPrecedes(r) } }
    }

    public static func == (lhs: EthereumAddress, rhs: EthereumAddress) -> Bool {
        lhs.storage.0 == rhs.storage.0 && lhs.storage.1 == rhs.storage.1 && lhs.storage.2 == rhs.storage.2
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(storage.0)
        hasher.combine(storage.1)
        hasher.combine(storage.2)
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        do {
            try self.init(text)
        } catch {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: error.description)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(checksummed)
    }
}

/// Why address text was rejected.
public enum AddressError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Not `0x` followed by exactly 40 hex digits.
    case invalidFormat
    /// Mixed-case text whose capitalisation does not match its EIP-55 checksum.
    case invalidChecksum

    public var description: String {
        switch self {
        case .invalidFormat: "address must be 0x followed by 40 hex digits"
        case .invalidChecksum: "address has mixed case but an invalid EIP-55 checksum"
        }
    }
}
