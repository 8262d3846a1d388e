public import Foundation

/// Recovers the signer of an EIP-712 offer or receipt (implemented in `X402EVM`).
public protocol EIP712OfferReceiptRecovering: Sendable {
    /// The lowercase `0x` address that signed `payload` with `signature`, or `nil` when the
    /// signature is malformed, high-s, or recovers no key.
    func recoverSigner(of payload: some OfferReceiptPayload, signature: String) -> String?
}

/// Verifies JWS signatures of one algorithm against a raw public key (implemented in the chain
/// modules: `ES256K` in `X402EVM`, `EdDSA` in `X402Solana`).
public protocol JWSSignatureVerifying: Sendable {
    /// The JWS `alg` handled.
    var algorithm: String { get }
    /// The key type of the algorithm.
    var keyType: DIDKey.KeyType { get }
    /// Whether `signature` signs `signingInput` under `publicKey`.
    func isValid(signature: [UInt8], signingInput: [UInt8], publicKey: DIDKey) -> Bool
}

/// Who signed an offer or receipt.
public enum OfferReceiptSignerID: Sendable, Hashable, CustomStringConvertible {
    /// An EVM account (lowercase `0x` address), recovered from an EIP-712 signature.
    case address(String)
    /// A public key (JWS).
    case key(DIDKey)

    public var description: String {
        switch self {
        case .address(let a): a
        case .key(let k): k.did
        }
    }

    /// Parses a lowercase or checksummed `0x` address or a `did:key`.
    public init?(_ text: String) {
        if text.hasPrefix("did:key:") {
            guard let key = try? DIDKey(text) else { return nil }
            self = .key(key)
        } else if OfferReceiptSignerID.isAddress(text) {
            self = .address(text.lowercased())
        } else {
            return nil
        }
    }

    static func isAddress(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard bytes.count == 42, bytes[0] == 0x30, bytes[1] == 0x78 else { return false }
        return bytes[2...].allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) || ($0 >= 0x41 && $0 <= 0x46) }
    }
}

/// The outcome of checking a signature and its signer.
public enum OfferReceiptStatus: String, Sendable, Hashable, CustomStringConvertible {
    /// The signature is valid and made by the expected signer (a pinned key or address, or, by
    /// default, the offer's `payTo` / the signer of the offer that was paid).
    case verified
    /// The signature is valid but its signer is not the expected one.
    case unexpectedSigner = "unexpected-signer"
    /// The signature is valid; nothing was configured or known to compare its signer with.
    case unpinned
    /// The signature does not verify (tampered, wrong key, malformed).
    case invalid
    /// The signature could not be checked: unsupported `alg`, or a `kid` that cannot be resolved
    /// offline (`did:web`, `did:jwk`) and no pinned key.
    case unverifiable

    public var description: String { rawValue }

    /// A signature that must not be relied on: ``invalid`` or ``unexpectedSigner``.
    public var isBad: Bool { self == .invalid || self == .unexpectedSigner }
}

/// The verdict on one signed offer or receipt.
public struct OfferReceiptVerification: Sendable, Hashable, CustomStringConvertible {
    /// The verdict.
    public var status: OfferReceiptStatus
    /// The signer, when the signature verified.
    public var signer: OfferReceiptSignerID?
    /// Why, in words.
    public var detail: String

    /// A verdict from its parts.
    public init(status: OfferReceiptStatus, signer: OfferReceiptSignerID?, detail: String) {
        self.status = status
        self.signer = signer
        self.detail = detail
    }

    public var description: String { signer.map { "\(status) (\($0)): \(detail)" } ?? "\(status): \(detail)" }
}

/// The signers a buyer trusts: pinned addresses (EIP-712) and keys (JWS).
public struct OfferReceiptTrust: Sendable, Hashable {
    /// Pinned signers; empty: none pinned.
    public var signers: Set<OfferReceiptSignerID>

    /// Trust in `signers` (default: none pinned).
    public init(signers: Set<OfferReceiptSignerID> = []) { self.signers = signers }

    /// Nothing pinned.
    public static let none = OfferReceiptTrust()
}

/// Verifies signed offers and receipts and matches them to what was offered and paid (spec §4.6).
///
/// The signer is judged against, in order: the pinned ``trust`` signers; otherwise the
/// `expected` signers the caller knows (an offer's `payTo` for EIP-712 offers, the signer of the
/// paid offer for its receipt). A JWS is checked with the key its `kid` names when that is a
/// `did:key`, otherwise with the pinned keys of its algorithm.
public struct OfferReceiptVerifier: Sendable {
    /// EIP-712 recovery (nil: EIP-712 objects are ``OfferReceiptStatus/unverifiable``).
    public var eip712: (any EIP712OfferReceiptRecovering)?
    /// JWS algorithms by `alg`.
    public var jws: [String: any JWSSignatureVerifying]
    /// Pinned signers.
    public var trust: OfferReceiptTrust

