public import Foundation

/// Verifies sign-in signatures of one CAIP-2 namespace (`eip155`, `solana`). Register one per
/// namespace in ``SignInWithX/Server/verifiers``: the EVM verifier lives in `X402EVM`, a Solana
/// (Ed25519) one can be added beside it.
public protocol SignInSignatureVerifier: Sendable {
    /// The CAIP-2 namespace this verifier handles, e.g. `eip155`.
    var namespace: String { get }
    /// Checks that `proof.address` signed `message` (the text rebuilt from the proof's fields).
    ///
    /// - Returns: The account that signed, in the canonical form the access store keys on
    ///   (lower-case hex for EVM), or the failure with its `invalid_siwx_*` reason.
    func verify(_ proof: SignInWithXProof, message: String) async -> Result<String, SignInWithXFailure>
}

/// Who may sign in to a route instead of paying.
public enum SignInAccess: Sendable, Hashable {
    /// A wallet that paid for the resource signs in instead of paying again, for `period` after
    /// its payment (`nil`: for as long as the access store keeps the record).
    case afterPayment(period: Duration?)
    /// Any wallet that signs in is served; the route takes no payment (`accepts` is empty).
    case authOnly
}

/// One grant of access: an account that may sign in to a resource path until a time.
public struct SignInGrant: Sendable, Hashable {
    /// The canonical request path the grant is for.
    public var resource: String
    /// The account (lower-case for EVM).
    public var account: String
    /// When the grant ends.
    public var expiresAt: Date

    /// The form accounts are compared in: `0x` hex (EVM) lower-cased, anything else (base58 is
    /// case-sensitive) unchanged.
    public static func canonicalAccount(_ account: String) -> String {
        account.hasPrefix("0x") || account.hasPrefix("0X") ? account.lowercased() : account
    }

    /// A grant.
    public init(resource: String, account: String, expiresAt: Date) {
        self.resource = resource
        self.account = account
        self.expiresAt = expiresAt
    }
}

/// The record of "who paid for what, until when", and of used sign-in nonces: shared by every
/// instance of a seller (in memory here; SQLite and PostgreSQL in their modules).
public protocol SignInAccessStore: Sendable {
    /// Records that `grant.account` paid for `grant.resource`; a later expiry replaces an earlier one.
    func recordGrant(_ grant: SignInGrant) async throws(PaymentStateStoreError)
    /// Whether `account` may sign in to `resource` at `now`.
    func hasAccess(resource: String, account: String, now: Date) async throws(PaymentStateStoreError) -> Bool
    /// Atomically marks `nonce` used until `expiresAt`. Returns `false` when it was already used
    /// (a replay). Records past their expiry may be dropped.
    func consumeNonce(_ nonce: String, expiresAt: Date, now: Date) async throws(PaymentStateStoreError) -> Bool
}

/// A ``SignInAccessStore`` in this process's memory: for one instance; several instances share a
/// database store.
public actor InMemorySignInAccessStore: SignInAccessStore {
    private var grants: [String: Date] = [:]
    private var nonces: [String: Date] = [:]
    private var lastPrune = Date.distantPast

    /// An empty store.
    public init() {}

    private static func key(_ resource: String, _ account: String) -> String { "\(SignInGrant.canonicalAccount(account))|\(resource)" }

    public func recordGrant(_ grant: SignInGrant) {
        let key = Self.key(grant.resource, grant.account)
        grants[key] = max(grants[key] ?? .distantPast, grant.expiresAt)
    }

    public func hasAccess(resource: String, account: String, now: Date) -> Bool {
        guard let until = grants[Self.key(resource, account)] else { return false }
        return until > now
    }

    public func consumeNonce(_ nonce: String, expiresAt: Date, now: Date) -> Bool {
        prune(now: now)
        if let until = nonces[nonce], until > now { return false }
        nonces[nonce] = expiresAt
        return true
    }

    private func prune(now: Date) {
        guard now.timeIntervalSince(lastPrune) > 30 else { return }
        lastPrune = now
        nonces = nonces.filter { $0.value > now }
        grants = grants.filter { $0.value > now }
    }
}

