package import Foundation

// Helpers shared by the database stores of this package (X402SQLite, X402Postgres); not API.

extension Duration {
    /// The duration in seconds, with its fraction (as stored in the databases' time columns).
    package var seconds: TimeInterval {
        let (s, atto) = components
        return TimeInterval(s) + TimeInterval(atto) / 1e18
    }
}

/// When a store instance last pruned its old rows, so pruning runs at most once per interval.
package actor PruneClock {
    private var last = Date.distantPast

    package init() {}

    /// Whether a prune is due at `now`; when it is, `now` becomes the last prune.
    /// - Parameters:
    ///   - now: The caller's clock.
    ///   - interval: The least time between two prunes, in seconds (default 60).
    /// - Returns: `true` at most once per `interval`.
    package func isDue(now: Date, every interval: TimeInterval = 60) -> Bool {
        guard now.timeIntervalSince(last) > interval else { return false }
        last = now
        return true
    }
}
