public import Foundation

/// The signed authorization behind a payment attempt, as reconciliation needs it: who signed,
/// its nonce, and until when it can be settled. Network and asset are the record's.
public struct SignedAuthorization: Sendable, Hashable, Codable {
    /// The authorizer (for EIP-3009: `authorization.from`).
    public var authorizer: String
    /// The authorization's nonce (for EIP-3009: 32 bytes, `0x` hex).
    public var nonce: String
    /// The end of the validity window: the authorization cannot be used at or after it.
    public var validBefore: Date

    public init(authorizer: String, nonce: String, validBefore: Date) {
        self.authorizer = authorizer
        self.nonce = nonce
        self.validBefore = validBefore
    }
}

/// A scheme client that can say which authorization a payload it signed carries.
///
/// The ``Payer`` stores the answer in the spend ledger so that an attempt the server did not
/// confirm can later be reconciled on chain instead of being forgotten.
public protocol AuthorizationDescribing: Sendable {
    /// The authorization `payload` carries, or `nil` when it cannot be read.
    func signedAuthorization(in payload: SchemePayload) -> SignedAuthorization?
}

/// What the chain says about one authorization.
public enum AuthorizationUse: Sendable, Hashable {
    /// The nonce was consumed (transferred or cancelled).
    case used
    /// The nonce is unused.
    case unused
}

/// Reads whether an authorization has been used on chain (for EIP-3009 tokens:
/// `authorizationState(authorizer, nonce)`).
public protocol AuthorizationStateReader: Sendable {
    /// - Parameters:
    ///   - network: the record's CAIP-2 network.
    ///   - asset: the token contract.
    ///   - authorization: the signed authorization whose state is read.
    /// - Throws: when the state cannot be read (unknown network, node unreachable, not an
    ///   EIP-3009 token); reconciliation then leaves the record counted.
    func authorizationUse(network: String, asset: String, authorization: SignedAuthorization) async throws -> AuthorizationUse
}

/// What one reconciliation pass did.
public struct ReconciliationSummary: Sendable, Hashable {
    /// Attempts released from the budget: expired and unused on chain.
    public var released: [UUID] = []
    /// Attempts found used on chain: now counted as settled.
    public var usedOnChain: [UUID] = []
    /// Attempts that could not be read; they keep counting.
    public var unreadable: [UUID] = []
    /// The first read error, for a diagnostic.
    public var firstError: String?

    public init() {}
}

/// Settles the fate of signed payments the server did not confirm.
///
/// An attempt stays counted against the budget while its signature could still move funds. Once
/// its `validBefore` has passed (plus ``grace``, for clock skew between this machine and the
/// chain), the reader is asked whether the authorization was used: unused releases the
/// attempt (status `failed`), used marks it settled. An unreadable state changes nothing.
public struct SpendReconciler: Sendable {
    public var ledger: any SpendLedger
    public var reader: any AuthorizationStateReader
    /// Added to `validBefore` before an attempt is read (default 120 s).
    public var grace: Duration
    /// At most this many attempts are read per pass (default 50).
    public var batchLimit: Int

    public init(ledger: any SpendLedger, reader: any AuthorizationStateReader, grace: Duration = .seconds(120), batchLimit: Int = 50) {
        self.ledger = ledger
        self.reader = reader
        self.grace = grace
        self.batchLimit = batchLimit
    }

    /// One pass over the expired open attempts at `now`.
    public func reconcile(now: Date) async throws -> ReconciliationSummary {
        let graceSeconds = TimeInterval(grace.components.seconds) + TimeInterval(grace.components.attoseconds) / 1e18
        let candidates = try await ledger.expiredOpenAttempts(expiredBy: now.addingTimeInterval(-graceSeconds), limit: batchLimit)
        var summary = ReconciliationSummary()
        // After one failed read on a network, its other records wait for the next pass (an
        // unreachable node is not asked once per record).
        var unreachable: Set<String> = []
        for record in candidates {
            guard let authorization = record.authorization else { continue }
            if unreachable.contains(record.network) {
                summary.unreadable.append(record.id)
                continue
            }
            do {
                switch try await reader.authorizationUse(network: record.network, asset: record.asset, authorization: authorization) {
                case .unused:
                    try await ledger.markFailed(record.id, reason: Self.releasedReason(previous: record.failureReason), at: now)
                    summary.released.append(record.id)
                case .used:
                    try await ledger.markUsedOnChain(record.id, at: now)
                    summary.usedOnChain.append(record.id)
                }
            } catch {
                unreachable.insert(record.network)
                summary.unreadable.append(record.id)
                if summary.firstError == nil { summary.firstError = String(describing: error) }
            }
        }
        return summary
    }

    static func releasedReason(previous: String?) -> String {
        let base = "authorization expired unused on chain"
        guard let previous, !previous.isEmpty else { return base }
        return "\(previous); \(base)"
    }
}
