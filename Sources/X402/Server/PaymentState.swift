public import Foundation

/// Identifies one payment across requests and server instances, so the same signed payment can
/// be recognised when it is presented again.
///
/// For payloads carrying an `authorization` with `from` and `nonce` (EIP-3009, Permit2-style) the
/// identity is scheme, network, payer and nonce; otherwise it is a hash of the whole payload
/// (object keys sorted). ``key`` is a 64-character hex SHA-256, safe to use as a database key.
public struct PaymentIdentity: Sendable, Hashable, CustomStringConvertible {
    public let key: String

    public init(key: String) { self.key = key }

    /// The identity of a payment payload.
    public init(_ payment: AnyPaymentPayload) {
        let payload = payment.payload
        var material = "\(payment.scheme)|\(payment.network?.identifier ?? payment.networkIdentifier)|"
        if let auth = (payload["authorization"] ?? payload["permit2Authorization"])?.objectValue,
            let from = auth["from"]?.stringValue, let nonce = (auth["nonce"] ?? auth["witness"]?["nonce"])?.stringValue
        {
            material += "authorization|\(from.lowercased())|\(nonce.lowercased())"
        } else {
            material += "payload|" + JSONValue.object(payload).sortedKeys.serializedString()
        }
        key = SHA256.hex(Array(material.utf8))
    }

    public var description: String { key }
}

extension JSONValue {
    /// The value with every object's members sorted by key.
    var sortedKeys: JSONValue {
        switch self {
        case .object(let o):
            return .object(JSONObject(o.members.sorted { $0.key < $1.key }.map { ($0.key, $0.value.sortedKeys) }))
        case .array(let a): return .array(a.map(\.sortedKeys))
        default: return self
        }
    }
}

/// Where a payment is in its lifecycle on the resource server.
public enum PaymentPhase: String, Sendable, Hashable, Codable {
    /// Claimed by a request; not yet verified.
    case presented
    /// The facilitator accepted it; the handler may be running.
    case verified
    /// Settled on chain: final. Every later presentation is a replay.
    case settled
    /// Verification or settlement failed. Nothing was released, so the payment may be presented
    /// again (the facilitator then decides, e.g. against the on-chain nonce).
    case failed
    /// A settlement was started under the record's settlement id and its outcome is not known yet
    /// (the facilitator answered `settlement_pending`, or its answer was lost). Nothing was
    /// released. When the client presents the same payment again, the server asks the
    /// facilitator again with the same settlement id, without verifying (the nonce may be used by
    /// now), and releases the content once the settlement is confirmed.
    case pending
}

/// One stored payment.
public struct PaymentRecord: Sendable, Hashable {
    public var identity: PaymentIdentity
    public var phase: PaymentPhase
    public var payer: String?
    /// Settlement transaction, once settled (or known while pending).
    public var transaction: String?
    /// When this claim was last taken or changed.
    public var updatedAt: Date
    /// The settlement id sent to the facilitator for this payment (see ``SettlementIdempotency``),
    /// kept while the settlement is ``PaymentPhase/pending`` so that a retry is recognised as the owner.
    public var settlementID: String?

    public init(
        identity: PaymentIdentity, phase: PaymentPhase, payer: String? = nil, transaction: String? = nil, updatedAt: Date,
        settlementID: String? = nil
    ) {
        self.identity = identity
        self.phase = phase
        self.payer = payer
        self.transaction = transaction
        self.updatedAt = updatedAt
        self.settlementID = settlementID
    }
}

/// The answer to a claim.
public enum PaymentClaim: Sendable, Hashable {
    /// This request now owns the payment.
    case claimed
    /// This request now owns a ``PaymentPhase/pending`` payment: settle it again with the record's
    /// settlement id, without verifying.
    case resumed(PaymentRecord)
    /// Another request owns it (in flight) or it was already settled.
    case rejected(PaymentRecord)
}

/// The payment state store could not be used.
public enum PaymentStateStoreError: Error, Sendable, Hashable, CustomStringConvertible {
    case unavailable(String)

    public var description: String {
        switch self {
        case .unavailable(let m): "payment state store unavailable: \(m)"
        }
    }
}

