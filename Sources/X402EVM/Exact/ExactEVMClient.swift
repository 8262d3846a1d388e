import Foundation
public import X402

/// The buyer's side of `exact` on EVM: signs an EIP-3009 `TransferWithAuthorization` for exactly
/// the required amount.
///
/// The validity window is the server's `maxTimeoutSeconds`, capped at ``maxValiditySeconds``
/// (10 minutes by default): a signature is settleable by whoever holds it until `validBefore`,
/// so a server cannot make it live longer than the owner allows. With ``refusesLongerValidity``
/// a longer request is refused instead of capped.
///
/// ```swift
/// let client = ExactEVMClient(signer: try PrivateKey(hex: key))
/// ```
public struct ExactEVMClient: SchemeClient {
    public var scheme: String { "exact" }

    /// Signs the authorizations; its address is `authorization.from`.
    public let signer: any EVMSigner
    /// The time source of `validAfter` / `validBefore`.
    public var clock: UnixClock
    /// How far `validAfter` is back-dated to absorb clock skew (600 s, as every reference client).
    public var validAfterSkew: UInt64 = 600
    /// Validity used when the requirement has no (or a zero) `maxTimeoutSeconds` (Python's 3600 s),
    /// itself capped at ``maxValiditySeconds``.
    public var fallbackTimeoutSeconds: UInt64 = 3600
    /// The longest validity window signed, in seconds (default 600): `validBefore` is at most
    /// `now + maxValiditySeconds`, whatever the server asks.
    public var maxValiditySeconds: UInt64 = 600
    /// When `true`, a requirement whose `maxTimeoutSeconds` exceeds ``maxValiditySeconds`` is
    /// refused (``ExactEVMClientError/validityWindowTooLong(requested:cap:)``) instead of capped,
    /// for servers known to reject a shorter window. Default `false` (cap).
    public var refusesLongerValidity = false

    public init(signer: any EVMSigner, clock: UnixClock = .system, maxValiditySeconds: UInt64 = 600, refusesLongerValidity: Bool = false) {
        self.signer = signer
        self.clock = clock
        self.maxValiditySeconds = maxValiditySeconds
        self.refusesLongerValidity = refusesLongerValidity
    }

    public func createPayload(for requirements: PaymentRequirements, context: PaymentContext) async throws -> SchemePayload {
        SchemePayload(payload: try await signedPayload(for: requirements).json)
    }

    /// Builds and signs the payload for `requirements` (v2 form; v1 requirements are normalised
    /// by the core before reaching a scheme).
    public func signedPayload(for requirements: PaymentRequirements) async throws(ExactEVMClientError) -> ExactEVMPayload {
        let authorization = try authorization(for: requirements)
        let domain = try Self.domain(for: requirements)
        return ExactEVMPayload(authorization: authorization, signature: try await sign(authorization, in: domain))
    }

    /// The authorization this client would sign for `requirements`, with a fresh random nonce.
    public func authorization(for requirements: PaymentRequirements) throws(ExactEVMClientError) -> TransferWithAuthorization {
        if let method = requirements.extra?["assetTransferMethod"]?.stringValue, method != "eip3009" {
            throw .unsupportedTransferMethod(method)
        }
        guard let payTo = try? EthereumAddress(requirements.payTo, validatingChecksum: false) else { throw .invalidPayTo(requirements.payTo) }
        guard let value = ExactEVMPayload.parseUnsigned(requirements.amount), !requirements.amount.hasPrefix("0x") else {
            throw .invalidAmount(requirements.amount)
        }
        let now = clock.now
        let timeout = try validitySeconds(for: requirements)
        return TransferWithAuthorization(
            from: signer.address, to: payTo, value: value,
            validAfter: UInt256(now >= validAfterSkew ? now - validAfterSkew : 0),
            validBefore: UInt256(now) + UInt256(timeout), nonce: Bytes32.random())
    }

