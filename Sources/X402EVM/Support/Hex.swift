/// Hexadecimal encoding and decoding of byte strings.
public enum Hex {
    @usableFromInline
    static let lowerDigits: [UInt8] = Array("0123456789abcdef".utf8)

    /// Lower-case hexadecimal with a `0x` prefix.
    public static func encode(_ bytes: some Sequence<UInt8>, prefix: Bool = true) -> String {
        var utf8: [UInt8] = prefix ? [0x30, 0x78] : []
        utf8.reserveCapacity(utf8.count + bytes.underestimatedCount * 2)
        for byte in bytes {
            utf8.append(lowerDigits[Int(byte >> 4)])
            utf8.append(lowerDigits[Int(byte & 0x0F)])
        }
        return String(decoding: utf8, as: UTF8.self)
    }

    /// Decodes hexadecimal text with an optional `0x`/`0X` prefix (either case, even length).
    public static func decode(_ text: some StringProtocol) throws(HexError) -> [UInt8] {
        var result: [UInt8] = []
        var utf8 = Substring(text).utf8[...]
        try decode(&utf8, into: &result)
        return result
    }

    /// Decodes hexadecimal text, requiring exactly `count` bytes.
    public static func decode(_ text: some StringProtocol, count: Int) throws(HexError) -> [UInt8] {
        let bytes = try decode(text)
        guard bytes.count == count else { throw .wrongLength(expected: count, actual: bytes.count) }
        return bytes
    }

    static func decode(_ utf8: inout Substring.UTF8View.SubSequence, into result: inout [UInt8]) throws(HexError) {
        if utf8.count >= 2, utf8.first == 0x30 {
            let second = utf8[utf8.index(after: utf8.startIndex)]
            if second == 0x78 || second == 0x58 { utf8 = utf8.dropFirst(2) }
        }
        guard utf8.count % 2 == 0 else { throw .oddLength }
        result.reserveCapacity(utf8.count / 2)
        var high: UInt8 = 0
        var isHigh = true
        for char in utf8 {
            guard let nibble = nibble(char) else { throw .invalidCharacter }
            if isHigh { high = nibble } else { result.append(high << 4 | nibble) }
            isHigh.toggle()
        }
    }

    @inlinable
    static func nibble(_ char: UInt8) -> UInt8? {
        switch char {
        case 0x30...0x39: return char &- 0x30
        case 0x61...0x66: return char &- 0x61 &+ 10
        case 0x41...0x46: return char &- 0x41 &+ 10
        default: return nil
        }
    }
}

/// Why hexadecimal text could not be decoded.
public enum HexError: Error, Sendable, Hashable, CustomStringConvertible {
    case oddLength
    case invalidCharacter
    case wrongLength(expected: Int, actual: Int)

    public var description: String {
        switch self {
        case .oddLength: "hex string has an odd number of digits"
        case .invalidCharacter: "hex string contains a character outside 0-9, a-f, A-F"
        case let .wrongLength(expected, actual): "expected \(expected) bytes of hex, got \(actual)"
        }
    }
}