/// Shared record of payments presented to the resource server (one per payment identity),
/// used to reject a replay before the handler runs — on this instance or any other sharing the
/// store.
///
/// Lifecycle: ``claim(_:lease:now:)`` atomically creates a `presented` record, or takes over a
/// `failed` one or an in-flight one whose lease has expired (its owner died). The owner moves it
/// to `verified`, then (``beginSettlement(_:settlementID:now:)``) `pending` while the facilitator
/// settles, then `settled` or `failed`, or ``release(_:)``s it when the payment was not used
/// (facilitator unreachable at verify, handler answered ≥ 400). A `settled` record is final. A
/// `pending` record whose settlement outcome is unknown is claimed again as
/// ``PaymentClaim/resumed(_:)``, keeping its settlement id and transaction.
///
/// Why failures are re-claimable rather than final: a failed settlement released nothing to the
/// client, and its money either did not move or the facilitator will reconcile it; letting the
/// client present the same payment again lets it recover from a transient fault, while the
/// facilitator's own nonce check prevents a second transfer. Content is released at most once
/// per payment because only a `settled` record — written before the content is released — is final.
public protocol PaymentStateStore: Sendable {
    /// Atomically claims `identity` for one request.
    func claim(_ identity: PaymentIdentity, lease: Duration, now: Date) async throws(PaymentStateStoreError) -> PaymentClaim
    /// Records a new phase (and payer or transaction when known) for a claimed payment.
    func update(
        _ identity: PaymentIdentity, to phase: PaymentPhase, payer: String?, transaction: String?, now: Date) async throws(PaymentStateStoreError)
    /// Drops the record of a payment that was not used, so it can be presented again.
    func release(_ identity: PaymentIdentity) async throws(PaymentStateStoreError)
    /// The current record, if any.
    func record(for identity: PaymentIdentity) async throws(PaymentStateStoreError) -> PaymentRecord?
    /// Moves a claimed payment to `pending` with `settlementID` before the facilitator is asked to
    /// settle it, keeping the claim's lease (so a concurrent presentation is still refused). A
    /// later ``update(_:to:payer:transaction:now:)`` to `pending`, `settled` or `failed` ends the lease.
    func beginSettlement(_ identity: PaymentIdentity, settlementID: String, now: Date) async throws(PaymentStateStoreError)
}

extension PaymentStateStore {
    /// For stores written before pending settlements existed: the id is not kept, so a retry of a
    /// pending settlement is answered by the facilitator as a duplicate (a failure, never a second delivery).
    public func beginSettlement(_ identity: PaymentIdentity, settlementID: String, now: Date) async throws(PaymentStateStoreError) {}
}

/// A ``PaymentStateStore`` in this process's memory: enough for one instance; use a shared
/// database store for several.
public actor InMemoryPaymentStateStore: PaymentStateStore {
    private var records: [PaymentIdentity: PaymentRecord] = [:]
    private var leases: [PaymentIdentity: Date] = [:]
    /// Payment identifiers (storage key) and the payment each is bound to (see ``PaymentIdentifierStore``).
    var paymentIDs: [String: (identity: String, at: Date)] = [:]
    /// How long settled and failed records are kept.
    public let retention: Duration
    private var lastPrune = Date.distantPast

    public init(retention: Duration = .seconds(24 * 3600)) {
        self.retention = retention
    }

    public func claim(_ identity: PaymentIdentity, lease: Duration, now: Date) -> PaymentClaim {
        prune(now: now)
        if let existing = records[identity] {
            switch existing.phase {
            case .settled:
                return .rejected(existing)
            case .presented, .verified:
                if let expiry = leases[identity], expiry > now { return .rejected(existing) }
            case .pending:
                if let expiry = leases[identity], expiry > now { return .rejected(existing) }
                var resumed = existing
                resumed.updatedAt = now
                records[identity] = resumed
                leases[identity] = now.addingTimeInterval(lease.timeInterval)
                return .resumed(resumed)
            case .failed:
                break
            }
        }
        records[identity] = PaymentRecord(identity: identity, phase: .presented, updatedAt: now)
        leases[identity] = now.addingTimeInterval(lease.timeInterval)
        return .claimed
    }

    public func update(_ identity: PaymentIdentity, to phase: PaymentPhase, payer: String?, transaction: String?, now: Date) {
        var record = records[identity] ?? PaymentRecord(identity: identity, phase: phase, updatedAt: now)
        record.phase = phase
        record.payer = payer ?? record.payer
        record.transaction = transaction ?? record.transaction
        record.updatedAt = now
        if phase != .pending { record.settlementID = nil }
        records[identity] = record
        if phase == .settled || phase == .failed || phase == .pending { leases[identity] = nil }
    }

    public func beginSettlement(_ identity: PaymentIdentity, settlementID: String, now: Date) {
        var record = records[identity] ?? PaymentRecord(identity: identity, phase: .pending, updatedAt: now)
        record.phase = .pending
        record.settlementID = settlementID
        record.updatedAt = now
        records[identity] = record
    }

    public func release(_ identity: PaymentIdentity) {
        records[identity] = nil
        leases[identity] = nil
    }

    public func record(for identity: PaymentIdentity) -> PaymentRecord? { records[identity] }

    private func prune(now: Date) {
        guard now.timeIntervalSince(lastPrune) > 60 else { return }
        lastPrune = now
        let cutoff = now.addingTimeInterval(-retention.timeInterval)
        records = records.filter { _, r in
            (r.phase != .settled && r.phase != .failed) || r.updatedAt > cutoff
        }
        paymentIDs = paymentIDs.filter { $0.value.at > cutoff }
    }
}

