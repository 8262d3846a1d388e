/// Standard base64 (RFC 4648 §4: `A–Z a–z 0–9 + /`, `=` padding), as x402 headers use it.
public enum Base64 {
    private static let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    private static let decodeTable: [UInt8] = {
        var t = [UInt8](repeating: 0xFF, count: 256)
        for (i, c) in alphabet.enumerated() { t[Int(c)] = UInt8(i) }
        return t
    }()

    /// Encodes bytes with padding and no line breaks.
    public static func encode(_ bytes: some Collection<UInt8>) -> String {
        let input = Array(bytes)
        var out = [UInt8]()
        out.reserveCapacity((input.count + 2) / 3 * 4)
        var i = 0
        while i + 3 <= input.count {
            let n = UInt32(input[i]) << 16 | UInt32(input[i + 1]) << 8 | UInt32(input[i + 2])
            out.append(alphabet[Int(n >> 18 & 63)])
            out.append(alphabet[Int(n >> 12 & 63)])
            out.append(alphabet[Int(n >> 6 & 63)])
            out.append(alphabet[Int(n & 63)])
            i += 3
        }
        let rest = input.count - i
        if rest == 1 {
            let n = UInt32(input[i]) << 16
            out.append(alphabet[Int(n >> 18 & 63)])
            out.append(alphabet[Int(n >> 12 & 63)])
            out.append(UInt8(ascii: "="))
            out.append(UInt8(ascii: "="))
        } else if rest == 2 {
            let n = UInt32(input[i]) << 16 | UInt32(input[i + 1]) << 8
            out.append(alphabet[Int(n >> 18 & 63)])
            out.append(alphabet[Int(n >> 12 & 63)])
            out.append(alphabet[Int(n >> 6 & 63)])
            out.append(UInt8(ascii: "="))
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Why base64 text was rejected.
    public enum DecodingError: Error, Sendable, Equatable, CustomStringConvertible {
        /// A character outside the standard alphabet (base64url's `-` and `_` included) at an offset.
        case invalidCharacter(offset: Int)
        /// Padding in the wrong place, too much padding, or a length no encoder produces.
        case invalidPadding
        case invalidLength

        public var description: String {
            switch self {
            case .invalidCharacter(let o): "invalid base64 character at offset \(o)"
            case .invalidPadding: "invalid base64 padding"
            case .invalidLength: "invalid base64 length"
            }
        }
    }

    /// Decodes standard base64. Missing `=` padding is accepted; anything else outside the
    /// standard alphabet is rejected. Surrounding whitespace must be trimmed by the caller.
    public static func decode(_ text: some StringProtocol) throws(DecodingError) -> [UInt8] {
        let utf8 = Array(text.utf8)
        var end = utf8.count
        var padding = 0
        while end > 0 && utf8[end - 1] == UInt8(ascii: "=") {
            end -= 1
            padding += 1
        }
        guard padding <= 2 else { throw .invalidPadding }
        if padding > 0 && (end + padding) % 4 != 0 { throw .invalidPadding }
        guard end % 4 != 1 else { throw .invalidLength }
        if padding > 0 && end % 4 == 0 { throw .invalidPadding }
        var out = [UInt8]()
        out.reserveCapacity(end * 3 / 4)
        var acc: UInt32 = 0
        var bits = 0
        for i in 0..<end {
            let v = decodeTable[Int(utf8[i])]
            if v == 0xFF { throw .invalidCharacter(offset: i) }
            acc = acc << 6 | UInt32(v)
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: acc >> UInt32(bits)))
            }
        }
        return out
    }
}
