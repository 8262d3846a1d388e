import Foundation
import NIOConcurrencyHelpers

/// A token-bucket rate: `burst` requests at once, refilled at `perSecond`.
public struct RateLimit: Sendable, Hashable, Codable {
    /// The bucket's size: how many requests may arrive at once.
    public var burst: Int
    /// Requests added back per second.
    public var perSecond: Double

    public init(burst: Int, perSecond: Double) {
        self.burst = burst
        self.perSecond = perSecond
    }

    /// Whether this rate limits anything (a zero burst turns the limit off).
    public var isEnabled: Bool { burst > 0 }
}

/// Token buckets keyed by a string (a client address, a payer), with a bounded table: when it is
/// full, buckets that have refilled completely are dropped first, then the oldest ones, so a
/// flood of distinct keys costs bounded memory.
final class RateLimiter: Sendable {
    private struct Bucket {
        var tokens: Double
        var updated: ContinuousClock.Instant
    }

    let limit: RateLimit
    private let maximumKeys: Int
    private let table = NIOLockedValueBox([String: Bucket]())

    init(limit: RateLimit, maximumKeys: Int = 10_000) {
        self.limit = limit
        self.maximumKeys = max(1, maximumKeys)
    }

    /// What a bucket operation does with the token it finds.
    private enum Use {
        /// Take one token if there is one (``allow(_:now:)``).
        case take
        /// Only look (``hasToken(_:now:)``).
        case look
        /// Take one token, into debt down to minus the burst (``charge(_:now:)``).
        case charge
    }

    /// Takes one token for `key`; `false` when its bucket is empty.
    func allow(_ key: String, now: ContinuousClock.Instant = .now) -> Bool { use(key, .take, now: now) }

    /// Whether `key`'s bucket has a token, without taking it: for a limit charged only once the
    /// request has proved it is on the key's behalf (``charge(_:now:)``).
    func hasToken(_ key: String, now: ContinuousClock.Instant = .now) -> Bool { use(key, .look, now: now) }

    /// Takes one token for `key` after the fact. Requests admitted together by
    /// ``hasToken(_:now:)`` may take more than the bucket held; the bucket then goes into debt
    /// (at most the burst), which the refill pays back before the key is admitted again.
    func charge(_ key: String, now: ContinuousClock.Instant = .now) { _ = use(key, .charge, now: now) }

    private func use(_ key: String, _ use: Use, now: ContinuousClock.Instant) -> Bool {
        guard limit.isEnabled else { return true }
        let burst = Double(limit.burst)
        let rate = limit.perSecond.isFinite ? max(0, limit.perSecond) : 0
        let maximumKeys = maximumKeys
        return table.withLockedValue { buckets in
            // A key never charged has a full bucket; looking at it stores nothing (requests naming
            // made-up payers cost no table entries).
            if case .look = use, buckets[key] == nil { return true }
            var bucket = buckets[key] ?? Bucket(tokens: burst, updated: now)
            let elapsed = now - bucket.updated
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            if seconds > 0 { bucket.tokens = min(burst, bucket.tokens + seconds * rate) }
            bucket.updated = now
            let allowed = bucket.tokens >= 1
            switch use {
            case .take: if allowed { bucket.tokens -= 1 }
            case .look: break
            case .charge: bucket.tokens = max(-burst, bucket.tokens - 1)
            }
            if buckets[key] == nil, buckets.count >= maximumKeys {
                Self.evict(&buckets, now: now, rate: rate, burst: burst, maximumKeys: maximumKeys)
            }
            buckets[key] = bucket
            return allowed
        }
    }

    /// Frees room: drops every bucket that has refilled by now; if none has, drops half the table.
    private static func evict(
        _ buckets: inout [String: Bucket], now: ContinuousClock.Instant, rate: Double, burst: Double, maximumKeys: Int
    ) {
        let before = buckets.count
        buckets = buckets.filter { _, bucket in
            let elapsed = now - bucket.updated
            let seconds = Double(elapsed.components.seconds)
            return bucket.tokens + seconds * rate < burst
        }
        if buckets.count >= before, buckets.count >= maximumKeys {
            let oldest = buckets.sorted { $0.value.updated < $1.value.updated }.prefix(buckets.count / 2).map(\.key)
            for key in oldest { buckets.removeValue(forKey: key) }
        }
    }

    /// How many keys are tracked (for tests).
    var trackedKeys: Int { table.withLockedValue { $0.count } }
}
