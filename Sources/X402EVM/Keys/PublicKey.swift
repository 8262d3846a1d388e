import CSecp256k1

/// A secp256k1 public key.
public struct PublicKey: Sendable, Hashable, CustomStringConvertible {
    /// The affine coordinates, big-endian.
    public let x: Bytes32
    public let y: Bytes32

    init(libraryKey: secp256k1_pubkey) {
        var key = libraryKey
        var parsed = (Bytes32.zero, Bytes32.zero)
        withUnsafeTemporaryAllocation(byteCount: 65, alignment: 8) { raw in
            var length = 65
            _ = secp256k1_ec_pubkey_serialize(
                Secp256k1.context, raw.baseAddress!.assumingMemoryBound(to: UInt8.self), &length, &key,
                UInt32(SECP256K1_EC_UNCOMPRESSED)
            )
            let bytes = UnsafeRawBufferPointer(raw)
            parsed = (
                Bytes32(copying: UnsafeRawBufferPointer(rebasing: bytes[1..<33])),
                Bytes32(copying: UnsafeRawBufferPointer(rebasing: bytes[33..<65]))
            )
        }
        self.x = parsed.0
        self.y = parsed.1
    }

    /// Parses a SEC1 public key: 65 bytes uncompressed (`0x04`), 33 bytes compressed, or 64 bytes `x ‖ y`.
    public init(bytes: some Collection<UInt8>) throws(PublicKeyError) {
        var input = Array(bytes)
        if input.count == 64 { input.insert(0x04, at: 0) }
        guard input.count == 65 || input.count == 33 else { throw .invalidLength(input.count) }
        var key = secp256k1_pubkey()
        guard secp256k1_ec_pubkey_parse(Secp256k1.context, &key, input, input.count) == 1 else {
            throw .notOnCurve
        }
        self.init(libraryKey: key)
    }

    /// `0x04 ‖ x ‖ y` (65 bytes).
    public var uncompressedBytes: [UInt8] {
        var result: [UInt8] = [0x04]
        result.reserveCapacity(65)
        x.withUnsafeBytes { result.append(contentsOf: $0) }
        y.withUnsafeBytes { result.append(contentsOf: $0) }
        return result
    }

    /// `0x02/0x03 ‖ x` (33 bytes).
    public var compressedBytes: [UInt8] {
        let yIsOdd = y.withUnsafeBytes { $0[31] & 1 } == 1
        var result: [UInt8] = [yIsOdd ? 0x03 : 0x02]
        x.withUnsafeBytes { result.append(contentsOf: $0) }
        return result
    }

    /// keccak256(x ‖ y)[12...].
    public var address: EthereumAddress {
        var coordinates = (x, y)
        let hash = withUnsafeBytes(of: &coordinates) { Keccak256.hash($0) }
        return hash.withUnsafeBytes { EthereumAddress(copying: UnsafeRawBufferPointer(rebasing: $0[12..<32])) }
    }

    public var description: String { Hex.encode(uncompressedBytes) }
}

/// Why public key bytes were rejected.
public enum PublicKeyError: Error, Sendable, Hashable, CustomStringConvertible {
    case invalidLength(Int)
    case notOnCurve

    public var description: String {
        switch self {
        case let .invalidLength(count): "public key must be 33, 64 or 65 bytes, got \(count)"
        case .notOnCurve: "public key is not a valid secp256k1 point"
        }
    }
}
