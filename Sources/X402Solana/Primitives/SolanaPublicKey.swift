public import X402

/// A 32-byte Solana address: an Ed25519 public key or a program-derived address.
public struct SolanaPublicKey: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The raw 32 bytes.
    public let bytes: [UInt8]

    /// The key from exactly 32 bytes; `nil` for any other length.
    public init?(bytes: some Collection<UInt8>) {
        let array = Array(bytes)
        guard array.count == 32 else { return nil }
        self.bytes = array
    }

    init(unchecked bytes: [UInt8]) { self.bytes = bytes }

    /// The key from its base58 text.
    public init(base58 text: String) throws(Base58.DecodingError) {
        bytes = try Base58.decode(text, length: 32)
    }

    /// The key as base58 text (how Solana shows addresses).
    public var base58: String { Base58.encode(bytes) }
    public var description: String { base58 }

    /// Orders keys by their raw bytes (the order solana-sdk sorts account keys in).
    public static func < (lhs: SolanaPublicKey, rhs: SolanaPublicKey) -> Bool {
        lhs.bytes.lexicographicallyPrecedes(rhs.bytes)
    }

    /// Whether the bytes decompress to a point of the Ed25519 curve (ed25519-dalek semantics).
    /// Program-derived addresses are never on the curve.
    public var isOnCurve: Bool { Ed25519Curve.isOnCurve(bytes) }
}

extension SolanaPublicKey {
    // Compile-time constants; the force-try cannot fail for these literals (checked by tests).
    private static func constant(_ text: String) -> SolanaPublicKey {
        guard let key = try? SolanaPublicKey(base58: text) else { preconditionFailure("bad constant \(text)") }
        return key
    }

    /// The System program `11111111111111111111111111111111`.
    public static let systemProgram = constant("11111111111111111111111111111111")
    /// SPL Token `TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA`.
    public static let tokenProgram = constant("TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA")
    /// Token-2022 `TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb`.
    public static let token2022Program = constant("TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb")
    /// Associated Token Account program `ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL`.
    public static let associatedTokenProgram = constant("ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL")
    /// Compute Budget program `ComputeBudget111111111111111111111111111111`.
    public static let computeBudgetProgram = constant("ComputeBudget111111111111111111111111111111")
    /// Memo program (v2) `MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr`.
    public static let memoProgram = constant("MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr")
    /// Lighthouse (wallet guard assertions) `L2TExMFKdjpN9kozasaurPirfHy9P8sbXoAN1qA3S95`.
    public static let lighthouseProgram = constant("L2TExMFKdjpN9kozasaurPirfHy9P8sbXoAN1qA3S95")

    /// Whether this key is SPL Token or Token-2022.
    public var isTokenProgram: Bool { self == .tokenProgram || self == .token2022Program }
}

/// A 64-byte Ed25519 signature as Solana transactions carry it.
public struct SolanaSignature: Sendable, Hashable, CustomStringConvertible {
    /// The raw 64 bytes.
    public let bytes: [UInt8]

    /// The signature from exactly 64 bytes; `nil` for any other length.
    public init?(bytes: some Collection<UInt8>) {
        let array = Array(bytes)
        guard array.count == 64 else { return nil }
        self.bytes = array
    }

    init(unchecked bytes: [UInt8]) { self.bytes = bytes }

    /// The signature from its base58 text.
    public init(base58 text: String) throws(Base58.DecodingError) {
        bytes = try Base58.decode(text, length: 64)
    }

    /// 64 zero bytes: an unsigned slot.
    public static let empty = SolanaSignature(unchecked: [UInt8](repeating: 0, count: 64))

    /// Whether this is the all-zero placeholder of an unsigned slot.
    public var isEmpty: Bool { bytes.allSatisfy { $0 == 0 } }

    /// The signature as base58 (a transaction id when it is signature 0).
    public var base58: String { Base58.encode(bytes) }
    public var description: String { base58 }
}
