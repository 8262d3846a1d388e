/// Bitcoin-alphabet base58, as Solana writes public keys, signatures and blockhashes.
///
/// Inputs are bounded (``maximumEncodedLength`` characters, ``maximumDecodedLength`` bytes): the
/// conversion is quadratic in the length, so the bound keeps the work per call small and fixed.
public enum Base58 {
    /// The longest base58 text decoded (enough for a 64-byte keypair or signature: at most 88).
    public static let maximumEncodedLength = 128
    /// The longest byte string encoded.
    public static let maximumDecodedLength = 96

    static let alphabet: [UInt8] = Array("123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz".utf8)
    static let reverse: [Int8] = {
        var table = [Int8](repeating: -1, count: 256)
        for (i, c) in alphabet.enumerated() { table[Int(c)] = Int8(i) }
        return table
    }()

    /// Why a base58 text could not be decoded.
    public enum DecodingError: Error, Sendable, Hashable, CustomStringConvertible {
        /// Longer than ``Base58/maximumEncodedLength`` characters.
        case tooLong(Int)
        /// A character outside the alphabet (its UTF-8 offset).
        case invalidCharacter(offset: Int)
        /// Decoded to the wrong number of bytes.
        case wrongLength(expected: Int, actual: Int)
        /// Empty text where a value was expected.
        case empty

        public var description: String {
            switch self {
            case .tooLong(let n): "base58 text of \(n) characters is longer than \(Base58.maximumEncodedLength)"
            case .invalidCharacter(let offset): "invalid base58 character at offset \(offset)"
            case .wrongLength(let expected, let actual): "base58 value has \(actual) bytes, expected \(expected)"
            case .empty: "empty base58 text"
            }
        }
    }

    /// Encodes `bytes` (at most ``maximumDecodedLength``; longer input is encoded too, in
    /// quadratic time, so callers pass bounded values only).
    public static func encode(_ bytes: some Collection<UInt8>) -> String {
        let input = Array(bytes)
        var zeros = 0
        while zeros < input.count, input[zeros] == 0 { zeros += 1 }
        // log(256) / log(58) ≈ 1.366
        let size = (input.count - zeros) * 138 / 100 + 1
        var digits = [UInt8](repeating: 0, count: size)
        var length = 0
        for byte in input[zeros...] {
            var carry = Int(byte)
            var i = 0
            var k = size - 1
            while carry != 0 || i < length, k >= 0 {
                carry += 256 * Int(digits[k])
                digits[k] = UInt8(carry % 58)
                carry /= 58
                i += 1
                k -= 1
            }
            length = i
        }
        var start = size - length
        while start < size, digits[start] == 0 { start += 1 }
        var out = [UInt8](repeating: alphabet[0], count: zeros)
        out.reserveCapacity(zeros + size - start)
        for d in digits[start...] { out.append(alphabet[Int(d)]) }
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes base58 `text` (at most ``maximumEncodedLength`` characters).
    public static func decode(_ text: String) throws(DecodingError) -> [UInt8] {
        let input = Array(text.utf8.prefix(maximumEncodedLength + 1))
        guard input.count <= maximumEncodedLength else { throw .tooLong(text.utf8.count) }
        var zeros = 0
        while zeros < input.count, input[zeros] == alphabet[0] { zeros += 1 }
        // log(58) / log(256) ≈ 0.733
        let size = (input.count - zeros) * 733 / 1000 + 1
        var bytes = [UInt8](repeating: 0, count: size)
        var length = 0
        for (offset, c) in input.enumerated().dropFirst(zeros) {
            let value = reverse[Int(c)]
            guard value >= 0 else { throw .invalidCharacter(offset: offset) }
            var carry = Int(value)
            var i = 0
            var k = size - 1
            while carry != 0 || i < length, k >= 0 {
                carry += 58 * Int(bytes[k])
                bytes[k] = UInt8(carry & 0xFF)
                carry >>= 8
                i += 1
                k -= 1
            }
            length = i
        }
        var start = size - length
        while start < size, bytes[start] == 0 { start += 1 }
        return [UInt8](repeating: 0, count: zeros) + bytes[start...]
    }

    /// Whether `text` is non-empty and every character is in the base58 alphabet (no decoding:
    /// for texts such as a CAIP-2 Solana reference, a genesis hash cut to 32 characters).
    public static func isAlphabetText(_ text: some StringProtocol) -> Bool {
        !text.isEmpty && text.utf8.allSatisfy { reverse[Int($0)] >= 0 }
    }

    /// Decodes base58 `text` that must hold exactly `length` bytes.
    public static func decode(_ text: String, length: Int) throws(DecodingError) -> [UInt8] {
        guard !text.isEmpty else { throw .empty }
        let bytes = try decode(text)
        guard bytes.count == length else { throw .wrongLength(expected: length, actual: bytes.count) }
        return bytes
    }
}