extension Duration {
    var timeInterval: TimeInterval {
        let (s, atto) = components
        return TimeInterval(s) + TimeInterval(atto) / 1e18
    }
}

/// SHA-256 (FIPS 180-4), for payment identities.
enum SHA256 {
    private static let k: [UInt32] = [
        0x428a_2f98, 0x7137_4491, 0xb5c0_fbcf, 0xe9b5_dba5, 0x3956_c25b, 0x59f1_11f1, 0x923f_82a4, 0xab1c_5ed5,
        0xd807_aa98, 0x1283_5b01, 0x2431_85be, 0x550c_7dc3, 0x72be_5d74, 0x80de_b1fe, 0x9bdc_06a7, 0xc19b_f174,
        0xe49b_69c1, 0xefbe_4786, 0x0fc1_9dc6, 0x240c_a1cc, 0x2de9_2c6f, 0x4a74_84aa, 0x5cb0_a9dc, 0x76f9_88da,
        0x983e_5152, 0xa831_c66d, 0xb003_27c8, 0xbf59_7fc7, 0xc6e0_0bf3, 0xd5a7_9147, 0x06ca_6351, 0x1429_2967,
        0x27b7_0a85, 0x2e1b_2138, 0x4d2c_6dfc, 0x5338_0d13, 0x650a_7354, 0x766a_0abb, 0x81c2_c92e, 0x9272_2c85,
        0xa2bf_e8a1, 0xa81a_664b, 0xc24b_8b70, 0xc76c_51a3, 0xd192_e819, 0xd699_0624, 0xf40e_3585, 0x106a_a070,
        0x19a4_c116, 0x1e37_6c08, 0x2748_774c, 0x34b0_bcb5, 0x391c_0cb3, 0x4ed8_aa4a, 0x5b9c_ca4f, 0x682e_6ff3,
        0x748f_82ee, 0x78a5_636f, 0x84c8_7814, 0x8cc7_0208, 0x90be_fffa, 0xa450_6ceb, 0xbef9_a3f7, 0xc671_78f2,
    ]

    static func hash(_ message: [UInt8]) -> [UInt8] {
        var h: [UInt32] = [0x6a09_e667, 0xbb67_ae85, 0x3c6e_f372, 0xa54f_f53a, 0x510e_527f, 0x9b05_688c, 0x1f83_d9ab, 0x5be0_cd19]
        var data = message
        let bitLength = UInt64(message.count) * 8
        data.append(0x80)
        while data.count % 64 != 56 { data.append(0) }
        for i in (0..<8).reversed() { data.append(UInt8(truncatingIfNeeded: bitLength >> (UInt64(i) * 8))) }
        var w = [UInt32](repeating: 0, count: 64)
        for chunk in stride(from: 0, to: data.count, by: 64) {
            for i in 0..<16 {
                let j = chunk + i * 4
                w[i] = UInt32(data[j]) << 24 | UInt32(data[j + 1]) << 16 | UInt32(data[j + 2]) << 8 | UInt32(data[j + 3])
            }
            for i in 16..<64 {
                let s0 = w[i - 15].rotatedRight(7) ^ w[i - 15].rotatedRight(18) ^ (w[i - 15] >> 3)
                let s1 = w[i - 2].rotatedRight(17) ^ w[i - 2].rotatedRight(19) ^ (w[i - 2] >> 10)
                w[i] = w[i - 16] &+ s0 &+ w[i - 7] &+ s1
            }
            var (a, b, c, d, e, f, g, hh) = (h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7])
            for i in 0..<64 {
                let s1 = e.rotatedRight(6) ^ e.rotatedRight(11) ^ e.rotatedRight(25)
                let ch = (e & f) ^ (~e & g)
                let t1 = hh &+ s1 &+ ch &+ k[i] &+ w[i]
                let s0 = a.rotatedRight(2) ^ a.rotatedRight(13) ^ a.rotatedRight(22)
                let maj = (a & b) ^ (a & c) ^ (b & c)
                let t2 = s0 &+ maj
                (hh, g, f, e, d, c, b, a) = (g, f, e, d &+ t1, c, b, a, t1 &+ t2)
            }
            h[0] &+= a
            h[1] &+= b
            h[2] &+= c
            h[3] &+= d
            h[4] &+= e
            h[5] &+= f
            h[6] &+= g
            h[7] &+= hh
        }
        return h.flatMap { v in (0..<4).map { UInt8(truncatingIfNeeded: v >> (24 - $0 * 8)) } }
    }

    static func hex(_ message: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for b in hash(message) {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 15)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

extension UInt32 {
    fileprivate func rotatedRight(_ n: UInt32) -> UInt32 { (self >> n) | (self << (32 - n)) }
}
