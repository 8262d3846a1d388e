import Crypto
import Foundation
public import X402

/// JWS `EdDSA` (Ed25519, RFC 8037) signing with swift-crypto.
public struct EdDSASigningKey: JWSSigningKey {
    private let keypair: SolanaKeypair
    public let didKey: DIDKey

    /// A JWS key for an Ed25519 keypair (a Solana keypair, or any 32-byte seed through
    /// `SolanaKeypair(seed:)`).
    ///
    /// - Throws: ``OfferReceiptKeyError`` (not in practice: an Ed25519 public key has 32 bytes).
    public init(keypair: SolanaKeypair) throws(OfferReceiptKeyError) {
        self.keypair = keypair
        self.didKey = try DIDKey(type: .ed25519, publicKey: keypair.publicKey.bytes)
    }

    public var algorithm: String { "EdDSA" }

    public func sign(_ signingInput: [UInt8]) throws -> [UInt8] {
        keypair.sign(signingInput).bytes
    }
}

/// Verifies JWS `EdDSA` (Ed25519) signatures with swift-crypto.
public struct EdDSAVerifier: JWSSignatureVerifying {
    public init() {}

    public var algorithm: String { "EdDSA" }
    public var keyType: DIDKey.KeyType { .ed25519 }

    public func isValid(signature: [UInt8], signingInput: [UInt8], publicKey: DIDKey) -> Bool {
        guard signature.count == 64, publicKey.type == .ed25519,
            let key = try? Curve25519.Signing.PublicKey(rawRepresentation: publicKey.publicKey)
        else { return false }
        return key.isValidSignature(signature, for: signingInput)
    }
}