extension SignInWithX {
    /// A seller's sign-in settings: the origin proofs must be bound to, the verifiers, the access
    /// store, and the challenge's wording and lifetime. Set it as
    /// `ResourceServer.Configuration.signInWithX`; routes opt in with `PaidRoute.signIn`.
    public struct Server: Sendable {
        /// The seller's public origin, `scheme://host[:port]`. Proofs must name its authority as
        /// `domain` and a URI on it. Configured, never read from the request (a `Host` header is
        /// the client's to choose).
        public let origin: String
        /// `domain`: the origin's authority (host, and port when given).
        public let domain: String
        /// One verifier per chain namespace.
        public var verifiers: [any SignInSignatureVerifier]
        /// Grants and used nonces.
        public var store: any SignInAccessStore
        /// The challenge's `statement`, if any.
        public var statement: String?
        /// How long a challenge is valid (`expirationTime` = `issuedAt` + this); `nil` sends none.
        public var challengeLifetime: Duration?
        /// The oldest `issuedAt` accepted (default five minutes).
        public var maximumAge: Duration
        /// The chains offered in `supportedChains` (CAIP-2, in order); empty offers the networks
        /// of the route's `accepts`. Needed for auth-only routes, which have no networks.
        public var chains: [String]

        /// Sign-in settings.
        ///
        /// - Parameters:
        ///   - origin: `scheme://host[:port]` of the seller as its clients reach it (no path).
        ///   - verifiers: One verifier per chain namespace (e.g. `EVMSignInVerifier()`).
        ///   - store: The access store (default: in memory).
        ///   - statement: The challenge's statement.
        ///   - challengeLifetime: `expirationTime` after `issuedAt` (default 5 minutes).
        ///   - maximumAge: The oldest `issuedAt` accepted (default 5 minutes).
        ///   - chains: CAIP-2 chains offered for sign-in (default: the route's networks).
        /// - Throws: ``SignInWithXFailure`` when `origin` is not an http(s) origin.
        public init(
            origin: String, verifiers: [any SignInSignatureVerifier], store: any SignInAccessStore = InMemorySignInAccessStore(),
            statement: String? = nil, challengeLifetime: Duration? = .seconds(300), maximumAge: Duration = .seconds(300), chains: [String] = []
        ) throws(SignInWithXFailure) {
            guard let (normalized, authority) = SignInOrigin.normalize(origin) else {
                throw SignInWithXFailure(.siwxURIMismatch, "the sign-in origin must be http(s)://host[:port] without path, query or credentials")
            }
            self.origin = normalized
            self.domain = authority
            self.verifiers = verifiers
            self.store = store
            self.statement = statement
            self.challengeLifetime = challengeLifetime
            self.maximumAge = maximumAge
            self.chains = chains
        }

        /// The `sign-in-with-x` declaration for one 402: a fresh nonce and times.
        ///
        /// - Parameters:
        ///   - path: The request path (appended to ``origin`` for `uri` and `resources`).
        ///   - networks: The chains to offer when ``chains`` is empty.
        ///   - now: The issue time.
        /// - Returns: The extension object (`info`, `supportedChains`, `schema`).
        public func declaration(path: String, networks: [String], now: Date = Date()) -> JSONValue {
            let uri = origin + (path.hasPrefix("/") ? path : "/" + path)
            var info = JSONObject()
            info.appendUnchecked("domain", .string(domain))
            info.appendUnchecked("uri", .string(uri))
            info.appendUnchecked("version", "1")
            info.appendUnchecked("nonce", .string(SignInNonce.make()))
            info.appendUnchecked("issuedAt", .string(SignInTime.format(now)))
            if let lifetime = challengeLifetime {
                info.appendUnchecked("expirationTime", .string(SignInTime.format(now.addingTimeInterval(lifetime.timeInterval))))
            }
            if let statement { info.appendUnchecked("statement", .string(statement)) }
            info.appendUnchecked("resources", .array([.string(uri)]))
            let supported: [JSONValue] = offeredChains(networks: networks).map { chain in
                .object(["chainId": .string(chain), "type": .string(SignInSignatureType.forChain(chain).rawValue)])
            }
            return .object(["info": .object(info), "supportedChains": .array(supported), "schema": SignInWithX.proofSchema])
        }

