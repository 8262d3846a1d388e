import CSecp256k1
import Foundation
import X402

/// A secp256k1 private key (an EOA signer).
///
/// The secret never appears in `description`, `debugDescription`, `dump` output or errors.
public struct PrivateKey: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    private let secret: Bytes32
    /// The matching public key.
    public let publicKey: PublicKey

    /// Creates a key from exactly 32 big-endian bytes in the range [1, n − 1].
    public init(bytes: some Collection<UInt8>) throws(KeyError) {
        guard bytes.count == 32 else { throw .invalidLength(bytes.count) }
        try self.init(secret: Bytes32(bytes)!)
    }

    /// Creates a key from 64 hex digits, with or without a `0x` prefix; surrounding whitespace is ignored.
    public init(hex text: some StringProtocol) throws(KeyError) {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        let bytes: [UInt8]
        do {
            bytes = try Hex.decode(trimmed)
        } catch {
            throw .invalidHex
        }
        try self.init(bytes: bytes)
    }

    /// Reads a hex key from an environment variable.
    public init(environmentVariable name: String) throws(KeyError) {
        guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else {
            throw .missingEnvironmentVariable(name)
        }
        try self.init(hex: value)
    }

    /// Reads a hex key from a file (surrounding whitespace and a trailing newline are ignored).
    public init(contentsOfFile path: String) throws(KeyError) {
        guard let data = FileManager.default.contents(atPath: path),
            let text = String(data: data, encoding: .utf8)
        else { throw .unreadableFile(path) }
        try self.init(hex: text)
    }

    /// Generates a fresh random key from the system's secure random number generator.
    public static func random() -> PrivateKey {
        var generator = SystemRandomNumberGenerator()
        while true {
            let candidate = UInt256(words: (generator.next(), generator.next(), generator.next(), generator.next()))
            if let key = try? PrivateKey(secret: Bytes32(candidate)) { return key }
        }
    }

    private init(secret: Bytes32) throws(KeyError) {
        let valid = secret.withUnsafeBytes { raw in
            secp256k1_ec_seckey_verify(Secp256k1.context, raw.baseAddress!.assumingMemoryBound(to: UInt8.self))
        }
        guard valid == 1 else { throw .outOfRange }
        var publicKey = secp256k1_pubkey()
        let created = secret.withUnsafeBytes { raw in
            secp256k1_ec_pubkey_create(Secp256k1.context, &publicKey, raw.baseAddress!.assumingMemoryBound(to: UInt8.self))
        }
        guard created == 1 else { throw .outOfRange }
        self.secret = secret
        self.publicKey = PublicKey(libraryKey: publicKey)
    }

    /// The Ethereum address of this key.
    public var address: EthereumAddress { publicKey.address }

    /// Signs a 32-byte digest: deterministic (RFC 6979) recoverable ECDSA with low `s` and `v` ∈ {27, 28}.
    public func sign(digest: Bytes32) -> Signature {
        var recoverable = secp256k1_ecdsa_recoverable_signature()
        let signed = secret.withUnsafeBytes { key in
            digest.withUnsafeBytes { message in
                secp256k1_ecdsa_sign_recoverable(
                    Secp256k1.context,
                    &recoverable,
                    message.baseAddress!.assumingMemoryBound(to: UInt8.self),
                    key.baseAddress!.assumingMemoryBound(to: UInt8.self),
                    nil,
                    nil
                )
            }
        }
        precondition(signed == 1, "secp256k1_ecdsa_sign_recoverable failed for a verified key")
        var compact = (Bytes32.zero, Bytes32.zero)
        var recoveryID: Int32 = 0
        withUnsafeMutableBytes(of: &compact) { output in
            _ = secp256k1_ecdsa_recoverable_signature_serialize_compact(
                Secp256k1.context,
                output.baseAddress!.assumingMemoryBound(to: UInt8.self),
                &recoveryID,
                &recoverable
            )
        }
        // libsecp256k1 always emits low-s signatures; the recovery id matches that s.
        return Signature(uncheckedR: compact.0, s: compact.1, recoveryID: UInt8(recoveryID))
    }

    /// Signs an EIP-191 `personal_sign` message ("\u{19}Ethereum Signed Message:\n" + length + message).
    public func signPersonalMessage(_ message: some Collection<UInt8>) -> Signature {
        sign(digest: EIP191.personalMessageHash(message))
    }

    /// Calls `body` with the 32 secret bytes. Avoid copying them anywhere long-lived.
    public func withUnsafeSecretBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try secret.withUnsafeBytes(body)
    }

    public var description: String { "PrivateKey(address: \(address), secret: <redacted>)" }
    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: ["address": address], displayStyle: .struct) }
}

/// Why a private key was rejected. Never contains key material.
public enum KeyError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The key is not 32 bytes long.
    case invalidLength(Int)
    /// The key text is not hexadecimal.
    case invalidHex
    /// The key is zero or not below the secp256k1 group order.
    case outOfRange
    /// The named environment variable is unset or empty.
    case missingEnvironmentVariable(String)
    /// The file could not be read as UTF-8 text.
    case unreadableFile(String)

    public var description: String {
        switch self {
        case let .invalidLength(count): "private key must be 32 bytes, got \(count)"
        case .invalidHex: "private key is not valid hex (expected 64 hex digits, optional 0x prefix)"
        case .outOfRange: "private key is zero or not below the secp256k1 group order"
        case let .missingEnvironmentVariable(name): "environment variable \(name) is not set"
        case let .unreadableFile(path): "cannot read private key file at \(path)"
        }
    }
}

/// EIP-191 helpers.
public enum EIP191 {
    /// keccak256("\u{19}Ethereum Signed Message:\n" ‖ decimal length ‖ message).
    public static func personalMessageHash(_ message: some Collection<UInt8>) -> Bytes32 {
        var data = Array("\u{19}Ethereum Signed Message:\n\(message.count)".utf8)
        data.append(contentsOf: message)
        return Keccak256.hash(data)
    }
}
