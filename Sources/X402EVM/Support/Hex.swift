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
    public static func decode(_ text: String) throws(HexError) -> [UInt8] {
        var text = text
        return try text.withUTF8 { utf8 in Result { () throws(HexError) in try decode(utf8: utf8) } }.get()
    }

    /// Decodes hexadecimal text with an optional `0x`/`0X` prefix (either case, even length).
    public static func decode(_ text: some StringProtocol) throws(HexError) -> [UInt8] {
        try decode(String(text))
    }

    /// Decodes hexadecimal text, requiring exactly `count` bytes.
    public static func decode(_ text: some StringProtocol, count: Int) throws(HexError) -> [UInt8] {
        let bytes = try decode(String(text))
        guard bytes.count == count else { throw .wrongLength(expected: count, actual: bytes.count) }
        return bytes
    }

    /// The hex digits of `utf8` with any `0x`/`0X` prefix removed.
    @inline(__always)
    static func digits(_ utf8: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8> {
        if utf8.count >= 2, utf8[0] == 0x30, utf8[1] == 0x78 || utf8[1] == 0x58 {
            return UnsafeBufferPointer(rebasing: utf8[2...])
        }
        return utf8
    }

    /// Decodes UTF-8 hex digits into `output` (which must hold exactly half as many bytes as there are digits).
    @inline(__always)
    static func decode(digits: UnsafeBufferPointer<UInt8>, into output: UnsafeMutableRawBufferPointer) throws(HexError) {
        var index = 0
        while index < output.count {
            guard let high = nibble(digits[2 * index]), let low = nibble(digits[2 * index + 1]) else {
                throw .invalidCharacter
            }
            output[index] = high << 4 | low
            index += 1
        }
    }

    static func decode(utf8: UnsafeBufferPointer<UInt8>) throws(HexError) -> [UInt8] {
        let digits = digits(utf8)
        guard digits.count % 2 == 0 else { throw .oddLength }
        let count = digits.count / 2
        var failure: HexError?
        let bytes = [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            do throws(HexError) {
                try decode(digits: digits, into: UnsafeMutableRawBufferPointer(buffer))
                initialized = count
            } catch {
                failure = error
                initialized = 0
            }
        }
        if let failure { throw failure }
        return bytes
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

extension StringProtocol {
    /// Whether the text starts with `0x` or `0X` (byte comparison, no Unicode processing).
    /// `package` so the JSON-RPC transport (X402EVMRPC) shares it without making it API.
    package var hasHexPrefix: Bool {
        var iterator = utf8.makeIterator()
        return iterator.next() == 0x30 && { $0 == 0x78 || $0 == 0x58 }(iterator.next())
    }
}
