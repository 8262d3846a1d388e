/// A parsed JWS in compact serialization (`header.payload.signature`, base64url without padding).
///
/// Parsing is strict: exactly three segments of the base64url alphabet without padding and with
/// zero trailing bits, a JSON header with a string `alg` (and optional string `kid`), a JSON object
/// payload. The signature is verified over ``signingInput``, the bytes as received.
public struct CompactJWS: Sendable, Hashable {
    /// The protected header's `alg`, e.g. `ES256K` or `EdDSA`.
    public let algorithm: String
    /// The protected header's `kid` (a DID URL), when present.
    public let keyID: String?
    /// The decoded payload JSON.
    public let payload: JSONValue
    /// The ASCII bytes `headerB64 + "." + payloadB64` the signature covers.
    public let signingInput: [UInt8]
    /// The decoded signature bytes.
    public let signature: [UInt8]

    /// Parses a compact JWS.
    ///
    /// - Parameters:
    ///   - text: The compact serialization.
    ///   - path: The JSON path reported in errors.
    /// - Throws: ``MessageDecodingError`` naming the failing segment.
    public init(_ text: String, path: String = "") throws(MessageDecodingError) {
        func fail(_ why: String) -> MessageDecodingError { MessageDecodingError(path: path, problem: .invalidValue(why)) }
        let bytes = Array(text.utf8)
        guard bytes.count <= OfferReceipt.maximumSignatureLength else { throw fail("JWS longer than \(OfferReceipt.maximumSignatureLength) bytes") }
        let parts = bytes.split(separator: 0x2E, omittingEmptySubsequences: false)
        guard parts.count == 3 else { throw fail("a compact JWS has three dot-separated segments") }
        guard let headerBytes = Base64URL.decode(parts[0]), !headerBytes.isEmpty else { throw fail("JWS header is not base64url") }
        guard let payloadBytes = Base64URL.decode(parts[1]), !payloadBytes.isEmpty else { throw fail("JWS payload is not base64url") }
        guard let signature = Base64URL.decode(parts[2]), !signature.isEmpty else { throw fail("JWS signature is not base64url") }
        guard let header = try? JSONValue(parsing: headerBytes, maximumDepth: 4), case .object(let members) = header else {
            throw fail("JWS header is not a JSON object")
        }
        guard case .string(let algorithm)? = members["alg"], !algorithm.isEmpty, algorithm.utf8.count <= 32 else {
            throw fail("JWS header has no string alg")
        }
        guard algorithm != "none" else { throw fail("JWS alg none is not accepted") }
        var keyID: String?
        if let kid = members["kid"] {
            guard case .string(let value) = kid, value.utf8.count <= OfferReceipt.maximumFieldLength else {
                throw fail("JWS header kid is not a string")
            }
            keyID = value
        }
        if let crit = members["crit"], !crit.isNull { throw fail("JWS header crit is not supported") }
        guard let payload = try? JSONValue(parsing: payloadBytes, maximumDepth: 4), case .object = payload else {
            throw fail("JWS payload is not a JSON object")
        }
        self.algorithm = algorithm
        self.keyID = keyID
        self.payload = payload
        self.signingInput = Array(bytes[0..<(parts[0].count + 1 + parts[1].count)])
        self.signature = signature
    }

    /// Builds the signing input `headerB64.payloadB64` for `algorithm`, `keyID` and the
    /// JCS-canonical form of `payload`.
    ///
    /// - Returns: The signing input (ASCII).
    public static func signingInput(algorithm: String, keyID: String, payload: JSONObject) -> [UInt8] {
        // TS serialises the header with JSON.stringify in the order alg, kid.
        let header = JCS.serialize(object: ["alg": .string(algorithm), "kid": .string(keyID)], sorted: false)
        let body = JCS.serialize(object: payload, sorted: true)
        return Array(Base64URL.encode(header).utf8) + [0x2E] + Array(Base64URL.encode(body).utf8)
    }
}

