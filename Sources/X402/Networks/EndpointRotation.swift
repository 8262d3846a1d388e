public import Foundation

/// The standing of one node among several of the same chain (see ``EndpointRotation``).
public enum EndpointHealth: Sendable, Hashable {
    /// Not yet checked (or back from being out): its identity is checked before it is used.
    case unchecked
    /// In service.
    case inService
    /// Out of service until the instant, for the reason given (no URL in it).
    case outOfService(until: ContinuousClock.Instant, reason: String)
}

/// Several nodes of one chain, tried in order: a request goes to the first node in service, a
/// node that fails is taken out of service for a while and tried again later. The transport-free
/// core of the EVM and Solana failover clients; each says what a fault is and how a node proves it
/// serves the expected chain.
///
/// * A node is used only after its admission check passed (before its first use and whenever it
///   comes back from being out). A node that fails the check — another chain, no answer — is out.
/// * A fault (timeout, unreachable, unusable answer) takes the node out and the request goes to
///   the next one. An answer of the node (a JSON-RPC error) is returned as it is.
/// * When every node is out, each is tried again in the order they come back: a request never
///   fails only because all nodes failed recently.
public final class EndpointRotation: @unchecked Sendable {
    /// How long a failed node stays out before it is checked again.
    public let outOfServiceFor: Duration
    private let lock = NSLock()
    private var health: [EndpointHealth]

    /// Standings for `count` nodes (at least one), all unchecked.
    public init(count: Int, outOfServiceFor: Duration) {
        precondition(count > 0, "a rotation needs at least one node")
        self.outOfServiceFor = outOfServiceFor
        self.health = Array(repeating: .unchecked, count: count)
    }

    /// Each node's standing, in configuration order.
    public var standings: [EndpointHealth] { lock.withLock { health } }

    /// The order to try nodes in at `now`: the ready ones in configuration order, then the
    /// out-of-service ones by the time they come back.
    public func order(now: ContinuousClock.Instant = .now) -> [Int] {
        let standings = self.standings
        var ready: [Int] = []
        var out: [(Int, ContinuousClock.Instant)] = []
        for (index, standing) in standings.enumerated() {
            switch standing {
            case .unchecked, .inService: ready.append(index)
            case .outOfService(let until, _):
                if until <= now { ready.append(index) } else { out.append((index, until)) }
            }
        }
        return ready + out.sorted { $0.1 < $1.1 }.map(\.0)
    }

    /// Takes node `index` out of service for ``outOfServiceFor``.
    public func takeOut(_ index: Int, reason: String) {
        let until = ContinuousClock.now + outOfServiceFor
        lock.withLock { health[index] = .outOfService(until: until, reason: reason) }
    }

    /// Whether node `index` may serve: in service already, or its `check` passes now (`nil`);
    /// a failed check (the reason) takes it out.
    public func admit(_ index: Int, check: () async -> String?) async -> Bool {
        if lock.withLock({ health[index] }) == .inService { return true }
        if let reason = await check() {
            takeOut(index, reason: reason)
            return false
        }
        lock.withLock { health[index] = .inService }
        return true
    }

    /// Runs `body` on the nodes in ``order(now:)`` until one answers: a node that fails
    /// admission is skipped, an error `isFault` calls a fault takes the node out and moves on,
    /// any other error is the node's answer and is thrown.
    ///
    /// - Parameters:
    ///   - check: the admission check of a node (`nil` when it serves the expected chain).
    ///   - isFault: whether an error is the node's fault rather than its answer.
    ///   - unavailable: the error when no node could answer, given the index of a node that failed admission.
    ///   - body: the request on one node.
    public func route<T, Failure: Error>(
        check: (Int) async -> String?, isFault: (Failure) -> Bool, unavailable: (Int?) -> Failure,
        _ body: (Int) async throws(Failure) -> T
    ) async throws(Failure) -> T {
        var lastError: Failure = unavailable(nil)
        for index in order() {
            guard await admit(index, check: { await check(index) }) else {
                lastError = unavailable(index)
                continue
            }
            do {
                return try await body(index)
            } catch {
                guard isFault(error) else { throw error }
                takeOut(index, reason: "\(error)")
                lastError = error
            }
        }
        throw lastError
    }
}
