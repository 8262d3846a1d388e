public import X402

/// Verifies `solana:*` sign-in proofs: the SIWS text (`SignInMessage`) signed with Ed25519 by
/// the account, both base58 (a 32-byte public key, a 64-byte signature).
///
/// Stricter than the reference SDKs in two ways that can only refuse forgeries: the address must
/// be the canonical base58 of its 32 bytes (grants are keyed on the text), and a public key of
/// small order (the 8 points that "verify" chosen signatures for every message) is refused.
public struct SolanaSignInVerifier: SignInSignatureVerifier {
    public let namespace = "solana"

    /// A verifier; it needs no node (a Solana account is a key, never a contract).
    public init() {}

    public func verify(_ proof: SignInWithXProof, message: String) async -> Result<String, SignInWithXFailure> {
        guard SolanaSignIn.isChainID(proof.chainID) else {
            return .failure(SignInWithXFailure(.siwxChainID, "chain id must be solana:<reference of 1 to 32 base58 characters>"))
        }
        let signatureBytes: [UInt8]
        do { signatureBytes = try Base58.decode(proof.signature) } catch {
            return .failure(SignInWithXFailure(.siwxMalformedSignature, "signature is not base58"))
        }
        guard signatureBytes.count == 64, let signature = SolanaSignature(bytes: signatureBytes) else {
            return .failure(SignInWithXFailure(.siwxMalformedSignature, "signature must be 64 bytes, not \(signatureBytes.count)"))
        }
        let keyBytes: [UInt8]
        do { keyBytes = try Base58.decode(proof.address) } catch {
            return .failure(SignInWithXFailure(.siwxMalformedSignature, "address is not base58"))
        }
        guard keyBytes.count == 32, let key = SolanaPublicKey(bytes: keyBytes) else {
            return .failure(SignInWithXFailure(.siwxMalformedSignature, "address must be a 32-byte public key, not \(keyBytes.count) bytes"))
        }
        guard key.base58 == proof.address else {
            return .failure(SignInWithXFailure(.siwxMalformedSignature, "address is not in canonical base58"))
        }
        guard !Ed25519Curve.hasSmallOrder(keyBytes) else {
            return .failure(SignInWithXFailure(.siwxSignature, "Solana signature verification failed"))
        }
        guard key.verify(signature, for: Array(message.utf8)) else {
            return .failure(SignInWithXFailure(.siwxSignature, "Solana signature verification failed"))
        }
        return .success(proof.address)
    }
}

/// Signs sign-in messages with a Solana keypair (Ed25519 over the UTF-8 SIWS text, base58).
///
/// The paying wallet's key: the account that paid is the account that signs in.
public struct SolanaSignInSigner: SignInSigner {
    public let signatureType = SignInSignatureType.ed25519
    private let keypair: SolanaKeypair

    /// A signer for `keypair`'s account.
    public init(keypair: SolanaKeypair) {
        self.keypair = keypair
    }

    public var address: String { keypair.publicKey.base58 }

    public func signMessage(_ message: String) async throws -> String {
        keypair.sign(Array(message.utf8)).base58
    }
}

/// Shapes of the Solana sign-in form.
enum SolanaSignIn {
    /// `solana:` followed by a CAIP-2 reference of 1 to 32 characters; Solana's references are
    /// the base58 prefix of the genesis hash.
    static func isChainID(_ chainID: String) -> Bool {
        guard chainID.hasPrefix("solana:") else { return false }
        let reference = String(chainID.dropFirst("solana:".count))
        return (1...32).contains(reference.utf8.count) && (try? Base58.decode(reference)) != nil
    }
}

extension Ed25519Curve {
    /// The y-coordinates (canonical little-endian) of the 8 points of small order: 1 (the
    /// identity), p − 1 (order 2), 0 (order 4) and the two of order 8. Each stands for a point and
    /// its negation.
    static let smallOrderY: [[UInt8]] = [
        [0x01] + [UInt8](repeating: 0, count: 31),
        [0xEC] + [UInt8](repeating: 0xFF, count: 30) + [0x7F],
        [UInt8](repeating: 0, count: 32),
        [
            0x26, 0xE8, 0x95, 0x8F, 0xC2, 0xB2, 0x27, 0xB0, 0x45, 0xC3, 0xF4, 0x89, 0xF2, 0xEF, 0x98, 0xF0,
            0xD5, 0xDF, 0xAC, 0x05, 0xD3, 0xC6, 0x33, 0x39, 0xB1, 0x38, 0x02, 0x88, 0x6D, 0x53, 0xFC, 0x05,
        ],
        [
            0xC7, 0x17, 0x6A, 0x70, 0x3D, 0x4D, 0xD8, 0x4F, 0xBA, 0x3C, 0x0B, 0x76, 0x0D, 0x10, 0x67, 0x0F,
            0x2A, 0x20, 0x53, 0xFA, 0x2C, 0x39, 0xCC, 0xC6, 0x4E, 0xC7, 0xFD, 0x77, 0x92, 0xAC, 0x03, 0x7A,
        ],
    ]

    /// Whether 32 bytes encode a point of small order (its y read modulo p, the sign bit
    /// ignored, as the decompression does).
    static func hasSmallOrder(_ bytes: [UInt8]) -> Bool {
        guard bytes.count == 32 else { return false }
        let y = pack(unpack(bytes))
        return smallOrderY.contains(y)
    }
}