/// Base64url without padding (RFC 7515 §2), strict on input.
public enum Base64URL {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    /// Encodes without padding.
    public static func encode(_ bytes: some Collection<UInt8>) -> String {
        let input = Array(bytes)
        var out: [UInt8] = []
        out.reserveCapacity((input.count * 4 + 2) / 3)
        var i = 0
        while i + 3 <= input.count {
            let n = UInt32(input[i]) << 16 | UInt32(input[i + 1]) << 8 | UInt32(input[i + 2])
            for shift in [18, 12, 6, 0] { out.append(alphabet[Int((n >> UInt32(shift)) & 63)]) }
            i += 3
        }
        let rest = input.count - i
        if rest == 1 {
            let n = UInt32(input[i]) << 16
            out.append(alphabet[Int((n >> 18) & 63)])
            out.append(alphabet[Int((n >> 12) & 63)])
        } else if rest == 2 {
            let n = UInt32(input[i]) << 16 | UInt32(input[i + 1]) << 8
            out.append(alphabet[Int((n >> 18) & 63)])
            out.append(alphabet[Int((n >> 12) & 63)])
            out.append(alphabet[Int((n >> 6) & 63)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes; `nil` for padding, a character outside the alphabet, an impossible length or
    /// non-zero trailing bits (so each byte string has exactly one accepted encoding).
    public static func decode(_ text: some Collection<UInt8>) -> [UInt8]? {
        let input = Array(text)
        guard input.count % 4 != 1 else { return nil }
        var values: [UInt32] = []
        values.reserveCapacity(input.count)
        for c in input {
            switch c {
            case 0x41...0x5A: values.append(UInt32(c - 0x41))
            case 0x61...0x7A: values.append(UInt32(c - 0x61 + 26))
            case 0x30...0x39: values.append(UInt32(c - 0x30 + 52))
            case 0x2D: values.append(62)
            case 0x5F: values.append(63)
            default: return nil
            }
        }
        var out: [UInt8] = []
        out.reserveCapacity(input.count * 3 / 4)
        var i = 0
        while i + 4 <= values.count {
            let n = values[i] << 18 | values[i + 1] << 12 | values[i + 2] << 6 | values[i + 3]
            out.append(UInt8(truncatingIfNeeded: n >> 16))
            out.append(UInt8(truncatingIfNeeded: n >> 8))
            out.append(UInt8(truncatingIfNeeded: n))
            i += 4
        }
        let rest = values.count - i
        if rest == 2 {
            guard values[i + 1] & 0x0F == 0 else { return nil }
            out.append(UInt8(truncatingIfNeeded: (values[i] << 2) | (values[i + 1] >> 4)))
        } else if rest == 3 {
            guard values[i + 2] & 0x03 == 0 else { return nil }
            let n = values[i] << 18 | values[i + 1] << 12 | values[i + 2] << 6
            out.append(UInt8(truncatingIfNeeded: n >> 16))
            out.append(UInt8(truncatingIfNeeded: n >> 8))
        }
        return out
    }

    /// Decodes a string (same rules as the byte form).
    public static func decode(_ text: String) -> [UInt8]? { decode(Array(text.utf8)) }
}

/// JSON Canonicalization Scheme (RFC 8785) for the flat payloads of this extension: strings and
/// non-negative integers (at most 2^53 − 1, whose JCS form is their decimal text).
enum JCS {
    static func serialize(object: JSONObject, sorted: Bool) -> [UInt8] {
        var members = object.members
        if sorted { members.sort { Array($0.key.utf16).lexicographicallyPrecedes(Array($1.key.utf16)) } }
        var out: [UInt8] = [0x7B]
        for (i, member) in members.enumerated() {
            if i > 0 { out.append(0x2C) }
            appendString(member.key, to: &out)
            out.append(0x3A)
            switch member.value {
            case .string(let s): appendString(s, to: &out)
            case .number(let n): out.append(contentsOf: Array(n.literal.utf8))
            default: out.append(contentsOf: member.value.serialized())
            }
        }
        out.append(0x7D)
        return out
    }

    /// ECMAScript `JSON.stringify` string escaping (RFC 8785 §3.2.2.2).
    static func appendString(_ s: String, to out: inout [UInt8]) {
        out.append(0x22)
        for byte in s.utf8 {
            switch byte {
            case 0x22: out.append(contentsOf: [0x5C, 0x22])
            case 0x5C: out.append(contentsOf: [0x5C, 0x5C])
            case 0x08: out.append(contentsOf: [0x5C, 0x62])
            case 0x0C: out.append(contentsOf: [0x5C, 0x66])
            case 0x0A: out.append(contentsOf: [0x5C, 0x6E])
            case 0x0D: out.append(contentsOf: [0x5C, 0x72])
            case 0x09: out.append(contentsOf: [0x5C, 0x74])
            case 0..<0x20:
                let digits = Array("0123456789abcdef".utf8)
                out.append(contentsOf: [0x5C, 0x75, 0x30, 0x30, digits[Int(byte >> 4)], digits[Int(byte & 15)]])
            default: out.append(byte)
            }
        }
        out.append(0x22)
    }
}

/// A public key named by a `did:key` identifier (multibase base58btc of a multicodec key).
///
/// Two key types are read: secp256k1 (multicodec `0xe7`, 33-byte compressed key) for `ES256K`
/// and Ed25519 (multicodec `0xed`, 32 bytes) for `EdDSA`. A DID URL fragment (`#…`) is ignored.
public struct DIDKey: Sendable, Hashable, CustomStringConvertible {
    /// The key type.
    public enum KeyType: String, Sendable, Hashable {
        /// secp256k1, compressed SEC1 (33 bytes); JWS `ES256K`.
        case secp256k1
        /// Ed25519 (32 bytes); JWS `EdDSA`.
        case ed25519

        /// The multicodec prefix (unsigned varint).
        var multicodec: [UInt8] { self == .secp256k1 ? [0xE7, 0x01] : [0xED, 0x01] }
        var keyLength: Int { self == .secp256k1 ? 33 : 32 }
        /// The JWS algorithm this key verifies.
        public var jwsAlgorithm: String { self == .secp256k1 ? "ES256K" : "EdDSA" }
    }

    /// The key type.
    public let type: KeyType
    /// The raw public key (compressed secp256k1 or Ed25519).
    public let publicKey: [UInt8]

    /// A key from its type and raw bytes.
    ///
    /// - Throws: ``OfferReceiptKeyError`` when the length is wrong for the type.
    public init(type: KeyType, publicKey: [UInt8]) throws(OfferReceiptKeyError) {
        guard publicKey.count == type.keyLength else { throw .invalidKey("a \(type.rawValue) key has \(type.keyLength) bytes") }
        self.type = type
        self.publicKey = publicKey
    }

    /// Parses `did:key:z…` (with or without a `#fragment`).
    ///
    /// - Throws: ``OfferReceiptKeyError`` for anything else.
    public init(_ text: String) throws(OfferReceiptKeyError) {
        var did = Substring(text)
        if let hash = did.firstIndex(of: "#") { did = did[..<hash] }
        guard did.hasPrefix("did:key:z") else { throw .invalidKey("not a did:key (did:key:z…)") }
        let encoded = did.dropFirst("did:key:z".count)
        guard encoded.utf8.count <= 128, let bytes = Base58BTC.decode(Array(encoded.utf8)) else {
            throw .invalidKey("did:key is not base58btc")
        }
        for type in [KeyType.secp256k1, .ed25519] where bytes.starts(with: type.multicodec) {
            try self.init(type: type, publicKey: Array(bytes.dropFirst(2)))
            return
        }
        throw .invalidKey("did:key is neither secp256k1 nor Ed25519")
    }

    /// `did:key:z…` (no fragment).
    public var did: String { "did:key:z" + Base58BTC.encode(type.multicodec + publicKey) }

    /// The DID URL used as a JWS `kid`: `did:key:z…#z…`.
    public var keyID: String {
        let id = did
        return id + "#" + id.dropFirst("did:key:".count)
    }

    public var description: String { did }
}

/// Why a key or key identifier was refused.
public enum OfferReceiptKeyError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The key or identifier is unusable, and why.
    case invalidKey(String)

    public var description: String {
        switch self {
        case .invalidKey(let why): "invalid key: \(why)"
        }
    }
}

/// Base58 with the Bitcoin alphabet (multibase `z`), for `did:key`. Inputs are short (bounded by
/// the caller), so the quadratic conversion stays cheap.
enum Base58BTC {
    private static let alphabet = Array("123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz".utf8)

    static func encode(_ bytes: [UInt8]) -> String {
        let zeros = bytes.prefix { $0 == 0 }.count
        var digits: [UInt8] = []
        for byte in bytes {
            var carry = Int(byte)
            for j in digits.indices {
                carry += Int(digits[j]) << 8
                digits[j] = UInt8(carry % 58)
                carry /= 58
            }
            while carry > 0 {
                digits.append(UInt8(carry % 58))
                carry /= 58
            }
        }
        let text = [UInt8](repeating: alphabet[0], count: zeros) + digits.reversed().map { alphabet[Int($0)] }
        return String(decoding: text, as: UTF8.self)
    }

    static func decode(_ text: [UInt8]) -> [UInt8]? {
        guard !text.isEmpty else { return nil }
        let zeros = text.prefix { $0 == alphabet[0] }.count
        var bytes: [UInt8] = []
        for c in text {
            guard let value = alphabet.firstIndex(of: c) else { return nil }
            var carry = value
            for j in bytes.indices {
                carry += Int(bytes[j]) * 58
                bytes[j] = UInt8(carry & 0xFF)
                carry >>= 8
            }
            while carry > 0 {
                bytes.append(UInt8(carry & 0xFF))
                carry >>= 8
            }
        }
        return [UInt8](repeating: 0, count: zeros) + bytes.reversed()
    }
}

// MARK: - Signing

/// Signs offers and receipts for a seller, in one of the two forms.
///
/// The JWS form is ``JWSOfferReceiptSigner`` over a ``JWSSigningKey`` (`ES256K` in `X402EVM`,
/// `EdDSA` in `X402Solana`); the EIP-712 form is `EIP712OfferReceiptSigner` in `X402EVM`.
public protocol OfferReceiptSigner: Sendable {
    /// The form this signer produces.
    var format: OfferReceiptFormat { get }
    /// The signer's identity for logs and documentation (an address or a `did:key`); never secret.
    var signerID: String { get }
    /// The signature string for `payload`: `0x` + 65-byte hex (EIP-712) or a compact JWS.
    func signature(for payload: some OfferReceiptPayload) async throws -> String
}

extension OfferReceiptSigner {
    /// Signs an offer.
    public func sign(offer payload: OfferPayload, acceptIndex: Int?) async throws -> SignedOffer {
        let signature = try await signature(for: payload)
        switch format {
        case .eip712: return SignedOffer(eip712: payload, signature: signature, acceptIndex: acceptIndex)
        case .jws: return try SignedOffer(jws: signature, acceptIndex: acceptIndex)
        }
    }

    /// Signs a receipt.
    public func sign(receipt payload: ReceiptPayload) async throws -> SignedReceipt {
        let signature = try await signature(for: payload)
        switch format {
        case .eip712: return SignedReceipt(eip712: payload, signature: signature)
        case .jws: return try SignedReceipt(jws: signature)
        }
    }
}

/// A private key that signs JWS signing inputs.
public protocol JWSSigningKey: Sendable {
    /// The JWS `alg`, e.g. `ES256K` or `EdDSA`.
    var algorithm: String { get }
    /// The public key as a `did:key` (its DID URL is the JWS `kid`).
    var didKey: DIDKey { get }
    /// The raw JWS signature over `signingInput` (`ES256K`: 64 bytes r ‖ s; `EdDSA`: 64 bytes).
    func sign(_ signingInput: [UInt8]) throws -> [UInt8]
}

/// Signs offers and receipts as compact JWS: header `{"alg", "kid"}`, JCS payload, base64url.
public struct JWSOfferReceiptSigner: OfferReceiptSigner {
    /// The signing key.
    public let key: any JWSSigningKey
    /// The `kid` put in the header; default: the key's `did:key` DID URL.
    public let keyID: String

    /// A JWS signer.
    ///
    /// - Parameters:
    ///   - key: The signing key.
    ///   - keyID: The header's `kid` (default: the key's `did:key` URL, which verifiers resolve offline).
    public init(key: any JWSSigningKey, keyID: String? = nil) {
        self.key = key
        self.keyID = keyID ?? key.didKey.keyID
    }

    public var format: OfferReceiptFormat { .jws }
    public var signerID: String { key.didKey.did }

    public func signature(for payload: some OfferReceiptPayload) async throws -> String {
        let input = CompactJWS.signingInput(algorithm: key.algorithm, keyID: keyID, payload: payload.jwsMembers)
        let signature = try key.sign(input)
        return String(decoding: input, as: UTF8.self) + "." + Base64URL.encode(signature)
    }
}

extension CompactJWS {
    /// SHA-256, for the `ES256`/`ES256K` algorithms of the chain modules.
    package static func sha256(_ bytes: [UInt8]) -> [UInt8] { SHA256.hash(bytes) }
}