    /// The validity window signed for `requirements`: `min(maxTimeoutSeconds, cap)`, the
    /// fallback (also capped) when absent or zero.
    ///
    /// - Throws: ``ExactEVMClientError/validityWindowTooLong(requested:cap:)`` in strict mode.
    public func validitySeconds(for requirements: PaymentRequirements) throws(ExactEVMClientError) -> UInt64 {
        let cap = Swift.max(maxValiditySeconds, 1)
        guard let asked = requirements.maxTimeoutSeconds, asked > 0 else { return Swift.min(fallbackTimeoutSeconds, cap) }
        let requested = UInt64(asked)
        if requested > cap {
            if refusesLongerValidity { throw .validityWindowTooLong(requested: requested, cap: cap) }
            return cap
        }
        return requested
    }

    /// Signs `authorization` in `domain`; the result is `r ‖ s ‖ v` with `v` ∈ {27, 28}.
    public func sign(_ authorization: TransferWithAuthorization, in domain: EIP712Domain) async throws(ExactEVMClientError) -> [UInt8] {
        do {
            return try await signer.sign(digest: authorization.digest(in: domain)).bytes
        } catch {
            throw .signingFailed(String(describing: type(of: error)))
        }
    }

    /// The token's EIP-712 domain: `extra.name`, `extra.version`, the network's chain id and the asset.
    public static func domain(for requirements: PaymentRequirements) throws(ExactEVMClientError) -> EIP712Domain {
        guard let name = requirements.extra?["name"]?.stringValue, let version = requirements.extra?["version"]?.stringValue else {
            throw .missingEIP712Domain
        }
        guard let chainID = requirements.network.chainID else { throw .unsupportedNetwork(requirements.network.identifier) }
        guard let asset = try? EthereumAddress(requirements.asset, validatingChecksum: false) else { throw .invalidAsset(requirements.asset) }
        return EIP712Domain(name: name, version: version, chainId: UInt256(chainID), verifyingContract: asset)
    }
}

extension ExactEVMClient: AuthorizationDescribing {
    /// The EIP-3009 authorization in a payload this client signed (`from`, `nonce`, `validBefore`).
    public func signedAuthorization(in payload: SchemePayload) -> SignedAuthorization? {
        guard let parsed = try? ExactEVMPayload(json: payload.payload), let before = parsed.authorization.validBefore.asUInt64,
            before <= UInt64(Int64.max)
        else { return nil }
        return SignedAuthorization(
            authorizer: parsed.authorization.from.checksummed, nonce: Hex.encode(parsed.authorization.nonce.bytes),
            validBefore: Date(timeIntervalSince1970: TimeInterval(before)))
    }
}

/// Why the `exact` EVM client could not create a payment.
public enum ExactEVMClientError: Error, Sendable, Hashable, CustomStringConvertible {
    /// `extra.name` / `extra.version` (the token's EIP-712 domain) are missing.
    case missingEIP712Domain
    /// The network is not an `eip155` chain with a numeric id.
    case unsupportedNetwork(String)
    case invalidPayTo(String)
    case invalidAsset(String)
    /// The amount is not a decimal unsigned 256-bit integer.
    case invalidAmount(String)
    /// `extra.assetTransferMethod` names a method this client does not implement (e.g. `permit2`).
    case unsupportedTransferMethod(String)
    /// The signer failed; carries the error's type name only (signer errors may hold secrets).
    case signingFailed(String)
    /// The server asks for a longer validity window than the owner allows (strict mode only).
    case validityWindowTooLong(requested: UInt64, cap: UInt64)

    public var description: String {
        switch self {
        case .missingEIP712Domain: "requirements.extra lacks the token's EIP-712 domain (name and version)"
        case .unsupportedNetwork(let n): "network \(n) is not an EVM chain with a numeric chain id"
        case .invalidPayTo(let a): "payTo \(a) is not an Ethereum address"
        case .invalidAsset(let a): "asset \(a) is not an Ethereum address"
        case .invalidAmount(let a): "amount \(a) is not a decimal unsigned 256-bit integer"
        case .unsupportedTransferMethod(let m): "asset transfer method \(m) is not supported by this client"
        case .signingFailed(let t): "the signer failed (\(t))"
        case .validityWindowTooLong(let requested, let cap):
            "the server asks for a \(requested) s validity window; at most \(cap) s is signed"
        }
    }
}
