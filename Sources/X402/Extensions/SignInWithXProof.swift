public import Foundation

/// The `sign-in-with-x` extension (CAIP-122 wallet sign-in): names and limits.
public enum SignInWithX {
    /// The key of the extension in `PaymentRequired.extensions`.
    public static let extensionKey = "sign-in-with-x"
    /// The request header carrying the client's proof (base64 JSON).
    public static let headerName = "SIGN-IN-WITH-X"
    /// The longest proof header read (checked before any decoding work).
    public static let maximumHeaderLength = 8 * 1024
    /// The longest text accepted in any one proof field (a statement, a URI, a resource).
    public static let maximumFieldLength = 1024
    /// The most `resources` entries accepted in a proof.
    public static let maximumResources = 16
}

/// The signature type of a sign-in chain: `eip191` for `eip155:*`, `ed25519` for `solana:*`.
public struct SignInSignatureType: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    /// EIP-191 `personal_sign` (EVM accounts; contract wallets through ERC-1271).
    public static let eip191 = SignInSignatureType(rawValue: "eip191")
    /// Ed25519 over the UTF-8 message (Solana accounts).
    public static let ed25519 = SignInSignatureType(rawValue: "ed25519")
    public var description: String { rawValue }

    /// The type a CAIP-2 chain id signs with: `ed25519` for `solana:*`, otherwise `eip191`.
    public static func forChain(_ chainID: String) -> SignInSignatureType {
        chainID.hasPrefix("solana:") ? .ed25519 : .eip191
    }
}

/// The client's proof, sent base64-encoded in the `SIGN-IN-WITH-X` header: the server's challenge
/// with the client's chain, address and signature.
public struct SignInWithXProof: Sendable, Hashable, JSONRepresentable {
    /// The authority (host, and port when not the default) the proof is for.
    public var domain: String
    /// The signing account: EIP-55 address (EVM) or base58 public key (Solana).
    public var address: String
    public var statement: String?
    /// The resource URI.
    public var uri: String
    /// Always `"1"`.
    public var version: String
    /// The CAIP-2 chain, e.g. `eip155:8453`.
    public var chainID: String
    /// `eip191` or `ed25519`.
    public var type: SignInSignatureType
    public var nonce: String
    /// ISO-8601 time the challenge was issued.
    public var issuedAt: String
    public var expirationTime: String?
    public var notBefore: String?
    public var requestID: String?
    public var resources: [String]?
    /// Optional hint: `eip191`, `eip1271`, `eip6492`, `siws`.
    public var signatureScheme: String?
    /// EVM: `0x` + 65-byte hex; Solana: base58 of 64 bytes.
    public var signature: String

    /// A proof from its fields.
    public init(
        domain: String, address: String, statement: String? = nil, uri: String, version: String = "1", chainID: String,
        type: SignInSignatureType, nonce: String, issuedAt: String, expirationTime: String? = nil, notBefore: String? = nil,
        requestID: String? = nil, resources: [String]? = nil, signatureScheme: String? = nil, signature: String
    ) {
        self.domain = domain
        self.address = address
        self.statement = statement
        self.uri = uri
        self.version = version
        self.chainID = chainID
        self.type = type
        self.nonce = nonce
        self.issuedAt = issuedAt
        self.expirationTime = expirationTime
        self.notBefore = notBefore
        self.requestID = requestID
        self.resources = resources
        self.signatureScheme = signatureScheme
        self.signature = signature
    }

    public init(json: JSONValue) throws(MessageDecodingError) {
        let r = try JSONReader(json)
        func bounded(_ key: String, _ value: String) throws(MessageDecodingError) -> String {
            guard value.utf8.count <= SignInWithX.maximumFieldLength else {
                throw MessageDecodingError(path: key, problem: .invalidValue("longer than \(SignInWithX.maximumFieldLength) bytes"))
            }
            return value
        }
        func text(_ key: String) throws(MessageDecodingError) -> String { try bounded(key, try r.string(key)) }
        func optionalText(_ key: String) throws(MessageDecodingError) -> String? {
            guard let value = try r.optionalString(key) else { return nil }
            return try bounded(key, value)
        }
        domain = try text("domain")
        address = try text("address")
        statement = try optionalText("statement")
        uri = try text("uri")
        version = try text("version")
        chainID = try text("chainId")
        let type = try r.string("type")
        guard type == SignInSignatureType.eip191.rawValue || type == SignInSignatureType.ed25519.rawValue else {
            throw MessageDecodingError(path: "type", problem: .invalidValue("must be eip191 or ed25519"))
        }
        self.type = SignInSignatureType(rawValue: type)
        nonce = try text("nonce")
        issuedAt = try text("issuedAt")
        expirationTime = try optionalText("expirationTime")
        notBefore = try optionalText("notBefore")
        requestID = try optionalText("requestId")
        if let items = try r.optionalArray("resources") {
            guard items.count <= SignInWithX.maximumResources else {
                throw MessageDecodingError(path: "resources", problem: .invalidValue("more than \(SignInWithX.maximumResources) entries"))
            }
            var list: [String] = []
            for (i, item) in items.enumerated() {
                guard let s = item.stringValue else {
                    throw MessageDecodingError(path: "resources[\(i)]", problem: .wrongType(expected: "a string", found: item.typeName))
                }
                list.append(try bounded("resources[\(i)]", s))
            }
            resources = list
        } else {
            resources = nil
        }
        signatureScheme = try optionalText("signatureScheme")
        signature = try text("signature")
    }

