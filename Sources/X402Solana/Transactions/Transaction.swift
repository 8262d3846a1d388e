import Crypto
import Foundation

/// A signed (or partially signed) transaction: one signature slot per required signer, then the
/// message.
///
/// A decoded transaction keeps the message bytes exactly as received, so signatures are always
/// checked against, and re-serialized with, the bytes the signers signed.
public struct SolanaTransaction: Sendable, Hashable {
    /// The packet limit a transaction must fit (1280 − 48 bytes of headers).
    public static let maximumSize = 1232

    /// One per required signer, in the order of the message's first keys; unsigned slots are zero.
    public var signatures: [SolanaSignature]
    public let message: SolanaMessage
    /// The serialized message: what every signer signs.
    public let messageBytes: [UInt8]

    /// An unsigned transaction of `message` (all slots zero).
    public init(message: SolanaMessage) {
        self.message = message
        messageBytes = message.serialize()
        signatures = Array(repeating: .empty, count: Int(message.header.numRequiredSignatures))
    }

    /// Decodes wire bytes: `shortvec(n) ‖ n × 64-byte signatures ‖ message`. The whole input must
    /// be one transaction of at most ``maximumSize`` bytes whose signature count equals the
    /// header's `numRequiredSignatures`.
    public init(bytes: [UInt8]) throws(SolanaDecodingError) {
        guard bytes.count <= Self.maximumSize else { throw .tooLarge(bytes.count) }
        var reader = ByteReader(bytes)
        let count = try reader.length(elementSize: 64)
        var signatures: [SolanaSignature] = []
        signatures.reserveCapacity(count)
        for _ in 0..<count { signatures.append(SolanaSignature(unchecked: try reader.bytes(64))) }
        let start = reader.offset
        let message = try SolanaMessage(reader: &reader)
        guard reader.remaining == 0 else { throw .trailingBytes(reader.remaining) }
        guard count == Int(message.header.numRequiredSignatures) else {
            throw .signatureCountMismatch(signatures: count, required: Int(message.header.numRequiredSignatures))
        }
        self.signatures = signatures
        self.message = message
        messageBytes = Array(bytes[start...])
    }

    /// Decodes standard base64 (the x402 `payload.transaction`).
    public init(base64: String) throws(SolanaDecodingError) {
        // 1232 bytes are 1644 base64 characters: refuse longer text before decoding it.
        guard base64.utf8.count <= 1644 else { throw .tooLarge(base64.utf8.count * 3 / 4) }
        guard let data = Data(base64Encoded: base64) else { throw .truncated }
        try self.init(bytes: Array(data))
    }

    /// The wire bytes.
    public func serialize() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(3 + 64 * signatures.count + messageBytes.count)
        CompactU16.append(signatures.count, to: &out)
        for signature in signatures { out += signature.bytes }
        out += messageBytes
        return out
    }

    /// The wire bytes in standard base64.
    public var base64: String { Data(serialize()).base64EncodedString() }

    /// The transaction id: signature 0 (the fee payer's) in base58.
    public var id: String { signatures.first?.base58 ?? "" }

    /// `sha256` of the message bytes: identifies the payment whatever its signatures.
    public var messageHash: [UInt8] { Array(SHA256.hash(data: messageBytes)) }

    /// The slot of `key` among the required signers, if it is one.
    public func signerIndex(of key: SolanaPublicKey) -> Int? {
        message.signerKeys.firstIndex(of: key)
    }

    /// Why a transaction could not be signed.
    public enum SigningError: Error, Sendable, Hashable {
        /// The key is not one of the message's required signers.
        case notASigner(SolanaPublicKey)
    }

    /// Signs the message with `keypair` into its own slot only.
    public mutating func sign(with keypair: SolanaKeypair) throws(SigningError) {
        guard let index = signerIndex(of: keypair.publicKey), index < signatures.count else { throw .notASigner(keypair.publicKey) }
        signatures[index] = keypair.sign(messageBytes)
    }

    /// The signer slots whose signature is missing (all zero) or does not verify.
    public func invalidSignatureSlots(allowingEmpty empty: Set<Int> = []) -> [Int] {
        var bad: [Int] = []
        for (i, key) in message.signerKeys.enumerated() {
            guard i < signatures.count else {
                bad.append(i)
                continue
            }
            let signature = signatures[i]
            if signature.isEmpty {
                if !empty.contains(i) { bad.append(i) }
            } else if !key.verify(signature, for: messageBytes) {
                bad.append(i)
            }
        }
        return bad
    }

    /// Whether every signer slot holds a valid signature.
    public var isFullySigned: Bool { invalidSignatureSlots().isEmpty }
}