        /// The chains offered for sign-in, in order: ``chains``, or when empty the route's
        /// `networks`, each only when a verifier handles its namespace.
        ///
        /// - Parameter networks: The route's accepted networks (CAIP-2).
        public func offeredChains(networks: [String]) -> [String] {
            var offered: [String] = []
            for chain in chains.isEmpty ? networks : chains where !offered.contains(chain) {
                let namespace = chain.split(separator: ":", maxSplits: 1).first.map(String.init) ?? ""
                if verifiers.contains(where: { $0.namespace == namespace }) { offered.append(chain) }
            }
            return offered
        }

        /// Checks a proof's binding and times (steps 2–5 of the spec) before its signature.
        ///
        /// - Throws: ``SignInWithXFailure`` with the reference reason.
        public func validate(_ proof: SignInWithXProof, now: Date) throws(SignInWithXFailure) {
            guard proof.domain == domain else { throw SignInWithXFailure(.siwxDomainMismatch, "domain mismatch: expected \(domain)") }
            guard let (proofOrigin, _) = SignInOrigin.of(uri: proof.uri), proofOrigin == origin else {
                throw SignInWithXFailure(.siwxURIMismatch, "uri is not on \(origin)")
            }
            guard proof.version == "1" else { throw SignInWithXFailure(.siwxInvalidPayload, "version must be 1") }
            guard let issued = SignInTime.parse(proof.issuedAt) else { throw SignInWithXFailure(.siwxIssuedAt, "invalid issuedAt timestamp") }
            let age = now.timeIntervalSince(issued)
            guard age <= maximumAge.timeInterval else { throw SignInWithXFailure(.siwxIssuedAtTooOld, "message too old") }
            // Instances sharing the access store may disagree on the time by a little.
            guard age >= -Self.clockSkew else { throw SignInWithXFailure(.siwxIssuedAtInFuture, "issuedAt is in the future") }
            if let text = proof.expirationTime {
                guard let expiry = SignInTime.parse(text) else { throw SignInWithXFailure(.siwxExpirationTime, "invalid expirationTime timestamp") }
                guard expiry >= now else { throw SignInWithXFailure(.siwxExpired, "message expired") }
            }
            if let text = proof.notBefore {
                guard let notBefore = SignInTime.parse(text) else { throw SignInWithXFailure(.siwxNotBefore, "invalid notBefore timestamp") }
                guard now >= notBefore else { throw SignInWithXFailure(.siwxNotYetValid, "message not yet valid") }
            }
            guard SignInNonce.isWellFormed(proof.nonce) else {
                throw SignInWithXFailure(.siwxNonce, "nonce must be 8 to 128 alphanumeric characters")
            }
        }

        /// Validates and verifies a proof: binding, times, chain, signature (by the namespace's
        /// verifier). Does not consume the nonce.
        ///
        /// - Parameters:
        ///   - proof: The decoded proof.
        ///   - now: The time to check against.
        ///   - networks: The route's accepted networks: the proof's chain must be one of
        ///     ``offeredChains(networks:)`` (`invalid_siwx_unsupported_chain` otherwise). `nil`
        ///     accepts any chain a verifier handles.
        /// - Returns: The signing account (canonical form).
        /// - Throws: ``SignInWithXFailure`` with the reference reason.
        public func verify(_ proof: SignInWithXProof, now: Date, networks: [String]? = nil) async throws(SignInWithXFailure) -> String {
            try validate(proof, now: now)
            if let networks, !offeredChains(networks: networks).contains(proof.chainID) {
                throw SignInWithXFailure(.siwxUnsupportedChain, "chain \(proof.chainID) is not offered for sign-in here")
            }
            let namespace = proof.chainID.split(separator: ":", maxSplits: 1).first.map(String.init) ?? ""
            guard proof.chainID.contains(":"), let verifier = verifiers.first(where: { $0.namespace == namespace }) else {
                throw SignInWithXFailure(.siwxUnsupportedChain, "no verifier for chain namespace \(namespace)")
            }
            guard SignInSignatureType.forChain(proof.chainID) == proof.type else {
                throw SignInWithXFailure(.siwxUnsupportedChain, "signature type \(proof.type) does not fit chain \(proof.chainID)")
            }
            let message = try SignInMessage.text(proof.fields, address: proof.address)
            return try await verifier.verify(proof, message: message).get()
        }