    public var json: JSONValue {
        var w = JSONWriter()
        w.set("domain", domain)
        w.set("address", address)
        w.setIfPresent("statement", statement)
        w.set("uri", uri)
        w.set("version", version)
        w.set("chainId", chainID)
        w.set("type", type.rawValue)
        w.set("nonce", nonce)
        w.set("issuedAt", issuedAt)
        w.setIfPresent("expirationTime", expirationTime)
        w.setIfPresent("notBefore", notBefore)
        w.setIfPresent("requestId", requestID)
        if let resources { w.set("resources", .array(resources.map { .string($0) })) }
        w.setIfPresent("signatureScheme", signatureScheme)
        w.set("signature", signature)
        return w.value
    }

    /// Decodes a `SIGN-IN-WITH-X` header value (at most ``SignInWithX/maximumHeaderLength`` bytes).
    ///
    /// - Parameter headerValue: The base64 header value.
    /// - Throws: ``SignInWithXFailure`` with reason `invalid_siwx_payload`.
    public init(headerValue: some StringProtocol) throws(SignInWithXFailure) {
        let json: JSONValue
        do {
            json = try PaymentHeader.decodeJSON(headerValue, maximumLength: SignInWithX.maximumHeaderLength)
        } catch {
            throw SignInWithXFailure(.siwxInvalidPayload, "unreadable SIGN-IN-WITH-X header: \(error)")
        }
        do { try self.init(json: json) } catch { throw SignInWithXFailure(.siwxInvalidPayload, "invalid SIGN-IN-WITH-X proof: \(error)") }
    }

    /// The base64 value of the `SIGN-IN-WITH-X` header.
    public var headerValue: String { PaymentHeader.encode(json) }

    /// The fields the message is built from (the proof without its signature).
    public var fields: SignInFields {
        SignInFields(
            domain: domain, statement: statement, uri: uri, version: version, chainID: chainID, nonce: nonce, issuedAt: issuedAt,
            expirationTime: expirationTime, notBefore: notBefore, requestID: requestID, resources: resources)
    }
}

/// The signed fields of a sign-in message, without the account: what the server's challenge and
/// the client's chosen chain give.
public struct SignInFields: Sendable, Hashable {
    public var domain: String
    public var statement: String?
    public var uri: String
    public var version: String
    public var chainID: String
    public var nonce: String
    public var issuedAt: String
    public var expirationTime: String?
    public var notBefore: String?
    public var requestID: String?
    public var resources: [String]?

    /// Fields of a sign-in message.
    public init(
        domain: String, statement: String? = nil, uri: String, version: String = "1", chainID: String, nonce: String, issuedAt: String,
        expirationTime: String? = nil, notBefore: String? = nil, requestID: String? = nil, resources: [String]? = nil
    ) {
        self.domain = domain
        self.statement = statement
        self.uri = uri
        self.version = version
        self.chainID = chainID
        self.nonce = nonce
        self.issuedAt = issuedAt
        self.expirationTime = expirationTime
        self.notBefore = notBefore
        self.requestID = requestID
        self.resources = resources
    }
}

/// Why a sign-in proof was refused: a reference `invalid_siwx_*` reason and a message for people
/// (peer text in it is not escaped).
public struct SignInWithXFailure: Error, Sendable, Hashable, CustomStringConvertible {
    public var reason: ErrorReason
    public var message: String

    /// A failure with its reason and message.
    public init(_ reason: ErrorReason, _ message: String) {
        self.reason = reason
        self.message = message
    }

    public var description: String { "\(reason.rawValue): \(message)" }
}

extension ErrorReason {
    /// The `SIGN-IN-WITH-X` header is not base64 JSON of a proof (this package's own reason).
    public static let siwxInvalidPayload: ErrorReason = "invalid_siwx_payload"
    /// The proof's `domain` is not the server's.
    public static let siwxDomainMismatch: ErrorReason = "invalid_siwx_domain_mismatch"
    /// The proof's `uri` is not on the server's origin.
    public static let siwxURIMismatch: ErrorReason = "invalid_siwx_uri_mismatch"
    /// `issuedAt` is not an ISO-8601 time.
    public static let siwxIssuedAt: ErrorReason = "invalid_siwx_issued_at"
    /// `issuedAt` is older than the server accepts.
    public static let siwxIssuedAtTooOld: ErrorReason = "invalid_siwx_issued_at_too_old"
    /// `issuedAt` is in the future.
    public static let siwxIssuedAtInFuture: ErrorReason = "invalid_siwx_issued_at_in_future"
    /// `expirationTime` is not an ISO-8601 time.
    public static let siwxExpirationTime: ErrorReason = "invalid_siwx_expiration_time"
    /// `expirationTime` has passed.
    public static let siwxExpired: ErrorReason = "invalid_siwx_expired"
    /// `notBefore` is not an ISO-8601 time.
    public static let siwxNotBefore: ErrorReason = "invalid_siwx_not_before"
    /// `notBefore` has not come yet.
    public static let siwxNotYetValid: ErrorReason = "invalid_siwx_not_yet_valid"
    /// The nonce was already used, or is malformed.
    public static let siwxNonce: ErrorReason = "invalid_siwx_nonce"
    /// The signature does not prove the address signed the message.
    public static let siwxSignature: ErrorReason = "invalid_siwx_signature"
    /// The chain id is not of the form its namespace needs (`eip155:<decimal>`).
    public static let siwxChainID: ErrorReason = "invalid_siwx_chain_id"
    /// No verifier is registered for the chain's namespace, or the server does not offer it.
    public static let siwxUnsupportedChain: ErrorReason = "invalid_siwx_unsupported_chain"
    /// The signature (or address) is not of the expected encoding or length.
    public static let siwxMalformedSignature: ErrorReason = "invalid_siwx_malformed_signature"
    /// The verifier could not decide (e.g. the node for an ERC-1271 check did not answer).
    public static let siwxVerifierError: ErrorReason = "invalid_siwx_verifier_error"
}
