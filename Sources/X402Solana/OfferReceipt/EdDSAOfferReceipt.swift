import Crypto
import Foundation
public import X402

/// JWS `EdDSA` (Ed25519, RFC 8037) signing with swift-crypto.
public struct EdDSASigningKey: JWSSigningKey {
    private let keypair: SolanaKeypair
    /// The public key as a `did:key` (Ed25519).
    public let didKey: DIDKey

    /// A JWS key for an Ed25519 keypair (a Solana keypair, or any 32-byte seed through
    /// `SolanaKeypair(seed:)`).
    ///
    /// - Throws: `OfferReceiptKeyError` (not in practice: an Ed25519 public key has 32 bytes).
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
    /// A verifier.
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

extension OfferReceipt.Signing {
    /// JWS `EdDSA` signing settings with an Ed25519 keypair read from a file (a Solana keypair:
    /// `solana-keygen` JSON array or base58; keep it `0600`), so the key never appears in arguments
    /// or logs.
    ///
    /// - Throws: When the file is unreadable or not a keypair.
    public static func eddsa(keypairFile: String) throws -> OfferReceipt.Signing {
        guard let data = FileManager.default.contents(atPath: keypairFile), data.count <= 4096 else {
            throw OfferReceiptKeyError.invalidKey("cannot read the keypair file")
        }
        let keypair = try SolanaKeypair(text: String(decoding: data, as: UTF8.self))
        return OfferReceipt.Signing(signer: JWSOfferReceiptSigner(key: try EdDSASigningKey(keypair: keypair)))
    }

    /// JWS `EdDSA` signing settings with a keypair from an environment variable (base58 or JSON array).
    ///
    /// - Throws: When the variable is unset or not a keypair.
    public static func eddsa(environmentVariable: String) throws -> OfferReceipt.Signing {
        guard let text = ProcessInfo.processInfo.environment[environmentVariable], !text.isEmpty else {
            throw OfferReceiptKeyError.invalidKey("\(environmentVariable) is not set")
        }
        return OfferReceipt.Signing(signer: JWSOfferReceiptSigner(key: try EdDSASigningKey(keypair: try SolanaKeypair(text: text))))
    }
}
