public import Crypto
public import Foundation
public import X402

/// An Ed25519 signing key for Solana (swift-crypto `Curve25519.Signing`; no curve code of ours).
///
/// The secret never appears in `description` or errors.
public struct SolanaKeypair: Sendable, CustomStringConvertible {
    let key: Curve25519.Signing.PrivateKey
    /// The public key (the account address).
    public let publicKey: SolanaPublicKey

    /// Why a keypair could not be read.
    public enum KeyError: Error, Sendable, Hashable, CustomStringConvertible {
        /// The seed is not 32 bytes.
        case invalidSeedLength(Int)
        /// The keypair is not 64 bytes (seed ‖ public key).
        case invalidKeypairLength(Int)
        /// The public half does not belong to the seed.
        case publicKeyMismatch
        /// The text is neither base58 nor a JSON array of bytes.
        case unreadable

        public var description: String {
            switch self {
            case .invalidSeedLength(let n): "an Ed25519 seed has 32 bytes, not \(n)"
            case .invalidKeypairLength(let n): "a Solana keypair has 64 bytes (seed and public key), not \(n)"
            case .publicKeyMismatch: "the keypair's public key does not belong to its seed"
            case .unreadable: "the keypair is neither base58 nor a JSON array of 64 bytes"
            }
        }
    }

    /// The keypair of a 32-byte Ed25519 seed.
    public init(seed: some Collection<UInt8>) throws(KeyError) {
        let bytes = Array(seed)
        guard bytes.count == 32 else { throw .invalidSeedLength(bytes.count) }
        guard let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: bytes) else { throw .invalidSeedLength(bytes.count) }
        self.key = key
        publicKey = SolanaPublicKey(unchecked: Array(key.publicKey.rawRepresentation))
    }

    /// The keypair of a 64-byte Solana keypair (seed ‖ public key), the public key checked.
    public init(keypairBytes: some Collection<UInt8>) throws(KeyError) {
        let bytes = Array(keypairBytes)
        guard bytes.count == 64 else { throw .invalidKeypairLength(bytes.count) }
        try self.init(seed: bytes[0..<32])
        guard publicKey.bytes == Array(bytes[32..<64]) else { throw .publicKeyMismatch }
    }

    /// The keypair from text: base58 of the 64 bytes, or the JSON byte array `solana-keygen` writes.
    public init(text: String) throws(KeyError) {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.hasPrefix("[") {
            guard trimmed.utf8.count <= 1024, trimmed.hasSuffix("]") else { throw .unreadable }
            var bytes: [UInt8] = []
            for part in trimmed.dropFirst().dropLast().split(separator: ",", omittingEmptySubsequences: false) {
                guard let value = UInt8(part.trimmingCharacters(in: .whitespacesAndNewlines)) else { throw .unreadable }
                bytes.append(value)
            }
            try self.init(keypairBytes: bytes)
        } else {
            guard let bytes = try? Base58.decode(trimmed) else { throw .unreadable }
            try self.init(keypairBytes: bytes)
        }
    }

    /// Signs `message` (deterministic Ed25519, RFC 8032).
    public func sign(_ message: some DataProtocol) -> SolanaSignature {
        guard let signature = try? key.signature(for: message), let value = SolanaSignature(bytes: signature) else {
            preconditionFailure("Ed25519 signing failed")
        }
        return value
    }

    public var description: String { "SolanaKeypair(\(publicKey.base58))" }
}

extension SolanaPublicKey {
    /// Whether `signature` is a valid Ed25519 signature of `message` by this key.
    public func verify(_ signature: SolanaSignature, for message: some DataProtocol) -> Bool {
        guard let key = try? Curve25519.Signing.PublicKey(rawRepresentation: bytes) else { return false }
        return key.isValidSignature(signature.bytes, for: message)
    }
}
