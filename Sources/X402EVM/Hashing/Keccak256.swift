/// Ethereum's Keccak-256 (original Keccak padding `0x01…0x80`, not NIST SHA3-256's `0x06…0x80`).
public enum Keccak256 {
    /// The sponge rate in bytes (1088 bits).
    @usableFromInline static let rate = 136

    /// Hashes raw memory.
    public static func hash(_ data: UnsafeRawBufferPointer) -> Bytes32 {
        withUnsafeTemporaryAllocation(of: UInt64.self, capacity: 25) { state in
            let lanes = state.baseAddress!
            lanes.initialize(repeating: 0, count: 25)
            var offset = 0
            let count = data.count
            while count - offset >= rate {
                absorb(UnsafeRawBufferPointer(rebasing: data[offset..<(offset + rate)]), into: lanes)
                offset += rate
            }
            withUnsafeTemporaryAllocation(of: UInt64.self, capacity: 17) { block in
                let raw = UnsafeMutableRawBufferPointer(block)
                raw.initializeMemory(as: UInt8.self, repeating: 0)
                let tail = count - offset
                if tail > 0 {
                    raw.copyMemory(from: UnsafeRawBufferPointer(rebasing: data[offset..<count]))
                }
                raw[tail] ^= 0x01
                raw[rate - 1] ^= 0x80
                absorb(UnsafeRawBufferPointer(raw), into: lanes)
            }
            var out = Bytes32.zero
            out.storage = (lanes[0].littleEndian, lanes[1].littleEndian, lanes[2].littleEndian, lanes[3].littleEndian)
            return out
        }
    }

    @inline(__always)
    static func absorb(_ block: UnsafeRawBufferPointer, into lanes: UnsafeMutablePointer<UInt64>) {
        for i in 0..<17 {
            lanes[i] ^= UInt64(littleEndian: block.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self))
        }
        keccakF1600(lanes)
    }

    /// Hashes a byte sequence.
    public static func hash(_ bytes: some Sequence<UInt8>) -> Bytes32 {
        if let result = bytes.withContiguousStorageIfAvailable({ hash(UnsafeRawBufferPointer($0)) }) {
            return result
        }
        return Array(bytes).withUnsafeBytes { hash($0) }
    }

    /// Hashes the UTF-8 encoding of `text`.
    public static func hash(utf8 text: String) -> Bytes32 {
        var text = text
        return text.withUTF8 { hash(UnsafeRawBufferPointer($0)) }
    }
}