        /// How far in the future an `issuedAt` may be (clock differences between the instance that
        /// issued the challenge and the one checking the proof): 5 seconds.
        public static let clockSkew: TimeInterval = 5

        /// How long a used nonce must be remembered: until a proof carrying it is too old anyway.
        func nonceRetention(_ proof: SignInWithXProof, now: Date) -> Date {
            let issued = SignInTime.parse(proof.issuedAt) ?? now
            return max(issued.addingTimeInterval(maximumAge.timeInterval), now).addingTimeInterval(1)
        }
    }

    /// The JSON Schema of the client proof sent as the declaration's `schema`.
    public static let proofSchema: JSONValue = {
        func string(_ format: String? = nil) -> JSONValue {
            format.map { .object(["type": "string", "format": .string($0)]) } ?? .object(["type": "string"])
        }
        let properties: JSONObject = [
            "domain": string(), "address": string(), "statement": string(), "uri": string("uri"), "version": string(),
            "chainId": string(), "type": string(), "nonce": string(), "issuedAt": string("date-time"),
            "expirationTime": string("date-time"), "notBefore": string("date-time"), "requestId": string(),
            "resources": .object(["type": "array", "items": string("uri")]), "signature": string(),
        ]
        return .object([
            "$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object", "properties": .object(properties),
            "required": ["domain", "address", "uri", "version", "chainId", "type", "nonce", "issuedAt", "signature"],
        ])
    }()
}

/// Sign-in nonces: 16 random bytes as 32 lower-case hex digits.
enum SignInNonce {
    static func make() -> String {
        var rng = SystemRandomNumberGenerator()
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for _ in 0..<16 {
            let b = UInt8.random(in: 0...255, using: &rng)
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 15)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// EIP-4361's rule: at least 8 alphanumeric characters (bounded here at 128).
    static func isWellFormed(_ nonce: String) -> Bool {
        let u = nonce.utf8
        return u.count >= 8 && u.count <= 128
            && u.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) }
    }
}

/// Origins as sign-in compares them: `scheme://authority`, scheme and host lower-cased, the port
/// kept as written (the reference SDKs compare the URL's network location).
enum SignInOrigin {
    /// A configured origin, normalized, and its authority; `nil` unless `http(s)://authority[/]`.
    static func normalize(_ text: String) -> (String, String)? {
        var t = text
        if t.hasSuffix("/") { t.removeLast() }
        guard let (origin, authority) = of(uri: t), origin.count == t.count || origin.lowercased() == t.lowercased() else { return nil }
        return (origin, authority)
    }

    /// The origin and authority of an absolute http(s) URI; `nil` when it has none or carries
    /// credentials.
    static func of(uri: String) -> (String, String)? {
        guard uri.utf8.count <= SignInWithX.maximumFieldLength, let sep = uri.range(of: "://") else { return nil }
        let scheme = uri[..<sep.lowerBound].lowercased()
        guard scheme == "http" || scheme == "https" else { return nil }
        let rest = uri[sep.upperBound...]
        let end = rest.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? rest.endIndex
        let authority = rest[..<end]
        guard !authority.isEmpty, !authority.contains("@"),
            authority.unicodeScalars.allSatisfy({ $0.isASCII && ($0.properties.isAlphabetic || "0123456789.-:[]".unicodeScalars.contains($0)) })
        else { return nil }
        let lowered = authority.lowercased()
        return ("\(scheme)://\(lowered)", lowered)
    }
}
