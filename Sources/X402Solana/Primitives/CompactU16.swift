/// Solana's compact-u16 ("shortvec") length prefix: 7 bits per byte, little-endian, high bit =
/// continuation, at most 3 bytes, canonical (shortest) encodings only.
public enum CompactU16 {
    /// Why a compact-u16 could not be read.
    public enum DecodingError: Error, Sendable, Hashable {
        /// The input ended inside the value.
        case truncated
        /// More than 3 bytes, or a value above 65 535.
        case overflow
        /// A longer encoding than needed (a trailing zero byte after a continuation).
        case nonCanonical
    }

    /// The encoding of `value`.
    public static func encode(_ value: UInt16) -> [UInt8] {
        var out: [UInt8] = []
        var rest = UInt32(value)
        while true {
            let low = UInt8(rest & 0x7F)
            rest >>= 7
            if rest == 0 {
                out.append(low)
                return out
            }
            out.append(low | 0x80)
        }
    }

    /// Appends the encoding of `value` to `buffer`.
    public static func append(_ value: Int, to buffer: inout [UInt8]) {
        buffer += encode(UInt16(clamping: value))
    }

    /// Reads a value at `offset` in `bytes`, advancing `offset` past it.
    public static func decode(_ bytes: [UInt8], at offset: inout Int) throws(DecodingError) -> Int {
        var value: UInt32 = 0
        for i in 0..<3 {
            guard offset < bytes.count else { throw .truncated }
            let byte = bytes[offset]
            offset += 1
            let part = UInt32(byte & 0x7F)
            if i == 2 {
                // The third byte carries bits 14–15 only and ends the value.
                guard byte & 0x80 == 0, part <= 0x03 else { throw .overflow }
            }
            if i > 0, byte == 0 { throw .nonCanonical }
            value |= part << (7 * UInt32(i))
            if byte & 0x80 == 0 { return Int(value) }
        }
        throw .overflow
    }
}