    /// A verifier.
    ///
    /// - Parameters:
    ///   - eip712: EIP-712 signer recovery.
    ///   - jws: The JWS algorithms supported.
    ///   - trust: Pinned signers (default: none).
    public init(eip712: (any EIP712OfferReceiptRecovering)?, jws: [any JWSSignatureVerifying], trust: OfferReceiptTrust = .none) {
        self.eip712 = eip712
        var byAlgorithm: [String: any JWSSignatureVerifying] = [:]
        for verifier in jws { byAlgorithm[verifier.algorithm] = verifier }
        self.jws = byAlgorithm
        self.trust = trust
    }

    /// Checks the signature of `object` and judges its signer.
    ///
    /// - Parameters:
    ///   - object: The signed offer or receipt.
    ///   - expected: Signers that are right for this object when nothing is pinned.
    public func verify<P>(_ object: SignedPayload<P>, expected: Set<OfferReceiptSignerID> = []) -> OfferReceiptVerification {
        let signer: OfferReceiptSignerID
        switch object.format {
        case .eip712:
            guard let eip712 else { return OfferReceiptVerification(status: .unverifiable, signer: nil, detail: "EIP-712 is not supported here") }
            guard let address = eip712.recoverSigner(of: object.payload, signature: object.signature) else {
                return OfferReceiptVerification(status: .invalid, signer: nil, detail: "the EIP-712 signature recovers no valid signer")
            }
            signer = .address(address)
        case .jws:
            guard let jws = object.jws else { return OfferReceiptVerification(status: .invalid, signer: nil, detail: "no JWS") }
            guard let algorithm = self.jws[jws.algorithm] else {
                return OfferReceiptVerification(status: .unverifiable, signer: nil, detail: "unsupported JWS alg \(jws.algorithm)")
            }
            if let kid = jws.keyID, kid.hasPrefix("did:key:") {
                guard let key = try? DIDKey(kid) else {
                    return OfferReceiptVerification(status: .invalid, signer: nil, detail: "the JWS kid is not a valid did:key")
                }
                guard key.type == algorithm.keyType else {
                    return OfferReceiptVerification(status: .invalid, signer: nil, detail: "the kid's key type does not match alg \(jws.algorithm)")
                }
                guard algorithm.isValid(signature: jws.signature, signingInput: jws.signingInput, publicKey: key) else {
                    return OfferReceiptVerification(status: .invalid, signer: nil, detail: "the JWS signature does not verify under its kid")
                }
                signer = .key(key)
            } else {
                let pinned = trust.signers.compactMap { id -> DIDKey? in
                    if case .key(let k) = id, k.type == algorithm.keyType { k } else { nil }
                }
                guard !pinned.isEmpty else {
                    return OfferReceiptVerification(
                        status: .unverifiable, signer: nil,
                        detail: "the kid \(jws.keyID ?? "(none)") cannot be resolved offline; pin the seller's key")
                }
                guard let key = pinned.first(where: { algorithm.isValid(signature: jws.signature, signingInput: jws.signingInput, publicKey: $0) })
                else {
                    return OfferReceiptVerification(status: .invalid, signer: nil, detail: "the JWS signature does not verify under the pinned keys")
                }
                signer = .key(key)
            }
        }
        if !trust.signers.isEmpty {
            return trust.signers.contains(signer)
                ? OfferReceiptVerification(status: .verified, signer: signer, detail: "signed by a pinned signer")
                : OfferReceiptVerification(status: .unexpectedSigner, signer: signer, detail: "not signed by a pinned signer")
        }
        if expected.isEmpty {
            return OfferReceiptVerification(status: .unpinned, signer: signer, detail: "valid signature; no signer pinned to compare with")
        }
        return expected.contains(signer)
            ? OfferReceiptVerification(status: .verified, signer: signer, detail: "signed by the expected signer")
            : OfferReceiptVerification(status: .unexpectedSigner, signer: signer, detail: "not signed by the expected signer")
    }

    /// Checks an offer; an EIP-712 offer is expected to be signed by its `payTo` (spec §4.6).
    public func verify(offer: SignedOffer) -> OfferReceiptVerification {
        var expected: Set<OfferReceiptSignerID> = []
        if offer.format == .eip712, let payTo = OfferReceiptSignerID(offer.payload.payTo), case .address = payTo { expected.insert(payTo) }
        return verify(offer, expected: expected)
    }
}

