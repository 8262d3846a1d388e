import CSecp256k1
import X402

/// A 65-byte recoverable ECDSA signature `r ‖ s ‖ v` as Ethereum uses it.
///
/// Always normalised: `s` is in the lower half of the curve order (EIP-2) and ``v`` is 27 or 28.
/// Parsing accepts `v` ∈ {0, 1, 27, 28} and rejects high `s`, zero or out-of-range `r`/`s`.
public struct Signature: Sendable, Hashable, Codable, CustomStringConvertible {
    public let r: Bytes32
    public let s: Bytes32
    /// The recovery id (0 or 1): the parity of the ephemeral point's `y`.
    public let recoveryID: UInt8

    /// `27 + recoveryID`.
    @inlinable
    public var v: UInt8 { 27 &+ recoveryID }

    init(uncheckedR r: Bytes32, s: Bytes32, recoveryID: UInt8) {
        self.r = r
        self.s = s
        self.recoveryID = recoveryID
    }

    /// Validates and creates a signature from its components (`v` ∈ {0, 1, 27, 28}).
    public init(r: Bytes32, s: Bytes32, v: UInt8) throws(SignatureError) {
        let recoveryID: UInt8
        switch v {
        case 0, 1: recoveryID = v
        case 27, 28: recoveryID = v - 27
        default: throw .invalidV(v)
        }
        let rValue = r.uint256
        let sValue = s.uint256
        guard !rValue.isZero, rValue < Secp256k1.order else { throw .rOutOfRange }
        guard !sValue.isZero, sValue < Secp256k1.order else { throw .sOutOfRange }
        guard sValue <= Secp256k1.halfOrder else { throw .highS }
        self.init(uncheckedR: r, s: s, recoveryID: recoveryID)
    }

    /// Parses 65 bytes `r ‖ s ‖ v`.
    public init(bytes: some Collection<UInt8>) throws(SignatureError) {
        guard bytes.count == 65 else { throw .invalidLength(bytes.count) }
        let array = Array(bytes)
        let (r, s) = array.withUnsafeBytes { raw in
            (Bytes32(copying: raw), Bytes32(copying: UnsafeRawBufferPointer(rebasing: raw[32..<64])))
        }
        try self.init(r: r, s: s, v: array[64])
    }

    /// Parses `0x` + 130 hex digits.
    public init(hex text: some StringProtocol) throws(SignatureError) {
        let bytes: [UInt8]
        do {
            bytes = try Hex.decode(text)
        } catch {
            throw .invalidHex
        }
        try self.init(bytes: bytes)
    }

    /// `r ‖ s ‖ v` with `v` ∈ {27, 28}.
    public var bytes: [UInt8] {
        var result = [UInt8]()
        result.reserveCapacity(65)
        r.withUnsafeBytes { result.append(contentsOf: $0) }
        s.withUnsafeBytes { result.append(contentsOf: $0) }
        result.append(v)
        return result
    }

    /// `0x` + 130 lower-case hex digits.
    public var hexString: String { Hex.encode(bytes) }

    public var description: String { hexString }

    /// Recovers the public key that produced this signature over `digest`.
    public func recoverPublicKey(digest: Bytes32) throws(SignatureError) -> PublicKey {
        var compact = (r, s)
        var recoverable = secp256k1_ecdsa_recoverable_signature()
        let parsed = withUnsafeBytes(of: &compact) { raw in
            secp256k1_ecdsa_recoverable_signature_parse_compact(
                Secp256k1.context, &recoverable, raw.baseAddress!.assumingMemoryBound(to: UInt8.self), Int32(recoveryID)
            )
        }
        guard parsed == 1 else { throw .recoveryFailed }
        var publicKey = secp256k1_pubkey()
        let recovered = digest.withUnsafeBytes { message in
            secp256k1_ecdsa_recover(
                Secp256k1.context, &publicKey, &recoverable, message.baseAddress!.assumingMemoryBound(to: UInt8.self)
            )
        }
        guard recovered == 1 else { throw .recoveryFailed }
        return PublicKey(libraryKey: publicKey)
    }

    /// Recovers the address of the signer of `digest` (Solidity's `ecrecover`).
    public func recoverSigner(digest: Bytes32) throws(SignatureError) -> EthereumAddress {
        try recoverPublicKey(digest: digest).address
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        do {
            try self.init(hex: text)
        } catch {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: error.description)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(hexString)
    }
}

/// Why a signature was rejected.
public enum SignatureError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Not 65 bytes.
    case invalidLength(Int)
    /// Not hexadecimal.
    case invalidHex
    /// `v` is not 0, 1, 27 or 28.
    case invalidV(UInt8)
    /// `r` is zero or not below the curve order.
    case rOutOfRange
    /// `s` is zero or not below the curve order.
    case sOutOfRange
    /// `s` is above n/2 (malleable; rejected per EIP-2).
    case highS
    /// No public key could be recovered (the signature does not match any point).
    case recoveryFailed

    public var description: String {
        switch self {
        case let .invalidLength(count): "signature must be 65 bytes (r ‖ s ‖ v), got \(count)"
        case .invalidHex: "signature is not valid hex"
        case let .invalidV(v): "signature v must be 0, 1, 27 or 28, got \(v)"
        case .rOutOfRange: "signature r is zero or not below the secp256k1 group order"
        case .sOutOfRange: "signature s is zero or not below the secp256k1 group order"
        case .highS: "signature s is in the upper half of the group order (malleable, rejected per EIP-2)"
        case .recoveryFailed: "no public key can be recovered from this signature and digest"
        }
    }
}
