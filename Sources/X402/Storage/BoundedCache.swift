import Foundation

/// A small thread-safe cache of values that go stale at a deadline, emptied whole when it holds
/// `capacity` entries: its keys may come from requests (a URL with a query the client chose), so
/// it never grows past the bound, and a flood can only make callers rebuild what they would have
/// built anyway.
final class BoundedCache<Key: Hashable, Value, Deadline: Comparable>: @unchecked Sendable {
    let capacity: Int
    private let lock = NSLock()
    private var entries: [Key: (value: Value, until: Deadline)] = [:]

    /// An empty cache of at most `capacity` entries.
    init(capacity: Int) { self.capacity = capacity }

    /// The number of entries.
    var count: Int { lock.withLock { entries.count } }

    /// The value stored for `key`, if it is fresh at `now` (before its deadline).
    func value(for key: Key, now: Deadline) -> Value? {
        lock.withLock {
            guard let entry = entries[key], now < entry.until else { return nil }
            return entry.value
        }
    }

    /// Stores `value` for `key` until `until`.
    func store(_ value: Value, for key: Key, until: Deadline) {
        lock.withLock {
            if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            entries[key] = (value, until)
        }
    }
}