/// How a receipt or an offer disagrees with what the buyer expected.
public enum OfferReceiptMismatch: Sendable, Hashable, CustomStringConvertible {
    /// The receipt names another resource.
    case resourceURL(expected: String, found: String)
    /// The receipt names another network.
    case network(expected: String, found: String)
    /// The receipt's payer is none of the buyer's addresses.
    case payer(found: String)
    /// The receipt names another transaction than the settlement.
    case transaction(expected: String, found: String)
    /// `issuedAt` lies further in the future than the allowed clock skew.
    case issuedInFuture(issuedAt: UInt64)
    /// `issuedAt` is older than the allowed age.
    case tooOld(issuedAt: UInt64)
    /// The offer's `validUntil` has passed.
    case offerExpired(validUntil: UInt64)

    public var description: String {
        switch self {
        case .resourceURL(let e, let f): "resourceUrl \(f) is not \(e)"
        case .network(let e, let f): "network \(f) is not \(e)"
        case .payer(let f): "payer \(f) is not one of the buyer's addresses"
        case .transaction(let e, let f): "transaction \(f) is not \(e)"
        case .issuedInFuture(let t): "issuedAt \(t) lies in the future"
        case .tooOld(let t): "issuedAt \(t) is too old"
        case .offerExpired(let t): "the offer expired at \(t)"
        }
    }
}

extension OfferReceipt {
    /// The offer signed for `requirement` (spec §4.6): the one at its `acceptIndex` hint when that
    /// matches, otherwise the first whose network, scheme, asset, payTo and amount all match.
    ///
    /// - Returns: The offer, or `nil` when none was signed for it.
    public static func offer(for requirement: PaymentRequirements, in offers: [SignedOffer], index: Int? = nil) -> SignedOffer? {
        func matches(_ o: OfferPayload) -> Bool {
            o.network == requirement.network.identifier && o.scheme == requirement.scheme
                && o.asset.lowercased() == requirement.asset.lowercased() && o.payTo.lowercased() == requirement.payTo.lowercased()
                && o.amount == requirement.amount
        }
        if let index, let hinted = offers.first(where: { $0.acceptIndex == index }), matches(hinted.payload) { return hinted }
        return offers.first { matches($0.payload) }
    }

    /// The problems of an offer's validity at `now` (an expired `validUntil`, with clock skew).
    public static func problems(of offer: OfferPayload, now: Date) -> [OfferReceiptMismatch] {
        guard let until = offer.validUntil else { return [] }
        let skew = UInt64(OfferReceipt.allowedClockSkew.components.seconds)
        return now.timeIntervalSince1970 > Double(until + skew) ? [.offerExpired(validUntil: until)] : []
    }

    /// How a receipt disagrees with the payment it should prove (spec §4.6): the resource, the
    /// network, the payer (case-insensitive, one of `payers`), the transaction when both sides
    /// know it, and an `issuedAt` within `maximumAge` before `now` (and not in the future).
    ///
    /// The receipt payload carries no amount: the amount is bound through the offer that was paid.
    ///
    /// - Returns: The mismatches; empty when the receipt matches.
    public static func problems(
        of receipt: ReceiptPayload, resourceURL: String, network: String, payers: [String], transaction: String?, now: Date,
        maximumAge: Duration? = OfferReceipt.defaultReceiptMaximumAge
    ) -> [OfferReceiptMismatch] {
        var problems: [OfferReceiptMismatch] = []
        if receipt.resourceUrl != resourceURL { problems.append(.resourceURL(expected: resourceURL, found: receipt.resourceUrl)) }
        if receipt.network != network { problems.append(.network(expected: network, found: receipt.network)) }
        if !payers.contains(where: { $0.lowercased() == receipt.payer.lowercased() }) { problems.append(.payer(found: receipt.payer)) }
        if let expected = transaction, !expected.isEmpty, let found = receipt.transaction, found.lowercased() != expected.lowercased() {
            problems.append(.transaction(expected: expected, found: found))
        }
        let seconds = now.timeIntervalSince1970
        let skew = Double(OfferReceipt.allowedClockSkew.components.seconds)
        if Double(receipt.issuedAt) > seconds + skew { problems.append(.issuedInFuture(issuedAt: receipt.issuedAt)) }
        if let maximumAge, Double(receipt.issuedAt) < seconds - Double(maximumAge.components.seconds) {
            problems.append(.tooOld(issuedAt: receipt.issuedAt))
        }
        return problems
    }
}
